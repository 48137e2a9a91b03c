/* ccid_model.c — test-side CCID reader + PIV card (see ccid_model.h).
 *
 * Threading: umockdev runs ioctl handlers in its testbed worker thread (a
 * GMainContext of its own, iterated by umockdev), while the test's thread
 * sits in the intercepted ioctl() waiting for the answer. So the handler
 * needs no main loop of ours; it only shares the model with the test's
 * thread, guarded by `lock` (knob setters take it too).
 */
#include "ccid_model.h"

#include <errno.h>
#include <glib.h>
#include <linux/usbdevice_fs.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <umockdev.h>
#include <unistd.h>
#include <zlib.h>

/* ======================================================================== */
/* PIV card                                                                 */
/* ======================================================================== */

#define CARD_PIN "123456"
#define CARD_MAX_TRIES 3
#define CARD_BUF 8192

struct card_model {
    EVP_PKEY *key;
    unsigned char *cert;
    size_t cert_len;
    card_knobs k;
    bool selected;
    bool verified;
    /* command chaining */
    unsigned char chain[CARD_BUF];
    size_t chain_len;
    uint8_t chain_ins;
    bool chaining;
    /* response data waiting for GET RESPONSE */
    unsigned char pending[CARD_BUF];
    size_t pending_len, pending_off;
};

EVP_PKEY *card_model_keygen(const char *kind)
{
    if (strcmp(kind, "rsa2048") == 0)
        return EVP_RSA_gen(2048);
    return EVP_EC_gen(strcmp(kind, "p384") == 0 ? "P-384" : "P-256");
}

static unsigned char *make_cert(EVP_PKEY *key, size_t *len)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char *der = NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               (const unsigned char *)"Test Organization PIV", -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_sign(x, key, EVP_sha256());
    int n = i2d_X509(x, &der);
    X509_NAME_free(name);
    X509_free(x);
    *len = n > 0 ? (size_t)n : 0;
    return der;
}

card_model *card_model_new(EVP_PKEY *key)
{
    card_model *c = calloc(1, sizeof *c);
    EVP_PKEY_up_ref(key);
    c->key = key;
    c->cert = make_cert(key, &c->cert_len);
    c->k.pin_tries = CARD_MAX_TRIES;
    c->k.response_chunk = 256;
    return c;
}

void card_model_free(card_model *c)
{
    if (!c)
        return;
    EVP_PKEY_free(c->key);
    OPENSSL_free(c->cert);
    free(c);
}

card_knobs *card_model_knobs(card_model *c)
{
    return &c->k;
}

const unsigned char *card_model_cert(const card_model *c, size_t *len)
{
    *len = c->cert_len;
    return c->cert;
}

void card_model_reset(card_model *c)
{
    c->selected = false;
    c->verified = false;
    c->chaining = false;
    c->chain_len = 0;
    c->pending_len = c->pending_off = 0;
}

/* Writes a TLV header; returns bytes written. */
static size_t put_tl(unsigned char *p, unsigned tag, size_t len)
{
    size_t n = 0;
    if (tag > 0xFF)
        p[n++] = (unsigned char)(tag >> 8);
    p[n++] = (unsigned char)tag;
    if (len < 0x80) {
        p[n++] = (unsigned char)len;
    } else if (len < 0x100) {
        p[n++] = 0x81;
        p[n++] = (unsigned char)len;
    } else {
        p[n++] = 0x82;
        p[n++] = (unsigned char)(len >> 8);
        p[n++] = (unsigned char)len;
    }
    return n;
}

/* Minimal BER-TLV reader for the card's own parsing. */
static const unsigned char *get_tlv(const unsigned char *p, size_t len, unsigned char tag,
                                    size_t *vlen)
{
    size_t i = 0;
    while (i + 2 <= len) {
        unsigned char t = p[i++];
        size_t l = p[i++];
        if (l == 0x81 && i < len)
            l = p[i++];
        else if (l == 0x82 && i + 1 < len) {
            l = (size_t)p[i] << 8 | p[i + 1];
            i += 2;
        }
        if (i + l > len)
            return NULL;
        if (t == tag) {
            *vlen = l;
            return p + i;
        }
        i += l;
    }
    return NULL;
}

