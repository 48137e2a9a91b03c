/* console_cmds.c — the console's station commands: status, press, queue,
 * held, register, logs, audit, version (console.h).
 *
 * They read the register directly (it is shared, WAL, one connection per
 * process) and tell the station service to look again (WAKE) after a
 * change, so a release or a "retry now" takes effect at once rather than
 * at the worker's next round.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../ocr/metadata.h"
#include "console.h"
#include "console_sys.h"
#include "register_export.h"
#include "version.h"
#include "vntime.h"

/* ---- helpers ------------------------------------------------------------ */

/* One answer line of the station service, indented, cut to the screen. */
static int print_line(void *ctx, const char *text)
{
    console *c = ctx;
    con_printf(c, "  %s\n", con_cut(text, 76));
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static void wake_station(console *c)
{
    sohoa_err err = {0};
    /* not running: it will see the change when it starts */
    console_daemon_request(c, "WAKE", NULL, NULL, &err);
}

static const char *priority_name(const console *c, int p)
{
    static const char *const vi[] = {"thường", "khẩn", "thượng khẩn", "hỏa tốc"};
    static const char *const en[] = {"ordinary", "khẩn", "thượng khẩn", "hỏa tốc"};
    return p >= 0 && p <= 3 ? CON_T(c, vi[p], en[p]) : "?";
}

/* The document's reference: "số đến 12/2026" or "#id". */
static void doc_ref(const reg_doc *d, char *out, size_t size)
{
    if (d->so_den)
        snprintf(out, size, "%" PRId64 "/%d", d->so_den, d->year);
    else
        snprintf(out, size, "-");
}

static void print_doc(console *c, const reg_doc *d)
{
    char ref[40], at[VNTIME_ISO_LEN];
    doc_ref(d, ref, sizeof ref);
    vntime_iso(d->received, at);
    con_printf(c, "%s %" PRId64 "   %s: %s   %s: %s\n", CON_T(c, "Văn bản", "Document"), d->id,
               CON_T(c, "trạng thái", "state"), doc_state_name(d->state),
               CON_T(c, "số đến", "so den"), ref);
    con_printf(c, "  %s %s\n", con_col(CON_T(c, "nhận lúc", "received"), 18), at);
    if (d->note)
        con_printf(c, "  %s %s\n", con_col(CON_T(c, "ghi chú", "note"), 18), con_cut(d->note, 58));
    if (d->duplicate_of)
        con_printf(c, "  %s %" PRId64 "\n", con_col(CON_T(c, "trùng với", "duplicate of"), 18),
                   d->duplicate_of);
    if (d->state == DOC_QUEUED || d->attempts) {
        char next[VNTIME_ISO_LEN] = "-";
        if (d->next_attempt)
            vntime_iso(d->next_attempt, next);
        con_printf(c, "  %s %s, %d %s, %s %s\n", con_col(CON_T(c, "gửi", "upload"), 18),
                   priority_name(c, d->priority), d->attempts, CON_T(c, "lần thử", "attempts"),
                   CON_T(c, "lần tới", "next"), next);
    }
    if (d->last_error)
        con_printf(c, "  %s %s\n", con_col(CON_T(c, "lỗi gửi", "upload error"), 18),
                   con_cut(d->last_error, 58));
    if (d->server_status)
        con_printf(c, "  %s %s\n", con_col(CON_T(c, "trạng thái máy chủ", "server status"), 18),
                   d->server_status);
    for (int f = 0; f < META_NFIELDS; f++) {
        char value[64];
        if (f == META_NUMBER)
            snprintf(value, sizeof value, d->meta.has_number ? "%ld" : "-", d->meta.number);
        else
            snprintf(value, sizeof value, "%s", d->meta.str[f] ? d->meta.str[f] : "-");
        con_printf(c, "  %-18s %s %3.0f%%%s\n", meta_field_name((meta_field)f), con_col(value, 44),
                   100.0 * d->meta.confidence[f],
                   d->meta.review[f] ? CON_T(c, " KIỂM", " CHECK") : "");
    }
}

static int print_event(void *ctx, const reg_event *e)
{
    console *c = ctx;
    char at[VNTIME_ISO_LEN];
    vntime_iso(e->at, at);
    con_printf(c, "  %.19s %s %s\n", at, con_col(e->event, 12), con_cut(e->detail, 45));
    return 0;
}

/* "ID" argument → the document; prints the problem and returns 2/1. */
static int get_doc(console *c, const char *arg, reg_doc *d)
{
    int64_t id;
    if (parse_id(arg, &id) != 0) {
        con_printf(c, "%s: \"%s\"\n",
                   CON_T(c, "lỗi: số văn bản không hợp lệ", "error: not a document number"), arg);
        return 2;
    }
    sohoa_err err = {0};
    if (reg_get(c->r, id, d, &err) != 0) {
        con_error(c, &err);
        return 1;
    }
    return 0;
}

/* The words from argv[from] joined by spaces (the reason), or asked for. */
static char *reason_from(console *c, int argc, char **argv, int from)
{
    if (argc <= from) {
        char *r = con_ask(c, CON_T(c, "Lý do: ", "Reason: "), 0);
        if (!r || !*r) {
            free(r);
            con_printf(c, "%s\n", CON_T(c, "lỗi: cần có lý do", "error: a reason is required"));
            return NULL;
        }
        return r;
    }
    size_t len = 0;
    for (int i = from; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    s[0] = 0;
    for (int i = from; i < argc; i++) {
        strcat(s, argv[i]);
        if (i + 1 < argc)
            strcat(s, " ");
    }
    return s;
}

/* ---- status ------------------------------------------------------------- */


static void print_network(console *c)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0) {
        con_printf(c, "  %s\n", CON_T(c, "không đọc được", "cannot be read"));
        return;
    }
    int any = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        char addr[INET6_ADDRSTRLEN] = "";
        if (i->ifa_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof addr);
        else if (i->ifa_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr,
                      sizeof addr);
        else
            continue;
        con_printf(c, "  %-10.10s %s %s\n", i->ifa_name, addr,
                   (i->ifa_flags & IFF_RUNNING) ? "" : CON_T(c, "(không kết nối)", "(no link)"));
        any = 1;
    }
    if (!any)
        con_printf(c, "  %s\n", CON_T(c, "không có địa chỉ mạng", "no network address"));
    freeifaddrs(ifa);
}

