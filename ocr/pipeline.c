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
#include "frame_cross.h"
#include "hand.h"
#include "input.h"
#include "orient.h"
#include "pdf.h"
#include "preprocess.h"
#include "seal.h"
#include "stamp.h"

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
    const pipeline_options *opt;
    /* Pages to process, in order. They arrive all at once (files) or one
     * by one while the scanner feeds (pipeline_feed_add); `refs` and
     * `jobs` have room for `cap` pages and never move, so workers can use
     * an entry while later ones are being added. */
    input_page_ref *refs;
    page_job *jobs;
    size_t cap;
    size_t npages;  /* pages added so far */
    int closed;     /* no more pages will come */
    size_t next;    /* next page a worker takes */
    size_t written; /* pages the writer has consumed */
    size_t window;  /* how far workers may run ahead of the writer */
    size_t kept;    /* pages the writer put in the PDF */
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

/* A band of the page read again, in place of the page's reading of it,
 * which was found wanting (the position under the prefix that is no
 * title, the name that does not start with a surname, the date line with
 * no date): as a block, or with `one_line` as a single line. The second
 * reading is kept only when `poor` finds nothing wrong with it: the first,
 * poor as it is, may still be repaired from the words it dropped as
 * unreadable, or from the pen's writing. */
static int reread_band(ocr_engine *engine, PIX *src, int dpi, const ocr_box *band, bool one_line,
                       bool (*poor)(const ocr_page_text *, ocr_box *), const char *what,
                       ocr_page_text *text, sohoa_err *err)
{
    ocr_page_text trial;
    if (ocr_page_copy(&trial, text) != 0)
        return err_set(err, SOHOA_EWORK, "out of memory reading the %s again", what);
    /* the cleaning stays in `src`: no later pass reads these bands but
     * the name gap's, which it serves as well (the pen's reading takes
     * its ink from the page itself, and marks stand clear of the signer
     * block and the date line's right column) */
    prep_whiten_light(src, band->x0, band->y0, band->x1, band->y1);
    int rc = one_line ? ocr_recognize_line(engine, src, dpi, band, &trial, err)
                      : ocr_recognize_region(engine, src, dpi, band, 1.0f, true, &trial, err);
    ocr_box still;
    bool better = rc == 0 && !poor(&trial, &still);
    log_debug("%s re-read at %d,%d-%d,%d: %s", what, band->x0, band->y0, band->x1, band->y1,
              better ? "read right" : "no better, first reading kept");
    if (better) {
        ocr_page_text old = *text;
        *text = trial;
        trial = old;
    }
    ocr_page_text_free(&trial);
    return rc;
}

/* The engine's reading of a name damaged by a seal changes with the size
 * it is shown at: a name still without its surname after its second
 * reading is read again with its band shrunk and enlarged, the first
 * reading that starts with a surname kept; and last from the page with
 * the seal's rings left in (`src` then the page before seal_erase, `s`
 * 1), which took the surname's strokes with them where a ring ran
 * through it. Found only so, it is the clerk's to check: its words are
 * no surer than NAME_SCALED_CONF. */
#define NAME_SCALES 2
static const float name_scales[NAME_SCALES] = {0.75f, 1.5f};
#define NAME_SCALED_CONF 0.6f

