/* token_pkcs11.c — the organization's key on any PKCS#11 token.
 *
 * The module (vendor's, OpenSC, SoftHSM2) is loaded with dlopen; the token
 * is found by label on whatever slot it sits (SoftHSM2 and many readers
 * number slots arbitrarily), the key and its certificate by CKA_LABEL, tied
 * together by CKA_ID when both carry one.
 *
 * PIN safety: the token's flags are read before every login. A locked PIN
 * or one try left means no attempt at all, because one more wrong PIN from
 * an unattended station would block the organization's token.
 */
#include "token.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <p11-kit/pkcs11.h>

#include "../firmware/log.h"
#include "certcheck.h"

/* Most certificates a token may hold that chain() looks at. */
#define MAX_CERTS 32

typedef struct p11_token {
    token base; /* first: the token * handed out points here */
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    int finalize; /* we initialized the module, so we finalize it */
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE session;
    int have_session;
    CK_OBJECT_HANDLE key;
    int always_auth; /* key needs a context-specific login before each signature */
    char *pin;       /* kept only when always_auth; wiped on close */
    unsigned char *cert;
    size_t cert_len;
    char *module;   /* path, for messages */
    char label[33]; /* token label, trailing blanks removed */
    char key_label[65];
} p11_token;

static const token_ops p11_ops;

/* Names of the return values a user may meet; the rest are shown in hex. */
static const char *rv_name(CK_RV rv)
{
    switch (rv) {
#define N(x)                                                                                       \
    case x:                                                                                        \
        return #x
        N(CKR_OK);
        N(CKR_HOST_MEMORY);
        N(CKR_SLOT_ID_INVALID);
        N(CKR_GENERAL_ERROR);
        N(CKR_FUNCTION_FAILED);
        N(CKR_ARGUMENTS_BAD);
        N(CKR_CANT_LOCK);
        N(CKR_ATTRIBUTE_SENSITIVE);
        N(CKR_ATTRIBUTE_TYPE_INVALID);
        N(CKR_DATA_LEN_RANGE);
        N(CKR_DEVICE_ERROR);
        N(CKR_DEVICE_MEMORY);
        N(CKR_DEVICE_REMOVED);
        N(CKR_FUNCTION_CANCELED);
        N(CKR_FUNCTION_REJECTED);
        N(CKR_KEY_HANDLE_INVALID);
        N(CKR_KEY_SIZE_RANGE);
        N(CKR_KEY_TYPE_INCONSISTENT);
        N(CKR_KEY_FUNCTION_NOT_PERMITTED);
        N(CKR_MECHANISM_INVALID);
        N(CKR_MECHANISM_PARAM_INVALID);
        N(CKR_OBJECT_HANDLE_INVALID);
        N(CKR_OPERATION_ACTIVE);
        N(CKR_PIN_INCORRECT);
        N(CKR_PIN_INVALID);
        N(CKR_PIN_LEN_RANGE);
        N(CKR_PIN_EXPIRED);
        N(CKR_PIN_LOCKED);
        N(CKR_SESSION_CLOSED);
        N(CKR_SESSION_COUNT);
        N(CKR_SESSION_HANDLE_INVALID);
        N(CKR_TOKEN_NOT_PRESENT);
        N(CKR_TOKEN_NOT_RECOGNIZED);
        N(CKR_USER_NOT_LOGGED_IN);
        N(CKR_USER_PIN_NOT_INITIALIZED);
        N(CKR_USER_TYPE_INVALID);
        N(CKR_BUFFER_TOO_SMALL);
        N(CKR_CRYPTOKI_NOT_INITIALIZED);
        N(CKR_CRYPTOKI_ALREADY_INITIALIZED);
#undef N
    default:
        return NULL;
    }
}

/* "CKR_PIN_LOCKED" or "CKR 0x80000001", into buf. */
static const char *rv_str(CK_RV rv, char *buf, size_t cap)
{
    const char *n = rv_name(rv);
    if (n)
        return n;
    snprintf(buf, cap, "CKR 0x%lx", (unsigned long)rv);
    return buf;
}

static const char *module_base(const p11_token *p)
{
    const char *s = strrchr(p->module, '/');
    return s ? s + 1 : p->module;
}

/* The token is gone or was reset: these all mean "not there any more". */
static int rv_is_removal(CK_RV rv)
{
    return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
           rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
           rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_DEVICE_ERROR ||
           rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID ||
           rv == CKR_USER_NOT_LOGGED_IN;
}

