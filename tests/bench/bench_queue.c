/* bench_queue — how fast the upload queue empties into a receiver.
 *
 * usage: bench_queue CONFIG PDF COUNT
 *
 * Fills a fresh register (the configuration's [station] data_dir) with
 * COUNT documents queued at once, each with its own DocumentId and an edXML
 * envelope carrying PDF (like the station's, ~300 KB), mixed priorities;
 * then runs the sender as the daemon does until the queue is empty and
 * prints documents per second, the time to fill, and the peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "firmware/cli.h"
#include "firmware/edxml.h"
#include "firmware/fsutil.h"
#include "firmware/register.h"
#include "firmware/sender.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const sohoa_err *e)
{
    fprintf(stderr, "bench_queue: %s\n", e->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: bench_queue CONFIG PDF COUNT\n", stderr);
        return 2;
    }
    int count = atoi(argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sohoa_err err = {0};
    config cfg;
    if (load_config(argv[1], &cfg, &err) != 0)
        return die(&err);
    const char *data = config_get(&cfg, "station", "data_dir", NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/docs", data);
    if (fs_mkdir_p(path, 0700, &err) != 0)
        return die(&err);
    snprintf(path, sizeof path, "%s/register.db", data);
    reg *r = reg_open(path, &err);
    edxml_options eo;
    if (!r || edxml_options_load(&cfg, &eo, &err) != 0)
        return die(&err);

    static const char *const urgency[] = {NULL, "Khẩn", "Thượng khẩn", "Hỏa tốc"};
    double t0 = now_s();
    time_t t = time(NULL);
    for (int i = 0; i < count; i++) {
        doc_metadata m = {0};
        char nn[64], dir[4096], env[4200];
        snprintf(nn, sizeof nn, "%d/QĐ-UBND", i + 1);
        meta_set(&m, META_NUMBER_NOTATION, nn);
        meta_set(&m, META_DATE, "2026-11-20");
        meta_set(&m, META_TYPE, "Quyết định");
        meta_set(&m, META_SUBJECT, "Về việc thử hàng đợi gửi văn bản");
        meta_set(&m, META_ISSUER, "ỦY BAN NHÂN DÂN TỈNH QUẢNG NAM");
        meta_set(&m, META_URGENCY, urgency[i % 4]);
        m.number = i + 1;
        m.has_number = true;
        m.pages = 1;
        snprintf(dir, sizeof dir, "%s/docs/b%05d", data, i);
        if (fs_mkdir_p(dir, 0700, &err) != 0)
            return die(&err);
        int64_t id, so_den;
        char *docid = edxml_document_id(eo.organ_id, &m, &err);
        snprintf(env, sizeof env, "%s/envelope.xml", dir);
        edxml_doc ed = {.document_id = docid, .pdf_path = argv[2], .attachment_name = "a.pdf",
                        .sent_at = t};
        if (!docid || reg_create(r, dir, t, t, &id, &err) != 0 ||
            reg_set_metadata(r, id, &m, t, &err) != 0 || reg_register(r, id, t, &so_den, &err) != 0 ||
            reg_set_signed(r, id, "00000000000000000000000000000000000000000000000000000000000000ff",
                           t, &err) != 0 ||
            edxml_write_envelope(env, &eo, &m, &ed, &err) != 0 ||
            reg_enqueue(r, id, docid, edxml_priority(m.str[META_URGENCY]), t, &err) != 0)
            return die(&err);
        free(docid);
        meta_free(&m);
    }
    double t1 = now_s();

    sender s;
    if (sender_init(&s, &cfg, r, &err) != 0)
        return die(&err);
    int sent = 0, attempted = 1;
    time_t due;
    while (attempted) {
        if (sender_step(&s, time(NULL), &attempted, &due, &err) != 0)
            return die(&err);
        sent += attempted;
    }
    double t2 = now_s();
    reg_stats st;
    if (reg_get_stats(r, &st, &err) != 0)
        return die(&err);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench-queue: %d documents queued in %.1f s; sent %d in %.2f s = %.1f documents/s "
           "(%ld sent, %ld still queued%s%s); peak RSS %.1f MB\n",
           count, t1 - t0, sent, t2 - t1, sent / (t2 - t1), st.in_state[DOC_SENT],
           st.in_state[DOC_QUEUED], s.last_error[0] ? "; last error: " : "", s.last_error,
           ru.ru_maxrss / 1024.0);
    reg_stats_free(&st);
    sender_free(&s);
    reg_close(r);
    config_free(&cfg);
    return st.in_state[DOC_QUEUED] == 0 ? 0 : 1;
}
