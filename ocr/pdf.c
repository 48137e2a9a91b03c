/* pdf.c — the streaming searchable PDF/A-2b writer (see pdf.h).
 *
 * File layout, in writing order:
 *   header and binary comment
 *   per page: [font objects, once, before the first page with text]
 *             image XObjects, content stream, page dictionary
 *   XMP metadata, ICC profile, page tree, Info, catalog, xref, trailer
 * The page tree's object number is reserved when the writer starts so that
 * each page can name its /Parent before the tree itself is written last.
 * Only object offsets and page object numbers stay in memory.
 *
 * Image polarity: 1-bit data follows leptonica's convention, 1 = black
 * (ink). For CCITT that is the coded black runs, which the decoder yields
 * as 0 with /BlackIs1 false: 0 is black in DeviceGray and 0 paints a
 * stencil mask, so neither needs a /Decode. Raw 1-bit FLATE samples are
 * leptonica's bits, hence /Decode [1 0] for masks and gray alike.
 */
#include "pdf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "icc.h"
#include "pdf_buf.h"
#include "pdf_font.h"
#include "pdf_utf8.h"
#include "xmp.h"

#define FONT_RES "/F1" /* resource name of the glyphless font on every page */

struct pdf_writer {
    FILE *out;
    long long pos;   /* bytes written so far: the next object's offset */
    uint64_t h1, h2; /* FNV-1a over the written bytes, for the file /ID */
    long long *offs; /* offs[n - 1]: offset of object n, -1 while reserved */
    size_t nobj, objcap;
    uint32_t pages_obj; /* the page tree, written by pdf_writer_finish */
    uint32_t *kids;     /* page object numbers */
    size_t nkids, kidcap;
    uint32_t font_obj; /* the Type0 font, 0 until written */
    bool failed;       /* a write failed: the file is unusable */
};

/* ---- output ---------------------------------------------------------- */

static void hash_bytes(pdf_writer *w, const uint8_t *p, size_t n)
{
    /* Two FNV-1a hashes with different bases make the 128-bit /ID. It only
     * has to differ between documents, not resist an adversary. */
    const uint64_t prime = 0x100000001b3ULL;
    uint64_t a = w->h1, b = w->h2;
    for (size_t i = 0; i < n; i++) {
        a = (a ^ p[i]) * prime;
        b = (b ^ (uint8_t)(p[i] ^ 0xA5)) * prime;
    }
    w->h1 = a;
    w->h2 = b;
}

static int write_fail(pdf_writer *w, int errnum, sohoa_err *err)
{
    w->failed = true;
    return err_errno(err, SOHOA_EWORK, errnum ? errnum : EIO, "pdf: cannot write the document");
}

static int w_put(pdf_writer *w, const void *p, size_t n, sohoa_err *err)
{
    if (w->failed)
        return err_set(err, SOHOA_EWORK, "pdf: the document is unusable after a write error");
    if (n == 0)
        return 0;
    errno = 0;
    if (fwrite(p, 1, n, w->out) != n)
        return write_fail(w, errno, err);
    hash_bytes(w, p, n);
    w->pos += (long long)n;
    return 0;
}

static int w_puts(pdf_writer *w, const char *s, sohoa_err *err)
{
    return w_put(w, s, strlen(s), err);
}

/* Writes a text buffer built by the caller, or fails if building ran out
 * of memory; frees the buffer either way. */
static int w_buf(pdf_writer *w, pdf_buf *b, sohoa_err *err)
{
    int rc =
        b->oom ? err_set(err, SOHOA_EWORK, "pdf: out of memory") : w_put(w, b->data, b->len, err);
    pdf_buf_free(b);
    return rc;
}

static int w_flush(pdf_writer *w, sohoa_err *err)
{
    errno = 0;
    if (fflush(w->out) != 0 || ferror(w->out))
        return write_fail(w, errno, err);
    return 0;
}

/* ---- objects ----------------------------------------------------------- */