/* systemd-timesyncd's view, when there is one. */
static void print_time_sync(console *c)
{
    char now[VNTIME_ISO_LEN];
    vntime_iso(c->now(), now);
    const char *sync = CON_T(c, "không rõ", "unknown");
    FILE *p = popen("timedatectl show -p NTPSynchronized --value 2>/dev/null", "r");
    char line[32] = "";
    if (p) {
        if (fgets(line, sizeof line, p)) {
            if (strncmp(line, "yes", 3) == 0)
                sync = CON_T(c, "đã đồng bộ (NTP)", "synchronised (NTP)");
            else if (strncmp(line, "no", 2) == 0)
                sync = CON_T(c, "CHƯA đồng bộ", "NOT synchronised");
        }
        pclose(p);
    }
    con_printf(c, "  %s (Asia/Ho_Chi_Minh), %s\n", now, sync);
}

static int cmd_status(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sohoa_err err = {0};
    con_printf(c, "%s %s\n", CON_T(c, "Phiên bản:", "Version:"), SOHOA_VERSION);
    con_printf(c, "%s\n", CON_T(c, "Dịch vụ trạm:", "Station service:"));
    if (console_daemon_request(c, "STATUS", print_line, c, &err) != 0)
        con_printf(c, "  station: %s\n", CON_T(c, "KHÔNG CHẠY", "NOT RUNNING"));
    else
        con_printf(c, "  station: %s\n", CON_T(c, "đang chạy", "running"));
    reg_stats st;
    err_clear(&err);
    if (reg_get_stats(c->r, &st, &err) == 0) {
        con_printf(c, "%s\n", CON_T(c, "Hàng đợi gửi:", "Upload queue:"));
        con_printf(c, "  %s %ld, %s %ld, %s %ld, %s %ld\n", priority_name(c, 3),
                   st.queued_by_priority[3], priority_name(c, 2), st.queued_by_priority[2],
                   priority_name(c, 1), st.queued_by_priority[1], priority_name(c, 0),
                   st.queued_by_priority[0]);
        long age = st.oldest_queued ? (long)(c->now() - st.oldest_queued) : 0;
        con_printf(c, "  %s: %ld s; %s: %ld; %s: %ld; %s: %ld\n", CON_T(c, "cũ nhất", "oldest"),
                   age, CON_T(c, "chờ xử lý", "held"), st.in_state[DOC_HELD],
                   CON_T(c, "đã gửi", "sent"), st.in_state[DOC_SENT], CON_T(c, "lỗi", "failed"),
                   st.in_state[DOC_FAILED]);
        if (st.last_error)
            con_printf(c, "  %s: %s\n", CON_T(c, "lỗi gần nhất", "last error"),
                       con_cut(st.last_error, 60));
        reg_stats_free(&st);
    } else
        con_error(c, &err);
    struct statvfs vfs;
    if (statvfs(c->data_dir, &vfs) == 0 && vfs.f_blocks) {
        unsigned long long free_mb = (unsigned long long)vfs.f_bavail * vfs.f_frsize >> 20;
        int used = (int)(100 - (100 * vfs.f_bavail) / vfs.f_blocks);
        con_printf(c, "%s\n  %s: %llu MB %s, %d%% %s\n", CON_T(c, "Đĩa:", "Disk:"), c->data_dir,
                   free_mb, CON_T(c, "trống", "free"), used, CON_T(c, "đã dùng", "used"));
    }
    con_printf(c, "%s\n", CON_T(c, "Thời gian:", "Time:"));
    print_time_sync(c);
    con_printf(c, "%s\n", CON_T(c, "Mạng:", "Network:"));
    print_network(c);
    con_printf(c, "%s\n", CON_T(c, "Khóa ký số:", "Token:"));
    csys_token_show(c);
    return 0;
}

