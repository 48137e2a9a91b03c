/* test_seal.c — the round seal found on a colourless page and its rings
 * wiped (ocr/seal.c), on drawn pages: a seal photocopied black over a
 * line of print, a faint one broken into dashes, and things that are not
 * seals (a rectangular stamp's frame, print, a small ring). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>
#include <math.h>

#include "ocr/seal.h"

#define PAGE 1400
#define CX 700
#define CY 700
#define OUTER 210 /* 35.6 mm across at 300 dpi */
#define RING 10
#define INNER 142

static PIX *white_page(void)
{
    PIX *p = pixCreate(PAGE, PAGE, 8);
    assert_non_null(p);
    pixSetAllArbitrary(p, 255);
    return p;
}

static int at(PIX *p, int x, int y)
{
    l_uint32 v = 0;
    pixGetPixel(p, x, y, &v);
    return (int)v;
}

/* A ring of radii r0..r1 around (cx, cy); `dash` > 0 inks only the first
 * `share` of each arc of `dash` degrees. */
static void ring_part(PIX *p, int cx, int cy, int r0, int r1, int dash, double share)
{
    for (int y = cy - r1 - 1; y <= cy + r1 + 1; y++)
        for (int x = cx - r1 - 1; x <= cx + r1 + 1; x++) {
            double d = hypot(x - cx, y - cy);
            if (d < r0 || d > r1)
                continue;
            double deg = atan2(y - cy, x - cx) * 180 / M_PI + 180;
            if (dash == 0 || fmod(deg, dash) < dash * share)
                pixSetPixel(p, x, y, 0);
        }
}

static void ring(PIX *p, int cx, int cy, int r0, int r1, int dash)
{
    ring_part(p, cx, cy, r0, r1, dash, 0.7);
}

static void rect(PIX *p, int x0, int y0, int x1, int y1)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            pixSetPixel(p, x, y, 0);
}

/* Capital-sized blocks along a line at y: print, with a vertical stem at
 * x = stem that crosses the seal's lower ring. */
static void print_line(PIX *p, int y, int x0, int x1)
{
    for (int x = x0; x + 30 < x1; x += 46)
        rect(p, x, y, x + 8, y + 40);
}

static void a_seal_is_found_and_its_rings_wiped(void **st)
{
    PIX *p = white_page();
    ring(p, CX, CY, OUTER - RING, OUTER, 0);
    ring(p, CX, CY, INNER - 3, INNER, 0);
    /* the name's line under the seal's lower arc: stems cross the ring */
    print_line(p, CY + OUTER - 25, CX - 150, CX + 400);
    seal_ring s[SEAL_MAX];
    assert_int_equal(seal_find(p, 300, s), 1);
    assert_true(abs(s[0].cx - CX) <= 2 && abs(s[0].cy - CY) <= 2);
    assert_true(abs(s[0].outer_r1 - OUTER) <= 2 && abs(s[0].outer_r0 - (OUTER - RING)) <= 2);
    assert_true(abs(s[0].inner_r1 - INNER) <= 2);

    seal_erase(p, &s[0]);
    /* the rings are gone where nothing crosses them */
    int left = 0;
    for (int k = 0; k < 360; k++) {
        double a = k * M_PI / 180;
        for (int r = OUTER - RING; r <= OUTER; r += 3)
            left += at(p, CX + (int)lround(r * cos(a)), CY - (int)lround(r * sin(a))) < 128;
        left += at(p, CX + (int)lround((INNER - 1) * cos(a)),
                   CY - (int)lround((INNER - 1) * sin(a))) < 128;
    }
    assert_true(left < 40); /* only where the stems cross */
    /* a stem crossing the lower ring keeps its piece under the ring */
    int stem_x = CX - 150 + 46 * 3 + 4; /* the fourth stem, near the bottom */
    for (int y = CY + OUTER - 25; y <= CY + OUTER - 25 + 40; y++)
        assert_int_equal(at(p, stem_x, y), 0);
    /* print away from the rings is untouched */
    assert_int_equal(at(p, CX - 150 + 46 * 10 + 4, CY + OUTER - 5), 0);
    pixDestroy(&p);
}

/* A seal photocopied faint: its rings broken into dashes. */
static void a_dashed_seal_is_found(void **st)
{
    PIX *p = white_page();
    ring(p, CX, CY, OUTER - 6, OUTER, 12);
    seal_ring s[SEAL_MAX];
    assert_int_equal(seal_find(p, 300, s), 1);
    assert_true(abs(s[0].cx - CX) <= 3 && abs(s[0].cy - CY) <= 3);
    pixDestroy(&p);
}

/* A seal photocopied fainter still: its dashes cover a little over
 * half of its round, but every twelfth of it. */
static void a_faint_seal_over_half_its_round_is_found(void **st)
{
    PIX *p = white_page();
    ring_part(p, CX, CY, OUTER - 6, OUTER, 10, 0.55);
    seal_ring s[SEAL_MAX];
    assert_int_equal(seal_find(p, 300, s), 1);
    assert_true(abs(s[0].cx - CX) <= 3 && abs(s[0].cy - CY) <= 3);
    pixDestroy(&p);
}

/* Not seals: the ĐẾN stamp's frame (50 × 35 mm) with its printed fields,
 * lines of print, and a ring far smaller than a seal (a 10 mm logo). */
static void no_seal_in_frames_print_or_small_rings(void **st)
{
    PIX *p = white_page();
    int w = 591, h = 413;
    rect(p, 200, 200, 200 + w, 206);
    rect(p, 200, 200 + h - 6, 200 + w, 200 + h);
    rect(p, 200, 200, 206, 200 + h);
    rect(p, 200 + w - 6, 200, 200 + w, 200 + h);
    for (int y = 260; y < 200 + h - 40; y += 70)
        print_line(p, y, 240, 200 + w - 40);
    for (int y = 800; y < 1300; y += 70)
        print_line(p, y, 100, 1300);
    ring(p, 1100, 400, 52, 59, 0);
    seal_ring s[SEAL_MAX];
    assert_int_equal(seal_find(p, 300, s), 0);
    pixDestroy(&p);
}

/* An arc round most of a circle, open over a sixth of it (a loop of
 * the signature, a bracket): inked along 80% of its round, yet no ring,
 * which leaves no twelfth bare. */
static void no_seal_in_an_open_arc(void **st)
{
    PIX *p = white_page();
    for (int y = CY - OUTER; y <= CY + OUTER; y++)
        for (int x = CX - OUTER; x <= CX + OUTER; x++) {
            double d = hypot(x - CX, y - CY), deg = atan2(y - CY, x - CX) * 180 / M_PI + 180;
            if (d >= OUTER - RING && d <= OUTER && deg > 65)
                pixSetPixel(p, x, y, 0);
        }
    seal_ring s[SEAL_MAX];
    assert_int_equal(seal_find(p, 300, s), 0);
    pixDestroy(&p);
}

/* Arguments it cannot work on find nothing. */
static void bad_arguments(void **st)
{
    seal_ring s[SEAL_MAX];
    assert_int_equal(seal_find(NULL, 300, s), 0);
    PIX *one = pixCreate(100, 100, 1);
    assert_int_equal(seal_find(one, 300, s), 0);
    pixDestroy(&one);
    seal_erase(NULL, &s[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_seal_is_found_and_its_rings_wiped),
        cmocka_unit_test(a_dashed_seal_is_found),
        cmocka_unit_test(a_faint_seal_over_half_its_round_is_found),
        cmocka_unit_test(no_seal_in_frames_print_or_small_rings),
        cmocka_unit_test(no_seal_in_an_open_arc),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
