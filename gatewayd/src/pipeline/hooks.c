/*
 * src/pipeline/hooks.c: the hooks of each LLM of a snapshot and their runs
 * (see hooks.h).
 *
 * Per snapshot, one table (kept in the snapshot's GW_SNAP_EXT_HOOKS slot,
 * freed with it): every attached, active object opened once (gw_hook), and
 * per LLM (by gw_llm.idx) its list per stage, merged by attachment
 * position. Built on the loader's thread ahead of the swap
 * (gw_hooks_prepare) or, for a snapshot that did not go through it, by the
 * first request (two racing builders: the first to install wins, the other
 * frees its copy).
 *
 * The registry of kinds is written at start-up only, before any listener
 * or loader runs, and read-only afterwards: no lock.
 */
#include "pipeline/hooks.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static const gw_hook_ops *gw_hook_kinds[GW_HOOK_KIND_COUNT];

static const char *const gw_hook_kind_names[GW_HOOK_KIND_COUNT] = {"filter", "plugin"};

const char *gw_hook_kind_name(gw_hook_kind kind)
{
    return kind >= 0 && kind < GW_HOOK_KIND_COUNT ? gw_hook_kind_names[kind] : "hook";
}

int gw_hooks_register(gw_hook_kind kind, const gw_hook_ops *ops, char err[GW_ERR_LEN])
{
    if (kind < 0 || kind >= GW_HOOK_KIND_COUNT)
        return gw_errf(err, "hooks: no kind %d", (int)kind);
    if (ops == NULL || ops->open == NULL || ops->request == NULL || ops->response == NULL)
        return gw_errf(err, "hooks: the %s kind needs open, request and response operations", gw_hook_kind_name(kind));
    if (gw_hook_kinds[kind] != NULL)
        return gw_errf(err, "hooks: the %s kind is registered already", gw_hook_kind_name(kind));
    gw_hook_kinds[kind] = ops;
    return 0;
}

/* ---- the table of a snapshot ---- */

typedef struct gw_hooks_table {
    gw_hook *hooks; /* the opened objects */
    size_t n_hooks;
    gw_hook_list *lists; /* per LLM index */
    size_t n_lists;
    const gw_hook **refs; /* the lists' storage */
} gw_hooks_table;

static void gw_hooks_table_free(void *p)
{
    gw_hooks_table *t = p;
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_hooks; i++)
        if (t->hooks[i].inst != NULL && t->hooks[i].ops != NULL && t->hooks[i].ops->close != NULL)
            t->hooks[i].ops->close(t->hooks[i].inst);
    free(t->hooks);
    free(t->lists);
    free(t->refs);
    free(t);
}

static int gw_stage_parse(const char *s, gw_stage *out)
{
    for (int i = 0; i < GW_STAGE_COUNT; i++)
        if (s != NULL && strcmp(s, gw_stage_name((gw_stage)i)) == 0) {
            *out = (gw_stage)i;
            return 0;
        }
    return -1;
}

/* The opened hook of (kind, id) attached with fail_open, NULL when it is
 * not in the table (a plugin attached fail_open to one LLM and not to
 * another is two hooks: fail_open is the attachment's). */
static gw_hook *gw_hooks_find(gw_hooks_table *t, gw_hook_kind kind, int64_t id, int fail_open)
{
    for (size_t i = 0; i < t->n_hooks; i++)
        if (t->hooks[i].def.kind == kind && t->hooks[i].def.id == id && t->hooks[i].def.fail_open == fail_open)
            return &t->hooks[i];
    return NULL;
}

/* Fills h for the object (kind, id) of s; 0, or 1 when it does not run
 * (unknown, inactive, or at a stage no request has). */
