/* register.c — the incoming register and the upload queue in SQLite (see
 * register.h).
 *
 * Tables (schema version REG_SCHEMA_VERSION, kept in PRAGMA user_version):
 *   documents  one row per document: state, số đến, hold, queue fields, the
 *              metadata as read (meta_read) and as corrected (meta), both as
 *              the JSON of meta_to_json(), and the normalised duplicate key
 *              (dup_issuer, dup_number_notation, dup_date)
 *   events     the status history, appended in the same transaction as
 *              every change
 *   counters   year → last số đến given; only ever grows
 *   sequences  name → last value; "queue" orders the queue FIFO
 *   audit      the console's changes (who, when, what, old → new); rows are
 *              only ever added (version 2; a version-1 register gains it)
 *
 * Every change runs as BEGIN IMMEDIATE … COMMIT: the write lock is taken
 * before the current state is read, so the check and the change cannot be
 * separated by another connection's write, and a power cut leaves either
 * the old row and history or the new ones. Triggers refuse what must never
 * happen whatever the code above does: a counter going back, a document's
 * số đến changing once given.
 */
#include "register.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistd.h>
#include <unistr.h>

#include "../ocr/vntext.h"
#include "vntime.h"

#define REG_SCHEMA_VERSION 2
#define REG_BUSY_TIMEOUT_MS 10000

#define BIT(s) (1u << (s))
#define ALL_STATES (BIT(DOC_FAILED + 1) - 1)

struct reg {
    sqlite3 *db;
    char *path;
};

static const char *const state_names[] = {
    [DOC_SCANNED] = "scanned", [DOC_PROCESSED] = "processed",
    [DOC_HELD] = "held",       [DOC_REGISTERED] = "registered",
    [DOC_SIGNED] = "signed",   [DOC_QUEUED] = "queued",
    [DOC_SENT] = "sent",       [DOC_DISCARDED] = "discarded",
    [DOC_FAILED] = "failed",
};

const char *doc_state_name(doc_state s)
{
    return ((int)s >= 0 && s <= DOC_FAILED) ? state_names[s] : "unknown";
}

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS documents ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* AUTOINCREMENT: ids are never reused */
    " state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 8),"
    " dir TEXT NOT NULL,"
    " received INTEGER NOT NULL,"
    " effective INTEGER NOT NULL,"
    " year INTEGER NOT NULL DEFAULT 0,"
    " so_den INTEGER NOT NULL DEFAULT 0,"
    " hold INTEGER NOT NULL DEFAULT 0,"
    " released INTEGER NOT NULL DEFAULT 0,"
    " held_from INTEGER,"
    " duplicate_of INTEGER REFERENCES documents (id),"
    " note TEXT,"
    " pdf_sha256 TEXT,"
    " document_id TEXT,"
    " priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3),"
    " queued_seq INTEGER,"
    " queued_at INTEGER,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " last_error_at INTEGER,"
    " server_status TEXT,"
    " meta_read TEXT,"
    " meta TEXT,"
    " dup_issuer TEXT,"
    " dup_number_notation TEXT,"
    " dup_date TEXT);"
    "CREATE UNIQUE INDEX IF NOT EXISTS documents_so_den ON documents (year, so_den)"
    " WHERE so_den > 0;"
    "CREATE INDEX IF NOT EXISTS documents_queue ON documents (state, priority DESC, queued_seq);"
    "CREATE INDEX IF NOT EXISTS documents_duplicate"
    " ON documents (dup_issuer, dup_number_notation, dup_date) WHERE so_den > 0;"
    "CREATE INDEX IF NOT EXISTS documents_dir ON documents (dir);"
    "CREATE INDEX IF NOT EXISTS documents_document_id ON documents (document_id)"
    " WHERE document_id IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " doc INTEGER NOT NULL REFERENCES documents (id),"
    " at INTEGER NOT NULL,"
    " event TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX IF NOT EXISTS events_doc ON events (doc, seq);"
    "CREATE TABLE IF NOT EXISTS counters ("
    " year INTEGER PRIMARY KEY,"
    " last INTEGER NOT NULL CHECK (last >= 0));"
    "CREATE TABLE IF NOT EXISTS sequences ("
    " name TEXT PRIMARY KEY,"
    " last INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS counters_only_grow BEFORE UPDATE ON counters"
    " WHEN NEW.last < OLD.last OR NEW.year IS NOT OLD.year"
    " BEGIN SELECT RAISE(ABORT, 'a so den counter never goes back'); END;"
    "CREATE TRIGGER IF NOT EXISTS counters_kept BEFORE DELETE ON counters"
    " BEGIN SELECT RAISE(ABORT, 'a so den counter is never deleted'); END;"
    "CREATE TABLE IF NOT EXISTS audit ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " who TEXT NOT NULL,"
    " what TEXT NOT NULL,"
    " old TEXT,"
    " new TEXT);"
    "CREATE TRIGGER IF NOT EXISTS audit_kept BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is never rewritten'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_not_deleted BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is never rewritten'); END;"
    "CREATE TRIGGER IF NOT EXISTS so_den_kept BEFORE UPDATE OF year, so_den ON documents"
    " WHEN OLD.so_den > 0 AND (NEW.so_den IS NOT OLD.so_den OR NEW.year IS NOT OLD.year)"
    " BEGIN SELECT RAISE(ABORT, 'a document keeps its so den'); END;";

/* ---- errors ------------------------------------------------------------ */

/* What the user can do about an SQLite failure (NULL: nothing to add). */
static const char *db_hint(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return "free space in the data directory";
    case SQLITE_NOTADB:
        return "move the file away or restore it from a backup";
    case SQLITE_CORRUPT:
        return "restore the register from a backup";
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return "check that the file and its directory are writable";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "another process holds the register";
    case SQLITE_IOERR:
        return "check the disk";
    default:
        return NULL;
    }
}

/* Records an SQLite failure: "<path>: <what>: <SQLite's message> (<hint>)".
 * Call it before finalizing the statement, while the message is current. */
static int db_fail(const char *path, sqlite3 *db, int rc, const char *what, sohoa_err *err)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const char *hint = db_hint(rc);
    if (hint)
        return err_set(err, SOHOA_EWORK, "%s: %s: %s (%s)", path, what, msg, hint);
    return err_set(err, SOHOA_EWORK, "%s: %s: %s", path, what, msg);
}

static int oom(const reg *r, const char *what, sohoa_err *err)
{
    return err_set(err, SOHOA_EWORK, "%s: %s: out of memory", r->path, what);
}

/* malloc'd printf, NULL on ENOMEM. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* ---- statements -------------------------------------------------------- */

/* Prepares `sql` and binds the arguments described by `types`, one letter
 * each: 'i' int, 'l' int64_t, 't' const char * (NULL binds NULL). */
static sqlite3_stmt *prepv(reg *r, const char *what, sohoa_err *err, const char *sql,
                           const char *types, va_list ap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        db_fail(r->path, r->db, rc, what, err);
        sqlite3_finalize(st);
        return NULL;
    }
    for (int i = 0; types[i]; i++) {
        switch (types[i]) {
        case 'i':
            rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int));
            break;
        case 'l':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
            break;
        default: {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, i + 1);
        }
        }
        if (rc != SQLITE_OK) {
            db_fail(r->path, r->db, rc, what, err);
            sqlite3_finalize(st);
            return NULL;
        }
    }
    return st;
}

