/* scanner.h — page acquisition from a SANE document scanner.
 *
 * Opens the configured device (or the first document scanner), chooses the
 * source (ADF Duplex > ADF > Flatbed, by the names the backend offers),
 * colour mode, resolution (default 300 dpi, never below the 200 dpi that
 * Nghị định 30/2020 requires) and an A4 scan area (or the backend's
 * maximum), applies pass-through options, then reads pages until the
 * feeder is empty. Each page is written to disk as soon as it is complete
 * and handed to the caller before the next one is read, so that OCR can
 * start while the scanner still feeds; memory holds one page at a time.
 *
 * A scanner failure (jam, cover open, empty feeder on the first page, busy,
 * I/O error, device unplugged mid-batch) is not a local error: scanner_scan
 * returns 0 with a scan_status saying what happened, the pages already
 * written stay on disk for diagnosis, and the caller must not register the
 * batch as a document; the clerk is told (scan_status_text) and rescans.
 *
 * Buttons on the scanner (scan, email, copy, ...) are options with
 * SANE_CAP_HARD_SELECT: poll them with scanner_read_buttons() every
 * SCANNER_BUTTON_POLL_MS while idle. A scan locks the device: close the
 * scanner once the pages are read (during OCR, signing, upload) so that
 * nothing else is held, and open it again to resume polling.
 *
 * SANE itself is process-wide state: scanner_init() once before any other
 * call here, scanner_exit() at the end. One scanner handle is used by one
 * thread at a time (the `cancel` flag of scanner_scan is the exception).
 */
#ifndef SOHOA_SCANNER_H
#define SOHOA_SCANNER_H

#include <stddef.h>

#include "../firmware/config.h"
#include "../firmware/err.h"

/* Resolution used when none is configured, and the legal minimum. */
#define SCANNER_DEFAULT_DPI 300
#define SCANNER_MIN_DPI 200
/* Above this an A4 colour page no longer fits comfortably in the memory of
 * the appliance (600 dpi: 105 MB for one page). */
#define SCANNER_MAX_DPI 600
/* How often the station polls the buttons while idle: a press must feel
 * immediate (≤ 250 ms). */
#define SCANNER_BUTTON_POLL_MS 200

/* How a batch ended. Anything but SCAN_OK means the batch is not a
 * document. */
typedef enum {
    SCAN_OK,         /* the feeder ran empty after at least one page */
    SCAN_NO_PAPER,   /* nothing in the feeder when the batch started */
    SCAN_JAMMED,     /* paper jam or misfeed */
    SCAN_COVER_OPEN, /* cover or ADF lid open */
    SCAN_BUSY,       /* the device is in use or not ready */
    SCAN_IO_ERROR,   /* the device reported an error */
    SCAN_UNPLUGGED,  /* the device disappeared during the batch */
    SCAN_CANCELLED,  /* stopped through `cancel` or by on_page */
} scan_status;

/* The clerk's text for a status, in Vietnamese with the English in
 * parentheses, e.g. "kẹt giấy: gỡ giấy kẹt rồi quét lại (paper jam)". */
const char *scan_status_text(scan_status s);

/* One English line for logs and the command line, naming the problem and
 * what to do ("the scanner reports a paper jam: clear it and scan again"). */
const char *scan_status_advice(scan_status s);

/* What to scan with. All strings are owned (malloc'ed) and freed by
 * scanner_options_free(); a zeroed struct means all defaults. */
typedef struct scanner_options {
    char *device;   /* SANE device name; NULL or "" = first document scanner */
    char *source;   /* auto (NULL) | adf | adf-duplex | flatbed */
    int resolution; /* dpi; 0 = SCANNER_DEFAULT_DPI; below SCANNER_MIN_DPI is refused */
    char *mode;     /* color (NULL) | gray | lineart */
    char **extra;   /* "NAME=VALUE" SANE options, applied last, in order */
    size_t nextra;
} scanner_options;

/* Fills `o` (overwritten, not freed first) from the [scanner] section of
 * `cfg` (NULL = defaults):
 *   device      SANE device name; empty = the first document scanner
 *   options     NAME=VALUE,... passed to the backend as they are
 *   source      auto (default: ADF Duplex > ADF > Flatbed, matched
 *               case-insensitively on the backend's own names: "duplex";
 *               "adf"/"feeder"/"automatic document feeder"; "flatbed")
 *               | adf | adf-duplex | flatbed
 *   resolution  dpi, default 300; below 200 is refused (Nghị định 30/2020)
 *   mode        color (default) | gray | lineart
 * A bad value is an SOHOA_EINPUT error naming the key; `o` is then left
 * empty (safe to free). */
int scanner_options_load(const config *cfg, scanner_options *o, sohoa_err *err);

/* Appends one pass-through option "NAME=VALUE" (whitespace around either
 * part is dropped). A missing '=' or empty name is an SOHOA_EINPUT error.
 * Whether the device knows the option is checked by scanner_open(). */
int scanner_options_add(scanner_options *o, const char *name_value, sohoa_err *err);

