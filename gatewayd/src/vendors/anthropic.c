/*
 * src/vendors/anthropic.c: the Anthropic Messages API: pass-through
 * preparation (model, stream, max_tokens), usage (input_tokens,
 * output_tokens, cache_creation_input_tokens → cache write,
 * cache_read_input_tokens → cache read; in a stream message_start carries
 * the input and cache counts and message_delta the CUMULATIVE output count,
 * so the last value wins, never a sum), the end marker (message_stop), the
 * `event: error` of a stream, and the translation of both the JSON answer
 * and the stream into OpenAI chat.completion(.chunk) for /ai.
 */
#include <string.h>

#include "vendors/registry.h"

static int gw_anthropic_prepare(gw_prep *pp, int *status, char err[GW_ERR_LEN])
{
    gw_upstream_req *out = pp->out;
    gw_json_field f[] = {{"model", {0}}, {"stream", {0}}, {"max_tokens", {0}}, {"messages", {0}}, {"system", {0}}};
    int stream = 0;
    int64_t mt;

    out->proc_mode = GW_PROC_JSON;
    if (!pp->json)
        return 0;
    if (gw_prep_scan(pp, f, sizeof(f) / sizeof(f[0]), &stream, status, err) != 0)
        return -1;
    if (gw_json_get_int64(&f[2].value, &mt) == 0 && mt >= 0)
        out->max_tokens = mt;
    if (f[3].value.type != GW_JSON_ABSENT)
        out->prompt_bytes = f[3].value.len + f[4].value.len;
    if (!gw_prep_path_ends(pp->path, "/messages"))
        return 0;
    return gw_prep_stream(pp, stream, GW_PROC_SSE, status, err);
}

/* Takes the counts present in a usage object (each is a running total). */
static void gw_anthropic_usage(gw_stream_proc *p, const gw_json_value *u)
{
    int64_t v;

    if (u == NULL || u->type != GW_JSON_OBJECT)
        return;
    p->usage.seen = 1;
    if (gw_vj_int(u, "input_tokens", &v) == 0)
        p->usage.prompt_tokens = v;
    if (gw_vj_int(u, "output_tokens", &v) == 0)
        p->usage.response_tokens = v;
    if (gw_vj_int(u, "cache_creation_input_tokens", &v) == 0)
        p->usage.cache_write_tokens = v;
    if (gw_vj_int(u, "cache_read_input_tokens", &v) == 0)
        p->usage.cache_read_tokens = v;
}

static void gw_anthropic_error(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value m;

    if (gw_vj_path(root, "error.message", &m))
        gw_proc_upstream_error(p, &m);
    else
        gw_proc_upstream_error(p, NULL);
}

/* /ai: one event of the stream as OpenAI chunks. */
static int gw_anthropic_ai_event(gw_stream_proc *p, const gw_json_value *root, const char *kind)
{
    gw_json_value v, b, d;
    int64_t idx = -1;

    if (strcmp(kind, "message_start") == 0)
        return gw_ai_delta(p, NULL, 0);
    if (strcmp(kind, "content_block_start") == 0 && gw_vj_get(root, "content_block", &b)) {
        gw_vj_int(root, "index", &idx);
        p->ai_block = (int)idx;
        p->ai_block_tool = -1;
        if (gw_vj_get(&b, "type", &v) && gw_vj_str_is(&v, "tool_use")) {
            gw_json_value id, name, empty = {GW_JSON_STRING, "\"\"", 2};
            if (!gw_vj_get(&b, "id", &id))
                id.type = GW_JSON_ABSENT;
            if (!gw_vj_get(&b, "name", &name))
                name.type = GW_JSON_ABSENT;
            p->ai_block_tool = p->ai_tools++;
            return gw_ai_tool(p, p->ai_block_tool, &id, NULL, &name, &empty, NULL);
        }
        if (gw_vj_get(&b, "text", &v))
            return gw_ai_text(p, &v);
        return 0;
    }
    if (strcmp(kind, "content_block_delta") == 0 && gw_vj_get(root, "delta", &d)) {
        gw_vj_int(root, "index", &idx);
        if (gw_vj_get(&d, "type", &v) && gw_vj_str_is(&v, "input_json_delta")) {
            if (p->ai_block_tool < 0 || idx != p->ai_block || !gw_vj_get(&d, "partial_json", &v))
                return 0;
            return gw_ai_tool(p, p->ai_block_tool, NULL, NULL, NULL, &v, NULL);
        }
        if (gw_vj_get(&d, "type", &v) && gw_vj_str_is(&v, "text_delta") && gw_vj_get(&d, "text", &v))
            return gw_ai_text(p, &v);
        return 0; /* thinking, signatures */
    }
    if (strcmp(kind, "message_delta") == 0) {
        if (gw_vj_path(root, "delta.stop_reason", &v) && v.type == GW_JSON_STRING)
            gw_ai_set_finish(p, &v);
        return 0;
    }
    if (strcmp(kind, "message_stop") == 0)
        return gw_ai_end(p);
    if (strcmp(kind, "error") == 0)
        return gw_ai_error(p, p->upstream_msg);
    return 0;
}

