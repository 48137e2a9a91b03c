/* tsv_loader.h — test helper (header-only): Tesseract TSV output
 * (`tesseract page.jpg - -l vie+eng tsv`) → ocr_page_text, so that the
 * extraction tests run on real OCR output without running OCR.
 *
 * Columns: level page_num block_num par_num line_num word_num left top
 * width height conf text; level 1 = page, 4 = line, 5 = word (conf 0..100).
 * line_box comes from the level-4 row, baseline ≈ line bottom, red = 0.
 */
#ifndef SOHOA_TSV_LOADER_H
#define SOHOA_TSV_LOADER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/words.h"

/* Splits a TSV line in place into at most 12 fields. */
static int tsv_split(char *line, char **f)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < 12; p++)
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    char *e = f[n - 1] + strlen(f[n - 1]);
    while (e > f[n - 1] && (e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return n;
}

/* Loads one TSV page; returns 0 or -1. */
static int tsv_load(const char *path, int dpi, ocr_page_text *pt)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    memset(pt, 0, sizeof *pt);
    pt->dpi = dpi;
    char buf[4096];
    ocr_box line_box = {0, 0, 0, 0};
    int line_no = -1, block = 0;
    int rc = 0;
    while (fgets(buf, sizeof buf, fp)) {
        char *f[12];
        if (tsv_split(buf, f) < 12 || f[0][0] < '0' || f[0][0] > '9')
            continue;
        int level = atoi(f[0]);
        int x = atoi(f[6]), y = atoi(f[7]), w = atoi(f[8]), h = atoi(f[9]);
        if (level == 1) {
            pt->width = w;
            pt->height = h;
        } else if (level == 4) {
            line_box = (ocr_box){x, y, x + w, y + h};
            line_no++;
            block = atoi(f[2]);
        } else if (level == 5) {
            const char *text = f[11];
            while (*text == ' ')
                text++;
            if (!*text)
                continue;
            ocr_word wd = {
                .text = (char *)text,
                .box = {x, y, x + w, y + h},
                .conf = (float)atof(f[10]) / 100.0f,
                .block = block,
                .line = line_no,
                .line_box = line_box,
                .baseline = line_box.y1,
            };
            if (ocr_page_add_word(pt, &wd) != 0) {
                rc = -1;
                break;
            }
        }
    }
    fclose(fp);
    return rc;
}

#endif
