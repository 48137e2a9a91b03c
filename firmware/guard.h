/* guard.h — what must stop a document before it is registered and sent.
 *
 * - Classified (standards.md §1): a secrecy mark, or not being sure there
 *   is none (the confidence that secrecy is null below
 *   [guard] secrecy_threshold). Such a document is never packaged nor
 *   uploaded until the clerk releases it at the console with a reason.
 * - Duplicate (standards.md §5): same issuer + number/notation + date as a
 *   registered document; never the subject alone or the number alone.
 * - Review: fields the extraction is unsure of (metadata `review`). Held
 *   for the clerk by default; [guard] unreviewed = send lets it go on with
 *   the fields flagged. A document without date or number/notation cannot
 *   get an edXML DocumentId and is always held for review.
 *
 * Reasons the clerk has already released are not raised again.
 */
#ifndef SOHOA_GUARD_H
#define SOHOA_GUARD_H

#include <stdint.h>

#include "../ocr/metadata.h"
#include "config.h"
#include "err.h"
#include "register.h"

typedef struct guard_options {
    double secrecy_threshold; /* [guard] secrecy_threshold, default 0.8 */
    int send_unreviewed;      /* [guard] unreviewed = hold (default) | send */
} guard_options;

int guard_options_load(const config *cfg, guard_options *o, sohoa_err *err);

/* The verdict for document `self` with metadata `m`. */
typedef struct guard_verdict {
    unsigned hold;        /* HOLD_* reasons, 0 = go on */
    int64_t duplicate_of; /* with HOLD_DUPLICATE */
    char note[256];       /* for the clerk: why, in one line */
} guard_verdict;

/* Checks `m`; `released` are the reasons the clerk has released already.
 * The duplicate lookup needs the register `r`. */
int guard_check(const guard_options *o, reg *r, int64_t self, const doc_metadata *m,
                unsigned released, guard_verdict *v, sohoa_err *err);

#endif
