/* extract.h — reading the header of a Vietnamese administrative document
 * (State: Nghị định 30/2020; Party: Hướng dẫn 36-HD/VPTW) from OCR words.
 *
 * Works on word geometry, not on the engine's line order: the left and
 * right header columns are separated by position, the title and subject
 * are centred below them, the signer block is at the bottom right of the
 * last page. Every field gets a confidence; a field that may be wrong gets
 * a low one and is listed in `review`.
 */
#ifndef SOHOA_EXTRACT_H
#define SOHOA_EXTRACT_H

#include <stddef.h>
#include <time.h>

#include <stdbool.h>

#include "../firmware/err.h"
#include "metadata.h"
#include "words.h"

typedef struct extract_options {
    time_t now;            /* for date validation (no date beyond now + 1 day) */
    float review_threshold; /* fields below this confidence go to review (default 0.8) */
} extract_options;

extract_options extract_defaults(void);

/* Fills the extracted fields of `out` (pages and blank_pages_removed are
 * left as they are) from the kept pages, in order. */
int extract_metadata(const ocr_page_text *pages, size_t npages, const extract_options *opt,
                     doc_metadata *out, sohoa_err *err);

/* A signer block whose name the OCR did not read: the bottom-right block of
 * `page` has a title (KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC) but no name below it,
 * typically because a seal or the signature merged the name into a
 * picture region. Sets `region` (page pixels) to the area where the name
 * should be, for a second, block-mode OCR pass. */
bool extract_signer_gap(const ocr_page_text *page, ocr_box *region);

/* A signer's name with no title above it: the OCR lost the position and
 * the prefix, typically in a picture region it made of them with the seal
 * and the signature. Sets `region` (page pixels) to the band above the
 * name where they should be, for a second, block-mode OCR pass. */
bool extract_title_gap(const ocr_page_text *page, ocr_box *region);

/* A signer block whose position the OCR did not read: a prefix line
 * (KT. GIÁM ĐỐC) with no title under it, typically because the OCR took
 * the position's marks for a line of their own and read the rest as
 * noise, or merged it with the signature. Sets `region` (page pixels) to
 * the band under the prefix, whose words a second, block-mode OCR pass
 * should replace. */
bool extract_position_gap(const ocr_page_text *page, ocr_box *region);

/* A signer's name read without its first word: the name under a title
 * does not start with a surname, or a damaged word stands before it (the
 * seal's ring over the surname). Sets `region` (page pixels) to the band
 * of the name's line, whose words a second, block-mode OCR pass should
 * replace. */
bool extract_name_doubt(const ocr_page_text *page, ocr_box *region);

/* A signer's name under a title whose first word is no surname (not one
 * only cut short by a damaged word before it): the seal took the surname.
 * Sets `region` as extract_name_doubt() does. */
bool extract_name_headless(const ocr_page_text *page, ocr_box *region);

/* Whether no signer's name reads sure on `page`: none under a title, or a
 * doubtful one (extract_name_doubt), but for one whose surname is the
 * unreadable word before its first (a reading the first one lacked). The
 * test a second reading of the name's band must pass. */
bool extract_name_unsure(const ocr_page_text *page, ocr_box *region);

/* A date line whose date was not read: "<Place>, ngày" stands at the
 * head of the header's right column but no date follows, nor a blank the
 * pen filled in (extract_hand_slots), typically because the registry's ĐẾN
 * stamp lies over the line's end and the page's layout analysis cut the
 * line among the stamp's own lines. Sets `region` (page pixels) to the
 * band of the line, as high as its first words, for a second, single-line
 * reading whose words should replace those there. */
bool extract_date_lost(const ocr_page_text *page, ocr_box *region);

/* Whether the first page has a date line but no number line: no "Số"
 * in the header's left column, nor a notation where it goes, typically
 * because a stamp in black (a bitonal scan) lies over the line and the
 * page's layout analysis cut it among the stamp's lines and labels. Sets
 * `region` to the left column's part of the date line's band, where the
 * number line stands, for a second, single-line reading. */
bool extract_number_lost(const ocr_page_text *page, ocr_box *region);

/* Whether the first page still has no number line: the test that
 * reading must pass. `region` is not used. */
bool extract_number_unread(const ocr_page_text *page, ocr_box *region);

/* Whether the first page's date line reads no date, nor a blank for the
 * digits-only reading (a day or month read as no digit at all: "tháng †Ù
 * năm"): the test a second reading of the line's band must pass. Its
 * confidence is the reading's own; a doubtful date is flagged, and a
 * blank's reading always is (hand.h). */
bool extract_date_unread(const ocr_page_text *page, ocr_box *region);

/* A blank of the printed form the registry fills in by pen (standards §5):
 * the number between "Số:" and its separator, the day between "ngày" and
 * "tháng", the month between "tháng" and "năm". */
typedef enum { HAND_NUMBER, HAND_DAY, HAND_MONTH } hand_slot_kind;

typedef struct hand_slot {
    hand_slot_kind kind;
    ocr_box box;  /* page pixels: the blank, with room above for tall writing */
    bool bounded; /* both sides are print (Số: | /QĐ-UBND, ngày | tháng), so
                     any ink between is the writing; otherwise only pen-
                     coloured ink inside `box` is */
    int line_y0, line_y1; /* the printed line the blank is on */
    bool under_stamp;     /* a ĐẾN stamp lies over it (set by the reader) */
    bool label_lost;      /* the number's blank found from its notation alone:
                             the "Số:" the OCR lost may be inside on the left */
    int print_x;          /* > 0, an open number blank: about where the
                             notation's print starts in the word the writing
                             was read into ("92/BC-SGTVT"); the writing is the
                             ink left of the first gap from there on */
} hand_slot;

#define HAND_MAX_SLOTS 3

/* The blanks of the first page whose reading is not clean print (a pen
 * gap, a glyph taller than print, letters for digits, nothing read),
 * for a second, digits-only reading of the writing in them. Returns how
 * many were stored in `slots` (at most HAND_MAX_SLOTS). */
size_t extract_hand_slots(const ocr_page_text *page, hand_slot *slots);

#endif
