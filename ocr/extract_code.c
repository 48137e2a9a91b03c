/* extract_code.c — the issuer's code in the notation, checked against the
 * issuer's name.
 *
 * A body's code is the initials of its name (Nghị định 30/2020 Phụ lục
 * III; Hướng dẫn 36-HD/VPTW): SỞ KHOA HỌC VÀ CÔNG NGHỆ → SKHCN, BAN QUẢN
 * LÝ CÁC KHU CÔNG NGHIỆP → BQLKCN, "và" and "các" left out; often of a
 * part of it (ỦY BAN NHÂN DÂN TỈNH … → UBND, SỞ LAO ĐỘNG - THƯƠNG BINH VÀ
 * XÃ HỘI → LĐTBXH). A Party body adds its committee's: Ban Nội chính of
 * the Tỉnh ủy → BNCTU. The header prints the name in large clean capitals
 * while the notation is a short token the OCR has no dictionary for, so
 * the name corrects a code misread by one letter ("SKHCMN", "BNCỶU",
 * "S5TP") and splits off a unit's code run into it ("SGDĐTKHTC"). Either
 * way the notation is the name's reading, not the print's: to be checked.
 */
#include <stdlib.h>
#include <string.h>

#include "extract_ctx.h"
#include "extract_lex.h"
#include "vntext.h"

#define INITIALS_MAX 24
#define CODE_MAX 32
#define CANDS_MAX 512

/* Codes are compared one byte per letter: ASCII as it is, Đ as '#', any
 * other code point as '~' (a letter the OCR gave a mark: one edit). */
static size_t squeeze(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap;) {
        unsigned char ch = (unsigned char)s[i];
        size_t cl = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
        if (ch < 0x80)
            out[k++] = (char)ch;
        else if (cl == 2 && i + 1 < n && (unsigned char)s[i + 1] == 0x90 && ch == 0xC4)
            out[k++] = '#';
        else
            out[k++] = '~';
        i += cl;
    }
    out[k] = '\0';
    return k;
}

typedef struct {
    char ini[INITIALS_MAX]; /* squeezed, one per word a code abbreviates */
    /* the word of the initial is a level of government (TỈNH, THÀNH,
     * HUYỆN, QUẬN, THỊ, XÃ, PHƯỜNG): a place's name starts there */
    bool level[INITIALS_MAX];
    char committees[16]; /* codes a Party body may add: "TU", "HU" as pairs */
    size_t n;
} name_initials;

/* The level of government a word names, with the committee code of its
 * Party committee ("" for none), or NULL for a word of no level. */
static const char *word_level(const char *word)
{
    static const char *const lv[][2] = {{"tỉnh", "TU"}, {"thành", "TU"}, {"huyện", "HU"},
                                        {"quận", "QU"}, {"thị", ""},     {"xã", ""},
                                        {"phường", ""}};
    char *l = vn_lower(word);
    const char *found = NULL;
    for (size_t k = 0; l && k < sizeof lv / sizeof lv[0]; k++)
        if (strcmp(l, lv[k][0]) == 0)
            found = lv[k][1];
    free(l);
    return found;
}

/* The initials of a body's name ("SỞ GIÁO DỤC VÀ ĐÀO TẠO" → "SGD#T"):
 * "và" and "các" have none, "TRUNG ƯƠNG" is TW by convention. */
