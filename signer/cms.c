/* cms.c — CAdES detached SignedData signed by a token; timestamp attribute.
 *
 * OpenSSL's CMS_final() would add signingTime (forbidden in PAdES) and wants
 * the private key, which stays on the token. So the SignedData is built
 * "partial" around the certificate's public key, the signed attributes are
 * added here, their DER SET is hashed and the token signs that hash.
 */
#include "cms.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl.h"
#include "../firmware/log.h"
#include "certcheck.h"
#include "cms_verify.h"
#include "tsa.h"

/* Certificates a token may hold besides the signer's; more is not a chain. */
#define CMS_MAX_CHAIN 8

/* The signed attributes as a DER SET OF (defined at the end of the file). */
static const ASN1_ITEM *CMS_ATTR_SET_it(void);


/* The digests PAdES signatures may use here (Thông tư 15/2025: SHA-2). */
static const EVP_MD *allowed_md(int nid)
{
    if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
        return NULL;
    return EVP_get_digestbynid(nid);
}

/* RSASSA-PSS AlgorithmIdentifier with explicit parameters (RFC 4055):
 * hash `md`, MGF1 with `md`, salt length = hash length, trailer 1. This is
 * what the token computes for TOKEN_SIG_RSA_PSS. */
static int set_pss_algorithm(X509_ALGOR *alg, const EVP_MD *md)
{
    RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
    X509_ALGOR *mgf1_md = X509_ALGOR_new();
    ASN1_STRING *mgf1_params = NULL, *params = NULL;
    int ok = 0;

    if (!pss || !mgf1_md)
        goto out;
    pss->hashAlgorithm = X509_ALGOR_new();
    pss->maskGenAlgorithm = X509_ALGOR_new();
    pss->saltLength = ASN1_INTEGER_new();
    if (!pss->hashAlgorithm || !pss->maskGenAlgorithm || !pss->saltLength)
        goto out;
    X509_ALGOR_set_md(pss->hashAlgorithm, md);
    X509_ALGOR_set_md(mgf1_md, md);
    if (!ASN1_item_pack(mgf1_md, ASN1_ITEM_rptr(X509_ALGOR), &mgf1_params))
        goto out;
    if (!X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE,
                         mgf1_params))
        goto out;
    mgf1_params = NULL;
    if (!ASN1_INTEGER_set(pss->saltLength, EVP_MD_get_size(md)))
        goto out;
    if (!ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), &params))
        goto out;
    if (!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params))
        goto out;
    params = NULL;
    ok = 1;
out:
    ASN1_STRING_free(mgf1_params);
    ASN1_STRING_free(params);
    X509_ALGOR_free(mgf1_md);
    RSA_PSS_PARAMS_free(pss);
    return ok;
}

/* DER of the SignerInfo's signed attributes as a SET; *out is OpenSSL-
 * allocated. Returns the length or -1. */
static int signed_attrs_der(CMS_SignerInfo *si, unsigned char **out)
{
    STACK_OF(X509_ATTRIBUTE) *set = sk_X509_ATTRIBUTE_new_null();
    if (!set)
        return -1;
    for (int i = 0; i < CMS_signed_get_attr_count(si); i++) {
        if (!sk_X509_ATTRIBUTE_push(set, CMS_signed_get_attr(si, i))) {
            sk_X509_ATTRIBUTE_free(set);
            return -1;
        }
    }
    /* The stack only borrows the attributes (encoding may reorder it). */
    int len = ASN1_item_i2d((ASN1_VALUE *)set, out, ASN1_ITEM_rptr(CMS_ATTR_SET));
    sk_X509_ATTRIBUTE_free(set);
    return len > 0 ? len : -1;
}

