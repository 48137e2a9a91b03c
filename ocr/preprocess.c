/* preprocess.c — blank detection, gray conversion, binarisation, skew.
 *
 * Everything that only needs a coarse view of the page (blank detection,
 * skew measurement, paper colour) works on reduced images: a 300 dpi A4
 * page is 8.7 Mpx, and the station's ARM cores cannot afford several
 * full-resolution passes per page.
 */
#include "preprocess.h"

#include <leptonica/allheaders.h>
#include <math.h>
#include <stdlib.h>

/* ---- gray and binary ---------------------------------------------------- */

struct Pix *prep_to_gray(struct Pix *pix)
{
    if (!pix)
        return NULL;
    /* pixConvertTo8 covers every depth: 1 bpp → 0/255, colormaps removed to
     * gray, 32 bpp → luminance (0.3 R + 0.59 G + 0.11 B), 16 bpp → MSB. */
    PIX *g = pixConvertTo8(pix, 0);
    if (g)
        pixCopyResolution(g, pix);
    return g;
}

/* Stamp ink is told from text by colour. Seals and urgency marks are red;
 * the clerk's ĐẾN stamp is red or violet. Both have red well above green,
 * which black text (all channels alike) and blue ballpoint (blue above red
 * and green: the handwritten numbers and days we must keep) do not.
 *
 * Such a pixel is first seen through the brighter of the red and blue
 * channels, as a dropout filter would show it: red and violet ink turn
 * light, while black text printed over the stamp stays as dark as its own
 * coverage of the pixel. Violet ink is still mid-gray through that filter,
 * so a light pixel (no black in it) is lightened further with its colour
 * excess: nothing below DROPOUT_FROM (JPEG noise on black text), white from
 * DROPOUT_FULL. A pixel darker than DROPOUT_DARK holds black ink and is
 * not lightened beyond the filter. */
#define DROPOUT_FROM 14
#define DROPOUT_FULL 40
#define DROPOUT_DARK 90
#define DROPOUT_LIGHT 150

struct Pix *prep_drop_red(struct Pix *gray, struct Pix *color)
{
    if (!gray || !color || pixGetDepth(gray) != 8 || pixGetDepth(color) != 32 ||
        pixGetWidth(gray) != pixGetWidth(color) || pixGetHeight(gray) != pixGetHeight(color))
        return NULL;
    PIX *out = pixCopy(NULL, gray);
    if (!out)
        return NULL;
    int w = pixGetWidth(out), h = pixGetHeight(out);
    l_uint32 *src = pixGetData(color), *dst = pixGetData(out);
    int swpl = pixGetWpl(color), dwpl = pixGetWpl(out);
    for (int y = 0; y < h; y++) {
        const l_uint32 *sl = src + (long)y * swpl;
        l_uint32 *dl = dst + (long)y * dwpl;
        for (int x = 0; x < w; x++) {
            l_int32 r, g, b;
            extractRGBValues(sl[x], &r, &g, &b);
            int excess = r - g;
            if (excess <= DROPOUT_FROM)
                continue;
            int v = r > b ? r : b;
            int colour = excess >= DROPOUT_FULL
                             ? 256
                             : (excess - DROPOUT_FROM) * 256 / (DROPOUT_FULL - DROPOUT_FROM);
            int light = v <= DROPOUT_DARK ? 0
                        : v >= DROPOUT_LIGHT
                            ? 256
                            : (v - DROPOUT_DARK) * 256 / (DROPOUT_LIGHT - DROPOUT_DARK);
            v += (255 - v) * colour / 256 * light / 256;
            if (v > GET_DATA_BYTE(dl, x))
                SET_DATA_BYTE(dl, x, v > 255 ? 255 : v);
        }
    }
    return out;
}