static int reread_name_scaled(ocr_engine *engine, PIX *src, int dpi, float s, const ocr_box *band,
                              ocr_page_text *text, sohoa_err *err)
{
    BOX *b = boxCreate(band->x0, band->y0, band->x1 - band->x0, band->y1 - band->y0);
    PIX *clip = b ? pixClipRectangle(src, b, NULL) : NULL;
    boxDestroy(&b);
    PIX *scaled = !clip ? NULL : s == 1.0f ? pixClone(clip) : pixScaleGrayLI(clip, s, s);
    pixDestroy(&clip);
    ocr_page_text trial;
    if (!scaled || ocr_page_copy(&trial, text) != 0) {
        pixDestroy(&scaled);
        return err_set(err, SOHOA_EWORK, "out of memory reading the signer's name again");
    }
    int rc = ocr_recognize_cut(engine, scaled, (int)((float)dpi * s), band, 1.0f / s, true,
                               &trial, err);
    pixDestroy(&scaled);
    ocr_box still;
    bool better = rc == 0 && !extract_name_unsure(&trial, &still);
    log_debug("signer's name re-read %s %.2f × its size: %s",
              s == 1.0f ? "with the seal's rings, at" : "at", (double)s,
              better ? "read right" : "no better, first reading kept");
    if (better) {
        for (size_t i = 0; i < trial.nwords; i++) {
            ocr_word *w = &trial.words[i];
            int cx = (w->box.x0 + w->box.x1) / 2, cy = (w->box.y0 + w->box.y1) / 2;
            if (cx >= band->x0 && cx < band->x1 && cy >= band->y0 && cy < band->y1 &&
                w->conf > NAME_SCALED_CONF)
                w->conf = NAME_SCALED_CONF;
        }
        ocr_page_text old = *text;
        *text = trial;
        trial = old;
    }
    ocr_page_text_free(&trial);
    return rc;
}

/* The name's band reaching further left by twice the name's height (its
 * own height): a long surname in bold ("Trương ") beyond the band's
 * usual reach. Only when all else failed: the more of the seal's pieces
 * the band takes in, the worse a name read whole before may read. */
static void reach_further_left(ocr_box *band)
{
    int reach = band->y1 - band->y0;
    band->x0 = band->x0 > reach ? band->x0 - reach : 0;
}

/* The band of a name still without its surname, reaching `further`
 * left or not; false when the name has its surname. */
static bool headless_band(const ocr_page_text *text, bool further, ocr_box *band)
{
    if (!extract_name_headless(text, band))
        return false;
    if (further)
        reach_further_left(band);
    return true;
}

/* The signer's name in doubt (its first word no surname, or a damaged
 * word before it) read again: its band at full resolution, then shrunk
 * and enlarged; still without its surname, all that again with the band
 * reaching further left; and last, on a page whose seal's rings were
 * erased (`ringed_gray`, the page before; NULL for none), with the rings
 * left in. (A page whose name was not in doubt is not laid out again.) */
static int reread_name(ocr_engine *engine, PIX *src, PIX *ringed_gray, int dpi,
                       ocr_page_text *text, sohoa_err *err)
{
    ocr_box gap;
    if (!extract_name_doubt(text, &gap))
        return 0;
    int rc = 0;
    for (int further = 0; further < 2 && rc == 0; further++) {
        if (further && !headless_band(text, true, &gap))
            return 0;
        rc = reread_band(engine, src, dpi, &gap, false, extract_name_unsure,
                         further ? "signer's name, further left," : "signer's name", text, err);
        for (size_t k = 0; k < NAME_SCALES && rc == 0 && headless_band(text, further, &gap); k++)
            rc = reread_name_scaled(engine, src, dpi, name_scales[k], &gap, text, err);
    }
    if (rc != 0 || !ringed_gray || !headless_band(text, true, &gap))
        return rc;
    PIX *ringed = prep_drop_light_ink(ringed_gray);
    rc = ringed ? reread_name_scaled(engine, ringed, dpi, 1.0f, &gap, text, err)
                : err_set(err, SOHOA_EWORK, "out of memory reading the signer's name again");
    pixDestroy(&ringed);
    return rc;
}

/* A band of the page where a part of the signer's block was not read
 * (the name under its title, the title over its name) read again, its
 * words added to the page's. */
static int read_gap(ocr_engine *engine, PIX *src, int dpi, const ocr_box *band, const char *what,
                    ocr_page_text *text, sohoa_err *err)
{
    size_t before = text->nwords;
    int rc = ocr_recognize_region(engine, src, dpi, band, 1.0f, false, text, err);
    log_debug("%s re-read: %zu word(s) added", what, text->nwords - before);
    return rc;
}

