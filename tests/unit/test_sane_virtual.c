/* Unit tests: drivers/sane_virtual.c — the "sohoa" SANE backend, driven through the real
 * libsane (its dll backend loads $BUILD/sane/libsane-sohoa.so.1) and through scanimage.
 *
 * libsane is dlopen'ed so the test needs no link flags of its own. The dll backend reads
 * SANE_CONFIG_DIR and LD_LIBRARY_PATH with getenv() in sane_init()/when it loads a backend
 * (checked with SANE_DEBUG_DLL=5), so setting them in this process before sane_init() is
 * enough: no re-exec is needed. Each test writes sohoa.conf, then sane_init()s; the
 * teardown closes and sane_exit()s. Pages are PNM files written here.
 */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sane/sane.h>
#include <sane/saneopts.h>

#include "tests/unit/support/testutil.h"

/* The libsane entry points, from dlopen. */
static struct {
    void *lib;
    SANE_Status (*init)(SANE_Int *, SANE_Auth_Callback);
    void (*exit)(void);
    SANE_Status (*get_devices)(const SANE_Device ***, SANE_Bool);
    SANE_Status (*open)(SANE_String_Const, SANE_Handle *);
    void (*close)(SANE_Handle);
    const SANE_Option_Descriptor *(*get_option_descriptor)(SANE_Handle, SANE_Int);
    SANE_Status (*control_option)(SANE_Handle, SANE_Int, SANE_Action, void *, SANE_Int *);
    SANE_Status (*get_parameters)(SANE_Handle, SANE_Parameters *);
    SANE_Status (*start)(SANE_Handle);
    SANE_Status (*read)(SANE_Handle, SANE_Byte *, SANE_Int, SANE_Int *);
    void (*cancel)(SANE_Handle);
    SANE_Status (*set_io_mode)(SANE_Handle, SANE_Bool);
    SANE_Status (*get_select_fd)(SANE_Handle, SANE_Int *);
} S;

static char tmp[64];               /* everything the test writes */
static char libdir[PATH_MAX];      /* where libsane-sohoa.so.1 is */
static char preload[2 * PATH_MAX]; /* "LD_PRELOAD=... " for scanimage under ASan, else "" */
static SANE_Handle cur;            /* the open handle, closed by the teardown */
static int inited;

/* The page set (150 dpi, 300 × 450 px = 2 × 3 in):
 *   p1.ppm  P6 8-bit:  R = x % 256, G = y % 256, B = 11
 *   p2.pgm  P5 8-bit:  22 left of x = 150, 200 right of it
 *   p3.ppm  P6 16-bit: R = 0x1234, G = x * 100, B = 0xFEDC
 * backs/p1.ppm is a P4 checkerboard; p2 and p3 have no back (blank). */
#define PW 300
#define PH 450
#define WIN_W_MM 50.8 /* the page at 150 dpi, exactly */
#define WIN_H_MM 76.2

/* ---- files ----------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

typedef void (*pixel_fn)(int x, int y, unsigned v[3]);

/* Writes a PNM page: kind 4 (v[0] != 0 is black), 5 or 6; 16-bit samples when maxval > 255. */
static void write_pnm(const char *path, int kind, int w, int h, unsigned maxval, pixel_fn px)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (kind == 4)
        fprintf(f, "P4\n# a comment\n%d %d\n", w, h);
    else
        fprintf(f, "P%d\n# a comment\n%d %d\n%u\n", kind, w, h, maxval);
    for (int y = 0; y < h; y++) {
        unsigned char bits = 0;
        for (int x = 0; x < w; x++) {
            unsigned v[3];
            px(x, y, v);
            if (kind == 4) {
                bits |= (unsigned char)(v[0] ? 0x80 >> (x % 8) : 0);
                if (x % 8 == 7 || x == w - 1) {
                    fputc(bits, f);
                    bits = 0;
                }
                continue;
            }
            for (int c = 0; c < (kind == 6 ? 3 : 1); c++) {
                if (maxval > 255)
                    fputc((int)(v[c] >> 8), f);
                fputc((int)(v[c] & 0xff), f);
            }
        }
    }
    assert_int_equal(fclose(f), 0);
}

static void px_p1(int x, int y, unsigned v[3])
{
    v[0] = (unsigned)x % 256;
    v[1] = (unsigned)y % 256;
    v[2] = 11;
}

static void px_p2(int x, int y, unsigned v[3])
{
    v[0] = x < 150 ? 22 : 200;
}

static void px_p3(int x, int y, unsigned v[3])
{
    v[0] = 0x1234;
    v[1] = (unsigned)x * 100;
    v[2] = 0xFEDC;
}

static void px_checker(int x, int y, unsigned v[3])
{
    v[0] = (unsigned)(x + y) % 2;
}

/* Writes conf/sohoa.conf from printf-style text. */
__attribute__((format(printf, 1, 2))) static void conf(const char *fmt, ...)
{
    char path[PATH_MAX], text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/conf/sohoa.conf", tmp);
    write_file(path, text, strlen(text));
}

/* The usual device on the standard page set, with extra lines appended. */
static void conf_std(const char *extra)
{
    conf("# virtual scanner for the tests\n"
         "device virtual0 \"Virtual ADF 1\"\n"
         "pages %s/pages\n"
         "duplex_backs %s/backs\n"
         "page_dpi 150\n"
         "%s",
         tmp, tmp, extra);
}

/* ---- SANE helpers ------------------------------------------------------------------------ */

static SANE_Handle open_dev(void)
{
    SANE_Int version = 0;
    assert_int_equal(S.init(&version, NULL), SANE_STATUS_GOOD);
    inited = 1;
    assert_int_equal(SANE_VERSION_MAJOR(version), 1);
    assert_int_equal(S.open("sohoa:virtual0", &cur), SANE_STATUS_GOOD);
    return cur;
}