/* ---- press ---------------------------------------------------------------- */

static int cmd_press(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sohoa_err err = {0};
    con_printf(c, "%s\n", CON_T(c, "Đang quét và xử lý...", "Scanning and processing..."));
    if (console_daemon_request(c, "PRESS WAIT\nEND", print_line, c, &err) != 0) {
        con_error(c, &err);
        return 1;
    }
    console_audit(c, "press", NULL, NULL);
    return 0;
}

/* ---- queue and held ------------------------------------------------------- */

typedef struct list_ctx {
    console *c;
    int n;
} list_ctx;

static int list_queued(void *ctx, const reg_doc *d)
{
    list_ctx *l = ctx;
    console *c = l->c;
    char ref[40];
    doc_ref(d, ref, sizeof ref);
    if (l->n++ == 0)
        con_printf(c, "%6s %s %s %s %s\n", "ID", con_col(CON_T(c, "số đến", "so den"), 10),
                   con_col(CON_T(c, "độ khẩn", "urgency"), 11), con_col(CON_T(c, "thử", "try"), 4),
                   CON_T(c, "lỗi gần nhất", "last error"));
    con_printf(c, "%6" PRId64 " %-10s %s %4d %s\n", d->id, ref,
               con_col(priority_name(c, d->priority), 11), d->attempts, con_cut(d->last_error, 44));
    return 0;
}

static int list_held(void *ctx, const reg_doc *d)
{
    list_ctx *l = ctx;
    console *c = l->c;
    if (l->n++ == 0)
        con_printf(c, "%6s %s %s\n", "ID", con_col(CON_T(c, "lý do", "reason"), 26),
                   CON_T(c, "số, ký hiệu / trích yếu", "number / subject"));
    const char *nn = d->meta.str[META_NUMBER_NOTATION];
    const char *subj = d->meta.str[META_SUBJECT];
    char why[80];
    snprintf(why, sizeof why, "%s", d->note ? d->note : "");
    con_printf(c, "%6" PRId64 " %s %s %s\n", d->id, con_col(why, 26), con_col(nn ? nn : "-", 18),
               con_cut(subj, 26));
    return 0;
}

