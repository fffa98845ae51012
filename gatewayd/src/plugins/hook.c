/*
 * src/plugins/hook.c: the plugin kind of the pipeline's hooks (see hook.h):
 * a request or answer turned into PluginService calls through the host,
 * and what the plugin answered turned into the hook's verdict.
 *
 * The host is set once by gw_plugin_hooks_register before any listener
 * starts and only read afterwards. A hook instance (one per attached
 * plugin and snapshot) holds the plugin's id and name, and the time of its
 * last fail-open warning (atomic: many workers run it at once). The
 * on_response state belongs to one request.
 */
#include "plugins/hook.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "pipeline/text.h"

#define GW_PH_WARN_EVERY_MS 10000
#define GW_PH_MAX_HEADERS 128

static gw_plugin_host *gw_ph_host;

typedef struct gw_ph_inst {
    int64_t id;
    char name[128];
    atomic_llong last_warn_ms;
} gw_ph_inst;

/* ---- the request as the plugin sees it ---- */

static const char *gw_ph_route(const gw_hook_req *rq)
{
    if (rq->chat)
        return "chat";
    switch (rq->route) {
    case GW_ROUTE_REST:
        return "rest";
    case GW_ROUTE_STREAM:
        return "stream";
    case GW_ROUTE_CALL:
        return "call";
    case GW_ROUTE_AI:
        return "ai";
    }
    return "";
}

static int gw_ph_streamed(gw_proc_mode m)
{
    return m == GW_PROC_SSE || m == GW_PROC_NDJSON || m == GW_PROC_JSON_ARRAY || m == GW_PROC_AI_SSE;
}

static void gw_ph_context(const gw_hook_req *rq, Aistudio__V1__Hook hook, int on_response,
                          Aistudio__V1__RequestContext *c)
{
    aistudio__v1__request_context__init(c);
    c->request_id = (char *)(rq->request_id != NULL ? rq->request_id : "");
    c->hook = hook;
    c->route = (char *)gw_ph_route(rq);
    if (rq->llm != NULL) {
        c->llm_id = rq->llm->id;
        c->llm_slug = (char *)rq->llm->slug;
        c->namespace_ = (char *)(rq->llm->namespace_ != NULL ? rq->llm->namespace_ : "");
    }
    c->vendor = (char *)(rq->vendor != NULL && rq->vendor->name != NULL ? rq->vendor->name : "");
    c->dialect = (char *)gw_dialect_name(on_response ? rq->answer_dialect : rq->dialect);
    c->model = (char *)(rq->model != NULL ? rq->model : "");
    c->app_id = rq->app_id;
    c->user_id = rq->user_id;
    c->streaming = on_response && gw_ph_streamed(rq->answer_mode);
}

/* The headers a plugin may see: no credential, except Authorization for an auth plugin. */
static size_t gw_ph_headers(const gw_hook_req *rq, Aistudio__V1__Header *store, Aistudio__V1__Header **out)
{
    size_t n = 0;
    for (size_t i = 0; i < rq->nheaders && n < GW_PH_MAX_HEADERS; i++) {
        const char *name = rq->headers[i].name;
        if (name == NULL || rq->headers[i].value == NULL)
            continue;
        if (gw_log_header_is_secret(name) &&
            !(rq->stage == GW_STAGE_AUTH && strcasecmp(name, "authorization") == 0))
            continue;
        aistudio__v1__header__init(&store[n]);
        store[n].name = (char *)name;
        store[n].value = (char *)rq->headers[i].value;
        out[n] = &store[n];
        n++;
    }
    return n;
}

/* The texts of t as TextParts (stores of t->n entries). */
static void gw_ph_texts(const gw_text *t, Aistudio__V1__TextPart *store, Aistudio__V1__TextPart **out)
{
    for (size_t i = 0; i < t->n; i++) {
        aistudio__v1__text_part__init(&store[i]);
        store[i].role = (char *)t->parts[i].role;
        store[i].text = (char *)gw_text_str(t, &t->parts[i]);
        out[i] = &store[i];
    }
}