static sqlite3_stmt *prep(reg *r, const char *what, sohoa_err *err, const char *sql,
                          const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepv(r, what, err, sql, types, ap);
    va_end(ap);
    return st;
}

/* Ends a statement whose last step returned `rc`: steps on past any
 * remaining rows (an UPSERT … RETURNING writes as it steps), records a
 * failure and finalizes it. */
static int step_to_end(reg *r, sqlite3_stmt *st, int rc, const char *what, sohoa_err *err)
{
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        db_fail(r->path, r->db, rc, what, err);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs a statement to completion, ignoring any rows. */
static int runv(reg *r, const char *what, sohoa_err *err, const char *sql, const char *types,
                va_list ap)
{
    sqlite3_stmt *st = prepv(r, what, err, sql, types, ap);
    return st ? step_to_end(r, st, sqlite3_step(st), what, err) : -1;
}

static int run(reg *r, const char *what, sohoa_err *err, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = runv(r, what, err, sql, types, ap);
    va_end(ap);
    return rc;
}

/* The first column of the first row as an integer; *found = 0 (and *out
 * untouched) when there is no row or the value is NULL. */
static int run_int(reg *r, const char *what, sohoa_err *err, int64_t *out, int *found,
                   const char *sql, const char *types, ...)
{
    *found = 0;
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepv(r, what, err, sql, types, ap);
    va_end(ap);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = sqlite3_column_int64(st, 0);
        *found = 1;
    }
    return step_to_end(r, st, rc, what, err);
}

static void tx_rollback(reg *r)
{
    if (!sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

static int tx_begin(reg *r, const char *what, sohoa_err *err)
{
    return run(r, what, err, "BEGIN IMMEDIATE", "");
}

static int tx_commit(reg *r, const char *what, sohoa_err *err)
{
    if (run(r, what, err, "COMMIT", "") != 0) {
        tx_rollback(r);
        return -1;
    }
    return 0;
}

static int add_event(reg *r, int64_t id, time_t at, const char *event, const char *detail,
                     const char *what, sohoa_err *err)
{
    return run(r, what, err, "INSERT INTO events (doc, at, event, detail) VALUES (?, ?, ?, ?)",
               "lltt", id, (int64_t)at, event, detail);
}

/* ---- opening ----------------------------------------------------------- */

static int pragma_text(reg *r, const char *sql, char *out, size_t size, const char *what,
                       sohoa_err *err)
{
    sqlite3_stmt *st = prep(r, what, err, sql, "");
    if (!st)
        return -1;
    out[0] = '\0';
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(out, size, "%s", v ? (const char *)v : "");
    }
    return step_to_end(r, st, rc, what, err);
}

/* Creates the tables of a new database, or checks the version of an
 * existing one (an upgrade from an older schema would go here). */
static int ensure_schema(reg *r, sohoa_err *err)
{
    const char *what = "cannot set up the register";
    if (tx_begin(r, what, err) != 0)
        return -1;
    int64_t version = 0;
    int found = 0;
    if (run_int(r, what, err, &version, &found, "PRAGMA user_version", "") != 0)
        goto fail;
    if (version > REG_SCHEMA_VERSION) {
        err_set(err, SOHOA_EWORK,
                "%s: the register has schema version %" PRId64
                ", newer than this sohoa knows (%d): update sohoa",
                r->path, version, REG_SCHEMA_VERSION);
        goto fail;
    }
    if (version < REG_SCHEMA_VERSION) {
        char *msg = NULL;
        int rc = sqlite3_exec(r->db, schema_sql, NULL, NULL, &msg);
        sqlite3_free(msg);
        if (rc != SQLITE_OK) {
            db_fail(r->path, r->db, rc, what, err);
            goto fail;
        }
        /* PRAGMA takes no bound parameter; the value is our constant. */
#define STR_(x) #x
#define STR(x) STR_(x)
        if (run(r, what, err, "PRAGMA user_version = " STR(REG_SCHEMA_VERSION), "") != 0)
            goto fail;
#undef STR
#undef STR_
    }
    return tx_commit(r, what, err);
fail:
    tx_rollback(r);
    return -1;
}

/* Creates the file with mode 0600 before SQLite sees it: SQLite would use
 * 0644 minus the umask, and its -wal and -shm files copy the database's
 * mode, so this also covers them. */
static int create_file(const char *path, sohoa_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_errno(err, SOHOA_EWORK, errno,
                         "%s: cannot open or create the register (check that the directory "
                         "exists and is writable)",
                         path);
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = err_errno(err, SOHOA_EWORK, errno, "%s: cannot read the register's status", path);
    else if (!S_ISREG(st.st_mode))
        rc = err_set(err, SOHOA_EINPUT, "%s: the register is not a regular file", path);
    else if (st.st_size == 0 && fchmod(fd, 0600) != 0)
        /* A new (empty) file: make its mode independent of the umask. An
         * existing register keeps the mode its administrator gave it. */
        rc = err_errno(err, SOHOA_EWORK, errno, "%s: cannot set the register's mode", path);
    /* Closed before SQLite opens it: closing a descriptor would drop the
     * POSIX locks SQLite takes on the same file. */
    close(fd);
    return rc;
}

reg *reg_open(const char *path, sohoa_err *err)
{
    if (!path || !*path) {
        err_set(err, SOHOA_EINPUT, "register: no database path given");
        return NULL;
    }
    if (create_file(path, err) != 0)
        return NULL;
    reg *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        err_set(err, SOHOA_EWORK, "%s: out of memory", path);
        return NULL;
    }
    const char *what = "cannot open the register";
    int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        db_fail(path, r->db, rc, what, err);
        reg_close(r);
        return NULL;
    }
    sqlite3_busy_timeout(r->db, REG_BUSY_TIMEOUT_MS);
    /* No schema changes through PRAGMA writable_schema and the like. */
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(r->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

    /* The first statement reads the file: a non-database fails here. */
    char mode[16];
    if (pragma_text(r, "PRAGMA journal_mode = WAL", mode, sizeof mode, what, err) != 0)
        goto fail;
    if (strcmp(mode, "wal") != 0) {
        err_set(err, SOHOA_EWORK,
                "%s: cannot use write-ahead logging (journal mode is \"%s\"); keep the "
                "register on a local file system",
                path, mode);
        goto fail;
    }
    if (run(r, what, err, "PRAGMA synchronous = FULL", "") != 0 ||
        run(r, what, err, "PRAGMA foreign_keys = ON", "") != 0 || ensure_schema(r, err) != 0)
        goto fail;
    return r;
fail:
    reg_close(r);
    return NULL;
}

void reg_close(reg *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}

/* ---- duplicate keys ---------------------------------------------------- */

/* The comparison key of a field for duplicate lookup: NFC with the modern
 * tone placement (OCR and clerks write both "UỶ" and "ỦY"), case folded,
 * white space runs made one space and trimmed; with `squeeze`, white space
 * is dropped altogether (a số ký hiệu has none, but OCR reads "24 /TTr").
 * *out = NULL when `s` is NULL or blank. Returns -1 on ENOMEM. */
