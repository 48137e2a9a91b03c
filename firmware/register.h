/* register.h — the incoming register (sổ đăng ký văn bản đến) and the
 * upload queue, in one SQLite database (WAL, synchronous=FULL) under
 * [station] data_dir.
 *
 * One row per document, moving through these states; every change is one
 * transaction and appends to the document's status history, so after a
 * power cut the station resumes each document at its last committed state:
 *
 *   scanned → processed → (held ⇄ processed) → registered → signed
 *           → queued → sent           (or discarded, or failed)
 *
 * Số đến is assigned in the same transaction that makes a document
 * `registered`: one series per calendar year (Vietnam time) starting at 1,
 * never reused, and without gaps (a number exists only once a document
 * holds it).
 *
 * The queue is the set of `queued` documents: highest priority first
 * (3 hỏa tốc, 2 thượng khẩn, 1 khẩn, 0 thường), FIFO within a priority
 * (by the moment each was queued), skipping those whose next attempt is
 * still in the future.
 *
 * A `reg` is one connection: use one per thread. Times are passed in
 * (`now`) so that tests control them; they are stored as seconds since the
 * epoch and shown as ISO 8601 with +07:00.
 */
#ifndef SOHOA_REGISTER_H
#define SOHOA_REGISTER_H

#include <stdint.h>
#include <time.h>

#include "../ocr/metadata.h"
#include "err.h"

typedef struct reg reg;

typedef enum {
    DOC_SCANNED = 0, /* pages on disk, not yet read */
    DOC_PROCESSED,   /* PDF and metadata ready, guard not yet passed */
    DOC_HELD,        /* waiting for the clerk (see reg_doc.hold) */
    DOC_REGISTERED,  /* has a số đến */
    DOC_SIGNED,      /* signed PDF on disk */
    DOC_QUEUED,      /* edXML envelope on disk, waiting to be sent */
    DOC_SENT,        /* accepted by the server (2xx) */
    DOC_DISCARDED,   /* dropped by the clerk, with a reason */
    DOC_FAILED,      /* could not be processed (unreadable pages, ...) */
} doc_state;

/* Why a document is held (bit mask). */
enum {
    HOLD_CLASSIFIED = 1, /* secrecy mark, or not sure there is none */
    HOLD_DUPLICATE = 2,  /* same issuer + number/notation + date as another */
    HOLD_REVIEW = 4,     /* required fields need the clerk's check */
    HOLD_REJECTED = 8,   /* the server refused it (4xx that will not heal) */
    HOLD_MANUAL = 16,    /* taken out of the queue at the console */
};

/* "scanned", "processed", ... */
const char *doc_state_name(doc_state s);

typedef struct reg_doc {
    int64_t id;            /* row id: stable, never reused */
    doc_state state;
    char *dir;             /* the document's directory, as given to reg_create() */
    time_t received;       /* when the pages were taken in */
    time_t effective;      /* effective receipt time (office hours) */
    int year;              /* year of the số đến series; 0 until registered */
    int64_t so_den;        /* số đến; 0 until registered */
    unsigned hold;         /* HOLD_* reasons currently holding it */
    unsigned released;     /* HOLD_* reasons the clerk has released */
    int64_t duplicate_of;  /* id of the matching document, or 0 */
    char *note;            /* why held / discarded / failed / server's reason */
    char *pdf_sha256;      /* hex SHA-256 of the signed PDF, or NULL */
    char *document_id;     /* edXML DocumentId once packaged, or NULL */
    int priority;          /* 0..3, see above */
    int attempts;          /* upload attempts so far */
    time_t next_attempt;   /* not before this time */
    char *last_error;      /* last upload error, or NULL */
    char *server_status;   /* last edXML status code from the server ("01"), or NULL */
    doc_metadata meta;     /* as read, with the clerk's corrections applied */
} reg_doc;

/* Opens (creating if needed, mode 0600) the database at `path`; sets WAL,
 * synchronous=FULL, a busy timeout, and creates or upgrades the schema.
 * Errors name the file (read-only directory, full disk, not a database). */
reg *reg_open(const char *path, sohoa_err *err);
void reg_close(reg *r);

/* A new document in state `scanned`. `dir` is where its files live. */
int reg_create(reg *r, const char *dir, time_t received, time_t effective, int64_t *id,
               sohoa_err *err);

/* Stores the extracted metadata; state → processed. */
int reg_set_metadata(reg *r, int64_t id, const doc_metadata *m, time_t now, sohoa_err *err);

/* The clerk's correction of one field (`value` NULL clears it; for
 * META_NUMBER the value is the decimal number). The value as read is kept
 * in the history; the field leaves `review`, with confidence 1. */
int reg_correct(reg *r, int64_t id, meta_field f, const char *value, const char *who,
                time_t now, sohoa_err *err);

/* state → held with `reasons` (HOLD_*), `note` and `duplicate_of` (0 if
 * none). */
int reg_hold(reg *r, int64_t id, unsigned reasons, const char *note, int64_t duplicate_of,
             time_t now, sohoa_err *err);

/* The clerk releases a held document, giving a reason: the current hold
 * reasons are added to `released` and the document goes back to the state
 * it was held from (processed, or queued with attempts reset for
 * HOLD_REJECTED). */
int reg_release(reg *r, int64_t id, const char *reason, const char *who, time_t now,
                sohoa_err *err);

/* state → discarded (from any state but sent), with the reason. */
int reg_discard(reg *r, int64_t id, const char *reason, const char *who, time_t now,
                sohoa_err *err);

/* state → failed, with the reason (unreadable pages, ...). */
int reg_fail(reg *r, int64_t id, const char *reason, time_t now, sohoa_err *err);

