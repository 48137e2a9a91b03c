/* test_hand.c — numbers and days written by pen into the form's blanks
 * (ocr/hand.c): the writing is read from the pen's ink alone, digits
 * only, and put in place of what the page's OCR read there.
 *
 * The writing is drawn in code with leptonica's bitmap font (digits are
 * ASCII), leaned like a hand's and in ballpoint blue on a colour page, or
 * in black on a gray one; print around it is black.
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
#include <math.h>

#include "ocr/hand.h"
#include "tests/unit/support/testutil.h"

#define DPI 300
#define BALLPOINT 0x2040b000 /* RGBA: r 0x20, g 0x40, b 0xb0 */

/* Paints `s` `height` px tall at (x, y top) in `rgba` on a 32 bpp page
 * (or gray level `rgba >> 24` on an 8 bpp one), leaned by `lean` (top
 * moved right by lean × height) as a hand writes. */
static void paint(PIX *page, const char *s, int x, int y, int height, l_uint32 rgba, float lean)
{
    PIX *m = tu_text_mask(s, height);
    assert_non_null(m);
    int pad = (int)(lean * (float)height) + 2;
    if (lean != 0) {
        PIX *wide = pixAddBorderGeneral(m, pad, pad, 0, 0, 0);
        PIX *sh = pixHShear(NULL, wide, pixGetHeight(wide) - 1, -atanf(lean), L_BRING_IN_WHITE);
        pixDestroy(&wide);
        pixDestroy(&m);
        m = sh;
    }
    if (lean != 0)
        x -= pad;
    if (pixGetDepth(page) == 32)
        pixPaintThroughMask(page, m, x, y, rgba);
    else
        pixPaintThroughMask(page, m, x, y, rgba >> 24);
    pixDestroy(&m);
}

/* A page 120 x 40 mm with "So:" in black at the left and "/UBND-VP" in
 * black 22 mm further right; the blank between them. */
static PIX *form_page(int depth)
{
    PIX *p = pixCreate(120 * DPI / 25, 40 * DPI / 25, depth);
    assert_non_null(p);
    if (depth == 32)
        pixSetAllArbitrary(p, 0xf4f0e800);
    else
        pixSetAllArbitrary(p, 238);
    paint(p, "So:", 60, 200, 40, 0x10101000, 0);
    paint(p, "/UBND-VP", 180 + 22 * DPI / 25, 200, 40, 0x10101000, 0);
    return p;
}

static hand_slot blank_slot(bool bounded)
{
    /* from "So:" to the notation, a line's height above and half below */
    hand_slot s = {.kind = HAND_NUMBER, .bounded = bounded};
    s.box = (ocr_box){180, 160, 180 + 22 * DPI / 25 - 4, 260};
    if (!bounded)
        s.box.x1 += 300; /* runs on over the notation */
    return s;
}

/* The bounded blank with its printed line known (y 200 to 240). */
static hand_slot line_slot(void)
{
    hand_slot s = blank_slot(true);
    s.line_y0 = 200;
    s.line_y1 = 240;
    return s;
}

/* Blue pen digits, leaning, with the black notation inside the slot: the
 * pen is told by its colour, the print is not read. */
static void colour_pen_read(void **state)
{
    PIX *p = form_page(32);
    paint(p, "47", 300, 185, 48, BALLPOINT, 0.15f);
    if (getenv("DUMP"))
        pixWrite("/tmp/hw/tp.png", p, IFF_PNG);
    hand_slot s = blank_slot(false);
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "47");
    assert_true(w.hand);
    /* the box is the writing's, not the slot's */
    assert_true(w.box.x0 >= 290 && w.box.x1 <= 300 + 60 * 2);
    pixDestroy(&p);
}

/* Paints `digits` hollow, 52 px tall from x 300, y 184: each stroke
 * drawn round in a thin line of colour `faded`, with `strong` over it in
 * squares of 8 px, one in `every`. */
static void paint_outlined(PIX *p, const char *digits, l_uint32 faded, l_uint32 strong, int every)
{
    int x = 300;
    for (const char *c = digits; *c; c++) {
        char one[2] = {*c, '\0'};
        PIX *m = tu_text_mask(one, 52);
        PIX *thick = m ? pixDilateBrick(NULL, m, 7, 7) : NULL;
        PIX *inner = thick ? pixErodeBrick(NULL, thick, 5, 5) : NULL;
        PIX *outline = inner ? pixXor(NULL, thick, inner) : NULL;
        assert_non_null(outline);
        pixPaintThroughMask(p, outline, x, 184, faded);
        int w = pixGetWidth(outline), h = pixGetHeight(outline);
        for (int y = 0; y < h; y++)
            for (int k = 0; k < w; k++) {
                l_uint32 v = 0;
                pixGetPixel(outline, k, y, &v);
                if (v && (k / 8 + y / 8) % every == 0)
                    pixSetPixel(p, x + k, 184 + y, strong);
            }
        x += w + 10;
        pixDestroy(&outline);
        pixDestroy(&inner);
        pixDestroy(&thick);
        pixDestroy(&m);
    }
}

