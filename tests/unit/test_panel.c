/* Unit tests: drivers/gpio (simulated board, libgpiod chip), drivers/board
 * (the board config) and drivers/panel (button debouncing, light patterns,
 * buzzer) on the simulated board with the real clock. Light patterns are
 * checked by sampling the simulation's trace of output changes: blink
 * frequencies within ±20 %, duty cycles, steady levels, beeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <gpiod.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "drivers/board.h"
#include "drivers/gpio.h"
#include "drivers/panel.h"

#define MS 1000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Process CPU time (all threads), ns; the number of times its threads
 * went to sleep in *sleeps: a thread that polls shows up there even when
 * each round costs little CPU. */
static uint64_t cpu_ns(long *sleeps)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *sleeps = ru.ru_nvcsw;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static void expect_msg(const sohoa_err *err, const char *fragment)
{
    if (!strstr(err->msg, fragment))
        fail_msg("message \"%s\" lacks \"%s\"", err->msg, fragment);
}

/* --- a panel on a simulated board, with the button events recorded ------- */

typedef struct recorder {
    pthread_mutex_t m;
    int n;
    panel_event ev[32];
    uint64_t t[32];
} recorder;

static void record_event(void *ctx, panel_event ev)
{
    recorder *r = ctx;
    pthread_mutex_lock(&r->m);
    if (r->n < 32) {
        r->ev[r->n] = ev;
        r->t[r->n] = now_ns();
        r->n++;
    }
    pthread_mutex_unlock(&r->m);
}

static int count_events(recorder *r, panel_event ev)
{
    pthread_mutex_lock(&r->m);
    int c = 0;
    for (int i = 0; i < r->n; i++)
        c += r->ev[i] == ev;
    pthread_mutex_unlock(&r->m);
    return c;
}

/* The recorder, read under its lock (the panel thread writes it). */
static int nevents(recorder *r)
{
    pthread_mutex_lock(&r->m);
    int n = r->n;
    pthread_mutex_unlock(&r->m);
    return n;
}

static panel_event event_at(recorder *r, int i, uint64_t *t)
{
    pthread_mutex_lock(&r->m);
    int ok = i < r->n;
    panel_event ev = ok ? r->ev[i] : PANEL_PRESS;
    if (t)
        *t = ok ? r->t[i] : 0;
    pthread_mutex_unlock(&r->m);
    if (!ok)
        fail_msg("no event %d", i);
    return ev;
}

typedef struct rig {
    board b;
    gpio *g;
    panel *p;
    recorder rec;
} rig;

#define FULL_BOARD                                                                                 \
    "[board]\nname = test\ngpio_chip = sim\nbutton_line = 1\nled_green = 2\nled_yellow = 3\n"      \
    "led_red = 4\nbuzzer_line = 5\n"

/* Output indexes on FULL_BOARD's gpio (board_output order). */
enum { OG = 0, OY = 1, OR = 2, OB = 3 };

static rig *rig_open(const char *board_text, const panel_options *opts, int button_down)
{
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    sohoa_err err = {0};
    assert_int_equal(board_parse(board_text, "t.conf", &r->b, &err), 0);
    r->g = gpio_open_sim(board_ninputs(&r->b), board_noutputs(&r->b));
    assert_non_null(r->g);
    if (button_down)
        assert_int_equal(gpio_sim_set_input(r->g, 0, 1), 0);
    pthread_mutex_init(&r->rec.m, NULL);
    r->p = panel_open_opts(r->g, &r->b, opts, record_event, &r->rec, &err);
    if (!r->p)
        fail_msg("panel_open: %s", err.msg);
    return r;
}

static void rig_close(rig *r)
{
    panel_close(r->p);
    /* panel_close() turns everything off. */
    for (size_t i = 0; i < gpio_noutputs(r->g); i++)
        assert_int_equal(gpio_sim_get_output(r->g, i), 0);
    gpio_close(r->g);
    pthread_mutex_destroy(&r->rec.m);
    free(r);
}

static void set_button(rig *r, int v)
{
    assert_int_equal(gpio_sim_set_input(r->g, 0, v), 0);
}

/* --- button ------------------------------------------------------------- */

static void clean_press_gives_one_press_after_debounce(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    sleep_ms(50);
    uint64_t t0 = now_ns();
    set_button(r, 1);
    sleep_ms(150);
    set_button(r, 0);
    sleep_ms(150);
    assert_int_equal(count_events(&r->rec, PANEL_PRESS), 1);
    assert_int_equal(nevents(&r->rec), 1);
    /* On the press edge, once the input has been stable for 30 ms. */
    uint64_t t_ev;
    event_at(&r->rec, 0, &t_ev);
    uint64_t lat = t_ev - t0;
    if (lat < 30 * MS || lat > 130 * MS)
        fail_msg("press reported %.1f ms after the edge", lat / 1e6);
    rig_close(r);
}

/* Toggles the button every 5 ms for 20 ms, ending at `final`. */
static void bounce(rig *r, int final)
{
    for (int i = 0; i < 5; i++) {
        set_button(r, (i % 2 == 0) == (final == 1));
        if (i < 4)
            sleep_ms(5);
    }
}

