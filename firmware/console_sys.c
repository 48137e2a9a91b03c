/* console_sys.c — the console's system commands: time, scanner, selftest,
 * reboot, shutdown, and the table console_cmds_sys[] (network and token
 * live in console_net.c and console_token.c).
 *
 * System files (the NTP drop-in here, the network file in console_net.c)
 * are written whole and atomically, so that a power cut leaves the old or
 * the new file, never half of one; each change is audited old → new.
 */
#include "console_sys.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <leptonica/allheaders.h>

#include "../drivers/scanner.h"
#include "../ocr/preprocess.h"
#include "../ocr/recognize.h"
#include "fsutil.h"
#include "register.h"
#include "vntime.h"

#define TIMESYNCD_DEFAULT "/etc/systemd/timesyncd.conf.d/sohoa.conf"
#define NTP_MAX_SERVERS 8
/* How long the station service leaves the scanner to us (s). */
#define SCANNER_PAUSE_S 120

/* ---- shared helpers (console_sys.h) ------------------------------------- */

const char *csys_verdict_name(const console *c, csys_verdict v)
{
    switch (v) {
    case CSYS_OK:
        return "OK";
    case CSYS_WARN:
        return CON_T(c, "CẢNH BÁO", "WARN");
    default:
        return CON_T(c, "LỖI", "FAIL");
    }
}

const char *csys_key(const console *c, const char *key, const char *def)
{
    return config_get(&c->cfg, "console", key, def);
}

long csys_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Characters (not bytes) in the first `n` bytes of UTF-8 `s`. */
static int u8_cols(const char *s, size_t n)
{
    int cols = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        cols += ((unsigned char)s[i] & 0xc0) != 0x80;
    return cols;
}

void csys_wrap(console *c, const char *first, int indent, const char *text)
{
    int col = u8_cols(first, strlen(first));
    con_printf(c, "%s", first);
    const char *p = text;
    int line_has_word = 0;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t wl = strcspn(p, " ");
        int wc = u8_cols(p, wl);
        /* A word longer than a whole line (a URL) goes on a line of its own. */
        if (line_has_word && col + 1 + wc > CSYS_COLS) {
            con_printf(c, "\n%*s", indent, "");
            col = indent;
            line_has_word = 0;
        }
        if (line_has_word) {
            con_printf(c, " ");
            col++;
        }
        con_printf(c, "%.*s", (int)wl, p);
        col += wc;
        line_has_word = 1;
        p += wl;
    }
    con_printf(c, "\n");
}

void csys_row(console *c, int indent, const char *name, int name_w, const char *verdict,
              const char *text)
{
    /* Padded by characters, not bytes: "máy quét" and "LỖI" hold
     * multi-byte letters that printf's width would count twice. */
    const char *vn = verdict ? verdict : "-";
    int nw = u8_cols(name, strlen(name)), vw = u8_cols(vn, strlen(vn));
    char first[160];
    snprintf(first, sizeof first, "%*s%s%*s %s%*s ", indent, "", name,
             nw < name_w ? name_w - nw : 0, "", vn, vw < 8 ? 8 - vw : 0, "");
    csys_wrap(c, first, indent + name_w + 10, text);
}

void csys_say(console *c, int indent, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    csys_wrap(c, "", indent, buf);
}

void csys_error(console *c, const sohoa_err *err)
{
    char first[16];
    snprintf(first, sizeof first, "%s: ", CON_T(c, "lỗi", "error"));
    csys_wrap(c, first, 2, err->msg[0] ? err->msg : "?");
}

void csys_errorf(console *c, const char *fmt, ...)
{
    sohoa_err e = {.status = SOHOA_EWORK};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    csys_error(c, &e);
}

int csys_write_config_file(console *c, const char *path, char *text)
{
    sohoa_err err = {0};
    int rc = csys_write_file(path, text, 0644, &err);
    free(text);
    if (rc != 0)
        csys_error(c, &err);
    return rc;
}

int csys_apply(console *c, const char *key, const char *def, const char *hint)
{
    const char *apply = csys_key(c, key, def);
    if (!*apply) {
        csys_say(c, 2, "%s\n", hint);
        return 0;
    }
    csys_say(c, 2, "%s %s\n", CON_T(c, "Áp dụng:", "Applying:"), apply);
    sohoa_err err = {0};
    if (csys_run(c, apply, &err) != 0) {
        csys_error(c, &err);
        return 1;
    }
    return 0;
}

