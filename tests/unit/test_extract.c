/* test_extract.c — the header-reading rules (ocr/extract*.c) on synthetic
 * OCR pages: each test breaks if its rule breaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ocr/extract.h"
#include "ocr/extract_lex.h"
#include "ocr/vntext.h"
#include "test_extract_builder.h"

/* 2026-03-01 00:00 UTC: "now" for date validation. */
#define NOW ((time_t)1772323200)

static const char *const UBND_QNG[] = {"ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI", NULL};
static const char *const DATE_QNG = "Quảng Ngãi, ngày 05 tháng 02 năm 2025";

typedef struct run {
    ocr_page_text page[2];
    size_t npages;
    doc_metadata m;
} run;

static run *new_run(void)
{
    run *r = calloc(1, sizeof *r);
    bld_page(&r->page[0]);
    bld_page(&r->page[1]);
    r->npages = 1;
    return r;
}

static void extract(run *r)
{
    extract_options o = extract_defaults();
    o.now = NOW;
    sohoa_err err = {0};
    assert_int_equal(extract_metadata(r->page, r->npages, &o, &r->m, &err), 0);
}

static void free_run(run *r)
{
    ocr_page_text_free(&r->page[0]);
    ocr_page_text_free(&r->page[1]);
    meta_free(&r->m);
    free(r);
}

static const char *S(const run *r, meta_field f)
{
    return r->m.str[f];
}

static void assert_field(const run *r, meta_field f, const char *want)
{
    if (!want) {
        assert_null(S(r, f));
        return;
    }
    assert_non_null(S(r, f));
    assert_string_equal(S(r, f), want);
}

static bool flagged(const run *r, meta_field f)
{
    return r->m.review[f] && r->m.confidence[f] < 0.8f;
}

/* A full State document: Tờ trình with its title. */
static run *state_doc(const char *so, const char *date, const char *title)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, so, date);
    const char *subject[] = {"Về việc đề nghị phê duyệt dự toán kinh phí", "năm 2025", NULL};
    int y = bld_title_subject(&r->page[0], title, subject);
    bld_body(&r->page[0], y, 6, NULL);
    bld_signer(&r->page[0], "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn An");
    return r;
}

/* A State header whose number row holds "Số:" at x 480 and nothing
 * else yet, under the date line of Quảng Ngãi. */
static run *blank_row(void)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, DATE_QNG);
    bld_text(&r->page[0], 480, 420, "Số:");
    return r;
}

/* ---- number and notation ---- */

static void number_state(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_true(r->m.has_number);
    assert_int_equal(r->m.number, 9);
    assert_field(r, META_NOTATION, "TTr-UBND");
    assert_field(r, META_NUMBER_NOTATION, "09/TTr-UBND");
    assert_field(r, META_FORMAT, "state");
    assert_field(r, META_TYPE, "Tờ trình");
    assert_false(r->m.review[META_NUMBER]);
    assert_false(r->m.review[META_TYPE]);
    free_run(r);
}

static void number_party(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TỈNH ỦY NINH THUẬN", "*", NULL};
    bld_party_header(&r->page[0], bodies, "Số 682-QĐ/TU", "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    const char *subject[] = {"Về công tác cán bộ", NULL};
    int y = bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", subject);
    bld_body(&r->page[0], y, 5, NULL);
    bld_signer(&r->page[0], "T/M BAN THƯỜNG VỤ", "BÍ THƯ", "Lê Văn Hùng");
    extract(r);
    assert_int_equal(r->m.number, 682);
    assert_field(r, META_NOTATION, "QĐ/TU");
    assert_field(r, META_NUMBER_NOTATION, "682-QĐ/TU");
    assert_field(r, META_FORMAT, "party");
    assert_field(r, META_TYPE, "Quyết định");
    assert_field(r, META_ISSUER, "TỈNH ỦY NINH THUẬN");
    assert_null(S(r, META_ISSUER_SUPERIOR));
    assert_field(r, META_SIGNER_PREFIX, "T/M BAN THƯỜNG VỤ");
    free_run(r);
}

/* Party QĐ is also Quy định: the title decides. */
static void party_qd_is_quy_dinh(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TỈNH ỦY NINH THUẬN", NULL};
    bld_party_header(&r->page[0], bodies, "Số 12-QĐ/TU", "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    const char *subject[] = {"Về chế độ làm việc", NULL};
    bld_title_subject(&r->page[0], "QUY ĐỊNH", subject);
    extract(r);
    assert_field(r, META_TYPE, "Quy định");
    free_run(r);
}

static void number_with_spaces(void **st)
{
    run *r = state_doc("Số: 24 /TTr -UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_int_equal(r->m.number, 24);
    assert_field(r, META_NOTATION, "TTr-UBND");
    assert_field(r, META_NUMBER_NOTATION, "24/TTr-UBND");
    free_run(r);
}

/* "Số:   24   /TTr-UBND": the pen filled a gap left in the print. */
static void number_handwritten_gap(void **st)
{
    run *r = blank_row();
    bld_word_at(&r->page[0], "24", 620, 405, 70, 70, 0.93f, 0);
    bld_text(&r->page[0], 800, 420, "/TTr-UBND");
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    extract(r);
    assert_true(!r->m.has_number || r->m.number == 24);
    assert_true(flagged(r, META_NUMBER));
    assert_field(r, META_NOTATION, "TTr-UBND");
    free_run(r);
}

/* "S0:" for Số, "QD" for QĐ (Đ lost), checked against the title. */
static void number_ocr_confusions(void **st)
{
    run *r = state_doc("S0: 12/QD-UBND", DATE_QNG, "QUYẾT ĐỊNH");
    extract(r);
    assert_int_equal(r->m.number, 12);
    assert_field(r, META_NOTATION, "QĐ-UBND");
    assert_field(r, META_NUMBER_NOTATION, "12/QĐ-UBND");
    assert_field(r, META_TYPE, "Quyết định");
    free_run(r);
}

/* A letter read for a digit is never taken with confidence. */
static void number_letter_digit_flagged(void **st)
{
    run *r = state_doc("Số: 1O5/QĐ-UBND", DATE_QNG, "QUYẾT ĐỊNH");
    extract(r);
    assert_true(!r->m.has_number || r->m.number == 105);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);
}

/* Unreadable scribble where the number is: no guess. */
static void number_unreadable_not_guessed(void **st)
{
    run *r = state_doc("Số: ¿82 /QĐ-UBND", DATE_QNG, "QUYẾT ĐỊNH");
    extract(r);
    assert_false(r->m.has_number);
    assert_true(flagged(r, META_NUMBER));
    assert_null(S(r, META_NUMBER_NOTATION));
    assert_field(r, META_NOTATION, "QĐ-UBND");
    free_run(r);
}

static void number_missing_flagged(void **st)
{
    run *r = state_doc(NULL, DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_false(r->m.has_number);
    assert_true(r->m.review[META_NUMBER]);
    free_run(r);
}

/* A ĐẾN stamp in black over the bodies, its "ĐẾN" misread ("TXEN số")
 * and its "Số" run into the body's words ("số -ỦY BAN NHÂN DÂN"): no
 * number follows it, and the letter's own "Số" below, which one does, is
 * the number line, beside the date line. A later "số" elsewhere (a
 * công văn's subject line "số 3291/QĐ-UBND") is never taken for it. */
static void stamp_label_over_bodies(void **st)
{
    static const char *const bodies[] = {"-ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NGÃI", NULL};
    run *r = new_run();
    bld_state_header(&r->page[0], bodies, "Số: 09/TTr-UBND", DATE_QNG);
    bld_text(&r->page[0], 300, 190, "TXEN số");
    extract(r);
    assert_true(r->m.has_number);
    assert_int_equal(r->m.number, 9);
    assert_field(r, META_NOTATION, "TTr-UBND");
    free_run(r);

    r = new_run();
    bld_state_header(&r->page[0], bodies, NULL, DATE_QNG);
    bld_text(&r->page[0], 300, 190, "TXEN số");
    bld_centred(&r->page[0], LEFT_CX, 490, "V/v triển khai Quyết định");
    bld_centred(&r->page[0], LEFT_CX, 548, "số 3291/QĐ-UBND");
    extract(r);
    assert_false(r->m.has_number && r->m.number == 3291);
    assert_true(r->m.review[META_NUMBER]);
    free_run(r);
    (void)st;
}

/* The label lost under a black stamp's lines ("x§6: 1888/QĐ-UBND") but
 * the number and notation whole beside the date line: taken, flagged. */
static void bare_number_and_notation(void **st)
{
    run *r = state_doc("x§6: 1888/QĐ-UBND", DATE_QNG, "QUYẾT ĐỊNH");
    extract(r);
    assert_true(r->m.has_number);
    assert_int_equal(r->m.number, 1888);
    assert_field(r, META_NOTATION, "QĐ-UBND");
    assert_true(flagged(r, META_NUMBER));
    assert_true(flagged(r, META_NOTATION));
    free_run(r);
    (void)st;
}

/* A number read up to a black stamp's frame (frame_cross.h), however
 * well its notation agrees with the title, is not vouched for: the
 * frame may have taken its end ("99-BC/BNC" for 99-BC/BNCTU). */
static void number_crossed_by_frame(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_false(flagged(r, META_NOTATION)); /* vouched for, uncrossed */
    meta_free(&r->m);
    for (size_t i = 0; i < r->page[0].nwords; i++)
        if (strcmp(r->page[0].words[i].text, "09/TTr-UBND") == 0) {
            r->page[0].words[i].crossed = true;
            r->page[0].words[i].conf = 0.5f;
        }
    extract(r);
    assert_int_equal(r->m.number, 9);
    assert_true(flagged(r, META_NUMBER));
    assert_true(flagged(r, META_NOTATION));
    free_run(r);
    (void)st;
}

/* A date line with no number line beside it: the left column's part of
 * the date line's band is named for a single-line reading. */
static void number_line_lost_named(void **st)
{
    run *r = state_doc(NULL, NULL, "TỜ TRÌNH");
    bld_text(&r->page[0], 1300, 420, DATE_QNG);
    ocr_box band = {0};
    assert_true(extract_number_lost(&r->page[0], &band));
    assert_true(extract_number_unread(&r->page[0], &band));
    assert_int_equal(band.x0, 0);
    assert_true(band.x1 < 1300 && band.x1 > 1300 - WORD_H);
    assert_true(band.y0 < 420 && band.y0 >= 420 - WORD_H / 3);
    assert_true(band.y1 > 420 + WORD_H && band.y1 <= 420 + WORD_H + WORD_H / 3);
    free_run(r);

    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    assert_false(extract_number_lost(&r->page[0], &band));
    assert_false(extract_number_unread(&r->page[0], &band));
    free_run(r);
    (void)st;
}

/* Công văn: no title, no type code; V/v subject under Số. */
/* A công văn whose subject's first line reads `first`. */
static run *cong_van_run(const char *first)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 299/UBND-TTHC", DATE_QNG);
    bld_line_no++;
    bld_centred(&r->page[0], LEFT_CX, 490, first);
    bld_line_no++;
    bld_centred(&r->page[0], LEFT_CX, 548, "trên môi trường điện tử");
    bld_line_no++;
    bld_centred(&r->page[0], MID_CX, 700, "Kính gửi: Các sở, ban, ngành tỉnh");
    bld_body(&r->page[0], 740, 5, NULL);
    extract(r);
    return r;
}

static void cong_van(void **st)
{
    run *r = cong_van_run("V/v triển khai thủ tục hành chính");
    assert_int_equal(r->m.number, 299);
    assert_field(r, META_NOTATION, "UBND-TTHC");
    assert_field(r, META_TYPE, "Công văn");
    assert_field(r, META_SUBJECT, "Về việc triển khai thủ tục hành chính trên môi trường điện tử");
    free_run(r);
    /* the V/v as OCR leaves it (the slash lost or misread), or written
     * out */
    static const char *const firsts[] = {"V v triển khai thủ tục hành chính",
                                         "V|v: triển khai thủ tục hành chính",
                                         "V/ v triển khai thủ tục hành chính",
                                         "Về việc triển khai thủ tục hành chính"};
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        r = cong_van_run(firsts[i]);
        assert_field(r, META_SUBJECT,
                     "Về việc triển khai thủ tục hành chính trên môi trường điện tử");
        free_run(r);
    }
    /* a line under Số that only starts with a V is no subject */
    r = cong_van_run("Vẫn triển khai thủ tục hành chính");
    assert_null(S(r, META_SUBJECT));
    free_run(r);
}

/* Normative documents carry the year: number 21, notation 2026/TT-BCT. */
static void normative_year(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"BỘ CÔNG THƯƠNG", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 21/2026/TT-BCT",
                     "Hà Nội, ngày 10 tháng 01 năm 2026");
    const char *subject[] = {"Quy định về an toàn điện", NULL};
    bld_title_subject(&r->page[0], "THÔNG TƯ", subject);
    extract(r);
    assert_int_equal(r->m.number, 21);
    assert_field(r, META_NOTATION, "2026/TT-BCT");
    assert_field(r, META_NUMBER_NOTATION, "21/2026/TT-BCT");
    assert_field(r, META_TYPE, "Thông tư");
    assert_field(r, META_ISSUER, "BỘ CÔNG THƯƠNG");
    free_run(r);
}

/* The number left blank (or the pen's not read) and the notation read
 * right after the label ("Số: TTr-UBND", "Số QĐ/TU"): the type code is
 * the notation's start, not a misread number, and its separator names the
 * format; a run no type code is still a number misread. */
