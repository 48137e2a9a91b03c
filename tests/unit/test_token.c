/* Unit tests: signer/token — the pkcs11 backend on a real SoftHSM2 token,
 * the file (PKCS#12) backend, certificate checks, DigestInfo, ECDSA DER,
 * PIN files.
 *
 * The test PKI and the SoftHSM2 token come from tests/pki/make-pki.sh, run
 * into a temporary directory. PIN-counter states that SoftHSM2 never reaches
 * (final try, locked) are produced by a tiny forwarding module, compiled
 * here, that passes every call to SoftHSM2 and only adds token flags or
 * replaces one return value.
 */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "signer/certcheck.h"
#include "signer/token.h"

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"
#define PIN "123456"

static char dir[64];
static char shim_path[128];

/* ---------- fixtures ---------- */

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

/* The forwarding module: see the comment at the top. Its control block is
 * read and written by the test through dlsym(). */
static const char SHIM_SRC[] =
    "#include <dlfcn.h>\n"
    "#include <p11-kit/pkcs11.h>\n"
    "struct shim_ctl { unsigned long add_flags, flags_after_fail; int logins, failed;\n"
    "                  unsigned long sign_rv; };\n"
    "struct shim_ctl shim_ctl;\n"
    "static CK_FUNCTION_LIST_PTR real;\n"
    "static CK_FUNCTION_LIST shim;\n"
    "static CK_RV token_info(CK_SLOT_ID s, CK_TOKEN_INFO_PTR i) {\n"
    "  CK_RV rv = real->C_GetTokenInfo(s, i);\n"
    "  if (rv == CKR_OK) i->flags |= shim_ctl.add_flags;\n"
    "  if (rv == CKR_OK && shim_ctl.failed) i->flags |= shim_ctl.flags_after_fail;\n"
    "  return rv; }\n"
    "static CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG n) {\n"
    "  shim_ctl.logins++;\n"
    "  CK_RV rv = real->C_Login(h, u, p, n);\n"
    "  if (rv == CKR_PIN_INCORRECT) shim_ctl.failed++;\n"
    "  return rv; }\n"
    "static CK_RV sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR s,\n"
    "                  CK_ULONG_PTR sl) {\n"
    "  if (shim_ctl.sign_rv) return shim_ctl.sign_rv;\n"
    "  return real->C_Sign(h, d, dl, s, sl); }\n"
    "CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out) {\n"
    "  if (!real) {\n"
    "    void *h = dlopen(\"" SOFTHSM "\", RTLD_NOW | RTLD_LOCAL);\n"
    "    CK_C_GetFunctionList get = h ? (CK_C_GetFunctionList)dlsym(h, \"C_GetFunctionList\") : "
    "0;\n"
    "    if (!get || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;\n"
    "    shim = *real; shim.C_GetTokenInfo = token_info; shim.C_Login = login;\n"
    "    shim.C_Sign = sign; }\n"
    "  *out = &shim; return CKR_OK; }\n";

struct shim_ctl {
    unsigned long add_flags, flags_after_fail;
    int logins, failed;
    unsigned long sign_rv;
};

static int setup_all(void **state)
{
    strcpy(dir, "/tmp/sohoa-token.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tests/pki/make-pki.sh %s >%s/make-pki.log 2>&1", dir, dir);
    if (run(cmd) < 0) {
        fprintf(stderr, "tests/pki/make-pki.sh failed; see %s/make-pki.log\n", dir);
        return -1;
    }
    char conf[128];
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
    setenv("SOFTHSM2_CONF", conf, 1);

    char src[128];
    snprintf(src, sizeof src, "%s/shim.c", dir);
    snprintf(shim_path, sizeof shim_path, "%s/shim.so", dir);
    FILE *f = fopen(src, "w");
    if (!f)
        return -1;
    fputs(SHIM_SRC, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -O1 -o %s %s $(pkg-config --cflags p11-kit-1) -ldl",
             shim_path, src);
    return run(cmd);
}

static int teardown_all(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return run(cmd);
}

