/* preprocess.h — make a scanned page ready for OCR and for the archive:
 * blank-page detection, skew measurement and correction, rotation.
 *
 * Orientation itself is detected by ocr/recognize (Tesseract OSD); this
 * module applies it. Nothing here crops content: rotations by multiples of
 * 90° swap the page size, and deskewing keeps the full canvas, filling the
 * uncovered corners with the page's paper colour.
 */
#ifndef SOHOA_PREPROCESS_H
#define SOHOA_PREPROCESS_H

#include <stdbool.h>

#include "../firmware/err.h"

struct Pix;

typedef struct blank_report {
    bool blank;      /* no content worth keeping */
    float ink_ratio; /* share of dark pixels in the content area after cleaning */
    int components;  /* text-like connected components found */
} blank_report;

/* Decides whether a page is blank. A duplex back with bleed-through (faint,
 * mirrored text from the front), paper texture, punch holes and scanner
 * edge shadows counts as blank; a page with even a few printed words or a
 * signature is not. `dpi` scales the size thresholds. */
int prep_detect_blank(struct Pix *pix, int dpi, blank_report *out, sohoa_err *err);

/* Reduces `pix` to 8-bit gray (luminance), whatever its depth. */
struct Pix *prep_to_gray(struct Pix *pix);

/* Colour dropout for OCR: a copy of the 8-bit `gray` in which the pixels
 * that are red ink in `color` (32 bpp, same size) are paper-white. Seals and
 * stamps are red (standards §5); left in, a seal over the signer's title or
 * name makes the OCR lose the whole block. Red marks are read on their own
 * from the colour image (ocr_find_red_marks). NULL on ENOMEM or when the
 * sizes differ. */
struct Pix *prep_drop_red(struct Pix *gray, struct Pix *color);

/* The levels prep_drop_light_ink works with on the 8-bit `gray`: ink
 * lighter than *from (and darker than the paper, *paper) is not text.
 * -1 when the page has no clear text-to-paper contrast to judge by. */
int prep_light_ink_levels(struct Pix *gray, int *from, int *paper);

/* The gray page's counterpart of prep_drop_red: a copy of the 8-bit `gray`
 * in which ink clearly lighter than the page's text (a seal, a stamp or a
 * signature scanned in gray) is faded to paper, so that it does not hide
 * the words under it. NULL on ENOMEM. */
struct Pix *prep_drop_light_ink(struct Pix *gray);

/* Whitens, in place, the pixels of the rectangle x0,y0-x1,y1 of the 8-bit
 * `gray` that are lighter than its own text: what the dropout left of a
 * seal's ring or a stamp (light dashes) joins the letters next to it into
 * one unreadable word, and a second reading of a few lines needs it gone.
 * The text level is the rectangle's darkest ink, the paper its median;
 * a rectangle without clear contrast is left alone. */
void prep_whiten_light(struct Pix *gray, int x0, int y0, int x1, int y1);

/* Binarises for OCR and for G4: adaptive (Sauvola-like) threshold robust
 * to uneven illumination and coloured paper. Returns a 1 bpp image. */
struct Pix *prep_binarize(struct Pix *pix, int dpi);

/* Measures the skew of the text lines in degrees (positive = rotate
 * counter-clockwise to fix) and the confidence of the measure (0 when no
 * text lines were found). Precisely: as displayed (y down), a page whose
 * lines descend to the right (it was turned clockwise, e.g. by leptonica's
 * pixRotate with a positive angle) gets a positive angle, and
 * prep_deskew(pix, angle) straightens it. The confidence is leptonica's
 * score ratio; below ~3 the angle is unreliable and should not be applied.
 * Works on any depth (binarises and reduces internally); returns -1 only
 * on bad arguments or no memory. */
int prep_find_skew(struct Pix *pix, float *angle_deg, float *conf);

/* Rotates by a multiple of 90 degrees clockwise (0, 90, 180, 270). Returns
 * a new image. */
struct Pix *prep_rotate_orth(struct Pix *pix, int degrees_cw);

/* Rotates by a small angle (|angle| <= 10 degrees) about the centre,
 * counter-clockwise for a positive angle (the convention of
 * prep_find_skew), keeping the canvas size and filling corners with the
 * paper colour (white for 1 bpp; the 70th percentile of each channel for
 * gray and colour). Returns a new image (a copy when |angle| is below 0.05
 * degree), or NULL for |angle| > 10. */
struct Pix *prep_deskew(struct Pix *pix, float angle_deg);

#endif
