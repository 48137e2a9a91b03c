/* test_line_band.c — a text line cut out of the page for a reading of its
 * own (ocr/line_band.c), on drawn pages: a stamp's frame crossing the line
 * (upright or turned a little, through a glyph), glyphs of three lines
 * stacked into a column that is no frame, and the pieces of the stamp's
 * lines that the band's edges cut through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>

#include "ocr/line_band.h"

#define PAGE_W 1200
#define PAGE_H 600
/* the band: a 44 px line with 4 px above and below (300 dpi) */
#define BAND_X0 100
#define BAND_X1 1100
#define BAND_Y0 276
#define BAND_Y1 328
#define LINE_TOP 280
#define LINE_BOT 324

static PIX *white_page(void)
{
    PIX *p = pixCreate(PAGE_W, PAGE_H, 8);
    assert_non_null(p);
    pixSetAllArbitrary(p, 255);
    return p;
}

static void rect(PIX *p, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (x >= 0 && y >= 0 && x < PAGE_W && y < PAGE_H)
                pixSetPixel(p, x, y, 0);
}

/* A frame's side: 3 px wide from y0 to y1, starting at x, moving one
 * pixel right every `every` rows (0: upright). */
static void side(PIX *p, int x, int y0, int y1, int every)
{
    for (int y = y0; y <= y1; y++) {
        int cx = x + (every ? (y - y0) / every : 0);
        rect(p, cx, y, cx + 2, y);
    }
}

/* Glyph-like blocks of the line: stems 8 px wide, x-height to baseline,
 * every 40 px from x0 to x1. */
static void glyphs(PIX *p, int x0, int x1)
{
    for (int x = x0; x + 8 < x1; x += 40)
        rect(p, x, LINE_TOP + 12, x + 8, LINE_BOT - 8);
}

/* Ink of page pixel (x, y) in the cut band (page coordinates). */
static int ink(PIX *band, int x, int y)
{
    l_uint32 v = 255;
    pixGetPixel(band, x - BAND_X0, y - BAND_Y0, &v);
    return v < 128;
}

static int ink_count(PIX *band, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            n += ink(band, x, y);
    return n;
}

static void frame_side_crossing_is_taken_out(void **st)
{
    (void)st;
    PIX *p = white_page();
    glyphs(p, 200, 1000);
    /* the stamp's left side, turned nearly 4°, 35 mm long across the line */
    side(p, 600, 100, 520, 15);
    PIX *band = line_band_cut(p, BAND_X0, BAND_Y0, BAND_X1, BAND_Y1);
    assert_non_null(band);
    assert_int_equal(pixGetWidth(band), BAND_X1 - BAND_X0);
    assert_int_equal(pixGetHeight(band), BAND_Y1 - BAND_Y0);
    /* the side's pixels inside the band are gone (at y the side is at
     * 600 + (y - 100) / 15) */
    for (int y = BAND_Y0; y < BAND_Y1; y++) {
        int cx = 600 + (y - 100) / 15;
        assert_int_equal(ink_count(band, cx, y, cx + 2, y), 0);
    }
    /* the glyphs away from it are all kept */
    assert_int_equal(ink_count(band, 200, LINE_TOP + 12, 208, LINE_BOT - 8), 9 * 25);
    assert_int_equal(ink_count(band, 960, LINE_TOP + 12, 968, LINE_BOT - 8), 9 * 25);
    pixDestroy(&band);
    pixDestroy(&p);
}

static void frame_through_a_glyph_keeps_the_glyph(void **st)
{
    (void)st;
    PIX *p = white_page();
    glyphs(p, 200, 1000);
    /* upright side through the middle of the glyph stem at 600..608 */
    side(p, 603, 100, 520, 0);
    PIX *band = line_band_cut(p, BAND_X0, BAND_Y0, BAND_X1, BAND_Y1);
    assert_non_null(band);
    /* above and below the glyph, the side is gone */
    assert_int_equal(ink_count(band, 600, BAND_Y0, 610, LINE_TOP + 10), 0);
    assert_int_equal(ink_count(band, 600, LINE_BOT - 6, 610, BAND_Y1 - 1), 0);
    /* the stem's two edges beside the side's width stay: only pixels under
     * the side (and one beside it) went */
    assert_true(ink(band, 600, 300));
    assert_true(ink(band, 608, 300));
    pixDestroy(&band);
    pixDestroy(&p);
}

