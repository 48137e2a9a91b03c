/* Unit tests: signer/cms, signer/tsa, signer/cms_verify — CAdES detached
 * signatures made by a token, RFC 3161 timestamps, verification.
 *
 * The group setup builds a test PKI with the OpenSSL API in a temporary
 * directory (a CA, another CA, signer keys RSA-2048 / P-256 / P-384,
 * expired, not yet valid, weak and encipher-only certificates, a TSA
 * certificate with critical EKU timeStamping) and starts a loopback TSA: a
 * python3 http.server that runs `openssl ts -reply` per request. Results
 * are cross-checked with `openssl cms -verify` and `openssl ts -verify`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "signer/cms.h"
#include "signer/cms_verify.h"
#include "signer/tsa.h"

#define DAY (24 * 3600L)
#define YEAR (365 * DAY)

/* ---------- test PKI ---------- */

typedef struct pki {
    char dir[64];
    time_t now;
    EVP_PKEY *ca_key, *other_key, *rsa, *rsa_b, *ec256, *ec384, *rsa1024, *tsa_key;
    X509 *ca, *other, *rsa_cert, *ec256_cert, *ec384_cert, *rsa1024_cert, *expired_cert,
        *future_cert, *encipher_cert, *tsa_cert;
    char ca_pem[128], other_pem[128], leaf_pem[128];
    pid_t tsa_pid;
    int tsa_port;
    unsigned char content[5000];
} pki;