int csys_run(console *c, const char *cmd, sohoa_err *err)
{
    char *full = NULL;
    /* stdin from /dev/null: the command must not read the console's line. */
    if (asprintf(&full, "exec </dev/null 2>&1; %s", cmd) < 0)
        return err_set(err, SOHOA_EWORK, "out of memory");
    fflush(c->out);
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return err_errno(err, SOHOA_EWORK, errno, "%s: cannot run", cmd);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, p)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        csys_wrap(c, "  ", 4, line);
    }
    free(line);
    int st = pclose(p);
    if (st == -1)
        return err_errno(err, SOHOA_EWORK, errno, "%s: cannot run", cmd);
    if (WIFEXITED(st)) {
        if (WEXITSTATUS(st) == 127)
            return err_set(err, SOHOA_EWORK,
                           "%s: command not found (exit 127); check the "
                           "[console] setting that names it",
                           cmd);
        if (WEXITSTATUS(st) != 0)
            err_set(err, SOHOA_EWORK, "%s: exit status %d", cmd, WEXITSTATUS(st));
        return WEXITSTATUS(st);
    }
    return err_set(err, SOHOA_EWORK, "%s: killed by signal %d", cmd,
                   WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int csys_write_file(const char *path, const char *text, mode_t mode, sohoa_err *err)
{
    char *copy = strdup(path);
    if (!copy)
        return err_set(err, SOHOA_EWORK, "out of memory");
    int rc = fs_mkdir_p(dirname(copy), 0755, err);
    free(copy);
    if (rc != 0)
        return -1;
    return fs_write_atomic(path, text, strlen(text), mode, err);
}

int csys_set(console *c, const char *section, const char *key, const char *value, int show)
{
    int rc = console_config_set(c, section, key, value);
    if (rc == 0 && show)
        csys_say(c, 2, "%s [%s] %s = %s", CON_T(c, "Đã lưu", "Saved"), section, key,
                 *value ? value : CON_T(c, "(trống)", "(empty)"));
    else if (rc == 0)
        csys_say(c, 2, "%s [%s] %s.", CON_T(c, "Đã lưu", "Saved"), section, key);
    return rc;
}

const console_cmd *csys_cmd(const char *name)
{
    for (const console_cmd *k = console_cmds_sys; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return console_cmds_sys; /* not reached: every caller names its own entry */
}

/* Runs a command's output through a pipe into a malloc'ed string (NULL
 * when it cannot be run or fails); for commands whose answer we parse. */
static char *capture(const char *cmd)
{
    char *full = NULL;
    if (asprintf(&full, "exec </dev/null 2>/dev/null; %s", cmd) < 0)
        return NULL;
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[1024];
    size_t n;
    int oom = 0;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
        if (len + n + 1 > cap && !oom) {
            size_t ncap = cap ? cap * 2 : 4096;
            while (ncap < len + n + 1)
                ncap *= 2;
            char *b = ncap <= 1 << 20 ? realloc(buf, ncap) : NULL;
            if (!b)
                oom = 1;
            else
                buf = b, cap = ncap;
        }
        if (!oom) {
            memcpy(buf + len, chunk, n);
            len += n;
            buf[len] = '\0';
        }
    }
    int st = pclose(p);
    if (oom || st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !buf) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The value of "key=value" or "  Key: value" line `key` in `text`, trimmed,
 * into out; 0 when found. */
static int find_field(const char *text, const char *key, char sep, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *s = l;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncmp(s, key, kl) != 0 || s[kl] != sep)
            continue;
        s += kl + 1;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, "\r\n");
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        snprintf(out, cap, "%.*s", (int)n, s);
        return 0;
    }
    return -1;
}

/* ---- time ---------------------------------------------------------------- */

static const char *const time_sub[] = {"show", "ntp", "zone", NULL};

static time_t now_of(const console *c)
{
    return c->now ? c->now() : time(NULL);
}

/* The NTP= servers of a timesyncd file ("" when it has none), into out;
 * -1 when the file does not exist. */
static int read_ntp_servers(const char *path, char *out, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    sohoa_err e = {0};
    out[0] = '\0';
    if (fs_read_all(path, 1 << 16, &text, &len, &e) != 0)
        return -1;
    int in_time = 0;
    for (char *l = text; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        char *s = l;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '[')
            in_time = strncmp(s, "[Time]", 6) == 0;
        else if (in_time && strncmp(s, "NTP=", 4) == 0)
            snprintf(out, cap, "%s", s + 4); /* the last NTP= wins, as in systemd */
        l = nl ? nl + 1 : NULL;
    }
    free(text);
    size_t n = strlen(out);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        out[--n] = '\0';
    return 0;
}

