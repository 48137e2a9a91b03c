/* officehours.h — the effective receipt time of a document.
 *
 * A document received outside office hours, on a non-working day or on a
 * public holiday counts as received at the start of the next office period
 * (standards.md §1). Configuration, [station] section:
 *
 *   office_hours  = 07:30-11:30,13:30-17:00   ; periods of a working day
 *   workdays      = mon-fri                    ; ranges and lists: mon-fri,sat
 *   holidays      = 2026-01-01,2026-02-16..2026-02-20   ; dates and ranges
 *   holidays_file = holidays.txt   ; one date or range per line, # comments;
 *                                  ; relative to the configuration's directory
 *
 * The defaults are the values shown (no holidays). Invalid values are an
 * error naming the file, key and what is expected.
 */
#ifndef SOHOA_OFFICEHOURS_H
#define SOHOA_OFFICEHOURS_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "err.h"

#define OFFICE_MAX_PERIODS 8

typedef struct office_hours {
    struct {
        int start, end; /* minutes after midnight, start < end */
    } period[OFFICE_MAX_PERIODS];
    int nperiods;        /* sorted, not overlapping, at least 1 */
    unsigned workdays;   /* bit d set = weekday d works (0 = Sunday) */
    int *holidays;       /* sorted days as YYYYMMDD */
    size_t nholidays;
} office_hours;

/* Reads the keys above (SOHOA_EINPUT on a bad value). */
int office_hours_load(const config *cfg, office_hours *oh, sohoa_err *err);

/* `received` when it falls inside a period of a working, non-holiday day
 * (start inclusive, end exclusive); otherwise the start of the next such
 * period. Searches at most two years ahead (a configuration with no
 * working day at all returns `received`). */
time_t office_hours_effective(const office_hours *oh, time_t received);

void office_hours_free(office_hours *oh);

#endif
