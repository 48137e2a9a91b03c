/* tsa.c — RFC 3161 client (TimeStampReq over HTTP) and token checks. */
#include "tsa.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ossl.h"
#include "../firmware/log.h"
#include "cms_verify.h"

/* A TimeStampResp is a few KiB; anything far larger is not one. */
#define TSA_MAX_RESPONSE (256 * 1024)
#define TSA_DEFAULT_TIMEOUT_S 30


/* The URL as it may appear in messages and logs: without "user:pass@". */
static void url_for_message(const char *url, char *out, size_t cap)
{
    const char *host = strstr(url, "://");
    const char *at = host ? strchr(host + 3, '@') : NULL;
    const char *slash = host ? strchr(host + 3, '/') : NULL;
    if (at && (!slash || at < slash))
        snprintf(out, cap, "%.*s%s", (int)(host + 3 - url), url, at + 1);
    else
        snprintf(out, cap, "%s", url);
}

typedef struct response {
    unsigned char *data;
    size_t len;
    int too_big;
} response;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    response *r = userdata;
    size_t n = size * nmemb;
    if (n > TSA_MAX_RESPONSE - r->len) {
        r->too_big = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    unsigned char *p = realloc(r->data, r->len + n);
    if (!p)
        return 0;
    memcpy(p + r->len, ptr, n);
    r->data = p;
    r->len += n;
    return n;
}

/* Builds the TimeStampReq for `imprint` (hash with `md`): random nonce,
 * certReq so the token carries the TSA certificate for verification. */
static TS_REQ *build_request(const EVP_MD *md, const unsigned char *imprint, unsigned imprint_len,
                             sohoa_err *err)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *nonce = NULL;
    unsigned char rnd[8];
    int ok = 0;

    if (!req || !mi || !alg)
        goto out;
    /* NULL parameters, as RFC 3161 clients traditionally send them. */
    if (!X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) ||
        !TS_MSG_IMPRINT_set_algo(mi, alg) ||
        !TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)imprint, (int)imprint_len) ||
        !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi))
        goto out;
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        goto out;
    rnd[0] = (rnd[0] & 0x7f) | 0x01; /* positive and 8 bytes long */
    bn = BN_bin2bn(rnd, sizeof rnd, NULL);
    nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    if (!nonce || !TS_REQ_set_nonce(req, nonce) || !TS_REQ_set_cert_req(req, 1))
        goto out;
    ok = 1;
out:
    if (!ok) {
        char why[160];
        err_set(err, SOHOA_EWORK, "timestamp request: cannot build it (%s)",
                ossl_reason(why, sizeof why));
        TS_REQ_free(req);
        req = NULL;
    }
    ASN1_INTEGER_free(nonce);
    BN_free(bn);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    return req;
}

/* POSTs the request; fills `resp` with a 200 answer's body. */
static int http_post(const char *url, const char *shown, const cms_tsa_opts *o,
                     const unsigned char *body, size_t body_len, response *resp, sohoa_err *err)
{
    CURL *c = curl_easy_init();
    if (!c)
        return err_set(err, SOHOA_EWORK, "TSA %s: cannot start libcurl; retry later", shown);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/timestamp-query");
    struct curl_slist *h2 =
        hdr ? curl_slist_append(hdr, "Accept: application/timestamp-reply") : NULL;
    if (!h2) {
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        return err_set(err, SOHOA_EWORK, "TSA %s: out of memory", shown);
    }
    hdr = h2;
    char errbuf[CURL_ERROR_SIZE] = "";
    long timeout = o && o->timeout_s > 0 ? o->timeout_s : TSA_DEFAULT_TIMEOUT_S;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sohoa");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* timeouts without SIGALRM, thread-safe */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o && o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o && o->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, o->userpwd);
    }

    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char *ctype = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
    if (rc == CURLE_OK && status == 200 && (!ctype || strcmp(ctype, "application/timestamp-reply")))
        log_debug("TSA %s: Content-Type %s, expected application/timestamp-reply", shown,
                  ctype ? ctype : "(none)");
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);

    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return err_set(err, SOHOA_EINPUT, "TSA %s: %s; check [signature] tsa_url", shown, why);
    case CURLE_WRITE_ERROR:
        if (resp->too_big)
            return err_set(err, SOHOA_EWORK,
                           "TSA %s: response larger than %d KiB, not a timestamp; check "
                           "[signature] tsa_url",
                           shown, TSA_MAX_RESPONSE / 1024);
        return err_set(err, SOHOA_EWORK, "TSA %s: out of memory reading the response", shown);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return err_set(err, SOHOA_EWORK,
                       "TSA %s: TLS certificate check failed (%s); check the TSA's CA file", shown,
                       why);
    case CURLE_OPERATION_TIMEDOUT:
        return err_set(err, SOHOA_EWORK, "TSA %s: no answer within %ld s (%s); retry later", shown,
                       timeout, why);
    default:
        /* Resolve, connect, send and receive failures: the network or the
         * TSA is down for now. */
        return err_set(err, SOHOA_EWORK, "TSA %s unreachable (%s); retry later", shown, why);
    }
    if (status == 401 || status == 403)
        return err_set(err, SOHOA_EWORK,
                       "TSA %s: HTTP %ld, access refused; check the TSA user and password", shown,
                       status);
    if (status >= 500)
        return err_set(err, SOHOA_EWORK, "TSA %s: HTTP %ld, server error; retry later", shown,
                       status);
    if (status != 200)
        return err_set(err, SOHOA_EWORK, "TSA %s: HTTP %ld; check [signature] tsa_url", shown,
                       status);
    return 0;
}

