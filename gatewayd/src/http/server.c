/*
 * src/http/server.c: the hardened civetweb listener and JSON responses
 * (see server.h).
 */
#include "http/server.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "base/errmap.h"
#include "base/log.h"
#include "base/url.h"

int gw_http_build_options(const gw_http_opts *o, gw_http_optbuf *b, char err[GW_ERR_LEN])
{
    int n = 0, queue;

    if (o->host == NULL || o->host[0] == '\0')
        return gw_errf(err, "LISTEN_HOST: empty");
    if (strchr(o->host, ':') != NULL)
        snprintf(b->ports, sizeof(b->ports), "[%s]:%d", o->host, o->port);
    else
        snprintf(b->ports, sizeof(b->ports), "%s:%d", o->host, o->port);
    snprintf(b->threads, sizeof(b->threads), "%d", o->threads);
    snprintf(b->req_timeout, sizeof(b->req_timeout), "%d", o->request_timeout_ms);
    snprintf(b->ka_timeout, sizeof(b->ka_timeout), "%d", o->keep_alive_timeout_ms);
    snprintf(b->max_req, sizeof(b->max_req), "%lld", (long long)o->max_header_bytes);
    /* accepted connections waiting for a worker: the connection guard
     * admits at most 2 x threads + 16 (one reclaim pending per worker), so
     * civetweb's master never blocks on a full queue and refusals stay fast */
    queue = o->threads * 2 + 16;
    snprintf(b->queue, sizeof(b->queue), "%d", queue);

#define OPT(k, v) (b->list[n++] = (k), b->list[n++] = (v))
    OPT("listening_ports", b->ports);
    OPT("num_threads", b->threads);
    OPT("request_timeout_ms", b->req_timeout);
    OPT("keep_alive_timeout_ms", b->ka_timeout);
    OPT("enable_keep_alive", "yes");
    /* headers and body go out in separate writes; without TCP_NODELAY,
     * Nagle + delayed ACK add ~40 ms to every response (and every SSE chunk) */
    OPT("tcp_nodelay", "1");
    OPT("max_request_size", b->max_req);
    OPT("connection_queue", b->queue);
    OPT("listen_backlog", "4096");
    /* no file serving: document_root stays unset */
    OPT("enable_directory_listing", "no");
    OPT("cgi_pattern", "");
    OPT("ssi_pattern", "");
    OPT("index_files", "");
    OPT("enable_auth_domain_check", "no");
    /* CORS closed: no Access-Control-* headers, no preflight answers */
    OPT("access_control_allow_origin", "");
    OPT("access_control_allow_methods", "");
    OPT("access_control_allow_headers", "");
    OPT("additional_header", "X-Content-Type-Options: nosniff");
    /* handlers see the path as sent: a decoded %00 would cut it short, and
     * the gateway forwards it unchanged (see base/url.h) */
    OPT("decode_url", "no");
#undef OPT
    b->list[n] = NULL;
    return 0;
}

int gw_http_is_head(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    return ri != NULL && ri->request_method != NULL && strcmp(ri->request_method, "HEAD") == 0;
}

int gw_http_header_has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v != NULL && *v != '\0') {
        while (*v == ' ' || *v == ',' || *v == '\t')
            v++;
        if (strncasecmp(v, token, tl) == 0 && (v[tl] == '\0' || v[tl] == ',' || v[tl] == ' ' || v[tl] == '\t'))
            return 1;
        while (*v != '\0' && *v != ',')
            v++;
    }
    return 0;
}

int gw_http_client_keep_alive(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *c = mg_get_header(conn, "Connection");
    if (c != NULL)
        return gw_http_header_has_token(c, "keep-alive") && !gw_http_header_has_token(c, "close");
    return ri != NULL && ri->http_version != NULL && strcmp(ri->http_version, "1.1") == 0;
}

static void gw_http_reply_add(gw_http_reply *r, const char *p, size_t n)
{
    if (r->overflow || r->len + n + 1 > sizeof(r->head)) {
        r->overflow = 1;
        return;
    }
    memcpy(r->head + r->len, p, n);
    r->len += n;
    r->head[r->len] = '\0';
}

