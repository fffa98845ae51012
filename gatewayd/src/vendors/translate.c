/*
 * src/vendors/translate.c: the request side of /ai/{slug}/v1/chat/completions:
 * an OpenAI chat-completions body (messages incl. system / developer, tool
 * calls and tool results, text and image parts, temperature, top_p,
 * max_tokens / max_completion_tokens, stop, seed, penalties, tools,
 * tool_choice, response_format, stream, stream_options) is validated and
 * rewritten into the LLM's vendor request:
 *   openai / huggingface  the body as is (model defaulted, include_usage
 *                         injected for a stream), {endpoint}/v1/chat/completions
 *   anthropic             {endpoint}/v1/messages (max_tokens defaults to 4096)
 *   google_ai             {endpoint}/v1beta/models/{m}:generateContent or
 *                         :streamGenerateContent?alt=sse
 *   vertex                {endpoint}/models/{m}:… where api_endpoint is
 *                         https://REGION-aiplatform.googleapis.com/v1/projects/P/
 *                         locations/L/publishers/google ("/publishers/google"
 *                         is added when the endpoint stops at the location)
 *   ollama                {endpoint}/api/chat ("stream" always explicit)
 * An endpoint that already ends with a version segment (".../v1") is not
 * given a second one. For a stream, strip_usage_chunk tells the processor
 * that the client did not ask for stream_options.include_usage, so the
 * translated stream carries no usage chunk. The response side at the end
 * of this file writes OpenAI chat.completion / chat.completion.chunk frames
 * for the vendor hooks (id "chatcmpl-<request_id>", the role chunk first,
 * tool calls with their index, the finish chunk, the usage chunk when the
 * client asked for it, then data: [DONE]); usage is reported in OpenAI
 * semantics (Anthropic: prompt = input + cache write + cache read).
 */
#include <stdio.h>
#include <string.h>

#include "vendors/vendor_int.h"

static const char *const gw_tr_names[TR_NFIELDS] = {
    "model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens", "max_completion_tokens",
    "stop", "tools", "tool_choice", "response_format", "seed", "presence_penalty", "frequency_penalty", "n",
    "parallel_tool_calls", "user"};


/* ---- reading the OpenAI request ---- */

int gw_tr_role(const gw_json_value *msg, char *role, size_t cap)
{
    gw_json_value r;

    if (!gw_vj_get(msg, "role", &r) || gw_vj_str_copy(&r, role, cap) <= 0)
        return -1;
    if (strcmp(role, "developer") == 0)
        snprintf(role, cap, "system");
    if (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
        strcmp(role, "tool") != 0 && strcmp(role, "function") != 0)
        return -1;
    return 0;
}

