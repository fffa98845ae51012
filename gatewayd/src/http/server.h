/*
 * src/http/server.h: starting a hardened civetweb listener and the response
 * helpers every HTTP handler of gatewayd uses. All servers (proxy 9090, and
 * later REST 8080 and docs 8989) start through gw_http_start, which applies
 * the options from reliability-plan §3: no document_root (so civetweb's file
 * serving, directory redirects and CGI/SSI can never run: CVE-2025-55763),
 * no directory listing, empty CGI/SSI patterns, CORS closed, a thread pool
 * sized by WORKER_THREADS, a per-read/write timeout, keep-alive on,
 * TCP_NODELAY (no Nagle delay between headers, body and stream chunks), and the
 * request head capped at MAX_HEADER_BYTES. A catch-all route answers every
 * unknown path with a JSON 404, and civetweb's own error pages are replaced
 * by the same JSON error shape. mg_handle_form_request is never used
 * (CVE-2025-9648): bodies are read with mg_read and parsed as JSON.
 */
#ifndef GW_HTTP_SERVER_H
#define GW_HTTP_SERVER_H

#include <civetweb.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

typedef struct gw_http_route {
    const char *uri; /* civetweb URI or pattern ("/healthz", or a "**" pattern) */
    mg_request_handler handler;
    void *cbdata;
} gw_http_route;

typedef struct gw_http_opts {
    const char *name; /* for logs: "proxy", "admin", "docs" */
    const char *host; /* LISTEN_HOST */
    int port;
    int threads;               /* WORKER_THREADS */
    int request_timeout_ms;    /* REQUEST_TIMEOUT_MS */
    int keep_alive_timeout_ms; /* KEEP_ALIVE_TIMEOUT_MS */
    int64_t max_header_bytes;  /* MAX_HEADER_BYTES */
} gw_http_opts;

/* Starts a listener with the routes (registered in order, before the
 * catch-all). -1 with err (e.g. the port is taken). */
int gw_http_start(const gw_http_opts *opts, const gw_http_route *routes, size_t nroutes, struct mg_context **out,
                  char err[GW_ERR_LEN]);
/* Stops accepting, waits for in-flight requests, frees the context. */
void gw_http_stop(struct mg_context *ctx);

/* 1 for a HEAD request (responses then carry headers only). */
int gw_http_is_head(const struct mg_connection *conn);
/* Sends a complete response with a body of the given content type. */
int gw_http_send(struct mg_connection *conn, int status, const char *content_type, const char *body, size_t len);
int gw_http_send_json(struct mg_connection *conn, int status, const char *json, size_t len);
/* Sends the OpenAI-shaped JSON error {"error":{message,type,code}}. */
int gw_http_send_error(struct mg_connection *conn, int status, const char *message, const char *code);

/* The civetweb option list gw_http_start uses (NULL-terminated pairs), for
 * tests and `--check-config`. Strings live in bufs. */
typedef struct gw_http_optbuf {
    char ports[300];
    char threads[16];
    char req_timeout[16];
    char ka_timeout[16];
    char max_req[24];
    char queue[16];
    const char *list[48];
} gw_http_optbuf;
int gw_http_build_options(const gw_http_opts *opts, gw_http_optbuf *buf, char err[GW_ERR_LEN]);

#endif
