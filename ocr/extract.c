/* extract.c — see extract.h; the rules are in extract_*.c. */
#include "extract.h"

#include <stdlib.h>
#include <string.h>

#include "extract_ctx.h"
#include "../firmware/log.h"
#include "extract_lex.h"
#include "vntext.h"

extract_options extract_defaults(void)
{
    extract_options o = {.now = time(NULL), .review_threshold = 0.8f};
    return o;
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void ex_set(extract_ctx *c, meta_field f, const char *value, float conf)
{
    if (meta_set(c->out, f, value) != 0)
        c->oom = true;
    c->out->confidence[f] = clamp01(conf);
}

void ex_left(const page_layout *pl, const lay_row *r, size_t *from, size_t *to)
{
    *from = 0;
    *to = layout_row_split(pl, r);
}

void ex_right(const page_layout *pl, const lay_row *r, size_t *from, size_t *to)
{
    *from = layout_row_split(pl, r);
    *to = r->n;
}

float ex_upper_share(const char *s) { return vn_upper_share(s); }

/* The right column's motto names the layout: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA
 * VIỆT NAM" (State) or "ĐẢNG CỘNG SẢN VIỆT NAM" (Party). */
static void vote_motto(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    for (size_t ri = 0; ri < pl->nrows; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y0 > pl->height / 3)
            break;
        for (size_t j = 0; j + 1 < r->n; j++) {
            const char *a = lay_at(pl, r, j)->fold, *b = lay_at(pl, r, j + 1)->fold;
            const char *n2 = j + 2 < r->n ? lay_at(pl, r, j + 2)->fold : "";
            /* the motto is in capitals; the body may cite "Điều lệ Đảng
             * Cộng sản Việt Nam" in the top third of a short page */
            if (vn_upper_share(lay_at(pl, r, j)->text) < 0.5f)
                continue;
            if (strcmp(a, "dang") == 0 && strcmp(b, "cong") == 0 && strncmp(n2, "san", 3) == 0)
                c->party_votes += 3;
            if ((strcmp(a, "cong") == 0 && strcmp(b, "hoa") == 0) ||
                (strcmp(a, "xa") == 0 && strcmp(b, "hoi") == 0 && strcmp(n2, "chu") == 0))
                c->state_votes += 3;
        }
    }
}

/* Party signers write T/M, K/T, T/L; State ones TM., KT., TL. */
static void vote_prefix(extract_ctx *c)
{
    const char *p = c->out->str[META_SIGNER_PREFIX];
    if (!p)
        return;
    if (p[0] && p[1] == '/')
        c->party_votes++;
    else
        c->state_votes++;
}

static void decide_format(extract_ctx *c)
{
    int d = c->party_votes - c->state_votes;
    bool party = d > 0;
    int m = abs(d);
    ex_set(c, META_FORMAT, party ? "party" : "state", m >= 3 ? 0.97f : m >= 1 ? 0.75f : 0.4f);
}

/* The prefix label written as the layout writes it: K/T, T/M, T/L in a
 * Party document, KT., TM., TL. in a State one (Hướng dẫn 36, Nghị định
 * 30); the OCR often drops or swaps the slash or the dot. */
static void normalise_prefix(extract_ctx *c)
{
    static const char *const labels[][2] = {{"KT", "K/T"}, {"TM", "T/M"}, {"TL", "T/L"}};
    const char *p = c->out->str[META_SIGNER_PREFIX], *fmt = c->out->str[META_FORMAT];
    if (!p || !fmt || c->out->confidence[META_FORMAT] < 0.75f)
        return;
    bool party = strcmp(fmt, "party") == 0;
    size_t lab = strcspn(p, " ");
    if (!p[lab])
        return;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        const char *st = labels[i][0], *pt = labels[i][1];
        bool is_state = (lab == 2 || (lab == 3 && p[2] == '.')) && strncmp(p, st, 2) == 0;
        bool is_party = lab == 3 && p[0] == pt[0] && p[1] == '/' && p[2] == pt[2];
        if (!is_state && !is_party)
            continue;
        char buf[160];
        snprintf(buf, sizeof buf, "%s%s", party ? pt : st, party ? "" : ".");
        size_t n = strlen(buf);
        if (n + strlen(p + lab) < sizeof buf) {
            snprintf(buf + n, sizeof buf - n, "%s", p + lab);
            if (strcmp(buf, p) != 0)
                ex_set(c, META_SIGNER_PREFIX, buf, c->out->confidence[META_SIGNER_PREFIX]);
        }
        return;
    }
}

