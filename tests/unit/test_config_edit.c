/* Unit tests: firmware/config_edit (text edits that keep comments, atomic
 * replace and rollback), firmware/config_keys (value checks) and the
 * register's audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/config.h"
#include "firmware/config_edit.h"
#include "firmware/config_keys.h"
#include "firmware/fsutil.h"
#include "firmware/register.h"

static const char base[] = "; the station\n"
                           "[station]\n"
                           "organ_id = 000.00.15.H47   ; mã định danh\n"
                           "data_dir = /var/lib/sohoa\n"
                           "\n"
                           "[upload]\n"
                           "; the central system\n"
                           "url = https://a.example/edxml\n";

static void set_replaces_in_place_keeping_comment(void **state)
{
    char *t = config_text_set(base, "station", "organ_id", "000.00.99.H01");
    assert_non_null(t);
    assert_non_null(strstr(t, "organ_id = 000.00.99.H01   ; mã định danh\n"));
    assert_null(strstr(t, "H47"));
    /* everything else untouched */
    assert_int_equal(strlen(t), strlen(base));
    free(t);
}

static void set_adds_to_section_and_new_section(void **state)
{
    char *t = config_text_set(base, "station", "min_free_mb", "50");
    assert_non_null(t);
    /* after the section's last key, before the blank line and [upload] */
    const char *k = strstr(t, "min_free_mb = 50\n");
    assert_non_null(k);
    assert_true(k > strstr(t, "data_dir") && k < strstr(t, "[upload]"));
    char *u = config_text_set(t, "console", "idle_timeout", "60");
    assert_non_null(strstr(u, "\n[console]\nidle_timeout = 60\n"));
    /* what we wrote parses, with the values */
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, u, "t.conf", &err), 0);
    assert_string_equal(config_get(&cfg, "station", "min_free_mb", ""), "50");
    assert_string_equal(config_get(&cfg, "console", "idle_timeout", ""), "60");
    assert_string_equal(config_get(&cfg, "upload", "url", ""), "https://a.example/edxml");
    config_free(&cfg);
    free(t);
    free(u);
}

static void set_null_removes_and_empty_text_works(void **state)
{
    char *t = config_text_set(base, "upload", "url", NULL);
    assert_null(strstr(t, "url ="));
    assert_non_null(strstr(t, "; the central system\n"));
    free(t);
    t = config_text_set("", "token", "pin_file", "/data/pin");
    assert_string_equal(t, "[token]\npin_file = /data/pin\n");
    free(t);
    /* a key of the same name in another section is not touched */
    t = config_text_set("[a]\nx = 1\n[b]\nx = 2\n", "b", "x", "3");
    assert_string_equal(t, "[a]\nx = 1\n[b]\nx = 3\n");
    free(t);
    /* an empty section gets the key right after its header */
    t = config_text_set("[a]\n[b]\ny = 1\n", "a", "x", "1");
    assert_string_equal(t, "[a]\nx = 1\n[b]\ny = 1\n");
    free(t);
}

static char dir[] = "/tmp/sohoa-cfgedit-XXXXXX";

static void replace_keeps_previous_and_rollback_swaps(void **state)
{
    char path[300], prev[310];
    snprintf(path, sizeof path, "%s/sohoa.conf", dir);
    snprintf(prev, sizeof prev, "%s.prev", path);
    sohoa_err err = {0};
    assert_int_equal(fs_write_atomic(path, "[a]\nx = 1\n", 10, 0600, &err), 0);
    assert_int_equal(config_replace(path, "[a]\nx = 2\n", &err), 0);
    char *text = NULL;
    size_t len;
    assert_int_equal(fs_read_all(path, 1000, &text, &len, &err), 0);
    assert_string_equal(text, "[a]\nx = 2\n");
    free(text);
    assert_int_equal(fs_read_all(prev, 1000, &text, &len, &err), 0);
    assert_string_equal(text, "[a]\nx = 1\n");
    free(text);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* the file's mode is kept */
    assert_int_equal(config_rollback(path, &err), 0);
    assert_int_equal(fs_read_all(path, 1000, &text, &len, &err), 0);
    assert_string_equal(text, "[a]\nx = 1\n");
    free(text);
    /* a second rollback undoes the first */
    assert_int_equal(config_rollback(path, &err), 0);
    assert_int_equal(fs_read_all(path, 1000, &text, &len, &err), 0);
    assert_string_equal(text, "[a]\nx = 2\n");
    free(text);
    unlink(prev);
    assert_int_equal(config_rollback(path, &err), -1);
    assert_non_null(strstr(err.msg, "no previous configuration"));
    unlink(path);
}