static int opt_index(SANE_Handle h, const char *name)
{
    SANE_Int n = 0;
    assert_int_equal(S.control_option(h, 0, SANE_ACTION_GET_VALUE, &n, NULL), SANE_STATUS_GOOD);
    for (SANE_Int i = 1; i < n; i++) {
        const SANE_Option_Descriptor *d = S.get_option_descriptor(h, i);
        if (d && d->name && !strcmp(d->name, name))
            return i;
    }
    fail_msg("option %s not found", name);
    return -1;
}

static void set_str(SANE_Handle h, const char *name, const char *value)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", value);
    assert_int_equal(S.control_option(h, opt_index(h, name), SANE_ACTION_SET_VALUE, buf, NULL),
                     SANE_STATUS_GOOD);
}

static void set_word(SANE_Handle h, const char *name, SANE_Word value)
{
    assert_int_equal(S.control_option(h, opt_index(h, name), SANE_ACTION_SET_VALUE, &value, NULL),
                     SANE_STATUS_GOOD);
}

/* The window of one whole page at 150 dpi. */
static void set_page_window(SANE_Handle h)
{
    set_word(h, SANE_NAME_SCAN_BR_X, SANE_FIX(WIN_W_MM));
    set_word(h, SANE_NAME_SCAN_BR_Y, SANE_FIX(WIN_H_MM));
}

/* Reads the started frame to EOF, in odd-sized pieces that split lines. */
static unsigned char *read_frame(SANE_Handle h, SANE_Parameters *p, size_t *len)
{
    assert_int_equal(S.get_parameters(h, p), SANE_STATUS_GOOD);
    size_t n = 0, cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (cap - n < 7919) {
            buf = realloc(buf, cap *= 2);
            assert_non_null(buf);
        }
        SANE_Int got = -1;
        SANE_Status st = S.read(h, buf + n, 7919, &got);
        if (st == SANE_STATUS_EOF) {
            assert_int_equal(got, 0);
            break;
        }
        assert_int_equal(st, SANE_STATUS_GOOD);
        assert_true(got > 0);
        n += (size_t)got;
    }
    *len = n;
    return buf;
}

/* Starts the next side, reads it and checks it is w × lines of the expected layout. */
static unsigned char *scan_one(SANE_Handle h, SANE_Parameters *p, size_t *len)
{
    assert_int_equal(S.start(h), SANE_STATUS_GOOD);
    unsigned char *buf = read_frame(h, p, len);
    assert_true(p->last_frame);
    if (p->lines >= 0)
        assert_int_equal(*len, (size_t)p->bytes_per_line * (size_t)p->lines);
    return buf;
}

/* ITU-R 601 luma of an 8-bit colour, as a scanner's Gray mode gives it (±1). */
static int luma8(int r, int g, int b)
{
    return (r * 299 + g * 587 + b * 114 + 500) / 1000;
}

/* p3's luma, from its 16-bit samples at x = 0. */
#define P3_LUMA (((0x1234 * 299 + 0xFEDC * 114 + 500) / 1000) >> 8)

