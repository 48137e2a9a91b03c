/* extract_header.c — issuing bodies, title (type) and subject.
 *
 * Standards §5: the left column holds the superior body, then the issuing
 * body (upper case, lines centred on each other), then "Số"; the title
 * ("QUYẾT ĐỊNH") and the subject are centred under the two columns; a
 * công văn has no title and its subject ("V/v ...") sits under "Số" in
 * the left column.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract_ctx.h"
#include "extract_lex.h"
#include "vntext.h"

static int row_cx(const page_layout *pl, const lay_row *r, size_t from, size_t to)
{
    ocr_box b;
    float conf;
    if (!layout_span_box(pl, r, from, to, &b, &conf))
        return -1;
    return (b.x0 + b.x1) / 2;
}

static bool starts_with_fold(const char *text, const char *prefix)
{
    char *f = vn_fold(text);
    bool ok = f && strncmp(f, prefix, strlen(prefix)) == 0;
    free(f);
    return ok;
}

/* Urgency and classification marks live between the header and the title;
 * they are not titles nor subject lines. */
static bool is_mark_line(const char *text)
{
    static const char *const marks[] = {"khan", "thuongkhan", "hoatoc", "hoatochengio",
                                        "mat", "toimat", "tuyetmat"};
    char *f = vn_fold(text);
    if (!f)
        return false;
    size_t k = 0;
    for (size_t i = 0; f[i]; i++)
        if (isalpha((unsigned char)f[i]))
            f[k++] = f[i];
    f[k] = '\0';
    bool m = false;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        m = m || strcmp(f, marks[i]) == 0;
    free(f);
    return m;
}

/* Page centre of the text block. */
static int text_cx(const page_layout *pl)
{
    return (pl->text_x0 + pl->text_x1) / 2;
}

static size_t header_last_row(const extract_ctx *c)
{
    size_t last = EX_NONE;
    if (c->number_row != EX_NONE)
        last = c->number_row;
    if (c->date_row != EX_NONE && (last == EX_NONE || c->date_row > last))
        last = c->date_row;
    return last;
}

/* Whether word j of row r is set apart from word k (its neighbour) by
 * more than two line heights, and not in capitals. */
static bool stray_word(const page_layout *pl, const lay_row *r, size_t j, size_t k)
{
    const lay_word *w = lay_at(pl, r, j), *n = lay_at(pl, r, k);
    int gap = j > k ? w->box.x0 - n->box.x1 : n->box.x0 - w->box.x1;
    return gap > 2 * r->h && ex_upper_share(w->text) < 0.6f;
}

/* The words of a title row: a speck or a stamp's remnant read well apart
 * from the title ("THÔNG BÁO        am.") is not part of it, would hide
 * the title's name and pull its axis off the subject's. */
static void title_span(const page_layout *pl, const lay_row *r, size_t *from, size_t *to)
{
    *from = 0;
    *to = r->n;
    while (*to > *from + 1 && stray_word(pl, r, *to - 1, *to - 2))
        (*to)--;
    while (*to > *from + 1 && stray_word(pl, r, *from, *from + 1))
        (*from)++;
}

static void find_title(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    size_t last = header_last_row(c);
    size_t start = last == EX_NONE ? 0 : last + 1;
    int cx0 = text_cx(pl);
    for (size_t ri = start; ri < pl->nrows && ri < start + 8; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y0 > pl->height * 6 / 10)
            break;
        size_t from, to;
        title_span(pl, r, &from, &to);
        char *t = layout_span_text(pl, r, from, to);
        if (!t) {
            c->oom = true;
            return;
        }
        int cx = row_cx(pl, r, from, to);
        int dist = 0;
        int ty = -1;
        if (t[0] && !is_mark_line(t) && ex_upper_share(t) >= 0.7f &&
            labs(cx - cx0) < pl->width / 7)
            ty = lex_type_by_title(t, &dist);
        free(t);
        if (ty < 0)
            continue;
        float conf;
        ocr_box b;
        layout_span_box(pl, r, from, to, &b, &conf);
        c->title_row = ri;
        c->type_from_title = ty;
        c->title_conf = conf * (dist == 0 ? 1.0f : 0.85f);
        return;
    }
}

