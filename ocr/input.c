#include "input.h"

#include <errno.h>
#include <leptonica/allheaders.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <zlib.h>

#include "../firmware/log.h"

/* Formats we accept, from leptonica's sniffing of the first bytes. */
static int is_tiff(int format)
{
    switch (format) {
    case IFF_TIFF:
    case IFF_TIFF_PACKBITS:
    case IFF_TIFF_RLE:
    case IFF_TIFF_G3:
    case IFF_TIFF_G4:
    case IFF_TIFF_LZW:
    case IFF_TIFF_ZIP:
    case IFF_TIFF_JPEG:
        return 1;
    default:
        return 0;
    }
}

static int is_supported(int format)
{
    return format == IFF_PNG || format == IFF_JFIF_JPEG || format == IFF_PNM || is_tiff(format);
}

/* Refuses sizes a scanner cannot produce and that would exhaust the
 * board's memory once decoded (we decode to at most 32 bits a pixel). */
static int check_size(const char *path, int page, int w, int h, sohoa_err *err)
{
    char where[32] = "";
    if (page >= 0)
        snprintf(where, sizeof where, " page %d", page + 1);
    if (w <= 0 || h <= 0)
        return err_set(err, SOHOA_EINPUT, "%s%s: image has no pixels (%dx%d)", path, where, w, h);
    if (w > INPUT_MAX_SIDE || h > INPUT_MAX_SIDE)
        return err_set(err, SOHOA_EINPUT,
                       "%s%s: image is %dx%d pixels, more than the %d-pixel limit per side", path,
                       where, w, h, INPUT_MAX_SIDE);
    if ((long long)w * h * 4 > INPUT_MAX_DECODED)
        return err_set(err, SOHOA_EINPUT, "%s%s: image of %dx%d pixels would exceed 1 GB decoded",
                       path, where, w, h);
    return 0;
}

static void quiet_tiff_handler(const char *module, const char *fmt, va_list ap) {}

/* Lists the pages of a TIFF file with libtiff: leptonica's header reader
 * only looks at the first directory. */
static int list_tiff(input_set *set, const char *path, sohoa_err *err)
{
    TIFFSetErrorHandler(quiet_tiff_handler);
    TIFFSetWarningHandler(quiet_tiff_handler);
    TIFF *tif = TIFFOpen(path, "r");
    if (!tif)
        return err_set(err, SOHOA_EINPUT, "%s: corrupt TIFF file (cannot read its header)", path);
    int rc = 0;
    int index = 0;
    do {
        uint32_t w = 0, h = 0;
        if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) ||
            !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
            rc = err_set(err, SOHOA_EINPUT, "%s page %d: corrupt TIFF directory", path, index + 1);
            break;
        }
        if (w > INT32_MAX || h > INT32_MAX) {
            rc = err_set(err, SOHOA_EINPUT, "%s page %d: absurd image size", path, index + 1);
            break;
        }
        if ((rc = check_size(path, index, (int)w, (int)h, err)) != 0)
            break;
        input_page_ref *pages = realloc(set->pages, (set->npages + 1) * sizeof *pages);
        if (!pages) {
            rc = err_set(err, SOHOA_EWORK, "out of memory");
            break;
        }
        set->pages = pages;
        set->pages[set->npages++] = (input_page_ref){path, index, (int)w, (int)h};
        index++;
    } while (TIFFReadDirectory(tif));
    TIFFClose(tif);
    return rc;
}

/* The decoders behind leptonica print their own complaints on stderr
 * ("libpng error: Read Error", "Premature end of JPEG file") and some
 * return a half-grey page for a truncated file. Checking the container
 * first catches truncation and corruption up front, with our message. */

/* PNG: every chunk complete with a matching CRC, ending with IEND. */
static int png_intact(const unsigned char *d, size_t n)
{
    size_t pos = 8; /* signature, already recognised */
    while (pos + 12 <= n) {
        unsigned long len = (unsigned long)d[pos] << 24 | (unsigned long)d[pos + 1] << 16 |
                            (unsigned long)d[pos + 2] << 8 | d[pos + 3];
        if (len > n - pos - 12)
            return 0;
        const unsigned char *type = d + pos + 4;
        unsigned long crc = crc32(0L, type, (uInt)(len + 4));
        const unsigned char *c = type + 4 + len;
        unsigned long want = (unsigned long)c[0] << 24 | (unsigned long)c[1] << 16 |
                             (unsigned long)c[2] << 8 | c[3];
        if (crc != want)
            return 0;
        if (memcmp(type, "IEND", 4) == 0)
            return 1;
        pos += 12 + len;
    }
    return 0;
}

/* JPEG: the end-of-image marker is present (scanners pad at most a few
 * bytes after it). */
static int jpeg_intact(const unsigned char *d, size_t n)
{
    size_t from = n > 4096 ? n - 4096 : 0;
    for (size_t i = n; i-- > from + 1;)
        if (d[i - 1] == 0xff && d[i] == 0xd9)
            return 1;
    return 0;
}

