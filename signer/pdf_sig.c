/* pdf_sig.c — incremental update with a PAdES signature field; listing
 * signatures. See pdf_sig.h.
 *
 * The input is mapped once and that single view serves everything: qpdf
 * parses it from memory, startxref is read from its tail, and its bytes are
 * copied to the output, so all three agree even if the file changes on
 * disk meanwhile.
 */
#include "pdf_sig.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <leptonica/allheaders.h>
#include <openssl/rand.h>
#include <qpdf/qpdf-c.h>
#include <unistr.h>
#include <zlib.h>

#include "../firmware/log.h"
#include "../ocr/pdf_buf.h"
#include "sigfont.h"

#define MM (72.0 / 25.4)
#define VN_OFFSET (7 * 3600) /* UTC+07:00, no daylight saving */
#define BYTE_RANGE_SLOT 64   /* fixed width of the /ByteRange value, filled in place */
#define MAX_RESERVE (1u << 20)
#define MAX_DEPTH 32 /* page tree and field tree depth guard (cycles) */

/* ---- the input file ---------------------------------------------------- */

typedef struct pdf_src {
    const char *path;
    unsigned char *data;
    size_t size;
    long long startxref; /* offset of the last xref section */
    int xref_stream;     /* the last section is an xref stream (else a table) */
} pdf_src;

static void src_close(pdf_src *s)
{
    if (s->data)
        munmap(s->data, s->size);
    s->data = NULL;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

/* Reads the last startxref (within the last 1 KB, where ISO 32000-1 7.5.5
 * puts it) and looks at what it points to. */
static int src_find_xref(pdf_src *s, sohoa_err *err)
{
    size_t tail = s->size < 1024 ? s->size : 1024;
    const unsigned char *t = s->data + s->size - tail;
    const unsigned char *kw = NULL;
    for (size_t i = tail >= 9 ? tail - 9 : 0;; i--) {
        if (memcmp(t + i, "startxref", 9) == 0) {
            kw = t + i;
            break;
        }
        if (i == 0)
            break;
    }
    const unsigned char *end = s->data + s->size;
    if (!kw)
        return err_set(err, SOHOA_EINPUT,
                       "%s: truncated or not a PDF (no startxref in the last 1 KB); get the "
                       "complete file again",
                       s->path);
    const unsigned char *p = kw + 9;
    while (p < end && is_ws(*p))
        p++;
    long long off = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
        off = off * 10 + (*p++ - '0');
        digits++;
    }
    while (p < end && is_ws(*p))
        p++;
    if (digits == 0 || end - p < 5 || memcmp(p, "%%EOF", 5) != 0)
        return err_set(err, SOHOA_EINPUT,
                       "%s: truncated PDF (startxref not followed by an offset and %%%%EOF); get "
                       "the complete file again",
                       s->path);
    if (off <= 0 || (size_t)off >= s->size)
        return err_set(err, SOHOA_EINPUT, "%s: damaged PDF (startxref %lld is outside the file)",
                       s->path, off);
    s->startxref = off;
    p = s->data + off;
    while (p < end && is_ws(*p))
        p++;
    if (end - p >= 4 && memcmp(p, "xref", 4) == 0) {
        s->xref_stream = 0;
        return 0;
    }
    /* "N G obj << ... /Type /XRef ... >> stream" */
    size_t win = (size_t)(end - p) < 4096 ? (size_t)(end - p) : 4096;
    const unsigned char *st = memmem(p, win, "stream", 6);
    if (p < end && *p >= '0' && *p <= '9' && memmem(p, win, "obj", 3) && st &&
        memmem(p, (size_t)(st - p), "/XRef", 5)) {
        s->xref_stream = 1;
        return 0;
    }
    return err_set(err, SOHOA_EINPUT,
                   "%s: damaged PDF (startxref %lld points to neither an xref table nor an xref "
                   "stream)",
                   s->path, off);
}

static int src_open(pdf_src *s, const char *path, sohoa_err *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno(err, SOHOA_EINPUT, errno, "%s: cannot open the PDF", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return err_errno(err, SOHOA_EINPUT, e, "%s: cannot stat the PDF", path);
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 32) {
        close(fd);
        return err_set(err, SOHOA_EINPUT, "%s: not a PDF (%s)", path,
                       S_ISREG(st.st_mode) ? "too short" : "not a regular file");
    }
    s->size = (size_t)st.st_size;
    void *m = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED)
        return err_errno(err, SOHOA_EWORK, e, "%s: cannot map the PDF", path);
    s->data = m;
    if (!memmem(s->data, s->size < 1024 ? s->size : 1024, "%PDF-", 5)) {
        src_close(s);
        return err_set(err, SOHOA_EINPUT, "%s: not a PDF (no %%PDF- header)", path);
    }
    if (src_find_xref(s, err) != 0) {
        src_close(s);
        return -1;
    }
    return 0;
}

/* ---- qpdf ------------------------------------------------------------- */

/* If qpdf recorded an error, reports it as a damaged input. qpdf's
 * messages can span lines; keep the first. */
static int q_failed(qpdf_data q, const char *path, sohoa_err *err)
{
    if (!qpdf_has_error(q))
        return 0;
    qpdf_error e = qpdf_get_error(q);
    char detail[300];
    snprintf(detail, sizeof detail, "%s", e ? qpdf_get_error_message_detail(q, e) : "");
    detail[strcspn(detail, "\r\n")] = '\0';
    err_set(err, SOHOA_EINPUT, "%s: damaged or unreadable PDF (%s); re-create or repair it", path,
            detail[0] ? detail : "qpdf error");
    return 1;
}

static qpdf_data q_open(const pdf_src *s, sohoa_err *err)
{
    qpdf_data q = qpdf_init();
    qpdf_silence_errors(q);
    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    /* No repair: an update appended to a file that only reads after
     * reconstruction would chain to an xref other readers reject. */
    qpdf_set_attempt_recovery(q, QPDF_FALSE);
    qpdf_read_memory(q, s->path, (const char *)s->data, s->size, NULL);
    if (q_failed(q, s->path, err)) {
        qpdf_cleanup(&q);
        return NULL;
    }
    return q;
}

/* Appends the unparsed form of `oh` ("12 0 R" for an indirect object). */
static void put_oh(pdf_buf *b, qpdf_data q, qpdf_oh oh)
{
    const char *s = qpdf_oh_unparse(q, oh);
    pdf_buf_put(b, s, qpdf_get_last_string_length(q));
}

/* The dictionary's keys (malloc'd copies; the iterator's strings do not
 * survive the next call). Returns the count, -1 on ENOMEM. */
static int dict_keys(qpdf_data q, qpdf_oh dict, char ***keys)
{
    int n = 0, cap = 0;
    char **k = NULL;
    qpdf_oh_begin_dict_key_iter(q, dict);
    while (qpdf_oh_dict_more_keys(q)) {
        const char *key = qpdf_oh_dict_next_key(q);
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nk = realloc(k, (size_t)cap * sizeof *k);
            if (!nk)
                goto oom;
            k = nk;
        }
        if (!(k[n] = strdup(key)))
            goto oom;
        n++;
    }
    *keys = k;
    return n;
oom:
    for (int i = 0; i < n; i++)
        free(k[i]);
    free(k);
    return -1;
}

static void free_keys(char **keys, int n)
{
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* Appends "/Key value" for every entry of `dict` whose key is not in the
 * NULL-terminated `skip` list; values keep their indirect references. */
static int put_dict_entries(pdf_buf *b, qpdf_data q, qpdf_oh dict, const char *const *skip)
{
    char **keys;
    int n = dict_keys(q, dict, &keys);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int skipped = 0;
        for (const char *const *s = skip; *s; s++)
            skipped |= strcmp(keys[i], *s) == 0;
        if (skipped)
            continue;
        /* Keys come back with escapes resolved; unparse a name to get
         * them escaped again (#xx) where needed. */
        qpdf_oh name = qpdf_oh_new_name(q, keys[i]);
        put_oh(b, q, name);
        qpdf_oh_release(q, name);
        pdf_buf_puts(b, " ");
        qpdf_oh v = qpdf_oh_get_key(q, dict, keys[i]);
        put_oh(b, q, v);
        qpdf_oh_release(q, v);
        pdf_buf_puts(b, "\n");
    }
    free_keys(keys, n);
    return 0;
}

