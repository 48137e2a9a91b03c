/* pipeline.h — page images in, searchable PDF/A and metadata out.
 *
 * load → blank check → orientation → deskew → OCR → encode → PDF, with the
 * pages spread over worker threads (one OCR engine each) and written to
 * the PDF in order as they complete, so memory holds only the pages in
 * flight. Then the header is extracted from the kept pages and
 * metadata.json and document.pdf are written atomically.
 */
#ifndef SOHOA_PIPELINE_H
#define SOHOA_PIPELINE_H

#include <stddef.h>

#include "../firmware/err.h"
#include "encode.h"
#include "metadata.h"
#include "recognize.h"

typedef struct pipeline_options {
    int threads;            /* workers; 0 = number of online CPUs */
    encode_options encode;
    ocr_options ocr;
    int keep_blank;         /* do not drop blank pages */
    int ocr_dpi;            /* resolution OCR reads at (pages are downscaled to it); 0 = native */
    /* Called after each page is done (may be NULL): for progress lines. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} pipeline_options;

pipeline_options pipeline_defaults(void);

/* Digitises the page images `paths` into `outdir`/document.pdf and
 * `outdir`/metadata.json. On failure neither file is left behind (nor any
 * temporary). The metadata is also returned in `meta` when not NULL. */
int pipeline_process(char *const *paths, size_t npaths, const char *outdir,
                     const pipeline_options *opt, doc_metadata *meta, sohoa_err *err);

/* The same, for pages that arrive one by one (a scanner feeding them):
 * OCR of the first page starts while the next is being scanned, and
 * memory holds only the pages in flight.
 *
 *   f = pipeline_feed_open(outdir, &opt, max_pages, err);
 *   for each scanned page: pipeline_feed_add(f, path, err);
 *   pipeline_feed_finish(f, &meta, err);     (or pipeline_feed_abort(f))
 *
 * A page that cannot be read fails pipeline_feed_add() (validation) or,
 * later, pipeline_feed_finish(); the first failure stops the workers.
 * `max_pages` bounds the document (and the workers: no more than pages). */
typedef struct pipeline_feed pipeline_feed;

pipeline_feed *pipeline_feed_open(const char *outdir, const pipeline_options *opt,
                                  size_t max_pages, sohoa_err *err);

/* Validates the image file `path` and queues its pages. */
int pipeline_feed_add(pipeline_feed *f, const char *path, sohoa_err *err);

/* No more pages: waits for the last, extracts the header and publishes
 * document.pdf and metadata.json (as pipeline_process). Frees `f`. */
int pipeline_feed_finish(pipeline_feed *f, doc_metadata *meta, sohoa_err *err);

/* Stops the work and frees `f`; nothing is published. */
void pipeline_feed_abort(pipeline_feed *f);

#endif
