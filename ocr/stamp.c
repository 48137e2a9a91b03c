/* stamp.c — see stamp.h. */
#include "stamp.h"

#include <leptonica/allheaders.h>
#include <math.h>
#include <stdlib.h>

/* Coloured ink: its strongest channel above its weakest by this much once
 * the paper's tint is taken out. Stamp ink, even faded to 40%, stands 25
 * and more apart; black print on tinted paper and JPEG noise stay below
 * 20 (measured on the corpus and on beige paper). */
#define FRAME_COLOUR 20
/* Inside a frame, what is wiped: light pixels (one channel at PRINT_DARK
 * or above) of faint colour, and dark strokes most of whose pixels are of
 * clear colour (pen and stamp ink are 40 and more apart; print next to
 * them gets a cast of up to 20 from JPEG), but for their neutral pixels:
 * black print that the ink crosses. */
#define WIPE_FAINT_COLOUR 14
/* How far past a colour frame's found bounds its ink is wiped, in tenths
 * of a millimetre. */
#define WIPE_MARGIN_MM10 15
#define WIPE_COLOUR 30
#define PRINT_DARK 100
#define PRINT_NEUTRAL 10
/* The stamp is 50 × 35 mm (standards §5); turned up to about 5° its bounds
 * grow to 53 × 39 mm. Inked by hand it may print short or smudge. */
#define FRAME_MIN_W_MM 40.0
#define FRAME_MAX_W_MM 64.0
#define FRAME_MIN_H_MM 26.0
#define FRAME_MAX_H_MM 48.0
#define FRAME_MIN_ASPECT 1.15 /* a round seal is 1 */
#define FRAME_MAX_ASPECT 1.9
/* Black print crossing a frame's line cuts it for a stroke's width. */
#define LINE_GAP_MM 1.5
/* A line turned by 5° rises 0.09 mm per mm: thickened by this much it
 * keeps runs of LINE_PIECE_MM in every row. */
#define LINE_THICK_MM 0.8
#define LINE_PIECE_MM 8.0
/* How much a frame's line rises end to end (turned by up to 5°), plus
 * its thickening. */
#define LINE_MAX_RISE_MM 6.0
/* A frame's line is thinner than this across. */
#define LINE_MAX_THICK_MM 1.2
/* Where black print crosses a line, or the ink faded, a line may be found
 * in part: at least this long, and along this share of the other. */
#define LINE_MIN_MM 25.0
#define LINE_MIN_SHARED 0.6
#define LINE_JOIN_MM 5.0
/* A seal's arc bows by 0.7 mm and more at its outer edge (measured on
 * 40 mm seals); a frame's line by 0.35 mm at most. */
#define LINE_MAX_BOW_MM 0.6
#define MAX_LINES 16
#define MAX_PIECES 64
/* The clerk stamps under the number or the date (upper part of the page). */
#define SEARCH_SHARE 0.6

static int mm_px(double mm, int dpi)
{
    return (int)lround(mm * dpi / 25.4);
}

/* The paper's own tint, which a yellowed sheet or a scanner's colour cast
 * gives every pixel in proportion to its lightness: the median over the
 * region. */
typedef stamp_tint tint;

static int median_of(const long *hist, long total)
{
    long seen = 0;
    for (int i = 0; i < 511; i++)
        if ((seen += hist[i]) * 2 >= total)
            return i - 255;
    return 0;
}

static tint paper_tint(PIX *color, int h)
{
    long rg[511] = {0}, bg[511] = {0}, gl[511] = {0};
    int w = pixGetWidth(color), wpl = pixGetWpl(color);
    const l_uint32 *src = pixGetData(color);
    long total = 0;
    for (int y = 0; y < h; y += 4)
        for (int x = 0; x < w; x += 4) {
            l_int32 r, g, b;
            extractRGBValues(src[(long)y * wpl + x], &r, &g, &b);
            rg[r - g + 255]++;
            bg[b - g + 255]++;
            gl[g + 255]++;
            total++;
        }
    int g = median_of(gl, total);
    return (tint){median_of(rg, total), median_of(bg, total), g > 0 ? g : 1};
}

/* How far a pixel's colour is from gray, once the paper's tint is taken
 * out: the spread of its channels. */
static int colourfulness(l_uint32 px, tint t)
{
    l_int32 r, g, b;
    extractRGBValues(px, &r, &g, &b);
    int lit = g < t.g ? g : t.g; /* black ink has no paper tint left */
    int dr = r - g - t.rg * lit / t.g, db = b - g - t.bg * lit / t.g;
    int hi = dr > db ? dr : db, lo = dr < db ? dr : db;
    hi = hi > 0 ? hi : 0;
    lo = lo < 0 ? lo : 0;
    return hi - lo;
}

