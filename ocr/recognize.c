#include "recognize.h"
#include "line_band.h"
#include "preprocess.h"

#include <ctype.h>
#include <leptonica/allheaders.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "../firmware/log.h"

struct ocr_engine {
    TessBaseAPI *ocr; /* the configured languages */
    TessBaseAPI *osd; /* orientation and script detection only */
    TessBaseAPI *digits; /* handwritten digits, made on first use */
    bool digits_failed;  /* its model could not be loaded: not tried again */
    char *languages;
    char *datapath;
};

/* Settings that hold for every page. Each is a measured trade-off:
 * - tessedit_do_invert=0: Tesseract 5 re-reads every weak line as white
 *   on black, which costs ~30% of the time and never helps on office
 *   paper (no inverted text on it);
 * - debug output goes nowhere: the station logs its own messages. */
static int configure(TessBaseAPI *api)
{
    return TessBaseAPISetVariable(api, "tessedit_do_invert", "0") &&
           TessBaseAPISetVariable(api, "debug_file", "/dev/null");
}

ocr_engine *ocr_engine_new(const ocr_options *opt, sohoa_err *err)
{
    const char *langs = opt && opt->languages ? opt->languages : "vie";
    const char *datapath = opt ? opt->datapath : NULL;
    ocr_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->languages = strdup(langs)) || (datapath && !(e->datapath = strdup(datapath)))) {
        if (e)
            free(e->languages);
        free(e);
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    e->ocr = TessBaseAPICreate();
    e->osd = TessBaseAPICreate();
    if (!e->ocr || !e->osd) {
        ocr_engine_free(e);
        err_set(err, SOHOA_EWORK, "cannot create the OCR engine");
        return NULL;
    }
    if (TessBaseAPIInit3(e->ocr, datapath, langs) != 0) {
        ocr_engine_free(e);
        err_set(err, SOHOA_EWORK,
                "OCR language data \"%s\" not found in %s (install tesseract-ocr-vie and "
                "tesseract-ocr-eng, or run 'make deps')",
                langs, datapath ? datapath : "the default tessdata directory");
        return NULL;
    }
    if (TessBaseAPIInit3(e->osd, datapath, "osd") != 0) {
        ocr_engine_free(e);
        err_set(
            err, SOHOA_EWORK,
            "orientation data \"osd\" not found (install tesseract-ocr-osd, or run 'make deps')");
        return NULL;
    }
    if (!configure(e->ocr) || !configure(e->osd)) {
        ocr_engine_free(e);
        err_set(err, SOHOA_EWORK, "the OCR engine refused its settings");
        return NULL;
    }
    TessBaseAPISetPageSegMode(e->ocr, PSM_AUTO);
    TessBaseAPISetPageSegMode(e->osd, PSM_OSD_ONLY);
    return e;
}

void ocr_engine_free(ocr_engine *e)
{
    if (!e)
        return;
    if (e->ocr) {
        TessBaseAPIEnd(e->ocr);
        TessBaseAPIDelete(e->ocr);
    }
    if (e->osd) {
        TessBaseAPIEnd(e->osd);
        TessBaseAPIDelete(e->osd);
    }
    if (e->digits) {
        TessBaseAPIEnd(e->digits);
        TessBaseAPIDelete(e->digits);
    }
    free(e->languages);
    free(e->datapath);
    free(e);
}

/* Orientation detection needs shapes, not detail: 150 dpi is plenty and
 * four times cheaper than 300. */
#define OSD_DPI 150
#define OSD_MIN_CONF 1.5f /* Tesseract's own scale; below this it is guessing */

int ocr_detect_orientation(ocr_engine *e, PIX *pix, int dpi, int *rotate_cw, float *conf,
                           sohoa_err *err)
{
    *rotate_cw = 0;
    *conf = 0;
    PIX *small = NULL;
    int used_dpi = dpi;
    if (dpi > OSD_DPI) {
        float scale = (float)OSD_DPI / (float)dpi;
        small = pixGetDepth(pix) == 1 ? pixScaleToGray(pix, scale) : pixScale(pix, scale, scale);
        used_dpi = OSD_DPI;
    } else {
        small = pixClone(pix);
    }
    if (!small)
        return err_set(err, SOHOA_EWORK, "out of memory scaling a page for orientation");
    TessBaseAPISetImage2(e->osd, small);
    TessBaseAPISetSourceResolution(e->osd, used_dpi);
    int orient_deg = 0;
    float orient_conf = 0, script_conf = 0;
    const char *script = NULL;
    /* Fails (returns false) on pages with too little text: not an error. */
    if (TessBaseAPIDetectOrientationScript(e->osd, &orient_deg, &orient_conf, &script,
                                           &script_conf)) {
        /* Tesseract reports how far the page is turned counter-clockwise;
         * turning it back is the same angle clockwise. */
        if (orient_conf >= OSD_MIN_CONF) {
            *rotate_cw = ((orient_deg % 360) + 360) % 360;
            *conf = orient_conf >= 15.0f ? 1.0f : orient_conf / 15.0f;
        }
    }
    TessBaseAPIClear(e->osd);
    pixDestroy(&small);
    return 0;
}

/* NFC-normalises OCR output (Tesseract may emit decomposed diacritics)
 * and trims it. Returns NULL for an empty or invalid word. */
static char *clean_word(const char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\n'))
        len--;
    while (len && (*text == ' ' || *text == '\n')) {
        text++;
        len--;
    }
    if (len == 0 || u8_check((const uint8_t *)text, len) != NULL)
        return NULL;
    size_t outlen = 0;
    uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)text, len, NULL, &outlen);
    if (!nfc)
        return NULL;
    char *s = realloc(nfc, outlen + 1);
    if (!s) {
        free(nfc);
        return NULL;
    }
    s[outlen] = '\0';
    return s;
}

/* Classifies a pixel: 0 paper (or too light to be ink), 1 ink, 2 red ink.
 * "Red" is red dominating green and blue by a margin that survives JPEG
 * chroma subsampling and faded stamp ink. */
static int ink_kind(l_uint32 px)
{
    l_int32 r, g, b;
    extractRGBValues(px, &r, &g, &b);
    int minc = g < b ? g : b;
    if (minc > 170)
        return 0;
    return r - (g > b ? g : b) > 60 ? 2 : 1;
}

/* Red ink: stamps and seals. The test is on the colour image, at the
 * word's box: a pixel is "ink" when clearly darker than paper and "red"
 * when red dominates green and blue by a margin that survives JPEG. */
