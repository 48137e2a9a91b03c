/* console_config.c — the console's `config` command and
 * console_config_set() (console.h).
 *
 * `config set` stages changes in FILE.new; `config apply` checks the
 * staged file as a whole and only then swaps it in (the active one kept as
 * FILE.prev); `config rollback` swaps the previous one back. A value is
 * refused when it breaks a part of the configuration that worked before:
 * a station still being set up (no token yet, say) can be configured one
 * key at a time, but a working one is never broken by a typo.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../drivers/board.h"
#include "../drivers/scanner.h"
#include "config_edit.h"
#include "config_keys.h"
#include "console.h"
#include "edxml.h"
#include "fsutil.h"
#include "guard.h"
#include "ocr_config.h"
#include "officehours.h"
#include "signing.h"
#include "upload.h"

/* ---- checking a whole configuration ---------------------------------- */

enum {
    PART_OCR,
    PART_STATION,
    PART_TOKEN,
    PART_UPLOAD,
    PART_SCANNER,
    PART_BOARD,
    PART_KEYS,
    NPARTS
};
static const char *const part_names[NPARTS] = {
    "ocr", "station", "token/signature", "upload", "scanner", "board", "keys"};

/* Checks one part of `cfg` with the loader the station itself uses;
 * 0 when fine, else err set. */
static int check_part(const config *cfg, int part, sohoa_err *err)
{
    switch (part) {
    case PART_OCR: {
        pipeline_options po = pipeline_defaults();
        return ocr_config_apply(cfg, &po, err);
    }
    case PART_STATION: {
        guard_options g;
        edxml_options e;
        office_hours oh;
        memset(&oh, 0, sizeof oh);
        long v;
        int rc = guard_options_load(cfg, &g, err) != 0 || edxml_options_load(cfg, &e, err) != 0 ||
                 office_hours_load(cfg, &oh, err) != 0 ||
                 config_get_int(cfg, "station", "min_free_mb", 100, 0, 1L << 30, &v, err) != 0 ||
                 config_get_int(cfg, "station", "disk_warn_percent", 80, 1, 100, &v, err) != 0 ||
                 config_get_int(cfg, "station", "retry_interval", 30, 1, 86400, &v, err) != 0;
        office_hours_free(&oh);
        return rc ? -1 : 0;
    }
    case PART_TOKEN: {
        signing_setup s;
        int rc = signing_load(cfg, &s, err);
        if (rc == 0)
            signing_free(&s);
        return rc;
    }
    case PART_UPLOAD: {
        upload_options o;
        int rc = upload_options_load(cfg, &o, err);
        if (rc == 0)
            upload_options_free(&o);
        return rc;
    }
    case PART_SCANNER: {
        scanner_options o;
        memset(&o, 0, sizeof o);
        int rc = scanner_options_load(cfg, &o, err);
        scanner_options_free(&o);
        return rc;
    }
    case PART_BOARD: {
        const char *path = config_get(cfg, "station", "board", NULL);
        if (!path || !*path)
            return 0;
        board b;
        return board_load(path, &b, err);
    }
    default:
        /* every key known, every value of the right kind */
        for (size_t i = 0; i < cfg->n; i++) {
            const config_entry *e = &cfg->entries[i];
            if (config_key_check(e->section, e->key, e->value, err) != 0)
                return -1;
        }
        return 0;
    }
}

/* Parses `text` as the configuration at `path` (relative paths in it
 * resolve from there). */
static int parse_as(const char *text, const char *path, config *cfg, sohoa_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (config_parse(cfg, text, path, err) != 0) {
        config_free(cfg);
        return -1;
    }
    free(cfg->path);
    cfg->path = strdup(path);
    return 0;
}

/* 0 when `text` breaks nothing that `before` had working; else prints the
 * first part it breaks and returns 2. Parts already broken before are
 * listed as notes. */