static void path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static unsigned char *read_file(const char *name, size_t *len)
{
    char path[160];
    path_in(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static token *open_p11(const char *module, const char *token_label, const char *key_label,
                       const char *pin, sohoa_err *err)
{
    token_params p = {.backend = "pkcs11",
                      .module = module,
                      .token_label = token_label,
                      .key_label = key_label,
                      .pin = pin};
    err_clear(err);
    return token_open(&p, err);
}

static token *open_file(const char *p12, const char *pin, sohoa_err *err)
{
    char path[160];
    path_in(path, sizeof path, p12);
    token_params p = {.backend = "file", .key_file = path, .pin = pin};
    err_clear(err);
    return token_open(&p, err);
}

/* Hashes `msg` with md_nid. */
static size_t hash(int md_nid, const char *msg, unsigned char *out)
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(msg, strlen(msg), out, &n, EVP_get_digestbynid(md_nid), NULL), 1);
    return n;
}

/* Verifies `sig` over the message `msg` with OpenSSL's own hashing and the
 * certificate's public key: 1 valid, 0 not. */
static int verify(const unsigned char *cert, size_t cert_len, token_sig_scheme scheme, int md_nid,
                  const char *msg, const unsigned char *sig, size_t sig_len)
{
    const unsigned char *p = cert;
    X509 *x = d2i_X509(NULL, &p, (long)cert_len);
    assert_non_null(x);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    assert_int_equal(EVP_DigestVerifyInit(mctx, &pctx, md, NULL, X509_get0_pubkey(x)), 1);
    if (scheme == TOKEN_SIG_RSA_PSS) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        /* Strict: the salt must be exactly the digest length. */
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md), 1);
    } else if (scheme == TOKEN_SIG_RSA_PKCS1) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
    }
    int ok = EVP_DigestVerify(mctx, sig, sig_len, (const unsigned char *)msg, strlen(msg)) == 1;
    EVP_MD_CTX_free(mctx);
    X509_free(x);
    return ok;
}

/* Signs "msg" with t and checks the signature with OpenSSL; also checks that
 * a different message does not verify (so that verify() can fail). */
static void sign_and_verify(token *t, token_sig_scheme scheme, int md_nid)
{
    const char *msg = "Số: 182/QĐ-LĐTBXH — signed attributes stand-in";
    unsigned char dg[64];
    size_t dl = hash(md_nid, msg, dg);
    unsigned char *sig = NULL, *cert = NULL;
    size_t sl = 0, cl = 0;
    sohoa_err err = {0};
    assert_int_equal(token_sign_digest(t, scheme, md_nid, dg, dl, &sig, &sl, &err), 0);
    assert_int_equal(err.status, SOHOA_OK);
    assert_int_equal(token_certificate(t, &cert, &cl, &err), 0);
    assert_true(verify(cert, cl, scheme, md_nid, msg, sig, sl));
    assert_false(verify(cert, cl, scheme, md_nid, "another message", sig, sl));
    if (scheme == TOKEN_SIG_ECDSA) {
        /* Strict DER: OpenSSL re-encodes it to the same bytes. */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
        assert_non_null(es);
        assert_ptr_equal(p, sig + sl);
        unsigned char *re = NULL;
        int rl = i2d_ECDSA_SIG(es, &re);
        assert_int_equal(rl, (int)sl);
        assert_memory_equal(re, sig, sl);
        OPENSSL_free(re);
        ECDSA_SIG_free(es);
    } else {
        assert_int_equal(sl, (size_t)t->key_bits / 8);
    }
    free(sig);
    free(cert);
}