static void key_checks(void **state)
{
    sohoa_err err = {0};
    assert_int_equal(config_key_check("upload", "retry_min", "7", &err), 0);
    assert_int_equal(config_key_check("upload", "retry_min", "", &err), 0);
    assert_int_equal(config_key_check("upload", "retry_min", "0", &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "from 1 to"));
    assert_int_equal(config_key_check("upload", "retry_min", "7s", &err), -1);
    err_clear(&err);
    assert_int_equal(config_key_check("ocr", "compression", "mrc", &err), 0);
    err_clear(&err);
    assert_int_equal(config_key_check("ocr", "compression", "zip", &err), -1);
    assert_non_null(strstr(err.msg, "auto|mrc|jpeg|g4"));
    err_clear(&err);
    assert_int_equal(config_key_check("upload", "nonsense", "1", &err), -1);
    assert_non_null(strstr(err.msg, "no such setting"));
    /* what the INI reader would take as a comment or a second line */
    assert_int_equal(config_key_check("station", "organ_name", "Sở A ; B", &err), -1);
    assert_int_equal(config_key_check("station", "organ_name", "A\nB", &err), -1);
    assert_int_equal(config_key_check("upload", "url", "https://x/y#frag", &err), 0);
    /* every default in the table passes its own check */
    for (const config_key *k = config_keys; k->section; k++)
        if (config_key_check(k->section, k->key, k->def, &err) != 0)
            fail_msg("default of [%s] %s fails: %s", k->section, k->key, err.msg);
}

static void audit_log_is_append_only(void **state)
{
    char db[300];
    snprintf(db, sizeof db, "%s/register.db", dir);
    sohoa_err err = {0};
    reg *r = reg_open(db, &err);
    assert_non_null(r);
    assert_int_equal(reg_audit(r, 1000, "admin@ttyAMA0", "config [upload] url", "a", "b", &err), 0);
    assert_int_equal(reg_audit(r, 1001, "admin@ttyAMA0", "login", NULL, "ok", &err), 0);
    char *check = NULL;
    assert_int_equal(reg_integrity_check(r, &check, &err), 0);
    assert_string_equal(check, "ok");
    free(check);
    reg_close(r);
    /* a rewrite is refused by the database itself */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(h, "UPDATE audit SET new = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(h, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    /* a register of schema 1 (no audit table) gains it when opened */
    assert_int_equal(sqlite3_exec(h,
                                  "DROP TRIGGER audit_not_deleted; DROP TABLE audit;"
                                  " PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    r = reg_open(db, &err);
    assert_non_null(r);
    assert_int_equal(reg_audit(r, 1002, "admin@ttyS0", "login", NULL, "ok", &err), 0);
    reg_close(r);
    unlink(db);
    char side[320];
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
}

static int count_audit(void *ctx, const reg_audit_entry *e)
{
    int *n = ctx;
    (*n)++;
    assert_non_null(e->who);
    return 0;
}

static void audit_read_back_newest_n(void **state)
{
    char db[300];
    snprintf(db, sizeof db, "%s/register2.db", dir);
    sohoa_err err = {0};
    reg *r = reg_open(db, &err);
    assert_non_null(r);
    for (int i = 0; i < 5; i++)
        assert_int_equal(reg_audit(r, 2000 + i, "admin@x", "login", NULL, "ok", &err), 0);
    int n = 0;
    assert_int_equal(reg_each_audit(r, 3, count_audit, &n, &err), 0);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(reg_each_audit(r, 0, count_audit, &n, &err), 0);
    assert_int_equal(n, 5);
    reg_close(r);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -f %s*", db);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_replaces_in_place_keeping_comment),
        cmocka_unit_test(set_adds_to_section_and_new_section),
        cmocka_unit_test(set_null_removes_and_empty_text_works),
        cmocka_unit_test(replace_keeps_previous_and_rollback_swaps),
        cmocka_unit_test(key_checks),
        cmocka_unit_test(audit_log_is_append_only),
        cmocka_unit_test(audit_read_back_newest_n),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