static int change_doc(console *c, const char *verb, int argc, char **argv, doc_state must_be)
{
    if (argc < 3)
        return con_printf(c, "%s: %s %s ID [%s]\n", CON_T(c, "dùng", "usage"), argv[0], verb,
                          CON_T(c, "LÝ DO", "REASON")),
               2;
    reg_doc d;
    int rc = get_doc(c, argv[2], &d);
    if (rc)
        return rc;
    if (d.state != must_be) {
        con_printf(c, "%s %" PRId64 ": %s (%s)\n", CON_T(c, "lỗi: văn bản", "error: document"),
                   d.id, doc_state_name(d.state), CON_T(c, "không thể", "cannot"));
        reg_doc_free(&d);
        return 1;
    }
    int discard = strcmp(verb, "discard") == 0;
    char q[200];
    snprintf(q, sizeof q, "%s %" PRId64 "?",
             discard                        ? CON_T(c, "HỦY văn bản", "DISCARD document")
             : strcmp(verb, "release") == 0 ? CON_T(c, "Cho gửi văn bản", "Release document")
                                            : CON_T(c, "Giữ lại văn bản", "Hold document"),
             d.id);
    char *reason = reason_from(c, argc, argv, 3);
    sohoa_err err = {0};
    rc = 1;
    if (reason && (!discard || con_confirm(c, q)) && (discard || argc > 3 || con_confirm(c, q))) {
        time_t now = c->now();
        int r = strcmp(verb, "release") == 0 ? reg_release(c->r, d.id, reason, c->who, now, &err)
                : discard                    ? reg_discard(c->r, d.id, reason, c->who, now, &err)
                          : reg_hold_queued(c->r, d.id, reason, c->who, now, &err);
        if (r != 0)
            con_error(c, &err);
        else {
            char what[64];
            snprintf(what, sizeof what, "%s document %" PRId64, verb, d.id);
            console_audit(c, what, doc_state_name(d.state), reason);
            con_printf(c, "%s\n", CON_T(c, "Xong.", "Done."));
            wake_station(c);
            rc = 0;
        }
    }
    free(reason);
    reg_doc_free(&d);
    return rc;
}

static int show_doc(console *c, int argc, char **argv)
{
    if (argc != 3)
        return con_printf(c, "%s: %s show ID\n", CON_T(c, "dùng", "usage"), argv[0]), 2;
    reg_doc d;
    int rc = get_doc(c, argv[2], &d);
    if (rc)
        return rc;
    print_doc(c, &d);
    con_printf(c, "%s\n", CON_T(c, "Lịch sử:", "History:"));
    sohoa_err err = {0};
    if (reg_each_event(c->r, d.id, print_event, c, &err) != 0)
        con_error(c, &err);
    reg_doc_free(&d);
    return 0;
}

typedef struct id_list {
    int64_t *v;
    size_t n, cap;
} id_list;

static int collect_id(void *ctx, const reg_doc *d)
{
    id_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = d->id;
    return 0;
}