/* Runs token_open with stderr captured into `out` (for log lines). */
static token *open_file_capturing(const char *p12, const char *pin, sohoa_err *err, char *out,
                                  size_t cap)
{
    char log[160];
    path_in(log, sizeof log, "stderr.log");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    token *t = open_file(p12, pin, err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(log, "r");
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    return t;
}

/* ---------- pkcs11 backend ---------- */

static void pkcs11_opens_token_and_key_by_label(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign", PIN, &err);
    assert_non_null(t);
    assert_int_equal(err.status, SOHOA_OK);
    assert_int_equal(t->key_type, TOKEN_KEY_RSA);
    assert_int_equal(t->key_bits, 2048);
    assert_non_null(strstr(t->description, "ORG"));
    assert_non_null(strstr(t->description, "sign"));

    unsigned char *der = NULL;
    size_t len = 0, want_len = 0;
    unsigned char *want = read_file("sign.der", &want_len);
    assert_int_equal(token_certificate(t, &der, &len, &err), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(der, want, len);
    free(der);
    free(want);
    token_close(t);

    t = open_p11(SOFTHSM, "ORG", "sign-ec", PIN, &err);
    assert_non_null(t);
    assert_int_equal(t->key_type, TOKEN_KEY_EC);
    assert_int_equal(t->key_bits, 256);
    token_close(t);
}

static void pkcs11_chain_comes_from_the_token(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign-ec", PIN, &err);
    assert_non_null(t);
    unsigned char *der[4];
    size_t len[4];
    assert_int_equal(t->ops->chain(t, der, len, 4, &err), 2);
    size_t il = 0, cl = 0;
    unsigned char *inter = read_file("inter.der", &il);
    unsigned char *ca = read_file("ca.der", &cl);
    assert_int_equal(len[0], il); /* issuer first, then the root */
    assert_memory_equal(der[0], inter, il);
    assert_int_equal(len[1], cl);
    assert_memory_equal(der[1], ca, cl);
    /* max is honoured */
    free(der[0]);
    free(der[1]);
    assert_int_equal(t->ops->chain(t, der, len, 1, &err), 1);
    assert_memory_equal(der[0], inter, il);
    free(der[0]);
    free(inter);
    free(ca);
    token_close(t);
}

static void pkcs11_wrong_token_label_names_what_is_present(void **state)
{
    sohoa_err err = {0};
    assert_null(open_p11(SOFTHSM, "NOPE", "sign", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "NOPE"));
    assert_non_null(strstr(err.msg, SOFTHSM));
    assert_non_null(strstr(err.msg, "ORG")); /* what is there instead */
    assert_non_null(strstr(err.msg, "SPARE"));
    assert_non_null(strstr(err.msg, "token_label"));

    /* No label with two tokens present is ambiguous: refuse to guess. */
    assert_null(open_p11(SOFTHSM, NULL, "sign", PIN, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "several tokens"));
}

static void pkcs11_missing_module(void **state)
{
    sohoa_err err = {0};
    assert_null(open_p11(NULL, "ORG", "sign", PIN, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "[token] module"));

    assert_null(open_p11("/nonexistent/libvendor-p11.so", "ORG", "sign", PIN, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "/nonexistent/libvendor-p11.so"));
    assert_non_null(strstr(err.msg, "[token] module"));

    /* A library that is not a PKCS#11 module. */
    assert_null(open_p11("libz.so.1", "ORG", "sign", PIN, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "C_GetFunctionList"));
}

static void pkcs11_wrong_key_label(void **state)
{
    sohoa_err err = {0};
    assert_null(open_p11(SOFTHSM, "ORG", "nosuchkey", PIN, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "nosuchkey"));
    assert_non_null(strstr(err.msg, "key_label"));
}

static void pkcs11_wrong_pin_is_clear_and_secret(void **state)
{
    sohoa_err err = {0};
    assert_null(open_p11(SOFTHSM, "ORG", "sign", "654321", &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "wrong PIN"));
    assert_non_null(strstr(err.msg, "ORG"));
    assert_non_null(strstr(err.msg, "pin_file"));
    assert_null(strstr(err.msg, "654321"));
    assert_null(strstr(err.msg, PIN));

    /* SoftHSM2 now reports "count low"; the right PIN still opens it. */
    token *t = open_p11(SOFTHSM, "ORG", "sign", PIN, &err);
    assert_non_null(t);
    token_close(t);
}

/* Opens through the forwarding module with its control block set by `ctl`;
 * returns the number of C_Login calls made. */
static int open_via_shim(const struct shim_ctl *ctl, const char *pin, sohoa_err *err, token **out)
{
    void *h = dlopen(shim_path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    struct shim_ctl *c = dlsym(h, "shim_ctl");
    assert_non_null(c);
    *c = *ctl;
    *out = open_p11(shim_path, "ORG", "sign", pin, err);
    int logins = c->logins;
    if (!*out)
        memset(c, 0, sizeof *c);
    dlclose(h);
    return logins;
}

static void pkcs11_never_makes_the_attempt_that_would_block(void **state)
{
    sohoa_err err = {0};
    token *t = NULL;
    struct shim_ctl ctl = {.add_flags = CKF_USER_PIN_FINAL_TRY};
    assert_int_equal(open_via_shim(&ctl, PIN, &err, &t), 0);
    assert_null(t);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "one PIN try left"));
    assert_non_null(strstr(err.msg, "ORG"));

    ctl = (struct shim_ctl){.add_flags = CKF_USER_PIN_LOCKED};
    assert_int_equal(open_via_shim(&ctl, PIN, &err, &t), 0);
    assert_null(t);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "locked"));

    /* A PIN the token cannot accept (shorter than its minimum of 4) burns no try. */
    ctl = (struct shim_ctl){0};
    assert_int_equal(open_via_shim(&ctl, "12", &err, &t), 0);
    assert_null(t);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_null(strstr(err.msg, ": 12"));

    /* "Count low" alone still allows the attempt. */
    ctl = (struct shim_ctl){.add_flags = CKF_USER_PIN_COUNT_LOW};
    assert_int_equal(open_via_shim(&ctl, PIN, &err, &t), 1);
    assert_non_null(t);
    token_close(t);
}