void gw_http_reply_start(gw_http_reply *r, struct mg_connection *conn, int status)
{
    const char *reason = mg_get_response_code_text(conn, status);
    char line[128];
    int n;

    r->conn = conn;
    r->status = status;
    r->overflow = 0;
    r->close = !gw_http_client_keep_alive(conn);
    r->len = 0;
    n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, reason != NULL ? reason : "");
    gw_http_reply_add(r, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void gw_http_reply_header(gw_http_reply *r, const char *name, const char *value)
{
    /* never let a value split the head: CR/LF would start a new header */
    if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
        r->overflow = 1;
        return;
    }
    gw_http_reply_add(r, name, strlen(name));
    gw_http_reply_add(r, ": ", 2);
    gw_http_reply_add(r, value, strlen(value));
    gw_http_reply_add(r, "\r\n", 2);
}

void gw_http_reply_close(gw_http_reply *r)
{
    r->close = 1;
}

/* Date (cached per thread for the current second), Connection, nosniff,
 * Content-Length and the blank line. */
static void gw_http_reply_finish(gw_http_reply *r, int64_t content_length)
{
    static __thread time_t date_at;
    static __thread char date[40];
    char line[64];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    if (now != date_at) {
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date_at = now;
    }
    gw_http_reply_header(r, "Date", date);
    if (content_length >= 0 && r->status >= 200 && r->status != 204 && r->status != 304) {
        n = snprintf(line, sizeof(line), "Content-Length: %lld\r\n", (long long)content_length);
        gw_http_reply_add(r, line, (size_t)n);
    }
    gw_http_reply_header(r, "X-Content-Type-Options", "nosniff");
    /* civetweb still reads what is left of the request body (so the client
     * gets this answer, not a reset) and closes when the client does */
    gw_http_reply_header(r, "Connection", r->close ? "close" : "keep-alive");
    gw_http_reply_add(r, "\r\n", 2);
}

int gw_http_write_all(struct mg_connection *conn, const char *p, size_t n)
{
    while (n > 0) {
        size_t part = n > (1u << 30) ? (1u << 30) : n; /* mg_write takes an int-sized count */
        if (mg_write(conn, p, part) != (int)part)
            return -1;
        p += part;
        n -= part;
    }
    return 0;
}

int gw_http_reply_send_head(gw_http_reply *r, int64_t content_length)
{
    gw_http_reply_finish(r, content_length);
    if (r->overflow)
        return -1;
    return gw_http_write_all(r->conn, r->head, r->len);
}

int gw_http_reply_send(gw_http_reply *r, const char *body, size_t len)
{
    if (gw_http_is_head(r->conn) || r->status == 204 || r->status == 304) {
        gw_http_reply_finish(r, r->status == 204 || r->status == 304 ? -1 : (int64_t)len);
        return r->overflow ? -1 : gw_http_write_all(r->conn, r->head, r->len);
    }
    gw_http_reply_finish(r, (int64_t)len);
    if (r->overflow)
        return -1;
    if (r->len + len <= sizeof(r->head)) {
        /* head and body in one packet (civetweb's worker stacks are 100 KiB:
         * no second buffer on the stack) */
        if (len > 0)
            memcpy(r->head + r->len, body, len);
        return gw_http_write_all(r->conn, r->head, r->len + len);
    }
    if (gw_http_write_all(r->conn, r->head, r->len) != 0)
        return -1;
    return len > 0 ? gw_http_write_all(r->conn, body, len) : 0;
}

int gw_http_send(struct mg_connection *conn, int status, const char *content_type, const char *body, size_t len)
{
    gw_http_reply r;
    gw_http_reply_start(&r, conn, status);
    gw_http_reply_header(&r, "Content-Type", content_type);
    gw_http_reply_header(&r, "Cache-Control", "no-store");
    return gw_http_reply_send(&r, body, len);
}

int gw_http_send_json(struct mg_connection *conn, int status, const char *json, size_t len)
{
    return gw_http_send(conn, status, "application/json", json, len);
}

int gw_http_send_error(struct mg_connection *conn, int status, const char *message, const char *code)
{
    char body[1024];
    int n = gw_errmap_body_fixed(body, sizeof(body), status, message, code);
    if (n < 0)
        n = gw_errmap_body_fixed(body, sizeof(body), status, gw_errmap_reason(status), code);
    return gw_http_send_json(conn, status, body, n > 0 ? (size_t)n : 0);
}

/* What a listener's callbacks need (civetweb's user data). */
typedef struct gw_http_ctx {
    gw_connguard *guard;
    void (*warm_thread)(void);
    atomic_int masters, workers; /* threads that have started (init_thread) */
} gw_http_ctx;