static void number_blank_code_first(void **st)
{
    run *r = state_doc("Số: TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_false(r->m.has_number);
    assert_true(r->m.review[META_NUMBER]);
    assert_field(r, META_NOTATION, "TTr-UBND");
    assert_field(r, META_FORMAT, "state");
    assert_field(r, META_TYPE, "Tờ trình");
    free_run(r);

    r = new_run();
    const char *bodies[] = {"TỈNH ỦY NINH THUẬN", "*", NULL};
    bld_party_header(&r->page[0], bodies, "Số QĐ/TU", "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_false(r->m.has_number);
    assert_field(r, META_NOTATION, "QĐ/TU");
    assert_field(r, META_FORMAT, "party");
    free_run(r);

    r = state_doc("Số: TE/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_false(r->m.has_number);
    assert_field(r, META_NOTATION, "TTr-UBND");
    free_run(r);
}

/* A code one letter off the title's is corrected from the title. */
static void code_corrected_by_title(void **st)
{
    run *r = state_doc("Số: 15/T8-UBND", DATE_QNG, "THÔNG BÁO");
    extract(r);
    assert_field(r, META_NOTATION, "TB-UBND");
    assert_field(r, META_TYPE, "Thông báo");
    assert_true(r->m.review[META_NOTATION]);
    free_run(r);
}

/* The issuer's code is the initials of its name: a code the OCR misread
 * by one letter, cut short or ran into the unit's is set right from the
 * name, to be checked; a code the name does not explain (TTg, TW) or one
 * of a name that lost its place is kept as read. */
static void issuer_code_from_name(void **st)
{
    static const struct {
        bool party;
        const char *bodies[3];
        const char *so, *title, *want;
        bool fixed;
    } cases[] = {
        {false, {"UBND TỈNH BÌNH ĐỊNH", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"}, "Số: 12/CTr-SKHCMN",
         "CHƯƠNG TRÌNH", "CTr-SKHCN", true},
        {true, {"TỈNH ỦY HẬU GIANG", "BAN NỘI CHÍNH"}, "Số 12-BC/BNCỶU", "BÁO CÁO",
         "BC/BNCTU", true},
        {false, {"UBND TỈNH HẬU GIANG", "SỞ TƯ PHÁP"}, "Số: 45/S5TP-NC", NULL, "STP-NC", true},
        {false, {"BỘ THÔNG TIN", "VÀ TRUYỀN THÔNG"}, "Số: 95/TB-BTTTI", "THÔNG BÁO", "TB-BTTTT",
         true},
        {false, {"UBND TỈNH SƠN LA", "SỞ GIÁO DỤC VÀ ĐÀO TẠO"}, "Số: 45/SGDĐTKHTC", NULL,
         "SGDĐT-KHTC", true},
        {false, {"UBND TỈNH THÁI BÌNH", "BAN QUẢN LÝ CÁC KHU CÔNG NGHIỆP"}, "Số: 316/TB-BQLKC",
         "THÔNG BÁO", "TB-BQLKCN", true},
        {false, {"UBND TỈNH THÁI BÌNH", "BAN QUẢN LÝ CÁC KHU CÔNG NGHIỆP"}, "Số: 85/QĐ:BQLKCN",
         "QUYẾT ĐỊNH", "QĐ-BQLKCN", true},
        {false, {"SỞ LAO ĐỘNG - THƯƠNG BINH", "VÀ XÃ HỘI"}, "Số: 182/QĐ-LĐTBXH", "QUYẾT ĐỊNH",
         "QĐ-LĐTBXH", false},
        /* the place run into the notation took the code's end with it */
        {true, {"THÀNH ỦY HỒ CHÍ MINH", "BAN TỔ CHỨC"}, "Số 78-BC/BTCTihành", "BÁO CÁO",
         "BC/BTCTU", true},
        {false, {"UBND TỈNH HẬU GIANG", "SỞ TƯ PHÁP"}, "Số: 45/BC-STPHà", "BÁO CÁO", "BC-STP",
         true},
        {false, {"THỦ TƯỚNG CHÍNH PHỦ"}, "Số: 15/QĐ-TTg", "QUYẾT ĐỊNH", "QĐ-TTg", false},
        {true, {"BAN TUYÊN GIÁO TRUNG ƯƠNG"}, "Số 5-HD/BTGTW", "HƯỚNG DẪN", "HD/BTGTW", false},
        {false, {"ỦY BAN NHÂN DÂN TỈNH"}, "Số: 09/TTr-UBND", "TỜ TRÌNH", "TTr-UBND", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        if (cases[i].party)
            bld_party_header(&r->page[0], cases[i].bodies, cases[i].so,
                             "Hậu Giang, ngày 15 tháng 01 năm 2022");
        else
            bld_state_header(&r->page[0], cases[i].bodies, cases[i].so,
                             "Hậu Giang, ngày 15 tháng 01 năm 2022");
        const char *subject[] = {"Về công tác cán bộ", NULL};
        bld_title_subject(&r->page[0], cases[i].title, cases[i].title ? subject : NULL);
        extract(r);
        assert_field(r, META_NOTATION, cases[i].want);
        if (cases[i].fixed) {
            assert_true(flagged(r, META_NOTATION));
            assert_true(flagged(r, META_NUMBER_NOTATION));
            assert_non_null(strstr(S(r, META_NUMBER_NOTATION), cases[i].want));
        } else {
            assert_true(r->m.confidence[META_NOTATION] > 0.6f);
        }
        free_run(r);
    }
}

/* Title unreadable: the code names the type. */
static void type_from_code(void **st)
{
    run *r = state_doc("Số: 15/KH-UBND", DATE_QNG, NULL);
    extract(r);
    assert_field(r, META_TYPE, "Kế hoạch");
    free_run(r);
}

/* Numbers and dates quoted in the subject and body are not the header's. */
static void quoted_numbers_ignored(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"HỘI ĐỒNG NHÂN DÂN", "TỈNH QUẢNG NGÃI", NULL};
    bld_state_header(&r->page[0], bodies, "Số: /NQ-HĐND", NULL);
    const char *subject[] = {"Về việc bãi bỏ Nghị quyết số 24/2013/NQ-HĐND",
                             "ngày 10/12/2013 của Hội đồng nhân dân tỉnh", NULL};
    int y = bld_title_subject(&r->page[0], "NGHỊ QUYẾT", subject);
    bld_body(&r->page[0], y, 4,
             "Căn cứ Nghị quyết số 30/2020/NĐ-CP ngày 05 tháng 03 năm 2020 của Chính phủ");
    extract(r);
    assert_false(r->m.has_number);
    assert_true(r->m.review[META_NUMBER]);
    assert_null(S(r, META_DATE));
    assert_true(r->m.review[META_DATE]);
    assert_field(r, META_NOTATION, "NQ-HĐND");
    free_run(r);
}

/* ---- date and place ---- */

static void date_and_place(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_DATE, "2025-02-05");
    assert_field(r, META_PLACE, "Quảng Ngãi");
    assert_false(r->m.review[META_DATE]);
    free_run(r);

    /* "ngày" read twice: the first is not the place's */
    r = state_doc("Số: 09/TTr-UBND", "Lai Châu, ngày ngày 21 tháng 3 năm 2022", "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_DATE, "2022-03-21");
    assert_field(r, META_PLACE, "Lai Châu");
    free_run(r);
}

static void date_ocr_noise(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngảy 05 thảng 02 nãm 2025", "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_DATE, "2025-02-05");
    assert_field(r, META_PLACE, "Quảng Ngãi");
    free_run(r);
}

static void date_invalid_dropped(void **st)
{
    const char *bad[] = {"Quảng Ngãi, ngày 30 tháng 02 năm 2025", /* not in the calendar */
                         "Quảng Ngãi, ngày 05 tháng 02 năm 2031", /* future */
                         "Quảng Ngãi, ngày 05 tháng 02 năm 1930", /* before 1945 */
                         "Quảng Ngãi, ngày 05 tháng 13 năm 2020"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run *r = state_doc("Số: 09/TTr-UBND", bad[i], "TỜ TRÌNH");
        extract(r);
        assert_null(S(r, META_DATE));
        assert_true(r->m.review[META_DATE]);
        free_run(r);
    }
    /* tomorrow is still accepted (Vietnam time) */
    run *r = state_doc("Số: 09/TTr-UBND", "Hà Nội, ngày 01 tháng 03 năm 2026", "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_DATE, "2026-03-01");
    free_run(r);
}

/* A day without its leading zero, or scribble, is flagged. */
static void date_handwritten_day_flagged(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngày 7 tháng 02 năm 2025", "TỜ TRÌNH");
    extract(r);
    assert_true(flagged(r, META_DATE));
    free_run(r);
    r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngày \\4 tháng 02 năm 2025", "TỜ TRÌNH");
    extract(r);
    assert_true(flagged(r, META_DATE));
    free_run(r);
}

/* A date line that lost words under a stamp's frame or to noise: its
 * place is still read; its date only from a day, a month and a year in
 * clean digits, and then to be checked; with fewer, no date. */
static void date_line_lost_words(void **st)
{
    static const struct {
        const char *line, *date, *place;
    } cases[] = {
        {"Cao Bằng, ngày 23 11 năm 2025", "2025-11-23", "Cao Bằng"},
        {"Hà Nội, ngày 25 tháng 3 ñăm-2020", "2020-03-25", "Hà Nội"},
        {"Đắk Nông, ngày 14 tháng 4+ttrăầm 2013", "2013-04-14", "Đắk Nông"},
        {"Cao Bằng, ngày 23| tháng 11 năm 2025", "2025-11-23", "Cao Bằng"}, /* a frame's stroke */
        /* the month glued to the year, a stamp's digit past it */
        {"Đắk Nông, ngày 22 tháng 4năn£Z2021 3", "2021-04-22", "Đắk Nông"},
        {"Hòa Bình, ngày 26 tháng", NULL, "Hòa Bình"},
        {"Hà Nội, ngày 20 dánh 12 CỐ", NULL, "Hà Nội"},
        {"Lâm Đồng, ngày t 404;Ä,nẤm 2020", NULL, "Lâm Đồng"},
        {"Tây Ninh, ngờ|2Ÿ 2021.", NULL, "Tây Ninh"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = state_doc("Số: 09/TTr-UBND", cases[i].line, "TỜ TRÌNH");
        extract(r);
        assert_field(r, META_DATE, cases[i].date);
        assert_true(r->m.review[META_DATE]);
        assert_true(!cases[i].date || r->m.confidence[META_DATE] <= 0.5f);
        assert_field(r, META_PLACE, cases[i].place);
        free_run(r);
    }
    /* a line of the left column ending in "ngày" is no date line */
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 299/UBND-TTHC", NULL);
    bld_text(&r->page[0], 400, 480, "V/v tổ chức kỷ niệm ngày 30 tháng 4");
    bld_body(&r->page[0], 600, 4, NULL);
    extract(r);
    assert_null(S(r, META_DATE));
    assert_null(S(r, META_PLACE));
    free_run(r);
}

/* The place's comma glued to "ngày" ("Thọ,ngày") is read as two words:
 * date and place as if printed apart. */
static void date_glued_comma(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", "Phú Thọ,ngày 23 tháng 10 năm 2003", "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_DATE, "2003-10-23");
    assert_field(r, META_PLACE, "Phú Thọ");
    assert_false(r->m.review[META_DATE]);
    assert_false(r->m.review[META_PLACE]);
    free_run(r);
}

/* Marks the first word reading `text` as read from a pen's writing. */
static void set_hand(ocr_page_text *pt, const char *text)
{
    for (size_t i = 0; i < pt->nwords; i++)
        if (strcmp(pt->words[i].text, text) == 0) {
            pt->words[i].hand = true;
            return;
        }
    fail_msg("no word \"%s\"", text);
}

/* Digits read from the pen (ocr/hand.c) are never as sure as print, even
 * when they read cleanly and stand where print would: the same line
 * without the mark is sure, so the mark alone makes the difference. */
static void hand_read_day_is_never_sure(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngày 15 tháng 02 năm 2025", "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_DATE, "2025-02-15");
    assert_false(flagged(r, META_DATE));
    free_run(r);
    r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngày 15 tháng 02 năm 2025", "TỜ TRÌNH");
    set_hand(&r->page[0], "15");
    extract(r);
    assert_field(r, META_DATE, "2025-02-15");
    assert_true(flagged(r, META_DATE));
    free_run(r);
    /* a month written by hand too */
    r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngày 15 tháng 02 năm 2025", "TỜ TRÌNH");
    set_hand(&r->page[0], "02");
    extract(r);
    assert_true(flagged(r, META_DATE));
    free_run(r);
}

static void hand_read_number_is_never_sure(void **st)
{
    /* "Số:" "24" "/TTr-UBND" with the print's spacing, 24 from the pen */
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, DATE_QNG);
    int x = bld_text(&r->page[0], 480, 420, "Số:");
    bld_word_at(&r->page[0], "24", x, 420, 44, 40, 0.95f, 0);
    bld_word_at(&r->page[0], "/TTr-UBND", x + 44, 420, 200, 40, 0.95f, 0);
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    set_hand(&r->page[0], "24");
    extract(r);
    assert_int_equal(r->m.number, 24);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);
}

/* The blanks named for a second reading: a number in a pen's gap and a day
 * without its leading zero; none on a page in clean print. */
static void hand_slots_named(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, "Quảng Ngãi, ngày 7 tháng 02 năm 2025");
    bld_text(&r->page[0], 480, 420, "Số:");
    bld_word_at(&r->page[0], "2Z", 620, 405, 70, 70, 0.6f, 0);
    bld_text(&r->page[0], 800, 420, "/TTr-UBND");
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    hand_slot s[HAND_MAX_SLOTS];
    size_t n = extract_hand_slots(&r->page[0], s);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].kind, HAND_NUMBER);
    assert_true(s[0].bounded);
    /* between "Số:" and "/TTr-UBND", around the writing */
    assert_true(s[0].box.x0 > 480 && s[0].box.x0 <= 620);
    assert_int_equal(s[0].box.x1, 800);
    assert_true(s[0].box.y0 < 405 && s[0].box.y1 > 475);
    assert_int_equal(s[1].kind, HAND_DAY);
    assert_true(s[1].bounded);
    free_run(r);

    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    assert_int_equal(extract_hand_slots(&r->page[0], s), 0);
    free_run(r);
}

/* "năm" misread ("#ăm", its n under the stamp's dots): the word just
 * before the year stands for it, and the pen's day and month, read as
 * noise, are still named for their second reading. */
static void hand_slots_year_keyword_misread(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", NULL);
    int x = bld_text(&r->page[0], 1230, 420, "Bến Tre, ngày");
    bld_word_at(&r->page[0], "S", x + 40, 405, 40, 60, 0.3f, 0);
    x = bld_text(&r->page[0], x + 140, 420, "tháng");
    bld_word_at(&r->page[0], "—", x + 40, 420, 40, 10, 0.3f, 0);
    bld_text(&r->page[0], x + 140, 420, "#ăm 2021");
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    hand_slot s[HAND_MAX_SLOTS];
    size_t n = extract_hand_slots(&r->page[0], s);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].kind, HAND_DAY);
    assert_int_equal(s[1].kind, HAND_MONTH);
    assert_true(s[0].bounded && s[1].bounded);
    free_run(r);
    (void)st;
}

/* The notation's separator lost between the pen's number and the print
 * ("Số: 20⁄4 UBND-KGVX"): the word that starts with a code is print, and
 * bounds the blank, so a gray page's dark writing in it is read. */
static void hand_slot_before_code_word(void **st)
{
    run *r = blank_row();
    bld_word_at(&r->page[0], "20⁄4", 600, 405, 110, 60, 0.4f, 0);
    bld_text(&r->page[0], 760, 420, "UBND-KGVX");
    bld_title_subject(&r->page[0], "CÔNG VĂN", NULL);
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_true(s[0].bounded);
    assert_int_equal(s[0].box.x1, 760);
    free_run(r);
    (void)st;
}

/* "Số:" and the number lost, the notation standing alone on the date's
 * row: the notation is the document's, and the blank before it, where
 * the lost label may be too, is read again. */
static void hand_slot_before_bare_notation(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, DATE_QNG);
    bld_text(&r->page[0], 760, 420, "/QĐ-UBND");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_int_equal(s[0].kind, HAND_NUMBER);
    assert_true(s[0].label_lost);
    assert_int_equal(s[0].box.x1, 760);
    assert_true(s[0].box.x0 < 480);
    /* a blank after a label read is no such blank */
    bld_text(&r->page[0], 480, 420, "Số:");
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_false(s[0].label_lost);
    free_run(r);
    (void)st;
}

/* The pen's writing read as print that starts with a separator itself
 * ("Số: /Z /QĐ-STC" for 78): the blank runs on over it to the notation's
 * code, so the second reading sees the writing; a lone "/" the engine split
 * from the notation is print and still bounds it. */
static void hand_slot_over_misread(void **st)
{
    run *r = blank_row();
    bld_word_at(&r->page[0], "/Z", 640, 410, 60, 60, 0.3f, 0);
    bld_text(&r->page[0], 760, 420, "/QĐ-STC");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_int_equal(s[0].kind, HAND_NUMBER);
    assert_true(s[0].bounded);
    assert_true(s[0].box.x0 < 640);
    assert_int_equal(s[0].box.x1, 760);
    assert_true(s[0].line_y0 >= 405 && s[0].line_y1 <= 475);
    free_run(r);

    r = blank_row();
    bld_word_at(&r->page[0], "/", 700, 420, 16, 40, 0.9f, 0);
    bld_text(&r->page[0], 720, 420, "QĐ-STC");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_int_equal(s[0].box.x1, 700);
    free_run(r);
}

/* A handwritten 7 read as a separator, with the digits after it, in a
 * word before the notation's ("Số: 36 /2 /HD-UBND" for 3676, "6/2" run
 * together, or a lone "/" for 337): the blank runs on to the notation's
 * own word, so the second reading sees every digit; the number read so
 * far is short and flagged, the notation is the print's. A year is the
 * notation's ("15/2024/NĐ-CP"). */
static void hand_seven_read_as_separator(void **st)
{
    static const char *const writing[][2] = {{"36", "/2"}, {"36/2", NULL}, {"33", "/"}};
    for (size_t i = 0; i < sizeof writing / sizeof *writing; i++) {
        run *r = blank_row();
        bld_word_at(&r->page[0], writing[i][0], 600, 405, 70, 60, 0.5f, 0);
        if (writing[i][1])
            bld_word_at(&r->page[0], writing[i][1], 690, 405, 40, 60, 0.4f, 0);
        bld_text(&r->page[0], 760, 420, "/HD-UBND");
        bld_title_subject(&r->page[0], "HƯỚNG DẪN", NULL);
        hand_slot s[HAND_MAX_SLOTS];
        assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
        assert_int_equal(s[0].kind, HAND_NUMBER);
        assert_true(s[0].bounded);
        assert_int_equal(s[0].box.x1, 760);
        extract(r);
        assert_field(r, META_NOTATION, "HD-UBND");
        assert_true(flagged(r, META_NUMBER));
        assert_true(r->m.confidence[META_NUMBER] <= 0.3f);
        free_run(r);
    }
    run *r = state_doc("Số: 15/2024 /NĐ-CP", DATE_QNG, "NGHỊ ĐỊNH");
    extract(r);
    assert_int_equal(r->m.number, 15);
    assert_field(r, META_NOTATION, "2024/NĐ-CP");
    free_run(r);
    (void)st;
}

/* The blanks of a State header whose number row is "Số:" and one word
 * `word` read `width` px wide from x 640, under title `title`: how many
 * are stored in `s`. */
static size_t slots_after_label(const char *word, int width, float conf, const char *title,
                                hand_slot *s)
{
    run *r = blank_row();
    bld_word_at(&r->page[0], word, 640, 410, width, 60, conf, 0);
    bld_title_subject(&r->page[0], title, NULL);
    size_t n = extract_hand_slots(&r->page[0], s);
    free_run(r);
    return n;
}

/* The pen's writing read as print and run into the notation's own word
 * ("/7⁄8/QĐ-STC" for 78): the blank reaches into that word as far as the
 * writing's characters go (4 of 11 here), up to the separator before
 * the code, so the second reading sees the writing and not the print;
 * not into a notation's year. */
static void hand_slot_into_notation_word(void **st)
{
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(slots_after_label("/7⁄8/QĐ-STC", 220, 0.4f, "QUYẾT ĐỊNH", s), 1);
    assert_int_equal(s[0].kind, HAND_NUMBER);
    assert_true(s[0].bounded);
    assert_int_equal(s[0].box.x1, 640 + 220 * 4 / 11);
    /* a legal document's notation starts with its year: all of it print */
    assert_int_equal(slots_after_label("/2025/NQ-HĐND", 260, 0.9f, "NGHỊ QUYẾT", s), 1);
    assert_int_equal(s[0].box.x1, 640);
    (void)st;
}

/* The writing read into the notation's word without a separator before
 * it ("92/BC-SGTVT" for 95, standing apart from "Số:" as only a pen's
 * number does): the blank is open to the end of that word, and the print
 * is thought to start 2 characters of 11 into it. A number glued to the
 * notation's code ("21UBND-NC") gives no such mark; writing read as
 * capitals that no code has still does. */
static void hand_slot_print_in_word(void **st)
{
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(slots_after_label("92/BC-SGTVT", 330, 0.6f, "BÁO CÁO", s), 1);
    assert_false(s[0].bounded);
    assert_int_equal(s[0].box.x1, 970);
    assert_int_equal(s[0].print_x, 640 + 330 * 2 / 11);
    assert_int_equal(slots_after_label("21UBND-NC", 300, 0.6f, "CÔNG VĂN", s), 1);
    assert_int_equal(s[0].print_x, 0);
    /* writing read as capitals no code is spelled with, 5 characters of
     * 14 ("ƒ4ØŒ2/QĐ-SKHCN" for 1483) */
    assert_int_equal(slots_after_label("ƒ4ØŒ2/QĐ-SKHCN", 420, 0.5f, "QUYẾT ĐỊNH", s), 1);
    assert_int_equal(s[0].print_x, 640 + 420 * 5 / 14);
    (void)st;
}

/* ---- bodies, subject ---- */

/* A header whose two columns meet on `left`'s row: `left` centred in the
 * left column, `right` (the motto's first line as read) in the right. */
static run *seam_run(const char *left, const char *right)
{
    run *r = new_run();
    bld_centred(&r->page[0], LEFT_CX, 190, left);
    bld_text(&r->page[0], 1080, 190, right);
    bld_centred(&r->page[0], RIGHT_CX, 250, "Độc lập - Tự do - Hạnh phúc");
    bld_text(&r->page[0], 480, 420, "Số: 180/QĐ-BKHCN");
    bld_text(&r->page[0], 1230, 420, "Hà Nội, ngày 30 tháng 11 năm 2021");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    return r;
}

/* The name's last word glued to the motto's first ("NGH‡ỘNG HÒA": CỘNG
 * lost its C) or read past the seam is named by the lexicon from the
 * words before it and the letters read, to be checked; nothing is added
 * where no name goes on so, or where the letters fit none. */