static int gw_tr_validate(gw_tr *t, char err[GW_ERR_LEN])
{
    gw_vj_iter it;
    gw_json_value m, c;
    char role[16];
    size_t i = 0;
    int64_t n;

    if (TRV(t, TR_MESSAGES)->type != GW_JSON_ARRAY || gw_vj_array_empty(TRV(t, TR_MESSAGES)))
        return gw_errf(err, "\"messages\" must be a non-empty array");
    gw_vj_iter_init(&it, TRV(t, TR_MESSAGES));
    while (gw_vj_next_elem(&it, &m)) {
        if (m.type != GW_JSON_OBJECT || gw_tr_role(&m, role, sizeof(role)) != 0)
            return gw_errf(err, "messages[%zu] needs a role of system, developer, user, assistant or tool", i);
        if (gw_vj_get(&m, "content", &c) && c.type != GW_JSON_STRING && c.type != GW_JSON_ARRAY &&
            c.type != GW_JSON_NULL)
            return gw_errf(err, "messages[%zu].content must be a string, an array of parts or null", i);
        i++;
    }
    if (TR_HAS(t, TR_MODEL) && TRV(t, TR_MODEL)->type != GW_JSON_STRING)
        return gw_errf(err, "\"model\" must be a string");
    if (TR_HAS(t, TR_STREAM) && gw_json_get_bool(TRV(t, TR_STREAM), &t->stream) != 0)
        return gw_errf(err, "\"stream\" must be a boolean");
    if (TR_HAS(t, TR_STREAM_OPTIONS)) {
        gw_json_value iu;
        if (TRV(t, TR_STREAM_OPTIONS)->type != GW_JSON_OBJECT)
            return gw_errf(err, "\"stream_options\" must be an object");
        t->include_usage = gw_vj_get(TRV(t, TR_STREAM_OPTIONS), "include_usage", &iu) && iu.type == GW_JSON_TRUE;
    }
    for (int k = TR_TEMPERATURE; k <= TR_TOP_P; k++)
        if (TR_HAS(t, k) && TRV(t, k)->type != GW_JSON_NUMBER)
            return gw_errf(err, "\"%s\" must be a number", gw_tr_names[k]);
    for (int k = TR_PRESENCE; k <= TR_FREQUENCY; k++)
        if (TR_HAS(t, k) && TRV(t, k)->type != GW_JSON_NUMBER)
            return gw_errf(err, "\"%s\" must be a number", gw_tr_names[k]);
    for (int k = TR_MAX_TOKENS; k <= TR_MAX_COMPLETION_TOKENS; k++)
        if (TR_HAS(t, k) && (gw_json_get_int64(TRV(t, k), &n) != 0 || n < 1))
            return gw_errf(err, "\"%s\" must be a positive integer", gw_tr_names[k]);
    if (TR_HAS(t, TR_SEED) && gw_json_get_int64(TRV(t, TR_SEED), &n) != 0)
        return gw_errf(err, "\"seed\" must be an integer");
    if (TR_HAS(t, TR_STOP) && TRV(t, TR_STOP)->type != GW_JSON_STRING) {
        if (TRV(t, TR_STOP)->type != GW_JSON_ARRAY)
            return gw_errf(err, "\"stop\" must be a string or an array of strings");
        gw_vj_iter_init(&it, TRV(t, TR_STOP));
        while (gw_vj_next_elem(&it, &m))
            if (m.type != GW_JSON_STRING)
                return gw_errf(err, "\"stop\" must be a string or an array of strings");
    }
    if (TR_HAS(t, TR_TOOLS) && TRV(t, TR_TOOLS)->type != GW_JSON_ARRAY)
        return gw_errf(err, "\"tools\" must be an array");
    return 0;
}

/* The text of a content value as escaped JSON string text (no quotes):
 * a string, or the "text" of the parts of an array joined by sep. */
int gw_tr_text(const gw_json_value *content, gw_buf *b, const char *sep)
{
    gw_vj_iter it;
    gw_json_value part, v;
    int n = 0;

    if (content->type == GW_JSON_STRING) {
        gw_buf_append(b, content->ptr + 1, content->len - 2);
        return 1;
    }
    gw_vj_iter_init(&it, content);
    while (gw_vj_next_elem(&it, &part)) {
        if (part.type == GW_JSON_STRING)
            v = part;
        else if (!gw_vj_get(&part, "text", &v) || v.type != GW_JSON_STRING)
            continue;
        if (n++ > 0)
            gw_buf_puts(b, sep);
        gw_buf_append(b, v.ptr + 1, v.len - 2);
    }
    return n;
}

/* Writes escaped string text (no quotes) as one JSON string value. */
void gw_tr_inner(gw_jw *w, const char *inner, size_t n)
{
    gw_jw_raw(w, "\"", 1);
    gw_buf_append(w->b, inner, n);
    gw_buf_append(w->b, "\"", 1);
}

/* Writes the text of a content value as one JSON string. */
void gw_tr_text_value(gw_jw *w, const gw_json_value *content, gw_buf *tmp)
{
    gw_buf_reset(tmp);
    gw_buf_puts(tmp, "\"");
    if (content != NULL && content->type != GW_JSON_ABSENT)
        gw_tr_text(content, tmp, "\\n");
    gw_buf_puts(tmp, "\"");
    gw_jw_raw(w, tmp->data, tmp->len);
}