static int check_change(console *c, const config *before, const char *text)
{
    sohoa_err err = {0};
    config after;
    if (parse_as(text, c->config_path, &after, &err) != 0) {
        con_error(c, &err);
        return 2;
    }
    int rc = 0;
    for (int part = 0; part < NPARTS && rc == 0; part++) {
        sohoa_err now = {0}, then = {0};
        if (check_part(&after, part, &now) == 0)
            continue;
        if (before && check_part(before, part, &then) != 0 && part != PART_KEYS) {
            con_printf(c, "%s (%s): %s\n", CON_T(c, "chú ý, chưa xong", "note, not complete yet"),
                       part_names[part], now.msg);
            continue;
        }
        con_error(c, &now);
        rc = 2;
    }
    config_free(&after);
    return rc;
}

/* ---- files ------------------------------------------------------------- */

static char *staged_path(const console *c)
{
    char *p = NULL;
    return asprintf(&p, "%s.new", c->config_path) < 0 ? NULL : p;
}

/* The text to edit: the staged file if there is one, else the active one
 * (empty when it does not exist yet). */
static char *read_text(const char *path, sohoa_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (access(path, F_OK) != 0)
        return strdup("");
    if (fs_read_all(path, 4 << 20, &text, &len, err) != 0)
        return NULL;
    return text;
}

static int need_file(console *c)
{
    if (c->config_path)
        return 0;
    con_printf(c, "%s\n",
               CON_T(c, "lỗi: trạm chạy không có tệp cấu hình (--config)",
                     "error: the station runs without a configuration file (--config)"));
    return -1;
}

/* Reloads c->cfg from the active file. */
static int reload(console *c)
{
    sohoa_err err = {0};
    config fresh;
    memset(&fresh, 0, sizeof fresh);
    if (config_load(&fresh, c->config_path, &err) != 0) {
        con_error(c, &err);
        return -1;
    }
    config_free(&c->cfg);
    c->cfg = fresh;
    return 0;
}

static const char *shown(const config_key *k, const char *value)
{
    if (k && k->kind == KEY_SECRET && value && *value)
        return "(***)";
    return value;
}

/* Runs [console] apply_command (restarting the service on the new file). */
static void run_apply_command(console *c)
{
    const char *cmd =
        config_get(&c->cfg, "console", "apply_command", "systemctl restart sohoa.service");
    if (!*cmd)
        return;
    fflush(c->out);
    int rc = system(cmd);
    if (rc != 0)
        con_printf(c, "%s: \"%s\" (%d)\n",
                   CON_T(c, "cảnh báo: lệnh khởi động lại dịch vụ thất bại",
                         "warning: restarting the service failed"),
                   cmd, rc);
    else
        con_printf(c, "%s\n",
                   CON_T(c, "Dịch vụ đã khởi động lại với cấu hình mới.",
                         "The service was restarted with the new configuration."));
}

int console_config_set(console *c, const char *section, const char *key, const char *value)
{
    sohoa_err err = {0};
    if (need_file(c) != 0)
        return 1;
    if (config_key_check(section, key, value, &err) != 0) {
        con_error(c, &err);
        return 2;
    }
    char *text = read_text(c->config_path, &err);
    char *edited = text ? config_text_set(text, section, key, value) : NULL;
    if (!edited) {
        if (text)
            err_set(&err, SOHOA_EWORK, "out of memory");
        con_error(c, &err);
        free(text);
        return 1;
    }
    int rc = check_change(c, &c->cfg, edited);
    char *old = NULL;
    const char *was = config_get(&c->cfg, section, key, NULL);
    old = was ? strdup(was) : NULL;
    if (rc == 0 && config_replace(c->config_path, edited, &err) != 0) {
        con_error(c, &err);
        rc = 1;
    }
    if (rc == 0) {
        /* keep a staged edit in step, so that apply does not undo this */
        char *staged = staged_path(c);
        if (staged && access(staged, F_OK) == 0) {
            char *st = read_text(staged, &err);
            char *st2 = st ? config_text_set(st, section, key, value) : NULL;
            if (st2)
                fs_write_atomic(staged, st2, strlen(st2), 0640, &err);
            free(st);
            free(st2);
        }
        free(staged);
        reload(c);
        char what[160];
        snprintf(what, sizeof what, "config [%s] %s", section, key);
        const config_key *k = config_key_find(section, key);
        console_audit(c, what, shown(k, old), shown(k, value));
    }
    free(old);
    free(text);
    free(edited);
    return rc;
}

