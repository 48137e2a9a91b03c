#include "pipeline.h"

#include <leptonica/allheaders.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../firmware/fsutil.h"
#include "../firmware/log.h"
#include "extract.h"
#include "input.h"
#include "orient.h"
#include "pdf.h"
#include "preprocess.h"

/* Skew below this is invisible and not worth resampling the page for. */
#define MIN_DESKEW_DEG 0.1f
#define MIN_SKEW_CONF 2.5f /* leptonica's scale; below: no clear text lines */

pipeline_options pipeline_defaults(void)
{
    pipeline_options o = {0};
    o.encode = encode_defaults();
    /* vie alone: adding eng lowered word recall (99.57% → 98.76% on the
     * benchmark pages), as Tesseract then prefers English readings of
     * Vietnamese words whose diacritics are faint. */
    o.ocr.languages = "vie";
    o.ocr_dpi = 200;
    return o;
}

/* What a worker hands back for one input page. */
typedef struct page_job {
    int done;
    int blank;
    int width, height, dpi;
    pdf_image *layers;
    size_t nlayers;
    ocr_page_text text;
} page_job;

typedef struct run {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const input_set *in;
    const pipeline_options *opt;
    page_job *jobs;
    size_t next;    /* next page a worker takes */
    size_t written; /* pages the writer has consumed */
    size_t window;  /* how far workers may run ahead of the writer */
    int failed;
    sohoa_err err; /* the first failure */
} run;