/* On a gray page a seal, a stamp or a signature has lost the colour that
 * tells it from text, but not its lightness: red, violet and blue inks
 * come out mid-gray (about 90-190 on the samples) while printed text is
 * near black (0-40). Ink lighter than the text's own level by
 * LIGHT_INK_SHARE of the text-to-paper contrast is faded towards paper
 * over LIGHT_INK_RAMP levels. The text level is taken low in the ink
 * histogram (LIGHT_INK_TEXT_RANK) so that stroke cores, not anti-aliased
 * edges, set it. A page without that contrast (a faint photocopy) is
 * left alone. */
#define LIGHT_INK_SHARE 0.3
#define LIGHT_INK_RAMP 30
#define LIGHT_INK_TEXT_RANK 0.3
#define LIGHT_INK_MIN_CONTRAST 120

int prep_light_ink_levels(struct Pix *gray, int *from, int *paper_out)
{
    if (!gray || pixGetDepth(gray) != 8)
        return -1;
    NUMA *hist = pixGetGrayHistogram(gray, pixGetWidth(gray) > 1200 ? 2 : 1);
    if (!hist)
        return -1;
    double count[256] = {0}, total = 0;
    for (int i = 0; i < 256 && i < numaGetCount(hist); i++) {
        l_float32 c = 0;
        numaGetFValue(hist, i, &c);
        count[i] = c;
        total += c;
    }
    numaDestroy(&hist);
    int paper = 255;
    for (double acc = 0; paper > 0 && (acc += count[paper]) < total * 0.3;)
        paper--;
    double ink = 0;
    for (int i = 0; i < paper - 60 && i < 256; i++)
        ink += count[i];
    int text = 0;
    for (double acc = count[0]; text < 255 && acc < ink * LIGHT_INK_TEXT_RANK;)
        acc += count[++text];
    if (ink <= 0 || paper - text < LIGHT_INK_MIN_CONTRAST)
        return -1;
    *from = text + (int)((paper - text) * LIGHT_INK_SHARE);
    *paper_out = paper;
    return 0;
}

struct Pix *prep_drop_light_ink(struct Pix *gray)
{
    int from = 0, paper = 255;
    PIX *out = gray && pixGetDepth(gray) == 8 ? pixCopy(NULL, gray) : NULL;
    if (!out || prep_light_ink_levels(gray, &from, &paper) != 0)
        return out;
    l_uint8 map[256];
    for (int v = 0; v < 256; v++) {
        int m = v;
        if (v >= from + LIGHT_INK_RAMP)
            m = v > paper ? v : paper;
        else if (v > from)
            m = v + (paper - v) * (v - from) / LIGHT_INK_RAMP;
        map[v] = (l_uint8)(m > 255 ? 255 : m);
    }
    int w = pixGetWidth(out), h = pixGetHeight(out), wpl = pixGetWpl(out);
    l_uint32 *data = pixGetData(out);
    for (int y = 0; y < h; y++) {
        l_uint32 *line = data + (long)y * wpl;
        for (int x = 0; x < w; x++)
            SET_DATA_BYTE(line, x, map[GET_DATA_BYTE(line, x)]);
    }
    return out;
}

/* Share of the rectangle's pixels at or below the text level: the cores
 * of its strokes. The cut lies WHITEN_SHARE of the way from text to paper:
 * light enough to keep anti-aliased stroke edges, dark enough to drop the
 * mid-gray a seal leaves after dropout (measured: text cores 0-40, ring
 * dashes 100-220, paper 240 on the corpus's gray pages). */
#define WHITEN_TEXT_RANK 0.02
#define WHITEN_SHARE 0.4
#define WHITEN_MIN_CONTRAST 80