/* Slot `s` on `p` reads `want`, as pen writing. */
static void expect_read(ocr_engine *e, PIX *p, hand_slot s, const char *want)
{
    ocr_word wd;
    char buf[16];
    assert_int_equal(hand_read_slot(e, p, DPI, &s, &wd, buf, sizeof buf), 1);
    assert_string_equal(wd.text, want);
    assert_true(wd.hand);
}

/* The slot of line_slot() on `p` reads "653", as pen writing. */
static void expect_653(ocr_engine *e, PIX *p)
{
    expect_read(e, p, line_slot(), "653");
}

/* Hollow numerals: each stroke drawn round in a thin line, as outline
 * writing is, half of it so faded (a thin line's colour lost to the
 * scan) that the pen's usual threshold keeps only dashes of it. The
 * faint line is taken in and the room inside each stroke filled; the
 * counters of the 6 stay open. */
static void outlined_pen_read(void **state)
{
    PIX *p = form_page(32);
    /* faded everywhere (blue 0x40 above red and green), strong (0xbf
     * above) in one square in two */
    paint_outlined(p, "653", 0x7080c000, 0x2040ff00, 2);
    expect_653(*state, p);
    pixDestroy(&p);
}

/* Hollow numerals in a thin line whose colour the scan lost almost
 * everywhere (a JPEG keeps colour at half the resolution of brightness):
 * the line is as dark as a pen's, but only one square in two of it is
 * blue enough to pass even the faint share of the pen's blue, the rest
 * grayish. The pen's ink is taken by its darkness near the blue. */
/* Those numerals, dark with blue only 0x10 above red and green, blue
 * (0x80 above) in one square in two, over `letters` of a red stamp when
 * set: read 653. */
static void expect_dark_outline_653(ocr_engine *e, const char *letters)
{
    PIX *p = form_page(32);
    if (letters)
        paint(p, letters, 330, 214, 30, 0xd0303000, 0);
    paint_outlined(p, "653", 0x50586800, 0x2040c000, 2);
    expect_653(e, p);
    pixDestroy(&p);
}

static void outline_colour_lost_read(void **state) { expect_dark_outline_653(*state, NULL); }

/* The same hollow numerals written over a red stamp's letters: the
 * letters are as dark as the pen's line and stand next to its blue, but
 * they are red, and the pen's ink is not. */
static void outline_over_red_letters(void **state) { expect_dark_outline_653(*state, "vao"); }

/* A gray scan: black pen between two pieces of print is read; the same
 * ink in a blank open to the right is not (print would be read too). */
static void gray_pen_between_print(void **state)
{
    PIX *p = form_page(8);
    paint(p, "15", 300, 175, 60, 0x30000000, 0.2f);
    ocr_word w;
    char buf[16];
    hand_slot s = blank_slot(true);
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "15");
    s = blank_slot(false);
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 0);
    pixDestroy(&p);
}

/* A gray form whose pen's "15" (gray level `pen >> 24`) runs by a stroke
 * into the notation's black print, from x 400. */
static PIX *pen_touching_print(l_uint32 pen)
{
    PIX *p = form_page(8);
    BOX *notation = boxCreate(300, 150, 700, 120);
    pixSetInRectArbitrary(p, notation, 238);
    boxDestroy(&notation);
    paint(p, "15", 300, 175, 60, pen, 0.2f);
    BOX *dash = boxCreate(350, 215, 55, 4);
    pixSetInRectArbitrary(p, dash, pen >> 24);
    boxDestroy(&dash);
    paint(p, "/UBND-VP", 400, 200, 40, 0x10101000, 0);
    return p;
}

/* A gray scan whose writing the page's OCR read into the notation's
 * word ("15/UBND-VP"): the blank is open to the right, and the word's
 * reading puts the print's start inside the 5. The writing is the dark
 * ink up to the first gap from there; the print beyond is not read. */
