/* extract_signer.c — the signature block, bottom right of the last page
 * (standards §5):
 *
 *      TM. ỦY BAN NHÂN DÂN        ← prefix (TM./KT./TL./TUQ./Q., Party T/M, K/T, T/L)
 *          CHỦ TỊCH               ← position (upper case)
 *     (signature + red seal)
 *        Cầm Ngọc Minh            ← name, last line, title case
 *
 * It sits right of "Nơi nhận:" and below the body. The seal's letters
 * (red, single letters) and the signature's scribble (low confidence) are
 * ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/log.h"
#include "extract_ctx.h"
#include "extract_lex.h"
#include "vntext.h"

typedef struct sline {
    char *text;
    char *all;        /* text with the unreadable words kept (title repair) */
    float conf;
    bool damaged;     /* words dropped as unreadable */
    int lead_dropped; /* unreadable words before the first kept one */
    int widest_gap;   /* the widest space between two words kept: */
    int gap_x0;       /* from here */
    size_t gap_words; /* with this many words before it */
    int x0, x1, y0, y1;
} sline;

#define MAX_SLINES 24

/* The signer prefix labels (standards §5), as OCR prints them. */
static bool is_prefix_label(const char *fold)
{
    static const char *const p[] = {"tm.", "t/m", "t.m", "kt.", "k/t", "tl.", "t/l", "tuq.",
                                    "q.", "ktl."};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (strcmp(fold, p[i]) == 0)
            return true;
    return false;
}

static bool is_prefix(const char *text)
{
    static const char *const p[] = {"tm.", "tm ", "t/m", "t.m", "kt.", "kt ", "k/t", "tl.",
                                    "tl ", "t/l", "tuq.", "tuq ", "q. ", "q.", "ktl."};
    char *f = vn_fold(text);
    bool r = false;
    for (size_t i = 0; f && i < sizeof p / sizeof p[0] && !r; i++)
        r = strncmp(f, p[i], strlen(p[i])) == 0;
    free(f);
    return r;
}

/* "TM.ỦY BAN" → "TM. ỦY BAN", "K/TCHỦ NHIỆM" → "K/T CHỦ NHIỆM". */
static char *space_prefix(const char *s)
{
    const char *dot = strchr(s, '.');
    /* a Party label is three characters, "K/T", "T/M", "T/L" */
    if (!(dot && dot - s <= 4) && isupper((unsigned char)s[0]) && s[1] == '/' &&
        strchr("TML", s[2]) && s[2])
        dot = s + 2;
    size_t l = strlen(s);
    char *o = malloc(l + 2);
    if (!o)
        return NULL;
    if (dot && dot - s <= 4 && dot[1] && dot[1] != ' ') {
        size_t k = (size_t)(dot - s) + 1;
        memcpy(o, s, k);
        o[k] = ' ';
        memcpy(o + k + 1, s + k, l - k + 1);
    } else
        memcpy(o, s, l + 1);
    return o;
}

static bool is_upper_line(const char *t)
{
    vn_case_stats st;
    vn_case_count(t, &st);
    return st.letters >= 3 && (float)st.upper / (float)st.letters >= 0.8f;
}

/* Vietnamese surnames: a closed set. A name read without any diacritic
 * ("Dinh") takes the surname's spelling ("Đinh"). Words as common among
 * middle names as among surnames (Văn, Kim) are left out: a name whose
 * surname was lost must not read as whole. */
static const char *const surnames[] = {
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
    "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đào", "Cao", "Lâm", "Mai", "Trịnh", "Đoàn",
    "Lương", "Tạ", "Tô", "Hà", "Cầm", "Lò", "Quách", "Chu", "Triệu", "Thái", "Tăng", "Lưu",
    "Hứa", "Kiều", "Vương", "Đàm", "Nông", "Lục", "Âu", "Mạc", "Tống", "Thân", "Khổng",
    "Trương", "Phùng", "Lại", "Nghiêm", "Từ", "Ông", "La", "Lã", "Khúc", "Quan", "Tôn",
    "Thạch", "Giáp", "Bạch", "Doãn", "Ninh", "Vi", "Hàn", "Diệp", "Đồng", "Hầu", "Tiêu",
    "Khương", "Châu", "Lù", "Sầm",
};

/* The surname a name's first word stands for. Surnames are a closed set,
 * so a word that is not one but has the letters of one ("Dinh", or
 * "Đỉnh" with a tone mark misread on a seal or a scribble) takes that
 * surname's spelling; of two with the same letters (Đoàn, Doãn), the one
 * nearer in its marks ("Đoán": Đoàn), none when they are as near;
 * anything else is kept as read. */
static const char *surname_spelling(const char *w)
{
    const char *match = NULL;
    int match_d = 99;
    bool tie = false;
    char *g = vn_fold(w);
    if (!g)
        return w;
    for (size_t k = 0; k < sizeof surnames / sizeof surnames[0]; k++) {
        if (strcmp(surnames[k], w) == 0) {
            match = surnames[k];
            tie = false;
            break;
        }
        char *f = vn_fold(surnames[k]);
        if (f && strcmp(f, g) == 0) {
            /* the bytes' distance: a mark is a byte or two of UTF-8 */
            int d = vn_edit_distance(surnames[k], w, 8);
            if (d < match_d) {
                match = surnames[k];
                match_d = d;
                tie = false;
            } else if (d == match_d)
                tie = true;
        }
        free(f);
    }
    free(g);
    return match && !tie ? match : w;
}

/* Given and middle names a letter off a surname, marks aside ("Ngọc" and
 * Ngô, "Xuân" and Quan, "Thịnh" and Trịnh): read whole with their marks,
 * they are these names, the name's surname lost before them, and no
 * misread surname. */
static const char *const names_near_surnames[] = {
    "Ngọc", "Xuân", "Quang", "Hùng", "Trung", "Hạnh", "Phúc", "Hưng", "Thịnh", "Khắc", "Tiến",
    "Hiệp", "Kiên", "Luân", "Nhung", "Khang", "Thuận", "Trâm", "Tiên", "Nguyệt", "Khải", "Thuấn",
};

/* The surname a misread word stands for: one letter off exactly one
 * surname, marks and case aside ("Clâu" for Châu, "Lưưng" for Lương,
 * "TrẦa" for Trần), for words of four letters or more. NULL otherwise
 * ("Cau" is as near Cao, Châu and Cầm). */
static const char *misread_surname(const char *word)
{
    for (size_t k = 0; k < sizeof names_near_surnames / sizeof names_near_surnames[0]; k++)
        if (strcmp(word, names_near_surnames[k]) == 0)
            return NULL;
    char *g = vn_fold(word);
    const char *match = NULL;
    bool several = false;
    for (size_t k = 0; g && strlen(g) >= 4 && k < sizeof surnames / sizeof surnames[0]; k++) {
        char *f = vn_fold(surnames[k]);
        if (f && vn_edit_distance(f, g, 1) == 1) {
            several |= match != NULL;
            match = surnames[k];
        }
        free(f);
    }
    free(g);
    return several ? NULL : match;
}

/* Capitals Vietnamese spelling rules out at a word's start, misread:
 * it writes no F, so one that starts a word of a name (not "Ph") is a T,
 * the two alike but for the foot ("Ngô Fấn Thắng" for Tấn); no word
 * starts "Xg", only "Ng" (the seal's ring across an N: "Xguyễn", "Cầm
 * Xgọc Long"). Rewrites them in place; whether it did. */
static bool misread_capitals(char *name)
{
    bool changed = false;
    for (char *p = name; *p; p++) {
        if (!(p == name || p[-1] == ' '))
            continue;
        if (*p == 'F' && p[1] && p[1] != ' ' && p[1] != 'h') {
            *p = 'T';
            changed = true;
        } else if (*p == 'X' && p[1] == 'g') {
            *p = 'N';
            changed = true;
        }
    }
    return changed;
}

/* The name with its first word, when that is a misread surname, spelt as
 * that surname (malloc'd); NULL otherwise. */
static char *near_surname(const char *name)
{
    size_t n = strcspn(name, " ");
    char *first = strndup(name, n);
    const char *match = first ? misread_surname(first) : NULL;
    char *out = NULL;
    if (match && asprintf(&out, "%s%s", match, name + n) < 0)
        out = NULL;
    free(first);
    return out;
}

