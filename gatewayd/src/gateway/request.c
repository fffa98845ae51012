/*
 * src/gateway/request.c: one proxied request from begin to end (see
 * request.h): the per-thread buffers it borrows, its request id and
 * journal slot, reading its headers and body, answering with an error,
 * Server-Timing, and gw_preq_end, which runs on every path: it settles the
 * budget, charges the rate limits' tokens buckets with the usage, records the one analytics event (also into the journal slot
 * first, so a crash loses none), updates the metrics and releases the
 * snapshot and credential references and the thread buffers (trimmed after
 * a large request).
 *
 * Memory: the request body and the outgoing bytes live in per-thread
 * buffers reused across requests; the pthread key of those buffers is the
 * only singleton here.
 */
#include "gateway/request.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/uuid7.h"
#include "gateway/metrics.h"
#include "model/budget.h"

/* ---- per-thread buffers ---- */

static pthread_key_t gw_proxy_key;
static pthread_once_t gw_proxy_once = PTHREAD_ONCE_INIT;

static void gw_proxy_tls_free(void *p)
{
    gw_proxy_tls *t = p;
    if (t == NULL)
        return;
    free(t->body);
    gw_outbuf_free(&t->out);
    gw_buf_free(&t->aux);
    free(t);
}

static void gw_proxy_key_init(void)
{
    pthread_key_create(&gw_proxy_key, gw_proxy_tls_free);
}

static gw_proxy_tls *gw_preq_tls_get(void)
{
    gw_proxy_tls *t;
    pthread_once(&gw_proxy_once, gw_proxy_key_init);
    t = pthread_getspecific(gw_proxy_key);
    if (t == NULL) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return NULL;
        gw_buf_init(&t->aux, GW_ERRBODY_MAX);
        pthread_setspecific(gw_proxy_key, t);
    }
    return t;
}

void gw_preq_tls_warm(void)
{
    (void)gw_preq_tls_get();
}

/* ---- one request ---- */

int64_t gw_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Time waiting for the upstream so far (µs). */
int64_t gw_preq_upstream_us(const gw_preq *r, int64_t now_us)
{
    int64_t end, up;
    if (!r->upstream_called)
        return 0;
    end = r->call.ended_us > 0 ? r->call.ended_us : now_us;
    up = end - r->call.started_us - r->call.callback_us;
    return up > 0 ? up : 0;
}

const char *gw_preq_timing(const gw_preq *r, char *out, size_t cap)
{
    int64_t now = gw_upstream_now_us();
    int64_t up = gw_preq_upstream_us(r, now);
    int64_t gw = now - r->t0_us - up;
    if (gw < 0)
        gw = 0;
    if (r->upstream_called)
        snprintf(out, cap, "gw;dur=%lld.%03lld, upstream;dur=%lld.%03lld", (long long)(gw / 1000),
                 (long long)(gw % 1000), (long long)(up / 1000), (long long)(up % 1000));
    else
        snprintf(out, cap, "gw;dur=%lld.%03lld", (long long)(gw / 1000), (long long)(gw % 1000));
    return out;
}

void gw_preq_set_error(gw_preq *r, const char *code, const char *msg)
{
    gw_copy(r->error, sizeof(r->error), code != NULL ? code : msg);
    if (code != NULL && msg != NULL) {
        size_t l = strlen(r->error);
        if (l + 2 < sizeof(r->error)) {
            memcpy(r->error + l, ": ", 2);
            gw_copy(r->error + l + 2, sizeof(r->error) - l - 2, msg);
        }
    }
}

