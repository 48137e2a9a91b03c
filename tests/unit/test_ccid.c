/* Unit tests: drivers/ccid, drivers/usb_hotplug and the ccid token backend
 * (signer/token_piv) with the real libusb against a CCID reader + PIV card
 * model served by umockdev (tests/unit/support/ccid_model.h). The binary
 * re-executes itself under umockdev-wrapper when started without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/support/testutil.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/ccid.h"
#include "drivers/usb_hotplug.h"
#include "firmware/log.h"
#include "signer/token.h"
#include "tests/unit/support/ccid_model.h"

/* Keys are generated once: RSA key generation dominates the run time. */
static EVP_PKEY *rsa_key, *ec_key;

typedef struct {
    card_model *card;
    ccid_model *model;
    libusb_context *usb;
    ccid_reader *reader;
} fixture;

static int group_setup(void **state)
{
    rsa_key = card_model_keygen("rsa2048");
    ec_key = card_model_keygen("p256");
    return rsa_key && ec_key ? 0 : -1;
}

static int group_teardown(void **state)
{
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(ec_key);
    return 0;
}

/* A reader with an RSA card, libusb started; no reader opened. */
static fixture *fixture_new(const ccid_model_config *cfg, EVP_PKEY *key)
{
    fixture *f = calloc(1, sizeof *f);
    f->card = key ? card_model_new(key) : NULL;
    f->model = ccid_model_new(cfg, f->card);
    assert_non_null(f->model);
    assert_int_equal(libusb_init(&f->usb), 0);
    return f;
}

static int setup_plain(void **state)
{
    *state = fixture_new(NULL, rsa_key);
    return 0;
}

/* Opened reader with the card powered on; short timeouts keep the tests
 * that wait for nothing quick. */
static int setup_open(void **state)
{
    fixture *f = fixture_new(NULL, rsa_key);
    sohoa_err err = {0};
    f->reader = ccid_open(f->usb, 0, 0, 1000, &err);
    if (!f->reader)
        fail_msg("open: %s", err.msg);
    unsigned char atr[33];
    size_t n = 0;
    if (ccid_power_on(f->reader, atr, sizeof atr, &n, &err) != 0)
        fail_msg("power on: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    ccid_close(f->reader);
    libusb_exit(f->usb);
    ccid_model_free(f->model);
    card_model_free(f->card);
    free(f);
    return 0;
}

/* ---- descriptor parsing (no USB) ---------------------------------------- */

static void make_desc(unsigned char *d, uint32_t features, uint32_t maxmsg)
{
    memset(d, 0, CCID_DESCRIPTOR_LEN);
    d[0] = CCID_DESCRIPTOR_LEN;
    d[1] = 0x21;
    d[2] = 0x10;
    d[3] = 0x01;
    d[5] = 0x07;
    d[6] = 0x03;
    for (int i = 0; i < 4; i++) {
        d[40 + i] = (unsigned char)(features >> (8 * i));
        d[44 + i] = (unsigned char)(maxmsg >> (8 * i));
    }
}

static void test_descriptor_parse(void **state)
{
    unsigned char d[CCID_DESCRIPTOR_LEN];
    ccid_descriptor cd;
    sohoa_err err = {0};
    make_desc(d, 0x000400BA, 271);
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), 0);
    assert_int_equal(cd.level, CCID_LEVEL_EXTENDED_APDU);
    assert_int_equal(cd.max_message_length, 271);
    assert_int_equal(cd.bcd_ccid, 0x0110);
    assert_int_equal(cd.voltage_support, 0x07);
    assert_true(cd.features & CCID_FEAT_AUTO_VOLTAGE);
    make_desc(d, 0x00020000, 271);
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), 0);
    assert_int_equal(cd.level, CCID_LEVEL_SHORT_APDU);
    make_desc(d, 0x00010000, 271);
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), 0);
    assert_int_equal(cd.level, CCID_LEVEL_TPDU);
    make_desc(d, 0, 271);
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), 0);
    assert_int_equal(cd.level, CCID_LEVEL_CHARACTER);
}

