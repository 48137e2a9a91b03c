/* encode.c — page image → compressed PDF image layers (JPEG, G4, MRC).
 *
 * MRC splits a scan into what is sharp and neutral (printed text: a 1-bit
 * mask at full resolution, CCITT G4) and everything else (paper, red
 * stamps, blue signatures, photos: a JPEG at low resolution). Text needs
 * resolution but no colour; stamps need colour but little resolution.
 */
#include "encode.h"

#include <leptonica/allheaders.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "preprocess.h"

encode_options encode_defaults(void)
{
    return (encode_options){
        .mode = ENCODE_AUTO,
        .jpeg_quality = 75,
        .mrc_bg_dpi = 100,
        .mrc_bg_quality = 50,
    };
}

int encode_mode_parse(const char *name, encode_mode *out)
{
    static const struct {
        const char *name;
        encode_mode mode;
    } modes[] = {
        {"auto", ENCODE_AUTO}, {"jpeg", ENCODE_JPEG}, {"g4", ENCODE_G4}, {"mrc", ENCODE_MRC}};
    for (size_t i = 0; name && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcasecmp(name, modes[i].name) == 0) {
            if (out)
                *out = modes[i].mode;
            return 0;
        }
    }
    return -1;
}

void encode_free_layers(pdf_image *layers, size_t nlayers)
{
    if (!layers)
        return;
    for (size_t i = 0; i < nlayers; i++)
        free(layers[i].data);
    free(layers);
}

/* ---- colour analysis ---------------------------------------------------- */

/* A pixel is "coloured" when its channels spread by at least this much.
 * JPEG scans of black text on white show colour fringes of 20-35 at stroke
 * edges and tinted paper 10-25; stamp red and pen blue spread 80-200. */
#define CHROMA_INK 48
/* Next to coloured ink, a weaker tint is enough: the cores of thin red
 * lines decode nearly neutral (see coloured_cells), black text stays
 * below this. */
#define CHROMA_EDGE 16

static inline int chroma_of(l_uint32 px, int *lum)
{
    int r = (int)(px >> L_RED_SHIFT) & 0xff;
    int g = (int)(px >> L_GREEN_SHIFT) & 0xff;
    int b = (int)(px >> L_BLUE_SHIFT) & 0xff;
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    if (lum)
        *lum = (77 * r + 150 * g + 29 * b) >> 8;
    return mx - mn;
}

/* Whether a 32 bpp scan actually shows colour. Looks at one pixel in 16
 * (every 4th of every 4th row) and wants a minimum area of clearly
 * coloured pixels: about 1.5 mm² at any dpi — a small stamp or a few
 * signature strokes — so that JPEG colour noise on a gray scan does not
 * count, yet a small red mark keeps the page in colour (colour is
 * evidence: erring towards colour only costs bytes). */
static bool shows_colour(PIX *pix, int dpi)
{
    int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
    l_uint32 *data = pixGetData(pix);
    double px_per_mm2 = (dpi / 25.4) * (dpi / 25.4);
    long need = (long)(1.5 * px_per_mm2 / 16.0);
    if (need < 4)
        need = 4;
    long found = 0;
    for (int y = 0; y < h; y += 4) {
        const l_uint32 *line = data + (size_t)y * wpl;
        for (int x = 0; x < w; x += 4) {
            int lum;
            /* Only mid and dark tones: light pixels are paper and its
             * tint, whose colour is not information. */
            if (chroma_of(line[x], &lum) >= CHROMA_INK && lum < 220 && ++found >= need)
                return true;
        }
    }
    return false;
}

/* The page normalised to 1 (bitonal), 8 (gray) or 32 (colour) bpp. A
 * colour scan of a gray document becomes 8 bpp. */