static bool same_type(int a, int b)
{
    return a >= 0 && b >= 0 && strcmp(lex_types[a].name, lex_types[b].name) == 0;
}

/* The type code of the notation and the title must agree (QĐ ↔ QUYẾT ĐỊNH,
 * TTr ↔ TỜ TRÌNH; Party QĐ is also QUY ĐỊNH); each corrects the other's
 * OCR: a clean title fixes a code misread by one letter or an ambiguous
 * fold (HD/HĐ), a clean code names a title that was not read. */
static void decide_type(extract_ctx *c)
{
    bool party = c->out->str[META_FORMAT] && strcmp(c->out->str[META_FORMAT], "party") == 0;
    int tt = c->type_from_title;
    bool amb = false;
    int tc = c->type_code[0] ? lex_type_by_code(c->type_code, party, &amb) : -1;
    float nconf = c->out->confidence[META_NOTATION];
    if (tt >= 0) {
        const char *tcode = party ? lex_types[tt].party_code : lex_types[tt].state_code;
        char *tf = tcode ? vn_fold(tcode) : NULL, *cf = vn_fold(c->type_code);
        bool fold_eq = tf && cf && strcmp(tf, cf) == 0;
        bool near = tf && cf && cf[0] && vn_edit_distance(tf, cf, 1) <= 1;
        free(tf);
        free(cf);
        float conf = c->title_conf;
        if (same_type(tt, tc) || fold_eq) {
            conf = conf + (1 - conf) * 0.5f; /* two witnesses */
            c->code_agrees = true;
            if (tcode && strcmp(tcode, c->type_code) != 0)
                ex_replace_code(c, tcode, party, nconf);
        } else if (tc >= 0 || c->type_code[0]) {
            /* disagreement: trust neither fully. A code that is no type
             * abbreviation at all ("TI", "CIT": letters lost or merged)
             * cannot be right: the clear title's code replaces it, to be
             * checked. */
            if (near && tcode)
                ex_replace_code(c, tcode, party, nconf * 0.6f);
            else if (tc < 0 && tcode && c->title_conf >= 0.8f) {
                ex_replace_code(c, tcode, party, nconf < 0.6f ? nconf : 0.6f);
                conf = conf < 0.75f ? conf : 0.75f;
            } else {
                c->out->confidence[META_NOTATION] = nconf < 0.5f ? nconf : 0.5f;
                conf = conf < 0.6f ? conf : 0.6f;
            }
        } else if (c->out->str[META_NOTATION] && !tcode) {
            conf *= 0.9f;
        }
        ex_set(c, META_TYPE, lex_types[tt].name, conf);
        return;
    }
    if (tc >= 0) {
        float conf = (amb ? 0.5f : 0.85f) * (nconf > 0.5f ? 1.0f : 0.7f);
        /* Party QĐ without a readable title: Quyết định or Quy định */
        if (party && strcmp(lex_types[tc].name, "Quyết định") == 0)
            conf = 0.5f;
        ex_set(c, META_TYPE, lex_types[tc].name, conf);
        return;
    }
    float conf = c->cong_van_subject ? 0.9f : c->out->str[META_NOTATION] ? 0.7f : 0.3f;
    ex_set(c, META_TYPE, "Công văn", conf);
}

/* One segment of a notation: letters only, the issuer's and unit's codes
 * in capitals ("UBND", "SKHCN", "ĐUK"); the type code may carry its
 * lower-case letters ("TTr", "QyĐ"). */