static int cmd_queue(console *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";
    sohoa_err err = {0};
    if (strcmp(sub, "list") == 0) {
        list_ctx l = {c, 0};
        if (reg_each_in_state(c->r, DOC_QUEUED, list_queued, &l, &err) != 0) {
            con_error(c, &err);
            return 1;
        }
        con_printf(c, "%d %s\n", l.n, CON_T(c, "văn bản trong hàng đợi", "document(s) queued"));
        return 0;
    }
    if (strcmp(sub, "show") == 0)
        return show_doc(c, argc, argv);
    if (strcmp(sub, "retry") == 0) {
        if (argc != 3)
            return con_printf(c, "%s: queue retry ID|all\n", CON_T(c, "dùng", "usage")), 2;
        int64_t id = 0;
        if (strcmp(argv[2], "all") != 0 && parse_id(argv[2], &id) != 0)
            return con_printf(c, "%s\n", CON_T(c, "lỗi: ID hoặc all", "error: ID or all")), 2;
        int n = 0;
        if (id) {
            if (reg_retry_now(c->r, id, c->who, c->now(), &err) != 0) {
                con_error(c, &err);
                return 1;
            }
            n = 1;
        } else {
            /* collect first: the callback must not write mid-query */
            id_list all = {0};
            if (reg_each_in_state(c->r, DOC_QUEUED, collect_id, &all, &err) != 0) {
                con_error(c, &err);
                free(all.v);
                return 1;
            }
            for (size_t i = 0; i < all.n; i++)
                if (reg_retry_now(c->r, all.v[i], c->who, c->now(), &err) == 0)
                    n++;
            free(all.v);
        }
        console_audit(c, "queue retry", NULL, argv[2]);
        wake_station(c);
        con_printf(c, "%d %s\n", n, CON_T(c, "văn bản sẽ được gửi ngay", "document(s) due now"));
        return 0;
    }
    if (strcmp(sub, "hold") == 0)
        return change_doc(c, "hold", argc, argv, DOC_QUEUED);
    if (strcmp(sub, "release") == 0)
        return change_doc(c, "release", argc, argv, DOC_HELD);
    if (strcmp(sub, "discard") == 0)
        return change_doc(c, "discard", argc, argv, DOC_QUEUED);
    return con_usage(c, &console_cmds_station[2]);
}

static int cmd_held(console *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";
    sohoa_err err = {0};
    if (strcmp(sub, "list") == 0) {
        list_ctx l = {c, 0};
        if (reg_each_in_state(c->r, DOC_HELD, list_held, &l, &err) != 0) {
            con_error(c, &err);
            return 1;
        }
        con_printf(c, "%d %s\n", l.n, CON_T(c, "văn bản đang giữ", "document(s) held"));
        return 0;
    }
    if (strcmp(sub, "show") == 0)
        return show_doc(c, argc, argv);
    if (strcmp(sub, "edit") == 0) {
        if (argc < 4 || argc > 5)
            return con_printf(c, "%s: held edit ID FIELD [VALUE]\n", CON_T(c, "dùng", "usage")), 2;
        meta_field f = meta_field_by_name(argv[3]);
        if (f == META_NFIELDS || f == META_FORMAT) {
            con_printf(c, "%s \"%s\"\n", CON_T(c, "lỗi: không có trường", "error: no such field"),
                       argv[3]);
            return 2;
        }
        reg_doc d;
        int rc = get_doc(c, argv[2], &d);
        if (rc)
            return rc;
        char old[200];
        if (f == META_NUMBER)
            snprintf(old, sizeof old, d.meta.has_number ? "%ld" : "", d.meta.number);
        else
            snprintf(old, sizeof old, "%s", d.meta.str[f] ? d.meta.str[f] : "");
        const char *value = argc == 5 ? argv[4] : NULL;
        if (reg_correct(c->r, d.id, f, value, c->who, c->now(), &err) != 0) {
            con_error(c, &err);
            reg_doc_free(&d);
            return err.status == SOHOA_EINPUT ? 2 : 1;
        }
        char what[80];
        snprintf(what, sizeof what, "edit document %" PRId64 " %s", d.id, meta_field_name(f));
        console_audit(c, what, old, value);
        con_printf(c, "%s: %s → %s\n", meta_field_name(f), *old ? old : "-", value ? value : "-");
        reg_doc_free(&d);
        return 0;
    }
    if (strcmp(sub, "release") == 0)
        return change_doc(c, "release", argc, argv, DOC_HELD);
    if (strcmp(sub, "discard") == 0)
        return change_doc(c, "discard", argc, argv, DOC_HELD);
    return con_usage(c, &console_cmds_station[3]);
}

/* ---- register ------------------------------------------------------------- */

