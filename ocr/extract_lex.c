/* extract_lex.c — see extract_lex.h. */
#include "extract_lex.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vntext.h"

/* Nghị định 30/2020 Phụ lục III (State abbreviations, standards §5) and
 * Hướng dẫn 36-HD/VPTW (Party: QĐ is both Quyết định and Quy định, also
 * QĐi; TT is Thông tri; CV is Công văn). */
const doc_type lex_types[] = {
    {"Nghị quyết", "NQ", "NQ"},
    {"Quyết định", "QĐ", "QĐ"},
    {"Quy định", "QyĐ", "QĐ"},
    {"Chỉ thị", "CT", "CT"},
    {"Quy chế", "QC", "QC"},
    {"Thông cáo", "TC", "TC"},
    {"Thông báo", "TB", "TB"},
    {"Hướng dẫn", "HD", "HD"},
    {"Chương trình", "CTr", "CTr"},
    {"Kế hoạch", "KH", "KH"},
    {"Phương án", "PA", "PA"},
    {"Đề án", "ĐA", "ĐA"},
    {"Dự án", "DA", NULL},
    {"Báo cáo", "BC", "BC"},
    {"Biên bản", "BB", "BB"},
    {"Tờ trình", "TTr", "TTr"},
    {"Hợp đồng", "HĐ", NULL},
    {"Công điện", "CĐ", "CĐ"},
    {"Bản ghi nhớ", "GN", NULL},
    {"Bản thỏa thuận", "TTh", NULL},
    {"Giấy ủy quyền", "GUQ", NULL},
    {"Giấy mời", "GM", "GM"},
    {"Giấy giới thiệu", "GGT", "GGT"},
    {"Giấy nghỉ phép", "NP", NULL},
    {"Phiếu gửi", "PG", NULL},
    {"Phiếu chuyển", "PC", NULL},
    {"Phiếu báo", "PB", NULL},
    {"Nghị định", "NĐ", NULL},
    {"Thông tư liên tịch", "TTLT", NULL},
    {"Thông tư", "TT", NULL},
    {"Kết luận", NULL, "KL"},
    {"Thông tri", NULL, "TT"},
    {"Quy định", NULL, "QĐi"},
    {"Luật", NULL, NULL},
    {"Pháp lệnh", "PL", NULL},
    {"Lệnh", NULL, NULL},
    {"Công văn", NULL, "CV"},
};
const size_t lex_ntypes = sizeof lex_types / sizeof lex_types[0];

/* Letters only, folded ("QUYẾT ĐỊNH" → "quyetdinh"). */
static char *squeeze(const char *s)
{
    char *f = vn_fold(s);
    if (!f)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; f[i]; i++)
        if (isalpha((unsigned char)f[i]))
            f[k++] = f[i];
    f[k] = '\0';
    return f;
}

int lex_type_by_title(const char *title, int *dist)
{
    char *t = squeeze(title);
    int best = -1, best_d = 99;
    bool tie = false;
    if (!t)
        return -1;
    size_t tl = strlen(t);
    for (size_t i = 0; i < lex_ntypes && tl >= 3; i++) {
        char *n = squeeze(lex_types[i].name);
        if (!n)
            break;
        int cap = (int)strlen(n) / 6;
        int d = vn_edit_distance(t, n, cap);
        if (d <= cap) {
            if (d < best_d) {
                best = (int)i;
                best_d = d;
                tie = false;
            } else if (d == best_d && strcmp(lex_types[i].name, lex_types[best].name) != 0)
                tie = true;
        }
        free(n);
    }
    free(t);
    if (dist)
        *dist = best_d;
    return tie ? -1 : best;
}

int lex_type_by_code(const char *code, bool party, bool *ambiguous)
{
    char *f = vn_fold(code);
    int exact = -1, folded = -1, nfold = 0;
    if (!f)
        return -1;
    for (size_t i = 0; i < lex_ntypes; i++) {
        const char *c = party ? lex_types[i].party_code : lex_types[i].state_code;
        if (!c)
            continue;
        char *cf = vn_fold(c);
        if (!cf)
            break;
        if (strcmp(cf, f) == 0) {
            if (folded < 0 || strcmp(lex_types[folded].name, lex_types[i].name) != 0)
                nfold++;
            folded = folded < 0 ? (int)i : folded;
            if (strcmp(c, code) == 0 && exact < 0)
                exact = (int)i;
        }
        free(cf);
    }
    free(f);
    if (ambiguous)
        *ambiguous = nfold > 1;
    return exact >= 0 ? exact : folded;
}