static PIX *normalise_depth(PIX *pix, int dpi)
{
    PIXCMAP *cmap = pixGetColormap(pix);
    int d = pixGetDepth(pix);
    if (cmap) {
        l_int32 colour = 0;
        pixcmapHasColor(cmap, &colour);
        PIX *p = pixRemoveColormap(pix, colour ? REMOVE_CMAP_TO_FULL_COLOR
                                               : REMOVE_CMAP_TO_GRAYSCALE);
        if (p && pixGetDepth(p) == 32 && !shows_colour(p, dpi)) {
            PIX *g = pixConvertRGBToLuminance(p);
            pixDestroy(&p);
            return g;
        }
        return p;
    }
    if (d == 1 || d == 8)
        return pixClone(pix);
    if (d == 32)
        return shows_colour(pix, dpi) ? pixClone(pix) : pixConvertRGBToLuminance(pix);
    return pixConvertTo8(pix, 0);
}

/* ---- single layers ------------------------------------------------------ */

static int set_layer(pdf_image *out, pdf_filter filter, int w, int h, int bpc, int ncomp,
                     const l_uint8 *data, size_t len, sohoa_err *err)
{
    *out = (pdf_image){.filter = filter, .width = w, .height = h, .bpc = bpc, .ncomp = ncomp};
    out->data = malloc(len ? len : 1);
    if (!out->data)
        return err_set(err, SOHOA_EWORK, "encode: out of memory (%zu bytes)", len);
    memcpy(out->data, data, len);
    out->len = len;
    return 0;
}

/* JPEG of an 8 or 32 bpp image: 1 or 3 components. */
static int encode_jpeg(PIX *pix, int quality, pdf_image *out, sohoa_err *err)
{
    if (quality < 1 || quality > 100)
        quality = 75;
    l_uint8 *data = NULL;
    size_t len = 0;
    if (pixWriteMemJpeg(&data, &len, pix, quality, 0) != 0 || !data)
        return err_set(err, SOHOA_EWORK, "encode: JPEG compression failed");
    int ncomp = pixGetDepth(pix) == 32 ? 3 : 1;
    int rc = set_layer(out, PDF_FILTER_DCT, pixGetWidth(pix), pixGetHeight(pix), 8, ncomp, data,
                       len, err);
    lept_free(data);
    return rc;
}

/* CCITT G4 of a 1 bpp image. Leptonica's encoder codes its 1 pixels as
 * the black runs, so the data follows the convention of encode.h. */
static int encode_g4(PIX *bin, pdf_image *out, sohoa_err *err)
{
    L_COMP_DATA *cid = NULL;
    if (pixGenerateCIData(bin, L_G4_ENCODE, 0, 0, &cid) != 0 || !cid || !cid->datacomp) {
        l_CIDataDestroy(&cid);
        return err_set(err, SOHOA_EWORK, "encode: CCITT G4 compression failed");
    }
    int rc = set_layer(out, PDF_FILTER_CCITT, pixGetWidth(bin), pixGetHeight(bin), 1, 1,
                       cid->datacomp, cid->nbytescomp, err);
    l_CIDataDestroy(&cid);
    return rc;
}

/* ---- MRC ---------------------------------------------------------------- */

/* Cells of the low-resolution `low` (32 bpp) whose average colour is
 * clearly chromatic. Per-pixel chroma is not enough: JPEG scans store
 * colour at half resolution, so the core of a thin red or blue line
 * decodes as a dark, almost neutral gray; averaged over a cell with the
 * paper around it, the line is plainly red or blue, while black text
 * averages to neutral gray. The threshold sits above the paper's own tint
 * (cream, recycled or pink paper), since text cells are mixes of ink and
 * paper and never more chromatic than the paper. */
static PIX *coloured_cells(PIX *low)
{
    l_uint32 paper = 0xffffff00;
    pixGetRankValue(low, 2, 0.7f, &paper);
    int limit = chroma_of(paper, NULL) + 20;
    if (limit < 36)
        limit = 36;
    int w = pixGetWidth(low), h = pixGetHeight(low), wpl = pixGetWpl(low);
    PIX *cells = pixCreate(w, h, 1);
    if (!cells)
        return NULL;
    int cwpl = pixGetWpl(cells);
    for (int y = 0; y < h; y++) {
        const l_uint32 *line = pixGetData(low) + (size_t)y * wpl;
        l_uint32 *cline = pixGetData(cells) + (size_t)y * cwpl;
        for (int x = 0; x < w; x++) {
            if (chroma_of(line[x], NULL) >= limit)
                SET_DATA_BIT(cline, x);
        }
    }
    return cells;
}

