/* ocr_config.c — [ocr] keys → pipeline options (see ocr_config.h). */
#include "ocr_config.h"

#include "cli.h"

int ocr_config_apply(const config *cfg, pipeline_options *po, sohoa_err *err)
{
    long v;
    if (config_get_int(cfg, "ocr", "threads", po->threads, 0, 64, &v, err) != 0)
        return -1;
    po->threads = (int)v;
    if (config_get_int(cfg, "ocr", "ocr_dpi", po->ocr_dpi, 0, 1200, &v, err) != 0)
        return -1;
    po->ocr_dpi = (int)v;
    po->ocr.languages = config_get(cfg, "ocr", "languages", po->ocr.languages);
    const char *mode = config_get(cfg, "ocr", "compression", NULL);
    if (mode && encode_mode_parse(mode, &po->encode.mode) != 0)
        return err_set(err, SOHOA_EINPUT,
                       "%s: [ocr] compression = \"%s\": expected auto, mrc, jpeg or g4",
                       cfg->path ? cfg->path : "config", mode);
    return 0;
}

int ocr_cli_option(const char *cmd, int opt, const char *arg, ocr_cli *o)
{
    switch (opt) {
    case OCR_OPT_COMPRESSION:
        if (encode_mode_parse(arg, &o->mode) != 0)
            return usage_error(cmd, "--compression: expected auto, mrc, jpeg or g4");
        o->has_mode = 1;
        return 1;
    case OCR_OPT_KEEP_BLANK: o->keep_blank = 1; return 1;
    case OCR_OPT_THREADS:
        return parse_number(cmd, "--threads", arg, 0, 64, &o->threads) ? SOHOA_EINPUT : 1;
    case OCR_OPT_OCR_DPI:
        return parse_number(cmd, "--ocr-dpi", arg, 0, 1200, &o->ocr_dpi) ? SOHOA_EINPUT : 1;
    case OCR_OPT_LANG: o->lang = arg; return 1;
    default: return 0;
    }
}

int ocr_cli_apply(const ocr_cli *o, const config *cfg, pipeline_options *po, sohoa_err *err)
{
    if (ocr_config_apply(cfg, po, err) != 0)
        return -1;
    if (o->has_mode)
        po->encode.mode = o->mode;
    if (o->threads >= 0)
        po->threads = (int)o->threads;
    if (o->ocr_dpi >= 0)
        po->ocr_dpi = (int)o->ocr_dpi;
    if (o->lang)
        po->ocr.languages = o->lang;
    po->keep_blank = o->keep_blank;
    return 0;
}