/* Reserves the next object number; 0 on ENOMEM. */
static uint32_t obj_new(pdf_writer *w)
{
    if (w->nobj == w->objcap) {
        size_t ncap = w->objcap ? w->objcap * 2 : 64;
        long long *p = realloc(w->offs, ncap * sizeof *p);
        if (!p)
            return 0;
        w->offs = p;
        w->objcap = ncap;
    }
    w->offs[w->nobj++] = -1;
    return (uint32_t)w->nobj;
}

/* Reserves several object numbers at once; false on ENOMEM. */
static bool obj_new_n(pdf_writer *w, uint32_t *nums, size_t n, sohoa_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!(nums[i] = obj_new(w))) {
            err_set(err, SOHOA_EWORK, "pdf: out of memory");
            return false;
        }
    return true;
}

static int obj_begin(pdf_writer *w, uint32_t num, sohoa_err *err)
{
    w->offs[num - 1] = w->pos;
    char head[32];
    snprintf(head, sizeof head, "%u 0 obj\n", num);
    return w_puts(w, head, err);
}

/* A whole non-stream object whose body is `body` (freed). */
static int obj_write(pdf_writer *w, uint32_t num, pdf_buf *body, sohoa_err *err)
{
    if (obj_begin(w, num, err) != 0) {
        pdf_buf_free(body);
        return -1;
    }
    pdf_buf_puts(body, "\nendobj\n");
    return w_buf(w, body, err);
}

/* A stream object: `dict` holds the dictionary entries other than /Length
 * (freed here), `data` the encoded stream. */
static int stream_write(pdf_writer *w, uint32_t num, pdf_buf *dict, const void *data, size_t len,
                        sohoa_err *err)
{
    pdf_buf_printf(dict, " /Length %zu >>\nstream\n", len);
    if (obj_begin(w, num, err) != 0 || w_puts(w, "<< ", err) != 0) {
        pdf_buf_free(dict);
        return -1;
    }
    if (w_buf(w, dict, err) != 0 || w_put(w, data, len, err) != 0)
        return -1;
    /* PDF/A: an EOL before endstream, not counted in /Length. */
    return w_puts(w, "\nendstream\nendobj\n", err);
}

/* Deflates `data` and writes it as a stream with /Filter /FlateDecode. */
static int stream_write_flate(pdf_writer *w, uint32_t num, pdf_buf *dict, const void *data,
                              size_t len, sohoa_err *err)
{
    uLongf zlen = compressBound((uLong)len);
    uint8_t *z = malloc(zlen);
    if (!z || compress2(z, &zlen, data, (uLong)len, 6) != Z_OK) {
        free(z);
        pdf_buf_free(dict);
        return err_set(err, SOHOA_EWORK, "pdf: cannot compress a stream (out of memory)");
    }
    pdf_buf_puts(dict, "/Filter /FlateDecode");
    int rc = stream_write(w, num, dict, z, zlen, err);
    free(z);
    return rc;
}

/* ---- fonts ------------------------------------------------------------- */

/* Identity UTF-16 ToUnicode map: CID n is the code unit n, as one range.
 * The CMap rules would have ranges vary only in their last byte (one per
 * 256 codes), but Ghostscript 10 misreads such ranges whose destination
 * does not start at 00xx (it maps <1E00> <1EFF> <1E00> to U+001E...),
 * garbling most Vietnamese letters; the single full range is read right
 * by Ghostscript, poppler, pdf.js and Acrobat (Tesseract's PDFs use it). */
