/* cms_verify.c — verdict on one CAdES detached signature. */
#include "cms_verify.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl.h"
#include "tsa.h"


/* Sets the verdict and its one-line detail; returns 0 (examined). */
static int verdict(cms_verify_result *res, sig_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int verdict(cms_verify_result *res, sig_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
    res->status = status;
    return 0;
}

static void format_time(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, cap, "(time %lld)", (long long)t);
}

static void format_asn1_time(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, cap, "(unreadable date)");
}

void cms_cert_name(const X509 *cert, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    if (!cert)
        return;
    const X509_NAME *subject = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    int len = -1;
    if (i >= 0)
        len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (len >= 0) {
        size_t n = (size_t)len < cap - 1 ? (size_t)len : cap - 1;
        /* Never cut a UTF-8 sequence in half. */
        while (n > 0 && n < (size_t)len && (utf8[n] & 0xC0) == 0x80)
            n--;
        memcpy(out, utf8, n);
        out[n] = '\0';
    } else if (cap <= INT_MAX) {
        ERR_clear_error();
        X509_NAME_oneline(subject, out, (int)cap);
    }
    OPENSSL_free(utf8);
    for (unsigned char *p = (unsigned char *)out; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

const char *sig_status_name(sig_status s)
{
    switch (s) {
    case SIG_VALID:
        return "valid";
    case SIG_INVALID_DIGEST:
        return "content modified";
    case SIG_INVALID_SIGNATURE:
        return "signature invalid";
    case SIG_UNTRUSTED:
        return "untrusted";
    case SIG_CERT_EXPIRED:
        return "certificate expired";
    case SIG_CERT_NOT_YET_VALID:
        return "certificate not yet valid";
    case SIG_MALFORMED:
        return "malformed";
    case SIG_FORBIDDEN_ATTRIBUTE:
        return "forbidden attribute";
    }
    return "unknown";
}

/* signing-certificate(-v2), when present, must name the signer: this is
 * what stops a substitution of the certificate (RFC 5035). Absence is
 * tolerated so that signatures by other products can still be checked. */
static int signing_cert_matches(CMS_SignerInfo *si, X509 *signer)
{
    ESS_SIGNING_CERT *ss = NULL;
    ESS_SIGNING_CERT_V2 *ssv2 = NULL;
    const ASN1_STRING *v1 = CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3, V_ASN1_SEQUENCE);
    const ASN1_STRING *v2 = CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3, V_ASN1_SEQUENCE);
    int ok = 0;
    if (v1) {
        const unsigned char *p = ASN1_STRING_get0_data(v1);
        if (!(ss = d2i_ESS_SIGNING_CERT(NULL, &p, ASN1_STRING_length(v1))))
            goto out;
    }
    if (v2) {
        const unsigned char *p = ASN1_STRING_get0_data(v2);
        if (!(ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(v2))))
            goto out;
    }
    if (!ss && !ssv2) {
        ok = 1;
        goto out;
    }
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (chain && sk_X509_push(chain, signer))
        ok = OSSL_ESS_check_signing_certs(ss, ssv2, chain, 1) > 0;
    sk_X509_free(chain);
out:
    ERR_clear_error();
    ESS_SIGNING_CERT_free(ss);
    ESS_SIGNING_CERT_V2_free(ssv2);
    return ok;
}

/* The certificate in `certs` that the SignerInfo identifies. */
static X509 *find_signer(CMS_SignerInfo *si, STACK_OF(X509) * certs)
{
    for (int i = 0; i < sk_X509_num(certs); i++)
        if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
            return sk_X509_value(certs, i);
    return NULL;
}

/* Checks the timestamp token, if any; fills has_timestamp/signing_time.
 * Returns 1 to go on, 0 when it settled the verdict. */
static int check_timestamp(CMS_SignerInfo *si, const char *trust_file, cms_verify_result *res)
{
    int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    if (idx < 0)
        return 1;
    if (CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, idx) >= 0)
        return verdict(res, SIG_MALFORMED, "more than one timestamp attribute");
    X509_ATTRIBUTE *attr = CMS_unsigned_get_attr(si, idx);
    ASN1_TYPE *value = X509_ATTRIBUTE_count(attr) == 1 ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
    if (!value || value->type != V_ASN1_SEQUENCE)
        return verdict(res, SIG_MALFORMED, "timestamp attribute is not a single TimeStampToken");
    const ASN1_STRING *tok = value->value.sequence;
    const ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    sohoa_err terr = {0};
    tsa_token_info info;
    int v = tsa_token_verify(ASN1_STRING_get0_data(tok), (size_t)ASN1_STRING_length(tok),
                             ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
                             trust_file, &info, &terr);
    if (v == TSA_TOKEN_UNTRUSTED)
        return verdict(res, SIG_UNTRUSTED, "%s", terr.msg);
    if (v != 0)
        return verdict(res, SIG_INVALID_SIGNATURE, "%s", terr.msg);
    res->signing_time = info.gen_time;
    res->has_timestamp = 1;
    return 1;
}

