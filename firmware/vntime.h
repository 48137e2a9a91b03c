/* vntime.h — Vietnam time: UTC+07:00 all year (no daylight saving since
 * 1975), so the offset is fixed and no time-zone database is needed.
 * Every timestamp the station records or sends is ISO 8601 with "+07:00"
 * (standards.md §1).
 */
#ifndef SOHOA_VNTIME_H
#define SOHOA_VNTIME_H

#include <time.h>

#define VNTIME_OFFSET_S (7 * 3600)
#define VNTIME_ISO_LEN 26 /* "2026-11-21T09:15:02+07:00" + NUL */

/* Broken-down Vietnam time. */
typedef struct vn_tm {
    int year, mon, day;   /* mon 1..12, day 1..31 */
    int hour, min, sec;
    int wday;             /* 0 = Sunday .. 6 = Saturday */
} vn_tm;

/* Splits `t` (seconds since the epoch) into Vietnam time. */
void vntime_split(time_t t, vn_tm *out);

/* Inverse of vntime_split(); fields out of range are normalised
 * (day 32 → the next month, hour 24 → the next day); wday is ignored. */
time_t vntime_join(const vn_tm *tm);

/* "2026-11-21T09:15:02+07:00". */
void vntime_iso(time_t t, char out[VNTIME_ISO_LEN]);

/* "2026-11-21" (the Vietnam calendar day of `t`). */
void vntime_date(time_t t, char out[11]);

/* Parses ISO 8601 "YYYY-MM-DDTHH:MM:SS" followed by "+HH:MM", "-HH:MM" or
 * "Z" (any offset, not only +07:00). Returns 0, or -1 when malformed. */
int vntime_parse_iso(const char *s, time_t *t);

/* Parses "YYYY-MM-DD" as a valid calendar date; *t is 00:00:00 Vietnam
 * time of that day. Returns 0, or -1 when malformed or not a date. */
int vntime_parse_date(const char *s, time_t *t);

#endif