static const unsigned char *rgb_at(const unsigned char *buf, const SANE_Parameters *p, int x, int y)
{
    return buf + (size_t)y * (size_t)p->bytes_per_line + (size_t)x * 3;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

/* Finds the loaded sanitizer runtimes: scanimage (not instrumented) must preload them to
 * load an instrumented backend. */
static void find_preload(void)
{
    preload[0] = '\0';
#if defined(__SANITIZE_ADDRESS__)
    FILE *m = fopen("/proc/self/maps", "r");
    char line[PATH_MAX + 128], asan[PATH_MAX] = "";
    while (m && fgets(line, sizeof line, m)) {
        char *p = strchr(line, '/');
        if (p && strstr(p, "/libasan.so") && !asan[0]) {
            p[strcspn(p, "\n")] = '\0';
            snprintf(asan, sizeof asan, "%s", p);
        }
    }
    if (m)
        fclose(m);
    if (asan[0])
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 ", asan);
#endif
}

static int group_setup(void **state)
{
    /* The backend sits in $BUILD/sane, next to this binary's $BUILD/tests. */
    char exe[PATH_MAX - 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(libdir, sizeof libdir, "%s/sane", exe);
    char so[PATH_MAX + 32];
    snprintf(so, sizeof so, "%s/libsane-sohoa.so.1", libdir);
    if (access(so, R_OK) != 0) {
        fprintf(stderr,
                "%s missing: build it with make BUILD=... <build>/sane/libsane-sohoa.so.1\n", so);
        return -1;
    }
    strcpy(tmp, "/tmp/sohoa-sanev.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    char path[PATH_MAX];
    const char *sub[] = {"conf", "pages", "backs", "bad", "checker", "empty", "out"};
    for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, sub[i]);
        if (mkdir(path, 0700) != 0)
            return -1;
    }
    snprintf(path, sizeof path, "%s/conf/dll.conf", tmp);
    write_file(path, "# only ours\nsohoa\n", 18);
    snprintf(path, sizeof path, "%s/pages/p1.ppm", tmp);
    write_pnm(path, 6, PW, PH, 255, px_p1);
    snprintf(path, sizeof path, "%s/pages/p2.pgm", tmp);
    write_pnm(path, 5, PW, PH, 255, px_p2);
    snprintf(path, sizeof path, "%s/pages/p3.ppm", tmp);
    write_pnm(path, 6, PW, PH, 65535, px_p3);
    /* Not pages: a hidden file and a directory are skipped. */
    snprintf(path, sizeof path, "%s/pages/.hidden.pnm", tmp);
    write_file(path, "junk", 4);
    snprintf(path, sizeof path, "%s/pages/zz-dir", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/backs/p1.ppm", tmp);
    write_pnm(path, 4, PW, PH, 1, px_checker);
    snprintf(path, sizeof path, "%s/checker/c.pbm", tmp);
    write_pnm(path, 4, PW, PH, 1, px_checker);

    snprintf(path, sizeof path, "%s/conf", tmp);
    setenv("SANE_CONFIG_DIR", path, 1);
    setenv("LD_LIBRARY_PATH", libdir, 1);
    setenv("SANE_DEBUG_SOHOA", "0", 1); /* expected errors stay quiet; scanimage tests say 1 */
    find_preload();

    S.lib = dlopen("libsane.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!S.lib) {
        fprintf(stderr, "libsane.so.1: %s (install libsane1)\n", dlerror());
        return -1;
    }
    S.init = dlsym(S.lib, "sane_init");
    S.exit = dlsym(S.lib, "sane_exit");
    S.get_devices = dlsym(S.lib, "sane_get_devices");
    S.open = dlsym(S.lib, "sane_open");
    S.close = dlsym(S.lib, "sane_close");
    S.get_option_descriptor = dlsym(S.lib, "sane_get_option_descriptor");
    S.control_option = dlsym(S.lib, "sane_control_option");
    S.get_parameters = dlsym(S.lib, "sane_get_parameters");
    S.start = dlsym(S.lib, "sane_start");
    S.read = dlsym(S.lib, "sane_read");
    S.cancel = dlsym(S.lib, "sane_cancel");
    S.set_io_mode = dlsym(S.lib, "sane_set_io_mode");
    S.get_select_fd = dlsym(S.lib, "sane_get_select_fd");
    return S.init && S.exit && S.get_devices && S.open && S.close && S.get_option_descriptor &&
                   S.control_option && S.get_parameters && S.start && S.read && S.cancel &&
                   S.set_io_mode && S.get_select_fd
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    if (S.lib)
        dlclose(S.lib);
    if (!tmp[0])
        return 0;
    return tu_run(NULL, "rm -rf '%s'", tmp);
}

static int teardown(void **state)
{
    if (cur)
        S.close(cur);
    cur = NULL;
    if (inited)
        S.exit();
    inited = 0;
    return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void devices_are_listed(void **state)
{
    conf_std("device virtual1\npages pages-elsewhere\n");
    assert_int_equal(S.init(NULL, NULL), SANE_STATUS_GOOD);
    inited = 1;
    const SANE_Device **list = NULL;
    assert_int_equal(S.get_devices(&list, SANE_TRUE), SANE_STATUS_GOOD);
    int found = 0;
    for (int i = 0; list[i]; i++) {
        if (!strcmp(list[i]->name, "sohoa:virtual0")) {
            assert_string_equal(list[i]->vendor, "Sohoa");
            assert_string_equal(list[i]->model, "Virtual ADF 1");
            assert_string_equal(list[i]->type, "sheetfed scanner");
            found |= 1;
        } else if (!strcmp(list[i]->name, "sohoa:virtual1")) {
            assert_string_equal(list[i]->model, "Virtual ADF");
            found |= 2;
        } else {
            fail_msg("unexpected device %s", list[i]->name);
        }
    }
    assert_int_equal(found, 3);
    assert_int_equal(S.open("sohoa:nosuch", &cur), SANE_STATUS_INVAL);
    cur = NULL;
}

static void options_have_standard_types(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    const SANE_Option_Descriptor *d = S.get_option_descriptor(h, opt_index(h, "source"));
    assert_int_equal(d->type, SANE_TYPE_STRING);
    assert_int_equal(d->constraint_type, SANE_CONSTRAINT_STRING_LIST);
    const char *sources[] = {"Flatbed", "ADF", "ADF Duplex"};
    for (int i = 0; i < 3; i++)
        assert_string_equal(d->constraint.string_list[i], sources[i]);
    assert_null(d->constraint.string_list[3]);
    assert_true(d->size >= (SANE_Int)sizeof "ADF Duplex");
    char s[64];
    assert_int_equal(S.control_option(h, opt_index(h, "source"), SANE_ACTION_GET_VALUE, s, NULL),
                     SANE_STATUS_GOOD);
    assert_string_equal(s, "ADF");

    d = S.get_option_descriptor(h, opt_index(h, SANE_NAME_SCAN_MODE));
    assert_int_equal(d->constraint_type, SANE_CONSTRAINT_STRING_LIST);
    assert_string_equal(d->constraint.string_list[0], "Color");
    assert_string_equal(d->constraint.string_list[1], "Gray");
    assert_string_equal(d->constraint.string_list[2], "Lineart");

    d = S.get_option_descriptor(h, opt_index(h, SANE_NAME_SCAN_RESOLUTION));
    assert_int_equal(d->type, SANE_TYPE_INT);
    assert_int_equal(d->unit, SANE_UNIT_DPI);
    assert_int_equal(d->constraint_type, SANE_CONSTRAINT_WORD_LIST);
    const SANE_Word res[] = {4, 150, 200, 300, 600};
    assert_memory_equal(d->constraint.word_list, res, sizeof res);

    d = S.get_option_descriptor(h, opt_index(h, SANE_NAME_BIT_DEPTH));
    const SANE_Word depths[] = {2, 8, 16};
    assert_memory_equal(d->constraint.word_list, depths, sizeof depths);

    const char *geom[] = {"tl-x", "tl-y", "br-x", "br-y"};
    for (int i = 0; i < 4; i++) {
        d = S.get_option_descriptor(h, opt_index(h, geom[i]));
        assert_int_equal(d->type, SANE_TYPE_FIXED);
        assert_int_equal(d->unit, SANE_UNIT_MM);
        assert_int_equal(d->constraint_type, SANE_CONSTRAINT_RANGE);
        assert_int_equal(d->constraint.range->min, 0);
        assert_int_equal(d->constraint.range->max, SANE_FIX(i % 2 ? 297 : 210));
    }
    SANE_Word w = 0;
    assert_int_equal(S.control_option(h, opt_index(h, "br-y"), SANE_ACTION_GET_VALUE, &w, NULL),
                     SANE_STATUS_GOOD);
    assert_int_equal(w, SANE_FIX(297));

    const char *buttons[] = {"scan", "email", "copy"};
    for (int i = 0; i < 3; i++) {
        int idx = opt_index(h, buttons[i]);
        d = S.get_option_descriptor(h, idx);
        assert_int_equal(d->type, SANE_TYPE_BOOL);
        assert_int_equal(d->cap, SANE_CAP_HARD_SELECT | SANE_CAP_SOFT_DETECT);
        SANE_Word on = SANE_TRUE;
        assert_int_equal(S.control_option(h, idx, SANE_ACTION_SET_VALUE, &on, NULL),
                         SANE_STATUS_INVAL); /* read-only */
    }

    /* Values off the list are brought to the nearest one, and said to be. */
    SANE_Int info = 0;
    w = 310;
    assert_int_equal(
        S.control_option(h, opt_index(h, "resolution"), SANE_ACTION_SET_VALUE, &w, &info),
        SANE_STATUS_GOOD);
    assert_int_equal(w, 300);
    assert_true(info & SANE_INFO_INEXACT);
    strcpy(s, "Nope");
    assert_int_equal(S.control_option(h, opt_index(h, "mode"), SANE_ACTION_SET_VALUE, s, NULL),
                     SANE_STATUS_INVAL);
    /* Lineart has no depth choice: the option goes inactive and the frontend reloads. */
    strcpy(s, "Lineart");
    info = 0;
    assert_int_equal(S.control_option(h, opt_index(h, "mode"), SANE_ACTION_SET_VALUE, s, &info),
                     SANE_STATUS_GOOD);
    assert_true(info & SANE_INFO_RELOAD_OPTIONS);
    d = S.get_option_descriptor(h, opt_index(h, "depth"));
    assert_false(SANE_OPTION_IS_ACTIVE(d->cap));
}

static void adf_serves_three_pages_then_no_docs(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 150);
    SANE_Parameters p;
    size_t len;
    assert_int_equal(S.get_parameters(h, &p), SANE_STATUS_GOOD);
    assert_int_equal(p.pixels_per_line, PW); /* the estimate before start */
    assert_int_equal(p.lines, PH);

    unsigned char *b = scan_one(h, &p, &len);
    assert_int_equal(p.format, SANE_FRAME_RGB);
    assert_int_equal(p.depth, 8);
    assert_int_equal(p.pixels_per_line, PW);
    assert_int_equal(p.lines, PH);
    assert_int_equal(p.bytes_per_line, PW * 3);
    assert_memory_equal(rgb_at(b, &p, 5, 7), "\x05\x07\x0b", 3);
    assert_memory_equal(rgb_at(b, &p, 299, 449), "\x2b\xc1\x0b", 3); /* 299%256, 449%256 */
    free(b);

    b = scan_one(h, &p, &len); /* gray page, served in colour */
    assert_memory_equal(rgb_at(b, &p, 0, 0), "\x16\x16\x16", 3);
    assert_memory_equal(rgb_at(b, &p, 200, 10), "\xc8\xc8\xc8", 3);
    free(b);

    b = scan_one(h, &p, &len); /* 16-bit page, served at 8 bits */
    assert_memory_equal(rgb_at(b, &p, 0, 0), "\x12\x00\xfe", 3);
    assert_int_equal(rgb_at(b, &p, 100, 0)[1], (100 * 100) >> 8);
    free(b);

    assert_int_equal(S.start(h), SANE_STATUS_NO_DOCS);
    /* A new batch: the clerk reloaded the feeder. */
    b = scan_one(h, &p, &len);
    assert_memory_equal(rgb_at(b, &p, 5, 7), "\x05\x07\x0b", 3);
    free(b);
}

static void duplex_serves_front_back_pairs(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 150);
    set_str(h, "source", "ADF Duplex");
    set_str(h, "mode", "Gray");
    SANE_Parameters p;
    size_t len;
    unsigned char first[6];
    for (int i = 0; i < 6; i++) {
        unsigned char *b = scan_one(h, &p, &len);
        assert_int_equal(len, (size_t)PW * PH);
        first[i] = b[0];
        if (i == 1) /* the checkerboard back of p1, white at (0, 0) */
            assert_memory_equal(b, "\xff\x00\xff\x00", 4);
        if (i == 3 || i == 5) { /* no back file: blank */
            for (size_t k = 0; k < len; k++)
                if (b[k] != 0xff)
                    fail_msg("blank back %d has %u at %zu", i, b[k], k);
        }
        free(b);
    }
    assert_int_equal(first[2], 22); /* p2 */
    assert_int_equal(first[4], P3_LUMA);
    assert_int_equal(S.start(h), SANE_STATUS_NO_DOCS);
}

static void gray_lineart_and_16_bit_sizes(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 150);
    SANE_Parameters p;
    size_t len;

    set_str(h, "mode", "Gray");
    unsigned char *b = scan_one(h, &p, &len); /* p1, colour → luma */
    assert_int_equal(p.format, SANE_FRAME_GRAY);
    assert_int_equal(len, (size_t)PW * PH);
    assert_true(abs((int)b[200 * PW + 100] - luma8(100, 200, 11)) <= 1);
    free(b);

    set_word(h, "depth", 16);
    b = scan_one(h, &p, &len); /* p2 */
    assert_int_equal(p.depth, 16);
    assert_int_equal(p.bytes_per_line, PW * 2);
    assert_int_equal(len, (size_t)PW * PH * 2);
    uint16_t s[2];
    memcpy(&s[0], b, 2);           /* native byte order */
    memcpy(&s[1], b + 2 * 200, 2); /* x = 200 */
    assert_int_equal(s[0], 22 * 257);
    assert_int_equal(s[1], 200 * 257);
    free(b);

    set_str(h, "mode", "Color");
    b = scan_one(h, &p, &len); /* p3, 16-bit in, 16-bit out: exact */
    assert_int_equal(p.format, SANE_FRAME_RGB);
    assert_int_equal(len, (size_t)PW * PH * 6);
    uint16_t rgb[3];
    memcpy(rgb, b + (size_t)10 * p.bytes_per_line + 7 * 6, 6);
    assert_int_equal(rgb[0], 0x1234);
    assert_int_equal(rgb[1], 700);
    assert_int_equal(rgb[2], 0xFEDC);
    free(b);

    assert_int_equal(S.start(h), SANE_STATUS_NO_DOCS);
    set_str(h, "mode", "Lineart");
    b = scan_one(h, &p, &len); /* p1 again: new batch */
    free(b);
    b = scan_one(h, &p, &len); /* p2: 22 (black) left of 150, 200 (white) right */
    assert_int_equal(p.depth, 1);
    assert_int_equal(p.format, SANE_FRAME_GRAY);
    assert_int_equal(p.bytes_per_line, (PW + 7) / 8);
    assert_int_equal(len, (size_t)(PW + 7) / 8 * PH);
    assert_int_equal(b[0], 0xff);
    assert_int_equal(b[17], 0xff);
    assert_int_equal(b[18], 0xfc); /* pixels 144..149 black, 150..151 white */
    assert_int_equal(b[19], 0x00);
    assert_int_equal(b[37], 0x00); /* last byte: pixels 296..299 and padding */
    free(b);
}

