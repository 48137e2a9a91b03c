/* metadata.h — the document's header as read, in the schema
 * "sohoa.metadata/1" of interfaces.md, and its JSON form.
 */
#ifndef SOHOA_METADATA_H
#define SOHOA_METADATA_H

#include <stdbool.h>
#include <stdio.h>

#include "../firmware/err.h"

/* Extracted fields, in schema order. META_NUMBER is the integer field;
 * every other field is a string (NULL when not found). */
typedef enum {
    META_FORMAT,
    META_NUMBER,
    META_NOTATION,
    META_NUMBER_NOTATION,
    META_DATE,
    META_PLACE,
    META_TYPE,
    META_SUBJECT,
    META_ISSUER,
    META_ISSUER_SUPERIOR,
    META_SIGNER,
    META_SIGNER_POSITION,
    META_SIGNER_PREFIX,
    META_URGENCY,
    META_SECRECY,
    META_NFIELDS
} meta_field;

typedef struct doc_metadata {
    char *str[META_NFIELDS];      /* owned UTF-8 NFC strings; str[META_NUMBER] unused */
    long number;                  /* valid when has_number */
    bool has_number;
    float confidence[META_NFIELDS]; /* 0..1 for each field */
    bool review[META_NFIELDS];      /* fields a clerk should check */
    int pages;
    int blank_pages_removed;
} doc_metadata;

/* JSON key of a field ("number_notation", ...). */
const char *meta_field_name(meta_field f);

/* Looks a field up by its JSON key; returns META_NFIELDS when unknown. */
meta_field meta_field_by_name(const char *name);

/* Replaces a string field with a copy of `value` (NULL clears it). */
int meta_set(doc_metadata *m, meta_field f, const char *value);

/* Frees the strings and zeroes `m`. */
void meta_free(doc_metadata *m);

/* Serialises `m` as the schema's JSON object (UTF-8, pretty printed,
 * newline-terminated). Returns a malloc'd string, or NULL on ENOMEM. */
char *meta_to_json(const doc_metadata *m);

/* Parses a metadata.json document; fails with a message on a schema
 * violation (wrong "schema", missing field, wrong type). */
int meta_from_json(const char *json, doc_metadata *out, sohoa_err *err);

#endif