/* Copies the first status text of a refusal, printable ASCII only. */
static void status_text(TS_STATUS_INFO *si, char *out, size_t cap)
{
    const STACK_OF(ASN1_UTF8STRING) *txt = TS_STATUS_INFO_get0_text(si);
    out[0] = '\0';
    if (!txt || sk_ASN1_UTF8STRING_num(txt) < 1)
        return;
    const ASN1_UTF8STRING *s = sk_ASN1_UTF8STRING_value(txt, 0);
    const unsigned char *d = ASN1_STRING_get0_data(s);
    size_t n = 0;
    for (int i = 0; i < ASN1_STRING_length(s) && n + 1 < cap; i++)
        out[n++] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
    out[n] = '\0';
}

/* Says why the TSA refused: status, failure info, text (RFC 3161 §2.4.2). */
static int refusal(const char *shown, TS_STATUS_INFO *si, long status, sohoa_err *err)
{
    static const char *const status_names[] = {"granted",           "grantedWithMods",
                                               "rejection",         "waiting",
                                               "revocationWarning", "revocationNotification"};
    static const struct {
        int bit;
        const char *name;
    } failures[] = {{0, "badAlg"},
                    {2, "badRequest"},
                    {5, "badDataFormat"},
                    {14, "timeNotAvailable"},
                    {15, "unacceptedPolicy"},
                    {16, "unacceptedExtension"},
                    {17, "addInfoNotAvailable"},
                    {25, "systemFailure"}};
    char fail[160] = "", text[160];
    int transient = status == 3; /* waiting */
    const ASN1_BIT_STRING *fi = TS_STATUS_INFO_get0_failure_info(si);
    for (size_t i = 0; fi && i < sizeof failures / sizeof failures[0]; i++) {
        if (!ASN1_BIT_STRING_get_bit(fi, failures[i].bit))
            continue;
        size_t used = strlen(fail);
        snprintf(fail + used, sizeof fail - used, "%s%s", used ? "," : "", failures[i].name);
        transient |= failures[i].bit == 14 || failures[i].bit == 25;
    }
    status_text(si, text, sizeof text);
    char status_str[24];
    if (status >= 0 && status <= 5)
        snprintf(status_str, sizeof status_str, "%s", status_names[status]);
    else
        snprintf(status_str, sizeof status_str, "%ld", status);
    return err_set(err, SOHOA_EWORK, "TSA %s refused the timestamp: status %s%s%s%s%s%s; %s", shown,
                   status_str, fail[0] ? ", failure " : "", fail, text[0] ? ", \"" : "", text,
                   text[0] ? "\"" : "",
                   transient ? "retry later" : "check [signature] tsa_url and the TSA's policy");
}

