/*
 * src/pipeline/filter_hook.c: the built-in filters as hooks (see
 * filter_hook.h). An instance is a compiled gw_filter (immutable, shared by
 * every request); the per-request state of on_response is a
 * gw_fh_state.
 */
#include "pipeline/filter_hook.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/filter.h"

/* A failure of the filter itself (not the client going away): v says so. */
static int gw_fh_oom(gw_hook_verdict *v)
{
    snprintf(v->message, sizeof(v->message), "out of memory");
    return -1;
}

/* pii found where the filter blocks: stop the answer. */
static int gw_fh_pii_block(const gw_filter *f, gw_hook_verdict *v)
{
    v->action = GW_HOOK_BLOCK;
    snprintf(v->message, sizeof(v->message), "%s", gw_filter_message(f));
    return 0;
}

/* ---- requests ---- */

static int gw_fh_open(const gw_hook_def *def, void **inst, char err[GW_ERR_LEN])
{
    gw_filter *f = NULL;
    if (gw_filter_compile(def->type, def->config_json, &f, err) != 0)
        return -1;
    *inst = f;
    return 0;
}

static void gw_fh_close(void *inst)
{
    gw_filter_free(inst);
}

static void gw_fh_block(gw_hook_verdict *v, const gw_filter_outcome *o)
{
    v->action = GW_HOOK_BLOCK;
    v->status = o->status;
    snprintf(v->code, sizeof(v->code), "%s", o->code);
    snprintf(v->message, sizeof(v->message), "%s", o->message);
}

static int gw_fh_request(void *inst, const gw_hook_def *def, gw_hook_req *rq, gw_hook_verdict *v)
{
    const gw_filter *f = inst;
    gw_filter_outcome o;
    gw_text *t;
    char err[GW_ERR_LEN];
    int rc = 0;

    if (rq->dialect == GW_DIALECT_NONE)
        return 0;
    t = gw_hook_req_text(rq, err);
    if (t == NULL) {
        v->action = GW_HOOK_BLOCK;
        v->status = 400;
        snprintf(v->code, sizeof(v->code), "invalid_request");
        snprintf(v->message, sizeof(v->message), "filter '%s' cannot read the prompt: the body is not valid JSON (%s)",
                 def->name, err);
        return 0;
    }
    gw_filter_outcome_init(&o);
    if (gw_filter_check(f, t, 0, &o) != 0) {
        snprintf(v->message, sizeof(v->message), "out of memory");
        rc = -1;
    } else if (o.action == GW_HOOK_BLOCK) {
        gw_fh_block(v, &o);
    } else if (o.action == GW_HOOK_MODIFY && gw_text_changed(t)) {
        if (gw_text_write(t, &v->body) != 0) {
            snprintf(v->message, sizeof(v->message), "out of memory");
            rc = -1;
        } else {
            v->action = GW_HOOK_MODIFY;
            v->body_set = 1;
        }
    }
    gw_filter_outcome_free(&o);
    return rc;
}

/* ---- on_response ---- */

typedef struct gw_fh_chan {
    int used;
    int id;
    gw_pii_stream ps; /* pii: the held text */
    gw_buf tmpl;      /* pii: the channel's last text unit */
    gw_buf window;    /* regex, keywords: the end of the channel's text so far */
} gw_fh_chan;

typedef struct gw_fh_state {
    int ready;
    gw_text t, t2;
    gw_buf out, scratch, unit;
    gw_fh_chan ch[GW_FILTER_CHANNELS];
} gw_fh_state;

static void gw_fh_state_init(gw_fh_state *s)
{
    gw_text_init(&s->t);
    gw_text_init(&s->t2);
    gw_buf_init(&s->out, 0);
    gw_buf_init(&s->scratch, 0);
    gw_buf_init(&s->unit, 0);
    for (int i = 0; i < GW_FILTER_CHANNELS; i++) {
        gw_pii_stream_init(&s->ch[i].ps);
        gw_buf_init(&s->ch[i].tmpl, 0);
        gw_buf_init(&s->ch[i].window, 0);
    }
    s->ready = 1;
}

