/* extract_number.c — the document's own "Số" (number and notation).
 *
 * State: "Số: 182/QĐ-LĐTBXH", normative "Số: 21/2026/TT-BCT" (number 21,
 * notation "2026/TT-BCT"), công văn "Số: 299/UBND-TTHC". Party: "Số
 * 682-QĐ/TU" (no colon). Standards §5. It is the "Số" at the head of the
 * left column, under the bodies; the clerk's ĐẾN stamp has its own "Số"
 * (layout marks it) and numbers quoted in the subject or body come later
 * on the page, so only the first "Số" line of the header counts.
 *
 * Real scans have the number written by hand into a printed "Số:   /KH-SYT"
 * (standards §5, "What real scans look like"): the wide gap left for the
 * pen, or a glyph taller than print, caps the confidence so the clerk is
 * asked, and a number with characters that are not digits is not guessed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract_ctx.h"
#include "extract_lex.h"
#include "vntext.h"

/* Length of the "Số" label at the start of a fold ("so", "so:", "s0:",
 * "5o;"), or 0. The label must end the word or be followed by a digit or
 * the number's separator (glued "Số:07/TB-UBND"). A speck or quote the
 * OCR set before it ("“Số:", "~Số") is part of the label; so is a sign
 * it made of the colon, glued to the number ("Số¿671": the fold has '?'
 * for a sign that is no letter). "Sđ" (the ố read
 * as đ, no word of the language) counts only glued to its colon or
 * number; a dash between it and the number is the space read as one.
 * The S read as 8 ("8ô:") counts with its colon, or with the o's mark
 * (`text`, as read: "8õ" before a Party number; "80" is a number). */
static size_t so_label(const char *f, const char *text)
{
    const char *eight = strchr(text, '8');
    bool marked_o = eight && (unsigned char)eight[1] >= 0x80;
    size_t s = 0;
    while (s < 2 && f[s] && strchr("'\"~`^*_.,", f[s]))
        s++;
    f += s;
    if (f[0] != 's' && f[0] != '5' && f[0] != '8')
        return 0;
    bool o_like = f[1] == 'o' || f[1] == '0' || f[1] == '6';
    if (!o_like && f[1] != 'd')
        return 0;
    size_t n = 2;
    while (f[n] == ':' || f[n] == ';' || f[n] == '.' || f[n] == ',')
        n++;
    /* an 8 for the S only with a letter o and the colon ("8ô:"): "80" is
     * a number */
    if (f[0] == '8' && (f[1] != 'o' || (n == 2 && !marked_o)))
        return 0;
    if (o_like && f[n] == '?' && isdigit((unsigned char)f[n + 1]))
        return s + n + 1;
    if (!o_like && n == 2 && !isdigit((unsigned char)f[n]))
        return 0;
    if (f[n] == '\0' || isdigit((unsigned char)f[n]) || (n > 2 && f[n] != ' '))
        return s + n;
    /* the space after a Party document's "Số" read as a dash, glued to
     * the number ("Số-31-QĐ/UBKTTU") */
    if (o_like && n == 2 && f[n] == '-' && isdigit((unsigned char)f[n + 1]))
        return s + n + 1;
    return 0;
}

typedef struct piece {
    const char *text; /* part of a word's text (normalised) */
    size_t len;
    const lay_word *w;
} piece;

#define MAX_PIECES 16

/* Digit reading with the usual OCR confusions (0/O/Q/D, 1/l/I, 5/S, 8/B,
 * 2/Z, 6/G/b, 9/g/q). Returns the digit, or -1 for anything else; *fixed
 * is set when a letter stood for the digit. */
static int read_digit(unsigned char ch, bool *fixed)
{
    static const char *const conf[10] = {"OoQD", "lI|i!", "Zz", "", "", "Ss", "Gb", "", "B", "gq"};
    if (isdigit(ch))
        return ch - '0';
    for (int d = 0; d < 10; d++)
        if (ch && strchr(conf[d], ch)) {
            *fixed = true;
            return d;
        }
    return -1;
}

typedef struct num_read {
    char digits[16];
    int ndigits;
    bool fixed, bad;
    size_t end; /* byte offset in tail after the number */
} num_read;

static void read_number(const char *tail, num_read *nr)
{
    memset(nr, 0, sizeof *nr);
    size_t i = 0;
    while (tail[i] == ':' || tail[i] == ';' || tail[i] == '.' || tail[i] == ',' || tail[i] == ' ')
        i++;
    for (; tail[i] && tail[i] != '/' && tail[i] != '-'; i++) {
        bool fixed = false;
        int d = read_digit((unsigned char)tail[i], &fixed);
        if (d < 0) {
            nr->bad = true;
            continue;
        }
        nr->fixed |= fixed;
        if (nr->ndigits < 15)
            nr->digits[nr->ndigits++] = (char)('0' + d);
        else
            nr->bad = true;
    }
    nr->digits[nr->ndigits] = '\0';
    nr->end = i;
}

