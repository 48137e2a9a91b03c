/* sigfont.c — TrueType subset embedding for the visible signature.
 *
 * See sigfont.h. Glyph ids are kept by the subsetter (RETAIN_GIDS), so the
 * 2-byte codes drawn in the content stream are at once CIDs and glyph ids
 * of the embedded program (CIDToGIDMap /Identity), and the /W widths are
 * the widths of the original font.
 */
#include "sigfont.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hb-ot.h>
#include <hb-subset.h>
#include <hb.h>
#include <uninorm.h>
#include <unistr.h>
#include <zlib.h>

struct sigfont {
    char *path;
    hb_blob_t *blob;
    hb_face_t *face;
    hb_font_t *font;
    unsigned upem;
    unsigned nglyphs;
    uint32_t *used_cp; /* per glyph id: the first code point drawn with it, 0 = unused */
    char ps_name[64];  /* PostScript name, sanitized for a PDF name */
    char subset_name[72];
};

/* Big-endian readers for the few fields HarfBuzz has no getter for. */
static int16_t be_s16(const uint8_t *p)
{
    return (int16_t)(uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t be_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Copies table `tag` of the face into buf (up to cap bytes); returns the
 * table length (0 when absent). */
static unsigned read_table(hb_face_t *face, hb_tag_t tag, uint8_t *buf, unsigned cap)
{
    hb_blob_t *b = hb_face_reference_table(face, tag);
    unsigned len = 0;
    const char *d = hb_blob_get_data(b, &len);
    memset(buf, 0, cap);
    if (d && len)
        memcpy(buf, d, len < cap ? len : cap);
    hb_blob_destroy(b);
    return len;
}

sigfont *sigfont_open(const char *path, sohoa_err *err)
{
    if (!path || !*path)
        path = SIGFONT_DEFAULT_PATH;
    sigfont *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        err_set(err, SOHOA_EWORK, "signature font %s: out of memory", path);
        return NULL;
    }
    f->blob = hb_blob_create_from_file_or_fail(path);
    if (!f->blob) {
        err_set(err, SOHOA_EINPUT,
                "signature font %s: cannot read it; install fonts-liberation2 or set the font path",
                path);
        goto fail;
    }
    f->face = hb_face_create(f->blob, 0);
    f->nglyphs = hb_face_get_glyph_count(f->face);
    uint8_t probe[4];
    if (f->nglyphs == 0 || f->nglyphs > 0xFFFF) {
        err_set(err, SOHOA_EINPUT, "signature font %s: not a TrueType/OpenType font", path);
        goto fail;
    }
    /* FontFile2 holds TrueType outlines; a CFF-flavoured OpenType font would
     * need FontFile3 and a different CID mapping. */
    if (read_table(f->face, HB_TAG('g', 'l', 'y', 'f'), probe, sizeof probe) == 0) {
        err_set(err, SOHOA_EINPUT,
                "signature font %s: no TrueType outlines (CFF font?); use a .ttf such as "
                "Liberation Serif",
                path);
        goto fail;
    }
    f->font = hb_font_create(f->face);
    f->upem = hb_face_get_upem(f->face);
    f->used_cp = calloc(f->nglyphs, sizeof *f->used_cp);
    if (!f->used_cp) {
        err_set(err, SOHOA_EWORK, "signature font %s: out of memory", path);
        goto fail;
    }

    /* The PostScript name may only hold printable ASCII without PDF
     * delimiters; keep letters, digits, '-' and '_'. */
    char name[64];
    unsigned nlen = sizeof name;
    hb_ot_name_get_utf8(f->face, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID, &nlen, name);
    size_t j = 0;
    for (size_t i = 0; name[i] && i < nlen && j + 1 < sizeof f->ps_name; i++) {
        char c = name[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_')
            f->ps_name[j++] = c;
    }
    if (j == 0)
        strcpy(f->ps_name, "SignatureFont");
    return f;
fail:
    sigfont_free(f);
    return NULL;
}

void sigfont_free(sigfont *f)
{
    if (!f)
        return;
    hb_font_destroy(f->font);
    hb_face_destroy(f->face);
    hb_blob_destroy(f->blob);
    free(f->used_cp);
    free(f->path);
    free(f);
}

/* Font units to PDF glyph space (1/1000 em). */
static double to_em1000(const sigfont *f, double units)
{
    return units * 1000.0 / f->upem;
}

double sigfont_ascent(const sigfont *f)
{
    hb_position_t v = 0;
    if (!hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_HORIZONTAL_ASCENDER, &v))
        v = (hb_position_t)(f->upem * 8 / 10);
    return to_em1000(f, v);
}

double sigfont_descent(const sigfont *f)
{
    hb_position_t v = 0;
    if (!hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_HORIZONTAL_DESCENDER, &v))
        v = -(hb_position_t)(f->upem * 2 / 10);
    return to_em1000(f, v);
}