const char *lex_code_spelling(const char *code, bool party)
{
    bool amb = false;
    int t = lex_type_by_code(code, party, &amb);
    if (t < 0 || amb)
        return NULL;
    return party ? lex_types[t].party_code : lex_types[t].state_code;
}

/* Provinces (63 before 2025, and Huế), in their dictionary spelling. */
static const char *const provinces[] = {
    "An Giang", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh", "Bến Tre",
    "Bình Dương", "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Cần Thơ",
    "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai",
    "Hà Giang", "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang",
    "Hòa Bình", "Hồ Chí Minh", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu",
    "Lạng Sơn", "Lào Cai", "Lâm Đồng", "Long An", "Nam Định", "Nghệ An", "Ninh Bình",
    "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh",
    "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên", "Thanh Hóa",
    "Thừa Thiên Huế", "Huế", "Tiền Giang", "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc",
    "Yên Bái",
};

/* The centrally-run cities among them (their committee is a "thành phố"
 * one). */
static bool central_city(const char *province)
{
    static const char *const cities[] = {"Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng",
                                         "Cần Thơ", "Huế"};
    for (size_t i = 0; i < sizeof cities / sizeof cities[0]; i++)
        if (strcmp(cities[i], province) == 0)
            return true;
    return false;
}

/* Names printed in headers, in their dictionary spelling, besides the
 * provinces: bodies; signer titles; common header words. */
static const char *const names[] = {
    /* bodies and header words */
    "Ủy ban nhân dân", "UBND", "Hội đồng nhân dân", "HĐND", "Ủy ban kiểm tra", "Văn phòng",
    "Tỉnh ủy", "Thành ủy", "Huyện ủy", "Đảng bộ", "Đảng ủy", "Ban Tuyên giáo", "Ban Tổ chức",
    "Ban Dân vận", "Ban Nội chính", "Ban Thường vụ", "Chính phủ", "Kho bạc Nhà nước",
    "Thanh tra", "Công an", "Cục Thuế", "Tỉnh", "Thành phố", "Huyện", "Quận", "Thị xã",
    "Phường", "Ủy ban", "Mặt trận Tổ quốc", "Cộng hòa xã hội chủ nghĩa Việt Nam",
    "Đảng Cộng sản Việt Nam", "Trung tâm", "Chi cục", "Tổng cục", "Ban Quản lý",
    "Ban Dân tộc",
    /* common words that fold like a name above ("CƠ QUAN" is no "QUẬN",
     * "ĐỊA PHƯƠNG" no "PHƯỜNG"): matched first, as longer phrases */
    "Cơ quan", "Địa phương", "Khối các cơ quan", "Quản lý",
    /* signer titles */
    "Chủ tịch", "Phó Chủ tịch", "Giám đốc", "Phó Giám đốc", "Bộ trưởng", "Thứ trưởng",
    "Chánh Văn phòng", "Phó Chánh Văn phòng", "Chủ nhiệm", "Phó Chủ nhiệm", "Bí thư",
    "Phó Bí thư", "Trưởng ban", "Phó Trưởng ban", "Cục trưởng", "Phó Cục trưởng",
    "Vụ trưởng", "Chánh Thanh tra", "Tổng Giám đốc", "Trưởng phòng", "Hiệu trưởng",
    "Viện trưởng", "Thủ trưởng",
};

/* Sectors: "Sở <x>" and "Bộ <x>" are generated, so that "SỞY TẾ" (a space
 * lost by OCR) still folds onto "Sở Y tế". */
