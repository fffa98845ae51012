/*
 * src/gateway/chat.c: POST /api/v1/chat/completions (see chat.h), the second
 * entry point into the gateway's request flow (proxy_int.h).
 *
 * One request: method and path → the gateway runs here (not in
 * GATEWAY_MODE=control) → who is calling (gw_admin_whoami: 401, 403 for a
 * cookie-authenticated request without its CSRF token, 503; these answers
 * come from the REST API and are not analytics events) → from here on
 * exactly one event (interaction_type 'chat', user_id, no app): counted in
 * flight (shutdown drains it), at most GW_CHAT_MAX_INFLIGHT chats at once
 * (503 chat_busy), the body (MAX_BODY_BYTES; JSON) → the LLM it
 * names ("llm": a slug, else an LLM name; or "llm_id"), blanked out of the
 * body (chat_body.c) → the snapshot: unknown 404, inactive 403 → the user's
 * groups grant it (403 llm_not_allowed) → gw_proxy_serve, the /ai flow: the
 * vendor key, the translation, model not allowed 403, the user's
 * concurrent streams (MAX_STREAMS_PER_APP), the LLM's budget (there is no
 * app budget), the upstream call and relay.
 *
 * The access answers come from aistudio.can_use_llm through the gateway's
 * pool and are cached per (user, LLM) for GW_CHAT_ACCESS_TTL_MS.
 * Singletons: gw_chat_inflight (the chats in progress) and gw_chat_access,
 * a fixed direct-mapped table behind one mutex with a generation number;
 * gw_chat_invalidate bumps the generation, so every entry is stale at once,
 * and an answer fetched across an invalidation is not stored. (Group grants notify aistudio_config; a
 * changed membership or a deactivated user shows within the TTL: the
 * session itself is checked on every request.)
 */
#include "gateway/chat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/errmap.h"
#include "base/log.h"
#include "admin/admin.h"
#include "gateway/chat_body.h"
#include "gateway/proxy_int.h"
#include "db/sql.h"

#define GW_CHAT_URI "/api/v1/chat/completions"
#define GW_CHAT_ACCESS_SLOTS 4096 /* power of two */

/* The operation, in the notation of the REST API's route tables (the
 * e2e test checks that docs/openapi.json documents exactly these). */
static const struct {
    const char *method;
    const char *path; /* under /api/v1/ */
} gw_chat_op = {
    .method = "POST",
    .path = "chat/completions",
};

/* ---- the access cache ---- */

typedef struct gw_chat_grant {
    int64_t user_id;
    int64_t llm_id;
    int64_t expires_ms;
    uint64_t gen; /* 0 = empty */
    int allowed;
} gw_chat_grant;

static struct {
    pthread_mutex_t mu;
    uint64_t gen; /* current generation, >= 1 */
    gw_chat_grant slots[GW_CHAT_ACCESS_SLOTS];
} gw_chat_access = {.mu = PTHREAD_MUTEX_INITIALIZER, .gen = 1};

static atomic_int gw_chat_grant_warned; /* the missing-privilege error is logged once */
static atomic_int gw_chat_inflight;     /* chat requests past authentication, now */

void gw_chat_invalidate(void)
{
    pthread_mutex_lock(&gw_chat_access.mu);
    gw_chat_access.gen++;
    pthread_mutex_unlock(&gw_chat_access.mu);
}

static gw_chat_grant *gw_chat_slot(int64_t user_id, int64_t llm_id)
{
    uint64_t h = ((uint64_t)user_id * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)llm_id * 0xC2B2AE3D27D4EB4FULL);
    return &gw_chat_access.slots[(h >> 40) & (GW_CHAT_ACCESS_SLOTS - 1)];
}

/*
 * May the user use the LLM? 0 with *allowed, from the cache or from
 * aistudio.can_use_llm; -1 with sqlstate and err when the database cannot
 * answer.
 */