static void issuer_word_across_seam(void **st)
{
    run *r = seam_run("BỘ KHOA HỌC VÀ CÔNG", "NGH‡ỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_field(r, META_ISSUER, "BỘ KHOA HỌC VÀ CÔNG NGHỆ");
    assert_true(flagged(r, META_ISSUER));
    free_run(r);

    r = seam_run("HỘI ĐỒNG NHÂN", "DÂM?ỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_field(r, META_ISSUER, "HỘI ĐỒNG NHÂN DÂN");
    free_run(r);

    r = seam_run("SỞ LAO ĐỘNG - THƯƠNG", "BINH CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_field(r, META_ISSUER, "SỞ LAO ĐỘNG - THƯƠNG BINH");
    assert_true(flagged(r, META_ISSUER));
    free_run(r);

    /* no name of the lexicon goes on from "DỰ ÁN" */
    r = seam_run("BAN QUẢN LÝ DỰ ÁN", "NGH‡ỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_field(r, META_ISSUER, "BAN QUẢN LÝ DỰ ÁN");
    free_run(r);

    /* "XY" is the start of no word that goes on from "VÀ CÔNG" */
    r = seam_run("BỘ KHOA HỌC VÀ CÔNG", "XYỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_field(r, META_ISSUER, "BỘ KHOA HỌC VÀ CÔNG");
    assert_true(flagged(r, META_ISSUER));
    free_run(r);
}

/* The lexicon names a cut word only when exactly one name goes on so. */
static void lex_name_completion(void **st)
{
    static const struct {
        const char *line, *frag, *want;
    } cases[] = {
        {"BỘ CÔNG", "th", "THƯƠNG"},
        {"BỘ CÔNG", "a", "AN"},
        {"SỞ CÔNG", "thuong", "THƯƠNG"},
        {"ỦY BAN NHÂN", "dam", "DÂN"}, /* one letter of three misread */
        {"ỦY BAN NHÂN", "da", "DÂN"},
        {"ỦY BAN NHÂN", "dm", NULL}, /* a misread needs three letters */
        {"BỘ", "y", NULL},           /* one word of the line says too little */
        {"BỘ VĂN HÓA", "v", "VÀ"}, /* "Văn hóa và Thể thao" */
        {"BỘ VĂN HÓA", "t", "THỂ"}, /* "Văn hóa, Thể thao và Du lịch" */
        {"BAN QUẢN LÝ DỰ ÁN", "ngh", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = lex_complete_name(cases[i].line, cases[i].frag);
        if (cases[i].want) {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
        } else
            assert_null(got);
        free(got);
    }
}

static void issuer_and_superior(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"UBND TỈNH QUẢNG NAM", "SỞ LAO ĐỘNG - THƯƠNG BINH", "VÀ XÃ HỘI", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 182/QĐ-LĐTBXH",
                     "Quảng Nam, ngày 17 tháng 7 năm 2019");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_field(r, META_ISSUER_SUPERIOR, "UBND TỈNH QUẢNG NAM");
    assert_field(r, META_ISSUER, "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI");
    free_run(r);

    /* a stamp's frame across the issuer's first line: a dash read before
     * it ("—SỞ": no name starts with one, so it still opens a body), a
     * letter lost ("EAO") and a stroke between words; neither line alone
     * is the whole name, joined they are within a letter of it */
    r = new_run();
    const char *struck[] = {"UBND TỈNH THANH HÓA", "—SỞ EAO ĐỘNG~- THƯƠNG BINH", "VÀ XÃ HỘI", NULL};
    bld_state_header(&r->page[0], struck, "Số: 21/LĐTBXH-NC", "Thanh Hóa, ngày 14 tháng 7 năm 2019");
    extract(r);
    assert_field(r, META_ISSUER_SUPERIOR, "UBND TỈNH THANH HÓA");
    assert_field(r, META_ISSUER, "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI");
    assert_true(flagged(r, META_ISSUER));
    free_run(r);
}

/* A body is named from its head noun (SỞ, ỦY BAN, BAN ...): the piece of
 * a line a stamp left ("PHỐ HÀ" of "UBND THÀNH PHỐ HÀ NỘI") is no issuer
 * to trust. */
static void issuer_without_head_noun(void **st)
{
    run *r = new_run();
    const char *piece[] = {"PHỐ HÀ", NULL};
    bld_state_header(&r->page[0], piece, "Số: 106/BC-TTT", "Hà Nội, ngày 28 tháng 9 năm 2012");
    extract(r);
    assert_field(r, META_ISSUER, "PHỐ HÀ");
    assert_true(flagged(r, META_ISSUER));
    free_run(r);

    r = new_run();
    const char *whole[] = {"THANH TRA TỈNH", NULL};
    bld_state_header(&r->page[0], whole, "Số: 106/BC-TTT", "Hà Nội, ngày 28 tháng 9 năm 2012");
    extract(r);
    assert_field(r, META_ISSUER, "THANH TRA TỈNH");
    assert_false(flagged(r, META_ISSUER));
    free_run(r);
}

/* One body over two lines: no superior. OCR without diacritics is
 * restored from the vocabulary. */
static void issuer_single_body_repaired(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"ỦY BAN NHÂN DÂN", "TINH QUANG NGAI", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 09/TTr-UBND", DATE_QNG);
    extract(r);
    assert_field(r, META_ISSUER, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI");
    assert_null(S(r, META_ISSUER_SUPERIOR));
    free_run(r);

    /* a tone mark misread on "BAN" ("bạn" is no body's name) */
    r = new_run();
    const char *bql[] = {"UBND TỈNH QUẢNG NAM", "BẠN QUẢN LÝ CÁC KHU", "CÔNG NGHIỆP", NULL};
    bld_state_header(&r->page[0], bql, "Số: 09/TTr-BQLKCN", "Quảng Nam, ngày 17 tháng 7 năm 2019");
    extract(r);
    assert_field(r, META_ISSUER, "BAN QUẢN LÝ CÁC KHU CÔNG NGHIỆP");
    free_run(r);
}

/* A body's name with one letter misread in eight ("ÓÝ" for "ỦY", "?É"
 * for "T"): named from the vocabulary; a short name so misread ("HÀ
 * NỘP") and a word off by more are kept as read. */
static void issuer_near_name_repaired(void **st)
{
    static const struct {
        const char *lines[3];
        const char *issuer;
    } cases[] = {
        {{"ÓÝ BAN NHÂN DÂN", "TỈNH LAI CHÂU", NULL}, "ỦY BAN NHÂN DÂN TỈNH LAI CHÂU"},
        {{"UBND TỈNH HƯNG YÊN", "SỞ?ÉƯ PHÁP", NULL}, "SỞ TƯ PHÁP"},
        {{"ÓÝ BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘP", NULL}, "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘP"},
        {{"UBND TỈNH HƯNG YÊN", "SỞ XÁC PHÁP", NULL}, "SỞ XÁC PHÁP"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        bld_state_header(&r->page[0], cases[i].lines, "Số: 09/TTr-UBND", DATE_QNG);
        extract(r);
        assert_field(r, META_ISSUER, cases[i].issuer);
        free_run(r);
    }
}

/* A province cut short at the end of a body's name (its last word lost
 * to the motto, or a letter): completed from the date line's place, and
 * checked; a place that does not go on from it completes nothing. */
static void issuer_province_from_place(void **st)
{
    static const struct {
        const char *sup, *date, *want;
        bool flagged;
    } cases[] = {
        {"UBND TỈNH QUẢNG", DATE_QNG, "UBND TỈNH QUẢNG NGÃI", true},
        {"UBND TỈNH QUẢNG NGÁ", DATE_QNG, "UBND TỈNH QUẢNG NGÃI", true},
        {"UBND THÀNH PHỐ HỒ", "Thành phố Hồ Chí Minh, ngày 05 tháng 02 năm 2025",
         "UBND THÀNH PHỐ HỒ CHÍ MINH", true},
        {"UBND TỈNH QUẢNG", "Hà Nội, ngày 05 tháng 02 năm 2025", "UBND TỈNH QUẢNG", true},
        {"UBND TỈNH QUẢNG NGÃI", DATE_QNG, "UBND TỈNH QUẢNG NGÃI", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        const char *lines[] = {cases[i].sup, "SỞ TƯ PHÁP", NULL};
        bld_state_header(&r->page[0], lines, "Số: 09/TTr-STP", cases[i].date);
        extract(r);
        assert_field(r, META_ISSUER_SUPERIOR, cases[i].want);
        assert_field(r, META_ISSUER, "SỞ TƯ PHÁP");
        assert_int_equal(flagged(r, META_ISSUER_SUPERIOR), cases[i].flagged);
        free_run(r);
    }
}

/* The superior's line, the province's People's Committee: its names run
 * together by the OCR are apart again, and the whole line, long enough,
 * is known with a letter in eight misread ("UBNI)", "AJV"); a word run
 * into its neighbour that is no name stays as read. */
static void superior_line_repaired(void **st)
{
    static const struct {
        const char *sup, *want;
    } cases[] = {
        {"UBNDTỈNHTRÀ VINH", "UBND TỈNH TRÀ VINH"},
        {"ỦY BAN NHÂN DÂN TỈNHLẠNG SƠN", "ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN"},
        {"UBNI) TỈNH YÊN BÁI", "UBND TỈNH YÊN BÁI"},
        {"AJV BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG", "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"},
        /* the OCR's fraction slash for a stroke before it */
        {"\u2044ĐBNDTNH BÌNH ĐỊNH", "UBND TỈNH BÌNH ĐỊNH"},
        {"UBND TỈNHXY TRÀ VINH", "UBND TỈNHXY TRÀ VINH"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        const char *lines[] = {cases[i].sup, "SỞ TƯ PHÁP", NULL};
        bld_state_header(&r->page[0], lines, "Số: 09/TTr-STP", DATE_QNG);
        extract(r);
        assert_field(r, META_ISSUER_SUPERIOR, cases[i].want);
        assert_field(r, META_ISSUER, "SỞ TƯ PHÁP");
        free_run(r);
    }
    /* names run together where no longer name holds them all: each its
     * own word again */
    run *r = new_run();
    const char *council[] = {"HỘI ĐỒNG NHÂN DÂN", "TỈNHQUẢNG NGÃI", NULL};
    bld_state_header(&r->page[0], council, "Số: 09/TTr-HĐND", DATE_QNG);
    extract(r);
    assert_field(r, META_ISSUER, "HỘI ĐỒNG NHÂN DÂN TỈNH QUẢNG NGÃI");
    free_run(r);
}

/* A Party committee's line with a letter misread ("ĐÌNH ỦY HẬU GIANG"),
 * too short a misread for "TỈNH ỦY" alone, is known whole with its
 * province, as a body's name one letter off in eight is; a stamp's
 * stroke before a line ("/BAN", "¿TỈNH") is no part of the name, and
 * leaves it to be checked. */
static void issuer_party_line_repaired(void **st)
{
    static const struct {
        const char *lines[3];
        const char *issuer;
        int flagged; /* -1: not this rule's to say */
    } cases[] = {
        {{"ĐÌNH ỦY HẬU GIANG", "BAN TUYÊN GIÁO"}, "TỈNH ỦY HẬU GIANG BAN TUYÊN GIÁO", false},
        {{"TỈNH ỦY HẬU GIANG", "/BAN TUYÊN GIÁO"}, "TỈNH ỦY HẬU GIANG BAN TUYÊN GIÁO", true},
        {{"¿TỈNH ỦY HẬU GIANG", "BAN TUYÊN GIÁO"}, "TỈNH ỦY HẬU GIANG BAN TUYÊN GIÁO", true},
        {{"TỈNH ỦY HẬU GIANG", "BAN TUYÊN GIÁO"}, "TỈNH ỦY HẬU GIANG BAN TUYÊN GIÁO", false},
        /* a line off by more than a letter in eight is kept as read */
        {{"ĐÌNH ÚC HẬU GIANG", "BAN TUYÊN GIÁO"}, "ĐÌNH ÚC HẬU GIANG BAN TUYÊN GIÁO", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        bld_party_header(&r->page[0], cases[i].lines, "Số 618-CV/BTGTU",
                         "Hậu Giang, ngày 14 tháng 9 năm 2020");
        extract(r);
        assert_field(r, META_ISSUER, cases[i].issuer);
        if (cases[i].flagged >= 0)
            assert_int_equal(flagged(r, META_ISSUER), cases[i].flagged);
        free_run(r);
    }
}

/* The Party motto begun close to the end of the committee's line: its
 * first word read into the left column is the motto's, not the name's. */
static void issuer_motto_word_apart(void **st)
{
    run *r = new_run();
    bld_line_no++;
    int x = bld_text(&r->page[0], 455, 190, "TỈNH ỦY BÌNH DƯƠNG ĐẢNG");
    bld_text(&r->page[0], x + 480, 190, "CỘNG SẢN VIỆT NAM");
    bld_line_no++;
    bld_centred(&r->page[0], LEFT_CX, 250, "BAN TỔ CHỨC");
    const char *none[] = {NULL};
    bld_party_header(&r->page[0], none, "Số 395-TB/BTCTU", "Bình Dương, ngày 13 tháng 01 năm 2024");
    extract(r);
    assert_field(r, META_ISSUER, "TỈNH ỦY BÌNH DƯƠNG BAN TỔ CHỨC");
    assert_field(r, META_FORMAT, "party");
    free_run(r);

    /* the motto's first two words apart from the name, the rest of it
     * read as noise under a stamp: the seam moved past them */
    r = new_run();
    bld_line_no++;
    x = bld_text(&r->page[0], 455, 190, "ĐẢNG BỘ TỈNH ĐỒNG NAI");
    x = bld_text(&r->page[0], x + 60, 190, "ĐẢNG CỘN");
    bld_text_conf(&r->page[0], x + 150, 190, "NẾÏIỆENẢAMG", 0.3f);
    bld_line_no++;
    bld_centred(&r->page[0], LEFT_CX, 250, "ỦY BAN KIỂM TRA");
    bld_party_header(&r->page[0], none, "Số 216-KL/UBKTTU", "Đồng Nai, ngày 22 tháng 7 năm 2025");
    extract(r);
    assert_field(r, META_ISSUER, "ĐẢNG BỘ TỈNH ĐỒNG NAI ỦY BAN KIỂM TRA");
    free_run(r);
}

/* A subject ending on a word that leads into more lost its last line:
 * checked; "cây trồng" (not "trong") and "chữ ký số" end a subject. */
static void subject_unfinished_flagged(void **st)
{
    static const struct {
        const char *last;
        bool sure;
    } cases[] = {
        {"ứng dụng chữ ký số trong", false},
        {"kinh tế - xã hội 6 tháng đầu", false},
        {"năm 2017 của Ủy", false},
        {"của Ban Thường vụ Tỉnh ủy", true},
        {"chuyển đổi cơ cấu cây trồng", true},
        {"ứng dụng chữ ký số", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        bld_state_header(&r->page[0], UBND_QNG, "Số: 09/KH-UBND", DATE_QNG);
        const char *subject[] = {"Triển khai kế hoạch", cases[i].last, NULL};
        int y = bld_title_subject(&r->page[0], "KẾ HOẠCH", subject);
        bld_body(&r->page[0], y, 3, NULL);
        extract(r);
        assert_non_null(S(r, META_SUBJECT));
        assert_int_equal(flagged(r, META_SUBJECT), !cases[i].sure);
        free_run(r);
    }
}

/* A remnant read well apart from the title, on its row ("THÔNG BÁO ...
 * am."): the title and the subject under it are still found, the subject
 * to be checked. */
static void title_with_stray_word(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 12/TB-UBND", DATE_QNG);
    const char *subject[] = {"Phân bổ dự toán ngân sách nhà nước năm 2022", NULL};
    bld_title_subject(&r->page[0], "THÔNG BÁO", subject);
    bld_word_at(&r->page[0], "am.", MID_CX + 420, 560, 60, 40, 0.3f, 0);
    extract(r);
    assert_field(r, META_TYPE, "Thông báo");
    assert_field(r, META_SUBJECT, "Phân bổ dự toán ngân sách nhà nước năm 2022");
    /* what left the remnant may hide a word of the subject: checked */
    assert_true(flagged(r, META_SUBJECT));
    free_run(r);
}

/* A black stamp's pieces by the subject: a dash off the title's axis
 * between the title and the subject, a row of the right column alone
 * between a công văn's V/v lines. Neither ends the subject. */
static void subject_past_stamp_pieces(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    const char *subject[] = {"Bãi bỏ Quyết định số 987/QĐ-UBND của", "Ủy ban nhân dân tỉnh", NULL};
    int y = bld_title_subject(&r->page[0], "TỜ TRÌNH", subject);
    bld_line_no++;
    bld_word_at(&r->page[0], "-", MID_CX + 500, 606, 14, 32, 0.4f, 0);
    bld_body(&r->page[0], y, 3, NULL);
    extract(r);
    assert_field(r, META_SUBJECT, "Bãi bỏ Quyết định số 987/QĐ-UBND của Ủy ban nhân dân tỉnh");
    free_run(r);

    r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 66/SNV-TCHC", DATE_QNG);
    bld_line_no++;
    bld_centred(&r->page[0], LEFT_CX, 490, "V/v điều chỉnh kế hoạch đầu tư công");
    bld_line_no++;
    bld_text(&r->page[0], 1500, 510, "Song");
    bld_line_no++;
    bld_centred(&r->page[0], LEFT_CX, 548, "trung hạn giai đoạn 2021 - 2025");
    bld_line_no++;
    bld_centred(&r->page[0], MID_CX, 700, "Kính gửi: Các sở, ban, ngành tỉnh");
    bld_body(&r->page[0], 740, 5, NULL);
    extract(r);
    assert_field(r, META_SUBJECT,
                 "Về việc điều chỉnh kế hoạch đầu tư công trung hạn giai đoạn 2021 - 2025");
    free_run(r);
    (void)st;
}

static void subject_multiline_stops(void **st)
{
    /* stops at the authority line of a decision */
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 12/QĐ-UBND", DATE_QNG);
    const char *subject[] = {"Ban hành Quy chế gửi, nhận văn bản điện tử",
                             "trong các cơ quan nhà nước",
                             "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", NULL};
    int y = bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", subject);
    bld_body(&r->page[0], y, 3,
             "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;");
    extract(r);
    assert_field(r, META_SUBJECT,
                 "Ban hành Quy chế gửi, nhận văn bản điện tử trong các cơ quan nhà nước");
    free_run(r);
    /* a mark of the subject's line read apart over it ("ý" of "lấy ý
     * kiến"), a row of its own: not a line of the subject, nor its end */
    r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 12/QĐ-UBND", DATE_QNG);
    const char *s1[] = {"Về việc lấy ý kiến góp ý dự thảo văn kiện", NULL};
    bld_title_subject(&r->page[0], "KẾT LUẬN", s1);
    bld_line_no++;
    bld_word_at(&r->page[0], "ý", MID_CX - 10, 622, 20, 24, 0.6f, 0);
    extract(r);
    assert_field(r, META_SUBJECT, "Về việc lấy ý kiến góp ý dự thảo văn kiện");
    free_run(r);
    /* stops before "Kính gửi" */
    r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    const char *s2[] = {"Về việc đề nghị phê duyệt dự toán", "Kính gửi: Hội đồng nhân dân tỉnh",
                        NULL};
    bld_title_subject(&r->page[0], "TỜ TRÌNH", s2);
    extract(r);
    assert_field(r, META_SUBJECT, "Về việc đề nghị phê duyệt dự toán");
    free_run(r);
    /* stops at the body (justified, after a gap) */
    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_SUBJECT, "Về việc đề nghị phê duyệt dự toán kinh phí năm 2025");
    free_run(r);
}

/* ---- text normalisation ---- */

static void tone_placement_and_nfd(void **st)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"UỶ BAN", "ỦY BAN"},
        {"hoà", "hòa"},
        {"xoá", "xóa"},
        {"thuỷ", "thủy"},
        {"khoẻ", "khỏe"},
        {"quý", "quý"},
        {"hoàng", "hoàng"},
        {"Thanh Hoá", "Thanh Hóa"},
        {"HOẢ TỐC", "HỎA TỐC"},
        {"thuyết", "thuyết"},
        /* NFD input: U + horn... composed on output */
        {"U\xcc\x89Y BAN", "ỦY BAN"},
        {"Vie\xcc\xa3\xcc\x82t", "Việt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *o = vn_normalize(cases[i].in);
        assert_non_null(o);
        assert_string_equal(o, cases[i].out);
        free(o);
    }
    char *f = vn_fold("ĐỘC LẬP");
    assert_string_equal(f, "doc lap");
    free(f);
    /* invalid UTF-8 is replaced, not trusted */
    char *bad = vn_normalize("a\xff\xfe b");
    assert_non_null(bad);
    free(bad);
}

/* Old placement and NFD in the OCR text: modern NFC in the output. */
static void old_tones_in_fields(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"UBND TỈNH THANH HOÁ", "SO\xcc\x9b\xcc\x89 XÂY DỰNG", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 2707/PA-SXD",
                     "Thanh Hoá, ngày 08 tháng 11 năm 2022");
    bld_line_no++;
    bld_text(&r->page[0], 560, 490, "HOẢ TỐC");
    bld_title_subject(&r->page[0], "PHƯƠNG ÁN", NULL);
    extract(r);
    assert_field(r, META_ISSUER_SUPERIOR, "UBND TỈNH THANH HÓA");
    assert_field(r, META_ISSUER, "SỞ XÂY DỰNG");
    assert_field(r, META_PLACE, "Thanh Hóa");
    assert_field(r, META_URGENCY, "Hỏa tốc");
    free_run(r);
}

/* ---- marks ---- */

static void mark_run(const char *mark, float red, const char *urg, const char *sec,
                     bool sec_flagged)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    bld_line_no++;
    char *copy = strdup(mark);
    int x = 560;
    for (char *t = strtok(copy, " "); t; t = strtok(NULL, " ")) {
        bld_word_at(&r->page[0], t, x, 490, bld_word_w(t) + 10, 50, 0.9f, red);
        x += bld_word_w(t) + 30;
    }
    free(copy);
    extract(r);
    assert_field(r, META_URGENCY, urg);
    assert_field(r, META_SECRECY, sec);
    if (sec_flagged)
        assert_true(r->m.review[META_SECRECY]);
    free_run(r);
}

static void marks_urgency_secrecy(void **st)
{
    mark_run("KHẨN", 0, "Khẩn", NULL, false);
    mark_run("THƯỢNG KHẨN", 0.8f, "Thượng khẩn", NULL, false);
    mark_run("HỎA TỐC", 0.8f, "Hỏa tốc", NULL, false);
    mark_run("MẬT", 0.8f, NULL, "Mật", false);
    mark_run("TỐI MẬT", 0, NULL, "Tối mật", false);
    mark_run("TUYỆT MẬT", 0.8f, NULL, "Tuyệt mật", false);
    /* OCR lost the marks: still reported, with a check */
    mark_run("MAT", 0.8f, NULL, "Mật", true);
    /* a red word resembling MẬT is reported, flagged */
    mark_run("NAT", 0.9f, NULL, "Mật", true);
    /* a photocopied class read badly is still its class, flagged */
    mark_run("L'UVỆT Ñ ẬP,", 0, NULL, "Tuyệt mật", true);
}

/* The red seal over the signature, far below the header: a colour
 * original (words partly in red ink). */
static void add_seal(run *r)
{
    bld_line_no++;
    bld_word_at(&r->page[0], "ấn", 1700, 3150, 60, 50, 0.2f, 0.8f);
}

/* Words of the body are not marks. */
static void body_words_not_marks(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    const char *subject[] = {"Về việc bảo vệ bí mật nhà nước", NULL};
    int y = bld_title_subject(&r->page[0], "TỜ TRÌNH", subject);
    bld_body(&r->page[0], y, 3,
             "Các văn bản không mật và văn bản khẩn phải được gửi ngay trong ngày");
    const char *bodies[] = {"ỦY BAN MẶT TRẬN TỔ QUỐC", NULL};
    (void)bodies;
    add_seal(r);
    extract(r);
    assert_null(S(r, META_SECRECY));
    assert_null(S(r, META_URGENCY));
    assert_false(r->m.review[META_SECRECY]);
    free_run(r);
}

/* A document with no red at all (gray scan, photocopy) cannot show that it
 * has no (now gray) classification stamp: secrecy is left for the clerk. */
static void colourless_document_secrecy_unsure(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_null(S(r, META_SECRECY));
    assert_true(r->m.confidence[META_SECRECY] <= 0.5f);
    assert_true(r->m.review[META_SECRECY]);
    free_run(r);
    /* the same document with its red seal: no mark, and sure of it */
    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    add_seal(r);
    extract(r);
    assert_null(S(r, META_SECRECY));
    assert_true(r->m.confidence[META_SECRECY] >= 0.8f);
    assert_false(r->m.review[META_SECRECY]);
    free_run(r);
}

/* Without colour, an urgency stamp over the header on the left is as
 * black as the print and often turned: read as noise, of a stamp's size,
 * "no urgency" is not sure. A speck there, or a colour page (where the
 * stamp would be red), leaves it sure. */
/* Whether urgency is left for the clerk to check on a State document,
 * with its red seal or without colour, with the words `noise` read
 * (at 0.2) over its header on the left, `h` px tall. */
static bool urgency_checked(bool seal, const char *noise, int h)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    if (seal)
        add_seal(r);
    bld_line_no++;
    char *copy = strdup(noise);
    int x = 300;
    for (char *t = strtok(copy, " "); t; t = strtok(NULL, " ")) {
        bld_word_at(&r->page[0], t, x, 70, h * (int)strlen(t) / 2 + 10, h, 0.2f, 0);
        x += h * (int)strlen(t) / 2 + 30;
    }
    free(copy);
    extract(r);
    assert_null(S(r, META_URGENCY));
    bool checked = r->m.review[META_URGENCY];
    free_run(r);
    return checked;
}

static void colourless_noise_over_header(void **st)
{
    assert_true(urgency_checked(false, "t NÓ Thy,", 60));
    assert_false(urgency_checked(false, "ẻ", 20));
    assert_false(urgency_checked(true, "t NÓ Thy,", 60));
}

/* A red region under Số that OCR could not read may be MẬT. */
static void red_region_reported(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    ocr_mark_region m = {.box = {560, 490, 760, 560}, .red = 0.7f, .text = NULL, .conf = 0};
    ocr_page_add_mark(&r->page[0], &m);
    extract(r);
    assert_field(r, META_SECRECY, "Mật");
    assert_true(flagged(r, META_SECRECY));
    free_run(r);
}

/* A doc with one red region of the page; returns the run, extracted. */
static run *region_run(ocr_box box, const char *text, float conf)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    ocr_mark_region m = {.box = box, .red = 0.9f, .text = (char *)text, .conf = conf};
    ocr_page_add_mark(&r->page[0], &m);
    extract(r);
    return r;
}

/* An unreadable red box under Số is MẬT or an urgency: "no urgency" is
 * not sure either. */
static void red_region_urgency_unsure(void **st)
{
    run *r = region_run((ocr_box){560, 490, 760, 560}, NULL, 0);
    assert_null(S(r, META_URGENCY));
    assert_true(flagged(r, META_URGENCY));
    free_run(r);
    /* the same in the top margin: no MẬT, but both unsure */
    r = region_run((ocr_box){300, 20, 560, 110}, "", 0);
    assert_null(S(r, META_SECRECY));
    assert_true(flagged(r, META_SECRECY));
    assert_true(flagged(r, META_URGENCY));
    free_run(r);
}

/* A red mark read in part or among the stamp's outline: the nearest name,
 * checked. */
static void red_region_read_in_part(void **st)
{
    run *r = region_run((ocr_box){560, 490, 760, 560}, "TKHẤN Ì", 0.5f);
    assert_field(r, META_URGENCY, "Khẩn");
    assert_true(flagged(r, META_URGENCY));
    assert_true(flagged(r, META_SECRECY)); /* it was read in part */
    free_run(r);
    r = region_run((ocr_box){560, 490, 860, 600}, "xÕt MẬT", 0.5f);
    assert_field(r, META_SECRECY, "Tối mật");
    assert_true(flagged(r, META_SECRECY));
    free_run(r);
    r = region_run((ocr_box){200, 20, 800, 130}, "ETNNNGNGKHTN | | THƯỢNG KHẨN", 0.8f);
    assert_field(r, META_URGENCY, "Thượng khẩn");
    free_run(r);
}

/* Two stamps read as one region; a name among the outline's noise. */
static void red_region_two_marks(void **st)
{
    run *r = region_run((ocr_box){560, 480, 1060, 600}, "| HÒA TÓC | [rôiwẬr]", 0.55f);
    assert_field(r, META_URGENCY, "Hỏa tốc");
    assert_field(r, META_SECRECY, "Tối mật");
    assert_true(flagged(r, META_SECRECY));
    free_run(r);
    r = region_run((ocr_box){560, 480, 1060, 600}, "“Z7 \\ [ Ti MẬT | “ —", 0.45f);
    assert_field(r, META_SECRECY, "Tối mật");
    free_run(r);
}

/* Red text that reads as words but no mark (the head of the clerk's
 * stamp), and pieces of the ĐẾN stamp, are no evidence of a mark. */
static void red_text_not_marks(void **st)
{
    run *r = region_run((ocr_box){300, 20, 800, 100}, "VĂN PHÒNG TỈNH ỦY", 0.7f);
    assert_null(S(r, META_SECRECY));
    assert_false(r->m.review[META_SECRECY]);
    assert_false(r->m.review[META_URGENCY]);
    free_run(r);

    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    ocr_mark_region den = {
        .box = {300, 380, 480, 440}, .red = 0.8f, .text = "ĐẾN Số:", .conf = 0.5f};
    ocr_mark_region piece = {.box = {560, 490, 760, 560}, .red = 0.9f, .text = "— ]", .conf = 0.2f};
    ocr_page_add_mark(&r->page[0], &den);
    ocr_page_add_mark(&r->page[0], &piece);
    extract(r);
    assert_null(S(r, META_SECRECY));
    assert_false(r->m.review[META_SECRECY]);
    free_run(r);
}

/* A grey or photocopied stamp under Số, misread by one letter, is the
 * nearest mark, checked; any other clean capital word there makes "no
 * mark" unsure. */
static void grey_mark_misread(void **st)
{
    mark_run("K HẤI", 0, "Khẩn", NULL, false);
    mark_run("MAI", 0, NULL, "Mật", true);
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    bld_line_no++;
    bld_word_at(&r->page[0], "XYZQ", 560, 490, 130, 50, 0.9f, 0);
    extract(r);
    assert_null(S(r, META_SECRECY));
    assert_true(flagged(r, META_SECRECY));
    free_run(r);

    /* a photocopied box OCR could not read: reported as MẬT, checked */
    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    bld_line_no++;
    bld_word_at(&r->page[0], "TỰ", 560, 490, 60, 50, 0.31f, 0);
    bld_word_at(&r->page[0], "C1", 640, 490, 70, 50, 0.0f, 0);
    extract(r);
    assert_field(r, META_SECRECY, "Mật");
    assert_true(flagged(r, META_SECRECY));
    free_run(r);

    /* the same words read well, or a line of running text, are no mark */
    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    bld_line_no++;
    bld_text(&r->page[0], 560, 490, "bí mật nhà nước");
    add_seal(r);
    extract(r);
    assert_null(S(r, META_SECRECY));
    assert_false(r->m.review[META_SECRECY]);
    free_run(r);
}

/* A doc with one region of dark ink the page's OCR read nothing in. */
static run *unread_run(ocr_box box, const char *text)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    ocr_mark_region m = {.box = box, .unread = true, .text = (char *)text, .conf = 0.1f};
    ocr_page_add_mark(&r->page[0], &m);
    extract(r);
    return r;
}

/* A photocopied box under Số that the page's OCR skipped (its frame in
 * dashes): reported as MẬT, checked; read, it is what it reads. The same
 * ink elsewhere in the header (a logo, a scribble, the clerk's stamp) is
 * no mark. */
static void unread_ink_in_mark_zone(void **st)
{
    run *r = unread_run((ocr_box){560, 480, 760, 560}, "[TT ~*");
    assert_field(r, META_SECRECY, "Mật");
    assert_true(flagged(r, META_SECRECY));
    assert_true(flagged(r, META_URGENCY));
    free_run(r);
    r = unread_run((ocr_box){560, 480, 860, 560}, "TỐI MẬT");
    assert_field(r, META_SECRECY, "Tối mật");
    free_run(r);
    r = unread_run((ocr_box){560, 480, 860, 560}, "KHẨN");
    assert_field(r, META_URGENCY, "Khẩn");
    assert_null(S(r, META_SECRECY));
    free_run(r);
    /* right column, under the date: no mark there, urgency stays sure */
    r = unread_run((ocr_box){1500, 480, 1700, 560}, "[TT ~*");
    assert_null(S(r, META_SECRECY));
    assert_false(flagged(r, META_URGENCY));
    free_run(r);
    /* top margin over the left column, where an urgency stamp goes (one
     * half under a photocopy's dark edge): no class read from it, but
     * "no urgency" is no longer sure */
    r = unread_run((ocr_box){300, 20, 560, 110}, "[TT ~*");
    assert_null(S(r, META_SECRECY));
    assert_null(S(r, META_URGENCY));
    assert_true(flagged(r, META_URGENCY));
    free_run(r);
}

/* ---- the clerk's stamp ---- */

/* The registry's ĐẾN stamp: its three lines at x, on rows y[]. */
static void den_stamp(ocr_page_text *p, int x, const int y[3], const char *const lines[3])
{
    for (int i = 0; i < 3; i++) {
        bld_line_no++;
        bld_text(p, x, y[i], lines[i]);
    }
}

static void den_stamp_ignored(void **st)
{
    run *r = new_run();
    ocr_page_text *p = &r->page[0];
    den_stamp(p, 230, (const int[]){40, 100, 160},
              (const char *[]){"ĐẾN Số: 192", "Ngày: 12/02/2025", "Chuyển: ......"});
    /* the document's own number is unreadable */
    bld_state_header(p, UBND_QNG, "Số: /TTr-UBND", DATE_QNG);
    bld_title_subject(p, "TỜ TRÌNH", NULL);
    extract(r);
    assert_false(r->m.has_number);
    assert_field(r, META_NOTATION, "TTr-UBND");
    assert_field(r, META_DATE, "2025-02-05");
    assert_field(r, META_ISSUER, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI");
    free_run(r);

    /* the stamp set over the header's left edge, its "Chuyển:" line on
     * the issuer's first row and its dotted field read into the label */
    r = new_run();
    p = &r->page[0];
    den_stamp(p, 100, (const int[]){70, 130, 190},
              (const char *[]){"ĐẾN Số: 667", "Ngày: ....../....../......", "Chuyển:......"});
    bld_line_no--; /* the "Chuyển:" line is the issuer's first row */
    bld_state_header(p, UBND_QNG, "Số: 07/TB-UBND", DATE_QNG);
    bld_title_subject(p, "THÔNG BÁO", NULL);
    extract(r);
    assert_field(r, META_ISSUER, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI");
    assert_int_equal(r->m.number, 7);
    free_run(r);
}

/* ---- signer ---- */

/* A State document with this signature block on its one page. */
static run *signer_doc(const char *prefix, const char *position, const char *name)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    bld_signer(&r->page[0], prefix, position, name);
    return r;
}

/* What a clerk is told of a field: nothing asked (SURE: not listed for
 * review), to be checked (CHECK: listed, with a low confidence), or
 * not looked at by the test (ANY). */
typedef enum { ANY, SURE, CHECK } review_want;

/* Extracts the document signed with this block and checks one field:
 * its value, and what the clerk is told of it. */
static void expect_signer(const char *prefix, const char *position, const char *name,
                          meta_field f, const char *want, review_want review)
{
    run *r = signer_doc(prefix, position, name);
    extract(r);
    assert_field(r, f, want);
    if (review == SURE)
        assert_false(r->m.review[f]);
    else if (review == CHECK)
        assert_true(flagged(r, f));
    free_run(r);
}

static void signer_last_page(void **st)
{
    run *r = new_run();
    r->npages = 2;
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    bld_body(&r->page[0], 700, 20, NULL);
    bld_body(&r->page[1], 200, 10, NULL);
    bld_signer(&r->page[1], "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình");
    extract(r);
    assert_field(r, META_SIGNER, "Trần Thị Bình");
    assert_field(r, META_SIGNER_POSITION, "PHÓ CHỦ TỊCH");
    assert_field(r, META_SIGNER_PREFIX, "KT. CHỦ TỊCH");
    assert_false(r->m.review[META_SIGNER]);
    free_run(r);
}

static void signer_no_prefix_upper_name(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    ocr_page_text_free(&r->page[0]);
    bld_page(&r->page[0]);
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    bld_signer(&r->page[0], NULL, "GIÁM ĐỐC", "LÊ VĂN TÁM");
    extract(r);
    assert_field(r, META_SIGNER, "Lê Văn Tám");
    assert_field(r, META_SIGNER_POSITION, "GIÁM ĐỐC");
    assert_null(S(r, META_SIGNER_PREFIX));
    free_run(r);
}

/* KT. means a deputy: a position without PHÓ lost it under the seal. */
static void signer_deputy_restored(void **st)
{
    expect_signer("KT. GIÁM ĐỐC", "GIÁM ĐỐC", "Đinh Quốc Bình", META_SIGNER_POSITION,
                  "PHÓ GIÁM ĐỐC", CHECK);
}

/* The same with the word `lost` of the block lost by the OCR (under the
 * seal's ring): `f` reads `want`, to be checked. */
static void expect_word_lost(const char *prefix, const char *position, const char *name,
                             const char *lost, meta_field f, const char *want)
{
    run *r = signer_doc(prefix, position, name);
    bld_drop_word(&r->page[0], lost, 2400);
    extract(r);
    assert_field(r, f, want);
    assert_true(flagged(r, f));
    free_run(r);
}

/* The block is centred on one axis: a head's title set right of it by
 * half a short word lost its "PHÓ" (under the seal), and a line over it
 * reading the same title, off the axis too, lost its "KT.". Both are
 * restored, to be checked; a head's title on the axis stays as read. */
static void signer_lost_word_by_axis(void **st)
{
    expect_word_lost("T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Hoàng Hồng Bình", "PHÓ",
                     META_SIGNER_POSITION, "PHÓ BÍ THƯ");
    expect_signer("T/M BAN THƯỜNG VỤ", "BÍ THƯ", "Hoàng Hồng Bình", META_SIGNER_POSITION,
                  "BÍ THƯ", SURE);

    /* "PHÓ" read as noise and dropped: the same */
    run *r = signer_doc("T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Hoàng Hồng Bình");
    bld_set_word(&r->page[0], "PHÓ", 2400, 0.1f, 0.0f);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "PHÓ BÍ THƯ");
    free_run(r);

    /* a name not starting with a surname may have lost a word: it is no
     * axis, and alone it tells nothing */
    r = signer_doc(NULL, "PHÓ GIÁM ĐỐC", "Thu Việt");
    bld_drop_word(&r->page[0], "PHÓ", 2400);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "GIÁM ĐỐC");
    free_run(r);

    r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Đức Hạnh");
    bld_drop_word(&r->page[0], "KT.", 2400);
    bld_drop_word(&r->page[0], "PHÓ", 2400);
    extract(r);
    assert_field(r, META_SIGNER_PREFIX, "KT. GIÁM ĐỐC");
    assert_field(r, META_SIGNER_POSITION, "PHÓ GIÁM ĐỐC");
    assert_true(flagged(r, META_SIGNER_PREFIX));
    assert_true(flagged(r, META_SIGNER_POSITION));
    free_run(r);
}

/* Surnames are a closed set: a misread tone mark on the first word of the
 * name takes the one surname with those letters; an unknown word stays. */
static void signer_surname_spelling(void **st)
{
    expect_signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Đỉnh Quốc Bình", META_SIGNER,
                  "Đinh Quốc Bình", ANY);
    expect_signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Xa Văn Tâm", META_SIGNER, "Xa Văn Tâm",
                  CHECK);
    /* the surname lost under the seal */
    expect_signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Thu Việt", META_SIGNER, "Thu Việt", CHECK);

    /* a letter misread: the one surname a letter away, to be checked; a
     * word as near several stays as read; a surname read whole is sure */
    static const struct {
        const char *read, *want;
        review_want review;
    } cases[] = {
        {"Clâu Minh Nga", "Châu Minh Nga", CHECK},
        {"Lưưng Anh Hùng", "Lương Anh Hùng", CHECK},
        {"Cau Kim Vinh", "Cau Kim Vinh", CHECK},
        {"Đoán Đức Minh", "Đoàn Đức Minh", SURE},
        {"Doăn Đức Minh", "Doãn Đức Minh", SURE},
        {"Trương Thị Hoa", "Trương Thị Hoa", SURE},
        /* a middle name a letter off a surname is no misread surname:
         * the surname itself was lost */
        {"Minh Tuấn", "Minh Tuấn", CHECK},
        {"Ngọc Oanh", "Ngọc Oanh", CHECK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", cases[i].read, META_SIGNER, cases[i].want,
                      cases[i].review);
}

/* The surname damaged under the seal's ring, outside the name's run of
 * capitalised words: dropped as unreadable but with a surname's letters,
 * or read a letter off one and not capitalised; the name starts with
 * that surname, to be checked. A word dropped right before a name makes
 * the name doubtful, even when its first word spells a surname ("Đăng",
 * a middle name, is Đặng's letters). */
static void signer_surname_outside_run(void **st)
{
    static const struct {
        const char *read, *unreadable, *want;
        bool flagged;
    } cases[] = {
        {"Hũỳnh Anh Hải", "Hũỳnh", "Huỳnh Anh Hải", true},
        {"luỳnh Anh Hải", NULL, "Huỳnh Anh Hải", true},
        {"TrẦa Văn Hòa", NULL, "Trần Văn Hòa", true},
        {"HuỳnKÍ Đăng Phương", "HuỳnKÍ", "Đặng Phương", true},
        {"~ Nguyễn Văn An", NULL, "Nguyễn Văn An", false},
        {"luỳnh Trần Văn An", NULL, "Trần Văn An", true},
        /* the ring through the "N", read as a stroke of punctuation */
        {"T;guyễn Thu Việt", NULL, "Nguyễn Thu Việt", true},
        {"Tr\"ần Thu Việt", "Tr\"ần", "Trần Thu Việt", true},
        /* two words glued where the ring took the space between them */
        {"Huỳnh KimNam", "Huỳnh", "Huỳnh Kim Nam", true},
        {"Huỳnh KimNam", NULL, "Huỳnh Kim Nam", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", cases[i].read);
        if (cases[i].unreadable)
            bld_set_word(&r->page[0], cases[i].unreadable, 0, 0.2f, 0.0f);
        extract(r);
        assert_field(r, META_SIGNER, cases[i].want);
        assert_int_equal(r->m.review[META_SIGNER], cases[i].flagged);
        free_run(r);
    }
}

/* The seal lies over part of the block: a black word read well is partly
 * red and still part of the block; the seal's own letters (red, read
 * poorly) are not. */
static void signer_words_under_seal(void **st)
{
    run *r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Đinh Quốc Bình");
    bld_set_word(&r->page[0], "KT.", 2400, 0.93f, 0.45f);
    bld_set_word(&r->page[0], "PHÓ", 2400, 0.93f, 0.41f);
    bld_word_at(&r->page[0], "NH", 2150, 2560, 60, 44, 0.5f, 0.9f); /* seal letters */
    extract(r);
    assert_field(r, META_SIGNER_PREFIX, "KT. GIÁM ĐỐC");
    assert_field(r, META_SIGNER_POSITION, "PHÓ GIÁM ĐỐC");
    free_run(r);
}

/* On a photocopy the seal's letters are as black as the print: one
 * read in small letters just before the position ("số GIÁM ĐỐC") is not
 * part of it, and the position is still found, as printed. */
static void signer_seal_letters_before_position(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/BC-UBND", DATE_QNG);
    bld_signer(&r->page[0], NULL, "GIÁM ĐỐC", "Lương Thanh Vinh");
    int x0 = 1750 - bld_text_w("GIÁM ĐỐC") / 2;
    bld_word_at(&r->page[0], "số", x0 - 120, 2500, 70, WORD_H, 0.5f, 0);
    extract(r);
    assert_field(r, META_SIGNER, "Lương Thanh Vinh");
    assert_field(r, META_SIGNER_POSITION, "GIÁM ĐỐC");
    free_run(r);
}

/* A position whose first words were unreadable (diacritics read apart,
 * the seal): completed from the titles by its word count, to be checked;
 * a misread title is repaired against them. */
static void signer_position_repaired(void **st)
{
    run *r = signer_doc("TM. ỦY BAN NHÂN DÂN", "PHUN DNU TỊCH", "Lý Đăng Hải");
    bld_set_word(&r->page[0], "PHUN", 2400, 0.13f, 0.2f);
    bld_set_word(&r->page[0], "DNU", 2400, 0.13f, 0.2f);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "PHÓ CHỦ TỊCH");
    assert_true(flagged(r, META_SIGNER_POSITION));
    free_run(r);

    r = signer_doc("TM. ỦY BAN NHÂN DÂN", "Á,HỤ TỊCH", "Lý Đăng Hải");
    bld_set_word(&r->page[0], "Á,HỤ", 2400, 0.0f, 0.2f);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "CHỦ TỊCH");
    free_run(r);

    expect_signer("TL. CHÁNH VĂN PHÒNG", "CHÀANH VĂN KHONG", "Lý Đăng Hải",
                  META_SIGNER_POSITION, "CHÁNH VĂN PHÒNG", CHECK);
}