static void gw_fh_response_free(void *inst, void *state)
{
    gw_fh_state *s = state;
    (void)inst;
    if (!s->ready)
        return;
    gw_text_free(&s->t);
    gw_text_free(&s->t2);
    gw_buf_free(&s->out);
    gw_buf_free(&s->scratch);
    gw_buf_free(&s->unit);
    for (int i = 0; i < GW_FILTER_CHANNELS; i++) {
        gw_pii_stream_free(&s->ch[i].ps);
        gw_buf_free(&s->ch[i].tmpl);
        gw_buf_free(&s->ch[i].window);
    }
}

/* The slot of a channel (the last slot is shared beyond GW_FILTER_CHANNELS). */
static gw_fh_chan *gw_fh_chan_of(gw_fh_state *s, int id)
{
    for (int i = 0; i < GW_FILTER_CHANNELS; i++) {
        if (s->ch[i].used && s->ch[i].id == id)
            return &s->ch[i];
        if (!s->ch[i].used) {
            s->ch[i].used = 1;
            s->ch[i].id = id;
            return &s->ch[i];
        }
    }
    return &s->ch[GW_FILTER_CHANNELS - 1];
}

/* The held text of channel c, in a copy of its last text unit, to emit. */
static int gw_fh_flush_chan(const gw_filter *f, gw_fh_state *s, const gw_hook_req *rq, gw_fh_chan *c,
                            gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    char err[GW_ERR_LEN];
    size_t count = 0;

    if (gw_pii_stream_held(&c->ps) == 0)
        return 0;
    gw_buf_reset(&s->out);
    if (gw_pii_stream_feed(&c->ps, gw_filter_pii(f), NULL, 0, 1, &s->out, &count) != 0)
        return gw_fh_oom(v);
    if (count > 0 && gw_filter_pii_blocks(f))
        return gw_fh_pii_block(f, v);
    if (c->tmpl.len == 0 || gw_text_unit(&s->t2, rq->answer_dialect, rq->answer_mode, c->tmpl.data, c->tmpl.len, err) != 0)
        return 0; /* no unit to carry it: nothing was ever sent on this channel */
    for (size_t i = 0; i < s->t2.n; i++) {
        const gw_text_part *p = &s->t2.parts[i];
        int mine = p->channel == c->id && !p->whole;
        if (gw_text_replace(&s->t2, i, mine ? s->out.data : "", mine ? s->out.len : 0) != 0)
            return gw_fh_oom(v);
    }
    gw_buf_reset(&s->scratch);
    if (gw_text_write(&s->t2, &s->scratch) != 0)
        return gw_fh_oom(v);
    return emit(ectx, s->scratch.data, s->scratch.len);
}

static int gw_fh_flush_all(const gw_filter *f, gw_fh_state *s, const gw_hook_req *rq, gw_hook_emit_fn emit, void *ectx,
                           gw_hook_verdict *v)
{
    for (int i = 0; i < GW_FILTER_CHANNELS; i++)
        if (s->ch[i].used && (gw_fh_flush_chan(f, s, rq, &s->ch[i], emit, ectx, v) != 0 || v->action == GW_HOOK_BLOCK))
            return v->action == GW_HOOK_BLOCK ? 0 : -1;
    return 0;
}

/* pii on one stream unit (parsed in s->t). */
static int gw_fh_pii_unit(const gw_filter *f, gw_fh_state *s, const gw_hook_req *rq, const char *data, size_t len,
                          gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    gw_text *t = &s->t;

    if (t->n == 0) {
        if ((t->end || t->done_marker) && (gw_fh_flush_all(f, s, rq, emit, ectx, v) != 0 || v->action == GW_HOOK_BLOCK))
            return v->action == GW_HOOK_BLOCK ? 0 : -1;
        return emit(ectx, data, len);
    }
    for (size_t i = 0; i < t->n; i++) {
        const gw_text_part *p = &t->parts[i];
        size_t count = 0;
        gw_buf_reset(&s->out);
        if (p->whole) {
            if (gw_pii_redact(gw_filter_pii(f), gw_text_str(t, p), p->len, &s->out, &count, NULL, 0) != 0)
                return gw_fh_oom(v);
        } else {
            gw_fh_chan *c = gw_fh_chan_of(s, p->channel);
            if (gw_pii_stream_feed(&c->ps, gw_filter_pii(f), gw_text_str(t, p), p->len, t->end, &s->out, &count) != 0)
                return gw_fh_oom(v);
            if (!t->opens) {
                gw_buf_reset(&c->tmpl);
                if (gw_buf_append(&c->tmpl, data, len) != 0)
                    return gw_fh_oom(v);
            }
        }
        if (count > 0 && gw_filter_pii_blocks(f))
            return gw_fh_pii_block(f, v);
        if ((s->out.len != p->len || memcmp(s->out.data != NULL ? s->out.data : "", gw_text_str(t, p), p->len) != 0) &&
            gw_text_replace(t, i, s->out.data != NULL ? s->out.data : "", s->out.len) != 0)
            return gw_fh_oom(v);
    }
    if (!gw_text_changed(t))
        return emit(ectx, data, len);
    gw_buf_reset(&s->unit);
    if (gw_text_write(t, &s->unit) != 0)
        return gw_fh_oom(v);
    return emit(ectx, s->unit.data, s->unit.len);
}