static void test_descriptor_malformed(void **state)
{
    unsigned char d[CCID_DESCRIPTOR_LEN];
    ccid_descriptor cd;
    sohoa_err err = {0};
    make_desc(d, 0x000400BA, 271);
    assert_int_equal(ccid_parse_descriptor(d, 53, &cd, &err), -1); /* truncated */
    assert_non_null(strstr(err.msg, "expected 54"));
    err_clear(&err);
    d[1] = 0x24;
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), -1);
    assert_non_null(strstr(err.msg, "type 0x24"));
    err_clear(&err);
    make_desc(d, 0x000400BA, 8); /* cannot hold a header and an APDU */
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), -1);
    assert_non_null(strstr(err.msg, "dwMaxCCIDMessageLength 8"));
    err_clear(&err);
    make_desc(d, 0x00060000, 271); /* two levels at once */
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), -1);
    assert_non_null(strstr(err.msg, "several exchange levels"));
    err_clear(&err);
    make_desc(d, 0x000400BA, 271);
    d[4] = 16;
    assert_int_equal(ccid_parse_descriptor(d, sizeof d, &cd, &err), -1);
}

static void test_reader_id(void **state)
{
    uint16_t v = 0, p = 0;
    sohoa_err err = {0};
    assert_int_equal(ccid_parse_reader_id("096e:0807", &v, &p, &err), 0);
    assert_int_equal(v, 0x096e);
    assert_int_equal(p, 0x0807);
    assert_int_equal(ccid_parse_reader_id("96e:807", &v, &p, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_int_equal(ccid_parse_reader_id("096e:0807x", &v, &p, &err), -1);
    assert_int_equal(ccid_parse_reader_id("", &v, &p, &err), -1);
}

/* ---- reader over USB ----------------------------------------------------- */

static void test_open_power_on(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    f->reader = ccid_open(f->usb, 0x096e, 0x0807, 1000, &err);
    if (!f->reader)
        fail_msg("open: %s", err.msg);
    assert_string_equal(ccid_name(f->reader), "CCID reader 096e:0807");
    assert_int_equal(ccid_get_descriptor(f->reader)->level, CCID_LEVEL_EXTENDED_APDU);
    assert_int_equal(ccid_model_get_stats(f->model).claims, 1);
    ccid_icc_status st;
    assert_int_equal(ccid_slot_status(f->reader, &st, &err), 0);
    assert_int_equal(st, CCID_ICC_INACTIVE);
    unsigned char atr[33];
    size_t n = 0;
    assert_int_equal(ccid_power_on(f->reader, atr, sizeof atr, &n, &err), 0);
    const unsigned char want[] = {0x3B, 0x80, 0x80, 0x01, 0x01};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(atr, want, n);
    assert_int_equal(ccid_slot_status(f->reader, &st, &err), 0);
    assert_int_equal(st, CCID_ICC_ACTIVE);
    assert_int_equal(ccid_power_off(f->reader, &err), 0);
    assert_int_equal(ccid_slot_status(f->reader, &st, &err), 0);
    assert_int_equal(st, CCID_ICC_INACTIVE);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    assert_null(ccid_open(f->usb, 0x1234, 0x5678, 1000, &err));
    assert_non_null(strstr(err.msg, "token absent"));
    assert_non_null(strstr(err.msg, "1234:5678"));
}

static void open_expect_error(const ccid_model_config *cfg, const char *needle)
{
    fixture *f = fixture_new(cfg, rsa_key);
    sohoa_err err = {0};
    f->reader = ccid_open(f->usb, 0, 0, 1000, &err);
    assert_null(f->reader);
    if (!strstr(err.msg, needle))
        fail_msg("expected '%s' in: %s", needle, err.msg);
    void *s = f;
    teardown(&s);
}

static void test_open_bad_readers(void **state)
{
    ccid_model_config tpdu = {.features = 0x000100BA};
    open_expect_error(&tpdu, "TPDUs");
    ccid_model_config tiny = {.max_message = 8};
    open_expect_error(&tiny, "dwMaxCCIDMessageLength 8");
    ccid_model_config shortdesc = {.descriptor_len = 40};
    open_expect_error(&shortdesc, "token absent"); /* no class descriptor: not a reader */
}

static void test_vendor_class_reader(void **state)
{
    ccid_model_config cfg = {.vendor_class = true, .features = 0x000200BA};
    fixture *f = fixture_new(&cfg, rsa_key);
    sohoa_err err = {0};
    f->reader = ccid_open(f->usb, 0, 0, 1000, &err);
    if (!f->reader)
        fail_msg("open: %s", err.msg);
    assert_int_equal(ccid_get_descriptor(f->reader)->level, CCID_LEVEL_SHORT_APDU);
    *state = f;
}

static const unsigned char select_piv[] = {0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0,
                                           0x00, 0x00, 0x03, 0x08, 0x00};

static void transmit_ok(fixture *f, const unsigned char *apdu, size_t len, unsigned char *resp,
                        size_t cap, size_t *n)
{
    sohoa_err err = {0};
    if (ccid_transmit(f->reader, apdu, len, resp, cap, n, &err) != 0)
        fail_msg("transmit: %s", err.msg);
}

static void test_xfr_select(void **state)
{
    fixture *f = *state;
    unsigned char resp[300];
    size_t n = 0;
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
    assert_int_equal(n, 21);
    assert_int_equal(resp[0], 0x61); /* application property template */
    assert_int_equal(resp[n - 2], 0x90);
    assert_int_equal(resp[n - 1], 0x00);
    assert_int_equal(ccid_model_get_stats(f->model).xfr_blocks, 1);
}

static void test_time_extension(void **state)
{
    fixture *f = *state;
    unsigned char resp[300];
    size_t n = 0;
    ccid_model_time_extensions(f->model, 5);
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
    assert_int_equal(resp[n - 2], 0x90);
    assert_int_equal(n, 21);
}

static void test_chaining_both_ways(void **state)
{
    fixture *f = *state;
    unsigned char resp[4096];
    size_t n = 0;
    /* Response chaining: GET DATA with an extended Le returns the whole
     * certificate object, longer than dwMaxCCIDMessageLength (271). */
    const unsigned char getdata[] = {0x00, 0xCB, 0x3F, 0xFF, 0x00, 0x00, 0x05,
                                     0x5C, 0x03, 0x5F, 0xC1, 0x0A, 0x00, 0x00};
    transmit_ok(f, getdata, sizeof getdata, resp, sizeof resp, &n);
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n); /* PIV needs SELECT */
    transmit_ok(f, getdata, sizeof getdata, resp, sizeof resp, &n);
    size_t clen;
    const unsigned char *cert = card_model_cert(f->card, &clen);
    assert_true(n > 271);
    assert_int_equal(resp[n - 2], 0x90);
    assert_int_equal(resp[0], 0x53);
    assert_memory_equal(resp + 8, cert, clen); /* 53 82 LL LL 70 82 LL LL cert */
    ccid_model_stats st = ccid_model_get_stats(f->model);
    assert_true(st.chained_out >= 2);
    /* Command chaining: an extended SELECT with 400 data bytes. */
    unsigned char big[7 + 400 + 2];
    memset(big, 0x5A, sizeof big);
    memcpy(big, "\x00\xA4\x04\x00\x00\x01\x90", 7);
    memcpy(big + 7, "\xA0\x00\x00\x03\x08", 5);
    big[sizeof big - 2] = 0;
    big[sizeof big - 1] = 0;
    transmit_ok(f, big, sizeof big, resp, sizeof resp, &n);
    assert_int_equal(resp[n - 2], 0x90);
    assert_int_equal(n, 21);
    assert_true(ccid_model_get_stats(f->model).chained_in >= 2);
}

static void test_short_reader_refuses_long_apdu(void **state)
{
    ccid_model_config cfg = {.features = 0x000200BA};
    fixture *f = fixture_new(&cfg, rsa_key);
    *state = f;
    sohoa_err err = {0};
    f->reader = ccid_open(f->usb, 0, 0, 1000, &err);
    assert_non_null(f->reader);
    unsigned char atr[33], resp[300], big[300];
    size_t n;
    assert_int_equal(ccid_power_on(f->reader, atr, sizeof atr, &n, &err), 0);
    memset(big, 0, sizeof big);
    assert_int_equal(ccid_transmit(f->reader, big, sizeof big, resp, sizeof resp, &n, &err), -1);
    assert_non_null(strstr(err.msg, "short APDU reader"));
}

static void test_stall_recovery(void **state)
{
    fixture *f = *state;
    unsigned char resp[300];
    size_t n = 0;
    ccid_model_stall_once(f->model, 0x01);
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
    assert_int_equal(resp[n - 2], 0x90);
    assert_int_equal(ccid_model_get_stats(f->model).clear_halts, 1);
    ccid_model_stall_once(f->model, 0x82);
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
    assert_int_equal(resp[n - 2], 0x90);
    assert_int_equal(ccid_model_get_stats(f->model).clear_halts, 2);
}

static void expect_fault(fixture *f, ccid_fault fault, const char *needle)
{
    unsigned char resp[300];
    size_t n = 0;
    sohoa_err err = {0};
    ccid_model_fault_once(f->model, fault);
    assert_int_equal(
        ccid_transmit(f->reader, select_piv, sizeof select_piv, resp, sizeof resp, &n, &err), -1);
    if (!strstr(err.msg, needle))
        fail_msg("expected '%s' in: %s", needle, err.msg);
    /* The next exchange works again. */
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
    assert_int_equal(resp[n - 2], 0x90);
}

static void test_malformed_frames(void **state)
{
    fixture *f = *state;
    expect_fault(f, CCID_FAULT_LENGTH, "announces 22 data bytes, carries 21");
    expect_fault(f, CCID_FAULT_TYPE, "message type 0x81");
    expect_fault(f, CCID_FAULT_OVERSIZE, "above the reader's maximum");
    /* A wrong bSeq is never taken for the answer: the driver waits for the
     * right one, which does not come. */
    expect_fault(f, CCID_FAULT_SEQ, "no answer");
    /* A stale frame before the right answer is skipped. */
    unsigned char resp[300];
    size_t n = 0;
    ccid_model_fault_once(f->model, CCID_FAULT_STALE);
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
    assert_int_equal(n, 21);
}

static void test_slot_change_and_removed_card(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    bool present = true;
    /* Nothing pending: the interrupt URB is discarded on timeout. */
    assert_int_equal(ccid_wait_slot_change(f->reader, 100, &present, &err), 0);
    assert_true(ccid_model_get_stats(f->model).discards >= 1);
    ccid_model_set_card_present(f->model, false, true);
    assert_int_equal(ccid_wait_slot_change(f->reader, 1000, &present, &err), 1);
    assert_false(present);
    unsigned char resp[300];
    size_t n = 0;
    assert_int_equal(
        ccid_transmit(f->reader, select_piv, sizeof select_piv, resp, sizeof resp, &n, &err), -1);
    assert_non_null(strstr(err.msg, "token removed"));
    ccid_icc_status st;
    err_clear(&err);
    assert_int_equal(ccid_slot_status(f->reader, &st, &err), 0);
    assert_int_equal(st, CCID_ICC_ABSENT);
    unsigned char atr[33];
    assert_int_equal(ccid_power_on(f->reader, atr, sizeof atr, &n, &err), -1);
    assert_non_null(strstr(err.msg, "token removed"));
    ccid_model_set_card_present(f->model, true, true);
    err_clear(&err);
    assert_int_equal(ccid_wait_slot_change(f->reader, 1000, &present, &err), 1);
    assert_true(present);
    assert_int_equal(ccid_power_on(f->reader, atr, sizeof atr, &n, &err), 0);
    transmit_ok(f, select_piv, sizeof select_piv, resp, sizeof resp, &n);
}

static void test_device_unplugged(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    unsigned char resp[300];
    size_t n = 0;
    ccid_model_unplug(f->model, false);
    assert_int_equal(
        ccid_transmit(f->reader, select_piv, sizeof select_piv, resp, sizeof resp, &n, &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "token removed"));
    assert_non_null(strstr(err.msg, "is gone"));
}

/* ---- hotplug ------------------------------------------------------------- */

typedef struct {
    int arrived, left;
} hp_count;

static void on_hotplug(void *user, libusb_device *dev, bool arrived)
{
    hp_count *c = user;
    if (arrived)
        c->arrived++;
    else
        c->left++;
}

static void hotplug_cycle(fixture *f, bool force_polling)
{
    sohoa_err err = {0};
    hp_count c = {0};
    usb_hotplug *h = usb_hotplug_new(f->usb, force_polling, on_hotplug, &c, &err);
    assert_non_null(h);
    if (force_polling)
        assert_true(usb_hotplug_is_polling(h));
    /* The reader already plugged in is reported once. */
    assert_int_equal(usb_hotplug_run(h, 2000, &err), 1);
    assert_int_equal(c.arrived, 1);
    assert_int_equal(usb_hotplug_run(h, 100, &err), 0);
    ccid_model_unplug(f->model, true);
    assert_int_equal(usb_hotplug_run(h, 3000, &err), 1);
    assert_int_equal(c.left, 1);
    ccid_model_plug(f->model);
    assert_int_equal(usb_hotplug_run(h, 3000, &err), 1);
    assert_int_equal(c.arrived, 2);
    usb_hotplug_free(h);
}

static void test_hotplug_events(void **state)
{
    fixture *f = *state;
    if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG))
        skip();
    hotplug_cycle(f, false);
}