/* An image_url part: decoded URL in tmp; for a data: URL, the media type
 * and the base64 payload (pointers into tmp). 0, or -1 when not an image. */
int gw_tr_image(const gw_json_value *part, gw_buf *tmp, const char **mime, size_t *mlen, const char **data)
{
    gw_json_value t, u;

    if (!gw_vj_get(part, "type", &t) || !gw_vj_str_is(&t, "image_url") || !gw_vj_get(part, "image_url", &u))
        return -1;
    if (u.type == GW_JSON_OBJECT && !gw_vj_get(&u, "url", &u))
        return -1;
    gw_buf_reset(tmp);
    if (gw_vj_str_append(&u, tmp) != 0 || gw_buf_cstr(tmp) == NULL)
        return -1;
    *mime = NULL;
    *data = NULL;
    *mlen = 0;
    if (strncmp(tmp->data, "data:", 5) == 0) {
        const char *b64 = strstr(tmp->data, ";base64,");
        if (b64 == NULL)
            return -1;
        *mime = tmp->data + 5;
        *mlen = (size_t)(b64 - tmp->data - 5);
        *data = b64 + 8;
    }
    return 0;
}

/* The object an OpenAI "arguments" string holds ({} when it is not one). */
void gw_tr_args(gw_jw *w, const gw_json_value *args, gw_buf *tmp)
{
    if (args != NULL && args->type == GW_JSON_OBJECT) {
        gw_jw_raw(w, args->ptr, args->len);
        return;
    }
    gw_buf_reset(tmp);
    if (args != NULL && args->type == GW_JSON_STRING && gw_vj_str_append(args, tmp) == 0 && tmp->len > 0 &&
        gw_json_validate(tmp->data, tmp->len, GW_JSON_DEFAULT_MAX_DEPTH, NULL) == 0) {
        gw_json_value v;
        gw_vj_parse(tmp->data, tmp->len, &v, NULL);
        if (v.type == GW_JSON_OBJECT) {
            gw_jw_raw(w, v.ptr, v.len);
            return;
        }
    }
    gw_jw_raw(w, "{}", 2);
}

void gw_tr_raw(gw_jw *w, const char *key, const gw_json_value *v)
{
    gw_jw_key(w, key);
    gw_jw_raw(w, v->ptr, v->len);
}

/* stop as an array of strings */
void gw_tr_stop(gw_jw *w, const char *key, const gw_json_value *stop)
{
    gw_jw_key(w, key);
    if (stop->type == GW_JSON_STRING) {
        gw_jw_array_begin(w);
        gw_jw_raw(w, stop->ptr, stop->len);
        gw_jw_array_end(w);
    } else {
        gw_jw_raw(w, stop->ptr, stop->len);
    }
}

int64_t gw_tr_max_tokens(gw_tr *t)
{
    int64_t n;

    if (gw_json_get_int64(TRV(t, TR_MAX_COMPLETION_TOKENS), &n) == 0)
        return n;
    if (gw_json_get_int64(TRV(t, TR_MAX_TOKENS), &n) == 0)
        return n;
    return -1;
}


/* The JSON object a string holds, parsed out of tmp (1), else 0. */
int gw_tr_json_obj(const gw_json_value *str, gw_buf *tmp, gw_json_value *out)
{
    gw_buf_reset(tmp);
    if (str->type != GW_JSON_STRING || gw_vj_str_append(str, tmp) != 0 || tmp->len == 0 ||
        gw_vj_parse(tmp->data, tmp->len, out, NULL) != 0)
        return 0;
    return out->type == GW_JSON_OBJECT;
}