static float red_share(PIX *color, const ocr_box *b)
{
    if (!color || pixGetDepth(color) != 32)
        return 0;
    int w = pixGetWidth(color), h = pixGetHeight(color);
    int x0 = b->x0 < 0 ? 0 : b->x0, y0 = b->y0 < 0 ? 0 : b->y0;
    int x1 = b->x1 > w ? w : b->x1, y1 = b->y1 > h ? h : b->y1;
    l_uint32 *data = pixGetData(color);
    int wpl = pixGetWpl(color);
    long ink = 0, red = 0;
    /* Every other pixel in each direction: ample for a share. */
    for (int y = y0; y < y1; y += 2) {
        const l_uint32 *line = data + (long)y * wpl;
        for (int x = x0; x < x1; x += 2) {
            int k = ink_kind(line[x]);
            ink += k != 0;
            red += k == 2;
        }
    }
    return ink ? (float)red / (float)ink : 0;
}

static int collect_words(TessBaseAPI *api, ocr_page_text *out, sohoa_err *err)
{
    TessResultIterator *ri = TessBaseAPIGetIterator(api);
    if (!ri)
        return 0; /* nothing recognised */
    TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
    int block = -1, line = -1, rc = 0;
    ocr_box line_box = {0, 0, 0, 0};
    int baseline = 0;
    do {
        if (TessPageIteratorIsAtBeginningOf(pi, RIL_BLOCK))
            block++;
        if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) {
            line++;
            TessPageIteratorBoundingBox(pi, RIL_TEXTLINE, &line_box.x0, &line_box.y0, &line_box.x1,
                                        &line_box.y1);
            int bx0, by0, bx1, by1;
            baseline = line_box.y1;
            if (TessPageIteratorBaseline(pi, RIL_TEXTLINE, &bx0, &by0, &bx1, &by1))
                baseline = (by0 + by1) / 2;
        }
        char *raw = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
        char *text = clean_word(raw);
        TessDeleteText(raw);
        if (!text)
            continue;
        ocr_word w = {.text = text, .block = block < 0 ? 0 : block, .line = line < 0 ? 0 : line};
        TessPageIteratorBoundingBox(pi, RIL_WORD, &w.box.x0, &w.box.y0, &w.box.x1, &w.box.y1);
        w.line_box = line_box;
        w.baseline = baseline;
        float c = TessResultIteratorConfidence(ri, RIL_WORD) / 100.0f;
        w.conf = c < 0 ? 0 : c > 1 ? 1 : c;
        rc = ocr_page_add_word(out, &w);
        free(text);
        if (rc != 0) {
            err_set(err, SOHOA_EWORK, "out of memory storing OCR words");
            break;
        }
    } while (TessResultIteratorNext(ri, RIL_WORD));
    TessResultIteratorDelete(ri);
    return rc;
}

int ocr_recognize(ocr_engine *e, PIX *pix, int dpi, ocr_page_text *out, sohoa_err *err)
{
    out->width = pixGetWidth(pix);
    out->height = pixGetHeight(pix);
    out->dpi = dpi;
    TessBaseAPISetImage2(e->ocr, pix);
    TessBaseAPISetSourceResolution(e->ocr, dpi);
    if (TessBaseAPIRecognize(e->ocr, NULL) != 0) {
        TessBaseAPIClear(e->ocr);
        return err_set(err, SOHOA_EWORK, "OCR failed on a %dx%d page", out->width, out->height);
    }
    int rc = collect_words(e->ocr, out, err);
    TessBaseAPIClear(e->ocr);
    if (rc == 0 && ocr_page_drop_doubled(out) != 0)
        rc = err_set(err, SOHOA_EWORK, "out of memory sorting OCR words");
    return rc;
}

/* Digits are read with the English model, whose digit shapes are more
 * varied than the Vietnamese one's (measured on pen-written numbers); only
 * digits are allowed, so it cannot answer with letters. */
static TessBaseAPI *digits_api(ocr_engine *e)
{
    if (e->digits || e->digits_failed)
        return e->digits;
    TessBaseAPI *api = TessBaseAPICreate();
    const char *lang = "eng";
    if (api && TessBaseAPIInit3(api, e->datapath, lang) != 0)
        lang = e->languages; /* no English data: the page languages */
    if (api && strcmp(lang, "eng") != 0 && TessBaseAPIInit3(api, e->datapath, lang) != 0) {
        TessBaseAPIDelete(api);
        api = NULL;
    }
    if (api && (!configure(api) ||
                !TessBaseAPISetVariable(api, "tessedit_char_whitelist", "0123456789"))) {
        TessBaseAPIEnd(api);
        TessBaseAPIDelete(api);
        api = NULL;
    }
    if (!api) {
        log_warn("no OCR model for handwritten digits: they are left to the page's reading");
        e->digits_failed = true;
        return NULL;
    }
    TessBaseAPISetPageSegMode(api, PSM_SINGLE_LINE);
    e->digits = api;
    return api;
}

int ocr_read_digits(ocr_engine *e, PIX *pix, int dpi, char *out, size_t n, float *conf)
{
    out[0] = '\0';
    *conf = 0;
    TessBaseAPI *api = digits_api(e);
    if (!api || n < 2)
        return 0;
    TessBaseAPISetImage2(api, pix);
    TessBaseAPISetSourceResolution(api, dpi);
    size_t k = 0;
    if (TessBaseAPIRecognize(api, NULL) == 0) {
        char *t = TessBaseAPIGetUTF8Text(api);
        for (const char *p = t; p && *p && k + 1 < n; p++)
            if (*p >= '0' && *p <= '9')
                out[k++] = *p;
        out[k] = '\0';
        TessDeleteText(t);
        int mc = TessBaseAPIMeanTextConf(api);
        *conf = mc > 0 ? (float)mc / 100.0f : 0.0f;
    }
    TessBaseAPIClear(api);
    return k > 0;
}

static bool boxes_overlap(const ocr_box *a, const ocr_box *b)
{
    int w = (a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0);
    int h = (a->y1 < b->y1 ? a->y1 : b->y1) - (a->y0 > b->y0 ? a->y0 : b->y0);
    return w > 0 && h > 0 && (long)w * h * 2 > (long)(a->x1 - a->x0) * (a->y1 - a->y0);
}

