/* test_encode.c — JPEG, G4 and MRC layers.
 *
 * The CCITT data is checked by decoding it: it is wrapped in a minimal
 * TIFF (Compression 4, PhotometricInterpretation MinIsWhite, i.e. black
 * runs = 1 bits) and read back with leptonica/libtiff. Pages are
 * generated; the tests on real scans read ../shared/samples (or
 * $SOHOA_SAMPLES) and are skipped when it is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>

#include "ocr/encode.h"
#include "ocr/preprocess.h"
#include "samples.h"

#define PW 2480
#define PH 3508

static const l_uint32 PAPER = 0xf5f0e400; /* cream */
static const l_uint32 RED = 0xd2282d00;   /* stamp ink */

static const char *LINE = "Thu truong cac co quan, don vi chiu trach nhiem truoc Chu tich";

/* Text lines in `val` (gray level or RGBA word) on `p`. */
static void text_lines(PIX *p, int n, int y0, l_uint32 val)
{
    L_BMF *bmf = bmfCreate(NULL, 12);
    assert_non_null(bmf);
    for (int i = 0; i < n; i++) {
        int w = 0, over = 0;
        pixSetTextline(p, bmf, LINE, val, 250, y0 + i * 48, &w, &over);
    }
    bmfDestroy(&bmf);
}

/* A 300 dpi colour page: cream paper, black text, and a red stamp (ring
 * 8 px thick, radius 300, centred at 1500,2600, with red text inside)
 * printed over the last text lines. */
static PIX *stamped_page(void)
{
    PIX *p = pixCreate(PW, PH, 32);
    pixSetAllArbitrary(p, PAPER);
    pixSetResolution(p, 300, 300);
    text_lines(p, 50, 300, 0x18181800);
    for (int y = 2600 - 310; y <= 2600 + 310; y++) {
        for (int x = 1500 - 310; x <= 1500 + 310; x++) {
            int d2 = (x - 1500) * (x - 1500) + (y - 2600) * (y - 2600);
            if (d2 >= 292 * 292 && d2 <= 300 * 300)
                pixSetPixel(p, x, y, RED);
        }
    }
    L_BMF *bmf = bmfCreate(NULL, 16);
    int w = 0, over = 0;
    pixSetTextline(p, bmf, "MAT", RED, 1420, 2820, &w, &over);
    bmfDestroy(&bmf);
    /* A scan passes through JPEG: chroma noise and subsampling. */
    l_uint8 *data = NULL;
    size_t len = 0;
    assert_int_equal(pixWriteMemJpeg(&data, &len, p, 90, 0), 0);
    PIX *q = pixReadMem(data, len);
    lept_free(data);
    pixDestroy(&p);
    pixSetResolution(q, 300, 300);
    return q;
}

/* The same kind of page in gray: 8 bpp. */
static PIX *gray_page(void)
{
    PIX *p = pixCreate(PW, PH, 8);
    pixSetAllArbitrary(p, 235);
    text_lines(p, 50, 300, 20);
    return p;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}

/* Decodes a CCITT G4 layer by wrapping it into a one-strip TIFF. With
 * MinIsWhite, the black runs read as 1 pixels: the ink. */
static PIX *decode_ccitt(const pdf_image *im)
{
    enum { NTAGS = 8, HDR = 8 + 2 + NTAGS * 12 + 4 };
    size_t size = HDR + im->len;
    uint8_t *t = calloc(1, size);
    assert_non_null(t);
    memcpy(t, "II", 2);
    put16(t + 2, 42);
    put32(t + 4, 8);
    put16(t + 8, NTAGS);
    const struct {
        unsigned tag, type;
        uint32_t val;
    } tags[NTAGS] = {
        {256, 4, (uint32_t)im->width}, {257, 4, (uint32_t)im->height}, {258, 3, 1},
        {259, 3, 4},                   {262, 3, 0},                     {273, 4, HDR},
        {278, 4, (uint32_t)im->height}, {279, 4, (uint32_t)im->len},
    };
    for (int i = 0; i < NTAGS; i++) {
        uint8_t *e = t + 10 + 12 * i;
        put16(e, tags[i].tag);
        put16(e + 2, tags[i].type);
        put32(e + 4, 1);
        if (tags[i].type == 3)
            put16(e + 8, tags[i].val);
        else
            put32(e + 8, tags[i].val);
    }
    memcpy(t + HDR, im->data, im->len);
    PIX *p = pixReadMemTiff(t, size, 0);
    free(t);
    return p;
}

