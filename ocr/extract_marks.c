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
 * is reported as "Mật" with a low confidence rather than dropped. Such a
 * mark may as well be an urgency: "no urgency" then gets a low confidence
 * too, so the clerk looks. A red mark read in part ("ẤN", "đÓMET") is
 * matched to the nearest mark name, with a low confidence.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/log.h"
#include "extract_ctx.h"
#include "extract_lex.h"
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
    /* a mark-like thing in the header that was not read as a mark (an
     * unreadable red box, a lone word resembling MẬT): "none" is unsure */
    bool doubt;
} mark_state;

#define KIND_MAT 6

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
        if (strcmp(f, kinds[i].fold) == 0 || (l >= 6 && vn_edit_distance(f, kinds[i].fold, 1) <= 1))
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

/* Letters of a text (any script), for "a short word". */
static int letter_count(const char *t)
{
    vn_case_stats cs;
    vn_case_count(t, &cs);
    return cs.letters;
}

/* A red mark read in part or with errors: the mark name nearest to its
 * letters. A name found inside the letters ("TKHẤNÌ" holds "khan") counts
 * the extra letters as the distance; the longest name found inside wins
 * ("toimat" over "mat"). Accepted within half the name's length, at
 * least two letters shared. Returns the kind or -1, *dist the distance. */
static int classify_fuzzy(const char *text, int *dist)
{
    char *f = vn_fold(text);
    if (!f)
        return -1;
    letters_only(f);
    size_t fl = strlen(f);
    int best = -1, best_d = 99;
    size_t best_l = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && fl >= 2; i++) {
        size_t l = strlen(kinds[i].fold);
        int d = vn_edit_distance(f, kinds[i].fold, (int)l);
        if (fl > l && strstr(f, kinds[i].fold)) {
            int extra = (int)(fl - l);
            d = extra < d ? extra : d;
        }
        if (d * 2 > (int)l || (int)l - d < 2)
            continue;
        if (d < best_d || (d == best_d && l > best_l)) {
            best = (int)i;
            best_d = d;
            best_l = l;
        }
    }
    free(f);
    *dist = best_d;
    return best;
}

/* A coloured region of the size of a mark: a box or a rubber stamp a few
 * centimetres wide and one or two lines high. The clerk's ĐẾN stamp (35 ×
 * 50 mm) and round seals are taller. */
static bool mark_sized(const ocr_box *b, int dpi)
{
    if (dpi <= 0)
        dpi = 200;
    int w = (b->x1 - b->x0) * 254 / (dpi * 10), h = (b->y1 - b->y0) * 254 / (dpi * 10);
    /* one line of capitals, 8-12 mm with its box, rotated up to ~15°
     * (a long stamp then gains height) */
    return w >= 10 && w <= 90 && h >= 4 && (h <= 20 || (h <= 26 && w >= 2 * h));
}

/* OCR read words there, not noise ("VĂN PHÒNG TỈNH ỦY", the head of the
 * clerk's stamp): letters make most of it. Such a region is some other
 * red text, no unreadable mark. */
static bool reads_as_text(const char *t)
{
    int letters = letter_count(t), other = 0, words = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        other += *p < 0x80 && *p != ' ' && !isalpha(*p);
    /* two words of three letters or more ("THỦ xo Ki!" is no text) */
    char *copy = strdup(t);
    for (char *w = copy ? strtok(copy, " ") : NULL; w; w = strtok(NULL, " "))
        words += letter_count(w) >= 3;
    free(copy);
    return letters >= 6 && letters >= 4 * other && words >= 2;
}

/* A mark name read among other words of a region ("ETNNNGNGKHTN | |
 * THƯỢNG KHẨN": the stamp's outline and a doubled line around the name):
 * the longest run of one to three words whose letters are a name; with
 * `caps`, a run printed in capitals only (running text says "mật"). */
