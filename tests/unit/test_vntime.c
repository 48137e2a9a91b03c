/* Unit tests: firmware/vntime — fixed UTC+07:00, independent of TZ.
 *
 * main() runs every test twice, under TZ=America/New_York and under a
 * POSIX TZ rule far from Vietnam (which needs no zone database), so that a
 * stray localtime()/mktime() in the code would shift the results. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firmware/vntime.h"

/* 2026-11-21T02:15:02Z = 2026-11-21T09:15:02+07:00 (a Saturday). */
#define T_SAT 1795227302
/* 2026-12-31T17:00:00Z = 2027-01-01T00:00:00+07:00 (a Friday). */
#define T_NEWYEAR 1798736400
/* 2024-02-28T17:00:00Z = 2024-02-29T00:00:00+07:00 (leap day, a Thursday). */
#define T_LEAPDAY 1709139600

/* vntime_split(t) gives `want`, every field of it. */
static void assert_split(time_t t, vn_tm want)
{
    vn_tm v;
    vntime_split(t, &v);
    assert_int_equal(v.year, want.year);
    assert_int_equal(v.mon, want.mon);
    assert_int_equal(v.day, want.day);
    assert_int_equal(v.hour, want.hour);
    assert_int_equal(v.min, want.min);
    assert_int_equal(v.sec, want.sec);
    assert_int_equal(v.wday, want.wday);
}

static void splits_into_vietnam_time(void **state)
{
    assert_split(
        T_SAT,
        (vn_tm){.year = 2026, .mon = 11, .day = 21, .hour = 9, .min = 15, .sec = 2, .wday = 6});
    /* 17:00 UTC on New Year's Eve is already the next year in Vietnam. */
    assert_split(T_NEWYEAR, (vn_tm){.year = 2027, .mon = 1, .day = 1, .wday = 5});
    assert_split(
        T_NEWYEAR - 1,
        (vn_tm){.year = 2026, .mon = 12, .day = 31, .hour = 23, .min = 59, .sec = 59, .wday = 4});
    assert_split(T_LEAPDAY, (vn_tm){.year = 2024, .mon = 2, .day = 29, .wday = 4});
}

static void join_inverts_split_and_normalises(void **state)
{
    vn_tm v = {.year = 2026, .mon = 11, .day = 21, .hour = 9, .min = 15, .sec = 2, .wday = 3};
    /* wday is ignored: a wrong one must not move the result. */
    assert_int_equal(vntime_join(&v), T_SAT);
    for (time_t t = T_NEWYEAR - 86400; t < T_NEWYEAR + 86400; t += 3607) {
        vntime_split(t, &v);
        assert_int_equal(vntime_join(&v), t);
    }
    /* Day 32 of December is 1 January; hour 24 is the next midnight. */
    vn_tm d32 = {.year = 2026, .mon = 12, .day = 32};
    assert_int_equal(vntime_join(&d32), T_NEWYEAR);
    vn_tm h24 = {.year = 2026, .mon = 12, .day = 31, .hour = 24};
    assert_int_equal(vntime_join(&h24), T_NEWYEAR);
    vn_tm feb30 = {.year = 2024, .mon = 2, .day = 30};
    assert_split(vntime_join(&feb30), (vn_tm){.year = 2024, .mon = 3, .day = 1, .wday = 5});
}

static void formats_iso_and_date(void **state)
{
    char iso[VNTIME_ISO_LEN], day[11];
    vntime_iso(T_SAT, iso);
    assert_string_equal(iso, "2026-11-21T09:15:02+07:00");
    assert_int_equal(strlen(iso), VNTIME_ISO_LEN - 1);
    vntime_iso(T_NEWYEAR, iso);
    assert_string_equal(iso, "2027-01-01T00:00:00+07:00");
    vntime_date(T_NEWYEAR - 1, day);
    assert_string_equal(day, "2026-12-31");
    vntime_date(T_NEWYEAR, day);
    assert_string_equal(day, "2027-01-01");
}

