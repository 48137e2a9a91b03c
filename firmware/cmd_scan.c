/* cmd_scan.c — `sohoa scan` (see cmd_scan.h). */
#include "cmd_scan.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <leptonica/allheaders.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../drivers/scanner.h"
#include "../ocr/encode.h"
#include "../ocr/input.h"
#include "../ocr/pipeline.h"
#include "cli.h"
#include "cmd_sign.h"
#include "config.h"
#include "fsutil.h"
#include "log.h"
#include "ocr_config.h"

static const char scan_help[] =
    "usage: sohoa scan -o DIR [options]\n"
    "\n"
    "Scan every page in the feeder from a SANE scanner, then digitise them like\n"
    "'sohoa process' into DIR/document.pdf and DIR/metadata.json. If the scanner\n"
    "fails (jam, cover open, no paper, ...), no document is made and the pages\n"
    "read before it are kept in DIR/failed-scan-<time>/.\n"
    "\n"
    "  -o, --output DIR          output directory (created if missing)\n"
    "  -c, --config FILE         configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "      --device NAME         SANE device (default [scanner] device, else the first\n"
    "                            document scanner); see --list\n"
    "      --sane-option N=V     a SANE option passed as it is (repeatable; after\n"
    "                            [scanner] options); see 'scanimage --help -d NAME'\n"
    "      --source S            auto (ADF Duplex > ADF > Flatbed), adf, adf-duplex or\n"
    "                            flatbed\n"
    "      --resolution N        dpi, 200 to 600 (default 300)\n"
    "      --mode M              color (default), gray or lineart\n"
    "      --list                list the SANE devices and exit\n"
    "      --sign                sign the PDF with the configured token (PAdES)\n"
    "      --compression MODE    auto (default), mrc, jpeg or g4\n"
    "      --keep-blank          keep blank pages\n"
    "      --threads N           OCR worker threads (default: one per CPU)\n"
    "      --ocr-dpi N           resolution OCR reads at (default 200; 0 = native)\n"
    "      --lang LANGS          Tesseract languages (default vie)\n"
    "  -v, --verbose             progress and decisions on stderr\n"
    "  -q, --quiet               errors only\n"
    "  -h, --help                this help\n";

/* Set by SIGINT/SIGTERM while the scanner feeds: the scan is cancelled on
 * the device (the paper is released) instead of the process dying in the
 * middle of a transfer. A signal handler can only reach a static. */
static volatile int interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The most pages one document may have: the pipeline sizes its tables
 * by it; a feeder that never empties is stopped there. */
#define SCAN_MAX_PAGES 1000

typedef struct scan_ctx {
    int dpi;             /* resolution of the pages */
    int progress;        /* a line per page on stderr */
    const char *pdf_dir; /* where the pipeline publishes */
    const pipeline_options *po;
    pipeline_feed *feed; /* opened at the first page */
    int failed;          /* on_page could not take a page: err says why */
    sohoa_err err;
} scan_ctx;

/* Each page goes to the pipeline as soon as it is on disk: OCR of page 1
 * runs while the scanner feeds page 2. */
static int on_page(void *arg, const char *path, int index)
{
    scan_ctx *c = arg;
    if (c->progress) {
        fprintf(stderr, "sohoa scan: page %d scanned\n", index);
        fflush(stderr);
    }
    if (!c->feed && !(c->feed = pipeline_feed_open(c->pdf_dir, c->po, SCAN_MAX_PAGES, &c->err))) {
        c->failed = 1;
        return 1;
    }
    char *page =
        c->dpi == INPUT_DEFAULT_DPI ? strdup(path) : scanner_page_with_resolution(path, c->dpi, &c->err);
    if (!page)
        err_set(&c->err, SOHOA_EWORK, "out of memory");
    if (!page || pipeline_feed_add(c->feed, page, &c->err) != 0) {
        free(page);
        c->failed = 1;
        return 1;
    }
    free(page);
    return 0;
}

/* Removes a staging directory and the files in it (it holds no
 * subdirectories). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = NULL;
            if (asprintf(&p, "%s/%s", dir, e->d_name) >= 0)
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Moves the pages of a failed batch to outdir/failed-scan-<time>. */
static int keep_failed(const char *stage, const char *outdir, char *kept, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 100; i++) {
        if (i == 1)
            snprintf(kept, len, "%s/failed-scan-%s", outdir, stamp);
        else
            snprintf(kept, len, "%s/failed-scan-%s-%d", outdir, stamp, i);
        if (rename(stage, kept) == 0) {
            fs_sync_parent(kept, NULL);
            return 0;
        }
        if (errno != EEXIST && errno != ENOTEMPTY)
            break;
    }
    return -1;
}

