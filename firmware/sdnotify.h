/* sdnotify.h — readiness and watchdog notifications to systemd
 * (Type=notify, WatchdogSec=), without linking libsystemd: one datagram
 * to the socket named by $NOTIFY_SOCKET. Does nothing when that variable
 * is not set (run by hand, in tests).
 */
#ifndef SOHOA_SDNOTIFY_H
#define SOHOA_SDNOTIFY_H

/* Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."). */
void sd_notify_send(const char *state);

/* The watchdog interval systemd asked for, in milliseconds ($WATCHDOG_USEC
 * for this process), or 0 when there is none. */
long sd_watchdog_ms(void);

#endif