static void scale_box(ocr_box *b, float f)
{
    b->x0 = (int)((float)b->x0 * f);
    b->y0 = (int)((float)b->y0 * f);
    b->x1 = (int)((float)b->x1 * f);
    b->y1 = (int)((float)b->y1 * f);
}

/* Whether the centre of `b` lies inside `r`. */
static bool centre_inside(const ocr_box *b, const ocr_box *r)
{
    int cx = (b->x0 + b->x1) / 2, cy = (b->y0 + b->y1) / 2;
    return cx >= r->x0 && cx < r->x1 && cy >= r->y0 && cy < r->y1;
}

/* The region x0,y0-x1,y1 of `pix`, clamped to it; false when too small to
 * hold a line. */
static bool clamp_region(PIX *pix, const ocr_box *region, float scale, ocr_box *r)
{
    int w = pixGetWidth(pix), h = pixGetHeight(pix);
    r->x0 = (int)((float)region->x0 / scale);
    r->y0 = (int)((float)region->y0 / scale);
    r->x1 = (int)((float)region->x1 / scale);
    r->y1 = (int)((float)region->y1 / scale);
    r->x0 = r->x0 < 0 ? 0 : r->x0;
    r->y0 = r->y0 < 0 ? 0 : r->y0;
    r->x1 = r->x1 > w ? w : r->x1;
    r->y1 = r->y1 > h ? h : r->y1;
    return r->x1 - r->x0 >= 16 && r->y1 - r->y0 >= 16;
}

/* OCR of rectangle `r` of `pix` in page segmentation `mode` into `found`. */
static int read_rect(ocr_engine *e, PIX *pix, int dpi, const ocr_box *r, TessPageSegMode mode,
                     ocr_page_text *found, sohoa_err *err)
{
    TessBaseAPISetImage2(e->ocr, pix);
    TessBaseAPISetSourceResolution(e->ocr, dpi);
    TessBaseAPISetRectangle(e->ocr, r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
    TessBaseAPISetPageSegMode(e->ocr, mode);
    int rc = 0;
    if (TessBaseAPIRecognize(e->ocr, NULL) == 0)
        rc = collect_words(e->ocr, found, err);
    TessBaseAPISetPageSegMode(e->ocr, PSM_AUTO);
    TessBaseAPIClear(e->ocr);
    return rc;
}

static void shift_box(ocr_box *b, int dx, int dy)
{
    b->x0 += dx;
    b->x1 += dx;
    b->y0 += dy;
    b->y1 += dy;
}

static void place_word(ocr_word *wd, int dx, int dy, float scale)
{
    shift_box(&wd->box, dx, dy);
    shift_box(&wd->line_box, dx, dy);
    wd->baseline += dy;
    scale_box(&wd->box, scale);
    scale_box(&wd->line_box, scale);
    wd->baseline = (int)((float)wd->baseline * scale);
}

/* Whether `b` and a word of `found` (placed) overlap over half of either. */
static bool overlaps_found(const ocr_box *b, const ocr_page_text *found, int dx, int dy,
                           float scale)
{
    for (size_t k = 0; k < found->nwords; k++) {
        ocr_word wd = found->words[k];
        place_word(&wd, dx, dy, scale);
        if (boxes_overlap(b, &wd.box) || boxes_overlap(&wd.box, b))
            return true;
    }
    return false;
}

/* An old word below SCRAP_CONF that a new one read at least WELL_READ
 * lies within is a scrap of the first look (a seal's ring read as one
 * tall letter over the name's first word): it gives way to the new one
 * instead of hiding it. */
#define SCRAP_CONF 0.3f
#define WELL_READ 0.8f

static bool scrap_over(const ocr_word *old, const ocr_word *new_word)
{
    return old->conf < SCRAP_CONF && new_word->conf >= WELL_READ &&
           boxes_overlap(&new_word->box, &old->box) && !boxes_overlap(&old->box, &new_word->box);
}

/* Adds the words of a second look at `region` to `out`: moved by dx,dy and
 * scaled by `scale` into page coordinates. With `replace`, the page's
 * own words centred in the region give way (when the second look read
 * something); with `prevail` too, so do those a new word overlaps (a word
 * that ran into the region from outside it), else a new word overlapping
 * an old one is dropped, but for a scrap over it (scrap_over). */
static int merge_found(ocr_page_text *out, const ocr_page_text *found, const ocr_box *region,
                       int dx, int dy, float scale, bool replace, bool prevail, sohoa_err *err)
{
    for (size_t i = out->nwords; replace && found->nwords > 0 && i-- > 0;)
        if (centre_inside(&out->words[i].box, region) ||
            (prevail && overlaps_found(&out->words[i].box, found, dx, dy, scale)))
            ocr_page_remove_word(out, i);
    int line0 = 0, block0 = 0;
    for (size_t i = 0; i < out->nwords; i++) {
        if (out->words[i].line >= line0)
            line0 = out->words[i].line + 1;
        if (out->words[i].block >= block0)
            block0 = out->words[i].block + 1;
    }
    for (size_t i = 0; i < found->nwords; i++) {
        ocr_word wd = found->words[i];
        place_word(&wd, dx, dy, scale);
        bool dup = false;
        for (size_t k = out->nwords; k-- > 0 && !dup;) {
            if (scrap_over(&out->words[k], &wd))
                ocr_page_remove_word(out, k);
            else
                dup = boxes_overlap(&wd.box, &out->words[k].box);
        }
        if (dup)
            continue;
        wd.line += line0;
        wd.block += block0;
        if (ocr_page_add_word(out, &wd) != 0)
            return err_set(err, SOHOA_EWORK, "out of memory storing OCR words");
    }
    return 0;
}

int ocr_recognize_region(ocr_engine *e, PIX *pix, int dpi, const ocr_box *region, float scale,
                         bool replace, ocr_page_text *out, sohoa_err *err)
{
    ocr_box r;
    if (!clamp_region(pix, region, scale, &r))
        return 0;
    ocr_page_text found = {0};
    int rc = read_rect(e, pix, dpi, &r, PSM_SINGLE_BLOCK, &found, err);
    if (rc == 0)
        rc = merge_found(out, &found, region, 0, 0, scale, replace, false, err);
    ocr_page_text_free(&found);
    return rc;
}

int ocr_recognize_cut(ocr_engine *e, PIX *cut, int dpi, const ocr_box *region, float scale,
                      bool replace, ocr_page_text *out, sohoa_err *err)
{
    if (!cut || scale <= 0 || pixGetWidth(cut) < 16 || pixGetHeight(cut) < 16)
        return 0;
    ocr_page_text found = {0};
    ocr_box whole = {0, 0, pixGetWidth(cut), pixGetHeight(cut)};
    int rc = read_rect(e, cut, dpi, &whole, PSM_SINGLE_BLOCK, &found, err);
    if (rc == 0)
        rc = merge_found(out, &found, region, (int)lroundf((float)region->x0 / scale),
                         (int)lroundf((float)region->y0 / scale), scale, replace, false, err);
    ocr_page_text_free(&found);
    return rc;
}

int ocr_recognize_line(ocr_engine *e, PIX *pix, int dpi, const ocr_box *band, ocr_page_text *out,
                       sohoa_err *err)
{
    ocr_box r;
    if (!clamp_region(pix, band, 1.0f, &r))
        return 0;
    PIX *line = line_band_cut(pix, r.x0, r.y0, r.x1, r.y1);
    if (!line)
        return err_set(err, SOHOA_EWORK, "out of memory reading a line again");
    ocr_page_text found = {0};
    ocr_box whole = {0, 0, pixGetWidth(line), pixGetHeight(line)};
    int rc = read_rect(e, line, dpi, &whole, PSM_SINGLE_LINE, &found, err);
    for (size_t i = 0; i < found.nwords; i++)
        found.words[i].line_read = true;
    if (rc == 0)
        rc = merge_found(out, &found, band, r.x0, r.y0, 1.0f, true, true, err);
    ocr_page_text_free(&found);
    pixDestroy(&line);
    return rc;
}

/* Red blobs are looked for at 75 dpi: stamps are centimetres wide. */
#define MARK_DPI 75
#define MARK_MIN_MM 4.0f
#define MARK_MAX 16
/* Ink within this many levels of the paper is paper (gray pages). */
#define LIGHT_MARK_MARGIN 40
/* Frame pixels count as ink up to this far above the text level. */
#define LIGHT_INK_EDGE 20

/* A 1 bpp mask of red ink at MARK_DPI, blobs closed into solid regions. */
static PIX *red_mask(PIX *color, int dpi, float *scale)
{
    *scale = (float)MARK_DPI / (float)dpi;
    PIX *small = pixScaleAreaMap(color, *scale, *scale);
    if (!small)
        return NULL;
    int w = pixGetWidth(small), h = pixGetHeight(small);
    PIX *mask = pixCreate(w, h, 1);
    if (mask) {
        l_uint32 *src = pixGetData(small), *dst = pixGetData(mask);
        int swpl = pixGetWpl(small), dwpl = pixGetWpl(mask);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (ink_kind(src[(long)y * swpl + x]) == 2)
                    SET_DATA_BIT(dst + (long)y * dwpl, x);
    }
    pixDestroy(&small);
    if (!mask)
        return NULL;
    /* Join the letters of a stamp (about 3 mm apart at most). */
    PIX *closed = pixCloseSafeBrick(NULL, mask, 9, 9);
    pixDestroy(&mask);
    return closed;
}

/* Gray image of the red ink only (red = black, the rest = white), so that
 * OCR reads the stamp and not the black text it is stamped over. */
static PIX *redness_image(PIX *crop)
{
    int w = pixGetWidth(crop), h = pixGetHeight(crop);
    PIX *out = pixCreate(w, h, 8);
    if (!out)
        return NULL;
    l_uint32 *src = pixGetData(crop), *dst = pixGetData(out);
    int swpl = pixGetWpl(crop), dwpl = pixGetWpl(out);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            l_int32 r, g, b;
            extractRGBValues(src[(long)y * swpl + x], &r, &g, &b);
            int redness = r - (g > b ? g : b);
            int v = redness <= 20 ? 255 : redness >= 120 ? 0 : 255 - (redness - 20) * 255 / 100;
            SET_DATA_BYTE(dst + (long)y * dwpl, x, v);
        }
    return out;
}

