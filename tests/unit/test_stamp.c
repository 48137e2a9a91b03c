/* test_stamp.c — the registry's ĐẾN stamp found by its frame and its ink
 * wiped from what the OCR reads (ocr/stamp.c).
 *
 * Pages are drawn in code at 200 dpi on tinted paper and passed through
 * JPEG, as the scanner delivers them (JPEG's coarse colour puts a colour
 * cast on black print next to stamp ink): black print, a stamp frame of
 * 50 × 35 mm in stamp ink, turned a little and crossing the print, with
 * pen digits in it; or the shapes that must not be taken for one: a round
 * seal, a boxed KHẨN mark, the black rules of a table. Gray scans are
 * drawn the same and reduced to luminance, the stamp and the pen in the
 * grays they take there.
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

#include "ocr/stamp.h"
#include "tests/unit/support/testutil.h"

#define DPI 200
#define MM(v) ((int)lround((v)*DPI / 25.4))

typedef struct rgb {
    int r, g, b;
} rgb;

static const rgb BLUE = {18, 36, 140}, VIOLET = {97, 36, 133}, RED = {219, 25, 33},
                 BLACK = {20, 20, 20};

/* A page 180 × 150 mm of beige paper (black print on it is 28 levels
 * from the paper's colour). */
static PIX *paper(void)
{
    PIX *p = pixCreate(MM(180), MM(150), 32);
    assert_non_null(p);
    pixSetAllArbitrary(p, 0xece4d000);
    return p;
}

/* Ink over the paper: multiplied, as ink darkens what is under it. */
static void ink_mask(PIX *page, PIX *mask, int x, int y, rgb c)
{
    for (int j = 0; j < pixGetHeight(mask); j++)
        for (int i = 0; i < pixGetWidth(mask); i++) {
            l_uint32 on = 0, px = 0;
            pixGetPixel(mask, i, j, &on);
            if (!on || x + i >= pixGetWidth(page) || y + j >= pixGetHeight(page) || x + i < 0 ||
                y + j < 0)
                continue;
            pixGetPixel(page, x + i, y + j, &px);
            l_int32 r, g, b;
            extractRGBValues(px, &r, &g, &b);
            composeRGBPixel(r * c.r / 255, g * c.g / 255, b * c.b / 255, &px);
            pixSetPixel(page, x + i, y + j, px);
        }
}

static void text(PIX *page, const char *s, int x, int y, int height, rgb c)
{
    PIX *m = tu_text_mask(s, height);
    assert_non_null(m);
    ink_mask(page, m, x, y, c);
    pixDestroy(&m);
}

/* A rectangle's outline `w` × `h` px, its top left at (x, y), turned by
 * `deg` about that corner, in lines `thick` px wide. */
static void outline(PIX *page, int x, int y, int w, int h, double deg, int thick, rgb c)
{
    PIX *m = pixCreate(pixGetWidth(page), pixGetHeight(page), 1);
    assert_non_null(m);
    double a = deg * M_PI / 180, co = cos(a), si = sin(a);
    int px[4], py[4];
    int cx[4] = {0, w, w, 0}, cy[4] = {0, 0, h, h};
    for (int k = 0; k < 4; k++) {
        px[k] = x + (int)lround(cx[k] * co - cy[k] * si);
        py[k] = y + (int)lround(cx[k] * si + cy[k] * co);
    }
    for (int k = 0; k < 4; k++)
        pixRenderLine(m, px[k], py[k], px[(k + 1) % 4], py[(k + 1) % 4], thick, L_SET_PIXELS);
    ink_mask(page, m, 0, 0, c);
    pixDestroy(&m);
}

/* An elliptic ring `w` × `h` px, `thick` px wide, centred at (cx, cy). */
static void ring(PIX *page, int cx, int cy, int w, int h, int thick, rgb c)
{
    PIX *m = pixCreate(w + 2, h + 2, 1);
    assert_non_null(m);
    double a = w / 2.0, b = h / 2.0;
    for (int y = 0; y < h + 2; y++)
        for (int x = 0; x < w + 2; x++) {
            double outer = hypot((x - a) / a, (y - b) / b);
            double inner = hypot((x - a) / (a - thick), (y - b) / (b - thick));
            if (outer <= 1 && inner >= 1)
                pixSetPixel(m, x, y, 1);
        }
    ink_mask(page, m, cx - (int)a, cy - (int)b, c);
    pixDestroy(&m);
}

