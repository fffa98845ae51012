/*
 * src/vendors/google.c: Gemini (google_ai) and Vertex AI generateContent:
 * pass-through preparation (the model and the stream come from the path
 * ".../models/{model}:generateContent|streamGenerateContent", alt=sse makes
 * the stream SSE, else a streamed JSON array; /llm/stream/ turns a
 * generateContent path into streamGenerateContent?alt=sse), usage from
 * usageMetadata (the last one seen: promptTokenCount, candidatesTokenCount
 * + thoughtsTokenCount, cachedContentTokenCount → cache read), the end of a
 * stream (an SSE stream has no end marker: it ends cleanly after a chunk
 * with a finishReason; the JSON array ends with its ']'), and the
 * translation of answers and streams into OpenAI shapes for /ai.
 */
#include <stdio.h>
#include <string.h>

#include "base/url.h"
#include "vendors/registry.h"

/*
 * ".../models/{model}:{method}" (the path as the client sent it, so the
 * upstream decodes it the way we do): the model percent-decoded and checked
 * (gw_vendor_model_check) into model, the method decoded into method, and
 * where the method starts in path. 1 for such a path, 0 for another one,
 * -1 with err for a model name that breaks the rules.
 */
static int gw_google_split(const char *path, char model[GW_MODEL_MAX], char method[32], const char **method_at,
                           char err[GW_ERR_LEN])
{
    const char *m = NULL, *colon = NULL, *after = NULL;
    char tmp[GW_MODEL_MAX + 1];
    size_t n;

    for (const char *s = strstr(path, "/models/"); s != NULL; s = strstr(s + 1, "/models/"))
        m = s + 8;
    if (m == NULL || strchr(m, '/') != NULL)
        return 0;
    for (const char *s = m; *s != '\0'; s++) {
        if (*s == ':') {
            colon = s;
            after = s + 1;
            break;
        }
        if (s[0] == '%' && s[1] == '3' && (s[2] == 'a' || s[2] == 'A')) {
            colon = s;
            after = s + 3;
            break;
        }
    }
    if (colon == NULL)
        return 0;
    /* one byte more than a valid name: a longer one does not fit */
    if (gw_url_decode(m, (size_t)(colon - m), 0, tmp, sizeof(tmp), &n) != 0) {
        if (gw_url_path_check(m, (size_t)(colon - m)) != GW_URL_PATH_OK)
            return gw_errf(err, "the model name contains control characters");
        return gw_errf(err, "the model name is longer than %d bytes", GW_MODEL_LEN_MAX);
    }
    if (gw_vendor_model_check(tmp, n, err) != 0)
        return -1;
    memcpy(model, tmp, n + 1);
    if (gw_url_decode(after, strlen(after), 0, method, 32, NULL) != 0)
        method[0] = '\0';
    *method_at = after;
    return 1;
}

static int gw_google_prepare(gw_prep *pp, int *status, char err[GW_ERR_LEN])
{
    gw_upstream_req *out = pp->out;
    gw_json_field f[] = {{"generationConfig", {0}}, {"contents", {0}}, {"systemInstruction", {0}}};
    const char *method_at = NULL;
    char method[32];
    int64_t mt;
    int split;

    out->proc_mode = GW_PROC_JSON;
    split = gw_google_split(pp->path, out->model, method, &method_at, err);
    if (split < 0) {
        *status = 400;
        return -1;
    }
    if (split > 0) {
        if (strcmp(method, "streamGenerateContent") == 0) {
            out->stream = 1;
            out->proc_mode = gw_prep_query_has(pp->query, "alt", "sse") ? GW_PROC_SSE : GW_PROC_JSON_ARRAY;
        } else if (strcmp(method, "generateContent") == 0 && pp->kind == GW_ROUTE_STREAM) {
            gw_buf_append(&pp->new_path, pp->path, (size_t)(method_at - pp->path));
            gw_buf_puts(&pp->new_path, "streamGenerateContent");
            pp->add_alt_sse = 1;
            out->stream = 1;
            out->proc_mode = GW_PROC_SSE;
        }
    }
    if (!pp->json)
        return 0;
    if (gw_prep_scan(pp, f, sizeof(f) / sizeof(f[0]), NULL, status, err) != 0)
        return -1;
    if (gw_vj_int(&f[0].value, "maxOutputTokens", &mt) == 0 && mt >= 0)
        out->max_tokens = mt;
    if (f[1].value.type != GW_JSON_ABSENT)
        out->prompt_bytes = f[1].value.len + f[2].value.len;
    return 0;
}

