/* ccid_model.h — a test-side USB CCID reader with a PIV card in it.
 *
 * Two layers, usable apart:
 *   card_model  a PIV card (NIST SP 800-73-4 subset) answering command APDUs:
 *               SELECT, VERIFY (PIN "123456", retry counter), GET DATA 5FC10A,
 *               GENERAL AUTHENTICATE with key 9C (raw RSA or ECDSA with a real
 *               OpenSSL key), GET RESPONSE, command chaining, 61xx / 6Cxx.
 *               card_model_transmit() lets signer/piv.c talk to it directly.
 *   ccid_model  a umockdev testbed holding a CCID reader USB device whose
 *               usbfs ioctls (SUBMITURB, REAPURB[NDELAY], DISCARDURB, CLAIM...,
 *               CLEAR_HALT) are answered by a handler that frames CCID messages
 *               for the card, so the real libusb and drivers/ccid.c run
 *               unchanged. Fault knobs inject time extensions, stalls,
 *               malformed frames, card removal and unplugging.
 *
 * The process must run under umockdev's preload (umockdev-wrapper): see
 * ccid_model_reexec_under_umockdev().
 */
#ifndef SOHOA_TEST_CCID_MODEL_H
#define SOHOA_TEST_CCID_MODEL_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/err.h"

/* ---- PIV card ---------------------------------------------------------- */

/* Knobs and counters of the card; tests read and write them directly between
 * operations (never while a command is in flight). */
typedef struct card_knobs {
    int pin_tries;         /* retry counter (3 after a good PIN) */
    int verify_attempts;   /* VERIFY commands that carried a PIN */
    int response_chunk;    /* data bytes per short response before 61xx (1..256) */
    int wrong_le_once;     /* answer the next short data response with 6Cxx first */
    int wrong_le_sent;     /* 6Cxx answers given */
    int get_responses;     /* GET RESPONSE commands seen */
    int chained_blocks;    /* command blocks with CLA bit 0x10 seen */
    bool compress_cert;    /* store the certificate gzip-compressed (certinfo 01) */
    bool no_applet;        /* SELECT PIV answers 6A82 */
    bool no_cert;          /* GET DATA 5FC10A answers 6A82 */
    bool bad_signature;    /* flip a bit of each signature */
    uint8_t last_alg;      /* algorithm byte of the last GENERAL AUTHENTICATE */
    size_t last_challenge; /* its challenge length */
} card_knobs;

typedef struct card_model card_model;

/* A card holding `key` (RSA 2048, EC P-256 or P-384; a reference is taken)
 * in slot 9C, a self-signed certificate for it, PIN "123456" with 3 tries. */
card_model *card_model_new(EVP_PKEY *key);
void card_model_free(card_model *c);

card_knobs *card_model_knobs(card_model *c);

/* DER of the 9C certificate (owned by the card). */
const unsigned char *card_model_cert(const card_model *c, size_t *len);

/* Resets the session (power cycle): PIV deselected, PIN not verified. */
void card_model_reset(card_model *c);

/* Processes one command APDU (short or extended); writes the response APDU
 * (data + SW1 SW2) to resp and returns its length. */
size_t card_model_apdu(card_model *c, const unsigned char *apdu, size_t len, unsigned char *resp,
                       size_t cap);

/* piv_transmit_fn over card_model_apdu (ctx = the card). */
int card_model_transmit(void *ctx, const unsigned char *apdu, size_t len, unsigned char *resp,
                        size_t cap, size_t *resp_len, sohoa_err *err);

/* A freshly generated key: "rsa2048", "p256" or "p384". */
EVP_PKEY *card_model_keygen(const char *kind);

/* ---- USB CCID reader ---------------------------------------------------- */

typedef struct ccid_model_config {
    uint16_t vid, pid;      /* default 096e:0807 */
    uint32_t features;      /* dwFeatures; 0 = automatic + extended APDU level */
    uint32_t max_message;   /* dwMaxCCIDMessageLength; 0 = 271 */
    bool vendor_class;      /* interface class 0xFF instead of 0x0B */
    bool no_interrupt;      /* no interrupt endpoint */
    uint8_t descriptor_len; /* bLength of the class descriptor; 0 = 54 */
} ccid_model_config;

/* Malformed answers the reader can give (once, to the next command). */
typedef enum {
    CCID_FAULT_NONE = 0,
    CCID_FAULT_LENGTH,   /* dwLength announces one byte more than the frame carries */
    CCID_FAULT_TYPE,     /* SlotStatus (0x81) where a DataBlock is due */
    CCID_FAULT_SEQ,      /* the answer carries a wrong bSeq (and no right one follows) */
    CCID_FAULT_STALE,    /* a stale frame (earlier bSeq) precedes the right answer */
    CCID_FAULT_OVERSIZE, /* dwLength above dwMaxCCIDMessageLength */
} ccid_fault;

/* Counters the tests assert on. */
typedef struct ccid_model_stats {
    int clear_halts; /* USBDEVFS_CLEAR_HALT calls */
    int discards;    /* USBDEVFS_DISCARDURB calls that found their URB */
    int xfr_blocks;  /* PC_to_RDR_XfrBlock messages */
    int chained_in;  /* XfrBlocks with wLevelParameter 1, 2 or 3 */
    int chained_out; /* response parts sent with bChainParameter 1, 2 or 3 */
    int power_ons;
    int claims; /* USBDEVFS_CLAIMINTERFACE calls */
} ccid_model_stats;

typedef struct ccid_model ccid_model;

/* Creates a umockdev testbed with one CCID reader (bus 1, device 2) holding
 * `card` (borrowed; may be NULL for an empty slot) and attaches the URB
 * handler. NULL config = defaults. Returns NULL (with a message on stderr)
 * if umockdev refuses. */
ccid_model *ccid_model_new(const ccid_model_config *config, card_model *card);
void ccid_model_free(ccid_model *m);

/* Sysfs path of the reader device in the testbed. */
const char *ccid_model_syspath(const ccid_model *m);

/* Fault knobs (thread-safe: the handler runs in umockdev's worker thread). */
void ccid_model_time_extensions(ccid_model *m, int n); /* before the next answer */
void ccid_model_stall_once(ccid_model *m, uint8_t ep); /* 0x01 bulk-out or 0x82 bulk-in */
void ccid_model_fault_once(ccid_model *m, ccid_fault f);
/* Takes the card out / puts it back; notify queues NotifySlotChange. */
void ccid_model_set_card_present(ccid_model *m, bool present, bool notify);
/* The device vanishes when the card receives an APDU with this INS (0 = off). */
void ccid_model_unplug_on_ins(ccid_model *m, uint8_t ins);
/* Unplugs the device now: every ioctl fails with ENODEV; with uevent, the
 * device also leaves sysfs with a "remove" uevent. */
void ccid_model_unplug(ccid_model *m, bool uevent);
/* Plugs it (back) in with an "add" uevent. */
void ccid_model_plug(ccid_model *m);

ccid_model_stats ccid_model_get_stats(ccid_model *m);

/* If the process is not under umockdev's preload, re-executes it under
 * umockdev-wrapper (argv kept) and does not return on success; returns -1 if
 * that failed, 0 when already under umockdev. */
int ccid_model_reexec_under_umockdev(int argc, char **argv);

#endif