/* Removes from `mask` the pixels of coloured ink: red stamps and blue
 * signatures belong to the colour background. A pixel goes when it is
 * clearly coloured itself or lies in a coloured cell of `cells` (the grid
 * of the background, `cells` pixels over the page), or is slightly
 * coloured and next to such a cell. Only the (few) set
 * pixels of the mask are looked at. */
static void drop_coloured_ink(PIX *mask, PIX *pix, PIX *cells)
{
    PIX *near = pixDilateBrick(NULL, cells, 3, 3);
    int w = pixGetWidth(mask), h = pixGetHeight(mask);
    int lw = pixGetWidth(cells), lh = pixGetHeight(cells);
    int mwpl = pixGetWpl(mask), cwpl = pixGetWpl(pix), lwpl = pixGetWpl(cells);
    l_uint32 *mdata = pixGetData(mask), *cdata = pixGetData(pix);
    for (int y = 0; y < h; y++) {
        l_uint32 *mline = mdata + (size_t)y * mwpl;
        const l_uint32 *cline = cdata + (size_t)y * cwpl;
        size_t cy = (size_t)((long)y * lh / h) * lwpl;
        const l_uint32 *lline = pixGetData(cells) + cy;
        const l_uint32 *nline = near ? pixGetData(near) + cy : lline;
        for (int j = 0; j < mwpl; j++) {
            if (!mline[j])
                continue;
            for (int x = j * 32; x < j * 32 + 32 && x < w; x++) {
                if (!GET_DATA_BIT(mline, x))
                    continue;
                int cx = (int)((long)x * lw / w), c = chroma_of(cline[x], NULL);
                if (c >= CHROMA_INK || GET_DATA_BIT(lline, cx) ||
                    (c >= CHROMA_EDGE && GET_DATA_BIT(nline, cx)))
                    CLEAR_DATA_BIT(mline, x);
            }
        }
    }
    pixDestroy(&near);
}

/* The colour to paint the text mask with: the mean of the darker half of
 * the mask's pixels. The lighter half are anti-aliased stroke edges; their
 * mean would print the text a washed-out gray. Samples every other row. */
static void ink_colour(PIX *mask, PIX *pix, uint8_t rgb[3])
{
    double cnt[256] = {0}, sum[256][3];
    memset(sum, 0, sizeof sum);
    int w = pixGetWidth(mask), h = pixGetHeight(mask), d = pixGetDepth(pix);
    int mwpl = pixGetWpl(mask), pwpl = pixGetWpl(pix);
    double total = 0;
    for (int y = 0; y < h; y += 2) {
        const l_uint32 *mline = pixGetData(mask) + (size_t)y * mwpl;
        const l_uint32 *pline = pixGetData(pix) + (size_t)y * pwpl;
        for (int j = 0; j < mwpl; j++) {
            if (!mline[j])
                continue;
            for (int x = j * 32; x < j * 32 + 32 && x < w; x++) {
                if (!GET_DATA_BIT(mline, x))
                    continue;
                int c[3], lum;
                if (d == 32) {
                    l_uint32 px = pline[x];
                    c[0] = (int)(px >> L_RED_SHIFT) & 0xff;
                    c[1] = (int)(px >> L_GREEN_SHIFT) & 0xff;
                    c[2] = (int)(px >> L_BLUE_SHIFT) & 0xff;
                    lum = (77 * c[0] + 150 * c[1] + 29 * c[2]) >> 8;
                } else {
                    c[0] = c[1] = c[2] = lum = GET_DATA_BYTE(pline, x);
                }
                cnt[lum]++;
                for (int k = 0; k < 3; k++)
                    sum[lum][k] += c[k];
                total++;
            }
        }
    }
    double n = 0, acc[3] = {0};
    for (int v = 0; v < 256 && n < total / 2; v++) {
        n += cnt[v];
        for (int k = 0; k < 3; k++)
            acc[k] += sum[v][k];
    }
    for (int k = 0; k < 3; k++)
        rgb[k] = n > 0 ? (uint8_t)(acc[k] / n + 0.5) : 0;
}