static void build_tounicode(pdf_buf *b)
{
    pdf_buf_puts(b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                    "1 beginbfrange\n<0000> <FFFF> <0000>\nendbfrange\n"
                    "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

static int write_font_file(pdf_writer *w, uint32_t num, sohoa_err *err)
{
    pdf_buf font = {0}, dict = {0};
    if (pdf_font_build(&font) != 0) {
        pdf_buf_free(&font);
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    }
    pdf_buf_printf(&dict, "/Length1 %zu ", font.len);
    int rc = stream_write_flate(w, num, &dict, font.data, font.len, err);
    pdf_buf_free(&font);
    return rc;
}

/* Every CID → glyph 1 (2 bytes per CID, big-endian). */
static int write_cid_to_gid(pdf_writer *w, uint32_t num, sohoa_err *err)
{
    const size_t len = 65536 * 2;
    uint8_t *map = malloc(len);
    if (!map)
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    for (size_t i = 0; i < len; i += 2) {
        map[i] = (uint8_t)(PDF_FONT_GLYPH >> 8);
        map[i + 1] = (uint8_t)PDF_FONT_GLYPH;
    }
    pdf_buf dict = {0};
    int rc = stream_write_flate(w, num, &dict, map, len, err);
    free(map);
    return rc;
}

static int write_tounicode(pdf_writer *w, uint32_t num, sohoa_err *err)
{
    pdf_buf cmap = {0}, dict = {0};
    build_tounicode(&cmap);
    if (cmap.oom) {
        pdf_buf_free(&cmap);
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    }
    int rc = stream_write_flate(w, num, &dict, cmap.data, cmap.len, err);
    pdf_buf_free(&cmap);
    return rc;
}

/* Writes the shared font objects and sets w->font_obj. */
static int write_fonts(pdf_writer *w, sohoa_err *err)
{
    enum { TYPE0, CIDFONT, DESC, FILE2, MAP, TOUNI, N };
    uint32_t o[N];
    if (!obj_new_n(w, o, N, err))
        return -1;
    pdf_buf b = {0};
    pdf_buf_printf(&b,
                   "<< /Type /Font /Subtype /Type0 /BaseFont /" PDF_FONT_NAME
                   " /Encoding /Identity-H /DescendantFonts [%u 0 R] /ToUnicode %u 0 R >>",
                   o[CIDFONT], o[TOUNI]);
    if (obj_write(w, o[TYPE0], &b, err) != 0)
        return -1;
    /* /DW equals the hmtx advance of glyph 1 (PDF/A width consistency). */
    pdf_buf_printf(&b,
                   "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /" PDF_FONT_NAME
                   " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
                   " /FontDescriptor %u 0 R /DW %d /CIDToGIDMap %u 0 R >>",
                   o[DESC], PDF_FONT_ADVANCE, o[MAP]);
    if (obj_write(w, o[CIDFONT], &b, err) != 0)
        return -1;
    pdf_buf_printf(&b,
                   "<< /Type /FontDescriptor /FontName /" PDF_FONT_NAME
                   " /Flags 4 /FontBBox [0 %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d"
                   " /CapHeight 700 /StemV 80 /FontFile2 %u 0 R >>",
                   PDF_FONT_DESCENT, PDF_FONT_ADVANCE, PDF_FONT_ASCENT, PDF_FONT_ASCENT,
                   PDF_FONT_DESCENT, o[FILE2]);
    if (obj_write(w, o[DESC], &b, err) != 0 || write_font_file(w, o[FILE2], err) != 0 ||
        write_cid_to_gid(w, o[MAP], err) != 0 || write_tounicode(w, o[TOUNI], err) != 0)
        return -1;
    w->font_obj = o[TYPE0];
    return 0;
}

/* ---- images ------------------------------------------------------------ */

static bool layer_valid(const pdf_image *im)
{
    if (!im->data || im->len == 0 || im->width <= 0 || im->height <= 0)
        return false;
    if (im->is_mask && (im->bpc != 1 || im->ncomp != 1))
        return false;
    switch (im->filter) {
    case PDF_FILTER_DCT:
        return im->bpc == 8 && (im->ncomp == 1 || im->ncomp == 3) && !im->is_mask;
    case PDF_FILTER_CCITT:
        return im->bpc == 1 && im->ncomp == 1;
    case PDF_FILTER_FLATE:
        return (im->bpc == 8 && (im->ncomp == 1 || im->ncomp == 3)) ||
               (im->bpc == 1 && im->ncomp == 1);
    }
    return false;
}

static int write_image(pdf_writer *w, uint32_t num, const pdf_image *im, sohoa_err *err)
{
    pdf_buf d = {0};
    pdf_buf_printf(&d, "/Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent %d ",
                   im->width, im->height, im->bpc);
    if (im->is_mask)
        pdf_buf_puts(&d, "/ImageMask true ");
    else
        pdf_buf_puts(&d, im->ncomp == 3 ? "/ColorSpace /DeviceRGB " : "/ColorSpace /DeviceGray ");
    switch (im->filter) {
    case PDF_FILTER_DCT:
        pdf_buf_puts(&d, "/Filter /DCTDecode");
        break;
    case PDF_FILTER_CCITT:
        pdf_buf_printf(&d,
                       "/Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %d /Rows %d"
                       " /BlackIs1 false >>",
                       im->width, im->height);
        break;
    case PDF_FILTER_FLATE:
        pdf_buf_puts(&d, "/Filter /FlateDecode");
        if (im->bpc == 1)
            pdf_buf_puts(&d, " /Decode [1 0]");
        break;
    }
    return stream_write(w, num, &d, im->data, im->len, err);
}

/* ---- text layer -------------------------------------------------------- */

/* Geometry of one page: pixels of the OCR image → PDF points (y up). */
typedef struct page_geom {
    double w_pt, h_pt; /* page size */
    double sx, sy;     /* points per OCR pixel */
} page_geom;

static bool box_valid(const ocr_box *b)
{
    return b->x1 > b->x0 && b->y1 > b->y0;
}

/* Decodes the next CID of a word at *s: its UTF-16 code unit. Non-BMP
 * characters become U+FFFD (one CID each, so the advance count stays
 * right); control characters and non-characters are skipped. Returns
 * false at the end of the string. */
static bool next_cid(const char **s, unsigned *cid)
{
    while (**s) {
        uint32_t c;
        *s += pdf_utf8_next(*s, &c);
        if (c < 0x20 || c == 0x7F || c == 0xFFFE || c == 0xFFFF)
            continue;
        *cid = c > 0xFFFF ? PDF_UTF8_REPLACEMENT : (unsigned)c;
        return true;
    }
    return false;
}

/* Appends the word's CIDs as hex digits. */
static void put_cids(pdf_buf *b, const char *s)
{
    unsigned cid;
    while (next_cid(&s, &cid))
        pdf_buf_printf(b, "%04X", cid);
}

static size_t count_cids(const char *s)
{
    size_t n = 0;
    unsigned cid;
    while (next_cid(&s, &cid))
        n++;
    return n;
}

/* The y of the word's baseline in OCR pixels: the recognizer's baseline
 * when it is plausible, else the bottom of the word box. */
static int word_baseline(const ocr_word *wd)
{
    int lo = wd->box.y0, hi = wd->box.y1;
    if (box_valid(&wd->line_box)) {
        lo = wd->line_box.y0 < lo ? wd->line_box.y0 : lo;
        hi = wd->line_box.y1 > hi ? wd->line_box.y1 : hi;
    }
    return wd->baseline > lo && wd->baseline <= hi ? wd->baseline : wd->box.y1;
}

/* Font size in points: the line's height (the glyphless font's ascent to
 * descent is exactly one em), or the word's if the line box is missing. */
static double word_size(const ocr_word *wd, const page_geom *g)
{
    const ocr_box *b = box_valid(&wd->line_box) ? &wd->line_box : &wd->box;
    return (b->y1 - b->y0) * g->sy;
}

/* Is `next` the following word on the same line, close enough that a
 * space glyph may span the gap? A wide gap (another column of the header,
 * which Tesseract merges into one line) is not bridged, so that text
 * extraction sees two separate runs. */
static bool bridges_to(const ocr_word *wd, const ocr_word *next)
{
    if (!next || next->line != wd->line || next->block != wd->block)
        return false;
    int gap = next->box.x0 - wd->box.x1;
    int h = box_valid(&wd->line_box) ? wd->line_box.y1 - wd->line_box.y0 : wd->box.y1 - wd->box.y0;
    return gap > 0 && gap <= 2 * h;
}

static void put_tz(pdf_buf *b, double width_pt, size_t glyphs, double size)
{
    double advance = glyphs * (PDF_FONT_ADVANCE / 1000.0) * size;
    pdf_buf_num(b, 100.0 * width_pt / advance);
    pdf_buf_puts(b, " Tz ");
}

/* Emits one word: size, horizontal scaling so that the glyph advances
 * span the word box exactly, position, and the string. A word followed by
 * another word of the same line gets a space glyph of its own scaling,
 * spanning the gap to that word (or a quarter em when the gap is not
 * bridged), so that extractors see a real space between words. */
static void emit_word(pdf_buf *b, const ocr_word *wd, const ocr_word *next, const page_geom *g,
                      double *cur_size)
{
    size_t n = count_cids(wd->text);
    double size = word_size(wd, g);
    if (n == 0 || size <= 0)
        return;
    if (size != *cur_size) {
        pdf_buf_puts(b, FONT_RES " ");
        pdf_buf_num(b, size);
        pdf_buf_puts(b, " Tf\n");
        *cur_size = size;
    }
    put_tz(b, (wd->box.x1 - wd->box.x0) * g->sx, n, size);
    pdf_buf_puts(b, "1 0 0 1 ");
    pdf_buf_num(b, wd->box.x0 * g->sx);
    pdf_buf_puts(b, " ");
    pdf_buf_num(b, g->h_pt - word_baseline(wd) * g->sy);
    pdf_buf_puts(b, " Tm <");
    put_cids(b, wd->text);
    pdf_buf_puts(b, "> Tj\n");
    if (next && next->line == wd->line && next->block == wd->block) {
        double gap = bridges_to(wd, next) ? (next->box.x0 - wd->box.x1) * g->sx : size / 4;
        put_tz(b, gap, 1, size);
        pdf_buf_puts(b, "<0020> Tj\n");
    }
}

/* A word worth drawing: a box and at least one character. */
static bool word_usable(const ocr_word *wd)
{
    return wd->text && box_valid(&wd->box) && count_cids(wd->text) > 0;
}

static void build_text_layer(pdf_buf *b, const ocr_page_text *t, const page_geom *g)
{
    pdf_buf_puts(b, "BT\n3 Tr\n");
    double cur_size = -1;
    const ocr_word *prev = NULL;
    for (size_t i = 0; i < t->nwords; i++) {
        const ocr_word *wd = &t->words[i];
        if (!word_usable(wd))
            continue;
        if (prev)
            emit_word(b, prev, wd, g, &cur_size);
        prev = wd;
    }
    if (prev)
        emit_word(b, prev, NULL, g, &cur_size);
    pdf_buf_puts(b, "ET\n");
}

/* ---- pages ------------------------------------------------------------- */

static void build_content(pdf_buf *b, const pdf_page *p, const page_geom *g)
{
    for (size_t i = 0; i < p->nlayers; i++) {
        const pdf_image *im = &p->layers[i];
        pdf_buf_puts(b, "q\n");
        if (im->is_mask)
            for (int c = 0; c < 3; c++) {
                pdf_buf_num(b, im->fill_rgb[c] / 255.0);
                pdf_buf_puts(b, c < 2 ? " " : " rg\n");
            }
        pdf_buf_num(b, g->w_pt);
        pdf_buf_puts(b, " 0 0 ");
        pdf_buf_num(b, g->h_pt);
        pdf_buf_printf(b, " 0 0 cm /Im%zu Do\nQ\n", i);
    }
    if (p->text && p->text->nwords > 0)
        build_text_layer(b, p->text, g);
}

static int write_page_dict(pdf_writer *w, uint32_t num, const pdf_page *p, const page_geom *g,
                           const uint32_t *imgs, uint32_t contents, sohoa_err *err)
{
    pdf_buf b = {0};
    pdf_buf_printf(&b, "<< /Type /Page /Parent %u 0 R /MediaBox [0 0 ", w->pages_obj);
    pdf_buf_num(&b, g->w_pt);
    pdf_buf_puts(&b, " ");
    pdf_buf_num(&b, g->h_pt);
    pdf_buf_puts(&b, "] /Resources <<");
    if (p->nlayers > 0) {
        pdf_buf_puts(&b, " /XObject <<");
        for (size_t i = 0; i < p->nlayers; i++)
            pdf_buf_printf(&b, " /Im%zu %u 0 R", i, imgs[i]);
        pdf_buf_puts(&b, " >>");
    }
    if (p->text && p->text->nwords > 0)
        pdf_buf_printf(&b, " /Font << " FONT_RES " %u 0 R >>", w->font_obj);
    pdf_buf_printf(&b, " >> /Contents %u 0 R >>", contents);
    return obj_write(w, num, &b, err);
}

static int check_page(const pdf_writer *w, const pdf_page *p, sohoa_err *err)
{
    size_t n = w->nkids + 1;
    if (p->width_px <= 0 || p->height_px <= 0 || p->dpi <= 0)
        return err_set(err, SOHOA_EWORK, "pdf: page %zu: invalid size %dx%d px at %d dpi", n,
                       p->width_px, p->height_px, p->dpi);
    /* PDF limits a page to 14400 units (200 in). */
    if ((double)p->width_px * 72 / p->dpi > 14400 || (double)p->height_px * 72 / p->dpi > 14400)
        return err_set(err, SOHOA_EWORK, "pdf: page %zu: larger than 200 inches", n);
    for (size_t i = 0; i < p->nlayers; i++) {
        const pdf_image *im = &p->layers[i];
        if (!layer_valid(im))
            return err_set(err, SOHOA_EWORK,
                           "pdf: page %zu, layer %zu: unsupported image (filter %d, %dx%d, "
                           "%d bpc, %d components%s)",
                           n, i, (int)im->filter, im->width, im->height, im->bpc, im->ncomp,
                           im->is_mask ? ", mask" : "");
    }
    return 0;
}

static int push_kid(pdf_writer *w, uint32_t num, sohoa_err *err)
{
    if (w->nkids == w->kidcap) {
        size_t ncap = w->kidcap ? w->kidcap * 2 : 16;
        uint32_t *p = realloc(w->kids, ncap * sizeof *p);
        if (!p)
            return err_set(err, SOHOA_EWORK, "pdf: out of memory");
        w->kids = p;
        w->kidcap = ncap;
    }
    w->kids[w->nkids++] = num;
    return 0;
}

/* Builds and writes the page's content stream as object `num`. */
static int write_contents(pdf_writer *w, uint32_t num, const pdf_page *p, const page_geom *g,
                          sohoa_err *err)
{
    pdf_buf content = {0}, dict = {0};
    build_content(&content, p, g);
    if (content.oom) {
        pdf_buf_free(&content);
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    }
    int rc = stream_write_flate(w, num, &dict, content.data, content.len, err);
    pdf_buf_free(&content);
    return rc;
}

int pdf_writer_add_page(pdf_writer *w, const pdf_page *p, sohoa_err *err)
{
    if (w->failed)
        return err_set(err, SOHOA_EWORK, "pdf: the document is unusable after a write error");
    if (check_page(w, p, err) != 0)
        return -1;
    bool has_text = p->text && p->text->nwords > 0;
    if (has_text && !w->font_obj && write_fonts(w, err) != 0)
        return -1;

    page_geom g = {.w_pt = (double)p->width_px * 72 / p->dpi,
                   .h_pt = (double)p->height_px * 72 / p->dpi};
    /* Word boxes are in the OCR image's pixels, normally the page's. */
    int tw = has_text && p->text->width > 0 ? p->text->width : p->width_px;
    int th = has_text && p->text->height > 0 ? p->text->height : p->height_px;
    g.sx = g.w_pt / tw;
    g.sy = g.h_pt / th;

    uint32_t *imgs = calloc(p->nlayers + 2, sizeof *imgs); /* + contents, page */
    if (!imgs)
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    int rc = obj_new_n(w, imgs, p->nlayers + 2, err) ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < p->nlayers; i++)
        rc = write_image(w, imgs[i], &p->layers[i], err);
    uint32_t contents = imgs[p->nlayers], page = imgs[p->nlayers + 1];
    if (rc == 0)
        rc = write_contents(w, contents, p, &g, err);
    if (rc == 0)
        rc = write_page_dict(w, page, p, &g, imgs, contents, err);
    free(imgs);
    if (rc == 0)
        rc = push_kid(w, page, err);
    if (rc == 0)
        rc = w_flush(w, err);
    if (rc != 0)
        w->failed = true; /* objects may be half written or reserved */
    return rc;
}

/* ---- document ---------------------------------------------------------- */

pdf_writer *pdf_writer_new(FILE *out, sohoa_err *err)
{
    pdf_writer *w = calloc(1, sizeof *w);
    if (!w) {
        err_set(err, SOHOA_EWORK, "pdf: out of memory");
        return NULL;
    }
    w->out = out;
    w->h1 = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
    w->h2 = 0x84222325cbf29ce4ULL;
    /* The binary comment (bytes >= 128) marks the file as binary, as
     * PDF/A requires. */
    static const char header[] = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
    if (!(w->pages_obj = obj_new(w))) {
        err_set(err, SOHOA_EWORK, "pdf: out of memory");
        pdf_writer_abort(w);
        return NULL;
    }
    if (w_put(w, header, sizeof header - 1, err) != 0) {
        pdf_writer_abort(w);
        return NULL;
    }
    return w;
}

void pdf_writer_abort(pdf_writer *w)
{
    if (!w)
        return;
    free(w->offs);
    free(w->kids);
    free(w);
}

/* A PDF text string: UTF-16BE with a byte order mark, in hex, so every
 * character survives (including those outside the BMP, as pairs). */
static void put_text_string(pdf_buf *b, const char *s)
{
    pdf_buf_puts(b, "<FEFF");
    while (*s) {
        uint32_t c;
        s += pdf_utf8_next(s, &c);
        if (c > 0xFFFF) {
            c -= 0x10000;
            pdf_buf_printf(b, "%04X%04X", 0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF));
        } else {
            pdf_buf_printf(b, "%04X", (unsigned)c);
        }
    }
    pdf_buf_puts(b, ">");
}

