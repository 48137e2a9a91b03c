/* encode.h — page image → compressed image layers ready for the PDF.
 *
 * A page is drawn as a stack of layers, painted in order over the full
 * page: a background (JPEG colour/gray or Flate), optionally followed by
 * stencil masks (1 bit, CCITT G4) painted in a solid colour. This covers
 * plain JPEG, plain G4 for bitonal scans, and mixed raster content (MRC:
 * a sharp bitonal text mask over a low-resolution colour background, which
 * keeps red stamps and blue signatures at a fraction of the size).
 */
#ifndef SOHOA_ENCODE_H
#define SOHOA_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../firmware/err.h"

struct Pix;

typedef enum {
    PDF_FILTER_DCT,   /* JPEG baseline, 8 bit, 1 or 3 components */
    PDF_FILTER_CCITT, /* CCITT Group 4 (K -1), 1 bit, BlackIs1 false: see below */
    PDF_FILTER_FLATE, /* zlib, raw samples */
} pdf_filter;

/* CCITT polarity. The G4 data codes the ink (text) pixels as its *black*
 * runs — leptonica's 1 pixels, as produced by its G4 encoder. Decoded with
 * /BlackIs1 false (the PDF default) black runs become sample value 0, so:
 *  - a plain image (is_mask false, /ColorSpace /DeviceGray, /BitsPerComponent
 *    1) shows the ink black on white;
 *  - a stencil mask (is_mask true, /ImageMask true, default /Decode [0 1])
 *    paints `fill_rgb` where the ink is (sample 0) and leaves the rest
 *    transparent.
 * The writer must therefore use /BlackIs1 false and no /Decode array, with
 * /K -1 /Columns width /Rows height. Checked by rendering with pdftoppm.
 * JPEG (DCT) data is baseline, without chroma subsampling for the MRC
 * background; ncomp 1 → /DeviceGray, 3 → /DeviceRGB. */
typedef struct pdf_image {
    pdf_filter filter;
    int width, height;  /* in samples */
    int bpc;            /* bits per component: 8 or 1 */
    int ncomp;          /* 1 (gray / mask) or 3 (RGB) */
    bool is_mask;       /* 1-bit stencil mask: ink (black-run) pixels paint `fill_rgb` */
    uint8_t fill_rgb[3];
    uint8_t *data;      /* the compressed stream, malloc'd */
    size_t len;
} pdf_image;

typedef enum {
    ENCODE_AUTO,  /* MRC for colour/gray scans, G4 for bitonal ones */
    ENCODE_JPEG,  /* whole page as one JPEG (gray or colour) */
    ENCODE_G4,    /* whole page thresholded to 1 bit, CCITT G4 */
    ENCODE_MRC,   /* mixed raster: G4 text mask + low-resolution background */
} encode_mode;

typedef struct encode_options {
    encode_mode mode;
    int jpeg_quality;    /* 1..100, for ENCODE_JPEG (default 75) */
    int mrc_bg_dpi;      /* background resolution for MRC (default 100) */
    int mrc_bg_quality;  /* JPEG quality of the MRC background (default 50) */
} encode_options;

/* Default options (ENCODE_AUTO). */
encode_options encode_defaults(void);

/* Parses "auto", "jpeg", "g4", "mrc"; returns -1 if unknown. */
int encode_mode_parse(const char *name, encode_mode *out);

/* Compresses `pix` (any depth; 32 bpp RGB, 8 bpp gray, 1 bpp, colormapped)
 * scanned at `dpi` into layers. On success *layers is a malloc'd array of
 * *nlayers images (to be freed with encode_free_layers). Colour is never
 * dropped from a colour scan; an RGB scan with no clearly coloured area
 * (about 1.5 mm² of chromatic mid/dark pixels) is a gray document and is
 * encoded as gray.
 *
 * Layers per mode:
 *  - JPEG: one DCT image, 1 component (gray) or 3 (colour), full resolution.
 *  - G4:   one CCITT image (not a mask), the page binarised (prep_binarize).
 *  - MRC:  [0] DCT background at opt->mrc_bg_dpi, gray or colour like the
 *          scan, with the text erased (filled with the surrounding paper);
 *          [1] CCITT stencil mask at full resolution of the dark, neutral
 *          pixels (printed text), painted in their mean dark colour. Coloured
 *          ink (red stamps, blue signatures) stays in the background. Layer
 *          [1] is omitted when the page has no text pixels.
 *  - AUTO: G4 for 1 bpp input, MRC otherwise (MRC of 1 bpp input is G4). */
int encode_page(struct Pix *pix, int dpi, const encode_options *opt, pdf_image **layers,
                size_t *nlayers, sohoa_err *err);

void encode_free_layers(pdf_image *layers, size_t nlayers);

#endif
