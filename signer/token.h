/* token.h — the organization's signing key, wherever it lives.
 *
 * One small interface over the three backends of [token] backend:
 *   pkcs11  any PKCS#11 module (vendor's, OpenSC, SoftHSM2)   signer/token_pkcs11.c
 *   ccid    native USB CCID reader + PIV applet over libusb    signer/token_piv.c
 *   file    a PKCS#12 file, for development and the demo only  signer/token_file.c
 *
 * The caller (signer/cms.c) hashes; the token signs a digest. Backends that
 * need a padded block (PIV raw RSA) or a DigestInfo (PKCS#11 CKM_RSA_PKCS)
 * build it themselves from `md_nid`. ECDSA signatures come back DER-encoded
 * (SEQUENCE { r, s }) whatever the token returns, so CMS can use them as is.
 *
 * The PIN never appears in a log line or an error message. A backend reads
 * the retry counter before verifying and refuses the attempt that would
 * block the token.
 */
#ifndef SOHOA_TOKEN_H
#define SOHOA_TOKEN_H

#include <stddef.h>

#include "../firmware/err.h"

typedef enum {
    TOKEN_KEY_RSA = 1,
    TOKEN_KEY_EC = 2,
} token_key_type;

typedef enum {
    TOKEN_SIG_RSA_PKCS1 = 1, /* RSASSA-PKCS1-v1_5 */
    TOKEN_SIG_RSA_PSS = 2,   /* RSASSA-PSS, MGF1 with the same hash, salt = hash length */
    TOKEN_SIG_ECDSA = 3,
} token_sig_scheme;

/* What a backend needs to open the token; strings are borrowed. */
typedef struct token_params {
    const char *backend;     /* "pkcs11" | "ccid" | "file" */
    const char *module;      /* pkcs11: module path */
    const char *token_label; /* pkcs11: token label; NULL = the only token present */
    const char *key_label;   /* pkcs11: key and certificate label (CKA_LABEL) */
    const char *key_file;    /* file: PKCS#12 path */
    const char *reader;      /* ccid: "VID:PID" or NULL = first CCID reader */
    const char *pin;         /* user PIN (or PKCS#12 password); NULL = none */
} token_params;

typedef struct token token;

/* The operations every backend implements. */
typedef struct token_ops {
    /* DER of the signing certificate; *der is malloc'ed, caller frees. */
    int (*certificate)(token *t, unsigned char **der, size_t *len, sohoa_err *err);
    /* DER of further certificates stored with the key (chain), possibly none.
     * Fills up to `max` malloc'ed buffers; returns the count or -1. May be NULL. */
    int (*chain)(token *t, unsigned char **der, size_t *len, int max, sohoa_err *err);
    /* Signs `digest` (already hashed with `md_nid`, an OpenSSL NID such as
     * NID_sha256). *sig is malloc'ed; for ECDSA it is DER. */
    int (*sign_digest)(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                       size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err);
    void (*close)(token *t);
} token_ops;

struct token {
    const token_ops *ops;
    token_key_type key_type;
    int key_bits; /* RSA modulus bits or EC field bits */
    char description[128]; /* e.g. "SoftHSM slot 0x1a2b label ORG", for logs and status */
};

/* Opens the backend named by params->backend. Errors: SOHOA_EINPUT for a
 * bad parameter (unknown backend, missing module path), SOHOA_EWORK for a
 * missing token, wrong PIN (with tries left), locked token, etc. */
token *token_open(const token_params *params, sohoa_err *err);

/* Backend constructors, used by token_open(). */
token *token_pkcs11_open(const token_params *params, sohoa_err *err);
token *token_file_open(const token_params *params, sohoa_err *err);
token *token_piv_open(const token_params *params, sohoa_err *err);

/* Convenience wrappers over t->ops. */
int token_certificate(token *t, unsigned char **der, size_t *len, sohoa_err *err);
int token_sign_digest(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                      size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err);
void token_close(token *t);

/* Converts a raw ECDSA signature r‖s (two equal halves, as PKCS#11 returns
 * it; PIV already returns DER) into DER SEQUENCE { INTEGER r, INTEGER s }.
 * *der is malloc'ed. Returns 0 or -1 with err set. */
int token_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **der,
                           size_t *der_len, sohoa_err *err);

/* Builds DigestInfo DER (the PKCS#1 v1.5 "T" block) for `md_nid` over
 * `digest`, into out (at least 19 + 64 bytes). Returns its length or -1. */
int token_digest_info(int md_nid, const unsigned char *digest, size_t digest_len,
                      unsigned char *out, size_t out_cap, sohoa_err *err);

/* Reads a PIN file: must be a regular file not readable by group/other
 * (mode 0600 or stricter); trailing newline stripped. *pin is malloc'ed and
 * must be released with token_pin_free() (which wipes it). */
int token_read_pin_file(const char *path, char **pin, sohoa_err *err);
void token_pin_free(char *pin);

/* ---- for the console: what a PKCS#11 module sees, PIN change ---------- */

/* One token present in a slot of a PKCS#11 module (token_pkcs11_list). */
typedef struct token_slot_info {
    unsigned long slot; /* CK_SLOT_ID */
    char label[33];     /* blank padding removed */
    char manufacturer[33];
    char model[17];
    char serial[17];
    int initialized;                /* CKF_TOKEN_INITIALIZED */
    int pin_initialized;            /* CKF_USER_PIN_INITIALIZED */
    int pin_count_low;              /* CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered recently */
    int pin_final_try;              /* CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it */
    int pin_locked;                 /* CKF_USER_PIN_LOCKED */
    int pin_to_be_changed;          /* CKF_USER_PIN_TO_BE_CHANGED */
    int pinpad;                     /* CKF_PROTECTED_AUTHENTICATION_PATH */
    unsigned long min_pin, max_pin; /* PIN length limits; 0 when the module does not say */
} token_slot_info;

/* Lists the tokens present in the slots of the PKCS#11 module at `module`.
 * Only the token information is read (no session, no login), so the PIN
 * counters are seen without spending a try. *out is malloc'ed (free() it;
 * NULL when *n is 0). Returns 0, or -1 with err set (SOHOA_EINPUT for a
 * module that cannot be loaded). */
int token_pkcs11_list(const char *module, token_slot_info **out, size_t *n, sohoa_err *err);

/* Changes the user PIN of the token params->module / params->token_label
 * (params->pin and key_label are not used) from `old_pin` to `new_pin`
 * (C_SetPIN in a read-write session). The token's flags are read first: a
 * locked token, or one on its final try, is not tried at all; PINs of a
 * length the token does not accept are refused before it is asked. A
 * wrong current PIN is an SOHOA_EWORK error that says how many tries are
 * left; a new PIN the token refuses, SOHOA_EINPUT. The PINs never appear
 * in a message. */
int token_pkcs11_change_pin(const token_params *params, const char *old_pin, const char *new_pin,
                            sohoa_err *err);

#endif
