/* scanner.c — SANE acquisition (see scanner.h). */
#include "scanner.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <leptonica/allheaders.h>
#include <math.h>
#include <pthread.h>
#include <sane/sane.h>
#include <sane/saneopts.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../firmware/fsutil.h"
#include "../firmware/log.h"

#define A4_WIDTH_MM 210.0
#define A4_HEIGHT_MM 297.0
/* One sane_read() asks for this much: large enough that a 300 dpi colour
 * line arrives in one call, small enough that `cancel` is seen quickly. */
#define READ_CHUNK (64 * 1024)
/* Bounds on one page: a hand scanner with no known length, or a backend
 * gone wrong, must not exhaust the appliance's memory. A4 at 600 dpi in
 * colour is 105 MB; 2 m of paper at 300 dpi in gray still fits. */
#define PAGE_MAX_BYTES ((size_t)512 << 20)
#define PAGE_MAX_ROWS 100000
#define PAGE_MAX_WIDTH 100000
/* A lamp warms up in seconds; longer means the device is stuck. */
#define WARMUP_WAIT_MS 60000
/* SANE 1.1 headers keep these under #if 0, yet backends return them. */
#ifndef SANE_STATUS_WARMING_UP
#define SANE_STATUS_WARMING_UP ((SANE_Status)12)
#endif

struct scanner {
    SANE_Handle h;
    char *name; /* as opened (the device chosen when none was configured) */
    char *type; /* device type from the device list, looked up when needed */
    int dpi;    /* resolution in effect */
};

/* ---- statuses -------------------------------------------------------- */

const char *scan_status_text(scan_status s)
{
    switch (s) {
    case SCAN_OK:
        return "đã quét xong (scan complete)";
    case SCAN_NO_PAPER:
        return "khay nạp giấy trống: đặt giấy vào rồi quét lại (no paper in the feeder)";
    case SCAN_JAMMED:
        return "kẹt giấy: gỡ giấy kẹt rồi quét lại (paper jam)";
    case SCAN_COVER_OPEN:
        return "nắp máy quét đang mở: đóng nắp rồi quét lại (cover open)";
    case SCAN_BUSY:
        return "máy quét đang bận: chờ một lát rồi quét lại (scanner busy)";
    case SCAN_IO_ERROR:
        return "máy quét báo lỗi: kiểm tra cáp và nguồn rồi quét lại (scanner I/O error)";
    case SCAN_UNPLUGGED:
        return "mất kết nối máy quét: cắm lại cáp rồi quét lại (scanner disconnected)";
    case SCAN_CANCELLED:
        return "đã hủy quét (scan cancelled)";
    }
    return "lỗi máy quét không rõ (unknown scanner status)";
}

const char *scan_status_advice(scan_status s)
{
    switch (s) {
    case SCAN_OK:
        return "the scan is complete";
    case SCAN_NO_PAPER:
        return "there is no paper in the feeder: load the pages and scan again";
    case SCAN_JAMMED:
        return "the scanner reports a paper jam: clear it and scan again";
    case SCAN_COVER_OPEN:
        return "the scanner cover is open: close it and scan again";
    case SCAN_BUSY:
        return "the scanner is busy (in use by another program, or not ready): wait a moment "
               "and scan again";
    case SCAN_IO_ERROR:
        return "the scanner reports an I/O error: check its cable and power, then scan again";
    case SCAN_UNPLUGGED:
        return "the scanner was disconnected during the scan: reconnect it and scan again";
    case SCAN_CANCELLED:
        return "the scan was cancelled: scan again when ready";
    }
    return "the scanner reports an unknown status: scan again";
}

/* ---- options without a device ---------------------------------------- */

static const char *const source_names[] = {"auto", "adf", "adf-duplex", "flatbed"};
static const char *const mode_names[] = {"color", "gray", "lineart"};

static int in_list(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v, list[i]) == 0)
            return 1;
    return 0;
}

static int check_resolution(long dpi, const char *what, sohoa_err *err)
{
    if (dpi != 0 && dpi < SCANNER_MIN_DPI)
        return err_set(err, SOHOA_EINPUT,
                       "%s %ld dpi is below the %d dpi that Nghị định 30/2020 requires for "
                       "digitized documents: use %d or more",
                       what, dpi, SCANNER_MIN_DPI, SCANNER_MIN_DPI);
    if (dpi > SCANNER_MAX_DPI)
        return err_set(err, SOHOA_EINPUT,
                       "%s %ld dpi: one A4 page would not fit in the station's memory; use %d to "
                       "%d",
                       what, dpi, SCANNER_MIN_DPI, SCANNER_MAX_DPI);
    return 0;
}

int scanner_options_check(const scanner_options *o, sohoa_err *err)
{
    if (o->source && *o->source && !in_list(o->source, source_names, 4))
        return err_set(err, SOHOA_EINPUT,
                       "scanner source \"%s\": expected auto, adf, adf-duplex or flatbed",
                       o->source);
    if (o->mode && *o->mode && !in_list(o->mode, mode_names, 3))
        return err_set(err, SOHOA_EINPUT, "scanner mode \"%s\": expected color, gray or lineart",
                       o->mode);
    if (check_resolution(o->resolution, "scanner resolution", err) != 0)
        return -1;
    for (size_t i = 0; i < o->nextra; i++) {
        const char *eq = strchr(o->extra[i], '=');
        if (!eq || eq == o->extra[i])
            return err_set(err, SOHOA_EINPUT,
                           "scanner option \"%s\": expected NAME=VALUE (see 'scanimage --help "
                           "-d DEVICE' for the names)",
                           o->extra[i]);
    }
    return 0;
}

static char *dup_trimmed(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return strndup(p, n);
}

int scanner_options_add(scanner_options *o, const char *name_value, sohoa_err *err)
{
    const char *eq = strchr(name_value, '=');
    char *name = eq ? dup_trimmed(name_value, (size_t)(eq - name_value)) : NULL;
    int bad = !eq || (name && !*name);
    if (bad) {
        free(name);
        return err_set(err, SOHOA_EINPUT,
                       "scanner option \"%s\": expected NAME=VALUE (see 'scanimage --help -d "
                       "DEVICE' for the names)",
                       name_value);
    }
    char *value = dup_trimmed(eq + 1, strlen(eq + 1));
    char *item = NULL;
    char **grown = NULL;
    if (name && value && asprintf(&item, "%s=%s", name, value) >= 0)
        grown = realloc(o->extra, (o->nextra + 1) * sizeof *o->extra);
    free(name);
    free(value);
    if (!grown) {
        free(item);
        return err_set(err, SOHOA_EWORK, "scanner options: out of memory");
    }
    o->extra = grown;
    o->extra[o->nextra++] = item;
    return 0;
}

void scanner_options_free(scanner_options *o)
{
    if (!o)
        return;
    free(o->device);
    free(o->source);
    free(o->mode);
    for (size_t i = 0; i < o->nextra; i++)
        free(o->extra[i]);
    free(o->extra);
    memset(o, 0, sizeof *o);
}

/* A copy of a non-empty value, NULL for an empty or absent one. */
static int dup_value(const char *v, char **out)
{
    *out = NULL;
    if (!v || !*v)
        return 0;
    *out = strdup(v);
    return *out ? 0 : -1;
}

