/* panel.c — front-panel button and lights (see panel.h for the behaviour
 * and the light table). */
#include "panel.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_MS 1000000ull
#define NEVER UINT64_MAX

/* After a failed output, try again this soon even if no light changes. */
#define RETRY_MS 1000u

/* A light's rhythm, in milliseconds of the table (scaled by pattern_pct):
 * every `period`, `flashes` pulses of `on` ms, one every `pitch` ms,
 * starting `offset` ms into the period. period 0 is steady: on when
 * flashes is not 0. */
typedef struct lamp {
    uint16_t period, flashes, on, pitch, offset;
} lamp;

/* clang-format off */
#define OFF {0, 0, 0, 0, 0}
#define ON {0, 1, 0, 0, 0}
#define BLINK(ms) {ms, 1, (ms) / 2, ms, 0}
/* The one-LED flash codes of the errors: a burst, then darkness. */
#define BURST(n) {2000, n, 150, 300, 0}
/* clang-format on */

enum { G = BOARD_LED_GREEN, Y = BOARD_LED_YELLOW, R = BOARD_LED_RED, NLEDS = 3 };

/* Three LEDs: the table of panel.h. */
static const lamp full_table[PANEL_NSTATES][NLEDS] = {
    [PANEL_READY] = {[G] = ON, [Y] = OFF, [R] = OFF},
    [PANEL_SCANNING] = {[G] = BLINK(500), [Y] = OFF, [R] = OFF},
    [PANEL_WORKING] = {[G] = BLINK(1000), [Y] = OFF, [R] = OFF},
    [PANEL_DONE] = {[G] = ON, [Y] = ON, [R] = OFF},
    [PANEL_ATTENTION] = {[G] = OFF, [Y] = ON, [R] = OFF},
    [PANEL_ERROR_JAM] = {[G] = OFF, [Y] = OFF, [R] = BLINK(250)},
    [PANEL_ERROR_COVER] = {[G] = OFF, [Y] = OFF, [R] = BLINK(500)},
    [PANEL_ERROR_NO_PAPER] = {[G] = OFF, [Y] = ON, [R] = ON},
    [PANEL_ERROR_TOKEN] = {[G] = OFF, [Y] = OFF, [R] = ON},
    /* Red then green, 1 s each: the station still works. */
    [PANEL_ERROR_NETWORK] = {[G] = {2000, 1, 1000, 2000, 1000}, [Y] = OFF, [R] = BLINK(2000)},
};

/* Fewer LEDs: one code per state, all different in rhythm. */
static const lamp one_table[PANEL_NSTATES] = {
    [PANEL_READY] = ON,
    [PANEL_SCANNING] = BLINK(500),
    [PANEL_WORKING] = BLINK(1000),
    [PANEL_DONE] = BLINK(125),
    [PANEL_ATTENTION] = {2000, 1, 1500, 2000, 0},
    [PANEL_ERROR_JAM] = BLINK(250),
    [PANEL_ERROR_COVER] = BURST(2),
    [PANEL_ERROR_NO_PAPER] = BURST(3),
    [PANEL_ERROR_TOKEN] = BURST(1),
    [PANEL_ERROR_NETWORK] = BURST(4),
};

/* Which LED carries the one-LED code, best first. */
static const int one_led_pref[PANEL_NSTATES][NLEDS] = {
    [PANEL_READY] = {G, Y, R},       [PANEL_SCANNING] = {G, Y, R},
    [PANEL_WORKING] = {G, Y, R},     [PANEL_DONE] = {G, Y, R},
    [PANEL_ATTENTION] = {Y, R, G},   [PANEL_ERROR_JAM] = {R, Y, G},
    [PANEL_ERROR_COVER] = {R, Y, G}, [PANEL_ERROR_NO_PAPER] = {R, Y, G},
    [PANEL_ERROR_TOKEN] = {R, Y, G}, [PANEL_ERROR_NETWORK] = {R, Y, G},
};