/* Appends `s` to *acc with one space. */
static int append(char **acc, const char *s)
{
    size_t a = *acc ? strlen(*acc) : 0, b = strlen(s);
    char *n = realloc(*acc, a + b + 2);
    if (!n)
        return -1;
    if (a)
        n[a++] = ' ';
    memcpy(n + a, s, b + 1);
    *acc = n;
    return 0;
}

/* A subject ends where the body starts: "Kính gửi", "Căn cứ", an article,
 * or an upper-case line (the authority line "CHỦ TỊCH ỦY BAN NHÂN DÂN ..."
 * of a decision). */
static bool subject_stop(const char *t)
{
    if (starts_with_fold(t, "kinh gui") || starts_with_fold(t, "can cu") ||
        starts_with_fold(t, "dieu 1") || starts_with_fold(t, "noi nhan"))
        return true;
    vn_case_stats st;
    vn_case_count(t, &st);
    return st.letters >= 6 && (float)st.upper / (float)st.letters >= 0.85f;
}

/* Length in bytes of the "V/v" that starts `s` as print and OCR leave it:
 * "V/v", "V.v", "V/V", the slash read as "|" or "\\" or lost ("V v",
 * "V/ v"), followed by a space, ':' or '.'; 0 if `s` starts otherwise. */
static size_t vv_prefix(const char *s)
{
    if (tolower((unsigned char)s[0]) != 'v')
        return 0;
    size_t i = 1;
    while (i < 3 && s[i] && strchr("/.|\\ ", s[i]))
        i++;
    if (tolower((unsigned char)s[i]) != 'v')
        return 0;
    i++;
    return !s[i] || strchr(" :.", s[i]) ? i : 0;
}

/* "V/v" (về việc) is written out: interfaces.md compares subjects after
 * normalising it, and the register wants the words. */
static char *expand_vv(const char *s)
{
    size_t skip = vv_prefix(s);
    if (!skip)
        return strdup(s);
    const char *rest = s + skip; /* "V/v" is ASCII: bytes = fold chars */
    while (*rest == ':' || *rest == '.' || *rest == ' ')
        rest++;
    size_t l = strlen(rest) + 16;
    char *o = malloc(l);
    if (o)
        snprintf(o, l, "Về việc %s", rest);
    return o;
}

/* Share of words that carry a diacritic: Vietnamese prose is full of
 * them; OCR that dropped them leaves a subject the clerk must retype. */
static float marked_word_share(const char *s)
{
    int words = 0, marked = 0;
    bool in = false, m = false;
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        bool letter = *p >= 0x80 || isalpha(*p);
        if (letter) {
            if (!in) {
                in = true;
                m = false;
            }
            if (*p >= 0x80)
                m = true;
        } else if (in) {
            words++;
            marked += m;
            in = false;
        }
        if (!*p)
            break;
    }
    return words ? (float)marked / (float)words : 1.0f;
}

/* "Tết N guyén": a lone capital before a lower-case word is a word the
 * OCR cut in two. */
static bool split_word(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 1; p[i] && p[i + 1] && p[i + 2]; i++)
        if (p[i - 1] == ' ' && isupper(p[i]) && p[i + 1] == ' ' && p[i] != 'V' &&
            (islower(p[i + 2]) || p[i + 2] >= 0x80))
            return true;
    return false;
}

/* Whether the subject ends on a word that leads into more ("… chữ ký số
 * trong", "… 6 tháng đầu năm"): its last line was lost, to a stamp or to
 * the body. Compared with their marks: "trong" leads on, "trồng" ends
 * "cây trồng". "đến" is not among them: "văn bản đến" (incoming) ends
 * a subject in this trade. "ủy" ends a Party committee's name ("Tỉnh
 * ủy", "Đảng ủy") and nothing else ("Ủy ban", "ủy quyền"). */
