/* sohoa — one binary, one subcommand per job (interfaces.md).
 *
 * Exit codes: 0 success; 1 the work failed; 2 bad input or usage. Errors
 * are one line on stderr naming the thing at fault and what to do.
 */
#include <curl/curl.h>
#include <libxml/parser.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ocr/encode.h"
#include "../ocr/pipeline.h"
#include "cli.h"
#include "cmd_register.h"
#include "cmd_scan.h"
#include "cmd_sign.h"
#include "cmd_station.h"
#include "console.h"
#include "config.h"
#include "fsutil.h"
#include "ocr_config.h"
#include "err.h"
#include "log.h"
#include "version.h"

/* On a terminal the progress line rewrites itself; in a log (or with -v,
 * where other lines interleave) each step is a line of its own. */
static void print_progress(void *ctx, size_t done, size_t total)
{
    int inplace = *(const int *)ctx;
    if (inplace)
        fprintf(stderr, "\rsohoa: page %zu/%zu done%s", done, total, done == total ? "\n" : "");
    else
        fprintf(stderr, "sohoa: page %zu/%zu done\n", done, total);
    fflush(stderr);
}

static const char process_help[] =
    "usage: sohoa process -o DIR [options] IMAGE...\n"
    "\n"
    "Digitise scanned pages (PNG, JPEG, TIFF incl. multi-page/CCITT G4, PNM) into\n"
    "DIR/document.pdf (searchable colour PDF/A-2b) and DIR/metadata.json.\n"
    "\n"
    "  -o, --output DIR        output directory (created if missing)\n"
    "  -c, --config FILE       configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "      --sign              sign the PDF with the configured token (PAdES)\n"
    "      --compression MODE  auto (default), mrc, jpeg or g4\n"
    "      --keep-blank        keep blank pages\n"
    "      --threads N         worker threads (default: one per CPU)\n"
    "      --ocr-dpi N         resolution OCR reads at (default 200; 0 = native)\n"
    "      --lang LANGS        Tesseract languages (default vie)\n"
    "  -v, --verbose           progress and per-page decisions on stderr\n"
    "                          (-vv: timings of each stage)\n"
    "  -q, --quiet             errors only\n"
    "  -h, --help              this help\n";

/* ---- process --sign ------------------------------------------------- */

static char *stage_file(const char *stage, const char *name)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", stage, name) < 0 ? NULL : p;
}

/* A fresh staging directory inside `outdir` (same file system: the
 * results are renamed out of it). */
static char *make_stage(const char *outdir, sohoa_err *err)
{
    if (fs_mkdir_p(outdir, 0755, err) != 0)
        return NULL;
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%s/.sohoa-stage-XXXXXX", outdir) < 0) {
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

static void remove_stage(const char *stage)
{
    static const char *const names[] = {"document.pdf", "metadata.json"};
    for (size_t i = 0; i < 2; i++) {
        char *p = stage_file(stage, names[i]);
        if (p)
            unlink(p);
        free(p);
    }
    rmdir(stage);
}

/* Signs stage/document.pdf into outdir/document.pdf, then moves the
 * metadata next to it. */
static int publish_signed(const config *cfg, const char *stage, const char *outdir,
                          sohoa_err *err)
{
    char *in = stage_file(stage, "document.pdf"), *meta_in = stage_file(stage, "metadata.json");
    char *out = stage_file(outdir, "document.pdf"), *meta_out = stage_file(outdir, "metadata.json");
    int rc = -1;
    if (!in || !meta_in || !out || !meta_out)
        err_set(err, SOHOA_EWORK, "out of memory");
    else if (sign_with_config(cfg, in, out, err) == 0) {
        if (rename(meta_in, meta_out) != 0)
            err_errno(err, SOHOA_EWORK, errno, "%s", meta_out);
        else
            rc = fs_sync_parent(meta_out, err);
    }
    free(in);
    free(meta_in);
    free(out);
    free(meta_out);
    return rc;
}

static int cmd_process(int argc, char **argv)
{
    enum { OPT_SIGN = 256 };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"sign", no_argument, NULL, OPT_SIGN},
        OCR_CLI_LONGOPTS,
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outdir = NULL, *config_path = NULL;
    ocr_cli oc = OCR_CLI_INIT;
    int sign = 0, verbose = 0, c, taken;
    while ((c = getopt_long(argc, argv, "+o:c:vqh", longopts, NULL)) != -1) {
        if ((taken = ocr_cli_option("process", c, optarg, &oc)) != 0) {
            if (taken != 1)
                return taken;
            continue;
        }
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'c': config_path = optarg; break;
        case OPT_SIGN: sign = 1; break;
        case 'v':
            log_set_level(verbose++ ? LOG_DEBUG : LOG_INFO);
            break;
        case 'q': log_set_level(LOG_ERROR); break;
        case 'h': fputs(process_help, stdout); return 0;
        default: return usage_error("process", "unknown option");
        }
    }
    if (!outdir)
        return usage_error("process", "missing -o DIR");
    if (optind >= argc)
        return usage_error("process", "no input images");

    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0)
        return report("process", &err);
    pipeline_options po = pipeline_defaults();
    int rc = 0;
    if (ocr_cli_apply(&oc, &cfg, &po, &err) != 0) {
        rc = report("process", &err);
        goto out;
    }
    int inplace = !verbose && isatty(STDERR_FILENO);
    if (verbose || inplace) {
        po.progress = print_progress;
        po.progress_ctx = &inplace;
    }
    /* With --sign, a missing token or a wrong PIN is found before the OCR
     * and the pages go to a staging directory: the PDF is published only
     * once signed, so a failure leaves no unsigned document behind. */
    char *stage = NULL;
    if (sign && (check_token(&cfg, &err) != 0 || !(stage = make_stage(outdir, &err)))) {
        rc = report("process", &err);
        goto out;
    }
    doc_metadata meta = {0};
    if (pipeline_process(argv + optind, (size_t)(argc - optind), stage ? stage : outdir, &po,
                         &meta, &err) != 0 ||
        (stage && publish_signed(&cfg, stage, outdir, &err) != 0)) {
        rc = report("process", &err);
        if (stage)
            remove_stage(stage);
        free(stage);
        meta_free(&meta);
        goto out;
    }
    if (stage)
        remove_stage(stage);
    free(stage);
    printf("%s/document.pdf: %d page(s), %d blank page(s) removed; %s %s\n", outdir, meta.pages,
           meta.blank_pages_removed, meta.str[META_TYPE] ? meta.str[META_TYPE] : "document",
           meta.str[META_NUMBER_NOTATION] ? meta.str[META_NUMBER_NOTATION] : "(number unread)");
    meta_free(&meta);