static void initials_of(const char *name, name_initials *ni)
{
    memset(ni, 0, sizeof *ni);
    char *f = vn_fold(name), *copy = strdup(name);
    char prev[16] = "", *ws = NULL, *fs = NULL;
    /* the fold has the name's words in the same order, one for one */
    if (f && copy)
        for (char *w = strtok_r(copy, " ", &ws), *fw = strtok_r(f, " ", &fs); w && fw;
             w = strtok_r(NULL, " ", &ws), fw = strtok_r(NULL, " ", &fs)) {
            bool letter = fw[0] >= 'a' && fw[0] <= 'z';
            bool skip = strcmp(fw, "va") == 0 || strcmp(fw, "cac") == 0;
            const char *lv = word_level(w);
            if (lv && lv[0] && !strstr(ni->committees, lv) && strlen(ni->committees) + 3 < 16)
                strcat(ni->committees, lv);
            if (letter && !skip && ni->n + 1 < INITIALS_MAX) {
                bool dd = memcmp(w, "\xc4\x90", 2) == 0;
                ni->level[ni->n] = lv != NULL;
                if (strcmp(prev, "trung") == 0 && strcmp(fw, "uong") == 0)
                    ni->ini[ni->n++] = 'W';
                else
                    ni->ini[ni->n++] = dd ? '#' : (char)(fw[0] - 'a' + 'A');
            }
            snprintf(prev, sizeof prev, "%s", fw);
        }
    ni->ini[ni->n] = '\0';
    free(f);
    free(copy);
}

typedef struct {
    char code[CANDS_MAX][CODE_MAX];
    /* the run ends where the body's name does: at its end, or where its
     * place starts ("ỦY BAN NHÂN DÂN | TỈNH QUẢNG NGÃI"); a code cut
     * elsewhere ("ĐUK" of ĐẢNG ỦY KHỐI CÁC CƠ QUAN) is a convention a
     * misread one is never corrected to */
    bool bound[CANDS_MAX];
    size_t n;
} cand_set;

static void add_cand(cand_set *cs, const char *a, size_t an, const char *suffix, bool bound)
{
    size_t sl = strlen(suffix);
    if (an + sl < 3 || an + sl >= CODE_MAX || cs->n >= CANDS_MAX)
        return;
    memcpy(cs->code[cs->n], a, an);
    memcpy(cs->code[cs->n] + an, suffix, sl + 1);
    cs->bound[cs->n] = bound;
    cs->n++;
}

/* Every code the name supports: the initials of each run of its words,
 * and for a Party body the run to the name's end followed by its
 * committee's ("BAN NỘI CHÍNH" of the TỈNH ỦY → BNCTU). */
static void name_codes(const char *name, bool party, cand_set *cs)
{
    name_initials ni;
    initials_of(name, &ni);
    size_t n = ni.n;
    cs->n = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j <= n; j++) {
            /* "ỦY BAN NHÂN DÂN TỈNH": a name ending in a level lost its
             * place; its end is not the body's */
            bool bound = j < n ? ni.level[j] : !ni.level[n - 1];
            add_cand(cs, ni.ini + i, j - i, "", bound);
            for (size_t k = 0; party && j == n && ni.committees[k]; k += 2) {
                char suf[3] = {ni.committees[k], ni.committees[k + 1], '\0'};
                add_cand(cs, ni.ini + i, j - i, suf, true);
            }
        }
}

/* The one body's whole code within one edit of `x` (no code of the set
 * equal to it), or NULL when there is none or more than one. A code cut
 * elsewhere is no correction ("BTTT" of BỘ THÔNG TIN VÀ TRUYỀN THÔNG is
 * as near to "BTTTI" as BTTTT is, and no body's code). */
static const char *near_code(const cand_set *cs, const char *x)
{
    const char *found = NULL;
    for (size_t i = 0; i < cs->n; i++) {
        int d = vn_edit_distance(x, cs->code[i], 1);
        if (d == 0)
            return NULL;
        if (d == 1 && cs->bound[i]) {
            if (found && strcmp(found, cs->code[i]) != 0)
                return NULL;
            found = cs->code[i];
        }
    }
    return found;
}

/* The longest code of the set that starts `x` and leaves a unit's code
 * of two letters or more after it ("SGD#TKHTC" → "SGD#T"), or NULL. */
static const char *glued_code(const cand_set *cs, const char *x)
{
    const char *best = NULL;
    size_t xl = strlen(x);
    for (size_t i = 0; i < cs->n; i++) {
        size_t cl = strlen(cs->code[i]);
        if (cs->bound[i] && cl + 2 <= xl && strncmp(x, cs->code[i], cl) == 0 &&
            (!best || cl > strlen(best)))
            best = cs->code[i];
    }
    if (!best)
        return NULL;
    for (const char *p = x + strlen(best); *p; p++)
        if (!(*p >= 'A' && *p <= 'Z') && *p != '#')
            return NULL;
    return best;
}

