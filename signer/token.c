/* token.c — backend dispatch, checks common to every backend, and the
 * small encodings (DigestInfo, ECDSA DER, PIN file) the backends share. */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../firmware/log.h"
#include "certcheck.h"

/* Longest PIN accepted from a file; PKCS#11 tokens rarely allow more than 64. */
#define PIN_MAX 255

/* A certificate this close to its end gets a warning at every open, so that
 * the renewal is asked for before signatures start being refused. */
#define EXPIRY_WARN_DAYS 30

/* Vietnam time is UTC+7 all year (no daylight saving). */
#define VN_OFFSET (7 * 3600)

static int check_token_certificate(token *t, sohoa_err *err)
{
    unsigned char *der = NULL;
    size_t len = 0;
    sohoa_err e = {0};
    if (token_certificate(t, &der, &len, &e) < 0)
        return err_set(err, e.status, "%s", e.msg);

    time_t now = time(NULL);
    token_key_type type;
    int bits = 0;
    int rc = 0;
    if (token_check_cert_validity(der, len, now, &e) < 0 ||
        token_cert_key(der, len, &type, &bits, &e) < 0) {
        rc = err_set(err, e.status, "%s: %s", t->description, e.msg);
    } else if (type != t->key_type) {
        /* The certificate on the token names another key than the one that
         * would sign: every signature would fail verification. */
        rc = err_set(err, SOHOA_EWORK,
                     "%s: the certificate holds an %s key but the private key is %s; store the "
                     "matching certificate with the key",
                     t->description, type == TOKEN_KEY_RSA ? "RSA" : "EC",
                     t->key_type == TOKEN_KEY_RSA ? "RSA" : "EC");
    } else {
        /* Valid now but not in EXPIRY_WARN_DAYS: only expiry can explain it. */
        sohoa_err later = {0};
        if (token_check_cert_validity(der, len, now + (time_t)EXPIRY_WARN_DAYS * 86400, &later) <
            0) {
            char name[96];
            token_cert_name(der, len, name, sizeof name);
            log_warn("%s: certificate \"%s\" expires within %d days; ask the CA for a new one",
                     t->description, name, EXPIRY_WARN_DAYS);
        }
        t->key_bits = bits;
    }
    free(der);
    return rc;
}

token *token_open(const token_params *params, sohoa_err *err)
{
    if (!params || !params->backend || !*params->backend) {
        err_set(err, SOHOA_EINPUT, "[token] backend is not set; use pkcs11, ccid or file");
        return NULL;
    }
    token *t;
    if (strcmp(params->backend, "pkcs11") == 0) {
        t = token_pkcs11_open(params, err);
    } else if (strcmp(params->backend, "ccid") == 0) {
        t = token_piv_open(params, err);
    } else if (strcmp(params->backend, "file") == 0) {
        t = token_file_open(params, err);
    } else {
        err_set(err, SOHOA_EINPUT, "[token] backend = %s: unknown; use pkcs11, ccid or file",
                params->backend);
        return NULL;
    }
    if (!t)
        return NULL;
    if (check_token_certificate(t, err) < 0) {
        token_close(t);
        return NULL;
    }
    log_info("%s: %s-%d key ready", t->description, t->key_type == TOKEN_KEY_RSA ? "RSA" : "EC",
             t->key_bits);
    return t;
}

int token_certificate(token *t, unsigned char **der, size_t *len, sohoa_err *err)
{
    *der = NULL;
    *len = 0;
    return t->ops->certificate(t, der, len, err);
}

/* The hashes Thông tư 15/2025 allows; anything else (SHA-1 above all) is refused. */
static int allowed_md(int md_nid)
{
    return md_nid == NID_sha256 || md_nid == NID_sha384 || md_nid == NID_sha512;
}

