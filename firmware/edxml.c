/* edxml.c — edXML packets of QCVN 102:2016 (see edxml.h, standards.md §6).
 *
 * Writing: libxml2's xmlTextWriter over the FILE* of an atomic_file, so the
 * PDF is base64-encoded chunk by chunk straight into the temporary file and
 * a failure at any point leaves nothing behind.
 *
 * Reading: Status packets come from the network and are untrusted. They
 * are parsed with no network access, no entity substitution and no DTD at
 * all (a document type declaration stops the parser before its internal
 * subset is read, which rules out entity expansion attacks), after a size
 * check; then the few fields we use are looked up by namespace and name.
 */
#include "edxml.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlwriter.h>
#include <unicase.h>
#include <unistr.h>

#include "fsutil.h"
#include "vntime.h"

#define PFX BAD_CAST "edXML"
#define STATUS_MAX (1024 * 1024)
/* A multiple of 3, so that every chunk but the last encodes without '='
 * padding and the concatenation is one valid base64 text. */
#define B64_CHUNK (48 * 1024)
#define ORGAN_ID_MAX 35

/* ---- small helpers ---------------------------------------------------- */

static const char *cfg_name(const config *cfg)
{
    return cfg->path ? cfg->path : "configuration";
}

/* 1 when `a` and `b` are the same words ignoring case and normalisation
 * ("QUYẾT ĐỊNH" = "Quyết định"). */
static int same_words(const char *a, const char *b)
{
    int r = 1;
    if (u8_casecmp((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), NULL, UNINORM_NFC,
                   &r) != 0)
        return 0;
    return r == 0;
}

/* 0 when `s` is UTF-8 made only of characters XML 1.0 allows (no C0
 * controls but tab, LF, CR; no U+FFFE/U+FFFF); libxml2 would otherwise
 * write a document no parser accepts. */
static int xml_text_ok(const char *s)
{
    size_t n = strlen(s);
    const uint8_t *p = (const uint8_t *)s;
    if (u8_check(p, n) != NULL)
        return -1;
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        i += (size_t)u8_mbtouc(&c, p + i, n - i);
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF)
            return -1;
    }
    return 0;
}

static int check_text(const char *what, const char *s, sohoa_err *err)
{
    if (s && xml_text_ok(s) != 0)
        return err_set(err, SOHOA_EINPUT,
                       "edXML: %s is not valid UTF-8 text (control characters are not allowed "
                       "in XML): correct it",
                       what);
    return 0;
}

/* An organ identifier: dot-separated groups of 0-9 and A-Z, at least two
 * groups, at most 35 characters ("000.00.15.H47"). */
static int organ_id_ok(const char *s)
{
    size_t n = strlen(s), groups = 0, len = 0;
    if (n == 0 || n > ORGAN_ID_MAX)
        return 0;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (len == 0)
                return 0;
            groups++;
            len = 0;
            if (*p == '\0')
                break;
        } else if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')) {
            len++;
        } else {
            return 0;
        }
    }
    return groups >= 2;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" (a real calendar day) → "YYYY/MM/DD". */
static int iso_to_slashed(const char *iso, char out[11])
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!iso || strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (iso[i] < '0' || iso[i] > '9'))
            return -1;
    int y = atoi(iso), mo = atoi(iso + 5), d = atoi(iso + 8);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return -1;
    memcpy(out, iso, 10);
    out[4] = out[7] = '/';
    out[10] = '\0';
    return 0;
}

/* ---- options, priority, document id ----------------------------------- */

/* A config string; "" (a key given with no value) counts as not set. */
static const char *opt(const config *cfg, const char *section, const char *key)
{
    const char *v = config_get(cfg, section, key, NULL);
    return v && *v ? v : NULL;
}