/* 1 bpp mask of coloured ink in the top `h` rows of `color`. */
static PIX *colour_mask(PIX *color, int h, tint t)
{
    int w = pixGetWidth(color), wpl = pixGetWpl(color);
    PIX *m = pixCreate(w, h, 1);
    if (!m)
        return NULL;
    l_uint32 *src = pixGetData(color), *md = pixGetData(m);
    int mwpl = pixGetWpl(m);
    for (int y = 0; y < h; y++) {
        const l_uint32 *sl = src + (long)y * wpl;
        l_uint32 *ml = md + (long)y * mwpl;
        for (int x = 0; x < w; x++)
            if (colourfulness(sl[x], t) >= FRAME_COLOUR)
                SET_DATA_BIT(ml, x);
    }
    return m;
}

/* A horizontal line of the frame: one of the pieces of coloured ink that
 * stay straight and long once the gaps left by black print crossing the
 * line are bridged (closing along it), the line is thickened across so
 * that a turned line keeps long runs per row, and everything shorter than
 * LINE_PIECE_MM along it is opened away. */
typedef struct hline {
    int x0, x1, y0, y1;
    int top, bottom; /* straight as a frame's top line, as its bottom line */
} hline;

/* Mean height of the outer edge (top or bottom) of the ink of `lines` in
 * columns x0..x1 within `l`, or -1 when there is none. */
static double ink_edge(PIX *lines, const hline *l, int x0, int x1, int top)
{
    double sum = 0;
    long n = 0;
    for (int x = x0; x < x1; x += 2)
        for (int k = 0; k < l->y1 - l->y0; k++) {
            int y = top ? l->y0 + k : l->y1 - 1 - k;
            l_uint32 v = 0;
            pixGetPixel(lines, x, y, &v);
            if (v) {
                sum += y;
                n++;
                break;
            }
        }
    return n ? sum / n : -1;
}

/* A line, not the arc of a round seal: the middle of its outer edge lies
 * halfway between its ends. The outer edge, because the stamp's first or
 * last row of letters may have joined the line on its inner side. */
static int straight(PIX *lines, const hline *l, int dpi, int top)
{
    int w = l->x1 - l->x0;
    double left = ink_edge(lines, l, l->x0, l->x0 + w / 6, top);
    double mid = ink_edge(lines, l, l->x0 + w * 5 / 12, l->x0 + w * 7 / 12, top);
    double right = ink_edge(lines, l, l->x1 - w / 6, l->x1, top);
    if (left < 0 || mid < 0 || right < 0)
        return 0;
    return fabs(mid - (left + right) / 2) <= mm_px(LINE_MAX_BOW_MM, dpi);
}

/* Joins the pieces of one line, cut where the ink faded or print crossed
 * it: end to end, at the same height (a turned line steps up or down).
 * Returns the new count. */
static size_t join_pieces(hline *piece, size_t np, int dpi)
{
    int join = mm_px(LINE_JOIN_MM, dpi), step = mm_px(LINE_THICK_MM, dpi);
    for (int merged = 1; merged;) {
        merged = 0;
        for (size_t i = 0; i < np; i++)
            for (size_t j = i + 1; j < np; j++) {
                hline *a = &piece[i], *b = &piece[j];
                int gap = a->x0 < b->x0 ? b->x0 - a->x1 : a->x0 - b->x1;
                hline u = {.x0 = a->x0 < b->x0 ? a->x0 : b->x0,
                           .x1 = a->x1 > b->x1 ? a->x1 : b->x1,
                           .y0 = a->y0 < b->y0 ? a->y0 : b->y0,
                           .y1 = a->y1 > b->y1 ? a->y1 : b->y1};
                if (gap > join || a->y1 + step < b->y0 || b->y1 + step < a->y0 ||
                    u.x1 - u.x0 > mm_px(FRAME_MAX_W_MM, dpi) ||
                    u.y1 - u.y0 > mm_px(LINE_MAX_RISE_MM, dpi))
                    continue;
                *a = u;
                *b = piece[--np];
                merged = 1;
            }
    }
    return np;
}