/* ---- what the plugin answered ---- */

/* The caller (auth) and the upstream override into v. */
static void gw_ph_context_updates(const Aistudio__V1__HookResult *r, gw_hook_verdict *v)
{
    v->app_id = r->app_id;
    v->user_id = r->user_id;
    v->upstream[0] = '\0';
    if (r->context_updates != NULL)
        snprintf(v->upstream, sizeof(v->upstream), "%s", r->context_updates->upstream_override);
}

static void gw_ph_block(const Aistudio__V1__HookResult *r, int default_status, gw_hook_verdict *v)
{
    v->action = GW_HOOK_BLOCK;
    v->status = r->status != 0 ? r->status : default_status;
    snprintf(v->code, sizeof(v->code), "%s", r->error_code);
    snprintf(v->message, sizeof(v->message), "%s", r->error_message);
}

/* replace_texts: the texts written back into t, then t into v->body. */
static int gw_ph_write_texts(gw_text *t, char *const *texts, size_t n, gw_hook_verdict *v)
{
    for (size_t i = 0; i < n && i < t->n; i++) {
        const gw_text_part *p = &t->parts[i];
        size_t len = strlen(texts[i]);
        if ((len != p->len || memcmp(texts[i], gw_text_str(t, p), len) != 0) &&
            gw_text_replace(t, i, texts[i], len) != 0)
            return -1;
    }
    if (!gw_text_changed(t))
        return 0;
    gw_buf_reset(&v->body);
    if (gw_text_write(t, &v->body) != 0 || v->body.failed)
        return -1;
    v->body_set = 1;
    v->action = GW_HOOK_MODIFY;
    return 0;
}

/* A plugin that cannot answer: 0 and CONTINUE when the attachment is
 * fail_open (with a warning now and then), else -1 with v's message. */
static int gw_ph_failed(gw_ph_inst *in, const gw_hook_def *def, const char *why, gw_hook_verdict *v)
{
    if (def->fail_open) {
        int64_t now = gw_now_ms(), last = atomic_load(&in->last_warn_ms);
        if (now - last >= GW_PH_WARN_EVERY_MS && atomic_compare_exchange_strong(&in->last_warn_ms, &last, now))
            gw_log_warn("plugin %s: %s; requests go on without it (fail_open)", in->name, why);
        v->action = GW_HOOK_CONTINUE;
        return 0;
    }
    snprintf(v->message, sizeof(v->message), "%s", why);
    return -1;
}

/* ---- the operations ---- */

static int gw_ph_open(const gw_hook_def *def, void **inst, char err[GW_ERR_LEN])
{
    gw_ph_inst *in;
    if (gw_ph_host == NULL)
        return gw_errf(err, "no plugin host in this gateway");
    in = calloc(1, sizeof(*in));
    if (in == NULL)
        return gw_errf(err, "out of memory");
    in->id = def->id;
    snprintf(in->name, sizeof(in->name), "%s", def->name != NULL ? def->name : "?");
    atomic_init(&in->last_warn_ms, 0);
    *inst = in;
    return 0;
}

static void gw_ph_close(void *inst)
{
    free(inst);
}

