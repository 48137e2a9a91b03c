/* Unit tests: firmware/register — the incoming register and upload queue on
 * a real SQLite database in a temporary directory. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firmware/register.h"
#include "firmware/vntime.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
    strcpy(dir, "/tmp/sohoa-register.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/register.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    chmod(dir, 0700);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* Vietnam wall-clock time → epoch seconds. */
static time_t vn(int y, int mo, int d, int h, int mi)
{
    vn_tm t = {.year = y, .mon = mo, .day = d, .hour = h, .min = mi};
    return vntime_join(&t);
}

static reg *open_ok(void)
{
    sohoa_err err = {0};
    reg *r = reg_open(db_path, &err);
    if (!r)
        fail_msg("reg_open: %s", err.msg);
    return r;
}

static void meta_fill(doc_metadata *m, const char *issuer, const char *nn, const char *date)
{
    memset(m, 0, sizeof *m);
    meta_set(m, META_FORMAT, "state");
    meta_set(m, META_ISSUER, issuer);
    meta_set(m, META_NUMBER_NOTATION, nn);
    meta_set(m, META_DATE, date);
    meta_set(m, META_SUBJECT, "Ban hành Quy chế gửi, nhận văn bản điện tử");
    m->number = 2588;
    m->has_number = true;
    m->pages = 2;
    for (int f = 0; f < META_NFIELDS; f++)
        m->confidence[f] = 0.9f;
    m->confidence[META_NUMBER] = 0.31f;
    m->review[META_NUMBER] = true;
}

/* A document in state processed with the given duplicate key. */
static int64_t new_processed(reg *r, const char *issuer, const char *nn, const char *date,
                             time_t effective)
{
    sohoa_err err = {0};
    int64_t id = 0;
    doc_metadata m;
    meta_fill(&m, issuer, nn, date);
    if (reg_create(r, "/var/lib/sohoa/docs/x", effective - 60, effective, &id, &err) != 0 ||
        reg_set_metadata(r, id, &m, effective, &err) != 0)
        fail_msg("new document: %s", err.msg);
    meta_free(&m);
    return id;
}

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* processed → registered → signed → queued. */
static void to_queued(reg *r, int64_t id, int priority, time_t now)
{
    sohoa_err err = {0};
    int64_t n;
    char docid[64];
    snprintf(docid, sizeof docid, "000.00.15.H47,2026/03/02,%lld/QĐ-UBND", (long long)id);
    if (reg_register(r, id, now, &n, &err) != 0 || reg_set_signed(r, id, sha, now, &err) != 0 ||
        reg_enqueue(r, id, docid, priority, now, &err) != 0)
        fail_msg("to_queued %lld: %s", (long long)id, err.msg);
}

static doc_state state_of(reg *r, int64_t id)
{
    sohoa_err err = {0};
    reg_doc d;
    if (reg_get(r, id, &d, &err) != 0)
        fail_msg("reg_get: %s", err.msg);
    doc_state s = d.state;
    reg_doc_free(&d);
    return s;
}

/* The history of a document as "event[detail]|event|..." */
typedef struct hist {
    char text[4096];
    int n;
    time_t last_at;
} hist;

static int hist_add(void *ctx, const reg_event *e)
{
    hist *h = ctx;
    size_t len = strlen(h->text);
    snprintf(h->text + len, sizeof h->text - len, "%s%s%s%s%s", h->n ? "|" : "", e->event,
             e->detail ? "[" : "", e->detail ? e->detail : "", e->detail ? "]" : "");
    h->n++;
    h->last_at = e->at;
    return 0;
}

static void history(reg *r, int64_t id, hist *h)
{
    sohoa_err err = {0};
    memset(h, 0, sizeof *h);
    assert_int_equal(reg_each_event(r, id, hist_add, h, &err), 0);
}

/* One text value from the database, read with SQLite directly (what the
 * register stores, not what its API shows). Caller frees. */
