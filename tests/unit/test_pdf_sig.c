/* test_pdf_sig.c — the PDF side of PAdES signing, checked by independent
 * tools (qpdf, pdfsig, pdftotext, pdffonts, pdfimages).
 *
 * Input PDFs are written here by hand (classic xref table, inherited
 * MediaBox, optional /Rotate, CropBox, AcroForm with a text field and an
 * indirect /Annots array) or converted by qpdf to an xref stream. Real
 * signatures for pdfsig are made with OpenSSL's CMS_sign and a throwaway
 * key and certificate generated in the test.
 */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/support/testutil.h"
#include <leptonica/allheaders.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "ocr/pdf.h"
#include "signer/pdf_sig.h"
#include "signer/sigfont.h"

#define MM (72.0 / 25.4)
#define LINE_ORG "Ký bởi: Ủy ban nhân dân tỉnh Quảng Ngãi"
#define LINE_TIME "Thời gian ký: 07/02/2025 14:59:55 +07:00"

static char tmpdir[64];
static EVP_PKEY *key;
static X509 *cert;
static time_t sign_time; /* 2025-02-07 14:59:55 +07:00 */

/* ---- helpers ------------------------------------------------------------ */

/* Runs a shell command (stderr merged); returns its exit status and, if
 * out is not NULL, its output (malloc'd). */
/* Command runs and file reads go through tests/unit/support/testutil.h;
 * a failure to read is a test failure. */
