/*
 * src/gateway/proxy.c: the gateway's request handler and /metrics (see
 * proxy.h), and the request flow it shares with the chat (chat.c).
 *
 * Structure: gw_proxy_handle owns a gw_preq on its stack; gw_proxy_run
 * walks the checks of an app key (route, credential, LLM, app, owner,
 * access), answering the client on the first failure, reads the body and
 * calls gw_proxy_serve, the part every entry point shares (vendor key,
 * vendor request or /ai translation, model, stream limit, budget), which
 * hands over to gw_relay_call (proxy_relay.c) for the upstream call;
 * gw_preq_end (gw_proxy_finish) then runs on every path: it settles the
 * budget, records the one analytics event, updates the metrics and releases
 * the snapshot and credential references. From gw_preq_begin to that event
 * the request holds a journal slot (ingest/journal.h): its identity is
 * noted when it becomes an LLM call, the relay stores the usage seen so
 * far, and the final event goes into the slot before it is queued.
 *
 * Memory: the request body and the outgoing bytes live in per-thread
 * buffers reused across requests (trimmed after a large one); the curl
 * handles are per thread too (upstream.c). Singletons: the concurrent
 * stream counters (gw_app_streams, a fixed lock-free table keyed by app id,
 * or by minus the user id for the chat: keys are claimed once by CAS and
 * never removed) and the pthread key of the thread buffers.
 */
#include "gateway/proxy_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/errmap.h"
#include "base/uuid7.h"
#include "base/json.h"
#include "base/log.h"
#include "gateway/metrics.h"
#include "gateway/proxy_io.h"
#include "gateway/proxy_route.h"
#include "gateway/upstream.h"
#include "vendors/vendor.h"

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

static gw_proxy_tls *gw_proxy_tls_get(void)
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

void gw_proxy_warm_thread(void)
{
    (void)gw_proxy_tls_get();
    gw_upstream_thread_warm();
}

/* ---- concurrent streams per app (per user for the chat) ---- */

static gw_app_streams gw_app_streams_tab[GW_APP_SLOTS];

/* The counter of a key (an app id, or -user_id), or NULL when the table is
 * full (then no limit applies). */
static gw_app_streams *gw_app_streams_get(int64_t app_id)
{
    uint64_t h = (uint64_t)app_id * 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0, idx = (size_t)(h >> 52) & (GW_APP_SLOTS - 1); i < GW_APP_SLOTS;
         i++, idx = (idx + 1) & (GW_APP_SLOTS - 1)) {
        gw_app_streams *s = &gw_app_streams_tab[idx];
        long long cur = atomic_load(&s->app_id);
        if (cur == app_id)
            return s;
        if (cur == 0) {
            long long expect = 0;
            if (atomic_compare_exchange_strong(&s->app_id, &expect, app_id) || expect == app_id)
                return s;
        }
    }
    return NULL;
}

/* ---- one request ---- */

static int64_t gw_wall_us(void)
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

/* ---- the checks ---- */

int gw_preq_read_body(gw_preq *r, size_t *len_out)
{
    gw_proxy_tls *t = r->tls;
    int64_t max = r->srv->cfg.max_body_bytes;
    long long cl = r->ri->content_length;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    size_t len = 0;

    *len_out = 0;
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
    *len_out = len;
    r->body_read = 1;
    return 0;
}

static int gw_method_allowed(gw_route_kind kind, const char *m)
{
    if (kind == GW_ROUTE_AI)
        return strcmp(m, "POST") == 0;
    return strcmp(m, "POST") == 0 || strcmp(m, "GET") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "PATCH") == 0;
}

