/* layout.c — see layout.h. */
#include "layout.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vntext.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Median of n ints (sorts a copy); 0 when n == 0 or on ENOMEM. */
static int median(const int *v, size_t n)
{
    if (n == 0)
        return 0;
    int *c = malloc(n * sizeof *c);
    if (!c)
        return v[0];
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_int);
    int m = c[n / 2];
    free(c);
    return m;
}

static int box_h(const ocr_box *b) { return b->y1 - b->y0; }
static int box_cy(const ocr_box *b) { return (b->y0 + b->y1) / 2; }

/* A word with no letter or digit is a rule, a border or a speck, except a
 * lone hyphen or slash, which belongs to names ("LAO ĐỘNG - THƯƠNG BINH")
 * and periods ("2021 - 2025"). */
static bool is_noise_text(const char *fold)
{
    bool alnum = false;
    for (const char *p = fold; *p; p++)
        if (isalnum((unsigned char)*p))
            alnum = true;
    if (alnum)
        return false;
    return !(strcmp(fold, "-") == 0 || strcmp(fold, "/") == 0 || strcmp(fold, "*") == 0);
}

static int init_words(page_layout *pl, const ocr_page_text *pt)
{
    pl->words = calloc(pt->nwords ? pt->nwords : 1, sizeof *pl->words);
    if (!pl->words)
        return -1;
    int maxx = 0, maxy = 0;
    for (size_t i = 0; i < pt->nwords; i++) {
        const ocr_word *w = &pt->words[i];
        lay_word *lw = &pl->words[pl->nwords];
        lw->src = w;
        lw->box = w->box;
        if (lw->box.x1 < lw->box.x0)
            lw->box.x1 = lw->box.x0;
        if (lw->box.y1 <= lw->box.y0)
            lw->box.y1 = lw->box.y0 + 1;
        lw->conf = w->conf < 0 ? 0 : w->conf > 1 ? 1 : w->conf;
        lw->red = w->red < 0 ? 0 : w->red > 1 ? 1 : w->red;
        vn_text t;
        if (vn_text_init(&t, w->text ? w->text : "") != 0)
            return -1;
        lw->text = t.text;
        lw->fold = t.fold;
        free(t.off);
        lw->noise = lw->fold[0] == '\0' || is_noise_text(lw->fold);
        if (lw->box.x1 > maxx)
            maxx = lw->box.x1;
        if (lw->box.y1 > maxy)
            maxy = lw->box.y1;
        pl->nwords++;
    }
    pl->width = pt->width > 0 ? pt->width : maxx;
    pl->height = pt->height > 0 ? pt->height : maxy;
    return 0;
}

/* Median height of real words; then words far taller than text (frame
 * borders, stamp outlines read as "|") are noise. */
static void mark_tall_noise(page_layout *pl)
{
    int *h = malloc((pl->nwords ? pl->nwords : 1) * sizeof *h);
    size_t n = 0;
    if (!h)
        return;
    for (size_t i = 0; i < pl->nwords; i++)
        if (!pl->words[i].noise)
            h[n++] = box_h(&pl->words[i].box);
    pl->line_h = median(h, n);
    free(h);
    if (pl->line_h <= 0)
        pl->line_h = 1;
    for (size_t i = 0; i < pl->nwords; i++) {
        lay_word *w = &pl->words[i];
        if (box_h(&w->box) > 4 * pl->line_h)
            w->noise = true;
    }
}

/* Word orders for qsort_r(): the layout is passed along, not kept in a
 * static (pages are laid out in parallel, one per worker thread). */
static int cmp_word_cy(const void *a, const void *b, void *ctx)
{
    const page_layout *pl = ctx;
    const lay_word *x = &pl->words[*(const size_t *)a];
    const lay_word *y = &pl->words[*(const size_t *)b];
    int cx = box_cy(&x->box), cy = box_cy(&y->box);
    if (cx != cy)
        return (cx > cy) - (cx < cy);
    return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
}

static int cmp_word_x(const void *a, const void *b, void *ctx)
{
    const page_layout *pl = ctx;
    const lay_word *x = &pl->words[*(const size_t *)a];
    const lay_word *y = &pl->words[*(const size_t *)b];
    return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
}

