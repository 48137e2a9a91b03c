/* register_export.c — the incoming register as CSV and as a printable PDF,
 * see register_export.h.
 *
 * The PDF is written here directly rather than through ocr/pdf: it is a
 * plain table of text with rules, in the embedded Liberation Serif subset
 * of signer/sigfont (the font of the visible signature, which has every
 * Vietnamese letter). Sigfont records glyphs as text is encoded, so every
 * page is laid out into its content buffer first; only then are the font
 * objects built and the file assembled with its cross-reference table.
 */
#include "register_export.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <uninorm.h>
#include <unistr.h>
#include <zlib.h>

#include "../ocr/pdf_buf.h"
#include "../signer/sigfont.h"
#include "fsutil.h"
#include "vntime.h"

/* Columns of Nghị định 30/2020, Phụ lục IV, in order. */
enum {
    COL_RECEIVED,
    COL_SO_DEN,
    COL_AUTHOR,
    COL_NOTATION,
    COL_DOC_DATE,
    COL_SUBJECT,
    COL_RECIPIENT,
    COL_FORWARDED,
    COL_SIGNATURE,
    COL_NOTE,
    NCOLS
};

static const char *const col_name[NCOLS] = {
    "Ngày đến",
    "Số đến",
    "Tác giả",
    "Số ký hiệu",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu",
    "Đơn vị/người nhận",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
};

/* Share of the table width per column, in percent. The subject gets the
 * most; the three columns the clerk fills in by hand keep room to write. */
static const double col_share[NCOLS] = {8, 5, 14, 10, 7.5, 25.5, 10, 6.5, 6, 7.5};

/* ---- rows ---------------------------------------------------------------- */

typedef struct row {
    char *cell[NCOLS];
} row;

static void row_free(row *rw)
{
    for (int i = 0; i < NCOLS; i++)
        free(rw->cell[i]);
    memset(rw, 0, sizeof *rw);
}

/* vasprintf that returns NULL on failure instead of leaving the pointer
 * undefined. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, f);
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

static int has_text(const char *s)
{
    return s && *s;
}

/* The register's cells for one document. Returns 0, or -1 on ENOMEM. */
static int row_make(const reg_doc *d, row *rw)
{
    memset(rw, 0, sizeof *rw);
    const doc_metadata *m = &d->meta;
    vn_tm t;
    vntime_split(d->effective ? d->effective : d->received, &t);
    rw->cell[COL_RECEIVED] = fmt("%02d/%02d/%04d %02d:%02d", t.day, t.mon, t.year, t.hour, t.min);
    /* "01" rather than "1": số đến is written with two digits at least, as
     * on the clerk's ĐẾN stamp. */
    rw->cell[COL_SO_DEN] = fmt("%02" PRId64, d->so_den);
    rw->cell[COL_AUTHOR] = strdup(has_text(m->str[META_ISSUER]) ? m->str[META_ISSUER] : "");
    rw->cell[COL_NOTATION] =
        strdup(has_text(m->str[META_NUMBER_NOTATION]) ? m->str[META_NUMBER_NOTATION] : "");
    const char *date = m->str[META_DATE];
    time_t unused;
    if (date && vntime_parse_date(date, &unused) == 0)
        rw->cell[COL_DOC_DATE] = fmt("%.2s/%.2s/%.4s", date + 8, date + 5, date);
    else
        rw->cell[COL_DOC_DATE] = strdup(date ? date : "");
    const char *type = m->str[META_TYPE], *subject = m->str[META_SUBJECT];
    if (has_text(type) && has_text(subject))
        rw->cell[COL_SUBJECT] = fmt("%s — %s", type, subject);
    else
        rw->cell[COL_SUBJECT] = strdup(has_text(type) ? type : has_text(subject) ? subject : "");
    /* Recipient, forwarding date and signature are written on the printed
     * register by hand. */
    rw->cell[COL_RECIPIENT] = strdup("");
    rw->cell[COL_FORWARDED] = strdup("");
    rw->cell[COL_SIGNATURE] = strdup("");
    const char *note = has_text(d->note) ? d->note : NULL;
    switch (d->state) {
    case DOC_SENT:
        rw->cell[COL_NOTE] = strdup("bản sao điện tử đã gửi");
        break;
    case DOC_HELD:
        rw->cell[COL_NOTE] = strdup(note ? note : "");
        break;
    case DOC_DISCARDED:
        rw->cell[COL_NOTE] = note ? fmt("đã hủy: %s", note) : strdup("đã hủy");
        break;
    default:
        rw->cell[COL_NOTE] = strdup("");
        break;
    }
    for (int i = 0; i < NCOLS; i++)
        if (!rw->cell[i]) {
            row_free(rw);
            return -1;
        }
    return 0;
}

