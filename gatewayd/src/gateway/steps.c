/*
 * src/gateway/steps.c: the built-in steps of the gateway's pipelines (see
 * steps.h). Each is one check of the request flow, in the order the
 * pipelines register them.
 *
 * Singleton: the concurrent stream counters (gw_app_streams, a fixed
 * lock-free table keyed by app id, or by minus the user id for the chat:
 * keys are claimed once by CAS and never removed); gw_preq_end releases a
 * request's count.
 */
#include "gateway/steps.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "gateway/llm_hooks.h"
#include "gateway/metrics.h"
#include "gateway/request.h"
#include "model/budget.h"

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

/* ---- pre_auth (app key) ---- */

static int gw_step_route(gw_preq *r, void *arg)
{
    const char *uri = r->ri->local_uri_raw != NULL ? r->ri->local_uri_raw : r->ri->local_uri;
    gw_route_status rs = gw_route_parse(uri, &r->route);

    (void)arg;
    if (rs == GW_ROUTE_NOT_FOUND) {
        gw_preq_fail(r, 404, "not_found", "no such route");
        return -1;
    }
    r->route_ok = 1;
    if (rs == GW_ROUTE_BAD_PATH) {
        gw_preq_fail(r, 400, "invalid_path", "the path may not contain '.' or '..' segments or encoded slashes");
        return -1;
    }
    return 0;
}

static int gw_method_allowed(gw_route_kind kind, const char *m)
{
    if (kind == GW_ROUTE_AI)
        return strcmp(m, "POST") == 0;
    return strcmp(m, "POST") == 0 || strcmp(m, "GET") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "PATCH") == 0;
}

static int gw_step_method(gw_preq *r, void *arg)
{
    (void)arg;
    if (!gw_method_allowed(r->route.kind, r->ri->request_method)) {
        gw_preq_fail(r, 405, "method_not_allowed", "method %s is not allowed here", r->ri->request_method);
        return -1;
    }
    return 0;
}

int gw_step_enter(gw_preq *r, void *arg)
{
    (void)arg;
    return gw_preq_enter(r);
}

/* The LLM is looked up before the credential is checked (its answer still
 * comes after the 401) so that every event names it. Never stops. */
static int gw_step_lookup_llm(gw_preq *r, void *arg)
{
    (void)arg;
    r->snap = gw_snapshot_current(&r->srv->snapshots);
    if (r->snap != NULL) {
        r->llm = gw_snapshot_llm_by_slug(r->snap, r->route.slug);
        if (r->llm != NULL)
            r->vendor = r->llm->vendor_def;
    }
    gw_preq_headers(r);
    return 0;
}

/* ---- auth (app key) ---- */

static int gw_step_api_key(gw_preq *r, void *arg)
{
    if (r->plugin_auth) /* an auth plugin said who calls (llm_hooks.c) */
        return 0;
    char key[GW_CRED_MAX + 1], err[GW_ERR_LEN];
    size_t key_len = 0;
    gw_cred_result cr;

    (void)arg;
    if (gw_route_credential(r->hdrs, r->nh, r->ri->query_string, key, sizeof(key), &key_len) == GW_CRED_SRC_NONE) {
        gw_preq_fail(r, 401, "invalid_api_key", "invalid or missing API key");
        return -1;
    }
    cr = gw_credcache_lookup(r->srv->creds, key, key_len, &r->cred_entry, err);
    memset(key, 0, key_len);
    if (cr == GW_CRED_NOT_FOUND) {
        gw_preq_fail(r, 401, "invalid_api_key", "invalid or missing API key");
        return -1;
    }
    if (cr == GW_CRED_UNREACHABLE) { /* an edge, its hub down, a key it never saw */
        gw_preq_fail(r, 503, "control_plane_unavailable", "the API key cannot be checked while the hub is unreachable");
        return -1;
    }
    if (cr != GW_CRED_FOUND) {
        gw_preq_fail(r, 503, "auth_unavailable", "the API key cannot be checked now; retry later");
        return -1;
    }
    r->cred = gw_cred_entry_get(r->cred_entry);
    r->user_id = r->cred->owner_id;
    r->app_id = r->cred->app_id;
    /* the analytics event of the refusal names the app: who still uses an old key */
    if (gw_credential_expired(r->cred, gw_credential_wall_ms())) {
        time_t at = (time_t)(r->cred->key_expires_ms / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&at, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        gw_preq_fail(r, 401, "api_key_expired", "this API key expired at %s; use a newer key of the app", when);
        return -1;
    }
    return 0;
}

/* ---- post_auth (app key; the first and the LLM's state shared with the chat) ---- */

int gw_step_config_loaded(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->snap == NULL) {
        gw_preq_fail(r, 503, "config_not_loaded", "the gateway has not loaded its configuration yet");
        return -1;
    }
    return 0;
}