static bool in_surnames(const char *s)
{
    for (size_t k = 0; k < sizeof surnames / sizeof surnames[0]; k++)
        if (s == surnames[k])
            return true;
    return false;
}

/* The surname a word outside a name's run stands for, the run's own
 * first word being none, nor a misread one: the word's letters those of
 * a surname ("Hũỳnh" dropped as unreadable), or a letter off one
 * ("luỳnh", not capitalised for the seal's ring through its "H"), once
 * any punctuation in it is left out. NULL when none. */
static const char *lost_surname(const char *word, const char *first)
{
    if (in_surnames(surname_spelling(first)) || misread_surname(first))
        return NULL;
    /* a name has no punctuation: what the OCR read as such inside the
     * word is a stroke across it (the seal's ring through the "N" of
     * "T;guyễn"), left out */
    char *letters = strdup(word);
    if (!letters)
        return NULL;
    char *to = letters;
    for (const char *p = word; *p; p++)
        if ((unsigned char)*p >= 0x80 || !ispunct((unsigned char)*p))
            *to++ = *p;
    *to = '\0';
    const char *s = surname_spelling(letters);
    if (!in_surnames(s))
        s = misread_surname(letters);
    free(letters);
    return s;
}

/* Whether the name's first word is one of the surnames. */
static bool is_surname(const char *name)
{
    size_t n = strcspn(name, " ");
    for (size_t k = 0; k < sizeof surnames / sizeof surnames[0]; k++)
        if (strlen(surnames[k]) == n && strncmp(surnames[k], name, n) == 0)
            return true;
    return false;
}

/* A capitalised word of letters ("Cường", "Kim"), not an initial. */
static bool cap_word(const char *w)
{
    vn_case_stats st;
    vn_case_count(w, &st);
    for (const char *p = w; *p; p++)
        if ((unsigned char)*p < 0x80 && !isalpha((unsigned char)*p))
            return false;
    return st.words == 1 && st.letters >= 2 && st.words_capitalised == 1 && st.upper == 1;
}

/* A word with the quotes and punctuation the OCR put around it taken
 * off, in place ("'Thị" → "Thị", "Việt," → "Việt"). */
static char *strip_marks(char *w)
{
    static const char *const quotes[] = {"“", "”", "‘", "’"};
    for (bool again = true; again;) {
        again = false;
        if (*w && (unsigned char)*w < 0x80 && ispunct((unsigned char)*w)) {
            w++;
            again = true;
        }
        for (size_t q = 0; q < 4; q++)
            if (strncmp(w, quotes[q], 3) == 0) {
                w += 3;
                again = true;
            }
    }
    for (size_t l = strlen(w), was = 0; l > 0 && l != was;) {
        was = l;
        if ((unsigned char)w[l - 1] < 0x80 && ispunct((unsigned char)w[l - 1]))
            w[--l] = '\0';
        for (size_t q = 0; q < 4 && l >= 3; q++)
            if (strcmp(w + l - 3, quotes[q]) == 0)
                w[l -= 3] = '\0';
    }
    return w;
}

/* The words of a line, their marks taken off, in `words` (pointing into
 * `copy`, a copy of the line to be freed); how many. */
static size_t split_words(const char *line, char **copy, char **words, size_t max)
{
    size_t n = 0;
    *copy = strdup(line);
    for (char *tok = *copy ? strtok(*copy, " ") : NULL; tok && n < max; tok = strtok(NULL, " "))
        words[n++] = strip_marks(tok);
    return n;
}

/* The word right before `first` in the line read with its unreadable
 * words kept (`all`): one dropped before the run (malloc'd), or NULL. */
static char *dropped_before(const char *all, const char *first)
{
    char *copy, *words[32], *out = NULL;
    size_t n = split_words(all, &copy, words, 32);
    size_t len = strlen(first);
    for (size_t i = 1; i < n && !out; i++)
        /* (or the word `first` was split from: split_glued) */
        if (strncmp(words[i], first, len) == 0 && (!words[i][len] || cap_word(words[i] + len)))
            out = strdup(words[i - 1]);
    free(copy);
    return out;
}

/* Whether the word has a letter (not the OCR's dashes and dots). */
static bool has_letters(const char *w)
{
    for (const char *q = w; *q; q++)
        if ((unsigned char)*q >= 0x80 || isalpha((unsigned char)*q))
            return true;
    return false;
}

/* Two words of a name read as one, the space between them lost to a
 * seal's ring or the signature's stroke ("KimNam"): the first such word
 * of words[0..*n) split where its second capital starts, when both
 * halves read as syllables, capitalised and with a vowel (no Vietnamese
 * name word has a capital inside it; "TrẦa" is one misread). The halves live in the returned buffer (malloc'd; NULL
 * when none was split). */
static bool syllable_word(const char *w)
{
    char *f = vn_fold(w);
    bool vowel = f && strpbrk(f, "aeiouy") != NULL;
    free(f);
    return vowel && cap_word(w) && vn_word_plausible(w);
}

static char *split_glued(char **words, size_t *n, size_t max)
{
    for (size_t i = 0; i < *n && *n < max; i++) {
        const char *w = words[i];
        size_t len = strlen(w);
        if (cap_word(w) || len < 4)
            continue;
        for (size_t k = 1; k < len; k++) {
            if (((unsigned char)w[k] & 0xC0) == 0x80)
                continue; /* inside a letter's bytes */
            char *buf = malloc(len + 2);
            if (!buf)
                return NULL;
            memcpy(buf, w, k);
            buf[k] = '\0';
            memcpy(buf + k + 1, w + k, len - k + 1);
            if (!syllable_word(buf) || !syllable_word(buf + k + 1)) {
                free(buf);
                continue;
            }
            memmove(&words[i + 2], &words[i + 1], (*n - i - 1) * sizeof *words);
            words[i] = buf;
            words[i + 1] = buf + k + 1;
            (*n)++;
            return buf;
        }
    }
    return NULL;
}

/* What stands before a name's run of capitalised words: nothing with
 * letters; a word with letters, which may be its first word damaged; or
 * one that stands for a surname, taken as the name's first. */
typedef enum { HEAD_WHOLE, HEAD_CUT, HEAD_TAKEN } name_head;

/* The longest run (last among equals) of two to six capitalised words in a
 * line: a name, with the signature's scribble around it left out. *cut
 * tells that a word with letters stands right before the run, in the line
 * or among its unreadable words (`all`, may be NULL): the name's first word
 * may be that one, damaged ("+ống Đăng Long"). When that word stands for a
 * surname and the run's first word is none ("luỳnh Anh Hải", the seal's
 * ring through the "H"), the name starts with that surname. */
static char *name_run(const char *line, const char *all, name_head *cut)
{
    char *copy, *words[32];
    size_t n = split_words(line, &copy, words, 32);
    if (!copy)
        return NULL;
    char *halves = split_glued(words, &n, 32);
    size_t best_a = 0, best_n = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && cap_word(words[b]))
            b++;
        if (b - a >= best_n && b - a >= 2) {
            best_a = a;
            best_n = b - a;
        }
        a = b > a ? b : a + 1;
    }
    char *out = NULL;
    if (best_n >= 2 && best_n <= 6) {
        char *dropped = best_a == 0 && all ? dropped_before(all, words[0]) : NULL;
        const char *before = best_a ? words[best_a - 1] : dropped;
        const char *lost = before ? lost_surname(before, words[best_a]) : NULL;
        size_t len = 1 + (lost ? strlen(lost) + 1 : 0);
        for (size_t i = 0; i < best_n; i++)
            len += strlen(words[best_a + i]) + 8; /* room for a surname's marks */
        out = malloc(len);
        if (out) {
            strcpy(out, lost ? lost : "");
            for (size_t i = 0; i < best_n; i++) {
                const char *w = words[best_a + i];
                if (i == 0 && !lost)
                    w = surname_spelling(w);
                if (i || lost)
                    strcat(out, " ");
                strcat(out, w);
            }
        }
        if (cut)
            *cut = !before || !has_letters(before) ? HEAD_WHOLE : lost ? HEAD_TAKEN : HEAD_CUT;
        free(dropped);
    }
    free(halves);
    free(copy);
    return out;
}

