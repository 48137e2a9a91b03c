/* sigfont.h — the font of the visible signature, embedded as a subset.
 *
 * The signature appearance shows Vietnamese text (organization name,
 * signing time) in Liberation Serif, metric-compatible with Times New Roman
 * (standards.md §3). The font is loaded with HarfBuzz, every code point is
 * mapped to its nominal glyph (no shaping: no ligature or reordering, so
 * that text extraction gives back exactly the characters drawn), and only
 * the glyphs used are embedded, as a Type0 / CIDFontType2 font with
 * Identity-H encoding, an Identity CIDToGIDMap (the subset keeps the
 * original glyph ids) and a /ToUnicode CMap so that pdftotext and screen
 * readers read the text back.
 *
 * Use: sigfont_open(), sigfont_encode() for each line to draw (this records
 * the glyphs), then sigfont_build_objects() once, then sigfont_free().
 */
#ifndef SOHOA_SIGFONT_H
#define SOHOA_SIGFONT_H

#include <stddef.h>

#include "../firmware/err.h"
#include "../ocr/pdf_buf.h"

/* Liberation Serif 2.x (fonts-liberation2); 1.07 lacks Vietnamese glyphs. */
#define SIGFONT_DEFAULT_PATH "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

/* Objects that embed the font: Type0, CIDFontType2, FontDescriptor,
 * FontFile2, ToUnicode. */
#define SIGFONT_NOBJS 5

typedef struct sigfont sigfont;

/* Loads the TrueType font at `path` (NULL = SIGFONT_DEFAULT_PATH).
 * Returns NULL with err set (SOHOA_EINPUT: missing or not a font file). */
sigfont *sigfont_open(const char *path, sohoa_err *err);

/* Frees the font; NULL is allowed. */
void sigfont_free(sigfont *f);

/* Normalizes UTF-8 `text` to NFC, maps each code point to a glyph, records
 * the glyphs as used and appends the PDF hex string of 2-byte glyph ids
 * ("<0024004F>") to `out`, ready for a Tj operator. *width receives the
 * advance of the whole text in 1/1000 em (PDF glyph space). Errors
 * (SOHOA_EINPUT): invalid UTF-8, a control character, a character the font
 * has no glyph for (named in the message). */
int sigfont_encode(sigfont *f, const char *text, pdf_buf *out, double *width, sohoa_err *err);

/* Typographic ascent and descent (descent is negative), in 1/1000 em, for
 * placing lines. */
double sigfont_ascent(const sigfont *f);
double sigfont_descent(const sigfont *f);

/* Builds the bodies (what goes between "N 0 obj" and "endobj") of the
 * SIGFONT_NOBJS objects that embed the subset of the glyphs encoded so far,
 * numbered first_obj .. first_obj + SIGFONT_NOBJS - 1 (generation 0).
 * objs[0] is the Type0 font that a /Font resource refers to. The caller
 * frees each objs[i] with pdf_buf_free(), also after a failure. */
int sigfont_build_objects(sigfont *f, int first_obj, pdf_buf objs[SIGFONT_NOBJS], sohoa_err *err);

/* The subset's PostScript name with its tag, e.g. "KQZJWB+LiberationSerif"
 * (valid after sigfont_build_objects()). */
const char *sigfont_subset_name(const sigfont *f);

#endif
