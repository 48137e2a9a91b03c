/* token_file.c — the key in a PKCS#12 file, for development and the demo.
 *
 * A key in a file can be copied without anyone noticing; the organization's
 * real key lives on its token. This backend exists so that the whole chain
 * can be run and tested without hardware, and says so in the log.
 */
#include "token.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "../firmware/log.h"

/* Largest PKCS#12 file read: a key, a certificate and a chain fit in far less. */
#define P12_MAX (1024 * 1024)

typedef struct file_token {
    token base; /* first: the token * handed out points here */
    EVP_PKEY *pkey;
    X509 *cert;
    STACK_OF(X509) * chain;
} file_token;

static const token_ops file_ops;

/* DER of `x` in a malloc'ed buffer (callers free() it). */
static int cert_der(X509 *x, unsigned char **der, size_t *len, sohoa_err *err)
{
    int n = i2d_X509(x, NULL);
    unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
    unsigned char *w = buf;
    if (!buf || i2d_X509(x, &w) != n) {
        free(buf);
        return err_set(err, SOHOA_EWORK, "key file: cannot encode a certificate");
    }
    *der = buf;
    *len = (size_t)n;
    return 0;
}

static PKCS12 *read_p12(const char *path, sohoa_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_errno(err, SOHOA_EINPUT, errno, "key file %s: cannot open; check [token] key_file",
                  path);
        return NULL;
    }
    unsigned char *buf = malloc(P12_MAX);
    size_t n = buf ? fread(buf, 1, P12_MAX, f) : 0;
    int eof = feof(f);
    fclose(f);
    PKCS12 *p12 = NULL;
    if (!buf) {
        err_set(err, SOHOA_EWORK, "out of memory");
    } else if (!eof) {
        err_set(err, SOHOA_EINPUT, "key file %s: larger than %d bytes, not a PKCS#12 key file",
                path, P12_MAX);
    } else {
        const unsigned char *p = buf;
        p12 = d2i_PKCS12(NULL, &p, (long)n);
        if (!p12)
            err_set(err, SOHOA_EINPUT,
                    "key file %s: not a PKCS#12 (.p12/.pfx) file; check [token] key_file", path);
    }
    if (buf)
        OPENSSL_cleanse(buf, n);
    free(buf);
    return p12;
}

token *token_file_open(const token_params *params, sohoa_err *err)
{
    const char *path = params->key_file;
    if (!path || !*path) {
        err_set(err, SOHOA_EINPUT,
                "[token] key_file is not set; give the PKCS#12 file of the development key");
        return NULL;
    }
    log_warn("token backend file: the key is in a file, not in a hardware token; for "
             "development and demos only");
    PKCS12 *p12 = read_p12(path, err);
    if (!p12)
        return NULL;
    /* Without a PIN, the file may be protected by an empty or by no password
     * (PKCS#12 tells them apart); take whichever its MAC accepts. */
    const char *pass = params->pin;
    if (!pass && !(PKCS12_mac_present(p12) && PKCS12_verify_mac(p12, NULL, 0)))
        pass = "";
    /* Files written without a MAC cannot tell a wrong password from damage;
     * PKCS12_parse() below decides for them. */
    if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, pass, -1)) {
        PKCS12_free(p12);
        ERR_clear_error();
        err_set(err, SOHOA_EWORK, "key file %s: wrong PIN (password); check [token] pin_file",
                path);
        return NULL;
    }
    file_token *ft = calloc(1, sizeof *ft);
    if (!ft) {
        PKCS12_free(p12);
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    ft->base.ops = &file_ops;
    int ok = PKCS12_parse(p12, pass, &ft->pkey, &ft->cert, &ft->chain);
    PKCS12_free(p12);
    ERR_clear_error();
    if (!ok) {
        err_set(err, SOHOA_EWORK,
                "key file %s: cannot decrypt (wrong PIN or damaged file); check "
                "[token] pin_file",
                path);
        goto fail;
    }
    if (!ft->pkey || !ft->cert) {
        err_set(err, SOHOA_EINPUT,
                "key file %s: holds no %s; it must hold the key and its "
                "certificate",
                path, ft->pkey ? "certificate" : "private key");
        goto fail;
    }
    if (!X509_check_private_key(ft->cert, ft->pkey)) {
        ERR_clear_error();
        err_set(err, SOHOA_EINPUT, "key file %s: the certificate does not belong to the key", path);
        goto fail;
    }
    int id = EVP_PKEY_get_base_id(ft->pkey);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        ft->base.key_type = TOKEN_KEY_RSA;
    } else if (id == EVP_PKEY_EC) {
        ft->base.key_type = TOKEN_KEY_EC;
    } else {
        err_set(err, SOHOA_EINPUT, "key file %s: neither an RSA nor an EC key", path);
        goto fail;
    }
    ft->base.key_bits = EVP_PKEY_get_bits(ft->pkey);
    const char *base = strrchr(path, '/');
    snprintf(ft->base.description, sizeof ft->base.description, "key file %s",
             base ? base + 1 : path);
    return &ft->base;
fail:
    file_ops.close(&ft->base);
    return NULL;
}

static int file_certificate(token *t, unsigned char **der, size_t *len, sohoa_err *err)
{
    return cert_der(((file_token *)t)->cert, der, len, err);
}

static int file_chain(token *t, unsigned char **der, size_t *len, int max, sohoa_err *err)
{
    file_token *ft = (file_token *)t;
    int n = ft->chain ? sk_X509_num(ft->chain) : 0;
    int count = 0;
    for (int i = 0; i < n && count < max; i++) {
        if (cert_der(sk_X509_value(ft->chain, i), &der[count], &len[count], err) < 0) {
            while (count > 0)
                free(der[--count]);
            return -1;
        }
        count++;
    }
    return count;
}

static int file_sign(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                     size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err)
{
    file_token *ft = (file_token *)t;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(ft->pkey, NULL);
    int ok = md && ctx && EVP_PKEY_sign_init(ctx) > 0;
    if (ok && scheme == TOKEN_SIG_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
    if (ok && scheme == TOKEN_SIG_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
    if (ok)
        ok = EVP_PKEY_CTX_set_signature_md(ctx, md) > 0;
    size_t n = 0;
    if (ok)
        ok = EVP_PKEY_sign(ctx, NULL, &n, digest, digest_len) > 0;
    unsigned char *out = ok ? malloc(n) : NULL;
    if (out)
        ok = EVP_PKEY_sign(ctx, out, &n, digest, digest_len) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok || !out) {
        unsigned long e = ERR_get_error();
        char msg[160] = "unknown error";
        if (e)
            ERR_error_string_n(e, msg, sizeof msg);
        ERR_clear_error();
        free(out);
        return err_set(err, SOHOA_EWORK, "%s: signing failed (%s)", t->description, msg);
    }
    *sig = out; /* for ECDSA, OpenSSL already returns DER */
    *sig_len = n;
    return 0;
}

static void file_close(token *t)
{
    file_token *ft = (file_token *)t;
    if (!ft)
        return;
    EVP_PKEY_free(ft->pkey);
    X509_free(ft->cert);
    sk_X509_pop_free(ft->chain, X509_free);
    free(ft);
}

static const token_ops file_ops = {
    .certificate = file_certificate,
    .chain = file_chain,
    .sign_digest = file_sign,
    .close = file_close,
};
