#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(sohoa_err *err, sohoa_status status, const char *fmt, va_list ap)
{
    if (!err || err->status != SOHOA_OK)
        return;
    err->status = status;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int err_set(sohoa_err *err, sohoa_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, status, fmt, ap);
    va_end(ap);
    return -1;
}

int err_errno(sohoa_err *err, sohoa_status status, int errnum, const char *fmt, ...)
{
    if (!err || err->status != SOHOA_OK)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vset(err, status, fmt, ap);
    va_end(ap);
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
    return -1;
}

void err_clear(sohoa_err *err)
{
    if (err) {
        err->status = SOHOA_OK;
        err->msg[0] = '\0';
    }
}
