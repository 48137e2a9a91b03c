/* console_token.c — `token`: the organization's signing token seen from
 * the console: its certificate and expiry, the PIN counters, the tokens a
 * PKCS#11 module sees, choosing one, storing or changing the PIN, and a
 * test signature checked with OpenSSL.
 *
 * PINs are asked with echo off, never printed, never audited (the audit
 * says "(PIN)"), wiped after use, and stored only in the 0600 PIN file.
 * The PIN counters are read before any login: a token on its final try is
 * never tried (signer/token_pkcs11.c).
 */
#include "console_sys.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../signer/certcheck.h"
#include "../signer/token.h"
#include "fsutil.h"
#include "signing.h"
#include "vntime.h"

/* A certificate this close to its end is announced at every `token`. */
#define EXPIRY_WARN_DAYS 30
#define CHAIN_MAX 8

const char *const csys_token_sub[] = {"show", "list", "use", "pin", "test", NULL};

/* ---- configuration ------------------------------------------------------- */

/* token_params from [token], with its paths resolved (owned by `paths`). */
typedef struct tok_cfg {
    token_params tp;
    char *paths[2];
} tok_cfg;

static void tok_cfg_free(tok_cfg *k)
{
    free(k->paths[0]);
    free(k->paths[1]);
    memset(k, 0, sizeof *k);
}

/* Reads [token]; prints the error and returns -1 for a bad backend. */
static int tok_cfg_load(console *c, tok_cfg *k)
{
    memset(k, 0, sizeof *k);
    const config *cfg = &c->cfg;
    const char *b = config_get(cfg, "token", "backend", "pkcs11");
    if (strcmp(b, "pkcs11") != 0 && strcmp(b, "ccid") != 0 && strcmp(b, "file") != 0) {
        csys_errorf(c, "[token] backend = %s: %s", b,
                    CON_T(c, "không biết; dùng pkcs11, ccid hoặc file",
                          "unknown; use pkcs11, ccid or file"));
        return -1;
    }
    k->tp.backend = b;
    const char *module = config_get(cfg, "token", "module", "");
    const char *key_file = config_get(cfg, "token", "key_file", "");
    if (*module)
        k->tp.module = k->paths[0] = console_config_path(c, module);
    if (*key_file)
        k->tp.key_file = k->paths[1] = console_config_path(c, key_file);
    k->tp.token_label = config_get(cfg, "token", "token_label", NULL);
    if (k->tp.token_label && !*k->tp.token_label)
        k->tp.token_label = NULL;
    k->tp.key_label = config_get(cfg, "token", "key_label", NULL);
    k->tp.reader = config_get(cfg, "token", "reader", NULL);
    if (strcmp(b, "pkcs11") == 0 && !k->tp.module) {
        csys_errorf(c, "[token] module %s",
                    CON_T(c, "chưa đặt; cho đường dẫn mô-đun PKCS#11 của token",
                          "is not set; give the path of the token's PKCS#11 module"));
        tok_cfg_free(k);
        return -1;
    }
    return 0;
}

/* The PIN file: [token] pin_file, else data_dir/token.pin (malloc'ed). */
static char *pin_file_path(console *c, int *configured)
{
    const char *v = config_get(&c->cfg, "token", "pin_file", "");
    *configured = *v != 0;
    if (*v)
        return console_config_path(c, v);
    char *p = NULL;
    if (asprintf(&p, "%s/token.pin", c->data_dir ? c->data_dir : "/var/lib/sohoa") < 0)
        return NULL;
    return p;
}

/* The backend's own constructor: unlike token_open() it does not refuse
 * an expired certificate, which `token` must still be able to show. */
static token *open_raw(const token_params *tp, sohoa_err *err)
{
    if (strcmp(tp->backend, "pkcs11") == 0)
        return token_pkcs11_open(tp, err);
    if (strcmp(tp->backend, "file") == 0)
        return token_file_open(tp, err);
    return token_piv_open(tp, err);
}

/* The PIN counters of the configured PKCS#11 token, read without a login
 * (NULL when they cannot be read: other backends, no such token). */
