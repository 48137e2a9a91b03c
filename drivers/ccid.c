/* ccid.c — USB CCID reader host driver (see ccid.h). */
#include "ccid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/log.h"

/* Message types (CCID rev 1.1, 6.1 and 6.2). */
enum {
    PC_TO_RDR_ICC_POWER_ON = 0x62,
    PC_TO_RDR_ICC_POWER_OFF = 0x63,
    PC_TO_RDR_GET_SLOT_STATUS = 0x65,
    PC_TO_RDR_XFR_BLOCK = 0x6F,
    RDR_TO_PC_DATA_BLOCK = 0x80,
    RDR_TO_PC_SLOT_STATUS = 0x81,
    RDR_TO_PC_NOTIFY_SLOT_CHANGE = 0x50,
    RDR_TO_PC_HARDWARE_ERROR = 0x51,
};

/* bmCommandStatus (bits 6-7 of bStatus). */
enum { CMD_OK = 0, CMD_FAILED = 1, CMD_TIME_EXTENSION = 2 };

/* Slot error codes (bError) that need a specific message. */
enum { ERR_ICC_MUTE = 0xFE, ERR_XFR_PARITY = 0xFD, ERR_HW_ERROR = 0xFB, ERR_CMD_ABORTED = 0xFF };

#define DEFAULT_TIMEOUT_MS 5000u
/* A card computing an RSA signature may ask for many time extensions; bound
 * the total so a wedged card cannot hang the station forever. */
#define MAX_TIME_EXTENSIONS 600
/* Stale frames (a response to an earlier, timed-out command) skipped before
 * the exchange is declared out of sequence. */
#define MAX_STALE_FRAMES 3
/* Largest response APDU: 65536 data bytes + SW1 SW2. */
#define MAX_RESPONSE_APDU (65536 + 2)

struct ccid_reader {
    libusb_device_handle *h;
    int iface;
    uint8_t ep_out, ep_in, ep_intr;
    ccid_descriptor desc;
    uint8_t slot;
    uint8_t seq;
    unsigned timeout_ms;
    bool removed;
    bool powered;
    char name[40];
    unsigned char *msg; /* one message buffer, dwMaxCCIDMessageLength bytes */
    size_t msg_cap;
};

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = v & 0xFF;
    p[1] = (v >> 8) & 0xFF;
    p[2] = (v >> 16) & 0xFF;
    p[3] = (v >> 24) & 0xFF;
}

int ccid_parse_descriptor(const unsigned char *raw, size_t len, ccid_descriptor *d, sohoa_err *err)
{
    if (!raw || len < CCID_DESCRIPTOR_LEN || raw[0] != CCID_DESCRIPTOR_LEN)
        return err_set(err, SOHOA_EWORK,
                       "CCID class descriptor: %zu bytes (bLength %u), expected 54; the "
                       "reader is not CCID compliant",
                       len, raw && len ? raw[0] : 0);
    if (raw[1] != 0x21)
        return err_set(err, SOHOA_EWORK,
                       "CCID class descriptor: type 0x%02x, expected 0x21; the reader is not "
                       "CCID compliant",
                       raw[1]);
    memset(d, 0, sizeof *d);
    d->bcd_ccid = (uint16_t)(raw[2] | raw[3] << 8);
    d->max_slot_index = raw[4];
    d->voltage_support = raw[5];
    d->protocols = get_le32(raw + 6);
    d->features = get_le32(raw + 40);
    d->max_message_length = get_le32(raw + 44);
    d->max_busy_slots = raw[53];
    if (d->max_slot_index > 15)
        return err_set(err, SOHOA_EWORK,
                       "CCID class descriptor: bMaxSlotIndex %u is out of range (0-15)",
                       d->max_slot_index);
    /* A message must hold the header and at least a short command APDU with
     * some data (CCID: at least 271 for short APDU readers; some tokens lie
     * a little, so only refuse what cannot possibly work). */
    if (d->max_message_length < CCID_HEADER_LEN + 5 || d->max_message_length > 0x10000 + 64)
        return err_set(err, SOHOA_EWORK,
                       "CCID class descriptor: dwMaxCCIDMessageLength %u is not usable",
                       d->max_message_length);
    switch (d->features & CCID_FEAT_LEVEL_MASK) {
    case 0:
        d->level = CCID_LEVEL_CHARACTER;
        break;
    case CCID_FEAT_LEVEL_TPDU:
        d->level = CCID_LEVEL_TPDU;
        break;
    case CCID_FEAT_LEVEL_SHORT_APDU:
        d->level = CCID_LEVEL_SHORT_APDU;
        break;
    case CCID_FEAT_LEVEL_EXT_APDU:
        d->level = CCID_LEVEL_EXTENDED_APDU;
        break;
    default:
        return err_set(err, SOHOA_EWORK,
                       "CCID class descriptor: dwFeatures 0x%08x claims several exchange levels",
                       d->features);
    }
    return 0;
}

