/* config_keys.h — every setting of sohoa.conf, with its default and the
 * kind of value it takes: what `sohoa console`'s `config` command lists,
 * completes and checks before anything is written.
 *
 * The loaders of each module (ocr_config, signing, upload, station, ...)
 * remain the authority on a value's meaning; this table only catches what
 * can be told from the value alone (an unknown key, a word not in a list,
 * a number out of range), so that a typo is refused with a clear message
 * before the whole configuration is checked.
 */
#ifndef SOHOA_CONFIG_KEYS_H
#define SOHOA_CONFIG_KEYS_H

#include "err.h"

typedef enum {
    KEY_TEXT,   /* any one-line text */
    KEY_INT,    /* integer in [min, max] */
    KEY_ENUM,   /* one of `choices` ("a|b|c") */
    KEY_PATH,   /* a file path (relative: from the config file's directory) */
    KEY_SECRET, /* never shown (password hash) */
} config_key_kind;

typedef struct config_key {
    const char *section, *key;
    config_key_kind kind;
    const char *def;     /* the default, as shown ("" = empty) */
    long min, max;       /* KEY_INT */
    const char *choices; /* KEY_ENUM */
    const char *help;    /* one line, English */
} config_key;

/* The table, ended by an entry with section NULL. */
extern const config_key config_keys[];

/* The entry for section.key, or NULL. */
const config_key *config_key_find(const char *section, const char *key);

/* Checks `value` for section.key by the table (unknown key, bad number,
 * word not in the list, a line break). SOHOA_EINPUT error naming the key
 * and what it takes. */
int config_key_check(const char *section, const char *key, const char *value, sohoa_err *err);

#endif