static const char *pin_state(console *c, const token_slot_info *s)
{
    if (s->pin_locked)
        return CON_T(c, "BỊ KHÓA: mở bằng SO PIN/PUK trong công cụ của hãng",
                     "LOCKED: unblock it with the SO PIN/PUK in the vendor's tool");
    if (s->pin_final_try)
        return CON_T(c, "CÒN 1 LẦN THỬ: trạm không thử PIN nữa; kiểm tra PIN",
                     "1 TRY LEFT: the station will not try the PIN; check it");
    if (s->pin_count_low)
        return CON_T(c, "gần đây có lần nhập sai; còn ít lượt thử",
                     "a wrong PIN was entered recently; few tries left");
    if (s->pin_to_be_changed)
        return CON_T(c, "phải đổi PIN (token pin change)",
                     "the PIN must be changed (token pin "
                     "change)");
    if (!s->pin_initialized)
        return CON_T(c, "chưa đặt PIN người dùng", "no user PIN set");
    return CON_T(c, "bình thường", "normal");
}

/* ---- certificate details ---------------------------------------------------- */

static void name_line(X509_NAME *n, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    /* RFC 2253 escaping without escaping UTF-8: Vietnamese stays readable. */
    unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | XN_FLAG_DN_REV |
                          (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    X509_NAME_print_ex(b, n, 0, flags);
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    snprintf(out, cap, "%.*s", (int)(len > 0 ? len : 0), data ? data : "");
    BIO_free(b);
}

static time_t asn1_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return (time_t)-1;
    return timegm(&tm);
}

static void vn_datetime(time_t t, char out[32])
{
    char iso[VNTIME_ISO_LEN];
    vntime_iso(t, iso);
    snprintf(out, 32, "%.10s %.8s", iso, iso + 11);
}

static time_t now_of(const console *c)
{
    return c->now ? c->now() : time(NULL);
}

/* Prints the certificate; returns its verdict (expired, expiring soon). */
static csys_verdict show_cert(console *c, const unsigned char *der, size_t len)
{
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    if (!x) {
        csys_say(c, 2, "%s\n", CON_T(c, "Chứng thư: không đọc được", "Certificate: unreadable"));
        return CSYS_FAIL;
    }
    char buf[1024], first[64];
    name_line(X509_get_subject_name(x), buf, sizeof buf);
    snprintf(first, sizeof first, "%s ", CON_T(c, "Chủ thể:", "Subject:"));
    csys_wrap(c, first, 2, buf);
    name_line(X509_get_issuer_name(x), buf, sizeof buf);
    snprintf(first, sizeof first, "%s ", CON_T(c, "Cấp bởi:", "Issuer:"));
    csys_wrap(c, first, 2, buf);
    token_key_type kt;
    int bits = 0;
    sohoa_err e = {0};
    if (token_cert_key(der, len, &kt, &bits, &e) == 0)
        csys_say(c, 2, "%s %s-%d\n", CON_T(c, "Khóa:", "Key:"), kt == TOKEN_KEY_RSA ? "RSA" : "EC",
                 bits);
    time_t nb = asn1_epoch(X509_get0_notBefore(x)), na = asn1_epoch(X509_get0_notAfter(x));
    X509_free(x);
    char a[32], b[32];
    vn_datetime(nb, a);
    vn_datetime(na, b);
    csys_say(c, 2, "%s %s → %s (+07:00)\n", CON_T(c, "Hiệu lực:", "Valid:"), a, b);
    time_t now = now_of(c);
    if (now < nb) {
        csys_say(c, 2, "%s\n",
                 CON_T(c, "LỖI: chứng thư CHƯA CÓ HIỆU LỰC; kiểm tra giờ (time) hoặc chứng thư",
                       "FAIL: the certificate is NOT YET VALID; check the time or the "
                       "certificate"));
        return CSYS_FAIL;
    }
    if (now >= na) {
        long ago = (long)((now - na) / 86400);
        csys_say(c, 2, "%s %ld %s\n",
                 CON_T(c, "LỖI: chứng thư ĐÃ HẾT HẠN, không ký được; xin CA cấp mới (hết hạn",
                       "FAIL: the certificate has EXPIRED, nothing can be signed; ask the CA "
                       "for a new one (expired"),
                 ago, CON_T(c, "ngày trước)", "days ago)"));
        return CSYS_FAIL;
    }
    long days = (long)((na - now) / 86400);
    if (days <= EXPIRY_WARN_DAYS) {
        csys_say(
            c, 2, "%s %ld %s\n",
            CON_T(c, "CẢNH BÁO: chứng thư hết hạn sau", "WARN: the certificate expires in"), days,
            CON_T(c, "ngày; xin CA cấp chứng thư mới ngay", "days; ask the CA for a new one now"));
        return CSYS_WARN;
    }
    csys_say(c, 2, "%s %ld %s\n", CON_T(c, "Còn", "Expires in"), days,
             CON_T(c, "ngày trước khi hết hạn", "days"));
    return CSYS_OK;
}

