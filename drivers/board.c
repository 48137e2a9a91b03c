/* board.c — the board config (see board.h). */
#include "board.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SECTION "board"

static const char *const line_keys[BOARD_NOUTPUTS] = {
    [BOARD_LED_GREEN] = "led_green",
    [BOARD_LED_YELLOW] = "led_yellow",
    [BOARD_LED_RED] = "led_red",
    [BOARD_BUZZER] = "buzzer_line",
};

static const char *const known_keys[] = {
    "name",       "gpio_chip", "button_line", "button_active_low", "led_green",
    "led_yellow", "led_red",   "buzzer_line", "console",
};

static const char *where(const config *cfg)
{
    return cfg->path ? cfg->path : "board config";
}

static const config_entry *entry(const config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->entries[i].section, SECTION) == 0 && strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

/* Copies a text value; too long or containing control characters (a value
 * that cannot be a device name or path) is an error. */
static int get_text(const config *cfg, const char *key, char *out, size_t size, int no_space,
                    sohoa_err *err)
{
    const config_entry *e = entry(cfg, key);
    out[0] = '\0';
    if (!e)
        return 0;
    size_t len = strlen(e->value);
    if (len >= size)
        return err_set(err, SOHOA_EINPUT, "%s:%d: [board] %s is too long (at most %zu bytes)",
                       where(cfg), e->line, key, size - 1);
    for (const char *p = e->value; *p; p++)
        if (iscntrl((unsigned char)*p) || (no_space && *p == ' '))
            return err_set(err, SOHOA_EINPUT, "%s:%d: [board] %s = \"%s\": %s", where(cfg), e->line,
                           key, e->value,
                           no_space ? "expected one word without spaces"
                                    : "contains a control character");
    memcpy(out, e->value, len + 1);
    return 0;
}

static int get_line(const config *cfg, const char *key, int *line, sohoa_err *err)
{
    long v = 0;
    if (config_get_int(cfg, SECTION, key, BOARD_NO_LINE, 0, BOARD_MAX_LINE, &v, err) != 0)
        return -1;
    *line = (int)v;
    return 0;
}

