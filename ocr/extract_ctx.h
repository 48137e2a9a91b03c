/* extract_ctx.h — shared state of one extraction and the rule entry points.
 *
 * extract.c lays the pages out and calls the rules in order: number and
 * date anchor the header (extract_number.c, extract_date.c), then the
 * bodies, title and subject around them (extract_header.c), the marks
 * (extract_marks.c) and the signer on the last page (extract_signer.c).
 * Each rule writes its fields with a confidence; extract.c reconciles the
 * type code with the title and decides the review list.
 */
#ifndef SOHOA_EXTRACT_CTX_H
#define SOHOA_EXTRACT_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include "extract.h"
#include "layout.h"

#define EX_NONE ((size_t)-1)

typedef struct extract_ctx {
    const extract_options *opt;
    page_layout *pages;
    size_t npages;
    doc_metadata *out;
    const ocr_page_text *raw0; /* first page as recognised (mark regions) */
    bool oom;
    /* no red anywhere in the document: a gray scan or a photocopy, whose
     * marks lost the colour they are looked for by */
    bool colourless;

    /* found on the first page */
    size_t number_row; /* row of the document's own "Số", or EX_NONE */
    size_t number_word; /* position of the "Số" word in that row */
    size_t number_last; /* position of the last word of the notation */
    size_t date_row;   /* row of "<Place>, ngày .. tháng .. năm ..", or EX_NONE */
    size_t title_row;  /* row of the type title ("QUYẾT ĐỊNH"), or EX_NONE */
    size_t subject_end; /* last row of the subject (title-centred or V/v) */
    int header_y1;     /* bottom of the number / date rows */
    int type_from_title; /* index in the type table, -1 when none */
    float title_conf;
    bool cong_van_subject; /* subject came from a V/v line under Số */
    int party_votes, state_votes;
    char type_code[16]; /* type abbreviation read in the notation ("QĐ") */
    bool number_handwritten;
    /* the number reads as clean print: 2-5 plain digits, no leading zero
     * beyond "09", no pen gap, no letter taken for a digit */
    bool number_printed;
    char number_sep;  /* separator after the number: '/' State, '-' Party, 0 */
    bool notation_cut; /* prose or a dangling separator cut off its end */
    bool code_agrees; /* the notation's type code and the title name one type */
    bool code_from_name; /* the issuer's code was corrected from its name */
    /* blanks whose reading looks like a pen's (extract_hand_slots) */
    hand_slot slots[HAND_MAX_SLOTS];
    size_t nslots;
} extract_ctx;

/* Stores a string field (NULL clears) with its confidence. */
void ex_set(extract_ctx *c, meta_field f, const char *value, float conf);

/* Span of a row in the left / right header column of a page. */
void ex_left(const page_layout *pl, const lay_row *r, size_t *from, size_t *to);
void ex_right(const page_layout *pl, const lay_row *r, size_t *from, size_t *to);

/* Share of upper-case letters of `s`, 0..1 (0 when no letter). */
float ex_upper_share(const char *s);

/* Rules (each fills its fields, never fails but may set c->oom). */
void ex_find_number(extract_ctx *c);
void ex_find_date(extract_ctx *c);
void ex_find_title_subject(extract_ctx *c);
void ex_find_issuer(extract_ctx *c);
void ex_find_marks(extract_ctx *c);
void ex_find_signer(extract_ctx *c);

/* Notes a blank written by hand, for a second reading (extract_hand_slots);
 * the slot, or NULL when there was no room or the blank is too narrow. */
hand_slot *ex_add_slot(extract_ctx *c, hand_slot_kind kind, int x0, int x1, const ocr_box *line,
                       bool bounded);

/* The word was read from the writing in a form's blank (hand.c): its
 * value is the pen's, never clean print. */
static inline bool ex_hand_word(const lay_word *w) { return w && w->src && w->src->hand; }

/* Rewrites the type code of the notation (extract_number.c). */
void ex_replace_code(extract_ctx *c, const char *code, bool party, float conf);

/* Sets the notation and rebuilds number_notation, neither surer than
 * `conf` nor than they were (extract_number.c). */
void ex_set_notation(extract_ctx *c, const char *nota, bool party, float conf);

/* Checks the issuer's code in the notation against the issuer's name and
 * corrects a misread one (extract_code.c). */
void ex_check_issuer_code(extract_ctx *c);

/* Completes a place that is the last words of the province the issuer's
 * header names, its first words lost (extract_date.c). */
void ex_complete_place(extract_ctx *c);

/* Flags the date and the notation when the year a legal normative
 * document's notation carries ("2026/TT-BCT") is not the date's
 * (extract_year.c). */
void ex_check_year(extract_ctx *c);

#endif