/* Reports a failed call `what` on the token, with the advice that fits `rv`. */
static int p11_fail(p11_token *p, sohoa_err *err, const char *what, CK_RV rv)
{
    char b[32];
    const char *r = rv_str(rv, b, sizeof b);
    if (rv_is_removal(rv))
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): removed, reset or logged out during %s (%s); reinsert the "
                       "token and try again, the document waits",
                       p->label, module_base(p), what, r);
    if (rv == CKR_PIN_LOCKED)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): user PIN locked; unblock it with the SO PIN or PUK in the "
                       "token vendor's tool",
                       p->label, module_base(p));
    if (rv == CKR_PIN_EXPIRED)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): user PIN expired; change it with the token vendor's tool "
                       "and update [token] pin_file",
                       p->label, module_base(p));
    if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): key %s may not sign (%s); check [token] key_label", p->label,
                       module_base(p), p->key_label, r);
    if (rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): does not support this signature scheme for key %s (%s); "
                       "choose another scheme in the configuration",
                       p->label, module_base(p), p->key_label, r);
    return err_set(err, SOHOA_EWORK, "token %s (%s): %s failed (%s)", p->label, module_base(p),
                   what, r);
}

/* Copies a blank-padded PKCS#11 string field into a C string. */
static void padded_to_cstr(const unsigned char *src, size_t n, char *dst)
{
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
        n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int load_module(p11_token *p, sohoa_err *err)
{
    /* RTLD_LOCAL: vendor modules often bundle their own OpenSSL. */
    p->dl = dlopen(p->module, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl)
        return err_set(err, SOHOA_EINPUT,
                       "PKCS#11 module %s: cannot load (%s); check [token] module", p->module,
                       dlerror());
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList");
    if (!get)
        return err_set(err, SOHOA_EINPUT,
                       "PKCS#11 module %s: no C_GetFunctionList, not a PKCS#11 module; check "
                       "[token] module",
                       p->module);
    CK_RV rv = get(&p->f);
    if (rv != CKR_OK || !p->f) {
        char b[32];
        return err_set(err, SOHOA_EWORK, "PKCS#11 module %s: C_GetFunctionList failed (%s)",
                       p->module, rv_str(rv, b, sizeof b));
    }
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK; /* the daemon signs from a worker thread */
    rv = p->f->C_Initialize(&args);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        /* Another user in this process owns the module's lifetime. */
        p->finalize = 0;
    } else if (rv != CKR_OK) {
        char b[32];
        return err_set(err, SOHOA_EWORK, "PKCS#11 module %s: C_Initialize failed (%s)", p->module,
                       rv_str(rv, b, sizeof b));
    } else {
        p->finalize = 1;
    }
    return 0;
}

/* Finds the slot holding the token labelled `want` (NULL: the only token). */
static int find_slot(p11_token *p, const char *want, sohoa_err *err)
{
    CK_ULONG n = 0;
    CK_SLOT_ID *slots = NULL;
    CK_RV rv;
    char b[32];
    /* The number of slots can change between the two calls (hotplug). */
    for (int tries = 0; tries < 4; tries++) {
        rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
        if (rv != CKR_OK)
            break;
        free(slots);
        slots = calloc(n ? n : 1, sizeof *slots);
        if (!slots) {
            return err_set(err, SOHOA_EWORK, "out of memory");
        }
        rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
        if (rv != CKR_BUFFER_TOO_SMALL)
            break;
    }
    if (rv != CKR_OK) {
        free(slots);
        return err_set(err, SOHOA_EWORK, "PKCS#11 module %s: C_GetSlotList failed (%s)", p->module,
                       rv_str(rv, b, sizeof b));
    }
    char present[256] = "";
    size_t used = 0;
    int found = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        char label[33];
        padded_to_cstr(ti.label, sizeof ti.label, label);
        if (!(ti.flags & CKF_TOKEN_INITIALIZED))
            continue;
        if (used < sizeof present - 1) {
            int w =
                snprintf(present + used, sizeof present - used, "%s%s", used ? ", " : "", label);
            used += w > 0 ? (size_t)w : 0;
            if (used > sizeof present - 1)
                used = sizeof present - 1;
        }
        if (!want || strcmp(label, want) == 0) {
            if (found && !want) {
                free(slots);
                return err_set(err, SOHOA_EINPUT,
                               "PKCS#11 module %s: several tokens present (%s); set [token] "
                               "token_label",
                               p->module, present);
            }
            if (!found) {
                p->slot = slots[i];
                snprintf(p->label, sizeof p->label, "%s", label);
            }
            found = 1;
        }
    }
    free(slots);
    if (!found) {
        if (want)
            return err_set(err, SOHOA_EWORK,
                           "PKCS#11 module %s: no token labelled %s (present: %s); insert the "
                           "organization's token or check [token] token_label",
                           p->module, want, used ? present : "none");
        return err_set(err, SOHOA_EWORK,
                       "PKCS#11 module %s: no token present; insert the organization's token",
                       p->module);
    }
    return 0;
}