static int classify_words(const char *text, bool caps)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;
    char *w[24];
    size_t n = 0;
    for (char *tok = strtok(copy, " "); tok && n < 24; tok = strtok(NULL, " "))
        w[n++] = tok;
    int found = -1;
    size_t found_l = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[96] = "";
        for (size_t k = i; k < n && k < i + 3; k++) {
            if (strlen(buf) + strlen(w[k]) + 2 > sizeof buf)
                break;
            if (k > i)
                strcat(buf, " ");
            strcat(buf, w[k]);
            if (caps && ex_upper_share(buf) < 0.8f)
                continue;
            char *f = vn_fold(buf);
            if (!f)
                break;
            letters_only(f);
            for (size_t m = 0; m < sizeof kinds / sizeof kinds[0]; m++)
                if (strcmp(f, kinds[m].fold) == 0 && strlen(f) > found_l) {
                    found = (int)m;
                    found_l = strlen(f);
                }
            free(f);
        }
    }
    free(copy);
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

/* The marks named among the words of a red region: runs of one to three
 * words matched exactly, or within one letter for names of five letters
 * or more ("Ti MẬT" is TỐI MẬT), longest first; a region may hold two
 * stamps side by side ("| HÒA TÓC | [rôiwẬr]"), so the words left over
 * are matched again to the nearest name, to be checked. Returns whether
 * a name was found. */