static int gw_step_llm_found(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->llm == NULL) {
        gw_preq_fail(r, 404, "llm_not_found", "no LLM with slug '%s'", r->route.slug);
        return -1;
    }
    return 0;
}

int gw_step_llm_active(gw_preq *r, void *arg)
{
    (void)arg;
    if (!r->llm->active) {
        gw_preq_fail(r, 403, "llm_inactive", "LLM '%s' is not active", r->llm->slug);
        return -1;
    }
    return 0;
}

static int gw_step_app_active(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->plugin_auth) { /* an auth plugin named the app: the snapshot's row */
        if (!r->app->active) {
            gw_preq_fail(r, 403, "app_inactive", "the app is not active");
            return -1;
        }
        return 0;
    }
    /* the credential's answer is the one source of what the key may use
     * (aistudio.resolve_credential; any configuration change empties the
     * cache, so it is never older than the snapshot) */
    if (!r->cred->app_active) {
        gw_preq_fail(r, 403, "app_inactive", "the app of this API key is not active");
        return -1;
    }
    return 0;
}

static int gw_step_owner_active(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->plugin_auth) /* the snapshot does not say whether users are active */
        return 0;
    if (!r->cred->owner_active) {
        gw_preq_fail(r, 403, "owner_inactive", "the owner of this app is not active");
        return -1;
    }
    return 0;
}

static int gw_step_app_llm_access(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->plugin_auth ? !gw_app_allows_llm(r->app, r->llm->id) : !gw_credential_allows_llm(r->cred, r->llm->id)) {
        gw_preq_fail(r, 403, "llm_not_allowed", "this app may not use LLM '%s'", r->llm->slug);
        return -1;
    }
    return 0;
}

static int gw_step_body(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->body_read) /* read already for the pre_auth hooks */
        return 0;
    return gw_preq_read_body(r);
}

/* ---- post_auth (every entry point) ---- */

static int gw_step_vendor_key(gw_preq *r, void *arg)
{
    (void)arg;
    if (r->llm->key_state == GW_KEY_UNAVAILABLE) {
        gw_preq_fail(r, 503, "vendor_key_unavailable", "the vendor key of LLM '%s' cannot be opened: %s", r->llm->slug,
                     r->llm->key_error);
        return -1;
    }
    if (!gw_vendor_supported(r->vendor)) {
        gw_preq_fail(r, 502, "vendor_unsupported", "LLM '%s' has an unsupported vendor", r->llm->slug);
        return -1;
    }
    return 0;
}