static bool ends_unfinished(const char *s)
{
    static const char *const leading[] = {
        "và",  "của", "trong", "các", "những", "cho", "với",  "về",   "để", "tại",  "theo",
        "trên", "từ", "năm",  "đầu", "thuộc", "giữa",  "như",  "hoặc", "là", "ở",
    };
    static const char *const committees[] = {"tỉnh", "thành", "huyện", "quận", "thị", "đảng",
                                             "khối", "xã"};
    char *low = vn_lower(s);
    size_t n = low ? strlen(low) : 0;
    while (n && (unsigned char)low[n - 1] < 0x80 && !isalnum((unsigned char)low[n - 1]))
        low[--n] = '\0';
    const char *last = low ? strrchr(low, ' ') : NULL;
    last = last ? last + 1 : low;
    bool open = false;
    for (size_t i = 0; last && i < sizeof leading / sizeof leading[0] && !open; i++)
        open = strcmp(last, leading[i]) == 0;
    if (last && last > low && strcmp(last, "ủy") == 0) {
        open = true;
        const char *prev = last - 1;
        while (prev > low && prev[-1] != ' ')
            prev--;
        size_t pn = (size_t)(last - 1 - prev);
        for (size_t i = 0; i < sizeof committees / sizeof committees[0] && open; i++)
            open = !(strlen(committees[i]) == pn && strncmp(prev, committees[i], pn) == 0);
    }
    free(low);
    return open;
}

static void set_subject(extract_ctx *c, char *acc, float conf_sum, int nconf)
{
    char *s = expand_vv(acc);
    if (!s) {
        c->oom = true;
        return;
    }
    float conf = nconf ? conf_sum / (float)nconf : 0;
    vn_case_stats st;
    vn_case_count(acc, &st);
    if (st.words >= 5 && marked_word_share(acc) < 0.45f)
        conf *= 0.5f;
    if (split_word(acc))
        conf *= 0.7f;
    if (ends_unfinished(s) && conf > 0.7f)
        conf = 0.7f;
    ex_set(c, META_SUBJECT, s, conf);
    free(s);
}

/* Subject centred under the title. */
static bool title_subject(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    const lay_row *title = &pl->rows[c->title_row];
    size_t from, to;
    title_span(pl, title, &from, &to);
    int axis = row_cx(pl, title, from, to);
    int prev_y1 = title->box.y1;
    char *acc = NULL;
    float sum = 0;
    int n = 0, lines = 0;
    for (size_t ri = c->title_row + 1; ri < pl->nrows && lines < 6; ri++) {
        const lay_row *r = &pl->rows[ri];
        char *t = layout_span_text(pl, r, 0, r->n);
        if (!t) {
            c->oom = true;
            break;
        }
        /* a mark read apart from its letters, a speck: a row of one
         * letter, lower than a line or off the title's axis (a black
         * stamp's piece: "-"), is none of the subject's lines */
        vn_case_stats cs;
        vn_case_count(t, &cs);
        int cx = row_cx(pl, r, 0, r->n);
        int tol = r->h;
        if (cs.letters < 2 && (r->h < pl->line_h * 7 / 10 || labs(cx - axis) > tol)) {
            free(t);
            continue;
        }
        /* subject lines are centred on the title's axis and set tight;
         * the body is justified to the margins (its indented first line
         * is off-centre) and follows a rule line and a wider gap */
        int gap = r->box.y0 - prev_y1;
        int full = (pl->text_x1 - pl->text_x0) * 95 / 100;
        bool ok = t[0] && !subject_stop(t) && labs(cx - axis) <= tol &&
                  gap <= (lines ? r->h * 8 / 10 : r->h * 3) &&
                  (lines == 0 || r->box.x1 - r->box.x0 < full);
        if (!ok) {
            free(t);
            break;
        }
        if (append(&acc, t) != 0)
            c->oom = true;
        free(t);
        ocr_box b;
        float conf;
        if (layout_span_box(pl, r, 0, r->n, &b, &conf)) {
            sum += conf;
            n++;
        }
        prev_y1 = r->box.y1;
        c->subject_end = ri;
        lines++;
    }
    if (acc)
        set_subject(c, acc, sum, n);
    free(acc);
    /* a stamp's remnant by the title: the subject under it may have lost a
     * word the OCR never saw ("thống kê [định] kỳ"), so it is checked */
    bool stray = from > 0 || to < title->n;
    if (lines > 0 && stray && c->out->confidence[META_SUBJECT] > 0.7f)
        c->out->confidence[META_SUBJECT] = 0.7f;
    return lines > 0;
}

