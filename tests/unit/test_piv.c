/* Unit tests: signer/piv — APDU layer and PIV applet against the card model,
 * through a direct transport (no USB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/support/testutil.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "signer/piv.h"
#include "tests/unit/support/ccid_model.h"

typedef struct {
    EVP_PKEY *rsa, *p256, *p384;
} keys;

typedef struct {
    keys *k;
    card_model *card;
    piv_card piv;
} fixture;

static keys the_keys;

static int group_setup(void **state)
{
    the_keys.rsa = card_model_keygen("rsa2048");
    the_keys.p256 = card_model_keygen("p256");
    the_keys.p384 = card_model_keygen("p384");
    return the_keys.rsa && the_keys.p256 && the_keys.p384 ? 0 : -1;
}

static int group_teardown(void **state)
{
    EVP_PKEY_free(the_keys.rsa);
    EVP_PKEY_free(the_keys.p256);
    EVP_PKEY_free(the_keys.p384);
    return 0;
}

static fixture *fixture_new(EVP_PKEY *key)
{
    fixture *f = calloc(1, sizeof *f);
    f->k = &the_keys;
    f->card = card_model_new(key);
    f->piv =
        (piv_card){.transmit = card_model_transmit, .ctx = f->card, .name = "token PIV (model)"};
    return f;
}

static int setup_rsa(void **state)
{
    *state = fixture_new(the_keys.rsa);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    card_model_free(f->card);
    free(f);
    return 0;
}

static void test_select(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    assert_int_equal(piv_select(&f->piv, &err), 0);
    card_model_knobs(f->card)->no_applet = true;
    assert_int_equal(piv_select(&f->piv, &err), -1);
    assert_non_null(strstr(err.msg, "no PIV application"));
}

static void test_wrong_pin_with_retries_left(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    card_knobs *k = card_model_knobs(f->card);
    assert_int_equal(piv_select(&f->piv, &err), 0);
    assert_int_equal(piv_verify_pin(&f->piv, "654321", &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "wrong PIN (2 tries left)"));
    assert_null(strstr(err.msg, "654321"));
    assert_int_equal(k->verify_attempts, 1);
    assert_int_equal(k->pin_tries, 2);
    /* The right PIN then works and resets the counter. */
    err_clear(&err);
    assert_int_equal(piv_verify_pin(&f->piv, "123456", &err), 0);
    assert_int_equal(k->pin_tries, 3);
    int tries;
    bool verified;
    assert_int_equal(piv_pin_status(&f->piv, &tries, &verified, &err), 0);
    assert_true(verified);
}

static void test_refuses_last_try(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    card_knobs *k = card_model_knobs(f->card);
    assert_int_equal(piv_select(&f->piv, &err), 0);
    k->pin_tries = 1;
    /* Even the right PIN is not tried: a wrong one would block the card. */
    assert_int_equal(piv_verify_pin(&f->piv, "123456", &err), -1);
    assert_non_null(strstr(err.msg, "only 1 PIN try left"));
    assert_int_equal(k->verify_attempts, 0);
    assert_int_equal(k->pin_tries, 1);
    /* With two tries left one attempt is made. */
    k->pin_tries = 2;
    err_clear(&err);
    assert_int_equal(piv_verify_pin(&f->piv, "111111", &err), -1);
    assert_non_null(strstr(err.msg, "wrong PIN (1 try left)"));
    assert_int_equal(k->verify_attempts, 1);
    err_clear(&err);
    assert_int_equal(piv_verify_pin(&f->piv, "123456", &err), -1);
    assert_int_equal(k->verify_attempts, 1);
}

static void test_blocked(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    card_knobs *k = card_model_knobs(f->card);
    assert_int_equal(piv_select(&f->piv, &err), 0);
    k->pin_tries = 0;
    assert_int_equal(piv_verify_pin(&f->piv, "123456", &err), -1);
    assert_non_null(strstr(err.msg, "PIN blocked"));
    assert_int_equal(k->verify_attempts, 0);
}

