#include "words.h"

#include <stdlib.h>
#include <string.h>

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