static size_t find_hlines(PIX *mask, int dpi, hline *out, size_t max)
{
    /* only thin ink: the stamp's letters, whose strokes run across, would
     * otherwise close into bars that join the line under them */
    PIX *thick = pixOpenBrick(NULL, mask, 1, mm_px(LINE_MAX_THICK_MM, dpi) | 1);
    PIX *thin = thick ? pixSubtract(NULL, mask, thick) : NULL;
    PIX *bridged = thin ? pixCloseBrick(NULL, thin, mm_px(LINE_GAP_MM, dpi) | 1, 1) : NULL;
    PIX *thickened =
        bridged ? pixDilateBrick(NULL, bridged, 1, mm_px(LINE_THICK_MM, dpi) | 1) : NULL;
    PIX *c = thickened ? pixOpenBrick(NULL, thickened, mm_px(LINE_PIECE_MM, dpi) | 1, 1) : NULL;
    BOXA *boxa = c ? pixConnComp(c, NULL, 8) : NULL;
    pixDestroy(&thick);
    pixDestroy(&thin);
    pixDestroy(&bridged);
    pixDestroy(&thickened);
    hline piece[MAX_PIECES];
    size_t np = 0;
    for (int i = 0; boxa && i < boxaGetCount(boxa) && np < MAX_PIECES; i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
        if (bh <= mm_px(LINE_MAX_RISE_MM, dpi))
            piece[np++] = (hline){.x0 = bx, .x1 = bx + bw, .y0 = by, .y1 = by + bh};
    }
    boxaDestroy(&boxa);
    np = join_pieces(piece, np, dpi);
    size_t n = 0;
    for (size_t i = 0; i < np && n < max; i++) {
        int w = piece[i].x1 - piece[i].x0, h = piece[i].y1 - piece[i].y0;
        if (w >= mm_px(LINE_MIN_MM, dpi) && w <= mm_px(FRAME_MAX_W_MM, dpi) &&
            h <= mm_px(LINE_MAX_RISE_MM, dpi)) {
            piece[i].top = straight(c, &piece[i], dpi, 1);
            piece[i].bottom = straight(c, &piece[i], dpi, 0);
            if (piece[i].top || piece[i].bottom)
                out[n++] = piece[i];
        }
    }
    pixDestroy(&c);
    return n;
}

/* How much of the longer of two lines the shorter one runs along. */
static double shared_run(const hline *a, const hline *b)
{
    int x0 = a->x0 > b->x0 ? a->x0 : b->x0, x1 = a->x1 < b->x1 ? a->x1 : b->x1;
    int longer = a->x1 - a->x0 > b->x1 - b->x0 ? a->x1 - a->x0 : b->x1 - b->x0;
    return x1 > x0 ? (double)(x1 - x0) / longer : 0;
}

/* The frames whose lines are in `mask` (the stamp's ink, 1 bpp), added to
 * `out`. */
/* The vertical lines of `mask`: its horizontal ones once turned a
 * quarter, turned back. */
static size_t find_vlines(PIX *mask, int dpi, hline *out, size_t max)
{
    PIX *turned = pixRotate90(mask, 1); /* clockwise: x' = h - 1 - y, y' = x */
    size_t n = turned ? find_hlines(turned, dpi, out, max) : 0;
    pixDestroy(&turned);
    int h = pixGetHeight(mask);
    for (size_t i = 0; i < n; i++) {
        hline t = out[i];
        out[i] = (hline){.x0 = t.y0, .x1 = t.y1, .y0 = h - t.x1, .y1 = h - t.x0};
    }
    return n;
}

/* A frame whose bottom line was not found (it ran along a row of print,
 * which cut it into dashes): a side going down from an end of `top` to
 * the stamp's height gives it. */
static bool side_down(const hline *top, const hline *sides, size_t ns, int dpi, ocr_box *f)
{
    int reach = mm_px(LINE_JOIN_MM, dpi);
    for (size_t i = 0; i < ns; i++) {
        const hline *v = &sides[i];
        int down = v->y1 - top->y0;
        bool at_end = abs(v->x0 - top->x0) <= reach || abs(v->x1 - top->x1) <= reach;
        if (at_end && v->y0 >= top->y0 - reach && v->y0 <= top->y1 + reach &&
            down >= mm_px(FRAME_MIN_H_MM, dpi) && down <= mm_px(FRAME_MAX_H_MM, dpi)) {
            *f = (ocr_box){top->x0, top->y0, top->x1, v->y1};
            return true;
        }
    }
    return false;
}

