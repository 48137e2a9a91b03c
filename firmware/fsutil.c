#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

int atomic_open(atomic_file *af, const char *path, mode_t mode, sohoa_err *err)
{
    memset(af, 0, sizeof *af);
    char *dir = dir_of(path);
    char *base_copy = strdup(path);
    if (!dir || !base_copy) {
        free(dir);
        free(base_copy);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
    }
    /* A hidden name in the same directory: rename() must not cross file
     * systems, and a leftover after a crash is recognisable. */
    if (asprintf(&af->tmp_path, "%s/.%s.XXXXXX", dir, basename(base_copy)) < 0)
        af->tmp_path = NULL;
    free(dir);
    free(base_copy);
    af->path = strdup(path);
    if (!af->tmp_path || !af->path) {
        atomic_abort(af);
        return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
    }
    int fd = mkostemp(af->tmp_path, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        atomic_abort(af);
        return err_errno(err, SOHOA_EWORK, e, "%s: cannot create file", path);
    }
    if (fchmod(fd, mode) != 0 || !(af->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        atomic_abort(af);
        return err_errno(err, SOHOA_EWORK, e, "%s: cannot create file", path);
    }
    return 0;
}

int atomic_sync(atomic_file *af, sohoa_err *err)
{
    if (!af->f)
        return 0; /* already synced and closed */
    int bad = ferror(af->f) || fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
    int e = errno;
    if (fclose(af->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    af->f = NULL;
    if (bad)
        return err_errno(err, SOHOA_EWORK, e ? e : EIO, "%s: write failed", af->path);
    return 0;
}

int atomic_commit(atomic_file *af, sohoa_err *err)
{
    if (atomic_sync(af, err) != 0) {
        atomic_abort(af);
        return -1;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        int e = errno;
        err_errno(err, SOHOA_EWORK, e, "%s: cannot rename into place", af->path);
        atomic_abort(af);
        return -1;
    }
    int rc = fs_sync_parent(af->path, err);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
    return rc;
}

void atomic_abort(atomic_file *af)
{
    if (af->f)
        fclose(af->f);
    if (af->tmp_path)
        unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, sohoa_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, mode, err) != 0)
        return -1;
    if (len && fwrite(data, 1, len, af.f) != len) {
        err_errno(err, SOHOA_EWORK, errno, "%s: write failed", path);
        atomic_abort(&af);
        return -1;
    }
    return atomic_commit(&af, err);
}

int fs_mkdir_p(const char *dir, mode_t mode, sohoa_err *err)
{
    char *p = strdup(dir);
    if (!p)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            int e = errno;
            err_errno(err, e == EACCES || e == EROFS ? SOHOA_EWORK : SOHOA_EINPUT, e,
                      "%s: cannot create directory", p);
            free(p);
            return -1;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(err, SOHOA_EINPUT, "%s: not a directory", dir);
    return 0;
}

int fs_sync_parent(const char *path, sohoa_err *err)
{
    char *dir = dir_of(path);
    if (!dir)
        return err_set(err, SOHOA_EWORK, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0)
        rc = err_errno(err, SOHOA_EWORK, errno, "%s: cannot sync directory", dir);
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int fs_read_all(const char *path, size_t max, char **data, size_t *len, sohoa_err *err)
{
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_errno(err, SOHOA_EINPUT, errno, "%s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = cap > max ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return err_set(err, SOHOA_EINPUT, "%s: larger than %zu bytes or out of memory", path, max);
    if (bad || n > max) {
        free(buf);
        return err_set(err, SOHOA_EINPUT, "%s: read error or larger than %zu bytes", path, max);
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
}