int edxml_options_load(const config *cfg, edxml_options *o, sohoa_err *err)
{
    memset(o, 0, sizeof *o);
    const char *name = cfg_name(cfg);
    o->organ_id = opt(cfg, "station", "organ_id");
    o->organ_name = opt(cfg, "station", "organ_name");
    if (!o->organ_id)
        return err_set(err, SOHOA_EINPUT,
                       "%s: [station] organ_id is not set: give this organization's mã định danh "
                       "(e.g. 000.00.15.H47)",
                       name);
    if (!organ_id_ok(o->organ_id))
        return err_set(err, SOHOA_EINPUT,
                       "%s: [station] organ_id = \"%s\": expected dot-separated groups of 0-9 and "
                       "A-Z, at most %d characters (e.g. 000.00.15.H47)",
                       name, o->organ_id, ORGAN_ID_MAX);
    if (!o->organ_name)
        return err_set(err, SOHOA_EINPUT,
                       "%s: [station] organ_name is not set: give this organization's name", name);
    o->organ_add = opt(cfg, "station", "organ_add");
    o->email = opt(cfg, "station", "email");
    o->telephone = opt(cfg, "station", "telephone");
    o->fax = opt(cfg, "station", "fax");
    o->website = opt(cfg, "station", "website");
    o->to_organ_id = opt(cfg, "upload", "to_organ_id");
    o->to_organ_name = opt(cfg, "upload", "to_organ_name");
    if (o->to_organ_id && !organ_id_ok(o->to_organ_id))
        return err_set(err, SOHOA_EINPUT,
                       "%s: [upload] to_organ_id = \"%s\": expected dot-separated groups of 0-9 "
                       "and A-Z, at most %d characters (e.g. 000.00.00.G22)",
                       name, o->to_organ_id, ORGAN_ID_MAX);
    if (o->to_organ_name && !o->to_organ_id)
        return err_set(err, SOHOA_EINPUT,
                       "%s: [upload] to_organ_name is set but to_organ_id is not: give the "
                       "recipient's mã định danh too, or remove to_organ_name",
                       name);
    const char *fmt = config_get(cfg, "upload", "trace_time_format", NULL);
    if (!fmt || !*fmt || strcmp(fmt, "yyyy/MM/dd HH:mm:ss") == 0)
        o->trace_day_first = 0;
    else if (strcmp(fmt, "dd/MM/yyyy HH:mm:ss") == 0)
        o->trace_day_first = 1;
    else
        return err_set(err, SOHOA_EINPUT,
                       "%s: [upload] trace_time_format = \"%s\": expected \"yyyy/MM/dd HH:mm:ss\" "
                       "or \"dd/MM/yyyy HH:mm:ss\"",
                       name, fmt);
    return 0;
}

int edxml_priority(const char *urgency)
{
    /* Old and new tone placement both occur on paper ("Hoả"/"Hỏa"). */
    static const struct {
        const char *name;
        int priority;
    } marks[] = {
        {"Khẩn", 1},    {"Thượng khẩn", 2},     {"Hỏa tốc", 3},
        {"Hoả tốc", 3}, {"Hỏa tốc hẹn giờ", 4}, {"Hoả tốc hẹn giờ", 4},
    };
    if (!urgency)
        return 0;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (same_words(urgency, marks[i].name))
            return marks[i].priority;
    return 0;
}

char *edxml_document_id(const char *organ_id, const doc_metadata *m, sohoa_err *err)
{
    const char *date = m->str[META_DATE];
    const char *nn = m->str[META_NUMBER_NOTATION];
    char slashed[11];
    if (!organ_id || !organ_id_ok(organ_id)) {
        err_set(err, SOHOA_EINPUT, "edXML DocumentId: organ id \"%s\" is not a valid mã định danh",
                organ_id ? organ_id : "");
        return NULL;
    }
    if (!date) {
        err_set(err, SOHOA_EINPUT,
                "edXML DocumentId: the document's date is missing: enter it in the metadata");
        return NULL;
    }
    if (iso_to_slashed(date, slashed) != 0) {
        err_set(err, SOHOA_EINPUT,
                "edXML DocumentId: the document's date \"%s\" is not a date YYYY-MM-DD: "
                "correct it in the metadata",
                date);
        return NULL;
    }
    if (!nn || !*nn) {
        err_set(err, SOHOA_EINPUT,
                "edXML DocumentId: the document's number/notation is missing: enter it in the "
                "metadata");
        return NULL;
    }
    char *id = NULL;
    if (asprintf(&id, "%s,%s,%s", organ_id, slashed, nn) < 0) {
        err_set(err, SOHOA_EWORK, "edXML DocumentId: out of memory");
        return NULL;
    }
    return id;
}

/* ---- document types (Nghị định 30/2020, Điều 7 and Phụ lục III) ------- */

/* TypeDetail codes of this station: the administrative document types in
 * the order Nghị định 30 lists them, numbered from 1; 0 for anything else
 * (Party types, misreads). The recipient also gets TypeName as read. */
