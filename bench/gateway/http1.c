/*
 * bench/gateway/http1.c: the response parser of the bench tools (see
 * http1.h).
 */
#define _GNU_SOURCE
#include "http1.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void parser_reset(parser *p)
{
    p->state = P_HEAD;
    p->head_len = 0;
    p->status = 0;
    p->close_after = 0;
    p->remaining = 0;
    p->line_len = 0;
    p->head_us = 0;
    p->first_body_us = 0;
}

static void body_bytes(parser *p, size_t n)
{
    if (n > 0 && p->first_body_us == 0)
        p->first_body_us = now_us();
}

/* Parses the head in p->head (complete, ending in CRLFCRLF). -1 on garbage. */
static int parse_head(parser *p)
{
    char *s = p->head;
    char *eol;
    int chunked = 0;
    int64_t cl = -1;

    if (strncmp(s, "HTTP/1.", 7) != 0)
        return -1;
    p->head_us = now_us();
    p->status = atoi(s + 9);
    while ((eol = strstr(s, "\r\n")) != NULL && eol != s) {
        *eol = '\0';
        if (strncasecmp(s, "content-length:", 15) == 0)
            cl = strtoll(s + 15, NULL, 10);
        else if (strncasecmp(s, "transfer-encoding:", 18) == 0 && strcasestr(s + 18, "chunked"))
            chunked = 1;
        else if (strncasecmp(s, "connection:", 11) == 0 && strcasestr(s + 11, "close"))
            p->close_after = 1;
        s = eol + 2;
    }
    if (p->status == 204 || p->status == 304 || (p->status >= 100 && p->status < 200))
        p->state = P_DONE;
    else if (chunked)
        p->state = P_CHUNK_SIZE;
    else if (cl >= 0) {
        p->remaining = cl;
        p->state = cl == 0 ? P_DONE : P_CL;
    } else
        p->state = P_EOF;
    return 0;
}

/* Feeds bytes; returns 1 when the response is complete, 0 for more, -1 on error.
 * *used is set to the bytes consumed (the rest belongs to the next response). */
int parser_feed(parser *p, const char *d, size_t n, size_t *used)
{
    size_t i = 0;
    while (i < n && p->state != P_DONE) {
        switch (p->state) {
        case P_HEAD: {
            if (p->head_len + 1 >= HEAD_MAX)
                return -1;
            p->head[p->head_len++] = d[i++];
            p->head[p->head_len] = '\0';
            if (p->head_len >= 4 && memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4) == 0) {
                if (parse_head(p) != 0)
                    return -1;
            }
            break;
        }
        case P_CL: {
            size_t take = n - i < (size_t)p->remaining ? n - i : (size_t)p->remaining;
            body_bytes(p, take);
            p->remaining -= (int64_t)take;
            i += take;
            if (p->remaining == 0)
                p->state = P_DONE;
            break;
        }
        case P_CHUNK_SIZE:
        case P_TRAILER: {
            char c = d[i++];
            if (p->line_len + 1 >= sizeof(p->line))
                return -1;
            p->line[p->line_len++] = c;
            if (c == '\n') {
                p->line[p->line_len] = '\0';
                if (p->state == P_TRAILER) {
                    if (p->line_len <= 2)
                        p->state = P_DONE;
                } else {
                    p->remaining = strtoll(p->line, NULL, 16);
                    p->state = p->remaining == 0 ? P_TRAILER : P_CHUNK_DATA;
                }
                p->line_len = 0;
            }
            break;
        }
        case P_CHUNK_DATA: {
            size_t take = n - i < (size_t)p->remaining ? n - i : (size_t)p->remaining;
            body_bytes(p, take);
            p->remaining -= (int64_t)take;
            i += take;
            if (p->remaining == 0) {
                p->state = P_CHUNK_CRLF;
                p->remaining = 2;
            }
            break;
        }
        case P_CHUNK_CRLF:
            i++;
            if (--p->remaining == 0)
                p->state = P_CHUNK_SIZE;
            break;
        case P_EOF:
            body_bytes(p, n - i);
            i = n;
            break;
        }
    }
    *used = i;
    return p->state == P_DONE ? 1 : 0;
}