size_t gw_preq_headers(const gw_preq *r, gw_header *hdrs)
{
    size_t nh = 0;
    for (int i = 0; i < r->ri->num_headers && i < MG_MAX_HEADERS; i++) {
        hdrs[nh].name = r->ri->http_headers[i].name;
        hdrs[nh].value = r->ri->http_headers[i].value;
        nh++;
    }
    return nh;
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

/* The checks of an app key on /llm/… and /ai/…, then the shared flow. */
static void gw_proxy_run(gw_preq *r)
{
    gw_server *srv = r->srv;
    const char *uri = r->ri->local_uri_raw != NULL ? r->ri->local_uri_raw : r->ri->local_uri;
    gw_header hdrs[MG_MAX_HEADERS];
    size_t nh, body_len = 0, key_len = 0;
    char key[GW_CRED_MAX + 1], err[GW_ERR_LEN];
    gw_route_status rs;
    gw_cred_result cr;

    rs = gw_route_parse(uri, &r->route);
    if (rs == GW_ROUTE_NOT_FOUND) {
        gw_preq_fail(r, 404, "not_found", "no such route");
        return;
    }
    r->route_ok = 1;
    if (rs == GW_ROUTE_BAD_PATH) {
        gw_preq_fail(r, 400, "invalid_path", "the path may not contain '.' or '..' segments or encoded slashes");
        return;
    }
    if (!gw_method_allowed(r->route.kind, r->ri->request_method)) {
        gw_preq_fail(r, 405, "method_not_allowed", "method %s is not allowed here", r->ri->request_method);
        return;
    }
    if (gw_preq_enter(r) != 0)
        return;
    /* the LLM is looked up before the credential is checked (its answer
     * still comes after the 401) so that every event names it */
    r->snap = gw_snapshot_current(&srv->snapshots);
    if (r->snap != NULL) {
        r->llm = gw_snapshot_llm_by_slug(r->snap, r->route.slug);
        if (r->llm != NULL)
            r->vendor = gw_vendor_parse(r->llm->vendor);
    }
    nh = gw_preq_headers(r, hdrs);

    /* credential */
    if (gw_route_credential(hdrs, nh, r->ri->query_string, key, sizeof(key), &key_len) == GW_CRED_SRC_NONE) {
        gw_preq_fail(r, 401, "invalid_api_key", "invalid or missing API key");
        return;
    }
    cr = gw_credcache_lookup(srv->creds, key, key_len, &r->cred_entry, err);
    memset(key, 0, key_len);
    if (cr == GW_CRED_NOT_FOUND) {
        gw_preq_fail(r, 401, "invalid_api_key", "invalid or missing API key");
        return;
    }
    if (cr != GW_CRED_FOUND) {
        gw_preq_fail(r, 503, "auth_unavailable", "the API key cannot be checked now; retry later");
        return;
    }
    r->cred = gw_cred_entry_get(r->cred_entry);
    r->user_id = r->cred->owner_id;
    r->app_id = r->cred->app_id;

    /* snapshot checks */
    if (r->snap == NULL) {
        gw_preq_fail(r, 503, "config_not_loaded", "the gateway has not loaded its configuration yet");
        return;
    }
    if (r->llm == NULL) {
        gw_preq_fail(r, 404, "llm_not_found", "no LLM with slug '%s'", r->route.slug);
        return;
    }
    if (!r->llm->active) {
        gw_preq_fail(r, 403, "llm_inactive", "LLM '%s' is not active", r->llm->slug);
        return;
    }
    r->app = gw_snapshot_app_by_id(r->snap, r->cred->app_id);
    if (!r->cred->app_active || (r->app != NULL && !r->app->active)) {
        gw_preq_fail(r, 403, "app_inactive", "the app of this API key is not active");
        return;
    }
    if (!r->cred->owner_active) {
        gw_preq_fail(r, 403, "owner_inactive", "the owner of this app is not active");
        return;
    }
    if (!gw_credential_allows_llm(r->cred, r->llm->id) || (r->app != NULL && !gw_app_allows_llm(r->app, r->llm->id))) {
        gw_preq_fail(r, 403, "llm_not_allowed", "this app may not use LLM '%s'", r->llm->slug);
        return;
    }

    if (gw_preq_read_body(r, &body_len) != 0)
        return;
    gw_proxy_serve(r, hdrs, nh, body_len > 0 ? r->tls->body : "", body_len);
}

void gw_proxy_serve(gw_preq *r, const gw_header *hdrs, size_t nh, const char *body, size_t body_len)
{
    gw_server *srv = r->srv;
    const gw_config *cfg = &srv->cfg;
    char err[GW_ERR_LEN];
    int status = 0, rc;
    const char *app_budget = NULL, *app_start = NULL;
    double worst;
    gw_budget_result br;

    if (r->llm->key_state == GW_KEY_UNAVAILABLE) {
        gw_preq_fail(r, 503, "vendor_key_unavailable", "the vendor key of LLM '%s' cannot be opened: %s", r->llm->slug,
                     r->llm->key_error);
        return;
    }
    if (r->vendor == GW_VENDOR_UNKNOWN) {
        gw_preq_fail(r, 502, "vendor_unsupported", "LLM '%s' has an unsupported vendor", r->llm->slug);
        return;
    }

    /* the upstream request */
    gw_upstream_req_init(&r->ureq);
    r->ureq_init = 1;
    if (r->route.kind == GW_ROUTE_AI)
        rc = gw_vendor_translate_request(r->llm, hdrs, nh, body, body_len, &r->ureq, &status, err);
    else
        rc = gw_vendor_prepare(r->llm, r->route.kind, r->ri->request_method, r->route.path, r->ri->query_string, hdrs,
                               nh, body, body_len, &r->ureq, &status, err);
    if (rc != 0) {
        if (status < 400 || status > 599)
            status = 400;
        gw_preq_fail(r, status, status == 400 ? "invalid_request" : (status == 404 ? "not_found" : "invalid_request"),
                     "%s", err);
        return;
    }
    gw_copy(r->model, sizeof(r->model), r->ureq.model[0] != '\0' ? r->ureq.model : r->llm->default_model);
    if (r->model[0] != '\0' && !gw_llm_model_allowed(r->llm, r->model)) {
        gw_preq_fail(r, 403, "model_not_allowed", "model '%s' is not allowed for LLM '%s'", r->model, r->llm->slug);
        return;
    }

    /* concurrent streams: per app, or per user without an app */
    r->streaming_out = r->ureq.proc_mode != GW_PROC_JSON && r->ureq.proc_mode != GW_PROC_AI_JSON;
    if (r->ureq.stream) {
        int64_t skey = r->app_id > 0 ? r->app_id : -r->user_id;
        if (cfg->max_streams_per_app > 0 && skey != 0 && (r->stream_slot = gw_app_streams_get(skey)) != NULL) {
            if (atomic_fetch_add(&r->stream_slot->n, 1) >= cfg->max_streams_per_app) {
                atomic_fetch_sub(&r->stream_slot->n, 1);
                r->stream_slot = NULL;
                gw_preq_fail(r, 429, "too_many_streams", "this %s has %d streams open (MAX_STREAMS_PER_APP)",
                             r->app_id > 0 ? "app" : "user", cfg->max_streams_per_app);
                return;
            }
        }
        r->stream_counted = 1;
        gw_metrics_streams_add(srv->metrics, 1);
    }

    /* budget */
    r->price = gw_snapshot_price(r->snap, r->llm->vendor, r->model);
    {
        /* a token covers at least one byte of the prompt's JSON (which also
         * pays for the per-message overhead); the vendor module measures
         * the prompt part, else the whole body counts */
        int64_t basis = (int64_t)(r->ureq.prompt_bytes > 0 ? r->ureq.prompt_bytes : body_len);
        worst = gw_budget_worst_cost(r->price, basis + 16, r->ureq.max_tokens, cfg->budget_default_max_tokens);
    }
    if (r->cred != NULL) {
        app_budget = r->app != NULL ? r->app->monthly_budget : r->cred->monthly_budget;
        app_start = r->app != NULL ? r->app->budget_start_date : "";
    }
    br = gw_budget_reserve(srv->budget, r->app_id, app_budget != NULL ? app_budget : "",
                           app_start != NULL ? app_start : "", r->llm, worst, &r->ticket);
    if (br == GW_BUDGET_APP_EXCEEDED || br == GW_BUDGET_LLM_EXCEEDED) {
        gw_preq_fail(r, 429, "budget_exceeded", "the monthly budget of the %s is exhausted",
                     br == GW_BUDGET_APP_EXCEEDED ? "app" : "LLM");
        return;
    }
    if (br != GW_BUDGET_OK) {
        gw_preq_fail(r, 503, "budget_unavailable", "the budget cannot be checked now; retry later");
        return;
    }
    r->reserved = 1;

    gw_preq_journal_note(r);
    gw_relay_call(r, body, body_len);
}

static void gw_proxy_finish(gw_preq *r)
{
    gw_server *srv = r->srv;
    gw_event ev;
    gw_usage u;
    double cost = 0;
    int64_t now = gw_upstream_now_us();
    int64_t up = r->upstream_called ? gw_preq_upstream_us(r, now) : -1;
    int64_t total = now - r->t0_us;

    memset(&u, 0, sizeof(u));
    if (r->proc != NULL)
        gw_stream_proc_usage(r->proc, &u);
    if ((u.seen || u.estimated) && r->price != NULL)
        cost = gw_budget_cost(r->price, r->llm->vendor, u.prompt_tokens, u.response_tokens, u.cache_write_tokens,
                              u.cache_read_tokens);
    if (r->reserved)
        gw_budget_settle(srv->budget, &r->ticket, cost);

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
        snprintf(ev.error, sizeof(ev.error), "%s%sresponse tokens estimated from the relayed answer frames",
                 r->error, r->error[0] != '\0' ? "; " : "");
    else
        gw_copy(ev.error, sizeof(ev.error), r->error);
    ev.est_cost = cost;
    /* in the journal until durable; kept there (for the next start) when
     * analytics is already closed and gw_proxy_record refuses it */
    gw_journal_finish(srv->journal, r->jref, &ev);
    gw_proxy_record(srv, &ev);

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

void gw_proxy_record(gw_server *srv, const gw_event *ev)
{
    if (srv->analytics == NULL)
        return;
    atomic_fetch_add(&srv->analytics_users, 1);
    if (!atomic_load(&srv->analytics_closed))
        gw_analytics_record(srv->analytics, ev);
    atomic_fetch_sub(&srv->analytics_users, 1);
}

void gw_proxy_close_analytics(gw_server *srv, int wait_ms)
{
    int64_t deadline = gw_now_ms() + wait_ms;
    struct timespec ts = {0, 1000000L};
    atomic_store(&srv->analytics_closed, 1);
    while (atomic_load(&srv->analytics_users) > 0 && gw_now_ms() < deadline)
        nanosleep(&ts, NULL);
}

int gw_preq_begin(gw_preq *r, gw_server *srv, struct mg_connection *conn)
{
    if (r->t0_us == 0) {
        r->t0_us = gw_upstream_now_us();
        r->wall_us = gw_wall_us();
    }
    r->srv = srv;
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
    r->tls = gw_proxy_tls_get();
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
    gw_proxy_finish(r);
    if (r->inflight_counted)
        atomic_fetch_sub(&r->srv->proxy_inflight, 1);
    return r->status;
}

static int gw_proxy_handle(struct mg_connection *conn, void *cbdata)
{
    gw_preq r;

    memset(&r, 0, sizeof(r));
    if (gw_preq_begin(&r, cbdata, conn) == 0)
        gw_proxy_run(&r);
    return gw_preq_end(&r);
}

/* ---- /metrics ---- */

static int gw_proxy_metrics(struct mg_connection *conn, void *cbdata)
{
    gw_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    gw_metrics_ext x;
    gw_snapshot *snap;
    gw_buf b;
    int rc;

    if (strcmp(ri->local_uri, "/metrics") != 0) {
        gw_http_send_error(conn, 404, "no such route", "not_found");
        return 404;
    }
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        gw_http_send_error(conn, 405, "only GET and HEAD are allowed here", "method_not_allowed");
        return 405;
    }
    memset(&x, 0, sizeof(x));
    if (srv->analytics != NULL) {
        gw_analytics_stats_get(srv->analytics, &x.analytics);
        x.have_analytics = 1;
    }
    if (srv->journal != NULL) {
        gw_journal_stats_get(srv->journal, &x.journal);
        x.have_journal = 1;
    }
    if (srv->creds != NULL) {
        gw_credcache_stats_get(srv->creds, &x.credcache);
        x.have_credcache = 1;
    }
    x.snapshot_loads = atomic_load(&srv->snapshot_loads);
    snap = gw_snapshot_current(&srv->snapshots);
    x.snapshot_loaded = snap != NULL;
    gw_snapshot_release(snap);
    x.ready = x.snapshot_loaded && atomic_load(&srv->db_ok) && !atomic_load(&srv->stopping);
    x.requests_in_flight = atomic_load(&srv->proxy_inflight);
    gw_buf_init(&b, 16u << 20);
    rc = gw_metrics_render(srv->metrics, &x, &b);
    if (rc != 0) {
        gw_buf_free(&b);
        gw_http_send_error(conn, 500, "metrics too large", NULL);
        return 500;
    }
    gw_http_send(conn, 200, GW_METRICS_CONTENT_TYPE, b.data, b.len);
    gw_buf_free(&b);
    return 200;
}

void gw_proxy_routes(gw_server *srv, gw_http_route routes[GW_PROXY_NROUTES])
{
    routes[0] = (gw_http_route){"/llm", gw_proxy_handle, srv};
    routes[1] = (gw_http_route){"/ai", gw_proxy_handle, srv};
    routes[2] = (gw_http_route){"/metrics", gw_proxy_metrics, srv};
    /* every other path is answered (404) and recorded by the proxy too */
    routes[3] = (gw_http_route){"/**", gw_proxy_handle, srv}; /* before server.c's "**" */
}
