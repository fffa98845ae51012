/*
 * src/vendors/ollama.c: Ollama's native API (/api/chat, /api/generate and
 * the rest; its OpenAI-compatible /v1 routes go to openai.c): pass-through
 * preparation (chat and generate stream unless "stream": false; max tokens
 * from options.num_predict), NDJSON lines with usage on the "done": true
 * object (prompt_eval_count, eval_count), which is also the end marker, an
 * {"error": "…"} line marks the stream as not clean, and the translation
 * of answers and streams into OpenAI shapes for /ai.
 */
#include <stdio.h>
#include <string.h>

#include "vendors/registry.h"

static int gw_ollama_prepare(gw_prep *pp, int *status, char err[GW_ERR_LEN])
{
    gw_upstream_req *out = pp->out;
    gw_json_field f[] = {{"model", {0}},    {"stream", {0}}, {"options", {0}},
                         {"messages", {0}}, {"prompt", {0}}, {"system", {0}}};
    int stream = 1, gen;
    int64_t mt;

    out->proc_mode = GW_PROC_JSON;
    gen = gw_prep_path_ends(pp->path, "/api/chat") || gw_prep_path_ends(pp->path, "/api/generate");
    if (!pp->json)
        return 0;
    if (gw_prep_scan(pp, f, sizeof(f) / sizeof(f[0]), &stream, status, err) != 0)
        return -1;
    if (gw_vj_int(&f[2].value, "num_predict", &mt) == 0 && mt >= 0)
        out->max_tokens = mt;
    out->prompt_bytes = f[3].value.len + f[4].value.len + f[5].value.len;
    if (!gen)
        return 0;
    return gw_prep_stream(pp, stream, GW_PROC_NDJSON, status, err);
}

static void gw_ollama_usage(gw_stream_proc *p, const gw_json_value *root)
{
    int64_t v;

    p->usage.seen = 1;
    p->usage.prompt_tokens = gw_vj_int(root, "prompt_eval_count", &v) == 0 ? v : 0;
    p->usage.response_tokens = gw_vj_int(root, "eval_count", &v) == 0 ? v : 0;
}

static void gw_ollama_call_id(const gw_stream_proc *p, int n, char *out, size_t cap)
{
    snprintf(out, cap, "call_%.40s_%d", p->request_id[0] != '\0' ? p->request_id : "0", n);
}

/* "done": true somewhere in the line (a cheap pre-check). */
static int gw_ollama_done_true(const char *s, size_t n)
{
    const char *d = gw_vj_find(s, n, "\"done\"");

    if (d == NULL)
        return 0;
    d += 6;
    while (d < s + n && (*d == ' ' || *d == ':' || *d == '\t'))
        d++;
    return (size_t)(s + n - d) >= 4 && memcmp(d, "true", 4) == 0;
}

/* /ai: the deltas of one streamed object. */
static int gw_ollama_ai_line(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value v, calls, call;
    gw_vj_iter it;

    if (gw_ai_delta(p, NULL, 0) != 0)
        return -1;
    if ((gw_vj_path(root, "message.content", &v) || gw_vj_get(root, "response", &v)) && gw_ai_text(p, &v) != 0)
        return -1;
    if (gw_vj_path(root, "message.tool_calls", &calls)) {
        gw_vj_iter_init(&it, &calls);
        while (gw_vj_next_elem(&it, &call)) {
            gw_json_value name, args;
            char id[64];
            int n = p->ai_tools++;
            if (!gw_vj_path(&call, "function.name", &name))
                name.type = GW_JSON_ABSENT;
            if (!gw_vj_path(&call, "function.arguments", &args))
                args.type = GW_JSON_ABSENT;
            gw_ollama_call_id(p, n, id, sizeof(id));
            if (gw_ai_tool(p, n, NULL, id, &name, args.type == GW_JSON_STRING ? &args : NULL,
                           args.type == GW_JSON_STRING ? NULL : &args) != 0)
                return -1;
        }
    }
    return 0;
}

static int gw_ollama_line(gw_stream_proc *p, const char *line, size_t len)
{
    gw_json_value root, v;
    int ai = gw_proc_ai(p), done;
    size_t n = len;

    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        n--;
    if (n == 0 ||
        (!ai && p->model[0] != '\0' && !gw_ollama_done_true(line, n) && gw_vj_find(line, n, "\"error\"") == NULL))
        return ai ? 0 : gw_proc_emit(p, line, len);
    if (gw_vj_parse(line, n, &root, NULL) != 0 || root.type != GW_JSON_OBJECT)
        return ai ? 0 : gw_proc_emit(p, line, len);
    if (gw_vj_get(&root, "error", &v) && v.type != GW_JSON_NULL) {
        gw_json_value m;
        gw_proc_upstream_error(p, v.type == GW_JSON_OBJECT && gw_vj_get(&v, "message", &m) ? &m : &v);
        return ai ? gw_ai_error(p, p->upstream_msg) : gw_proc_emit(p, line, len);
    }
    if (gw_vj_get(&root, "model", &v))
        gw_proc_set_model(p, &v);
    done = gw_vj_get(&root, "done", &v) && v.type == GW_JSON_TRUE;
    if (done) {
        p->ended = 1;
        gw_ollama_usage(p, &root);
    }
    if (!ai)
        return gw_proc_emit(p, line, len);
    if (gw_ollama_ai_line(p, &root) != 0)
        return -1;
    if (!done)
        return 0;
    if (gw_vj_get(&root, "done_reason", &v) && v.type == GW_JSON_STRING)
        gw_ai_set_finish(p, &v);
    return gw_ai_end(p);
}