/* Marks on the low-resolution grid every cell that holds a mask pixel,
 * then grows the marks by one cell: the anti-aliased halo around strokes
 * is as dark as text in the average of the cell next to it. */
static PIX *holes_at_low_res(PIX *mask, int lw, int lh)
{
    PIX *holes = pixCreate(lw, lh, 1);
    if (!holes)
        return NULL;
    int w = pixGetWidth(mask), h = pixGetHeight(mask), mwpl = pixGetWpl(mask);
    int hwpl = pixGetWpl(holes);
    l_uint32 *hdata = pixGetData(holes);
    for (int y = 0; y < h; y++) {
        const l_uint32 *mline = pixGetData(mask) + (size_t)y * mwpl;
        l_uint32 *hline = hdata + (size_t)((long)y * lh / h) * hwpl;
        for (int j = 0; j < mwpl; j++) {
            if (!mline[j])
                continue;
            for (int x = j * 32; x < j * 32 + 32 && x < w; x++) {
                if (GET_DATA_BIT(mline, x))
                    SET_DATA_BIT(hline, (int)((long)x * lw / w));
            }
        }
    }
    PIX *grown = pixDilateBrick(NULL, holes, 3, 3);
    pixDestroy(&holes);
    return grown;
}

/* One level of the fill pyramid: nc interleaved channels and a "known"
 * flag per pixel. */
typedef struct {
    int w, h;
    uint8_t *v;     /* w * h * nc */
    uint8_t *known; /* w * h */
} level;

/* Fills the unknown pixels of `lv[0]` by pull-push: averages of known
 * pixels are pulled up a 2x pyramid until every cell is known, then pushed
 * back down into the holes. Holes get the colour of the paper around them,
 * smoothly, which JPEG codes in a few bits. Returns -1 on no memory. */
static int pull_push(level *lv, int nc)
{
    enum { MAXLV = 24 };
    level pyr[MAXLV];
    pyr[0] = *lv;
    int n = 1, rc = 0;
    while (n < MAXLV && (pyr[n - 1].w > 1 || pyr[n - 1].h > 1)) {
        level *a = &pyr[n - 1], *b = &pyr[n];
        b->w = (a->w + 1) / 2;
        b->h = (a->h + 1) / 2;
        b->v = malloc((size_t)b->w * b->h * nc);
        b->known = malloc((size_t)b->w * b->h);
        n++;
        if (!b->v || !b->known) {
            rc = -1;
            break;
        }
        bool all = true;
        for (int y = 0; y < b->h; y++) {
            for (int x = 0; x < b->w; x++) {
                int s[3] = {0}, k = 0;
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        int ax = 2 * x + dx, ay = 2 * y + dy;
                        if (ax >= a->w || ay >= a->h || !a->known[(size_t)ay * a->w + ax])
                            continue;
                        for (int c = 0; c < nc; c++)
                            s[c] += a->v[((size_t)ay * a->w + ax) * nc + c];
                        k++;
                    }
                }
                size_t i = (size_t)y * b->w + x;
                b->known[i] = k > 0;
                all &= k > 0;
                for (int c = 0; c < nc; c++)
                    b->v[i * nc + c] = k ? (uint8_t)((s[c] + k / 2) / k) : 255;
            }
        }
        if (all)
            break;
    }
    /* Push: from the coarsest level down, holes take their parent's value
     * (a hole-free level, or the all-white default at the 1x1 top). */
    for (int l = n - 2; l >= 0 && rc == 0; l--) {
        level *a = &pyr[l], *b = &pyr[l + 1];
        for (int y = 0; y < a->h; y++) {
            for (int x = 0; x < a->w; x++) {
                size_t i = (size_t)y * a->w + x;
                if (a->known[i])
                    continue;
                size_t p = (size_t)(y / 2) * b->w + x / 2;
                memcpy(a->v + i * nc, b->v + p * nc, nc);
                a->known[i] = 1;
            }
        }
    }
    for (int l = 1; l < n; l++) {
        free(pyr[l].v);
        free(pyr[l].known);
    }
    return rc;
}

