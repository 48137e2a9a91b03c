/* cli.c — what every subcommand shares (cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "sohoa %s: %s (try 'sohoa %s --help')\n", cmd, msg, cmd);
    return SOHOA_EINPUT;
}

int report(const char *cmd, const sohoa_err *err)
{
    fprintf(stderr, "sohoa %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
    return err->status == SOHOA_OK ? SOHOA_EWORK : (int)err->status;
}

/* Loads --config, or the default file when it exists, or nothing. */
int load_config(const char *path, config *cfg, sohoa_err *err)
{
    if (!path) {
        if (access(CONFIG_DEFAULT_PATH, F_OK) != 0) {
            memset(cfg, 0, sizeof *cfg);
            return 0;
        }
        path = CONFIG_DEFAULT_PATH;
    }
    return config_load(cfg, path, err);
}

int parse_number(const char *cmd, const char *opt, const char *arg, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || errno || v < min || v > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: expected a number from %ld to %ld", opt, min, max);
        return usage_error(cmd, msg);
    }
    *out = v;
    return 0;
}
