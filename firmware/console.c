/* console.c — the console session: terminal input, login, line editing,
 * dispatch and help (console.h). The commands are in console_cmds.c,
 * console_config.c and console_sys.c.
 *
 * Input is read from the terminal's file descriptor by this file alone
 * (libedit is handed characters through EL_GETCFN), so that one poll()
 * gives every read the idle timeout, and a secret is read with echo off
 * by the line discipline itself, never passing through the editor or its
 * history.
 */
#include "console.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <histedit.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include "cli.h"
#include "config_edit.h"
#include "console_sys.h"
#include "daemon.h"
#include "fsutil.h"
#include "version.h"

#define MIN_PASSWORD 8
#define MAX_LINE 1024
#define MAX_WORDS 32

typedef struct con_priv {
    int fd;        /* the terminal (or pipe) we read */
    char buf[512]; /* bytes read but not yet used */
    size_t pos, len;
    int idle_s;    /* [console] idle_timeout */
    int timed_out; /* the last read ended on the idle timeout */
    int eof;       /* the terminal is gone */
    EditLine *el;
    History *hist;
    mbstate_t mb; /* UTF-8 decoding for the editor */
} con_priv;

static const console_cmd *const *tables(void)
{
    static const console_cmd *const t[] = {console_cmds_station, console_cmds_config,
                                           console_cmds_sys, NULL};
    return t;
}

/* ---- output ------------------------------------------------------------ */

void con_printf(console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    fflush(c->out);
}

const char *con_cut(const char *s, int cols)
{
    static char ring[8][400];
    static unsigned next;
    char *out = ring[next++ % 8];
    if (!s)
        s = "";
    size_t i = 0, o = 0;
    int n = 0;
    while (s[i] && o + 5 < sizeof ring[0]) {
        /* the length of this UTF-8 sequence */
        unsigned char b = (unsigned char)s[i];
        size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
        /* combining marks (U+0300–U+036F: NFD tone marks) take no column */
        int zero = b == 0xCC || (b == 0xCD && (unsigned char)s[i + 1] < 0xB0);
        if (!zero && n == cols) {
            /* one column too many: the last character becomes "…" */
            while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
                o--;
            if (o > 0)
                o--;
            memcpy(out + o, "…", 3);
            o += 3;
            break;
        }
        for (size_t k = 0; k < len && s[i]; k++)
            out[o++] = s[i++];
        n += !zero;
    }
    out[o] = 0;
    return out;
}

const char *con_col(const char *s, int cols)
{
    const char *cut = con_cut(s, cols);
    /* con_cut's buffers are 400 bytes: room for the spaces of any column */
    char *out = (char *)cut;
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)cut; *p; p++)
        n += (*p & 0xC0) != 0x80 && !(*p == 0xCC || (*p == 0xCD && p[1] < 0xB0));
    size_t len = strlen(out);
    while (n < cols && len + 1 < 400) {
        out[len++] = ' ';
        n++;
    }
    out[len] = 0;
    return out;
}

void con_error(console *c, const sohoa_err *err)
{
    csys_error(c, err); /* wrapped to 80 columns */
}

int con_usage(console *c, const console_cmd *cmd)
{
    con_printf(c, "%s: %s %s\n", CON_T(c, "dùng", "usage"), cmd->name,
               cmd->usage ? cmd->usage : "");
    return 2;
}

/* ---- input ------------------------------------------------------------- */

/* One byte from the terminal within the idle timeout: 1, or 0 at the end
 * of input or on the timeout (priv->timed_out tells which). */
static int read_byte(con_priv *p, unsigned char *out)
{
    if (p->pos == p->len) {
        if (p->eof)
            return 0;
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int ms = p->idle_s > 0 ? p->idle_s * 1000 : -1;
        for (;;) {
            int n = poll(&pfd, 1, ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0) {
                p->timed_out = 1;
                return 0;
            }
            break;
        }
        ssize_t n;
        do
            n = read(p->fd, p->buf, sizeof p->buf);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            p->eof = 1;
            return 0;
        }
        p->pos = 0;
        p->len = (size_t)n;
    }
    *out = (unsigned char)p->buf[p->pos++];
    return 1;
}

/* A line without its end ("\n" or "\r"); NULL at the end of input or on
 * the timeout. */
