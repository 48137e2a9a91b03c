#include "icc.h"

#include <math.h>
#include <string.h>

#define TRC_POINTS 1024

/* Chromaticities of IEC 61966-2-1 (x, y) and the illuminants. */
static const double PRIMARIES[3][2] = {{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}};
static const double D65[3] = {0.95047, 1.0, 1.08883};
static const double D50[3] = {0.9642, 1.0, 0.8249};

/* Bradford cone response matrix and its inverse. */
static const double BFD[3][3] = {
    {0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}};

static void mat_mul(const double a[3][3], const double b[3][3], double r[3][3])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
}

static void mat_vec(const double m[3][3], const double v[3], double r[3])
{
    for (int i = 0; i < 3; i++)
        r[i] = m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2];
}

static void mat_inv(const double m[3][3], double r[3][3])
{
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            /* Cofactor of m[j][i], transposed, over the determinant. */
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            r[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
        }
}

void icc_srgb_colorants(double xyz[3][3])
{
    /* Columns of P: XYZ of each primary at Y = 1; scale them so that
     * R = G = B = 1 gives the white point. */
    double p[3][3];
    for (int c = 0; c < 3; c++) {
        double x = PRIMARIES[c][0], y = PRIMARIES[c][1];
        p[0][c] = x / y;
        p[1][c] = 1.0;
        p[2][c] = (1.0 - x - y) / y;
    }
    double pinv[3][3], s[3];
    mat_inv(p, pinv);
    mat_vec(pinv, D65, s);
    double rgb2xyz[3][3];
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < 3; c++)
            rgb2xyz[i][c] = p[i][c] * s[c];

    /* Bradford: XYZ(D65) → cone space, scale by D50/D65, back. */
    double bfd_inv[3][3], cs[3], cd[3];
    mat_inv(BFD, bfd_inv);
    mat_vec(BFD, D65, cs);
    mat_vec(BFD, D50, cd);
    double scale[3][3] = {{cd[0] / cs[0], 0, 0}, {0, cd[1] / cs[1], 0}, {0, 0, cd[2] / cs[2]}};
    double tmp[3][3], adapt[3][3], adapted[3][3];
    mat_mul(scale, BFD, tmp);
    mat_mul(bfd_inv, tmp, adapt);
    mat_mul(adapt, rgb2xyz, adapted);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 3; i++)
            xyz[c][i] = adapted[i][c];
}

static uint32_t s15f16(double v)
{
    return (uint32_t)(int32_t)lround(v * 65536.0);
}