/* Subject of a công văn: "V/v ..." lines under Số in the left column. */
static bool vv_subject(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    if (c->number_row == EX_NONE)
        return false;
    char *acc = NULL;
    float sum = 0;
    int n = 0, lines = 0, axis = 0, prev_y1 = pl->rows[c->number_row].box.y1;
    for (size_t ri = c->number_row + 1; ri < pl->nrows && ri <= c->number_row + 8; ri++) {
        const lay_row *r = &pl->rows[ri];
        size_t from, to;
        ex_left(pl, r, &from, &to);
        /* a long V/v line runs past the column boundary; the next column's
         * text on the same row is further away than a word space */
        while (to > from && to < r->n &&
               lay_at(pl, r, to)->box.x0 - lay_at(pl, r, to - 1)->box.x1 < r->h)
            to++;
        /* a row of the right column alone (a piece of a black stamp
         * beside the subject) neither holds nor ends it: the next line's
         * distance from the last does */
        if (layout_span_count(pl, r, from, to) == 0)
            continue;
        char *t = layout_span_text(pl, r, from, to);
        if (!t) {
            c->oom = true;
            break;
        }
        int cx = row_cx(pl, r, from, to);
        bool ok;
        if (!lines)
            ok = vv_prefix(t) > 0 || starts_with_fold(t, "ve viec ");
        else
            ok = !subject_stop(t) && !is_mark_line(t) && labs(cx - axis) < pl->width / 7 &&
                 r->box.y0 - prev_y1 <= r->h * 14 / 10;
        if (!ok) {
            free(t);
            if (lines || ri > c->number_row + 2)
                break;
            continue;
        }
        if (!lines)
            axis = cx;
        if (append(&acc, t) != 0)
            c->oom = true;
        free(t);
        ocr_box b;
        float conf;
        if (layout_span_box(pl, r, from, to, &b, &conf)) {
            sum += conf;
            n++;
        }
        prev_y1 = r->box.y1;
        c->subject_end = ri;
        lines++;
    }
    if (acc) {
        set_subject(c, acc, sum, n);
        c->cong_van_subject = true;
    }
    free(acc);
    return lines > 0;
}

void ex_find_title_subject(extract_ctx *c)
{
    find_title(c);
    if (c->title_row != EX_NONE && title_subject(c))
        return;
    vv_subject(c);
}

/* ---- issuing bodies ---- */

typedef struct hline {
    char *text;
    int cx;
    float conf;
    /* the name is to be checked whatever its words scored: a word named
     * by the lexicon across the seam, a stamp's stroke at its edge */
    bool doubtful;
} hline;

/* Whether `fold` is the motto's word `want`, a letter off, or its start
 * (three letters at least) when `cut` (the rest of it lost under a
 * stamp). */
static bool motto_word(const char *fold, const char *want, bool cut)
{
    size_t n = strlen(fold);
    return vn_edit_distance(fold, want, 1) <= 1 ||
           (cut && n >= 3 && n < strlen(want) && strncmp(fold, want, n) == 0);
}

/* How many of the last words of the left column's words [from, to) are
 * the motto's first, read into it: the Party motto's first word when the
 * motto starts close to the name's end ("TỈNH ỦY BÌNH DƯƠNG ĐẢNG | CỘNG
 * SẢN VIỆT NAM"), or its first two words or more standing apart from the
 * name, when the rest of the motto (a stamp over it) was read as noise
 * and the columns' seam moved past them ("ĐẢNG BỘ TỈNH ĐỒNG NAI ĐẢNG CỘN
 * | NẾÏIỆENẢAMG"). They are the motto's, not the body's. */
static size_t motto_words_left(const page_layout *pl, const lay_row *r, size_t from, size_t to)
{
    if (to < from + 2)
        return 0;
    const lay_word *last = lay_at(pl, r, to - 1);
    if (to + 1 < r->n && vn_edit_distance(last->fold, "dang", 1) <= 1 &&
        vn_fold_like(lay_at(pl, r, to)->fold, "cong") &&
        strcmp(lay_at(pl, r, to + 1)->fold, "san") == 0)
        return 1;
    static const char *const mottos[][3] = {{"dang", "cong", "san"}, {"cong", "hoa", "xa"}};
    for (size_t m = 0; m < sizeof mottos / sizeof mottos[0]; m++)
        for (size_t k = 3; k >= 2; k--) {
            if (to < from + k + 1)
                continue;
            size_t at = to - k;
            bool all = true;
            for (size_t i = 0; i < k && all; i++)
                all = motto_word(lay_at(pl, r, at + i)->fold, mottos[m][i], i + 1 == k);
            int gap = lay_at(pl, r, at)->box.x0 - lay_at(pl, r, at - 1)->box.x1;
            if (all && gap >= r->h)
                return k;
        }
    return 0;
}

