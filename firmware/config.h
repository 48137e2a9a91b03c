/* config.h — the station's INI configuration (interfaces.md).
 *
 * `[section]` headers, `key = value` lines, comments after `;` or `#`
 * (at the start of a line, or after whitespace in a value). Keys are
 * case-sensitive; a repeated key or section.key is an error, as is a line
 * that is none of the above: a typo must not silently become a default.
 */
#ifndef SOHOA_CONFIG_H
#define SOHOA_CONFIG_H

#include <stddef.h>

#include "err.h"

#define CONFIG_DEFAULT_PATH "/etc/sohoa/sohoa.conf"

typedef struct config_entry {
    char *section;
    char *key;
    char *value;
    int line;
} config_entry;

typedef struct config {
    char *path; /* where it was read from, or NULL for built-in defaults */
    config_entry *entries;
    size_t n, cap;
} config;

/* Parses INI text. `name` is used in error messages ("sohoa.conf:12: ..."). */
int config_parse(config *cfg, const char *text, const char *name, sohoa_err *err);

/* Reads and parses a file. */
int config_load(config *cfg, const char *path, sohoa_err *err);

/* Value of section.key, or `def` when absent. */
const char *config_get(const config *cfg, const char *section, const char *key, const char *def);

/* Integer value in [min, max]; absent → `def`; malformed or out of range
 * → error naming the file, line and key. */
int config_get_int(const config *cfg, const char *section, const char *key, long def, long min,
                   long max, long *out, sohoa_err *err);

/* Sets (or adds) section.key. */
int config_set(config *cfg, const char *section, const char *key, const char *value);

void config_free(config *cfg);

#endif
