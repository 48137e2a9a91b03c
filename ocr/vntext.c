/* vntext.c — see vntext.h. */
#include "vntext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* Decodes UTF-8 into code points; invalid bytes become U+FFFD so that text
 * from any OCR engine (or a fuzzer) is accepted. */
static uint32_t *decode(const char *s, size_t *n)
{
    size_t len = strlen(s);
    uint32_t *u = calloc(len + 1, sizeof *u);
    if (!u)
        return NULL;
    size_t k = 0;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int l = u8_mbtouc(&uc, p + i, len - i);
        if (l <= 0)
            l = 1;
        u[k++] = uc ? uc : 0xFFFD;
        i += (size_t)l;
    }
    *n = k;
    return u;
}

static bool is_tone(uint32_t c)
{
    return c == 0x300 || c == 0x301 || c == 0x303 || c == 0x309 || c == 0x323;
}

static bool is_mark(uint32_t c)
{
    return (c >= 0x300 && c <= 0x36F);
}

static uint32_t lower_ascii(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Moves the tone of open "oa", "oe", "uy" to the first vowel, on NFD text.
 * Nghị định 30 documents print "hòa", "ỦY": the old-placement variants in
 * scans (standards §5, "Old tone placement coexists with new") must read
 * the same. A syllable is a run of letters and marks. */
static void modernise_tones(uint32_t *u, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!uc_is_alpha(u[i])) {
            i++;
            continue;
        }
        size_t start = i, end = i;
        while (end < n && (uc_is_alpha(u[end]) || is_mark(u[end])))
            end++;
        /* bases: positions of non-mark code points in [start, end) */
        size_t b[3] = {0, 0, 0};
        int nb = 0, total = 0;
        for (size_t k = start; k < end; k++) {
            if (is_mark(u[k]))
                continue;
            b[0] = b[1];
            b[1] = b[2];
            b[2] = k;
            nb = nb < 3 ? nb + 1 : 3;
            total++;
        }
        if (total >= 2) {
            size_t v1 = b[1], v2 = b[2];
            uint32_t c1 = lower_ascii(u[v1]), c2 = lower_ascii(u[v2]);
            bool pair = (c1 == 'o' && (c2 == 'a' || c2 == 'e')) || (c1 == 'u' && c2 == 'y');
            bool after_q = total >= 3 && lower_ascii(u[b[0]]) == 'q';
            /* marks of v1 are in (v1, v2); marks of v2 in (v2, end) */
            bool v1_marked = v2 > v1 + 1;
            size_t tone_at = 0;
            bool v2_other = false;
            for (size_t k = v2 + 1; k < end; k++) {
                if (is_tone(u[k]))
                    tone_at = k;
                else
                    v2_other = true;
            }
            if (pair && !after_q && !v1_marked && !v2_other && tone_at && tone_at == v2 + 1 &&
                end == v2 + 2) {
                uint32_t tone = u[tone_at];
                /* shift v2 right by one and put the tone after v1 */
                u[v2 + 1] = u[v2];
                u[v2] = tone;
            }
        }
        (void)nb;
        i = end;
    }
}

/* libunistring results are not NUL-terminated: copies `len` bytes of `o`
 * into a C string and frees `o` (which may be NULL when len is 0). */
static char *terminated(uint8_t *o, size_t len)
{
    char *out = malloc(len + 1);
    if (out) {
        if (len)
            memcpy(out, o, len);
        out[len] = '\0';
    }
    free(o);
    return out;
}

char *vn_normalize(const char *s)
{
    size_t n;
    uint32_t *u = decode(s ? s : "", &n);
    if (!u)
        return NULL;
    size_t dn = 0;
    uint32_t *d = u32_normalize(UNINORM_NFD, u, n, NULL, &dn);
    free(u);
    if (!d && n)
        return NULL;
    /* Ð/ð (Icelandic eth) is the engine's look-alike of Đ/đ; Vietnamese
     * has no eth, and codes must compare ("QyÐ" is "QyĐ") */
    for (size_t i = 0; i < dn; i++) {
        if (d[i] == 0xD0)
            d[i] = 0x110;
        else if (d[i] == 0xF0)
            d[i] = 0x111;
    }
    modernise_tones(d, dn);
    size_t cn = 0;
    uint32_t *c = u32_normalize(UNINORM_NFC, d, dn, NULL, &cn);
    free(d);
    if (!c && dn)
        return NULL;
    size_t on = 0;
    uint8_t *o = u32_to_u8(c, cn, NULL, &on);
    free(c);
    if (!o && cn)
        return NULL;
    return terminated(o, on);
}

/* ASCII image of one NFC code point, 0 for a combining mark. */
static char fold_char(ucs4_t uc)
{
    if (uc < 0x80)
        return (char)lower_ascii(uc);
    if (is_mark(uc))
        return 0;
    if (uc == 0x110 || uc == 0x111)
        return 'd';
    if (uc == 0x2010 || uc == 0x2011 || uc == 0x2012 || uc == 0x2013 || uc == 0x2014 ||
        uc == 0x2212)
        return '-';
    if (uc == 0x2018 || uc == 0x2019 || uc == 0x201C || uc == 0x201D)
        return '\'';
    if (uc == 0x2026)
        return '.';
    ucs4_t dec[UC_DECOMPOSITION_MAX_LENGTH];
    for (int depth = 0; depth < 4; depth++) {
        int l = uc_canonical_decomposition(uc, dec);
        if (l <= 0)
            break;
        uc = dec[0];
        if (uc < 0x80)
            return (char)lower_ascii(uc);
    }
    return '?';
}