static char *read_line(con_priv *p)
{
    char line[MAX_LINE];
    size_t n = 0;
    unsigned char ch;
    int got = 0;
    while (read_byte(p, &ch)) {
        got = 1;
        if (ch == '\n' || ch == '\r') {
            /* "\r\n" from a terminal program in raw mode: one line */
            if (ch == '\r' && p->pos < p->len && p->buf[p->pos] == '\n')
                p->pos++;
            line[n] = 0;
            return strdup(line);
        }
        if (n + 1 < sizeof line)
            line[n++] = (char)ch;
    }
    if (!got || p->timed_out)
        return NULL;
    line[n] = 0;
    return strdup(line); /* the last line had no end */
}

/* libedit's character source: our bytes, decoded from UTF-8. */
static int read_char_for_editor(EditLine *el, wchar_t *wc)
{
    console *c = NULL;
    el_get(el, EL_CLIENTDATA, &c);
    con_priv *p = c->priv;
    for (;;) {
        unsigned char ch;
        if (!read_byte(p, &ch))
            return 0;
        char b = (char)ch;
        size_t n = mbrtowc(wc, &b, 1, &p->mb);
        if (n == (size_t)-2)
            continue; /* more bytes of this character */
        if (n == (size_t)-1) {
            memset(&p->mb, 0, sizeof p->mb);
            continue; /* not UTF-8: dropped */
        }
        return 1;
    }
}

void con_secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

char *con_ask(console *c, const char *prompt, int secret)
{
    con_priv *p = c->priv;
    if (!p) {
        /* no terminal state (the command modules' unit tests): lines of c->in */
        con_printf(c, "%s", prompt);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, c->in);
        if (n <= 0) {
            free(line);
            return NULL;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (secret)
            con_printf(c, "\n");
        return line;
    }
    struct termios saved, quiet;
    int restore = 0;
    if (secret && c->interactive && tcgetattr(p->fd, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
        quiet.c_lflag |= ICANON;
        /* TCSANOW: what was typed ahead is kept (it has echoed already,
         * which is why the prompt comes only after echo is off) */
        restore = tcsetattr(p->fd, TCSANOW, &quiet) == 0;
    } else if (c->interactive && tcgetattr(p->fd, &saved) == 0) {
        /* a plain question: the line discipline edits and echoes it */
        quiet = saved;
        quiet.c_lflag |= ICANON | ECHO;
        restore = tcsetattr(p->fd, TCSADRAIN, &quiet) == 0;
    }
    con_printf(c, "%s", prompt);
    char *line = read_line(p);
    if (restore)
        tcsetattr(p->fd, TCSADRAIN, &saved);
    if (secret)
        con_printf(c, "\n");
    return line;
}

int con_confirm(console *c, const char *question)
{
    char prompt[300];
    snprintf(prompt, sizeof prompt, "%s %s ", question, CON_T(c, "[c/K]", "[y/N]"));
    char *a = con_ask(c, prompt, 0);
    int yes = a && (strcmp(a, "y") == 0 || strcmp(a, "yes") == 0 || strcmp(a, "c") == 0 ||
                    strcmp(a, "có") == 0 || strcmp(a, "co") == 0 || strcmp(a, "Y") == 0 ||
                    strcmp(a, "C") == 0);
    free(a);
    if (!yes)
        con_printf(c, "%s\n", CON_T(c, "Đã hủy.", "Cancelled."));
    return yes;
}

/* ---- audit, configuration, the service ------------------------------- */

int console_audit(console *c, const char *what, const char *old_value, const char *new_value)
{
    sohoa_err err = {0};
    if (!c->r) {
        err_set(&err, SOHOA_EWORK, "the register is not open: the change is not in the audit log");
        con_error(c, &err);
        return -1;
    }
    if (reg_audit(c->r, c->now(), c->who, what, old_value, new_value, &err) != 0) {
        con_error(c, &err);
        return -1;
    }
    return 0;
}

char *console_config_path(const console *c, const char *value)
{
    if (!value || !*value)
        return NULL;
    if (value[0] == '/' || !c->config_path)
        return strdup(value);
    const char *slash = strrchr(c->config_path, '/');
    char *p = NULL;
    if (!slash)
        return strdup(value);
    return asprintf(&p, "%.*s/%s", (int)(slash - c->config_path), c->config_path, value) < 0 ? NULL
                                                                                             : p;
}

int console_daemon_request(console *c, const char *request,
                           int (*line)(void *ctx, const char *text), void *ctx, sohoa_err *err)
{
    char *path = daemon_socket_path(&c->cfg);
    if (!path)
        return err_set(err, SOHOA_EWORK, "out of memory");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        err_errno(err, SOHOA_EWORK, errno,
                  "the station service is not running (%s): start it with 'systemctl start "
                  "sohoa'",
                  path);
        if (fd >= 0)
            close(fd);
        free(path);
        return -1;
    }
    free(path);
    FILE *f = fdopen(fd, "r+");
    if (!f) {
        close(fd);
        return err_errno(err, SOHOA_EWORK, errno, "control socket");
    }
    fprintf(f, "%s\n", request);
    fflush(f);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&buf, &cap, f)) > 0) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = 0;
        if (strcmp(buf, "END") == 0)
            break;
        if (line && (rc = line(ctx, buf)) != 0)
            break;
    }
    free(buf);
    fclose(f);
    return 0;
}

