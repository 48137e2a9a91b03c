/* test_layout_threads.c — pages are laid out in parallel, one per worker
 * thread (ocr/pipeline.c): two pages laid out at once, over and over,
 * each come out as they do alone. Their word orders must not share any
 * state (a sort's context kept in a static mixed one page's words with
 * the other's, and crashed on a corpus run). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ocr/layout.h"

#define ROUNDS 400

/* A page of `rows` lines of `per` words, in a shuffled order, its lines
 * `gap` px apart. */
static void make_page(ocr_page_text *pt, int rows, int per, int gap, unsigned seed)
{
    *pt = (ocr_page_text){.width = 2480, .height = 3508, .dpi = 300};
    int n = rows * per;
    int *order = malloc(sizeof *order * (size_t)n);
    assert_non_null(order);
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        int j = (int)(seed % (unsigned)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < n; k++) {
        int r = order[k] / per, c = order[k] % per;
        char text[16];
        snprintf(text, sizeof text, "w%d", order[k]);
        ocr_word w = {.text = text,
                      .box = {200 + c * 90, 200 + r * gap, 270 + c * 90, 240 + r * gap},
                      .conf = 0.9f,
                      .line = r};
        w.line_box = w.box;
        w.baseline = w.box.y1;
        assert_int_equal(ocr_page_add_word(pt, &w), 0);
    }
    free(order);
}

/* The layout as a sum over its rows of the words' positions in them: any
 * word out of its row or out of order changes it. */
static unsigned long signature(const ocr_page_text *pt)
{
    page_layout pl;
    if (layout_build(&pl, pt) != 0)
        return 0;
    unsigned long sig = pl.nrows;
    for (size_t r = 0; r < pl.nrows; r++)
        for (size_t j = 0; j < pl.rows[r].n; j++)
            sig = sig * 31 +
                  (r * 1000 + j) * strtoul(lay_at(&pl, &pl.rows[r], j)->text + 1, NULL, 10);
    layout_free(&pl);
    return sig;
}

typedef struct job {
    const ocr_page_text *pt;
    unsigned long want;
    int wrong;
} job;

static void *lay_out_often(void *arg)
{
    job *j = arg;
    for (int i = 0; i < ROUNDS; i++)
        j->wrong += signature(j->pt) != j->want;
    return NULL;
}

static void two_pages_at_once(void **state)
{
    ocr_page_text a, b;
    make_page(&a, 40, 20, 60, 7);
    make_page(&b, 25, 12, 90, 11);
    job ja = {&a, signature(&a), 0}, jb = {&b, signature(&b), 0};
    assert_true(ja.want != 0 && jb.want != 0 && ja.want != jb.want);
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, lay_out_often, &ja), 0);
    assert_int_equal(pthread_create(&tb, NULL, lay_out_often, &jb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(ja.wrong, 0);
    assert_int_equal(jb.wrong, 0);
    ocr_page_text_free(&a);
    ocr_page_text_free(&b);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_pages_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
