/* extract_marks.c — urgency (KHẨN, THƯỢNG KHẨN, HỎA TỐC) and classification
 * (MẬT, TỐI MẬT, TUYỆT MẬT) marks, standards §5 "Marks" and §1.
 *
 * A mark is a short upper-case group standing alone (a box or a rubber
 * stamp, often red) in the header, usually under "Số". The same words in
 * running text ("văn bản không mật", "loại khẩn") are not marks: they are
 * lower case and inside a line.
 *
 * Classified documents must never leave the station (§1), so a red mark
 * in the header that cannot be read, or a word that only resembles MẬT,
 * is reported as "Mật" with a low confidence rather than dropped.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "extract_ctx.h"
#include "vntext.h"

typedef struct mark_kind {
    const char *fold; /* letters only */
    const char *value;
    const char *exact; /* printed form, upper case NFC */
    bool secrecy;
} mark_kind;

static const mark_kind kinds[] = {
    {"hoatochengio", "Hỏa tốc", "HỎA TỐC HẸN GIỜ", false},
    {"hoatoc", "Hỏa tốc", "HỎA TỐC", false},
    {"thuongkhan", "Thượng khẩn", "THƯỢNG KHẨN", false},
    {"khan", "Khẩn", "KHẨN", false},
    {"tuyetmat", "Tuyệt mật", "TUYỆT MẬT", true},
    {"toimat", "Tối mật", "TỐI MẬT", true},
    {"mat", "Mật", "MẬT", true},
};

typedef struct mark_state {
    int urg, sec; /* index in kinds or -1 */
    float urg_conf, sec_conf;
} mark_state;

static void letters_only(char *f)
{
    size_t k = 0;
    for (size_t i = 0; f[i]; i++)
        if (isalpha((unsigned char)f[i]))
            f[k++] = f[i];
    f[k] = '\0';
}

/* Matches a group's text to a mark; *exact when printed as expected. */
static int classify(const char *text, bool *exact)
{
    char *f = vn_fold(text);
    int found = -1;
    *exact = false;
    if (!f)
        return -1;
    letters_only(f);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && found < 0; i++) {
        size_t l = strlen(kinds[i].fold);
        if (strcmp(f, kinds[i].fold) == 0 ||
            (l >= 6 && vn_edit_distance(f, kinds[i].fold, 1) <= 1))
            found = (int)i;
    }
    free(f);
    if (found >= 0) {
        char *up = vn_upper(text);
        *exact = up && strstr(up, kinds[found].exact) != NULL && strcmp(up, text) == 0;
        free(up);
    }
    return found;
}

/* "NAT", "MAI", "MẠI": one letter from MẬT, only believable in red. */
static bool resembles_mat(const char *text)
{
    char *f = vn_fold(text);
    if (!f)
        return false;
    letters_only(f);
    bool r = strlen(f) == 3 && vn_edit_distance(f, "mat", 1) <= 1;
    free(f);
    return r;
}

static void offer(mark_state *st, int kind, float conf)
{
    if (kinds[kind].secrecy) {
        /* the strongest classification wins; among equals, the surest */
        if (st->sec < 0 || kind < st->sec || (kind == st->sec && conf > st->sec_conf)) {
            st->sec = kind;
            st->sec_conf = conf;
        }
    } else if (st->urg < 0 || conf > st->urg_conf) {
        st->urg = kind;
        st->urg_conf = conf;
    }
}

static int header_bottom(const extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    int y;
    if (c->title_row != EX_NONE)
        y = pl->rows[c->title_row].box.y1;
    else if (c->subject_end != EX_NONE)
        y = pl->rows[c->subject_end].box.y1;
    else
        y = c->header_y1 + 10 * pl->line_h;
    if (c->header_y1 + 10 * pl->line_h > y)
        y = c->header_y1 + 10 * pl->line_h;
    return y < pl->height / 2 ? y : pl->height / 2;
}

/* Groups of a row separated by wide gaps (a boxed mark stands apart). */
static void scan_row(extract_ctx *c, const lay_row *r, mark_state *st, int number_y0)
{
    const page_layout *pl = &c->pages[0];
    size_t a = 0;
    while (a < r->n) {
        size_t b = a + 1;
        while (b < r->n && lay_at(pl, r, b)->box.x0 - lay_at(pl, r, b - 1)->box.x1 < r->h * 12 / 10)
            b++;
        size_t cnt = layout_span_count(pl, r, a, b);
        if (cnt > 0 && cnt <= 4) {
            char *t = layout_span_text(pl, r, a, b);
            ocr_box box;
            float conf = 0, red = 0;
            layout_span_box(pl, r, a, b, &box, &conf);
            for (size_t j = a; j < b; j++)
                red = lay_at(pl, r, j)->red > red ? lay_at(pl, r, j)->red : red;
            if (!t) {
                c->oom = true;
                return;
            }
            bool exact;
            int k = classify(t, &exact);
            float up = ex_upper_share(t);
            if (k >= 0 && (up >= 0.6f || red >= 0.3f)) {
                float cf = exact ? conf : conf * 0.75f;
                if (red >= 0.3f && cf < 0.95f)
                    cf = cf + (1 - cf) * 0.3f;
                offer(st, k, cf);
            } else if (k < 0 && red >= 0.4f && box.y0 >= number_y0 && resembles_mat(t)) {
                offer(st, 6, 0.4f);
            }
            free(t);
        }
        a = b;
    }
}

/* Coloured regions found by recognize (words.h ocr_mark_region). */
static void scan_regions(extract_ctx *c, const ocr_page_text *pt, mark_state *st, int number_y0,
                         int bottom)
{
    for (size_t i = 0; i < pt->nmarks; i++) {
        const ocr_mark_region *m = &pt->marks[i];
        if (m->box.y0 > bottom || m->red < 0.3f)
            continue;
        bool exact = false;
        int k = m->text && m->text[0] ? classify(m->text, &exact) : -1;
        if (k >= 0) {
            float cf = m->conf * (exact ? 1.0f : 0.75f);
            offer(st, k, cf < 0.3f ? 0.3f : cf);
            continue;
        }
        char *f = m->text ? vn_fold(m->text) : NULL;
        bool stamp = f && (strstr(f, "den") || strstr(f, "ngay") || strstr(f, "chuyen"));
        free(f);
        /* an unreadable red mark beside / under Số may be MẬT */
        if (!stamp && m->box.y1 >= number_y0)
            offer(st, 6, m->text && resembles_mat(m->text) ? 0.4f : 0.25f);
    }
}

void ex_find_marks(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    mark_state st = {-1, -1, 0, 0};
    int bottom = header_bottom(c);
    int number_y0 = c->number_row != EX_NONE ? pl->rows[c->number_row].box.y0 - pl->line_h
                                             : pl->height / 10;
    for (size_t ri = 0; ri < pl->nrows; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y0 > bottom)
            break;
        scan_row(c, r, &st, number_y0);
    }
    if (c->raw0)
        scan_regions(c, c->raw0, &st, number_y0, bottom);
    if (st.urg >= 0)
        ex_set(c, META_URGENCY, kinds[st.urg].value, st.urg_conf);
    else
        c->out->confidence[META_URGENCY] = 0.9f;
    if (st.sec >= 0)
        ex_set(c, META_SECRECY, kinds[st.sec].value, st.sec_conf);
    else
        c->out->confidence[META_SECRECY] = 0.9f;
}