/* "Số: 36 /2 /HD-UBND" for 3676, "Số 6 /2 -NQ/BNCTU" for 672, "Số: 33 /
 * /KH-BNV" for 337: a handwritten 7 or 1, one slanting stroke, read as a
 * separator, alone or with the digits written after it, before the
 * notation's word ("6/2", "/2" or "/"). A notation goes on from its
 * separator with a code, or with a four-digit year ("15/2024/NĐ-CP"),
 * and print sets it as one word: a separator, at most three digits and
 * a space before another separator is writing, and the notation starts
 * at the word after it, with its own separator and a code. Returns the
 * offset in `tail` of that separator, 0 for none. */
static size_t stroke_read_as_sep(const char *tail, const size_t *owner, size_t end)
{
    if (tail[end] != '/' && tail[end] != '-')
        return 0;
    size_t digits = strspn(tail + end + 1, "0123456789");
    size_t next = end + 1 + digits;
    if (digits > 3 || (tail[next] != '/' && tail[next] != '-') || owner[next - 1] == owner[next])
        return 0;
    const unsigned char *code = (const unsigned char *)tail + next + 1;
    bool capital = (code[0] >= 'A' && code[0] <= 'Z') || (code[0] == 0xc4 && code[1] == 0x90);
    return capital ? next : 0;
}

/* Removes what cannot belong to a notation (spaces, trailing punctuation)
 * and spells the type code canonically (QD → QĐ). */
static void clean_notation(char *s)
{
    size_t k = 0;
    for (size_t i = 0; s[i]; i++)
        if (s[i] != ' ')
            s[k++] = s[i];
    s[k] = '\0';
    while (k && strchr(".,;:'\"_", s[k - 1]))
        s[--k] = '\0';
}

/* Letters, digits, "-", "/", "." only. */
static bool notation_plausible(const char *s)
{
    vn_case_stats st;
    vn_case_count(s, &st);
    if (st.letters < 1)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80 && !isalnum(*p) && *p != '-' && *p != '/' && *p != '.' && *p != '&')
            return false;
    return true;
}

/* The case of the code point at `p` (of `len` bytes): 1 upper, -1 lower,
 * 0 no letter. */
static int char_case(const char *p, size_t len)
{
    char one[8] = {0};
    memcpy(one, p, len < sizeof one - 1 ? len : sizeof one - 1);
    vn_case_stats st;
    vn_case_count(one, &st);
    return st.upper ? 1 : st.lower ? -1 : 0;
}

/* A notation is codes in capitals ("UBND"), a code's one lower-case
 * letter ("TTr", "CTr", "TTg") and digits. Two lower-case letters in a
 * row, or one with a mark (no code's is: "SCTBà"), are a word of prose
 * run into it ("HĐNDTiền": the date line's place, or the clerk's pen),
 * and a separator at its end was left dangling by a word the OCR lost:
 * neither was printed as part of the notation. Cuts them off; true when
 * something was cut. */
static bool cut_glued_prose(char *nota)
{
    size_t off[64], n = 0, len = strlen(nota);
    int kase[64];
    bool marked[64];
    for (size_t i = 0; i < len && n < 64;) {
        size_t cl = 1;
        while (i + cl < len && ((unsigned char)nota[i + cl] & 0xC0) == 0x80)
            cl++;
        off[n] = i;
        marked[n] = cl > 1;
        kase[n++] = char_case(nota + i, cl);
        i += cl;
    }
    bool cut = false;
    for (size_t k = 0; k < n; k++)
        if (kase[k] < 0 && (marked[k] || (k + 1 < n && kase[k + 1] < 0))) {
            nota[off[k > 0 && kase[k - 1] > 0 ? k - 1 : k]] = '\0';
            cut = true;
            break;
        }
    for (len = strlen(nota); len && (nota[len - 1] == '-' || nota[len - 1] == '/');) {
        nota[--len] = '\0';
        cut = true;
    }
    return cut;
}

/* The code segment of a notation: "QĐ" in "QĐ-UBND", "2026/TT-BCT" → "TT",
 * Party "QĐ/TU" → "QĐ". Writes [*b, *e) into the notation. */
static void code_segment(const char *nota, bool party, size_t *b, size_t *e)
{
    size_t i = 0;
    if (!party && isdigit((unsigned char)nota[0])) {
        while (isdigit((unsigned char)nota[i]))
            i++;
        if (nota[i] == '/')
            i++;
        else
            i = 0;
    }
    *b = i;
    while (nota[i] && nota[i] != (party ? '/' : '-'))
        i++;
    *e = i;
}

/* Rewrites the type code of `nota` in its canonical spelling and records
 * it in c->type_code. */
static char *fix_code(extract_ctx *c, const char *nota, bool party)
{
    size_t b, e;
    code_segment(nota, party, &b, &e);
    char code[16] = "";
    if (e > b && e - b < sizeof code) {
        memcpy(code, nota + b, e - b);
        code[e - b] = '\0';
    }
    /* "Số: 299/UBND-TTHC": no separator after the code means no code */
    bool has_sep = nota[e] != '\0';
    const char *canon = has_sep ? lex_code_spelling(code, party) : NULL;
    bool amb = false;
    int t = has_sep ? lex_type_by_code(code, party, &amb) : -1;
    /* an unknown code is kept too: the title may correct it (T8 → TB) */
    if (t >= 0 || (has_sep && code[0]))
        snprintf(c->type_code, sizeof c->type_code, "%s", canon ? canon : code);
    if (!canon || strcmp(canon, code) == 0)
        return strdup(nota);
    size_t nl = strlen(nota) - (e - b) + strlen(canon) + 1;
    char *out = malloc(nl);
    if (out)
        snprintf(out, nl, "%.*s%s%s", (int)b, nota, canon, nota + e);
    return out;
}

