/* piv.c — ISO 7816-4 APDU layer and PIV applet (see piv.h). */

/* OpenSSL 3 has no non-deprecated call that only encodes PSS (the card does
 * the raw RSA, so EVP_PKEY_sign cannot be used): RSA_padding_add_PKCS1_PSS_mgf1
 * and EVP_PKEY_get0_RSA are kept on purpose. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "piv.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../firmware/log.h"

/* Short APDU limits: Lc up to 255 per block, Le up to 256 (coded 00). */
#define SHORT_LC 255
#define RESP_CAP (PIV_MAX_RESPONSE + 2)
/* 61xx / 6Cxx rounds before the card is declared confused. */
#define MAX_ROUNDS 300

static const unsigned char piv_aid[] = {0xA0, 0x00, 0x00, 0x03, 0x08};

/* A growing byte buffer. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const unsigned char *d, size_t n)
{
    if (b->len + n > PIV_MAX_RESPONSE)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 512;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

/* Sends one APDU and splits off the status word. */
static int send_apdu(const piv_card *c, const unsigned char *apdu, size_t len, unsigned char *rbuf,
                     size_t *rlen, uint16_t *sw, sohoa_err *err)
{
    size_t n = 0;
    if (c->transmit(c->ctx, apdu, len, rbuf, RESP_CAP, &n, err) != 0)
        return -1;
    if (n < 2)
        return err_set(err, SOHOA_EWORK, "%s: response without status word", c->name);
    *sw = (uint16_t)(rbuf[n - 2] << 8 | rbuf[n - 1]);
    *rlen = n - 2;
    return 0;
}

