/* upload.c — one edXML envelope POSTed over HTTPS with libcurl (upload.h). */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "edxml.h"
#include "log.h"
#include "version.h"

#define BODY_MAX (1024 * 1024) /* response bytes kept; the rest is read and dropped */
#define TOKEN_MAX 4096
#define KEY_MAX 1024     /* Idempotency-Key: a DocumentId is far shorter */
#define REASON_CHARS 200 /* characters of a server's reason kept in a message */

/* ---------- options ---------- */

static const char *cfg_name(const config *cfg)
{
    return cfg->path ? cfg->path : "configuration";
}

/* 1 when `s` holds a byte that must not reach an HTTP header or a URL
 * (control characters, so no header can be smuggled in). */
static int has_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* [upload] key as a malloc'd path, relative to the configuration file's
 * directory (as firmware/signing.c does); *out = NULL when unset. */
static int path_value(const config *cfg, const char *key, char **out, sohoa_err *err)
{
    const char *v = config_get(cfg, "upload", key, NULL);
    *out = NULL;
    if (!v || !*v)
        return 0;
    if (v[0] == '/' || !cfg->path) {
        *out = strdup(v);
    } else {
        char *dir_copy = strdup(cfg->path);
        if (dir_copy && asprintf(out, "%s/%s", dirname(dir_copy), v) < 0)
            *out = NULL;
        free(dir_copy);
    }
    return *out ? 0 : err_set(err, SOHOA_EWORK, "out of memory");
}

/* Opens a file named by [upload] `key`; with `secret`, refuses it unless
 * only its owner can read it. Returns the descriptor, or -1 with err set. */
static int open_checked(const config *cfg, const char *key, const char *path, int secret,
                        struct stat *st, sohoa_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_errno(err, SOHOA_EINPUT, errno, "%s: [upload] %s = %s: cannot open",
                         cfg_name(cfg), key, path);
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return err_errno(err, SOHOA_EINPUT, e, "%s: [upload] %s = %s", cfg_name(cfg), key, path);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return err_set(err, SOHOA_EINPUT, "%s: [upload] %s = %s: not a regular file", cfg_name(cfg),
                       key, path);
    }
    /* A readable client key lets anyone on the station pose as it to the
     * central system; so does a readable bearer token. */
    if (secret && (st->st_mode & 077)) {
        close(fd);
        return err_set(err, SOHOA_EINPUT,
                       "%s: [upload] %s = %s: mode %04o lets group or others in; run chmod 600 %s",
                       cfg_name(cfg), key, path, (unsigned)(st->st_mode & 07777), path);
    }
    return fd;
}