/* A prefix line: its label read poorly, its head misread or unreadable. */
static void signer_prefix_repaired(void **st)
{
    expect_signer("KT. GLAM ĐỌC", "PHÓ GIÁM ĐỐC", "Đinh Quốc Bình", META_SIGNER_PREFIX,
                  "KT. GIÁM ĐỐC", CHECK);

    run *r = signer_doc("TL. GAM ĐỒC", "CHÁNH VĂN PHÒNG", "Bùi Kim Hiếu");
    bld_set_word(&r->page[0], "TL.", 2400, 0.37f, 0);
    bld_set_word(&r->page[0], "GAM", 2400, 0.0f, 0);
    bld_set_word(&r->page[0], "ĐỒC", 2400, 0.0f, 0);
    extract(r);
    assert_field(r, META_SIGNER_PREFIX, "TL. GIÁM ĐỐC");
    assert_true(flagged(r, META_SIGNER_PREFIX));
    assert_field(r, META_SIGNER_POSITION, "CHÁNH VĂN PHÒNG");
    free_run(r);

    /* "Nơi nhận" misread: the row with the prefix far right of it is as
     * wide as a body line, but no body line */
    r = state_doc("Số: 09/TTr-UBND", DATE_QNG, "TỜ TRÌNH");
    ocr_page_text_free(&r->page[0]);
    bld_page(&r->page[0]);
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    bld_body(&r->page[0], 700, 8, NULL);
    bld_signer_label(&r->page[0], "Mại nhận:", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lý Đăng Hải");
    bld_set_word(&r->page[0], "TM.", 2400, 0.24f, 0);
    extract(r);
    assert_field(r, META_SIGNER_PREFIX, "TM. ỦY BAN NHÂN DÂN");
    assert_field(r, META_SIGNER_POSITION, "CHỦ TỊCH");
    free_run(r);
}

/* No prefix line read: sure only when the block was read well and its
 * position calls for none. A deputy signs KT.; a unit's head inside the
 * body (CHÁNH VĂN PHÒNG of a province's committee) signs TL., but the
 * head of the office that issues it signs in his own name. */
static void signer_prefix_absent(void **st)
{
    expect_signer(NULL, "GIÁM ĐỐC", "Đinh Quốc Bình", META_SIGNER_PREFIX, NULL, SURE);
    expect_signer(NULL, "PHÓ GIÁM ĐỐC", "Đinh Quốc Bình", META_SIGNER_PREFIX, NULL, CHECK);
    expect_signer(NULL, "CHÁNH VĂN PHÒNG", "Đinh Quốc Bình", META_SIGNER_PREFIX, NULL, CHECK);

    const char *office[] = {"UBND TỈNH QUẢNG NGÃI", "VĂN PHÒNG", NULL};
    run *r = new_run();
    bld_state_header(&r->page[0], office, "Số: 09/VP-TH", DATE_QNG);
    bld_signer(&r->page[0], NULL, "CHÁNH VĂN PHÒNG", "Đinh Quốc Bình");
    extract(r);
    assert_false(r->m.review[META_SIGNER_PREFIX]);
    free_run(r);

    /* the name under the seal, read poorly: the prefix may be lost too */
    r = signer_doc(NULL, "GIÁM ĐỐC", "Đinh Quốc Bình");
    bld_set_word(&r->page[0], "Đinh", 2800, 0.5f, 0);
    bld_set_word(&r->page[0], "Quốc", 2800, 0.5f, 0);
    extract(r);
    assert_true(flagged(r, META_SIGNER_PREFIX));
    free_run(r);
}

/* The label as the layout writes it: K/T in a Party document, KT. in a
 * State one, whatever the OCR made of the slash or the dot. */
static void signer_prefix_layout_form(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TỈNH ỦY NINH THUẬN", "BAN TỔ CHỨC", NULL};
    bld_party_header(&r->page[0], bodies, "Số 682-QĐ/BTCTU",
                     "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    bld_signer(&r->page[0], "KT TRƯỞNG BAN", "PHÓ TRƯỞNG BAN", "Lê Văn Hùng");
    extract(r);
    assert_field(r, META_FORMAT, "party");
    assert_field(r, META_SIGNER_PREFIX, "K/T TRƯỞNG BAN");
    free_run(r);

    expect_signer("TM ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Đinh Quốc Bình", META_SIGNER_PREFIX,
                  "TM. ỦY BAN NHÂN DÂN", ANY);
    /* the space after the label lost: "TM.ỦY", "K/TCHỦ NHIỆM" */
    expect_signer("TM.ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Đinh Quốc Bình", META_SIGNER_PREFIX,
                  "TM. ỦY BAN NHÂN DÂN", ANY);
    r = new_run();
    bld_party_header(&r->page[0], bodies, "Số 682-QĐ/BTCTU",
                     "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    bld_signer(&r->page[0], "K/TCHỦ NHIỆM", "PHÓ CHỦ NHIỆM", "Lê Văn Hùng");
    extract(r);
    assert_field(r, META_SIGNER_PREFIX, "K/T CHỦ NHIỆM");
    free_run(r);
}

/* A prefix whole on its line ends there: the two lines under it are the
 * position, read apart. */
static void signer_prefix_whole_line(void **st)
{
    run *r = signer_doc("KT. CHỦ TỊCH", "PHÓ CHỦ", "Kim Loan");
    bld_line_no++;
    bld_centred(&r->page[0], 1750, 2620, "TỊCH");
    extract(r);
    assert_field(r, META_SIGNER_PREFIX, "KT. CHỦ TỊCH");
    assert_field(r, META_SIGNER_POSITION, "PHÓ CHỦ TỊCH");
    free_run(r);
}

/* No Vietnamese word starts with F: in a name it is a T misread, to be
 * checked; "Ph" is a letter of its own. None starts "Xg": an N misread. */
static void signer_f_read_for_t(void **st)
{
    expect_signer("TM. BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Ngô Fấn Thắng", META_SIGNER,
                  "Ngô Tấn Thắng", CHECK);
    expect_signer("TM. BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Cầm Xgọc Long", META_SIGNER,
                  "Cầm Ngọc Long", CHECK);
    expect_signer("TM. BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Xguyễn Văn Xuân", META_SIGNER,
                  "Nguyễn Văn Xuân", CHECK);
    expect_signer("TM. BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Phạm Phú Thắng", META_SIGNER,
                  "Phạm Phú Thắng", SURE);
}

/* Removes the words of the row at y (right column): a line the OCR lost. */
static void drop_row(ocr_page_text *pt, int y)
{
    for (size_t i = pt->nwords; i-- > 0;)
        if (pt->words[i].box.y0 == y && pt->words[i].box.x0 > PAGE_W / 2)
            ocr_page_remove_word(pt, i);
}

/* A block whose position line was lost (under the seal, or taken with the
 * signature): the name and prefix are still the signer's; a KT. prefix
 * tells the deputy's title, to be checked, and any other leaves it empty. */
static void signer_position_lost(void **st)
{
    run *r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Đinh Quốc Bình");
    drop_row(&r->page[0], 2560);
    extract(r);
    assert_field(r, META_SIGNER, "Đinh Quốc Bình");
    assert_false(flagged(r, META_SIGNER));
    assert_field(r, META_SIGNER_PREFIX, "KT. GIÁM ĐỐC");
    assert_field(r, META_SIGNER_POSITION, "PHÓ GIÁM ĐỐC");
    assert_true(flagged(r, META_SIGNER_POSITION));
    free_run(r);

    r = signer_doc("KT. BỘ TRƯỞNG", "THỨ TRƯỞNG", "Lê Thu Long");
    drop_row(&r->page[0], 2560);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "THỨ TRƯỞNG");
    assert_true(flagged(r, META_SIGNER_POSITION));
    free_run(r);

    r = signer_doc("TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "Lò Kim Loan");
    drop_row(&r->page[0], 2560);
    extract(r);
    assert_field(r, META_SIGNER, "Lò Kim Loan");
    assert_field(r, META_SIGNER_PREFIX, "TL. GIÁM ĐỐC");
    assert_field(r, META_SIGNER_POSITION, NULL);
    assert_true(r->m.review[META_SIGNER_POSITION]);
    free_run(r);
}

/* The position is the line under the prefix: an upper line further down
 * (the signature read as letters) or read as noise right under it is not
 * part of it. */
static void signer_position_not_scribble(void **st)
{
    run *r = signer_doc("TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "Vũ Thanh Nga");
    bld_line_no++;
    bld_word_at(&r->page[0], "AI", 1700, 2625, 50, WORD_H, 0.5f, 0);
    bld_word_at(&r->page[0], "NÀ", 1770, 2625, 60, WORD_H, 0.5f, 0);
    bld_word_at(&r->page[0], "Ầ", 1850, 2625, 30, WORD_H, 0.1f, 0);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "CHÁNH VĂN PHÒNG");
    assert_false(flagged(r, META_SIGNER_POSITION));
    free_run(r);

    r = signer_doc("TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "Vũ Thanh Nga");
    bld_line_no++;
    bld_word_at(&r->page[0], "MNƯ", 1650, 2760, 120, WORD_H, 0.6f, 0);
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "CHÁNH VĂN PHÒNG");
    free_run(r);
}

/* A position that is no title we know is most often one that lost a word
 * ("CHÁNH PHÒNG"): the title it is clearly nearest to, to be checked. */
static void signer_position_unknown_flagged(void **st)
{
    expect_signer("TL. GIÁM ĐỐC", "CHÁNH PHÒNG", "Huỳnh Thu Long", META_SIGNER_POSITION,
                  "CHÁNH VĂN PHÒNG", CHECK);
}

/* Under KT. the position is the deputy's: one misread a letter or two
 * away from it takes its spelling ("THƯ TRƯ ỞN" is THỨ TRƯỞNG, which
 * THỦ TRƯỞNG is as near to), to be checked; one read exactly is sure. */
static void signer_deputy_misread(void **st)
{
    expect_signer("KT. BỘ TRƯỞNG", "THƯ TRƯ ỞN", "Lê Thu Long", META_SIGNER_POSITION,
                  "THỨ TRƯỞNG", CHECK);
    expect_signer("KT. BỘ TRƯỞNG", "THỨ TRƯỞNG", "Lê Thu Long", META_SIGNER_POSITION,
                  "THỨ TRƯỞNG", SURE);
}

/* "FT CHỦ NHIỆM" over "CHỦ NHIỆM": a KT. prefix whose label was misread
 * over a position that lost its "PHÓ" (the seal over both); only a deputy
 * signs under the head's own title. Both restored, to be checked. A
 * collective's TM. line over the head's title is no such case. */
static void signer_deputy_label_lost(void **st)
{
    run *r = signer_doc("FT CHỦ NHIỆM", "CHỦ NHIỆM", "Ngô Tấn Hằng");
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "PHÓ CHỦ NHIỆM");
    assert_field(r, META_SIGNER_PREFIX, "KT. CHỦ NHIỆM");
    assert_true(flagged(r, META_SIGNER_POSITION));
    assert_true(flagged(r, META_SIGNER_PREFIX));
    free_run(r);

    r = signer_doc("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Ngô Tấn Hằng");
    extract(r);
    assert_field(r, META_SIGNER_POSITION, "CHỦ TỊCH");
    assert_field(r, META_SIGNER_PREFIX, "TM. ỦY BAN NHÂN DÂN");
    assert_false(flagged(r, META_SIGNER_POSITION));
    free_run(r);
}

/* A position the seal crossed, no title even after the repairs: the
 * title its letters are nearest to (clearly), or whose end they are;
 * under KT. the deputy's title only. A guess from what is left, checked.
 * A line far from every title is left as read. */
static void signer_position_loose(void **st)
{
    static const struct {
        const char *prefix, *read, *want;
    } cases[] = {
        {"TL. GIÁM ĐỐC", "¬HHẾ VĂN PHÒNG", "CHÁNH VĂN PHÒNG"},
        {"KT. CHÁNH VĂN PHÒNG", "1d CHNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG"},
        {"KT. TRƯỞNG BAN", "3% ƯƠNG BẠN", "PHÓ TRƯỞNG BAN"},
        {"TM. ỦY BAN NHÂN DÂN", "KHOA HỌC", "KHOA HỌC"},
        /* as near to TRƯỞNG BAN as to VỤ TRƯỞNG, give or take a letter */
        {"TM. ỦY BAN NHÂN DÂN", "VỤ TRƯỞNG BAN", "VỤ TRƯỞNG BAN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_signer(cases[i].prefix, cases[i].read, "Đoàn Đức Minh", META_SIGNER_POSITION,
                      cases[i].want, CHECK);
}

/* The name as the OCR may give it: a quote stuck to a word, its last word
 * on a line of its own beside it, or a damaged word before it (then the
 * run found may lack the real first word: checked). */
static void signer_name_as_read(void **st)
{
    expect_signer("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lương 'Thị Phúc", META_SIGNER,
                  "Lương Thị Phúc", ANY);
    expect_signer("T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "“Vũ Thu Phương", META_SIGNER,
                  "Vũ Thu Phương", ANY);

    run *r = signer_doc("KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN", "Trần Đức");
    bld_line_no++;
    bld_word_at(&r->page[0], "Thắng", 1900, 2925, 120, 30, 0.6f, 0);
    extract(r);
    assert_field(r, META_SIGNER, "Trần Đức Thắng");
    free_run(r);

    expect_signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "+ống Đăng Long", META_SIGNER, "Đặng Long",
                  CHECK);
}

/* The first word of `pt` reading `text` at or below `from_y`. */
static ocr_word *word_reading(ocr_page_text *pt, const char *text, int from_y)
{
    for (size_t i = 0; i < pt->nwords; i++)
        if (strcmp(pt->words[i].text, text) == 0 && pt->words[i].box.y0 >= from_y)
            return &pt->words[i];
    fail_msg("no word \"%s\"", text);
    return NULL;
}

/* A word of the name lost under the seal's ring leaves a space wider
 * than the name is tall: the name is to be checked. A word the layout
 * set on a row of its own, inside that space (its box stretched by the
 * ring), is put back; a seal's word in small letters there is not. */
static void signer_name_gap(void **st)
{
    expect_word_lost("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Phạm Kim Hương", "Kim", META_SIGNER,
                     "Phạm Hương");

    run *r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Mai Văn Loan");
    ocr_word *w = word_reading(&r->page[0], "Văn", 2400);
    w->box.y0 -= WORD_H;
    w->box.y1 -= WORD_H;
    w->line = ++bld_line_no;
    extract(r);
    assert_field(r, META_SIGNER, "Mai Văn Loan");
    assert_false(r->m.review[META_SIGNER]);
    free_run(r);

    r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Phạm Kim Hương");
    w = word_reading(&r->page[0], "Kim", 2400);
    free(w->text);
    w->text = strdup("và");
    w->box.y0 -= WORD_H;
    w->box.y1 -= WORD_H;
    w->line = ++bld_line_no;
    extract(r);
    assert_field(r, META_SIGNER, "Phạm Hương");
    assert_true(flagged(r, META_SIGNER));
    free_run(r);
}

/* The band under a prefix is read again when no title was read there,
 * and only then. */
static void position_gap_found(void **st)
{
    run *r = signer_doc("TL. GIÁM ĐỐC", "ST HÀ", "Lò Kim Loan");
    ocr_box gap;
    assert_true(extract_position_gap(&r->page[0], &gap));
    assert_true(gap.y0 >= 2544 && gap.y0 <= 2560);
    assert_true(gap.y1 > 2560 + WORD_H && gap.y1 <= 2900);
    assert_true(gap.x0 < 1750 - bld_text_w("CHÁNH VĂN PHÒNG") / 2);
    assert_true(gap.x0 > 350 + bld_text_w("- Như Điều 3;"));
    free_run(r);

    r = signer_doc("TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG", "Lò Kim Loan");
    assert_false(extract_position_gap(&r->page[0], &gap));
    free_run(r);

    r = signer_doc(NULL, "GIÁM ĐỐC", "Lò Kim Loan");
    assert_false(extract_position_gap(&r->page[0], &gap));
    free_run(r);
}

/* A name with no title above it (the OCR made a picture of the title,
 * the seal and the signature): the band above it is read again, as wide
 * as the longest title about the name's centre; not when a title was
 * read. A title misread ("Q®IÁM ĐỐC", the ring through its "G") with no
 * name under it has the band under it read again. */
static void title_gap_found(void **st)
{
    run *r = signer_doc(NULL, "GIÁM ĐỐC", "Lò Ngọc Việt");
    drop_row(&r->page[0], 2500);
    ocr_box gap;
    assert_true(extract_title_gap(&r->page[0], &gap));
    assert_true(gap.y1 <= 2900 && gap.y1 > 2900 - WORD_H);
    assert_true(gap.y0 < 2500 - WORD_H);
    assert_true(gap.x0 < 1750 - bld_text_w("PHÓ CHÁNH VĂN PHÒNG") / 2);
    assert_true(gap.x1 >= 1750 + bld_text_w("PHÓ CHÁNH VĂN PHÒNG") / 2);
    free_run(r);

    r = signer_doc(NULL, "GIÁM ĐỐC", "Lò Ngọc Việt");
    assert_false(extract_title_gap(&r->page[0], &gap));
    free_run(r);

    r = signer_doc(NULL, "Q®IÁM ĐỐC", "Lò Đức Hiếu");
    drop_row(&r->page[0], 2900);
    assert_true(extract_signer_gap(&r->page[0], &gap));
    assert_true(gap.y0 >= 2500 + WORD_H && gap.y1 > 2900 + WORD_H);
    free_run(r);
}

/* The name's line is read again when its first word is no surname or a
 * damaged word stands before it, under a title however poorly read; a
 * name read whole, or a line with no title above, is not. */
static void name_doubt_found(void **st)
{
    run *r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Quốc Dũng");
    ocr_box band;
    assert_true(extract_name_doubt(&r->page[0], &band));
    assert_true(extract_name_headless(&r->page[0], &band));
    assert_true(band.y0 < 2900 && band.y1 > 2900 + WORD_H);
    assert_true(band.y1 < 2900 + 2 * WORD_H);
    assert_true(band.x0 < 1750 - bld_text_w("Hà Quốc Dũng") / 2);
    free_run(r);

    r = signer_doc("KT. GIÁM ĐỐC", "PHỚHỦ NHIỆẸM", "+ống Đăng Long");
    assert_true(extract_name_doubt(&r->page[0], &band));
    free_run(r);

    r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Hà Quốc Dũng");
    assert_false(extract_name_doubt(&r->page[0], &band));
    assert_false(extract_name_unsure(&r->page[0], &band));
    assert_false(extract_name_headless(&r->page[0], &band));
    /* a damaged word before a name that starts with its surname: to be
     * read again, but its surname is there */
    bld_line_no--;
    bld_word_at(&r->page[0], "xJ", 1750 - bld_text_w("Hà Quốc Dũng") / 2 - 120, 2900, 60, WORD_H,
                0.2f, 0);
    assert_true(extract_name_doubt(&r->page[0], &band));
    assert_false(extract_name_headless(&r->page[0], &band));
    free_run(r);

    /* the surname read only as the unreadable word before the run: the
     * first reading is read again, a second one is taken */
    r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Huỳnh KimNam");
    bld_set_word(&r->page[0], "Huỳnh", 0, 0.2f, 0.0f);
    assert_true(extract_name_doubt(&r->page[0], &band));
    assert_false(extract_name_headless(&r->page[0], &band));
    assert_false(extract_name_unsure(&r->page[0], &band));
    free_run(r);

    /* a second reading that glued the name into one word has none: it is
     * no better than a doubtful one */
    r = signer_doc("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "MaiKimPhương");
    assert_false(extract_name_doubt(&r->page[0], &band));
    assert_true(extract_name_unsure(&r->page[0], &band));
    free_run(r);

    r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 09/TTr-UBND", DATE_QNG);
    bld_body(&r->page[0], 2300, 4, NULL);
    bld_line_no++;
    bld_text(&r->page[0], 1500, 2600, "đơn vị thực hiện./.");
    bld_line_no++;
    bld_centred(&r->page[0], 1750, 2900, "Quốc Dũng");
    assert_false(extract_name_doubt(&r->page[0], &band));
    free_run(r);
}

/* ---- number and notation repairs ---- */

/* "21UBND-NC": the separator after the number was lost; the number and
 * the notation are read, to be checked. */
static void number_glued_to_notation(void **st)
{
    run *r = state_doc("Số: 21UBND-NC", DATE_QNG, NULL);
    extract(r);
    assert_true(r->m.has_number);
    assert_int_equal(r->m.number, 21);
    assert_field(r, META_NOTATION, "UBND-NC");
    assert_field(r, META_NUMBER_NOTATION, "21/UBND-NC");
    assert_true(flagged(r, META_NUMBER));
    free_run(r);

    r = new_run();
    const char *bodies[] = {"TỈNH ỦY NINH THUẬN", "*", NULL};
    bld_party_header(&r->page[0], bodies, "Số 682QĐ/TU", "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_int_equal(r->m.number, 682);
    assert_field(r, META_NUMBER_NOTATION, "682-QĐ/TU");
    assert_true(flagged(r, META_NUMBER));
    free_run(r);

    /* the space after "Số" read as a dash: the label is still the label,
     * and the line as damaged as one glued */
    r = new_run();
    bld_party_header(&r->page[0], bodies, "Số-31-QĐ/TU", "Ninh Thuận, ngày 15 tháng 01 năm 2022");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_int_equal(r->m.number, 31);
    assert_field(r, META_NUMBER_NOTATION, "31-QĐ/TU");
    assert_true(flagged(r, META_NUMBER));
    assert_true(flagged(r, META_NOTATION));
    free_run(r);
}

/* A council's resolution carries its year in the notation; the date line
 * must say the same year. Read alike, neither is doubted for it; apart,
 * one of them was misread and both are to be checked. */
static void notation_year_against_date(void **st)
{
    run *r = state_doc("Số: 22/2025/NQ-HĐND", DATE_QNG, "NGHỊ QUYẾT");
    extract(r);
    assert_int_equal(r->m.number, 22);
    assert_field(r, META_NOTATION, "2025/NQ-HĐND");
    assert_field(r, META_DATE, "2025-02-05");
    assert_false(r->m.review[META_DATE]);
    assert_false(r->m.review[META_NOTATION]);
    free_run(r);

    r = state_doc("Số: 22/2025/NQ-HĐND", "Quảng Ngãi, ngày 05 tháng 02 năm 2005", "NGHỊ QUYẾT");
    extract(r);
    assert_field(r, META_NOTATION, "2025/NQ-HĐND");
    assert_field(r, META_DATE, "2005-02-05");
    assert_true(flagged(r, META_DATE));
    assert_true(flagged(r, META_NOTATION));
    assert_true(flagged(r, META_NUMBER_NOTATION));
    free_run(r);
}

/* A Party document of `bodies` whose number row beside `date` reads
 * `row` from x 120: its number is `number`, read as `nn` after its
 * label, so not to be checked. */
static void expect_party_number(const char *const *bodies, const char *date, const char *row,
                                const char *title, long number, const char *nn)
{
    run *r = new_run();
    bld_party_header(&r->page[0], bodies, NULL, date);
    bld_text(&r->page[0], 120, 420, row);
    bld_title_subject(&r->page[0], title, NULL);
    extract(r);
    assert_true(r->m.has_number);
    assert_int_equal(r->m.number, number);
    assert_field(r, META_NUMBER_NOTATION, nn);
    assert_false(flagged(r, META_NUMBER)); /* read after its label */
    free_run(r);
}

/* A photocopy's ĐẾN stamp over the header's left edge, its last field
 * ("Số và ký hiệu HS:", printed as black as the letter) read on the
 * number's own row: that "Số" is the stamp's, and the letter's follows
 * its words, however many the field was read as ("[t*» *+v¿ 1ý hiệu êu"
 * on a bitonal scan). */
static void number_after_stamp_field(void **st)
{
    const char *bodies[] = {"TỈNH ỦY GIA LAI", "BAN TỔ CHỨC", "*", NULL};
    expect_party_number(bodies, "Gia Lai, ngày 21 tháng 5 năm 2026",
                        "Số và -jeun= — Số 507-CT/BTCTU", "CHỈ THỊ", 507, "507-CT/BTCTU");
    const char *lai_chau[] = {"TỈNH ỦY LAI CHÂU", "BAN NỘI CHÍNH", NULL};
    expect_party_number(lai_chau, "Lai Châu, ngày 21 tháng 3 năm 2022",
                        "[t*» *+v¿ 1ý hiệu êu Số 205-QĐ/BNCTU", "QUYẾT ĐỊNH", 205,
                        "205-QĐ/BNCTU");
}

/* Print sets the number and its notation as one token: a number apart
 * from the separator was written by hand into the form, however narrow
 * the gap (a clean-looking "247" for a handwritten 241 must be checked). */
static void number_apart_from_separator(void **st)
{
    run *r = state_doc("Số: 247 /TB-UBND", DATE_QNG, "THÔNG BÁO");
    extract(r);
    assert_int_equal(r->m.number, 247);
    assert_field(r, META_NOTATION, "TB-UBND");
    assert_true(flagged(r, META_NUMBER));
    free_run(r);

    r = state_doc("Số: 247/TB-UBND", DATE_QNG, "THÔNG BÁO");
    extract(r);
    assert_false(r->m.review[META_NUMBER]);
    free_run(r);
}

/* A State document numbered `so`, dated `date`, titled `title`: its
 * notation reads `want` (and the number's digits with it), flagged or
 * not as `flag` says (-1: either). */
static void expect_notation(const char *so, const char *date, const char *title, const char *want,
                            int flag)
{
    run *r = state_doc(so, date, title);
    extract(r);
    assert_field(r, META_NOTATION, want);
    char nn[64];
    const char *digits = so + strcspn(so, " "); /* after the label */
    digits += strcspn(digits, "0123456789");
    snprintf(nn, sizeof nn, "%.*s/%s", (int)strspn(digits, "0123456789"), digits, want);
    assert_field(r, META_NUMBER_NOTATION, nn);
    if (flag >= 0)
        assert_int_equal(flagged(r, META_NOTATION), flag);
    free_run(r);
}

/* A State document whose number row `so` holds no "Số" label: the
 * number beside the date line may still be taken, never as sure. */
static void expect_unlabelled_number(const char *so, const char *title)
{
    run *r = state_doc(so, DATE_QNG, title);
    extract(r);
    assert_true(flagged(r, META_NUMBER));
    assert_true(r->m.confidence[META_NUMBER] <= 0.4f);
    free_run(r);
}

/* A speck or quote before the label and "Sđ" for "Số" (the ố read as
 * đ) still start the number row; "Sđ" with a space after it is no label,
 * and the number after it is taken only as unsure. */
static void number_label_noise(void **st)
{
    run *r = state_doc("“Sđ:694/BC-UBND", DATE_QNG, "BÁO CÁO");
    extract(r);
    assert_int_equal(r->m.number, 694);
    assert_field(r, META_NOTATION, "BC-UBND");
    free_run(r);

    r = new_run();
    const char *bodies[] = {"ĐẢNG BỘ KHỐI", "CÁC CƠ QUAN TỈNH", "*", NULL};
    bld_party_header(&r->page[0], bodies, "~Số 555-CV/ĐUK", "Huế, ngày 6 tháng 8 năm 2018");
    bld_body(&r->page[0], 560, 4, NULL);
    extract(r);
    assert_int_equal(r->m.number, 555);
    assert_field(r, META_NOTATION, "CV/ĐUK");
    free_run(r);

    expect_unlabelled_number("Sđ 694/BC-UBND", "BÁO CÁO");
    /* the S read as 8, with the label's colon; not a bare "80" */
    expect_notation("8ô: 150/BGDĐT-QLĐT", DATE_QNG, "CÔNG VĂN", "BGDĐT-QLĐT", -1);
    expect_unlabelled_number("80 150/BGDĐT-QLĐT", "CÔNG VĂN");
    /* a Party label without its colon, the 8's o marked */
    r = new_run();
    bld_party_header(&r->page[0], bodies, "8õ 99-BC/BNCTU", "Trà Vinh, ngày 23 tháng 02 năm 2022");
    bld_body(&r->page[0], 560, 4, NULL);
    extract(r);
    assert_int_equal(r->m.number, 99);
    assert_field(r, META_NOTATION, "BC/BNCTU");
    free_run(r);

    /* the dash read as a plus (with the digit it touched, maybe): the
     * separator, the number to be checked */
    r = new_run();
    bodies[0] = "TỈNH ỦY TÂY NINH";
    bodies[1] = "BAN NỘI CHÍNH";
    bld_party_header(&r->page[0], bodies, "Số 71+QĐ/BNCTU", "Tây Ninh, ngày 6 tháng 8 năm 2018");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_int_equal(r->m.number, 71);
    assert_true(flagged(r, META_NUMBER));
    assert_field(r, META_NOTATION, "QĐ/BNCTU");
    free_run(r);

    /* the colon read as another sign, glued to the number */
    r = state_doc("Số¿671/QyĐ-SCT", DATE_QNG, "QUY ĐỊNH");
    extract(r);
    assert_int_equal(r->m.number, 671);
    assert_field(r, META_NOTATION, "QyĐ-SCT");
    free_run(r);
}

/* "Số:  [727]  /KH-SKHĐT": writing wider than its blank pushed the
 * printed notation past the column split, into the date line's row part;
 * it is still the number's, and the blank before it is named for the
 * pen's reading. */
static void notation_past_split(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, NULL);
    bld_text(&r->page[0], 480, 420, "Số:");
    bld_text(&r->page[0], 1150, 420, "/KH-SKHĐT Hậu Giang, ngày 21 tháng 11 năm 2024");
    bld_title_subject(&r->page[0], "KẾ HOẠCH", NULL);
    extract(r);
    assert_field(r, META_NOTATION, "KH-SKHĐT");
    assert_field(r, META_PLACE, "Hậu Giang");
    assert_field(r, META_DATE, "2024-11-21");
    assert_false(r->m.has_number);
    assert_true(flagged(r, META_NUMBER));
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_int_equal(s[0].kind, HAND_NUMBER);
    assert_true(s[0].box.x0 > 480 && s[0].box.x1 == 1150);
    free_run(r);
}

/* Writing taller than print put "Số: 1196" in a row of its own, the
 * printed "/QĐ-UBND" and the date line in the next: one number. */
static void notation_in_next_row(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, NULL);
    bld_word_at(&r->page[0], "Số:", 480, 410, 78, 56, 0.95f, 0);
    bld_word_at(&r->page[0], "1196", 570, 365, 230, 90, 0.9f, 0);
    bld_text(&r->page[0], 820, 430, "/QĐ-UBND");
    bld_text(&r->page[0], 1230, 430, "Hưng Yên, ngày 15 tháng 02 năm 2020");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_int_equal(r->m.number, 1196);
    assert_true(flagged(r, META_NUMBER));
    assert_field(r, META_NOTATION, "QĐ-UBND");
    assert_field(r, META_NUMBER_NOTATION, "1196/QĐ-UBND");
    free_run(r);
}

/* The label and number lost (under the pen, a copy's smear): a notation
 * standing alone in the left column of the date line's row is the
 * document's, to be checked, and the blank before it is named for the
 * pen's reading. The same word on a row without the date is not. */
static void notation_without_label(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, DATE_QNG);
    bld_text(&r->page[0], 857, 420, "/QĐ-UBND");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_field(r, META_NOTATION, "QĐ-UBND");
    assert_true(flagged(r, META_NOTATION));
    assert_false(r->m.has_number);
    assert_true(flagged(r, META_NUMBER));
    assert_field(r, META_DATE, "2025-02-05");
    hand_slot s[HAND_MAX_SLOTS];
    assert_int_equal(extract_hand_slots(&r->page[0], s), 1);
    assert_int_equal(s[0].kind, HAND_NUMBER);
    assert_int_equal(s[0].box.x1, 857);
    free_run(r);

    /* the pen's number read back into the blank */
    r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, DATE_QNG);
    bld_word_at(&r->page[0], "2352", 600, 400, 200, 70, 0.9f, 0);
    bld_text(&r->page[0], 857, 420, "/QĐ-UBND");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_int_equal(r->m.number, 2352);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);

    r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, NULL, NULL);
    bld_text(&r->page[0], 857, 420, "/QĐ-UBND");
    bld_text(&r->page[0], 1230, 420, "Quảng Ngãi, tháng 02 năm 2025");
    bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", NULL);
    extract(r);
    assert_null(S(r, META_NOTATION));
    free_run(r);
}