static int dup_key(const char *s, bool squeeze, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    char *n = vn_normalize(s);
    if (!n)
        return -1;
    size_t nlen = strlen(n);
    if (nlen == 0) {
        free(n);
        return 0;
    }
    size_t flen = 0;
    uint8_t *f = u8_casefold((const uint8_t *)n, nlen, NULL, UNINORM_NFC, NULL, &flen);
    free(n);
    if (!f)
        return -1;
    char *k = malloc(flen + 1);
    if (!k) {
        free(f);
        return -1;
    }
    size_t klen = 0;
    bool space = false;
    for (size_t i = 0; i < flen;) {
        ucs4_t uc;
        int len = u8_mbtouc(&uc, f + i, flen - i);
        if (uc_is_property_white_space(uc)) {
            space = true;
        } else {
            if (space && klen > 0 && !squeeze)
                k[klen++] = ' ';
            space = false;
            memcpy(k + klen, f + i, (size_t)len);
            klen += (size_t)len;
        }
        i += (size_t)len;
    }
    free(f);
    k[klen] = '\0';
    if (klen == 0) {
        free(k);
        return 0;
    }
    *out = k;
    return 0;
}

typedef struct dup_keys {
    char *issuer, *number_notation, *date;
} dup_keys;

static void dup_keys_free(dup_keys *k)
{
    free(k->issuer);
    free(k->number_notation);
    free(k->date);
    memset(k, 0, sizeof *k);
}

static int dup_keys_of(const doc_metadata *m, dup_keys *k)
{
    memset(k, 0, sizeof *k);
    if (dup_key(m->str[META_ISSUER], false, &k->issuer) != 0 ||
        dup_key(m->str[META_NUMBER_NOTATION], true, &k->number_notation) != 0 ||
        dup_key(m->str[META_DATE], true, &k->date) != 0) {
        dup_keys_free(k);
        return -1;
    }
    return 0;
}

/* ---- state changes ----------------------------------------------------- */

/* What a state change needs to know of the row it changes. */
typedef struct cur_row {
    doc_state state;
    doc_state held_from;
    unsigned hold;
    int64_t so_den;
    time_t effective;
    int has_queued_seq;
} cur_row;

/* One change of one document as its public function describes it: the
 * entry it appends to the history and the prefix of its error messages.
 * Every change goes change_begin() → (checks, reads) → change_commit(), or
 * change_apply() when it needs nothing of the row but its state. */
typedef struct change {
    int64_t id;
    const char *verb;   /* "hold": "document 7 is sent, cannot hold" */
    const char *event;  /* the history entry: "held" */
    const char *detail; /* the entry's detail or NULL; may be set once the row is read */
    time_t now;         /* when: the entry's time */
    char what[128];     /* "document 7: cannot hold" */
} change;

static change change_of(int64_t id, const char *verb, const char *event, time_t now)
{
    change c = {.id = id, .verb = verb, .event = event, .now = now};
    snprintf(c.what, sizeof c.what, "document %" PRId64 ": cannot %s", id, verb);
    return c;
}

/* Starts change `c`: takes the write lock, reads the row and checks that
 * its state is one of `allowed` (BIT(state) mask), else SOHOA_EINPUT
 * "document N is <state>, cannot <verb>". On failure nothing is left open;
 * on success the caller ends with change_commit() or tx_rollback(). */
static int change_begin(reg *r, const change *c, unsigned allowed, cur_row *cur, sohoa_err *err)
{
    if (tx_begin(r, c->what, err) != 0)
        return -1;
    sqlite3_stmt *st = prep(r, c->what, err,
                            "SELECT state, held_from, hold, so_den, effective, queued_seq"
                            " FROM documents WHERE id = ?",
                            "l", c->id);
    if (!st)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cur->state = (doc_state)sqlite3_column_int(st, 0);
        cur->held_from = sqlite3_column_type(st, 1) == SQLITE_NULL
                             ? DOC_PROCESSED
                             : (doc_state)sqlite3_column_int(st, 1);
        cur->hold = (unsigned)sqlite3_column_int(st, 2);
        cur->so_den = sqlite3_column_int64(st, 3);
        cur->effective = (time_t)sqlite3_column_int64(st, 4);
        cur->has_queued_seq = sqlite3_column_type(st, 5) != SQLITE_NULL;
    } else if (rc == SQLITE_DONE) {
        err_set(err, SOHOA_EINPUT, "document %" PRId64 " does not exist", c->id);
    } else {
        db_fail(r->path, r->db, rc, c->what, err);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        goto fail;
    if (!(allowed & BIT(cur->state))) {
        err_set(err, SOHOA_EINPUT, "document %" PRId64 " is %s, cannot %s", c->id,
                doc_state_name(cur->state), c->verb);
        goto fail;
    }
    return 0;
fail:
    tx_rollback(r);
    return -1;
}

/* Ends change `c` opened by change_begin(): runs `sql` (the row's update),
 * appends the event and commits. On failure all of it is rolled back, so
 * that a row never disagrees with its history. */
static int change_commitv(reg *r, const change *c, sohoa_err *err, const char *sql,
                          const char *types, va_list ap)
{
    if (runv(r, c->what, err, sql, types, ap) != 0 ||
        add_event(r, c->id, c->now, c->event, c->detail, c->what, err) != 0) {
        tx_rollback(r);
        return -1;
    }
    return tx_commit(r, c->what, err);
}

static int change_commit(reg *r, const change *c, sohoa_err *err, const char *sql,
                         const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = change_commitv(r, c, err, sql, types, ap);
    va_end(ap);
    return rc;
}

/* The whole of a change that needs nothing of the row but its state:
 * change_begin() with `allowed`, then change_commit() with `sql`. */
static int change_apply(reg *r, const change *c, unsigned allowed, sohoa_err *err, const char *sql,
                        const char *types, ...)
{
    cur_row cur;
    if (change_begin(r, c, allowed, &cur, err) != 0)
        return -1;
    va_list ap;
    va_start(ap, types);
    int rc = change_commitv(r, c, err, sql, types, ap);
    va_end(ap);
    return rc;
}

/* "classified, duplicate" for a HOLD_* mask (static strings, no allocation). */
static void hold_names(unsigned h, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HOLD_CLASSIFIED, "classified"},
                 {HOLD_DUPLICATE, "duplicate"},
                 {HOLD_REVIEW, "review"},
                 {HOLD_REJECTED, "rejected"},
                 {HOLD_MANUAL, "held from the queue"}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((h & names[i].bit) && len < size)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", names[i].name);
}

int reg_create(reg *r, const char *dir, time_t received, time_t effective, int64_t *id,
               sohoa_err *err)
{
    if (!dir || !*dir)
        return err_set(err, SOHOA_EINPUT, "%s: a new document needs its directory", r->path);
    const char *what = "cannot record a new document";
    if (tx_begin(r, what, err) != 0)
        return -1;
    int64_t new_id = 0;
    int found = 0;
    if (run_int(r, what, err, &new_id, &found,
                "INSERT INTO documents (state, dir, received, effective) VALUES (?, ?, ?, ?)"
                " RETURNING id",
                "itll", (int)DOC_SCANNED, dir, (int64_t)received, (int64_t)effective) != 0)
        goto fail;
    if (!found) {
        err_set(err, SOHOA_EWORK, "%s: %s: no id returned", r->path, what);
        goto fail;
    }
    if (add_event(r, new_id, received, "scanned", dir, what, err) != 0)
        goto fail;
    if (tx_commit(r, what, err) != 0)
        return -1;
    *id = new_id;
    return 0;
fail:
    tx_rollback(r);
    return -1;
}