static size_t frames_in_mask(PIX *mask, int dpi, stamp_set *out)
{
    hline lines[MAX_LINES], sides[MAX_LINES];
    size_t nl = find_hlines(mask, dpi, lines, MAX_LINES);
    size_t ns = find_vlines(mask, dpi, sides, MAX_LINES);
    /* the frame: a top and a bottom line along each other, at the stamp's
     * height apart; of the lines under a top line (the stamp's own rows of
     * dots may look like lines), the lowest in reach is the bottom */
    for (size_t t = 0; t < nl && out->n < STAMP_MAX; t++) {
        const hline *top = &lines[t], *bot = NULL;
        for (size_t u = 0; u < nl && top->top; u++) {
            const hline *l = &lines[u];
            int gap = l->y1 - top->y0;
            if (l->bottom && gap >= mm_px(FRAME_MIN_H_MM, dpi) &&
                gap <= mm_px(FRAME_MAX_H_MM, dpi) && shared_run(top, l) >= LINE_MIN_SHARED &&
                (!bot || l->y1 > bot->y1))
                bot = l;
        }
        ocr_box f;
        if (bot)
            f = (ocr_box){top->x0 < bot->x0 ? top->x0 : bot->x0, top->y0,
                          top->x1 > bot->x1 ? top->x1 : bot->x1, bot->y1};
        else if (!top->top || !side_down(top, sides, ns, dpi, &f))
            continue;
        double wmm = (f.x1 - f.x0) * 25.4 / dpi, hmm = (f.y1 - f.y0) * 25.4 / dpi;
        if (wmm < FRAME_MIN_W_MM || wmm > FRAME_MAX_W_MM || wmm / hmm < FRAME_MIN_ASPECT ||
            wmm / hmm > FRAME_MAX_ASPECT)
            continue;
        /* a row of the stamp found as a top line: the frame is known */
        if (!stamp_holds(out, &f))
            out->frame[out->n++] = f;
    }
    return out->n;
}

size_t stamp_find(PIX *color, int dpi, stamp_set *out)
{
    out->n = 0;
    out->gray = false;
    out->dpi = dpi;
    if (!color || pixGetDepth(color) != 32 || dpi <= 0)
        return 0;
    int h = (int)(pixGetHeight(color) * SEARCH_SHARE);
    out->tint = paper_tint(color, h);
    PIX *mask = colour_mask(color, h, out->tint);
    if (!mask)
        return 0;
    frames_in_mask(mask, dpi, out);
    pixDestroy(&mask);
    return out->n;
}

/* On a gray page, the print's stroke cores: darker than its typical
 * core (CORE_RANK of the ink's pixels) plus CORE_SHARE of the way on to
 * the paper. The stamp's lines and letters and the clerk's pen, scanned
 * in gray, lie above (measured on the corpus's gray pages: cores 10-40,
 * pen 65-90, the stamp's print 110-200, paper 240-250; the cut falls at
 * 45-70). Ink is what is GRAY_INK darker than the paper (its 70th
 * percentile: the page is mostly paper). */
#define CORE_RANK 0.05
#define CORE_SHARE 0.08
#define MARK_SHARE 0.2
/* The frame's lines are found among ink lighter still: anything darker
 * than this share is print or pen, whose thin strokes, lighter than
 * their thick ones, would otherwise join the lines. */
#define PRINT_SHARE 0.35
#define GRAY_INK 60
/* Gray above the paper level minus this is paper (its texture, JPEG). */
#define GRAY_PAPER_MARGIN 25
/* Gray within this distance of a print core is the edge of print. */
#define GRAY_EDGE_PX 2

/* The text and paper levels of `pix` (8 bpp): the typical core of its
 * print, and its paper; -1 without ink or paper. */
static int gray_levels(PIX *pix, int *text, int *paper)
{
    long count[256] = {0}, total = 0;
    int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
    const l_uint32 *data = pixGetData(pix);
    for (int y = 0; y < h; y += 2)
        for (int x = 0; x < w; x += 2, total++)
            count[GET_DATA_BYTE(data + (long)y * wpl, x)]++;
    int p = 255;
    for (long acc = count[255]; p > 0 && acc < total * 3 / 10;)
        acc += count[--p];
    long ink = 0;
    for (int v = 0; v < p - GRAY_INK; v++)
        ink += count[v];
    if (ink < total / 200)
        return -1;
    int t = 0;
    for (long acc = count[0]; t < 255 && (double)acc < (double)ink * CORE_RANK;)
        acc += count[++t];
    *text = t;
    *paper = p;
    return 0;
}

/* The gray `share` of the way from the page's print to its paper. */
static int gray_at(const stamp_set *s, double share)
{
    return s->text + (int)((s->paper - s->text) * share);
}