/* gzip-compresses the certificate (certinfo bit 0 = 1). */
static size_t gzip(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

static size_t sw(unsigned char *r, size_t n, uint16_t s)
{
    r[n++] = (unsigned char)(s >> 8);
    r[n++] = (unsigned char)s;
    return n;
}

/* Builds the whole response data of a command into out; returns the SW. */
static uint16_t card_exec(card_model *c, uint8_t ins, uint8_t p1, uint8_t p2,
                          const unsigned char *data, size_t lc, bool has_data, unsigned char *out,
                          size_t *out_len)
{
    *out_len = 0;
    switch (ins) {
    case 0xA4: { /* SELECT */
        static const unsigned char aid[] = {0xA0, 0x00, 0x00, 0x03, 0x08};
        if (p1 != 0x04 || lc < sizeof aid || memcmp(data, aid, sizeof aid) != 0 || c->k.no_applet) {
            c->selected = false;
            return 0x6A82;
        }
        static const unsigned char apt[] = {0x61, 0x11, 0x4F, 0x06, 0x00, 0x00, 0x10,
                                            0x00, 0x01, 0x00, 0x79, 0x07, 0x4F, 0x05,
                                            0xA0, 0x00, 0x00, 0x03, 0x08};
        memcpy(out, apt, sizeof apt);
        *out_len = sizeof apt;
        c->selected = true;
        return 0x9000;
    }
    case 0x20: /* VERIFY */
        if (!c->selected)
            return 0x6985;
        if (p2 != 0x80)
            return 0x6A88;
        if (!has_data) {
            if (c->k.pin_tries == 0)
                return 0x6983;
            if (c->verified)
                return 0x9000;
            return (uint16_t)(0x63C0 | c->k.pin_tries);
        }
        c->k.verify_attempts++;
        if (c->k.pin_tries == 0)
            return 0x6983;
        if (lc != 8)
            return 0x6A80;
        unsigned char want[8];
        memset(want, 0xFF, sizeof want);
        memcpy(want, CARD_PIN, strlen(CARD_PIN));
        if (memcmp(want, data, 8) == 0) {
            c->k.pin_tries = CARD_MAX_TRIES;
            c->verified = true;
            return 0x9000;
        }
        c->verified = false;
        if (--c->k.pin_tries == 0)
            return 0x6983;
        return (uint16_t)(0x63C0 | c->k.pin_tries);
    case 0xCB: { /* GET DATA */
        static const unsigned char tag9c[] = {0x5C, 0x03, 0x5F, 0xC1, 0x0A};
        if (!c->selected)
            return 0x6985;
        if (p1 != 0x3F || p2 != 0xFF || lc != sizeof tag9c || memcmp(data, tag9c, lc) != 0 ||
            c->k.no_cert)
            return 0x6A82;
        unsigned char body[CARD_BUF];
        size_t blen = c->cert_len;
        const unsigned char *cert = c->cert;
        if (c->k.compress_cert) {
            blen = gzip(c->cert, c->cert_len, body, sizeof body);
            cert = body;
        }
        size_t inner = put_tl(out, 0x70, blen) + blen + 3 + 2;
        size_t n = put_tl(out, 0x53, inner);
        n += put_tl(out + n, 0x70, blen);
        memcpy(out + n, cert, blen);
        n += blen;
        out[n++] = 0x71;
        out[n++] = 0x01;
        out[n++] = c->k.compress_cert ? 0x01 : 0x00;
        out[n++] = 0xFE;
        out[n++] = 0x00;
        *out_len = n;
        return 0x9000;
    }
    case 0x87: { /* GENERAL AUTHENTICATE */
        if (!c->selected)
            return 0x6985;
        if (p2 != 0x9C)
            return 0x6A86;
        if (!c->verified)
            return 0x6982;
        size_t tlen, clen, rlen;
        const unsigned char *t = get_tlv(data, lc, 0x7C, &tlen);
        const unsigned char *chal = t ? get_tlv(t, tlen, 0x81, &clen) : NULL;
        if (!chal || !get_tlv(t, tlen, 0x82, &rlen) || rlen != 0)
            return 0x6A80;
        int id = EVP_PKEY_get_base_id(c->key), bits = EVP_PKEY_get_bits(c->key);
        uint8_t alg = id == EVP_PKEY_RSA ? 0x07 : bits == 256 ? 0x11 : 0x14;
        c->k.last_alg = p1;
        c->k.last_challenge = clen;
        if (p1 != alg)
            return 0x6A80;
        unsigned char sig[600];
        size_t slen = sizeof sig;
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(c->key, NULL);
        int ok = EVP_PKEY_sign_init(pc) == 1;
        if (id == EVP_PKEY_RSA)
            ok = ok && clen == 256 && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING) == 1;
        ok = ok && EVP_PKEY_sign(pc, sig, &slen, chal, clen) == 1;
        EVP_PKEY_CTX_free(pc);
        if (!ok)
            return 0x6A80;
        if (c->k.bad_signature)
            sig[slen / 2] ^= 0x01;
        size_t n = put_tl(out, 0x7C, (slen < 0x80 ? 2 : slen < 0x100 ? 3 : 4) + slen);
        n += put_tl(out + n, 0x82, slen);
        memcpy(out + n, sig, slen);
        *out_len = n + slen;
        return 0x9000;
    }
    default:
        return 0x6D00;
    }
}