/* The inner separator lost between two words ("BC BNCTU", "QĐ UBND")
 * is put back where the words meet, to be checked. */
static void notation_inner_separator_lost(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TỈNH ỦY TRÀ VINH", "BAN NỘI CHÍNH", "*", NULL};
    bld_party_header(&r->page[0], bodies, "Số 99-BC BNCTU", "Trà Vinh, ngày 23 tháng 02 năm 2022");
    bld_body(&r->page[0], 560, 4, NULL);
    extract(r);
    assert_field(r, META_NOTATION, "BC/BNCTU");
    free_run(r);

    r = state_doc("Số: 12/QĐ UBND", DATE_QNG, NULL);
    extract(r);
    assert_field(r, META_NOTATION, "QĐ-UBND");
    assert_true(flagged(r, META_NOTATION));
    free_run(r);
}

/* A notation without its format's inner separator lost one ("TTrBDVTU"
 * for "TTr/BDVTU"): read, but to be checked. A State one whose two codes
 * are both known ("CTUBND": CT, then the issuer's UBND) is split. */
static void notation_without_separator(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TỈNH ỦY LONG AN", "BAN DÂN VẬN", NULL};
    bld_party_header(&r->page[0], bodies, "Số 605-TTrBDVTU", "Long An, ngày 15 tháng 01 năm 2022");
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    extract(r);
    assert_int_equal(r->m.number, 605);
    assert_true(flagged(r, META_NOTATION));
    free_run(r);

    /* State: a type code, then the issuer's whole code, their "-" lost:
     * split there, to be checked; not a run of letters that is neither */
    expect_notation("Số: 954/CTUBND", DATE_QNG, "CHỈ THỊ", "CT-UBND", true);
    expect_notation("Số: 954/CTXYZ", DATE_QNG, "CHỈ THỊ", "CTXYZ", true);
}