int sigfont_encode(sigfont *f, const char *text, pdf_buf *out, double *width, sohoa_err *err)
{
    size_t len = strlen(text);
    if (u8_check((const uint8_t *)text, len) != NULL)
        return err_set(err, SOHOA_EINPUT, "signature text \"%.60s\": not valid UTF-8", text);
    /* Configured text may come in NFD (typed on another system); the font
     * has the precomposed Vietnamese letters, and NFC is what the metadata
     * and the extraction side expect. */
    size_t nlen = 0;
    uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)text, len, NULL, &nlen);
    if (!nfc && len)
        return err_set(err, SOHOA_EWORK, "signature text: out of memory normalizing it");
    double w = 0;
    pdf_buf_put(out, "<", 1);
    const uint8_t *p = nfc, *end = nfc + nlen;
    while (p < end) {
        ucs4_t cp;
        int n = u8_mbtouc(&cp, p, (size_t)(end - p));
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            free(nfc);
            return err_set(err, SOHOA_EINPUT,
                           "signature text \"%.60s\": control character U+%04X; remove it", text,
                           (unsigned)cp);
        }
        hb_codepoint_t gid = 0;
        if (!hb_font_get_nominal_glyph(f->font, cp, &gid) || gid == 0 || gid >= f->nglyphs ||
            gid > 0xFFFF) {
            char ch[8] = "";
            u8_uctomb((uint8_t *)ch, cp, 6);
            free(nfc);
            return err_set(err, SOHOA_EINPUT,
                           "signature font %s: no glyph for '%s' (U+%04X) in \"%.60s\"; use a "
                           "font with Vietnamese glyphs such as Liberation Serif 2",
                           f->path, ch, (unsigned)cp, text);
        }
        /* A glyph reached from two code points (e.g. space and no-break
         * space) can map back to only one in /ToUnicode: the first wins. */
        if (f->used_cp[gid] == 0)
            f->used_cp[gid] = cp;
        w += to_em1000(f, hb_font_get_glyph_h_advance(f->font, gid));
        pdf_buf_printf(out, "%04X", (unsigned)gid);
        p += n;
    }
    pdf_buf_put(out, ">", 1);
    free(nfc);
    if (width)
        *width = w;
    return out->oom ? err_set(err, SOHOA_EWORK, "signature text: out of memory") : 0;
}

const char *sigfont_subset_name(const sigfont *f)
{
    return f->subset_name;
}

/* Appends a stream object body: dictionary entries `dict` (without the
 * delimiters), then the data deflated. */
static void put_flate_stream(pdf_buf *o, const char *dict, const void *data, size_t len)
{
    uLongf clen = compressBound(len);
    unsigned char *z = malloc(clen ? clen : 1);
    if (!z || compress2(z, &clen, data, len, 9) != Z_OK) {
        free(z);
        o->oom = true;
        return;
    }
    pdf_buf_printf(o, "<< %s /Filter /FlateDecode /Length %lu >>\nstream\n", dict,
                   (unsigned long)clen);
    pdf_buf_put(o, z, clen);
    pdf_buf_puts(o, "\nendstream");
    free(z);
}