static bool code_segment_ok(const char *s, size_t n, bool type_code)
{
    if (n < 2 || n > 14)
        return false;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z') {
            i++;
        } else if (type_code && ch >= 'a' && ch <= 'z' && i > 0) {
            i++;
        } else if (n - i >= 2 && memcmp(s + i, "\xc4\x90", 2) == 0) { /* Đ */
            i += 2;
        } else
            return false;
    }
    return true;
}

/* The notation as the standards print it (§5): State "[YYYY/]CODE-ISSUER"
 * or công văn "ISSUER-UNIT", Party "CODE/ISSUER"; a further "-UNIT" or
 * "/UNIT" is allowed. `coded` when the first segment is the type code. */
static bool notation_well_formed(const char *nota, bool party, bool coded)
{
    const char *p = nota;
    if (!party && strspn(p, "0123456789") == 4 && p[4] == '/')
        p += 5;
    char sep = party ? '/' : '-';
    size_t seg = 0;
    while (*p) {
        size_t n = strcspn(p, "-/");
        if (!code_segment_ok(p, n, seg == 0 && coded))
            return false;
        p += n;
        if (*p) {
            if (seg == 0 && *p != sep)
                return false;
            p++;
            if (!*p)
                return false;
        }
        seg++;
    }
    return seg >= 2 && seg <= 3;
}

/* Median confidence of the usable words of a row (0 when none). */
static float row_median_conf(const page_layout *pl, const lay_row *r)
{
    float v[64];
    size_t n = 0;
    for (size_t j = 0; j < r->n && n < 64; j++) {
        const lay_word *w = lay_at(pl, r, j);
        if (!w->stamp && !w->noise)
            v[n++] = w->conf;
    }
    if (n == 0)
        return 0;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && v[k] < v[k - 1]; k--) {
            float t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    return v[n / 2];
}

/* Tesseract scores a token like "287/QĐ-SKHCN" low even when every glyph
 * is right: it is no dictionary word. On clean print the number is
 * trusted when everything around it agrees: plain printed digits, the
 * separator of the layout the motto names, a notation of the standard's
 * shape whose type code the title confirms (or a công văn's issuer-unit
 * pair without a title) read whole (nothing cut off its end), and a
 * date line read with high confidence (the
 * print is clean). A handwritten, misread or odd number keeps its low
 * confidence (standards §5: never a confident guess). */
static void corroborate_number(extract_ctx *c)
{
    const char *nota = c->out->str[META_NOTATION];
    const char *fmt = c->out->str[META_FORMAT];
    if (!c->number_printed || !c->out->has_number || !nota || !fmt || c->notation_cut ||
        c->code_from_name ||
        c->out->confidence[META_FORMAT] < 0.9f || c->date_row == EX_NONE)
        return;
    bool party = strcmp(fmt, "party") == 0;
    if (c->number_sep != (party ? '-' : '/'))
        return;
    /* a công văn has no title: State "ISSUER-UNIT" (no type code), Party
     * "CV/ISSUER" */
    bool cong_van = c->title_row == EX_NONE && c->out->str[META_TYPE] &&
                    strcmp(c->out->str[META_TYPE], "Công văn") == 0;
    bool amb = false;
    int tc = c->type_code[0] ? lex_type_by_code(c->type_code, party, &amb) : -1;
    bool coded = c->code_agrees || (cong_van && party && tc >= 0 && !amb);
    if (!coded && !(cong_van && !party && tc < 0))
        return;
    if (!notation_well_formed(nota, party, coded))
        return;
    const page_layout *pl = &c->pages[0];
    if (row_median_conf(pl, &pl->rows[c->date_row]) < 0.9f)
        return;
    /* a token the engine could barely read is not rescued */
    if (c->out->confidence[META_NUMBER] < 0.25f || c->out->confidence[META_NOTATION] < 0.25f)
        return;
    float *cf = c->out->confidence;
    if (cf[META_NUMBER] < 0.9f)
        cf[META_NUMBER] = 0.9f;
    if (cf[META_NOTATION] < 0.9f)
        cf[META_NOTATION] = 0.9f;
    if (cf[META_NUMBER_NOTATION] < 0.9f)
        cf[META_NUMBER_NOTATION] = 0.9f;
}

