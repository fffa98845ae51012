/*
 * src/gateway/proxy_io.h: writing the proxy's responses to the client with as
 * few system calls as possible, and noticing a client that went away.
 *
 * A response head is written by hand (not with mg_response_header_*, which
 * allocates per header and sends one packet per line): status line,
 * Content-Type, framing, x-request-id, Server-Timing, Cache-Control,
 * X-Content-Type-Options, Connection, the upstream headers worth relaying,
 * then the body, all in one mg_write when the body is known
 * (Content-Length) and one mg_write per relayed group of frames when it is
 * a stream (chunked transfer coding for HTTP/1.1; for HTTP/1.0 the
 * connection is closed at the end instead).
 *
 * gw_outbuf keeps GW_OUT_GAP free bytes in front of the body: the head and
 * the chunk-size line are placed there, so head + data + "\r\n" leave in
 * one write without copying the data again.
 */
#ifndef GW_HTTP_PROXY_IO_H
#define GW_HTTP_PROXY_IO_H

#include <civetweb.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_OUT_GAP 2048

typedef struct gw_outbuf {
    char *data;
    size_t cap;
    size_t len;   /* bytes in use, the gap included (>= GW_OUT_GAP once initialised) */
    size_t limit; /* largest pending body */
    int overflow; /* an append did not fit the limit / memory */
} gw_outbuf;

/* Ready for a new response (keeps the memory). */
int gw_outbuf_start(gw_outbuf *o, size_t limit);
int gw_outbuf_append(gw_outbuf *o, const char *p, size_t n);
static inline size_t gw_outbuf_pending(const gw_outbuf *o)
{
    return o->len > GW_OUT_GAP ? o->len - GW_OUT_GAP : 0;
}
/* Frees memory above keep bytes (called between requests). */
void gw_outbuf_trim(gw_outbuf *o, size_t keep);
void gw_outbuf_free(gw_outbuf *o);

typedef struct gw_resp {
    struct mg_connection *conn;
    const char *request_id;
    int http11;     /* the client speaks HTTP/1.1: chunked allowed */
    int keep_alive; /* announce keep-alive (else Connection: close) */
    int head_sent;
    int chunked; /* the head announced chunked transfer coding */
    int failed;  /* a write failed: the client is gone */
    int status;  /* status in the head (sent or to send) */
    int64_t body_bytes;
    /* head fields, set before the first write */
    const char *content_type;
    const char *extra_headers; /* "Name: value\r\n" lines, may be NULL */
    /* the gateway's own "Name: value\r\n" lines (rate limits), may be NULL:
     * in every head, also when extra_headers is dropped; an extra_headers
     * line of the same name (a relayed upstream header) is left out */
    const char *own_headers;
    int stream;                /* Cache-Control: no-cache and X-Accel-Buffering: no */
} gw_resp;

/* keep_alive: what the client asked for (Connection header / HTTP version). */
void gw_resp_init(gw_resp *rs, struct mg_connection *conn, const struct mg_request_info *ri, const char *request_id);
/* The connection will be closed after this response (e.g. unread body). */
void gw_resp_close_after(gw_resp *rs);

/*
 * Writes the head (when not yet sent) and the pending body of out. With
 * final and no head sent yet: one response with Content-Length. Otherwise
 * a chunk (plus, with final, the last chunk). timing is the Server-Timing
 * value. Returns 0, or -1 when the client is gone (rs->failed).
 */
int gw_resp_flush(gw_resp *rs, gw_outbuf *out, int final, const char *timing);

/* A complete response from a buffer (head + body in one write). */
int gw_resp_send(gw_resp *rs, int status, const char *content_type, const char *body, size_t len, const char *timing);
/* The OpenAI-shaped JSON error {"error":{message,type,code}}. */
int gw_resp_send_error(gw_resp *rs, int status, const char *message, const char *code, const char *timing);

/*
 * 1 when the client's connection is closed or reset (checked with a
 * non-blocking poll on its socket). The socket is found once per
 * connection from the peer and local addresses civetweb reports and
 * cached in *fd_cache (-1 = unknown; -2 = not found). Used only while a
 * slow upstream sends nothing, so its cost never lands on a fast request.
 */
int gw_client_gone(const struct mg_request_info *ri, int *fd_cache);

#endif