/* Signer titles (heads and deputies of State and Party bodies) and the
 * collectives a TM. / T/M line names, upper case. */
static const char *const titles[] = {
    "CHỦ TỊCH", "PHÓ CHỦ TỊCH", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "TỔNG GIÁM ĐỐC", "BỘ TRƯỞNG",
    "THỨ TRƯỞNG", "CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", "CHÁNH THANH TRA",
    "PHÓ CHÁNH THANH TRA", "CHỦ NHIỆM", "PHÓ CHỦ NHIỆM", "BÍ THƯ", "PHÓ BÍ THƯ",
    "TRƯỞNG BAN", "PHÓ TRƯỞNG BAN", "CỤC TRƯỞNG", "PHÓ CỤC TRƯỞNG", "VỤ TRƯỞNG",
    "PHÓ VỤ TRƯỞNG", "CHI CỤC TRƯỞNG", "TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "HIỆU TRƯỞNG",
    "VIỆN TRƯỞNG", "THỦ TRƯỞNG", "TRƯỞNG ĐOÀN",
};
static const char *const collectives[] = {
    "ỦY BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN", "THƯỜNG TRỰC HĐND", "BAN THƯỜNG VỤ",
    "BAN CHẤP HÀNH", "ỦY BAN KIỂM TRA", "ĐẢNG ỦY", "ĐẢNG ĐOÀN", "BAN CÁN SỰ ĐẢNG",
    "CHÍNH PHỦ", "ỦY BAN MẶT TRẬN TỔ QUỐC",
};

/* Letters of the fold of `s` ("PHÓ CHỦ TỊCH" → "phochutich"); malloc'd. */
static char *letters_fold(const char *s)
{
    char *f = vn_fold(s);
    size_t k = 0;
    for (size_t i = 0; f && f[i]; i++)
        if (isalpha((unsigned char)f[i]))
            f[k++] = f[i];
    if (f)
        f[k] = '\0';
    return f;
}

static int count_words(const char *s)
{
    int n = 0;
    for (const char *p = s; *p; p++)
        n += *p != ' ' && (p == s || p[-1] == ' ');
    return n;
}

/* The entry of `set` whose letters are within one OCR error per six
 * letters of those of `text` (the nearest; a tie gives none). *dist
 * receives the edit distance. */
static const char *nearest(const char *const *set, size_t n, const char *text, int *dist)
{
    /* read exactly: not in doubt, even where two entries differ in their
     * marks only (THỨ TRƯỞNG, THỦ TRƯỞNG) */
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i], text) == 0) {
            *dist = 0;
            return set[i];
        }
    char *t = letters_fold(text);
    const char *best = NULL;
    int best_d = 99;
    bool tie = false;
    for (size_t i = 0; t && t[0] && i < n; i++) {
        char *f = letters_fold(set[i]);
        int cap = f ? (int)strlen(f) / 6 : 0;
        int d = f ? vn_edit_distance(t, f, cap) : 99;
        free(f);
        if (d > cap)
            continue;
        tie = d == best_d;
        if (d < best_d) {
            best = set[i];
            best_d = d;
        }
    }
    free(t);
    *dist = best_d;
    return tie ? NULL : best;
}

/* The title of `nwords` words whose last words fold like `tail`: a
 * position whose first words were unreadable ("TỊCH" with two lost
 * words is "PHÓ CHỦ TỊCH"). NULL unless exactly one. */
static const char *title_completing(const char *tail, int nwords)
{
    char *t = vn_fold(tail);
    const char *found = NULL;
    int hits = 0;
    size_t tl = t ? strlen(t) : 0;
    for (size_t i = 0; tl && i < sizeof titles / sizeof titles[0]; i++) {
        char *f = vn_fold(titles[i]);
        size_t fl = f ? strlen(f) : 0;
        if (f && count_words(titles[i]) == nwords && fl > tl && f[fl - tl - 1] == ' ' &&
            strcmp(f + fl - tl, t) == 0) {
            found = titles[i];
            hits++;
        }
        free(f);
    }
    free(t);
    return hits == 1 ? found : NULL;
}

/* A position repaired against the titles: OCR that misread a letter
 * ("GLAM ĐỌC"), a word read with its diacritics apart and so poorly that
 * it was dropped ("CHANH" under "Á"), or words lost under the seal. The
 * position is the line as read (`text`, malloc'd, freed here) and the
 * same line with its unreadable words (`l->all`). */
static char *repair_position(char *text, const sline *l, float *conf)
{
    int d = 0;
    const char *t = nearest(titles, sizeof titles / sizeof titles[0], text, &d);
    if (!t && l->all && strcmp(l->all, text) != 0) {
        t = nearest(titles, sizeof titles / sizeof titles[0], l->all, &d);
        d += t != NULL;
    }
    if (!t && l->lead_dropped > 0) {
        t = title_completing(text, count_words(text) + l->lead_dropped);
        if (t && *conf > 0.5f)
            *conf = 0.5f;
    } else if (t && d > 0 && *conf > 0.7f)
        *conf = 0.7f;
    /* a title we do not know is rare; more often one that lost a word
     * ("CHÁNH PHÒNG", "BAN"): the clerk checks it */
    if (!t && *conf > 0.7f)
        *conf = 0.7f;
    if (!t)
        return text;
    char *r = strdup(t);
    if (!r)
        return text;
    free(text);
    return r;
}

/* The head of a prefix line ("GIÁM ĐỐC" in "KT. GIÁM ĐỐC", "ỦY BAN NHÂN
 * DÂN" in "TM. ỦY BAN NHÂN DÂN") nearest to `text`, or NULL. */
static const char *prefix_head(bool collective, const char *text, int *d)
{
    return collective
               ? nearest(collectives, sizeof collectives / sizeof collectives[0], text, d)
               : nearest(titles, sizeof titles / sizeof titles[0], text, d);
}

/* Whether the label's collective form (TM., T/M: "for the body") is
 * meant, not a title's (KT., TL.: "for the head"). */
static bool collective_label(const char *text, size_t lab)
{
    char *label = strndup(text, lab), *f = label ? vn_fold(label) : NULL;
    bool collective = f && (f[0] == 't' && (f[1] == 'm' || f[2] == 'm'));
    free(label);
    free(f);
    return collective;
}

/* A prefix line that is whole: its label and a head read exactly. */
static bool prefix_whole(const char *text)
{
    size_t lab = strcspn(text, " ");
    int d = 1;
    return text[lab] && prefix_head(collective_label(text, lab), text + lab + 1, &d) && d == 0;
}

/* A prefix line "KT. GLAM ĐỌC" with its head repaired the same way; when
 * the head was unreadable, from the line with its unreadable words
 * (`all`, may be NULL). */
static char *repair_prefix(char *text, const char *all, float *conf)
{
    size_t lab = strcspn(text, " ");
    char *label = strndup(text, lab);
    bool collective = collective_label(text, lab);
    int d = 0;
    const char *head = text[lab] ? prefix_head(collective, text + lab + 1, &d) : NULL;
    size_t alab = all ? strcspn(all, " ") : 0;
    if (!head && all && all[alab] && strcmp(all, text) != 0) {
        head = prefix_head(collective, all + alab + 1, &d);
        d += head != NULL;
    }
    char *out = NULL;
    if (head && label) {
        size_t n = strlen(label) + strlen(head) + 2;
        out = malloc(n);
        if (out)
            snprintf(out, n, "%s %s", label, head);
    }
    free(label);
    if (!out)
        return text;
    if (d > 0 && *conf > 0.7f)
        *conf = 0.7f;
    free(text);
    return out;
}

/* KT. (K/T) is a deputy signing for the head (standards §5): the
 * position is "PHÓ <head>", and a deputy minister's "THỨ TRƯỞNG". The
 * position a prefix calls for (malloc'd), or NULL when it calls for none
 * in particular (TM., TL., TUQ. are signed by heads and deputies alike). */
