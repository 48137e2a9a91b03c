/* pdf_buf.h — a growable byte buffer for the PDF writer and its helpers.
 *
 * The font, ICC profile, XMP packet and page content streams are built in
 * memory before they are written, because a PDF stream needs its /Length
 * up front. Appends never fail loudly: an allocation failure sets `oom`,
 * later appends do nothing, and the owner checks `oom` once at the end.
 * This keeps the builders free of an error check on every line.
 */
#ifndef SOHOA_PDF_BUF_H
#define SOHOA_PDF_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pdf_buf {
    uint8_t *data;
    size_t len, cap;
    bool oom; /* an allocation failed; the contents are incomplete */
} pdf_buf;

/* Appends `n` bytes. */
void pdf_buf_put(pdf_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without the NUL). */
void pdf_buf_puts(pdf_buf *b, const char *s);

/* Appends printf-formatted text. Use only integer and string conversions:
 * %f follows LC_NUMERIC and could write a decimal comma; see pdf_buf_num(). */
void pdf_buf_printf(pdf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a real number the way PDF wants it: '.' as the decimal point
 * whatever the locale, at most 3 decimals, no exponent, no trailing zeros. */
void pdf_buf_num(pdf_buf *b, double v);

/* Appends `n` zero bytes. */
void pdf_buf_zero(pdf_buf *b, size_t n);

/* Big-endian integers, for the binary formats (TrueType, ICC). */
void pdf_buf_u8(pdf_buf *b, uint8_t v);
void pdf_buf_u16(pdf_buf *b, uint16_t v);
void pdf_buf_u32(pdf_buf *b, uint32_t v);

/* Overwrites a big-endian u32 at `off` (which must lie inside the buffer). */
void pdf_buf_set_u32(pdf_buf *b, size_t off, uint32_t v);

/* Frees the contents and zeroes `b`. */
void pdf_buf_free(pdf_buf *b);

#endif
