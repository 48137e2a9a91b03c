/* cmd_register.c — `sohoa register export`. */
#include "cmd_register.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "register.h"
#include "register_export.h"
#include "vntime.h"

static const char register_help[] =
    "usage: sohoa register [-c FILE] export [--from DATE] [--to DATE]\n"
    "                                       (--csv FILE | --pdf FILE)\n"
    "\n"
    "The incoming register (so dang ky van ban den) of the station's data\n"
    "directory, for the documents received from DATE to DATE (YYYY-MM-DD,\n"
    "Vietnam time, effective receipt day; default: from 1 January of this year\n"
    "on), as CSV (FILE '-' = standard\n"
    "output) or as a printable PDF with the columns of Nghi dinh 30, Phu luc IV.\n"
    "\n"
    "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "  -h, --help          this help\n";

int cmd_register(int argc, char **argv)
{
    enum { OPT_FROM = 256, OPT_TO, OPT_CSV, OPT_PDF };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},  {"csv", required_argument, NULL, OPT_CSV},
        {"pdf", required_argument, NULL, OPT_PDF}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *from = NULL, *to = NULL, *csv = NULL, *pdf = NULL;
    int c;
    /* options may come before or after the verb */
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case OPT_FROM: from = optarg; break;
        case OPT_TO: to = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_PDF: pdf = optarg; break;
        case 'h': fputs(register_help, stdout); return 0;
        default: return usage_error("register", "unknown option");
        }
    }
    if (optind >= argc || strcmp(argv[optind], "export") != 0 || optind + 1 != argc)
        return usage_error("register", "expected 'export'");
    if (!csv == !pdf)
        return usage_error("register", "give one of --csv FILE or --pdf FILE");
    time_t t;
    char from_buf[11], to_buf[11];
    if (from && vntime_parse_date(from, &t) != 0)
        return usage_error("register", "--from: expected a date YYYY-MM-DD");
    if (to && vntime_parse_date(to, &t) != 0)
        return usage_error("register", "--to: expected a date YYYY-MM-DD");
    /* by default this year so far, and the coming weeks: a document taken
     * in on a weekend counts from the next working day */
    time_t now = time(NULL);
    vntime_date(now, from_buf);
    memcpy(from_buf + 4, "-01-01", 7);
    vntime_date(now + 31 * 86400, to_buf);
    if (!from)
        from = from_buf;
    if (!to)
        to = to_buf;

    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0)
        return report("register", &err);
    char *db = NULL;
    int rc = 0;
    if (asprintf(&db, "%s/register.db", config_get(&cfg, "station", "data_dir", "/var/lib/sohoa")) <
        0) {
        config_free(&cfg);
        return SOHOA_EWORK;
    }
    reg *r = reg_open(db, &err);
    if (!r)
        rc = report("register", &err);
    else if (csv) {
        FILE *out = strcmp(csv, "-") == 0 ? stdout : fopen(csv, "w");
        if (!out)
            err_errno(&err, SOHOA_EWORK, errno, "%s", csv);
        if (!out || register_export_csv(r, from, to, out, &err) != 0)
            rc = report("register", &err);
        if (out && out != stdout && fclose(out) != 0 && rc == 0)
            rc = report("register", (err_errno(&err, SOHOA_EWORK, errno, "%s", csv), &err));
        fflush(stdout);
    } else if (register_export_pdf(r, from, to, config_get(&cfg, "station", "organ_name", ""), pdf,
                                   &err) != 0)
        rc = report("register", &err);
    reg_close(r);
    free(db);
    config_free(&cfg);
    return rc;
}
