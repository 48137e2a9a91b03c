/* upright_rule.c — see upright_rule.h. */
#include "upright_rule.h"

#include <leptonica/allheaders.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* A rule leans at most 1 in MAX_LEAN (about 5 degrees: a stamp pressed
 * askew), and its ink keeps within MAX_WOBBLE pixels of its line on
 * average: a pen's stroke that is long and upright still bends. */
#define MAX_LEAN 12
#define MAX_WOBBLE 1.5

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Fits the rule whose upright pieces of ink are `segs` within the box
 * (bx, by, bw, bh); false when they are no straight, thin line at least
 * min_len rows long. */
static bool fit_rule(PIX *segs, int bx, int by, int bw, int bh, int min_len, upright_rule *r)
{
    const l_uint32 *data = pixGetData(segs);
    int wpl = pixGetWpl(segs);
    int *widths = malloc(sizeof *widths * (size_t)bh);
    double *mids = malloc(sizeof *mids * (size_t)bh);
    int *rows = malloc(sizeof *rows * (size_t)bh);
    bool ok = false;
    if (!widths || !mids || !rows)
        goto out;
    int n = 0;
    for (int y = by; y < by + bh; y++) {
        const l_uint32 *line = data + (size_t)y * wpl;
        long sum = 0;
        int count = 0;
        for (int x = bx; x < bx + bw; x++)
            if (GET_DATA_BIT(line, x)) {
                sum += x;
                count++;
            }
        if (count) {
            widths[n] = count;
            mids[n] = (double)sum / count;
            rows[n++] = y;
        }
    }
    /* long enough, and inked along most of its length (a faded or copied
     * line breaks into dashes) */
    if (n < 2 || rows[n - 1] - rows[0] + 1 < min_len || 2 * n < rows[n - 1] - rows[0] + 1)
        goto out;
    double sy = 0, sx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sy += rows[i];
        sx += mids[i];
        syy += (double)rows[i] * rows[i];
        sxy += (double)rows[i] * mids[i];
    }
    double den = n * syy - sy * sy;
    if (den <= 0)
        goto out;
    double slope = (n * sxy - sy * sx) / den, x0 = (sx - slope * sy) / n;
    double wobble = 0;
    for (int i = 0; i < n; i++)
        wobble += fabs(mids[i] - (x0 + slope * rows[i]));
    if (fabs(slope) * MAX_LEAN > 1 || wobble / n > MAX_WOBBLE)
        goto out;
    qsort(widths, (size_t)n, sizeof *widths, cmp_int);
    *r = (upright_rule){.x0 = x0, .slope = slope, .half_width = (widths[n / 2] + 1) / 2,
                        .y0 = rows[0], .y1 = rows[n - 1]};
    ok = true;
out:
    free(widths);
    free(mids);
    free(rows);
    return ok;
}

size_t upright_rules_find(PIX *ink, int min_len, upright_rule *out, size_t max)
{
    if (!ink || pixGetDepth(ink) != 1 || min_len < 8 || !out || max == 0)
        return 0;
    /* upright pieces a quarter of the rule long: a leaning line of two
     * pixels or more keeps runs that long straight up */
    PIX *segs = pixOpenBrick(NULL, ink, 1, min_len / 4);
    /* the pieces of one line, joined across its gaps and its lean */
    PIX *grouped = segs ? pixDilateBrick(NULL, segs, 5, min_len / 3) : NULL;
    BOXA *boxa = grouped ? pixConnCompBB(grouped, 8) : NULL;
    size_t found = 0;
    int nb = boxa ? boxaGetCount(boxa) : 0;
    for (int i = 0; i < nb && found < max; i++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
        if (bh < min_len)
            continue;
        upright_rule r;
        if (fit_rule(segs, bx, by, bw, bh, min_len, &r))
            out[found++] = r;
    }
    boxaDestroy(&boxa);
    pixDestroy(&grouped);
    pixDestroy(&segs);
    return found;
}

/* Whether the 1 bpp `mask` has ink in columns x0..x1 of rows y0..y1. */
static bool ink_within(PIX *mask, int x0, int x1, int y0, int y1)
{
    int w = pixGetWidth(mask), h = pixGetHeight(mask), wpl = pixGetWpl(mask);
    const l_uint32 *data = pixGetData(mask);
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < w; x++)
            if (GET_DATA_BIT(data + (size_t)y * wpl, x))
                return true;
    return false;
}

/* What becomes of the rule's strip on one row. */
enum strip_fate { STRIP_CLEAR, STRIP_KEEP, STRIP_FILL };

/* The fate of the strip x0..x1 on row y of `mask`. The rule in another
 * ink than the mask's (red across blue writing) leaves the strip's middle
 * empty: ink close by on both sides (within `reach`, on the rows a
 * slanting stroke meets its sides) is then a stroke it crossed, whose
 * missing piece is filled in. The rule in the mask's own ink: ink running
 * on past the strip is writing that crosses or touches it, kept; the
 * rule's ink alone is cleared. */
static enum strip_fate strip_fate(PIX *mask, int x0, int x1, int y, int hw, int reach)
{
    if (!ink_within(mask, x0 + 1, x1 - 1, y, y))
        return ink_within(mask, x0 - reach, x0 - 1, y - hw, y + hw) &&
                       ink_within(mask, x1 + 1, x1 + reach, y - hw, y + hw)
                   ? STRIP_FILL
                   : STRIP_CLEAR;
    int w = pixGetWidth(mask);
    const l_uint32 *line = pixGetData(mask) + (size_t)y * pixGetWpl(mask);
    int first = -1, last = -1;
    for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < w; x++)
        if (GET_DATA_BIT(line, x)) {
            first = first < 0 ? x : first;
            last = x;
        }
    while (first > 0 && GET_DATA_BIT(line, first - 1))
        first--;
    while (last + 1 < w && GET_DATA_BIT(line, last + 1))
        last++;
    return first < x0 - 1 || last > x1 + 1 ? STRIP_KEEP : STRIP_CLEAR;
}

void upright_rules_erase(PIX *mask, const upright_rule *rules, size_t n, int reach)
{
    if (!mask || pixGetDepth(mask) != 1)
        return;
    int w = pixGetWidth(mask), h = pixGetHeight(mask), wpl = pixGetWpl(mask);
    l_uint32 *data = pixGetData(mask);
    for (size_t k = 0; k < n; k++) {
        const upright_rule *r = &rules[k];
        int hw = r->half_width + 1;
        int from = r->y0 - hw > 0 ? r->y0 - hw : 0, to = r->y1 + hw < h ? r->y1 + hw : h - 1;
        /* decided for every row before any is changed */
        unsigned char *fate = malloc((size_t)(to - from + 1));
        if (!fate)
            return;
        for (int y = from; y <= to; y++) {
            int mid = (int)lround(r->x0 + r->slope * y);
            fate[y - from] = (unsigned char)strip_fate(mask, mid - hw, mid + hw, y, hw, reach);
        }
        for (int y = from; y <= to; y++) {
            l_uint32 *line = data + (size_t)y * wpl;
            int mid = (int)lround(r->x0 + r->slope * y);
            for (int x = mid - hw < 0 ? 0 : mid - hw; x <= mid + hw && x < w; x++) {
                if (fate[y - from] == STRIP_FILL)
                    SET_DATA_BIT(line, x);
                else if (fate[y - from] == STRIP_CLEAR)
                    CLEAR_DATA_BIT(line, x);
            }
        }
        free(fate);
    }
}