static const char *const sectors[] = {
    "Nội vụ", "Tư pháp", "Tài chính", "Công Thương", "Xây dựng", "Y tế", "Ngoại vụ",
    "Kế hoạch và Đầu tư", "Giao thông vận tải", "Tài nguyên và Môi trường",
    "Lao động - Thương binh và Xã hội", "Văn hóa, Thể thao và Du lịch",
    "Văn hóa và Thể thao", "Khoa học và Công nghệ", "Giáo dục và Đào tạo",
    "Thông tin và Truyền thông", "Nông nghiệp và Phát triển nông thôn",
    "Nông nghiệp và Môi trường", "Dân tộc và Tôn giáo", "Công an", "Quốc phòng",
    "Ngoại giao", "Dân tộc",
};
static const char *const sector_heads[] = {"Sở", "Bộ"};

/* Squeezed fold of a source text with, for each kept char, the byte range
 * of its code point and whether it starts / ends a word. */
typedef struct sq {
    char *s;
    size_t *b0, *b1;
    bool *wstart, *wend;
    size_t n;
} sq;

static void sq_free(sq *q)
{
    free(q->s);
    free(q->b0);
    free(q->b1);
    free(q->wstart);
    free(q->wend);
}

static int sq_build(sq *q, const vn_text *t)
{
    size_t n = t->nfold + 1;
    memset(q, 0, sizeof *q);
    q->s = malloc(n);
    q->b0 = malloc(n * sizeof *q->b0);
    q->b1 = malloc(n * sizeof *q->b1);
    q->wstart = calloc(n, sizeof *q->wstart);
    q->wend = calloc(n, sizeof *q->wend);
    if (!q->s || !q->b0 || !q->b1 || !q->wstart || !q->wend) {
        sq_free(q);
        return -1;
    }
    for (size_t i = 0; i < t->nfold; i++) {
        char c = t->fold[i];
        if (!isalnum((unsigned char)c))
            continue;
        bool start = i == 0 || !isalnum((unsigned char)t->fold[i - 1]);
        bool end = i + 1 >= t->nfold || !isalnum((unsigned char)t->fold[i + 1]);
        /* "LJ" is OCR for "U" (Vietnamese has no J) */
        if (c == 'l' && i + 1 < t->nfold && t->fold[i + 1] == 'j') {
            end = i + 2 >= t->nfold || !isalnum((unsigned char)t->fold[i + 2]);
            q->s[q->n] = 'u';
            q->b0[q->n] = t->off[i];
            q->b1[q->n] = t->off[i + 2];
            q->wstart[q->n] = start;
            q->wend[q->n] = end;
            q->n++;
            i++;
            continue;
        }
        q->s[q->n] = c;
        q->b0[q->n] = t->off[i];
        q->b1[q->n] = t->off[i + 1];
        q->wstart[q->n] = start;
        q->wend[q->n] = end;
        q->n++;
    }
    q->s[q->n] = '\0';
    return 0;
}

/* A name of the vocabulary with its squeezed fold, the form it is looked
 * for in (spaces, marks and case aside). */
typedef struct cand {
    char text[96];
    size_t len;
    char sq[96];
    size_t sqlen;
} cand;

typedef struct repl {
    size_t q0, q1; /* squeezed range [q0, q1) */
    char phrase[96];
} repl;

/* Finds name `k` at word boundaries in q not covered yet; records it. */
static void try_phrase(const sq *q, const cand *k, bool *covered, repl *r, size_t *nr, size_t cap)
{
    size_t pl = k->sqlen;
    if (pl < 2)
        return;
    const char *at = q->s;
    while ((at = strstr(at, k->sq)) != NULL && *nr < cap) {
        size_t q0 = (size_t)(at - q->s), q1 = q0 + pl;
        bool free_range = true;
        for (size_t j = q0; j < q1; j++)
            free_range = free_range && !covered[j];
        if (free_range && q->wstart[q0] && q->wend[q1 - 1]) {
            for (size_t j = q0; j < q1; j++)
                covered[j] = true;
            r[*nr].q0 = q0;
            r[*nr].q1 = q1;
            strcpy(r[*nr].phrase, k->text);
            (*nr)++;
        }
        at += 1;
    }
}

static int cmp_repl(const void *a, const void *b)
{
    const repl *x = a, *y = b;
    return (x->q0 > y->q0) - (x->q0 < y->q0);
}