static void decide_review(extract_ctx *c)
{
    /* number_notation is no surer than either of its parts */
    float *cf = c->out->confidence;
    if (cf[META_NUMBER_NOTATION] > cf[META_NUMBER])
        cf[META_NUMBER_NOTATION] = cf[META_NUMBER];
    if (cf[META_NUMBER_NOTATION] > cf[META_NOTATION])
        cf[META_NUMBER_NOTATION] = cf[META_NOTATION];
    for (int f = 0; f < META_NFIELDS; f++) {
        float conf = c->out->confidence[f];
        bool missing = f == META_NUMBER ? !c->out->has_number : c->out->str[f] == NULL;
        c->out->review[f] = conf < c->opt->review_threshold || (missing && conf < 0.5f);
    }
}

static void clear_fields(doc_metadata *out)
{
    for (int f = 0; f < META_NFIELDS; f++) {
        if (f != META_NUMBER)
            meta_set(out, (meta_field)f, NULL);
        out->confidence[f] = 0;
        out->review[f] = false;
    }
    out->has_number = false;
    out->number = 0;
}

/* At -vv, prints each page's rebuilt rows with the column split, so a
 * wrong field can be traced to the OCR or to the layout. */
static void debug_dump_rows(const extract_ctx *c)
{
    if (log_get_level() < LOG_DEBUG)
        return;
    for (size_t p = 0; p < c->npages; p++) {
        const page_layout *pl = &c->pages[p];
        log_debug("extract: page %zu split_x=%d rows=%zu", p + 1, pl->split_x, pl->nrows);
        for (size_t i = 0; i < pl->nrows; i++) {
            const lay_row *r = &pl->rows[i];
            size_t k = layout_row_split(pl, r);
            char *left = layout_span_text(pl, r, 0, k), *right = layout_span_text(pl, r, k, r->n);
            log_debug("  %3zu y=%4d x=%4d..%4d h=%2d | %s || %s", i, r->box.y0, r->box.x0,
                      r->box.x1, r->h, left ? left : "", right ? right : "");
            free(left);
            free(right);
        }
    }
}

/* Any red in the document: a mark region, or words in red ink (a seal over
 * the signature). Every signed original carries a red seal. */
static bool has_red(const ocr_page_text *pages, size_t npages)
{
    for (size_t p = 0; p < npages; p++) {
        for (size_t i = 0; i < pages[p].nmarks; i++)
            if (!pages[p].marks[i].gray && pages[p].marks[i].red > 0.2f)
                return true;
        for (size_t i = 0; i < pages[p].nwords; i++)
            if (pages[p].words[i].red >= 0.3f)
                return true;
    }
    return false;
}

hand_slot *ex_add_slot(extract_ctx *c, hand_slot_kind kind, int x0, int x1, const ocr_box *line,
                       bool bounded)
{
    int h = line->y1 - line->y0;
    if (c->nslots >= HAND_MAX_SLOTS || x1 - x0 < h / 2 || h <= 0)
        return NULL;
    /* writing runs above the printed line more than below it */
    hand_slot *s = &c->slots[c->nslots++];
    s->kind = kind;
    s->bounded = bounded;
    s->box.x0 = x0;
    s->box.x1 = x1;
    s->box.y0 = line->y0 - h > 0 ? line->y0 - h : 0;
    s->box.y1 = line->y1 + h / 2;
    s->line_y0 = line->y0;
    s->line_y1 = line->y1;
    s->under_stamp = false;
    s->label_lost = false;
    s->print_x = 0;
    return s;
}

/* The number and the date of the first page alone, as the second readings
 * need them (extract_hand_slots, extract_date_doubt, extract_number_lost):
 * the context `c` over its own layout, options and scratch output. */
typedef struct header_read {
    extract_options opt;
    doc_metadata scratch;
    page_layout pl;
    extract_ctx c;
} header_read;

