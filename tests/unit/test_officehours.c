/* Unit tests: firmware/officehours — effective receipt time, and the
 * validation of [station] office_hours, workdays, holidays, holidays_file.
 *
 * Calendar used below (Vietnam time): 2026-11-19 is a Thursday, -20 a
 * Friday, -21 Saturday, -22 Sunday, -23 Monday. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/config.h"
#include "firmware/officehours.h"
#include "firmware/vntime.h"

static time_t at(int y, int mo, int d, int h, int mi, int s)
{
    vn_tm v = {.year = y, .mon = mo, .day = d, .hour = h, .min = mi, .sec = s};
    return vntime_join(&v);
}

/* Asserts that `received` maps to `expected`, printing both in ISO form. */
#define assert_effective(oh, received, expected)                                                   \
    do {                                                                                           \
        time_t got_ = office_hours_effective((oh), (received));                                    \
        if (got_ != (expected)) {                                                                  \
            char a_[VNTIME_ISO_LEN], b_[VNTIME_ISO_LEN], c_[VNTIME_ISO_LEN];                       \
            vntime_iso((received), a_);                                                            \
            vntime_iso(got_, b_);                                                                  \
            vntime_iso((expected), c_);                                                            \
            fail_msg("received %s: effective %s, expected %s", a_, b_, c_);                        \
        }                                                                                          \
    } while (0)

/* `received` is inside office hours: it is its own effective time. */
#define assert_unchanged(oh, received) assert_effective((oh), (received), (received))

/* Parses `text` and loads office hours from it; fails the test on error. */
static void load_text(const char *text, office_hours *oh)
{
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, text, "t.conf", &err), 0);
    if (office_hours_load(&cfg, oh, &err) != 0)
        fail_msg("office_hours_load: %s", err.msg);
    config_free(&cfg);
}

static void defaults_are_the_documented_ones(void **state)
{
    office_hours oh;
    load_text("[station]\norgan_id = 000.00.15.H47\n", &oh);
    assert_int_equal(oh.nperiods, 2);
    assert_int_equal(oh.period[0].start, 7 * 60 + 30);
    assert_int_equal(oh.period[0].end, 11 * 60 + 30);
    assert_int_equal(oh.period[1].start, 13 * 60 + 30);
    assert_int_equal(oh.period[1].end, 17 * 60);
    assert_int_equal(oh.workdays, 0x3e); /* mon..fri */
    assert_int_equal(oh.nholidays, 0);
    office_hours_free(&oh);

    /* No configuration at all: the same defaults. */
    sohoa_err err = {0};
    assert_int_equal(office_hours_load(NULL, &oh, &err), 0);
    assert_int_equal(oh.nperiods, 2);
    assert_int_equal(oh.workdays, 0x3e);
    office_hours_free(&oh);
}

static void after_hours_moves_to_next_period(void **state)
{
    office_hours oh;
    load_text("[station]\n", &oh);
    /* Friday evening → Monday morning. */
    assert_effective(&oh, at(2026, 11, 20, 17, 30, 0), at(2026, 11, 23, 7, 30, 0));
    /* Lunch break → the afternoon period of the same day. */
    assert_effective(&oh, at(2026, 11, 23, 12, 0, 0), at(2026, 11, 23, 13, 30, 0));
    /* Before opening → opening of the same day. */
    assert_effective(&oh, at(2026, 11, 23, 6, 5, 0), at(2026, 11, 23, 7, 30, 0));
    /* Saturday and Sunday → Monday. */
    assert_effective(&oh, at(2026, 11, 21, 9, 0, 0), at(2026, 11, 23, 7, 30, 0));
    assert_effective(&oh, at(2026, 11, 22, 23, 59, 59), at(2026, 11, 23, 7, 30, 0));
    /* Thursday night → Friday morning. */
    assert_effective(&oh, at(2026, 11, 19, 21, 0, 0), at(2026, 11, 20, 7, 30, 0));
    /* Inside a period: unchanged, to the second. */
    assert_unchanged(&oh, at(2026, 11, 20, 9, 15, 2));
    assert_unchanged(&oh, at(2026, 11, 20, 14, 0, 0));
    office_hours_free(&oh);
}