static int gw_ph_request(void *inst, const gw_hook_def *def, gw_hook_req *rq, gw_hook_verdict *v)
{
    gw_ph_inst *in = inst;
    Aistudio__V1__RequestHookCall call = AISTUDIO__V1__REQUEST_HOOK_CALL__INIT;
    Aistudio__V1__RequestContext ctx;
    Aistudio__V1__Header hstore[GW_PH_MAX_HEADERS], *hptr[GW_PH_MAX_HEADERS];
    Aistudio__V1__TextPart *tstore = NULL, **tptr = NULL;
    Aistudio__V1__HookResult *r = NULL;
    char why[GW_HOOK_MSG_MAX], err[GW_ERR_LEN];
    gw_text *t;
    int rc = 0;

    gw_plugin_conn *c = gw_plugin_host_acquire(gw_ph_host, in->id, why);
    if (c == NULL)
        return gw_ph_failed(in, def, why, v);
    gw_ph_context(rq, (Aistudio__V1__Hook)(rq->stage + 1), 0, &ctx);
    call.context = &ctx;
    call.method = (char *)(rq->method != NULL ? rq->method : "");
    call.path = (char *)(rq->path != NULL ? rq->path : "");
    call.n_headers = gw_ph_headers(rq, hstore, hptr);
    call.headers = hptr;
    call.body.data = (uint8_t *)rq->body;
    call.body.len = rq->body_len;
    t = gw_hook_req_text(rq, err); /* NULL: no text this gateway reads in the body */
    if (t != NULL && t->n > 0) {
        tstore = calloc(t->n, sizeof(*tstore));
        tptr = calloc(t->n, sizeof(*tptr));
        if (tstore == NULL || tptr == NULL) {
            free(tstore), free(tptr);
            gw_plugin_conn_release(c);
            snprintf(v->message, sizeof(v->message), "out of memory");
            return -1;
        }
        gw_ph_texts(t, tstore, tptr);
        call.texts = tptr;
        call.n_texts = t->n;
    }
    if (gw_plugin_call_request(c, &call, &r, err) != 0) {
        snprintf(why, sizeof(why), "plugin %.120s %.300s", in->name, err);
        rc = gw_ph_failed(in, def, why, v);
        goto out;
    }
    if (r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK) {
        gw_ph_block(r, 403, v);
        goto out;
    }
    gw_ph_context_updates(r, v);
    if (r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY) {
        if (r->replace_body) {
            gw_buf_reset(&v->body);
            gw_buf_append(&v->body, r->body.data, r->body.len);
            v->body_set = 1;
            v->action = GW_HOOK_MODIFY;
        } else if (r->replace_texts && t != NULL && gw_ph_write_texts(t, r->texts, r->n_texts, v) != 0) {
            snprintf(v->message, sizeof(v->message), "out of memory");
            rc = -1;
            goto out;
        }
        for (size_t i = 0; i < r->n_set_headers; i++) {
            gw_buf_printf(&v->headers, "%s: %s", r->set_headers[i]->name, r->set_headers[i]->value);
            gw_buf_append(&v->headers, "", 1);
            v->action = GW_HOOK_MODIFY;
        }
        if (v->body.failed || v->headers.failed) {
            snprintf(v->message, sizeof(v->message), "out of memory");
            rc = -1;
        }
    }
out:
    if (r != NULL)
        aistudio__v1__hook_result__free_unpacked(r, NULL);
    free(tstore);
    free(tptr);
    gw_plugin_conn_release(c);
    return rc;
}

/* ---- on_response ---- */

typedef struct gw_ph_rstate {
    int ready;
    int pass;  /* the plugin is out of this answer (no streams, or failed with fail_open) */
    int ended; /* the end chunk was sent */
    unsigned index;
    gw_plugin_conn *conn;
    gw_plugin_stream *stream;
    gw_text t;
    gw_buf join, unit, tmpl;
} gw_ph_rstate;

static void gw_ph_rstate_init(gw_ph_rstate *s)
{
    memset(s, 0, sizeof(*s));
    gw_text_init(&s->t);
    gw_buf_init(&s->join, 0);
    gw_buf_init(&s->unit, 0);
    gw_buf_init(&s->tmpl, 0);
    s->ready = 1;
}

static void gw_ph_response_free(void *inst, void *state)
{
    gw_ph_rstate *s = state;
    (void)inst;
    if (!s->ready)
        return;
    gw_plugin_stream_close(s->stream);
    gw_plugin_conn_release(s->conn);
    gw_text_free(&s->t);
    gw_buf_free(&s->join);
    gw_buf_free(&s->unit);
    gw_buf_free(&s->tmpl);
    s->ready = 0;
}

