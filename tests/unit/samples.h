/* samples.h — the shared sample scans (../shared/samples, or
 * $SOHOA_SAMPLES) for tests that use real pages when they are present.
 * A fresh clone has none: callers skip() when this returns NULL. */
#ifndef SOHOA_TEST_SAMPLES_H
#define SOHOA_TEST_SAMPLES_H

#include <leptonica/allheaders.h>
#include <stdio.h>
#include <stdlib.h>

static inline PIX *read_sample(const char *rel)
{
    const char *dir = getenv("SOHOA_SAMPLES");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared/samples", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fclose(f);
    return pixRead(path);
}

#endif