/* The upstream request: the vendor's pass-through, or the /ai translation. */
static int gw_step_vendor_request(gw_preq *r, void *arg)
{
    char err[GW_ERR_LEN];
    int status = 0, rc;

    (void)arg;
    gw_upstream_req_init(&r->ureq);
    r->ureq_init = 1;
    if (r->route.kind == GW_ROUTE_AI)
        rc = gw_vendor_translate_request(r->llm, r->hdrs, r->nh, r->body, r->body_len, &r->ureq, &status, err);
    else
        rc = gw_vendor_prepare(r->llm, r->route.kind, r->ri->request_method, r->route.path, r->ri->query_string,
                               r->hdrs, r->nh, r->body, r->body_len, &r->ureq, &status, err);
    if (rc != 0) {
        if (status < 400 || status > 599)
            status = 400;
        gw_preq_fail(r, status, status == 400 ? "invalid_request" : (status == 404 ? "not_found" : "invalid_request"),
                     "%s", err);
        return -1;
    }
    return 0;
}

static int gw_step_model(gw_preq *r, void *arg)
{
    (void)arg;
    gw_copy(r->model, sizeof(r->model), r->ureq.model[0] != '\0' ? r->ureq.model : r->llm->default_model);
    if (r->model[0] != '\0' && !gw_llm_model_allowed(r->llm, r->model)) {
        gw_preq_fail(r, 403, "model_not_allowed", "model '%s' is not allowed for LLM '%s'", r->model, r->llm->slug);
        return -1;
    }
    return 0;
}

/* Concurrent streams: per app, or per user without an app. */
static int gw_step_streams(gw_preq *r, void *arg)
{
    const gw_config *cfg = &r->srv->cfg;

    (void)arg;
    r->streaming_out = r->ureq.proc_mode != GW_PROC_JSON && r->ureq.proc_mode != GW_PROC_AI_JSON;
    if (!r->ureq.stream)
        return 0;
    {
        int64_t skey = r->app_id > 0 ? r->app_id : -r->user_id;
        if (cfg->max_streams_per_app > 0 && skey != 0 && (r->stream_slot = gw_app_streams_get(skey)) != NULL) {
            if (atomic_fetch_add(&r->stream_slot->n, 1) >= cfg->max_streams_per_app) {
                atomic_fetch_sub(&r->stream_slot->n, 1);
                r->stream_slot = NULL;
                gw_preq_fail(r, 429, "too_many_streams", "this %s has %d streams open (MAX_STREAMS_PER_APP)",
                             r->app_id > 0 ? "app" : "user", cfg->max_streams_per_app);
                return -1;
            }
        }
    }
    r->stream_counted = 1;
    gw_metrics_streams_add(r->srv->metrics, 1);
    return 0;
}

/* The worst case of the request reserved against the app's budget (when
 * there is an app) and the LLM's; then the journal notes the LLM call. */