static size_t total_bytes(const pdf_image *l, size_t n)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += l[i].len;
    return s;
}

static int encode(PIX *p, encode_mode mode, pdf_image **l, size_t *n)
{
    encode_options o = encode_defaults();
    o.mode = mode;
    sohoa_err err = {0};
    int rc = encode_page(p, 300, &o, l, n, &err);
    if (rc != 0)
        fprintf(stderr, "encode_page: %s\n", err.msg);
    return rc;
}

/* ---- options ------------------------------------------------------------ */

static void test_defaults_and_parse(void **state)
{
    encode_options o = encode_defaults();
    assert_int_equal(o.mode, ENCODE_AUTO);
    assert_int_equal(o.jpeg_quality, 75);
    assert_int_equal(o.mrc_bg_dpi, 100);
    assert_int_equal(o.mrc_bg_quality, 50);
    encode_mode m = ENCODE_AUTO;
    assert_int_equal(encode_mode_parse("mrc", &m), 0);
    assert_int_equal(m, ENCODE_MRC);
    assert_int_equal(encode_mode_parse("G4", &m), 0);
    assert_int_equal(m, ENCODE_G4);
    assert_int_equal(encode_mode_parse("jpeg", &m), 0);
    assert_int_equal(m, ENCODE_JPEG);
    assert_int_equal(encode_mode_parse("auto", &m), 0);
    assert_int_equal(m, ENCODE_AUTO);
    assert_int_equal(encode_mode_parse("png", &m), -1);
    assert_int_equal(encode_mode_parse(NULL, &m), -1);
}

static void test_bad_input(void **state)
{
    pdf_image *l = (pdf_image *)1;
    size_t n = 9;
    sohoa_err err = {0};
    assert_int_equal(encode_page(NULL, 300, NULL, &l, &n, &err), -1);
    assert_null(l);
    assert_int_equal(n, 0);
    assert_int_equal(err.status, SOHOA_EINPUT);
}

/* ---- JPEG --------------------------------------------------------------- */

static void test_jpeg_gray_and_colour(void **state)
{
    pdf_image *l;
    size_t n;
    PIX *g = gray_page();
    assert_int_equal(encode(g, ENCODE_JPEG, &l, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].filter, PDF_FILTER_DCT);
    assert_int_equal(l[0].ncomp, 1);
    assert_int_equal(l[0].width, PW);
    assert_int_equal(l[0].height, PH);
    assert_false(l[0].is_mask);
    encode_free_layers(l, n);

    /* The gray page scanned in RGB (through JPEG, with its colour noise)
     * is still a gray document. */
    PIX *g32 = pixConvertTo32(g);
    l_uint8 *d;
    size_t len;
    pixWriteMemJpeg(&d, &len, g32, 80, 0);
    PIX *rgb = pixReadMem(d, len);
    lept_free(d);
    assert_int_equal(pixGetDepth(rgb), 32);
    assert_int_equal(encode(rgb, ENCODE_JPEG, &l, &n), 0);
    assert_int_equal(l[0].ncomp, 1);
    encode_free_layers(l, n);

    /* A small blue signature (40 x 1 mm) makes it a colour document. */
    for (int x = 0; x < 470; x++)
        for (int t = 0; t < 10; t++)
            pixSetPixel(rgb, 1200 + x, 3000 + t + x / 20, 0x2a3ca000);
    assert_int_equal(encode(rgb, ENCODE_JPEG, &l, &n), 0);
    assert_int_equal(l[0].ncomp, 3);
    PIX *back = pixReadMem(l[0].data, l[0].len);
    assert_non_null(back);
    assert_int_equal(pixGetWidth(back), PW);
    pixDestroy(&back);
    encode_free_layers(l, n);

    pixDestroy(&rgb);
    pixDestroy(&g32);
    pixDestroy(&g);
}

