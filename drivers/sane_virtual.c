/* sane_virtual.c — "sohoa", a SANE 1.0 backend for a virtual ADF/duplex document scanner.
 *
 * It serves page files from a directory the way a sheet-fed scanner serves paper: an ADF
 * that runs empty (SANE_STATUS_NO_DOCS), a duplex mode, a `scan` button sensor and
 * simulated faults (jam, cover open, ...). Tests and the demo drive the station through
 * real libsane with it; the firmware does not link it. It is built as libsane-sohoa.so.1
 * and loaded by libsane's dll backend: put "sohoa" in SANE_CONFIG_DIR/dll.conf and the
 * directory holding the library in LD_LIBRARY_PATH (the dll backend tries every
 * LD_LIBRARY_PATH directory before its compiled-in one, checked with SANE_DEBUG_DLL=5).
 * Only the sane_sohoa_* entry points are exported.
 *
 * Configuration: sohoa.conf in the first SANE_CONFIG_DIR directory that has one (then
 * /etc/sane.d when the variable is unset or ends in ':'). Lines `key value`; '#' starts a
 * comment; a value with spaces goes in double quotes; relative paths are relative to the
 * file's directory. A `device` line starts a device, the lines after it configure it:
 *
 *   device NAME [MODEL]   e.g. device virtual0 "Sohoa Virtual ADF"
 *   pages DIR             the sheets: every regular, non-hidden file, in byte order of names
 *   duplex_backs DIR      backs for ADF Duplex under the fronts' names; a missing one is blank
 *   page_dpi N            resolution the page files were made at (default 300)
 *   fail_at N STATUS      sheet N fails as it starts: jammed | cover_open | io_error |
 *                         no_docs | busy | unplugged
 *   button_file PATH      the `scan` button reads 1 while PATH exists
 *   unknown_length yes    report lines = -1: the frontend reads each page until EOF
 *
 * The file is read again by sane_get_devices() and sane_open(), so a test can change a
 * device between sessions without restarting the frontend, and at the start of each
 * batch for the feeder's lines (pages, duplex_backs, fail_at), as paper is loaded into an
 * open scanner. A faulty file lists no device and says why on stderr.
 *
 * The feeder. A batch starts at the first sane_start() after sane_open(), after a source
 * change or after a batch ended; it lists the pages directory then (so files may change
 * between batches). Each sane_start() feeds the next sheet (ADF Duplex: its front, then
 * its back); after the last one it returns SANE_STATUS_NO_DOCS and the batch ends. Every
 * failure ends the batch too, so the next sane_start() reloads the feeder, as a clerk
 * would after clearing a jam. `unplugged` instead makes the device vanish: the handle
 * fails everything but sane_close() with SANE_STATUS_IO_ERROR, sane_get_devices() stops
 * listing it and sane_open() refuses it (SANE_STATUS_INVAL), until it is "plugged back"
 * by removing that fail_at line from the config (or by a new sane_init()). sane_cancel()
 * ejects the sheet being read (in duplex, its back too). Flatbed serves the first file
 * every time.
 *
 * Page files are untrusted: PNM only (P4, P5 and P6, maxval up to 65535), headers are
 * parsed with limits, sizes are checked against the file before any pixel is read, and
 * rows are streamed (memory stays at a few rows whatever the file claims). A page that is
 * not such a file fails its sane_start() with SANE_STATUS_IO_ERROR and a message.
 *
 * Messages go to stderr prefixed "sohoa: ": errors at SANE_DEBUG_SOHOA level 1 (the
 * default), the feeder's progress at 3; SANE_DEBUG_SOHOA=0 silences them.
 *
 * Global state: sane_init() and sane_get_devices() have no handle, so the published device
 * list, the names of unplugged devices and the list of open handles (closed by
 * sane_exit()) live in one static struct, `g`.
 * Everything else belongs to a handle.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sane/sane.h>
#include <sane/saneopts.h>

#define SV_EXPORT __attribute__((visibility("default")))
#define SV_BUILD 1
#define SV_CONF "sohoa.conf"
#define SV_DEFAULT_CONF_DIR "/etc/sane.d"
#define SV_MAX_SIDE 65535   /* largest page-file width or height accepted */
#define SV_MAX_HEADER 65536 /* PNM header bytes, comments included */
#define SV_MM_W 210         /* the scan area: A4 */
#define SV_MM_H 297
#define SV_WHITE 65535u

/* ---- configuration ---------------------------------------------------------------- */

typedef struct {
    char name[64];
    char model[128];
    char pages[PATH_MAX];
    char backs[PATH_MAX];  /* "" = every back is blank */
    char button[PATH_MAX]; /* "" = the scan button is never pressed */
    int page_dpi;
    int fail_sheet; /* 1-based sheet that fails as it starts; 0 = none */
    SANE_Status fail_status;
    bool fail_unplug;
    bool unknown_length;
} sv_config;

typedef struct sv_handle sv_handle;

static struct {
    int debug;
    bool inited;
    sv_config *devs; /* the published list, as last read */
    size_t n_devs;
    SANE_Device *items;
    const SANE_Device **list;
    sv_handle *handles; /* open handles, closed by sane_exit() */
    char (*gone)[64];   /* devices unplugged by `fail_at N unplugged` */
    size_t n_gone;
} g;

static const struct {
    const char *name;
    SANE_Status status;
} sv_faults[] = {
    {"jammed", SANE_STATUS_JAMMED},     {"cover_open", SANE_STATUS_COVER_OPEN},
    {"io_error", SANE_STATUS_IO_ERROR}, {"no_docs", SANE_STATUS_NO_DOCS},
    {"busy", SANE_STATUS_DEVICE_BUSY},  {"unplugged", SANE_STATUS_IO_ERROR},
};