static void period_start_inclusive_end_exclusive(void **state)
{
    office_hours oh;
    load_text("[station]\n", &oh);
    assert_unchanged(&oh, at(2026, 11, 23, 7, 30, 0));
    assert_effective(&oh, at(2026, 11, 23, 7, 29, 59), at(2026, 11, 23, 7, 30, 0));
    assert_unchanged(&oh, at(2026, 11, 23, 11, 29, 59));
    assert_effective(&oh, at(2026, 11, 23, 11, 30, 0), at(2026, 11, 23, 13, 30, 0));
    assert_unchanged(&oh, at(2026, 11, 20, 16, 59, 59));
    assert_effective(&oh, at(2026, 11, 20, 17, 0, 0), at(2026, 11, 23, 7, 30, 0));
    office_hours_free(&oh);

    /* A period running to midnight covers the day's last second. */
    load_text("[station]\noffice_hours = 00:00-24:00\n", &oh);
    assert_unchanged(&oh, at(2026, 11, 20, 23, 59, 59));
    assert_effective(&oh, at(2026, 11, 21, 0, 0, 0), at(2026, 11, 23, 0, 0, 0));
    office_hours_free(&oh);
}

static void holiday_range_across_weekend(void **state)
{
    office_hours oh;
    /* Friday to Tuesday off: Thursday evening counts as Wednesday 07:30. */
    load_text("[station]\nholidays = 2026-11-20..2026-11-24\n", &oh);
    assert_int_equal(oh.nholidays, 5);
    assert_effective(&oh, at(2026, 11, 19, 18, 0, 0), at(2026, 11, 25, 7, 30, 0));
    assert_effective(&oh, at(2026, 11, 23, 9, 0, 0), at(2026, 11, 25, 7, 30, 0));
    /* The day before the range is an ordinary day. */
    assert_unchanged(&oh, at(2026, 11, 19, 10, 0, 0));
    office_hours_free(&oh);

    /* Across the new year: 31 Dec (Thu) evening, 1 Jan off → Monday 4 Jan. */
    load_text("[station]\nholidays = 2027-01-01\n", &oh);
    assert_effective(&oh, at(2026, 12, 31, 18, 0, 0), at(2027, 1, 4, 7, 30, 0));
    office_hours_free(&oh);
}

static void workdays_lists_and_ranges(void **state)
{
    office_hours oh;
    load_text("[station]\nworkdays = mon-sat\n", &oh);
    assert_int_equal(oh.workdays, 0x7e);
    assert_unchanged(&oh, at(2026, 11, 21, 8, 0, 0));
    assert_effective(&oh, at(2026, 11, 20, 17, 30, 0), at(2026, 11, 21, 7, 30, 0));
    assert_effective(&oh, at(2026, 11, 21, 17, 30, 0), at(2026, 11, 23, 7, 30, 0));
    office_hours_free(&oh);

    load_text("[station]\nworkdays = Mon, wed,FRI\n", &oh);
    assert_int_equal(oh.workdays, (1u << 1) | (1u << 3) | (1u << 5));
    /* Monday evening → Wednesday. */
    assert_effective(&oh, at(2026, 11, 23, 18, 0, 0), at(2026, 11, 25, 7, 30, 0));
    office_hours_free(&oh);

    /* A range wraps over the end of the week. */
    load_text("[station]\nworkdays = sat-mon\n", &oh);
    assert_int_equal(oh.workdays, (1u << 6) | (1u << 0) | (1u << 1));
    office_hours_free(&oh);

    load_text("[station]\nworkdays = mon-fri,sat\n", &oh);
    assert_int_equal(oh.workdays, 0x7e);
    office_hours_free(&oh);
}

static void periods_in_any_order_are_sorted(void **state)
{
    office_hours oh;
    load_text("[station]\noffice_hours = 13:00-16:30 , 08:00-11:00,17:00-18:00\n", &oh);
    assert_int_equal(oh.nperiods, 3);
    assert_int_equal(oh.period[0].start, 8 * 60);
    assert_int_equal(oh.period[1].start, 13 * 60);
    assert_int_equal(oh.period[2].end, 18 * 60);
    assert_effective(&oh, at(2026, 11, 23, 11, 0, 0), at(2026, 11, 23, 13, 0, 0));
    assert_effective(&oh, at(2026, 11, 23, 16, 45, 0), at(2026, 11, 23, 17, 0, 0));
    /* Touching periods do not overlap. */
    office_hours_free(&oh);
    load_text("[station]\noffice_hours = 08:00-12:00,12:00-16:00\n", &oh);
    assert_int_equal(oh.nperiods, 2);
    office_hours_free(&oh);
}

