/*
 * src/vendors/openai.c: the OpenAI wire format, also spoken by Hugging Face
 * TGI / Inference Endpoints (and Ollama's /v1 routes): pass-through
 * preparation (model, stream, max tokens, stream_options.include_usage
 * injection), and the stream hooks: usage from the JSON body, the final
 * usage chunk of a chat-completions stream (dropped from the relay when we
 * injected include_usage), the Responses API's response.completed event and
 * TGI's native /generate_stream; end marker `data: [DONE]` (Responses:
 * response.completed / response.incomplete; TGI native: the event with
 * generated_text); `data: {"error":…}` marks the stream as not clean.
 */
#include <string.h>

#include "vendors/registry.h"

/* Paths whose body has "stream" (and, for the first two, stream_options). */
static int gw_openai_is_chat(const char *path)
{
    return gw_prep_path_ends(path, "/chat/completions") || gw_prep_path_ends(path, "/completions");
}

static int gw_openai_streamable(const char *path)
{
    return gw_openai_is_chat(path) || gw_prep_path_ends(path, "/responses");
}

static int gw_openai_prepare(gw_prep *pp, int *status, char err[GW_ERR_LEN])
{
    gw_upstream_req *out = pp->out;
    gw_json_field f[] = {{"model", {0}},
                         {"stream", {0}},
                         {"stream_options", {0}},
                         {"max_tokens", {0}},
                         {"max_completion_tokens", {0}},
                         {"max_output_tokens", {0}},
                         {"messages", {0}},
                         {"input", {0}},
                         {"prompt", {0}},
                         {"parameters", {0}}};
    int stream = 0, want_usage = 0, chat = gw_openai_is_chat(pp->path);
    int64_t mt;

    out->proc_mode = GW_PROC_JSON;
    if (gw_prep_path_ends(pp->path, "/generate_stream")) { /* TGI native */
        out->stream = 1;
        out->proc_mode = GW_PROC_SSE;
    }
    if (!pp->json)
        return 0;
    if (gw_prep_scan(pp, f, sizeof(f) / sizeof(f[0]), &stream, status, err) != 0)
        return -1;
    if (f[2].value.type == GW_JSON_OBJECT) {
        gw_json_value iu;
        want_usage = gw_vj_get(&f[2].value, "include_usage", &iu) && iu.type == GW_JSON_TRUE;
    }
    for (int i = 4; i >= 3; i--) /* max_completion_tokens wins over max_tokens */
        if (out->max_tokens < 0 && gw_json_get_int64(&f[i].value, &mt) == 0 && mt >= 0)
            out->max_tokens = mt;
    if (out->max_tokens < 0 && gw_json_get_int64(&f[5].value, &mt) == 0 && mt >= 0)
        out->max_tokens = mt;
    if (out->max_tokens < 0 && gw_vj_int(&f[9].value, "max_new_tokens", &mt) == 0 && mt >= 0)
        out->max_tokens = mt;
    for (int i = 6; i <= 8; i++)
        if (f[i].value.type != GW_JSON_ABSENT) {
            out->prompt_bytes = f[i].value.len;
            break;
        }
    if (!gw_openai_streamable(pp->path))
        return 0;
    if (!stream && pp->kind == GW_ROUTE_STREAM)
        stream = -1; /* the route asks for a stream the body did not ask for */
    if (stream == 0)
        return 0;
    out->stream = 1;
    out->proc_mode = GW_PROC_SSE;
    if (chat && !want_usage) {
        /* ask for the usage chunk; do not relay it to this client */
        static const char *const skip[] = {"stream", "stream_options"};
        gw_buf extra;
        int n = 0;
        gw_buf_init(&extra, 0);
        gw_buf_puts(&extra, "\"stream\":true,\"stream_options\":{");
        if (f[2].value.type == GW_JSON_OBJECT) {
            static const char *const iu[] = {"include_usage"};
            gw_vj_copy_members(&f[2].value, iu, 1, &extra, &n);
        }
        gw_buf_puts(&extra, n > 0 ? ",\"include_usage\":true}" : "\"include_usage\":true}");
        if (extra.failed || gw_prep_rewrite(out, pp->body, pp->body_len, skip, 2, extra.data) != 0) {
            gw_buf_free(&extra);
            *status = 500;
            return gw_errf(err, "out of memory rewriting the body");
        }
        gw_buf_free(&extra);
        out->strip_usage_chunk = 1;
    } else if (stream < 0) {
        if (gw_prep_force_stream(pp, out, status, err) != 0)
            return -1;
    }
    return 0;
}

