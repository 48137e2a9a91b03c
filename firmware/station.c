/* station.c — the document steps of the station (see station.h). */
#include "station.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../signer/pades.h"
#include "fsutil.h"
#include "log.h"
#include "ocr_config.h"
#include "signing.h"

static char *join(const char *a, const char *b)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

int station_init(station *st, const config *cfg, sohoa_err *err)
{
    memset(st, 0, sizeof *st);
    st->cfg = cfg;
    st->po = pipeline_defaults();
    long v;
    if (ocr_config_apply(cfg, &st->po, err) != 0 || guard_options_load(cfg, &st->guard, err) != 0 ||
        edxml_options_load(cfg, &st->edx, err) != 0 || office_hours_load(cfg, &st->oh, err) != 0)
        return -1;
    if (config_get_int(cfg, "station", "min_free_mb", 100, 0, 1L << 30, &st->min_free_mb, err) != 0 ||
        config_get_int(cfg, "station", "disk_warn_percent", 80, 1, 100, &v, err) != 0)
        return -1;
    st->disk_warn_percent = (int)v;
    st->data_dir = strdup(config_get(cfg, "station", "data_dir", "/var/lib/sohoa"));
    st->db_path = st->data_dir ? join(st->data_dir, "register.db") : NULL;
    st->docs_dir = st->data_dir ? join(st->data_dir, "docs") : NULL;
    if (!st->db_path || !st->docs_dir)
        return err_set(err, SOHOA_EWORK, "out of memory");
    if (fs_mkdir_p(st->docs_dir, 0700, err) != 0)
        return -1;
    if (access(st->docs_dir, W_OK) != 0)
        return err_errno(err, SOHOA_EWORK, errno,
                         "%s: the data directory is not writable ([station] data_dir)",
                         st->data_dir);
    return 0;
}

void station_free(station *st)
{
    office_hours_free(&st->oh);
    free(st->data_dir);
    free(st->db_path);
    free(st->docs_dir);
    memset(st, 0, sizeof *st);
}

int station_check_disk(const station *st, int *used_percent, sohoa_err *err)
{
    struct statvfs vfs;
    if (statvfs(st->data_dir, &vfs) != 0)
        return err_errno(err, SOHOA_EWORK, errno, "%s", st->data_dir);
    unsigned long long total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
    unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    int pct = total ? (int)(100 - avail * 100 / total) : 100;
    if (used_percent)
        *used_percent = pct;
    if (avail < (unsigned long long)st->min_free_mb * 1024 * 1024)
        return err_set(err, SOHOA_EWORK,
                       "%s: only %llu MB free (at least %ld MB needed); documents already taken "
                       "in are kept, free some space or send the queue",
                       st->data_dir, avail >> 20, st->min_free_mb);
    return 0;
}

/* ---- taking in pages ------------------------------------------------ */

static int key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* Removes a job directory: the page files, pages/ and the directory. Only files
 * the job itself wrote are there. */
static void remove_job_dir(const char *dir)
{
    char *pages = join(dir, "pages");
    if (pages) {
        DIR *d = opendir(pages);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)))
                if (e->d_name[0] != '.') {
                    char *p = join(pages, e->d_name);
                    if (p)
                        unlink(p);
                    free(p);
                }
            closedir(d);
        }
        rmdir(pages);
    }
    free(pages);
    rmdir(dir);
}

int station_job_begin(station *st, reg *r, const char *key, station_job *job, int64_t *existing,
                      sohoa_err *err)
{
    memset(job, 0, sizeof *job);
    *existing = 0;
    char name[96];
    if (key) {
        if (!key_valid(key))
            return err_set(err, SOHOA_EINPUT,
                           "job key \"%.64s\": expected 1-64 characters A-Z a-z 0-9 - _", key);
        snprintf(name, sizeof name, "k-%s", key);
    } else {
        /* unique without a key: the time and a random suffix (mkdtemp) */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(name, sizeof name, "%Y%m%dT%H%M%SZ-XXXXXX", &tm);
    }
    char *dir = join(st->docs_dir, name);
    if (!dir)
        return err_set(err, SOHOA_EWORK, "out of memory");
    if (key) {
        if (reg_find_by_dir(r, dir, existing, err) != 0) {
            free(dir);
            return -1;
        }
        if (*existing) {
            free(dir);
            return 0;
        }
        /* left by a job that never committed: its pages were not
         * acknowledged, start again */
        remove_job_dir(dir);
        if (mkdir(dir, 0700) != 0) {
            err_errno(err, SOHOA_EWORK, errno, "%s", dir);
            free(dir);
            return -1;
        }
    } else if (!mkdtemp(dir)) {
        err_errno(err, SOHOA_EWORK, errno, "%s: cannot create the document directory", dir);
        free(dir);
        return -1;
    }
    job->dir = dir;
    job->pages_dir = join(dir, "pages");
    if (!job->pages_dir || mkdir(job->pages_dir, 0700) != 0) {
        err_errno(err, SOHOA_EWORK, errno, "%s/pages", dir);
        station_job_abort(job);
        return -1;
    }
    return 0;
}