void prep_whiten_light(struct Pix *gray, int x0, int y0, int x1, int y1)
{
    if (!gray || pixGetDepth(gray) != 8)
        return;
    int w = pixGetWidth(gray), h = pixGetHeight(gray);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > w ? w : x1;
    y1 = y1 > h ? h : y1;
    if (x1 <= x0 || y1 <= y0)
        return;
    long count[256] = {0}, total = (long)(x1 - x0) * (y1 - y0);
    l_uint32 *data = pixGetData(gray);
    int wpl = pixGetWpl(gray);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            count[GET_DATA_BYTE(data + (long)y * wpl, x)]++;
    int text = -1, paper = -1;
    long acc = 0;
    for (int v = 0; v < 256 && paper < 0; v++) {
        acc += count[v];
        if (text < 0 && (double)acc >= (double)total * WHITEN_TEXT_RANK)
            text = v;
        if (2 * acc >= total)
            paper = v;
    }
    if (paper - text < WHITEN_MIN_CONTRAST)
        return;
    int cut = text + (int)((paper - text) * WHITEN_SHARE);
    for (int y = y0; y < y1; y++) {
        l_uint32 *line = data + (long)y * wpl;
        for (int x = x0; x < x1; x++)
            if (GET_DATA_BYTE(line, x) > cut)
                SET_DATA_BYTE(line, x, 255);
    }
}

/* Gray level, on the background-normalised image (paper → 200), below
 * which a pixel is ink. Chosen on the samples: 170 fills the counters of
 * bold 200 dpi text, 110 breaks thin serifs of 300 dpi text. */
#define BIN_THRESHOLD 140

struct Pix *prep_binarize(struct Pix *pix, int dpi)
{
    if (!pix)
        return NULL;
    if (pixGetDepth(pix) == 1)
        return pixCopy(NULL, pix);
    PIX *gray = prep_to_gray(pix);
    if (!gray)
        return NULL;
    /* Background normalisation estimates the paper level on tiles and maps
     * it to a constant, which removes uneven illumination, tinted paper and
     * edge shadows; a global threshold is then enough. It is 2-5 times
     * faster than Sauvola on a full page and gives the same text. The tile
     * size of pixBackgroundNormSimple (10 x 15 px) suits 200-400 dpi. */
    PIX *norm = pixBackgroundNormSimple(gray, NULL, NULL);
    pixDestroy(&gray);
    if (!norm)
        return NULL;
    PIX *bin = pixThresholdToBinary(norm, BIN_THRESHOLD);
    pixDestroy(&norm);
    if (bin)
        pixCopyResolution(bin, pix);
    (void)dpi;
    return bin;
}

/* ---- blank detection ---------------------------------------------------- */

/* Millimetres to pixels at `dpi`. */
static int mm_px(double mm, double dpi)
{
    return (int)lround(mm * dpi / 25.4);
}

/* Reduces an 8 bpp page to roughly 75 dpi by integer area averaging:
 * enough to see words (x-height ~5 px), and 16 times fewer pixels. */
static PIX *reduce_gray(PIX *gray, int dpi, int *red_dpi)
{
    int f = dpi >= 150 ? dpi / 75 : 1;
    if (f <= 1) {
        *red_dpi = dpi;
        return pixClone(gray);
    }
    *red_dpi = dpi / f;
    return pixScaleAreaMap(gray, 1.0f / f, 1.0f / f);
}

/* The paper level: the 70th percentile of the luminance. Paper covers far
 * more than 70% of any document page, so this falls inside the paper's own
 * distribution, slightly on its light side, and ignores ink and shadows. */
static int paper_level(PIX *gray8)
{
    l_uint32 v = 255;
    if (pixGetRankValue(gray8, 2, 0.7f, &v) != 0)
        return 255;
    return (int)(v & 0xff);
}

/* Whether a component is a punch hole, a border shadow or a blot rather
 * than writing: large, solid and compact. Holes are discs ~5-8 mm across,
 * darker or lighter than the paper depending on the scanner's backing. */
static bool looks_like_hole(int w, int h, int area, double dpi)
{
    int big = mm_px(3.5, dpi);
    if (w < big || h < big)
        return false;
    double fill = (double)area / ((double)w * h);
    double aspect = w > h ? (double)w / h : (double)h / w;
    return fill > 0.5 && aspect < 1.6;
}