#define run tu_run
static char *slurp(const char *path, size_t *len)
{
    char *b = tu_slurp(path, len);
    assert_non_null(b);
    return b;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static const char *tmp(const char *name)
{
    static char paths[8][256];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* Options of the hand-written input PDF. */
typedef struct mkopts {
    int rotate;          /* /Rotate on the page */
    int cropbox;         /* a CropBox smaller than the MediaBox */
    int acroform;        /* an indirect AcroForm with a text field named Signature1 */
    int annots_indirect; /* the page's /Annots is an indirect array */
    int with_id;         /* trailer /ID */
} mkopts;

/* Writes a one-page A4 PDF with a classic xref table. The MediaBox is on
 * the Pages node (inherited). Header text at the top left. */
static void make_pdf(const char *path, const mkopts *o)
{
    char buf[8192];
    long off[12] = {0};
    int n = 0, nobj = 9;
    n += snprintf(buf + n, sizeof buf - n, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n");
    off[1] = n;
    n += snprintf(buf + n, sizeof buf - n, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R%s >>\nendobj\n",
                  o->acroform ? " /AcroForm 6 0 R" : "");
    off[2] = n;
    n += snprintf(buf + n, sizeof buf - n,
                  "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>\n"
                  "endobj\n");
    off[3] = n;
    char extra[200] = "";
    if (o->rotate)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " /Rotate %d", o->rotate);
    if (o->cropbox)
        strcat(extra, " /CropBox [20 30 575 812]");
    if (o->annots_indirect)
        strcat(extra, " /Annots 7 0 R");
    else if (o->acroform)
        strcat(extra, " /Annots [8 0 R]");
    n += snprintf(buf + n, sizeof buf - n,
                  "3 0 obj\n<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> "
                  "/Contents 5 0 R%s >>\nendobj\n",
                  extra);
    off[4] = n;
    n += snprintf(buf + n, sizeof buf - n,
                  "4 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
    const char *content = "BT /F1 12 Tf 72 760 Td (UBND TINH QUANG NGAI) Tj ET\n"
                          "BT /F1 12 Tf 72 400 Td (Body text of the letter) Tj ET\n";
    off[5] = n;
    n += snprintf(buf + n, sizeof buf - n,
                  "5 0 obj\n<< /Length %zu >>\nstream\n%sendstream\nendobj\n", strlen(content),
                  content);
    off[6] = n;
    n += snprintf(buf + n, sizeof buf - n,
                  "6 0 obj\n<< /Fields [8 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 4 0 R "
                  ">> >> >>\nendobj\n");
    off[7] = n;
    n += snprintf(buf + n, sizeof buf - n, "7 0 obj\n[8 0 R]\nendobj\n");
    off[8] = n;
    n += snprintf(buf + n, sizeof buf - n,
                  "8 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Tx /T (Signature1) /V (abc) "
                  "/Rect [50 50 150 70] /P 3 0 R /F 4 >>\nendobj\n");
    off[9] = n;
    n += snprintf(buf + n, sizeof buf - n, "9 0 obj\n<< /Producer (test) >>\nendobj\n");
    long xref = n;
    n += snprintf(buf + n, sizeof buf - n, "xref\n0 %d\n0000000000 65535 f\r\n", nobj + 1);
    for (int i = 1; i <= nobj; i++)
        n += snprintf(buf + n, sizeof buf - n, "%010ld 00000 n\r\n", off[i]);
    n += snprintf(buf + n, sizeof buf - n,
                  "trailer\n<< /Size %d /Root 1 0 R /Info 9 0 R%s >>\n"
                  "startxref\n%ld\n%%%%EOF\n",
                  nobj + 1,
                  o->with_id ? " /ID [<00112233445566778899aabbccddeeff> "
                               "<00112233445566778899aabbccddeeff>]"
                             : "",
                  xref);
    spit(path, buf, (size_t)n);
}

static pdf_sig_request visible_req(void)
{
    static const char *lines[] = {LINE_ORG, LINE_TIME};
    pdf_sig_request r = {.signing_time = sign_time, .visible = 1, .lines = lines, .n_lines = 2};
    return r;
}

/* Prepares `out` from `in`; returns pdf_sig_prepare's result. */
static int prepare(const char *in, const char *out, const pdf_sig_request *req,
                   pdf_sig_prepared *prep, sohoa_err *err)
{
    int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    int rc = pdf_sig_prepare(in, fd, req, prep, err);
    close(fd);
    return rc;
}

/* CMS over the byte ranges (detached, binary) with the test key, filled in. */
static void cms_fill(const char *path, const pdf_sig_prepared *prep)
{
    size_t len;
    char *data = slurp(path, &len);
    const long long *br = prep->byte_range;
    BIO *in = BIO_new(BIO_s_mem());
    BIO_write(in, data, (int)br[1]);
    BIO_write(in, data + br[2], (int)br[3]);
    CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in, CMS_DETACHED | CMS_BINARY);
    assert_non_null(cms);
    unsigned char *der = NULL;
    int der_len = i2d_CMS_ContentInfo(cms, &der);
    assert_true(der_len > 0);
    sohoa_err err = {0};
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pdf_sig_fill(fd, prep, der, (size_t)der_len, &err), 0);
    close(fd);
    OPENSSL_free(der);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    free(data);
}

/* Prepares and signs for real. */
static void sign_file(const char *in, const char *out, const pdf_sig_request *req,
                      pdf_sig_prepared *prep)
{
    sohoa_err err = {0};
    int rc = prepare(in, out, req, prep, &err);
    if (rc != 0)
        fail_msg("prepare %s: %s", in, err.msg);
    cms_fill(out, prep);
}

/* Is `needle` in the n bytes at `hay`? The update holds binary streams
 * (font program), so strstr() would stop at their first NUL. */
static int has(const char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* The original file is a byte-for-byte prefix of the signed one. */
static void assert_prefix(const char *orig, const char *signed_path)
{
    size_t a, b;
    char *x = slurp(orig, &a), *y = slurp(signed_path, &b);
    assert_true(b > a);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
}

static void assert_qpdf_ok(const char *path)
{
    char *out;
    int rc = run(&out, "qpdf --check '%s'", path);
    if (rc != 0)
        fail_msg("qpdf --check %s: exit %d\n%s", path, rc, out);
    assert_non_null(strstr(out, "No syntax or stream encoding errors"));
    free(out);
}

/* Parses the numbers after the last "/Rect [" in the file. */
static pdf_rect written_rect(const char *path)
{
    char *d = slurp(path, NULL);
    char *p = NULL, *q = d;
    while ((q = strstr(q, "/Rect [")))
        p = q++;
    assert_non_null(p);
    pdf_rect r;
    p += 7;
    r.x0 = strtod(p, &p);
    r.y0 = strtod(p, &p);
    r.x1 = strtod(p, &p);
    r.y1 = strtod(p, &p);
    free(d);
    return r;
}

/* ---- setup ------------------------------------------------------------ */

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/pdfsig-XXXXXX", base);
    if (!mkdtemp(tmpdir))
        return -1;
    struct tm tm = {
        .tm_year = 125, .tm_mon = 1, .tm_mday = 7, .tm_hour = 7, .tm_min = 59, .tm_sec = 55};
    sign_time = timegm(&tm);

    key = EVP_RSA_gen(2048);
    cert = X509_new();
    if (!key || !cert)
        return -1;
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"Test ORG sohoa",
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    if (!X509_sign(cert, key, EVP_sha256()))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    EVP_PKEY_free(key);
    X509_free(cert);
    char cmd[128];
    if (getenv("PDF_SIG_KEEP_TMP")) { /* for debugging a failure */
        fprintf(stderr, "kept %s\n", tmpdir);
        return 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------ */

static void test_format_time(void **state)
{
    char buf[32];
    pdf_sig_format_time(sign_time, buf, sizeof buf);
    assert_string_equal(buf, "07/02/2025 14:59:55 +07:00");
    /* Whatever the local zone says. */
    setenv("TZ", "America/New_York", 1);
    tzset();
    pdf_sig_format_time(sign_time, buf, sizeof buf);
    unsetenv("TZ");
    tzset();
    assert_string_equal(buf, "07/02/2025 14:59:55 +07:00");
}

/* Classic xref table: prefix kept, a table appended, ranges exactly around
 * the placeholder, qpdf happy, /M in Vietnam time. */
static void test_table_update(void **state)
{
    mkopts o = {.with_id = 1};
    make_pdf(tmp("t.pdf"), &o);
    pdf_sig_request req = visible_req();
    req.reason = "Số hóa văn bản đến";
    req.location = "Quang Ngai";
    req.contents_reserve = 8192;
    pdf_sig_prepared prep;
    sohoa_err err = {0};
    assert_int_equal(prepare(tmp("t.pdf"), tmp("t-sig.pdf"), &req, &prep, &err), 0);
    assert_prefix(tmp("t.pdf"), tmp("t-sig.pdf"));
    assert_qpdf_ok(tmp("t-sig.pdf"));

    size_t orig_len, len;
    free(slurp(tmp("t.pdf"), &orig_len));
    char *d = slurp(tmp("t-sig.pdf"), &len);
    assert_int_equal(prep.file_size, (long long)len);
    const long long *br = prep.byte_range;
    assert_int_equal(br[0], 0);
    assert_true(br[1] > (long long)orig_len);
    assert_int_equal(d[br[1]], '<');
    assert_int_equal(d[br[2] - 1], '>');
    assert_int_equal(br[2] + br[3], (long long)len);
    assert_int_equal(br[2] - br[1], 2 * 8192 + 2);
    assert_int_equal(prep.contents_offset, br[1] + 1);
    assert_int_equal(prep.contents_hex_len, 2 * 8192);
    for (long long i = br[1] + 1; i < br[2] - 1; i++)
        if (d[i] != '0')
            fail_msg("placeholder byte %lld is '%c'", i, d[i]);
    /* The written /ByteRange is the one reported. */
    char want[128];
    snprintf(want, sizeof want, "/ByteRange [0 %lld %lld %lld]", br[1], br[2], br[3]);
    assert_true(has(d + orig_len, len - orig_len, want));

    const char *upd = d + orig_len;
    size_t ulen = len - orig_len;
    assert_true(has(upd, ulen, "\nxref\n"));
    assert_false(has(upd, ulen, "/Type /XRef"));
    assert_true(has(upd, ulen, "/SubFilter /ETSI.CAdES.detached"));
    assert_true(has(upd, ulen, "/Filter /Adobe.PPKLite"));
    assert_true(has(upd, ulen, "/M (D:20250207145955+07'00')"));
    assert_true(has(upd, ulen, "/SigFlags 3"));
    assert_true(has(upd, ulen, "/F 132"));
    assert_true(has(upd, ulen, "/Location (Quang Ngai)"));
    /* "Số hóa" as UTF-16BE with a byte order mark. */
    assert_true(has(upd, ulen, "/Reason <FEFF00531ED1"));
    /* The permanent /ID is kept, the second one changes. */
    assert_true(has(upd, ulen, "/ID [<00112233445566778899aabbccddeeff> <"));
    assert_false(has(upd, ulen,
                     "/ID [<00112233445566778899aabbccddeeff> "
                     "<00112233445566778899aabbccddeeff>]"));
    /* /Prev is the original startxref. */
    char *sx = strstr(d, "startxref\n");
    assert_non_null(sx);
    snprintf(want, sizeof want, "/Prev %ld", strtol(sx + 10, NULL, 10));
    assert_true(has(upd, ulen, want));
    free(d);
}

/* The digest covers exactly the two ranges. */
static void test_hash_ranges(void **state)
{
    mkopts o = {0};
    make_pdf(tmp("h.pdf"), &o);
    pdf_sig_request req = {.signing_time = sign_time};
    pdf_sig_prepared prep;
    sohoa_err err = {0};
    assert_int_equal(prepare(tmp("h.pdf"), tmp("h-sig.pdf"), &req, &prep, &err), 0);
    assert_qpdf_ok(tmp("h-sig.pdf")); /* invisible: /Rect [0 0 0 0] */
    pdf_rect w = written_rect(tmp("h-sig.pdf"));
    assert_true(w.x0 == 0 && w.y0 == 0 && w.x1 == 0 && w.y1 == 0);
    size_t len;
    char *d = slurp(tmp("h-sig.pdf"), &len);
    unsigned char want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
    unsigned wl, gl;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, d, (size_t)prep.byte_range[1]);
    EVP_DigestUpdate(ctx, d + prep.byte_range[2], (size_t)prep.byte_range[3]);
    EVP_DigestFinal_ex(ctx, want, &wl);
    EVP_MD_CTX_free(ctx);
    int fd = open(tmp("h-sig.pdf"), O_RDONLY);
    assert_int_equal(pdf_sig_hash_ranges(fd, prep.byte_range, EVP_sha256(), got, &gl, &err), 0);
    assert_int_equal(gl, 32);
    assert_memory_equal(got, want, 32);
    /* A range past the end is refused. */
    long long bad[4] = {0, prep.byte_range[1], prep.byte_range[2], prep.byte_range[3] + 1};
    assert_int_equal(pdf_sig_hash_ranges(fd, bad, EVP_sha256(), got, &gl, &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    long long huge[4] = {0, 10, 0x7fffffffffffff00LL, 0x7fffffffffffff00LL};
    err = (sohoa_err){0};
    assert_int_equal(pdf_sig_hash_ranges(fd, huge, EVP_sha256(), got, &gl, &err), -1);
    close(fd);
    free(d);
}

/* fill() writes the DER as hex, keeps zero padding, refuses more than the
 * reserve. */
static void test_fill(void **state)
{
    mkopts o = {0};
    make_pdf(tmp("f.pdf"), &o);
    pdf_sig_request req = {.signing_time = sign_time, .contents_reserve = 100};
    pdf_sig_prepared prep;
    sohoa_err err = {0};
    assert_int_equal(prepare(tmp("f.pdf"), tmp("f-sig.pdf"), &req, &prep, &err), 0);
    unsigned char der[101];
    der[0] = 0x30;
    der[1] = 0x62; /* 98 bytes of content: 100 in all */
    for (int i = 2; i < 101; i++)
        der[i] = (unsigned char)(0xA0 + i);
    int fd = open(tmp("f-sig.pdf"), O_RDWR);
    assert_int_equal(pdf_sig_fill(fd, &prep, der, 101, &err), -1);
    assert_int_equal(err.status, SOHOA_EWORK);
    assert_non_null(strstr(err.msg, "101"));
    assert_non_null(strstr(err.msg, "100"));
    err = (sohoa_err){0};
    assert_int_equal(pdf_sig_fill(fd, &prep, der, 50, &err), 0);
    close(fd);
    char *d = slurp(tmp("f-sig.pdf"), NULL);
    assert_memory_equal(d + prep.contents_offset, "3062a2a3a4", 10);
    assert_int_equal(d[prep.contents_offset + 100], '0'); /* padding after 50 bytes */
    assert_int_equal(d[prep.contents_offset + 199], '0');
    assert_int_equal(d[prep.contents_offset + 200], '>');
    free(d);
    /* Listing cuts the padding by the DER length (a 50-byte prefix of a
     * 100-byte element does not parse: the whole string comes back). */
    fd = open(tmp("f-sig.pdf"), O_RDWR);
    assert_int_equal(pdf_sig_fill(fd, &prep, der, 100, &err), 0);
    close(fd);
    pdf_sig_info *sigs;
    int n;
    assert_int_equal(pdf_sig_list(tmp("f-sig.pdf"), &sigs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sigs[0].contents_len, 100);
    assert_memory_equal(sigs[0].contents, der, 100);
    assert_true(sigs[0].byte_range_valid);
    assert_true(sigs[0].covers_whole_file);
    pdf_sig_list_free(sigs, n);
}

/* An xref-stream input gets an xref stream update; pdfsig validates a real
 * CMS over it. */
static void test_xref_stream_pdfsig(void **state)
{
    mkopts o = {.with_id = 1};
    make_pdf(tmp("s0.pdf"), &o);
    char *out;
    int rc = run(&out, "qpdf --object-streams=generate '%s' '%s'", tmp("s0.pdf"), tmp("s.pdf"));
    if (rc != 0)
        fail_msg("qpdf: %s", out);
    free(out);
    char *orig = slurp(tmp("s.pdf"), NULL);
    assert_non_null(strstr(orig, "/ObjStm"));
    free(orig);

    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sign_file(tmp("s.pdf"), tmp("s-sig.pdf"), &req, &prep);
    assert_prefix(tmp("s.pdf"), tmp("s-sig.pdf"));
    assert_qpdf_ok(tmp("s-sig.pdf"));
    size_t olen;
    free(slurp(tmp("s.pdf"), &olen));
    size_t len;
    char *d = slurp(tmp("s-sig.pdf"), &len);
    assert_true(has(d + olen, len - olen, "/Type /XRef"));
    assert_true(has(d + olen, len - olen, "/W [1 4 2]"));
    assert_false(has(d + olen, len - olen, "\nxref\n"));
    free(d);

    run(&out, "pdfsig '%s'", tmp("s-sig.pdf"));
    if (!strstr(out, "Signature is Valid.") || !strstr(out, "Total document signed"))
        fail_msg("pdfsig:\n%s", out);
    assert_non_null(strstr(out, "ETSI.CAdES.detached"));
    free(out);
}

/* Signing a signed file: both signatures listed and valid, the first
 * covering its revision only. */
static void test_two_signatures(void **state)
{
    mkopts o = {0};
    make_pdf(tmp("d.pdf"), &o);
    pdf_sig_request req = visible_req();
    pdf_sig_prepared p1, p2;
    sign_file(tmp("d.pdf"), tmp("d1.pdf"), &req, &p1);
    req.signing_time = sign_time + 3187; /* 15:53:02 */
    sign_file(tmp("d1.pdf"), tmp("d2.pdf"), &req, &p2);
    assert_prefix(tmp("d1.pdf"), tmp("d2.pdf"));
    assert_qpdf_ok(tmp("d2.pdf"));
    assert_string_equal(p1.field_name, "Signature1");
    assert_string_equal(p2.field_name, "Signature2");

    pdf_sig_info *sigs;
    int n;
    sohoa_err err = {0};
    assert_int_equal(pdf_sig_list(tmp("d2.pdf"), &sigs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(sigs[0].field_name, "Signature1");
    assert_string_equal(sigs[1].field_name, "Signature2");
    assert_true(sigs[0].byte_range_valid);
    assert_false(sigs[0].covers_whole_file);
    assert_true(sigs[1].byte_range_valid);
    assert_true(sigs[1].covers_whole_file);
    assert_memory_equal(sigs[0].byte_range, p1.byte_range, sizeof p1.byte_range);
    assert_memory_equal(sigs[1].byte_range, p2.byte_range, sizeof p2.byte_range);
    assert_string_equal(sigs[0].subfilter, "ETSI.CAdES.detached");
    assert_string_equal(sigs[0].m, "D:20250207145955+07'00'");
    assert_int_equal(sigs[0].m_time, sign_time);
    assert_int_equal(sigs[1].m_time, sign_time + 3187);
    /* The DER comes back without the zero padding and parses as CMS. */
    const unsigned char *p = sigs[1].contents;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)sigs[1].contents_len);
    assert_non_null(cms);
    assert_ptr_equal(p, sigs[1].contents + sigs[1].contents_len);
    CMS_ContentInfo_free(cms);
    pdf_sig_list_free(sigs, n);

    char *out;
    run(&out, "pdfsig '%s'", tmp("d2.pdf"));
    char *s2 = strstr(out, "Signature #2");
    if (!s2)
        fail_msg("pdfsig:\n%s", out);
    *s2 = '\0';
    /* #1: valid, covers its revision only; #2: valid, whole document. */
    if (!strstr(out, "Signature is Valid.") || !strstr(out, "Not total document signed"))
        fail_msg("pdfsig signature 1:\n%s", out);
    if (!strstr(s2 + 1, "Signature is Valid.") || !strstr(s2 + 1, "Total document signed") ||
        strstr(s2 + 1, "Not total"))
        fail_msg("pdfsig signature 2:\n%s", s2 + 1);
    free(out);
}

/* pdftotext reads the Vietnamese lines back exactly; pdffonts shows the
 * embedded subset. */
static void test_text_and_font(void **state)
{
    mkopts o = {0};
    make_pdf(tmp("v.pdf"), &o);
    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sign_file(tmp("v.pdf"), tmp("v-sig.pdf"), &req, &prep);
    char *out;
    assert_int_equal(run(&out, "pdftotext -f 1 -l 1 -enc UTF-8 '%s' -", tmp("v-sig.pdf")), 0);
    int found_org = 0, found_time = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == ' ' || line[l - 1] == '\f'))
            line[--l] = '\0';
        found_org |= strcmp(line, LINE_ORG) == 0;
        found_time |= strcmp(line, LINE_TIME) == 0;
    }
    free(out);
    if (!found_org || !found_time) {
        run(&out, "pdftotext -f 1 -l 1 '%s' -", tmp("v-sig.pdf"));
        fail_msg("pdftotext did not give the lines back:\n%s", out);
    }

    assert_int_equal(run(&out, "pdffonts '%s'", tmp("v-sig.pdf")), 0);
    /* name type encoding emb sub uni */
    char *l = strstr(out, "+LiberationSerif");
    if (!l)
        fail_msg("pdffonts:\n%s", out);
    assert_true(l - out >= 6 && l[-7] == '\n');
    for (int i = 1; i <= 6; i++)
        assert_true(l[-i] >= 'A' && l[-i] <= 'Z');
    char *eol = strchr(l, '\n');
    *eol = '\0';
    assert_non_null(strstr(l, "CID TrueType"));
    assert_non_null(strstr(l, "Identity-H"));
    assert_non_null(strstr(l, "yes yes yes"));
    free(out);
}

/* Default placement: top right of page 1, 8 mm from the top, 10 mm from the
 * right; an area to avoid moves it, still in the top-right quarter. */
static void test_placement(void **state)
{
    mkopts o = {0};
    make_pdf(tmp("p.pdf"), &o);
    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sohoa_err err = {0};
    assert_int_equal(prepare(tmp("p.pdf"), tmp("p-sig.pdf"), &req, &prep, &err), 0);
    pdf_rect r = prep.rect;
    assert_true(fabs(r.x1 - (595 - 10 * MM)) < 0.01);
    assert_true(fabs(r.y1 - (842 - 8 * MM)) < 0.01);
    assert_true(r.x0 > 595 / 2.0 && r.y0 > 842 / 2.0);
    assert_true(r.x1 - r.x0 > 150 && r.x1 - r.x0 < 260); /* sized to the text at 10 pt */
    assert_true(r.y1 - r.y0 > 20 && r.y1 - r.y0 < 40);
    assert_true(prep.rect_clear);
    pdf_rect w = written_rect(tmp("p-sig.pdf"));
    assert_true(fabs(w.x0 - r.x0) < 0.01 && fabs(w.y1 - r.y1) < 0.01);

    /* A header block over the default spot and the band to its left. */
    pdf_rect avoid[2] = {{350, 790, 590, 842}, {300, 700, 360, 842}};
    req.avoid = avoid;
    req.n_avoid = 2;
    pdf_sig_prepared p2;
    assert_int_equal(prepare(tmp("p.pdf"), tmp("p2-sig.pdf"), &req, &p2, &err), 0);
    pdf_rect m = p2.rect;
    assert_true(p2.rect_clear);
    for (int i = 0; i < 2; i++)
        assert_false(m.x0 < avoid[i].x1 && avoid[i].x0 < m.x1 && m.y0 < avoid[i].y1 &&
                     avoid[i].y0 < m.y1);
    assert_true(m.x0 >= 595 / 2.0 && m.y0 >= 842 / 2.0);
    /* Nearest free place: straight down, just below the first block, right
     * edge unchanged (the second block is left of the box). */
    assert_true(fabs(m.x1 - r.x1) < 0.01);
    assert_true(fabs(m.y1 - 788) < 0.01);
    w = written_rect(tmp("p2-sig.pdf"));
    assert_true(fabs(w.y1 - m.y1) < 0.01);
    assert_qpdf_ok(tmp("p2-sig.pdf"));

    /* Nothing free in the quarter: the default stays, reported. */
    pdf_rect all = {0, 0, 595, 842};
    req.avoid = &all;
    req.n_avoid = 1;
    assert_int_equal(prepare(tmp("p.pdf"), tmp("p3-sig.pdf"), &req, &p2, &err), 0);
    assert_false(p2.rect_clear);
    assert_true(fabs(p2.rect.y1 - r.y1) < 0.01 && fabs(p2.rect.x1 - r.x1) < 0.01);
}

/* /Rotate 90 with a CropBox: the box is at the visible top right, the text
 * reads upright. */
static void test_rotate(void **state)
{
    mkopts o = {.rotate = 90, .cropbox = 1};
    make_pdf(tmp("r.pdf"), &o);
    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sign_file(tmp("r.pdf"), tmp("r-sig.pdf"), &req, &prep);
    assert_qpdf_ok(tmp("r-sig.pdf"));
    /* CropBox [20 30 575 812] turned clockwise: the visible top is the
     * user-space left edge x = 20, the visible right is the top y = 812. */
    pdf_rect r = prep.rect;
    assert_true(fabs(r.x0 - (20 + 8 * MM)) < 0.01);
    assert_true(fabs(r.y1 - (812 - 10 * MM)) < 0.01);
    /* Turned: tall and narrow in user space. */
    assert_true(r.y1 - r.y0 > r.x1 - r.x0);
    char *d = slurp(tmp("r-sig.pdf"), NULL);
    assert_non_null(strstr(d, "/Matrix [0 1 -1 0 0 0]"));
    free(d);
    char *out;
    assert_int_equal(run(&out, "pdftotext -f 1 -l 1 '%s' -", tmp("r-sig.pdf")), 0);
    if (!strstr(out, LINE_ORG) || !strstr(out, LINE_TIME))
        fail_msg("pdftotext:\n%s", out);
    free(out);
    /* Upright as displayed: pdftotext -bbox gives word boxes in display
     * coordinates (the turned MediaBox, 842 wide, y down): the word is
     * wider than tall, in the top-right quarter. */
    assert_int_equal(run(&out, "pdftotext -bbox -f 1 -l 1 '%s' -", tmp("r-sig.pdf")), 0);
    char *wd = strstr(out, ">Quảng<");
    assert_non_null(wd);
    char *xm = wd;
    while (xm > out && strncmp(xm, "xMin=\"", 6) != 0)
        xm--;
    double box[4]; /* xMin yMin xMax yMax */
    char *p = xm;
    for (int i = 0; i < 4; i++) {
        p = strchr(p, '"') + 1;
        box[i] = strtod(p, &p);
        p++; /* closing quote */
    }
    assert_true(box[2] - box[0] > 1.5 * (box[3] - box[1]));
    assert_true(box[0] > 842 / 2.0 && box[2] < 812);
    assert_true(box[1] > 0 && box[3] < 595 / 2.0);
    free(out);
}

/* An existing AcroForm (indirect, with /DA and /DR and a text field named
 * Signature1) and an indirect /Annots array. */
static void test_existing_form(void **state)
{
    mkopts o = {.acroform = 1, .annots_indirect = 1};
    make_pdf(tmp("a.pdf"), &o);
    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sign_file(tmp("a.pdf"), tmp("a-sig.pdf"), &req, &prep);
    assert_qpdf_ok(tmp("a-sig.pdf"));
    assert_string_equal(prep.field_name, "Signature2");
    size_t olen;
    free(slurp(tmp("a.pdf"), &olen));
    size_t len;
    char *d = slurp(tmp("a-sig.pdf"), &len);
    const char *upd = d + olen;
    size_t ulen = len - olen;
    /* The array object is rewritten, not the page; the form keeps its
     * field and resources. */
    char want[64];
    snprintf(want, sizeof want, "7 0 obj\n[8 0 R %d 0 R]", prep.sig_obj + 1);
    assert_true(has(upd, ulen, want));
    assert_false(has(upd, ulen, "\n3 0 obj"));
    snprintf(want, sizeof want, "/Fields [8 0 R %d 0 R]", prep.sig_obj + 1);
    assert_true(has(upd, ulen, want));
    assert_true(has(upd, ulen, "/DA (/Helv 0 Tf 0 g)"));
    assert_true(has(upd, ulen, "/DR << /Font << /Helv 4 0 R >> >>"));
    free(d);

    char *out;
    run(&out, "pdfsig '%s'", tmp("a-sig.pdf"));
    if (!strstr(out, "Signature is Valid.") || !strstr(out, "Total document signed"))
        fail_msg("pdfsig:\n%s", out);
    free(out);
    pdf_sig_info *sigs;
    int n;
    sohoa_err err = {0};
    assert_int_equal(pdf_sig_list(tmp("a-sig.pdf"), &sigs, &n, &err), 0);
    assert_int_equal(n, 1); /* the text field is no signature */
    assert_string_equal(sigs[0].field_name, "Signature2");
    pdf_sig_list_free(sigs, n);
    /* The widget is on page 1: qpdf lists it among the page's annotations. */
    assert_int_equal(run(&out, "qpdf --show-object=7 '%s'", tmp("a-sig.pdf")), 0);
    snprintf(want, sizeof want, "%d 0 R", prep.sig_obj + 1);
    assert_non_null(strstr(out, want));
    free(out);

    /* A name already in use is refused. */
    req.field_name = "Signature1";
    assert_int_equal(prepare(tmp("a.pdf"), tmp("a2-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "already used"));
}

/* A seal with transparency becomes an RGB image with a soft mask. */
static void test_seal(void **state)
{
    PIX *pix = pixCreate(120, 120, 32);
    pixSetSpp(pix, 4);
    for (int y = 0; y < 120; y++)
        for (int x = 0; x < 120; x++) {
            int in = (x - 60) * (x - 60) + (y - 60) * (y - 60) < 55 * 55;
            pixSetPixel(pix, x, y, in ? 0xD0101000u | 0xFF : 0xFFFFFF00u);
        }
    pixSetResolution(pix, 300, 300);
    assert_int_equal(pixWrite(tmp("seal.png"), pix, IFF_PNG), 0);
    pixDestroy(&pix);

    mkopts o = {0};
    make_pdf(tmp("e.pdf"), &o);
    pdf_sig_request req = visible_req();
    req.seal_png = tmp("seal.png");
    pdf_sig_prepared prep;
    sign_file(tmp("e.pdf"), tmp("e-sig.pdf"), &req, &prep);
    assert_qpdf_ok(tmp("e-sig.pdf"));
    char *out;
    assert_int_equal(run(&out, "pdfimages -list '%s'", tmp("e-sig.pdf")), 0);
    /* page num type width height color comp bpc ... */
    assert_non_null(strstr(out, "image     120   120  rgb     3   8"));
    assert_non_null(strstr(out, "smask     120   120  gray    1   8"));
    free(out);
    /* 120 px at 300 dpi = 28.8 pt: taller than the two text lines. */
    assert_true(fabs((prep.rect.y1 - prep.rect.y0) - (28.8 + 4)) < 0.01);

    /* An unreadable seal is an input error naming the file. */
    sohoa_err err = {0};
    req.seal_png = tmp("no-such-seal.png");
    assert_int_equal(prepare(tmp("e.pdf"), tmp("e2-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "no-such-seal.png"));
}

/* Inputs that are not PDFs, truncated or damaged; text the font lacks. */
static void test_bad_input(void **state)
{
    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sohoa_err err = {0};
    const char *text = "This is not a PDF at all, just some text in a file.\n";
    spit(tmp("x.pdf"), text, strlen(text));
    assert_int_equal(prepare(tmp("x.pdf"), tmp("x-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "not a PDF"));
    assert_non_null(strstr(err.msg, "x.pdf"));

    mkopts o = {0};
    make_pdf(tmp("g.pdf"), &o);
    size_t len;
    char *d = slurp(tmp("g.pdf"), &len);
    spit(tmp("trunc.pdf"), d, len * 2 / 3);
    err = (sohoa_err){0};
    assert_int_equal(prepare(tmp("trunc.pdf"), tmp("trunc-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "truncated"));

    /* startxref pointing into the middle of an object. */
    char *sx = strstr(d, "startxref\n");
    size_t head = (size_t)(sx - d);
    char buf[8192];
    int n = snprintf(buf, sizeof buf, "%.*sstartxref\n20\n%%%%EOF\n", (int)head, d);
    spit(tmp("bad.pdf"), buf, (size_t)n);
    err = (sohoa_err){0};
    assert_int_equal(prepare(tmp("bad.pdf"), tmp("bad-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "damaged"));
    free(d);

    err = (sohoa_err){0};
    assert_int_equal(prepare(tmp("missing.pdf"), tmp("m-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);

    err = (sohoa_err){0};
    pdf_sig_info *sigs;
    int ns;
    assert_int_equal(pdf_sig_list(tmp("x.pdf"), &sigs, &ns, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);

    /* A character Liberation Serif does not have. */
    const char *lines[] = {"Ký bởi: 中文"};
    req.lines = lines;
    req.n_lines = 1;
    err = (sohoa_err){0};
    assert_int_equal(prepare(tmp("g.pdf"), tmp("g-sig.pdf"), &req, &prep, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "U+4E2D"));
}

/* The font module alone: NFD input draws the NFC glyphs; widths scale. */
static void test_sigfont(void **state)
{
    sohoa_err err = {0};
    sigfont *f = sigfont_open(NULL, &err);
    assert_non_null(f);
    pdf_buf a = {0}, b = {0};
    double wa, wb;
    assert_int_equal(sigfont_encode(f, "Thời", &a, &wa, &err), 0);
    /* o + combining horn + combining grave = ờ */
    assert_int_equal(sigfont_encode(f, "Tho\xcc\x9b\xcc\x80i", &b, &wb, &err), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(a.len, 2 + 4 * 4); /* <TTTThhhhờờờờiiii> */
    assert_true(wa > 1000 && wa < 2500);
    assert_true(sigfont_ascent(f) > 800 && sigfont_descent(f) < -150);
    pdf_buf objs[SIGFONT_NOBJS];
    assert_int_equal(sigfont_build_objects(f, 10, objs, &err), 0);
    assert_non_null(strstr((char *)objs[0].data, "/DescendantFonts [11 0 R] /ToUnicode 14 0 R"));
    assert_non_null(strstr(sigfont_subset_name(f), "+LiberationSerif"));
    for (int i = 0; i < SIGFONT_NOBJS; i++)
        pdf_buf_free(&objs[i]);
    pdf_buf_free(&a);
    pdf_buf_free(&b);
    pdf_buf c = {0};
    assert_int_equal(sigfont_encode(f, "a\tb", &c, &wa, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    pdf_buf_free(&c);
    sigfont_free(f);

    err = (sohoa_err){0};
    assert_null(sigfont_open(tmp("nofont.ttf"), &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
}

/* The station's own output (the PDF/A writer of ocr/pdf.c) signs cleanly
 * and stays PDF/A-identified. */
static void test_product_pdfa(void **state)
{
    int w = 827, h = 1169; /* A4 at 100 dpi */
    size_t raw_len = (size_t)w * (size_t)h;
    uint8_t *raw = malloc(raw_len);
    memset(raw, 0xF0, raw_len);
    uLongf zlen = compressBound(raw_len);
    pdf_image im = {.filter = PDF_FILTER_FLATE,
                    .width = w,
                    .height = h,
                    .bpc = 8,
                    .ncomp = 1,
                    .data = malloc(zlen)};
    assert_int_equal(compress(im.data, &zlen, raw, raw_len), Z_OK);
    im.len = zlen;
    free(raw);
    FILE *f = fopen(tmp("ocr.pdf"), "wb");
    assert_non_null(f);
    sohoa_err err = {0};
    pdf_writer *wr = pdf_writer_new(f, &err);
    assert_non_null(wr);
    pdf_page pg = {.width_px = w, .height_px = h, .dpi = 100, .layers = &im, .nlayers = 1};
    assert_int_equal(pdf_writer_add_page(wr, &pg, &err), 0);
    assert_int_equal(pdf_writer_finish(wr, NULL, 1719822000LL, &err), 0);
    fclose(f);
    free(im.data);

    pdf_sig_request req = visible_req();
    pdf_sig_prepared prep;
    sign_file(tmp("ocr.pdf"), tmp("ocr-sig.pdf"), &req, &prep);
    assert_prefix(tmp("ocr.pdf"), tmp("ocr-sig.pdf"));
    assert_qpdf_ok(tmp("ocr-sig.pdf"));
    char *out;
    run(&out, "pdfsig '%s'", tmp("ocr-sig.pdf"));
    if (!strstr(out, "Signature is Valid.") || !strstr(out, "Total document signed"))
        fail_msg("pdfsig:\n%s", out);
    free(out);
    assert_int_equal(run(&out, "pdfinfo -meta '%s'", tmp("ocr-sig.pdf")), 0);
    assert_non_null(strstr(out, "pdfaid:part"));
    free(out);
    assert_int_equal(run(&out, "pdftotext -f 1 -l 1 '%s' -", tmp("ocr-sig.pdf")), 0);
    if (!strstr(out, LINE_ORG) || !strstr(out, LINE_TIME))
        fail_msg("pdftotext:\n%s", out);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_time),    cmocka_unit_test(test_sigfont),
        cmocka_unit_test(test_table_update),   cmocka_unit_test(test_hash_ranges),
        cmocka_unit_test(test_fill),           cmocka_unit_test(test_xref_stream_pdfsig),
        cmocka_unit_test(test_two_signatures), cmocka_unit_test(test_text_and_font),
        cmocka_unit_test(test_placement),      cmocka_unit_test(test_rotate),
        cmocka_unit_test(test_existing_form),  cmocka_unit_test(test_seal),
        cmocka_unit_test(test_bad_input),      cmocka_unit_test(test_product_pdfa),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