/* The message of an error value: {"message":…} or a plain string. */
static void gw_openai_error(gw_stream_proc *p, const gw_json_value *e)
{
    gw_json_value m;

    if (e->type == GW_JSON_OBJECT && gw_vj_get(e, "message", &m))
        gw_proc_upstream_error(p, &m);
    else
        gw_proc_upstream_error(p, e->type == GW_JSON_STRING ? e : NULL);
}

/* Inspects one JSON chunk; *drop = 1 for the injected usage-only chunk. */
static void gw_openai_chunk(gw_stream_proc *p, const gw_sse_event *ev, const gw_json_value *root, int *drop)
{
    gw_json_value v, r, ch;
    int64_t n;

    if (root->type != GW_JSON_OBJECT)
        return;
    if (gw_vj_get(root, "error", &v) && v.type != GW_JSON_NULL)
        gw_openai_error(p, &v);
    if (gw_vj_get(root, "model", &v))
        gw_proc_set_model(p, &v);
    if (gw_vj_get(root, "usage", &v) && v.type == GW_JSON_OBJECT) {
        gw_proc_openai_usage(p, &v);
        if (p->o.strip_usage_chunk && gw_vj_get(root, "choices", &ch) && gw_vj_array_empty(&ch))
            *drop = 1;
    }
    /* Responses API */
    if (gw_vj_get(root, "type", &v) && v.type == GW_JSON_STRING) {
        if (gw_vj_str_is(&v, "response.completed") || gw_vj_str_is(&v, "response.incomplete") ||
            gw_vj_str_is(&v, "response.failed")) {
            p->ended = 1;
            if (gw_vj_get(root, "response", &r)) {
                if (gw_vj_get(&r, "model", &v))
                    gw_proc_set_model(p, &v);
                if (gw_vj_get(&r, "usage", &v))
                    gw_proc_openai_usage(p, &v);
                if (gw_vj_get(&r, "error", &v) && v.type == GW_JSON_OBJECT)
                    gw_openai_error(p, &v);
            }
        } else if (gw_vj_str_is(&v, "error")) {
            gw_openai_error(p, root);
        }
    }
    /* TGI native /generate_stream: the last event carries generated_text */
    if (gw_vj_get(root, "generated_text", &v) && v.type == GW_JSON_STRING) {
        p->ended = 1;
        if (gw_vj_int(root, "details.generated_tokens", &n) == 0) {
            p->usage.seen = 1;
            p->usage.response_tokens = n;
        }
    }
    (void)ev;
}

/* 1 when a chunk carries answer text ("content":"<something>"); a cheap
 * scan, the chunk is not parsed. */
static int gw_openai_has_content(const char *d, size_t n)
{
    static const char key[] = "\"content\":\"";
    const char *hit = gw_vj_find(d, n, key);
    size_t at;

    if (hit == NULL)
        return 0;
    at = (size_t)(hit - d) + sizeof(key) - 1;
    return at < n && d[at] != '"';
}

static int gw_openai_is_done(const char *d, size_t n)
{
    while (n > 0 && (d[n - 1] == ' ' || d[n - 1] == '\t'))
        n--;
    while (n > 0 && (*d == ' ' || *d == '\t')) {
        d++;
        n--;
    }
    return n == 6 && memcmp(d, "[DONE]", 6) == 0;
}