/* A word of prose ("Thành", "Hà"): a capital and then only lower-case
 * letters. A notation is capitals, digits and its type code ("TTr"); when
 * the date line's place runs into the number with no gap ("657-CV/UBKTTU
 * Thành phố Hồ Chí Minh, ngày ..."), the notation ends before it. */
static bool prose_word(const char *text)
{
    vn_case_stats st;
    vn_case_count(text, &st);
    if (st.words != 1 || st.upper != 1 || st.lower < 2 || st.words_capitalised != 1)
        return false;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x80 && !isalpha(*p) && *p != ',')
            return false;
    return true;
}

/* Collects the words after the label in the left column. */
static size_t gather(const page_layout *pl, const lay_row *r, size_t j, size_t to, size_t skip,
                     piece *pc)
{
    size_t n = 0;
    const lay_word *lw = lay_at(pl, r, j);
    vn_text t;
    /* the rest of the label word ("Số:07/TB-UBND") */
    if (vn_text_init(&t, lw->text) == 0) {
        if (skip < t.nfold) {
            size_t off = t.off[skip];
            pc[n].text = lw->text + off;
            pc[n].len = strlen(lw->text + off);
            pc[n].w = lw;
            n++;
        }
        vn_text_free(&t);
    }
    for (size_t k = j + 1; k < to && n < MAX_PIECES; k++) {
        const lay_word *w = lay_at(pl, r, k);
        if (w->stamp || w->noise)
            continue;
        if (prose_word(w->text))
            break;
        pc[n].text = w->text;
        pc[n].len = strlen(w->text);
        pc[n].w = w;
        n++;
    }
    return n;
}

/* A number glued to its notation, the separator lost: "21UBND-NC" is
 * State "21/UBND-NC" (the notation's own first separator is "-"),
 * "682QĐ/TU" is Party "682-QĐ/TU". Digits then a capital, the capitals
 * running to a separator. Inserts the separator into *tail (and the owner
 * of each byte into *owner); false when the number is not glued. On
 * ENOMEM sets both to NULL (freed) and returns true. */
static bool unglue_number(char **tail, size_t **owner)
{
    const char *t = *tail;
    size_t i = 0;
    while (t[i] == ':' || t[i] == ';' || t[i] == '.' || t[i] == ',' || t[i] == ' ')
        i++;
    size_t d = i;
    while (isdigit((unsigned char)t[i]))
        i++;
    if (i == d || i - d > 5)
        return false;
    size_t at = i;
    size_t caps = 0;
    while (t[i] && t[i] != '-' && t[i] != '/') {
        if (t[i] >= 'A' && t[i] <= 'Z')
            caps++;
        else if ((unsigned char)t[i] == 0xc4 && (unsigned char)t[i + 1] == 0x90) /* Đ */
            caps++, i++;
        else if (!(t[i] >= 'a' && t[i] <= 'z' && caps > 0)) /* TTr, QyĐ */
            return false;
        i++;
    }
    if (caps < 2 || !t[i] || !t[i + 1])
        return false;
    char sep = t[i] == '-' ? '/' : '-';
    size_t n = strlen(t);
    char *nt = malloc(n + 2);
    size_t *no = malloc((n + 2) * sizeof *no);
    if (!nt || !no) {
        free(nt);
        free(no);
        free(*tail);
        free(*owner);
        *tail = NULL;
        *owner = NULL;
        return true;
    }
    memcpy(nt, t, at);
    nt[at] = sep;
    memcpy(nt + at + 1, t + at, n - at + 1);
    memcpy(no, *owner, at * sizeof *no);
    no[at] = (*owner)[at > 0 ? at - 1 : 0];
    memcpy(no + at + 1, *owner + at, (n - at) * sizeof *no);
    no[n + 1] = no[n];
    free(*tail);
    free(*owner);
    *tail = nt;
    *owner = no;
    return true;
}

static bool letter_byte(unsigned char ch) { return isalpha(ch) || ch >= 0x80; }

/* The notation: `tail` from `at`, its words run together. A notation
 * joins its codes with the format's inner separator `inner` (State
 * "QĐ-UBND", Party "CV/ĐUK"); when it has none and two of its words
 * meet letter to letter ("CV ĐUK"), the thin stroke between them was lost
 * and is put back there (*gap set: to be checked). NULL on ENOMEM. */
static char *notation_text(const char *tail, const size_t *owner, size_t at, char inner, bool *gap)
{
    size_t n = strlen(tail + at);
    char *nota = malloc(n + 2);
    if (!nota)
        return NULL;
    size_t k = 0;
    bool has_inner = strchr(tail + at, inner) != NULL;
    for (size_t i = at; tail[i]; i++) {
        if (!has_inner && !*gap && i > at && owner[i] != owner[i - 1] &&
            letter_byte((unsigned char)tail[i - 1]) && letter_byte((unsigned char)tail[i])) {
            nota[k++] = inner;
            *gap = true;
        }
        nota[k++] = tail[i];
    }
    nota[k] = '\0';
    return nota;
}

