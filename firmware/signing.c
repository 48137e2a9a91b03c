/* signing.c — configuration → token and PAdES options (signing.h). */
#include "signing.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/obj_mac.h>

#include "log.h"

static const char *cfg_name(const config *cfg)
{
    return cfg->path ? cfg->path : "configuration";
}

/* A path from the configuration, relative to its directory. */
static const char *path_key(const config *cfg, signing_setup *s, const char *section,
                            const char *key)
{
    const char *v = config_get(cfg, section, key, NULL);
    if (!v || !*v)
        return NULL;
    if (v[0] == '/' || !cfg->path || s->npaths >= (int)(sizeof s->paths / sizeof s->paths[0]))
        return v;
    char *dir_copy = strdup(cfg->path);
    char *full = NULL;
    if (dir_copy && asprintf(&full, "%s/%s", dirname(dir_copy), v) < 0)
        full = NULL;
    free(dir_copy);
    if (!full)
        return v;
    s->paths[s->npaths++] = full;
    return full;
}

static int choice(const config *cfg, const char *section, const char *key, const char *def,
                  const char *const *names, int n, sohoa_err *err)
{
    const char *v = config_get(cfg, section, key, def);
    for (int i = 0; i < n; i++)
        if (strcasecmp(v, names[i]) == 0)
            return i;
    char list[160] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    return err_set(err, SOHOA_EINPUT, "%s: [%s] %s = \"%s\": expected one of %s", cfg_name(cfg),
                   section, key, v, list);
}

int signing_load_trust(const config *cfg, signing_setup *s, sohoa_err *err)
{
    memset(s, 0, sizeof *s);
    s->trust_file = path_key(cfg, s, "signature", "trust_file");
    return 0;
}

int signing_load(const config *cfg, signing_setup *s, sohoa_err *err)
{
    signing_load_trust(cfg, s, err);
    static const char *const backends[] = {"pkcs11", "ccid", "file"};
    int b = choice(cfg, "token", "backend", "pkcs11", backends, 3, err);
    if (b < 0)
        return -1;
    s->tp.backend = backends[b];
    s->tp.module = path_key(cfg, s, "token", "module");
    s->tp.token_label = config_get(cfg, "token", "token_label", NULL);
    s->tp.key_label = config_get(cfg, "token", "key_label", NULL);
    s->tp.key_file = path_key(cfg, s, "token", "key_file");
    s->tp.reader = config_get(cfg, "token", "reader", NULL);
    if (b == 0 && !s->tp.module)
        return err_set(err, SOHOA_EINPUT,
                       "%s: [token] module is not set: give the PKCS#11 module of the token "
                       "(e.g. /usr/lib/softhsm/libsofthsm2.so)",
                       cfg_name(cfg));
    if (b == 2 && !s->tp.key_file)
        return err_set(err, SOHOA_EINPUT,
                       "%s: [token] key_file is not set: the file backend needs a PKCS#12 file",
                       cfg_name(cfg));
    const char *pin_file = path_key(cfg, s, "token", "pin_file");
    if (pin_file && token_read_pin_file(pin_file, &s->pin, err) != 0)
        return -1;
    s->tp.pin = s->pin;

    static const char *const hashes[] = {"sha256", "sha384", "sha512"};
    static const int nids[] = {NID_sha256, NID_sha384, NID_sha512};
    int h = choice(cfg, "signature", "hash", "sha256", hashes, 3, err);
    static const char *const paddings[] = {"pkcs1", "pss"};
    int p = h < 0 ? -1 : choice(cfg, "signature", "rsa_padding", "pkcs1", paddings, 2, err);
    static const char *const fallbacks[] = {"wait", "bb"};
    int f = p < 0 ? -1 : choice(cfg, "signature", "tsa_fallback", "wait", fallbacks, 2, err);
    static const char *const yesno[] = {"yes", "no"};
    int vis = f < 0 ? -1 : choice(cfg, "signature", "visible", "yes", yesno, 2, err);
    long timeout = 30;
    if (vis < 0 ||
        config_get_int(cfg, "signature", "tsa_timeout", 30, 1, 600, &timeout, err) != 0)
        return -1;
    pades_options *o = &s->po;
    o->md_nid = nids[h];
    o->scheme = p == 1 ? TOKEN_SIG_RSA_PSS : 0;
    o->invisible = vis == 1;
    o->organization = config_get(cfg, "signature", "organization",
                                 config_get(cfg, "station", "organ_name", NULL));
    o->label_signer = config_get(cfg, "signature", "label_signer", NULL);
    o->label_time = config_get(cfg, "signature", "label_time", NULL);
    o->seal_png = path_key(cfg, s, "signature", "seal_image");
    o->reason = config_get(cfg, "signature", "reason", NULL);
    o->location = config_get(cfg, "signature", "location", NULL);
    o->tsa_url = config_get(cfg, "signature", "tsa_url", NULL);
    o->tsa.timeout_s = timeout;
    o->tsa.ca_file = path_key(cfg, s, "signature", "tsa_ca_file");
    o->tsa.trust_file = s->trust_file;
    o->tsa_fallback = f == 1 ? PADES_TSA_BB : PADES_TSA_WAIT;
    return 0;
}

token *signing_open_token(const signing_setup *s, sohoa_err *err)
{
    token *t = token_open(&s->tp, err);
    if (t)
        log_info("token: %s", t->description);
    return t;
}

void signing_free(signing_setup *s)
{
    for (int i = 0; i < s->npaths; i++)
        free(s->paths[i]);
    if (s->pin)
        token_pin_free(s->pin);
    memset(s, 0, sizeof *s);
}