static void resolution_scales_pages(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 300); /* page files are 150 dpi: every pixel doubles */
    SANE_Parameters p;
    size_t len;
    unsigned char *b = scan_one(h, &p, &len);
    assert_int_equal(p.pixels_per_line, 2 * PW);
    assert_int_equal(p.lines, 2 * PH);
    assert_memory_equal(rgb_at(b, &p, 2 * 5 + 1, 2 * 7 + 1), "\x05\x07\x0b", 3);
    assert_memory_equal(rgb_at(b, &p, 2 * 5, 2 * 7), "\x05\x07\x0b", 3);
    free(b);
    S.close(h);
    cur = NULL;

    /* A 1-pixel checkerboard at 300 dpi read at 150: the box filter averages it to grey. */
    conf("device virtual0\npages %s/checker\npage_dpi 300\n", tmp);
    assert_int_equal(S.open("sohoa:virtual0", &cur), SANE_STATUS_GOOD);
    h = cur;
    set_str(h, "mode", "Gray");
    set_word(h, "resolution", 150);
    b = scan_one(h, &p, &len);
    assert_int_equal(p.pixels_per_line, 1240); /* A4 */
    assert_int_equal(p.lines, 1754);
    assert_true(b[0] >= 127 && b[0] <= 128);
    assert_true(b[(size_t)100 * 1240 + 149] >= 127 && b[(size_t)100 * 1240 + 149] <= 128);
    assert_int_equal(b[(size_t)100 * 1240 + 150], 0xff); /* past the page's 1 inch */
    free(b);
}

