/* hand.c — see hand.h. */
#include "hand.h"

#include <leptonica/allheaders.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/log.h"
#include "upright_rule.h"

/* Pen ink on a colour page: blue above the larger of red and green by this
 * much at least, and by 35% of the strongest blue in the blank (ballpoint
 * strokes are thin and lose colour at their edges). Blue ballpoint peaks
 * 60-100 above; black print and paper stay within about 15. */
#define PEN_MIN_BLUE 18
#define PEN_STRONG_BLUE 40
/* The pen's blue: above this share of its strongest (percent), and
 * above PEN_FAINT_SHARE for a faint outline's thin line. */
#define PEN_SHARE 35
#define PEN_FAINT_SHARE 20
/* Marks smaller than this in both directions are specks or the dots of a
 * dotted blank, not digits (mm). */
#define MIN_GLYPH_MM 1.2
/* A number or a day is not wider than this (mm). */
#define MAX_NUMBER_MM 35
/* Blank columns between the writing and the print it was read into (mm):
 * wider than the space between two printed letters. */
#define PRINT_GAP_MM 0.4
/* Height the writing is scaled to for reading (pixels), and the white
 * margin around it: Tesseract reads print of about this size best. */
static const int read_heights[] = {32, 40, 48};
#define NHEIGHTS (sizeof read_heights / sizeof read_heights[0])
/* each height as written and as sheared upright */
#define NREADS (2 * NHEIGHTS)
/* more glyphs than a number or a day has: the writing is not spelled */
#define MAX_GLYPHS 16
#define READ_MARGIN 12
/* Stroke width print of that height has, in pixels. */
#define MIN_STROKE 2.5f
#define MAX_STROKE 5.5f

static int mm_px(double mm, int dpi)
{
    return (int)lround(mm * dpi / 25.4);
}

/* 1 bpp mask of blue pen ink in a colour crop, or NULL when there is none. */
static PIX *blue_ink(PIX *crop, int share)
{
    int w = pixGetWidth(crop), h = pixGetHeight(crop), wpl = pixGetWpl(crop);
    l_uint32 *data = pixGetData(crop);
    int hist[256] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            l_int32 r, g, b;
            extractRGBValues(data[y * wpl + x], &r, &g, &b);
            int v = b - (r > g ? r : g);
            hist[v > 0 ? v : 0]++;
        }
    /* the strongest blue: what is above all but the last 0.2% */
    long seen = 0, top = (long)w * h / 500;
    int peak = 255;
    while (peak > 0 && seen + hist[peak] <= top)
        seen += hist[peak--];
    if (peak < PEN_STRONG_BLUE)
        return NULL;
    int t = peak * share / 100 > PEN_MIN_BLUE ? peak * share / 100 : PEN_MIN_BLUE;
    PIX *m = pixCreate(w, h, 1);
    if (!m)
        return NULL;
    l_uint32 *md = pixGetData(m);
    int mwpl = pixGetWpl(m);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            l_int32 r, g, b;
            extractRGBValues(data[y * wpl + x], &r, &g, &b);
            if (b - (r > g ? r : g) > t)
                SET_DATA_BIT(md + y * mwpl, x);
        }
    return m;
}

/* The darkest ink of the gray `gray` (its 0.5% rank) and its paper (the
 * 70% rank: a blank is mostly paper); false without a histogram. */
static bool ink_and_paper(PIX *gray, l_float32 *ink, l_float32 *paper)
{
    NUMA *na = pixGetGrayHistogram(gray, 1);
    bool ok = na && numaHistogramGetValFromRank(na, 0.005f, ink) == 0 &&
              numaHistogramGetValFromRank(na, 0.7f, paper) == 0;
    numaDestroy(&na);
    return ok;
}

/* 1 bpp mask of ink darker than halfway from the ink to the paper of a
 * gray crop, or NULL when there is no contrast. */
static PIX *dark_ink(PIX *gray)
{
    l_float32 ink = 0, paper = 0;
    if (!ink_and_paper(gray, &ink, &paper) || paper - ink < 60)
        return NULL;
    return pixThresholdToBinary(gray, (int)((ink + paper) / 2));
}

/* A pen's thin outline on a colour scan: the JPEG keeps colour at half
 * the resolution of brightness, so a line a pixel or two wide loses most
 * of its blue and the blue mask breaks it into pieces, while its
 * darkness is still whole. The ink is what is darker than the paper by a
 * quarter of the way to the darkest ink, near (PEN_NEAR_MM) the pen's
 * blue: print standing nearby stays out. NULL when there is no blue. */
#define PEN_NEAR_MM 0.5
/* least difference between ink and paper that is ink at all */
#define ANY_INK_MARGIN 25

/* Clears from `mask` the red of a stamp in `crop` (red above green and
 * blue by PEN_MIN_BLUE): a stamp's letters the pen wrote over are as
 * dark as its line. Where the pen crossed them the ink is purple, as
 * blue as it is red, and stays. */
static void drop_red(PIX *mask, PIX *crop)
{
    int w = pixGetWidth(mask), h = pixGetHeight(mask);
    l_uint32 *md = pixGetData(mask), *cd = pixGetData(crop);
    int mwpl = pixGetWpl(mask), cwpl = pixGetWpl(crop);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!GET_DATA_BIT(md + y * mwpl, x))
                continue;
            l_int32 r, g, b;
            extractRGBValues(cd[y * cwpl + x], &r, &g, &b);
            if (r - (g > b ? g : b) > PEN_MIN_BLUE)
                CLEAR_DATA_BIT(md + y * mwpl, x);
        }
}