int token_sign_digest(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                      size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err)
{
    *sig = NULL;
    *sig_len = 0;
    if (!allowed_md(md_nid))
        return err_set(err, SOHOA_EINPUT, "%s: digest %s not allowed; use SHA-256, -384 or -512",
                       t->description, OBJ_nid2sn(md_nid));
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    if (!md || (size_t)EVP_MD_get_size(md) != digest_len)
        return err_set(err, SOHOA_EINPUT, "%s: digest of %zu bytes given for %s", t->description,
                       digest_len, OBJ_nid2sn(md_nid));
    int rsa_scheme = scheme == TOKEN_SIG_RSA_PKCS1 || scheme == TOKEN_SIG_RSA_PSS;
    if (scheme != TOKEN_SIG_ECDSA && !rsa_scheme)
        return err_set(err, SOHOA_EINPUT, "%s: unknown signature scheme %d", t->description,
                       (int)scheme);
    if (rsa_scheme != (t->key_type == TOKEN_KEY_RSA))
        return err_set(err, SOHOA_EINPUT, "%s: an %s key cannot make %s signatures", t->description,
                       t->key_type == TOKEN_KEY_RSA ? "RSA" : "EC", rsa_scheme ? "RSA" : "ECDSA");
    return t->ops->sign_digest(t, scheme, md_nid, digest, digest_len, sig, sig_len, err);
}

void token_close(token *t)
{
    if (t)
        t->ops->close(t);
}

/* DigestInfo prefixes (RFC 8017, section 9.2, note 1): the DER of
 * SEQUENCE { AlgorithmIdentifier { hash OID, NULL }, OCTET STRING (len) }
 * up to the digest bytes. */
static const unsigned char DI_SHA256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                          0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                          0x01, 0x05, 0x00, 0x04, 0x20};
static const unsigned char DI_SHA384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                          0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                          0x02, 0x05, 0x00, 0x04, 0x30};
static const unsigned char DI_SHA512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                          0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                          0x03, 0x05, 0x00, 0x04, 0x40};

int token_digest_info(int md_nid, const unsigned char *digest, size_t digest_len,
                      unsigned char *out, size_t out_cap, sohoa_err *err)
{
    const unsigned char *prefix;
    size_t hash_len;
    switch (md_nid) {
    case NID_sha256:
        prefix = DI_SHA256;
        hash_len = 32;
        break;
    case NID_sha384:
        prefix = DI_SHA384;
        hash_len = 48;
        break;
    case NID_sha512:
        prefix = DI_SHA512;
        hash_len = 64;
        break;
    default:
        return err_set(err, SOHOA_EINPUT,
                       "digest %s not allowed for signing; use SHA-256, -384 or -512",
                       OBJ_nid2sn(md_nid));
    }
    if (digest_len != hash_len)
        return err_set(err, SOHOA_EINPUT, "digest of %zu bytes given for %s", digest_len,
                       OBJ_nid2sn(md_nid));
    size_t prefix_len = sizeof DI_SHA256; /* all three prefixes are 19 bytes */
    if (out_cap < prefix_len + hash_len)
        return err_set(err, SOHOA_EWORK, "DigestInfo buffer of %zu bytes too small", out_cap);
    memcpy(out, prefix, prefix_len);
    memcpy(out + prefix_len, digest, hash_len);
    return (int)(prefix_len + hash_len);
}

/* Largest ECDSA half: P-521 has 66-byte r and s. */
#define EC_HALF_MAX 66

/* Appends INTEGER `v` (big-endian, unsigned) in minimal DER; returns bytes written. */
static size_t der_uint(unsigned char *out, const unsigned char *v, size_t n)
{
    while (n > 1 && v[0] == 0) { /* minimal encoding: no leading zero bytes */
        v++;
        n--;
    }
    size_t pad = (v[0] & 0x80) ? 1 : 0; /* keep it positive */
    out[0] = 0x02;
    out[1] = (unsigned char)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

static int all_zero(const unsigned char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i])
            return 0;
    return 1;
}