static bool region_words(mark_state *st, const char *text, float conf)
{
    char *copy = strdup(text);
    if (!copy)
        return false;
    char *w[24];
    bool used[24] = {false};
    size_t n = 0;
    for (char *tok = strtok(copy, " "); tok && n < 24; tok = strtok(NULL, " "))
        w[n++] = tok;
    bool any = false;
    for (int round = 0; round < 2; round++) {
        int best = -1, best_d = 99;
        size_t best_i = 0, best_n = 0, best_l = 0;
        for (size_t i = 0; i < n; i++) {
            char buf[96] = "";
            for (size_t k = i; k < n && k < i + 3 && !used[k]; k++) {
                if (strlen(buf) + strlen(w[k]) + 2 > sizeof buf)
                    break;
                if (k > i)
                    strcat(buf, " ");
                strcat(buf, w[k]);
                char *f = vn_fold(buf);
                if (!f)
                    break;
                letters_only(f);
                for (size_t m = 0; m < sizeof kinds / sizeof kinds[0]; m++) {
                    size_t l = strlen(kinds[m].fold);
                    int d = vn_edit_distance(f, kinds[m].fold, 1);
                    if (!(d == 0 || (l >= 5 && d <= 1)))
                        continue;
                    if (l > best_l || (l == best_l && d < best_d)) {
                        best = (int)m;
                        best_d = d;
                        best_i = i;
                        best_n = k - i + 1;
                        best_l = l;
                    }
                }
                free(f);
            }
        }
        if (best < 0)
            break;
        for (size_t k = best_i; k < best_i + best_n; k++)
            used[k] = true;
        float cf = best_d == 0 ? conf * 0.75f : 0.45f;
        offer(st, best, cf < 0.3f ? 0.3f : cf);
        st->doubt |= best_d > 0;
        any = true;
    }
    if (any) {
        char rest[256] = "";
        for (size_t k = 0; k < n; k++)
            if (!used[k] && strlen(rest) + strlen(w[k]) + 2 < sizeof rest) {
                strcat(rest, " ");
                strcat(rest, w[k]);
            }
        int d = 0;
        int fk = letter_count(rest) >= 3 ? classify_fuzzy(rest, &d) : -1;
        if (fk >= 0) {
            offer(st, fk, 0.45f);
            st->doubt = true;
        }
    }
    free(copy);
    return any;
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

/* Any letter or digit (ASCII or not). */
static bool has_alnum(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (isalnum(*p) || *p >= 0x80)
            return true;
    return false;
}

/* Whether the ink read around `box` (the group and the specks, rules and
 * bars OCR makes of a box or a broken outline nearby, on its line) spans
 * the width of a mark, at least 12 mm: a stray blot or two letters of
 * scribble do not. */
static bool mark_wide(const page_layout *pl, const ocr_box *box)
{
    int x0 = box->x0, x1 = box->x1, reach = 2 * pl->line_h;
    for (size_t i = 0; i < pl->nwords; i++) {
        const lay_word *w = &pl->words[i];
        int cy = (w->box.y0 + w->box.y1) / 2;
        if (w->stamp || cy < box->y0 - pl->line_h / 2 || cy > box->y1 + pl->line_h / 2 ||
            w->box.x1 < x0 - reach || w->box.x0 > x1 + reach)
            continue;
        x0 = w->box.x0 < x0 ? w->box.x0 : x0;
        x1 = w->box.x1 > x1 ? w->box.x1 : x1;
    }
    int dpi = pl->dpi > 0 ? pl->dpi : 200;
    return (x1 - x0) * 254 >= 120 * dpi;
}

/* A group standing alone in the mark zone, not read as a mark: a mark
 * word among noise ("sn"yen O7 -MÂT"), a name misread by one letter
 * ("K HẤI" is KHẨN, "MAI" MẬT), a clean capital word nobody explains, or
 * text of print height that OCR could not read at all in the left column
 * (a faded or photocopied stamp: "<2", "TỰ C1"). The last is reported as
 * MẬT to be checked, as an unreadable red mark is. */
static void zone_group(const page_layout *pl, mark_state *st, const char *t, const ocr_box *box,
                       float up, float max_conf)
{
    int letters = letter_count(t);
    const char *why = "none";
    int k = classify_words(t, true);
    if (k >= 0) {
        offer(st, k, 0.45f);
        st->doubt = true;
        why = kinds[k].value;
    } else if (up >= 0.6f && letters >= 2 && letters <= 12 && lex_type_by_title(t, NULL) < 0) {
        int d = 0;
        int fk = classify_fuzzy(t, &d);
        /* one error at most: "khai" is KHẨN, "mai" MẬT; a class read
         * worse ("L'UVỆT Ñ ẬP" is TUYỆT MẬT) is still reported, to be
         * checked: a classified document must not pass for an open one */
        if (fk >= 0 && (d <= 1 || kinds[fk].secrecy)) {
            offer(st, fk, d <= 1 ? (kinds[fk].secrecy ? 0.4f : 0.45f) : 0.3f);
            st->doubt = true;
            why = kinds[fk].value;
        } else if (up >= 0.9f && letters >= 3 && max_conf >= 0.5f) {
            st->doubt = true; /* a clean capital word, unexplained */
            why = "doubt";
        }
    }
    bool left = (box->x0 + box->x1) / 2 < pl->split_x;
    if (k < 0 && max_conf < 0.5f && left && box->y1 - box->y0 >= pl->line_h * 7 / 10 &&
        has_alnum(t)) {
        offer(st, KIND_MAT, mark_wide(pl, box) ? 0.3f : 0.2f);
        st->doubt = true;
        why = "unreadable, maybe Mật";
    }
    log_debug("extract: mark zone group \"%s\" %d,%d-%d,%d conf %.2f -> %s", t, box->x0, box->y0,
              box->x1, box->y1, max_conf, why);
}

static bool den_stamp_text(const char *text)
{
    char *f = text ? vn_fold(text) : NULL;
    bool stamp = f && (strstr(f, "den") || strstr(f, "ngay") || strstr(f, "chuyen"));
    free(f);
    return stamp;
}

/* Groups of a row separated by wide gaps (a boxed mark stands apart).
 * `zone`: the row lies in the mark zone, between the number / date rows
 * and the title, where a header has nothing else in capitals standing
 * alone: there a short capital group that is not read as a mark is one
 * misread (a grey or photocopied stamp: "K HẤI", "MAI"), matched to the
 * nearest name if one is near, and makes "no mark" unsure in any case. */
static void scan_row(extract_ctx *c, const lay_row *r, mark_state *st, int number_y0, bool zone)
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
            float max_conf = 0;
            bool stamped = false;
            for (size_t j = a; j < b; j++) {
                const lay_word *w = lay_at(pl, r, j);
                red = w->red > red ? w->red : red;
                stamped |= w->stamp;
                if (!w->stamp && !w->noise && w->conf > max_conf)
                    max_conf = w->conf;
            }
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
                offer(st, KIND_MAT, 0.4f);
                st->doubt = true;
            } else if (k < 0 && zone) {
                zone_group(pl, st, t, &box, up, max_conf);
            } else if (k < 0 && c->colourless && box.y1 < number_y0 && max_conf < 0.5f &&
                       !stamped && !den_stamp_text(t) && (box.x0 + box.x1) / 2 < pl->split_x &&
                       mark_sized(&box, pl->dpi)) {
                /* nothing read over the header on the left of a page
                 * without colour, of a stamp's size: an urgency stamp,
                 * black there as the print and often turned, reads as
                 * noise; "no mark" is no longer sure */
                st->doubt = true;
                log_debug("extract: noise of a mark's size over the header \"%s\": marks unsure",
                          t);
            }
            free(t);
        }
        a = b;
    }
}