/* ---- the command --------------------------------------------------------- */

/* "section.key" or "section key" → the two parts. */
static int split_key(const char *arg, char *section, size_t ss, char *key, size_t ks)
{
    const char *dot = strchr(arg, '.');
    if (!dot || dot == arg || !dot[1])
        return -1;
    snprintf(section, ss, "%.*s", (int)(dot - arg), arg);
    snprintf(key, ks, "%s", dot + 1);
    return 0;
}

static void show_config(console *c, const config *active, const config *staged, const char *only)
{
    const char *section = "";
    for (const config_key *k = config_keys; k->section; k++) {
        if (only && strcmp(only, k->section) != 0)
            continue;
        if (strcmp(section, k->section) != 0) {
            section = k->section;
            con_printf(c, "[%s]\n", section);
        }
        const char *v = config_get(active, k->section, k->key, NULL);
        const char *s = staged ? config_get(staged, k->section, k->key, NULL) : v;
        int changed = (v == NULL) != (s == NULL) || (v && s && strcmp(v, s) != 0);
        const char *val = shown(k, v);
        if (v)
            con_printf(c, "  %-20s = %.52s\n", k->key, val);
        else
            con_printf(c, "  %-20s   (%s %.40s)\n", k->key, CON_T(c, "mặc định", "default"),
                       *k->def ? k->def : "—");
        if (changed)
            con_printf(c, "  %-20s → %.52s  (%s)\n", "",
                       s ? shown(k, s) : CON_T(c, "mặc định", "default"),
                       CON_T(c, "chưa áp dụng", "not applied"));
    }
}

/* The staged configuration, parsed; 0 with *has = 0 when none. */
static int load_staged(console *c, config *staged, int *has)
{
    *has = 0;
    sohoa_err err = {0};
    char *path = staged_path(c);
    if (!path)
        return -1;
    int rc = 0;
    if (access(path, F_OK) == 0) {
        memset(staged, 0, sizeof *staged);
        if (config_load(staged, path, &err) != 0) {
            con_error(c, &err);
            rc = -1;
        } else
            *has = 1;
    }
    free(path);
    return rc;
}

static int cfg_show(console *c, int argc, char **argv)
{
    config staged;
    int has = 0;
    load_staged(c, &staged, &has);
    show_config(c, &c->cfg, has ? &staged : NULL, argc > 2 ? argv[2] : NULL);
    if (has) {
        con_printf(c, "%s\n",
                   CON_T(c, "Có thay đổi chưa áp dụng: config apply để áp dụng.",
                         "Changes are staged: config apply to apply them."));
        config_free(&staged);
    }
    return 0;
}

static int cfg_get(console *c, int argc, char **argv)
{
    char section[64], key[64];
    if (argc != 3 || split_key(argv[2], section, sizeof section, key, sizeof key) != 0)
        return con_printf(c, "%s: config get SECTION.KEY\n", CON_T(c, "dùng", "usage")), 2;
    const config_key *k = config_key_find(section, key);
    if (!k) {
        sohoa_err err = {0};
        config_key_check(section, key, "", &err);
        con_error(c, &err);
        return 2;
    }
    const char *v = config_get(&c->cfg, section, key, NULL);
    con_printf(c, "%s.%s = %s%s\n", section, key, v ? shown(k, v) : k->def,
               v ? "" : CON_T(c, " (mặc định)", " (default)"));
    con_printf(c, "  %s\n", k->help);
    return 0;
}