static int gw_ollama_json(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value v, calls, call;
    gw_vj_iter it;
    gw_ai_answer a;

    if (root->type != GW_JSON_OBJECT)
        return 0;
    if (gw_vj_get(root, "usage", &v) && v.type == GW_JSON_OBJECT) /* an OpenAI-shaped answer (the /v1 routes) */
        return gw_proc_openai_json(p, root);
    if (gw_vj_get(root, "model", &v))
        gw_proc_set_model(p, &v);
    if (gw_vj_get(root, "prompt_eval_count", &v) || gw_vj_get(root, "eval_count", &v))
        gw_ollama_usage(p, root);
    if (!gw_proc_ai(p))
        return 0;
    gw_ai_answer_init(&a);
    if (gw_vj_path(root, "message.tool_calls", &calls)) {
        gw_vj_iter_init(&it, &calls);
        while (gw_vj_next_elem(&it, &call)) {
            gw_json_value name, args;
            char id[64];
            if (!gw_vj_path(&call, "function.name", &name))
                name.type = GW_JSON_ABSENT;
            if (!gw_vj_path(&call, "function.arguments", &args))
                args.type = GW_JSON_ABSENT;
            gw_ollama_call_id(p, a.ntools, id, sizeof(id));
            gw_ai_answer_tool(&a, NULL, id, &name, args.type == GW_JSON_STRING ? &args : NULL,
                              args.type == GW_JSON_STRING ? NULL : &args);
        }
    }
    if (gw_vj_get(root, "done_reason", &v) && v.type == GW_JSON_STRING)
        gw_ai_set_finish(p, &v);
    /* one content string: an empty one only when there is no tool call */
    if ((gw_vj_path(root, "message.content", &v) || gw_vj_get(root, "response", &v)) && v.type == GW_JSON_STRING &&
        (v.len > 2 || a.ntools == 0))
        gw_ai_answer_text(&a, &v);
    return gw_ai_answer_send(p, &a);
}

/* ---- /ai: an OpenAI chat-completions request as an /api/chat request ---- */

static void gw_tr_ollama_message(gw_tr *t, gw_jw *w, const gw_json_value *m, const char *role, gw_buf *tmp)
{
    gw_json_value content, calls, call, v, part, name;
    gw_vj_iter it;
    int has = gw_vj_get(m, "content", &content) && content.type != GW_JSON_NULL, nimg = 0;

    gw_jw_object_begin(w);
    gw_jw_key(w, "role");
    gw_jw_string(w, strcmp(role, "function") == 0 ? "tool" : role);
    gw_jw_key(w, "content");
    gw_tr_text_value(w, has ? &content : NULL, tmp);
    if (has && content.type == GW_JSON_ARRAY) {
        gw_vj_iter_init(&it, &content);
        while (gw_vj_next_elem(&it, &part)) {
            const char *mime, *data;
            size_t ml;
            if (gw_tr_image(&part, tmp, &mime, &ml, &data) != 0 || data == NULL)
                continue; /* Ollama takes base64 images only */
            if (nimg++ == 0) {
                gw_jw_key(w, "images");
                gw_jw_array_begin(w);
            }
            gw_jw_string(w, data);
        }
        if (nimg > 0)
            gw_jw_array_end(w);
    }
    if (strcmp(role, "assistant") == 0 && gw_vj_get(m, "tool_calls", &calls) && !gw_vj_array_empty(&calls)) {
        gw_jw_key(w, "tool_calls");
        gw_jw_array_begin(w);
        gw_vj_iter_init(&it, &calls);
        while (gw_vj_next_elem(&it, &call)) {
            gw_json_value args;
            gw_jw_object_begin(w);
            gw_jw_key(w, "function");
            gw_jw_object_begin(w);
            gw_jw_key(w, "name");
            if (gw_vj_path(&call, "function.name", &v) && v.type == GW_JSON_STRING)
                gw_jw_raw(w, v.ptr, v.len);
            else
                gw_jw_string(w, "");
            gw_jw_key(w, "arguments");
            gw_tr_args(w, gw_vj_path(&call, "function.arguments", &args) ? &args : NULL, tmp);
            gw_jw_object_end(w);
            gw_jw_object_end(w);
        }
        gw_jw_array_end(w);
    }
    if (strcmp(role, "tool") == 0 && gw_vj_get(m, "tool_call_id", &v) &&
        gw_tr_tool_name(TRV(t, TR_MESSAGES), &v, &name))
        gw_tr_raw(w, "tool_name", &name);
    gw_jw_object_end(w);
}