static int check_file(const config *cfg, const char *key, const char *path, int secret,
                      sohoa_err *err)
{
    struct stat st;
    int fd = open_checked(cfg, key, path, secret, &st, err);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* The bearer token: one line of visible ASCII (it goes into a header). */
static int read_token(const config *cfg, const char *path, char **token, sohoa_err *err)
{
    struct stat st;
    int fd = open_checked(cfg, "auth_token_file", path, 1, &st, err);
    if (fd < 0)
        return -1;
    char buf[TOKEN_MAX + 2];
    size_t len = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_errno(err, SOHOA_EINPUT, errno,
                           "%s: [upload] auth_token_file = %s: cannot read", cfg_name(cfg), path);
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof buf - 1) {
            rc = err_set(err, SOHOA_EINPUT,
                         "%s: [upload] auth_token_file = %s: longer than %d bytes; it must hold "
                         "only the token",
                         cfg_name(cfg), path, TOKEN_MAX);
            break;
        }
    }
    close(fd);
    while (rc == 0 && len > 0 &&
           (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
            buf[len - 1] == '\t'))
        len--;
    if (rc == 0 && len == 0)
        rc = err_set(err, SOHOA_EINPUT, "%s: [upload] auth_token_file = %s: empty", cfg_name(cfg),
                     path);
    for (size_t i = 0; rc == 0 && i < len; i++)
        if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f)
            rc = err_set(err, SOHOA_EINPUT,
                         "%s: [upload] auth_token_file = %s: the token must be one word of "
                         "printable ASCII",
                         cfg_name(cfg), path);
    if (rc == 0) {
        *token = malloc(len + 1);
        if (*token) {
            memcpy(*token, buf, len);
            (*token)[len] = '\0';
        } else {
            rc = err_set(err, SOHOA_EWORK, "out of memory");
        }
    }
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* https:// anywhere; http:// only to this machine, where nothing travels
 * on a wire (the tests' receiver). Sets *https. */
static int check_url(const config *cfg, const char *url, int *https, sohoa_err *err)
{
    CURLU *h = curl_url();
    if (!h)
        return err_set(err, SOHOA_EWORK, "out of memory");
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK || has_ctl(url)) {
        rc =
            err_set(err, SOHOA_EINPUT, "%s: [upload] url = %s: not a valid URL (%s)", cfg_name(cfg),
                    url, uc != CURLUE_OK ? curl_url_strerror(uc) : "control character");
    } else if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = err_set(err, SOHOA_EINPUT, "%s: [upload] url = %s: no scheme or host", cfg_name(cfg),
                     url);
    } else if (strcasecmp(scheme, "https") == 0) {
        *https = 1;
    } else if (strcasecmp(scheme, "http") == 0) {
        *https = 0;
        if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "[::1]") != 0 &&
            strcasecmp(host, "localhost") != 0)
            rc = err_set(err, SOHOA_EINPUT,
                         "%s: [upload] url = %s: http:// would send documents unencrypted; use "
                         "https:// (http:// is only for 127.0.0.1, ::1 and localhost)",
                         cfg_name(cfg), url);
    } else {
        rc = err_set(err, SOHOA_EINPUT, "%s: [upload] url = %s: scheme %s; expected https://",
                     cfg_name(cfg), url, scheme);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(h);
    return rc;
}

int upload_options_load(const config *cfg, upload_options *o, sohoa_err *err)
{
    memset(o, 0, sizeof *o);
    const char *url = config_get(cfg, "upload", "url", NULL);
    const char *ctype = config_get(cfg, "upload", "content_type", NULL);
    const char *proxy = config_get(cfg, "upload", "proxy", NULL);
    char *token_file = NULL;
    int https = 1;
    if (!url || !*url) {
        err_set(err, SOHOA_EINPUT,
                "%s: [upload] url is not set; give the central system's endpoint (https://...)",
                cfg_name(cfg));
        goto fail;
    }
    if (check_url(cfg, url, &https, err) != 0)
        goto fail;
    if (!ctype || !*ctype)
        ctype = "application/xml";
    if (has_ctl(ctype)) {
        err_set(err, SOHOA_EINPUT, "%s: [upload] content_type: control character in the value",
                cfg_name(cfg));
        goto fail;
    }
    if (proxy && has_ctl(proxy)) {
        err_set(err, SOHOA_EINPUT, "%s: [upload] proxy: control character in the value",
                cfg_name(cfg));
        goto fail;
    }
    o->url = strdup(url);
    o->content_type = strdup(ctype);
    o->proxy = proxy && *proxy ? strdup(proxy) : NULL;
    if (!o->url || !o->content_type || (proxy && *proxy && !o->proxy)) {
        err_set(err, SOHOA_EWORK, "out of memory");
        goto fail;
    }
    if (path_value(cfg, "ca_file", &o->ca_file, err) != 0 ||
        path_value(cfg, "client_cert", &o->client_cert, err) != 0 ||
        path_value(cfg, "client_key", &o->client_key, err) != 0 ||
        path_value(cfg, "auth_token_file", &token_file, err) != 0)
        goto fail;
    if (!o->ca_file && https) {
        err_set(err, SOHOA_EINPUT,
                "%s: [upload] ca_file is not set; give the PEM file of the trust anchors that "
                "verify the central system's certificate",
                cfg_name(cfg));
        goto fail;
    }
    if (o->ca_file && check_file(cfg, "ca_file", o->ca_file, 0, err) != 0)
        goto fail;
    if (!o->client_cert != !o->client_key) {
        err_set(err, SOHOA_EINPUT,
                "%s: [upload] client_cert and client_key go together: set both (client "
                "certificate) or neither",
                cfg_name(cfg));
        goto fail;
    }
    if (o->client_cert && (check_file(cfg, "client_cert", o->client_cert, 0, err) != 0 ||
                           check_file(cfg, "client_key", o->client_key, 1, err) != 0))
        goto fail;
    if (token_file && read_token(cfg, token_file, &o->auth_token, err) != 0)
        goto fail;
    if (config_get_int(cfg, "upload", "connect_timeout", 10, 1, 600, &o->connect_timeout, err) !=
            0 ||
        config_get_int(cfg, "upload", "timeout", 120, 1, 86400, &o->timeout, err) != 0)
        goto fail;
    free(token_file);
    return 0;
fail:
    free(token_file);
    upload_options_free(o);
    return -1;
}