/* Logs the user in, after making sure the attempt cannot block the token. */
static int login(p11_token *p, CK_USER_TYPE user, const char *pin, sohoa_err *err)
{
    CK_TOKEN_INFO ti;
    CK_RV rv = p->f->C_GetTokenInfo(p->slot, &ti);
    if (rv != CKR_OK)
        return p11_fail(p, err, "reading the token state", rv);
    if (user == CKU_USER && !(ti.flags & CKF_LOGIN_REQUIRED))
        return 0;
    if (ti.flags & CKF_USER_PIN_LOCKED)
        return p11_fail(p, err, "login", CKR_PIN_LOCKED);
    if (ti.flags & CKF_USER_PIN_FINAL_TRY)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): only one PIN try left, not trying: a wrong PIN would block "
                       "the token; check [token] pin_file, then log in once with the token "
                       "vendor's tool to reset the counter",
                       p->label, module_base(p));
    if (ti.flags & CKF_USER_PIN_COUNT_LOW)
        log_warn("token %s: a wrong PIN was entered recently; fewer tries are left", p->label);

    int pinpad = (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
    if (!pin && !pinpad)
        return err_set(err, SOHOA_EINPUT, "token %s (%s): no PIN given; set [token] pin_file",
                       p->label, module_base(p));
    size_t len = pin ? strlen(pin) : 0;
    /* A PIN the token cannot accept would only burn a try. Some modules
     * report 0 or CK_UNAVAILABLE_INFORMATION: then there is nothing to check. */
    if (pin && ti.ulMaxPinLen && ti.ulMaxPinLen != CK_UNAVAILABLE_INFORMATION &&
        ti.ulMinPinLen != CK_UNAVAILABLE_INFORMATION &&
        (len < ti.ulMinPinLen || len > ti.ulMaxPinLen))
        return err_set(err, SOHOA_EINPUT,
                       "token %s (%s): the PIN in [token] pin_file has a length the token "
                       "does not accept (%lu to %lu characters); check [token] pin_file",
                       p->label, module_base(p), (unsigned long)ti.ulMinPinLen,
                       (unsigned long)ti.ulMaxPinLen);

    rv = p->f->C_Login(p->session, user, (CK_UTF8CHAR_PTR)(pin && !pinpad ? pin : NULL),
                       pin && !pinpad ? (CK_ULONG)len : 0);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return 0;
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE) {
        /* Tell how close the token now is to blocking. */
        const char *left = "tries left unknown";
        if (p->f->C_GetTokenInfo(p->slot, &ti) == CKR_OK) {
            if (ti.flags & CKF_USER_PIN_LOCKED)
                left = "the token is now locked; unblock it with the SO PIN or PUK";
            else if (ti.flags & CKF_USER_PIN_FINAL_TRY)
                left = "1 try left; the station will not try again";
            else if (ti.flags & CKF_USER_PIN_COUNT_LOW)
                left = "few tries left";
        }
        return err_set(err, SOHOA_EWORK, "token %s (%s): wrong PIN (%s); check [token] pin_file",
                       p->label, module_base(p), left);
    }
    return p11_fail(p, err, "login", rv);
}

/* Reads attribute `type` of `obj` into a malloc'ed buffer; returns 0, 1 when
 * the object does not have it, or -1 with err set. */
static int get_attr(p11_token *p, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, unsigned char **val,
                    size_t *len, sohoa_err *err)
{
    *val = NULL;
    *len = 0;
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_RV rv = p->f->C_GetAttributeValue(p->session, obj, &a, 1);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
        return 1;
    if (rv != CKR_OK)
        return p11_fail(p, err, "reading an object", rv);
    a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
    if (!a.pValue)
        return err_set(err, SOHOA_EWORK, "out of memory");
    rv = p->f->C_GetAttributeValue(p->session, obj, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return p11_fail(p, err, "reading an object", rv);
    }
    *val = a.pValue;
    *len = a.ulValueLen;
    return 0;
}

/* Reads a CK_BBOOL attribute; `dflt` when the object lacks it. */
static CK_BBOOL get_bool(p11_token *p, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, CK_BBOOL dflt)
{
    CK_BBOOL v = dflt;
    CK_ATTRIBUTE a = {type, &v, sizeof v};
    if (p->f->C_GetAttributeValue(p->session, obj, &a, 1) != CKR_OK)
        return dflt;
    return v;
}

