/* test_pdf.c — the searchable PDF/A writer, checked by independent tools.
 *
 * Builds synthetic image layers (JPEG, CCITT G4, Flate) and OCR words,
 * writes a three-page document and asks qpdf, pdftotext, pdfimages,
 * pdffonts, pdfinfo and pdftoppm what they see. Also checks the generated
 * font and ICC profile byte by byte, and the error paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/support/testutil.h"
#include <leptonica/allheaders.h>
#include <zlib.h>

#include "ocr/icc.h"
#include "ocr/pdf.h"
#include "ocr/pdf_buf.h"
#include "ocr/pdf_font.h"
#include "ocr/pdf_utf8.h"
#include "ocr/xmp.h"

/* 2024-07-01 08:20:00 UTC = 15:20:00 in Vietnam. */
#define CREATED 1719822000LL

static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------ */

/* Command runs and file reads go through tests/unit/support/testutil.h;
 * a failure to read is a test failure. */
#define run tu_run
static char *slurp(const char *path, size_t *len)
{
    char *b = tu_slurp(path, len);
    assert_non_null(b);
    return b;
}

/* A uniformly coloured JPEG layer (32 bpp → 3 components, 8 → 1). */
static pdf_image jpeg_layer(int w, int h, int depth, l_uint32 r, l_uint32 g, l_uint32 b)
{
    PIX *pix = pixCreate(w, h, depth);
    if (depth == 32)
        pixSetAllArbitrary(pix, (r << 24) | (g << 16) | (b << 8));
    else
        pixSetAllArbitrary(pix, r);
    l_uint8 *data = NULL;
    size_t len = 0;
    assert_int_equal(pixWriteMemJpeg(&data, &len, pix, 90, 0), 0);
    pixDestroy(&pix);
    pdf_image im = {.filter = PDF_FILTER_DCT,
                    .width = w,
                    .height = h,
                    .bpc = 8,
                    .ncomp = depth == 32 ? 3 : 1,
                    .data = malloc(len),
                    .len = len};
    memcpy(im.data, data, len);
    lept_free(data);
    return im;
}

/* A 1 bpp image with a black (1) rectangle, as CCITT G4 via leptonica. */
static pdf_image g4_layer(int w, int h, BOX *rect, bool mask, uint8_t r, uint8_t g, uint8_t b)
{
    PIX *pix = pixCreate(w, h, 1);
    pixSetInRect(pix, rect);
    L_COMP_DATA *cid = NULL;
    assert_int_equal(pixGenerateCIData(pix, L_G4_ENCODE, 0, 0, &cid), 0);
    pixDestroy(&pix);
    pdf_image im = {.filter = PDF_FILTER_CCITT,
                    .width = w,
                    .height = h,
                    .bpc = 1,
                    .ncomp = 1,
                    .is_mask = mask,
                    .fill_rgb = {r, g, b},
                    .data = malloc(cid->nbytescomp),
                    .len = cid->nbytescomp};
    memcpy(im.data, cid->datacomp, cid->nbytescomp);
    l_CIDataDestroy(&cid);
    return im;
}

/* Raw samples through zlib: 8-bit gray of one value, or a 1-bit mask
 * whose 1 bits (leptonica's black) form a rectangle. */
static pdf_image flate_layer(int w, int h, int bpc, int gray, BOX *rect, uint8_t r, uint8_t g,
                             uint8_t b)
{
    size_t stride = bpc == 8 ? (size_t)w : ((size_t)w + 7) / 8;
    size_t raw_len = stride * (size_t)h;
    uint8_t *raw = calloc(1, raw_len);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (bpc == 8) {
                raw[(size_t)y * stride + (size_t)x] = (uint8_t)gray;
            } else if (x >= rect->x && x < rect->x + rect->w && y >= rect->y &&
                       y < rect->y + rect->h) {
                raw[(size_t)y * stride + (size_t)x / 8] |= (uint8_t)(0x80 >> (x % 8));
            }
        }
    uLongf zlen = compressBound(raw_len);
    pdf_image im = {.filter = PDF_FILTER_FLATE,
                    .width = w,
                    .height = h,
                    .bpc = bpc,
                    .ncomp = 1,
                    .is_mask = bpc == 1,
                    .fill_rgb = {r, g, b},
                    .data = malloc(zlen)};
    assert_int_equal(compress(im.data, &zlen, raw, raw_len), Z_OK);
    im.len = zlen;
    free(raw);
    return im;
}

