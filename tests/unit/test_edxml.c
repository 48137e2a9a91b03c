/* Unit tests: firmware/edxml — the QCVN 102:2016 envelope we write (checked
 * against firmware/edxml.xsd with libxml2 and with xmllint, and read back
 * with XPath) and the Status packets we parse (untrusted input). */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/evp.h>

#include "firmware/config.h"
#include "firmware/edxml.h"
#include "tests/unit/support/testutil.h"

#define XSD "firmware/edxml.xsd"
#define MH "/e:edXMLEnvelope/e:edXMLHeader/e:MessageHeader/"
#define PDF_LEN 150000 /* several 48 KiB chunks and a partial one */

static char dir[64];
static char pdf_path[128];
static unsigned char pdf_bytes[PDF_LEN];

/* ---- fixtures ------------------------------------------------------------ */

static int setup(void **state)
{
    strcpy(dir, "/tmp/sohoa-edxml.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* Every byte value first, then a pattern that is not periodic in 3 so
     * chunk boundaries fall on all kinds of bytes. */
    for (int i = 0; i < PDF_LEN; i++)
        pdf_bytes[i] = i < 256 ? (unsigned char)i : (unsigned char)((i * 7919u) >> 3);
    snprintf(pdf_path, sizeof pdf_path, "%s/signed.pdf", dir);
    FILE *f = fopen(pdf_path, "wb");
    if (!f || fwrite(pdf_bytes, 1, PDF_LEN, f) != PDF_LEN)
        return -1;
    return fclose(f);
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* The metadata of a real-looking decision. */
static void sample_metadata(doc_metadata *m)
{
    memset(m, 0, sizeof *m);
    meta_set(m, META_FORMAT, "state");
    m->number = 182;
    m->has_number = true;
    meta_set(m, META_NOTATION, "QĐ-LĐTBXH");
    meta_set(m, META_NUMBER_NOTATION, "182/QĐ-LĐTBXH");
    meta_set(m, META_DATE, "2025-02-05");
    meta_set(m, META_PLACE, "Quảng Nam");
    meta_set(m, META_TYPE, "Quyết định");
    meta_set(m, META_SUBJECT, "Ban hành Quy chế gửi, nhận văn bản điện tử & <thử> \"ký tự\"");
    meta_set(m, META_ISSUER, "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI");
    meta_set(m, META_SIGNER, "Cầm Ngọc Minh");
    meta_set(m, META_SIGNER_POSITION, "GIÁM ĐỐC");
    meta_set(m, META_SIGNER_PREFIX, "KT. CHỦ TỊCH");
    meta_set(m, META_URGENCY, "Thượng khẩn");
    m->pages = 3;
}

static void sample_options(edxml_options *o)
{
    memset(o, 0, sizeof *o);
    o->organ_id = "000.00.15.H47";
    o->organ_name = "Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam";
    o->organ_add = "02 Trần Phú, Tam Kỳ";
    o->email = "sldtbxh@quangnam.gov.vn";
    o->to_organ_id = "000.00.00.G22";
    o->to_organ_name = "Văn phòng Chính phủ";
}

/* 2025-02-05 17:30:05 UTC = 2025-02-06 00:30:05 in Vietnam: the trace
 * time must show the next day. */
static time_t sample_time(void)
{
    struct tm tm = {
        .tm_year = 125, .tm_mon = 1, .tm_mday = 5, .tm_hour = 17, .tm_min = 30, .tm_sec = 5};
    return timegm(&tm);
}

static int write_env(const char *name, const edxml_options *o, const doc_metadata *m,
                     const char *pdf, char *path, size_t cap, sohoa_err *err)
{
    snprintf(path, cap, "%s/%s", dir, name);
    edxml_doc d = {.document_id = "000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH",
                   .pdf_path = pdf,
                   .attachment_name = "182-QD-LDTBXH.pdf",
                   .sent_at = sample_time()};
    return edxml_write_envelope(path, o, m, &d, err);
}

/* ---- XML helpers ---------------------------------------------------------- */

static void quiet(void *ctx, xmlErrorPtr e) {}

/* 0 when `doc` is valid against firmware/edxml.xsd. */
static int schema_check(xmlDocPtr doc, int show_errors)
{
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(XSD);
    assert_non_null(pc);
    xmlSchemaPtr schema = xmlSchemaParse(pc);
    assert_non_null(schema);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    if (!show_errors)
        xmlSchemaSetValidStructuredErrors(vc, quiet, NULL);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pc);
    return rc;
}

static xmlDocPtr parse_mem(const char *s)
{
    return xmlReadMemory(s, (int)strlen(s), "mem.xml", NULL, XML_PARSE_NONET);
}

static int xp_count(xmlDocPtr doc, const char *path)
{
    xmlXPathContextPtr c = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(c, BAD_CAST "e", BAD_CAST EDXML_NS);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST path, c);
    assert_non_null(r);
    int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(c);
    return n;
}