/* Dots and commas of a stamp's dotted lines or of paper dust, read
 * before or after a name ("..„UBND TỈNH"): a body's name starts and ends
 * with a letter or digit. Trims in place; true when a stroke was among
 * what was trimmed. */
static bool trim_specks(char *t)
{
    static const char *const specks[] = {".", ",", ":", ";", "'", "\"", "`", "_", "~", "-",
                                         "\u201e", "\u201c", "\u201d", "\u2018", "\u2019",
                                         "/", "\u2044", "|", "\\", "\u2013", "\u2014",
                                         "\u00bf", "\u00a1"};
    /* the last eight are strokes ("/BAN TUYÊN GIÁO", "⁄ĐBND": the OCR's
     * slashes; "—SỞ": a dash no name starts with; "¿TỈNH ỦY": a hook read
     * as an inverted sign), the edge of a stamp */
    const size_t first_stroke = sizeof specks / sizeof specks[0] - 8;
    bool again = true, stroke = false;
    size_t len = strlen(t);
    while (again && len) {
        again = false;
        for (size_t i = 0; i < sizeof specks / sizeof specks[0]; i++) {
            size_t k = strlen(specks[i]);
            if (len >= k && memcmp(t, specks[i], k) == 0) {
                memmove(t, t + k, len - k + 1);
                len -= k;
                again = true;
                stroke |= i >= first_stroke;
            }
            if (len >= k && memcmp(t + len - k, specks[i], k) == 0) {
                t[len -= k] = '\0';
                again = true;
                stroke |= i >= first_stroke;
            }
        }
        while (len && t[0] == ' ') {
            memmove(t, t + 1, len--);
            again = true;
        }
        while (len && t[len - 1] == ' ') {
            t[--len] = '\0';
            again = true;
        }
    }
    return stroke;
}

/* "TỈNH-YÊN": a hyphen glued between letters is a lost space; names print
 * their dash spaced ("LAO ĐỘNG - THƯƠNG BINH"). */
static void unglue_hyphens(char *s)
{
    for (size_t i = 1; s[i] && s[i + 1]; i++)
        if ((s[i] == '-' || s[i] == '.') && s[i - 1] != ' ' && s[i + 1] != ' ' &&
            !isdigit((unsigned char)s[i - 1]) && !isdigit((unsigned char)s[i + 1]))
            s[i] = ' ';
}

static char *join_lines(hline *l, size_t a, size_t b, float *conf)
{
    char *acc = NULL;
    float sum = 0, lo = 1;
    for (size_t i = a; i < b; i++) {
        if (append(&acc, l[i].text) != 0) {
            free(acc);
            return NULL;
        }
        sum += l[i].conf;
        if (l[i].conf < lo)
            lo = l[i].conf;
    }
    /* one doubtful line makes the whole name doubtful: the mean of three
     * lines would hide it */
    *conf = b > a ? sum / (float)(b - a) : 0;
    if (*conf > lo + 0.2f)
        *conf = lo + 0.2f;
    for (size_t i = a; i < b; i++)
        if (l[i].doubtful && *conf > 0.6f)
            *conf = 0.6f;
    if (!acc)
        return NULL;
    /* names broken over lines ("SỞ LAO ĐỘNG - THƯƠNG BINH / VÀ XÃ HỘI"),
     * known with a letter misread once whole ("SỞ EAO ĐỘNG - THƯƠNG BINH
     * / VÀ XÃ HỘI": neither line alone is a whole name) */
    int changed;
    char *fixed = lex_repair_loose(acc, &changed);
    free(acc);
    return fixed;
}

static int header_limit_y(const extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    if (c->number_row != EX_NONE)
        return pl->rows[c->number_row].box.y0;
    if (c->date_row != EX_NONE)
        return pl->rows[c->date_row].box.y0;
    if (c->title_row != EX_NONE)
        return pl->rows[c->title_row].box.y0;
    return pl->height / 4;
}

/* The last word of a body's name that the row's right column took: read
 * on its own past the seam ("SỞ LAO ĐỘNG - THƯƠNG || BINH Độc lập"), or
 * glued to the motto's first word ("BỘ ... VÀ CÔNG || NGH‡ỘNG HÒA").
 * The lexicon names the word from the left column's words and the
 * letters read of its start (lex_complete_name). Returns the word in
 * capitals (malloc'd) or NULL. */