/* DER-encodes `cms` into a malloc'ed buffer. */
static int encode_cms(CMS_ContentInfo *cms, unsigned char **der, size_t *der_len, sohoa_err *err)
{
    char why[160];
    int n = i2d_CMS_ContentInfo(cms, NULL);
    if (n <= 0)
        return err_set(err, SOHOA_EWORK, "CMS signature: cannot encode (%s)",
                       ossl_reason(why, sizeof why));
    unsigned char *buf = malloc((size_t)n);
    if (!buf)
        return err_set(err, SOHOA_EWORK, "CMS signature: out of memory (%d bytes)", n);
    unsigned char *p = buf;
    if (i2d_CMS_ContentInfo(cms, &p) != n) {
        free(buf);
        return err_set(err, SOHOA_EWORK, "CMS signature: cannot encode (%s)",
                       ossl_reason(why, sizeof why));
    }
    *der = buf;
    *der_len = (size_t)n;
    return 0;
}

/* Parses a SignedData with exactly one SignerInfo (what PAdES allows). */
static CMS_ContentInfo *parse_single_signer(const unsigned char *der, size_t der_len,
                                            CMS_SignerInfo **si, sohoa_err *err)
{
    const unsigned char *p = der;
    CMS_ContentInfo *cms =
        der_len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)der_len) : NULL;
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        ERR_clear_error();
        CMS_ContentInfo_free(cms);
        err_set(err, SOHOA_EINPUT, "CMS signature: not a DER SignedData");
        return NULL;
    }
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(sis) != 1) {
        err_set(err, SOHOA_EINPUT, "CMS signature: %d signers, expected exactly one",
                sk_CMS_SignerInfo_num(sis));
        CMS_ContentInfo_free(cms);
        return NULL;
    }
    *si = sk_CMS_SignerInfo_value(sis, 0);
    return cms;
}

/* Reads the token's extra certificates; unreadable ones are skipped with a
 * warning since the signature stays valid without them. */
static STACK_OF(X509) * token_chain(token *t, sohoa_err *err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (!chain) {
        err_set(err, SOHOA_EWORK, "token %s: out of memory", t->description);
        return NULL;
    }
    if (!t->ops->chain)
        return chain;
    unsigned char *der[CMS_MAX_CHAIN] = {0};
    size_t len[CMS_MAX_CHAIN] = {0};
    int n = t->ops->chain(t, der, len, CMS_MAX_CHAIN, err);
    if (n < 0) {
        sk_X509_free(chain);
        return NULL;
    }
    for (int i = 0; i < n && i < CMS_MAX_CHAIN; i++) {
        const unsigned char *p = der[i];
        X509 *x = d2i_X509(NULL, &p, (long)len[i]);
        if (!x || !sk_X509_push(chain, x)) {
            ERR_clear_error();
            log_warn("token %s: chain certificate %d is not valid DER X.509; left out",
                     t->description, i);
            X509_free(x);
        }
        free(der[i]);
    }
    return chain;
}

/* Adds the chain certificates to `cms`, skipping any already present
 * (CMS_add1_cert() refuses duplicates). */
static int add_chain(CMS_ContentInfo *cms, X509 *signer, STACK_OF(X509) * chain, sohoa_err *err)
{
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        int dup = !X509_cmp(x, signer);
        for (int j = 0; j < i && !dup; j++)
            dup = !X509_cmp(x, sk_X509_value(chain, j));
        if (!dup && !CMS_add1_cert(cms, x)) {
            char why[160];
            return err_set(err, SOHOA_EWORK, "CMS signature: cannot add chain certificate (%s)",
                           ossl_reason(why, sizeof why));
        }
    }
    return 0;
}

