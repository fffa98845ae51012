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
 * translated stream carries no usage chunk. Here: the validation every
 * vendor shares and the dispatch; the vendor's wire row (registry.h) writes
 * its body (ai_request), names its path (ai_path) and may reshape the model
 * (ai_model); tr.c holds the reading helpers they use, aiout.c the OpenAI
 * answers they write.
 */
#include <stdio.h>
#include <string.h>

#include "vendors/registry.h"
static const char *const gw_tr_names[TR_NFIELDS] = {"model",
                                                    "messages",
                                                    "stream",
                                                    "stream_options",
                                                    "temperature",
                                                    "top_p",
                                                    "max_tokens",
                                                    "max_completion_tokens",
                                                    "stop",
                                                    "tools",
                                                    "tool_choice",
                                                    "response_format",
                                                    "seed",
                                                    "presence_penalty",
                                                    "frequency_penalty",
                                                    "n",
                                                    "parallel_tool_calls",
                                                    "user"};

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

/* ---- the entry point ---- */

int gw_vendor_translate_request(const gw_llm *llm, const gw_header *headers, size_t nheaders, const char *body,
                                size_t body_len, gw_upstream_req *out, int *status, char err[GW_ERR_LEN])
{
    gw_tr t;
    gw_buf tmp, path;
    gw_jw w;
    const char *query = NULL;
    const gw_vendor_def *vd;
    const gw_wire_ops *wire;
    char perr[GW_ERR_LEN];
    int rc = 0;

    *status = 400;
    memset(&t, 0, sizeof(t));
    t.llm = llm;
    t.body = body;
    t.body_len = body_len;
    t.out = out;
    t.vendor = out->vendor = gw_vendor_parse(llm->vendor);
    vd = gw_vendor_def_of(t.vendor);
    wire = gw_wire_of(t.vendor);
    if (vd == NULL || llm->api_endpoint == NULL || llm->api_endpoint[0] == '\0') {
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
    if (wire->ai_model != NULL && wire->ai_model(out->model, err) != 0)
        return -1;
    snprintf(out->method, sizeof(out->method), "POST");
    out->stream = t.stream;
    out->proc_mode = t.stream ? GW_PROC_AI_SSE : GW_PROC_AI_JSON;
    out->strip_usage_chunk = t.stream && !t.include_usage;
    out->prompt_bytes = TRV(&t, TR_MESSAGES)->len;
    out->dialect = wire->ai_dialect;
    out->max_tokens = -1;
    gw_buf_init(&tmp, 0);
    gw_buf_init(&path, 0);
    gw_buf_reset(&out->body);
    gw_jw_init(&w, &out->body);
    rc = wire->ai_request(&t, &w, &tmp, err);
    *status = 500;
    if (rc == 0 &&
        (wire->ai_path(&t, &path, &query) != 0 ||
         gw_vendor_build_url(out, llm->api_endpoint, path.data, query, 0, (vd->flags & GW_VF_PROJECT_PATHS) != 0) != 0))
        rc = gw_errf(err, "out of memory building the upstream URL");
    if (rc == 0 && gw_vendor_build_headers(out, llm, vd, wire, headers, nheaders, 1, 1, err) != 0) {
        *status = 502;
        rc = -1;
    }
    gw_buf_free(&tmp);
    gw_buf_free(&path);
    return rc;
}