static const struct {
    const char *name;
    int code;
} doc_types[] = {
    {"Nghị quyết", 1},      {"Quyết định", 2},       {"Chỉ thị", 3},         {"Quy chế", 4},
    {"Quy định", 5},        {"Thông cáo", 6},        {"Thông báo", 7},       {"Hướng dẫn", 8},
    {"Chương trình", 9},    {"Kế hoạch", 10},        {"Phương án", 11},      {"Đề án", 12},
    {"Dự án", 13},          {"Báo cáo", 14},         {"Biên bản", 15},       {"Tờ trình", 16},
    {"Hợp đồng", 17},       {"Công văn", 18},        {"Công điện", 19},      {"Bản ghi nhớ", 20},
    {"Bản thỏa thuận", 21}, {"Bản thoả thuận", 21},  {"Giấy ủy quyền", 22},  {"Giấy uỷ quyền", 22},
    {"Giấy mời", 23},       {"Giấy giới thiệu", 24}, {"Giấy nghỉ phép", 25}, {"Phiếu gửi", 26},
    {"Phiếu chuyển", 27},   {"Phiếu báo", 28},       {"Thư công", 29},
};

static int type_detail(const char *type)
{
    if (!type)
        return 0;
    for (size_t i = 0; i < sizeof doc_types / sizeof doc_types[0]; i++)
        if (same_words(type, doc_types[i].name))
            return doc_types[i].code;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* The writer and whether any call on it failed: the calls are chained
 * without a check each, and the first failure turns the rest into no-ops. */
typedef struct xw {
    xmlTextWriterPtr w;
    int failed;
} xw;

static void x_start(xw *x, const char *name)
{
    if (!x->failed && xmlTextWriterStartElementNS(x->w, PFX, BAD_CAST name, NULL) < 0)
        x->failed = 1;
}

static void x_end(xw *x)
{
    if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
        x->failed = 1;
}

/* <edXML:name>text</edXML:name>; an empty element for NULL. */
static void x_leaf(xw *x, const char *name, const char *text)
{
    x_start(x, name);
    if (!x->failed && text && *text && xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
        x->failed = 1;
    x_end(x);
}

static void x_leaf_int(xw *x, const char *name, long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%ld", v);
    x_leaf(x, name, buf);
}

static void x_organ(xw *x, const char *el, const char *id, const char *name, const char *add,
                    const char *email, const char *tel, const char *fax, const char *web)
{
    x_start(x, el);
    x_leaf(x, "OrganId", id);
    x_leaf(x, "OrganizationInCharge", NULL);
    x_leaf(x, "OrganName", name);
    x_leaf(x, "OrganAdd", add);
    x_leaf(x, "Email", email);
    x_leaf(x, "Telephone", tel);
    x_leaf(x, "Fax", fax);
    x_leaf(x, "Website", web);
    x_end(x);
}

static void x_message_header(xw *x, const edxml_options *o, const doc_metadata *m,
                             const edxml_doc *d)
{
    const char *const *s = (const char *const *)m->str;
    char date[11];
    x_start(x, "MessageHeader");
    x_organ(x, "From", o->organ_id, o->organ_name, o->organ_add, o->email, o->telephone, o->fax,
            o->website);
    if (o->to_organ_id)
        x_organ(x, "To", o->to_organ_id, o->to_organ_name, NULL, NULL, NULL, NULL, NULL);
    x_leaf(x, "DocumentId", d->document_id);

    x_start(x, "Code");
    if (m->has_number)
        x_leaf_int(x, "CodeNumber", m->number);
    else
        x_leaf(x, "CodeNumber", NULL);
    x_leaf(x, "CodeNotation", s[META_NOTATION]);
    x_end(x);

    x_start(x, "PromulgationInfo");
    x_leaf(x, "Place", s[META_PLACE]);
    x_leaf(x, "PromulgationDate", iso_to_slashed(s[META_DATE], date) == 0 ? date : NULL);
    x_end(x);

    x_start(x, "DocumentType");
    x_leaf(x, "Type", "1"); /* văn bản hành chính */
    x_leaf_int(x, "TypeDetail", type_detail(s[META_TYPE]));
    x_leaf(x, "TypeName", s[META_TYPE]);
    x_end(x);

    x_leaf(x, "Subject", s[META_SUBJECT]);
    x_leaf(x, "Content", NULL);

    x_start(x, "SignerInfo");
    x_leaf(x, "Competence", s[META_SIGNER_PREFIX]);
    x_leaf(x, "Position", s[META_SIGNER_POSITION]);
    x_leaf(x, "FullName", s[META_SIGNER]);
    x_end(x);

    x_leaf(x, "DueDate", NULL);

    x_start(x, "OtherInfo");
    x_leaf_int(x, "Priority", edxml_priority(s[META_URGENCY]));
    x_leaf(x, "SphereOfPromulgation", NULL);
    x_leaf(x, "TyperNotation", NULL);
    x_leaf(x, "PromulgationAmount", NULL);
    x_leaf_int(x, "PageAmount", m->pages > 0 ? m->pages : 0);
    x_leaf(x, "Direction", "false");
    x_end(x);

    x_end(x); /* MessageHeader */
}

static void x_trace(xw *x, const edxml_options *o, time_t sent_at)
{
    vn_tm v;
    char ts[64];
    vntime_split(sent_at, &v);
    if (o->trace_day_first)
        snprintf(ts, sizeof ts, "%02d/%02d/%04d %02d:%02d:%02d", v.day, v.mon, v.year, v.hour,
                 v.min, v.sec);
    else
        snprintf(ts, sizeof ts, "%04d/%02d/%02d %02d:%02d:%02d", v.year, v.mon, v.day, v.hour,
                 v.min, v.sec);
    x_start(x, "TraceHeaderList");
    x_start(x, "TraceHeader");
    x_leaf(x, "OrganId", o->organ_id);
    x_leaf(x, "Timestamp", ts);
    x_end(x);
    x_end(x);
}

/* The PDF as base64, read and encoded one chunk at a time. */
static int x_base64_file(xw *x, FILE *pdf, const char *pdf_path, sohoa_err *err)
{
    char *buf = malloc(B64_CHUNK);
    if (!buf)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", pdf_path);
    size_t n;
    while (!x->failed && (n = fread(buf, 1, B64_CHUNK, pdf)) > 0)
        if (xmlTextWriterWriteBase64(x->w, buf, 0, (int)n) < 0)
            x->failed = 1;
    free(buf);
    if (ferror(pdf))
        return err_set(err, SOHOA_EINPUT, "%s: read error", pdf_path);
    return 0;
}

static int check_inputs(const edxml_options *o, const doc_metadata *m, const edxml_doc *d,
                        const char *attachment_name, sohoa_err *err)
{
    if (!o->organ_id || !organ_id_ok(o->organ_id) || !o->organ_name || !*o->organ_name)
        return err_set(err, SOHOA_EINPUT,
                       "edXML: our organ id and name must be set ([station] organ_id, organ_name)");
    if (!d->document_id || !*d->document_id)
        return err_set(err, SOHOA_EINPUT, "edXML: the DocumentId is missing");
    if (!d->pdf_path)
        return err_set(err, SOHOA_EINPUT, "edXML: no PDF to attach");
    const struct {
        const char *what, *value;
    } texts[] = {
        {"[station] organ_id", o->organ_id},
        {"[station] organ_name", o->organ_name},
        {"[station] organ_add", o->organ_add},
        {"[station] email", o->email},
        {"[station] telephone", o->telephone},
        {"[station] fax", o->fax},
        {"[station] website", o->website},
        {"[upload] to_organ_id", o->to_organ_id},
        {"[upload] to_organ_name", o->to_organ_name},
        {"the DocumentId", d->document_id},
        {"the attachment name", attachment_name},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (check_text(texts[i].what, texts[i].value, err) != 0)
            return -1;
    for (int f = 0; f < META_NFIELDS; f++) {
        if (f == META_NUMBER || !m->str[f] || xml_text_ok(m->str[f]) == 0)
            continue;
        char what[64];
        snprintf(what, sizeof what, "metadata field %s", meta_field_name((meta_field)f));
        return check_text(what, m->str[f], err);
    }
    return 0;
}

int edxml_write_envelope(const char *path, const edxml_options *o, const doc_metadata *m,
                         const edxml_doc *d, sohoa_err *err)
{
    char *base_copy = NULL;
    const char *att_name = d->attachment_name;
    if (!att_name && d->pdf_path) {
        if (!(base_copy = strdup(d->pdf_path)))
            return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
        att_name = basename(base_copy);
    }
    if (check_inputs(o, m, d, att_name, err) != 0) {
        free(base_copy);
        return -1;
    }
    FILE *pdf = fopen(d->pdf_path, "rb");
    if (!pdf) {
        free(base_copy);
        return err_errno(err, SOHOA_EINPUT, errno, "%s: cannot read the PDF to attach",
                         d->pdf_path);
    }
    atomic_file af;
    if (atomic_open(&af, path, 0600, err) != 0) {
        fclose(pdf);
        free(base_copy);
        return -1;
    }
    xw x = {0};
    xmlOutputBufferPtr out = xmlOutputBufferCreateFile(af.f, NULL);
    if (out && !(x.w = xmlNewTextWriter(out)))
        xmlOutputBufferClose(out); /* the writer owns it once created */
    int rc = 0;
    if (!x.w) {
        rc = err_set(err, SOHOA_EWORK, "%s: cannot create the XML writer", path);
        goto done;
    }
    const char *desc = m->str[META_SUBJECT];
    xmlTextWriterSetIndent(x.w, 1);
    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0)
        x.failed = 1;
    if (!x.failed &&
        xmlTextWriterStartElementNS(x.w, PFX, BAD_CAST "edXMLEnvelope", BAD_CAST EDXML_NS) < 0)
        x.failed = 1;

    x_start(&x, "edXMLHeader");
    x_message_header(&x, o, m, d);
    x_trace(&x, o, d->sent_at);
    x_end(&x);

    x_start(&x, "edXMLBody");
    x_start(&x, "edXMLManifest");
    if (!x.failed && xmlTextWriterWriteAttribute(x.w, BAD_CAST "version", BAD_CAST "1.0") < 0)
        x.failed = 1;
    x_start(&x, "Reference");
    x_leaf(&x, "ContentId", "cid:1");
    x_leaf(&x, "ContentType", "application/pdf");
    x_leaf(&x, "Description", desc);
    x_leaf(&x, "AttachmentName", att_name);
    x_end(&x);
    x_end(&x); /* edXMLManifest */
    x_end(&x); /* edXMLBody */

    /* Last child of the envelope, so the file stays one XML document. */
    x_start(&x, "AttachmentEncoded");
    x_start(&x, "Attachment");
    x_leaf(&x, "ContentId", "cid:1");
    x_leaf(&x, "AttachmentName", att_name);
    x_leaf(&x, "Description", desc);
    x_leaf(&x, "ContentType", "application/pdf");
    x_start(&x, "ContentTransferEncoded");
    if (!x.failed && x_base64_file(&x, pdf, d->pdf_path, err) != 0) {
        rc = -1;
        goto done;
    }
    x_end(&x);
    x_end(&x); /* Attachment */
    x_end(&x); /* AttachmentEncoded */
    x_end(&x); /* edXMLEnvelope */
    if (!x.failed && (xmlTextWriterEndDocument(x.w) < 0 || xmlTextWriterFlush(x.w) < 0))
        x.failed = 1;
    if (x.failed)
        rc = err_set(err, SOHOA_EWORK, "%s: writing the edXML envelope failed (disk full?)", path);
done:
    if (x.w)
        xmlFreeTextWriter(x.w); /* flushes into af.f, does not close it */
    fclose(pdf);
    free(base_copy);
    if (rc != 0) {
        atomic_abort(&af);
        return -1;
    }
    return atomic_commit(&af, err);
}

/* ---- Status packets ------------------------------------------------------ */

static const struct {
    const char *code, *text;
} status_codes[] = {
    {"01", "đã đến"},           {"02", "từ chối"},
    {"03", "tiếp nhận"},        {"04", "phân công"},
    {"05", "đang xử lý"},       {"06", "hoàn thành"},
    {"13", "lấy lại"},          {"15", "đồng ý cập nhật/thu hồi"},
    {"16", "từ chối cập nhật"},
};

const char *edxml_status_text(const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < sizeof status_codes / sizeof status_codes[0]; i++)
        if (strcmp(code, status_codes[i].code) == 0)
            return status_codes[i].text;
    return NULL;
}

void edxml_status_free(edxml_status *st)
{
    if (!st)
        return;
    free(st->response_for);
    free(st->from_organ_id);
    free(st->description);
    free(st->timestamp);
    free(st->staff);
    memset(st, 0, sizeof *st);
}

/* What the parser saw beyond the tree. */
typedef struct parse_state {
    int doctype;
} parse_state;

/* SAX internalSubset: called at "<!DOCTYPE", before any declaration of the
 * internal subset is read. A Status packet has no use for a DTD, and
 * refusing it here is what keeps entity expansion out of reach. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
    xmlParserCtxtPtr c = ctx;
    ((parse_state *)c->_private)->doctype = 1;
    xmlStopParser(c);
}

/* Errors are read from the context afterwards, not printed. */
static void quiet(void *ctx, xmlErrorPtr e) {}

static int is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST EDXML_NS) &&
           xmlStrEqual(n->name, BAD_CAST name);
}