bool vn_word_plausible(const char *word)
{
    size_t n;
    uint32_t *u = decode(word ? word : "", &n);
    if (!u)
        return true;
    size_t dn = 0;
    uint32_t *d = u32_normalize(UNINORM_NFD, u, n, NULL, &dn);
    free(u);
    if (!d)
        return true;
    int tones = 0, letters = 0, groups = 0;
    bool in_vowel = false;
    for (size_t i = 0; i < dn; i++) {
        if (is_tone(d[i])) {
            tones++;
            continue;
        }
        if (is_mark(d[i]) || !uc_is_alpha(d[i])) {
            if (!is_mark(d[i]))
                in_vowel = false;
            continue;
        }
        letters++;
        uint32_t c = lower_ascii(d[i]);
        bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
        if (vowel && !in_vowel)
            groups++;
        in_vowel = vowel;
    }
    free(d);
    return tones <= 1 && !(letters > 7 && groups >= 2);
}

int vn_text_init(vn_text *t, const char *s)
{
    memset(t, 0, sizeof *t);
    t->text = vn_normalize(s);
    if (!t->text)
        return -1;
    size_t len = strlen(t->text);
    t->fold = malloc(len + 1);
    t->off = malloc((len + 1) * sizeof *t->off);
    if (!t->fold || !t->off) {
        vn_text_free(t);
        return -1;
    }
    const uint8_t *p = (const uint8_t *)t->text;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int l = u8_mbtouc(&uc, p + i, len - i);
        if (l <= 0)
            l = 1;
        char f = fold_char(uc);
        if (f) {
            t->fold[k] = f;
            t->off[k] = i;
            k++;
        }
        i += (size_t)l;
    }
    t->fold[k] = '\0';
    t->off[k] = len;
    t->nfold = k;
    return 0;
}

void vn_text_free(vn_text *t)
{
    free(t->text);
    free(t->fold);
    free(t->off);
    memset(t, 0, sizeof *t);
}

char *vn_fold(const char *s)
{
    vn_text t;
    if (vn_text_init(&t, s) != 0)
        return NULL;
    char *f = t.fold;
    t.fold = NULL;
    vn_text_free(&t);
    return f;
}

typedef uint8_t *(*casemap_fn)(const uint8_t *, size_t, const char *, uninorm_t, uint8_t *,
                               size_t *);

static char *casemap(const char *s, casemap_fn fn)
{
    size_t n = strlen(s), on = 0;
    uint8_t *o = fn((const uint8_t *)s, n, NULL, UNINORM_NFC, NULL, &on);
    if (!o && n)
        return NULL;
    return terminated(o, on);
}

char *vn_upper(const char *s) { return casemap(s, u8_toupper); }
char *vn_lower(const char *s) { return casemap(s, u8_tolower); }

char *vn_title(const char *s)
{
    char *low = vn_lower(s);
    if (!low)
        return NULL;
    char *t = casemap(low, u8_totitle);
    free(low);
    return t;
}

void vn_case_count(const char *s, vn_case_stats *st)
{
    memset(st, 0, sizeof *st);
    size_t len = strlen(s);
    const uint8_t *p = (const uint8_t *)s;
    bool in_word = false;
    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int l = u8_mbtouc(&uc, p + i, len - i);
        if (l <= 0)
            l = 1;
        i += (size_t)l;
        if (is_mark(uc))
            continue;
        if (!uc_is_alpha(uc)) {
            in_word = uc == '\'' ? in_word : false;
            continue;
        }
        st->letters++;
        bool up = uc_is_upper(uc), lo = uc_is_lower(uc);
        st->upper += up;
        st->lower += lo;
        if (uc >= 0x80)
            st->marked++;
        if (!in_word) {
            st->words++;
            st->words_capitalised += up;
            in_word = true;
        }
    }
}

float vn_upper_share(const char *s)
{
    vn_case_stats st;
    vn_case_count(s, &st);
    return st.letters ? (float)st.upper / (float)st.letters : 0.0f;
}

int vn_edit_distance(const char *a, const char *b, int cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return strcmp(a, b) == 0 ? 0 : cap + 1;
    if ((int)(la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    int prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int c = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < c)
                c = prev[j] + 1;
            if (cur[j - 1] + 1 < c)
                c = cur[j - 1] + 1;
            cur[j] = c;
            if (c < best)
                best = c;
        }
        if (best > cap)
            return cap + 1;
        memcpy(prev, cur, (lb + 1) * sizeof *cur);
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

bool vn_fold_like(const char *fold, const char *want)
{
    if (strcmp(fold, want) == 0)
        return true;
    if (strlen(want) < 5)
        return false;
    return vn_edit_distance(fold, want, 1) <= 1;
}

size_t vn_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}