/* Names longest first, so "Phó Giám đốc" wins over "Giám đốc". */
static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return (x->len < y->len) - (x->len > y->len);
}

/* Appends the name made of `a`, `b` and `d` (NULLs left out), spaced. */
static void add_name(cand *c, size_t *n, size_t cap, const char *a, const char *b, const char *d)
{
    if (*n >= cap)
        return;
    cand *k = &c[*n];
    snprintf(k->text, sizeof k->text, "%s%s%s%s%s", a, b ? " " : "", b ? b : "", d ? " " : "",
             d ? d : "");
    k->len = strlen(k->text);
    char *folded = squeeze(k->text);
    snprintf(k->sq, sizeof k->sq, "%s", folded ? folded : "");
    k->sqlen = strlen(k->sq);
    free(folded);
    (*n)++;
}

#define NPROV (sizeof provinces / sizeof provinces[0])
#define NSECT (sizeof sectors / sizeof sectors[0])

static size_t all_phrases(cand *c, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < NPROV; i++)
        add_name(c, &n, cap, provinces[i], NULL, NULL);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        add_name(c, &n, cap, names[i], NULL, NULL);
    for (size_t h = 0; h < 2; h++)
        for (size_t i = 0; i < NSECT; i++)
            add_name(c, &n, cap, sector_heads[h], sectors[i], NULL);
    for (size_t i = 0; i < NSECT; i++)
        add_name(c, &n, cap, sectors[i], NULL, NULL);
    /* a Party committee's line names its province ("TỈNH ỦY HẬU GIANG"):
     * whole, the line is long enough to be known with a letter misread
     * ("ĐÌNH ỦY HẬU GIANG"), where "TỈNH ỦY" alone is not; so does the
     * province's People's Committee, a department's superior ("UBNI)
     * TỈNH YÊN BÁI", "AJV BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"), its level a
     * city's for the centrally-run ones */
    static const char *const committees[] = {"Tỉnh ủy", "Thành ủy"};
    static const char *const people[] = {"UBND", "Ủy ban nhân dân"};
    for (size_t i = 0; i < NPROV; i++)
        for (size_t h = 0; h < 2; h++) {
            add_name(c, &n, cap, committees[h], provinces[i], NULL);
            add_name(c, &n, cap, people[h], central_city(provinces[i]) ? "thành phố" : "tỉnh",
                     provinces[i]);
        }
    qsort(c, n, sizeof *c, cmp_cand);
    return n;
}

/* The vocabulary, built once per process (some 460 names, their folds
 * squeezed, about 100 KB): every header line, place and name is repaired
 * against it. Out of memory building it, repairs report out of memory. */
#define VOCAB_CAP 1024
static cand *vocab;
static size_t nvocab;
static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;

static void vocab_build(void)
{
    vocab = malloc(VOCAB_CAP * sizeof *vocab);
    nvocab = vocab ? all_phrases(vocab, VOCAB_CAP) : 0;
    cand *fit = nvocab ? realloc(vocab, nvocab * sizeof *vocab) : NULL;
    if (fit)
        vocab = fit;
}

/* Letters a name may be misread by and still be recognised: one OCR
 * error in this many letters, and no name shorter (a short one is too
 * near its neighbours: "Hà Nam", "Hà Nội"). */
#define LOOSE_LETTERS_PER_ERROR 8

/* The loose pass of lex_repair_loose(): the run of whole words that
 * starts the text, not covered yet, whose letters are within
 * LOOSE_LETTERS_PER_ERROR of exactly one name's ("ÓÝ BAN NHÂN DÂN",
 * "SỞ?ÉƯ PHÁP") is recorded for that name, in place of the names found
 * whole within it; a tie between names names none. Only at the start: a line of a header starts with a name, while
 * inside a line a piece of a longer one broken over lines is near some
 * other name ("ĐỘNG - THƯƠNG" of "SỞ LAO ĐỘNG - THƯƠNG / BINH VÀ XÃ HỘI"
 * is one letter from "CÔNG THƯƠNG"). */