/* The one child edXML:name of `parent`: 0 and *out = NULL when absent, -1
 * when repeated (a packet that says two things is not guessed at). */
static int child(const xmlNode *parent, const char *name, const char *path, xmlNode **out,
                 sohoa_err *err)
{
    *out = NULL;
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (!is_el(c, name))
            continue;
        if (*out)
            return err_set(err, SOHOA_EINPUT, "status packet: more than one %s%s", path, name);
        *out = c;
    }
    return 0;
}

/* Text of a leaf element with runs of whitespace made one space and the
 * ends trimmed (so the result is one line); malloc'd. */
static int leaf_text(const xmlNode *n, const char *path, char **out, sohoa_err *err)
{
    *out = NULL;
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return err_set(err, SOHOA_EINPUT, "status packet: %s%s must hold text only", path,
                           (const char *)n->name);
    xmlChar *raw = xmlNodeGetContent(n);
    const char *s = raw ? (const char *)raw : "";
    char *t = malloc(strlen(s) + 1);
    if (!t) {
        xmlFree(raw);
        return err_set(err, SOHOA_EWORK, "status packet: out of memory");
    }
    size_t k = 0;
    int space = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            space = k > 0;
            continue;
        }
        if (space)
            t[k++] = ' ';
        space = 0;
        t[k++] = *s;
    }
    t[k] = '\0';
    xmlFree(raw);
    *out = t;
    return 0;
}