void upload_options_free(upload_options *o)
{
    if (!o)
        return;
    if (o->auth_token) {
        explicit_bzero(o->auth_token, strlen(o->auth_token));
        free(o->auth_token);
    }
    free(o->url);
    free(o->ca_file);
    free(o->client_cert);
    free(o->client_key);
    free(o->content_type);
    free(o->proxy);
    memset(o, 0, sizeof *o);
}

/* ---------- the uploader ---------- */

struct uploader {
    CURL *h;
    upload_options o; /* our own copy: the caller may free theirs */
    char host[256];   /* for messages */
    char errbuf[CURL_ERROR_SIZE];
    /* The transfer in progress. */
    int fd;
    curl_off_t size, sent;
    int read_errno, shrank, oom;
    char *body;
    size_t body_len, body_cap;
    int replayed;
};

static char *dup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

/* Feeds the body from the file; curl asks as the socket drains, so memory
 * holds one buffer, not the document. */
static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    uploader *u = ud;
    size_t want = size * nitems;
    if (u->sent >= u->size)
        return 0;
    if ((curl_off_t)want > u->size - u->sent)
        want = (size_t)(u->size - u->sent);
    for (;;) {
        ssize_t r = read(u->fd, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            u->read_errno = errno;
            return CURL_READFUNC_ABORT;
        }
        if (r == 0) { /* shorter than the Content-Length already sent */
            u->shrank = 1;
            return CURL_READFUNC_ABORT;
        }
        u->sent += r;
        return (size_t)r;
    }
}

/* curl rewinds the body when it must send it again, e.g. when a kept-alive
 * connection turns out to have been closed by the server meanwhile. */
static int seek_cb(void *ud, curl_off_t offset, int origin)
{
    uploader *u = ud;
    if (origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    if (lseek(u->fd, (off_t)offset, SEEK_SET) < 0)
        return CURL_SEEKFUNC_FAIL;
    u->sent = offset;
    return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    uploader *u = ud;
    size_t n = size * nmemb, keep = n;
    if (u->body_len + keep > BODY_MAX)
        keep = BODY_MAX - u->body_len; /* the rest is read and dropped */
    if (keep && u->body_len + keep + 1 > u->body_cap) {
        size_t cap = u->body_cap ? u->body_cap : 16384;
        while (cap < u->body_len + keep + 1)
            cap *= 2;
        if (cap > BODY_MAX + 1)
            cap = BODY_MAX + 1;
        char *b = realloc(u->body, cap);
        if (!b) {
            u->oom = 1;
            return 0;
        }
        u->body = b;
        u->body_cap = cap;
    }
    if (keep) {
        memcpy(u->body + u->body_len, data, keep);
        u->body_len += keep;
        u->body[u->body_len] = '\0';
    }
    return n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    uploader *u = ud;
    size_t n = size * nitems;
    static const char name[] = "Idempotent-Replayed:";
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        u->replayed = 0; /* a new response (after a 100 Continue, say) */
    } else if (n > sizeof name - 1 && strncasecmp(buf, name, sizeof name - 1) == 0) {
        const char *v = buf + sizeof name - 1, *end = buf + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        u->replayed = end - v == 4 && strncasecmp(v, "true", 4) == 0;
    }
    return n;
}

