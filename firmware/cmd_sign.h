/* cmd_sign.h — `sohoa sign`, `sohoa verify`, and the signing step of
 * `sohoa process --sign`. */
#ifndef SOHOA_CMD_SIGN_H
#define SOHOA_CMD_SIGN_H

#include "config.h"
#include "err.h"

int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Signs `in` into `out` (PAdES) with the token and options of `cfg`;
 * prints one line saying what was signed. Nothing is written on failure. */
int sign_with_config(const config *cfg, const char *in, const char *out, sohoa_err *err);

/* Opens and closes the configured token: a missing token or a wrong PIN is
 * found before minutes of OCR, not after. */
int check_token(const config *cfg, sohoa_err *err);

#endif