/* ---- commands: lookup, words, help ------------------------------------ */

static const console_cmd *find_cmd(const char *name)
{
    for (const console_cmd *const *t = tables(); *t; t++)
        for (const console_cmd *cmd = *t; cmd->name; cmd++)
            if (strcmp(cmd->name, name) == 0)
                return cmd;
    return NULL;
}

/* Splits `line` in place into words: blanks separate them; "..." and '...'
 * quote; a backslash takes the next character as it is. Returns the count,
 * or -1 for an unclosed quote. */
static int split_words(char *line, char **words, int max)
{
    int n = 0;
    char *r = line, *w = line;
    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            return n;
        if (n == max)
            return n;
        words[n++] = w;
        char quote = 0;
        while (*r && (quote || (*r != ' ' && *r != '\t'))) {
            if (quote && *r == quote) {
                quote = 0;
                r++;
            } else if (!quote && (*r == '"' || *r == '\'')) {
                quote = *r++;
            } else if (*r == '\\' && r[1]) {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (quote)
            return -1;
        if (*r)
            r++;
        *w++ = 0;
    }
}

static void help(console *c, const char *name)
{
    if (name) {
        const console_cmd *cmd = find_cmd(name);
        if (!cmd) {
            con_printf(c, "%s: \"%s\"\n", CON_T(c, "không có lệnh", "no such command"), name);
            return;
        }
        con_printf(c, "%s %s\n  %s\n", cmd->name, cmd->usage ? cmd->usage : "",
                   CON_T(c, cmd->help_vi, cmd->help_en));
        return;
    }
    con_printf(c, "%s\n",
               CON_T(c, "Các lệnh (help LỆNH: chi tiết):", "Commands (help COMMAND for details):"));
    for (const console_cmd *const *t = tables(); *t; t++)
        for (const console_cmd *cmd = *t; cmd->name; cmd++)
            con_printf(c, "  %-10s %s\n", cmd->name,
                       con_cut(CON_T(c, cmd->help_vi, cmd->help_en), 66));
    con_printf(c, "  %-10s %s\n", "help", CON_T(c, "danh sách lệnh", "this list"));
    con_printf(c, "  %-10s %s\n", "logout",
               CON_T(c, "đăng xuất (cũng: exit)", "log out (also: exit)"));
}

/* Runs one command line; 1 when the session should end. */
static int run_line(console *c, char *line)
{
    char *words[MAX_WORDS];
    int n = split_words(line, words, MAX_WORDS);
    if (n < 0) {
        con_printf(c, "%s\n", CON_T(c, "lỗi: thiếu dấu nháy đóng", "error: unclosed quote"));
        return 0;
    }
    if (n == 0)
        return 0;
    if (strcmp(words[0], "logout") == 0 || strcmp(words[0], "exit") == 0 ||
        strcmp(words[0], "quit") == 0)
        return 1;
    if (strcmp(words[0], "help") == 0 || strcmp(words[0], "?") == 0) {
        help(c, n > 1 ? words[1] : NULL);
        return 0;
    }
    const console_cmd *cmd = find_cmd(words[0]);
    if (!cmd) {
        con_printf(c, "%s \"%s\" (%s)\n", CON_T(c, "không có lệnh", "no such command"), words[0],
                   CON_T(c, "gõ help", "type help"));
        return 0;
    }
    if (n > 1 && (strcmp(words[1], "--help") == 0 || strcmp(words[1], "help") == 0) &&
        !(cmd->sub && n > 2)) {
        help(c, cmd->name);
        return 0;
    }
    cmd->run(c, n, words);
    return 0;
}

/* ---- tab completion ----------------------------------------------------- */

/* Candidates for the word at the cursor: command names, or the command's
 * subcommands for the second word. */
static size_t candidates(const char *first, int word_index, const char *prefix, const char **out,
                         size_t max)
{
    size_t n = 0, plen = strlen(prefix);
    if (word_index == 0) {
        static const char *const builtins[] = {"help", "logout", "exit"};
        for (size_t i = 0; i < 3 && n < max; i++)
            if (strncmp(builtins[i], prefix, plen) == 0)
                out[n++] = builtins[i];
        for (const console_cmd *const *t = tables(); *t; t++)
            for (const console_cmd *cmd = *t; cmd->name && n < max; cmd++)
                if (strncmp(cmd->name, prefix, plen) == 0)
                    out[n++] = cmd->name;
    } else if (word_index == 1) {
        const console_cmd *cmd = find_cmd(first);
        for (size_t i = 0; cmd && cmd->sub && cmd->sub[i] && n < max; i++)
            if (strncmp(cmd->sub[i], prefix, plen) == 0)
                out[n++] = cmd->sub[i];
    }
    return n;
}

static unsigned char complete(EditLine *el, int ch)
{
    (void)ch;
    console *c = NULL;
    el_get(el, EL_CLIENTDATA, &c);
    const LineInfo *li = el_line(el);
    char text[MAX_LINE];
    size_t len = (size_t)(li->cursor - li->buffer);
    if (len >= sizeof text)
        return CC_ERROR;
    memcpy(text, li->buffer, len);
    text[len] = 0;
    /* which word the cursor is in, and the first word */
    char first[64] = "";
    int index = 0;
    const char *word = text;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        if (index == 0 && (size_t)(p - start) < sizeof first)
            snprintf(first, sizeof first, "%.*s", (int)(p - start), start);
        if (*p) {
            index++;
            word = p + 1;
        } else {
            word = start;
        }
    }
    if (len > 0 && text[len - 1] == ' ')
        word = text + len;
    const char *cand[64];
    size_t n = candidates(first, index, word, cand, 64);
    size_t have = strlen(word);
    if (n == 0)
        return CC_ERROR;
    if (n == 1) {
        char add[128];
        snprintf(add, sizeof add, "%s ", cand[0] + have);
        el_insertstr(el, add);
        return CC_REFRESH;
    }
    /* several: extend by their common part, else list them once */
    size_t common = strlen(cand[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && cand[i][k] == cand[0][k])
            k++;
        common = k;
    }
    if (common > have) {
        char add[128];
        snprintf(add, sizeof add, "%.*s", (int)(common - have), cand[0] + have);
        el_insertstr(el, add);
        return CC_REFRESH;
    }
    con_printf(c, "\n");
    for (size_t i = 0; i < n; i++)
        con_printf(c, "%s%s", cand[i], i + 1 < n ? "  " : "\n");
    return CC_REDISPLAY;
}

