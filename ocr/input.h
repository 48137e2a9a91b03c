/* input.h — page images from files: PNG, JPEG, TIFF (multi-page, CCITT G4
 * included) and PNM, with their resolution.
 *
 * Opening validates each file up front (it exists, is an image of a known
 * format, has a sane size) and counts its pages, so that bad input is
 * reported before any work; pages are then decoded one at a time, on
 * demand, so memory never holds more than the pages being worked on.
 */
#ifndef SOHOA_INPUT_H
#define SOHOA_INPUT_H

#include <stddef.h>

#include "../firmware/err.h"

struct Pix;

/* Limits on what we agree to decode: larger inputs are refused. */
#define INPUT_MAX_SIDE 20000                     /* pixels, either side */
#define INPUT_MAX_DECODED (1024LL * 1024 * 1024) /* bytes once decoded */
#define INPUT_DEFAULT_DPI 300
#define INPUT_MIN_DPI 200 /* below this: a warning (Nghị định 30 asks for 200) */

typedef struct input_page_ref {
    const char *path; /* points into the owning input_set */
    int index;        /* page index within the file (TIFF), else 0 */
    int width, height;
} input_page_ref;

typedef struct input_set {
    char **paths;
    size_t npaths;
    input_page_ref *pages;
    size_t npages;
} input_set;

/* Validates `paths` and lists their pages in order. Fails (SOHOA_EINPUT)
 * with one line naming the first bad file and its problem. */
int input_open(input_set *set, char *const *paths, size_t npaths, sohoa_err *err);
void input_close(input_set *set);

/* Decodes one page; *dpi receives its resolution from the file's metadata
 * (INPUT_DEFAULT_DPI when absent or implausible). Corrupt or truncated data
 * fails with SOHOA_EINPUT naming the file and page. */
struct Pix *input_load_page(const input_page_ref *ref, int *dpi, sohoa_err *err);

#endif
