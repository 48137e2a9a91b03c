/* daemon.h — `sohoa daemon`: the station service.
 *
 * Three kinds of threads, each with its own register connection:
 *  - the worker takes each pending document through station_advance()
 *    (OCR, guard, số đến, signature, envelope), oldest first, and comes
 *    back every 30 s to documents whose step failed for a reason that may
 *    pass (token absent, disk full);
 *  - the sender empties the upload queue (sender.h);
 *  - one thread per client of the control socket.
 * The main thread waits for clients and for SIGTERM/SIGINT, and tells
 * systemd it is ready and alive (sdnotify.h).
 *
 * Only one daemon runs per data directory (a lock on data_dir/daemon.lock).
 * Every step is committed before the next, so a kill at any moment loses
 * nothing: on start the worker resumes every pending document and the
 * sender the queue.
 *
 * Control socket ([station] control_socket, default data_dir/control.sock,
 * mode 0660), one request per connection, lines of text:
 *
 *   PRESS [WAIT] [KEY=k]        a button press; then zero or more pages:
 *   PAGE <bytes> <ext>\n<bytes>   (ext png, jpg, tif, pnm, ...)
 *   END
 *     → OK accepted <id>           the pages are on disk and registered as
 *                                  document <id> (with KEY=k: the same id
 *                                  again if k was already taken in)
 *     → STATE <id> <state> <note>  progress (WAIT only)
 *     → DONE <id> <state> <so_den>/<year> <note>   the document rests
 *                                  (queued, held, sent, failed), or
 *                                  "waiting" when a step must be retried
 *     → ERR <exit code> <message>
 *   A press without pages scans from the scanner.
 *
 *   STATUS → "key: value" lines, then "END".
 *   WAKE → "OK", "END": the worker and the sender look at the register
 *     now (the console released or re-queued a document).
 *   SCANNER PAUSE <s> | SCANNER RESUME → "OK", "END": the scanner thread
 *     closes the device and ignores presses for <s> seconds (1–600), so the
 *     console can test-scan; refused with ERR 1 while a scan runs.
 */
#ifndef SOHOA_DAEMON_H
#define SOHOA_DAEMON_H

#include "config.h"
#include "err.h"

/* Runs until SIGTERM or SIGINT; 0 after a clean stop. */
int daemon_run(const config *cfg, sohoa_err *err);

/* The control socket's path for `cfg` (malloc'd). */
char *daemon_socket_path(const config *cfg);

#endif