/* A required, non-empty leaf edXML:name of `parent`. */
static int required(const xmlNode *parent, const char *name, const char *path, char **out,
                    sohoa_err *err)
{
    xmlNode *n;
    *out = NULL;
    if (child(parent, name, path, &n, err) != 0)
        return -1;
    if (!n)
        return err_set(err, SOHOA_EINPUT, "status packet: missing %s%s", path, name);
    if (leaf_text(n, path, out, err) != 0)
        return -1;
    if (!**out) {
        free(*out);
        *out = NULL;
        return err_set(err, SOHOA_EINPUT, "status packet: %s%s is empty", path, name);
    }
    return 0;
}

/* An optional leaf: NULL when absent or empty. */
static int optional(const xmlNode *parent, const char *name, const char *path, char **out,
                    sohoa_err *err)
{
    xmlNode *n;
    *out = NULL;
    if (child(parent, name, path, &n, err) != 0)
        return -1;
    if (!n)
        return 0;
    if (leaf_text(n, path, out, err) != 0)
        return -1;
    if (!**out) {
        free(*out);
        *out = NULL;
    }
    return 0;
}

/* StaffInfo's non-empty parts joined with ", " (NULL when none). */
static int staff_line(const xmlNode *info, char **out, sohoa_err *err)
{
    static const char *const parts[] = {"Department", "Staff", "Mobile", "Email"};
    *out = NULL;
    char *line = NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char *v;
        if (optional(info, parts[i], "StaffInfo/", &v, err) != 0) {
            free(line);
            return -1;
        }
        if (!v)
            continue;
        char *joined = NULL;
        int r = line ? asprintf(&joined, "%s, %s", line, v) : asprintf(&joined, "%s", v);
        free(v);
        free(line);
        line = r < 0 ? NULL : joined;
        if (!line)
            return err_set(err, SOHOA_EWORK, "status packet: out of memory");
    }
    *out = line;
    return 0;
}