/* regex / keywords on one stream unit: each part with the window before it. */
static int gw_fh_find_unit(const gw_filter *f, gw_fh_state *s, gw_filter_outcome *o)
{
    gw_text *t = &s->t;
    for (size_t i = 0; i < t->n; i++) {
        const gw_text_part *p = &t->parts[i];
        gw_fh_chan *c = p->whole ? NULL : gw_fh_chan_of(s, p->channel);
        gw_buf_reset(&s->scratch);
        if (c != NULL)
            gw_buf_append(&s->scratch, c->window.data, c->window.len);
        gw_buf_append(&s->scratch, gw_text_str(t, p), p->len);
        if (s->scratch.failed)
            return -1;
        if (gw_filter_find(f, s->scratch.data != NULL ? s->scratch.data : "", s->scratch.len, o))
            return 1;
        if (c != NULL) {
            size_t keep = s->scratch.len > GW_FILTER_WINDOW ? GW_FILTER_WINDOW : s->scratch.len;
            gw_buf_reset(&c->window);
            gw_buf_append(&c->window, s->scratch.data + s->scratch.len - keep, keep);
        }
    }
    return 0;
}

static int gw_fh_response(void *inst, const gw_hook_def *def, void *state, const gw_hook_req *rq, const char *data,
                          size_t len, gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    const gw_filter *f = inst;
    gw_fh_state *s = state;
    gw_filter_type type = gw_filter_type_of(f);
    int whole = rq->answer_mode == GW_PROC_JSON || rq->answer_mode == GW_PROC_AI_JSON;
    gw_filter_outcome o;
    char err[GW_ERR_LEN];
    int rc = 0;

    (void)def;
    if (!s->ready)
        gw_fh_state_init(s);
    if (data == NULL) /* the end: what pii still holds */
        return type == GW_FILTER_PII ? gw_fh_flush_all(f, s, rq, emit, ectx, v) : 0;
    if (rq->answer_dialect == GW_DIALECT_NONE || type == GW_FILTER_MAX_PROMPT ||
        gw_text_unit(&s->t, rq->answer_dialect, rq->answer_mode, data, len, err) != 0)
        return emit(ectx, data, len); /* no text this filter can read */
    if (type == GW_FILTER_PII && !whole)
        return gw_fh_pii_unit(f, s, rq, data, len, emit, ectx, v);
    gw_filter_outcome_init(&o);
    if (whole)
        rc = gw_filter_check(f, &s->t, 1, &o);
    else if (gw_fh_find_unit(f, s, &o) < 0)
        rc = -1;
    if (rc != 0) {
        snprintf(v->message, sizeof(v->message), "out of memory");
    } else if (o.action == GW_HOOK_BLOCK) {
        gw_fh_block(v, &o);
        v->status = 502;
    } else if (o.action == GW_HOOK_MODIFY && gw_text_changed(&s->t)) {
        gw_buf_reset(&s->unit);
        rc = gw_text_write(&s->t, &s->unit) != 0 ? -1 : emit(ectx, s->unit.data, s->unit.len);
    } else {
        rc = emit(ectx, data, len);
    }
    gw_filter_outcome_free(&o);
    return rc;
}

const gw_hook_ops gw_filter_hook_ops = {
    .name = "filter",
    .open = gw_fh_open,
    .close = gw_fh_close,
    .request = gw_fh_request,
    .response_state = sizeof(gw_fh_state),
    .response = gw_fh_response,
    .response_free = gw_fh_response_free,
};