static PIX *faint_pen_ink(PIX *crop, int dpi)
{
    PIX *blue = blue_ink(crop, PEN_FAINT_SHARE);
    PIX *g = blue ? pixConvertRGBToLuminance(crop) : NULL;
    NUMA *na = g ? pixGetGrayHistogram(g, 1) : NULL;
    PIX *out = NULL;
    if (na) {
        l_float32 ink = 0, paper = 0;
        numaHistogramGetValFromRank(na, 0.005f, &ink);
        numaHistogramGetValFromRank(na, 0.7f, &paper);
        int near = 2 * mm_px(PEN_NEAR_MM, dpi) + 1;
        PIX *around = paper - ink > ANY_INK_MARGIN ? pixDilateBrick(NULL, blue, near, near) : NULL;
        out = around ? pixThresholdToBinary(g, (int)(paper - (paper - ink) / 4)) : NULL;
        if (out) {
            pixAnd(out, out, around);
            drop_red(out, crop);
        }
        pixDestroy(&around);
    }
    numaDestroy(&na);
    pixDestroy(&g);
    pixDestroy(&blue);
    return out;
}

/* Keeps the components that can be digits: not specks or dots, not a
 * rule, not cut by the top or bottom of the blank (a neighbour line's
 * letters) unless across row `line_mid` of the crop (the printed line's
 * middle, or -1: a pen's long stroke on its own line that runs out of the
 * blank, which a neighbour line's letters never reach), and, when `cross`,
 * across that row (the number written on the line reaches there, a
 * stamp's own writing above it does not) and not up from above row
 * `top_y` (a stamp's frame the pen's stroke ran into). A digit the
 * stamp's letters or frame crossed may have lost its part at that row
 * (where the pen ran over red its ink is no longer blue; where the
 * frame's side was taken out, the digit lost that much): a piece that
 * reaches within MID_REACH_MM of it still counts. The stamp's own writing
 * stands a line's half height and more away. */
#define MID_REACH_MM 0.6

static PIX *digit_parts(PIX *mask, int dpi, int line_mid, bool cross, int top_y)
{
    BOXA *boxa = NULL;
    PIXA *pixa = NULL;
    boxa = pixConnComp(mask, &pixa, 8);
    PIX *keep = pixCreateTemplate(mask);
    if (!boxa || !pixa || !keep) {
        boxaDestroy(&boxa);
        pixaDestroy(&pixa);
        pixDestroy(&keep);
        return NULL;
    }
    int min = mm_px(MIN_GLYPH_MM, dpi), h = pixGetHeight(mask), n = boxaGetCount(boxa);
    int reach = mm_px(MID_REACH_MM, dpi);
    for (int i = 0; i < n; i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
        if (bw < min && bh < min)
            continue;
        bool across = line_mid >= 0 && by <= line_mid && by + bh >= line_mid;
        if ((by == 0 || by + bh >= h) && !across)
            continue;
        if (bw > 6 * bh)
            continue;
        bool near = line_mid >= 0 && by <= line_mid + reach && by + bh >= line_mid - reach;
        if (cross && (!near || by < top_y))
            continue;
        PIX *part = pixaGetPix(pixa, i, L_CLONE);
        pixRasterop(keep, bx, by, bw, bh, PIX_SRC | PIX_DST, part, 0, 0);
        pixDestroy(&part);
    }
    boxaDestroy(&boxa);
    pixaDestroy(&pixa);
    return keep;
}

/* Clears, in `ink`, what stands left of the group of ink that ends at its
 * right: a run of columns with no gap wider than `gap`. A number's blank
 * found from its notation alone reaches over the "Số:" the OCR lost,
 * print that the digits-only reading would take for a 6; the writing is
 * the ink next to the notation, set off from the label by the blank. */
static void keep_right_group(PIX *ink, int gap)
{
    NUMA *cols = pixCountPixelsByColumn(ink);
    if (!cols)
        return;
    int w = pixGetWidth(ink), x = w - 1, empty = 0;
    l_float32 v = 0;
    while (x >= 0 && (numaGetFValue(cols, x, &v), v == 0))
        x--;
    for (; x >= 0; x--) {
        numaGetFValue(cols, x, &v);
        empty = v == 0 ? empty + 1 : 0;
        if (empty > gap)
            break;
    }
    numaDestroy(&cols);
    if (x >= 0)
        pixRasterop(ink, 0, 0, x + empty, pixGetHeight(ink), PIX_CLR, NULL, 0, 0);
}

/* Writing drawn in outline (hollow numerals, a pen going round each
 * stroke) is read as print only once its strokes are solid. The room
 * between a stroke's two edges is a hole in the ink, as a digit's counter
 * is; it is told from the counter by its shape. A counter is a round or
 * oval room, filling most of its bounding box; a stroke's room is a band
 * that winds along the glyph, filling under OUTLINE_BAND_FILL of it, or
 * goes round the counter's own edge (it then encloses ink). Bands are
 * filled in place, counters stay open. */