int scanner_options_load(const config *cfg, scanner_options *o, sohoa_err *err)
{
    memset(o, 0, sizeof *o);
    const char *where = cfg && cfg->path ? cfg->path : "config";
    const char *source = config_get(cfg, "scanner", "source", NULL);
    const char *mode = config_get(cfg, "scanner", "mode", NULL);
    if (source && *source && !in_list(source, source_names, 4))
        return err_set(err, SOHOA_EINPUT,
                       "%s: [scanner] source = \"%s\": expected auto, adf, adf-duplex or flatbed",
                       where, source);
    if (mode && *mode && !in_list(mode, mode_names, 3))
        return err_set(err, SOHOA_EINPUT,
                       "%s: [scanner] mode = \"%s\": expected color, gray or lineart", where, mode);
    long dpi;
    if (config_get_int(cfg, "scanner", "resolution", SCANNER_DEFAULT_DPI, 1, 100000, &dpi, err) !=
        0)
        return -1;
    char what[300];
    snprintf(what, sizeof what, "%s: [scanner] resolution =", where);
    if (check_resolution(dpi, what, err) != 0)
        return -1;
    o->resolution = (int)dpi;
    if (dup_value(config_get(cfg, "scanner", "device", NULL), &o->device) != 0 ||
        dup_value(source, &o->source) != 0 || dup_value(mode, &o->mode) != 0) {
        scanner_options_free(o);
        return err_set(err, SOHOA_EWORK, "scanner options: out of memory");
    }
    /* options = NAME=VALUE, NAME=VALUE: values cannot hold a comma, which
     * no SANE option of a document scanner needs. */
    const char *list = config_get(cfg, "scanner", "options", "");
    while (*list) {
        size_t n = strcspn(list, ",");
        char *item = dup_trimmed(list, n);
        if (!item) {
            scanner_options_free(o);
            return err_set(err, SOHOA_EWORK, "scanner options: out of memory");
        }
        if (*item) {
            sohoa_err e = {0};
            if (scanner_options_add(o, item, &e) != 0) {
                err_set(err, e.status, "%s: [scanner] options: %s", where, e.msg);
                free(item);
                scanner_options_free(o);
                return -1;
            }
        }
        free(item);
        list += n + (list[n] == ',');
    }
    return 0;
}

/* ---- SANE, once per process ------------------------------------------ */

/* SANE's thread helper (sanei_thread, built with pthreads on Debian)
 * switches each backend reader thread to asynchronous cancellation, and
 * backends cancel that thread at the end of every page and on
 * sane_cancel(). A thread cancelled asynchronously inside malloc() or the
 * dynamic linker dies holding their lock, and the next allocation or
 * pthread_create() in the station waits forever: a wedged scan after a
 * cancel, a jam, or simply the end of a page (seen with the `test`
 * backend, about one run in a hundred, one in six under ASan). Nothing in
 * this program needs asynchronous cancellation, so the firmware defines
 * pthread_setcanceltype() itself (exported: see LDFLAGS in the Makefile)
 * and turns a request for it into deferred cancellation: the reader still
 * ends, at its next read(), write() or poll(), with every lock released. */
int pthread_setcanceltype(int type, int *oldtype)
{
    /* looked up once; reader threads of two scanners may race to it */
    static int (*next)(int, int *);
    int (*f)(int, int *) = __atomic_load_n(&next, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (int (*)(int, int *))dlsym(RTLD_NEXT, "pthread_setcanceltype");
        if (!f)
            return ENOSYS;
        __atomic_store_n(&next, f, __ATOMIC_RELEASE);
    }
    if (type == PTHREAD_CANCEL_ASYNCHRONOUS)
        type = PTHREAD_CANCEL_DEFERRED;
    return f(type, oldtype);
}

/* sane_init() and sane_exit() act on the whole process (every backend
 * keeps global state), so the count of users is process-wide too. */
static pthread_mutex_t sane_lock = PTHREAD_MUTEX_INITIALIZER;
static int sane_users;

int scanner_init(sohoa_err *err)
{
    pthread_mutex_lock(&sane_lock);
    int rc = 0;
    if (sane_users == 0) {
        SANE_Int version = 0;
        SANE_Status st = sane_init(&version, NULL);
        if (st != SANE_STATUS_GOOD)
            rc = err_set(err, SOHOA_EWORK, "SANE: cannot initialise (%s): is libsane installed?",
                         sane_strstatus(st));
        else
            log_debug("SANE %d.%d.%d", SANE_VERSION_MAJOR(version), SANE_VERSION_MINOR(version),
                      SANE_VERSION_BUILD(version));
    }
    if (rc == 0)
        sane_users++;
    pthread_mutex_unlock(&sane_lock);
    return rc;
}

void scanner_exit(void)
{
    pthread_mutex_lock(&sane_lock);
    if (sane_users > 0 && --sane_users == 0)
        sane_exit();
    pthread_mutex_unlock(&sane_lock);
}

static int sane_ready(void)
{
    pthread_mutex_lock(&sane_lock);
    int ok = sane_users > 0;
    pthread_mutex_unlock(&sane_lock);
    return ok;
}

/* ---- devices ---------------------------------------------------------- */

static int has(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

/* How much a device looks like a document scanner: sheet-fed first, then
 * other scanners and multi-function devices, then anything unknown; never
 * a camera or a film scanner. */
static int device_rank(const SANE_Device *d)
{
    const char *t = d->type;
    if (has(t, "camera") || has(t, "video") || has(t, "film") || has(t, "slide") ||
        has(t, "webcam"))
        return 0;
    if (has(t, "sheetfed") || has(t, "sheet-fed") || has(t, "document") || has(t, "adf"))
        return 3;
    if (has(t, "scanner") || has(t, "multi-function") || has(t, "all-in-one"))
        return 2;
    return 1;
}

/* "test:0, pnm:0" for messages ("none" when empty). */
static void device_names(const SANE_Device **list, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; list && list[i] && used + 1 < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", list[i]->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "none");
}

int scanner_list(char ***names, char ***descriptions, size_t *n, sohoa_err *err)
{
    *names = *descriptions = NULL;
    *n = 0;
    if (!sane_ready())
        return err_set(err, SOHOA_EWORK, "scanner: SANE is not initialised (scanner_init)");
    const SANE_Device **list = NULL;
    SANE_Status st = sane_get_devices(&list, SANE_FALSE);
    if (st != SANE_STATUS_GOOD)
        return err_set(err, SOHOA_EWORK, "SANE: cannot list the devices (%s)", sane_strstatus(st));
    size_t count = 0;
    while (list && list[count])
        count++;
    char **nm = calloc(count + 1, sizeof *nm), **ds = calloc(count + 1, sizeof *ds);
    int oom = !nm || !ds;
    for (size_t i = 0; i < count && !oom; i++) {
        const SANE_Device *d = list[i];
        nm[i] = strdup(d->name);
        if (asprintf(&ds[i], "%s %s (%s)", d->vendor ? d->vendor : "?", d->model ? d->model : "?",
                     d->type ? d->type : "?") < 0)
            ds[i] = NULL;
        oom = !nm[i] || !ds[i];
    }
    if (oom) {
        scanner_list_free(nm, ds, count);
        return err_set(err, SOHOA_EWORK, "scanner list: out of memory");
    }
    *names = nm;
    *descriptions = ds;
    *n = count;
    return 0;
}

void scanner_list_free(char **names, char **descriptions, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (names)
            free(names[i]);
        if (descriptions)
            free(descriptions[i]);
    }
    free(names);
    free(descriptions);
}

/* Whether `name` is still among the devices (after an I/O error: an
 * unplugged USB scanner leaves the list). When SANE cannot tell, it is
 * taken as present. */
static int device_present(const char *name)
{
    const SANE_Device **list = NULL;
    if (!strchr(name, ':') || sane_get_devices(&list, SANE_FALSE) != SANE_STATUS_GOOD)
        return 1;
    for (size_t i = 0; list && list[i]; i++)
        if (list[i]->name && strcmp(list[i]->name, name) == 0)
            return 1;
    return 0;
}