/* A whole JSON answer: one HandleResponse call. */
static int gw_ph_response_json(gw_ph_inst *in, const gw_hook_def *def, gw_ph_rstate *s, const gw_hook_req *rq,
                               const char *data, size_t len, gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    Aistudio__V1__ResponseHookCall call = AISTUDIO__V1__RESPONSE_HOOK_CALL__INIT;
    Aistudio__V1__RequestContext ctx;
    Aistudio__V1__TextPart *tstore = NULL, **tptr = NULL;
    Aistudio__V1__HookResult *r = NULL;
    char err[GW_ERR_LEN], why[GW_HOOK_MSG_MAX];
    int rc;

    if (rq->answer_dialect == GW_DIALECT_NONE ||
        gw_text_answer(&s->t, rq->answer_dialect, data, len, err) != 0)
        gw_text_reset(&s->t);
    gw_ph_context(rq, AISTUDIO__V1__HOOK__HOOK_ON_RESPONSE, 1, &ctx);
    call.context = &ctx;
    call.body.data = (uint8_t *)data;
    call.body.len = len;
    if (s->t.n > 0) {
        tstore = calloc(s->t.n, sizeof(*tstore));
        tptr = calloc(s->t.n, sizeof(*tptr));
        if (tstore == NULL || tptr == NULL) {
            free(tstore), free(tptr);
            snprintf(v->message, sizeof(v->message), "out of memory");
            return -1;
        }
        gw_ph_texts(&s->t, tstore, tptr);
        call.texts = tptr;
        call.n_texts = s->t.n;
    }
    rc = gw_plugin_call_response(s->conn, &call, &r, err);
    free(tstore);
    free(tptr);
    if (rc != 0) {
        snprintf(why, sizeof(why), "plugin %.120s %.300s", in->name, err);
        return gw_ph_failed(in, def, why, v) == 0 ? emit(ectx, data, len) : -1;
    }
    if (r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK) {
        gw_ph_block(r, 0, v);
        rc = 0;
    } else if (r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->replace_body) {
        rc = emit(ectx, (const char *)r->body.data, r->body.len);
    } else if (r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->replace_texts) {
        gw_hook_verdict tmp;
        memset(&tmp, 0, sizeof(tmp));
        gw_buf_init(&tmp.body, 0);
        if (gw_ph_write_texts(&s->t, r->texts, r->n_texts, &tmp) != 0) {
            snprintf(v->message, sizeof(v->message), "out of memory");
            rc = -1;
        } else
            rc = tmp.body_set ? emit(ectx, tmp.body.data, tmp.body.len) : emit(ectx, data, len);
        gw_buf_free(&tmp.body);
    } else {
        rc = emit(ectx, data, len);
    }
    aistudio__v1__hook_result__free_unpacked(r, NULL);
    return rc;
}

/* The non-whole text parts of s->t joined into s->join; 1 when there is one. */
static int gw_ph_join(gw_ph_rstate *s)
{
    int any = 0;
    gw_buf_reset(&s->join);
    for (size_t i = 0; i < s->t.n; i++)
        if (!s->t.parts[i].whole) {
            gw_buf_append(&s->join, gw_text_str(&s->t, &s->t.parts[i]), s->t.parts[i].len);
            any = 1;
        }
    gw_buf_append(&s->join, "", 1); /* NUL, not counted below */
    if (s->join.len > 0)
        s->join.len--;
    return any;
}

/* The unit in s->t with its text replaced by text (the first non-whole
 * part; the others emptied), into s->unit. */
static int gw_ph_rewrite(gw_ph_rstate *s, const char *text)
{
    int first = 1;
    for (size_t i = 0; i < s->t.n; i++) {
        if (s->t.parts[i].whole)
            continue;
        if (gw_text_replace(&s->t, i, first ? text : "", first ? strlen(text) : 0) != 0)
            return -1;
        first = 0;
    }
    gw_buf_reset(&s->unit);
    return gw_text_write(&s->t, &s->unit) == 0 && !s->unit.failed ? 0 : -1;
}

