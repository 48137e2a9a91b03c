/* piv.h — ISO 7816-4 APDUs and the PIV applet (NIST SP 800-73-4).
 *
 * Talks to the card through a transport function (the CCID driver in the
 * station, a card model in tests), so this layer knows nothing of USB.
 * Handles the APDU-level details that cards differ on: 61xx (more data:
 * GET RESPONSE), 6Cxx (wrong Le: send again with the right one) and command
 * chaining (CLA bit 0x10) for data longer than a short APDU.
 *
 * PIN rule: the retry counter is read before every VERIFY, and VERIFY is not
 * sent when a wrong PIN would block the card (one try left): the station
 * refuses and says so, leaving the last try to a person with the PUK at hand.
 */
#ifndef SOHOA_PIV_H
#define SOHOA_PIV_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../firmware/err.h"
#include "token.h"

/* Sends one command APDU and reads the whole response APDU (data + SW1 SW2).
 * Same shape as ccid_transmit(). Returns 0 or -1 with err set. */
typedef int (*piv_transmit_fn)(void *ctx, const unsigned char *apdu, size_t len,
                               unsigned char *resp, size_t cap, size_t *resp_len, sohoa_err *err);

/* A card reachable through `transmit(ctx, ...)`; `name` (borrowed) names it
 * in messages, e.g. "token PIV (CCID reader 096e:0807)". */
typedef struct piv_card {
    piv_transmit_fn transmit;
    void *ctx;
    const char *name;
} piv_card;

/* PIV algorithm identifiers (SP 800-78-4 table 6-2) and key references. */
#define PIV_ALG_RSA_2048 0x07
#define PIV_ALG_ECC_P256 0x11
#define PIV_ALG_ECC_P384 0x14
#define PIV_KEY_AUTH 0x9A
#define PIV_KEY_SIGNATURE 0x9C
#define PIV_PIN_REF 0x80

/* Status words this layer and its callers test. */
#define PIV_SW_OK 0x9000
#define PIV_SW_BLOCKED 0x6983
#define PIV_SW_NOT_FOUND 0x6A82
#define PIV_SW_SECURITY 0x6982

/* Largest response this layer assembles (PIV objects are a few KiB). */
#define PIV_MAX_RESPONSE 65536

/* Sends a command (short APDUs; command chaining when len > 255) with
 * Le = 00 when want_data, and collects the response data through 61xx and
 * 6Cxx. On return 0, *sw is the final status word (any value: the caller
 * interprets it) and *resp (malloc'ed, NULL when empty) the data. resp may
 * be NULL to drop the data. Returns -1 only for transport or framing errors. */
int piv_apdu(const piv_card *c, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
             const unsigned char *data, size_t len, bool want_data, unsigned char **resp,
             size_t *resp_len, uint16_t *sw, sohoa_err *err);

/* Selects the PIV application (AID A0 00 00 03 08). SOHOA_EWORK when the
 * card has no PIV applet. */
int piv_select(const piv_card *c, sohoa_err *err);

/* Reads the PIN state with an empty VERIFY: *verified when the PIN is
 * already verified in this session (no counter then, *tries = -1), else
 * *tries = tries left (0 = blocked). */
int piv_pin_status(const piv_card *c, int *tries, bool *verified, sohoa_err *err);

/* Verifies the PIV card application PIN (key reference 0x80, padded with
 * 0xFF to 8 bytes) following the retry rule above: reads the counter first,
 * refuses when the card is blocked or one try is left, reports a wrong PIN
 * with the tries left. Never puts the PIN in a message. */
int piv_verify_pin(const piv_card *c, const char *pin, sohoa_err *err);

/* Reads the certificate of the digital signature key (object 5FC10A, key
 * 9C): tag 70 of the object, inflated when tag 71 says it is compressed
 * (gzip or zlib). *der is malloc'ed. SOHOA_EWORK when there is none. */
int piv_read_certificate(const piv_card *c, unsigned char **der, size_t *der_len, sohoa_err *err);

/* GENERAL AUTHENTICATE (INS 87) with algorithm `alg` and key `key`:
 * template 7C { 82 (empty), 81 challenge }, answer 7C { 82 response }.
 * *out is malloc'ed. */
int piv_general_authenticate(const piv_card *c, uint8_t alg, uint8_t key,
                             const unsigned char *challenge, size_t challenge_len,
                             unsigned char **out, size_t *out_len, sohoa_err *err);

/* The PIV algorithm for a public key: RSA 2048 -> 07, P-256 -> 11,
 * P-384 -> 14. SOHOA_EWORK for any other key. */
int piv_algorithm_for_key(EVP_PKEY *pub, uint8_t *alg, sohoa_err *err);

/* Signs `digest` (made with md_nid) with key 9C whose public key is `pub`
 * (from the certificate). RSA: the host builds the PKCS#1 v1.5 block or the
 * PSS encoding (salt = hash length) and the card does raw RSA. ECDSA: the
 * card gets the digest cut or left-padded to the field size and returns DER.
 * The result is checked against `pub` before it is returned. *sig is
 * malloc'ed and left NULL on any failure. */
int piv_sign_digest(const piv_card *c, EVP_PKEY *pub, token_sig_scheme scheme, int md_nid,
                    const unsigned char *digest, size_t digest_len, unsigned char **sig,
                    size_t *sig_len, sohoa_err *err);

/* Parses one BER-TLV at p (len bytes): tag (up to 3 bytes), definite length
 * up to 3 length bytes. Sets *tag, *val, *vlen and returns the bytes used,
 * or 0 when malformed or truncated. */
size_t piv_tlv(const unsigned char *p, size_t len, unsigned *tag, const unsigned char **val,
               size_t *vlen);

#endif
