/* fuzz_extract.c — libFuzzer target for ocr/extract*.c.
 *
 * The input bytes describe one or two pages of OCR words: each record is
 * 8 bytes of geometry and confidence followed by a NUL-terminated text
 * (any bytes, invalid UTF-8 included). Build:
 *   clang -g -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_extract.c \
 *     ocr/extract*.c ocr/layout.c ocr/vntext.c ocr/metadata.c ocr/words.c \
 *     firmware/err.c -ljansson -lunistring -o build/fuzz_extract
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/extract.h"

static int take(const uint8_t **p, size_t *n)
{
    if (*n < 1)
        return 0;
    int v = **p;
    (*p)++;
    (*n)--;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ocr_page_text pages[2];
    memset(pages, 0, sizeof pages);
    for (int i = 0; i < 2; i++) {
        pages[i].width = 2480;
        pages[i].height = 3508;
        pages[i].dpi = 300;
    }
    size_t np = 1;
    while (size > 8) {
        int page = take(&data, &size) & 1;
        if (page)
            np = 2;
        /* coordinates on a coarse grid so that words meet on rows */
        int x = take(&data, &size) * 10, y = take(&data, &size) * 14;
        int w = take(&data, &size) * 2 + 1, h = take(&data, &size) / 2 + 1;
        float conf = (float)take(&data, &size) / 255.0f;
        float red = (float)take(&data, &size) / 255.0f;
        int mark = take(&data, &size) == 0xFF;
        const uint8_t *nul = memchr(data, 0, size);
        size_t full = nul ? (size_t)(nul - data) : size;
        char text[256];
        size_t len = full < sizeof text - 1 ? full : sizeof text - 1;
        memcpy(text, data, len);
        text[len] = '\0';
        size_t consumed = nul ? full + 1 : size;
        data += consumed;
        size -= consumed;
        if (mark) {
            ocr_mark_region m = {.box = {x, y, x + w, y + h}, .red = red, .text = text, .conf = conf};
            ocr_page_add_mark(&pages[page], &m);
        } else if (text[0]) {
            /* two lines over one row now and then: the engine reading
             * a line twice */
            ocr_word wd = {.text = text,
                           .box = {x, y, x + w, y + h},
                           .conf = conf,
                           .red = red,
                           .line = (x / 10) & 1,
                           .line_box = {0, y, 2480, y + h},
                           .crossed = (y & 4) != 0};
            ocr_page_add_word(&pages[page], &wd);
        }
    }
    for (int i = 0; i < 2; i++)
        ocr_page_drop_doubled(&pages[i]);
    extract_options o = extract_defaults();
    o.now = 1772323200;
    doc_metadata m = {0};
    extract_metadata(pages, np, &o, &m, NULL);
    ocr_box band;
    if (extract_number_lost(&pages[0], &band))
        (void)extract_number_unread(&pages[0], &band);
    /* the signer's name as its second readings judge it */
    if (extract_name_doubt(&pages[np - 1], &band))
        (void)extract_name_headless(&pages[np - 1], &band);
    (void)extract_name_unsure(&pages[np - 1], &band);
    char *json = meta_to_json(&m);
    free(json);
    meta_free(&m);
    ocr_page_text_free(&pages[0]);
    ocr_page_text_free(&pages[1]);
    return 0;
}
