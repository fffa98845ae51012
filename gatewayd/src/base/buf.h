/*
 * src/base/buf.h: gw_buf, the byte buffer of gatewayd: growable up to a
 * limit, or fixed over caller memory. An append that does not fit sets
 * `failed` (and later appends do nothing) instead of writing out of bounds,
 * so a writer can append freely and check once at the end.
 */
#ifndef GW_BUF_H
#define GW_BUF_H

#include <stddef.h>

#include "base/common.h"

typedef struct gw_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* growable: max bytes, 0 = unlimited */
    int fixed;    /* data is caller memory of cap bytes */
    int failed;   /* an append did not fit or malloc failed */
} gw_buf;

void gw_buf_init(gw_buf *b, size_t limit);
void gw_buf_init_fixed(gw_buf *b, char *mem, size_t cap);
void gw_buf_free(gw_buf *b);
void gw_buf_reset(gw_buf *b);
int gw_buf_append(gw_buf *b, const void *p, size_t n);
int gw_buf_puts(gw_buf *b, const char *s);
int gw_buf_printf(gw_buf *b, const char *fmt, ...) GW_PRINTF(2, 3);
/* NUL-terminates (not counted in len); returns data or NULL when failed. */
const char *gw_buf_cstr(gw_buf *b);

#endif
