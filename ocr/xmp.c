#include "xmp.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdf_utf8.h"

/* Vietnam has no daylight saving time: a fixed offset is exact. */
#define VN_OFFSET_S (7 * 3600)

void xmp_format_date(long long t, char out[26])
{
    time_t local = (time_t)(t + VN_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&local, &tm))
        memset(&tm, 0, sizeof tm), tm.tm_year = 70, tm.tm_mday = 1;
    /* The modulos only bound the widths for the compiler; gmtime_r's
     * fields are already in range. */
    snprintf(out, 26, "%04u-%02u-%02uT%02u:%02u:%02u+07:00", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

void xmp_escape(pdf_buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            pdf_buf_puts(out, "&amp;");
            break;
        case '<':
            pdf_buf_puts(out, "&lt;");
            break;
        case '>':
            pdf_buf_puts(out, "&gt;");
            break;
        case '"':
            pdf_buf_puts(out, "&quot;");
            break;
        case '\'':
            pdf_buf_puts(out, "&apos;");
            break;
        default:
            pdf_buf_put(out, s, 1);
        }
    }
}

/* A field's value, or NULL when absent or empty. */
static const char *field(const doc_metadata *m, meta_field f)
{
    return m && m->str[f] && m->str[f][0] ? m->str[f] : NULL;
}

/* Cleans `s` into *out (NULL stays NULL); false on ENOMEM. */
static bool clean_into(const char *s, char **out)
{
    *out = s ? pdf_utf8_clean(s) : NULL;
    return !s || *out;
}

int xmp_doc_strings_make(const doc_metadata *meta, xmp_doc_strings *out)
{
    memset(out, 0, sizeof *out);
    const char *type = field(meta, META_TYPE), *nn = field(meta, META_NUMBER_NOTATION);
    const char *subject = field(meta, META_SUBJECT);
    char *title = NULL;
    if (type && nn) {
        size_t n = strlen(type) + strlen(nn) + 2;
        if (!(title = malloc(n)))
            return -1;
        snprintf(title, n, "%s %s", type, nn);
    }
    const char *t = title ? title : type ? type : nn ? nn : subject;
    bool ok = clean_into(t, &out->title) && clean_into(subject, &out->description) &&
              clean_into(field(meta, META_ISSUER), &out->creator);
    free(title);
    if (!ok) {
        xmp_doc_strings_free(out);
        return -1;
    }
    return 0;
}

void xmp_doc_strings_free(xmp_doc_strings *s)
{
    free(s->title);
    free(s->description);
    free(s->creator);
    memset(s, 0, sizeof *s);
}

/* True for "YYYY-MM-DD": the only form written where XMP expects a Date. */
static bool iso_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int mon = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31;
}

/* <prefix:name>escaped value</prefix:name>, cleaning the value first. */
static void simple(pdf_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    char *v = pdf_utf8_clean(value);
    if (!v) {
        b->oom = true;
        return;
    }
    pdf_buf_printf(b, "   <%s>", name);
    xmp_escape(b, v);
    pdf_buf_printf(b, "</%s>\n", name);
    free(v);
}

/* A language alternative (rdf:Alt) with only the x-default entry. */
static void alt(pdf_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    pdf_buf_printf(b, "   <%s><rdf:Alt><rdf:li xml:lang=\"x-default\">", name);
    xmp_escape(b, value);
    pdf_buf_printf(b, "</rdf:li></rdf:Alt></%s>\n", name);
}

/* An ordered array (rdf:Seq) of one entry. */
static void seq1(pdf_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    pdf_buf_printf(b, "   <%s><rdf:Seq><rdf:li>", name);
    xmp_escape(b, value);
    pdf_buf_printf(b, "</rdf:li></rdf:Seq></%s>\n", name);
}

static void begin_desc(pdf_buf *b, const char *prefix, const char *ns)
{
    pdf_buf_printf(b, "  <rdf:Description rdf:about=\"\" xmlns:%s=\"%s\">\n", prefix, ns);
}

static void end_desc(pdf_buf *b)
{
    pdf_buf_puts(b, "  </rdf:Description>\n");
}

/* The sohoa properties: name, XMP value type, description. */
static const struct {
    const char *name, *type, *desc;
} SOHOA_PROPS[] = {
    {"NumberNotation", "Text", "Number and notation as printed (so ky hieu)"},
    {"Number", "Integer", "Document number"},
    {"Notation", "Text", "Notation printed after the number (ky hieu)"},
    {"DocumentDate", "Date", "Date of issue"},
    {"Issuer", "Text", "Issuing body"},
    {"DocumentType", "Text", "Document type (ten loai)"},
    {"Urgency", "Text", "Urgency mark"},
    {"Secrecy", "Text", "Classification mark"},
    {"Pages", "Integer", "Pages in the PDF"},
};