/* Checks the range before anything is written, so that a typo gives a
 * message instead of an empty register. */
static int check_range(const char *from_day, const char *to_day, sohoa_err *err)
{
    time_t from, to;
    if (!from_day || vntime_parse_date(from_day, &from) != 0)
        return err_set(err, SOHOA_EINPUT,
                       "register export: first day \"%s\" is not a date; use YYYY-MM-DD",
                       from_day ? from_day : "");
    if (!to_day || vntime_parse_date(to_day, &to) != 0)
        return err_set(err, SOHOA_EINPUT,
                       "register export: last day \"%s\" is not a date; use YYYY-MM-DD",
                       to_day ? to_day : "");
    if (to < from)
        return err_set(err, SOHOA_EINPUT,
                       "register export: range %s..%s ends before it starts; swap the days",
                       from_day, to_day);
    return 0;
}

/* Makes sure a failure reported through a callback's return value carries
 * a message. */
static int fail_generic(sohoa_err *err, const char *what)
{
    if (err && err->status == SOHOA_OK)
        err_set(err, SOHOA_EWORK, "register export: %s failed", what);
    return -1;
}

/* ---- CSV ----------------------------------------------------------------- */

/* RFC 4180: a field holding a comma, quote or line break is quoted, with
 * quotes doubled. */
