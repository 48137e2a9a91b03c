/* officehours.c — office periods, working days and holidays, see
 * officehours.h.
 *
 * Holidays are kept as a sorted array of YYYYMMDD integers: a year of
 * holidays is a few dozen entries, and bsearch() on integers needs no
 * time arithmetic at all.
 */
#include "officehours.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "vntime.h"

#define DEFAULT_OFFICE_HOURS "07:30-11:30,13:30-17:00"
#define DEFAULT_WORKDAYS "mon-fri"
#define HOLIDAYS_FILE_MAX (256 * 1024)
/* A closure longer than a year is certainly a typo in a year digit, and
 * would otherwise silently expand to thousands of days. */
#define HOLIDAY_RANGE_MAX_DAYS 366
/* office_hours_effective() gives up after this many days. */
#define SEARCH_DAYS (2 * 366)

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* Where a key's value came from, for messages: "FILE:LINE: [station] key". */
static void key_origin(const config *cfg, const char *key, char *out, size_t n)
{
    const char *file = cfg && cfg->path ? cfg->path : "configuration";
    int line = 0;
    for (size_t i = 0; cfg && i < cfg->n; i++)
        if (strcmp(cfg->entries[i].section, "station") == 0 &&
            strcmp(cfg->entries[i].key, key) == 0)
            line = cfg->entries[i].line;
    if (line > 0)
        snprintf(out, n, "%s:%d: [station] %s", file, line, key);
    else
        snprintf(out, n, "%s: [station] %s", file, key);
}

/* The error for a list value `key` = `value` that each_item() returned
 * `rc` (non-zero) for: -2 is out of memory (`what` names the list), any
 * other a bad item, reported with where the key was set, `why` and what
 * the key takes (`expected`). */
static int list_error(const config *cfg, const char *key, const char *what, const char *value,
                      int rc, const char *why, const char *expected, sohoa_err *err)
{
    if (rc == -2)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", what);
    char where[600];
    key_origin(cfg, key, where, sizeof where);
    return err_set(err, SOHOA_EINPUT, "%s = \"%.80s\": %s; expected %s", where, value, why,
                   expected);
}

/* A copy of s[0..n) without surrounding blanks. */
static char *trimmed_copy(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

/* Splits a comma-separated value; calls fn on each trimmed item. Stops at
 * the first non-zero return (which is passed on). Returns -2 on ENOMEM. */
static int each_item(const char *value, int (*fn)(void *ctx, const char *item), void *ctx)
{
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *item = trimmed_copy(p, n);
        if (!item)
            return -2;
        int rc = fn(ctx, item);
        free(item);
        if (rc != 0)
            return rc;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* --- office_hours ------------------------------------------------------ */

/* "HH:MM" as minutes after midnight; "24:00" only when `is_end`. */
static int parse_hhmm(const char *s, size_t n, int is_end)
{
    if (n != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !is_end)))
        return -1;
    return h * 60 + m;
}

typedef struct period_ctx {
    office_hours *oh;
    char why[160]; /* what is wrong, for the message */
} period_ctx;

static int add_period(void *vctx, const char *item)
{
    period_ctx *c = vctx;
    const char *dash = strchr(item, '-');
    if (!*item) {
        snprintf(c->why, sizeof c->why, "an empty period");
        return -1;
    }
    if (!dash) {
        snprintf(c->why, sizeof c->why, "\"%.40s\" is not a period", item);
        return -1;
    }
    char *a = trimmed_copy(item, (size_t)(dash - item));
    char *b = trimmed_copy(dash + 1, strlen(dash + 1));
    int start = a ? parse_hhmm(a, strlen(a), 0) : -1;
    int end = b ? parse_hhmm(b, strlen(b), 1) : -1;
    if (!a || !b)
        snprintf(c->why, sizeof c->why, "out of memory");
    else if (start < 0)
        snprintf(c->why, sizeof c->why, "\"%.20s\" is not a time of day", a);
    else if (end < 0)
        snprintf(c->why, sizeof c->why, "\"%.20s\" is not a time of day", b);
    else if (end <= start)
        snprintf(c->why, sizeof c->why, "period %.40s is empty or ends before it starts", item);
    else if (c->oh->nperiods == OFFICE_MAX_PERIODS)
        snprintf(c->why, sizeof c->why, "more than %d periods", OFFICE_MAX_PERIODS);
    free(a);
    free(b);
    if (c->why[0])
        return -1;
    c->oh->period[c->oh->nperiods].start = start;
    c->oh->period[c->oh->nperiods].end = end;
    c->oh->nperiods++;
    return 0;
}