static int gw_chat_can_use(gw_server *srv, int64_t user_id, int64_t llm_id, int *allowed,
                           char sqlstate[GW_SQLSTATE_LEN], char err[GW_ERR_LEN])
{
    char uid[24], lid[24];
    const char *params[2] = {uid, lid};
    gw_chat_grant *s;
    uint64_t gen;
    PGresult *res;
    int64_t now = gw_now_ms();

    pthread_mutex_lock(&gw_chat_access.mu);
    s = gw_chat_slot(user_id, llm_id);
    gen = gw_chat_access.gen;
    if (s->gen == gen && s->user_id == user_id && s->llm_id == llm_id && now < s->expires_ms) {
        *allowed = s->allowed;
        pthread_mutex_unlock(&gw_chat_access.mu);
        return 0;
    }
    pthread_mutex_unlock(&gw_chat_access.mu);

    snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
    snprintf(lid, sizeof(lid), "%lld", (long long)llm_id);
    if (gw_pgpool_exec(srv->pool, GW_SQL_CAN_USE_LLM, 2, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate, err) != 0)
        return -1;
    *allowed = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);

    pthread_mutex_lock(&gw_chat_access.mu);
    if (gw_chat_access.gen == gen) {
        s->user_id = user_id;
        s->llm_id = llm_id;
        s->allowed = *allowed;
        s->expires_ms = gw_now_ms() + GW_CHAT_ACCESS_TTL_MS;
        s->gen = gen;
    }
    pthread_mutex_unlock(&gw_chat_access.mu);
    return 0;
}

/* ---- the request ---- */