static void unknown_length_reads_to_eof(void **state)
{
    conf_std("unknown_length yes\n");
    SANE_Handle h = open_dev();
    set_str(h, "mode", "Gray");
    set_word(h, "resolution", 150);
    SANE_Parameters p;
    assert_int_equal(S.get_parameters(h, &p), SANE_STATUS_GOOD);
    assert_int_equal(p.lines, -1);
    assert_int_equal(p.pixels_per_line, 1240);
    size_t len;
    unsigned char *b = scan_one(h, &p, &len);
    assert_int_equal(p.lines, -1);
    /* The A4 window, but the image stops where the 3-inch page does. */
    assert_int_equal(len, (size_t)1240 * PH);
    assert_true(abs(b[(size_t)449 * 1240] - luma8(0, 449 % 256, 11)) <= 1); /* p1's last row */
    assert_int_equal(b[(size_t)449 * 1240 + 300], 0xff); /* right of the page: white */
    free(b);
    S.close(h);
    S.exit();
    cur = NULL;
    inited = 0;

    /* Without it, the same page fills the whole window, white below. */
    conf_std("");
    h = open_dev();
    set_str(h, "mode", "Gray");
    set_word(h, "resolution", 150);
    b = scan_one(h, &p, &len);
    assert_int_equal(p.lines, 1754);
    assert_int_equal(b[(size_t)1000 * 1240], 0xff);
    free(b);
}

static void jam_at_second_page(void **state)
{
    conf_std("fail_at 2 jammed\n");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 150);
    SANE_Parameters p;
    size_t len;
    unsigned char *b = scan_one(h, &p, &len);
    assert_memory_equal(rgb_at(b, &p, 5, 7), "\x05\x07\x0b", 3);
    free(b);
    assert_int_equal(S.start(h), SANE_STATUS_JAMMED);
    /* Cleared and reloaded: the batch starts over, and jams again at sheet 2. */
    b = scan_one(h, &p, &len);
    assert_memory_equal(rgb_at(b, &p, 5, 7), "\x05\x07\x0b", 3);
    free(b);
    assert_int_equal(S.start(h), SANE_STATUS_JAMMED);
}

static void cover_open_and_other_faults(void **state)
{
    conf_std("fail_at 1 cover_open\n");
    SANE_Handle h = open_dev();
    assert_int_equal(S.start(h), SANE_STATUS_COVER_OPEN);
    SANE_Int len = 0;
    SANE_Byte buf[16];
    assert_int_not_equal(S.read(h, buf, sizeof buf, &len), SANE_STATUS_GOOD); /* nothing */
    S.close(h);
    cur = NULL;

    const struct {
        const char *name;
        SANE_Status st;
    } faults[] = {{"no_docs", SANE_STATUS_NO_DOCS},
                  {"busy", SANE_STATUS_DEVICE_BUSY},
                  {"io_error", SANE_STATUS_IO_ERROR}};
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, "fail_at 3 %s\n", faults[i].name);
        conf_std(extra); /* read again by sane_open: no new sane_init needed */
        assert_int_equal(S.open("sohoa:virtual0", &cur), SANE_STATUS_GOOD);
        set_page_window(cur);
        set_str(cur, "mode", "Lineart");
        SANE_Parameters p;
        size_t n;
        free(scan_one(cur, &p, &n));
        free(scan_one(cur, &p, &n));
        assert_int_equal(S.start(cur), faults[i].st);
        S.close(cur);
        cur = NULL;
    }
}

static int listed(const char *name)
{
    const SANE_Device **list = NULL;
    assert_int_equal(S.get_devices(&list, SANE_FALSE), SANE_STATUS_GOOD);
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i]->name, name))
            return 1;
    return 0;
}

