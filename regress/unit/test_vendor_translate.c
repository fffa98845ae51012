/*
 * regress/unit/test_vendor_translate.c: the /ai route. Requests: an OpenAI
 * chat-completions body becomes each vendor's request (URL, headers, body
 * fields: system, roles, tools and tool results, images, generation
 * parameters, stream, include_usage), and bad bodies are 400. Responses:
 * each vendor's JSON answer becomes a chat.completion and each vendor's
 * stream a chat.completion.chunk SSE stream (role first, content deltas,
 * tool-call deltas, finish_reason, the usage chunk only when the client
 * asked for it, then [DONE]), identical at every split of the input; usage
 * in OpenAI semantics for the client, the vendor's own numbers recorded.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/url.c"
#include "base/vjson.c"
#include "vendors/vendor.c"
#include "vendors/stream.c"
#include "vendors/openai.c"
#include "vendors/anthropic.c"
#include "vendors/google.c"
#include "vendors/ollama.c"
#include "vendors/translate.c"
#include "vendors/registry.c"
#include "vendors/prep.c"
#include "vendors/proc.c"
#include "vendors/tr.c"
#include "vendors/aiout.c"

#include "tap.h"

static char KEY[] = "vendor-key";

static gw_llm mk_llm(const char *vendor, const char *endpoint, const char *dflt)
{
    gw_llm l;
    memset(&l, 0, sizeof(l));
    l.name = "t";
    l.vendor = vendor;
    l.api_endpoint = endpoint;
    l.default_model = dflt;
    l.key_state = GW_KEY_OK;
    l.api_key = KEY;
    l.api_key_len = strlen(KEY);
    return l;
}

static const char *hdr(const gw_upstream_req *r, const char *name)
{
    size_t nl = strlen(name);
    for (size_t off = 0; off < r->headers.len;) {
        const char *line = r->headers.data + off;
        size_t ll = strlen(line);
        if (ll > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':')
            return line + nl + 2;
        off += ll + 1;
    }
    return NULL;
}

static int tr(const gw_llm *l, const char *body, gw_upstream_req *r, int *st, char *err)
{
    static const gw_header h[] = {{"Authorization", "Bearer gw-key"},
                                  {"Content-Type", "text/plain"},
                                  {"x-mock-cached-tokens", "2"}};
    gw_upstream_req_free(r);
    gw_upstream_req_init(r);
    err[0] = '\0';
    return gw_vendor_translate_request(l, h, 3, body, strlen(body), r, st, err);
}

/* a path in the (rewritten) body; *v set */
static int body_path(gw_upstream_req *r, const char *path, gw_json_value *v)
{
    gw_json_value root;
    if (gw_vj_parse(r->body.data, r->body.len, &root, NULL) != 0)
        return 0;
    return gw_vj_path(&root, path, v);
}

static int body_is(gw_upstream_req *r, const char *path, const char *raw)
{
    gw_json_value v;
    return body_path(r, path, &v) && v.len == strlen(raw) && memcmp(v.ptr, raw, v.len) == 0;
}

/* ---- stream runner ---- */

typedef struct sink {
    gw_buf out;
} sink;

static int sink_emit(void *ctx, const char *d, size_t n)
{
    return gw_buf_append(&((sink *)ctx)->out, d, n);
}

typedef struct result {
    gw_buf out;
    gw_usage u;
    int feed_rc, finish_rc;
    char err[GW_ERR_LEN];
} result;

static void run_cuts(const gw_proc_opts *o, const char *in, size_t len, const size_t *cuts, size_t ncuts, result *r)
{
    gw_stream_proc *p;
    sink s;
    size_t at = 0;
    int gone;

    memset(r, 0, sizeof(*r));
    gw_buf_init(&s.out, 0);
    gw_stream_proc_create(o, sink_emit, &s, &p, r->err);
    for (size_t i = 0; i <= ncuts && r->feed_rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        r->feed_rc = gw_stream_proc_feed(p, in + at, end - at, &gone, r->err);
        at = end;
    }
    if (r->feed_rc == 0)
        r->finish_rc = gw_stream_proc_finish(p, &gone, r->err);
    gw_stream_proc_usage(p, &r->u);
    r->out = s.out;
    gw_buf_cstr(&r->out);
    gw_stream_proc_destroy(p);
}

static int split_invariant(const gw_proc_opts *o, const char *in, const result *ref)
{
    size_t len = strlen(in);
    result r;
    int bad = 0;

    for (size_t i = 0; i <= len && !bad; i++) {
        run_cuts(o, in, len, &i, 1, &r);
        if (r.finish_rc != ref->finish_rc || r.out.len != ref->out.len ||
            (r.out.len && memcmp(r.out.data, ref->out.data, r.out.len) != 0)) {
            diag("split at %zu differs", i);
            bad = 1;
        }
        gw_buf_free(&r.out);
    }
    return !bad;
}

