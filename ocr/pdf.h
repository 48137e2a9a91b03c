/* pdf.h — a streaming writer of searchable PDF/A-2b documents.
 *
 * Pages are written to the output file as soon as they are added, so the
 * writer holds only the cross-reference table in memory, never the images
 * of earlier pages. Each page shows its image layers (encode.h) over the
 * whole page and carries an invisible text layer (render mode 3) with each
 * OCR word placed and horizontally scaled over its box, in a glyphless
 * embedded font whose ToUnicode map makes the text selectable, searchable
 * and extractable (pdftotext). pdf_writer_finish() adds the XMP metadata
 * (pdfaid part 2, conformance B, plus the extracted header in dc/xmp/pdf
 * and a `sohoa` namespace), an sRGB OutputIntent, the catalog and the
 * trailer with a file ID. No encryption.
 */
#ifndef SOHOA_PDF_H
#define SOHOA_PDF_H

#include <stddef.h>
#include <stdio.h>

#include "../firmware/err.h"
#include "encode.h"
#include "metadata.h"
#include "words.h"

typedef struct pdf_writer pdf_writer;

typedef struct pdf_page {
    int width_px, height_px; /* the page image size */
    int dpi;                 /* scan resolution: page size = px * 72 / dpi points */
    const pdf_image *layers; /* painted in order, each stretched over the page */
    size_t nlayers;
    const ocr_page_text *text; /* may be NULL or empty: no text layer */
} pdf_page;

/* Starts a PDF on the open, writable stream `out` (the caller owns and
 * closes it; nothing is written after an error). */
pdf_writer *pdf_writer_new(FILE *out, sohoa_err *err);

/* Appends one page; its bytes are written before the call returns. */
int pdf_writer_add_page(pdf_writer *w, const pdf_page *page, sohoa_err *err);

/* Writes metadata, OutputIntent, catalog, xref and trailer, flushes the
 * stream, and frees the writer (also on failure). `meta` may be NULL.
 * `created` is the creation time (seconds since the epoch). */
int pdf_writer_finish(pdf_writer *w, const doc_metadata *meta, long long created, sohoa_err *err);

/* Frees a writer without finishing it (after an error). */
void pdf_writer_abort(pdf_writer *w);

#endif
