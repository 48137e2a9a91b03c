/* seal.c — see seal.h. */
#include "seal.h"

#include <leptonica/allheaders.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Round seals of bodies are 30 to 50 mm across (40 mm for most). */
#define SEAL_MIN_MM 30.0
#define SEAL_MAX_MM 50.0
/* The seal's black blob, once the page is shrunk, joins the lines of print
 * it crosses and the signature: its bounds grow by a line or two above
 * and below, and by whole lines sideways. */
#define BLOB_MAX_H_MM 64.0
#define BLOB_MAX_W_MM 100.0
/* Ink: darker than this (print and a photocopied seal are near black). */
#define DARK 128
/* Shrink factor of the first, coarse search (37 dpi from 300), and its
 * steps of radius and of the round (in coarse pixels): the fine search
 * that follows corrects a step either way. */
#define COARSE 8
#define RSTEP 2
/* A ring: black along this share of its round at least, and along this
 * share of each twelfth of it. A seal photocopied faint breaks into
 * dashes, yet keeps 0.6 of its round and ink in every twelfth (0.27 and
 * more); print and a frame that a circle is fitted to reach 0.45 at most,
 * and leave twelfths bare (measured on the corpus' 200 documents). One
 * fainter still keeps half of its round, but spread over all of it: a
 * quarter of every twelfth at least, where print and frames reach 0.13. */
#define MIN_COVER 0.6
#define MIN_SECTOR 0.15
#define FAINT_COVER 0.5
#define FAINT_SECTOR 0.25
#define SECTORS 12
#define INNER_MIN_COVER 0.4
#define ROUND_STEPS 180
/* A ring's ink is at most this thick (the outer ring about 1 mm). */
#define RING_MAX_MM 2.0
/* At most this many blobs are tried on a page (largest first). */
#define MAX_CANDIDATES 8

static int mm_px(double mm, int dpi) { return (int)lround(mm * dpi / 25.4); }

static bool black(const l_uint32 *data, int wpl, int w, int h, int x, int y)
{
    return x >= 0 && y >= 0 && x < w && y < h && GET_DATA_BIT(data + (size_t)y * wpl, x);
}

typedef struct bin_img {
    const l_uint32 *data;
    int wpl, w, h;
} bin_img;

static bin_img bin_of(PIX *p)
{
    return (bin_img){pixGetData(p), pixGetWpl(p), pixGetWidth(p), pixGetHeight(p)};
}

/* Share of ROUND_STEPS directions from (cx, cy) with ink at a radius
 * within [r - slack, r + slack]; *least (if given) receives the least
 * such share over the SECTORS parts of the round. */
static double cover(const bin_img *b, double cx, double cy, double r, int slack, double *least)
{
    int per = ROUND_STEPS / SECTORS, hit = 0, fewest = per;
    for (int sec = 0; sec < SECTORS; sec++) {
        int in_sec = 0;
        for (int k = sec * per; k < (sec + 1) * per; k++) {
            double a = 2 * M_PI * k / ROUND_STEPS, c = cos(a), s = sin(a);
            for (int d = -slack; d <= slack; d++)
                if (black(b->data, b->wpl, b->w, b->h, (int)lround(cx + (r + d) * c),
                          (int)lround(cy + (r + d) * s))) {
                    in_sec++;
                    break;
                }
        }
        hit += in_sec;
        fewest = in_sec < fewest ? in_sec : fewest;
    }
    if (least)
        *least = (double)fewest / per;
    return (double)hit / (per * SECTORS);
}

/* Circle Hough transform over the box (x0, y0, bw, bh) of the coarse
 * image: every ink pixel votes for the centres at each radius around it.
 * The best (cx, cy, r) by votes per unit of round. */