/* Chains the signer to the anchors at the signing time. */
static int check_chain(X509_STORE *store, X509 *signer, STACK_OF(X509) * certs,
                       cms_verify_result *res, sohoa_err *err)
{
    X509_STORE_CTX *xc = X509_STORE_CTX_new();
    if (!xc || !X509_STORE_CTX_init(xc, store, signer, certs)) {
        X509_STORE_CTX_free(xc);
        return err_set(err, SOHOA_EWORK, "signature check: out of memory");
    }
    X509_STORE_CTX_set_time(xc, 0, res->signing_time);
    /* An organization may trust an intermediate CA (e.g. the Government
     * CA's issuing CA) without its root. */
    X509_STORE_CTX_set_flags(xc, X509_V_FLAG_PARTIAL_CHAIN);
    char when[40], name[128];
    format_time(res->signing_time, when, sizeof when);
    if (X509_verify_cert(xc) == 1) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xc);
        cms_cert_name(sk_X509_value(chain, sk_X509_num(chain) - 1), name, sizeof name);
        verdict(res, SIG_VALID, "chain to '%s' valid at %s%s", name, when,
                res->has_timestamp ? " (timestamp)" : " (claimed time)");
    } else {
        int e = X509_STORE_CTX_get_error(xc);
        cms_cert_name(X509_STORE_CTX_get_current_cert(xc), name, sizeof name);
        sig_status s = e == X509_V_ERR_CERT_HAS_EXPIRED     ? SIG_CERT_EXPIRED
                       : e == X509_V_ERR_CERT_NOT_YET_VALID ? SIG_CERT_NOT_YET_VALID
                                                            : SIG_UNTRUSTED;
        verdict(res, s, "%scertificate '%s': %s (at %s)",
                s == SIG_UNTRUSTED ? "no chain to the trust anchors: " : "", name,
                X509_verify_cert_error_string(e), when);
    }
    ERR_clear_error();
    X509_STORE_CTX_free(xc);
    return 0;
}

/* All checks once the SignedData is parsed; `store` may be NULL. */
static int examine(CMS_ContentInfo *cms, cms_digest_fn digest_content, void *ctx,
                   const char *trust_file, X509_STORE *store, cms_verify_result *res,
                   sohoa_err *err)
{
    char why[160], when[40], bound[40];
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
        return verdict(res, SIG_MALFORMED, "not a CMS SignedData");
    if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
        return verdict(res, SIG_MALFORMED, "encapsulated content type is not id-data");
    ASN1_OCTET_STRING **content = CMS_get0_content(cms);
    if (content && *content)
        return verdict(res, SIG_MALFORMED, "content embedded, expected a detached signature");
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(sis) != 1)
        return verdict(res, SIG_MALFORMED, "%d signers, expected exactly one",
                       sk_CMS_SignerInfo_num(sis));
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);

    STACK_OF(X509) *certs = CMS_get1_certs(cms);
    X509 *signer = find_signer(si, certs);
    int rc = 0;
    if (!signer) {
        verdict(res, SIG_MALFORMED, "signer certificate not included in the signature");
        goto out;
    }
    CMS_SignerInfo_set1_signer_cert(si, signer);
    cms_cert_name(signer, res->signer, sizeof res->signer);

    if (CMS_signed_get_attr_count(si) <= 0) {
        verdict(res, SIG_MALFORMED, "no signed attributes (not CAdES)");
        goto out;
    }
    const ASN1_OBJECT *ctype =
        CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT);
    if (!ctype || OBJ_obj2nid(ctype) != NID_pkcs7_data) {
        verdict(res, SIG_MALFORMED, "contentType attribute missing or not id-data");
        goto out;
    }
    const ASN1_OCTET_STRING *md_attr = CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);
    if (!md_attr) {
        verdict(res, SIG_MALFORMED, "messageDigest attribute missing or repeated");
        goto out;
    }

    /* Integrity of the content, with the algorithm the signer chose. */
    X509_ALGOR *dig_alg = NULL;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig_alg, NULL);
    const ASN1_OBJECT *dig_obj = NULL;
    X509_ALGOR_get0(&dig_obj, NULL, NULL, dig_alg);
    const EVP_MD *md = EVP_get_digestbyobj(dig_obj);
    if (!md) {
        verdict(res, SIG_MALFORMED, "unknown digest algorithm");
        goto out;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    if (digest_content(ctx, md, digest, &digest_len, err) < 0) {
        rc = -1;
        goto out;
    }
    if (ASN1_STRING_length(md_attr) != (int)digest_len ||
        memcmp(ASN1_STRING_get0_data(md_attr), digest, digest_len) != 0) {
        verdict(res, SIG_INVALID_DIGEST, "the document was modified after signing (%s differs)",
                EVP_MD_get0_name(md));
        goto out;
    }
    /* The signature over the DER signed attributes (RSA PKCS#1 v1.5 or PSS
     * parameters as encoded, ECDSA). */
    if (CMS_SignerInfo_verify(si) != 1) {
        verdict(res, SIG_INVALID_SIGNATURE, "signature does not verify with the key of '%s' (%s)",
                res->signer, ossl_reason(why, sizeof why));
        goto out;
    }
    if (!signing_cert_matches(si, signer)) {
        verdict(res, SIG_INVALID_SIGNATURE,
                "signing-certificate attribute does not name the signer certificate");
        goto out;
    }
    if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0) {
        verdict(res, SIG_FORBIDDEN_ATTRIBUTE, "signingTime attribute present (PAdES forbids it)");
        goto out;
    }
    if (!check_timestamp(si, trust_file, res))
        goto out;

    /* The signer's validity at the signing time, named precisely before
     * the chain check reports it more vaguely. X509_cmp_time(): -1 when
     * the certificate's time is at or before, 1 when after, 0 unreadable. */
    format_time(res->signing_time, when, sizeof when);
    int before = X509_cmp_time(X509_get0_notBefore(signer), &res->signing_time);
    int after = X509_cmp_time(X509_get0_notAfter(signer), &res->signing_time);
    if (before == 0 || after == 0) {
        verdict(res, SIG_MALFORMED, "certificate '%s': unreadable validity dates", res->signer);
        goto out;
    }
    if (before > 0) {
        format_asn1_time(X509_get0_notBefore(signer), bound, sizeof bound);
        verdict(res, SIG_CERT_NOT_YET_VALID,
                "certificate '%s' not valid before %s, after the signing time %s (%s)", res->signer,
                bound, when, res->has_timestamp ? "timestamp" : "claimed");
        goto out;
    }
    if (after < 0) {
        format_asn1_time(X509_get0_notAfter(signer), bound, sizeof bound);
        verdict(res, SIG_CERT_EXPIRED,
                "certificate '%s' expired %s, before the signing time %s (%s)", res->signer, bound,
                when, res->has_timestamp ? "timestamp" : "claimed");
        goto out;
    }
    if (!store) {
        verdict(res, SIG_UNTRUSTED, "intact, but no trust anchors configured to check '%s'",
                res->signer);
        goto out;
    }
    rc = check_chain(store, signer, certs, res, err);
