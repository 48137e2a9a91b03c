/* cms.h — the CMS side of a PAdES signature: a CAdES detached SignedData
 * whose signature is made by the organization's token.
 *
 * The PDF side (signer/pades.c) hashes the document's byte ranges and hands
 * the digest here; what comes back is the DER that goes into /Contents.
 *
 * Signed attributes are exactly contentType (id-data), messageDigest and
 * signing-certificate-v2 (ESSCertIDv2 with issuerSerial). There is never a
 * signingTime: PAdES forbids it, the time is the PDF's /M and, with a TSA,
 * the timestamp token added by cms_add_timestamp() (PAdES B-T).
 */
#ifndef SOHOA_CMS_H
#define SOHOA_CMS_H

#include <stddef.h>
#include <time.h>

#include "../firmware/err.h"
#include "token.h"

typedef struct cms_sign_opts {
    int md_nid;              /* NID_sha256 (default when 0), NID_sha384 or NID_sha512 */
    token_sig_scheme scheme; /* 0 = PKCS#1 v1.5 for an RSA key, ECDSA for an EC key */
    time_t now;              /* for the certificate validity check; 0 = the current time */
} cms_sign_opts;

/* Builds a DER CMS SignedData (detached, eContentType id-data) whose
 * messageDigest is `content_digest` (hashed by the caller with opts->md_nid).
 * The signer certificate and any chain certificates the token holds go into
 * `certificates`. The signature the token returns is checked against the
 * certificate before the DER is handed out, so a token that signed with
 * another key is caught here and not by the recipient.
 * Refuses (SOHOA_EWORK) a certificate that is expired or not yet valid at
 * `now`, that does not allow digital signatures, or whose key is weak (RSA
 * below 2048 bits, EC below 256 bits). Bad options (unknown digest, digest
 * length, scheme that does not fit the key) are SOHOA_EINPUT.
 * *der is malloc'ed; the caller frees it. Returns 0 or -1 with err set. */
int cms_sign_detached(token *t, const unsigned char *content_digest, size_t digest_len,
                      const cms_sign_opts *opts, unsigned char **der, size_t *der_len,
                      sohoa_err *err);

/* Copies the signature value of the (single) SignerInfo of `der` — what an
 * RFC 3161 timestamp of a CAdES-T signature is computed over.
 * *sig is malloc'ed. Returns 0 or -1 with err set. */
int cms_signature_value(const unsigned char *der, size_t der_len, unsigned char **sig,
                        size_t *sig_len, sohoa_err *err);

/* Adds `token_der` (a TimeStampToken from tsa_timestamp()) to the single
 * SignerInfo of the SignedData in *der as the unsigned attribute
 * id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14) and re-encodes it;
 * *der is replaced by a new malloc'ed buffer (the old one is freed) only on
 * success. Refuses a token whose message imprint is not the hash of this
 * signature value, and a SignedData that already carries a timestamp.
 * Returns 0 or -1 with err set. */
int cms_add_timestamp(unsigned char **der, size_t *der_len, const unsigned char *token_der,
                      size_t token_len, sohoa_err *err);

#endif