int reg_set_metadata(reg *r, int64_t id, const doc_metadata *m, time_t now, sohoa_err *err)
{
    change c = change_of(id, "store metadata", "processed", now);
    if (!m)
        return err_set(err, SOHOA_EINPUT, "%s: no metadata given", c.what);
    char *json = meta_to_json(m);
    dup_keys k;
    if (!json || dup_keys_of(m, &k) != 0) {
        free(json);
        return oom(r, c.what, err);
    }
    int rc = change_apply(r, &c, BIT(DOC_SCANNED), err,
                          "UPDATE documents SET state = ?, meta_read = ?, meta = ?, dup_issuer = ?,"
                          " dup_number_notation = ?, dup_date = ? WHERE id = ?",
                          "itttttl", (int)DOC_PROCESSED, json, json, k.issuer, k.number_notation,
                          k.date, id);
    free(json);
    dup_keys_free(&k);
    return rc;
}

/* Reads the stored (corrected) metadata of `id` inside a transaction. */
static int load_meta(reg *r, int64_t id, doc_metadata *m, const char *what, sohoa_err *err)
{
    memset(m, 0, sizeof *m);
    sqlite3_stmt *st = prep(r, what, err, "SELECT meta FROM documents WHERE id = ?", "l", id);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    int ret = -1;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        sohoa_err perr = {0};
        if (meta_from_json((const char *)sqlite3_column_text(st, 0), m, &perr) == 0)
            ret = 0;
        else
            err_set(err, SOHOA_EWORK, "%s: %s: stored metadata unreadable: %s", r->path, what,
                    perr.msg);
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        err_set(err, SOHOA_EWORK, "%s: %s: no metadata stored", r->path, what);
    } else {
        db_fail(r->path, r->db, rc, what, err);
    }
    sqlite3_finalize(st);
    return ret;
}

/* The clerk's value for field `f` made ready to store: NULL or blank
 * clears; strings must be UTF-8 and are stored NFC; a date must be
 * YYYY-MM-DD; a number is decimal digits. */
