/* xmp.h — the XMP metadata packet of the PDF/A document.
 *
 * PDF/A identifies itself in XMP (pdfaid:part 2, pdfaid:conformance B) and
 * keeps its descriptive metadata there. The packet carries the standard
 * Dublin Core / XMP / PDF properties and, in the `sohoa` namespace, the
 * header fields read from the document. PDF/A accepts properties outside
 * its predefined schemas only when the packet describes them, so the
 * `sohoa` schema is declared in a pdfaExtension:schemas block.
 */
#ifndef SOHOA_XMP_H
#define SOHOA_XMP_H

#include "metadata.h"
#include "pdf_buf.h"

#define XMP_SOHOA_NS "urn:sohoa:metadata:1"
#define XMP_PRODUCER "sohoa"     /* pdf:Producer and the Info /Producer */
#define XMP_CREATOR_TOOL "sohoa" /* xmp:CreatorTool and the Info /Creator */

/* The document-level strings shared by the XMP packet and the PDF Info
 * dictionary, which PDF/A requires to agree exactly. Each is a cleaned
 * (pdf_utf8_clean), malloc'd UTF-8 string or NULL when not known. */
typedef struct xmp_doc_strings {
    char *title;       /* "<type> <number_notation>", or the subject */
    char *description; /* the subject (trích yếu) */
    char *creator;     /* the issuing body */
} xmp_doc_strings;

/* Derives the strings from `meta` (which may be NULL: all stay NULL).
 * Returns 0, or -1 on ENOMEM (and frees what it made). */
int xmp_doc_strings_make(const doc_metadata *meta, xmp_doc_strings *out);

/* Frees the strings and zeroes `s`. */
void xmp_doc_strings_free(xmp_doc_strings *s);

/* Formats `t` (seconds since the epoch) as Vietnam time in ISO 8601:
 * "2025-02-07T14:59:55+07:00". `out` must hold 26 bytes. */
void xmp_format_date(long long t, char out[26]);

/* Appends the complete packet (with xpacket wrapper and padding, UTF-8)
 * to `out`. `meta` may be NULL (generic properties only); `pages` is the
 * number of pages in the PDF; `created` the creation time, also used as
 * modification and metadata time. Returns 0, or -1 on ENOMEM. */
int xmp_build(pdf_buf *out, const doc_metadata *meta, const xmp_doc_strings *ds, long long created,
              int pages);

/* Appends `s` with the five XML special characters escaped. `s` must be
 * clean UTF-8 (pdf_utf8_clean). */
void xmp_escape(pdf_buf *out, const char *s);

#endif
