/* certcheck.h — is this signing certificate fit to sign with now?
 *
 * A signature made with an expired, not yet valid or too weak certificate
 * is worthless to the receiver (Thông tư 15/2025/TT-BKHCN: RSA >= 2048
 * bits, ECDSA >= 256 bits), so the station refuses it before it touches
 * the document. token_open() runs these checks on every backend's
 * certificate; the signer may call them again before each signature.
 * Implemented in signer/token.c.
 */
#ifndef SOHOA_CERTCHECK_H
#define SOHOA_CERTCHECK_H

#include <stddef.h>
#include <time.h>

#include "../firmware/err.h"
#include "token.h"

/* Checks the DER certificate for signing at time `now`: within its
 * validity period (the message gives both dates, Vietnam time), a key of
 * at least RSA-2048 / EC-256 bits, and a keyUsage (when present) allowing
 * digitalSignature or nonRepudiation. Returns 0, or -1 with err set
 * (SOHOA_EWORK: the organization must get a new certificate). */
int token_check_cert_validity(const unsigned char *der, size_t len, time_t now, sohoa_err *err);

/* Reads the public key's type and size (RSA modulus bits, EC field bits)
 * from a DER certificate. Returns 0, or -1 with err set (SOHOA_EWORK) for
 * an unreadable certificate or a key that is neither RSA nor EC. */
int token_cert_key(const unsigned char *der, size_t len, token_key_type *type, int *bits,
                   sohoa_err *err);

/* Writes the certificate subject's commonName (UTF-8; "?" when absent or
 * unreadable) into buf, truncated to cap - 1 bytes. For messages. */
void token_cert_name(const unsigned char *der, size_t len, char *buf, size_t cap);

#endif
