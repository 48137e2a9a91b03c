/* daemon.c — the station service (see daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "register.h"
#include "sdnotify.h"
#include "../drivers/board.h"
#include "../drivers/panel.h"
#include "../drivers/scanner.h"
#include "sender.h"
#include "station.h"

#define MAX_CLIENTS 16
#define MAX_PAGES 1000
#define MAX_PAGE_BYTES (512L << 20)

typedef struct daemon_ctx {
    station st;
    const config *cfg;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, send_cv;
    int stop;
    int work_pending, send_pending;
    /* the worker's last transient failure, shown to clients and STATUS */
    int64_t problem_doc;
    char problem[512];
    /* the document the worker is on, 0 when idle */
    int64_t busy_doc;
    char send_error[512];
    long retry_s; /* a failed step is tried again after this ([station] retry_interval) */
    atomic_int clients;
    /* the scanner thread: presses waiting for it and its last answer */
    pthread_cond_t scan_cv;
    unsigned scan_asked, scan_answered;
    volatile int scan_cancel;
    int scanning;
    int64_t scan_id;          /* document of the last scan, 0 if it failed */
    char scan_msg[512];       /* why the last scan failed, "" if it did not */
    char scanner_state[512];  /* "pnm:0" or why there is no scanner */
    scan_status scan_ss;      /* how the last scan ended */
    int sign_problem;         /* the worker's problem is at the signing step */
    time_t scan_paused_until; /* the console has the scanner until then (0: not paused) */
    /* the front panel: button and lights (no lines: lights only in STATUS) */
    board board;
    gpio *gpio;
    panel *panel;
    long held, queued; /* register counts the lights use (main thread only) */
    double counts_at;  /* when they were read (CLOCK_MONOTONIC seconds) */
} daemon_ctx;

char *daemon_socket_path(const config *cfg)
{
    const char *p = config_get(cfg, "station", "control_socket", NULL);
    if (p && *p)
        return strdup(p);
    char *s = NULL;
    return asprintf(&s, "%s/control.sock", config_get(cfg, "station", "data_dir", "/var/lib/sohoa")) <
                   0
               ? NULL
               : s;
}

static void wake(daemon_ctx *d, int work, int send)
{
    pthread_mutex_lock(&d->mu);
    if (work) {
        d->work_pending = 1;
        pthread_cond_signal(&d->work_cv);
    }
    if (send) {
        d->send_pending = 1;
        pthread_cond_signal(&d->send_cv);
    }
    pthread_mutex_unlock(&d->mu);
}

/* Waits on `cv` until *flag, stop, or `seconds` pass; clears *flag. */
static void wait_for(daemon_ctx *d, pthread_cond_t *cv, int *flag, long seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    pthread_mutex_lock(&d->mu);
    while (!*flag && !d->stop)
        if (pthread_cond_timedwait(cv, &d->mu, &ts) == ETIMEDOUT)
            break;
    *flag = 0;
    pthread_mutex_unlock(&d->mu);
}

static int stopping(daemon_ctx *d)
{
    pthread_mutex_lock(&d->mu);
    int s = d->stop;
    pthread_mutex_unlock(&d->mu);
    return s;
}

/* ---- worker ----------------------------------------------------------- */

typedef struct id_list {
    int64_t *v;
    size_t n, cap;
} id_list;

