/* config_edit.h — changing sohoa.conf as text, so that the comments and
 * layout IT staff wrote survive a `config set`, and swapping the file in
 * atomically with the previous one kept for `config rollback`.
 */
#ifndef SOHOA_CONFIG_EDIT_H
#define SOHOA_CONFIG_EDIT_H

#include "err.h"

/* Returns a malloc'ed copy of INI `text` with section.key set to `value`:
 * the key's line is rewritten in place (keeping a trailing "; comment"),
 * or the key is added at the end of its section, or the section is added
 * at the end. `value` NULL removes the key's line. NULL when out of memory. */
char *config_text_set(const char *text, const char *section, const char *key, const char *value);

/* Writes `text` as the configuration `path` (mode 0640, or the present
 * file's mode), atomically, first keeping the present file as
 * `path`.prev. */
int config_replace(const char *path, const char *text, sohoa_err *err);

/* Puts `path`.prev back as `path`, keeping the present one as `path`.prev
 * (so a second rollback undoes the first). */
int config_rollback(const char *path, sohoa_err *err);

#endif