/* Beeps: 100 ms each, one every 200 ms. */
#define BEEP_ON_MS 100u
#define BEEP_PITCH_MS 200u

static const char *const state_text[PANEL_NSTATES] = {
    [PANEL_READY] = "sẵn sàng",
    [PANEL_SCANNING] = "đang quét",
    [PANEL_WORKING] = "đang xử lý",
    [PANEL_DONE] = "xong",
    [PANEL_ATTENTION] = "cần chú ý: có văn bản bị giữ lại, xem tại console",
    [PANEL_ERROR_JAM] = "lỗi: kẹt giấy",
    [PANEL_ERROR_COVER] = "lỗi: nắp máy quét đang mở",
    [PANEL_ERROR_NO_PAPER] = "lỗi: không có giấy trong khay nạp",
    [PANEL_ERROR_TOKEN] = "lỗi: không có token ký số",
    [PANEL_ERROR_NETWORK] = "lỗi mạng: vẫn làm việc, hàng đợi gửi đang tăng",
};

static const char *const state_name[PANEL_NSTATES] = {
    [PANEL_READY] = "ready",
    [PANEL_SCANNING] = "scanning",
    [PANEL_WORKING] = "working",
    [PANEL_DONE] = "done",
    [PANEL_ATTENTION] = "attention",
    [PANEL_ERROR_JAM] = "error-jam",
    [PANEL_ERROR_COVER] = "error-cover",
    [PANEL_ERROR_NO_PAPER] = "error-no-paper",
    [PANEL_ERROR_TOKEN] = "error-token",
    [PANEL_ERROR_NETWORK] = "error-network",
};

/* The button's debouncer; touched by the panel thread only. */
typedef struct button {
    int raw;            /* last level read */
    uint64_t raw_since; /* when it last moved */
    int stable;         /* debounced level */
    int long_armed;     /* the current press may still give a long press */
    uint64_t press_start;
    int released_once;
    uint64_t last_release;
} button;

struct panel {
    gpio *g;
    board b;
    panel_options o;
    on_button cb;
    void *ctx;
    int out_idx[BOARD_NOUTPUTS]; /* gpio output per board_output, -1 absent */
    int full;                    /* all three LEDs: the full table */
    int code_led[PANEL_NSTATES]; /* otherwise the LED of each state's code, -1 none */
    pthread_t thread;

    pthread_mutex_t lock; /* guards what follows */
    int stop;
    panel_state shown; /* on the lights now */
    panel_state base;  /* what DONE goes back to */
    uint64_t since;    /* phase anchor of `shown` */
    uint64_t done_until;
    uint64_t beep_start;
    unsigned beeps; /* of the current sequence; 0 = none */
    sohoa_err first_err;

