/* Unit tests: ocr/input — validation up front, pages and resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <leptonica/allheaders.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/input.h"

static char dir[64];

static int setup(void **state)
{
    strcpy(dir, "/tmp/sohoa-input.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static char *path_of(const char *name)
{
    static char p[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static PIX *page(int w, int h, int depth, int dpi)
{
    PIX *p = pixCreate(w, h, depth);
    pixSetAll(p);
    if (depth != 1)
        pixSetAllArbitrary(p, depth == 32 ? 0xf0f0f000 : 0xf0);
    else
        pixClearAll(p);
    pixSetResolution(p, dpi, dpi);
    return p;
}

static void multipage_tiff_lists_every_page_with_resolution(void **state)
{
    char *tif = path_of("scan.tif");
    PIX *a = page(800, 1100, 1, 200), *b = page(1100, 800, 1, 200);
    pixWriteTiff(tif, a, IFF_TIFF_G4, "w");
    pixWriteTiff(tif, b, IFF_TIFF_G4, "a");
    char *png = path_of("p.png");
    PIX *c = page(600, 900, 32, 150);
    pixWrite(png, c, IFF_PNG);
    char *paths[] = {tif, png};
    input_set set;
    sohoa_err err = {0};
    assert_int_equal(input_open(&set, paths, 2, &err), 0);
    assert_int_equal(set.npages, 3);
    assert_int_equal(set.pages[1].index, 1);
    assert_int_equal(set.pages[1].width, 1100);
    int dpi = 0;
    PIX *got = input_load_page(&set.pages[1], &dpi, &err);
    assert_non_null(got);
    assert_int_equal(pixGetWidth(got), 1100);
    assert_int_equal(pixGetDepth(got), 1);
    assert_int_equal(dpi, 200);
    pixDestroy(&got);
    got = input_load_page(&set.pages[2], &dpi, &err);
    assert_int_equal(dpi, 150); /* below 200: a warning, but its own value */
    pixDestroy(&got);
    input_close(&set);
    pixDestroy(&a);
    pixDestroy(&b);
    pixDestroy(&c);
}

static void missing_resolution_defaults_to_300(void **state)
{
    char *pnm = path_of("p.pgm");
    PIX *p = page(100, 100, 8, 0);
    pixWrite(pnm, p, IFF_PNM);
    char *paths[] = {pnm};
    input_set set;
    sohoa_err err = {0};
    assert_int_equal(input_open(&set, paths, 1, &err), 0);
    int dpi = 0;
    PIX *got = input_load_page(&set.pages[0], &dpi, &err);
    assert_int_equal(dpi, INPUT_DEFAULT_DPI);
    pixDestroy(&got);
    input_close(&set);
    pixDestroy(&p);
}

static void expect_refused(char *path, const char *fragment)
{
    char *paths[] = {path};
    input_set set;
    sohoa_err err = {0};
    assert_int_equal(input_open(&set, paths, 1, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, path) || !strstr(err.msg, fragment))
        fail_msg("\"%s\" should name %s and say \"%s\"", err.msg, path, fragment);
}

static void bad_files_are_refused_before_decoding(void **state)
{
    expect_refused(path_of("absent.png"), "No such file");
    char *empty = path_of("empty.jpg");
    fclose(fopen(empty, "w"));
    expect_refused(empty, "empty");
    char *text = path_of("notes.tif");
    FILE *f = fopen(text, "w");
    fputs("hello, not an image\n", f);
    fclose(f);
    expect_refused(text, "not a PNG, JPEG, TIFF or PNM image");
    expect_refused(dir, "not a regular file");
    char *wide = path_of("wide.png");
    PIX *p = page(INPUT_MAX_SIDE + 1, 2, 1, 300);
    pixWrite(wide, p, IFF_PNG);
    pixDestroy(&p);
    expect_refused(wide, "limit");
}

static void truncated_or_corrupt_files_are_refused_up_front(void **state)
{
    char *full = path_of("full.jpg");
    PIX *p = page(1200, 1600, 32, 300);
    /* Some structure so that the JPEG has real entropy-coded data. */
    for (int y = 0; y < 1600; y += 40)
        pixRenderLine(p, 0, y, 1199, y + 20, 6, L_CLEAR_PIXELS);
    pixWrite(full, p, IFF_JFIF_JPEG);
    pixDestroy(&p);
    size_t len = 0;
    l_uint8 *data = l_binaryRead(full, &len);
    char *cut = path_of("cut.jpg");
    l_binaryWrite(cut, "w", data, len / 3);
    free(data);
    /* The header is intact, but the missing end is caught up front. */
    expect_refused(cut, "truncated or corrupt JPEG");
    /* PNG: a flipped byte inside the compressed data breaks a chunk CRC. */
    char *png = path_of("ok.png");
    p = page(300, 300, 8, 300);
    pixRenderLine(p, 0, 0, 299, 299, 5, L_CLEAR_PIXELS);
    pixWrite(png, p, IFF_PNG);
    pixDestroy(&p);
    data = l_binaryRead(png, &len);
    data[len / 2] ^= 0x55;
    char *bad = path_of("bad.png");
    l_binaryWrite(bad, "w", data, len);
    expect_refused(bad, "truncated or corrupt PNG");
    l_binaryWrite(bad, "w", data, len - 20);
    expect_refused(bad, "truncated or corrupt PNG");
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(multipage_tiff_lists_every_page_with_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_resolution_defaults_to_300, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_files_are_refused_before_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_or_corrupt_files_are_refused_up_front, setup, teardown),
    };
    return cmocka_run_group_tests_name("input", tests, NULL, NULL);
}