#define OUTLINE_BAND_FILL 0.45
#define OUTLINE_MIN_AREA 12

static void fill_outlines(PIX *mask)
{
    PIX *holes = pixHolesByFilling(mask, 4);
    PIXA *pixa = NULL;
    BOXA *boxa = holes ? pixConnComp(holes, &pixa, 4) : NULL;
    int n = boxa ? boxaGetCount(boxa) : 0;
    for (int i = 0; i < n && pixa; i++) {
        l_int32 bx, by, bw, bh, area = 0, inside = 0;
        boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
        PIX *hole = pixaGetPix(pixa, i, L_CLONE);
        if (hole)
            pixCountPixels(hole, &area, NULL);
        if (!hole || area < OUTLINE_MIN_AREA) {
            pixDestroy(&hole);
            continue;
        }
        /* the ink the hole goes round: what its filled outline adds,
         * where the mask has ink */
        PIX *whole = pixFillClosedBorders(hole, 4);
        if (whole) {
            pixXor(whole, whole, hole);
            pixRasterop(whole, 0, 0, bw, bh, PIX_SRC & PIX_DST, mask, bx, by);
            pixCountPixels(whole, &inside, NULL);
        }
        pixDestroy(&whole);
        if (inside > 0 || (double)area < OUTLINE_BAND_FILL * bw * bh)
            pixRasterop(mask, bx, by, bw, bh, PIX_SRC | PIX_DST, hole, 0, 0);
        pixDestroy(&hole);
    }
    boxaDestroy(&boxa);
    pixaDestroy(&pixa);
    pixDestroy(&holes);
}

/* The mask without a stamp's frame: straight runs of ink longer than a
 * digit's bar across (RULE_ACROSS_MM, gaps of a copied line bridged) or
 * than a digit is tall down (RULE_DOWN_MM, or four fifths of the blank's
 * height where that is less: no digit is so tall) are taken out; where
 * the frame crosses a digit, the digit loses that much and is still
 * read. */
#define RULE_ACROSS_MM 4.5
#define RULE_DOWN_MM 9.0

static PIX *without_rules(PIX *mask, int dpi)
{
    PIX *bridged = pixCloseSafeBrick(NULL, mask, 5, 1);
    PIX *across = bridged ? pixOpenBrick(NULL, bridged, mm_px(RULE_ACROSS_MM, dpi), 1) : NULL;
    pixDestroy(&bridged);
    int tall = mm_px(RULE_DOWN_MM, dpi), most = pixGetHeight(mask) * 4 / 5;
    PIX *down = pixOpenBrick(NULL, mask, 1, tall < most ? tall : most);
    PIX *out = pixCopy(NULL, mask);
    if (!across || !down || !out) {
        pixDestroy(&across);
        pixDestroy(&down);
        pixDestroy(&out);
        return NULL;
    }
    pixSubtract(out, out, across);
    pixSubtract(out, out, down);
    pixDestroy(&across);
    pixDestroy(&down);
    return out;
}

/* Ink of any colour a little darker than the paper of `crop`: a stamp's
 * frame shows in it whether red, blue or gray. NULL when the crop is
 * blank. */
static PIX *any_ink(PIX *crop)
{
    PIX *g = pixGetDepth(crop) == 32 ? pixConvertRGBToLuminance(crop) : pixClone(crop);
    NUMA *na = g ? pixGetGrayHistogram(g, 1) : NULL;
    l_float32 ink = 0, paper = 0;
    if (na) {
        numaHistogramGetValFromRank(na, 0.005f, &ink);
        numaHistogramGetValFromRank(na, 0.7f, &paper);
    }
    numaDestroy(&na);
    int margin = (int)(paper - ink) / 5 > ANY_INK_MARGIN ? (int)(paper - ink) / 5 : ANY_INK_MARGIN;
    PIX *m = g && paper - ink > ANY_INK_MARGIN ? pixThresholdToBinary(g, (int)paper - margin) : NULL;
    pixDestroy(&g);
    return m;
}

/* Takes out of the pen's `mask` the upright rules that stand through the
 * whole of `crop` (upright_rule.h): no digit is that tall. */
#define RULE_MAX 4
#define RULE_REACH_MM 0.8

static void drop_upright_rules(PIX *crop, PIX *mask, int dpi)
{
    PIX *all = any_ink(crop);
    if (!all)
        return;
    int tall = mm_px(RULE_DOWN_MM, dpi), most = pixGetHeight(mask) * 4 / 5;
    upright_rule rules[RULE_MAX];
    size_t n = upright_rules_find(all, tall < most ? tall : most, rules, RULE_MAX);
    pixDestroy(&all);
    upright_rules_erase(mask, rules, n, mm_px(RULE_REACH_MM, dpi));
}

/* Handwriting leans; print does not. Shears the writing upright: the
 * slant that makes the columns of ink the most concentrated. */
