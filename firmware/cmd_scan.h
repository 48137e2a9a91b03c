/* cmd_scan.h — `sohoa scan`: acquire pages from a SANE scanner, then
 * digitise them like `sohoa process`. */
#ifndef SOHOA_CMD_SCAN_H
#define SOHOA_CMD_SCAN_H

/* `sohoa scan -o DIR [options]`; argv[0] is "scan". Scans into a staging
 * directory inside DIR, then writes DIR/document.pdf and
 * DIR/metadata.json (signed with --sign). On a scanner failure (jam,
 * cover open, empty feeder, busy, I/O error, unplugged) it prints one line
 * naming the problem and what to do, returns 1, produces no document and
 * moves the pages already read to DIR/failed-scan-<time>/ for diagnosis.
 * Returns the exit code: 0, 1 (the work failed) or 2 (bad usage or
 * configuration). Calls scanner_init()/scanner_exit() itself. */
int cmd_scan(int argc, char **argv);

#endif
