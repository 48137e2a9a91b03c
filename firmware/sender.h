/* sender.h — the upload queue's worker: the next due document goes to the
 * server; the answer decides its fate.
 *
 *   2xx                → sent (the server's Status packet recorded)
 *   network, TLS, 5xx  → tried again after an exponential backoff with
 *                        jitter: min(retry_max, retry_min · 2^attempts),
 *                        times a random factor in [0.5, 1]
 *   other 4xx          → held with the server's reason (not retried: the
 *                        clerk decides at the console)
 *
 * The document is marked sent only after the server's answer, so a crash
 * in between sends it again, with the same Idempotency-Key (its
 * DocumentId): the server can tell.
 *
 * Keys, [upload]: retry_min (seconds, default 5), retry_max (default 900).
 */
#ifndef SOHOA_SENDER_H
#define SOHOA_SENDER_H

#include <time.h>

#include "config.h"
#include "err.h"
#include "register.h"
#include "upload.h"

typedef struct sender {
    reg *r;
    uploader *up;
    long retry_min, retry_max;
    unsigned rng;       /* jitter state */
    char last_error[512]; /* last failed attempt, "" after a success */
} sender;

/* Reads the [upload] keys and opens the uploader; `r` is the caller's
 * connection (used by this thread only). */
int sender_init(sender *s, const config *cfg, reg *r, sohoa_err *err);
void sender_free(sender *s);

/* Sends the next document due at `now`, if any: *attempted = 1 when one
 * was tried. When none is due, *next_due is when the next one will be
 * (0 when the queue is empty). Returns -1 only on local errors (register,
 * files). */
int sender_step(sender *s, time_t now, int *attempted, time_t *next_due, sohoa_err *err);

/* The backoff delay, in seconds, before attempt number `attempts` + 1
 * (see above); `r01` is a random number in [0, 1). */
long sender_backoff(long retry_min, long retry_max, int attempts, double r01);

#endif
