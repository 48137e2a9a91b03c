/* testutil.c — see testutil.h. */
#include "testutil.h"

#include "ocr/recognize.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <leptonica/allheaders.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

int tu_run(char **out, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    if (buf)
        buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

int tu_signature_ok(const unsigned char *cert_der, size_t cert_len, token_sig_scheme scheme,
                    const EVP_MD *md, const unsigned char *digest, size_t dlen,
                    const unsigned char *sig, size_t slen)
{
    const unsigned char *q = cert_der;
    X509 *x = d2i_X509(NULL, &q, (long)cert_len);
    EVP_PKEY *pub = x ? X509_get_pubkey(x) : NULL;
    EVP_PKEY_CTX *pc = pub ? EVP_PKEY_CTX_new(pub, NULL) : NULL;
    int ok = pc && EVP_PKEY_verify_init(pc) == 1;
    if (ok && scheme != TOKEN_SIG_ECDSA) {
        int pad = scheme == TOKEN_SIG_RSA_PSS ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, pad) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pc, md) == 1 &&
             (scheme != TOKEN_SIG_RSA_PSS ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, EVP_MD_get_size(md)) == 1);
    }
    ok = ok && EVP_PKEY_verify(pc, sig, slen, digest, dlen) == 1;
    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(pub);
    X509_free(x);
    return ok;
}

int tu_ocr_engine_setup(void **state)
{
    sohoa_err err = {0};
    ocr_engine *e = ocr_engine_new(NULL, &err);
    if (!e) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = e;
    return 0;
}

int tu_ocr_engine_teardown(void **state)
{
    ocr_engine_free(*state);
    return 0;
}

PIX *tu_text_mask(const char *s, int height)
{
    L_BMF *bmf = bmfCreate(NULL, 20);
    PIX *t = bmf ? pixCreate(50 * (int)strlen(s) + 40, 100, 1) : NULL;
    l_int32 w = 0, over = 0;
    BOX *bb = NULL;
    if (!t || pixSetTextline(t, bmf, s, 1, 10, 70, &w, &over) != 0 ||
        pixClipToForeground(t, NULL, &bb) != 0 || !bb) {
        bmfDestroy(&bmf);
        pixDestroy(&t);
        return NULL;
    }
    bmfDestroy(&bmf);
    PIX *tight = pixClipRectangle(t, bb, NULL);
    boxDestroy(&bb);
    pixDestroy(&t);
    if (!tight)
        return NULL;
    float f = (float)height / (float)pixGetHeight(tight);
    PIX *big = pixScale(tight, f, f);
    pixDestroy(&tight);
    return big;
}
