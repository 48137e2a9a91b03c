/* pdf_font.h — a glyphless TrueType font for the invisible OCR text layer.
 *
 * The text layer is never painted (render mode 3), yet PDF/A requires every
 * font to be embedded. This builds, in code, the smallest valid TrueType
 * font that serves: glyph 0 is .notdef (a box), glyph 1 is empty (no
 * contours). The PDF maps every character (CID) to glyph 1 through a
 * CIDToGIDMap, so one font covers all of Unicode's BMP, Vietnamese
 * included, in a few hundred bytes.
 */
#ifndef SOHOA_PDF_FONT_H
#define SOHOA_PDF_FONT_H

#include "pdf_buf.h"

#define PDF_FONT_NAME "SohoaGlyphless" /* PostScript name, also /BaseFont */
#define PDF_FONT_UNITS_PER_EM 1000     /* = PDF glyph space, so widths need no scaling */
#define PDF_FONT_ADVANCE 500           /* advance of every glyph: the PDF's /DW */
#define PDF_FONT_ASCENT 800
#define PDF_FONT_DESCENT (-200)
#define PDF_FONT_GLYPH 1 /* the empty glyph every CID maps to */

/* Appends the complete font program (an sfnt with head, hhea, maxp, OS/2,
 * hmtx, cmap, loca, glyf, name and post, all checksummed) to `out`.
 * Returns 0, or -1 when memory ran out. */
int pdf_font_build(pdf_buf *out);

/* The checksum TrueType uses for a table (sum of big-endian u32 words,
 * zero-padded to a multiple of 4). Exposed for tests. */
uint32_t pdf_font_checksum(const uint8_t *p, size_t len);

#endif