size_t card_model_apdu(card_model *c, const unsigned char *apdu, size_t len, unsigned char *resp,
                       size_t cap)
{
    if (len < 4)
        return sw(resp, 0, 0x6700);
    uint8_t cla = apdu[0], ins = apdu[1], p1 = apdu[2], p2 = apdu[3];
    size_t lc = 0, le = 0;
    bool has_le = false, ext = false;
    const unsigned char *data = NULL;
    /* ISO 7816-4 5.1: the four cases, short and extended. */
    if (len == 4) {
    } else if (len == 5) {
        has_le = true;
        le = apdu[4] ? apdu[4] : 256;
    } else if (apdu[4] != 0) {
        lc = apdu[4];
        data = apdu + 5;
        if (len == 6 + lc) {
            has_le = true;
            le = apdu[len - 1] ? apdu[len - 1] : 256;
        } else if (len != 5 + lc) {
            return sw(resp, 0, 0x6700);
        }
    } else if (len == 7) {
        ext = has_le = true;
        le = (size_t)apdu[5] << 8 | apdu[6];
        le = le ? le : 65536;
    } else if (len >= 7) {
        ext = true;
        lc = (size_t)apdu[5] << 8 | apdu[6];
        data = apdu + 7;
        if (len == 9 + lc) {
            has_le = true;
            le = (size_t)apdu[len - 2] << 8 | apdu[len - 1];
            le = le ? le : 65536;
        } else if (len != 7 + lc) {
            return sw(resp, 0, 0x6700);
        }
    } else {
        return sw(resp, 0, 0x6700);
    }
    if (ins == 0xC0) { /* GET RESPONSE */
        c->k.get_responses++;
        size_t rest = c->pending_len - c->pending_off;
        if (rest == 0)
            return sw(resp, 0, 0x6985);
        size_t n = rest < le ? rest : le;
        if (!ext && n > (size_t)c->k.response_chunk)
            n = (size_t)c->k.response_chunk;
        memcpy(resp, c->pending + c->pending_off, n);
        c->pending_off += n;
        rest -= n;
        return sw(resp, n, rest ? (uint16_t)(0x6100 | (rest > 255 ? 0 : rest)) : 0x9000);
    }
    c->pending_len = c->pending_off = 0;
    if (cla & 0x10) { /* a chained block: keep it */
        c->k.chained_blocks++;
        if (c->chaining && c->chain_ins != ins)
            c->chain_len = 0;
        if (c->chain_len + lc > sizeof c->chain)
            return sw(resp, 0, 0x6700);
        memcpy(c->chain + c->chain_len, data, lc);
        c->chain_len += lc;
        c->chain_ins = ins;
        c->chaining = true;
        return sw(resp, 0, 0x9000);
    }
    unsigned char whole[CARD_BUF];
    if (c->chaining) {
        c->chaining = false;
        if (c->chain_ins != ins || c->chain_len + lc > sizeof whole) {
            c->chain_len = 0;
            return sw(resp, 0, 0x6883); /* last command of the chain expected */
        }
        memcpy(whole, c->chain, c->chain_len);
        if (lc)
            memcpy(whole + c->chain_len, data, lc);
        lc += c->chain_len;
        data = whole;
        c->chain_len = 0;
    }
    size_t out_len = 0;
    uint16_t s = card_exec(c, ins, p1, p2, data, lc, data != NULL, c->pending, &out_len);
    if (out_len == 0 || !has_le)
        return sw(resp, 0, s);
    if (!ext && c->k.wrong_le_once > 0 && out_len <= 256 && le != out_len) {
        /* Wrong length: "resend with Le = xx" (the command is re-executed). */
        c->k.wrong_le_once--;
        c->k.wrong_le_sent++;
        return sw(resp, 0, (uint16_t)(0x6C00 | (out_len & 0xFF)));
    }
    size_t n = out_len < le ? out_len : le;
    if (!ext && n > (size_t)c->k.response_chunk)
        n = (size_t)c->k.response_chunk;
    if (n + 2 > cap)
        n = cap - 2;
    memcpy(resp, c->pending, n);
    c->pending_len = out_len;
    c->pending_off = n;
    size_t rest = out_len - n;
    if (rest && s == 0x9000)
        return sw(resp, n, (uint16_t)(0x6100 | (rest > 255 ? 0 : rest)));
    return sw(resp, n, s);
}

int card_model_transmit(void *ctx, const unsigned char *apdu, size_t len, unsigned char *resp,
                        size_t cap, size_t *resp_len, sohoa_err *err)
{
    *resp_len = card_model_apdu(ctx, apdu, len, resp, cap);
    return 0;
}

/* ======================================================================== */
/* USB CCID reader under umockdev                                           */
/* ======================================================================== */

#define EP_OUT 0x01
#define EP_IN 0x82
#define EP_INTR 0x83
#define BUSNUM 1
#define DEVNUM 2
#define SYSPATH "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
#define DEVNODE "/dev/bus/usb/001/002"

typedef struct urb {
    UMockdevIoctlData *urbd; /* the client's struct usbdevfs_urb (local copy) */
    UMockdevIoctlData *bufd; /* its buffer; NULL for zero length */
} urb;