static int correction_value(meta_field f, const char *value, char **out, long *number,
                            sohoa_err *err)
{
    *out = NULL;
    if (!value)
        return 0;
    const char *s = value;
    size_t len = strlen(s);
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 0;
    if (u8_check((const uint8_t *)s, len))
        return err_set(err, SOHOA_EINPUT, "%s: the value is not valid UTF-8", meta_field_name(f));
    if (f == META_NUMBER) {
        long n = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || n > (1L << 40))
                return err_set(err, SOHOA_EINPUT, "number: \"%.*s\" is not a decimal number",
                               (int)len, s);
            n = n * 10 + (s[i] - '0');
        }
        *number = n;
    }
    size_t nlen = 0;
    uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, &nlen);
    if (!nfc)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", meta_field_name(f));
    char *v = malloc(nlen + 1);
    if (!v) {
        free(nfc);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", meta_field_name(f));
    }
    memcpy(v, nfc, nlen);
    v[nlen] = '\0';
    free(nfc);
    time_t t;
    if (f == META_DATE && vntime_parse_date(v, &t) != 0) {
        err_set(err, SOHOA_EINPUT, "date: \"%s\" is not a date (YYYY-MM-DD)", v);
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

int reg_correct(reg *r, int64_t id, meta_field f, const char *value, const char *who, time_t now,
                sohoa_err *err)
{
    change c = change_of(id, "correct", "corrected", now);
    if ((int)f < 0 || f >= META_NFIELDS)
        return err_set(err, SOHOA_EINPUT, "%s: unknown field %d", c.what, (int)f);
    char *v = NULL;
    long number = 0;
    if (correction_value(f, value, &v, &number, err) != 0)
        return -1;
    doc_metadata m;
    memset(&m, 0, sizeof m);
    char *old = NULL, *json = NULL, *detail = NULL;
    dup_keys k = {0};
    cur_row cur;
    int rc = -1;
    unsigned allowed = BIT(DOC_PROCESSED) | BIT(DOC_HELD) | BIT(DOC_REGISTERED) | BIT(DOC_SIGNED);
    if (change_begin(r, &c, allowed, &cur, err) != 0)
        goto out;
    if (load_meta(r, id, &m, c.what, err) != 0)
        goto fail;
    if (f == META_NUMBER) {
        old = m.has_number ? fmt("%ld", m.number) : NULL;
        if (m.has_number && !old)
            goto nomem;
        m.has_number = v != NULL;
        m.number = v ? number : 0;
    } else {
        old = m.str[f];
        m.str[f] = v; /* m owns it now */
        v = NULL;
    }
    m.confidence[f] = 1.0f;
    m.review[f] = false;
    char newbuf[32];
    snprintf(newbuf, sizeof newbuf, "%ld", m.number);
    const char *new_text = f == META_NUMBER ? (m.has_number ? newbuf : NULL) : m.str[f];
    json = meta_to_json(&m);
    detail = who ? fmt("%s: %s → %s (%s)", meta_field_name(f), old ? old : "null",
                       new_text ? new_text : "null", who)
                 : fmt("%s: %s → %s", meta_field_name(f), old ? old : "null",
                       new_text ? new_text : "null");
    if (!json || !detail || dup_keys_of(&m, &k) != 0)
        goto nomem;
    c.detail = detail;
    rc = change_commit(r, &c, err,
                       "UPDATE documents SET meta = ?, dup_issuer = ?, dup_number_notation = ?,"
                       " dup_date = ? WHERE id = ?",
                       "ttttl", json, k.issuer, k.number_notation, k.date, id);
    goto out;
nomem:
    oom(r, c.what, err);
fail:
    tx_rollback(r);
out:
    free(v);
    free(old);
    free(json);
    free(detail);
    dup_keys_free(&k);
    meta_free(&m);
    return rc;
}

/* Checks, inside a change, that the document a hold names as the earlier
 * copy exists (SOHOA_EINPUT if not). */
static int duplicate_exists(reg *r, const change *c, int64_t duplicate_of, sohoa_err *err)
{
    int64_t x;
    int found = 0;
    if (run_int(r, c->what, err, &x, &found, "SELECT id FROM documents WHERE id = ?", "l",
                duplicate_of) != 0)
        return -1;
    if (!found)
        return err_set(err, SOHOA_EINPUT, "%s: duplicate document %" PRId64 " does not exist",
                       c->what, duplicate_of);
    return 0;
}

int reg_hold(reg *r, int64_t id, unsigned reasons, const char *note, int64_t duplicate_of,
             time_t now, sohoa_err *err)
{
    change c = change_of(id, "hold", "held", now);
    /* HOLD_REJECTED comes only from the server (reg_mark_rejected): its
     * release sends the document back to the queue. */
    if (reasons == 0 || (reasons & ~(unsigned)(HOLD_CLASSIFIED | HOLD_DUPLICATE | HOLD_REVIEW)))
        return err_set(err, SOHOA_EINPUT, "%s: invalid hold reasons %#x", c.what, reasons);
    if (duplicate_of < 0 || duplicate_of == id)
        return err_set(err, SOHOA_EINPUT, "%s: invalid duplicate %" PRId64, c.what, duplicate_of);
    char names[64];
    hold_names(reasons, names, sizeof names);
    char *detail = note ? fmt("%s: %s", names, note) : strdup(names);
    if (!detail)
        return oom(r, c.what, err);
    c.detail = detail;
    cur_row cur;
    int rc = -1;
    if (change_begin(r, &c, BIT(DOC_PROCESSED), &cur, err) != 0)
        goto out;
    if (duplicate_of && duplicate_exists(r, &c, duplicate_of, err) != 0) {
        tx_rollback(r);
        goto out;
    }
    rc = change_commit(r, &c, err,
                       "UPDATE documents SET state = ?, hold = ?, held_from = ?, note = ?,"
                       " duplicate_of = NULLIF(?, 0) WHERE id = ?",
                       "iiitll", (int)DOC_HELD, (int)reasons, (int)cur.state, note, duplicate_of,
                       id);
out:
    free(detail);
    return rc;
}

/* "reason (who)", "reason", "(who)" or NULL. */
static char *reason_who(const char *reason, const char *who, bool *nomem)
{
    char *s = NULL;
    if (reason && who)
        s = fmt("%s (%s)", reason, who);
    else if (reason)
        s = strdup(reason);
    else if (who)
        s = fmt("(%s)", who);
    else
        return NULL;
    *nomem = !s;
    return s;
}

int reg_release(reg *r, int64_t id, const char *reason, const char *who, time_t now, sohoa_err *err)
{
    change c = change_of(id, "release", "released", now);
    bool nomem = false;
    char *rw = reason_who(reason, who, &nomem);
    if (nomem)
        return oom(r, c.what, err);
    cur_row cur;
    char *detail = NULL;
    int rc = -1;
    if (change_begin(r, &c, BIT(DOC_HELD), &cur, err) != 0)
        goto out;
    char names[64];
    hold_names(cur.hold, names, sizeof names);
    detail = rw ? fmt("%s: %s", names, rw) : strdup(names);
    if (!detail) {
        oom(r, c.what, err);
        tx_rollback(r);
        goto out;
    }
    c.detail = detail;
    /* Back where it was held from; a rejected document goes back to the
     * queue at its original place (queued_seq is kept), due now. */
    if (cur.held_from == DOC_QUEUED)
        rc = change_commit(r, &c, err,
                           "UPDATE documents SET state = ?, released = released | hold, hold = 0,"
                           " held_from = NULL, attempts = 0, next_attempt = ? WHERE id = ?",
                           "ill", (int)DOC_QUEUED, (int64_t)now, id);
    else
        rc = change_commit(r, &c, err,
                           "UPDATE documents SET state = ?, released = released | hold, hold = 0,"
                           " held_from = NULL WHERE id = ?",
                           "il", (int)DOC_PROCESSED, id);
out:
    free(rw);
    free(detail);
    return rc;
}

/* Moves `id` to a final state (discarded, failed) with `reason` as note. */
static int finish(reg *r, int64_t id, doc_state to, unsigned allowed, const char *verb,
                  const char *event, const char *reason, const char *who, time_t now,
                  sohoa_err *err)
{
    change c = change_of(id, verb, event, now);
    bool nomem = false;
    char *detail = reason_who(reason, who, &nomem);
    if (nomem)
        return oom(r, c.what, err);
    c.detail = detail;
    /* The số đến, if any, stays: a number is never given twice. */
    int rc = change_apply(
        r, &c, allowed, err,
        "UPDATE documents SET state = ?, hold = 0, held_from = NULL, note = ? WHERE id = ?", "itl",
        (int)to, reason, id);
    free(detail);
    return rc;
}

int reg_discard(reg *r, int64_t id, const char *reason, const char *who, time_t now, sohoa_err *err)
{
    return finish(r, id, DOC_DISCARDED, ALL_STATES & ~(BIT(DOC_SENT) | BIT(DOC_DISCARDED)),
                  "discard", "discarded", reason, who, now, err);
}

int reg_fail(reg *r, int64_t id, const char *reason, time_t now, sohoa_err *err)
{
    return finish(r, id, DOC_FAILED,
                  ALL_STATES & ~(BIT(DOC_SENT) | BIT(DOC_DISCARDED) | BIT(DOC_FAILED)),
                  "mark failed", "failed", reason, NULL, now, err);
}

int reg_register(reg *r, int64_t id, time_t now, int64_t *so_den, sohoa_err *err)
{
    change c = change_of(id, "register", "registered", now);
    cur_row cur;
    /* Any state is read; only a processed document without a number may
     * take one. A numbered document answers with its number whatever its
     * state, so a step repeated after a power cut is harmless. */
    if (change_begin(r, &c, ALL_STATES, &cur, err) != 0)
        return -1;
    if (cur.so_den > 0) {
        tx_rollback(r);
        *so_den = cur.so_den;
        return 0;
    }
    if (cur.state != DOC_PROCESSED) {
        tx_rollback(r);
        return err_set(err, SOHOA_EINPUT, "document %" PRId64 " is %s, cannot register", id,
                       doc_state_name(cur.state));
    }
    vn_tm tm;
    vntime_split(cur.effective, &tm);
    int64_t n = 0;
    int found = 0;
    if (run_int(r, c.what, err, &n, &found,
                "INSERT INTO counters (year, last) VALUES (?, 1)"
                " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
                "i", tm.year) != 0) {
        tx_rollback(r);
        return -1;
    }
    if (!found) {
        tx_rollback(r);
        return err_set(err, SOHOA_EWORK, "%s: %s: no number returned", r->path, c.what);
    }
    char detail[64];
    snprintf(detail, sizeof detail, "số đến %" PRId64 "/%d", n, tm.year);
    c.detail = detail;
    if (change_commit(r, &c, err,
                      "UPDATE documents SET state = ?, year = ?, so_den = ? WHERE id = ?", "iill",
                      (int)DOC_REGISTERED, tm.year, n, id) != 0)
        return -1;
    *so_den = n;
    return 0;
}

int reg_set_signed(reg *r, int64_t id, const char *pdf_sha256, time_t now, sohoa_err *err)
{
    change c = change_of(id, "mark signed", "signed", now);
    size_t n = pdf_sha256 ? strlen(pdf_sha256) : 0;
    if (n != 64 || strspn(pdf_sha256, "0123456789abcdefABCDEF") != 64)
        return err_set(err, SOHOA_EINPUT, "%s: the PDF's SHA-256 must be 64 hex digits", c.what);
    c.detail = pdf_sha256;
    return change_apply(r, &c, BIT(DOC_REGISTERED), err,
                        "UPDATE documents SET state = ?, pdf_sha256 = ? WHERE id = ?", "itl",
                        (int)DOC_SIGNED, pdf_sha256, id);
}

int reg_enqueue(reg *r, int64_t id, const char *document_id, int priority, time_t now,
                sohoa_err *err)
{
    change c = change_of(id, "enqueue", "queued", now);
    if (!document_id || !*document_id)
        return err_set(err, SOHOA_EINPUT, "%s: no DocumentId given", c.what);
    if (priority < 0 || priority > 3)
        return err_set(err, SOHOA_EINPUT, "%s: priority %d is not 0..3", c.what, priority);
    char *detail = fmt("priority %d, %s", priority, document_id);
    if (!detail)
        return oom(r, c.what, err);
    c.detail = detail;
    cur_row cur;
    int rc = -1;
    if (change_begin(r, &c, BIT(DOC_SIGNED), &cur, err) != 0)
        goto out;
    /* The place in the queue is taken once; a document that comes back
     * keeps it. */
    int64_t seq = 0;
    int found = 0;
    if (!cur.has_queued_seq &&
        run_int(r, c.what, err, &seq, &found,
                "INSERT INTO sequences (name, last) VALUES ('queue', 1)"
                " ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last",
                "") != 0) {
        tx_rollback(r);
        goto out;
    }
    rc = change_commit(r, &c, err,
                       "UPDATE documents SET state = ?, document_id = ?, priority = ?,"
                       " queued_seq = COALESCE(queued_seq, ?), queued_at = COALESCE(queued_at, ?),"
                       " attempts = 0, next_attempt = ? WHERE id = ?",
                       "itillll", (int)DOC_QUEUED, document_id, priority, seq, (int64_t)now,
                       (int64_t)now, id);
out:
    free(detail);
    return rc;
}

int reg_mark_sent(reg *r, int64_t id, const char *status_code, const char *description, time_t now,
                  sohoa_err *err)
{
    change c = change_of(id, "mark sent", "sent", now);
    char *detail = NULL;
    if (status_code || description) {
        detail = fmt("%s%s%s", status_code ? status_code : "",
                     status_code && description ? " " : "", description ? description : "");
        if (!detail)
            return oom(r, c.what, err);
    }
    c.detail = detail;
    int rc = change_apply(r, &c, BIT(DOC_QUEUED), err,
                          "UPDATE documents SET state = ?,"
                          " server_status = COALESCE(?, server_status) WHERE id = ?",
                          "itl", (int)DOC_SENT, status_code, id);
    free(detail);
    return rc;
}

int reg_mark_retry(reg *r, int64_t id, time_t next_attempt, const char *error, time_t now,
                   sohoa_err *err)
{
    change c = change_of(id, "schedule a retry", "retry", now);
    char at[VNTIME_ISO_LEN];
    vntime_iso(next_attempt, at);
    char *detail = fmt("%s; next attempt %s", error ? error : "upload failed", at);
    if (!detail)
        return oom(r, c.what, err);
    c.detail = detail;
    int rc = change_apply(r, &c, BIT(DOC_QUEUED), err,
                          "UPDATE documents SET attempts = attempts + 1, next_attempt = ?,"
                          " last_error = ?, last_error_at = ? WHERE id = ?",
                          "ltll", (int64_t)next_attempt, error, (int64_t)now, id);
    free(detail);
    return rc;
}

int reg_hold_queued(reg *r, int64_t id, const char *reason, const char *who, time_t now,
                    sohoa_err *err)
{
    change c = change_of(id, "hold", "held", now);
    bool nomem = false;
    char *detail = reason_who(reason, who, &nomem);
    if (nomem)
        return oom(r, c.what, err);
    c.detail = detail;
    int rc = change_apply(r, &c, BIT(DOC_QUEUED), err,
                          "UPDATE documents SET state = ?, hold = ?, held_from = ?, note = ?"
                          " WHERE id = ?",
                          "iiitl", (int)DOC_HELD, HOLD_MANUAL, (int)DOC_QUEUED, reason, id);
    free(detail);
    return rc;
}

int reg_retry_now(reg *r, int64_t id, const char *who, time_t now, sohoa_err *err)
{
    change c = change_of(id, "retry now", "retry-now", now);
    c.detail = who;
    return change_apply(r, &c, BIT(DOC_QUEUED), err,
                        "UPDATE documents SET next_attempt = ? WHERE id = ?", "ll", (int64_t)now,
                        id);
}

int reg_mark_rejected(reg *r, int64_t id, const char *reason, time_t now, sohoa_err *err)
{
    change c = change_of(id, "mark rejected", "rejected", now);
    c.detail = reason;
    return change_apply(r, &c, BIT(DOC_QUEUED), err,
                        "UPDATE documents SET state = ?, hold = ?, held_from = ?, note = ?,"
                        " attempts = attempts + 1, last_error = ?, last_error_at = ? WHERE id = ?",
                        "iiittll", (int)DOC_HELD, HOLD_REJECTED, (int)DOC_QUEUED, reason, reason,
                        (int64_t)now, id);
}

int reg_add_server_status(reg *r, const char *document_id, const char *code,
                          const char *description, time_t now, int *matched, sohoa_err *err)
{
    *matched = 0;
    if (!document_id || !*document_id)
        return err_set(err, SOHOA_EINPUT, "server status: no DocumentId");
    size_t n = code ? strlen(code) : 0;
    /* The code becomes part of the event name ("server:01"). */
    if (n == 0 || n > 16 ||
        strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
        return err_set(err, SOHOA_EINPUT, "server status for %s: invalid status code", document_id);
    char event[32];
    snprintf(event, sizeof event, "server:%s", code);
    change c = change_of(0, "record a server status", event, now);
    c.detail = description;
    /* The server speaks of a DocumentId, and so do the errors. */
    snprintf(c.what, sizeof c.what, "cannot record the server status of %.80s", document_id);
    if (tx_begin(r, c.what, err) != 0)
        return -1;
    int found = 0;
    /* A DocumentId names one document; should two rows carry it, the
     * latest is the one the server is answering about. */
    int rc = run_int(r, c.what, err, &c.id, &found,
                     "SELECT id FROM documents WHERE document_id = ? ORDER BY id DESC LIMIT 1", "t",
                     document_id);
    if (rc != 0 || !found) {
        tx_rollback(r); /* not ours (or unreadable): nothing to record */
        return rc;
    }
    if (change_commit(r, &c, err, "UPDATE documents SET server_status = ? WHERE id = ?", "tl", code,
                      c.id) != 0)
        return -1;
    *matched = 1;
    return 0;
}

/* ---- reading ----------------------------------------------------------- */

#define DOC_COLS                                                                                   \
    "id, state, dir, received, effective, year, so_den, hold, released, duplicate_of, note,"       \
    " pdf_sha256, document_id, priority, attempts, next_attempt, last_error, server_status, meta"

static int col_dup(sqlite3_stmt *st, int col, char **out)
{
    *out = NULL;
    const unsigned char *v = sqlite3_column_text(st, col);
    if (!v)
        return 0;
    *out = strdup((const char *)v);
    return *out ? 0 : -1;
}

/* Fills `d` from a row of DOC_COLS. */
static int read_doc(reg *r, sqlite3_stmt *st, reg_doc *d, sohoa_err *err)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    d->state = (doc_state)sqlite3_column_int(st, 1);
    d->received = (time_t)sqlite3_column_int64(st, 3);
    d->effective = (time_t)sqlite3_column_int64(st, 4);
    d->year = sqlite3_column_int(st, 5);
    d->so_den = sqlite3_column_int64(st, 6);
    d->hold = (unsigned)sqlite3_column_int(st, 7);
    d->released = (unsigned)sqlite3_column_int(st, 8);
    d->duplicate_of = sqlite3_column_int64(st, 9);
    d->priority = sqlite3_column_int(st, 13);
    d->attempts = sqlite3_column_int(st, 14);
    d->next_attempt = (time_t)sqlite3_column_int64(st, 15);
    if (col_dup(st, 2, &d->dir) || col_dup(st, 10, &d->note) || col_dup(st, 11, &d->pdf_sha256) ||
        col_dup(st, 12, &d->document_id) || col_dup(st, 16, &d->last_error) ||
        col_dup(st, 17, &d->server_status)) {
        reg_doc_free(d);
        return err_set(err, SOHOA_EWORK, "%s: document %" PRId64 ": out of memory", r->path,
                       (int64_t)sqlite3_column_int64(st, 0));
    }
    const unsigned char *json = sqlite3_column_text(st, 18);
    if (json) {
        sohoa_err perr = {0};
        if (meta_from_json((const char *)json, &d->meta, &perr) != 0) {
            int64_t id = d->id;
            reg_doc_free(d);
            return err_set(err, SOHOA_EWORK,
                           "%s: document %" PRId64 ": stored metadata unreadable: %s", r->path, id,
                           perr.msg);
        }
    }
    return 0;
}

/* One document by a query returning DOC_COLS; *found = 0 when no row. */
static int get_one(reg *r, reg_doc *out, int *found, const char *what, sohoa_err *err,
                   const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepv(r, what, err, sql, types, ap);
    va_end(ap);
    if (!st)
        return -1;
    *found = 0;
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        if (read_doc(r, st, out, err) == 0) {
            *found = 1;
            ret = 0;
        }
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        db_fail(r->path, r->db, rc, what, err);
    }
    sqlite3_finalize(st);
    return ret;
}