/* A word of prose run into the notation (two lower-case letters in a
 * row, or one with a mark: the place, the clerk's pen) and a dangling
 * separator are cut off, to be checked; a code's one lower-case letter
 * (TTr, TTg) is its own. */
static void notation_glued_prose_cut(void **st)
{
    expect_notation("Số: 1484/TB-SCTBà", DATE_QNG, "THÔNG BÁO", "TB-SCT", true);
    expect_notation("Số: 190/2021/NQ-HĐNDTiền", DATE_QNG, "NGHỊ QUYẾT", "2021/NQ-HĐND", true);
    expect_notation("Số: 81/TTr-UBND-", DATE_QNG, "TỜ TRÌNH", "TTr-UBND", true);
    expect_notation("Số: 12/2020/QĐ-TTg", "Hà Nội, ngày 05 tháng 02 năm 2020", "QUYẾT ĐỊNH",
                    "2020/QĐ-TTg", false);
    (void)st;
}

/* A type code that is no abbreviation at all ("TI" for TTr) under a
 * clear title takes the title's code, to be checked. */
static void notation_unknown_code_from_title(void **st)
{
    run *r = state_doc("Số: 1574/TI-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_NOTATION, "TTr-UBND");
    assert_field(r, META_NUMBER_NOTATION, "1574/TTr-UBND");
    assert_true(flagged(r, META_NOTATION));
    assert_field(r, META_TYPE, "Tờ trình");
    free_run(r);
}

/* ---- clean print: right values are not sent to review ---- */

/* A State document with the number token as Tesseract scores it on clean
 * print: every glyph right, but "287/QĐ-SKHCN" is no dictionary word and
 * gets 0.43. `date_conf` is the confidence of the date line's words (the
 * print quality of the header). */
static run *clean_number_doc(const char *token, float token_conf, const char *title,
                             float date_conf)
{
    run *r = new_run();
    const char *bodies[] = {"UBND TỈNH THÁI NGUYÊN", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", NULL};
    bld_state_header(&r->page[0], bodies, NULL, NULL);
    bld_text(&r->page[0], 480, 420, "Số:");
    bld_word_at(&r->page[0], token, 480 + bld_word_w("Số:") + SPACE_W, 420, bld_word_w(token),
                WORD_H, token_conf, 0);
    bld_text_conf(&r->page[0], 1230, 420, "Thái Nguyên, ngày 06 tháng 01 năm 2020", date_conf);
    const char *subject[] = {"Về việc triển khai ứng dụng chữ ký số", NULL};
    int y = bld_title_subject(&r->page[0], title, subject);
    bld_body(&r->page[0], y, 6, NULL);
    bld_signer(&r->page[0], "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Hà Thị Thu Đông");
    return r;
}

static void number_clean_print_trusted(void **st)
{
    run *r = clean_number_doc("287/QĐ-SKHCN", 0.43f, "QUYẾT ĐỊNH", 0.96f);
    extract(r);
    assert_int_equal(r->m.number, 287);
    assert_field(r, META_NUMBER_NOTATION, "287/QĐ-SKHCN");
    assert_false(r->m.review[META_NUMBER]);
    assert_false(r->m.review[META_NOTATION]);
    assert_false(r->m.review[META_NUMBER_NOTATION]);
    free_run(r);

    /* Ð (eth) is the engine's look-alike of Đ: the code still agrees */
    r = clean_number_doc("379/QyÐ-STC", 0.74f, "QUY ĐỊNH", 0.96f);
    extract(r);
    assert_field(r, META_NOTATION, "QyĐ-STC");
    assert_false(r->m.review[META_NUMBER]);
    assert_false(r->m.review[META_NOTATION]);
    free_run(r);
}

/* The same low score is not rescued when anything disagrees. */
static void number_low_conf_needs_witnesses(void **st)
{
    /* a degraded page: the date line itself is read poorly */
    run *r = clean_number_doc("287/QĐ-SKHCN", 0.43f, "QUYẾT ĐỊNH", 0.7f);
    extract(r);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);
    /* the title names another type than the code */
    r = clean_number_doc("287/QĐ-SKHCN", 0.43f, "TỜ TRÌNH", 0.96f);
    extract(r);
    assert_true(flagged(r, META_NUMBER));
    assert_true(flagged(r, META_NOTATION));
    free_run(r);
    /* a lone digit lost its leading zero, or a digit was cut */
    r = clean_number_doc("7/QĐ-SKHCN", 0.43f, "QUYẾT ĐỊNH", 0.96f);
    extract(r);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);
    /* the notation is not of the standard's shape */
    r = clean_number_doc("287/QĐ-Skhcn", 0.43f, "QUYẾT ĐỊNH", 0.96f);
    extract(r);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);
    /* a token the engine could barely read */
    r = clean_number_doc("287/QĐ-SKHCN", 0.15f, "QUYẾT ĐỊNH", 0.96f);
    extract(r);
    assert_true(flagged(r, META_NUMBER));
    free_run(r);
}