/* 1 bpp mask of the pixels of `pix` (8 bpp) darker than `below`, lighter
 * than print and away from it (print's anti-aliased edges are thin gray
 * lines along every printed stroke): the stamp's lines and letters on a
 * gray page, and the paper around them when `below` is above 255. */
static PIX *light_ink_apart(PIX *pix, const stamp_set *s, int below)
{
    int print = gray_at(s, PRINT_SHARE);
    PIX *dark = pixThresholdToBinary(pix, print + 1);
    PIX *inked = pixThresholdToBinary(pix, below);
    PIX *near =
        dark ? pixDilateBrick(NULL, dark, 2 * GRAY_EDGE_PX + 1, 2 * GRAY_EDGE_PX + 1) : NULL;
    PIX *mask = inked && near ? pixSubtract(NULL, inked, near) : NULL;
    pixDestroy(&dark);
    pixDestroy(&inked);
    pixDestroy(&near);
    return mask;
}

size_t stamp_find_gray(PIX *gray, int dpi, stamp_set *out)
{
    out->n = 0;
    out->gray = true;
    out->dpi = dpi;
    if (!gray || pixGetDepth(gray) != 8 || dpi <= 0)
        return 0;
    int w = pixGetWidth(gray), h = (int)(pixGetHeight(gray) * SEARCH_SHARE);
    BOX *b = boxCreate(0, 0, w, h);
    PIX *top = b ? pixClipRectangle(gray, b, NULL) : NULL;
    boxDestroy(&b);
    PIX *mask = top && gray_levels(top, &out->text, &out->paper) == 0
                    ? light_ink_apart(top, out, out->paper - GRAY_PAPER_MARGIN)
                    : NULL;
    pixDestroy(&top);
    if (!mask)
        return 0;
    frames_in_mask(mask, dpi, out);
    pixDestroy(&mask);
    return out->n;
}

/* The stamp's dotted fields ("Chuyển: ........"): dots no wider than
 * LEADER_DOT_MM, at the same height within LEADER_RISE_MM, each within
 * LEADER_GAP_MM of the next, LEADER_MIN_DOTS of them or more. Their ink
 * is too small to keep the stamp's colour through JPEG, so the colour
 * wipe leaves them, and a row of them on the line of the letter's "Số"
 * made the OCR drop that line whole (a held-out corpus page). Print has
 * no such row in a header. */
#define LEADER_DOT_MM 0.7
#define LEADER_RISE_MM 0.5
#define LEADER_GAP_MM 1.5
#define LEADER_MIN_DOTS 5
/* A dot's ink is darker than this (the paper, 220-245 on the corpus's
 * scans, is not). */
#define LEADER_DARK 205
#define MAX_DOTS 512

/* Whitens the dotted fields in `gray` over x0..x1, y0..y1. */
static void wipe_leaders(PIX *gray, int x0, int y0, int x1, int y1, int dpi)
{
    BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
    PIX *crop = b ? pixClipRectangle(gray, b, NULL) : NULL;
    boxDestroy(&b);
    PIX *ink = crop ? pixThresholdToBinary(crop, LEADER_DARK) : NULL;
    pixDestroy(&crop);
    BOXA *boxa = ink ? pixConnComp(ink, NULL, 8) : NULL;
    int dot = mm_px(LEADER_DOT_MM, dpi), rise = mm_px(LEADER_RISE_MM, dpi);
    int gap = mm_px(LEADER_GAP_MM, dpi);
    ocr_box dots[MAX_DOTS];
    size_t n = 0;
    for (int i = 0; boxa && i < boxaGetCount(boxa) && n < MAX_DOTS; i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
        if (bw <= dot && bh <= dot)
            dots[n++] = (ocr_box){bx, by, bx + bw, by + bh};
    }
    boxaDestroy(&boxa);
    bool used[MAX_DOTS] = {false};
    size_t chain[MAX_DOTS];
    for (size_t i = 0; i < n; i++) {
        if (used[i])
            continue;
        /* from the leftmost dot of a row on: the nearest dot to its right */
        size_t len = 0, at = i;
        for (bool more = true; more;) {
            chain[len++] = at;
            used[at] = true;
            more = false;
            size_t best = n;
            for (size_t k = 0; k < n; k++) {
                int dx = dots[k].x0 - dots[at].x1;
                int dy = (dots[k].y0 + dots[k].y1 - dots[at].y0 - dots[at].y1) / 2;
                if (!used[k] && dx >= 0 && dx <= gap && abs(dy) <= rise &&
                    (best == n || dots[k].x0 < dots[best].x0))
                    best = k;
            }
            if (best < n) {
                at = best;
                more = true;
            }
        }
        for (size_t k = 0; len >= LEADER_MIN_DOTS && k < len; k++) {
            const ocr_box *d = &dots[chain[k]];
            for (int y = d->y0; y < d->y1; y++)
                for (int x = d->x0; x < d->x1; x++) {
                    l_uint32 on = 0;
                    pixGetPixel(ink, x, y, &on);
                    if (on)
                        pixSetPixel(gray, x0 + x, y0 + y, 255);
                }
        }
    }
    pixDestroy(&ink);
}