static bool header_only(const ocr_page_text *page, header_read *h)
{
    if (!page || page->nwords == 0)
        return false;
    h->opt = extract_defaults();
    h->scratch = (doc_metadata){0};
    if (layout_build(&h->pl, page) != 0)
        return false;
    h->c = (extract_ctx){
        .opt = &h->opt, .npages = 1, .out = &h->scratch, .raw0 = page, .pages = &h->pl};
    h->c.number_row = h->c.date_row = h->c.title_row = h->c.subject_end = EX_NONE;
    h->c.type_from_title = -1;
    ex_find_number(&h->c);
    ex_find_date(&h->c);
    return true;
}

static void header_free(header_read *h)
{
    layout_free(&h->pl);
    meta_free(&h->scratch);
}

size_t extract_hand_slots(const ocr_page_text *page, hand_slot *slots)
{
    header_read h;
    if (!header_only(page, &h))
        return 0;
    header_free(&h);
    const extract_ctx *c = &h.c;
    for (size_t i = 0; i < c->nslots; i++) {
        slots[i] = c->slots[i];
        if (slots[i].box.y1 > page->height)
            slots[i].box.y1 = page->height;
        if (slots[i].box.x1 > page->width)
            slots[i].box.x1 = page->width;
    }
    return c->oom ? 0 : c->nslots;
}

/* How far the date line's band reaches above and below its words, in
 * line heights: its marks, and no more of the lines around it. */
#define DATE_BAND_MARGIN 0.1

/* The date line as the first page's header reads it: none found, a date
 * read, none read but a blank left for the pen's reading (hand.c), or
 * none read at all; for the last, the band of the line in `region`. */
typedef enum { DATE_NO_LINE, DATE_READ, DATE_PEN, DATE_NONE } date_state;

static date_state read_date_line(const ocr_page_text *page, ocr_box *region)
{
    header_read h;
    if (!header_only(page, &h))
        return DATE_NO_LINE;
    const extract_ctx *c = &h.c;
    const page_layout *pl = &h.pl;
    bool pen = false; /* a blank of the date that reads like a pen's */
    for (size_t i = 0; i < c->nslots; i++)
        pen = pen || c->slots[i].kind != HAND_NUMBER;
    date_state st = c->oom || c->date_row == EX_NONE ? DATE_NO_LINE
                    : h.scratch.str[META_DATE]         ? DATE_READ
                    : pen                              ? DATE_PEN
                                                       : DATE_NONE;
    if (st == DATE_NONE) {
        const lay_row *r = &pl->rows[c->date_row];
        size_t from, to;
        ex_right(pl, r, &from, &to);
        if (c->number_row == c->date_row && c->number_last + 1 > from)
            from = c->number_last + 1;
        /* a dash or a dot before the place is no measure of the line */
        while (from < to && 2 * (lay_at(pl, r, from)->box.y1 - lay_at(pl, r, from)->box.y0) < r->h)
            from++;
        if (from >= to) {
            st = DATE_NO_LINE;
        } else {
            /* the line's extent from its first words, the place (and
             * "ngày"), which nothing written over the line's end has
             * merged into: ascenders, marks and tails, no more */
            ocr_box line = lay_at(pl, r, from)->box;
            int lh = line.y1 - line.y0;
            for (size_t j = from + 1; j < to && j < from + 3; j++) {
                const ocr_box *b = &lay_at(pl, r, j)->box;
                if ((b->y1 - b->y0) * 4 > lh * 5 || b->y1 < line.y0 || b->y0 > line.y1)
                    continue;
                line.y0 = b->y0 < line.y0 ? b->y0 : line.y0;
                line.y1 = b->y1 > line.y1 ? b->y1 : line.y1;
            }
            lh = line.y1 - line.y0;
            int m = (int)(DATE_BAND_MARGIN * lh);
            region->x0 = line.x0 - m > 0 ? line.x0 - m : 0;
            region->x1 = pl->width;
            region->y0 = line.y0 - m > 0 ? line.y0 - m : 0;
            region->y1 = line.y1 + m < pl->height ? line.y1 + m : pl->height;
        }
    }
    header_free(&h);
    return st;
}

