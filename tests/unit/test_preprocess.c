/* test_preprocess.c — blank detection, binarisation, skew, rotations.
 *
 * Pages are generated with leptonica's built-in bitmap font, so the tests
 * run on a fresh clone; the tests on real scans read ../shared/samples
 * (or $SOHOA_SAMPLES) and are skipped when it is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>
#include <math.h>

#include "ocr/preprocess.h"
#include "samples.h"

#define A4_W 2480
#define A4_H 3508

static const char *LINE = "Trong qua trinh thuc hien, neu co kho khan, vuong mac, cac co quan";

/* A 300 dpi A4 gray page of `paper` level with mild texture noise. */
static PIX *paper_page(int paper, unsigned seed)
{
    PIX *p = pixCreate(A4_W, A4_H, 8);
    assert_non_null(p);
    pixSetResolution(p, 300, 300);
    srand(seed);
    for (int y = 0; y < A4_H; y++)
        for (int x = 0; x < A4_W; x += 1)
            pixSetPixel(p, x, y, (l_uint32)(paper - 6 + rand() % 13));
    return p;
}

/* Writes `nlines` lines of text of gray level `val` on `p`, from `y0`. */
static void text_lines(PIX *p, int nlines, int y0, int val, int size)
{
    L_BMF *bmf = bmfCreate(NULL, size);
    assert_non_null(bmf);
    for (int i = 0; i < nlines; i++) {
        int w = 0, over = 0;
        pixSetTextline(p, bmf, LINE, (l_uint32)val, 250, y0 + i * (size * 4), &w, &over);
    }
    bmfDestroy(&bmf);
}

/* Darkens `p` with the content of `ink` (8 bpp, same size): minimum. */
static void overprint(PIX *p, PIX *ink)
{
    PIX *m = pixMinOrMax(NULL, p, ink, L_CHOOSE_MIN);
    pixCopy(p, m);
    pixDestroy(&m);
}

/* A duplex back: faint mirrored text from the front, paper texture, a
 * scanner shadow along the left edge and two punch holes (black discs,
 * 6 mm, 12 mm from the left edge). */
static PIX *duplex_back(void)
{
    PIX *p = paper_page(238, 1);
    PIX *front = pixCreate(A4_W, A4_H, 8);
    pixSetAll(front);
    text_lines(front, 40, 400, 200, 12); /* bleed-through: ~40 levels under paper */
    PIX *mirrored = pixFlipLR(NULL, front);
    overprint(p, mirrored);
    pixDestroy(&front);
    pixDestroy(&mirrored);
    pixRasterop(p, 0, 0, 45, A4_H, PIX_CLR, NULL, 0, 0); /* edge shadow */
    for (int k = 0; k < 2; k++) {
        int cx = 142, cy = k ? 2200 : 1300, r = 35;
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
                    pixSetPixel(p, x, y, 20);
    }
    return p;
}

/* ---- blank ------------------------------------------------------------- */

static void test_blank_white_page(void **state)
{
    PIX *p = paper_page(240, 7);
    blank_report r;
    sohoa_err err = {0};
    assert_int_equal(prep_detect_blank(p, 300, &r, &err), 0);
    assert_true(r.blank);
    assert_int_equal(r.components, 0);
    pixDestroy(&p);
}

static void test_blank_duplex_back_is_blank(void **state)
{
    PIX *p = duplex_back();
    blank_report r;
    assert_int_equal(prep_detect_blank(p, 300, &r, NULL), 0);
    assert_true(r.blank);
    pixDestroy(&p);
}

static void test_blank_four_words_not_blank(void **state)
{
    PIX *p = duplex_back();
    L_BMF *bmf = bmfCreate(NULL, 10);
    int w = 0, over = 0;
    pixSetTextline(p, bmf, "Kinh gui Van phong", 30, 1200, 1700, &w, &over);
    bmfDestroy(&bmf);
    blank_report r;
    assert_int_equal(prep_detect_blank(p, 300, &r, NULL), 0);
    assert_false(r.blank);
    assert_true(r.components >= 3);
    pixDestroy(&p);
}