static int gw_hooks_define(const gw_snapshot *s, gw_hook_kind kind, int64_t id, gw_hook *h)
{
    memset(h, 0, sizeof(*h));
    h->def.kind = kind;
    h->def.id = id;
    if (kind == GW_HOOK_FILTER) {
        const gw_filter_def *f = gw_snapshot_filter_by_id(s, id);
        if (f == NULL || !f->active)
            return 1;
        h->def.filter = f;
        h->def.name = f->name;
        h->def.type = f->filter_type;
        h->def.config_json = f->config_json;
        if (gw_stage_parse(f->stage, &h->def.stage) != 0) {
            gw_log_warn("filter '%s': unknown stage '%s': it does not run", f->name, f->stage);
            return 1;
        }
    } else {
        const gw_plugin_def *p = gw_snapshot_plugin_by_id(s, id);
        if (p == NULL || !p->active)
            return 1;
        h->def.plugin = p;
        h->def.name = p->name;
        h->def.type = p->plugin_type;
        h->def.config_json = p->config_json;
        h->def.command = p->command;
        if (gw_stage_parse(p->hook, &h->def.stage) != 0) {
            gw_log_warn("plugin '%s': unknown hook '%s': it does not run", p->name, p->hook);
            return 1;
        }
    }
    if (h->def.stage == GW_STAGE_UPSTREAM) {
        gw_log_warn("%s '%s': stage upstream runs no hooks: it does not run", gw_hook_kind_name(kind), h->def.name);
        return 1;
    }
    h->ops = gw_hook_kinds[kind];
    if (h->ops == NULL)
        snprintf(h->open_error, sizeof(h->open_error), "no %s runtime in this gateway", gw_hook_kind_name(kind));
    else if (h->ops->open(&h->def, &h->inst, h->open_error) != 0)
        h->inst = NULL;
    if (h->inst == NULL && h->open_error[0] == '\0')
        snprintf(h->open_error, sizeof(h->open_error), "it could not be opened");
    return 0;
}

/* One entry of an LLM's merged list (sorted by position, kind, order). */
typedef struct gw_hook_slot {
    const gw_hook *h;
    int32_t position;
    int kind;
    size_t order;
} gw_hook_slot;

static int gw_hook_slot_cmp(const void *a, const void *b)
{
    const gw_hook_slot *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static gw_hooks_table *gw_hooks_build(const gw_snapshot *s)
{
    size_t nllm = gw_snapshot_llm_count(s), total = 0, used = 0;
    gw_hooks_table *t = calloc(1, sizeof(*t));
    gw_hook_slot *slots = NULL;

    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < nllm; i++) {
        const gw_llm *l = gw_snapshot_llm_at(s, i);
        total += l->n_filter_ids + l->n_plugin_ids;
    }
    t->hooks = calloc(total + 1, sizeof(gw_hook));
    t->lists = calloc(nllm + 1, sizeof(gw_hook_list));
    t->refs = calloc(total + 1, sizeof(gw_hook *));
    slots = calloc(total + 1, sizeof(gw_hook_slot));
    if (t->hooks == NULL || t->lists == NULL || t->refs == NULL || slots == NULL)
        goto oom;
    t->n_lists = nllm;
    for (size_t i = 0; i < nllm; i++) {
        const gw_llm *l = gw_snapshot_llm_at(s, i);
        gw_hook_list *hl = &t->lists[i];
        size_t ns = 0;
        for (int k = 0; k < GW_HOOK_KIND_COUNT; k++) {
            const int64_t *ids = k == GW_HOOK_FILTER ? l->filter_ids : l->plugin_ids;
            const int32_t *pos = k == GW_HOOK_FILTER ? l->filter_positions : l->plugin_positions;
            size_t n = k == GW_HOOK_FILTER ? l->n_filter_ids : l->n_plugin_ids;
            for (size_t j = 0; j < n; j++) {
                int fo = k == GW_HOOK_PLUGIN && l->plugin_fail_open != NULL && l->plugin_fail_open[j];
                gw_hook *h = gw_hooks_find(t, (gw_hook_kind)k, ids[j], fo);
                if (h == NULL) {
                    h = &t->hooks[t->n_hooks];
                    if (gw_hooks_define(s, (gw_hook_kind)k, ids[j], h) != 0)
                        continue;
                    h->def.fail_open = fo;
                    t->n_hooks++;
                }
                slots[ns].h = h;
                slots[ns].position = pos != NULL ? pos[j] : 0;
                slots[ns].kind = k;
                slots[ns].order = j;
                ns++;
            }
        }
        qsort(slots, ns, sizeof(gw_hook_slot), gw_hook_slot_cmp);
        for (int st = 0; st < GW_STAGE_COUNT; st++) {
            hl->hooks[st] = &t->refs[used];
            for (size_t j = 0; j < ns; j++)
                if (slots[j].h->def.stage == (gw_stage)st)
                    t->refs[used++] = slots[j].h;
            hl->n[st] = (size_t)(&t->refs[used] - hl->hooks[st]);
        }
    }
    free(slots);
    return t;
oom:
    free(slots);
    gw_hooks_table_free(t);
    return NULL;
}