/* Looks `key` up on a page and, for the inheritable attributes, on its
 * ancestors (ISO 32000-1 7.7.3.4). Returns a null handle if absent. */
static qpdf_oh page_attr(qpdf_data q, qpdf_oh page, const char *key)
{
    qpdf_oh node = page;
    for (int depth = 0; depth < MAX_DEPTH && qpdf_oh_is_dictionary(q, node); depth++) {
        if (qpdf_oh_has_key(q, node, key))
            return qpdf_oh_get_key(q, node, key);
        node = qpdf_oh_get_key(q, node, "/Parent");
    }
    return qpdf_oh_new_null(q);
}

/* Reads a rectangle array; returns 0 if `oh` is one. */
static int get_rect(qpdf_data q, qpdf_oh oh, pdf_rect *r)
{
    if (!qpdf_oh_is_array(q, oh) || qpdf_oh_get_array_n_items(q, oh) != 4)
        return -1;
    double v[4];
    for (int i = 0; i < 4; i++) {
        qpdf_oh it = qpdf_oh_get_array_item(q, oh, i);
        if (!qpdf_oh_get_value_as_number(q, it, &v[i]))
            return -1;
    }
    r->x0 = fmin(v[0], v[2]);
    r->x1 = fmax(v[0], v[2]);
    r->y0 = fmin(v[1], v[3]);
    r->y1 = fmax(v[1], v[3]);
    return r->x1 > r->x0 && r->y1 > r->y0 ? 0 : -1;
}

/* ---- what the update needs to know about the input ---------------------- */

typedef struct doc_info {
    long long size; /* trailer /Size: first free object number */
    int root_id, root_gen;
    pdf_buf info; /* trailer /Info value, unparsed ("" if none) */
    unsigned char id0[64];
    size_t id0_len; /* 0: the file has no /ID */
    int page_id, page_gen;
    pdf_rect box;        /* CropBox within MediaBox */
    int rotate;          /* 0, 90, 180, 270 */
    pdf_buf page_rest;   /* page 1 entries but /Annots */
    int annots_indirect; /* /Annots is an indirect array: rewrite that object */
    int annots_id, annots_gen;
    pdf_buf annots;    /* existing /Annots items, unparsed */
    pdf_buf root_rest; /* catalog entries but /AcroForm */
    pdf_buf acro_rest; /* /AcroForm entries but /Fields, /SigFlags, /NeedAppearances */
    pdf_buf fields;    /* existing /Fields items, unparsed */
    char **names;      /* /T of the top-level fields (UTF-8) */
    int n_names;
} doc_info;

static void doc_free(doc_info *d)
{
    pdf_buf_free(&d->info);
    pdf_buf_free(&d->page_rest);
    pdf_buf_free(&d->annots);
    pdf_buf_free(&d->root_rest);
    pdf_buf_free(&d->acro_rest);
    pdf_buf_free(&d->fields);
    free_keys(d->names, d->n_names);
}

/* Appends the items of array `arr` (if it is one), space-separated. */
static void put_array_items(pdf_buf *b, qpdf_data q, qpdf_oh arr)
{
    if (!qpdf_oh_is_array(q, arr))
        return;
    int n = qpdf_oh_get_array_n_items(q, arr);
    for (int i = 0; i < n; i++) {
        qpdf_oh it = qpdf_oh_get_array_item(q, arr, i);
        put_oh(b, q, it);
        pdf_buf_puts(b, " ");
        qpdf_oh_release(q, it);
    }
}

static int doc_read(qpdf_data q, const pdf_src *s, doc_info *d, sohoa_err *err)
{
    const char *path = s->path;
    qpdf_oh trailer = qpdf_get_trailer(q);
    if (qpdf_is_encrypted(q) || qpdf_oh_has_key(q, trailer, "/Encrypt"))
        return err_set(err, SOHOA_EINPUT,
                       "%s: encrypted PDF; remove the encryption (qpdf --decrypt) before signing",
                       path);
    long long size = 0;
    if (!qpdf_oh_get_value_as_longlong(q, qpdf_oh_get_key(q, trailer, "/Size"), &size) ||
        size <= 0 || size > 8000000)
        return err_set(err, SOHOA_EINPUT, "%s: damaged PDF (no valid trailer /Size)", path);
    d->size = size;

    qpdf_oh root = qpdf_get_root(q);
    if (q_failed(q, path, err))
        return -1;
    if (!qpdf_oh_is_dictionary(q, root) || !qpdf_oh_is_indirect(q, root))
        return err_set(err, SOHOA_EINPUT, "%s: damaged PDF (no document catalog)", path);
    d->root_id = qpdf_oh_get_object_id(q, root);
    d->root_gen = qpdf_oh_get_generation(q, root);
    if (qpdf_oh_has_key(q, trailer, "/Info"))
        put_oh(&d->info, q, qpdf_oh_get_key(q, trailer, "/Info"));

    qpdf_oh id = qpdf_oh_get_key(q, trailer, "/ID");
    if (qpdf_oh_is_array(q, id) && qpdf_oh_get_array_n_items(q, id) >= 1) {
        size_t len = 0;
        const char *v = qpdf_oh_get_binary_string_value(q, qpdf_oh_get_array_item(q, id, 0), &len);
        if (v && len > 0 && len <= sizeof d->id0) {
            memcpy(d->id0, v, len);
            d->id0_len = len;
        }
    }

    /* Page 1 and its visible area. */
    int npages = qpdf_get_num_pages(q);
    if (q_failed(q, path, err))
        return -1;
    if (npages < 1)
        return err_set(err, SOHOA_EINPUT, "%s: the PDF has no page to sign on", path);
    qpdf_oh page = qpdf_get_page_n(q, 0);
    if (q_failed(q, path, err))
        return -1;
    d->page_id = qpdf_oh_get_object_id(q, page);
    d->page_gen = qpdf_oh_get_generation(q, page);
    pdf_rect media, crop;
    if (get_rect(q, page_attr(q, page, "/MediaBox"), &media) != 0)
        return err_set(err, SOHOA_EINPUT, "%s: damaged PDF (page 1 has no valid /MediaBox)", path);
    d->box = media;
    if (get_rect(q, page_attr(q, page, "/CropBox"), &crop) == 0) {
        /* The crop box is clipped to the media box (ISO 32000-1 14.11.2). */
        pdf_rect c = {fmax(crop.x0, media.x0), fmax(crop.y0, media.y0), fmin(crop.x1, media.x1),
                      fmin(crop.y1, media.y1)};
        if (c.x1 > c.x0 && c.y1 > c.y0)
            d->box = c;
    }
    long long rot = 0;
    qpdf_oh_get_value_as_longlong(q, page_attr(q, page, "/Rotate"), &rot);
    rot = ((rot % 360) + 360) % 360;
    d->rotate = rot % 90 == 0 ? (int)rot : 0;

    static const char *const page_skip[] = {"/Annots", NULL};
    static const char *const root_skip[] = {"/AcroForm", NULL};
    /* /NeedAppearances true would have viewers regenerate field
     * appearances, i.e. change the signed document. */
    static const char *const acro_skip[] = {"/Fields", "/SigFlags", "/NeedAppearances", NULL};
    qpdf_oh annots = qpdf_oh_get_key(q, page, "/Annots");
    if (qpdf_oh_is_array(q, annots) && qpdf_oh_is_indirect(q, annots)) {
        d->annots_indirect = 1;
        d->annots_id = qpdf_oh_get_object_id(q, annots);
        d->annots_gen = qpdf_oh_get_generation(q, annots);
    }
    put_array_items(&d->annots, q, annots);
    if (put_dict_entries(&d->page_rest, q, page, page_skip) != 0 ||
        put_dict_entries(&d->root_rest, q, root, root_skip) != 0)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", path);

    qpdf_oh acro = qpdf_oh_get_key(q, root, "/AcroForm");
    if (qpdf_oh_is_dictionary(q, acro)) {
        if (put_dict_entries(&d->acro_rest, q, acro, acro_skip) != 0)
            return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
        qpdf_oh fields = qpdf_oh_get_key(q, acro, "/Fields");
        put_array_items(&d->fields, q, fields);
        int n = qpdf_oh_is_array(q, fields) ? qpdf_oh_get_array_n_items(q, fields) : 0;
        d->names = calloc((size_t)n + 1, sizeof *d->names);
        if (!d->names)
            return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
        for (int i = 0; i < n; i++) {
            qpdf_oh t = qpdf_oh_get_key_if_dict(q, qpdf_oh_get_array_item(q, fields, i), "/T");
            const char *v = NULL;
            size_t len = 0;
            if (qpdf_oh_is_string(q, t) && qpdf_oh_get_value_as_utf8(q, t, &v, &len) &&
                !(d->names[d->n_names] = strndup(v, len)))
                return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
            if (d->names[d->n_names])
                d->n_names++;
        }
    }
    if (q_failed(q, path, err))
        return -1;
    if (d->info.oom || d->page_rest.oom || d->annots.oom || d->root_rest.oom || d->acro_rest.oom ||
        d->fields.oom)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
    return 0;
}

