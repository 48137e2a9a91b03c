/* pades.h — sign a PDF (PAdES baseline B-B, or B-T with a timestamp) and
 * verify every signature of a PDF.
 *
 * Signing ties the parts together: the incremental update with its
 * placeholder (pdf_sig.h), the digest of the byte ranges, the CMS made by
 * the token (cms.h), the RFC 3161 timestamp (tsa.h), and the DER patched
 * into the placeholder. The output is written to a temporary file and only
 * renamed over OUT when everything succeeded: a token pulled out mid-way,
 * a wrong PIN or an unreachable TSA leave nothing half-written.
 */
#ifndef SOHOA_PADES_H
#define SOHOA_PADES_H

#include <stddef.h>
#include <time.h>

#include "../firmware/err.h"
#include "pdf_sig.h"
#include "token.h"
#include "tsa.h"

/* What to do when the TSA cannot be reached or refuses. */
typedef enum {
    PADES_TSA_WAIT = 0, /* fail (SOHOA_EWORK): the document waits and is signed later */
    PADES_TSA_BB = 1,   /* sign without a timestamp (B-B), with a warning in the log and result */
} pades_tsa_fallback;

typedef struct pades_options {
    int md_nid;              /* NID_sha256 (default when 0), NID_sha384, NID_sha512 */
    token_sig_scheme scheme; /* 0 = PKCS#1 v1.5 for RSA keys, ECDSA for EC keys */
    time_t now;              /* signing time; 0 = the current time */

    /* visible signature */
    int invisible;             /* 1 = no appearance */
    const char *organization;  /* "Ký bởi: <organization>" line; NULL = the certificate's CN */
    const char *label_signer;  /* default "Ký bởi" */
    const char *label_time;    /* default "Thời gian ký" */
    const char *seal_png;      /* optional seal image */
    const char *font_path;     /* NULL = Liberation Serif */
    const pdf_rect *avoid;     /* page-1 areas to keep clear (user space) */
    int n_avoid;
    const char *reason, *location; /* optional /Reason, /Location */

    /* timestamp (B-T) */
    const char *tsa_url; /* NULL or "" = B-B */
    cms_tsa_opts tsa;
    pades_tsa_fallback tsa_fallback;
} pades_options;

typedef struct pades_result {
    int timestamped;   /* 1 = B-T */
    char level[8];     /* "B-B" or "B-T" */
    char signer[256];  /* certificate CN */
    char field[128];   /* signature field name */
    char warning[256]; /* e.g. why the timestamp is missing; "" if none */
    pdf_rect rect;     /* where the visible signature went on page 1 */
} pades_result;

/* Signs `in_path` into `out_path` (which may be the same file: the new
 * version replaces it atomically). `res` may be NULL. */
int pades_sign_file(const char *in_path, const char *out_path, token *t, const pades_options *o,
                    pades_result *res, sohoa_err *err);

/* One checked signature of a file. */
typedef struct pades_sig_report {
    char field[128];
    char signer[256];
    time_t signing_time;
    int timestamped;
    int valid;             /* every check passed */
    int covers_whole_file; /* the signature is the last revision */
    char status[64];       /* "valid", "content modified", "untrusted", ... */
    char detail[256];
} pades_sig_report;

/* Checks every signature of `path` against the PEM anchors in
 * `trust_file` (NULL = integrity only, reported untrusted). *reports is
 * malloc'ed (free()), *n its count. Returns 0 when the file could be
 * examined (the verdicts are in the reports), -1 with err set otherwise.
 * A signature that does not cover the whole file is valid only when a
 * later valid signature does (the file was signed again, not edited). */
int pades_verify_file(const char *path, const char *trust_file, pades_sig_report **reports,
                      int *n, sohoa_err *err);

#endif