static char *deputy_of(const char *prefix)
{
    size_t lab = prefix ? strcspn(prefix, " ") : 0;
    char *raw = prefix && prefix[lab] ? strndup(prefix, lab) : NULL;
    char *label = raw ? letters_fold(raw) : NULL;
    char *head = label && strcmp(label, "kt") == 0 ? vn_fold(prefix + lab + 1) : NULL;
    char *out = NULL;
    if (head && strcmp(head, "bo truong") == 0)
        out = strdup("THỨ TRƯỞNG");
    else if (head && asprintf(&out, "PHÓ %s", prefix + lab + 1) < 0)
        out = NULL;
    free(raw);
    free(label);
    free(head);
    return out;
}

/* A position checked against the one its prefix calls for. One read as
 * the head's own title lost its "PHÓ" (often under the seal), and one a
 * letter or two away from it was misread ("THƯ TRƯ ỞN"): either takes the
 * deputy's title, and the clerk checks it. Any other disagreement is
 * left as read, with a low confidence. */
static char *deputy_position(char *pos, const char *prefix, float *conf)
{
    char *want = deputy_of(prefix);
    char *wl = want ? letters_fold(want) : NULL, *pl = wl ? letters_fold(pos) : NULL;
    if (pl) {
        int cap = (int)strlen(wl) / 4;
        int d = vn_edit_distance(pl, wl, cap);
        bool head_only = strlen(wl) > 3 && strcmp(pl, wl + 3) == 0; /* "pho" */
        if (d > 0 && (head_only || d <= cap)) {
            free(pos);
            pos = want;
            want = NULL;
            float most = head_only ? 0.6f : 0.7f;
            *conf = *conf < most ? *conf : most;
        } else if (d > 0 && *conf > 0.6f)
            *conf = 0.6f;
    }
    free(want);
    free(wl);
    free(pl);
    return pos;
}

/* A position that is no title even after the repairs above ("¬HHẾ VĂN
 * PHÒNG", "1d XNH VĂN PHÒNG" where the seal crossed it): the title whose
 * letters are nearest, within a third of them and clearly nearer than
 * any other, or whose end its letters are ("ƯƠNG BAN"); under KT. only
 * the deputy's title is in question. A guess from what is left, so one
 * to check. */
static char *loose_position(char *pos, const char *prefix, float *conf)
{
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (strcmp(titles[i], pos) == 0)
            return pos;
    char *want = deputy_of(prefix);
    const char *one[1] = {want};
    const char *const *set = want ? one : titles;
    size_t n = want ? 1 : sizeof titles / sizeof titles[0];
    char *p = letters_fold(pos);
    size_t pl = p ? strlen(p) : 0;
    const char *best = NULL;
    int best_d = 99, next_d = 99, ends = 0;
    const char *ending = NULL;
    for (size_t i = 0; pl >= 3 && i < n; i++) {
        char *f = letters_fold(set[i]);
        size_t fl = f ? strlen(f) : 0;
        int d = f ? vn_edit_distance(p, f, 99) : 99;
        if (d <= (int)fl / 3 && d < best_d) {
            next_d = best_d;
            best_d = d;
            best = set[i];
        } else if (d < next_d)
            next_d = d;
        if (fl > pl && strcmp(f + fl - pl, p) == 0) {
            ending = set[i];
            ends++;
        }
        free(f);
    }
    free(p);
    const char *t = best && next_d - best_d >= 2 ? best : ends == 1 ? ending : NULL;
    if (t) {
        char *r = strdup(t);
        if (r) {
            free(pos);
            pos = r;
            *conf = *conf < 0.5f ? *conf : 0.5f;
        }
    }
    free(want);
    return pos;
}

/* How sure the block has no prefix line, none having been read. The
 * prefix stands at the block's top, where the seal often lies: a block
 * whose position or name was read poorly may have lost it too. And some
 * positions call for one (Nghị định 30/2020, Hướng dẫn 36): a deputy
 * ("PHÓ ...") signs for the head (KT., K/T), and a unit's head inside the
 * body ("CHÁNH VĂN PHÒNG" of an issuer that is not the office itself)
 * signs by order of the head (TL., T/L). */
static float no_prefix_conf(const char *position, const char *issuer, float pos_conf,
                            float name_conf)
{
    float conf = 0.9f;
    conf = pos_conf < conf ? pos_conf : conf;
    conf = name_conf < conf ? name_conf : conf;
    char *pf = position ? vn_fold(position) : NULL, *ifold = issuer ? vn_fold(issuer) : NULL;
    if (pf && strncmp(pf, "pho ", 4) == 0 && conf > 0.3f)
        conf = 0.3f;
    if (pf && strncmp(pf, "chanh van phong", 15) == 0 && !(ifold && strstr(ifold, "van phong")) &&
        conf > 0.5f)
        conf = 0.5f;
    free(pf);
    free(ifold);
    return conf;
}

/* Where the block can start: below the body (the last full-width row),
 * near "Nơi nhận". */
static int block_top(const page_layout *pl, int floor_y)
{
    int top = floor_y;
    int width = pl->text_x1 - pl->text_x0;
    for (size_t ri = 0; ri < pl->nrows; ri++) {
        const lay_row *r = &pl->rows[ri];
        char *f = vn_fold(pl->words[r->w[0]].text);
        bool noi = f && strncmp(f, "noi", 3) == 0 && r->n > 1 &&
                   strncmp(lay_at(pl, r, 1)->fold, "nhan", 4) == 0;
        free(f);
        if (noi)
            return r->box.y0 - 3 * r->h;
        /* a body line is full and evenly spaced; "Nơi nhận:" misread,
         * with the prefix far right of it, is as wide but split */
        int gap = 0;
        for (size_t j = 1; j < r->n; j++) {
            int g = lay_at(pl, r, j)->box.x0 - lay_at(pl, r, j - 1)->box.x1;
            gap = g > gap ? g : gap;
        }
        if (r->box.x1 - r->box.x0 > width * 7 / 10 && r->n >= 6 && gap < 4 * r->h)
            top = r->box.y1;
    }
    return top;
}

/* The seal's own letters: red ink the OCR still read, with low
 * confidence. A black word of the block under the seal (a prefix, a
 * position) is partly red too, but read well; it is kept. */
static bool seal_text(const lay_word *w)
{
    return w->red >= 0.6f || (w->red >= 0.4f && w->conf < 0.8f);
}

/* A word with letters, none of them capital. */
static bool lowercase_word(const char *t)
{
    vn_case_stats st;
    vn_case_count(t, &st);
    return st.letters > 0 && st.upper == 0;
}

/* Appends a word to *acc with one space; false on ENOMEM. */
static bool append_word(char **acc, size_t *len, const char *w)
{
    size_t wl = strlen(w);
    char *p = realloc(*acc, *len + wl + 2);
    if (!p)
        return false;
    *acc = p;
    if (*len)
        p[(*len)++] = ' ';
    memcpy(p + *len, w, wl + 1);
    *len += wl;
    return true;
}

/* One line of print that the layout cut in two rows, side by side and at
 * the same height: a word's box stretched by a stroke of the signature
 * moves its centre off the line ("PHÓ TRƯỞNG" | "BAN", "Trần Đức" |
 * "Thắng"). Such pairs are joined, left to right. */