static bool coarse_circle(const bin_img *b, int x0, int y0, int bw, int bh, int rmin, int rmax,
                          int *bcx, int *bcy, int *br)
{
    int nr = (rmax - rmin) / RSTEP + 1;
    size_t cells = (size_t)bw * bh;
    unsigned short *acc = calloc(cells * (size_t)nr, sizeof *acc);
    if (!acc)
        return false;
    /* the round of each radius as offsets, each cell once */
    int maxsteps = (int)(2 * M_PI * rmax) + 8;
    int *ox = malloc(sizeof *ox * (size_t)maxsteps), *oy = malloc(sizeof *oy * (size_t)maxsteps);
    for (int ri = 0; ox && oy && ri < nr; ri++) {
        int r = rmin + ri * RSTEP, steps = (int)(2 * M_PI * r / RSTEP) + 1, no = 0;
        for (int k = 0; k < steps && no < maxsteps; k++) {
            double t = 2 * M_PI * k / steps;
            int dx = (int)lround(r * cos(t)), dy = (int)lround(r * sin(t));
            if (no && ox[no - 1] == dx && oy[no - 1] == dy)
                continue;
            ox[no] = dx;
            oy[no++] = dy;
        }
        unsigned short *a = acc + cells * (size_t)ri;
        for (int y = y0; y < y0 + bh; y++)
            for (int x = x0; x < x0 + bw; x++) {
                if (!black(b->data, b->wpl, b->w, b->h, x, y))
                    continue;
                for (int k = 0; k < no; k++) {
                    int cx = x + ox[k] - x0, cy = y + oy[k] - y0;
                    if (cx < 0 || cy < 0 || cx >= bw || cy >= bh)
                        continue;
                    unsigned short *v = &a[(size_t)cy * bw + cx];
                    if (*v < 0xffff)
                        (*v)++;
                }
            }
    }
    free(ox);
    free(oy);
    double best = 0;
    for (int ri = 0; ri < nr; ri++) {
        int r = rmin + ri * RSTEP;
        const unsigned short *a = acc + cells * (size_t)ri;
        for (size_t i = 0; i < cells; i++) {
            double score = a[i] / (2 * M_PI * r);
            if (score > best) {
                best = score;
                *bcx = x0 + (int)(i % (size_t)bw);
                *bcy = y0 + (int)(i / (size_t)bw);
                *br = r;
            }
        }
    }
    free(acc);
    return best > 0;
}

/* Median of the n values (sorted in place). */
static int median_of(int *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? v[n / 2] : 0;
}

/* The radii bounding the ink of the ring through radius r: along each
 * direction, the black run that holds r (or starts within `slack` of it),
 * its inner and outer ends (at most max_run from where it was met); the
 * medians over the directions where there is one. The centre is moved
 * first to where the ring's middle is equally far all round: a thick
 * ring covers its round from any centre a few pixels off, and the
 * coverage alone cannot place it. False when fewer than half the
 * directions have a run. */
static bool ring_edges(const bin_img *b, double *cx, double *cy, int r, int slack, int max_run,
                       int *r0, int *r1)
{
    int in[ROUND_STEPS], out[ROUND_STEPS], dir[ROUND_STEPS];
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        for (int k = 0; k < ROUND_STEPS; k++) {
            double a = 2 * M_PI * k / ROUND_STEPS, c = cos(a), s = sin(a);
#define AT(rr)                                                                                    \
    black(b->data, b->wpl, b->w, b->h, (int)lround(*cx + (rr) * c), (int)lround(*cy + (rr) * s))
            int start = -1;
            for (int d = 0; d <= slack && start < 0; d++) {
                if (AT(r - d))
                    start = r - d;
                else if (AT(r + d))
                    start = r + d;
            }
            if (start < 0)
                continue;
            int lo = start, hi = start;
            while (lo > 0 && AT(lo - 1) && start - lo < max_run)
                lo--;
            while (AT(hi + 1) && hi - start < max_run)
                hi++;
#undef AT
            in[n] = lo;
            out[n] = hi;
            dir[n++] = k;
        }
        if (n < ROUND_STEPS / 2)
            return false;
        if (pass == 1) {
            *r0 = median_of(in, n);
            *r1 = median_of(out, n);
            return true;
        }
        /* the middle's offset m(θ) − M ≈ dx·cos θ + dy·sin θ, by least
         * squares over the directions whose run is the ring's own (print
         * crossing it lengthens a run) */
        int mid[ROUND_STEPS];
        for (int i = 0; i < n; i++)
            mid[i] = in[i] + out[i];
        int sorted[ROUND_STEPS];
        memcpy(sorted, mid, sizeof(int) * (size_t)n);
        int m2 = median_of(sorted, n);
        double sx = 0, sy = 0, cc = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            if (abs(mid[i] - m2) > 2 * slack + 4)
                continue;
            double a = 2 * M_PI * dir[i] / ROUND_STEPS;
            sx += (mid[i] - m2) / 2.0 * cos(a);
            sy += (mid[i] - m2) / 2.0 * sin(a);
            cc += cos(a) * cos(a);
            ss += sin(a) * sin(a);
        }
        if (cc > 0 && ss > 0) {
            *cx += sx / cc;
            *cy += sy / ss;
        }
    }
    return false;
}