static const char *prompt_fn(EditLine *el)
{
    (void)el;
    return "sohoa> ";
}

static int editor_start(console *c)
{
    con_priv *p = c->priv;
    p->el = el_init("sohoa", c->in, c->out, c->out);
    p->hist = history_init();
    if (!p->el || !p->hist)
        return -1;
    HistEvent ev;
    history(p->hist, &ev, H_SETSIZE, 200);
    history(p->hist, &ev, H_SETUNIQUE, 1);
    el_set(p->el, EL_CLIENTDATA, c);
    el_set(p->el, EL_EDITOR, "emacs");
    el_set(p->el, EL_PROMPT, prompt_fn);
    el_set(p->el, EL_HIST, history, p->hist);
    el_set(p->el, EL_GETCFN, read_char_for_editor);
    el_set(p->el, EL_ADDFN, "sohoa-complete", "complete a command", complete);
    el_set(p->el, EL_BIND, "^I", "sohoa-complete", NULL);
    return 0;
}

static void editor_stop(console *c)
{
    con_priv *p = c->priv;
    if (p->el)
        el_end(p->el);
    if (p->hist)
        history_end(p->hist);
    p->el = NULL;
    p->hist = NULL;
}

/* The next command line (malloc'ed), or NULL at the end of input or idle. */
static char *next_command(console *c)
{
    con_priv *p = c->priv;
    if (!p->el) {
        con_printf(c, "sohoa> ");
        return read_line(p);
    }
    int count = 0;
    const char *line = el_gets(p->el, &count);
    if (!line || count <= 0)
        return NULL;
    char *copy = strdup(line);
    size_t n = strlen(copy);
    while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
        copy[--n] = 0;
    if (n > 0) {
        HistEvent ev;
        history(p->hist, &ev, H_ENTER, copy);
    }
    return copy;
}