/* "D:20250207145955+07'00'": the same instant as xmp_format_date(). */
static void put_pdf_date(pdf_buf *b, long long t)
{
    char iso[26];
    xmp_format_date(t, iso);
    pdf_buf_printf(b, "(D:%.4s%.2s%.2s%.2s%.2s%.2s+07'00')", iso, iso + 5, iso + 8, iso + 11,
                   iso + 14, iso + 17);
}

/* The Info dictionary, kept identical to the XMP (PDF/A 6.6.2.3). */
static int write_info(pdf_writer *w, uint32_t num, const xmp_doc_strings *ds, long long created,
                      sohoa_err *err)
{
    pdf_buf b = {0};
    pdf_buf_puts(&b, "<<");
    const struct {
        const char *key, *value;
    } strs[] = {{"Title", ds->title}, {"Author", ds->creator}, {"Subject", ds->description}};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (strs[i].value) {
            pdf_buf_printf(&b, " /%s ", strs[i].key);
            put_text_string(&b, strs[i].value);
        }
    pdf_buf_puts(&b, " /Creator (" XMP_CREATOR_TOOL ") /Producer (" XMP_PRODUCER ")");
    pdf_buf_puts(&b, " /CreationDate ");
    put_pdf_date(&b, created);
    pdf_buf_puts(&b, " /ModDate ");
    put_pdf_date(&b, created);
    pdf_buf_puts(&b, " >>");
    return obj_write(w, num, &b, err);
}