    /* Panel thread only. */
    int out_val[BOARD_NOUTPUTS]; /* last level set, -1 unknown or failed */
    button btn;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ms_ns(unsigned ms)
{
    return (uint64_t)ms * NS_PER_MS;
}

/* Table milliseconds in nanoseconds, scaled by pattern_pct. */
static uint64_t pat_ns(const panel *p, unsigned ms)
{
    return (uint64_t)ms * NS_PER_MS * p->o.pattern_pct / 100u;
}

static int is_error(panel_state s)
{
    return s >= PANEL_ERROR_JAM && s < PANEL_NSTATES;
}

static void note_error(panel *p, const sohoa_err *e)
{
    pthread_mutex_lock(&p->lock);
    if (p->first_err.status == SOHOA_OK)
        p->first_err = *e;
    pthread_mutex_unlock(&p->lock);
}

/* Level of `l` at `t` ns after its anchor (the state change); *next is
 * lowered to the time of its next change, also counted from the anchor. */
static int lamp_at(const panel *p, const lamp *l, uint64_t t, uint64_t *next)
{
    if (!l->period)
        return l->flashes != 0;
    uint64_t period = pat_ns(p, l->period), off = pat_ns(p, l->offset) % period;
    uint64_t x = (t + period - off) % period;
    uint64_t boundary = period; /* the wrap is a possible change */
    int on = 0;
    for (unsigned k = 0; k < l->flashes; k++) {
        uint64_t s = pat_ns(p, k * l->pitch), e = pat_ns(p, k * l->pitch + l->on);
        if (x >= s && x < e)
            on = 1;
        if (s > x && s < boundary)
            boundary = s;
        if (e > x && e < boundary)
            boundary = e;
    }
    if (t + (boundary - x) < *next)
        *next = t + (boundary - x);
    return on;
}

/* Buzzer level at `now` (lock held); *next lowered to its next change. */
static int buzzer_at(panel *p, uint64_t now, uint64_t *next)
{
    if (!p->beeps)
        return 0;
    uint64_t t = now - p->beep_start;
    uint64_t rel_next = NEVER;
    lamp l = {0, (uint16_t)p->beeps, BEEP_ON_MS, BEEP_PITCH_MS, 0};
    /* A sequence is a single period long enough never to repeat. */
    l.period = (uint16_t)(p->beeps * BEEP_PITCH_MS + BEEP_PITCH_MS);
    if (t >= pat_ns(p, (p->beeps - 1) * BEEP_PITCH_MS + BEEP_ON_MS)) {
        p->beeps = 0;
        return 0;
    }
    int on = lamp_at(p, &l, t, &rel_next);
    if (rel_next != NEVER && p->beep_start + rel_next < *next)
        *next = p->beep_start + rel_next;
    return on;
}

/* The levels every output should have at `now` (lock held), and the time
 * of the next change. */
static void compute_outputs(panel *p, uint64_t now, int want[BOARD_NOUTPUTS], uint64_t *next)
{
    if (p->shown == PANEL_DONE && now >= p->done_until) {
        p->shown = p->base;
        p->since = p->done_until;
    }
    if (p->shown == PANEL_DONE && p->done_until < *next)
        *next = p->done_until;
    uint64_t t = now - p->since, rel_next = NEVER;
    for (int led = 0; led < NLEDS; led++) {
        const lamp *l = NULL;
        if (p->full)
            l = &full_table[p->shown][led];
        else if (p->code_led[p->shown] == led)
            l = &one_table[p->shown];
        want[led] = l ? lamp_at(p, l, t, &rel_next) : 0;
    }
    if (rel_next != NEVER && p->since + rel_next < *next)
        *next = p->since + rel_next;
    want[BOARD_BUZZER] = buzzer_at(p, now, next);
}

static void apply_outputs(panel *p, const int want[BOARD_NOUTPUTS], uint64_t now, uint64_t *next)
{
    for (int o = 0; o < BOARD_NOUTPUTS; o++) {
        if (p->out_idx[o] < 0 || p->out_val[o] == want[o])
            continue;
        sohoa_err e = {0};
        if (gpio_set_output(p->g, (size_t)p->out_idx[o], want[o], &e) == 0) {
            p->out_val[o] = want[o];
        } else {
            note_error(p, &e);
            p->out_val[o] = -1;
            if (now + ms_ns(RETRY_MS) < *next)
                *next = now + ms_ns(RETRY_MS);
        }
    }
}

/* One look at the button: `changed` when the gpio reported a change
 * (which may have come and gone before `level` was read). Fills events[]
 * and returns their number; *deadline lowered to when it must look again
 * even if nothing moves. */
static int button_step(panel *p, uint64_t now, int changed, int level, panel_event events[2],
                       uint64_t *deadline)
{
    button *b = &p->btn;
    int n = 0;
    if (changed || level != b->raw) {
        b->raw = level;
        b->raw_since = now;
    }
    if (b->raw != b->stable && now - b->raw_since >= ms_ns(p->o.debounce_ms)) {
        b->stable = b->raw;
        if (b->stable) {
            b->press_start = b->raw_since;
            b->long_armed = 1;
            int double_hit =
                b->released_once && b->press_start - b->last_release < ms_ns(p->o.double_hit_ms);
            if (!double_hit)
                events[n++] = PANEL_PRESS;
        } else {
            b->last_release = b->raw_since;
            b->released_once = 1;
            b->long_armed = 0;
        }
    }
    if (b->stable && b->long_armed && now - b->press_start >= ms_ns(p->o.long_press_ms)) {
        events[n++] = PANEL_LONG_PRESS;
        b->long_armed = 0;
    }
    if (b->raw != b->stable && b->raw_since + ms_ns(p->o.debounce_ms) < *deadline)
        *deadline = b->raw_since + ms_ns(p->o.debounce_ms);
    if (b->stable && b->long_armed && b->press_start + ms_ns(p->o.long_press_ms) < *deadline)
        *deadline = b->press_start + ms_ns(p->o.long_press_ms);
    return n;
}

static int timeout_ms(uint64_t next, uint64_t now)
{
    if (next == NEVER)
        return -1;
    if (next <= now)
        return 0;
    /* Rounded up: waking early would only mean another round trip. */
    uint64_t ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void *panel_thread(void *arg)
{
    panel *p = arg;
    int has_button = board_ninputs(&p->b) > 0;
    uint64_t next = 0; /* first round: set every output at once */
    for (;;) {
        sohoa_err e = {0};
        int changed = gpio_wait_input_change(p->g, timeout_ms(next, now_ns()), &e);
        if (changed < 0) {
            note_error(p, &e);
            changed = 0;
            /* Do not spin on a wait that fails at once. */
            struct timespec pause = {0, 100 * 1000000L};
            nanosleep(&pause, NULL);
        }
        uint64_t now = now_ns();
        next = NEVER;
        panel_event events[2];
        int nev = 0;
        if (has_button) {
            err_clear(&e);
            int level = gpio_get_input(p->g, 0, &e);
            if (level < 0) {
                note_error(p, &e);
                next = now + ms_ns(RETRY_MS);
            } else {
                nev = button_step(p, now, changed, level, events, &next);
            }
        }
        /* Outside the lock: the callback may set the state. */
        for (int i = 0; i < nev; i++)
            if (p->cb)
                p->cb(p->ctx, events[i]);

        int want[BOARD_NOUTPUTS];
        pthread_mutex_lock(&p->lock);
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        now = now_ns();
        compute_outputs(p, now, want, &next);
        pthread_mutex_unlock(&p->lock);
        apply_outputs(p, want, now, &next);
    }
    return NULL;
}

static void defaults(panel_options *o)
{
    if (!o->debounce_ms)
        o->debounce_ms = 30;
    if (!o->long_press_ms)
        o->long_press_ms = 3000;
    if (!o->double_hit_ms)
        o->double_hit_ms = 500;
    if (!o->done_ms)
        o->done_ms = 2000;
    if (!o->pattern_pct)
        o->pattern_pct = 100;
}

panel *panel_open_opts(gpio *g, const board *b, const panel_options *opts, on_button cb, void *ctx,
                       sohoa_err *err)
{
    if (gpio_ninputs(g) < board_ninputs(b) || gpio_noutputs(g) < board_noutputs(b)) {
        err_set(err, SOHOA_EINPUT,
                "panel: board %s needs %zu input(s) and %zu output(s), its GPIO has %zu and %zu; "
                "open the GPIO with board_open_gpio()",
                b->name, board_ninputs(b), board_noutputs(b), gpio_ninputs(g), gpio_noutputs(g));
        return NULL;
    }
    panel *p = calloc(1, sizeof *p);
    if (!p) {
        err_set(err, SOHOA_EWORK, "panel: out of memory");
        return NULL;
    }
    p->g = g;
    p->b = *b;
    if (opts)
        p->o = *opts;
    defaults(&p->o);
    p->cb = cb;
    p->ctx = ctx;
    int nleds = 0;
    for (int o = 0; o < BOARD_NOUTPUTS; o++) {
        p->out_idx[o] = board_output_index(b, o);
        p->out_val[o] = -1;
        if (o < NLEDS && p->out_idx[o] >= 0)
            nleds++;
    }
    p->full = nleds == NLEDS;
    for (int s = 0; s < PANEL_NSTATES; s++) {
        p->code_led[s] = -1;
        for (int k = 0; k < NLEDS && p->code_led[s] < 0; k++)
            if (p->out_idx[one_led_pref[s][k]] >= 0)
                p->code_led[s] = one_led_pref[s][k];
    }
    p->shown = p->base = PANEL_READY;
    p->since = now_ns();
    if (board_ninputs(b)) {
        int level = gpio_get_input(g, 0, err);
        if (level < 0) {
            free(p);
            return NULL;
        }
        /* Down already: taken as the settled level, so that only a release
         * and a new press count (long_armed is 0 for this one). */
        p->btn = (button){.raw = level, .stable = level, .raw_since = p->since};
    }
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        err_set(err, SOHOA_EWORK, "panel: cannot create a mutex");
        free(p);
        return NULL;
    }
    int rc = pthread_create(&p->thread, NULL, panel_thread, p);
    if (rc != 0) {
        err_errno(err, SOHOA_EWORK, rc, "panel: cannot start its thread");
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

panel *panel_open(gpio *g, const board *b, on_button cb, void *ctx, sohoa_err *err)
{
    return panel_open_opts(g, b, NULL, cb, ctx, err);
}

void panel_set_state(panel *p, panel_state s)
{
    if ((int)s < 0 || s >= PANEL_NSTATES)
        return;
    uint64_t now = now_ns();
    int changed = 1;
    pthread_mutex_lock(&p->lock);
    if (s == p->shown) {
        changed = 0;
    } else if (p->shown == PANEL_DONE && s == PANEL_READY) {
        /* The job is over either way: let DONE finish, then show READY. */
        p->base = PANEL_READY;
    } else {
        if (s == PANEL_DONE) {
            p->base = p->shown;
            p->done_until = now + ms_ns(p->o.done_ms);
        } else {
            p->base = s;
        }
        p->shown = s;
        p->since = now;
        if (s == PANEL_DONE || is_error(s)) {
            p->beep_start = now;
            p->beeps = s == PANEL_DONE ? 1 : 3;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (changed)
        gpio_wake(p->g);
}

panel_state panel_get_state(panel *p)
{
    pthread_mutex_lock(&p->lock);
    /* DONE may have run out while the thread sleeps on its deadline. */
    panel_state s = p->shown;
    if (s == PANEL_DONE && now_ns() >= p->done_until)
        s = p->base;
    pthread_mutex_unlock(&p->lock);
    return s;
}

const char *panel_state_text(panel_state s)
{
    return (int)s >= 0 && s < PANEL_NSTATES ? state_text[s] : "không rõ trạng thái";
}

const char *panel_state_name(panel_state s)
{
    return (int)s >= 0 && s < PANEL_NSTATES ? state_name[s] : "unknown";
}

int panel_error(panel *p, sohoa_err *err)
{
    pthread_mutex_lock(&p->lock);
    int failed = p->first_err.status != SOHOA_OK;
    if (failed && err)
        *err = p->first_err;
    pthread_mutex_unlock(&p->lock);
    return failed;
}

void panel_close(panel *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_mutex_unlock(&p->lock);
    gpio_wake(p->g);
    pthread_join(p->thread, NULL);
    /* A dark panel says the station is not running. */
    for (int o = 0; o < BOARD_NOUTPUTS; o++)
        if (p->out_idx[o] >= 0)
            gpio_set_output(p->g, (size_t)p->out_idx[o], 0, NULL);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