static int gw_anthropic_sse(gw_stream_proc *p, const gw_sse_event *ev)
{
    gw_json_value root, v;
    char kind[32] = "";
    int ai = gw_proc_ai(p), have = 0;

    if (ev->name != NULL) {
        size_t n = ev->name_len < sizeof(kind) - 1 ? ev->name_len : sizeof(kind) - 1;
        memcpy(kind, ev->name, n);
        kind[n] = '\0';
    }
    if (ev->data == NULL)
        return ai ? 0 : gw_proc_emit(p, ev->raw, ev->raw_len);
    /* pass-through reads only the events that carry usage, end or error */
    if ((ai || kind[0] == '\0' || strncmp(kind, "message", 7) == 0 || strcmp(kind, "error") == 0) &&
        gw_vj_parse(ev->data, ev->data_len, &root, NULL) == 0 && root.type == GW_JSON_OBJECT)
        have = 1;
    if (have && kind[0] == '\0' && gw_vj_get(&root, "type", &v))
        gw_vj_str_copy(&v, kind, sizeof(kind));
    if (strcmp(kind, "message_stop") == 0)
        p->ended = 1;
    if (have) {
        if (strcmp(kind, "message_start") == 0) {
            if (gw_vj_path(&root, "message.model", &v))
                gw_proc_set_model(p, &v);
            if (gw_vj_path(&root, "message.usage", &v))
                gw_anthropic_usage(p, &v);
        } else if (strcmp(kind, "message_delta") == 0) {
            if (gw_vj_get(&root, "usage", &v))
                gw_anthropic_usage(p, &v);
        } else if (strcmp(kind, "error") == 0) {
            gw_anthropic_error(p, &root);
        }
        if (ai)
            return gw_anthropic_ai_event(p, &root, kind);
    } else if (strcmp(kind, "error") == 0) {
        gw_proc_upstream_error(p, NULL);
        if (ai)
            return gw_ai_error(p, p->upstream_msg);
    }
    return ai ? 0 : gw_proc_emit(p, ev->raw, ev->raw_len);
}

static int gw_anthropic_json(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value v, c, blk, t;
    gw_vj_iter it;
    gw_ai_answer a;

    if (root->type != GW_JSON_OBJECT)
        return 0;
    if (gw_vj_get(root, "model", &v))
        gw_proc_set_model(p, &v);
    if (gw_vj_get(root, "usage", &v))
        gw_anthropic_usage(p, &v);
    if (!gw_proc_ai(p))
        return 0;
    gw_ai_answer_init(&a);
    if (gw_vj_get(root, "content", &c)) {
        gw_vj_iter_init(&it, &c);
        while (gw_vj_next_elem(&it, &blk)) {
            if (!gw_vj_get(&blk, "type", &t))
                continue;
            if (gw_vj_str_is(&t, "text") && gw_vj_get(&blk, "text", &v) && v.type == GW_JSON_STRING) {
                gw_ai_answer_text(&a, &v);
            } else if (gw_vj_str_is(&t, "tool_use")) {
                gw_json_value id, name, input;
                if (!gw_vj_get(&blk, "id", &id))
                    id.type = GW_JSON_ABSENT;
                if (!gw_vj_get(&blk, "name", &name))
                    name.type = GW_JSON_ABSENT;
                if (!gw_vj_get(&blk, "input", &input))
                    input.type = GW_JSON_ABSENT;
                gw_ai_answer_tool(&a, &id, NULL, &name, NULL, &input);
            }
        }
    }
    if (gw_vj_get(root, "stop_reason", &v) && v.type == GW_JSON_STRING)
        gw_ai_set_finish(p, &v);
    return gw_ai_answer_send(p, &a);
}

/* ---- /ai: an OpenAI chat-completions request as a Messages request ---- */