/* Prints one "sohoa: ..." line on stderr when `level` is within SANE_DEBUG_SOHOA. */
__attribute__((format(printf, 2, 3))) static void sv_log(int level, const char *fmt, ...)
{
    if (level > g.debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("sohoa: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Splits `line` in place into tokens; double quotes group words (no escapes), '#' at the
 * start of a token ends the line. Returns the number of tokens (up to max + 1, meaning
 * "too many"), or -1 for a quote that is not closed or is glued to other text. */
static int sv_tokens(char *line, char **tok, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            return n;
        if (n > max)
            return n;
        char *start = p;
        if (*p == '"') {
            char *end = strchr(p + 1, '"');
            if (!end || (end[1] && !isspace((unsigned char)end[1])))
                return -1;
            *end = '\0';
            start = p + 1;
            p = end + 1;
        } else {
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (*p)
                *p++ = '\0';
        }
        if (n < max)
            tok[n] = start;
        n++;
    }
}

/* Parses a decimal integer in [lo, hi]; false when `s` is anything else. */
static bool sv_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* Resolves `val` against `dir` (the config file's directory) into dst[PATH_MAX]. */
static bool sv_path(char *dst, const char *dir, const char *val)
{
    int n = val[0] == '/' ? snprintf(dst, PATH_MAX, "%s", val)
                          : snprintf(dst, PATH_MAX, "%s/%s", dir, val);
    return val[0] && n > 0 && n < PATH_MAX;
}

/* Opens the first sohoa.conf on the SANE config path; its path goes to path[PATH_MAX].
 * NULL when there is none. */
static FILE *sv_config_open(char *path)
{
    const char *env = getenv("SANE_CONFIG_DIR");
    char dirs[8192];
    if (!env || !*env)
        snprintf(dirs, sizeof dirs, "%s", SV_DEFAULT_CONF_DIR);
    else if (env[strlen(env) - 1] == ':') /* SANE's rule: a trailing ':' adds the default */
        snprintf(dirs, sizeof dirs, "%s%s", env, SV_DEFAULT_CONF_DIR);
    else
        snprintf(dirs, sizeof dirs, "%s", env);
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        int n = snprintf(path, PATH_MAX, "%s/%s", d, SV_CONF);
        if (n <= 0 || n >= PATH_MAX)
            continue;
        FILE *f = fopen(path, "re");
        if (f)
            return f;
    }
    return NULL;
}

/* Applies one config line (already split) to the device list. Returns false, having
 * logged "FILE:LINE: what; what to do", when the line is wrong. */
static bool sv_config_line(sv_config **devs, size_t *n, char **tok, int nt, const char *file,
                           int line, const char *dir)
{
    const char *key = tok[0];
    if (!strcmp(key, "device")) {
        if (nt < 2 || nt > 3) {
            sv_log(1, "%s:%d: expected `device NAME [\"MODEL\"]`", file, line);
            return false;
        }
        size_t len = strlen(tok[1]);
        bool ok = len > 0 && len < sizeof((*devs)->name);
        for (size_t i = 0; ok && i < len; i++)
            ok = isalnum((unsigned char)tok[1][i]) || strchr("_.-", tok[1][i]);
        for (size_t i = 0; ok && i < *n; i++)
            ok = strcmp((*devs)[i].name, tok[1]) != 0;
        if (!ok) {
            sv_log(1,
                   "%s:%d: device name '%s' is empty, repeated or not made of letters, "
                   "digits, '_', '.', '-' (at most 63); rename it",
                   file, line, tok[1]);
            return false;
        }
        sv_config *d = realloc(*devs, (*n + 1) * sizeof **devs);
        if (!d) {
            sv_log(1, "%s:%d: out of memory", file, line);
            return false;
        }
        *devs = d;
        d += (*n)++;
        memset(d, 0, sizeof *d);
        memcpy(d->name, tok[1], len + 1);
        snprintf(d->model, sizeof d->model, "%s", nt == 3 ? tok[2] : "Virtual ADF");
        d->page_dpi = 300;
        return true;
    }
    if (*n == 0) {
        sv_log(1, "%s:%d: '%s' comes before any device; start with `device NAME`", file, line, key);
        return false;
    }
    sv_config *d = &(*devs)[*n - 1];
    bool ok;
    if (!strcmp(key, "pages"))
        ok = nt == 2 && sv_path(d->pages, dir, tok[1]);
    else if (!strcmp(key, "duplex_backs"))
        ok = nt == 2 && sv_path(d->backs, dir, tok[1]);
    else if (!strcmp(key, "button_file"))
        ok = nt == 2 && sv_path(d->button, dir, tok[1]);
    else if (!strcmp(key, "page_dpi"))
        ok = nt == 2 && sv_int(tok[1], 50, 4800, &d->page_dpi);
    else if (!strcmp(key, "unknown_length")) {
        ok = nt == 2 && (!strcmp(tok[1], "yes") || !strcmp(tok[1], "no"));
        d->unknown_length = ok && !strcmp(tok[1], "yes");
    } else if (!strcmp(key, "fail_at")) {
        ok = nt == 3 && sv_int(tok[1], 1, INT_MAX, &d->fail_sheet);
        size_t i = 0;
        while (ok && i < sizeof sv_faults / sizeof *sv_faults && strcmp(tok[2], sv_faults[i].name))
            i++;
        ok = ok && i < sizeof sv_faults / sizeof *sv_faults;
        if (ok) {
            d->fail_status = sv_faults[i].status;
            d->fail_unplug = !strcmp(tok[2], "unplugged");
        } else {
            sv_log(1,
                   "%s:%d: expected `fail_at SHEET STATUS`, SHEET from 1, STATUS one of "
                   "jammed, cover_open, io_error, no_docs, busy, unplugged",
                   file, line);
            return false;
        }
    } else {
        sv_log(1,
               "%s:%d: unknown key '%s'; known: device, pages, duplex_backs, page_dpi, "
               "fail_at, button_file, unknown_length",
               file, line, key);
        return false;
    }
    if (!ok)
        sv_log(1,
               "%s:%d: bad value for '%s' (pages/duplex_backs/button_file PATH, "
               "page_dpi 50..4800, unknown_length yes|no)",
               file, line, key);
    return ok;
}

/* Reads sohoa.conf into a new array. Returns 0 (no file: no devices) or -1 with the
 * reason logged; *devs is NULL unless devices were found. */
static int sv_config_read(sv_config **devs, size_t *n)
{
    char path[PATH_MAX];
    *devs = NULL;
    *n = 0;
    FILE *f = sv_config_open(path);
    if (!f) {
        sv_log(1, "no %s in SANE_CONFIG_DIR (%s); create one with a `device` line", SV_CONF,
               getenv("SANE_CONFIG_DIR") ? getenv("SANE_CONFIG_DIR") : "unset");
        return 0;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    bool ok = true;
    while (ok && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *tok[4];
        int nt = sv_tokens(line, tok, 3);
        if (nt == 0)
            continue;
        if (nt < 0 || nt > 3) {
            sv_log(1, "%s:%d: %s", path, lineno,
                   nt < 0 ? "unbalanced quote; quote a whole value: \"a b\""
                          : "too many values; quote a value that has spaces");
            ok = false;
        } else {
            ok = sv_config_line(devs, n, tok, nt, path, lineno, dir);
        }
    }
    if (ok && ferror(f)) {
        sv_log(1, "%s: %s", path, strerror(errno));
        ok = false;
    }
    for (size_t i = 0; ok && i < *n; i++) {
        if (!(*devs)[i].pages[0]) {
            sv_log(1, "%s: device '%s' has no `pages DIR`; add one", path, (*devs)[i].name);
            ok = false;
        }
    }
    free(line);
    fclose(f);
    if (!ok) {
        free(*devs);
        *devs = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* Index of `name` among the unplugged devices, or -1. */
static long sv_gone_index(const char *name)
{
    for (size_t i = 0; i < g.n_gone; i++)
        if (!strcmp(g.gone[i], name))
            return (long)i;
    return -1;
}

/* Records that device `name` was unplugged (false when out of memory). */
static bool sv_gone_add(const char *name)
{
    if (sv_gone_index(name) >= 0)
        return true;
    char(*n)[64] = realloc(g.gone, (g.n_gone + 1) * sizeof *g.gone);
    if (!n)
        return false;
    g.gone = n;
    snprintf(g.gone[g.n_gone++], sizeof *g.gone, "%s", name);
    return true;
}

/* Plugs back the unplugged devices whose config (just read: devs, n) no longer unplugs
 * them; then drops the ones still gone from devs. */
static void sv_gone_apply(sv_config *devs, size_t *n)
{
    for (size_t i = 0; i < g.n_gone;) {
        size_t k = 0;
        while (k < *n && strcmp(devs[k].name, g.gone[i]))
            k++;
        if (k == *n || !devs[k].fail_unplug)
            memmove(g.gone[i], g.gone[i + 1], (--g.n_gone - i) * sizeof *g.gone);
        else
            i++;
    }
    size_t kept = 0;
    for (size_t k = 0; k < *n; k++)
        if (sv_gone_index(devs[k].name) < 0)
            memmove(&devs[kept++], &devs[k], sizeof *devs);
    *n = kept;
}

/* Replaces the published device list with a fresh read of the config. */
static SANE_Status sv_publish(void)
{
    sv_config *devs;
    size_t n;
    /* An unreadable config lists nothing, but must not count as plugging devices back. */
    if (sv_config_read(&devs, &n) == 0)
        sv_gone_apply(devs, &n);
    SANE_Device *items = calloc(n + 1, sizeof *items);
    const SANE_Device **list = calloc(n + 1, sizeof *list);
    if (!items || !list) {
        free(items);
        free(list);
        free(devs);
        return SANE_STATUS_NO_MEM;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].name = devs[i].name;
        items[i].vendor = "Sohoa";
        items[i].model = devs[i].model;
        items[i].type = "sheetfed scanner";
        list[i] = &items[i];
    }
    free(g.devs);
    free(g.items);
    free(g.list);
    g.devs = devs;
    g.n_devs = n;
    g.items = items;
    g.list = list;
    return SANE_STATUS_GOOD;
}

/* ---- page files ---------------------------------------------------------------------- */

typedef struct {
    FILE *f;      /* NULL for a blank page */
    int w, h;     /* pixels */
    int channels; /* 1 or 3 */
    int kind;     /* 4, 5 or 6 (the PNM magic); 0 for a blank page */
    unsigned maxval;
    off_t data_off;
    size_t rowbytes;
    unsigned char *raw; /* one row as stored */
    uint16_t *row;      /* the same as 16-bit samples, 0 = black */
    long cached;        /* which row `row` holds; -1 none */
} sv_page;

typedef struct {
    FILE *f;
    long used;
} sv_hdr;

/* One header byte, or EOF once the header exceeds SV_MAX_HEADER bytes. */
static int sv_hdr_getc(sv_hdr *r)
{
    return r->used++ < SV_MAX_HEADER ? getc(r->f) : EOF;
}

/* Reads a header number in 1..max; -1 when malformed. Whitespace and '#' comments before
 * it are skipped. The last field (`last`) must end in exactly one whitespace byte, the
 * raster's start; others may also end in a comment, as netpbm allows. */
static long sv_hdr_number(sv_hdr *r, long max, bool last)
{
    int c;
    for (;;) {
        c = sv_hdr_getc(r);
        if (c == '#') {
            while ((c = sv_hdr_getc(r)) != EOF && c != '\n' && c != '\r')
                ;
        }
        if (c == EOF || !isspace(c))
            break;
    }
    if (c < '0' || c > '9')
        return -1;
    long v = 0;
    while (c >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        if (v > max)
            return -1;
        c = sv_hdr_getc(r);
    }
    if (c == '#' && !last) {
        while ((c = sv_hdr_getc(r)) != EOF && c != '\n' && c != '\r')
            ;
    }
    return c != EOF && isspace(c) && v >= 1 ? v : -1;
}

/* Frees what sv_page_open() allocated; the page becomes empty. */
static void sv_page_close(sv_page *pg)
{
    if (pg->f)
        fclose(pg->f);
    free(pg->raw);
    free(pg->row);
    memset(pg, 0, sizeof *pg);
    pg->cached = -1;
}

/* Opens the page file `path` and checks its header against the file. Returns
 * SANE_STATUS_GOOD, or SANE_STATUS_IO_ERROR (logged) when it is not a page we serve:
 * not a regular file, not PNM P4/P5/P6, sizes out of range, or shorter than its header
 * says; SANE_STATUS_NO_MEM when memory runs out. */
static SANE_Status sv_page_open(sv_page *pg, const char *path)
{
    sv_page_close(pg);
    /* O_NONBLOCK: a FIFO dropped among the pages must not hang the scanner. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        sv_log(1, "%s: %s; check the pages directory", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return SANE_STATUS_IO_ERROR;
    }
    if (!S_ISREG(st.st_mode) || !(pg->f = fdopen(fd, "rb"))) {
        sv_log(1, "%s: not a regular file; remove it from the pages directory", path);
        close(fd);
        return SANE_STATUS_IO_ERROR;
    }
    sv_hdr r = {pg->f, 0};
    int c0 = sv_hdr_getc(&r), c1 = sv_hdr_getc(&r);
    pg->kind = c0 == 'P' && c1 >= '4' && c1 <= '6' ? c1 - '0' : 0;
    long w = pg->kind ? sv_hdr_number(&r, SV_MAX_SIDE, false) : -1;
    long h = w > 0 ? sv_hdr_number(&r, SV_MAX_SIDE, pg->kind == 4) : -1;
    long maxval = pg->kind == 4 ? 1 : h > 0 ? sv_hdr_number(&r, 65535, true) : -1;
    if (!pg->kind || w < 0 || h < 0 || maxval < 0) {
        sv_log(1,
               "%s: not a PNM page (P4, P5 or P6, sides up to %d, maxval up to 65535); "
               "convert it, e.g. with pnmtopnm or leptonica",
               path, SV_MAX_SIDE);
        sv_page_close(pg);
        return SANE_STATUS_IO_ERROR;
    }
    pg->w = (int)w;
    pg->h = (int)h;
    pg->maxval = (unsigned)maxval;
    pg->channels = pg->kind == 6 ? 3 : 1;
    size_t bytes = maxval > 255 ? 2 : 1;
    pg->rowbytes = pg->kind == 4 ? ((size_t)w + 7) / 8 : (size_t)w * pg->channels * bytes;
    pg->data_off = ftello(pg->f);
    /* Both sides are at most 65535, so the product fits comfortably in 64 bits. */
    uint64_t need = (uint64_t)pg->rowbytes * (uint64_t)h;
    uint64_t have =
        pg->data_off >= 0 && st.st_size > pg->data_off ? (uint64_t)(st.st_size - pg->data_off) : 0;
    if (pg->data_off < 0 || have < need) {
        sv_log(1,
               "%s: truncated: its header says %ldx%ld (%llu data bytes) but it holds %llu; "
               "replace the page file",
               path, w, h, (unsigned long long)need, (unsigned long long)have);
        sv_page_close(pg);
        return SANE_STATUS_IO_ERROR;
    }
    pg->raw = malloc(pg->rowbytes);
    pg->row = malloc((size_t)w * pg->channels * sizeof *pg->row);
    if (!pg->raw || !pg->row) {
        sv_page_close(pg);
        return SANE_STATUS_NO_MEM;
    }
    pg->cached = -1;
    return SANE_STATUS_GOOD;
}

/* A page with no file: white, w × h. */
static void sv_page_blank(sv_page *pg, int w, int h)
{
    sv_page_close(pg);
    pg->w = w;
    pg->h = h;
    pg->channels = 1;
}

/* Points *out at row y as 16-bit samples, or at NULL where the page has no pixels (below
 * its end, or a blank page): the scanner's white background shows there. Returns -1 when
 * the file can no longer be read (changed under us). */
static int sv_page_row(sv_page *pg, long y, const uint16_t **out)
{
    *out = NULL;
    if (!pg->f || y >= pg->h)
        return 0;
    if (y != pg->cached) {
        if (y != pg->cached + 1 || pg->cached < 0) {
            if (fseeko(pg->f, pg->data_off + (off_t)y * (off_t)pg->rowbytes, SEEK_SET) < 0)
                return -1;
        }
        if (fread(pg->raw, 1, pg->rowbytes, pg->f) != pg->rowbytes)
            return -1;
        size_t n = (size_t)pg->w * pg->channels;
        const unsigned char *p = pg->raw;
        if (pg->kind == 4) {
            for (size_t x = 0; x < n; x++)
                pg->row[x] = p[x / 8] & (0x80 >> (x % 8)) ? 0 : SV_WHITE; /* PBM: 1 = black */
        } else {
            const unsigned m = pg->maxval;
            for (size_t i = 0; i < n; i++) {
                unsigned v = m > 255 ? (unsigned)p[2 * i] << 8 | p[2 * i + 1] : p[i];
                if (v > m) /* out of range in a damaged file: clip, do not trust */
                    v = m;
                pg->row[i] = m == 65535 ? v : m == 255 ? v * 257 : v * 65535u / m;
            }
        }
        pg->cached = y;
    }
    *out = pg->row;
    return 0;
}

/* ---- options ------------------------------------------------------------------------- */

enum {
    OPT_NUM,
    OPT_GROUP_STD,
    OPT_SOURCE,
    OPT_MODE,
    OPT_RESOLUTION,
    OPT_DEPTH,
    OPT_GROUP_GEOM,
    OPT_TL_X,
    OPT_TL_Y,
    OPT_BR_X,
    OPT_BR_Y,
    OPT_GROUP_SENSORS,
    OPT_SCAN,
    OPT_EMAIL,
    OPT_COPY,
    NUM_OPTS
};

enum { SRC_FLATBED, SRC_ADF, SRC_DUPLEX };
enum { MODE_COLOR, MODE_GRAY, MODE_LINEART };

static const SANE_String_Const sv_sources[] = {"Flatbed", "ADF", "ADF Duplex", NULL};
static const SANE_String_Const sv_modes[] = {SANE_VALUE_SCAN_MODE_COLOR, SANE_VALUE_SCAN_MODE_GRAY,
                                             SANE_VALUE_SCAN_MODE_LINEART, NULL};
static const SANE_Word sv_resolutions[] = {4, 150, 200, 300, 600};
static const SANE_Word sv_depths[] = {2, 8, 16};
static const SANE_Range sv_x_range = {0, SANE_FIX(SV_MM_W), 0};
static const SANE_Range sv_y_range = {0, SANE_FIX(SV_MM_H), 0};

/* ---- handles ------------------------------------------------------------------------- */

typedef enum { SV_IDLE, SV_READING, SV_DONE, SV_CANCELLED } sv_state;

typedef struct {
    sv_page page;
    SANE_Parameters params;
    int mode, lines, res, dpi;
    long off_x, off_y; /* the scan window's origin in page pixels */
    int *xs;           /* per output column: first and end page column */
    uint64_t *acc;     /* per output sample: sum of page samples */
    unsigned char *line;
    size_t line_len, line_pos;
    int line_no;
    bool duplex_front; /* cancelling it ejects the whole sheet, so its back goes too */
} sv_frame;

struct sv_handle {
    sv_handle *next;
    sv_config cfg;
    SANE_Option_Descriptor opt[NUM_OPTS];
    SANE_Word val[NUM_OPTS]; /* word-sized option values; strings are indexes */
    char **names;            /* the batch: page file names, sorted */
    size_t n_names, next_frame;
    bool in_batch;
    int front_w, front_h; /* the last front served: a blank back has its size */
    sv_state state;
    bool unplugged;
    sv_frame fr;
};

/* Fills the option descriptors and defaults: ADF, Color, 300 dpi, 8 bits, all of A4. */
static void sv_options_init(sv_handle *h)
{
    SANE_Option_Descriptor *o = h->opt;
    memset(o, 0, sizeof h->opt);
    o[OPT_NUM] = (SANE_Option_Descriptor){
        SANE_NAME_NUM_OPTIONS, SANE_TITLE_NUM_OPTIONS, SANE_DESC_NUM_OPTIONS,
        SANE_TYPE_INT,         SANE_UNIT_NONE,         sizeof(SANE_Word),
        SANE_CAP_SOFT_DETECT,  SANE_CONSTRAINT_NONE,   {NULL}};
    o[OPT_GROUP_STD] = (SANE_Option_Descriptor){.name = SANE_NAME_STANDARD,
                                                .title = SANE_TITLE_STANDARD,
                                                .desc = SANE_DESC_STANDARD,
                                                .type = SANE_TYPE_GROUP,
                                                .constraint_type = SANE_CONSTRAINT_NONE};
    const SANE_Int sel = SANE_CAP_SOFT_SELECT | SANE_CAP_SOFT_DETECT;
    o[OPT_SOURCE] = (SANE_Option_Descriptor){SANE_NAME_SCAN_SOURCE,
                                             SANE_TITLE_SCAN_SOURCE,
                                             SANE_DESC_SCAN_SOURCE,
                                             SANE_TYPE_STRING,
                                             SANE_UNIT_NONE,
                                             sizeof "ADF Duplex",
                                             sel,
                                             SANE_CONSTRAINT_STRING_LIST,
                                             {.string_list = sv_sources}};
    o[OPT_MODE] = (SANE_Option_Descriptor){SANE_NAME_SCAN_MODE,
                                           SANE_TITLE_SCAN_MODE,
                                           SANE_DESC_SCAN_MODE,
                                           SANE_TYPE_STRING,
                                           SANE_UNIT_NONE,
                                           sizeof "Lineart",
                                           sel,
                                           SANE_CONSTRAINT_STRING_LIST,
                                           {.string_list = sv_modes}};
    o[OPT_RESOLUTION] = (SANE_Option_Descriptor){SANE_NAME_SCAN_RESOLUTION,
                                                 SANE_TITLE_SCAN_RESOLUTION,
                                                 SANE_DESC_SCAN_RESOLUTION,
                                                 SANE_TYPE_INT,
                                                 SANE_UNIT_DPI,
                                                 sizeof(SANE_Word),
                                                 sel,
                                                 SANE_CONSTRAINT_WORD_LIST,
                                                 {.word_list = sv_resolutions}};
    o[OPT_DEPTH] = (SANE_Option_Descriptor){SANE_NAME_BIT_DEPTH,
                                            SANE_TITLE_BIT_DEPTH,
                                            SANE_DESC_BIT_DEPTH,
                                            SANE_TYPE_INT,
                                            SANE_UNIT_BIT,
                                            sizeof(SANE_Word),
                                            sel,
                                            SANE_CONSTRAINT_WORD_LIST,
                                            {.word_list = sv_depths}};
    o[OPT_GROUP_GEOM] = o[OPT_GROUP_STD];
    o[OPT_GROUP_GEOM].name = SANE_NAME_GEOMETRY;
    o[OPT_GROUP_GEOM].title = SANE_TITLE_GEOMETRY;
    o[OPT_GROUP_GEOM].desc = SANE_DESC_GEOMETRY;
    static const struct {
        int idx;
        const char *name, *title, *desc;
        const SANE_Range *range;
    } geom[] = {
        {OPT_TL_X, SANE_NAME_SCAN_TL_X, SANE_TITLE_SCAN_TL_X, SANE_DESC_SCAN_TL_X, &sv_x_range},
        {OPT_TL_Y, SANE_NAME_SCAN_TL_Y, SANE_TITLE_SCAN_TL_Y, SANE_DESC_SCAN_TL_Y, &sv_y_range},
        {OPT_BR_X, SANE_NAME_SCAN_BR_X, SANE_TITLE_SCAN_BR_X, SANE_DESC_SCAN_BR_X, &sv_x_range},
        {OPT_BR_Y, SANE_NAME_SCAN_BR_Y, SANE_TITLE_SCAN_BR_Y, SANE_DESC_SCAN_BR_Y, &sv_y_range},
    };
    for (size_t i = 0; i < sizeof geom / sizeof *geom; i++)
        o[geom[i].idx] = (SANE_Option_Descriptor){geom[i].name,
                                                  geom[i].title,
                                                  geom[i].desc,
                                                  SANE_TYPE_FIXED,
                                                  SANE_UNIT_MM,
                                                  sizeof(SANE_Word),
                                                  sel,
                                                  SANE_CONSTRAINT_RANGE,
                                                  {.range = geom[i].range}};
    o[OPT_GROUP_SENSORS] = o[OPT_GROUP_STD];
    o[OPT_GROUP_SENSORS].name = SANE_NAME_SENSORS;
    o[OPT_GROUP_SENSORS].title = SANE_TITLE_SENSORS;
    o[OPT_GROUP_SENSORS].desc = SANE_DESC_SENSORS;
    static const struct {
        int idx;
        const char *name, *title, *desc;
    } buttons[] = {
        {OPT_SCAN, SANE_NAME_SCAN, SANE_TITLE_SCAN, SANE_DESC_SCAN},
        {OPT_EMAIL, SANE_NAME_EMAIL, SANE_TITLE_EMAIL, SANE_DESC_EMAIL},
        {OPT_COPY, SANE_NAME_COPY, SANE_TITLE_COPY, SANE_DESC_COPY},
    };
    /* Hardware buttons: read-only sensors the frontend polls (no SOFT_SELECT). */
    for (size_t i = 0; i < sizeof buttons / sizeof *buttons; i++)
        o[buttons[i].idx] = (SANE_Option_Descriptor){buttons[i].name,
                                                     buttons[i].title,
                                                     buttons[i].desc,
                                                     SANE_TYPE_BOOL,
                                                     SANE_UNIT_NONE,
                                                     sizeof(SANE_Word),
                                                     SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT,
                                                     SANE_CONSTRAINT_NONE,
                                                     {NULL}};
    h->val[OPT_NUM] = NUM_OPTS;
    h->val[OPT_SOURCE] = SRC_ADF;
    h->val[OPT_MODE] = MODE_COLOR;
    h->val[OPT_RESOLUTION] = 300;
    h->val[OPT_DEPTH] = 8;
    h->val[OPT_TL_X] = 0;
    h->val[OPT_TL_Y] = 0;
    h->val[OPT_BR_X] = SANE_FIX(SV_MM_W);
    h->val[OPT_BR_Y] = SANE_FIX(SV_MM_H);
}

/* Rounds a non-negative millimetre-derived length to whole pixels (no libm needed). */
static long sv_round(double v)
{
    return (long)(v + 0.5);
}

/* The scan window in output pixels (w × wh) and its origin in page pixels at `dpi`,
 * from the options; corners given the wrong way round are swapped. */
static void sv_window(const sv_handle *h, int dpi, int *w, int *wh, long *off_x, long *off_y)
{
    double x0 = SANE_UNFIX(h->val[OPT_TL_X]), x1 = SANE_UNFIX(h->val[OPT_BR_X]);
    double y0 = SANE_UNFIX(h->val[OPT_TL_Y]), y1 = SANE_UNFIX(h->val[OPT_BR_Y]);
    if (x1 < x0) {
        double t = x0;
        x0 = x1;
        x1 = t;
    }
    if (y1 < y0) {
        double t = y0;
        y0 = y1;
        y1 = t;
    }
    const int res = h->val[OPT_RESOLUTION];
    *w = (int)sv_round((x1 - x0) * res / 25.4);
    *wh = (int)sv_round((y1 - y0) * res / 25.4);
    if (*w < 1)
        *w = 1;
    if (*wh < 1)
        *wh = 1;
    *off_x = sv_round(x0 * dpi / 25.4);
    *off_y = sv_round(y0 * dpi / 25.4);
}

/* Fills `p` for `w` pixels × `lines` in the handle's mode and depth. */
static void sv_params(const sv_handle *h, int w, int lines, SANE_Parameters *p)
{
    const int mode = h->val[OPT_MODE];
    const int depth = mode == MODE_LINEART ? 1 : h->val[OPT_DEPTH];
    p->format = mode == MODE_COLOR ? SANE_FRAME_RGB : SANE_FRAME_GRAY;
    p->last_frame = SANE_TRUE;
    p->depth = depth;
    p->pixels_per_line = w;
    p->lines = lines;
    p->bytes_per_line = depth == 1 ? (w + 7) / 8 : w * (mode == MODE_COLOR ? 3 : 1) * (depth / 8);
}

/* Frees the frame's buffers and page; the parameters stay for sane_get_parameters(). */
static void sv_frame_close(sv_frame *fr)
{
    sv_page_close(&fr->page);
    free(fr->xs);
    free(fr->acc);
    free(fr->line);
    fr->xs = NULL;
    fr->acc = NULL;
    fr->line = NULL;
    fr->line_len = fr->line_pos = 0;
}

/* True when every byte of the frame has been handed out (an EOF read may not have come). */
static bool sv_frame_complete(const sv_frame *fr)
{
    return fr->line_no == fr->lines && fr->line_pos == fr->line_len;
}

/* Sets up the frame for the page already opened in fr->page (a file, or blank). */
static SANE_Status sv_frame_setup(sv_handle *h)
{
    sv_frame *fr = &h->fr;
    int w, wh;
    fr->res = h->val[OPT_RESOLUTION];
    fr->dpi = h->cfg.page_dpi;
    fr->mode = h->val[OPT_MODE];
    sv_window(h, fr->dpi, &w, &wh, &fr->off_x, &fr->off_y);
    fr->lines = wh;
    if (h->cfg.unknown_length) {
        /* Page-length detection: the image ends where the paper ends (at least one line).
         * Output line y starts at page row off_y + y*dpi/res. */
        long avail = fr->page.h - fr->off_y;
        long n = avail > 0 ? (avail * fr->res + fr->dpi - 1) / fr->dpi : 1;
        fr->lines = (int)(n < wh ? n : wh);
    }
    sv_params(h, w, h->cfg.unknown_length ? -1 : fr->lines, &fr->params);
    const int ch = fr->page.channels;
    fr->xs = malloc(2 * (size_t)w * sizeof *fr->xs);
    fr->acc = malloc((size_t)w * ch * sizeof *fr->acc);
    fr->line = malloc((size_t)fr->params.bytes_per_line);
    if (!fr->xs || !fr->acc || !fr->line)
        return SANE_STATUS_NO_MEM;
    /* Box filter when shrinking, nearest when enlarging: output column x covers page
     * columns [off + x*dpi/res, off + (x+1)*dpi/res), at least one. Integer arithmetic
     * keeps the same-resolution case an exact copy. */
    for (long x = 0; x < w; x++) {
        long a = fr->off_x + x * fr->dpi / fr->res, b = fr->off_x + (x + 1) * fr->dpi / fr->res;
        fr->xs[2 * x] = (int)a;
        fr->xs[2 * x + 1] = (int)(b > a ? b : a + 1);
    }
    fr->line_no = 0;
    fr->line_len = fr->line_pos = 0;
    return SANE_STATUS_GOOD;
}

/* Computes the next output line into fr->line; -1 when the page file cannot be read. */
static int sv_frame_line(sv_frame *fr)
{
    const int w = fr->params.pixels_per_line, ch = fr->page.channels;
    const long oy = fr->line_no;
    long y0 = fr->off_y + oy * fr->dpi / fr->res, y1 = fr->off_y + (oy + 1) * fr->dpi / fr->res;
    if (y1 <= y0)
        y1 = y0 + 1;
    memset(fr->acc, 0, (size_t)w * ch * sizeof *fr->acc);
    for (long y = y0; y < y1; y++) {
        const uint16_t *row;
        if (sv_page_row(&fr->page, y, &row) < 0)
            return -1;
        for (int x = 0; x < w; x++) {
            uint64_t *a = fr->acc + (size_t)x * ch;
            for (int sx = fr->xs[2 * x]; sx < fr->xs[2 * x + 1]; sx++) {
                for (int c = 0; c < ch; c++)
                    a[c] += row && sx < fr->page.w ? row[(size_t)sx * ch + c] : SV_WHITE;
            }
        }
    }
    const int depth = fr->params.depth;
    memset(fr->line, 0, (size_t)fr->params.bytes_per_line);
    for (int x = 0; x < w; x++) {
        const uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(fr->xs[2 * x + 1] - fr->xs[2 * x]);
        const uint64_t *a = fr->acc + (size_t)x * ch;
        unsigned v[3];
        for (int c = 0; c < ch; c++)
            v[c] = (unsigned)((a[c] + n / 2) / n);
        if (ch == 1)
            v[1] = v[2] = v[0];
        unsigned out[3] = {v[0], v[1], v[2]};
        int nout = 3;
        if (fr->mode != MODE_COLOR) {
            out[0] = ch == 1 ? v[0] : (v[0] * 299u + v[1] * 587u + v[2] * 114u + 500u) / 1000u;
            nout = 1;
        }
        if (depth == 1) {
            if (out[0] >> 8 < 128) /* SANE lineart: a set bit is black */
                fr->line[x / 8] |= (unsigned char)(0x80 >> (x % 8));
        } else if (depth == 8) {
            for (int c = 0; c < nout; c++)
                fr->line[(size_t)x * nout + c] = (unsigned char)(out[c] >> 8);
        } else {
            for (int c = 0; c < nout; c++) {
                uint16_t s = (uint16_t)out[c]; /* SANE: 16-bit samples in host byte order */
                memcpy(fr->line + ((size_t)x * nout + c) * 2, &s, 2);
            }
        }
    }
    fr->line_len = (size_t)fr->params.bytes_per_line;
    fr->line_pos = 0;
    fr->line_no++;
    return 0;
}

/* Ends the batch: the feeder is reloaded (directory listed again) at the next start. */
static void sv_batch_end(sv_handle *h)
{
    for (size_t i = 0; i < h->n_names; i++)
        free(h->names[i]);
    free(h->names);
    h->names = NULL;
    h->n_names = h->next_frame = 0;
    h->in_batch = false;
}

/* qsort comparator: byte order of names, independent of the locale. */
static int sv_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loading the feeder: the device's lines are read again, as a clerk puts
 * new paper in (and a test a new fault) without reopening the device. The
 * handle keeps its name and options; a device gone from the file keeps
 * the configuration it was opened with. */
static void sv_feeder_reload(sv_handle *h)
{
    sv_config *devs;
    size_t n;
    if (sv_config_read(&devs, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(devs[i].name, h->cfg.name) != 0)
            continue;
        memcpy(h->cfg.pages, devs[i].pages, sizeof h->cfg.pages);
        memcpy(h->cfg.backs, devs[i].backs, sizeof h->cfg.backs);
        h->cfg.fail_sheet = devs[i].fail_sheet;
        h->cfg.fail_status = devs[i].fail_status;
        h->cfg.fail_unplug = devs[i].fail_unplug;
    }
    free(devs);
}

/* Lists the pages directory: regular, non-hidden files, sorted. */
static SANE_Status sv_batch_load(sv_handle *h)
{
    sv_batch_end(h);
    sv_feeder_reload(h);
    DIR *d = opendir(h->cfg.pages);
    if (!d) {
        sv_log(1, "%s: %s; check `pages` in %s", h->cfg.pages, strerror(errno), SV_CONF);
        return SANE_STATUS_IO_ERROR;
    }
    size_t cap = 0;
    SANE_Status st = SANE_STATUS_GOOD;
    for (struct dirent *e; st == SANE_STATUS_GOOD && (e = readdir(d));) {
        struct stat sb;
        if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &sb, 0) < 0 || !S_ISREG(sb.st_mode))
            continue;
        if (h->n_names == cap) {
            cap = cap ? cap * 2 : 16;
            char **n = realloc(h->names, cap * sizeof *n);
            if (!n) {
                st = SANE_STATUS_NO_MEM;
                break;
            }
            h->names = n;
        }
        if (!(h->names[h->n_names] = strdup(e->d_name)))
            st = SANE_STATUS_NO_MEM;
        else
            h->n_names++;
    }
    closedir(d);
    if (st != SANE_STATUS_GOOD) {
        sv_batch_end(h);
        return st;
    }
    if (h->n_names)
        qsort(h->names, h->n_names, sizeof *h->names, sv_name_cmp);
    h->in_batch = true;
    sv_log(3, "%s: feeder loaded with %zu sheet(s)", h->cfg.name, h->n_names);
    return SANE_STATUS_GOOD;
}

/* Feeds the next side: see "The feeder" at the top of this file. */
static SANE_Status sv_start(sv_handle *h)
{
    sv_frame *fr = &h->fr;
    if (h->state == SV_READING && !sv_frame_complete(fr) && fr->duplex_front)
        h->next_frame++; /* a new start mid-page ejects that sheet, back included */
    sv_frame_close(fr);
    h->state = SV_IDLE;
    const int source = h->val[OPT_SOURCE];
    if (!h->in_batch) {
        SANE_Status st = sv_batch_load(h);
        if (st != SANE_STATUS_GOOD)
            return st;
    }
    const bool duplex = source == SRC_DUPLEX;
    const size_t frame = h->next_frame;
    const size_t sheet = duplex ? frame / 2 : frame;
    const bool back = duplex && frame % 2;
    if (sheet >= h->n_names) {
        sv_log(3, "%s: feeder empty after %zu sheet(s)", h->cfg.name, h->n_names);
        sv_batch_end(h);
        return SANE_STATUS_NO_DOCS;
    }
    if (!back && (size_t)h->cfg.fail_sheet == sheet + 1) {
        sv_log(3, "%s: simulated fault (SANE status %d%s) at sheet %zu", h->cfg.name,
               (int)h->cfg.fail_status, h->cfg.fail_unplug ? ", unplugged" : "", sheet + 1);
        sv_batch_end(h);
        if (h->cfg.fail_unplug) {
            h->unplugged = true;
            if (!sv_gone_add(h->cfg.name))
                return SANE_STATUS_NO_MEM;
        }
        return h->cfg.fail_status;
    }
    h->next_frame++;
    char path[2 * PATH_MAX];
    const char *name = h->names[sheet];
    SANE_Status st;
    if (!back) {
        snprintf(path, sizeof path, "%s/%s", h->cfg.pages, name);
        st = sv_page_open(&fr->page, path);
        h->front_w = fr->page.w;
        h->front_h = fr->page.h;
    } else {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", h->cfg.backs, name);
        if (!h->cfg.backs[0] || (stat(path, &sb) < 0 && errno == ENOENT)) {
            sv_page_blank(&fr->page, h->front_w, h->front_h);
            st = SANE_STATUS_GOOD;
        } else {
            st = sv_page_open(&fr->page, path);
        }
    }
    if (st == SANE_STATUS_GOOD)
        st = sv_frame_setup(h);
    if (st != SANE_STATUS_GOOD) {
        sv_frame_close(fr);
        sv_batch_end(h);
        return st;
    }
    fr->duplex_front = duplex && !back;
    if (source == SRC_FLATBED)
        sv_batch_end(h); /* the glass is looked at afresh every time */
    sv_log(3, "%s: serving %s of %s", h->cfg.name, back ? "back" : "front", name);
    h->state = SV_READING;
    return SANE_STATUS_GOOD;
}

/* Sets option n from `val` (checked against its constraint; the value actually used is
 * written back with SANE_INFO_INEXACT when it differs). */
static SANE_Status sv_set(sv_handle *h, SANE_Int n, void *val, SANE_Int *info)
{
    const SANE_Option_Descriptor *o = &h->opt[n];
    SANE_Word w = 0;
    if (o->type == SANE_TYPE_STRING) {
        const SANE_String_Const *list = o->constraint.string_list;
        int i = 0;
        while (list[i] && strcasecmp(list[i], (const char *)val))
            i++;
        if (!list[i])
            return SANE_STATUS_INVAL;
        if (strcmp(list[i], (const char *)val)) {
            strcpy((char *)val, list[i]); /* same length: a case-insensitive match */
            *info |= SANE_INFO_INEXACT;
        }
        w = i;
    } else {
        w = *(const SANE_Word *)val;
        SANE_Word v = w;
        if (o->constraint_type == SANE_CONSTRAINT_WORD_LIST) {
            const SANE_Word *list = o->constraint.word_list;
            for (int i = 1; i <= list[0]; i++) {
                if (i == 1 || labs((long)list[i] - w) < labs((long)v - w))
                    v = list[i];
            }
        } else if (o->constraint_type == SANE_CONSTRAINT_RANGE) {
            v = w < o->constraint.range->min   ? o->constraint.range->min
                : w > o->constraint.range->max ? o->constraint.range->max
                                               : w;
        }
        if (v != w) {
            *(SANE_Word *)val = v;
            *info |= SANE_INFO_INEXACT;
        }
        w = v;
    }
    if (h->val[n] == w)
        return SANE_STATUS_GOOD;
    h->val[n] = w;
    *info |= SANE_INFO_RELOAD_PARAMS;
    if (n == OPT_SOURCE)
        sv_batch_end(h);
    if (n == OPT_MODE) {
        /* Lineart is 1 bit: depth only means something for Color and Gray. */
        if (w == MODE_LINEART)
            h->opt[OPT_DEPTH].cap |= SANE_CAP_INACTIVE;
        else
            h->opt[OPT_DEPTH].cap &= ~SANE_CAP_INACTIVE;
        *info |= SANE_INFO_RELOAD_OPTIONS;
    }
    return SANE_STATUS_GOOD;
}

/* ---- the SANE entry points ----------------------------------------------------------- */

SV_EXPORT SANE_Status sane_sohoa_init(SANE_Int *version_code, SANE_Auth_Callback authorize);
SV_EXPORT void sane_sohoa_exit(void);
SV_EXPORT SANE_Status sane_sohoa_get_devices(const SANE_Device ***device_list,
                                             SANE_Bool local_only);
SV_EXPORT SANE_Status sane_sohoa_open(SANE_String_Const name, SANE_Handle *handle);
SV_EXPORT void sane_sohoa_close(SANE_Handle handle);
SV_EXPORT const SANE_Option_Descriptor *sane_sohoa_get_option_descriptor(SANE_Handle handle,
                                                                         SANE_Int option);
SV_EXPORT SANE_Status sane_sohoa_control_option(SANE_Handle handle, SANE_Int option,
                                                SANE_Action action, void *value, SANE_Int *info);
SV_EXPORT SANE_Status sane_sohoa_get_parameters(SANE_Handle handle, SANE_Parameters *params);
SV_EXPORT SANE_Status sane_sohoa_start(SANE_Handle handle);
SV_EXPORT SANE_Status sane_sohoa_read(SANE_Handle handle, SANE_Byte *data, SANE_Int max_length,
                                      SANE_Int *length);
SV_EXPORT void sane_sohoa_cancel(SANE_Handle handle);
SV_EXPORT SANE_Status sane_sohoa_set_io_mode(SANE_Handle handle, SANE_Bool non_blocking);
SV_EXPORT SANE_Status sane_sohoa_get_select_fd(SANE_Handle handle, SANE_Int *fd);

/* Reads SANE_DEBUG_SOHOA and the config; never fails for a bad config (the device list is
 * then empty), so fixing the file is enough: sane_get_devices() reads it again. */
SANE_Status sane_sohoa_init(SANE_Int *version_code, SANE_Auth_Callback authorize)
{
    const char *dbg = getenv("SANE_DEBUG_SOHOA");
    if (!dbg || !sv_int(dbg, 0, 255, &g.debug))
        g.debug = 1;
    if (version_code)
        *version_code = SANE_VERSION_CODE(SANE_CURRENT_MAJOR, SANE_CURRENT_MINOR, SV_BUILD);
    g.inited = true;
    return sv_publish();
}

/* Closes every handle still open and frees the device list. */
void sane_sohoa_exit(void)
{
    while (g.handles)
        sane_sohoa_close(g.handles);
    free(g.devs);
    free(g.items);
    free(g.list);
    free(g.gone);
    memset(&g, 0, sizeof g);
}

/* Reads the config again and returns its devices (valid until the next call or exit). */
SANE_Status sane_sohoa_get_devices(const SANE_Device ***device_list, SANE_Bool local_only)
{
    if (!g.inited || !device_list)
        return SANE_STATUS_INVAL;
    SANE_Status st = sv_publish();
    if (st == SANE_STATUS_GOOD)
        *device_list = g.list;
    return st;
}

/* Opens device `name` ("" = the first one) with the config as it is now. */
SANE_Status sane_sohoa_open(SANE_String_Const name, SANE_Handle *handle)
{
    if (!g.inited || !name || !handle)
        return SANE_STATUS_INVAL;
    /* A private read: the list sane_get_devices() published must stay valid. */
    sv_config *devs;
    size_t n;
    if (sv_config_read(&devs, &n) == 0)
        sv_gone_apply(devs, &n);
    size_t i = 0;
    while (i < n && name[0] && strcmp(devs[i].name, name))
        i++;
    if (i == n) {
        if (sv_gone_index(name) >= 0)
            sv_log(1,
                   "device '%s' is unplugged (simulated); remove its `fail_at N unplugged` "
                   "line from %s to plug it back",
                   name, SV_CONF);
        else
            sv_log(1, "no device '%s' in %s; check its `device` lines", name, SV_CONF);
        free(devs);
        return SANE_STATUS_INVAL;
    }
    sv_handle *h = calloc(1, sizeof *h);
    if (!h) {
        free(devs);
        return SANE_STATUS_NO_MEM;
    }
    h->cfg = devs[i];
    free(devs);
    h->fr.page.cached = -1;
    sv_options_init(h);
    h->next = g.handles;
    g.handles = h;
    *handle = h;
    return SANE_STATUS_GOOD;
}

/* Ends any scan, unlinks and frees the handle. */
void sane_sohoa_close(SANE_Handle handle)
{
    sv_handle *h = handle;
    if (!h)
        return;
    for (sv_handle **p = &g.handles; *p; p = &(*p)->next) {
        if (*p == h) {
            *p = h->next;
            break;
        }
    }
    sv_frame_close(&h->fr);
    sv_batch_end(h);
    free(h);
}

/* The descriptor of `option`, NULL past the last one. */
const SANE_Option_Descriptor *sane_sohoa_get_option_descriptor(SANE_Handle handle, SANE_Int option)
{
    sv_handle *h = handle;
    return h && option >= 0 && option < NUM_OPTS ? &h->opt[option] : NULL;
}

/* Gets or sets an option; buttons are read-only, nothing is settable while a page is read. */
SANE_Status sane_sohoa_control_option(SANE_Handle handle, SANE_Int option, SANE_Action action,
                                      void *value, SANE_Int *info)
{
    sv_handle *h = handle;
    SANE_Int dummy = 0;
    if (!info)
        info = &dummy;
    *info = 0;
    if (!h || option < 0 || option >= NUM_OPTS || !value)
        return SANE_STATUS_INVAL;
    const SANE_Option_Descriptor *o = &h->opt[option];
    if (o->type == SANE_TYPE_GROUP || !SANE_OPTION_IS_ACTIVE(o->cap))
        return SANE_STATUS_INVAL;
    if (action == SANE_ACTION_GET_VALUE) {
        switch (option) {
        case OPT_SOURCE:
            strcpy(value, sv_sources[h->val[option]]);
            break;
        case OPT_MODE:
            strcpy(value, sv_modes[h->val[option]]);
            break;
        case OPT_SCAN:
            if (h->unplugged)
                return SANE_STATUS_IO_ERROR;
            *(SANE_Word *)value = h->cfg.button[0] && access(h->cfg.button, F_OK) == 0;
            break;
        case OPT_EMAIL:
        case OPT_COPY:
            *(SANE_Word *)value = SANE_FALSE;
            break;
        default:
            *(SANE_Word *)value = h->val[option];
        }
        return SANE_STATUS_GOOD;
    }
    if (action != SANE_ACTION_SET_VALUE || !SANE_OPTION_IS_SETTABLE(o->cap))
        return SANE_STATUS_INVAL;
    if (h->state == SV_READING && !sv_frame_complete(&h->fr))
        return SANE_STATUS_DEVICE_BUSY;
    return sv_set(h, option, value, info);
}

/* The current frame's parameters once started; before that, the best guess from the
 * options (lines = -1 with unknown_length). */
SANE_Status sane_sohoa_get_parameters(SANE_Handle handle, SANE_Parameters *params)
{
    sv_handle *h = handle;
    if (!h || !params)
        return SANE_STATUS_INVAL;
    if (h->state == SV_READING || h->state == SV_DONE) {
        *params = h->fr.params;
        return SANE_STATUS_GOOD;
    }
    int w, wh;
    long ox, oy;
    sv_window(h, h->cfg.page_dpi, &w, &wh, &ox, &oy);
    sv_params(h, w, h->cfg.unknown_length ? -1 : wh, params);
    return SANE_STATUS_GOOD;
}

/* Feeds the next side; see sv_start(). */
SANE_Status sane_sohoa_start(SANE_Handle handle)
{
    sv_handle *h = handle;
    if (!h)
        return SANE_STATUS_INVAL;
    if (h->unplugged)
        return SANE_STATUS_IO_ERROR;
    return sv_start(h);
}

/* Copies up to max_length bytes of the frame; SANE_STATUS_EOF (length 0) at its end. */
SANE_Status sane_sohoa_read(SANE_Handle handle, SANE_Byte *data, SANE_Int max_length,
                            SANE_Int *length)
{
    sv_handle *h = handle;
    if (length)
        *length = 0;
    if (!h || !data || !length || max_length < 0)
        return SANE_STATUS_INVAL;
    if (h->unplugged)
        return SANE_STATUS_IO_ERROR;
    if (h->state == SV_IDLE)
        return SANE_STATUS_INVAL;
    if (h->state == SV_CANCELLED)
        return SANE_STATUS_CANCELLED;
    if (h->state == SV_DONE)
        return SANE_STATUS_EOF;
    sv_frame *fr = &h->fr;
    SANE_Int n = 0;
    while (n < max_length) {
        if (fr->line_pos == fr->line_len) {
            if (fr->line_no == fr->lines)
                break;
            if (sv_frame_line(fr) < 0) {
                sv_log(1,
                       "%s: page file changed or became unreadable while scanning; "
                       "leave the pages directory alone during a batch",
                       h->cfg.name);
                sv_frame_close(fr);
                sv_batch_end(h);
                h->state = SV_IDLE;
                return SANE_STATUS_IO_ERROR;
            }
        }
        size_t k = fr->line_len - fr->line_pos;
        if (k > (size_t)(max_length - n))
            k = (size_t)(max_length - n);
        memcpy(data + n, fr->line + fr->line_pos, k);
        fr->line_pos += k;
        n += (SANE_Int)k;
    }
    if (n == 0) {
        sv_frame_close(fr);
        h->state = SV_DONE;
        return SANE_STATUS_EOF;
    }
    *length = n;
    return SANE_STATUS_GOOD;
}

/* Stops the page being read; the sheet is ejected (in duplex with its back). */
void sane_sohoa_cancel(SANE_Handle handle)
{
    sv_handle *h = handle;
    if (!h)
        return;
    if (h->state == SV_READING) {
        bool whole = sv_frame_complete(&h->fr);
        if (!whole && h->fr.duplex_front)
            h->next_frame++;
        sv_frame_close(&h->fr);
        h->state = whole ? SV_IDLE : SV_CANCELLED;
    } else if (h->state == SV_DONE) {
        h->state = SV_IDLE;
    }
}

/* Blocking I/O only. */
SANE_Status sane_sohoa_set_io_mode(SANE_Handle handle, SANE_Bool non_blocking)
{
    if (!handle)
        return SANE_STATUS_INVAL;
    return non_blocking ? SANE_STATUS_UNSUPPORTED : SANE_STATUS_GOOD;
}

/* No file descriptor to select on: reads never block for long. */
SANE_Status sane_sohoa_get_select_fd(SANE_Handle handle, SANE_Int *fd)
{
    return SANE_STATUS_UNSUPPORTED;
}
