/* bench_sign — PAdES signing cost on our side of the token.
 *
 * usage: bench_sign CONFIG IN.pdf OUT.pdf [N]
 *
 * Opens the configured token once, signs IN into OUT N times (default 50)
 * and prints, per signature: wall time, the part of it spent inside the
 * token (RSA/ECDSA: measured by wrapping the backend's sign_digest), and
 * the rest, which is ours; then the peak RSS after the first and after the
 * last signature, so a leak shows as growth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "firmware/config.h"
#include "firmware/signing.h"
#include "signer/pades.h"

static const token_ops *real_ops;
static double token_ms;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The backend's own sign_digest, timed. */
static int timed_sign(token *t, token_sig_scheme scheme, int md_nid, const unsigned char *digest,
                      size_t digest_len, unsigned char **sig, size_t *sig_len, sohoa_err *err)
{
    double t0 = now_ms();
    int rc = real_ops->sign_digest(t, scheme, md_nid, digest, digest_len, sig, sig_len, err);
    token_ms += now_ms() - t0;
    return rc;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_sign CONFIG IN.pdf OUT.pdf [N]\n");
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 50;
    if (n < 1)
        n = 1;
    sohoa_err err = {0};
    config cfg;
    signing_setup s;
    if (config_load(&cfg, argv[1], &err) != 0 || signing_load(&cfg, &s, &err) != 0) {
        fprintf(stderr, "bench_sign: %s\n", err.msg);
        return 1;
    }
    token *t = signing_open_token(&s, &err);
    if (!t) {
        fprintf(stderr, "bench_sign: %s\n", err.msg);
        return 1;
    }
    token_ops ops = *t->ops;
    real_ops = t->ops;
    ops.sign_digest = timed_sign;
    t->ops = &ops;

    double *ours = calloc((size_t)n, sizeof *ours), *wall = calloc((size_t)n, sizeof *wall);
    long rss_first = 0;
    int rc = 0;
    for (int i = 0; i < n && ours && wall; i++) {
        token_ms = 0;
        double t0 = now_ms();
        if (pades_sign_file(argv[2], argv[3], t, &s.po, NULL, &err) != 0) {
            fprintf(stderr, "bench_sign: %s\n", err.msg);
            rc = 1;
            break;
        }
        wall[i] = now_ms() - t0;
        ours[i] = wall[i] - token_ms;
        if (i == 0)
            rss_first = peak_rss_kb();
    }
    if (rc == 0 && ours && wall) {
        qsort(ours, (size_t)n, sizeof *ours, cmp_double);
        qsort(wall, (size_t)n, sizeof *wall, cmp_double);
        printf("signatures: %d\n", n);
        printf("wall per signature:            median %.1f ms, max %.1f ms\n", wall[n / 2],
               wall[n - 1]);
        printf("excluding the token's signing: median %.1f ms, max %.1f ms\n", ours[n / 2],
               ours[n - 1]);
        printf("peak RSS: %ld KB after the first, %ld KB after the last signature\n", rss_first,
               peak_rss_kb());
    }
    free(ours);
    free(wall);
    t->ops = real_ops;
    token_close(t);
    signing_free(&s);
    config_free(&cfg);
    return rc;
}