int token_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **der,
                           size_t *der_len, sohoa_err *err)
{
    *der = NULL;
    *der_len = 0;
    if (raw_len == 0 || raw_len % 2 || raw_len > 2 * EC_HALF_MAX)
        return err_set(err, SOHOA_EWORK,
                       "token returned an ECDSA signature of %zu bytes; expected r||s, two equal "
                       "halves of at most %d bytes",
                       raw_len, EC_HALF_MAX);
    size_t half = raw_len / 2;
    if (all_zero(raw, half) || all_zero(raw + half, half))
        return err_set(err, SOHOA_EWORK, "token returned an ECDSA signature with r or s zero");
    /* Each INTEGER is at most 2 + 1 + 66 bytes, so the body fits in 138 bytes
     * and the SEQUENCE needs a long-form length above 127. */
    unsigned char body[2 * (3 + EC_HALF_MAX)];
    size_t n = der_uint(body, raw, half);
    n += der_uint(body + n, raw + half, half);
    size_t hdr = n > 127 ? 3 : 2;
    unsigned char *out = malloc(hdr + n);
    if (!out)
        return err_set(err, SOHOA_EWORK, "out of memory");
    out[0] = 0x30;
    if (hdr == 3) {
        out[1] = 0x81;
        out[2] = (unsigned char)n;
    } else {
        out[1] = (unsigned char)n;
    }
    memcpy(out + hdr, body, n);
    *der = out;
    *der_len = hdr + n;
    return 0;
}

int token_read_pin_file(const char *path, char **pin, sohoa_err *err)
{
    *pin = NULL;
    if (!path || !*path)
        return err_set(err, SOHOA_EINPUT,
                       "[token] pin_file is not set; give the file holding "
                       "the token's user PIN (mode 0600)");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_errno(err, SOHOA_EINPUT, errno,
                         "pin file %s: cannot open; check [token] pin_file", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return err_errno(err, SOHOA_EINPUT, e, "pin file %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, SOHOA_EINPUT, "pin file %s: not a regular file; check [token] pin_file",
                       path);
    }
    /* Anyone who can read the PIN can use the organization's signature;
     * anyone who can write it can block the token with wrong PINs. */
    if (st.st_mode & 077) {
        close(fd);
        return err_set(err, SOHOA_EINPUT,
                       "pin file %s: mode %04o lets group or others in; run chmod 600 %s", path,
                       (unsigned)(st.st_mode & 07777), path);
    }
    char buf[PIN_MAX + 3]; /* room for "\r\n" and one byte to detect an overlong PIN */
    size_t len = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_errno(err, SOHOA_EINPUT, errno, "pin file %s: cannot read", path);
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof buf) {
            rc = err_set(err, SOHOA_EINPUT,
                         "pin file %s: longer than %d characters; it must hold "
                         "only the PIN",
                         path, PIN_MAX);
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        if (len > 0 && buf[len - 1] == '\n')
            len--;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
        if (len == 0)
            rc = err_set(err, SOHOA_EINPUT, "pin file %s: empty; write the token's user PIN in it",
                         path);
        else if (len > PIN_MAX)
            rc = err_set(err, SOHOA_EINPUT,
                         "pin file %s: longer than %d characters; it must hold "
                         "only the PIN",
                         path, PIN_MAX);
        else if (memchr(buf, '\n', len) || memchr(buf, '\0', len))
            rc = err_set(err, SOHOA_EINPUT,
                         "pin file %s: more than one line; it must hold only the PIN", path);
    }
    if (rc == 0) {
        *pin = malloc(len + 1);
        if (!*pin) {
            rc = err_set(err, SOHOA_EWORK, "out of memory");
        } else {
            memcpy(*pin, buf, len);
            (*pin)[len] = '\0';
        }
    }
    explicit_bzero(buf, sizeof buf);
    return rc;
}

void token_pin_free(char *pin)
{
    if (pin) {
        explicit_bzero(pin, strlen(pin));
        free(pin);
    }
}

/* ---- certificate checks (certcheck.h) ---- */

static X509 *parse_cert(const unsigned char *der, size_t len, sohoa_err *err)
{
    const unsigned char *p = der;
    X509 *x = der && len ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (!x || p != der + len) {
        X509_free(x);
        err_set(err, SOHOA_EWORK, "signing certificate: not a valid DER X.509 certificate");
        return NULL;
    }
    return x;
}

static int asn1_to_time(const ASN1_TIME *at, time_t *t)
{
    struct tm tm;
    if (!at || !ASN1_TIME_to_tm(at, &tm))
        return -1;
    *t = timegm(&tm);
    return 0;
}