int prep_detect_blank(struct Pix *pix, int dpi, blank_report *out, sohoa_err *err)
{
    if (!pix || !out)
        return err_set(err, SOHOA_EINPUT, "blank detection: no image");
    if (dpi <= 0)
        dpi = 300;
    *out = (blank_report){0};

    PIX *gray = prep_to_gray(pix);
    int rdpi = dpi;
    PIX *small = gray ? reduce_gray(gray, dpi, &rdpi) : NULL;
    pixDestroy(&gray);
    if (!small)
        return err_set(err, SOHOA_EWORK, "blank detection: out of memory");

    /* Ignore a 4% band on every side: scanner edge shadows, the ADF's
     * paper-edge line and punch holes sit there. */
    int w = pixGetWidth(small), h = pixGetHeight(small);
    int mx = w * 4 / 100, my = h * 4 / 100;
    BOX *inner = boxCreate(mx, my, w - 2 * mx, h - 2 * my);
    PIX *area = pixClipRectangle(small, inner, NULL);
    boxDestroy(&inner);
    pixDestroy(&small);
    if (!area)
        return err_set(err, SOHOA_EWORK, "blank detection: out of memory");

    /* Ink is what is clearly darker than the paper. Bleed-through and
     * paper texture stay within ~60 levels of it; print and pen strokes are
     * 100+ darker. The reduction averages thin pen strokes with paper, so
     * the margin must not be much larger than this. */
    int paper = paper_level(area);
    int thresh = paper - 75;
    if (thresh < 20)
        thresh = 20;
    PIX *ink = pixThresholdToBinary(area, thresh);
    int aw = pixGetWidth(area), ah = pixGetHeight(area);
    pixDestroy(&area);
    if (!ink)
        return err_set(err, SOHOA_EWORK, "blank detection: out of memory");

    /* Keep components of writing size: from a dot of 0.25 mm (dust is
     * smaller: it vanishes in the reduction) to 40 mm (a long signature
     * stroke); larger things are folds, shadows and blots. */
    BOXA *boxes = pixConnCompBB(ink, 8);
    int n = boxes ? boxaGetCount(boxes) : 0;
    int minsz = mm_px(0.6, rdpi) > 1 ? mm_px(0.6, rdpi) : 2;
    int maxsz = mm_px(40, rdpi);
    int comps = 0;
    l_int64 inkpx = 0;
    for (int i = 0; i < n; i++) {
        int bx, by, bw, bh, cnt = 0;
        boxaGetBoxGeometry(boxes, i, &bx, &by, &bw, &bh);
        if ((bw < minsz && bh < minsz) || bw > maxsz || bh > maxsz)
            continue;
        /* Components touching the content border continue into the
         * ignored band: an edge shadow or a hole cut by the band. */
        if (bx == 0 || by == 0 || bx + bw >= aw || by + bh >= ah)
            continue;
        BOX *b = boxCreate(bx, by, bw, bh);
        pixCountPixelsInRect(ink, b, &cnt, NULL);
        boxDestroy(&b);
        if (looks_like_hole(bw, bh, cnt, rdpi))
            continue;
        comps++;
        inkpx += cnt;
    }
    boxaDestroy(&boxes);
    pixDestroy(&ink);

    out->components = comps;
    out->ink_ratio = (float)((double)inkpx / ((double)aw * ah));
    /* Three words are a dozen letters; at 75 dpi letters of a word often
     * merge, so a few components suffice. A lone signature is one or two
     * large components, caught by the ink ratio (a 50 mm scrawl is about
     * 2e-4 of the page; a hair or a speck is 10 times less). */
    out->blank = comps < 3 && out->ink_ratio < 1.5e-4f;
    return 0;
}

/* ---- skew --------------------------------------------------------------- */