/* Assigns the next số đến of the year of `effective` (Vietnam time) and
 * moves processed → registered, atomically. Idempotent: a document that
 * already has a number keeps it (returned in *so_den). */
int reg_register(reg *r, int64_t id, time_t now, int64_t *so_den, sohoa_err *err);

/* registered → signed, with the signed PDF's SHA-256 (hex). */
int reg_set_signed(reg *r, int64_t id, const char *pdf_sha256, time_t now, sohoa_err *err);

/* signed → queued: the envelope is on disk; `priority` 0..3. */
int reg_enqueue(reg *r, int64_t id, const char *document_id, int priority, time_t now,
                sohoa_err *err);

/* The next queued document due at `now`, in queue order; *found = 0 when
 * none. `out` is filled only when found (free with reg_doc_free()). */
int reg_next_to_send(reg *r, time_t now, reg_doc *out, int *found, sohoa_err *err);

/* Earliest next_attempt among queued documents (*found = 0 when none):
 * how long the sender may sleep. */
int reg_next_due(reg *r, time_t *due, int *found, sohoa_err *err);

/* queued → sent; `status_code` and `description` from the server's Status
 * packet (may be NULL). */
int reg_mark_sent(reg *r, int64_t id, const char *status_code, const char *description,
                  time_t now, sohoa_err *err);

/* An upload attempt failed and will be retried at `next_attempt`. */
int reg_mark_retry(reg *r, int64_t id, time_t next_attempt, const char *error, time_t now,
                   sohoa_err *err);

/* The console takes a queued document out of the queue: queued → held
 * (HOLD_MANUAL) with the reason; reg_release() puts it back in the queue. */
int reg_hold_queued(reg *r, int64_t id, const char *reason, const char *who, time_t now,
                    sohoa_err *err);

/* A queued document is due now (the console's "retry now"). */
int reg_retry_now(reg *r, int64_t id, const char *who, time_t now, sohoa_err *err);

/* The server refused the document for good: queued → held (HOLD_REJECTED)
 * with the server's reason. */
int reg_mark_rejected(reg *r, int64_t id, const char *reason, time_t now, sohoa_err *err);

/* A Status packet from the server about DocumentId (codes 01–06, 13, 15,
 * 16): appended to that document's history, and kept as its
 * server_status. *matched = 0 when no document has that DocumentId. */
int reg_add_server_status(reg *r, const char *document_id, const char *code,
                          const char *description, time_t now, int *matched, sohoa_err *err);

/* A registered (so_den > 0) document other than `self` with the same
 * issuer, number_notation and date (compared after NFC, case folding and
 * collapsing spaces); *dup = 0 when none. Fields missing in `m` never
 * match. */
int reg_find_duplicate(reg *r, const doc_metadata *m, int64_t self, int64_t *dup, sohoa_err *err);

/* The document whose directory is `dir` (as given to reg_create());
 * *id = 0 when none. */
int reg_find_by_dir(reg *r, const char *dir, int64_t *id, sohoa_err *err);

/* One document by id (SOHOA_EINPUT when there is none). */
int reg_get(reg *r, int64_t id, reg_doc *out, sohoa_err *err);

/* By year and số đến (*found = 0 when none). */
int reg_get_by_so_den(reg *r, int year, int64_t so_den, reg_doc *out, int *found,
                      sohoa_err *err);

void reg_doc_free(reg_doc *d);

/* Calls `fn` for each document in `state` (ascending id); stops and
 * returns fn's value when it is not 0. */
int reg_each_in_state(reg *r, doc_state state, int (*fn)(void *ctx, const reg_doc *d), void *ctx,
                      sohoa_err *err);

/* Calls `fn` for each registered document (so_den > 0) whose effective
 * receipt day (Vietnam time) is in [from_day, to_day] (YYYY-MM-DD), in
 * order of year and số đến: the rows of the printed register. */
int reg_each_registered(reg *r, const char *from_day, const char *to_day,
                        int (*fn)(void *ctx, const reg_doc *d), void *ctx, sohoa_err *err);

/* One line of a document's status history. */
typedef struct reg_event {
    time_t at;
    const char *event;  /* "scanned", "held", "registered", "server:01", "corrected", ... */
    const char *detail; /* reason, field old → new, who; may be NULL */
} reg_event;

int reg_each_event(reg *r, int64_t id, int (*fn)(void *ctx, const reg_event *e), void *ctx,
                   sohoa_err *err);

/* Counts per state, and the queue: per priority, the oldest queued time
 * (0 when empty) and the most recent upload error (NULL if none; owned by
 * the struct, free with reg_stats_free()). */
typedef struct reg_stats {
    long in_state[DOC_FAILED + 1];
    long queued_by_priority[4];
    time_t oldest_queued;
    char *last_error;
} reg_stats;

int reg_get_stats(reg *r, reg_stats *st, sohoa_err *err);
void reg_stats_free(reg_stats *st);

/* Appends to the audit log (the console's changes): who, when, what, old
 * → new (either may be NULL). Never pass a secret. */
int reg_audit(reg *r, time_t at, const char *who, const char *what, const char *old_value,
              const char *new_value, sohoa_err *err);

/* One audit log entry (strings valid during the callback only). */
typedef struct reg_audit_entry {
    time_t at;
    const char *who, *what, *old_value, *new_value;
} reg_audit_entry;

/* Calls `fn` for the newest `limit` entries (all when limit <= 0), oldest
 * first; stops and returns fn's value when it is not 0. */
int reg_each_audit(reg *r, int limit, int (*fn)(void *ctx, const reg_audit_entry *e), void *ctx,
                   sohoa_err *err);

/* SQLite's integrity check: *result is "ok" or the problems found
 * (malloc'ed). */
int reg_integrity_check(reg *r, char **result, sohoa_err *err);

#endif