static void no_working_day_returns_received(void **state)
{
    office_hours oh = {.nperiods = 1, .workdays = 0};
    oh.period[0].start = 480;
    oh.period[0].end = 1020;
    time_t t = at(2026, 11, 21, 3, 0, 0);
    assert_int_equal(office_hours_effective(&oh, t), t);
}

/* Loading `text` fails with SOHOA_EINPUT and a message holding each of
 * the fragments. */
static void expect_bad(const char *text, const char *frag1, const char *frag2)
{
    config cfg;
    office_hours oh;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, text, "t.conf", &err), 0);
    if (office_hours_load(&cfg, &oh, &err) != -1)
        fail_msg("accepted: %s", text);
    config_free(&cfg);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, frag1) || (frag2 && !strstr(err.msg, frag2)))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg, frag1, frag2 ? frag2 : "");
    /* Nothing is left allocated or half-filled. */
    assert_null(oh.holidays);
    assert_int_equal(oh.nperiods, 0);
}

static void rejects_bad_values_naming_the_key(void **state)
{
    expect_bad("[station]\noffice_hours = 07:30-11:30,13:30-25:00\n", "[station] office_hours",
               "25:00");
    expect_bad("[station]\noffice_hours = 25:00-26:00\n", "[station] office_hours", "HH:MM-HH:MM");
    expect_bad("[station]\noffice_hours = 10:00-09:00\n", "[station] office_hours",
               "ends before it starts");
    expect_bad("[station]\noffice_hours = 10:00-10:00\n", "[station] office_hours", NULL);
    expect_bad("[station]\noffice_hours = 07:00-12:00,11:00-13:00\n", "[station] office_hours",
               "overlap");
    expect_bad("[station]\noffice_hours = 07:00-17:00,08:00-09:00,10:00-11:00\n",
               "[station] office_hours", "overlap");
    expect_bad("[station]\noffice_hours = 7:30-11:30\n", "[station] office_hours", "7:30");
    expect_bad("[station]\noffice_hours = 07:30\n", "[station] office_hours", NULL);
    expect_bad("[station]\noffice_hours = 07:30-11:30,\n", "[station] office_hours", NULL);
    expect_bad("[station]\noffice_hours = 24:00-24:00\n", "[station] office_hours", NULL);
    expect_bad("[station]\noffice_hours = 01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,"
               "09:00-10:00,11:00-12:00,13:00-14:00,15:00-16:00,17:00-18:00\n",
               "[station] office_hours", "more than 8");
    expect_bad("[station]\nworkdays = mon-funday\n", "[station] workdays", "funday");
    expect_bad("[station]\nworkdays = monday\n", "[station] workdays", NULL);
    expect_bad("[station]\nholidays = 2026-02-30\n", "[station] holidays", "2026-02-30");
    expect_bad("[station]\nholidays = 2026-01-01,2026-02-20..2026-02-16\n", "[station] holidays",
               "ends before it starts");
    expect_bad("[station]\nholidays = 2026-01-01..2028-01-01\n", "[station] holidays", "year");
    expect_bad("[station]\nholidays = 01/01/2026\n", "[station] holidays", "YYYY-MM-DD");
    /* The line number of the key is given. */
    expect_bad("[station]\norgan_id = x\n\nworkdays = funday\n", ":4: [station] workdays", NULL);
}