static void fail(run *r, const sohoa_err *e)
{
    pthread_mutex_lock(&r->mu);
    if (!r->failed) {
        r->failed = 1;
        r->err = *e;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Turns any input depth into what the later stages expect: 32 bpp RGB,
 * 8 bpp gray or 1 bpp; palettes are expanded. */
static PIX *normalise_depth(PIX *pix)
{
    PIX *out =
        pixGetColormap(pix) ? pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC) : pixClone(pix);
    if (!out)
        return NULL;
    int d = pixGetDepth(out);
    if (d == 1 || d == 8 || d == 32)
        return out;
    PIX *conv = d == 24 ? pixConvert24To32(out) : pixConvertTo8(out, 0);
    pixDestroy(&out);
    return conv;
}

/* Scales OCR word geometry from the OCR image back to page pixels. */
static void scale_words(ocr_page_text *t, float f, int width, int height, int dpi)
{
    for (size_t i = 0; i < t->nwords; i++) {
        ocr_word *w = &t->words[i];
        ocr_box *boxes[] = {&w->box, &w->line_box};
        for (size_t b = 0; b < 2; b++) {
            boxes[b]->x0 = (int)lroundf(boxes[b]->x0 * f);
            boxes[b]->y0 = (int)lroundf(boxes[b]->y0 * f);
            boxes[b]->x1 = (int)lroundf(boxes[b]->x1 * f);
            boxes[b]->y1 = (int)lroundf(boxes[b]->y1 * f);
        }
        w->baseline = (int)lroundf(w->baseline * f);
    }
    t->width = width;
    t->height = height;
    t->dpi = dpi;
}

/* Upright and straight: rotates `*pix` (and its gray twin) in place. */
static int straighten(PIX **pix, PIX **gray, int dpi, ocr_engine *engine, const char *where,
                      sohoa_err *err)
{
    orient_result o;
    if (orient_detect(*gray, dpi, engine, &o, err) != 0)
        return -1;
    if (o.rotate_cw) {
        log_info("%s: turned %d° clockwise (%s, confidence %.2f)", where, o.rotate_cw, o.method,
                 o.conf);
        PIX *p = prep_rotate_orth(*pix, o.rotate_cw);
        PIX *g = prep_rotate_orth(*gray, o.rotate_cw);
        if (!p || !g) {
            pixDestroy(&p);
            pixDestroy(&g);
            return err_set(err, SOHOA_EWORK, "%s: out of memory rotating the page", where);
        }
        pixDestroy(pix);
        pixDestroy(gray);
        *pix = p;
        *gray = g;
    }
    float angle = 0, conf = 0;
    if (prep_find_skew(*gray, &angle, &conf) == 0 && conf >= MIN_SKEW_CONF &&
        fabsf(angle) >= MIN_DESKEW_DEG) {
        log_info("%s: deskewed by %.2f°", where, angle);
        PIX *p = prep_deskew(*pix, angle);
        if (!p)
            return err_set(err, SOHOA_EWORK, "%s: out of memory deskewing the page", where);
        pixDestroy(pix);
        *pix = p;
        pixDestroy(gray);
        if (!(*gray = prep_to_gray(*pix)))
            return err_set(err, SOHOA_EWORK, "%s: out of memory", where);
    }
    return 0;
}

/* OCR at a moderate resolution: Tesseract normalises text lines to a fixed
 * height anyway, and layout analysis on a 200 dpi image costs half of a
 * 300 dpi one, for the same words (measured on the sample scans). */
static int recognise(ocr_engine *engine, PIX *gray, PIX *pix, int dpi, int ocr_dpi,
                     ocr_page_text *text, sohoa_err *err)
{
    PIX *ocr_img = NULL;
    float f = 1.0f;
    PIX *src = pixGetDepth(pix) == 32 ? prep_drop_red(gray, pix) : pixClone(gray);
    if (!src)
        return err_set(err, SOHOA_EWORK, "out of memory preparing the page for OCR");
    if (ocr_dpi > 0 && dpi > ocr_dpi * 6 / 5) {
        float s = (float)ocr_dpi / (float)dpi;
        ocr_img = pixScaleGrayLI(src, s, s);
        f = ocr_img ? (float)pixGetWidth(gray) / (float)pixGetWidth(ocr_img) : 1.0f;
    } else {
        ocr_img = pixClone(src);
        ocr_dpi = dpi;
    }
    if (!ocr_img) {
        pixDestroy(&src);
        return err_set(err, SOHOA_EWORK, "out of memory preparing the page for OCR");
    }
    /* Word redness is measured on the colour page, at page coordinates:
     * pass no colour image to OCR, and measure after scaling back. */
    int rc = ocr_recognize(engine, ocr_img, ocr_dpi, text, err);
    pixDestroy(&ocr_img);
    if (rc == 0) {
        scale_words(text, f, pixGetWidth(gray), pixGetHeight(gray), dpi);
        /* A signer's name lost under a seal: read that area again, at the
         * scan's full resolution (a few hundred ms, only when needed). */
        ocr_box gap;
        if (extract_signer_gap(text, &gap)) {
            size_t before = text->nwords;
            rc = ocr_recognize_region(engine, src, dpi, &gap, 1.0f, text, err);
            log_debug("signer block re-read: %zu word(s) added", text->nwords - before);
        }
    }
    pixDestroy(&src);
    if (rc != 0)
        return -1;
    if (pixGetDepth(pix) == 32)
        return ocr_find_red_marks(engine, pix, dpi, text, err);
    return 0;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int process_page(run *r, ocr_engine *engine, size_t i, sohoa_err *err)
{
    const input_page_ref *ref = &r->in->pages[i];
    page_job *job = &r->jobs[i];
    /* Names the page in messages: "scan.tif page 3", or just the file. */
    char where[300];
    int multi = ref->index > 0 || (i + 1 < r->in->npages && r->in->pages[i + 1].path == ref->path);
    snprintf(where, sizeof where, multi ? "%s page %d" : "%s", ref->path, ref->index + 1);

    int dpi = 0;
    double t0 = now_ms(), t_load = 0, t_prep = 0, t_ocr = 0, t_enc = 0;
    PIX *raw = input_load_page(ref, &dpi, err);
    if (!raw)
        return -1;
    PIX *pix = normalise_depth(raw);
    pixDestroy(&raw);
    PIX *gray = pix ? prep_to_gray(pix) : NULL;
    if (!pix || !gray) {
        pixDestroy(&pix);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", where);
    }
    int rc = -1;
    t_load = now_ms();
    blank_report blank = {0};
    if (prep_detect_blank(gray, dpi, &blank, err) != 0)
        goto out;
    if (blank.blank && !r->opt->keep_blank) {
        log_info("%s: blank page dropped (ink %.4f)", where, blank.ink_ratio);
        job->blank = 1;
        rc = 0;
        goto out;
    }
    if (straighten(&pix, &gray, dpi, engine, where, err) != 0)
        goto out;
    t_prep = now_ms();
    if (recognise(engine, gray, pix, dpi, r->opt->ocr_dpi, &job->text, err) != 0)
        goto out;
    t_ocr = now_ms();
    pixDestroy(&gray);
    if (encode_page(pix, dpi, &r->opt->encode, &job->layers, &job->nlayers, err) != 0)
        goto out;
    t_enc = now_ms();
    log_debug("%s: load %.0f ms, prepare %.0f ms, OCR %.0f ms (%zu words), encode %.0f ms", where,
              t_load - t0, t_prep - t_load, t_ocr - t_prep, job->text.nwords, t_enc - t_ocr);
    job->width = pixGetWidth(pix);
    job->height = pixGetHeight(pix);
    job->dpi = dpi;
    rc = 0;
out:
    pixDestroy(&pix);
    pixDestroy(&gray);
    return rc;
}

static void *worker(void *arg)
{
    run *r = arg;
    sohoa_err err = {0};
    ocr_engine *engine = ocr_engine_new(&r->opt->ocr, &err);
    if (!engine) {
        fail(r, &err);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->failed && r->next < r->in->npages && r->next >= r->written + r->window)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->failed || r->next >= r->in->npages) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        size_t i = r->next++;
        pthread_mutex_unlock(&r->mu);

        if (process_page(r, engine, i, &err) != 0) {
            fail(r, &err);
            break;
        }
        pthread_mutex_lock(&r->mu);
        r->jobs[i].done = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    ocr_engine_free(engine);
    return NULL;
}

static int worker_count(const pipeline_options *opt, size_t pages)
{
    long n = opt->threads > 0 ? opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if ((size_t)n > pages)
        n = (long)pages;
    return (int)n;
}

/* Writes finished pages to the PDF in order, as they complete. */
static int write_pages(run *r, pdf_writer *pw, size_t *kept, sohoa_err *err)
{
    for (size_t i = 0; i < r->in->npages; i++) {
        pthread_mutex_lock(&r->mu);
        while (!r->failed && !r->jobs[i].done)
            pthread_cond_wait(&r->cv, &r->mu);
        int failed = r->failed;
        pthread_mutex_unlock(&r->mu);
        if (failed)
            return -1;
        page_job *job = &r->jobs[i];
        if (!job->blank) {
            pdf_page page = {job->width,  job->height,  job->dpi,
                             job->layers, job->nlayers, &job->text};
            if (pdf_writer_add_page(pw, &page, err) != 0) {
                fail(r, err);
                return -1;
            }
            (*kept)++;
        }
        encode_free_layers(job->layers, job->nlayers);
        job->layers = NULL;
        job->nlayers = 0;
        if (r->opt->progress)
            r->opt->progress(r->opt->progress_ctx, i + 1, r->in->npages);
        pthread_mutex_lock(&r->mu);
        r->written = i + 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return 0;
}

/* Runs the workers and the writer; on success the PDF has all kept pages. */
static int run_pages(run *r, pdf_writer *pw, size_t *kept, sohoa_err *err)
{
    int nworkers = worker_count(r->opt, r->in->npages);
    pthread_t *threads = calloc((size_t)nworkers, sizeof *threads);
    if (!threads)
        return err_set(err, SOHOA_EWORK, "out of memory");
    int started = 0;
    for (; started < nworkers; started++)
        if (pthread_create(&threads[started], NULL, worker, r) != 0)
            break;
    int rc = 0;
    if (started == 0) {
        rc = err_set(err, SOHOA_EWORK, "cannot start worker threads");
    } else if (write_pages(r, pw, kept, err) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        sohoa_err e = {0};
        err_set(&e, SOHOA_EWORK, "stopped");
        fail(r, &e); /* stops the workers */
    }
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    free(threads);
    if (r->failed && err->status == SOHOA_OK)
        *err = r->err;
    return r->failed ? -1 : rc;
}

static char *join_path(const char *dir, const char *name)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* Collects the kept pages' text in order for extraction. */
static ocr_page_text *kept_texts(run *r, size_t kept)
{
    ocr_page_text *texts = calloc(kept ? kept : 1, sizeof *texts);
    if (!texts)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < r->in->npages; i++)
        if (!r->jobs[i].blank)
            texts[k++] = r->jobs[i].text;
    return texts;
}

static int finish_outputs(run *r, size_t kept, pdf_writer *pw, atomic_file *pdf,
                          const char *pdf_path, const char *meta_path, doc_metadata *meta,
                          sohoa_err *err)
{
    ocr_page_text *texts = kept_texts(r, kept);
    if (!texts) {
        pdf_writer_abort(pw);
        return err_set(err, SOHOA_EWORK, "out of memory");
    }
    extract_options xo = extract_defaults();
    xo.now = time(NULL);
    meta->pages = (int)kept;
    meta->blank_pages_removed = (int)(r->in->npages - kept);
    int rc = extract_metadata(texts, kept, &xo, meta, err);
    free(texts);
    if (rc != 0) {
        pdf_writer_abort(pw);
        return -1;
    }
    if (pdf_writer_finish(pw, meta, (long long)time(NULL), err) != 0)
        return -1;
    char *json = meta_to_json(meta);
    if (!json)
        return err_set(err, SOHOA_EWORK, "out of memory writing metadata");
    /* Both files are complete and on disk before either is published. */
    atomic_file mf;
    rc = atomic_open(&mf, meta_path, 0644, err);
    if (rc == 0 && fputs(json, mf.f) == EOF)
        rc = err_set(err, SOHOA_EWORK, "%s: write failed", meta_path);
    free(json);
    if (rc == 0)
        rc = atomic_sync(&mf, err);
    if (rc == 0)
        rc = atomic_sync(pdf, err);
    if (rc == 0 && (rc = atomic_commit(pdf, err)) == 0 && (rc = atomic_commit(&mf, err)) != 0)
        unlink(pdf_path); /* never one file without the other */
    atomic_abort(&mf);
    return rc;
}

int pipeline_process(char *const *paths, size_t npaths, const char *outdir,
                     const pipeline_options *opt, doc_metadata *meta_out, sohoa_err *err)
{
    input_set in;
    if (input_open(&in, paths, npaths, err) != 0)
        return -1;
    if (fs_mkdir_p(outdir, 0755, err) != 0) {
        input_close(&in);
        return -1;
    }
    char *pdf_path = join_path(outdir, "document.pdf");
    char *meta_path = join_path(outdir, "metadata.json");
    run r = {.in = &in, .opt = opt};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.jobs = calloc(in.npages, sizeof *r.jobs);
    r.window = (size_t)worker_count(opt, in.npages) * 2;
    doc_metadata meta = {0};
    atomic_file pdf = {0};
    pdf_writer *pw = NULL;
    size_t kept = 0;
    int rc = -1;
    if (!pdf_path || !meta_path || !r.jobs) {
        err_set(err, SOHOA_EWORK, "out of memory");
        goto done;
    }
    if (atomic_open(&pdf, pdf_path, 0644, err) != 0 || !(pw = pdf_writer_new(pdf.f, err)))
        goto done;
    if (run_pages(&r, pw, &kept, err) != 0) {
        pdf_writer_abort(pw);
        goto done;
    }
    if (kept == 0) {
        pdf_writer_abort(pw);
        err_set(err, SOHOA_EINPUT, "%s%s: all %zu page(s) are blank; nothing to digitise", paths[0],
                npaths > 1 ? " ..." : "", in.npages);
        goto done;
    }
    rc = finish_outputs(&r, kept, pw, &pdf, pdf_path, meta_path, &meta, err);
done:
    atomic_abort(&pdf);
    for (size_t i = 0; r.jobs && i < in.npages; i++) {
        encode_free_layers(r.jobs[i].layers, r.jobs[i].nlayers);
        ocr_page_text_free(&r.jobs[i].text);
    }
    free(r.jobs);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    free(pdf_path);
    free(meta_path);
    input_close(&in);
    if (rc == 0 && meta_out)
        *meta_out = meta;
    else
        meta_free(&meta);
    return rc;
}
