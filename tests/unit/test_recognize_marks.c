/* test_recognize_marks.c — the second OCR pass over red marks
 * (ocr_find_red_marks): a boxed or stamped word in red is read, a red
 * frame with nothing inside reads as nothing, a page without red has no
 * mark.
 *
 * Marks are drawn in code with leptonica's bitmap font, which is ASCII
 * only: "KHAN" stands for KHẨN and "MAT" for MẬT, and the check folds the
 * diacritics the OCR may add. The word is scaled to a 15 pt mark at the
 * page's resolution, framed by a box 5 px thick 2 mm around it (as a
 * rubber stamp or a boxed mark), and painted in stamp red on a white page
 * that also carries a line of black text.
 *
 * The same marks in black (ocr_find_framed_marks: found by the frame) and
 * in gray on a gray scan (ocr_find_gray_marks: found by being lighter than
 * the text) are read too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <leptonica/allheaders.h>
#include <math.h>
#include <uninorm.h>
#include <unistr.h>

#include "ocr/recognize.h"
#include "tests/unit/support/testutil.h"

#define FRAME_PX 5

/* A white 32 bpp page 120 x 60 mm at `dpi`, with a line of black text at
 * the top (the OCR pass must ignore it: it is not red). */
static PIX *white_page(int dpi)
{
    int w = 120 * dpi / 25, h = 60 * dpi / 25;
    PIX *page = pixCreate(w, h, 32);
    assert_non_null(page);
    pixSetAll(page);
    pixSetResolution(page, dpi, dpi);
    L_BMF *bmf = bmfCreate(NULL, 14);
    assert_non_null(bmf);
    l_int32 tw = 0, over = 0;
    pixSetTextline(page, bmf, "So: 12/UBND-VP ngay 05 thang 02", 0x00000000, dpi / 5, dpi / 4, &tw,
                   &over);
    bmfDestroy(&bmf);
    return page;
}

/* A 1 bpp mark: `word` (may be NULL: an empty frame) about as tall as
 * 15 pt capitals at `dpi`, in a frame FRAME_PX thick, 2 mm around it. */
static PIX *mark_image(const char *word, int dpi)
{
    int cap = (int)lroundf(15.0f * 0.7f * (float)dpi / 72.0f);
    int margin = 2 * dpi / 25;
    PIX *text = NULL;
    if (word) {
        L_BMF *bmf = bmfCreate(NULL, 20);
        assert_non_null(bmf);
        PIX *raw = pixCreate(400, 120, 1);
        assert_non_null(raw);
        l_int32 tw = 0, over = 0;
        pixSetTextline(raw, bmf, word, 1, 10, 90, &tw, &over);
        bmfDestroy(&bmf);
        PIX *tight = NULL;
        assert_int_equal(pixClipToForeground(raw, &tight, NULL), 0);
        pixDestroy(&raw);
        float f = (float)cap / (float)pixGetHeight(tight);
        PIX *thin = pixScaleBinary(tight, f, f);
        /* Stamp letters are bold: thicken the bitmap font's thin strokes. */
        int bold = dpi / 80 + 1;
        text = thin ? pixDilateBrick(NULL, thin, bold, bold) : NULL;
        pixDestroy(&thin);
        pixDestroy(&tight);
        assert_non_null(text);
    }
    int tw = text ? pixGetWidth(text) : cap * 3, th = text ? pixGetHeight(text) : cap;
    int w = tw + 2 * margin, h = th + 2 * margin;
    PIX *m = pixCreate(w, h, 1);
    assert_non_null(m);
    if (text)
        pixRasterop(m, margin, margin, tw, th, PIX_SRC, text, 0, 0);
    pixDestroy(&text);
    BOX *frame = boxCreate(0, 0, w, h);
    assert_non_null(frame);
    pixRenderBox(m, frame, FRAME_PX, L_SET_PIXELS);
    boxDestroy(&frame);
    return m;
}

/* Paints the mark's pixels in stamp red on `page` at (x, y). */
static void stamp(PIX *page, PIX *mark, int x, int y)
{
    l_uint32 red = 0;
    composeRGBPixel(200, 30, 40, &red);
    assert_int_equal(pixSetMaskedGeneral(page, mark, red, x, y), 0);
}

/* `text` upper-cased with its diacritics folded away and anything but
 * letters dropped ("Khẩn" -> "KHAN", "MẬT" -> "MAT", "ĐẾN" -> "DEN"). */