static void csv_field(FILE *out, const char *s)
{
    /* Text read off a scan is untrusted: a cell starting like a formula
     * (=, +, -, @) would be run by a spreadsheet, so it gets a leading
     * apostrophe, which spreadsheets show as text and do not display. */
    int formula = strchr("=+-@\t", s[0]) && s[0];
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_row(FILE *out, const char *const *cells)
{
    for (int i = 0; i < NCOLS; i++) {
        if (i)
            fputc(',', out);
        csv_field(out, cells[i]);
    }
    fputs("\r\n", out);
}

typedef struct csv_ctx {
    FILE *out;
    sohoa_err *err;
} csv_ctx;

static int csv_each(void *vctx, const reg_doc *d)
{
    csv_ctx *c = vctx;
    row rw;
    if (row_make(d, &rw) != 0)
        return err_set(c->err, SOHOA_EWORK, "register export: out of memory");
    csv_row(c->out, (const char *const *)rw.cell);
    row_free(&rw);
    /* Stop early on a full disk rather than format every remaining row. */
    return ferror(c->out) ? err_errno(c->err, SOHOA_EWORK, errno ? errno : EIO,
                                      "register export: writing the CSV failed")
                          : 0;
}

int register_export_csv(reg *r, const char *from_day, const char *to_day, FILE *out, sohoa_err *err)
{
    if (check_range(from_day, to_day, err) != 0)
        return -1;
    /* The BOM tells spreadsheet programs the file is UTF-8. */
    fputs("\xEF\xBB\xBF", out);
    csv_row(out, col_name);
    csv_ctx c = {.out = out, .err = err};
    if (reg_each_registered(r, from_day, to_day, csv_each, &c, err) != 0)
        return fail_generic(err, "reading the register");
    if (fflush(out) != 0 || ferror(out))
        return err_errno(err, SOHOA_EWORK, errno ? errno : EIO,
                         "register export: writing the CSV failed");
    return 0;
}

/* ---- PDF layout ---------------------------------------------------------- */

/* A4 landscape, in points. */
#define PAGE_W 842.0
#define PAGE_H 595.0
#define MARGIN_X 28.0
#define MARGIN_TOP 30.0
#define TABLE_BOTTOM 40.0 /* lowest a row may reach; the page number is below */
#define FOOTER_Y 20.0
#define TITLE_SIZE 14.0
#define ORGAN_SIZE 11.0
#define RANGE_SIZE 10.0
#define BODY_SIZE 9.0
#define LINE_H (BODY_SIZE * 1.2)
#define PAD_X 3.0
#define PAD_Y 2.5
#define RULE_W 0.5

/* Lines of wrapped text, each kept as the hex glyph codes of a Tj string
 * (without the angle brackets) and its width in points. */
typedef struct text_lines {
    pdf_buf hex; /* the lines one after another, each NUL-terminated */
    size_t *off;
    double *w;
    size_t n, cap;
} text_lines;

static void lines_free(text_lines *tl)
{
    pdf_buf_free(&tl->hex);
    free(tl->off);
    free(tl->w);
    memset(tl, 0, sizeof *tl);
}

static const char *line_hex(const text_lines *tl, size_t i)
{
    return (const char *)tl->hex.data + tl->off[i];
}

typedef struct layout {
    sigfont *font;
    sohoa_err *err;
    pdf_buf scratch; /* sigfont_encode output, before the brackets come off */
    char space[8];   /* hex of the space glyph */
    double space_w;  /* its advance, 1/1000 em */
    double ascent;   /* 1/1000 em */
    double colx[NCOLS + 1];
    text_lines head[NCOLS];
    double head_h;
    pdf_buf *page; /* content streams, one per page */
    size_t npages, cap;
    double y;         /* where the next row starts on the current page */
    double table_top; /* top of the table on the current page */
    int rows_here;    /* rows (or parts) drawn on the current page */
    long nrows;
    const char *title[3]; /* title, organ name, range, for the first page */
    double title_size[3];
} layout;

static int lay_oom(layout *L)
{
    return err_set(L->err, SOHOA_EWORK, "register export: out of memory laying out the PDF");
}

static int lines_push(layout *L, text_lines *tl, const pdf_buf *hex, double w)
{
    if (tl->n == tl->cap) {
        size_t ncap = tl->cap ? tl->cap * 2 : 4;
        size_t *o = realloc(tl->off, ncap * sizeof *o);
        if (o)
            tl->off = o;
        double *ww = o ? realloc(tl->w, ncap * sizeof *ww) : NULL;
        if (!ww)
            return lay_oom(L);
        tl->w = ww;
        tl->cap = ncap;
    }
    tl->off[tl->n] = tl->hex.len;
    tl->w[tl->n] = w;
    tl->n++;
    pdf_buf_put(&tl->hex, hex->data, hex->len);
    pdf_buf_put(&tl->hex, "", 1);
    return tl->hex.oom ? lay_oom(L) : 0;
}

/* Encodes one piece of text (a word or a character), appending its glyph
 * codes to `dst` and adding its advance (1/1000 em) to *w. A character the
 * font lacks is drawn as '?': one odd symbol in a subject must not stop
 * the whole register from printing. */
static int encode_piece(layout *L, const char *s, pdf_buf *dst, double *w)
{
    sohoa_err e = {0};
    double pw = 0;
    L->scratch.len = 0;
    if (sigfont_encode(L->font, s, &L->scratch, &pw, &e) == 0) {
        pdf_buf_put(dst, L->scratch.data + 1, L->scratch.len - 2);
        *w += pw;
        return dst->oom ? lay_oom(L) : 0;
    }
    if (e.status != SOHOA_EINPUT)
        return err_set(L->err, e.status, "register export: %s", e.msg);
    size_t len = strlen(s);
    ucs4_t cp;
    int n = u8_mbtouc(&cp, (const uint8_t *)s, len);
    if ((size_t)n >= len) {
        /* A single character: replace it. */
        if (strcmp(s, "?") == 0)
            return err_set(L->err, SOHOA_EINPUT, "register export: %s", e.msg);
        return encode_piece(L, "?", dst, w);
    }
    /* Several characters: find the one at fault. */
    for (size_t i = 0; i < len; i += (size_t)n) {
        n = u8_mbtouc(&cp, (const uint8_t *)s + i, len - i);
        char one[8];
        memcpy(one, s + i, (size_t)n);
        one[n] = '\0';
        if (encode_piece(L, one, dst, w) != 0)
            return -1;
    }
    return 0;
}

/* A copy of `s` fit for drawing: NFC, line breaks and other control
 * characters as spaces, invalid UTF-8 bytes as '?'. */
static char *drawable(const char *s)
{
    size_t len = strlen(s), j = 0;
    uint8_t *clean = malloc(len + 1);
    if (!clean)
        return NULL;
    for (size_t i = 0; i < len;) {
        ucs4_t cp;
        int n = u8_mbtoucr(&cp, (const uint8_t *)s + i, len - i);
        if (n < 0) {
            clean[j++] = '?';
            i++;
        } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            clean[j++] = ' ';
            i += (size_t)n;
        } else {
            memcpy(clean + j, s + i, (size_t)n);
            j += (size_t)n;
            i += (size_t)n;
        }
    }
    if (j == 0) {
        free(clean);
        return strdup("");
    }
    size_t nlen = 0;
    uint8_t *nfc = u8_normalize(UNINORM_NFC, clean, j, NULL, &nlen);
    free(clean);
    if (!nfc)
        return NULL;
    char *out = malloc(nlen + 1);
    if (out) {
        if (nlen)
            memcpy(out, nfc, nlen);
        out[nlen] = '\0';
    }
    free(nfc);
    return out;
}

