/* panel.h — the front panel: one button, status lights, maybe a buzzer.
 *
 * The panel runs its own thread on top of a gpio (gpio.h: a chip or the
 * simulation) laid out as board_open_gpio() lays it out (board.h): input 0
 * the button, outputs green, yellow, red, buzzer, absent ones skipped.
 *
 * Button (one press = one job):
 *  - the input must stay put for debounce_ms (30 ms) before a change
 *    counts, so contact bounce never makes two presses;
 *  - PANEL_PRESS fires once, on the debounced press edge; a held button
 *    does not repeat;
 *  - held for long_press_ms (3 s) it also fires PANEL_LONG_PRESS, once:
 *    cancel the running job;
 *  - a press that starts within double_hit_ms (500 ms) of the previous
 *    release gives no PANEL_PRESS (a hurried double hit is one job), but
 *    held long enough it still gives PANEL_LONG_PRESS, since nobody holds
 *    a button 3 s by accident;
 *  - a button already down when the panel opens (stuck, or held at boot)
 *    gives nothing until it has been released.
 * The callback runs on the panel thread; it may call panel_set_state() and
 * panel_get_state(), and must return quickly (hand the job to a worker).
 *
 * Lights, on a board with green, yellow and red LEDs:
 *
 *   state            green           yellow   red             buzzer
 *   READY            on              -        -               -
 *   SCANNING         blink 2 Hz      -        -               -
 *   WORKING          blink 1 Hz      -        -               -
 *   DONE             on              on       -               1 beep
 *   ATTENTION        -               on       -               -
 *   ERROR_JAM        -               -        blink 4 Hz      3 beeps
 *   ERROR_COVER      -               -        blink 2 Hz      3 beeps
 *   ERROR_NO_PAPER   -               on       on              3 beeps
 *   ERROR_TOKEN      -               -        on              3 beeps
 *   ERROR_NETWORK    2nd s of 2      -        1st s of 2      3 beeps
 *
 * DONE lasts done_ms (2 s), then the panel goes back to the state before
 * it. ATTENTION: a document is held, the clerk looks at the console.
 * ERROR_NETWORK: red and green take turns, 1 s each; the station still
 * works locally while the upload queue grows.
 *
 * Blinks are 50 % duty, with the phase starting at the state change. Beeps
 * are 100 ms, 100 ms apart, sounded when the state is entered.
 *
 * With fewer than three LEDs colours cannot tell the states apart, so each
 * state has a one-LED code, distinct from every other state's by rhythm:
 *
 *   READY            on
 *   SCANNING         blink 2 Hz
 *   WORKING          blink 1 Hz
 *   DONE             flicker 8 Hz (for done_ms)
 *   ATTENTION        1.5 s on, 0.5 s off
 *   ERROR_JAM        blink 4 Hz
 *   ERROR_TOKEN      every 2 s, 1 flash  } flashes of 150 ms,
 *   ERROR_COVER      every 2 s, 2 flashes } 150 ms apart,
 *   ERROR_NO_PAPER   every 2 s, 3 flashes } then dark until
 *   ERROR_NETWORK    every 2 s, 4 flashes } the 2 s are over
 *
 * shown on the LED of the state's colour when the board has it (green for
 * READY..DONE; yellow, else red for ATTENTION; red, else yellow for errors),
 * otherwise on the first LED the board has; other LEDs stay off.
 *
 * All timing is on CLOCK_MONOTONIC. The thread sleeps in
 * gpio_wait_input_change() until the button moves, a light must change or a
 * deadline passes: a steady state with the button still costs no CPU.
 */
#ifndef SOHOA_PANEL_H
#define SOHOA_PANEL_H

#include "../firmware/err.h"
#include "board.h"
#include "gpio.h"

typedef enum panel_state {
    PANEL_READY = 0,
    PANEL_SCANNING,
    PANEL_WORKING,
    PANEL_DONE,
    PANEL_ATTENTION,
    PANEL_ERROR_JAM,
    PANEL_ERROR_COVER,
    PANEL_ERROR_NO_PAPER,
    PANEL_ERROR_TOKEN,
    PANEL_ERROR_NETWORK,
    PANEL_NSTATES
} panel_state;

typedef enum panel_event {
    PANEL_PRESS,      /* start a job */
    PANEL_LONG_PRESS, /* cancel the running job */
} panel_event;

typedef void (*on_button)(void *ctx, panel_event ev);

/* Timing; a zero field takes its default. Tests shrink them. */
typedef struct panel_options {
    unsigned debounce_ms;   /* stable this long to count (30) */
    unsigned long_press_ms; /* held this long: PANEL_LONG_PRESS (3000) */
    unsigned double_hit_ms; /* presses this soon after a release are ignored (500) */
    unsigned done_ms;       /* DONE shows this long (2000) */
    unsigned pattern_pct;   /* blink and beep timings in % of the table's (100) */
} panel_options;

typedef struct panel panel;

/* Starts the panel on `g` (borrowed: close it after panel_close()) wired
 * as board `b` describes (copied). The lights start in PANEL_READY. `cb`
 * may be NULL (lights only). Fails (SOHOA_EINPUT) when `g` has fewer
 * inputs or outputs than the board, (SOHOA_EWORK) when the lines cannot be
 * driven or the thread cannot start. */
panel *panel_open(gpio *g, const board *b, on_button cb, void *ctx, sohoa_err *err);

/* Same with timing options; `opts` NULL means defaults. */
panel *panel_open_opts(gpio *g, const board *b, const panel_options *opts, on_button cb, void *ctx,
                       sohoa_err *err);

/* Shows state `s` (any thread). Setting the state already shown changes
 * nothing (no restart of the blink, no beep). DONE shows for done_ms, then
 * the panel goes back to the state it replaced; a READY set meanwhile is
 * what it goes back to (the job is over either way), any other state ends
 * DONE at once. */
void panel_set_state(panel *p, panel_state s);

/* The state the lights show now (DONE while it lasts). */
panel_state panel_get_state(panel *p);

/* Vietnamese words for the console ("sẵn sàng", "đang quét", ...). */
const char *panel_state_text(panel_state s);

/* Short ASCII name for logs and status lines ("ready", "error-jam"). */
const char *panel_state_name(panel_state s);

/* 1 when the panel thread met a GPIO failure, its first one copied into
 * *err (`err` may be NULL); 0 when there was none. The thread keeps
 * running after a failure and tries a failed output again every second. */
int panel_error(panel *p, sohoa_err *err);

/* Stops the thread, turns the lights and buzzer off and frees `p`; NULL
 * is accepted. Does not close the gpio. */
void panel_close(panel *p);

#endif