int piv_apdu(const piv_card *c, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
             const unsigned char *data, size_t len, bool want_data, unsigned char **resp,
             size_t *resp_len, uint16_t *sw, sohoa_err *err)
{
    unsigned char apdu[5 + SHORT_LC + 1];
    unsigned char *rbuf = malloc(RESP_CAP);
    buf out = {0};
    int rc = -1;
    if (resp)
        *resp = NULL;
    if (resp_len)
        *resp_len = 0;
    if (!rbuf)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", c->name);
    size_t rlen = 0, alen = 0, off = 0;
    /* Command chaining: every block but the last has CLA | 0x10 and must be
     * answered 9000; Le goes on the last block only. */
    for (;;) {
        size_t chunk = len - off > SHORT_LC ? SHORT_LC : len - off;
        bool last = off + chunk == len;
        alen = 0;
        apdu[alen++] = last ? cla : (uint8_t)(cla | 0x10);
        apdu[alen++] = ins;
        apdu[alen++] = p1;
        apdu[alen++] = p2;
        if (chunk) {
            apdu[alen++] = (uint8_t)chunk;
            memcpy(apdu + alen, data + off, chunk);
            alen += chunk;
        }
        if (last && want_data)
            apdu[alen++] = 0x00;
        if (send_apdu(c, apdu, alen, rbuf, &rlen, sw, err) != 0)
            goto done;
        off += chunk;
        if (last)
            break;
        if (*sw != PIV_SW_OK) {
            rc = 0; /* the card refused a block: report its status word */
            goto done;
        }
    }
    for (int round = 0;; round++) {
        if (round > MAX_ROUNDS) {
            err_set(err, SOHOA_EWORK, "%s: card keeps answering 61xx/6Cxx; replug the token",
                    c->name);
            goto done;
        }
        if ((*sw >> 8) == 0x6C) {
            /* Wrong Le: the same (last) command again with Le = SW2. */
            if (!want_data) {
                err_set(err, SOHOA_EWORK, "%s: card asked for Le on a command without data",
                        c->name);
                goto done;
            }
            apdu[alen - 1] = (uint8_t)(*sw & 0xFF);
            if (send_apdu(c, apdu, alen, rbuf, &rlen, sw, err) != 0)
                goto done;
            continue;
        }
        if (buf_add(&out, rbuf, rlen) != 0) {
            err_set(err, SOHOA_EWORK, "%s: response longer than %d bytes", c->name,
                    PIV_MAX_RESPONSE);
            goto done;
        }
        if ((*sw >> 8) != 0x61)
            break;
        /* More data waiting: GET RESPONSE with Le = SW2 (00 = 256). The
         * command to resend on a 6Cxx is now this GET RESPONSE. */
        apdu[0] = cla & 0x03; /* keep the logical channel, drop chaining */
        apdu[1] = 0xC0;
        apdu[2] = 0x00;
        apdu[3] = 0x00;
        apdu[4] = (uint8_t)(*sw & 0xFF);
        alen = 5;
        want_data = true;
        if (send_apdu(c, apdu, alen, rbuf, &rlen, sw, err) != 0)
            goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(apdu, sizeof apdu); /* may hold a PIN */
    free(rbuf);
    if (rc == 0 && resp && out.len) {
        *resp = out.p;
        if (resp_len)
            *resp_len = out.len;
    } else {
        free(out.p);
    }
    return rc;
}

size_t piv_tlv(const unsigned char *p, size_t len, unsigned *tag, const unsigned char **val,
               size_t *vlen)
{
    size_t i = 0;
    if (len < 2)
        return 0;
    unsigned t = p[i++];
    if ((t & 0x1F) == 0x1F) {
        /* Multi-byte tag: continuation bytes have bit 8 set. */
        do {
            if (i >= len || i >= 3)
                return 0;
            t = t << 8 | p[i];
        } while (p[i++] & 0x80);
    }
    if (i >= len)
        return 0;
    size_t l = p[i++];
    if (l & 0x80) {
        size_t nb = l & 0x7F;
        if (nb == 0 || nb > 3 || i + nb > len)
            return 0;
        l = 0;
        for (size_t k = 0; k < nb; k++)
            l = l << 8 | p[i++];
    }
    if (l > len - i)
        return 0;
    *tag = t;
    *val = p + i;
    *vlen = l;
    return i + l;
}

/* Finds the first TLV with `tag` among the TLVs of p[0..len). */
static const unsigned char *tlv_find(const unsigned char *p, size_t len, unsigned tag, size_t *vlen)
{
    while (len > 0) {
        unsigned t;
        const unsigned char *v;
        size_t l, used = piv_tlv(p, len, &t, &v, &l);
        if (!used)
            return NULL;
        if (t == tag) {
            *vlen = l;
            return v;
        }
        p += used;
        len -= used;
    }
    return NULL;
}

int piv_select(const piv_card *c, sohoa_err *err)
{
    uint16_t sw;
    if (piv_apdu(c, 0x00, 0xA4, 0x04, 0x00, piv_aid, sizeof piv_aid, true, NULL, NULL, &sw, err) !=
        0)
        return -1;
    if (sw == PIV_SW_NOT_FOUND)
        return err_set(err, SOHOA_EWORK,
                       "%s: the card has no PIV application; use [token] backend = pkcs11 with "
                       "the vendor's module",
                       c->name);
    if (sw != PIV_SW_OK)
        return err_set(err, SOHOA_EWORK, "%s: selecting the PIV application failed (SW %04X)",
                       c->name, sw);
    return 0;
}

int piv_pin_status(const piv_card *c, int *tries, bool *verified, sohoa_err *err)
{
    uint16_t sw;
    if (piv_apdu(c, 0x00, 0x20, 0x00, PIV_PIN_REF, NULL, 0, false, NULL, NULL, &sw, err) != 0)
        return -1;
    *verified = false;
    *tries = -1;
    if (sw == PIV_SW_OK) {
        *verified = true;
        return 0;
    }
    if ((sw & 0xFFF0) == 0x63C0) {
        *tries = sw & 0x0F;
        return 0;
    }
    if (sw == PIV_SW_BLOCKED) {
        *tries = 0;
        return 0;
    }
    return err_set(err, SOHOA_EWORK,
                   "%s: the card does not report its PIN retry counter (SW %04X); refusing to "
                   "try the PIN blind",
                   c->name, sw);
}

static int blocked_error(const piv_card *c, sohoa_err *err)
{
    return err_set(err, SOHOA_EWORK,
                   "%s: PIN blocked; unblock it with the PUK (or have the CA reset the token)",
                   c->name);
}

int piv_verify_pin(const piv_card *c, const char *pin, sohoa_err *err)
{
    size_t n = pin ? strlen(pin) : 0;
    if (n == 0)
        return err_set(err, SOHOA_EINPUT, "%s: no PIN given; set [token] pin_file", c->name);
    if (n < 6 || n > 8)
        return err_set(err, SOHOA_EINPUT,
                       "%s: the PIN in [token] pin_file is not 6 to 8 characters long (PIV); "
                       "not trying it",
                       c->name);
    int tries;
    bool verified;
    if (piv_pin_status(c, &tries, &verified, err) != 0)
        return -1;
    if (verified)
        return 0;
    if (tries == 0)
        return blocked_error(c, err);
    if (tries == 1)
        return err_set(err, SOHOA_EWORK,
                       "%s: only 1 PIN try left; refusing to try, since a wrong PIN would block "
                       "the token; check [token] pin_file, then reset the counter with the PIN "
                       "or PUK in the CA's tool",
                       c->name);
    unsigned char block[8];
    memset(block, 0xFF, sizeof block);
    memcpy(block, pin, n);
    uint16_t sw;
    int rc = piv_apdu(c, 0x00, 0x20, 0x00, PIV_PIN_REF, block, sizeof block, false, NULL, NULL, &sw,
                      err);
    OPENSSL_cleanse(block, sizeof block);
    if (rc != 0)
        return -1;
    if (sw == PIV_SW_OK)
        return 0;
    if ((sw & 0xFFF0) == 0x63C0) {
        int left = sw & 0x0F;
        return err_set(err, SOHOA_EWORK, "%s: wrong PIN (%d %s left); check [token] pin_file",
                       c->name, left, left == 1 ? "try" : "tries");
    }
    if (sw == PIV_SW_BLOCKED)
        return blocked_error(c, err);
    return err_set(err, SOHOA_EWORK, "%s: PIN verification failed (SW %04X)", c->name, sw);
}

/* Inflates a gzip or zlib stream (PIV certinfo bit 0: compressed). */
static int inflate_cert(const piv_card *c, const unsigned char *in, size_t len, unsigned char **out,
                        size_t *out_len, sohoa_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* +32: detect gzip or zlib header */
        return err_set(err, SOHOA_EWORK, "%s: cannot start zlib", c->name);
    unsigned char *o = malloc(PIV_MAX_RESPONSE);
    if (!o) {
        inflateEnd(&zs);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", c->name);
    }
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = o;
    zs.avail_out = PIV_MAX_RESPONSE;
    int zr = inflate(&zs, Z_FINISH);
    size_t n = zs.total_out;
    inflateEnd(&zs);
    if (zr != Z_STREAM_END) {
        free(o);
        return err_set(err, SOHOA_EWORK,
                       "%s: the compressed certificate on the card is corrupt or too large",
                       c->name);
    }
    *out = o;
    *out_len = n;
    return 0;
}

int piv_read_certificate(const piv_card *c, unsigned char **der, size_t *der_len, sohoa_err *err)
{
    static const unsigned char tag_list[] = {0x5C, 0x03, 0x5F, 0xC1, 0x0A};
    unsigned char *obj = NULL;
    size_t len = 0;
    uint16_t sw;
    *der = NULL;
    if (piv_apdu(c, 0x00, 0xCB, 0x3F, 0xFF, tag_list, sizeof tag_list, true, &obj, &len, &sw,
                 err) != 0)
        return -1;
    int rc = -1;
    if (sw == PIV_SW_NOT_FOUND || (sw == PIV_SW_OK && len == 0)) {
        err_set(err, SOHOA_EWORK,
                "%s: no certificate for the digital signature key (9C); load one with the CA's "
                "tool",
                c->name);
        goto done;
    }
    if (sw != PIV_SW_OK) {
        err_set(err, SOHOA_EWORK, "%s: reading the signature certificate failed (SW %04X)", c->name,
                sw);
        goto done;
    }
    size_t olen = 0, clen = 0, ilen = 0;
    const unsigned char *o = tlv_find(obj, len, 0x53, &olen);
    const unsigned char *cert = o ? tlv_find(o, olen, 0x70, &clen) : NULL;
    const unsigned char *info = o ? tlv_find(o, olen, 0x71, &ilen) : NULL;
    if (!cert || clen == 0) {
        err_set(err, SOHOA_EWORK, "%s: the signature certificate object is malformed", c->name);
        goto done;
    }
    if (info && ilen >= 1 && (info[0] & 0x01)) {
        if (inflate_cert(c, cert, clen, der, der_len, err) != 0)
            goto done;
    } else {
        *der = malloc(clen);
        if (!*der) {
            err_set(err, SOHOA_EWORK, "%s: out of memory", c->name);
            goto done;
        }
        memcpy(*der, cert, clen);
        *der_len = clen;
    }
    rc = 0;
done:
    free(obj);
    return rc;
}

/* Appends a TLV header (tag, definite length) to b. */
static int put_tl(buf *b, unsigned char tag, size_t len)
{
    unsigned char h[4];
    size_t n = 0;
    h[n++] = tag;
    if (len < 0x80) {
        h[n++] = (unsigned char)len;
    } else if (len < 0x100) {
        h[n++] = 0x81;
        h[n++] = (unsigned char)len;
    } else {
        h[n++] = 0x82;
        h[n++] = (unsigned char)(len >> 8);
        h[n++] = (unsigned char)len;
    }
    return buf_add(b, h, n);
}

static size_t tl_size(size_t len)
{
    return 1 + (len < 0x80 ? 1 : len < 0x100 ? 2 : 3);
}

int piv_general_authenticate(const piv_card *c, uint8_t alg, uint8_t key,
                             const unsigned char *challenge, size_t challenge_len,
                             unsigned char **out, size_t *out_len, sohoa_err *err)
{
    *out = NULL;
    if (challenge_len > 1024)
        return err_set(err, SOHOA_EWORK, "%s: challenge of %zu bytes is too long", c->name,
                       challenge_len);
    buf cmd = {0};
    size_t inner = 2 + tl_size(challenge_len) + challenge_len;
    static const unsigned char empty82[2] = {0x82, 0x00};
    if (put_tl(&cmd, 0x7C, inner) != 0 || buf_add(&cmd, empty82, 2) != 0 ||
        put_tl(&cmd, 0x81, challenge_len) != 0 || buf_add(&cmd, challenge, challenge_len) != 0) {
        free(cmd.p);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", c->name);
    }
    unsigned char *resp = NULL;
    size_t rlen = 0;
    uint16_t sw;
    int rc = piv_apdu(c, 0x00, 0x87, alg, key, cmd.p, cmd.len, true, &resp, &rlen, &sw, err);
    free(cmd.p);
    if (rc != 0)
        return -1;
    rc = -1;
    if (sw == PIV_SW_SECURITY) {
        err_set(err, SOHOA_EWORK, "%s: the card wants the PIN verified before signing", c->name);
    } else if (sw == PIV_SW_NOT_FOUND || sw == 0x6A80 || sw == 0x6A86) {
        err_set(err, SOHOA_EWORK,
                "%s: the card has no key %02X for algorithm %02X (SW %04X); check the token's "
                "contents",
                c->name, key, alg, sw);
    } else if (sw != PIV_SW_OK) {
        err_set(err, SOHOA_EWORK, "%s: signing failed (SW %04X)", c->name, sw);
    } else {
        size_t tlen, slen;
        const unsigned char *t = tlv_find(resp, rlen, 0x7C, &tlen);
        const unsigned char *s = t ? tlv_find(t, tlen, 0x82, &slen) : NULL;
        if (!s || slen == 0) {
            err_set(err, SOHOA_EWORK, "%s: malformed GENERAL AUTHENTICATE response", c->name);
        } else if (!(*out = malloc(slen))) {
            err_set(err, SOHOA_EWORK, "%s: out of memory", c->name);
        } else {
            memcpy(*out, s, slen);
            *out_len = slen;
            rc = 0;
        }
    }
    free(resp);
    return rc;
}

int piv_algorithm_for_key(EVP_PKEY *pub, uint8_t *alg, sohoa_err *err)
{
    int id = EVP_PKEY_get_base_id(pub), bits = EVP_PKEY_get_bits(pub);
    if (id == EVP_PKEY_RSA && bits == 2048) {
        *alg = PIV_ALG_RSA_2048;
        return 0;
    }
    if (id == EVP_PKEY_EC && bits == 256) {
        *alg = PIV_ALG_ECC_P256;
        return 0;
    }
    if (id == EVP_PKEY_EC && bits == 384) {
        *alg = PIV_ALG_ECC_P384;
        return 0;
    }
    return err_set(err, SOHOA_EWORK,
                   "PIV: the signature certificate holds a %s key of %d bits; supported are RSA "
                   "2048, ECDSA P-256 and P-384",
                   id == EVP_PKEY_RSA  ? "RSA"
                   : id == EVP_PKEY_EC ? "EC"
                                       : "non-RSA/EC",
                   bits);
}

/* Builds the k-byte block the card raises to d: EMSA-PKCS1-v1_5 or EMSA-PSS. */
static int rsa_block(const piv_card *c, EVP_PKEY *pub, token_sig_scheme scheme, int md_nid,
                     const unsigned char *digest, size_t dlen, unsigned char *em, size_t k,
                     sohoa_err *err)
{
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    if (!md || (size_t)EVP_MD_get_size(md) != dlen)
        return err_set(err, SOHOA_EINPUT, "%s: digest of %zu bytes does not match its algorithm",
                       c->name, dlen);
    if (scheme == TOKEN_SIG_RSA_PKCS1) {
        unsigned char di[19 + 64];
        int dilen = token_digest_info(md_nid, digest, dlen, di, sizeof di, err);
        if (dilen < 0)
            return -1;
        if (RSA_padding_add_PKCS1_type_1(em, (int)k, di, dilen) != 1)
            return err_set(err, SOHOA_EWORK, "%s: cannot build the PKCS#1 block", c->name);
        return 0;
    }
    const RSA *rsa = EVP_PKEY_get0_RSA(pub);
    if (!rsa ||
        RSA_padding_add_PKCS1_PSS_mgf1((RSA *)rsa, em, digest, md, md, RSA_PSS_SALTLEN_DIGEST) != 1)
        return err_set(err, SOHOA_EWORK, "%s: cannot build the PSS encoding", c->name);
    return 0;
}

/* Checks a signature against the certificate's key: a card whose key does
 * not match its certificate must not produce a "signed" document. */
static int check_signature(const piv_card *c, EVP_PKEY *pub, token_sig_scheme scheme, int md_nid,
                           const unsigned char *digest, size_t dlen, const unsigned char *sig,
                           size_t slen, sohoa_err *err)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pub, NULL);
    int ok = pc && EVP_PKEY_verify_init(pc) == 1;
    if (ok && scheme != TOKEN_SIG_ECDSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, scheme == TOKEN_SIG_RSA_PSS
                                                  ? RSA_PKCS1_PSS_PADDING
                                                  : RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pc, EVP_get_digestbynid(md_nid)) == 1;
        if (ok && scheme == TOKEN_SIG_RSA_PSS)
            ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    ok = ok && EVP_PKEY_verify(pc, sig, slen, digest, dlen) == 1;
    EVP_PKEY_CTX_free(pc);
    if (!ok)
        return err_set(err, SOHOA_EWORK,
                       "%s: the card's signature does not verify with its certificate; the key "
                       "in slot 9C and the certificate do not match",
                       c->name);
    return 0;
}