/* Looks for a 54-byte type-0x21 descriptor in a block of extra bytes. */
static const unsigned char *find_class_desc(const unsigned char *extra, int len)
{
    for (int off = 0; off + 2 <= len && extra[off] >= 2; off += extra[off]) {
        if (extra[off] == CCID_DESCRIPTOR_LEN && extra[off + 1] == 0x21 &&
            off + CCID_DESCRIPTOR_LEN <= len)
            return extra + off;
    }
    return NULL;
}

int ccid_find_interface(const struct libusb_config_descriptor *cfg, const unsigned char **raw)
{
    for (int i = 0; i < cfg->bNumInterfaces; i++) {
        const struct libusb_interface *itf = &cfg->interface[i];
        for (int a = 0; a < itf->num_altsetting; a++) {
            const struct libusb_interface_descriptor *id = &itf->altsetting[a];
            if (id->bInterfaceClass != 0x0B && id->bInterfaceClass != 0xFF)
                continue;
            const unsigned char *d = find_class_desc(id->extra, id->extra_length);
            /* Some early readers append it after the last endpoint instead. */
            for (int e = 0; !d && e < id->bNumEndpoints; e++)
                d = find_class_desc(id->endpoint[e].extra, id->endpoint[e].extra_length);
            if (d) {
                if (raw)
                    *raw = d;
                return id->bInterfaceNumber;
            }
        }
    }
    return -1;
}

bool ccid_device_is_reader(libusb_device *dev)
{
    struct libusb_config_descriptor *cfg = NULL;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
        libusb_get_config_descriptor(dev, 0, &cfg) != 0)
        return false;
    bool yes = ccid_find_interface(cfg, NULL) >= 0;
    libusb_free_config_descriptor(cfg);
    return yes;
}

int ccid_parse_reader_id(const char *s, uint16_t *vid, uint16_t *pid, sohoa_err *err)
{
    unsigned v, p;
    int n = 0;
    if (!s || sscanf(s, "%4x:%4x%n", &v, &p, &n) != 2 || s[n] != '\0' || n != 9)
        return err_set(err, SOHOA_EINPUT,
                       "[token] reader '%s': expected VID:PID in hex, e.g. 096e:0807", s ? s : "");
    *vid = (uint16_t)v;
    *pid = (uint16_t)p;
    return 0;
}

/* Fills the endpoint numbers of the CCID interface. */
static int pick_endpoints(ccid_reader *r, const struct libusb_config_descriptor *cfg,
                          sohoa_err *err)
{
    for (int i = 0; i < cfg->bNumInterfaces; i++) {
        const struct libusb_interface_descriptor *id = &cfg->interface[i].altsetting[0];
        if (id->bInterfaceNumber != r->iface)
            continue;
        for (int e = 0; e < id->bNumEndpoints; e++) {
            const struct libusb_endpoint_descriptor *ep = &id->endpoint[e];
            int type = ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK;
            bool in = ep->bEndpointAddress & LIBUSB_ENDPOINT_IN;
            if (type == LIBUSB_TRANSFER_TYPE_BULK && in && !r->ep_in)
                r->ep_in = ep->bEndpointAddress;
            else if (type == LIBUSB_TRANSFER_TYPE_BULK && !in && !r->ep_out)
                r->ep_out = ep->bEndpointAddress;
            else if (type == LIBUSB_TRANSFER_TYPE_INTERRUPT && in && !r->ep_intr)
                r->ep_intr = ep->bEndpointAddress;
        }
    }
    if (!r->ep_in || !r->ep_out)
        return err_set(err, SOHOA_EWORK, "%s: CCID interface lacks a bulk-in or bulk-out endpoint",
                       r->name);
    return 0;
}

