/* test_recognize_cut.c — a band of the page read again from its own image
 * shown the engine at another size (ocr_recognize_cut): the words come
 * back at their place on the page, replace those read there before, and
 * leave the others; a scrap of the first reading over a word read well
 * gives way to it (ocr_recognize_region). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>

#include "ocr/recognize.h"
#include "tests/unit/support/testutil.h"

#define DPI 300
#define TEXT_X 1200
#define TEXT_Y 900
#define TEXT_H 44

static const ocr_word *find(const ocr_page_text *pt, const char *text)
{
    for (size_t i = 0; i < pt->nwords; i++)
        if (strcmp(pt->words[i].text, text) == 0)
            return &pt->words[i];
    return NULL;
}

static void add_read(ocr_page_text *pt, const char *text, int x0, int y0, int x1, int y1, float conf)
{
    ocr_word w = {.text = (char *)text, .box = {x0, y0, x1, y1}, .conf = conf};
    assert_int_equal(ocr_page_add_word(pt, &w), 0);
}

static void add(ocr_page_text *pt, const char *text, int x0, int y0, int x1, int y1)
{
    add_read(pt, text, x0, y0, x1, y1, 0.3f);
}

/* A white page with "Tran Van Binh" printed at TEXT_X, TEXT_Y; the text's
 * width in *text_w. */
static PIX *name_page(int *text_w)
{
    PIX *page = pixCreate(2480, 1400, 8);
    assert_non_null(page);
    pixSetAllArbitrary(page, 255);
    PIX *m = tu_text_mask("Tran Van Binh", TEXT_H);
    assert_non_null(m);
    pixPaintThroughMask(page, m, TEXT_X, TEXT_Y, 0);
    *text_w = pixGetWidth(m);
    pixDestroy(&m);
    return page;
}

static void read_at(void **state, float s)
{
    int text_w;
    PIX *page = name_page(&text_w);

    ocr_box band = {TEXT_X - 100, TEXT_Y - 40, 2480, TEXT_Y + TEXT_H + 40};
    ocr_page_text out = {0};
    add(&out, "xJ", TEXT_X, TEXT_Y, TEXT_X + 80, TEXT_Y + TEXT_H); /* the first reading */
    add(&out, "Giám", 1300, 600, 1420, 640);                        /* above the band */

    BOX *b = boxCreate(band.x0, band.y0, band.x1 - band.x0, band.y1 - band.y0);
    PIX *clip = pixClipRectangle(page, b, NULL);
    PIX *scaled = pixScaleGrayLI(clip, s, s);
    sohoa_err err = {0};
    assert_int_equal(ocr_recognize_cut(*state, scaled, (int)(DPI * s), &band, 1.0f / s, true, &out,
                                       &err),
                     0);
    const ocr_word *tran = find(&out, "Tran"), *binh = find(&out, "Binh");
    assert_non_null(tran);
    assert_non_null(binh);
    /* at their place on the page, to a few pixels */
    assert_in_range(tran->box.x0, TEXT_X - 6, TEXT_X + 6);
    assert_in_range(tran->box.y0, TEXT_Y - 8, TEXT_Y + 8);
    assert_in_range(binh->box.x1, TEXT_X + text_w - 8, TEXT_X + text_w + 8);
    assert_null(find(&out, "xJ"));
    assert_non_null(find(&out, "Giám"));
    ocr_page_text_free(&out);
    pixDestroy(&scaled);
    pixDestroy(&clip);
    boxDestroy(&b);
    pixDestroy(&page);
}

static void enlarged(void **state) { read_at(state, 1.5f); }

static void shrunk(void **state) { read_at(state, 0.75f); }

/* A scrap of the first look (a seal's ring read as one tall letter,
 * reaching into the band from above it, its centre outside) gives way to
 * the word read well under it; a word the first look read fairly does
 * not, and the new one is dropped. */
static void scrap_gives_way(void **state)
{
    int text_w;
    PIX *page = name_page(&text_w);
    ocr_box band = {TEXT_X - 100, TEXT_Y - 40, 2480, TEXT_Y + TEXT_H + 40};
    for (int fair = 0; fair < 2; fair++) {
        ocr_page_text out = {0};
        add_read(&out, "ấ", TEXT_X - 30, TEXT_Y - 200, TEXT_X + 200, TEXT_Y + TEXT_H + 10,
                 fair ? 0.5f : 0.0f);
        sohoa_err err = {0};
        assert_int_equal(ocr_recognize_region(*state, page, DPI, &band, 1.0f, true, &out, &err), 0);
        assert_non_null(find(&out, "Binh"));
        if (fair) {
            assert_null(find(&out, "Tran"));
            assert_non_null(find(&out, "ấ"));
        } else {
            assert_non_null(find(&out, "Tran"));
            assert_null(find(&out, "ấ"));
        }
        ocr_page_text_free(&out);
    }
    pixDestroy(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(enlarged),
        cmocka_unit_test(shrunk),
        cmocka_unit_test(scrap_gives_way),
    };
    return cmocka_run_group_tests(tests, tu_ocr_engine_setup, tu_ocr_engine_teardown);
}
