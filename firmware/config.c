#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* A comment starts at ';' or '#' preceded by whitespace (or at the start),
 * so that values like "a;b" or URLs with '#' fragments survive. */
static void strip_comment(char *s)
{
    for (char *p = s; *p; p++)
        if ((*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
}

static config_entry *find(const config *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->entries[i].section, section) == 0 && strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

static int add(config *cfg, const char *section, const char *key, const char *value, int line)
{
    if (cfg->n == cfg->cap) {
        size_t ncap = cfg->cap ? cfg->cap * 2 : 32;
        config_entry *e = realloc(cfg->entries, ncap * sizeof *e);
        if (!e)
            return -1;
        cfg->entries = e;
        cfg->cap = ncap;
    }
    config_entry *e = &cfg->entries[cfg->n];
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = line;
    if (!e->section || !e->key || !e->value) {
        free(e->section);
        free(e->key);
        free(e->value);
        return -1;
    }
    cfg->n++;
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

static int parse_line(config *cfg, char *line, int lineno, char *section, size_t seclen,
                      const char *name, sohoa_err *err)
{
    strip_comment(line);
    char *s = trim(line);
    if (!*s)
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || close[1] != '\0')
            return err_set(err, SOHOA_EINPUT, "%s:%d: malformed section header", name, lineno);
        *close = '\0';
        char *sec = trim(s + 1);
        if (!valid_name(sec) || strlen(sec) >= seclen)
            return err_set(err, SOHOA_EINPUT, "%s:%d: bad section name \"%s\"", name, lineno, sec);
        strcpy(section, sec);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq)
        return err_set(err, SOHOA_EINPUT, "%s:%d: expected \"key = value\"", name, lineno);
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (!*section)
        return err_set(err, SOHOA_EINPUT, "%s:%d: \"%s\" is outside any [section]", name, lineno,
                       key);
    if (!valid_name(key))
        return err_set(err, SOHOA_EINPUT, "%s:%d: bad key name \"%s\"", name, lineno, key);
    if (find(cfg, section, key))
        return err_set(err, SOHOA_EINPUT, "%s:%d: [%s] %s is set twice", name, lineno, section,
                       key);
    if (add(cfg, section, key, value, lineno) != 0)
        return err_set(err, SOHOA_EWORK, "out of memory");
    return 0;
}

int config_parse(config *cfg, const char *text, const char *name, sohoa_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    char *copy = strdup(text);
    if (!copy)
        return err_set(err, SOHOA_EWORK, "out of memory");
    char section[128] = "";
    int lineno = 0, rc = 0;
    /* Split by hand: strtok() would merge empty lines and shift numbers. */
    for (char *line = copy; line && rc == 0;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        if (strlen(line) > 4096)
            rc = err_set(err, SOHOA_EINPUT, "%s:%d: line too long", name, lineno);
        else
            rc = parse_line(cfg, line, lineno, section, sizeof section, name, err);
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    if (rc != 0)
        config_free(cfg);
    return rc;
}

int config_load(config *cfg, const char *path, sohoa_err *err)
{
    char *text = NULL;
    size_t len = 0;
    memset(cfg, 0, sizeof *cfg);
    if (fs_read_all(path, CONFIG_MAX_BYTES, &text, &len, err) != 0)
        return -1;
    if (strlen(text) != len) {
        free(text);
        return err_set(err, SOHOA_EINPUT, "%s: contains a NUL byte; not a text file", path);
    }
    int rc = config_parse(cfg, text, path, err);
    free(text);
    if (rc == 0 && !(cfg->path = strdup(path))) {
        config_free(cfg);
        return err_set(err, SOHOA_EWORK, "out of memory");
    }
    return rc;
}

const char *config_get(const config *cfg, const char *section, const char *key, const char *def)
{
    const config_entry *e = cfg ? find(cfg, section, key) : NULL;
    return e ? e->value : def;
}

int config_get_int(const config *cfg, const char *section, const char *key, long def, long min,
                   long max, long *out, sohoa_err *err)
{
    const config_entry *e = cfg ? find(cfg, section, key) : NULL;
    if (!e || !*e->value) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(e->value, &end, 10);
    if (errno || *end || v < min || v > max)
        return err_set(err, SOHOA_EINPUT, "%s:%d: [%s] %s = \"%s\": expected a whole number from %ld to %ld",
                       cfg->path ? cfg->path : "config", e->line, section, key, e->value, min, max);
    *out = v;
    return 0;
}

int config_set(config *cfg, const char *section, const char *key, const char *value)
{
    config_entry *e = find(cfg, section, key);
    if (!e)
        return add(cfg, section, key, value, 0);
    char *v = strdup(value);
    if (!v)
        return -1;
    free(e->value);
    e->value = v;
    return 0;
}

void config_free(config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}