/* A host name (RFC 1123 labels) or an IPv4/IPv6 address. */
static int valid_host(const char *s)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
        return 1;
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)ch) && ch != '-')
            return 0;
        if (ch == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    /* All-digit dotted names would be mistyped addresses ("10.0.0.300"). */
    if (strspn(s, "0123456789.") == n)
        return 0;
    return label > 0 && s[n - 1] != '-';
}

static int time_show(console *c)
{
    char iso[VNTIME_ISO_LEN];
    vntime_iso(now_of(c), iso);
    iso[10] = ' ';
    csys_say(c, 2, "%s %.19s +07:00\n", CON_T(c, "Giờ địa phương:", "Local time:"), iso);
    csys_say(c, 2, "%s Asia/Ho_Chi_Minh (UTC+07:00, %s)\n", CON_T(c, "Múi giờ:", "Time zone:"),
             CON_T(c, "cố định", "fixed"));

    const char *tdc = csys_key(c, "timedatectl", "timedatectl");
    char *show = NULL, *sync = NULL;
    if (*tdc) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s show", tdc);
        show = capture(cmd);
        snprintf(cmd, sizeof cmd, "%s timesync-status", tdc);
        sync = capture(cmd);
    }
    const char *unknown = CON_T(c, "không rõ", "unknown");
    char v[128];
    if (show && find_field(show, "Timezone", '=', v, sizeof v) == 0 &&
        strcmp(v, "Asia/Ho_Chi_Minh") != 0)
        csys_say(c, 2, "  %s %s; %s\n", CON_T(c, "hệ thống đặt múi giờ", "the system's zone is"), v,
                 CON_T(c, "trạm vẫn ghi giờ +07:00", "the station still records +07:00"));
    const char *state = unknown;
    if (show && find_field(show, "NTPSynchronized", '=', v, sizeof v) == 0)
        state = strcmp(v, "yes") == 0 ? CON_T(c, "đã đồng bộ", "synchronized")
                                      : CON_T(c, "chưa đồng bộ", "not synchronized");
    char ntp_on[16] = "";
    if (show && find_field(show, "NTP", '=', ntp_on, sizeof ntp_on) == 0 &&
        strcmp(ntp_on, "yes") != 0)
        state = CON_T(c, "NTP đang tắt (timedatectl set-ntp true)",
                      "NTP is off (timedatectl set-ntp true)");
    csys_say(c, 2, "%s %s\n", CON_T(c, "Đồng bộ NTP:", "NTP sync:"), state);
    char server[128] = "";
    if (sync)
        find_field(sync, "Server", ':', server, sizeof server);
    if (sync && find_field(sync, "Offset", ':', v, sizeof v) == 0) {
        if (*server)
            csys_say(c, 2, "%s %s (%s %s)\n", CON_T(c, "Độ lệch:", "Offset:"), v,
                     CON_T(c, "máy chủ", "server"), server);
        else
            csys_say(c, 2, "%s %s\n", CON_T(c, "Độ lệch:", "Offset:"), v);
    } else {
        csys_say(c, 2, "%s %s\n", CON_T(c, "Độ lệch:", "Offset:"), unknown);
    }
    free(show);
    free(sync);

    char *path = console_config_path(c, csys_key(c, "timesyncd_file", TIMESYNCD_DEFAULT));
    if (!path)
        return 1;
    char servers[512];
    char first[64];
    snprintf(first, sizeof first, "%s ", CON_T(c, "Máy chủ NTP:", "NTP servers:"));
    if (read_ntp_servers(path, servers, sizeof servers) < 0 || !*servers)
        csys_wrap(c, first, 2,
                  CON_T(c, "(chưa đặt: mặc định của hệ thống; đặt bằng time ntp MÁY_CHỦ...)",
                        "(not set: the system's defaults; set with time ntp SERVER...)"));
    else
        csys_wrap(c, first, 2, servers);
    free(path);
    return 0;
}