static void path_in(const pki *p, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", p->dir, name);
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

typedef enum { CERT_CA, CERT_SIGNER, CERT_TSA, CERT_ENCIPHER } cert_kind;

/* A certificate for `key`, valid [from, until], signed by issuer (NULL =
 * self-signed). The subject has Vietnamese text to exercise UTF-8 names. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       time_t from, time_t until, cert_kind kind, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    assert_non_null(x);
    assert_true(X509_set_version(x, 2));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
    assert_true(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"VN",
                                           -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                           (const unsigned char *)"Sở Thử nghiệm", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                           -1, 0));
    assert_true(X509_set_subject_name(x, name));
    assert_true(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name));
    X509_NAME_free(name);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), from));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), until));
    assert_true(X509_set_pubkey(x, key));

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    assert_true(add_ext(x, &ctx, NID_subject_key_identifier, "hash"));
    if (issuer)
        assert_true(add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"));
    switch (kind) {
    case CERT_CA:
        assert_true(add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
        assert_true(add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
        break;
    case CERT_SIGNER:
        assert_true(add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE"));
        assert_true(add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation"));
        break;
    case CERT_TSA:
        assert_true(add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE"));
        assert_true(add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature"));
        assert_true(add_ext(x, &ctx, NID_ext_key_usage, "critical,timeStamping"));
        break;
    case CERT_ENCIPHER:
        assert_true(add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE"));
        assert_true(add_ext(x, &ctx, NID_key_usage, "critical,keyEncipherment"));
        break;
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static void write_cert_pem(const pki *p, const char *name, X509 *x, char *path, size_t cap)
{
    path_in(p, name, path, cap);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(PEM_write_X509(f, x));
    fclose(f);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static const char tsa_conf[] = "[ tsa ]\n"
                               "default_tsa = tsa_config1\n"
                               "[ tsa_config1 ]\n"
                               "serial = %s/tsaserial\n"
                               "crypto_device = builtin\n"
                               "signer_digest = sha256\n"
                               "default_policy = 1.2.3.4.1\n"
                               "digests = %s\n"
                               "accuracy = secs:1\n"
                               "ordering = yes\n"
                               "tsa_name = yes\n"
                               "ess_cert_id_chain = no\n"
                               "ess_cert_id_alg = sha256\n";

/* The loopback TSA. Paths: /tsa answers, /reject runs a TSA that only
 * accepts SHA-512 imprints (so it refuses with badAlg), /500 fails, /garbage
 * answers junk, /slow answers after 3 s, /replay answers every request with
 * the response to its first one. */
static const char tsa_py[] =
    "import http.server, os, subprocess, sys, time\n"
    "d = sys.argv[1]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "    def answer(self, code, body):\n"
    "        self.send_response(code)\n"
    "        self.send_header('Content-Type', 'application/timestamp-reply')\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def do_POST(self):\n"
    "        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))\n"
    "        if self.path == '/500':\n"
    "            return self.answer(500, b'')\n"
    "        if self.path == '/garbage':\n"
    "            return self.answer(200, b'this is not a timestamp response')\n"
    "        if self.path == '/slow':\n"
    "            time.sleep(3)\n"
    "            return self.answer(200, b'')\n"
    "        if self.headers.get('Content-Type') != 'application/timestamp-query':\n"
    "            return self.answer(415, b'')\n"
    "        conf = 'reject.cnf' if self.path == '/reject' else 'tsa.cnf'\n"
    "        req = os.path.join(d, 'req.tsq')\n"
    "        resp = os.path.join(d, 'resp.tsr')\n"
    "        open(req, 'wb').write(body)\n"
    "        r = subprocess.run(['openssl', 'ts', '-reply', '-config', os.path.join(d, conf),\n"
    "                            '-queryfile', req, '-inkey', os.path.join(d, 'tsa.key'),\n"
    "                            '-signer', os.path.join(d, 'tsa.pem'), '-out', resp],\n"
    "                           capture_output=True)\n"
    "        if r.returncode != 0:\n"
    "            return self.answer(500, r.stderr)\n"
    "        out = open(resp, 'rb').read()\n"
    "        if self.path == '/replay':\n"
    "            first = os.path.join(d, 'first.tsr')\n"
    "            if os.path.exists(first):\n"
    "                out = open(first, 'rb').read()\n"
    "            else:\n"
    "                open(first, 'wb').write(out)\n"
    "        self.answer(200, out)\n"
    "srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
    "open(os.path.join(d, 'port.tmp'), 'w').write(str(srv.server_port))\n"
    "os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))\n"
    "srv.serve_forever()\n";

static void start_tsa(pki *p)
{
    char path[160], conf[1024];
    path_in(p, "tsaserial", path, sizeof path);
    write_file(path, "01\n", 3);
    snprintf(conf, sizeof conf, tsa_conf, p->dir, "sha256, sha384, sha512");
    path_in(p, "tsa.cnf", path, sizeof path);
    write_file(path, conf, strlen(conf));
    snprintf(conf, sizeof conf, tsa_conf, p->dir, "sha512");
    path_in(p, "reject.cnf", path, sizeof path);
    write_file(path, conf, strlen(conf));
    path_in(p, "tsa.key", path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(PEM_write_PrivateKey(f, p->tsa_key, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    write_cert_pem(p, "tsa.pem", p->tsa_cert, path, sizeof path);
    char script[160];
    path_in(p, "tsa.py", script, sizeof script);
    write_file(script, tsa_py, strlen(tsa_py));

    p->tsa_pid = fork();
    assert_true(p->tsa_pid >= 0);
    if (p->tsa_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* no stray TSA if this test crashes */
        execlp("python3", "python3", script, p->dir, (char *)NULL);
        _exit(127);
    }
    path_in(p, "port", path, sizeof path);
    for (int i = 0; i < 200 && p->tsa_port == 0; i++) {
        f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &p->tsa_port) != 1)
                p->tsa_port = 0;
            fclose(f);
        } else {
            usleep(50 * 1000);
        }
    }
    assert_true(p->tsa_port > 0);
}

static int group_setup(void **state)
{
    pki *p = calloc(1, sizeof *p);
    assert_non_null(p);
    const char *tmp = getenv("TMPDIR");
    snprintf(p->dir, sizeof p->dir, "%s/sohoa-cms.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(p->dir));
    p->now = time(NULL);
    time_t now = p->now;

    p->ca_key = EVP_EC_gen("P-256");
    p->other_key = EVP_EC_gen("P-256");
    p->rsa = EVP_RSA_gen(2048);
    p->rsa_b = EVP_RSA_gen(2048);
    p->ec256 = EVP_EC_gen("P-256");
    p->ec384 = EVP_EC_gen("P-384");
    p->rsa1024 = EVP_RSA_gen(1024);
    p->tsa_key = EVP_EC_gen("P-256");
    assert_true(p->ca_key && p->other_key && p->rsa && p->rsa_b && p->ec256 && p->ec384 &&
                p->rsa1024 && p->tsa_key);

    p->ca = make_cert("CA Thử nghiệm", p->ca_key, NULL, NULL, now - 10 * YEAR, now + 20 * YEAR,
                      CERT_CA, 1);
    p->other = make_cert("Other CA", p->other_key, NULL, NULL, now - 10 * YEAR, now + 20 * YEAR,
                         CERT_CA, 2);
    p->rsa_cert = make_cert("Sở Lao động RSA", p->rsa, p->ca, p->ca_key, now - DAY, now + YEAR,
                            CERT_SIGNER, 10);
    p->ec256_cert = make_cert("Sở Lao động P-256", p->ec256, p->ca, p->ca_key, now - DAY,
                              now + YEAR, CERT_SIGNER, 11);
    p->ec384_cert = make_cert("Sở Lao động P-384", p->ec384, p->ca, p->ca_key, now - DAY,
                              now + YEAR, CERT_SIGNER, 12);
    p->rsa1024_cert =
        make_cert("Weak RSA", p->rsa1024, p->ca, p->ca_key, now - DAY, now + YEAR, CERT_SIGNER, 13);
    p->expired_cert = make_cert("Expired", p->ec256, p->ca, p->ca_key, now - 2 * YEAR, now - YEAR,
                                CERT_SIGNER, 14);
    p->future_cert = make_cert("Future", p->ec256, p->ca, p->ca_key, now + YEAR, now + 2 * YEAR,
                               CERT_SIGNER, 15);
    p->encipher_cert = make_cert("Encipher only", p->rsa, p->ca, p->ca_key, now - DAY, now + YEAR,
                                 CERT_ENCIPHER, 16);
    p->tsa_cert = make_cert("TSA Thử nghiệm", p->tsa_key, p->ca, p->ca_key, now - YEAR,
                            now + 5 * YEAR, CERT_TSA, 17);
    write_cert_pem(p, "ca.pem", p->ca, p->ca_pem, sizeof p->ca_pem);
    write_cert_pem(p, "other.pem", p->other, p->other_pem, sizeof p->other_pem);
    /* An anchor that is the signer itself: chains the signer, not the TSA. */
    write_cert_pem(p, "leaf.pem", p->rsa_cert, p->leaf_pem, sizeof p->leaf_pem);
    for (size_t i = 0; i < sizeof p->content; i++)
        p->content[i] = (unsigned char)(i * 7 + i / 251);
    start_tsa(p);
    *state = p;
    return 0;
}

static int group_teardown(void **state)
{
    pki *p = *state;
    if (p->tsa_pid > 0) {
        kill(p->tsa_pid, SIGTERM);
        waitpid(p->tsa_pid, NULL, 0);
    }
    EVP_PKEY *keys[] = {p->ca_key, p->other_key, p->rsa,     p->rsa_b,
                        p->ec256,  p->ec384,     p->rsa1024, p->tsa_key};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        EVP_PKEY_free(keys[i]);
    X509 *certs[] = {
        p->ca,           p->other,        p->rsa_cert,    p->ec256_cert,    p->ec384_cert,
        p->rsa1024_cert, p->expired_cert, p->future_cert, p->encipher_cert, p->tsa_cert};
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        X509_free(certs[i]);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    int rc = system(cmd);
    free(p);
    return rc == 0 ? 0 : -1;
}

/* ---------- a token backed by an OpenSSL key ---------- */

typedef struct test_token {
    token base;
    EVP_PKEY *key; /* borrowed */
    X509 *cert;    /* borrowed */
    X509 *chain[2];
    int nchain;
} test_token;

static int der_of(X509 *x, unsigned char **der, size_t *len)
{
    int n = i2d_X509(x, NULL);
    assert_true(n > 0);
    *der = malloc((size_t)n);
    unsigned char *q = *der;
    assert_int_equal(i2d_X509(x, &q), n);
    *len = (size_t)n;
    return 0;
}

static int tt_certificate(token *t, unsigned char **der, size_t *len, sohoa_err *err)
{
    return der_of(((test_token *)t)->cert, der, len);
}

static int tt_chain(token *t, unsigned char **der, size_t *len, int max, sohoa_err *err)
{
    test_token *tt = (test_token *)t;
    int n = 0;
    for (; n < tt->nchain && n < max; n++)
        der_of(tt->chain[n], &der[n], &len[n]);
    return n;
}

/* What a token computes: PKCS#1 v1.5 over DigestInfo, PSS with salt = hash
 * length and MGF1 with the same hash, or ECDSA (DER). */
static int tt_sign(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                   size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err)
{
    test_token *tt = (test_token *)t;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(tt->key, NULL);
    assert_non_null(c);
    assert_int_equal(EVP_PKEY_sign_init(c), 1);
    assert_true(EVP_PKEY_CTX_set_signature_md(c, md) > 0);
    if (scheme != TOKEN_SIG_ECDSA) {
        int pad = scheme == TOKEN_SIG_RSA_PSS ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
        assert_true(EVP_PKEY_CTX_set_rsa_padding(c, pad) > 0);
        if (scheme == TOKEN_SIG_RSA_PSS) {
            assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) > 0);
            assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) > 0);
        }
    }
    size_t n = 0;
    assert_int_equal(EVP_PKEY_sign(c, NULL, &n, digest, digest_len), 1);
    *sig = malloc(n);
    assert_int_equal(EVP_PKEY_sign(c, *sig, &n, digest, digest_len), 1);
    *sig_len = n;
    EVP_PKEY_CTX_free(c);
    return 0;
}