/* Sends one chunk; 0 with *out, or -1 (fail-open passes: s->pass). */
static int gw_ph_chunk(gw_ph_inst *in, const gw_hook_def *def, gw_ph_rstate *s, const gw_hook_req *rq,
                       const char *data, size_t len, const char *text, int end, Aistudio__V1__ChunkResult **out,
                       gw_hook_verdict *v)
{
    Aistudio__V1__ResponseChunk ch = AISTUDIO__V1__RESPONSE_CHUNK__INIT;
    Aistudio__V1__RequestContext ctx;
    char err[GW_ERR_LEN], why[GW_HOOK_MSG_MAX];

    if (s->stream == NULL && (s->stream = gw_plugin_stream_open(s->conn, err)) == NULL) {
        snprintf(why, sizeof(why), "plugin %.120s %.300s", in->name, err);
        if (gw_ph_failed(in, def, why, v) == 0)
            s->pass = 1;
        return -1;
    }
    if (s->index == 0) {
        gw_ph_context(rq, AISTUDIO__V1__HOOK__HOOK_ON_RESPONSE, 1, &ctx);
        ch.context = &ctx;
    }
    ch.index = s->index++;
    ch.data.data = (uint8_t *)data;
    ch.data.len = len;
    ch.text = (char *)text;
    ch.end = end;
    if (end)
        s->ended = 1;
    if (gw_plugin_stream_chunk(s->stream, &ch, out, err) != 0) {
        snprintf(why, sizeof(why), "plugin %.120s %.300s", in->name, err);
        if (gw_ph_failed(in, def, why, v) == 0)
            s->pass = 1;
        return -1;
    }
    return 0;
}

/* What a chunk's result makes of the unit (in s->t, bytes data). */
static int gw_ph_apply_chunk(gw_ph_rstate *s, const Aistudio__V1__ChunkResult *r, const char *data, size_t len,
                             gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    if (r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK) {
        v->action = GW_HOOK_BLOCK;
        snprintf(v->code, sizeof(v->code), "%s", r->error_code);
        snprintf(v->message, sizeof(v->message), "%s", r->error_message);
        return 0;
    }
    if (r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->replace_data)
        return r->data.len > 0 ? emit(ectx, (const char *)r->data.data, r->data.len) : 0;
    if (r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->replace_text) {
        if (gw_ph_rewrite(s, r->text) != 0) {
            snprintf(v->message, sizeof(v->message), "out of memory");
            return -1;
        }
        return emit(ectx, s->unit.data, s->unit.len);
    }
    return emit(ectx, data, len);
}

/* The end of the answer at a unit without text: the plugin's last text as
 * a copy of the last text unit, then the unit (NULL at the very end). */
static int gw_ph_end(gw_ph_inst *in, const gw_hook_def *def, gw_ph_rstate *s, const gw_hook_req *rq,
                     const char *data, size_t len, gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    Aistudio__V1__ChunkResult *r = NULL;
    char err[GW_ERR_LEN];
    int rc = 0;
    if (gw_ph_chunk(in, def, s, rq, NULL, 0, "", 1, &r, v) != 0)
        return s->pass ? (data != NULL ? emit(ectx, data, len) : 0) : -1;
    if (r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK) {
        rc = gw_ph_apply_chunk(s, r, NULL, 0, emit, ectx, v);
    } else if (r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->replace_text && r->text[0] != '\0' &&
               s->tmpl.len > 0 &&
               gw_text_unit(&s->t, rq->answer_dialect, rq->answer_mode, s->tmpl.data, s->tmpl.len, err) == 0) {
        if (gw_ph_rewrite(s, r->text) != 0) {
            snprintf(v->message, sizeof(v->message), "out of memory");
            rc = -1;
        } else
            rc = emit(ectx, s->unit.data, s->unit.len);
    }
    if (rc == 0 && v->action != GW_HOOK_BLOCK && data != NULL)
        rc = emit(ectx, data, len);
    aistudio__v1__chunk_result__free_unpacked(r, NULL);
    return rc;
}