/* The body's whole code when `x` is it with its last letter lost
 * ("BQLKC" for BQLKCN), four letters kept at least; else NULL. */
static const char *cut_code(const cand_set *cs, const char *x)
{
    size_t xl = strlen(x);
    for (size_t i = 0; xl >= 4 && i < cs->n; i++)
        if (cs->bound[i] && strlen(cs->code[i]) == xl + 1 && strncmp(cs->code[i], x, xl) == 0)
            return cs->code[i];
    return NULL;
}

/* The body's code when `x` is it cut short with the prose run into the
 * notation: the OCR took the code's last letters with the prose's first
 * ("BTCTU Thành phố" read "BTCTihành", cut to "BTC"). The one code that
 * goes on from `x` by one or two letters, or NULL. */
static const char *cut_with_prose(const cand_set *cs, const char *x)
{
    size_t xl = strlen(x);
    const char *found = NULL;
    for (size_t i = 0; i < cs->n; i++) {
        size_t cl = strlen(cs->code[i]);
        if (!cs->bound[i] || cl <= xl || cl > xl + 2 || strncmp(cs->code[i], x, xl) != 0)
            continue;
        if (found && strcmp(found, cs->code[i]) != 0)
            return NULL;
        found = cs->code[i];
    }
    return found;
}

static void unsqueeze(char *out, size_t cap, const char *code);

/* Whether `x` is one of the body's whole codes. */
static bool bound_code(const cand_set *cs, const char *x)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->bound[i] && strcmp(cs->code[i], x) == 0)
            return true;
    return false;
}

/* State: the type code run into the issuer's, the "-" between them lost
 * ("CTBXD" for CT-BXD): a type code the lexicon knows, then one of the
 * body's whole codes, and nothing else. The type code's length, or 0
 * when no split, or more than one, fits. */
static size_t type_glued(const cand_set *cs, const char *x)
{
    size_t xl = strlen(x), found = 0;
    for (size_t tl = 1; tl + 2 <= xl && tl <= 4; tl++) {
        char type[16] = "", sq[8];
        memcpy(sq, x, tl);
        sq[tl] = '\0';
        unsqueeze(type, sizeof type, sq);
        bool amb = false;
        if (lex_type_by_code(type, false, &amb) < 0 || !bound_code(cs, x + tl))
            continue;
        if (found)
            return 0;
        found = tl;
    }
    return found;
}

static bool contains(const cand_set *cs, const char *x)
{
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->code[i], x) == 0)
            return true;
    return false;
}

/* Appends a squeezed code in print: '#' is Đ. */
static void unsqueeze(char *out, size_t cap, const char *code)
{
    size_t k = strlen(out);
    for (const char *p = code; *p && k + 3 < cap; p++) {
        if (*p == '#') {
            memcpy(out + k, "\xc4\x90", 2);
            k += 2;
        } else
            out[k++] = *p;
    }
    out[k] = '\0';
}

/* The issuer's segment of a notation: after the type code ("QĐ-[UBND]",
 * "2026/NQ-[HĐND]", "QĐ/[TU]"), or first in a State công văn's
 * "[UBND]-NC". A ':' read for the State separator after a type code
 * ("QĐ:BQLKCN") counts as one. Writes [*b, *e); false when none. */
static bool issuer_segment(const char *nota, bool party, size_t *b, size_t *e, size_t *colon)
{
    const char *p = nota;
    *colon = (size_t)-1;
    if (!party && strspn(p, "0123456789") == 4 && p[4] == '/')
        p += 5;
    char sep = party ? '/' : '-';
    size_t cl = strcspn(p, party ? "/" : "-:");
    char code[16] = "";
    if (cl < sizeof code)
        memcpy(code, p, cl);
    bool amb = false;
    if (p[cl] && lex_type_by_code(code, party, &amb) >= 0) {
        if (p[cl] != sep)
            *colon = (size_t)(p + cl - nota);
        p += cl + 1;
    } else if (party) {
        return false;
    }
    *b = (size_t)(p - nota);
    *e = *b + strcspn(p, "-/");
    return *e > *b;
}

