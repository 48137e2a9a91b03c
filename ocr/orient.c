#include "orient.h"

#include <leptonica/allheaders.h>
#include <math.h>

/* Leptonica's confidences are in units where 0 is "no evidence". The
 * thresholds are those leptonica's own makeOrientDecision() suggests for
 * a firm decision on text pages. */
#define MIN_UP_CONF 8.0f
#define MIN_RATIO 2.5f

/* Binarises at 150 dpi, the resolution the statistic was designed for
 * (text x-height of about a dozen pixels). */
#define STAT_DPI 150

static PIX *reduced_binary(PIX *gray, int dpi)
{
    float scale = (float)STAT_DPI / (float)dpi;
    PIX *small = scale < 0.95f ? pixScaleAreaMap(gray, scale, scale) : pixClone(gray);
    if (!small)
        return NULL;
    PIX *bin = pixConvertTo1(small, 160);
    pixDestroy(&small);
    return bin;
}

static int from_statistics(PIX *gray, int dpi, orient_result *out)
{
    PIX *bin = reduced_binary(gray, dpi);
    if (!bin)
        return -1;
    l_float32 upconf = 0, leftconf = 0;
    l_int32 orient = L_TEXT_ORIENT_UNKNOWN;
    int rc = pixOrientDetect(bin, &upconf, &leftconf, 0, 0);
    pixDestroy(&bin);
    if (rc != 0)
        return -1;
    makeOrientDecision(upconf, leftconf, MIN_UP_CONF, MIN_RATIO, &orient, 0);
    /* L_TEXT_ORIENT_LEFT: text lines run bottom to top, the page was turned
     * 90° counter-clockwise and needs 90° clockwise, and so on. */
    switch (orient) {
    case L_TEXT_ORIENT_UP:
        out->rotate_cw = 0;
        break;
    case L_TEXT_ORIENT_LEFT:
        out->rotate_cw = 90;
        break;
    case L_TEXT_ORIENT_DOWN:
        out->rotate_cw = 180;
        break;
    case L_TEXT_ORIENT_RIGHT:
        out->rotate_cw = 270;
        break;
    default:
        return 1; /* undecided */
    }
    float strength = fmaxf(fabsf(upconf), fabsf(leftconf));
    out->conf = strength >= 4 * MIN_UP_CONF ? 1.0f : 0.6f + 0.4f * strength / (4 * MIN_UP_CONF);
    out->method = "text statistics";
    return 0;
}

int orient_detect(PIX *gray, int dpi, ocr_engine *engine, orient_result *out, sohoa_err *err)
{
    *out = (orient_result){0, 0, "none"};
    int rc = from_statistics(gray, dpi, out);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return err_set(err, SOHOA_EWORK, "out of memory detecting page orientation");
    if (!engine)
        return 0;
    int rot = 0;
    float conf = 0;
    if (ocr_detect_orientation(engine, gray, dpi, &rot, &conf, err) != 0)
        return -1;
    if (conf > 0) {
        out->rotate_cw = rot;
        out->conf = conf;
        out->method = "tesseract osd";
    }
    return 0;
}