int piv_sign_digest(const piv_card *c, EVP_PKEY *pub, token_sig_scheme scheme, int md_nid,
                    const unsigned char *digest, size_t digest_len, unsigned char **sig,
                    size_t *sig_len, sohoa_err *err)
{
    uint8_t alg;
    *sig = NULL;
    if (piv_algorithm_for_key(pub, &alg, err) != 0)
        return -1;
    bool rsa = EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA;
    if (rsa != (scheme != TOKEN_SIG_ECDSA) ||
        (scheme != TOKEN_SIG_RSA_PKCS1 && scheme != TOKEN_SIG_RSA_PSS && scheme != TOKEN_SIG_ECDSA))
        return err_set(err, SOHOA_EINPUT, "%s: signature scheme %d does not fit a%s key", c->name,
                       (int)scheme, rsa ? "n RSA" : "n EC");
    unsigned char in[512];
    size_t in_len;
    if (rsa) {
        in_len = (size_t)EVP_PKEY_get_size(pub);
        if (in_len > sizeof in ||
            rsa_block(c, pub, scheme, md_nid, digest, digest_len, in, in_len, err) != 0)
            return err_set(err, SOHOA_EWORK, "%s: cannot prepare the RSA block", c->name);
    } else {
        /* FIPS 186-4: the leftmost field-size bytes of the hash; a shorter
         * hash is left-padded with zeros so the card gets a full block. */
        in_len = (size_t)(EVP_PKEY_get_bits(pub) + 7) / 8;
        if (digest_len >= in_len) {
            memcpy(in, digest, in_len);
        } else {
            memset(in, 0, in_len - digest_len);
            memcpy(in + in_len - digest_len, digest, digest_len);
        }
    }
    unsigned char *out = NULL;
    size_t out_len = 0;
    int rc = piv_general_authenticate(c, alg, PIV_KEY_SIGNATURE, in, in_len, &out, &out_len, err);
    OPENSSL_cleanse(in, sizeof in);
    if (rc != 0)
        return -1;
    if (rsa && out_len < in_len) {
        /* Raw RSA output may lose leading zero bytes on some cards. */
        unsigned char *p = calloc(1, in_len);
        if (!p) {
            free(out);
            return err_set(err, SOHOA_EWORK, "%s: out of memory", c->name);
        }
        memcpy(p + in_len - out_len, out, out_len);
        free(out);
        out = p;
        out_len = in_len;
    }
    if ((rsa && out_len != in_len) ||
        check_signature(c, pub, scheme, md_nid, digest, digest_len, out, out_len, err) != 0) {
        free(out);
        return err_set(err, SOHOA_EWORK, "%s: the card returned a malformed signature", c->name);
    }
    *sig = out;
    *sig_len = out_len;
    return 0;
}