/* 1 for application/json (parameters allowed). */
static int gw_chat_is_json(const char *ct)
{
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/* The LLM the request names: "llm" as a slug, else as a name; "llm_id". */
static void gw_chat_find_llm(gw_preq *r, const gw_chat_target *t)
{
    const gw_llm *by_name = NULL, *by_id = NULL;

    if (t->llm[0] != '\0') {
        by_name = gw_snapshot_llm_by_slug(r->snap, t->llm);
        if (by_name == NULL) {
            char slug[GW_CHAT_LLM_MAX];
            gw_chat_slugify(t->llm, slug, sizeof(slug));
            by_name = gw_snapshot_llm_by_slug(r->snap, slug);
        }
        if (by_name == NULL) {
            gw_preq_fail(r, 404, "llm_not_found", "no LLM '%.128s'", t->llm);
            return;
        }
    }
    if (t->llm_id > 0) {
        by_id = gw_snapshot_llm_by_id(r->snap, t->llm_id);
        if (by_id == NULL) {
            gw_preq_fail(r, 404, "llm_not_found", "no LLM with id %lld", (long long)t->llm_id);
            return;
        }
        if (by_name != NULL && by_name != by_id) {
            gw_preq_fail(r, 400, "invalid_request", "\"llm\" and \"llm_id\" name different LLMs");
            return;
        }
    }
    r->llm = by_name != NULL ? by_name : by_id;
    r->vendor = gw_vendor_parse(r->llm->vendor);
    gw_copy(r->route.slug, sizeof(r->route.slug), r->llm->slug);
}

static void gw_chat_run(gw_preq *r)
{
    gw_server *srv = r->srv;
    const char *ct = mg_get_header(r->conn, "Content-Type");
    gw_header hdrs[MG_MAX_HEADERS];
    gw_chat_target t;
    const char *code;
    char err[GW_ERR_LEN], sqlstate[GW_SQLSTATE_LEN];
    size_t nh, len = 0;
    int allowed = 0;

    if (gw_preq_enter(r) != 0)
        return;
    if (atomic_load(&gw_chat_inflight) > GW_CHAT_MAX_INFLIGHT) { /* this one included */
        gw_preq_fail(r, 503, "chat_busy", "%d chat requests are in progress on this server; retry shortly",
                     GW_CHAT_MAX_INFLIGHT);
        return;
    }
    if (ct != NULL && !gw_chat_is_json(ct)) {
        gw_preq_fail(r, 415, "unsupported_media_type", "request bodies must be JSON (Content-Type: application/json)");
        return;
    }
    if (gw_preq_read_body(r, &len) != 0)
        return;
    if (gw_chat_take_target(len > 0 ? r->tls->body : NULL, len, &t, &code, err) != 0) {
        gw_preq_fail(r, 400, code, "%s", err);
        return;
    }

    r->snap = gw_snapshot_current(&srv->snapshots);
    if (r->snap == NULL) {
        gw_preq_fail(r, 503, "config_not_loaded", "the gateway has not loaded its configuration yet");
        return;
    }
    gw_chat_find_llm(r, &t);
    if (r->llm == NULL)
        return;
    if (!r->llm->active) {
        gw_preq_fail(r, 403, "llm_inactive", "LLM '%s' is not active", r->llm->slug);
        return;
    }
    if (gw_chat_can_use(srv, r->user_id, r->llm->id, &allowed, sqlstate, err) != 0) {
        if (strcmp(sqlstate, "42501") == 0 && atomic_exchange(&gw_chat_grant_warned, 1) == 0)
            gw_log_error("chat: the gateway's database role may not call aistudio.can_use_llm() (GRANT EXECUTE ON "
                         "FUNCTION aistudio.can_use_llm(bigint, bigint) TO aistudio_gateway): %s",
                         err);
        else
            gw_log_warn("chat: access check failed (SQLSTATE %s): %s", sqlstate, err);
        gw_preq_fail(r, 503, "access_check_unavailable", "the access to LLM '%s' cannot be checked now; retry later",
                     r->llm->slug);
        return;
    }
    if (!allowed) {
        gw_preq_fail(r, 403, "llm_not_allowed", "none of your groups grants LLM '%s'", r->llm->slug);
        return;
    }

    nh = gw_preq_headers(r, hdrs);
    gw_proxy_serve(r, hdrs, nh, r->tls->body, len);
}

/* A JSON error with extra headers, before any gw_preq exists. */
static int gw_chat_refuse(struct mg_connection *conn, int status, const char *message, const char *code,
                          const char *allow)
{
    char body[512];
    int n = gw_errmap_body_fixed(body, sizeof(body), status, message, code);
    gw_http_reply h;

    gw_http_reply_start(&h, conn, status);
    gw_http_reply_header(&h, "Content-Type", "application/json; charset=utf-8");
    gw_http_reply_header(&h, "Cache-Control", "no-store");
    if (allow != NULL)
        gw_http_reply_header(&h, "Allow", allow);
    gw_http_reply_send(&h, body, n > 0 ? (size_t)n : 0);
    return status;
}

static int gw_chat_handle(struct mg_connection *conn, void *cbdata)
{
    gw_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct timespec ts;
    char role[16];
    int64_t user_id = 0;
    gw_preq r;

    if (strcmp(ri->local_uri, GW_CHAT_URI) != 0 && strcmp(ri->local_uri, GW_CHAT_URI "/") != 0)
        return gw_chat_refuse(conn, 404, "no such route", "not_found", NULL);
    if (strcmp(ri->request_method, gw_chat_op.method) != 0)
        return gw_chat_refuse(conn, 405, "method not allowed on this resource", "method_not_allowed",
                              gw_chat_op.method);
    if (srv->budget == NULL || srv->analytics == NULL)
        return gw_chat_refuse(conn, 503, "the chat runs on a gateway: not available with GATEWAY_MODE=control",
                              "chat_unavailable", NULL);

    memset(&r, 0, sizeof(r));
    r.t0_us = gw_upstream_now_us();
    clock_gettime(CLOCK_REALTIME, &ts);
    r.wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (gw_admin_whoami(conn, &user_id, role) != 0)
        return 401; /* answered (401, 403 CSRF or 503) by the REST API */

    r.interaction = GW_INTERACTION_CHAT;
    r.user_id = user_id;
    r.route.kind = GW_ROUTE_AI;
    r.route.path = "/v1/chat/completions";
    r.route_ok = 1;
    atomic_fetch_add(&gw_chat_inflight, 1);
    if (gw_preq_begin(&r, srv, conn) == 0)
        gw_chat_run(&r);
    gw_preq_end(&r);
    atomic_fetch_sub(&gw_chat_inflight, 1);
    return r.status;
}

void gw_chat_routes(gw_server *srv, gw_http_route routes[GW_CHAT_NROUTES])
{
    routes[0] = (gw_http_route){GW_CHAT_URI, gw_chat_handle, srv};
}