static char *seam_word(const page_layout *pl, const lay_row *r, size_t to, const char *left)
{
    size_t k = to;
    while (k < r->n && (lay_at(pl, r, k)->stamp || lay_at(pl, r, k)->noise))
        k++;
    if (k >= r->n)
        return NULL;
    const lay_word *w = lay_at(pl, r, k);
    const char *next = k + 1 < r->n ? lay_at(pl, r, k + 1)->fold : "";
    char frag[48];
    size_t n = 0;
    for (const char *p = w->fold; *p && n + 1 < sizeof frag; p++)
        if (isalpha((unsigned char)*p))
            frag[n++] = *p;
    frag[n] = '\0';
    /* the motto's words are its own, unless the name's end is glued
     * to its first one ("ngh?ong hoa": CỘNG lost its C) */
    bool motto_next = vn_fold_like(next, "hoa") || vn_fold_like(next, "san");
    if (motto_next) {
        size_t cut = n >= 4 && strcmp(frag + n - 4, "cong") == 0   ? 4
                     : n >= 3 && strcmp(frag + n - 3, "ong") == 0 ? 3
                                                                   : 0;
        if (!cut || n == cut)
            return NULL;
        frag[n - cut] = '\0';
    } else if (vn_fold_like(w->fold, "cong") || vn_fold_like(w->fold, "doc") ||
               vn_fold_like(w->fold, "dang")) {
        return NULL;
    }
    return lex_complete_name(left, frag);
}

static size_t collect_lines(extract_ctx *c, hline *l, size_t cap)
{
    const page_layout *pl = &c->pages[0];
    int limit = header_limit_y(c);
    size_t n = 0;
    bool lost = false;
    for (size_t ri = 0; ri < pl->nrows && n < cap; ri++) {
        const lay_row *r = &pl->rows[ri];
        if ((r->box.y0 + r->box.y1) / 2 >= limit)
            break;
        size_t from, to;
        ex_left(pl, r, &from, &to);
        to -= motto_words_left(pl, r, from, to);
        if (layout_span_count(pl, r, from, to) == 0)
            continue;
        char *t = layout_span_text(pl, r, from, to);
        if (!t) {
            c->oom = true;
            break;
        }
        ocr_box b;
        float conf;
        layout_span_box(pl, r, from, to, &b, &conf);
        vn_case_stats st;
        vn_case_count(t, &st);
        /* body names are printed in capitals; scribble and the stamp's
         * leftovers are not */
        if (st.letters < 2 || (float)st.upper / (float)st.letters < 0.6f || conf < 0.4f) {
            /* a capitals line the engine could not read ("TÍNHĐIỂNBIẾN"
             * at 0.21) is a body line lost: the names around it are
             * incomplete */
            if (conf < 0.4f && st.letters >= 4 && (float)st.upper / (float)st.letters >= 0.8f)
                lost = true;
            free(t);
            continue;
        }
        /* names are printed wholly in capitals: a lower-case letter is a
         * misread one ("SỞ bAO ĐỘNG") */
        if (st.upper < st.letters && conf > 0.5f)
            conf = 0.5f;
        /* a word under the clerk's stamp was left out: the line may be
         * incomplete ("..„UBND TỈNH" → "TỈNH") */
        for (size_t k = from; k < to; k++)
            if (lay_at(pl, r, k)->stamp && !lay_at(pl, r, k)->noise) {
                conf *= 0.5f;
                break;
            }
        /* a word no syllable can be ("ĐẢẲNG", "TỈNHQUẢNG") is misread or
         * glued; the mean confidence of the line hides it */
        for (size_t k = from; k < to; k++) {
            const lay_word *w = lay_at(pl, r, k);
            if (!w->stamp && !w->noise && !vn_word_plausible(w->text) && conf > 0.5f)
                conf = 0.5f;
        }
        /* the columns ran into each other: a word may be cut or lost,
         * unless both words at the seam were read well and the right one
         * opens the motto ("... NÔNG CỘNG HÒA ...") */
        if (to < r->n && to > from &&
            lay_at(pl, r, to)->box.x0 - lay_at(pl, r, to - 1)->box.x1 < r->h * 8 / 10) {
            const lay_word *wl = lay_at(pl, r, to - 1), *wr = lay_at(pl, r, to);
            bool clean_seam = wl->conf >= 0.9f && wr->conf >= 0.9f &&
                              (vn_fold_like(wr->fold, "cong") || vn_fold_like(wr->fold, "dang"));
            if (!clean_seam)
                conf *= 0.5f;
        }
        /* a stroke before or after the name is a stamp's edge over it:
         * its letters may be damaged too */
        bool stroke = trim_specks(t);
        unglue_hyphens(t);
        char *more = to < r->n ? seam_word(pl, r, to, t) : NULL;
        bool named = more != NULL;
        if (more) {
            /* named by the lexicon across the seam: to be checked */
            if (append(&t, more) != 0)
                c->oom = true;
            free(more);
        }
        int changed;
        char *fixed = t ? lex_repair_loose(t, &changed) : NULL;
        free(t);
        if (!fixed) {
            c->oom = true;
            break;
        }
        l[n].text = fixed;
        l[n].cx = (b.x0 + b.x1) / 2;
        l[n].conf = conf;
        l[n].doubtful = named || stroke;
        n++;
    }
    /* the lines of the column are centred on one axis: drop strays */
    if (n >= 2) {
        int cxs[16];
        for (size_t i = 0; i < n; i++)
            cxs[i] = l[i].cx;
        for (size_t i = 1; i < n; i++)
            for (size_t k = i; k > 0 && cxs[k] < cxs[k - 1]; k--) {
                int t = cxs[k];
                cxs[k] = cxs[k - 1];
                cxs[k - 1] = t;
            }
        int med = cxs[(n - 1) / 2];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (abs(l[i].cx - med) > pl->width / 10) {
                free(l[i].text);
                continue;
            }
            l[k++] = l[i];
        }
        n = k;
    }
    for (size_t i = 0; lost && i < n; i++)
        if (l[i].conf > 0.5f)
            l[i].conf = 0.5f;
    return n;
}