/* The function name of the assistant tool call with this id. */
int gw_tr_tool_name(const gw_json_value *messages, const gw_json_value *id, gw_json_value *name)
{
    gw_vj_iter it, ct;
    gw_json_value m, calls, call, cid;

    gw_vj_iter_init(&it, messages);
    while (gw_vj_next_elem(&it, &m)) {
        if (!gw_vj_get(&m, "tool_calls", &calls))
            continue;
        gw_vj_iter_init(&ct, &calls);
        while (gw_vj_next_elem(&ct, &call))
            if (gw_vj_get(&call, "id", &cid) && cid.len == id->len && memcmp(cid.ptr, id->ptr, id->len) == 0 &&
                gw_vj_path(&call, "function.name", name) && name->type == GW_JSON_STRING)
                return 1;
    }
    return 0;
}


/* ---- OpenAI-compatible: the body nearly as is ---- */

static int gw_tr_openai(gw_tr *t)
{
    int need_model = !TR_HAS(t, TR_MODEL) || TRV(t, TR_MODEL)->len <= 2;
    int need_usage = t->stream && !t->include_usage;
    const char *skip[2];
    size_t nskip = 0;
    gw_buf extra;
    gw_jw w;
    int n = 0, rc;

    t->out->max_tokens = gw_tr_max_tokens(t);
    if (!need_model && !need_usage)
        return 0;
    gw_buf_init(&extra, 0);
    if (need_model) {
        skip[nskip++] = "model";
        gw_buf_puts(&extra, "\"model\":");
        gw_jw_init(&w, &extra);
        gw_jw_string(&w, t->out->model);
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
    return rc;
}

/* ---- the entry point ---- */

static int gw_tr_google_model_ok(const char *m)
{
    if (*m == '\0')
        return 0;
    for (; *m != '\0'; m++)
        if (!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z') || (*m >= '0' && *m <= '9') || *m == '-' ||
              *m == '_' || *m == '.' || *m == '@'))
            return 0;
    return 1;
}

static int gw_tr_path(gw_tr *t, gw_buf *path, const char **query)
{
    const char *ep = t->llm->api_endpoint;
    int versioned = gw_vendor_endpoint_versioned(ep);
    size_t el = strlen(ep);

    while (el > 0 && ep[el - 1] == '/')
        el--;
    *query = NULL;
    switch (t->vendor) {
    case GW_VENDOR_ANTHROPIC:
        return gw_buf_puts(path, versioned ? "/messages" : "/v1/messages");
    case GW_VENDOR_OLLAMA:
        return gw_buf_puts(path, el >= 4 && memcmp(ep + el - 4, "/api", 4) == 0 ? "/chat" : "/api/chat");
    case GW_VENDOR_GOOGLE_AI:
    case GW_VENDOR_VERTEX:
        if (t->vendor == GW_VENDOR_GOOGLE_AI && !versioned)
            gw_buf_puts(path, "/v1beta");
        else if (t->vendor == GW_VENDOR_VERTEX && strstr(ep, "/locations/") != NULL &&
                 strstr(ep, "/publishers/") == NULL)
            gw_buf_puts(path, "/publishers/google");
        gw_buf_printf(path, "/models/%s:%s", t->out->model, t->stream ? "streamGenerateContent" : "generateContent");
        if (t->stream)
            *query = "alt=sse";
        return path->failed ? -1 : 0;
    default:
        return gw_buf_puts(path, versioned ? "/chat/completions" : "/v1/chat/completions");
    }
}