static void test_blank_signature_not_blank(void **state)
{
    /* A lone scrawl 45 mm long, 2 px pen, blue-ish gray (~110). */
    PIX *p = paper_page(238, 3);
    for (int x = 0; x < 530; x++) {
        int y = 1800 + (int)(60 * sin(x / 40.0));
        for (int t = 0; t < 3; t++)
            pixSetPixel(p, 1000 + x, y + t, 110);
    }
    blank_report r;
    assert_int_equal(prep_detect_blank(p, 300, &r, NULL), 0);
    assert_false(r.blank);
    pixDestroy(&p);
}

static void test_blank_dpi_scaling(void **state)
{
    /* The same page at 150 dpi: still blank, and its words still count. */
    PIX *back = duplex_back();
    PIX *half = pixScaleAreaMap(back, 0.5f, 0.5f);
    blank_report r;
    assert_int_equal(prep_detect_blank(half, 150, &r, NULL), 0);
    assert_true(r.blank);
    pixDestroy(&half);
    L_BMF *bmf = bmfCreate(NULL, 10);
    int w = 0, over = 0;
    pixSetTextline(back, bmf, "Kinh gui Van phong", 30, 1200, 1700, &w, &over);
    bmfDestroy(&bmf);
    half = pixScaleAreaMap(back, 0.5f, 0.5f);
    assert_int_equal(prep_detect_blank(half, 150, &r, NULL), 0);
    assert_false(r.blank);
    pixDestroy(&half);
    pixDestroy(&back);
}

static void test_blank_real_page(void **state)
{
    PIX *p = read_sample("doc007/page-3.jpg"); /* the sparsest sample page */
    if (!p)
        skip();
    blank_report r;
    assert_int_equal(prep_detect_blank(p, 300, &r, NULL), 0);
    assert_false(r.blank);
    pixDestroy(&p);
}