/* The letter's header in black: two lines of the issuer's name. */
static void header(PIX *page)
{
    text(page, "UBND TINH YEN BAI", MM(40), MM(22), MM(3.5), BLACK);
    text(page, "SO THONG TIN VA TRUYEN THONG", MM(25), MM(30), MM(3.5), BLACK);
}

/* The stamp at (x, y) mm turned by `deg`: frame, label and pen digits. */
static void den_stamp(PIX *page, double x, double y, double deg, rgb ink)
{
    outline(page, MM(x), MM(y), MM(50), MM(35), deg, 2, ink);
    text(page, "DEN So:", MM(x + 3), MM(y + 8), MM(4), ink);
    text(page, "Ngay:", MM(x + 3), MM(y + 16), MM(2.5), ink);
    text(page, "1357", MM(x + 25), MM(y + 6), MM(4.5), BLUE);
    text(page, "16/8/2022", MM(x + 15), MM(y + 14), MM(4), BLUE);
}

/* As scanned: through JPEG at quality 80 (4:2:0 colour). */
static PIX *scanned(PIX *page)
{
    l_uint8 *data = NULL;
    size_t size = 0;
    assert_int_equal(pixWriteMemJpeg(&data, &size, page, 80, 0), 0);
    PIX *out = pixReadMemJpeg(data, size, 0, 1, NULL, 0);
    free(data);
    pixDestroy(&page);
    assert_non_null(out);
    return out;
}

static void assert_frame_near(const ocr_box *f, double x, double y)
{
    /* the bounds of a 50 × 35 mm frame at (x, y), within 2 mm (a turned
     * frame's bounds grow by up to 3.5 mm) */
    assert_in_range(f->x0, MM(x - 2), MM(x + 2));
    assert_in_range(f->y0, MM(y - 4), MM(y + 2));
    assert_in_range(f->x1 - f->x0, MM(48), MM(54));
    assert_in_range(f->y1 - f->y0, MM(33), MM(40));
}

/* A blue stamp upright over the header, and violet and red ones turned
 * by up to 4°: each is found, where it is. */