static int removed_error(ccid_reader *r, sohoa_err *err)
{
    r->removed = true;
    return err_set(err, SOHOA_EWORK, "token removed (%s is gone); plug the token in and retry",
                   r->name);
}

static int usb_error(ccid_reader *r, const char *what, int rc, sohoa_err *err)
{
    if (rc == LIBUSB_ERROR_NO_DEVICE)
        return removed_error(r, err);
    if (rc == LIBUSB_ERROR_TIMEOUT)
        return err_set(err, SOHOA_EWORK,
                       "%s: no answer to %s within %u ms; unplug and replug the token", r->name,
                       what, r->timeout_ms);
    return err_set(err, SOHOA_EWORK, "%s: %s failed: %s; unplug and replug the token", r->name,
                   what, libusb_strerror((enum libusb_error)rc));
}

/* One bulk transfer; a stalled endpoint is cleared and the transfer retried
 * once (a reader stalls on a message it could not take; after CLEAR_FEATURE
 * (ENDPOINT_HALT) it is ready again and nothing was processed). */
static int bulk(ccid_reader *r, uint8_t ep, unsigned char *buf, size_t len, size_t *done,
                unsigned timeout_ms, const char *what, sohoa_err *err)
{
    for (int attempt = 0;; attempt++) {
        int n = 0;
        int rc = libusb_bulk_transfer(r->h, ep, buf, (int)len, &n, timeout_ms);
        if (rc == LIBUSB_ERROR_PIPE && attempt == 0) {
            log_warn("%s: endpoint 0x%02x stalled during %s; clearing it", r->name, ep, what);
            int crc = libusb_clear_halt(r->h, ep);
            if (crc != 0)
                return usb_error(r, "clearing a stalled endpoint", crc, err);
            continue;
        }
        if (rc != 0)
            return usb_error(r, what, rc, err);
        *done = (size_t)n;
        return 0;
    }
}

/* Checks a received frame; returns 1 for a stale frame (earlier bSeq) that
 * the caller must skip, 0 for a good one, -1 for a malformed one. */
static int check_frame(ccid_reader *r, const unsigned char *f, size_t n, uint8_t seq, uint8_t type,
                       sohoa_err *err)
{
    if (n < CCID_HEADER_LEN)
        return err_set(err, SOHOA_EWORK,
                       "%s: malformed response (%zu bytes, shorter than a header)", r->name, n);
    uint32_t dlen = get_le32(f + 1);
    if (dlen > r->desc.max_message_length - CCID_HEADER_LEN)
        return err_set(err, SOHOA_EWORK,
                       "%s: malformed response (announces %u data bytes, above the reader's "
                       "maximum %u)",
                       r->name, dlen, r->desc.max_message_length - CCID_HEADER_LEN);
    if ((size_t)dlen + CCID_HEADER_LEN != n)
        return err_set(err, SOHOA_EWORK,
                       "%s: malformed response (announces %u data bytes, carries %zu)", r->name,
                       dlen, n - CCID_HEADER_LEN);
    if (f[5] != r->slot)
        return err_set(err, SOHOA_EWORK, "%s: malformed response (slot %u, expected %u)", r->name,
                       f[5], r->slot);
    if (f[6] != seq)
        return 1;
    if (f[0] != type)
        return err_set(err, SOHOA_EWORK,
                       "%s: malformed response (message type 0x%02x, expected 0x%02x)", r->name,
                       f[0], type);
    return 0;
}

/* Error for a response whose bmCommandStatus says "failed". */
static int slot_error(ccid_reader *r, const unsigned char *f, const char *what, sohoa_err *err)
{
    uint8_t icc = f[7] & 0x03, code = f[8];
    if (icc == CCID_ICC_ABSENT)
        return err_set(err, SOHOA_EWORK,
                       "token removed (no card in %s); insert the token and retry", r->name);
    if (code == ERR_ICC_MUTE)
        return err_set(err, SOHOA_EWORK,
                       "%s: the card does not answer (%s); remove and reinsert the token", r->name,
                       what);
    if (code == ERR_HW_ERROR)
        return err_set(err, SOHOA_EWORK, "%s: hardware error during %s; replug the token", r->name,
                       what);
    return err_set(err, SOHOA_EWORK, "%s: %s failed (slot error 0x%02x); replug the token", r->name,
                   what, code);
}

