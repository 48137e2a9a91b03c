/* pades.c — PAdES signing and verification of whole files (pades.h). */
#include "pades.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "../firmware/fsutil.h"
#include "../firmware/log.h"
#include "certcheck.h"
#include "cms.h"
#include "cms_verify.h"

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Adds the RFC 3161 token to *der, or applies the fallback policy. */
static int timestamp(const pades_options *o, int md_nid, unsigned char **der, size_t *der_len,
                     pades_result *res, sohoa_err *err)
{
    unsigned char *sig = NULL, *tok = NULL;
    size_t sig_len = 0, tok_len = 0;
    sohoa_err terr = {0};
    int rc = cms_signature_value(*der, *der_len, &sig, &sig_len, err);
    if (rc != 0)
        return -1;
    if (tsa_timestamp(o->tsa_url, &o->tsa, sig, sig_len, md_nid, &tok, &tok_len, &terr) == 0 &&
        cms_add_timestamp(der, der_len, tok, tok_len, &terr) == 0) {
        res->timestamped = 1;
    } else if (o->tsa_fallback == PADES_TSA_BB) {
        /* the reason is cut to fit the one-line warning */
        snprintf(res->warning, sizeof res->warning, "no timestamp (signed B-B): %.200s", terr.msg);
        log_warn("signature: %s", res->warning);
    } else {
        err_set(err, SOHOA_EWORK, "%s; the document was not signed and will wait for the TSA",
                terr.msg);
        rc = -1;
    }
    free(sig);
    free(tok);
    return rc;
}

int pades_sign_file(const char *in_path, const char *out_path, token *t, const pades_options *o,
                    pades_result *res, sohoa_err *err)
{
    pades_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!t || !o)
        return err_set(err, SOHOA_EINPUT, "sign: no token or options given");
    int md_nid = o->md_nid ? o->md_nid : NID_sha256;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    if (!md)
        return err_set(err, SOHOA_EINPUT, "sign: unsupported digest");
    time_t now = o->now ? o->now : time(NULL);

    /* The certificate first: an expired one is refused before any byte is
     * written, and its CN names the signer in the appearance. */
    unsigned char *cert = NULL;
    size_t cert_len = 0;
    if (token_certificate(t, &cert, &cert_len, err) != 0)
        return -1;
    if (token_check_cert_validity(cert, cert_len, now, err) != 0) {
        free(cert);
        return -1;
    }
    token_cert_name(cert, cert_len, res->signer, sizeof res->signer);
    free(cert);

    char line1[512], line2[128], when[40];
    pdf_sig_format_time(now, when, sizeof when);
    snprintf(line1, sizeof line1, "%s: %s", o->label_signer ? o->label_signer : "Ký bởi",
             o->organization && *o->organization ? o->organization : res->signer);
    snprintf(line2, sizeof line2, "%s: %s", o->label_time ? o->label_time : "Thời gian ký", when);
    const char *lines[] = {line1, line2};
    pdf_sig_request req = {
        .signing_time = now,
        .name = res->signer,
        .reason = o->reason,
        .location = o->location,
        .visible = !o->invisible,
        .lines = lines,
        .n_lines = 2,
        .font_path = o->font_path,
        .font_size = 10,
        .seal_png = o->seal_png,
        .avoid = o->avoid,
        .n_avoid = o->n_avoid,
    };

    atomic_file af = {0};
    if (atomic_open(&af, out_path, 0644, err) != 0)
        return -1;
    int fd = fileno(af.f);
    pdf_sig_prepared prep;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    unsigned char *der = NULL;
    size_t der_len = 0;
    cms_sign_opts co = {.md_nid = md_nid, .scheme = o->scheme, .now = now};
    if (pdf_sig_prepare(in_path, fd, &req, &prep, err) != 0 ||
        pdf_sig_hash_ranges(fd, prep.byte_range, md, digest, &digest_len, err) != 0 ||
        cms_sign_detached(t, digest, digest_len, &co, &der, &der_len, err) != 0)
        goto fail;
    if (o->tsa_url && *o->tsa_url && timestamp(o, md_nid, &der, &der_len, res, err) != 0)
        goto fail;
    if (pdf_sig_fill(fd, &prep, der, der_len, err) != 0 || atomic_commit(&af, err) != 0)
        goto fail;
    free(der);
    copy_str(res->level, sizeof res->level, res->timestamped ? "B-T" : "B-B");
    copy_str(res->field, sizeof res->field, prep.field_name);
    res->rect = prep.rect;
    return 0;
fail:
    free(der);
    atomic_abort(&af);
    return -1;
}

/* ---- verification ------------------------------------------------------ */

typedef struct range_ctx {
    int fd;
    const long long *br;
} range_ctx;

static int digest_ranges(void *ctx, const EVP_MD *md, unsigned char *out, unsigned *out_len,
                         sohoa_err *err)
{
    const range_ctx *rc = ctx;
    return pdf_sig_hash_ranges(rc->fd, rc->br, md, out, out_len, err);
}

int pades_verify_file(const char *path, const char *trust_file, pades_sig_report **reports,
                      int *n, sohoa_err *err)
{
    *reports = NULL;
    *n = 0;
    pdf_sig_info *sigs = NULL;
    int count = 0;
    if (pdf_sig_list(path, &sigs, &count, err) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pdf_sig_list_free(sigs, count);
        return err_errno(err, SOHOA_EINPUT, errno, "%s", path);
    }
    pades_sig_report *r = calloc(count ? (size_t)count : 1, sizeof *r);
    if (!r) {
        close(fd);
        pdf_sig_list_free(sigs, count);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
    }
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        pdf_sig_info *s = &sigs[i];
        pades_sig_report *p = &r[i];
        copy_str(p->field, sizeof p->field, s->field_name);
        p->covers_whole_file = s->covers_whole_file;
        if (!s->byte_range_valid || !s->contents_len) {
            copy_str(p->status, sizeof p->status, "malformed");
            copy_str(p->detail, sizeof p->detail,
                     "/ByteRange does not frame /Contents exactly, or /Contents is empty");
            continue;
        }
        range_ctx ctx = {.fd = fd, .br = s->byte_range};
        cms_verify_result vr;
        time_t claimed = s->m_time == (time_t)-1 ? 0 : s->m_time;
        if (cms_verify_detached_cb(s->contents, s->contents_len, digest_ranges, &ctx, claimed,
                                   trust_file, &vr, err) != 0) {
            rc = -1;
            break;
        }
        copy_str(p->signer, sizeof p->signer, vr.signer);
        p->signing_time = vr.signing_time;
        p->timestamped = vr.has_timestamp;
        p->valid = vr.status == SIG_VALID;
        copy_str(p->status, sizeof p->status, sig_status_name(vr.status));
        copy_str(p->detail, sizeof p->detail, vr.detail);
    }
    /* Bytes after the last signature's revision are unsigned changes,
     * unless a later valid signature covers them. */
    if (rc == 0) {
        int last_whole = -1;
        for (int i = 0; i < count; i++)
            if (r[i].valid && r[i].covers_whole_file)
                last_whole = i;
        for (int i = 0; i < count; i++)
            if (r[i].valid && !r[i].covers_whole_file && last_whole < 0) {
                r[i].valid = 0;
                copy_str(r[i].status, sizeof r[i].status, "document modified after signing");
            }
    }
    close(fd);
    pdf_sig_list_free(sigs, count);
    if (rc != 0) {
        free(r);
        return -1;
    }
    *reports = r;
    *n = count;
    return 0;
}
