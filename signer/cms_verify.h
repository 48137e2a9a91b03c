/* cms_verify.h — checks one CAdES detached signature (the /Contents of a
 * PAdES signature) for `sohoa verify`.
 *
 * Integrity: messageDigest against the document's byte ranges, hashed with
 * the algorithm the SignerInfo names, and the signature over the DER signed
 * attributes with the signer's public key (RSA PKCS#1 v1.5 / PSS, ECDSA).
 * PAdES conformance: no signingTime attribute; signing-certificate(-v2),
 * when present, names the signer certificate.
 * Trust: the signer's chain to the configured anchors, and every
 * certificate's validity period, at the signing time — the genTime of a
 * valid RFC 3161 timestamp when the signature carries one, else the time
 * the PDF claims (/M). Revocation (CRL/OCSP) is not checked.
 */
#ifndef SOHOA_CMS_VERIFY_H
#define SOHOA_CMS_VERIFY_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../firmware/err.h"

typedef enum {
    SIG_VALID,
    SIG_INVALID_DIGEST,      /* the signed content was modified */
    SIG_INVALID_SIGNATURE,   /* the signature (or its timestamp) does not verify */
    SIG_UNTRUSTED,           /* intact, but no chain to the anchors (or none given) */
    SIG_CERT_EXPIRED,        /* a certificate had expired at the signing time */
    SIG_CERT_NOT_YET_VALID,  /* a certificate was not yet valid at the signing time */
    SIG_MALFORMED,           /* not a detached SignedData with one signer and its certificate */
    SIG_FORBIDDEN_ATTRIBUTE, /* signingTime present: not allowed in PAdES */
} sig_status;

typedef struct cms_verify_result {
    sig_status status;
    char signer[256];    /* subject CN of the signer certificate (UTF-8), "" if unknown */
    time_t signing_time; /* from the timestamp token when present, else the claimed time */
    int has_timestamp;   /* a valid timestamp token fixed signing_time */
    char detail[256];    /* one line: what is wrong, or how it was checked */
} cms_verify_result;

/* Computes the digest of the signed content (the PDF's byte ranges) with
 * `md`, the algorithm the SignerInfo names, into `out` (EVP_MAX_MD_SIZE
 * bytes); sets *out_len. Returns 0 or -1 with err set. */
typedef int (*cms_digest_fn)(void *ctx, const EVP_MD *md, unsigned char *out, unsigned *out_len,
                             sohoa_err *err);

/* Verifies the detached SignedData `der`; the content digest comes from
 * `digest_content` called with the SignerInfo's digest algorithm.
 * `claimed_time` is the signing time the document claims (0 = now);
 * `trust_file` a PEM bundle of trust anchors (NULL = integrity only: the
 * status is then at best SIG_UNTRUSTED). An anchor may be an intermediate CA.
 * Returns 0 when the signature was examined — the verdict is res->status,
 * which is SIG_VALID only if every check passed — or -1 with err set when it
 * could not be (unreadable trust file, digest callback failure). */
int cms_verify_detached_cb(const unsigned char *der, size_t der_len, cms_digest_fn digest_content,
                           void *ctx, time_t claimed_time, const char *trust_file,
                           cms_verify_result *res, sohoa_err *err);

/* The same with a digest the caller computed beforehand. If the SignerInfo
 * names another algorithm than `digest_nid_expected_or_0` (or, with 0, one
 * whose output length differs from digest_len), the call fails with
 * SOHOA_EINPUT: hash again with that algorithm, or use the _cb variant. */
int cms_verify_detached(const unsigned char *der, size_t der_len,
                        const unsigned char *content_digest, size_t digest_len,
                        int digest_nid_expected_or_0, time_t claimed_time, const char *trust_file,
                        cms_verify_result *res, sohoa_err *err);

/* A short English name for a status, e.g. "valid", "content modified". */
const char *sig_status_name(sig_status s);

/* How a certificate is named in results and messages: its subject CN
 * (UTF-8), else the one-line subject; control characters become '?' so the
 * name is safe on a one-line report. Always NUL-terminates `out`. */
void cms_cert_name(const X509 *cert, char *out, size_t cap);

#endif