/* Gray level below which the redness image counts as ink: redness above
 * about 40, well clear of the JPEG fringes around black text. */
#define MARK_INK_LEVEL 200

/* Paints white, in `gray` (a redness image: ink dark), the frame around a
 * mark, and tells whether any other ink is left to read.
 *
 * Why: a boxed mark or a rubber stamp is a frame around its letters, and
 * Tesseract's block layout then sees one picture and reads nothing. The
 * frame is easy to tell from letters by its connected component: an
 * outline (a box or a seal's ring) spans most of the mark's ink both ways,
 * as only a frame can (a letter is a fraction of a word); a rule (one side
 * of a box broken off by faded ink, an underline) spans most of it one way
 * and is at most about 1 mm thick the other way. Everything else is kept
 * as it is. Letters that touch the frame go with it, which costs little: a
 * stamp's letters rarely do.
 *
 * Returns the number of components left that are more than specks (0:
 * nothing inside the frame) and the size of their joint bounding box in
 * *ink_w, *ink_h; -1 when out of memory. */
static int remove_mark_frame(PIX *gray, int dpi, int *ink_w, int *ink_h)
{
    *ink_w = *ink_h = 0;
    PIX *bin = pixThresholdToBinary(gray, MARK_INK_LEVEL);
    PIX *frame = bin ? pixCreateTemplate(bin) : NULL;
    PIXA *comps = NULL;
    BOXA *boxes = frame ? pixConnComp(bin, &comps, 8) : NULL;
    if (!boxes) {
        pixDestroy(&bin);
        pixDestroy(&frame);
        return -1;
    }
    /* The extent of the ink, specks aside, is what a frame spans: the red
     * region found at 75 dpi can be a few millimetres larger. */
    int n = boxaGetCount(boxes), speck = dpi / 50 > 2 ? dpi / 50 : 2; /* 0.5 mm */
    int W = 0, H = 0;
    {
        int ux0 = INT_MAX, uy0 = INT_MAX, ux1 = 0, uy1 = 0;
        for (int i = 0; i < n; i++) {
            l_int32 x, y, w, h;
            boxaGetBoxGeometry(boxes, i, &x, &y, &w, &h);
            if (w < speck && h < speck)
                continue;
            ux0 = x < ux0 ? x : ux0;
            uy0 = y < uy0 ? y : uy0;
            ux1 = x + w > ux1 ? x + w : ux1;
            uy1 = y + h > uy1 ? y + h : uy1;
        }
        W = ux1 > ux0 ? ux1 - ux0 : 0;
        H = uy1 > uy0 ? uy1 - uy0 : 0;
    }
    int rule_max = dpi / 25 > 3 ? dpi / 25 : 3; /* 1 mm */
    int left = 0, nframe = 0;
    int ix0 = INT_MAX, iy0 = INT_MAX, ix1 = 0, iy1 = 0;
    for (int i = 0; i < n; i++) {
        l_int32 x, y, w, h;
        boxaGetBoxGeometry(boxes, i, &x, &y, &w, &h);
        bool wide = w * 10 >= W * 6, tall = h * 10 >= H * 6;
        if ((wide && tall) || (wide && h <= rule_max) || (tall && w <= rule_max)) {
            PIX *cp = pixaGetPix(comps, i, L_CLONE);
            pixRasterop(frame, x, y, w, h, PIX_SRC | PIX_DST, cp, 0, 0);
            pixDestroy(&cp);
            nframe++;
            continue;
        }
        if (w < speck && h < speck)
            continue; /* kept, but dust alone is not something to read */
        left++;
        ix0 = x < ix0 ? x : ix0;
        iy0 = y < iy0 ? y : iy0;
        ix1 = x + w > ix1 ? x + w : ix1;
        iy1 = y + h > iy1 ? y + h : iy1;
    }
    boxaDestroy(&boxes);
    pixaDestroy(&comps);
    pixDestroy(&bin);
    if (nframe) {
        /* One pixel more all round takes the frame's light anti-aliased
         * edge too, which Tesseract's own threshold could still see. */
        PIX *grown = pixDilateBrick(NULL, frame, 3, 3);
        if (!grown) {
            pixDestroy(&frame);
            return -1;
        }
        pixSetMasked(gray, grown, 0xff);
        pixDestroy(&grown);
    }
    pixDestroy(&frame);
    if (left) {
        *ink_w = ix1 - ix0;
        *ink_h = iy1 - iy0;
    }
    return left;
}