/* On a colour page, what the colour wipe leaves of the stamp: the
 * outlines of its strokes, whose colour JPEG blurred away (gray 190 and
 * lighter on the corpus's tinted paper, against print's cores under 60).
 * Left, they stand as ghosts of the stamp's letters, which the OCR reads
 * into the issuer beside them. Inside the frame, everything as light as
 * GHOST_LIGHT and more than GHOST_EDGE_PX from print's darker strokes
 * (PRINT_CORE) goes, the paper with it, as on a gray page; print keeps
 * its anti-aliased edges. */
#define GHOST_LIGHT 170
#define PRINT_CORE 120
#define GHOST_EDGE_PX 2

static void wipe_ghosts(PIX *gray, int x0, int y0, int x1, int y1)
{
    BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
    PIX *crop = b ? pixClipRectangle(gray, b, NULL) : NULL;
    boxDestroy(&b);
    PIX *dark = crop ? pixThresholdToBinary(crop, PRINT_CORE) : NULL;
    PIX *near = dark ? pixDilateBrick(NULL, dark, 2 * GHOST_EDGE_PX + 1, 2 * GHOST_EDGE_PX + 1)
                     : NULL;
    int wpl = pixGetWpl(gray);
    l_uint32 *data = pixGetData(gray);
    for (int y = 0; near && y < y1 - y0; y++) {
        l_uint32 *line = data + (long)(y0 + y) * wpl;
        const l_uint32 *nl = pixGetData(near) + (long)y * pixGetWpl(near);
        for (int x = 0; x < x1 - x0; x++)
            if (!GET_DATA_BIT(nl, x) && (int)GET_DATA_BYTE(line, x0 + x) >= GHOST_LIGHT)
                SET_DATA_BYTE(line, x0 + x, 255);
    }
    pixDestroy(&crop);
    pixDestroy(&dark);
    pixDestroy(&near);
}

static int brightest(l_uint32 px)
{
    l_int32 r, g, b;
    extractRGBValues(px, &r, &g, &b);
    int hi = r > g ? r : g;
    return b > hi ? b : hi;
}

/* 1 bpp mask of the pixels of `crop` darker than PRINT_DARK in every
 * channel: black print, and the pen's and the stamp's strokes. */
static PIX *dark_pixels(PIX *crop)
{
    int w = pixGetWidth(crop), h = pixGetHeight(crop), wpl = pixGetWpl(crop);
    PIX *m = pixCreate(w, h, 1);
    if (!m)
        return NULL;
    const l_uint32 *src = pixGetData(crop);
    l_uint32 *md = pixGetData(m);
    int mwpl = pixGetWpl(m);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (brightest(src[(long)y * wpl + x]) < PRINT_DARK)
                SET_DATA_BIT(md + (long)y * mwpl, x);
    return m;
}

/* Whitens in `gray` (at x0, y0) the dark strokes of `crop` that are stamp
 * or pen ink. JPEG's coarse colour blurs the colour of a stroke's edge
 * into a dark gray that looks like print, and gives print next to ink a
 * cast, so a pixel alone cannot tell; a stroke as a whole can: mostly of
 * clear colour, it is ink (all of it but the neutral pixels of print it
 * crosses goes); mostly neutral, it is print and stays. */
