/* libFuzzer target: Status packets come from the upload server, over the
 * network, so their parser must survive any bytes (and never expand an
 * entity or fetch anything). */
#include <stdint.h>
#include <string.h>

#include "firmware/edxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edxml_status st;
    sohoa_err err = {0};
    if (edxml_parse_status((const char *)data, size, &st, &err) == 0) {
        /* A success must hold what the header promises. */
        if (!st.response_for || !st.from_organ_id || !st.timestamp || !edxml_status_text(st.code))
            __builtin_trap();
        edxml_status_free(&st);
    } else if (err.status == SOHOA_OK || !memchr(err.msg, '\0', sizeof err.msg) ||
               strchr(err.msg, '\n')) {
        __builtin_trap(); /* a failure must say why, on one line */
    }
    return 0;
}