out:
    config_free(&cfg);
    return rc;
}

static const char main_help[] =
    "usage: sohoa COMMAND [options]\n"
    "\n"
    "  process -o DIR IMAGE...   digitise page images into a searchable PDF/A + metadata\n"
    "  scan -o DIR               acquire from a SANE scanner, then process\n"
    "  sign IN.pdf OUT.pdf       sign a PDF with the configured token (PAdES)\n"
    "  verify FILE.pdf           check every signature\n"
    "  daemon                    the station service\n"
    "  press [IMAGE...]          deliver a button press to the running daemon\n"
    "  register export           the incoming register as CSV or printable PDF\n"
    "  console                   the IT staff shell\n"
    "  version                   print the version\n"
    "\n"
    "'sohoa COMMAND --help' describes a command.\n";

/* Tesseract's OpenMP threads compete with our page workers and, on a busy
 * machine, make OCR several times slower; libgomp reads OMP_THREAD_LIMIT
 * only when it is loaded, so the variable must be in the environment
 * before the process starts: set it and start again, once. */
static void limit_openmp(char **argv)
{
    if (getenv("OMP_THREAD_LIMIT"))
        return;
    setenv("OMP_THREAD_LIMIT", "1", 1);
    execv("/proc/self/exe", argv);
    /* If that fails we run on, only slower. */
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return SOHOA_EINPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_help, stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sohoa %s\n", SOHOA_VERSION);
        return 0;
    }
    /* once, before any thread: libcurl's lazy initialisation is not
     * thread-safe (timestamps, uploads) */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser(); /* likewise for libxml2 (edXML in the station's threads) */
    if (strcmp(cmd, "process") == 0) {
        limit_openmp(argv);
        /* Page images are tens of megabytes, allocated and freed once per
         * page on several threads: served by mmap they go back to the
         * system when freed instead of fragmenting per-thread heaps
         * (measured: peak RSS 350 → 300 MB over 16 pages). */
        mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
        return cmd_process(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "sign") == 0)
        return cmd_sign(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "scan") == 0) {
        limit_openmp(argv);
        mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
        return cmd_scan(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "daemon") == 0) {
        limit_openmp(argv);
        mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
        return cmd_daemon(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "register") == 0)
        return cmd_register(argc - 1, argv + 1);
    if (strcmp(cmd, "press") == 0)
        return cmd_press(argc - 1, argv + 1);
    if (strcmp(cmd, "console") == 0)
        return cmd_console(argc - 1, argv + 1);
    fprintf(stderr, "sohoa: unknown command \"%s\" (try 'sohoa --help')\n", cmd);
    return SOHOA_EINPUT;
}