/* Breaks `text` into lines at most `maxw` points wide at `size` points:
 * greedy by words; a word wider than a line is cut between characters. */
static int wrap(layout *L, const char *text, double size, double maxw, text_lines *tl)
{
    memset(tl, 0, sizeof *tl);
    char *s = drawable(text);
    if (!s)
        return lay_oom(L);
    double lim = maxw * 1000.0 / size; /* in 1/1000 em, like the widths */
    pdf_buf line = {0}, word = {0};
    double lw = 0;
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(s, " ", &save); tok && rc == 0;
         tok = strtok_r(NULL, " ", &save)) {
        double ww = 0;
        word.len = 0;
        if ((rc = encode_piece(L, tok, &word, &ww)) != 0)
            break;
        if (line.len && lw + L->space_w + ww <= lim) {
            pdf_buf_puts(&line, L->space);
            pdf_buf_put(&line, word.data, word.len);
            lw += L->space_w + ww;
            continue;
        }
        if (line.len) {
            rc = lines_push(L, tl, &line, lw * size / 1000.0);
            line.len = 0;
            lw = 0;
        }
        if (rc == 0 && ww <= lim) {
            pdf_buf_put(&line, word.data, word.len);
            lw = ww;
            continue;
        }
        /* Too wide for any line: cut it between characters. */
        size_t tlen = strlen(tok);
        for (size_t i = 0; i < tlen && rc == 0;) {
            ucs4_t cp;
            int n = u8_mbtouc(&cp, (const uint8_t *)tok + i, tlen - i);
            char one[8];
            memcpy(one, tok + i, (size_t)n);
            one[n] = '\0';
            i += (size_t)n;
            double cw = 0;
            word.len = 0;
            if ((rc = encode_piece(L, one, &word, &cw)) != 0)
                break;
            if (line.len && lw + cw > lim) {
                rc = lines_push(L, tl, &line, lw * size / 1000.0);
                line.len = 0;
                lw = 0;
            }
            pdf_buf_put(&line, word.data, word.len);
            lw += cw;
        }
    }
    if (rc == 0 && line.len)
        rc = lines_push(L, tl, &line, lw * size / 1000.0);
    if (rc == 0 && (line.oom || word.oom))
        rc = lay_oom(L);
    pdf_buf_free(&line);
    pdf_buf_free(&word);
    free(s);
    if (rc != 0)
        lines_free(tl);
    return rc;
}

static pdf_buf *cur_page(layout *L)
{
    return &L->page[L->npages - 1];
}

