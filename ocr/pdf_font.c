#include "pdf_font.h"

#include <string.h>

/* The .notdef box, in font units. */
#define BOX_X0 50
#define BOX_X1 450
#define BOX_Y0 0
#define BOX_Y1 700

#define NTABLES 10

uint32_t pdf_font_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t word = 0;
        for (size_t k = 0; k < 4; k++)
            word = (word << 8) | (i + k < len ? p[i + k] : 0);
        sum += word;
    }
    return sum;
}

static void build_head(pdf_buf *t)
{
    pdf_buf_u32(t, 0x00010000); /* version 1.0 */
    pdf_buf_u32(t, 0x00010000); /* fontRevision */
    pdf_buf_u32(t, 0);          /* checkSumAdjustment, patched at the end */
    pdf_buf_u32(t, 0x5F0F3CF5); /* magicNumber */
    pdf_buf_u16(t, 0x000B);     /* flags: baseline and lsb at 0, integer ppem */
    pdf_buf_u16(t, PDF_FONT_UNITS_PER_EM);
    pdf_buf_zero(t, 16);    /* created, modified: fixed so the output is reproducible */
    pdf_buf_u16(t, BOX_X0); /* xMin .. yMax over all glyphs */
    pdf_buf_u16(t, BOX_Y0);
    pdf_buf_u16(t, BOX_X1);
    pdf_buf_u16(t, BOX_Y1);
    pdf_buf_u16(t, 0); /* macStyle */
    pdf_buf_u16(t, 8); /* lowestRecPPEM */
    pdf_buf_u16(t, 2); /* fontDirectionHint */
    pdf_buf_u16(t, 0); /* indexToLocFormat: short offsets */
    pdf_buf_u16(t, 0); /* glyphDataFormat */
}

static void build_hhea(pdf_buf *t)
{
    pdf_buf_u32(t, 0x00010000);
    pdf_buf_u16(t, PDF_FONT_ASCENT);
    pdf_buf_u16(t, (uint16_t)PDF_FONT_DESCENT);
    pdf_buf_u16(t, 0);                /* lineGap */
    pdf_buf_u16(t, PDF_FONT_ADVANCE); /* advanceWidthMax */
    pdf_buf_u16(t, 0);                /* minLeftSideBearing */
    pdf_buf_u16(t, 0);                /* minRightSideBearing */
    pdf_buf_u16(t, BOX_X1);           /* xMaxExtent */
    pdf_buf_u16(t, 1);                /* caretSlopeRise: vertical caret */
    pdf_buf_u16(t, 0);                /* caretSlopeRun */
    pdf_buf_u16(t, 0);                /* caretOffset */
    pdf_buf_zero(t, 8);               /* reserved */
    pdf_buf_u16(t, 0);                /* metricDataFormat */
    pdf_buf_u16(t, 2);                /* numberOfHMetrics: both glyphs */
}

static void build_maxp(pdf_buf *t)
{
    pdf_buf_u32(t, 0x00010000); /* version 1.0: TrueType outlines */
    pdf_buf_u16(t, 2);          /* numGlyphs */
    pdf_buf_u16(t, 4);          /* maxPoints: the .notdef box */
    pdf_buf_u16(t, 1);          /* maxContours */
    pdf_buf_u16(t, 0);          /* maxCompositePoints */
    pdf_buf_u16(t, 0);          /* maxCompositeContours */
    pdf_buf_u16(t, 2);          /* maxZones */
    pdf_buf_zero(t, 16);        /* twilight points .. component depth: none */
}

