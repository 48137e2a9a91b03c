/* Unit tests: firmware/config — INI parsing and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "firmware/config.h"

static void parses_sections_keys_and_comments(void **state)
{
    config cfg;
    sohoa_err err = {0};
    const char *text = "; station\n[station]\norgan_id = 000.00.15.H47\n"
                       "organ_name = Sở Lao động - Thương binh và Xã hội   ; trailing comment\n"
                       "\n[upload]\nurl = https://qlvb.example.vn/edxml#frag\nempty =\n";
    assert_int_equal(config_parse(&cfg, text, "t.conf", &err), 0);
    assert_string_equal(config_get(&cfg, "station", "organ_id", NULL), "000.00.15.H47");
    assert_string_equal(config_get(&cfg, "station", "organ_name", NULL),
                        "Sở Lao động - Thương binh và Xã hội");
    /* '#' not preceded by a space is part of the value (URL fragments). */
    assert_string_equal(config_get(&cfg, "upload", "url", NULL),
                        "https://qlvb.example.vn/edxml#frag");
    assert_string_equal(config_get(&cfg, "upload", "empty", "x"), "");
    assert_string_equal(config_get(&cfg, "upload", "absent", "dflt"), "dflt");
    /* Same key in another section is another setting. */
    assert_null(config_get(&cfg, "station", "url", NULL));
    config_free(&cfg);
}

static void expect_error(const char *text, const char *fragment)
{
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, text, "t.conf", &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, fragment))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, fragment);
}

static void rejects_malformed_lines_with_their_number(void **state)
{
    expect_error("[a]\nkey value\n", "t.conf:2");
    expect_error("key = 1\n", "outside any [section]");
    expect_error("[a\nx = 1\n", "t.conf:1");
    expect_error("[a]\nx = 1\nx = 2\n", "set twice");
    expect_error("[a]\nbad key = 1\n", "bad key name");
}

static void validates_integers(void **state)
{
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, "[ocr]\nthreads = 4\ndpi = 90x\nbig = 999\n", "t.conf", &err), 0);
    long v = 0;
    assert_int_equal(config_get_int(&cfg, "ocr", "threads", 0, 0, 64, &v, &err), 0);
    assert_int_equal(v, 4);
    assert_int_equal(config_get_int(&cfg, "ocr", "absent", 7, 0, 64, &v, &err), 0);
    assert_int_equal(v, 7);
    assert_int_equal(config_get_int(&cfg, "ocr", "dpi", 0, 0, 64, &v, &err), -1);
    assert_non_null(strstr(err.msg, ":3:"));
    err_clear(&err);
    assert_int_equal(config_get_int(&cfg, "ocr", "big", 0, 0, 64, &v, &err), -1);
    config_free(&cfg);
}

static void set_overrides_and_adds(void **state)
{
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, "[a]\nx = 1\n", "t.conf", &err), 0);
    assert_int_equal(config_set(&cfg, "a", "x", "2"), 0);
    assert_int_equal(config_set(&cfg, "b", "y", "3"), 0);
    assert_string_equal(config_get(&cfg, "a", "x", NULL), "2");
    assert_string_equal(config_get(&cfg, "b", "y", NULL), "3");
    config_free(&cfg);
}

static void load_reports_missing_file(void **state)
{
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_load(&cfg, "/nonexistent/sohoa.conf", &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/sohoa.conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_sections_keys_and_comments),
        cmocka_unit_test(rejects_malformed_lines_with_their_number),
        cmocka_unit_test(validates_integers),
        cmocka_unit_test(set_overrides_and_adds),
        cmocka_unit_test(load_reports_missing_file),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