/* The sRGB electro-optical transfer function, 0..1 → 0..1. */
static double srgb_eotf(double v)
{
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

static void put_xyz(pdf_buf *b, const double v[3])
{
    pdf_buf_put(b, "XYZ ", 4);
    pdf_buf_u32(b, 0);
    for (int i = 0; i < 3; i++)
        pdf_buf_u32(b, s15f16(v[i]));
}

/* textDescriptionType: ASCII part only; the Unicode and ScriptCode parts
 * are empty but must be present. */
static void put_desc(pdf_buf *b, const char *s)
{
    size_t n = strlen(s) + 1;
    pdf_buf_put(b, "desc", 4);
    pdf_buf_u32(b, 0);
    pdf_buf_u32(b, (uint32_t)n);
    pdf_buf_put(b, s, n);
    pdf_buf_u32(b, 0);   /* Unicode language */
    pdf_buf_u32(b, 0);   /* Unicode count */
    pdf_buf_u16(b, 0);   /* ScriptCode code */
    pdf_buf_u8(b, 0);    /* ScriptCode count */
    pdf_buf_zero(b, 67); /* ScriptCode string */
}

static void put_text(pdf_buf *b, const char *s)
{
    pdf_buf_put(b, "text", 4);
    pdf_buf_u32(b, 0);
    pdf_buf_put(b, s, strlen(s) + 1);
}

static void put_curve(pdf_buf *b)
{
    pdf_buf_put(b, "curv", 4);
    pdf_buf_u32(b, 0);
    pdf_buf_u32(b, TRC_POINTS);
    for (int i = 0; i < TRC_POINTS; i++) {
        double v = srgb_eotf((double)i / (TRC_POINTS - 1));
        pdf_buf_u16(b, (uint16_t)lround(v * 65535.0));
    }
}

enum { T_DESC, T_CPRT, T_WTPT, T_RXYZ, T_GXYZ, T_BXYZ, T_TRC, T_NDATA };

int icc_srgb_build(pdf_buf *out)
{
    double xyz[3][3];
    icc_srgb_colorants(xyz);

    /* Tag data, each element 4-aligned; the three TRC tags share one curve. */
    pdf_buf data[T_NDATA];
    memset(data, 0, sizeof data);
    put_desc(&data[T_DESC], ICC_SRGB_NAME);
    put_text(&data[T_CPRT], "No copyright, use freely");
    put_xyz(&data[T_WTPT], D50);
    put_xyz(&data[T_RXYZ], xyz[0]);
    put_xyz(&data[T_GXYZ], xyz[1]);
    put_xyz(&data[T_BXYZ], xyz[2]);
    put_curve(&data[T_TRC]);

    static const struct {
        const char *sig;
        int data;
    } tags[] = {{"desc", T_DESC}, {"cprt", T_CPRT}, {"wtpt", T_WTPT},
                {"rXYZ", T_RXYZ}, {"gXYZ", T_GXYZ}, {"bXYZ", T_BXYZ},
                {"rTRC", T_TRC},  {"gTRC", T_TRC},  {"bTRC", T_TRC}};
    const uint32_t ntags = sizeof tags / sizeof *tags;

    uint32_t offs[T_NDATA];
    uint32_t pos = 128 + 4 + 12 * ntags;
    bool oom = false;
    for (int i = 0; i < T_NDATA; i++) {
        oom |= data[i].oom;
        offs[i] = pos;
        pos += (uint32_t)((data[i].len + 3) & ~(size_t)3);
    }
    const uint32_t size = pos;

    /* Header. */
    pdf_buf_u32(out, size);
    pdf_buf_u32(out, 0);          /* preferred CMM: none */
    pdf_buf_u32(out, 0x02100000); /* version 2.1 */
    pdf_buf_put(out, "mntrRGB XYZ ", 12);
    /* Creation date: fixed (2024-01-01), so the output is reproducible. */
    const uint16_t date[6] = {2024, 1, 1, 0, 0, 0};
    for (int i = 0; i < 6; i++)
        pdf_buf_u16(out, date[i]);
    pdf_buf_put(out, "acsp", 4);
    pdf_buf_zero(out, 4 + 4 + 4 + 4); /* platform, flags, manufacturer, model */
    pdf_buf_zero(out, 8);             /* attributes */
    pdf_buf_u32(out, 0);              /* rendering intent: perceptual */
    for (int i = 0; i < 3; i++)
        pdf_buf_u32(out, s15f16(D50[i])); /* PCS illuminant */
    pdf_buf_zero(out, 4);                 /* creator */
    pdf_buf_zero(out, 44);                /* profile ID (v4 only) + reserved */

    /* Tag table. */
    pdf_buf_u32(out, ntags);
    for (uint32_t i = 0; i < ntags; i++) {
        pdf_buf_put(out, tags[i].sig, 4);
        pdf_buf_u32(out, offs[tags[i].data]);
        pdf_buf_u32(out, (uint32_t)data[tags[i].data].len);
    }
    for (int i = 0; i < T_NDATA; i++) {
        pdf_buf_put(out, data[i].data, data[i].len);
        pdf_buf_zero(out, ((data[i].len + 3) & ~(size_t)3) - data[i].len);
        pdf_buf_free(&data[i]);
    }
    return oom || out->oom ? -1 : 0;
}