static int read_status(const xmlNode *ms, edxml_status *st, sohoa_err *err)
{
    xmlNode *rf, *from, *code_el, *staff;
    char *code = NULL;
    if (child(ms, "ResponseFor", "", &rf, err) != 0)
        return -1;
    if (!rf)
        return err_set(err, SOHOA_EINPUT, "status packet: missing ResponseFor");
    if (required(rf, "DocumentId", "ResponseFor/", &st->response_for, err) != 0)
        return -1;
    if (child(ms, "From", "", &from, err) != 0)
        return -1;
    if (!from)
        return err_set(err, SOHOA_EINPUT, "status packet: missing From");
    if (required(from, "OrganId", "From/", &st->from_organ_id, err) != 0)
        return -1;
    if (child(ms, "StatusCode", "", &code_el, err) != 0)
        return -1;
    if (!code_el)
        return err_set(err, SOHOA_EINPUT, "status packet: missing StatusCode");
    if (leaf_text(code_el, "", &code, err) != 0)
        return -1;
    if (!edxml_status_text(code)) {
        if (strlen(code) > 16)
            err_set(err, SOHOA_EINPUT, "status packet: unknown StatusCode (%zu characters)",
                    strlen(code));
        else
            err_set(err, SOHOA_EINPUT, "status packet: unknown StatusCode \"%s\"", code);
        free(code);
        return -1;
    }
    memcpy(st->code, code, 3);
    free(code);
    if (optional(ms, "Description", "", &st->description, err) != 0)
        return -1;
    if (required(ms, "Timestamp", "", &st->timestamp, err) != 0)
        return -1;
    if (child(ms, "StaffInfo", "", &staff, err) != 0)
        return -1;
    if (staff && staff_line(staff, &st->staff, err) != 0)
        return -1;
    return 0;
}

