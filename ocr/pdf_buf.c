#include "pdf_buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for `n` more bytes; false (and `oom`) when that fails. */
static bool reserve(pdf_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (n <= b->cap - b->len)
        return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap - b->len < n) {
        if (ncap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        ncap *= 2;
    }
    uint8_t *p = realloc(b->data, ncap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = ncap;
    return true;
}

void pdf_buf_put(pdf_buf *b, const void *p, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void pdf_buf_puts(pdf_buf *b, const char *s)
{
    pdf_buf_put(b, s, strlen(s));
}

void pdf_buf_printf(pdf_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        pdf_buf_put(b, small, (size_t)n);
        return;
    }
    /* Long output: format straight into the buffer. */
    if (!reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pdf_buf_num(pdf_buf *b, double v)
{
    if (!isfinite(v))
        v = 0;
    /* Fixed point in thousandths, formatted with integers only. */
    double r = round(v * 1000.0);
    if (r > 9e15)
        r = 9e15;
    if (r < -9e15)
        r = -9e15;
    long long t = (long long)r;
    const char *sign = t < 0 ? "-" : "";
    unsigned long long a = t < 0 ? (unsigned long long)-t : (unsigned long long)t;
    unsigned long long ip = a / 1000, fp = a % 1000;
    if (fp == 0) {
        pdf_buf_printf(b, "%s%llu", a ? sign : "", ip);
        return;
    }
    char frac[4];
    snprintf(frac, sizeof frac, "%03llu", fp);
    for (int i = 2; i > 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    pdf_buf_printf(b, "%s%llu.%s", sign, ip, frac);
}

void pdf_buf_zero(pdf_buf *b, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    memset(b->data + b->len, 0, n);
    b->len += n;
}

void pdf_buf_u8(pdf_buf *b, uint8_t v)
{
    pdf_buf_put(b, &v, 1);
}

void pdf_buf_u16(pdf_buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pdf_buf_put(b, p, 2);
}

void pdf_buf_u32(pdf_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    pdf_buf_put(b, p, 4);
}

void pdf_buf_set_u32(pdf_buf *b, size_t off, uint32_t v)
{
    if (b->oom || off + 4 > b->len)
        return;
    b->data[off] = (uint8_t)(v >> 24);
    b->data[off + 1] = (uint8_t)(v >> 16);
    b->data[off + 2] = (uint8_t)(v >> 8);
    b->data[off + 3] = (uint8_t)v;
}

void pdf_buf_free(pdf_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