static void bouncing_contacts_give_one_press(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    sleep_ms(50);
    bounce(r, 1);
    uint64_t settled = now_ns();
    sleep_ms(200);
    bounce(r, 0);
    sleep_ms(100);
    assert_int_equal(nevents(&r->rec), 1);
    uint64_t t_ev;
    assert_int_equal(event_at(&r->rec, 0, &t_ev), PANEL_PRESS);
    /* Not before the contacts settled plus the debounce time. */
    if (t_ev < settled + 28 * MS)
        fail_msg("press reported %.1f ms after the bouncing ended",
                 ((double)t_ev - (double)settled) / 1e6);
    rig_close(r);
}

static void held_press_does_not_repeat(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    sleep_ms(50);
    set_button(r, 1);
    sleep_ms(1000);
    set_button(r, 0);
    sleep_ms(100);
    assert_int_equal(nevents(&r->rec), 1);
    assert_int_equal(event_at(&r->rec, 0, NULL), PANEL_PRESS);
    rig_close(r);
}

static void press_held_3s_gives_one_long_press(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    sleep_ms(50);
    uint64_t t0 = now_ns();
    set_button(r, 1);
    sleep_ms(3200);
    set_button(r, 0);
    sleep_ms(100);
    assert_int_equal(nevents(&r->rec), 2);
    assert_int_equal(event_at(&r->rec, 0, NULL), PANEL_PRESS);
    uint64_t t_ev;
    assert_int_equal(event_at(&r->rec, 1, &t_ev), PANEL_LONG_PRESS);
    uint64_t at = t_ev - t0;
    if (at < 3000 * MS || at > 3150 * MS)
        fail_msg("long press reported %.0f ms after the press", at / 1e6);
    rig_close(r);
}

static void quick_second_press_is_ignored(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    sleep_ms(50);
    set_button(r, 1);
    sleep_ms(100);
    set_button(r, 0);
    sleep_ms(200); /* 200 ms after the release: a double hit */
    set_button(r, 1);
    sleep_ms(100);
    set_button(r, 0);
    sleep_ms(600);
    assert_int_equal(count_events(&r->rec, PANEL_PRESS), 1);
    /* Once the 500 ms have passed since the last release, presses count. */
    set_button(r, 1);
    sleep_ms(80);
    set_button(r, 0);
    sleep_ms(60);
    assert_int_equal(count_events(&r->rec, PANEL_PRESS), 2);
    assert_int_equal(count_events(&r->rec, PANEL_LONG_PRESS), 0);
    rig_close(r);
}

static void ignored_press_held_long_still_cancels(void **state)
{
    panel_options o = {.long_press_ms = 200};
    rig *r = rig_open(FULL_BOARD, &o, 0);
    sleep_ms(50);
    set_button(r, 1);
    sleep_ms(80);
    set_button(r, 0);
    sleep_ms(150);
    set_button(r, 1);
    sleep_ms(300);
    set_button(r, 0);
    sleep_ms(60);
    assert_int_equal(count_events(&r->rec, PANEL_PRESS), 1);
    assert_int_equal(count_events(&r->rec, PANEL_LONG_PRESS), 1);
    rig_close(r);
}

static void button_down_at_open_counts_only_after_release(void **state)
{
    panel_options o = {.long_press_ms = 200, .double_hit_ms = 100};
    rig *r = rig_open(FULL_BOARD, &o, 1);
    sleep_ms(300); /* longer than a long press */
    assert_int_equal(nevents(&r->rec), 0);
    set_button(r, 0);
    sleep_ms(150);
    set_button(r, 1);
    sleep_ms(80);
    set_button(r, 0);
    sleep_ms(60);
    assert_int_equal(nevents(&r->rec), 1);
    assert_int_equal(event_at(&r->rec, 0, NULL), PANEL_PRESS);
    rig_close(r);
}

/* --- lights: reading the trace ---------------------------------------------- */

typedef struct measure {
    int changes; /* of this output in the window */
    int rises, falls;
    double freq_hz;  /* from the edges of one kind, 0 when fewer than 2 */
    double duty;     /* fraction of the window it was on */
    int first_level; /* at the window's start */
} measure;

static int level_at(const gpio_sim_change *c, long n, size_t out, uint64_t t)
{
    int v = 0;
    for (long i = 0; i < n && c[i].t_ns <= t; i++)
        if (c[i].output == out)
            v = c[i].value;
    return v;
}