static PIX *upright(PIX *ink)
{
    int h = pixGetHeight(ink), pad = h / 2 + 2;
    PIX *wide = pixAddBorderGeneral(ink, pad, pad, 0, 0, 0);
    if (!wide)
        return NULL;
    PIX *best = NULL;
    double best_score = -1;
    for (int k = -4; k <= 4; k++) {
        float angle = atanf(0.1f * (float)k);
        PIX *s = k ? pixHShear(NULL, wide, h - 1, angle, L_BRING_IN_WHITE) : pixClone(wide);
        NUMA *cols = s ? pixCountPixelsByColumn(s) : NULL;
        double score = 0;
        for (int i = 0; cols && i < numaGetCount(cols); i++) {
            l_float32 v;
            numaGetFValue(cols, i, &v);
            score += (double)v * v;
        }
        numaDestroy(&cols);
        if (s && score > best_score) {
            pixDestroy(&best);
            best = s;
            best_score = score;
        } else {
            pixDestroy(&s);
        }
    }
    pixDestroy(&wide);
    return best;
}

/* Mean stroke width of a mask in pixels: twice its area over its
 * boundary (a stroke w wide and L long has area wL and about 2L of edge). */
static float stroke_width(PIX *bin)
{
    l_int32 area = 0, inner = 0;
    PIX *er = pixErodeBrick(NULL, bin, 3, 3);
    pixCountPixels(bin, &area, NULL);
    if (er)
        pixCountPixels(er, &inner, NULL);
    pixDestroy(&er);
    return area > inner ? 2.0f * (float)area / (float)(area - inner) : 0.0f;
}

/* The writing as Tesseract reads print best: black on white, `height`
 * high, strokes thickened to print's weight, in a white margin. */
static PIX *normalise(PIX *ink, int height)
{
    BOX *bb = NULL;
    if (pixClipToForeground(ink, NULL, &bb) != 0 || !bb)
        return NULL;
    PIX *tight = pixClipRectangle(ink, bb, NULL);
    l_int32 bh;
    boxGetGeometry(bb, NULL, NULL, NULL, &bh);
    boxDestroy(&bb);
    PIX *g8 = tight ? pixConvert1To8(NULL, tight, 255, 0) : NULL;
    pixDestroy(&tight);
    float s = (float)height / (float)(bh > 0 ? bh : 1);
    PIX *scaled = g8 ? (s < 0.7f ? pixScaleAreaMap(g8, s, s) : pixScaleGrayLI(g8, s, s)) : NULL;
    pixDestroy(&g8);
    PIX *bin = scaled ? pixThresholdToBinary(scaled, 128) : NULL;
    pixDestroy(&scaled);
    /* a fine pen is thickened, a felt tip thinned, to print's weight */
    float sw = bin ? stroke_width(bin) : 0;
    PIX *weighted = NULL;
    if (bin && sw < MIN_STROKE)
        weighted = pixDilateBrick(NULL, bin, 3, 3);
    else if (bin && sw > MAX_STROKE)
        weighted = pixErodeBrick(NULL, bin, 3, 3);
    else if (bin)
        weighted = pixClone(bin);
    pixDestroy(&bin);
    PIX *out = weighted ? pixAddBorder(weighted, READ_MARGIN, 0) : NULL;
    pixDestroy(&weighted);
    return out;
}

/* A pen's "1" is often a bare straight stroke, with no flag or foot for
 * the engine to know it by: it is dropped or read as "/". A glyph is such
 * a stroke when its ink lies along one line (the spread across its main
 * axis under a third of the spread along it: a pen's 1 bends a little, a
 * 7's bar or a 2's foot takes it over half) and steep (within 35° of
 * upright). */
#define STROKE_SPREAD 3.0
#define STROKE_STEEP 35.0

static bool straight_stroke(PIX *ink, const BOX *g)
{
    PIX *part = pixClipRectangle(ink, (BOX *)g, NULL);
    if (!part)
        return false;
    int w = pixGetWidth(part), h = pixGetHeight(part), wpl = pixGetWpl(part);
    l_uint32 *data = pixGetData(part);
    double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (GET_DATA_BIT(data + y * wpl, x)) {
                n++;
                sx += x;
                sy += y;
                sxx += (double)x * x;
                syy += (double)y * y;
                sxy += (double)x * y;
            }
    pixDestroy(&part);
    if (n < 10)
        return false;
    double vx = sxx / n - (sx / n) * (sx / n), vy = syy / n - (sy / n) * (sy / n);
    double cxy = sxy / n - (sx / n) * (sy / n);
    /* the covariance's eigenvalues: the spreads along and across */
    double mean = (vx + vy) / 2, d = sqrt((vx - vy) * (vx - vy) / 4 + cxy * cxy);
    double along = mean + d, across = mean - d;
    if (across < 0.25)
        across = 0.25;
    double lean = fabs(0.5 * atan2(2 * cxy, vy - vx)) * 180.0 / M_PI;
    return along > STROKE_SPREAD * STROKE_SPREAD * across && lean < STROKE_STEEP;
}

/* The writing's glyphs, left to right: its pieces, those that share most
 * of their columns merged (a 5's flag, a 4 written in two strokes), those
 * under half as tall as the tallest dropped (dots, a stray tick; a
 * script 8 stands far above the digits beside it). */