int cms_sign_detached(token *t, const unsigned char *content_digest, size_t digest_len,
                      const cms_sign_opts *opts, unsigned char **der, size_t *der_len,
                      sohoa_err *err)
{
    *der = NULL;
    *der_len = 0;
    int md_nid = opts && opts->md_nid ? opts->md_nid : NID_sha256;
    const EVP_MD *md = allowed_md(md_nid);
    if (!md) {
        const char *sn = OBJ_nid2sn(md_nid);
        return err_set(err, SOHOA_EINPUT,
                       "signature digest %s: not allowed; use SHA-256, SHA-384 or SHA-512",
                       sn ? sn : "(unknown)");
    }
    if (digest_len != (size_t)EVP_MD_get_size(md))
        return err_set(err, SOHOA_EINPUT, "content digest: %zu bytes, but %s has %d", digest_len,
                       EVP_MD_get0_name(md), EVP_MD_get_size(md));
    time_t now = opts && opts->now ? opts->now : time(NULL);

    char why[160];
    int rc = -1;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    CMS_ContentInfo *cms = NULL;
    unsigned char *cert_der = NULL, *attrs = NULL, *sig = NULL;
    size_t cert_len = 0, sig_len = 0;

    if (token_certificate(t, &cert_der, &cert_len, err) < 0)
        goto out;
    /* Expired, not yet valid, weak key, keyUsage not for signing. */
    if (token_check_cert_validity(cert_der, cert_len, now, err) < 0)
        goto out;
    const unsigned char *p = cert_der;
    cert = cert_len <= LONG_MAX ? d2i_X509(NULL, &p, (long)cert_len) : NULL;
    if (!cert) {
        ERR_clear_error();
        err_set(err, SOHOA_EWORK,
                "token %s: its certificate is not valid DER X.509; re-import the certificate",
                t->description);
        goto out;
    }

    EVP_PKEY *pub = X509_get0_pubkey(cert);
    int is_rsa = EVP_PKEY_is_a(pub, "RSA");
    token_sig_scheme scheme = opts && opts->scheme ? opts->scheme
                              : is_rsa             ? TOKEN_SIG_RSA_PKCS1
                                                   : TOKEN_SIG_ECDSA;
    if (is_rsa ? scheme == TOKEN_SIG_ECDSA : scheme != TOKEN_SIG_ECDSA) {
        err_set(err, SOHOA_EINPUT, "signature scheme %d does not fit the token's %s key",
                (int)scheme, is_rsa ? "RSA" : "EC");
        goto out;
    }

    chain = token_chain(t, err);
    if (!chain)
        goto out;

    /* No CMS_final() (see the top of this file); CMS_CADES makes
     * CMS_add1_signer() add signing-certificate-v2 with issuerSerial. */
    const unsigned flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES;
    cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, cert, pub, md, flags) : NULL;
    if (!si) {
        err_set(err, SOHOA_EWORK, "CMS signature: cannot set up the signer (%s)",
                ossl_reason(why, sizeof why));
        goto out;
    }
    if (scheme == TOKEN_SIG_RSA_PSS) {
        X509_ALGOR *sig_alg = NULL;
        CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig_alg);
        if (!sig_alg || !set_pss_algorithm(sig_alg, md)) {
            err_set(err, SOHOA_EWORK, "CMS signature: cannot set RSASSA-PSS parameters (%s)",
                    ossl_reason(why, sizeof why));
            goto out;
        }
    }
    if (!CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                     OBJ_nid2obj(NID_pkcs7_data), -1) ||
        !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
                                     content_digest, (int)digest_len)) {
        err_set(err, SOHOA_EWORK, "CMS signature: cannot add signed attributes (%s)",
                ossl_reason(why, sizeof why));
        goto out;
    }
    if (add_chain(cms, cert, chain, err) < 0)
        goto out;

    /* OpenSSL sorts the signed attributes (DER SET OF) when it encodes them
     * but verifies them in the order held in memory; a round trip through
     * DER gives both the order the recipient will see. */
    unsigned char *tmp = NULL;
    size_t tmp_len = 0;
    if (encode_cms(cms, &tmp, &tmp_len, err) < 0)
        goto out;
    CMS_ContentInfo_free(cms);
    cms = parse_single_signer(tmp, tmp_len, &si, err);
    free(tmp);
    if (!cms)
        goto out;
    CMS_SignerInfo_set1_signer_cert(si, cert);

    int attrs_len = signed_attrs_der(si, &attrs);
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned hash_len = 0;
    if (attrs_len < 0 || !EVP_Digest(attrs, (size_t)attrs_len, hash, &hash_len, md, NULL)) {
        err_set(err, SOHOA_EWORK, "CMS signature: cannot encode the signed attributes (%s)",
                ossl_reason(why, sizeof why));
        goto out;
    }
    if (token_sign_digest(t, scheme, md_nid, hash, hash_len, &sig, &sig_len, err) < 0)
        goto out;
    if (sig_len > INT_MAX ||
        !ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)sig_len)) {
        err_set(err, SOHOA_EWORK, "CMS signature: cannot store the signature value");
        goto out;
    }
    /* A token that signed with another key than its certificate's, or with
     * another scheme, would otherwise produce a PDF nobody can verify. */
    if (CMS_SignerInfo_verify(si) != 1) {
        ERR_clear_error();
        char name[160];
        cms_cert_name(cert, name, sizeof name);
        err_set(err, SOHOA_EWORK,
                "token %s: its signature does not verify with certificate '%s' (key and "
                "certificate do not match?); check [token] key_label",
                t->description, name);
        goto out;
    }
    if (encode_cms(cms, der, der_len, err) < 0)
        goto out;
    log_debug("CMS signature: %zu bytes, %s, token %s", *der_len, EVP_MD_get0_name(md),
              t->description);
    rc = 0;