static void pkcs11_wrong_pin_reports_tries_left(void **state)
{
    sohoa_err err = {0};
    token *t = NULL;
    struct shim_ctl ctl = {.flags_after_fail = CKF_USER_PIN_FINAL_TRY};
    assert_int_equal(open_via_shim(&ctl, "000000", &err, &t), 1);
    assert_null(t);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "wrong PIN (1 try left"));

    ctl = (struct shim_ctl){.flags_after_fail = CKF_USER_PIN_LOCKED};
    assert_int_equal(open_via_shim(&ctl, "000000", &err, &t), 1);
    assert_non_null(strstr(err.msg, "now locked"));
    assert_null(strstr(err.msg, "000000"));
}

static void pkcs11_signs_rsa_pkcs1_and_pss(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign", PIN, &err);
    assert_non_null(t);
    sign_and_verify(t, TOKEN_SIG_RSA_PKCS1, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_RSA_PKCS1, NID_sha384);
    sign_and_verify(t, TOKEN_SIG_RSA_PKCS1, NID_sha512);
    sign_and_verify(t, TOKEN_SIG_RSA_PSS, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_RSA_PSS, NID_sha384);
    sign_and_verify(t, TOKEN_SIG_RSA_PSS, NID_sha512);
    token_close(t);
}

/* A key that wants the PIN again before every signature (CKA_ALWAYS_AUTHENTICATE). */
static void pkcs11_signs_with_always_authenticate_key(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign-aa", PIN, &err);
    assert_non_null(t);
    sign_and_verify(t, TOKEN_SIG_RSA_PKCS1, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_RSA_PSS, NID_sha256); /* and again: a login per signature */
    token_close(t);
}

static void pkcs11_signs_ecdsa(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign-ec", PIN, &err);
    assert_non_null(t);
    sign_and_verify(t, TOKEN_SIG_ECDSA, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_ECDSA, NID_sha384);
    token_close(t);
    t = open_p11(SOFTHSM, "ORG", "sign-ec384", PIN, &err);
    assert_non_null(t);
    assert_int_equal(t->key_bits, 384);
    sign_and_verify(t, TOKEN_SIG_ECDSA, NID_sha384);
    sign_and_verify(t, TOKEN_SIG_ECDSA, NID_sha256);
    token_close(t);
}

static void sign_refuses_bad_requests(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign", PIN, &err);
    assert_non_null(t);
    unsigned char dg[64] = {1};
    unsigned char *sig = NULL;
    size_t sl = 0;
    /* ECDSA with an RSA key */
    assert_int_equal(token_sign_digest(t, TOKEN_SIG_ECDSA, NID_sha256, dg, 32, &sig, &sl, &err),
                     -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_null(sig);
    /* SHA-1 is not allowed any more */
    err_clear(&err);
    assert_int_equal(token_sign_digest(t, TOKEN_SIG_RSA_PKCS1, NID_sha1, dg, 20, &sig, &sl, &err),
                     -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "SHA1"));
    /* a digest of the wrong length for its algorithm */
    err_clear(&err);
    assert_int_equal(token_sign_digest(t, TOKEN_SIG_RSA_PKCS1, NID_sha384, dg, 32, &sig, &sl, &err),
                     -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    token_close(t);
}

static void pkcs11_refuses_unfit_certificates(void **state)
{
    sohoa_err err = {0};
    assert_null(open_p11(SOFTHSM, "ORG", "expired", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "expired on 2021-01-01 07:00:00 +07:00"));
    assert_non_null(strstr(err.msg, "Thương binh")); /* whose certificate */
    assert_non_null(strstr(err.msg, "ORG"));

    assert_null(open_p11(SOFTHSM, "ORG", "future", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "not valid before 2040-01-01 07:00:00 +07:00"));

    assert_null(open_p11(SOFTHSM, "ORG", "weak", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "RSA-1024 key too weak"));

    /* a key stored with another key's certificate: every signature would be unverifiable */
    assert_null(open_p11(SOFTHSM, "ORG", "mismatch-ec", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "belongs to another key"));
    assert_null(open_p11(SOFTHSM, "ORG", "mismatch-rsa", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "belongs to another key"));
}

/* The module tears down every session of the slot, as it does when the
 * token is pulled out: the signature fails cleanly and says why. */
static void pkcs11_token_removed_before_signing(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign", PIN, &err);
    assert_non_null(t);

    void *h = dlopen(SOFTHSM, RTLD_NOW | RTLD_LOCAL); /* same instance as the token's */
    assert_non_null(h);
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR f = NULL;
    assert_int_equal(get(&f), CKR_OK);
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;
    assert_int_equal(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK && memcmp(ti.label, "ORG ", 4) == 0)
            assert_int_equal(f->C_CloseAllSessions(slots[i]), CKR_OK);
    }

    unsigned char dg[32] = {0};
    unsigned char *sig = NULL;
    size_t sl = 0;
    assert_int_equal(token_sign_digest(t, TOKEN_SIG_RSA_PKCS1, NID_sha256, dg, 32, &sig, &sl, &err),
                     -1);
    assert_null(sig);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "removed"));
    assert_non_null(strstr(err.msg, "ORG"));
    assert_non_null(strstr(err.msg, "the document waits"));
    token_close(t);
    dlclose(h);
}

