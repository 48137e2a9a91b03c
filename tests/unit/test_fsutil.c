/* Unit tests: firmware/fsutil — atomic, durable writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/fsutil.h"

static char dir[64];

static int setup(void **state)
{
    strcpy(dir, "/tmp/sohoa-fsutil.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void write_atomic_replaces_whole_file(void **state)
{
    char path[128];
    sohoa_err err = {0};
    snprintf(path, sizeof path, "%s/a.json", dir);
    assert_int_equal(fs_write_atomic(path, "old contents", 12, 0600, &err), 0);
    assert_int_equal(fs_write_atomic(path, "new", 3, 0600, &err), 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(fs_read_all(path, 1024, &data, &len, &err), 0);
    assert_int_equal(len, 3);
    assert_string_equal(data, "new");
    free(data);
    struct stat st;
    stat(path, &st);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_entries(dir), 1); /* no temporary left */
}

static void abort_leaves_nothing(void **state)
{
    char path[128];
    sohoa_err err = {0};
    snprintf(path, sizeof path, "%s/b.pdf", dir);
    atomic_file af;
    assert_int_equal(atomic_open(&af, path, 0644, &err), 0);
    fputs("partial", af.f);
    assert_int_equal(count_entries(dir), 1); /* only the hidden temporary */
    atomic_abort(&af);
    assert_int_equal(count_entries(dir), 0);
    assert_int_equal(access(path, F_OK), -1);
}

static void sync_then_commit_publishes(void **state)
{
    char path[128];
    sohoa_err err = {0};
    snprintf(path, sizeof path, "%s/c.txt", dir);
    atomic_file af;
    assert_int_equal(atomic_open(&af, path, 0644, &err), 0);
    fputs("x", af.f);
    assert_int_equal(atomic_sync(&af, &err), 0);
    assert_int_equal(access(path, F_OK), -1); /* not yet visible */
    assert_int_equal(atomic_commit(&af, &err), 0);
    assert_int_equal(access(path, F_OK), 0);
}

static void write_error_is_reported_and_cleaned(void **state)
{
    sohoa_err err = {0};
    /* A directory that does not exist: open fails with the path named. */
    assert_int_equal(fs_write_atomic("/nonexistent-dir/x", "a", 1, 0644, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x"));
}

static void mkdir_p_creates_parents_and_refuses_files(void **state)
{
    char path[128];
    sohoa_err err = {0};
    snprintf(path, sizeof path, "%s/x/y/z", dir);
    assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
    assert_int_equal(fs_mkdir_p(path, 0755, &err), 0); /* exists: fine */
    snprintf(path, sizeof path, "%s/file", dir);
    fs_write_atomic(path, "", 0, 0644, &err);
    assert_int_equal(fs_mkdir_p(path, 0755, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
}

static void read_all_enforces_limit(void **state)
{
    char path[128];
    sohoa_err err = {0};
    snprintf(path, sizeof path, "%s/big", dir);
    char buf[10000];
    memset(buf, 'a', sizeof buf);
    fs_write_atomic(path, buf, sizeof buf, 0644, &err);
    char *data = NULL;
    assert_int_equal(fs_read_all(path, 5000, &data, NULL, &err), -1);
    assert_null(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write_atomic_replaces_whole_file, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_then_commit_publishes, setup, teardown),
        cmocka_unit_test_setup_teardown(write_error_is_reported_and_cleaned, setup, teardown),
        cmocka_unit_test_setup_teardown(mkdir_p_creates_parents_and_refuses_files, setup, teardown),
        cmocka_unit_test_setup_teardown(read_all_enforces_limit, setup, teardown),
    };
    return cmocka_run_group_tests_name("fsutil", tests, NULL, NULL);
}