/* The centre and radius at full resolution: the coarse circle moved to
 * where the round is inked best, by steps from a whole coarse cell down
 * to a pixel. The coarse votes of a faint ring's dashes are outweighed by
 * the seal's letters and inner ring, which pull its circle a cell or two
 * off the ring (12 px on a 200 dpi photocopy, more than half a cell): the first
 * step reaches that far. */
static double refine(const bin_img *b, int scale, double *cx, double *cy, int *r)
{
    double best = -1, bx = *cx, by = *cy;
    int bestr = *r;
    for (int step = scale; step >= 1; step /= 2) {
        double ox = bx, oy = by;
        int orr = bestr;
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++)
                for (int dr = -2; dr <= 2; dr++) {
                    double x = ox + dx * step, y = oy + dy * step;
                    int rr = orr + dr * step;
                    double c = cover(b, x, y, rr, 1, NULL);
                    if (c > best) {
                        best = c;
                        bx = x;
                        by = y;
                        bestr = rr;
                    }
                }
    }
    *cx = bx;
    *cy = by;
    *r = bestr;
    return best;
}

/* The thin inner ring: the radius between 55% and 92% of the outer ring's
 * inner edge inked along most of its round. */
static void find_inner(const bin_img *b, int dpi, seal_ring *s)
{
    double best = 0;
    int bestr = 0;
    for (int rr = s->outer_r0 * 55 / 100; rr <= s->outer_r0 * 92 / 100; rr++) {
        double c = cover(b, s->cx, s->cy, rr, 1, NULL);
        if (c > best) {
            best = c;
            bestr = rr;
        }
    }
    int r0, r1;
    double cx = s->cx, cy = s->cy;
    if (best >= INNER_MIN_COVER &&
        ring_edges(b, &cx, &cy, bestr, 2, mm_px(RING_MAX_MM, dpi), &r0, &r1) &&
        r1 < s->outer_r0) {
        s->inner_r0 = r0;
        s->inner_r1 = r1;
    }
}

static int cmp_area_desc(const void *a, const void *b)
{
    const BOX *x = *(BOX *const *)a, *y = *(BOX *const *)b;
    long ax = (long)x->w * x->h, ay = (long)y->w * y->h;
    return ax < ay ? 1 : ax > ay ? -1 : 0;
}

size_t seal_find(PIX *gray, int dpi, seal_ring *out)
{
    if (!gray || pixGetDepth(gray) != 8 || dpi < 100 || !out)
        return 0;
    size_t n = 0;
    PIX *bin = pixThresholdToBinary(gray, DARK);
    PIX *small = bin ? pixReduceRankBinaryCascade(bin, 1, 1, 1, 0) : NULL;
    /* blobs as they are, and with a faint seal's dashes joined (gaps of
     * two coarse pixels, 1.5 mm), which may join it to print as well */
    PIX *closed = small ? pixCloseSafeBrick(NULL, small, 3, 3) : NULL;
    BOXA *boxa = small ? pixConnCompBB(small, 8) : NULL;
    BOXA *joined = closed ? pixConnCompBB(closed, 8) : NULL;
    if (boxa && joined)
        boxaJoin(boxa, joined, 0, -1);
    boxaDestroy(&joined);
    pixDestroy(&closed);
    int nb = boxa ? boxaGetCount(boxa) : 0;
    BOX **cand = nb ? calloc((size_t)nb, sizeof *cand) : NULL;
    int cdpi = dpi / COARSE, nc = 0;
    int min_d = mm_px(SEAL_MIN_MM * 0.9, cdpi);
    for (int i = 0; cand && i < nb; i++) {
        BOX *bx = boxaGetBox(boxa, i, L_CLONE);
        if (bx && bx->w >= min_d && bx->h >= min_d && bx->h <= mm_px(BLOB_MAX_H_MM, cdpi) &&
            bx->w <= mm_px(BLOB_MAX_W_MM, cdpi))
            cand[nc++] = bx;
        else
            boxDestroy(&bx);
    }
    if (nc > 1)
        qsort(cand, (size_t)nc, sizeof *cand, cmp_area_desc);
    bin_img fb = bin ? bin_of(bin) : (bin_img){0}, cb = small ? bin_of(small) : (bin_img){0};
    int rmin = mm_px(SEAL_MIN_MM / 2, cdpi), rmax = mm_px(SEAL_MAX_MM / 2, cdpi) + 1;
    for (int i = 0; i < nc && i < MAX_CANDIDATES && n < SEAL_MAX; i++) {
        int cx = 0, cy = 0, r = 0;
        /* the blob may be a piece of a ring broken by a faded copy: the
         * seal's centre lies near it */
        int grow = rmax / 2;
        int x0 = cand[i]->x - grow > 0 ? cand[i]->x - grow : 0;
        int y0 = cand[i]->y - grow > 0 ? cand[i]->y - grow : 0;
        int x1 = cand[i]->x + cand[i]->w + grow, y1 = cand[i]->y + cand[i]->h + grow;
        x1 = x1 < cb.w ? x1 : cb.w;
        y1 = y1 < cb.h ? y1 : cb.h;
        if (!coarse_circle(&cb, x0, y0, x1 - x0, y1 - y0, rmin, rmax, &cx, &cy, &r))
            continue;
        double fx = cx * COARSE + COARSE / 2, fy = cy * COARSE + COARSE / 2;
        int fr = r * COARSE;
        double least = 0;
        double cv = refine(&fb, COARSE, &fx, &fy, &fr);
        cover(&fb, fx, fy, fr, 1, &least);
        if (!(cv >= MIN_COVER && least >= MIN_SECTOR) &&
            !(cv >= FAINT_COVER && least >= FAINT_SECTOR))
            continue;
        bool again = false;
        for (size_t k = 0; k < n; k++)
            again |= hypot(fx - out[k].cx, fy - out[k].cy) < fr / 2.0;
        if (again)
            continue;
        seal_ring s = {0};
        if (!ring_edges(&fb, &fx, &fy, fr, 2, mm_px(RING_MAX_MM, dpi), &s.outer_r0, &s.outer_r1))
            continue;
        s.cx = (int)lround(fx);
        s.cy = (int)lround(fy);
        find_inner(&fb, dpi, &s);
        out[n++] = s;
    }
    for (int i = 0; i < nc; i++)
        boxDestroy(&cand[i]);
    free(cand);
    boxaDestroy(&boxa);
    pixDestroy(&small);
    pixDestroy(&bin);
    return n;
}