static int time_ntp(console *c, int argc, char **argv)
{
    if (argc < 3 || argc - 2 > NTP_MAX_SERVERS)
        return con_usage(c, csys_cmd("time"));
    char list[NTP_MAX_SERVERS * 256] = "";
    int none = argc == 3 && strcmp(argv[2], "none") == 0;
    for (int i = 2; i < argc && !none; i++) {
        if (!valid_host(argv[i])) {
            csys_errorf(c, "%s %s", argv[i],
                        CON_T(c, "không phải tên máy hay địa chỉ IP; kiểm tra lại máy chủ NTP",
                              "is not a host name or an IP address; check the NTP server"));
            return 2;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i > 2 ? " " : "",
                 argv[i]);
    }
    char *path = console_config_path(c, csys_key(c, "timesyncd_file", TIMESYNCD_DEFAULT));
    if (!path)
        return 1;
    char old[512];
    int had = read_ntp_servers(path, old, sizeof old) == 0;
    char *text = NULL;
    if (asprintf(&text,
                 "# Written by `sohoa console` (time ntp); change it there, not by hand.\n"
                 "[Time]\nNTP=%s\n",
                 list) < 0) {
        free(path);
        return 1;
    }
    if (csys_write_config_file(c, path, text) != 0) {
        free(path);
        return 1;
    }
    console_audit(c, "time ntp", had ? (*old ? old : "(none)") : "(none)", *list ? list : "(none)");
    csys_say(c, 2, "%s %s: NTP=%s\n", CON_T(c, "Đã ghi", "Written"), path,
             *list ? list : CON_T(c, "(mặc định của hệ thống)", "(the system's defaults)"));
    free(path);
    return csys_apply(c, "time_apply_command", "systemctl try-restart systemd-timesyncd",
                      CON_T(c, "Có hiệu lực sau: systemctl restart systemd-timesyncd",
                            "Takes effect after: systemctl restart systemd-timesyncd"));
}

static int cmd_time(console *c, int argc, char **argv)
{
    if (argc == 1 || (argc == 2 && strcmp(argv[1], "show") == 0))
        return time_show(c);
    if (strcmp(argv[1], "ntp") == 0)
        return time_ntp(c, argc, argv);
    if (strcmp(argv[1], "zone") == 0 && argc <= 3) {
        if (argc == 3 && strcmp(argv[2], "Asia/Ho_Chi_Minh") != 0) {
            csys_say(c, 2, "%s\n",
                     CON_T(c,
                           "Múi giờ cố định là Asia/Ho_Chi_Minh (+07:00) theo quy định; "
                           "không đổi được.",
                           "The time zone is fixed to Asia/Ho_Chi_Minh (+07:00) by the "
                           "regulations; it cannot be changed."));
            return 1;
        }
        csys_say(c, 2, "%s\n",
                 CON_T(c, "Múi giờ: Asia/Ho_Chi_Minh (+07:00), cố định.",
                       "Time zone: Asia/Ho_Chi_Minh (+07:00), fixed."));
        return 0;
    }
    return con_usage(c, csys_cmd("time"));
}

/* ---- scanner --------------------------------------------------------------- */

static const char *const scanner_sub[] = {"show", "list", "use", "test", NULL};

typedef struct daemon_answer {
    char first[256];
    int refused;
} daemon_answer;

static int daemon_answer_line(void *ctx, const char *text)
{
    daemon_answer *a = ctx;
    if (!a->first[0])
        snprintf(a->first, sizeof a->first, "%s", text);
    if (strncmp(text, "ERR", 3) == 0)
        a->refused = 1;
    return 0;
}

/* Asks the station service to let go of the scanner (it keeps it open
 * while idle to read its buttons). 1: paused (resume it afterwards); 0:
 * the service is not running, nothing to do; -1: it refused (printed). */
static int scanner_pause(console *c)
{
    daemon_answer a = {0};
    sohoa_err err = {0};
    char req[64];
    snprintf(req, sizeof req, "SCANNER PAUSE %d", SCANNER_PAUSE_S);
    if (console_daemon_request(c, req, daemon_answer_line, &a, &err) != 0)
        return 0;
    if (a.refused) {
        csys_errorf(c, "%s (%s)",
                    CON_T(c, "dịch vụ trạm không nhả máy quét; thử lại khi trạm rảnh",
                          "the station service would not release the scanner; try again when "
                          "it is idle"),
                    a.first);
        return -1;
    }
    return 1;
}

static void scanner_resume(console *c, int paused)
{
    if (paused != 1)
        return;
    daemon_answer a = {0};
    sohoa_err err = {0};
    if (console_daemon_request(c, "SCANNER RESUME", daemon_answer_line, &a, &err) != 0 || a.refused)
        csys_say(c, 2, "%s\n",
                 CON_T(c,
                       "Cảnh báo: dịch vụ trạm chưa lấy lại máy quét; nó tự lấy lại sau "
                       "2 phút",
                       "Warning: the station service did not take the scanner back; it will "
                       "after 2 minutes"));
}

/* The SANE devices (free with scanner_list_free()); the error printed. */
static int list_devices(console *c, char ***names, char ***descs, size_t *n)
{
    sohoa_err err = {0};
    if (scanner_init(&err) != 0) {
        csys_error(c, &err);
        return -1;
    }
    int rc = scanner_list(names, descs, n, &err);
    scanner_exit();
    if (rc != 0)
        csys_error(c, &err);
    return rc;
}