static void tt_close(token *t) {}

static const token_ops tt_ops = {tt_certificate, tt_chain, tt_sign, tt_close};

/* A token holding `key` and `cert`, with the CA certificate as its chain. */
static test_token make_token(const pki *p, EVP_PKEY *key, X509 *cert)
{
    test_token tt = {.key = key, .cert = cert, .nchain = 1};
    tt.chain[0] = p->ca;
    tt.base.ops = &tt_ops;
    tt.base.key_type = EVP_PKEY_is_a(key, "RSA") ? TOKEN_KEY_RSA : TOKEN_KEY_EC;
    tt.base.key_bits = EVP_PKEY_get_bits(key);
    snprintf(tt.base.description, sizeof tt.base.description, "test token");
    return tt;
}

/* ---------- helpers ---------- */

static void digest_of(const unsigned char *data, size_t len, int md_nid, unsigned char *out,
                      size_t *out_len)
{
    unsigned n = 0;
    assert_int_equal(EVP_Digest(data, len, out, &n, EVP_get_digestbynid(md_nid), NULL), 1);
    *out_len = n;
}

/* Signs p->content with `key`/`cert`; returns the DER (malloc'ed). */
static unsigned char *sign_content(const pki *p, EVP_PKEY *key, X509 *cert, token_sig_scheme scheme,
                                   int md_nid, size_t *der_len)
{
    test_token tt = make_token(p, key, cert);
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t digest_len = 0;
    digest_of(p->content, sizeof p->content, md_nid, digest, &digest_len);
    cms_sign_opts o = {.md_nid = md_nid, .scheme = scheme, .now = 0};
    unsigned char *der = NULL;
    sohoa_err err = {0};
    int rc = cms_sign_detached(&tt.base, digest, digest_len, &o, &der, der_len, &err);
    if (rc != 0)
        print_error("cms_sign_detached: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(der);
    return der;
}

/* Runs a shell command; returns its exit status, output (stdout+stderr) in out. */
static int run(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `openssl cms -verify` on the DER and the content: 1 if it succeeds. */
static int openssl_cms_verify(const pki *p, const unsigned char *der, size_t der_len,
                              const unsigned char *content, size_t content_len, const char *ca_file)
{
    char sig_path[160], content_path[160], cmd[800], out[4096];
    path_in(p, "sig.der", sig_path, sizeof sig_path);
    path_in(p, "content.bin", content_path, sizeof content_path);
    write_file(sig_path, der, der_len);
    write_file(content_path, content, content_len);
    snprintf(cmd, sizeof cmd,
             "openssl cms -verify -binary -inform DER -in '%s' -content '%s' -CAfile '%s' "
             "-purpose any -out /dev/null 2>&1",
             sig_path, content_path, ca_file);
    int st = run(cmd, out, sizeof out);
    return st == 0 && strstr(out, "Verification successful") != NULL;
}

static CMS_SignerInfo *single_signer(CMS_ContentInfo *cms)
{
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    assert_int_equal(sk_CMS_SignerInfo_num(sis), 1);
    return sk_CMS_SignerInfo_value(sis, 0);
}

static CMS_ContentInfo *parse(const unsigned char *der, size_t len)
{
    const unsigned char *q = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
    assert_non_null(cms);
    return cms;
}

static int sig_alg_nid(const unsigned char *der, size_t len)
{
    CMS_ContentInfo *cms = parse(der, len);
    X509_ALGOR *alg = NULL;
    CMS_SignerInfo_get0_algs(single_signer(cms), NULL, NULL, NULL, &alg);
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    int nid = OBJ_obj2nid(obj);
    CMS_ContentInfo_free(cms);
    return nid;
}

static void verify_ok(const pki *p, const unsigned char *der, size_t len, int md_nid,
                      const char *signer)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t digest_len = 0;
    digest_of(p->content, sizeof p->content, md_nid, digest, &digest_len);
    cms_verify_result res;
    sohoa_err err = {0};
    time_t claimed = p->now - 60;
    assert_int_equal(
        cms_verify_detached(der, len, digest, digest_len, md_nid, claimed, p->ca_pem, &res, &err),
        0);
    if (res.status != SIG_VALID)
        print_error("verify: %s: %s\n", sig_status_name(res.status), res.detail);
    assert_int_equal(res.status, SIG_VALID);
    assert_string_equal(res.signer, signer);
    assert_int_equal(res.signing_time, claimed);
    assert_int_equal(res.has_timestamp, 0);
    assert_non_null(strstr(res.detail, "CA Thử nghiệm"));
    assert_true(openssl_cms_verify(p, der, len, p->content, sizeof p->content, p->ca_pem));
}

static sig_status verify_status(const pki *p, const unsigned char *der, size_t len,
                                const unsigned char *content, size_t content_len, time_t claimed,
                                const char *trust, cms_verify_result *res)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t digest_len = 0;
    digest_of(content, content_len, NID_sha256, digest, &digest_len);
    sohoa_err err = {0};
    int rc =
        cms_verify_detached(der, len, digest, digest_len, NID_sha256, claimed, trust, res, &err);
    if (rc != 0)
        print_error("cms_verify_detached: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return res->status;
}

/* ---------- signing ---------- */

static void rsa_pkcs1_has_exactly_the_cades_attributes(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->rsa, p->rsa_cert, 0, NID_sha256, &len);
    verify_ok(p, der, len, NID_sha256, "Sở Lao động RSA");
    assert_int_equal(sig_alg_nid(der, len), NID_rsaEncryption);

    CMS_ContentInfo *cms = parse(der, len);
    CMS_SignerInfo *si = single_signer(cms);
    /* Detached, id-data. */
    ASN1_OCTET_STRING **content = CMS_get0_content(cms);
    assert_true(content == NULL || *content == NULL);
    assert_int_equal(OBJ_obj2nid(CMS_get0_eContentType(cms)), NID_pkcs7_data);
    /* Exactly three signed attributes, none of them signingTime. */
    assert_int_equal(CMS_signed_get_attr_count(si), 3);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) >= 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) >= 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) >= 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) < 0);
    assert_true(CMS_unsigned_get_attr_count(si) <= 0); /* no unsigned attributes */
    /* messageDigest is the content's SHA-256. */
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t digest_len = 0;
    digest_of(p->content, sizeof p->content, NID_sha256, digest, &digest_len);
    const ASN1_OCTET_STRING *md = CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);
    assert_non_null(md);
    assert_int_equal(ASN1_STRING_length(md), digest_len);
    assert_memory_equal(ASN1_STRING_get0_data(md), digest, digest_len);
    /* signing-certificate-v2 is ESSCertIDv2(SHA-256 of the certificate,
     * issuerSerial), byte for byte what OpenSSL's own builder gives. */
    ESS_SIGNING_CERT_V2 *expect =
        OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), p->rsa_cert, NULL, 1);
    unsigned char *expect_der = NULL;
    int expect_len = i2d_ESS_SIGNING_CERT_V2(expect, &expect_der);
    const ASN1_STRING *sc = CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3, V_ASN1_SEQUENCE);
    assert_non_null(sc);
    assert_int_equal(ASN1_STRING_length(sc), expect_len);
    assert_memory_equal(ASN1_STRING_get0_data(sc), expect_der, (size_t)expect_len);
    OPENSSL_free(expect_der);
    ESS_SIGNING_CERT_V2_free(expect);
    /* The signer certificate and the token's chain (the CA). */
    STACK_OF(X509) *certs = CMS_get1_certs(cms);
    assert_int_equal(sk_X509_num(certs), 2);
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);

    /* And as the openssl tool prints it. */
    char path[160], cmd[300], out[16384];
    path_in(p, "attrs.der", path, sizeof path);
    write_file(path, der, len);
    snprintf(cmd, sizeof cmd, "openssl cms -cmsout -print -inform DER -in '%s' 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "signingCertificateV2"));
    assert_null(strstr(out, "signingTime"));
    free(der);
}

