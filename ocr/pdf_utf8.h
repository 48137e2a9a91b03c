/* pdf_utf8.h — the little UTF-8 decoding the PDF writer needs.
 *
 * OCR words and metadata are UTF-8 from the recognizer and the extractor;
 * the PDF needs them as UTF-16 (text strings, CIDs) and XMP needs them as
 * well-formed XML. Malformed input must not make a malformed PDF, so bad
 * sequences decode to U+FFFD instead of failing.
 */
#ifndef SOHOA_PDF_UTF8_H
#define SOHOA_PDF_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define PDF_UTF8_REPLACEMENT 0xFFFDu

/* Decodes one code point from `s` (not at its NUL); stores it in *cp and
 * returns the bytes consumed (1..4). Overlong forms, surrogates, values
 * above U+10FFFF and truncated sequences give U+FFFD and consume 1 byte. */
size_t pdf_utf8_next(const char *s, uint32_t *cp);

/* A malloc'd copy of `s` that is valid UTF-8 and safe in XML 1.0 and PDF
 * text strings: malformed bytes become U+FFFD, control characters other
 * than tab become spaces, non-characters U+FFFE/U+FFFF are dropped.
 * Returns NULL on ENOMEM. */
char *pdf_utf8_clean(const char *s);

#endif