/* ---- strings and dates --------------------------------------------------- */

/* Appends a PDF text string: a literal for printable ASCII, else UTF-16BE
 * with a byte order mark (ISO 32000-1 7.9.2.2). `s` is valid UTF-8. */
static void put_text_string(pdf_buf *b, const char *s)
{
    int ascii = 1;
    for (const char *p = s; *p; p++)
        ascii &= (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F;
    if (ascii) {
        pdf_buf_puts(b, "(");
        for (const char *p = s; *p; p++) {
            if (*p == '(' || *p == ')' || *p == '\\')
                pdf_buf_puts(b, "\\");
            pdf_buf_put(b, p, 1);
        }
        pdf_buf_puts(b, ")");
        return;
    }
    pdf_buf_puts(b, "<FEFF");
    const uint8_t *p = (const uint8_t *)s;
    while (*p) {
        ucs4_t cp;
        int n = u8_strmbtouc(&cp, p);
        if (n <= 0)
            break;
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            pdf_buf_printf(b, "%04X%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        } else {
            pdf_buf_printf(b, "%04X", (unsigned)cp);
        }
        p += n;
    }
    pdf_buf_puts(b, ">");
}

/* Broken-down Vietnam time of `t`, whatever TZ says. */
static void vn_time(time_t t, struct tm *tm)
{
    time_t v = t + VN_OFFSET;
    gmtime_r(&v, tm);
}

void pdf_sig_format_time(time_t t, char *buf, size_t size)
{
    struct tm tm;
    vn_time(t, &tm);
    snprintf(buf, size, "%02d/%02d/%04d %02d:%02d:%02d +07:00", tm.tm_mday, tm.tm_mon + 1,
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Parses a PDF date "D:YYYYMMDDHHmmSSOHH'mm'" (fields after the year
 * optional, O = '+', '-' or 'Z'); returns (time_t)-1 if malformed. */
static time_t parse_pdf_date(const char *s)
{
    if (strncmp(s, "D:", 2) == 0)
        s += 2;
    int f[6] = {0, 1, 1, 0, 0, 0};
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        if (!(*s >= '0' && *s <= '9')) {
            if (i == 0)
                return (time_t)-1;
            break;
        }
        int v = 0;
        for (int k = 0; k < width[i]; k++, s++) {
            if (!(*s >= '0' && *s <= '9'))
                return (time_t)-1;
            v = v * 10 + (*s - '0');
        }
        f[i] = v;
    }
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return (time_t)-1;
    long off = 0;
    if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, hh = 0, mm = 0;
        s++;
        if (sscanf(s, "%2d'%2d", &hh, &mm) < 1 || hh > 23 || mm > 59)
            return (time_t)-1;
        off = sign * (hh * 3600L + mm * 60L);
    }
    struct tm tm = {.tm_year = f[0] - 1900,
                    .tm_mon = f[1] - 1,
                    .tm_mday = f[2],
                    .tm_hour = f[3],
                    .tm_min = f[4],
                    .tm_sec = f[5]};
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? t : t - off;
}

/* ---- appearance: layout ---------------------------------------------------- */

/* Visible orientation: (u, v) with the origin at the bottom left of the
 * page as displayed, u to the right, v up; /Rotate turns the page
 * clockwise for display. */
static void vis_to_user(int rot, const pdf_rect *b, double u, double v, double *x, double *y)
{
    switch (rot) {
    case 90:
        *x = b->x1 - v;
        *y = b->y0 + u;
        break;
    case 180:
        *x = b->x1 - u;
        *y = b->y1 - v;
        break;
    case 270:
        *x = b->x0 + v;
        *y = b->y1 - u;
        break;
    default:
        *x = b->x0 + u;
        *y = b->y0 + v;
    }
}

static void user_to_vis(int rot, const pdf_rect *b, double x, double y, double *u, double *v)
{
    switch (rot) {
    case 90:
        *u = y - b->y0;
        *v = b->x1 - x;
        break;
    case 180:
        *u = b->x1 - x;
        *v = b->y1 - y;
        break;
    case 270:
        *u = b->y1 - y;
        *v = x - b->x0;
        break;
    default:
        *u = x - b->x0;
        *v = y - b->y0;
    }
}

/* Maps a rectangle between the two spaces (corners, then normalized). */
static pdf_rect map_rect(int rot, const pdf_rect *box, const pdf_rect *r, int to_user)
{
    double ax, ay, bx, by;
    if (to_user) {
        vis_to_user(rot, box, r->x0, r->y0, &ax, &ay);
        vis_to_user(rot, box, r->x1, r->y1, &bx, &by);
    } else {
        user_to_vis(rot, box, r->x0, r->y0, &ax, &ay);
        user_to_vis(rot, box, r->x1, r->y1, &bx, &by);
    }
    return (pdf_rect){fmin(ax, bx), fmin(ay, by), fmax(ax, bx), fmax(ay, by)};
}

static int overlaps(const pdf_rect *a, const pdf_rect *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

#define AVOID_GAP 2.0 /* points kept between the box and an area to avoid */

/* Places a bw x bh box (visible space, page bw_page x bh_page) at the top
 * right: right edge at W - mr, top edge at H - mt. If it meets an area to
 * avoid, the nearest position to the left and/or below that is free and
 * still inside the top-right quarter wins. The nearest free position has
 * each edge either at the default or just clear of some area's edge (else
 * it could slide closer), so trying those combinations is exact. If none is
 * free the default stays: keeping clear is best effort only. Returns 1 if
 * the result is clear. */
static int place_box(double W, double H, double bw, double bh, double mt, double mr,
                     const pdf_rect *avoid, int n_avoid, pdf_rect *out)
{
    double r0 = W - mr, t0 = H - mt;
    *out = (pdf_rect){r0 - bw, t0 - bh, r0, t0};
    int clear = 1;
    for (int i = 0; i < n_avoid; i++)
        clear &= !overlaps(out, &avoid[i]);
    if (clear)
        return 1;
    double best = INFINITY;
    for (int i = -1; i < n_avoid; i++) {
        double r = i < 0 ? r0 : avoid[i].x0 - AVOID_GAP;
        if (r > r0 || r - bw < W / 2)
            continue;
        for (int j = -1; j < n_avoid; j++) {
            double t = j < 0 ? t0 : avoid[j].y0 - AVOID_GAP;
            if (t > t0 || t - bh < H / 2)
                continue;
            pdf_rect c = {r - bw, t - bh, r, t};
            int ok = 1;
            for (int k = 0; k < n_avoid && ok; k++)
                ok = !overlaps(&c, &avoid[k]);
            double dist = (r0 - r) * (r0 - r) + (t0 - t) * (t0 - t);
            if (ok && dist < best) {
                best = dist;
                *out = c;
            }
        }
    }
    return isfinite(best);
}

/* ---- appearance: seal image ------------------------------------------------ */

typedef struct seal_img {
    int w, h;
    double xres;        /* pixels per inch, 0 if unknown */
    pdf_buf rgb, alpha; /* raw samples; alpha empty when opaque */
} seal_img;

static void seal_free(seal_img *s)
{
    pdf_buf_free(&s->rgb);
    pdf_buf_free(&s->alpha);
}

static int seal_load(const char *path, seal_img *s, sohoa_err *err)
{
    memset(s, 0, sizeof *s);
    if (access(path, R_OK) != 0)
        return err_errno(err, SOHOA_EINPUT, errno, "seal image %s: cannot read it", path);
    PIX *pix = pixRead(path);
    if (!pix)
        return err_set(err, SOHOA_EINPUT,
                       "seal image %s: not a readable image (PNG expected); check the seal path",
                       path);
    int alpha = pixGetDepth(pix) == 32 && pixGetSpp(pix) == 4;
    PIX *p32 = alpha ? pixClone(pix) : pixConvertTo32(pix);
    s->w = pixGetWidth(pix);
    s->h = pixGetHeight(pix);
    s->xres = pixGetXRes(pix);
    pixDestroy(&pix);
    if (!p32 || s->w <= 0 || s->h <= 0 || s->w > 10000 || s->h > 10000) {
        pixDestroy(&p32);
        return err_set(err, SOHOA_EINPUT, "seal image %s: unusable size or format", path);
    }
    l_uint32 *data = pixGetData(p32);
    int wpl = pixGetWpl(p32), opaque = 1;
    for (int y = 0; y < s->h; y++) {
        for (int x = 0; x < s->w; x++) {
            l_int32 r, g, b, a;
            extractRGBAValues(data[y * wpl + x], &r, &g, &b, &a);
            uint8_t px[3] = {(uint8_t)r, (uint8_t)g, (uint8_t)b};
            pdf_buf_put(&s->rgb, px, 3);
            if (alpha) {
                pdf_buf_u8(&s->alpha, (uint8_t)a);
                opaque &= a == 255;
            }
        }
    }
    pixDestroy(&p32);
    if (opaque)
        pdf_buf_free(&s->alpha);
    if (s->rgb.oom || s->alpha.oom)
        return err_set(err, SOHOA_EWORK, "seal image %s: out of memory", path);
    return 0;
}

/* Appends "<< dict /Filter /FlateDecode /Length n >> stream ... endstream". */
static int put_flate_stream(pdf_buf *o, const char *dict, const pdf_buf *data)
{
    uLongf clen = compressBound(data->len);
    unsigned char *z = malloc(clen);
    if (!z || compress2(z, &clen, data->data, data->len, 6) != Z_OK) {
        free(z);
        return -1;
    }
    pdf_buf_printf(o, "<< %s /Filter /FlateDecode /Length %lu >>\nstream\n", dict,
                   (unsigned long)clen);
    pdf_buf_put(o, z, clen);
    pdf_buf_puts(o, "\nendstream");
    free(z);
    return 0;
}

/* ---- the update ------------------------------------------------------------ */

typedef struct xref_ent {
    int num, gen;
    long long off;
} xref_ent;

typedef struct update {
    long long base; /* file offset of out.data[0] */
    pdf_buf out;
    xref_ent *ents;
    int n_ents, cap_ents;
    int oom;
} update;

static void obj_begin(update *u, int num, int gen)
{
    if (u->n_ents == u->cap_ents) {
        int cap = u->cap_ents ? u->cap_ents * 2 : 16;
        xref_ent *e = realloc(u->ents, (size_t)cap * sizeof *e);
        if (!e) {
            u->oom = 1;
            return;
        }
        u->ents = e;
        u->cap_ents = cap;
    }
    u->ents[u->n_ents++] = (xref_ent){num, gen, u->base + (long long)u->out.len};
    pdf_buf_printf(&u->out, "%d %d obj\n", num, gen);
}

static void obj_end(update *u)
{
    pdf_buf_puts(&u->out, "\nendobj\n");
}

static int cmp_ent(const void *a, const void *b)
{
    const xref_ent *x = a, *y = b;
    return (x->num > y->num) - (x->num < y->num);
}

/* Common trailer entries: /Size /Root /Info /ID /Prev. */
static void put_trailer_keys(update *u, const doc_info *d, int size, long long prev,
                             const unsigned char *id1)
{
    pdf_buf *o = &u->out;
    pdf_buf_printf(o, "/Size %d /Root %d %d R", size, d->root_id, d->root_gen);
    if (d->info.len) {
        pdf_buf_puts(o, " /Info ");
        pdf_buf_put(o, d->info.data, d->info.len);
    }
    /* The first /ID element is the permanent identifier: kept; the second
     * changes with every revision. */
    pdf_buf_puts(o, " /ID [<");
    const unsigned char *id0 = d->id0_len ? d->id0 : id1;
    size_t id0_len = d->id0_len ? d->id0_len : 16;
    for (size_t i = 0; i < id0_len; i++)
        pdf_buf_printf(o, "%02x", id0[i]);
    pdf_buf_puts(o, "> <");
    for (int i = 0; i < 16; i++)
        pdf_buf_printf(o, "%02x", id1[i]);
    pdf_buf_printf(o, ">] /Prev %lld", prev);
}

/* Writes the xref section (same kind as the input's last one), the
 * trailer and %%EOF. `next` is the next free object number. */
static void put_xref(update *u, const doc_info *d, const pdf_src *s, int next)
{
    unsigned char id1[16];
    if (RAND_bytes(id1, sizeof id1) != 1) {
        /* Uniqueness, not secrecy, is what the ID needs. */
        uint64_t h = (uint64_t)time(NULL) ^ ((uint64_t)s->size << 20) ^ (uint64_t)getpid();
        for (int i = 0; i < 16; i++, h = h * 6364136223846793005ULL + 1442695040888963407ULL)
            id1[i] = (unsigned char)(h >> 56);
    }
    pdf_buf *o = &u->out;
    if (!s->xref_stream) {
        long long xref_off = u->base + (long long)o->len;
        qsort(u->ents, (size_t)u->n_ents, sizeof *u->ents, cmp_ent);
        pdf_buf_puts(o, "xref\n");
        for (int i = 0; i < u->n_ents;) {
            int j = i + 1;
            while (j < u->n_ents && u->ents[j].num == u->ents[j - 1].num + 1)
                j++;
            pdf_buf_printf(o, "%d %d\n", u->ents[i].num, j - i);
            for (; i < j; i++) /* 20 bytes each, 2-character end of line */
                pdf_buf_printf(o, "%010lld %05d n\r\n", u->ents[i].off, u->ents[i].gen);
        }
        pdf_buf_puts(o, "trailer\n<< ");
        put_trailer_keys(u, d, next, s->startxref, id1);
        pdf_buf_printf(o, " >>\nstartxref\n%lld\n%%%%EOF\n", xref_off);
        return;
    }
    /* Uncompressed xref stream (ISO 32000-1 7.5.8), listing itself too. */
    int self = next;
    obj_begin(u, self, 0);
    long long xref_off = u->ents[u->n_ents - 1].off;
    qsort(u->ents, (size_t)u->n_ents, sizeof *u->ents, cmp_ent);
    long long max_off = xref_off;
    int w = 1;
    while (w < 8 && max_off >> (8 * w))
        w++;
    if (w < 4)
        w = 4;
    pdf_buf data = {0}, index = {0};
    for (int i = 0; i < u->n_ents;) {
        int j = i + 1;
        while (j < u->n_ents && u->ents[j].num == u->ents[j - 1].num + 1)
            j++;
        pdf_buf_printf(&index, "%s%d %d", i ? " " : "", u->ents[i].num, j - i);
        for (; i < j; i++) {
            pdf_buf_u8(&data, 1);
            for (int k = w - 1; k >= 0; k--)
                pdf_buf_u8(&data, (uint8_t)(u->ents[i].off >> (8 * k)));
            pdf_buf_u16(&data, (uint16_t)u->ents[i].gen);
        }
    }
    pdf_buf_puts(o, "<< /Type /XRef ");
    put_trailer_keys(u, d, self + 1, s->startxref, id1);
    pdf_buf_printf(o, " /W [1 %d 2] /Index [", w);
    pdf_buf_put(o, index.data, index.len);
    pdf_buf_printf(o, "] /Length %zu >>\nstream\n", data.len);
    pdf_buf_put(o, data.data, data.len);
    pdf_buf_puts(o, "\nendstream");
    obj_end(u);
    u->oom |= data.oom || index.oom;
    pdf_buf_free(&data);
    pdf_buf_free(&index);
    pdf_buf_printf(o, "startxref\n%lld\n%%%%EOF\n", xref_off);
}

/* The appearance: sizes in points in the page's visible orientation. */
typedef struct appearance {
    double w, h;
    pdf_buf content; /* content stream */
    int has_font, has_seal;
} appearance;

#define PAD 2.0      /* inner margin of the box */
#define SEAL_GAP 4.0 /* between seal and text */
#define LEADING 1.2  /* line distance, in font sizes */
#define SEAL_MAX (45 * MM)

/* Lays out the text lines (and seal) and writes the content stream. */
static int build_appearance(const pdf_sig_request *req, sigfont *font, const seal_img *seal,
                            appearance *ap, sohoa_err *err)
{
    double size = req->font_size > 0 ? req->font_size : 10;
    double lead = size * LEADING;
    double asc = font ? sigfont_ascent(font) * size / 1000 : 0;
    double desc = font ? -sigfont_descent(font) * size / 1000 : 0;
    pdf_buf *hex = calloc((size_t)(req->n_lines > 0 ? req->n_lines : 1), sizeof *hex);
    if (!hex)
        return err_set(err, SOHOA_EWORK, "signature appearance: out of memory");
    double text_w = 0;
    int rc = 0;
    for (int i = 0; i < req->n_lines && rc == 0; i++) {
        double w = 0;
        rc = sigfont_encode(font, req->lines[i], &hex[i], &w, err);
        text_w = fmax(text_w, w * size / 1000);
    }
    double text_h = req->n_lines > 0 ? asc + desc + (req->n_lines - 1) * lead : 0;
    double sw = 0, sh = 0;
    if (rc == 0 && seal) {
        /* Real size when the PNG says its resolution (the seal is printed
         * at its true diameter, Thông tư 01/2019), else as tall as the
         * text; never larger than a real seal. */
        double aspect = (double)seal->w / seal->h;
        sh = seal->xres > 0 ? seal->h * 72.0 / seal->xres : (text_h > 0 ? text_h : 30 * MM);
        if (sh > SEAL_MAX)
            sh = SEAL_MAX;
        sw = sh * aspect;
        if (sw > SEAL_MAX) {
            sw = SEAL_MAX;
            sh = sw / aspect;
        }
    }
    ap->w = PAD + (seal ? sw + (req->n_lines > 0 ? SEAL_GAP : 0) : 0) + text_w + PAD;
    ap->h = PAD + fmax(text_h, sh) + PAD;
    pdf_buf *c = &ap->content;
    if (rc == 0 && seal) {
        ap->has_seal = 1;
        pdf_buf_puts(c, "q ");
        pdf_buf_num(c, sw);
        pdf_buf_puts(c, " 0 0 ");
        pdf_buf_num(c, sh);
        pdf_buf_puts(c, " ");
        pdf_buf_num(c, PAD);
        pdf_buf_puts(c, " ");
        pdf_buf_num(c, (ap->h - sh) / 2);
        pdf_buf_puts(c, " cm /Im0 Do Q\n");
    }
    if (rc == 0 && req->n_lines > 0) {
        ap->has_font = 1;
        double x = PAD + (seal ? sw + SEAL_GAP : 0);
        double y = (ap->h + text_h) / 2 - asc; /* first baseline, block centred */
        pdf_buf_puts(c, "BT\n/F0 ");
        pdf_buf_num(c, size);
        pdf_buf_puts(c, " Tf 0 g\n");
        pdf_buf_num(c, x);
        pdf_buf_puts(c, " ");
        pdf_buf_num(c, y);
        pdf_buf_puts(c, " Td\n");
        for (int i = 0; i < req->n_lines; i++) {
            if (i) {
                pdf_buf_puts(c, "0 ");
                pdf_buf_num(c, -lead);
                pdf_buf_puts(c, " Td\n");
            }
            pdf_buf_put(c, hex[i].data, hex[i].len);
            pdf_buf_puts(c, " Tj\n");
        }
        pdf_buf_puts(c, "ET\n");
    }
    for (int i = 0; i < req->n_lines; i++)
        pdf_buf_free(&hex[i]);
    free(hex);
    if (rc == 0 && c->oom)
        rc = err_set(err, SOHOA_EWORK, "signature appearance: out of memory");
    return rc;
}

/* Checks the request; fills the field name to use. */
static int check_request(const pdf_sig_request *req, const doc_info *d, char *name, size_t cap,
                         sohoa_err *err)
{
    const char *texts[3] = {req->name, req->reason, req->location};
    for (int i = 0; i < 3; i++)
        if (texts[i] && u8_check((const uint8_t *)texts[i], strlen(texts[i])))
            return err_set(err, SOHOA_EINPUT,
                           "signature /Name, /Reason or /Location: not valid "
                           "UTF-8; fix the configured text");
    if (req->contents_reserve > MAX_RESERVE)
        return err_set(err, SOHOA_EINPUT, "signature reserve %zu bytes: too large (at most %u)",
                       req->contents_reserve, MAX_RESERVE);
    if (req->font_size < 0 || req->font_size > 72)
        return err_set(err, SOHOA_EINPUT, "signature font size %g: out of range (0-72 pt)",
                       req->font_size);
    if (req->n_lines < 0 || req->n_lines > 16 || (req->n_lines > 0 && !req->lines))
        return err_set(err, SOHOA_EINPUT, "signature text: %d lines (at most 16)", req->n_lines);
    for (int i = 0; i < req->n_lines; i++)
        if (!req->lines[i])
            return err_set(err, SOHOA_EINPUT, "signature text: line %d missing", i + 1);
    if (req->visible && req->n_lines == 0 && !req->seal_png)
        return err_set(err, SOHOA_EINPUT,
                       "visible signature with neither text nor seal; configure its text");
    if (req->field_name) {
        if (!*req->field_name || strchr(req->field_name, '.') || strlen(req->field_name) >= cap ||
            u8_check((const uint8_t *)req->field_name, strlen(req->field_name)))
            return err_set(err, SOHOA_EINPUT,
                           "signature field name \"%.60s\": must be 1-%zu bytes of UTF-8 "
                           "without '.'",
                           req->field_name, cap - 1);
        for (int i = 0; i < d->n_names; i++)
            if (strcmp(d->names[i], req->field_name) == 0)
                return err_set(err, SOHOA_EINPUT,
                               "signature field name \"%s\": already used in the PDF; choose "
                               "another",
                               req->field_name);
        snprintf(name, cap, "%s", req->field_name);
        return 0;
    }
    for (int k = 1;; k++) {
        snprintf(name, cap, "Signature%d", k);
        int used = 0;
        for (int i = 0; i < d->n_names && !used; i++)
            used = strcmp(d->names[i], name) == 0;
        if (!used)
            return 0;
    }
}

/* Writes all of buf at offset `off`. */
static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Appends "[x0 y0 x1 y1]". */
static void put_rect(pdf_buf *o, const pdf_rect *r)
{
    pdf_buf_puts(o, "[");
    pdf_buf_num(o, r->x0);
    pdf_buf_puts(o, " ");
    pdf_buf_num(o, r->y0);
    pdf_buf_puts(o, " ");
    pdf_buf_num(o, r->x1);
    pdf_buf_puts(o, " ");
    pdf_buf_num(o, r->y1);
    pdf_buf_puts(o, "]");
}

/* Builds the update for document `d` into u; fills prep. */
static int build_update(const pdf_src *s, const doc_info *d, const pdf_sig_request *req, update *u,
                        pdf_sig_prepared *prep, sohoa_err *err)
{
    size_t reserve = req->contents_reserve ? req->contents_reserve : PDF_SIG_DEFAULT_RESERVE;
    if (check_request(req, d, prep->field_name, sizeof prep->field_name, err) != 0)
        return -1;

    sigfont *font = NULL;
    seal_img seal = {0};
    appearance ap = {0};
    pdf_buf fobjs[SIGFONT_NOBJS] = {{0}};
    int rc = -1, has_seal = req->visible && req->seal_png;
    if (req->visible) {
        if (req->n_lines > 0 && !(font = sigfont_open(req->font_path, err)))
            goto done;
        if (has_seal && seal_load(req->seal_png, &seal, err) != 0)
            goto done;
        if (build_appearance(req, font, has_seal ? &seal : NULL, &ap, err) != 0)
            goto done;
    }

    /* Placement in the page's visible orientation, then back to user
     * space. The form's /Matrix turns its content with the page so that
     * it reads upright; the viewer fits the turned /BBox into /Rect. */
    int rot = d->rotate;
    double W = d->box.x1 - d->box.x0, H = d->box.y1 - d->box.y0;
    if (rot == 90 || rot == 270) {
        double t = W;
        W = H;
        H = t;
    }
    pdf_rect rect = {0, 0, 0, 0};
    prep->rect_clear = 1;
    if (req->visible) {
        pdf_rect *av = calloc((size_t)(req->n_avoid > 0 ? req->n_avoid : 1), sizeof *av);
        if (!av) {
            err_set(err, SOHOA_EWORK, "signature placement: out of memory");
            goto done;
        }
        for (int i = 0; i < req->n_avoid; i++)
            av[i] = map_rect(rot, &d->box, &req->avoid[i], 0);
        pdf_rect vis;
        prep->rect_clear =
            place_box(W, H, ap.w, ap.h, req->margin_top > 0 ? req->margin_top : 8 * MM,
                      req->margin_right > 0 ? req->margin_right : 10 * MM, av,
                      req->n_avoid > 0 ? req->n_avoid : 0, &vis);
        free(av);
        rect = map_rect(rot, &d->box, &vis, 1);
    }
    prep->rect = rect;

    /* Object numbers: new objects from the trailer's /Size on. */
    int next = (int)d->size;
    int sig = next++, widget = next++, form = next++;
    int font0 = ap.has_font ? next : 0;
    next += ap.has_font ? SIGFONT_NOBJS : 0;
    int img = ap.has_seal ? next++ : 0;
    int smask = ap.has_seal && seal.alpha.len ? next++ : 0;
    prep->sig_obj = sig;

    pdf_buf *o = &u->out;
    /* The update starts on a line of its own. */
    if (s->data[s->size - 1] != '\n' && s->data[s->size - 1] != '\r')
        pdf_buf_puts(o, "\n");
    pdf_buf_puts(o, "% sohoa signature\n");

    /* Page 1 (or its indirect /Annots array) with the widget added. */
    if (d->annots_indirect) {
        obj_begin(u, d->annots_id, d->annots_gen);
        pdf_buf_puts(o, "[");
        pdf_buf_put(o, d->annots.data, d->annots.len);
        pdf_buf_printf(o, "%d 0 R]", widget);
        obj_end(u);
    } else {
        obj_begin(u, d->page_id, d->page_gen);
        pdf_buf_puts(o, "<<\n");
        pdf_buf_put(o, d->page_rest.data, d->page_rest.len);
        pdf_buf_puts(o, "/Annots [");
        pdf_buf_put(o, d->annots.data, d->annots.len);
        pdf_buf_printf(o, "%d 0 R]\n>>", widget);
        obj_end(u);
    }

    /* Catalog: the form with the new field, SignaturesExist|AppendOnly. */
    obj_begin(u, d->root_id, d->root_gen);
    pdf_buf_puts(o, "<<\n");
    pdf_buf_put(o, d->root_rest.data, d->root_rest.len);
    pdf_buf_puts(o, "/AcroForm <<\n");
    pdf_buf_put(o, d->acro_rest.data, d->acro_rest.len);
    pdf_buf_puts(o, "/Fields [");
    pdf_buf_put(o, d->fields.data, d->fields.len);
    pdf_buf_printf(o, "%d 0 R]\n/SigFlags 3\n>>\n>>", widget);
    obj_end(u);

    /* Field + widget, merged (ISO 32000-1 12.7.3.1). */
    obj_begin(u, widget, 0);
    pdf_buf_puts(o, "<< /Type /Annot /Subtype /Widget /FT /Sig /T ");
    put_text_string(o, prep->field_name);
    pdf_buf_printf(o, " /V %d 0 R /F 132 /P %d %d R /Rect ", sig, d->page_id, d->page_gen);
    put_rect(o, &rect);
    pdf_buf_printf(o, " /AP << /N %d 0 R >> >>", form);
    obj_end(u);

    /* Signature dictionary with the placeholders. */
    struct tm tm;
    vn_time(req->signing_time, &tm);
    obj_begin(u, sig, 0);
    pdf_buf_puts(o, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached\n"
                    "/ByteRange ");
    size_t br_pos = o->len;
    char slot[BYTE_RANGE_SLOT + 1];
    snprintf(slot, sizeof slot, "%-*s", BYTE_RANGE_SLOT, "[0 0 0 0]");
    pdf_buf_puts(o, slot);
    pdf_buf_puts(o, "\n/Contents ");
    size_t lt_pos = o->len;
    pdf_buf_puts(o, "<");
    for (size_t i = 0; i < 2 * reserve; i++)
        pdf_buf_put(o, "0", 1);
    pdf_buf_puts(o, ">");
    size_t gt_end = o->len;
    pdf_buf_printf(o, "\n/M (D:%04d%02d%02d%02d%02d%02d+07'00')", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    const char *keys[3] = {"/Name", "/Reason", "/Location"};
    const char *vals[3] = {req->name, req->reason, req->location};
    for (int i = 0; i < 3; i++)
        if (vals[i] && *vals[i]) {
            pdf_buf_printf(o, " %s ", keys[i]);
            put_text_string(o, vals[i]);
        }
    pdf_buf_puts(o, " >>");
    obj_end(u);

    /* Appearance form. */
    obj_begin(u, form, 0);
    static const char *const matrix[4] = {"1 0 0 1", "0 1 -1 0", "-1 0 0 -1", "0 -1 1 0"};
    pdf_buf_puts(o, "<< /Type /XObject /Subtype /Form /BBox [0 0 ");
    pdf_buf_num(o, req->visible ? ap.w : 0);
    pdf_buf_puts(o, " ");
    pdf_buf_num(o, req->visible ? ap.h : 0);
    pdf_buf_printf(o, "] /Matrix [%s 0 0] /Resources <<", matrix[rot / 90]);
    if (ap.has_font)
        pdf_buf_printf(o, " /Font << /F0 %d 0 R >>", font0);
    if (ap.has_seal)
        pdf_buf_printf(o, " /XObject << /Im0 %d 0 R >>", img);
    pdf_buf_printf(o, " >> /Length %zu >>\nstream\n", ap.content.len);
    pdf_buf_put(o, ap.content.data, ap.content.len);
    pdf_buf_puts(o, "\nendstream");
    obj_end(u);

    if (ap.has_font) {
        if (sigfont_build_objects(font, font0, fobjs, err) != 0)
            goto done;
        for (int i = 0; i < SIGFONT_NOBJS; i++) {
            obj_begin(u, font0 + i, 0);
            pdf_buf_put(o, fobjs[i].data, fobjs[i].len);
            obj_end(u);
        }
    }
    if (ap.has_seal) {
        char dict[160];
        obj_begin(u, img, 0);
        int n = snprintf(dict, sizeof dict,
                         "/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                         "/DeviceRGB /BitsPerComponent 8",
                         seal.w, seal.h);
        if (smask)
            snprintf(dict + n, sizeof dict - (size_t)n, " /SMask %d 0 R", smask);
        u->oom |= put_flate_stream(o, dict, &seal.rgb) != 0;
        obj_end(u);
        if (smask) {
            obj_begin(u, smask, 0);
            snprintf(dict, sizeof dict,
                     "/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                     "/DeviceGray /BitsPerComponent 8",
                     seal.w, seal.h);
            u->oom |= put_flate_stream(o, dict, &seal.alpha) != 0;
            obj_end(u);
        }
    }

    put_xref(u, d, s, next);
    if (u->oom || o->oom) {
        err_set(err, SOHOA_EWORK, "%s: out of memory building the signature", s->path);
        goto done;
    }

    /* Byte ranges: everything but the <hex> string, brackets included (the
     * convention of Acrobat and poppler: the hole is the whole string
     * token). */
    long long total = u->base + (long long)o->len;
    long long a = u->base + (long long)lt_pos, b = u->base + (long long)gt_end;
    prep->byte_range[0] = 0;
    prep->byte_range[1] = a;
    prep->byte_range[2] = b;
    prep->byte_range[3] = total - b;
    prep->contents_offset = a + 1;
    prep->contents_hex_len = 2 * reserve;
    prep->file_size = total;
    char br[BYTE_RANGE_SLOT + 1];
    int n = snprintf(br, sizeof br, "[0 %lld %lld %lld]", a, b, total - b);
    memset(br + n, ' ', (size_t)(BYTE_RANGE_SLOT - n));
    memcpy(o->data + br_pos, br, BYTE_RANGE_SLOT);
    rc = 0;
done:
    for (int i = 0; i < SIGFONT_NOBJS; i++)
        pdf_buf_free(&fobjs[i]);
    pdf_buf_free(&ap.content);
    seal_free(&seal);
    sigfont_free(font);
    return rc;
}

int pdf_sig_prepare(const char *in_path, int out_fd, const pdf_sig_request *req,
                    pdf_sig_prepared *prep, sohoa_err *err)
{
    memset(prep, 0, sizeof *prep);
    /* With O_APPEND, pwrite() ignores its offset on Linux. */
    int fl = fcntl(out_fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || (fl & O_APPEND))
        return err_set(err, SOHOA_EWORK,
                       "signed copy of %s: output must be a file open for writing, not appending",
                       in_path);
    pdf_src s;
    if (src_open(&s, in_path, err) != 0)
        return -1;
    doc_info d = {0};
    update u = {.base = (long long)s.size};
    int rc = -1;
    qpdf_data q = q_open(&s, err);
    if (!q)
        goto done;
    if (doc_read(q, &s, &d, err) != 0)
        goto done;
    if (build_update(&s, &d, req, &u, prep, err) != 0)
        goto done;
    if (pwrite_all(out_fd, s.data, s.size, 0) != 0 ||
        pwrite_all(out_fd, u.out.data, u.out.len, (off_t)s.size) != 0 ||
        ftruncate(out_fd, (off_t)prep->file_size) != 0) {
        err_errno(err, SOHOA_EWORK, errno, "signed copy of %s: cannot write it", in_path);
        goto done;
    }
    log_debug("%s: signature field %s prepared (%s xref, %lld bytes)", in_path, prep->field_name,
              s.xref_stream ? "stream" : "table", prep->file_size);
    rc = 0;
done:
    if (q)
        qpdf_cleanup(&q);
    pdf_buf_free(&u.out);
    free(u.ents);
    doc_free(&d);
    src_close(&s);
    return rc;
}

/* ---- after the CMS ------------------------------------------------------------ */

static int check_ranges(const long long br[4], long long size, sohoa_err *err)
{
    if (br[0] != 0 || br[1] <= 0 || br[2] <= br[1] || br[3] < 0 || br[2] > size ||
        br[3] > size - br[2])
        return err_set(err, SOHOA_EWORK,
                       "signature byte range [%lld %lld %lld %lld]: invalid for a %lld-byte file",
                       br[0], br[1], br[2], br[3], size);
    return 0;
}

int pdf_sig_hash_ranges(int fd, const long long byte_range[4], const EVP_MD *md, unsigned char *out,
                        unsigned *out_len, sohoa_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return err_errno(err, SOHOA_EWORK, errno, "signed PDF: cannot stat it");
    if (check_ranges(byte_range, st.st_size, err) != 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 16);
    int rc = -1;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        err_set(err, SOHOA_EWORK, "signed PDF: cannot start the digest");
        goto done;
    }
    for (int r = 0; r < 2; r++) {
        long long off = byte_range[2 * r], left = byte_range[2 * r + 1];
        while (left > 0) {
            size_t want = left < (1 << 16) ? (size_t)left : (1 << 16);
            ssize_t n = pread(fd, buf, want, (off_t)off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                err_errno(err, SOHOA_EWORK, n < 0 ? errno : EIO, "signed PDF: cannot read it");
                goto done;
            }
            EVP_DigestUpdate(ctx, buf, (size_t)n);
            off += n;
            left -= n;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, out_len) != 1) {
        err_set(err, SOHOA_EWORK, "signed PDF: digest failed");
        goto done;
    }
    rc = 0;
done:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

int pdf_sig_fill(int out_fd, const pdf_sig_prepared *prep, const unsigned char *der, size_t der_len,
                 sohoa_err *err)
{
    if (der_len == 0 || der_len > prep->contents_hex_len / 2)
        return err_set(err, SOHOA_EWORK,
                       "signature value of %zu bytes does not fit the %zu bytes reserved in "
                       "/Contents; raise the reserve (contents_reserve)",
                       der_len, prep->contents_hex_len / 2);
    char lt = 0, gt = 0;
    if (pread(out_fd, &lt, 1, (off_t)prep->contents_offset - 1) != 1 ||
        pread(out_fd, &gt, 1, (off_t)(prep->contents_offset + (long long)prep->contents_hex_len)) !=
            1 ||
        lt != '<' || gt != '>')
        return err_set(err, SOHOA_EWORK,
                       "signed PDF: /Contents placeholder not found at offset %lld; prepare the "
                       "file again",
                       prep->contents_offset);
    char *hex = malloc(2 * der_len);
    if (!hex)
        return err_set(err, SOHOA_EWORK, "signed PDF: out of memory");
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < der_len; i++) {
        hex[2 * i] = digits[der[i] >> 4];
        hex[2 * i + 1] = digits[der[i] & 15];
    }
    int rc = pwrite_all(out_fd, hex, 2 * der_len, (off_t)prep->contents_offset);
    free(hex);
    /* no fsync here: the caller publishes the file with one fsync +
     * rename (atomic_commit), a second one would only cost time */
    if (rc != 0)
        return err_errno(err, SOHOA_EWORK, errno, "signed PDF: cannot write the signature value");
    return 0;
}

/* ---- listing ------------------------------------------------------------------ */

typedef struct sig_list {
    pdf_sig_info *v;
    int n, cap;
} sig_list;

/* Length of the DER element at p (tag, length, content), or 0 if it does
 * not parse within len. */
static size_t der_total_len(const unsigned char *p, size_t len)
{
    if (len < 2)
        return 0;
    size_t hdr = 2, l = p[1];
    if (l & 0x80) {
        int nb = l & 0x7F;
        if (nb == 0 || nb > 4 || len < 2 + (size_t)nb)
            return 0;
        l = 0;
        for (int i = 0; i < nb; i++)
            l = (l << 8) | p[2 + i];
        hdr += (size_t)nb;
    }
    return hdr + l <= len ? hdr + l : 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Is the hole of the byte range exactly "<hex>" of these contents? */
static int hole_is_contents(const pdf_src *s, const long long br[4], const unsigned char *raw,
                            size_t raw_len)
{
    long long size = (long long)s->size;
    if (br[0] != 0 || br[1] <= 0 || br[2] <= br[1] + 1 || br[3] < 0 || br[2] > size ||
        br[3] > size - br[2])
        return 0;
    const unsigned char *p = s->data + br[1], *e = s->data + br[2] - 1;
    if (*p != '<' || *e != '>' || (size_t)(e - p - 1) != 2 * raw_len)
        return 0;
    for (size_t i = 0; i < raw_len; i++) {
        int hi = hexval(p[1 + 2 * i]), lo = hexval(p[2 + 2 * i]);
        if (hi < 0 || lo < 0 || (unsigned char)(hi << 4 | lo) != raw[i])
            return 0;
    }
    return 1;
}

static int add_sig(sig_list *l, const pdf_src *s, qpdf_data q, qpdf_oh v, const char *name)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        pdf_sig_info *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    pdf_sig_info *si = &l->v[l->n];
    memset(si, 0, sizeof *si);
    si->m_time = (time_t)-1;
    snprintf(si->field_name, sizeof si->field_name, "%s", name);

    qpdf_oh br = qpdf_oh_get_key(q, v, "/ByteRange");
    int br_ok = qpdf_oh_is_array(q, br) && qpdf_oh_get_array_n_items(q, br) == 4;
    for (int i = 0; br_ok && i < 4; i++)
        br_ok =
            qpdf_oh_get_value_as_longlong(q, qpdf_oh_get_array_item(q, br, i), &si->byte_range[i]);
    if (!br_ok)
        memset(si->byte_range, 0, sizeof si->byte_range);

    qpdf_oh c = qpdf_oh_get_key(q, v, "/Contents");
    size_t raw_len = 0;
    const char *raw =
        qpdf_oh_is_string(q, c) ? qpdf_oh_get_binary_string_value(q, c, &raw_len) : NULL;
    if (raw && raw_len) {
        if (!(si->contents = malloc(raw_len)))
            return -1;
        memcpy(si->contents, raw, raw_len);
        /* The placeholder is larger than the DER: cut at the DER length. */
        size_t der = der_total_len(si->contents, raw_len);
        si->contents_len = der ? der : raw_len;
        si->byte_range_valid = br_ok && hole_is_contents(s, si->byte_range, si->contents, raw_len);
        si->covers_whole_file =
            si->byte_range_valid && si->byte_range[2] + si->byte_range[3] == (long long)s->size;
    }
    l->n++; /* counted now: pdf_sig_list_free() frees contents on error */

    const char *str = NULL;
    size_t len = 0;
    qpdf_oh m = qpdf_oh_get_key(q, v, "/M");
    if (qpdf_oh_is_string(q, m) && qpdf_oh_get_value_as_string(q, m, &str, &len)) {
        snprintf(si->m, sizeof si->m, "%.*s", (int)len, str);
        si->m_time = parse_pdf_date(si->m);
    }
    qpdf_oh sf = qpdf_oh_get_key(q, v, "/SubFilter");
    if (qpdf_oh_is_name(q, sf))
        snprintf(si->subfilter, sizeof si->subfilter, "%s", qpdf_oh_get_name(q, sf) + 1);
    return 0;
}

/* Walks a field and its kids; `ft_sig` is the inherited /FT. */
static int walk_field(sig_list *l, const pdf_src *s, qpdf_data q, qpdf_oh f, const char *prefix,
                      int ft_sig, int depth)
{
    if (depth > MAX_DEPTH || !qpdf_oh_is_dictionary(q, f))
        return 0;
    char name[128];
    qpdf_oh t = qpdf_oh_get_key(q, f, "/T");
    const char *tv = NULL;
    size_t tl = 0;
    if (qpdf_oh_is_string(q, t) && qpdf_oh_get_value_as_utf8(q, t, &tv, &tl))
        snprintf(name, sizeof name, "%s%s%.*s", prefix, *prefix ? "." : "", (int)tl, tv);
    else
        snprintf(name, sizeof name, "%s", prefix);
    qpdf_oh ft = qpdf_oh_get_key(q, f, "/FT");
    if (qpdf_oh_is_name(q, ft))
        ft_sig = qpdf_oh_is_name_and_equals(q, ft, "/Sig");
    qpdf_oh kids = qpdf_oh_get_key(q, f, "/Kids");
    int nk = qpdf_oh_is_array(q, kids) ? qpdf_oh_get_array_n_items(q, kids) : 0;
    /* Kids without /T are widgets of this field, not fields. */
    for (int i = 0; i < nk; i++) {
        qpdf_oh k = qpdf_oh_get_array_item(q, kids, i);
        if (qpdf_oh_has_key(q, k, "/T") && walk_field(l, s, q, k, name, ft_sig, depth + 1) != 0)
            return -1;
    }
    qpdf_oh v = qpdf_oh_get_key(q, f, "/V");
    if (ft_sig && qpdf_oh_is_dictionary(q, v))
        return add_sig(l, s, q, v, name);
    return 0;
}

int pdf_sig_list(const char *path, pdf_sig_info **sigs, int *n, sohoa_err *err)
{
    *sigs = NULL;
    *n = 0;
    pdf_src s;
    if (src_open(&s, path, err) != 0)
        return -1;
    qpdf_data q = q_open(&s, err);
    sig_list l = {0};
    int rc = -1;
    if (!q)
        goto done;
    qpdf_oh fields = qpdf_oh_get_key_if_dict(
        q, qpdf_oh_get_key_if_dict(q, qpdf_get_root(q), "/AcroForm"), "/Fields");
    int nf = qpdf_oh_is_array(q, fields) ? qpdf_oh_get_array_n_items(q, fields) : 0;
    for (int i = 0; i < nf; i++)
        if (walk_field(&l, &s, q, qpdf_oh_get_array_item(q, fields, i), "", 0, 0) != 0) {
            err_set(err, SOHOA_EWORK, "%s: out of memory listing signatures", path);
            goto done;
        }
    if (q_failed(q, path, err))
        goto done;
    rc = 0;
done:
    if (rc == 0) {
        *sigs = l.v;
        *n = l.n;
    } else {
        pdf_sig_list_free(l.v, l.n);
    }
    if (q)
        qpdf_cleanup(&q);
    src_close(&s);
    return rc;
}

void pdf_sig_list_free(pdf_sig_info *sigs, int n)
{
    for (int i = 0; sigs && i < n; i++)
        free(sigs[i].contents);
    free(sigs);
}