/* The number and notation together are never surer than the notation:
 * "TI" under TỜ TRÌNH is a misread code (flagged), so is "1574/TI-UBND". */
static void number_notation_follows_parts(void **st)
{
    run *r = state_doc("Số: 1574/TI-UBND", DATE_QNG, "TỜ TRÌNH");
    extract(r);
    assert_true(flagged(r, META_NOTATION));
    assert_true(flagged(r, META_NUMBER_NOTATION));
    free_run(r);
}

/* A Party decision whose body cites "Điều lệ Đảng Cộng sản Việt Nam" high
 * on the page: the body's words are not the motto, the columns are split
 * by the real motto, and the number and date are read. */
static void party_body_citing_motto(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TỈNH ỦY BÌNH THUẬN", "*", NULL};
    bld_party_header(&r->page[0], bodies, "Số 70-QĐ/TU", "Bình Thuận, ngày 04 tháng 08 năm 2012");
    const char *subject[] = {"Về việc chuẩn y kết quả bầu cử", NULL};
    int y = bld_title_subject(&r->page[0], "QUYẾT ĐỊNH", subject);
    /* at the left margin, its "Đảng" lies left of the number's end */
    bld_line_no++;
    bld_text(&r->page[0], 350, y + 70, "Căn cứ Điều lệ Đảng Cộng sản Việt Nam;");
    bld_body(&r->page[0], y + 60, 4, NULL);
    bld_signer(&r->page[0], "T/M BAN THƯỜNG VỤ", "BÍ THƯ", "Nguyễn Mạnh Hùng");
    extract(r);
    assert_field(r, META_FORMAT, "party");
    assert_int_equal(r->m.number, 70);
    assert_field(r, META_NUMBER_NOTATION, "70-QĐ/TU");
    assert_field(r, META_DATE, "2012-08-04");
    assert_field(r, META_PLACE, "Bình Thuận");
    assert_field(r, META_ISSUER, "TỈNH ỦY BÌNH THUẬN");
    assert_false(r->m.review[META_NUMBER_NOTATION]);
    assert_false(r->m.review[META_DATE]);
    free_run(r);
}

/* A long place runs into a long notation with no gap: the notation ends
 * before the place's first word, the place and date are read. */
static void place_touching_notation(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"ĐẢNG BỘ THÀNH PHỐ HỒ CHÍ MINH", "ỦY BAN KIỂM TRA", NULL};
    bld_party_header(&r->page[0], bodies, NULL, NULL);
    int x = bld_text(&r->page[0], 480, 420, "Số 657-CV/UBKTTU");
    bld_text(&r->page[0], x, 420, "Thành phố Hồ Chí Minh, ngày 21 tháng 5 năm 2025");
    extract(r);
    assert_field(r, META_NOTATION, "CV/UBKTTU");
    assert_field(r, META_DATE, "2025-05-21");
    assert_field(r, META_PLACE, "Thành phố Hồ Chí Minh");
    free_run(r);
}

/* The place's first letter run into the notation and lost ("…KCNhành |
 * phố Hồ Chí Minh") leaves one name to mean: that name, to be checked;
 * "iên Giang" could be Kiên or Tiền Giang, and is left as read, unless
 * the issuer's header names the province it is the end of. */
static void place_first_letter_lost(void **st)
{
    static const char *const kien_giang[] = {"ỦY BAN NHÂN DÂN TỈNH KIÊN GIANG",
                                             "BAN QUẢN LÝ CÁC KHU CÔNG NGHIỆP", NULL};
    static const struct {
        const char *const *bodies;
        const char *so, *place, *want;
    } cases[] = {
        {UBND_QNG, "Số: 3161/TB-BQLKCNhành", "phố Hồ Chí Minh, ngày 12 tháng 10 năm 2023",
         "Thành phố Hồ Chí Minh"},
        {UBND_QNG, "Số: 32/BQLKCN-NŒiên", "Giang, ngày 6 tháng 4 năm 2023", "Giang"},
        {kien_giang, "Số: 32/BQLKCN-NŒiên", "Giang, ngày 6 tháng 4 năm 2023", "Kiên Giang"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        bld_state_header(&r->page[0], cases[i].bodies, NULL, NULL);
        /* the number ends at the columns' seam, the place starts past it */
        int w = bld_text_w(cases[i].so);
        bld_text(&r->page[0], 1290 - w, 420, cases[i].so);
        bld_text(&r->page[0], 1306, 420, cases[i].place);
        extract(r);
        assert_field(r, META_PLACE, cases[i].want);
        assert_true(flagged(r, META_PLACE));
        free_run(r);
    }
}

/* The ĐẾN stamp over the date line: words read together with a line of
 * the stamp come out far taller than the line, centred off it
 * ("Châu,", "4Uăm'2024" for "4 năm 2024"). They are still the line's
 * words: the place is whole, the date read from its digits, to be
 * checked. */
static void date_words_taken_tall(void **st)
{
    run *r = new_run();
    bld_state_header(&r->page[0], UBND_QNG, "Số: 12/TTr-UBND", NULL);
    static const struct {
        const char *text;
        int dy, h;
    } words[] = {{"Lai", 0, WORD_H},  {"Châu,", -50, 95}, {"ngày", 0, WORD_H},
                 {"03", 0, WORD_H},   {"tháng", 0, WORD_H}, {"4Uăm'2024", -45, 90}};
    int x = 1230;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        int w = bld_word_w(words[i].text);
        bld_word_at(&r->page[0], words[i].text, x, 420 + words[i].dy, w, words[i].h, 0.9f, 0);
        x += w + SPACE_W;
    }
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    extract(r);
    assert_field(r, META_PLACE, "Lai Châu");
    assert_field(r, META_DATE, "2024-04-03");
    assert_true(flagged(r, META_DATE));
    free_run(r);
}

/* The date line cut apart among the lines of a stamp written over its end
 * ("Quảng Ngãi, ngày t 404;Ä, nẤm 2020"): no date and no blank for the
 * pen, so its band is named for a reading of its own, from the place's
 * words (not the dash before them), as high as the line (not as a word
 * read together with the stamp's line). */
static void date_line_lost_named(void **st)
{
    run *r = state_doc("Số: 09/TTr-UBND", NULL, "TỜ TRÌNH");
    ocr_page_text *p = &r->page[0];
    bld_word_at(p, "-", 1200, 440, 14, 4, 0.5f, 0);
    int x = bld_text(p, 1230, 420, "Quảng");
    /* read together with a line of the stamp: far taller than the line */
    bld_word_at(p, "Ngãi,", x, 370, bld_word_w("Ngãi,"), 95, 0.9f, 0);
    bld_text(p, x + bld_word_w("Ngãi,") + SPACE_W, 420, "ngày");
    /* the stamp's lines read into the line's end: tall and low */
    bld_word_at(p, "t", 1700, 380, 30, 110, 0.3f, 0);
    bld_word_at(p, "404;Ä,", 1750, 395, 150, 90, 0.2f, 0);
    bld_text(p, 1920, 420, "nẤm 2020");
    ocr_box band = {0};
    assert_true(extract_date_lost(p, &band));
    assert_true(extract_date_unread(p, &band));
    assert_true(band.x0 < 1230 && band.x0 >= 1230 - WORD_H / 4);
    assert_int_equal(band.x1, PAGE_W);
    assert_true(band.y0 < 420 && band.y0 >= 420 - WORD_H / 4);
    assert_true(band.y1 > 420 + WORD_H && band.y1 <= 420 + WORD_H + WORD_H / 4);
    free_run(r);

    /* a date read, however doubtfully: nothing to read again */
    r = state_doc("Số: 09/TTr-UBND", "Quảng Ngãi, ngày 7 tháng 02 năm 2025", "TỜ TRÌNH");
    assert_false(extract_date_lost(&r->page[0], &band));
    assert_false(extract_date_unread(&r->page[0], &band));
    free_run(r);

    /* the day left blank for the pen: the pen's reading (hand.c) has it,
     * and a second reading that leaves such a blank will do */
    r = state_doc("Số: 09/TTr-UBND", NULL, "TỜ TRÌNH");
    x = bld_text(&r->page[0], 1230, 420, "Quảng Ngãi, ngày");
    bld_text(&r->page[0], x + 90, 420, "tháng 02 năm 2025");
    assert_false(extract_date_lost(&r->page[0], &band));
    assert_false(extract_date_unread(&r->page[0], &band));
    free_run(r);
    (void)st;
}

/* The date line read again on its own under the ĐẾN stamp: a word of it
 * that reads poorly inside the stamp's frame ("2020" at 0.4, the stamp's
 * lines crossing it) is the line's print, not the stamp's scribble; the
 * date is read, to be checked. The same word from the page's reading is
 * taken for the stamp's. */
static void date_line_read_under_stamp(void **st)
{
    for (int again = 0; again < 2; again++) {
        run *r = new_run();
        ocr_page_text *p = &r->page[0];
        /* its "Chuyển:" line under the date line */
        den_stamp(p, 1800, (const int[]){330, 380, 480},
                  (const char *[]){"ĐẾN Số: 3569", "Ngày: 29/8/2020", "Chuyển: Đ/c Lan"});
        bld_state_header(p, UBND_QNG, "Số: 570/TB-VP", NULL);
        int x = bld_text(p, 1230, 420, "Quảng Ngãi, ngày 20 tháng 8 năm");
        bld_word_at(p, "2020", x, 420, bld_word_w("2020"), WORD_H, 0.4f, 0);
        for (size_t i = 0; again && i < p->nwords; i++)
            if (p->words[i].box.y0 == 420 && p->words[i].box.x0 >= 1230)
                p->words[i].line_read = true;
        bld_title_subject(p, "THÔNG BÁO", NULL);
        extract(r);
        if (again) {
            assert_field(r, META_DATE, "2020-08-20");
            assert_true(flagged(r, META_DATE));
        } else {
            assert_null(S(r, META_DATE));
        }
        free_run(r);
    }
    (void)st;
}

/* The ĐẾN stamp's wiping left of a body's last word only its top, read
 * from its marks a quarter of the line high and centred off it ("TẾ" of
 * "BỘ Y TẾ"): it is put back in its line, not taken for a line (and a
 * body) of its own. */
static void body_word_left_small(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"BỘ Y", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 351/TB-BYT", "Hà Nội, ngày 04 tháng 11 năm 2021");
    int end = LEFT_CX + (bld_word_w("BỘ") + SPACE_W + bld_word_w("Y")) / 2;
    bld_word_at(&r->page[0], "TẾ", end + SPACE_W, 188, bld_word_w("TẾ"), 12, 0.9f, 0);
    bld_title_subject(&r->page[0], "THÔNG BÁO", NULL);
    extract(r);
    assert_field(r, META_ISSUER, "BỘ Y TẾ");
    assert_null(S(r, META_ISSUER_SUPERIOR));
    free_run(r);
}

/* A place is words of a name: a notation's tail before it is no part of
 * it (taken off, to be checked), and a name a letter or two off a
 * province's ("Hiệu Giang") is checked, while one far from any province
 * ("Hà Tiên", a town) or a province read right is sure. */
static void place_words_checked(void **st)
{
    static const struct {
        const char *date, *place;
        bool sure;
    } cases[] = {
        {"/KH-SKHĐT Hậu Giang, ngày 05 tháng 02 năm 2025", "Hậu Giang", false},
        {"Hiệu Giang, ngày 05 tháng 02 năm 2025", "Hiệu Giang", false},
        {"Hậu Giang, ngày 05 tháng 02 năm 2025", "Hậu Giang", true},
        {"Hà Tiên, ngày 05 tháng 02 năm 2025", "Hà Tiên", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = state_doc("Số: 09/TTr-UBND", cases[i].date, "TỜ TRÌNH");
        extract(r);
        assert_field(r, META_DATE, "2025-02-05");
        assert_field(r, META_PLACE, cases[i].place);
        assert_int_equal(r->m.review[META_PLACE], !cases[i].sure);
        free_run(r);
    }
}

/* A place touching the word before it may have lost its first words to
 * it ("…/ĐUK Thừa Thiên | Huế", "…/BTCThành phố …"): read, but in review,
 * whereas the same place standing apart is sure. */
static void place_touching_is_unsure(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"ĐẢNG BỘ TỈNH THỪA THIÊN HUẾ", "ĐẢNG ỦY KHỐI", NULL};
    bld_party_header(&r->page[0], bodies, NULL, NULL);
    int x = bld_text(&r->page[0], 480, 420, "Số 555-CV/ĐUK Thừa Thiên");
    bld_text(&r->page[0], x, 420, "Huế, ngày 21 tháng 5 năm 2025");
    extract(r);
    assert_field(r, META_DATE, "2025-05-21");
    assert_field(r, META_PLACE, "Thừa Thiên Huế");
    assert_true(r->m.confidence[META_PLACE] <= 0.5f);
    assert_true(r->m.review[META_PLACE]);
    free_run(r);

    r = new_run();
    bld_party_header(&r->page[0], bodies, "Số 555-CV/ĐUK",
                     "Thừa Thiên Huế, ngày 21 tháng 5 năm 2025");
    extract(r);
    assert_field(r, META_PLACE, "Thừa Thiên Huế");
    assert_true(r->m.confidence[META_PLACE] > 0.8f);
    assert_false(r->m.review[META_PLACE]);
    free_run(r);
}