static char *make_stage(const char *outdir, sohoa_err *err)
{
    if (fs_mkdir_p(outdir, 0755, err) != 0)
        return NULL;
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%s/.sohoa-scan-XXXXXX", outdir) < 0) {
        err_set(err, SOHOA_EWORK, "out of memory");
        return NULL;
    }
    if (!mkdtemp(tmpl)) {
        err_errno(err, SOHOA_EWORK, errno, "%s: cannot create a staging directory", outdir);
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

static int replace(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

static int list_devices(void)
{
    sohoa_err err = {0};
    char **names, **descs;
    size_t n;
    if (scanner_list(&names, &descs, &n, &err) != 0)
        return report("scan", &err);
    for (size_t i = 0; i < n; i++)
        printf("%s\t%s\n", names[i], descs[i]);
    scanner_list_free(names, descs, n);
    if (n == 0) {
        fputs("sohoa scan: no SANE device found: connect and switch on the scanner "
              "(sane-find-scanner shows what USB sees)\n",
              stderr);
        return SOHOA_EWORK;
    }
    return 0;
}

/* Scans into `stage`, the pages streaming into the pipeline. Returns 0
 * with *st saying how the batch ended, or the exit code of a failure to
 * open or store (printed). */
static int acquire(const scanner_options *so, const char *stage, scan_ctx *c, scan_status *st,
                   int *npages, char *device, size_t device_len)
{
    sohoa_err err = {0};
    scanner *s = scanner_open(so, &err);
    if (!s)
        return report("scan", &err);
    c->dpi = scanner_resolution(s);
    snprintf(device, device_len, "%s", scanner_name(s));

    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = scanner_scan(s, stage, on_page, c, &interrupted, st, npages, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    /* The device is released before the rest of the OCR. */
    scanner_close(s);
    if (c->failed)
        return report("scan", &c->err);
    if (rc != 0)
        return report("scan", &err);
    return 0;
}

/* A batch the scanner did not finish: one line for the clerk; the pages
 * read go to outdir/failed-scan-<time> for diagnosis. */
static int scan_failed(scan_status st, int npages, const char *device, const char *stage,
                       const char *outdir)
{
    char kept[4096];
    if (st == SCAN_CANCELLED || npages == 0)
        fprintf(stderr, "sohoa scan: scanner %s: %s\n", device, scan_status_advice(st));
    else if (keep_failed(stage, outdir, kept, sizeof kept) == 0)
        fprintf(stderr,
                "sohoa scan: scanner %s: %s (no document was made; the %d page(s) read before "
                "are in %s)\n",
                device, scan_status_advice(st), npages, kept);
    else
        fprintf(stderr, "sohoa scan: scanner %s: %s (no document was made)\n", device,
                scan_status_advice(st));
    return SOHOA_EWORK;
}

static void print_progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    fprintf(stderr, "sohoa scan: page %zu/%zu done\n", done, total);
    fflush(stderr);
}

/* Waits for the pipeline and publishes; with `sign`, the PDF was made in
 * the stage and only the signed one reaches outdir. Consumes `feed`. */
static int finish(const config *cfg, pipeline_feed *feed, const char *stage, const char *outdir,
                  int sign)
{
    sohoa_err err = {0};
    doc_metadata meta = {0};
    char *in = NULL, *out = NULL, *meta_in = NULL, *meta_out = NULL;
    int rc = 0;
    if (pipeline_feed_finish(feed, &meta, &err) != 0) {
        rc = report("scan", &err);
        goto out;
    }
    if (sign) {
        if (asprintf(&in, "%s/document.pdf", stage) < 0 ||
            asprintf(&out, "%s/document.pdf", outdir) < 0 ||
            asprintf(&meta_in, "%s/metadata.json", stage) < 0 ||
            asprintf(&meta_out, "%s/metadata.json", outdir) < 0) {
            err_set(&err, SOHOA_EWORK, "out of memory");
            rc = report("scan", &err);
            goto out;
        }
        if (sign_with_config(cfg, in, out, &err) != 0) {
            rc = report("scan", &err);
            goto out;
        }
        if (rename(meta_in, meta_out) != 0 || fs_sync_parent(meta_out, &err) != 0) {
            err_errno(&err, SOHOA_EWORK, errno, "%s", meta_out);
            unlink(out);
            rc = report("scan", &err);
            goto out;
        }
    }
    printf("%s/document.pdf: %d page(s), %d blank page(s) removed; %s %s\n", outdir, meta.pages,
           meta.blank_pages_removed, meta.str[META_TYPE] ? meta.str[META_TYPE] : "document",
           meta.str[META_NUMBER_NOTATION] ? meta.str[META_NUMBER_NOTATION] : "(number unread)");
out:
    free(in);
    free(out);
    free(meta_in);
    free(meta_out);
    meta_free(&meta);
    return rc;
}

int cmd_scan(int argc, char **argv)
{
    enum {
        OPT_DEVICE = 256,
        OPT_SANE_OPTION,
        OPT_SOURCE,
        OPT_RESOLUTION,
        OPT_MODE,
        OPT_LIST,
        OPT_SIGN,
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"sane-option", required_argument, NULL, OPT_SANE_OPTION},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"resolution", required_argument, NULL, OPT_RESOLUTION},
        {"mode", required_argument, NULL, OPT_MODE},
        {"list", no_argument, NULL, OPT_LIST},
        {"sign", no_argument, NULL, OPT_SIGN},
        OCR_CLI_LONGOPTS,
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outdir = NULL, *config_path = NULL, *device = NULL, *source = NULL, *mode = NULL;
    long resolution = 0;
    ocr_cli oc = OCR_CLI_INIT;
    int list = 0, sign = 0, verbose = 0, c, taken;
    /* --sane-option values, applied after the configuration's. */
    const char **extra = calloc((size_t)argc + 1, sizeof *extra);
    size_t nextra = 0;
    if (!extra) {
        fputs("sohoa scan: out of memory\n", stderr);
        return SOHOA_EWORK;
    }
    optind = 0; /* a fresh parse, also when called more than once */
    int rc = -1;
    while (rc < 0 && (c = getopt_long(argc, argv, "+o:c:vqh", longopts, NULL)) != -1) {
        if ((taken = ocr_cli_option("scan", c, optarg, &oc)) != 0) {
            if (taken != 1)
                rc = taken;
            continue;
        }
        switch (c) {
        case 'o':
            outdir = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case OPT_DEVICE:
            device = optarg;
            break;
        case OPT_SANE_OPTION:
            extra[nextra++] = optarg;
            break;
        case OPT_SOURCE:
            source = optarg;
            break;
        case OPT_RESOLUTION:
            if (parse_number("scan", "--resolution", optarg, 1, 100000, &resolution))
                rc = SOHOA_EINPUT;
            break;
        case OPT_MODE:
            mode = optarg;
            break;
        case OPT_LIST:
            list = 1;
            break;
        case OPT_SIGN:
            sign = 1;
            break;
        case 'v':
            log_set_level(verbose++ ? LOG_DEBUG : LOG_INFO);
            break;
        case 'q':
            log_set_level(LOG_ERROR);
            break;
        case 'h':
            fputs(scan_help, stdout);
            rc = 0;
            break;
        default:
            rc = usage_error("scan", "unknown option");
            break;
        }
    }
    if (rc < 0 && optind < argc)
        rc = usage_error("scan", "unexpected argument (the pages come from the scanner)");
    if (rc < 0 && !outdir && !list)
        rc = usage_error("scan", "missing -o DIR");
    if (rc >= 0) {
        free(extra);
        return rc;
    }

    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0) {
        free(extra);
        return report("scan", &err);
    }
    scanner_options so;
    scan_ctx ctx = {0};
    char *stage = NULL;
    int inited = 0;
    pipeline_options po = pipeline_defaults();
    if (scanner_options_load(&cfg, &so, &err) != 0) {
        rc = report("scan", &err);
        goto out;
    }
    if ((device && replace(&so.device, device) != 0) ||
        (source && replace(&so.source, source) != 0) || (mode && replace(&so.mode, mode) != 0)) {
        err_set(&err, SOHOA_EWORK, "out of memory");
        rc = report("scan", &err);
        goto out;
    }
    if (resolution)
        so.resolution = (int)resolution;
    for (size_t i = 0; i < nextra; i++)
        if (scanner_options_add(&so, extra[i], &err) != 0)
            break;
    if (err.status != SOHOA_OK || scanner_options_check(&so, &err) != 0) {
        rc = report("scan", &err);
        goto out;
    }
    if (scanner_init(&err) != 0) {
        rc = report("scan", &err);
        goto out;
    }
    inited = 1;
    if (list) {
        rc = list_devices();
        goto out;
    }

    if (ocr_cli_apply(&oc, &cfg, &po, &err) != 0) {
        rc = report("scan", &err);
        goto out;
    }
    if (verbose)
        po.progress = print_progress;
    /* A missing token or a wrong PIN is found before paper goes through. */
    if (sign && check_token(&cfg, &err) != 0) {
        rc = report("scan", &err);
        goto out;
    }
    if (!(stage = make_stage(outdir, &err))) {
        rc = report("scan", &err);
        goto out;
    }
    ctx.progress = verbose || isatty(STDERR_FILENO);
    ctx.pdf_dir = sign ? stage : outdir;
    ctx.po = &po;
    scan_status st = SCAN_OK;
    int npages = 0;
    char dev[256] = "";
    rc = acquire(&so, stage, &ctx, &st, &npages, dev, sizeof dev);
    if (rc == 0 && st == SCAN_OK) {
        rc = finish(&cfg, ctx.feed, stage, outdir, sign);
        ctx.feed = NULL;
    } else {
        /* Stop the OCR before the pages move away from under it. */
        pipeline_feed_abort(ctx.feed);
        ctx.feed = NULL;
        if (rc == 0)
            rc = scan_failed(st, npages, dev, stage, outdir);
    }
out:
    if (stage)
        remove_dir(stage); /* gone already when a failed batch was kept */
    free(stage);
    if (inited)
        scanner_exit();
    scanner_options_free(&so);
    config_free(&cfg);
    free(extra);
    return rc;
}
