/* testutil.h — small helpers shared by unit tests that check our output
 * with command-line tools (qpdf, pdftotext, pdfsig, openssl). */
#ifndef SOHOA_TESTUTIL_H
#define SOHOA_TESTUTIL_H

#include <stddef.h>

/* Runs the shell command made from `fmt` (stderr merged into stdout);
 * returns its exit status (-1 if it did not exit), its output in *out
 * (malloc'ed, NUL-terminated) when `out` is not NULL. */
int tu_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whole file, NUL-terminated (malloc'ed); its length in *len if not NULL.
 * Returns NULL when the file cannot be read. */
char *tu_slurp(const char *path, size_t *len);

#endif
