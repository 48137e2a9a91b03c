/* config_keys.c — the table of settings (config_keys.h). Defaults are
 * those the loaders use when a key is absent; keep both in step. */
#include "config_keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define T(s, k, d, h)                                                                              \
    {                                                                                              \
        s, k, KEY_TEXT, d, 0, 0, NULL, h                                                           \
    }
#define P(s, k, d, h)                                                                              \
    {                                                                                              \
        s, k, KEY_PATH, d, 0, 0, NULL, h                                                           \
    }
#define I(s, k, d, lo, hi, h)                                                                      \
    {                                                                                              \
        s, k, KEY_INT, d, lo, hi, NULL, h                                                          \
    }
#define E(s, k, d, c, h)                                                                           \
    {                                                                                              \
        s, k, KEY_ENUM, d, 0, 0, c, h                                                              \
    }

const config_key config_keys[] = {
    T("station", "organ_id", "", "ma dinh danh of this organization (edXML From)"),
    T("station", "organ_name", "", "name of this organization (edXML From)"),
    P("station", "data_dir", "/var/lib/sohoa", "register, queue and documents"),
    P("station", "control_socket", "", "default data_dir/control.sock"),
    T("station", "office_hours", "07:30-11:30,13:30-17:00", "receipt periods"),
    T("station", "workdays", "mon-fri", "working days, e.g. mon-fri,sat"),
    T("station", "holidays", "", "dates and ranges: 2026-01-01,2026-02-16..2026-02-20"),
    P("station", "holidays_file", "", "one date or range per line"),
    I("station", "min_free_mb", "100", 1, 1000000, "refuse new jobs below this free space"),
    I("station", "disk_warn_percent", "80", 1, 100, "warn above this disk use"),
    I("station", "retry_interval", "30", 1, 86400, "seconds before a failed step is retried"),
    T("station", "organ_add", "", "edXML From: address"),
    T("station", "email", "", "edXML From: e-mail"),
    T("station", "telephone", "", "edXML From: telephone"),
    T("station", "fax", "", "edXML From: fax"),
    T("station", "website", "", "edXML From: website"),
    P("station", "board", "", "board config file (lights, button, UART)"),

    E("ocr", "languages", "vie", NULL, "Tesseract languages, e.g. vie or vie+eng"),
    I("ocr", "ocr_dpi", "200", 0, 1200, "resolution OCR reads at; 0 = the scan's own"),
    I("ocr", "threads", "0", 0, 64, "OCR worker threads; 0 = one per CPU"),
    E("ocr", "compression", "auto", "auto|mrc|jpeg|g4", "page compression"),

    E("token", "backend", "pkcs11", "pkcs11|ccid|file", "where the signing key lives"),
    P("token", "module", "", "PKCS#11 module"),
    T("token", "token_label", "", "PKCS#11 token label; empty = the only token"),
    T("token", "key_label", "", "key and certificate label"),
    P("token", "pin_file", "", "file holding the user PIN (mode 0600)"),
    P("token", "key_file", "", "file backend: PKCS#12 (development only)"),
    T("token", "reader", "", "ccid: VID:PID of the reader; empty = the first"),

    T("signature", "organization", "", "text of the visible signature"),
    T("signature", "reason", "", "signature reason"),
    T("signature", "location", "", "signature location"),
    E("signature", "hash", "sha256", "sha256|sha384|sha512", "digest"),
    E("signature", "rsa_padding", "pkcs1", "pkcs1|pss", "RSA signature padding"),
    E("signature", "visible", "yes", "yes|no", "the visible signature on page 1"),
    T("signature", "label_signer", "Ký bởi", "first line label of the visible signature"),
    T("signature", "label_time", "Thời gian ký", "second line label"),
    P("signature", "seal_image", "", "PNG of the seal"),
    T("signature", "tsa_url", "", "RFC 3161 server; empty = no timestamp"),
    E("signature", "tsa_fallback", "wait", "wait|bb", "TSA down: wait, or sign without"),
    I("signature", "tsa_timeout", "30", 1, 600, "seconds"),
    P("signature", "tsa_ca_file", "", "anchors for an https TSA"),
    P("signature", "trust_file", "", "PEM anchors for verification"),

    T("scanner", "device", "", "SANE device; empty = the first document scanner"),
    T("scanner", "options", "", "extra SANE options, NAME=VALUE,..."),
    E("scanner", "source", "auto", "auto|adf|adf-duplex|flatbed", "paper source"),
    I("scanner", "resolution", "300", 200, 1200, "dpi (at least 200)"),
    E("scanner", "mode", "color", "color|gray|lineart", "scan mode"),

    T("guard", "secrecy_threshold", "0.8", "hold as classified when less sure than this"),
    E("guard", "unreviewed", "hold", "hold|send", "documents with fields to check"),

    T("upload", "url", "", "https endpoint documents are POSTed to"),
    P("upload", "ca_file", "", "trust anchors for the server"),
    P("upload", "client_cert", "", "mTLS certificate"),
    P("upload", "client_key", "", "mTLS key"),
    P("upload", "auth_token_file", "", "bearer token file (mode 0600)"),
    T("upload", "content_type", "application/xml", "Content-Type of the POST"),
    T("upload", "proxy", "", "http://host:port; empty = the environment"),
    I("upload", "connect_timeout", "10", 1, 600, "seconds"),
    I("upload", "timeout", "120", 1, 3600, "seconds for a whole request"),
    I("upload", "retry_min", "5", 1, 86400, "first backoff, seconds"),
    I("upload", "retry_max", "900", 1, 86400, "longest backoff, seconds"),
    T("upload", "to_organ_id", "", "edXML To: organ id"),
    T("upload", "to_organ_name", "", "edXML To: name"),
    E("upload", "trace_time_format", "yyyy/MM/dd HH:mm:ss",
      "yyyy/MM/dd HH:mm:ss|dd/MM/yyyy HH:mm:ss", "TraceHeader time format"),

    {"console", "password_hash", KEY_SECRET, "", 0, 0, NULL,
     "crypt(3) hash of the admin password; empty = set at first login"},
    I("console", "idle_timeout", "600", 5, 86400, "log out after this many idle seconds"),
    I("console", "lockout_after", "3", 1, 100, "failed logins before a lockout"),
    I("console", "lockout_seconds", "30", 1, 3600, "first lockout; doubles each time"),
    T("console", "apply_command", "systemctl restart sohoa.service",
      "run after `config apply`/`rollback`; empty = none"),
    T("console", "log_command", "journalctl -u sohoa.service --no-pager -o short-iso",
      "prints the service's log (`logs`)"),
    P("console", "network_file", "/etc/systemd/network/20-sohoa.network", "networkd file"),
    T("console", "network_apply_command", "networkctl reload", "run after a network change"),
    P("console", "timesyncd_file", "/etc/systemd/timesyncd.conf.d/sohoa.conf", "NTP servers"),
    T("console", "time_apply_command", "systemctl try-restart systemd-timesyncd",
      "run after `time ntp`; empty = none"),
    T("console", "timedatectl", "timedatectl", "asked for the NTP sync state; empty = none"),
    T("console", "reboot_command", "systemctl reboot", "`reboot`"),
    T("console", "shutdown_command", "systemctl poweroff", "`shutdown`"),
    P("console", "export_dir", "/media/usb", "where `register export` writes (USB stick)"),

    T("board", "name", "", "board name"),
    T("board", "gpio_chip", "", "GPIO chip of the button and lights"),
    T("board", "button_line", "", "GPIO line of the button"),
    E("board", "button_active_low", "yes", "yes|no", "button pulls the line low"),
    T("board", "led_green", "", "GPIO line"),
    T("board", "led_yellow", "", "GPIO line"),
    T("board", "led_red", "", "GPIO line"),
    T("board", "buzzer_line", "", "GPIO line"),
    P("board", "console", "", "serial console device"),
    {NULL, NULL, KEY_TEXT, NULL, 0, 0, NULL, NULL},
};

