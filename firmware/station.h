/* station.h — one document's way through the station, step by step, each
 * step committed before the next begins (design.md, "Durability"):
 *
 *   take in pages ─> scanned ─ OCR, PDF, metadata ─> processed
 *     ─ guard ─> held | registered (số đến) ─ PAdES ─> signed
 *     ─ edXML envelope ─> queued                    (firmware/sender sends)
 *
 * A step writes its files atomically and only then records the new state
 * in the register, so a power cut at any instruction leaves a state whose
 * step can simply be done again. Files of document N live in
 * data_dir/docs/<name>/: pages/ (as taken in), document.pdf (until
 * signed), metadata.json, signed.pdf, envelope.xml.
 *
 * Configuration read here: [station] data_dir (default /var/lib/sohoa),
 * min_free_mb (refuse new jobs below this, default 100), disk_warn_percent
 * (default 80); [ocr], [guard], [token], [signature], office hours
 * (officehours.h) and the edXML keys (edxml.h).
 */
#ifndef SOHOA_STATION_H
#define SOHOA_STATION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../drivers/scanner.h"
#include "../ocr/pipeline.h"
#include "config.h"
#include "edxml.h"
#include "err.h"
#include "guard.h"
#include "officehours.h"
#include "register.h"

typedef struct station {
    const config *cfg;
    char *data_dir;
    char *db_path;   /* data_dir/register.db */
    char *docs_dir;  /* data_dir/docs */
    long min_free_mb;
    int disk_warn_percent;
    pipeline_options po;
    guard_options guard;
    edxml_options edx;
    office_hours oh;
} station;

/* Reads and validates every setting the station needs, creates data_dir
 * and data_dir/docs (0700) and checks they are writable. */
int station_init(station *st, const config *cfg, sohoa_err *err);
void station_free(station *st);

/* Disk use of data_dir in percent; fails (SOHOA_EWORK) when less than
 * min_free_mb is left, naming the directory and the space left. */
int station_check_disk(const station *st, int *used_percent, sohoa_err *err);

/* Pages being taken in for a new document. */
typedef struct station_job {
    char *dir;       /* data_dir/docs/<name> */
    char *pages_dir; /* dir/pages */
    int npages;
} station_job;

/* Starts a job. `key` (may be NULL) makes the job idempotent: a key
 * already taken in returns *existing = its document id and no job (a
 * client that lost the answer can ask again). Keys are 1–64 characters of
 * A-Z a-z 0-9 - _. */
int station_job_begin(station *st, reg *r, const char *key, station_job *job, int64_t *existing,
                      sohoa_err *err);

/* Copies `size` bytes from `in` as the next page (extension `ext`:
 * png, jpg, jpeg, tif, tiff, pnm, ppm, pgm, pbm), fsync'ed. */
int station_job_add_page(station_job *job, FILE *in, size_t size, const char *ext,
                         sohoa_err *err);

/* Makes the pages durable and records the document (state scanned) with
 * its received and effective receipt times. Frees the job. */
int station_job_commit(station *st, reg *r, station_job *job, time_t now, int64_t *id,
                       sohoa_err *err);

/* Removes the job's files and frees it; safe on a zeroed job. */
void station_job_abort(station_job *job);

/* A document from the scanner: the pages stream into the pipeline as
 * they arrive (OCR of page 1 runs while page 2 is scanned). When the
 * feeder empties, the pages are made durable and the document recorded
 * (scanned), then processed at once (processed) and *id returned. When
 * the scanner fails (*ss not SCAN_OK: jam, cover open, no paper, busy,
 * unplugged, cancelled), nothing is registered: the pages already read are
 * kept in data_dir/failed-scans/<name> for diagnosis, and 0 is returned
 * with *id = 0. -1 for local errors (disk). */
int station_scan(station *st, reg *r, scanner *sc, const volatile int *cancel, int64_t *id,
                 scan_status *ss, int *npages, sohoa_err *err);

/* Called after each step (may be NULL in station_advance). */
typedef void (*station_progress_fn)(void *ctx, int64_t id, doc_state state, const char *detail);

/* Does the remaining steps of document `id` until it rests (held, queued,
 * sent, failed, discarded). A step that fails for a reason that may pass
 * (token absent, disk full) returns -1 with err set and the document left
 * at its last state, to be tried again later; a document that can never
 * be processed (unreadable pages) is marked failed and 0 is returned. */
int station_advance(station *st, reg *r, int64_t id, station_progress_fn progress, void *ctx,
                    sohoa_err *err);

/* 1 for the states in which a document waits for nobody but the station
 * (scanned, processed, registered, signed). */
int station_state_pending(doc_state s);

#endif