/* Formats an ASN1_TIME as Vietnam time, "2025-02-07 14:59:55 +07:00". */
static void format_vn_time(const ASN1_TIME *at, char *buf, size_t cap)
{
    time_t t;
    if (asn1_to_time(at, &t) < 0) {
        snprintf(buf, cap, "(unreadable date)");
        return;
    }
    t += VN_OFFSET;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S +07:00", &tm);
}

void token_cert_name(const unsigned char *der, size_t len, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    snprintf(buf, cap, "?");
    const unsigned char *p = der;
    X509 *x = der && len ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (!x)
        return;
    X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    int n = -1;
    if (i >= 0)
        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n > 0) {
        size_t m = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
        /* Do not cut a UTF-8 sequence in half. */
        while (m > 0 && m < (size_t)n && (utf8[m] & 0xC0) == 0x80)
            m--;
        memcpy(buf, utf8, m);
        buf[m] = '\0';
    }
    OPENSSL_free(utf8);
    X509_free(x);
}

int token_cert_key(const unsigned char *der, size_t len, token_key_type *type, int *bits,
                   sohoa_err *err)
{
    X509 *x = parse_cert(der, len, err);
    if (!x)
        return -1;
    int rc = 0;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    int id = pk ? EVP_PKEY_get_base_id(pk) : NID_undef;
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        *type = TOKEN_KEY_RSA;
        *bits = EVP_PKEY_get_bits(pk);
    } else if (id == EVP_PKEY_EC) {
        *type = TOKEN_KEY_EC;
        *bits = EVP_PKEY_get_bits(pk);
    } else {
        rc = err_set(err, SOHOA_EWORK,
                     "signing certificate: %s key; only RSA and ECDSA keys can sign here",
                     id == NID_undef ? "unreadable" : OBJ_nid2sn(id));
    }
    X509_free(x);
    return rc;
}

int token_check_cert_validity(const unsigned char *der, size_t len, time_t now, sohoa_err *err)
{
    X509 *x = parse_cert(der, len, err);
    if (!x)
        return -1;
    char name[96], from[40], until[40];
    token_cert_name(der, len, name, sizeof name);
    format_vn_time(X509_get0_notBefore(x), from, sizeof from);
    format_vn_time(X509_get0_notAfter(x), until, sizeof until);

    /* RFC 5280: the validity period includes both notBefore and notAfter. */
    time_t nb = 0, na = 0;
    int rc = 0;
    if (asn1_to_time(X509_get0_notBefore(x), &nb) < 0 ||
        asn1_to_time(X509_get0_notAfter(x), &na) < 0) {
        rc = err_set(err, SOHOA_EWORK,
                     "signing certificate \"%s\": unreadable validity dates; ask the CA for a new "
                     "certificate",
                     name);
    } else if (now < nb) {
        rc = err_set(err, SOHOA_EWORK,
                     "signing certificate \"%s\": not valid before %s (valid until %s); check the "
                     "station clock or wait",
                     name, from, until);
    } else if (now > na) {
        rc = err_set(err, SOHOA_EWORK,
                     "signing certificate \"%s\": expired on %s (valid from %s); ask the CA to "
                     "renew it",
                     name, until, from);
    }
    if (rc == 0) {
        token_key_type type;
        int bits = 0;
        sohoa_err e = {0};
        if (token_cert_key(der, len, &type, &bits, &e) < 0) {
            rc = err_set(err, e.status, "%s", e.msg);
        } else if ((type == TOKEN_KEY_RSA && bits < 2048) || (type == TOKEN_KEY_EC && bits < 256)) {
            rc = err_set(err, SOHOA_EWORK,
                         "signing certificate \"%s\": %s-%d key too weak (at least RSA-2048 or "
                         "ECDSA P-256 required); ask the CA for a new certificate",
                         name, type == TOKEN_KEY_RSA ? "RSA" : "EC", bits);
        }
    }
    /* keyUsage, when present, must allow signing documents. */
    if (rc == 0 && (X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(x) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
        rc = err_set(err, SOHOA_EWORK,
                     "signing certificate \"%s\": its keyUsage allows neither digitalSignature "
                     "nor nonRepudiation; use the organization's signing certificate",
                     name);
    }
    X509_free(x);
    return rc;
}