int prep_find_skew(struct Pix *pix, float *angle_deg, float *conf)
{
    if (angle_deg)
        *angle_deg = 0;
    if (conf)
        *conf = 0;
    if (!pix || !angle_deg || !conf)
        return -1;

    /* pixFindSkew wants a binary image with text lines; a 2x rank
     * reduction (any pixel of 4 → black) keeps thin strokes and makes its
     * sweep 4 times cheaper. Only reduce large images: below ~1500 px the
     * lines would get too few pixels to give a sharp score. */
    PIX *bin = prep_binarize(pix, 0);
    if (!bin)
        return -1;
    PIX *work = bin;
    if (pixGetWidth(bin) > 1500 && pixGetHeight(bin) > 1500) {
        work = pixReduceRankBinary2(bin, 1, NULL);
        pixDestroy(&bin);
        if (!work)
            return -1;
    }
    l_float32 a = 0, c = 0;
    int rc = pixFindSkew(work, &a, &c);
    pixDestroy(&work);
    if (rc != 0) /* no text lines: not an error, just no measure */
        return 0;
    /* Leptonica returns the angle to pass to pixRotate (clockwise positive)
     * to straighten the page; our convention is counter-clockwise positive. */
    *angle_deg = -a;
    *conf = c;
    return 0;
}

/* ---- rotation ----------------------------------------------------------- */

struct Pix *prep_rotate_orth(struct Pix *pix, int degrees_cw)
{
    if (!pix)
        return NULL;
    int d = ((degrees_cw % 360) + 360) % 360;
    if (d % 90 != 0)
        return NULL;
    PIX *r = d == 0 ? pixCopy(NULL, pix) : pixRotateOrth(pix, d / 90);
    if (r)
        pixCopyResolution(r, pix);
    return r;
}

/* The paper colour of a gray or colour page, as a 32 bpp RGBA word for 32
 * bpp images or an 8-bit level (in the low byte) for 8 bpp ones: the 70th
 * percentile, per component, on a sparse sample. */
static l_uint32 paper_colour(PIX *pix)
{
    l_uint32 v = 0xffffff00;
    int factor = pixGetWidth(pix) > 1000 ? 8 : 2;
    if (pixGetRankValue(pix, factor, 0.7f, &v) != 0)
        return pixGetDepth(pix) == 32 ? 0xffffff00 : 255;
    return v;
}

/* An image of depth 8 (gray) or 32 (colour) showing the same page:
 * colormaps and odd depths are expanded, keeping colour only if present. */
static PIX *to_8_or_32(PIX *pix)
{
    PIXCMAP *cmap = pixGetColormap(pix);
    int d = pixGetDepth(pix);
    if (!cmap && (d == 8 || d == 32))
        return pixClone(pix);
    l_int32 colour = 0;
    if (cmap)
        pixcmapHasColor(cmap, &colour);
    else
        colour = d == 16 ? 0 : d > 8;
    return colour ? pixConvertTo32(pix) : pixConvertTo8(pix, 0);
}

struct Pix *prep_deskew(struct Pix *pix, float angle_deg)
{
    if (!pix || !(fabsf(angle_deg) <= 10.0f))
        return NULL;
    if (fabsf(angle_deg) < 0.05f)
        return pixCopy(NULL, pix);
    /* Our positive angle is counter-clockwise; leptonica's is clockwise. */
    float rad = -angle_deg * (float)M_PI / 180.0f;
    PIX *src = NULL, *r = NULL;
    int d = pixGetDepth(pix);
    if (d == 1) {
        /* Shear rotation is exact on bitonal pixels and the fastest. */
        r = pixRotateShearCenter(pix, rad, L_BRING_IN_WHITE);
    } else {
        /* Area mapping keeps gray and colour edges smooth; a colormap or
         * an odd depth is first expanded to 8 or 32 bpp. */
        src = to_8_or_32(pix);
        if (!src)
            return NULL;
        l_uint32 paper = paper_colour(src);
        if (pixGetDepth(src) == 8)
            r = pixRotateAMGray(src, rad, (l_uint8)(paper & 0xff));
        else
            r = pixRotateAMColor(src, rad, paper);
        pixDestroy(&src);
    }
    if (r)
        pixCopyResolution(r, pix);
    return r;
}