static int gw_step_budget(gw_preq *r, void *arg)
{
    const gw_config *cfg = &r->srv->cfg;
    gw_app_budget app = {0, 0, ""};
    gw_money worst;
    gw_budget_result br;

    (void)arg;
    r->price = gw_snapshot_price(r->snap, r->llm->vendor, r->model);
    {
        /* the vendor module measures the prompt part, else the whole body counts */
        size_t basis = r->ureq.prompt_bytes > 0 ? r->ureq.prompt_bytes : r->body_len;
        worst = gw_budget_worst_cost(r->price, gw_budget_prompt_tokens_max(basis), r->ureq.max_tokens,
                                     cfg->budget_default_max_tokens);
    }
    if (r->plugin_auth) {
        if (r->app->monthly_budget[0] != '\0') {
            app.set = 1;
            app.nanos = r->app->monthly_budget_nanos;
            app.start_date = r->app->budget_start_date;
        }
    } else if (r->cred != NULL && r->cred->monthly_budget[0] != '\0') {
        app.set = 1;
        app.nanos = r->cred->monthly_budget_nanos;
        app.start_date = r->cred->budget_start_date;
    }
    br = gw_budget_reserve(r->srv->budget, r->app_id, &app, r->llm, worst, &r->ticket);
    if (br == GW_BUDGET_APP_EXCEEDED || br == GW_BUDGET_LLM_EXCEEDED) {
        char lim[64];
        gw_preq_fail(r, 429, "budget_exceeded", "the monthly budget of the %s (%s) is spent",
                     br == GW_BUDGET_APP_EXCEEDED ? "app" : "LLM", gw_money_format(r->ticket.limit, lim));
        return -1;
    }
    if (br == GW_BUDGET_APP_INSUFFICIENT || br == GW_BUDGET_LLM_INSUFFICIENT) {
        /* something is left, not this request's worst case: say so, with
         * the numbers (docs/gateway.md "Budgets": the reservation rule) */
        char left[64], est[64], lim[64];
        gw_preq_fail(r, 429, "request_exceeds_remaining_budget",
                     "this request could cost up to %s (its prompt and %s output tokens at the model's prices), more "
                     "than the %s left of the %s's monthly budget of %s; lower max_tokens or raise the budget",
                     gw_money_format(worst, est), r->ureq.max_tokens >= 0 ? "its max_tokens" : "the default max",
                     gw_money_format(r->ticket.remaining, left), br == GW_BUDGET_APP_INSUFFICIENT ? "app" : "LLM",
                     gw_money_format(r->ticket.limit, lim));
        return -1;
    }
    if (br != GW_BUDGET_OK) {
        gw_preq_fail(r, 503, "budget_unavailable", "the budget cannot be checked now; retry later");
        return -1;
    }
    r->reserved = 1;
    gw_preq_journal_note(r);
    return 0;
}

/* The rate limits of the app (the snapshot's row: a changed limit counts
 * from the next snapshot) and of the LLM: one request from each requests
 * bucket, the tokens buckets above 0 (model/ratelimit.h). The x-ratelimit-*
 * headers go on every answer of a limited request, this refusal's too. */
static int gw_step_ratelimit(gw_preq *r, void *arg)
{
    const gw_app *app = r->app;
    gw_rl_limits lim;
    gw_rl_result res;
    char reset[32];
    size_t len = 0;

    (void)arg;
    memset(&lim, 0, sizeof(lim));
    if (app == NULL && r->app_id > 0)
        app = gw_snapshot_app_by_id(r->snap, r->app_id);
    if (app != NULL) {
        lim.app_id = app->id;
        lim.app_rpm = app->rate_limit_rpm;
        lim.app_tpm = app->rate_limit_tpm;
    }
    lim.llm_id = r->llm->id;
    lim.llm_rpm = r->llm->rate_limit_rpm;
    lim.llm_tpm = r->llm->rate_limit_tpm;
    if (r->srv->ratelimits == NULL || !gw_ratelimit_applies(&lim))
        return 0;
    res = gw_ratelimit_admit(r->srv->ratelimits, &lim, gw_now_ms(), &r->rl);
    if (res == GW_RL_ERROR) {
        gw_preq_fail(r, 503, "rate_limit_unavailable", "the rate limit cannot be checked now; retry later");
        return -1;
    }
    r->rl_headers[0] = '\0';
    if (r->rl.requests.set)
        len += (size_t)snprintf(r->rl_headers + len, sizeof(r->rl_headers) - len,
                                "x-ratelimit-limit-requests: %lld\r\nx-ratelimit-remaining-requests: %lld\r\n"
                                "x-ratelimit-reset-requests: %s\r\n",
                                (long long)r->rl.requests.limit, (long long)r->rl.requests.remaining,
                                gw_ratelimit_duration(r->rl.requests.reset_ms, reset, sizeof(reset)));
    if (r->rl.tokens.set && len < sizeof(r->rl_headers))
        len += (size_t)snprintf(r->rl_headers + len, sizeof(r->rl_headers) - len,
                                "x-ratelimit-limit-tokens: %lld\r\nx-ratelimit-remaining-tokens: %lld\r\n"
                                "x-ratelimit-reset-tokens: %s\r\n",
                                (long long)r->rl.tokens.limit, (long long)r->rl.tokens.remaining,
                                gw_ratelimit_duration(r->rl.tokens.reset_ms, reset, sizeof(reset)));
    if (res != GW_RL_OK && len < sizeof(r->rl_headers))
        snprintf(r->rl_headers + len, sizeof(r->rl_headers) - len, "Retry-After: %lld\r\n",
                 (long long)r->rl.retry_after_s);
    r->resp.own_headers = r->rl_headers;
    if (res == GW_RL_OK) {
        r->rl_admitted = 1;
        return 0;
    }
    {
        int tokens = res == GW_RL_APP_TOKENS || res == GW_RL_LLM_TOKENS;
        int is_app = res == GW_RL_APP_REQUESTS || res == GW_RL_APP_TOKENS;
        gw_preq_fail_vendor(r, 429, "rate_limited",
                            "rate limit reached: the %s's limit of %lld %s per minute; retry after %lld s",
                            is_app ? "app" : "LLM", (long long)r->rl.limit,
                            tokens ? "tokens" : "requests", (long long)r->rl.retry_after_s);
    }
    return -1;
}