/* How far right of "Số:" a number written without its separator may run. */
#define SLOT_MM 40

/* SLOT_MM in pixels of the page. */
static int slot_px(const page_layout *pl)
{
    return (pl->dpi > 0 ? pl->dpi : 300) * SLOT_MM * 10 / 254;
}

/* True when some piece holds a number's separator. */
static bool pieces_have_sep(const piece *pc, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (memchr(pc[i].text, '/', pc[i].len) || memchr(pc[i].text, '-', pc[i].len))
            return true;
    return false;
}

/* The printed notation of a form the pen filled ("Số: [727] /KH-SKHĐT")
 * when the label's row did not bring it: writing wider than the blank
 * pushed it past the header's column split, or writing taller than print
 * made its own row. The nearest word right of `after_x`, level with the
 * label and within the blank's reach, that starts with a separator. */
static const lay_word *notation_beyond(const page_layout *pl, const lay_word *label, int after_x)
{
    int h = label->box.y1 - label->box.y0;
    int cy = (label->box.y0 + label->box.y1) / 2;
    int reach = label->box.x1 + 2 * slot_px(pl);
    const lay_word *best = NULL;
    for (size_t r = 0; r < pl->nrows; r++) {
        const lay_row *rw = &pl->rows[r];
        if (rw->box.y1 < cy - 2 * h || rw->box.y0 > cy + 2 * h)
            continue;
        for (size_t k = 0; k < rw->n; k++) {
            const lay_word *w = lay_at(pl, rw, k);
            int wcy = (w->box.y0 + w->box.y1) / 2;
            if (w->stamp || w->noise || w->box.x0 <= after_x || w->box.x0 > reach ||
                abs(wcy - cy) > h * 3 / 4 || (w->text[0] != '/' && w->text[0] != '-') ||
                !(letter_byte((unsigned char)w->text[1]) || isdigit((unsigned char)w->text[1])))
                continue;
            if (!best || w->box.x0 < best->box.x0)
                best = w;
        }
    }
    return best;
}

/* Whether `s` holds a digit or a code after a separator ("/BC-UBND",
 * "-QĐ/TU": two of A–Z or Đ). What follows the ĐẾN stamp's own "Số" is
 * the pen's value or, when the stamp lies over the header, the letter's
 * words ("số -ỦY BAN NHÂN DÂN"): neither. */
static bool holds_number(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            return true;
        if (*p == '/' || *p == '-') {
            int caps = 0;
            for (const unsigned char *q = (const unsigned char *)p + 1;; q++) {
                if (*q >= 'A' && *q <= 'Z')
                    caps++;
                else if (q[0] == 0xc4 && q[1] == 0x90) /* Đ */
                    caps++, q++;
                else
                    break;
            }
            if (caps >= 2)
                return true;
        }
    }
    return false;
}

/* Whether the words from the label `j` of row `rw` on (left part, up to
 * `to`, the label's own word after its `n` bytes first) hold a number. */
static bool number_after(const page_layout *pl, const lay_row *rw, size_t j, size_t n, size_t to)
{
    const lay_word *w = lay_at(pl, rw, j);
    if (holds_number(w->text + (n < strlen(w->text) ? n : strlen(w->text))))
        return true;
    for (size_t k = j + 1; k < to && k <= j + 3; k++)
        if (holds_number(lay_at(pl, rw, k)->text))
            return true;
    return false;
}

/* Whether the right part of row `rw` (from word `to`) is the date line. */
static bool row_dated(const page_layout *pl, const lay_row *rw, size_t to)
{
    for (size_t k = to; k < rw->n; k++)
        if (vn_fold_like(lay_at(pl, rw, k)->fold, "ngay"))
            return true;
    return false;
}

/* Finds the number row: the first left-column "Số" of the upper page that
 * is not the ĐẾN stamp's. A stamp whose "ĐẾN" was misread ("TXEN số") is
 * known by what its "Số" is followed by: when the first label has no
 * number after it and a later one beside the date line has, the later is
 * the letter's, within the stamp's height (35 mm) below the first (a
 * công văn's subject line "số 3291/QĐ-UBND" under it is not). The
 * bytes of the label's fold that make "Số" go to *skip. */