static void build_os2(pdf_buf *t)
{
    pdf_buf_u16(t, 4);                /* version */
    pdf_buf_u16(t, PDF_FONT_ADVANCE); /* xAvgCharWidth */
    pdf_buf_u16(t, 400);              /* usWeightClass: regular */
    pdf_buf_u16(t, 5);                /* usWidthClass: medium */
    pdf_buf_u16(t, 0);                /* fsType 0: installable, embedding allowed (PDF/A) */
    static const uint16_t subsup[] = {650, 600, 0, 75, 650, 600, 0, 350, 50, 250};
    for (size_t i = 0; i < sizeof subsup / sizeof *subsup; i++)
        pdf_buf_u16(t, subsup[i]); /* sub/superscript sizes, strikeout */
    pdf_buf_u16(t, 0);             /* sFamilyClass */
    pdf_buf_zero(t, 10);           /* panose: any */
    pdf_buf_u32(t, 0x00000003);    /* ulUnicodeRange1: Basic Latin, Latin-1 */
    pdf_buf_u32(t, 0);
    pdf_buf_u32(t, 0);
    pdf_buf_u32(t, 0);
    pdf_buf_put(t, "SOHO", 4);                   /* achVendID */
    pdf_buf_u16(t, 0x0040);                      /* fsSelection: REGULAR */
    pdf_buf_u16(t, 0x0020);                      /* usFirstCharIndex: the cmap covers only space */
    pdf_buf_u16(t, 0x0020);                      /* usLastCharIndex */
    pdf_buf_u16(t, PDF_FONT_ASCENT);             /* sTypoAscender */
    pdf_buf_u16(t, (uint16_t)PDF_FONT_DESCENT);  /* sTypoDescender */
    pdf_buf_u16(t, 0);                           /* sTypoLineGap */
    pdf_buf_u16(t, PDF_FONT_ASCENT);             /* usWinAscent */
    pdf_buf_u16(t, (uint16_t)-PDF_FONT_DESCENT); /* usWinDescent */
    pdf_buf_u32(t, 0x00000001);                  /* ulCodePageRange1: Latin 1 */
    pdf_buf_u32(t, 0);
    pdf_buf_u16(t, 500);  /* sxHeight */
    pdf_buf_u16(t, 700);  /* sCapHeight */
    pdf_buf_u16(t, 0);    /* usDefaultChar */
    pdf_buf_u16(t, 0x20); /* usBreakChar */
    pdf_buf_u16(t, 1);    /* usMaxContext */
}

static void build_hmtx(pdf_buf *t)
{
    for (int g = 0; g < 2; g++) {
        pdf_buf_u16(t, PDF_FONT_ADVANCE);
        pdf_buf_u16(t, g == 0 ? BOX_X0 : 0); /* lsb = xMin (0 for the empty glyph) */
    }
}

/* Format 4 (Windows Unicode BMP) mapping only U+0020 to the empty glyph.
 * The PDF never consults it (a CIDToGIDMap selects the glyphs); it is
 * there because a TrueType font without a cmap is not a valid font. */
static void build_cmap(pdf_buf *t)
{
    pdf_buf_u16(t, 0); /* version */
    pdf_buf_u16(t, 1); /* numTables */
    pdf_buf_u16(t, 3); /* platform Windows */
    pdf_buf_u16(t, 1); /* encoding Unicode BMP */
    pdf_buf_u32(t, 12);
    const uint16_t segs = 2;
    pdf_buf_u16(t, 4);             /* format */
    pdf_buf_u16(t, 16 + 8 * segs); /* length */
    pdf_buf_u16(t, 0);             /* language */
    pdf_buf_u16(t, 2 * segs);      /* segCountX2 */
    pdf_buf_u16(t, 4);             /* searchRange = 2 * 2^floor(log2 segs) */
    pdf_buf_u16(t, 1);             /* entrySelector */
    pdf_buf_u16(t, 0);             /* rangeShift */
    pdf_buf_u16(t, 0x0020);        /* endCode */
    pdf_buf_u16(t, 0xFFFF);
    pdf_buf_u16(t, 0);      /* reservedPad */
    pdf_buf_u16(t, 0x0020); /* startCode */
    pdf_buf_u16(t, 0xFFFF);
    pdf_buf_u16(t, (uint16_t)(PDF_FONT_GLYPH - 0x20)); /* idDelta */
    pdf_buf_u16(t, 1);                                 /* 0xFFFF → 0 */
    pdf_buf_u16(t, 0);                                 /* idRangeOffset */
    pdf_buf_u16(t, 0);
}

/* Glyph 0: one closed rectangle; glyph 1: no data at all. */
static void build_glyf(pdf_buf *t)
{
    pdf_buf_u16(t, 1); /* numberOfContours */
    pdf_buf_u16(t, BOX_X0);
    pdf_buf_u16(t, BOX_Y0);
    pdf_buf_u16(t, BOX_X1);
    pdf_buf_u16(t, BOX_Y1);
    pdf_buf_u16(t, 3); /* endPtsOfContours[0] */
    pdf_buf_u16(t, 0); /* instructionLength */
    for (int i = 0; i < 4; i++)
        pdf_buf_u8(t, 0x01); /* on curve, 16-bit deltas */
    /* Points (x0,y0) (x0,y1) (x1,y1) (x1,y0), stored as deltas. */
    const int16_t dx[4] = {BOX_X0, 0, BOX_X1 - BOX_X0, 0};
    const int16_t dy[4] = {BOX_Y0, BOX_Y1 - BOX_Y0, 0, BOX_Y0 - BOX_Y1};
    for (int i = 0; i < 4; i++)
        pdf_buf_u16(t, (uint16_t)dx[i]);
    for (int i = 0; i < 4; i++)
        pdf_buf_u16(t, (uint16_t)dy[i]);
}