/* Replaces the pixels of `low` (8 or 32 bpp) under `holes` by the
 * surrounding background. */
static int erase_text(PIX *low, PIX *holes)
{
    int w = pixGetWidth(low), h = pixGetHeight(low), nc = pixGetDepth(low) == 32 ? 3 : 1;
    level lv = {.w = w, .h = h};
    lv.v = malloc((size_t)w * h * nc);
    lv.known = malloc((size_t)w * h);
    int rc = -1;
    if (!lv.v || !lv.known)
        goto out;
    int lwpl = pixGetWpl(low), hwpl = pixGetWpl(holes);
    for (int y = 0; y < h; y++) {
        const l_uint32 *line = pixGetData(low) + (size_t)y * lwpl;
        const l_uint32 *hline = pixGetData(holes) + (size_t)y * hwpl;
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            lv.known[i] = !GET_DATA_BIT(hline, x);
            if (nc == 3) {
                lv.v[i * 3 + 0] = (uint8_t)(line[x] >> L_RED_SHIFT);
                lv.v[i * 3 + 1] = (uint8_t)(line[x] >> L_GREEN_SHIFT);
                lv.v[i * 3 + 2] = (uint8_t)(line[x] >> L_BLUE_SHIFT);
            } else {
                lv.v[i] = (uint8_t)GET_DATA_BYTE(line, x);
            }
        }
    }
    if (pull_push(&lv, nc) != 0)
        goto out;
    for (int y = 0; y < h; y++) {
        l_uint32 *line = pixGetData(low) + (size_t)y * lwpl;
        const l_uint32 *hline = pixGetData(holes) + (size_t)y * hwpl;
        for (int x = 0; x < w; x++) {
            if (!GET_DATA_BIT(hline, x))
                continue;
            const uint8_t *v = lv.v + ((size_t)y * w + x) * nc;
            if (nc == 3)
                composeRGBPixel(v[0], v[1], v[2], &line[x]);
            else
                SET_DATA_BYTE(line, x, v[0]);
        }
    }
    rc = 0;
out:
    free(lv.v);
    free(lv.known);
    return rc;
}

/* The page area-averaged to the background resolution. */
static PIX *background_image(PIX *pix, int dpi, const encode_options *opt)
{
    int bg_dpi = opt->mrc_bg_dpi > 0 ? opt->mrc_bg_dpi : 100;
    float s = bg_dpi >= dpi ? 1.0f : (float)bg_dpi / (float)dpi;
    return s < 1.0f ? pixScaleAreaMap(pix, s, s) : pixCopy(NULL, pix);
}

/* Erases the text of `mask` from `low` (except in coloured cells, which
 * hold stamp or signature ink next to the text) and JPEG-compresses it. */
static int encode_background(PIX *low, PIX *mask, PIX *cells, const encode_options *opt,
                             pdf_image *out, sohoa_err *err)
{
    PIX *holes = holes_at_low_res(mask, pixGetWidth(low), pixGetHeight(low));
    if (holes && cells)
        pixSubtract(holes, holes, cells);
    int rc = holes ? erase_text(low, holes) : -1;
    pixDestroy(&holes);
    if (rc != 0)
        return err_set(err, SOHOA_EWORK, "encode: out of memory erasing the text layer");
    int q = opt->mrc_bg_quality >= 1 && opt->mrc_bg_quality <= 100 ? opt->mrc_bg_quality : 50;
    /* Full-resolution chroma: with the usual 4:2:0 sampling a 100 dpi
     * background keeps colour at 50 dpi, and thin stamp rings and pen
     * strokes fade to gray. Costs ~25% of a small layer. */
    pixSetChromaSampling(low, 0);
    return encode_jpeg(low, q, out, err);
}