static void rsa_pss_has_explicit_parameters(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->rsa, p->rsa_cert, TOKEN_SIG_RSA_PSS, NID_sha256, &len);
    verify_ok(p, der, len, NID_sha256, "Sở Lao động RSA");

    CMS_ContentInfo *cms = parse(der, len);
    X509_ALGOR *alg = NULL;
    CMS_SignerInfo_get0_algs(single_signer(cms), NULL, NULL, NULL, &alg);
    const ASN1_OBJECT *obj = NULL;
    int ptype = 0;
    const void *pval = NULL;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    assert_int_equal(OBJ_obj2nid(obj), NID_rsassaPss);
    assert_int_equal(ptype, V_ASN1_SEQUENCE);
    RSA_PSS_PARAMS *pss = ASN1_item_unpack(pval, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
    assert_non_null(pss);
    const ASN1_OBJECT *h = NULL;
    X509_ALGOR_get0(&h, NULL, NULL, pss->hashAlgorithm);
    assert_int_equal(OBJ_obj2nid(h), NID_sha256);
    X509_ALGOR_get0(&h, NULL, NULL, pss->maskGenAlgorithm);
    assert_int_equal(OBJ_obj2nid(h), NID_mgf1);
    assert_int_equal(ASN1_INTEGER_get(pss->saltLength), 32);
    RSA_PSS_PARAMS_free(pss);
    CMS_ContentInfo_free(cms);
    free(der);
}

static void ecdsa_p256_p384_and_sha512(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->ec256, p->ec256_cert, 0, NID_sha256, &len);
    verify_ok(p, der, len, NID_sha256, "Sở Lao động P-256");
    assert_int_equal(sig_alg_nid(der, len), NID_ecdsa_with_SHA256);
    free(der);

    der = sign_content(p, p->ec384, p->ec384_cert, TOKEN_SIG_ECDSA, NID_sha384, &len);
    verify_ok(p, der, len, NID_sha384, "Sở Lao động P-384");
    assert_int_equal(sig_alg_nid(der, len), NID_ecdsa_with_SHA384);
    free(der);

    der = sign_content(p, p->ec384, p->ec384_cert, 0, NID_sha512, &len);
    verify_ok(p, der, len, NID_sha512, "Sở Lao động P-384");
    assert_int_equal(sig_alg_nid(der, len), NID_ecdsa_with_SHA512);
    free(der);

    der = sign_content(p, p->rsa, p->rsa_cert, TOKEN_SIG_RSA_PSS, NID_sha512, &len);
    verify_ok(p, der, len, NID_sha512, "Sở Lao động RSA");
    free(der);

    der = sign_content(p, p->rsa, p->rsa_cert, TOKEN_SIG_RSA_PKCS1, NID_sha384, &len);
    verify_ok(p, der, len, NID_sha384, "Sở Lao động RSA");
    /* The digest algorithm recorded is the one asked for. */
    CMS_ContentInfo *cms = parse(der, len);
    X509_ALGOR *dig = NULL;
    CMS_SignerInfo_get0_algs(single_signer(cms), NULL, NULL, &dig, NULL);
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, dig);
    assert_int_equal(OBJ_obj2nid(obj), NID_sha384);
    CMS_ContentInfo_free(cms);
    free(der);
}