/* Output `out` over [from, to). */
static measure measure_output(gpio *g, size_t out, uint64_t from, uint64_t to)
{
    gpio_sim_change *c = NULL;
    long n = gpio_sim_trace(g, &c);
    assert_true(n >= 0);
    measure m = {0};
    m.first_level = level_at(c, n, out, from);
    int level = m.first_level;
    uint64_t last = from, on = 0;
    uint64_t rise[2] = {0, 0}, fall[2] = {0, 0}; /* first, last */
    for (long i = 0; i < n; i++) {
        if (c[i].output != out || c[i].t_ns < from || c[i].t_ns >= to)
            continue;
        if (level)
            on += c[i].t_ns - last;
        last = c[i].t_ns;
        level = c[i].value;
        m.changes++;
        if (level) {
            rise[m.rises ? 1 : 0] = c[i].t_ns;
            m.rises++;
        } else {
            fall[m.falls ? 1 : 0] = c[i].t_ns;
            m.falls++;
        }
    }
    if (level)
        on += to - last;
    m.duty = (double)on / (double)(to - from);
    if (m.rises >= 2 && m.rises >= m.falls)
        m.freq_hz = (m.rises - 1) / ((double)(rise[1] - rise[0]) / 1e9);
    else if (m.falls >= 2)
        m.freq_hz = (m.falls - 1) / ((double)(fall[1] - fall[0]) / 1e9);
    free(c);
    return m;
}

static void expect_steady(gpio *g, size_t out, const char *what, int level, uint64_t from,
                          uint64_t to)
{
    measure m = measure_output(g, out, from, to);
    if (m.changes != 0 || m.first_level != level)
        fail_msg("%s: expected steady %s, saw level %d then %d changes", what, level ? "on" : "off",
                 m.first_level, m.changes);
}

static void expect_blink(gpio *g, size_t out, const char *what, double hz, double duty,
                         uint64_t from, uint64_t to)
{
    measure m = measure_output(g, out, from, to);
    if (m.freq_hz < hz * 0.8 || m.freq_hz > hz * 1.2)
        fail_msg("%s: blinks at %.2f Hz (%d rises, %d falls), expected %.2f Hz ± 20%%", what,
                 m.freq_hz, m.rises, m.falls, hz);
    if (m.duty < duty - 0.12 || m.duty > duty + 0.12)
        fail_msg("%s: on %.0f%% of the time, expected %.0f%%", what, m.duty * 100, duty * 100);
}

/* Fraction of [from, to) during which outputs a and b were both on,
 * sampled every millisecond. */
static double both_on(gpio *g, size_t a, size_t b, uint64_t from, uint64_t to)
{
    gpio_sim_change *c = NULL;
    long n = gpio_sim_trace(g, &c);
    assert_true(n >= 0);
    int samples = 0, both = 0;
    for (uint64_t t = from; t < to; t += MS, samples++)
        both += level_at(c, n, a, t) && level_at(c, n, b, t);
    free(c);
    return samples ? (double)both / samples : 0;
}

static int count_rises(gpio *g, size_t out, uint64_t from, uint64_t to)
{
    return measure_output(g, out, from, to).rises;
}

/* --- lights: the three-LED table ----------------------------------------- */

/* The table of panel.h in Hz (0: steady at `level`). */
typedef struct expected {
    panel_state s;
    double hz[3];
    int level[3];
    int beeps;
} expected;

static void full_table_patterns(void **state)
{
    /* Faster than the table (x 6.7): the shape is the same, the test
     * shorter. */
    const unsigned pct = 15;
    const double k = 100.0 / pct;
    panel_options o = {.pattern_pct = pct};
    rig *r = rig_open(FULL_BOARD, &o, 0);
    static const expected table[] = {
        {PANEL_READY, {0, 0, 0}, {1, 0, 0}, 0},
        {PANEL_SCANNING, {2, 0, 0}, {0, 0, 0}, 0},
        {PANEL_WORKING, {1, 0, 0}, {0, 0, 0}, 0},
        {PANEL_ATTENTION, {0, 0, 0}, {0, 1, 0}, 0},
        {PANEL_ERROR_JAM, {0, 0, 4}, {0, 0, 0}, 3},
        {PANEL_ERROR_COVER, {0, 0, 2}, {0, 0, 0}, 3},
        {PANEL_ERROR_NO_PAPER, {0, 0, 0}, {0, 1, 1}, 3},
        {PANEL_ERROR_TOKEN, {0, 0, 0}, {0, 0, 1}, 3},
        {PANEL_ERROR_NETWORK, {0.5, 0, 0.5}, {0, 0, 0}, 3},
        {PANEL_READY, {0, 0, 0}, {1, 0, 0}, 0},
    };
    static const char *const led_name[3] = {"green", "yellow", "red"};
    sleep_ms(30);
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        const expected *e = &table[i];
        /* Four periods of the slowest blink, at most two of the network
         * pattern (600 ms); at least 120 ms (the beeps end at 75). */
        double slowest = 0;
        for (int led = 0; led < 3; led++)
            if (e->hz[led] > 0 && (slowest == 0 || e->hz[led] < slowest))
                slowest = e->hz[led];
        unsigned window = slowest > 0 ? (unsigned)(4000.0 / (slowest * k)) : 120;
        if (window > 600)
            window = 600;
        if (window < 120)
            window = 120;
        uint64_t t0 = now_ns();
        panel_set_state(r->p, e->s);
        assert_int_equal(panel_get_state(r->p), e->s);
        sleep_ms(window);
        uint64_t t1 = now_ns();
        for (int led = 0; led < 3; led++) {
            char what[64];
            snprintf(what, sizeof what, "%s, %s LED", panel_state_name(e->s), led_name[led]);
            if (e->hz[led] > 0)
                expect_blink(r->g, (size_t)led, what, e->hz[led] * k, 0.5, t0 + 10 * MS, t1);
            else
                expect_steady(r->g, (size_t)led, what, e->level[led], t0 + 15 * MS, t1);
        }
        /* Beeps of 15 ms can merge when the machine is loaded: here only
         * whether there are any; their number at the table's speed in
         * nominal_speed_and_no_busy_loop. */
        int beeps = count_rises(r->g, OB, t0, t1);
        if ((beeps > 0) != (e->beeps > 0))
            fail_msg("%s: %d beeps, expected %d", panel_state_name(e->s), beeps, e->beeps);
        if (e->s == PANEL_ERROR_NETWORK) {
            /* Red and green take turns: never both on (beyond the instant
             * between two writes), never both off. */
            measure g = measure_output(r->g, OG, t0 + 10 * MS, t1);
            measure rd = measure_output(r->g, OR, t0 + 10 * MS, t1);
            double overlap = both_on(r->g, OG, OR, t0 + 10 * MS, t1);
            if (g.duty + rd.duty < 0.9 || g.duty + rd.duty > 1.1 || overlap > 0.02)
                fail_msg("network: green %.2f + red %.2f of the time, both on %.2f", g.duty,
                         rd.duty, overlap);
        }
    }
    rig_close(r);
}