struct ccid_model {
    GMutex lock;
    UMockdevTestbed *tb;
    UMockdevIoctlBase *handler;
    char *syspath;
    char *device_text;
    ccid_model_config cfg;
    card_model *card;
    /* reader state */
    bool present, powered, unplugged;
    uint8_t unplug_ins;
    int time_ext;
    ccid_fault fault;
    bool halt_out, halt_in, stall_out_next, stall_in_next;
    unsigned char xchain[CARD_BUF * 2]; /* command being chained in */
    size_t xchain_len;
    unsigned char rchain[CARD_BUF * 2]; /* response being chained out */
    size_t rchain_len, rchain_off;
    /* URBs */
    GQueue done;      /* completed, waiting to be reaped */
    GQueue bulk_in;   /* waiting for a response */
    GQueue intr_in;   /* waiting for a notification */
    GQueue discarded; /* cancelled, reaped with -ENOENT */
    GQueue frames;    /* GBytes: bulk-in frames to send */
    GQueue notes;     /* GBytes: interrupt messages */
    ccid_model_stats st;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Device + configuration descriptors, as the kernel exposes them. */
static size_t build_descriptors(const ccid_model_config *cfg, unsigned char *d)
{
    size_t n = 0;
    int neps = cfg->no_interrupt ? 2 : 3;
    uint8_t dlen = cfg->descriptor_len ? cfg->descriptor_len : 54;
    size_t total = 9 + 9 + dlen + 7u * neps;
    const unsigned char dev[18] = {18,
                                   1,
                                   0x10,
                                   0x01,
                                   0,
                                   0,
                                   0,
                                   64,
                                   cfg->vid & 0xFF,
                                   cfg->vid >> 8,
                                   cfg->pid & 0xFF,
                                   cfg->pid >> 8,
                                   0x00,
                                   0x01,
                                   0,
                                   0,
                                   0,
                                   1};
    memcpy(d + n, dev, 18);
    n += 18;
    const unsigned char conf[9] = {9, 2, total & 0xFF, total >> 8, 1, 1, 0, 0x80, 50};
    memcpy(d + n, conf, 9);
    n += 9;
    const unsigned char itf[9] = {9, 4, 0, 0, (unsigned char)neps, cfg->vendor_class ? 0xFF : 0x0B,
                                  0, 0, 0};
    memcpy(d + n, itf, 9);
    n += 9;
    unsigned char cd[255];
    memset(cd, 0, sizeof cd);
    cd[0] = dlen;
    cd[1] = 0x21;
    cd[2] = 0x10; /* bcdCCID 1.10 */
    cd[3] = 0x01;
    cd[4] = 0;            /* one slot */
    cd[5] = 0x07;         /* 5V, 3V, 1.8V */
    put32(cd + 6, 0x03);  /* T=0, T=1 */
    put32(cd + 10, 4000); /* default clock, kHz */
    put32(cd + 14, 4000);
    put32(cd + 19, 10752); /* data rate */
    put32(cd + 23, 10752);
    put32(cd + 28, 254); /* IFSD */
    put32(cd + 40, cfg->features);
    put32(cd + 44, cfg->max_message);
    cd[48] = 0xFF;
    cd[49] = 0xFF;
    cd[53] = 1;
    memcpy(d + n, cd, dlen);
    n += dlen;
    const unsigned char eps[3][7] = {
        {7, 5, EP_OUT, 2, 64, 0, 0}, {7, 5, EP_IN, 2, 64, 0, 0}, {7, 5, EP_INTR, 3, 8, 0, 16}};
    for (int i = 0; i < neps; i++) {
        memcpy(d + n, eps[i], 7);
        n += 7;
    }
    return n;
}

static char *device_description(const ccid_model_config *cfg)
{
    unsigned char d[512];
    size_t n = build_descriptors(cfg, d);
    GString *hex = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(hex, "%02X", d[i]);
    char *s = g_strdup_printf("P: /devices/pci0000:00/0000:00:14.0/usb1/1-2\n"
                              "N: bus/usb/%03d/%03d=%s\n"
                              "E: DEVNAME=" DEVNODE "\n"
                              "E: DEVTYPE=usb_device\n"
                              "E: DRIVER=usb\n"
                              "E: PRODUCT=%x/%x/100\n"
                              "E: TYPE=0/0/0\n"
                              "E: BUSNUM=%03d\n"
                              "E: DEVNUM=%03d\n"
                              "E: MAJOR=189\n"
                              "E: MINOR=1\n"
                              "E: SUBSYSTEM=usb\n"
                              "A: bConfigurationValue=1\n"
                              "A: bDeviceClass=00\n"
                              "A: bNumConfigurations=1\n"
                              "A: bNumInterfaces= 1\n"
                              "A: busnum=%d\n"
                              "A: devnum=%d\n"
                              "A: devpath=2\n"
                              "A: dev=189:1\n"
                              "A: idVendor=%04x\n"
                              "A: idProduct=%04x\n"
                              "A: speed=12\n"
                              "H: descriptors=%s\n",
                              BUSNUM, DEVNUM, hex->str, cfg->vid, cfg->pid, BUSNUM, DEVNUM, BUSNUM,
                              DEVNUM, cfg->vid, cfg->pid, hex->str);
    g_string_free(hex, TRUE);
    return s;
}

/* Queues one bulk-in frame. */
static void queue_frame(ccid_model *m, const unsigned char *f, size_t n)
{
    g_queue_push_tail(&m->frames, g_bytes_new(f, n));
}

static void frame_header(unsigned char *f, uint8_t type, size_t dlen, uint8_t slot, uint8_t seq,
                         uint8_t b7, uint8_t b8, uint8_t b9)
{
    f[0] = type;
    put32(f + 1, (uint32_t)dlen);
    f[5] = slot;
    f[6] = seq;
    f[7] = b7;
    f[8] = b8;
    f[9] = b9;
}

static uint8_t icc_status(const ccid_model *m)
{
    return !m->present ? 2 : m->powered ? 0 : 1;
}

/* Queues an answer frame, with the pending time extensions before it and
 * the pending fault applied to it. */
static void answer(ccid_model *m, uint8_t type, uint8_t seq, uint8_t status, uint8_t error,
                   uint8_t chain, const unsigned char *data, size_t dlen)
{
    unsigned char f[10 + CARD_BUF];
    for (; m->time_ext > 0; m->time_ext--) {
        frame_header(f, 0x80, 0, 0, seq, 0x80 | icc_status(m), 0x01, 0);
        queue_frame(m, f, 10);
    }
    frame_header(f, type, dlen, 0, seq, status, error, chain);
    if (dlen)
        memcpy(f + 10, data, dlen);
    size_t n = 10 + dlen;
    switch (m->fault) {
    case CCID_FAULT_LENGTH:
        put32(f + 1, (uint32_t)dlen + 1);
        break;
    case CCID_FAULT_TYPE:
        f[0] = 0x81;
        break;
    case CCID_FAULT_SEQ:
        f[6] = (uint8_t)(seq + 7);
        break;
    case CCID_FAULT_OVERSIZE:
        put32(f + 1, 0x10000);
        break;
    case CCID_FAULT_STALE: {
        unsigned char old[10];
        frame_header(old, 0x80, 0, 0, (uint8_t)(seq - 1), icc_status(m), 0, 0);
        queue_frame(m, old, 10);
        break;
    }
    case CCID_FAULT_NONE:
        break;
    }
    m->fault = CCID_FAULT_NONE;
    queue_frame(m, f, n);
}

/* Sends the (next part of the) response in rchain as DataBlocks. */
static void answer_response(ccid_model *m, uint8_t seq)
{
    size_t max = m->cfg.max_message - 10;
    size_t rest = m->rchain_len - m->rchain_off;
    uint8_t chain;
    size_t n = rest;
    if (m->rchain_off == 0 && rest <= max) {
        chain = 0x00;
    } else if (rest > max) {
        n = max;
        chain = m->rchain_off == 0 ? 0x01 : 0x03;
    } else {
        chain = 0x02;
    }
    if (chain)
        m->st.chained_out++;
    answer(m, 0x80, seq, icc_status(m), 0, chain, m->rchain + m->rchain_off, n);
    m->rchain_off += n;
    if (m->rchain_off == m->rchain_len)
        m->rchain_len = m->rchain_off = 0;
}

/* The device leaves the bus (lock held). Like the kernel with
 * USBDEVFS_CAP_REAP_AFTER_DISCONNECT, URBs in flight complete with
 * -ESHUTDOWN and can still be reaped; every other ioctl fails with ENODEV.
 * (The kernel also raises POLLERR on the usbfs fd, which libusb uses to
 * notice a disconnect; the testbed's node cannot, so the URBs must finish
 * this way or a synchronous transfer would wait forever.) */
static void go_away(ccid_model *m)
{
    urb *u;
    m->unplugged = true;
    while ((u = g_queue_pop_head(&m->bulk_in)) || (u = g_queue_pop_head(&m->intr_in))) {
        ((struct usbdevfs_urb *)u->urbd->data)->status = -ESHUTDOWN;
        ((struct usbdevfs_urb *)u->urbd->data)->actual_length = 0;
        g_queue_push_tail(&m->done, u);
    }
}

/* Handles one PC_to_RDR message from the bulk-out endpoint. */
static void reader_message(ccid_model *m, const unsigned char *msg, size_t len)
{
    if (len < 10) {
        return; /* a real reader ignores garbage shorter than a header */
    }
    uint8_t type = msg[0], seq = msg[6];
    size_t dlen =
        (size_t)msg[1] | (size_t)msg[2] << 8 | (size_t)msg[3] << 16 | (size_t)msg[4] << 24;
    if (dlen + 10 != len) {
        answer(m, 0x81, seq, 0x40 | icc_status(m), 0x01, 0, NULL, 0); /* bad dwLength */
        return;
    }
    const unsigned char *data = msg + 10;
    switch (type) {
    case 0x62: { /* IccPowerOn */
        m->st.power_ons++;
        if (!m->present || !m->card) {
            answer(m, 0x80, seq, 0x40 | 2, 0xFE, 0, NULL, 0);
            return;
        }
        static const unsigned char atr[] = {0x3B, 0x80, 0x80, 0x01, 0x01};
        m->powered = true;
        card_model_reset(m->card);
        answer(m, 0x80, seq, 0, 0, 0, atr, sizeof atr);
        return;
    }
    case 0x63: /* IccPowerOff */
        m->powered = false;
        answer(m, 0x81, seq, icc_status(m), 0, 1, NULL, 0);
        return;
    case 0x65: /* GetSlotStatus */
        answer(m, 0x81, seq, icc_status(m), 0, 0, NULL, 0);
        return;
    case 0x6F: { /* XfrBlock */
        m->st.xfr_blocks++;
        uint16_t level = (uint16_t)(msg[8] | msg[9] << 8);
        if (!m->present || !m->powered) {
            answer(m, 0x80, seq, 0x40 | icc_status(m), 0xFE, 0, NULL, 0);
            return;
        }
        if (level == 0x10) { /* next part of a chained response */
            if (m->rchain_len == 0)
                answer(m, 0x80, seq, 0x40, 0x07, 0, NULL, 0); /* bad wLevelParameter */
            else
                answer_response(m, seq);
            return;
        }
        if (level == 1 || level == 3 || level == 2)
            m->st.chained_in++;
        if (level == 1)
            m->xchain_len = 0;
        if (level != 0) {
            if (m->xchain_len + dlen > sizeof m->xchain) {
                answer(m, 0x80, seq, 0x40, 0x01, 0, NULL, 0);
                return;
            }
            memcpy(m->xchain + m->xchain_len, data, dlen);
            m->xchain_len += dlen;
            if (level != 2) {
                answer(m, 0x80, seq, 0, 0, 0x10, NULL, 0); /* more command data expected */
                return;
            }
            data = m->xchain;
            dlen = m->xchain_len;
        }
        if (m->unplug_ins && dlen >= 2 && data[1] == m->unplug_ins) {
            go_away(m); /* gone before it could answer */
            return;
        }
        m->rchain_len = card_model_apdu(m->card, data, dlen, m->rchain, sizeof m->rchain);
        m->rchain_off = 0;
        m->xchain_len = 0;
        answer_response(m, seq);
        return;
    }
    default: /* command not supported */
        answer(m, 0x81, seq, 0x40 | icc_status(m), 0x00, 0, NULL, 0);
        return;
    }
}

static void urb_free(urb *u)
{
    if (u->bufd)
        g_object_unref(u->bufd);
    g_object_unref(u->urbd);
    g_free(u);
}

static struct usbdevfs_urb *urb_struct(urb *u)
{
    return (struct usbdevfs_urb *)u->urbd->data;
}

/* Fills a waiting IN URB from a queue of frames. */
static void fill_in(urb *u, GBytes *b)
{
    struct usbdevfs_urb *s = urb_struct(u);
    gsize n = 0;
    const unsigned char *p = g_bytes_get_data(b, &n);
    if ((int)n > s->buffer_length) {
        n = (gsize)s->buffer_length;
        s->status = -EOVERFLOW;
    } else {
        s->status = 0;
    }
    if (n && u->bufd)
        memcpy(u->bufd->data, p, n);
    s->actual_length = (int)n;
}

/* Moves IN URBs that can now complete to the done queue. */
static void progress(ccid_model *m)
{
    while (!g_queue_is_empty(&m->bulk_in) && (!g_queue_is_empty(&m->frames) || m->stall_in_next)) {
        urb *u = g_queue_pop_head(&m->bulk_in);
        if (m->stall_in_next || m->halt_in) {
            m->stall_in_next = false;
            m->halt_in = true;
            urb_struct(u)->status = -EPIPE;
            urb_struct(u)->actual_length = 0;
        } else {
            GBytes *b = g_queue_pop_head(&m->frames);
            fill_in(u, b);
            g_bytes_unref(b);
        }
        g_queue_push_tail(&m->done, u);
    }
    while (!g_queue_is_empty(&m->intr_in) && !g_queue_is_empty(&m->notes)) {
        urb *u = g_queue_pop_head(&m->intr_in);
        GBytes *b = g_queue_pop_head(&m->notes);
        fill_in(u, b);
        g_bytes_unref(b);
        g_queue_push_tail(&m->done, u);
    }
}

static gboolean submit(ccid_model *m, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    GError *error = NULL;
    UMockdevIoctlData *urbd =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &error);
    if (!urbd) {
        g_clear_error(&error);
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return TRUE;
    }
    struct usbdevfs_urb *s = (struct usbdevfs_urb *)urbd->data;
    urb *u = g_new0(urb, 1);
    u->urbd = urbd;
    if (s->buffer_length > 0)
        u->bufd = umockdev_ioctl_data_resolve(urbd, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer),
                                              (gsize)s->buffer_length, &error);
    g_clear_error(&error);
    s->status = 0;
    s->actual_length = 0;
    if (s->endpoint == EP_OUT && s->type == USBDEVFS_URB_TYPE_BULK) {
        if (m->stall_out_next || m->halt_out) {
            m->stall_out_next = false;
            m->halt_out = true;
            s->status = -EPIPE;
        } else {
            reader_message(m, u->bufd ? u->bufd->data : NULL, (size_t)s->buffer_length);
            s->actual_length = s->buffer_length;
        }
        g_queue_push_tail(&m->done, u);
    } else if (s->endpoint == EP_IN && s->type == USBDEVFS_URB_TYPE_BULK) {
        g_queue_push_tail(&m->bulk_in, u);
    } else if (s->endpoint == EP_INTR && s->type == USBDEVFS_URB_TYPE_INTERRUPT) {
        g_queue_push_tail(&m->intr_in, u);
    } else {
        s->status = -EPIPE; /* control and unknown endpoints: stall */
        g_queue_push_tail(&m->done, u);
    }
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
}