static void fold(const char *text, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    if (!text)
        return;
    size_t len = 0;
    uint8_t *nfd = u8_normalize(UNINORM_NFD, (const uint8_t *)text, strlen(text), NULL, &len);
    assert_non_null(nfd);
    for (const uint8_t *p = nfd, *end = nfd + len; p < end && k + 1 < n;) {
        ucs4_t uc;
        int step = u8_mbtouc(&uc, p, (size_t)(end - p));
        p += step > 0 ? step : 1;
        if (uc == 0x110 || uc == 0x111)
            out[k++] = 'D';
        else if (uc < 0x80 && ((uc >= 'A' && uc <= 'Z') || (uc >= 'a' && uc <= 'z')))
            out[k++] = (char)(uc & ~0x20u);
    }
    out[k] = '\0';
    free(nfd);
}

/* Runs the red pass over `page`; the page text must be freed. */
static void find_marks(ocr_engine *e, PIX *page, int dpi, ocr_page_text *out)
{
    sohoa_err err = {0};
    memset(out, 0, sizeof *out);
    out->width = pixGetWidth(page);
    out->height = pixGetHeight(page);
    out->dpi = dpi;
    assert_int_equal(ocr_find_red_marks(e, page, dpi, NULL, 0, out, &err), 0);
}

/* One framed red word at `dpi`, turned `angle` degrees clockwise, must
 * come back as one mark whose text is the word. */
static void check_word(ocr_engine *e, const char *word, int dpi, float angle)
{
    PIX *page = white_page(dpi);
    PIX *mark = mark_image(word, dpi);
    if (angle != 0) {
        /* Room for the corners first: a shear rotation keeps the size. */
        int room = pixGetWidth(mark) / 2;
        PIX *roomy = pixAddBorder(mark, room, 0);
        assert_non_null(roomy);
        PIX *turned = angle == 90 ? pixRotateOrth(roomy, 1)
                                  : pixRotateShearCenter(roomy, angle * 3.14159265f / 180.0f,
                                                         L_BRING_IN_WHITE);
        assert_non_null(turned);
        pixDestroy(&roomy);
        pixDestroy(&mark);
        mark = turned;
    }
    stamp(page, mark, 10 * dpi / 25, 12 * dpi / 25);
    pixDestroy(&mark);
    ocr_page_text out;
    find_marks(e, page, dpi, &out);
    pixDestroy(&page);
    char got[64];
    fold(out.nmarks ? out.marks[0].text : NULL, got, sizeof got);
    if (out.nmarks != 1 || !strstr(got, word))
        fprintf(stderr, "%s at %d dpi, %.0f deg: %zu marks, read \"%s\"\n", word, dpi,
                (double)angle, out.nmarks,
                out.nmarks && out.marks[0].text ? out.marks[0].text : "(nothing)");
    assert_int_equal(out.nmarks, 1);
    assert_non_null(strstr(got, word));
    assert_true(out.marks[0].conf > 0.0f && out.marks[0].conf <= 1.0f);
    ocr_page_text_free(&out);
}

static void test_boxed_khan_200(void **state)
{
    check_word(*state, "KHAN", 200, 0);
}

static void test_boxed_mat_200(void **state)
{
    check_word(*state, "MAT", 200, 0);
}

static void test_boxed_khan_300(void **state)
{
    check_word(*state, "KHAN", 300, 0);
}

static void test_boxed_mat_300(void **state)
{
    check_word(*state, "MAT", 300, 0);
}

/* A rubber stamp put on at a slant, as the generator and real clerks do. */
static void test_slanted_stamp(void **state)
{
    check_word(*state, "KHAN", 200, -12);
}

/* A stamp put on sideways: the text runs down the page. */
static void test_sideways_stamp(void **state)
{
    check_word(*state, "KHAN", 200, 90);
}

/* A red box with nothing in it is a mark region (the extractor flags an
 * unreadable red box) but must not read as text. */
static void test_empty_frame(void **state)
{
    PIX *page = white_page(200);
    PIX *mark = mark_image(NULL, 200);
    stamp(page, mark, 300, 150);
    pixDestroy(&mark);
    ocr_page_text out;
    find_marks(*state, page, 200, &out);
    pixDestroy(&page);
    assert_int_equal(out.nmarks, 1);
    char got[64];
    fold(out.marks[0].text, got, sizeof got);
    assert_string_equal(got, "");
    ocr_page_text_free(&out);
}