static size_t merge_split_lines(sline *l, size_t n)
{
    for (size_t i = 0; i + 1 < n;) {
        sline *a = &l[i], *b = &l[i + 1];
        int ha = a->y1 - a->y0, hb = b->y1 - b->y0;
        int overlap = (a->y1 < b->y1 ? a->y1 : b->y1) - (a->y0 > b->y0 ? a->y0 : b->y0);
        bool apart = a->x1 <= b->x0 || b->x1 <= a->x0;
        if (!apart || overlap * 3 < (ha < hb ? ha : hb)) {
            i++;
            continue;
        }
        sline *left = a->x0 < b->x0 ? a : b, *right = left == a ? b : a;
        sline m = *left;
        if (asprintf(&m.text, "%s %s", left->text, right->text) < 0)
            break; /* ENOMEM: left as two lines */
        if (asprintf(&m.all, "%s %s", left->all, right->all) < 0) {
            free(m.text);
            break;
        }
        /* the widest space of the two, or the one between them */
        size_t left_words = (size_t)count_words(left->text);
        if (right->x0 - left->x1 >= left->widest_gap &&
            right->x0 - left->x1 >= right->widest_gap) {
            m.widest_gap = right->x0 - left->x1;
            m.gap_x0 = left->x1;
            m.gap_words = left_words;
        } else if (right->widest_gap > left->widest_gap) {
            m.widest_gap = right->widest_gap;
            m.gap_x0 = right->gap_x0;
            m.gap_words = left_words + right->gap_words;
        }
        free(a->text);
        free(a->all);
        free(b->text);
        free(b->all);
        m.conf = (a->conf + b->conf) / 2;
        m.damaged = a->damaged || b->damaged;
        m.x1 = right->x1;
        m.y0 = a->y0 < b->y0 ? a->y0 : b->y0;
        m.y1 = a->y1 > b->y1 ? a->y1 : b->y1;
        l[i] = m;
        memmove(&l[i + 1], &l[i + 2], (n - i - 2) * sizeof *l);
        n--;
    }
    return n;
}

/* Inserts `word` into `line` before its word `at` (0-based), or before
 * the first word equal to `before` when `before` is set; returns the new
 * string (malloc'd) or NULL on ENOMEM. */
static char *insert_word(const char *line, size_t at, const char *before, const char *word)
{
    const char *p = line;
    if (before) {
        size_t bl = strlen(before);
        for (const char *q = line; (q = strstr(q, before)) != NULL; q++)
            if ((q == line || q[-1] == ' ') && (q[bl] == ' ' || q[bl] == '\0')) {
                p = q;
                break;
            }
    } else
        for (size_t k = 0; k < at && (p = strchr(p, ' ')) != NULL; k++)
            p++;
    if (!p)
        p = line + strlen(line);
    char *out = NULL;
    int head = (int)(p - line);
    bool tail = *p != '\0';
    if (asprintf(&out, "%.*s%s%s%s%s", head, line, head && line[head - 1] != ' ' ? " " : "", word,
                 tail ? " " : "", p) < 0)
        return NULL;
    return out;
}

/* Whether the words of `part` are written as those of `line` are: all
 * capitalised in a name, in capitals in a title. */
static bool same_case(const char *part, const char *line)
{
    vn_case_stats a, b;
    vn_case_count(part, &a);
    vn_case_count(line, &b);
    if (b.words_capitalised == b.words && a.words_capitalised != a.words)
        return false;
    return !is_upper_line(line) || is_upper_line(part);
}

/* A word the layout set on a row of its own, above or below the line it
 * belongs to, inside the space it left there: its box stretched by the
 * seal's ring or the signature ("Văn" over "Mai Loan"). Put back in, when
 * written as the line is (a seal's "và" is not a name's word). A space
 * wider than a line's height is a word lost. */
static size_t fill_gaps(sline *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int h = l[i].y1 - l[i].y0;
        if (l[i].widest_gap <= h)
            continue;
        for (size_t j = i > 0 ? i - 1 : i + 1; j <= i + 1 && j < n; j += 2) {
            int hj = l[j].y1 - l[j].y0, dy = (l[j].y0 + l[j].y1) / 2 - (l[i].y0 + l[i].y1) / 2;
            if (count_words(l[j].text) > 2 || l[j].x0 < l[i].gap_x0 - h / 4 ||
                l[j].x1 > l[i].gap_x0 + l[i].widest_gap + h / 4 || abs(dy) > (h + hj) ||
                hj > 2 * h || !same_case(l[j].text, l[i].text))
                continue;
            /* the word after the space, in the text with the unreadable
             * words kept as well */
            char *after = NULL;
            const char *p = l[i].text;
            for (size_t k = 0; k < l[i].gap_words && p; k++)
                if ((p = strchr(p, ' ')) != NULL)
                    p++;
            if (p)
                after = strndup(p, strcspn(p, " "));
            char *text = insert_word(l[i].text, l[i].gap_words, NULL, l[j].text);
            char *all = after ? insert_word(l[i].all, 0, after, l[j].text) : NULL;
            free(after);
            if (!text || !all) {
                free(text);
                free(all);
                return n; /* ENOMEM: left as read */
            }
            free(l[i].text);
            free(l[i].all);
            l[i].text = text;
            l[i].all = all;
            l[i].conf = l[i].conf < l[j].conf ? l[i].conf : l[j].conf;
            l[i].widest_gap = 0;
            free(l[j].text);
            free(l[j].all);
            memmove(&l[j], &l[j + 1], (n - j - 1) * sizeof *l);
            n--;
            if (j < i)
                i--;
            break;
        }
    }
    return n;
}

static size_t collect(const page_layout *pl, int top, sline *l)
{
    size_t n = 0;
    int mid = pl->width * 45 / 100;
    for (size_t ri = 0; ri < pl->nrows && n < MAX_SLINES; ri++) {
        const lay_row *r = &pl->rows[ri];
        if (r->box.y1 <= top)
            continue;
        /* the right part: from the first word whose centre is right of
         * 45 % of the page, extended left over small gaps */
        size_t j = 0;
        while (j < r->n && (lay_at(pl, r, j)->box.x0 + lay_at(pl, r, j)->box.x1) / 2 < mid)
            j++;
        while (j > 0 && j < r->n &&
               lay_at(pl, r, j)->box.x0 - lay_at(pl, r, j - 1)->box.x1 < r->h * 8 / 10 &&
               lay_at(pl, r, j - 1)->box.x0 > pl->width * 35 / 100)
            j--;
        char *acc = NULL, *all = NULL;
        size_t len = 0, alen = 0;
        float sum = 0;
        bool damaged = false, oom = false;
        int cnt = 0, lead = 0, x0 = 0, x1 = 0, y0 = 0, y1 = 0, widest = 0, last_x1 = 0, gap_x0 = 0;
        size_t gap_words = 0;
        bool labelled = false;
        const lay_word *first = NULL, *second = NULL;
        for (size_t k = j; k < r->n && !oom; k++) {
            const lay_word *w = lay_at(pl, r, k);
            if (w->noise || w->stamp || seal_text(w))
                continue;
            /* lone letters (seal text, cut words, a diacritic read apart)
             * and scribble; a prefix label read poorly is still one */
            bool label = cnt == 0 && is_prefix_label(w->fold);
            labelled |= label;
            if (!label && (strlen(w->fold) < 2 || w->conf < 0.3f)) {
                bool letters = false;
                for (const char *q = w->fold; *q; q++)
                    letters |= isalpha((unsigned char)*q) != 0;
                damaged |= letters;
                if (letters && strlen(w->fold) >= 2) {
                    lead += cnt == 0;
                    oom = !append_word(&all, &alen, w->text);
                }
                continue;
            }
            oom = !append_word(&acc, &len, w->text) || !append_word(&all, &alen, w->text);
            if (!first)
                first = w;
            else if (!second)
                second = w;
            if (cnt && w->box.x0 - last_x1 > widest) {
                widest = w->box.x0 - last_x1;
                gap_x0 = last_x1;
                gap_words = (size_t)cnt;
            }
            last_x1 = w->box.x1;
            sum += w->conf;
            if (!cnt || w->box.x0 < x0)
                x0 = w->box.x0;
            if (!cnt || w->box.x1 > x1)
                x1 = w->box.x1;
            if (!cnt || w->box.y0 < y0)
                y0 = w->box.y0;
            if (!cnt || w->box.y1 > y1)
                y1 = w->box.y1;
            cnt++;
        }
        /* a line in capitals (a title) led by a word in small letters:
         * the seal's letters or the signature's stroke read before it */
        size_t fl = first ? strlen(first->text) : 0;
        if (!oom && second && lowercase_word(first->text) && is_upper_line(acc + fl + 1)) {
            memmove(acc, acc + fl + 1, len - fl);
            len -= fl + 1;
            sum -= first->conf;
            cnt--;
            x0 = second->box.x0;
            lead++;
            /* the widest space was the one after that word: none left */
            if (gap_words == 1)
                widest = 0;
            else if (gap_words > 0)
                gap_words--;
        }
        /* a prefix line whose head was misread is kept for its label */
        if (oom || !cnt || (sum / (float)cnt < 0.45f && !labelled)) {
            free(acc);
            free(all);
            continue;
        }
        l[n].text = acc;
        l[n].all = all;
        l[n].conf = sum / (float)cnt * (damaged ? 0.6f : 1.0f);
        l[n].damaged = damaged;
        l[n].lead_dropped = lead;
        l[n].widest_gap = widest;
        l[n].gap_x0 = gap_x0;
        l[n].gap_words = gap_words;
        l[n].x0 = x0;
        l[n].x1 = x1;
        l[n].y0 = y0;
        l[n].y1 = y1;
        n++;
    }
    return fill_gaps(l, merge_split_lines(l, n));
}