static void show_chain(console *c, token *t)
{
    unsigned char *der[CHAIN_MAX] = {0};
    size_t len[CHAIN_MAX] = {0};
    sohoa_err e = {0};
    int n = t->ops->chain ? t->ops->chain(t, der, len, CHAIN_MAX, &e) : 0;
    char text[1024] = "";
    if (n < 0) {
        snprintf(text, sizeof text, "%s", e.msg);
    } else if (n == 0) {
        snprintf(text, sizeof text, "%s",
                 CON_T(c, "(token không chứa chứng thư CA nào của chuỗi)",
                       "(the token holds no CA certificate of the chain)"));
    } else {
        for (int i = 0; i < n; i++) {
            char name[160];
            token_cert_name(der[i], len[i], name, sizeof name);
            snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", i ? " → " : "", name);
        }
        /* Does it end at a root (self-signed)? */
        const unsigned char *q = der[n - 1];
        X509 *last = d2i_X509(NULL, &q, (long)len[n - 1]);
        int root = last && X509_check_issued(last, last) == X509_V_OK;
        X509_free(last);
        snprintf(text + strlen(text), sizeof text - strlen(text), " (%d %s%s)", n,
                 CON_T(c, "chứng thư trên token", "on the token"),
                 root ? CON_T(c, ", đến gốc", ", up to the root")
                      : CON_T(c, ", thiếu gốc", ", no root"));
    }
    for (int i = 0; i < n; i++)
        free(der[i]);
    char first[64];
    snprintf(first, sizeof first, "%s ", CON_T(c, "Chuỗi:", "Chain:"));
    csys_wrap(c, first, 2, text);
}

/* The slot info of the configured PKCS#11 token: 0 found, -1 not. */
static int find_slot_info(const tok_cfg *k, token_slot_info *out, sohoa_err *err)
{
    token_slot_info *list = NULL;
    size_t n = 0;
    if (token_pkcs11_list(k->tp.module, &list, &n, err) != 0)
        return -1;
    int found = -1, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!list[i].initialized)
            continue;
        if (!k->tp.token_label ? count++ == 0 : strcmp(list[i].label, k->tp.token_label) == 0) {
            *out = list[i];
            found = 0;
        }
    }
    free(list);
    if (found != 0)
        err_set(err, SOHOA_EWORK,
                "PKCS#11 module %s: no token%s%s; insert the organization's "
                "token",
                k->tp.module, k->tp.token_label ? " labelled " : "",
                k->tp.token_label ? k->tp.token_label : "");
    return found;
}