static gw_hooks_table *gw_hooks_table_of(gw_snapshot *s, int *built)
{
    gw_hooks_table *t = gw_snapshot_ext_get(s, GW_SNAP_EXT_HOOKS);
    *built = 0;
    if (t != NULL)
        return t;
    t = gw_hooks_build(s);
    if (t == NULL)
        return NULL;
    *built = 1;
    return gw_snapshot_ext_set(s, GW_SNAP_EXT_HOOKS, t, gw_hooks_table_free);
}

const gw_hook_list *gw_hooks_of(gw_snapshot *s, const gw_llm *llm)
{
    int built;
    gw_hooks_table *t;

    if (s == NULL || llm == NULL)
        return NULL;
    t = gw_hooks_table_of(s, &built);
    if (t == NULL || llm->idx >= t->n_lists || gw_snapshot_llm_at(s, llm->idx) != llm)
        return NULL;
    return &t->lists[llm->idx];
}

int gw_hooks_prepare(gw_snapshot *s, char err[GW_ERR_LEN])
{
    int built;
    gw_hooks_table *t = gw_hooks_table_of(s, &built);

    if (t == NULL)
        return gw_errf(err, "out of memory building the filters and plugins of the snapshot");
    for (size_t i = 0; built && i < t->n_hooks; i++)
        if (t->hooks[i].inst == NULL)
            gw_log_warn("%s '%s' cannot run (%s): the requests of the LLMs it is attached to are refused (503)",
                        gw_hook_kind_name(t->hooks[i].def.kind), t->hooks[i].def.name, t->hooks[i].open_error);
    return 0;
}

/* ---- a request stage ---- */

void gw_hook_req_init(gw_hook_req *rq)
{
    memset(rq, 0, sizeof(*rq));
    rq->method = rq->path = rq->model = rq->request_id = "";
    rq->body = "";
    gw_text_init(&rq->text);
}

void gw_hook_req_free(gw_hook_req *rq)
{
    gw_text_free(&rq->text);
}

gw_text *gw_hook_req_text(gw_hook_req *rq, char err[GW_ERR_LEN])
{
    if (rq->text_state == 0)
        rq->text_state = gw_text_prompt(&rq->text, rq->dialect, rq->body, rq->body_len, err) == 0 ? 1 : -1;
    else if (rq->text_state < 0)
        gw_errf(err, "the body is not JSON");
    return rq->text_state > 0 ? &rq->text : NULL;
}

static void gw_verdict_init(gw_hook_verdict *v)
{
    memset(v, 0, sizeof(*v));
    gw_buf_init(&v->body, 0);
    gw_buf_init(&v->headers, 0);
}

static void gw_verdict_clear(gw_hook_verdict *v)
{
    v->action = GW_HOOK_CONTINUE;
    v->status = 0;
    v->code[0] = v->message[0] = '\0';
    v->body_set = 0;
    v->app_id = v->user_id = 0;
    v->upstream[0] = '\0';
    gw_buf_reset(&v->body);
    gw_buf_reset(&v->headers);
}

static void gw_verdict_free(gw_hook_verdict *v)
{
    gw_buf_free(&v->body);
    gw_buf_free(&v->headers);
}

void gw_hook_result_init(gw_hook_result *res)
{
    res->action = GW_HOOK_CONTINUE;
    res->by = NULL;
    gw_verdict_init(&res->v);
}

void gw_hook_result_free(gw_hook_result *res)
{
    gw_verdict_free(&res->v);
}

/* res says h blocked with v (defaults filled in). */
static void gw_hook_blocked(gw_hook_result *res, const gw_hook *h, const gw_hook_verdict *v, int on_response)
{
    res->action = GW_HOOK_BLOCK;
    res->by = &h->def;
    res->v.action = GW_HOOK_BLOCK;
    res->v.status = v->status >= 400 && v->status <= 599 ? v->status : (on_response ? 502 : 400);
    if (v->code[0] != '\0')
        snprintf(res->v.code, sizeof(res->v.code), "%s", v->code);
    else
        snprintf(res->v.code, sizeof(res->v.code), "blocked_by_%s", gw_hook_kind_name(h->def.kind));
    if (v->message[0] != '\0')
        snprintf(res->v.message, sizeof(res->v.message), "%s", v->message);
    else
        snprintf(res->v.message, sizeof(res->v.message), "blocked by %s '%s'", gw_hook_kind_name(h->def.kind),
                 h->def.name);
}