static int scanner_show(console *c)
{
    char **names = NULL, **descs = NULL;
    size_t n = 0;
    if (list_devices(c, &names, &descs, &n) != 0)
        return 1;
    const char *dev = config_get(&c->cfg, "scanner", "device", "");
    csys_say(c, 2, "%s (%zu)\n", CON_T(c, "Máy quét tìm thấy:", "Scanners found:"), n);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        int mine = *dev ? strcmp(names[i], dev) == 0 : 0;
        seen |= mine;
        char first[160];
        snprintf(first, sizeof first, "%s %-20s ", mine ? "*" : " ", names[i]);
        csys_wrap(c, first, 4, descs[i]);
    }
    if (*dev)
        csys_say(c, 2, "%s %s%s\n", CON_T(c, "Đang dùng:", "In use:"), dev,
                 seen ? ""
                      : CON_T(c, " — KHÔNG THẤY: kiểm tra cáp và nguồn máy quét",
                              " — NOT FOUND: check the scanner's cable and power"));
    else
        csys_say(c, 2, "%s\n",
                 CON_T(c, "Đang dùng: máy quét tài liệu đầu tiên ([scanner] device trống)",
                       "In use: the first document scanner ([scanner] device is empty)"));
    scanner_list_free(names, descs, n);
    return 0;
}

static int scanner_use(console *c, const char *dev)
{
    char **names = NULL, **descs = NULL;
    size_t n = 0;
    if (list_devices(c, &names, &descs, &n) != 0)
        return 1;
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(names[i], dev) == 0;
    scanner_list_free(names, descs, n);
    if (!found) {
        csys_errorf(c, "%s %s", dev,
                    CON_T(c, "không có trong danh sách máy quét; xem `scanner list`",
                          "is not among the scanners found; see `scanner list`"));
        return 2;
    }
    return csys_set(c, "scanner", "device", dev, 1);
}

typedef struct first_page {
    char path[4096];
    int got;
} first_page;

/* One page is enough for a test: stop the batch after it. */
static int take_first_page(void *ctx, const char *path, int index)
{
    first_page *f = ctx;
    snprintf(f->path, sizeof f->path, "%s", path);
    f->got = index;
    return 1;
}

/* Removes the test scan's directory and what is in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

/* The scanner's test: scans one page. With `verbose` (the scanner test
 * command) the result is printed; `summary` gets one line. */
static csys_verdict scanner_test_run(console *c, int scan, int verbose, char *summary, size_t cap)
{
    sohoa_err err = {0};
    scanner_options o;
    if (scanner_options_load(&c->cfg, &o, &err) != 0) {
        snprintf(summary, cap, "%s", err.msg);
        return CSYS_FAIL;
    }
    csys_verdict v = CSYS_FAIL;
    int paused = scanner_pause(c);
    if (paused < 0) {
        snprintf(summary, cap, "%s",
                 CON_T(c, "dịch vụ trạm không nhả máy quét",
                       "the station service keeps the "
                       "scanner"));
        scanner_options_free(&o);
        return CSYS_FAIL;
    }
    if (scanner_init(&err) != 0) {
        snprintf(summary, cap, "%s", err.msg);
        scanner_resume(c, paused);
        scanner_options_free(&o);
        return CSYS_FAIL;
    }
    long t0 = csys_ms();
    scanner *s = scanner_open(&o, &err);
    if (!s) {
        snprintf(summary, cap, "%s", err.msg);
        goto out;
    }
    if (!scan) {
        snprintf(summary, cap, "%s %s, %d dpi", scanner_name(s), CON_T(c, "mở được", "opens"),
                 scanner_resolution(s));
        v = CSYS_OK;
        goto out;
    }
    if (verbose)
        csys_say(c, 2, "%s %s...\n",
                 CON_T(c, "Đang quét thử một trang trên",
                       "Scanning one test "
                       "page on"),
                 scanner_name(s));
    char dir[4096];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/console-scan.XXXXXX",
             c->data_dir && stat(c->data_dir, &st) == 0 ? c->data_dir : "/tmp");
    if (!mkdtemp(dir)) {
        err_errno(&err, SOHOA_EWORK, errno, "%s: cannot create a directory for the test page", dir);
        snprintf(summary, cap, "%s", err.msg);
        goto out;
    }
    first_page fp = {.got = 0};
    scan_status ss = SCAN_OK;
    int npages = 0;
    int rc = scanner_scan(s, dir, take_first_page, &fp, NULL, &ss, &npages, &err);
    int dpi = scanner_resolution(s);
    scanner_close(s);
    s = NULL;
    if (rc != 0) {
        snprintf(summary, cap, "%s", err.msg);
    } else if (!fp.got) {
        snprintf(summary, cap, "%s", scan_status_text(ss));
    } else {
        PIX *pix = pixRead(fp.path);
        blank_report br = {0};
        if (!pix) {
            snprintf(summary, cap, "%s",
                     CON_T(c, "không đọc được trang vừa quét", "cannot read the page scanned"));
        } else if (prep_detect_blank(pix, dpi, &br, &err) != 0) {
            snprintf(summary, cap, "%s", err.msg);
        } else {
            const char *mode = o.mode ? o.mode : "color";
            snprintf(summary, cap, "%s %d×%d %s, %d dpi, %s, %s (%.1f s)",
                     CON_T(c, "trang", "page"), pixGetWidth(pix), pixGetHeight(pix),
                     CON_T(c, "điểm ảnh", "pixels"), dpi, mode,
                     br.blank ? CON_T(c, "TRẮNG", "BLANK") : CON_T(c, "có nội dung", "not blank"),
                     (double)(csys_ms() - t0) / 1000.0);
            v = br.blank ? CSYS_WARN : CSYS_OK;
        }
        pixDestroy(&pix);
    }
    remove_dir(dir);