int gw_vendor_translate_request(const gw_llm *llm, const gw_header *headers, size_t nheaders, const char *body,
                                size_t body_len, gw_upstream_req *out, int *status, char err[GW_ERR_LEN])
{
    gw_tr t;
    gw_buf tmp, path;
    gw_jw w;
    const char *query = NULL;
    char perr[GW_ERR_LEN];
    int rc = 0;

    *status = 400;
    memset(&t, 0, sizeof(t));
    t.llm = llm;
    t.body = body;
    t.body_len = body_len;
    t.out = out;
    t.vendor = out->vendor = gw_vendor_parse(llm->vendor);
    if (t.vendor == GW_VENDOR_UNKNOWN || llm->api_endpoint == NULL || llm->api_endpoint[0] == '\0') {
        *status = 502;
        return gw_errf(err, "the LLM has an unknown vendor or no api_endpoint");
    }
    for (int i = 0; i < TR_NFIELDS; i++)
        t.f[i].name = gw_tr_names[i];
    if (body == NULL || gw_json_scan_object(body, body_len, GW_JSON_DEFAULT_MAX_DEPTH, t.f, TR_NFIELDS, perr) != 0)
        return gw_errf(err, "the request body is not valid JSON: %s", body == NULL ? "empty body" : perr);
    if (gw_tr_validate(&t, err) != 0)
        return -1;
    /* the model the upstream gets is the one checked: the openai body
     * goes on nearly unchanged, so a cut name would differ from it */
    if (gw_vendor_model_from_json(TRV(&t, TR_MODEL), out->model, err) != 0)
        return -1;
    if (out->model[0] == '\0' && llm->default_model != NULL) {
        if (gw_vendor_model_check(llm->default_model, strlen(llm->default_model), err) != 0) {
            *status = 502; /* never a cut name upstream or in the event */
            return -1;
        }
        snprintf(out->model, sizeof(out->model), "%s", llm->default_model);
    }
    if (out->model[0] == '\0')
        return gw_errf(err, "the request names no model and the LLM has no default model");
    if (t.vendor == GW_VENDOR_GOOGLE_AI || t.vendor == GW_VENDOR_VERTEX) {
        if (strncmp(out->model, "models/", 7) == 0)
            memmove(out->model, out->model + 7, strlen(out->model + 7) + 1);
        if (!gw_tr_google_model_ok(out->model))
            return gw_errf(err, "the model name contains characters not allowed in a Google model path");
    }
    snprintf(out->method, sizeof(out->method), "POST");
    out->stream = t.stream;
    out->proc_mode = t.stream ? GW_PROC_AI_SSE : GW_PROC_AI_JSON;
    out->strip_usage_chunk = t.stream && !t.include_usage;
    out->prompt_bytes = TRV(&t, TR_MESSAGES)->len;
    out->max_tokens = -1;
    gw_buf_init(&tmp, 0);
    gw_buf_init(&path, 0);
    gw_buf_reset(&out->body);
    gw_jw_init(&w, &out->body);
    switch (t.vendor) {
    case GW_VENDOR_ANTHROPIC:
        gw_tr_anthropic(&t, &w, &tmp);
        break;
    case GW_VENDOR_GOOGLE_AI:
    case GW_VENDOR_VERTEX:
        gw_tr_google(&t, &w, &tmp);
        break;
    case GW_VENDOR_OLLAMA:
        gw_tr_ollama(&t, &w, &tmp);
        break;
    default:
        rc = gw_tr_openai(&t);
    }
    *status = 500;
    if (t.vendor == GW_VENDOR_OPENAI || t.vendor == GW_VENDOR_HUGGINGFACE) {
        if (rc != 0)
            rc = gw_errf(err, "out of memory rewriting the body");
    } else if (gw_jw_finish(&w) != 0 || tmp.failed) {
        rc = gw_errf(err, "out of memory translating the request");
    } else {
        out->body_rewritten = 1;
    }
    if (rc == 0 && (gw_tr_path(&t, &path, &query) != 0 ||
                    gw_vendor_build_url(out, llm->api_endpoint, path.data, query, 0) != 0))
        rc = gw_errf(err, "out of memory building the upstream URL");
    if (rc == 0 && gw_vendor_build_headers(out, llm, headers, nheaders, 1, 1, err) != 0) {
        *status = 502;
        rc = -1;
    }
    gw_buf_free(&tmp);
    gw_buf_free(&path);
    return rc;
}

/* ================= the OpenAI response side ================= */

