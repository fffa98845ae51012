/*
 * bench/gateway/http1.h: the HTTP/1.1 response parser the bench tools share
 * (loadgen, connhold): the head (status, Connection: close), then the body
 * by Content-Length, chunked coding or to EOF, fed in any split. Not part of
 * the product.
 */
#ifndef BENCH_HTTP1_H
#define BENCH_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define HEAD_MAX 16384

enum { P_HEAD, P_CL, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_EOF, P_DONE };

typedef struct parser {
    int state;
    char head[HEAD_MAX];
    size_t head_len;
    int status;
    int close_after;
    int64_t remaining;
    char line[64];
    size_t line_len;
    int64_t head_us;       /* when the head was complete (0 until then) */
    int64_t first_body_us; /* 0 until a body byte arrived */
} parser;

/* Monotonic microseconds. */
int64_t now_us(void);
void parser_reset(parser *p);
/* Feeds bytes; returns 1 when the response is complete, 0 for more, -1 on error.
 * *used is set to the bytes consumed (the rest belongs to the next response). */
int parser_feed(parser *p, const char *d, size_t n, size_t *used);

#endif
