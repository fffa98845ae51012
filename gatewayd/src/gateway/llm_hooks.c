/*
 * src/gateway/llm_hooks.c: the steps that run an LLM's filters and plugins
 * in the gateway's pipelines (see llm_hooks.h): a gw_hook_req made from the
 * request for each stage, the stage's run, and its result applied to the
 * request (a block answered, a body replaced, headers added).
 */
#include "gateway/llm_hooks.h"

#include <string.h>

#include "gateway/request.h"
#include "model/budget.h"

/* The LLM's hooks, looked up once per request; NULL (after answering 503)
 * when they cannot be built. *none when the LLM or the snapshot is unknown
 * yet (then there is nothing to run). */
static const gw_hook_list *gw_llm_hooks(gw_preq *r, int *none)
{
    *none = r->llm == NULL || r->snap == NULL;
    if (*none)
        return NULL;
    if (r->hooks == NULL) {
        r->hooks = gw_hooks_of(r->snap, r->llm);
        if (r->hooks == NULL)
            gw_preq_fail(r, 503, "out_of_memory", "the filters and plugins of LLM '%s' cannot be prepared",
                         r->llm->slug);
    }
    return r->hooks;
}

static void gw_llm_hook_req(gw_preq *r, gw_hook_req *rq, gw_stage st, const char *body, size_t len, gw_dialect d)
{
    rq->stage = st;
    rq->request_id = r->rid;
    rq->method = r->ri->request_method;
    rq->path = r->route.path != NULL ? r->route.path : "";
    rq->route = r->route.kind;
    rq->chat = r->interaction == GW_INTERACTION_CHAT;
    rq->llm = r->llm;
    rq->vendor = r->vendor;
    rq->model = r->model;
    rq->app_id = r->app_id;
    rq->user_id = r->user_id;
    rq->headers = r->hdrs;
    rq->nheaders = r->nh;
    rq->body = body != NULL ? body : "";
    rq->body_len = len;
    rq->dialect = d;
    rq->text_state = 0;
}

/* A block answers the client: the budget reservation (post_auth) is given
 * back first, so the client's next request finds it free. */
static void gw_llm_hooks_block(gw_preq *r, const gw_hook_result *res)
{
    if (r->reserved) {
        gw_budget_settle(r->srv->budget, &r->ticket, 0);
        r->reserved = 0;
    }
    gw_preq_block(r, res->v.status, res->v.code, res->v.message, res->by);
}

/* Runs stage st of the LLM's hooks on body; 0 with res (the caller applies a
 * MODIFY and frees res), or -1 after answering the block. */
static int gw_llm_hooks_run(gw_preq *r, const gw_hook_list *hl, gw_stage st, const char *body, size_t len, gw_dialect d,
                            gw_hook_result *res)
{
    gw_hook_req rq;
    int rc;

    gw_hook_result_init(res);
    gw_hook_req_init(&rq);
    gw_llm_hook_req(r, &rq, st, body, len, d);
    rc = gw_hooks_run(hl, &rq, res);
    gw_hook_req_free(&rq);
    if (rc != 0) {
        gw_llm_hooks_block(r, res);
        gw_hook_result_free(res);
        return -1;
    }
    return 0;
}

int gw_step_hooks_pre_auth(gw_preq *r, void *arg)
{
    const gw_hook_list *hl;
    gw_hook_result res;
    int none;

    (void)arg;
    hl = gw_llm_hooks(r, &none);
    if (none)
        return 0;
    if (hl == NULL)
        return -1;
    if (gw_hooks_count(hl, GW_STAGE_PRE_AUTH) == 0)
        return 0;
    if (!r->body_read && gw_preq_read_body(r) != 0)
        return -1;
    if (gw_llm_hooks_run(r, hl, GW_STAGE_PRE_AUTH, r->body, r->body_len,
                         gw_vendor_dialect(r->vendor, r->route.kind, r->route.path), &res) != 0)
        return -1;
    if (res.v.body_set) {
        /* the client's body from now on */
        if (r->hook_body_init)
            gw_buf_free(&r->hook_body);
        r->hook_body = res.v.body;
        r->hook_body_init = 1;
        gw_buf_init(&res.v.body, 0);
        if (gw_buf_cstr(&r->hook_body) == NULL) {
            gw_hook_result_free(&res);
            gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
            return -1;
        }
        r->body = r->hook_body.data;
        r->body_len = r->hook_body.len;
    }
    gw_hook_result_free(&res);
    return 0;
}

int gw_step_hooks_auth(gw_preq *r, void *arg)
{
    const gw_hook_list *hl;
    gw_hook_result res;
    int none;

    (void)arg;
    hl = gw_llm_hooks(r, &none);
    if (none)
        return 0;
    if (hl == NULL)
        return -1;
    if (gw_hooks_count(hl, GW_STAGE_AUTH) == 0)
        return 0;
    if (!r->body_read && gw_preq_read_body(r) != 0)
        return -1;
    if (gw_llm_hooks_run(r, hl, GW_STAGE_AUTH, r->body, r->body_len,
                         gw_vendor_dialect(r->vendor, r->route.kind, r->route.path), &res) != 0)
        return -1;
    if (res.v.app_id > 0 && r->interaction != GW_INTERACTION_CHAT) {
        /* an auth plugin says who calls: that app, instead of an API key (the
         * post_auth checks of the app and its access to the LLM still apply) */
        const gw_app *app = gw_snapshot_app_by_id(r->snap, res.v.app_id);
        if (app == NULL) {
            gw_preq_fail(r, 401, "invalid_app", "the app %lld that plugin authentication named does not exist",
                         (long long)res.v.app_id);
            gw_hook_result_free(&res);
            return -1;
        }
        r->app = app;
        r->app_id = app->id;
        r->user_id = res.v.user_id > 0 ? res.v.user_id : app->owner_id;
        r->plugin_auth = 1;
    }
    gw_hook_result_free(&res);
    return 0;
}