/* Black text and a black boxed word: nothing red, no mark. */
static void test_no_red(void **state)
{
    PIX *page = white_page(200);
    PIX *mark = mark_image("KHAN", 200);
    assert_int_equal(pixSetMaskedGeneral(page, mark, 0x00000000, 300, 150), 0);
    pixDestroy(&mark);
    ocr_page_text out;
    find_marks(*state, page, 200, &out);
    pixDestroy(&page);
    assert_int_equal(out.nmarks, 0);
    ocr_page_text_free(&out);
}

/* A gray page (8 bpp) as a gray scan gives it: paper at 235, several lines
 * of black text, and the mark's pixels at `ink` (0 black, 140 a red stamp
 * gone gray) at 12 mm from the top. */
static PIX *gray_page_with(const char *word, int dpi, int ink)
{
    int w = 120 * dpi / 25, h = 60 * dpi / 25;
    PIX *gray = pixCreate(w, h, 8);
    assert_non_null(gray);
    pixSetAllArbitrary(gray, 235); /* scanned paper is not pure white */
    pixSetResolution(gray, dpi, dpi);
    L_BMF *bmf = bmfCreate(NULL, 14);
    assert_non_null(bmf);
    static const int line_mm[] = {6, 34, 40, 46, 52};
    for (size_t i = 0; i < sizeof line_mm / sizeof line_mm[0]; i++) {
        l_int32 tw = 0, over = 0;
        pixSetTextline(gray, bmf, "Can cu Luat To chuc chinh quyen dia phuong", 0, dpi / 5,
                       line_mm[i] * dpi / 25, &tw, &over);
    }
    bmfDestroy(&bmf);
    l_uint32 v = 255;
    pixGetPixel(gray, 0, 0, &v);
    assert_int_equal(v, 235);
    if (word) {
        PIX *mark = mark_image(word, dpi);
        assert_int_equal(
            pixSetMaskedGeneral(gray, mark, (l_uint32)ink, 10 * dpi / 25, 12 * dpi / 25), 0);
        pixDestroy(&mark);
    }
    return gray;
}

/* The one region of `out` of its kind (framed, or found on a gray page),
 * read as `word`. */
static void check_region(const ocr_page_text *out, const char *word, bool framed)
{
    char got[64] = "";
    size_t hits = 0;
    for (size_t i = 0; i < out->nmarks; i++) {
        if (out->marks[i].framed != framed || out->marks[i].gray == framed)
            continue;
        hits++;
        fold(out->marks[i].text, got, sizeof got);
    }
    if (hits != 1 || !strstr(got, word))
        fprintf(stderr, "%s: %zu region(s), read \"%s\"\n", word, hits, got);
    assert_int_equal(hits, 1);
    assert_non_null(strstr(got, word));
}

/* A mark boxed in black ink (no red to find it by): found by its frame,
 * read once the frame is gone. The text lines are not frames. */
static void test_black_boxed_mark(void **state)
{
    PIX *gray = gray_page_with("KHAN", 200, 0);
    ocr_page_text out = {.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = 200};
    sohoa_err err = {0};
    assert_int_equal(ocr_find_framed_marks(*state, gray, 200, &out, &err), 0);
    pixDestroy(&gray);
    check_region(&out, "KHAN", true);
    assert_int_equal(out.nmarks, 1);
    assert_true(out.marks[0].red == 0.0f);
    ocr_page_text_free(&out);
}

/* A red stamp on a gray scan: mid-gray, told from the black text by its
 * lightness, read from that ink alone. */
static void test_gray_stamp(void **state)
{
    PIX *gray = gray_page_with("MAT", 300, 140);
    ocr_page_text out = {.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = 300};
    sohoa_err err = {0};
    assert_int_equal(ocr_find_gray_marks(*state, gray, 300, NULL, 0, &out, &err), 0);
    pixDestroy(&gray);
    check_region(&out, "MAT", false);
    assert_true(out.marks[0].red > 0.5f);
    ocr_page_text_free(&out);
}

/* Gray regions of a page with a gray MAT mark and, a millimetre right of
 * it, the clerk's ĐẾN stamp in the same light ink, its frame known
 * (stamp.c) and passed. *stamp is where it is. */
