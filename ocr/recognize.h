/* recognize.h — Tesseract (C API) behind a small interface.
 *
 * One engine per thread: a TessBaseAPI is not thread-safe. Engines are
 * created once and reused for every page a worker handles.
 */
#ifndef SOHOA_RECOGNIZE_H
#define SOHOA_RECOGNIZE_H

#include "../firmware/err.h"
#include "words.h"

struct Pix;

typedef struct ocr_engine ocr_engine;

typedef struct ocr_options {
    const char *languages; /* Tesseract language string, default "vie" */
    const char *datapath;  /* tessdata directory, NULL = the engine's default */
} ocr_options;

/* Performance note: Tesseract parallelises inside a page with OpenMP,
 * with explicit thread counts that only OMP_THREAD_LIMIT caps. We already
 * run one page per core, and competing OpenMP threads make recognition
 * four times slower on a busy 2-core machine. libgomp reads the variable
 * when it loads, before main(), so programs using this module must start
 * with OMP_THREAD_LIMIT=1 in their environment (sohoa's main() re-executes
 * itself to ensure it). */

/* Loads the OCR models and the orientation model. Fails with a message
 * naming the missing language data and the package to install. */
ocr_engine *ocr_engine_new(const ocr_options *opt, sohoa_err *err);
void ocr_engine_free(ocr_engine *e);

/* Detects page orientation: the clockwise rotation (0, 90, 180, 270) that
 * makes the page upright, and a confidence 0..1. Returns 0 with *rotate_cw
 * = 0 and *conf = 0 when there is too little text to tell. */
int ocr_detect_orientation(ocr_engine *e, struct Pix *pix, int dpi, int *rotate_cw, float *conf,
                           sohoa_err *err);

/* Recognises an upright page. `pix` is the image OCR reads (gray or
 * binary) at `dpi`. Fills `out` (which must be zeroed) with words in
 * reading order, in the coordinates of `pix`. */
int ocr_recognize(ocr_engine *e, struct Pix *pix, int dpi, ocr_page_text *out, sohoa_err *err);

/* Second look at one region of an already recognised page: OCR of `region`
 * of `pix` (the same image ocr_recognize() read, at `dpi`) as one uniform
 * block, which reads lines the page layout analysis threw away as part of
 * a picture (a name under a seal) or cut apart (an upper-case line whose
 * marks it took for a line of their own). The words read are scaled by
 * `scale` into page coordinates (`region` is in page coordinates). With
 * `replace`, they take the place of the words of `out` centred in the
 * region (when the second look read any); otherwise those that do not
 * overlap a word already in `out` are appended to it. */
int ocr_recognize_region(ocr_engine *e, struct Pix *pix, int dpi, const ocr_box *region,
                         float scale, bool replace, ocr_page_text *out, sohoa_err *err);

/* The same for `cut`, the image of the page's `region` alone shown the
 * engine at another size: page coordinates are its own times `scale`
 * (a band enlarged by half: scale 2/3). Its words are placed back in page
 * coordinates, and merged into `out` as ocr_recognize_region() does. */
int ocr_recognize_cut(ocr_engine *e, struct Pix *cut, int dpi, const ocr_box *region, float scale,
                      bool replace, ocr_page_text *out, sohoa_err *err);

/* The same for one text line, `band` (page coordinates, those of `pix`):
 * read as a single line, whatever else its band cuts through (the lines
 * of a stamp written over it, which the page's layout analysis let cut the
 * line apart), its words replace those of `out` centred in the band. */
int ocr_recognize_line(ocr_engine *e, struct Pix *pix, int dpi, const ocr_box *band,
                       ocr_page_text *out, sohoa_err *err);

/* Reads one line of digits from `pix` (a small image of a handwritten
 * number: dark ink on white, upright), writing at most n-1 digits to
 * `out` with Tesseract's mean confidence 0..1. Returns 1 when some digit
 * was read, 0 otherwise (also when no digit model can be loaded). */
int ocr_read_digits(ocr_engine *e, struct Pix *pix, int dpi, char *out, size_t n, float *conf);

/* Uses the colour channel, which OCR ignores: sets each word's `red`
 * share from `color` (the same page in 32 bpp RGB, in the coordinates of
 * the words) and adds a mark region for each red blob large enough to be a
 * stamp or a boxed mark (KHẨN, MẬT, ĐẾN, seals), with the text OCR reads
 * in it after straightening. The frame of a boxed mark or stamp is taken
 * away before reading (Tesseract reads nothing inside one); a frame with
 * nothing in it gives a region with NULL text. A region's text is raw OCR
 * (possibly several lines, possibly noise on a seal): which mark it names
 * is the extractor's business. */
int ocr_find_red_marks(ocr_engine *e, struct Pix *color, int dpi, const ocr_box *skip,
                       size_t nskip, ocr_page_text *out, sohoa_err *err);

/* Both finders leave out the `nskip` boxes of `skip` (page coordinates):
 * the clerk's ĐẾN stamps, found by their frames, whose ink would
 * otherwise join a mark set next to one into one blob read as the stamp.
 *
 * The gray page's counterpart of ocr_find_red_marks: stamp ink there is
 * told from text by being lighter (prep_light_ink_levels), not by colour.
 * Adds a region, with `gray` set, for each blob of that ink in the upper
 * half of the page (marks and the clerk's stamp; a seal is further down),
 * with the text read from that ink alone. Words' `red` is left at 0. A
 * page without clear text contrast gets no regions. */
int ocr_find_gray_marks(ocr_engine *e, struct Pix *gray, int dpi, const ocr_box *skip,
                        size_t nskip, ocr_page_text *out, sohoa_err *err);

/* Marks printed in a box in black (or any ink dark enough to be text):
 * adds a region, with `framed` set and `red` 0, for each frame of a mark's
 * size in the upper half of `gray` (8 bpp, the page's luminance), with the
 * text read inside it once the frame is taken away. Tesseract's page
 * layout often takes such a box for a picture and reads nothing in it. */
int ocr_find_framed_marks(ocr_engine *e, struct Pix *gray, int dpi, ocr_page_text *out,
                          sohoa_err *err);

/* Ink of a mark's size in the upper half of `gray` where `out` holds
 * neither a word read nor a mark region: a photocopied or faded box whose
 * frame broke into dashes (no frame to find) and whose letters the page's
 * OCR skipped. Adds a region, with `unread` set, read as the others are
 * (straightened, frame removed). Run after the other finders. */
int ocr_find_unread_marks(ocr_engine *e, struct Pix *gray, int dpi, ocr_page_text *out,
                          sohoa_err *err);

#endif