static void unplugged_device_vanishes_until_plugged_back(void **state)
{
    conf_std("fail_at 2 unplugged\nbutton_file /nonexistent\n"
             "device other\npages /tmp\nfail_at 1 unplugged\n");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_str(h, "mode", "Lineart");
    SANE_Parameters p;
    size_t len;
    free(scan_one(h, &p, &len));
    assert_int_equal(S.start(h), SANE_STATUS_IO_ERROR);
    assert_int_equal(S.start(h), SANE_STATUS_IO_ERROR); /* still gone */
    SANE_Word v;
    assert_int_equal(S.control_option(h, opt_index(h, "scan"), SANE_ACTION_GET_VALUE, &v, NULL),
                     SANE_STATUS_IO_ERROR);
    /* Gone from the device list, as a frontend checks to tell unplugged from I/O error. */
    assert_false(listed("sohoa:virtual0"));
    assert_true(listed("sohoa:other")); /* the other one was not touched */
    S.close(h);
    cur = NULL;
    assert_int_equal(S.open("sohoa:virtual0", &cur), SANE_STATUS_INVAL);
    cur = NULL;
    /* Plugged back: the fault is taken out of the config. */
    conf_std("button_file /nonexistent\n");
    assert_true(listed("sohoa:virtual0"));
    assert_int_equal(S.open("sohoa:virtual0", &cur), SANE_STATUS_GOOD);
    h = cur;
    set_page_window(h);
    set_str(h, "mode", "Lineart");
    free(scan_one(h, &p, &len));
}

static void scan_button_follows_file(void **state)
{
    char button[PATH_MAX], extra[PATH_MAX + 32];
    snprintf(button, sizeof button, "%s/button", tmp);
    snprintf(extra, sizeof extra, "button_file %s\n", button);
    conf_std(extra);
    SANE_Handle h = open_dev();
    int scan = opt_index(h, "scan"), email = opt_index(h, "email"), copy = opt_index(h, "copy");
    SANE_Word v = 7;
    assert_int_equal(S.control_option(h, scan, SANE_ACTION_GET_VALUE, &v, NULL), SANE_STATUS_GOOD);
    assert_int_equal(v, SANE_FALSE);
    write_file(button, "", 0); /* pressed */
    assert_int_equal(S.control_option(h, scan, SANE_ACTION_GET_VALUE, &v, NULL), SANE_STATUS_GOOD);
    assert_int_equal(v, SANE_TRUE);
    v = 7;
    assert_int_equal(S.control_option(h, email, SANE_ACTION_GET_VALUE, &v, NULL), SANE_STATUS_GOOD);
    assert_int_equal(v, SANE_FALSE);
    v = 7;
    assert_int_equal(S.control_option(h, copy, SANE_ACTION_GET_VALUE, &v, NULL), SANE_STATUS_GOOD);
    assert_int_equal(v, SANE_FALSE);
    assert_int_equal(unlink(button), 0); /* released */
    assert_int_equal(S.control_option(h, scan, SANE_ACTION_GET_VALUE, &v, NULL), SANE_STATUS_GOOD);
    assert_int_equal(v, SANE_FALSE);
}

/* Writes bad/a.pnm and expects sane_start to refuse it with IO_ERROR. */
static void expect_bad_page(SANE_Handle h, const void *data, size_t len, const char *what)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/bad/a.pnm", tmp);
    write_file(path, data, len);
    SANE_Status st = S.start(h);
    if (st != SANE_STATUS_IO_ERROR)
        fail_msg("%s: sane_start returned %d, not IO_ERROR", what, st);
    SANE_Int got = 1;
    SANE_Byte buf[8];
    assert_int_not_equal(S.read(h, buf, sizeof buf, &got), SANE_STATUS_GOOD);
    assert_int_equal(got, 0);
}

/* Writes bad/a.pnm and expects it served, its first gray byte `first`. */
static void expect_page_ok(SANE_Handle h, const void *data, size_t len, int first)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/bad/a.pnm", tmp);
    write_file(path, data, len);
    SANE_Parameters p;
    size_t n;
    unsigned char *b = scan_one(h, &p, &n);
    assert_int_equal(b[0], first);
    free(b);
    assert_int_equal(S.start(h), SANE_STATUS_NO_DOCS);
}