const config_key *config_key_find(const char *section, const char *key)
{
    for (const config_key *k = config_keys; k->section; k++)
        if (strcmp(k->section, section) == 0 && strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

/* `word` is one of the '|'-separated `choices`. */
static int in_choices(const char *choices, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = choices; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

int config_key_check(const char *section, const char *key, const char *value, sohoa_err *err)
{
    const config_key *k = config_key_find(section, key);
    if (!k)
        return err_set(err, SOHOA_EINPUT, "[%s] %s: no such setting (`config show` lists them all)",
                       section, key);
    if (strpbrk(value, "\r\n"))
        return err_set(err, SOHOA_EINPUT, "[%s] %s: the value must be one line", section, key);
    /* the INI reader takes " ;" and " #" as the start of a comment */
    if (strstr(value, " ;") || strstr(value, " #") || strstr(value, "\t;") ||
        strstr(value, "\t#") || value[0] == ';' || value[0] == '#')
        return err_set(err, SOHOA_EINPUT,
                       "[%s] %s: the value cannot contain \" ;\" or \" #\" (a comment)", section,
                       key);
    if (!*value)
        return 0; /* empty = the default, for every key */
    if (k->kind == KEY_INT) {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || *end || end == value || v < k->min || v > k->max)
            return err_set(err, SOHOA_EINPUT,
                           "[%s] %s: \"%s\" is not a whole number from %ld to %ld", section, key,
                           value, k->min, k->max);
    } else if (k->kind == KEY_ENUM && k->choices && !in_choices(k->choices, value)) {
        return err_set(err, SOHOA_EINPUT, "[%s] %s: \"%s\" is not one of %s", section, key, value,
                       k->choices);
    }
    return 0;
}