/* Stamps are put on by hand, often turned 10-15°: beyond the ±7° that the
 * page's skew search covers and the 10° that prep_deskew() accepts. A mark
 * is small, so a sweep of ±16° over it at full resolution costs little.
 * Leptonica's confidence is low on so few lines even when
 * the angle is right (1.3 on a stamp turned 12°; a round seal gives 0), so
 * the bar is 1.2 here, not the page's 2.0: on the generated sets that
 * straightens a 12° KHẨN that read as "vuẬN" and changes the text of no
 * other mark.
 * Returns the straightened image, or NULL when it is straight enough or
 * the measure is unsure. */
#define MARK_MAX_TURN 16.0f
static PIX *straighten_mark(PIX *gray)
{
    PIX *bin = pixThresholdToBinary(gray, MARK_INK_LEVEL);
    if (!bin)
        return NULL;
    l_float32 angle = 0, conf = 0;
    int rc = pixFindSkewSweepAndSearch(bin, &angle, &conf, 1, 1, MARK_MAX_TURN, 0.5f, 0.05f);
    pixDestroy(&bin);
    if (rc != 0 || conf < 1.2f || fabsf(angle) < 0.5f)
        return NULL;
    /* Leptonica gives the clockwise angle that straightens the image. */
    return pixRotateAMGray(gray, angle * (float)M_PI / 180.0f, 0xff);
}

/* One reading of a mark: its text, the number of letters in it and
 * Tesseract's mean confidence (0..100). */
typedef struct mark_read {
    char *text;
    int letters;
    int conf;
} mark_read;

static int count_letters(const char *s)
{
    int n = 0;
    const uint8_t *p = (const uint8_t *)s;
    ucs4_t uc;
    while (p && (p = u8_next(&uc, p)) != NULL)
        n += uc_is_alpha(uc);
    return n;
}

/* Keeps in *best the better of *best and *r and frees the other. A mark is
 * a word or two: a reading that found more letters saw more of it (the
 * misses are empty reads and reads of one or two fragments), and between
 * readings of equal length Tesseract's own confidence decides. Which word
 * the letters make is left to the extractor. */
static void keep_better(mark_read *best, mark_read *r)
{
    if (r->text && (!best->text || r->letters > best->letters ||
                    (r->letters == best->letters && r->conf > best->conf))) {
        free(best->text);
        *best = *r;
    } else {
        free(r->text);
    }
    r->text = NULL;
}

/* Reads `img` as one block and as sparse text and keeps the better: the
 * block mode reads lines in order (THƯỢNG KHẨN on two lines), the sparse
 * mode finds a lone word among stamp fragments that the block layout
 * treats as a picture. A mark crop is small, so two reads cost little. */
static void read_mark_modes(ocr_engine *e, PIX *img, int dpi, mark_read *best)
{
    static const TessPageSegMode modes[] = {PSM_SINGLE_BLOCK, PSM_SPARSE_TEXT};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        TessBaseAPISetPageSegMode(e->ocr, modes[i]);
        TessBaseAPISetImage2(e->ocr, img);
        TessBaseAPISetSourceResolution(e->ocr, dpi);
        if (TessBaseAPIRecognize(e->ocr, NULL) == 0) {
            char *raw = TessBaseAPIGetUTF8Text(e->ocr);
            mark_read r = {.text = clean_word(raw)};
            TessDeleteText(raw);
            int mc = TessBaseAPIMeanTextConf(e->ocr);
            r.conf = mc < 0 ? 0 : mc;
            r.letters = count_letters(r.text);
            keep_better(best, &r);
        }
        TessBaseAPIClear(e->ocr);
    }
    TessBaseAPISetPageSegMode(e->ocr, PSM_AUTO);
}

/* OCR of one mark region, given `gray`: the region's stamp ink alone,
 * dark on white (consumed). The ink is straightened (stamps are often a
 * little rotated), its frame removed, read in two modes, and turned a
 * quarter both ways when it reads as nothing or its ink is taller than
 * wide (a stamp put on sideways). */
