/*
 * src/gateway/chat.c: POST /api/v1/chat/completions (see chat.h), the second
 * entry point into the gateway's request flow (request.h), with a pipeline
 * of its own (pipeline/pipeline.h) built by gw_chat_routes:
 *
 *   pre_auth   method and path, the gateway runs here (not in
 *              GATEWAY_MODE=control)
 *   auth       who is calling: a session instead of an API key
 *              (gw_admin_whoami: 401, 403 for a cookie-authenticated request
 *              without its CSRF token, 503). These two stages run before the
 *              request begins: their answers come from the REST API and are
 *              not analytics events.
 *   post_auth  from here on exactly one event (interaction_type 'chat',
 *              user_id, no app): counted in flight (shutdown drains it), at
 *              most GW_CHAT_MAX_INFLIGHT chats at once (503 chat_busy), the
 *              body (MAX_BODY_BYTES; JSON) → the LLM it names ("llm": a
 *              slug, else an LLM name; or "llm_id"), blanked out of the body
 *              (chat_body.c) → the snapshot: unknown 404 → the LLM's
 *              pre_auth filters and plugins (the stage runs here, once the
 *              LLM is known; auth hooks do not run: the session is the
 *              caller) → inactive 403 → the
 *              user's groups grant it (403 llm_not_allowed) → the shared
 *              steps of the /ai flow (steps.h): the vendor key, the
 *              translation, model not allowed 403, the user's concurrent
 *              streams (MAX_STREAMS_PER_APP), the LLM's budget (there is no
 *              app budget)
 *   upstream   the call and relay (proxy_relay.h).
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
#include "db/sql.h"
#include "gateway/chat_body.h"
#include "gateway/llm_hooks.h"
#include "gateway/proxy_relay.h"
#include "gateway/request.h"
#include "gateway/steps.h"

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
    if (gw_pgpool_exec(srv->pool, GW_SQL_CAN_USE_LLM, 2, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate,
                       err) != 0)
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
static int gw_chat_step_busy(gw_preq *r, void *arg)
{
    (void)arg;
    if (atomic_load(&gw_chat_inflight) > GW_CHAT_MAX_INFLIGHT) { /* this one included */
        gw_preq_fail(r, 503, "chat_busy", "%d chat requests are in progress on this server; retry shortly",
                     GW_CHAT_MAX_INFLIGHT);
        return -1;
    }
    return 0;
}

static int gw_chat_step_json(gw_preq *r, void *arg)
{
    const char *ct = mg_get_header(r->conn, "Content-Type");

    (void)arg;
    if (ct != NULL && !gw_chat_is_json(ct)) {
        gw_preq_fail(r, 415, "unsupported_media_type", "request bodies must be JSON (Content-Type: application/json)");
        return -1;
    }
    return gw_preq_read_body(r);
}

/* The LLM named by the body, taken out of it (chat_body.c) into r->caller. */
static int gw_chat_step_target(gw_preq *r, void *arg)
{
    const char *code;
    char err[GW_ERR_LEN];

    (void)arg;
    if (gw_chat_take_target(r->body_len > 0 ? r->tls->body : NULL, r->body_len, r->caller, &code, err) != 0) {
        gw_preq_fail(r, 400, code, "%s", err);
        return -1;
    }
    return 0;
}

/* The snapshot the request is checked against (the next step answers 503 without one). */
static int gw_chat_step_snapshot(gw_preq *r, void *arg)
{
    (void)arg;
    r->snap = gw_snapshot_current(&r->srv->snapshots);
    return 0;
}

static int gw_chat_step_llm(gw_preq *r, void *arg)
{
    const gw_chat_target *t = r->caller;
    const gw_llm *by_name = NULL, *by_id = NULL;

    (void)arg;
    if (t->llm[0] != '\0') {
        by_name = gw_snapshot_llm_by_slug(r->snap, t->llm);
        if (by_name == NULL) {
            char slug[GW_CHAT_LLM_MAX];
            gw_chat_slugify(t->llm, slug, sizeof(slug));
            by_name = gw_snapshot_llm_by_slug(r->snap, slug);
        }
        if (by_name == NULL) {
            gw_preq_fail(r, 404, "llm_not_found", "no LLM '%.128s'", t->llm);
            return -1;
        }
    }
    if (t->llm_id > 0) {
        by_id = gw_snapshot_llm_by_id(r->snap, t->llm_id);
        if (by_id == NULL) {
            gw_preq_fail(r, 404, "llm_not_found", "no LLM with id %lld", (long long)t->llm_id);
            return -1;
        }
        if (by_name != NULL && by_name != by_id) {
            gw_preq_fail(r, 400, "invalid_request", "\"llm\" and \"llm_id\" name different LLMs");
            return -1;
        }
    }
    r->llm = by_name != NULL ? by_name : by_id;
    r->vendor = gw_vendor_parse(r->llm->vendor);
    gw_copy(r->route.slug, sizeof(r->route.slug), r->llm->slug);
    return 0;
}