/* Whether `b` lies in the clerk's ĐẾN stamp (35 × 50 mm, standards §5)
 * whose label a region was read as: a piece of the same stamp, cut apart
 * by a faint line. The label is at the stamp's top left. */
static bool near_den_stamp(const ocr_page_text *pt, const ocr_box *b)
{
    int dpi = pt->dpi > 0 ? pt->dpi : 200;
    int mm10 = dpi * 100 / 254, w = dpi * 550 / 254, h = dpi * 400 / 254;
    for (size_t i = 0; i < pt->nmarks; i++) {
        const ocr_mark_region *m = &pt->marks[i];
        if (&m->box == b || !den_stamp_text(m->text))
            continue;
        if (b->x1 >= m->box.x0 - mm10 && b->x0 <= m->box.x0 + w && b->y1 >= m->box.y0 - mm10 &&
            b->y0 <= m->box.y0 + h)
            return true;
    }
    return false;
}

/* Dark ink in the header that the page's OCR read nothing in, and that
 * read as no mark on its own either (words.h `unread`). In the mark zone
 * (under the number and date, left column, above the title), where
 * nothing else stands apart, it is a mark too faded to read: MẬT, or the
 * class its letters are nearest, to be checked. Elsewhere it may be a
 * logo, a pen's scribble or a piece of the clerk's stamp. */
static void unread_region(mark_state *st, const ocr_mark_region *m, const ocr_box *zone,
                          int number_y0)
{
    int cx = (m->box.x0 + m->box.x1) / 2;
    if (m->box.y1 < number_y0 && cx < zone->x1) {
        /* over the header on the left: where an urgency stamp goes, here
         * half lost (a photocopy's dark margin over it); none is no
         * longer sure */
        st->doubt = true;
        log_debug("extract: unread ink over the header %d,%d-%d,%d \"%s\": marks unsure",
                  m->box.x0, m->box.y0, m->box.x1, m->box.y1, m->text ? m->text : "");
        return;
    }
    if (m->box.y0 < zone->y0 || m->box.y1 > zone->y1 || cx < zone->x0 || cx > zone->x1)
        return;
    int d = 0, fk = m->text ? classify_fuzzy(m->text, &d) : -1;
    int kind = fk >= 0 && kinds[fk].secrecy ? fk : KIND_MAT;
    offer(st, kind, 0.25f);
    st->doubt = true;
    log_debug("extract: unread ink in the mark zone %d,%d-%d,%d \"%s\": maybe %s", m->box.x0,
              m->box.y0, m->box.x1, m->box.y1, m->text ? m->text : "", kinds[kind].value);
}

/* Coloured regions found by recognize (words.h ocr_mark_region). Marks
 * stand under Số in the left column, or in the top margin (a stamp). */
