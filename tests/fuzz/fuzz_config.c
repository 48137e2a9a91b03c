/* libFuzzer target: the INI parser takes files an operator edits by hand
 * and, through the console, text typed over a serial line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    config cfg;
    sohoa_err err = {0};
    if (config_parse(&cfg, text, "fuzz.conf", &err) == 0) {
        long v;
        config_get(&cfg, "station", "organ_id", NULL);
        config_get_int(&cfg, "ocr", "threads", 0, 0, 64, &v, &err);
        config_free(&cfg);
    }
    free(text);
    return 0;
}