static void gray_pen_into_print(void **state)
{
    PIX *p = form_page(8);
    paint(p, "15", 300, 175, 60, 0x30000000, 0.2f);
    ocr_word w;
    char buf[16];
    hand_slot s = line_slot();
    s.bounded = false;
    s.box.x1 += 300;
    s.print_x = 350;
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "15");
    assert_true(w.box.x1 < 180 + 22 * DPI / 25);
    /* no gap after the writing before the blank's end: nothing is read */
    s.box.x1 = 360;
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 0);
    pixDestroy(&p);
    /* the writing, as dark as the print, touches it: the gaps beyond are
     * the print's own, and nothing is read rather than the print with it */
    p = pen_touching_print(0x10000000);
    s = line_slot();
    s.bounded = false;
    s.box.x1 += 300;
    s.print_x = 330;
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 0);
    pixDestroy(&p);
    /* lighter than the print (a gray scan's pen): the print starts where
     * its dark cores do, near where the word's reading puts it, and the
     * writing before it is read */
    p = pen_touching_print(0x60000000);
    s.print_x = 380;
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "15");
    assert_true(w.box.x1 < 420); /* not over the print */
    pixDestroy(&p);
}

/* The notation's printed "/" left inside the number's blank: a bare
 * stroke, but shorter than the writing, and last; it is no 1. */
static void number_then_print_slash(void **state)
{
    PIX *p = form_page(8);
    paint(p, "621", 260, 175, 60, 0x30000000, 0.15f);
    paint(p, "/", 410, 200, 40, 0x10101000, 0);
    expect_read(*state, p, blank_slot(true), "621");
    pixDestroy(&p);
}

/* An empty blank, even with the dots of a dotted form line, reads as
 * nothing. */
static void empty_blank(void **state)
{
    PIX *p = form_page(32);
    for (int x = 200; x < 400; x += 12)
        for (int d = 0; d < 9; d++)
            pixSetRGBPixel(p, x + d % 3, 238 + d / 3, 0x10, 0x10, 0x10);
    hand_slot s = blank_slot(true);
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 0);
    pixDestroy(&p);
}

/* A pen's 1 is often a bare slanted stroke the engine drops (this one,
 * leaning 20°, it does): it is put back in its place among the digits
 * read. */
static void pen_one_bare_stroke(void **state)
{
    PIX *p = form_page(32);
    pixRenderLineArb(p, 324, 184, 306, 232, 3, 0x20, 0x40, 0xb0);
    paint(p, "3", 340, 185, 48, BALLPOINT, 0.1f);
    expect_read(*state, p, blank_slot(true), "13");
    /* a 7 is no stroke */
    pixDestroy(&p);
    p = form_page(32);
    paint(p, "73", 300, 185, 48, BALLPOINT, 0.1f);
    expect_read(*state, p, blank_slot(true), "73");
    pixDestroy(&p);
}

/* A month's 11 in two bare strokes: the engine reads one of them and
 * drops the other; both are 1s. */
static void pen_eleven_half_read(void **state)
{
    PIX *p = form_page(32);
    pixRenderLineArb(p, 322, 186, 310, 232, 3, 0x20, 0x40, 0xb0);
    pixRenderLineArb(p, 354, 186, 342, 232, 3, 0x20, 0x40, 0xb0);
    hand_slot s = blank_slot(true);
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "11");
    pixDestroy(&p);
}

/* A short 2 beside a long bare stroke (a hand's 1 stands far above the
 * digits beside it, as a script 8 does): the 2 is a glyph all the same,
 * and the stroke the 1 the engine skips. */
static void pen_short_digit_tall_stroke(void **state)
{
    PIX *p = form_page(32);
    paint(p, "2", 300, 196, 40, BALLPOINT, 0.1f);
    pixRenderLineArb(p, 352, 176, 342, 238, 3, 0x20, 0x40, 0xb0);
    hand_slot s = blank_slot(true);
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "21");
    pixDestroy(&p);
}

/* A ĐẾN stamp over the blank: its frame, in the pen's blue, runs through
 * the digits and the clerk's own writing sits above the printed line. The
 * frame is taken out and only ink crossing the line is read. */
static void stamp_over_blank(void **state)
{
    PIX *p = form_page(32);
    paint(p, "47", 220, 185, 48, BALLPOINT, 0.15f);
    pixRenderLineArb(p, 100, 226, 900, 228, 3, 0x20, 0x40, 0xb0);
    paint(p, "5", 360, 163, 26, BALLPOINT, 0.15f);
    hand_slot s = line_slot();
    s.under_stamp = true;
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "47");
    /* never as sure as a blank of its own; set on the line it is for */
    assert_true(w.conf <= 0.5f);
    assert_int_equal(w.box.y0, 200);
    assert_int_equal(w.box.y1, 240);
    pixDestroy(&p);
}

