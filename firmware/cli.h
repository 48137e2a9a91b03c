/* cli.h — what every subcommand shares: usage errors, error reports with
 * the exit codes of interfaces.md, and loading the configuration. */
#ifndef SOHOA_CLI_H
#define SOHOA_CLI_H

#include "config.h"
#include "err.h"

/* Prints "sohoa CMD: MSG (try 'sohoa CMD --help')"; returns exit code 2. */
int usage_error(const char *cmd, const char *msg);

/* Parses option `opt`'s value `arg` as an integer in [min, max]; on a bad
 * value prints a usage error naming the range and returns 2. */
int parse_number(const char *cmd, const char *opt, const char *arg, long min, long max, long *out);

/* Prints "sohoa CMD: <err->msg>"; returns the exit code for err->status. */
int report(const char *cmd, const sohoa_err *err);

/* Loads `path`, or the default file when it exists, or nothing (empty
 * configuration: built-in defaults). */
int load_config(const char *path, config *cfg, sohoa_err *err);

#endif