/* Adds the words of `text` (split on spaces) as one OCR line starting at
 * x, with glyphs `h` px high and 0.5 h wide and 0.4 h spaces. Returns the
 * x after the last word. */
static int add_line(ocr_page_text *pt, const char *text, int x, int y, int h, int line, int line_x0,
                    int line_x1)
{
    char *copy = strdup(text), *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        size_t nchars = 0;
        for (const char *c = tok; *c;) {
            uint32_t cp;
            c += pdf_utf8_next(c, &cp);
            nchars++;
        }
        int wpx = (int)nchars * h / 2;
        ocr_word wd = {.text = tok,
                       .box = {x, y + h / 10, x + wpx, y + h},
                       .conf = 0.9f,
                       .line = line,
                       .line_box = {line_x0, y, line_x1, y + h},
                       .baseline = y + h * 8 / 10};
        assert_int_equal(ocr_page_add_word(pt, &wd), 0);
        x += wpx + h * 4 / 10;
    }
    free(copy);
    return x;
}

static void free_layers(pdf_image *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].data);
}

static void fill_meta(doc_metadata *m)
{
    memset(m, 0, sizeof *m);
    meta_set(m, META_TYPE, "Quyết định");
    meta_set(m, META_NUMBER_NOTATION, "182/QĐ-LĐTBXH");
    meta_set(m, META_NOTATION, "QĐ-LĐTBXH");
    m->number = 182;
    m->has_number = true;
    meta_set(m, META_DATE, "2019-07-17");
    meta_set(m, META_ISSUER, "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI");
    meta_set(m, META_SUBJECT, "Ban hành Quy chế <gửi> & \"nhận\" văn bản");
    meta_set(m, META_URGENCY, "Khẩn");
    m->pages = 3;
}

/* ---- the three-page document -------------------------------------------- */

static char doc_path[128];

/* Page 1: colour JPEG + red G4 text mask, a two-column header and body.
 * Page 2: landscape 8-bit gray Flate, no words. Page 3: CCITT gray + a
 * blue 1-bit Flate mask, one line of words. */
