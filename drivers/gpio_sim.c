/* gpio_sim.c — the simulated board (see gpio.h), and the gpio_* calls that
 * dispatch to whichever implementation a `gpio` is (they live with the
 * simulation because it is the implementation every build can use).
 */
#include "gpio.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Minutes of fast blinking; a test that needs more clears the trace. */
#define TRACE_MAX 65536

typedef struct gpio_sim {
    gpio base;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* on CLOCK_MONOTONIC, like the panel's clock */
    int *inputs;
    int *outputs;
    /* Input changes counted so that a change between two waits is not lost:
     * a waiter returns 1 whenever `generation` moved past `seen`. */
    uint64_t generation, seen;
    int woken;
    gpio_sim_change *trace;
    size_t ntrace, trace_cap;
} gpio_sim;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int sim_get_input(gpio *g, size_t i, sohoa_err *err)
{
    gpio_sim *s = (gpio_sim *)g;
    pthread_mutex_lock(&s->lock);
    int v = s->inputs[i];
    pthread_mutex_unlock(&s->lock);
    return v;
}

/* Appends to the trace (the lock held); a change that finds no room is
 * dropped, the simulation itself goes on. */
static void record(gpio_sim *s, size_t i, int value)
{
    if (s->ntrace == s->trace_cap) {
        if (s->trace_cap == TRACE_MAX)
            return;
        size_t ncap = s->trace_cap ? s->trace_cap * 2 : 256;
        gpio_sim_change *t = realloc(s->trace, ncap * sizeof *t);
        if (!t)
            return;
        s->trace = t;
        s->trace_cap = ncap;
    }
    s->trace[s->ntrace++] = (gpio_sim_change){now_ns(), i, value};
}

static int sim_set_output(gpio *g, size_t i, int value, sohoa_err *err)
{
    gpio_sim *s = (gpio_sim *)g;
    value = value != 0;
    pthread_mutex_lock(&s->lock);
    if (s->outputs[i] != value) {
        s->outputs[i] = value;
        record(s, i, value);
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int sim_wait_input_change(gpio *g, int timeout_ms, sohoa_err *err)
{
    gpio_sim *s = (gpio_sim *)g;
    struct timespec deadline;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    while (s->generation == s->seen && !s->woken) {
        int e = timeout_ms >= 0 ? pthread_cond_timedwait(&s->changed, &s->lock, &deadline)
                                : pthread_cond_wait(&s->changed, &s->lock);
        if (e == ETIMEDOUT)
            break;
    }
    if (s->generation != s->seen) {
        s->seen = s->generation;
        rc = 1;
    }
    s->woken = 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void sim_wake(gpio *g)
{
    gpio_sim *s = (gpio_sim *)g;
    pthread_mutex_lock(&s->lock);
    s->woken = 1;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

static void sim_close(gpio *g)
{
    gpio_sim *s = (gpio_sim *)g;
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s->inputs);
    free(s->outputs);
    free(s->trace);
    free(s);
}

static const gpio_ops sim_ops = {
    .get_input = sim_get_input,
    .set_output = sim_set_output,
    .wait_input_change = sim_wait_input_change,
    .wake = sim_wake,
    .close = sim_close,
};

gpio *gpio_open_sim(size_t ninputs, size_t noutputs)
{
    gpio_sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* calloc(0) may return NULL: ask for at least one element. */
    s->inputs = calloc(ninputs ? ninputs : 1, sizeof *s->inputs);
    s->outputs = calloc(noutputs ? noutputs : 1, sizeof *s->outputs);
    pthread_condattr_t ca;
    int ok = s->inputs && s->outputs && pthread_condattr_init(&ca) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&s->changed, &ca) == 0;
        pthread_condattr_destroy(&ca);
        if (ok && pthread_mutex_init(&s->lock, NULL) != 0) {
            pthread_cond_destroy(&s->changed);
            ok = 0;
        }
    }
    if (!ok) {
        free(s->inputs);
        free(s->outputs);
        free(s);
        return NULL;
    }
    s->base.ops = &sim_ops;
    s->base.ninputs = ninputs;
    s->base.noutputs = noutputs;
    return &s->base;
}

static gpio_sim *as_sim(gpio *g)
{
    return g && g->ops == &sim_ops ? (gpio_sim *)g : NULL;
}

int gpio_sim_set_input(gpio *g, size_t i, int value)
{
    gpio_sim *s = as_sim(g);
    if (!s || i >= g->ninputs)
        return -1;
    value = value != 0;
    pthread_mutex_lock(&s->lock);
    if (s->inputs[i] != value) {
        s->inputs[i] = value;
        s->generation++;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int gpio_sim_get_output(gpio *g, size_t i)
{
    gpio_sim *s = as_sim(g);
    if (!s || i >= g->noutputs)
        return -1;
    pthread_mutex_lock(&s->lock);
    int v = s->outputs[i];
    pthread_mutex_unlock(&s->lock);
    return v;
}

long gpio_sim_trace(gpio *g, gpio_sim_change **changes)
{
    gpio_sim *s = as_sim(g);
    *changes = NULL;
    if (!s)
        return -1;
    pthread_mutex_lock(&s->lock);
    size_t n = s->ntrace;
    if (n) {
        *changes = malloc(n * sizeof **changes);
        if (*changes)
            memcpy(*changes, s->trace, n * sizeof **changes);
    }
    pthread_mutex_unlock(&s->lock);
    return n && !*changes ? -1 : (long)n;
}

void gpio_sim_trace_clear(gpio *g)
{
    gpio_sim *s = as_sim(g);
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->ntrace = 0;
    pthread_mutex_unlock(&s->lock);
}

/* --- dispatch --------------------------------------------------------- */

size_t gpio_ninputs(const gpio *g)
{
    return g->ninputs;
}

size_t gpio_noutputs(const gpio *g)
{
    return g->noutputs;
}

int gpio_get_input(gpio *g, size_t i, sohoa_err *err)
{
    if (i >= g->ninputs)
        return err_set(err, SOHOA_EWORK, "GPIO: input %zu does not exist (the board has %zu)", i,
                       g->ninputs);
    return g->ops->get_input(g, i, err);
}

int gpio_set_output(gpio *g, size_t i, int value, sohoa_err *err)
{
    if (i >= g->noutputs)
        return err_set(err, SOHOA_EWORK, "GPIO: output %zu does not exist (the board has %zu)", i,
                       g->noutputs);
    return g->ops->set_output(g, i, value != 0, err);
}

int gpio_wait_input_change(gpio *g, int timeout_ms, sohoa_err *err)
{
    return g->ops->wait_input_change(g, timeout_ms, err);
}

void gpio_wake(gpio *g)
{
    g->ops->wake(g);
}

void gpio_close(gpio *g)
{
    if (g)
        g->ops->close(g);
}