/* The signer block's lines of a page just read: its layout is built
 * into `pl` and the lines into `l`. False when there is nothing to read
 * (or no memory); otherwise block_free() releases both. */
static bool page_block(const ocr_page_text *pt, page_layout *pl, sline *l, size_t *n)
{
    if (!pt || pt->nwords == 0 || layout_build(pl, pt) != 0)
        return false;
    *n = collect(pl, block_top(pl, 0), l);
    return true;
}

static void lines_free(sline *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].text);
        free(l[i].all);
    }
}

static void block_free(page_layout *pl, sline *l, size_t n)
{
    lines_free(l, n);
    layout_free(pl);
}

static char *join(sline *l, size_t a, size_t b, float *conf)
{
    char *acc = NULL;
    size_t len = 0;
    float sum = 0;
    for (size_t i = a; i < b; i++) {
        size_t tl = strlen(l[i].text);
        char *p = realloc(acc, len + tl + 2);
        if (!p) {
            free(acc);
            return NULL;
        }
        acc = p;
        if (len)
            acc[len++] = ' ';
        memcpy(acc + len, l[i].text, tl + 1);
        len += tl;
        sum += l[i].conf;
    }
    *conf = b > a ? sum / (float)(b - a) : 0;
    return acc;
}

static void set_repaired(extract_ctx *c, meta_field f, char *s, float conf)
{
    if (!s) {
        c->oom = true;
        return;
    }
    int changed;
    char *r = lex_repair(s, &changed);
    free(s);
    if (!r) {
        c->oom = true;
        return;
    }
    ex_set(c, f, r, conf);
    free(r);
}

/* The position of a block whose position line was lost, from its
 * prefix when that calls for one (KT.); otherwise it is left empty for
 * the clerk. */
static void position_from_prefix(extract_ctx *c)
{
    char *pos = deputy_of(c->out->str[META_SIGNER_PREFIX]);
    float conf = c->out->confidence[META_SIGNER_PREFIX];
    if (pos)
        set_repaired(c, META_SIGNER_POSITION, pos, conf < 0.5f ? conf : 0.5f);
}

/* A line read this poorly under a position already found is the
 * signature's scribble, not more of the position. */
#define JUNK_CONF 0.4f

/* Whether line `b` is the line after `a` in one paragraph: the prefix
 * and the position are set at single spacing, while the signature's
 * space below them is several lines high. */
static bool follows(const sline *a, const sline *b)
{
    return b->y0 - a->y1 < 3 * (a->y1 - a->y0) / 2;
}

/* The name: the lowest line holding a run of capitalised words, its run
 * (malloc'd) in *name and *cut as name_run() sets it. EX_NONE when none. */
static size_t find_name(const sline *l, size_t n, char **name, name_head *cut)
{
    *name = NULL;
    for (size_t i = n; i-- > 0;)
        if (!is_upper_line(l[i].text) && (*name = name_run(l[i].text, l[i].all, cut)) != NULL)
            return i;
    return EX_NONE;
}

/* The end (one past the last line) of the position's run under the
 * prefix line `pre`, before `end`: upper-case lines set right under it.
 * An upper line further down is the signature or the seal read as
 * letters, and one read as noise under a line already taken is scribble. */
static size_t position_run_end(const sline *l, size_t pre, size_t end)
{
    size_t i = pre + 1;
    while (i < end && is_upper_line(l[i].text) && !is_prefix(l[i].text) &&
           follows(&l[i - 1], &l[i]) && (i == pre + 1 || l[i].conf >= JUNK_CONF))
        i++;
    return i;
}

/* Whether `above`, set right over the position line `pos`, is a KT.
 * prefix whose label was misread ("FT CHỦ NHIỆM" over "CHỦ NHIỆM"): it
 * ends with the very title the position reads, after a word or so of
 * letters. Only a deputy signs under the head's own title, so the
 * position lost its "PHÓ" (both under the seal). */
static bool lost_deputy_label(const sline *above, const sline *pos)
{
    if (!is_upper_line(above->text) || !follows(above, pos))
        return false;
    char *a = vn_fold(above->text), *p = vn_fold(pos->text);
    bool r = false;
    if (a && p && strncmp(p, "pho ", 4) != 0 && strlen(p) >= 6) {
        size_t al = strlen(a), plen = strlen(p);
        r = al > plen + 1 && al <= plen + 6 && strcmp(a + al - plen, p) == 0 &&
            a[al - plen - 1] == ' ';
    }
    free(a);
    free(p);
    return r;
}

/* The signer block is set centred on one axis (Nghị định 30/2020, Phụ
 * lục I): prefix, position and name. A line whose first word the OCR lost
 * (under the seal's ring) has its centre moved right of the axis by half
 * that word. The shift of `l` from `ref`, in characters of `l`. */
static double shift_chars(const sline *l, const sline *ref)
{
    size_t chars = vn_utf8_len(l->text);
    if (chars < 3 || l->x1 <= l->x0)
        return 0;
    double advance = (double)(l->x1 - l->x0) / (double)chars;
    return ((l->x0 + l->x1) - (ref->x0 + ref->x1)) / 2.0 / advance;
}

/* A short word and its space ("PHÓ ", "KT. ") lost from a line's start
 * moves its centre by about two characters. */
#define LOST_WORD_MIN_SHIFT 1.2
#define LOST_WORD_MAX_SHIFT 3.0

/* Whether line `l`, read as the title `t`, lost its first word ("PHÓ",
 * "KT."): off the axis the way a lost word moves it, from every intact
 * line there is (at least one): the prefix read with its label, the name
 * that starts with a surname. Where `t` has more letters than the line
 * kept (a word dropped as unreadable, completed from the titles), the
 * line's centre is moved by those already. */
static bool lost_lead_word(const sline *l, const char *t, const sline *pre, const sline *name)
{
    double explained = ((double)vn_utf8_len(t) - (double)vn_utf8_len(l->text)) / 2;
    const sline *refs[2] = {pre, name};
    int agree = 0;
    for (size_t i = 0; i < 2; i++) {
        if (!refs[i])
            continue;
        double sh = shift_chars(l, refs[i]) - (explained > 0 ? explained : 0);
        if (sh < LOST_WORD_MIN_SHIFT || sh > LOST_WORD_MAX_SHIFT)
            return false;
        agree++;
    }
    return agree > 0;
}

/* Whether `text` reads the title `t` (within the OCR errors nearest()
 * allows). */
static bool heads_alike(const char *text, const char *t)
{
    int d = 0;
    const char *read = nearest(titles, sizeof titles / sizeof titles[0], text, &d);
    return read && strcmp(read, t) == 0;
}

/* The deputy's title "PHÓ <t>" when that is a title, or NULL. */
static const char *deputy_title(const char *t)
{
    char *want = NULL;
    if (!t || strncmp(t, "PHÓ ", strlen("PHÓ ")) == 0 || asprintf(&want, "PHÓ %s", t) < 0)
        return NULL;
    const char *found = NULL;
    for (size_t i = 0; i < sizeof titles / sizeof titles[0] && !found; i++)
        if (strcmp(titles[i], want) == 0)
            found = titles[i];
    free(want);
    return found;
}

