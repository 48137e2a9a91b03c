/* tsa.h — RFC 3161 timestamps for PAdES B-T signatures.
 *
 * The timestamp is taken over the signature value of the CMS SignerInfo
 * (CAdES signature-time-stamp) and added as an unsigned attribute by
 * cms_add_timestamp() (signer/cms.h). The same check of a token serves the
 * signing side (right after the TSA answered) and verification.
 *
 * Uses libcurl: main() calls curl_global_init() once before any thread
 * starts; curl_easy_init() would otherwise do it lazily, which is not
 * thread-safe.
 */
#ifndef SOHOA_TSA_H
#define SOHOA_TSA_H

#include <stddef.h>
#include <time.h>

#include "../firmware/err.h"

typedef struct cms_tsa_opts {
    long timeout_s;         /* whole exchange, connection included; 0 = 30 s */
    const char *ca_file;    /* https: PEM anchors for the TSA server; NULL = system store */
    const char *trust_file; /* PEM anchors the TSA's signing certificate must chain to;
                               NULL = check the token's signature and EKU only */
    const char *userpwd;    /* "user:password" for HTTP basic auth; NULL = none */
} cms_tsa_opts;

/* Asks the TSA at `url` (http or https) for a timestamp over `sig_value`:
 * builds a TimeStampReq (imprint = hash of sig_value with `md_nid`, random
 * 64-bit nonce, certReq true), POSTs it as application/timestamp-query, and
 * checks the TimeStampResp: status granted, same nonce and imprint, token
 * signed by a certificate with the (critical) timeStamping EKU, chained to
 * o->trust_file when given. *token_der (malloc'ed) is the TimeStampToken.
 * Errors (all SOHOA_EWORK unless noted), each saying which:
 *   unreachable / timeout / TLS failure: "...; retry later";
 *   HTTP status other than 200;
 *   TSA refused: its PKIStatus, failure info and status text;
 *   malformed response, wrong nonce or imprint, bad token signature;
 *   bad arguments (empty URL, unknown digest): SOHOA_EINPUT.
 * Returns 0 or -1 with err set. */
int tsa_timestamp(const char *url, const cms_tsa_opts *o, const unsigned char *sig_value,
                  size_t len, int md_nid, unsigned char **token_der, size_t *token_len,
                  sohoa_err *err);

/* What a verified timestamp token says. */
typedef struct tsa_token_info {
    time_t gen_time;    /* genTime of the TSTInfo */
    char tsa_name[128]; /* subject CN of the TSA's signing certificate (UTF-8) */
} tsa_token_info;

/* tsa_token_verify() result when the token is intact but its signer does
 * not chain to the trust anchors. */
#define TSA_TOKEN_UNTRUSTED (-2)

/* Checks a TimeStampToken against the signature value it should cover:
 * parses it, checks that its message imprint is the hash of `sig_value`
 * (with the algorithm the imprint names), that its CMS signature is valid,
 * and that the signer has the critical timeStamping EKU. With `trust_file`,
 * also checks the signer's chain to those anchors at the token's genTime and
 * the ESS signing-certificate binding. `info` may be NULL.
 * Returns 0 when valid, TSA_TOKEN_UNTRUSTED when only the chain fails, -1
 * when the token is malformed or does not match (err set in both cases). */
int tsa_token_verify(const unsigned char *token_der, size_t token_len,
                     const unsigned char *sig_value, size_t sig_len, const char *trust_file,
                     tsa_token_info *info, sohoa_err *err);

#endif
