/*
 * regress/unit/test_vendor_prepare.c: gw_vendor_prepare for the six
 * vendors: upstream URL (endpoint + path + query without ?key=, version
 * segment not doubled, Vertex full paths), the vendor's auth header and
 * never the client's, the header allow-list, model / stream / max-tokens
 * detection, the include_usage and "stream": true body rewrites, and the
 * 400 / 404 answers for bad bodies and paths.
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

static char KEY[] = "sk-vendor-secret";

static gw_llm mk_llm(const char *vendor, const char *endpoint, int with_key)
{
    gw_llm l;
    memset(&l, 0, sizeof(l));
    l.name = "test-llm";
    l.slug = "test-llm";
    l.vendor = vendor;
    l.api_endpoint = endpoint;
    l.default_model = "";
    l.key_state = with_key ? GW_KEY_OK : GW_KEY_NONE;
    l.api_key = with_key ? KEY : NULL;
    l.api_key_len = with_key ? strlen(KEY) : 0;
    return l;
}

/* The value of header `name` in the prepared request (NULL: absent). */
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

static int hdr_count(const gw_upstream_req *r)
{
    int n = 0;
    for (size_t off = 0; off < r->headers.len; off += strlen(r->headers.data + off) + 1)
        n++;
    return n;
}

/* Every header line must be "Name: value" with no CR/LF. */
static int hdr_lines_clean(const gw_upstream_req *r)
{
    for (size_t off = 0; off < r->headers.len;) {
        const char *line = r->headers.data + off;
        if (strchr(line, '\r') || strchr(line, '\n') || !strstr(line, ": "))
            return 0;
        off += strlen(line) + 1;
    }
    return 1;
}

static const gw_header CLIENT[] = {
    {"Authorization", "Bearer client-gateway-key"},
    {"x-api-key", "client-gateway-key"},
    {"x-goog-api-key", "client-gateway-key"},
    {"api-key", "client-gateway-key"},
    {"Cookie", "session=1"},
    {"Host", "gateway:9090"},
    {"Content-Length", "123"},
    {"Transfer-Encoding", "chunked"},
    {"Connection", "keep-alive"},
    {"Accept-Encoding", "gzip, br"},
    {"X-Request-Id", "client-rid"},
    {"X-Forwarded-For", "10.0.0.1"},
    {"Content-Type", "application/json"},
    {"Accept", "text/event-stream"},
    {"User-Agent", "OpenAI/JS 5.0"},
    {"X-Stainless-Lang", "js"},
    {"x-mock-cached-tokens", "3"},
    {"OpenAI-Beta", "assistants=v2"},
    {"anthropic-beta", "prompt-caching-2024-07-31"},
    {"X-Evil", "a\r\nInjected: yes"},
};
#define NCLIENT (sizeof(CLIENT) / sizeof(CLIENT[0]))

static int prep(const gw_llm *l, gw_route_kind kind, const char *method, const char *path, const char *query,
                const gw_header *h, size_t nh, const char *body, gw_upstream_req *r, int *status, char *err)
{
    gw_upstream_req_free(r);
    gw_upstream_req_init(r);
    err[0] = '\0';
    *status = 0;
    return gw_vendor_prepare(l, kind, method, path, query, h, nh, body, body ? strlen(body) : 0, r, status, err);
}

static const char *body_of(gw_upstream_req *r, const char *client)
{
    return r->body_rewritten ? gw_buf_cstr(&r->body) : client;
}