static gboolean reap(ccid_model *m, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    progress(m);
    urb *u = g_queue_pop_head(&m->discarded);
    if (u) {
        urb_struct(u)->status = -ENOENT;
        urb_struct(u)->actual_length = 0;
    } else {
        u = g_queue_pop_head(&m->done);
    }
    if (!u) {
        umockdev_ioctl_client_complete(client, -1, m->unplugged ? ENODEV : EAGAIN);
        return TRUE;
    }
    GError *error = NULL;
    /* arg points to the caller's `void *`; make it point to the URB (whose
     * local copy, with status and data, is written back on completion). */
    UMockdevIoctlData *slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &error);
    g_clear_error(&error);
    if (!slot) {
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        urb_free(u);
        return TRUE;
    }
    umockdev_ioctl_data_set_ptr(slot, 0, u->urbd);
    umockdev_ioctl_client_complete(client, 0, 0);
    g_object_unref(slot);
    urb_free(u);
    return TRUE;
}

static bool discard_from(GQueue *q, GQueue *to, unsigned long addr)
{
    for (GList *l = q->head; l; l = l->next) {
        urb *u = l->data;
        if (u->urbd->client_addr == addr) {
            g_queue_delete_link(q, l);
            g_queue_push_tail(to, u);
            return true;
        }
    }
    return false;
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user)
{
    ccid_model *m = user;
    gulong req = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    gboolean handled = TRUE;
    g_mutex_lock(&m->lock);
    if (m->unplugged && req != USBDEVFS_REAPURB && req != USBDEVFS_REAPURBNDELAY &&
        req != USBDEVFS_DISCARDURB) {
        umockdev_ioctl_client_complete(client, -1, ENODEV);
        g_mutex_unlock(&m->lock);
        return TRUE;
    }
    switch (req) {
    case USBDEVFS_GET_CAPABILITIES: {
        GError *error = NULL;
        UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(uint32_t), &error);
        g_clear_error(&error);
        if (d) {
            *(uint32_t *)d->data = USBDEVFS_CAP_BULK_CONTINUATION |
                                   USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                                   USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
            g_object_unref(d);
        }
        umockdev_ioctl_client_complete(client, d ? 0 : -1, d ? 0 : EFAULT);
        break;
    }
    case USBDEVFS_CLAIMINTERFACE:
        m->st.claims++;
        umockdev_ioctl_client_complete(client, 0, 0);
        break;
    case USBDEVFS_CLEAR_HALT: {
        GError *error = NULL;
        UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned int), &error);
        g_clear_error(&error);
        unsigned ep = d ? *(unsigned int *)d->data : 0;
        if (d)
            g_object_unref(d);
        m->st.clear_halts++;
        if (ep == EP_OUT)
            m->halt_out = false;
        if (ep == EP_IN)
            m->halt_in = false;
        umockdev_ioctl_client_complete(client, 0, 0);
        break;
    }
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_SETINTERFACE:
    case USBDEVFS_SETCONFIGURATION:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
        umockdev_ioctl_client_complete(client, 0, 0);
        break;
    case USBDEVFS_GETDRIVER:
    case USBDEVFS_IOCTL:
        umockdev_ioctl_client_complete(client, -1, ENODATA); /* no kernel driver bound */
        break;
    case USBDEVFS_SUBMITURB:
        submit(m, client, arg);
        break;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
        reap(m, client, arg);
        break;
    case USBDEVFS_DISCARDURB: {
        unsigned long addr = *(unsigned long *)arg->data;
        bool found = discard_from(&m->bulk_in, &m->discarded, addr) ||
                     discard_from(&m->intr_in, &m->discarded, addr) ||
                     discard_from(&m->done, &m->discarded, addr);
        if (found)
            m->st.discards++;
        umockdev_ioctl_client_complete(client, found ? 0 : -1,
                                       found          ? 0
                                       : m->unplugged ? ENODEV
                                                      : EINVAL);
        break;
    }
    default:
        umockdev_ioctl_client_complete(client, -1, ENOTTY);
        break;
    }
    g_mutex_unlock(&m->lock);
    return handled;
}