static bool signer_on_page(extract_ctx *c, size_t page)
{
    const page_layout *pl = &c->pages[page];
    sline l[MAX_SLINES];
    int floor_y = 0;
    if (page == 0 && c->subject_end != EX_NONE)
        floor_y = pl->rows[c->subject_end].box.y1;
    int top = block_top(pl, floor_y);
    size_t n = collect(pl, top, l);
    log_debug("extract: signer page %zu: block from y=%d", page + 1, top);
    for (size_t i = 0; i < n; i++)
        log_debug("extract: signer page %zu line %zu y=%d x=%d..%d gap=%d conf=%.2f | %s",
                  page + 1, i, l[i].y0, l[i].x0, l[i].x1, l[i].widest_gap, (double)l[i].conf,
                  l[i].text);
    size_t name = EX_NONE, pos = EX_NONE, pre = EX_NONE;
    char *name_text = NULL;
    name_head name_cut = HEAD_WHOLE;
    name = find_name(l, n, &name_text, &name_cut);
    /* a name printed in capitals: the last upper line, far below the
     * one above it (the signature's space) */
    for (size_t i = n; name == EX_NONE && i-- > 1;)
        if (is_upper_line(l[i].text)) {
            if (is_upper_line(l[i - 1].text) && l[i].y0 - l[i - 1].y1 > 3 * (l[i].y1 - l[i].y0))
                name = i;
            break;
        }
    size_t scan_end = name == EX_NONE ? n : name;
    for (size_t i = 0; i < scan_end && pre == EX_NONE; i++)
        if (is_prefix(l[i].text))
            pre = i;
    if (pre != EX_NONE) {
        size_t end = position_run_end(l, pre, scan_end);
        pos = end > pre + 1 ? end - 1 : EX_NONE;
    } else
        for (size_t i = scan_end; i-- > 0;)
            if (is_upper_line(l[i].text)) {
                pos = i;
                break;
            }
    /* a prefix and a name with no position between them: the position
     * was lost (under the seal, or merged with the signature) */
    bool found = name != EX_NONE && (pos != EX_NONE || pre != EX_NONE);
    bool deputy_lost =
        pre == EX_NONE && pos != EX_NONE && pos > 0 && lost_deputy_label(&l[pos - 1], &l[pos]);
    if (found) {
        float conf = 0;
        const char *nm = name_text ? name_text : l[name].text;
        char *title = is_upper_line(nm) ? vn_title(nm) : strdup(nm);
        /* the name's line marks the block's axis when read whole */
        const sline *axis_name = title && is_surname(title) && !name_cut ? &l[name] : NULL;
        if (title) {
            vn_case_stats st;
            vn_case_count(title, &st);
            conf = l[name].conf * (st.words >= 2 && st.words <= 5 ? 1.0f : 0.7f);
            /* a first word that is no surname: the real one may be lost
             * under the seal ("Thu Việt" for "Nguyễn Thu Việt"), or it is
             * a rare surname; either way the clerk should look. One a
             * letter from a surname is that one misread, to be checked. */
            if (misread_capitals(title))
                conf = conf < 0.5f ? conf : 0.5f;
            char *near = is_surname(title) ? NULL : near_surname(title);
            if (near) {
                free(title);
                title = near;
                conf = conf < 0.5f ? conf : 0.5f;
            }
            if ((!is_surname(title) || name_cut) && conf > 0.55f)
                conf = 0.55f;
            /* a space in the name wider than its height: a word lost
             * there (the seal's ring through it) */
            if (l[name].widest_gap > l[name].y1 - l[name].y0 && conf > 0.55f)
                conf = 0.55f;
            ex_set(c, META_SIGNER, title, conf);
            free(title);
        } else
            c->oom = true;
        size_t pre_to = pre == EX_NONE ? pre : pos == EX_NONE ? pre + 1 : pos;
        size_t pos_from = pos;
        /* a prefix may run over two lines before the position; but one
         * whole on its first line ends there, and what follows it is the
         * position, read as two lines */
        if (pos != EX_NONE && pre != EX_NONE && pre_to > pre + 1 && prefix_whole(l[pre].text))
            pos_from = pre_to = pre + 1;
        if (pre != EX_NONE) {
            char *p = join(l, pre, pre_to, &conf);
            char *sp = p ? space_prefix(p) : NULL;
            free(p);
            if (sp)
                sp = repair_prefix(sp, pre + 1 == pre_to ? l[pre].all : NULL, &conf);
            set_repaired(c, META_SIGNER_PREFIX, sp, conf);
        }
        if (pos != EX_NONE) {
            char *ps = join(l, pos_from, pos + 1, &conf);
            if (ps)
                ps = repair_position(ps, &l[pos], &conf);
            if (ps && deputy_lost) {
                /* the prefix is the position's title under KT., both
                 * to be checked */
                char *kt = NULL;
                float kc = l[pos - 1].conf < 0.5f ? l[pos - 1].conf : 0.5f;
                set_repaired(c, META_SIGNER_PREFIX, asprintf(&kt, "KT. %s", ps) < 0 ? NULL : kt,
                             kc);
                conf = conf < 0.5f ? conf : 0.5f;
            }
            if (ps && (pre != EX_NONE || deputy_lost))
                ps = deputy_position(ps, c->out->str[META_SIGNER_PREFIX], &conf);
            if (ps)
                ps = loose_position(ps, c->out->str[META_SIGNER_PREFIX], &conf);
            /* the head's title, set off the axis by a lost word: a
             * deputy's, whose "PHÓ" the seal took (under a prefix that
             * is KT., deputy_position() has seen to it already) */
            const char *deputy = pos_from == pos ? deputy_title(ps) : NULL;
            const sline *axis_pre = pre == EX_NONE ? NULL : &l[pre];
            if (deputy && lost_lead_word(&l[pos], ps, axis_pre, axis_name)) {
                char *dp = strdup(deputy);
                if (dp) {
                    /* the line over it reading the head's title, off the
                     * axis as well: the prefix, "KT." lost with "PHÓ" */
                    if (pre == EX_NONE && !deputy_lost && pos > 0 &&
                        follows(&l[pos - 1], &l[pos]) &&
                        lost_lead_word(&l[pos - 1], ps, NULL, axis_name) &&
                        heads_alike(l[pos - 1].text, ps)) {
                        char *kt = NULL;
                        set_repaired(c, META_SIGNER_PREFIX,
                                     asprintf(&kt, "KT. %s", ps) < 0 ? NULL : kt, 0.45f);
                        deputy_lost = true;
                    }
                    free(ps);
                    ps = dp;
                    conf = conf < 0.45f ? conf : 0.45f;
                }
            }
            set_repaired(c, META_SIGNER_POSITION, ps, conf);
        } else
            position_from_prefix(c);
        if (pre == EX_NONE && !deputy_lost)
            c->out->confidence[META_SIGNER_PREFIX] =
                no_prefix_conf(c->out->str[META_SIGNER_POSITION], c->out->str[META_ISSUER],
                               c->out->confidence[META_SIGNER_POSITION],
                               c->out->confidence[META_SIGNER]);
    }
    lines_free(l, n);
    free(name_text);
    return found;
}

void ex_find_signer(extract_ctx *c)
{
    for (size_t k = 0; k < 2 && k < c->npages; k++)
        if (signer_on_page(c, c->npages - 1 - k))
            return;
}

/* A signer's title: the head words of positions in State and Party
 * bodies (giám đốc, chủ tịch, bí thư, chủ nhiệm, -trưởng, chánh, phó). */
static bool is_position_line(const char *text)
{
    static const char *const heads[] = {"giam doc", "chu tich", "bi thu", "chu nhiem",
                                        "truong", "chanh ", "pho ", "tong "};
    char *f = vn_fold(text);
    bool r = false;
    for (size_t i = 0; f && i < sizeof heads / sizeof heads[0] && !r; i++)
        r = strstr(f, heads[i]) != NULL;
    free(f);
    return r;
}

/* A line reading as one of the titles, give or take the OCR's errors
 * ("Q®IÁM ĐỐC", the seal's ring through the "G"). */
static bool is_title(const char *text)
{
    int d;
    return nearest(titles, sizeof titles / sizeof titles[0], text, &d) != NULL;
}

/* How far below the title the name is looked for: the signature and the
 * seal take 25-40 mm. */
#define GAP_MM 45

