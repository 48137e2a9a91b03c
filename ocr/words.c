#include "words.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vntext.h"

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, ncap * size);
    if (!p)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

int ocr_page_add_word(ocr_page_text *pt, const ocr_word *w)
{
    if (grow((void **)&pt->words, &pt->cap, pt->nwords, sizeof *pt->words) != 0)
        return -1;
    char *text = strdup(w->text ? w->text : "");
    if (!text)
        return -1;
    pt->words[pt->nwords] = *w;
    pt->words[pt->nwords].text = text;
    pt->nwords++;
    return 0;
}

void ocr_page_remove_word(ocr_page_text *pt, size_t i)
{
    if (i >= pt->nwords)
        return;
    free(pt->words[i].text);
    memmove(&pt->words[i], &pt->words[i + 1], (pt->nwords - i - 1) * sizeof *pt->words);
    pt->nwords--;
}

int ocr_page_add_mark(ocr_page_text *pt, const ocr_mark_region *m)
{
    if (grow((void **)&pt->marks, &pt->marks_cap, pt->nmarks, sizeof *pt->marks) != 0)
        return -1;
    char *text = NULL;
    if (m->text && !(text = strdup(m->text)))
        return -1;
    pt->marks[pt->nmarks] = *m;
    pt->marks[pt->nmarks].text = text;
    pt->nmarks++;
    return 0;
}

void ocr_page_text_free(ocr_page_text *pt)
{
    for (size_t i = 0; i < pt->nwords; i++)
        free(pt->words[i].text);
    for (size_t i = 0; i < pt->nmarks; i++)
        free(pt->marks[i].text);
    free(pt->words);
    free(pt->marks);
    memset(pt, 0, sizeof *pt);
}

int ocr_page_copy(ocr_page_text *dst, const ocr_page_text *src)
{
    memset(dst, 0, sizeof *dst);
    dst->width = src->width;
    dst->height = src->height;
    dst->dpi = src->dpi;
    for (size_t i = 0; i < src->nwords; i++)
        if (ocr_page_add_word(dst, &src->words[i]) != 0) {
            ocr_page_text_free(dst);
            return -1;
        }
    for (size_t i = 0; i < src->nmarks; i++)
        if (ocr_page_add_mark(dst, &src->marks[i]) != 0) {
            ocr_page_text_free(dst);
            return -1;
        }
    return 0;
}

static int overlap(int a0, int a1, int b0, int b1)
{
    return (a1 < b1 ? a1 : b1) - (a0 > b0 ? a0 : b0);
}

/* The fold of word i, made when first asked for (most words meet no
 * other at their place); NULL on ENOMEM. */
static const char *fold_of(const ocr_page_text *pt, char **fold, size_t i)
{
    if (!fold[i])
        fold[i] = vn_fold(pt->words[i].text);
    return fold[i];
}

/* Whether words i and j of the page are one read twice; *oom on ENOMEM. */
static bool read_twice(const ocr_page_text *pt, char **fold, size_t i, size_t j, bool *oom)
{
    const ocr_word *a = &pt->words[i], *b = &pt->words[j];
    if (a->block != b->block || a->line == b->line)
        return false;
    int ha = a->line_box.y1 - a->line_box.y0, hb = b->line_box.y1 - b->line_box.y0;
    if (2 * overlap(a->line_box.y0, a->line_box.y1, b->line_box.y0, b->line_box.y1) <
        (ha < hb ? ha : hb))
        return false;
    int wa = a->box.x1 - a->box.x0, wb = b->box.x1 - b->box.x0;
    if (abs((a->box.x0 + a->box.x1) - (b->box.x0 + b->box.x1)) > 2 * (wa > wb ? wa : wb))
        return false;
    const char *fa = fold_of(pt, fold, i), *fb = fold_of(pt, fold, j);
    if (!fa || !fb) {
        *oom = true;
        return false;
    }
    size_t la = strlen(fa), lb = strlen(fb);
    int d = vn_edit_distance(fa, fb, 1);
    return d == 0 || (d == 1 && (la < lb ? la : lb) >= 3);
}

/* Two readings this near in confidence are as sure. */
#define AS_SURE 0.1f

static long area(const ocr_box *b)
{
    return (long)(b->x1 - b->x0) * (b->y1 - b->y0);
}

/* Two lines are one read twice when at least this many of their words
 * are: two rows of a header set one under the other can have a word
 * alike at one place ("ĐẢNG BỘ TỈNH …" over "ĐẢNG ỦY KHỐI …"), never
 * three. */
#define TWICE_MIN_WORDS 3

int ocr_page_drop_doubled(ocr_page_text *pt)
{
    size_t n = pt->nwords, np = 0;
    char **fold = calloc(n ? n : 1, sizeof *fold);
    bool *drop = calloc(n ? n : 1, sizeof *drop);
    size_t(*pair)[2] = calloc(n ? n : 1, sizeof *pair);
    bool oom = !(fold && drop && pair);
    /* each word's likeliest twin: the first alike on another line */
    for (size_t i = 0; !oom && i < n && np < n; i++)
        for (size_t j = i + 1; j < n && !oom; j++)
            if (read_twice(pt, fold, i, j, &oom)) {
                pair[np][0] = i;
                pair[np++][1] = j;
                break;
            }
    int rc = oom ? -1 : 0;
    for (size_t p = 0; p < np; p++) {
        const ocr_word *a = &pt->words[pair[p][0]], *b = &pt->words[pair[p][1]];
        size_t same = 0;
        for (size_t q = 0; q < np; q++)
            same += pt->words[pair[q][0]].line == a->line &&
                    pt->words[pair[q][1]].line == b->line;
        if (same < TWICE_MIN_WORDS || drop[pair[p][0]] || drop[pair[p][1]])
            continue;
        bool keep_a = fabsf(a->conf - b->conf) > AS_SURE ? a->conf > b->conf
                                                          : area(&a->box) >= area(&b->box);
        drop[pair[p][keep_a ? 1 : 0]] = true;
    }
    for (size_t i = n; rc == 0 && i-- > 0;)
        if (drop[i])
            ocr_page_remove_word(pt, i);
    for (size_t i = 0; fold && i < n; i++)
        free(fold[i]);
    free(fold);
    free(drop);
    free(pair);
    return rc;
}