static int gw_ph_response(void *inst, const gw_hook_def *def, void *state, const gw_hook_req *rq, const char *data,
                          size_t len, gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    gw_ph_inst *in = inst;
    gw_ph_rstate *s = state;
    Aistudio__V1__ChunkResult *r = NULL;
    char why[GW_HOOK_MSG_MAX], err[GW_ERR_LEN];
    int rc;

    if (!s->ready) {
        gw_ph_rstate_init(s);
        s->conn = gw_plugin_host_acquire(gw_ph_host, in->id, why);
        if (s->conn == NULL) {
            if (gw_ph_failed(in, def, why, v) != 0)
                return -1;
            s->pass = 1;
        } else if (gw_ph_streamed(rq->answer_mode) && !gw_plugin_conn_streams(s->conn))
            s->pass = 1; /* the plugin reads JSON answers only */
    }
    if (data == NULL) /* the end of the answer */
        return s->pass || s->ended || s->stream == NULL ? 0 : gw_ph_end(in, def, s, rq, NULL, 0, emit, ectx, v);
    if (s->pass)
        return emit(ectx, data, len);
    if (!gw_ph_streamed(rq->answer_mode))
        return gw_ph_response_json(in, def, s, rq, data, len, emit, ectx, v);
    if (s->ended)
        return emit(ectx, data, len);

    if (rq->answer_dialect == GW_DIALECT_NONE ||
        gw_text_unit(&s->t, rq->answer_dialect, rq->answer_mode, data, len, err) != 0)
        gw_text_reset(&s->t);
    int ends = s->t.end || s->t.done_marker;
    if (!gw_ph_join(s))
        return ends ? gw_ph_end(in, def, s, rq, data, len, emit, ectx, v) : emit(ectx, data, len);
    gw_buf_reset(&s->tmpl);
    gw_buf_append(&s->tmpl, data, len);
    if (gw_ph_chunk(in, def, s, rq, data, len, s->join.data, ends, &r, v) != 0)
        return s->pass ? emit(ectx, data, len) : -1;
    rc = gw_ph_apply_chunk(s, r, data, len, emit, ectx, v);
    aistudio__v1__chunk_result__free_unpacked(r, NULL);
    return rc;
}

static const gw_hook_ops gw_plugin_hook_ops = {
    .name = "plugin",
    .open = gw_ph_open,
    .close = gw_ph_close,
    .request = gw_ph_request,
    .response_state = sizeof(gw_ph_rstate),
    .response = gw_ph_response,
    .response_free = gw_ph_response_free,
};

int gw_plugin_hooks_register(gw_plugin_host *host, char err[GW_ERR_LEN])
{
    gw_ph_host = host;
    return gw_hooks_register(GW_HOOK_PLUGIN, &gw_plugin_hook_ops, err);
}

void gw_plugin_host_apply(void *host, gw_snapshot *s)
{
    size_t total = gw_snapshot_plugin_count(s), k = 0;
    gw_plugin_spec *v = calloc(total + 1, sizeof(*v));
    if (v == NULL) {
        gw_log_error("plugins: out of memory applying the configuration: plugins left as they were");
        return;
    }
    for (size_t i = 0; i < total; i++) {
        const gw_plugin_def *p = gw_snapshot_plugin_at(s, i);
        if (p == NULL || !p->active)
            continue;
        v[k].id = p->id;
        v[k].name = p->name;
        v[k].hook = p->hook;
        v[k].command = p->command;
        v[k].config_json = p->config_json;
        k++;
    }
    gw_plugin_host_sync(host, v, k);
    free(v);
}
