#include "metadata.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[META_NFIELDS] = {
    [META_FORMAT] = "format",
    [META_NUMBER] = "number",
    [META_NOTATION] = "notation",
    [META_NUMBER_NOTATION] = "number_notation",
    [META_DATE] = "date",
    [META_PLACE] = "place",
    [META_TYPE] = "type",
    [META_SUBJECT] = "subject",
    [META_ISSUER] = "issuer",
    [META_ISSUER_SUPERIOR] = "issuer_superior",
    [META_SIGNER] = "signer",
    [META_SIGNER_POSITION] = "signer_position",
    [META_SIGNER_PREFIX] = "signer_prefix",
    [META_URGENCY] = "urgency",
    [META_SECRECY] = "secrecy",
};

#define META_SCHEMA "sohoa.metadata/1"

const char *meta_field_name(meta_field f)
{
    return (f >= 0 && f < META_NFIELDS) ? field_names[f] : NULL;
}

meta_field meta_field_by_name(const char *name)
{
    for (int f = 0; f < META_NFIELDS; f++)
        if (strcmp(field_names[f], name) == 0)
            return (meta_field)f;
    return META_NFIELDS;
}

int meta_set(doc_metadata *m, meta_field f, const char *value)
{
    if (f < 0 || f >= META_NFIELDS || f == META_NUMBER)
        return -1;
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return -1;
    free(m->str[f]);
    m->str[f] = copy;
    return 0;
}

void meta_free(doc_metadata *m)
{
    for (int f = 0; f < META_NFIELDS; f++)
        free(m->str[f]);
    memset(m, 0, sizeof *m);
}

/* Confidences are printed with two decimals: more digits would suggest a
 * precision the estimates do not have. */
static json_t *rounded(float v)
{
    if (v < 0)
        v = 0;
    if (v > 1)
        v = 1;
    return json_real((double)(long)(v * 100.0f + 0.5f) / 100.0);
}

char *meta_to_json(const doc_metadata *m)
{
    json_t *root = json_object();
    json_t *conf = json_object();
    json_t *review = json_array();
    if (!root || !conf || !review)
        goto fail;
    json_object_set_new(root, "schema", json_string(META_SCHEMA));
    for (int f = 0; f < META_NFIELDS; f++) {
        json_t *v;
        if (f == META_NUMBER)
            v = m->has_number ? json_integer(m->number) : json_null();
        else
            v = m->str[f] ? json_string(m->str[f]) : json_null();
        /* json_string() refuses invalid UTF-8: never emit a broken file. */
        if (!v)
            v = json_null();
        json_object_set_new(root, field_names[f], v);
    }
    json_object_set_new(root, "pages", json_integer(m->pages));
    json_object_set_new(root, "blank_pages_removed", json_integer(m->blank_pages_removed));
    for (int f = 0; f < META_NFIELDS; f++) {
        json_object_set_new(conf, field_names[f], rounded(m->confidence[f]));
        if (m->review[f])
            json_array_append_new(review, json_string(field_names[f]));
    }
    json_object_set_new(root, "confidence", conf);
    json_object_set_new(root, "review", review);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3));
    json_decref(root);
    if (!text)
        return NULL;
    /* Newline-terminate: friendlier to shells and diff. */
    size_t len = strlen(text);
    char *out = realloc(text, len + 2);
    if (!out) {
        free(text);
        return NULL;
    }
    out[len] = '\n';
    out[len + 1] = '\0';
    return out;
fail:
    json_decref(root);
    json_decref(conf);
    json_decref(review);
    return NULL;
}

static int parse_fields(json_t *root, doc_metadata *out, sohoa_err *err)
{
    for (int f = 0; f < META_NFIELDS; f++) {
        json_t *v = json_object_get(root, field_names[f]);
        if (!v)
            return err_set(err, SOHOA_EINPUT, "metadata: field \"%s\" is missing", field_names[f]);
        if (json_is_null(v))
            continue;
        if (f == META_NUMBER) {
            if (!json_is_integer(v))
                return err_set(err, SOHOA_EINPUT,
                               "metadata: \"number\" must be an integer or null");
            out->number = (long)json_integer_value(v);
            out->has_number = true;
        } else {
            if (!json_is_string(v))
                return err_set(err, SOHOA_EINPUT, "metadata: \"%s\" must be a string or null",
                               field_names[f]);
            if (meta_set(out, (meta_field)f, json_string_value(v)) != 0)
                return err_set(err, SOHOA_EWORK, "metadata: out of memory");
        }
    }
    return 0;
}

static int parse_confidence(json_t *root, doc_metadata *out, sohoa_err *err)
{
    json_t *conf = json_object_get(root, "confidence");
    json_t *review = json_object_get(root, "review");
    if (!json_is_object(conf) || !json_is_array(review))
        return err_set(err, SOHOA_EINPUT,
                       "metadata: \"confidence\" or \"review\" missing or malformed");
    const char *key;
    json_t *v;
    json_object_foreach(conf, key, v)
    {
        meta_field f = meta_field_by_name(key);
        double d = json_number_value(v);
        if (f == META_NFIELDS || !json_is_number(v) || d < 0 || d > 1)
            return err_set(err, SOHOA_EINPUT, "metadata: bad confidence entry \"%s\"", key);
        out->confidence[f] = (float)d;
    }
    size_t i;
    json_array_foreach(review, i, v)
    {
        meta_field f = json_is_string(v) ? meta_field_by_name(json_string_value(v)) : META_NFIELDS;
        if (f == META_NFIELDS)
            return err_set(err, SOHOA_EINPUT, "metadata: unknown field in \"review\"");
        out->review[f] = true;
    }
    return 0;
}

int meta_from_json(const char *text, doc_metadata *out, sohoa_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return err_set(err, SOHOA_EINPUT, "metadata: invalid JSON at line %d: %s", jerr.line,
                       jerr.text);
    int rc = -1;
    json_t *schema = json_object_get(root, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), META_SCHEMA) != 0) {
        err_set(err, SOHOA_EINPUT, "metadata: \"schema\" is not \"%s\"", META_SCHEMA);
        goto done;
    }
    json_t *pages = json_object_get(root, "pages");
    json_t *blanks = json_object_get(root, "blank_pages_removed");
    if (!json_is_integer(pages) || !json_is_integer(blanks)) {
        err_set(err, SOHOA_EINPUT, "metadata: \"pages\"/\"blank_pages_removed\" must be integers");
        goto done;
    }
    out->pages = (int)json_integer_value(pages);
    out->blank_pages_removed = (int)json_integer_value(blanks);
    if (parse_fields(root, out, err) == 0 && parse_confidence(root, out, err) == 0)
        rc = 0;
done:
    json_decref(root);
    if (rc != 0)
        meta_free(out);
    return rc;
}