static void wipe_dark_strokes(PIX *gray, int x0, int y0, PIX *crop, tint t)
{
    PIX *dark = dark_pixels(crop);
    PIXA *pixa = NULL;
    BOXA *boxa = dark ? pixConnComp(dark, &pixa, 8) : NULL;
    pixDestroy(&dark);
    int cwpl = pixGetWpl(crop), gwpl = pixGetWpl(gray);
    const l_uint32 *cd = pixGetData(crop);
    l_uint32 *gd = pixGetData(gray);
    for (int i = 0; boxa && i < boxaGetCount(boxa); i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
        PIX *part = pixaGetPix(pixa, i, L_CLONE);
        long on = 0, ink = 0;
        for (int pass = 0; pass < 2 && part; pass++) {
            for (int y = 0; y < bh; y++)
                for (int x = 0; x < bw; x++) {
                    l_uint32 v = 0;
                    pixGetPixel(part, x, y, &v);
                    if (!v)
                        continue;
                    int c = colourfulness(cd[(long)(by + y) * cwpl + bx + x], t);
                    if (pass == 0) {
                        on++;
                        ink += c >= WIPE_COLOUR;
                    } else if (c >= PRINT_NEUTRAL)
                        SET_DATA_BYTE(gd + (long)(y0 + by + y) * gwpl, x0 + bx + x, 255);
                }
            if (2 * ink < on)
                break; /* print */
        }
        pixDestroy(&part);
    }
    boxaDestroy(&boxa);
    pixaDestroy(&pixa);
}

/* Around a frame on a gray page, how far its lines may run outside the
 * bounds found: a turned frame's corners, or its sides when it was found
 * from its top line and one side. */
#define WIPE_PAD_MM 3.0

/* Inside a kept stroke of print, what is lighter than this share of the
 * way from its cores to the paper goes too: the frame's line or the pen
 * where they cross the print and joined it (print's own anti-aliased
 * edges are lighter still, and Tesseract's binarisation drops them). */
#define WIPE_JOINED_SHARE 0.45
/* A diacritic's size at most. */
#define WIPE_DOT_MM 1.2

/* The gray page's wipe, inside each frame (and WIPE_PAD_MM around it):
 * first the ink lighter than print away from print (the stamp's lines
 * and letters), then every stroke (8-connected ink) without a pixel as
 * dark as print's cores (the clerk's pen, darker than the stamp but
 * lighter than black print). A stroke of print is kept with its
 * anti-aliased edges, which the OCR needs at 200 dpi, but for its light
 * pixels. Measured on the corpus's 29 gray pages with a stamp: number
 * read 18 → 24, issuer 16 → 22, none confidently wrong. */
static void wipe_gray(PIX *gray, const stamp_set *s)
{
    int w = pixGetWidth(gray), h = pixGetHeight(gray), wpl = pixGetWpl(gray);
    l_uint32 *data = pixGetData(gray);
    int pad = mm_px(WIPE_PAD_MM, s->dpi);
    int core = gray_at(s, CORE_SHARE), mark = gray_at(s, MARK_SHARE);
    int joined = core + (int)((s->paper - core) * WIPE_JOINED_SHARE);
    int dot = mm_px(WIPE_DOT_MM, s->dpi);
    for (size_t f = 0; f < s->n; f++) {
        const ocr_box *fr = &s->frame[f];
        int x0 = fr->x0 - pad < 0 ? 0 : fr->x0 - pad, y0 = fr->y0 - pad < 0 ? 0 : fr->y0 - pad;
        int x1 = fr->x1 + pad > w ? w : fr->x1 + pad, y1 = fr->y1 + pad > h ? h : fr->y1 + pad;
        if (x1 <= x0 || y1 <= y0)
            continue;
        BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
        PIX *crop = b ? pixClipRectangle(gray, b, NULL) : NULL;
        boxDestroy(&b);
        /* first the stamp's lines and print, lighter than black print and
         * away from it (with the paper's texture there): where they touch
         * print they would join its strokes, which are kept */
        PIX *apart = crop ? light_ink_apart(crop, s, 256) : NULL;
        for (int y = 0; apart && y < y1 - y0; y++) {
            l_uint32 *line = data + (long)(y0 + y) * wpl;
            const l_uint32 *al = pixGetData(apart) + (long)y * pixGetWpl(apart);
            for (int x = 0; x < x1 - x0; x++)
                if (GET_DATA_BIT(al, x))
                    SET_DATA_BYTE(line, x0 + x, 255);
        }
        pixDestroy(&apart);
        pixDestroy(&crop);
        /* then the strokes (the pen's) that have no core of print */
        b = boxCreate(x0, y0, x1 - x0, y1 - y0);
        crop = b ? pixClipRectangle(gray, b, NULL) : NULL;
        boxDestroy(&b);
        PIX *inked = crop ? pixThresholdToBinary(crop, s->paper - GRAY_PAPER_MARGIN) : NULL;
        pixDestroy(&crop);
        PIXA *parts = NULL;
        BOXA *boxes = inked ? pixConnComp(inked, &parts, 8) : NULL;
        pixDestroy(&inked);
        for (int i = 0; boxes && i < boxaGetCount(boxes); i++) {
            l_int32 bx, by, bw, bh;
            boxaGetBoxGeometry(boxes, i, &bx, &by, &bw, &bh);
            PIX *part = pixaGetPix(parts, i, L_CLONE);
            /* a diacritic or a dot of print is too small to reach the
             * cores of a letter's stem: its test is the pen's level */
            bool print = false, small = bw <= dot && bh <= dot;
            for (int pass = 0; pass < 2 && part; pass++)
                for (int y = 0; y < bh; y++) {
                    l_uint32 *line = data + (long)(y0 + by + y) * wpl;
                    for (int x = 0; x < bw; x++) {
                        l_uint32 on = 0;
                        pixGetPixel(part, x, y, &on);
                        if (!on)
                            continue;
                        int v = GET_DATA_BYTE(line, x0 + bx + x);
                        if (pass == 0)
                            print |= v <= (small ? mark : core);
                        else if (!print || v > joined)
                            SET_DATA_BYTE(line, x0 + bx + x, 255);
                    }
                }
            pixDestroy(&part);
        }
        boxaDestroy(&boxes);
        pixaDestroy(&parts);
        wipe_leaders(gray, x0, y0, x1, y1, s->dpi);
    }
}

