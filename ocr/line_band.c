#include "line_band.h"

#include <leptonica/allheaders.h>
#include <stdbool.h>
#include <stdlib.h>

/* Ink darker than this is looked at; lighter ink is the print's
 * anti-aliased edges. */
#define BAND_INK 128
/* A column of ink this share of the band high is no letter of the line:
 * the line's own glyphs, marks and tails included, stay inside the band,
 * which is the line with a small margin. */
#define BAND_RULE_SHARE 0.85
/* How far a frame's stroke may wander across the band, in pixels: a
 * stroke turned 3° runs 4 px sideways over a 300 dpi line. */
#define BAND_RULE_SLANT 7
/* A row's run of ink at most this wide is the frame's stroke alone; a
 * wider one is a glyph the stroke crosses. */
#define BAND_RULE_MAX_W 6
/* A row's run is on the fitted stroke when its centre is this near, in
 * pixels (a photocopied edge is ragged by a pixel). */
#define BAND_RULE_FIT 1.5

/* Rows of y0..y1 (exclusive) of `bin` with ink within `half` pixels of the
 * line x = at0 + slope * (y - yref). */
static int rows_on(PIX *bin, int y0, int y1, double at0, double slope, int yref, int half)
{
    int w = pixGetWidth(bin), n = 0;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < pixGetHeight(bin); y++) {
        double c = at0 + slope * (y - yref);
        bool ink = false;
        for (int x = (int)(c - half + 0.5); x <= (int)(c + half + 0.5) && !ink; x++) {
            l_uint32 v = 0;
            if (x >= 0 && x < w)
                pixGetPixel(bin, x, y, &v);
            ink = v != 0;
        }
        n += ink;
    }
    return n;
}

/* The frame's stroke in the upright stripe `stripe` of `bin` (columns
 * x0..x1), fitted as a straight line from the rows where it runs alone,
 * is drawn into `out` at its own width: where it crosses a glyph, only the
 * glyph's pixels under the stroke go with it. `win` is the band with a
 * band's height of the page above and below, the band at row `top`. */
static void take_stroke(PIX *bin, PIX *win, int top, int x0, int x1, PIX *out)
{
    int w = pixGetWidth(bin), h = pixGetHeight(bin);
    int *centre2 = malloc(sizeof *centre2 * (size_t)h); /* twice the centre; -1: none */
    if (!centre2)
        return;
    double sy = 0, sc = 0, syy = 0, syc = 0, n = 0, wsum = 0;
    for (int y = 0; y < h; y++) {
        int first = -1, last = -1, runs = 0;
        centre2[y] = -1;
        for (int x = x0; x <= x1; x++) {
            l_uint32 v;
            pixGetPixel(bin, x, y, &v);
            if (!v)
                continue;
            runs += last != x - 1 || first < 0;
            first = first < 0 ? x : first;
            last = x;
        }
        if (runs != 1 || last - first + 1 > BAND_RULE_MAX_W)
            continue;
        centre2[y] = first + last;
        double c = (first + last) / 2.0;
        sy += y;
        sc += c;
        syy += (double)y * y;
        syc += (double)y * c;
        wsum += last - first + 1;
        n++;
    }
    double den = n * syy - sy * sy;
    double slope = den > 0 ? (n * syc - sy * sc) / den : 0;
    double at0 = n > 0 ? (sc - slope * sy) / n : 0;
    int half = n > 0 ? (int)(wsum / n / 2.0 + 1.5) : 0;
    /* a frame's side is one straight stroke: most rows alone on the line,
     * ink on it in nearly every row, and on past the band by a band's
     * height at least, above or below (the side is 35 mm long); glyphs
     * of three lines stacked (a tail, a digit, a capital of the stamp's
     * line) are not */
    int on_line = 0;
    for (int y = 0; y < h; y++) {
        double off = centre2[y] / 2.0 - (at0 + slope * y);
        on_line += centre2[y] >= 0 && off < BAND_RULE_FIT && -off < BAND_RULE_FIT;
    }
    free(centre2);
    int inked = rows_on(win, top, top + h, at0, slope, top, half);
    int above = rows_on(win, top - h, top, at0, slope, top, half);
    int below = rows_on(win, top + h, top + 2 * h, at0, slope, top, half);
    bool beyond = (top >= h && above >= h * 9 / 10) ||
                  (top + 2 * h <= pixGetHeight(win) && below >= h * 9 / 10);
    if (on_line * 2 < h || inked < h * 9 / 10 || !beyond)
        return; /* no frame's side: the stripe is left as it is */
    for (int y = 0; y < h; y++) {
        int c = (int)(at0 + slope * y + 0.5);
        for (int x = c - half; x <= c + half; x++)
            if (x >= 0 && x < w)
                pixSetPixel(out, x, y, 1);
    }
}