/* usageMetadata: the last one seen wins (each is a running total). */
static void gw_google_usage(gw_stream_proc *p, const gw_json_value *u)
{
    int64_t v, t;

    if (u->type != GW_JSON_OBJECT)
        return;
    p->usage.seen = 1;
    p->usage.prompt_tokens = gw_vj_int(u, "promptTokenCount", &v) == 0 ? v : 0;
    p->usage.response_tokens = gw_vj_int(u, "candidatesTokenCount", &v) == 0 ? v : 0;
    if (gw_vj_int(u, "thoughtsTokenCount", &t) == 0)
        p->usage.response_tokens += t;
    p->usage.cache_read_tokens = gw_vj_int(u, "cachedContentTokenCount", &v) == 0 ? v : 0;
    p->usage.cache_write_tokens = 0;
}

/* A generated call id: Gemini function calls have none. */
static void gw_google_call_id(const gw_stream_proc *p, int n, char *out, size_t cap)
{
    snprintf(out, cap, "call_%.40s_%d", p->request_id[0] != '\0' ? p->request_id : "0", n);
}

/* One response object: usage, model, finish, error; in AI_SSE its deltas. */
static int gw_google_chunk(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value v, cands, cand, parts, part, fr;
    gw_vj_iter it, pi;
    int first = 1;

    if (root->type != GW_JSON_OBJECT)
        return 0;
    if (gw_vj_get(root, "error", &v) && v.type != GW_JSON_NULL) {
        gw_json_value m;
        gw_proc_upstream_error(p, gw_vj_get(&v, "message", &m) ? &m : NULL);
        return p->o.mode == GW_PROC_AI_SSE ? gw_ai_error(p, p->upstream_msg) : 0;
    }
    if (gw_vj_get(root, "modelVersion", &v))
        gw_proc_set_model(p, &v);
    if (gw_vj_get(root, "usageMetadata", &v))
        gw_google_usage(p, &v);
    if (gw_vj_path(root, "promptFeedback.blockReason", &fr) && fr.type == GW_JSON_STRING) {
        /* the prompt was blocked: this is the last chunk */
        if (p->o.mode != GW_PROC_JSON_ARRAY)
            p->ended = 1;
        if (gw_proc_ai(p)) {
            static const gw_json_value filter = {GW_JSON_STRING, "\"SAFETY\"", 8};
            gw_ai_set_finish(p, &filter);
        }
    }
    if (!gw_vj_get(root, "candidates", &cands))
        return 0;
    gw_vj_iter_init(&it, &cands);
    while (gw_vj_next_elem(&it, &cand)) {
        if (gw_vj_get(&cand, "finishReason", &fr) && fr.type == GW_JSON_STRING) {
            if (p->o.mode != GW_PROC_JSON_ARRAY)
                p->ended = 1;
            if (first && gw_proc_ai(p))
                gw_ai_set_finish(p, &fr);
        }
        if (!first || p->o.mode != GW_PROC_AI_SSE) {
            first = 0;
            continue;
        }
        first = 0;
        if (gw_ai_delta(p, NULL, 0) != 0) /* the role chunk */
            return -1;
        if (!gw_vj_path(&cand, "content.parts", &parts))
            continue;
        gw_vj_iter_init(&pi, &parts);
        while (gw_vj_next_elem(&pi, &part)) {
            gw_json_value fc, name, args;
            if (gw_vj_get(&part, "thought", &v) && v.type == GW_JSON_TRUE)
                continue;
            if (gw_vj_get(&part, "text", &v) && gw_ai_text(p, &v) != 0)
                return -1;
            if (gw_vj_get(&part, "functionCall", &fc)) {
                char id[64];
                int n = p->ai_tools++;
                if (!gw_vj_get(&fc, "name", &name))
                    name.type = GW_JSON_ABSENT;
                if (!gw_vj_get(&fc, "args", &args))
                    args.type = GW_JSON_ABSENT;
                gw_google_call_id(p, n, id, sizeof(id));
                if (gw_ai_tool(p, n, NULL, id, &name, NULL, &args) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* Whether a pass-through chunk needs reading. */
static int gw_google_wanted(const gw_stream_proc *p, const char *d, size_t n)
{
    return gw_proc_ai(p) || p->model[0] == '\0' || gw_vj_find(d, n, "usageMetadata") != NULL ||
           gw_vj_find(d, n, "finishReason") != NULL || gw_vj_find(d, n, "\"error\"") != NULL ||
           gw_vj_find(d, n, "blockReason") != NULL;
}

static int gw_google_sse(gw_stream_proc *p, const gw_sse_event *ev)
{
    gw_json_value root;
    int ai = gw_proc_ai(p);

    if (ev->data != NULL && gw_google_wanted(p, ev->data, ev->data_len) &&
        gw_vj_parse(ev->data, ev->data_len, &root, NULL) == 0 && gw_google_chunk(p, &root) != 0)
        return -1;
    return ai ? 0 : gw_proc_emit(p, ev->raw, ev->raw_len);
}

static int gw_google_elem(gw_stream_proc *p, const char *text, size_t len)
{
    gw_json_value root;

    if (gw_google_wanted(p, text, len) && gw_vj_parse(text, len, &root, NULL) == 0)
        return gw_google_chunk(p, &root);
    return 0;
}

static int gw_google_json(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value v, cand, parts, part;
    gw_vj_iter it;
    gw_ai_answer a;

    if (root->type != GW_JSON_OBJECT)
        return 0;
    if (gw_vj_get(root, "modelVersion", &v))
        gw_proc_set_model(p, &v);
    if (gw_vj_get(root, "usageMetadata", &v))
        gw_google_usage(p, &v);
    if (!gw_proc_ai(p))
        return 0;
    gw_ai_answer_init(&a);
    if (gw_vj_path(root, "promptFeedback.blockReason", &v) && v.type == GW_JSON_STRING) {
        static const gw_json_value filter = {GW_JSON_STRING, "\"SAFETY\"", 8};
        gw_ai_set_finish(p, &filter);
    }
    if (gw_vj_get(root, "candidates", &v)) {
        gw_vj_iter_init(&it, &v);
        if (gw_vj_next_elem(&it, &cand)) {
            if (gw_vj_get(&cand, "finishReason", &v) && v.type == GW_JSON_STRING)
                gw_ai_set_finish(p, &v);
            if (gw_vj_path(&cand, "content.parts", &parts)) {
                gw_vj_iter_init(&it, &parts);
                while (gw_vj_next_elem(&it, &part)) {
                    gw_json_value fc, name, args;
                    if (gw_vj_get(&part, "thought", &v) && v.type == GW_JSON_TRUE)
                        continue;
                    if (gw_vj_get(&part, "text", &v) && v.type == GW_JSON_STRING)
                        gw_ai_answer_text(&a, &v);
                    if (gw_vj_get(&part, "functionCall", &fc)) {
                        char id[64];
                        if (!gw_vj_get(&fc, "name", &name))
                            name.type = GW_JSON_ABSENT;
                        if (!gw_vj_get(&fc, "args", &args))
                            args.type = GW_JSON_ABSENT;
                        gw_google_call_id(p, a.ntools, id, sizeof(id));
                        gw_ai_answer_tool(&a, NULL, id, &name, NULL, &args);
                    }
                }
            }
        }
    }
    return gw_ai_answer_send(p, &a);
}

/* ---- /ai: an OpenAI chat-completions request as a generateContent request ---- */

static const char *gw_tr_mime_guess(const char *url)
{
    const char *dot = strrchr(url, '.');
    if (dot != NULL && (strcmp(dot, ".png") == 0 || strcmp(dot, ".PNG") == 0))
        return "image/png";
    if (dot != NULL && strcmp(dot, ".webp") == 0)
        return "image/webp";
    if (dot != NULL && strcmp(dot, ".gif") == 0)
        return "image/gif";
    return "image/jpeg";
}

/* The parts of a user / assistant content value (text and images). */
static int gw_tr_google_parts(gw_jw *w, const gw_json_value *content, gw_buf *tmp)
{
    gw_vj_iter it;
    gw_json_value part, v;
    int n = 0;

    if (content == NULL || content->type == GW_JSON_ABSENT || content->type == GW_JSON_NULL)
        return 0;
    if (content->type == GW_JSON_STRING) {
        gw_jw_object_begin(w);
        gw_tr_raw(w, "text", content);
        gw_jw_object_end(w);
        return 1;
    }
    gw_vj_iter_init(&it, content);
    while (gw_vj_next_elem(&it, &part)) {
        const char *mime, *data;
        size_t ml;
        if (gw_vj_get(&part, "text", &v) && v.type == GW_JSON_STRING) {
            gw_jw_object_begin(w);
            gw_tr_raw(w, "text", &v);
            gw_jw_object_end(w);
            n++;
        } else if (gw_tr_image(&part, tmp, &mime, &ml, &data) == 0) {
            gw_jw_object_begin(w);
            gw_jw_key(w, data != NULL ? "inlineData" : "fileData");
            gw_jw_object_begin(w);
            gw_jw_key(w, "mimeType");
            if (data != NULL)
                gw_jw_string_n(w, mime, ml);
            else
                gw_jw_string(w, gw_tr_mime_guess(tmp->data));
            gw_jw_key(w, data != NULL ? "data" : "fileUri");
            gw_jw_string(w, data != NULL ? data : tmp->data);
            gw_jw_object_end(w);
            gw_jw_object_end(w);
            n++;
        }
    }
    return n;
}

static void gw_tr_google_message(gw_tr *t, gw_jw *w, const gw_json_value *m, const char *role, gw_buf *tmp)
{
    gw_json_value content, calls, call, v, name, obj;
    gw_vj_iter it;
    int has = gw_vj_get(m, "content", &content), n = 0;

    gw_jw_object_begin(w);
    gw_jw_key(w, "role");
    gw_jw_string(w, strcmp(role, "assistant") == 0 ? "model" : "user");
    gw_jw_key(w, "parts");
    gw_jw_array_begin(w);
    if (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0) {
        gw_jw_object_begin(w);
        gw_jw_key(w, "functionResponse");
        gw_jw_object_begin(w);
        gw_jw_key(w, "name");
        if ((gw_vj_get(m, "tool_call_id", &v) && gw_tr_tool_name(TRV(t, TR_MESSAGES), &v, &name)) ||
            (gw_vj_get(m, "name", &name) && name.type == GW_JSON_STRING))
            gw_jw_raw(w, name.ptr, name.len);
        else
            gw_jw_string(w, "tool");
        gw_jw_key(w, "response");
        if (has && gw_tr_json_obj(&content, tmp, &obj)) {
            gw_jw_raw(w, obj.ptr, obj.len);
        } else {
            gw_jw_object_begin(w);
            gw_jw_key(w, "content");
            gw_tr_text_value(w, has ? &content : NULL, tmp);
            gw_jw_object_end(w);
        }
        gw_jw_object_end(w);
        gw_jw_object_end(w);
        n = 1;
    } else {
        n = gw_tr_google_parts(w, has ? &content : NULL, tmp);
        if (strcmp(role, "assistant") == 0 && gw_vj_get(m, "tool_calls", &calls)) {
            gw_vj_iter_init(&it, &calls);
            while (gw_vj_next_elem(&it, &call)) {
                gw_json_value args;
                gw_jw_object_begin(w);
                gw_jw_key(w, "functionCall");
                gw_jw_object_begin(w);
                gw_jw_key(w, "name");
                if (gw_vj_path(&call, "function.name", &v) && v.type == GW_JSON_STRING)
                    gw_jw_raw(w, v.ptr, v.len);
                else
                    gw_jw_string(w, "");
                gw_jw_key(w, "args");
                gw_tr_args(w, gw_vj_path(&call, "function.arguments", &args) ? &args : NULL, tmp);
                gw_jw_object_end(w);
                gw_jw_object_end(w);
                n++;
            }
        }
    }
    if (n == 0) { /* Gemini wants at least one part */
        gw_jw_object_begin(w);
        gw_jw_key(w, "text");
        gw_jw_string(w, "");
        gw_jw_object_end(w);
    }
    gw_jw_array_end(w);
    gw_jw_object_end(w);
}

static const gw_tr_keys gw_google_keys = {.temperature = "temperature",
                                          .top_p = "topP",
                                          .max_tokens = "maxOutputTokens",
                                          .stop = "stopSequences",
                                          .seed = "seed",
                                          .presence = "presencePenalty",
                                          .frequency = "frequencyPenalty",
                                          .n = "candidateCount"};

static int gw_google_ai_request(gw_tr *t, gw_jw *w, gw_buf *tmp, char err[GW_ERR_LEN])
{
    gw_vj_iter it;
    gw_json_value m, c, v, fn;
    char role[16];
    int nsys = 0;

    gw_jw_object_begin(w);
    gw_jw_key(w, "contents");
    gw_jw_array_begin(w);
    gw_vj_iter_init(&it, TRV(t, TR_MESSAGES));
    while (gw_vj_next_elem(&it, &m))
        if (gw_tr_role(&m, role, sizeof(role)) == 0 && strcmp(role, "system") != 0)
            gw_tr_google_message(t, w, &m, role, tmp);
    gw_jw_array_end(w);
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
        gw_jw_key(w, "systemInstruction");
        gw_jw_object_begin(w);
        gw_jw_key(w, "parts");
        gw_jw_array_begin(w);
        gw_jw_object_begin(w);
        gw_jw_key(w, "text");
        gw_tr_inner(w, tmp->data, tmp->len);
        gw_jw_object_end(w);
        gw_jw_array_end(w);
        gw_jw_object_end(w);
    }
    gw_jw_key(w, "generationConfig");
    gw_jw_object_begin(w);
    gw_tr_sampling(t, w, &gw_google_keys);
    if (gw_vj_get(TRV(t, TR_RESPONSE_FORMAT), "type", &v) &&
        (gw_vj_str_is(&v, "json_object") || gw_vj_str_is(&v, "json_schema"))) {
        gw_jw_key(w, "responseMimeType");
        gw_jw_string(w, "application/json");
        if (gw_vj_path(TRV(t, TR_RESPONSE_FORMAT), "json_schema.schema", &v) && v.type == GW_JSON_OBJECT)
            gw_tr_raw(w, "responseJsonSchema", &v);
    }
    gw_jw_object_end(w);
    if (TR_HAS(t, TR_TOOLS) && !gw_vj_array_empty(TRV(t, TR_TOOLS))) {
        gw_jw_key(w, "tools");
        gw_jw_array_begin(w);
        gw_jw_object_begin(w);
        gw_jw_key(w, "functionDeclarations");
        gw_jw_array_begin(w);
        gw_vj_iter_init(&it, TRV(t, TR_TOOLS));
        while (gw_vj_next_elem(&it, &m)) {
            if (!gw_vj_get(&m, "function", &fn) || !gw_vj_get(&fn, "name", &v))
                continue;
            gw_jw_object_begin(w);
            gw_tr_raw(w, "name", &v);
            if (gw_vj_get(&fn, "description", &v) && v.type == GW_JSON_STRING)
                gw_tr_raw(w, "description", &v);
            if (gw_vj_get(&fn, "parameters", &v) && v.type == GW_JSON_OBJECT)
                gw_tr_raw(w, "parametersJsonSchema", &v);
            gw_jw_object_end(w);
        }
        gw_jw_array_end(w);
        gw_jw_object_end(w);
        gw_jw_array_end(w);
        if (TR_HAS(t, TR_TOOL_CHOICE)) {
            const gw_json_value *tc = TRV(t, TR_TOOL_CHOICE);
            int named = tc->type == GW_JSON_OBJECT && gw_vj_path(tc, "function.name", &v);
            gw_jw_key(w, "toolConfig");
            gw_jw_object_begin(w);
            gw_jw_key(w, "functionCallingConfig");
            gw_jw_object_begin(w);
            gw_jw_key(w, "mode");
            gw_jw_string(w, named || gw_vj_str_is(tc, "required") ? "ANY" : gw_vj_str_is(tc, "none") ? "NONE" : "AUTO");
            if (named) {
                gw_jw_key(w, "allowedFunctionNames");
                gw_jw_array_begin(w);
                gw_jw_raw(w, v.ptr, v.len);
                gw_jw_array_end(w);
            }
            gw_jw_object_end(w);
            gw_jw_object_end(w);
        }
    }
    gw_jw_object_end(w);
    if (gw_jw_finish(w) != 0 || tmp->failed)
        return gw_errf(err, "out of memory translating the request");
    t->out->body_rewritten = 1;
    return 0;
}

/* Gemini model names go in the path: "models/x" is x, and only a safe set of characters. */
static int gw_google_ai_model(char model[GW_MODEL_MAX], char err[GW_ERR_LEN])
{
    if (strncmp(model, "models/", 7) == 0)
        memmove(model, model + 7, strlen(model + 7) + 1);
    if (model[0] == '\0')
        return gw_errf(err, "the model name contains characters not allowed in a Google model path");
    for (const char *m = model; *m != '\0'; m++)
        if (!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z') || (*m >= '0' && *m <= '9') || *m == '-' ||
              *m == '_' || *m == '.' || *m == '@'))
            return gw_errf(err, "the model name contains characters not allowed in a Google model path");
    return 0;
}

static gw_dialect gw_google_dialect(const char *path)
{
    char model[GW_MODEL_MAX], method[32], err[GW_ERR_LEN];
    const char *at;

    if (gw_google_split(path, model, method, &at, err) != 1)
        return GW_DIALECT_NONE;
    return strcmp(method, "generateContent") == 0 || strcmp(method, "streamGenerateContent") == 0 ? GW_DIALECT_GOOGLE
                                                                                                  : GW_DIALECT_NONE;
}

/* The Gemini API's path: a version first unless the endpoint has one. */
static int gw_google_ai_path(const gw_tr *t, gw_buf *path, const char **query)
{
    *query = NULL;
    if (!gw_vendor_endpoint_versioned(t->llm->api_endpoint))
        gw_buf_puts(path, "/v1beta");
    gw_buf_printf(path, "/models/%s:%s", t->out->model, t->stream ? "streamGenerateContent" : "generateContent");
    if (t->stream)
        *query = "alt=sse";
    return path->failed ? -1 : 0;
}

/* Vertex's path: under the endpoint's project and location, the Google
 * publisher unless the endpoint names one. */
static int gw_vertex_ai_path(const gw_tr *t, gw_buf *path, const char **query)
{
    const char *ep = t->llm->api_endpoint;

    *query = NULL;
    if (strstr(ep, "/locations/") != NULL && strstr(ep, "/publishers/") == NULL)
        gw_buf_puts(path, "/publishers/google");
    gw_buf_printf(path, "/models/%s:%s", t->out->model, t->stream ? "streamGenerateContent" : "generateContent");
    if (t->stream)
        *query = "alt=sse";
    return path->failed ? -1 : 0;
}

const gw_wire_ops gw_wire_google = {
    .name = "google",
    .prepare = gw_google_prepare,
    .dialect = gw_google_dialect,
    .ai_dialect = GW_DIALECT_GOOGLE,
    .ai_model = gw_google_ai_model,
    .ai_request = gw_google_ai_request,
    .ai_path = gw_google_ai_path,
    .sse = gw_google_sse,
    .elem = gw_google_elem,
    .json = gw_google_json,
    .error_style = GW_ERRSTYLE_GOOGLE,
    .models_path = "/v1beta/models",
    .models_array = "models",
    .models_field = "name",
    .models_prefix = "models/",
};

/* Gemini on Vertex AI: the same wire, project-scoped paths (no model list: "test connection" sends a chat of one token). */
const gw_wire_ops gw_wire_vertex = {
    .name = "vertex",
    .prepare = gw_google_prepare,
    .dialect = gw_google_dialect,
    .ai_dialect = GW_DIALECT_GOOGLE,
    .ai_model = gw_google_ai_model,
    .ai_request = gw_google_ai_request,
    .ai_path = gw_vertex_ai_path,
    .sse = gw_google_sse,
    .elem = gw_google_elem,
    .json = gw_google_json,
    .project_paths = 1,
    .error_style = GW_ERRSTYLE_GOOGLE,
};