/* The token's storage disappears under an open session (SoftHSM2's view of
 * a pulled token): the key handle goes stale and signing says so. */
static void pkcs11_token_store_vanishes_while_open(void **state)
{
    sohoa_err err = {0};
    token *t = open_p11(SOFTHSM, "ORG", "sign-ec", PIN, &err);
    assert_non_null(t);
    char from[160], to[160];
    path_in(from, sizeof from, "tokens");
    path_in(to, sizeof to, "tokens.pulled");
    assert_int_equal(rename(from, to), 0);
    unsigned char dg[32] = {0};
    unsigned char *sig = NULL;
    size_t sl = 0;
    int rc = token_sign_digest(t, TOKEN_SIG_ECDSA, NID_sha256, dg, 32, &sig, &sl, &err);
    token_close(t);
    assert_int_equal(rename(to, from), 0); /* put it back for the other tests first */
    assert_int_equal(rc, -1);
    assert_null(sig);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "removed"));
    assert_non_null(strstr(err.msg, "ORG"));

    /* Reinserted: the next open works again. */
    t = open_p11(SOFTHSM, "ORG", "sign-ec", PIN, &err);
    assert_non_null(t);
    token_close(t);
}

static void pkcs11_device_removed_while_signing(void **state)
{
    sohoa_err err = {0};
    token *t = NULL;
    void *h = dlopen(shim_path, RTLD_NOW | RTLD_LOCAL);
    struct shim_ctl *c = dlsym(h, "shim_ctl");
    memset(c, 0, sizeof *c);
    assert_int_equal(open_via_shim(c, PIN, &err, &t), 1);
    assert_non_null(t);
    c->sign_rv = CKR_DEVICE_REMOVED;
    unsigned char dg[32] = {0};
    unsigned char *sig = NULL;
    size_t sl = 0;
    assert_int_equal(token_sign_digest(t, TOKEN_SIG_RSA_PSS, NID_sha256, dg, 32, &sig, &sl, &err),
                     -1);
    assert_null(sig);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "CKR_DEVICE_REMOVED"));
    assert_non_null(strstr(err.msg, "reinsert"));
    memset(c, 0, sizeof *c);
    token_close(t);
    dlclose(h);
}

/* ---------- file backend ---------- */

static void file_backend_signs_and_warns(void **state)
{
    sohoa_err err = {0};
    char log[1024];
    token *t = open_file_capturing("sign.p12", PIN, &err, log, sizeof log);
    assert_non_null(t);
    assert_non_null(strstr(log, "token backend file: the key is in a file, not in a hardware "
                                "token; for development and demos only"));
    assert_null(strstr(log, PIN));
    assert_int_equal(t->key_type, TOKEN_KEY_RSA);
    assert_int_equal(t->key_bits, 2048);
    sign_and_verify(t, TOKEN_SIG_RSA_PKCS1, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_RSA_PSS, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_RSA_PSS, NID_sha384);

    unsigned char *der[4];
    size_t len[4];
    assert_int_equal(t->ops->chain(t, der, len, 4, &err), 2);
    for (int i = 0; i < 2; i++)
        free(der[i]);
    token_close(t);

    t = open_file("sign-ec.p12", PIN, &err);
    assert_non_null(t);
    assert_int_equal(t->key_type, TOKEN_KEY_EC);
    sign_and_verify(t, TOKEN_SIG_ECDSA, NID_sha256);
    sign_and_verify(t, TOKEN_SIG_ECDSA, NID_sha512);
    token_close(t);
}