int csys_token_show(console *c)
{
    tok_cfg k;
    if (tok_cfg_load(c, &k) != 0)
        return 1;
    sohoa_err err = {0};
    const char *where = k.tp.module ? k.tp.module : k.tp.key_file;
    csys_say(c, 2, "%s %s%s%s%s", CON_T(c, "Kiểu token:", "Backend:"), k.tp.backend,
             where ? " (" : "", where ? where : "", where ? ")" : "");
    if (strcmp(k.tp.backend, "pkcs11") == 0) {
        token_slot_info si;
        /* Before any login: these flags must be seen without spending a try. */
        if (find_slot_info(&k, &si, &err) != 0) {
            csys_error(c, &err);
            tok_cfg_free(&k);
            return 1;
        }
        csys_say(c, 2, "Token: %s (%s %s, %s %s)\n", si.label, si.manufacturer, si.model,
                 CON_T(c, "số", "serial"), si.serial);
        char first[32];
        snprintf(first, sizeof first, "PIN: ");
        csys_wrap(c, first, 2, pin_state(c, &si));
        if (si.pin_locked || si.pin_final_try) {
            tok_cfg_free(&k);
            return 1;
        }
    } else {
        /* A PKCS#12 file has a password, no counter; the PIV retry counter
         * is read by the ccid backend at each login. */
        csys_say(c, 2, "PIN: %s",
                 strcmp(k.tp.backend, "file") == 0
                     ? CON_T(c, "mật khẩu tệp PKCS#12, không giới hạn lượt thử",
                             "the PKCS#12 file's password, no try counter")
                     : CON_T(c, "không rõ (đầu đọc kiểm tra trước mỗi lần đăng nhập)",
                             "unknown (the reader checks it before each login)"));
    }
    int configured = 0;
    char *pin_path = pin_file_path(c, &configured);
    char *pin = NULL;
    if (!configured) {
        csys_say(c, 2, "%s\n",
                 CON_T(c, "Chưa có tệp PIN ([token] pin_file): đặt bằng `token pin set`",
                       "No PIN file ([token] pin_file): store one with `token pin set`"));
    } else if (token_read_pin_file(pin_path, &pin, &err) != 0) {
        csys_error(c, &err);
        free(pin_path);
        tok_cfg_free(&k);
        return 1;
    }
    free(pin_path);
    k.tp.pin = pin;
    token *t = open_raw(&k.tp, &err);
    token_pin_free(pin);
    k.tp.pin = NULL;
    if (!t) {
        csys_error(c, &err);
        tok_cfg_free(&k);
        return 1;
    }
    csys_wrap(c, CON_T(c, "Khóa ký: ", "Signing key: "), 2, t->description);
    unsigned char *der = NULL;
    size_t len = 0;
    int rc = 0;
    if (token_certificate(t, &der, &len, &err) != 0) {
        csys_error(c, &err);
        rc = 1;
    } else {
        show_cert(c, der, len);
        free(der);
        show_chain(c, t);
    }
    token_close(t);
    tok_cfg_free(&k);
    return rc;
}

static int token_list(console *c)
{
    tok_cfg k;
    if (tok_cfg_load(c, &k) != 0)
        return 1;
    if (strcmp(k.tp.backend, "pkcs11") != 0) {
        csys_say(c, 2, "%s %s: %s\n", CON_T(c, "Kiểu token", "Backend"), k.tp.backend,
                 strcmp(k.tp.backend, "file") == 0
                     ? (k.tp.key_file ? k.tp.key_file : "[token] key_file ?")
                     : CON_T(c, "đầu đọc CCID (PIV), không có danh sách khe",
                             "a CCID reader (PIV), no slot list"));
        tok_cfg_free(&k);
        return 0;
    }
    token_slot_info *list = NULL;
    size_t n = 0;
    sohoa_err err = {0};
    if (token_pkcs11_list(k.tp.module, &list, &n, &err) != 0) {
        csys_error(c, &err);
        tok_cfg_free(&k);
        return 1;
    }
    csys_say(c, 2, "%s %s: %zu token\n", CON_T(c, "Mô-đun", "Module"), k.tp.module, n);
    for (size_t i = 0; i < n; i++) {
        const token_slot_info *s = &list[i];
        int mine = k.tp.token_label && strcmp(s->label, k.tp.token_label) == 0;
        char first[128], text[256];
        snprintf(first, sizeof first, "%s %-16s 0x%-9lx ", mine ? "*" : " ",
                 s->initialized ? s->label : CON_T(c, "(trống)", "(blank)"), s->slot);
        snprintf(text, sizeof text, "%s %s, PIN: %s", s->manufacturer, s->model,
                 s->initialized ? pin_state(c, s) : "-");
        csys_wrap(c, first, 4, text);
    }
    free(list);
    tok_cfg_free(&k);
    return 0;
}