ccid_model *ccid_model_new(const ccid_model_config *config, card_model *card)
{
    ccid_model *m = g_new0(ccid_model, 1);
    g_mutex_init(&m->lock);
    if (config)
        m->cfg = *config;
    if (!m->cfg.vid && !m->cfg.pid) {
        m->cfg.vid = 0x096e;
        m->cfg.pid = 0x0807;
    }
    if (!m->cfg.features)
        m->cfg.features = 0x000400BA; /* automatic everything, extended APDU level */
    if (!m->cfg.max_message)
        m->cfg.max_message = 271;
    m->card = card;
    m->present = card != NULL;
    m->tb = umockdev_testbed_new();
    m->device_text = device_description(&m->cfg);
    GError *error = NULL;
    if (!umockdev_testbed_add_from_string(m->tb, m->device_text, &error)) {
        fprintf(stderr, "ccid_model: cannot add the reader: %s\n", error->message);
        g_error_free(error);
        ccid_model_free(m);
        return NULL;
    }
    m->syspath = g_strdup(SYSPATH);
    m->handler = umockdev_ioctl_base_new();
    g_signal_connect(m->handler, "handle-ioctl", G_CALLBACK(on_ioctl), m);
    if (!umockdev_testbed_attach_ioctl(m->tb, DEVNODE, m->handler, &error)) {
        fprintf(stderr, "ccid_model: cannot attach the URB handler: %s\n", error->message);
        g_error_free(error);
        ccid_model_free(m);
        return NULL;
    }
    return m;
}