/* ---- login ------------------------------------------------------------- */

/* Failed logins survive a restart of the console (systemd starts a new
 * one after each exit): data_dir/console.state holds "failures until". */
typedef struct lock_state {
    long failures;
    time_t until;
} lock_state;

static char *state_path(const console *c)
{
    char *p = NULL;
    return asprintf(&p, "%s/console.state", c->data_dir) < 0 ? NULL : p;
}

static void load_lock(const console *c, lock_state *ls)
{
    memset(ls, 0, sizeof *ls);
    char *path = state_path(c);
    FILE *f = path ? fopen(path, "r") : NULL;
    long long until = 0;
    if (f && fscanf(f, "%ld %lld", &ls->failures, &until) == 2)
        ls->until = (time_t)until;
    if (f)
        fclose(f);
    free(path);
}

static void save_lock(const console *c, const lock_state *ls)
{
    char *path = state_path(c);
    char text[64];
    int n = snprintf(text, sizeof text, "%ld %lld\n", ls->failures, (long long)ls->until);
    sohoa_err err = {0};
    if (path && fs_write_atomic(path, text, (size_t)n, 0600, &err) != 0)
        fprintf(stderr, "sohoa console: %s\n", err.msg);
    free(path);
}

static long cfg_long(const console *c, const char *key, long def, long min, long max)
{
    long v = def;
    sohoa_err err = {0};
    if (config_get_int(&c->cfg, "console", key, def, min, max, &v, &err) != 0)
        return def; /* checked at start: cannot happen */
    return v;
}

/* Hashes `password` with yescrypt (libxcrypt's preferred method), or
 * SHA-512 where yescrypt is missing. Returns a malloc'ed hash or NULL. */
static char *hash_password(const char *password)
{
    const char *prefixes[] = {"$y$", "$6$"};
    for (size_t i = 0; i < 2; i++) {
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];
        if (!crypt_gensalt_rn(prefixes[i], 0, NULL, 0, salt, sizeof salt))
            continue;
        struct crypt_data *cd = calloc(1, sizeof *cd);
        if (!cd)
            return NULL;
        const char *h = crypt_r(password, salt, cd);
        char *out = h && h[0] != '*' ? strdup(h) : NULL;
        explicit_bzero(cd, sizeof *cd);
        free(cd);
        if (out)
            return out;
    }
    return NULL;
}

static int password_ok(const char *password, const char *hash)
{
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return 0;
    const char *h = crypt_r(password, hash, cd);
    /* constant-time compare of equal-length strings */
    int ok = 0;
    if (h && h[0] != '*' && strlen(h) == strlen(hash)) {
        unsigned char diff = 0;
        for (size_t i = 0; hash[i]; i++)
            diff |= (unsigned char)(h[i] ^ hash[i]);
        ok = diff == 0;
    }
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

/* Asks a new admin password twice and stores its hash. 0 when set. */
static int choose_password(console *c)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        char *a = con_ask(c, CON_T(c, "Mật khẩu mới: ", "New password: "), 1);
        if (!a)
            return -1;
        char *b = NULL;
        if (strlen(a) < MIN_PASSWORD) {
            con_printf(c, "%s\n",
                       CON_T(c, "Quá ngắn: ít nhất 8 ký tự.", "Too short: at least 8 characters."));
        } else if (!(b = con_ask(c, CON_T(c, "Nhập lại: ", "Again: "), 1))) {
            con_secret_free(a);
            return -1;
        } else if (strcmp(a, b) != 0) {
            con_printf(c, "%s\n", CON_T(c, "Hai lần nhập không khớp.", "The two do not match."));
        } else {
            char *hash = hash_password(a);
            con_secret_free(a);
            con_secret_free(b);
            if (!hash) {
                con_printf(c, "%s\n",
                           CON_T(c, "lỗi: không tạo được mã băm mật khẩu",
                                 "error: cannot hash the password"));
                return -1;
            }
            int rc = console_config_set(c, "console", "password_hash", hash);
            free(hash);
            return rc == 0 ? 0 : -1;
        }
        con_secret_free(a);
        con_secret_free(b);
    }
    return -1;
}