static int token_use(console *c, const char *label)
{
    tok_cfg k;
    if (tok_cfg_load(c, &k) != 0)
        return 1;
    if (strcmp(k.tp.backend, "pkcs11") != 0) {
        csys_errorf(c, "%s",
                    CON_T(c, "chọn token theo nhãn chỉ dùng cho [token] backend = pkcs11",
                          "choosing a token by label is for [token] backend = pkcs11 only"));
        tok_cfg_free(&k);
        return 1;
    }
    token_slot_info *list = NULL;
    size_t n = 0;
    sohoa_err err = {0};
    if (token_pkcs11_list(k.tp.module, &list, &n, &err) != 0) {
        csys_error(c, &err);
        tok_cfg_free(&k);
        return 1;
    }
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= list[i].initialized && strcmp(list[i].label, label) == 0;
    free(list);
    tok_cfg_free(&k);
    if (!found) {
        csys_errorf(c, "token %s %s", label,
                    CON_T(c, "không có; xem `token list`", "is not present; see `token list`"));
        return 2;
    }
    return csys_set(c, "token", "token_label", label, 1);
}

/* ---- PIN ---------------------------------------------------------------------- */

/* Asks a new PIN twice; NULL (after saying why) when they differ or it is
 * empty. */
static char *ask_new_pin(console *c)
{
    char *a = con_ask(c, CON_T(c, "PIN mới: ", "New PIN: "), 1);
    if (!a)
        return NULL;
    char *b = con_ask(c, CON_T(c, "Nhập lại PIN mới: ", "New PIN again: "), 1);
    if (!b) {
        con_secret_free(a);
        return NULL;
    }
    int same = strcmp(a, b) == 0;
    con_secret_free(b);
    if (!same || !*a) {
        csys_errorf(c, "%s",
                    !*a ? CON_T(c, "PIN trống; không đổi gì", "empty PIN; nothing changed")
                        : CON_T(c, "hai lần nhập không khớp; không đổi gì",
                                "the two entries differ; nothing changed"));
        con_secret_free(a);
        return NULL;
    }
    return a;
}

/* Writes the PIN file (0600, atomically, fsync'ed). */
static int write_pin_file(const char *path, const char *pin, sohoa_err *err)
{
    size_t n = strlen(pin);
    char *text = malloc(n + 2);
    if (!text)
        return err_set(err, SOHOA_EWORK, "out of memory");
    memcpy(text, pin, n);
    text[n] = '\n';
    text[n + 1] = '\0';
    char *copy = strdup(path);
    int rc = copy ? fs_mkdir_p(dirname(copy), 0700, err)
                  : err_set(err, SOHOA_EWORK,
                            "out of "
                            "memory");
    free(copy);
    if (rc == 0)
        rc = fs_write_atomic(path, text, n + 1, 0600, err);
    explicit_bzero(text, n + 1);
    free(text);
    /* The mode is set at creation; a umask can only make it stricter. */
    return rc;
}

static int pin_set(console *c)
{
    tok_cfg k;
    if (tok_cfg_load(c, &k) != 0)
        return 1;
    char *pin = ask_new_pin(c);
    if (!pin) {
        tok_cfg_free(&k);
        return 1;
    }
    sohoa_err err = {0};
    /* The PIN is tried on the token before it is stored: a wrong one in the
     * file would cost a try at every document. */
    k.tp.pin = pin;
    token *t = open_raw(&k.tp, &err);
    k.tp.pin = NULL;
    tok_cfg_free(&k);
    if (!t) {
        con_secret_free(pin);
        csys_error(c, &err);
        return 1;
    }
    token_close(t);
    int configured = 0;
    char *path = pin_file_path(c, &configured);
    struct stat st;
    int had = path && stat(path, &st) == 0;
    int rc = path ? write_pin_file(path, pin, &err) : err_set(&err, SOHOA_EWORK, "out of memory");
    con_secret_free(pin);
    if (rc != 0) {
        csys_error(c, &err);
        free(path);
        return 1;
    }
    console_audit(c, "token pin_file", had ? "(PIN)" : "-", "(PIN)");
    csys_say(c, 2, "%s %s (0600).\n", CON_T(c, "PIN đúng; đã lưu vào", "PIN accepted; stored in"),
             path);
    rc = configured ? 0 : csys_set(c, "token", "pin_file", path, 1);
    free(path);
    return rc;
}