/* Text of the one node at `path` (fails the test if there is not exactly
 * one); malloc'd. */
static char *xp(xmlDocPtr doc, const char *path)
{
    xmlXPathContextPtr c = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(c, BAD_CAST "e", BAD_CAST EDXML_NS);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST path, c);
    assert_non_null(r);
    if (!r->nodesetval || r->nodesetval->nodeNr != 1)
        fail_msg("%s: %d nodes, expected 1", path, r->nodesetval ? r->nodesetval->nodeNr : 0);
    xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
    char *out = strdup((const char *)t);
    xmlFree(t);
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(c);
    return out;
}

static void assert_xp(xmlDocPtr doc, const char *path, const char *want)
{
    char *got = xp(doc, path);
    if (strcmp(got, want) != 0)
        fail_msg("%s = \"%s\", expected \"%s\"", path, got, want);
    free(got);
}

/* base64 text (with line breaks) → bytes; returns the length. */
static size_t b64_decode(const char *text, unsigned char **out)
{
    size_t n = strlen(text), k = 0;
    char *clean = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ' && text[i] != '\t')
            clean[k++] = text[i];
    clean[k] = '\0';
    assert_int_equal(k % 4, 0);
    *out = malloc(k / 4 * 3 + 1);
    int len = EVP_DecodeBlock(*out, (const unsigned char *)clean, (int)k);
    assert_true(len >= 0);
    if (k >= 1 && clean[k - 1] == '=')
        len--;
    if (k >= 2 && clean[k - 2] == '=')
        len--;
    free(clean);
    return (size_t)len;
}

/* ---- envelope -------------------------------------------------------------- */