static void write_document(void)
{
    snprintf(doc_path, sizeof doc_path, "%s/doc.pdf", tmpdir);
    FILE *f = fopen(doc_path, "wb");
    assert_non_null(f);
    sohoa_err err = {0};
    pdf_writer *w = pdf_writer_new(f, &err);
    assert_non_null(w);

    /* Page 1: 1240x1754 px at 150 dpi = A4. */
    BOX *r1 = boxCreate(100, 1000, 500, 300);
    pdf_image l1[2] = {jpeg_layer(620, 877, 32, 240, 230, 200),
                       g4_layer(1240, 1754, r1, true, 200, 0, 0)};
    ocr_page_text t1 = {.width = 1240, .height = 1754, .dpi = 150};
    /* Tesseract merges the header columns into one line per row. */
    int x = add_line(&t1, "UBND TỈNH QUẢNG NAM", 80, 100, 30, 0, 80, 1150);
    add_line(&t1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 600, 100, 30, 0, 80, 1150);
    add_line(&t1, "SỞ LAO ĐỘNG", 80, 140, 30, 1, 80, 1150);
    add_line(&t1, "Độc lập - Tự do - Hạnh phúc", 640, 140, 30, 1, 80, 1150);
    add_line(&t1, "Số: 182/QĐ-LĐTBXH", 80, 220, 30, 2, 80, 1150);
    add_line(&t1, "Quảng Nam, ngày 17 tháng 7 năm 2019", 600, 220, 30, 2, 80, 1150);
    add_line(&t1, "QUYẾT ĐỊNH", 520, 320, 34, 3, 520, 700);
    add_line(&t1, "Quyết định của Ủy ban nhân dân tỉnh về việc ban hành", 80, 420, 30, 4, 80, 1000);
    assert_true(x < 600);
    pdf_page p1 = {
        .width_px = 1240, .height_px = 1754, .dpi = 150, .layers = l1, .nlayers = 2, .text = &t1};
    assert_int_equal(pdf_writer_add_page(w, &p1, &err), 0);
    /* Streaming: the page is in the file before the writer returns. */
    long after1 = ftell(f);
    assert_true(after1 > (long)(l1[0].len + l1[1].len));

    /* Page 2: 800x600 px at 100 dpi. */
    pdf_image l2[1] = {flate_layer(800, 600, 8, 180, NULL, 0, 0, 0)};
    ocr_page_text t2 = {.width = 800, .height = 600, .dpi = 100};
    pdf_page p2 = {
        .width_px = 800, .height_px = 600, .dpi = 100, .layers = l2, .nlayers = 1, .text = &t2};
    assert_int_equal(pdf_writer_add_page(w, &p2, &err), 0);

    /* Page 3: 1000x1400 px at 200 dpi; the mask has half the resolution. */
    BOX *r3 = boxCreate(200, 200, 400, 300);
    BOX *r3m = boxCreate(100, 500, 200, 100);
    pdf_image l3[2] = {g4_layer(1000, 1400, r3, false, 0, 0, 0),
                       flate_layer(500, 700, 1, 0, r3m, 0, 0, 255)};
    ocr_page_text t3 = {.width = 1000, .height = 1400, .dpi = 200};
    add_line(&t3, "Trang ba: Ủy ban nhân dân", 100, 1200, 40, 0, 100, 900);
    pdf_page p3 = {
        .width_px = 1000, .height_px = 1400, .dpi = 200, .layers = l3, .nlayers = 2, .text = &t3};
    assert_int_equal(pdf_writer_add_page(w, &p3, &err), 0);

    doc_metadata m;
    fill_meta(&m);
    assert_int_equal(pdf_writer_finish(w, &m, CREATED, &err), 0);
    assert_int_equal(err.status, SOHOA_OK);
    assert_int_equal(fclose(f), 0);

    meta_free(&m);
    ocr_page_text_free(&t1);
    ocr_page_text_free(&t3);
    free_layers(l1, 2);
    free_layers(l2, 1);
    free_layers(l3, 2);
    boxDestroy(&r1);
    boxDestroy(&r3);
    boxDestroy(&r3m);
}

static int setup_doc(void **state)
{
    write_document();
    return 0;
}

static void test_qpdf_check(void **state)
{
    char *out = NULL;
    int rc = run(&out, "qpdf --check '%s'", doc_path);
    if (rc != 0 || strstr(out, "WARNING"))
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    assert_null(strstr(out, "WARNING"));
    assert_non_null(strstr(out, "No syntax or stream encoding errors"));
    free(out);
}

/* Position of `needle` in the `hay_len` bytes at `hay` (a whole PDF file,
 * NULs included), failing the test if absent. */
static size_t pos_in(const char *hay, size_t hay_len, const char *needle)
{
    const char *p = memmem(hay, hay_len, needle, strlen(needle));
    if (!p)
        fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, hay);
    assert_non_null(p);
    return (size_t)(p - hay);
}

/* Position of `needle` in the string `hay`. */
static size_t pos_of(const char *hay, const char *needle)
{
    return pos_in(hay, strlen(hay), needle);
}