/* The upstream URL with its origin (or the LLM's endpoint, when the URL
 * starts with it) replaced by a plugin's base URL. */
static int gw_llm_hooks_override(gw_preq *r, const char *base)
{
    const char *url = gw_buf_cstr(&r->ureq.url), *ep = r->llm->api_endpoint, *rest;
    size_t el = ep != NULL ? strlen(ep) : 0, bl = strlen(base);
    gw_buf next;

    if (url == NULL)
        return -1;
    while (el > 0 && ep[el - 1] == '/')
        el--;
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (el > 0 && strncmp(url, ep, el) == 0)
        rest = url + el;
    else { /* the path after the origin */
        const char *p = strstr(url, "://");
        rest = p != NULL ? p + 3 + strcspn(p + 3, "/?") : url + strlen(url);
    }
    gw_buf_init(&next, 0);
    gw_buf_append(&next, base, bl);
    gw_buf_puts(&next, rest);
    if (next.failed) {
        gw_buf_free(&next);
        return -1;
    }
    gw_buf_free(&r->ureq.url);
    r->ureq.url = next;
    return 0;
}

int gw_step_hooks_post_auth(gw_preq *r, void *arg)
{
    const gw_hook_list *hl;
    gw_hook_result res;
    int none;

    (void)arg;
    hl = gw_llm_hooks(r, &none);
    if (none)
        return 0;
    if (hl == NULL)
        return -1;
    if (gw_hooks_count(hl, GW_STAGE_POST_AUTH) > 0) {
        const char *body = r->ureq.body_rewritten ? r->ureq.body.data : r->body;
        size_t len = r->ureq.body_rewritten ? r->ureq.body.len : r->body_len;
        if (gw_llm_hooks_run(r, hl, GW_STAGE_POST_AUTH, body, len, r->ureq.dialect, &res) != 0)
            return -1;
        if (res.v.body_set) { /* the upstream request's body from now on */
            gw_buf old = r->ureq.body;
            r->ureq.body = res.v.body;
            res.v.body = old;
            r->ureq.body_rewritten = 1;
        }
        if (res.v.headers.len > 0)
            gw_buf_append(&r->ureq.headers, res.v.headers.data, res.v.headers.len);
        /* a plugin's upstream override (the vendor key goes there only when
         * the key's secret allows that host: the relay checks the final URL) */
        if (res.v.upstream[0] != '\0' && gw_llm_hooks_override(r, res.v.upstream) != 0) {
            gw_hook_result_free(&res);
            gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
            return -1;
        }
        gw_hook_result_free(&res);
        if (r->ureq.body.failed || r->ureq.headers.failed) {
            gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
            return -1;
        }
    }
    if (gw_hooks_count(hl, GW_STAGE_ON_RESPONSE) > 0) {
        char err[GW_ERR_LEN];
        int ai = r->ureq.proc_mode == GW_PROC_AI_JSON || r->ureq.proc_mode == GW_PROC_AI_SSE;
        gw_hook_result_init(&res);
        if (gw_hooks_ready(hl, GW_STAGE_ON_RESPONSE, &res) != 0) {
            gw_llm_hooks_block(r, &res);
            gw_hook_result_free(&res);
            return -1;
        }
        gw_hook_result_free(&res);
        gw_hook_req_init(&r->hreq);
        r->hreq_init = 1;
        gw_llm_hook_req(r, &r->hreq, GW_STAGE_ON_RESPONSE, r->ureq.body_rewritten ? r->ureq.body.data : r->body,
                        r->ureq.body_rewritten ? r->ureq.body.len : r->body_len, r->ureq.dialect);
        r->hreq.answer_mode = r->ureq.proc_mode;
        r->hreq.answer_dialect = ai ? GW_DIALECT_OPENAI_CHAT : r->ureq.dialect;
        if (gw_hooks_response_begin(hl, &r->hreq, &r->hstream, err) != 0) {
            gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
            return -1;
        }
    }
    return 0;
}

int gw_step_hooks_response(gw_preq *r, void *arg, const char *data, size_t len, gw_piece_fn next, void *next_ctx)
{
    gw_hook_result res;
    int rc;

    (void)arg;
    if (r->hstream == NULL)
        return data != NULL ? next(next_ctx, data, len) : 0;
    gw_hook_result_init(&res);
    rc = data != NULL ? gw_hooks_response_unit(r->hstream, data, len, next, next_ctx, &res)
                      : gw_hooks_response_end(r->hstream, next, next_ctx, &res);
    if (rc != 0 && res.action == GW_HOOK_BLOCK) {
        /* the relay ends the answer with it (proxy_relay.c) */
        r->stop_status = res.v.status;
        snprintf(r->stop_code, sizeof(r->stop_code), "%s", res.v.code);
        snprintf(r->stop_msg, sizeof(r->stop_msg), "%s", res.v.message);
        r->stop_by = res.by;
    }
    gw_hook_result_free(&res);
    return rc;
}