/* Draws one line of glyph codes with its baseline at (x, y). */
static void draw_text(pdf_buf *c, double size, double x, double y, const char *hex)
{
    pdf_buf_puts(c, "BT /F1 ");
    pdf_buf_num(c, size);
    pdf_buf_puts(c, " Tf ");
    pdf_buf_num(c, x);
    pdf_buf_puts(c, " ");
    pdf_buf_num(c, y);
    pdf_buf_printf(c, " Td <%s> Tj ET\n", hex);
}

static void draw_line(pdf_buf *c, double x1, double y1, double x2, double y2)
{
    pdf_buf_num(c, x1);
    pdf_buf_puts(c, " ");
    pdf_buf_num(c, y1);
    pdf_buf_puts(c, " m ");
    pdf_buf_num(c, x2);
    pdf_buf_puts(c, " ");
    pdf_buf_num(c, y2);
    pdf_buf_puts(c, " l S\n");
}

/* Lines [from, to) of a cell, the first with its top at `top`. */
static void draw_cell(layout *L, const text_lines *tl, int col, size_t from, size_t to, double top,
                      int center)
{
    pdf_buf *c = cur_page(L);
    double x0 = L->colx[col] + PAD_X, inner = L->colx[col + 1] - L->colx[col] - 2 * PAD_X;
    for (size_t i = from; i < to && i < tl->n; i++) {
        double base = top - PAD_Y - L->ascent * BODY_SIZE / 1000.0 - (double)(i - from) * LINE_H;
        double x = center ? x0 + (inner - tl->w[i]) / 2 : x0;
        draw_text(c, BODY_SIZE, x, base, line_hex(tl, i));
    }
}

/* The vertical rules of the table on the current page, down to `bottom`. */
static void close_table(layout *L, double bottom)
{
    pdf_buf *c = cur_page(L);
    for (int i = 0; i <= NCOLS; i++)
        draw_line(c, L->colx[i], L->table_top, L->colx[i], bottom);
}

/* Title lines centred across the page, from the top margin down. */
static int draw_title(layout *L)
{
    double y = PAGE_H - MARGIN_TOP;
    for (int k = 0; k < 3; k++) {
        if (!L->title[k] || !*L->title[k])
            continue;
        double size = L->title_size[k];
        text_lines tl;
        if (wrap(L, L->title[k], size, PAGE_W - 2 * MARGIN_X, &tl) != 0)
            return -1;
        for (size_t i = 0; i < tl.n; i++) {
            double base = y - L->ascent * size / 1000.0;
            draw_text(cur_page(L), size, (PAGE_W - tl.w[i]) / 2, base, line_hex(&tl, i));
            y -= size * 1.25;
        }
        lines_free(&tl);
        y -= 2;
    }
    L->y = y - 8;
    return 0;
}

/* Starts a page: the title on the first one, then the header row. */
static int new_page(layout *L)
{
    if (L->npages > 0)
        close_table(L, L->y);
    if (L->npages == L->cap) {
        size_t ncap = L->cap ? L->cap * 2 : 8;
        pdf_buf *p = realloc(L->page, ncap * sizeof *p);
        if (!p)
            return lay_oom(L);
        L->page = p;
        L->cap = ncap;
    }
    memset(&L->page[L->npages++], 0, sizeof(pdf_buf));
    pdf_buf *c = cur_page(L);
    pdf_buf_puts(c, "0 G 0 g ");
    pdf_buf_num(c, RULE_W);
    pdf_buf_puts(c, " w\n");
    L->y = PAGE_H - MARGIN_TOP;
    if (L->npages == 1 && draw_title(L) != 0)
        return -1;
    L->table_top = L->y;
    L->rows_here = 0;
    /* Header row on a light grey band, names centred. */
    double x0 = L->colx[0], x1 = L->colx[NCOLS];
    pdf_buf_puts(c, "0.9 g ");
    pdf_buf_num(c, x0);
    pdf_buf_puts(c, " ");
    pdf_buf_num(c, L->y - L->head_h);
    pdf_buf_puts(c, " ");
    pdf_buf_num(c, x1 - x0);
    pdf_buf_puts(c, " ");
    pdf_buf_num(c, L->head_h);
    pdf_buf_puts(c, " re f 0 g\n");
    for (int i = 0; i < NCOLS; i++) {
        /* Centre the header's lines vertically too. */
        double top = L->y - (L->head_h - 2 * PAD_Y - (double)L->head[i].n * LINE_H) / 2;
        draw_cell(L, &L->head[i], i, 0, L->head[i].n, top, 1);
    }
    draw_line(c, x0, L->y, x1, L->y);
    L->y -= L->head_h;
    draw_line(c, x0, L->y, x1, L->y);
    return c->oom ? lay_oom(L) : 0;
}