/* Sends one command message and reads its response into r->msg, skipping
 * time extensions and stale frames. Sets *resp_len to the frame length. The
 * caller checks bStatus. */
static int exchange(ccid_reader *r, uint8_t type, const unsigned char param[3],
                    const unsigned char *data, size_t len, uint8_t expect, size_t *resp_len,
                    const char *what, sohoa_err *err)
{
    if (r->removed)
        return removed_error(r, err);
    if (len + CCID_HEADER_LEN > r->desc.max_message_length)
        return err_set(err, SOHOA_EWORK, "%s: %s of %zu bytes exceeds the reader's maximum %u",
                       r->name, what, len, r->desc.max_message_length - CCID_HEADER_LEN);
    unsigned char *out = malloc(CCID_HEADER_LEN + len);
    if (!out)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", r->name);
    uint8_t seq = r->seq++;
    out[0] = type;
    put_le32(out + 1, (uint32_t)len);
    out[5] = r->slot;
    out[6] = seq;
    memcpy(out + 7, param, 3);
    if (len)
        memcpy(out + CCID_HEADER_LEN, data, len);
    size_t done = 0;
    int rc = bulk(r, r->ep_out, out, CCID_HEADER_LEN + len, &done, r->timeout_ms, what, err);
    explicit_bzero(out, CCID_HEADER_LEN + len); /* a VERIFY carries the PIN */
    free(out);
    if (rc != 0)
        return -1;
    if (done != CCID_HEADER_LEN + len)
        return err_set(err, SOHOA_EWORK, "%s: %s: reader took %zu of %zu bytes", r->name, what,
                       done, CCID_HEADER_LEN + len);
    int stale = 0, ext = 0;
    for (;;) {
        size_t n = 0;
        if (bulk(r, r->ep_in, r->msg, r->msg_cap, &n, r->timeout_ms, what, err) != 0)
            return -1;
        int c = check_frame(r, r->msg, n, seq, expect, err);
        if (c < 0)
            return -1;
        if (c == 1) {
            /* A late answer to an earlier command that timed out: skip it. */
            log_debug("%s: skipping stale frame bSeq %u (waiting for %u)", r->name, r->msg[6], seq);
            if (++stale > MAX_STALE_FRAMES)
                return err_set(err, SOHOA_EWORK,
                               "%s: responses out of sequence (bSeq %u, expected %u); replug the "
                               "token",
                               r->name, r->msg[6], seq);
            continue;
        }
        if ((r->msg[7] >> 6) == CMD_TIME_EXTENSION) {
            /* The card needs more time (bError = BWI multiplier): keep reading. */
            if (++ext > MAX_TIME_EXTENSIONS)
                return err_set(err, SOHOA_EWORK,
                               "%s: the card kept asking for more time during %s; replug the token",
                               r->name, what);
            log_debug("%s: time extension %d (x%u) during %s", r->name, ext, r->msg[8], what);
            continue;
        }
        *resp_len = n;
        return 0;
    }
}

static int open_device(ccid_reader *r, libusb_device *dev, sohoa_err *err)
{
    struct libusb_device_descriptor dd;
    struct libusb_config_descriptor *cfg = NULL;
    int rc = libusb_get_device_descriptor(dev, &dd);
    if (rc != 0)
        return usb_error(r, "reading the device descriptor", rc, err);
    snprintf(r->name, sizeof r->name, "CCID reader %04x:%04x", dd.idVendor, dd.idProduct);
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
        (rc = libusb_get_config_descriptor(dev, 0, &cfg)) != 0)
        return usb_error(r, "reading the configuration descriptor", rc, err);
    const unsigned char *raw = NULL;
    r->iface = ccid_find_interface(cfg, &raw);
    int ok = r->iface >= 0 ? 0 : err_set(err, SOHOA_EWORK, "%s: no CCID interface", r->name);
    if (ok == 0)
        ok = ccid_parse_descriptor(raw, CCID_DESCRIPTOR_LEN, &r->desc, err);
    if (ok == 0)
        ok = pick_endpoints(r, cfg, err);
    libusb_free_config_descriptor(cfg);
    if (ok != 0)
        return -1;
    if (r->desc.level == CCID_LEVEL_TPDU || r->desc.level == CCID_LEVEL_CHARACTER)
        return err_set(err, SOHOA_EWORK,
                       "%s: exchanges %s with the card, which this driver does not frame "
                       "(T=0/T=1); use an APDU-level reader or token, or [token] backend = pkcs11",
                       r->name, r->desc.level == CCID_LEVEL_TPDU ? "TPDUs" : "characters");
    r->msg_cap = r->desc.max_message_length;
    r->msg = malloc(r->msg_cap);
    if (!r->msg)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", r->name);
    rc = libusb_open(dev, &r->h);
    if (rc != 0)
        return err_set(err, SOHOA_EWORK, "%s: cannot open: %s; check the udev rule for the token",
                       r->name, libusb_strerror((enum libusb_error)rc));
    /* A kernel driver (none exists for CCID today, but usbfs readers may be
     * bound by others) is detached for the session and reattached on close. */
    libusb_set_auto_detach_kernel_driver(r->h, 1);
    rc = libusb_claim_interface(r->h, r->iface);
    if (rc != 0)
        return err_set(err, SOHOA_EWORK,
                       "%s: cannot claim interface %d: %s; is pcscd or another program using "
                       "the token?",
                       r->name, r->iface, libusb_strerror((enum libusb_error)rc));
    return 0;
}