typedef struct row_acc {
    long sum_cy, sum_h;
    size_t cap;
} row_acc;

static int row_push(lay_row *r, row_acc *a, size_t wi, const lay_word *w)
{
    if (r->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 8;
        size_t *p = realloc(r->w, nc * sizeof *p);
        if (!p)
            return -1;
        r->w = p;
        a->cap = nc;
    }
    r->w[r->n++] = wi;
    a->sum_cy += box_cy(&w->box);
    a->sum_h += box_h(&w->box);
    return 0;
}

/* Groups words into rows: a word joins the recent row whose mean centre
 * line is within 0.45 of the mean height, else opens a row. Tiny marks
 * ("-") and tall handwriting centre on the same line as their neighbours. */
static int group_rows(page_layout *pl)
{
    size_t *order = malloc((pl->nwords ? pl->nwords : 1) * sizeof *order);
    row_acc *acc = calloc(pl->nwords ? pl->nwords : 1, sizeof *acc);
    pl->rows = calloc(pl->nwords ? pl->nwords : 1, sizeof *pl->rows);
    if (!order || !acc || !pl->rows) {
        free(order);
        free(acc);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < pl->nwords; i++)
        if (!pl->words[i].noise)
            order[n++] = i;
    qsort_r(order, n, sizeof *order, cmp_word_cy, pl);
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        const lay_word *w = &pl->words[order[k]];
        int cy = box_cy(&w->box);
        size_t best = (size_t)-1;
        long best_d = 0;
        for (size_t r = pl->nrows; r-- > 0 && pl->nrows - r <= 8;) {
            /* compare with the row's word nearest in x: a skewed line
             * drifts along its length, its mean does not tell */
            const lay_row *row = &pl->rows[r];
            const lay_word *near = NULL;
            long nd = 0;
            for (size_t j = 0; j < row->n; j++) {
                const lay_word *o = &pl->words[row->w[j]];
                long dx = o->box.x1 < w->box.x0 ? w->box.x0 - o->box.x1
                          : w->box.x1 < o->box.x0 ? o->box.x0 - w->box.x1 : 0;
                if (!near || dx < nd) {
                    near = o;
                    nd = dx;
                }
            }
            long mh = acc[r].sum_h / (long)row->n;
            long d = labs(cy - box_cy(&near->box));
            long lim = (mh < box_h(&w->box) ? mh : box_h(&w->box));
            if (lim < pl->line_h / 2)
                lim = pl->line_h / 2;
            /* far apart in x, allow the drift of a small skew only */
            if (nd > 6 * pl->line_h)
                lim = lim * 3 / 4;
            if (d * 100 <= lim * 55 && (best == (size_t)-1 || d < best_d)) {
                best = r;
                best_d = d;
            }
        }
        if (best == (size_t)-1)
            best = pl->nrows++;
        rc = row_push(&pl->rows[best], &acc[best], order[k], w);
    }
    free(order);
    free(acc);
    return rc;
}

static void finish_rows(page_layout *pl)
{
    for (size_t r = 0; r < pl->nrows; r++) {
        lay_row *row = &pl->rows[r];
        qsort_r(row->w, row->n, sizeof *row->w, cmp_word_x, pl);
        int h[64];
        size_t nh = 0;
        row->box = pl->words[row->w[0]].box;
        for (size_t j = 0; j < row->n; j++) {
            const ocr_box *b = &pl->words[row->w[j]].box;
            if (b->x0 < row->box.x0)
                row->box.x0 = b->x0;
            if (b->y0 < row->box.y0)
                row->box.y0 = b->y0;
            if (b->x1 > row->box.x1)
                row->box.x1 = b->x1;
            if (b->y1 > row->box.y1)
                row->box.y1 = b->y1;
            if (nh < 64 && strcmp(pl->words[row->w[j]].fold, "-") != 0)
                h[nh++] = box_h(b);
        }
        row->h = nh ? median(h, nh) : pl->line_h;
    }
}

/* The middle of row r's line: the median centre of its words. */
static int row_mid(const page_layout *pl, const lay_row *r)
{
    int cy[64];
    size_t n = 0;
    for (size_t j = 0; j < r->n && n < 64; j++)
        cy[n++] = box_cy(&pl->words[r->w[j]].box);
    return median(cy, n);
}