/* Six upper-case letters derived from the glyph set (ISO 32000-1 9.6.4):
 * the same text gives the same tag, different subsets differ. */
static void subset_tag(const sigfont *f, char tag[7])
{
    uint64_t h = 1469598103934665603ULL;
    for (unsigned g = 0; g < f->nglyphs; g++)
        if (f->used_cp[g]) {
            h ^= g;
            h *= 1099511628211ULL;
        }
    for (int i = 0; i < 6; i++) {
        tag[i] = (char)('A' + h % 26);
        h /= 26;
    }
    tag[6] = '\0';
}

/* The /ToUnicode CMap: each used glyph id back to its code point
 * (UTF-16BE, a surrogate pair above the BMP). */
static void build_tounicode(const sigfont *f, pdf_buf *cm)
{
    pdf_buf_puts(cm, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                     "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                     "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                     "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    unsigned total = 0;
    for (unsigned g = 0; g < f->nglyphs; g++)
        total += f->used_cp[g] != 0;
    unsigned g = 0;
    while (total > 0) {
        /* bfchar blocks hold at most 100 entries. */
        unsigned n = total > 100 ? 100 : total;
        pdf_buf_printf(cm, "%u beginbfchar\n", n);
        for (unsigned k = 0; k < n; g++) {
            uint32_t cp = f->used_cp[g];
            if (!cp)
                continue;
            if (cp >= 0x10000) {
                uint32_t v = cp - 0x10000;
                pdf_buf_printf(cm, "<%04X> <%04X%04X>\n", g, 0xD800 + (v >> 10),
                               0xDC00 + (v & 0x3FF));
            } else {
                pdf_buf_printf(cm, "<%04X> <%04X>\n", g, cp);
            }
            k++;
        }
        pdf_buf_puts(cm, "endbfchar\n");
        total -= n;
    }
    pdf_buf_puts(cm, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

/* The /W array: runs of consecutive used glyph ids share one width list. */
static void build_widths(const sigfont *f, pdf_buf *o)
{
    pdf_buf_puts(o, "[");
    unsigned g = 0;
    while (g < f->nglyphs) {
        if (!f->used_cp[g]) {
            g++;
            continue;
        }
        pdf_buf_printf(o, " %u [", g);
        while (g < f->nglyphs && f->used_cp[g]) {
            double w = to_em1000(f, hb_font_get_glyph_h_advance(f->font, g));
            pdf_buf_puts(o, " ");
            pdf_buf_num(o, round(w));
            g++;
        }
        pdf_buf_puts(o, " ]");
    }
    pdf_buf_puts(o, " ]");
}

int sigfont_build_objects(sigfont *f, int first_obj, pdf_buf objs[SIGFONT_NOBJS], sohoa_err *err)
{
    memset(objs, 0, sizeof(pdf_buf) * SIGFONT_NOBJS);
    char tag[7];
    subset_tag(f, tag);
    snprintf(f->subset_name, sizeof f->subset_name, "%s+%s", tag, f->ps_name);

    /* The subset: the glyphs drawn and .notdef, ids unchanged. The code
     * points go in too so the subset keeps a usable cmap table. */
    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    if (!in)
        return err_set(err, SOHOA_EWORK, "signature font %s: out of memory", f->path);
    hb_set_t *gs = hb_subset_input_glyph_set(in);
    hb_set_t *us = hb_subset_input_unicode_set(in);
    hb_set_add(gs, 0);
    for (unsigned g = 0; g < f->nglyphs; g++)
        if (f->used_cp[g]) {
            hb_set_add(gs, g);
            hb_set_add(us, f->used_cp[g]);
        }
    hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_RETAIN_GIDS);
    hb_face_t *sub = hb_subset_or_fail(f->face, in);
    hb_subset_input_destroy(in);
    if (!sub)
        return err_set(err, SOHOA_EWORK, "signature font %s: subsetting failed", f->path);
    hb_blob_t *sblob = hb_face_reference_blob(sub);
    unsigned slen = 0;
    const char *sdata = hb_blob_get_data(sblob, &slen);

    /* Metrics for the FontDescriptor, in glyph space. */
    uint8_t head[54], post[16], os2[32];
    read_table(f->face, HB_TAG('h', 'e', 'a', 'd'), head, sizeof head);
    read_table(f->face, HB_TAG('p', 'o', 's', 't'), post, sizeof post);
    unsigned os2_len = read_table(f->face, HB_TAG('O', 'S', '/', '2'), os2, sizeof os2);
    double italic = (int32_t)be_u32(post + 4) / 65536.0;
    int fixed_pitch = be_u32(post + 12) != 0;
    unsigned weight = os2_len >= 6 ? (unsigned)((os2[4] << 8) | os2[5]) : 400;
    int family_class = os2_len >= 32 ? os2[30] : 0; /* sFamilyClass high byte */
    hb_position_t cap = 0;
    if (!hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_CAP_HEIGHT, &cap))
        cap = (hb_position_t)(f->upem * 7 / 10);
    /* Flags (ISO 32000-1 table 123): Nonsymbolic always (the glyphs are
     * Latin), Serif for IBM classes 1-7 (the serif families), FixedPitch
     * and Italic from post. */
    int flags = 32;
    if (fixed_pitch)
        flags |= 1;
    if (family_class >= 1 && family_class <= 7)
        flags |= 2;
    if (italic != 0)
        flags |= 64;
    /* No TrueType table holds a stem width; this usual estimate from the
     * weight class (about 80 for Regular, 140 for Bold) is what viewers
     * expect when they substitute. */
    double stemv = 10 + 220 * pow((weight > 50 ? weight - 50 : 0) / 900.0, 2) + 40;

    pdf_buf *type0 = &objs[0], *cid = &objs[1], *desc = &objs[2], *file = &objs[3], *tou = &objs[4];
    pdf_buf_printf(type0,
                   "<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H "
                   "/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
                   f->subset_name, first_obj + 1, first_obj + 4);
    pdf_buf_printf(cid,
                   "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo "
                   "<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                   "/FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 1000 /W ",
                   f->subset_name, first_obj + 2);
    build_widths(f, cid);
    pdf_buf_puts(cid, " >>");
    pdf_buf_printf(desc, "<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [",
                   f->subset_name, flags);
    for (int i = 0; i < 4; i++) {
        pdf_buf_puts(desc, i ? " " : "");
        pdf_buf_num(desc, round(to_em1000(f, be_s16(head + 36 + 2 * i))));
    }
    pdf_buf_puts(desc, "] /ItalicAngle ");
    pdf_buf_num(desc, italic);
    pdf_buf_puts(desc, " /Ascent ");
    pdf_buf_num(desc, round(sigfont_ascent(f)));
    pdf_buf_puts(desc, " /Descent ");
    pdf_buf_num(desc, round(sigfont_descent(f)));
    pdf_buf_puts(desc, " /CapHeight ");
    pdf_buf_num(desc, round(to_em1000(f, cap)));
    pdf_buf_puts(desc, " /StemV ");
    pdf_buf_num(desc, round(stemv));
    pdf_buf_printf(desc, " /FontFile2 %d 0 R >>", first_obj + 3);

    char dict[64];
    snprintf(dict, sizeof dict, "/Length1 %u", slen);
    put_flate_stream(file, dict, sdata, slen);
    hb_blob_destroy(sblob);
    hb_face_destroy(sub);

    pdf_buf cmap = {0};
    build_tounicode(f, &cmap);
    if (!cmap.oom)
        put_flate_stream(tou, "", cmap.data, cmap.len);
    bool oom = cmap.oom;
    pdf_buf_free(&cmap);
    for (int i = 0; i < SIGFONT_NOBJS; i++)
        oom |= objs[i].oom;
    if (oom)
        return err_set(err, SOHOA_EWORK, "signature font %s: out of memory embedding it", f->path);
    return 0;
}