static int collect_id(void *ctx, const reg_doc *doc)
{
    id_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        int64_t *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = doc->id;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int pending_ids(reg *r, id_list *l, sohoa_err *err)
{
    static const doc_state states[] = {DOC_SCANNED, DOC_PROCESSED, DOC_REGISTERED, DOC_SIGNED};
    l->n = 0;
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        if (reg_each_in_state(r, states[i], collect_id, l, err) != 0)
            return err_set(err, SOHOA_EWORK, "out of memory");
    if (l->n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(l->v, l->n, sizeof *l->v, cmp_id);
    return 0;
}

static void worker_progress(void *ctx, int64_t id, doc_state state, const char *detail)
{
    (void)ctx;
    log_info("document %lld: %s%s%s", (long long)id, doc_state_name(state), detail ? ": " : "",
             detail ? detail : "");
}

static void *worker_main(void *arg)
{
    daemon_ctx *d = arg;
    sohoa_err err = {0};
    reg *r = reg_open(d->st.db_path, &err);
    if (!r) {
        log_error("worker: %s", err.msg);
        return NULL;
    }
    id_list ids = {0};
    while (!stopping(d)) {
        err_clear(&err);
        int failed = 0;
        if (pending_ids(r, &ids, &err) != 0) {
            log_error("worker: %s", err.msg);
            failed = 1;
        }
        for (size_t i = 0; i < ids.n && !failed && !stopping(d); i++) {
            pthread_mutex_lock(&d->mu);
            d->busy_doc = ids.v[i];
            pthread_mutex_unlock(&d->mu);
            err_clear(&err);
            int rc = station_advance(&d->st, r, ids.v[i], worker_progress, d, &err);
            pthread_mutex_lock(&d->mu);
            d->busy_doc = 0;
            if (rc != 0) {
                d->problem_doc = ids.v[i];
                snprintf(d->problem, sizeof d->problem, "%s", err.msg);
                reg_doc doc = {0};
                sohoa_err e2 = {0};
                d->sign_problem = reg_get(r, ids.v[i], &doc, &e2) == 0 && doc.state == DOC_REGISTERED;
                reg_doc_free(&doc);
            } else if (d->problem_doc == ids.v[i]) {
                d->problem_doc = 0;
                d->problem[0] = 0;
            }
            pthread_mutex_unlock(&d->mu);
            if (rc != 0) {
                log_error("document %lld: %s (tried again in %ld s)", (long long)ids.v[i], err.msg,
                          d->retry_s);
                failed = 1; /* the cause (token, disk) likely holds for the rest too */
            }
            if (rc == 0 && d->panel) {
                reg_doc doc = {0};
                sohoa_err e2 = {0};
                if (reg_get(r, ids.v[i], &doc, &e2) == 0 && doc.state == DOC_QUEUED)
                    panel_set_state(d->panel, PANEL_DONE);
                reg_doc_free(&doc);
            }
            wake(d, 0, 1); /* it may be queued now */
        }
        wait_for(d, &d->work_cv, &d->work_pending, failed ? d->retry_s : 300);
    }
    free(ids.v);
    reg_close(r);
    return NULL;
}

/* ---- sender ----------------------------------------------------------- */

static void *sender_main(void *arg)
{
    daemon_ctx *d = arg;
    sohoa_err err = {0};
    reg *r = reg_open(d->st.db_path, &err);
    sender s;
    if (!r || sender_init(&s, d->cfg, r, &err) != 0) {
        log_error("sender: %s", err.msg);
        reg_close(r);
        return NULL;
    }
    while (!stopping(d)) {
        err_clear(&err);
        int attempted = 0;
        time_t now = time(NULL), due = 0;
        if (sender_step(&s, now, &attempted, &due, &err) != 0)
            log_error("sender: %s", err.msg);
        pthread_mutex_lock(&d->mu);
        snprintf(d->send_error, sizeof d->send_error, "%s", s.last_error);
        pthread_mutex_unlock(&d->mu);
        if (attempted && !err.msg[0])
            continue;
        long wait = due ? (long)(due - time(NULL)) : 60;
        if (wait < 1)
            wait = 1;
        if (wait > 60)
            wait = 60;
        wait_for(d, &d->send_cv, &d->send_pending, wait);
    }
    sender_free(&s);
    reg_close(r);
    return NULL;
}

/* ---- scanner ---------------------------------------------------------- */

/* One scan job: a press (button or client). The device is held only for
 * the scan and reopened afterwards for the buttons. */
static void scan_job(daemon_ctx *d, reg *r, scanner **sc, const scanner_options *so)
{
    sohoa_err err = {0};
    int64_t id = 0;
    scan_status ss = SCAN_OK;
    int npages = 0;
    char msg[512] = "";
    if (!*sc && !(*sc = scanner_open(so, &err))) {
        snprintf(msg, sizeof msg, "%s", err.msg);
    } else {
        pthread_mutex_lock(&d->mu);
        d->scanning = 1;
        d->scan_cancel = 0;
        pthread_mutex_unlock(&d->mu);
        log_info("scanning from %s", scanner_name(*sc));
        if (station_scan(&d->st, r, *sc, &d->scan_cancel, &id, &ss, &npages, &err) != 0)
            snprintf(msg, sizeof msg, "%s", err.msg);
        else if (ss != SCAN_OK)
            snprintf(msg, sizeof msg, "%s (%d page(s) read): %s", scan_status_text(ss), npages,
                     scan_status_advice(ss));
        else
            log_info("document %lld: %d page(s) scanned", (long long)id, npages);
        scanner_close(*sc);
        *sc = NULL;
    }
    if (msg[0])
        log_warn("scan: %s", msg);
    pthread_mutex_lock(&d->mu);
    d->scanning = 0;
    d->scan_id = id;
    d->scan_ss = msg[0] && ss == SCAN_OK ? SCAN_IO_ERROR : ss;
    snprintf(d->scan_msg, sizeof d->scan_msg, "%s", msg);
    d->scan_answered = d->scan_asked; /* presses made during the scan are answered by it */
    pthread_cond_broadcast(&d->scan_cv);
    pthread_mutex_unlock(&d->mu);
    if (id)
        wake(d, 1, 0);
}

static void *scanner_main(void *arg)
{
    daemon_ctx *d = arg;
    sohoa_err err = {0};
    scanner_options so;
    memset(&so, 0, sizeof so);
    reg *r = NULL;
    if (scanner_options_load(d->cfg, &so, &err) != 0 || scanner_init(&err) != 0 ||
        !(r = reg_open(d->st.db_path, &err))) {
        log_error("scanner: %s", err.msg);
        pthread_mutex_lock(&d->mu);
        snprintf(d->scanner_state, sizeof d->scanner_state, "%s", err.msg);
        pthread_mutex_unlock(&d->mu);
        scanner_options_free(&so);
        reg_close(r);
        return NULL;
    }
    scanner *sc = NULL;
    time_t next_open = 0;
    char last_problem[512] = "";
    /* One press, one job: a job starts on the button going down; a button
     * held down (or still down after the job) starts nothing more. */
    int button_down = 0;
    while (!stopping(d)) {
        time_t now = time(NULL);
        pthread_mutex_lock(&d->mu);
        int paused = now < d->scan_paused_until;
        pthread_mutex_unlock(&d->mu);
        if (paused) {
            /* the console is test-scanning: the device is its own until it
             * resumes us or the pause runs out */
            if (sc) {
                scanner_close(sc);
                sc = NULL;
                next_open = 0;
            }
            pthread_mutex_lock(&d->mu);
            snprintf(d->scanner_state, sizeof d->scanner_state, "paused: in use by the console");
            if (d->scan_asked != d->scan_answered) {
                d->scan_id = 0;
                snprintf(d->scan_msg, sizeof d->scan_msg,
                         "the scanner is in use by the console's test scan: press again in a "
                         "minute");
                d->scan_answered = d->scan_asked;
                pthread_cond_broadcast(&d->scan_cv);
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (!d->stop)
                pthread_cond_timedwait(&d->scan_cv, &d->mu, &ts);
            pthread_mutex_unlock(&d->mu);
            continue;
        }
        if (!sc && now >= next_open) {
            err_clear(&err);
            sc = scanner_open(&so, &err);
            next_open = now + 10;
            pthread_mutex_lock(&d->mu);
            snprintf(d->scanner_state, sizeof d->scanner_state, "%s",
                     sc ? scanner_name(sc) : err.msg);
            pthread_mutex_unlock(&d->mu);
            /* say it once, not every 10 s */
            if (!sc && strcmp(last_problem, err.msg) != 0)
                log_warn("scanner: %s", err.msg);
            snprintf(last_problem, sizeof last_problem, "%s", sc ? "" : err.msg);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SCANNER_BUTTON_POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&d->mu);
        if (d->scan_asked == d->scan_answered && !d->stop)
            pthread_cond_timedwait(&d->scan_cv, &d->mu, &ts);
        int want = d->scan_asked != d->scan_answered && !d->stop;
        pthread_mutex_unlock(&d->mu);
        if (!want && sc) {
            char button[64];
            err_clear(&err);
            if (scanner_read_buttons(sc, button, sizeof button, &err) != 0) {
                log_warn("scanner: %s; reopening it", err.msg);
                scanner_close(sc);
                sc = NULL;
                next_open = 0;
            } else if (button[0] && !button_down) {
                log_info("scanner button \"%s\" pressed", button);
                pthread_mutex_lock(&d->mu);
                d->scan_asked++;
                pthread_mutex_unlock(&d->mu);
                want = 2;
            } else {
                button_down = button[0] != 0;
            }
        }
        if (want) {
            scan_job(d, r, &sc, &so);
            /* the button that started the job may still be held: it counts
             * again only once seen released */
            button_down = want == 2;
            next_open = 0; /* back to watching the buttons at once */
        }
    }
    scanner_close(sc);
    scanner_exit();
    scanner_options_free(&so);
    reg_close(r);
    return NULL;
}

/* A press without pages: asks the scanner thread and waits for its
 * answer. Returns the document id, or 0 with the reason in `msg`. */
static int64_t press_scan(daemon_ctx *d, char *msg, size_t len)
{
    pthread_mutex_lock(&d->mu);
    unsigned mine = ++d->scan_asked;
    pthread_cond_broadcast(&d->scan_cv);
    while ((int)(d->scan_answered - mine) < 0 && !d->stop)
        pthread_cond_wait(&d->scan_cv, &d->mu);
    int64_t id = d->stop && (int)(d->scan_answered - mine) < 0 ? 0 : d->scan_id;
    snprintf(msg, len, "%s", id ? "" : d->stop && !d->scan_msg[0] ? "the station is stopping"
                                                               : d->scan_msg);
    pthread_mutex_unlock(&d->mu);
    return id;
}

/* ---- front panel ------------------------------------------------------ */

/* What the lights should say, most urgent first: the clerk must see a jam
 * or a missing token before anything else. `held` documents wait for the
 * console; `queued` and the sender's error tell a network outage. */
static panel_state panel_state_for(daemon_ctx *d, long held, long queued)
{
    pthread_mutex_lock(&d->mu);
    panel_state s = PANEL_READY;
    if (d->scanning)
        s = PANEL_SCANNING;
    else if (d->scan_msg[0])
        s = d->scan_ss == SCAN_COVER_OPEN ? PANEL_ERROR_COVER
            : d->scan_ss == SCAN_NO_PAPER ? PANEL_ERROR_NO_PAPER
                                          : PANEL_ERROR_JAM; /* jam, busy, unplugged */
    else if (d->problem[0] && d->sign_problem)
        s = PANEL_ERROR_TOKEN;
    else if (d->send_error[0] && queued > 0)
        s = PANEL_ERROR_NETWORK;
    else if (d->busy_doc)
        s = PANEL_WORKING;
    else if (held > 0 || d->problem[0])
        s = PANEL_ATTENTION;
    pthread_mutex_unlock(&d->mu);
    return s;
}

/* Called every quarter second; the held and queued counts come from the
 * register (a query over every document), so they are refreshed only every
 * few seconds: a held document waits for the clerk anyway. */
static void panel_update(daemon_ctx *d, reg *r)
{
    static const double counts_every_s = 3;
    if (!d->panel)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double t = (double)now.tv_sec + now.tv_nsec / 1e9;
    if (t - d->counts_at >= counts_every_s) {
        reg_stats st;
        memset(&st, 0, sizeof st);
        sohoa_err err = {0};
        if (reg_get_stats(r, &st, &err) == 0) {
            d->held = st.in_state[DOC_HELD];
            d->queued = st.in_state[DOC_QUEUED];
            d->counts_at = t;
        }
        reg_stats_free(&st);
    }
    panel_set_state(d->panel, panel_state_for(d, d->held, d->queued));
}

/* The front-panel button: a press asks for a scan, a long press cancels
 * the scan under way (what was already taken in stays safe). */
static void on_panel_button(void *ctx, panel_event ev)
{
    daemon_ctx *d = ctx;
    pthread_mutex_lock(&d->mu);
    if (ev == PANEL_LONG_PRESS) {
        if (d->scanning) {
            d->scan_cancel = 1;
            log_warn("front panel: long press, cancelling the scan");
        }
    } else {
        log_info("front panel button pressed");
        d->scan_asked++;
        pthread_cond_broadcast(&d->scan_cv);
    }
    pthread_mutex_unlock(&d->mu);
}

/* The board's panel lines ([station] board = FILE, or a [board] section
 * in the configuration; neither: no lines). A panel that cannot be driven
 * is logged and the station runs without it. */
static void panel_start(daemon_ctx *d, const config *cfg)
{
    sohoa_err err = {0};
    const char *path = config_get(cfg, "station", "board", NULL);
    int rc = 0;
    if (path && *path)
        rc = board_load(path, &d->board, &err);
    else if (config_get(cfg, "board", "name", NULL))
        rc = board_from_config(cfg, &d->board, &err);
    else {
        memset(&d->board, 0, sizeof d->board);
        d->board.button_line = BOARD_NO_LINE;
        for (int o = 0; o < BOARD_NOUTPUTS; o++)
            d->board.out_line[o] = BOARD_NO_LINE;
        snprintf(d->board.name, sizeof d->board.name, "no panel lines");
    }
    if (rc != 0 || !(d->gpio = board_open_gpio(&d->board, "sohoa", &err)) ||
        !(d->panel = panel_open(d->gpio, &d->board, on_panel_button, d, &err))) {
        log_error("front panel: %s; running without it", err.msg);
        if (d->gpio)
            gpio_close(d->gpio);
        d->gpio = NULL;
        return;
    }
    log_info("front panel: %s", d->board.name);
}

/* ---- control clients -------------------------------------------------- */

typedef struct client {
    daemon_ctx *d;
    int fd;
} client;

static void reply(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fflush(out);
}

/* One line without its newline; 0 at end of input or on a too long line. */
static int read_line(FILE *in, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, in))
        return 0;
    size_t n = strlen(buf);
    if (n == 0 || buf[n - 1] != '\n')
        return 0;
    buf[n - 1] = 0;
    return 1;
}

/* A note on one line (no newline can break the protocol). */
static const char *one_line(const char *s, char *buf, size_t size)
{
    snprintf(buf, size, "%s", s ? s : "");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return buf;
}

static void follow(daemon_ctx *d, reg *r, int64_t id, FILE *out)
{
    int last = -1;
    char line[600];
    for (;;) {
        reg_doc doc = {0};
        sohoa_err err = {0};
        if (reg_get(r, id, &doc, &err) != 0) {
            reply(out, "ERR 1 %s\n", one_line(err.msg, line, sizeof line));
            return;
        }
        if ((int)doc.state != last) {
            reply(out, "STATE %lld %s %s\n", (long long)id, doc_state_name(doc.state),
                  one_line(doc.note, line, sizeof line));
            last = (int)doc.state;
        }
        int pending = station_state_pending(doc.state);
        pthread_mutex_lock(&d->mu);
        int problem = d->problem_doc == id && d->busy_doc != id;
        char why[512];
        snprintf(why, sizeof why, "%s", d->problem);
        int stop = d->stop;
        pthread_mutex_unlock(&d->mu);
        if (!pending || problem || stop) {
            const char *note = !pending ? (doc.state == DOC_QUEUED || doc.state == DOC_SENT
                                               ? doc.document_id
                                               : doc.note)
                                        : stop ? "the station is stopping; it resumes on restart"
                                               : why;
            reply(out, "DONE %lld %s %lld/%d %s\n", (long long)id,
                  pending ? "waiting" : doc_state_name(doc.state), (long long)doc.so_den, doc.year,
                  one_line(note, line, sizeof line));
            reg_doc_free(&doc);
            return;
        }
        reg_doc_free(&doc);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void handle_press(daemon_ctx *d, const char *args, FILE *in, FILE *out)
{
    int wait = 0;
    char key[80] = "";
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%.500s", args);
    for (char *save = NULL, *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "WAIT") == 0)
            wait = 1;
        else if (strncmp(tok, "KEY=", 4) == 0)
            snprintf(key, sizeof key, "%s", tok + 4);
        else {
            reply(out, "ERR 2 unknown PRESS argument \"%.40s\"\n", tok);
            return;
        }
    }
    sohoa_err err = {0};
    char line[600];
    int used = 0;
    if (station_check_disk(&d->st, &used, &err) != 0) {
        reply(out, "ERR 1 %s\n", one_line(err.msg, line, sizeof line));
        return;
    }
    if (used >= d->st.disk_warn_percent)
        log_warn("%s: the disk is %d%% full", d->st.data_dir, used);
    reg *r = reg_open(d->st.db_path, &err);
    if (!r) {
        reply(out, "ERR 1 %s\n", one_line(err.msg, line, sizeof line));
        return;
    }
    station_job job;
    int64_t id = 0;
    if (station_job_begin(&d->st, r, key[0] ? key : NULL, &job, &id, &err) != 0) {
        reply(out, "ERR %d %s\n", err.status, one_line(err.msg, line, sizeof line));
        goto out;
    }
    if (id) {
        /* the pages of a repeated key are read and dropped: the first
         * copy is the document */
        while (read_line(in, line, sizeof line) && strcmp(line, "END") != 0) {
            long size;
            if (sscanf(line, "PAGE %ld", &size) == 1 && size >= 0)
                for (long i = 0; i < size && fgetc(in) != EOF; i++)
                    ;
        }
        reply(out, "OK accepted %lld existing\n", (long long)id);
    } else {
        int ok = 1;
        while (ok) {
            if (!read_line(in, line, sizeof line)) {
                err_set(&err, SOHOA_EINPUT, "the request ended before END");
                ok = 0;
                break;
            }
            if (strcmp(line, "END") == 0)
                break;
            long size;
            char ext[17];
            if (sscanf(line, "PAGE %ld %16s", &size, ext) != 2 || size <= 0 ||
                size > MAX_PAGE_BYTES || job.npages >= MAX_PAGES) {
                err_set(&err, SOHOA_EINPUT, "bad page header \"%.60s\"", line);
                ok = 0;
            } else if (station_job_add_page(&job, in, (size_t)size, ext, &err) != 0)
                ok = 0;
        }
        if (ok && job.npages == 0) {
            /* no pages sent: the button's job, from the scanner */
            station_job_abort(&job);
            char why[512];
            if (!(id = press_scan(d, why, sizeof why))) {
                reply(out, "ERR 1 %s\n", one_line(why, line, sizeof line));
                goto out;
            }
            reply(out, "OK accepted %lld\n", (long long)id);
            if (wait)
                follow(d, r, id, out);
            goto out;
        }
        if (!ok) {
            station_job_abort(&job);
            reply(out, "ERR %d %s\n", err.status, one_line(err.msg, line, sizeof line));
            goto out;
        }
        int npages = job.npages;
        if (station_job_commit(&d->st, r, &job, time(NULL), &id, &err) != 0) {
            reply(out, "ERR %d %s\n", err.status, one_line(err.msg, line, sizeof line));
            goto out;
        }
        log_info("document %lld: %d page(s) taken in", (long long)id, npages);
        reply(out, "OK accepted %lld\n", (long long)id);
        wake(d, 1, 0);
    }
    if (wait)
        follow(d, r, id, out);
out:
    reg_close(r);
}

static void handle_status(daemon_ctx *d, FILE *out)
{
    sohoa_err err = {0};
    reg *r = reg_open(d->st.db_path, &err);
    reg_stats st;
    memset(&st, 0, sizeof st);
    if (!r || reg_get_stats(r, &st, &err) != 0) {
        char line[600];
        reply(out, "ERR 1 %s\n", one_line(err.msg, line, sizeof line));
        reg_close(r);
        return;
    }
    pthread_mutex_lock(&d->mu);
    char problem[512], send_error[512];
    snprintf(problem, sizeof problem, "%s", d->problem);
    snprintf(send_error, sizeof send_error, "%s", d->send_error);
    int64_t busy = d->busy_doc;
    pthread_mutex_unlock(&d->mu);
    int used = 0;
    char line[600];
    sohoa_err derr = {0};
    int disk_ok = station_check_disk(&d->st, &used, &derr) == 0;
    pthread_mutex_lock(&d->mu);
    int scan_failed = d->scan_msg[0] != 0;
    pthread_mutex_unlock(&d->mu);
    const char *state = problem[0] || !disk_ok || scan_failed ? "error"
                        : st.in_state[DOC_HELD] > 0          ? "attention"
                        : busy                               ? "working"
                                                             : "ready";
    reply(out, "state: %s\n", state);
    if (d->panel) {
        panel_state ps = panel_get_state(d->panel);
        reply(out, "panel: %s (%s)\n", panel_state_name(ps), panel_state_text(ps));
    }
    if (problem[0])
        reply(out, "problem: %s\n", problem);
    if (!disk_ok)
        reply(out, "problem: %s\n", derr.msg);
    reply(out, "working_on: %lld\n", (long long)busy);
    pthread_mutex_lock(&d->mu);
    char scanner_state[512], scan_msg[512];
    snprintf(scanner_state, sizeof scanner_state, "%s", d->scanner_state);
    snprintf(scan_msg, sizeof scan_msg, "%s", d->scan_msg);
    int scanning = d->scanning;
    pthread_mutex_unlock(&d->mu);
    reply(out, "scanner: %s\n", one_line(scanner_state, line, sizeof line));
    reply(out, "scanning: %s\n", scanning ? "yes" : "no");
    if (scan_msg[0])
        reply(out, "last_scan_problem: %s\n", one_line(scan_msg, line, sizeof line));
    for (int s = 0; s <= DOC_FAILED; s++)
        reply(out, "documents_%s: %ld\n", doc_state_name((doc_state)s), st.in_state[s]);
    static const char *const prio[] = {"thuong", "khan", "thuong_khan", "hoa_toc"};
    for (int p = 3; p >= 0; p--)
        reply(out, "queue_%s: %ld\n", prio[p], st.queued_by_priority[p]);
    reply(out, "queue_oldest_age_s: %ld\n",
          st.oldest_queued ? (long)(time(NULL) - st.oldest_queued) : 0L);
    if (send_error[0] || st.last_error)
        reply(out, "last_upload_error: %s\n",
              one_line(send_error[0] ? send_error : st.last_error, line, sizeof line));
    reply(out, "disk_used_percent: %d\n", used);
    reply(out, "END\n");
    reg_stats_free(&st);
    reg_close(r);
}

/* SCANNER PAUSE <seconds> | SCANNER RESUME: the console borrows the
 * device for a test scan (the scanner thread keeps it open for the
 * buttons). A pause runs out by itself, so a console that dies cannot
 * leave the station without its scanner. */
static void handle_scanner(daemon_ctx *d, const char *args, FILE *out)
{
    long seconds = 0;
    char *end = NULL;
    if (strncmp(args, "PAUSE ", 6) == 0) {
        seconds = strtol(args + 6, &end, 10);
        if (end == args + 6 || *end || seconds < 1 || seconds > 600) {
            reply(out, "ERR 2 SCANNER PAUSE takes 1 to 600 seconds\n");
            return;
        }
    } else if (strcmp(args, "RESUME") != 0) {
        reply(out, "ERR 2 SCANNER PAUSE <seconds> or SCANNER RESUME\n");
        return;
    }
    pthread_mutex_lock(&d->mu);
    int busy = d->scanning;
    if (!busy)
        d->scan_paused_until = seconds ? time(NULL) + seconds : 0;
    pthread_cond_broadcast(&d->scan_cv);
    pthread_mutex_unlock(&d->mu);
    if (busy) {
        reply(out, "ERR 1 the station is scanning a document: try again when it is done\n");
        return;
    }
    /* the scanner thread closes the device within a second: give it that */
    if (seconds) {
        for (int i = 0; i < 30; i++) {
            pthread_mutex_lock(&d->mu);
            int closed = strncmp(d->scanner_state, "paused", 6) == 0;
            pthread_mutex_unlock(&d->mu);
            if (closed)
                break;
            usleep(100000);
        }
    }
    reply(out, "OK\nEND\n");
}

static void *client_main(void *arg)
{
    client *c = arg;
    daemon_ctx *d = c->d;
    int fd2 = dup(c->fd);
    FILE *in = fdopen(c->fd, "r"), *out = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
    char line[512];
    if (in && out && read_line(in, line, sizeof line)) {
        if (strncmp(line, "PRESS", 5) == 0 && (line[5] == 0 || line[5] == ' '))
            handle_press(d, line + 5, in, out);
        else if (strcmp(line, "STATUS") == 0)
            handle_status(d, out);
        else if (strcmp(line, "WAKE") == 0) {
            /* the console changed the register (release, retry now): look now */
            wake(d, 1, 1);
            reply(out, "OK\nEND\n");
        } else if (strncmp(line, "SCANNER ", 8) == 0)
            handle_scanner(d, line + 8, out);
        else
            reply(out, "ERR 2 unknown request \"%.40s\" (PRESS, STATUS, WAKE, SCANNER)\n",
                  line);
    }
    if (in)
        fclose(in);
    else
        close(c->fd);
    if (out)
        fclose(out);
    else if (fd2 >= 0)
        close(fd2);
    atomic_fetch_sub(&d->clients, 1);
    free(c);
    return NULL;
}

/* ---- main loop -------------------------------------------------------- */

static int open_socket(const char *path, sohoa_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return err_set(err, SOHOA_EINPUT,
                       "%s: the control socket path is too long (at most %zu bytes; set "
                       "[station] control_socket)",
                       path, sizeof sa.sun_path - 1);
    strcpy(sa.sun_path, path);
    /* we hold the data directory's lock: a socket left here is stale */
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_errno(err, SOHOA_EWORK, errno, "control socket");
    mode_t old = umask(0117);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, 16) != 0) {
        err_errno(err, SOHOA_EWORK, errno, "%s: cannot listen", path);
        close(fd);
        return -1;
    }
    return fd;
}