out:
    scanner_close(s);
    scanner_exit();
    scanner_resume(c, paused);
    scanner_options_free(&o);
    return v;
}

static int scanner_test(console *c)
{
    char summary[640];
    csys_verdict v = scanner_test_run(c, 1, 1, summary, sizeof summary);
    char first[32];
    snprintf(first, sizeof first, "%s: ", csys_verdict_name(c, v));
    csys_wrap(c, first, 4, summary);
    if (v == CSYS_WARN)
        csys_wrap(c, "  ", 2,
                  CON_T(c, "Trang quét ra trắng: kiểm tra giấy đặt đúng mặt và máy quét sạch.",
                        "The page came out blank: check the paper's side and that the scanner "
                        "is clean."));
    return v == CSYS_FAIL ? 1 : 0;
}

static int cmd_scanner(console *c, int argc, char **argv)
{
    if (argc == 1 || (argc == 2 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "list") == 0)))
        return scanner_show(c);
    if (argc == 3 && strcmp(argv[1], "use") == 0)
        return scanner_use(c, argv[2]);
    if (argc == 2 && strcmp(argv[1], "test") == 0)
        return scanner_test(c);
    return con_usage(c, csys_cmd("scanner"));
}

/* ---- selftest -------------------------------------------------------------- */

static csys_verdict disk_check(console *c, char *summary, size_t cap)
{
    sohoa_err err = {0};
    long min_free = 100, warn = 80;
    if (config_get_int(&c->cfg, "station", "min_free_mb", 100, 0, 1L << 30, &min_free, &err) != 0 ||
        config_get_int(&c->cfg, "station", "disk_warn_percent", 80, 1, 100, &warn, &err) != 0) {
        snprintf(summary, cap, "%s", err.msg);
        return CSYS_FAIL;
    }
    const char *dir = c->data_dir ? c->data_dir : "/var/lib/sohoa";
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0) {
        snprintf(summary, cap, "%s: %s", dir, strerror(errno));
        return CSYS_FAIL;
    }
    unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    unsigned long long total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
    unsigned long long used_blocks = vfs.f_blocks - vfs.f_bfree;
    /* As df: used / (used + available to us). */
    unsigned long long denom = used_blocks + vfs.f_bavail;
    int pct = denom ? (int)((used_blocks * 100 + denom - 1) / denom) : 0;
    csys_verdict v = CSYS_OK;
    char disk[256];
    snprintf(disk, sizeof disk, "%llu MB %s %llu MB (%d%% %s)", avail >> 20,
             CON_T(c, "trống trên", "free of"), total >> 20, pct, CON_T(c, "đã dùng", "used"));
    if (avail < (unsigned long long)min_free * 1024 * 1024) {
        v = CSYS_FAIL;
        snprintf(disk + strlen(disk), sizeof disk - strlen(disk), ", %s %ld MB",
                 CON_T(c, "dưới mức tối thiểu", "below the minimum of"), min_free);
    } else if (pct >= warn) {
        v = CSYS_WARN;
        snprintf(disk + strlen(disk), sizeof disk - strlen(disk), ", %s %ld%%",
                 CON_T(c, "trên ngưỡng cảnh báo", "above the warning level of"), warn);
    }
    char regs[600];
    if (!c->r) {
        snprintf(regs, sizeof regs, "%s",
                 CON_T(c, "sổ đăng ký chưa mở được", "the register could not be opened"));
        v = CSYS_FAIL;
    } else {
        char *result = NULL;
        if (reg_integrity_check(c->r, &result, &err) != 0) {
            snprintf(regs, sizeof regs, "%s: %s", CON_T(c, "sổ đăng ký", "register"), err.msg);
            v = CSYS_FAIL;
        } else {
            int ok = result && strcmp(result, "ok") == 0;
            snprintf(regs, sizeof regs, "%s: %s", CON_T(c, "sổ đăng ký", "register"),
                     result ? result : "?");
            if (!ok)
                v = CSYS_FAIL;
        }
        free(result);
    }
    snprintf(summary, cap, "%s; %s", disk, regs);
    return v;
}