static void free_urbs(GQueue *q)
{
    urb *u;
    while ((u = g_queue_pop_head(q)))
        urb_free(u);
}

static void free_bytes(GQueue *q)
{
    GBytes *b;
    while ((b = g_queue_pop_head(q)))
        g_bytes_unref(b);
}

void ccid_model_free(ccid_model *m)
{
    if (!m)
        return;
    if (m->handler && m->tb) {
        umockdev_testbed_detach_ioctl(m->tb, DEVNODE, NULL);
    }
    if (m->tb)
        g_object_unref(m->tb);
    if (m->handler)
        g_object_unref(m->handler);
    free_urbs(&m->done);
    free_urbs(&m->bulk_in);
    free_urbs(&m->intr_in);
    free_urbs(&m->discarded);
    free_bytes(&m->frames);
    free_bytes(&m->notes);
    g_free(m->syspath);
    g_free(m->device_text);
    g_mutex_clear(&m->lock);
    g_free(m);
}

const char *ccid_model_syspath(const ccid_model *m)
{
    return m->syspath;
}

void ccid_model_time_extensions(ccid_model *m, int n)
{
    g_mutex_lock(&m->lock);
    m->time_ext = n;
    g_mutex_unlock(&m->lock);
}

void ccid_model_stall_once(ccid_model *m, uint8_t ep)
{
    g_mutex_lock(&m->lock);
    if (ep == EP_OUT)
        m->stall_out_next = true;
    else
        m->stall_in_next = true;
    g_mutex_unlock(&m->lock);
}