int tsa_timestamp(const char *url, const cms_tsa_opts *o, const unsigned char *sig_value,
                  size_t len, int md_nid, unsigned char **token_der, size_t *token_len,
                  sohoa_err *err)
{
    *token_der = NULL;
    *token_len = 0;
    if (!url || !url[0])
        return err_set(err, SOHOA_EINPUT, "[signature] tsa_url: empty; set the TSA's URL");
    char shown[256];
    url_for_message(url, shown, sizeof shown);
    const EVP_MD *md = NULL;
    if (md_nid == NID_sha256 || md_nid == NID_sha384 || md_nid == NID_sha512)
        md = EVP_get_digestbynid(md_nid);
    if (!md)
        return err_set(err, SOHOA_EINPUT, "TSA %s: digest NID %d not allowed; use SHA-2", shown,
                       md_nid);

    unsigned char imprint[EVP_MAX_MD_SIZE];
    unsigned imprint_len = 0;
    if (!EVP_Digest(sig_value, len, imprint, &imprint_len, md, NULL))
        return err_set(err, SOHOA_EWORK, "timestamp request: cannot hash the signature");

    int rc = -1;
    char why[160];
    unsigned char *req_der = NULL, *tok = NULL;
    response resp = {0};
    TS_RESP *ts = NULL;
    TS_REQ *req = build_request(md, imprint, imprint_len, err);
    if (!req)
        goto out;
    int req_len = i2d_TS_REQ(req, &req_der);
    if (req_len <= 0) {
        err_set(err, SOHOA_EWORK, "timestamp request: cannot encode it (%s)",
                ossl_reason(why, sizeof why));
        goto out;
    }
    if (http_post(url, shown, o, req_der, (size_t)req_len, &resp, err) < 0)
        goto out;

    const unsigned char *p = resp.data;
    ts = resp.len ? d2i_TS_RESP(NULL, &p, (long)resp.len) : NULL;
    if (!ts || p != resp.data + resp.len) {
        ERR_clear_error();
        err_set(err, SOHOA_EWORK,
                "TSA %s: malformed response (%zu bytes, not an RFC 3161 TimeStampResp); check "
                "[signature] tsa_url",
                shown, resp.len);
        goto out;
    }
    TS_STATUS_INFO *si = TS_RESP_get_status_info(ts);
    long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
    if (status != 0 && status != 1) { /* granted, grantedWithMods */
        refusal(shown, si, status, err);
        goto out;
    }
    PKCS7 *token = TS_RESP_get_token(ts);
    TS_TST_INFO *tst = TS_RESP_get_tst_info(ts);
    if (!token || !tst) {
        err_set(err, SOHOA_EWORK,
                "TSA %s: malformed response (granted, but no timestamp token); retry later", shown);
        goto out;
    }
    /* A stale or someone else's answer would carry another nonce. */
    const ASN1_INTEGER *nonce = TS_TST_INFO_get_nonce(tst);
    if (!nonce || ASN1_INTEGER_cmp(nonce, TS_REQ_get_nonce(req)) != 0) {
        err_set(err, SOHOA_EWORK,
                "TSA %s: the response's nonce differs from the request's (replayed or mixed-up "
                "answer); retry later",
                shown);
        goto out;
    }
    const ASN1_OBJECT *alg_obj = NULL;
    X509_ALGOR_get0(&alg_obj, NULL, NULL,
                    TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst)));
    if (OBJ_obj2nid(alg_obj) != EVP_MD_get_type(md)) {
        err_set(err, SOHOA_EWORK,
                "TSA %s: the token's imprint uses another digest than requested; check "
                "[signature] tsa_url",
                shown);
        goto out;
    }
    int n = i2d_PKCS7(token, NULL);
    if (n <= 0 || !(tok = malloc((size_t)n))) {
        err_set(err, SOHOA_EWORK, "TSA %s: cannot encode the timestamp token", shown);
        goto out;
    }
    unsigned char *q = tok;
    i2d_PKCS7(token, &q);
    tsa_token_info info;
    int v = tsa_token_verify(tok, (size_t)n, sig_value, len, o ? o->trust_file : NULL, &info, err);
    if (v != 0)
        goto out;
    log_info("TSA %s: timestamp granted by %s", shown, info.tsa_name);
    *token_der = tok;
    *token_len = (size_t)n;
    tok = NULL;
    rc = 0;
out:
    free(tok);
    free(resp.data);
    OPENSSL_free(req_der);
    TS_RESP_free(ts);
    TS_REQ_free(req);
    return rc;
}

/* RFC 3161 §2.3: the TSA's certificate has exactly one, critical, EKU
 * extension containing timeStamping. */
static int is_tsa_certificate(X509 *x)
{
    int idx = X509_get_ext_by_NID(x, NID_ext_key_usage, -1);
    if (idx < 0 || !X509_EXTENSION_get_critical(X509_get_ext(x, idx)))
        return 0;
    return (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) &&
           (X509_get_extended_key_usage(x) & XKU_TIMESTAMP);
}

/* Chains the token's signer to `trust_file` at `when` (with the ESS
 * signing-certificate check of TS_RESP_verify_token()). */
