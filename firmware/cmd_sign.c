/* cmd_sign.c — `sohoa sign` and `sohoa verify` (cmd_sign.h). */
#include "cmd_sign.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../signer/pades.h"
#include "cli.h"
#include "log.h"
#include "signing.h"

int check_token(const config *cfg, sohoa_err *err)
{
    signing_setup s;
    if (signing_load(cfg, &s, err) != 0) {
        signing_free(&s);
        return -1;
    }
    token *t = signing_open_token(&s, err);
    int rc = t ? 0 : -1;
    token_close(t);
    signing_free(&s);
    return rc;
}

int sign_with_config(const config *cfg, const char *in, const char *out, sohoa_err *err)
{
    signing_setup s;
    if (signing_load(cfg, &s, err) != 0) {
        signing_free(&s);
        return -1;
    }
    token *t = signing_open_token(&s, err);
    int rc = -1;
    if (t) {
        pades_result res;
        rc = pades_sign_file(in, out, t, &s.po, &res, err);
        if (rc == 0) {
            char when[40];
            pdf_sig_format_time(s.po.now ? s.po.now : time(NULL), when, sizeof when);
            printf("%s: signed by %s (PAdES %s, %s)%s%s\n", out, res.signer, res.level,
                   res.field, res.warning[0] ? "; " : "", res.warning);
        }
        token_close(t);
    }
    signing_free(&s);
    return rc;
}

static const char sign_help[] =
    "usage: sohoa sign [-c FILE] IN.pdf OUT.pdf\n"
    "\n"
    "Sign a PDF with the organization's token (PAdES baseline, incremental update:\n"
    "earlier signatures stay valid). OUT may be IN. [token] chooses the token,\n"
    "[signature] the digest, the visible signature and the timestamp server.\n"
    "\n"
    "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "  -v, --verbose       say which token and key are used\n"
    "  -h, --help          this help\n";

int cmd_sign(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int c, verbose = 0;
    while ((c = getopt_long(argc, argv, "+c:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'v': log_set_level(verbose++ ? LOG_DEBUG : LOG_INFO); break;
        case 'h': fputs(sign_help, stdout); return 0;
        default: return usage_error("sign", "unknown option");
        }
    }
    if (argc - optind != 2)
        return usage_error("sign", "expected IN.pdf OUT.pdf");
    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0)
        return report("sign", &err);
    int rc = 0;
    if (sign_with_config(&cfg, argv[optind], argv[optind + 1], &err) != 0)
        rc = report("sign", &err);
    config_free(&cfg);
    return rc;
}

static const char verify_help[] =
    "usage: sohoa verify [-c FILE] [--trust PEM] FILE.pdf\n"
    "\n"
    "Check every signature of a PDF: integrity of the signed bytes, the signature,\n"
    "the certificate chain to the trust anchors and its validity at signing time\n"
    "(the timestamp's time when there is one). One line per signature; exit 0 only\n"
    "if there is at least one signature and all are valid.\n"
    "\n"
    "  -c, --config FILE   configuration file ([signature] trust_file)\n"
    "      --trust PEM     trust anchors (overrides the configuration)\n"
    "  -h, --help          this help\n";

int cmd_verify(int argc, char **argv)
{
    enum { OPT_TRUST = 256 };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"trust", required_argument, NULL, OPT_TRUST},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *trust = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case OPT_TRUST: trust = optarg; break;
        case 'h': fputs(verify_help, stdout); return 0;
        default: return usage_error("verify", "unknown option");
        }
    }
    if (argc - optind != 1)
        return usage_error("verify", "expected one FILE.pdf");
    const char *path = argv[optind];
    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0)
        return report("verify", &err);
    signing_setup s;
    signing_load_trust(&cfg, &s, &err);
    if (!trust)
        trust = s.trust_file;
    pades_sig_report *r = NULL;
    int n = 0, rc = 0;
    if (pades_verify_file(path, trust, &r, &n, &err) != 0) {
        rc = report("verify", &err);
    } else if (n == 0) {
        fprintf(stderr, "sohoa verify: %s: no signature\n", path);
        rc = SOHOA_EWORK;
    } else {
        if (!trust)
            fprintf(stderr, "sohoa verify: no trust anchors configured ([signature] trust_file "
                            "or --trust): certificates cannot be trusted\n");
        for (int i = 0; i < n; i++) {
            char when[40] = "-";
            if (r[i].signing_time)
                pdf_sig_format_time(r[i].signing_time, when, sizeof when);
            printf("%s: %s, %s%s: %s%s%s\n", r[i].field, r[i].signer[0] ? r[i].signer : "?",
                   when, r[i].timestamped ? " (timestamp)" : "", r[i].valid ? "VALID" : "INVALID",
                   r[i].valid ? "" : " - ", r[i].valid ? "" : r[i].status);
            if (!r[i].valid && r[i].detail[0])
                printf("  %s\n", r[i].detail);
            if (!r[i].valid)
                rc = SOHOA_EWORK;
        }
    }
    free(r);
    signing_free(&s);
    config_free(&cfg);
    return rc;
}
