/* test_upright_rule.c — a stamp's frame standing through a handwritten
 * blank (ocr/upright_rule.c): found as a leaning line in any ink, taken
 * out of the pen's mask, the strokes it crosses kept whole.
 *
 * Masks are drawn in code: a frame's side a few pixels wide, leaning and
 * broken as a copied line is, and strokes across it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>

#include "ocr/upright_rule.h"

#define W 200
#define H 120

/* A 1 bpp mask with a side of a frame: 3 pixels wide, from (x, 0) down
 * to the bottom, moved right by one pixel every `lean` rows, broken for
 * four rows every 30 (a copied line). */
static PIX *frame_mask(int x, int lean)
{
    PIX *m = pixCreate(W, H, 1);
    assert_non_null(m);
    for (int y = 0; y < H; y++) {
        if (y % 30 >= 26)
            continue;
        for (int dx = 0; dx < 3; dx++)
            pixSetPixel(m, x + y / lean + dx, y, 1);
    }
    return m;
}

static void bar(PIX *m, int x0, int x1, int y0, int y1)
{
    pixRasterop(m, x0, y0, x1 - x0, y1 - y0, PIX_SET, NULL, 0, 0);
}

static int ink_in(PIX *m, int x0, int x1, int y0, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            l_uint32 v;
            pixGetPixel(m, x, y, &v);
            n += (int)v;
        }
    return n;
}

/* The leaning, broken side is found, with its lean and width. */
static void finds_leaning_side(void **state)
{
    (void)state;
    PIX *m = frame_mask(100, 20);
    upright_rule r[2];
    assert_int_equal(upright_rules_find(m, 90, r, 2), 1);
    assert_true(r[0].slope > 0.03 && r[0].slope < 0.07);
    assert_true(r[0].x0 > 99 && r[0].x0 < 103);
    assert_int_equal(r[0].half_width, 1); /* 3 = 1 + 2 × 1 */
    assert_true(r[0].y0 <= 2 && r[0].y1 >= H - 8);
    pixDestroy(&m);
}

/* Writing is no rule: an upright stroke shorter than the blank (a "1"),
 * and a long stroke that bends (a pen's curve), are not found. */
static void writing_is_no_side(void **state)
{
    (void)state;
    PIX *m = pixCreate(W, H, 1);
    assert_non_null(m);
    bar(m, 40, 44, 20, 90); /* a "1", 70 rows */
    for (int y = 0; y < H; y++) /* a curve: x = 120 + (y - 60)² / 60 */
        bar(m, 120 + (y - 60) * (y - 60) / 60, 123 + (y - 60) * (y - 60) / 60, y, y + 1);
    upright_rule r[2];
    assert_int_equal(upright_rules_find(m, 90, r, 2), 0);
    pixDestroy(&m);
}

/* The side is cleared where it stands alone; a stroke across it (the
 * bar of a "7") is kept whole, its piece under the side too. */
static void side_cleared_stroke_kept(void **state)
{
    (void)state;
    PIX *m = frame_mask(100, 20);
    bar(m, 80, 130, 50, 55);
    upright_rule r[2];
    assert_int_equal(upright_rules_find(m, 90, r, 2), 1);
    upright_rules_erase(m, r, 1, 8);
    assert_int_equal(ink_in(m, 90, 120, 0, 40), 0);
    assert_int_equal(ink_in(m, 90, 120, 70, H), 0);
    assert_int_equal(ink_in(m, 80, 130, 50, 55), 50 * 5);
    pixDestroy(&m);
}

/* A side in another ink (red, under blue writing) leaves a gap in the
 * pen's stroke: the gap is filled; where no stroke crosses, nothing is
 * added. */
static void gap_under_other_ink_filled(void **state)
{
    (void)state;
    PIX *all = frame_mask(100, 20);
    upright_rule r[2];
    assert_int_equal(upright_rules_find(all, 90, r, 2), 1);
    PIX *pen = pixCreate(W, H, 1);
    assert_non_null(pen);
    /* the stroke at rows 50-54, broken where the side runs (x 102-104) */
    bar(pen, 80, 102, 50, 55);
    bar(pen, 105, 130, 50, 55);
    upright_rules_erase(pen, r, 1, 8);
    assert_int_equal(ink_in(pen, 102, 105, 50, 55), 3 * 5);
    assert_int_equal(ink_in(pen, 90, 120, 0, 40), 0);
    assert_int_equal(ink_in(pen, 90, 120, 70, H), 0);
    pixDestroy(&pen);
    pixDestroy(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_leaning_side),
        cmocka_unit_test(writing_is_no_side),
        cmocka_unit_test(side_cleared_stroke_kept),
        cmocka_unit_test(gap_under_other_ink_filled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