static int encode_mrc(PIX *pix, int dpi, const encode_options *opt, pdf_image *layers,
                      size_t *nlayers, sohoa_err *err)
{
    *nlayers = 0;
    PIX *low = background_image(pix, dpi, opt);
    PIX *mask = low ? prep_binarize(pix, dpi) : NULL;
    PIX *cells = mask && pixGetDepth(pix) == 32 ? coloured_cells(low) : NULL;
    if (!mask || (pixGetDepth(pix) == 32 && !cells)) {
        pixDestroy(&low);
        pixDestroy(&mask);
        return err_set(err, SOHOA_EWORK, "encode: out of memory separating text");
    }
    /* The text mask: dark pixels of the binarised page, minus coloured ink. */
    if (cells)
        drop_coloured_ink(mask, pix, cells);
    int rc = encode_background(low, mask, cells, opt, &layers[0], err);
    pixDestroy(&low);
    pixDestroy(&cells);
    *nlayers = rc == 0 ? 1 : 0;
    l_int32 empty = 1;
    pixZero(mask, &empty);
    if (rc == 0 && !empty) {
        rc = encode_g4(mask, &layers[1], err);
        if (rc == 0) {
            layers[1].is_mask = true;
            ink_colour(mask, pix, layers[1].fill_rgb);
            *nlayers = 2;
        }
    }
    pixDestroy(&mask);
    return rc;
}

/* ---- entry point -------------------------------------------------------- */

int encode_page(struct Pix *pix, int dpi, const encode_options *opt, pdf_image **layers,
                size_t *nlayers, sohoa_err *err)
{
    if (layers)
        *layers = NULL;
    if (nlayers)
        *nlayers = 0;
    if (!pix || !layers || !nlayers)
        return err_set(err, SOHOA_EINPUT, "encode: no image");
    if (pixGetWidth(pix) < 1 || pixGetHeight(pix) < 1)
        return err_set(err, SOHOA_EINPUT, "encode: empty image");
    encode_options def = encode_defaults();
    if (!opt)
        opt = &def;
    if (dpi <= 0)
        dpi = 300;

    PIX *page = normalise_depth(pix, dpi);
    if (!page)
        return err_set(err, SOHOA_EWORK, "encode: cannot convert a %d bpp image",
                       pixGetDepth(pix));
    int depth = pixGetDepth(page);
    encode_mode mode = opt->mode;
    if (mode == ENCODE_AUTO)
        mode = depth == 1 ? ENCODE_G4 : ENCODE_MRC;
    /* A bitonal scan has no background to separate: MRC degenerates to G4. */
    if (mode == ENCODE_MRC && depth == 1)
        mode = ENCODE_G4;

    pdf_image *out = calloc(2, sizeof *out);
    if (!out) {
        pixDestroy(&page);
        return err_set(err, SOHOA_EWORK, "encode: out of memory");
    }
    size_t n = 0;
    int rc = 0;
    if (mode == ENCODE_JPEG) {
        PIX *p8 = depth == 1 ? pixConvertTo8(page, 0) : pixClone(page);
        rc = p8 ? encode_jpeg(p8, opt->jpeg_quality, &out[0], err)
                : err_set(err, SOHOA_EWORK, "encode: out of memory");
        pixDestroy(&p8);
        n = rc == 0;
    } else if (mode == ENCODE_G4) {
        PIX *bin = depth == 1 ? pixClone(page) : prep_binarize(page, dpi);
        rc = bin ? encode_g4(bin, &out[0], err)
                 : err_set(err, SOHOA_EWORK, "encode: binarisation failed");
        pixDestroy(&bin);
        n = rc == 0;
    } else {
        rc = encode_mrc(page, dpi, opt, out, &n, err);
    }
    pixDestroy(&page);
    if (rc != 0) {
        encode_free_layers(out, n);
        return -1;
    }
    *layers = out;
    *nlayers = n;
    return 0;
}