static void try_near(const sq *q, const cand *c, size_t nc, bool *covered, repl *r, size_t *nr,
                     size_t cap)
{
    if (q->n == 0 || covered[0] || *nr >= cap)
        return;
    char window[128];
    int best_d = 99;
    size_t best_end = 0;
    const char *best = NULL;
    bool tie = false;
    for (size_t end = 1; end <= q->n && end < sizeof window; end++) {
        /* the window may take in names found whole after the misread
         * start ("ĐÌNH ỦY | HẬU GIANG"), never a part of one */
        bool splits = false;
        for (size_t k = 0; k < *nr; k++)
            splits |= r[k].q0 < end && end < r[k].q1;
        if (!q->wend[end - 1] || splits)
            continue;
        memcpy(window, q->s, end);
        window[end] = '\0';
        for (size_t i = 0; i < nc; i++) {
            size_t pl = c[i].sqlen;
            int allowed = (int)(pl / LOOSE_LETTERS_PER_ERROR);
            if (allowed == 0 || end + 1 < pl || end > pl + 1)
                continue;
            int d = vn_edit_distance(window, c[i].sq, allowed);
            if (d <= allowed && d < best_d) {
                best_d = d;
                best = c[i].text;
                best_end = end;
                tie = false;
            } else if (d <= allowed && d == best_d && strcmp(best, c[i].text) != 0)
                tie = true;
        }
    }
    if (!best || tie || best_d == 0 || strlen(best) >= sizeof r[0].phrase)
        return;
    for (size_t k = 0; k < best_end; k++)
        covered[k] = true;
    size_t kept = 0;
    for (size_t k = 0; k < *nr; k++)
        if (r[k].q1 > best_end)
            r[kept++] = r[k];
    *nr = kept;
    r[*nr].q0 = 0;
    r[*nr].q1 = best_end;
    strcpy(r[*nr].phrase, best);
    (*nr)++;
}

/* Names the OCR ran together ("TỈNHLẠNG SƠN", "UBNDTỈNHTRÀ VINH"): a
 * run from a word's start to a word's end, not covered yet, that is two
 * or more names back to back, at least one of them starting inside a
 * word, is recorded name by name; the writer puts the spaces back. The
 * longest name that fits is taken at each step. */
#define GLUED_MAX 6
static void try_glued(const sq *q, const cand *c, size_t nc, bool *covered, repl *r, size_t *nr,
                      size_t cap)
{
    for (size_t from = 0; from < q->n; from++) {
        if (!q->wstart[from] || covered[from])
            continue;
        size_t at = from, parts = 0, pick[GLUED_MAX], ends[GLUED_MAX];
        bool glued = false, whole = false;
        while (parts < GLUED_MAX && !whole) {
            size_t best = nc, best_len = 0;
            for (size_t i = 0; i < nc; i++) {
                size_t pl = c[i].sqlen;
                if (pl > best_len && at + pl <= q->n && strncmp(q->s + at, c[i].sq, pl) == 0) {
                    best = i;
                    best_len = pl;
                }
            }
            bool free_range = best < nc;
            for (size_t k = at; free_range && k < at + best_len; k++)
                free_range = !covered[k];
            if (!free_range)
                break;
            glued |= parts > 0 && !q->wstart[at];
            pick[parts] = best;
            at += best_len;
            ends[parts++] = at;
            whole = q->wend[at - 1];
        }
        if (!whole || !glued || parts < 2 || *nr + parts > cap)
            continue;
        for (size_t k = 0, start = from; k < parts; start = ends[k++]) {
            for (size_t j = start; j < ends[k]; j++)
                covered[j] = true;
            r[*nr].q0 = start;
            r[*nr].q1 = ends[k];
            strcpy(r[*nr].phrase, c[pick[k]].text);
            (*nr)++;
        }
        from = at - 1;
    }
}