static void test_pdftotext(void **state)
{
    char *out = NULL;
    assert_int_equal(run(&out, "pdftotext -enc UTF-8 -f 1 -l 1 '%s' -", doc_path), 0);
    /* Every line segment comes back exactly (NFC, words separated). */
    size_t left0 = pos_of(out, "UBND TỈNH QUẢNG NAM");
    size_t right0 = pos_of(out, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    pos_of(out, "SỞ LAO ĐỘNG");
    pos_of(out, "Độc lập - Tự do - Hạnh phúc");
    size_t left2 = pos_of(out, "Số: 182/QĐ-LĐTBXH");
    size_t right2 = pos_of(out, "Quảng Nam, ngày 17 tháng 7 năm 2019");
    size_t title = pos_of(out, "QUYẾT ĐỊNH");
    size_t body = pos_of(out, "Quyết định của Ủy ban nhân dân tỉnh về việc ban hành");
    /* The column gap is not bridged: left and right never run together. */
    assert_null(strstr(out, "NAM CỘNG"));
    assert_null(strstr(out, "LĐTBXH Quảng"));
    /* Left column before right column, header before title before body. */
    assert_true(left0 < right0);
    assert_true(left2 < right2);
    assert_true(right2 < title && left2 < title);
    assert_true(title < body);
    free(out);

    assert_int_equal(run(&out, "pdftotext -enc UTF-8 -f 3 -l 3 '%s' -", doc_path), 0);
    pos_of(out, "Trang ba: Ủy ban nhân dân");
    free(out);
}

/* A second, independent extractor (Ghostscript reads ToUnicode ranges
 * differently from poppler), when it is installed. */
static void test_ghostscript_text(void **state)
{
    if (run(NULL, "command -v gs") != 0)
        skip();
    char *out = NULL;
    assert_int_equal(
        run(&out, "gs -q -dNOPAUSE -dBATCH -sDEVICE=txtwrite -sOutputFile=- '%s'", doc_path), 0);
    pos_of(out, "Số: 182/QĐ-LĐTBXH");
    pos_of(out, "Quyết định của Ủy ban nhân dân tỉnh");
    pos_of(out, "Trang ba: Ủy ban nhân dân");
    free(out);
}

/* The text lands where the words were: pdftotext -bbox of "Quyết" on
 * page 1 (x0 80 px at 150 dpi = 38.4 pt; width 5 chars * 15 px = 36 pt). */
static void test_word_geometry(void **state)
{
    char *out = NULL;
    assert_int_equal(run(&out, "pdftotext -bbox -enc UTF-8 -f 1 -l 1 '%s' -", doc_path), 0);
    const char *p = strstr(out, ">Quyết<");
    assert_non_null(p);
    while (p > out && strncmp(p, "<word", 5) != 0)
        p--;
    double x0, y0, x1, y1;
    assert_int_equal(
        sscanf(p, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"", &x0, &y0, &x1, &y1),
        4);
    assert_true(x0 > 38.4 - 0.5 && x0 < 38.4 + 0.5);
    assert_true(x1 > 38.4 + 36 - 0.5 && x1 < 38.4 + 36 + 0.5);
    /* Line box 420..450 px = 201.6..216 pt from the top. */
    assert_true(y0 > 201.6 - 2 && y1 < 216 + 2);
    free(out);
}

static void test_pdfimages(void **state)
{
    char *out = NULL;
    assert_int_equal(run(&out, "pdfimages -list '%s'", doc_path), 0);
    int n = 0, stencil = 0, rgb = 0, gray = 0, ccitt = 0, jpeg = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int page, num, width, height, bpc;
        char type[16], color[16], enc[16];
        if (sscanf(line, "%d %d %15s %d %d %15s %*d %d %15s", &page, &num, type, &width, &height,
                   color, &bpc, enc) != 8)
            continue;
        n++;
        stencil += strcmp(type, "stencil") == 0;
        rgb += strcmp(color, "rgb") == 0;
        gray += strcmp(color, "gray") == 0;
        ccitt += strcmp(enc, "ccitt") == 0;
        jpeg += strcmp(enc, "jpeg") == 0;
        if (page == 1 && strcmp(color, "rgb") == 0)
            assert_true(width == 620 && height == 877 && bpc == 8);
    }
    assert_int_equal(n, 5);
    assert_int_equal(stencil, 2);
    assert_int_equal(rgb, 1);
    assert_int_equal(jpeg, 1);
    assert_int_equal(ccitt, 2);
    assert_true(gray >= 2);
    free(out);
}