static BOXA *glyphs(PIX *ink)
{
    BOXA *parts = pixConnComp(ink, NULL, 8);
    BOXA *sorted = parts ? boxaSort(parts, L_SORT_BY_X, L_SORT_INCREASING, NULL) : NULL;
    boxaDestroy(&parts);
    BOXA *out = boxaCreate(8);
    int n = sorted ? boxaGetCount(sorted) : 0, tallest = 0;
    for (int i = 0; i < n && out; i++) {
        BOX *b = boxaGetBox(sorted, i, L_COPY);
        int last = boxaGetCount(out) - 1;
        BOX *prev = last >= 0 ? boxaGetBox(out, last, L_CLONE) : NULL;
        l_int32 bx, bw, px = 0, pw = 0;
        boxGetGeometry(b, &bx, NULL, &bw, NULL);
        if (prev)
            boxGetGeometry(prev, &px, NULL, &pw, NULL);
        int shared = (px + pw < bx + bw ? px + pw : bx + bw) - bx;
        if (prev && 2 * shared > (bw < pw ? bw : pw)) {
            BOX *u = boxBoundingRegion(prev, b);
            boxaReplaceBox(out, last, u);
            boxDestroy(&b);
        } else {
            boxaAddBox(out, b, L_INSERT);
        }
        boxDestroy(&prev);
    }
    boxaDestroy(&sorted);
    for (int i = 0; out && i < boxaGetCount(out); i++) {
        l_int32 bh;
        boxaGetBoxGeometry(out, i, NULL, NULL, NULL, &bh);
        tallest = bh > tallest ? bh : tallest;
    }
    for (int i = out ? boxaGetCount(out) : 0; i-- > 0;) {
        l_int32 bh;
        boxaGetBoxGeometry(out, i, NULL, NULL, NULL, &bh);
        if (2 * bh < tallest)
            boxaRemoveBox(out, i);
    }
    return out;
}

/* What the vote needs to know of the writing's shape: how many glyphs it
 * has, and which of them are bare strokes. It depends on the ink only, so
 * it is worked out once per ink and shared by all the readings of it. */
typedef struct {
    int count;      /* glyphs, left to right; > MAX_GLYPHS: too many to spell */
    bool stroke[MAX_GLYPHS];
    int strokes;
} ink_shape;

/* A number's last glyph, a bare stroke under SEP_SHARE of the tallest
 * glyph's height, is the notation's printed "/" left in the blank (print
 * is shorter than the writing), not a 1. */
#define SEP_SHARE 0.75

static ink_shape shape_of(PIX *ink, bool number)
{
    ink_shape s = {0};
    BOXA *g = glyphs(ink);
    s.count = g ? boxaGetCount(g) : 0;
    int tallest = 0, last_h = 0;
    for (int i = 0; i < s.count && s.count <= MAX_GLYPHS; i++) {
        BOX *b = boxaGetBox(g, i, L_CLONE);
        s.stroke[i] = b && straight_stroke(ink, b);
        s.strokes += s.stroke[i];
        l_int32 bh = 0;
        if (b)
            boxGetGeometry(b, NULL, NULL, NULL, &bh);
        tallest = bh > tallest ? bh : tallest;
        last_h = bh;
        boxDestroy(&b);
    }
    boxaDestroy(&g);
    if (number && s.count >= 2 && s.count <= MAX_GLYPHS && s.stroke[s.count - 1] &&
        last_h < SEP_SHARE * tallest) {
        s.count--;
        s.strokes--;
    }
    return s;
}

/* The engine's reading `read` with the bare strokes it skipped put back
 * as 1s: when the writing has as many other glyphs as `read` has digits
 * and at least one stroke, the glyphs are spelled left to right, a stroke
 * as 1, the others by `read` in order. The engine may also have read some
 * of the strokes and dropped the others ("1" for a month's 11): when the
 * other glyphs are as many as the digits of `read` that are not 1, and
 * the strokes at least as many as its 1s, the strokes are the 1s and the
 * others take its other digits in order. False (and `out` untouched) when
 * the counts do not say so. */
static bool strokes_as_ones(const ink_shape *s, const char *read, char *out, size_t n)
{
    size_t len = strlen(read), ones = 0;
    for (size_t i = 0; i < len; i++)
        ones += read[i] == '1';
    if (s->count > MAX_GLYPHS || s->strokes == 0 || (size_t)s->count >= n)
        return false;
    bool all_dropped = (size_t)(s->count - s->strokes) == len;
    bool some_read = !all_dropped && ones > 0 && ones <= (size_t)s->strokes &&
                     (size_t)(s->count - s->strokes) == len - ones;
    if (!all_dropped && !some_read)
        return false;
    for (int i = 0, k = 0; i < s->count; i++) {
        while (some_read && read[k] == '1')
            k++;
        out[i] = s->stroke[i] ? '1' : read[k++];
    }
    out[s->count] = '\0';
    return true;
}

/* Clears, in `mask`, everything from the first run of at least `gap`
 * blank columns between columns `from` and `until` on: the print the
 * writing ran into. False (nothing cleared) when there is no such gap:
 * the writing touches the print, and the gaps further on are the print's
 * own. */
static bool cut_at_gap(PIX *mask, int from, int until, int gap)
{
    int w = pixGetWidth(mask), h = pixGetHeight(mask);
    NUMA *cols = pixCountPixelsByColumn(mask);
    if (!cols || from < 0)
        from = w;
    int run = 0, x = from;
    for (; x < w && x < until + gap && run < gap; x++) {
        l_float32 v = 0;
        numaGetFValue(cols, x, &v);
        run = v > 0 ? 0 : run + 1;
    }
    numaDestroy(&cols);
    if (run < gap)
        return false;
    pixRasterop(mask, x - gap, 0, w - (x - gap), h, PIX_CLR, NULL, 0, 0);
    return true;
}