static char *repair(const char *text, bool loose, int *changed)
{
    vn_text t;
    sq q;
    if (changed)
        *changed = 0;
    if (vn_text_init(&t, text) != 0)
        return NULL;
    if (sq_build(&q, &t) != 0) {
        vn_text_free(&t);
        return NULL;
    }
    pthread_once(&vocab_once, vocab_build);
    const cand *c = vocab;
    bool *covered = calloc(q.n + 1, sizeof *covered);
    repl *r = malloc(32 * sizeof *r);
    size_t len = strlen(t.text), nr = 0;
    char *out = NULL;
    if (!c || !covered || !r)
        goto done;
    for (size_t i = 0; i < nvocab; i++)
        try_phrase(&q, &c[i], covered, r, &nr, 32);
    try_glued(&q, c, nvocab, covered, r, &nr, 32);
    if (loose)
        try_near(&q, c, nvocab, covered, r, &nr, 32);
    qsort(r, nr, sizeof *r, cmp_repl);
    size_t cap = len + 1;
    for (size_t i = 0; i < nr; i++)
        cap += strlen(r[i].phrase) * 2 + 2;
    out = malloc(cap);
    if (!out)
        goto done;
    size_t k = 0, pos = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t b0 = q.b0[r[i].q0], b1 = q.b1[r[i].q1 - 1];
        memcpy(out + k, t.text + pos, b0 - pos);
        k += b0 - pos;
        /* names run together (try_glued) are apart again */
        if (i > 0 && b0 == pos && r[i - 1].q1 == r[i].q0)
            out[k++] = ' ';
        char *orig = strndup(t.text + b0, b1 - b0);
        bool upper = orig && vn_upper_share(orig) >= 0.7f;
        char *rep = upper ? vn_upper(r[i].phrase) : strdup(r[i].phrase);
        const char *use = rep ? rep : (orig ? orig : "");
        if (changed && orig && strcmp(use, orig) != 0)
            (*changed)++;
        size_t ul = strlen(use);
        memcpy(out + k, use, ul);
        k += ul;
        free(rep);
        free(orig);
        pos = b1;
    }
    memcpy(out + k, t.text + pos, len - pos);
    k += len - pos;
    out[k] = '\0';
done:
    free(covered);
    free(r);
    sq_free(&q);
    vn_text_free(&t);
    return out;
}

/* Organisation head nouns (folded), longest first where one is a prefix
 * of another. */
static const char *const heads[] = {
    "uy ban", "ubnd", "hdnd", "hoi dong", "so", "ban", "phong", "van phong", "cuc", "chi cuc",
    "tong cuc", "vu", "vien", "trung tam", "truong", "benh vien", "bo", "cong an", "kho bac",
    "thanh tra", "toa an", "cong ty", "tap doan", "dai", "hoc vien", "dang uy", "dang bo",
    "tinh uy", "thanh uy", "huyen uy", "quan uy", "thi uy", "chi bo", "mat tran", "doan",
    "hoi", "lien doan", "quy", "ngan hang", "chinh phu", "quoc hoi", "bao hiem", "chi nhanh",
    "doi", "bch", "bo chi huy",
};

bool lex_starts_body(const char *fold)
{
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        size_t l = strlen(heads[i]);
        if (strncmp(fold, heads[i], l) == 0 && (fold[l] == '\0' || fold[l] == ' '))
            return true;
    }
    return false;
}

bool lex_near_province(const char *place)
{
    char *f = vn_fold(place);
    bool near = false, exact = false;
    for (size_t i = 0; f && i < sizeof provinces / sizeof provinces[0] && !exact; i++) {
        char *g = vn_fold(provinces[i]);
        if (g) {
            int len = (int)strlen(g), cap = len / 4 > 1 ? len / 4 : 1;
            int d = vn_edit_distance(f, g, cap);
            size_t fl = strlen(f);
            exact = d == 0;
            near |= d > 0 && d <= cap;
            /* its first words only ("Lai" of Lai Châu) */
            near |= strncmp(g, f, fl) == 0 && g[fl] == ' ';
        }
        free(g);
    }
    free(f);
    return near && !exact;
}

/* `s` without its spaces (a malloc'd fold). */
static char *fold_unspaced(const char *s)
{
    char *f = vn_fold(s);
    if (!f)
        return NULL;
    size_t n = 0;
    for (const char *p = f; *p; p++)
        if (*p != ' ')
            f[n++] = *p;
    f[n] = '\0';
    return f;
}

