/* console.h — `sohoa console`: the IT staff shell on the serial line.
 *
 * One session per run, on the terminal given as stdin/stdout (the board's
 * UART, or any tty). It asks the admin password ([console] password_hash,
 * crypt(3); set at the first login when empty), locks out after repeated
 * failures, logs out when idle, and then reads commands with line editing,
 * history and tab completion (libedit). Messages are Vietnamese unless
 * LANG/LC_ALL/LC_MESSAGES starts with "en". Output fits 80 columns and is
 * written line by line: nothing redraws the screen, so a 115200-baud line
 * or a capture log stays readable.
 *
 * Commands live in a few modules, each exporting a table of console_cmd
 * (console_cmds.c: status, press, queue, held, register, logs, version;
 * console_config.c: config; console_sys.c: network, time, token, scanner,
 * selftest, reboot, shutdown). Each handler gets the words of its line
 * and returns 0 (done), 1 (the work failed) or 2 (bad arguments). Every
 * change a command makes goes through console_audit().
 */
#ifndef SOHOA_CONSOLE_H
#define SOHOA_CONSOLE_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "register.h"

typedef struct console console;

/* A console command. `sub` lists its subcommands for tab completion and
 * help (NULL-terminated, or NULL for none). */
typedef struct console_cmd {
    const char *name;
    const char *usage;   /* arguments, e.g. "show|get KEY|set KEY VALUE" */
    const char *help_vi; /* one line */
    const char *help_en;
    int (*run)(console *c, int argc, char **argv); /* argv[0] is the name */
    const char *const *sub;
} console_cmd;

/* The command tables, each ended by an entry with name NULL. */
extern const console_cmd console_cmds_station[]; /* console_cmds.c */
extern const console_cmd console_cmds_config[];  /* console_config.c */
extern const console_cmd console_cmds_sys[];     /* console_sys.c */

struct console {
    FILE *in, *out;    /* the terminal */
    int english;       /* 1: English messages */
    char *config_path; /* the active configuration file */
    config cfg;        /* its contents, reloaded after each apply */
    char *data_dir;    /* [station] data_dir */
    reg *r;            /* the register (opened at login), NULL if it cannot be */
    char who[64];      /* "admin@ttyAMA0": the audit log's "who" */
    time_t (*now)(void); /* the clock (tests may replace it) */
    int interactive;   /* stdin is a terminal */
    void *priv;        /* console.c's line editor state */
};

/* `sohoa console [--config F]`: exit 0 after logout, 1 when the terminal
 * is gone or the register cannot be opened, 2 for a bad command line or
 * configuration. */
int cmd_console(int argc, char **argv);

/* ---- for the command modules -------------------------------------- */

/* The message in the session's language. */
#define CON_T(c, vi, en) ((c)->english ? (en) : (vi))

/* printf to the terminal ("\n" becomes "\r\n" only where the tty needs it:
 * the line discipline does that). */
void con_printf(console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `s` cut to at most `cols` characters (UTF-8 aware, "…" when cut), for
 * columns that must not push a line past 80. The result lives until the
 * eighth call after this one. */
const char *con_cut(const char *s, int cols);

/* The same, padded with spaces to exactly `cols` characters: a table
 * column (printf's %-20s counts bytes, and Vietnamese takes 2–3 a letter). */
const char *con_col(const char *s, int cols);

/* A failure as one line: "lỗi: <message>" / "error: <message>". */
void con_error(console *c, const sohoa_err *err);

/* A usage line for `cmd` ("dùng: queue show ID"); returns 2. */
int con_usage(console *c, const console_cmd *cmd);

/* Asks a yes/no question; 1 only for "y", "yes", "c", "có", "co". */
int con_confirm(console *c, const char *question);

/* Reads one line after `prompt`. With `secret`, echo is off (the line
 * never appears on the terminal or in the history). Returns a malloc'ed
 * string, or NULL at end of input / idle timeout. Free secrets with
 * con_secret_free() (it wipes them). */
char *con_ask(console *c, const char *prompt, int secret);
void con_secret_free(char *s);

/* Appends to the audit log (the register's `audit` table): who (c->who),
 * when, what, old → new. Secrets are never passed here: give "(PIN)" or
 * "(đã đổi)" instead. Returns 0, or -1 with the error printed. */
int console_audit(console *c, const char *what, const char *old_value, const char *new_value);

/* Validates a new value for section.key against the whole configuration
 * (every loader that reads it), then writes it to the active file
 * atomically (the previous file kept as FILE.prev for `config rollback`),
 * reloads c->cfg and audits the change. A bad value changes nothing and
 * the error is printed. Returns 0, 1 (could not write) or 2 (invalid). */
int console_config_set(console *c, const char *section, const char *key, const char *value);

/* Sends one request line to the station service's control socket and
 * calls `line` for each answer line until "END" or the connection closes
 * (not passed "END"). Returns 0, or -1 with err set when the service is
 * not running ("the station service is not running: ..."). */
int console_daemon_request(console *c, const char *request,
                           int (*line)(void *ctx, const char *text), void *ctx, sohoa_err *err);

/* `password`: asks the current admin password, then the new one twice;
 * stores its hash ([console] password_hash) and audits the change. */
int console_change_password(console *c);

/* A path from the configuration: relative paths are taken from the
 * configuration file's directory (malloc'ed). */
char *console_config_path(const console *c, const char *value);

#endif