static void corrupt_pages_fail_with_io_error(void **state)
{
    /* A bad second page of three: the first one is served, the second refused. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/bad/a.pnm", tmp);
    write_pnm(path, 5, 40, 40, 255, px_p2);
    snprintf(path, sizeof path, "%s/bad/b.pnm", tmp);
    write_file(path, "P6\n40 40\n255\n\x01\x02", 15); /* truncated */
    snprintf(path, sizeof path, "%s/bad/c.pnm", tmp);
    write_pnm(path, 5, 40, 40, 255, px_p2);
    conf("device virtual0\npages %s/bad\n", tmp);
    SANE_Handle h = open_dev();
    set_str(h, "mode", "Gray");
    SANE_Parameters p;
    size_t len;
    free(scan_one(h, &p, &len));
    assert_int_equal(S.start(h), SANE_STATUS_IO_ERROR);
    unlink(path);
    snprintf(path, sizeof path, "%s/bad/b.pnm", tmp);
    unlink(path);

    /* One bad file as the only page, each a different way. */
#define BAD(text, what)                                                                            \
    {                                                                                              \
        text, sizeof text - 1, what                                                                \
    }
    static const struct {
        const char *data;
        size_t len;
        const char *what;
    } bad[] = {
        BAD("", "empty file"),
        BAD("P6\n", "header only"),
        BAD("P7\n10 10\n255\n", "unknown magic"),
        BAD("GIF89a", "another format"),
        BAD("P5\n70000 10\n255\n", "too wide"),
        BAD("P5\n10 0\n255\n", "zero height"),
        BAD("P5\n2 2\n0\n0123", "maxval 0"),
        BAD("P5\n2 2\n65536\n01234567", "maxval too large"),
        BAD("P5\n-10 10\n255\n", "negative width"),
        BAD("P6\n99999999999999999999 1\n255\n", "width overflows"),
        BAD("P6 65535 65535 65535\n0123456789", "absurd size, little data"),
        BAD("P5\n10 10\n255", "no whitespace after maxval"),
        BAD("P5 2 2 255x0123456789", "garbage after maxval"),
        BAD("P5 2 2 255#c\n0123", "comment glued to maxval"),
        BAD("P4\n10 10\n0123456789012345678", "P4 one byte short"),
        BAD("P5\n3 3\n65535\n01234567890123456", "16-bit one byte short"),
    };
#undef BAD
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_bad_page(h, bad[i].data, bad[i].len, bad[i].what);
    /* A comment longer than any real header. */
    size_t n = 70000;
    char *big = malloc(n);
    assert_non_null(big);
    memcpy(big, "P5\n#", 4);
    memset(big + 4, 'a', n - 4);
    expect_bad_page(h, big, n, "endless comment");
    free(big);

    /* Odd but valid: a comment glued to a number that is not the last. */
    expect_page_ok(h, "P5 2#c\n2 255\n\x10\x20\x30\x40", 17, 0x10);
    /* Samples above maxval in a damaged file are clipped, not wrapped. */
    expect_page_ok(h, "P5 2 2 100\n\xff\xff\xff\xff", 15, 0xff);

    /* A fine page, but it shrinks while it is read: IO_ERROR from sane_read (the page is
     * larger than stdio's buffer, so the loss is seen). */
    snprintf(path, sizeof path, "%s/bad/a.pnm", tmp);
    write_pnm(path, 5, PW, PH, 255, px_p2);
    assert_int_equal(S.start(h), SANE_STATUS_GOOD);
    assert_int_equal(truncate(path, 20), 0);
    SANE_Byte buf[4096];
    SANE_Int got;
    SANE_Status st;
    while ((st = S.read(h, buf, sizeof buf, &got)) == SANE_STATUS_GOOD)
        ;
    assert_int_equal(st, SANE_STATUS_IO_ERROR);

    /* A FIFO is not a page: skipped (no hang), so the feeder is empty. */
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(S.start(h), SANE_STATUS_NO_DOCS);
    unlink(path);
}

static void empty_feeder_and_flatbed(void **state)
{
    conf("device virtual0\npages ../empty\n"); /* relative to the config's directory */
    SANE_Handle h = open_dev();
    assert_int_equal(S.start(h), SANE_STATUS_NO_DOCS); /* no paper at all */
    S.close(h);
    cur = NULL;

    conf_std("");
    assert_int_equal(S.open("sohoa:virtual0", &cur), SANE_STATUS_GOOD);
    h = cur;
    set_page_window(h);
    set_word(h, "resolution", 150);
    set_str(h, "source", "Flatbed");
    SANE_Parameters p;
    size_t len;
    for (int i = 0; i < 4; i++) { /* the first page, every time, never NO_DOCS */
        unsigned char *b = scan_one(h, &p, &len);
        assert_memory_equal(rgb_at(b, &p, 5, 7), "\x05\x07\x0b", 3);
        free(b);
    }
}

static void cancel_ejects_the_sheet(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 150);
    set_str(h, "source", "ADF Duplex");
    set_str(h, "mode", "Gray");
    assert_int_equal(S.start(h), SANE_STATUS_GOOD); /* front of p1 */
    SANE_Byte buf[100];
    SANE_Int got = 0;
    assert_int_equal(S.read(h, buf, sizeof buf, &got), SANE_STATUS_GOOD);
    assert_int_equal(got, 100);
    /* Options cannot change under a running scan. */
    SANE_Word r = 300;
    assert_int_equal(
        S.control_option(h, opt_index(h, "resolution"), SANE_ACTION_SET_VALUE, &r, NULL),
        SANE_STATUS_DEVICE_BUSY);
    S.cancel(h);
    assert_int_equal(S.read(h, buf, sizeof buf, &got), SANE_STATUS_CANCELLED);
    SANE_Parameters p;
    size_t len;
    unsigned char *b = scan_one(h, &p, &len); /* p1's back went out with it: front of p2 */
    assert_int_equal(b[0], 22);
    free(b);
    b = scan_one(h, &p, &len); /* p2's back: blank */
    assert_int_equal(b[0], 0xff);
    free(b);
    S.cancel(h); /* after a whole side: nothing more is skipped */
    b = scan_one(h, &p, &len);
    assert_int_equal(b[0], P3_LUMA); /* p3 */
    free(b);
}

/* Reads exactly the frame's bytes, without the EOF call some frontends skip. */
static void read_exactly(SANE_Handle h, size_t want)
{
    SANE_Byte buf[8192];
    while (want) {
        SANE_Int got = 0;
        assert_int_equal(
            S.read(h, buf, want < sizeof buf ? (SANE_Int)want : (SANE_Int)sizeof buf, &got),
            SANE_STATUS_GOOD);
        want -= (size_t)got;
    }
}

static void restart_and_whole_reads_keep_duplex_order(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    set_page_window(h);
    set_word(h, "resolution", 150);
    set_str(h, "source", "ADF Duplex");
    set_str(h, "mode", "Gray");
    assert_int_equal(S.start(h), SANE_STATUS_GOOD); /* front of p1, read whole, no EOF */
    read_exactly(h, (size_t)PW * PH);
    S.cancel(h); /* the side was complete: the back still comes */
    SANE_Parameters p;
    size_t len;
    unsigned char *b = scan_one(h, &p, &len);
    assert_memory_equal(b, "\xff\x00\xff\x00", 4); /* p1's back */
    free(b);

    assert_int_equal(S.start(h), SANE_STATUS_GOOD); /* front of p2 */
    read_exactly(h, 1000);
    assert_int_equal(S.start(h), SANE_STATUS_GOOD); /* restarted mid-front: sheet ejected */
    b = read_frame(h, &p, &len);
    assert_int_equal(b[0], P3_LUMA);
    free(b);
}