static int print_registered(void *ctx, const reg_doc *d)
{
    list_ctx *l = ctx;
    console *c = l->c;
    if (l->n++ == 0)
        con_printf(c, "%s %s %s %s\n", con_col(CON_T(c, "số đến", "so den"), 8),
                   con_col(CON_T(c, "ngày", "date"), 10),
                   con_col(CON_T(c, "số, ký hiệu", "number"), 18),
                   CON_T(c, "trích yếu", "subject"));
    char ref[40], day[11];
    doc_ref(d, ref, sizeof ref);
    vntime_date(d->effective, day);
    const char *nn = d->meta.str[META_NUMBER_NOTATION];
    const char *subj = d->meta.str[META_SUBJECT];
    con_printf(c, "%-8s %-10s %s %s\n", ref, day, con_col(nn ? nn : "-", 18), con_cut(subj, 40));
    return 0;
}

/* "DAY" or "DAY..DAY" (YYYY-MM-DD); none = the last 30 days and the
 * days ahead a receipt after hours or before a holiday may count from. */
static int day_range(console *c, const char *arg, char from[11], char to[11])
{
    if (!arg) {
        vntime_date(c->now() - 30 * 86400, from);
        vntime_date(c->now() + 10 * 86400, to);
        return 0;
    }
    const char *dots = strstr(arg, "..");
    time_t t;
    char a[11] = "", b[11] = "";
    snprintf(a, sizeof a, "%.*s", dots ? (int)(dots - arg) : 10, arg);
    snprintf(b, sizeof b, "%s", dots ? dots + 2 : a);
    if (vntime_parse_date(a, &t) != 0 || vntime_parse_date(b, &t) != 0) {
        con_printf(c, "%s: \"%s\" (YYYY-MM-DD %s YYYY-MM-DD..YYYY-MM-DD)\n",
                   CON_T(c, "lỗi: ngày không hợp lệ", "error: bad date"), arg,
                   CON_T(c, "hoặc", "or"));
        return 2;
    }
    memcpy(from, a, 11);
    memcpy(to, b, 11);
    return 0;
}

/* The file as base64 lines between markers, for capture from the line. */
static int print_base64(console *c, const char *path, const char *name)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    con_printf(c, "-----BEGIN %s-----\n", name);
    unsigned char in[57];
    unsigned char out[80];
    size_t n;
    while ((n = fread(in, 1, sizeof in, f)) > 0) {
        EVP_EncodeBlock(out, in, (int)n);
        con_printf(c, "%s\n", out);
    }
    con_printf(c, "-----END %s-----\n", name);
    fclose(f);
    return 0;
}