int main(void)
{
    gw_upstream_req r;
    char err[GW_ERR_LEN];
    int st;
    gw_llm l;
    const char *b;

    gw_upstream_req_init(&r);

    /* ---- names ---- */
    {
        const char *names[] = {"openai", "anthropic", "google_ai", "vertex", "huggingface", "ollama"};
        int okk = 1;
        for (size_t i = 0; i < 6; i++)
            okk &= strcmp(gw_vendor_name(gw_vendor_parse(names[i])), names[i]) == 0 &&
                   gw_vendor_parse(names[i]) != GW_VENDOR_UNKNOWN;
        ok(okk, "vendor names round-trip for the six vendors");
        ok(gw_vendor_parse("OpenAI") == GW_VENDOR_UNKNOWN && gw_vendor_parse(NULL) == GW_VENDOR_UNKNOWN &&
               strcmp(gw_vendor_name(GW_VENDOR_UNKNOWN), "unknown") == 0,
           "unknown vendor names are UNKNOWN");
    }

    /* ---- OpenAI: URL, auth, header allow-list ---- */
    l = mk_llm("openai", "http://127.0.0.1:18080/", 1);
    b = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":50}";
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", "key=client-gateway-key&api-version=2024-01&x=1",
            CLIENT, NCLIENT, b, &r, &st, err) == 0,
       "openai: prepare ok (%s)", err);
    is_str(r.url.data, "http://127.0.0.1:18080/v1/chat/completions?api-version=2024-01&x=1",
           "openai: URL = endpoint (no trailing slash) + path + query without key=");
    is_str(hdr(&r, "Authorization"), "Bearer sk-vendor-secret", "openai: vendor key as Bearer");
    ok(strstr(r.headers.data, "client-gateway-key") == NULL, "openai: the client's key appears nowhere");
    {
        int leaked = 0;
        for (size_t off = 0; off < r.headers.len; off += strlen(r.headers.data + off) + 1)
            leaked |= strstr(r.headers.data + off, "client-gateway-key") != NULL;
        ok(!leaked, "openai: no header line carries the client's key");
    }
    ok(hdr(&r, "x-api-key") == NULL && hdr(&r, "x-goog-api-key") == NULL && hdr(&r, "api-key") == NULL,
       "openai: client auth headers dropped");
    ok(hdr(&r, "Cookie") == NULL && hdr(&r, "Host") == NULL && hdr(&r, "Content-Length") == NULL &&
           hdr(&r, "Transfer-Encoding") == NULL && hdr(&r, "Connection") == NULL,
       "openai: cookie, host, content-length, transfer-encoding, connection dropped");
    is_str(hdr(&r, "Accept-Encoding"), "identity", "openai: Accept-Encoding: identity (client's gzip not forwarded)");
    ok(hdr(&r, "X-Request-Id") == NULL && hdr(&r, "X-Forwarded-For") == NULL, "openai: x-request-id / x-forwarded-for dropped");
    is_str(hdr(&r, "Content-Type"), "application/json", "openai: content-type kept");
    is_str(hdr(&r, "Accept"), "text/event-stream", "openai: accept kept");
    is_str(hdr(&r, "User-Agent"), "OpenAI/JS 5.0", "openai: user-agent kept");
    is_str(hdr(&r, "X-Stainless-Lang"), "js", "openai: x-stainless-* kept");
    is_str(hdr(&r, "x-mock-cached-tokens"), "3", "openai: the mock's x-mock-* test headers kept");
    is_str(hdr(&r, "OpenAI-Beta"), "assistants=v2", "openai: openai-beta kept");
    ok(hdr(&r, "X-Evil") == NULL && hdr(&r, "Injected") == NULL, "header with CR/LF in its value dropped");
    ok(hdr_lines_clean(&r), "every header line is one clean 'Name: value'");
    ok(hdr(&r, "anthropic-version") == NULL, "openai: no anthropic-version");
    is_str(r.model, "gpt-4o", "openai: model detected");
    ok(!r.stream && r.proc_mode == GW_PROC_JSON && !r.body_rewritten && !r.strip_usage_chunk,
       "openai: not a stream, JSON, body untouched");
    is_int(r.max_tokens, 50, "openai: max_tokens");
    is_str(r.method, "POST", "method copied");
    ok(r.prompt_bytes > 0 && r.prompt_bytes <= strlen(b), "prompt_bytes estimated from the messages");

    b = "{\"model\":\"gpt-4o\",\"max_tokens\":10,\"max_completion_tokens\":77,\"messages\":[]}";
    prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    is_int(r.max_tokens, 77, "openai: max_completion_tokens wins");
    is_str(r.url.data, "http://127.0.0.1:18080/v1/chat/completions", "no query: no '?'");

    /* include_usage injection */
    b = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    ok(prep(&l, GW_ROUTE_CALL, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, b, &r, &st, err) == 0,
       "openai stream: ok");
    ok(r.stream && r.proc_mode == GW_PROC_SSE && r.strip_usage_chunk && r.body_rewritten,
       "openai stream: SSE, include_usage injected, usage chunk stripped");
    {
        gw_json_value root, v;
        int64_t n;
        ok(gw_vj_parse(r.body.data, r.body.len, &root, err) == 0, "rewritten body is valid JSON");
        ok(gw_vj_path(&root, "stream_options.include_usage", &v) && v.type == GW_JSON_TRUE,
           "rewritten body has stream_options.include_usage = true");
        ok(gw_vj_get(&root, "stream", &v) && v.type == GW_JSON_TRUE, "rewritten body keeps stream true");
        ok(gw_vj_get(&root, "model", &v) && gw_vj_str_is(&v, "gpt-4o") && gw_vj_get(&root, "messages", &v),
           "rewritten body keeps the other members");
        (void)n;
    }
    b = "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_obfuscation\":false,\"include_usage\":false},"
        "\"messages\":[]}";
    prep(&l, GW_ROUTE_CALL, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    {
        gw_json_value root, v;
        gw_vj_parse(r.body.data, r.body.len, &root, err);
        ok(r.strip_usage_chunk && gw_vj_path(&root, "stream_options.include_usage", &v) && v.type == GW_JSON_TRUE &&
               gw_vj_path(&root, "stream_options.include_obfuscation", &v) && v.type == GW_JSON_FALSE,
           "include_usage:false overridden, other stream_options kept");
        ok(gw_json_validate(r.body.data, r.body.len, 64, err) == 0 &&
               gw_json_scan_object(r.body.data, r.body.len, 64,
                                   (gw_json_field[]){{"stream_options", {0}}, {"stream", {0}}}, 2, err) == 0,
           "no duplicate stream / stream_options members after the rewrite");
    }
    b = "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}";
    prep(&l, GW_ROUTE_CALL, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    ok(r.stream && !r.strip_usage_chunk && !r.body_rewritten, "client asked include_usage: body untouched, chunk relayed");

    /* /llm/stream/ forces a stream */
    b = "{\"model\":\"gpt-4o\",\"messages\":[]}";
    prep(&l, GW_ROUTE_STREAM, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    {
        gw_json_value root, v;
        gw_vj_parse(body_of(&r, b), strlen(body_of(&r, b)), &root, err);
        ok(r.stream && r.proc_mode == GW_PROC_SSE && gw_vj_get(&root, "stream", &v) && v.type == GW_JSON_TRUE &&
               gw_vj_path(&root, "stream_options.include_usage", &v) && v.type == GW_JSON_TRUE,
           "stream route: stream:true and include_usage added");
    }
    b = "{\"model\":\"text-embedding-3-small\",\"input\":\"a b c\"}";
    prep(&l, GW_ROUTE_STREAM, "POST", "/v1/embeddings", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    ok(!r.stream && !r.body_rewritten && r.proc_mode == GW_PROC_JSON, "stream route on embeddings: not rewritten");
    b = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}";
    prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_SSE, "rest route with a stream request: passed through as asked");
    b = "{\"model\":\"gpt-4o\",\"stream\":true,\"input\":\"hi\"}";
    prep(&l, GW_ROUTE_REST, "POST", "/v1/responses", NULL, CLIENT, NCLIENT, b, &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_SSE && !r.body_rewritten && !r.strip_usage_chunk,
       "responses API stream: SSE, no stream_options injection");

    /* GET without a body */
    ok(prep(&l, GW_ROUTE_REST, "GET", "/v1/models", NULL, CLIENT, NCLIENT, NULL, &r, &st, err) == 0 &&
           r.model[0] == '\0' && !r.stream && r.proc_mode == GW_PROC_JSON,
       "GET /v1/models: no model, JSON");

    /* bad input */
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, "{\"model\":", &r, &st, err) != 0 &&
           st == 400,
       "invalid JSON body: 400 (%s)", err);
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT,
            "{\"model\":\"a\",\"model\":\"b\"}", &r, &st, err) != 0 &&
           st == 400,
       "duplicate model: 400 (%s)", err);
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, "{\"stream\":\"yes\"}", &r, &st,
            err) != 0 &&
           st == 400,
       "non-boolean stream: 400");
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, "[1,2]", &r, &st, err) != 0 &&
           st == 400,
       "a JSON array body: 400");
    {
        const char *bad[] = {"/v1/../admin", "/v1/%2e%2e/admin", "/v1/%2E./x", "/./v1", "/v1/..", "http://evil/x",
                             "v1/chat", "/v1\\..\\x", "/v1/a b", "/v1/a#frag", "/v1/x?y"};
        int all = 1;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            int rc = prep(&l, GW_ROUTE_REST, "POST", bad[i], NULL, CLIENT, NCLIENT, "{}", &r, &st, err);
            if (rc == 0 || st != 400) {
                diag("path %s accepted (st %d)", bad[i], st);
                all = 0;
            }
        }
        ok(all, "dot segments (also %%2e), absolute URLs, backslashes, spaces, '#': 400");
    }
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/..foo/x.json", NULL, CLIENT, NCLIENT, "{}", &r, &st, err) == 0,
       "names with dots are fine");
    ok(prep(&l, GW_ROUTE_REST, "POST", "", NULL, CLIENT, NCLIENT, "{}", &r, &st, err) != 0 && st == 404,
       "empty path: 404");
    ok(prep(&l, GW_ROUTE_REST, "post", "/v1/x", NULL, CLIENT, NCLIENT, "{}", &r, &st, err) != 0 && st == 400,
       "lower-case method refused");
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/files", NULL,
            (gw_header[]){{"Content-Type", "multipart/form-data; boundary=x"}}, 1, "--x\r\nnot json", &r, &st,
            err) == 0 &&
           r.model[0] == '\0',
       "a non-JSON body (multipart) is passed through unread");
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL,
            (gw_header[]){{"Content-Type", "application/x-www-form-urlencoded"}}, 1,
            " {\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}", &r, &st, err) == 0 &&
           strcmp(r.model, "gpt-4o") == 0 && r.stream && r.proc_mode == GW_PROC_SSE,
       "a JSON body under a form content-type is still read (model and stream cannot be hidden)");
    is_str(hdr(&r, "Content-Type"), "application/json", "…and sent as application/json after the rewrite");

    /* endpoint with a version segment */
    l = mk_llm("openai", "https://api.example.com/v1", 1);
    prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, NULL, 0, "{}", &r, &st, err);
    is_str(r.url.data, "https://api.example.com/v1/chat/completions", "endpoint .../v1 + /v1/...: one /v1");
    l = mk_llm("openai", "https://api.example.com/openai", 1);
    prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", "key=a", NULL, 0, "{}", &r, &st, err);
    is_str(r.url.data, "https://api.example.com/openai/v1/chat/completions", "endpoint with a base path kept");
    ok(hdr(&r, "Content-Type") != NULL && strcmp(hdr(&r, "Content-Type"), "application/json") == 0,
       "content-type defaults to application/json for a body");
    prep(&l, GW_ROUTE_REST, "POST", "/v1/x", "KEY=a&k%65y=b&key&other=key", NULL, 0, "{}", &r, &st, err);
    is_str(r.url.data, "https://api.example.com/openai/v1/x?KEY=a&other=key",
           "key / k%%65y / bare key params removed, other params kept");

    /* no key configured */
    l = mk_llm("openai", "http://127.0.0.1:1", 0);
    prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, CLIENT, NCLIENT, "{}", &r, &st, err);
    ok(hdr(&r, "Authorization") == NULL, "no vendor key: no auth header (and never the client's)");
    {
        char badkey[] = "sk-a\r\nX: y";
        l = mk_llm("openai", "http://127.0.0.1:1", 1);
        l.api_key = badkey;
        l.api_key_len = strlen(badkey);
        ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, NULL, 0, "{}", &r, &st, err) != 0 &&
               st == 502 && strstr(err, "sk-a") == NULL,
           "a vendor key with CR/LF is refused (502) without echoing it");
    }
    l = mk_llm("nosuch", "http://127.0.0.1:1", 1);
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/x", NULL, NULL, 0, "{}", &r, &st, err) != 0 && st == 502,
       "unknown vendor: 502");

    /* ---- Hugging Face ---- */
    l = mk_llm("huggingface", "https://x.endpoints.huggingface.cloud", 1);
    prep(&l, GW_ROUTE_REST, "POST", "/v1/chat/completions", NULL, NULL, 0,
         "{\"model\":\"tgi\",\"stream\":true,\"messages\":[]}", &r, &st, err);
    ok(r.stream && r.strip_usage_chunk && strcmp(hdr(&r, "Authorization"), "Bearer sk-vendor-secret") == 0,
       "huggingface: OpenAI-compatible, Bearer, include_usage injected");
    prep(&l, GW_ROUTE_REST, "POST", "/generate_stream", NULL, NULL, 0,
         "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":20}}", &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_SSE && r.max_tokens == 20, "huggingface: TGI /generate_stream is SSE");

    /* ---- Anthropic ---- */
    l = mk_llm("anthropic", "http://127.0.0.1:18080", 1);
    b = "{\"model\":\"claude-sonnet-4\",\"max_tokens\":1024,\"system\":\"s\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"Hello\"}]}";
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1/messages", NULL, CLIENT, NCLIENT, b, &r, &st, err) == 0,
       "anthropic: ok");
    is_str(r.url.data, "http://127.0.0.1:18080/v1/messages", "anthropic: URL");
    is_str(hdr(&r, "x-api-key"), "sk-vendor-secret", "anthropic: x-api-key = vendor key");
    ok(hdr(&r, "Authorization") == NULL, "anthropic: no Authorization");
    is_str(hdr(&r, "anthropic-version"), "2023-06-01", "anthropic: default anthropic-version");
    is_str(hdr(&r, "anthropic-beta"), "prompt-caching-2024-07-31", "anthropic: anthropic-beta kept");
    is_str(r.model, "claude-sonnet-4", "anthropic: model");
    is_int(r.max_tokens, 1024, "anthropic: max_tokens");
    ok(!r.stream && r.proc_mode == GW_PROC_JSON, "anthropic: JSON");
    {
        gw_header h[] = {{"anthropic-version", "2024-10-22"}};
        prep(&l, GW_ROUTE_REST, "POST", "/v1/messages", NULL, h, 1, b, &r, &st, err);
        is_str(hdr(&r, "anthropic-version"), "2024-10-22", "anthropic: the client's anthropic-version kept");
        is_int(hdr_count(&r), 4, "anthropic: key, version, content-type, accept-encoding (no duplicate version)");
    }
    prep(&l, GW_ROUTE_STREAM, "POST", "/v1/messages", NULL, NULL, 0, b, &r, &st, err);
    {
        gw_json_value root, v;
        gw_vj_parse(r.body.data, r.body.len, &root, err);
        ok(r.stream && r.proc_mode == GW_PROC_SSE && r.body_rewritten && gw_vj_get(&root, "stream", &v) &&
               v.type == GW_JSON_TRUE && !r.strip_usage_chunk,
           "anthropic: stream route adds stream:true");
    }
    prep(&l, GW_ROUTE_STREAM, "POST", "/v1/messages/count_tokens", NULL, NULL, 0, b, &r, &st, err);
    ok(!r.stream && !r.body_rewritten, "anthropic: count_tokens is never a stream");

    /* ---- Google AI ---- */
    l = mk_llm("google_ai", "https://generativelanguage.googleapis.com", 1);
    b = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":{\"maxOutputTokens\":64}}";
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1beta/models/gemini-2.0-flash:generateContent", "key=client-gateway-key",
            CLIENT, NCLIENT, b, &r, &st, err) == 0,
       "google: ok");
    is_str(r.url.data, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
           "google: ?key= never forwarded");
    is_str(hdr(&r, "x-goog-api-key"), "sk-vendor-secret", "google: x-goog-api-key = vendor key");
    ok(hdr(&r, "Authorization") == NULL, "google: no Authorization");
    is_str(r.model, "gemini-2.0-flash", "google: model from the path");
    is_int(r.max_tokens, 64, "google: generationConfig.maxOutputTokens");
    ok(!r.stream && r.proc_mode == GW_PROC_JSON, "google: generateContent is JSON");
    prep(&l, GW_ROUTE_REST, "POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", "alt=sse&key=k", NULL,
         0, b, &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_SSE, "google: streamGenerateContent?alt=sse is SSE");
    is_str(r.url.data,
           "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
           "google: alt=sse kept, key dropped");
    prep(&l, GW_ROUTE_CALL, "POST", "/v1/models/gemini-pro:streamGenerateContent", NULL, NULL, 0, b, &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_JSON_ARRAY, "google: streamGenerateContent without alt=sse is a JSON array");
    prep(&l, GW_ROUTE_STREAM, "POST", "/v1beta/models/gemini-pro:generateContent", NULL, NULL, 0, b, &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_SSE, "google: stream route on generateContent streams");
    is_str(r.url.data, "https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:streamGenerateContent?alt=sse",
           "google: stream route rewrites the path to streamGenerateContent?alt=sse");
    ok(prep(&l, GW_ROUTE_REST, "POST", "/v1beta/models/gemini-pro:generateContent", NULL, NULL, 0, "{\"contents\":",
            &r, &st, err) != 0 &&
           st == 400,
       "google: invalid JSON 400");
    prep(&l, GW_ROUTE_REST, "GET", "/v1beta/models", NULL, NULL, 0, NULL, &r, &st, err);
    ok(r.model[0] == '\0' && !r.stream, "google: list models");

    /* ---- Vertex ---- */
    l = mk_llm("vertex", "https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google", 1);
    prep(&l, GW_ROUTE_REST, "POST", "/models/gemini-2.0-flash:generateContent", NULL, NULL, 0, b, &r, &st, err);
    is_str(r.url.data,
           "https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/"
           "models/gemini-2.0-flash:generateContent",
           "vertex: a short path is appended to the endpoint");
    is_str(hdr(&r, "Authorization"), "Bearer sk-vendor-secret", "vertex: Bearer token");
    is_str(r.model, "gemini-2.0-flash", "vertex: model");
    prep(&l, GW_ROUTE_REST, "POST",
         "/v1beta1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent",
         "alt=sse", NULL, 0, b, &r, &st, err);
    is_str(r.url.data,
           "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/p1/locations/us-central1/publishers/"
           "google/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
           "vertex: a full client path goes on the endpoint's origin");
    ok(r.stream && r.proc_mode == GW_PROC_SSE, "vertex: stream");

    /* ---- Ollama ---- */
    l = mk_llm("ollama", "http://127.0.0.1:11434", 0);
    b = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_predict\":99}}";
    ok(prep(&l, GW_ROUTE_CALL, "POST", "/api/chat", NULL, CLIENT, NCLIENT, b, &r, &st, err) == 0, "ollama: ok");
    ok(hdr(&r, "Authorization") == NULL, "ollama without a key: no auth header");
    ok(r.stream && r.proc_mode == GW_PROC_NDJSON, "ollama: /api/chat streams by default (NDJSON)");
    is_int(r.max_tokens, 99, "ollama: options.num_predict");
    is_str(r.model, "llama3.2", "ollama: model");
    prep(&l, GW_ROUTE_CALL, "POST", "/api/generate", NULL, NULL, 0,
         "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"stream\":false}", &r, &st, err);
    ok(!r.stream && r.proc_mode == GW_PROC_JSON, "ollama: stream:false is JSON");
    prep(&l, GW_ROUTE_STREAM, "POST", "/api/generate", NULL, NULL, 0,
         "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"stream\":false}", &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_NDJSON && r.body_rewritten && strstr(r.body.data, "\"stream\":true") &&
           !strstr(r.body.data, "false"),
       "ollama: stream route turns stream:false into true");
    prep(&l, GW_ROUTE_CALL, "POST", "/api/embed", NULL, NULL, 0, "{\"model\":\"e\",\"input\":\"x\"}", &r, &st, err);
    ok(!r.stream && r.proc_mode == GW_PROC_JSON, "ollama: /api/embed is JSON");
    prep(&l, GW_ROUTE_CALL, "POST", "/v1/chat/completions", NULL, NULL, 0,
         "{\"model\":\"llama3.2\",\"stream\":true,\"messages\":[]}", &r, &st, err);
    ok(r.stream && r.proc_mode == GW_PROC_SSE && r.strip_usage_chunk, "ollama: /v1 routes speak OpenAI");
    l = mk_llm("ollama", "http://127.0.0.1:11434", 1);
    prep(&l, GW_ROUTE_CALL, "GET", "/api/tags", NULL, NULL, 0, NULL, &r, &st, err);
    is_str(hdr(&r, "Authorization"), "Bearer sk-vendor-secret", "ollama with a key: Bearer");

    /* ---- the model name: decoded whole, no control characters, <= 255 bytes ---- */
    {
        static const char *const routes[][3] = {
            {"openai", "http://m/v1", "/v1/chat/completions"},
            {"huggingface", "http://m", "/v1/chat/completions"},
            {"anthropic", "http://m", "/v1/messages"},
            {"ollama", "http://m", "/api/chat"},
        };
        static const struct {
            const char *json; /* the model as JSON text */
            const char *why;
        } bad[] = {
            {"\"gpt-4o\\u0000-mini\"", "control characters"},
            {"\"gpt-4o\\u0001\"", "control characters"},
            {"\"gpt-4o\\n\"", "control characters"},
            {"\"gpt-4o\\t\"", "control characters"},
            {"\"gpt\x7f\"", "control characters"},
            {"\"gpt\\u007f\"", "control characters"},
            {"42", "must be a string"},
            {"null", "must be a string"},
            {"[\"gpt-4o\"]", "must be a string"},
        };
        char m255[300], body[1200];
        memset(m255, 'm', 255);
        m255[255] = '\0';
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
            l = mk_llm(routes[i][0], routes[i][1], 1);
            for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
                snprintf(body, sizeof(body), "{\"model\":%s,\"messages\":[]}", bad[j].json);
                ok(prep(&l, GW_ROUTE_REST, "POST", routes[i][2], NULL, NULL, 0, body, &r, &st, err) == -1 && st == 400 &&
                       strstr(err, bad[j].why) != NULL && r.model[0] == '\0',
                   "%s: model %s refused", routes[i][0], bad[j].json);
            }
            snprintf(body, sizeof(body), "{\"model\":\"%s\",\"messages\":[]}", m255);
            ok(prep(&l, GW_ROUTE_REST, "POST", routes[i][2], NULL, NULL, 0, body, &r, &st, err) == 0 &&
                   strcmp(r.model, m255) == 0,
               "%s: a 255-byte model is kept whole", routes[i][0]);
            snprintf(body, sizeof(body), "{\"model\":\"%sm\",\"messages\":[]}", m255);
            ok(prep(&l, GW_ROUTE_REST, "POST", routes[i][2], NULL, NULL, 0, body, &r, &st, err) == -1 && st == 400 &&
                   strstr(err, "longer than 255 bytes") != NULL,
               "%s: a 256-byte model refused", routes[i][0]);
            snprintf(body, sizeof(body), "{\"model\":\"%.252s\\u00e9\\u00e9\",\"messages\":[]}", m255);
            ok(prep(&l, GW_ROUTE_REST, "POST", routes[i][2], NULL, NULL, 0, body, &r, &st, err) == -1 && st == 400 &&
                   strstr(err, "longer than 255 bytes") != NULL,
               "%s: 254 characters but 256 bytes refused (bytes count)", routes[i][0]);
            ok(prep(&l, GW_ROUTE_REST, "POST", routes[i][2], NULL, NULL, 0, "{\"m\\u006fdel\":\"a\\u0000\"}", &r, &st, err) ==
                   -1,
               "%s: an escaped key does not hide the model", routes[i][0]);
        }

        /* Google: the model in the path, as the upstream will decode it */
        l = mk_llm("google_ai", "http://m", 1);
        b = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}";
        ok(prep(&l, GW_ROUTE_REST, "POST", "/v1beta/models/gemini-2.0-fl%61sh:generateContent", NULL, NULL, 0, b, &r,
                &st, err) == 0 &&
               strcmp(r.model, "gemini-2.0-flash") == 0,
           "google: an escaped model name is decoded");
        ok(prep(&l, GW_ROUTE_STREAM, "POST", "/v1beta/models/gemini-pro%3agenerateContent", NULL, NULL, 0, b, &r, &st,
                err) == 0 &&
               strcmp(r.model, "gemini-pro") == 0 && r.stream &&
               strcmp(r.url.data, "http://m/v1beta/models/gemini-pro%3astreamGenerateContent?alt=sse") == 0,
           "google: an escaped ':' separates the method too");
        ok(prep(&l, GW_ROUTE_REST, "POST", "/v1beta/models/gemini-pro:streamGenerateCont%65nt", "alt=sse", NULL, 0, b,
                &r, &st, err) == 0 &&
               r.stream && r.proc_mode == GW_PROC_SSE,
           "google: the method is read decoded");
        snprintf(body, sizeof(body), "/v1beta/models/%s:generateContent", m255);
        ok(prep(&l, GW_ROUTE_REST, "POST", body, NULL, NULL, 0, b, &r, &st, err) == 0 && strcmp(r.model, m255) == 0,
           "google: a 255-byte model in the path");
        snprintf(body, sizeof(body), "/v1beta/models/%sm:generateContent", m255);
        ok(prep(&l, GW_ROUTE_REST, "POST", body, NULL, NULL, 0, b, &r, &st, err) == -1 && st == 400 &&
               strstr(err, "longer than 255 bytes") != NULL,
           "google: a 256-byte model in the path refused");
        snprintf(body, sizeof(body), "/v1beta/models/%.250s%%41%%41%%41%%41%%41%%41:generateContent", m255);
        ok(prep(&l, GW_ROUTE_REST, "POST", body, NULL, NULL, 0, b, &r, &st, err) == -1 && st == 400,
           "google: escapes count by their decoded bytes (256)");
        ok(prep(&l, GW_ROUTE_REST, "POST", "/v1beta/models/gemini%01:generateContent", NULL, NULL, 0, b, &r, &st, err) ==
                   -1 &&
               st == 400,
           "google: %%01 in the model refused");
        l = mk_llm("vertex", "http://m", 1);
        snprintf(body, sizeof(body), "/v1/projects/p/locations/l/publishers/google/models/%sm:generateContent", m255);
        ok(prep(&l, GW_ROUTE_REST, "POST", body, NULL, NULL, 0, b, &r, &st, err) == -1 && st == 400,
           "vertex: a 256-byte model in the path refused");

        is_int(gw_vendor_model_check("gpt-4o", 6, err), 0, "model check: an ordinary name");
        is_int(gw_vendor_model_check("caf\xc3\xa9 \xe2\x80\xa8", 9, err), 0,
               "model check: UTF-8 and spaces are fine (only C0 and DEL are refused)");
        is_int(gw_vendor_model_check("a\0b", 3, err), -1, "model check: a NUL inside the length");
        is_int(gw_vendor_model_check(m255, 255, err), 0, "model check: 255 bytes");
    }

    gw_upstream_req_free(&r);
    return tap_done();
}