static void test_pdffonts(void **state)
{
    char *out = NULL;
    assert_int_equal(run(&out, "pdffonts '%s'", doc_path), 0);
    const char *row = strstr(out, PDF_FONT_NAME);
    assert_non_null(row);
    char name[64], t1[16], t2[16], enc[32], emb[8], sub[8], uni[8];
    assert_int_equal(
        sscanf(row, "%63s %15s %15s %31s %7s %7s %7s", name, t1, t2, enc, emb, sub, uni), 7);
    assert_string_equal(t1, "CID");
    assert_string_equal(t2, "TrueType");
    assert_string_equal(enc, "Identity-H");
    assert_string_equal(emb, "yes");
    assert_string_equal(uni, "yes");
    /* Shared by all pages: exactly one font row. */
    assert_null(strstr(row + 1, PDF_FONT_NAME));
    free(out);
}

static void test_pdfinfo(void **state)
{
    char *out = NULL;
    assert_int_equal(run(&out, "pdfinfo -f 1 -l 3 '%s'", doc_path), 0);
    pos_of(out, "Pages:           3");
    pos_of(out, "Page    1 size:  595.2 x 841.92 pts");
    pos_of(out, "Page    2 size:  576 x 432 pts");
    pos_of(out, "Page    3 size:  360 x 504 pts");
    pos_of(out, "Producer:        sohoa");
    pos_of(out, "Title:           Quyết định 182/QĐ-LĐTBXH");
    pos_of(out, "Author:          SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI");
    pos_of(out, "Encrypted:       no");
    free(out);
}

static void test_xmp(void **state)
{
    size_t len;
    char *pdf = slurp(doc_path, &len);
    assert_memory_equal(pdf, "%PDF-1.7\n%", 10);
    for (int i = 10; i < 14; i++)
        assert_true((unsigned char)pdf[i] >= 128);
    /* The packet is stored uncompressed. */
    pos_in(pdf, len, "/Type /Metadata /Subtype /XML");
    pos_in(pdf, len, "<pdfaid:part>2</pdfaid:part>");
    pos_in(pdf, len, "<pdfaid:conformance>B</pdfaid:conformance>");
    pos_in(pdf, len, "<xmp:CreateDate>2024-07-01T15:20:00+07:00</xmp:CreateDate>");
    pos_in(pdf, len, "<xmp:ModifyDate>2024-07-01T15:20:00+07:00</xmp:ModifyDate>");
    pos_in(pdf, len, "<xmp:MetadataDate>2024-07-01T15:20:00+07:00</xmp:MetadataDate>");
    pos_in(pdf, len, "<pdf:Producer>sohoa</pdf:Producer>");
    pos_in(pdf, len, "<dc:format>application/pdf</dc:format>");
    pos_in(pdf, len, "<rdf:li xml:lang=\"x-default\">Quyết định 182/QĐ-LĐTBXH</rdf:li>");
    pos_in(pdf, len, "Ban hành Quy chế &lt;gửi&gt; &amp; &quot;nhận&quot; văn bản");
    pos_in(pdf, len, "<dc:creator><rdf:Seq><rdf:li>SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI</rdf:li>");
    pos_in(pdf, len, "<dc:date><rdf:Seq><rdf:li>2019-07-17</rdf:li>");
    pos_in(pdf, len, "xmlns:sohoa=\"" XMP_SOHOA_NS "\"");
    pos_in(pdf, len, "<sohoa:NumberNotation>182/QĐ-LĐTBXH</sohoa:NumberNotation>");
    pos_in(pdf, len, "<sohoa:Number>182</sohoa:Number>");
    pos_in(pdf, len, "<sohoa:Notation>QĐ-LĐTBXH</sohoa:Notation>");
    pos_in(pdf, len, "<sohoa:DocumentDate>2019-07-17</sohoa:DocumentDate>");
    pos_in(pdf, len, "<sohoa:DocumentType>Quyết định</sohoa:DocumentType>");
    pos_in(pdf, len, "<sohoa:Urgency>Khẩn</sohoa:Urgency>");
    pos_in(pdf, len, "<sohoa:Pages>3</sohoa:Pages>");
    assert_null(memmem(pdf, len, "<sohoa:Secrecy>", 15)); /* absent fields left out */
    /* Every sohoa property is declared in the extension schema. */
    pos_in(pdf, len, "<pdfaSchema:namespaceURI>" XMP_SOHOA_NS "</pdfaSchema:namespaceURI>");
    const char *props[] = {"NumberNotation", "Number",  "Notation", "DocumentDate", "Issuer",
                           "DocumentType",   "Urgency", "Secrecy",  "Pages"};
    for (size_t i = 0; i < sizeof props / sizeof *props; i++) {
        char s[96];
        snprintf(s, sizeof s, "<pdfaProperty:name>%s</pdfaProperty:name>", props[i]);
        pos_in(pdf, len, s);
    }
    pos_in(pdf, len, "/GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1)");
    pos_in(pdf, len, "/CreationDate (D:20240701152000+07'00')");
    pos_in(pdf, len, "/ID [<");
    assert_null(memmem(pdf, len, "/Encrypt", 8));
    free(pdf);

    /* qpdf agrees that the catalog points at this metadata. */
    char *out = NULL;
    assert_int_equal(run(&out, "qpdf --show-object=trailer '%s'", doc_path), 0);
    pos_of(out, "/Root");
    free(out);
    assert_int_equal(run(&out, "qpdf --json --json-key=pages '%s'", doc_path), 0);
    free(out);
}