static void test_hotplug_polling(void **state)
{
    hotplug_cycle(*state, true);
}

/* ---- token backend ------------------------------------------------------- */

static token *open_token(const char *pin, const char *reader, sohoa_err *err)
{
    token_params p = {.backend = "ccid", .pin = pin, .reader = reader};
    return token_piv_open(&p, err);
}

static void verify_with_cert(token *t, token_sig_scheme scheme, const EVP_MD *md,
                             const unsigned char *digest, size_t dlen, const unsigned char *sig,
                             size_t slen)
{
    sohoa_err err = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(token_certificate(t, &der, &len, &err), 0);
    assert_true(tu_signature_ok(der, len, scheme, md, digest, dlen, sig, slen));
    free(der);
}

static void sign_verify(token *t, token_sig_scheme scheme, const EVP_MD *md)
{
    sohoa_err err = {0};
    unsigned char digest[64];
    unsigned int dlen = 0;
    EVP_Digest("văn bản đến", strlen("văn bản đến"), digest, &dlen, md, NULL);
    unsigned char *sig = NULL;
    size_t slen = 0;
    if (token_sign_digest(t, scheme, EVP_MD_get_type(md), digest, dlen, &sig, &slen, &err) != 0)
        fail_msg("sign: %s", err.msg);
    verify_with_cert(t, scheme, md, digest, dlen, sig, slen);
    free(sig);
}