out:
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

int cms_verify_detached_cb(const unsigned char *der, size_t der_len, cms_digest_fn digest_content,
                           void *ctx, time_t claimed_time, const char *trust_file,
                           cms_verify_result *res, sohoa_err *err)
{
    memset(res, 0, sizeof *res);
    res->status = SIG_MALFORMED;
    res->signing_time = claimed_time ? claimed_time : time(NULL);

    char why[160];
    X509_STORE *store = NULL;
    if (trust_file) {
        store = X509_STORE_new();
        if (!store || X509_STORE_load_file(store, trust_file) != 1) {
            X509_STORE_free(store);
            return err_set(err, SOHOA_EINPUT,
                           "trust file %s: cannot read PEM certificates (%s); check the path",
                           trust_file, ossl_reason(why, sizeof why));
        }
    }
    const unsigned char *p = der;
    CMS_ContentInfo *cms =
        der_len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)der_len) : NULL;
    int rc = 0;
    if (!cms) {
        ERR_clear_error();
        verdict(res, SIG_MALFORMED, "not a DER CMS SignedData");
    } else {
        /* A PDF's /Contents is zero-padded after the DER; anything else
         * after it is not part of a signature. */
        int clean = 1;
        for (const unsigned char *q = p; q < der + der_len && clean; q++)
            clean = *q == 0;
        if (!clean)
            verdict(res, SIG_MALFORMED, "data after the CMS SignedData");
        else
            rc = examine(cms, digest_content, ctx, trust_file, store, res, err);
    }
    CMS_ContentInfo_free(cms);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

/* A digest the caller computed beforehand, offered as a callback. */
typedef struct fixed_digest {
    const unsigned char *digest;
    size_t len;
    int nid;
} fixed_digest;

static int fixed_digest_cb(void *ctx, const EVP_MD *md, unsigned char *out, unsigned *out_len,
                           sohoa_err *err)
{
    const fixed_digest *f = ctx;
    int nid = EVP_MD_get_type(md);
    if ((f->nid && f->nid != nid) || f->len != (size_t)EVP_MD_get_size(md)) {
        const char *given = f->nid ? OBJ_nid2sn(f->nid) : NULL;
        return err_set(err, SOHOA_EINPUT,
                       "content digest: the signature uses %s but the digest given is %s%s%zu "
                       "bytes; hash the byte ranges with %s",
                       EVP_MD_get0_name(md), given ? given : "", given ? ", " : "", f->len,
                       EVP_MD_get0_name(md));
    }
    memcpy(out, f->digest, f->len);
    *out_len = (unsigned)f->len;
    return 0;
}

int cms_verify_detached(const unsigned char *der, size_t der_len,
                        const unsigned char *content_digest, size_t digest_len,
                        int digest_nid_expected_or_0, time_t claimed_time, const char *trust_file,
                        cms_verify_result *res, sohoa_err *err)
{
    fixed_digest f = {content_digest, digest_len, digest_nid_expected_or_0};
    return cms_verify_detached_cb(der, der_len, fixed_digest_cb, &f, claimed_time, trust_file, res,
                                  err);
}