/* ---- G4 ----------------------------------------------------------------- */

static void test_g4_roundtrip(void **state)
{
    PIX *g = gray_page();
    pdf_image *l;
    size_t n;
    assert_int_equal(encode(g, ENCODE_G4, &l, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].filter, PDF_FILTER_CCITT);
    assert_int_equal(l[0].bpc, 1);
    assert_int_equal(l[0].ncomp, 1);
    assert_false(l[0].is_mask);

    PIX *dec = decode_ccitt(&l[0]);
    assert_non_null(dec);
    assert_int_equal(pixGetWidth(dec), PW);
    assert_int_equal(pixGetHeight(dec), PH);
    PIX *bin = prep_binarize(g, 300);
    int ndec, nbin;
    pixCountPixels(dec, &ndec, NULL);
    pixCountPixels(bin, &nbin, NULL);
    assert_true(nbin > 100000); /* the text is there */
    assert_true(abs(ndec - nbin) <= nbin / 100);
    /* Polarity: ink is where the text is, paper is empty. */
    l_uint32 v;
    pixGetPixel(dec, 10, 10, &v);
    assert_int_equal(v, 0);
    BOX *textbox = boxCreate(250, 300, 1500, 40);
    int intext = 0;
    pixCountPixelsInRect(dec, textbox, &intext, NULL);
    assert_true(intext > 1000);
    boxDestroy(&textbox);
    encode_free_layers(l, n);
    pixDestroy(&dec);
    pixDestroy(&bin);
    pixDestroy(&g);
}

static void test_auto_bitonal_is_g4(void **state)
{
    PIX *g = gray_page();
    PIX *b = pixThresholdToBinary(g, 128);
    pdf_image *l;
    size_t n;
    assert_int_equal(encode(b, ENCODE_AUTO, &l, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].filter, PDF_FILTER_CCITT);
    PIX *dec = decode_ccitt(&l[0]);
    PIX *x = pixXor(NULL, dec, b);
    l_int32 same = 0;
    pixZero(x, &same);
    assert_true(same); /* a bitonal page is stored exactly */
    pixDestroy(&x);
    pixDestroy(&dec);
    encode_free_layers(l, n);
    pixDestroy(&b);
    pixDestroy(&g);
}

/* ---- MRC ---------------------------------------------------------------- */

/* Red pixels of the decoded background within `r` of (x, y), in page
 * coordinates. */
static int red_pixels_near(PIX *bg, int x, int y, int r)
{
    double s = (double)pixGetWidth(bg) / PW;
    int n = 0;
    for (int j = (int)((y - r) * s); j <= (int)((y + r) * s); j++) {
        for (int i = (int)((x - r) * s); i <= (int)((x + r) * s); i++) {
            l_uint32 v;
            l_int32 rr, gg, bb;
            if (pixGetPixel(bg, i, j, &v) != 0)
                continue;
            extractRGBValues(v, &rr, &gg, &bb);
            n += rr > 150 && rr - gg > 60 && rr - bb > 60;
        }
    }
    return n;
}