static gw_proc_opts opts(gw_vendor_id v, gw_proc_mode m, int strip)
{
    gw_proc_opts o;
    memset(&o, 0, sizeof(o));
    o.vendor = v;
    o.mode = m;
    o.strip_usage_chunk = strip;
    o.max_line_bytes = 65536;
    o.max_json_bytes = 1 << 20;
    o.model = "req-model";
    o.request_id = "0190a1b2-c3d4";
    o.created = 1700000000;
    return o;
}

/* What an OpenAI SDK would see in a translated SSE stream. */
typedef struct chunks {
    int n, ndone, role_first, after_done, bad_json, ids_ok;
    int usage_chunks;
    int64_t prompt, completion, total, cached;
    char finish[32];
    gw_buf content;
    gw_buf tool_args;
    char tool_name[64], tool_id[64];
    int tool_index_max;
} chunks;

static void parse_chunks(const char *s, chunks *c)
{
    memset(c, 0, sizeof(*c));
    gw_buf_init(&c->content, 0);
    gw_buf_init(&c->tool_args, 0);
    c->tool_index_max = -1;
    c->ids_ok = 1;
    while (s != NULL && *s != '\0') {
        const char *end = strstr(s, "\n\n");
        size_t n;
        gw_json_value root, v, d, tc, t;
        if (end == NULL || strncmp(s, "data: ", 6) != 0) {
            c->bad_json++;
            break;
        }
        n = (size_t)(end - s - 6);
        if (c->ndone)
            c->after_done++;
        if (n == 6 && memcmp(s + 6, "[DONE]", 6) == 0) {
            c->ndone++;
        } else if (gw_vj_parse(s + 6, n, &root, NULL) != 0) {
            c->bad_json++;
        } else {
            c->n++;
            if (!(gw_vj_get(&root, "id", &v) && gw_vj_str_is(&v, "chatcmpl-0190a1b2-c3d4") &&
                  gw_vj_get(&root, "object", &v) && gw_vj_str_is(&v, "chat.completion.chunk")))
                c->ids_ok = 0;
            if (gw_vj_get(&root, "usage", &v) && v.type == GW_JSON_OBJECT) {
                c->usage_chunks++;
                gw_vj_int(&v, "prompt_tokens", &c->prompt);
                gw_vj_int(&v, "completion_tokens", &c->completion);
                gw_vj_int(&v, "total_tokens", &c->total);
                gw_vj_int(&v, "prompt_tokens_details.cached_tokens", &c->cached);
            }
            if (gw_vj_get(&root, "choices", &v) && !gw_vj_array_empty(&v)) {
                gw_vj_iter it;
                gw_json_value ch;
                gw_vj_iter_init(&it, &v);
                gw_vj_next_elem(&it, &ch);
                if (gw_vj_get(&ch, "delta", &d)) {
                    if (c->n == 1)
                        c->role_first = gw_vj_get(&d, "role", &t) && gw_vj_str_is(&t, "assistant");
                    if (gw_vj_get(&d, "content", &t) && t.type == GW_JSON_STRING)
                        gw_vj_str_append(&t, &c->content);
                    if (gw_vj_get(&d, "tool_calls", &tc)) {
                        gw_vj_iter ti;
                        gw_json_value call;
                        int64_t idx;
                        gw_vj_iter_init(&ti, &tc);
                        while (gw_vj_next_elem(&ti, &call)) {
                            if (gw_vj_int(&call, "index", &idx) == 0 && idx > c->tool_index_max)
                                c->tool_index_max = (int)idx;
                            if (gw_vj_get(&call, "id", &t))
                                gw_vj_str_copy(&t, c->tool_id, sizeof(c->tool_id));
                            if (gw_vj_path(&call, "function.name", &t))
                                gw_vj_str_copy(&t, c->tool_name, sizeof(c->tool_name));
                            if (gw_vj_path(&call, "function.arguments", &t))
                                gw_vj_str_append(&t, &c->tool_args);
                        }
                    }
                }
                if (gw_vj_get(&ch, "finish_reason", &t) && t.type == GW_JSON_STRING)
                    gw_vj_str_copy(&t, c->finish, sizeof(c->finish));
            }
        }
        s = end + 2;
    }
    gw_buf_cstr(&c->content);
    gw_buf_cstr(&c->tool_args);
}