static void nominal_speed_and_no_busy_loop(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    sleep_ms(30);
    /* Steady and idle: the thread must sleep until something happens. */
    long s0, s1;
    uint64_t c0 = cpu_ns(&s0), t0 = now_ns();
    sleep_ms(300);
    uint64_t idle_cpu = cpu_ns(&s1) - c0;
    expect_steady(r->g, OG, "ready, green", 1, t0, now_ns());
    if (idle_cpu > 15 * MS || s1 - s0 > 5)
        fail_msg("idle panel used %.1f ms of CPU and slept %ld times in 300 ms", idle_cpu / 1e6,
                 s1 - s0);
    /* The table's own speed: scanning is green at 2 Hz, 4 changes a
     * second, each one wake-up. */
    c0 = cpu_ns(&s0);
    t0 = now_ns();
    panel_set_state(r->p, PANEL_SCANNING);
    sleep_ms(1100);
    uint64_t t1 = now_ns(), blink_cpu = cpu_ns(&s1) - c0;
    expect_blink(r->g, OG, "scanning, green", 2.0, 0.5, t0 + 10 * MS, t1);
    expect_steady(r->g, OR, "scanning, red", 0, t0, t1);
    if (blink_cpu > 40 * MS || s1 - s0 > 15)
        fail_msg("blinking panel used %.1f ms of CPU and slept %ld times in 1.1 s", blink_cpu / 1e6,
                 s1 - s0);
    /* A jam: red at 4 Hz, three beeps of 100 ms. */
    t0 = now_ns();
    panel_set_state(r->p, PANEL_ERROR_JAM);
    sleep_ms(560);
    t1 = now_ns();
    expect_blink(r->g, OR, "jam, red", 4.0, 0.5, t0 + 10 * MS, t1);
    measure b = measure_output(r->g, OB, t0, t1);
    double beep_ms = b.duty * (double)(t1 - t0) / 1e6;
    if (b.rises != 3 || beep_ms < 250 || beep_ms > 350)
        fail_msg("jam: %d beeps, %.0f ms in all; expected 3 of 100 ms", b.rises, beep_ms);
    rig_close(r);
}

static void done_returns_to_the_base_state_after_2s(void **state)
{
    rig *r = rig_open(FULL_BOARD, NULL, 0);
    panel_set_state(r->p, PANEL_WORKING);
    sleep_ms(200);
    uint64_t td = now_ns();
    panel_set_state(r->p, PANEL_DONE);
    sleep_ms(1800);
    assert_int_equal(panel_get_state(r->p), PANEL_DONE);
    uint64_t t1 = now_ns();
    expect_steady(r->g, OG, "done, green", 1, td + 15 * MS, t1);
    expect_steady(r->g, OY, "done, yellow", 1, td + 15 * MS, t1);
    /* One short beep. */
    measure b = measure_output(r->g, OB, td, t1);
    assert_int_equal(b.rises, 1);
    if (b.duty * 1800 < 70 || b.duty * 1800 > 160)
        fail_msg("done: beep of %.0f ms, expected 100", b.duty * 1800);
    sleep_ms(800);
    assert_int_equal(panel_get_state(r->p), PANEL_WORKING);
    /* Yellow went off at DONE's end, then green blinks at 1 Hz again
     * (off half a period later). */
    uint64_t t2 = now_ns();
    measure y = measure_output(r->g, OY, td + 1800 * MS, t2);
    measure g = measure_output(r->g, OG, td + 1800 * MS, t2);
    assert_int_equal(y.falls, 1);
    assert_int_equal(g.falls, 1);
    gpio_sim_change *c = NULL;
    long n = gpio_sim_trace(r->g, &c);
    uint64_t y_off = 0, g_off = 0;
    for (long i = 0; i < n; i++) {
        if (c[i].t_ns < td + 1800 * MS || c[i].value)
            continue;
        if (c[i].output == OY)
            y_off = c[i].t_ns - td;
        if (c[i].output == OG)
            g_off = c[i].t_ns - td;
    }
    free(c);
    if (y_off < 1990 * MS || y_off > 2100 * MS)
        fail_msg("DONE lasted %.0f ms, expected 2000", y_off / 1e6);
    if (g_off < 2490 * MS || g_off > 2600 * MS)
        fail_msg("green went off %.0f ms after DONE, expected 2500", g_off / 1e6);
    rig_close(r);
}

