/* test_frame_cross.c — header words a black stamp's frame runs through
 * (ocr/frame_cross.c): marked and capped when the frame's side crosses
 * them or passes within a letter of their end; words away from it, the
 * pen's digits, the lower page and columns of print's short strokes are
 * left alone.
 *
 * The page is drawn in code at 200 dpi: a frame's side 3 px wide, broken
 * as a copied line is, and the boxes of words the OCR would have read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>

#include "ocr/frame_cross.h"

#define DPI 200
#define PAGE_W 1654
#define PAGE_H 2339

/* An upright line 3 px wide at x from row y0 to y1, broken for three
 * rows in every 60. */
static void side(PIX *p, int x, int y0, int y1)
{
    for (int y = y0; y < y1; y++)
        if ((y - y0) % 60 < 57)
            pixRasterop(p, x, y, 3, 1, PIX_SET, NULL, 0, 0);
}

static void add(ocr_page_text *pt, const char *text, int x0, int y0, int x1, int y1, bool hand)
{
    ocr_word w = {.text = (char *)text, .box = {x0, y0, x1, y1}, .conf = 0.95f, .hand = hand};
    assert_int_equal(ocr_page_add_word(pt, &w), 0);
}

static void marks_crossed_words(void **state)
{
    (void)state;
    PIX *ink = pixCreate(PAGE_W, PAGE_H, 1);
    assert_non_null(ink);
    side(ink, 600, 100, 420);   /* 41 mm: a ĐẾN stamp's side */
    side(ink, 600, 1300, 1700); /* as long, in the lower page */
    /* print's strokes, one over another down eight lines of text */
    for (int y = 500; y < 920; y += 52)
        pixRasterop(ink, 1000, y, 3, 24, PIX_SET, NULL, 0, 0);
    PIX *page = pixConvert1To8(NULL, ink, 255, 0);
    pixDestroy(&ink);
    assert_non_null(page);

    ocr_page_text pt = {.width = PAGE_W, .height = PAGE_H, .dpi = DPI};
    add(&pt, "TỈNH", 560, 150, 650, 180, false);      /* 0: the side runs through */
    add(&pt, "99-BC/BNC", 480, 250, 590, 280, false); /* 1: read up to it */
    add(&pt, "ỦY", 300, 150, 380, 180, false);        /* 2: far from it */
    add(&pt, "27", 590, 330, 630, 370, true);         /* 3: the pen's digits */
    add(&pt, "năm", 560, 1500, 650, 1530, false);     /* 4: lower page */
    add(&pt, "công", 990, 600, 1060, 630, false);     /* 5: on the strokes */
    assert_int_equal(frame_cross_cap(page, DPI, &pt), 2);
    bool want[] = {true, true, false, false, false, false};
    for (size_t i = 0; i < pt.nwords; i++) {
        assert_int_equal(pt.words[i].crossed, want[i]);
        if (want[i])
            assert_true(pt.words[i].conf <= FRAME_CROSS_CONF);
        else
            assert_true(pt.words[i].conf > 0.9f);
    }
    ocr_page_text_free(&pt);
    pixDestroy(&page);
}

/* A word well before the side, more than a letter from it, is whole. */
static void letter_reach_only(void **state)
{
    (void)state;
    PIX *ink = pixCreate(PAGE_W, PAGE_H, 1);
    side(ink, 600, 100, 420);
    PIX *page = pixConvert1To8(NULL, ink, 255, 0);
    pixDestroy(&ink);
    ocr_page_text pt = {.width = PAGE_W, .height = PAGE_H, .dpi = DPI};
    add(&pt, "Số:", 480, 250, 560, 280, false);
    assert_int_equal(frame_cross_cap(page, DPI, &pt), 0);
    assert_false(pt.words[0].crossed);
    ocr_page_text_free(&pt);
    pixDestroy(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(marks_crossed_words),
        cmocka_unit_test(letter_reach_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
