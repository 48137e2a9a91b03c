#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static log_level current_level = LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(log_level level)
{
    current_level = level;
}
log_level log_get_level(void)
{
    return current_level;
}

void log_msg(log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > current_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    /* One lock so that lines from worker threads never interleave. */
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "sohoa: %s: ", names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
    va_end(ap);
}