/* ---- device options --------------------------------------------------- */

static int option_count(const scanner *s)
{
    SANE_Int n = 0;
    if (sane_control_option(s->h, 0, SANE_ACTION_GET_VALUE, &n, NULL) != SANE_STATUS_GOOD)
        return 0;
    return n;
}

/* Index of option `name` (its descriptor in *d), or -1. Descriptors can
 * change after any set (SANE_INFO_RELOAD_OPTIONS): look them up again
 * rather than keeping them. */
static int find_option(const scanner *s, const char *name, const SANE_Option_Descriptor **d)
{
    int n = option_count(s);
    for (int i = 1; i < n; i++) {
        const SANE_Option_Descriptor *o = sane_get_option_descriptor(s->h, i);
        if (o && o->name && o->type != SANE_TYPE_GROUP && strcasecmp(o->name, name) == 0) {
            *d = o;
            return i;
        }
    }
    return -1;
}

static int settable(const SANE_Option_Descriptor *d)
{
    return SANE_OPTION_IS_ACTIVE(d->cap) && SANE_OPTION_IS_SETTABLE(d->cap);
}

static int is_number(const SANE_Option_Descriptor *d)
{
    return (d->type == SANE_TYPE_INT || d->type == SANE_TYPE_FIXED) &&
           d->size == (SANE_Int)sizeof(SANE_Word);
}

static double word_value(const SANE_Option_Descriptor *d, SANE_Word w)
{
    return d->type == SANE_TYPE_FIXED ? SANE_UNFIX(w) : (double)w;
}

static SANE_Word to_word(const SANE_Option_Descriptor *d, double v)
{
    return d->type == SANE_TYPE_FIXED ? SANE_FIX(v) : (SANE_Word)lround(v);
}

/* The value the constraint allows nearest to `want`: the smallest allowed
 * value >= want when `up`, else the largest <= want; clamped to the
 * constraint's ends when nothing lies on that side. */
static double fit_number(const SANE_Option_Descriptor *d, double want, int up)
{
    if (d->constraint_type == SANE_CONSTRAINT_RANGE && d->constraint.range) {
        const SANE_Range *r = d->constraint.range;
        double min = word_value(d, r->min), max = word_value(d, r->max);
        double q = word_value(d, r->quant), v = want < min ? min : want > max ? max : want;
        if (q > 0) {
            double steps = (v - min) / q;
            steps = up ? ceil(steps - 1e-9) : floor(steps + 1e-9);
            v = min + steps * q;
            if (v > max + 1e-9)
                v -= q;
        }
        return v;
    }
    if (d->constraint_type == SANE_CONSTRAINT_WORD_LIST && d->constraint.word_list &&
        d->constraint.word_list[0] > 0) {
        const SANE_Word *wl = d->constraint.word_list;
        double best = 0, extreme = 0;
        int found = 0;
        for (SANE_Word i = 1; i <= wl[0]; i++) {
            double v = word_value(d, wl[i]);
            if (i == 1 || (up ? v > extreme : v < extreme))
                extreme = v;
            if ((up ? v >= want : v <= want) && (!found || (up ? v < best : v > best))) {
                best = v;
                found = 1;
            }
        }
        return found ? best : extreme;
    }
    return want;
}

static int allows_number(const SANE_Option_Descriptor *d, double v)
{
    return fabs(fit_number(d, v, 1) - v) < 1e-6;
}

static int get_number(const scanner *s, const char *name, double *out)
{
    const SANE_Option_Descriptor *d;
    int i = find_option(s, name, &d);
    SANE_Word w;
    if (i < 0 || !SANE_OPTION_IS_ACTIVE(d->cap) || !is_number(d) ||
        sane_control_option(s->h, i, SANE_ACTION_GET_VALUE, &w, NULL) != SANE_STATUS_GOOD)
        return -1;
    *out = word_value(d, w);
    return 0;
}

static int set_number(scanner *s, int i, const SANE_Option_Descriptor *d, double v, sohoa_err *err)
{
    SANE_Word w = to_word(d, v);
    char name[64];
    snprintf(name, sizeof name, "%s", d->name); /* d may be reloaded by the call */
    SANE_Status st = sane_control_option(s->h, i, SANE_ACTION_SET_VALUE, &w, NULL);
    if (st != SANE_STATUS_GOOD)
        return err_set(err, SOHOA_EWORK, "scanner %s: cannot set %s to %g (%s)", s->name, name, v,
                       sane_strstatus(st));
    return 0;
}

static int set_string(scanner *s, int i, const SANE_Option_Descriptor *d, const char *v,
                      sohoa_err *err)
{
    size_t size = d->size > 0 ? (size_t)d->size : 1;
    char name[64];
    snprintf(name, sizeof name, "%s", d->name);
    if (strlen(v) >= size)
        return err_set(err, SOHOA_EINPUT,
                       "scanner %s: option \"%s\": \"%s\" is too long (%zu "
                       "bytes at most)",
                       s->name, name, v, size - 1);
    char *buf = calloc(1, size);
    if (!buf)
        return err_set(err, SOHOA_EWORK, "scanner %s: out of memory", s->name);
    memcpy(buf, v, strlen(v));
    SANE_Status st = sane_control_option(s->h, i, SANE_ACTION_SET_VALUE, buf, NULL);
    free(buf);
    if (st != SANE_STATUS_GOOD)
        return err_set(err, SOHOA_EWORK, "scanner %s: cannot set %s to \"%s\" (%s)", s->name, name,
                       v, sane_strstatus(st));
    return 0;
}