/* Render page 1 and 3 and look at pixels: masks paint their colour where
 * leptonica had 1 (black) pixels, the CCITT gray layer is black there. */
static void test_render_polarity(void **state)
{
    char prefix[128], path[160];
    snprintf(prefix, sizeof prefix, "%s/render", tmpdir);
    assert_int_equal(run(NULL, "pdftoppm -r 36 '%s' '%s'", doc_path, prefix), 0);
    l_int32 r, g, b;

    /* Page 1 at 36 dpi: 150 dpi px * 36/150. Mask rect 100..600 x 1000..1300. */
    snprintf(path, sizeof path, "%s-1.ppm", prefix);
    PIX *p1 = pixRead(path);
    assert_non_null(p1);
    pixGetRGBPixel(p1, 84, 276, &r, &g, &b);
    assert_true(r > 160 && g < 60 && b < 60); /* red stencil */
    pixGetRGBPixel(p1, 250, 100, &r, &g, &b);
    assert_true(r > 220 && g > 210 && b > 180 && b < 220); /* the JPEG paper colour */
    pixDestroy(&p1);

    /* Page 3 at 36 dpi: 200 dpi px * 0.18. G4 gray rect 200..600 x 200..500,
     * Flate mask (half resolution) rect 100..300 x 500..600 → page px 200..600 x 1000..1200. */
    snprintf(path, sizeof path, "%s-3.ppm", prefix);
    PIX *p3 = pixRead(path);
    assert_non_null(p3);
    pixGetRGBPixel(p3, 72, 63, &r, &g, &b);
    assert_true(r < 40 && g < 40 && b < 40); /* black ink */
    pixGetRGBPixel(p3, 150, 40, &r, &g, &b);
    assert_true(r > 220 && g > 220 && b > 220); /* white paper */
    pixGetRGBPixel(p3, 72, 198, &r, &g, &b);
    assert_true(r < 40 && g < 40 && b > 200); /* blue stencil */
    pixDestroy(&p3);
}

/* ---- other documents ---------------------------------------------------- */

/* One page with one layer and optional words; returns finish's result. */
static int write_simple(const char *path, const doc_metadata *meta, sohoa_err *err)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    pdf_writer *w = pdf_writer_new(f, err);
    assert_non_null(w);
    pdf_image l = jpeg_layer(100, 140, 8, 200, 0, 0);
    pdf_page p = {.width_px = 100, .height_px = 140, .dpi = 50, .layers = &l, .nlayers = 1};
    int rc = pdf_writer_add_page(w, &p, err);
    if (rc == 0)
        rc = pdf_writer_finish(w, meta, CREATED, err);
    else
        pdf_writer_abort(w);
    fclose(f);
    free(l.data);
    return rc;
}

