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

#include <getopt.h>

#include "../ocr/pipeline.h"
#include "config.h"
#include "err.h"

/* Applies the keys present to `po` (pointers into `cfg`). */
int ocr_config_apply(const config *cfg, pipeline_options *po, sohoa_err *err);

/* The OCR options `sohoa process` and `sohoa scan` share on the command
 * line; they override [ocr]. Add OCR_CLI_LONGOPTS to a getopt_long table
 * and hand every option to ocr_cli_option(). */
enum { OCR_OPT_COMPRESSION = 0x1000, OCR_OPT_KEEP_BLANK, OCR_OPT_THREADS, OCR_OPT_OCR_DPI,
       OCR_OPT_LANG };
#define OCR_CLI_LONGOPTS                                                                          \
    {"compression", required_argument, NULL, OCR_OPT_COMPRESSION},                                \
        {"keep-blank", no_argument, NULL, OCR_OPT_KEEP_BLANK},                                    \
        {"threads", required_argument, NULL, OCR_OPT_THREADS},                                    \
        {"ocr-dpi", required_argument, NULL, OCR_OPT_OCR_DPI},                                    \
        {"lang", required_argument, NULL, OCR_OPT_LANG}

typedef struct ocr_cli {
    int has_mode;
    encode_mode mode;   /* --compression */
    const char *lang;   /* --lang, NULL = unset */
    long threads;       /* --threads, -1 = unset */
    long ocr_dpi;       /* --ocr-dpi, -1 = unset */
    int keep_blank;     /* --keep-blank */
} ocr_cli;

#define OCR_CLI_INIT {0, ENCODE_AUTO, NULL, -1, -1, 0}

/* Takes getopt's `opt` and `arg`: 1 when it is one of the OCR options
 * (stored in *o), 0 when it is not, or exit code 2 after a usage error
 * for a bad value (the message names command `cmd`). */
int ocr_cli_option(const char *cmd, int opt, const char *arg, ocr_cli *o);

/* [ocr] from `cfg`, then the command line over it. */
int ocr_cli_apply(const ocr_cli *o, const config *cfg, pipeline_options *po, sohoa_err *err);

#endif
