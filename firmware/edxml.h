/* edxml.h — the exchange packet of QCVN 102:2016/BTTTT (standards.md §6).
 *
 * The envelope carries the sending body's metadata as read from the paper
 * (Code, PromulgationInfo, DocumentType, Subject, SignerInfo,
 * OtherInfo/Priority, PageAmount), our organization as From, a
 * TraceHeader with our organ id and the time, and the signed PDF as a
 * base64 attachment referenced from the manifest. It is written with
 * libxml2's xmlTextWriter, streaming the PDF, so memory does not hold the
 * document. firmware/edxml.xsd describes what we produce; tests validate
 * against it.
 */
#ifndef SOHOA_EDXML_H
#define SOHOA_EDXML_H

#include <stddef.h>
#include <time.h>

#include "../ocr/metadata.h"
#include "config.h"
#include "err.h"

#define EDXML_NS "http://www.mic.gov.vn/TBT/QCVN_102_2016"

/* What the envelope says about us and the recipient. Strings may be NULL
 * (empty elements), except organ_id and organ_name. */
typedef struct edxml_options {
    const char *organ_id;   /* [station] organ_id (mã định danh) */
    const char *organ_name; /* [station] organ_name */
    const char *organ_add, *email, *telephone, *fax, *website; /* [station] organ_add, ... */
    const char *to_organ_id, *to_organ_name; /* [upload] to_organ_id/to_organ_name; no To when NULL */
    int trace_day_first; /* [upload] trace_time_format = dd/MM/yyyy → 1; yyyy/MM/dd (default) → 0 */
} edxml_options;

/* Fills `o` from the configuration (pointers into `cfg`). Validates
 * organ_id: dot-separated groups of 0-9 and A-Z, at most 35 characters
 * (SOHOA_EINPUT naming the key otherwise). */
int edxml_options_load(const config *cfg, edxml_options *o, sohoa_err *err);

/* Priority of edXML OtherInfo from the urgency mark: NULL → 0 (thường),
 * "Khẩn" → 1, "Thượng khẩn" → 2, "Hỏa tốc" → 3. */
int edxml_priority(const char *urgency);

/* DocumentId "OrganId,yyyy/MM/dd,Number/Notation" of the sending body's
 * document: organ_id is ours (the packet's sender), the date and
 * number/notation are the document's. NULL (and err set, SOHOA_EINPUT)
 * when the metadata lacks the date or number_notation. malloc'd. */
char *edxml_document_id(const char *organ_id, const doc_metadata *m, sohoa_err *err);

/* About this copy of the document. */
typedef struct edxml_doc {
    const char *document_id;     /* from edxml_document_id() */
    const char *pdf_path;        /* the signed PDF to attach */
    const char *attachment_name; /* file name shown to the recipient, e.g. "182-QD-LDTBXH.pdf" */
    time_t sent_at;              /* TraceHeader time */
} edxml_doc;

/* Writes the envelope to `path` atomically (fsutil: temporary, fsync,
 * rename), mode 0600. */
int edxml_write_envelope(const char *path, const edxml_options *o, const doc_metadata *m,
                         const edxml_doc *d, sohoa_err *err);

/* A Status packet (MessageStatus) from the server. */
typedef struct edxml_status {
    char *response_for; /* DocumentId it answers (ResponseFor/DocumentId) */
    char *from_organ_id;
    char code[3];       /* "01" .. "16" */
    char *description;
    char *timestamp;    /* as sent */
    char *staff;        /* StaffInfo, flattened to one line, or NULL */
} edxml_status;

/* Parses an untrusted Status packet (no network access, no entities, no
 * DTD; size-limited). Unknown status codes are an error. */
int edxml_parse_status(const char *buf, size_t len, edxml_status *st, sohoa_err *err);
void edxml_status_free(edxml_status *st);

/* Meaning of a status code in Vietnamese ("đã đến", "từ chối", ...), or
 * NULL for an unknown code. */
const char *edxml_status_text(const char *code);

#endif