/* Lays one register row out, across pages when it must. */
static int layout_row(layout *L, const row *rw)
{
    text_lines cell[NCOLS];
    memset(cell, 0, sizeof cell);
    size_t nlines = 1;
    int rc = 0;
    for (int i = 0; i < NCOLS && rc == 0; i++) {
        rc = wrap(L, rw->cell[i], BODY_SIZE, L->colx[i + 1] - L->colx[i] - 2 * PAD_X, &cell[i]);
        if (rc == 0 && cell[i].n > nlines)
            nlines = cell[i].n;
    }
    size_t done = 0;
    while (rc == 0 && done < nlines) {
        double room = L->y - TABLE_BOTTOM - 2 * PAD_Y;
        size_t fit = room > 0 ? (size_t)floor(room / LINE_H) : 0;
        size_t rest = nlines - done;
        /* A row that fits on a fresh page is never split; one taller than
         * a whole page is, at the page end. */
        double fresh = PAGE_H - MARGIN_TOP - L->head_h - TABLE_BOTTOM - 2 * PAD_Y;
        if (fit < rest && (fit == 0 || (L->rows_here > 0 && rest * LINE_H <= fresh))) {
            rc = new_page(L);
            continue;
        }
        size_t n = rest < fit ? rest : fit;
        for (int i = 0; i < NCOLS; i++)
            draw_cell(L, &cell[i], i, done, done + n, L->y, i == COL_SO_DEN);
        L->y -= (double)n * LINE_H + 2 * PAD_Y;
        draw_line(cur_page(L), L->colx[0], L->y, L->colx[NCOLS], L->y);
        L->rows_here++;
        done += n;
        if (done < nlines)
            rc = new_page(L);
    }
    for (int i = 0; i < NCOLS; i++)
        lines_free(&cell[i]);
    if (rc == 0 && cur_page(L)->oom)
        rc = lay_oom(L);
    return rc;
}

static int pdf_each(void *vctx, const reg_doc *d)
{
    layout *L = vctx;
    row rw;
    if (row_make(d, &rw) != 0)
        return lay_oom(L);
    int rc = layout_row(L, &rw);
    row_free(&rw);
    L->nrows++;
    return rc;
}

/* "Trang N/M" at the foot of every page, once M is known. */
static int add_page_numbers(layout *L)
{
    for (size_t p = 0; p < L->npages; p++) {
        char label[64];
        snprintf(label, sizeof label, "Trang %zu/%zu", p + 1, L->npages);
        pdf_buf hex = {0};
        double w = 0;
        if (encode_piece(L, label, &hex, &w) != 0) {
            pdf_buf_free(&hex);
            return -1;
        }
        pdf_buf_put(&hex, "", 1);
        if (hex.oom) {
            pdf_buf_free(&hex);
            return lay_oom(L);
        }
        w *= BODY_SIZE / 1000.0;
        draw_text(&L->page[p], BODY_SIZE, (PAGE_W - w) / 2, FOOTER_Y, (const char *)hex.data);
        pdf_buf_free(&hex);
    }
    return 0;
}

/* ---- PDF file ------------------------------------------------------------ */

/* A PDF text string for the document information: UTF-16BE with a BOM, in
 * hex, so that Vietnamese titles survive. */
static void put_text_string(pdf_buf *o, const char *s)
{
    pdf_buf_puts(o, "<FEFF");
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        ucs4_t cp;
        int n = u8_mbtouc(&cp, (const uint8_t *)s + i, len - i);
        i += (size_t)n;
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            pdf_buf_printf(o, "%04X%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        } else {
            pdf_buf_printf(o, "%04X", (unsigned)cp);
        }
    }
    pdf_buf_puts(o, ">");
}