static void test_token_rsa_sign(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    token *t = open_token("123456", "096e:0807", &err);
    if (!t)
        fail_msg("open: %s", err.msg);
    assert_int_equal(t->key_type, TOKEN_KEY_RSA);
    assert_int_equal(t->key_bits, 2048);
    assert_non_null(strstr(t->description, "096e:0807"));
    sign_verify(t, TOKEN_SIG_RSA_PKCS1, EVP_sha256());
    sign_verify(t, TOKEN_SIG_RSA_PSS, EVP_sha256());
    sign_verify(t, TOKEN_SIG_RSA_PKCS1, EVP_sha512());
    token_close(t);
    /* The card was powered once and the signature went through chaining. */
    assert_int_equal(ccid_model_get_stats(f->model).power_ons, 1);
    assert_true(card_model_knobs(f->card)->chained_blocks >= 3);
}

static void test_token_ecdsa_sign(void **state)
{
    teardown(state);
    fixture *f = fixture_new(NULL, ec_key);
    *state = f;
    sohoa_err err = {0};
    card_model_knobs(f->card)->compress_cert = true;
    token *t = open_token("123456", NULL, &err);
    if (!t)
        fail_msg("open: %s", err.msg);
    assert_int_equal(t->key_type, TOKEN_KEY_EC);
    assert_int_equal(t->key_bits, 256);
    sign_verify(t, TOKEN_SIG_ECDSA, EVP_sha256());
    sign_verify(t, TOKEN_SIG_ECDSA, EVP_sha384());
    token_close(t);
}

