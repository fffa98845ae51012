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
 *
 * Before any handler, every request passes gw_http_check_request
 * (civetweb's begin_request callback), so the rules hold on every server:
 *   - framing a proxy in front could read differently (request smuggling,
 *     RFC 9112 §6.1, §6.3): Content-Length headers with different values or
 *     a value that is not a decimal number, Transfer-Encoding other than
 *     exactly "chunked", twice, together with Content-Length or in an
 *     HTTP/1.0 request, and a head with more fields than civetweb keeps
 *     (it would ignore the rest) → 400 (431) and the connection is closed
 *     for real (mg_disable_connection_keep_alive: civetweb then reads
 *     nothing more from it, so bytes after the head never become a next
 *     request). Repeated Content-Length headers with the same value are
 *     accepted (RFC 9110 §8.6);
 *   - the path as sent (decode_url is off): a control character, also
 *     percent-encoded (%00-%1F, %7F), or a broken escape → 400 invalid_path.
 * civetweb's own errors (a malformed head, …) close the connection too.
 */
#ifndef GW_HTTP_SERVER_H
#define GW_HTTP_SERVER_H

#include <civetweb.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "http/connguard.h"

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
    void (*warm_thread)(void); /* NULL, or run once in every worker thread as it starts */
    int head_timeout_ms;       /* REQUEST_HEAD_TIMEOUT_MS (connguard.h); 0 = request_timeout_ms */
    int max_per_address;       /* MAX_CONNECTIONS_PER_ADDRESS; 0 = half the threads, -1 = no limit */
} gw_http_opts;

/* Starts a listener with the routes (registered in order, before the
 * catch-all). -1 with err (e.g. the port is taken). */
int gw_http_start(const gw_http_opts *opts, const gw_http_route *routes, size_t nroutes, struct mg_context **out,
                  char err[GW_ERR_LEN]);
/* MAX_CONNECTIONS_PER_ADDRESS=0: half the listener's threads, but at least
 * GW_HTTP_MIN_PER_ADDRESS (a browser opens about six connections to a
 * host, and a client that reconnects at once may still be counted in its
 * old connection for a moment). */
#define GW_HTTP_MIN_PER_ADDRESS 8
/* how long a listener's threads may take to start (gw_http_start) */
#ifndef GW_HTTP_THREAD_START_MS
#define GW_HTTP_THREAD_START_MS 10000
#endif
int gw_http_auto_per_address(int threads);
/* Stops accepting, waits for in-flight requests, frees the context. */
void gw_http_stop(struct mg_context *ctx);
/* The connection counters of a listener started by gw_http_start (its
 * guard, connguard.h); -1 for NULL. */
int gw_http_stats(struct mg_context *ctx, gw_connguard_stats *out);

/*
 * Thread pools sized from the limits. Every open connection holds a worker
 * thread (civetweb); a connection waiting on the upstream also holds an
 * upstream socket and a curl handle with its two wake-up descriptors
 * (upstream.h): GW_HTTP_FDS_PER_STREAM descriptors in all. With
 * WORKER_THREADS=0 the proxy gets as many workers as the open-file limit
 * allows when every one of them streams (after GW_HTTP_FD_RESERVE for the
 * database, files and the other listeners), at most one per
 * GW_HTTP_WORKER_BYTES of a quarter of the memory (the machine's, or the
 * cgroup's limit), between GW_HTTP_MIN_WORKERS and GW_HTTP_MAX_WORKERS.
 * Upstream calls at once are capped by what the descriptors left after one
 * per worker allow (3 each), so the process never runs out of them.
 */