static void test_meta_null(void **state)
{
    char path[128], *out = NULL;
    snprintf(path, sizeof path, "%s/nometa.pdf", tmpdir);
    sohoa_err err = {0};
    assert_int_equal(write_simple(path, NULL, &err), 0);
    assert_int_equal(run(&out, "qpdf --check '%s'", path), 0);
    assert_null(strstr(out, "WARNING"));
    free(out);
    size_t len;
    char *pdf = slurp(path, &len);
    pos_in(pdf, len, "<pdfaid:part>2</pdfaid:part>");
    assert_null(memmem(pdf, len, "sohoa:", 6));
    assert_null(memmem(pdf, len, "dc:title", 8));
    assert_null(memmem(pdf, len, "/Font", 5)); /* no text, no font */
    free(pdf);
    assert_int_equal(run(&out, "pdfinfo '%s'", path), 0);
    pos_of(out, "Page size:       144 x 201.6 pts");
    free(out);
}

static void test_write_failure(void **state)
{
    FILE *f = fopen("/dev/full", "wb");
    if (!f)
        skip();
    sohoa_err err = {0};
    pdf_writer *w = pdf_writer_new(f, &err);
    int rc = -1;
    if (w) {
        pdf_image l = jpeg_layer(64, 64, 32, 10, 20, 30);
        pdf_page p = {.width_px = 64, .height_px = 64, .dpi = 72, .layers = &l, .nlayers = 1};
        rc = pdf_writer_add_page(w, &p, &err);
        free(l.data);
        if (rc == 0)
            rc = pdf_writer_finish(w, NULL, CREATED, &err);
        else
            pdf_writer_abort(w);
    }
    fclose(f);
    assert_int_equal(rc, -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "No space left on device"));
}

static void test_no_pages(void **state)
{
    FILE *f = tmpfile();
    sohoa_err err = {0};
    pdf_writer *w = pdf_writer_new(f, &err);
    assert_non_null(w);
    assert_int_equal(pdf_writer_finish(w, NULL, CREATED, &err), -1);
    assert_non_null(strstr(err.msg, "no pages"));
    fclose(f);
}

static void test_bad_layer(void **state)
{
    FILE *f = tmpfile();
    sohoa_err err = {0};
    pdf_writer *w = pdf_writer_new(f, &err);
    uint8_t junk[4] = {1, 2, 3, 4};
    pdf_image l = {.filter = PDF_FILTER_DCT,
                   .width = 8,
                   .height = 8,
                   .bpc = 1,
                   .ncomp = 1,
                   .is_mask = true,
                   .data = junk,
                   .len = sizeof junk};
    pdf_page p = {.width_px = 8, .height_px = 8, .dpi = 72, .layers = &l, .nlayers = 1};
    assert_int_equal(pdf_writer_add_page(w, &p, &err), -1);
    assert_non_null(strstr(err.msg, "unsupported image"));
    err_clear(&err);
    p.dpi = 0;
    l.bpc = 8;
    assert_int_equal(pdf_writer_add_page(w, &p, &err), -1);
    assert_non_null(strstr(err.msg, "invalid size"));
    pdf_writer_abort(w);
    fclose(f);
}

