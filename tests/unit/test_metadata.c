/* Unit tests: ocr/metadata — the sohoa.metadata/1 JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/metadata.h"

static void empty_metadata_has_every_field_as_null(void **state)
{
    doc_metadata m = {0};
    m.pages = 2;
    m.blank_pages_removed = 1;
    char *json = meta_to_json(&m);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"schema\": \"sohoa.metadata/1\""));
    for (int f = 0; f < META_NFIELDS; f++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\": null", meta_field_name((meta_field)f));
        if (!strstr(json, key))
            fail_msg("missing %s in %s", key, json);
    }
    assert_non_null(strstr(json, "\"pages\": 2"));
    assert_non_null(strstr(json, "\"blank_pages_removed\": 1"));
    assert_non_null(strstr(json, "\"review\": []"));
    assert_int_equal(json[strlen(json) - 1], '\n');
    free(json);
}

static void round_trips_values_confidence_and_review(void **state)
{
    doc_metadata m = {0}, back;
    sohoa_err err = {0};
    meta_set(&m, META_NUMBER_NOTATION, "682-QĐ/TU");
    meta_set(&m, META_SUBJECT, "Về việc \"trích yếu\"\\ có ký tự đặc biệt");
    m.number = 682;
    m.has_number = true;
    m.confidence[META_NUMBER] = 0.314f;
    m.confidence[META_DATE] = 0.97f;
    m.review[META_NUMBER] = true;
    m.pages = 1;
    char *json = meta_to_json(&m);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"number\": 682"));
    /* Two decimals: the estimate is not more precise than that. */
    assert_non_null(strstr(json, "\"number\": 0.31"));
    assert_null(strstr(json, "0.314"));
    assert_int_equal(meta_from_json(json, &back, &err), 0);
    assert_true(back.has_number);
    assert_int_equal(back.number, 682);
    assert_string_equal(back.str[META_NUMBER_NOTATION], "682-QĐ/TU");
    assert_string_equal(back.str[META_SUBJECT], m.str[META_SUBJECT]);
    assert_true(back.review[META_NUMBER]);
    assert_false(back.review[META_DATE]);
    assert_float_equal(back.confidence[META_DATE], 0.97f, 0.001f);
    free(json);
    meta_free(&m);
    meta_free(&back);
}

static void invalid_utf8_becomes_null_not_a_broken_file(void **state)
{
    doc_metadata m = {0};
    meta_set(&m, META_PLACE, "H\xc3\x28 N\xe1i");
    char *json = meta_to_json(&m);
    assert_non_null(strstr(json, "\"place\": null"));
    free(json);
    meta_free(&m);
}

static void rejects_schema_violations(void **state)
{
    doc_metadata m;
    sohoa_err err = {0};
    assert_int_equal(meta_from_json("{\"schema\": \"other/1\"}", &m, &err), -1);
    assert_non_null(strstr(err.msg, "schema"));
    err_clear(&err);
    assert_int_equal(meta_from_json("{not json", &m, &err), -1);
    err_clear(&err);
    /* A complete document but for one field. */
    doc_metadata full = {0};
    char *json = meta_to_json(&full);
    char *p = strstr(json, "\"signer\": null,");
    memcpy(p, "\"signex\"", 8);
    assert_int_equal(meta_from_json(json, &m, &err), -1);
    assert_non_null(strstr(err.msg, "\"signer\" is missing"));
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_metadata_has_every_field_as_null),
        cmocka_unit_test(round_trips_values_confidence_and_review),
        cmocka_unit_test(invalid_utf8_becomes_null_not_a_broken_file),
        cmocka_unit_test(rejects_schema_violations),
    };
    return cmocka_run_group_tests_name("metadata", tests, NULL, NULL);
}