static void read_mark_ink(ocr_engine *e, PIX *gray, int dpi, ocr_mark_region *m, char **text)
{
    *text = NULL;
    if (!gray)
        return;
    PIX *straight = straighten_mark(gray);
    if (straight) {
        pixDestroy(&gray);
        gray = straight;
    }
    int ink_w = 0, ink_h = 0;
    int left = remove_mark_frame(gray, dpi, &ink_w, &ink_h);
    /* An empty frame (or an outline alone) has nothing to read. Around the
     * rest, a margin of paper as on a page (3 mm): with the frame gone the
     * letters may touch the crop's edge, and Tesseract misreads those. */
    PIX *img = left > 0 ? pixAddBorder(gray, dpi / 8, 0xff) : NULL;
    pixDestroy(&gray);
    if (!img)
        return;
    mark_read best = {0};
    read_mark_modes(e, img, dpi, &best);
    if (best.letters == 0 || ink_h * 2 > ink_w * 3) {
        for (int quads = 1; quads <= 3; quads += 2) {
            PIX *turned = pixRotateOrth(img, quads);
            if (turned)
                read_mark_modes(e, turned, dpi, &best);
            pixDestroy(&turned);
        }
    }
    pixDestroy(&img);
    *text = best.text;
    m->conf = (float)best.conf / 100.0f;
}

static PIX *clip_box(PIX *pix, const ocr_box *b)
{
    BOX *box = boxCreate(b->x0, b->y0, b->x1 - b->x0, b->y1 - b->y0);
    PIX *crop = box ? pixClipRectangle(pix, box, NULL) : NULL;
    boxDestroy(&box);
    return crop;
}

/* Reads the mark region `m` from `ink` (its stamp ink alone, dark on
 * white; consumed) and adds it to the page. */
static int add_mark(ocr_engine *e, PIX *ink, int dpi, ocr_mark_region *m, ocr_page_text *out,
                    sohoa_err *err)
{
    char *text = NULL;
    read_mark_ink(e, ink, dpi, m, &text);
    m->text = text;
    int rc = ocr_page_add_mark(out, m) != 0
                 ? err_set(err, SOHOA_EWORK, "out of memory storing stamp regions")
                 : 0;
    free(text);
    return rc;
}

/* Back from a blob's box in a mask reduced by `scale` to a mark region in
 * page pixels, with a margin for the closing's rounding. */
static ocr_box blob_to_page(l_int32 x, l_int32 y, l_int32 w, l_int32 h, float scale, int page_w,
                            int page_h)
{
    float inv = 1.0f / scale;
    int pad = (int)(2 * inv);
    ocr_box b = {(int)(x * inv) - pad, (int)(y * inv) - pad, (int)((x + w) * inv) + pad,
                 (int)((y + h) * inv) + pad};
    b.x0 = b.x0 < 0 ? 0 : b.x0;
    b.y0 = b.y0 < 0 ? 0 : b.y0;
    b.x1 = b.x1 > page_w ? page_w : b.x1;
    b.y1 = b.y1 > page_h ? page_h : b.y1;
    return b;
}

/* Clears from `mask` (the page reduced by `scale`) the boxes of `skip`,
 * a millimetre wider all round than found. */
static void clear_boxes(PIX *mask, float scale, int dpi, const ocr_box *skip, size_t nskip)
{
    int mm = dpi * 10 / 254;
    for (size_t i = 0; i < nskip; i++) {
        int x0 = (int)((float)(skip[i].x0 - mm) * scale), y0 = (int)((float)(skip[i].y0 - mm) * scale);
        int x1 = (int)((float)(skip[i].x1 + mm) * scale), y1 = (int)((float)(skip[i].y1 + mm) * scale);
        pixRasterop(mask, x0, y0, x1 - x0, y1 - y0, PIX_CLR, NULL, 0, 0);
    }
}

/* Whether `boxa` holds a box of exactly this geometry. */
static bool has_box(BOXA *boxa, l_int32 x, l_int32 y, l_int32 w, l_int32 h)
{
    for (int j = 0; j < boxaGetCount(boxa); j++) {
        l_int32 bx, by, bw, bh;
        boxaGetBoxGeometry(boxa, j, &bx, &by, &bw, &bh);
        if (bx == x && by == y && bw == w && bh == h)
            return true;
    }
    return false;
}

/* The blobs of `mask` (the page reduced by `scale`) to read as marks:
 * those of the mask as it is, then, when the clerk's stamps are known
 * (`skip`), those that are new once the stamps are left out: a mark set
 * beside a stamp, which the stamp's ink joined into one blob read as the
 * stamp. The first are kept whatever the second are: a mark touching
 * the stamp's frame is not cut. */
static BOXA *mark_blobs(PIX *mask, float scale, int dpi, const ocr_box *skip, size_t nskip)
{
    BOXA *all = pixConnCompBB(mask, 8);
    PIX *apart = all && nskip ? pixCopy(NULL, mask) : NULL;
    if (!apart)
        return all;
    clear_boxes(apart, scale, dpi, skip, nskip);
    BOXA *more = pixConnCompBB(apart, 8);
    pixDestroy(&apart);
    for (int i = 0; more && i < boxaGetCount(more); i++) {
        l_int32 x, y, w, h;
        boxaGetBoxGeometry(more, i, &x, &y, &w, &h);
        BOX *b = boxaGetBox(more, i, L_CLONE);
        if (b && !has_box(all, x, y, w, h))
            boxaAddBox(all, b, L_COPY);
        boxDestroy(&b);
    }
    boxaDestroy(&more);
    return all;
}

int ocr_find_red_marks(ocr_engine *e, PIX *color, int dpi, const ocr_box *skip, size_t nskip,
                       ocr_page_text *out, sohoa_err *err)
{
    for (size_t i = 0; i < out->nwords; i++)
        out->words[i].red = red_share(color, &out->words[i].box);
    float scale = 1;
    PIX *mask = red_mask(color, dpi, &scale);
    if (!mask)
        return err_set(err, SOHOA_EWORK, "out of memory looking for stamps");
    BOXA *boxes = mark_blobs(mask, scale, dpi, skip, nskip);
    int n = boxes ? boxaGetCount(boxes) : 0;
    int min_side = (int)(MARK_MIN_MM / 25.4f * MARK_DPI);
    int rc = 0, found = 0;
    for (int i = 0; i < n && found < MARK_MAX && rc == 0; i++) {
        l_int32 x, y, w, h;
        boxaGetBoxGeometry(boxes, i, &x, &y, &w, &h);
        if (w < min_side || h < min_side)
            continue;
        ocr_mark_region m = {0};
        m.box = blob_to_page(x, y, w, h, scale, pixGetWidth(color), pixGetHeight(color));
        m.red = red_share(color, &m.box);
        PIX *crop = clip_box(color, &m.box);
        rc = add_mark(e, crop ? redness_image(crop) : NULL, dpi, &m, out, err);
        pixDestroy(&crop);
        found++;
    }
    boxaDestroy(&boxes);
    pixDestroy(&mask);
    return rc;
}