/* Short loca: offsets / 2, one more entry than glyphs. */
static void build_loca(pdf_buf *t, size_t glyf0_len)
{
    pdf_buf_u16(t, 0);
    pdf_buf_u16(t, (uint16_t)(glyf0_len / 2));
    pdf_buf_u16(t, (uint16_t)(glyf0_len / 2));
}

static void build_name(pdf_buf *t)
{
    static const struct {
        uint16_t id;
        const char *s;
    } names[] = {
        {1, "Sohoa Glyphless"},
        {2, "Regular"},
        {3, "sohoa: Sohoa Glyphless Regular 1.0"},
        {4, "Sohoa Glyphless Regular"},
        {5, "Version 1.0"},
        {6, PDF_FONT_NAME},
    };
    const uint16_t n = sizeof names / sizeof *names;
    pdf_buf_u16(t, 0);          /* format */
    pdf_buf_u16(t, n);          /* count */
    pdf_buf_u16(t, 6 + 12 * n); /* stringOffset */
    uint16_t off = 0;
    for (uint16_t i = 0; i < n; i++) {
        uint16_t len = (uint16_t)(2 * strlen(names[i].s)); /* UTF-16BE of ASCII */
        pdf_buf_u16(t, 3);                                 /* platform Windows */
        pdf_buf_u16(t, 1);                                 /* Unicode BMP */
        pdf_buf_u16(t, 0x0409);                            /* en-US */
        pdf_buf_u16(t, names[i].id);
        pdf_buf_u16(t, len);
        pdf_buf_u16(t, off);
        off = (uint16_t)(off + len);
    }
    for (uint16_t i = 0; i < n; i++)
        for (const char *c = names[i].s; *c; c++)
            pdf_buf_u16(t, (uint16_t)(unsigned char)*c);
}

static void build_post(pdf_buf *t)
{
    pdf_buf_u32(t, 0x00030000);     /* version 3: no glyph names */
    pdf_buf_u32(t, 0);              /* italicAngle */
    pdf_buf_u16(t, (uint16_t)-100); /* underlinePosition */
    pdf_buf_u16(t, 50);             /* underlineThickness */
    pdf_buf_u32(t, 1);              /* isFixedPitch: every glyph has one advance */
    pdf_buf_zero(t, 16);            /* memory usage hints */
}

typedef struct table {
    char tag[5];
    pdf_buf data;
} table;

int pdf_font_build(pdf_buf *out)
{
    /* Tags in ascending byte order, as the table directory requires. */
    static const char tags[NTABLES][5] = {"OS/2", "cmap", "glyf", "head", "hhea",
                                          "hmtx", "loca", "maxp", "name", "post"};
    table t[NTABLES];
    memset(t, 0, sizeof t);
    for (int i = 0; i < NTABLES; i++)
        memcpy(t[i].tag, tags[i], 5);
    build_os2(&t[0].data);
    build_cmap(&t[1].data);
    build_glyf(&t[2].data);
    build_head(&t[3].data);
    build_hhea(&t[4].data);
    build_hmtx(&t[5].data);
    build_loca(&t[6].data, t[2].data.len);
    build_maxp(&t[7].data);
    build_name(&t[8].data);
    build_post(&t[9].data);

    size_t start = out->len;
    pdf_buf_u32(out, 0x00010000); /* sfnt version: TrueType */
    pdf_buf_u16(out, NTABLES);
    pdf_buf_u16(out, 128); /* searchRange: 16 * largest power of 2 <= NTABLES */
    pdf_buf_u16(out, 3);   /* entrySelector: log2(8) */
    pdf_buf_u16(out, NTABLES * 16 - 128);
    size_t offset = 12 + 16 * NTABLES;
    size_t head_off = 0;
    bool oom = false;
    for (int i = 0; i < NTABLES; i++) {
        oom |= t[i].data.oom;
        pdf_buf_put(out, t[i].tag, 4);
        pdf_buf_u32(out, pdf_font_checksum(t[i].data.data, t[i].data.len));
        pdf_buf_u32(out, (uint32_t)offset);
        pdf_buf_u32(out, (uint32_t)t[i].data.len);
        if (strcmp(t[i].tag, "head") == 0)
            head_off = offset;
        offset += (t[i].data.len + 3) & ~(size_t)3;
    }
    for (int i = 0; i < NTABLES; i++) {
        pdf_buf_put(out, t[i].data.data, t[i].data.len);
        pdf_buf_zero(out, ((t[i].data.len + 3) & ~(size_t)3) - t[i].data.len);
        pdf_buf_free(&t[i].data);
    }
    if (oom || out->oom)
        return -1;
    /* checkSumAdjustment makes the whole font sum to 0xB1B0AFBA. */
    uint32_t sum = pdf_font_checksum(out->data + start, out->len - start);
    pdf_buf_set_u32(out, start + head_off + 8, 0xB1B0AFBAu - sum);
    return 0;
}