static void extension_schema(pdf_buf *b)
{
    pdf_buf_puts(b, "  <rdf:Description rdf:about=\"\""
                    " xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\""
                    " xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\""
                    " xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n"
                    "   <pdfaExtension:schemas><rdf:Bag>\n"
                    "    <rdf:li rdf:parseType=\"Resource\">\n"
                    "     <pdfaSchema:schema>sohoa document header metadata</pdfaSchema:schema>\n"
                    "     <pdfaSchema:namespaceURI>" XMP_SOHOA_NS "</pdfaSchema:namespaceURI>\n"
                    "     <pdfaSchema:prefix>sohoa</pdfaSchema:prefix>\n"
                    "     <pdfaSchema:property><rdf:Seq>\n");
    for (size_t i = 0; i < sizeof SOHOA_PROPS / sizeof *SOHOA_PROPS; i++)
        pdf_buf_printf(b,
                       "      <rdf:li rdf:parseType=\"Resource\">"
                       "<pdfaProperty:name>%s</pdfaProperty:name>"
                       "<pdfaProperty:valueType>%s</pdfaProperty:valueType>"
                       "<pdfaProperty:category>external</pdfaProperty:category>"
                       "<pdfaProperty:description>%s</pdfaProperty:description></rdf:li>\n",
                       SOHOA_PROPS[i].name, SOHOA_PROPS[i].type, SOHOA_PROPS[i].desc);
    pdf_buf_puts(b, "     </rdf:Seq></pdfaSchema:property>\n"
                    "    </rdf:li>\n"
                    "   </rdf:Bag></pdfaExtension:schemas>\n");
    end_desc(b);
}

static void sohoa_props(pdf_buf *b, const doc_metadata *m, int pages)
{
    begin_desc(b, "sohoa", XMP_SOHOA_NS);
    simple(b, "sohoa:NumberNotation", field(m, META_NUMBER_NOTATION));
    if (m->has_number)
        pdf_buf_printf(b, "   <sohoa:Number>%ld</sohoa:Number>\n", m->number);
    simple(b, "sohoa:Notation", field(m, META_NOTATION));
    if (iso_date(field(m, META_DATE)))
        simple(b, "sohoa:DocumentDate", field(m, META_DATE));
    simple(b, "sohoa:Issuer", field(m, META_ISSUER));
    simple(b, "sohoa:DocumentType", field(m, META_TYPE));
    simple(b, "sohoa:Urgency", field(m, META_URGENCY));
    simple(b, "sohoa:Secrecy", field(m, META_SECRECY));
    pdf_buf_printf(b, "   <sohoa:Pages>%d</sohoa:Pages>\n", pages);
    end_desc(b);
}

int xmp_build(pdf_buf *b, const doc_metadata *meta, const xmp_doc_strings *ds, long long created,
              int pages)
{
    char date[26];
    xmp_format_date(created, date);

    pdf_buf_puts(b, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                    " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n");

    begin_desc(b, "pdfaid", "http://www.aiim.org/pdfa/ns/id/");
    pdf_buf_puts(b, "   <pdfaid:part>2</pdfaid:part>\n"
                    "   <pdfaid:conformance>B</pdfaid:conformance>\n");
    end_desc(b);

    begin_desc(b, "xmp", "http://ns.adobe.com/xap/1.0/");
    simple(b, "xmp:CreateDate", date);
    simple(b, "xmp:ModifyDate", date);
    simple(b, "xmp:MetadataDate", date);
    simple(b, "xmp:CreatorTool", XMP_CREATOR_TOOL);
    end_desc(b);

    begin_desc(b, "pdf", "http://ns.adobe.com/pdf/1.3/");
    simple(b, "pdf:Producer", XMP_PRODUCER);
    end_desc(b);

    begin_desc(b, "dc", "http://purl.org/dc/elements/1.1/");
    simple(b, "dc:format", "application/pdf");
    alt(b, "dc:title", ds->title);
    alt(b, "dc:description", ds->description);
    seq1(b, "dc:creator", ds->creator);
    if (iso_date(field(meta, META_DATE)))
        seq1(b, "dc:date", field(meta, META_DATE));
    end_desc(b);

    if (meta) {
        sohoa_props(b, meta, pages);
        extension_schema(b);
    }

    pdf_buf_puts(b, " </rdf:RDF>\n</x:xmpmeta>\n");
    /* Padding lets an editor update the packet in place. */
    for (int i = 0; i < 20; i++)
        pdf_buf_puts(b, "                                                                   "
                        "                             \n");
    pdf_buf_puts(b, "<?xpacket end=\"w\"?>");
    return b->oom ? -1 : 0;
}
