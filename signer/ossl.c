/* ossl.c — see ossl.h. */
#include "ossl.h"

#include <stdio.h>

#include <openssl/err.h>

const char *ossl_reason(char *buf, size_t cap)
{
    const char *data = NULL;
    int flags = 0;
    unsigned long e = ERR_peek_last_error_data(&data, &flags);
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    /* the detail text, when there is one, says which (e.g. the
     * certificate verify error) */
    if (data && (flags & ERR_TXT_STRING) && *data)
        snprintf(buf, cap, "%s: %s", r ? r : "OpenSSL error", data);
    else
        snprintf(buf, cap, "%s", r ? r : "no detail from OpenSSL");
    ERR_clear_error();
    return buf;
}