/* On a gray page the pen scans lighter than black print (cores 65-115
 * against 10-50 on the corpus's gray pages): print's cores are darker
 * than PRINT_CORE_SHARE of the way from the crop's darkest ink to its
 * paper, and the pen's are not. */
#define PRINT_CORE_SHARE 0.08

/* Clears, in `mask` (the dark ink of the gray `crop`), everything from
 * the first column holding print's core on: the print the writing ran
 * into, however close the pen came to it. False (nothing cleared) when
 * that column is the first of the ink (the pen as dark as print, or a
 * bitonal page) or lies further than `slack` from `from`, where the
 * word's reading puts the print: the level does not tell the pen from
 * the print there. */
static bool cut_at_print(PIX *mask, PIX *crop, int from, int slack)
{
    l_float32 ink = 0, paper = 0;
    if (pixGetDepth(crop) != 8 || !ink_and_paper(crop, &ink, &paper))
        return false;
    int core = (int)(ink + (paper - ink) * PRINT_CORE_SHARE);
    int w = pixGetWidth(crop), h = pixGetHeight(crop), wpl = pixGetWpl(crop);
    const l_uint32 *data = pixGetData(crop);
    int first_ink = -1, print = -1;
    for (int x = 0; x < w && print < 0; x++)
        for (int y = 0; y < h; y++) {
            l_uint32 on = 0;
            pixGetPixel(mask, x, y, &on);
            if (!on)
                continue;
            first_ink = first_ink < 0 ? x : first_ink;
            if (GET_DATA_BYTE(data + (long)y * wpl, x) <= core) {
                print = x;
                break;
            }
        }
    if (print <= first_ink || print < from - slack || print > from + slack)
        return false;
    pixRasterop(mask, print, 0, w - print, h, PIX_CLR, NULL, 0, 0);
    return true;
}

/* The pen's ink in `crop` (the slot's box, its top at page row y0), kept
 * to what can be its digits. `faint` takes the pen's blue down to a
 * fainter share of its strongest and fills outlined strokes instead of
 * closing them: hollow numerals drawn in a thin line, which the usual
 * threshold breaks into pieces. NULL when there is no such ink (a faint
 * reading is only made of a pen's colour). */
static PIX *slot_ink(PIX *crop, int dpi, const hand_slot *slot, int x0, int y0, bool faint)
{
    PIX *mask = NULL;
    if (pixGetDepth(crop) == 32)
        mask = faint ? faint_pen_ink(crop, dpi) : blue_ink(crop, PEN_SHARE);
    /* no pen colour: black ink counts only between two pieces of print,
     * or up to the gap before the print the writing was read into */
    if (!mask && (slot->bounded || slot->print_x > 0) && !faint) {
        PIX *g = pixGetDepth(crop) == 32 ? pixConvertRGBToLuminance(crop) : pixClone(crop);
        mask = g ? dark_ink(g) : NULL;
        pixDestroy(&g);
        /* writing is wider than the characters it was read as: its end
         * is further right than the word's reading puts it, by up to
         * about a line's height and a half (a digit's width more for
         * each of two or three) */
        int from = slot->print_x - x0, line = slot->line_y1 - slot->line_y0;
        if (mask && !slot->bounded && !cut_at_print(mask, crop, from, line) &&
            !cut_at_gap(mask, from, from + 3 * line / 2, mm_px(PRINT_GAP_MM, dpi)))
            pixDestroy(&mask);
    }
    /* the ĐẾN stamp's side standing through the blank, in any ink: out of
     * the pen's mask, the strokes it crossed kept whole */
    if (mask)
        drop_upright_rules(crop, mask, dpi);
    /* a stamp's frame may run through the blank or beside it, in the
     * pen's own blue (the ĐẾN stamp's side next to the day's blank) */
    if (mask) {
        PIX *clean = without_rules(mask, dpi);
        pixDestroy(&mask);
        mask = clean;
    }
    if (mask && faint)
        fill_outlines(mask);
    /* broken strokes closed into solid ones (the loops of 0, 6, 8 and 9
     * are wider than this and stay open) */
    if (mask && !faint) {
        int k = dpi / 75 > 3 ? dpi / 75 : 3;
        PIX *closed = pixCloseSafeBrick(NULL, mask, k, k);
        pixDestroy(&mask);
        mask = closed;
    }
    int mid = (slot->line_y0 + slot->line_y1) / 2 - y0;
    int top = slot->line_y0 - (slot->line_y1 - slot->line_y0) - y0;
    if (slot->line_y1 <= slot->line_y0)
        mid = -1;
    else if (mid < 0)
        mid = 0;
    PIX *ink = mask ? digit_parts(mask, dpi, mid, slot->under_stamp, top) : NULL;
    pixDestroy(&mask);
    if (ink && slot->label_lost && slot->line_y1 > slot->line_y0)
        keep_right_group(ink, slot->line_y1 - slot->line_y0);
    /* no ink, or more than a number's width, or less than a digit's height */
    BOX *bb = NULL;
    l_int32 bw = 0, bh = 0;
    if (ink && pixClipToForeground(ink, NULL, &bb) == 0 && bb)
        boxGetGeometry(bb, NULL, NULL, &bw, &bh);
    boxDestroy(&bb);
    if (bw == 0 || bw > mm_px(MAX_NUMBER_MM, dpi) || bh < mm_px(2.0, dpi))
        pixDestroy(&ink);
    return ink;
}

