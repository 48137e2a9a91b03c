/* token_piv.c — [token] backend = ccid: a PIV card behind a USB CCID reader,
 * driven natively over libusb (drivers/ccid.h + signer/piv.h), no pcscd.
 *
 * Open: find the reader ([token] reader "VID:PID" or the first CCID device),
 * power the card on, select PIV, read the 9C certificate (it gives the key
 * type and size), then verify the PIN under the retry rule of piv.h. The
 * certificate is read before the PIN so that an unusable token costs no try.
 *
 * A token pulled out between open and sign (or during the signature) makes
 * sign_digest fail with "token removed ..." and leaves *sig NULL: the caller
 * keeps the document waiting and writes nothing.
 */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../drivers/ccid.h"
#include "../firmware/log.h"
#include "piv.h"
#include "token.h"

/* Per-transfer timeout; a card that needs longer asks for time extensions. */
#define PIV_TIMEOUT_MS 5000u

typedef struct token_piv {
    token base; /* first: the token * handed out points here */
    libusb_context *usb;
    ccid_reader *reader;
    piv_card card;
    char card_name[80];
    unsigned char *cert;
    size_t cert_len;
    EVP_PKEY *pub;
} token_piv;

static int piv_certificate(token *t, unsigned char **der, size_t *len, sohoa_err *err)
{
    token_piv *p = (token_piv *)t;
    *der = malloc(p->cert_len);
    if (!*der)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", p->card_name);
    memcpy(*der, p->cert, p->cert_len);
    *len = p->cert_len;
    return 0;
}

static int piv_sign(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                    size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err)
{
    token_piv *p = (token_piv *)t;
    return piv_sign_digest(&p->card, p->pub, scheme, md_nid, digest, digest_len, sig, sig_len, err);
}

static void piv_close(token *t)
{
    token_piv *p = (token_piv *)t;
    if (!p)
        return;
    ccid_close(p->reader);
    if (p->usb)
        libusb_exit(p->usb);
    EVP_PKEY_free(p->pub);
    free(p->cert);
    free(p);
}

static const token_ops piv_ops = {
    .certificate = piv_certificate,
    .chain = NULL,
    .sign_digest = piv_sign,
    .close = piv_close,
};

/* Parses the certificate and fills the key fields of the token. */
static int load_key(token_piv *p, sohoa_err *err)
{
    const unsigned char *q = p->cert;
    X509 *x = d2i_X509(NULL, &q, (long)p->cert_len);
    if (!x)
        return err_set(err, SOHOA_EWORK, "%s: the signature certificate is not valid DER",
                       p->card_name);
    p->pub = X509_get_pubkey(x);
    X509_free(x);
    uint8_t alg;
    if (!p->pub)
        return err_set(err, SOHOA_EWORK, "%s: the signature certificate has no usable key",
                       p->card_name);
    if (piv_algorithm_for_key(p->pub, &alg, err) != 0)
        return -1;
    p->base.key_type = EVP_PKEY_get_base_id(p->pub) == EVP_PKEY_RSA ? TOKEN_KEY_RSA : TOKEN_KEY_EC;
    p->base.key_bits = EVP_PKEY_get_bits(p->pub);
    return 0;
}

token *token_piv_open(const token_params *params, sohoa_err *err)
{
    uint16_t vid = 0, pid = 0;
    if (params->reader && *params->reader &&
        ccid_parse_reader_id(params->reader, &vid, &pid, err) != 0)
        return NULL;
    if (!params->pin) {
        err_set(err, SOHOA_EINPUT, "token ccid: no PIN; set [token] pin_file");
        return NULL;
    }
    token_piv *p = calloc(1, sizeof *p);
    if (!p) {
        err_set(err, SOHOA_EWORK, "token ccid: out of memory");
        return NULL;
    }
    p->base.ops = &piv_ops;
    int rc = libusb_init(&p->usb);
    if (rc != 0) {
        p->usb = NULL;
        err_set(err, SOHOA_EWORK, "token ccid: cannot start libusb: %s",
                libusb_strerror((enum libusb_error)rc));
        goto fail;
    }
    p->reader = ccid_open(p->usb, vid, pid, PIV_TIMEOUT_MS, err);
    if (!p->reader)
        goto fail;
    snprintf(p->card_name, sizeof p->card_name, "token PIV (%s)", ccid_name(p->reader));
    p->card = (piv_card){.transmit = ccid_transmit, .ctx = p->reader, .name = p->card_name};
    unsigned char atr[33];
    size_t atr_len = 0;
    if (ccid_power_on(p->reader, atr, sizeof atr, &atr_len, err) != 0 ||
        piv_select(&p->card, err) != 0 ||
        piv_read_certificate(&p->card, &p->cert, &p->cert_len, err) != 0 || load_key(p, err) != 0 ||
        piv_verify_pin(&p->card, params->pin, err) != 0)
        goto fail;
    snprintf(p->base.description, sizeof p->base.description, "PIV on %s, %s %d",
             ccid_name(p->reader), p->base.key_type == TOKEN_KEY_RSA ? "RSA" : "EC",
             p->base.key_bits);
    log_info("token: %s", p->base.description);
    return &p->base;
fail:
    piv_close(&p->base);
    return NULL;
}