int reg_find_by_dir(reg *r, const char *dir, int64_t *id, sohoa_err *err)
{
    *id = 0;
    if (!dir || !*dir)
        return err_set(err, SOHOA_EINPUT, "%s: no document directory given", r->path);
    int found = 0;
    /* One directory per document; should two rows name it, the latest. */
    return run_int(r, "cannot look up a document by directory", err, id, &found,
                   "SELECT id FROM documents WHERE dir = ? ORDER BY id DESC LIMIT 1", "t", dir);
}

int reg_get(reg *r, int64_t id, reg_doc *out, sohoa_err *err)
{
    char what[96];
    snprintf(what, sizeof what, "cannot read document %" PRId64, id);
    int found = 0;
    if (get_one(r, out, &found, what, err, "SELECT " DOC_COLS " FROM documents WHERE id = ?", "l",
                id) != 0)
        return -1;
    if (!found)
        return err_set(err, SOHOA_EINPUT, "document %" PRId64 " does not exist", id);
    return 0;
}

int reg_get_by_so_den(reg *r, int year, int64_t so_den, reg_doc *out, int *found, sohoa_err *err)
{
    *found = 0;
    if (so_den <= 0)
        return 0;
    return get_one(r, out, found, "cannot read the register", err,
                   "SELECT " DOC_COLS
                   " FROM documents WHERE year = ? AND so_den = ? AND so_den > 0",
                   "il", year, so_den);
}