/* Whether the words of row a belong to row b's line, though grouped
 * apart: a stamp's frame or text taken into a word ("Châu," under the ĐẾN
 * stamp, read with a line of the stamp) makes it far taller than the
 * line, and its centre moves off; the stamp's wiping left a word only its
 * top ("TẾ" of "BỘ Y TẾ" read from its marks, a quarter of the line
 * high), centred off the line too. Each word of a (a few) is that tall and
 * spans b's middle, or is that small and centred within b's band, and
 * stands among b's words: no overlap with any, next to one. */
static bool rides_on(const page_layout *pl, const lay_row *a, const lay_row *b)
{
    if (a->n == 0 || a->n > 3 || b->n < 2)
        return false;
    int mid = row_mid(pl, b);
    for (size_t i = 0; i < a->n; i++) {
        const ocr_box *wa = &pl->words[a->w[i]].box;
        bool tall = box_h(wa) * 10 >= b->h * 14 && wa->y0 <= mid && wa->y1 >= mid;
        bool piece = box_h(wa) * 2 < b->h && box_cy(wa) >= b->box.y0 && box_cy(wa) <= b->box.y1;
        if (!tall && !piece)
            return false;
        int gap = -1;
        for (size_t j = 0; j < b->n; j++) {
            const ocr_box *wb = &pl->words[b->w[j]].box;
            int d = wb->x0 >= wa->x1 ? wb->x0 - wa->x1 : wa->x0 >= wb->x1 ? wa->x0 - wb->x1 : -1;
            if (d < 0)
                return false;
            if (gap < 0 || d < gap)
                gap = d;
        }
        if (gap > 2 * b->h)
            return false;
    }
    return true;
}

/* Moves the words of each row that rides on a neighbour's line into it,
 * in the page's top third only: the ĐẾN stamp is set on the header, while
 * a seal's rings over the signer block make tall words of another kind.
 * Returns 0 or -1 on ENOMEM. */
static int merge_riding_rows(page_layout *pl)
{
    bool merged = false;
    for (size_t a = 0; a < pl->nrows; a++) {
        lay_row *ra = &pl->rows[a];
        if (ra->box.y0 > pl->height / 3)
            break;
        for (size_t b = a > 3 ? a - 3 : 0; b < pl->nrows && b <= a + 3; b++) {
            lay_row *rb = &pl->rows[b];
            if (b == a || !rides_on(pl, ra, rb))
                continue;
            size_t *w = realloc(rb->w, (rb->n + ra->n) * sizeof *w);
            if (!w)
                return -1;
            memcpy(w + rb->n, ra->w, ra->n * sizeof *w);
            rb->w = w;
            rb->n += ra->n;
            ra->n = 0;
            merged = true;
            break;
        }
    }
    if (!merged)
        return 0;
    size_t k = 0;
    for (size_t r = 0; r < pl->nrows; r++) {
        if (pl->rows[r].n == 0) {
            free(pl->rows[r].w);
            continue;
        }
        pl->rows[k++] = pl->rows[r];
    }
    pl->nrows = k;
    finish_rows(pl);
    return 0;
}

/* Body margins: the 10th / 90th percentiles of the extents of long rows. */
static void find_margins(page_layout *pl)
{
    int *x0 = malloc((pl->nrows + 1) * sizeof *x0), *x1 = malloc((pl->nrows + 1) * sizeof *x1);
    size_t n = 0;
    if (x0 && x1)
        for (size_t r = 0; r < pl->nrows; r++)
            if (pl->rows[r].n >= 6) {
                x0[n] = pl->rows[r].box.x0;
                x1[n] = pl->rows[r].box.x1;
                n++;
            }
    if (n >= 3) {
        qsort(x0, n, sizeof *x0, cmp_int);
        qsort(x1, n, sizeof *x1, cmp_int);
        pl->text_x0 = x0[n / 10];
        pl->text_x1 = x1[n - 1 - n / 10];
    } else {
        pl->text_x0 = pl->width / 10;
        pl->text_x1 = pl->width - pl->width / 10;
    }
    free(x0);
    free(x1);
}

static bool fold_is(const lay_word *w, const char *a)
{
    return vn_fold_like(w->fold, a);
}