/* First login: the admin password is chosen here. 0 when set. */
static int set_first_password(console *c)
{
    con_printf(c, "%s\n",
               CON_T(c, "Chưa có mật khẩu quản trị. Đặt mật khẩu mới (ít nhất 8 ký tự).",
                     "No admin password yet. Choose one (at least 8 characters)."));
    return choose_password(c);
}

int console_change_password(console *c)
{
    const char *hash = config_get(&c->cfg, "console", "password_hash", "");
    char *pw = con_ask(c, CON_T(c, "Mật khẩu hiện tại: ", "Current password: "), 1);
    if (!pw)
        return 1;
    int ok = !*hash || password_ok(pw, hash);
    con_secret_free(pw);
    if (!ok) {
        console_audit(c, "console password", NULL, "change refused: wrong current password");
        con_printf(c, "%s\n", CON_T(c, "Sai mật khẩu.", "Wrong password."));
        return 1;
    }
    if (choose_password(c) != 0)
        return 1;
    con_printf(c, "%s\n", CON_T(c, "Đã đổi mật khẩu.", "Password changed."));
    return 0;
}

/* Asks the password until it is right; returns 0 when logged in, -1 when
 * the terminal went away or stayed idle. */
static int login(console *c)
{
    long after = cfg_long(c, "lockout_after", 3, 1, 100);
    long base = cfg_long(c, "lockout_seconds", 30, 1, 3600);
    for (;;) {
        const char *hash = config_get(&c->cfg, "console", "password_hash", "");
        if (!*hash) {
            if (set_first_password(c) != 0)
                return -1;
            console_audit(c, "console password", NULL, "(set at first login)");
            return 0;
        }
        lock_state ls;
        load_lock(c, &ls);
        time_t now = c->now();
        if (ls.until > now) {
            long wait = (long)(ls.until - now);
            con_printf(c,
                       CON_T(c, "Tạm khóa do nhập sai nhiều lần: chờ %ld giây.\n",
                             "Locked after failed logins: wait %ld s.\n"),
                       wait);
            sleep((unsigned)wait);
            /* what was typed meanwhile does not count as an attempt */
            tcflush(((con_priv *)c->priv)->fd, TCIFLUSH);
            ((con_priv *)c->priv)->pos = ((con_priv *)c->priv)->len = 0;
            continue;
        }
        char *pw = con_ask(c, CON_T(c, "Mật khẩu quản trị: ", "Admin password: "), 1);
        if (!pw)
            return -1;
        int ok = password_ok(pw, hash);
        con_secret_free(pw);
        if (ok) {
            if (ls.failures) {
                con_printf(c,
                           CON_T(c, "(%ld lần đăng nhập sai trước đó)\n",
                                 "(%ld failed logins before this one)\n"),
                           ls.failures);
                ls.failures = 0;
                ls.until = 0;
                save_lock(c, &ls);
            }
            console_audit(c, "login", NULL, "ok");
            return 0;
        }
        ls.failures++;
        long wait = 0;
        if (ls.failures >= after) {
            long shift = ls.failures - after;
            wait = base << (shift > 5 ? 5 : shift);
            if (wait > 900)
                wait = 900;
            ls.until = c->now() + wait;
        }
        save_lock(c, &ls); /* before the pause: a restart meanwhile stays locked */
        console_audit(c, "login", NULL, "wrong password");
        sleep(1); /* a little friction against guessing by script */
        con_printf(c, "%s\n", CON_T(c, "Sai mật khẩu.", "Wrong password."));
        if (wait > 0) {
            /* the lock runs its full length from here: the pause above (and
             * a slow audit write) must not eat into it, nor end a short one
             * before it is shown */
            ls.until = c->now() + wait;
            save_lock(c, &ls);
        }
    }
}

/* ---- the session ------------------------------------------------------- */

static time_t wall_clock(void)
{
    return time(NULL);
}

