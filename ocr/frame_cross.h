/* frame_cross.h — header words a stamp's frame runs through.
 *
 * On a bitonal scan (or a black photocopy) the registry's ĐẾN stamp is as
 * black as the print, and nothing tells its frame from the letter's ink
 * but its shape: a thin upright line 30 mm or more long, which no printed
 * letter makes. Where it runs through a word of the header, the engine
 * reads the word up to the line and loses the rest ("99-BC/BNC" for
 * 99-BC/BNCTU), as sure of it as of a whole word. Such a word is the
 * clerk's to check: its confidence is capped. A colour or gray page's
 * stamp was wiped before the OCR (stamp.h), and leaves no line.
 */
#ifndef SOHOA_FRAME_CROSS_H
#define SOHOA_FRAME_CROSS_H

#include <stddef.h>

#include "words.h"

struct Pix;

/* Confidence left to a word a frame line runs through. */
#define FRAME_CROSS_CONF 0.5f

/* Finds the upright lines at least 20 mm long in the upper half of the
 * 8 bpp `page` (the image the OCR read, at `dpi`, in the coordinates of
 * `text`) and marks `crossed` the printed words of `text` that one runs
 * through or passes within a letter of, their confidence capped at FRAME_CROSS_CONF.
 * Returns how many words were marked. */
size_t frame_cross_cap(struct Pix *page, int dpi, ocr_page_text *text);

#endif