/* Current value of a string option (malloc'ed), or NULL. */
static char *get_string(const scanner *s, const char *name)
{
    const SANE_Option_Descriptor *d;
    int i = find_option(s, name, &d);
    if (i < 0 || d->type != SANE_TYPE_STRING || !SANE_OPTION_IS_ACTIVE(d->cap) || d->size <= 0)
        return NULL;
    char *buf = calloc(1, (size_t)d->size + 1);
    if (buf && sane_control_option(s->h, i, SANE_ACTION_GET_VALUE, buf, NULL) != SANE_STATUS_GOOD) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* "Flatbed|Automatic Document Feeder" for messages. */
static void string_choices(const SANE_Option_Descriptor *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (d->constraint_type != SANE_CONSTRAINT_STRING_LIST || !d->constraint.string_list)
        return;
    for (const SANE_String_Const *p = d->constraint.string_list; *p && used + 1 < len; p++) {
        int n =
            snprintf(buf + used, len - used, "%s%s", p == d->constraint.string_list ? "" : "|", *p);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* ---- source, mode, resolution, area ----------------------------------- */

static int is_duplex(const char *v)
{
    return has(v, "duplex");
}

static int is_feeder(const char *v)
{
    return has(v, "adf") || has(v, "feeder") || has(v, "automatic document");
}

static int is_flatbed(const char *v)
{
    return has(v, "flatbed") || has(v, "platen") || has(v, "document table");
}

/* The backend's name for a source kind, NULL if it offers none. A
 * simplex feeder prefers the front ("ADF Front" over "ADF Back"). */
static const char *pick_source(const SANE_Option_Descriptor *d, const char *kind)
{
    const SANE_String_Const *list = d->constraint.string_list;
    for (int pass = 0; pass < 2; pass++)
        for (const SANE_String_Const *p = list; p && *p; p++) {
            int ok = strcasecmp(kind, "adf-duplex") == 0 ? is_duplex(*p)
                     : strcasecmp(kind, "adf") == 0
                         ? is_feeder(*p) && !is_duplex(*p) && (pass || !has(*p, "back"))
                         : is_flatbed(*p);
            if (ok)
                return *p;
        }
    return NULL;
}

static int setup_source(scanner *s, const char *want, sohoa_err *err)
{
    const SANE_Option_Descriptor *d;
    int i = find_option(s, SANE_NAME_SCAN_SOURCE, &d);
    int automatic = !want || !*want || strcasecmp(want, "auto") == 0;
    if (i < 0 || !settable(d) || d->type != SANE_TYPE_STRING ||
        d->constraint_type != SANE_CONSTRAINT_STRING_LIST) {
        if (automatic)
            return 0; /* one source: nothing to choose */
        return err_set(err, SOHOA_EINPUT,
                       "scanner %s offers no choice of source: set source = auto", s->name);
    }
    const char *pick = NULL;
    if (automatic) {
        static const char *const order[] = {"adf-duplex", "adf", "flatbed"};
        for (size_t k = 0; k < 3 && !pick; k++)
            pick = pick_source(d, order[k]);
        if (!pick)
            return 0; /* names we do not know: keep the backend's default */
    } else if (!(pick = pick_source(d, want))) {
        char choices[300];
        string_choices(d, choices, sizeof choices);
        return err_set(err, SOHOA_EINPUT,
                       "scanner %s has no %s source (it offers %s): choose another source", s->name,
                       want, choices);
    }
    return set_string(s, i, d, pick, err);
}

static int mode_is(const char *kind, const char *v)
{
    if (strcmp(kind, "color") == 0)
        return (has(v, "color") || has(v, "colour")) && !has(v, "lineart") && !has(v, "halftone");
    if (strcmp(kind, "gray") == 0)
        return (has(v, "gray") || has(v, "grey")) && !has(v, "halftone");
    return (has(v, "lineart") || has(v, "binary") || has(v, "black")) && !has(v, "color");
}

static const char *pick_mode(const SANE_Option_Descriptor *d, const char *kind)
{
    /* The standard names first ("Color" rather than "Color Lineart"). */
    static const char *const exact[] = {SANE_VALUE_SCAN_MODE_COLOR, SANE_VALUE_SCAN_MODE_GRAY,
                                        SANE_VALUE_SCAN_MODE_LINEART};
    const char *std = exact[strcmp(kind, "color") == 0 ? 0 : strcmp(kind, "gray") == 0 ? 1 : 2];
    const SANE_String_Const *list = d->constraint.string_list;
    for (const SANE_String_Const *p = list; p && *p; p++)
        if (strcasecmp(*p, std) == 0)
            return *p;
    for (const SANE_String_Const *p = list; p && *p; p++)
        if (mode_is(kind, *p))
            return *p;
    return NULL;
}

/* Sets the bit depth when the backend lets us choose it. */
static int setup_depth(scanner *s, int depth, int required, sohoa_err *err)
{
    const SANE_Option_Descriptor *d;
    int i = find_option(s, SANE_NAME_BIT_DEPTH, &d);
    if (i < 0 || !settable(d) || !is_number(d) || !allows_number(d, depth)) {
        if (required)
            return err_set(err, SOHOA_EINPUT,
                           "scanner %s has no lineart mode: choose mode = gray or color", s->name);
        return 0;
    }
    return set_number(s, i, d, depth, err);
}

static int setup_mode(scanner *s, const char *want, sohoa_err *err)
{
    const char *kind = want && *want ? want : "color";
    char lower[16];
    snprintf(lower, sizeof lower, "%s", kind);
    for (char *p = lower; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    const SANE_Option_Descriptor *d;
    int i = find_option(s, SANE_NAME_SCAN_MODE, &d);
    if (i < 0 || !settable(d) || d->type != SANE_TYPE_STRING ||
        d->constraint_type != SANE_CONSTRAINT_STRING_LIST) {
        if (strcmp(lower, "color") == 0)
            return 0; /* e.g. a colour-only device */
        return err_set(err, SOHOA_EINPUT, "scanner %s offers no choice of mode: set mode = color",
                       s->name);
    }
    const char *pick = pick_mode(d, lower);
    /* Backends without a lineart mode (the SANE test backend, some
     * sheet-feds) give 1-bit gray through the depth option instead. */
    int lineart_by_depth = !pick && strcmp(lower, "lineart") == 0;
    if (lineart_by_depth)
        pick = pick_mode(d, "gray");
    if (!pick) {
        char choices[300];
        string_choices(d, choices, sizeof choices);
        return err_set(err, SOHOA_EINPUT, "scanner %s has no %s mode (it offers %s)", s->name,
                       lower, choices);
    }
    if (set_string(s, i, d, pick, err) != 0)
        return -1;
    if (lineart_by_depth)
        return setup_depth(s, 1, 1, err);
    if (strcmp(lower, "lineart") == 0)
        return 0;
    /* 8 bits per sample: what the pages are stored in; 16 would only
     * double the transfer. */
    return setup_depth(s, 8, 0, err);
}

static int setup_resolution(scanner *s, int want, sohoa_err *err)
{
    const SANE_Option_Descriptor *d;
    int i = find_option(s, SANE_NAME_SCAN_RESOLUTION, &d);
    if (i < 0 || !settable(d) || !is_number(d)) {
        log_info("scanner %s: no resolution option; assuming %d dpi", s->name, want);
        s->dpi = want;
        return 0;
    }
    double v = fit_number(d, want, 1);
    if (v < SCANNER_MIN_DPI)
        return err_set(err, SOHOA_EWORK,
                       "scanner %s cannot scan at %d dpi or more (at most %g dpi): digitized "
                       "documents need %d dpi; use another scanner",
                       s->name, SCANNER_MIN_DPI, v, SCANNER_MIN_DPI);
    if (set_number(s, i, d, v, err) != 0)
        return -1;
    double got = v;
    get_number(s, SANE_NAME_SCAN_RESOLUTION, &got);
    s->dpi = (int)lround(got);
    if (s->dpi != want)
        log_info("scanner %s: %d dpi asked, %d dpi is what the device offers", s->name, want,
                 s->dpi);
    return 0;
}

/* Sets a length option in millimetres to the allowed value nearest
 * `mm` (below it when !up). Lengths in pixels or of other types are left
 * alone: the backend's default area is then used. */
static int setup_length(scanner *s, const char *name, double mm, int up, sohoa_err *err)
{
    const SANE_Option_Descriptor *d;
    int i = find_option(s, name, &d);
    if (i < 0 || !settable(d) || !is_number(d) || d->unit != SANE_UNIT_MM)
        return 0;
    return set_number(s, i, d, fit_number(d, mm, up), err);
}

/* A4, or as much of it as the backend allows. page-width/height come first:
 * sheet-fed backends bound br-x/br-y by them. */
static int setup_area(scanner *s, sohoa_err *err)
{
    if (setup_length(s, SANE_NAME_PAGE_WIDTH, A4_WIDTH_MM, 0, err) != 0 ||
        setup_length(s, SANE_NAME_PAGE_HEIGHT, A4_HEIGHT_MM, 0, err) != 0 ||
        setup_length(s, SANE_NAME_SCAN_TL_X, 0, 1, err) != 0 ||
        setup_length(s, SANE_NAME_SCAN_TL_Y, 0, 1, err) != 0 ||
        setup_length(s, SANE_NAME_SCAN_BR_X, A4_WIDTH_MM, 0, err) != 0 ||
        setup_length(s, SANE_NAME_SCAN_BR_Y, A4_HEIGHT_MM, 0, err) != 0)
        return -1;
    return 0;
}

static int parse_bool(const char *v, SANE_Word *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
                                                                                "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = SANE_TRUE;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = SANE_FALSE;
            return 0;
        }
    }
    return -1;
}

static void number_choices(const SANE_Option_Descriptor *d, char *buf, size_t len)
{
    buf[0] = '\0';
    if (d->constraint_type == SANE_CONSTRAINT_RANGE && d->constraint.range) {
        snprintf(buf, len, "%g to %g", word_value(d, d->constraint.range->min),
                 word_value(d, d->constraint.range->max));
    } else if (d->constraint_type == SANE_CONSTRAINT_WORD_LIST && d->constraint.word_list) {
        size_t used = 0;
        for (SANE_Word i = 1; i <= d->constraint.word_list[0] && used + 1 < len; i++) {
            int n = snprintf(buf + used, len - used, "%s%g", i > 1 ? "|" : "",
                             word_value(d, d->constraint.word_list[i]));
            if (n < 0)
                break;
            used += (size_t)n;
        }
    } else {
        snprintf(buf, len, "a %s", d->type == SANE_TYPE_FIXED ? "number" : "whole number");
    }
}

/* Applies one "NAME=VALUE" as the user wrote it. */
static int apply_option(scanner *s, const char *name_value, sohoa_err *err)
{
    const char *eq = strchr(name_value, '=');
    if (!eq || eq == name_value)
        return err_set(err, SOHOA_EINPUT, "scanner option \"%s\": expected NAME=VALUE", name_value);
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(eq - name_value), name_value);
    const char *value = eq + 1;
    const SANE_Option_Descriptor *d;
    int i = find_option(s, name, &d);
    if (i < 0)
        return err_set(err, SOHOA_EINPUT,
                       "scanner option \"%s\": the device %s has no such option (see 'scanimage "
                       "--help -d %s')",
                       name, s->name, s->name);
    if (!SANE_OPTION_IS_ACTIVE(d->cap))
        return err_set(err, SOHOA_EINPUT,
                       "scanner option \"%s\" is inactive on %s (it depends on another option, "
                       "e.g. mode or source: set that one first)",
                       name, s->name);
    if (!SANE_OPTION_IS_SETTABLE(d->cap))
        return err_set(err, SOHOA_EINPUT, "scanner option \"%s\" of %s is read-only", name,
                       s->name);
    char choices[300];
    SANE_Status st;
    switch (d->type) {
    case SANE_TYPE_BOOL: {
        SANE_Word w;
        if (parse_bool(value, &w) != 0)
            return err_set(err, SOHOA_EINPUT, "scanner option \"%s=%s\": expected yes or no", name,
                           value);
        st = sane_control_option(s->h, i, SANE_ACTION_SET_VALUE, &w, NULL);
        break;
    }
    case SANE_TYPE_INT:
    case SANE_TYPE_FIXED: {
        if (d->size != (SANE_Int)sizeof(SANE_Word))
            return err_set(err, SOHOA_EINPUT,
                           "scanner option \"%s\" is a list of values: not supported here", name);
        char *end = NULL;
        errno = 0;
        double v = d->type == SANE_TYPE_INT ? (double)strtol(value, &end, 10) : strtod(value, &end);
        number_choices(d, choices, sizeof choices);
        if (!*value || *end || errno || !isfinite(v))
            return err_set(err, SOHOA_EINPUT, "scanner option \"%s=%s\": expected %s", name, value,
                           choices);
        SANE_Word w = to_word(d, v);
        st = sane_control_option(s->h, i, SANE_ACTION_SET_VALUE, &w, NULL);
        break;
    }
    case SANE_TYPE_STRING: {
        /* The backend's own spelling for a case-insensitive match. */
        const char *canon = value;
        if (d->constraint_type == SANE_CONSTRAINT_STRING_LIST && d->constraint.string_list) {
            canon = NULL;
            for (const SANE_String_Const *p = d->constraint.string_list; *p && !canon; p++)
                if (strcasecmp(*p, value) == 0)
                    canon = *p;
            if (!canon) {
                string_choices(d, choices, sizeof choices);
                return err_set(err, SOHOA_EINPUT, "scanner option \"%s=%s\": expected one of %s",
                               name, value, choices);
            }
        }
        if (set_string(s, i, d, canon, err) != 0) {
            /* set_string names the option already */
            return -1;
        }
        return 0;
    }
    case SANE_TYPE_BUTTON:
        st = sane_control_option(s->h, i, SANE_ACTION_SET_VALUE, NULL, NULL);
        break;
    default:
        return err_set(err, SOHOA_EINPUT, "scanner option \"%s\" cannot be set", name);
    }
    if (st != SANE_STATUS_GOOD) {
        /* Re-read: the descriptor may have been reloaded. */
        choices[0] = '\0';
        if (find_option(s, name, &d) >= 0 &&
            (d->type == SANE_TYPE_INT || d->type == SANE_TYPE_FIXED))
            number_choices(d, choices, sizeof choices);
        return err_set(err, SOHOA_EINPUT, "scanner option \"%s=%s\" refused by %s (%s)%s%s", name,
                       value, s->name, sane_strstatus(st), choices[0] ? ": expected " : "",
                       choices);
    }
    return 0;
}

int scanner_set_option(scanner *s, const char *name_value, sohoa_err *err)
{
    if (apply_option(s, name_value, err) != 0)
        return -1;
    double dpi;
    if (get_number(s, SANE_NAME_SCAN_RESOLUTION, &dpi) == 0) {
        s->dpi = (int)lround(dpi);
        char what[128];
        snprintf(what, sizeof what, "scanner %s: resolution", s->name);
        if (check_resolution(s->dpi, what, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- open / close ----------------------------------------------------- */

static char *choose_device(sohoa_err *err)
{
    const SANE_Device **list = NULL;
    SANE_Status st = sane_get_devices(&list, SANE_FALSE);
    if (st != SANE_STATUS_GOOD) {
        err_set(err, SOHOA_EWORK, "SANE: cannot list the devices (%s)", sane_strstatus(st));
        return NULL;
    }
    const SANE_Device *best = NULL;
    int best_rank = 0;
    for (size_t i = 0; list && list[i]; i++) {
        int r = device_rank(list[i]);
        if (r > best_rank) {
            best = list[i];
            best_rank = r;
        }
    }
    if (!best) {
        char names[300];
        device_names(list, names, sizeof names);
        err_set(err, SOHOA_EWORK,
                "no document scanner found (SANE devices: %s): connect and switch on the "
                "scanner, or set [scanner] device",
                names);
        return NULL;
    }
    char *name = strdup(best->name);
    if (!name)
        err_set(err, SOHOA_EWORK, "scanner: out of memory");
    return name;
}

static void open_failed(const char *name, SANE_Status st, sohoa_err *err)
{
    if (st == SANE_STATUS_INVAL) {
        const SANE_Device **list = NULL;
        char names[300] = "unknown";
        if (sane_get_devices(&list, SANE_FALSE) == SANE_STATUS_GOOD)
            device_names(list, names, sizeof names);
        err_set(err, SOHOA_EWORK,
                "scanner \"%s\" not found (SANE devices: %s): check that it is connected and "
                "switched on, or fix [scanner] device",
                name, names);
    } else if (st == SANE_STATUS_DEVICE_BUSY) {
        err_set(err, SOHOA_EWORK,
                "scanner \"%s\" is busy (in use by another program): close it there and try "
                "again",
                name);
    } else if (st == SANE_STATUS_ACCESS_DENIED) {
        err_set(err, SOHOA_EWORK,
                "scanner \"%s\": permission denied: add the station's user to the scanner "
                "group (udev rules)",
                name);
    } else {
        err_set(err, SOHOA_EWORK, "scanner \"%s\" cannot be opened (%s): check its cable and power",
                name, sane_strstatus(st));
    }
}

scanner *scanner_open(const scanner_options *o, sohoa_err *err)
{
    static const scanner_options defaults;
    if (!o)
        o = &defaults;
    if (scanner_options_check(o, err) != 0)
        return NULL;
    if (!sane_ready()) {
        err_set(err, SOHOA_EWORK, "scanner: SANE is not initialised (scanner_init)");
        return NULL;
    }
    scanner *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(err, SOHOA_EWORK, "scanner: out of memory");
        return NULL;
    }
    s->name = o->device && *o->device ? strdup(o->device) : choose_device(err);
    if (!s->name) {
        err_set(err, SOHOA_EWORK, "scanner: out of memory");
        free(s);
        return NULL;
    }
    SANE_Status st = sane_open(s->name, &s->h);
    if (st != SANE_STATUS_GOOD) {
        open_failed(s->name, st, err);
        free(s->name);
        free(s);
        return NULL;
    }
    int want = o->resolution ? o->resolution : SCANNER_DEFAULT_DPI;
    /* Source first: it can change the modes, resolutions and area the
     * backend offers; mode before depth and resolution for the same
     * reason; the pass-through options last so that they win. */
    int rc = setup_source(s, o->source, err);
    if (rc == 0)
        rc = setup_mode(s, o->mode, err);
    if (rc == 0)
        rc = setup_resolution(s, want, err);
    if (rc == 0)
        rc = setup_area(s, err);
    for (size_t i = 0; rc == 0 && i < o->nextra; i++)
        rc = apply_option(s, o->extra[i], err);
    double dpi;
    if (rc == 0 && get_number(s, SANE_NAME_SCAN_RESOLUTION, &dpi) == 0) {
        s->dpi = (int)lround(dpi);
        char what[128];
        snprintf(what, sizeof what, "scanner %s: resolution", s->name);
        rc = check_resolution(s->dpi, what, err);
    }
    if (rc != 0) {
        scanner_close(s);
        return NULL;
    }
    char *source = get_string(s, SANE_NAME_SCAN_SOURCE), *mode = get_string(s, SANE_NAME_SCAN_MODE);
    log_info("scanner %s: source %s, mode %s, %d dpi", s->name, source ? source : "(fixed)",
             mode ? mode : "(fixed)", s->dpi);
    free(source);
    free(mode);
    return s;
}

void scanner_close(scanner *s)
{
    if (!s)
        return;
    if (s->h) {
        sane_cancel(s->h);
        sane_close(s->h);
    }
    free(s->name);
    free(s->type);
    free(s);
}

const char *scanner_name(const scanner *s)
{
    return s->name;
}

int scanner_resolution(const scanner *s)
{
    return s->dpi;
}

/* ---- pages ------------------------------------------------------------ */

/* One page as stored: PNM rows of 8-bit samples (or packed bits). */
typedef struct page_buf {
    int kind;         /* PNM type: 4 (bits), 5 (gray) or 6 (RGB) */
    int width;        /* pixels */
    size_t row_bytes; /* bytes of one stored row */
    int rows;         /* rows filled so far (the longest frame's) */
    int cap;          /* rows allocated */
    unsigned char *data;
} page_buf;

/* The frame being read and its partial line. */
typedef struct frame_state {
    SANE_Parameters p;
    int channel; /* 0, 1, 2 for a red, green, blue frame; -1 when all channels */
    int row;     /* next row */
    size_t fill; /* bytes of `line` filled */
    unsigned char *line;
    size_t line_cap;
} frame_state;

static const char *format_name(SANE_Frame f)
{
    static const char *const names[] = {"gray", "RGB", "red", "green", "blue"};
    return (unsigned)f < 5 ? names[f] : "unknown";
}

static int frame_check(const scanner *s, const SANE_Parameters *p, sohoa_err *err)
{
    if (p->format > SANE_FRAME_BLUE)
        return err_set(err, SOHOA_EWORK,
                       "scanner %s: frame format %d (compressed or backend-specific) cannot be "
                       "stored: choose another mode",
                       s->name, (int)p->format);
    if (p->depth != 8 && p->depth != 16 && !(p->depth == 1 && p->format == SANE_FRAME_GRAY))
        return err_set(err, SOHOA_EWORK,
                       "scanner %s: %d-bit %s frames cannot be stored: choose mode color, gray "
                       "or lineart with depth 8",
                       s->name, p->depth, format_name(p->format));
    long samples = (long)p->pixels_per_line * (p->format == SANE_FRAME_RGB ? 3 : 1);
    long need = p->depth == 1 ? (samples + 7) / 8 : samples * (p->depth / 8);
    if (p->pixels_per_line <= 0 || p->pixels_per_line > PAGE_MAX_WIDTH ||
        p->bytes_per_line < need || p->bytes_per_line > (SANE_Int)(PAGE_MAX_WIDTH * 6))
        return err_set(err, SOHOA_EWORK,
                       "scanner %s: inconsistent frame (%d pixels, %d bytes per line, %d-bit %s)",
                       s->name, p->pixels_per_line, p->bytes_per_line, p->depth,
                       format_name(p->format));
    return 0;
}

/* At least `rows` rows allocated; new rows are zeroed (a three-pass
 * frame may be shorter than the one before it). */
static int page_reserve(page_buf *pb, int rows, const scanner *s, sohoa_err *err)
{
    if (rows <= pb->cap)
        return 0;
    if (rows > PAGE_MAX_ROWS || (size_t)rows * pb->row_bytes > PAGE_MAX_BYTES)
        return err_set(err, SOHOA_EWORK,
                       "scanner %s: page longer than %d rows or %zu MB: is the feeder stuck?",
                       s->name, PAGE_MAX_ROWS, PAGE_MAX_BYTES >> 20);
    unsigned char *grown = realloc(pb->data, (size_t)rows * pb->row_bytes);
    if (!grown)
        return err_set(err, SOHOA_EWORK, "scanner %s: out of memory for a page of %d rows", s->name,
                       rows);
    memset(grown + (size_t)pb->cap * pb->row_bytes, 0, (size_t)(rows - pb->cap) * pb->row_bytes);
    pb->data = grown;
    pb->cap = rows;
    return 0;
}

/* Row `row`, growing the page when its length was unknown (or wrong). */
static unsigned char *page_row(page_buf *pb, int row, const scanner *s, sohoa_err *err)
{
    if (row >= pb->cap) {
        int cap = pb->cap < 128 ? 256 : pb->cap * 2;
        size_t by_bytes = PAGE_MAX_BYTES / pb->row_bytes;
        if (cap > PAGE_MAX_ROWS)
            cap = PAGE_MAX_ROWS;
        if ((size_t)cap > by_bytes)
            cap = (int)by_bytes;
        if (cap <= row)
            cap = row + 1; /* over the limits: page_reserve says so */
        if (page_reserve(pb, cap, s, err) != 0)
            return NULL;
    }
    if (row >= pb->rows)
        pb->rows = row + 1;
    return pb->data + (size_t)row * pb->row_bytes;
}

/* Starts a frame. The first frame of a page decides its layout; the
 * others (three-pass) must be colour planes of the same width. */
static int frame_begin(frame_state *f, page_buf *pb, const SANE_Parameters *p, int first,
                       const scanner *s, sohoa_err *err)
{
    if (frame_check(s, p, err) != 0)
        return -1;
    int plane = p->format >= SANE_FRAME_RED;
    if (first) {
        int kind = p->format == SANE_FRAME_GRAY ? (p->depth == 1 ? 4 : 5) : 6;
        size_t row_bytes = kind == 4   ? ((size_t)p->pixels_per_line + 7) / 8
                           : kind == 5 ? (size_t)p->pixels_per_line
                                       : (size_t)p->pixels_per_line * 3;
        if (row_bytes != pb->row_bytes) { /* the buffer's rows no longer line up */
            free(pb->data);
            pb->data = NULL;
            pb->cap = 0;
        } else if (plane && pb->data) {
            memset(pb->data, 0, (size_t)pb->cap * pb->row_bytes);
        }
        pb->kind = kind;
        pb->width = p->pixels_per_line;
        pb->row_bytes = row_bytes;
        pb->rows = 0;
        if (p->lines > 0 && page_reserve(pb, p->lines, s, err) != 0)
            return -1;
    } else if (!plane || pb->kind != 6 || p->pixels_per_line != pb->width) {
        return err_set(err, SOHOA_EWORK,
                       "scanner %s: a %s frame of %d pixels cannot follow a page of %d pixels",
                       s->name, format_name(p->format), p->pixels_per_line, pb->width);
    }
    f->p = *p;
    f->channel = plane ? (int)(p->format - SANE_FRAME_RED) : -1;
    f->row = 0;
    f->fill = 0;
    if ((size_t)p->bytes_per_line > f->line_cap) {
        unsigned char *line = realloc(f->line, (size_t)p->bytes_per_line);
        if (!line)
            return err_set(err, SOHOA_EWORK, "scanner %s: out of memory", s->name);
        f->line = line;
        f->line_cap = (size_t)p->bytes_per_line;
    }
    return 0;
}

/* One line as SANE sent it → one stored row. 16-bit samples are in host
 * byte order (SANE standard); their high byte is the 8-bit sample. */
static int store_line(frame_state *f, page_buf *pb, const unsigned char *src, const scanner *s,
                      sohoa_err *err)
{
    unsigned char *dst = page_row(pb, f->row++, s, err);
    if (!dst)
        return -1;
    if (f->p.depth == 1) {
        memcpy(dst, src, pb->row_bytes); /* 1 = black, as in PBM */
        return 0;
    }
    size_t n = f->channel < 0 ? pb->row_bytes : (size_t)pb->width;
    size_t step = f->channel < 0 ? 1 : 3, off = f->channel < 0 ? 0 : (size_t)f->channel;
    if (f->p.depth == 8) {
        if (step == 1)
            memcpy(dst, src, n);
        else
            for (size_t i = 0; i < n; i++)
                dst[i * 3 + off] = src[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            uint16_t v;
            memcpy(&v, src + 2 * i, 2);
            dst[i * step + off] = (unsigned char)(v >> 8);
        }
    }
    return 0;
}

static int frame_feed(frame_state *f, page_buf *pb, const unsigned char *buf, size_t len,
                      const scanner *s, sohoa_err *err)
{
    size_t bpl = (size_t)f->p.bytes_per_line;
    while (len) {
        if (f->fill == 0 && len >= bpl) { /* whole lines straight from the read buffer */
            if (store_line(f, pb, buf, s, err) != 0)
                return -1;
            buf += bpl;
            len -= bpl;
            continue;
        }
        size_t take = bpl - f->fill < len ? bpl - f->fill : len;
        memcpy(f->line + f->fill, buf, take);
        f->fill += take;
        buf += take;
        len -= take;
        if (f->fill == bpl) {
            f->fill = 0;
            if (store_line(f, pb, f->line, s, err) != 0)
                return -1;
        }
    }
    return 0;
}

static int cancelled(const volatile int *cancel)
{
    return cancel && *cancel;
}

/* sane_start(), waiting while the lamp warms up. */
static SANE_Status start(scanner *s, const volatile int *cancel)
{
    SANE_Status st;
    int waited = 0;
    while ((st = sane_start(s->h)) == SANE_STATUS_WARMING_UP && waited < WARMUP_WAIT_MS) {
        for (int i = 0; i < 10 && !cancelled(cancel); i++)
            usleep(100 * 1000);
        if (cancelled(cancel))
            return SANE_STATUS_CANCELLED;
        waited += 1000;
    }
    return st;
}

/* Reads one page (all its frames); sane_start() of the first frame is
 * done. 1: page complete; 0: ended by *ss; -1: local error. */
static int read_page(scanner *s, page_buf *pb, frame_state *f, unsigned char *buf,
                     const volatile int *cancel, SANE_Status *ss, sohoa_err *err)
{
    for (int frame = 0;; frame++) {
        if (frame > 0 && (*ss = start(s, cancel)) != SANE_STATUS_GOOD)
            return 0;
        if (frame > 3) /* more frames than colour planes */
            return err_set(err, SOHOA_EWORK, "scanner %s: more than 3 frames for one page",
                           s->name);
        SANE_Parameters p;
        if ((*ss = sane_get_parameters(s->h, &p)) != SANE_STATUS_GOOD)
            return 0;
        if (frame_begin(f, pb, &p, frame == 0, s, err) != 0)
            return -1;
        for (;;) {
            if (cancelled(cancel)) {
                *ss = SANE_STATUS_CANCELLED;
                return 0;
            }
            SANE_Int len = 0;
            *ss = sane_read(s->h, buf, READ_CHUNK, &len);
            if (*ss == SANE_STATUS_EOF)
                break;
            if (*ss != SANE_STATUS_GOOD)
                return 0;
            if (len <= 0) { /* a non-blocking backend with nothing yet */
                usleep(1000);
                continue;
            }
            if (frame_feed(f, pb, buf, (size_t)len, s, err) != 0)
                return -1;
        }
        if (p.last_frame)
            return 1;
    }
}

/* A status that ends the batch → what the clerk is told. */
static scan_status failure(scanner *s, SANE_Status ss, const volatile int *cancel, int page)
{
    if (cancelled(cancel) || ss == SANE_STATUS_CANCELLED)
        return SCAN_CANCELLED;
    log_info("scanner %s: %s at page %d", s->name, sane_strstatus(ss), page);
    switch (ss) {
    case SANE_STATUS_JAMMED:
        return SCAN_JAMMED;
    case SANE_STATUS_COVER_OPEN:
        return SCAN_COVER_OPEN;
    case SANE_STATUS_NO_DOCS:
        return SCAN_NO_PAPER;
    case SANE_STATUS_DEVICE_BUSY:
        return SCAN_BUSY;
    default:
        /* Stop the device before asking SANE for the device list. */
        sane_cancel(s->h);
        return device_present(s->name) ? SCAN_IO_ERROR : SCAN_UNPLUGGED;
    }
}

/* Whether the selected source feeds several sheets. Without a choice of
 * source, only a sheet-fed scanner does; a flatbed would scan the same
 * glass again and again. */
static int feeds_sheets(scanner *s)
{
    char *source = get_string(s, SANE_NAME_SCAN_SOURCE);
    if (source) {
        int feeder = is_feeder(source) || is_duplex(source);
        free(source);
        return feeder;
    }
    if (!s->type) {
        const SANE_Device **list = NULL;
        if (sane_get_devices(&list, SANE_FALSE) == SANE_STATUS_GOOD)
            for (size_t i = 0; list && list[i] && !s->type; i++)
                if (list[i]->name && strcmp(list[i]->name, s->name) == 0)
                    s->type = strdup(list[i]->type ? list[i]->type : "");
    }
    return device_rank(&(SANE_Device){.type = s->type}) == 3;
}

static int write_page(const page_buf *pb, const char *path, sohoa_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, 0644, err) != 0)
        return -1;
    fprintf(af.f, "P%d\n%d %d\n%s", pb->kind, pb->width, pb->rows, pb->kind == 4 ? "" : "255\n");
    if (fwrite(pb->data, pb->row_bytes, (size_t)pb->rows, af.f) != (size_t)pb->rows) {
        err_errno(err, SOHOA_EWORK, errno, "%s: write failed", path);
        atomic_abort(&af);
        return -1;
    }
    return atomic_commit(&af, err);
}

int scanner_scan(scanner *s, const char *dir,
                 int (*on_page)(void *ctx, const char *path, int index), void *ctx,
                 const volatile int *cancel, scan_status *st, int *npages, sohoa_err *err)
{
    *st = SCAN_OK;
    *npages = 0;
    if (fs_mkdir_p(dir, 0755, err) != 0)
        return -1;
    unsigned char *buf = malloc(READ_CHUNK);
    if (!buf)
        return err_set(err, SOHOA_EWORK, "scanner %s: out of memory", s->name);
    int multi = feeds_sheets(s), pages = 0, rc = 0;
    page_buf pb = {0};
    frame_state f = {0};
    scan_status result = SCAN_OK;
    char *path = NULL;
    for (;;) {
        if (cancelled(cancel)) {
            result = SCAN_CANCELLED;
            break;
        }
        SANE_Status ss = start(s, cancel);
        /* An empty feeder ends the batch; before the first page it is
         * the clerk's problem. Some backends say EOF instead of NO_DOCS. */
        if (ss == SANE_STATUS_NO_DOCS || ss == SANE_STATUS_EOF) {
            result = pages ? SCAN_OK : failure(s, SANE_STATUS_NO_DOCS, cancel, 1);
            break;
        }
        if (ss != SANE_STATUS_GOOD) {
            result = failure(s, ss, cancel, pages + 1);
            break;
        }
        pb.rows = 0; /* until this page's first frame starts */
        f.fill = 0;
        int got = read_page(s, &pb, &f, buf, cancel, &ss, err);
        if (got < 0) {
            rc = -1;
            break;
        }
        /* Nothing of this page arrived: a feeder that reports its end on
         * the first read, or an empty frame. */
        int nothing = pb.rows == 0 && f.fill == 0;
        if (got == 0 && nothing && pages && (ss == SANE_STATUS_NO_DOCS || ss == SANE_STATUS_EOF))
            break;
        if (got == 0) {
            /* A sheet that stops feeding half-way is a misfeed. */
            if (ss == SANE_STATUS_NO_DOCS && !nothing)
                ss = SANE_STATUS_JAMMED;
            result = failure(s, ss, cancel, pages + 1);
            break;
        }
        if (pb.rows == 0) {
            result = pages ? SCAN_OK : failure(s, SANE_STATUS_NO_DOCS, cancel, 1);
            break;
        }
        free(path);
        if (asprintf(&path, "%s/%04d.pnm", dir, pages + 1) < 0) {
            path = NULL;
            rc = err_set(err, SOHOA_EWORK, "scanner %s: out of memory", s->name);
            break;
        }
        if (write_page(&pb, path, err) != 0) {
            rc = -1;
            break;
        }
        *npages = ++pages;
        log_debug("scanner %s: page %d: %dx%d P%d", s->name, pages, pb.width, pb.rows, pb.kind);
        if (on_page && on_page(ctx, path, pages) != 0) {
            result = SCAN_CANCELLED;
            break;
        }
        if (!multi)
            break;
    }
    /* Ends the batch (and a frame cut short): the backend ejects or
     * releases the paper and is ready for the next job. */
    sane_cancel(s->h);
    *st = result;
    free(path);
    free(buf);
    free(pb.data);
    free(f.line);
    return rc;
}

/* ---- buttons ---------------------------------------------------------- */

/* Options that report a state rather than a press: watching them would
 * start a scan whenever paper is loaded or the lid is open. */
static int is_status_sensor(const char *name)
{
    static const char *const words[] = {"loaded",  "cover", "double", "feed",   "power", "function",
                                        "counter", "jam",   "paper",  "hopper", "sleep", "status",
                                        "lamp",    "low",   "error",  "open",   "skew"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (has(name, words[i]))
            return 1;
    return 0;
}

static int is_button(const SANE_Option_Descriptor *d)
{
    return d && d->name && *d->name && (d->cap & SANE_CAP_HARD_SELECT) &&
           (d->cap & SANE_CAP_SOFT_DETECT) && SANE_OPTION_IS_ACTIVE(d->cap) &&
           (d->type == SANE_TYPE_BOOL || d->type == SANE_TYPE_INT) &&
           d->size == (SANE_Int)sizeof(SANE_Word) && !is_status_sensor(d->name);
}

int scanner_read_buttons(scanner *s, char *name, size_t len, sohoa_err *err)
{
    if (len)
        name[0] = '\0';
    int n = option_count(s);
    for (int i = 1; i < n; i++) {
        const SANE_Option_Descriptor *d = sane_get_option_descriptor(s->h, i);
        if (!is_button(d))
            continue;
        SANE_Word v = 0;
        SANE_Status st = sane_control_option(s->h, i, SANE_ACTION_GET_VALUE, &v, NULL);
        if (st != SANE_STATUS_GOOD)
            return err_set(err, SOHOA_EWORK,
                           "scanner %s: cannot read button \"%s\" (%s): is it still connected?",
                           s->name, d->name, sane_strstatus(st));
        if (v) {
            if (len)
                snprintf(name, len, "%s", d->name);
            return 0;
        }
    }
    return 0;
}

int scanner_buttons(scanner *s, char ***names, size_t *n, sohoa_err *err)
{
    *names = NULL;
    *n = 0;
    int count = option_count(s);
    char **list = calloc((size_t)(count > 0 ? count : 1), sizeof *list);
    if (!list)
        return err_set(err, SOHOA_EWORK, "scanner %s: out of memory", s->name);
    size_t k = 0;
    for (int i = 1; i < count; i++) {
        const SANE_Option_Descriptor *d = sane_get_option_descriptor(s->h, i);
        if (!is_button(d))
            continue;
        if (!(list[k] = strdup(d->name))) {
            for (size_t j = 0; j < k; j++)
                free(list[j]);
            free(list);
            return err_set(err, SOHOA_EWORK, "scanner %s: out of memory", s->name);
        }
        k++;
    }
    *names = list;
    *n = k;
    return 0;
}

/* fsync()s a file by name (the page must survive a power cut once the
 * station has said it took it in). */
static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* PNM has no resolution and the pipeline would assume 300 dpi, making the
 * PDF pages the wrong size: a page scanned at another resolution becomes
 * an uncompressed TIFF (fast to write) that carries its resolution. */
char *scanner_page_with_resolution(const char *pnm, int dpi, sohoa_err *err)
{
    char *tif = NULL, *tmp = NULL;
    size_t len = strlen(pnm);
    if (asprintf(&tif, "%.*s.tif", (int)(len > 4 ? len - 4 : len), pnm) < 0 ||
        asprintf(&tmp, "%s.part", tif) < 0) {
        free(tif);
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    errno = 0;
    PIX *pix = pixRead(pnm);
    int ok = pix != NULL;
    if (ok) {
        pixSetResolution(pix, dpi, dpi);
        ok = pixWrite(tmp, pix, pixGetDepth(pix) == 1 ? IFF_TIFF_G4 : IFF_TIFF) == 0 &&
             fsync_path(tmp) == 0 && rename(tmp, tif) == 0;
    }
    pixDestroy(&pix);
    if (!ok) {
        err_errno(err, SOHOA_EWORK, errno ? errno : EIO, "%s: cannot store the scanned page", tif);
        unlink(tmp);
        free(tmp);
        free(tif);
        return NULL;
    }
    free(tmp);
    unlink(pnm);
    return tif;
}