/* res says h cannot run (fail closed). */
static void gw_hook_unavailable(gw_hook_result *res, const gw_hook *h, const char *why)
{
    gw_hook_verdict v;
    memset(&v, 0, sizeof(v));
    v.status = 503;
    snprintf(v.code, sizeof(v.code), "%s_unavailable", gw_hook_kind_name(h->def.kind));
    snprintf(v.message, sizeof(v.message), "%s '%.128s' cannot run: %.300s", gw_hook_kind_name(h->def.kind),
             h->def.name, why != NULL && why[0] != '\0' ? why : "it failed");
    gw_hook_blocked(res, h, &v, 0);
}

int gw_hooks_ready(const gw_hook_list *hl, gw_stage st, gw_hook_result *res)
{
    for (size_t i = 0, n = gw_hooks_count(hl, st); i < n; i++) {
        const gw_hook *h = hl->hooks[st][i];
        if ((h->ops == NULL || h->inst == NULL) && !h->def.fail_open) {
            gw_hook_unavailable(res, h, h->open_error);
            return -1;
        }
    }
    return 0;
}

int gw_hooks_run(const gw_hook_list *hl, gw_hook_req *rq, gw_hook_result *res)
{
    gw_stage st = rq->stage;
    gw_hook_verdict v;
    size_t n = gw_hooks_count(hl, st);

    if (n == 0 || st == GW_STAGE_ON_RESPONSE)
        return 0;
    gw_verdict_init(&v);
    for (size_t i = 0; i < n; i++) {
        const gw_hook *h = hl->hooks[st][i];
        if (h->ops == NULL || h->inst == NULL) {
            if (h->def.fail_open)
                continue; /* the attachment lets the request go on without it */
            gw_hook_unavailable(res, h, h->open_error);
            break;
        }
        gw_verdict_clear(&v);
        if (h->ops->request(h->inst, &h->def, rq, &v) != 0) {
            gw_hook_unavailable(res, h, v.message);
            break;
        }
        if (v.action == GW_HOOK_BLOCK) {
            gw_hook_blocked(res, h, &v, 0);
            break;
        }
        /* a plugin's caller (auth) and upstream override: the last one set wins */
        if (v.app_id > 0) {
            res->v.app_id = v.app_id;
            res->v.user_id = v.user_id;
        }
        if (v.upstream[0] != '\0')
            snprintf(res->v.upstream, sizeof(res->v.upstream), "%s", v.upstream);
        if (v.action != GW_HOOK_MODIFY)
            continue;
        res->action = GW_HOOK_MODIFY;
        if (v.body_set) {
            /* the new body becomes the one the next hook (and the request) sees */
            gw_buf tmp = res->v.body;
            if (v.body.failed) {
                gw_hook_unavailable(res, h, "out of memory");
                break;
            }
            res->v.body = v.body;
            v.body = tmp;
            res->v.body_set = 1;
            rq->body = res->v.body.data != NULL ? res->v.body.data : "";
            rq->body_len = res->v.body.len;
            rq->text_state = 0;
        }
        if (v.headers.len > 0)
            gw_buf_append(&res->v.headers, v.headers.data, v.headers.len);
    }
    gw_verdict_free(&v);
    return res->action == GW_HOOK_BLOCK ? -1 : 0;
}

/* ---- on_response ---- */

struct gw_hook_stream {
    const gw_hook_list *hl;
    const gw_hook_req *rq;
    size_t n;
    void **state;        /* per hook */
    gw_hook_verdict *v;  /* per hook */
    gw_hook_result *res; /* of the unit being passed */
    gw_hook_emit_fn out; /* of the unit being passed */
    void *out_ctx;
    int stopped;
};

/* The hooks after hook i, as an emit function. */
typedef struct gw_hook_chain {
    gw_hook_stream *hs;
    size_t i;
} gw_hook_chain;

static int gw_hook_chain_call(gw_hook_stream *hs, size_t i, const char *data, size_t len);

static int gw_hook_chain_next(void *ctx, const char *data, size_t len)
{
    const gw_hook_chain *c = ctx;
    if (data == NULL)
        return 0;
    if (c->i >= c->hs->n)
        return c->hs->out(c->hs->out_ctx, data, len);
    return gw_hook_chain_call(c->hs, c->i, data, len);
}