/* The national motto ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do
 * - Hạnh phúc", Party "ĐẢNG CỘNG SẢN VIỆT NAM") opens the right column
 * (standards §5). Returns the estimated left edge of that column, or -1. */
static int motto_left(page_layout *pl)
{
    int best = -1, direct = -1, first_y = -1;
    int limit = pl->height * 2 / 5;
    for (size_t r = 0; r < pl->nrows; r++) {
        const lay_row *row = &pl->rows[r];
        if (row->box.y0 > limit)
            break;
        /* the motto is two lines at the top; "Căn cứ Điều lệ Đảng Cộng sản
         * Việt Nam" further down is body text citing it */
        if (first_y >= 0 && row->box.y0 > first_y + 4 * pl->line_h)
            break;
        for (size_t j = 0; j + 1 < row->n; j++) {
            const lay_word *a = lay_at(pl, row, j), *b = lay_at(pl, row, j + 1);
            /* the motto's first line is printed in capitals */
            bool caps = vn_upper_share(a->text) >= 0.5f && vn_upper_share(b->text) >= 0.5f;
            int x = -1, cx = 0;
            if (caps && fold_is(a, "cong") && (fold_is(b, "hoa") || fold_is(b, "san")))
                x = a->box.x0;
            else if (caps && fold_is(a, "dang") && fold_is(b, "cong"))
                x = a->box.x0;
            else if (caps && fold_is(a, "hoa") && fold_is(b, "xa") && j + 2 < row->n)
                x = a->box.x0 - (b->box.x0 - a->box.x0) * 3 / 2; /* "CỘNG" lost */
            else if (fold_is(a, "doc") && (fold_is(b, "lap") || fold_is(b, "lap-"))) {
                /* "Độc lập - Tự do - Hạnh phúc" is centred under the motto,
                 * which is about 1.55 times as wide */
                int x1 = row->box.x1;
                for (size_t k = j; k < row->n; k++)
                    if (strncmp(lay_at(pl, row, k)->fold, "phuc", 4) == 0)
                        x1 = lay_at(pl, row, k)->box.x1;
                int c = (a->box.x0 + x1) / 2, wdt = x1 - a->box.x0;
                x = c - wdt * 79 / 100;
                if (x < a->box.x0 - wdt)
                    x = a->box.x0;
                cx = c;
            }
            /* the motto's first line ends its row */
            if (x >= 0 && !cx)
                cx = (x + row->box.x1) / 2;
            if (x >= 0 && (best < 0 || x < best))
                best = x;
            /* "CỘNG HÒA" / "ĐẢNG CỘNG" read as words: measured, not
             * estimated from the line under it */
            if (x >= 0 && x == a->box.x0 && !fold_is(a, "doc") && (direct < 0 || x < direct))
                direct = x;
            if (x >= 0 && first_y < 0) {
                first_y = row->box.y0;
                pl->motto_cx = cx;
            }
        }
    }
    return direct >= 0 ? direct : best;
}

/* Without a motto: the most common wide gap of the top rows. */
static int gap_split(const page_layout *pl)
{
    int mids[64];
    size_t n = 0;
    int limit = pl->height / 3;
    for (size_t r = 0; r < pl->nrows && n < 64; r++) {
        const lay_row *row = &pl->rows[r];
        if (row->box.y0 > limit)
            break;
        int best_gap = 0, mid = 0;
        for (size_t j = 0; j + 1 < row->n; j++) {
            int g = lay_at(pl, row, j + 1)->box.x0 - lay_at(pl, row, j)->box.x1;
            if (g > best_gap) {
                best_gap = g;
                mid = (lay_at(pl, row, j + 1)->box.x0 + lay_at(pl, row, j)->box.x1) / 2;
            }
        }
        if (best_gap > 2 * row->h && mid > pl->width / 4 && mid < pl->width * 3 / 4)
            mids[n++] = mid;
    }
    return n ? median(mids, n) : pl->width * 45 / 100;
}

/* Length in code points of the motto word glued at the end of `fold`
 * ("NGUYÊNCỘNG HÒA", "DÂNCỘNG HÒA", "ANĐẢNG CỘNG"), or 0. */