/* Answers with an error (when nothing was sent yet) and remembers it. */
void gw_preq_fail(gw_preq *r, int status, const char *code, const char *fmt, ...)
{
    char msg[320], timing[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->status = status;
    gw_preq_set_error(r, code, msg);
    if (!r->resp.head_sent && !r->resp.failed) {
        r->resp.extra_headers = NULL;
        if (!r->body_read) {
            /* civetweb would read an unread body to keep the connection;
             * not worth it for a large or unsized one */
            long long cl = r->ri->content_length;
            if (cl > GW_DISCARD_MAX || (cl < 0 && mg_get_header(r->conn, "Transfer-Encoding") != NULL))
                gw_resp_close_after(&r->resp);
        }
        if (gw_resp_send_error(&r->resp, status, msg, code, gw_preq_timing(r, timing, sizeof(timing))) != 0 &&
            r->resp.failed)
            r->status = 499;
    }
}

/* The error in the vendor's shape on pass-through routes, OpenAI's on /ai
 * and the chat (when nothing was sent yet). */
static void gw_preq_send_vendor_error(gw_preq *r, int status, const char *code, const char *message)
{
    char timing[96];

    r->status = status;
    if (!r->resp.head_sent && !r->resp.failed) {
        r->resp.extra_headers = NULL;
        if (!r->body_read)
            gw_resp_close_after(&r->resp);
        if (r->route.kind != GW_ROUTE_AI && r->interaction != GW_INTERACTION_CHAT &&
            !gw_vendor_openai_errors(r->vendor)) {
            char mem[1536];
            gw_buf b;
            gw_buf_init_fixed(&b, mem, sizeof(mem));
            if (gw_vendor_error_body(r->vendor, status, code, message, &b) == 0)
                gw_resp_send(&r->resp, status, "application/json", b.data, b.len,
                             gw_preq_timing(r, timing, sizeof(timing)));
            else
                gw_resp_send_error(&r->resp, status, message, code, gw_preq_timing(r, timing, sizeof(timing)));
        } else {
            gw_resp_send_error(&r->resp, status, message, code, gw_preq_timing(r, timing, sizeof(timing)));
        }
        if (r->resp.failed)
            r->status = 499;
    }
}

void gw_preq_block(gw_preq *r, int status, const char *code, const char *message, const gw_hook_def *by)
{
    gw_preq_send_vendor_error(r, status, code, message);
    gw_preq_block_error(r, code, message, by);
}

void gw_preq_fail_vendor(gw_preq *r, int status, const char *code, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_preq_send_vendor_error(r, status, code, msg);
    gw_preq_set_error(r, code, msg);
}

void gw_preq_block_error(gw_preq *r, const char *code, const char *message, const gw_hook_def *by)
{
    const char *kind = by != NULL ? gw_hook_kind_name(by->kind) : "hook";
    const char *name = by != NULL && by->name != NULL ? by->name : "";
    char quoted[160];

    /* the event names the filter or plugin even when the message does not */
    snprintf(quoted, sizeof(quoted), "'%.150s'", name);
    char line[1024];
    if (strstr(message, quoted) != NULL)
        snprintf(line, sizeof(line), "%s: %s", code, message);
    else
        snprintf(line, sizeof(line), "%s: %s %s: %s", code, kind, quoted, message);
    gw_copy(r->error, sizeof(r->error), line); /* cut to the event's size */
}

/* ---- the journal ---- */

/* The request's identity as its event records it (no usage, status or error yet). */
static void gw_preq_identity(const gw_preq *r, gw_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = r->wall_us;
    memcpy(ev->request_id, r->rid, sizeof(ev->request_id));
    ev->user_id = r->user_id;
    ev->app_id = r->app_id;
    ev->credential_id = r->cred != NULL ? r->cred->credential_id : 0; /* the chat has no key */
    if (r->llm != NULL) {
        ev->llm_id = r->llm->id;
        gw_copy(ev->vendor, sizeof(ev->vendor), r->llm->vendor);
        gw_copy(ev->namespace_, sizeof(ev->namespace_), r->llm->namespace_);
    } else {
        gw_copy(ev->namespace_, sizeof(ev->namespace_), r->srv->cfg.edge_namespace);
    }
    gw_copy(ev->model, sizeof(ev->model), r->model);
    ev->interaction_type = r->interaction;
}

void gw_preq_journal_note(gw_preq *r)
{
    gw_event ev;
    if (r->jref.slot == 0)
        return;
    gw_preq_identity(r, &ev);
    gw_journal_note(r->srv->journal, r->jref, &ev);
}

void gw_preq_journal_progress(gw_preq *r)
{
    gw_usage u;
    gw_journal_usage ju;
    if (r->jref.slot == 0 || r->proc == NULL)
        return;
    gw_stream_proc_usage(r->proc, &u);
    ju.prompt_tokens = u.prompt_tokens;
    ju.response_tokens = u.response_tokens;
    ju.cache_write_tokens = u.cache_write_tokens;
    ju.cache_read_tokens = u.cache_read_tokens;
    ju.estimated = u.estimated;
    ju.elapsed_ms = (gw_upstream_now_us() - r->t0_us) / 1000;
    gw_journal_progress(r->srv->journal, r->jref, &ju);
}

/* ---- reading the request ---- */

int gw_preq_read_body(gw_preq *r)
{
    gw_proxy_tls *t = r->tls;
    int64_t max = r->srv->cfg.max_body_bytes;
    long long cl = r->ri->content_length;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    size_t len = 0;

    r->body = "";
    r->body_len = 0;
    if (cl > max) {
        gw_resp_close_after(&r->resp); /* never read it */
        gw_preq_fail(r, 413, "request_too_large", "the request body exceeds MAX_BODY_BYTES (%lld bytes)",
                     (long long)max);
        return -1;
    }
    if (cl < 0 && te == NULL) {
        r->body_read = 1;
        return 0; /* no body (and civetweb closes such a connection afterwards) */
    }
    if (r->resp.http11 && cl != 0) {
        /* civetweb does not answer "Expect: 100-continue" itself; without
         * this a client (curl) waits a second before sending the body */
        const char *ex = mg_get_header(r->conn, "Expect");
        if (ex != NULL && strcasecmp(ex, "100-continue") == 0 &&
            mg_write(r->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25) {
            r->resp.failed = 1;
            r->status = 499;
            gw_copy(r->error, sizeof(r->error), "client_disconnected");
            return -1;
        }
    }
    for (;;) {
        /* civetweb's mg_read blocks until it has all it was asked for, so
         * never ask past the limit (+1 byte to notice an oversized body) */
        size_t want = cl >= 0 ? (size_t)cl - len : (size_t)max + 1 - len;
        if (cl < 0 && want > 65536)
            want = 65536;
        int n;
        if (cl >= 0 && len == (size_t)cl)
            break;
        if (len + want + 1 > t->body_cap) {
            size_t ncap = t->body_cap < 16384 ? 16384 : t->body_cap;
            char *p;
            while (ncap < len + want + 1)
                ncap *= 2;
            if (ncap > (size_t)max + 16385)
                ncap = (size_t)max + 16385;
            p = realloc(t->body, ncap);
            if (p == NULL) {
                gw_resp_close_after(&r->resp);
                gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
                return -1;
            }
            t->body = p;
            t->body_cap = ncap;
        }
        n = mg_read(r->conn, t->body + len, want);
        if (n < 0 || (n == 0 && cl >= 0)) {
            gw_resp_close_after(&r->resp);
            gw_preq_fail(r, 400, "incomplete_body", "the request body ended early");
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if ((int64_t)len > max) {
            gw_resp_close_after(&r->resp);
            gw_preq_fail(r, 413, "request_too_large", "the request body exceeds MAX_BODY_BYTES (%lld bytes)",
                         (long long)max);
            return -1;
        }
    }
    if (t->body != NULL)
        t->body[len] = '\0';
    if (len > 0) {
        r->body = t->body;
        r->body_len = len;
    }
    r->body_read = 1;
    return 0;
}

void gw_preq_headers(gw_preq *r)
{
    size_t nh = 0;
    for (int i = 0; i < r->ri->num_headers && i < MG_MAX_HEADERS; i++) {
        r->hdrs[nh].name = r->ri->http_headers[i].name;
        r->hdrs[nh].value = r->ri->http_headers[i].value;
        nh++;
    }
    r->nh = nh;
}

int gw_preq_enter(gw_preq *r)
{
    /* counted before the check, so shutdown (stopping, then waiting for
     * the count to drop to 0) never misses a request it let through */
    atomic_fetch_add(&r->srv->proxy_inflight, 1);
    r->inflight_counted = 1;
    if (atomic_load(&r->srv->stopping)) {
        gw_resp_close_after(&r->resp);
        gw_preq_fail(r, 503, "shutting_down", "the gateway is shutting down");
        return -1;
    }
    return 0;
}

/* ---- the end ---- */

void gw_preq_record(gw_server *srv, const gw_event *ev)
{
    if (srv->analytics == NULL) {
        gw_event_bodies_free(ev->bodies);
        return;
    }
    atomic_fetch_add(&srv->analytics_users, 1);
    if (!atomic_load(&srv->analytics_closed))
        gw_analytics_record(srv->analytics, ev);
    else
        gw_event_bodies_free(ev->bodies); /* the journal keeps the event, never its bodies */
    atomic_fetch_sub(&srv->analytics_users, 1);
}

static void gw_preq_finish(gw_preq *r)
{
    gw_server *srv = r->srv;
    gw_event ev;
    gw_usage u;
    gw_money cost = 0;
    int64_t now = gw_upstream_now_us();
    int64_t up = r->upstream_called ? gw_preq_upstream_us(r, now) : -1;
    int64_t total = now - r->t0_us;

    memset(&u, 0, sizeof(u));
    if (r->proc != NULL)
        gw_stream_proc_usage(r->proc, &u);
    if ((u.seen || u.estimated) && r->price != NULL)
        cost = gw_budget_cost(r->price, r->llm->vendor_def, u.prompt_tokens, u.response_tokens, u.cache_write_tokens,
                              u.cache_read_tokens);
    if (r->reserved)
        gw_budget_settle(srv->budget, &r->ticket, cost);
    if (r->rl_admitted && (u.seen || u.estimated))
        gw_ratelimit_charge(srv->ratelimits, &r->rl, u.prompt_tokens + u.response_tokens, gw_now_ms());

    if (r->model[0] == '\0' && r->proc != NULL)
        gw_copy(r->model, sizeof(r->model), gw_stream_proc_model(r->proc));
    gw_preq_identity(r, &ev);
    ev.prompt_tokens = u.prompt_tokens;
    ev.response_tokens = u.response_tokens;
    ev.cache_write_tokens = u.cache_write_tokens;
    ev.cache_read_tokens = u.cache_read_tokens;
    ev.latency_ms = (int32_t)(total / 1000);
    ev.status_code = r->status;
    if (u.estimated)
        snprintf(ev.error, sizeof(ev.error), "%s%sresponse tokens estimated from the relayed answer frames", r->error,
                 r->error[0] != '\0' ? "; " : "");
    else
        gw_copy(ev.error, sizeof(ev.error), r->error);
    ev.est_cost = gw_money_i64(cost);
    ev.bodies = r->bodies; /* the event owns them now */
    r->bodies = NULL;
    /* in the journal until durable; kept there (for the next start) when
     * analytics is already closed and gw_preq_record refuses it */
    gw_journal_finish(srv->journal, r->jref, &ev);
    gw_preq_record(srv, &ev);

    gw_metrics_request(srv->metrics, r->llm != NULL ? r->llm->slug : NULL, r->status, total - (up > 0 ? up : 0), up);
    if (r->stream_counted)
        gw_metrics_streams_add(srv->metrics, -1);
    if (r->stream_slot != NULL)
        atomic_fetch_sub(&r->stream_slot->n, 1);
    gw_log_debug("%s %s %s %s -> %d in %lld us (upstream %lld us)%s%s",
                 r->interaction == GW_INTERACTION_CHAT ? "chat" : "proxy", r->rid, r->ri->request_method,
                 r->route_ok ? r->route.slug : "-", r->status, (long long)total, (long long)up,
                 r->error[0] != '\0' ? ": " : "", r->error);

    if (r->proc != NULL)
        gw_stream_proc_destroy(r->proc);
    if (r->ureq_init)
        gw_upstream_req_free(&r->ureq);
    gw_hooks_response_free(r->hstream);
    if (r->hreq_init)
        gw_hook_req_free(&r->hreq);
    if (r->hook_body_init)
        gw_buf_free(&r->hook_body);
    if (r->cred_entry != NULL)
        gw_credcache_entry_release(r->cred_entry);
    if (r->snap != NULL)
        gw_snapshot_release(r->snap);
    if (r->tls != NULL) {
        if (r->tls->body_cap > GW_TLS_KEEP_BYTES) {
            free(r->tls->body);
            r->tls->body = NULL;
            r->tls->body_cap = 0;
        }
        gw_outbuf_trim(&r->tls->out, GW_TLS_KEEP_BYTES);
        if (r->tls->aux.cap > GW_TLS_KEEP_BYTES) {
            gw_buf_free(&r->tls->aux);
            gw_buf_init(&r->tls->aux, GW_ERRBODY_MAX);
        }
    }
}

int gw_preq_begin(gw_preq *r, gw_server *srv, const gw_pipeline *pipe, struct mg_connection *conn)
{
    if (r->t0_us == 0) {
        r->t0_us = gw_upstream_now_us();
        r->wall_us = gw_wall_us();
    }
    r->srv = srv;
    r->pipe = pipe;
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    r->client_fd = -1;
    gw_uuid7(r->rid);
    if (srv->journal != NULL) {
        gw_event ident;
        gw_preq_identity(r, &ident);
        gw_journal_claim(srv->journal, &ident, &r->jref);
    }
    gw_resp_init(&r->resp, conn, r->ri, r->rid);
    if (atomic_load(&srv->stopping))
        r->resp.keep_alive = 0; /* the listener closes connections soon: say so */
    r->tls = gw_preq_tls_get();
    if (r->tls == NULL) {
        gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
        return -1;
    }
    return 0;
}

int gw_preq_end(gw_preq *r)
{
    if (r->status == 0)
        r->status = 500;
    gw_preq_finish(r);
    if (r->inflight_counted)
        atomic_fetch_sub(&r->srv->proxy_inflight, 1);
    return r->status;
}