/* The MessageStatus element: the root itself, or
 * edXMLEnvelope/edXMLHeader/MessageStatus. */
static int find_status(const xmlNode *root, xmlNode **ms, sohoa_err *err)
{
    *ms = NULL;
    if (is_el(root, "MessageStatus")) {
        *ms = (xmlNode *)root;
        return 0;
    }
    if (!is_el(root, "edXMLEnvelope")) {
        const char *href = root->ns ? (const char *)root->ns->href : "";
        return err_set(err, SOHOA_EINPUT,
                       "status packet: root element is \"%.64s\" in namespace \"%.128s\"; "
                       "expected edXML:MessageStatus or edXML:edXMLEnvelope in %s",
                       (const char *)root->name, href, EDXML_NS);
    }
    xmlNode *hdr;
    if (child(root, "edXMLHeader", "edXMLEnvelope/", &hdr, err) != 0)
        return -1;
    if (!hdr)
        return err_set(err, SOHOA_EINPUT, "status packet: missing edXMLEnvelope/edXMLHeader");
    if (child(hdr, "MessageStatus", "edXMLHeader/", ms, err) != 0)
        return -1;
    if (!*ms)
        return err_set(err, SOHOA_EINPUT, "status packet: missing edXMLHeader/MessageStatus");
    return 0;
}

int edxml_parse_status(const char *buf, size_t len, edxml_status *st, sohoa_err *err)
{
    memset(st, 0, sizeof *st);
    if (!buf || len == 0)
        return err_set(err, SOHOA_EINPUT, "status packet: empty");
    if (len > STATUS_MAX)
        return err_set(err, SOHOA_EINPUT, "status packet: larger than %d bytes; refused",
                       STATUS_MAX);
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (!ctxt)
        return err_set(err, SOHOA_EWORK, "status packet: out of memory");
    parse_state ps = {0};
    ctxt->_private = &ps;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->serror = quiet;
    /* No XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE:
     * nothing is fetched, substituted or allowed past the default limits. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_NOCDATA);
    xmlParseDocument(ctxt);
    xmlDocPtr doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    int rc = 0;
    if (ps.doctype || (doc && (doc->intSubset || doc->extSubset))) {
        rc = err_set(err, SOHOA_EINPUT,
                     "status packet: has a document type declaration (DTD); refused");
    } else if (!ctxt->wellFormed || !ctxt->nsWellFormed || !doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[160] = "";
        if (e && e->message) {
            snprintf(msg, sizeof msg, "%s", e->message);
            for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t')
                    *p = ' ';
            for (size_t k = strlen(msg); k > 0 && msg[k - 1] == ' '; k--)
                msg[k - 1] = '\0';
        }
        rc = err_set(err, SOHOA_EINPUT, "status packet: not well-formed XML (line %d: %s)",
                     e ? e->line : 0, *msg ? msg : "parse error");
    } else {
        xmlNode *root = xmlDocGetRootElement(doc), *ms;
        if (!root)
            rc = err_set(err, SOHOA_EINPUT, "status packet: no root element");
        else if (find_status(root, &ms, err) != 0 || read_status(ms, st, err) != 0)
            rc = -1;
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    if (rc != 0)
        edxml_status_free(st);
    return rc;
}
