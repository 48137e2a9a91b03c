/* line_band.h — one text line cut out of the page for a reading of its own.
 *
 * The registry's ĐẾN stamp often lies over the end of the date line. On a
 * colour or gray page its ink is told from print and wiped (stamp.h); on a
 * photocopy it is as black as the print, and the page's layout analysis
 * cuts the line among the stamp's own lines (Số, Ngày, Chuyển, written
 * across it). Read alone, within the line's band, the line reads again,
 * once what in the band is not the line's is taken out: the frame's
 * upright stroke crossing it, and the pieces of the stamp's lines that the
 * band's top and bottom edges cut through.
 */
#ifndef SOHOA_LINE_BAND_H
#define SOHOA_LINE_BAND_H

struct Pix;

/* A copy of the rectangle x0,y0-x1,y1 of the 8-bit `gray`, a band around
 * one text line (its ascenders to its tails, little more), with the ink
 * that is not the line's whitened. NULL when out of memory or the
 * rectangle is empty. */
struct Pix *line_band_cut(struct Pix *gray, int x0, int y0, int x1, int y1);

#endif