bool extract_date_lost(const ocr_page_text *page, ocr_box *region)
{
    return read_date_line(page, region) == DATE_NONE;
}

bool extract_date_unread(const ocr_page_text *page, ocr_box *region)
{
    date_state st = read_date_line(page, region);
    return st != DATE_READ && st != DATE_PEN;
}

/* The number line's band: the date line's words (its right part) give
 * its height, the left column its width. */
bool extract_number_lost(const ocr_page_text *page, ocr_box *region)
{
    header_read h;
    if (!header_only(page, &h))
        return false;
    const extract_ctx *c = &h.c;
    const page_layout *pl = &h.pl;
    bool lost = !c->oom && c->number_row == EX_NONE && c->date_row != EX_NONE;
    if (lost) {
        const lay_row *r = &pl->rows[c->date_row];
        size_t from, to;
        ex_right(pl, r, &from, &to);
        int y0 = pl->height, y1 = 0, x1 = pl->split_x;
        for (size_t j = from; j < to; j++) {
            const ocr_box *b = &lay_at(pl, r, j)->box;
            /* print's height only: not a dash, nor writing over the line */
            if (2 * (b->y1 - b->y0) < r->h || (b->y1 - b->y0) * 4 > r->h * 5)
                continue;
            y0 = b->y0 < y0 ? b->y0 : y0;
            y1 = b->y1 > y1 ? b->y1 : y1;
            x1 = b->x0 < x1 ? b->x0 : x1;
        }
        int m = (int)(0.25 * (y1 - y0));
        lost = y1 > y0 && x1 > (y1 - y0) * 4;
        if (lost)
            *region = (ocr_box){0, y0 - m > 0 ? y0 - m : 0, x1 - (y1 - y0) / 2,
                                y1 + m < pl->height ? y1 + m : pl->height};
    }
    header_free(&h);
    return lost;
}

bool extract_number_unread(const ocr_page_text *page, ocr_box *region)
{
    (void)region;
    header_read h;
    if (!header_only(page, &h))
        return true;
    bool unread = h.c.oom || h.c.number_row == EX_NONE;
    header_free(&h);
    return unread;
}

int extract_metadata(const ocr_page_text *pages, size_t npages, const extract_options *opt,
                     doc_metadata *out, sohoa_err *err)
{
    if (!out || (npages && !pages))
        return err_set(err, SOHOA_EINPUT, "extract: no pages given");
    extract_options def = extract_defaults();
    if (!opt)
        opt = &def;
    clear_fields(out);
    if (npages == 0) {
        decide_review(&(extract_ctx){.opt = opt, .out = out});
        return 0;
    }
    extract_ctx c = {.opt = opt, .npages = npages, .out = out, .raw0 = &pages[0]};
    c.number_row = c.date_row = c.title_row = c.subject_end = EX_NONE;
    c.colourless = !has_red(pages, npages);
    c.type_from_title = -1;
    c.pages = calloc(npages, sizeof *c.pages);
    if (!c.pages)
        return err_set(err, SOHOA_EWORK, "extract: out of memory");
    size_t built = 0;
    for (; built < npages; built++)
        if (layout_build(&c.pages[built], &pages[built]) != 0) {
            c.oom = true;
            break;
        }
    if (!c.oom) {
        debug_dump_rows(&c);
        ex_find_number(&c);
        ex_find_date(&c);
        vote_motto(&c);
        ex_find_title_subject(&c);
        ex_find_issuer(&c);
        ex_complete_place(&c);
        ex_find_marks(&c);
        ex_find_signer(&c);
        vote_prefix(&c);
        decide_format(&c);
        normalise_prefix(&c);
        ex_check_issuer_code(&c);
        decide_type(&c);
        corroborate_number(&c);
        ex_check_year(&c);
        decide_review(&c);
    }
    for (size_t i = 0; i < built; i++)
        layout_free(&c.pages[i]);
    free(c.pages);
    if (c.oom)
        return err_set(err, SOHOA_EWORK, "extract: out of memory");
    return 0;
}
