/* frame_cross.c — see frame_cross.h. */
#include "frame_cross.h"

#include <leptonica/allheaders.h>
#include <math.h>

#include "../firmware/log.h"
#include "upright_rule.h"

/* A frame's side is at least this long (the stamp is 35 mm high; a
 * side broken by a word it crosses keeps most of that), and longer than
 * any stroke of print or of the pen. */
#define FRAME_SIDE_MM 20
#define FRAME_MAX 8
/* Print is darker than this on any scan the OCR reads (0 black). */
#define INK_LEVEL 128

size_t frame_cross_cap(PIX *page, int dpi, ocr_page_text *text)
{
    if (!page || pixGetDepth(page) != 8 || !text || dpi <= 0)
        return 0;
    int w = pixGetWidth(page), h = pixGetHeight(page) / 2;
    BOX *upper = boxCreate(0, 0, w, h);
    PIX *clip = upper ? pixClipRectangle(page, upper, NULL) : NULL;
    boxDestroy(&upper);
    PIX *ink = clip ? pixThresholdToBinary(clip, INK_LEVEL) : NULL;
    pixDestroy(&clip);
    upright_rule rules[FRAME_MAX];
    size_t n = ink ? upright_rules_find(ink, FRAME_SIDE_MM * dpi * 10 / 254, rules, FRAME_MAX) : 0;
    pixDestroy(&ink);
    for (size_t k = 0; k < n; k++)
        log_debug("upright line at x %.0f, rows %d-%d", rules[k].x0 + rules[k].slope * rules[k].y0,
                  rules[k].y0, rules[k].y1);
    size_t capped = 0;
    for (size_t i = 0; i < text->nwords && n > 0; i++) {
        ocr_word *wd = &text->words[i];
        const ocr_box *b = &wd->box;
        int bh = b->y1 - b->y0, cy = (b->y0 + b->y1) / 2;
        if (wd->hand || cy >= h)
            continue;
        for (size_t k = 0; k < n; k++) {
            const upright_rule *r = &rules[k];
            /* the line runs past the word's middle both ways */
            if (r->y0 > b->y0 + bh / 4 || r->y1 < b->y1 - bh / 4)
                continue;
            /* or close by its ends: the letter the line ran through
             * may be lost with it, and the word's box end short of it */
            int mid = (int)lround(r->x0 + r->slope * cy), reach = r->half_width + bh * 2 / 3;
            if (mid + reach < b->x0 || mid - reach > b->x1)
                continue;
            if (wd->conf > FRAME_CROSS_CONF)
                wd->conf = FRAME_CROSS_CONF;
            wd->crossed = true;
            capped++;
            log_debug("a stamp's frame runs through \"%s\" at %d,%d", wd->text, b->x0, b->y0);
            break;
        }
    }
    return capped;
}