/* Ink on a gray page that is lighter than its text and not the edge of a
 * letter: what a red or violet stamp becomes in a gray scan. 1 bpp, page
 * size. The edge of black text is as light as that ink for a pixel or
 * two, so everything within 2 px of text-dark ink is left out. */
static PIX *light_ink_mask(PIX *gray, int from, int paper)
{
    PIX *dark = pixThresholdToBinary(gray, from);
    PIX *inked = pixThresholdToBinary(gray, paper - LIGHT_MARK_MARGIN);
    PIX *near = dark ? pixDilateBrick(NULL, dark, 5, 5) : NULL;
    PIX *light = inked && near ? pixSubtract(NULL, inked, near) : NULL;
    pixDestroy(&dark);
    pixDestroy(&inked);
    pixDestroy(&near);
    /* single-pixel specks (scanner noise) joined into blobs would be read */
    PIX *clean = light ? pixOpenBrick(NULL, light, 2, 2) : NULL;
    pixDestroy(&light);
    return clean;
}

static float mask_share(PIX *part, PIX *whole, const ocr_box *b)
{
    BOX *box = boxCreate(b->x0, b->y0, b->x1 - b->x0, b->y1 - b->y0);
    l_int32 np = 0, nw = 0;
    if (box) {
        pixCountPixelsInRect(part, box, &np, NULL);
        pixCountPixelsInRect(whole, box, &nw, NULL);
    }
    boxDestroy(&box);
    return nw > 0 ? (float)np / (float)nw : 0;
}

int ocr_find_gray_marks(ocr_engine *e, PIX *gray, int dpi, const ocr_box *skip, size_t nskip,
                        ocr_page_text *out, sohoa_err *err)
{
    int from = 0, paper = 255;
    if (!gray || pixGetDepth(gray) != 8 || prep_light_ink_levels(gray, &from, &paper) != 0)
        return 0; /* no contrast to tell stamp ink from text by */
    PIX *light = light_ink_mask(gray, from, paper);
    PIX *inked = light ? pixThresholdToBinary(gray, paper - LIGHT_MARK_MARGIN) : NULL;
    /* Regions at about MARK_DPI, as for red ink: halvings that keep any
     * pixel set, then the letters of a stamp joined (3 mm). */
    int halvings = dpi >= 225 ? 2 : 1;
    PIX *small = light ? pixReduceRankBinaryCascade(light, 1, halvings > 1 ? 1 : 0, 0, 0) : NULL;
    int res = dpi >> halvings, brick = (res * 3 * 10 / 254) | 1;
    PIX *mask = small ? pixCloseSafeBrick(NULL, small, brick, brick) : NULL;
    pixDestroy(&small);
    if (!mask || !inked) {
        pixDestroy(&light);
        pixDestroy(&inked);
        pixDestroy(&mask);
        return err_set(err, SOHOA_EWORK, "out of memory looking for stamps");
    }
    float scale = 1.0f / (float)(1 << halvings);
    BOXA *boxes = mark_blobs(mask, scale, dpi, skip, nskip);
    int n = boxes ? boxaGetCount(boxes) : 0;
    int min_side = (int)(MARK_MIN_MM / 25.4f * (float)res);
    int rc = 0, found = 0, half = pixGetHeight(gray) / 2;
    for (int i = 0; i < n && found < MARK_MAX && rc == 0; i++) {
        l_int32 x, y, w, h;
        boxaGetBoxGeometry(boxes, i, &x, &y, &w, &h);
        if (w < min_side || h < min_side)
            continue;
        ocr_mark_region m = {.gray = true};
        m.box = blob_to_page(x, y, w, h, scale, pixGetWidth(gray), pixGetHeight(gray));
        /* Marks and the clerk's stamp are in the header; the seal and the
         * signature further down are not read (their words are OCR's). */
        if (m.box.y0 > half)
            continue;
        m.red = mask_share(light, inked, &m.box);
        PIX *crop = clip_box(light, &m.box);
        rc = add_mark(e, crop ? pixConvert1To8(NULL, crop, 255, 0) : NULL, dpi, &m, out, err);
        pixDestroy(&crop);
        found++;
    }
    boxaDestroy(&boxes);
    pixDestroy(&mask);
    pixDestroy(&light);
    pixDestroy(&inked);
    return rc;
}

/* Whether component `c` (1 bpp, w × h) is a frame: ink along most of each
 * of its four sides and little inside, as a box drawn around a word. */
static bool is_frame(PIX *c, int w, int h)
{
    int wpl = pixGetWpl(c);
    l_uint32 *data = pixGetData(c);
    int band_w = w / 12 > 2 ? w / 12 : 2, band_h = h / 8 > 2 ? h / 8 : 2;
    int top = 0, bottom = 0, left = 0, right = 0;
    for (int x = 0; x < w; x++) {
        bool t = false, b = false;
        for (int y = 0; y < band_h; y++) {
            t |= GET_DATA_BIT(data + (long)y * wpl, x) != 0;
            b |= GET_DATA_BIT(data + (long)(h - 1 - y) * wpl, x) != 0;
        }
        top += t;
        bottom += b;
    }
    for (int y = 0; y < h; y++) {
        const l_uint32 *line = data + (long)y * wpl;
        bool l = false, r = false;
        for (int x = 0; x < band_w; x++) {
            l |= GET_DATA_BIT(line, x) != 0;
            r |= GET_DATA_BIT(line, w - 1 - x) != 0;
        }
        left += l;
        right += r;
    }
    l_int32 on = 0;
    pixCountPixels(c, &on, NULL);
    return top * 10 >= w * 8 && bottom * 10 >= w * 8 && left * 10 >= h * 8 && right * 10 >= h * 8 &&
           on * 3 < w * h;
}

/* Whether a blob of w × h pixels at `res` dpi has a boxed mark's size
 * (standards §5: a word or two of print-size capitals in a frame): 8-70 mm
 * wide, 4 to `max_h_mm` high, wider than high. */
static bool mark_box_sized(int res, int w, int h, int max_h_mm)
{
    int min_w = res * 8 * 10 / 254, max_w = res * 70 * 10 / 254;
    int min_h = res * 4 * 10 / 254, max_h = res * max_h_mm * 10 / 254;
    return w >= min_w && w <= max_w && h >= min_h && h <= max_h && w >= h;
}