static int get_bool(const config *cfg, const char *key, int def, int *out, sohoa_err *err)
{
    const config_entry *e = entry(cfg, key);
    *out = def;
    if (!e || !*e->value)
        return 0;
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(e->value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(e->value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return err_set(err, SOHOA_EINPUT, "%s:%d: [board] %s = \"%s\": expected yes or no", where(cfg),
                   e->line, key, e->value);
}

static int check_keys(const config *cfg, sohoa_err *err)
{
    int has_section = 0;
    for (size_t i = 0; i < cfg->n; i++) {
        const config_entry *e = &cfg->entries[i];
        if (strcmp(e->section, SECTION) != 0)
            continue;
        has_section = 1;
        size_t k = 0;
        while (k < sizeof known_keys / sizeof *known_keys && strcmp(known_keys[k], e->key) != 0)
            k++;
        if (k == sizeof known_keys / sizeof *known_keys)
            return err_set(err, SOHOA_EINPUT,
                           "%s:%d: [board] %s: unknown key (known: name, gpio_chip, button_line, "
                           "button_active_low, led_green, led_yellow, led_red, buzzer_line, "
                           "console)",
                           where(cfg), e->line, e->key);
    }
    if (!has_section)
        return err_set(err, SOHOA_EINPUT, "%s: no [board] section; see board/boards/*.conf",
                       where(cfg));
    return 0;
}

/* Two roles on one line would fight over it (or read an LED as a button). */
static int check_distinct(const config *cfg, const board *b, sohoa_err *err)
{
    int lines[BOARD_NOUTPUTS + 1];
    const char *keys[BOARD_NOUTPUTS + 1];
    lines[0] = b->button_line;
    keys[0] = "button_line";
    for (int o = 0; o < BOARD_NOUTPUTS; o++) {
        lines[o + 1] = b->out_line[o];
        keys[o + 1] = line_keys[o];
    }
    for (int i = 0; i <= BOARD_NOUTPUTS; i++)
        for (int j = i + 1; j <= BOARD_NOUTPUTS; j++)
            if (lines[i] != BOARD_NO_LINE && lines[i] == lines[j]) {
                const config_entry *e = entry(cfg, keys[j]);
                return err_set(err, SOHOA_EINPUT,
                               "%s:%d: [board] %s = %d is the line of %s too; give each its own "
                               "line",
                               where(cfg), e ? e->line : 0, keys[j], lines[j], keys[i]);
            }
    return 0;
}

int board_from_config(const config *cfg, board *b, sohoa_err *err)
{
    memset(b, 0, sizeof *b);
    b->button_line = BOARD_NO_LINE;
    for (int o = 0; o < BOARD_NOUTPUTS; o++)
        b->out_line[o] = BOARD_NO_LINE;
    if (check_keys(cfg, err) != 0 || get_text(cfg, "name", b->name, sizeof b->name, 0, err) != 0 ||
        get_text(cfg, "gpio_chip", b->gpio_chip, sizeof b->gpio_chip, 1, err) != 0 ||
        get_text(cfg, "console", b->console, sizeof b->console, 1, err) != 0 ||
        get_line(cfg, "button_line", &b->button_line, err) != 0 ||
        get_bool(cfg, "button_active_low", 1, &b->button_active_low, err) != 0)
        return -1;
    for (int o = 0; o < BOARD_NOUTPUTS; o++)
        if (get_line(cfg, line_keys[o], &b->out_line[o], err) != 0)
            return -1;
    if (!b->name[0])
        return err_set(err, SOHOA_EINPUT,
                       "%s: [board] name is missing; name the board (e.g. "
                       "name = Raspberry Pi 4 Model B)",
                       where(cfg));
    if ((board_ninputs(b) || board_noutputs(b)) && !b->gpio_chip[0])
        return err_set(err, SOHOA_EINPUT,
                       "%s: [board] gpio_chip is missing but button or LED lines are set; name "
                       "their chip (e.g. gpio_chip = gpiochip0)",
                       where(cfg));
    if (b->console[0] && b->console[0] != '/')
        return err_set(err, SOHOA_EINPUT,
                       "%s:%d: [board] console = \"%s\": expected a device path such as "
                       "/dev/ttyAMA0",
                       where(cfg), entry(cfg, "console")->line, b->console);
    return check_distinct(cfg, b, err);
}

int board_parse(const char *text, const char *name, board *b, sohoa_err *err)
{
    config cfg;
    if (config_parse(&cfg, text, name, err) != 0)
        return -1;
    /* config_parse() leaves path NULL; error messages name the source. */
    cfg.path = (char *)name;
    int rc = board_from_config(&cfg, b, err);
    cfg.path = NULL;
    config_free(&cfg);
    return rc;
}

int board_load(const char *path, board *b, sohoa_err *err)
{
    config cfg;
    if (config_load(&cfg, path, err) != 0)
        return -1;
    int rc = board_from_config(&cfg, b, err);
    config_free(&cfg);
    return rc;
}

int board_output_index(const board *b, board_output o)
{
    if ((int)o < 0 || o >= BOARD_NOUTPUTS || b->out_line[o] == BOARD_NO_LINE)
        return -1;
    int idx = 0;
    for (int i = 0; i < (int)o; i++)
        if (b->out_line[i] != BOARD_NO_LINE)
            idx++;
    return idx;
}

size_t board_noutputs(const board *b)
{
    size_t n = 0;
    for (int o = 0; o < BOARD_NOUTPUTS; o++)
        if (b->out_line[o] != BOARD_NO_LINE)
            n++;
    return n;
}

size_t board_ninputs(const board *b)
{
    return b->button_line != BOARD_NO_LINE;
}

gpio *board_open_gpio(const board *b, const char *consumer, sohoa_err *err)
{
    unsigned in[1], out[BOARD_NOUTPUTS];
    size_t nin = 0, nout = 0;
    if (b->button_line != BOARD_NO_LINE)
        in[nin++] = (unsigned)b->button_line;
    for (int o = 0; o < BOARD_NOUTPUTS; o++)
        if (b->out_line[o] != BOARD_NO_LINE)
            out[nout++] = (unsigned)b->out_line[o];
    if (nin == 0 && nout == 0) {
        gpio *g = gpio_open_sim(0, 0);
        if (!g)
            err_set(err, SOHOA_EWORK, "board %s: out of memory", b->name);
        return g;
    }
    return gpio_open_chip(b->gpio_chip, consumer, in, nin, out, nout, b->button_active_low, err);
}