/* Finds up to `max` objects of class `cls` with the given label and/or id. */
static int find_objects(p11_token *p, CK_OBJECT_CLASS cls, const char *label,
                        const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *out, int max,
                        sohoa_err *err)
{
    CK_ATTRIBUTE tmpl[3];
    CK_ULONG n = 0;
    tmpl[n++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof cls};
    if (label)
        tmpl[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, strlen(label)};
    if (id)
        tmpl[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)id, id_len};
    CK_RV rv = p->f->C_FindObjectsInit(p->session, tmpl, n);
    if (rv != CKR_OK)
        return p11_fail(p, err, "searching the token", rv);
    CK_ULONG got = 0;
    rv = p->f->C_FindObjects(p->session, out, (CK_ULONG)max, &got);
    p->f->C_FindObjectsFinal(p->session);
    if (rv != CKR_OK)
        return p11_fail(p, err, "searching the token", rv);
    return (int)got;
}

/* Finds the private key labelled key_label, then its certificate: the one
 * with the same label and CKA_ID, else the one with the same CKA_ID. */
static int find_key_and_cert(p11_token *p, sohoa_err *err)
{
    CK_OBJECT_HANDLE keys[2], certs[8];
    int nk = find_objects(p, CKO_PRIVATE_KEY, p->key_label, NULL, 0, keys, 2, err);
    if (nk < 0)
        return -1;
    if (nk == 0)
        return err_set(err, SOHOA_EINPUT,
                       "token %s (%s): no private key labelled %s; check [token] key_label",
                       p->label, module_base(p), p->key_label);
    if (nk > 1)
        return err_set(err, SOHOA_EINPUT,
                       "token %s (%s): several private keys labelled %s; give the key a unique "
                       "label",
                       p->label, module_base(p), p->key_label);
    p->key = keys[0];

    unsigned char *id = NULL;
    size_t id_len = 0;
    if (get_attr(p, p->key, CKA_ID, &id, &id_len, err) < 0)
        return -1;
    if (id && id_len == 0) {
        free(id);
        id = NULL;
    }
    int nc = find_objects(p, CKO_CERTIFICATE, p->key_label, id, id_len, certs, 8, err);
    if (nc == 0 && id) /* certificate stored under another label */
        nc = find_objects(p, CKO_CERTIFICATE, NULL, id, id_len, certs, 8, err);
    free(id);
    if (nc < 0)
        return -1;
    if (nc == 0)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): no certificate for key %s (none with its label or CKA_ID); "
                       "store the signing certificate on the token",
                       p->label, module_base(p), p->key_label);
    if (nc > 1)
        log_warn("token %s: %d certificates match key %s; using the first", p->label, nc,
                 p->key_label);
    int r = get_attr(p, certs[0], CKA_VALUE, &p->cert, &p->cert_len, err);
    if (r < 0)
        return -1;
    if (r > 0 || p->cert_len == 0)
        return err_set(err, SOHOA_EWORK, "token %s (%s): the certificate of key %s has no value",
                       p->label, module_base(p), p->key_label);
    return 0;
}

/* Key type from the key object itself, and for RSA a check that its modulus
 * is the certificate's (a stale certificate left after a key change would
 * make every signature unverifiable). */
static int check_key(p11_token *p, sohoa_err *err)
{
    CK_KEY_TYPE kt = (CK_KEY_TYPE)-1;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof kt};
    CK_RV rv = p->f->C_GetAttributeValue(p->session, p->key, &a, 1);
    if (rv != CKR_OK)
        return p11_fail(p, err, "reading the key", rv);
    if (kt == CKK_RSA)
        p->base.key_type = TOKEN_KEY_RSA;
    else if (kt == CKK_EC)
        p->base.key_type = TOKEN_KEY_EC;
    else
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): key %s is neither RSA nor EC (type 0x%lx); use an RSA or "
                       "ECDSA signing key",
                       p->label, module_base(p), p->key_label, (unsigned long)kt);
    if (!get_bool(p, p->key, CKA_SIGN, CK_TRUE))
        return p11_fail(p, err, "signing", CKR_KEY_FUNCTION_NOT_PERMITTED);
    p->always_auth = get_bool(p, p->key, CKA_ALWAYS_AUTHENTICATE, CK_FALSE) != CK_FALSE;

    token_key_type ct;
    if (token_cert_key(p->cert, p->cert_len, &ct, &p->base.key_bits, err) < 0)
        return -1;
    if ((kt == CKK_RSA) != (ct == TOKEN_KEY_RSA))
        return 0; /* token_open() reports a type mismatch */
    /* RSA: compare the modulus; EC: compare the curve (CKA_EC_PARAMS is the
     * DER of the named curve's OID). A module may hide either: then there is
     * nothing to compare. */
    unsigned char *attr = NULL;
    size_t attr_len = 0;
    if (get_attr(p, p->key, kt == CKK_RSA ? CKA_MODULUS : CKA_EC_PARAMS, &attr, &attr_len, err) < 0)
        return -1;
    if (!attr)
        return 0;
    const unsigned char *q = p->cert;
    X509 *x = d2i_X509(NULL, &q, (long)p->cert_len);
    EVP_PKEY *pub = x ? X509_get0_pubkey(x) : NULL;
    int same = 1;
    if (pub && kt == CKK_RSA) {
        BIGNUM *cert_n = NULL;
        if (EVP_PKEY_get_bn_param(pub, "n", &cert_n)) {
            BIGNUM *key_n = BN_bin2bn(attr, (int)attr_len, NULL);
            same = key_n && BN_cmp(key_n, cert_n) == 0;
            BN_free(key_n);
        }
        BN_free(cert_n);
    } else if (pub) {
        char group[64];
        ASN1_OBJECT *oid = NULL;
        if (EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof group, NULL) &&
            (oid = OBJ_txt2obj(group, 0)) != NULL) {
            unsigned char *der = NULL;
            int n = i2d_ASN1_OBJECT(oid, &der);
            same = n > 0 && (size_t)n == attr_len && memcmp(der, attr, attr_len) == 0;
            OPENSSL_free(der);
        }
        ASN1_OBJECT_free(oid);
    }
    X509_free(x);
    free(attr);
    if (!same)
        return err_set(err, SOHOA_EWORK,
                       "token %s (%s): the certificate found for key %s belongs to another key; "
                       "store the matching certificate",
                       p->label, module_base(p), p->key_label);
    return 0;
}