typedef struct pdf_out {
    pdf_buf b;
    size_t *off; /* byte offset of each object, by number */
    int nobj;
} pdf_out;

static void obj_begin(pdf_out *o, int num)
{
    o->off[num] = o->b.len;
    pdf_buf_printf(&o->b, "%d 0 obj\n", num);
}

static void obj_end(pdf_out *o)
{
    pdf_buf_puts(&o->b, "\nendobj\n");
}

/* A content stream object, deflated. */
static int put_content(pdf_out *o, int num, const pdf_buf *c)
{
    uLongf zlen = compressBound(c->len);
    unsigned char *z = malloc(zlen);
    if (!z || compress2(z, &zlen, c->data ? c->data : (const uint8_t *)"", c->len, 9) != Z_OK) {
        free(z);
        return -1;
    }
    obj_begin(o, num);
    pdf_buf_printf(&o->b, "<< /Length %lu /Filter /FlateDecode >>\nstream\n", (unsigned long)zlen);
    pdf_buf_put(&o->b, z, zlen);
    pdf_buf_puts(&o->b, "\nendstream");
    obj_end(o);
    free(z);
    return 0;
}

/* Objects: 1 catalog, 2 page tree, then each page and its content, then
 * the font's SIGFONT_NOBJS objects, then the document information. */
static int assemble(layout *L, const char *doc_title, pdf_out *o)
{
    int npages = (int)L->npages;
    int font_obj = 3 + 2 * npages, info_obj = font_obj + SIGFONT_NOBJS;
    o->nobj = info_obj + 1;
    o->off = calloc((size_t)o->nobj, sizeof *o->off);
    if (!o->off)
        return lay_oom(L);
    pdf_buf font[SIGFONT_NOBJS];
    if (sigfont_build_objects(L->font, font_obj, font, L->err) != 0) {
        for (int i = 0; i < SIGFONT_NOBJS; i++)
            pdf_buf_free(&font[i]);
        return -1;
    }
    /* The binary comment marks the file as binary for transfer tools. */
    pdf_buf_puts(&o->b, "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
    obj_begin(o, 1);
    pdf_buf_puts(&o->b, "<< /Type /Catalog /Pages 2 0 R >>");
    obj_end(o);
    obj_begin(o, 2);
    pdf_buf_puts(&o->b, "<< /Type /Pages /Kids [");
    for (int p = 0; p < npages; p++)
        pdf_buf_printf(&o->b, "%s%d 0 R", p ? " " : "", 3 + 2 * p);
    pdf_buf_printf(&o->b, "] /Count %d >>", npages);
    obj_end(o);
    int rc = 0;
    for (int p = 0; p < npages && rc == 0; p++) {
        obj_begin(o, 3 + 2 * p);
        pdf_buf_printf(&o->b,
                       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] "
                       "/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
                       font_obj, 4 + 2 * p);
        obj_end(o);
        rc = put_content(o, 4 + 2 * p, &L->page[p]);
    }
    for (int i = 0; i < SIGFONT_NOBJS; i++) {
        obj_begin(o, font_obj + i);
        pdf_buf_put(&o->b, font[i].data, font[i].len);
        obj_end(o);
        pdf_buf_free(&font[i]);
    }
    obj_begin(o, info_obj);
    pdf_buf_puts(&o->b, "<< /Title ");
    put_text_string(&o->b, doc_title);
    pdf_buf_puts(&o->b, " /Producer (sohoa) >>");
    obj_end(o);

    size_t xref = o->b.len;
    pdf_buf_printf(&o->b, "xref\n0 %d\n0000000000 65535 f \n", o->nobj);
    for (int i = 1; i < o->nobj; i++)
        pdf_buf_printf(&o->b, "%010zu 00000 n \n", o->off[i]);
    pdf_buf_printf(&o->b,
                   "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
                   o->nobj, info_obj, xref);
    if (rc != 0 || o->b.oom)
        return lay_oom(L);
    return 0;
}

