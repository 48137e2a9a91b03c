/* ocr_config.h — the [ocr] section of the configuration as pipeline
 * options, shared by `sohoa process` and the station.
 *
 *   threads     worker threads, 0 = one per CPU (default)
 *   ocr_dpi     resolution OCR reads at (default 200; 0 = native)
 *   languages   Tesseract languages (default vie)
 *   compression auto | mrc | jpeg | g4
 */
#ifndef SOHOA_OCR_CONFIG_H
#define SOHOA_OCR_CONFIG_H

#include "../ocr/pipeline.h"
#include "config.h"
#include "err.h"

/* Applies the keys present to `po` (pointers into `cfg`). */
int ocr_config_apply(const config *cfg, pipeline_options *po, sohoa_err *err);

#endif