/* A province's name cut by a notation glued to its first word
 * ("…/NQ-HĐNDTiền | Giang") is made whole from the lexicon, and
 * checked; one read run together ("SơnLa") is spelt as the lexicon does;
 * a place without its comma may have lost a word with it ("Lai" of Lai
 * Châu), and is checked. */
static void place_province_whole(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"HỘI ĐỒNG NHÂN DÂN", "TỈNH TIỀN GIANG", NULL};
    bld_state_header(&r->page[0], bodies, NULL, NULL);
    int x = bld_text(&r->page[0], 480, 420, "Số: 190/2021/NQ-HĐNDTiền");
    bld_text(&r->page[0], x, 420, "Giang, ngày 29 tháng 5 năm 2021");
    extract(r);
    assert_field(r, META_PLACE, "Tiền Giang");
    assert_true(r->m.review[META_PLACE]);
    assert_field(r, META_DATE, "2021-05-29");
    free_run(r);

    r = state_doc("Số: 09/TTr-UBND", "SơnLa, ngày 16 tháng 4 năm 2025", "TỜ TRÌNH");
    extract(r);
    assert_field(r, META_PLACE, "Sơn La");
    free_run(r);

    static const struct {
        const char *line, *place;
    } cases[] = {
        {"Lai ngày 03 tháng 4 năm 2025", "Lai"},
        {"Lai, ngày 03 tháng 4 năm 2025", "Lai"},
        {"Quảng Ngãi ngày 05 tháng 02 năm 2025", "Quảng Ngãi"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = state_doc("Số: 09/TTr-UBND", cases[i].line, "TỜ TRÌNH");
        extract(r);
        assert_field(r, META_PLACE, cases[i].place);
        assert_true(r->m.review[META_PLACE]);
        free_run(r);
    }
}

/* Left header line `left` ending just before the motto at y; returns the
 * x where the motto starts. `glue`: OCR read the seam as one word. */
static int bld_touching_row(ocr_page_text *pt, int y, const char *left, const char *last, bool glue)
{
    static const char *const motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
    int mx = RIGHT_CX - bld_text_w(motto) / 2;
    int lx = mx - 10 - bld_word_w(last) - SPACE_W - bld_text_w(left);
    bld_line_no++;
    bld_text(pt, lx, y, left);
    if (glue) {
        char w[64];
        snprintf(w, sizeof w, "%sCỘNG", last);
        int gw = bld_word_w(last) + 10 + bld_word_w("CỘNG");
        bld_word_at(pt, w, mx - 10 - bld_word_w(last), y, gw, WORD_H, 0.87f, 0);
        bld_text(pt, mx + bld_word_w("CỘNG") + SPACE_W, y, "HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    } else {
        bld_text(pt, mx - 10 - bld_word_w(last), y, last);
        bld_text(pt, mx, y, motto);
    }
    return (lx + mx - 10) / 2;
}

/* The columns touch: "ỦY BAN NHÂN DÂN CỘNG HÒA ..." read cleanly is not
 * doubted; read as "DÂNCỘNG" the word is cut back in two. */
static void issuer_touching_motto(void **st)
{
    for (int glue = 0; glue < 2; glue++) {
        run *r = new_run();
        int cx = bld_touching_row(&r->page[0], 190, "ỦY BAN NHÂN", "DÂN", glue);
        bld_line_no++;
        bld_centred(&r->page[0], cx, 250, "TỈNH QUẢNG NGÃI");
        bld_centred(&r->page[0], RIGHT_CX, 250, "Độc lập - Tự do - Hạnh phúc");
        bld_line_no++;
        bld_text(&r->page[0], 480, 420, "Số: 09/TTr-UBND");
        bld_text(&r->page[0], 1230, 420, DATE_QNG);
        bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
        extract(r);
        assert_field(r, META_ISSUER, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI");
        assert_null(S(r, META_ISSUER_SUPERIOR));
        assert_field(r, META_FORMAT, "state");
        if (!glue)
            assert_false(r->m.review[META_ISSUER]);
        free_run(r);
    }
}

/* A long body line ends past the column boundary where the right column
 * has nothing: its last word stays in the name ("... ĐẦU TƯ"). */
static void issuer_long_line_tail(void **st)
{
    run *r = new_run();
    static const char *const motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
    int mx = RIGHT_CX - bld_text_w(motto) / 2;
    bld_line_no++;
    bld_text(&r->page[0], mx - 10 - bld_text_w("UBND TỈNH CAO BẰNG"), 190, "UBND TỈNH CAO BẰNG");
    bld_text(&r->page[0], mx, 190, motto);
    bld_line_no++;
    bld_centred(&r->page[0], RIGHT_CX, 250, "Độc lập - Tự do - Hạnh phúc");
    bld_line_no++;
    const char *name = "SỞ KẾ HOẠCH VÀ ĐẦU TƯ";
    int cx = mx - 10 - bld_text_w("UBND TỈNH CAO BẰNG") / 2;
    int x0 = cx - bld_text_w(name) / 2;
    bld_text(&r->page[0], x0, 310, name);
    /* the name must really cross the boundary for the test to mean it */
    assert_true(x0 + bld_text_w(name) > mx);
    bld_line_no++;
    bld_text(&r->page[0], 480, 420, "Số: 09/TTr-SKHĐT");
    bld_text(&r->page[0], 1230, 420, "Cao Bằng, ngày 05 tháng 02 năm 2025");
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    extract(r);
    assert_field(r, META_ISSUER, "SỞ KẾ HOẠCH VÀ ĐẦU TƯ");
    assert_field(r, META_ISSUER_SUPERIOR, "UBND TỈNH CAO BẰNG");
    free_run(r);
}

/* A capitals line the engine could not read is a lost part of a name:
 * the bodies around it go to review instead of being given short. */
static void issuer_lost_line_flagged(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"ỦY BAN NHÂN DÂN", "TỈNHĐIỆNBIÊN", "SỞ GIAO THÔNG VẬN TẢI", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 53/TTr-SGTVT", DATE_QNG);
    /* the second line at the engine's 0.21 */
    for (size_t i = 0; i < r->page[0].nwords; i++)
        if (strcmp(r->page[0].words[i].text, "TỈNHĐIỆNBIÊN") == 0)
            r->page[0].words[i].conf = 0.21f;
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    extract(r);
    assert_true(flagged(r, META_ISSUER_SUPERIOR));
    free_run(r);

    /* a misread word no syllable can be ("ĐẢẲNG") */
    r = new_run();
    const char *party[] = {"ĐẢẲNG BỘ TỈNH AN GIANG", "ĐẢNG ỦY KHỐI", "CÁC CƠ QUAN TỈNH", NULL};
    bld_party_header(&r->page[0], party, "Số 934-NQ/ĐUK", "An Giang, ngày 26 tháng 12 năm 2023");
    extract(r);
    assert_true(flagged(r, META_ISSUER));
    free_run(r);
}

/* A department's sector short of a word of its name (the OCR lost it:
 * "SỞ CÔNG", "… THƯƠNG VÀ XÃ HỘI") is checked; a sector read whole, or
 * one whose name is itself the start of another's ("DÂN TỘC"), is sure. */
static void issuer_sector_short_flagged(void **st)
{
    static const struct {
        const char *body;
        bool sure;
    } cases[] = {
        {"SỞ CÔNG", false},
        {"SỞ LAO ĐỘNG - THƯƠNG VÀ XÃ HỘI", false},
        {"SỞ CÔNG THƯƠNG", true},
        {"SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", true},
        {"SỞ DÂN TỘC", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        const char *bodies[] = {"UBND TỈNH QUẢNG NGÃI", cases[i].body, NULL};
        bld_state_header(&r->page[0], bodies, "Số: 53/TTr-SCT", DATE_QNG);
        bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
        extract(r);
        assert_field(r, META_ISSUER, cases[i].body);
        assert_int_equal(flagged(r, META_ISSUER), !cases[i].sure);
        assert_field(r, META_ISSUER_SUPERIOR, "UBND TỈNH QUẢNG NGÃI");
        assert_false(flagged(r, META_ISSUER_SUPERIOR));
        free_run(r);
    }
}

/* A superior "body" without a body's head noun is a piece of another
 * line (a word set apart by a stamp): checked. */
static void superior_without_head_flagged(void **st)
{
    run *r = new_run();
    const char *bodies[] = {"TẾ", "SỞ Y TẾ", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 53/TTr-SYT", DATE_QNG);
    bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
    extract(r);
    assert_field(r, META_ISSUER_SUPERIOR, "TẾ");
    assert_true(flagged(r, META_ISSUER_SUPERIOR));
    free_run(r);
}

/* A body's name not whole: a stroke in it, a people's committee without
 * its place, a province a letter short. Checked; the same read whole is
 * sure. */
static void body_name_not_whole_flagged(void **st)
{
    static const struct {
        const char *sup, *body;
        meta_field f;
        bool sure;
    } cases[] = {
        {"ỦY BAN NHÂN DÂN", "/TỈNH YÊN BÁI", META_ISSUER, false},
        {"ỦY BAN NHÂN DÂN", "TỈNH YÊN BÁI", META_ISSUER, true},
        {"ỦY BAN NHÂN DÂN", "SỞ NỘI VỤ", META_ISSUER_SUPERIOR, false},
        {"UBND TỈNH VĨNH PHÚ", "SỞ NỘI VỤ", META_ISSUER_SUPERIOR, false},
        {"UBND TỈNH VĨNH PHÚC", "SỞ NỘI VỤ", META_ISSUER_SUPERIOR, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run *r = new_run();
        const char *bodies[] = {cases[i].sup, cases[i].body, NULL};
        bld_state_header(&r->page[0], bodies, "Số: 53/TTr-SNV", DATE_QNG);
        bld_title_subject(&r->page[0], "TỜ TRÌNH", NULL);
        extract(r);
        assert_non_null(S(r, cases[i].f));
        assert_int_equal(flagged(r, cases[i].f), !cases[i].sure);
        free_run(r);
    }
}

/* Vocabulary repair does not turn common words into names: "CƠ QUAN" is
 * no "CƠ QUẬN", "BAN QUẢN LÝ" no "BAN QUẬN LÝ". */
static void issuer_common_words_kept(void **st)
{
    run *r = new_run();
    const char *party[] = {"ĐẢNG BỘ TỈNH AN GIANG", "ĐẢNG ỦY KHỐI", "CÁC CƠ QUAN TỈNH", NULL};
    bld_party_header(&r->page[0], party, "Số 934-NQ/ĐUK", "An Giang, ngày 26 tháng 12 năm 2023");
    extract(r);
    assert_field(r, META_ISSUER, "ĐẢNG BỘ TỈNH AN GIANG ĐẢNG ỦY KHỐI CÁC CƠ QUAN TỈNH");
    free_run(r);

    r = new_run();
    const char *bodies[] = {"UBND TỈNH YÊN BÁI", "BAN QUẢN LÝ CÁC", "KHU CÔNG NGHIỆP", NULL};
    bld_state_header(&r->page[0], bodies, "Số: 12/TB-BQL", DATE_QNG);
    extract(r);
    assert_field(r, META_ISSUER, "BAN QUẢN LÝ CÁC KHU CÔNG NGHIỆP");
    free_run(r);
}

/* Robustness: empty pages, garbage. */
static void empty_and_garbage(void **st)
{
    run *r = new_run();
    extract(r);
    assert_false(r->m.has_number);
    assert_true(r->m.review[META_NUMBER]);
    free_run(r);
    r = new_run();
    bld_word_at(&r->page[0], "Số:", -50, -20, 0, 0, 2.0f, -1);
    bld_word_at(&r->page[0], "\xff\xfe/-", 10, 10, 5, 5, 0.5f, 0);
    bld_word_at(&r->page[0], "ngày", 100, 10, 5, 5, 0.5f, 0);
    extract(r);
    free_run(r);
    extract_options o = extract_defaults();
    doc_metadata m = {0};
    assert_int_equal(extract_metadata(NULL, 0, &o, &m, NULL), 0);
    meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(number_state),
        cmocka_unit_test(number_party),
        cmocka_unit_test(party_qd_is_quy_dinh),
        cmocka_unit_test(number_with_spaces),
        cmocka_unit_test(number_handwritten_gap),
        cmocka_unit_test(number_ocr_confusions),
        cmocka_unit_test(number_letter_digit_flagged),
        cmocka_unit_test(number_unreadable_not_guessed),
        cmocka_unit_test(number_missing_flagged),
        cmocka_unit_test(cong_van),
        cmocka_unit_test(normative_year),
        cmocka_unit_test(code_corrected_by_title),
        cmocka_unit_test(type_from_code),
        cmocka_unit_test(issuer_code_from_name),
        cmocka_unit_test(number_blank_code_first),
        cmocka_unit_test(quoted_numbers_ignored),
        cmocka_unit_test(date_and_place),
        cmocka_unit_test(date_ocr_noise),
        cmocka_unit_test(date_invalid_dropped),
        cmocka_unit_test(date_handwritten_day_flagged),
        cmocka_unit_test(date_line_lost_words),
        cmocka_unit_test(date_glued_comma),
        cmocka_unit_test(hand_read_day_is_never_sure),
        cmocka_unit_test(hand_read_number_is_never_sure),
        cmocka_unit_test(hand_slots_named),
        cmocka_unit_test(hand_slots_year_keyword_misread),
        cmocka_unit_test(hand_slot_over_misread),
        cmocka_unit_test(hand_slot_into_notation_word),
        cmocka_unit_test(hand_slot_print_in_word),
        cmocka_unit_test(hand_slot_before_bare_notation),
        cmocka_unit_test(stamp_label_over_bodies),
        cmocka_unit_test(bare_number_and_notation),
        cmocka_unit_test(number_line_lost_named),
        cmocka_unit_test(number_crossed_by_frame),
        cmocka_unit_test(hand_slot_before_code_word),
        cmocka_unit_test(issuer_and_superior),
        cmocka_unit_test(issuer_without_head_noun),
        cmocka_unit_test(issuer_word_across_seam),
        cmocka_unit_test(lex_name_completion),
        cmocka_unit_test(issuer_single_body_repaired),
        cmocka_unit_test(issuer_near_name_repaired),
        cmocka_unit_test(issuer_province_from_place),
        cmocka_unit_test(superior_line_repaired),
        cmocka_unit_test(issuer_party_line_repaired),
        cmocka_unit_test(issuer_motto_word_apart),
        cmocka_unit_test(title_with_stray_word),
        cmocka_unit_test(subject_past_stamp_pieces),
        cmocka_unit_test(subject_multiline_stops),
        cmocka_unit_test(subject_unfinished_flagged),
        cmocka_unit_test(tone_placement_and_nfd),
        cmocka_unit_test(old_tones_in_fields),
        cmocka_unit_test(marks_urgency_secrecy),
        cmocka_unit_test(body_words_not_marks),
        cmocka_unit_test(colourless_document_secrecy_unsure),
        cmocka_unit_test(colourless_noise_over_header),
        cmocka_unit_test(red_region_urgency_unsure),
        cmocka_unit_test(red_region_read_in_part),
        cmocka_unit_test(red_region_two_marks),
        cmocka_unit_test(red_text_not_marks),
        cmocka_unit_test(grey_mark_misread),
        cmocka_unit_test(unread_ink_in_mark_zone),
        cmocka_unit_test(red_region_reported),
        cmocka_unit_test(den_stamp_ignored),
        cmocka_unit_test(signer_last_page),
        cmocka_unit_test(signer_no_prefix_upper_name),
        cmocka_unit_test(signer_deputy_restored),
        cmocka_unit_test(signer_lost_word_by_axis),
        cmocka_unit_test(signer_surname_spelling),
        cmocka_unit_test(signer_f_read_for_t),
        cmocka_unit_test(signer_surname_outside_run),
        cmocka_unit_test(signer_words_under_seal),
        cmocka_unit_test(signer_seal_letters_before_position),
        cmocka_unit_test(signer_position_repaired),
        cmocka_unit_test(signer_prefix_repaired),
        cmocka_unit_test(signer_prefix_absent),
        cmocka_unit_test(signer_prefix_layout_form),
        cmocka_unit_test(signer_prefix_whole_line),
        cmocka_unit_test(signer_position_lost),
        cmocka_unit_test(signer_position_not_scribble),
        cmocka_unit_test(signer_position_unknown_flagged),
        cmocka_unit_test(signer_deputy_misread),
        cmocka_unit_test(signer_deputy_label_lost),
        cmocka_unit_test(signer_position_loose),
        cmocka_unit_test(signer_name_as_read),
        cmocka_unit_test(signer_name_gap),
        cmocka_unit_test(position_gap_found),
        cmocka_unit_test(title_gap_found),
        cmocka_unit_test(name_doubt_found),
        cmocka_unit_test(number_glued_to_notation),
        cmocka_unit_test(number_after_stamp_field),
        cmocka_unit_test(notation_year_against_date),
        cmocka_unit_test(number_apart_from_separator),
        cmocka_unit_test(number_label_noise),
        cmocka_unit_test(hand_seven_read_as_separator),
        cmocka_unit_test(notation_past_split),
        cmocka_unit_test(notation_in_next_row),
        cmocka_unit_test(notation_without_label),
        cmocka_unit_test(notation_inner_separator_lost),
        cmocka_unit_test(notation_without_separator),
        cmocka_unit_test(notation_glued_prose_cut),
        cmocka_unit_test(notation_unknown_code_from_title),
        cmocka_unit_test(number_clean_print_trusted),
        cmocka_unit_test(number_low_conf_needs_witnesses),
        cmocka_unit_test(number_notation_follows_parts),
        cmocka_unit_test(party_body_citing_motto),
        cmocka_unit_test(place_touching_notation),
        cmocka_unit_test(place_first_letter_lost),
        cmocka_unit_test(date_words_taken_tall),
        cmocka_unit_test(date_line_lost_named),
        cmocka_unit_test(date_line_read_under_stamp),
        cmocka_unit_test(body_word_left_small),
        cmocka_unit_test(place_touching_is_unsure),
        cmocka_unit_test(place_province_whole),
        cmocka_unit_test(place_words_checked),
        cmocka_unit_test(issuer_touching_motto),
        cmocka_unit_test(issuer_long_line_tail),
        cmocka_unit_test(issuer_lost_line_flagged),
        cmocka_unit_test(issuer_sector_short_flagged),
        cmocka_unit_test(superior_without_head_flagged),
        cmocka_unit_test(body_name_not_whole_flagged),
        cmocka_unit_test(issuer_common_words_kept),
        cmocka_unit_test(empty_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