/* OCR at a moderate resolution: Tesseract normalises text lines to a fixed
 * height anyway, and layout analysis on a 200 dpi image costs half of a
 * 300 dpi one, for the same words (measured on the sample scans). */
static int recognise(ocr_engine *engine, PIX *gray, PIX *pix, int dpi, int ocr_dpi, bool first_page,
                     ocr_page_text *text, sohoa_err *err)
{
    PIX *ocr_img = NULL;
    float f = 1.0f;
    PIX *src = pixGetDepth(pix) == 32 ? prep_drop_red(gray, pix) : prep_drop_light_ink(gray);
    if (!src)
        return err_set(err, SOHOA_EWORK, "out of memory preparing the page for OCR");
    /* the registry's ĐẾN stamp and the pen writing in it, often over the
     * issuer's name: not the letter's, and noise to the OCR. The registry
     * stamps the first page (about 50 ms to look for it; on a gray page
     * by its lines, lighter than print). */
    stamp_set stamps = {0};
    if (first_page && (pixGetDepth(pix) == 32 ? stamp_find(pix, dpi, &stamps)
                                              : stamp_find_gray(gray, dpi, &stamps)) > 0) {
        stamp_wipe(src, pix, &stamps);
        const ocr_box *fr = &stamps.frame[0];
        log_debug("ĐẾN stamp found at %d,%d (%d × %d px): its ink left out of the OCR", fr->x0,
                  fr->y0, fr->x1 - fr->x0, fr->y1 - fr->y0);
    }
    /* a seal photocopied black over the signer block: its rings cut the
     * words of the title and the name (a colour page's red seal is gone
     * with the dropout; a gray page's faded with the light ink) */
    seal_ring seals[SEAL_MAX];
    size_t nseals = pixGetDepth(pix) == 32 ? 0 : seal_find(src, dpi, seals);
    for (size_t i = 0; i < nseals; i++) {
        seal_erase(src, &seals[i]);
        log_debug("seal found at %d,%d (radius %d px): its rings left out of the OCR",
                  seals[i].cx, seals[i].cy, seals[i].outer_r1);
    }
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
        /* A signer's position read as noise, a name lost under a seal,
         * or one whose first word was, a title lost over its name: read
         * that area again, at the scan's full resolution (a few hundred
         * ms, only when needed). */
        ocr_box gap;
        if (extract_position_gap(text, &gap))
            rc = reread_band(engine, src, dpi, &gap, false, extract_position_gap,
                             "signer's position", text, err);
        if (rc == 0 && extract_signer_gap(text, &gap))
            rc = read_gap(engine, src, dpi, &gap, "signer block", text, err);
        if (rc == 0 && extract_title_gap(text, &gap))
            rc = read_gap(engine, src, dpi, &gap, "signer's title", text, err);
        if (rc == 0)
            rc = reread_name(engine, src, nseals > 0 ? gray : NULL, dpi, text, err);
        /* a date line the stamp's lines cut apart: read as one line */
        if (rc == 0 && first_page && extract_date_lost(text, &gap))
            rc = reread_band(engine, src, dpi, &gap, true, extract_date_unread, "date line", text,
                             err);
        /* a number line cut apart by a stamp as black as its print */
        if (rc == 0 && first_page && extract_number_lost(text, &gap))
            rc = reread_band(engine, src, dpi, &gap, true, extract_number_unread, "number line",
                             text, err);
        /* numbers and days written by pen into the form: read again from
         * the pen's ink (the colour page: the pen is told by its blue).
         * Only the first page carries the document's own. */
        if (rc == 0 && first_page)
            rc = hand_reread(engine, pixGetDepth(pix) == 32 ? pix : gray, dpi, &stamps, text, err);
        /* a black stamp's frame through the header's words: read up to
         * the line, the rest lost */
        size_t crossed = rc == 0 && first_page ? frame_cross_cap(src, dpi, text) : 0;
        if (crossed)
            log_debug("%zu header word(s) a stamp's frame runs through: to be checked", crossed);
    }
    /* Marks read on their own, which the page's OCR often misses: boxes in
     * black on any page, then stamp ink by its colour or, on a gray page,
     * by its lightness (the OCR above saw neither); on the first page, the
     * ink left that the OCR saw and read nothing in (a photocopied box:
     * its class must not go unseen; the stamps are out of `src` already). */
    if (rc == 0)
        rc = ocr_find_framed_marks(engine, gray, dpi, text, err);
    if (rc == 0)
        rc = pixGetDepth(pix) == 32
                 ? ocr_find_red_marks(engine, pix, dpi, stamps.frame, stamps.n, text, err)
                 : ocr_find_gray_marks(engine, gray, dpi, stamps.frame, stamps.n, text, err);
    if (rc == 0 && first_page)
        rc = ocr_find_unread_marks(engine, src, dpi, text, err);
    pixDestroy(&src);
    return rc != 0 ? -1 : 0;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int process_page(run *r, ocr_engine *engine, size_t i, const input_page_ref *ref,
                        const char *where, sohoa_err *err)
{
    page_job *job = &r->jobs[i];
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
    if (recognise(engine, gray, pix, dpi, r->opt->ocr_dpi, i == 0, &job->text, err) != 0)
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
        while (!r->failed && ((r->next >= r->npages && !r->closed) ||
                              (r->next < r->npages && r->next >= r->written + r->window)))
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->failed || r->next >= r->npages) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        size_t i = r->next++;
        input_page_ref ref = r->refs[i];
        /* Names the page in messages: "scan.tif page 3", or just the file. */
        int multi = ref.index > 0 || (i + 1 < r->npages && r->refs[i + 1].path == ref.path);
        pthread_mutex_unlock(&r->mu);
        char where[300];
        snprintf(where, sizeof where, multi ? "%s page %d" : "%s", ref.path, ref.index + 1);

        if (process_page(r, engine, i, &ref, where, &err) != 0) {
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
    if (pages > 0 && (size_t)n > pages)
        n = (long)pages;
    return (int)n;
}