static const char *gw_ai_model(const gw_stream_proc *p)
{
    return p->model[0] != '\0' ? p->model : p->opt_model;
}

static void gw_ai_head(gw_stream_proc *p, gw_jw *w, const char *object)
{
    char id[128];

    snprintf(id, sizeof(id), "chatcmpl-%s", p->request_id);
    gw_jw_object_begin(w);
    gw_jw_key(w, "id");
    gw_jw_string(w, id);
    gw_jw_key(w, "object");
    gw_jw_string(w, object);
    gw_jw_key(w, "created");
    gw_jw_int(w, p->o.created);
    gw_jw_key(w, "model");
    gw_jw_string(w, gw_ai_model(p));
}

/* Emits p->out as "data: …\n\n" once the document w is complete. */
static int gw_ai_send_frame(gw_stream_proc *p, gw_jw *w)
{
    if (gw_jw_finish(w) != 0)
        return gw_proc_fail(p, "out of memory writing a translated chunk");
    gw_buf_puts(&p->out, "\n\n");
    if (p->out.failed)
        return gw_proc_fail(p, "out of memory writing a translated chunk");
    return gw_proc_emit(p, p->out.data, p->out.len);
}

/* One chunk with a delta (raw JSON) and a finish_reason (NULL: null). */
static int gw_ai_chunk(gw_stream_proc *p, const char *delta, size_t dlen, const char *finish)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_buf_puts(&p->out, "data: ");
    gw_jw_init(&w, &p->out);
    gw_ai_head(p, &w, "chat.completion.chunk");
    gw_jw_key(&w, "choices");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "index");
    gw_jw_int(&w, 0);
    gw_jw_key(&w, "delta");
    gw_jw_raw(&w, delta, dlen);
    gw_jw_key(&w, "logprobs");
    gw_jw_null(&w);
    gw_jw_key(&w, "finish_reason");
    gw_jw_string(&w, finish);
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_object_end(&w);
    return gw_ai_send_frame(p, &w);
}

int gw_ai_delta(gw_stream_proc *p, const char *delta, size_t len)
{
    static const char role[] = "{\"role\":\"assistant\",\"content\":\"\"}";

    if (!p->ai_started) {
        p->ai_started = 1;
        if (gw_ai_chunk(p, role, sizeof(role) - 1, NULL) != 0)
            return -1;
    }
    if (delta == NULL)
        return 0;
    return gw_ai_chunk(p, delta, len, NULL);
}

int gw_ai_text(gw_stream_proc *p, const gw_json_value *str)
{
    gw_buf d;
    int rc;

    if (str == NULL || str->type != GW_JSON_STRING || str->len <= 2)
        return gw_ai_delta(p, NULL, 0);
    gw_buf_init(&d, 0);
    gw_buf_puts(&d, "{\"content\":");
    gw_buf_append(&d, str->ptr, str->len);
    gw_buf_puts(&d, "}");
    p->ai_text = 1;
    p->content_units++;
    rc = d.failed ? gw_proc_fail(p, "out of memory") : gw_ai_delta(p, d.data, d.len);
    gw_buf_free(&d);
    return rc;
}

/* "arguments": a JSON string value as is, an object serialized as a string. */
static void gw_ai_args(gw_jw *w, const gw_json_value *args_str, const gw_json_value *args_obj)
{
    gw_jw_key(w, "arguments");
    if (args_str != NULL && args_str->type == GW_JSON_STRING)
        gw_jw_raw(w, args_str->ptr, args_str->len);
    else if (args_obj != NULL && args_obj->type != GW_JSON_ABSENT && args_obj->type != GW_JSON_NULL)
        gw_jw_string_n(w, args_obj->ptr, args_obj->len);
    else
        gw_jw_string(w, args_obj != NULL ? "{}" : "");
}