/* ---- registration ---- */

typedef struct gw_step_def {
    gw_stage stage;
    const char *name;
    gw_step_fn fn;
} gw_step_def;

static int gw_steps_add(gw_pipeline *p, const gw_step_def *defs, size_t n, char err[GW_ERR_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (gw_pipeline_add(p, defs[i].stage, defs[i].name, defs[i].fn, NULL, err) != 0)
            return -1;
    return 0;
}

#define GW_STEP(stage, fn)                                                                                             \
    {                                                                                                                  \
        GW_STAGE_##stage, #fn, fn                                                                                      \
    }

static const gw_step_def gw_app_key_steps[] = {
    GW_STEP(PRE_AUTH, gw_step_route),
    GW_STEP(PRE_AUTH, gw_step_method),
    GW_STEP(PRE_AUTH, gw_step_enter),
    GW_STEP(PRE_AUTH, gw_step_lookup_llm),
    GW_STEP(PRE_AUTH, gw_step_hooks_pre_auth),
    GW_STEP(AUTH, gw_step_hooks_auth),
    GW_STEP(AUTH, gw_step_api_key),
    GW_STEP(POST_AUTH, gw_step_config_loaded),
    GW_STEP(POST_AUTH, gw_step_llm_found),
    GW_STEP(POST_AUTH, gw_step_llm_active),
    GW_STEP(POST_AUTH, gw_step_app_active),
    GW_STEP(POST_AUTH, gw_step_owner_active),
    GW_STEP(POST_AUTH, gw_step_app_llm_access),
    GW_STEP(POST_AUTH, gw_step_body),
};

static const gw_step_def gw_shared_steps[] = {
    GW_STEP(POST_AUTH, gw_step_vendor_key), GW_STEP(POST_AUTH, gw_step_vendor_request),
    GW_STEP(POST_AUTH, gw_step_model),      GW_STEP(POST_AUTH, gw_step_streams),
    GW_STEP(POST_AUTH, gw_step_budget),     GW_STEP(POST_AUTH, gw_step_ratelimit),
    GW_STEP(POST_AUTH, gw_step_hooks_post_auth),
};

int gw_steps_add_app_key(gw_pipeline *p, char err[GW_ERR_LEN])
{
    return gw_steps_add(p, gw_app_key_steps, sizeof(gw_app_key_steps) / sizeof(gw_app_key_steps[0]), err);
}

int gw_steps_add_shared(gw_pipeline *p, char err[GW_ERR_LEN])
{
    if (gw_steps_add(p, gw_shared_steps, sizeof(gw_shared_steps) / sizeof(gw_shared_steps[0]), err) != 0)
        return -1;
    return gw_pipeline_add_response(p, "gw_step_hooks_response", gw_step_hooks_response, NULL, err);
}