static int cmp_period_start(const void *a, const void *b)
{
    const typeof(((office_hours *)0)->period[0]) *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static int load_periods(const config *cfg, office_hours *oh, sohoa_err *err)
{
    const char *v = config_get(cfg, "station", "office_hours", "");
    if (!*v)
        v = DEFAULT_OFFICE_HOURS;
    period_ctx c = {.oh = oh};
    int rc = each_item(v, add_period, &c);
    if (rc == 0) {
        /* Periods may be written in any order; overlap is checked on the
         * sorted list, where it can only be between neighbours. */
        qsort(oh->period, (size_t)oh->nperiods, sizeof oh->period[0], cmp_period_start);
        for (int i = 1; i < oh->nperiods && !c.why[0]; i++)
            if (oh->period[i].start < oh->period[i - 1].end) {
                snprintf(c.why, sizeof c.why,
                         "periods %02d:%02d-%02d:%02d and %02d:%02d-%02d:%02d overlap",
                         oh->period[i - 1].start / 60, oh->period[i - 1].start % 60,
                         oh->period[i - 1].end / 60, oh->period[i - 1].end % 60,
                         oh->period[i].start / 60, oh->period[i].start % 60, oh->period[i].end / 60,
                         oh->period[i].end % 60);
                rc = -1;
            }
    }
    if (rc != 0)
        return list_error(cfg, "office_hours", "office hours", v, rc, c.why,
                          "HH:MM-HH:MM,… such as " DEFAULT_OFFICE_HOURS, err);
    return 0;
}

/* --- workdays ---------------------------------------------------------- */

static int day_index(const char *s, size_t n)
{
    for (int d = 0; d < 7; d++)
        if (n == 3 && strncasecmp(s, day_names[d], 3) == 0)
            return d;
    return -1;
}

typedef struct days_ctx {
    unsigned mask;
    char why[120];
} days_ctx;

static int add_days(void *vctx, const char *item)
{
    days_ctx *c = vctx;
    const char *dash = strchr(item, '-');
    size_t alen = dash ? (size_t)(dash - item) : strlen(item);
    char *a = trimmed_copy(item, alen);
    char *b = dash ? trimmed_copy(dash + 1, strlen(dash + 1)) : NULL;
    int from = a ? day_index(a, strlen(a)) : -1;
    int to = dash ? (b ? day_index(b, strlen(b)) : -1) : from;
    if (from < 0 || to < 0)
        snprintf(c->why, sizeof c->why, "\"%.40s\" is not a day or a range of days", item);
    free(a);
    free(b);
    if (c->why[0])
        return -1;
    /* The week is a cycle: "fri-mon" is Friday to Monday over the weekend. */
    for (int d = from;; d = (d + 1) % 7) {
        c->mask |= 1u << d;
        if (d == to)
            break;
    }
    return 0;
}

static int load_workdays(const config *cfg, office_hours *oh, sohoa_err *err)
{
    const char *v = config_get(cfg, "station", "workdays", "");
    if (!*v)
        v = DEFAULT_WORKDAYS;
    days_ctx c = {0};
    int rc = each_item(v, add_days, &c);
    if (rc != 0)
        return list_error(cfg, "workdays", "workdays", v, rc, c.why,
                          "days sun, mon, tue, wed, thu, fri, sat and ranges such as mon-fri,sat",
                          err);
    oh->workdays = c.mask;
    return 0;
}

/* --- holidays ---------------------------------------------------------- */

typedef struct hol_ctx {
    office_hours *oh;
    size_t cap;
    char why[160];
} hol_ctx;

static int push_day(hol_ctx *c, int ymd)
{
    if (c->oh->nholidays == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 32;
        int *p = realloc(c->oh->holidays, ncap * sizeof *p);
        if (!p)
            return -2;
        c->oh->holidays = p;
        c->cap = ncap;
    }
    c->oh->holidays[c->oh->nholidays++] = ymd;
    return 0;
}

static int ymd_of(time_t t)
{
    vn_tm v;
    vntime_split(t, &v);
    return v.year * 10000 + v.mon * 100 + v.day;
}

/* One "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD". */
static int add_holiday(void *vctx, const char *item)
{
    hol_ctx *c = vctx;
    const char *dots = strstr(item, "..");
    char *a = trimmed_copy(item, dots ? (size_t)(dots - item) : strlen(item));
    char *b = dots ? trimmed_copy(dots + 2, strlen(dots + 2)) : NULL;
    time_t from = 0, to = 0;
    int rc = 0;
    if (!a || (dots && !b)) {
        rc = -2;
    } else if (vntime_parse_date(a, &from) != 0) {
        snprintf(c->why, sizeof c->why, "\"%.40s\" is not a date YYYY-MM-DD", a);
        rc = -1;
    } else if (dots && vntime_parse_date(b, &to) != 0) {
        snprintf(c->why, sizeof c->why, "\"%.40s\" is not a date YYYY-MM-DD", b);
        rc = -1;
    } else if (dots && to < from) {
        snprintf(c->why, sizeof c->why, "range %.60s ends before it starts", item);
        rc = -1;
    } else if (dots && (to - from) / 86400 >= HOLIDAY_RANGE_MAX_DAYS) {
        snprintf(c->why, sizeof c->why, "range %.60s is longer than a year", item);
        rc = -1;
    }
    free(a);
    free(b);
    if (rc != 0)
        return rc;
    if (!dots)
        return push_day(c, ymd_of(from));
    /* Days of Vietnam time are exactly 86400 s apart (no DST). */
    for (time_t t = from; t <= to && rc == 0; t += 86400)
        rc = push_day(c, ymd_of(t));
    return rc;
}

/* holidays_file: resolved against the configuration's directory, so that
 * "holidays.txt" next to sohoa.conf works wherever the daemon runs. */
static char *holidays_path(const config *cfg, const char *name)
{
    char *p = NULL;
    const char *slash = cfg && cfg->path ? strrchr(cfg->path, '/') : NULL;
    if (name[0] == '/' || !slash)
        return strdup(name);
    if (asprintf(&p, "%.*s/%s", (int)(slash - cfg->path), cfg->path, name) < 0)
        return NULL;
    return p;
}

static int load_holidays_file(const config *cfg, const char *name, hol_ctx *c, sohoa_err *err)
{
    char where[600];
    key_origin(cfg, "holidays_file", where, sizeof where);
    char *path = holidays_path(cfg, name);
    if (!path)
        return err_set(err, SOHOA_EWORK, "holidays file %s: out of memory", name);
    char *text = NULL;
    sohoa_err ferr = {0};
    if (fs_read_all(path, HOLIDAYS_FILE_MAX, &text, NULL, &ferr) != 0) {
        err_set(err, SOHOA_EINPUT, "%s = \"%s\": %s; create it or fix the path", where, name,
                ferr.msg);
        free(path);
        return -1;
    }
    int rc = 0, lineno = 0;
    for (char *line = text; line && rc == 0;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *item = trimmed_copy(line, strlen(line));
        if (!item) {
            rc = -2;
        } else if (*item) {
            rc = add_holiday(c, item);
            if (rc == -1)
                err_set(err, SOHOA_EINPUT,
                        "%s:%d: %s; expected one date YYYY-MM-DD or range "
                        "YYYY-MM-DD..YYYY-MM-DD per line (from %s)",
                        path, lineno, c->why, where);
        }
        free(item);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    free(path);
    if (rc == -2)
        return err_set(err, SOHOA_EWORK, "holidays file %s: out of memory", name);
    return rc;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int load_holidays(const config *cfg, office_hours *oh, sohoa_err *err)
{
    hol_ctx c = {.oh = oh};
    const char *v = config_get(cfg, "station", "holidays", "");
    /* Empty means none; each_item() would see one empty item, not a date. */
    int rc = v[strspn(v, " \t")] ? each_item(v, add_holiday, &c) : 0;
    if (rc != 0)
        return list_error(cfg, "holidays", "holidays", v, rc, c.why,
                          "dates YYYY-MM-DD and ranges YYYY-MM-DD..YYYY-MM-DD separated by commas",
                          err);
    const char *file = config_get(cfg, "station", "holidays_file", "");
    if (*file && load_holidays_file(cfg, file, &c, err) != 0)
        return -1;
    /* Sorted and without repeats, for bsearch(). */
    if (oh->nholidays > 1) {
        qsort(oh->holidays, oh->nholidays, sizeof *oh->holidays, cmp_int);
        size_t j = 1;
        for (size_t i = 1; i < oh->nholidays; i++)
            if (oh->holidays[i] != oh->holidays[j - 1])
                oh->holidays[j++] = oh->holidays[i];
        oh->nholidays = j;
    }
    return 0;
}

int office_hours_load(const config *cfg, office_hours *oh, sohoa_err *err)
{
    memset(oh, 0, sizeof *oh);
    if (load_periods(cfg, oh, err) != 0 || load_workdays(cfg, oh, err) != 0 ||
        load_holidays(cfg, oh, err) != 0) {
        office_hours_free(oh);
        return -1;
    }
    return 0;
}

static int is_holiday(const office_hours *oh, int ymd)
{
    return oh->nholidays &&
           bsearch(&ymd, oh->holidays, oh->nholidays, sizeof *oh->holidays, cmp_int) != NULL;
}

time_t office_hours_effective(const office_hours *oh, time_t received)
{
    vn_tm now;
    vntime_split(received, &now);
    int sec_of_day = now.hour * 3600 + now.min * 60 + now.sec;
    for (int d = 0; d <= SEARCH_DAYS; d++) {
        /* Midnight of the d-th day after the day of receipt; vntime_join
         * carries day overflow into months and years. */
        vn_tm day = {.year = now.year, .mon = now.mon, .day = now.day + d};
        time_t midnight = vntime_join(&day);
        vntime_split(midnight, &day);
        if (!(oh->workdays & (1u << day.wday)) ||
            is_holiday(oh, day.year * 10000 + day.mon * 100 + day.day))
            continue;
        for (int i = 0; i < oh->nperiods; i++) {
            int start = oh->period[i].start * 60, end = oh->period[i].end * 60;
            if (d == 0 && sec_of_day >= end)
                continue; /* this period is over */
            if (d == 0 && sec_of_day >= start)
                return received; /* inside it */
            return midnight + start;
        }
    }
    return received;
}

void office_hours_free(office_hours *oh)
{
    free(oh->holidays);
    memset(oh, 0, sizeof *oh);
}