static void gw_ai_tool_fields(gw_jw *w, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                              const gw_json_value *args_str, const gw_json_value *args_obj)
{
    int has_id = (id != NULL && id->type == GW_JSON_STRING) || gen_id != NULL;

    if (has_id) {
        gw_jw_key(w, "id");
        if (id != NULL && id->type == GW_JSON_STRING)
            gw_jw_raw(w, id->ptr, id->len);
        else
            gw_jw_string(w, gen_id);
        gw_jw_key(w, "type");
        gw_jw_string(w, "function");
    }
    gw_jw_key(w, "function");
    gw_jw_object_begin(w);
    if (name != NULL && name->type == GW_JSON_STRING) {
        gw_jw_key(w, "name");
        gw_jw_raw(w, name->ptr, name->len);
    }
    gw_ai_args(w, args_str, args_obj);
    gw_jw_object_end(w);
}

int gw_ai_tool(gw_stream_proc *p, int index, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
               const gw_json_value *args_str, const gw_json_value *args_obj)
{
    gw_buf d;
    gw_jw w;
    int rc;

    gw_buf_init(&d, 0);
    gw_jw_init(&w, &d);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "tool_calls");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "index");
    gw_jw_int(&w, index);
    gw_ai_tool_fields(&w, id, gen_id, name, args_str, args_obj);
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_object_end(&w);
    rc = gw_jw_finish(&w) != 0 ? gw_proc_fail(p, "out of memory") : gw_ai_delta(p, d.data, d.len);
    gw_buf_free(&d);
    return rc;
}

void gw_ai_tool_call_json(gw_buf *b, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                          const gw_json_value *args_str, const gw_json_value *args_obj)
{
    gw_jw w;
    static const gw_json_value empty_obj = {GW_JSON_OBJECT, "{}", 2};

    gw_jw_init(&w, b);
    gw_jw_object_begin(&w);
    if ((id == NULL || id->type != GW_JSON_STRING) && gen_id == NULL)
        gen_id = "call_0";
    gw_ai_tool_fields(&w, id, gen_id, name, args_str,
                      args_obj != NULL && args_obj->type != GW_JSON_ABSENT ? args_obj : &empty_obj);
    gw_jw_object_end(&w);
}

void gw_ai_set_finish(gw_stream_proc *p, const gw_json_value *r)
{
    static const char *const length[] = {"max_tokens", "MAX_TOKENS", "length", "model_context_window_exceeded"};
    static const char *const tools[] = {"tool_use", "tool_calls", "function_call"};
    static const char *const filter[] = {"SAFETY",     "RECITATION", "BLOCKLIST",      "PROHIBITED_CONTENT",
                                         "SPII",       "IMAGE_SAFETY", "refusal",      "content_filter",
                                         "LANGUAGE"};
    const char *f = "stop"; /* end_turn, stop_sequence, stop, STOP, pause_turn and anything unknown */

    for (size_t i = 0; i < sizeof(length) / sizeof(length[0]); i++)
        if (gw_vj_str_is(r, length[i]))
            f = "length";
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
        if (gw_vj_str_is(r, tools[i]))
            f = "tool_calls";
    for (size_t i = 0; i < sizeof(filter) / sizeof(filter[0]); i++)
        if (gw_vj_str_is(r, filter[i]))
            f = "content_filter";
    snprintf(p->ai_finish, sizeof(p->ai_finish), "%s", f);
}

static const char *gw_ai_finish_reason(const gw_stream_proc *p)
{
    const char *f = p->ai_finish[0] != '\0' ? p->ai_finish : "stop";
    return p->ai_tools > 0 && strcmp(f, "stop") == 0 ? "tool_calls" : f;
}