static bool find_row(extract_ctx *c, size_t *row, size_t *word, size_t *skip)
{
    const page_layout *pl = &c->pages[0];
    int stamp_h = (pl->dpi > 0 ? pl->dpi : 300) * 400 / 254;
    bool found = false;
    for (size_t r = 0; r < pl->nrows; r++) {
        const lay_row *rw = &pl->rows[r];
        if (rw->box.y0 > pl->height / 2 || (found && rw->box.y0 > pl->rows[*row].box.y0 + stamp_h))
            break;
        size_t from, to, seen = 0, budget = 3;
        ex_left(pl, rw, &from, &to);
        /* beside the date line the label may follow a black stamp's
         * "Số và ký hiệu HS:" read as anything ("[t*» *+v¿ 1ý hiệu êu
         * Số 205-QĐ/BNCTU") */
        bool dated = row_dated(pl, rw, to);
        if (dated)
            budget = to - from;
        for (size_t j = from; j < to && seen < budget; j++) {
            const lay_word *w = lay_at(pl, rw, j);
            if (w->stamp || w->noise)
                continue;
            seen++;
            size_t n = so_label(w->fold, w->text);
            /* "SỞ" (a department, first word of a body line) folds like
             * "Số"; the horn tells them apart */
            if (!n || strstr(w->text, "Ở") || strstr(w->text, "ở"))
                continue;
            /* "Số và ký hiệu HS:", the ĐẾN stamp's last field, printed as
             * black as the letter on a photocopy and often on the number's
             * own line: the letter's "Số" may follow its words */
            if (j + 1 < to && vn_fold_like(lay_at(pl, rw, j + 1)->fold, "va")) {
                budget += 4;
                continue;
            }
            /* a number line carries a separator or a digit after Số */
            bool sep = strpbrk(w->fold + n, "/-0123456789") != NULL;
            for (size_t k = j + 1; k < to && !sep; k++)
                sep = strpbrk(lay_at(pl, rw, k)->fold, "/-0123456789") != NULL;
            if (!sep && !notation_beyond(pl, w, w->box.x1))
                continue;
            if (j > 0 && vn_fold_like(lay_at(pl, rw, j - 1)->fold, "den"))
                continue;
            bool number = number_after(pl, rw, j, n, to);
            if (found && !(number && dated))
                continue;
            *row = r;
            *word = j;
            *skip = n;
            if (number)
                return true;
            found = true;
        }
    }
    return found;
}

/* The piece from `at` on where the print after the blank starts: the
 * first that holds a code (two capitals: "/QĐ-STC", "-HD/BTCTU"). The
 * pen's writing read as print can come before it and start with a
 * separator itself ("Số: /Z /QĐ-STC" for 78, "Số /⁄7 -HD/BTCTU" for 13);
 * the blank runs over it. A piece of separators alone ("/" split from
 * "QĐ-STC") is the print's. `at` itself when no piece holds a code. */
static size_t code_piece(const piece *pc, size_t np, size_t at)
{
    for (size_t i = at; i < np; i++) {
        if (strspn(pc[i].text, "/-") >= pc[i].len)
            return i;
        vn_case_stats st;
        char buf[64];
        size_t n = pc[i].len < sizeof buf ? pc[i].len : sizeof buf - 1;
        memcpy(buf, pc[i].text, n);
        buf[n] = '\0';
        vn_case_count(buf, &st);
        if (st.upper >= 2)
            return i;
    }
    return at;
}

/* Whether piece `at`, holding the separator read after the number but
 * not at its start ("20⁄4 UBND-KGVX": the pen's 2604, the notation's "/"
 * lost), is a word of its own that starts with a code: the notation's
 * print, before which the writing stands. */
static bool notation_word_after(const piece *pc, size_t at, const lay_word *label)
{
    const unsigned char *t = (const unsigned char *)pc[at].text;
    bool code = (t[0] >= 'A' && t[0] <= 'Z') || (t[0] == 0xc4 && t[1] == 0x90); /* Đ */
    return code && at > 0 && pc[at].w != label && pc[at].text == pc[at].w->text;
}

/* The letters of `s` that a code is spelled with: A to Z and Đ. The
 * engine reads writing as other capitals too ("ƒ4ØŒ2/QĐ-SKHCN" for
 * 1483), which no code has. */
static int code_capitals(const char *s)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p >= 'A' && *p <= 'Z') || (p[0] == 0xc4 && p[1] == 0x90);
    return n;
}

/* The share of word `text` that is the pen's writing read as print and
 * run into the notation's word, up to the separator the print starts
 * with: "/5⁄2-CV/BTCTU" for 782 (the writing read with a separator of
 * its own first), "92/BC-SGTVT" for 95. What stands before that
 * separator holds a digit and no code (two capitals: not "/QĐ-UBND", nor
 * "21UBND-NC", whose separator is the notation's own, nor the year of
 * "/2022/NQ-HĐND"). By characters:
 * the engine spaces a word's glyphs about evenly, and writing is wider
 * than print, so this falls short of the writing's end more often than
 * past it. 0 when no writing is read into the word. */
static double written_share(const char *text)
{
    size_t i = strspn(text, "/-"), n = strcspn(text + i, "/-");
    if (n == 0 || !text[i + n] || n >= 32)
        return 0;
    char run[32];
    memcpy(run, text + i, n);
    run[n] = '\0';
    if (code_capitals(run) >= 2 || strpbrk(run, "0123456789") == NULL)
        return 0;
    /* the year a legal document's notation starts with ("/2022/NQ-HĐND") */
    int year = atoi(run);
    if (n == 4 && strspn(run, "0123456789") == 4 && text[i + n] == '/' && year >= 1945 && year < 2100)
        return 0;
    size_t all = vn_utf8_len(text);
    return (double)(all - vn_utf8_len(text + i + n)) / (double)all;
}

/* The blank between "Số:" and the notation, for a second reading:
 * bounded by the separator's word when the separator starts it (the pen
 * stopped before the print; when the writing was read into that word,
 * as far into it as the writing's characters go), else open to the
 * right, up to the end of the word holding the separator: the print
 * then starts where that word's reading says (print_x), which the
 * reader takes as the first gap in the ink from there on. */