char *lex_province_named(const char *text)
{
    char *f = fold_unspaced(text);
    if (!f)
        return NULL;
    /* a centrally-run city keeps its "Thành phố" */
    bool city = strncmp(f, "thanhpho", 8) == 0;
    const char *rest = city ? f + 8 : f;
    char *out = NULL;
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0] && !out; i++) {
        char *g = fold_unspaced(provinces[i]);
        if (g && strcmp(g, rest) == 0) {
            size_t n = strlen(provinces[i]) + sizeof "Thành phố ";
            out = malloc(n);
            if (out)
                snprintf(out, n, "%s%s", city ? "Thành phố " : "", provinces[i]);
        }
        free(g);
    }
    free(f);
    return out;
}

char *lex_province_ending(const char *text)
{
    char *best = NULL;
    /* the longest tail that names one: "THÀNH PHỐ HỒ CHÍ MINH" over "HỒ
     * CHÍ MINH"; no name is longer than six words */
    const char *p = text + strlen(text);
    for (int words = 0; p > text && words < 6;) {
        while (p > text && p[-1] == ' ')
            p--;
        while (p > text && p[-1] != ' ')
            p--;
        words++;
        char *name = lex_province_named(p);
        if (name) {
            free(best);
            best = name;
        }
    }
    return best;
}

/* Whether `f` is `g` with its first letter lost or misread. Unspaced
 * folds. */
static bool first_letter_off(const char *f, const char *g)
{
    size_t fl = strlen(f), gl = strlen(g);
    if (gl < 6)
        return false;
    return (fl + 1 == gl && strcmp(f, g + 1) == 0) ||
           (fl == gl && f[0] != g[0] && strcmp(f + 1, g + 1) == 0);
}

char *lex_province_named_loosely(const char *text, bool *several)
{
    char *f = fold_unspaced(text);
    if (!f)
        return NULL;
    const char *found = NULL;
    bool city = false;
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0] && !*several; i++) {
        char *g = fold_unspaced(provinces[i]);
        char cg[96];
        snprintf(cg, sizeof cg, "thanhpho%s", g ? g : "");
        bool plain = g && first_letter_off(f, g), as_city = g && first_letter_off(f, cg);
        if (plain || as_city) {
            *several = found != NULL;
            found = provinces[i];
            city = as_city;
        }
        free(g);
    }
    free(f);
    if (!found || *several)
        return NULL;
    size_t n = strlen(found) + sizeof "Thành phố ";
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s", city ? "Thành phố " : "", found);
    return out;
}

/* Whether the words of `tail` are those of `full` but one, in order: the
 * last ones missing ("cong" of "cong thuong"), or one inside ("lao dong
 * - thuong va xa hoi"). Folds, single spaces. */
static bool words_short_of(const char *tail, const char *full)
{
    size_t tl = strlen(tail), fl = strlen(full);
    if (tl >= fl || tl == 0)
        return false;
    /* the start of `full` up to a word's end */
    if (strncmp(full, tail, tl) == 0 && full[tl] == ' ')
        return true;
    /* one word of `full` left out */
    for (const char *w = full; w && *w;) {
        const char *end = strchr(w, ' ');
        size_t wl = end ? (size_t)(end - w) : strlen(w);
        size_t before = (size_t)(w - full);
        const char *after = end ? end + 1 : w + wl;
        if (strncmp(full, tail, before) == 0 && strcmp(tail + before, after) == 0)
            return true;
        w = end ? end + 1 : NULL;
    }
    return false;
}

#define NAME_WORDS 16
#define NAME_WORD_LEN 48

/* The words of `s` that hold a letter ("-" and "," dropped), printed in
 * `printed` and folded to their letters in `folded`. */
static size_t name_words(const char *s, char printed[][NAME_WORD_LEN],
                         char folded[][NAME_WORD_LEN], size_t cap)
{
    size_t n = 0;
    for (const char *p = s; *p && n < cap;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len && len < NAME_WORD_LEN) {
            memcpy(printed[n], p, len);
            printed[n][len] = '\0';
            char *f = vn_fold(printed[n]);
            size_t k = 0;
            for (size_t i = 0; f && f[i] && k + 1 < NAME_WORD_LEN; i++)
                if (isalpha((unsigned char)f[i]))
                    folded[n][k++] = f[i];
            folded[n][k] = '\0';
            free(f);
            if (k)
                n++;
        }
        p += len;
    }
    return n;
}