static void done_and_later_states(void **state)
{
    panel_options o = {.done_ms = 300, .pattern_pct = 20};
    rig *r = rig_open(FULL_BOARD, &o, 0);
    panel_set_state(r->p, PANEL_WORKING);
    panel_set_state(r->p, PANEL_DONE);
    sleep_ms(100);
    /* READY while DONE shows: DONE finishes, then READY. */
    panel_set_state(r->p, PANEL_READY);
    assert_int_equal(panel_get_state(r->p), PANEL_DONE);
    sleep_ms(300);
    assert_int_equal(panel_get_state(r->p), PANEL_READY);
    assert_int_equal(gpio_sim_get_output(r->g, OY), 0);
    assert_int_equal(gpio_sim_get_output(r->g, OG), 1);
    /* Any other state ends DONE at once. */
    panel_set_state(r->p, PANEL_DONE);
    sleep_ms(50);
    panel_set_state(r->p, PANEL_ERROR_TOKEN);
    assert_int_equal(panel_get_state(r->p), PANEL_ERROR_TOKEN);
    sleep_ms(50);
    assert_int_equal(gpio_sim_get_output(r->g, OR), 1);
    assert_int_equal(gpio_sim_get_output(r->g, OY), 0);
    assert_int_equal(gpio_sim_get_output(r->g, OG), 0);
    /* The same state again is no change: no new beeps. */
    sleep_ms(100);
    uint64_t t0 = now_ns();
    panel_set_state(r->p, PANEL_ERROR_TOKEN);
    sleep_ms(100);
    assert_int_equal(count_rises(r->g, OB, t0, now_ns()), 0);
    assert_int_equal(panel_error(r->p, NULL), 0);
    rig_close(r);
}

/* --- lights: fewer LEDs --------------------------------------------------- */

static void one_led_board_uses_codes(void **state)
{
    /* Red only: every state shows on it, told apart by rhythm. At 20 %
     * speed a code's period is 400 ms. */
    panel_options o = {.pattern_pct = 20};
    rig *r =
        rig_open("[board]\nname = one\ngpio_chip = sim\nbutton_line = 0\nled_red = 1\n", &o, 0);
    assert_int_equal(gpio_noutputs(r->g), 1);
    sleep_ms(30);
    expect_steady(r->g, 0, "ready", 1, now_ns() - 10 * MS, now_ns());
    static const struct {
        panel_state s;
        int falls;   /* in one 400 ms period */
        double duty; /* over it */
    } codes[] = {
        /* A blink, a faster blink, and flash codes told apart by count
         * or by length (network and scanning both fall 4 times). */
        {PANEL_SCANNING, 4, 0.5},      {PANEL_ERROR_JAM, 8, 0.5},
        {PANEL_ERROR_TOKEN, 1, 0.075}, {PANEL_ERROR_NO_PAPER, 3, 0.225},
        {PANEL_ERROR_NETWORK, 4, 0.3}, {PANEL_ATTENTION, 1, 0.75},
    };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        uint64_t t0 = now_ns();
        panel_set_state(r->p, codes[i].s);
        sleep_ms(410);
        measure m = measure_output(r->g, 0, t0, t0 + 400 * MS);
        if (m.falls != codes[i].falls || m.duty < codes[i].duty - 0.09 ||
            m.duty > codes[i].duty + 0.09)
            fail_msg("%s on one LED: %d flashes, on %.1f%%; expected %d, %.1f%%",
                     panel_state_name(codes[i].s), m.falls, m.duty * 100, codes[i].falls,
                     codes[i].duty * 100);
    }
    rig_close(r);
}