static int register_export(console *c, int argc, char **argv)
{
    /* register export csv|pdf [RANGE] [usb|-] */
    if (argc < 3 || (strcmp(argv[2], "csv") != 0 && strcmp(argv[2], "pdf") != 0))
        return con_printf(c, "%s: register export csv|pdf [YYYY-MM-DD[..YYYY-MM-DD]] [usb|-]\n",
                          CON_T(c, "dùng", "usage")),
               2;
    int pdf = strcmp(argv[2], "pdf") == 0;
    const char *range = NULL, *dest = "usb";
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "usb") == 0 || strcmp(argv[i], "-") == 0)
            dest = argv[i];
        else
            range = argv[i];
    }
    char from[11], to[11];
    if (day_range(c, range, from, to) != 0)
        return 2;
    char *dir = NULL;
    if (strcmp(dest, "-") == 0)
        dir = strdup(c->data_dir);
    else
        dir = console_config_path(c, config_get(&c->cfg, "console", "export_dir", "/media/usb"));
    char *path = NULL;
    if (!dir || access(dir, W_OK) != 0) {
        con_printf(c, "%s: %s\n", dir ? dir : "?",
                   CON_T(c, "không ghi được: cắm USB và gắn (mount) nó, hoặc dùng - để in ra đây",
                         "not writable: plug in and mount the USB stick, or use - to print here"));
        free(dir);
        return 1;
    }
    if (asprintf(&path, "%s/so-den-%s_%s.%s", dir, from, to, pdf ? "pdf" : "csv") < 0) {
        free(dir);
        return 1;
    }
    sohoa_err err = {0};
    int rc = 0;
    if (pdf) {
        rc = register_export_pdf(c->r, from, to, config_get(&c->cfg, "station", "organ_name", ""),
                                 path, &err);
    } else {
        FILE *f = fopen(path, "w");
        if (!f)
            rc = err_errno(&err, SOHOA_EWORK, errno, "%s", path);
        else {
            rc = register_export_csv(c->r, from, to, f, &err);
            if (fflush(f) != 0 || fsync(fileno(f)) != 0)
                rc = err_errno(&err, SOHOA_EWORK, errno, "%s", path);
            if (fclose(f) != 0 && rc == 0)
                rc = err_errno(&err, SOHOA_EWORK, errno, "%s", path);
        }
    }
    if (rc != 0) {
        con_error(c, &err);
        unlink(path);
    } else if (strcmp(dest, "-") == 0) {
        const char *slash = strrchr(path, '/');
        print_base64(c, path, slash + 1);
        unlink(path);
    } else {
        con_printf(c, "%s %s\n", CON_T(c, "Đã ghi", "Written:"), path);
        console_audit(c, "register export", NULL, path);
    }
    free(path);
    free(dir);
    return rc ? 1 : 0;
}

static int cmd_register(console *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "show";
    if (strcmp(sub, "export") == 0)
        return register_export(c, argc, argv);
    if (strcmp(sub, "show") != 0)
        return con_usage(c, &console_cmds_station[4]);
    const char *arg = argc > 2 ? argv[2] : NULL;
    sohoa_err err = {0};
    /* "12/2026": one entry by số đến */
    int year = 0;
    long long so = 0;
    char tail;
    if (arg && sscanf(arg, "%lld/%d%c", &so, &year, &tail) == 2 && so > 0 && year > 1945) {
        reg_doc d;
        int found = 0;
        if (reg_get_by_so_den(c->r, year, so, &d, &found, &err) != 0) {
            con_error(c, &err);
            return 1;
        }
        if (!found) {
            con_printf(c, "%s %s\n", CON_T(c, "Không có số đến", "No so den"), arg);
            return 1;
        }
        print_doc(c, &d);
        reg_doc_free(&d);
        return 0;
    }
    char from[11], to[11];
    if (day_range(c, arg, from, to) != 0)
        return 2;
    list_ctx l = {c, 0};
    if (reg_each_registered(c->r, from, to, print_registered, &l, &err) != 0) {
        con_error(c, &err);
        return 1;
    }
    con_printf(c, "%d %s %s..%s\n", l.n, CON_T(c, "văn bản đến", "document(s) received"), from, to);
    return 0;
}

/* ---- logs, audit, version --------------------------------------------------- */

static int level_rank(const char *line)
{
    if (strstr(line, "error:") || strstr(line, " err") == line)
        return 0;
    if (strstr(line, "warning:"))
        return 1;
    if (strstr(line, "debug:"))
        return 3;
    return 2;
}