static void refuses_expired_future_weak_and_encipher_only(void **state)
{
    pki *p = *state;
    struct {
        EVP_PKEY *key;
        X509 *cert;
        const char *why;
    } cases[] = {
        {p->ec256, p->expired_cert, "expired"},
        {p->ec256, p->future_cert, "not valid before"},
        {p->rsa1024, p->rsa1024_cert, "weak"},
        {p->rsa, p->encipher_cert, "keyUsage"},
    };
    unsigned char digest[32] = {1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_token tt = make_token(p, cases[i].key, cases[i].cert);
        cms_sign_opts o = {0};
        unsigned char *der = (unsigned char *)"untouched";
        size_t len = 1;
        sohoa_err err = {0};
        assert_int_equal(cms_sign_detached(&tt.base, digest, 32, &o, &der, &len, &err), -1);
        assert_int_equal(err.status, SOHOA_EWORK);
        if (!strstr(err.msg, cases[i].why))
            print_error("case %zu: %s\n", i, err.msg);
        assert_non_null(strstr(err.msg, cases[i].why));
        assert_null(der);
        assert_int_equal(len, 0);
    }
}

static void refuses_bad_options(void **state)
{
    pki *p = *state;
    test_token tt = make_token(p, p->rsa, p->rsa_cert);
    unsigned char digest[64] = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    sohoa_err err = {0};
    cms_sign_opts sha1 = {.md_nid = NID_sha1};
    assert_int_equal(cms_sign_detached(&tt.base, digest, 20, &sha1, &der, &len, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "SHA1"));
    err_clear(&err);
    cms_sign_opts sha384 = {.md_nid = NID_sha384};
    assert_int_equal(cms_sign_detached(&tt.base, digest, 32, &sha384, &der, &len, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    cms_sign_opts ecdsa = {.scheme = TOKEN_SIG_ECDSA};
    assert_int_equal(cms_sign_detached(&tt.base, digest, 32, &ecdsa, &der, &len, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    test_token ec = make_token(p, p->ec256, p->ec256_cert);
    cms_sign_opts pss = {.scheme = TOKEN_SIG_RSA_PSS};
    err_clear(&err);
    assert_int_equal(cms_sign_detached(&ec.base, digest, 32, &pss, &der, &len, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_null(der);
}

static void catches_a_token_signing_with_another_key(void **state)
{
    pki *p = *state;
    test_token tt = make_token(p, p->rsa_b, p->rsa_cert);
    unsigned char digest[32] = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    sohoa_err err = {0};
    assert_int_equal(cms_sign_detached(&tt.base, digest, 32, NULL, &der, &len, &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "does not verify"));
    assert_null(der);
}

static void chain_duplicates_are_left_out(void **state)
{
    pki *p = *state;
    test_token tt = make_token(p, p->ec256, p->ec256_cert);
    tt.chain[0] = p->ec256_cert; /* some tokens list the signer again */
    tt.chain[1] = p->ca;
    tt.nchain = 2;
    unsigned char digest[32];
    size_t digest_len = 0;
    digest_of(p->content, sizeof p->content, NID_sha256, digest, &digest_len);
    unsigned char *der = NULL;
    size_t len = 0;
    sohoa_err err = {0};
    assert_int_equal(cms_sign_detached(&tt.base, digest, digest_len, NULL, &der, &len, &err), 0);
    CMS_ContentInfo *cms = parse(der, len);
    STACK_OF(X509) *certs = CMS_get1_certs(cms);
    assert_int_equal(sk_X509_num(certs), 2);
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
    verify_ok(p, der, len, NID_sha256, "Sở Lao động P-256");
    free(der);
}

/* ---------- verification ---------- */

static void tampered_content_and_signature(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->rsa, p->rsa_cert, 0, NID_sha256, &len);
    cms_verify_result res;

    unsigned char changed[sizeof p->content];
    memcpy(changed, p->content, sizeof changed);
    changed[1234] ^= 0x01;
    assert_int_equal(verify_status(p, der, len, changed, sizeof changed, 0, p->ca_pem, &res),
                     SIG_INVALID_DIGEST);
    assert_string_equal(res.signer, "Sở Lao động RSA");
    assert_false(openssl_cms_verify(p, der, len, changed, sizeof changed, p->ca_pem));

    /* Flip one bit of the signature value and re-encode. */
    CMS_ContentInfo *cms = parse(der, len);
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(single_signer(cms));
    unsigned char *s = (unsigned char *)ASN1_STRING_get0_data(sig);
    s[10] ^= 0x01;
    unsigned char *bad = NULL;
    int bad_len = i2d_CMS_ContentInfo(cms, &bad);
    assert_true(bad_len > 0);
    CMS_ContentInfo_free(cms);
    assert_int_equal(
        verify_status(p, bad, (size_t)bad_len, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_INVALID_SIGNATURE);
    assert_false(
        openssl_cms_verify(p, bad, (size_t)bad_len, p->content, sizeof p->content, p->ca_pem));
    OPENSSL_free(bad);

    /* The same for ECDSA. */
    free(der);
    der = sign_content(p, p->ec256, p->ec256_cert, 0, NID_sha256, &len);
    cms = parse(der, len);
    sig = CMS_SignerInfo_get0_signature(single_signer(cms));
    s = (unsigned char *)ASN1_STRING_get0_data(sig);
    s[ASN1_STRING_length(sig) - 3] ^= 0x40;
    bad = NULL;
    bad_len = i2d_CMS_ContentInfo(cms, &bad);
    CMS_ContentInfo_free(cms);
    assert_int_equal(
        verify_status(p, bad, (size_t)bad_len, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_INVALID_SIGNATURE);
    OPENSSL_free(bad);
    free(der);
}

static void trust_anchors_decide(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->ec256, p->ec256_cert, 0, NID_sha256, &len);
    cms_verify_result res;
    assert_int_equal(
        verify_status(p, der, len, p->content, sizeof p->content, 0, p->other_pem, &res),
        SIG_UNTRUSTED);
    assert_false(openssl_cms_verify(p, der, len, p->content, sizeof p->content, p->other_pem));
    assert_int_equal(verify_status(p, der, len, p->content, sizeof p->content, 0, NULL, &res),
                     SIG_UNTRUSTED);
    assert_non_null(strstr(res.detail, "no trust anchors"));
    assert_int_equal(verify_status(p, der, len, p->content, sizeof p->content, 0, p->ca_pem, &res),
                     SIG_VALID);

    sohoa_err err = {0};
    unsigned char digest[32] = {0};
    assert_int_equal(cms_verify_detached(der, len, digest, 32, NID_sha256, 0,
                                         "/nonexistent/anchors.pem", &res, &err),
                     -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "/nonexistent/anchors.pem"));
    free(der);
}

static void validity_is_judged_at_the_signing_time(void **state)
{
    pki *p = *state;
    /* Signed while the certificate was valid (a year and a half ago)... */
    test_token tt = make_token(p, p->ec256, p->expired_cert);
    unsigned char digest[32];
    size_t digest_len = 0;
    digest_of(p->content, sizeof p->content, NID_sha256, digest, &digest_len);
    time_t then = p->now - 3 * YEAR / 2;
    cms_sign_opts o = {.now = then};
    unsigned char *der = NULL;
    size_t len = 0;
    sohoa_err err = {0};
    assert_int_equal(cms_sign_detached(&tt.base, digest, digest_len, &o, &der, &len, &err), 0);
    cms_verify_result res;
    assert_int_equal(
        verify_status(p, der, len, p->content, sizeof p->content, then, p->ca_pem, &res),
        SIG_VALID);
    assert_int_equal(res.signing_time, then);
    /* ...but claimed today, it is refused. */
    assert_int_equal(
        verify_status(p, der, len, p->content, sizeof p->content, p->now, p->ca_pem, &res),
        SIG_CERT_EXPIRED);
    assert_non_null(strstr(res.detail, "Expired"));
    free(der);

    tt = make_token(p, p->ec256, p->future_cert);
    o.now = p->now + 3 * YEAR / 2;
    assert_int_equal(cms_sign_detached(&tt.base, digest, digest_len, &o, &der, &len, &err), 0);
    assert_int_equal(
        verify_status(p, der, len, p->content, sizeof p->content, p->now, p->ca_pem, &res),
        SIG_CERT_NOT_YET_VALID);
    free(der);
}

static void signing_time_is_forbidden(void **state)
{
    pki *p = *state;
    /* A plain OpenSSL CMS_sign() adds signingTime. */
    BIO *in = BIO_new_mem_buf(p->content, sizeof p->content);
    CMS_ContentInfo *cms =
        CMS_sign(p->rsa_cert, p->rsa, NULL, in, CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP);
    assert_non_null(cms);
    BIO_free(in);
    unsigned char *der = NULL;
    int len = i2d_CMS_ContentInfo(cms, &der);
    assert_true(len > 0);
    assert_true(CMS_signed_get_attr_by_NID(single_signer(cms), NID_pkcs9_signingTime, -1) >= 0);
    CMS_ContentInfo_free(cms);
    /* Integrity and trust are fine; the attribute alone is the fault. */
    assert_true(openssl_cms_verify(p, der, (size_t)len, p->content, sizeof p->content, p->ca_pem));
    cms_verify_result res;
    assert_int_equal(
        verify_status(p, der, (size_t)len, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_FORBIDDEN_ATTRIBUTE);
    assert_non_null(strstr(res.detail, "signingTime"));
    OPENSSL_free(der);
}

static void signing_certificate_must_name_the_signer(void **state)
{
    pki *p = *state;
    /* Signed by the RSA key, but signing-certificate-v2 names the P-256
     * certificate: what a certificate substitution looks like. */
    const unsigned flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
    assert_non_null(cms);
    CMS_SignerInfo *si = CMS_add1_signer(cms, p->rsa_cert, p->rsa, EVP_sha256(), flags);
    assert_non_null(si);
    ESS_SIGNING_CERT_V2 *sc =
        OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), p->ec256_cert, NULL, 1);
    unsigned char *sc_der = NULL;
    int sc_len = i2d_ESS_SIGNING_CERT_V2(sc, &sc_der);
    assert_true(sc_len > 0);
    assert_true(CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2,
                                            V_ASN1_SEQUENCE, sc_der, sc_len));
    OPENSSL_free(sc_der);
    ESS_SIGNING_CERT_V2_free(sc);
    BIO *in = BIO_new_mem_buf(p->content, sizeof p->content);
    assert_int_equal(CMS_final(cms, in, NULL, flags), 1);
    BIO_free(in);
    unsigned char *der = NULL;
    int len = i2d_CMS_ContentInfo(cms, &der);
    assert_true(len > 0);
    CMS_ContentInfo_free(cms);
    cms_verify_result res;
    assert_int_equal(
        verify_status(p, der, (size_t)len, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_INVALID_SIGNATURE);
    assert_non_null(strstr(res.detail, "signing-certificate"));
    /* (`openssl cms -verify` 3.0 does not check this binding: no cross-check.) */
    OPENSSL_free(der);
}

static void malformed_input_and_padding(void **state)
{
    pki *p = *state;
    cms_verify_result res;
    static const unsigned char junk[] = "definitely not DER";
    assert_int_equal(
        verify_status(p, junk, sizeof junk, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_MALFORMED);

    size_t len = 0;
    unsigned char *der = sign_content(p, p->ec256, p->ec256_cert, 0, NID_sha256, &len);
    assert_int_equal(
        verify_status(p, der, len - 10, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_MALFORMED);
    /* /Contents is zero-padded: that is fine, anything else is not. */
    unsigned char *padded = calloc(1, len + 500);
    memcpy(padded, der, len);
    assert_int_equal(
        verify_status(p, padded, len + 500, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_VALID);
    padded[len + 100] = 'x';
    assert_int_equal(
        verify_status(p, padded, len + 500, p->content, sizeof p->content, 0, p->ca_pem, &res),
        SIG_MALFORMED);
    free(padded);
    free(der);
}

typedef struct hash_ctx {
    const unsigned char *data;
    size_t len;
    int calls;
    int md_nid;
} hash_ctx;

static int hash_ranges(void *ctx, const EVP_MD *md, unsigned char *out, unsigned *out_len,
                       sohoa_err *err)
{
    hash_ctx *h = ctx;
    h->calls++;
    h->md_nid = EVP_MD_get_type(md);
    return EVP_Digest(h->data, h->len, out, out_len, md, NULL) ? 0 : -1;
}

static void digest_algorithm_comes_from_the_signature(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->ec384, p->ec384_cert, 0, NID_sha384, &len);
    hash_ctx h = {p->content, sizeof p->content, 0, 0};
    cms_verify_result res;
    sohoa_err err = {0};
    assert_int_equal(cms_verify_detached_cb(der, len, hash_ranges, &h, 0, p->ca_pem, &res, &err),
                     0);
    assert_int_equal(res.status, SIG_VALID);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.md_nid, NID_sha384);

    /* A SHA-256 digest offered for a SHA-384 signature is a caller error. */
    unsigned char digest[32];
    size_t digest_len = 0;
    digest_of(p->content, sizeof p->content, NID_sha256, digest, &digest_len);
    assert_int_equal(
        cms_verify_detached(der, len, digest, digest_len, NID_sha256, 0, p->ca_pem, &res, &err),
        -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "SHA384"));
    err_clear(&err);
    assert_int_equal(cms_verify_detached(der, len, digest, digest_len, 0, 0, p->ca_pem, &res, &err),
                     -1);
    free(der);
}

/* ---------- timestamps ---------- */

static void tsa_url(const pki *p, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", p->tsa_port, path);
}

static void timestamp_added_and_verified(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->rsa, p->rsa_cert, 0, NID_sha256, &len);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    sohoa_err err = {0};
    assert_int_equal(cms_signature_value(der, len, &sig, &sig_len, &err), 0);

    char url[128];
    tsa_url(p, "/tsa", url, sizeof url);
    cms_tsa_opts o = {.timeout_s = 20, .trust_file = p->ca_pem};
    unsigned char *tok = NULL;
    size_t tok_len = 0;
    int rc = tsa_timestamp(url, &o, sig, sig_len, NID_sha256, &tok, &tok_len, &err);
    if (rc)
        print_error("tsa_timestamp: %s\n", err.msg);
    assert_int_equal(rc, 0);

    /* Independent check of the token with the openssl tool. */
    char tok_path[160], data_path[160], cmd[600], out[4096];
    path_in(p, "token.der", tok_path, sizeof tok_path);
    path_in(p, "sigvalue.bin", data_path, sizeof data_path);
    write_file(tok_path, tok, tok_len);
    write_file(data_path, sig, sig_len);
    snprintf(cmd, sizeof cmd, "openssl ts -verify -in '%s' -token_in -data '%s' -CAfile '%s' 2>&1",
             tok_path, data_path, p->ca_pem);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "Verification: OK"));

    assert_int_equal(cms_add_timestamp(&der, &len, tok, tok_len, &err), 0);
    cms_verify_result res;
    assert_int_equal(
        verify_status(p, der, len, p->content, sizeof p->content, p->now - 60, p->ca_pem, &res),
        SIG_VALID);
    assert_int_equal(res.has_timestamp, 1);
    assert_true(labs((long)(res.signing_time - time(NULL))) < 120);
    assert_true(openssl_cms_verify(p, der, len, p->content, sizeof p->content, p->ca_pem));
    /* The timestamp fixes the time: a claim past the certificate's end
     * does not matter. */
    assert_int_equal(verify_status(p, der, len, p->content, sizeof p->content, p->now + 3 * YEAR,
                                   p->ca_pem, &res),
                     SIG_VALID);
    /* The signed attributes were not disturbed, the token sits unsigned. */
    CMS_ContentInfo *cms = parse(der, len);
    CMS_SignerInfo *si = single_signer(cms);
    assert_int_equal(CMS_signed_get_attr_count(si), 3);
    assert_int_equal(CMS_unsigned_get_attr_count(si), 1);
    assert_true(CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1) >= 0);
    CMS_ContentInfo_free(cms);

    /* The TSA's chain is checked: anchors that only cover the signer. */
    assert_int_equal(
        verify_status(p, der, len, p->content, sizeof p->content, 0, p->leaf_pem, &res),
        SIG_UNTRUSTED);
    assert_non_null(strstr(res.detail, "TSA Thử nghiệm"));

    /* Once only. */
    err_clear(&err);
    assert_int_equal(cms_add_timestamp(&der, &len, tok, tok_len, &err), -1);
    assert_non_null(strstr(err.msg, "already"));

    /* A token for another signature does not fit. */
    size_t len2 = 0;
    unsigned char *der2 = sign_content(p, p->ec256, p->ec256_cert, 0, NID_sha256, &len2);
    unsigned char *before = malloc(len2);
    memcpy(before, der2, len2);
    err_clear(&err);
    assert_int_equal(cms_add_timestamp(&der2, &len2, tok, tok_len, &err), -1);
    assert_non_null(strstr(err.msg, "imprint"));
    assert_memory_equal(der2, before, len2); /* left as it was */
    free(before);
    free(der2);
    free(tok);
    free(sig);
    free(der);
}

