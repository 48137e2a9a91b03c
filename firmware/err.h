/* err.h — error reports that travel up the call chain.
 *
 * Every fallible function takes a `sohoa_err *` and, on failure, fills it
 * with one line that names the thing at fault and what went wrong, in the
 * style of curl's messages. Only main() decides how to print it and which
 * exit code it maps to; nothing below main() exits.
 */
#ifndef SOHOA_ERR_H
#define SOHOA_ERR_H

#include <stddef.h>

/* Kinds of failure, mapped to the exit codes of interfaces.md. */
typedef enum {
    SOHOA_OK = 0,
    SOHOA_EWORK = 1,  /* the work failed: device, token, resource, internal */
    SOHOA_EINPUT = 2, /* bad input or usage: unreadable file, invalid config */
} sohoa_status;

typedef struct sohoa_err {
    sohoa_status status;
    char msg[512];
} sohoa_err;

/* Records a failure of kind `status`; returns -1 so callers can write
 * `return err_set(err, SOHOA_EINPUT, "%s: not an image", path);`.
 * The first message wins: a later err_set() on an already failed `err`
 * keeps the original, closer-to-the-cause text. `err` may be NULL. */
int err_set(sohoa_err *err, sohoa_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, appending ": strerror(errnum)". */
int err_errno(sohoa_err *err, sohoa_status status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Clears `err` to the success state. */
void err_clear(sohoa_err *err);

#endif