static int cfg_set(console *c, int argc, char **argv)
{
    char section[64], key[64];
    if (argc < 3 || argc > 4 || split_key(argv[2], section, sizeof section, key, sizeof key) != 0)
        return con_printf(c, "%s: config set SECTION.KEY VALUE  (%s)\n", CON_T(c, "dùng", "usage"),
                          CON_T(c, "bỏ VALUE: về mặc định", "no VALUE: back to the default")),
               2;
    if (need_file(c) != 0)
        return 1;
    const char *value = argc == 4 ? argv[3] : NULL;
    sohoa_err err = {0};
    if (config_key_check(section, key, value ? value : "", &err) != 0) {
        con_error(c, &err);
        return 2;
    }
    if (strcmp(section, "console") == 0 && strcmp(key, "password_hash") == 0) {
        con_printf(c, "%s\n",
                   CON_T(c, "Đổi mật khẩu bằng lệnh: password", "Use the password command"));
        return 2;
    }
    char *staged = staged_path(c);
    char *text =
        staged ? read_text(access(staged, F_OK) == 0 ? staged : c->config_path, &err) : NULL;
    char *edited = text ? config_text_set(text, section, key, value) : NULL;
    int rc = 1;
    if (!edited)
        con_error(c, &err);
    else if ((rc = check_change(c, &c->cfg, edited)) == 0) {
        if (fs_write_atomic(staged, edited, strlen(edited), 0640, &err) != 0) {
            con_error(c, &err);
            rc = 1;
        } else
            con_printf(c, "%s.%s = %s  (%s)\n", section, key, value ? value : "(mặc định)",
                       CON_T(c, "chưa áp dụng: config apply", "staged: config apply"));
    }
    free(staged);
    free(text);
    free(edited);
    return rc;
}

static int cfg_validate(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config staged;
    int has = 0;
    if (load_staged(c, &staged, &has) != 0)
        return 2;
    const config *cfg = has ? &staged : &c->cfg;
    int bad = 0;
    for (int part = 0; part < NPARTS; part++) {
        sohoa_err err = {0};
        if (check_part(cfg, part, &err) != 0) {
            con_printf(c, "  %-16s %s: %s\n", part_names[part], CON_T(c, "LỖI", "FAIL"), err.msg);
            bad = 1;
        } else
            con_printf(c, "  %-16s OK\n", part_names[part]);
    }
    con_printf(c, "%s: %s\n",
               has ? CON_T(c, "cấu hình chờ áp dụng", "staged configuration")
                   : CON_T(c, "cấu hình đang dùng", "active configuration"),
               bad ? CON_T(c, "có lỗi", "has errors") : CON_T(c, "hợp lệ", "valid"));
    if (has)
        config_free(&staged);
    return bad ? 1 : 0;
}

/* Audits each key that differs between `a` and `b`. */
static void audit_diff(console *c, const config *a, const config *b)
{
    for (int pass = 0; pass < 2; pass++) {
        const config *x = pass ? b : a, *y = pass ? a : b;
        for (size_t i = 0; i < x->n; i++) {
            const config_entry *e = &x->entries[i];
            const char *other = config_get(y, e->section, e->key, NULL);
            if (pass && other)
                continue; /* seen in the first pass */
            if (other && strcmp(other, e->value) == 0)
                continue;
            char what[160];
            snprintf(what, sizeof what, "config [%s] %s", e->section, e->key);
            const config_key *k = config_key_find(e->section, e->key);
            const char *ov = pass ? NULL : e->value, *nv = pass ? e->value : other;
            console_audit(c, what, shown(k, ov), shown(k, nv));
        }
    }
}