/* Under a stamp, the day written over the stamp's red letters: where the
 * pen ran over red its ink is no longer blue, and the digits lose the
 * rows on the printed line's middle. What is left of them ends just
 * above it, and is still the writing on the line: read. */
static void stamp_letters_through_digits(void **state)
{
    PIX *p = form_page(32);
    paint(p, "2", 300, 172, 56, BALLPOINT, 0.15f);
    paint(p, "7", 362, 172, 56, BALLPOINT, 0.15f);
    pixRenderLineArb(p, 356, 223, 420, 223, 14, 0xc0, 0x30, 0x30);
    if (getenv("DUMP"))
        pixWrite("/tmp/hw/red.png", p, IFF_PNG);
    hand_slot s = line_slot();
    s.under_stamp = true;
    s.kind = HAND_DAY;
    expect_read(*state, p, s, "27");
    pixDestroy(&p);
}

/* Writing on the line that runs out of the blank's bottom is the pen's
 * (a neighbour line's letters never reach the line's middle); the side
 * of a ĐẾN stamp's frame beside the blank, in the same blue and as tall
 * as the blank, is no "1". */
static void pen_past_blank_frame_beside(void **state)
{
    PIX *p = form_page(32);
    paint(p, "47", 300, 190, 76, BALLPOINT, 0.15f);
    pixRenderLineArb(p, 420, 120, 420, 300, 3, 0x20, 0x40, 0xb0);
    hand_slot s = line_slot();
    s.box.x1 = 440;
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "47");
    assert_true(w.box.x1 < 420);
    pixDestroy(&p);
}

/* The ĐẾN stamp's side standing through the day's second digit on a gray
 * page, lighter than the pen and leaning with the stamp (5 pixels in the
 * blank's 100 rows, which no upright opening fits): it is taken out, and
 * the "7" it crosses kept, read with the "2" before it. */
static void leaning_frame_through_digit(void **state)
{
    PIX *p = form_page(8);
    paint(p, "27", 300, 180, 56, 0x30000000, 0.15f);
    /* the side: 3 pixels wide through the 7's bar and stem */
    for (int y = 150; y < 275; y++)
        for (int dx = 0; dx < 3; dx++)
            pixSetPixel(p, 338 + (y - 150) / 24 + dx, y, 0x70);
    if (getenv("DUMP"))
        pixWrite("/tmp/hw/frame.png", p, IFF_PNG);
    hand_slot s = line_slot();
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "27");
    pixDestroy(&p);
}

/* A day written high over its blank (most of it above the printed line)
 * is put on the date line it was read for, not on the line above, where
 * the layout would take it for part of the number's line. */
static void day_stands_on_its_line(void **state)
{
    PIX *p = form_page(8);
    paint(p, "3", 300, 166, 50, 0x30000000, 0.15f);
    hand_slot s = line_slot();
    s.kind = HAND_DAY;
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "3");
    assert_int_equal(w.box.y0, 200);
    assert_int_equal(w.box.y1, 240);
    pixDestroy(&p);
}

/* A blank found from the notation alone (the OCR lost "So:"): it reaches
 * over the label's print, which is not read with the pen's digits. */
static void blank_over_lost_label(void **state)
{
    PIX *p = form_page(8);
    paint(p, "2352", 300, 180, 56, 0x30000000, 0.15f);
    hand_slot s = line_slot();
    s.box.x0 = 40;
    s.label_lost = true;
    ocr_word w;
    char buf[16];
    assert_int_equal(hand_read_slot(*state, p, DPI, &s, &w, buf, sizeof buf), 1);
    assert_string_equal(w.text, "2352");
    assert_true(w.box.x0 >= 290);
    pixDestroy(&p);
}

/* ---- hand_apply: the words the page's OCR read there are replaced ---- */

static void add(ocr_page_text *pt, const char *text, int x0, int x1)
{
    ocr_word w = {.text = (char *)text, .box = {x0, 200, x1, 240}, .conf = 0.6f, .line = 3};
    assert_int_equal(ocr_page_add_word(pt, &w), 0);
}

static const ocr_word *find(const ocr_page_text *pt, const char *text)
{
    for (size_t i = 0; i < pt->nwords; i++)
        if (strcmp(pt->words[i].text, text) == 0)
            return &pt->words[i];
    return NULL;
}