/* Tesseract's answer on writing changes with the size it is shown at:
 * reads `ink` at a few print sizes, as written and sheared upright, into
 * reads[NREADS] and confs[NREADS]. */
static void read_sizes(ocr_engine *e, PIX *ink, char reads[][16], float *confs)
{
    PIX *up = upright(ink);
    for (size_t i = 0; i < NREADS; i++) {
        PIX *src = i < NHEIGHTS ? ink : up;
        PIX *img = src ? normalise(src, read_heights[i % NHEIGHTS]) : NULL;
        reads[i][0] = '\0';
        confs[i] = 0;
        if (img)
            ocr_read_digits(e, img, 300, reads[i], 16, &confs[i]);
        pixDestroy(&img);
    }
    pixDestroy(&up);
}

int hand_read_slot(ocr_engine *e, PIX *page, int dpi, const hand_slot *slot, ocr_word *out,
                   char *buf, size_t n)
{
    int pw = pixGetWidth(page), ph = pixGetHeight(page);
    int x0 = slot->box.x0 < 0 ? 0 : slot->box.x0, y0 = slot->box.y0 < 0 ? 0 : slot->box.y0;
    int x1 = slot->box.x1 > pw ? pw : slot->box.x1, y1 = slot->box.y1 > ph ? ph : slot->box.y1;
    if (x1 - x0 < 8 || y1 - y0 < 8 || dpi <= 0)
        return 0;
    BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
    PIX *crop = b ? pixClipRectangle(page, b, NULL) : NULL;
    boxDestroy(&b);
    if (!crop)
        return 0;
    /* the ink as a pen's usual line, and as a faint outline: the reads of
     * both are pooled, and what most of them agree on is taken (the most
     * confident of those) */
    PIX *inks[2] = {slot_ink(crop, dpi, slot, x0, y0, false), NULL};
    if (pixGetDepth(crop) == 32)
        inks[1] = slot_ink(crop, dpi, slot, x0, y0, true);
    pixDestroy(&crop);
    char reads[2 * NREADS][16];
    float confs[2 * NREADS];
    ink_shape shapes[2] = {{0}, {0}};
    size_t nreads = 0, glyph_count[2 * NREADS];
    for (size_t v = 0; v < 2; v++)
        if (inks[v]) {
            shapes[v] = shape_of(inks[v], slot->kind == HAND_NUMBER);
            read_sizes(e, inks[v], reads + nreads, confs + nreads);
            /* each reading with the bare strokes it skipped as 1s */
            for (size_t i = nreads; i < nreads + NREADS; i++) {
                char whole[16];
                if (reads[i][0] && strokes_as_ones(&shapes[v], reads[i], whole, sizeof whole))
                    strcpy(reads[i], whole);
                glyph_count[i] = (size_t)shapes[v].count;
            }
            nreads += NREADS;
        }
    /* The reading most of them agree on, the most confident of those. A
     * reading that spells every glyph of the writing, made twice at
     * least, comes before those that skip some (a script 8 the engine
     * leaves out more often than not). */
    int best = -1, best_votes = 0;
    bool best_whole = false;
    for (size_t i = 0; i < nreads; i++) {
        if (!reads[i][0])
            continue;
        int votes = 0;
        for (size_t j = 0; j < nreads; j++)
            votes += strcmp(reads[i], reads[j]) == 0;
        bool whole = votes >= 2 && strlen(reads[i]) == glyph_count[i];
        if (whole != best_whole ? whole
                                : votes > best_votes || (votes == best_votes && confs[i] > confs[best])) {
            best = (int)i;
            best_votes = votes;
            best_whole = whole;
        }
    }
    /* the ink the answer came from */
    size_t from = inks[0] && (best < (int)NREADS || !inks[1]) ? 0 : 1;
    PIX *ink = inks[from];
    int rc = 0;
    BOX *bb = NULL;
    if (!ink || pixClipToForeground(ink, NULL, &bb) != 0 || !bb)
        goto out;
    l_int32 bx, by, bw, bh;
    boxGetGeometry(bb, &bx, &by, &bw, &bh);
    boxDestroy(&bb);
    char whole[16];
    bool ones = strokes_as_ones(&shapes[from], best >= 0 ? reads[best] : "", whole, sizeof whole);
    if (ones && best < 0) {
        /* nothing but strokes: 1, 11 */
        best = 0;
        best_votes = (int)nreads / 2;
        confs[0] = 0.8f;
    }
    if (best >= 0 && strlen(ones ? whole : reads[best]) < n) {
        memset(out, 0, sizeof *out);
        strcpy(buf, ones ? whole : reads[best]);
        out->text = buf;
        /* a read the others do not share is a guess */
        out->conf = confs[best] * (float)best_votes / (float)nreads;
        out->hand = true;
        out->box = (ocr_box){x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh};
        /* a day or a month stands on the date line it is read for:
         * writing that rides high over the blank (or what is left of a
         * stamp's frame on it) must not move it to the line above, where
         * the number is. The number's own box stays the writing's: it
         * joins the "Số:" label to the notation printed after it, whose
         * slash and capitals make a taller box than the label's. */
        if (slot->line_y1 > slot->line_y0 && (slot->kind != HAND_NUMBER || slot->under_stamp)) {
            out->box.y0 = slot->line_y0;
            out->box.y1 = slot->line_y1;
        }
        /* under a stamp: half as sure */
        if (slot->under_stamp)
            out->conf *= 0.5f;
        rc = 1;
    }
out:
    pixDestroy(&inks[0]);
    pixDestroy(&inks[1]);
    return rc;
}

