/*
 * src/base/buf.c: gw_buf (see buf.h).
 */
#include "base/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_buf_init(gw_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void gw_buf_init_fixed(gw_buf *b, char *mem, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->data = mem;
    b->cap = cap;
    b->fixed = 1;
    if (cap > 0)
        mem[0] = '\0';
}

void gw_buf_free(gw_buf *b)
{
    if (!b->fixed)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void gw_buf_reset(gw_buf *b)
{
    b->len = 0;
    b->failed = 0;
}

/* Makes room for n more bytes plus a NUL. */
static int gw_buf_reserve(gw_buf *b, size_t n)
{
    size_t need, ncap;
    char *p;

    if (b->failed)
        return -1;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    if (b->fixed || (b->limit > 0 && need > b->limit + 1)) {
        b->failed = 1;
        return -1;
    }
    ncap = b->cap < 64 ? 64 : b->cap;
    while (ncap < need)
        ncap *= 2;
    if (b->limit > 0 && ncap > b->limit + 1)
        ncap = b->limit + 1;
    p = realloc(b->data, ncap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

int gw_buf_append(gw_buf *b, const void *p, size_t n)
{
    if (gw_buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int gw_buf_puts(gw_buf *b, const char *s)
{
    return gw_buf_append(b, s, strlen(s));
}

int gw_buf_printf(gw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[256];

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return gw_buf_append(b, small, (size_t)n);
    if (gw_buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *gw_buf_cstr(gw_buf *b)
{
    if (b->failed)
        return NULL;
    if (b->data == NULL && gw_buf_reserve(b, 0) != 0)
        return NULL;
    b->data[b->len] = '\0';
    return b->data;
}