void gw_ai_write_usage(gw_jw *w, const gw_stream_proc *p)
{
    const gw_usage *u = &p->usage;
    int64_t prompt = u->prompt_tokens;

    if (p->o.vendor == GW_VENDOR_ANTHROPIC) /* OpenAI counts cached input in the prompt */
        prompt += u->cache_write_tokens + u->cache_read_tokens;
    gw_jw_object_begin(w);
    gw_jw_key(w, "prompt_tokens");
    gw_jw_int(w, prompt);
    gw_jw_key(w, "completion_tokens");
    gw_jw_int(w, u->response_tokens);
    gw_jw_key(w, "total_tokens");
    gw_jw_int(w, prompt + u->response_tokens);
    gw_jw_key(w, "prompt_tokens_details");
    gw_jw_object_begin(w);
    gw_jw_key(w, "cached_tokens");
    gw_jw_int(w, u->cache_read_tokens);
    gw_jw_object_end(w);
    gw_jw_object_end(w);
}

int gw_ai_end(gw_stream_proc *p)
{
    gw_jw w;

    if (p->ai_done)
        return 0;
    p->ai_done = 1;
    if (gw_ai_delta(p, NULL, 0) != 0 || gw_ai_chunk(p, "{}", 2, gw_ai_finish_reason(p)) != 0)
        return -1;
    if (!p->o.strip_usage_chunk) {
        gw_buf_reset(&p->out);
        gw_buf_puts(&p->out, "data: ");
        gw_jw_init(&w, &p->out);
        gw_ai_head(p, &w, "chat.completion.chunk");
        gw_jw_key(&w, "choices");
        gw_jw_raw(&w, "[]", 2);
        gw_jw_key(&w, "usage");
        gw_ai_write_usage(&w, p);
        gw_jw_object_end(&w);
        if (gw_ai_send_frame(p, &w) != 0)
            return -1;
    }
    return gw_proc_emit(p, "data: [DONE]\n\n", 14);
}

static void gw_ai_error_object(gw_jw *w, const char *msg)
{
    gw_jw_object_begin(w);
    gw_jw_key(w, "error");
    gw_jw_object_begin(w);
    gw_jw_key(w, "message");
    gw_jw_string(w, msg);
    gw_jw_key(w, "type");
    gw_jw_string(w, "upstream_error");
    gw_jw_key(w, "code");
    gw_jw_string(w, "upstream_error");
    gw_jw_object_end(w);
    gw_jw_object_end(w);
}

int gw_ai_error(gw_stream_proc *p, const char *msg)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_buf_puts(&p->out, "data: ");
    gw_jw_init(&w, &p->out);
    gw_ai_error_object(&w, msg);
    return gw_ai_send_frame(p, &w);
}

int gw_ai_error_body(gw_stream_proc *p, const char *msg)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_jw_init(&w, &p->out);
    gw_ai_error_object(&w, msg);
    if (gw_jw_finish(&w) != 0)
        return gw_proc_fail(p, "out of memory writing the error");
    return gw_proc_emit(p, p->out.data, p->out.len);
}

int gw_ai_completion(gw_stream_proc *p, const char *content_inner, size_t clen, const char *tool_calls, size_t tlen)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_jw_init(&w, &p->out);
    gw_ai_head(p, &w, "chat.completion");
    gw_jw_key(&w, "choices");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "index");
    gw_jw_int(&w, 0);
    gw_jw_key(&w, "message");
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "role");
    gw_jw_string(&w, "assistant");
    gw_jw_key(&w, "content");
    if (content_inner != NULL)
        gw_tr_inner(&w, content_inner, clen);
    else
        gw_jw_null(&w);
    if (tool_calls != NULL) {
        gw_jw_key(&w, "tool_calls");
        gw_jw_raw(&w, tool_calls, tlen);
    }
    gw_jw_object_end(&w);
    gw_jw_key(&w, "logprobs");
    gw_jw_null(&w);
    gw_jw_key(&w, "finish_reason");
    gw_jw_string(&w, gw_ai_finish_reason(p));
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_key(&w, "usage");
    gw_ai_write_usage(&w, p);
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0)
        return gw_proc_fail(p, "out of memory writing the translated answer");
    return gw_proc_emit(p, p->out.data, p->out.len);
}