static int take_lock(const char *data_dir, sohoa_err *err)
{
    char *path = NULL;
    if (asprintf(&path, "%s/daemon.lock", data_dir) < 0)
        return err_set(err, SOHOA_EWORK, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_errno(err, SOHOA_EWORK, errno, "%s", path);
        free(path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        err_set(err, SOHOA_EWORK, "%s: another sohoa daemon is running on this data directory",
                data_dir);
        close(fd);
        free(path);
        return -1;
    }
    free(path);
    return fd;
}

int daemon_run(const config *cfg, sohoa_err *err)
{
    daemon_ctx *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(err, SOHOA_EWORK, "out of memory");
    d->cfg = cfg;
    int lock_fd = -1, listen_fd = -1, sig_fd = -1, rc = -1;
    char *sock = NULL;
    pthread_t worker, sender_t, scanner_t;
    int threads = 0;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->work_cv, NULL);
    pthread_cond_init(&d->send_cv, NULL);
    pthread_cond_init(&d->scan_cv, NULL);

    if (station_init(&d->st, cfg, err) != 0 ||
        config_get_int(cfg, "station", "retry_interval", 30, 1, 3600, &d->retry_s, err) != 0)
        goto out;
    if ((lock_fd = take_lock(d->st.data_dir, err)) < 0)
        goto out;
    /* the register opens (and its schema is made) once before the
     * threads, so a bad database stops the daemon with a clear error */
    reg *r = reg_open(d->st.db_path, err);
    if (!r)
        goto out;
    reg_close(r);
    {
        /* the upload settings are checked now, not at the first send */
        upload_options o;
        int bad = upload_options_load(cfg, &o, err);
        upload_options_free(&o);
        if (bad != 0)
            goto out;
    }
    if (!(sock = daemon_socket_path(cfg))) {
        err_set(err, SOHOA_EWORK, "out of memory");
        goto out;
    }
    if ((listen_fd = open_socket(sock, err)) < 0)
        goto out;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
        err_errno(err, SOHOA_EWORK, errno, "signalfd");
        goto out;
    }
    if (pthread_create(&worker, NULL, worker_main, d) != 0) {
        err_set(err, SOHOA_EWORK, "cannot start the worker thread");
        goto out;
    }
    threads = 1;
    if (pthread_create(&sender_t, NULL, sender_main, d) != 0) {
        err_set(err, SOHOA_EWORK, "cannot start the sender thread");
        goto out;
    }
    threads = 2;
    if (pthread_create(&scanner_t, NULL, scanner_main, d) != 0) {
        err_set(err, SOHOA_EWORK, "cannot start the scanner thread");
        goto out;
    }
    threads = 3;
    panel_start(d, cfg);
    reg *panel_reg = reg_open(d->st.db_path, err);
    if (!panel_reg)
        goto out;
    log_info("station ready: data in %s, control socket %s", d->st.data_dir, sock);
    printf("sohoa daemon: ready (control socket %s)\n", sock);
    fflush(stdout);
    sd_notify_send("READY=1");
    long wd = sd_watchdog_ms();
    for (;;) {
        struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
        /* the lights follow the station every quarter second */
        int n = poll(p, 2, wd && wd / 2 < 250 ? (int)(wd / 2) : 250);
        if (wd)
            sd_notify_send("WATCHDOG=1");
        panel_update(d, panel_reg);
        if (n < 0 && errno != EINTR) {
            err_errno(err, SOHOA_EWORK, errno, "poll");
            break;
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
                log_info("signal %u: stopping", si.ssi_signo);
            rc = 0;
            break;
        }
        if (n > 0 && (p[0].revents & POLLIN)) {
            int cfd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (cfd < 0)
                continue;
            if (atomic_load(&d->clients) >= MAX_CLIENTS) {
                static const char busy[] = "ERR 1 the station is busy with other clients\n";
                (void)!write(cfd, busy, sizeof busy - 1);
                close(cfd);
                continue;
            }
            client *c = malloc(sizeof *c);
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            atomic_fetch_add(&d->clients, 1);
            if (!c || (c->d = d, c->fd = cfd, pthread_create(&t, &attr, client_main, c)) != 0) {
                atomic_fetch_sub(&d->clients, 1);
                close(cfd);
                free(c);
            }
            pthread_attr_destroy(&attr);
        }
    }
    sd_notify_send("STOPPING=1");
    reg_close(panel_reg);