static const gw_tr_keys gw_ollama_keys = {.temperature = "temperature",
                                          .top_p = "top_p",
                                          .max_tokens = "num_predict",
                                          .stop = "stop",
                                          .seed = "seed",
                                          .presence = "presence_penalty",
                                          .frequency = "frequency_penalty"};

static int gw_ollama_ai_request(gw_tr *t, gw_jw *w, gw_buf *tmp, char err[GW_ERR_LEN])
{
    gw_vj_iter it;
    gw_json_value m, v;
    char role[16];
    int64_t mt = gw_tr_max_tokens(t);
    int opts = TR_HAS(t, TR_TEMPERATURE) || TR_HAS(t, TR_TOP_P) || mt > 0 || TR_HAS(t, TR_STOP) || TR_HAS(t, TR_SEED) ||
               TR_HAS(t, TR_PRESENCE) || TR_HAS(t, TR_FREQUENCY);

    gw_jw_object_begin(w);
    gw_jw_key(w, "model");
    gw_jw_string(w, t->out->model);
    gw_jw_key(w, "messages");
    gw_jw_array_begin(w);
    gw_vj_iter_init(&it, TRV(t, TR_MESSAGES));
    while (gw_vj_next_elem(&it, &m))
        if (gw_tr_role(&m, role, sizeof(role)) == 0)
            gw_tr_ollama_message(t, w, &m, role, tmp);
    gw_jw_array_end(w);
    gw_jw_key(w, "stream");
    gw_jw_bool(w, t->stream);
    if (opts) {
        gw_jw_key(w, "options");
        gw_jw_object_begin(w);
        gw_tr_sampling(t, w, &gw_ollama_keys);
        gw_jw_object_end(w);
    }
    if (TR_HAS(t, TR_TOOLS) && !gw_vj_array_empty(TRV(t, TR_TOOLS)))
        gw_tr_raw(w, "tools", TRV(t, TR_TOOLS)); /* Ollama takes OpenAI's tool shape */
    if (gw_vj_get(TRV(t, TR_RESPONSE_FORMAT), "type", &v)) {
        if (gw_vj_str_is(&v, "json_object")) {
            gw_jw_key(w, "format");
            gw_jw_string(w, "json");
        } else if (gw_vj_path(TRV(t, TR_RESPONSE_FORMAT), "json_schema.schema", &v) && v.type == GW_JSON_OBJECT) {
            gw_tr_raw(w, "format", &v);
        }
    }
    gw_jw_object_end(w);
    if (gw_jw_finish(w) != 0 || tmp->failed)
        return gw_errf(err, "out of memory translating the request");
    t->out->body_rewritten = 1;
    return 0;
}

static gw_dialect gw_ollama_dialect(const char *path)
{
    if (gw_prep_path_ends(path, "/api/chat"))
        return GW_DIALECT_OLLAMA_CHAT;
    return gw_prep_path_ends(path, "/api/generate") ? GW_DIALECT_OLLAMA_GENERATE : GW_DIALECT_NONE;
}

static int gw_ollama_ai_path(const gw_tr *t, gw_buf *path, const char **query)
{
    const char *ep = t->llm->api_endpoint;
    size_t el = strlen(ep);

    while (el > 0 && ep[el - 1] == '/')
        el--;
    *query = NULL;
    return gw_buf_puts(path, el >= 4 && memcmp(ep + el - 4, "/api", 4) == 0 ? "/chat" : "/api/chat");
}

const gw_wire_ops gw_wire_ollama = {
    .name = "ollama",
    .prepare = gw_ollama_prepare,
    .dialect = gw_ollama_dialect,
    .ai_dialect = GW_DIALECT_OLLAMA_CHAT,
    .compat_prefix = "/v1/", /* OpenAI-compatible routes */
    .compat = GW_WIRE_OPENAI,
    .ai_request = gw_ollama_ai_request,
    .ai_path = gw_ollama_ai_path,
    .line = gw_ollama_line, /* no .sse: SSE comes from the /v1 routes, read as OpenAI's */
    .json = gw_ollama_json,
    .ai_stream_ndjson = 1,
    .error_style = GW_ERRSTYLE_OLLAMA,
    .models_path = "/api/tags",
    .models_array = "models",
    .models_field = "name",
};
