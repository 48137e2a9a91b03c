/* gpio_chip.c — a GPIO character device through libgpiod 1.6 (see gpio.h).
 *
 * Inputs are requested for both-edge events, so the kernel queues every
 * edge with its time and a wait costs nothing until one comes. The wait
 * polls the lines' event descriptors together with an eventfd that
 * gpio_wake() writes, because gpiod_line_event_wait_bulk() cannot be told
 * to return early from another thread.
 */
#include "gpio.h"

#include <errno.h>
#include <gpiod.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct gpio_chip {
    gpio base;
    struct gpiod_chip *chip;
    struct gpiod_line **in;
    struct gpiod_line **out;
    struct pollfd *fds; /* one per input, then the wake eventfd */
    int wake_fd;
    char name[64];
} gpio_chip;

static int chip_get_input(gpio *g, size_t i, sohoa_err *err)
{
    gpio_chip *c = (gpio_chip *)g;
    int v = gpiod_line_get_value(c->in[i]);
    if (v < 0)
        return err_errno(err, SOHOA_EWORK, errno, "GPIO %s line %u: cannot read the input", c->name,
                         gpiod_line_offset(c->in[i]));
    return v;
}

static int chip_set_output(gpio *g, size_t i, int value, sohoa_err *err)
{
    gpio_chip *c = (gpio_chip *)g;
    if (gpiod_line_set_value(c->out[i], value) < 0)
        return err_errno(err, SOHOA_EWORK, errno, "GPIO %s line %u: cannot set the output", c->name,
                         gpiod_line_offset(c->out[i]));
    return 0;
}

