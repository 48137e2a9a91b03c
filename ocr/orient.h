/* orient.h — which way up is the page?
 *
 * Two detectors, cheapest first. Leptonica's ascender/descender statistics
 * on a reduced binary page take ~15 ms and settle almost every page of
 * printed text; Tesseract's OSD (~300 ms) is asked only when leptonica is
 * undecided. A page with too little text keeps its orientation.
 */
#ifndef SOHOA_ORIENT_H
#define SOHOA_ORIENT_H

#include "../firmware/err.h"
#include "recognize.h"

struct Pix;

typedef struct orient_result {
    int rotate_cw;     /* 0, 90, 180, 270: clockwise turn that makes it upright */
    float conf;        /* 0..1 */
    const char *method; /* "text statistics", "tesseract osd" or "none" */
} orient_result;

/* `gray` is the page in 8-bit gray at `dpi`; `engine` may be NULL (then
 * only the statistics are used). */
int orient_detect(struct Pix *gray, int dpi, ocr_engine *engine, orient_result *out, sohoa_err *err);

#endif