static void chunks_free(chunks *c)
{
    gw_buf_free(&c->content);
    gw_buf_free(&c->tool_args);
}

static char *cat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%s%s", a, b);
    return s;
}

/* fixtures */
static const char AN_STREAM[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\","
    "\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":4,\"cache_read_input_tokens\":6,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \\\"w\\\"\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" \\u00e9!\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":7}}\n\n";
static const char AN_STOP[] = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static const char AN_TOOL_STREAM[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Let me check.\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":20}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static const char GG_STREAM[] =
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"},\"index\":0}],"
    "\"modelVersion\":\"gemini-2.0-flash\"}\r\n\r\n"
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"thinking\",\"thought\":true},{\"text\":\"lo\"}],\"role\":\"model\"},"
    "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":2,"
    "\"cachedContentTokenCount\":5,\"thoughtsTokenCount\":3},\"modelVersion\":\"gemini-2.0-flash\"}\r\n\r\n";

static const char OL_STREAM[] =
    "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\" there\"},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"length\",\"done\":true,"
    "\"prompt_eval_count\":8,\"eval_count\":2}\n";

int main(void)
{
    gw_upstream_req r;
    gw_llm l;
    int st;
    char err[GW_ERR_LEN];
    gw_json_value v;
    result res;
    chunks c;
    gw_proc_opts o;
    char *in;

    gw_upstream_req_init(&r);

    /* ================= requests ================= */
    const char *chat =
        "{\"model\":\"claude-sonnet-4\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"No lists.\"}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is in\"},{\"type\":\"image_url\",\"image_url\":"
        "{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\",\"function\":"
        "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":\"{\\\"temp\\\":21}\"},"
        "{\"role\":\"user\",\"content\":\"thanks\"}],"
        "\"temperature\":0.5,\"top_p\":0.9,\"stop\":\"END\",\"max_tokens\":300,\"seed\":7,"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}],"
        "\"tool_choice\":\"required\"}";

    /* ---- Anthropic ---- */
    l = mk_llm("anthropic", "http://127.0.0.1:18080/", "claude-default");
    ok(tr(&l, chat, &r, &st, err) == 0, "anthropic: translated (%s)", err);
    is_str(r.url.data, "http://127.0.0.1:18080/v1/messages", "anthropic: URL /v1/messages");
    is_str(hdr(&r, "x-api-key"), "vendor-key", "anthropic: x-api-key");
    is_str(hdr(&r, "anthropic-version"), "2023-06-01", "anthropic: anthropic-version");
    is_str(hdr(&r, "Content-Type"), "application/json", "anthropic: our content-type, not the client's");
    is_str(hdr(&r, "x-mock-cached-tokens"), "2", "anthropic: allowed client headers still forwarded");
    ok(hdr(&r, "Authorization") == NULL, "anthropic: the client's Authorization is not forwarded");
    ok(r.body_rewritten && gw_json_validate(r.body.data, r.body.len, 64, err) == 0, "anthropic: body is valid JSON");
    ok(body_is(&r, "system", "\"Be brief.\\nNo lists.\""), "anthropic: system + developer → top-level system");
    ok(body_is(&r, "max_tokens", "300") && r.max_tokens == 300, "anthropic: max_tokens");
    ok(body_is(&r, "temperature", "0.5") && body_is(&r, "top_p", "0.9"), "anthropic: temperature, top_p");
    ok(body_is(&r, "stop_sequences", "[\"END\"]"), "anthropic: stop → stop_sequences");
    ok(body_is(&r, "tool_choice", "{\"type\":\"any\"}"), "anthropic: tool_choice required → any");
    ok(body_path(&r, "tools", &v) && strstr(v.ptr, "\"input_schema\":{\"type\":\"object\"") &&
           strstr(v.ptr, "\"name\":\"get_weather\",\"description\":\"Weather\""),
       "anthropic: tools → name / description / input_schema");
    ok(strstr(r.body.data, "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is in\"},{\"type\":"
                           "\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":"
                           "\"iVBORw0KGgo=\"}}]}") != NULL,
       "anthropic: text + data-URL image parts");
    ok(strstr(r.body.data, "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"call_9\",\"name\":"
                           "\"get_weather\",\"input\":{\"city\":\"Paris\"}}]}") != NULL,
       "anthropic: assistant tool_calls → tool_use with the arguments as an object");
    ok(strstr(r.body.data, "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"call_9\","
                           "\"content\":\"{\\\"temp\\\":21}\"}]}") != NULL,
       "anthropic: tool message → tool_result");
    ok(!body_path(&r, "stream", &v) && r.proc_mode == GW_PROC_AI_JSON && !r.stream, "anthropic: not a stream");
    is_str(r.model, "claude-sonnet-4", "anthropic: model from the request");
    is_str(r.method, "POST", "method POST");
    ok(tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}", &r, &st, err) == 0 &&
           body_is(&r, "max_tokens", "4096") && r.max_tokens == 4096 && body_is(&r, "model", "\"claude-default\"") &&
           body_is(&r, "stream", "true") && r.proc_mode == GW_PROC_AI_SSE && r.strip_usage_chunk,
       "anthropic: default max_tokens 4096, default model, stream, no include_usage → strip");
    ok(tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"stream_options\":"
              "{\"include_usage\":true},\"max_completion_tokens\":9,\"tools\":[{\"type\":\"function\",\"function\":"
              "{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}}",
          &r, &st, err) == 0 &&
           !r.strip_usage_chunk && body_is(&r, "max_tokens", "9") &&
           body_is(&r, "tool_choice", "{\"type\":\"tool\",\"name\":\"f\"}") &&
           strstr(r.body.data, "\"input_schema\":{\"type\":\"object\",\"properties\":{}}"),
       "anthropic: include_usage kept, max_completion_tokens, named tool_choice, default input_schema");
    l = mk_llm("anthropic", "https://api.anthropic.com/v1", NULL);
    tr(&l, "{\"model\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &r, &st, err);
    is_str(r.url.data, "https://api.anthropic.com/v1/messages", "anthropic: endpoint with /v1 not doubled");

    /* ---- bad requests ---- */
    {
        const char *bad[] = {"not json", "{\"model\":\"m\"}", "{\"messages\":[]}", "{\"messages\":{}}",
                             "{\"messages\":[{\"content\":\"x\"}]}", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":5}]}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":1}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":7}",
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":{}}"};
        int all = 1;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            if (tr(&l, bad[i], &r, &st, err) == 0 || st != 400) {
                diag("accepted: %s", bad[i]);
                all = 0;
            }
        ok(all, "invalid chat-completions bodies: 400");
        ok(tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r, &st, err) != 0 && st == 400 &&
               strstr(err, "no model"),
           "no model and no default: 400 (%s)", err);
    }

    /* ---- Google AI ---- */
    l = mk_llm("google_ai", "http://127.0.0.1:18080", NULL);
    const char *gchat = "{\"model\":\"gemini-2.0-flash\",\"messages\":["
                        "{\"role\":\"system\",\"content\":\"Be funny\"},{\"role\":\"user\",\"content\":\"Tell me a joke\"},"
                        "{\"role\":\"assistant\",\"content\":\"ok\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                        "\"function\":{\"name\":\"lookup\",\"arguments\":\"{\\\"q\\\":1}\"}}]},"
                        "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"plain text\"}],"
                        "\"temperature\":1,\"top_p\":0.5,\"max_tokens\":100,\"stop\":[\"a\",\"b\"],"
                        "\"response_format\":{\"type\":\"json_object\"},"
                        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"parameters\":{\"type\":\"object\"}}}],"
                        "\"tool_choice\":\"none\"}";
    ok(tr(&l, gchat, &r, &st, err) == 0, "google: translated (%s)", err);
    is_str(r.url.data, "http://127.0.0.1:18080/v1beta/models/gemini-2.0-flash:generateContent", "google: URL");
    is_str(hdr(&r, "x-goog-api-key"), "vendor-key", "google: x-goog-api-key");
    ok(body_is(&r, "systemInstruction", "{\"parts\":[{\"text\":\"Be funny\"}]}"), "google: systemInstruction");
    ok(strstr(r.body.data, "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Tell me a joke\"}]},"
                           "{\"role\":\"model\",\"parts\":[{\"text\":\"ok\"},{\"functionCall\":{\"name\":\"lookup\","
                           "\"args\":{\"q\":1}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":"
                           "\"lookup\",\"response\":{\"content\":\"plain text\"}}}]}]") != NULL,
       "google: contents with user / model roles, functionCall, functionResponse (name found by id)");
    ok(body_is(&r, "generationConfig.temperature", "1") && body_is(&r, "generationConfig.topP", "0.5") &&
           body_is(&r, "generationConfig.maxOutputTokens", "100") &&
           body_is(&r, "generationConfig.stopSequences", "[\"a\",\"b\"]") &&
           body_is(&r, "generationConfig.responseMimeType", "\"application/json\"") && r.max_tokens == 100,
       "google: generationConfig");
    ok(strstr(r.body.data, "\"tools\":[{\"functionDeclarations\":[{\"name\":\"lookup\",\"parametersJsonSchema\":"
                           "{\"type\":\"object\"}}]}]") != NULL &&
           body_is(&r, "toolConfig.functionCallingConfig.mode", "\"NONE\""),
       "google: tools → functionDeclarations, tool_choice → toolConfig");
    ok(tr(&l, "{\"model\":\"models/gemini-pro\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
          &r, &st, err) == 0 &&
           r.proc_mode == GW_PROC_AI_SSE,
       "google: stream");
    is_str(r.url.data, "http://127.0.0.1:18080/v1beta/models/gemini-pro:streamGenerateContent?alt=sse",
           "google: stream URL with alt=sse, models/ prefix stripped");
    ok(tr(&l, "{\"model\":\"../x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r, &st, err) != 0 &&
           st == 400,
       "google: a model that would escape the path: 400");
    l = mk_llm("vertex", "http://127.0.0.1:18080/v1/projects/p1/locations/us-central1/publishers/google", "gemini-2.0-flash");
    tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"a b c\"}]}", &r, &st, err);
    is_str(r.url.data,
           "http://127.0.0.1:18080/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:"
           "generateContent",
           "vertex: endpoint …/publishers/google + /models/{m}:generateContent");
    is_str(hdr(&r, "Authorization"), "Bearer vendor-key", "vertex: Bearer");
    l = mk_llm("vertex", "http://127.0.0.1:18080/v1/projects/p1/locations/us-central1", "gemini-2.0-flash");
    tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"a b c\"}]}", &r, &st, err);
    is_str(r.url.data,
           "http://127.0.0.1:18080/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:"
           "generateContent",
           "vertex: endpoint stopping at the location gets /publishers/google");

    /* ---- Ollama ---- */
    l = mk_llm("ollama", "http://127.0.0.1:11434", "llama3.2");
    l.key_state = GW_KEY_NONE;
    ok(tr(&l, "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":[{\"type\":"
              "\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
              "\"data:image/jpeg;base64,QUJD\"}}]}],\"temperature\":0.2,\"max_tokens\":5,\"stop\":\"x\","
              "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}",
          &r, &st, err) == 0,
       "ollama: translated");
    is_str(r.url.data, "http://127.0.0.1:11434/api/chat", "ollama: /api/chat");
    ok(hdr(&r, "Authorization") == NULL, "ollama: no key, no auth header");
    ok(body_is(&r, "stream", "false") && r.proc_mode == GW_PROC_AI_JSON, "ollama: stream false explicit");
    ok(body_is(&r, "options", "{\"temperature\":0.2,\"num_predict\":5,\"stop\":[\"x\"]}"), "ollama: options");
    ok(strstr(r.body.data, "{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"a\\nb\","
                           "\"images\":[\"QUJD\"]}") != NULL,
       "ollama: system kept as a message, text parts joined, base64 images");
    ok(body_is(&r, "tools", "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"), "ollama: tools as is");
    ok(tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true}", &r, &st, err) == 0 &&
           body_is(&r, "stream", "true") && r.proc_mode == GW_PROC_AI_SSE,
       "ollama: stream");

    /* ---- OpenAI-compatible ---- */
    l = mk_llm("openai", "http://127.0.0.1:18080", "gpt-4o-mini");
    {
        const char *b = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":12}";
        ok(tr(&l, b, &r, &st, err) == 0 && !r.body_rewritten && r.proc_mode == GW_PROC_AI_JSON && r.max_tokens == 12,
           "openai: body passed as is");
        is_str(r.url.data, "http://127.0.0.1:18080/v1/chat/completions", "openai: URL");
        is_str(hdr(&r, "Authorization"), "Bearer vendor-key", "openai: vendor key, not the client's");
        ok(tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true}", &r, &st, err) == 0 &&
               r.body_rewritten && body_is(&r, "model", "\"gpt-4o-mini\"") &&
               body_is(&r, "stream_options", "{\"include_usage\":true}") && r.strip_usage_chunk,
           "openai: model defaulted, include_usage injected");
    }
    l = mk_llm("huggingface", "https://x.hf.cloud/v1/", "tgi");
    tr(&l, "{\"model\":\"tgi\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r, &st, err);
    is_str(r.url.data, "https://x.hf.cloud/v1/chat/completions", "huggingface: endpoint with /v1");

    /* ================= JSON answers ================= */
    {
        const char *an = "{\"id\":\"msg_1\",\"type\":\"message\",\"model\":\"claude-x\",\"content\":[{\"type\":\"text\","
                         "\"text\":\"Hello \\\"you\\\"\"},{\"type\":\"text\",\"text\":\" again\"}],\"stop_reason\":"
                         "\"end_turn\",\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":4,"
                         "\"cache_read_input_tokens\":6,\"output_tokens\":8}}";
        o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_AI_JSON, 0);
        run_cuts(&o, an, strlen(an), NULL, 0, &res);
        ok(res.finish_rc == 0 && gw_json_validate(res.out.data, res.out.len, 64, err) == 0, "anthropic → chat.completion");
        ok(strstr(res.out.data, "\"id\":\"chatcmpl-0190a1b2-c3d4\",\"object\":\"chat.completion\",\"created\":1700000000,"
                                "\"model\":\"claude-x\"") != NULL,
           "completion: id, object, created, model");
        ok(strstr(res.out.data, "\"message\":{\"role\":\"assistant\",\"content\":\"Hello \\\"you\\\" again\"}") &&
               strstr(res.out.data, "\"finish_reason\":\"stop\""),
           "completion: text blocks joined, end_turn → stop");
        ok(strstr(res.out.data, "\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":8,\"total_tokens\":28,"
                                "\"prompt_tokens_details\":{\"cached_tokens\":6}}") != NULL,
           "completion: prompt_tokens = input + cache write + cache read (OpenAI semantics)");
        ok(res.u.prompt_tokens == 10 && res.u.cache_write_tokens == 4 && res.u.cache_read_tokens == 6 &&
               res.u.response_tokens == 8,
           "recorded usage stays Anthropic's own numbers");
        ok(split_invariant(&o, an, &res), "anthropic JSON: every split");
        gw_buf_free(&res.out);

        const char *antool = "{\"model\":\"claude-x\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"
                             "\"get_weather\",\"input\":{\"city\":\"Paris\"}}],\"stop_reason\":\"tool_use\",\"usage\":"
                             "{\"input_tokens\":3,\"output_tokens\":4}}";
        run_cuts(&o, antool, strlen(antool), NULL, 0, &res);
        ok(strstr(res.out.data, "\"content\":null,\"tool_calls\":[{\"id\":\"toolu_1\",\"type\":\"function\","
                                "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]") &&
               strstr(res.out.data, "\"finish_reason\":\"tool_calls\""),
           "anthropic tool_use → tool_calls with arguments as a JSON string");
        gw_buf_free(&res.out);

        const char *anerr = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}";
        run_cuts(&o, anerr, strlen(anerr), NULL, 0, &res);
        ok(res.finish_rc == 0 && strstr(res.out.data, "{\"error\":{\"message\":\"Overloaded\",\"type\":"
                                                      "\"upstream_error\"") != NULL,
           "a vendor error body becomes the OpenAI error shape");
        gw_buf_free(&res.out);

        const char *gg = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"},{\"functionCall\":{\"name\":"
                         "\"lookup\",\"args\":{\"q\":1}}}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],"
                         "\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":8,"
                         "\"cachedContentTokenCount\":3},\"modelVersion\":\"gemini-2.0-flash\"}";
        o = opts(GW_VENDOR_GOOGLE_AI, GW_PROC_AI_JSON, 0);
        run_cuts(&o, gg, strlen(gg), NULL, 0, &res);
        ok(strstr(res.out.data, "\"content\":\"Hi\",\"tool_calls\":[{\"id\":\"call_0190a1b2-c3d4_0\",\"type\":"
                                "\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"{\\\"q\\\":1}\"}}]") &&
               strstr(res.out.data, "\"finish_reason\":\"tool_calls\"") &&
               strstr(res.out.data, "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8,\"total_tokens\":20,"
                                    "\"prompt_tokens_details\":{\"cached_tokens\":3}}"),
           "google → chat.completion with text, function call, usage (prompt includes cached)");
        gw_buf_free(&res.out);

        const char *ol = "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hello\"},"
                         "\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":8,\"eval_count\":8}";
        o = opts(GW_VENDOR_OLLAMA, GW_PROC_AI_JSON, 0);
        run_cuts(&o, ol, strlen(ol), NULL, 0, &res);
        ok(strstr(res.out.data, "\"message\":{\"role\":\"assistant\",\"content\":\"Hello\"}") &&
               strstr(res.out.data, "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":8,\"total_tokens\":16"),
           "ollama → chat.completion");
        gw_buf_free(&res.out);

        const char *oa = "{\"id\":\"chatcmpl-up\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[],"
                         "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}";
        o = opts(GW_VENDOR_OPENAI, GW_PROC_AI_JSON, 0);
        run_cuts(&o, oa, strlen(oa), NULL, 0, &res);
        ok(res.out.len == strlen(oa) && res.u.prompt_tokens == 5 && res.u.response_tokens == 6,
           "openai → relayed as is, usage read");
        gw_buf_free(&res.out);
        o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_AI_JSON, 0);
        run_cuts(&o, "{\"content\":", 11, NULL, 0, &res);
        ok(res.finish_rc == -1 && res.out.len == 0, "a broken JSON answer: finish -1, nothing emitted");
        gw_buf_free(&res.out);
    }

    /* ================= streams ================= */
    in = cat(AN_STREAM, AN_STOP);
    o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_AI_SSE, 0);
    run_cuts(&o, in, strlen(in), NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(res.finish_rc == 0 && c.bad_json == 0 && c.ids_ok, "anthropic stream → valid chunks (%s)", res.err);
    ok(c.role_first, "first chunk: delta.role = assistant");
    is_str(c.content.data, "Hello \"w\" \xc3\xa9!", "content deltas reassemble the text");
    is_str(c.finish, "length", "max_tokens → finish_reason length");
    ok(c.usage_chunks == 1 && c.prompt == 20 && c.completion == 7 && c.total == 27 && c.cached == 6,
       "usage chunk (client asked): prompt 10+4+6, completion 7 (cumulative, last)");
    ok(c.ndone == 1 && c.after_done == 0, "ends with exactly one data: [DONE]");
    ok(res.u.prompt_tokens == 10 && res.u.response_tokens == 7 && res.u.cache_write_tokens == 4 &&
           res.u.cache_read_tokens == 6,
       "recorded usage: Anthropic's numbers");
    ok(split_invariant(&o, in, &res), "anthropic AI stream: identical at every split");
    chunks_free(&c);
    gw_buf_free(&res.out);
    o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_AI_SSE, 1);
    run_cuts(&o, in, strlen(in), NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(c.usage_chunks == 0 && c.ndone == 1 && strcmp(c.finish, "length") == 0,
       "client did not ask include_usage: no usage chunk");
    ok(res.u.seen && res.u.response_tokens == 7, "…but the usage is still recorded");
    chunks_free(&c);
    gw_buf_free(&res.out);
    free(in);
    o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_AI_SSE, 0);
    run_cuts(&o, AN_STREAM, strlen(AN_STREAM), NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(res.finish_rc == -1 && c.ndone == 0 && c.finish[0] == '\0', "cut stream: finish -1, no [DONE], no finish chunk");
    chunks_free(&c);
    gw_buf_free(&res.out);

    o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_AI_SSE, 1);
    run_cuts(&o, AN_TOOL_STREAM, strlen(AN_TOOL_STREAM), NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(res.finish_rc == 0 && c.bad_json == 0, "anthropic tool stream translated");
    is_str(c.content.data, "Let me check.", "tool stream: the text part");
    ok(c.tool_index_max == 0 && strcmp(c.tool_id, "toolu_1") == 0 && strcmp(c.tool_name, "get_weather") == 0,
       "tool stream: tool_calls[0] with id and name");
    is_str(c.tool_args.data, "{\"city\": \"Paris\"}", "tool stream: argument fragments reassemble");
    is_str(c.finish, "tool_calls", "tool_use → tool_calls");
    ok(split_invariant(&o, AN_TOOL_STREAM, &res), "tool stream: identical at every split");
    chunks_free(&c);
    gw_buf_free(&res.out);

    o = opts(GW_VENDOR_GOOGLE_AI, GW_PROC_AI_SSE, 0);
    run_cuts(&o, GG_STREAM, strlen(GG_STREAM), NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(res.finish_rc == 0 && c.bad_json == 0 && c.role_first && c.ids_ok, "google stream → chunks (%s)", res.err);
    is_str(c.content.data, "Hello", "google: text deltas (thought parts skipped)");
    is_str(c.finish, "stop", "google: STOP → stop");
    ok(c.usage_chunks == 1 && c.prompt == 12 && c.completion == 5 && c.cached == 5 && c.ndone == 1,
       "google: usage chunk (candidates + thoughts) then [DONE] at the end of the upstream");
    ok(split_invariant(&o, GG_STREAM, &res), "google AI stream: identical at every split");
    chunks_free(&c);
    gw_buf_free(&res.out);
    {
        const char *first = strstr(GG_STREAM, "\r\n\r\n") + 4;
        run_cuts(&o, GG_STREAM, (size_t)(first - GG_STREAM), NULL, 0, &res);
        ok(res.finish_rc == -1 && strstr(res.out.data, "[DONE]") == NULL, "google: cut before finishReason → -1");
        gw_buf_free(&res.out);
    }
    run_cuts(&o, "data: {\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"}}\n\n", 63, NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(res.finish_rc == 0 && strcmp(c.finish, "content_filter") == 0 && c.ndone == 1 && c.role_first,
       "google: a blocked prompt → finish_reason content_filter, clean end");
    chunks_free(&c);
    gw_buf_free(&res.out);
    in = cat("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}\n\n",
             "data: {\"error\":{\"code\":503,\"message\":\"unavailable now\",\"status\":\"UNAVAILABLE\"}}\n\n");
    run_cuts(&o, in, strlen(in), NULL, 0, &res);
    ok(res.finish_rc == -1 && strstr(res.out.data, "\"message\":\"unavailable now\"") &&
           strstr(res.out.data, "[DONE]") == NULL,
       "google: an error in the stream is passed on in the OpenAI shape, not clean");
    gw_buf_free(&res.out);
    free(in);

    o = opts(GW_VENDOR_OLLAMA, GW_PROC_AI_SSE, 0);
    run_cuts(&o, OL_STREAM, strlen(OL_STREAM), NULL, 0, &res);
    parse_chunks(res.out.data, &c);
    ok(res.finish_rc == 0 && c.bad_json == 0 && c.role_first, "ollama NDJSON → chunks");
    is_str(c.content.data, "Hi there", "ollama: content");
    is_str(c.finish, "length", "ollama: done_reason length");
    ok(c.usage_chunks == 1 && c.prompt == 8 && c.completion == 2 && c.ndone == 1, "ollama: usage chunk, [DONE]");
    ok(split_invariant(&o, OL_STREAM, &res), "ollama AI stream: identical at every split");
    chunks_free(&c);
    gw_buf_free(&res.out);

    {
        const char *oa =
            "data: {\"id\":\"u\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
            "\"delta\":{\"role\":\"assistant\",\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\n"
            "data: {\"id\":\"u\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":"
            "{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"
            "data: [DONE]\n\n";
        o = opts(GW_VENDOR_OPENAI, GW_PROC_AI_SSE, 1);
        run_cuts(&o, oa, strlen(oa), NULL, 0, &res);
        ok(res.finish_rc == 0 && strstr(res.out.data, "\"usage\"") == NULL &&
               strstr(res.out.data, "data: [DONE]\n\n") && res.u.prompt_tokens == 3,
           "openai AI stream: relayed, injected usage chunk dropped, one [DONE]");
        {
            const char *p = strstr(res.out.data, "[DONE]");
            ok(p != NULL && strstr(p + 1, "[DONE]") == NULL, "…and no second [DONE] from finish()");
        }
        gw_buf_free(&res.out);
    }

    /* ---- /ai: the model is checked before any vendor's translation ---- */
    {
        static const char *const vendors[][2] = {{"openai", "http://m/v1"},      {"huggingface", "http://m"},
                                                 {"anthropic", "http://m"},      {"google_ai", "http://m"},
                                                 {"vertex", "http://m/v1/projects/p/locations/l"}, {"ollama", "http://m"}};
        char m255[256], body[1024];
        memset(m255, 'm', 255);
        m255[255] = '\0';
        for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
            l = mk_llm(vendors[i][0], vendors[i][1], "dflt");
            ok(tr(&l, "{\"model\":\"gpt-4o\\u0000-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &r,
                  &st, err) == -1 &&
                   st == 400 && strstr(err, "control characters") != NULL,
               "%s /ai: \\u0000 in the model refused", vendors[i][0]);
            ok(tr(&l, "{\"model\":\"a\\u001fb\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &r, &st,
                  err) == -1 &&
                   st == 400 && strstr(err, "control characters") != NULL,
               "%s /ai: \\u001f refused", vendors[i][0]);
            snprintf(body, sizeof(body), "{\"model\":\"%sm\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                     m255);
            ok(tr(&l, body, &r, &st, err) == -1 && st == 400 && strstr(err, "longer than 255 bytes") != NULL,
               "%s /ai: a 256-byte model refused", vendors[i][0]);
            snprintf(body, sizeof(body), "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                     m255);
            ok(tr(&l, body, &r, &st, err) == 0 && strcmp(r.model, m255) == 0, "%s /ai: a 255-byte model kept whole",
               vendors[i][0]);
        }
        {
            char longdflt[300];
            memset(longdflt, 'd', sizeof(longdflt) - 1);
            longdflt[sizeof(longdflt) - 1] = '\0';
            l = mk_llm("openai", "http://m/v1", longdflt);
            ok(tr(&l, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &r, &st, err) == -1 && st == 502 &&
                   r.model[0] == '\0',
               "/ai: an LLM default model over 255 bytes is not cut into a request (502)");
        }
    }

    gw_upstream_req_free(&r);
    return tap_done();
}
