/* guard.c — classified, duplicate and review holds (see guard.h). */
#include "guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int guard_options_load(const config *cfg, guard_options *o, sohoa_err *err)
{
    const char *name = cfg->path ? cfg->path : "configuration";
    o->secrecy_threshold = 0.8;
    o->send_unreviewed = 0;
    const char *t = config_get(cfg, "guard", "secrecy_threshold", NULL);
    if (t) {
        char *end = NULL;
        double v = strtod(t, &end);
        if (end == t || *end || v < 0 || v > 1)
            return err_set(err, SOHOA_EINPUT,
                           "%s: [guard] secrecy_threshold = \"%s\": expected a number from 0 to 1",
                           name, t);
        o->secrecy_threshold = v;
    }
    const char *u = config_get(cfg, "guard", "unreviewed", "hold");
    if (strcmp(u, "hold") == 0)
        o->send_unreviewed = 0;
    else if (strcmp(u, "send") == 0)
        o->send_unreviewed = 1;
    else
        return err_set(err, SOHOA_EINPUT, "%s: [guard] unreviewed = \"%s\": expected hold or send",
                       name, u);
    return 0;
}

/* Appends "; text" (or "text" first) to the note, truncating quietly. */
static void note_add(guard_verdict *v, const char *text)
{
    size_t n = strlen(v->note);
    snprintf(v->note + n, sizeof v->note - n, "%s%s", n ? "; " : "", text);
}

int guard_check(const guard_options *o, reg *r, int64_t self, const doc_metadata *m,
                unsigned released, guard_verdict *v, sohoa_err *err)
{
    memset(v, 0, sizeof *v);
    char buf[160];

    /* Classified: a mark read, or too little certainty that there is none.
     * This check comes first and does not depend on anything else. */
    if (!(released & HOLD_CLASSIFIED)) {
        const char *sec = m->str[META_SECRECY];
        if (sec) {
            snprintf(buf, sizeof buf, "dấu mật \"%s\" (độ tin cậy %.2f)", sec,
                     m->confidence[META_SECRECY]);
            v->hold |= HOLD_CLASSIFIED;
            note_add(v, buf);
        } else if (m->confidence[META_SECRECY] < o->secrecy_threshold) {
            snprintf(buf, sizeof buf, "không chắc văn bản không có dấu mật (độ tin cậy %.2f)",
                     m->confidence[META_SECRECY]);
            v->hold |= HOLD_CLASSIFIED;
            note_add(v, buf);
        }
    }

    if (!(released & HOLD_DUPLICATE)) {
        int64_t dup = 0;
        if (reg_find_duplicate(r, m, self, &dup, err) != 0)
            return -1;
        if (dup) {
            reg_doc d = {0};
            if (reg_get(r, dup, &d, err) != 0)
                return -1;
            snprintf(buf, sizeof buf, "có thể trùng văn bản số đến %lld/%d (#%lld)",
                     (long long)d.so_den, d.year, (long long)dup);
            reg_doc_free(&d);
            v->hold |= HOLD_DUPLICATE;
            v->duplicate_of = dup;
            note_add(v, buf);
        }
    }

    {
        /* Without these the packet has no DocumentId: held even after a
         * release, until the clerk fills them in. */
        int missing = !m->str[META_NUMBER_NOTATION] || !m->str[META_DATE];
        int flagged = !(released & HOLD_REVIEW) && !o->send_unreviewed;
        char fields[128] = "";
        for (int f = 0; f < META_NFIELDS; f++) {
            if (!m->review[f])
                continue;
            size_t n = strlen(fields);
            snprintf(fields + n, sizeof fields - n, "%s%s", n ? ", " : "",
                     meta_field_name((meta_field)f));
        }
        if (missing || (fields[0] && flagged)) {
            snprintf(buf, sizeof buf, "cần kiểm tra: %s",
                     fields[0] ? fields : "thiếu số, ký hiệu hoặc ngày");
            v->hold |= HOLD_REVIEW;
            note_add(v, buf);
        }
    }
    return 0;
}