static void tsa_failures_are_told_apart(void **state)
{
    pki *p = *state;
    unsigned char sig[256];
    memset(sig, 0x5a, sizeof sig);
    cms_tsa_opts o = {.timeout_s = 20};
    unsigned char *tok = NULL;
    size_t tok_len = 0;
    char url[128];
    sohoa_err err = {0};

    /* Connection refused: a port nobody listens on. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    close(s);
    snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%d/tsa", ntohs(a.sin_port));
    assert_int_equal(tsa_timestamp(url, &o, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "retry"));
    assert_non_null(strstr(err.msg, "unreachable"));
    assert_null(strstr(err.msg, "secret")); /* no password in messages */
    assert_null(tok);

    struct {
        const char *path;
        const char *expect[3];
    } cases[] = {
        {"/500", {"HTTP 500", "retry", NULL}},
        {"/garbage", {"malformed", NULL, NULL}},
        {"/reject", {"refused", "rejection", "badAlg"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tsa_url(p, cases[i].path, url, sizeof url);
        err_clear(&err);
        assert_int_equal(tsa_timestamp(url, &o, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err),
                         -1);
        assert_int_equal(err.status, SOHOA_EWORK);
        for (int j = 0; j < 3 && cases[i].expect[j]; j++) {
            if (!strstr(err.msg, cases[i].expect[j]))
                print_error("%s: %s\n", cases[i].path, err.msg);
            assert_non_null(strstr(err.msg, cases[i].expect[j]));
        }
        assert_null(tok);
    }

    /* A replayed answer carries the nonce of an earlier request. */
    tsa_url(p, "/replay", url, sizeof url);
    err_clear(&err);
    assert_int_equal(tsa_timestamp(url, &o, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err), 0);
    free(tok);
    tok = NULL;
    assert_int_equal(tsa_timestamp(url, &o, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err), -1);
    assert_non_null(strstr(err.msg, "nonce"));

    /* A TSA that does not chain to the given anchors. */
    tsa_url(p, "/tsa", url, sizeof url);
    cms_tsa_opts other = {.timeout_s = 20, .trust_file = p->other_pem};
    err_clear(&err);
    assert_int_equal(tsa_timestamp(url, &other, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err),
                     -1);
    assert_non_null(strstr(err.msg, "not trusted"));
    assert_null(tok);

    /* Too slow. */
    tsa_url(p, "/slow", url, sizeof url);
    cms_tsa_opts quick = {.timeout_s = 1};
    err_clear(&err);
    assert_int_equal(tsa_timestamp(url, &quick, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err),
                     -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "retry"));

    err_clear(&err);
    assert_int_equal(tsa_timestamp("", &o, sig, sizeof sig, NID_sha256, &tok, &tok_len, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
}

/* A TimeStampToken with the TSTInfo of `tok`, signed by `cert`/`key`, built
 * the way a TSA builds one. */
static unsigned char *token_signed_by(const unsigned char *tok, size_t tok_len, X509 *cert,
                                      EVP_PKEY *key, size_t *out_len)
{
    const unsigned char *q = tok;
    PKCS7 *real = d2i_PKCS7(NULL, &q, (long)tok_len);
    assert_non_null(real);
    TS_TST_INFO *tst = PKCS7_to_TS_TST_INFO(real);
    assert_non_null(tst);
    PKCS7 *p7 = PKCS7_new();
    assert_true(PKCS7_set_type(p7, NID_pkcs7_signed));
    assert_true(PKCS7_add_certificate(p7, cert));
    PKCS7_SIGNER_INFO *si = PKCS7_add_signature(p7, cert, key, EVP_sha256());
    assert_non_null(si);
    assert_true(PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                           OBJ_nid2obj(NID_id_smime_ct_TSTInfo)));
    PKCS7 *inner = PKCS7_new();
    inner->type = OBJ_nid2obj(NID_id_smime_ct_TSTInfo);
    inner->d.other = ASN1_TYPE_new();
    ASN1_TYPE_set(inner->d.other, V_ASN1_OCTET_STRING, ASN1_OCTET_STRING_new());
    assert_true(PKCS7_set_content(p7, inner));
    BIO *b = PKCS7_dataInit(p7, NULL);
    assert_non_null(b);
    assert_true(i2d_TS_TST_INFO_bio(b, tst));
    assert_true(PKCS7_dataFinal(p7, b));
    BIO_free_all(b);
    int n = i2d_PKCS7(p7, NULL);
    unsigned char *out = malloc((size_t)n), *w = out;
    assert_int_equal(i2d_PKCS7(p7, &w), n);
    *out_len = (size_t)n;
    PKCS7_free(p7);
    TS_TST_INFO_free(tst);
    PKCS7_free(real);
    return out;
}

static void forged_timestamp_is_rejected(void **state)
{
    pki *p = *state;
    size_t len = 0;
    unsigned char *der = sign_content(p, p->rsa, p->rsa_cert, 0, NID_sha256, &len);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    sohoa_err err = {0};
    assert_int_equal(cms_signature_value(der, len, &sig, &sig_len, &err), 0);
    char url[128];
    tsa_url(p, "/tsa", url, sizeof url);
    cms_tsa_opts o = {.timeout_s = 20};
    unsigned char *tok = NULL;
    size_t tok_len = 0;
    assert_int_equal(tsa_timestamp(url, &o, sig, sig_len, NID_sha256, &tok, &tok_len, &err), 0);
    /* Re-signed by the TSA key it verifies; by a certificate without the
     * timeStamping EKU it does not. */
    size_t re_len = 0;
    unsigned char *re = token_signed_by(tok, tok_len, p->tsa_cert, p->tsa_key, &re_len);
    assert_int_equal(tsa_token_verify(re, re_len, sig, sig_len, NULL, NULL, &err), 0);
    free(re);
    re = token_signed_by(tok, tok_len, p->rsa_cert, p->rsa, &re_len);
    assert_int_equal(tsa_token_verify(re, re_len, sig, sig_len, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "timeStamping"));
    free(re);
    /* Tamper with the token's TSTInfo (its last bytes are in the signer
     * info; change a byte of the genTime region found by its digits). */
    tsa_token_info info;
    assert_int_equal(tsa_token_verify(tok, tok_len, sig, sig_len, p->ca_pem, &info, &err), 0);
    assert_string_equal(info.tsa_name, "TSA Thử nghiệm");
    assert_true(labs((long)(info.gen_time - time(NULL))) < 120);
    struct tm tm;
    gmtime_r(&info.gen_time, &tm);
    char stamp[16];
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M", &tm);
    unsigned char *at = memmem(tok, tok_len, stamp, strlen(stamp));
    assert_non_null(at);
    at[2] = at[2] == '9' ? '8' : (unsigned char)(at[2] + 1); /* another decade */
    err_clear(&err);
    assert_int_equal(tsa_token_verify(tok, tok_len, sig, sig_len, NULL, &info, &err), -1);
    assert_non_null(strstr(err.msg, "signature"));
    free(tok);
    free(sig);
    free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsa_pkcs1_has_exactly_the_cades_attributes),
        cmocka_unit_test(rsa_pss_has_explicit_parameters),
        cmocka_unit_test(ecdsa_p256_p384_and_sha512),
        cmocka_unit_test(refuses_expired_future_weak_and_encipher_only),
        cmocka_unit_test(refuses_bad_options),
        cmocka_unit_test(catches_a_token_signing_with_another_key),
        cmocka_unit_test(chain_duplicates_are_left_out),
        cmocka_unit_test(tampered_content_and_signature),
        cmocka_unit_test(trust_anchors_decide),
        cmocka_unit_test(validity_is_judged_at_the_signing_time),
        cmocka_unit_test(signing_time_is_forbidden),
        cmocka_unit_test(signing_certificate_must_name_the_signer),
        cmocka_unit_test(malformed_input_and_padding),
        cmocka_unit_test(digest_algorithm_comes_from_the_signature),
        cmocka_unit_test(timestamp_added_and_verified),
        cmocka_unit_test(tsa_failures_are_told_apart),
        cmocka_unit_test(forged_timestamp_is_rejected),
    };
    return cmocka_run_group_tests_name("cms", tests, group_setup, group_teardown);
}