/* Upright strokes as high as the band: a frame's sides. */
static PIX *band_rules(PIX *bin, PIX *win, int top)
{
    int h = pixGetHeight(bin);
    /* a stamp's frame stands a few degrees off the page's lines: its
     * strokes, widened, are upright columns again */
    PIX *wide = pixDilateBrick(NULL, bin, BAND_RULE_SLANT, 1);
    PIX *tall = wide ? pixOpenBrick(NULL, wide, 1, (int)(BAND_RULE_SHARE * h)) : NULL;
    BOXA *stripes = tall ? pixConnComp(tall, NULL, 8) : NULL;
    PIX *out = stripes ? pixCreateTemplate(bin) : NULL;
    for (int i = 0; out && i < boxaGetCount(stripes); i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(stripes, i, &bx, &by, &bw, &bh);
        take_stroke(bin, win, top, bx, bx + bw - 1, out);
    }
    boxaDestroy(&stripes);
    pixDestroy(&tall);
    pixDestroy(&wide);
    return out;
}

/* Ink of the 1 bpp band `bin` to be taken out: the frame's upright
 * strokes, and the pieces of other lines that the band's top or bottom
 * edge cut through without reaching the band's middle. */
static PIX *band_foreign_ink(PIX *bin, PIX *win, int top)
{
    int h = pixGetHeight(bin);
    PIX *out = band_rules(bin, win, top);
    PIX *rest = out ? pixSubtract(NULL, bin, out) : NULL;
    PIXA *parts = NULL;
    BOXA *boxes = rest ? pixConnComp(rest, &parts, 8) : NULL;
    if (!boxes)
        pixDestroy(&out);
    for (int i = 0; out && i < boxaGetCount(boxes); i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxes, i, &bx, &by, &bw, &bh);
        bool from_above = by == 0 && by + bh < h * 9 / 20;
        bool from_below = by + bh >= h && by > h * 11 / 20;
        if (!from_above && !from_below)
            continue;
        PIX *part = pixaGetPix(parts, i, L_CLONE);
        if (part)
            pixRasterop(out, bx, by, bw, bh, PIX_SRC | PIX_DST, part, 0, 0);
        pixDestroy(&part);
    }
    boxaDestroy(&boxes);
    pixaDestroy(&parts);
    pixDestroy(&rest);
    return out;
}

/* 1 bpp ink of the rectangle x0,y0-x1,y1 of `gray`. */
static PIX *ink_of(PIX *gray, int x0, int y0, int x1, int y1)
{
    BOX *box = boxCreate(x0, y0, x1 - x0, y1 - y0);
    PIX *part = box ? pixClipRectangle(gray, box, NULL) : NULL;
    PIX *bin = part ? pixThresholdToBinary(part, BAND_INK) : NULL;
    boxDestroy(&box);
    pixDestroy(&part);
    return bin;
}

struct Pix *line_band_cut(struct Pix *gray, int x0, int y0, int x1, int y1)
{
    if (!gray || pixGetDepth(gray) != 8 || x1 <= x0 || y1 <= y0)
        return NULL;
    int h = y1 - y0;
    int wy0 = y0 - h > 0 ? y0 - h : 0;
    int wy1 = y1 + h < pixGetHeight(gray) ? y1 + h : pixGetHeight(gray);
    BOX *box = boxCreate(x0, y0, x1 - x0, h);
    PIX *band = box ? pixClipRectangle(gray, box, NULL) : NULL;
    boxDestroy(&box);
    PIX *bin = band ? ink_of(gray, x0, y0, x1, y1) : NULL;
    PIX *win = bin ? ink_of(gray, x0, wy0, x1, wy1) : NULL;
    PIX *foreign = win ? band_foreign_ink(bin, win, y0 - wy0) : NULL;
    if (!foreign || pixSetMasked(band, foreign, 255) != 0)
        pixDestroy(&band);
    pixDestroy(&foreign);
    pixDestroy(&win);
    pixDestroy(&bin);
    return band;
}