static char *sql_text(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* ---- opening ----------------------------------------------------------- */

static void open_creates_0600_wal(void **state)
{
    /* The mode must not depend on the umask: this one would give 0400. */
    mode_t old = umask(0277);
    reg *r = open_ok();
    struct stat st;
    assert_int_equal(stat(db_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    int64_t id;
    sohoa_err err = {0};
    assert_int_equal(reg_create(r, "/d", 1000, 1000, &id, &err), 0);
    umask(old);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    assert_int_equal(stat(wal, &st), 0); /* WAL mode: the log exists while open */
    assert_int_equal(st.st_mode & 0777, 0600);
    reg_close(r);

    char *mode = sql_text("PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    char *version = sql_text("PRAGMA user_version");
    assert_string_equal(version, "2");
    free(version);
}

static void reopen_keeps_data(void **state)
{
    reg *r = open_ok();
    time_t t = vn(2026, 3, 2, 9, 0);
    int64_t id = new_processed(r, "UBND TỈNH SƠN LA", "12/QĐ-UBND", "2026-03-01", t);
    int64_t n = 0;
    sohoa_err err = {0};
    assert_int_equal(reg_register(r, id, t, &n, &err), 0);
    assert_int_equal(n, 1);
    reg_close(r);

    r = open_ok();
    reg_doc d;
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_int_equal(d.state, DOC_REGISTERED);
    assert_int_equal(d.so_den, 1);
    assert_int_equal(d.year, 2026);
    assert_int_equal(d.effective, t);
    assert_int_equal(d.received, t - 60);
    assert_string_equal(d.dir, "/var/lib/sohoa/docs/x");
    assert_string_equal(d.meta.str[META_ISSUER], "UBND TỈNH SƠN LA");
    assert_string_equal(d.meta.str[META_NUMBER_NOTATION], "12/QĐ-UBND");
    assert_int_equal(d.meta.number, 2588);
    assert_true(d.meta.review[META_NUMBER]);
    assert_int_equal(d.meta.pages, 2);
    reg_doc_free(&d);
    /* The series continues after a reopen. */
    int64_t id2 = new_processed(r, "UBND TỈNH SƠN LA", "13/QĐ-UBND", "2026-03-01", t);
    assert_int_equal(reg_register(r, id2, t, &n, &err), 0);
    assert_int_equal(n, 2);
    reg_close(r);
}

static void not_a_database_is_named(void **state)
{
    FILE *f = fopen(db_path, "w");
    for (int i = 0; i < 200; i++)
        fputs("this is a text file, not a register\n", f);
    fclose(f);
    sohoa_err err = {0};
    reg *r = reg_open(db_path, &err);
    assert_null(r);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, db_path));
    assert_non_null(strstr(err.msg, "not a database"));
    assert_null(strchr(err.msg, '\n'));
}

static void unwritable_directory_is_named(void **state)
{
    /* Permissions do not stop root: a directory under /proc cannot get a
     * new file whoever we are. */
    sohoa_err err = {0};
    const char *proc_path = "/proc/sohoa-no-such-dir/register.db";
    assert_null(reg_open(proc_path, &err));
    assert_non_null(strstr(err.msg, proc_path));
    assert_non_null(strstr(err.msg, "writable"));

    if (geteuid() == 0)
        return;
    char sub[160], path[200];
    snprintf(sub, sizeof sub, "%s/ro", dir);
    assert_int_equal(mkdir(sub, 0555), 0);
    snprintf(path, sizeof path, "%s/register.db", sub);
    err_clear(&err);
    assert_null(reg_open(path, &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "Permission denied"));
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A mount namespace of our own (with a user namespace when not root), so
 * that a small tmpfs can be mounted where only this process sees it. */
static int private_mounts(void)
{
    if (unshare(CLONE_NEWNS) != 0) {
        uid_t uid = geteuid();
        gid_t gid = getegid();
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return -1;
        write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
        if (write_file("/proc/self/uid_map", map) != 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
        if (write_file("/proc/self/gid_map", map) != 0)
            return -1;
    }
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* Forks `child`, which writes to the pipe end it is given and _exits;
 * returns its pid, with the pipe's read end in *from_child. */
static pid_t fork_with_pipe(void (*child)(int fd), int *from_child)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        child(pipefd[1]);
        _exit(127); /* not reached: the child _exits with its own status */
    }
    close(pipefd[1]);
    *from_child = pipefd[0];
    return pid;
}

/* In the child: the register on a 512 KiB tmpfs, the rest of the space
 * taken by another file, then documents until the disk is full. Exits 0
 * after writing the error to `fd`, 77 when no tmpfs can be mounted. */
static void full_disk_child(int fd)
{
    if (private_mounts() != 0 || mount("tmpfs", dir, "tmpfs", 0, "size=512k,mode=0700") != 0)
        _exit(77);
    sohoa_err err = {0};
    reg *r = reg_open(db_path, &err);
    if (!r)
        _exit(5);
    char filler[160], block[4096];
    memset(block, 'x', sizeof block);
    snprintf(filler, sizeof filler, "%s/filler", dir);
    int ffd = open(filler, O_WRONLY | O_CREAT, 0600);
    while (write(ffd, block, sizeof block) > 0)
        ;
    close(ffd);
    int failed = 0;
    for (int i = 0; i < 5000 && !failed; i++) {
        int64_t id;
        failed =
            reg_create(r, "/var/lib/sohoa/docs/a-rather-long-directory-name", 1, 1, &id, &err) != 0;
    }
    reg_close(r);
    if (!failed)
        _exit(6);
    ssize_t w = write(fd, err.msg, strlen(err.msg));
    _exit(w > 0 ? 0 : 4);
}

static void full_disk_is_named(void **state)
{
    int from_child;
    pid_t pid = fork_with_pipe(full_disk_child, &from_child);
    char msg[600] = {0};
    size_t len = 0;
    ssize_t k;
    while (len < sizeof msg - 1 && (k = read(from_child, msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)k;
    close(from_child);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip(); /* no mount namespace here */
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(msg, db_path));
    assert_non_null(strstr(msg, "full"));
    assert_non_null(strstr(msg, "free space"));
}

static void newer_schema_refused(void **state)
{
    reg *r = open_ok();
    reg_close(r);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    sohoa_err err = {0};
    assert_null(reg_open(db_path, &err));
    assert_non_null(strstr(err.msg, db_path));
    assert_non_null(strstr(err.msg, "99"));
}

/* ---- states ------------------------------------------------------------ */

static void full_lifecycle_with_events(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t0 = vn(2026, 3, 2, 8, 0);
    int64_t id = 0;
    assert_int_equal(reg_create(r, "/data/docs/a", t0, t0 + 5, &id, &err), 0);
    assert_true(id > 0);
    assert_int_equal(state_of(r, id), DOC_SCANNED);

    doc_metadata m;
    meta_fill(&m, "ỦY BAN NHÂN DÂN TỈNH SƠN LA", "2588/QĐ-UBND", "2018-10-22");
    assert_int_equal(reg_set_metadata(r, id, &m, t0 + 10, &err), 0);
    meta_free(&m);
    assert_int_equal(state_of(r, id), DOC_PROCESSED);

    assert_int_equal(reg_hold(r, id, HOLD_REVIEW, "số chưa chắc", 0, t0 + 20, &err), 0);
    reg_doc d;
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_int_equal(d.state, DOC_HELD);
    assert_int_equal(d.hold, HOLD_REVIEW);
    assert_int_equal(d.duplicate_of, 0);
    assert_string_equal(d.note, "số chưa chắc");
    assert_int_equal(d.so_den, 0);
    assert_int_equal(d.year, 0);
    reg_doc_free(&d);

    assert_int_equal(reg_release(r, id, "đã kiểm tra", "Lan", t0 + 30, &err), 0);
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_int_equal(d.state, DOC_PROCESSED);
    assert_int_equal(d.hold, 0);
    assert_int_equal(d.released, HOLD_REVIEW);
    reg_doc_free(&d);

    int64_t n = 0;
    assert_int_equal(reg_register(r, id, t0 + 40, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(reg_set_signed(r, id, sha, t0 + 50, &err), 0);
    assert_int_equal(reg_enqueue(r, id, "000.00.15.H47,2026/03/02,1/QĐ", 1, t0 + 60, &err), 0);
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_int_equal(d.state, DOC_QUEUED);
    assert_string_equal(d.pdf_sha256, sha);
    assert_string_equal(d.document_id, "000.00.15.H47,2026/03/02,1/QĐ");
    assert_int_equal(d.priority, 1);
    assert_int_equal(d.attempts, 0);
    assert_int_equal(d.next_attempt, t0 + 60);
    assert_null(d.last_error);
    reg_doc_free(&d);

    assert_int_equal(reg_mark_retry(r, id, t0 + 600, "HTTP 503", t0 + 70, &err), 0);
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_int_equal(d.state, DOC_QUEUED);
    assert_int_equal(d.attempts, 1);
    assert_int_equal(d.next_attempt, t0 + 600);
    assert_string_equal(d.last_error, "HTTP 503");
    reg_doc_free(&d);

    assert_int_equal(reg_mark_sent(r, id, "01", "đã đến", t0 + 700, &err), 0);
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_int_equal(d.state, DOC_SENT);
    assert_string_equal(d.server_status, "01");
    assert_int_equal(d.so_den, 1);
    reg_doc_free(&d);

    int matched = 0;
    assert_int_equal(reg_add_server_status(r, "000.00.15.H47,2026/03/02,1/QĐ", "03", "tiếp nhận",
                                           t0 + 800, &matched, &err),
                     0);
    assert_int_equal(matched, 1);
    assert_int_equal(reg_add_server_status(r, "000.00.15.H47,2026/03/02,999/QĐ", "03", NULL,
                                           t0 + 800, &matched, &err),
                     0);
    assert_int_equal(matched, 0);
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_string_equal(d.server_status, "03");
    reg_doc_free(&d);

    hist h;
    history(r, id, &h);
    assert_string_equal(h.text, "scanned[/data/docs/a]"
                                "|processed"
                                "|held[review: số chưa chắc]"
                                "|released[review: đã kiểm tra (Lan)]"
                                "|registered[số đến 1/2026]"
                                "|signed["
                                "0123456789abcdef0123456789abcdef"
                                "0123456789abcdef0123456789abcdef]"
                                "|queued[priority 1, 000.00.15.H47,2026/03/02,1/QĐ]"
                                "|retry[HTTP 503; next attempt 2026-03-02T08:10:00+07:00]"
                                "|sent[01 đã đến]"
                                "|server:03[tiếp nhận]");
    assert_int_equal(h.last_at, t0 + 800);

    int64_t by_dir = -1;
    assert_int_equal(reg_find_by_dir(r, "/data/docs/a", &by_dir, &err), 0);
    assert_int_equal(by_dir, id);
    assert_int_equal(reg_find_by_dir(r, "/data/docs/b", &by_dir, &err), 0);
    assert_int_equal(by_dir, 0);
    assert_int_equal(err.status, SOHOA_OK);
    reg_close(r);
}

static void numbering_per_vietnam_year(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    /* Both are 31 December in UTC: only Vietnam time puts them in two years. */
    time_t dec31 = vn(2025, 12, 31, 23, 30), jan1 = vn(2026, 1, 1, 0, 30);
    int64_t a = new_processed(r, "A", "1/A", "2025-12-30", dec31);
    int64_t b = new_processed(r, "B", "1/B", "2025-12-30", jan1);
    int64_t c = new_processed(r, "C", "1/C", "2025-12-30", dec31);
    int64_t d = new_processed(r, "D", "1/D", "2025-12-30", jan1);
    int64_t e = new_processed(r, "E", "1/E", "2025-12-30", jan1);
    int64_t n;
    /* Registered at the same wall-clock moment: the year is the effective
     * time's, not the registration's. */
    time_t now = vn(2026, 1, 2, 8, 0);
    assert_int_equal(reg_register(r, a, now, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(reg_register(r, b, now, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(reg_register(r, c, now, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(reg_register(r, d, now, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(reg_register(r, e, now, &n, &err), 0);
    assert_int_equal(n, 3);

    reg_doc doc;
    int found = 0;
    assert_int_equal(reg_get_by_so_den(r, 2026, 1, &doc, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(doc.id, b);
    assert_int_equal(doc.year, 2026);
    reg_doc_free(&doc);
    assert_int_equal(reg_get_by_so_den(r, 2025, 2, &doc, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(doc.id, c);
    assert_int_equal(doc.year, 2025);
    reg_doc_free(&doc);
    assert_int_equal(reg_get_by_so_den(r, 2025, 3, &doc, &found, &err), 0);
    assert_int_equal(found, 0);
    reg_close(r);
}

static void register_is_idempotent_and_never_reuses(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    int64_t a = new_processed(r, "A", "1/A", "2026-05-01", t);
    int64_t b = new_processed(r, "B", "1/B", "2026-05-01", t);
    int64_t n = 0;
    assert_int_equal(reg_register(r, a, t, &n, &err), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(reg_register(r, a, t + 1, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(reg_set_signed(r, a, sha, t + 2, &err), 0);
    n = 0;
    assert_int_equal(reg_register(r, a, t + 3, &n, &err), 0); /* after the next step too */
    assert_int_equal(n, 1);
    assert_int_equal(state_of(r, a), DOC_SIGNED);
    hist h;
    history(r, a, &h);
    assert_string_equal(h.text, "scanned[/var/lib/sohoa/docs/x]|processed"
                                "|registered[số đến 1/2026]|signed["
                                "0123456789abcdef0123456789abcdef"
                                "0123456789abcdef0123456789abcdef]");

    /* A discarded registered document keeps its number; the next one
     * does not take it again. */
    assert_int_equal(reg_discard(r, a, "bản scan mờ", "Lan", t + 4, &err), 0);
    reg_doc d;
    assert_int_equal(reg_get(r, a, &d, &err), 0);
    assert_int_equal(d.state, DOC_DISCARDED);
    assert_int_equal(d.so_den, 1);
    assert_string_equal(d.note, "bản scan mờ");
    reg_doc_free(&d);
    assert_int_equal(reg_register(r, b, t + 5, &n, &err), 0);
    assert_int_equal(n, 2);

    /* Even a direct write cannot take a number back. */
    reg_close(r);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE counters SET last = 1", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE documents SET so_den = 7 WHERE so_den = 2", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
}

/* Asserts that `rc` is a refusal with exactly `msg` (SOHOA_EINPUT). */
static void refused(int rc, sohoa_err *err, const char *msg)
{
    assert_int_equal(rc, -1);
    assert_int_equal(err->status, SOHOA_EINPUT);
    assert_string_equal(err->msg, msg);
    err_clear(err);
}

static void wrong_transitions_refused(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    int64_t id = 0, n = 0;
    char msg[128];
    assert_int_equal(reg_create(r, "/d", t, t, &id, &err), 0);
    snprintf(msg, sizeof msg, "document %lld is scanned, cannot register", (long long)id);
    refused(reg_register(r, id, t, &n, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is scanned, cannot hold", (long long)id);
    refused(reg_hold(r, id, HOLD_REVIEW, NULL, 0, t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is scanned, cannot correct", (long long)id);
    refused(reg_correct(r, id, META_ISSUER, "X", "Lan", t, &err), &err, msg);

    doc_metadata m;
    meta_fill(&m, "A", "1/A", "2026-05-01");
    assert_int_equal(reg_set_metadata(r, id, &m, t, &err), 0);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot store metadata", (long long)id);
    refused(reg_set_metadata(r, id, &m, t, &err), &err, msg);
    meta_free(&m);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot mark signed", (long long)id);
    refused(reg_set_signed(r, id, sha, t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot enqueue", (long long)id);
    refused(reg_enqueue(r, id, "X", 0, t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot release", (long long)id);
    refused(reg_release(r, id, "why", "Lan", t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot mark sent", (long long)id);
    refused(reg_mark_sent(r, id, NULL, NULL, t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot schedule a retry", (long long)id);
    refused(reg_mark_retry(r, id, t, "x", t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is processed, cannot mark rejected", (long long)id);
    refused(reg_mark_rejected(r, id, "x", t, &err), &err, msg);

    assert_int_equal(reg_register(r, id, t, &n, &err), 0);
    snprintf(msg, sizeof msg, "document %lld is registered, cannot hold", (long long)id);
    refused(reg_hold(r, id, HOLD_DUPLICATE, NULL, 0, t, &err), &err, msg);
    to_queued(r, id, 0, t); /* register is idempotent, so this works from here */
    snprintf(msg, sizeof msg, "document %lld is queued, cannot correct", (long long)id);
    refused(reg_correct(r, id, META_ISSUER, "X", "Lan", t, &err), &err, msg);
    assert_int_equal(reg_mark_sent(r, id, NULL, NULL, t, &err), 0);
    snprintf(msg, sizeof msg, "document %lld is sent, cannot discard", (long long)id);
    refused(reg_discard(r, id, "x", "Lan", t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is sent, cannot mark failed", (long long)id);
    refused(reg_fail(r, id, "x", t, &err), &err, msg);
    snprintf(msg, sizeof msg, "document %lld is sent, cannot mark sent", (long long)id);
    refused(reg_mark_sent(r, id, NULL, NULL, t, &err), &err, msg);

    /* A refused change leaves no trace in the history. */
    hist h;
    history(r, id, &h);
    assert_int_equal(h.n, 6); /* scanned processed registered signed queued sent */
    assert_int_equal(state_of(r, id), DOC_SENT);

    refused(reg_get(r, 9999, &(reg_doc){0}, &err), &err, "document 9999 does not exist");
    refused(reg_discard(r, 9999, "x", NULL, t, &err), &err, "document 9999 does not exist");

    int64_t other = new_processed(r, "B", "2/B", "2026-05-01", t);
    assert_int_equal(reg_fail(r, other, "trang không đọc được", t, &err), 0);
    snprintf(msg, sizeof msg, "document %lld is failed, cannot mark failed", (long long)other);
    refused(reg_fail(r, other, "again", t, &err), &err, msg);
    assert_int_equal(reg_discard(r, other, "bỏ", "Lan", t, &err), 0);
    snprintf(msg, sizeof msg, "document %lld is discarded, cannot discard", (long long)other);
    refused(reg_discard(r, other, "again", "Lan", t, &err), &err, msg);

    /* Bad arguments. */
    int64_t third = new_processed(r, "C", "3/C", "2026-05-01", t);
    assert_int_equal(reg_hold(r, third, HOLD_REJECTED, NULL, 0, t, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(reg_hold(r, third, HOLD_DUPLICATE, NULL, 424242, t, &err), -1);
    assert_non_null(strstr(err.msg, "424242"));
    err_clear(&err);
    assert_int_equal(reg_register(r, third, t, &n, &err), 0);
    assert_int_equal(reg_set_signed(r, third, "abc", t, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(reg_set_signed(r, third, sha, t, &err), 0);
    assert_int_equal(reg_enqueue(r, third, "X", 4, t, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(state_of(r, third), DOC_SIGNED);
    reg_close(r);
}

/* ---- queue ------------------------------------------------------------- */

static int64_t next_id(reg *r, time_t now)
{
    sohoa_err err = {0};
    reg_doc d;
    int found = -1;
    assert_int_equal(reg_next_to_send(r, now, &d, &found, &err), 0);
    if (!found)
        return 0;
    int64_t id = d.id;
    assert_int_equal(d.state, DOC_QUEUED);
    reg_doc_free(&d);
    return id;
}

static void queue_order_priority_fifo_due(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    static const int prio[] = {0, 2, 0, 3, 2, 1};
    int64_t id[6];
    for (int i = 0; i < 6; i++) {
        char nn[16];
        snprintf(nn, sizeof nn, "%d/X", i);
        id[i] = new_processed(r, "A", nn, "2026-05-01", t);
    }
    /* Enqueued in an order unlike the ids: FIFO follows the enqueue. */
    static const int order[] = {2, 0, 4, 1, 3, 5};
    for (int k = 0; k < 6; k++)
        to_queued(r, id[order[k]], prio[order[k]], t + k);

    time_t due = 0;
    int found = 0;
    assert_int_equal(reg_next_due(r, &due, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(due, t);

    /* Expected: 3 (id3), 2 queued first (id4), 2 (id1), 1 (id5), 0 first (id2), 0 (id0). */
    assert_int_equal(next_id(r, t + 100), id[3]);
    /* Not yet due: skipped, the next in order comes. */
    assert_int_equal(reg_mark_retry(r, id[3], t + 500, "timeout", t + 100, &err), 0);
    assert_int_equal(next_id(r, t + 100), id[4]);
    assert_int_equal(reg_next_due(r, &due, &found, &err), 0);
    assert_int_equal(due, t); /* the earliest is still due */
    assert_int_equal(reg_mark_sent(r, id[4], "01", NULL, t + 101, &err), 0);
    assert_int_equal(next_id(r, t + 101), id[1]);
    assert_int_equal(reg_mark_sent(r, id[1], NULL, NULL, t + 102, &err), 0);
    assert_int_equal(next_id(r, t + 102), id[5]);
    assert_int_equal(reg_mark_sent(r, id[5], NULL, NULL, t + 103, &err), 0);
    assert_int_equal(next_id(r, t + 103), id[2]);
    /* Once due, the hỏa tốc document is first again. */
    assert_int_equal(next_id(r, t + 500), id[3]);
    assert_int_equal(reg_mark_sent(r, id[3], NULL, NULL, t + 500, &err), 0);
    assert_int_equal(reg_mark_sent(r, id[2], NULL, NULL, t + 501, &err), 0);
    assert_int_equal(next_id(r, t + 501), id[0]);
    assert_int_equal(reg_mark_retry(r, id[0], t + 900, "HTTP 502", t + 502, &err), 0);
    assert_int_equal(next_id(r, t + 899), 0);
    assert_int_equal(reg_next_due(r, &due, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_int_equal(due, t + 900);
    assert_int_equal(reg_mark_sent(r, id[0], NULL, NULL, t + 900, &err), 0);
    assert_int_equal(next_id(r, t + 10000), 0);
    assert_int_equal(reg_next_due(r, &due, &found, &err), 0);
    assert_int_equal(found, 0);
    reg_close(r);
}

static void rejected_held_released_keeps_place(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    int64_t a = new_processed(r, "A", "1/A", "2026-05-01", t);
    int64_t b = new_processed(r, "B", "1/B", "2026-05-01", t);
    int64_t c = new_processed(r, "C", "1/C", "2026-05-01", t);
    to_queued(r, a, 0, t);
    to_queued(r, b, 0, t + 1);
    to_queued(r, c, 0, t + 2);
    assert_int_equal(next_id(r, t + 10), a);
    assert_int_equal(reg_mark_retry(r, a, t + 20, "HTTP 500", t + 10, &err), 0);
    assert_int_equal(reg_mark_rejected(r, a, "sai mã định danh", t + 30, &err), 0);
    reg_doc d;
    assert_int_equal(reg_get(r, a, &d, &err), 0);
    assert_int_equal(d.state, DOC_HELD);
    assert_int_equal(d.hold, HOLD_REJECTED);
    assert_string_equal(d.note, "sai mã định danh");
    assert_int_equal(d.attempts, 2);
    reg_doc_free(&d);
    assert_int_equal(next_id(r, t + 40), b);

    assert_int_equal(reg_release(r, a, "đã sửa cấu hình", "Minh", t + 50, &err), 0);
    assert_int_equal(reg_get(r, a, &d, &err), 0);
    assert_int_equal(d.state, DOC_QUEUED);
    assert_int_equal(d.hold, 0);
    assert_int_equal(d.released, HOLD_REJECTED);
    assert_int_equal(d.attempts, 0);
    assert_int_equal(d.next_attempt, t + 50);
    assert_int_equal(d.so_den, 1);
    reg_doc_free(&d);
    /* Back at its original place, ahead of b and c. */
    assert_int_equal(next_id(r, t + 50), a);
    assert_int_equal(next_id(r, t + 49), b); /* but only once due */
    hist h;
    history(r, a, &h);
    assert_non_null(strstr(h.text, "|rejected[sai mã định danh]"
                                   "|released[rejected: đã sửa cấu hình (Minh)]"));
    reg_close(r);
}

/* ---- duplicates -------------------------------------------------------- */

static int64_t dup_of(reg *r, const char *issuer, const char *nn, const char *date, int64_t self)
{
    sohoa_err err = {0};
    doc_metadata m;
    meta_fill(&m, issuer, nn, date);
    int64_t dup = -1;
    assert_int_equal(reg_find_duplicate(r, &m, self, &dup, &err), 0);
    meta_free(&m);
    return dup;
}

#define SON_LA "ỦY BAN NHÂN DÂN TỈNH SƠN LA"

static void duplicates(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    int64_t n;
    int64_t a = new_processed(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", t);
    /* Not registered yet: nothing matches it. */
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", 0), 0);
    assert_int_equal(reg_register(r, a, t, &n, &err), 0);

    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", 0), a);
    /* Case, spacing (tabs, runs, ends). */
    assert_int_equal(
        dup_of(r, "  ủy ban\tnhân   dân tỉnh sơn la ", "2588/qđ-ubnd", "2018-10-22", 0), a);
    /* NFD: letters and combining marks as separate code points. */
    assert_int_equal(dup_of(r,
                            "U\xcc\x89Y BAN NHA\xcc\x82N DA\xcc\x82N "
                            "TI\xcc\x89NH SO\xcc\x9bN LA",
                            "2588/Q\xc4\x90-UBND", "2018-10-22", 0),
                     a);
    /* Old tone placement "UỶ" for "ỦY". */
    assert_int_equal(dup_of(r, "UỶ BAN NHÂN DÂN TỈNH SƠN LA", "2588/QĐ-UBND", "2018-10-22", 0), a);
    /* A space OCR put in the number. */
    assert_int_equal(dup_of(r, SON_LA, "2588 /QĐ-UBND", "2018-10-22", 0), a);
    /* Same number, other date; other number; other issuer; missing field. */
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-23", 0), 0);
    assert_int_equal(dup_of(r, SON_LA, "2589/QĐ-UBND", "2018-10-22", 0), 0);
    assert_int_equal(dup_of(r, "ỦY BAN NHÂN DÂN TỈNH ĐIỆN BIÊN", "2588/QĐ-UBND", "2018-10-22", 0),
                     0);
    assert_int_equal(dup_of(r, NULL, "2588/QĐ-UBND", "2018-10-22", 0), 0);
    assert_int_equal(dup_of(r, SON_LA, "  ", "2018-10-22", 0), 0);
    /* Itself is no duplicate. */
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", a), 0);

    /* A second copy (held, not registered) is found to duplicate a, and
     * does not itself match. */
    int64_t b = new_processed(r, "Ủy ban nhân dân tỉnh Sơn La", "2588/QĐ-UBND", "2018-10-22", t);
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", b), a);
    assert_int_equal(reg_hold(r, b, HOLD_DUPLICATE, "trùng", a, t, &err), 0);
    reg_doc d;
    assert_int_equal(reg_get(r, b, &d, &err), 0);
    assert_int_equal(d.duplicate_of, a);
    reg_doc_free(&d);
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", a), 0);

    /* A correction moves the key. */
    assert_int_equal(reg_correct(r, a, META_DATE, "2018-10-25", "Lan", t, &err), 0);
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-22", 0), 0);
    assert_int_equal(dup_of(r, SON_LA, "2588/QĐ-UBND", "2018-10-25", 0), a);
    reg_close(r);
}

static void correction_keeps_value_as_read(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    int64_t id = new_processed(r, "UBND TỈNH SƠN LA", "2588/QĐ-UBND", "2018-10-22", t);
    assert_int_equal(reg_correct(r, id, META_NUMBER, "2589", "Lan", t + 1, &err), 0);
    /* NFD input is stored NFC. */
    assert_int_equal(reg_correct(r, id, META_SIGNER,
                                 "Ca\xcc\x82\xcc\x80m Ngo\xcc\xa3"
                                 "c Minh",
                                 "Lan", t + 2, &err),
                     0);
    assert_int_equal(reg_correct(r, id, META_ISSUER_SUPERIOR, NULL, "Lan", t + 3, &err), 0);
    reg_doc d;
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_true(d.meta.has_number);
    assert_int_equal(d.meta.number, 2589);
    assert_false(d.meta.review[META_NUMBER]);
    assert_true(d.meta.confidence[META_NUMBER] > 0.99f);
    assert_string_equal(d.meta.str[META_SIGNER], "Cầm Ngọc Minh");
    assert_true(d.meta.confidence[META_SIGNER] > 0.99f);
    assert_null(d.meta.str[META_ISSUER_SUPERIOR]);
    assert_string_equal(d.meta.str[META_ISSUER], "UBND TỈNH SƠN LA");
    reg_doc_free(&d);
    hist h;
    history(r, id, &h);
    assert_non_null(strstr(h.text, "|corrected[number: 2588 → 2589 (Lan)]"
                                   "|corrected[signer: null → Cầm Ngọc Minh (Lan)]"
                                   "|corrected[issuer_superior: null → null (Lan)]"));

    /* The metadata as read is kept apart, unchanged. */
    char *json = sql_text("SELECT meta_read FROM documents WHERE id = 1");
    assert_non_null(json);
    doc_metadata read;
    assert_int_equal(meta_from_json(json, &read, &err), 0);
    assert_int_equal(read.number, 2588);
    assert_true(read.review[META_NUMBER]);
    assert_null(read.str[META_SIGNER]);
    meta_free(&read);
    free(json);

    /* Bad values are refused and change nothing. */
    assert_int_equal(reg_correct(r, id, META_NUMBER, "25a", "Lan", t, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(reg_correct(r, id, META_DATE, "22/10/2018", "Lan", t, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(reg_correct(r, id, META_SUBJECT, "\xff\xfe", "Lan", t, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(reg_correct(r, id, META_NUMBER, NULL, "Lan", t, &err), 0);
    assert_int_equal(reg_get(r, id, &d, &err), 0);
    assert_false(d.meta.has_number);
    reg_doc_free(&d);
    history(r, id, &h);
    assert_int_equal(h.n, 6);
    reg_close(r);
}

/* ---- listing and statistics -------------------------------------------- */

typedef struct collected {
    int64_t ids[16];
    int n;
    int stop_after;
} collected;

static int collect(void *ctx, const reg_doc *d)
{
    collected *c = ctx;
    c->ids[c->n++] = d->id;
    return c->n == c->stop_after ? 42 : 0;
}

static void listings(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    int64_t n;
    /* Effective days 1, 2 (two docs) and 3 March, Vietnam time; the first
     * of 2 March is 00:10 +07, still 1 March in UTC. */
    int64_t a = new_processed(r, "A", "1/A", "2026-03-01", vn(2026, 3, 2, 0, 10));
    int64_t b = new_processed(r, "B", "1/B", "2026-03-01", vn(2026, 3, 1, 23, 50));
    int64_t c = new_processed(r, "C", "1/C", "2026-03-01", vn(2026, 3, 3, 9, 0));
    int64_t d = new_processed(r, "D", "1/D", "2026-03-01", vn(2026, 3, 2, 16, 59));
    int64_t e = new_processed(r, "E", "1/E", "2026-03-01", vn(2026, 3, 2, 10, 0));
    time_t now = vn(2026, 3, 4, 8, 0);
    /* Registered out of id order: the listing follows số đến. */
    assert_int_equal(reg_register(r, d, now, &n, &err), 0);
    assert_int_equal(reg_register(r, a, now, &n, &err), 0);
    assert_int_equal(reg_register(r, c, now, &n, &err), 0);
    assert_int_equal(reg_register(r, b, now, &n, &err), 0);
    /* e stays processed: not in the register. */

    collected got = {0};
    assert_int_equal(reg_each_registered(r, "2026-03-02", "2026-03-02", collect, &got, &err), 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.ids[0], d);
    assert_int_equal(got.ids[1], a);
    memset(&got, 0, sizeof got);
    assert_int_equal(reg_each_registered(r, "2026-03-01", "2026-03-31", collect, &got, &err), 0);
    assert_int_equal(got.n, 4);
    assert_int_equal(got.ids[0], d);
    assert_int_equal(got.ids[1], a);
    assert_int_equal(got.ids[2], c);
    assert_int_equal(got.ids[3], b);
    memset(&got, 0, sizeof got);
    got.stop_after = 2;
    assert_int_equal(reg_each_registered(r, "2026-03-01", "2026-03-31", collect, &got, &err), 42);
    assert_int_equal(got.n, 2);
    assert_int_equal(reg_each_registered(r, "2026-3-1", "2026-03-31", collect, &got, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);

    memset(&got, 0, sizeof got);
    assert_int_equal(reg_each_in_state(r, DOC_REGISTERED, collect, &got, &err), 0);
    assert_int_equal(got.n, 4);
    assert_int_equal(got.ids[0], a); /* ascending id */
    assert_int_equal(got.ids[3], d);
    memset(&got, 0, sizeof got);
    assert_int_equal(reg_each_in_state(r, DOC_PROCESSED, collect, &got, &err), 0);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.ids[0], e);
    reg_close(r);
}

/* A callback that moves each document on while the listing runs. */
static int sign_each(void *ctx, const reg_doc *d)
{
    reg *r = ctx;
    sohoa_err err = {0};
    return reg_set_signed(r, d->id, sha, 0, &err) == 0 ? 0 : 7;
}

static void callback_may_change_register(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    int64_t n;
    time_t t = vn(2026, 3, 2, 9, 0);
    for (int i = 0; i < 5; i++) {
        char nn[16];
        snprintf(nn, sizeof nn, "%d/A", i);
        int64_t id = new_processed(r, "A", nn, "2026-03-01", t);
        assert_int_equal(reg_register(r, id, t, &n, &err), 0);
    }
    assert_int_equal(reg_each_in_state(r, DOC_REGISTERED, sign_each, r, &err), 0);
    reg_stats st;
    assert_int_equal(reg_get_stats(r, &st, &err), 0);
    assert_int_equal(st.in_state[DOC_SIGNED], 5);
    assert_int_equal(st.in_state[DOC_REGISTERED], 0);
    reg_stats_free(&st);
    reg_close(r);
}

static void stats(void **state)
{
    reg *r = open_ok();
    sohoa_err err = {0};
    time_t t = vn(2026, 5, 4, 9, 0);
    reg_stats st;
    assert_int_equal(reg_get_stats(r, &st, &err), 0);
    for (int s = 0; s <= DOC_FAILED; s++)
        assert_int_equal(st.in_state[s], 0);
    assert_int_equal(st.oldest_queued, 0);
    assert_null(st.last_error);
    reg_stats_free(&st);

    int64_t id[7];
    for (int i = 0; i < 7; i++) {
        char nn[16];
        snprintf(nn, sizeof nn, "%d/A", i);
        id[i] = new_processed(r, "A", nn, "2026-05-01", t);
    }
    int64_t scanned;
    assert_int_equal(reg_create(r, "/d", t, t, &scanned, &err), 0);
    to_queued(r, id[0], 3, t + 10);
    to_queued(r, id[1], 0, t + 20);
    to_queued(r, id[2], 0, t + 30);
    to_queued(r, id[3], 1, t + 40);
    assert_int_equal(reg_mark_retry(r, id[1], t + 100, "older error", t + 50, &err), 0);
    assert_int_equal(reg_mark_retry(r, id[2], t + 100, "newest error", t + 60, &err), 0);
    assert_int_equal(reg_mark_sent(r, id[0], NULL, NULL, t + 70, &err), 0);
    assert_int_equal(reg_hold(r, id[4], HOLD_CLASSIFIED, "Mật", 0, t, &err), 0);
    assert_int_equal(reg_fail(r, id[5], "unreadable", t, &err), 0);

    assert_int_equal(reg_get_stats(r, &st, &err), 0);
    assert_int_equal(st.in_state[DOC_SCANNED], 1);
    assert_int_equal(st.in_state[DOC_PROCESSED], 1);
    assert_int_equal(st.in_state[DOC_HELD], 1);
    assert_int_equal(st.in_state[DOC_QUEUED], 3);
    assert_int_equal(st.in_state[DOC_SENT], 1);
    assert_int_equal(st.in_state[DOC_FAILED], 1);
    assert_int_equal(st.in_state[DOC_REGISTERED], 0);
    assert_int_equal(st.queued_by_priority[0], 2);
    assert_int_equal(st.queued_by_priority[1], 1);
    assert_int_equal(st.queued_by_priority[2], 0);
    assert_int_equal(st.queued_by_priority[3], 0); /* sent */
    assert_int_equal(st.oldest_queued, t + 20);
    assert_non_null(st.last_error);
    assert_string_equal(st.last_error, "newest error");
    reg_stats_free(&st);
    assert_null(st.last_error);
    reg_close(r);
}

/* ---- crash safety ------------------------------------------------------ */

/* The child: create + set metadata + register, 200 times, until killed;
 * one byte to `fd` after each cycle tells the parent how far it got. */
static void crash_child(int fd)
{
    sohoa_err err = {0};
    reg *r = reg_open(db_path, &err);
    if (!r)
        _exit(2);
    time_t t = vn(2026, 6, 1, 9, 0);
    for (int i = 0; i < 200; i++) {
        int64_t id, n;
        doc_metadata m;
        meta_fill(&m, "A", "1/A", "2026-05-01");
        if (reg_create(r, "/d", t, t, &id, &err) != 0 ||
            reg_set_metadata(r, id, &m, t, &err) != 0 || reg_register(r, id, t, &n, &err) != 0)
            _exit(3);
        meta_free(&m);
        if (write(fd, "", 1) != 1)
            _exit(4);
    }
    reg_close(r);
    _exit(0);
}

static void crash_leaves_gapless_numbers(void **state)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int killed = 0;
    for (int round = 0; round < 4; round++) {
        int from_child;
        pid_t pid = fork_with_pipe(crash_child, &from_child);
        /* Kill after a random number of cycles, a random moment into the
         * next one (a cycle takes a few milliseconds: three fsync'ed
         * commits). */
        int cycles = 1 + rand() % 199;
        char c;
        for (int i = 0; i < cycles && read(from_child, &c, 1) == 1; i++)
            ;
        usleep((useconds_t)(rand() % 4000));
        kill(pid, SIGKILL);
        close(from_child);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
            killed++;
        else
            assert_int_equal(WEXITSTATUS(status), 0); /* finished before the kill */

        /* Reopen: every registered row has a number, 1..N without gap or
         * repeat, and the counter stands at N. */
        reg *r = open_ok();
        sqlite3 *db;
        assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT COUNT(*), COALESCE(MAX(so_den), 0),"
                                            " COUNT(DISTINCT so_den), SUM(state = 3),"
                                            " SUM(so_den > 0), (SELECT last FROM counters)"
                                            " FROM documents WHERE so_den > 0 OR state = 3",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int64_t count = sqlite3_column_int64(st, 0), max = sqlite3_column_int64(st, 1);
        int64_t distinct = sqlite3_column_int64(st, 2), registered = sqlite3_column_int64(st, 3);
        int64_t numbered = sqlite3_column_int64(st, 4), counter = sqlite3_column_int64(st, 5);
        sqlite3_finalize(st);
        /* Each registered event belongs to a numbered row. */
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT COUNT(*) FROM events WHERE event = "
                                            "'registered'",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int64_t reg_events = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        print_message("round %d: %s, %lld documents registered\n", round,
                      WIFSIGNALED(status) ? "killed" : "finished", (long long)registered);
        assert_int_equal(count, registered);
        assert_int_equal(numbered, registered);
        assert_int_equal(distinct, registered);
        assert_int_equal(max, registered);
        assert_int_equal(counter, registered);
        assert_int_equal(reg_events, registered);

        /* The register goes on from N + 1. */
        int64_t id, n;
        sohoa_err err = {0};
        doc_metadata m;
        meta_fill(&m, "A", "1/A", "2026-05-01");
        time_t t = vn(2026, 6, 1, 9, 0);
        assert_int_equal(reg_create(r, "/d", t, t, &id, &err), 0);
        assert_int_equal(reg_set_metadata(r, id, &m, t, &err), 0);
        assert_int_equal(reg_register(r, id, t, &n, &err), 0);
        assert_int_equal(n, registered + 1);
        meta_free(&m);
        reg_close(r);
    }
    /* At least one round must really have been cut short. */
    assert_true(killed > 0);
}

int main(void)
{
/* Every test gets a fresh temporary directory (setup/teardown). */
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(open_creates_0600_wal),
        TEST(reopen_keeps_data),
        TEST(not_a_database_is_named),
        TEST(unwritable_directory_is_named),
        TEST(full_disk_is_named),
        TEST(newer_schema_refused),
        TEST(full_lifecycle_with_events),
        TEST(numbering_per_vietnam_year),
        TEST(register_is_idempotent_and_never_reuses),
        TEST(wrong_transitions_refused),
        TEST(queue_order_priority_fifo_due),
        TEST(rejected_held_released_keeps_place),
        TEST(duplicates),
        TEST(correction_keeps_value_as_read),
        TEST(listings),
        TEST(callback_may_change_register),
        TEST(stats),
        TEST(crash_leaves_gapless_numbers),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
