/* test_extract_builder.h — test helper (header-only): synthetic OCR pages for
 * the extraction rules. A page is A4 at 300 dpi (2480 × 3508); words are
 * laid out left to right with print-like widths; every word of a visual
 * row gets the same engine line index, as Tesseract merges the header
 * columns into one line.
 */
#ifndef SOHOA_EXTRACT_BUILDER_H
#define SOHOA_EXTRACT_BUILDER_H

#include <stdlib.h>
#include <string.h>

#include "ocr/vntext.h"
#include "ocr/words.h"

#define PAGE_W 2480
#define PAGE_H 3508
#define WORD_H 44
#define CHAR_W 26
#define SPACE_W 16

static int bld_line_no;

static void bld_page(ocr_page_text *pt)
{
    memset(pt, 0, sizeof *pt);
    pt->width = PAGE_W;
    pt->height = PAGE_H;
    pt->dpi = 300;
}

static int bld_word_w(const char *w) { return (int)vn_utf8_len(w) * CHAR_W; }

/* Width of a line of text as laid out by bld_text. */
static int bld_text_w(const char *text)
{
    char *copy = strdup(text);
    int w = 0, n = 0;
    for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
        w += bld_word_w(t) + (n++ ? SPACE_W : 0);
    free(copy);
    return w;
}

/* Adds one word with explicit geometry. */
static void bld_word_at(ocr_page_text *pt, const char *text, int x, int y, int w, int h,
                        float conf, float red)
{
    ocr_word wd = {.text = (char *)text,
                   .box = {x, y, x + w, y + h},
                   .conf = conf,
                   .line = bld_line_no,
                   .line_box = {x, y, x + w, y + h},
                   .baseline = y + h,
                   .red = red};
    ocr_page_add_word(pt, &wd);
}

/* Adds the words of `text` from x on row y; returns the x after it. */
static int bld_text_conf(ocr_page_text *pt, int x, int y, const char *text, float conf)
{
    char *copy = strdup(text);
    for (char *t = strtok(copy, " "); t; t = strtok(NULL, " ")) {
        int w = bld_word_w(t);
        bld_word_at(pt, t, x, y, w, WORD_H, conf, 0);
        x += w + SPACE_W;
    }
    free(copy);
    return x;
}

static int bld_text(ocr_page_text *pt, int x, int y, const char *text)
{
    return bld_text_conf(pt, x, y, text, 0.95f);
}

static void bld_centred(ocr_page_text *pt, int cx, int y, const char *text)
{
    bld_text(pt, cx - bld_text_w(text) / 2, y, text);
}

/* Left header column is centred on x = 700, right column on x = 1700,
 * the title and subject on the page centre 1300. */
#define LEFT_CX 700
#define RIGHT_CX 1720
#define MID_CX 1300

/* A State header: bodies (NULL-terminated), "Số" line, date line. */
static void bld_state_header(ocr_page_text *pt, const char *const *bodies, const char *so,
                             const char *date)
{
    int y = 190;
    const char *right[] = {"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"};
    for (int i = 0; bodies[i] || i < 2; i++, y += 60) {
        bld_line_no++;
        if (bodies[i])
            bld_centred(pt, LEFT_CX, y, bodies[i]);
        if (i < 2)
            bld_centred(pt, RIGHT_CX, y, right[i]);
        if (!bodies[i])
            break;
    }
    bld_line_no++;
    if (so)
        bld_text(pt, 480, 420, so);
    if (date)
        bld_text(pt, 1230, 420, date);
}

static void bld_party_header(ocr_page_text *pt, const char *const *bodies, const char *so,
                             const char *date)
{
    int y = 190;
    for (int i = 0; bodies[i]; i++, y += 60) {
        bld_line_no++;
        bld_centred(pt, LEFT_CX, y, bodies[i]);
        if (i == 0)
            bld_centred(pt, RIGHT_CX, y, "ĐẢNG CỘNG SẢN VIỆT NAM");
    }
    bld_line_no++;
    if (so)
        bld_text(pt, 480, 420, so);
    if (date)
        bld_text(pt, 1230, 420, date);
}

/* Title at y = 560, subject lines from y = 640 every 60 px; returns the y
 * after the subject. */
static int bld_title_subject(ocr_page_text *pt, const char *title, const char *const *subject)
{
    int y = 560;
    if (title) {
        bld_line_no++;
        bld_centred(pt, MID_CX, y, title);
    }
    y += 80;
    for (int i = 0; subject && subject[i]; i++, y += 58) {
        bld_line_no++;
        bld_centred(pt, MID_CX, y, subject[i]);
    }
    return y;
}

/* A justified body paragraph from y: `n` full lines. */
static int bld_body(ocr_page_text *pt, int y, int n, const char *first)
{
    static const char *const filler =
        "Các cơ quan đơn vị có trách nhiệm chuẩn bị điều kiện về hạ tầng";
    y += 70; /* the rule line and the space above the body */
    for (int i = 0; i < n; i++, y += 58) {
        bld_line_no++;
        bld_text(pt, i == 0 ? 460 : 350, y, i == 0 && first ? first : filler);
    }
    return y;
}

/* Signature block: the recipients' label (`label`, "Nơi nhận:" as
 * printed) left, prefix / position / name right. */
static void bld_signer_label(ocr_page_text *pt, const char *label, const char *prefix,
                             const char *position, const char *name)
{
    int y = 2500;
    bld_line_no++;
    bld_text(pt, 350, y, label);
    if (prefix) {
        bld_centred(pt, 1750, y, prefix);
        y += 60;
        bld_line_no++;
    }
    bld_centred(pt, 1750, y, position);
    bld_line_no++;
    bld_text(pt, 350, 2560, "- Như Điều 3;");
    bld_line_no++;
    bld_text(pt, 350, 2620, "- Lưu: VT.");
    bld_line_no++;
    bld_centred(pt, 1750, 2900, name);
}

static void bld_signer(ocr_page_text *pt, const char *prefix, const char *position,
                       const char *name)
{
    bld_signer_label(pt, "Nơi nhận:", prefix, position, name);
}

/* The first word reading `text` (at or below y = `from_y`) gets this
 * confidence and share of red ink: OCR doubt, a seal over it. */
static void bld_set_word(ocr_page_text *pt, const char *text, int from_y, float conf, float red)
{
    for (size_t i = 0; i < pt->nwords; i++)
        if (strcmp(pt->words[i].text, text) == 0 && pt->words[i].box.y0 >= from_y) {
            pt->words[i].conf = conf;
            pt->words[i].red = red;
            return;
        }
}

/* The first word reading `text` (at or below y = `from_y`) is taken off
 * the page, the others staying where they were: a word the OCR lost. */
static void bld_drop_word(ocr_page_text *pt, const char *text, int from_y)
{
    for (size_t i = 0; i < pt->nwords; i++)
        if (strcmp(pt->words[i].text, text) == 0 && pt->words[i].box.y0 >= from_y) {
            free(pt->words[i].text);
            memmove(&pt->words[i], &pt->words[i + 1], (pt->nwords - i - 1) * sizeof pt->words[0]);
            pt->nwords--;
            return;
        }
}

#endif
