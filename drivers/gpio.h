/* gpio.h — the board's digital lines, behind a small interface.
 *
 * A `gpio` is a fixed set of input lines (the front-panel button) and
 * output lines (LEDs, buzzer), addressed by their index in the arrays given
 * when it was opened, not by chip line number. Two implementations:
 *
 *  - gpio_open_chip(): a GPIO character device through libgpiod 1.6
 *    (/dev/gpiochipN on the board);
 *  - gpio_open_sim(): a simulated board in memory, for tests and for
 *    machines without GPIO; inputs are set with gpio_sim_set_input() and
 *    every output change is recorded with its time.
 *
 * Input values are logical: 1 means active (button pressed) whatever the
 * electrical level, active-low lines being inverted when opened. Outputs
 * are active-high: 1 lights the LED or sounds the buzzer.
 *
 * Threads: get_input/set_output/wait_input_change are meant for one thread
 * (the panel's); gpio_wake() may be called from any thread.
 */
#ifndef SOHOA_GPIO_H
#define SOHOA_GPIO_H

#include <stddef.h>
#include <stdint.h>

#include "../firmware/err.h"

typedef struct gpio gpio;

/* What an implementation provides; used through the gpio_* functions. */
typedef struct gpio_ops {
    /* Logical value (0/1) of input `i`, or -1 with err set. */
    int (*get_input)(gpio *g, size_t i, sohoa_err *err);
    /* Drives output `i` to `value` (0/1); 0, or -1 with err set. */
    int (*set_output)(gpio *g, size_t i, int value, sohoa_err *err);
    /* Waits up to timeout_ms (-1: no limit) for an input to change; 1 when
     * one changed since the previous call returned, 0 on timeout or after
     * gpio_wake(), -1 with err set. */
    int (*wait_input_change)(gpio *g, int timeout_ms, sohoa_err *err);
    /* Makes a wait_input_change() in progress, or the next one, return 0. */
    void (*wake)(gpio *g);
    /* Releases the lines and frees `g`. */
    void (*close)(gpio *g);
} gpio_ops;

/* The common head of every implementation's state (its first member). */
struct gpio {
    const gpio_ops *ops;
    size_t ninputs, noutputs;
};

/* Opens `chip` (a name such as gpiochip0, a path, a label or a number, as
 * gpiod_chip_open_lookup() accepts) and requests its lines under the
 * consumer name `consumer`: `inputs` for both-edge events (pull-up bias for
 * active-low inputs, pull-down otherwise, when the kernel supports bias),
 * `outputs` as outputs driven low. active_low_inputs inverts every input so
 * that a button to ground reads 1 when pressed. Fails (SOHOA_EWORK) naming
 * the chip or line when the chip is absent or a line is taken or missing. */
gpio *gpio_open_chip(const char *chip, const char *consumer, const unsigned *inputs, size_t ninputs,
                     const unsigned *outputs, size_t noutputs, int active_low_inputs,
                     sohoa_err *err);

/* A simulated board with `ninputs` inputs (all 0) and `noutputs` outputs
 * (all 0). NULL only when out of memory. */
gpio *gpio_open_sim(size_t ninputs, size_t noutputs);

/* Number of inputs / outputs of `g`. */
size_t gpio_ninputs(const gpio *g);
size_t gpio_noutputs(const gpio *g);

/* Logical value (0/1) of input `i`, or -1 with err set (also when `i` is out
 * of range). */
int gpio_get_input(gpio *g, size_t i, sohoa_err *err);

/* Drives output `i`; 0, or -1 with err set (also when `i` is out of range). */
int gpio_set_output(gpio *g, size_t i, int value, sohoa_err *err);

/* See gpio_ops.wait_input_change. */
int gpio_wait_input_change(gpio *g, int timeout_ms, sohoa_err *err);

/* Interrupts a wait in progress (or the next one); safe from any thread. */
void gpio_wake(gpio *g);

/* Releases the lines and frees `g`; NULL is accepted. A released chip
 * output is no longer ours to drive: set it to 0 first if it must be off. */
void gpio_close(gpio *g);

/* --- the simulated board ------------------------------------------------ */

/* One output change seen by the simulated board. */
typedef struct gpio_sim_change {
    uint64_t t_ns; /* CLOCK_MONOTONIC time of the change */
    size_t output; /* output index */
    int value;     /* new value */
} gpio_sim_change;

/* Sets simulated input `i` to `value` (0/1) from any thread; a change wakes
 * the waiter of gpio_wait_input_change(). Returns -1 when `g` is not a
 * simulated board or `i` is out of range, else 0. */
int gpio_sim_set_input(gpio *g, size_t i, int value);

/* Current value of simulated output `i`, or -1 (not simulated, out of
 * range). Safe from any thread. */
int gpio_sim_get_output(gpio *g, size_t i);

/* Copies the output changes recorded so far (oldest first, at most 65536
 * are kept; later ones are dropped) into a malloc'd array at *changes
 * (NULL when there are none) and returns their number; -1 when `g` is not a
 * simulated board or out of memory. Safe from any thread. */
long gpio_sim_trace(gpio *g, gpio_sim_change **changes);

/* Forgets the recorded output changes. */
void gpio_sim_trace_clear(gpio *g);

#endif
