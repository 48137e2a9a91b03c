/* libFuzzer target: `sohoa verify` reads the /Contents of PDFs from
 * anywhere; the CMS, certificate and timestamp parsing behind it must
 * survive any bytes. The content digest is fixed: what is exercised is
 * everything before and around the digest comparison. */
#include <stdint.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "signer/cms_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char digest[32] = {1, 2, 3};
    cms_verify_result res;
    sohoa_err err = {0};
    cms_verify_detached(data, size, digest, sizeof digest, NID_sha256, 1700000000, NULL, &res,
                        &err);
    return 0;
}