uploader *uploader_new(const upload_options *o, sohoa_err *err)
{
    uploader *u = calloc(1, sizeof *u);
    if (!u) {
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    u->fd = -1;
    int failed = 0;
    u->o.url = dup_or_null(o->url, &failed);
    u->o.ca_file = dup_or_null(o->ca_file, &failed);
    u->o.client_cert = dup_or_null(o->client_cert, &failed);
    u->o.client_key = dup_or_null(o->client_key, &failed);
    u->o.content_type = dup_or_null(o->content_type ? o->content_type : "application/xml", &failed);
    u->o.proxy = dup_or_null(o->proxy, &failed);
    u->o.auth_token = dup_or_null(o->auth_token, &failed);
    u->o.connect_timeout = o->connect_timeout > 0 ? o->connect_timeout : 10;
    u->o.timeout = o->timeout > 0 ? o->timeout : 120;
    if (failed) {
        err_set(err, SOHOA_EWORK, "out of memory");
        uploader_free(u);
        return NULL;
    }
    if (!u->o.url) {
        err_set(err, SOHOA_EINPUT, "upload: no url; load the options with upload_options_load()");
        uploader_free(u);
        return NULL;
    }
    CURLU *cu = curl_url();
    char *host = NULL;
    if (cu && curl_url_set(cu, CURLUPART_URL, u->o.url, 0) == CURLUE_OK &&
        curl_url_get(cu, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        snprintf(u->host, sizeof u->host, "%s", host);
    else
        snprintf(u->host, sizeof u->host, "%s", u->o.url);
    curl_free(host);
    curl_url_cleanup(cu);

    u->h = curl_easy_init();
    if (!u->h) {
        err_set(err, SOHOA_EWORK, "upload: cannot create a libcurl handle (out of memory?)");
        uploader_free(u);
        return NULL;
    }
    CURL *h = u->h;
    CURLcode rc = CURLE_OK;
    /* Every option is checked: a libcurl that silently ignored, say, the
     * CA file would verify against something else. */
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_URL, u->o.url);
    SET(CURLOPT_PROTOCOLS_STR, "https,http");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_VERBOSE, 0L); /* the Authorization header must never reach a log */
    SET(CURLOPT_USERAGENT, "sohoa/" SOHOA_VERSION);
    SET(CURLOPT_ERRORBUFFER, u->errbuf);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (u->o.ca_file) {
        SET(CURLOPT_CAINFO, u->o.ca_file);
        /* Only ca_file: not also the distribution's CA directory. */
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    if (u->o.client_cert) {
        SET(CURLOPT_SSLCERT, u->o.client_cert);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEY, u->o.client_key);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (u->o.proxy) /* else libcurl reads https_proxy / no_proxy from the environment */
        SET(CURLOPT_PROXY, u->o.proxy);
    SET(CURLOPT_CONNECTTIMEOUT, u->o.connect_timeout);
    SET(CURLOPT_TIMEOUT, u->o.timeout);
    /* A stalled transfer (not a byte either way for `timeout` s: a hung
     * server) is given up on in its own right, so that it stays so should
     * the total limit ever be raised for large documents on slow links. */
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, u->o.timeout);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_READFUNCTION, read_cb);
    SET(CURLOPT_READDATA, u);
    SET(CURLOPT_SEEKFUNCTION, seek_cb);
    SET(CURLOPT_SEEKDATA, u);
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, u);
    SET(CURLOPT_HEADERFUNCTION, header_cb);
    SET(CURLOPT_HEADERDATA, u);
#undef SET
    if (rc != CURLE_OK) {
        err_set(err, SOHOA_EWORK, "upload: libcurl refused an option: %s", curl_easy_strerror(rc));
        uploader_free(u);
        return NULL;
    }
    return u;
}

void uploader_free(uploader *u)
{
    if (!u)
        return;
    if (u->h)
        curl_easy_cleanup(u->h);
    upload_options_free(&u->o);
    free(u->body);
    free(u);
}