/* Hook i gets the unit (data NULL: the end), its output goes to i + 1. */
static int gw_hook_chain_call(gw_hook_stream *hs, size_t i, const char *data, size_t len)
{
    const gw_hook *h = hs->hl->hooks[GW_STAGE_ON_RESPONSE][i];
    gw_hook_chain next = {hs, i + 1};
    gw_hook_verdict *v = &hs->v[i];
    int rc;

    if (hs->stopped)
        return -1;
    gw_verdict_clear(v);
    rc = h->ops->response(h->inst, &h->def, hs->state[i], hs->rq, data, len, gw_hook_chain_next, &next, v);
    if (hs->stopped)
        return -1;
    if (v->action == GW_HOOK_BLOCK) {
        gw_hook_blocked(hs->res, h, v, 1);
        hs->stopped = 1;
        return -1;
    }
    if (rc != 0 && v->message[0] != '\0') { /* the hook failed (not the client going away) */
        gw_hook_verdict u;
        memset(&u, 0, sizeof(u));
        u.status = 502;
        snprintf(u.code, sizeof(u.code), "%s_unavailable", gw_hook_kind_name(h->def.kind));
        snprintf(u.message, sizeof(u.message), "%s '%.128s' failed on the answer: %.300s",
                 gw_hook_kind_name(h->def.kind), h->def.name, v->message);
        gw_hook_blocked(hs->res, h, &u, 1);
        hs->stopped = 1;
    }
    return rc;
}

int gw_hooks_response_begin(const gw_hook_list *hl, const gw_hook_req *rq, gw_hook_stream **out, char err[GW_ERR_LEN])
{
    size_t n = gw_hooks_count(hl, GW_STAGE_ON_RESPONSE);
    gw_hook_stream *hs;

    *out = NULL;
    if (n == 0)
        return 0;
    hs = calloc(1, sizeof(*hs));
    if (hs == NULL)
        return gw_errf(err, "out of memory");
    hs->hl = hl;
    hs->rq = rq;
    hs->n = n;
    hs->state = calloc(n, sizeof(void *));
    hs->v = calloc(n, sizeof(gw_hook_verdict));
    if (hs->state == NULL || hs->v == NULL) {
        gw_hooks_response_free(hs);
        return gw_errf(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const gw_hook *h = hl->hooks[GW_STAGE_ON_RESPONSE][i];
        gw_verdict_init(&hs->v[i]);
        if (h->ops == NULL || h->inst == NULL)
            continue;
        if (h->ops->response_state > 0 && (hs->state[i] = calloc(1, h->ops->response_state)) == NULL) {
            gw_hooks_response_free(hs);
            return gw_errf(err, "out of memory");
        }
    }
    *out = hs;
    return 0;
}

/* 1 (and res says which) when an on_response hook cannot run. */
static int gw_hooks_response_unavailable(gw_hook_stream *hs, gw_hook_result *res)
{
    for (size_t i = 0; i < hs->n; i++) {
        const gw_hook *h = hs->hl->hooks[GW_STAGE_ON_RESPONSE][i];
        if (h->ops == NULL || h->inst == NULL) {
            gw_hook_unavailable(res, h, h->open_error);
            hs->stopped = 1;
            return 1;
        }
    }
    return 0;
}

int gw_hooks_response_unit(gw_hook_stream *hs, const char *data, size_t len, gw_hook_emit_fn emit, void *ectx,
                           gw_hook_result *res)
{
    if (hs == NULL)
        return emit(ectx, data, len);
    if (hs->stopped || gw_hooks_response_unavailable(hs, res))
        return -1;
    hs->res = res;
    hs->out = emit;
    hs->out_ctx = ectx;
    return gw_hook_chain_call(hs, 0, data != NULL ? data : "", len);
}

int gw_hooks_response_end(gw_hook_stream *hs, gw_hook_emit_fn emit, void *ectx, gw_hook_result *res)
{
    if (hs == NULL)
        return 0;
    if (hs->stopped || gw_hooks_response_unavailable(hs, res))
        return -1;
    hs->res = res;
    hs->out = emit;
    hs->out_ctx = ectx;
    for (size_t i = 0; i < hs->n; i++)
        if (gw_hook_chain_call(hs, i, NULL, 0) != 0)
            return -1;
    return 0;
}

void gw_hooks_response_free(gw_hook_stream *hs)
{
    if (hs == NULL)
        return;
    for (size_t i = 0; i < hs->n; i++) {
        const gw_hook *h = hs->hl->hooks[GW_STAGE_ON_RESPONSE][i];
        if (hs->state != NULL && hs->state[i] != NULL) {
            if (h->ops != NULL && h->ops->response_free != NULL)
                h->ops->response_free(h->inst, hs->state[i]);
            free(hs->state[i]);
        }
        if (hs->v != NULL)
            gw_verdict_free(&hs->v[i]);
    }
    free(hs->state);
    free(hs->v);
    free(hs);
}