/* A temporary directory with a configuration and a holidays file. */
typedef struct fixture {
    char dir[64];
    char conf[96];
    char hol[96];
} fixture;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void fixture_make(fixture *fx, const char *conf_text, const char *hol_text)
{
    strcpy(fx->dir, "/tmp/sohoa-oh-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->conf, sizeof fx->conf, "%s/sohoa.conf", fx->dir);
    snprintf(fx->hol, sizeof fx->hol, "%s/holidays.txt", fx->dir);
    write_file(fx->conf, conf_text);
    if (hol_text)
        write_file(fx->hol, hol_text);
}

static void fixture_remove(fixture *fx)
{
    unlink(fx->conf);
    unlink(fx->hol);
    rmdir(fx->dir);
}

/* Loads the configuration file fx->conf, then office hours from it:
 * 0, or -1 with *err set by whichever failed. */
static int load_conf_file(const fixture *fx, office_hours *oh, sohoa_err *err)
{
    config cfg;
    if (config_load(&cfg, fx->conf, err) != 0)
        return -1;
    int rc = office_hours_load(&cfg, oh, err);
    config_free(&cfg);
    return rc;
}

static void holidays_file_beside_the_config(void **state)
{
    fixture fx;
    fixture_make(&fx,
                 "[station]\nholidays = 2026-05-01, 2026-09-02\nholidays_file = holidays.txt\n",
                 "# Public holidays 2026\n"
                 "2026-02-16..2026-02-20   # Tết Nguyên đán\n"
                 "\n"
                 "   2026-04-30   \n"
                 "2026-05-01\n"
                 "# end\n");
    /* The working directory is elsewhere: the name must be resolved against
     * the configuration's directory, not the cwd. */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir("/"), 0);
    office_hours oh;
    sohoa_err err = {0};
    int rc = load_conf_file(&fx, &oh, &err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0) {
        fixture_remove(&fx);
        fail_msg("%s", err.msg);
    }
    /* 5 days of Tết + 30/4 + 1/5 (given twice) + 2/9, sorted, no repeats. */
    assert_int_equal(oh.nholidays, 8);
    static const int want[] = {20260216, 20260217, 20260218, 20260219,
                               20260220, 20260430, 20260501, 20260902};
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(oh.holidays[i], want[i]);
    /* Friday 13 Feb evening → Monday 23 Feb, after the Tết week. */
    assert_effective(&oh, at(2026, 2, 13, 18, 0, 0), at(2026, 2, 23, 7, 30, 0));
    /* Wednesday 29 Apr evening → Monday 4 May (Thu 30/4, Fri 1/5 off). */
    assert_effective(&oh, at(2026, 4, 29, 18, 0, 0), at(2026, 5, 4, 7, 30, 0));
    office_hours_free(&oh);
    fixture_remove(&fx);
}

static void holidays_file_errors_name_file_and_line(void **state)
{
    fixture fx;
    fixture_make(&fx, "[station]\nholidays_file = holidays.txt\n",
                 "# comment\n2026-01-01\n2026-13-01\n");
    office_hours oh;
    sohoa_err err = {0};
    int rc = load_conf_file(&fx, &oh, &err);
    char where[128];
    snprintf(where, sizeof where, "%s:3:", fx.hol);
    fixture_remove(&fx);
    assert_int_equal(rc, -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, where) || !strstr(err.msg, "2026-13-01") ||
        !strstr(err.msg, "holidays_file"))
        fail_msg("message \"%s\" lacks \"%s\", the value or the key", err.msg, where);

    /* A missing file names the key and the resolved path. */
    fixture_make(&fx, "[station]\nholidays_file = nowhere.txt\n", NULL);
    err_clear(&err);
    rc = load_conf_file(&fx, &oh, &err);
    snprintf(where, sizeof where, "%s/nowhere.txt", fx.dir);
    fixture_remove(&fx);
    assert_int_equal(rc, -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, where) || !strstr(err.msg, "sohoa.conf:2: [station] holidays_file"))
        fail_msg("message \"%s\" lacks \"%s\" or the key", err.msg, where);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(after_hours_moves_to_next_period),
        cmocka_unit_test(period_start_inclusive_end_exclusive),
        cmocka_unit_test(holiday_range_across_weekend),
        cmocka_unit_test(workdays_lists_and_ranges),
        cmocka_unit_test(periods_in_any_order_are_sorted),
        cmocka_unit_test(no_working_day_returns_received),
        cmocka_unit_test(rejects_bad_values_naming_the_key),
        cmocka_unit_test(holidays_file_beside_the_config),
        cmocka_unit_test(holidays_file_errors_name_file_and_line),
    };
    /* Vietnam time must not depend on the TZ of the machine. */
    setenv("TZ", "America/New_York", 1);
    return cmocka_run_group_tests_name("officehours", tests, NULL, NULL);
}
