/* libFuzzer target: metadata.json is read back by the station (register,
 * console edits), so its parser must survive any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    doc_metadata m;
    sohoa_err err = {0};
    if (meta_from_json(text, &m, &err) == 0) {
        char *again = meta_to_json(&m);
        free(again);
        meta_free(&m);
    }
    free(text);
    return 0;
}