/* Records the type code of a notation whose separator was set right. */
static void set_type_code(extract_ctx *c, const char *nota, bool party)
{
    size_t tb = strspn(nota, "0123456789") == 4 && nota[4] == '/' ? 5 : 0;
    size_t tl = strcspn(nota + tb, "-");
    char code[sizeof c->type_code] = "";
    if (tl >= sizeof code)
        return;
    memcpy(code, nota + tb, tl);
    const char *canon = lex_code_spelling(code, party);
    snprintf(c->type_code, sizeof c->type_code, "%s", canon ? canon : code);
}

void ex_check_issuer_code(extract_ctx *c)
{
    const char *nota = c->out->str[META_NOTATION];
    const char *issuer = c->out->str[META_ISSUER];
    const char *fmt = c->out->str[META_FORMAT];
    /* a name read poorly supports no correction */
    if (!nota || !issuer || !fmt || c->out->confidence[META_ISSUER] < 0.6f)
        return;
    bool party = strcmp(fmt, "party") == 0;
    size_t b, e, colon;
    if (!issuer_segment(nota, party, &b, &e, &colon))
        return;
    char x[CODE_MAX];
    if (e - b >= sizeof x || squeeze(nota + b, e - b, x, sizeof x) < 3)
        return;
    /* a code's lower-case letter is its own (TTg: Thủ tướng) */
    for (const char *p = x; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            return;
    cand_set *cs = malloc(sizeof *cs);
    if (!cs) {
        c->oom = true;
        return;
    }
    name_codes(issuer, party, cs);
    const char *fix = NULL;
    bool glued = false;
    fix = cut_code(cs, x);
    /* cut where prose ran into it: the segment was the notation's end */
    if (!fix && c->notation_cut && !nota[e])
        fix = cut_with_prose(cs, x);
    if (!fix && !contains(cs, x)) {
        fix = near_code(cs, x);
        /* State: a unit's code run into the issuer's, its "-" lost; only
         * at the notation's end, where the unit stands */
        if (!fix && !party && !nota[e] && (fix = glued_code(cs, x)) != NULL)
            glued = true;
    }
    size_t type_len = !fix && !party && b == 0 && !nota[e] ? type_glued(cs, x) : 0;
    char out[256] = "";
    if (type_len && strlen(nota) < sizeof out / 2) {
        /* the type code, its dash, then the issuer's code */
        char sq[8];
        memcpy(sq, x, type_len);
        sq[type_len] = '\0';
        unsqueeze(out, sizeof out, sq);
        strcat(out, "-");
        unsqueeze(out, sizeof out, x + type_len);
    } else if ((fix || colon != (size_t)-1) && strlen(nota) < sizeof out / 2) {
        /* the notation up to the segment, a ':' for "-" set right */
        memcpy(out, nota, b);
        out[b] = '\0';
        if (colon != (size_t)-1)
            out[colon] = '-';
        if (fix) {
            unsqueeze(out, sizeof out, fix);
            if (glued) {
                /* the unit: what follows the code's letters in print (Đ
                 * is one squeezed byte, two printed) */
                size_t at = b;
                for (const char *p = fix; *p; p++)
                    at += *p == '#' ? 2 : 1;
                strcat(out, "-");
                strncat(out, nota + at, e - at);
            }
        } else
            strncat(out, nota + b, e - b);
        strcat(out, nota + e);
    }
    if (out[0]) {
        /* the type code's separator set right here */
        if (type_len || colon != (size_t)-1)
            set_type_code(c, out, party);
        c->code_from_name = true;
        ex_set_notation(c, out, party, 0.6f);
    }
    free(cs);
}