/* The word of `name` that starts at `at` of its fold `fold`, counted by
 * words (the fold keeps the offsets of plain ASCII only), or NULL. */
static const char *word_after(const char *name, const char *fold, const char *at)
{
    size_t words = 0;
    for (const char *q = fold; q < at; q++)
        words += *q == ' ';
    const char *w = name;
    for (size_t k = 0; k < words && w; k++) {
        w = strchr(w, ' ');
        w = w ? w + 1 : NULL;
    }
    return w;
}

/* A body's name as printed is words of letters ("/TỈNH": a stroke left
 * by a stamp) that name their place whole: a local people's committee or
 * council names its province, district or commune ("ỦY BAN NHÂN DÂN"
 * alone lost that line), and a province is spelt as one ("TỈNH VĨNH
 * PHÚ" lost a letter). False for a name to check. */
static bool body_name_whole(const char *name)
{
    if (strpbrk(name, "/\\|_~"))
        return false;
    char *f = vn_fold(name);
    if (!f)
        return true;
    static const char *const bare[] = {"uy ban nhan dan", "ubnd", "hoi dong nhan dan", "hdnd"};
    bool whole = true;
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++)
        whole &= strcmp(f, bare[i]) != 0;
    const char *prov = strstr(f, "tinh ");
    /* the province: the rest of the name after "tỉnh", in the printed
     * spelling (the fold keeps the offsets of plain ASCII only) */
    if (whole && prov && (prov == f || prov[-1] == ' ')) {
        const char *tail = word_after(name, f, prov + strlen("tinh "));
        whole = !(tail && lex_near_province(tail));
    }
    free(f);
    return whole;
}

/* A province's name cut short at the end of a body's name ("UBND TỈNH
 * THÁI", "UBND THÀNH PHỐ CẦN": its last word lost to the motto beside it
 * or under a stamp; "TỈNH VĨNH PHÚ", a letter): a provincial body's place
 * is its province (Nghị định 30/2020, Phụ lục I), so the date line's
 * place, when it is a province whose name starts with what was read (or
 * is a letter from it), completes the name. Returns the completed name
 * (malloc'd) or NULL when there is nothing to complete. */