static void two_led_board_puts_codes_on_the_right_colour(void **state)
{
    /* Green and red, no yellow: ATTENTION and errors on red, the rest on
     * green; the other LED stays dark. */
    panel_options o = {.pattern_pct = 50};
    rig *r = rig_open("[board]\nname = two\ngpio_chip = sim\nled_green = 1\nled_red = 2\n", &o, 0);
    assert_int_equal(board_output_index(&r->b, BOARD_LED_RED), 1);
    sleep_ms(30);
    assert_int_equal(gpio_sim_get_output(r->g, 0), 1);
    assert_int_equal(gpio_sim_get_output(r->g, 1), 0);
    uint64_t t0 = now_ns();
    panel_set_state(r->p, PANEL_ERROR_NO_PAPER); /* needs yellow in the full table */
    sleep_ms(480); /* flashes end at 75, 225, 375 ms; the next burst starts at 1 s */
    uint64_t t1 = now_ns();
    expect_steady(r->g, 0, "no paper, green", 0, t0 + 15 * MS, t1);
    measure m = measure_output(r->g, 1, t0, t1);
    if (m.falls != 3)
        fail_msg("no paper on red: %d flashes, expected 3", m.falls);
    panel_set_state(r->p, PANEL_ATTENTION);
    sleep_ms(50);
    assert_int_equal(gpio_sim_get_output(r->g, 1), 1);
    assert_int_equal(gpio_sim_get_output(r->g, 0), 0);
    rig_close(r);
}

static void words_for_the_console(void **state)
{
    assert_string_equal(panel_state_text(PANEL_READY), "sẵn sàng");
    assert_string_equal(panel_state_text(PANEL_SCANNING), "đang quét");
    assert_non_null(strstr(panel_state_text(PANEL_ERROR_JAM), "kẹt giấy"));
    assert_non_null(strstr(panel_state_text(PANEL_ERROR_TOKEN), "token"));
    for (int s = 0; s < PANEL_NSTATES; s++) {
        assert_true(strlen(panel_state_text((panel_state)s)) > 0);
        for (int t = 0; t < s; t++) {
            assert_string_not_equal(panel_state_text((panel_state)s),
                                    panel_state_text((panel_state)t));
            assert_string_not_equal(panel_state_name((panel_state)s),
                                    panel_state_name((panel_state)t));
        }
    }
    assert_string_equal(panel_state_name(PANEL_NSTATES), "unknown");
}