static void scan_regions(extract_ctx *c, const ocr_page_text *pt, mark_state *st, int number_y0,
                         int bottom, const ocr_box *zone)
{
    const page_layout *pl = &c->pages[0];
    for (size_t i = 0; i < pt->nmarks; i++) {
        const ocr_mark_region *m = &pt->marks[i];
        if (m->box.y0 > bottom || (m->red < 0.3f && !m->framed && !m->unread))
            continue;
        bool exact = false;
        int k = m->text && m->text[0] ? classify(m->text, &exact) : -1;
        if (k >= 0) {
            float cf = m->conf * (exact ? 1.0f : 0.75f);
            offer(st, k, cf < 0.3f ? 0.3f : cf);
            continue;
        }
        /* A black frame holds many things besides marks (a draft's "DỰ
         * THẢO", a form's field): only a frame read as a mark counts. */
        if (m->framed)
            continue;
        if (m->unread) {
            unread_region(st, m, zone, number_y0);
            continue;
        }
        if (m->text && region_words(st, m->text, m->conf)) {
            /* "xÕt MẬT": the word read is MẬT, the whole may be TỐI MẬT */
            int d = 0, fk = classify_fuzzy(m->text, &d);
            if (fk >= 0 && fk != KIND_MAT && kinds[fk].secrecy) {
                offer(st, fk, 0.45f);
                st->doubt = true;
            }
            continue;
        }
        if (den_stamp_text(m->text) || near_den_stamp(pt, &m->box))
            continue;
        bool sized = mark_sized(&m->box, pt->dpi);
        /* a mark read in part: the nearest name, to be checked */
        int d = 0;
        int fk = sized && m->text ? classify_fuzzy(m->text, &d) : -1;
        if (fk >= 0) {
            offer(st, fk, d == 0 ? 0.6f : 0.45f);
            st->doubt |= d > 0;
            continue;
        }
        if (!sized || (m->text && reads_as_text(m->text)))
            continue;
        /* an unreadable red mark under Số may be MẬT; one in the top
         * margin may be an urgency stamp */
        bool left = (m->box.x0 + m->box.x1) / 2 < pl->split_x;
        if (m->box.y1 >= number_y0 && left) {
            offer(st, KIND_MAT, m->text && resembles_mat(m->text) ? 0.4f : 0.25f);
            st->doubt = true;
        } else if (m->box.y1 < number_y0 && left) {
            st->doubt = true;
        }
        log_debug("extract: unreadable red region %d,%d-%d,%d \"%s\"%s", m->box.x0, m->box.y0,
                  m->box.x1, m->box.y1, m->text ? m->text : "",
                  st->doubt ? ": mark status unsure" : "");
    }
}

void ex_find_marks(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    mark_state st = {-1, -1, 0, 0, false};
    int bottom = header_bottom(c);
    int number_y0 =
        c->number_row != EX_NONE ? pl->rows[c->number_row].box.y0 - pl->line_h : pl->height / 10;
    size_t zone_from = c->number_row;
    if (c->date_row != EX_NONE && (zone_from == EX_NONE || c->date_row > zone_from))
        zone_from = c->date_row;
    for (size_t ri = 0; ri < pl->nrows; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y0 > bottom)
            break;
        bool zone = zone_from != EX_NONE && ri > zone_from &&
                    (c->title_row == EX_NONE || ri < c->title_row) && r->box.y0 < bottom;
        scan_row(c, r, &st, number_y0, zone);
    }
    /* the mark zone: under the number and date rows, over the title, in
     * the left column */
    ocr_box zone = {0, bottom, pl->split_x, bottom};
    if (zone_from != EX_NONE) {
        zone.y0 = pl->rows[zone_from].box.y1 - pl->line_h / 2;
        zone.y1 = c->title_row != EX_NONE && c->title_row > zone_from
                      ? pl->rows[c->title_row].box.y0 + pl->line_h / 2
                      : bottom;
    }
    if (c->raw0)
        scan_regions(c, c->raw0, &st, number_y0, bottom, &zone);
    /* a mark that could not be read may be either kind: "none" of the
     * other is no longer sure either */
    float none = st.doubt ? 0.4f : 0.9f;
    if (st.urg >= 0)
        ex_set(c, META_URGENCY, kinds[st.urg].value, st.urg_conf);
    else
        c->out->confidence[META_URGENCY] = none;
    if (st.sec >= 0)
        ex_set(c, META_SECRECY, kinds[st.sec].value, st.sec_conf);
    else if (c->colourless) {
        /* a classification mark must never be missed: without colour the
         * absence of a (now gray) stamp is not established, so the clerk
         * checks (the guard holds below its threshold) */
        c->out->confidence[META_SECRECY] = none < 0.5f ? none : 0.5f;
        log_debug("extract: no red in the document (gray scan or photocopy): secrecy unsure");
    } else
        c->out->confidence[META_SECRECY] = none;
}