#define GW_HTTP_FDS_PER_STREAM 4
#define GW_HTTP_FD_RESERVE 512
#define GW_HTTP_WORKER_BYTES (256u << 10)
#define GW_HTTP_MIN_WORKERS 16
#define GW_HTTP_MAX_WORKERS 16384
typedef struct gw_http_sizing {
    long long nofile;      /* the open-file limit (soft, after raising it) */
    long long mem_bytes;   /* memory that counted (0 = unknown) */
    int workers;           /* the proxy's worker threads */
    int upstream_calls;    /* upstream calls at once */
    int from_limits;       /* workers were computed (WORKER_THREADS=0) */
    int side;              /* the threads of the other listeners */
    long long threads_free; /* threads the system still allowed (-1 = unknown) */
} gw_http_sizing;
/* configured: WORKER_THREADS (0 = from the limits); side: the threads of
 * the other listeners. mem_bytes 0 = read /proc and the cgroup. */
void gw_http_size(long long nofile, long long mem_bytes, int configured, int side, gw_http_sizing *out);
/* Threads are a resource of the whole machine (several gatewayd, and every
 * other process, share the kernel's threads-max and pid_max, a cgroup's
 * pids.max and the user's RLIMIT_NPROC): a pool sized from the limits takes
 * at most a quarter of the threads still free (threads_free, -1 = unknown),
 * so that a second process sized the same way still starts. */
void gw_http_size_threads(gw_http_sizing *sz, long long threads_free);
/* The threads the system still lets this process start (the least of what
 * each limit leaves, given the threads that run now); -1 when unknown. */
long long gw_http_threads_free(void);

/* 1 for a HEAD request (responses then carry headers only). */
int gw_http_is_head(const struct mg_connection *conn);
/* A response head built in one buffer and written with the body in one
 * write. civetweb's header API (mg_response_header_add/_send) writes every
 * header line with its own send(): with TCP_NODELAY that is one packet (and
 * one wake-up of the client) per line. Usage: gw_http_reply_start, any
 * gw_http_reply_header, then gw_http_reply_send (head + body) or
 * gw_http_reply_send_head (the caller writes the body). The head carries
 * Date, Connection (keep-alive or close, as civetweb will treat the
 * connection), X-Content-Type-Options: nosniff and, unless the status is
 * 1xx/204/304, Content-Length; a HEAD request gets no body. */
#define GW_HTTP_HEAD_MAX 8192 /* head, and the body too when both fit */
typedef struct gw_http_reply {
    struct mg_connection *conn;
    int status;
    int overflow; /* a header did not fit: the reply fails */
    int close;    /* Connection: close, and civetweb closes after it */
    size_t len;
    char head[GW_HTTP_HEAD_MAX];
} gw_http_reply;
void gw_http_reply_start(gw_http_reply *r, struct mg_connection *conn, int status);
void gw_http_reply_header(gw_http_reply *r, const char *name, const char *value);
/* Announces Connection: close (e.g. after a 413): the client is expected
 * to close; civetweb first reads what is left of the request body, so the
 * client gets the answer and not a connection reset. */
void gw_http_reply_close(gw_http_reply *r);
/* 0, or -1 when the head overflowed or the client is gone. */
int gw_http_reply_send(gw_http_reply *r, const char *body, size_t len);
int gw_http_reply_send_head(gw_http_reply *r, int64_t content_length);
/* Writes all n bytes with mg_write (in int-sized parts); -1 when the
 * client is gone. */
int gw_http_write_all(struct mg_connection *conn, const char *p, size_t n);
/* 1 when the comma-separated header value v holds token (any case). */
int gw_http_header_has_token(const char *v, const char *token);
/* What civetweb decides for the connection after this request: the
 * client's Connection header, else the HTTP version's default. */
int gw_http_client_keep_alive(struct mg_connection *conn);

/* What gw_http_check_request decided about a request. */
typedef struct gw_http_verdict {
    int status;       /* the error status; 0 when the request may go on */
    int close;        /* close the connection after the answer */
    const char *code; /* the error code of the JSON answer */
    char message[160];
} gw_http_verdict;
/* 0 when the request may go on to its handler, else -1 with the answer in
 * *v (pure: reads only ri). */
int gw_http_check_request(const struct mg_request_info *ri, gw_http_verdict *v);

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
