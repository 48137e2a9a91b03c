/* test_words.c — the page's words as the OCR gives them (ocr/words.c):
 * a printed line the engine read twice, as two lines lying over each
 * other, keeps each of its words once; words that only look alike (the
 * same word on the next row, in the other column, twice in one line, or
 * at the head of two header rows set close) all stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocr/words.h"

/* Adds word `text` of line `line` (its box y0..y1 from x0 to x1 of the
 * page) with its own box and confidence. */
static void add(ocr_page_text *pt, const char *text, int line, int ly0, int ly1, int x0, int y0,
                int x1, int y1, float conf)
{
    ocr_word w = {.text = (char *)text,
                  .box = {x0, y0, x1, y1},
                  .conf = conf,
                  .block = 3,
                  .line = line,
                  .line_box = {300, ly0, 1400, ly1}};
    assert_int_equal(ocr_page_add_word(pt, &w), 0);
}

/* The words left, in order, joined by spaces. */
static void assert_words(const ocr_page_text *pt, const char *want)
{
    char got[512] = "";
    for (size_t i = 0; i < pt->nwords; i++) {
        if (i)
            strcat(got, " ");
        strcat(got, pt->words[i].text);
    }
    assert_string_equal(got, want);
}

/* "trung hạn giai đoạn 2021" read twice (a 200 dpi photocopy): the first
 * reading's boxes squeezed off the ink, the second's whole; each word is
 * kept once, the copy with the larger box when both are as sure, the
 * surer one when they are not. */
static void line_read_twice(void **state)
{
    (void)state;
    ocr_page_text pt = {0};
    add(&pt, "trung", 7, 313, 341, 325, 321, 334, 340, 0.97f);
    add(&pt, "hạn", 7, 313, 341, 404, 316, 420, 341, 0.83f);
    add(&pt, "giai", 7, 313, 341, 479, 318, 507, 322, 0.97f);
    add(&pt, "đoạn", 7, 313, 341, 528, 305, 582, 359, 0.97f);
    add(&pt, "2021", 7, 313, 341, 593, 318, 656, 341, 0.93f);
    add(&pt, "rung", 8, 323, 378, 335, 323, 395, 348, 0.96f);
    add(&pt, "hạn", 8, 323, 378, 420, 324, 451, 346, 0.97f);
    add(&pt, "giai", 8, 323, 378, 461, 323, 509, 347, 0.96f);
    add(&pt, "đoạn", 8, 323, 378, 536, 324, 581, 346, 0.40f);
    assert_int_equal(ocr_page_drop_doubled(&pt), 0);
    assert_words(&pt, "đoạn 2021 rung hạn giai");
    /* the "giai" kept is the whole one */
    assert_int_equal(pt.words[4].box.y1 - pt.words[4].box.y0, 24);
    ocr_page_text_free(&pt);
}

/* A row of words on line `line` whose box runs from y to y + 30, each
 * word from its x0 to its x1, all as sure. */
typedef struct placed {
    const char *text;
    int x0, x1;
} placed;

static void add_row(ocr_page_text *pt, int line, int y, const placed *w, size_t n, float conf)
{
    for (size_t i = 0; i < n; i++)
        add(pt, w[i].text, line, y, y + 30, w[i].x0, y + 2, w[i].x1, y + 28, conf);
}

/* Words alike that are not one read twice, each case three words over
 * three (as many as make a line read twice): the same words on the next
 * row, in the other column of the same row, twice in one line, and other
 * words at the same place (a stamp's labels over print). */
static void alike_words_stay(void **state)
{
    (void)state;
    const placed three[] = {{"hạn", 400, 440}, {"giai", 460, 520}, {"đoạn", 540, 600}};
    const placed far[] = {{"hạn", 1100, 1140}, {"giai", 1160, 1220}, {"đoạn", 1240, 1300}};
    const placed others[] = {{"Số", 402, 442}, {"ngày", 462, 522}, {"Chuyển", 542, 602}};
    struct {
        int line2, y2;
        const placed *second;
    } cases[] = {
        {2, 160, three},  /* the next row */
        {2, 102, far},    /* the other column */
        {1, 100, three},  /* one line */
        {2, 102, others}, /* other words */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ocr_page_text pt = {0};
        add_row(&pt, 1, 100, three, 3, 0.9f);
        add_row(&pt, cases[k].line2, cases[k].y2, cases[k].second, 3, 0.9f);
        assert_int_equal(ocr_page_drop_doubled(&pt), 0);
        assert_int_equal(pt.nwords, 6);
        ocr_page_text_free(&pt);
    }
}

/* Short words must match exactly: "là" and "lá" read at one place on
 * lines over each other are one word read twice; "a" and "b" are not. */
static void short_words(void **state)
{
    (void)state;
    ocr_page_text pt = {0};
    const placed first[] = {{"là", 400, 430}, {"a", 440, 455}, {"về", 470, 500}, {"xã", 510, 540}};
    const placed second[] = {{"lá", 401, 431}, {"b", 441, 456}, {"về", 471, 501}, {"xã", 511, 541}};
    add_row(&pt, 1, 100, first, 4, 0.9f);
    add_row(&pt, 2, 104, second, 4, 0.5f);
    assert_int_equal(ocr_page_drop_doubled(&pt), 0);
    assert_words(&pt, "là a về xã b");
    ocr_page_text_free(&pt);
}

/* Two rows of a header set close, their lines' boxes over each other,
 * each starting with the same word at the same place: one word alike is
 * no line read twice, and both rows stay whole. */
static void header_rows_stay(void **state)
{
    (void)state;
    ocr_page_text pt = {0};
    const placed first[] = {{"ĐẢNG", 400, 500}, {"BỘ", 515, 560}, {"TỈNH", 575, 660}};
    const placed second[] = {{"ĐẢNG", 402, 502}, {"ỦY", 517, 560}, {"KHỐI", 575, 665}};
    add_row(&pt, 1, 500, first, 3, 0.9f);
    add_row(&pt, 2, 515, second, 3, 0.9f);
    assert_int_equal(ocr_page_drop_doubled(&pt), 0);
    assert_words(&pt, "ĐẢNG BỘ TỈNH ĐẢNG ỦY KHỐI");
    ocr_page_text_free(&pt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_read_twice),
        cmocka_unit_test(alike_words_stay),
        cmocka_unit_test(short_words),
        cmocka_unit_test(header_rows_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