static void envelope_is_valid_and_complete(void **state)
{
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    char path[160];
    sohoa_err err = {0};
    assert_int_equal(write_env("full.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_entries(dir), 2); /* the PDF and the envelope: no temporary */

    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    assert_non_null(doc);
    assert_int_equal(schema_check(doc, 1), 0);

    assert_xp(doc, MH "e:From/e:OrganId", "000.00.15.H47");
    assert_xp(doc, MH "e:From/e:OrganName", "Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam");
    assert_xp(doc, MH "e:From/e:OrganAdd", "02 Trần Phú, Tam Kỳ");
    assert_xp(doc, MH "e:From/e:Telephone", "");
    assert_xp(doc, MH "e:To/e:OrganId", "000.00.00.G22");
    assert_xp(doc, MH "e:To/e:OrganName", "Văn phòng Chính phủ");
    assert_xp(doc, MH "e:DocumentId", "000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH");
    assert_xp(doc, MH "e:Code/e:CodeNumber", "182");
    assert_xp(doc, MH "e:Code/e:CodeNotation", "QĐ-LĐTBXH");
    assert_xp(doc, MH "e:PromulgationInfo/e:Place", "Quảng Nam");
    assert_xp(doc, MH "e:PromulgationInfo/e:PromulgationDate", "2025/02/05");
    assert_xp(doc, MH "e:DocumentType/e:Type", "1");
    assert_xp(doc, MH "e:DocumentType/e:TypeDetail", "2");
    assert_xp(doc, MH "e:DocumentType/e:TypeName", "Quyết định");
    assert_xp(doc, MH "e:Subject", "Ban hành Quy chế gửi, nhận văn bản điện tử & <thử> \"ký tự\"");
    assert_xp(doc, MH "e:Content", "");
    assert_xp(doc, MH "e:SignerInfo/e:Competence", "KT. CHỦ TỊCH");
    assert_xp(doc, MH "e:SignerInfo/e:Position", "GIÁM ĐỐC");
    assert_xp(doc, MH "e:SignerInfo/e:FullName", "Cầm Ngọc Minh");
    assert_xp(doc, MH "e:OtherInfo/e:Priority", "2");
    assert_xp(doc, MH "e:OtherInfo/e:PageAmount", "3");
    assert_xp(doc, MH "e:OtherInfo/e:Direction", "false");
    assert_int_equal(xp_count(doc, MH "e:ResponseFor"), 0);
    assert_int_equal(xp_count(doc, "//e:Signature"), 0);
    assert_xp(doc, "/e:edXMLEnvelope/e:edXMLHeader/e:TraceHeaderList/e:TraceHeader/e:OrganId",
              "000.00.15.H47");
    assert_xp(doc, "/e:edXMLEnvelope/e:edXMLHeader/e:TraceHeaderList/e:TraceHeader/e:Timestamp",
              "2025/02/06 00:30:05");

    assert_xp(doc, "/e:edXMLEnvelope/e:edXMLBody/e:edXMLManifest/@version", "1.0");
    const char *ref = "/e:edXMLEnvelope/e:edXMLBody/e:edXMLManifest/e:Reference/";
    char p[200];
    snprintf(p, sizeof p, "%se:ContentId", ref);
    assert_xp(doc, p, "cid:1");
    snprintf(p, sizeof p, "%se:ContentType", ref);
    assert_xp(doc, p, "application/pdf");
    snprintf(p, sizeof p, "%se:AttachmentName", ref);
    assert_xp(doc, p, "182-QD-LDTBXH.pdf");

    /* The attachment is the envelope's last child and refers to cid:1. */
    assert_int_equal(xp_count(doc, "/e:edXMLEnvelope/*[last()][self::e:AttachmentEncoded]"), 1);
    const char *att = "/e:edXMLEnvelope/e:AttachmentEncoded/e:Attachment/";
    snprintf(p, sizeof p, "%se:ContentId", att);
    assert_xp(doc, p, "cid:1");
    snprintf(p, sizeof p, "%se:AttachmentName", att);
    assert_xp(doc, p, "182-QD-LDTBXH.pdf");
    snprintf(p, sizeof p, "%se:ContentTransferEncoded", att);
    char *b64 = xp(doc, p);
    unsigned char *bytes = NULL;
    size_t n = b64_decode(b64, &bytes);
    assert_int_equal(n, PDF_LEN);
    assert_memory_equal(bytes, pdf_bytes, PDF_LEN);
    free(bytes);
    free(b64);

    xmlFreeDoc(doc);
    meta_free(&m);
}

static void xmllint_accepts_envelope(void **state)
{
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    o.trace_day_first = 1;
    char path[160];
    sohoa_err err = {0};
    assert_int_equal(write_env("lint.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);
    char *out = NULL;
    int rc = tu_run(&out, "xmllint --noout --huge --schema %s %s", XSD, path);
    if (rc != 0)
        fail_msg("xmllint (libxml2-utils) rejects the envelope (%d): %s", rc, out);
    assert_non_null(strstr(out, "validates"));
    free(out);
    meta_free(&m);
}

static void trace_time_in_both_formats(void **state)
{
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    static const char *const want[] = {"2025/02/06 00:30:05", "06/02/2025 00:30:05"};
    for (int day_first = 0; day_first <= 1; day_first++) {
        o.trace_day_first = day_first;
        char path[160];
        sohoa_err err = {0};
        assert_int_equal(write_env("trace.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);
        xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
        assert_non_null(doc);
        assert_xp(doc, "//e:TraceHeader/e:Timestamp", want[day_first]);
        assert_int_equal(schema_check(doc, 1), 0);
        xmlFreeDoc(doc);
    }
    meta_free(&m);
}

static void priority_follows_urgency(void **state)
{
    static const struct {
        const char *urgency;
        const char *priority;
    } cases[] = {{NULL, "0"}, {"Khẩn", "1"}, {"Thượng khẩn", "2"}, {"Hỏa tốc", "3"}};
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        meta_set(&m, META_URGENCY, cases[i].urgency);
        char path[160];
        sohoa_err err = {0};
        assert_int_equal(write_env("prio.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);
        xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
        assert_non_null(doc);
        assert_xp(doc, MH "e:OtherInfo/e:Priority", cases[i].priority);
        xmlFreeDoc(doc);
    }
    meta_free(&m);
    /* Case and the old tone placement do not matter; unknown marks are 0. */
    assert_int_equal(edxml_priority("KHẨN"), 1);
    assert_int_equal(edxml_priority("THƯỢNG KHẨN"), 2);
    assert_int_equal(edxml_priority("Hoả tốc"), 3);
    assert_int_equal(edxml_priority("Hỏa tốc hẹn giờ"), 4);
    assert_int_equal(edxml_priority("Thường"), 0);
}

static void unknown_fields_are_empty_elements(void **state)
{
    doc_metadata m = {0};
    meta_set(&m, META_NUMBER_NOTATION, "09/TTr-UBND");
    meta_set(&m, META_DATE, "2025-02-05");
    meta_set(&m, META_TYPE, "Kết luận"); /* a Party type: not in Nghị định 30 */
    edxml_options o = {.organ_id = "000.00.15.H47", .organ_name = "Sở Tư pháp"};
    char path[160];
    sohoa_err err = {0};
    assert_int_equal(write_env("sparse.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    assert_non_null(doc);
    assert_int_equal(schema_check(doc, 1), 0);
    assert_int_equal(xp_count(doc, MH "e:To"), 0);
    assert_xp(doc, MH "e:Code/e:CodeNumber", "");
    assert_xp(doc, MH "e:Code/e:CodeNotation", "");
    assert_xp(doc, MH "e:DocumentType/e:TypeDetail", "0");
    assert_xp(doc, MH "e:DocumentType/e:TypeName", "Kết luận");
    assert_xp(doc, MH "e:SignerInfo/e:FullName", "");
    assert_xp(doc, MH "e:OtherInfo/e:Priority", "0");
    assert_xp(doc, MH "e:OtherInfo/e:PageAmount", "0");
    assert_xp(doc, MH "e:From/e:Website", "");
    xmlFreeDoc(doc);

    /* The type table: case-insensitive, old and new tone placement. */
    static const struct {
        const char *type, *detail;
    } types[] = {{"Nghị quyết", "1"}, {"CÔNG VĂN", "18"}, {"Giấy uỷ quyền", "22"},
                 {"Thư công", "29"},  {"Thông cáo", "6"}, {"Báo cáo", "14"}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        meta_set(&m, META_TYPE, types[i].type);
        assert_int_equal(write_env("type.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);
        doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
        assert_non_null(doc);
        assert_xp(doc, MH "e:DocumentType/e:TypeDetail", types[i].detail);
        xmlFreeDoc(doc);
    }
    meta_free(&m);
}

static void schema_can_reject(void **state)
{
    /* A schema that accepted anything would make the checks above empty. */
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    char path[160];
    sohoa_err err = {0};
    assert_int_equal(write_env("bad.edxml", &o, &m, pdf_path, path, sizeof path, &err), 0);
    char *text = tu_slurp(path, NULL);
    assert_non_null(text);
    static const struct {
        const char *from, *to;
    } edits[] = {
        {"<edXML:Priority>2<", "<edXML:Priority>7<"},
        {"<edXML:OrganId>000.00.15.H47<", "<edXML:OrganId>000.00.15.h47<"},
        {"<edXML:Direction>false<", "<edXML:Direction>fals0<"},
        {"<edXML:CodeNumber>182<", "<edXML:CodeNumber>18a<"},
        {"<edXML:ContentId>cid:1<", "<edXML:ContentId>cix:1<"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        assert_int_equal(strlen(edits[i].from), strlen(edits[i].to));
        char *copy = strdup(text);
        char *at = strstr(copy, edits[i].from);
        assert_non_null(at);
        memcpy(at, edits[i].to, strlen(edits[i].to)); /* same length */
        xmlDocPtr doc = xmlReadMemory(copy, (int)strlen(copy), "bad.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_HUGE);
        assert_non_null(doc);
        if (schema_check(doc, 0) == 0)
            fail_msg("the schema accepts %s", edits[i].to);
        xmlFreeDoc(doc);
        free(copy);
    }
    free(text);
    meta_free(&m);
}

static void failures_leave_no_file(void **state)
{
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    char path[160], missing[160];
    sohoa_err err = {0};
    int before = count_entries(dir);

    /* Unreadable PDF: fails before anything is created. */
    snprintf(missing, sizeof missing, "%s/absent.pdf", dir);
    assert_int_equal(write_env("x.edxml", &o, &m, missing, path, sizeof path, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "absent.pdf"));
    assert_int_equal(count_entries(dir), before);

    /* A directory opens but cannot be read: fails after the temporary file
     * exists, which must be removed. */
    err_clear(&err);
    assert_int_equal(write_env("x.edxml", &o, &m, "/tmp", path, sizeof path, &err), -1);
    assert_non_null(strstr(err.msg, "/tmp"));
    assert_int_equal(count_entries(dir), before);

    /* Text that is not valid UTF-8 (or holds a control character) would
     * make the XML unreadable: refused, naming the field. */
    err_clear(&err);
    meta_set(&m, META_SUBJECT, "Về việc \xff\xfe");
    assert_int_equal(write_env("x.edxml", &o, &m, pdf_path, path, sizeof path, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "subject"));
    err_clear(&err);
    meta_set(&m, META_SUBJECT, "Về việc\x01");
    assert_int_equal(write_env("x.edxml", &o, &m, pdf_path, path, sizeof path, &err), -1);
    assert_non_null(strstr(err.msg, "subject"));
    err_clear(&err);
    meta_set(&m, META_SUBJECT, "ok");
    o.organ_name = "Sở \x1b[31m";
    assert_int_equal(write_env("x.edxml", &o, &m, pdf_path, path, sizeof path, &err), -1);
    assert_non_null(strstr(err.msg, "organ_name"));
    assert_int_equal(count_entries(dir), before);

    /* A directory that does not exist. */
    err_clear(&err);
    sample_options(&o);
    edxml_doc d = {.document_id = "000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH",
                   .pdf_path = pdf_path,
                   .sent_at = sample_time()};
    assert_int_equal(edxml_write_envelope("/nonexistent-dir/x.edxml", &o, &m, &d, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.edxml"));
    meta_free(&m);
}

static void attachment_name_defaults_to_pdf_name(void **state)
{
    doc_metadata m;
    edxml_options o;
    sample_metadata(&m);
    sample_options(&o);
    char path[160];
    snprintf(path, sizeof path, "%s/noname.edxml", dir);
    edxml_doc d = {.document_id = "000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH",
                   .pdf_path = pdf_path,
                   .sent_at = sample_time()};
    sohoa_err err = {0};
    assert_int_equal(edxml_write_envelope(path, &o, &m, &d, &err), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    assert_non_null(doc);
    assert_xp(doc, "//e:Attachment/e:AttachmentName", "signed.pdf");
    xmlFreeDoc(doc);
    meta_free(&m);
}

/* ---- options and DocumentId ---------------------------------------------- */

static void options_load_reads_keys(void **state)
{
    config cfg;
    sohoa_err err = {0};
    const char *text =
        "[station]\norgan_id = 000.00.15.H47\n"
        "organ_name = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam\n"
        "email = a@quangnam.gov.vn\nfax =\n"
        "[upload]\nto_organ_id = 000.00.00.G22\nto_organ_name = Văn phòng Chính phủ\n"
        "trace_time_format = dd/MM/yyyy HH:mm:ss\n";
    assert_int_equal(config_parse(&cfg, text, "t.conf", &err), 0);
    edxml_options o;
    assert_int_equal(edxml_options_load(&cfg, &o, &err), 0);
    assert_string_equal(o.organ_id, "000.00.15.H47");
    assert_string_equal(o.organ_name, "Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam");
    assert_string_equal(o.email, "a@quangnam.gov.vn");
    assert_null(o.fax); /* given empty */
    assert_null(o.website);
    assert_string_equal(o.to_organ_id, "000.00.00.G22");
    assert_string_equal(o.to_organ_name, "Văn phòng Chính phủ");
    assert_int_equal(o.trace_day_first, 1);
    config_free(&cfg);

    assert_int_equal(config_parse(&cfg,
                                  "[station]\norgan_id = A1.B2.C3.D4.E5.F6.G7.H8.I9.J10.K11\n"
                                  "organ_name = X\n",
                                  "t.conf", &err),
                     0);
    assert_int_equal(edxml_options_load(&cfg, &o, &err), 0);
    assert_int_equal(o.trace_day_first, 0);
    assert_null(o.to_organ_id);
    config_free(&cfg);
}

static void expect_options_error(const char *text, const char *fragment)
{
    config cfg;
    sohoa_err err = {0};
    assert_int_equal(config_parse(&cfg, text, "t.conf", &err), 0);
    edxml_options o;
    assert_int_equal(edxml_options_load(&cfg, &o, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, fragment))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, fragment);
    assert_null(strchr(err.msg, '\n'));
    config_free(&cfg);
}

static void options_load_rejects_bad_config(void **state)
{
    expect_options_error("[station]\norgan_name = X\n", "organ_id is not set");
    expect_options_error("[station]\norgan_id =\norgan_name = X\n", "organ_id is not set");
    expect_options_error("[station]\norgan_id = 000.00.15.h47\norgan_name = X\n", "organ_id");
    expect_options_error("[station]\norgan_id = 000..15.H47\norgan_name = X\n", "organ_id");
    expect_options_error("[station]\norgan_id = .000.00\norgan_name = X\n", "organ_id");
    expect_options_error("[station]\norgan_id = 000.00.\norgan_name = X\n", "organ_id");
    expect_options_error("[station]\norgan_id = H47\norgan_name = X\n", "organ_id");
    expect_options_error("[station]\norgan_id = 000.00,15.H47\norgan_name = X\n", "organ_id");
    /* 36 characters: one too many. */
    expect_options_error("[station]\norgan_id = 0000000000.0000000000.0000000000.000\n"
                         "organ_name = X\n",
                         "at most 35");
    expect_options_error("[station]\norgan_id = 000.00.15.H47\n", "organ_name is not set");
    expect_options_error("[station]\norgan_id = 000.00.15.H47\norgan_name = X\n"
                         "[upload]\ntrace_time_format = dd/MM/yy\n",
                         "trace_time_format");
    expect_options_error("[station]\norgan_id = 000.00.15.H47\norgan_name = X\n"
                         "[upload]\nto_organ_id = G22\n",
                         "to_organ_id");
    expect_options_error("[station]\norgan_id = 000.00.15.H47\norgan_name = X\n"
                         "[upload]\nto_organ_name = Văn phòng Chính phủ\n",
                         "to_organ_id is not");
}

static void document_id_from_metadata(void **state)
{
    doc_metadata m;
    sample_metadata(&m);
    sohoa_err err = {0};
    char *id = edxml_document_id("000.00.15.H47", &m, &err);
    assert_non_null(id);
    assert_string_equal(id, "000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH");
    free(id);

    meta_set(&m, META_NUMBER_NOTATION, "682-QĐ/TU"); /* Party form, as is */
    id = edxml_document_id("000.00.15.H47", &m, &err);
    assert_string_equal(id, "000.00.15.H47,2025/02/05,682-QĐ/TU");
    free(id);

    meta_set(&m, META_DATE, NULL);
    assert_null(edxml_document_id("000.00.15.H47", &m, &err));
    assert_int_equal(err.status, SOHOA_EINPUT);
    assert_non_null(strstr(err.msg, "date"));

    static const char *const bad_dates[] = {"2025-02-30", "2025-13-01", "25-02-05",
                                            "2025/02/05", "2025-2-5",   "2025-02-05T00"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
        err_clear(&err);
        meta_set(&m, META_DATE, bad_dates[i]);
        assert_null(edxml_document_id("000.00.15.H47", &m, &err));
        assert_non_null(strstr(err.msg, bad_dates[i]));
    }
    err_clear(&err);
    meta_set(&m, META_DATE, "2024-02-29"); /* a leap day is a date */
    id = edxml_document_id("000.00.15.H47", &m, &err);
    assert_string_equal(id, "000.00.15.H47,2024/02/29,682-QĐ/TU");
    free(id);

    meta_set(&m, META_NUMBER_NOTATION, NULL);
    assert_null(edxml_document_id("000.00.15.H47", &m, &err));
    assert_non_null(strstr(err.msg, "number/notation"));
    meta_free(&m);
}

/* ---- Status packets ------------------------------------------------------- */

#define NS_DECL "xmlns:edXML=\"" EDXML_NS "\""
#define RESPONSE_FOR                                                                               \
    "  <edXML:ResponseFor>\n"                                                                      \
    "    <edXML:OrganId>000.00.15.H47</edXML:OrganId>\n"                                           \
    "    <edXML:Code>182/QĐ-LĐTBXH</edXML:Code>\n"                                               \
    "    <edXML:PromulgationDate>2025/02/05</edXML:PromulgationDate>\n"                            \
    "    <edXML:DocumentId>000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH</edXML:DocumentId>\n"          \
    "  </edXML:ResponseFor>\n"
#define FROM                                                                                       \
    "  <edXML:From>\n"                                                                             \
    "    <edXML:OrganId>000.00.00.G22</edXML:OrganId>\n"                                           \
    "    <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName>\n"                            \
    "  </edXML:From>\n"
#define DESCRIPTION "  <edXML:Description>Đã nhận\n      văn bản  </edXML:Description>\n"
#define TIMESTAMP "  <edXML:Timestamp>2025/02/06 08:15:00</edXML:Timestamp>\n"
#define STAFF                                                                                      \
    "  <edXML:StaffInfo>\n"                                                                        \
    "    <edXML:Department>Phòng Hành chính</edXML:Department>\n"                               \
    "    <edXML:Staff>Nguyễn Văn An</edXML:Staff>\n"                                            \
    "    <edXML:Mobile>0912345678</edXML:Mobile>\n"                                                \
    "    <edXML:Email>an@example.vn</edXML:Email>\n"                                               \
    "  </edXML:StaffInfo>\n"

/* A bare MessageStatus with `code`; malloc'd. */
static char *bare_status(const char *code)
{
    char *s = NULL;
    if (asprintf(&s,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<edXML:MessageStatus " NS_DECL ">\n" RESPONSE_FOR FROM
                 "  <edXML:StatusCode>%s</edXML:StatusCode>\n" DESCRIPTION TIMESTAMP STAFF
                 "</edXML:MessageStatus>\n",
                 code) < 0)
        fail();
    return s;
}

/* The same inside edXMLEnvelope/edXMLHeader, the envelope in the default
 * namespace: prefixes must not matter, only namespaces. */
static char *wrapped_status(const char *code)
{
    char *s = NULL;
    if (asprintf(&s,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<edXMLEnvelope xmlns=\"" EDXML_NS "\">\n<edXMLHeader>\n"
                 "<edXML:MessageStatus " NS_DECL ">\n" RESPONSE_FOR FROM
                 "  <edXML:StatusCode>%s</edXML:StatusCode>\n" DESCRIPTION TIMESTAMP STAFF
                 "</edXML:MessageStatus>\n"
                 "<TraceHeaderList><TraceHeader><OrganId>000.00.00.G22</OrganId>"
                 "<Timestamp>2025/02/06 08:15:00</Timestamp></TraceHeader></TraceHeaderList>\n"
                 "</edXMLHeader>\n</edXMLEnvelope>\n",
                 code) < 0)
        fail();
    return s;
}

/* `src` with the first occurrence of `from` replaced by `to`; malloc'd. */
static char *replaced(const char *src, const char *from, const char *to)
{
    const char *at = strstr(src, from);
    if (!at)
        fail_msg("\"%s\" not in the packet", from);
    char *s = NULL;
    if (asprintf(&s, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from)) < 0)
        fail();
    return s;
}

static void check_parsed(const edxml_status *st, const char *code)
{
    assert_string_equal(st->code, code);
    assert_string_equal(st->response_for, "000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH");
    assert_string_equal(st->from_organ_id, "000.00.00.G22");
    assert_string_equal(st->description, "Đã nhận văn bản");
    assert_string_equal(st->timestamp, "2025/02/06 08:15:00");
    assert_string_equal(st->staff, "Phòng Hành chính, Nguyễn Văn An, 0912345678, an@example.vn");
}

static void status_wrapped_and_bare(void **state)
{
    char *(*const make[])(const char *) = {bare_status, wrapped_status};
    for (int k = 0; k < 2; k++) {
        char *s = make[k]("03");
        edxml_status st;
        sohoa_err err = {0};
        if (edxml_parse_status(s, strlen(s), &st, &err) != 0)
            fail_msg("%s packet: %s", k ? "wrapped" : "bare", err.msg);
        check_parsed(&st, "03");
        edxml_status_free(&st);
        assert_null(st.response_for);
        /* What we parse is what the schema describes. */
        xmlDocPtr doc = parse_mem(s);
        assert_non_null(doc);
        assert_int_equal(schema_check(doc, 1), 0);
        xmlFreeDoc(doc);
        free(s);
    }
}

static void status_every_known_code(void **state)
{
    static const char *const codes[] = {"01", "02", "03", "04", "05", "06", "13", "15", "16"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char *s = wrapped_status(codes[i]);
        edxml_status st;
        sohoa_err err = {0};
        if (edxml_parse_status(s, strlen(s), &st, &err) != 0)
            fail_msg("code %s: %s", codes[i], err.msg);
        check_parsed(&st, codes[i]);
        assert_non_null(edxml_status_text(st.code));
        edxml_status_free(&st);
        free(s);
    }
    assert_string_equal(edxml_status_text("01"), "đã đến");
    assert_string_equal(edxml_status_text("02"), "từ chối");
    assert_string_equal(edxml_status_text("06"), "hoàn thành");
    assert_null(edxml_status_text("07"));
    assert_null(edxml_status_text("1"));
    assert_null(edxml_status_text(NULL));

    /* Whitespace around the code is not part of it. */
    char *s = bare_status("\n   15 ");
    edxml_status st;
    sohoa_err err = {0};
    assert_int_equal(edxml_parse_status(s, strlen(s), &st, &err), 0);
    assert_string_equal(st.code, "15");
    edxml_status_free(&st);
    free(s);
}

static void expect_status_error(const char *buf, size_t len, const char *fragment)
{
    edxml_status st;
    memset(&st, 0x5a, sizeof st); /* garbage in: the function must reset it */
    sohoa_err err = {0};
    assert_int_equal(edxml_parse_status(buf, len, &st, &err), -1);
    assert_int_equal(err.status, SOHOA_EINPUT);
    if (!strstr(err.msg, fragment))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, fragment);
    assert_null(strchr(err.msg, '\n'));
    assert_true(strncmp(err.msg, "status packet: ", 15) == 0);
    assert_null(st.response_for);
    assert_null(st.from_organ_id);
    assert_null(st.description);
    assert_null(st.timestamp);
    assert_null(st.staff);
    edxml_status_free(&st);
}

static void expect_edit_error(const char *from, const char *to, const char *fragment)
{
    char *good = bare_status("01");
    char *bad = replaced(good, from, to);
    expect_status_error(bad, strlen(bad), fragment);
    free(bad);
    free(good);
}

static void status_rejects_unknown_and_missing(void **state)
{
    static const char *const unknown[] = {"07", "00", "1", "011", "", "ab", "99"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        char *s = bare_status(unknown[i]);
        expect_status_error(s, strlen(s), "unknown StatusCode");
        free(s);
    }
    expect_edit_error("<edXML:StatusCode>01</edXML:StatusCode>", "", "missing StatusCode");
    expect_edit_error(TIMESTAMP, "", "missing Timestamp");
    expect_edit_error(TIMESTAMP, "<edXML:Timestamp> </edXML:Timestamp>", "Timestamp is empty");
    expect_edit_error(FROM, "", "missing From");
    expect_edit_error("<edXML:OrganId>000.00.00.G22</edXML:OrganId>", "", "missing From/OrganId");
    expect_edit_error(RESPONSE_FOR, "", "missing ResponseFor");
    expect_edit_error("<edXML:DocumentId>000.00.15.H47,2025/02/05,182/QĐ-LĐTBXH</edXML:DocumentId>",
                      "", "missing ResponseFor/DocumentId");
    expect_edit_error(
        "<edXML:StatusCode>01</edXML:StatusCode>",
        "<edXML:StatusCode>01</edXML:StatusCode><edXML:StatusCode>02</edXML:StatusCode>",
        "more than one StatusCode");
    expect_edit_error("<edXML:StatusCode>01</edXML:StatusCode>",
                      "<edXML:StatusCode><edXML:b>01</edXML:b></edXML:StatusCode>", "text only");
    /* Unqualified children are not edXML elements. */
    expect_edit_error("<edXML:StatusCode>01</edXML:StatusCode>", "<StatusCode>01</StatusCode>",
                      "missing StatusCode");

    /* Description and StaffInfo are optional. */
    char *good = bare_status("02");
    char *a = replaced(good, DESCRIPTION, "");
    char *b = replaced(a, STAFF, "");
    edxml_status st;
    sohoa_err err = {0};
    assert_int_equal(edxml_parse_status(b, strlen(b), &st, &err), 0);
    assert_null(st.description);
    assert_null(st.staff);
    assert_string_equal(st.code, "02");
    edxml_status_free(&st);
    free(b);
    free(a);
    free(good);
}

static void status_checks_namespace(void **state)
{
    char *good = bare_status("01");
    char *bad = replaced(good, EDXML_NS, "http://www.mic.gov.vn/TBT/QCVN_102_2015");
    expect_status_error(bad, strlen(bad), "namespace");
    free(bad);
    bad = replaced(good, " " NS_DECL, "");
    expect_status_error(bad, strlen(bad), "not well-formed"); /* undeclared prefix */
    free(bad);
    expect_status_error("<MessageStatus/>", 16, "root element");
    const char *env = "<edXMLEnvelope xmlns=\"" EDXML_NS "\"><edXMLHeader/></edXMLEnvelope>";
    expect_status_error(env, strlen(env), "missing edXMLHeader/MessageStatus");
    free(good);
}

static void status_refuses_dtd(void **state)
{
    /* Billion laughs: ten levels of tenfold entities. */
    char lol[4096];
    size_t n = (size_t)snprintf(lol, sizeof lol,
                                "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                                " <!ENTITY lol0 \"lol\">\n");
    for (int i = 1; i <= 9; i++) {
        n += (size_t)snprintf(lol + n, sizeof lol - n, " <!ENTITY lol%d \"", i);
        for (int k = 0; k < 10; k++)
            n += (size_t)snprintf(lol + n, sizeof lol - n, "&lol%d;", i - 1);
        n += (size_t)snprintf(lol + n, sizeof lol - n, "\">\n");
    }
    n += (size_t)snprintf(lol + n, sizeof lol - n,
                          "]>\n<edXML:MessageStatus " NS_DECL ">" RESPONSE_FOR FROM
                          "<edXML:StatusCode>01</edXML:StatusCode>"
                          "<edXML:Description>&lol9;</edXML:Description>" TIMESTAMP
                          "</edXML:MessageStatus>\n");
    assert_true(n < sizeof lol);
    clock_t t0 = clock();
    expect_status_error(lol, n, "DTD");
    assert_true(clock() - t0 < CLOCKS_PER_SEC); /* refused, not expanded */

    /* External entity (XXE) and an external DTD: refused too. */
    const char *xxe =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
        "<edXML:MessageStatus " NS_DECL ">" RESPONSE_FOR FROM
        "<edXML:StatusCode>01</edXML:StatusCode>"
        "<edXML:Description>&xxe;</edXML:Description>" TIMESTAMP "</edXML:MessageStatus>\n";
    expect_status_error(xxe, strlen(xxe), "DTD");
    const char *ext = "<!DOCTYPE x SYSTEM \"http://127.0.0.1:9/x.dtd\">\n"
                      "<edXML:MessageStatus " NS_DECL "/>";
    expect_status_error(ext, strlen(ext), "DTD");
}

static void status_rejects_truncated_and_oversize(void **state)
{
    char *good = bare_status("01");
    size_t len = strlen(good);
    expect_status_error(good, len / 2, "not well-formed");
    expect_status_error(good, len - 3, "not well-formed");
    expect_status_error(good, 0, "empty");
    expect_status_error("\xff\xfe\x00<", 4, "not well-formed");

    /* Exactly 1 MiB (trailing whitespace is allowed after the root) parses;
     * one byte more is refused before parsing. */
    size_t max = 1024 * 1024;
    char *big = malloc(max + 1);
    memcpy(big, good, len);
    memset(big + len, ' ', max + 1 - len);
    edxml_status st;
    sohoa_err err = {0};
    if (edxml_parse_status(big, max, &st, &err) != 0)
        fail_msg("1 MiB packet: %s", err.msg);
    assert_string_equal(st.code, "01");
    edxml_status_free(&st);
    expect_status_error(big, max + 1, "larger");
    free(big);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envelope_is_valid_and_complete),
        cmocka_unit_test(xmllint_accepts_envelope),
        cmocka_unit_test(trace_time_in_both_formats),
        cmocka_unit_test(priority_follows_urgency),
        cmocka_unit_test(unknown_fields_are_empty_elements),
        cmocka_unit_test(schema_can_reject),
        cmocka_unit_test(failures_leave_no_file),
        cmocka_unit_test(attachment_name_defaults_to_pdf_name),
        cmocka_unit_test(options_load_reads_keys),
        cmocka_unit_test(options_load_rejects_bad_config),
        cmocka_unit_test(document_id_from_metadata),
        cmocka_unit_test(status_wrapped_and_bare),
        cmocka_unit_test(status_every_known_code),
        cmocka_unit_test(status_rejects_unknown_and_missing),
        cmocka_unit_test(status_checks_namespace),
        cmocka_unit_test(status_refuses_dtd),
        cmocka_unit_test(status_rejects_truncated_and_oversize),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