static int check_container(const char *path, int format, sohoa_err *err)
{
    if (format != IFF_PNG && format != IFF_JFIF_JPEG)
        return 0; /* TIFF: libtiff reports through our silent handlers; PNM has no trailer */
    size_t n = 0;
    unsigned char *d = l_binaryRead(path, &n);
    if (!d)
        return err_set(err, SOHOA_EINPUT, "%s: cannot read the file", path);
    int ok = format == IFF_PNG ? png_intact(d, n) : jpeg_intact(d, n);
    free(d);
    if (!ok)
        return err_set(err, SOHOA_EINPUT, "%s: truncated or corrupt %s data", path,
                       format == IFF_PNG ? "PNG" : "JPEG");
    return 0;
}

static int list_file(input_set *set, const char *path, sohoa_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_errno(err, SOHOA_EINPUT, errno, "%s", path);
    if (!S_ISREG(st.st_mode))
        return err_set(err, SOHOA_EINPUT, "%s: not a regular file", path);
    if (st.st_size == 0)
        return err_set(err, SOHOA_EINPUT, "%s: file is empty", path);
    l_int32 format = IFF_UNKNOWN;
    if (findFileFormat(path, &format) != 0 || !is_supported(format))
        return err_set(err, SOHOA_EINPUT, "%s: not a PNG, JPEG, TIFF or PNM image", path);
    if (is_tiff(format))
        return list_tiff(set, path, err);
    if (check_container(path, format, err) != 0)
        return -1;
    l_int32 w = 0, h = 0, bps = 0, spp = 0;
    if (pixReadHeader(path, NULL, &w, &h, &bps, &spp, NULL) != 0)
        return err_set(err, SOHOA_EINPUT, "%s: corrupt image (cannot read its header)", path);
    if (check_size(path, -1, w, h, err) != 0)
        return -1;
    input_page_ref *pages = realloc(set->pages, (set->npages + 1) * sizeof *pages);
    if (!pages)
        return err_set(err, SOHOA_EWORK, "out of memory");
    set->pages = pages;
    set->pages[set->npages++] = (input_page_ref){path, 0, w, h};
    return 0;
}

int input_open(input_set *set, char *const *paths, size_t npaths, sohoa_err *err)
{
    memset(set, 0, sizeof *set);
    /* Leptonica prints its own diagnostics on stderr; we report ours. */
    setMsgSeverity(L_SEVERITY_NONE);
    if (npaths == 0)
        return err_set(err, SOHOA_EINPUT, "no input images given");
    set->paths = calloc(npaths, sizeof *set->paths);
    if (!set->paths)
        return err_set(err, SOHOA_EWORK, "out of memory");
    for (size_t i = 0; i < npaths; i++) {
        if (!(set->paths[i] = strdup(paths[i]))) {
            input_close(set);
            return err_set(err, SOHOA_EWORK, "out of memory");
        }
        set->npaths++;
        if (list_file(set, set->paths[i], err) != 0) {
            input_close(set);
            return -1;
        }
    }
    return 0;
}

void input_close(input_set *set)
{
    for (size_t i = 0; i < set->npaths; i++)
        free(set->paths[i]);
    free(set->paths);
    free(set->pages);
    memset(set, 0, sizeof *set);
}

/* A resolution outside this range is a missing or garbled tag, not a
 * real scan: fall back to the default rather than produce a page metres
 * wide. */
static int plausible_dpi(int dpi)
{
    return dpi >= 50 && dpi <= 2400;
}

struct Pix *input_load_page(const input_page_ref *ref, int *dpi, sohoa_err *err)
{
    l_int32 format = IFF_UNKNOWN;
    findFileFormat(ref->path, &format);
    PIX *pix = is_tiff(format) ? pixReadTiff(ref->path, ref->index) : pixRead(ref->path);
    if (!pix) {
        if (is_tiff(format))
            err_set(err, SOHOA_EINPUT, "%s page %d: corrupt or truncated image data", ref->path,
                    ref->index + 1);
        else
            err_set(err, SOHOA_EINPUT, "%s: corrupt or truncated image data", ref->path);
        return NULL;
    }
    if (pixGetWidth(pix) != ref->width || pixGetHeight(pix) != ref->height) {
        err_set(err, SOHOA_EINPUT,
                "%s: image size changed while reading (%dx%d, header said %dx%d)", ref->path,
                pixGetWidth(pix), pixGetHeight(pix), ref->width, ref->height);
        pixDestroy(&pix);
        return NULL;
    }
    int res = pixGetXRes(pix);
    if (!plausible_dpi(res)) {
        if (res != 0)
            log_warn("%s: implausible resolution %d dpi in the file; assuming %d", ref->path, res,
                     INPUT_DEFAULT_DPI);
        res = INPUT_DEFAULT_DPI;
    } else if (res < INPUT_MIN_DPI) {
        log_warn("%s: scanned at %d dpi, below the %d dpi that Nghị định 30 requires", ref->path,
                 res, INPUT_MIN_DPI);
    }
    *dpi = res;
    return pix;
}