void upload_result_free(upload_result *res)
{
    if (!res)
        return;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

/* Length of the valid UTF-8 sequence at p (overlongs, surrogates and
 * values past U+10FFFF are invalid), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* Appends to `out` (NUL-terminated, `cap` bytes) the text of `in` as one
 * line that is safe to print and log: valid UTF-8 only (else '?'), control
 * characters as spaces, runs of spaces as one, at most `max_chars`
 * characters. A hostile server chooses these bytes. */
static void one_line(char *out, size_t cap, const char *in, size_t len, size_t max_chars)
{
    size_t o = strlen(out), chars = 0;
    int space = o == 0 || out[o - 1] == ' '; /* no leading or doubled spaces */
    const unsigned char *p = (const unsigned char *)in, *end = p + len;
    while (p < end && chars < max_chars) {
        size_t n = utf8_len(p, end);
        const unsigned char *src = p;
        if (n == 0) {
            src = (const unsigned char *)"?";
            p++;
            n = 1;
        } else {
            int blank = (n == 1 && (*p <= 0x20 || *p == 0x7f)) ||
                        (n == 2 && p[0] == 0xc2 && p[1] < 0xa0); /* C1 controls */
            p += n;
            if (blank) {
                if (!space && o + 1 < cap) {
                    out[o++] = ' ';
                    chars++;
                }
                space = 1;
                continue;
            }
        }
        if (o + n >= cap)
            break;
        memcpy(out + o, src, n);
        o += n;
        chars++;
        space = 0;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* The server's reason: the Description of an edXML Status packet, else the
 * body's first line (markup stripped, for an HTML error page). */
static void server_reason(const char *body, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    if (!body || len == 0)
        return;
    edxml_status st;
    sohoa_err perr = {0};
    if (edxml_parse_status(body, len, &st, &perr) == 0) {
        if (st.description && *st.description) {
            one_line(out, cap, st.description, strlen(st.description), REASON_CHARS);
        } else {
            const char *text = edxml_status_text(st.code);
            snprintf(out, cap, "status %s%s%s", st.code, text ? " " : "", text ? text : "");
        }
        edxml_status_free(&st);
        return;
    }
    const char *p = body, *end = body + len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p < end && *p == '<') {
        /* Text between the tags, one line. */
        char text[REASON_CHARS * 4 + 1];
        size_t t = 0;
        int in_tag = 0;
        for (; p < end && t + 1 < sizeof text; p++) {
            if (*p == '<')
                in_tag = 1;
            else if (*p == '>')
                in_tag = 0, text[t++] = ' ';
            else if (!in_tag)
                text[t++] = *p;
        }
        one_line(out, cap, text, t, REASON_CHARS);
        return;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    one_line(out, cap, p, nl ? (size_t)(nl - p) : (size_t)(end - p), REASON_CHARS);
}

static void classify(uploader *u, long status, upload_result *res)
{
    /* Room for REASON_CHARS characters of Vietnamese (2-3 bytes each), and
     * small enough that every message below fits res->message whole. */
    char reason[440];
    server_reason(u->body, u->body_len, reason, sizeof reason);
    if (status >= 200 && status < 300) {
        res->outcome = UPLOAD_OK;
        res->replayed = u->replayed;
        if (*reason)
            snprintf(res->message, sizeof res->message, "%s", reason);
        else
            snprintf(res->message, sizeof res->message, "server answered %ld", status);
    } else if (status == 408 || status == 425 || status == 429 || status >= 500) {
        res->outcome = UPLOAD_RETRY;
        snprintf(res->message, sizeof res->message, "server answered %ld: %s", status,
                 *reason ? reason : "no reason given");
    } else if (status == 401 || status == 403 || status == 404 || status == 405) {
        /* credentials or endpoint: wrong for every document alike, so all
         * stay queued until IT staff fix [upload]; none is set aside */
        res->outcome = UPLOAD_RETRY;
        snprintf(res->message, sizeof res->message,
                 "server answered %ld: %.400s; check [upload] url and credentials", status,
                 *reason ? reason : "no reason given");
    } else if (status >= 400) {
        res->outcome = UPLOAD_REJECTED;
        if (*reason)
            snprintf(res->message, sizeof res->message, "%s", reason);
        else
            snprintf(res->message, sizeof res->message, "server answered %ld with no reason",
                     status);
    } else {
        /* 1xx as a final answer, or a redirect: [upload] url is wrong for
         * every document, so keep them all queued rather than set one aside. */
        res->outcome = UPLOAD_RETRY;
        char *loc = NULL, where[256] = "";
        if (curl_easy_getinfo(u->h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
            one_line(where, sizeof where, loc, strlen(loc), 120);
        snprintf(res->message, sizeof res->message, "server answered %ld%s%s; check [upload] url",
                 status, *where ? ": redirect to " : "", where);
    }
}

int uploader_post_file(uploader *u, const char *path, const char *idempotency_key,
                       upload_result *res, sohoa_err *err)
{
    memset(res, 0, sizeof *res);
    if (!idempotency_key || !*idempotency_key || has_ctl(idempotency_key) ||
        strlen(idempotency_key) > KEY_MAX)
        return err_set(err, SOHOA_EINPUT,
                       "upload of %s: idempotency key is empty, too long or holds a control "
                       "character",
                       path);
    u->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (u->fd < 0)
        return err_errno(err, SOHOA_EINPUT, errno, "upload of %s: cannot open", path);
    struct stat st;
    int bad = fstat(u->fd, &st) != 0 ? errno : 0;
    if (bad || !S_ISREG(st.st_mode)) {
        close(u->fd);
        u->fd = -1;
        return bad ? err_errno(err, SOHOA_EINPUT, bad, "upload of %s", path)
                   : err_set(err, SOHOA_EINPUT, "upload of %s: not a regular file", path);
    }
    u->size = st.st_size;
    u->sent = 0;
    u->read_errno = u->shrank = u->oom = 0;
    u->replayed = 0;
    u->body_len = 0;
    u->errbuf[0] = '\0';

    struct curl_slist *hdrs = NULL, *h2;
    char *line = NULL;
    int failed = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (!failed && asprintf(&line, __VA_ARGS__) >= 0) {                                        \
            h2 = curl_slist_append(hdrs, line);                                                    \
            failed = !h2;                                                                          \
            hdrs = h2 ? h2 : hdrs;                                                                 \
            explicit_bzero(line, strlen(line));                                                    \
            free(line);                                                                            \
        } else {                                                                                   \
            failed = 1;                                                                            \
        }                                                                                          \
    } while (0)
    ADD("Content-Type: %s", u->o.content_type);
    ADD("Idempotency-Key: %s", idempotency_key);
    if (u->o.auth_token)
        ADD("Authorization: Bearer %s", u->o.auth_token);
    /* No "Expect: 100-continue": it costs a round trip per document, and
     * servers that ignore it make curl wait a second for nothing. */
    ADD("Expect:");
#undef ADD
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (!failed &&
        curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size) == CURLE_OK &&
        curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK) {
        log_debug("upload: POST %s (%jd bytes) to %s, Idempotency-Key %s", path,
                  (intmax_t)st.st_size, u->host, idempotency_key);
        rc = curl_easy_perform(u->h);
    }
    curl_easy_setopt(u->h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    /* The slist holds the token: wipe it before it goes back to malloc. */
    for (struct curl_slist *s = hdrs; s; s = s->next)
        explicit_bzero(s->data, strlen(s->data));
    curl_slist_free_all(hdrs);
    close(u->fd);
    u->fd = -1;

    if (u->read_errno || u->shrank) {
        return u->shrank
                   ? err_set(err, SOHOA_EINPUT,
                             "upload of %s: the file got shorter while it was being sent", path)
                   : err_errno(err, SOHOA_EINPUT, u->read_errno, "upload of %s: cannot read", path);
    }
    if (u->oom || rc == CURLE_OUT_OF_MEMORY)
        return err_set(err, SOHOA_EWORK, "upload of %s: out of memory", path);

    long status = 0;
    curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, &status);
    res->http_status = status;
    if (rc != CURLE_OK) {
        const char *text = u->errbuf[0] ? u->errbuf : curl_easy_strerror(rc);
        res->outcome = UPLOAD_RETRY;
        snprintf(res->message, sizeof res->message, "upload to %.200s: ", u->host);
        one_line(res->message, sizeof res->message, text, strnlen(text, CURL_ERROR_SIZE),
                 CURL_ERROR_SIZE);
        log_debug("upload: %s: %s", path, res->message);
        return 0;
    }
    classify(u, status, res);
    if (u->body_len > 0) {
        /* Hand the buffer over; the next post starts a new one. */
        res->body = u->body;
        res->body_len = u->body_len;
        u->body = NULL;
        u->body_cap = 0;
        u->body_len = 0;
    }
    log_debug("upload: %s: HTTP %ld, %s", path, status, res->message);
    return 0;
}