out:
    free(cert_der);
    free(sig);
    OPENSSL_free(attrs);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    CMS_ContentInfo_free(cms);
    return rc;
}

int cms_signature_value(const unsigned char *der, size_t der_len, unsigned char **sig,
                        size_t *sig_len, sohoa_err *err)
{
    *sig = NULL;
    *sig_len = 0;
    CMS_SignerInfo *si = NULL;
    CMS_ContentInfo *cms = parse_single_signer(der, der_len, &si, err);
    if (!cms)
        return -1;
    ASN1_OCTET_STRING *s = CMS_SignerInfo_get0_signature(si);
    int n = ASN1_STRING_length(s);
    int rc = -1;
    if (n <= 0) {
        err_set(err, SOHOA_EINPUT, "CMS signature: empty signature value");
    } else if (!(*sig = malloc((size_t)n))) {
        err_set(err, SOHOA_EWORK, "CMS signature: out of memory");
    } else {
        memcpy(*sig, ASN1_STRING_get0_data(s), (size_t)n);
        *sig_len = (size_t)n;
        rc = 0;
    }
    CMS_ContentInfo_free(cms);
    return rc;
}

int cms_add_timestamp(unsigned char **der, size_t *der_len, const unsigned char *token_der,
                      size_t token_len, sohoa_err *err)
{
    CMS_SignerInfo *si = NULL;
    CMS_ContentInfo *cms = parse_single_signer(*der, *der_len, &si, err);
    if (!cms)
        return -1;
    int rc = -1;
    char why[160];
    unsigned char *out = NULL;
    size_t out_len = 0;
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);

    if (CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1) >= 0) {
        err_set(err, SOHOA_EINPUT, "CMS signature: already has a timestamp");
        goto out;
    }
    if (token_len > INT_MAX) {
        err_set(err, SOHOA_EINPUT, "timestamp token: too large (%zu bytes)", token_len);
        goto out;
    }
    /* Guards against pairing a token with the wrong signature. */
    if (tsa_token_verify(token_der, token_len, ASN1_STRING_get0_data(sig),
                         (size_t)ASN1_STRING_length(sig), NULL, NULL, err) != 0)
        goto out;
    /* V_ASN1_SEQUENCE: the attribute value is the token's DER as is. */
    if (!CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                       token_der, (int)token_len)) {
        err_set(err, SOHOA_EWORK, "CMS signature: cannot add the timestamp attribute (%s)",
                ossl_reason(why, sizeof why));
        goto out;
    }
    if (encode_cms(cms, &out, &out_len, err) < 0)
        goto out;
    free(*der);
    *der = out;
    *der_len = out_len;
    rc = 0;
out:
    CMS_ContentInfo_free(cms);
    return rc;
}

/* The signed attributes as a DER SET OF, which is what the signature covers
 * (RFC 5652 §5.4: the [0] IMPLICIT tag is replaced by SET). OpenSSL keeps
 * its own template for this private, so declare the same one here. */
/* clang-format off */
ASN1_ITEM_TEMPLATE(CMS_ATTR_SET) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_ORDER, 0, CMS_ATTR_SET, X509_ATTRIBUTE)
static_ASN1_ITEM_TEMPLATE_END(CMS_ATTR_SET)
