/* ccid.h — USB CCID smart-card reader host driver over libusb-1.0 (no pcscd).
 *
 * Speaks the USB CCID class protocol (CCID spec rev 1.1) to one reader slot:
 * power the card on (ATR), exchange APDUs with PC_to_RDR_XfrBlock, ask the
 * slot status, and listen for RDR_to_PC_NotifySlotChange on the interrupt
 * endpoint. A USB token (ePass2003 class) is such a reader with the card
 * soldered in.
 *
 * Only readers that exchange whole APDUs are driven: short APDU level and
 * short+extended APDU level (dwFeatures 0x00020000 / 0x00040000). A reader
 * that exchanges TPDUs or characters would need T=0/T=1 framing in the host;
 * it is reported as unsupported with a clear message rather than half-driven.
 *
 * Every response frame is checked (length, message type, slot, bSeq, size)
 * before any byte of it is used; a stalled endpoint is cleared once and the
 * transfer retried; a vanished device gives "token removed".
 */
#ifndef SOHOA_CCID_H
#define SOHOA_CCID_H

#include <libusb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../firmware/err.h"

/* Size of the CCID class descriptor (bDescriptorType 0x21). */
#define CCID_DESCRIPTOR_LEN 54
/* Size of a CCID message header. */
#define CCID_HEADER_LEN 10

/* dwFeatures bits that this driver looks at. */
#define CCID_FEAT_AUTO_VOLTAGE 0x00000008u
#define CCID_FEAT_AUTO_PARAMS 0x00000002u /* automatic parameter configuration from the ATR */
#define CCID_FEAT_LEVEL_MASK 0x00070000u
#define CCID_FEAT_LEVEL_TPDU 0x00010000u
#define CCID_FEAT_LEVEL_SHORT_APDU 0x00020000u
#define CCID_FEAT_LEVEL_EXT_APDU 0x00040000u

/* How the reader exchanges data with the card. */
typedef enum {
    CCID_LEVEL_CHARACTER = 0,
    CCID_LEVEL_TPDU = 1,
    CCID_LEVEL_SHORT_APDU = 2,
    CCID_LEVEL_EXTENDED_APDU = 3,
} ccid_level;

/* The fields of the class descriptor the driver uses. */
typedef struct ccid_descriptor {
    uint16_t bcd_ccid;
    uint8_t max_slot_index;
    uint8_t voltage_support;     /* bit 0 5V, bit 1 3V, bit 2 1.8V */
    uint32_t protocols;          /* bit 0 T=0, bit 1 T=1 */
    uint32_t features;           /* dwFeatures */
    uint32_t max_message_length; /* dwMaxCCIDMessageLength, header included */
    uint8_t max_busy_slots;
    ccid_level level; /* from dwFeatures */
} ccid_descriptor;

/* State of the card in the slot (bmICCStatus). */
typedef enum {
    CCID_ICC_ACTIVE = 0,
    CCID_ICC_INACTIVE = 1,
    CCID_ICC_ABSENT = 2,
} ccid_icc_status;

typedef struct ccid_reader ccid_reader;

/* Parses a raw CCID class descriptor (54 bytes, type 0x21). Rejects a short
 * or mistyped descriptor, bMaxSlotIndex above 15, and a message length that
 * cannot hold a header plus a short APDU. Returns 0 or -1 with err set. */
int ccid_parse_descriptor(const unsigned char *raw, size_t len, ccid_descriptor *d, sohoa_err *err);

/* Finds the CCID interface of a configuration: class 0x0B, or a vendor class
 * (0xFF) interface carrying a 54-byte class descriptor (old readers). The
 * descriptor is looked for in the interface's extra bytes, then in its
 * endpoints' (where some readers put it). Returns the interface number and a
 * pointer to the raw descriptor inside `cfg`, or -1 when there is none. */
int ccid_find_interface(const struct libusb_config_descriptor *cfg, const unsigned char **raw);

/* True when `dev` has a CCID interface in its active (or first) configuration. */
bool ccid_device_is_reader(libusb_device *dev);

/* Parses a reader selector "VID:PID" (hex, e.g. "096e:0807"). Returns 0 or -1
 * (SOHOA_EINPUT) with err set. */
int ccid_parse_reader_id(const char *s, uint16_t *vid, uint16_t *pid, sohoa_err *err);

/* Opens the first CCID reader matching vid:pid (0:0 = any CCID reader) on the
 * libusb context `usb` (borrowed, must outlive the reader), claims its
 * interface and checks its exchange level. timeout_ms bounds each USB
 * transfer (0 = 5000 ms); a card asking for more time extends it. Errors:
 * SOHOA_EWORK (no reader, cannot open/claim, unsupported level). */
ccid_reader *ccid_open(libusb_context *usb, uint16_t vid, uint16_t pid, unsigned timeout_ms,
                       sohoa_err *err);

/* Powers the card off (best effort), releases the interface, closes the
 * device. NULL is accepted. */
void ccid_close(ccid_reader *r);

/* The parsed class descriptor of an open reader. */
const ccid_descriptor *ccid_get_descriptor(const ccid_reader *r);

/* A short name for messages and logs, e.g. "CCID reader 096e:0807". */
const char *ccid_name(const ccid_reader *r);

/* Powers the card on (PC_to_RDR_IccPowerOn): automatic voltage when the
 * reader offers it, else 1.8 V, 3 V, 5 V in turn. Copies the ATR into atr
 * (up to cap bytes) and sets *atr_len. Errors: "token removed" when the
 * slot is empty or the device is gone, SOHOA_EWORK otherwise. */
int ccid_power_on(ccid_reader *r, unsigned char *atr, size_t cap, size_t *atr_len, sohoa_err *err);

/* Powers the card off (PC_to_RDR_IccPowerOff). */
int ccid_power_off(ccid_reader *r, sohoa_err *err);

/* Asks the slot state (PC_to_RDR_GetSlotStatus). */
int ccid_slot_status(ccid_reader *r, ccid_icc_status *status, sohoa_err *err);

/* Sends one command APDU and reads its whole response APDU (data + SW1 SW2)
 * into resp. Splits the command and joins the response with wLevelParameter
 * / bChainParameter chaining when they exceed dwMaxCCIDMessageLength
 * (extended APDU readers). The signature matches piv_transmit_fn with
 * ctx = the reader. */
int ccid_transmit(void *reader, const unsigned char *apdu, size_t len, unsigned char *resp,
                  size_t cap, size_t *resp_len, sohoa_err *err);

/* Waits up to timeout_ms for RDR_to_PC_NotifySlotChange on the interrupt
 * endpoint. Returns 1 when our slot changed (*present = card now present),
 * 0 when nothing arrived in time (or the reader has no interrupt endpoint),
 * -1 on error (e.g. device removed). */
int ccid_wait_slot_change(ccid_reader *r, unsigned timeout_ms, bool *present, sohoa_err *err);

#endif