static void panel_refuses_a_gpio_smaller_than_the_board(void **state)
{
    board b;
    sohoa_err err = {0};
    assert_int_equal(board_parse(FULL_BOARD, "t.conf", &b, &err), 0);
    gpio *g = gpio_open_sim(1, 2);
    assert_null(panel_open(g, &b, NULL, NULL, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    expect_msg(&err, "4 output(s)");
    gpio_close(g);
}

/* --- the simulated gpio itself ------------------------------------------- */

typedef struct {
    gpio *g;
    unsigned delay_ms;
} setter_arg;

static void *set_later(void *arg)
{
    setter_arg *a = arg;
    sleep_ms(a->delay_ms);
    gpio_sim_set_input(a->g, 1, 1);
    return NULL;
}

static void sim_wait_wake_and_trace(void **state)
{
    gpio *g = gpio_open_sim(2, 2);
    sohoa_err err = {0};
    assert_int_equal(gpio_ninputs(g), 2);
    assert_int_equal(gpio_get_input(g, 1, &err), 0);
    /* Timeout. */
    uint64_t t0 = now_ns();
    assert_int_equal(gpio_wait_input_change(g, 60, &err), 0);
    uint64_t dt = now_ns() - t0;
    assert_true(dt >= 60 * MS && dt < 200 * MS);
    /* Another thread's change wakes a wait without limit. */
    pthread_t th;
    setter_arg a = {g, 50};
    pthread_create(&th, NULL, set_later, &a);
    assert_int_equal(gpio_wait_input_change(g, -1, &err), 1);
    pthread_join(th, NULL);
    assert_int_equal(gpio_get_input(g, 1, &err), 1);
    /* A change made before the wait is not lost; the same value again is
     * no change. */
    gpio_sim_set_input(g, 0, 1);
    gpio_sim_set_input(g, 0, 1);
    assert_int_equal(gpio_wait_input_change(g, 0, &err), 1);
    assert_int_equal(gpio_wait_input_change(g, 0, &err), 0);
    /* gpio_wake() ends a wait early with 0. */
    gpio_wake(g);
    t0 = now_ns();
    assert_int_equal(gpio_wait_input_change(g, 5000, &err), 0);
    assert_true(now_ns() - t0 < 100 * MS);
    /* Only changes are traced, in order. */
    assert_int_equal(gpio_set_output(g, 1, 1, &err), 0);
    assert_int_equal(gpio_set_output(g, 1, 1, &err), 0);
    assert_int_equal(gpio_set_output(g, 0, 0, &err), 0);
    assert_int_equal(gpio_set_output(g, 1, 0, &err), 0);
    gpio_sim_change *c = NULL;
    assert_int_equal(gpio_sim_trace(g, &c), 2);
    assert_int_equal(c[0].output, 1);
    assert_int_equal(c[0].value, 1);
    assert_int_equal(c[1].value, 0);
    assert_true(c[1].t_ns >= c[0].t_ns);
    free(c);
    gpio_sim_trace_clear(g);
    assert_int_equal(gpio_sim_trace(g, &c), 0);
    assert_null(c);
    /* Out of range. */
    assert_int_equal(gpio_sim_set_input(g, 2, 1), -1);
    assert_int_equal(gpio_sim_get_output(g, 2), -1);
    assert_int_equal(gpio_set_output(g, 5, 1, &err), -1);
    expect_msg(&err, "output 5 does not exist");
    gpio_close(g);
}

/* --- the libgpiod chip ----------------------------------------------------- */

static void missing_chip_is_named(void **state)
{
    sohoa_err err = {0};
    unsigned in = 0;
    assert_null(gpio_open_chip("sohoa-no-such-chip", "sohoa-test", &in, 1, NULL, 0, 1, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    expect_msg(&err, "\"sohoa-no-such-chip\"");
    expect_msg(&err, "gpio_chip");
}

/* Path of a gpio-sim or gpio-mockup chip (safe to drive), of any chip in
 * *any (only opened, never driven), or NULL. */
static char *find_chip(char **any)
{
    glob_t gl;
    char *sim = NULL;
    *any = NULL;
    if (glob("/dev/gpiochip*", 0, NULL, &gl) != 0)
        return NULL;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        struct gpiod_chip *c = gpiod_chip_open(gl.gl_pathv[i]);
        if (!c)
            continue;
        if (!*any)
            *any = strdup(gl.gl_pathv[i]);
        const char *label = gpiod_chip_label(c);
        if (!sim && (strncmp(label, "gpio-sim", 8) == 0 || strncmp(label, "gpio-mockup", 11) == 0))
            sim = strdup(gl.gl_pathv[i]);
        gpiod_chip_close(c);
    }
    globfree(&gl);
    return sim;
}

static void chip_lines_through_libgpiod(void **state)
{
    char *any = NULL, *sim = find_chip(&any);
    if (!any) {
        print_message("    no /dev/gpiochip* here (no GPIO hardware, gpio-sim or gpio-mockup "
                      "module): gpio_open_chip is only checked against a missing chip\n");
        skip();
    }
    sohoa_err err = {0};
    /* Any chip: open it with no lines, and ask for a line past its end
     * (refused before anything is requested). */
    gpio *g = gpio_open_chip(any, "sohoa-test", NULL, 0, NULL, 0, 1, &err);
    if (!g)
        fail_msg("%s: %s", any, err.msg);
    gpio_close(g);
    unsigned beyond = 100000;
    assert_null(gpio_open_chip(any, "sohoa-test", &beyond, 1, NULL, 0, 1, &err));
    expect_msg(&err, "no line 100000");
    if (!sim) {
        print_message("    %s is real hardware: its lines are not driven by the test\n", any);
        free(any);
        return;
    }
    /* A simulated chip: line 0 in, line 1 out. */
    err_clear(&err);
    unsigned in = 0, out = 1;
    g = gpio_open_chip(sim, "sohoa-test", &in, 1, &out, 1, 1, &err);
    if (!g)
        fail_msg("%s: %s", sim, err.msg);
    assert_int_equal(gpio_set_output(g, 0, 1, &err), 0);
    assert_int_equal(gpio_set_output(g, 0, 0, &err), 0);
    int v = gpio_get_input(g, 0, &err);
    assert_true(v == 0 || v == 1);
    uint64_t t0 = now_ns();
    assert_true(gpio_wait_input_change(g, 50, &err) >= 0);
    gpio_wake(g);
    assert_int_equal(gpio_wait_input_change(g, 5000, &err), 0);
    assert_true(now_ns() - t0 < 1000 * MS);
    /* Taken lines are refused, naming us as their user. */
    err_clear(&err);
    assert_null(gpio_open_chip(sim, "other", &in, 1, NULL, 0, 1, &err));
    expect_msg(&err, "in use");
    gpio_close(g);
    free(sim);
    free(any);
}

/* --- board config ---------------------------------------------------------- */

static void loads_the_example_boards(void **state)
{
    board b;
    sohoa_err err = {0};
    if (board_load("board/boards/rpi4.conf", &b, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(b.name, "Raspberry Pi 4 Model B");
    assert_string_equal(b.gpio_chip, "gpiochip0");
    assert_int_equal(b.button_line, 17);
    assert_int_equal(b.button_active_low, 1);
    assert_int_equal(b.out_line[BOARD_LED_GREEN], 22);
    assert_int_equal(b.out_line[BOARD_BUZZER], 25);
    assert_string_equal(b.console, "/dev/ttyAMA0");
    assert_int_equal(board_ninputs(&b), 1);
    assert_int_equal(board_noutputs(&b), 4);
    assert_int_equal(board_output_index(&b, BOARD_BUZZER), 3);

    if (board_load("board/boards/qemu-virt.conf", &b, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(b.button_line, BOARD_NO_LINE);
    assert_int_equal(board_ninputs(&b), 0);
    assert_int_equal(board_noutputs(&b), 3);
    assert_int_equal(board_output_index(&b, BOARD_LED_RED), 2);
    assert_int_equal(board_output_index(&b, BOARD_BUZZER), -1);
}

static void board_defaults_and_absent_lines(void **state)
{
    board b;
    sohoa_err err = {0};
    /* Empty values are absent; output indexes skip absent outputs. */
    assert_int_equal(board_parse("[board]\nname = x\ngpio_chip = gpiochip1\nbutton_line = 3\n"
                                 "button_active_low = no\nled_green =\nled_red = 7\n"
                                 "buzzer_line = 9\n[other]\nanything = 1\n",
                                 "t.conf", &b, &err),
                     0);
    assert_int_equal(b.button_active_low, 0);
    assert_int_equal(b.out_line[BOARD_LED_GREEN], BOARD_NO_LINE);
    assert_int_equal(board_output_index(&b, BOARD_LED_GREEN), -1);
    assert_int_equal(board_output_index(&b, BOARD_LED_RED), 0);
    assert_int_equal(board_output_index(&b, BOARD_BUZZER), 1);
    assert_string_equal(b.console, "");
    /* A board with no lines needs no chip, and gets an empty gpio. */
    assert_int_equal(board_parse("[board]\nname = bare\n", "t.conf", &b, &err), 0);
    assert_int_equal(b.button_active_low, 1);
    gpio *g = board_open_gpio(&b, "sohoa-test", &err);
    assert_non_null(g);
    assert_int_equal(gpio_ninputs(g), 0);
    assert_int_equal(gpio_noutputs(g), 0);
    gpio_close(g);
}

static void expect_board_error(const char *text, const char *frag1, const char *frag2)
{
    board b;
    sohoa_err err = {0};
    assert_int_equal(board_parse(text, "t.conf", &b, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    expect_msg(&err, frag1);
    if (frag2)
        expect_msg(&err, frag2);
}

static void board_config_errors_are_named(void **state)
{
    expect_board_error("[board]\nname = x\ngpio_chip = c\nled_gren = 3\n", "t.conf:4",
                       "led_gren: unknown key");
    expect_board_error("[board]\nname = x\ngpio_chip = c\nled_red = 17x\n", "t.conf:4",
                       "led_red = \"17x\"");
    expect_board_error("[board]\nname = x\ngpio_chip = c\nbutton_line = -2\n", "button_line",
                       "from 0 to 4095");
    expect_board_error("[board]\nname = x\ngpio_chip = c\nled_red = 99999\n", "led_red",
                       "from 0 to 4095");
    expect_board_error("[board]\nname = x\ngpio_chip = c\nbutton_line = 17\nled_red = 17\n",
                       "t.conf:5", "led_red = 17 is the line of button_line");
    expect_board_error("[board]\nname = x\ngpio_chip = c\nled_green = 4\nbuzzer_line = 4\n",
                       "buzzer_line = 4", "led_green");
    expect_board_error("[board]\nname = x\nled_green = 4\n", "gpio_chip is missing", NULL);
    expect_board_error("[board]\ngpio_chip = c\n", "name is missing", NULL);
    expect_board_error("[bord]\nname = x\n", "no [board] section", NULL);
    expect_board_error("[board]\nname = x\nbutton_active_low = maybe\n", "t.conf:3",
                       "expected yes or no");
    expect_board_error("[board]\nname = x\nconsole = ttyAMA0\n", "console", "device path");
    expect_board_error("[board]\nname = x\ngpio_chip = gpio chip0\n", "gpio_chip",
                       "without spaces");
    expect_board_error("[board]\nname = x\nname = y\n", "t.conf:3", "set twice");
    board b;
    sohoa_err err = {0};
    assert_int_equal(board_load("/nonexistent/sohoa-board.conf", &b, &err), -1);
    expect_msg(&err, "/nonexistent/sohoa-board.conf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_the_example_boards),
        cmocka_unit_test(board_defaults_and_absent_lines),
        cmocka_unit_test(board_config_errors_are_named),
        cmocka_unit_test(sim_wait_wake_and_trace),
        cmocka_unit_test(missing_chip_is_named),
        cmocka_unit_test(chip_lines_through_libgpiod),
        cmocka_unit_test(words_for_the_console),
        cmocka_unit_test(panel_refuses_a_gpio_smaller_than_the_board),
        cmocka_unit_test(clean_press_gives_one_press_after_debounce),
        cmocka_unit_test(bouncing_contacts_give_one_press),
        cmocka_unit_test(held_press_does_not_repeat),
        cmocka_unit_test(press_held_3s_gives_one_long_press),
        cmocka_unit_test(quick_second_press_is_ignored),
        cmocka_unit_test(ignored_press_held_long_still_cancels),
        cmocka_unit_test(button_down_at_open_counts_only_after_release),
        cmocka_unit_test(full_table_patterns),
        cmocka_unit_test(nominal_speed_and_no_busy_loop),
        cmocka_unit_test(done_returns_to_the_base_state_after_2s),
        cmocka_unit_test(done_and_later_states),
        cmocka_unit_test(one_led_board_uses_codes),
        cmocka_unit_test(two_led_board_puts_codes_on_the_right_colour),
    };
    return cmocka_run_group_tests_name("panel", tests, NULL, NULL);
}