token *token_pkcs11_open(const token_params *params, sohoa_err *err)
{
    if (!params->module || !*params->module) {
        err_set(err, SOHOA_EINPUT,
                "[token] module is not set; give the path of the token's PKCS#11 module");
        return NULL;
    }
    if (!params->key_label || !*params->key_label) {
        err_set(err, SOHOA_EINPUT,
                "[token] key_label is not set; give the label of the signing key");
        return NULL;
    }
    if (params->token_label && strlen(params->token_label) > 32) {
        err_set(err, SOHOA_EINPUT, "[token] token_label %s: longer than 32 characters",
                params->token_label);
        return NULL;
    }
    if (strlen(params->key_label) > 64) {
        err_set(err, SOHOA_EINPUT, "[token] key_label %s: longer than 64 characters",
                params->key_label);
        return NULL;
    }
    p11_token *p = calloc(1, sizeof *p);
    if (!p || !(p->module = strdup(params->module))) {
        free(p);
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    p->base.ops = &p11_ops;
    snprintf(p->key_label, sizeof p->key_label, "%s", params->key_label);

    if (load_module(p, err) < 0 || find_slot(p, params->token_label, err) < 0)
        goto fail;
    CK_RV rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, &p->session);
    if (rv != CKR_OK) {
        p11_fail(p, err, "opening a session", rv);
        goto fail;
    }
    p->have_session = 1;
    if (login(p, CKU_USER, params->pin, err) < 0 || find_key_and_cert(p, err) < 0 ||
        check_key(p, err) < 0)
        goto fail;
    if (p->always_auth && params->pin && !(p->pin = strdup(params->pin))) {
        err_set(err, SOHOA_EWORK, "out of memory");
        goto fail;
    }
    snprintf(p->base.description, sizeof p->base.description, "token %s (%s, slot 0x%lx) key %s",
             p->label, module_base(p), (unsigned long)p->slot, p->key_label);
    return &p->base;
fail:
    p11_ops.close(&p->base);
    return NULL;
}

static int p11_certificate(token *t, unsigned char **der, size_t *len, sohoa_err *err)
{
    p11_token *p = (p11_token *)t;
    *der = malloc(p->cert_len);
    if (!*der)
        return err_set(err, SOHOA_EWORK, "out of memory");
    memcpy(*der, p->cert, p->cert_len);
    *len = p->cert_len;
    return 0;
}

/* CA certificates stored on the token, from the signing certificate's issuer
 * upwards, as far as the token holds them. */