static void stacked_glyphs_are_no_frame(void **st)
{
    (void)st;
    PIX *p = white_page();
    glyphs(p, 200, 1000);
    /* a column of ink as high as the band (a tail from the line above, a
     * stem, a capital of the line below, touching), but it stops there */
    rect(p, 700, BAND_Y0 - 6, 703, BAND_Y1 + 6);
    /* and a side that stops at the band's edges: too short for a frame */
    side(p, 850, BAND_Y0 - 10, BAND_Y1 + 10, 0);
    PIX *band = line_band_cut(p, BAND_X0, BAND_Y0, BAND_X1, BAND_Y1);
    assert_non_null(band);
    assert_int_equal(ink_count(band, 700, BAND_Y0, 703, BAND_Y1 - 1), 4 * (BAND_Y1 - BAND_Y0));
    assert_int_equal(ink_count(band, 850, BAND_Y0, 852, BAND_Y1 - 1), 3 * (BAND_Y1 - BAND_Y0));
    pixDestroy(&band);
    pixDestroy(&p);
}

/* A pen's wavy stroke down through the line and past it (a long tail of
 * the writing in the stamp) wanders off any straight line: no frame. */
static void wavy_stroke_is_no_frame(void **st)
{
    (void)st;
    PIX *p = white_page();
    glyphs(p, 200, 1000);
    static const int wave[8] = {0, 3, 6, 6, 6, 3, 0, 0};
    for (int y = 150; y < 450; y++) {
        int x = 660 + wave[(y / 4) % 8];
        rect(p, x, y, x + 2, y);
    }
    PIX *band = line_band_cut(p, BAND_X0, BAND_Y0, BAND_X1, BAND_Y1);
    assert_non_null(band);
    assert_int_equal(ink_count(band, 655, BAND_Y0, 670, BAND_Y1 - 1), 3 * (BAND_Y1 - BAND_Y0));
    pixDestroy(&band);
    pixDestroy(&p);
}

static void edge_pieces_of_other_lines_go(void **st)
{
    (void)st;
    PIX *p = white_page();
    glyphs(p, 200, 1000);
    /* the stamp's line above: its tails reach 10 px into the band */
    for (int x = 410; x < 700; x += 60)
        rect(p, x, 240, x + 6, BAND_Y0 + 10);
    /* the stamp's line below: its capitals' tops reach into the band */
    for (int x = 430; x < 700; x += 60)
        rect(p, x, BAND_Y1 - 12, x + 6, 360);
    /* a glyph of the line with a stroke of the stamp's line merged into
     * it: reaches the middle, so it stays */
    rect(p, 760, 240, 764, LINE_TOP + 20);
    PIX *band = line_band_cut(p, BAND_X0, BAND_Y0, BAND_X1, BAND_Y1);
    assert_non_null(band);
    assert_int_equal(ink_count(band, 410, BAND_Y0, 416, BAND_Y0 + 10), 0);
    assert_int_equal(ink_count(band, 430, BAND_Y1 - 12, 436, BAND_Y1 - 1), 0);
    assert_true(ink(band, 762, BAND_Y0));
    assert_true(ink(band, 762, LINE_TOP + 20));
    /* the line's own glyphs between them are kept whole */
    assert_int_equal(ink_count(band, 440, LINE_TOP + 12, 448, LINE_BOT - 8), 9 * 25);
    pixDestroy(&band);
    pixDestroy(&p);
}

static void bad_input(void **st)
{
    (void)st;
    PIX *p = white_page();
    assert_null(line_band_cut(NULL, 0, 0, 10, 10));
    assert_null(line_band_cut(p, 10, 10, 10, 20));
    assert_null(line_band_cut(p, 10, 20, 30, 20));
    PIX *c = pixConvert8To32(p);
    assert_null(line_band_cut(c, 0, 0, 100, 50));
    pixDestroy(&c);
    /* a band at the page's top edge: no room above to look past it */
    rect(p, 300, 0, 302, 200);
    PIX *band = line_band_cut(p, 100, 0, 600, 50);
    assert_non_null(band);
    pixDestroy(&band);
    pixDestroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_side_crossing_is_taken_out),
        cmocka_unit_test(frame_through_a_glyph_keeps_the_glyph),
        cmocka_unit_test(stacked_glyphs_are_no_frame),
        cmocka_unit_test(wavy_stroke_is_no_frame),
        cmocka_unit_test(edge_pieces_of_other_lines_go),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
