/* vntime.c — Vietnam time (UTC+07:00), see vntime.h.
 *
 * Everything goes through timegm()/gmtime_r() on the time shifted by the
 * fixed offset, never through localtime() or mktime(): the station's TZ
 * setting (or a test runner's) must not change a recorded time.
 */
#include "vntime.h"

#include <stdio.h>
#include <string.h>

void vntime_split(time_t t, vn_tm *out)
{
    struct tm tm;
    time_t shifted = t + VNTIME_OFFSET_S;
    memset(&tm, 0, sizeof tm);
    gmtime_r(&shifted, &tm);
    out->year = tm.tm_year + 1900;
    out->mon = tm.tm_mon + 1;
    out->day = tm.tm_mday;
    out->hour = tm.tm_hour;
    out->min = tm.tm_min;
    out->sec = tm.tm_sec;
    out->wday = tm.tm_wday;
}

time_t vntime_join(const vn_tm *in)
{
    /* timegm() normalises out-of-range fields, which gives the documented
     * "day 32 is the next month" behaviour for free. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = in->year - 1900;
    tm.tm_mon = in->mon - 1;
    tm.tm_mday = in->day;
    tm.tm_hour = in->hour;
    tm.tm_min = in->min;
    tm.tm_sec = in->sec;
    return timegm(&tm) - VNTIME_OFFSET_S;
}

void vntime_iso(time_t t, char out[VNTIME_ISO_LEN])
{
    vn_tm v;
    vntime_split(t, &v);
    /* Years outside 0..9999 cannot be written in this form; clamp rather
     * than overflow the fixed-size buffer. */
    int year = v.year < 0 ? 0 : v.year > 9999 ? 9999 : v.year;
    snprintf(out, VNTIME_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", year, v.mon, v.day, v.hour,
             v.min, v.sec);
}

void vntime_date(time_t t, char out[11])
{
    vn_tm v;
    vntime_split(t, &v);
    int year = v.year < 0 ? 0 : v.year > 9999 ? 9999 : v.year;
    snprintf(out, 11, "%04d-%02d-%02d", year, v.mon, v.day);
}

/* Reads exactly `n` decimal digits; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int year, int mon)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return dm[mon - 1];
}

/* Parses "YYYY-MM-DD" at the start of `s` into *v (time fields zero). */
static int parse_ymd(const char *s, vn_tm *v)
{
    memset(v, 0, sizeof *v);
    v->year = digits(s, 4);
    if (v->year < 1 || s[4] != '-')
        return -1;
    v->mon = digits(s + 5, 2);
    if (v->mon < 1 || v->mon > 12 || s[7] != '-')
        return -1;
    v->day = digits(s + 8, 2);
    if (v->day < 1 || v->day > days_in_month(v->year, v->mon))
        return -1;
    return 0;
}

int vntime_parse_iso(const char *s, time_t *t)
{
    vn_tm v;
    if (!s || strlen(s) < 20 || parse_ymd(s, &v) != 0 || s[10] != 'T')
        return -1;
    v.hour = digits(s + 11, 2);
    v.min = digits(s + 14, 2);
    v.sec = digits(s + 17, 2);
    if (s[13] != ':' || s[16] != ':' || v.hour < 0 || v.hour > 23 || v.min < 0 || v.min > 59 ||
        v.sec < 0 || v.sec > 59)
        return -1;
    const char *z = s + 19;
    long offset = 0;
    if (strcmp(z, "Z") == 0) {
        offset = 0;
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
        int oh = digits(z + 1, 2), om = digits(z + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        offset = (z[0] == '-' ? -1 : 1) * (long)(oh * 3600 + om * 60);
    } else {
        return -1;
    }
    /* The fields are a wall-clock time at `offset`; as UTC that is the
     * same wall clock shifted back by the offset. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = v.year - 1900;
    tm.tm_mon = v.mon - 1;
    tm.tm_mday = v.day;
    tm.tm_hour = v.hour;
    tm.tm_min = v.min;
    tm.tm_sec = v.sec;
    *t = timegm(&tm) - offset;
    return 0;
}

int vntime_parse_date(const char *s, time_t *t)
{
    vn_tm v;
    if (!s || strlen(s) != 10 || parse_ymd(s, &v) != 0)
        return -1;
    *t = vntime_join(&v);
    return 0;
}
