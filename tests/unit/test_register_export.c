/* Unit tests: firmware/register_export — the incoming register as CSV and
 * PDF, from a real SQLite register filled through the reg_* API. The PDF
 * is checked with independent tools: qpdf, pdftotext, pdfinfo, pdffonts. */

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uninorm.h>

#include "firmware/register.h"
#include "firmware/register_export.h"
#include "firmware/vntime.h"
#include "tests/unit/support/testutil.h"

typedef struct fixture {
    char dir[64];
    char db[96];
    reg *r;
} fixture;

static time_t at(int y, int mo, int d, int h, int mi)
{
    vn_tm v = {.year = y, .mon = mo, .day = d, .hour = h, .min = mi};
    return vntime_join(&v);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/sohoa-regexp-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->db, sizeof fx->db, "%s/register.db", fx->dir);
    sohoa_err err = {0};
    fx->r = reg_open(fx->db, &err);
    if (!fx->r) {
        fprintf(stderr, "reg_open: %s\n", err.msg);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    reg_close(fx->r);
    /* The database, its WAL files and whatever the test wrote. */
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* A registered document with these fields (any may be NULL); returns its
 * id. Registration happens now, so số đến follow the call order. */
static int64_t add_doc(fixture *fx, time_t received, time_t effective, const char *issuer,
                       const char *number_notation, const char *date, const char *type,
                       const char *subject)
{
    sohoa_err err = {0};
    int64_t id = 0, so_den = 0;
    char dir[128];
    static int seq;
    snprintf(dir, sizeof dir, "%s/doc%d", fx->dir, ++seq);
    doc_metadata m;
    memset(&m, 0, sizeof m);
    assert_int_equal(meta_set(&m, META_FORMAT, "state"), 0);
    assert_int_equal(meta_set(&m, META_ISSUER, issuer), 0);
    assert_int_equal(meta_set(&m, META_NUMBER_NOTATION, number_notation), 0);
    assert_int_equal(meta_set(&m, META_DATE, date), 0);
    assert_int_equal(meta_set(&m, META_TYPE, type), 0);
    assert_int_equal(meta_set(&m, META_SUBJECT, subject), 0);
    m.pages = 1;
    if (reg_create(fx->r, dir, received, effective, &id, &err) != 0 ||
        reg_set_metadata(fx->r, id, &m, received, &err) != 0 ||
        reg_register(fx->r, id, received + 60, &so_den, &err) != 0)
        fail_msg("%s", err.msg);
    meta_free(&m);
    return id;
}

#define SHA_HEX "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* registered → signed → queued. */
static void to_queue(fixture *fx, int64_t id, time_t now)
{
    sohoa_err err = {0};
    char docid[64];
    snprintf(docid, sizeof docid, "000.00.15.H47,2026/11/01,%lld/TEST", (long long)id);
    if (reg_set_signed(fx->r, id, SHA_HEX, now, &err) != 0 ||
        reg_enqueue(fx->r, id, docid, 0, now, &err) != 0)
        fail_msg("%s", err.msg);
}

static const char *ISSUER_A = "ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM";
static const char *SUBJECT_A = "Ban hành Quy chế gửi, nhận văn bản điện tử";
static const char *ISSUER_B = "Sở Tài chính \"Quảng Nam\"";
static const char *SUBJECT_B = "V/v báo cáo, thống kê \"số liệu\" năm 2026";

/* The register of November 2026 used by the CSV tests:
 *   E (so_den 1) late October; A (2) sent; B (3) rejected by the server;
 *   C (4) received Friday evening, effective Monday, discarded;
 *   D (5) still registered; plus a processed, unregistered document.
 * Created in another order than registered, so id order ≠ số đến order. */
static void fill_november(fixture *fx)
{
    sohoa_err err = {0};
    /* The unregistered one, inside the range. */
    int64_t id_u = 0;
    doc_metadata m;
    memset(&m, 0, sizeof m);
    assert_int_equal(meta_set(&m, META_SUBJECT, "Chưa vào sổ"), 0);
    if (reg_create(fx->r, "/tmp/unregistered", at(2026, 11, 4, 9, 0), at(2026, 11, 4, 9, 0), &id_u,
                   &err) != 0 ||
        reg_set_metadata(fx->r, id_u, &m, at(2026, 11, 4, 9, 1), &err) != 0)
        fail_msg("%s", err.msg);
    meta_free(&m);

    add_doc(fx, at(2026, 10, 30, 10, 0), at(2026, 10, 30, 10, 0), "Bộ Nội vụ", "01/BNV-VP",
            "2026-10-28", "Công văn", "Ngoài khoảng");
    int64_t a = add_doc(fx, at(2026, 11, 2, 8, 15), at(2026, 11, 2, 8, 15), ISSUER_A,
                        "2588/QĐ-UBND", "2026-10-22", "Quyết định", SUBJECT_A);
    int64_t b = add_doc(fx, at(2026, 11, 3, 9, 0), at(2026, 11, 3, 9, 0), ISSUER_B, "299/UBND-TTHC",
                        "2026-10-30", "Công văn", SUBJECT_B);
    int64_t c =
        add_doc(fx, at(2026, 11, 6, 18, 0), at(2026, 11, 9, 7, 30), "Tỉnh ủy Quảng Nam",
                "682-QĐ/TU", "2026-11-05", NULL, "Về việc thụ lý giải quyết khiếu nại lần hai");
    add_doc(fx, at(2026, 11, 10, 10, 0), at(2026, 11, 10, 10, 0), "Công an tỉnh", "15/TB-CAT", NULL,
            "Thông báo", NULL);

    to_queue(fx, a, at(2026, 11, 2, 8, 20));
    if (reg_mark_sent(fx->r, a, "01", NULL, at(2026, 11, 2, 8, 21), &err) != 0)
        fail_msg("%s", err.msg);
    to_queue(fx, b, at(2026, 11, 3, 9, 5));
    if (reg_mark_rejected(fx->r, b, "Máy chủ từ chối: sai mã định danh", at(2026, 11, 3, 9, 6),
                          &err) != 0)
        fail_msg("%s", err.msg);
    if (reg_discard(fx->r, c, "trùng bản giấy\nđã đối chiếu", "văn thư", at(2026, 11, 9, 8, 0),
                    &err) != 0)
        fail_msg("%s", err.msg);
}

/* The CSV of [from, to] as a string (malloc'd); *rc gets the return. */
static char *csv_of(fixture *fx, const char *from, const char *to, int *rc, sohoa_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = register_export_csv(fx->r, from, to, f, err);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(strlen(buf), len);
    return buf;
}

static const char BOM[] = "\xEF\xBB\xBF";
static const char HEADER[] =
    "Ngày đến,Số đến,Tác giả,Số ký hiệu,Ngày tháng văn bản,Tên loại và trích yếu,"
    "Đơn vị/người nhận,Ngày chuyển,Ký nhận,Ghi chú\r\n";
static const char ROW_A[] =
    "02/11/2026 08:15,02,ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM,2588/QĐ-UBND,22/10/2026,"
    "\"Quyết định — Ban hành Quy chế gửi, nhận văn bản điện tử\",,,,bản sao điện tử đã gửi\r\n";
static const char ROW_B[] =
    "03/11/2026 09:00,03,\"Sở Tài chính \"\"Quảng Nam\"\"\",299/UBND-TTHC,30/10/2026,"
    "\"Công văn — V/v báo cáo, thống kê \"\"số liệu\"\" năm 2026\",,,,"
    "Máy chủ từ chối: sai mã định danh\r\n";
static const char ROW_C[] =
    "09/11/2026 07:30,04,Tỉnh ủy Quảng Nam,682-QĐ/TU,05/11/2026,"
    "Về việc thụ lý giải quyết khiếu nại lần hai,,,,\"đã hủy: trùng bản giấy\nđã đối chiếu\"\r\n";
static const char ROW_D[] = "10/11/2026 10:00,05,Công an tỉnh,15/TB-CAT,,Thông báo,,,,\r\n";

/* The expected file: BOM, header, then the given rows (NULL-terminated). */
static char *expected(const char *row, ...)
{
    size_t cap = 4096;
    char *s = malloc(cap);
    assert_non_null(s);
    snprintf(s, cap, "%s%s", BOM, HEADER);
    va_list ap;
    va_start(ap, row);
    for (const char *r = row; r; r = va_arg(ap, const char *))
        strncat(s, r, cap - strlen(s) - 1);
    va_end(ap);
    return s;
}

/* The CSV of [from, to] is exported without error and is exactly `want`
 * (an expected() string, freed here). */
static void assert_csv(fixture *fx, const char *from, const char *to, char *want)
{
    sohoa_err err = {0};
    int rc;
    char *csv = csv_of(fx, from, to, &rc, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    if (strcmp(csv, want) != 0)
        fail_msg("got:\n%s\nwant:\n%s", csv, want);
    free(want);
    free(csv);
}

static void csv_rows_columns_and_quoting(void **state)
{
    fixture *fx = *state;
    fill_november(fx);
    assert_csv(fx, "2026-11-01", "2026-11-30", expected(ROW_A, ROW_B, ROW_C, ROW_D, NULL));
}

static void csv_filters_by_effective_day(void **state)
{
    fixture *fx = *state;
    fill_november(fx);
    /* C was received on Friday 6 but counts from Monday 9. */
    assert_csv(fx, "2026-11-03", "2026-11-09", expected(ROW_B, ROW_C, NULL));
    assert_csv(fx, "2026-11-06", "2026-11-06", expected(NULL));
    /* The last day is included whole: D at 10:00 of the 10th. */
    assert_csv(fx, "2026-11-10", "2026-11-10", expected(ROW_D, NULL));
}

/* Text read off a scan that starts like a spreadsheet formula is not
 * exported as one. */
static void csv_neutralises_formulas(void **state)
{
    fixture *fx = *state;
    add_doc(fx, at(2026, 11, 2, 8, 15), at(2026, 11, 2, 8, 15), "=HYPERLINK(\"http://x\")",
            "7/QĐ-UBND", "2026-10-22", NULL, "@SUM(A1)");
    assert_csv(fx, "2026-11-01", "2026-11-30",
               expected("02/11/2026 08:15,01,\"'=HYPERLINK(\"\"http://x\"\")\",7/QĐ-UBND,"
                        "22/10/2026,\"'@SUM(A1)\",,,,\r\n",
                        NULL));
}

static void csv_rejects_bad_range_writing_nothing(void **state)
{
    fixture *fx = *state;
    fill_november(fx);
    static const char *bad[][2] = {
        {"2026-11-31", "2026-12-01"}, {"2026-11-01", "30/11/2026"}, {"2026-11-30", "2026-11-01"}};
    for (size_t i = 0; i < 3; i++) {
        sohoa_err err = {0};
        int rc;
        char *csv = csv_of(fx, bad[i][0], bad[i][1], &rc, &err);
        assert_int_equal(rc, -1);
        assert_int_equal(err.status, SOHOA_EINPUT);
        assert_string_equal(csv, "");
        free(csv);
        if (!strstr(err.msg, i == 1 ? bad[i][1] : bad[i][0]))
            fail_msg("message \"%s\" does not name the bad day", err.msg);
    }
}

/* ---- PDF ---------------------------------------------------------------- */

static char *nfc(const char *s)
{
    size_t n = 0;
    uint8_t *u = u8_normalize(UNINORM_NFC, (const uint8_t *)s, strlen(s), NULL, &n);
    assert_non_null(u);
    char *out = malloc(n + 1);
    assert_non_null(out);
    memcpy(out, u, n);
    out[n] = '\0';
    free(u);
    return out;
}

/* pdftotext of pages [first, last] (0 = all), NFC. */
static char *pdf_text(const char *path, int first, int last)
{
    char *out = NULL;
    int st = first ? tu_run(&out, "pdftotext -layout -f %d -l %d '%s' -", first, last, path)
                   : tu_run(&out, "pdftotext -layout '%s' -", path);
    if (st != 0)
        fail_msg("pdftotext exited %d: %s", st, out ? out : "");
    char *n = nfc(out);
    free(out);
    return n;
}

/* The whole text in drawing order (pdftotext -raw), NFC, every run of
 * white space made one space: a wrapped cell reads back as one string. */
static char *pdf_flat_text(const char *path)
{
    char *out = NULL;
    int st = tu_run(&out, "pdftotext -raw '%s' -", path);
    if (st != 0)
        fail_msg("pdftotext exited %d: %s", st, out ? out : "");
    char *n = nfc(out);
    free(out);
    size_t j = 0;
    for (size_t i = 0; n[i]; i++) {
        int space = n[i] == ' ' || n[i] == '\n' || n[i] == '\f' || n[i] == '\r';
        if (space && (j == 0 || n[j - 1] == ' '))
            continue;
        n[j++] = space ? ' ' : n[i];
    }
    n[j] = '\0';
    return n;
}

/* Removes, from flat text, what a page break puts inside a split row:
 * the page number and the next page's header row. */
static void drop_page_breaks(char *t)
{
    char *p;
    while ((p = strstr(t, " Trang ")) != NULL) {
        char *end = strstr(p, "Ghi chú ");
        if (!end)
            break;
        end += strlen("Ghi chú");
        memmove(p, end, strlen(end) + 1);
    }
}

static void assert_has(const char *text, const char *want)
{
    char *w = nfc(want);
    if (!strstr(text, w))
        fail_msg("\"%s\" not in the text:\n%s", w, text);
    free(w);
}

static int page_count(const char *path)
{
    char *out = NULL;
    assert_int_equal(tu_run(&out, "pdfinfo '%s'", path), 0);
    const char *p = strstr(out, "\nPages:");
    assert_non_null(p);
    int n = atoi(p + 7);
    free(out);
    return n;
}

static void qpdf_ok(const char *path)
{
    char *out = NULL;
    int st = tu_run(&out, "qpdf --check '%s'", path);
    if (st != 0)
        fail_msg("qpdf --check exited %d:\n%s", st, out ? out : "");
    free(out);
}

static const char *ORGAN = "Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam";

/* Exports [from, to] to fx->dir/NAME (its path into `path`), which must
 * succeed and give a PDF that qpdf finds sound. */
static void export_pdf_ok(fixture *fx, const char *from, const char *to, const char *organ,
                          const char *name, char path[128])
{
    snprintf(path, 128, "%s/%s", fx->dir, name);
    sohoa_err err = {0};
    if (register_export_pdf(fx->r, from, to, organ, path, &err) != 0)
        fail_msg("%s", err.msg);
    qpdf_ok(path);
}

static void pdf_small_register(void **state)
{
    fixture *fx = *state;
    fill_november(fx);
    char path[128];
    export_pdf_ok(fx, "2026-11-01", "2026-11-30", ORGAN, "so-den.pdf", path);
    assert_int_equal(page_count(path), 1);
    char *t = pdf_text(path, 0, 0);
    assert_has(t, "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN");
    assert_has(t, ORGAN);
    assert_has(t, "Từ ngày 01/11/2026 đến ngày 30/11/2026");
    static const char *heads[] = {"Ngày đến",
                                  "Số đến",
                                  "Tác giả",
                                  "Số ký hiệu",
                                  "Ký nhận",
                                  "Ghi chú",
                                  "Tên loại và trích yếu"};
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
        assert_has(t, heads[i]);
    assert_has(t, "2588/QĐ-UBND");
    assert_has(t, "Quyết định — Ban hành Quy chế");
    assert_has(t, "22/10/2026");
    assert_has(t, "02/11/2026");
    assert_has(t, "682-QĐ/TU");
    assert_has(t, "Trang 1/1");
    free(t);
    /* Whole cells, however they wrapped. */
    t = pdf_flat_text(path);
    assert_has(t, "Quyết định — Ban hành Quy chế gửi, nhận văn bản điện tử");
    assert_has(t, "Công văn — V/v báo cáo, thống kê \"số liệu\" năm 2026");
    assert_has(t, "Máy chủ từ chối: sai mã định danh");
    assert_has(t, "Sở Tài chính \"Quảng Nam\"");
    /* Ghi chú: sent, rejected (above), discarded with its reason. */
    assert_has(t, "bản sao điện tử đã gửi");
    assert_has(t, "đã hủy: trùng bản giấy đã đối chiếu");
    /* Outside the range, or not registered. */
    assert_null(strstr(t, "Ngoài khoảng"));
    assert_null(strstr(t, "Chưa vào sổ"));
    free(t);

    /* The font is embedded as a subset, with a ToUnicode map (pdftotext
     * got Vietnamese back above). */
    char *out = NULL;
    assert_int_equal(tu_run(&out, "pdffonts '%s'", path), 0);
    const char *line = strstr(out, "+LiberationSerif");
    if (!line || !strstr(line, "CID TrueType") || !strstr(line, "yes yes yes"))
        fail_msg("pdffonts:\n%s", out);
    free(out);
}

/* A Vietnamese subject long enough to wrap over several lines. */
static char *long_subject(int i)
{
    char *s = NULL;
    assert_true(asprintf(&s,
                         "Về việc triển khai thực hiện Kế hoạch số %d/KH-UBND về chuyển đổi số, "
                         "số hóa hồ sơ, tài liệu lưu trữ và kết quả giải quyết thủ tục hành "
                         "chính trên địa bàn tỉnh \"giai đoạn %d\" năm 2026",
                         100 + i, i) > 0);
    return s;
}

static void pdf_many_rows_header_on_every_page(void **state)
{
    fixture *fx = *state;
    enum { N = 60 };
    for (int i = 0; i < N; i++) {
        char *subj = long_subject(i);
        char nn[32];
        snprintf(nn, sizeof nn, "%d/KH-UBND", 100 + i);
        time_t t = at(2026, 11, 2 + i / 4, 8 + i % 4, 0);
        add_doc(fx, t, t, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", nn, "2026-10-15", "Kế hoạch", subj);
        free(subj);
    }
    char path[128];
    export_pdf_ok(fx, "2026-11-01", "2026-11-30", ORGAN, "so-den.pdf", path);
    int pages = page_count(path);
    assert_true(pages >= 2);
    /* Every page: the header row and its own "Trang N/M"; the rows split
     * between pages without loss or repetition, in order. */
    int next = 1, per_page[64] = {0};
    assert_true(pages < 64);
    for (int p = 1; p <= pages; p++) {
        char *t = pdf_text(path, p, p);
        assert_has(t, "Số đến");
        assert_has(t, "Tác giả");
        assert_has(t, "Ghi chú");
        char label[32];
        snprintf(label, sizeof label, "Trang %d/%d", p, pages);
        assert_has(t, label);
        for (;;) {
            char nn[32];
            snprintf(nn, sizeof nn, "%d/KH-UBND", 100 + next - 1);
            if (next > N || !strstr(t, nn))
                break;
            next++;
            per_page[p]++;
        }
        /* The title is on the first page only. */
        if (p > 1)
            assert_null(strstr(t, "SỔ ĐĂNG KÝ"));
        free(t);
    }
    assert_int_equal(next, N + 1);
    /* The rows are alike (same wrapping), so every page but the first
     * (title) and the last holds the same number: no page is broken
     * early, and the page count is what that capacity needs. */
    int cap = per_page[2];
    if (cap < 5 || cap > 30 || per_page[1] > cap || per_page[1] < cap - 2)
        fail_msg("rows per page: first %d, second %d", per_page[1], cap);
    for (int p = 2; p < pages; p++)
        assert_int_equal(per_page[p], cap);
    assert_true(per_page[pages] >= 1 && per_page[pages] <= cap);
    assert_int_equal(pages, 1 + (N - per_page[1] + cap - 1) / cap);
    char *all = pdf_flat_text(path);
    for (int i = 0; i < N; i += 59) {
        char *subj = long_subject(i);
        char *cell = NULL;
        assert_true(asprintf(&cell, "Kế hoạch — %s", subj) > 0);
        assert_has(all, cell);
        free(cell);
        free(subj);
    }
    free(all);
}

static void pdf_row_taller_than_a_page_and_odd_characters(void **state)
{
    fixture *fx = *state;
    /* About 60 lines of subject in its column: more than a page holds.
     * It ends with a marker word, and holds a character Liberation Serif
     * lacks (an emoji) and a line break. */
    size_t cap = 16384;
    char *subj = malloc(cap);
    assert_non_null(subj);
    strcpy(subj, "Mở đầu 😀 dòng\nhai");
    for (int i = 0; i < 80; i++)
        strcat(subj, " nội dung báo cáo tổng hợp kết quả");
    strcat(subj, " KẾTTHÚCCUỐICÙNG");
    char *want = malloc(cap);
    assert_non_null(want);
    strcpy(want, "Công văn — Mở đầu ? dòng hai");
    strcat(want, subj + strlen("Mở đầu 😀 dòng\nhai"));
    time_t t = at(2026, 11, 2, 9, 0);
    add_doc(fx, t, t, "Văn phòng Chính phủ", "7816/VPCP-TTĐT", "2026-10-30", "Công văn", subj);
    add_doc(fx, t + 60, t + 60, "Bộ Tài chính", "22/BTC-VP", "2026-10-31", "Công văn",
            "Dòng sau cùng");
    free(subj);
    char path[128];
    export_pdf_ok(fx, "2026-11-02", "2026-11-02", NULL, "so-den.pdf", path);
    int pages = page_count(path);
    assert_true(pages >= 2);
    /* The whole subject, across the page break, with '?' for the emoji. */
    char *all = pdf_flat_text(path);
    drop_page_breaks(all);
    assert_has(all, want);
    assert_has(all, "Dòng sau cùng");
    free(all);
    free(want);
    char *last = pdf_text(path, pages, pages);
    assert_has(last, "Số đến");
    assert_has(last, "Dòng sau cùng");
    free(last);
}

static void pdf_empty_range_and_failures(void **state)
{
    fixture *fx = *state;
    fill_november(fx);
    char path[128];
    export_pdf_ok(fx, "2026-12-01", "2026-12-31", ORGAN, "empty.pdf", path);
    assert_int_equal(page_count(path), 1);
    char *t = pdf_text(path, 0, 0);
    assert_has(t, "Không có văn bản đến");
    assert_has(t, "Số đến");
    free(t);

    /* A bad range and an unwritable place: an error, and no file. */
    sohoa_err err = {0};
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.pdf", fx->dir);
    assert_int_equal(register_export_pdf(fx->r, "2026-12-31", "2026-12-01", ORGAN, bad, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.pdf", fx->dir);
    err_clear(&err);
    assert_int_equal(register_export_pdf(fx->r, "2026-11-01", "2026-11-30", ORGAN, bad, &err), -1);
    assert_non_null(strstr(err.msg, bad));
    /* Only the database files and empty.pdf are in the directory: no
     * temporary file was left behind. */
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strncmp(e->d_name, "register.db", 11) != 0 &&
            strcmp(e->d_name, "empty.pdf") != 0)
            fail_msg("unexpected file %s", e->d_name);
        else if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("leftover temporary %s", e->d_name);
    closedir(d);
}

int main(void)
{
/* Every test gets a fresh register in its own directory (setup/teardown). */
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(csv_rows_columns_and_quoting),
        TEST(csv_filters_by_effective_day),
        TEST(csv_neutralises_formulas),
        TEST(csv_rejects_bad_range_writing_nothing),
        TEST(pdf_small_register),
        TEST(pdf_many_rows_header_on_every_page),
        TEST(pdf_row_taller_than_a_page_and_odd_characters),
        TEST(pdf_empty_range_and_failures),
    };
#undef TEST
    /* Vietnam time must not depend on the TZ of the machine. */
    setenv("TZ", "America/New_York", 1);
    return cmocka_run_group_tests_name("register_export", tests, NULL, NULL);
}