static int p11_chain(token *t, unsigned char **der, size_t *len, int max, sohoa_err *err)
{
    p11_token *p = (p11_token *)t;
    CK_OBJECT_HANDLE h[MAX_CERTS];
    int n = find_objects(p, CKO_CERTIFICATE, NULL, NULL, 0, h, MAX_CERTS, err);
    if (n < 0)
        return -1;
    X509 *all[MAX_CERTS];
    int m = 0;
    for (int i = 0; i < n; i++) {
        unsigned char *v = NULL;
        size_t vl = 0;
        if (get_attr(p, h[i], CKA_VALUE, &v, &vl, err) < 0) {
            while (m > 0)
                X509_free(all[--m]);
            return -1;
        }
        const unsigned char *q = v;
        X509 *x = v ? d2i_X509(NULL, &q, (long)vl) : NULL;
        free(v);
        if (x)
            all[m++] = x;
    }
    const unsigned char *q = p->cert;
    X509 *cur = d2i_X509(NULL, &q, (long)p->cert_len);
    X509 *leaf = cur;
    int count = 0, rc = 0;
    while (cur && count < max && X509_check_issued(cur, cur) != X509_V_OK) {
        X509 *issuer = NULL;
        for (int i = 0; i < m && !issuer; i++)
            if (X509_cmp(all[i], cur) != 0 && X509_check_issued(all[i], cur) == X509_V_OK)
                issuer = all[i];
        if (!issuer)
            break;
        int l = i2d_X509(issuer, NULL);
        unsigned char *out = l > 0 ? malloc((size_t)l) : NULL;
        unsigned char *w = out;
        if (!out || i2d_X509(issuer, &w) != l) {
            free(out);
            rc = err_set(err, SOHOA_EWORK, "token %s: cannot encode a CA certificate", p->label);
            break;
        }
        der[count] = out;
        len[count] = (size_t)l;
        count++;
        cur = issuer;
    }
    X509_free(leaf);
    for (int i = 0; i < m; i++)
        X509_free(all[i]);
    if (rc < 0) {
        while (count > 0)
            free(der[--count]);
        return -1;
    }
    return count;
}

static int md_mechs(int md_nid, CK_MECHANISM_TYPE *hash, CK_RSA_PKCS_MGF_TYPE *mgf)
{
    switch (md_nid) {
    case NID_sha256:
        *hash = CKM_SHA256;
        *mgf = CKG_MGF1_SHA256;
        return 0;
    case NID_sha384:
        *hash = CKM_SHA384;
        *mgf = CKG_MGF1_SHA384;
        return 0;
    case NID_sha512:
        *hash = CKM_SHA512;
        *mgf = CKG_MGF1_SHA512;
        return 0;
    default:
        return -1;
    }
}

static int p11_sign(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                    size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err)
{
    p11_token *p = (p11_token *)t;
    CK_MECHANISM mech = {0, NULL, 0};
    CK_RSA_PKCS_PSS_PARAMS pss;
    unsigned char di[19 + 64];
    const unsigned char *data = digest;
    size_t data_len = digest_len;

    if (md_mechs(md_nid, &pss.hashAlg, &pss.mgf) < 0)
        return err_set(err, SOHOA_EINPUT, "%s: digest %s not supported", t->description,
                       OBJ_nid2sn(md_nid));
    switch (scheme) {
    case TOKEN_SIG_RSA_PKCS1: {
        /* CKM_RSA_PKCS pads whatever it is given: hand it the DigestInfo. */
        int n = token_digest_info(md_nid, digest, digest_len, di, sizeof di, err);
        if (n < 0)
            return -1;
        data = di;
        data_len = (size_t)n;
        mech.mechanism = CKM_RSA_PKCS;
        break;
    }
    case TOKEN_SIG_RSA_PSS:
        pss.sLen = digest_len;
        mech.mechanism = CKM_RSA_PKCS_PSS;
        mech.pParameter = &pss;
        mech.ulParameterLen = sizeof pss;
        break;
    case TOKEN_SIG_ECDSA:
        mech.mechanism = CKM_ECDSA;
        break;
    default:
        return err_set(err, SOHOA_EINPUT, "%s: unknown signature scheme %d", t->description,
                       (int)scheme);
    }

    CK_RV rv = p->f->C_SignInit(p->session, &mech, p->key);
    if (rv != CKR_OK)
        return p11_fail(p, err, "signing", rv);
    if (p->always_auth && login(p, CKU_CONTEXT_SPECIFIC, p->pin, err) < 0)
        return -1;
    /* One call with a buffer big enough for RSA-8192 or any ECDSA curve: a
     * size query first would cost a second round trip to a slow token. */
    unsigned char buf[1024];
    CK_ULONG n = sizeof buf;
    rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)data, (CK_ULONG)data_len, buf, &n);
    unsigned char *out = NULL;
    if (rv == CKR_BUFFER_TOO_SMALL) { /* the operation is still active; n is the size */
        out = malloc(n ? n : 1);
        if (!out) /* the token stays busy until closed; the caller reopens it */
            return err_set(err, SOHOA_EWORK, "out of memory");
        rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)data, (CK_ULONG)data_len, out, &n);
    } else if (rv == CKR_OK) {
        out = malloc(n ? n : 1);
        if (!out)
            return err_set(err, SOHOA_EWORK, "out of memory");
        memcpy(out, buf, n);
    }
    if (rv != CKR_OK) {
        free(out);
        return p11_fail(p, err, "signing", rv);
    }
    if (scheme != TOKEN_SIG_ECDSA) {
        *sig = out;
        *sig_len = n;
        return 0;
    }
    int r = token_ecdsa_raw_to_der(out, n, sig, sig_len, err);
    free(out);
    return r;
}

