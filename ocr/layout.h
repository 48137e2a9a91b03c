/* layout.h — OCR word geometry → rows, columns and spans.
 *
 * The engine's own line grouping is not trusted: Tesseract merges the left
 * header column (issuing body, Số) with the right one (motto, place-date)
 * into one line and sometimes splits a line at a handwritten number. Rows
 * are rebuilt from the word boxes (vertical overlap), and the header is cut
 * into columns by the position of the national motto and by gaps
 * (standards §5: "OCR engines merge the two columns into one line: use word
 * positions").
 */
#ifndef SOHOA_LAYOUT_H
#define SOHOA_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "words.h"

typedef struct lay_word {
    const ocr_word *src;
    char *text; /* normalised (vn_normalize) */
    char *fold; /* vn_fold of text */
    ocr_box box;
    float conf, red;
    bool noise; /* not text: empty, rule, border, far too tall */
    bool stamp; /* the receiving clerk's ĐẾN stamp (not the document's) */
} lay_word;

typedef struct lay_row {
    size_t *w; /* indices into page_layout.words, left to right */
    size_t n;
    ocr_box box;
    int h; /* median word height */
} lay_row;

typedef struct page_layout {
    int width, height, dpi;
    lay_word *words;
    size_t nwords;
    lay_row *rows; /* top to bottom */
    size_t nrows;
    int line_h;           /* median word height on the page */
    int text_x0, text_x1; /* body text margins */
    int split_x;          /* header column boundary (left < split_x <= right) */
    bool motto_found;     /* split_x comes from the national motto */
    int motto_cx;         /* centre line of the right column (the motto's), 0 if unknown */
} page_layout;

/* Builds rows of `pt`. Returns 0 or -1 on ENOMEM (pl is then freed). */
int layout_build(page_layout *pl, const ocr_page_text *pt);
void layout_free(page_layout *pl);

/* Word j (position in the row) of row r. */
static inline const lay_word *lay_at(const page_layout *pl, const lay_row *r, size_t j)
{
    return &pl->words[r->w[j]];
}

/* First word position of `r` that belongs to the right header column:
 * the gap nearest to split_x when there is one, the word centres otherwise. */
size_t layout_row_split(const page_layout *pl, const lay_row *r);

/* Text of words [from, to) of a row, single spaces, stamp and noise words
 * skipped. malloc'd, NULL on ENOMEM. */
char *layout_span_text(const page_layout *pl, const lay_row *r, size_t from, size_t to);

/* Box and mean confidence of the usable words of a span (false if none). */
bool layout_span_box(const page_layout *pl, const lay_row *r, size_t from, size_t to, ocr_box *box,
                     float *conf);

/* Number of usable (not stamp, not noise) words in a span. */
size_t layout_span_count(const page_layout *pl, const lay_row *r, size_t from, size_t to);

#endif