static int write_metadata(pdf_writer *w, uint32_t num, const doc_metadata *meta,
                          const xmp_doc_strings *ds, long long created, sohoa_err *err)
{
    pdf_buf x = {0}, dict = {0};
    if (xmp_build(&x, meta, ds, created, (int)w->nkids) != 0) {
        pdf_buf_free(&x);
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    }
    /* Uncompressed, so that any tool (and PDF/A validators) can read it. */
    pdf_buf_puts(&dict, "/Type /Metadata /Subtype /XML");
    int rc = stream_write(w, num, &dict, x.data, x.len, err);
    pdf_buf_free(&x);
    return rc;
}

static int write_icc(pdf_writer *w, uint32_t num, sohoa_err *err)
{
    pdf_buf icc = {0}, dict = {0};
    if (icc_srgb_build(&icc) != 0) {
        pdf_buf_free(&icc);
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    }
    pdf_buf_puts(&dict, "/N 3 ");
    int rc = stream_write_flate(w, num, &dict, icc.data, icc.len, err);
    pdf_buf_free(&icc);
    return rc;
}

static int write_page_tree(pdf_writer *w, sohoa_err *err)
{
    pdf_buf b = {0};
    pdf_buf_puts(&b, "<< /Type /Pages /Kids [");
    for (size_t i = 0; i < w->nkids; i++)
        pdf_buf_printf(&b, "%s%u 0 R", i % 10 ? " " : "\n", w->kids[i]);
    pdf_buf_printf(&b, "\n] /Count %zu >>", w->nkids);
    return obj_write(w, w->pages_obj, &b, err);
}

