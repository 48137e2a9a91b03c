/* pdf_sig.h — the PDF side of PAdES signing: signature field, visible
 * appearance, byte ranges, and listing the signatures of a file.
 *
 * Signing never rewrites the input (ISO 32000-1 7.5.6): its bytes are
 * copied unchanged and one incremental update is appended, holding
 *   - the signature dictionary (/Filter /Adobe.PPKLite, /SubFilter
 *     /ETSI.CAdES.detached, /M in Vietnam time, a zero-filled /Contents
 *     placeholder and a /ByteRange that covers the whole file but the
 *     /Contents hex string, angle brackets included);
 *   - a merged signature field + widget annotation on page 1 (/F 132: print
 *     and locked), its appearance (text in an embedded Liberation Serif
 *     subset, optional seal image);
 *   - new versions of page 1 (or of its indirect /Annots array) and of the
 *     catalog, whose /AcroForm keeps the existing fields, /DR, /DA and gets
 *     /SigFlags 3;
 *   - an xref section of the kind the last one was (table or stream).
 * A file that is already signed keeps its signatures valid: they cover
 * their revision, the new one covers the whole file.
 *
 * Sequence for the caller (signer/pades.c):
 *   atomic_open(&af, out_path) -> pdf_sig_prepare(in, fileno(af.f), ...)
 *   -> pdf_sig_hash_ranges() -> CMS -> pdf_sig_fill() -> atomic_commit().
 * pdf_sig_prepare() writes with write(2)/pwrite(2) directly on the
 * descriptor: nothing may be buffered in af.f.
 *
 * The input is read with libqpdf (objects) and by hand (the last
 * startxref and the kind of the last xref section). Encrypted and damaged
 * PDFs are refused (SOHOA_EINPUT): a signature over a file that needed
 * repair would certify bytes no reader agrees on.
 */
#ifndef SOHOA_PDF_SIG_H
#define SOHOA_PDF_SIG_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "../firmware/err.h"

/* A rectangle in PDF user space: lower-left (x0, y0), upper-right (x1, y1). */
typedef struct pdf_rect {
    double x0, y0, x1, y1;
} pdf_rect;

/* Default DER space reserved in /Contents: a CMS with an RSA-4096
 * signature, a three-certificate chain and a timestamp token fits. */
#define PDF_SIG_DEFAULT_RESERVE 16384

typedef struct pdf_sig_request {
    const char *field_name;  /* /T; NULL = "Signature<N>", the first N not in use; no '.' */
    time_t signing_time;     /* written as /M in +07:00 (Vietnam has no DST) */
    const char *name;        /* optional /Name (signer), UTF-8 */
    const char *reason;      /* optional /Reason, UTF-8 */
    const char *location;    /* optional /Location, UTF-8 */
    size_t contents_reserve; /* DER bytes reserved (the hex doubles it); 0 = default */

    /* Appearance. */
    int visible;              /* 0 = invisible signature (/Rect [0 0 0 0]) */
    const char *const *lines; /* UTF-8 lines, e.g. "Ký bởi: <organization>", */
    int n_lines;              /* "Thời gian ký: 07/02/2025 14:59:55 +07:00" */
    const char *font_path;    /* NULL = SIGFONT_DEFAULT_PATH (Liberation Serif 2) */
    double font_size;         /* points; 0 = 10 */
    const char *seal_png;     /* optional image drawn at the left of the text */
    const pdf_rect *avoid;    /* page-1 areas (user space) to keep clear, e.g. header text */
    int n_avoid;
    double margin_top;   /* points from the visible top edge; 0 = 8 mm */
    double margin_right; /* points from the visible right edge; 0 = 10 mm */
} pdf_sig_request;

typedef struct pdf_sig_prepared {
    long long byte_range[4];   /* as written in /ByteRange */
    long long contents_offset; /* file offset of the first hex digit (after '<') */
    size_t contents_hex_len;   /* hex digits between '<' and '>' (2 x reserve) */
    long long file_size;       /* size of the prepared file */
    pdf_rect rect;             /* widget /Rect on page 1 (user space) */
    int rect_clear;            /* 1 if rect meets none of req->avoid */
    int sig_obj;               /* object number of the signature dictionary */
    char field_name[128];      /* the /T used (UTF-8) */
} pdf_sig_prepared;

/* Copies the PDF at in_path to out_fd (an empty, seekable file) and appends
 * the incremental update described above, with /ByteRange filled and
 * /Contents all zeros (not synced: the caller's atomic_commit() does it). Errors: SOHOA_EINPUT for an input
 * that is not a PDF, truncated, damaged, encrypted or without pages, a
 * field name in use, text the font cannot draw, an unreadable seal;
 * SOHOA_EWORK for I/O and memory failures. */
int pdf_sig_prepare(const char *in_path, int out_fd, const pdf_sig_request *req,
                    pdf_sig_prepared *prep, sohoa_err *err);

/* Feeds the bytes covered by byte_range (read from fd) to digest `md`;
 * writes the digest to out (EVP_MAX_MD_SIZE bytes) and its length to
 * *out_len. Checks the ranges: [0, a) and [b, b + c) with a < b, inside the
 * file. */
int pdf_sig_hash_ranges(int fd, const long long byte_range[4], const EVP_MD *md, unsigned char *out,
                        unsigned *out_len, sohoa_err *err);

/* Writes `der` as hex into the /Contents placeholder of a prepared file,
 * leaving the rest of the reserve zero. Refuses (SOHOA_EWORK)
 * a DER longer than the reserve (the message gives both sizes: raise the
 * reserve) and a file whose placeholder is not where prep says. */
int pdf_sig_fill(int out_fd, const pdf_sig_prepared *prep, const unsigned char *der, size_t der_len,
                 sohoa_err *err);

/* "07/02/2025 14:59:55 +07:00": the signing time as the visible signature
 * shows it (Vietnam time, whatever TZ says). buf needs 27 bytes. */
void pdf_sig_format_time(time_t t, char *buf, size_t size);

/* One signature found in a file. */
typedef struct pdf_sig_info {
    char field_name[128];    /* fully qualified, UTF-8 */
    long long byte_range[4]; /* 0 when absent or malformed */
    unsigned char *contents; /* DER (trailing zero padding cut by the DER length) */
    size_t contents_len;
    char m[64];            /* /M as written ("" if absent) */
    time_t m_time;         /* /M parsed, (time_t)-1 if absent or malformed */
    char subfilter[64];    /* e.g. "ETSI.CAdES.detached", without '/' */
    int byte_range_valid;  /* starts at 0, the hole is exactly /Contents' <hex>, in bounds */
    int covers_whole_file; /* valid and ends at the end of the file */
} pdf_sig_info;

/* Lists the signature fields of `path` that hold a signature (/FT /Sig with
 * a /V dictionary), in /Fields order. *sigs is malloc'd (NULL when none);
 * free with pdf_sig_list_free(). Errors: SOHOA_EINPUT for a file that is
 * not a readable PDF. */
int pdf_sig_list(const char *path, pdf_sig_info **sigs, int *n, sohoa_err *err);

/* Frees what pdf_sig_list() returned. */
void pdf_sig_list_free(pdf_sig_info *sigs, int n);

#endif