/* "dd/mm/yyyy" of a valid "YYYY-MM-DD". */
static void vn_day(const char *iso, char out[11])
{
    snprintf(out, 11, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
}

int register_export_pdf(reg *r, const char *from_day, const char *to_day, const char *organ_name,
                        const char *path, sohoa_err *err)
{
    if (check_range(from_day, to_day, err) != 0)
        return -1;
    layout L;
    memset(&L, 0, sizeof L);
    L.err = err;
    pdf_out o;
    memset(&o, 0, sizeof o);
    char from_vn[11], to_vn[11];
    vn_day(from_day, from_vn);
    vn_day(to_day, to_vn);
    char *range = fmt("Từ ngày %s đến ngày %s", from_vn, to_vn);
    char *doc_title = fmt("Sổ đăng ký văn bản đến, %s – %s", from_vn, to_vn);
    int rc = -1;
    if (!range || !doc_title) {
        lay_oom(&L);
        goto out;
    }
    if (!(L.font = sigfont_open(NULL, err)))
        goto out;
    L.ascent = sigfont_ascent(L.font);
    pdf_buf sp = {0};
    double spw = 0;
    if (encode_piece(&L, " ", &sp, &spw) != 0 || sp.len >= sizeof L.space) {
        pdf_buf_free(&sp);
        goto out;
    }
    memcpy(L.space, sp.data, sp.len);
    L.space_w = spw;
    pdf_buf_free(&sp);

    double x = MARGIN_X, width = PAGE_W - 2 * MARGIN_X;
    for (int i = 0; i < NCOLS; i++) {
        L.colx[i] = x;
        x += width * col_share[i] / 100.0;
    }
    L.colx[NCOLS] = PAGE_W - MARGIN_X;
    size_t head_lines = 1;
    for (int i = 0; i < NCOLS; i++) {
        if (wrap(&L, col_name[i], BODY_SIZE, L.colx[i + 1] - L.colx[i] - 2 * PAD_X, &L.head[i]) !=
            0)
            goto out;
        if (L.head[i].n > head_lines)
            head_lines = L.head[i].n;
    }
    L.head_h = (double)head_lines * LINE_H + 2 * PAD_Y;
    L.title[0] = "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN";
    L.title[1] = organ_name;
    L.title[2] = range;
    L.title_size[0] = TITLE_SIZE;
    L.title_size[1] = ORGAN_SIZE;
    L.title_size[2] = RANGE_SIZE;

    if (new_page(&L) != 0)
        goto out;
    if (reg_each_registered(r, from_day, to_day, pdf_each, &L, err) != 0) {
        fail_generic(err, "reading the register");
        goto out;
    }
    double bottom = L.y;
    if (L.nrows == 0) {
        /* Say so, rather than print a bare header that looks truncated. */
        text_lines tl;
        if (wrap(&L, "Không có văn bản đến trong khoảng thời gian này.", BODY_SIZE,
                 PAGE_W - 2 * MARGIN_X, &tl) != 0)
            goto out;
        for (size_t i = 0; i < tl.n; i++)
            draw_text(cur_page(&L), BODY_SIZE, L.colx[0] + PAD_X,
                      bottom - 8 - L.ascent * BODY_SIZE / 1000.0 - (double)i * LINE_H,
                      line_hex(&tl, i));
        lines_free(&tl);
    }
    close_table(&L, bottom);
    if (add_page_numbers(&L) != 0 || assemble(&L, doc_title, &o) != 0)
        goto out;

    atomic_file af;
    if (atomic_open(&af, path, 0644, err) != 0)
        goto out;
    if (fwrite(o.b.data, 1, o.b.len, af.f) != o.b.len) {
        err_errno(err, SOHOA_EWORK, errno ? errno : EIO, "%s: write failed", path);
        atomic_abort(&af);
        goto out;
    }
    rc = atomic_commit(&af, err);
out:
    pdf_buf_free(&o.b);
    free(o.off);
    for (size_t p = 0; p < L.npages; p++)
        pdf_buf_free(&L.page[p]);
    free(L.page);
    for (int i = 0; i < NCOLS; i++)
        lines_free(&L.head[i]);
    pdf_buf_free(&L.scratch);
    sigfont_free(L.font);
    free(range);
    free(doc_title);
    return rc;
}