ccid_reader *ccid_open(libusb_context *usb, uint16_t vid, uint16_t pid, unsigned timeout_ms,
                       sohoa_err *err)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(usb, &list);
    if (n < 0) {
        err_set(err, SOHOA_EWORK, "USB: cannot list devices: %s",
                libusb_strerror((enum libusb_error)n));
        return NULL;
    }
    libusb_device *found = NULL;
    for (ssize_t i = 0; i < n && !found; i++) {
        struct libusb_device_descriptor dd;
        if (libusb_get_device_descriptor(list[i], &dd) != 0)
            continue;
        if ((vid || pid) && (dd.idVendor != vid || dd.idProduct != pid))
            continue;
        if (ccid_device_is_reader(list[i]))
            found = list[i];
    }
    if (!found) {
        libusb_free_device_list(list, 1);
        if (vid || pid)
            err_set(err, SOHOA_EWORK,
                    "token absent: no CCID reader %04x:%04x on USB; plug the token in or check "
                    "[token] reader",
                    vid, pid);
        else
            err_set(err, SOHOA_EWORK, "token absent: no CCID reader on USB; plug the token in");
        return NULL;
    }
    ccid_reader *r = calloc(1, sizeof *r);
    if (!r) {
        libusb_free_device_list(list, 1);
        err_set(err, SOHOA_EWORK, "CCID: out of memory");
        return NULL;
    }
    r->iface = -1;
    r->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    int rc = open_device(r, found, err);
    libusb_free_device_list(list, 1);
    if (rc != 0) {
        ccid_close(r);
        return NULL;
    }
    log_debug("%s: level %d, max message %u, %u slot(s)", r->name, r->desc.level,
              r->desc.max_message_length, r->desc.max_slot_index + 1u);
    return r;
}

void ccid_close(ccid_reader *r)
{
    if (!r)
        return;
    if (r->h) {
        if (r->powered && !r->removed)
            ccid_power_off(r, NULL);
        if (r->iface >= 0 && !r->removed)
            libusb_release_interface(r->h, r->iface);
        libusb_close(r->h);
    }
    free(r->msg);
    free(r);
}

const ccid_descriptor *ccid_get_descriptor(const ccid_reader *r)
{
    return &r->desc;
}

const char *ccid_name(const ccid_reader *r)
{
    return r->name;
}

