/* words.h — what OCR read on one page: words with boxes and confidences.
 *
 * This is the contract between ocr/recognize (which fills it), ocr/pdf
 * (which draws the invisible text layer from it) and ocr/extract (which
 * reads the header from it). Coordinates are pixels of the final, upright,
 * deskewed page image, origin top-left, x right, y down.
 */
#ifndef SOHOA_WORDS_H
#define SOHOA_WORDS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ocr_box {
    int x0, y0; /* top-left, inclusive */
    int x1, y1; /* bottom-right, exclusive */
} ocr_box;

typedef struct ocr_word {
    char *text;       /* UTF-8, NFC, never NULL or empty */
    ocr_box box;      /* the word's ink */
    float conf;       /* recognizer confidence, 0..1 */
    int block;        /* Tesseract block index on the page */
    int line;         /* line index on the page (increasing in reading order) */
    ocr_box line_box; /* box of the whole line the word belongs to */
    int baseline;     /* y of the line's baseline at the word, in pixels */
    bool bold;        /* font attributes, when the engine reports them */
    float red;        /* share of the word's ink that is red (stamps), 0..1 */
    bool hand;        /* digits read from the pen's writing in a blank of the
                         printed form (ocr/hand.c), not printed text */
    bool line_read;   /* read again on its own, from the band of its line cut
                         out of a stamp written over it (line_band.h): the
                         line's own print, however poorly it reads */
    bool crossed;     /* a black stamp's frame runs through it
                         (frame_cross.h): what lies past the line may be
                         lost, however sure the rest reads */
} ocr_word;

/* A coloured blob that may be a stamp or a boxed mark (MẬT, KHẨN ...),
 * found from the colour channel independently of OCR. */
typedef struct ocr_mark_region {
    ocr_box box;
    float red;   /* share of the region's pixels that are red */
    char *text;  /* what OCR read inside it (possibly rotated), may be NULL */
    float conf;  /* confidence of `text`, 0..1 */
    bool gray;   /* found on a gray page by lightness: `red` is the share of
                    stamp-light ink, its colour is unknown */
    bool framed; /* a dark frame found by its shape; `red` is 0 */
    bool unread; /* dark ink of a mark's size the page's OCR read nothing
                    in (a photocopied box: dashes, broken letters) */
} ocr_mark_region;

typedef struct ocr_page_text {
    int width, height; /* page image size in pixels */
    int dpi;
    ocr_word *words;
    size_t nwords, cap;
    ocr_mark_region *marks;
    size_t nmarks, marks_cap;
} ocr_page_text;

/* Appends a copy of `w` (text duplicated). Returns 0, or -1 on ENOMEM. */
int ocr_page_add_word(ocr_page_text *pt, const ocr_word *w);

/* Removes word i (its text freed), keeping the order of the others. */
void ocr_page_remove_word(ocr_page_text *pt, size_t i);

/* Appends a copy of `m` (text duplicated when not NULL). */
int ocr_page_add_mark(ocr_page_text *pt, const ocr_mark_region *m);

/* Drops the words the engine read twice: now and then Tesseract makes two
 * lines of its block out of one printed line, lying over each other, and
 * reads the line's words in both (some with boxes squeezed off their
 * ink). A word is read twice when a word of another line of its block
 * over the same row, at the same place, has its letters (or a letter
 * more or less), and three words or more of the two lines are; the copy
 * kept is the surer one, or of two about as sure (within 0.1), the one
 * with the larger box. Returns -1 on ENOMEM (nothing dropped). */
int ocr_page_drop_doubled(ocr_page_text *pt);

/* A deep copy of `src` into `dst` (overwritten). Returns 0, or -1 on
 * ENOMEM with `dst` left empty. */
int ocr_page_copy(ocr_page_text *dst, const ocr_page_text *src);

/* Frees the words and marks and zeroes `pt` (keeps nothing). */
void ocr_page_text_free(ocr_page_text *pt);

#endif