static char *complete_province(const char *name, const char *place)
{
    if (!name || !place)
        return NULL;
    static const char *const kinds[] = {"tinh ", "thanh pho "};
    char *named = lex_province_named(place);
    char *f = vn_fold(name), *pf = named ? vn_fold(named) : NULL;
    /* "Thành phố Hồ Chí Minh": the province's own name after its kind */
    const char *p = pf, *prov = named;
    if (pf && strncmp(pf, kinds[1], strlen(kinds[1])) == 0) {
        p = pf + strlen(kinds[1]);
        prov = word_after(named, pf, p);
    }
    /* the name's province: what follows its last "tỉnh" or "thành phố" */
    const char *tail = NULL;
    for (size_t k = 0; f && k < sizeof kinds / sizeof kinds[0]; k++)
        for (const char *at = f; (at = strstr(at, kinds[k])) != NULL; at++)
            if ((at == f || at[-1] == ' ') && (!tail || at + strlen(kinds[k]) > tail))
                tail = at + strlen(kinds[k]);
    size_t tl = tail ? strlen(tail) : 0, pl = p ? strlen(p) : 0;
    bool cut = tl >= 2 && tl < pl && strncmp(p, tail, tl) == 0;
    bool misread = tl >= 2 && pl >= 6 && vn_edit_distance(tail, p, 1) == 1;
    char *out = NULL;
    if (prov && tail && (cut || misread)) {
        const char *keep = word_after(name, f, tail);
        char *up = keep ? vn_upper(prov) : NULL;
        if (up && asprintf(&out, "%.*s%s", (int)(keep - name), name, up) < 0)
            out = NULL;
        free(up);
    }
    free(f);
    free(pf);
    free(named);
    return out;
}

/* Sets a body's name (issuer or superior) with its province completed
 * from the place where it was cut short: to be checked, as the place is. */
static void set_body(extract_ctx *c, meta_field field, const char *name, float conf)
{
    char *whole = complete_province(name, c->out->str[META_PLACE]);
    if (whole) {
        float pc = c->out->confidence[META_PLACE];
        conf = conf < pc ? conf : pc;
        conf = conf < 0.6f ? conf : 0.6f;
    }
    ex_set(c, field, whole ? whole : name, conf);
    free(whole);
}

void ex_find_issuer(extract_ctx *c)
{
    hline l[16];
    size_t n = collect_lines(c, l, 16);
    if (n == 0)
        return;
    bool party = c->party_votes > c->state_votes;
    /* State: the superior body is every body but the last; a line opens a
     * body when it starts with a head noun (SỞ, BAN, ỦY BAN ...). Party
     * headers are one name ("ĐẢNG BỘ TỈNH ... / ỦY BAN KIỂM TRA"). */
    size_t last_body = 0;
    if (!party)
        for (size_t i = 1; i < n; i++) {
            char *f = vn_fold(l[i].text);
            if (f && lex_starts_body(f))
                last_body = i;
            free(f);
        }
    float conf = 0;
    char *issuer = join_lines(l, last_body, n, &conf);
    /* a body is named from its head noun, as its superior is: one without
     * ("PHỐ HÀ", the middle of a line a stamp cut) is a piece to check */
    char *fi = issuer ? vn_fold(issuer) : NULL;
    if (issuer &&
        (lex_sector_short(issuer) || !body_name_whole(issuer) || (fi && !lex_starts_body(fi))) &&
        conf > 0.6f)
        conf = 0.6f;
    free(fi);
    if (issuer)
        set_body(c, META_ISSUER, issuer, conf);
    else
        c->oom = true;
    free(issuer);
    if (last_body > 0) {
        char *sup = join_lines(l, 0, last_body, &conf);
        /* a superior body is named from its head noun (ỦY BAN, UBND, BỘ,
         * TỈNH ỦY ...); a line without one is a piece of another line
         * (the issuer's last word set apart by a stamp over it) */
        char *sf = sup ? vn_fold(sup) : NULL;
        if (sf && (!lex_starts_body(sf) || !body_name_whole(sup)) && conf > 0.6f)
            conf = 0.6f;
        free(sf);
        if (sup)
            set_body(c, META_ISSUER_SUPERIOR, sup, conf);
        else
            c->oom = true;
        free(sup);
    } else
        c->out->confidence[META_ISSUER_SUPERIOR] = conf;
    for (size_t i = 0; i < n; i++)
        free(l[i].text);
}
