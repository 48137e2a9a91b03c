/* seal.h — the round seal over the signer block, on a colourless page.
 *
 * The organisation's seal (a round stamp about 40 mm across: a thick outer
 * ring, the body's name along it, a thin inner ring and a star) is pressed
 * over the left part of the signature, across the signer's title and
 * name. On a colour scan it is red and the dropout removes it; on a
 * photocopy it is as black as the print, and its rings cut through the
 * words they cross ("PHÓ", the name's first word), which the OCR then
 * loses. The rings are found by their shape (a circle of black covering
 * most of its round) and whitened in the image the OCR reads; the print
 * they cross loses a sliver the width of the ring, which the OCR bears far
 * better than a black arc through it.
 */
#ifndef SOHOA_SEAL_H
#define SOHOA_SEAL_H

#include <stddef.h>

struct Pix;

/* At most this many seals are looked for on a page. */
#define SEAL_MAX 2

/* A seal found: its centre and the radii bounding its rings' ink, in
 * pixels of the page. inner_r0 = inner_r1 = 0 when it shows no inner
 * ring. */
typedef struct seal_ring {
    int cx, cy;
    int outer_r0, outer_r1;
    int inner_r0, inner_r1;
} seal_ring;

/* Finds round seals printed in black on the 8 bpp `gray` at `dpi`: a ring
 * of 30 to 50 mm across whose circle is inked along most of its round.
 * Text, tables, a signature and a rectangular stamp are not rings. Fills
 * `out` (up to SEAL_MAX) and returns how many were found. */
size_t seal_find(struct Pix *gray, int dpi, seal_ring *out);

/* Whitens, in the 8 bpp `gray`, the rings of seal `s`: the pixels whose
 * distance from its centre falls within a ring's radii. */
void seal_erase(struct Pix *gray, const seal_ring *s);

#endif