/* The built-in page: words OCR must give back. Plain ASCII, because the
 * compiled-in bitmap fonts have no Vietnamese letters; Vietnamese models
 * read these as they are. */
static const char *const OCR_LINES[] = {"SOHOA SELFTEST 2026", "THONG BAO KET QUA",
                                        "Quang Nam 12345", NULL};

static csys_verdict ocr_check(console *c, char *summary, size_t cap)
{
    long t0 = csys_ms();
    /* Leptonica's largest bitmap font, drawn black on white and scaled
     * down smoothly to 0.6: anti-aliased letters of about 12 pt at 300 dpi,
     * like print on a scanned letter (the raw bitmap glyphs are jagged
     * enough to make Tesseract misread some). */
    L_BMF *bmf = bmfCreate(NULL, 20);
    PIX *big = bmf ? pixCreate(2480 * 10 / 6, 200 + 6 * bmf->lineheight, 8) : NULL;
    PIX *pix = NULL;
    if (big) {
        pixSetAll(big); /* white */
        int y = 150;
        for (int i = 0; OCR_LINES[i]; i++) {
            l_int32 w = 0, overflow = 0;
            pixSetTextline(big, bmf, OCR_LINES[i], 0, 250, y, &w, &overflow);
            y += 2 * bmf->lineheight;
        }
        pix = pixScaleSmooth(big, 0.6f, 0.6f);
    }
    pixDestroy(&big);
    bmfDestroy(&bmf);
    if (!pix) {
        snprintf(summary, cap, "%s",
                 CON_T(c, "không tạo được trang thử (bộ nhớ?)",
                       "cannot draw the test page "
                       "(memory?)"));
        return CSYS_FAIL;
    }

    const char *lang = config_get(&c->cfg, "ocr", "languages", "vie");
    ocr_options oo = {.languages = lang, .datapath = NULL};
    sohoa_err err = {0};
    ocr_engine *e = ocr_engine_new(&oo, &err);
    if (!e) {
        pixDestroy(&pix);
        snprintf(summary, cap, "%s", err.msg);
        return CSYS_FAIL;
    }
    ocr_page_text pt = {0};
    int rc = ocr_recognize(e, pix, 300, &pt, &err);
    pixDestroy(&pix);
    ocr_engine_free(e);
    if (rc != 0) {
        ocr_page_text_free(&pt);
        snprintf(summary, cap, "%s", err.msg);
        return CSYS_FAIL;
    }
    int want = 0, found = 0;
    char missing[256] = "";
    for (int i = 0; OCR_LINES[i]; i++) {
        const char *p = OCR_LINES[i];
        while (*p) {
            size_t n = strcspn(p, " ");
            int hit = 0;
            for (size_t k = 0; k < pt.nwords && !hit; k++)
                hit = strlen(pt.words[k].text) == n && strncmp(pt.words[k].text, p, n) == 0;
            want++;
            found += hit;
            if (!hit)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %.*s",
                         (int)n, p);
            p += n;
            while (*p == ' ')
                p++;
        }
    }
    ocr_page_text_free(&pt);
    /* A working engine reads nearly all of it; a broken one (wrong model,
     * damaged data) next to nothing. A word or two may be misread. */
    csys_verdict v = found * 10 >= want * 8 ? CSYS_OK : found * 2 >= want ? CSYS_WARN : CSYS_FAIL;
    snprintf(summary, cap, "%s %d/%d %s (%s, %.1f s)%s%s", CON_T(c, "đọc đúng", "read"), found,
             want, CON_T(c, "từ", "words right"), lang, (double)(csys_ms() - t0) / 1000.0,
             *missing ? CON_T(c, "; thiếu:", "; missing:") : "", missing);
    return v;
}

