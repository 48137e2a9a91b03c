/* stamp.h — the receiving clerk's ĐẾN stamp, found by its frame.
 *
 * The registry stamps each incoming letter with a 50 × 35 mm frame holding
 * its own Số, Ngày and Chuyển, filled in by pen (standards §5, "Marks"),
 * often over the letter's header. None of it is the letter's metadata, and
 * its pen writing over the issuer's name turns the name into noise for the
 * OCR. On a colour page the stamp's frame and everything written in it are
 * in coloured ink (red, violet or blue), while the letter under it is
 * black: the frame is found by its shape in the colour channel, and the
 * coloured ink inside it is wiped from the image the OCR reads. The black
 * print under the stamp stays. On a gray scan the colour is lost, but the
 * stamp and the pen stay lighter than black print: the frame is found by
 * its lines among the light ink, and the light ink inside it is wiped.
 */
#ifndef SOHOA_STAMP_H
#define SOHOA_STAMP_H

#include <stdbool.h>
#include <stddef.h>

#include "words.h"

struct Pix;

/* At most this many stamps are looked for on a page. */
#define STAMP_MAX 2

/* The paper's tint: r − g and b − g at the paper's green level g. */
typedef struct stamp_tint {
    int rg, bg, g;
} stamp_tint;

/* The stamps found on a page, with the paper's tint they were told from,
 * which wiping uses too. */
typedef struct stamp_set {
    ocr_box frame[STAMP_MAX];
    size_t n;
    int dpi;
    bool gray;       /* found on a gray page (stamp_find_gray) */
    stamp_tint tint; /* colour page: the paper's tint */
    int text, paper; /* gray page: the typical core of print's strokes,
                        and the paper's level */
} stamp_set;

/* Finds the frames of ĐẾN stamps on the colour page `color` (32 bpp) at
 * `dpi`: a closed line of coloured ink about 50 × 35 mm, upright or turned
 * a few degrees, in the upper part of the page. A round seal, a boxed
 * KHẨN or MẬT mark and handwriting are not frames. Fills `out` (each
 * frame's bounds) and returns how many were found; 0 for a gray page. */
size_t stamp_find(struct Pix *color, int dpi, stamp_set *out);

/* The same on the 8 bpp page `gray` (a gray scan, where the stamp's
 * colour is lost): the frame's lines are found among the ink lighter than
 * the print's stroke cores (stamp ink and the pen scan lighter than black
 * print), away from the print's own anti-aliased edges. */
size_t stamp_find_gray(struct Pix *gray, int dpi, stamp_set *out);

/* Whitens, in the 8 bpp `gray` (same size as `color`), the pixels inside
 * the frames of `s` that are coloured ink in `color`: the stamp and the
 * pen writing in it. Pixels of black print are kept. For frames found on
 * a gray page, `color` is not used: every pixel lighter than the print's
 * stroke cores is whitened. */
void stamp_wipe(struct Pix *gray, struct Pix *color, const stamp_set *s);

/* Whether box `b` lies mostly inside one of the frames of `s`. */
int stamp_holds(const stamp_set *s, const ocr_box *b);

#endif