static int ext_allowed(const char *ext)
{
    static const char *const ok[] = {"png", "jpg", "jpeg", "tif", "tiff", "pnm", "ppm", "pgm", "pbm"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcmp(ext, ok[i]) == 0)
            return 1;
    return 0;
}

int station_job_add_page(station_job *job, FILE *in, size_t size, const char *ext,
                         sohoa_err *err)
{
    if (!ext_allowed(ext))
        return err_set(err, SOHOA_EINPUT,
                       "page type \"%.16s\": expected png, jpg, tif or pnm", ext);
    char name[32];
    snprintf(name, sizeof name, "%04d.%s", job->npages + 1, ext);
    char *path = join(job->pages_dir, name);
    if (!path)
        return err_set(err, SOHOA_EWORK, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_errno(err, SOHOA_EWORK, errno, "%s", path);
        free(path);
        return -1;
    }
    char buf[65536];
    size_t left = size;
    int rc = 0;
    while (left > 0 && rc == 0) {
        size_t want = left < sizeof buf ? left : sizeof buf;
        size_t got = fread(buf, 1, want, in);
        if (got == 0) {
            rc = err_set(err, SOHOA_EINPUT, "page %d: the sender stopped after %zu of %zu bytes",
                         job->npages + 1, size - left, size);
            break;
        }
        for (size_t off = 0; off < got && rc == 0;) {
            ssize_t w = write(fd, buf + off, got - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                rc = err_errno(err, SOHOA_EWORK, errno, "%s", path);
            else
                off += (size_t)w;
        }
        left -= got;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = err_errno(err, SOHOA_EWORK, errno, "%s", path);
    close(fd);
    if (rc != 0)
        unlink(path);
    else
        job->npages++;
    free(path);
    return rc;
}

void station_job_abort(station_job *job)
{
    if (job->dir)
        remove_job_dir(job->dir);
    free(job->dir);
    free(job->pages_dir);
    memset(job, 0, sizeof *job);
}

int station_job_commit(station *st, reg *r, station_job *job, time_t now, int64_t *id,
                       sohoa_err *err)
{
    if (job->npages == 0) {
        station_job_abort(job);
        return err_set(err, SOHOA_EINPUT, "no pages: nothing to digitise");
    }
    /* the pages and their directory entries reach the disk before the
     * register says the document exists */
    char *probe = join(job->pages_dir, "x");
    int rc = probe ? fs_sync_parent(probe, err) : err_set(err, SOHOA_EWORK, "out of memory");
    free(probe);
    if (rc == 0)
        rc = fs_sync_parent(job->pages_dir, err);
    if (rc == 0)
        rc = reg_create(r, job->dir, now, office_hours_effective(&st->oh, now), id, err);
    if (rc != 0) {
        station_job_abort(job);
        return -1;
    }
    free(job->dir);
    free(job->pages_dir);
    memset(job, 0, sizeof *job);
    return 0;
}

/* ---- scanning --------------------------------------------------------- */

static int fail_document(reg *r, int64_t id, sohoa_err *err);

#define SCAN_MAX_PAGES 1000

typedef struct scan_feed {
    pipeline_feed *feed;
    int dpi;
    sohoa_err err;
    int failed;
} scan_feed;

static int feed_page(void *ctx, const char *path, int index)
{
    scan_feed *f = ctx;
    char *page = f->dpi == SCANNER_DEFAULT_DPI ? strdup(path)
                                               : scanner_page_with_resolution(path, f->dpi, &f->err);
    if (!page || pipeline_feed_add(f->feed, page, &f->err) != 0) {
        if (!page)
            err_set(&f->err, SOHOA_EWORK, "out of memory");
        f->failed = 1;
    }
    log_info("page %d scanned%s", index, f->failed ? " (not taken: see below)" : "");
    free(page);
    return f->failed;
}

/* Keeps the pages of a failed batch for diagnosis (none: nothing kept). */
static void keep_failed_scan(station *st, station_job *job, int npages)
{
    if (npages == 0) {
        station_job_abort(job);
        return;
    }
    char *dir = join(st->data_dir, "failed-scans");
    const char *base = strrchr(job->dir, '/');
    char *dest = dir ? join(dir, base ? base + 1 : job->dir) : NULL;
    if (dest && fs_mkdir_p(dir, 0700, NULL) == 0 && rename(job->dir, dest) == 0)
        log_warn("the %d page(s) scanned before the failure are kept in %s", npages, dest);
    else
        station_job_abort(job);
    free(dir);
    free(dest);
    free(job->dir);
    free(job->pages_dir);
    memset(job, 0, sizeof *job);
}

int station_scan(station *st, reg *r, scanner *sc, const volatile int *cancel, int64_t *id,
                 scan_status *ss, int *npages, sohoa_err *err)
{
    *id = 0;
    *npages = 0;
    *ss = SCAN_OK;
    station_job job;
    int64_t existing;
    if (station_job_begin(st, r, NULL, &job, &existing, err) != 0)
        return -1;
    scan_feed f = {.dpi = scanner_resolution(sc)};
    if (!(f.feed = pipeline_feed_open(job.dir, &st->po, SCAN_MAX_PAGES, err))) {
        station_job_abort(&job);
        return -1;
    }
    if (scanner_scan(sc, job.pages_dir, feed_page, &f, cancel, ss, npages, err) != 0 || f.failed) {
        if (f.failed)
            *err = f.err;
        pipeline_feed_abort(f.feed);
        keep_failed_scan(st, &job, *npages);
        return -1;
    }
    if (*ss != SCAN_OK) {
        pipeline_feed_abort(f.feed);
        keep_failed_scan(st, &job, *npages);
        return 0;
    }
    char *dir = strdup(job.dir);
    job.npages = *npages;
    if (!dir || station_job_commit(st, r, &job, time(NULL), id, err) != 0) {
        if (!dir)
            err_set(err, SOHOA_EWORK, "out of memory");
        pipeline_feed_abort(f.feed);
        station_job_abort(&job);
        free(dir);
        return -1;
    }
    free(dir);
    /* The document exists now; if its processing fails here, the worker
     * does it again from the pages. */
    doc_metadata meta = {0};
    sohoa_err perr = {0};
    if (pipeline_feed_finish(f.feed, &meta, &perr) == 0)
        reg_set_metadata(r, *id, &meta, time(NULL), &perr);
    else if (perr.status == SOHOA_EINPUT)
        fail_document(r, *id, &perr);
    if (perr.msg[0])
        log_warn("document %lld: %s", (long long)*id, perr.msg);
    meta_free(&meta);
    return 0;
}

/* ---- the steps -------------------------------------------------------- */

int station_state_pending(doc_state s)
{
    return s == DOC_SCANNED || s == DOC_PROCESSED || s == DOC_REGISTERED || s == DOC_SIGNED;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The page files of a document, in order. */
static int list_pages(const char *dir, char ***paths, size_t *n, sohoa_err *err)
{
    *paths = NULL;
    *n = 0;
    char *pages = join(dir, "pages");
    DIR *d = pages ? opendir(pages) : NULL;
    if (!d) {
        err_errno(err, SOHOA_EINPUT, errno, "%s: the document's pages are missing",
                  pages ? pages : dir);
        free(pages);
        return -1;
    }
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **np = realloc(*paths, cap * sizeof *np);
            if (!np) {
                rc = err_set(err, SOHOA_EWORK, "out of memory");
                break;
            }
            *paths = np;
        }
        if (!((*paths)[*n] = join(pages, e->d_name))) {
            rc = err_set(err, SOHOA_EWORK, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    free(pages);
    if (rc == 0 && *n == 0)
        rc = err_set(err, SOHOA_EINPUT, "%s: the document has no pages", dir);
    if (rc == 0)
        qsort(*paths, *n, sizeof **paths, cmp_str);
    return rc;
}

static void free_list(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

/* Marks a document failed for good with the reason in `err`, which is
 * then cleared: the failure is the document's, not the station's. */
static int fail_document(reg *r, int64_t id, sohoa_err *err)
{
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    log_warn("document %lld failed: %s", (long long)id, why);
    err_clear(err);
    return reg_fail(r, id, why, time(NULL), err);
}

static int step_process(station *st, reg *r, const reg_doc *d, sohoa_err *err)
{
    char **pages;
    size_t n;
    if (list_pages(d->dir, &pages, &n, err) != 0)
        return err->status == SOHOA_EINPUT ? fail_document(r, d->id, err) : -1;
    doc_metadata meta = {0};
    int rc = pipeline_process(pages, n, d->dir, &st->po, &meta, err);
    free_list(pages, n);
    if (rc != 0) {
        meta_free(&meta);
        /* a page that cannot be read will never be: the document fails
         * (its pages stay for diagnosis); anything else is tried again */
        if (err->status == SOHOA_EINPUT)
            return fail_document(r, d->id, err);
        return -1;
    }
    rc = reg_set_metadata(r, d->id, &meta, time(NULL), err);
    meta_free(&meta);
    return rc;
}

static int step_guard(station *st, reg *r, const reg_doc *d, sohoa_err *err)
{
    guard_verdict v;
    if (guard_check(&st->guard, r, d->id, &d->meta, d->released, &v, err) != 0)
        return -1;
    if (v.hold) {
        log_warn("document %lld held: %s", (long long)d->id, v.note);
        return reg_hold(r, d->id, v.hold, v.note, v.duplicate_of, time(NULL), err);
    }
    int64_t so_den;
    return reg_register(r, d->id, time(NULL), &so_den, err);
}

/* Hex SHA-256 of a file. */
static int file_sha256(const char *path, char hex[65], sohoa_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_errno(err, SOHOA_EWORK, errno, "%s", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[65536], md[32];
    size_t got;
    while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, got);
    unsigned mdlen = 0;
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok)
        return err_set(err, SOHOA_EWORK, "%s: cannot compute its SHA-256", path);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    return 0;
}

static int step_sign(station *st, reg *r, const reg_doc *d, sohoa_err *err)
{
    char *in = join(d->dir, "document.pdf"), *out = join(d->dir, "signed.pdf");
    int rc = -1;
    signing_setup s;
    if (!in || !out) {
        err_set(err, SOHOA_EWORK, "out of memory");
        goto done;
    }
    if (signing_load(st->cfg, &s, err) != 0) {
        signing_free(&s);
        goto done;
    }
    token *t = signing_open_token(&s, err);
    if (t) {
        pades_result res;
        rc = pades_sign_file(in, out, t, &s.po, &res, err);
        token_close(t);
        if (rc == 0 && res.warning[0])
            log_warn("document %lld: %s", (long long)d->id, res.warning);
    }
    signing_free(&s);
    char hex[65];
    if (rc == 0 && (rc = file_sha256(out, hex, err)) == 0 &&
        (rc = reg_set_signed(r, d->id, hex, time(NULL), err)) == 0)
        unlink(in); /* the signed copy is the document from now on */
done:
    free(in);
    free(out);
    return rc;
}

/* "182/QĐ-UBND" → "182-QĐ-UBND.pdf": a file name the recipient can save. */
static char *attachment_name(const doc_metadata *m)
{
    const char *nn = m->str[META_NUMBER_NOTATION] ? m->str[META_NUMBER_NOTATION] : "van-ban";
    char *name = malloc(strlen(nn) + 5);
    if (!name)
        return NULL;
    char *o = name;
    for (const char *p = nn; *p; p++)
        *o++ = (*p == '/' || *p == '\\' || *p == ' ' || (unsigned char)*p < 0x20) ? '-' : *p;
    strcpy(o, ".pdf");
    return name;
}

static int step_package(station *st, reg *r, const reg_doc *d, sohoa_err *err)
{
    char *id = edxml_document_id(st->edx.organ_id, &d->meta, err);
    char *pdf = join(d->dir, "signed.pdf"), *env = join(d->dir, "envelope.xml");
    char *att = attachment_name(&d->meta);
    int rc = -1;
    if (id && (!pdf || !env || !att))
        err_set(err, SOHOA_EWORK, "out of memory");
    else if (id) {
        edxml_doc ed = {.document_id = id, .pdf_path = pdf, .attachment_name = att,
                        .sent_at = time(NULL)};
        rc = edxml_write_envelope(env, &st->edx, &d->meta, &ed, err);
        if (rc == 0)
            rc = reg_enqueue(r, d->id, id, edxml_priority(d->meta.str[META_URGENCY]), time(NULL),
                             err);
    }
    free(id);
    free(pdf);
    free(env);
    free(att);
    return rc;
}

int station_advance(station *st, reg *r, int64_t id, station_progress_fn progress, void *ctx,
                    sohoa_err *err)
{
    for (;;) {
        reg_doc d = {0};
        if (reg_get(r, id, &d, err) != 0)
            return -1;
        if (progress)
            progress(ctx, id, d.state, d.note);
        int rc;
        switch (d.state) {
        case DOC_SCANNED: rc = step_process(st, r, &d, err); break;
        case DOC_PROCESSED: rc = step_guard(st, r, &d, err); break;
        case DOC_REGISTERED: rc = step_sign(st, r, &d, err); break;
        case DOC_SIGNED: rc = step_package(st, r, &d, err); break;
        default: reg_doc_free(&d); return 0; /* resting */
        }
        reg_doc_free(&d);
        if (rc != 0)
            return -1;
    }
}