static void test_blank_bad_args(void **state)
{
    blank_report r;
    sohoa_err err = {0};
    assert_int_equal(prep_detect_blank(NULL, 300, &r, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
}

/* ---- gray and binary ---------------------------------------------------- */

static void test_to_gray_depths(void **state)
{
    PIX *c = pixCreate(10, 10, 32);
    pixSetAllArbitrary(c, 0xff000000); /* pure red */
    PIX *g = prep_to_gray(c);
    assert_int_equal(pixGetDepth(g), 8);
    l_uint32 v;
    pixGetPixel(g, 5, 5, &v);
    assert_in_range(v, 70, 85); /* luminance of red: 0.3 * 255 */
    pixDestroy(&g);
    pixDestroy(&c);

    PIX *b = pixCreate(10, 10, 1);
    pixSetPixel(b, 2, 2, 1);
    g = prep_to_gray(b);
    assert_int_equal(pixGetDepth(g), 8);
    pixGetPixel(g, 2, 2, &v);
    assert_int_equal(v, 0); /* black ink stays black */
    pixGetPixel(g, 3, 3, &v);
    assert_int_equal(v, 255);
    pixDestroy(&g);
    pixDestroy(&b);
}

static void test_binarize_uneven_light(void **state)
{
    /* Text on paper that darkens from 235 to 150 across the page (a
     * shadow no global threshold survives): the text must come out, the
     * shadowed paper must not. */
    PIX *p = pixCreate(A4_W, 1200, 8);
    for (int y = 0; y < 1200; y++)
        for (int x = 0; x < A4_W; x++)
            pixSetPixel(p, x, y, (l_uint32)(235 - 85 * x / A4_W));
    PIX *ink = pixCreate(A4_W, 1200, 8);
    pixSetAll(ink);
    text_lines(ink, 10, 100, 0, 12);
    PIX *truth = pixThresholdToBinary(ink, 128);
    /* Ink at 60% of the local paper level. */
    for (int y = 0; y < 1200; y++)
        for (int x = 0; x < A4_W; x++) {
            l_uint32 a, b;
            pixGetPixel(ink, x, y, &a);
            if (a < 128) {
                pixGetPixel(p, x, y, &b);
                pixSetPixel(p, x, y, b * 35 / 100);
            }
        }
    PIX *bin = prep_binarize(p, 300);
    assert_non_null(bin);
    assert_int_equal(pixGetDepth(bin), 1);
    int nbin, ntruth, nxor;
    pixCountPixels(bin, &nbin, NULL);
    pixCountPixels(truth, &ntruth, NULL);
    PIX *x = pixXor(NULL, bin, truth);
    pixCountPixels(x, &nxor, NULL);
    assert_true(nxor < ntruth / 5); /* within 20% of the true strokes */
    /* The dark right edge of the paper is not ink. */
    BOX *edge = boxCreate(A4_W - 200, 0, 200, 1200);
    int nedge = 0;
    pixCountPixelsInRect(bin, edge, &nedge, NULL);
    assert_true(nedge < 200);
    boxDestroy(&edge);
    pixDestroy(&x);
    pixDestroy(&bin);
    pixDestroy(&truth);
    pixDestroy(&ink);
    pixDestroy(&p);
}

/* ---- skew --------------------------------------------------------------- */

static PIX *text_page(void)
{
    PIX *p = paper_page(235, 5);
    text_lines(p, 45, 300, 25, 12);
    return p;
}

/* Rotates `p` clockwise (as displayed) by `deg`: leptonica's convention. */
static PIX *rotate_cw(PIX *p, float deg)
{
    return pixRotate(p, deg * (float)M_PI / 180.0f, L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
}

static void check_skew_roundtrip(PIX *page)
{
    float a = 0, c = 0;
    assert_int_equal(prep_find_skew(page, &a, &c), 0);
    float base = a; /* the page's own skew, ~0 */
    assert_true(fabsf(base) < 0.7f);

    PIX *turned = rotate_cw(page, 3.0f);
    assert_int_equal(prep_find_skew(turned, &a, &c), 0);
    /* Turned clockwise: fixing it takes a counter-clockwise turn, which
     * the header's convention makes positive. */
    assert_true(fabsf(a - (3.0f + base)) <= 0.3f);
    assert_true(c > 3.0f);

    PIX *fixed = prep_deskew(turned, a);
    assert_non_null(fixed);
    float a2 = 99, c2 = 0;
    assert_int_equal(prep_find_skew(fixed, &a2, &c2), 0);
    assert_true(fabsf(a2) <= 0.3f);
    pixDestroy(&fixed);
    pixDestroy(&turned);

    /* And the other way round. */
    turned = rotate_cw(page, -2.0f);
    assert_int_equal(prep_find_skew(turned, &a, &c), 0);
    assert_true(fabsf(a - (-2.0f + base)) <= 0.3f);
    pixDestroy(&turned);
}

static void test_skew_generated(void **state)
{
    PIX *p = text_page();
    check_skew_roundtrip(p);
    pixDestroy(&p);
}

static void test_skew_sample(void **state)
{
    PIX *p = read_sample("doc004/page-1.jpg");
    if (!p)
        skip();
    check_skew_roundtrip(p);
    pixDestroy(&p);
}

static void test_skew_blank_page_no_confidence(void **state)
{
    PIX *p = paper_page(240, 9);
    float a = 5, c = 5;
    assert_int_equal(prep_find_skew(p, &a, &c), 0);
    assert_true(c < 3.0f);
    pixDestroy(&p);
}

/* ---- rotations ---------------------------------------------------------- */

static void test_rotate_orth(void **state)
{
    PIX *p = pixCreate(100, 60, 8);
    pixSetAll(p);
    pixSetPixel(p, 0, 0, 0); /* top-left marker */
    PIX *r = prep_rotate_orth(p, 90);
    assert_int_equal(pixGetWidth(r), 60);
    assert_int_equal(pixGetHeight(r), 100);
    l_uint32 v;
    pixGetPixel(r, 59, 0, &v); /* clockwise: top-left → top-right */
    assert_int_equal(v, 0);
    pixDestroy(&r);
    r = prep_rotate_orth(p, 180);
    assert_int_equal(pixGetWidth(r), 100);
    pixGetPixel(r, 99, 59, &v);
    assert_int_equal(v, 0);
    pixDestroy(&r);
    r = prep_rotate_orth(p, 270);
    pixGetPixel(r, 0, 99, &v);
    assert_int_equal(v, 0);
    pixDestroy(&r);
    assert_null(prep_rotate_orth(p, 45));
    pixDestroy(&p);
}

static void test_deskew_keeps_size_and_paper(void **state)
{
    /* Gray: paper 200 (not white), with text. */
    PIX *g = paper_page(200, 11);
    text_lines(g, 20, 300, 20, 12);
    PIX *r = prep_deskew(g, 4.0f);
    assert_int_equal(pixGetWidth(r), A4_W);
    assert_int_equal(pixGetHeight(r), A4_H);
    l_uint32 v;
    pixGetPixel(r, 2, 2, &v);
    assert_in_range(v, 190, 210);
    pixGetPixel(r, A4_W - 3, A4_H - 3, &v);
    assert_in_range(v, 190, 210);
    pixDestroy(&r);
    pixDestroy(&g);

    /* Colour: cream paper. */
    PIX *c = pixCreate(1200, 1600, 32);
    pixSetAllArbitrary(c, 0xf0e6c800);
    r = prep_deskew(c, -3.0f);
    assert_int_equal(pixGetWidth(r), 1200);
    assert_int_equal(pixGetHeight(r), 1600);
    l_int32 rr, gg, bb;
    pixGetPixel(r, 1, 1, &v);
    extractRGBValues(v, &rr, &gg, &bb);
    assert_in_range(rr, 0xe8, 0xf8);
    assert_in_range(gg, 0xde, 0xee);
    assert_in_range(bb, 0xc0, 0xd0);
    pixDestroy(&r);
    pixDestroy(&c);

    /* Bitonal: corners white (0). */
    PIX *b = pixCreate(800, 1000, 1);
    pixSetAll(b);
    r = prep_deskew(b, 2.0f);
    assert_int_equal(pixGetWidth(r), 800);
    pixGetPixel(r, 0, 0, &v);
    assert_int_equal(v, 0);
    pixGetPixel(r, 400, 500, &v);
    assert_int_equal(v, 1);
    pixDestroy(&r);
    pixDestroy(&b);

    /* Out of range, and the tiny-angle copy. */
    PIX *t = pixCreate(50, 50, 8);
    assert_null(prep_deskew(t, 12.0f));
    r = prep_deskew(t, 0.01f);
    assert_non_null(r);
    assert_ptr_not_equal(r, t);
    pixDestroy(&r);
    pixDestroy(&t);
}

/* A 32 bpp strip of four 20 px squares: paper, black text, violet stamp
 * ink (the clerk's ĐẾN stamp), blue ballpoint (a handwritten number). */
static PIX *ink_strip(void)
{
    static const int rgb[4][3] = {{240, 238, 232}, {20, 20, 22}, {150, 110, 165}, {50, 60, 170}};
    PIX *pix = pixCreate(80, 20, 32);
    assert_non_null(pix);
    for (int k = 0; k < 4; k++) {
        l_uint32 v = 0;
        composeRGBPixel(rgb[k][0], rgb[k][1], rgb[k][2], &v);
        BOX *b = boxCreate(k * 20, 0, 20, 20);
        pixSetInRectArbitrary(pix, b, v);
        boxDestroy(&b);
    }
    return pix;
}

static int level_at(PIX *gray8, int x)
{
    l_uint32 v = 0;
    pixGetPixel(gray8, x, 10, &v);
    return (int)v;
}

/* Colour dropout: violet stamp ink goes (nearly) to paper, black text and
 * blue handwriting stay as they were. */
static void test_drop_red_violet_not_blue(void **state)
{
    (void)state;
    PIX *color = ink_strip();
    PIX *gray = prep_to_gray(color);
    PIX *out = prep_drop_red(gray, color);
    assert_non_null(out);
    assert_true(level_at(gray, 50) < 140); /* the stamp was mid-gray */
    assert_true(level_at(out, 50) >= 215);
    assert_int_equal(level_at(out, 30), level_at(gray, 30));
    assert_int_equal(level_at(out, 70), level_at(gray, 70));
    assert_int_equal(level_at(out, 10), level_at(gray, 10));
    pixDestroy(&out);
    pixDestroy(&gray);
    pixDestroy(&color);
}

/* A gray page: text at 20, a stamp at 140, paper at 235. The stamp fades
 * to paper, the text is kept; a page without text contrast is left. */
static void test_drop_light_ink(void **state)
{
    (void)state;
    PIX *gray = pixCreate(100, 100, 8);
    assert_non_null(gray);
    pixSetAllArbitrary(gray, 235);
    BOX *text = boxCreate(0, 0, 100, 10), *seal = boxCreate(0, 50, 40, 4);
    pixSetInRectArbitrary(gray, text, 20);
    pixSetInRectArbitrary(gray, seal, 140);
    int from = 0, paper = 0;
    assert_int_equal(prep_light_ink_levels(gray, &from, &paper), 0);
    assert_int_equal(paper, 235);
    assert_true(from > 20 && from < 140);
    PIX *out = prep_drop_light_ink(gray);
    assert_non_null(out);
    l_uint32 v = 0;
    pixGetPixel(out, 10, 52, &v);
    assert_int_equal(v, 235);
    pixGetPixel(out, 10, 5, &v);
    assert_int_equal(v, 20);
    pixDestroy(&out);
    /* a faint photocopy: "text" at 140 on 235 paper has too little
     * contrast to tell a stamp from it */
    pixSetInRectArbitrary(gray, text, 140);
    assert_int_equal(prep_light_ink_levels(gray, &from, &paper), -1);
    out = prep_drop_light_ink(gray);
    assert_non_null(out);
    pixGetPixel(out, 10, 52, &v);
    assert_int_equal(v, 140);
    pixDestroy(&out);
    boxDestroy(&text);
    boxDestroy(&seal);
    pixDestroy(&gray);
}

/* A band of a gray page: text at 25, ring dashes left by the dropout at
 * 150, paper 240. Only the band is touched: the dashes in it go, the text
 * and its anti-aliased edge (at 80) stay, a dash outside stays. A band of
 * faint print (too little contrast to judge) is left alone. */
static void test_whiten_light(void **state)
{
    (void)state;
    PIX *gray = pixCreate(200, 120, 8);
    assert_non_null(gray);
    pixSetAllArbitrary(gray, 240);
    BOX *text = boxCreate(60, 20, 100, 20), *edge = boxCreate(60, 40, 100, 1);
    BOX *dash = boxCreate(10, 20, 30, 4), *outside = boxCreate(10, 100, 30, 4);
    BOX *faint = boxCreate(60, 75, 100, 20);
    pixSetInRectArbitrary(gray, text, 25);
    pixSetInRectArbitrary(gray, edge, 80);
    pixSetInRectArbitrary(gray, dash, 150);
    pixSetInRectArbitrary(gray, outside, 150);
    prep_whiten_light(gray, 0, 0, 200, 60);
    l_uint32 v = 0;
    pixGetPixel(gray, 20, 21, &v);
    assert_int_equal(v, 255);
    pixGetPixel(gray, 100, 30, &v);
    assert_int_equal(v, 25);
    pixGetPixel(gray, 100, 40, &v);
    assert_int_equal(v, 80);
    pixGetPixel(gray, 20, 101, &v);
    assert_int_equal(v, 150);
    /* faint print: "text" at 170 on 240 paper, a dash at 200 */
    pixSetInRectArbitrary(gray, faint, 170);
    pixSetInRectArbitrary(gray, outside, 200);
    prep_whiten_light(gray, 0, 60, 200, 120);
    pixGetPixel(gray, 20, 101, &v);
    assert_int_equal(v, 200);
    pixGetPixel(gray, 100, 80, &v);
    assert_int_equal(v, 170);
    prep_whiten_light(gray, -50, -50, 10000, 10000); /* clipped, no crash */
    boxDestroy(&text);
    boxDestroy(&edge);
    boxDestroy(&dash);
    boxDestroy(&outside);
    boxDestroy(&faint);
    pixDestroy(&gray);
}

int main(void)
{
    setLeptDebugOK(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blank_white_page),
        cmocka_unit_test(test_blank_duplex_back_is_blank),
        cmocka_unit_test(test_blank_four_words_not_blank),
        cmocka_unit_test(test_blank_signature_not_blank),
        cmocka_unit_test(test_blank_dpi_scaling),
        cmocka_unit_test(test_blank_real_page),
        cmocka_unit_test(test_blank_bad_args),
        cmocka_unit_test(test_to_gray_depths),
        cmocka_unit_test(test_binarize_uneven_light),
        cmocka_unit_test(test_skew_generated),
        cmocka_unit_test(test_skew_sample),
        cmocka_unit_test(test_skew_blank_page_no_confidence),
        cmocka_unit_test(test_rotate_orth),
        cmocka_unit_test(test_deskew_keeps_size_and_paper),
        cmocka_unit_test(test_drop_red_violet_not_blue),
        cmocka_unit_test(test_drop_light_ink),
        cmocka_unit_test(test_whiten_light),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