static int pin_change(console *c)
{
    tok_cfg k;
    if (tok_cfg_load(c, &k) != 0)
        return 1;
    if (strcmp(k.tp.backend, "pkcs11") != 0) {
        csys_errorf(c, "%s",
                    CON_T(c,
                          "đổi PIN từ bảng điều khiển chỉ cho token PKCS#11; dùng công cụ của "
                          "hãng, rồi `token pin set`",
                          "changing the PIN here is for PKCS#11 tokens only; use the vendor's "
                          "tool, then `token pin set`"));
        tok_cfg_free(&k);
        return 1;
    }
    char *old = con_ask(c, CON_T(c, "PIN hiện tại: ", "Current PIN: "), 1);
    if (!old) {
        tok_cfg_free(&k);
        return 1;
    }
    char *pin = ask_new_pin(c);
    if (!pin) {
        con_secret_free(old);
        tok_cfg_free(&k);
        return 1;
    }
    sohoa_err err = {0};
    int rc = strcmp(old, pin) == 0
                 ? err_set(&err, SOHOA_EINPUT, "%s",
                           CON_T(c, "PIN mới trùng PIN cũ; không đổi gì",
                                 "the new PIN is the current one; nothing changed"))
                 : token_pkcs11_change_pin(&k.tp, old, pin, &err);
    con_secret_free(old);
    tok_cfg_free(&k);
    if (rc != 0) {
        con_secret_free(pin);
        csys_error(c, &err);
        return 1;
    }
    console_audit(c, "token pin", "(PIN)", "(PIN)");
    csys_say(c, 2, "%s\n", CON_T(c, "Đã đổi PIN trên token.", "The token's PIN is changed."));
    int configured = 0;
    char *path = pin_file_path(c, &configured);
    if (!configured) {
        con_secret_free(pin);
        free(path);
        csys_say(c, 2, "%s\n",
                 CON_T(c, "Trạm chưa có tệp PIN: lưu bằng `token pin set`.",
                       "The station has no PIN file: store it with `token pin set`."));
        return 0;
    }
    rc = path ? write_pin_file(path, pin, &err) : err_set(&err, SOHOA_EWORK, "out of memory");
    con_secret_free(pin);
    if (rc != 0) {
        /* The token already has the new PIN: the station would try the old
         * one at every document and use up the tries. */
        csys_error(c, &err);
        csys_say(c, 2, "%s\n",
                 CON_T(c,
                       "QUAN TRỌNG: token đã đổi PIN nhưng tệp PIN chưa; chạy ngay `token "
                       "pin set`",
                       "IMPORTANT: the token has the new PIN but the PIN file does not; run "
                       "`token pin set` now"));
        free(path);
        return 1;
    }
    console_audit(c, "token pin_file", "(PIN)", "(PIN)");
    csys_say(c, 2, "%s %s (0600).\n", CON_T(c, "Đã cập nhật", "Updated"), path);
    free(path);
    return 0;
}

/* ---- test signature ------------------------------------------------------------- */