bool extract_signer_gap(const ocr_page_text *pt, ocr_box *region)
{
    page_layout pl;
    sline l[MAX_SLINES];
    size_t n;
    if (!page_block(pt, &pl, l, &n))
        return false;
    size_t last_upper = EX_NONE;
    bool titled = false, name_below = false;
    int x0 = pl.width;
    for (size_t i = 0; i < n; i++) {
        if (is_upper_line(l[i].text)) {
            /* a capitals line far below the one above it is the name
             * itself, printed in capitals */
            if (last_upper != EX_NONE && l[i].y0 - l[last_upper].y1 > 3 * (l[i].y1 - l[i].y0))
                name_below = true;
            last_upper = i;
            titled |= is_prefix(l[i].text) || is_position_line(l[i].text) || is_title(l[i].text);
            if (l[i].x0 < x0)
                x0 = l[i].x0;
        } else if (last_upper != EX_NONE) {
            char *nm = name_run(l[i].text, NULL, NULL);
            name_below |= nm != NULL;
            free(nm);
        }
    }
    bool gap = last_upper != EX_NONE && titled && !name_below;
    if (gap) {
        int h = l[last_upper].y1 - l[last_upper].y0;
        int dpi = pl.dpi > 0 ? pl.dpi : 300;
        region->x0 = x0 - 3 * h > 0 ? x0 - 3 * h : 0;
        region->x1 = pl.width;
        region->y0 = l[last_upper].y1;
        region->y1 = l[last_upper].y1 + dpi * GAP_MM * 10 / 254;
        if (region->y1 > pl.height)
            region->y1 = pl.height;
        gap = region->y1 - region->y0 > 2 * h;
    }
    block_free(&pl, l, n);
    return gap;
}

/* The signer block's lines on the page and its name's line (EX_NONE, the
 * block freed, when there is no name); *titled tells that a capitals line
 * stands above the name: a title, however poorly read. */
static size_t block_name(const ocr_page_text *pt, page_layout *pl, sline *l, size_t *n,
                         char **nm, name_head *cut, bool *titled)
{
    *nm = NULL;
    *cut = HEAD_WHOLE;
    *titled = false;
    if (!page_block(pt, pl, l, n))
        return EX_NONE;
    size_t name = find_name(l, *n, nm, cut);
    if (name == EX_NONE) {
        block_free(pl, l, *n);
        return EX_NONE;
    }
    for (size_t i = 0; i < name && !*titled; i++)
        *titled = is_upper_line(l[i].text);
    return name;
}

/* How far above the name its title is looked for: the signature's space
 * and two lines of prefix and position. */
#define TITLE_GAP_MM 50
/* Half the width of the band, about the name's centre: the longest
 * titles ("PHÓ CHÁNH VĂN PHÒNG") are 60-70 mm long. */
#define TITLE_HALF_MM 40

bool extract_title_gap(const ocr_page_text *pt, ocr_box *region)
{
    page_layout pl;
    sline l[MAX_SLINES];
    size_t n;
    name_head cut;
    bool titled;
    char *nm;
    size_t name = block_name(pt, &pl, l, &n, &nm, &cut, &titled);
    if (name == EX_NONE)
        return false;
    bool gap = !titled;
    if (gap) {
        int h = l[name].y1 - l[name].y0;
        int dpi = pl.dpi > 0 ? pl.dpi : 300;
        int mid = (l[name].x0 + l[name].x1) / 2, half = dpi * TITLE_HALF_MM * 10 / 254;
        region->x0 = mid - half < l[name].x0 - 3 * h ? mid - half : l[name].x0 - 3 * h;
        region->x0 = region->x0 > 0 ? region->x0 : 0;
        region->x1 = pl.width;
        region->y1 = l[name].y0;
        region->y0 = l[name].y0 - dpi * TITLE_GAP_MM * 10 / 254;
        region->y0 = region->y0 > 0 ? region->y0 : 0;
        gap = region->y1 - region->y0 > 2 * h;
    }
    free(nm);
    block_free(&pl, l, n);
    return gap;
}

/* Whether one of the lines a..b-1, or all of them together, is a title. */
static bool titled_lines(sline *l, size_t a, size_t b)
{
    bool titled = false;
    for (size_t i = a; i <= b && !titled; i++) {
        float c;
        char *t = i < b ? strdup(l[i].text) : join(l, a, b, &c);
        int d;
        titled = t && nearest(titles, sizeof titles / sizeof titles[0], t, &d) != NULL;
        free(t);
    }
    return titled;
}

/* How far below the prefix the position is looked for again, in prefix
 * line heights: one line at single spacing, with its marks. */
#define POSITION_BAND 2.2

bool extract_position_gap(const ocr_page_text *pt, ocr_box *region)
{
    page_layout pl;
    sline l[MAX_SLINES];
    size_t n, pre = EX_NONE, end;
    if (!page_block(pt, &pl, l, &n))
        return false;
    for (size_t i = 0; i < n && pre == EX_NONE; i++)
        if (is_prefix(l[i].text))
            pre = i;
    bool gap = false;
    if (pre != EX_NONE) {
        end = position_run_end(l, pre, n);
        gap = !titled_lines(l, pre + 1, end);
    }
    if (gap) {
        int h = l[pre].y1 - l[pre].y0;
        region->x0 = l[pre].x0 - 4 * h > 0 ? l[pre].x0 - 4 * h : 0;
        region->x1 = pl.width;
        region->y0 = l[pre].y1;
        region->y1 = l[pre].y1 + (int)(POSITION_BAND * h);
        /* not into the name, when that was read */
        for (size_t i = pre + 1; i < n; i++) {
            char *nm = is_upper_line(l[i].text) ? NULL : name_run(l[i].text, NULL, NULL);
            if (nm && l[i].y0 < region->y1)
                region->y1 = l[i].y0;
            free(nm);
        }
        if (region->y1 > pl.height)
            region->y1 = pl.height;
        gap = region->y1 - region->y0 > h;
    }
    block_free(&pl, l, n);
    return gap;
}

typedef enum { NAME_NONE, NAME_DOUBT, NAME_SURE } name_state;

/* How far left of a doubtful name's first word its band reaches, in line
 * heights: room for most surnames lost at its head (a longer one is the
 * pipeline's to look for, further left). */
#define NAME_HEAD_ROOM 4

/* How the signer's name under a title reads; for a doubtful one, the band
 * of its line in `region`. With `taken_sure`, a name whose surname is the
 * unreadable word before its run (name_run's HEAD_TAKEN) is read: the
 * judgement of a second reading, whose name the first one had lost. */
static name_state read_name(const ocr_page_text *pt, ocr_box *region, bool *headless,
                            bool taken_sure)
{
    page_layout pl;
    sline l[MAX_SLINES];
    size_t n;
    name_head cut;
    bool titled;
    char *nm;
    size_t name = block_name(pt, &pl, l, &n, &nm, &cut, &titled);
    if (name == EX_NONE)
        return NAME_NONE;
    bool whole = cut == HEAD_WHOLE || (taken_sure && cut == HEAD_TAKEN);
    name_state st = !titled ? NAME_NONE : !whole || !is_surname(nm) ? NAME_DOUBT : NAME_SURE;
    if (headless)
        *headless = titled && !is_surname(nm);
    if (st == NAME_DOUBT) {
        int h = l[name].y1 - l[name].y0;
        region->x0 = l[name].x0 - NAME_HEAD_ROOM * h > 0 ? l[name].x0 - NAME_HEAD_ROOM * h : 0;
        region->x1 = pl.width;
        region->y0 = l[name].y0 - h / 2 > 0 ? l[name].y0 - h / 2 : 0;
        region->y1 = l[name].y1 + h / 2 < pl.height ? l[name].y1 + h / 2 : pl.height;
    }
    free(nm);
    block_free(&pl, l, n);
    return st;
}

bool extract_name_doubt(const ocr_page_text *pt, ocr_box *region)
{
    return read_name(pt, region, NULL, false) == NAME_DOUBT;
}

bool extract_name_unsure(const ocr_page_text *pt, ocr_box *region)
{
    return read_name(pt, region, NULL, true) != NAME_SURE;
}

bool extract_name_headless(const ocr_page_text *pt, ocr_box *region)
{
    bool headless = false;
    return read_name(pt, region, &headless, false) == NAME_DOUBT && headless;
}