int reg_next_to_send(reg *r, time_t now, reg_doc *out, int *found, sohoa_err *err)
{
    return get_one(r, out, found, "cannot read the queue", err,
                   "SELECT " DOC_COLS " FROM documents WHERE state = ? AND next_attempt <= ?"
                   " ORDER BY priority DESC, queued_seq ASC LIMIT 1",
                   "il", (int)DOC_QUEUED, (int64_t)now);
}

int reg_next_due(reg *r, time_t *due, int *found, sohoa_err *err)
{
    int64_t t = 0;
    if (run_int(r, "cannot read the queue", err, &t, found,
                "SELECT MIN(next_attempt) FROM documents WHERE state = ?", "i",
                (int)DOC_QUEUED) != 0)
        return -1;
    if (*found)
        *due = (time_t)t;
    return 0;
}

void reg_doc_free(reg_doc *d)
{
    if (!d)
        return;
    free(d->dir);
    free(d->note);
    free(d->pdf_sha256);
    free(d->document_id);
    free(d->last_error);
    free(d->server_status);
    meta_free(&d->meta);
    memset(d, 0, sizeof *d);
}

/* The ids a query returns (first column), collected before any callback
 * runs: a callback may change the register through the same connection. */
static int collect_ids(reg *r, const char *what, int64_t **ids, size_t *n, sohoa_err *err,
                       const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepv(r, what, err, sql, types, ap);
    va_end(ap);
    *ids = NULL;
    *n = 0;
    if (!st)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            int64_t *p = realloc(*ids, ncap * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                free(*ids);
                *ids = NULL;
                return oom(r, what, err);
            }
            *ids = p;
            cap = ncap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) {
        db_fail(r->path, r->db, rc, what, err);
        sqlite3_finalize(st);
        free(*ids);
        *ids = NULL;
        *n = 0;
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* Calls fn for each id still matching `still` (the row is read again, as
 * an earlier callback may have moved it). */
static int each_id(reg *r, const int64_t *ids, size_t n, const char *still,
                   int (*fn)(void *ctx, const reg_doc *d), void *ctx, int state, sohoa_err *err)
{
    for (size_t i = 0; i < n; i++) {
        reg_doc d;
        int found = 0;
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT " DOC_COLS " FROM documents WHERE id = ? AND %s", still);
        int rc =
            state >= 0
                ? get_one(r, &d, &found, "cannot read the register", err, sql, "li", ids[i], state)
                : get_one(r, &d, &found, "cannot read the register", err, sql, "l", ids[i]);
        if (rc != 0)
            return -1;
        if (!found)
            continue;
        rc = fn(ctx, &d);
        reg_doc_free(&d);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int reg_each_in_state(reg *r, doc_state state, int (*fn)(void *ctx, const reg_doc *d), void *ctx,
                      sohoa_err *err)
{
    int64_t *ids;
    size_t n;
    if (collect_ids(r, "cannot read the register", &ids, &n, err,
                    "SELECT id FROM documents WHERE state = ? ORDER BY id", "i", (int)state) != 0)
        return -1;
    int rc = each_id(r, ids, n, "state = ?", fn, ctx, (int)state, err);
    free(ids);
    return rc;
}

int reg_each_registered(reg *r, const char *from_day, const char *to_day,
                        int (*fn)(void *ctx, const reg_doc *d), void *ctx, sohoa_err *err)
{
    /* A Vietnam day is exactly 86400 s (no daylight saving): the range is
     * [from 00:00, day after `to` 00:00). */
    time_t from = 0, to = 0;
    if (!from_day || vntime_parse_date(from_day, &from) != 0)
        return err_set(err, SOHOA_EINPUT, "register: \"%s\" is not a date (YYYY-MM-DD)",
                       from_day ? from_day : "");
    if (!to_day || vntime_parse_date(to_day, &to) != 0)
        return err_set(err, SOHOA_EINPUT, "register: \"%s\" is not a date (YYYY-MM-DD)",
                       to_day ? to_day : "");
    int64_t *ids;
    size_t n;
    if (collect_ids(r, "cannot read the register", &ids, &n, err,
                    "SELECT id FROM documents WHERE so_den > 0 AND effective >= ?"
                    " AND effective < ? ORDER BY year, so_den",
                    "ll", (int64_t)from, (int64_t)to + 86400) != 0)
        return -1;
    int rc = each_id(r, ids, n, "so_den > 0", fn, ctx, -1, err);
    free(ids);
    return rc;
}

int reg_each_event(reg *r, int64_t id, int (*fn)(void *ctx, const reg_event *e), void *ctx,
                   sohoa_err *err)
{
    const char *what = "cannot read the history";
    sqlite3_stmt *st = prep(
        r, what, err, "SELECT at, event, detail FROM events WHERE doc = ? ORDER BY seq", "l", id);
    if (!st)
        return -1;
    /* Collected first, so that `fn` may write to the register. */
    struct ev {
        time_t at;
        char *event, *detail;
    } *evs = NULL;
    size_t n = 0, cap = 0;
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct ev *p = realloc(evs, ncap * sizeof *p);
            if (!p) {
                ret = oom(r, what, err);
                break;
            }
            evs = p;
            cap = ncap;
        }
        evs[n].at = (time_t)sqlite3_column_int64(st, 0);
        int bad = col_dup(st, 1, &evs[n].event);
        bad |= col_dup(st, 2, &evs[n].detail);
        n++;
        if (bad) {
            ret = oom(r, what, err);
            break;
        }
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_fail(r->path, r->db, rc, what, err);
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && ret == 0; i++) {
        reg_event e = {.at = evs[i].at, .event = evs[i].event, .detail = evs[i].detail};
        ret = fn(ctx, &e);
    }
    for (size_t i = 0; i < n; i++) {
        free(evs[i].event);
        free(evs[i].detail);
    }
    free(evs);
    return ret;
}

int reg_get_stats(reg *r, reg_stats *stats, sohoa_err *err)
{
    memset(stats, 0, sizeof *stats);
    const char *what = "cannot read the register's statistics";
    /* One read transaction: the numbers describe one moment. */
    if (run(r, what, err, "BEGIN", "") != 0)
        return -1;
    sqlite3_stmt *st =
        prep(r, what, err, "SELECT state, COUNT(*) FROM documents GROUP BY state", "");
    int rc = SQLITE_ERROR;
    if (!st)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 0);
        if (s >= 0 && s <= DOC_FAILED)
            stats->in_state[s] = (long)sqlite3_column_int64(st, 1);
    }
    if (rc != SQLITE_DONE) {
        db_fail(r->path, r->db, rc, what, err);
        goto fail;
    }
    sqlite3_finalize(st);
    st = prep(r, what, err,
              "SELECT priority, COUNT(*) FROM documents WHERE state = ? GROUP BY priority", "i",
              (int)DOC_QUEUED);
    if (!st)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int p = sqlite3_column_int(st, 0);
        if (p >= 0 && p <= 3)
            stats->queued_by_priority[p] = (long)sqlite3_column_int64(st, 1);
    }
    if (rc != SQLITE_DONE) {
        db_fail(r->path, r->db, rc, what, err);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    int64_t oldest = 0;
    int found = 0;
    if (run_int(r, what, err, &oldest, &found,
                "SELECT MIN(queued_at) FROM documents WHERE state = ?", "i", (int)DOC_QUEUED) != 0)
        goto fail;
    stats->oldest_queued = found ? (time_t)oldest : 0;
    st = prep(r, what, err,
              "SELECT last_error FROM documents WHERE state = ? AND last_error IS NOT NULL"
              " ORDER BY last_error_at DESC, id DESC LIMIT 1",
              "i", (int)DOC_QUEUED);
    if (!st)
        goto fail;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (col_dup(st, 0, &stats->last_error) != 0) {
            oom(r, what, err);
            goto fail;
        }
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        db_fail(r->path, r->db, rc, what, err);
        goto fail;
    }
    sqlite3_finalize(st);
    return tx_commit(r, what, err);