/* ---- building blocks ---------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_font_checksums(void **state)
{
    pdf_buf f = {0};
    assert_int_equal(pdf_font_build(&f), 0);
    assert_int_equal(be32(f.data), 0x00010000);
    int n = f.data[4] << 8 | f.data[5];
    assert_int_equal(n, 10);
    uint32_t adj = 0;
    char prev[5] = "";
    for (int i = 0; i < n; i++) {
        const uint8_t *e = f.data + 12 + 16 * i;
        char tag[5] = {(char)e[0], (char)e[1], (char)e[2], (char)e[3], 0};
        assert_true(strcmp(prev, tag) < 0); /* sorted */
        memcpy(prev, tag, 5);
        uint32_t off = be32(e + 8), len = be32(e + 12);
        assert_true(off % 4 == 0 && off + len <= f.len);
        uint8_t *t = malloc(len);
        memcpy(t, f.data + off, len);
        if (strcmp(tag, "head") == 0) {
            adj = be32(t + 8);
            memset(t + 8, 0, 4);
            assert_int_equal(be32(t + 12), 0x5F0F3CF5);
        }
        if (strcmp(tag, "hmtx") == 0)
            assert_int_equal(t[4] << 8 | t[5], PDF_FONT_ADVANCE); /* glyph 1 = /DW */
        assert_int_equal(pdf_font_checksum(t, len), be32(e + 4));
        free(t);
    }
    assert_int_not_equal(adj, 0);
    assert_int_equal(pdf_font_checksum(f.data, f.len), 0xB1B0AFBAu);
    pdf_buf_free(&f);
}

static double s15(const uint8_t *p)
{
    return (int32_t)be32(p) / 65536.0;
}

static void test_icc(void **state)
{
    pdf_buf p = {0};
    assert_int_equal(icc_srgb_build(&p), 0);
    assert_int_equal(be32(p.data), p.len);
    assert_memory_equal(p.data + 12, "mntrRGB XYZ ", 12);
    assert_memory_equal(p.data + 36, "acsp", 4);
    assert_int_equal(p.data[8], 2);
    /* Known D50-adapted sRGB colorants (as in common sRGB profiles). */
    static const double want[3][3] = {
        {0.4361, 0.2225, 0.0139}, {0.3851, 0.7169, 0.0971}, {0.1431, 0.0606, 0.7141}};
    uint32_t ntags = be32(p.data + 128);
    int found = 0;
    for (uint32_t i = 0; i < ntags; i++) {
        const uint8_t *e = p.data + 132 + 12 * i;
        int c = memcmp(e, "rXYZ", 4) == 0   ? 0
                : memcmp(e, "gXYZ", 4) == 0 ? 1
                : memcmp(e, "bXYZ", 4) == 0 ? 2
                                            : -1;
        uint32_t off = be32(e + 4), size = be32(e + 8);
        assert_true(off % 4 == 0 && off + size <= p.len);
        if (c < 0)
            continue;
        found++;
        for (int k = 0; k < 3; k++) {
            double v = s15(p.data + off + 8 + 4 * k);
            if (v < want[c][k] - 0.0015 || v > want[c][k] + 0.0015)
                fail_msg("colorant %d/%d: %f, want %f", c, k, v, want[c][k]);
        }
    }
    assert_int_equal(found, 3);
    pdf_buf_free(&p);
}

static void test_buf_num(void **state)
{
    pdf_buf b = {0};
    const double v[] = {0, 1.5, -0.25, 595.2, 841.92, 1e-9, -0.0004, 12.3456};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        pdf_buf_num(&b, v[i]);
        pdf_buf_puts(&b, " ");
    }
    pdf_buf_u8(&b, 0);
    assert_string_equal((char *)b.data, "0 1.5 -0.25 595.2 841.92 0 0 12.346 ");
    pdf_buf_free(&b);
}

static void test_utf8_clean(void **state)
{
    char *s = pdf_utf8_clean("Số\x01 \xC3(\xED\xA0\x80 ok");
    assert_string_equal(s, "Số  \xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD ok");
    free(s);
}

static int setup_dir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_pdf.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    if (getenv("KEEP_TMP"))
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_num),
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_font_checksums),
        cmocka_unit_test(test_icc),
        cmocka_unit_test_setup(test_qpdf_check, setup_doc),
        cmocka_unit_test(test_pdftotext),
        cmocka_unit_test(test_ghostscript_text),
        cmocka_unit_test(test_word_geometry),
        cmocka_unit_test(test_pdfimages),
        cmocka_unit_test(test_pdffonts),
        cmocka_unit_test(test_pdfinfo),
        cmocka_unit_test(test_xmp),
        cmocka_unit_test(test_render_polarity),
        cmocka_unit_test(test_meta_null),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_no_pages),
        cmocka_unit_test(test_bad_layer),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