int ccid_power_on(ccid_reader *r, unsigned char *atr, size_t cap, size_t *atr_len, sohoa_err *err)
{
    /* bPowerSelect: 0 automatic; else 3 = 1.8 V, 2 = 3 V, 1 = 5 V, lowest
     * first as the spec asks (a class A card is not harmed by 1.8 V). */
    uint8_t tries[4];
    int ntries = 0;
    if (r->desc.features & CCID_FEAT_AUTO_VOLTAGE)
        tries[ntries++] = 0;
    else {
        if (r->desc.voltage_support & 0x04)
            tries[ntries++] = 3;
        if (r->desc.voltage_support & 0x02)
            tries[ntries++] = 2;
        if (r->desc.voltage_support & 0x01)
            tries[ntries++] = 1;
        if (ntries == 0)
            tries[ntries++] = 0;
    }
    for (int i = 0; i < ntries; i++) {
        unsigned char param[3] = {tries[i], 0, 0};
        size_t n = 0;
        if (exchange(r, PC_TO_RDR_ICC_POWER_ON, param, NULL, 0, RDR_TO_PC_DATA_BLOCK, &n,
                     "power on", err) != 0)
            return -1;
        if ((r->msg[7] >> 6) != CMD_OK) {
            /* An absent card fails at every voltage: report it at once. */
            if ((r->msg[7] & 0x03) == CCID_ICC_ABSENT || i + 1 == ntries)
                return slot_error(r, r->msg, "power on", err);
            continue;
        }
        size_t alen = n - CCID_HEADER_LEN;
        if (alen < 2 || alen > 33)
            return err_set(err, SOHOA_EWORK,
                           "%s: power on: answer-to-reset of %zu bytes is invalid", r->name, alen);
        if (alen > cap)
            return err_set(err, SOHOA_EWORK, "%s: power on: ATR buffer too small", r->name);
        memcpy(atr, r->msg + CCID_HEADER_LEN, alen);
        *atr_len = alen;
        r->powered = true;
        return 0;
    }
    return -1; /* not reached */
}

int ccid_power_off(ccid_reader *r, sohoa_err *err)
{
    static const unsigned char param[3] = {0, 0, 0};
    size_t n = 0;
    r->powered = false;
    if (exchange(r, PC_TO_RDR_ICC_POWER_OFF, param, NULL, 0, RDR_TO_PC_SLOT_STATUS, &n, "power off",
                 err) != 0)
        return -1;
    if ((r->msg[7] >> 6) != CMD_OK && (r->msg[7] & 0x03) != CCID_ICC_ABSENT)
        return slot_error(r, r->msg, "power off", err);
    return 0;
}

int ccid_slot_status(ccid_reader *r, ccid_icc_status *status, sohoa_err *err)
{
    static const unsigned char param[3] = {0, 0, 0};
    size_t n = 0;
    if (exchange(r, PC_TO_RDR_GET_SLOT_STATUS, param, NULL, 0, RDR_TO_PC_SLOT_STATUS, &n,
                 "slot status", err) != 0)
        return -1;
    uint8_t icc = r->msg[7] & 0x03;
    if (icc > CCID_ICC_ABSENT)
        return err_set(err, SOHOA_EWORK, "%s: malformed slot status (bmICCStatus 3)", r->name);
    *status = (ccid_icc_status)icc;
    return 0;
}

/* One XfrBlock carrying `len` bytes with wLevelParameter `level`; leaves the
 * DataBlock answer in r->msg and checks it succeeded. */
static int xfr(ccid_reader *r, const unsigned char *data, size_t len, uint16_t level, size_t *n,
               sohoa_err *err)
{
    unsigned char param[3] = {0, level & 0xFF, level >> 8};
    if (exchange(r, PC_TO_RDR_XFR_BLOCK, param, data, len, RDR_TO_PC_DATA_BLOCK, n, "APDU exchange",
                 err) != 0)
        return -1;
    if ((r->msg[7] >> 6) != CMD_OK)
        return slot_error(r, r->msg, "APDU exchange", err);
    return 0;
}