/* Byte offset of the print after the number in a word that runs the
 * writing into it ("Í68//SNV-VP" → "/SNV-VP"), looked for from about
 * where the writing ends; -1 when there is no separator there. */
static long print_start(const char *text, double written_share)
{
    size_t len = strlen(text);
    size_t from = (size_t)(written_share * (double)len);
    from = from > 2 ? from - 2 : 0;
    const char *s = strpbrk(text + from, "/-");
    if (!s)
        return -1;
    while (s[1] == '/' || s[1] == '-')
        s++;
    return s[1] ? s - text : -1;
}

/* Whether word box b stands on the slot's printed line (half a line's
 * height either side): the writing replaces only words of its own line,
 * never print on the line above that the blank's room reaches. */
static bool on_slot_line(const hand_slot *slot, const ocr_box *b)
{
    int cy = (b->y0 + b->y1) / 2;
    if (cy < slot->box.y0 || cy >= slot->box.y1)
        return false;
    int h = slot->line_y1 - slot->line_y0;
    return h <= 0 || (cy >= slot->line_y0 - h / 2 && cy <= slot->line_y1 + h / 2);
}

int hand_apply(ocr_page_text *pt, const hand_slot *slot, const ocr_word *w)
{
    /* first pass: decide, so that nothing changes when a word cannot be
     * matched */
    long cut_word = -1, cut_at = -1;
    const ocr_word *left = NULL;
    for (size_t i = 0; i < pt->nwords; i++) {
        const ocr_word *o = &pt->words[i];
        if (!on_slot_line(slot, &o->box))
            continue;
        if (o->box.x1 <= slot->box.x0 + 2 && (!left || o->box.x1 > left->box.x1))
            left = o;
        int ov = (o->box.x1 < w->box.x1 ? o->box.x1 : w->box.x1) -
                 (o->box.x0 > w->box.x0 ? o->box.x0 : w->box.x0);
        int ow = o->box.x1 - o->box.x0;
        if (ov <= 0 || 2 * ov >= ow)
            continue;
        /* straddling: only the number's word may run on into print */
        if (slot->kind != HAND_NUMBER || o->box.x1 <= w->box.x1 || cut_word >= 0)
            return 0;
        long at = print_start(o->text, (double)(w->box.x1 - o->box.x0) / ow);
        if (at < 0)
            return 0;
        cut_word = (long)i;
        cut_at = at;
    }
    ocr_word add = *w;
    if (left) {
        add.line = left->line;
        add.block = left->block;
        add.line_box = left->line_box;
        add.baseline = left->baseline;
    }
    if (cut_word >= 0) {
        ocr_word *o = &pt->words[cut_word];
        memmove(o->text, o->text + cut_at, strlen(o->text + cut_at) + 1);
        o->box.x0 = w->box.x1;
    }
    for (size_t i = pt->nwords; i-- > 0;) {
        const ocr_word *o = &pt->words[i];
        if (!on_slot_line(slot, &o->box) || (long)i == cut_word)
            continue;
        int ov = (o->box.x1 < w->box.x1 ? o->box.x1 : w->box.x1) -
                 (o->box.x0 > w->box.x0 ? o->box.x0 : w->box.x0);
        if (ov > 0 && 2 * ov >= o->box.x1 - o->box.x0)
            ocr_page_remove_word(pt, i);
    }
    return ocr_page_add_word(pt, &add) == 0 ? 1 : -1;
}

int hand_reread(ocr_engine *e, PIX *page, int dpi, const stamp_set *stamps, ocr_page_text *pt,
                sohoa_err *err)
{
    static const char *const names[] = {"number", "day", "month"};
    hand_slot slots[HAND_MAX_SLOTS];
    size_t n = extract_hand_slots(pt, slots);
    for (size_t i = 0; i < n; i++) {
        char digits[16];
        ocr_word w;
        /* under a ĐẾN stamp the clerk's own writing is near: only a blank
         * between two pieces of print is read, and only what crosses its
         * line */
        if (stamps && stamp_holds(stamps, &slots[i].box)) {
            if (!slots[i].bounded) {
                log_debug("handwritten %s: its blank is under the ĐẾN stamp", names[slots[i].kind]);
                continue;
            }
            slots[i].under_stamp = true;
        }
        if (hand_read_slot(e, page, dpi, &slots[i], &w, digits, sizeof digits) != 1) {
            log_debug("handwritten %s: nothing read in its blank", names[slots[i].kind]);
            continue;
        }
        int rc = hand_apply(pt, &slots[i], &w);
        if (rc < 0)
            return err_set(err, SOHOA_EWORK, "out of memory storing OCR words");
        log_debug("handwritten %s read as \"%s\" (confidence %.2f)%s", names[slots[i].kind], digits,
                  w.conf, rc ? "" : ", not matched to the page's words");
    }
    return 0;
}