static void read_mark_beside_stamp(ocr_engine *e, ocr_page_text *out, ocr_box *stamp)
{
    int dpi = 300;
    PIX *gray = gray_page_with("MAT", dpi, 140);
    PIX *mark = mark_image("MAT", dpi);
    int mark_x1 = 10 * dpi / 25 + pixGetWidth(mark);
    pixDestroy(&mark);
    *stamp = (ocr_box){mark_x1 + dpi / 25, 8 * dpi / 25, mark_x1 + dpi / 25 + 45 * dpi / 25,
                       30 * dpi / 25};
    PIX *ink = pixCreate(stamp->x1 - stamp->x0, stamp->y1 - stamp->y0, 1);
    assert_non_null(ink);
    BOX *frame = boxCreate(0, 0, pixGetWidth(ink), pixGetHeight(ink));
    pixRenderBox(ink, frame, 5, L_SET_PIXELS);
    boxDestroy(&frame);
    L_BMF *bmf = bmfCreate(NULL, 20);
    l_int32 tw = 0, over = 0;
    pixSetTextline(ink, bmf, "DEN So: 1854", 1, 30, 90, &tw, &over);
    pixSetTextline(ink, bmf, "Ngay: 30/7/2026", 1, 30, 180, &tw, &over);
    bmfDestroy(&bmf);
    assert_int_equal(pixSetMaskedGeneral(gray, ink, 140, stamp->x0, stamp->y0), 0);
    pixDestroy(&ink);
    *out = (ocr_page_text){.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = dpi};
    sohoa_err err = {0};
    assert_int_equal(ocr_find_gray_marks(e, gray, dpi, stamp, 1, out, &err), 0);
    pixDestroy(&gray);
}

/* How many regions of `out` read MAT and end before x. */
static size_t mat_regions_before(const ocr_page_text *out, int x)
{
    size_t n = 0;
    for (size_t i = 0; i < out->nmarks; i++) {
        char got[64] = "";
        fold(out->marks[i].text, got, sizeof got);
        if (strstr(got, "MAT") && out->marks[i].box.x1 < x)
            n++;
    }
    return n;
}

/* The clerk's ĐẾN stamp set a millimetre beside a gray mark, in the same
 * light ink: the two join into one blob, read as the stamp. With the
 * stamp's frame known, the mark is also a region of its own, read, clear
 * of the stamp. (The joined blob stays: a mark the frame runs into is not
 * cut by it.) */
static void test_gray_mark_beside_stamp(void **state)
{
    ocr_page_text out;
    ocr_box stamp;
    read_mark_beside_stamp(*state, &out, &stamp);
    assert_int_equal(mat_regions_before(&out, stamp.x0), 1);
    ocr_page_text_free(&out);
}

/* Black text alone on a gray page: no stamp ink, no region. */
static void test_gray_text_only(void **state)
{
    PIX *gray = gray_page_with(NULL, 200, 0);
    ocr_page_text out = {.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = 200};
    sohoa_err err = {0};
    assert_int_equal(ocr_find_gray_marks(*state, gray, 200, NULL, 0, &out, &err), 0);
    pixDestroy(&gray);
    assert_int_equal(out.nmarks, 0);
    ocr_page_text_free(&out);
}

/* A black boxed mark as a photocopy leaves it: the frame in dashes 1.5 mm
 * long with 1.5 mm gaps, turned 10°, on a gray page at `dpi`. */
static PIX *gray_page_with_dashed_box(const char *word, int dpi)
{
    PIX *gray = gray_page_with(NULL, dpi, 0);
    PIX *mark = mark_image(word, dpi);
    int w = pixGetWidth(mark), h = pixGetHeight(mark), dash = 15 * dpi / 254;
    for (int x = dash; x < w; x += 2 * dash) {
        pixRasterop(mark, x, 0, dash, FRAME_PX, PIX_CLR, NULL, 0, 0);
        pixRasterop(mark, x, h - FRAME_PX, dash, FRAME_PX, PIX_CLR, NULL, 0, 0);
    }
    for (int y = dash; y < h; y += 2 * dash) {
        pixRasterop(mark, 0, y, FRAME_PX, dash, PIX_CLR, NULL, 0, 0);
        pixRasterop(mark, w - FRAME_PX, y, FRAME_PX, dash, PIX_CLR, NULL, 0, 0);
    }
    PIX *roomy = pixAddBorder(mark, w / 4, 0);
    PIX *turned =
        roomy ? pixRotateShearCenter(roomy, -10.0f * 3.14159265f / 180.0f, L_BRING_IN_WHITE) : NULL;
    assert_non_null(turned);
    assert_int_equal(pixSetMaskedGeneral(gray, turned, 0, 6 * dpi / 25, 8 * dpi / 25), 0);
    pixDestroy(&turned);
    pixDestroy(&roomy);
    pixDestroy(&mark);
    return gray;
}

/* The dashed box has no frame to find; where the page's OCR read nothing,
 * its ink is a region of its own, read; where OCR read a word (the text
 * line, or the box once read), it is that word's, no region. */