static size_t glued_motto(const char *fold, const char *next)
{
    size_t n = strlen(fold);
    if (n < 6)
        return 0;
    if (strcmp(fold + n - 4, "cong") == 0 &&
        (vn_fold_like(next, "hoa") || vn_fold_like(next, "san")))
        return 4;
    if (strcmp(fold + n - 4, "dang") == 0 && vn_fold_like(next, "cong"))
        return 4;
    return 0;
}

/* Cuts the j-th word of `row` in two at fold position k (the glued motto
 * word becomes its own word, the box shared in proportion). */
static int split_word_at(page_layout *pl, lay_row *row, size_t j, size_t k)
{
    size_t wi = row->w[j];
    vn_text t;
    if (vn_text_init(&t, pl->words[wi].text) != 0)
        return -1;
    size_t cut = k < t.nfold ? t.off[k] : strlen(t.text);
    size_t nfold = t.nfold;
    char *left = strndup(t.text, cut), *right = strdup(t.text + cut);
    vn_text_free(&t);
    char *lf = left ? vn_fold(left) : NULL, *rf = right ? vn_fold(right) : NULL;
    lay_word *nw = realloc(pl->words, (pl->nwords + 1) * sizeof *nw);
    size_t *nr = realloc(row->w, (row->n + 1) * sizeof *nr);
    if (nw)
        pl->words = nw;
    if (nr)
        row->w = nr;
    if (!left || !right || !lf || !rf || !nw || !nr) {
        free(left);
        free(right);
        free(lf);
        free(rf);
        return -1;
    }
    lay_word *w = &pl->words[wi], *add = &pl->words[pl->nwords];
    *add = *w;
    int x = w->box.x0 + (int)((long)(w->box.x1 - w->box.x0) * (long)k / (long)nfold);
    free(w->text);
    free(w->fold);
    w->text = left;
    w->fold = lf;
    w->box.x1 = x;
    add->text = right;
    add->fold = rf;
    add->box.x0 = x;
    memmove(row->w + j + 2, row->w + j + 1, (row->n - j - 1) * sizeof *row->w);
    row->w[j + 1] = pl->nwords++;
    row->n++;
    return 0;
}

/* Position just after a comma between two letters ("Thọ,ngày": the
 * place's comma and the date line's first word read as one word), or 0.
 * Print always sets a space there; a number's comma ("1,5") is left. */
static size_t glued_comma(const char *fold)
{
    for (size_t i = 1; fold[i] && fold[i + 1]; i++)
        if (fold[i] == ',' && isalpha((unsigned char)fold[i - 1]) &&
            isalpha((unsigned char)fold[i + 1]))
            return i + 1;
    return 0;
}

/* OCR glues the motto's first word to the end of the left column's line
 * when the columns nearly touch ("NGUYÊNCỘNG"): the body name would lose
 * its last word and the motto its first. It glues the place to "ngày"
 * over a comma ("Thọ,ngày"): the date line would lose its first keyword.
 * Cuts such words in two. */
static int unglue_header(page_layout *pl)
{
    for (size_t r = 0; r < pl->nrows; r++) {
        lay_row *row = &pl->rows[r];
        if (row->box.y0 > pl->height / 3)
            break;
        for (size_t j = 0; j < row->n; j++) {
            const lay_word *w = lay_at(pl, row, j);
            size_t n = j + 1 < row->n ? glued_motto(w->fold, lay_at(pl, row, j + 1)->fold) : 0;
            size_t cut = n && vn_upper_share(w->text) >= 0.7f ? strlen(w->fold) - n
                                                               : glued_comma(w->fold);
            if (cut && split_word_at(pl, row, j, cut) != 0)
                return -1;
        }
    }
    return 0;
}

static void find_split(page_layout *pl)
{
    int m = motto_left(pl);
    pl->motto_found = m > 0;
    if (m > 0)
        pl->split_x = m - pl->line_h / 3;
    else
        pl->split_x = gap_split(pl);
}