static int check_trust(PKCS7 *p7, const char *trust_file, time_t when, const char *tsa_name,
                       sohoa_err *err)
{
    char why[160];
    X509_STORE *store = X509_STORE_new();
    if (!store || X509_STORE_load_file(store, trust_file) != 1) {
        X509_STORE_free(store);
        return err_set(err, SOHOA_EINPUT, "trust file %s: cannot read PEM certificates (%s)",
                       trust_file, ossl_reason(why, sizeof why));
    }
    X509_VERIFY_PARAM *vp = X509_STORE_get0_param(store);
    X509_VERIFY_PARAM_set_time(vp, when);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
    TS_VERIFY_CTX *vc = TS_VERIFY_CTX_new();
    if (!vc) {
        X509_STORE_free(store);
        return err_set(err, SOHOA_EWORK, "timestamp token: out of memory");
    }
    TS_VERIFY_CTX_set_flags(vc, TS_VFY_SIGNATURE);
    TS_VERIFY_CTX_set_store(vc, store); /* owned by vc from here */
    int ok = TS_RESP_verify_token(vc, p7) == 1;
    TS_VERIFY_CTX_free(vc);
    if (!ok)
        return err_set(err, SOHOA_EWORK,
                       "timestamp token: TSA certificate '%s' is not trusted (%s); add its CA to "
                       "the trust anchors",
                       tsa_name, ossl_reason(why, sizeof why));
    return 0;
}

int tsa_token_verify(const unsigned char *token_der, size_t token_len,
                     const unsigned char *sig_value, size_t sig_len, const char *trust_file,
                     tsa_token_info *info, sohoa_err *err)
{
    char why[160];
    int rc = -1;
    TS_TST_INFO *tst = NULL;
    BIO *sink = NULL;
    STACK_OF(X509) *signers = NULL;
    const unsigned char *p = token_der;
    PKCS7 *p7 = token_len <= LONG_MAX ? d2i_PKCS7(NULL, &p, (long)token_len) : NULL;
    if (!p7 || p != token_der + token_len || !PKCS7_type_is_signed(p7) ||
        !(tst = PKCS7_to_TS_TST_INFO(p7))) {
        ERR_clear_error();
        err_set(err, SOHOA_EWORK, "timestamp token: malformed (not a DER TimeStampToken)");
        goto out;
    }

    /* The imprint must be the hash of this very signature value. */
    TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
    const ASN1_OBJECT *alg_obj = NULL;
    X509_ALGOR_get0(&alg_obj, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
    const EVP_MD *md = EVP_get_digestbyobj(alg_obj);
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hlen = 0;
    if (!md || !EVP_Digest(sig_value, sig_len, h, &hlen, md, NULL)) {
        ERR_clear_error();
        err_set(err, SOHOA_EWORK, "timestamp token: unknown imprint digest algorithm");
        goto out;
    }
    ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(mi);
    if (ASN1_STRING_length(msg) != (int)hlen || memcmp(ASN1_STRING_get0_data(msg), h, hlen)) {
        err_set(err, SOHOA_EWORK,
                "timestamp token: does not cover this signature (message imprint differs)");
        goto out;
    }

    /* Signature over the TSTInfo with the certificate inside the token;
     * the chain comes later, and only against configured anchors. */
    sink = BIO_new(BIO_s_null());
    if (!sink || PKCS7_verify(p7, NULL, NULL, NULL, sink, PKCS7_NOVERIFY) != 1) {
        err_set(err, SOHOA_EWORK, "timestamp token: its signature does not verify (%s)",
                ossl_reason(why, sizeof why));
        goto out;
    }
    signers = PKCS7_get0_signers(p7, NULL, 0);
    X509 *tsa = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
    if (!tsa) {
        ERR_clear_error();
        err_set(err, SOHOA_EWORK, "timestamp token: no single signer certificate in it");
        goto out;
    }
    char name[128];
    cms_cert_name(tsa, name, sizeof name);
    if (!is_tsa_certificate(tsa)) {
        err_set(err, SOHOA_EWORK,
                "timestamp token: signer '%s' is not a timestamping certificate (needs a critical "
                "extendedKeyUsage timeStamping)",
                name);
        goto out;
    }
    struct tm tm;
    if (!ASN1_TIME_to_tm(TS_TST_INFO_get_time(tst), &tm)) {
        err_set(err, SOHOA_EWORK, "timestamp token: unreadable genTime");
        goto out;
    }
    time_t gen_time = timegm(&tm);
    if (info) {
        info->gen_time = gen_time;
        snprintf(info->tsa_name, sizeof info->tsa_name, "%s", name);
    }
    rc = 0;
    if (trust_file && check_trust(p7, trust_file, gen_time, name, err) < 0)
        rc = TSA_TOKEN_UNTRUSTED;
out:
    sk_X509_free(signers);
    BIO_free(sink);
    TS_TST_INFO_free(tst);
    PKCS7_free(p7);
    return rc;
}