static void p11_close(token *t)
{
    p11_token *p = (p11_token *)t;
    if (!p)
        return;
    if (p->f) {
        /* Errors are ignored: the token may already be gone. */
        if (p->have_session)
            p->f->C_CloseSession(p->session);
        if (p->finalize)
            p->f->C_Finalize(NULL);
    }
    if (p->dl)
        dlclose(p->dl);
    token_pin_free(p->pin);
    free(p->cert);
    free(p->module);
    free(p);
}

static const token_ops p11_ops = {
    .certificate = p11_certificate,
    .chain = p11_chain,
    .sign_digest = p11_sign,
    .close = p11_close,
};

/* ---- for the console ---------------------------------------------------- */

/* Loads the module for a short task of its own (listing, PIN change); on
 * failure everything is released. */
static p11_token *p11_task_open(const char *module, sohoa_err *err)
{
    if (!module || !*module) {
        err_set(err, SOHOA_EINPUT,
                "[token] module is not set; give the path of the token's PKCS#11 module");
        return NULL;
    }
    p11_token *p = calloc(1, sizeof *p);
    if (!p || !(p->module = strdup(module))) {
        free(p);
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    p->base.ops = &p11_ops;
    if (load_module(p, err) < 0) {
        p11_ops.close(&p->base);
        return NULL;
    }
    return p;
}

static void slot_info_fill(token_slot_info *o, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti)
{
    memset(o, 0, sizeof *o);
    o->slot = (unsigned long)slot;
    padded_to_cstr(ti->label, sizeof ti->label, o->label);
    padded_to_cstr(ti->manufacturerID, sizeof ti->manufacturerID, o->manufacturer);
    padded_to_cstr(ti->model, sizeof ti->model, o->model);
    padded_to_cstr(ti->serialNumber, sizeof ti->serialNumber, o->serial);
    o->initialized = (ti->flags & CKF_TOKEN_INITIALIZED) != 0;
    o->pin_initialized = (ti->flags & CKF_USER_PIN_INITIALIZED) != 0;
    o->pin_count_low = (ti->flags & CKF_USER_PIN_COUNT_LOW) != 0;
    o->pin_final_try = (ti->flags & CKF_USER_PIN_FINAL_TRY) != 0;
    o->pin_locked = (ti->flags & CKF_USER_PIN_LOCKED) != 0;
    o->pin_to_be_changed = (ti->flags & CKF_USER_PIN_TO_BE_CHANGED) != 0;
    o->pinpad = (ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
    if (ti->ulMaxPinLen != CK_UNAVAILABLE_INFORMATION &&
        ti->ulMinPinLen != CK_UNAVAILABLE_INFORMATION) {
        o->min_pin = (unsigned long)ti->ulMinPinLen;
        o->max_pin = (unsigned long)ti->ulMaxPinLen;
    }
}

int token_pkcs11_list(const char *module, token_slot_info **out, size_t *n, sohoa_err *err)
{
    *out = NULL;
    *n = 0;
    p11_token *p = p11_task_open(module, err);
    if (!p)
        return -1;
    CK_ULONG count = 0;
    CK_SLOT_ID *slots = NULL;
    CK_RV rv = CKR_OK;
    /* The number of slots can change between the two calls (hotplug). */
    for (int tries = 0; tries < 4; tries++) {
        rv = p->f->C_GetSlotList(CK_TRUE, NULL, &count);
        if (rv != CKR_OK)
            break;
        free(slots);
        slots = calloc(count ? count : 1, sizeof *slots);
        if (!slots) {
            p11_ops.close(&p->base);
            return err_set(err, SOHOA_EWORK, "out of memory");
        }
        rv = p->f->C_GetSlotList(CK_TRUE, slots, &count);
        if (rv != CKR_BUFFER_TOO_SMALL)
            break;
    }
    int rc = 0;
    if (rv != CKR_OK) {
        char b[32];
        rc = err_set(err, SOHOA_EWORK, "PKCS#11 module %s: C_GetSlotList failed (%s)", p->module,
                     rv_str(rv, b, sizeof b));
    } else if (count > 0) {
        token_slot_info *list = calloc(count, sizeof *list);
        if (!list) {
            rc = err_set(err, SOHOA_EWORK, "out of memory");
        } else {
            size_t m = 0;
            for (CK_ULONG i = 0; i < count; i++) {
                CK_TOKEN_INFO ti;
                /* A token pulled out between the calls is simply not listed. */
                if (p->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK)
                    slot_info_fill(&list[m++], slots[i], &ti);
            }
            if (m == 0) {
                free(list);
                list = NULL;
            }
            *out = list;
            *n = m;
        }
    }
    free(slots);
    p11_ops.close(&p->base);
    return rc;
}

/* 1 when a PIN of `len` bytes fits the token's limits (or there are none). */
static int pin_len_ok(const CK_TOKEN_INFO *ti, size_t len)
{
    if (!ti->ulMaxPinLen || ti->ulMaxPinLen == CK_UNAVAILABLE_INFORMATION ||
        ti->ulMinPinLen == CK_UNAVAILABLE_INFORMATION)
        return 1;
    return len >= ti->ulMinPinLen && len <= ti->ulMaxPinLen;
}

int token_pkcs11_change_pin(const token_params *params, const char *old_pin, const char *new_pin,
                            sohoa_err *err)
{
    if (!old_pin || !new_pin || !*new_pin)
        return err_set(err, SOHOA_EINPUT,
                       "token PIN change: the current and the new PIN are "
                       "both needed");
    if (params->token_label && strlen(params->token_label) > 32)
        return err_set(err, SOHOA_EINPUT, "[token] token_label %s: longer than 32 characters",
                       params->token_label);
    p11_token *p = p11_task_open(params->module, err);
    if (!p)
        return -1;
    snprintf(p->key_label, sizeof p->key_label, "-");
    int rc = -1;
    CK_TOKEN_INFO ti;
    CK_RV rv;
    if (find_slot(p, params->token_label, err) < 0)
        goto done;
    rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &p->session);
    if (rv != CKR_OK) {
        p11_fail(p, err, "opening a read-write session", rv);
        goto done;
    }
    p->have_session = 1;
    /* The same precautions as login(): C_SetPIN verifies the current PIN
     * and spends a try when it is wrong. */
    rv = p->f->C_GetTokenInfo(p->slot, &ti);
    if (rv != CKR_OK) {
        p11_fail(p, err, "reading the token state", rv);
        goto done;
    }
    if (ti.flags & CKF_USER_PIN_LOCKED) {
        p11_fail(p, err, "PIN change", CKR_PIN_LOCKED);
        goto done;
    }
    if (ti.flags & CKF_USER_PIN_FINAL_TRY) {
        err_set(err, SOHOA_EWORK,
                "token %s (%s): only one PIN try left, not trying: a wrong PIN would block the "
                "token; change the PIN with the token vendor's tool",
                p->label, module_base(p));
        goto done;
    }
    if (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        err_set(err, SOHOA_EINPUT,
                "token %s (%s): PINs are entered on the reader's keypad; change it there", p->label,
                module_base(p));
        goto done;
    }
    if (!pin_len_ok(&ti, strlen(old_pin))) {
        err_set(err, SOHOA_EINPUT,
                "token %s (%s): the current PIN given has a length the token does not accept "
                "(%lu to %lu characters); it cannot be right",
                p->label, module_base(p), (unsigned long)ti.ulMinPinLen,
                (unsigned long)ti.ulMaxPinLen);
        goto done;
    }
    if (!pin_len_ok(&ti, strlen(new_pin))) {
        err_set(err, SOHOA_EINPUT,
                "token %s (%s): the new PIN must have %lu to %lu characters; choose another",
                p->label, module_base(p), (unsigned long)ti.ulMinPinLen,
                (unsigned long)ti.ulMaxPinLen);
        goto done;
    }
    rv = p->f->C_SetPIN(p->session, (CK_UTF8CHAR_PTR)old_pin, (CK_ULONG)strlen(old_pin),
                        (CK_UTF8CHAR_PTR)new_pin, (CK_ULONG)strlen(new_pin));
    if (rv == CKR_OK) {
        rc = 0;
    } else if (rv == CKR_PIN_INCORRECT) {
        const char *left = "tries left unknown";
        if (p->f->C_GetTokenInfo(p->slot, &ti) == CKR_OK) {
            if (ti.flags & CKF_USER_PIN_LOCKED)
                left = "the token is now locked; unblock it with the SO PIN or PUK";
            else if (ti.flags & CKF_USER_PIN_FINAL_TRY)
                left = "1 try left";
            else if (ti.flags & CKF_USER_PIN_COUNT_LOW)
                left = "few tries left";
        }
        err_set(err, SOHOA_EWORK, "token %s (%s): the current PIN is wrong (%s); nothing changed",
                p->label, module_base(p), left);
    } else if (rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE) {
        char b[32];
        err_set(err, SOHOA_EINPUT,
                "token %s (%s): the token refuses the new PIN (%s); choose another (its rules "
                "are the vendor's: length, characters)",
                p->label, module_base(p), rv_str(rv, b, sizeof b));
    } else {
        p11_fail(p, err, "PIN change", rv);
    }
done:
    p11_ops.close(&p->base);
    return rc;
}