void stamp_wipe(PIX *gray, PIX *color, const stamp_set *s)
{
    if (s->gray) {
        if (gray && pixGetDepth(gray) == 8)
            wipe_gray(gray, s);
        return;
    }
    if (!gray || !color || pixGetDepth(gray) != 8 || pixGetDepth(color) != 32 ||
        pixGetWidth(gray) != pixGetWidth(color) || pixGetHeight(gray) != pixGetHeight(color))
        return;
    int w = pixGetWidth(gray), h = pixGetHeight(gray);
    int gwpl = pixGetWpl(gray), cwpl = pixGetWpl(color);
    l_uint32 *gd = pixGetData(gray), *cd = pixGetData(color);
    tint t = s->tint;
    /* a frame turned a few degrees, or inked unevenly, runs past the
     * bounds its lines were found at: only coloured ink goes, so a margin
     * costs the print nothing */
    int m = s->dpi > 0 ? s->dpi * WIPE_MARGIN_MM10 / 254 : 0;
    for (size_t f = 0; f < s->n; f++) {
        const ocr_box *fr = &s->frame[f];
        int x0 = fr->x0 - m < 0 ? 0 : fr->x0 - m, y0 = fr->y0 - m < 0 ? 0 : fr->y0 - m;
        int x1 = fr->x1 + m > w ? w : fr->x1 + m, y1 = fr->y1 + m > h ? h : fr->y1 + m;
        if (x1 <= x0 || y1 <= y0)
            continue;
        /* the light pixels of faint colour: the stamp's faded strokes and
         * the edges of its and the pen's strokes */
        for (int y = y0; y < y1; y++) {
            l_uint32 *gl = gd + (long)y * gwpl;
            const l_uint32 *cl = cd + (long)y * cwpl;
            for (int x = x0; x < x1; x++)
                if (brightest(cl[x]) >= PRINT_DARK && colourfulness(cl[x], t) >= WIPE_FAINT_COLOUR)
                    SET_DATA_BYTE(gl, x, 255);
        }
        BOX *b = boxCreate(x0, y0, x1 - x0, y1 - y0);
        PIX *crop = b ? pixClipRectangle(color, b, NULL) : NULL;
        boxDestroy(&b);
        if (crop)
            wipe_dark_strokes(gray, x0, y0, crop, t);
        pixDestroy(&crop);
        wipe_ghosts(gray, x0, y0, x1, y1);
        wipe_leaders(gray, x0, y0, x1, y1, s->dpi);
    }
}

int stamp_holds(const stamp_set *s, const ocr_box *b)
{
    long area = (long)(b->x1 - b->x0) * (b->y1 - b->y0);
    for (size_t f = 0; f < s->n && area > 0; f++) {
        const ocr_box *fr = &s->frame[f];
        int x0 = b->x0 > fr->x0 ? b->x0 : fr->x0, x1 = b->x1 < fr->x1 ? b->x1 : fr->x1;
        int y0 = b->y0 > fr->y0 ? b->y0 : fr->y0, y1 = b->y1 < fr->y1 ? b->y1 : fr->y1;
        if (x1 > x0 && y1 > y0 && 2L * (x1 - x0) * (y1 - y0) > area)
            return 1;
    }
    return 0;
}