static void io_mode_and_select_fd(void **state)
{
    conf_std("");
    SANE_Handle h = open_dev();
    assert_int_equal(S.start(h), SANE_STATUS_GOOD);
    assert_int_equal(S.set_io_mode(h, SANE_TRUE), SANE_STATUS_UNSUPPORTED);
    assert_int_equal(S.set_io_mode(h, SANE_FALSE), SANE_STATUS_GOOD);
    SANE_Int fd = -1;
    assert_int_equal(S.get_select_fd(h, &fd), SANE_STATUS_UNSUPPORTED);
    S.cancel(h);
}

static void bad_config_lists_nothing_and_says_why(void **state)
{
    conf("device virtual0\npages /tmp\ncolour red\n");
    assert_int_equal(S.init(NULL, NULL), SANE_STATUS_GOOD);
    inited = 1;
    const SANE_Device **list = NULL;
    assert_int_equal(S.get_devices(&list, SANE_TRUE), SANE_STATUS_GOOD);
    assert_null(list[0]);
    char *out = NULL;
    tu_run(&out, "%sSANE_DEBUG_SOHOA=1 scanimage -L", preload);
    assert_non_null(out);
    if (!strstr(out, "sohoa.conf:3: unknown key 'colour'"))
        fail_msg("no message naming the line: %s", out);
    free(out);

    conf("device virtual0\n"); /* no pages */
    tu_run(&out, "%sSANE_DEBUG_SOHOA=1 scanimage -L", preload);
    if (!strstr(out, "device 'virtual0' has no `pages DIR`"))
        fail_msg("no message for the missing pages: %s", out);
    free(out);

    conf("pages /tmp\n");
    tu_run(&out, "%sSANE_DEBUG_SOHOA=1 scanimage -L", preload);
    if (!strstr(out, "sohoa.conf:1: 'pages' comes before any device"))
        fail_msg("no message for a key outside a device: %s", out);
    free(out);

    const char *bad_fail[] = {"fail_at 2 exploded", "fail_at 0 jammed", "fail_at 2"};
    for (int i = 0; i < 3; i++) {
        conf("device virtual0\npages /tmp\n%s\n", bad_fail[i]);
        tu_run(&out, "%sSANE_DEBUG_SOHOA=1 scanimage -L", preload);
        if (!strstr(out, "sohoa.conf:3: expected `fail_at SHEET STATUS`"))
            fail_msg("no message for '%s': %s", bad_fail[i], out);
        free(out);
    }
}

static void scanimage_lists_and_batches(void **state)
{
    conf_std("");
    char *out = NULL;
    int rc = tu_run(&out, "%sscanimage -L", preload);
    assert_int_equal(rc, 0);
    if (!strstr(out, "device `sohoa:virtual0' is a Sohoa Virtual ADF 1 sheetfed scanner"))
        fail_msg("scanimage -L: %s", out);
    free(out);

    rc = tu_run(&out,
                "cd '%s/out' && %sscanimage -d sohoa:virtual0 --source 'ADF Duplex' --mode Gray "
                "--resolution 150 -x %.1f -y %.1f --batch=page%%d.pnm",
                tmp, preload, WIN_W_MM, WIN_H_MM);
    if (rc != 0 || !strstr(out, "Batch terminated, 6 pages scanned"))
        fail_msg("scanimage --batch (rc %d): %s", rc, out);
    free(out);
    for (int i = 1; i <= 6; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/out/page%d.pnm", tmp, i);
        size_t len = 0;
        char *img = tu_slurp(path, &len);
        assert_non_null(img);
        const char *hdr = "P5\n# SANE data follows\n300 450\n255\n";
        assert_int_equal(len, strlen(hdr) + (size_t)PW * PH);
        assert_memory_equal(img, hdr, strlen(hdr));
        unsigned char first = (unsigned char)img[strlen(hdr)];
        const int want[6] = {luma8(0, 0, 11), 0xff, 22, 0xff, P3_LUMA, 0xff};
        assert_true(abs(first - want[i - 1]) <= 1);
        free(img);
        unlink(path);
    }

    /* Unknown page length: scanimage reads to EOF and still writes the right height. */
    conf_std("unknown_length yes\n");
    rc = tu_run(&out,
                "cd '%s/out' && %sscanimage -d sohoa:virtual0 --mode Lineart --resolution 150 "
                "--batch=u%%d.pbm --batch-count=1",
                tmp, preload);
    if (rc != 0)
        fail_msg("scanimage unknown length (rc %d): %s", rc, out);
    free(out);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/out/u1.pbm", tmp);
    char *img = tu_slurp(path, NULL);
    assert_non_null(img);
    if (!strstr(img, "\n1240 450\n"))
        fail_msg("u1.pbm header: %.40s", img);
    free(img);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(devices_are_listed, teardown),
        cmocka_unit_test_teardown(options_have_standard_types, teardown),
        cmocka_unit_test_teardown(adf_serves_three_pages_then_no_docs, teardown),
        cmocka_unit_test_teardown(duplex_serves_front_back_pairs, teardown),
        cmocka_unit_test_teardown(gray_lineart_and_16_bit_sizes, teardown),
        cmocka_unit_test_teardown(resolution_scales_pages, teardown),
        cmocka_unit_test_teardown(unknown_length_reads_to_eof, teardown),
        cmocka_unit_test_teardown(jam_at_second_page, teardown),
        cmocka_unit_test_teardown(cover_open_and_other_faults, teardown),
        cmocka_unit_test_teardown(unplugged_device_vanishes_until_plugged_back, teardown),
        cmocka_unit_test_teardown(scan_button_follows_file, teardown),
        cmocka_unit_test_teardown(corrupt_pages_fail_with_io_error, teardown),
        cmocka_unit_test_teardown(empty_feeder_and_flatbed, teardown),
        cmocka_unit_test_teardown(cancel_ejects_the_sheet, teardown),
        cmocka_unit_test_teardown(restart_and_whole_reads_keep_duplex_order, teardown),
        cmocka_unit_test_teardown(io_mode_and_select_fd, teardown),
        cmocka_unit_test_teardown(bad_config_lists_nothing_and_says_why, teardown),
        cmocka_unit_test_teardown(scanimage_lists_and_batches, teardown),
    };
    return cmocka_run_group_tests_name("sane_virtual", tests, group_setup, group_teardown);
}
