/* extract_date.c — "<Place>, ngày DD tháng M năm YYYY" in the right header
 * column (standards §5): the date of issue and the place, which is what
 * precedes the comma. Dates quoted in the subject ("ngày 10/12/2013") or
 * the body are never read: only the first header row carrying the three
 * words ngày / tháng / năm counts.
 *
 * The day is often handwritten into the printed form; a day that does not
 * read as clean digits, lacks its leading zero (days under 10 are printed
 * "05"), or sits in a gap left for the pen gets a low confidence. A date
 * that is not in the calendar, before 1945 or after tomorrow is dropped.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../firmware/log.h"
#include "extract_ctx.h"
#include "extract_lex.h"
#include "vntext.h"

/* Keyword test on a fold with trailing punctuation ignored; one OCR error
 * allowed in words of four letters or more when the first letter holds. */
static bool kw(const char *fold, const char *want)
{
    char buf[32];
    size_t n = strlen(fold);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, fold, n + 1);
    /* punctuation and the pen's quotes stuck to it ("thúng'", "nám,") */
    while (n && !isalnum((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    if (strcmp(buf, want) == 0)
        return true;
    return strlen(want) >= 4 && buf[0] == want[0] && vn_edit_distance(buf, want, 1) <= 1;
}

typedef struct val_read {
    int value;
    int ndigits;
    bool fixed, bad, multi;
    float conf;
    const lay_word *first, *last;
} val_read;

static int digit_of(unsigned char ch, bool *fixed)
{
    if (isdigit(ch))
        return ch - '0';
    if (ch && strchr("OoQD", ch)) {
        *fixed = true;
        return 0;
    }
    if (ch && strchr("lI|i!", ch)) {
        *fixed = true;
        return 1;
    }
    if (ch == 'S' || ch == 's') {
        *fixed = true;
        return 5;
    }
    if (ch == 'B') {
        *fixed = true;
        return 8;
    }
    return -1;
}

/* Reads the digits of words [a, b) of a row. */
static void read_value(const page_layout *pl, const lay_row *r, size_t a, size_t b, val_read *v)
{
    memset(v, 0, sizeof *v);
    v->conf = 1.0f;
    int words = 0;
    for (size_t j = a; j < b; j++) {
        const lay_word *w = lay_at(pl, r, j);
        if (w->stamp || w->noise)
            continue;
        words++;
        v->first = v->first ? v->first : w;
        v->last = w;
        if (w->conf < v->conf)
            v->conf = w->conf;
        for (const unsigned char *p = (const unsigned char *)w->text; *p; p++) {
            if (*p == ',' || *p == '.')
                continue;
            int d = digit_of(*p, &v->fixed);
            if (d < 0) {
                v->bad = true;
                continue;
            }
            if (v->ndigits < 6)
                v->value = v->value * 10 + d;
            v->ndigits++;
        }
    }
    v->multi = words > 1;
    if (words == 0)
        v->conf = 0;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Calendar date, not before 1945, not after now + 1 day (Vietnam time). */
static bool date_valid(int y, int m, int d, time_t now)
{
    if (y < 1945 || m < 1 || m > 12 || d < 1 || d > days_in(y, m))
        return false;
    time_t lim = now + 86400 + 7 * 3600;
    struct tm tm;
    if (!gmtime_r(&lim, &tm))
        return true;
    long a = (long)y * 10000 + m * 100 + d;
    long b = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    return a <= b;
}

static bool year_like(const char *fold);

static bool has_digit(const char *fold)
{
    for (; *fold; fold++)
        if (isdigit((unsigned char)*fold))
            return true;
    return false;
}

static bool find_keywords(const page_layout *pl, const lay_row *r, size_t *ngay, size_t *thang,
                          size_t *nam)
{
    for (size_t j = 0; j < r->n; j++) {
        const lay_word *w = lay_at(pl, r, j);
        if (w->stamp || !kw(w->fold, "ngay"))
            continue;
        size_t t = EX_NONE, y = EX_NONE;
        for (size_t k = j + 1; k < r->n && k <= j + 5; k++)
            if (kw(lay_at(pl, r, k)->fold, "thang")) {
                t = k;
                break;
            }
        if (t == EX_NONE)
            continue;
        for (size_t k = t + 1; k < r->n && k <= t + 5; k++)
            if (kw(lay_at(pl, r, k)->fold, "nam")) {
                y = k;
                break;
            }
        /* "năm" misread beyond a letter ("#ăm 2021", its n under a
         * stamp's dots): the word with no digit just before the year */
        for (size_t k = t + 1; y == EX_NONE && k + 1 < r->n && k <= t + 5; k++)
            if (year_like(lay_at(pl, r, k + 1)->fold) && !has_digit(lay_at(pl, r, k)->fold))
                y = k;
        if (y == EX_NONE)
            continue;
        /* "Quảng Ngãi, ngày": the place may itself look like "ngày" */
        while (j + 1 < t && kw(lay_at(pl, r, j + 1)->fold, "ngay"))
            j++;
        *ngay = j;
        *thang = t;
        *nam = y;
        return true;
    }
    return false;
}

/* Confidence of the day: clean print or pen? */
static float day_conf(const val_read *d, const lay_word *ngay, const lay_word *thang)
{
    float c = d->conf;
    int h = ngay->box.y1 - ngay->box.y0;
    if (d->bad)
        c = c < 0.3f ? c : 0.3f;
    if (d->fixed || d->multi)
        c *= 0.5f;
    if (d->ndigits == 1 && c > 0.5f)
        c = 0.5f; /* days under 10 are printed with a leading zero */
    if (d->first && (d->first->box.x0 - ngay->box.x1 > h * 8 / 10 ||
                     thang->box.x0 - d->last->box.x1 > h * 8 / 10 ||
                     d->first->box.y1 - d->first->box.y0 > h * 14 / 10 || ex_hand_word(d->first)) &&
        c > 0.5f)
        c = 0.5f;
    return c;
}

/* Whether a word can be part of a place's name: no digits, no "/" (a
 * notation run into the date line: "/KH-SKHĐT Hậu Giang"). */
static bool place_word(const lay_word *w)
{
    for (const char *p = w->text; *p; p++)
        if (isdigit((unsigned char)*p) || *p == '/')
            return false;
    return true;
}

static bool has_letter(const char *fold)
{
    for (; *fold; fold++)
        if (isalpha((unsigned char)*fold))
            return true;
    return false;
}

/* A province's name the column split or a glued notation cut ("Tiền" in
 * "…/NQ-HĐNDTiền | Giang", "Bà | Rịa - Vũng Tàu", "Thành | phố Hồ Chí
 * Minh"): the place with the end of one or two words before it, when that
 * makes a province's name (`loose`: with its first letter lost or
 * misread). Returns the longest (malloc'd), or NULL when none is, or
 * when a loose reading could mean several ("iên Giang"). */
static char *province_joined(const page_layout *pl, const lay_row *r, size_t from,
                             const char *place, bool loose)
{
    char *best = NULL;
    bool several = false;
    size_t first = from > 2 ? from - 2 : 0;
    for (size_t k = first; k < from && !several; k++) {
        const char *fold = lay_at(pl, r, k)->fold;
        for (size_t i = 0; fold[i]; i++) {
            char cand[256];
            int n = snprintf(cand, sizeof cand, "%s", fold + i);
            for (size_t j = k + 1; j < from && n > 0 && (size_t)n < sizeof cand; j++)
                n += snprintf(cand + n, sizeof cand - (size_t)n, " %s", lay_at(pl, r, j)->fold);
            if (n <= 0 || (size_t)n >= sizeof cand)
                continue;
            snprintf(cand + n, sizeof cand - (size_t)n, " %s", place);
            char *name = loose ? lex_province_named_loosely(cand, &several) : lex_province_named(cand);
            if (name && (!best || strlen(name) > strlen(best))) {
                free(best);
                best = name;
            } else {
                free(name);
            }
        }
    }
    if (several) {
        free(best);
        return NULL;
    }
    return best;
}

/* The place made whole from the words it touches; its first letter may
 * be lost in them ("…KCNhành | phố Hồ Chí Minh"), looked for when no
 * join as read is a name. */
static char *province_completed(const page_layout *pl, const lay_row *r, size_t from,
                                const char *place)
{
    char *name = province_joined(pl, r, from, place, false);
    if (name)
        return name;
    char *as_read = lex_province_named(place);
    name = province_joined(pl, r, from, place, true);
    /* a place that is a name as read is only lengthened ("Hồ Chí Minh"
     * after "…hành phố" is the city's "Thành phố Hồ Chí Minh") */
    size_t nl = name ? strlen(name) : 0, rl = as_read ? strlen(as_read) : 0;
    if (as_read && name && !(nl > rl && strcmp(name + nl - rl, as_read) == 0)) {
        free(name);
        name = NULL;
    }
    free(as_read);
    return name;
}

/* The place: words [from, to) of the date line, less a notation's tail
 * before it; `cap` bounds its confidence. */
static void set_place(extract_ctx *c, const page_layout *pl, const lay_row *r, size_t from,
                      size_t to, float cap)
{
    bool trimmed = false;
    for (; from < to && !place_word(lay_at(pl, r, from)); from++)
        trimmed = true;
    /* a dash or dot the engine made of a speck */
    while (from < to && !has_letter(lay_at(pl, r, from)->fold))
        from++;
    /* "ngày" read twice ("Lai Châu, ngày ngày 21"): the first, after the
     * place's comma, is no word of the place */
    while (to > from + 1 && kw(lay_at(pl, r, to - 1)->fold, "ngay")) {
        const char *prev = lay_at(pl, r, to - 2)->fold;
        if (!prev[0] || prev[strlen(prev) - 1] != ',')
            break;
        to--;
    }
    if (to <= from)
        return;
    char *s = layout_span_text(pl, r, from, to);
    float conf = 0;
    ocr_box box;
    if (!s || !layout_span_box(pl, r, from, to, &box, &conf)) {
        c->oom |= s == NULL;
        free(s);
        return;
    }
    /* the place ends at its comma; without one, a word may be lost with it
     * ("Lai ngày 03 tháng" for "Lai Châu, ngày 03 tháng") */
    const char *last = lay_at(pl, r, to - 1)->fold;
    bool comma = last[0] && last[strlen(last) - 1] == ',';
    size_t n = strlen(s);
    while (n && strchr(",.;: ", s[n - 1]))
        s[--n] = '\0';
    int changed = 0;
    char *fixed = lex_repair(s, &changed);
    free(s);
    if (!fixed) {
        c->oom = true;
        return;
    }
    vn_case_stats st;
    vn_case_count(fixed, &st);
    /* a place name is capitalised word by word ("Quảng Nam") */
    if (st.words == 0 || st.words_capitalised < st.words)
        conf *= 0.6f;
    if (st.words > 5)
        conf *= 0.5f;
    /* Its first word touching the word before it (the notation run into
     * it, or the place's own first words taken for the left column's:
     * "Thừa Thiên | Huế"), or the notation's tail taken off its start:
     * where the place starts is unsure. */
    bool touching = from > 0 && lay_at(pl, r, from)->box.x0 - lay_at(pl, r, from - 1)->box.x1 < r->h;
    if ((touching || trimmed) && conf > 0.5f)
        conf = 0.5f;
    if (!comma && conf > 0.7f)
        conf = 0.7f;
    if (lex_near_province(fixed) && conf > 0.6f)
        conf = 0.6f;
    /* A province's name made whole from the words it touches: the
     * lexicon's spelling, one to check since the engine did not read it
     * so. */
    char *fold = touching ? vn_fold(fixed) : NULL;
    char *whole = fold ? province_completed(pl, r, from, fold) : NULL;
    if (whole && strcmp(whole, fixed) != 0) {
        free(fixed);
        fixed = whole;
        whole = NULL;
        conf = conf < 0.75f ? conf : 0.75f;
        vn_case_count(fixed, &st);
    }
    free(whole);
    free(fold);
    if (conf > cap)
        conf = cap;
    if (st.letters)
        ex_set(c, META_PLACE, fixed, conf);
    free(fixed);
}

/* Where the right column starts on row ri, when words before `at` can be
 * the place of a date line there: the place (a few words) stands apart
 * from anything left of it, while a body sentence citing a date ("Căn cứ
 * ... ngày 05 tháng 3 năm 2020") runs on; on the number's row the place
 * starts right after the notation, even when the two touch. */
static bool date_line_at(extract_ctx *c, const page_layout *pl, size_t ri, size_t at,
                         size_t *pstart)
{
    const lay_row *r = &pl->rows[ri];
    size_t from, to;
    ex_right(pl, r, &from, &to);
    bool after_number = c->number_row == ri && c->number_last < at;
    if (after_number)
        from = c->number_last + 1;
    if (from > at)
        from = at;
    if (at - from > 5 ||
        (from > 0 && !after_number &&
         lay_at(pl, r, from)->box.x0 - lay_at(pl, r, from - 1)->box.x1 < r->h))
        return false;
    if (c->number_row != EX_NONE && r->box.y0 > pl->rows[c->number_row].box.y1 + 3 * pl->line_h)
        return false;
    *pstart = from;
    if (c->number_row == ri && !after_number)
        *pstart = from > c->number_word ? from : c->number_word + 1;
    return true;
}

static void take_date_row(extract_ctx *c, size_t ri)
{
    const lay_row *r = &c->pages[0].rows[ri];
    c->date_row = ri;
    if (r->box.y1 > c->header_y1)
        c->header_y1 = r->box.y1;
}

/* The date read from the digits after word `from` alone, when the words
 * between them were lost ("ngày 23 11 năm 2025" under a stamp's frame,
 * "tháng 3 ñăm-2020"): exactly a day, a month and a year of four digits,
 * in that order. Never sure: 0.5 at most. Returns false if none. */
static bool loose_date(extract_ctx *c, const page_layout *pl, const lay_row *r, size_t from)
{
    int val[4] = {0}, len[4] = {0}, nrun = 0;
    float conf = 1.0f;
    for (size_t j = from + 1; j < r->n && j <= from + 8; j++) {
        const lay_word *w = lay_at(pl, r, j);
        if (w->stamp || w->noise)
            continue;
        bool digits = false;
        for (const char *p = w->fold;; p++) {
            if (isdigit((unsigned char)*p)) {
                if (!digits && nrun++ >= 3)
                    return false;
                digits = true;
                if (len[nrun - 1]++ < 5)
                    val[nrun - 1] = val[nrun - 1] * 10 + (*p - '0');
                if (w->conf < conf)
                    conf = w->conf;
            } else {
                digits = false;
            }
            if (!*p)
                break;
        }
        /* the year ends the line: digits past it are a stamp's ink
         * ("4năn£Z2021 3", the stamp's number over the line's end) */
        if (nrun == 3 && len[2] == 4)
            break;
    }
    if (nrun != 3 || len[0] > 2 || len[1] > 2 || len[2] != 4 ||
        !date_valid(val[2], val[1], val[0], c->opt->now))
        return false;
    char iso[40];
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", val[2], val[1], val[0]);
    ex_set(c, META_DATE, iso, conf < 0.5f ? conf : 0.5f);
    return true;
}

/* The date line with all three keywords: the first such row counts. */
static bool strict_date_line(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    for (size_t ri = 0; ri < pl->nrows; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y0 > pl->height / 2)
            break;
        size_t ngay, thang, nam, pstart;
        if (!find_keywords(pl, r, &ngay, &thang, &nam) || !date_line_at(c, pl, ri, ngay, &pstart))
            continue;
        take_date_row(c, ri);
        set_place(c, pl, r, pstart, ngay, 1.0f);

        val_read d, m, y;
        read_value(pl, r, ngay + 1, thang, &d);
        read_value(pl, r, thang + 1, nam, &m);
        size_t yend = nam + 1;
        while (yend < r->n && yend < nam + 3 && lay_at(pl, r, yend)->box.x0 - lay_at(pl, r, yend - 1)->box.x1 < r->h)
            yend++;
        read_value(pl, r, nam + 1, yend, &y);
        float dc = day_conf(&d, lay_at(pl, r, ngay), lay_at(pl, r, thang));
        float mc = m.conf * (m.bad || m.fixed ? 0.4f : 1.0f);
        if (ex_hand_word(m.first) && mc > 0.5f)
            mc = 0.5f;
        /* blanks read unlike print get a second, digits-only reading */
        const lay_word *wn = lay_at(pl, r, ngay), *wt = lay_at(pl, r, thang);
        if (dc < c->opt->review_threshold)
            ex_add_slot(c, HAND_DAY, wn->box.x1 + 1, wt->box.x0, &wn->box, true);
        if (mc < c->opt->review_threshold)
            ex_add_slot(c, HAND_MONTH, wt->box.x1 + 1, lay_at(pl, r, nam)->box.x0, &wt->box,
                        true);
        float yc = y.conf * (y.bad || y.fixed || y.ndigits != 4 ? 0.4f : 1.0f);
        float conf = dc < mc ? dc : mc;
        conf = conf < yc ? conf : yc;
        if (d.ndigits == 0 || m.ndigits == 0 || y.ndigits != 4 ||
            !date_valid(y.value, m.value, d.value, c->opt->now)) {
            if (!loose_date(c, pl, r, ngay))
                c->out->confidence[META_DATE] = 0.0f;
            return true;
        }
        char iso[40];
        snprintf(iso, sizeof iso, "%04d-%02d-%02d", y.value, m.value, d.value);
        ex_set(c, META_DATE, iso, conf);
        return true;
    }
    return false;
}

static bool year_like(const char *fold)
{
    int n = 0;
    for (; *fold; fold++)
        if (isdigit((unsigned char)*fold))
            n++;
        else if (n)
            break;
    return n == 4;
}

/* One or two digits and nothing else: a day ("ngày 20"). */
static bool day_like(const char *fold)
{
    size_t n = strlen(fold);
    while (n && !isalnum((unsigned char)fold[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)fold[i]))
            return false;
    return n == 1 || n == 2;
}

/* The word of row r that ends the date line's place when the keywords
 * were not all read: a "ngày" with a day, a month or a year after it, or
 * else a word ending in a comma early in the right column with a year at
 * the row's end ("Tây Ninh, ngờ|2Ÿ 2021."). *comma tells which. */
static size_t loose_anchor(const page_layout *pl, const lay_row *r, bool *comma)
{
    size_t from, to;
    ex_right(pl, r, &from, &to);
    for (size_t j = from + 1; j < to; j++) {
        if (!kw(lay_at(pl, r, j)->fold, "ngay"))
            continue;
        for (size_t k = j + 1; k < to && k <= j + 6; k++) {
            const char *f = lay_at(pl, r, k)->fold;
            if (kw(f, "thang") || kw(f, "nam") || year_like(f) || (k == j + 1 && day_like(f))) {
                *comma = false;
                return j;
            }
        }
    }
    bool year = (to > from && year_like(lay_at(pl, r, to - 1)->fold)) ||
                (to > from + 1 && year_like(lay_at(pl, r, to - 2)->fold));
    for (size_t j = from; year && j < to && j < from + 4; j++) {
        const char *f = lay_at(pl, r, j)->fold;
        size_t n = strlen(f);
        if (n > 1 && f[n - 1] == ',' && j + 1 < to) {
            *comma = true;
            return j + 1;
        }
    }
    return EX_NONE;
}

/* No row with the three keywords: a date line that lost some, high in the
 * right column near the number. Its place is read as usual; its date
 * only from clean digits, and never sure. */
static void loose_date_line(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    for (size_t ri = 0; ri < pl->nrows; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y0 > pl->height / 3)
            break;
        bool comma = false;
        size_t at = loose_anchor(pl, r, &comma), pstart;
        if (at == EX_NONE || !date_line_at(c, pl, ri, at, &pstart))
            continue;
        take_date_row(c, ri);
        set_place(c, pl, r, pstart, at, comma ? 0.75f : 1.0f);
        if (!loose_date(c, pl, r, comma ? at - 1 : at))
            c->out->confidence[META_DATE] = 0.0f;
        return;
    }
}

void ex_find_date(extract_ctx *c)
{
    if (!strict_date_line(c))
        loose_date_line(c);
}

/* Whether the words of `tail` are the last words of `name`, fewer than
 * all of them (folds, one space between words). */
static bool last_words_of(const char *tail, const char *name)
{
    size_t tl = strlen(tail), nl = strlen(name);
    return tl > 0 && tl < nl && name[nl - tl - 1] == ' ' && strcmp(name + nl - tl, tail) == 0;
}

/* A place that lost its first words ("Giang" of "Kiên Giang": the first
 * run into the notation before it, or read apart and ambiguous, Kiên or
 * Tiền) is no province's name; the date line names the place where the
 * issuing body sits, and a provincial body's header names its province.
 * When the place is the end of that name, it is that province, to be
 * checked. */
#define PLACE_COMPLETED_CONF 0.6f

void ex_complete_place(extract_ctx *c)
{
    const char *place = c->out->str[META_PLACE];
    if (!place)
        return;
    char *as_read = lex_province_named(place);
    bool named = as_read != NULL;
    free(as_read);
    if (named)
        return;
    const meta_field heads[] = {META_ISSUER_SUPERIOR, META_ISSUER};
    char *pf = vn_fold(place);
    for (size_t i = 0; pf && i < sizeof heads / sizeof heads[0]; i++) {
        const char *head = c->out->str[heads[i]];
        char *prov = head ? lex_province_ending(head) : NULL;
        char *vf = prov ? vn_fold(prov) : NULL;
        bool ends = vf && last_words_of(pf, vf);
        if (ends) {
            log_debug("extract: place \"%s\" is the end of the issuer's province: %s", place, prov);
            float conf = c->out->confidence[META_PLACE];
            ex_set(c, META_PLACE, prov, conf < PLACE_COMPLETED_CONF ? conf : PLACE_COMPLETED_CONF);
        }
        free(vf);
        free(prov);
        if (ends)
            break;
    }
    c->oom |= pf == NULL;
    free(pf);
}