static ocr_word pen(const char *digits, int x0, int x1)
{
    return (ocr_word){
        .text = (char *)digits, .box = {x0, 185, x1, 245}, .conf = 0.5f, .hand = true};
}

static void apply_replaces_misread(void **state)
{
    ocr_page_text pt = {0};
    add(&pt, "Số:", 100, 170);
    add(&pt, "2Z", 300, 370);
    add(&pt, "/BQLKCN-KG", 460, 700);
    hand_slot s = blank_slot(true);
    ocr_word w = pen("32", 295, 375);
    assert_int_equal(hand_apply(&pt, &s, &w), 1);
    assert_null(find(&pt, "2Z"));
    assert_non_null(find(&pt, "/BQLKCN-KG"));
    const ocr_word *h = find(&pt, "32");
    assert_non_null(h);
    assert_true(h->hand);
    assert_int_equal(h->line, 3); /* on the line of "Số:" */
    assert_int_equal(pt.nwords, 3);
    ocr_page_text_free(&pt);
}

/* The writing run into the notation by the OCR: the print is kept. */
static void apply_splits_run_on_word(void **state)
{
    ocr_page_text pt = {0};
    add(&pt, "Số:", 100, 170);
    add(&pt, "Í68//SNV-VP", 300, 600);
    hand_slot s = blank_slot(false);
    ocr_word w = pen("1687", 295, 400);
    assert_int_equal(hand_apply(&pt, &s, &w), 1);
    const ocr_word *rest = find(&pt, "/SNV-VP");
    assert_non_null(rest);
    assert_int_equal(rest->box.x0, 400);
    assert_non_null(find(&pt, "1687"));
    assert_int_equal(pt.nwords, 3);
    ocr_page_text_free(&pt);
}

/* Writing that reaches up to the line above (a stamp's frame joined to
 * it) replaces only words of its own line: the body's name above stays. */
static void apply_keeps_line_above(void **state)
{
    ocr_page_text pt = {0};
    add(&pt, "Số:", 100, 170);
    add(&pt, "72", 300, 370);
    ocr_word above = {.text = "HOẠCH", .box = {300, 150, 400, 188}, .conf = 0.9f, .line = 2};
    assert_int_equal(ocr_page_add_word(&pt, &above), 0);
    hand_slot s = line_slot();
    ocr_word w = pen("727", 295, 390);
    w.box.y0 = 140;
    assert_int_equal(hand_apply(&pt, &s, &w), 1);
    assert_non_null(find(&pt, "HOẠCH"));
    assert_null(find(&pt, "72"));
    assert_non_null(find(&pt, "727"));
    ocr_page_text_free(&pt);
}

/* A day glued to "tháng" cannot be split: nothing changes. */
static void apply_refuses_unmatched(void **state)
{
    ocr_page_text pt = {0};
    add(&pt, "ngày", 100, 170);
    add(&pt, "6tháng", 300, 500);
    hand_slot s = {.kind = HAND_DAY, .box = {171, 160, 499, 260}, .bounded = true};
    ocr_word w = pen("16", 295, 380);
    assert_int_equal(hand_apply(&pt, &s, &w), 0);
    assert_int_equal(pt.nwords, 2);
    assert_non_null(find(&pt, "6tháng"));
    ocr_page_text_free(&pt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(colour_pen_read),
        cmocka_unit_test(outlined_pen_read),
        cmocka_unit_test(outline_colour_lost_read),
        cmocka_unit_test(outline_over_red_letters),
        cmocka_unit_test(gray_pen_between_print),
        cmocka_unit_test(gray_pen_into_print),
        cmocka_unit_test(number_then_print_slash),
        cmocka_unit_test(empty_blank),
        cmocka_unit_test(pen_one_bare_stroke),
        cmocka_unit_test(pen_eleven_half_read),
        cmocka_unit_test(pen_short_digit_tall_stroke),
        cmocka_unit_test(stamp_over_blank),
        cmocka_unit_test(stamp_letters_through_digits),
        cmocka_unit_test(blank_over_lost_label),
        cmocka_unit_test(pen_past_blank_frame_beside),
        cmocka_unit_test(leaning_frame_through_digit),
        cmocka_unit_test(day_stands_on_its_line),
        cmocka_unit_test(apply_replaces_misread),
        cmocka_unit_test(apply_splits_run_on_word),
        cmocka_unit_test(apply_refuses_unmatched),
        cmocka_unit_test(apply_keeps_line_above),
    };
    return cmocka_run_group_tests(tests, tu_ocr_engine_setup, tu_ocr_engine_teardown);
}