void ccid_model_fault_once(ccid_model *m, ccid_fault f)
{
    g_mutex_lock(&m->lock);
    m->fault = f;
    g_mutex_unlock(&m->lock);
}

void ccid_model_set_card_present(ccid_model *m, bool present, bool notify)
{
    g_mutex_lock(&m->lock);
    m->present = present && m->card;
    if (!m->present)
        m->powered = false;
    if (notify) {
        /* bmSlotICCState for slot 0: bit 0 present, bit 1 changed. */
        unsigned char note[2] = {0x50, (unsigned char)(0x02 | (m->present ? 1 : 0))};
        g_queue_push_tail(&m->notes, g_bytes_new(note, sizeof note));
    }
    g_mutex_unlock(&m->lock);
}

void ccid_model_unplug_on_ins(ccid_model *m, uint8_t ins)
{
    g_mutex_lock(&m->lock);
    m->unplug_ins = ins;
    g_mutex_unlock(&m->lock);
}

void ccid_model_unplug(ccid_model *m, bool uevent)
{
    g_mutex_lock(&m->lock);
    go_away(m);
    g_mutex_unlock(&m->lock);
    if (uevent) {
        umockdev_testbed_uevent(m->tb, m->syspath, "remove");
        umockdev_testbed_remove_device(m->tb, m->syspath);
    }
}

void ccid_model_plug(ccid_model *m)
{
    g_mutex_lock(&m->lock);
    bool was_gone = m->unplugged;
    m->unplugged = false;
    m->powered = false;
    g_mutex_unlock(&m->lock);
    if (was_gone) {
        GError *error = NULL;
        if (!umockdev_testbed_add_from_string(m->tb, m->device_text, &error)) {
            fprintf(stderr, "ccid_model: cannot re-add the reader: %s\n", error->message);
            g_error_free(error);
            return;
        }
    }
    umockdev_testbed_uevent(m->tb, m->syspath, "add");
}

ccid_model_stats ccid_model_get_stats(ccid_model *m)
{
    g_mutex_lock(&m->lock);
    ccid_model_stats s = m->st;
    g_mutex_unlock(&m->lock);
    return s;
}

int ccid_model_reexec_under_umockdev(int argc, char **argv)
{
    /* umockdev_in_mock_environment() only turns true once a testbed exists
     * (it looks at /sys), so test for the preload library itself; the
     * variable below stops a loop should the wrapper not preload it. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "libumockdev-preload"))
        return 0;
    if (getenv("SOHOA_UMOCKDEV_REEXEC")) {
        fprintf(stderr, "%s: umockdev-wrapper did not preload libumockdev-preload\n", argv[0]);
        return -1;
    }
    setenv("SOHOA_UMOCKDEV_REEXEC", "1", 1);
    /* The preload library comes before an ASan runtime linked into the
     * binary; tell ASan that this order is intended. */
    const char *asan = getenv("ASAN_OPTIONS");
    char *opts =
        g_strdup_printf("%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    g_free(opts);
    char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
    nargv[0] = "umockdev-wrapper";
    char *self = realpath("/proc/self/exe", NULL);
    nargv[1] = self ? self : argv[0];
    for (int i = 1; i < argc; i++)
        nargv[i + 1] = argv[i];
    execvp("umockdev-wrapper", nargv);
    fprintf(stderr, "%s: cannot run umockdev-wrapper (Debian package umockdev): %s\n", argv[0],
            strerror(errno));
    free(self);
    free(nargv);
    return -1;
}
