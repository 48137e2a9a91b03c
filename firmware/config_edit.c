/* config_edit.c — see config_edit.h. */
#include "config_edit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

/* One line of the text: [start, end) without its '\n'. */
typedef struct span {
    const char *start, *end;
} span;

static const char *skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* "[name]" on this line → 1 and the name in `name`. */
static int section_header(span l, char *name, size_t size)
{
    const char *p = skip_blank(l.start, l.end);
    if (p >= l.end || *p != '[')
        return 0;
    const char *close = memchr(p, ']', (size_t)(l.end - p));
    if (!close)
        return 0;
    size_t n = (size_t)(close - p - 1);
    if (n >= size)
        n = size - 1;
    memcpy(name, p + 1, n);
    name[n] = 0;
    return 1;
}

/* The line sets `key` ("key =", spaces allowed). */
static int is_key_line(span l, const char *key)
{
    const char *p = skip_blank(l.start, l.end);
    size_t n = strlen(key);
    if ((size_t)(l.end - p) < n || strncmp(p, key, n) != 0)
        return 0;
    p = skip_blank(p + n, l.end);
    return p < l.end && *p == '=';
}

/* Where a trailing comment starts (" ;" or " #" after the value), or NULL. */
static const char *trailing_comment(span l)
{
    const char *eq = memchr(l.start, '=', (size_t)(l.end - l.start));
    for (const char *p = eq ? eq + 1 : l.end; p + 1 < l.end; p++)
        if ((*p == ' ' || *p == '\t') && (p[1] == ';' || p[1] == '#')) {
            /* with the whole blank run before it: the alignment stays */
            while (p > eq + 1 && (p[-1] == ' ' || p[-1] == '\t'))
                p--;
            return p;
        }
    return NULL;
}

char *config_text_set(const char *text, const char *section, const char *key, const char *value)
{
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    if (!m)
        return NULL;
    char cur[128] = "";
    int in_section = 0, done = 0, seen_section = 0;
    const char *last_key_end = NULL; /* after the last key line of the section */
    const char *p = text;
    /* first pass: find where to add the key when it is not there */
    for (const char *q = text; *q;) {
        const char *nl = strchr(q, '\n');
        span l = {q, nl ? nl : q + strlen(q)};
        if (section_header(l, cur, sizeof cur))
            in_section = strcmp(cur, section) == 0, seen_section |= in_section;
        else if (in_section && l.end > skip_blank(l.start, l.end) &&
                 *skip_blank(l.start, l.end) != ';' && *skip_blank(l.start, l.end) != '#')
            last_key_end = nl ? nl + 1 : l.end;
        q = nl ? nl + 1 : l.end;
    }
    in_section = 0;
    cur[0] = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        span l = {p, nl ? nl : p + strlen(p)};
        const char *next = nl ? nl + 1 : l.end;
        if (section_header(l, cur, sizeof cur)) {
            in_section = strcmp(cur, section) == 0;
            fwrite(l.start, 1, (size_t)(next - l.start), m);
            /* an empty section: add right after its header */
            if (in_section && !done && !last_key_end && value) {
                if (!nl)
                    fputc('\n', m);
                fprintf(m, "%s = %s\n", key, value);
                done = 1;
            }
        } else if (in_section && !done && is_key_line(l, key)) {
            if (value) {
                const char *comment = trailing_comment(l);
                const char *indent_end = skip_blank(l.start, l.end);
                fwrite(l.start, 1, (size_t)(indent_end - l.start), m);
                fprintf(m, "%s = %s", key, value);
                if (comment)
                    fwrite(comment, 1, (size_t)(l.end - comment), m);
                fputc('\n', m);
            }
            done = 1;
        } else {
            fwrite(l.start, 1, (size_t)(next - l.start), m);
            if (!nl && next == l.end && l.end > l.start)
                fputc('\n', m);
        }
        if (in_section && !done && value && next == last_key_end) {
            fprintf(m, "%s = %s\n", key, value);
            done = 1;
        }
        p = next;
    }
    if (!done && value && !seen_section)
        fprintf(m, "%s[%s]\n%s = %s\n", len || ftell(m) ? "\n" : "", section, key, value);
    if (fclose(m) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *prev_path(const char *path)
{
    char *p = NULL;
    return asprintf(&p, "%s.prev", path) < 0 ? NULL : p;
}

int config_replace(const char *path, const char *text, sohoa_err *err)
{
    char *prev = prev_path(path);
    if (!prev)
        return err_set(err, SOHOA_EWORK, "out of memory");
    mode_t mode = 0640;
    struct stat sb;
    char *old = NULL;
    size_t old_len = 0;
    int rc = 0;
    if (stat(path, &sb) == 0) {
        mode = sb.st_mode & 0777;
        /* the previous file first: a crash between the two writes leaves
         * the old configuration in place and a copy of it */
        rc = fs_read_all(path, 4 << 20, &old, &old_len, err);
        if (rc == 0)
            rc = fs_write_atomic(prev, old, old_len, mode, err);
    }
    if (rc == 0)
        rc = fs_write_atomic(path, text, strlen(text), mode, err);
    free(old);
    free(prev);
    return rc;
}

int config_rollback(const char *path, sohoa_err *err)
{
    char *prev = prev_path(path);
    if (!prev)
        return err_set(err, SOHOA_EWORK, "out of memory");
    char *before = NULL, *now = NULL;
    size_t before_len = 0, now_len = 0;
    int rc = -1;
    struct stat sb;
    if (stat(prev, &sb) != 0) {
        err_set(err, SOHOA_EINPUT, "%s: there is no previous configuration to go back to", prev);
        goto out;
    }
    if (fs_read_all(prev, 4 << 20, &before, &before_len, err) != 0 ||
        fs_read_all(path, 4 << 20, &now, &now_len, err) != 0)
        goto out;
    rc = fs_write_atomic(path, before, before_len, sb.st_mode & 0777, err);
    if (rc == 0)
        rc = fs_write_atomic(prev, now, now_len, sb.st_mode & 0777, err);
out:
    free(before);
    free(now);
    free(prev);
    return rc;
}
