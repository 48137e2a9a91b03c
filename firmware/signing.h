/* signing.h — the [token] and [signature] sections of the configuration
 * turned into an open token and PAdES options, for `sohoa sign`,
 * `sohoa process --sign` and the station.
 *
 * Relative paths in the configuration (module, pin_file, key_file,
 * seal_image, trust_file, tsa_ca_file) are taken relative to the
 * configuration file's directory, so a configuration and its files can be
 * moved together.
 */
#ifndef SOHOA_SIGNING_H
#define SOHOA_SIGNING_H

#include "../signer/pades.h"
#include "../signer/token.h"
#include "config.h"
#include "err.h"

typedef struct signing_setup {
    token_params tp;
    pades_options po;
    const char *trust_file; /* [signature] trust_file, NULL if unset */
    char *paths[8];         /* resolved paths owned by the setup */
    int npaths;
    char *pin;              /* from pin_file; wiped on free */
} signing_setup;

/* Reads and validates the keys; reads the PIN file (which must be 0600).
 * Errors name the file, section and key (SOHOA_EINPUT), or the PIN file. */
int signing_load(const config *cfg, signing_setup *s, sohoa_err *err);

/* Reads only what verification needs ([signature] trust_file); no PIN. */
int signing_load_trust(const config *cfg, signing_setup *s, sohoa_err *err);

/* Opens the configured token (backend, module, labels, PIN). */
token *signing_open_token(const signing_setup *s, sohoa_err *err);

void signing_free(signing_setup *s);

#endif