/* Writes finished pages to the PDF in order, as they complete, until the
 * last page of a closed run. */
static int write_pages(run *r, pdf_writer *pw, sohoa_err *err)
{
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&r->mu);
        while (!r->failed && !(i < r->npages && r->jobs[i].done) && !(r->closed && i >= r->npages))
            pthread_cond_wait(&r->cv, &r->mu);
        int failed = r->failed, end = i >= r->npages;
        size_t total = r->npages;
        pthread_mutex_unlock(&r->mu);
        if (failed)
            return -1;
        if (end)
            return 0;
        page_job *job = &r->jobs[i];
        if (!job->blank) {
            pdf_page page = {job->width,  job->height,  job->dpi,
                             job->layers, job->nlayers, &job->text};
            if (pdf_writer_add_page(pw, &page, err) != 0) {
                fail(r, err);
                return -1;
            }
            r->kept++;
        }
        encode_free_layers(job->layers, job->nlayers);
        job->layers = NULL;
        job->nlayers = 0;
        if (r->opt->progress)
            r->opt->progress(r->opt->progress_ctx, i + 1, total);
        pthread_mutex_lock(&r->mu);
        r->written = i + 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
}

static char *join_path(const char *dir, const char *name)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* Collects the kept pages' text in order for extraction. */
static ocr_page_text *kept_texts(run *r)
{
    ocr_page_text *texts = calloc(r->kept ? r->kept : 1, sizeof *texts);
    if (!texts)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < r->npages; i++)
        if (!r->jobs[i].blank)
            texts[k++] = r->jobs[i].text;
    return texts;
}