static const char console_help[] =
    "usage: sohoa console [-c FILE]\n"
    "\n"
    "The IT staff shell on the serial console (or any terminal): status,\n"
    "configuration, network, time, token, scanner, queue, held documents,\n"
    "register, logs and self-test. Messages are Vietnamese; LANG=en for English.\n"
    "\n"
    "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "  -h, --help          this help\n";

static int session(console *c)
{
    con_priv *p = c->priv;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    con_printf(c, "\nsohoa %s — %s %s\n", SOHOA_VERSION,
               CON_T(c, "bảng điều khiển trạm số hóa", "digitization station console"), host);
    if (login(c) != 0) {
        con_printf(c, "\n%s\n", p->timed_out ? CON_T(c, "Hết thời gian chờ.", "Timed out.") : "");
        return p->eof ? 1 : 0;
    }
    con_printf(c, "%s\n",
               CON_T(c, "Đã đăng nhập. Gõ help để xem các lệnh.",
                     "Logged in. Type help for the commands."));
    if (c->interactive && editor_start(c) != 0)
        editor_stop(c); /* line editing is a comfort: go on without it */
    for (;;) {
        char *line = next_command(c);
        if (!line)
            break;
        int end = run_line(c, line);
        free(line);
        if (end)
            break;
    }
    editor_stop(c);
    if (p->timed_out)
        con_printf(
            c, "\n%s\n",
            CON_T(c, "Không hoạt động quá lâu: đã đăng xuất.", "Idle for too long: logged out."));
    else
        con_printf(c, "%s\n", CON_T(c, "Đã đăng xuất.", "Logged out."));
    console_audit(c, "logout", NULL, p->timed_out ? "idle" : "ok");
    return 0;
}

static int english_wanted(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strncmp(v, "en", 2) == 0;
    }
    return 0;
}

int cmd_console(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (opt == 'c')
            config_path = optarg;
        else if (opt == 'h') {
            fputs(console_help, stdout);
            return 0;
        } else
            return usage_error("console", "unknown option");
    }
    if (optind < argc)
        return usage_error("console", "no arguments expected");
    /* libedit decodes and displays UTF-8 only in a UTF-8 locale */
    setlocale(LC_CTYPE, "");
    if (MB_CUR_MAX == 1)
        setlocale(LC_CTYPE, "C.UTF-8");
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    console c;
    memset(&c, 0, sizeof c);
    con_priv p;
    memset(&p, 0, sizeof p);
    c.priv = &p;
    c.in = stdin;
    c.out = stdout;
    c.now = wall_clock;
    c.english = english_wanted();
    p.fd = fileno(stdin);
    c.interactive = isatty(p.fd);
    sohoa_err err = {0};
    if (!config_path && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
        config_path = CONFIG_DEFAULT_PATH;
    c.config_path = config_path ? strdup(config_path) : NULL;
    if (load_config(config_path, &c.cfg, &err) != 0)
        return report("console", &err);
    long idle = 600;
    long check;
    if (config_get_int(&c.cfg, "console", "idle_timeout", 600, 5, 86400, &idle, &err) != 0 ||
        config_get_int(&c.cfg, "console", "lockout_after", 3, 1, 100, &check, &err) != 0 ||
        config_get_int(&c.cfg, "console", "lockout_seconds", 30, 1, 3600, &check, &err) != 0) {
        config_free(&c.cfg);
        free(c.config_path);
        return report("console", &err);
    }
    p.idle_s = (int)idle;
    c.data_dir = strdup(config_get(&c.cfg, "station", "data_dir", "/var/lib/sohoa"));
    const char *tty = c.interactive ? ttyname(p.fd) : NULL;
    if (tty && strncmp(tty, "/dev/", 5) == 0)
        tty += 5;
    snprintf(c.who, sizeof c.who, "admin@%s", tty ? tty : "console");
    char *db = NULL;
    int rc = 0;
    if (fs_mkdir_p(c.data_dir, 0750, &err) != 0 ||
        asprintf(&db, "%s/register.db", c.data_dir) < 0 || !(c.r = reg_open(db, &err))) {
        /* without the register there is no audit log: no changes allowed */
        rc = report("console", &err);
    } else {
        rc = session(&c);
    }
    reg_close(c.r);
    free(db);
    free(c.data_dir);
    free(c.config_path);
    config_free(&c.cfg);
    return rc;
}