fail:
    sqlite3_finalize(st);
    tx_rollback(r);
    reg_stats_free(stats);
    return -1;
}

void reg_stats_free(reg_stats *st)
{
    if (!st)
        return;
    free(st->last_error);
    st->last_error = NULL;
}

int reg_find_duplicate(reg *r, const doc_metadata *m, int64_t self, int64_t *dup, sohoa_err *err)
{
    *dup = 0;
    const char *what = "cannot look for duplicates";
    if (!m)
        return err_set(err, SOHOA_EINPUT, "%s: %s: no metadata given", r->path, what);
    dup_keys k;
    if (dup_keys_of(m, &k) != 0)
        return oom(r, what, err);
    int rc = 0;
    if (k.issuer && k.number_notation && k.date) {
        int found = 0;
        int64_t id = 0;
        rc = run_int(r, what, err, &id, &found,
                     "SELECT id FROM documents WHERE dup_issuer = ? AND dup_number_notation = ?"
                     " AND dup_date = ? AND so_den > 0 AND id != ? ORDER BY id LIMIT 1",
                     "tttl", k.issuer, k.number_notation, k.date, self);
        if (rc == 0 && found)
            *dup = id;
    }
    dup_keys_free(&k);
    return rc;
}

/* ---- audit log and integrity ----------------------------------------- */

int reg_audit(reg *r, time_t at, const char *who, const char *what_changed, const char *old_value,
              const char *new_value, sohoa_err *err)
{
    return run(r, "cannot write the audit log", err,
               "INSERT INTO audit (at, who, what, old, new) VALUES (?, ?, ?, ?, ?)", "lssss",
               (int64_t)at, who, what_changed, old_value, new_value);
}

int reg_each_audit(reg *r, int limit, int (*fn)(void *ctx, const reg_audit_entry *e), void *ctx,
                   sohoa_err *err)
{
    const char *what = "cannot read the audit log";
    /* the newest `limit`, shown oldest first */
    sqlite3_stmt *st = prep(r, what, err,
                            "SELECT at, who, what, old, new FROM (SELECT * FROM audit ORDER BY seq"
                            " DESC LIMIT ?) ORDER BY seq",
                            "i", limit > 0 ? limit : -1);
    if (!st)
        return -1;
    int rc, ret = 0;
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        reg_audit_entry e = {
            .at = (time_t)sqlite3_column_int64(st, 0),
            .who = (const char *)sqlite3_column_text(st, 1),
            .what = (const char *)sqlite3_column_text(st, 2),
            .old_value = (const char *)sqlite3_column_text(st, 3),
            .new_value = (const char *)sqlite3_column_text(st, 4),
        };
        ret = fn(ctx, &e);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_fail(r->path, r->db, rc, what, err);
    sqlite3_finalize(st);
    return ret;
}

int reg_integrity_check(reg *r, char **result, sohoa_err *err)
{
    *result = NULL;
    const char *what = "cannot check the register";
    sqlite3_stmt *st = prep(r, what, err, "PRAGMA integrity_check", "");
    if (!st)
        return -1;
    /* "ok", or one row per problem: joined, the first few are enough */
    size_t len = 0;
    FILE *m = open_memstream(result, &len);
    int rc, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m && rows++ < 5)
            fprintf(m, "%s%s", rows > 1 ? "; " : "", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (m)
        fclose(m);
    if (rc != SQLITE_DONE || !*result) {
        free(*result);
        *result = NULL;
        return rc != SQLITE_DONE ? db_fail(r->path, r->db, rc, what, err) : oom(r, what, err);
    }
    return 0;
}