static int finish_outputs(run *r, pdf_writer *pw, atomic_file *pdf, const char *pdf_path,
                          const char *meta_path, doc_metadata *meta, sohoa_err *err)
{
    ocr_page_text *texts = kept_texts(r);
    if (!texts) {
        pdf_writer_abort(pw);
        return err_set(err, SOHOA_EWORK, "out of memory");
    }
    extract_options xo = extract_defaults();
    xo.now = time(NULL);
    meta->pages = (int)r->kept;
    meta->blank_pages_removed = (int)(r->npages - r->kept);
    double t0 = now_ms();
    int rc = extract_metadata(texts, r->kept, &xo, meta, err);
    log_debug("metadata extracted in %.1f ms", now_ms() - t0);
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

/* ---- the feed: pages in, workers and writer running ------------------ */

struct pipeline_feed {
    run r;
    input_set *sets; /* one per added file: the page refs point into them */
    size_t nsets;
    pthread_t *threads;
    int nthreads;
    pthread_t writer;
    int writer_started;
    int writer_rc;
    sohoa_err writer_err;
    pdf_writer *pw;
    atomic_file pdf;
    char *pdf_path, *meta_path;
};

static void *writer_main(void *arg)
{
    pipeline_feed *f = arg;
    f->writer_rc = write_pages(&f->r, f->pw, &f->writer_err);
    return NULL;
}

/* Stops everything started and frees `f`. */
static void feed_free(pipeline_feed *f)
{
    pthread_mutex_lock(&f->r.mu);
    f->r.closed = 1;
    pthread_cond_broadcast(&f->r.cv);
    pthread_mutex_unlock(&f->r.mu);
    if (f->writer_started)
        pthread_join(f->writer, NULL);
    for (int t = 0; t < f->nthreads; t++)
        pthread_join(f->threads[t], NULL);
    if (f->pw)
        pdf_writer_abort(f->pw);
    atomic_abort(&f->pdf);
    for (size_t i = 0; f->r.jobs && i < f->r.npages; i++) {
        encode_free_layers(f->r.jobs[i].layers, f->r.jobs[i].nlayers);
        ocr_page_text_free(&f->r.jobs[i].text);
    }
    for (size_t i = 0; i < f->nsets; i++)
        input_close(&f->sets[i]);
    free(f->sets);
    free(f->threads);
    free(f->r.refs);
    free(f->r.jobs);
    pthread_mutex_destroy(&f->r.mu);
    pthread_cond_destroy(&f->r.cv);
    free(f->pdf_path);
    free(f->meta_path);
    free(f);
}

pipeline_feed *pipeline_feed_open(const char *outdir, const pipeline_options *opt, size_t max_pages,
                                  sohoa_err *err)
{
    if (fs_mkdir_p(outdir, 0755, err) != 0)
        return NULL;
    pipeline_feed *f = calloc(1, sizeof *f);
    if (!f) {
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&f->r.mu, NULL);
    pthread_cond_init(&f->r.cv, NULL);
    f->r.opt = opt;
    f->r.cap = max_pages ? max_pages : 1;
    f->r.refs = calloc(f->r.cap, sizeof *f->r.refs);
    f->r.jobs = calloc(f->r.cap, sizeof *f->r.jobs);
    f->sets = calloc(f->r.cap, sizeof *f->sets);
    f->pdf_path = join_path(outdir, "document.pdf");
    f->meta_path = join_path(outdir, "metadata.json");
    f->nthreads = worker_count(opt, max_pages);
    f->threads = calloc((size_t)f->nthreads, sizeof *f->threads);
    f->r.window = (size_t)f->nthreads * 2;
    if (!f->r.refs || !f->r.jobs || !f->sets || !f->pdf_path || !f->meta_path || !f->threads) {
        err_set(err, SOHOA_EWORK, "out of memory");
        f->nthreads = 0;
        feed_free(f);
        return NULL;
    }
    if (atomic_open(&f->pdf, f->pdf_path, 0644, err) != 0 ||
        !(f->pw = pdf_writer_new(f->pdf.f, err))) {
        f->nthreads = 0;
        feed_free(f);
        return NULL;
    }
    int started = 0;
    for (; started < f->nthreads; started++)
        if (pthread_create(&f->threads[started], NULL, worker, &f->r) != 0)
            break;
    f->nthreads = started;
    if (started == 0 || pthread_create(&f->writer, NULL, writer_main, f) != 0) {
        err_set(err, SOHOA_EWORK, "cannot start worker threads");
        feed_free(f);
        return NULL;
    }
    f->writer_started = 1;
    return f;
}

/* Appends the pages of an opened set (whose ownership passes to `f`). */
static int feed_take_set(pipeline_feed *f, input_set *set, sohoa_err *err)
{
    pthread_mutex_lock(&f->r.mu);
    int rc = 0;
    if (f->r.failed)
        rc = err_set(err, f->r.err.status, "%s", f->r.err.msg);
    else if (f->r.npages + set->npages > f->r.cap)
        rc = err_set(err, SOHOA_EINPUT, "more than %zu pages in one document", f->r.cap);
    if (rc == 0) {
        memcpy(f->r.refs + f->r.npages, set->pages, set->npages * sizeof *set->pages);
        f->r.npages += set->npages;
        f->sets[f->nsets++] = *set;
        pthread_cond_broadcast(&f->r.cv);
    }
    pthread_mutex_unlock(&f->r.mu);
    if (rc != 0)
        input_close(set);
    return rc;
}

int pipeline_feed_add(pipeline_feed *f, const char *path, sohoa_err *err)
{
    input_set set;
    char *const one[] = {(char *)path};
    if (input_open(&set, one, 1, err) != 0)
        return -1;
    return feed_take_set(f, &set, err);
}

int pipeline_feed_finish(pipeline_feed *f, doc_metadata *meta_out, sohoa_err *err)
{
    pthread_mutex_lock(&f->r.mu);
    f->r.closed = 1;
    pthread_cond_broadcast(&f->r.cv);
    pthread_mutex_unlock(&f->r.mu);
    pthread_join(f->writer, NULL);
    f->writer_started = 0;
    for (int t = 0; t < f->nthreads; t++)
        pthread_join(f->threads[t], NULL);
    f->nthreads = 0;
    doc_metadata meta = {0};
    int rc = -1;
    if (f->r.failed)
        *err = f->r.err;
    else if (f->writer_rc != 0)
        *err = f->writer_err;
    else if (f->r.npages == 0)
        err_set(err, SOHOA_EINPUT, "no pages: nothing to digitise");
    else if (f->r.kept == 0)
        err_set(err, SOHOA_EINPUT, "%s%s: all %zu page(s) are blank; nothing to digitise",
                f->r.refs[0].path, f->r.npages > 1 ? " ..." : "", f->r.npages);
    else {
        rc = finish_outputs(&f->r, f->pw, &f->pdf, f->pdf_path, f->meta_path, &meta, err);
        f->pw = NULL; /* finished or aborted by finish_outputs */
    }
    if (rc == 0 && meta_out)
        *meta_out = meta;
    else
        meta_free(&meta);
    feed_free(f);
    return rc;
}

void pipeline_feed_abort(pipeline_feed *f)
{
    if (f) {
        sohoa_err e = {0};
        err_set(&e, SOHOA_EWORK, "cancelled");
        fail(&f->r, &e); /* stops the workers and the writer */
        feed_free(f);
    }
}

int pipeline_process(char *const *paths, size_t npaths, const char *outdir,
                     const pipeline_options *opt, doc_metadata *meta_out, sohoa_err *err)
{
    /* every file is checked before any work starts */
    input_set in;
    if (input_open(&in, paths, npaths, err) != 0)
        return -1;
    pipeline_feed *f = pipeline_feed_open(outdir, opt, in.npages, err);
    if (!f) {
        input_close(&in);
        return -1;
    }
    if (feed_take_set(f, &in, err) != 0) {
        pipeline_feed_abort(f);
        return -1;
    }
    return pipeline_feed_finish(f, meta_out, err);
}
