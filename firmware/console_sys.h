/* console_sys.h — what the console's system commands (console_sys.c,
 * console_net.c, console_token.c) share among themselves. Not for other
 * modules: the commands themselves are in console_cmds_sys[] (console.h).
 *
 * Keys of [console] these commands read (all optional):
 *   network_file           systemd-networkd file `network dhcp|static` writes
 *                          (default /etc/systemd/network/20-sohoa.network),
 *                          for the wired interfaces (Name=en* eth*)
 *   network_apply_command  run after writing it (default "networkctl reload";
 *                          empty = do not run, the user is told what to run)
 *   timesyncd_file         systemd-timesyncd drop-in `time ntp` writes
 *                          (default /etc/systemd/timesyncd.conf.d/sohoa.conf)
 *   time_apply_command     run after writing it (default
 *                          "systemctl try-restart systemd-timesyncd"; empty = none)
 *   timedatectl            the command asked for the sync state (default
 *                          "timedatectl"; empty = do not ask)
 *   reboot_command         default "systemctl reboot"
 *   shutdown_command       default "systemctl poweroff"
 * Relative paths are taken from the configuration file's directory.
 */
#ifndef SOHOA_CONSOLE_SYS_H
#define SOHOA_CONSOLE_SYS_H

#include <stddef.h>
#include <sys/types.h>

#include "console.h"
#include "err.h"

/* The columns a line may use: the console promises 80. */
#define CSYS_COLS 80

/* The verdict of one check (selftest, network check). */
typedef enum { CSYS_OK = 0, CSYS_WARN = 1, CSYS_FAIL = 2 } csys_verdict;

/* "OK", "CẢNH BÁO"/"WARN", "LỖI"/"FAIL" in the session's language. */
const char *csys_verdict_name(const console *c, csys_verdict v);

/* [console] `key`, or `def` when absent (an empty value is returned as
 * it is: "do not run" for the *_command keys). */
const char *csys_key(const console *c, const char *key, const char *def);

/* Prints `text` after `first` (the first line's prefix, e.g. "  DNS   OK  ")
 * wrapped at spaces to CSYS_COLS columns; continuation lines are indented
 * by `indent` spaces. Columns are counted in characters (UTF-8), not bytes. */
void csys_wrap(console *c, const char *first, int indent, const char *text);

/* One row of a check list: `indent` spaces, `name` padded to `name_w`
 * columns, the verdict (NULL: "-", a step not run) padded to 9, then
 * `text` wrapped under itself. */
void csys_row(console *c, int indent, const char *name, int name_w, const char *verdict,
              const char *text);

/* printf, then wrapped to CSYS_COLS with continuation lines indented by
 * `indent` (for lines that hold paths, names, server answers). */
void csys_say(console *c, int indent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A failure as "lỗi: ..." / "error: ...", wrapped to CSYS_COLS (con_error
 * prints one long line). */
void csys_error(console *c, const sohoa_err *err);
void csys_errorf(console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* console_config_set(), then "Đã lưu [section] key = value." on success
 * (`show` 0: the value is not repeated, e.g. a proxy URL with a password). */
int csys_set(console *c, const char *section, const char *key, const char *value, int show);

/* Runs `cmd` with /bin/sh, stdin from /dev/null, its output (stdout and
 * stderr) relayed to the console indented. Returns its exit status (0 =
 * success), or -1 with err set when it could not be run or was killed. */
int csys_run(console *c, const char *cmd, sohoa_err *err);

/* Writes a system file the console owns (networkd, timesyncd) with
 * csys_write_file() at mode 0644, frees `text`, prints the error; 0 or -1. */
int csys_write_config_file(console *c, const char *path, char *text);

/* Runs [console] `key` (default `def`) after a change took effect on
 * disk; when the key is empty prints `hint` (how to apply it by hand). */
int csys_apply(console *c, const char *key, const char *def, const char *hint);

/* Writes `text` to `path` atomically (temporary file, fsync, rename,
 * directory fsync) with `mode`, creating missing parent directories. */
int csys_write_file(const char *path, const char *text, mode_t mode, sohoa_err *err);

/* The upload endpoint checked step by step (console_net.c). With
 * `verbose` each step is printed on its own line; `summary` (may be NULL)
 * receives one line for selftest. Returns the overall verdict. */
csys_verdict csys_network_check(console *c, int verbose, char *summary, size_t cap);

/* Opens the configured token, signs a fresh digest and verifies the
 * signature with the certificate's public key (console_token.c). With
 * `verbose` the steps are printed; `summary` receives one line. */
csys_verdict csys_token_test(console *c, int verbose, char *summary, size_t cap);

/* `token` (show): backend, token and PIN state (read before any login),
 * the signing key, certificate with expiry warning, chain; 1 on a problem.
 * `status` shows it too. */
int csys_token_show(console *c);

/* Monotonic milliseconds, for "took 12 ms". */
long csys_ms(void);

/* The handlers of console_net.c and console_token.c; console_sys.c lists
 * them in console_cmds_sys[]. */
int csys_cmd_network(console *c, int argc, char **argv);
int csys_cmd_token(console *c, int argc, char **argv);
extern const char *const csys_network_sub[];
extern const char *const csys_token_sub[];

/* The entry of console_cmds_sys[] named `name` (for con_usage). */
const console_cmd *csys_cmd(const char *name);

#endif