static int gw_chat_step_access(gw_preq *r, void *arg)
{
    char err[GW_ERR_LEN], sqlstate[GW_SQLSTATE_LEN];
    int allowed = 0;

    (void)arg;
    if (gw_chat_can_use(r->srv, r->user_id, r->llm->id, &allowed, sqlstate, err) != 0) {
        if (strcmp(sqlstate, "42501") == 0 && atomic_exchange(&gw_chat_grant_warned, 1) == 0)
            gw_log_error("chat: the gateway's database role may not call aistudio.can_use_llm() (GRANT EXECUTE ON "
                         "FUNCTION aistudio.can_use_llm(bigint, bigint) TO aistudio_gateway): %s",
                         err);
        else
            gw_log_warn("chat: access check failed (SQLSTATE %s): %s", sqlstate, err);
        gw_preq_fail(r, 503, "access_check_unavailable", "the access to LLM '%s' cannot be checked now; retry later",
                     r->llm->slug);
        return -1;
    }
    if (!allowed) {
        gw_preq_fail(r, 403, "llm_not_allowed", "none of your groups grants LLM '%s'", r->llm->slug);
        return -1;
    }
    gw_preq_headers(r);
    return 0;
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

/* ---- before the request begins (no event) ---- */

static int gw_chat_step_route(gw_preq *r, void *arg)
{
    (void)arg;
    if (strcmp(r->ri->local_uri, GW_CHAT_URI) != 0 && strcmp(r->ri->local_uri, GW_CHAT_URI "/") != 0)
        r->status = gw_chat_refuse(r->conn, 404, "no such route", "not_found", NULL);
    else if (strcmp(r->ri->request_method, gw_chat_op.method) != 0)
        r->status = gw_chat_refuse(r->conn, 405, "method not allowed on this resource", "method_not_allowed",
                                   gw_chat_op.method);
    else if (r->srv->budget == NULL || r->srv->analytics == NULL)
        r->status = gw_chat_refuse(r->conn, 503, "the chat runs on a gateway: not available with GATEWAY_MODE=control",
                                   "chat_unavailable", NULL);
    else
        return 0;
    return -1;
}

/* A session (cookie with its CSRF token, or a personal API token) instead of an API key. */
static int gw_chat_step_session(gw_preq *r, void *arg)
{
    char role[16];
    int64_t user_id = 0;

    (void)arg;
    if (gw_admin_whoami(r->conn, &user_id, role) != 0) {
        r->status = 401; /* answered (401, 403 CSRF or 503) by the REST API */
        return -1;
    }
    r->user_id = user_id;
    return 0;
}

static gw_pipeline gw_chat_pipeline;

static int gw_chat_handle(struct mg_connection *conn, void *cbdata)
{
    gw_server *srv = cbdata;
    gw_chat_target t;
    gw_preq r;

    memset(&r, 0, sizeof(r));
    r.srv = srv;
    r.conn = conn;
    r.ri = mg_get_request_info(conn);
    r.t0_us = gw_upstream_now_us();
    r.wall_us = gw_wall_us();
    if (gw_pipeline_run(&gw_chat_pipeline, GW_STAGE_PRE_AUTH, GW_STAGE_AUTH, &r) != 0)
        return r.status;

    r.interaction = GW_INTERACTION_CHAT;
    r.route.kind = GW_ROUTE_AI;
    r.route.path = "/v1/chat/completions";
    r.route_ok = 1;
    r.caller = &t;
    atomic_fetch_add(&gw_chat_inflight, 1);
    if (gw_preq_begin(&r, srv, &gw_chat_pipeline, conn) == 0)
        gw_pipeline_run(&gw_chat_pipeline, GW_STAGE_POST_AUTH, GW_STAGE_UPSTREAM, &r);
    gw_preq_end(&r);
    atomic_fetch_sub(&gw_chat_inflight, 1);
    return r.status;
}

static int gw_chat_pipeline_build(gw_pipeline *p, char err[GW_ERR_LEN])
{
    gw_pipeline_init(p, "chat");
    if (gw_pipeline_add(p, GW_STAGE_PRE_AUTH, "chat_route", gw_chat_step_route, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_AUTH, "chat_session", gw_chat_step_session, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "enter", gw_step_enter, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "chat_busy", gw_chat_step_busy, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "chat_body", gw_chat_step_json, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "chat_target", gw_chat_step_target, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "chat_snapshot", gw_chat_step_snapshot, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "config_loaded", gw_step_config_loaded, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "chat_llm", gw_chat_step_llm, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "hooks_pre_auth", gw_step_hooks_pre_auth, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "llm_active", gw_step_llm_active, NULL, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_POST_AUTH, "chat_access", gw_chat_step_access, NULL, err) != 0 ||
        gw_steps_add_shared(p, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_UPSTREAM, "relay", gw_relay_step, NULL, err) != 0)
        return -1;
    return 0;
}

int gw_chat_routes(gw_server *srv, gw_http_route routes[GW_CHAT_NROUTES], char err[GW_ERR_LEN])
{
    if (gw_chat_pipeline_build(&gw_chat_pipeline, err) != 0)
        return -1;
    routes[0] = (gw_http_route){GW_CHAT_URI, gw_chat_handle, srv};
    return 0;
}
