/* hand.h — numbers and days written by pen into the printed form.
 *
 * Real letters leave blanks in print for the registry to fill in by hand:
 * "Số:      /UBND-VP", "ngày    tháng 5 năm 2025" (standards §5). The
 * page's OCR reads such writing as print and gets letters ("Z2", "Í68")
 * or nothing. The extractor names the blanks whose reading is not clean
 * print (extract_hand_slots); this module reads the writing in each one
 * again, from the pen's ink alone, upright and at the size print has,
 * digits only, and puts the result in place of what the page's OCR read
 * there. The new word has `hand` set: the extractor never trusts it as it
 * trusts print, so a misread goes to the clerk's review.
 */
#ifndef SOHOA_HAND_H
#define SOHOA_HAND_H

#include "../firmware/err.h"
#include "extract.h"
#include "recognize.h"
#include "stamp.h"
#include "words.h"

struct Pix;

/* Reads the writing in `slot` of `page` (32 bpp colour, where blue or
 * black pen ink is looked for, or 8 bpp gray) at `dpi`. On success fills
 * `out` (text pointing into `buf`, box around the writing, `hand` set)
 * and returns 1; returns 0 when no writing was found or read. */
int hand_read_slot(ocr_engine *e, struct Pix *page, int dpi, const hand_slot *slot, ocr_word *out,
                   char *buf, size_t n);

/* Puts `w`, read from `slot`, in place of the words the page's OCR read
 * from the same writing: words mostly inside the writing are removed; a
 * word that runs on into the print after it ("Í68//SNV-VP") keeps only the
 * print ("/SNV-VP"). Returns 1 when applied, 0 when the page's words could
 * not be matched to the writing (nothing is then changed), -1 on ENOMEM. */
int hand_apply(ocr_page_text *pt, const hand_slot *slot, const ocr_word *w);

/* Both steps for every blank extract_hand_slots() names on the page,
 * except a blank under one of the registry's ĐẾN stamps (`stamps`, found
 * by stamp_find): pen writing there may be the clerk's. */
int hand_reread(ocr_engine *e, struct Pix *page, int dpi, const stamp_set *stamps,
                ocr_page_text *pt, sohoa_err *err);

#endif