/* The upper half of `gray` (8 bpp) as 1 bpp: ink as dark as print, or as
 * a frame drawn a little lighter (marks and the header are up there). */
static PIX *upper_half_dark(PIX *gray)
{
    int from = 0, paper = 255;
    int level = prep_light_ink_levels(gray, &from, &paper) == 0 ? from + LIGHT_INK_EDGE : 128;
    BOX *upper = boxCreate(0, 0, pixGetWidth(gray), pixGetHeight(gray) / 2);
    PIX *top = upper ? pixClipRectangle(gray, upper, NULL) : NULL;
    boxDestroy(&upper);
    PIX *bin = top ? pixThresholdToBinary(top, level) : NULL;
    pixDestroy(&top);
    return bin;
}

int ocr_find_framed_marks(ocr_engine *e, PIX *gray, int dpi, ocr_page_text *out, sohoa_err *err)
{
    if (!gray || pixGetDepth(gray) != 8)
        return 0;
    PIX *bin = upper_half_dark(gray);
    PIXA *comps = NULL;
    BOXA *boxes = bin ? pixConnComp(bin, &comps, 8) : NULL;
    pixDestroy(&bin);
    if (!boxes)
        return err_set(err, SOHOA_EWORK, "out of memory looking for boxed marks");
    int rc = 0, found = 0, n = boxaGetCount(boxes);
    for (int i = 0; i < n && found < MARK_MAX && rc == 0; i++) {
        l_int32 x, y, bw, bh;
        boxaGetBoxGeometry(boxes, i, &x, &y, &bw, &bh);
        /* a boxed mark, upright */
        if (!mark_box_sized(dpi, bw, bh, 25))
            continue;
        PIX *c = pixaGetPix(comps, i, L_CLONE);
        bool frame = c && is_frame(c, bw, bh);
        pixDestroy(&c);
        if (!frame)
            continue;
        ocr_mark_region m = {.framed = true};
        m.box = (ocr_box){x, y, x + bw, y + bh};
        rc = add_mark(e, clip_box(gray, &m.box), dpi, &m, out, err);
        found++;
    }
    boxaDestroy(&boxes);
    pixaDestroy(&comps);
    return rc;
}

/* Share of `b`'s area under the boxes of words OCR read with a letter or
 * digit in them. */
static float read_share(const ocr_page_text *pt, const ocr_box *b)
{
    long area = (long)(b->x1 - b->x0) * (b->y1 - b->y0), under = 0;
    for (size_t i = 0; i < pt->nwords && area > 0; i++) {
        const ocr_word *w = &pt->words[i];
        bool alnum = false;
        for (const unsigned char *p = (const unsigned char *)(w->text ? w->text : ""); *p; p++)
            alnum |= isalnum(*p) || *p >= 0x80;
        int x0 = w->box.x0 > b->x0 ? w->box.x0 : b->x0, x1 = w->box.x1 < b->x1 ? w->box.x1 : b->x1;
        int y0 = w->box.y0 > b->y0 ? w->box.y0 : b->y0, y1 = w->box.y1 < b->y1 ? w->box.y1 : b->y1;
        if (alnum && x1 > x0 && y1 > y0)
            under += (long)(x1 - x0) * (y1 - y0);
    }
    return area > 0 ? (float)under / (float)area : 1.0f;
}

static bool overlaps_region(const ocr_page_text *pt, const ocr_box *b)
{
    for (size_t i = 0; i < pt->nmarks; i++) {
        const ocr_box *m = &pt->marks[i].box;
        if (m->x0 < b->x1 && b->x0 < m->x1 && m->y0 < b->y1 && b->y0 < m->y1)
            return true;
    }
    return false;
}

int ocr_find_unread_marks(ocr_engine *e, PIX *gray, int dpi, ocr_page_text *out, sohoa_err *err)
{
    if (!gray || pixGetDepth(gray) != 8)
        return 0;
    /* a photocopy's dark edge is no mark, and a mark it runs into (an
     * urgency stamp in the top margin, the copy shifted) would join it
     * into one blob far too big: ink touching the page's edge goes */
    PIX *dark = upper_half_dark(gray);
    PIX *bin = dark ? pixRemoveBorderConnComps(dark, 8) : NULL;
    pixDestroy(&dark);
    /* A photocopy breaks a frame into dashes and its letters into pieces;
     * 2.5 mm joins them into one blob (print further apart stays apart:
     * the gap under a header line is wider). Halved first above 225 dpi,
     * keeping any ink. */
    int halvings = dpi >= 225 ? 1 : 0;
    PIX *small = halvings && bin ? pixReduceRankBinaryCascade(bin, 1, 0, 0, 0) : pixClone(bin);
    pixDestroy(&bin);
    int res = dpi >> halvings, brick = (res * 25 / 254) | 1;
    PIX *mask = small ? pixCloseSafeBrick(NULL, small, brick, brick) : NULL;
    pixDestroy(&small);
    BOXA *boxes = mask ? pixConnCompBB(mask, 8) : NULL;
    pixDestroy(&mask);
    if (!boxes)
        return err_set(err, SOHOA_EWORK, "out of memory looking for unread marks");
    float scale = 1.0f / (float)(1 << halvings);
    int rc = 0, found = 0, n = boxaGetCount(boxes);
    for (int i = 0; i < n && found < MARK_MAX && rc == 0; i++) {
        l_int32 x, y, bw, bh;
        boxaGetBoxGeometry(boxes, i, &x, &y, &bw, &bh);
        /* a boxed mark, turned up to ~15° (it gains height) */
        if (!mark_box_sized(res, bw, bh, 30))
            continue;
        ocr_mark_region m = {.unread = true};
        m.box = blob_to_page(x, y, bw, bh, scale, pixGetWidth(gray), pixGetHeight(gray));
        /* what the page's OCR read, or a mark already found, is known */
        if (read_share(out, &m.box) >= 0.2f || overlaps_region(out, &m.box))
            continue;
        rc = add_mark(e, clip_box(gray, &m.box), dpi, &m, out, err);
        const char *read = rc == 0 ? out->marks[out->nmarks - 1].text : NULL;
        log_debug("unread ink of a mark's size at %d,%d-%d,%d read \"%s\"", m.box.x0, m.box.y0,
                  m.box.x1, m.box.y1, read ? read : "");
        found++;
    }
    boxaDestroy(&boxes);
    return rc;
}