size_t layout_row_split(const page_layout *pl, const lay_row *r)
{
    int sx = pl->split_x;
    size_t best = (size_t)-1;
    long best_d = 0;
    for (size_t j = 0; j + 1 < r->n; j++) {
        int g0 = lay_at(pl, r, j)->box.x1, g1 = lay_at(pl, r, j + 1)->box.x0;
        if (g1 - g0 < r->h)
            continue;
        /* the date line may start left of the motto; the split is the
         * gap nearest to the column boundary, never far to its left */
        if (g1 < sx - pl->width / 8 || g0 > sx + pl->width / 20)
            continue;
        long d = g0 > sx ? g0 - sx : g1 < sx ? sx - g1 : 0;
        if (best == (size_t)-1 || d < best_d) {
            best = j + 1;
            best_d = d;
        }
    }
    if (best != (size_t)-1)
        return best;
    size_t j = 0;
    while (j < r->n) {
        const ocr_box *b = &lay_at(pl, r, j)->box;
        if ((b->x0 + b->x1) / 2 >= sx)
            break;
        j++;
    }
    /* a long left line ("SỞ KẾ HOẠCH VÀ ĐẦU TƯ") may end past the column
     * boundary with no right-column text beside it: right-column lines
     * are centred on the motto, a tail of one or two words far off that
     * axis is the left line's end */
    if (pl->motto_found && pl->motto_cx > 0 && j > 0 && j < r->n && r->n - j <= 2) {
        int cx = (lay_at(pl, r, j)->box.x0 + lay_at(pl, r, r->n - 1)->box.x1) / 2;
        if (abs(cx - pl->motto_cx) > 3 * pl->line_h)
            return r->n;
    }
    return j;
}

static bool is_label(const lay_word *w, const char *lab)
{
    size_t n = strlen(w->fold);
    if (n < 2)
        return false;
    char buf[32];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, w->fold, n + 1);
    /* "Chuyển:............": the dotted field read into its label */
    while (n > 0 && (buf[n - 1] == ':' || buf[n - 1] == ';' || buf[n - 1] == '.'))
        buf[--n] = '\0';
    return vn_fold_like(buf, lab) || strcmp(buf, lab) == 0;
}

/* The clerk's ĐẾN stamp (standards §5, "Marks": 35 × 50 mm, fields Số,
 * Ngày, Chuyển) is not the document's metadata: its label words, its
 * filled-in values and the low-confidence scribble inside it are marked. */
static void mark_stamp(page_layout *pl)
{
    int dpi = pl->dpi > 0 ? pl->dpi : pl->width * 100 / 827;
    int zone_w = 55 * dpi * 10 / 254, zone_h = 40 * dpi * 10 / 254;
    for (size_t r = 0; r < pl->nrows; r++) {
        const lay_row *row = &pl->rows[r];
        if (row->box.y0 > pl->height / 3)
            break;
        for (size_t j = 0; j < row->n; j++) {
            lay_word *a = &pl->words[row->w[j]];
            bool den = strcmp(a->fold, "den") == 0 || strcmp(a->fold, "den:") == 0;
            bool chuyen = is_label(a, "chuyen") && strchr(a->fold, ':');
            if (!(den && j + 1 < row->n && is_label(lay_at(pl, row, j + 1), "so")) && !chuyen)
                continue;
            int zx0 = a->box.x0 - pl->line_h, zx1 = a->box.x0 + zone_w;
            int zy0 = den ? a->box.y0 - pl->line_h : a->box.y0 - zone_h / 2;
            int zy1 = den ? a->box.y0 + zone_h : a->box.y1 + pl->line_h;
            /* pass 1: labels ("Ngày:", "Chuyển:") bound the stamp's height;
             * the document's own "Số:" may lie inside the zone, so a "Số"
             * label counts only on the ĐẾN row */
            int last_y = a->box.y1;
            for (size_t i = 0; i < pl->nwords; i++) {
                lay_word *w = &pl->words[i];
                int cx = (w->box.x0 + w->box.x1) / 2, cy = box_cy(&w->box);
                if (cx < zx0 || cx > zx1 || cy < zy0 || cy > zy1 || !strchr(w->fold, ':'))
                    continue;
                if (is_label(w, "ngay") || is_label(w, "chuyen") || w == a) {
                    w->stamp = true;
                    if (w->box.y1 > last_y)
                        last_y = w->box.y1;
                }
            }
            zy1 = last_y + pl->line_h / 2;
            /* pass 2: scribble and dotted fields inside the stamp */
            for (size_t i = 0; i < pl->nwords; i++) {
                lay_word *w = &pl->words[i];
                int cx = (w->box.x0 + w->box.x1) / 2, cy = box_cy(&w->box);
                if (cx < zx0 || cx > zx1 || cy < zy0 || cy > zy1)
                    continue;
                if ((w->conf < 0.5f && !(w->src && w->src->line_read)) || w == a)
                    w->stamp = true;
                if (strstr(w->fold, "...") != NULL) {
                    /* "....LJBND": the dotted field ran into the issuer */
                    char *p = w->text;
                    while (*p == '.' || *p == ',' || *p == '/' || *p == ' ')
                        p++;
                    if (*p && !isdigit((unsigned char)*p) && strlen(p) >= 2) {
                        memmove(w->text, p, strlen(p) + 1);
                        char *f = vn_fold(w->text);
                        if (f) {
                            free(w->fold);
                            w->fold = f;
                        }
                    } else
                        w->stamp = true;
                }
            }
            /* the stamp's own "Số: 192" value */
            if (den)
                for (size_t k = j + 1; k < row->n && k <= j + 3; k++) {
                    lay_word *v = &pl->words[row->w[k]];
                    if (v->box.x0 - a->box.x0 < zone_w)
                        v->stamp = true;
                }
        }
    }
}