static void test_bad_pin_format_not_tried(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    assert_int_equal(piv_select(&f->piv, &err), 0);
    assert_int_equal(piv_verify_pin(&f->piv, "12345", &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_int_equal(piv_verify_pin(&f->piv, "123456789", &err), -1);
    assert_int_equal(card_model_knobs(f->card)->verify_attempts, 0);
}

static void read_cert_and_compare(fixture *f)
{
    sohoa_err err = {0};
    unsigned char *der = NULL;
    size_t len = 0, want_len = 0;
    const unsigned char *want = card_model_cert(f->card, &want_len);
    assert_int_equal(piv_select(&f->piv, &err), 0);
    assert_int_equal(piv_read_certificate(&f->piv, &der, &len, &err), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(der, want, len);
    free(der);
}

static void test_read_certificate_61xx(void **state)
{
    fixture *f = *state;
    card_knobs *k = card_model_knobs(f->card);
    k->response_chunk = 100;
    read_cert_and_compare(f);
    /* The object is several hundred bytes: several GET RESPONSE rounds. */
    assert_true(k->get_responses >= 3);
}

static void test_read_certificate_compressed(void **state)
{
    fixture *f = *state;
    card_model_knobs(f->card)->compress_cert = true;
    read_cert_and_compare(f);
}

static void test_no_certificate(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    card_model_knobs(f->card)->no_cert = true;
    assert_int_equal(piv_select(&f->piv, &err), 0);
    assert_int_equal(piv_read_certificate(&f->piv, &der, &len, &err), -1);
    assert_null(der);
    assert_non_null(strstr(err.msg, "no certificate"));
}

static void test_wrong_le_6cxx(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    card_knobs *k = card_model_knobs(f->card);
    k->wrong_le_once = 1;
    unsigned char *resp = NULL;
    size_t len = 0;
    uint16_t sw = 0;
    static const unsigned char aid[] = {0xA0, 0x00, 0x00, 0x03, 0x08};
    assert_int_equal(
        piv_apdu(&f->piv, 0, 0xA4, 0x04, 0x00, aid, sizeof aid, true, &resp, &len, &sw, &err), 0);
    assert_int_equal(sw, 0x9000);
    assert_int_equal(k->wrong_le_sent, 1);
    assert_int_equal(len, 19);
    assert_int_equal(resp[0], 0x61);
    free(resp);
}

static void test_tlv(void **state)
{
    unsigned tag;
    const unsigned char *v;
    size_t l;
    const unsigned char ok[] = {0x5F, 0xC1, 0x0A, 0x82, 0x00, 0x02, 0xAA, 0xBB};
    assert_int_equal(piv_tlv(ok, sizeof ok, &tag, &v, &l), sizeof ok);
    assert_int_equal(tag, 0x5FC10A);
    assert_int_equal(l, 2);
    assert_int_equal(v[1], 0xBB);
    const unsigned char truncated[] = {0x53, 0x82, 0x01, 0x00, 0x00};
    assert_int_equal(piv_tlv(truncated, sizeof truncated, &tag, &v, &l), 0);
    const unsigned char badlen[] = {0x53, 0x85, 0, 0, 0, 0, 1};
    assert_int_equal(piv_tlv(badlen, sizeof badlen, &tag, &v, &l), 0);
    const unsigned char longtag[] = {0x5F, 0x81, 0x82, 0x83, 0x01, 0x00};
    assert_int_equal(piv_tlv(longtag, sizeof longtag, &tag, &v, &l), 0);
}

/* Verifies sig over digest with the card's certificate key. */
static void assert_verifies(card_model *card, token_sig_scheme scheme, const EVP_MD *md,
                            const unsigned char *digest, size_t dlen, const unsigned char *sig,
                            size_t slen)
{
    size_t clen;
    const unsigned char *der = card_model_cert(card, &clen);
    assert_true(tu_signature_ok(der, clen, scheme, md, digest, dlen, sig, slen));
}

/* Selects, verifies the PIN and signs `msg` hashed with md; checks the
 * signature with OpenSSL against the certificate. */
static void sign_and_check(fixture *f, token_sig_scheme scheme, const EVP_MD *md)
{
    sohoa_err err = {0};
    unsigned char digest[64];
    unsigned int dlen = 0;
    EVP_Digest("sohoa document", 14, digest, &dlen, md, NULL);
    assert_int_equal(piv_select(&f->piv, &err), 0);
    assert_int_equal(piv_verify_pin(&f->piv, "123456", &err), 0);
    size_t clen;
    const unsigned char *der = card_model_cert(f->card, &clen);
    X509 *x = d2i_X509(NULL, &der, (long)clen);
    EVP_PKEY *pub = X509_get_pubkey(x);
    unsigned char *sig = NULL;
    size_t slen = 0;
    int rc =
        piv_sign_digest(&f->piv, pub, scheme, EVP_MD_get_type(md), digest, dlen, &sig, &slen, &err);
    if (rc != 0)
        fail_msg("sign: %s", err.msg);
    assert_verifies(f->card, scheme, md, digest, dlen, sig, slen);
    free(sig);
    EVP_PKEY_free(pub);
    X509_free(x);
}

static void test_sign_rsa_pkcs1(void **state)
{
    fixture *f = *state;
    sign_and_check(f, TOKEN_SIG_RSA_PKCS1, EVP_sha256());
    card_knobs *k = card_model_knobs(f->card);
    /* 256-byte block in a 266-byte template: command chaining was used. */
    assert_int_equal(k->last_alg, PIV_ALG_RSA_2048);
    assert_int_equal(k->last_challenge, 256);
    assert_true(k->chained_blocks >= 1);
    assert_true(k->get_responses >= 1);
}

static void test_sign_rsa_pss(void **state)
{
    sign_and_check(*state, TOKEN_SIG_RSA_PSS, EVP_sha256());
    sign_and_check(*state, TOKEN_SIG_RSA_PSS, EVP_sha512());
}

static void test_sign_rsa_pkcs1_sha384(void **state)
{
    sign_and_check(*state, TOKEN_SIG_RSA_PKCS1, EVP_sha384());
}

static void test_sign_ecdsa(void **state)
{
    teardown(state); /* the RSA card of the setup is not used here */
    fixture *f = fixture_new(the_keys.p256);
    sign_and_check(f, TOKEN_SIG_ECDSA, EVP_sha256());
    assert_int_equal(card_model_knobs(f->card)->last_alg, PIV_ALG_ECC_P256);
    assert_int_equal(card_model_knobs(f->card)->last_challenge, 32);
    /* SHA-512 on P-256: the leftmost 32 bytes go to the card. */
    sign_and_check(f, TOKEN_SIG_ECDSA, EVP_sha512());
    assert_int_equal(card_model_knobs(f->card)->last_challenge, 32);
    *state = f;
    teardown(state);
    f = fixture_new(the_keys.p384);
    /* SHA-256 on P-384: left-padded to 48 bytes. */
    sign_and_check(f, TOKEN_SIG_ECDSA, EVP_sha256());
    assert_int_equal(card_model_knobs(f->card)->last_alg, PIV_ALG_ECC_P384);
    assert_int_equal(card_model_knobs(f->card)->last_challenge, 48);
    *state = f;
}

static void test_bad_signature_rejected(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    unsigned char digest[32] = {1, 2, 3};
    card_model_knobs(f->card)->bad_signature = true;
    assert_int_equal(piv_select(&f->piv, &err), 0);
    assert_int_equal(piv_verify_pin(&f->piv, "123456", &err), 0);
    size_t clen;
    const unsigned char *der = card_model_cert(f->card, &clen);
    X509 *x = d2i_X509(NULL, &der, (long)clen);
    EVP_PKEY *pub = X509_get_pubkey(x);
    unsigned char *sig = (unsigned char *)"x";
    size_t slen = 0;
    assert_int_equal(piv_sign_digest(&f->piv, pub, TOKEN_SIG_RSA_PKCS1, NID_sha256, digest,
                                     sizeof digest, &sig, &slen, &err),
                     -1);
    assert_null(sig);
    assert_non_null(strstr(err.msg, "does not verify"));
    EVP_PKEY_free(pub);
    X509_free(x);
}

static void test_sign_needs_pin(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    unsigned char digest[32] = {0};
    assert_int_equal(piv_select(&f->piv, &err), 0);
    size_t clen;
    const unsigned char *der = card_model_cert(f->card, &clen);
    X509 *x = d2i_X509(NULL, &der, (long)clen);
    EVP_PKEY *pub = X509_get_pubkey(x);
    unsigned char *sig = NULL;
    size_t slen = 0;
    assert_int_equal(piv_sign_digest(&f->piv, pub, TOKEN_SIG_RSA_PKCS1, NID_sha256, digest,
                                     sizeof digest, &sig, &slen, &err),
                     -1);
    assert_non_null(strstr(err.msg, "PIN verified"));
    /* A scheme that does not fit the key is refused up front. */
    err_clear(&err);
    assert_int_equal(piv_sign_digest(&f->piv, pub, TOKEN_SIG_ECDSA, NID_sha256, digest,
                                     sizeof digest, &sig, &slen, &err),
                     -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    EVP_PKEY_free(pub);
    X509_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_pin_with_retries_left, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_last_try, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_blocked, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_bad_pin_format_not_tried, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_read_certificate_61xx, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_read_certificate_compressed, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_no_certificate, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_le_6cxx, setup_rsa, teardown),
        cmocka_unit_test(test_tlv),
        cmocka_unit_test_setup_teardown(test_sign_rsa_pkcs1, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_sign_rsa_pss, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_sign_rsa_pkcs1_sha384, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_sign_ecdsa, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature_rejected, setup_rsa, teardown),
        cmocka_unit_test_setup_teardown(test_sign_needs_pin, setup_rsa, teardown),
    };
    return cmocka_run_group_tests_name("piv", tests, group_setup, group_teardown);
}