static void test_token_pin_rules(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    card_knobs *k = card_model_knobs(f->card);
    assert_null(open_token("000000", NULL, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "wrong PIN (2 tries left)"));
    assert_null(strstr(err.msg, "000000"));
    err_clear(&err);
    assert_null(open_token("000000", NULL, &err));
    assert_non_null(strstr(err.msg, "wrong PIN (1 try left)"));
    /* Now a wrong PIN would block the token: even the right one is not tried. */
    err_clear(&err);
    assert_null(open_token("123456", NULL, &err));
    assert_non_null(strstr(err.msg, "only 1 PIN try left"));
    assert_int_equal(k->verify_attempts, 2);
    assert_int_equal(k->pin_tries, 1);
    k->pin_tries = 0;
    err_clear(&err);
    assert_null(open_token("123456", NULL, &err));
    assert_non_null(strstr(err.msg, "PIN blocked"));
    assert_int_equal(k->verify_attempts, 2);
    err_clear(&err);
    assert_null(open_token(NULL, NULL, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    err_clear(&err);
    assert_null(open_token("123456", "nonsense", &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
}

static void test_token_absent(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    ccid_model_unplug(f->model, true);
    assert_null(open_token("123456", NULL, &err));
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "token absent"));
}

static void expect_removed_sign(token *t)
{
    sohoa_err err = {0};
    unsigned char digest[32] = {9};
    unsigned char *sig = NULL;
    size_t slen = 0;
    assert_int_equal(token_sign_digest(t, TOKEN_SIG_RSA_PKCS1, NID_sha256, digest, sizeof digest,
                                       &sig, &slen, &err),
                     -1);
    assert_null(sig);
    assert_int_equal(err.status, SOHOA_EWORK);
    if (!strstr(err.msg, "token removed"))
        fail_msg("expected 'token removed' in: %s", err.msg);
}

static void test_token_removed_before_sign(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    token *t = open_token("123456", NULL, &err);
    assert_non_null(t);
    ccid_model_unplug(f->model, false);
    expect_removed_sign(t);
    token_close(t);
}

static void test_token_removed_mid_sign(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    token *t = open_token("123456", NULL, &err);
    assert_non_null(t);
    ccid_model_unplug_on_ins(f->model, 0x87); /* gone during GENERAL AUTHENTICATE */
    expect_removed_sign(t);
    token_close(t);
}

static void test_token_card_pulled_before_sign(void **state)
{
    fixture *f = *state;
    sohoa_err err = {0};
    token *t = open_token("123456", NULL, &err);
    assert_non_null(t);
    ccid_model_set_card_present(f->model, false, false);
    expect_removed_sign(t);
    token_close(t);
}

int main(int argc, char **argv)
{
    if (ccid_model_reexec_under_umockdev(argc, argv) != 0)
        return 1;
    log_set_level(LOG_ERROR); /* the stall tests warn by design */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_parse),
        cmocka_unit_test(test_descriptor_malformed),
        cmocka_unit_test(test_reader_id),
        cmocka_unit_test_setup_teardown(test_open_power_on, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup_plain, teardown),
        cmocka_unit_test(test_open_bad_readers),
        cmocka_unit_test_setup_teardown(test_vendor_class_reader, NULL, teardown),
        cmocka_unit_test_setup_teardown(test_xfr_select, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_time_extension, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_chaining_both_ways, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_short_reader_refuses_long_apdu, NULL, teardown),
        cmocka_unit_test_setup_teardown(test_stall_recovery, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_frames, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_slot_change_and_removed_card, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_device_unplugged, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_hotplug_events, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_hotplug_polling, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_rsa_sign, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_ecdsa_sign, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_pin_rules, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_absent, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_removed_before_sign, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_removed_mid_sign, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_token_card_pulled_before_sign, setup_plain, teardown),
    };
    return cmocka_run_group_tests_name("ccid", tests, group_setup, group_teardown);
}