static void file_backend_refusals(void **state)
{
    sohoa_err err = {0};
    assert_null(open_file("sign.p12", "999999", &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "wrong PIN"));
    assert_null(strstr(err.msg, "999999"));

    assert_null(open_file("expired.p12", PIN, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "expired on 2021-01-01"));

    assert_null(open_file("weak.p12", PIN, &err));
    assert_non_null(strstr(err.msg, "too weak"));

    assert_null(open_file("missing.p12", PIN, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "missing.p12"));

    assert_null(open_file("sign.pem", PIN, &err)); /* not PKCS#12 */
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "PKCS#12"));

    token_params p = {.backend = "file"};
    err_clear(&err);
    assert_null(token_open(&p, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "key_file"));
}

static void open_refuses_unknown_backend(void **state)
{
    sohoa_err err = {0};
    token_params p = {.backend = "smartcard"};
    assert_null(token_open(&p, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "smartcard"));
    err_clear(&err);
    p.backend = NULL;
    assert_null(token_open(&p, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "[token] backend"));
}

/* ---------- certificate checks ---------- */

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return timegm(&tm);
}

static void cert_validity_boundaries(void **state)
{
    size_t len = 0;
    unsigned char *der = read_file("sign.der", &len); /* 2024-01-01 .. 2049-12-31 23:59:59 UTC */
    sohoa_err err = {0};
    assert_int_equal(token_check_cert_validity(der, len, utc(2024, 1, 1, 0, 0, 0), &err), 0);
    assert_int_equal(token_check_cert_validity(der, len, utc(2049, 12, 31, 23, 59, 59), &err), 0);
    assert_int_equal(err.status, SOHOA_OK);

    assert_int_equal(token_check_cert_validity(der, len, utc(2023, 12, 31, 23, 59, 59), &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "not valid before 2024-01-01 07:00:00 +07:00"));

    err_clear(&err);
    assert_int_equal(token_check_cert_validity(der, len, utc(2050, 1, 1, 0, 0, 0), &err), -1);
    assert_non_null(strstr(err.msg, "expired on 2050-01-01 06:59:59 +07:00"));

    /* garbage is refused, not crashed on */
    err_clear(&err);
    assert_int_equal(token_check_cert_validity(der, len / 2, time(NULL), &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);

    token_key_type type;
    int bits = 0;
    err_clear(&err);
    assert_int_equal(token_cert_key(der, len, &type, &bits, &err), 0);
    assert_int_equal(type, TOKEN_KEY_RSA);
    assert_int_equal(bits, 2048);
    char name[96];
    token_cert_name(der, len, name, sizeof name);
    assert_string_equal(name, "Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam");
    token_cert_name(der, len, name, 7); /* "Sở L" is 6 bytes (ở takes 3) */
    assert_string_equal(name, "Sở L");
    token_cert_name(der, len, name, 3); /* "S" + half of "ở": cut before it */
    assert_string_equal(name, "S");
    free(der);

    /* A CA certificate (keyUsage keyCertSign only) cannot sign documents. */
    der = read_file("inter.der", &len);
    err_clear(&err);
    assert_int_equal(token_check_cert_validity(der, len, utc(2030, 1, 1, 0, 0, 0), &err), -1);
    assert_non_null(strstr(err.msg, "keyUsage"));
    free(der);
}

/* ---------- DigestInfo and ECDSA encoding ---------- */

static void digest_info_for_each_hash(void **state)
{
    const int nids[] = {NID_sha256, NID_sha384, NID_sha512};
    for (int i = 0; i < 3; i++) {
        unsigned char dg[64], out[19 + 64];
        size_t dl = hash(nids[i], "x", dg);
        sohoa_err err = {0};
        int n = token_digest_info(nids[i], dg, dl, out, sizeof out, &err);
        assert_int_equal(n, (int)(19 + dl));
        /* Parse it back with OpenSSL: algorithm, NULL parameters, digest. */
        const unsigned char *p = out;
        X509_SIG *xs = d2i_X509_SIG(NULL, &p, n);
        assert_non_null(xs);
        assert_ptr_equal(p, out + n);
        const X509_ALGOR *alg;
        const ASN1_OCTET_STRING *os;
        X509_SIG_get0(xs, &alg, &os);
        const ASN1_OBJECT *oid;
        int ptype;
        X509_ALGOR_get0(&oid, &ptype, NULL, alg);
        assert_int_equal(OBJ_obj2nid(oid), nids[i]);
        assert_int_equal(ptype, V_ASN1_NULL);
        assert_int_equal(ASN1_STRING_length(os), (int)dl);
        assert_memory_equal(ASN1_STRING_get0_data(os), dg, dl);
        X509_SIG_free(xs);
        /* too small a buffer, wrong length */
        assert_int_equal(token_digest_info(nids[i], dg, dl, out, 18 + dl, &err), -1);
        err_clear(&err);
        assert_int_equal(token_digest_info(nids[i], dg, dl - 1, out, sizeof out, &err), -1);
    }
    sohoa_err err = {0};
    unsigned char out[83], dg[20] = {0};
    assert_int_equal(token_digest_info(NID_sha1, dg, 20, out, sizeof out, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
}

static void ecdsa_der(const unsigned char *raw, size_t n, const unsigned char *want, size_t wn)
{
    unsigned char *der = NULL;
    size_t dl = 0;
    sohoa_err err = {0};
    assert_int_equal(token_ecdsa_raw_to_der(raw, n, &der, &dl, &err), 0);
    assert_int_equal(dl, wn);
    assert_memory_equal(der, want, wn);
    free(der);
}

static void ecdsa_raw_to_der_edge_cases(void **state)
{
    /* small values */
    ecdsa_der((const unsigned char[]){0x01, 0x02}, 2,
              (const unsigned char[]){0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, 8);
    /* leading zero bytes dropped; high bit gets a 0x00 so the INTEGER stays positive */
    ecdsa_der((const unsigned char[]){0x00, 0x00, 0x05, 0x00, 0x80, 0x01}, 6,
              (const unsigned char[]){0x30, 0x08, 0x02, 0x01, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01},
              10);
    /* zero byte followed by a high bit: the zero stays (it is the sign byte) */
    ecdsa_der((const unsigned char[]){0x00, 0xff, 0x7f, 0x00}, 4,
              (const unsigned char[]){0x30, 0x08, 0x02, 0x02, 0x00, 0xff, 0x02, 0x02, 0x7f, 0x00},
              10);

    /* P-521-sized halves with the high bit set: the SEQUENCE needs a long length */
    unsigned char big[132];
    memset(big, 0xff, sizeof big);
    unsigned char *der = NULL;
    size_t dl = 0;
    sohoa_err err = {0};
    assert_int_equal(token_ecdsa_raw_to_der(big, sizeof big, &der, &dl, &err), 0);
    assert_int_equal(dl, 3 + 2 * (2 + 67));
    assert_int_equal(der[0], 0x30);
    assert_int_equal(der[1], 0x81);
    assert_int_equal(der[2], 2 * (2 + 67));
    free(der);

    /* random values, compared with OpenSSL's own encoder */
    for (int i = 0; i < 300; i++) {
        size_t half = (i % 3 == 0) ? 32 : (i % 3 == 1) ? 48 : 66;
        unsigned char raw[132];
        RAND_bytes(raw, (int)(2 * half));
        if (i % 5 == 0)
            raw[0] = 0, raw[1] = (unsigned char)(i & 0xff);
        if (i % 7 == 0)
            raw[half] = 0x80 | raw[half];
        BIGNUM *r = BN_bin2bn(raw, (int)half, NULL), *s = BN_bin2bn(raw + half, (int)half, NULL);
        if (BN_is_zero(r) || BN_is_zero(s)) {
            BN_free(r);
            BN_free(s);
            continue;
        }
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, r, s);
        unsigned char *want = NULL;
        int wn = i2d_ECDSA_SIG(es, &want);
        ecdsa_der(raw, 2 * half, want, (size_t)wn);
        OPENSSL_free(want);
        ECDSA_SIG_free(es);
    }

    /* refused: odd length, empty, too long, r or s zero */
    unsigned char z[64] = {0};
    assert_int_equal(token_ecdsa_raw_to_der(big, 63, &der, &dl, &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_null(der);
    err_clear(&err);
    assert_int_equal(token_ecdsa_raw_to_der(big, 0, &der, &dl, &err), -1);
    err_clear(&err);
    assert_int_equal(token_ecdsa_raw_to_der(big, 134, &der, &dl, &err), -1);
    err_clear(&err);
    z[40] = 1; /* r = 0, s != 0 */
    assert_int_equal(token_ecdsa_raw_to_der(z, 64, &der, &dl, &err), -1);
    assert_null(der);
}

/* ---------- PIN file ---------- */

static void write_pin(const char *name, const char *content, mode_t mode)
{
    char path[160];
    path_in(path, sizeof path, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    chmod(path, mode);
}

static int read_pin(const char *name, char **pin, sohoa_err *err)
{
    char path[160];
    path_in(path, sizeof path, name);
    err_clear(err);
    return token_read_pin_file(path, pin, err);
}

static void pin_file_rules(void **state)
{
    sohoa_err err = {0};
    char *pin = NULL;
    assert_int_equal(read_pin("pin", &pin, &err), 0); /* from make-pki.sh */
    assert_string_equal(pin, PIN);
    token_pin_free(pin);

    write_pin("pin-crlf", "2468\r\n", 0400);
    assert_int_equal(read_pin("pin-crlf", &pin, &err), 0);
    assert_string_equal(pin, "2468");
    token_pin_free(pin);

    write_pin("pin-bare", "abc def", 0600); /* no newline; inner blank kept */
    assert_int_equal(read_pin("pin-bare", &pin, &err), 0);
    assert_string_equal(pin, "abc def");
    token_pin_free(pin);

    write_pin("pin-open", "123456\n", 0644);
    pin = (char *)"untouched";
    assert_int_equal(read_pin("pin-open", &pin, &err), -1);
    assert_null(pin);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "0644"));
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_null(strstr(err.msg, "123456"));

    write_pin("pin-group", "123456\n", 0640);
    assert_int_equal(read_pin("pin-group", &pin, &err), -1);
    write_pin("pin-gw", "123456\n", 0620); /* others could write a wrong PIN into it */
    assert_int_equal(read_pin("pin-gw", &pin, &err), -1);

    write_pin("pin-empty", "\n", 0600);
    assert_int_equal(read_pin("pin-empty", &pin, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));

    write_pin("pin-2lines", "1234\n5678\n", 0600);
    assert_int_equal(read_pin("pin-2lines", &pin, &err), -1);
    assert_null(strstr(err.msg, "5678"));

    char longpin[400];
    memset(longpin, '7', sizeof longpin - 1);
    longpin[sizeof longpin - 1] = '\0';
    write_pin("pin-long", longpin, 0600);
    assert_int_equal(read_pin("pin-long", &pin, &err), -1);

    assert_int_equal(read_pin("no-such-pin", &pin, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "no-such-pin"));

    assert_int_equal(read_pin("tokens", &pin, &err), -1); /* a directory */
    assert_int_equal(err.status, SOHOA_EINPUT);

    err_clear(&err);
    assert_int_equal(token_read_pin_file(NULL, &pin, &err), -1);
    assert_non_null(strstr(err.msg, "pin_file"));
    token_pin_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pkcs11_opens_token_and_key_by_label),
        cmocka_unit_test(pkcs11_chain_comes_from_the_token),
        cmocka_unit_test(pkcs11_wrong_token_label_names_what_is_present),
        cmocka_unit_test(pkcs11_missing_module),
        cmocka_unit_test(pkcs11_wrong_key_label),
        cmocka_unit_test(pkcs11_wrong_pin_is_clear_and_secret),
        cmocka_unit_test(pkcs11_never_makes_the_attempt_that_would_block),
        cmocka_unit_test(pkcs11_wrong_pin_reports_tries_left),
        cmocka_unit_test(pkcs11_signs_rsa_pkcs1_and_pss),
        cmocka_unit_test(pkcs11_signs_with_always_authenticate_key),
        cmocka_unit_test(pkcs11_signs_ecdsa),
        cmocka_unit_test(sign_refuses_bad_requests),
        cmocka_unit_test(pkcs11_refuses_unfit_certificates),
        cmocka_unit_test(pkcs11_token_removed_before_signing),
        cmocka_unit_test(pkcs11_token_store_vanishes_while_open),
        cmocka_unit_test(pkcs11_device_removed_while_signing),
        cmocka_unit_test(file_backend_signs_and_warns),
        cmocka_unit_test(file_backend_refusals),
        cmocka_unit_test(open_refuses_unknown_backend),
        cmocka_unit_test(cert_validity_boundaries),
        cmocka_unit_test(digest_info_for_each_hash),
        cmocka_unit_test(ecdsa_raw_to_der_edge_cases),
        cmocka_unit_test(pin_file_rules),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
