/* testutil.h — small helpers shared by unit tests that check our output
 * with command-line tools (qpdf, pdftotext, pdfsig, openssl). */
#ifndef SOHOA_TESTUTIL_H
#define SOHOA_TESTUTIL_H

#include <stddef.h>

#include <openssl/evp.h>

#include "signer/token.h"

/* Runs the shell command made from `fmt` (stderr merged into stdout);
 * returns its exit status (-1 if it did not exit), its output in *out
 * (malloc'ed, NUL-terminated) when `out` is not NULL. */
int tu_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whole file, NUL-terminated (malloc'ed); its length in *len if not NULL.
 * Returns NULL when the file cannot be read. */
char *tu_slurp(const char *path, size_t *len);

/* 1 when `sig` is a valid signature by the key of the DER certificate over
 * `digest` (hashed with md), with the padding `scheme` means (PSS: MGF1
 * with md, salt = digest length); 0 otherwise. */
int tu_signature_ok(const unsigned char *cert_der, size_t cert_len, token_sig_scheme scheme,
                    const EVP_MD *md, const unsigned char *digest, size_t dlen,
                    const unsigned char *sig, size_t slen);

/* cmocka group setup / teardown: an OCR engine with the default
 * languages in *state (setup fails, with the reason on stderr, when its
 * language data is missing). */
int tu_ocr_engine_setup(void **state);
int tu_ocr_engine_teardown(void **state);

struct Pix;

/* 1 bpp text `s` (ASCII) cut to its ink and scaled to `height` px, drawn
 * with leptonica's bitmap font: print or writing for test pages. NULL on
 * failure. */
struct Pix *tu_text_mask(const char *s, int height);

#endif