static int write_catalog(pdf_writer *w, uint32_t num, uint32_t metadata, uint32_t icc,
                         sohoa_err *err)
{
    pdf_buf b = {0};
    pdf_buf_printf(&b,
                   "<< /Type /Catalog /Pages %u 0 R /Metadata %u 0 R /OutputIntents [<<"
                   " /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (" ICC_SRGB_NAME
                   ") /Info (" ICC_SRGB_NAME ") /RegistryName (http://www.color.org)"
                   " /DestOutputProfile %u 0 R >>] >>",
                   w->pages_obj, metadata, icc);
    return obj_write(w, num, &b, err);
}

static int write_xref_trailer(pdf_writer *w, uint32_t root, uint32_t info, long long created,
                              sohoa_err *err)
{
    for (size_t i = 0; i < w->nobj; i++)
        if (w->offs[i] < 0)
            return err_set(err, SOHOA_EWORK, "pdf: internal error: object %zu never written",
                           i + 1);
    /* The ID hashes everything written plus the creation time. */
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)((unsigned long long)created >> (8 * i));
    hash_bytes(w, t, sizeof t);
    char id[33];
    snprintf(id, sizeof id, "%016llX%016llX", (unsigned long long)w->h1, (unsigned long long)w->h2);

    long long xref = w->pos;
    pdf_buf b = {0};
    pdf_buf_printf(&b, "xref\n0 %zu\n0000000000 65535 f \n", w->nobj + 1);
    for (size_t i = 0; i < w->nobj; i++)
        pdf_buf_printf(&b, "%010lld 00000 n \n", w->offs[i]); /* 20 bytes each */
    pdf_buf_printf(&b,
                   "trailer\n<< /Size %zu /Root %u 0 R /Info %u 0 R /ID [<%s><%s>] >>\n"
                   "startxref\n%lld\n%%%%EOF\n",
                   w->nobj + 1, root, info, id, id, xref);
    return w_buf(w, &b, err);
}