int ccid_transmit(void *reader, const unsigned char *apdu, size_t len, unsigned char *resp,
                  size_t cap, size_t *resp_len, sohoa_err *err)
{
    ccid_reader *r = reader;
    if (!r->powered) {
        /* Powered off behind our back: the card was pulled (slot change). */
        ccid_icc_status st;
        if (ccid_slot_status(r, &st, err) != 0)
            return -1;
        if (st == CCID_ICC_ABSENT)
            return err_set(err, SOHOA_EWORK,
                           "token removed (no card in %s); insert the token and retry", r->name);
        return err_set(err, SOHOA_EWORK, "%s: APDU exchange before the card was powered on",
                       r->name);
    }
    size_t max_data = r->desc.max_message_length - CCID_HEADER_LEN;
    if (r->desc.level == CCID_LEVEL_SHORT_APDU && (len > 261 || len > max_data))
        return err_set(err, SOHOA_EWORK,
                       "%s: command APDU of %zu bytes does not fit a short APDU reader", r->name,
                       len);
    /* Command: wLevelParameter 0 = whole APDU; 1 begins, 3 continues,
     * 2 ends a chain. The reader acknowledges each non-final block with an
     * empty DataBlock, bChainParameter 0x10. */
    size_t off = 0, n = 0;
    bool chained = len > max_data;
    for (;;) {
        size_t chunk = len - off < max_data ? len - off : max_data;
        bool last = off + chunk == len;
        uint16_t level = !chained ? 0 : off == 0 ? 1 : last ? 2 : 3;
        if (xfr(r, apdu + off, chunk, level, &n, err) != 0)
            return -1;
        off += chunk;
        if (last)
            break;
        if (r->msg[9] != 0x10 || n != CCID_HEADER_LEN)
            return err_set(err, SOHOA_EWORK,
                           "%s: reader did not acknowledge a chained command block "
                           "(bChainParameter 0x%02x)",
                           r->name, r->msg[9]);
    }
    /* Response: bChainParameter 0 = whole, 1 begins, 3 continues, 2 ends,
     * 0x10 = empty, more follows. Ask for the next part with an empty
     * XfrBlock, wLevelParameter 0x10. */
    size_t got = 0;
    for (int parts = 0;; parts++) {
        size_t dlen = n - CCID_HEADER_LEN;
        uint8_t chain = r->msg[9];
        if (chain != 0x00 && chain != 0x01 && chain != 0x02 && chain != 0x03 && chain != 0x10)
            return err_set(err, SOHOA_EWORK, "%s: malformed response (bChainParameter 0x%02x)",
                           r->name, chain);
        if (got + dlen > cap || got + dlen > MAX_RESPONSE_APDU)
            return err_set(err, SOHOA_EWORK, "%s: response APDU longer than %zu bytes", r->name,
                           cap);
        memcpy(resp + got, r->msg + CCID_HEADER_LEN, dlen);
        got += dlen;
        if (chain == 0x00 || chain == 0x02)
            break;
        if (parts > (int)(MAX_RESPONSE_APDU / 16))
            return err_set(err, SOHOA_EWORK, "%s: endless response chain", r->name);
        if (xfr(r, NULL, 0, 0x10, &n, err) != 0)
            return -1;
    }
    if (got < 2)
        return err_set(err, SOHOA_EWORK, "%s: response APDU of %zu bytes lacks a status word",
                       r->name, got);
    *resp_len = got;
    return 0;
}

int ccid_wait_slot_change(ccid_reader *r, unsigned timeout_ms, bool *present, sohoa_err *err)
{
    if (!r->ep_intr)
        return 0;
    if (r->removed)
        return removed_error(r, err);
    unsigned char buf[64];
    for (;;) {
        int n = 0;
        int rc = libusb_interrupt_transfer(r->h, r->ep_intr, buf, sizeof buf, &n, timeout_ms);
        if (rc == LIBUSB_ERROR_TIMEOUT)
            return 0;
        if (rc == LIBUSB_ERROR_PIPE) {
            if (libusb_clear_halt(r->h, r->ep_intr) != 0)
                return usb_error(r, "clearing the interrupt endpoint", rc, err);
            continue;
        }
        if (rc != 0)
            return usb_error(r, "waiting for a card event", rc, err);
        if (n >= 1 && buf[0] == RDR_TO_PC_HARDWARE_ERROR)
            return err_set(err, SOHOA_EWORK, "%s: reader reports a hardware error; replug it",
                           r->name);
        /* bmSlotICCState: 2 bits per slot, bit 0 present, bit 1 changed. */
        size_t need = 1 + (r->slot * 2u + 2u + 7u) / 8u;
        if (n < 2 || buf[0] != RDR_TO_PC_NOTIFY_SLOT_CHANGE || (size_t)n < need)
            return err_set(err, SOHOA_EWORK,
                           "%s: malformed interrupt message (%d bytes, type 0x%02x)", r->name, n,
                           n ? buf[0] : 0);
        unsigned bit = r->slot * 2u;
        unsigned bits = (buf[1 + bit / 8] >> (bit % 8)) & 0x03;
        if (!(bits & 0x02))
            continue; /* another slot changed */
        *present = bits & 0x01;
        if (!*present)
            r->powered = false;
        return 1;
    }
}