static void number_slot(extract_ctx *c, const page_layout *pl, const lay_word *label,
                        const lay_word *sep_word, bool sep_starts_word)
{
    int x0 = label->box.x1 + 1, x1, print_x = 0;
    bool bounded = sep_word && sep_word != label && sep_starts_word;
    int into = sep_word ? (int)(written_share(sep_word->text) * (sep_word->box.x1 - sep_word->box.x0))
                        : 0;
    if (bounded) {
        x1 = sep_word->box.x0 + into;
    } else if (sep_word && sep_word != label) {
        x1 = sep_word->box.x1;
        print_x = into > 0 ? sep_word->box.x0 + into : 0;
    } else {
        x1 = label->box.x1 + slot_px(pl);
    }
    if (!bounded && pl->split_x > x0 && x1 > pl->split_x)
        x1 = pl->split_x;
    hand_slot *s = ex_add_slot(c, HAND_NUMBER, x0, x1, &label->box, bounded);
    if (s && print_x > x0 && print_x < x1)
        s->print_x = print_x;
}

/* A notation standing alone where the number row is: "/QĐ-UBND" (State)
 * or "-CV/ĐUK" (Party), both of its codes in capitals, in the left column
 * of a row whose right column is the date line. The label and the number
 * before it were lost (under the pen's writing, a copy's smear, a black
 * stamp's lines: "x§6: 1888/QĐ-UBND", "„90 280-CTr/BTGTU"); the notation
 * is still the document's own, to be checked. The number printed into
 * the same word ("1888/QĐ-UBND") is taken with it, as unsure. Sets *row,
 * *word. */
static bool find_bare_notation(const page_layout *pl, size_t *row, size_t *word)
{
    for (size_t r = 0; r < pl->nrows; r++) {
        const lay_row *rw = &pl->rows[r];
        if (rw->box.y0 > pl->height / 2)
            break;
        size_t from, to;
        ex_left(pl, rw, &from, &to);
        if (!row_dated(pl, rw, to))
            continue;
        for (size_t k = from; k < to; k++) {
            const lay_word *w = lay_at(pl, rw, k);
            const char *at = w->text + strspn(w->text, "0123456789");
            char sep = at[0];
            if (w->stamp || w->noise || (sep != '/' && sep != '-'))
                continue;
            const char *other = strchr(at + 1, sep == '/' ? '-' : '/');
            vn_case_stats st;
            vn_case_count(at, &st);
            if (other && other > at + 1 && other[1] && st.upper >= 3 && st.lower <= 1 &&
                notation_plausible(at + 1)) {
                *row = r;
                *word = k;
                return true;
            }
        }
    }
    return false;
}

/* "Số: QĐ-TTT": the number left blank, or written by pen and not read;
 * the notation starts at once. The run before the first separator is a
 * type code of the format that separator names (State "QĐ-", Party
 * "QĐ/"), not a misread number: it has no digit, and a letter no digit is
 * misread as ("Đ", "T"; "lO" is 10). Sets *at to where the code starts. */
static bool code_first(const char *tail, size_t *at)
{
    size_t i = strspn(tail, ":;., ");
    size_t n = strcspn(tail + i, "-/");
    if (n < 2 || !tail[i + n])
        return false;
    bool letter = false;
    for (size_t k = i; k < i + n; k++) {
        bool fixed = false;
        unsigned char ch = (unsigned char)tail[k];
        if (isdigit(ch) || ch == ' ')
            return false;
        letter |= read_digit(ch, &fixed) < 0;
    }
    char code[16] = "";
    if (!letter || n >= sizeof code)
        return false;
    memcpy(code, tail + i, n);
    bool amb = false;
    *at = i;
    return lex_type_by_code(code, tail[i + n] == '/', &amb) >= 0;
}