/* Verifies `sig` over `digest` with the certificate's public key. */
static int verify_sig(const unsigned char *cert, size_t cert_len, token_sig_scheme scheme,
                      int md_nid, const unsigned char *digest, size_t dlen,
                      const unsigned char *sig, size_t slen)
{
    const unsigned char *q = cert;
    X509 *x = d2i_X509(NULL, &q, (long)cert_len);
    EVP_PKEY_CTX *ctx = x ? EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL) : NULL;
    int ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbynid(md_nid)) == 1;
    if (ok && scheme == TOKEN_SIG_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbynid(md_nid)) == 1;
    else if (ok && scheme == TOKEN_SIG_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    ok = ok && EVP_PKEY_verify(ctx, sig, slen, digest, dlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    X509_free(x);
    return ok;
}

csys_verdict csys_token_test(console *c, int verbose, char *summary, size_t cap)
{
    char sum_buf[1024];
    if (!summary) {
        summary = sum_buf;
        cap = sizeof sum_buf;
    }
    long t0 = csys_ms();
    signing_setup s;
    sohoa_err err = {0};
    token *t = NULL;
    unsigned char *cert = NULL, *sig = NULL;
    size_t cert_len = 0, sig_len = 0;
    csys_verdict v = CSYS_FAIL;
    if (signing_load(&c->cfg, &s, &err) != 0 || !(t = signing_open_token(&s, &err))) {
        snprintf(summary, cap, "%s", err.msg);
        goto out;
    }
    if (verbose)
        csys_wrap(c, "Token: ", 2, t->description);
    int md_nid = s.po.md_nid ? s.po.md_nid : NID_sha256;
    token_sig_scheme scheme = t->key_type == TOKEN_KEY_EC        ? TOKEN_SIG_ECDSA
                              : s.po.scheme == TOKEN_SIG_RSA_PSS ? TOKEN_SIG_RSA_PSS
                                                                 : TOKEN_SIG_RSA_PKCS1;
    /* A fresh message each time: nothing here can be replayed as a
     * signature over a document. */
    unsigned char msg[64], digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    memcpy(msg, "sohoa console token test ", 25);
    if (RAND_bytes(msg + 25, (int)sizeof msg - 25) != 1 ||
        EVP_Digest(msg, sizeof msg, digest, &dlen, EVP_get_digestbynid(md_nid), NULL) != 1) {
        snprintf(summary, cap, "OpenSSL: %s",
                 CON_T(c, "không tạo được dữ liệu thử", "cannot make the test data"));
        goto out;
    }
    long ts = csys_ms();
    if (token_sign_digest(t, scheme, md_nid, digest, dlen, &sig, &sig_len, &err) != 0) {
        snprintf(summary, cap, "%s", err.msg);
        goto out;
    }
    long sign_ms = csys_ms() - ts;
    if (token_certificate(t, &cert, &cert_len, &err) != 0) {
        snprintf(summary, cap, "%s", err.msg);
        goto out;
    }
    const char *sch = scheme == TOKEN_SIG_ECDSA     ? "ECDSA"
                      : scheme == TOKEN_SIG_RSA_PSS ? "RSA-PSS"
                                                    : "RSA PKCS#1 v1.5";
    if (!verify_sig(cert, cert_len, scheme, md_nid, digest, dlen, sig, sig_len)) {
        snprintf(summary, cap, "%s %s-%d %s: %s", CON_T(c, "chữ ký", "the"), sch, t->key_bits,
                 OBJ_nid2sn(md_nid),
                 CON_T(c,
                       "KHÔNG khớp khóa công khai của chứng thư; chứng thư trên token không "
                       "phải của khóa này",
                       "signature does NOT verify with the certificate's key; the certificate "
                       "on the token is not this key's"));
        goto out;
    }
    snprintf(summary, cap, "%s %s-%d, %s %s (%s %ld ms, %s %ld ms)",
             CON_T(c, "ký thử", "test signature"), sch, t->key_bits, OBJ_nid2sn(md_nid),
             CON_T(c, "kiểm tra đúng bằng chứng thư", "verified with the certificate"),
             CON_T(c, "ký", "signing"), sign_ms, CON_T(c, "tổng", "total"), csys_ms() - t0);
    v = CSYS_OK;
out:
    free(cert);
    free(sig);
    if (t)
        token_close(t);
    signing_free(&s);
    if (verbose) {
        char first[32];
        snprintf(first, sizeof first, "%s: ", csys_verdict_name(c, v));
        csys_wrap(c, first, 4, summary);
    }
    return v;
}

/* ---- the command -------------------------------------------------------------- */

int csys_cmd_token(console *c, int argc, char **argv)
{
    if (argc == 1 || (argc == 2 && strcmp(argv[1], "show") == 0))
        return csys_token_show(c);
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return token_list(c);
    if (argc == 3 && strcmp(argv[1], "use") == 0)
        return token_use(c, argv[2]);
    if (argc == 3 && strcmp(argv[1], "pin") == 0 && strcmp(argv[2], "set") == 0)
        return pin_set(c);
    if (argc == 3 && strcmp(argv[1], "pin") == 0 && strcmp(argv[2], "change") == 0)
        return pin_change(c);
    if (argc == 2 && strcmp(argv[1], "test") == 0)
        return csys_token_test(c, 1, NULL, 0) == CSYS_FAIL ? 1 : 0;
    return con_usage(c, csys_cmd("token"));
}