static int gw_openai_sse(gw_stream_proc *p, const gw_sse_event *ev)
{
    gw_json_value root;
    int drop = 0;

    if (ev->data == NULL)
        return gw_proc_ai(p) ? 0 : gw_proc_emit(p, ev->raw, ev->raw_len);
    if (gw_openai_is_done(ev->data, ev->data_len)) {
        p->ended = 1;
        if (p->ai_done)
            return 0;
        p->ai_done = 1;
        return gw_proc_emit(p, ev->raw, ev->raw_len);
    }
    /* read the chunks that can matter: the first (model), usage, errors,
     * the Responses API's final events, TGI's last event */
    if (p->model[0] == '\0' || gw_vj_find(ev->data, ev->data_len, "\"usage\"") != NULL ||
        gw_vj_find(ev->data, ev->data_len, "\"error\"") != NULL ||
        gw_vj_find(ev->data, ev->data_len, "\"response.") != NULL ||
        gw_vj_find(ev->data, ev->data_len, "\"generated_text\"") != NULL) {
        if (gw_vj_parse(ev->data, ev->data_len, &root, NULL) == 0)
            gw_openai_chunk(p, ev, &root, &drop);
    }
    if (drop)
        return 0;
    if (gw_openai_has_content(ev->data, ev->data_len))
        p->content_units++;
    return gw_proc_emit(p, ev->raw, ev->raw_len);
}

static gw_dialect gw_openai_dialect(const char *path)
{
    if (gw_prep_path_ends(path, "/chat/completions"))
        return GW_DIALECT_OPENAI_CHAT;
    if (gw_prep_path_ends(path, "/completions"))
        return GW_DIALECT_OPENAI_COMPLETIONS;
    if (gw_prep_path_ends(path, "/responses"))
        return GW_DIALECT_OPENAI_RESPONSES;
    if (gw_prep_path_ends(path, "/generate") || gw_prep_path_ends(path, "/generate_stream"))
        return GW_DIALECT_TGI;
    return GW_DIALECT_NONE;
}

/* ---- /ai on an OpenAI-compatible vendor: the body nearly as is ---- */

static int gw_openai_ai_request(gw_tr *t, gw_jw *w, gw_buf *tmp, char err[GW_ERR_LEN])
{
    int need_model = !TR_HAS(t, TR_MODEL) || TRV(t, TR_MODEL)->len <= 2;
    int need_usage = t->stream && !t->include_usage;
    const char *skip[2];
    size_t nskip = 0;
    gw_buf extra;
    gw_jw wm;
    int n = 0, rc;

    (void)w, (void)tmp; /* the client's body is kept, not rewritten from scratch */
    t->out->max_tokens = gw_tr_max_tokens(t);
    if (!need_model && !need_usage)
        return 0;
    gw_buf_init(&extra, 0);
    if (need_model) {
        skip[nskip++] = "model";
        gw_buf_puts(&extra, "\"model\":");
        gw_jw_init(&wm, &extra);
        gw_jw_string(&wm, t->out->model);
    }
    if (need_usage) {
        skip[nskip++] = "stream_options";
        gw_buf_puts(&extra, need_model ? ",\"stream_options\":{" : "\"stream_options\":{");
        if (TRV(t, TR_STREAM_OPTIONS)->type == GW_JSON_OBJECT) {
            static const char *const iu[] = {"include_usage"};
            gw_vj_copy_members(TRV(t, TR_STREAM_OPTIONS), iu, 1, &extra, &n);
        }
        gw_buf_puts(&extra, n > 0 ? ",\"include_usage\":true}" : "\"include_usage\":true}");
    }
    rc = extra.failed ? -1 : gw_prep_rewrite(t->out, t->body, t->body_len, skip, nskip, extra.data);
    gw_buf_free(&extra);
    return rc != 0 ? gw_errf(err, "out of memory rewriting the body") : 0;
}

static int gw_openai_ai_path(const gw_tr *t, gw_buf *path, const char **query)
{
    *query = NULL;
    return gw_buf_puts(path, gw_vendor_endpoint_versioned(t->llm->api_endpoint) ? "/chat/completions"
                                                                                : "/v1/chat/completions");
}

const gw_wire_ops gw_wire_openai = {
    .name = "openai",
    .prepare = gw_openai_prepare,
    .dialect = gw_openai_dialect,
    .ai_dialect = GW_DIALECT_OPENAI_CHAT,
    .ai_request = gw_openai_ai_request,
    .ai_path = gw_openai_ai_path,
    .sse = gw_openai_sse,
    .json = gw_proc_openai_json,
    .openai_errors = 1,
    .error_style = GW_ERRSTYLE_OPENAI,
    .models_path = "/v1/models",
    .models_array = "data",
    .models_field = "id",
};