static void gw_tr_anthropic_content(gw_jw *w, const gw_json_value *content, gw_buf *tmp)
{
    gw_vj_iter it;
    gw_json_value part, v;

    if (content->type != GW_JSON_ARRAY) {
        gw_tr_text_value(w, content, tmp);
        return;
    }
    gw_jw_array_begin(w);
    gw_vj_iter_init(&it, content);
    while (gw_vj_next_elem(&it, &part)) {
        const char *mime, *data;
        size_t ml;
        if (gw_vj_get(&part, "text", &v) && v.type == GW_JSON_STRING) {
            gw_jw_object_begin(w);
            gw_jw_key(w, "type");
            gw_jw_string(w, "text");
            gw_tr_raw(w, "text", &v);
            gw_jw_object_end(w);
        } else if (gw_tr_image(&part, tmp, &mime, &ml, &data) == 0) {
            gw_jw_object_begin(w);
            gw_jw_key(w, "type");
            gw_jw_string(w, "image");
            gw_jw_key(w, "source");
            gw_jw_object_begin(w);
            gw_jw_key(w, "type");
            gw_jw_string(w, data != NULL ? "base64" : "url");
            if (data != NULL) {
                gw_jw_key(w, "media_type");
                gw_jw_string_n(w, mime, ml);
                gw_jw_key(w, "data");
                gw_jw_string(w, data);
            } else {
                gw_jw_key(w, "url");
                gw_jw_string(w, tmp->data);
            }
            gw_jw_object_end(w);
            gw_jw_object_end(w);
        }
    }
    gw_jw_array_end(w);
}

static void gw_tr_anthropic_message(gw_jw *w, const gw_json_value *m, const char *role, gw_buf *tmp)
{
    gw_json_value content, calls, call, v;
    gw_vj_iter it;
    int has_content = gw_vj_get(m, "content", &content) && content.type != GW_JSON_NULL;

    gw_jw_object_begin(w);
    gw_jw_key(w, "role");
    if (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0) {
        gw_jw_string(w, "user");
        gw_jw_key(w, "content");
        gw_jw_array_begin(w);
        gw_jw_object_begin(w);
        gw_jw_key(w, "type");
        gw_jw_string(w, "tool_result");
        gw_jw_key(w, "tool_use_id");
        if (gw_vj_get(m, "tool_call_id", &v) || gw_vj_get(m, "name", &v))
            gw_jw_raw(w, v.ptr, v.len);
        else
            gw_jw_string(w, "");
        gw_jw_key(w, "content");
        gw_tr_text_value(w, has_content ? &content : NULL, tmp);
        gw_jw_object_end(w);
        gw_jw_array_end(w);
        gw_jw_object_end(w);
        return;
    }
    gw_jw_string(w, role);
    gw_jw_key(w, "content");
    if (strcmp(role, "assistant") != 0 || !gw_vj_get(m, "tool_calls", &calls) || gw_vj_array_empty(&calls)) {
        if (has_content)
            gw_tr_anthropic_content(w, &content, tmp);
        else
            gw_jw_string(w, "");
        gw_jw_object_end(w);
        return;
    }
    gw_jw_array_begin(w);
    gw_buf_reset(tmp);
    if (has_content && gw_tr_text(&content, tmp, "\\n") > 0 && tmp->len > 0) {
        gw_jw_object_begin(w);
        gw_jw_key(w, "type");
        gw_jw_string(w, "text");
        gw_jw_key(w, "text");
        gw_tr_inner(w, tmp->data, tmp->len);
        gw_jw_object_end(w);
    }
    gw_vj_iter_init(&it, &calls);
    while (gw_vj_next_elem(&it, &call)) {
        gw_json_value id, fn, name, args;
        gw_jw_object_begin(w);
        gw_jw_key(w, "type");
        gw_jw_string(w, "tool_use");
        gw_jw_key(w, "id");
        if (gw_vj_get(&call, "id", &id) && id.type == GW_JSON_STRING)
            gw_jw_raw(w, id.ptr, id.len);
        else
            gw_jw_string(w, "");
        gw_jw_key(w, "name");
        if (gw_vj_get(&call, "function", &fn) && gw_vj_get(&fn, "name", &name) && name.type == GW_JSON_STRING)
            gw_jw_raw(w, name.ptr, name.len);
        else
            gw_jw_string(w, "");
        gw_jw_key(w, "input");
        gw_tr_args(w, gw_vj_get(&fn, "arguments", &args) ? &args : NULL, tmp);
        gw_jw_object_end(w);
    }
    gw_jw_array_end(w);
    gw_jw_object_end(w);
}

/* max_tokens is written first, with its default (Anthropic requires it) */
static const gw_tr_keys gw_anthropic_keys = {.temperature = "temperature", .top_p = "top_p", .stop = "stop_sequences"};