static int cfg_apply(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (need_file(c) != 0)
        return 1;
    config staged;
    int has = 0;
    if (load_staged(c, &staged, &has) != 0) {
        con_printf(c, "%s\n",
                   CON_T(c, "Không áp dụng: cấu hình đang dùng giữ nguyên.",
                         "Not applied: the active configuration is unchanged."));
        return 2;
    }
    if (!has) {
        con_printf(c, "%s\n", CON_T(c, "Không có thay đổi nào chờ áp dụng.", "Nothing is staged."));
        return 0;
    }
    sohoa_err err = {0};
    char *path = staged_path(c);
    char *text = read_text(path, &err);
    int rc = text ? check_change(c, &c->cfg, text) : 1;
    if (rc == 0 && config_replace(c->config_path, text, &err) != 0) {
        con_error(c, &err);
        rc = 1;
    }
    if (rc == 0) {
        audit_diff(c, &c->cfg, &staged);
        unlink(path);
        reload(c);
        con_printf(c, "%s\n",
                   CON_T(c, "Đã áp dụng cấu hình mới.", "The new configuration is active."));
        run_apply_command(c);
    } else {
        con_printf(c, "%s\n",
                   CON_T(c, "Không áp dụng: cấu hình đang dùng giữ nguyên.",
                         "Not applied: the active configuration is unchanged."));
    }
    free(text);
    free(path);
    config_free(&staged);
    return rc;
}

static int cfg_rollback(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (need_file(c) != 0)
        return 1;
    if (!con_confirm(
            c, CON_T(c, "Quay lại cấu hình trước?", "Go back to the previous configuration?")))
        return 1;
    sohoa_err err = {0};
    config before = c->cfg;
    memset(&c->cfg, 0, sizeof c->cfg);
    if (config_rollback(c->config_path, &err) != 0) {
        c->cfg = before;
        con_error(c, &err);
        return 1;
    }
    if (reload(c) != 0) {
        c->cfg = before;
        return 1;
    }
    audit_diff(c, &before, &c->cfg);
    console_audit(c, "config rollback", NULL, NULL);
    config_free(&before);
    char *staged = staged_path(c);
    if (staged)
        unlink(staged); /* staged edits were made on the other file */
    free(staged);
    con_printf(c, "%s\n",
               CON_T(c, "Đã quay lại cấu hình trước.", "The previous configuration is back."));
    run_apply_command(c);
    return 0;
}

static int cfg_discard(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char *staged = c->config_path ? staged_path(c) : NULL;
    if (staged && unlink(staged) == 0)
        con_printf(c, "%s\n",
                   CON_T(c, "Đã bỏ các thay đổi chưa áp dụng.", "Staged changes dropped."));
    else
        con_printf(c, "%s\n", CON_T(c, "Không có thay đổi nào chờ áp dụng.", "Nothing is staged."));
    free(staged);
    return 0;
}

static int cmd_config(console *c, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(console *, int, char **);
    } subs[] = {{"show", cfg_show},         {"get", cfg_get},     {"set", cfg_set},
                {"validate", cfg_validate}, {"apply", cfg_apply}, {"rollback", cfg_rollback},
                {"discard", cfg_discard}};
    const char *sub = argc > 1 ? argv[1] : "show";
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(sub, subs[i].name) == 0)
            return subs[i].fn(c, argc, argv);
    return con_usage(c, &console_cmds_config[0]);
}

/* `password`: the admin password, changed after the current one is given. */
static int cmd_password(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_change_password(c);
}

static const char *const config_subs[] = {"show",  "get",      "set",     "validate",
                                          "apply", "rollback", "discard", NULL};

const console_cmd console_cmds_config[] = {
    {"config", "show [SECTION]|get S.K|set S.K [VALUE]|validate|apply|rollback|discard",
     "xem, sửa, kiểm tra, áp dụng, quay lại cấu hình",
     "show, change, check, apply, roll back the configuration", cmd_config, config_subs},
    {"password", "", "đổi mật khẩu quản trị", "change the admin password", cmd_password, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
