/* ocr_config.c — [ocr] keys → pipeline options (see ocr_config.h). */
#include "ocr_config.h"

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