static int cmd_selftest(console *c, int argc, char **argv)
{
    if (argc != 1)
        return con_usage(c, csys_cmd("selftest"));
    struct {
        const char *vi, *en;
    } names[] = {{"máy quét", "scanner"},
                 {"token", "token"},
                 {"mạng", "network"},
                 {"đĩa", "disk"},
                 {"OCR", "OCR"}};
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 5; i++) {
        char summary[1024] = "";
        csys_verdict v;
        switch (i) {
        case 0:
            v = scanner_test_run(c, 0, 0, summary, sizeof summary);
            break;
        case 1:
            v = csys_token_test(c, 0, summary, sizeof summary);
            break;
        case 2:
            v = csys_network_check(c, 0, summary, sizeof summary);
            break;
        case 3:
            v = disk_check(c, summary, sizeof summary);
            break;
        default:
            v = ocr_check(c, summary, sizeof summary);
            break;
        }
        counts[v]++;
        csys_row(c, 0, CON_T(c, names[i].vi, names[i].en), 9, csys_verdict_name(c, v), summary);
    }
    csys_say(c, 2, "%s %d OK, %d %s, %d %s\n", CON_T(c, "Tổng:", "Summary:"), counts[CSYS_OK],
             counts[CSYS_FAIL], csys_verdict_name(c, CSYS_FAIL), counts[CSYS_WARN],
             csys_verdict_name(c, CSYS_WARN));
    return counts[CSYS_FAIL] ? 1 : 0;
}

/* ---- reboot, shutdown -------------------------------------------------- */

static int power(console *c, int argc, const char *key, const char *def, const char *q_vi,
                 const char *q_en, const char *what)
{
    if (argc != 1)
        return con_usage(c, csys_cmd(what));
    const char *cmd = csys_key(c, key, def);
    if (!*cmd) {
        csys_errorf(c, "[console] %s %s", key,
                    CON_T(c, "trống; đặt lệnh cần chạy", "is empty; set the command to run"));
        return 1;
    }
    if (!con_confirm(c, CON_T(c, q_vi, q_en)))
        return 0; /* con_confirm said "cancelled" */
    console_audit(c, what, "-", cmd);
    csys_say(c, 2, "%s %s", CON_T(c, "Đang chạy:", "Running:"), cmd);
    sohoa_err err = {0};
    if (csys_run(c, cmd, &err) != 0) {
        csys_error(c, &err);
        return 1;
    }
    return 0;
}

static int cmd_reboot(console *c, int argc, char **argv)
{
    return power(c, argc, "reboot_command", "systemctl reboot",
                 "Khởi động lại trạm? Việc đang làm sẽ tiếp tục sau khi khởi động.",
                 "Reboot the station? Work under way resumes after the restart.", "reboot");
}

static int cmd_shutdown(console *c, int argc, char **argv)
{
    return power(c, argc, "shutdown_command", "systemctl poweroff",
                 "Tắt trạm? Cần bật lại bằng nút nguồn.",
                 "Shut the station down? It must be switched on again by hand.", "shutdown");
}

/* ---- the table ----------------------------------------------------------- */

const console_cmd console_cmds_sys[] = {
    {"network", "[show]|dhcp|static ADDR/PREFIX GW [DNS..]|proxy URL|none|check",
     "mạng: địa chỉ, DHCP/tĩnh, proxy, kiểm tra máy chủ nhận",
     "network: addresses, DHCP/static, proxy, check the upload endpoint", csys_cmd_network,
     csys_network_sub},
    {"ping", "", "kiểm tra máy chủ nhận (như network check)",
     "check the upload endpoint (as network check)", csys_cmd_network, NULL},
    {"time", "[show] | ntp SERVER...|none | zone", "giờ: đồng bộ NTP, độ lệch, máy chủ NTP",
     "time: NTP sync, offset, NTP servers", cmd_time, time_sub},
    {"token", "[show] | list | use LABEL | pin set|change | test",
     "token ký số: chứng thư, hạn, PIN, ký thử",
     "signing token: certificate, expiry, PIN, test signature", csys_cmd_token, csys_token_sub},
    {"scanner", "[show|list] | use DEVICE | test", "máy quét: danh sách, chọn, quét thử",
     "scanner: list, choose, test scan", cmd_scanner, scanner_sub},
    {"selftest", "", "tự kiểm tra: máy quét, token, mạng, đĩa, OCR",
     "self-test: scanner, token, network, disk, OCR", cmd_selftest, NULL},
    {"reboot", "", "khởi động lại trạm", "reboot the station", cmd_reboot, NULL},
    {"shutdown", "", "tắt trạm", "shut the station down", cmd_shutdown, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