void ex_find_number(extract_ctx *c)
{
    const page_layout *pl = &c->pages[0];
    size_t r = 0, j = 0, skip = 0;
    bool bare = false;
    if (!find_row(c, &r, &j, &skip)) {
        if (!find_bare_notation(pl, &r, &j))
            return;
        bare = true;
    }
    const lay_row *row = &pl->rows[r];
    const lay_word *label = lay_at(pl, row, j);
    c->number_row = r;
    c->number_word = j;
    if (row->box.y1 > c->header_y1)
        c->header_y1 = row->box.y1;
    /* "Số:" is the State form, "Số" without colon the Party one */
    if (strchr(label->fold, ':'))
        c->state_votes++;

    size_t from, to;
    ex_left(pl, row, &from, &to);
    piece pc[MAX_PIECES];
    size_t np;
    if (bare) {
        /* the label is the notation itself; a number written just before
         * it (the pen's, read again into the blank) is taken, the blank
         * is named for that reading */
        np = 0;
        const lay_word *prev = j > from ? lay_at(pl, row, j - 1) : NULL;
        int slot = slot_px(pl);
        if (isdigit((unsigned char)label->text[0]))
            ; /* "1888/QĐ-UBND": the number is the word's own */
        else if (prev && !prev->stamp && !prev->noise && label->box.x0 - prev->box.x1 < slot &&
                 strspn(prev->text, "0123456789") == strlen(prev->text) && strlen(prev->text) <= 6)
            pc[np++] = (piece){prev->text, strlen(prev->text), prev};
        else {
            hand_slot *s = ex_add_slot(c, HAND_NUMBER, label->box.x0 - slot > 0 ? label->box.x0 - slot : 0,
                                       label->box.x0, &label->box, true);
            if (s)
                s->label_lost = true;
        }
        pc[np++] = (piece){label->text, strlen(label->text), label};
    } else {
        np = gather(pl, row, j, to, skip, pc);
        const lay_word *beyond = NULL;
        if (!pieces_have_sep(pc, np) && np < MAX_PIECES)
            beyond = notation_beyond(pl, label, np ? pc[np - 1].w->box.x1 : label->box.x1);
        if (beyond)
            pc[np++] = (piece){beyond->text, strlen(beyond->text), beyond};
    }
    c->number_last = j;
    for (size_t k = j; k < row->n; k++)
        if (np && lay_at(pl, row, k) == pc[np - 1].w)
            c->number_last = k;
    size_t total = 1;
    for (size_t i = 0; i < np; i++)
        total += pc[i].len;
    char *tail = malloc(total);
    size_t *owner = malloc(total * sizeof *owner);
    if (!tail || !owner) {
        free(tail);
        free(owner);
        c->oom = true;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t b = 0; b < pc[i].len; b++) {
            owner[k] = i;
            tail[k++] = pc[i].text[b];
        }
    tail[k] = '\0';

    /* "21UBND-NC": the separator after the number was lost */
    bool glued = unglue_number(&tail, &owner);
    /* "Số-31-QĐ/TU": the space after the label read as a dash; the line
     * is as damaged, though no pen wrote in it. "71+QĐ/BNCTU": a dash
     * read as a plus, with or without the digit it touched (714-QĐ): the
     * separator, the number in doubt. */
    bool dashed = skip > 0 && label->fold[skip - 1] == '-';
    char *plus = strchr(tail, '+');
    if (plus && plus > tail && isdigit((unsigned char)plus[-1]) && isupper((unsigned char)plus[1])) {
        *plus = '-';
        dashed = true;
    }
    if (!tail || !owner) {
        free(tail);
        free(owner);
        c->oom = true;
        return;
    }
    num_read nr;
    size_t code_at = 0;
    bool no_number = code_first(tail, &code_at);
    if (no_number)
        memset(&nr, 0, sizeof nr);
    else
        read_number(tail, &nr);
    /* the writing read on past a stroke taken for the separator: the
     * number lost its digits from there, the notation starts after */
    size_t true_sep = no_number ? 0 : stroke_read_as_sep(tail, owner, nr.end);
    if (true_sep)
        nr.end = true_sep;
    /* a missing number has no separator after it; the code's own tells
     * the format: State "QĐ-TTT", Party "QĐ/TU" */
    char sep = no_number ? 0 : tail[nr.end];
    bool party = no_number ? tail[code_at + strcspn(tail + code_at, "-/")] == '/' : sep == '-';
    if (sep == '/')
        c->state_votes += 2;
    else if (sep == '-')
        c->party_votes += 2;

    /* confidence of the number: its words, its spelling, its geometry */
    float conf = 1.0f;
    const lay_word *first = NULL, *last = NULL;
    for (size_t b = 0; b < nr.end; b++) {
        const lay_word *w = pc[owner[b]].w;
        if (!isdigit((unsigned char)tail[b]) && !strchr("OoQDlI|i!ZzSsGbBgq", tail[b]))
            continue;
        if (w->conf < conf)
            conf = w->conf;
        first = first ? first : w;
        last = w;
    }
    int h = label->box.y1 - label->box.y0;
    bool hand = false;
    if (last) {
        /* a printed-form gap after the number, or a glyph taller than
         * print: written by hand (standards §5) */
        const lay_word *next = sep && owner[nr.end] < np ? pc[owner[nr.end]].w : NULL;
        if (next && next != last && next->box.x0 - last->box.x1 > h * 8 / 10)
            hand = true;
        /* print sets "247/TB-SGDĐT" as one token; a number standing apart
         * from its separator was written into the form's blank ("Số: 24
         * /TTr-UBND"), however narrow the gap the pen left */
        if (next && next != last && next->box.x0 > last->box.x1)
            hand = true;
        if (first != label && first->box.x0 - label->box.x1 > h * 3 / 2)
            hand = true;
        if (first->box.y1 - first->box.y0 > h * 14 / 10)
            hand = true;
        if (ex_hand_word(first) || ex_hand_word(last))
            hand = true;
    } else if (sep && owner[nr.end] < np) {
        const lay_word *next = pc[owner[nr.end]].w;
        if (next != label && next->box.x0 - label->box.x1 > h)
            hand = true;
    }
    c->number_handwritten = hand || glued;

    long value = nr.ndigits ? strtol(nr.digits, NULL, 10) : 0;
    bool usable_num = nr.ndigits > 0 && !nr.bad && nr.ndigits <= 6 && value > 0;
    c->number_sep = sep;
    /* (a number without its label, or one a stamp's frame runs through,
     * is the clerk's to check, however well the rest agrees) */
    bool crossed = false;
    for (size_t i = 0; i < np; i++)
        crossed |= pc[i].w->src && pc[i].w->src->crossed;
    c->number_printed = usable_num && !bare && !crossed && !nr.fixed && !hand && !glued && !dashed &&
                        nr.ndigits >= 2 && nr.ndigits <= 5 &&
                        !(nr.ndigits >= 3 && nr.digits[0] == '0');
    if (!c->number_printed && !bare && label->fold[skip] == '\0') {
        size_t at = no_number ? owner[code_at] : sep && owner[nr.end] < np ? owner[nr.end] : np;
        bool starts = no_number || (sep && !glued && (nr.end == 0 || owner[nr.end - 1] != owner[nr.end]));
        size_t code = starts ? code_piece(pc, np, at) : at;
        number_slot(c, pl, label, at < np ? pc[code].w : NULL,
                    starts || (at < np && notation_word_after(pc, at, label)));
    }
    if (usable_num) {
        if (nr.fixed)
            conf *= 0.5f;
        if ((hand || glued || dashed) && conf > 0.5f)
            conf = 0.5f;
        if (true_sep && conf > 0.3f)
            conf = 0.3f;
        /* numbers under 10 carry a leading zero: a lone digit was probably
         * cut (standards §5) */
        if (nr.ndigits == 1 && conf > 0.5f)
            conf = 0.5f;
        if (bare && conf > 0.4f)
            conf = 0.4f;
        c->out->number = value;
        c->out->has_number = true;
        c->out->confidence[META_NUMBER] = conf;
    } else {
        c->out->has_number = false;
        c->out->confidence[META_NUMBER] = 0.0f;
    }

    /* notation: everything after the separator */
    if (sep || no_number) {
        bool inner_gap = false;
        size_t nota_at = no_number ? code_at : nr.end + 1;
        char *nota = notation_text(tail, owner, nota_at, party ? '/' : '-', &inner_gap);
        if (!nota) {
            c->oom = true;
            goto out;
        }
        clean_notation(nota);
        bool cut = cut_glued_prose(nota);
        c->notation_cut = cut;
        char *fixed = fix_code(c, nota, party);
        free(nota);
        if (!fixed) {
            c->oom = true;
            goto out;
        }
        float nconf = 1.0f, sum = 0;
        int nw = 0;
        for (size_t i = owner[no_number ? code_at : nr.end]; i < np; i++) {
            sum += pc[i].w->conf;
            nw++;
        }
        nconf = nw ? sum / (float)nw : 0.5f;
        if (!notation_plausible(fixed))
            nconf *= 0.5f;
        if ((glued || dashed || cut || inner_gap) && nconf > 0.6f)
            nconf = 0.6f;
        /* read without its label: the place says it is the notation, no
         * word does */
        if (bare && nconf > 0.5f)
            nconf = 0.5f;
        /* every notation joins its codes with the format's other
         * separator (State "QĐ-UBND", Party "QĐ/TU"): without it two
         * codes ran together ("TTrBDVTU") or one was lost */
        if (!strchr(fixed, party ? '/' : '-') && nconf > 0.5f)
            nconf = 0.5f;
        if (fixed[0]) {
            ex_set(c, META_NOTATION, fixed, nconf);
            if (usable_num) {
                size_t l = strlen(nr.digits) + strlen(fixed) + 2;
                char *nn = malloc(l);
                if (nn) {
                    snprintf(nn, l, "%s%c%s", nr.digits, party ? '-' : '/', fixed);
                    ex_set(c, META_NUMBER_NOTATION, nn,
                           conf < nconf ? conf : nconf);
                    free(nn);
                } else
                    c->oom = true;
            }
        }
        free(fixed);
    }
out:
    free(tail);
    free(owner);
}