static void test_mrc_keeps_red_stamp(void **state)
{
    PIX *p = stamped_page();
    pdf_image *l, *j;
    size_t n, nj;
    assert_int_equal(encode(p, ENCODE_MRC, &l, &n), 0);
    assert_int_equal(encode(p, ENCODE_JPEG, &j, &nj), 0);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].filter, PDF_FILTER_DCT);
    assert_int_equal(l[0].ncomp, 3);
    assert_false(l[0].is_mask);
    assert_int_equal(l[1].filter, PDF_FILTER_CCITT);
    assert_true(l[1].is_mask);
    assert_int_equal(l[1].bpc, 1);
    assert_int_equal(l[1].width, PW);
    assert_int_equal(l[1].height, PH);
    for (int k = 0; k < 3; k++)
        assert_true(l[1].fill_rgb[k] < 80); /* dark text colour */
    assert_true(total_bytes(l, n) < total_bytes(j, nj));

    /* The background is at ~100 dpi and still red on the ring (left, top
     * and bottom points, clear of the text column) and the stamp text. */
    PIX *bg = pixReadMem(l[0].data, l[0].len);
    assert_non_null(bg);
    assert_int_equal(pixGetDepth(bg), 32);
    assert_in_range(pixGetWidth(bg), PW / 3 - 2, PW / 3 + 2);
    assert_true(red_pixels_near(bg, 1500 - 296, 2600, 12) >= 3);
    assert_true(red_pixels_near(bg, 1500, 2600 + 296, 12) >= 3);
    assert_true(red_pixels_near(bg, 1470, 2840, 40) >= 5);

    /* The mask has the text but not the stamp. */
    PIX *mask = decode_ccitt(&l[1]);
    assert_non_null(mask);
    BOX *ring = boxCreate(1500 - 302, 2600 - 40, 12, 80);
    int onring = -1, intext = 0;
    pixCountPixelsInRect(mask, ring, &onring, NULL);
    assert_true(onring < 20);
    boxDestroy(&ring);
    BOX *textbox = boxCreate(250, 300, 1500, 40);
    pixCountPixelsInRect(mask, textbox, &intext, NULL);
    assert_true(intext > 1000);
    boxDestroy(&textbox);

    /* Where the text was, the background is paper again (erased). */
    l_uint32 v;
    l_int32 rr, gg, bb;
    int dark = 0;
    for (int x = 260; x < 1700; x += 3) {
        pixGetPixel(bg, x / 3, (300 + 15) / 3, &v);
        extractRGBValues(v, &rr, &gg, &bb);
        dark += rr < 180;
    }
    assert_true(dark < 20);

    pixDestroy(&mask);
    pixDestroy(&bg);
    encode_free_layers(l, n);
    encode_free_layers(j, nj);
    pixDestroy(&p);
}

static void test_mrc_gray_has_gray_background(void **state)
{
    PIX *g = gray_page();
    pdf_image *l;
    size_t n;
    assert_int_equal(encode(g, ENCODE_AUTO, &l, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].ncomp, 1);
    assert_true(l[1].is_mask);
    assert_int_equal(l[1].fill_rgb[0], l[1].fill_rgb[1]);
    encode_free_layers(l, n);
    pixDestroy(&g);

    /* A blank page needs no mask. */
    PIX *blank = pixCreate(800, 1000, 8);
    pixSetAllArbitrary(blank, 240);
    assert_int_equal(encode(blank, ENCODE_MRC, &l, &n), 0);
    assert_int_equal(n, 1);
    encode_free_layers(l, n);
    pixDestroy(&blank);
}

static void test_mrc_sample_stamp(void **state)
{
    PIX *p = read_sample("doc003/page-1.jpg");
    if (!p)
        skip();
    pdf_image *l, *j;
    size_t n, nj;
    assert_int_equal(encode(p, ENCODE_MRC, &l, &n), 0);
    assert_int_equal(encode(p, ENCODE_JPEG, &j, &nj), 0);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].ncomp, 3);
    assert_true(total_bytes(l, n) < 150 * 1024);
    assert_true(total_bytes(l, n) < total_bytes(j, nj) / 4);
    /* The round seal sits around (1450, 2740) on this page. */
    PIX *bg = pixReadMem(l[0].data, l[0].len);
    assert_true(red_pixels_near(bg, 1450, 2740, 250) > 200);
    pixDestroy(&bg);
    encode_free_layers(l, n);
    encode_free_layers(j, nj);
    pixDestroy(&p);
}

int main(void)
{
    setLeptDebugOK(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_parse),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_jpeg_gray_and_colour),
        cmocka_unit_test(test_g4_roundtrip),
        cmocka_unit_test(test_auto_bitonal_is_g4),
        cmocka_unit_test(test_mrc_keeps_red_stamp),
        cmocka_unit_test(test_mrc_gray_has_gray_background),
        cmocka_unit_test(test_mrc_sample_stamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