static int gw_anthropic_ai_request(gw_tr *t, gw_jw *w, gw_buf *tmp, char err[GW_ERR_LEN])
{
    gw_vj_iter it;
    gw_json_value m, c, v, fn;
    char role[16];
    int64_t mt = gw_tr_max_tokens(t);
    int nsys = 0;

    gw_jw_object_begin(w);
    gw_jw_key(w, "model");
    gw_jw_string(w, t->out->model);
    gw_jw_key(w, "max_tokens");
    gw_jw_int(w, mt > 0 ? mt : GW_AI_DEFAULT_MAX_TOKENS);
    t->out->max_tokens = mt > 0 ? mt : GW_AI_DEFAULT_MAX_TOKENS;
    /* system: every system / developer message, joined */
    gw_buf_reset(tmp);
    gw_vj_iter_init(&it, TRV(t, TR_MESSAGES));
    while (gw_vj_next_elem(&it, &m)) {
        if (gw_tr_role(&m, role, sizeof(role)) != 0 || strcmp(role, "system") != 0 || !gw_vj_get(&m, "content", &c) ||
            c.type == GW_JSON_NULL)
            continue;
        if (nsys++ > 0)
            gw_buf_puts(tmp, "\\n");
        gw_tr_text(&c, tmp, "\\n");
    }
    if (nsys > 0) {
        gw_jw_key(w, "system");
        gw_tr_inner(w, tmp->data, tmp->len);
    }
    gw_jw_key(w, "messages");
    gw_jw_array_begin(w);
    gw_vj_iter_init(&it, TRV(t, TR_MESSAGES));
    while (gw_vj_next_elem(&it, &m)) {
        if (gw_tr_role(&m, role, sizeof(role)) == 0 && strcmp(role, "system") != 0)
            gw_tr_anthropic_message(w, &m, role, tmp);
    }
    gw_jw_array_end(w);
    gw_tr_sampling(t, w, &gw_anthropic_keys);
    if (TR_HAS(t, TR_TOOLS) && !gw_vj_array_empty(TRV(t, TR_TOOLS))) {
        gw_jw_key(w, "tools");
        gw_jw_array_begin(w);
        gw_vj_iter_init(&it, TRV(t, TR_TOOLS));
        while (gw_vj_next_elem(&it, &m)) {
            if (!gw_vj_get(&m, "function", &fn) || !gw_vj_get(&fn, "name", &v))
                continue;
            gw_jw_object_begin(w);
            gw_tr_raw(w, "name", &v);
            if (gw_vj_get(&fn, "description", &v) && v.type == GW_JSON_STRING)
                gw_tr_raw(w, "description", &v);
            gw_jw_key(w, "input_schema");
            if (gw_vj_get(&fn, "parameters", &v) && v.type == GW_JSON_OBJECT)
                gw_jw_raw(w, v.ptr, v.len);
            else
                gw_jw_raw(w, "{\"type\":\"object\",\"properties\":{}}", 33);
            gw_jw_object_end(w);
        }
        gw_jw_array_end(w);
        if (TR_HAS(t, TR_TOOL_CHOICE)) {
            const gw_json_value *tc = TRV(t, TR_TOOL_CHOICE);
            gw_jw_key(w, "tool_choice");
            gw_jw_object_begin(w);
            gw_jw_key(w, "type");
            if (tc->type == GW_JSON_OBJECT && gw_vj_path(tc, "function.name", &v)) {
                gw_jw_string(w, "tool");
                gw_tr_raw(w, "name", &v);
            } else {
                gw_jw_string(w, gw_vj_str_is(tc, "required") ? "any" : gw_vj_str_is(tc, "none") ? "none" : "auto");
            }
            if (TRV(t, TR_PARALLEL)->type == GW_JSON_FALSE && !gw_vj_str_is(tc, "none")) {
                gw_jw_key(w, "disable_parallel_tool_use");
                gw_jw_bool(w, 1);
            }
            gw_jw_object_end(w);
        }
    }
    if (t->stream) {
        gw_jw_key(w, "stream");
        gw_jw_bool(w, 1);
    }
    gw_jw_object_end(w);
    if (gw_jw_finish(w) != 0 || tmp->failed)
        return gw_errf(err, "out of memory translating the request");
    t->out->body_rewritten = 1;
    return 0;
}

static gw_dialect gw_anthropic_dialect(const char *path)
{
    return gw_prep_path_ends(path, "/messages") ? GW_DIALECT_ANTHROPIC : GW_DIALECT_NONE;
}

static int gw_anthropic_ai_path(const gw_tr *t, gw_buf *path, const char **query)
{
    *query = NULL;
    return gw_buf_puts(path, gw_vendor_endpoint_versioned(t->llm->api_endpoint) ? "/messages" : "/v1/messages");
}

const gw_wire_ops gw_wire_anthropic = {
    .name = "anthropic",
    .prepare = gw_anthropic_prepare,
    .dialect = gw_anthropic_dialect,
    .ai_dialect = GW_DIALECT_ANTHROPIC,
    .version_header = "anthropic-version",
    .version_default = "2023-06-01",
    .ai_request = gw_anthropic_ai_request,
    .ai_path = gw_anthropic_ai_path,
    .sse = gw_anthropic_sse,
    .json = gw_anthropic_json,
    .error_style = GW_ERRSTYLE_ANTHROPIC,
    .models_path = "/v1/models",
    .models_array = "data",
    .models_field = "id",
};