/* Whether `frag` is how the start of `word` reads: a prefix of it, one
 * letter misread when three or more are given. Folds. */
static bool starts_like(const char *frag, const char *word)
{
    size_t fl = strlen(frag), miss = 0;
    if (fl == 0 || fl > strlen(word))
        return false;
    for (size_t i = 0; i < fl; i++)
        miss += frag[i] != word[i];
    return miss == 0 || (miss == 1 && fl >= 3);
}

/* Checks one name of the lexicon against the line's words: when the
 * name's first words are the line's last two or more, and its next word
 * starts like `frag`, that word is a candidate. Counts distinct ones. */
static void complete_with(const char *name, char lw[][NAME_WORD_LEN], size_t nl, const char *frag,
                          char *best, size_t *found)
{
    char pw[NAME_WORDS][NAME_WORD_LEN], fw[NAME_WORDS][NAME_WORD_LEN];
    size_t nn = name_words(name, pw, fw, NAME_WORDS);
    for (size_t from = 0; from + 2 <= nl; from++) {
        size_t len = nl - from;
        if (len >= nn)
            continue;
        bool same = true;
        for (size_t i = 0; i < len && same; i++)
            same = strcmp(lw[from + i], fw[i]) == 0;
        if (!same || !starts_like(frag, fw[len]))
            continue;
        char *f = vn_fold(best);
        char *g = vn_fold(pw[len]);
        if (*found == 0 || (f && g && strcmp(f, g) != 0)) {
            if (*found == 0)
                snprintf(best, NAME_WORD_LEN, "%s", pw[len]);
            (*found)++;
        }
        free(f);
        free(g);
    }
}

char *lex_complete_name(const char *line, const char *frag)
{
    char pw[NAME_WORDS][NAME_WORD_LEN], lw[NAME_WORDS][NAME_WORD_LEN];
    size_t nl = name_words(line, pw, lw, NAME_WORDS);
    if (nl < 2 || !frag || !frag[0])
        return NULL;
    char best[NAME_WORD_LEN] = "";
    size_t found = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        complete_with(names[i], lw, nl, frag, best, &found);
    for (size_t h = 0; h < sizeof sector_heads / sizeof sector_heads[0]; h++)
        for (size_t i = 0; i < sizeof sectors / sizeof sectors[0]; i++) {
            char name[128];
            snprintf(name, sizeof name, "%s %s", sector_heads[h], sectors[i]);
            complete_with(name, lw, nl, frag, best, &found);
        }
    if (found != 1)
        return NULL;
    return vn_upper(best);
}

bool lex_sector_short(const char *issuer)
{
    char *f = vn_fold(issuer);
    bool short_of = false;
    for (size_t h = 0; f && h < sizeof sector_heads / sizeof sector_heads[0] && !short_of; h++) {
        char *head = vn_fold(sector_heads[h]);
        size_t hl = head ? strlen(head) : 0;
        if (head && strncmp(f, head, hl) == 0 && f[hl] == ' ')
            for (size_t i = 0; i < sizeof sectors / sizeof sectors[0] && !short_of; i++) {
                char *g = vn_fold(sectors[i]);
                short_of = g && words_short_of(f + hl + 1, g);
                for (size_t k = 0; g && k < sizeof sectors / sizeof sectors[0]; k++) {
                    char *e = vn_fold(sectors[k]);
                    if (e && strcmp(e, f + hl + 1) == 0)
                        short_of = false; /* a sector's own name ("Dân tộc") */
                    free(e);
                }
                free(g);
            }
        free(head);
    }
    free(f);
    return short_of;
}

char *lex_repair(const char *text, int *changed)
{
    return repair(text, false, changed);
}

char *lex_repair_loose(const char *text, int *changed)
{
    return repair(text, true, changed);
}