int layout_build(page_layout *pl, const ocr_page_text *pt)
{
    memset(pl, 0, sizeof *pl);
    pl->dpi = pt->dpi;
    if (init_words(pl, pt) != 0 || (mark_tall_noise(pl), group_rows(pl)) != 0) {
        layout_free(pl);
        return -1;
    }
    finish_rows(pl);
    if (merge_riding_rows(pl) != 0) {
        layout_free(pl);
        return -1;
    }
    find_margins(pl);
    if (unglue_header(pl) != 0) {
        layout_free(pl);
        return -1;
    }
    find_split(pl);
    mark_stamp(pl);
    return 0;
}

void layout_free(page_layout *pl)
{
    for (size_t i = 0; i < pl->nwords; i++) {
        free(pl->words[i].text);
        free(pl->words[i].fold);
    }
    for (size_t r = 0; r < pl->nrows; r++)
        free(pl->rows[r].w);
    free(pl->words);
    free(pl->rows);
    memset(pl, 0, sizeof *pl);
}

static bool usable(const lay_word *w) { return !w->stamp && !w->noise; }

char *layout_span_text(const page_layout *pl, const lay_row *r, size_t from, size_t to)
{
    size_t len = 1;
    if (to > r->n)
        to = r->n;
    for (size_t j = from; j < to; j++)
        if (usable(lay_at(pl, r, j)))
            len += strlen(lay_at(pl, r, j)->text) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t j = from; j < to; j++) {
        const lay_word *w = lay_at(pl, r, j);
        if (!usable(w))
            continue;
        if (k)
            s[k++] = ' ';
        size_t l = strlen(w->text);
        memcpy(s + k, w->text, l);
        k += l;
    }
    s[k] = '\0';
    return s;
}

bool layout_span_box(const page_layout *pl, const lay_row *r, size_t from, size_t to, ocr_box *box,
                     float *conf)
{
    bool any = false;
    float sum = 0;
    int n = 0;
    if (to > r->n)
        to = r->n;
    for (size_t j = from; j < to; j++) {
        const lay_word *w = lay_at(pl, r, j);
        if (!usable(w))
            continue;
        if (!any)
            *box = w->box;
        any = true;
        if (w->box.x0 < box->x0)
            box->x0 = w->box.x0;
        if (w->box.y0 < box->y0)
            box->y0 = w->box.y0;
        if (w->box.x1 > box->x1)
            box->x1 = w->box.x1;
        if (w->box.y1 > box->y1)
            box->y1 = w->box.y1;
        sum += w->conf;
        n++;
    }
    if (conf)
        *conf = n ? sum / (float)n : 0;
    return any;
}

size_t layout_span_count(const page_layout *pl, const lay_row *r, size_t from, size_t to)
{
    size_t n = 0;
    if (to > r->n)
        to = r->n;
    for (size_t j = from; j < to; j++)
        n += usable(lay_at(pl, r, j));
    return n;
}