static int chip_wait_input_change(gpio *g, int timeout_ms, sohoa_err *err)
{
    gpio_chip *c = (gpio_chip *)g;
    size_t n = g->ninputs;
    for (size_t i = 0; i <= n; i++)
        c->fds[i].revents = 0;
    int r = poll(c->fds, n + 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (r < 0) {
        /* A signal is not a failure: the caller loops and waits again. */
        if (errno == EINTR)
            return 0;
        return err_errno(err, SOHOA_EWORK, errno, "GPIO %s: waiting for input events", c->name);
    }
    if (c->fds[n].revents & POLLIN) {
        uint64_t v;
        if (read(c->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
            return err_errno(err, SOHOA_EWORK, errno, "GPIO %s: wake-up descriptor", c->name);
    }
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(c->fds[i].revents & (POLLIN | POLLPRI | POLLERR)))
            continue;
        /* Drain the queue: the caller reads the level afterwards, so the
         * edges only matter as "something changed". */
        struct gpiod_line_event ev[16];
        if (gpiod_line_event_read_fd_multiple(c->fds[i].fd, ev, 16) < 0)
            return err_errno(err, SOHOA_EWORK, errno, "GPIO %s line %u: reading input events",
                             c->name, gpiod_line_offset(c->in[i]));
        changed = 1;
    }
    return changed;
}

static void chip_wake(gpio *g)
{
    gpio_chip *c = (gpio_chip *)g;
    uint64_t one = 1;
    /* Can only fail if the counter would overflow: then a wake is pending. */
    ssize_t w = write(c->wake_fd, &one, sizeof one);
    (void)w;
}

static void chip_close(gpio *g)
{
    gpio_chip *c = (gpio_chip *)g;
    if (c->chip)
        gpiod_chip_close(c->chip); /* releases every requested line */
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    free(c->in);
    free(c->out);
    free(c->fds);
    free(c);
}

static const gpio_ops chip_ops = {
    .get_input = chip_get_input,
    .set_output = chip_set_output,
    .wait_input_change = chip_wait_input_change,
    .wake = chip_wake,
    .close = chip_close,
};

/* The line at `offset`, with an error naming the chip's size if absent. */
static struct gpiod_line *get_line(gpio_chip *c, unsigned offset, sohoa_err *err)
{
    struct gpiod_line *line = gpiod_chip_get_line(c->chip, offset);
    if (!line)
        err_set(err, SOHOA_EWORK,
                "GPIO %s has no line %u (it has lines 0 to %u); check the board config", c->name,
                offset, gpiod_chip_num_lines(c->chip) - 1);
    return line;
}

static int request_failed(gpio_chip *c, struct gpiod_line *line, const char *what, int e,
                          sohoa_err *err)
{
    if (e == EBUSY) {
        const char *user = gpiod_line_update(line) == 0 ? gpiod_line_consumer(line) : NULL;
        return err_set(err, SOHOA_EWORK, "GPIO %s line %u: already in use%s%s%s; stop it first",
                       c->name, gpiod_line_offset(line), user ? " by \"" : "", user ? user : "",
                       user ? "\"" : "");
    }
    return err_errno(err, SOHOA_EWORK, e, "GPIO %s line %u: cannot request it as %s", c->name,
                     gpiod_line_offset(line), what);
}

static int request_input(gpio_chip *c, struct gpiod_line *line, const char *consumer,
                         int active_low, sohoa_err *err)
{
    /* A button switches the line to ground (active low) or to the supply;
     * the internal bias holds it at the other level while open. */
    int flags = active_low
                    ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
                    : GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    if (gpiod_line_request_both_edges_events_flags(line, consumer, flags) == 0)
        return 0;
    int e = errno;
    /* Kernels before 5.5 have no bias setting and refuse the flag: the
     * board must then have its own pull resistor. */
    if (e == EINVAL || e == EOPNOTSUPP) {
        flags &= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
        if (gpiod_line_request_both_edges_events_flags(line, consumer, flags) == 0)
            return 0;
        e = errno;
    }
    return request_failed(c, line, "an input", e, err);
}

gpio *gpio_open_chip(const char *chip, const char *consumer, const unsigned *inputs, size_t ninputs,
                     const unsigned *outputs, size_t noutputs, int active_low_inputs,
                     sohoa_err *err)
{
    gpio_chip *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(err, SOHOA_EWORK, "GPIO %s: out of memory", chip);
        return NULL;
    }
    c->base.ops = &chip_ops;
    c->base.ninputs = ninputs;
    c->base.noutputs = noutputs;
    c->wake_fd = -1;
    snprintf(c->name, sizeof c->name, "%s", chip);
    c->in = calloc(ninputs + 1, sizeof *c->in);
    c->out = calloc(noutputs + 1, sizeof *c->out);
    c->fds = calloc(ninputs + 1, sizeof *c->fds);
    if (!c->in || !c->out || !c->fds) {
        err_set(err, SOHOA_EWORK, "GPIO %s: out of memory", chip);
        goto fail;
    }
    c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->wake_fd < 0) {
        err_errno(err, SOHOA_EWORK, errno, "GPIO %s: eventfd", chip);
        goto fail;
    }
    c->chip = gpiod_chip_open_lookup(chip);
    if (!c->chip) {
        err_errno(err, SOHOA_EWORK, errno,
                  "GPIO chip \"%s\": cannot open it (check gpio_chip in the board config and "
                  "that /dev/gpiochip* exists)",
                  chip);
        goto fail;
    }
    for (size_t i = 0; i < ninputs; i++) {
        if (!(c->in[i] = get_line(c, inputs[i], err)) ||
            request_input(c, c->in[i], consumer, active_low_inputs, err) != 0)
            goto fail;
        c->fds[i] = (struct pollfd){.fd = gpiod_line_event_get_fd(c->in[i]), .events = POLLIN};
    }
    c->fds[ninputs] = (struct pollfd){.fd = c->wake_fd, .events = POLLIN};
    for (size_t i = 0; i < noutputs; i++) {
        if (!(c->out[i] = get_line(c, outputs[i], err)))
            goto fail;
        if (gpiod_line_request_output(c->out[i], consumer, 0) != 0) {
            request_failed(c, c->out[i], "an output", errno, err);
            goto fail;
        }
    }
    return &c->base;
fail:
    chip_close(&c->base);
    return NULL;
}
