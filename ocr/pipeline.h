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

#endif