static gw_connguard *gw_http_guard(const struct mg_connection *conn)
{
    const gw_http_ctx *hc = mg_get_user_data(mg_get_context(conn));
    return hc != NULL ? hc->guard : NULL;
}

/* ---- the guard every request passes first (begin_request) ---- */

static int gw_http_verdict_set(gw_http_verdict *v, int status, int close, const char *code, const char *fmt, ...)
    GW_PRINTF(5, 6);
static int gw_http_verdict_set(gw_http_verdict *v, int status, int close, const char *code, const char *fmt, ...)
{
    va_list ap;
    v->status = status;
    v->close = close;
    v->code = code;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof(v->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* A Content-Length value: 1*DIGIT (trailing spaces/tabs allowed, civetweb
 * has dropped the leading ones), at most 18 digits. -1 otherwise. */
static int64_t gw_http_content_length(const char *v)
{
    int64_t n = 0;
    size_t digits = 0;

    while (*v >= '0' && *v <= '9') {
        if (++digits > 18)
            return -1;
        n = n * 10 + (*v++ - '0');
    }
    while (*v == ' ' || *v == '\t')
        v++;
    return digits > 0 && *v == '\0' ? n : -1;
}

int gw_http_check_request(const struct mg_request_info *ri, gw_http_verdict *v)
{
    int n_cl = 0, n_te = 0;
    int64_t cl = -1;
    const char *te = NULL;
    gw_url_path_status ps;

    memset(v, 0, sizeof(*v));
    /* civetweb keeps MG_MAX_HEADERS fields and ignores the rest without a
     * word: a Content-Length or Transfer-Encoding after them would be read
     * by a proxy in front but not here */
    if (ri->num_headers >= MG_MAX_HEADERS)
        return gw_http_verdict_set(v, 431, 1, "request_header_fields_too_large",
                                   "the request has too many header fields (at most %d are accepted)",
                                   MG_MAX_HEADERS - 1);
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        if (name == NULL || value == NULL)
            continue;
        if (strcasecmp(name, "Content-Length") == 0) {
            int64_t n = gw_http_content_length(value);
            if (n < 0)
                return gw_http_verdict_set(v, 400, 1, "invalid_request",
                                           "the Content-Length header is not a decimal number of bytes");
            if (n_cl++ > 0 && n != cl)
                return gw_http_verdict_set(v, 400, 1, "invalid_request",
                                           "the request has Content-Length headers with different values");
            cl = n;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (n_te++ > 0)
                return gw_http_verdict_set(v, 400, 1, "invalid_request",
                                           "the request has more than one Transfer-Encoding header");
            te = value;
        }
    }
    if (te != NULL) {
        /* civetweb would take "identity" as no coding at all, and a client
         * or proxy may read other lists differently: only "chunked" */
        if (strcasecmp(te, "chunked") != 0)
            return gw_http_verdict_set(v, 400, 1, "invalid_request",
                                       "Transfer-Encoding must be \"chunked\" (no other coding, no list)");
        if (n_cl > 0)
            return gw_http_verdict_set(v, 400, 1, "invalid_request",
                                       "the request has both Content-Length and Transfer-Encoding");
        if (ri->http_version == NULL || strcmp(ri->http_version, "1.1") != 0)
            return gw_http_verdict_set(v, 400, 1, "invalid_request",
                                       "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    }
    /* civetweb has cut the query string off at the '?' */
    if (ri->request_uri != NULL &&
        (ps = gw_url_path_check(ri->request_uri, strlen(ri->request_uri))) != GW_URL_PATH_OK)
        return gw_http_verdict_set(v, 400, 0, "invalid_path", "%s", gw_url_path_message(ps));
    return 0;
}

/* An error answer; with close, civetweb really closes the connection after
 * it and reads nothing more from it. */
static int gw_http_refuse(struct mg_connection *conn, int status, const char *message, const char *code, int close)
{
    char body[1024];
    int n = gw_errmap_body_fixed(body, sizeof(body), status, message, code);
    gw_http_reply r;

    gw_http_reply_start(&r, conn, status);
    gw_http_reply_header(&r, "Content-Type", "application/json");
    gw_http_reply_header(&r, "Cache-Control", "no-store");
    if (close) {
        gw_http_reply_close(&r);
        /* must_close: civetweb neither discards the rest of the request
         * (which would read a smuggled body as the next request) nor
         * keeps the connection */
        mg_disable_connection_keep_alive(conn);
    }
    return gw_http_reply_send(&r, body, n > 0 ? (size_t)n : 0);
}

/* civetweb's begin_request callback: 0 lets the request go on to the
 * handlers, a status means it was answered here. */
static int gw_http_begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    gw_http_verdict v;

    gw_connguard_request_begin(gw_http_guard(conn), conn);
    if (ri == NULL || gw_http_check_request(ri, &v) == 0)
        return 0;
    gw_log_debug("http: a %s request refused with %d %s: %s", ri->request_method != NULL ? ri->request_method : "?",
                 v.status, v.code, v.message);
    gw_http_refuse(conn, v.status, v.message, v.code, v.close);
    return v.status;
}

/* Every path without a route. */
static int gw_http_not_found(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    gw_http_send_error(conn, 404, "no such route", "not_found");
    return 404;
}

/* Every request is authorised by our handlers, never by civetweb's
 * .htpasswd files: with this handler civetweb skips the stat() of
 * "<document_root>/.htpasswd" it would otherwise make on every request. */
static int gw_http_no_htpasswd(struct mg_connection *conn, void *cbdata)
{
    (void)conn;
    (void)cbdata;
    return 1;
}

/* Worker threads (thread_type 1) run the server's warm_thread as they
 * start, so the first request of a thread does not pay for its set-up. */
static void *gw_http_init_thread(const struct mg_context *ctx, int thread_type)
{
    gw_http_ctx *hc = mg_get_user_data(ctx);
    if (hc == NULL)
        return NULL;
    if (thread_type == 0)
        atomic_fetch_add(&hc->masters, 1);
    if (thread_type == 1) {
        if (hc->warm_thread != NULL)
            hc->warm_thread();
        atomic_fetch_add(&hc->workers, 1);
    }
    return NULL;
}

/*
 * civetweb carries on when the system refuses it threads (the thread limits
 * of the machine, gw_http_threads_free): with fewer workers, or — without
 * its accepting thread — listening on a port where nobody accepts. So a
 * server is taken as started only once its accepting thread runs; fewer
 * workers than asked is said in the log.
 */
static int gw_http_check_threads(const char *name, gw_http_ctx *hc, int want, char err[GW_ERR_LEN])
{
    int64_t deadline = gw_now_ms() + GW_HTTP_THREAD_START_MS;
    struct timespec nap = {0, 2 * 1000 * 1000};
    while ((atomic_load(&hc->masters) == 0 || atomic_load(&hc->workers) < want) && gw_now_ms() < deadline)
        nanosleep(&nap, NULL);
    if (atomic_load(&hc->masters) == 0)
        return gw_errf(err,
                       "%s server: its accepting thread did not start within %d ms (the system's thread limit? "
                       "threads-max, pid_max, RLIMIT_NPROC; lower WORKER_THREADS)",
                       name, GW_HTTP_THREAD_START_MS);
    if (atomic_load(&hc->workers) == 0)
        return gw_errf(err, "%s server: no worker thread started within %d ms (the system's thread limit?)", name,
                       GW_HTTP_THREAD_START_MS);
    if (atomic_load(&hc->workers) < want)
        gw_log_warn("%s server: %d of %d worker threads started (the system's thread limit?)", name,
                    atomic_load(&hc->workers), want);
    return 0;
}

static void gw_http_end_request(const struct mg_connection *conn, int status)
{
    (void)status;
    gw_connguard_request_end(gw_http_guard(conn), conn);
}

static void gw_http_connection_close(const struct mg_connection *conn)
{
    gw_connguard_conn_close(gw_http_guard(conn), conn);
}

/* The code of civetweb's own errors. */
static const char *gw_http_error_code(int status)
{
    switch (status) {
    case 400:
        return "invalid_request";
    case 408:
        return "request_timeout";
    case 411:
        return "length_required";
    case 413:
        return "request_too_large";
    case 414:
        return "uri_too_long";
    case 431:
        return "request_header_fields_too_large";
    case 505:
        return "http_version_not_supported";
    default:
        return NULL;
    }
}

/* civetweb's own errors (bad request line, head too large, …) in our shape.
 * civetweb closes the connection after each of them: say so. */
static int gw_http_on_error(struct mg_connection *conn, int status, const char *errmsg)
{
    char msg[160];
    const char *cut;

    /* the guard cut a head that was too slow (civetweb saw a broken one) */
    if (gw_connguard_cut_head(gw_http_guard(conn), conn, &cut)) {
        status = 408;
        errmsg = cut;
    }
    /* civetweb's text may end in newlines; keep it short and one line */
    snprintf(msg, sizeof(msg), "%s", errmsg != NULL && errmsg[0] != '\0' ? errmsg : gw_errmap_reason(status));
    for (char *c = msg; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    gw_http_refuse(conn, status, msg, gw_http_error_code(status), 1);
    return 0;
}

static int gw_http_on_log(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    gw_log_warn("http: %s", message);
    return 1; /* handled: nothing on civetweb's stderr */
}

int gw_http_auto_per_address(int threads)
{
    return threads / 2 > GW_HTTP_MIN_PER_ADDRESS ? threads / 2 : GW_HTTP_MIN_PER_ADDRESS;
}

int gw_http_start(const gw_http_opts *opts, const gw_http_route *routes, size_t nroutes, struct mg_context **out,
                  char err[GW_ERR_LEN])
{
    gw_http_optbuf ob;
    struct mg_callbacks cb;
    struct mg_init_data init;
    struct mg_error_data edata;
    char etext[GW_ERR_LEN];
    unsigned ecode = 0;
    struct mg_context *ctx;
    gw_connguard_opts go;
    gw_http_ctx *hc;

    *out = NULL;
    if (gw_http_build_options(opts, &ob, err) != 0)
        return -1;
    hc = calloc(1, sizeof(*hc));
    if (hc == NULL)
        return gw_errf(err, "%s server: out of memory", opts->name);
    hc->warm_thread = opts->warm_thread;
    memset(&go, 0, sizeof(go));
    go.name = opts->name;
    go.port = opts->port;
    go.workers = opts->threads;
    go.max_per_address = opts->max_per_address != 0 ? (opts->max_per_address > 0 ? opts->max_per_address : 0)
                                                    : gw_http_auto_per_address(opts->threads);
    go.head_timeout_ms = opts->head_timeout_ms > 0 ? opts->head_timeout_ms : opts->request_timeout_ms;
    if (gw_connguard_create(&go, &hc->guard, err) != 0) {
        free(hc);
        return -1;
    }
    memset(&cb, 0, sizeof(cb));
    cb.begin_request = gw_http_begin_request;
    cb.end_request = gw_http_end_request;
    cb.connection_close = gw_http_connection_close;
    cb.http_error = gw_http_on_error;
    cb.log_message = gw_http_on_log;
    cb.init_thread = gw_http_init_thread;
    memset(&init, 0, sizeof(init));
    init.callbacks = &cb;
    init.user_data = hc;
    init.configuration_options = ob.list;
    memset(&edata, 0, sizeof(edata));
    etext[0] = '\0';
    edata.code = &ecode;
    edata.text = etext;
    edata.text_buffer_size = sizeof(etext);

    ctx = mg_start2(&init, &edata);
    if (ctx == NULL) {
        gw_connguard_destroy(hc->guard);
        free(hc);
        return gw_errf(err, "%s server: cannot listen on %s: %s", opts->name, ob.ports,
                       etext[0] != '\0' ? etext : "civetweb failed to start");
    }
    for (size_t i = 0; i < nroutes; i++)
        mg_set_request_handler(ctx, routes[i].uri, routes[i].handler, routes[i].cbdata);
    mg_set_request_handler(ctx, "**", gw_http_not_found, NULL);
    mg_set_auth_handler(ctx, "**", gw_http_no_htpasswd, NULL);
    /* the routes first: the threads that have started serve meanwhile */
    if (gw_http_check_threads(opts->name, hc, opts->threads, err) != 0)
        return -1; /* without its accepting thread civetweb cannot be stopped: the caller exits */
    *out = ctx;
    return 0;
}

void gw_http_stop(struct mg_context *ctx)
{
    gw_http_ctx *hc;
    if (ctx == NULL)
        return;
    hc = mg_get_user_data(ctx);
    mg_stop(ctx);
    if (hc != NULL) {
        gw_connguard_destroy(hc->guard);
        free(hc);
    }
}

int gw_http_stats(struct mg_context *ctx, gw_connguard_stats *out)
{
    const gw_http_ctx *hc = ctx != NULL ? mg_get_user_data(ctx) : NULL;
    if (hc == NULL || hc->guard == NULL)
        return -1;
    gw_connguard_stats_get(hc->guard, out);
    return 0;
}

/* ---- thread pools sized from the limits ---- */

/* The memory the process may use: the cgroup's limit when there is one,
 * else the machine's; 0 when neither can be read. */
static long long gw_http_memory_bytes(void)
{
    long long total = 0, cg = 0;
    char line[128];
    FILE *f = fopen("/proc/meminfo", "r");

    if (f != NULL) {
        while (fgets(line, sizeof(line), f) != NULL)
            if (sscanf(line, "MemTotal: %lld kB", &total) == 1) {
                total *= 1024;
                break;
            }
        fclose(f);
    }
    f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (f != NULL) {
        if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "%lld", &cg) != 1)
            cg = 0; /* "max": no limit */
        fclose(f);
    }
    return cg > 0 && (total == 0 || cg < total) ? cg : total;
}

void gw_http_size(long long nofile, long long mem_bytes, int configured, int side, gw_http_sizing *out)
{
    long long budget, w, calls;

    memset(out, 0, sizeof(*out));
    out->nofile = nofile;
    out->mem_bytes = mem_bytes > 0 ? mem_bytes : gw_http_memory_bytes();
    /* the descriptors left for the proxy's connections and upstream calls */
    budget = nofile - GW_HTTP_FD_RESERVE - (long long)side * GW_HTTP_FDS_PER_STREAM;
    if (configured > 0) {
        w = configured;
    } else {
        out->from_limits = 1;
        w = budget / GW_HTTP_FDS_PER_STREAM;
        if (out->mem_bytes > 0 && w > out->mem_bytes / 4 / GW_HTTP_WORKER_BYTES)
            w = out->mem_bytes / 4 / GW_HTTP_WORKER_BYTES;
        if (w > GW_HTTP_MAX_WORKERS)
            w = GW_HTTP_MAX_WORKERS;
        if (w < GW_HTTP_MIN_WORKERS)
            w = GW_HTTP_MIN_WORKERS;
    }
    /* one descriptor per worker for its client; 3 per upstream call */
    calls = (budget - w) / (GW_HTTP_FDS_PER_STREAM - 1);
    if (calls > w + side)
        calls = w + side;
    if (calls < GW_HTTP_MIN_WORKERS)
        calls = GW_HTTP_MIN_WORKERS;
    out->workers = (int)w;
    out->upstream_calls = (int)calls;
    out->side = side;
    out->threads_free = -1;
}

void gw_http_size_threads(gw_http_sizing *sz, long long threads_free)
{
    long long w;
    sz->threads_free = threads_free;
    if (!sz->from_limits || threads_free < 0)
        return;
    w = threads_free / 4;
    if (w < GW_HTTP_MIN_WORKERS)
        w = GW_HTTP_MIN_WORKERS;
    if (w >= sz->workers)
        return;
    sz->workers = (int)w;
    if (sz->upstream_calls > sz->workers + sz->side)
        sz->upstream_calls = sz->workers + sz->side;
}

/* The first number in a small file of /proc or /sys; -1 when absent or "max". */
static long long gw_http_read_count(const char *path)
{
    long long v = -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

long long gw_http_threads_free(void)
{
    long long running = -1, best = -1, cap, cur;
    struct rlimit rl;
    FILE *f = fopen("/proc/loadavg", "r");
    /* "0.1 0.2 0.3 3/2712 123": the threads of the whole machine after the slash */
    if (f != NULL) {
        if (fscanf(f, "%*s %*s %*s %*d/%lld", &running) != 1)
            running = -1;
        fclose(f);
    }
    if (running >= 0) {
        const char *limits[] = {"/proc/sys/kernel/threads-max", "/proc/sys/kernel/pid_max"};
        for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
            if ((cap = gw_http_read_count(limits[i])) > 0 && (best < 0 || cap - running < best))
                best = cap - running > 0 ? cap - running : 0;
        /* RLIMIT_NPROC counts the user's threads; the machine's are an upper bound */
        if (getuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (best < 0 || (long long)rl.rlim_cur - running < best))
            best = (long long)rl.rlim_cur - running > 0 ? (long long)rl.rlim_cur - running : 0;
    }
    cap = gw_http_read_count("/sys/fs/cgroup/pids.max");
    cur = gw_http_read_count("/sys/fs/cgroup/pids.current");
    if (cap > 0 && cur >= 0 && (best < 0 || cap - cur < best))
        best = cap - cur > 0 ? cap - cur : 0;
    return best;
}