/* Checks the values of `o` that need no device (source, mode, resolution
 * range); SOHOA_EINPUT error naming the bad one. scanner_open() does it
 * too; front ends call it to refuse bad arguments before any scanning. */
int scanner_options_check(const scanner_options *o, sohoa_err *err);

/* Frees the strings of `o` and zeroes it. */
void scanner_options_free(scanner_options *o);

typedef struct scanner scanner;

/* sane_init(), once per process: calls nest, the last scanner_exit()
 * calls sane_exit(). SANE reads SANE_CONFIG_DIR here, not later. */
int scanner_init(sohoa_err *err);

/* Undoes one scanner_init(). Every scanner must be closed first. */
void scanner_exit(void);

/* Opens the device of `o` and sets it up (source, mode, depth 8,
 * resolution, A4 area, then o->extra in order). Errors name the device
 * and the option at fault: an unknown device lists the devices found; an
 * option the device does not have, or a value it refuses, is an
 * SOHOA_EINPUT error naming the option; a busy device, or one that cannot
 * scan at 200 dpi, an SOHOA_EWORK error. */
scanner *scanner_open(const scanner_options *o, sohoa_err *err);

/* Releases the device (cancelling a scan in progress); NULL is accepted. */
void scanner_close(scanner *s);

/* The SANE name of the opened device ("fujitsu:libusb:001:004"). */
const char *scanner_name(const scanner *s);

/* The resolution in effect (dpi), after the backend's rounding. PNM files
 * carry no resolution: whoever reads the pages needs this. */
int scanner_resolution(const scanner *s);

/* Sets one SANE option now ("NAME=VALUE", as in scanner_options.extra),
 * with the same checks and errors as scanner_open(). Not while a page is
 * being read; from on_page it applies to the pages that follow, on
 * backends that accept option changes between the pages of a batch. */
int scanner_set_option(scanner *s, const char *name_value, sohoa_err *err);

/* The devices SANE finds (local and network): names[i] is what
 * [scanner] device takes, descriptions[i] "vendor model (type)". Arrays
 * and strings are malloc'ed: free them with scanner_list_free(). */
int scanner_list(char ***names, char ***descriptions, size_t *n, sohoa_err *err);

/* Frees what scanner_list() returned. */
void scanner_list_free(char **names, char **descriptions, size_t n);

/* Scans pages until the feeder is empty. Each page is written as
 * dir/NNNN.pnm (NNNN = page number from 0001; P6 8-bit RGB, P5 8-bit gray,
 * P4 lineart; 16-bit samples reduced to 8; three-pass frames merged;
 * unknown length handled by growing) written atomically, then
 * on_page(ctx, path, index) is called (may be NULL; index = the page
 * number, from 1) before the next page is read — so a consumer can start
 * OCR while scanning goes on. on_page returns 0 to go on; anything else
 * stops the batch as SCAN_CANCELLED. `dir` is created if missing. Memory:
 * one page at a time.
 * A flatbed (or a device with no source choice that is not a sheet-fed
 * scanner) gives one page per call; a feeder, pages until it is empty.
 * *st says how it ended; *npages how many pages were written. A non-OK
 * status returns 0 with *st set (the pages written are kept; a partly read
 * page is not written); -1 only for local errors (disk, memory, a frame
 * format the station cannot store). `cancel` (may be NULL) is checked
 * between reads; set it from another thread (or a signal handler) to stop:
 * the scan is cancelled on the device (sane_cancel) and *st is
 * SCAN_CANCELLED. */
int scanner_scan(scanner *s, const char *dir,
                 int (*on_page)(void *ctx, const char *path, int index), void *ctx,
                 const volatile int *cancel, scan_status *st, int *npages, sohoa_err *err);

/* Button sensors: reads every active SANE_CAP_HARD_SELECT bool/int option
 * that the frontend can read (SANE_CAP_SOFT_DETECT) and that is a button,
 * not a status sensor (page-loaded, cover-open, double-feed, function
 * number, ... are skipped: they are set for long stretches and would
 * start scans on their own). `name` receives the name of the first one set
 * (truncated to `len`), or "" when none is. Backends usually clear a
 * button once read. -1 with err when the device does not answer (e.g.
 * unplugged): reopen it. */
int scanner_read_buttons(scanner *s, char *name, size_t len, sohoa_err *err);

/* The names of the options scanner_read_buttons() watches (malloc'ed
 * array of malloc'ed strings; free each, then the array); *n may be 0:
 * the scanner has no buttons SANE can read. For the console and logs. */
int scanner_buttons(scanner *s, char ***names, size_t *n, sohoa_err *err);

/* PNM carries no resolution and the pipeline would assume 300 dpi, making
 * the PDF pages the wrong size: turns the page `pnm` scanned at `dpi` into
 * an uncompressed TIFF (G4 for 1-bit; fast to write) that records it,
 * fsync'ed, next to it, and removes the PNM. Returns the new path
 * (malloc'd), or NULL with err set. */
char *scanner_page_with_resolution(const char *pnm, int dpi, sohoa_err *err);

#endif