/* Whether `gray` has ink at any of radii r .. r + 3·dir along the
 * direction (c, s) from (cx, cy). */
static bool ink_beyond(const l_uint32 *data, int wpl, int w, int h, int cx, int cy, double c,
                       double s, int r, int dir)
{
    for (int k = 0; k < 4; k++) {
        int x = cx + (int)lround((r + dir * k) * c), y = cy + (int)lround((r + dir * k) * s);
        if (x >= 0 && y >= 0 && x < w && y < h && GET_DATA_BYTE(data + (size_t)y * wpl, x) < DARK)
            return true;
    }
    return false;
}

/* Whitens the pixels of `gray` between radii r0 and r1 of (cx, cy), but
 * where ink runs on both sides of the ring along the radius: a stroke of
 * the print crossing it ("T" of the name under the seal's lower arc),
 * whose piece under the ring is kept whole. */
static void erase_annulus(PIX *gray, int cx, int cy, int r0, int r1)
{
    int w = pixGetWidth(gray), h = pixGetHeight(gray), wpl = pixGetWpl(gray);
    l_uint32 *data = pixGetData(gray);
    long lo = (long)r0 * r0, hi = (long)r1 * r1;
    for (int y = cy - r1 < 0 ? 0 : cy - r1; y <= cy + r1 && y < h; y++) {
        l_uint32 *line = data + (size_t)y * wpl;
        for (int x = cx - r1 < 0 ? 0 : cx - r1; x <= cx + r1 && x < w; x++) {
            long d = (long)(x - cx) * (x - cx) + (long)(y - cy) * (y - cy);
            if (d < lo || d > hi || GET_DATA_BYTE(line, x) == 255)
                continue;
            double dist = sqrt((double)d), c = (x - cx) / dist, s = (y - cy) / dist;
            if (ink_beyond(data, wpl, w, h, cx, cy, c, s, r0 - 1, -1) &&
                ink_beyond(data, wpl, w, h, cx, cy, c, s, r1 + 1, 1))
                continue;
            SET_DATA_BYTE(line, x, 255);
        }
    }
}

void seal_erase(PIX *gray, const seal_ring *s)
{
    if (!gray || pixGetDepth(gray) != 8 || !s)
        return;
    /* a few pixels beyond the measured edges: the ring's edge is ragged
     * and the centre known to a pixel */
    erase_annulus(gray, s->cx, s->cy, s->outer_r0 - 3, s->outer_r1 + 3);
    if (s->inner_r1 > 0)
        erase_annulus(gray, s->cx, s->cy, s->inner_r0 - 3, s->inner_r1 + 3);
}