out:
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_broadcast(&d->work_cv);
    pthread_cond_broadcast(&d->send_cv);
    pthread_cond_broadcast(&d->scan_cv);
    d->scan_cancel = 1;
    pthread_mutex_unlock(&d->mu);
    if (listen_fd >= 0) {
        close(listen_fd);
        unlink(sock);
    }
    /* The worker finishes its current step (every step is safe to cut,
     * but finishing it saves redoing the OCR). */
    if (threads >= 1)
        pthread_join(worker, NULL);
    if (threads >= 2)
        pthread_join(sender_t, NULL);
    if (threads >= 3)
        pthread_join(scanner_t, NULL);
    /* clients follow `stop` and end within a poll interval */
    for (int i = 0; i < 50 && atomic_load(&d->clients) > 0; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    panel_close(d->panel);
    if (d->gpio)
        gpio_close(d->gpio);
    if (sig_fd >= 0)
        close(sig_fd);
    if (lock_fd >= 0)
        close(lock_fd);
    free(sock);
    station_free(&d->st);
    if (atomic_load(&d->clients) == 0) {
        pthread_cond_destroy(&d->work_cv);
        pthread_cond_destroy(&d->send_cv);
        pthread_cond_destroy(&d->scan_cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
    } /* else a client thread still holds it: the process is ending anyway */
    return rc;
}