static void frame_found(void **state)
{
    (void)state;
    const struct {
        rgb ink;
        double deg;
    } cases[] = {{BLUE, 0}, {VIOLET, 4}, {RED, -3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        PIX *p = paper();
        header(p);
        den_stamp(p, 20, 14, cases[i].deg, cases[i].ink);
        p = scanned(p);
        stamp_set f;
        assert_int_equal(stamp_find(p, DPI, &f), 1);
        assert_frame_near(&f.frame[0], cases[i].deg < 0 ? 20 : 20 - 35 * sin(cases[i].deg * M_PI / 180),
                          cases[i].deg < 0 ? 14 + 50 * sin(cases[i].deg * M_PI / 180) : 14);
        pixDestroy(&p);
    }
}

/* The frame's lines cut where black print crosses them (thick black bars
 * across the top and bottom lines): still one frame. */
static void frame_cut_by_print(void **state)
{
    (void)state;
    PIX *p = paper();
    den_stamp(p, 30, 20, 1.5, VIOLET);
    for (int k = 0; k < 5; k++) {
        PIX *bar = pixCreate(MM(1.2), MM(4), 1);
        pixSetAll(bar);
        ink_mask(p, bar, MM(38 + 8 * k), MM(18), BLACK);
        ink_mask(p, bar, MM(38 + 8 * k), MM(54), BLACK);
        pixDestroy(&bar);
    }
    p = scanned(p);
    stamp_set f;
    assert_int_equal(stamp_find(p, DPI, &f), 1);
    pixDestroy(&p);
}

/* What is not a ĐẾN stamp: a round red seal of 40 mm, an oval one of
 * 70 × 42 mm (as large as a turned frame: its arcs are not lines), a
 * boxed KHẨN mark (40 × 12 mm), a black frame 50 × 35 mm on beige paper,
 * a stamp frame on a gray page, and one in the lower part of the page (a
 * seal's place, not the registry's). */
static void not_a_frame(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    ring(p, MM(30), MM(60), MM(40), MM(40), 6, RED);
    ring(p, MM(30), MM(60), MM(30), MM(30), 2, RED);
    ring(p, MM(75), MM(100), MM(70), MM(42), 4, RED);
    outline(p, MM(110), MM(10), MM(40), MM(12), 2, 3, RED);
    outline(p, MM(110), MM(40), MM(50), MM(35), 0, 2, BLACK);
    p = scanned(p);
    stamp_set f;
    assert_int_equal(stamp_find(p, DPI, &f), 0);
    pixDestroy(&p);

    p = paper();
    den_stamp(p, 20, 14, 0, BLUE);
    PIX *g = pixConvertRGBToLuminance(p);
    assert_int_equal(stamp_find(g, DPI, &f), 0);
    pixDestroy(&g);
    pixDestroy(&p);

    p = paper();
    den_stamp(p, 20, 100, 0, BLUE);
    p = scanned(p);
    assert_int_equal(stamp_find(p, DPI, &f), 0);
    pixDestroy(&p);
}

/* Share of the pixels of `mask` (at x, y) that are dark in `gray`. */
static double dark_share(PIX *gray, PIX *mask, int x, int y)
{
    long on = 0, dark = 0;
    for (int j = 0; j < pixGetHeight(mask); j++)
        for (int i = 0; i < pixGetWidth(mask); i++) {
            l_uint32 v = 0, g = 0;
            pixGetPixel(mask, i, j, &v);
            if (!v)
                continue;
            pixGetPixel(gray, x + i, y + j, &g);
            on++;
            dark += g < 128;
        }
    return on ? (double)dark / on : 0;
}

/* `page` as scanned, its one ĐẾN stamp found and wiped: the gray image
 * the OCR reads. Takes `page`. */
static PIX *wiped_gray(PIX *page)
{
    PIX *p = scanned(page);
    stamp_set f;
    assert_int_equal(stamp_find(p, DPI, &f), 1);
    PIX *gray = pixConvertRGBToLuminance(p);
    assert_non_null(gray);
    stamp_wipe(gray, p, &f);
    pixDestroy(&p);
    return gray;
}

/* Wiping: in the frame, the stamp's ink and the pen digits turn to paper
 * while the black print under them stays (but where the ink crosses it);
 * blue pen digits outside the frame (the letter's own number) stay. */
static void wipe_keeps_print(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    den_stamp(p, 20, 10, 0, BLUE);
    text(p, "409", MM(120), MM(30), MM(4.5), BLUE);
    PIX *gray = wiped_gray(p);

    PIX *print = tu_text_mask("SO THONG TIN VA TRUYEN THONG", MM(3.5));
    PIX *pen = tu_text_mask("1357", MM(4.5));
    PIX *own = tu_text_mask("409", MM(4.5));
    assert_true(print && pen && own);
    /* the print in the frame (its first 20 mm) and beyond it */
    assert_true(dark_share(gray, print, MM(25), MM(30)) > 0.9);
    assert_true(dark_share(gray, pen, MM(45), MM(16)) < 0.05);
    assert_true(dark_share(gray, own, MM(120), MM(30)) > 0.9);
    /* no trace of the frame's top line */
    for (int x = MM(25); x < MM(65); x++) {
        l_uint32 v = 0;
        for (int y = MM(9); y < MM(11.5); y++) {
            pixGetPixel(gray, x, y, &v);
            assert_true(v > 150);
        }
    }
    pixDestroy(&print);
    pixDestroy(&pen);
    pixDestroy(&own);
    pixDestroy(&gray);
}

/* A frame turned a little, or inked unevenly, runs past the bounds its
 * lines were found at: its side there goes too, and black print beside
 * it stays. */
static void wipe_reaches_past_bounds(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    den_stamp(p, 20, 10, 0, BLUE);
    /* print right of the frame's right side (at 70 mm), 1.5 mm off it */
    text(p, "HD-STC", MM(71.5), MM(16), MM(3.5), BLACK);
    p = scanned(p);
    stamp_set f;
    assert_int_equal(stamp_find(p, DPI, &f), 1);
    /* found a millimetre short of the right side */
    f.frame[0].x1 = MM(69);
    PIX *gray = pixConvertRGBToLuminance(p);
    assert_non_null(gray);
    stamp_wipe(gray, p, &f);
    /* the side, above the header's print and below it */
    for (int y = MM(11); y < MM(44); y += y == MM(20) ? MM(15) : 1)
        for (int x = MM(69); x < MM(70.5); x++) {
            l_uint32 v = 0;
            pixGetPixel(gray, x, y, &v);
            assert_true(v > 150);
        }
    PIX *print = tu_text_mask("HD-STC", MM(3.5));
    assert_non_null(print);
    assert_true(dark_share(gray, print, MM(71.5), MM(16)) > 0.9);
    pixDestroy(&print);
    pixDestroy(&gray);
    pixDestroy(&p);
}

/* The stamp's dotted field, its dots too small to keep their colour
 * through JPEG (drawn neutral here), goes with the stamp; the print's
 * lone full stop stays. */
static void wipe_dotted_field(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    den_stamp(p, 20, 10, 0, BLUE);
    const rgb dots = {70, 70, 70};
    PIX *dot = pixCreate(MM(0.4), MM(0.4), 1);
    assert_non_null(dot);
    pixSetAll(dot);
    for (int k = 0; k < 20; k++)
        ink_mask(p, dot, MM(35) + k * MM(1), MM(38), dots);
    text(p, "KH.", MM(60), MM(36), MM(3), BLACK);
    PIX *gray = wiped_gray(p);
    PIX *row = pixCreate(MM(20), MM(0.4), 1);
    PIX *print = tu_text_mask("KH.", MM(3));
    assert_true(row && print);
    pixSetAll(row);
    assert_true(dark_share(gray, row, MM(35), MM(38)) < 0.02);
    assert_true(dark_share(gray, print, MM(60), MM(36)) > 0.9);
    pixDestroy(&row);
    pixDestroy(&print);
    pixDestroy(&dot);
    pixDestroy(&gray);
}

/* The share of the pixels of `gray` in x0..x1, y0..y1 (mm) between
 * `lo` and `hi`. */
static double share_between(PIX *gray, double x0, double y0, double x1, double y1, int lo, int hi)
{
    long n = 0, in = 0;
    for (int y = MM(y0); y < MM(y1); y++)
        for (int x = MM(x0); x < MM(x1); x++, n++) {
            l_uint32 v = 0;
            pixGetPixel(gray, x, y, &v);
            in += (int)v >= lo && (int)v <= hi;
        }
    return n ? (double)in / (double)n : 0;
}

/* JPEG blurs the colour of a stroke's edge away: what the colour wipe
 * leaves of the stamp's letters is their outline, lighter than print but
 * darker than the paper (the paper is 227 here). Next to none of it is
 * left where the stamp's label was (6% of that box without this wipe). */
static void wipe_leaves_no_ghost(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    den_stamp(p, 20, 10, 0, BLUE);
    PIX *gray = wiped_gray(p);
    /* "DEN So:" at (23, 18), 4 mm tall, short of the header's print */
    assert_true(share_between(gray, 23, 18, 40, 21.5, 120, 220) < 0.02);
    pixDestroy(&gray);
}

/* A gray scan: the stamp's ink and the pen lose their colour but stay
 * lighter than black print (measured on gray scans: print's stroke cores
 * 10-40, the pen 65-90, the stamp 110-200). */
static const rgb STAMP_GRAY = {125, 125, 125}, PEN_GRAY = {75, 75, 75};

static PIX *gray_scan(PIX *page)
{
    PIX *g = pixConvertRGBToLuminance(page);
    pixDestroy(&page);
    assert_non_null(g);
    l_uint8 *data = NULL;
    size_t size = 0;
    assert_int_equal(pixWriteMemJpeg(&data, &size, g, 80, 0), 0);
    PIX *out = pixReadMemJpeg(data, size, 0, 1, NULL, 0);
    free(data);
    pixDestroy(&g);
    assert_non_null(out);
    return out;
}

/* The stamp in gray over the header, with the pen's digits: found by its
 * lines, and wiped: the stamp's label and the pen's digits go, the print
 * under them stays. */
static void gray_frame_found_and_wiped(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    outline(p, MM(20), MM(14), MM(50), MM(35), 1.5, 2, STAMP_GRAY);
    text(p, "DEN So:", MM(23), MM(36), MM(4), STAMP_GRAY);
    text(p, "1357", MM(45), MM(40), MM(4.5), PEN_GRAY);
    PIX *g = gray_scan(p);
    stamp_set f;
    assert_int_equal(stamp_find_gray(g, DPI, &f), 1);
    assert_true(f.gray);
    assert_frame_near(&f.frame[0], 20 - 35 * sin(1.5 * M_PI / 180), 14);
    stamp_wipe(g, NULL, &f);

    PIX *print = tu_text_mask("SO THONG TIN VA TRUYEN THONG", MM(3.5));
    PIX *label = tu_text_mask("DEN So:", MM(4));
    PIX *pen = tu_text_mask("1357", MM(4.5));
    assert_true(print && label && pen);
    assert_true(dark_share(g, print, MM(25), MM(30)) > 0.85);
    assert_true(dark_share(g, label, MM(23), MM(36)) < 0.05);
    assert_true(dark_share(g, pen, MM(45), MM(40)) < 0.05);
    /* nothing left of the frame's left side, below the print */
    for (int y = MM(38); y < MM(48); y++)
        for (int x = MM(18); x < MM(21); x++) {
            l_uint32 v = 0;
            pixGetPixel(g, x, y, &v);
            assert_true(v > 200);
        }
    pixDestroy(&print);
    pixDestroy(&label);
    pixDestroy(&pen);
    pixDestroy(&g);
}

/* The frame's bottom line laid along a row of print, which cuts it into
 * dashes: the frame is found from its top line and a side. */
static void gray_frame_bottom_in_print(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    outline(p, MM(30), MM(20), MM(50), MM(35), 0, 2, STAMP_GRAY);
    text(p, "trung han giai doan 2021 - 2025", MM(28), MM(53), MM(3.5), BLACK);
    PIX *g = gray_scan(p);
    stamp_set f;
    assert_int_equal(stamp_find_gray(g, DPI, &f), 1);
    assert_frame_near(&f.frame[0], 30, 20);
    pixDestroy(&g);
}

/* What is not a stamp on a gray page: black print with its rules and a
 * black table frame of the stamp's size (print, however thin its gray
 * edges), a light frame in the lower part of the page; and a colour page
 * is stamp_find's. */
static void gray_not_a_frame(void **state)
{
    (void)state;
    PIX *p = paper();
    header(p);
    outline(p, MM(110), MM(40), MM(50), MM(35), 0, 2, BLACK);
    outline(p, MM(20), MM(60), MM(60), MM(40), 0, 1, BLACK);
    PIX *rule = pixCreate(MM(40), 2, 1);
    pixSetAll(rule);
    ink_mask(p, rule, MM(35), MM(35), BLACK);
    ink_mask(p, rule, MM(35), MM(70), BLACK);
    pixDestroy(&rule);
    PIX *g = gray_scan(p);
    stamp_set f;
    assert_int_equal(stamp_find_gray(g, DPI, &f), 0);
    pixDestroy(&g);

    p = paper();
    header(p);
    outline(p, MM(20), MM(100), MM(50), MM(35), 0, 2, STAMP_GRAY);
    g = gray_scan(p);
    assert_int_equal(stamp_find_gray(g, DPI, &f), 0);
    pixDestroy(&g);

    p = paper();
    header(p);
    den_stamp(p, 20, 14, 0, BLUE);
    p = scanned(p);
    assert_int_equal(stamp_find_gray(p, DPI, &f), 0);
    pixDestroy(&p);
}

/* A blank is under a stamp when most of it is inside the frame. */
static void holds(void **state)
{
    (void)state;
    stamp_set f = {.frame = {{100, 100, 500, 380}}, .n = 1};
    ocr_box in = {120, 200, 300, 240}, half = {400, 200, 700, 240}, out = {600, 50, 700, 90};
    assert_true(stamp_holds(&f, &in));
    assert_false(stamp_holds(&f, &half));
    assert_false(stamp_holds(&f, &out));
    f.n = 0;
    assert_false(stamp_holds(&f, &in));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_found), cmocka_unit_test(frame_cut_by_print),
        cmocka_unit_test(not_a_frame), cmocka_unit_test(wipe_keeps_print),
        cmocka_unit_test(wipe_reaches_past_bounds), cmocka_unit_test(wipe_dotted_field),
        cmocka_unit_test(wipe_leaves_no_ghost),
        cmocka_unit_test(gray_frame_found_and_wiped), cmocka_unit_test(gray_frame_bottom_in_print),
        cmocka_unit_test(gray_not_a_frame), cmocka_unit_test(holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