/* Sets the notation to `nota` and rebuilds number_notation from the
 * number's digits, each no surer than `conf`. */
void ex_set_notation(extract_ctx *c, const char *nota, bool party, float conf)
{
    float nconf = c->out->confidence[META_NOTATION];
    char *n = strdup(nota);
    if (!n) {
        c->oom = true;
        return;
    }
    ex_set(c, META_NOTATION, n, conf < nconf ? conf : nconf);
    if (c->out->has_number && c->out->str[META_NUMBER_NOTATION]) {
        const char *nn = c->out->str[META_NUMBER_NOTATION];
        size_t digits = strspn(nn, "0123456789");
        size_t l2 = digits + strlen(n) + 2;
        char *m = malloc(l2);
        if (m) {
            snprintf(m, l2, "%.*s%c%s", (int)digits, nn, party ? '-' : '/', n);
            float mc = c->out->confidence[META_NUMBER_NOTATION];
            ex_set(c, META_NUMBER_NOTATION, m, conf < mc ? conf : mc);
            free(m);
        } else
            c->oom = true;
    }
    free(n);
}

/* Replaces the type code in the notation (and number_notation) by `code`,
 * when the title shows what the code must be (QĐ ↔ QUYẾT ĐỊNH). */
void ex_replace_code(extract_ctx *c, const char *code, bool party, float conf)
{
    const char *nota = c->out->str[META_NOTATION];
    if (!nota)
        return;
    size_t b, e;
    code_segment(nota, party, &b, &e);
    if (!nota[e])
        return;
    size_t l = strlen(nota) - (e - b) + strlen(code) + 1;
    char *n = malloc(l);
    if (!n) {
        c->oom = true;
        return;
    }
    snprintf(n, l, "%.*s%s%s", (int)b, nota, code, nota + e);
    ex_set_notation(c, n, party, conf);
    free(n);
}
