/* sender.c — one step of the upload queue (see sender.h). */
#include "sender.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edxml.h"
#include "log.h"

int sender_init(sender *s, const config *cfg, reg *r, sohoa_err *err)
{
    memset(s, 0, sizeof *s);
    s->r = r;
    if (config_get_int(cfg, "upload", "retry_min", 5, 1, 86400, &s->retry_min, err) != 0 ||
        config_get_int(cfg, "upload", "retry_max", 900, 1, 7 * 86400, &s->retry_max, err) != 0)
        return -1;
    if (s->retry_max < s->retry_min)
        return err_set(err, SOHOA_EINPUT, "%s: [upload] retry_max must not be below retry_min",
                       cfg->path ? cfg->path : "configuration");
    upload_options o;
    if (upload_options_load(cfg, &o, err) != 0) {
        upload_options_free(&o);
        return -1;
    }
    s->up = uploader_new(&o, err);
    upload_options_free(&o);
    s->rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    return s->up ? 0 : -1;
}

void sender_free(sender *s)
{
    uploader_free(s->up);
    s->up = NULL;
}

long sender_backoff(long retry_min, long retry_max, int attempts, double r01)
{
    double d = (double)retry_min;
    for (int i = 0; i < attempts && d < (double)retry_max; i++)
        d *= 2;
    if (d > (double)retry_max)
        d = (double)retry_max;
    /* jitter: stations that lost the server together do not all come
     * back in the same second */
    long v = (long)(d * (0.5 + 0.5 * r01));
    return v < 1 ? 1 : v;
}

/* Records the server's Status packet, when the answer carries one. */
static void status_of(const upload_result *res, char code[3], char *desc, size_t desc_len)
{
    code[0] = 0;
    desc[0] = 0;
    if (!res->body || res->body_len == 0)
        return;
    edxml_status st;
    sohoa_err e = {0};
    if (edxml_parse_status(res->body, res->body_len, &st, &e) == 0) {
        snprintf(code, 3, "%s", st.code);
        snprintf(desc, desc_len, "%s", st.description ? st.description : "");
        edxml_status_free(&st);
    } else {
        log_info("upload: the answer is not a Status packet (%s)", e.msg);
    }
}

int sender_step(sender *s, time_t now, int *attempted, time_t *next_due, sohoa_err *err)
{
    *attempted = 0;
    *next_due = 0;
    reg_doc d = {0};
    int found = 0;
    if (reg_next_to_send(s->r, now, &d, &found, err) != 0)
        return -1;
    if (!found) {
        int any = 0;
        if (reg_next_due(s->r, next_due, &any, err) != 0)
            return -1;
        if (!any)
            *next_due = 0;
        return 0;
    }
    *attempted = 1;
    char *env = NULL;
    if (asprintf(&env, "%s/envelope.xml", d.dir) < 0) {
        reg_doc_free(&d);
        return err_set(err, SOHOA_EWORK, "out of memory");
    }
    upload_result res;
    memset(&res, 0, sizeof res);
    int rc = uploader_post_file(s->up, env, d.document_id, &res, err);
    free(env);
    if (rc != 0) {
        /* the envelope cannot be read: try again later rather than lose
         * the document; the error says which file */
        long delay = sender_backoff(s->retry_min, s->retry_max, d.attempts,
                                    (double)rand_r(&s->rng) / ((double)RAND_MAX + 1));
        snprintf(s->last_error, sizeof s->last_error, "%s", err->msg);
        sohoa_err e2 = {0};
        reg_mark_retry(s->r, d.id, now + delay, err->msg, now, &e2);
        reg_doc_free(&d);
        return -1;
    }
    switch (res.outcome) {
    case UPLOAD_OK: {
        char code[3], desc[256];
        status_of(&res, code, desc, sizeof desc);
        rc = reg_mark_sent(s->r, d.id, code[0] ? code : NULL, desc[0] ? desc : NULL, now, err);
        if (rc == 0) {
            s->last_error[0] = 0;
            log_info("document %lld sent: %s%s", (long long)d.id, d.document_id,
                     res.replayed ? " (the server already had it)" : "");
        }
        break;
    }
    case UPLOAD_RETRY: {
        long delay = sender_backoff(s->retry_min, s->retry_max, d.attempts,
                                    (double)rand_r(&s->rng) / ((double)RAND_MAX + 1));
        snprintf(s->last_error, sizeof s->last_error, "%s", res.message);
        log_warn("document %lld not sent (%s); next try in %ld s", (long long)d.id, res.message,
                 delay);
        rc = reg_mark_retry(s->r, d.id, now + delay, res.message, now, err);
        break;
    }
    case UPLOAD_REJECTED:
        snprintf(s->last_error, sizeof s->last_error, "%s", res.message);
        log_warn("document %lld refused by the server: %s; held for the clerk", (long long)d.id,
                 res.message);
        rc = reg_mark_rejected(s->r, d.id, res.message, now, err);
        break;
    }
    upload_result_free(&res);
    reg_doc_free(&d);
    return rc;
}