static int finish(pdf_writer *w, const doc_metadata *meta, long long created, sohoa_err *err)
{
    if (w->failed)
        return err_set(err, SOHOA_EWORK, "pdf: the document is unusable after a write error");
    if (w->nkids == 0)
        return err_set(err, SOHOA_EWORK, "pdf: the document has no pages");
    enum { META, ICC, INFO, CATALOG, N };
    uint32_t o[N];
    if (!obj_new_n(w, o, N, err))
        return -1;
    xmp_doc_strings ds;
    if (xmp_doc_strings_make(meta, &ds) != 0)
        return err_set(err, SOHOA_EWORK, "pdf: out of memory");
    int rc = write_metadata(w, o[META], meta, &ds, created, err);
    if (rc == 0)
        rc = write_info(w, o[INFO], &ds, created, err);
    xmp_doc_strings_free(&ds);
    if (rc == 0 && (write_icc(w, o[ICC], err) != 0 || write_page_tree(w, err) != 0 ||
                    write_catalog(w, o[CATALOG], o[META], o[ICC], err) != 0 ||
                    write_xref_trailer(w, o[CATALOG], o[INFO], created, err) != 0))
        rc = -1;
    if (rc == 0)
        rc = w_flush(w, err);
    return rc;
}

int pdf_writer_finish(pdf_writer *w, const doc_metadata *meta, long long created, sohoa_err *err)
{
    int rc = finish(w, meta, created, err);
    pdf_writer_abort(w);
    return rc;
}