static int cmd_logs(console *c, int argc, char **argv)
{
    long n = 40;
    int max_rank = 3;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        long v = strtol(argv[i], &end, 10);
        if (*argv[i] && !*end && v > 0 && v <= 10000)
            n = v;
        else if (strcmp(argv[i], "error") == 0)
            max_rank = 0;
        else if (strcmp(argv[i], "warning") == 0 || strcmp(argv[i], "warn") == 0)
            max_rank = 1;
        else if (strcmp(argv[i], "info") == 0)
            max_rank = 2;
        else
            return con_usage(c, &console_cmds_station[5]);
    }
    const char *cmd = config_get(&c->cfg, "console", "log_command",
                                 "journalctl -u sohoa.service --no-pager -o short-iso -n 5000");
    FILE *p = popen(cmd, "r");
    if (!p) {
        con_printf(c, "%s: %s\n", CON_T(c, "lỗi: không chạy được", "error: cannot run"), cmd);
        return 1;
    }
    /* the last n matching lines: a ring of them */
    char **ring = calloc((size_t)n, sizeof *ring);
    long count = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (ring && (len = getline(&line, &cap, p)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = 0;
        if (level_rank(line) > max_rank)
            continue;
        free(ring[count % n]);
        ring[count % n] = strdup(line);
        count++;
    }
    free(line);
    pclose(p);
    long first = count > n ? count - n : 0;
    for (long i = first; ring && i < count; i++) {
        /* long lines wrap at 80 columns on the terminal, untouched */
        con_printf(c, "%s\n", ring[i % n] ? ring[i % n] : "");
    }
    for (long i = 0; ring && i < n; i++)
        free(ring[i]);
    free(ring);
    if (count == 0)
        con_printf(c, "%s\n", CON_T(c, "(không có dòng nào)", "(no lines)"));
    return 0;
}

static int print_audit(void *ctx, const reg_audit_entry *e)
{
    console *c = ctx;
    char at[VNTIME_ISO_LEN];
    vntime_iso(e->at, at);
    con_printf(c, "%.19s %s %s: %s → %s\n", at, con_col(e->who, 14), e->what,
               con_cut(e->old_value ? e->old_value : "-", 20),
               con_cut(e->new_value ? e->new_value : "-", 20));
    return 0;
}

static int cmd_audit(console *c, int argc, char **argv)
{
    long n = 30;
    if (argc > 2 || (argc == 2 && ((n = strtol(argv[1], NULL, 10)) <= 0 || n > 100000)))
        return con_usage(c, &console_cmds_station[6]);
    sohoa_err err = {0};
    if (reg_each_audit(c->r, (int)n, print_audit, c, &err) != 0) {
        con_error(c, &err);
        return 1;
    }
    return 0;
}

static int cmd_version(console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf(c, "sohoa %s\n", SOHOA_VERSION);
    return 0;
}

static const char *const queue_subs[] = {"list",    "show",    "retry", "hold",
                                         "release", "discard", NULL};
static const char *const held_subs[] = {"list", "show", "edit", "release", "discard", NULL};
static const char *const register_subs[] = {"show", "export", NULL};
static const char *const logs_subs[] = {"error", "warning", "info", NULL};

/* The order matters: handlers print their usage by index. */
const console_cmd console_cmds_station[] = {
    {"status", "", "trạng thái trạm, máy quét, khóa, hàng đợi, đĩa, giờ, mạng",
     "station, scanner, token, queue, disk, time, network", cmd_status, NULL},
    {"press", "", "như nhấn nút: quét và xử lý văn bản trong khay",
     "a button press: scan and process what is in the feeder", cmd_press, NULL},
    {"queue", "[list]|show ID|retry ID|all|hold ID LÝ-DO|release ID LÝ-DO|discard ID LÝ-DO",
     "hàng đợi gửi: xem, gửi lại ngay, giữ, thả, hủy",
     "upload queue: list, retry, hold, release, discard", cmd_queue, queue_subs},
    {"held", "[list]|show ID|edit ID FIELD [VALUE]|release ID LÝ-DO|discard ID LÝ-DO",
     "văn bản đang giữ (mật, trùng, cần kiểm tra)",
     "held documents (classified, duplicate, review)", cmd_held, held_subs},
    {"register", "show [NGÀY[..NGÀY]|SỐ/NĂM]|export csv|pdf [NGÀY[..NGÀY]] [usb|-]",
     "sổ đăng ký văn bản đến: xem, xuất", "the incoming register: show, export", cmd_register,
     register_subs},
    {"logs", "[N] [error|warning|info]", "nhật ký dịch vụ", "the service's log", cmd_logs,
     logs_subs},
    {"audit", "[N]", "nhật ký thay đổi (ai, khi nào, gì)", "the audit log (who, when, what)",
     cmd_audit, NULL},
    {"version", "", "phiên bản", "version", cmd_version, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