/* `text` parses (as an ISO time, or with `date_only` as a calendar day)
 * to `want`. */
static void assert_parses(const char *text, bool date_only, time_t want)
{
    time_t t = 0;
    int rc = date_only ? vntime_parse_date(text, &t) : vntime_parse_iso(text, &t);
    if (rc != 0)
        fail_msg("\"%s\" was refused", text);
    assert_int_equal(t, want);
}

static void parses_iso_with_any_offset(void **state)
{
    /* The same instant, with the offsets of four places. */
    assert_parses("2026-11-21T09:15:02+07:00", false, T_SAT);
    assert_parses("2026-11-21T02:15:02Z", false, T_SAT);
    assert_parses("2026-11-20T21:15:02-05:00", false, T_SAT);
    assert_parses("2026-11-21T07:45:02+05:30", false, T_SAT);
    /* Round trip through the station's own format. */
    char iso[VNTIME_ISO_LEN];
    vntime_iso(T_LEAPDAY + 12345, iso);
    assert_parses(iso, false, T_LEAPDAY + 12345);
}

static void rejects_malformed_iso(void **state)
{
    static const char *bad[] = {
        "2026-11-21T09:15:02",        /* no offset */
        "2026-11-21 09:15:02+07:00",  /* space instead of T */
        "2026-13-21T09:15:02+07:00",  /* month 13 */
        "2026-02-30T09:15:02+07:00",  /* no such day */
        "2026-11-21T24:00:00+07:00",  /* hour 24 */
        "2026-11-21T09:60:00+07:00",  /* minute 60 */
        "2026-11-21T09:15:02+7:00",   /* one-digit offset hour */
        "2026-11-21T09:15:02+07:00x", /* trailing junk */
        "2026-11-21T09:15:02+07:60",  /* offset minutes */
        "26-11-21T09:15:02+07:00",    /* two-digit year */
        "2026-1a-21T09:15:02+07:00",  /* not a digit */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        time_t t = 42;
        if (vntime_parse_iso(bad[i], &t) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(t, 42);
    }
}

static void parses_calendar_dates(void **state)
{
    assert_parses("2024-02-29", true, T_LEAPDAY);
    assert_parses("2027-01-01", true, T_NEWYEAR);
    /* 2000 is a leap year (divisible by 400); 1900 below is not. */
    assert_parses("2000-02-29", true, 951757200);
    time_t t = 0;
    static const char *bad[] = {
        "2026-02-29", "1900-02-29",  "2026-04-31", "2026-00-10", "2026-01-00",
        "2026-1-01",  "2026-01-01T", "2026/01/01", "x026-01-01", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (vntime_parse_date(bad[i], &t) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
}

static int set_tz(void **state)
{
    setenv("TZ", (const char *)*state, 1);
    tzset();
    return 0;
}

int main(void)
{
#define TESTS(tz)                                                                                  \
    cmocka_unit_test_prestate_setup_teardown(splits_into_vietnam_time, set_tz, NULL, tz),          \
        cmocka_unit_test_prestate_setup_teardown(join_inverts_split_and_normalises, set_tz, NULL,  \
                                                 tz),                                              \
        cmocka_unit_test_prestate_setup_teardown(formats_iso_and_date, set_tz, NULL, tz),          \
        cmocka_unit_test_prestate_setup_teardown(parses_iso_with_any_offset, set_tz, NULL, tz),    \
        cmocka_unit_test_prestate_setup_teardown(rejects_malformed_iso, set_tz, NULL, tz),         \
        cmocka_unit_test_prestate_setup_teardown(parses_calendar_dates, set_tz, NULL, tz)
    static char ny[] = "America/New_York";
    /* UTC-10 all year, no zone file needed: wrong whatever the database. */
    static char hawaii[] = "HST10";
    const struct CMUnitTest tests[] = {TESTS(ny), TESTS(hawaii)};
    return cmocka_run_group_tests_name("vntime", tests, NULL, NULL);
}