static void check_unread_dashed_box(ocr_engine *e, int dpi)
{
    PIX *gray = gray_page_with_dashed_box("MAT", dpi);
    ocr_page_text out = {.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = dpi};
    sohoa_err err = {0};
    /* the page's OCR read the line of text at the top */
    ocr_word line = {.text = "Can cu Luat To chuc chinh quyen dia phuong",
                     .conf = 0.9f,
                     .box = {0, 0, out.width, 9 * dpi / 25}};
    assert_int_equal(ocr_page_add_word(&out, &line), 0);
    assert_int_equal(ocr_find_framed_marks(e, gray, dpi, &out, &err), 0);
    assert_int_equal(out.nmarks, 0);
    assert_int_equal(ocr_find_unread_marks(e, gray, dpi, &out, &err), 0);
    assert_int_equal(out.nmarks, 1);
    assert_true(out.marks[0].unread && !out.marks[0].framed);
    /* around the box: its centre about 6 + 17 mm across, 8 + 7 mm down */
    int cx = (out.marks[0].box.x0 + out.marks[0].box.x1) / 2;
    int cy = (out.marks[0].box.y0 + out.marks[0].box.y1) / 2;
    assert_in_range(cx, 15 * dpi / 25, 30 * dpi / 25);
    assert_in_range(cy, 10 * dpi / 25, 20 * dpi / 25);
    char got[64];
    fold(out.marks[0].text, got, sizeof got);
    if (!strstr(got, "MAT"))
        fprintf(stderr, "dashed box read \"%s\"\n", got);
    assert_non_null(strstr(got, "MAT"));
    ocr_box where = out.marks[0].box;
    ocr_page_text_free(&out);

    ocr_page_text read = {.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = dpi};
    ocr_word w = {.text = "MẬT", .conf = 0.8f, .box = where};
    assert_int_equal(ocr_page_add_word(&read, &line), 0);
    assert_int_equal(ocr_page_add_word(&read, &w), 0);
    assert_int_equal(ocr_find_unread_marks(e, gray, dpi, &read, &err), 0);
    assert_int_equal(read.nmarks, 0);
    ocr_page_text_free(&read);
    pixDestroy(&gray);
}

static void test_unread_dashed_box_200(void **state)
{
    check_unread_dashed_box(*state, 200);
}

static void test_unread_dashed_box_300(void **state)
{
    check_unread_dashed_box(*state, 300);
}

/* A photocopy's dark edge over the page's top, down over the box's top
 * side (the copy shifted the sheet): the edge is no mark and must not
 * swallow the box, whose ink is still found as a region of its own. */
static void test_unread_box_under_dark_edge(void **state)
{
    int dpi = 300;
    PIX *gray = gray_page_with_dashed_box("MAT", dpi);
    BOX *edge = boxCreate(0, 0, pixGetWidth(gray), 9 * dpi / 25);
    assert_int_equal(pixClearInRect(gray, edge), 0); /* 8 bpp: clear is black */
    boxDestroy(&edge);
    ocr_page_text out = {.width = pixGetWidth(gray), .height = pixGetHeight(gray), .dpi = dpi};
    sohoa_err err = {0};
    assert_int_equal(ocr_find_unread_marks(*state, gray, dpi, &out, &err), 0);
    assert_int_equal(out.nmarks, 1);
    assert_true(out.marks[0].unread);
    /* the box below the edge, not the edge */
    assert_true(out.marks[0].box.y0 >= 9 * dpi / 25 - 2);
    assert_true(out.marks[0].box.x1 - out.marks[0].box.x0 < pixGetWidth(gray) / 2);
    ocr_page_text_free(&out);
    pixDestroy(&gray);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boxed_khan_200),   cmocka_unit_test(test_boxed_mat_200),
        cmocka_unit_test(test_boxed_khan_300),   cmocka_unit_test(test_boxed_mat_300),
        cmocka_unit_test(test_slanted_stamp),    cmocka_unit_test(test_sideways_stamp),
        cmocka_unit_test(test_empty_frame),      cmocka_unit_test(test_no_red),
        cmocka_unit_test(test_black_boxed_mark), cmocka_unit_test(test_gray_stamp),
        cmocka_unit_test(test_gray_mark_beside_stamp),
        cmocka_unit_test(test_gray_text_only),   cmocka_unit_test(test_unread_dashed_box_200),
        cmocka_unit_test(test_unread_dashed_box_300), cmocka_unit_test(test_unread_box_under_dark_edge),
    };
    return cmocka_run_group_tests(tests, tu_ocr_engine_setup, tu_ocr_engine_teardown);
}
