/*
 * regress/unit/test_vendor_stream.c: the pass-through stream processor for
 * every vendor format (OpenAI / TGI SSE, Anthropic SSE, Gemini SSE and
 * streamed JSON array, Ollama NDJSON, whole JSON bodies): each byte stream
 * (shaped like bench/mock/mock_render.c and the real APIs) is fed split at
 * every possible position and byte by byte, and must give the same relayed
 * bytes and exactly the same usage; the injected include_usage chunk is
 * dropped but read; events are relayed as soon as they are complete;
 * client-gone propagation; the line and JSON limits; a missing end marker
 * or an error event makes finish() fail; the vendor error events.
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

typedef struct sink {
    gw_buf out;
    int calls;
    int fail_after; /* emit fails from this call on (-1: never) */
} sink;

static int sink_emit(void *ctx, const char *d, size_t n)
{
    sink *s = ctx;
    if (s->fail_after >= 0 && s->calls >= s->fail_after)
        return -1;
    s->calls++;
    gw_buf_append(&s->out, d, n);
    return 0;
}

typedef struct result {
    gw_buf out;
    gw_usage u;
    char model[GW_MODEL_MAX];
    int feed_rc;
    int finish_rc;
    int gone;
    char err[GW_ERR_LEN];
} result;

static void result_free(result *r)
{
    gw_buf_free(&r->out);
}

/* Feeds `in` cut at the given positions (sorted, ≤ len), then finishes. */
static void run_cuts(const gw_proc_opts *o, const char *in, size_t len, const size_t *cuts, size_t ncuts, result *r)
{
    gw_stream_proc *p;
    sink s;
    size_t at = 0;

    memset(r, 0, sizeof(*r));
    gw_buf_init(&s.out, 0);
    s.calls = 0;
    s.fail_after = -1;
    if (gw_stream_proc_create(o, sink_emit, &s, &p, r->err) != 0) {
        r->feed_rc = -2;
        return;
    }
    for (size_t i = 0; i <= ncuts && r->feed_rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        if (end < at)
            continue;
        r->feed_rc = gw_stream_proc_feed(p, in + at, end - at, &r->gone, r->err);
        at = end;
    }
    if (r->feed_rc == 0)
        r->finish_rc = gw_stream_proc_finish(p, &r->gone, r->err);
    gw_stream_proc_usage(p, &r->u);
    snprintf(r->model, sizeof(r->model), "%s", gw_stream_proc_model(p));
    r->out = s.out;
    gw_stream_proc_destroy(p);
}

static void run_whole(const gw_proc_opts *o, const char *in, result *r)
{
    run_cuts(o, in, strlen(in), NULL, 0, r);
}

static int usage_eq(const gw_usage *a, const gw_usage *b)
{
    return a->prompt_tokens == b->prompt_tokens && a->response_tokens == b->response_tokens &&
           a->cache_write_tokens == b->cache_write_tokens && a->cache_read_tokens == b->cache_read_tokens &&
           a->seen == b->seen;
}

/*
 * The same stream split at every position (two pieces), at every pair of
 * positions for short streams, and byte by byte, gives the reference
 * output, usage and result.
 */
static int split_invariant(const gw_proc_opts *o, const char *in, const result *ref, const char *what)
{
    size_t len = strlen(in);
    int bad = 0;
    result r;

    for (size_t i = 0; i <= len && !bad; i++) {
        run_cuts(o, in, len, &i, 1, &r);
        if (r.feed_rc != ref->feed_rc || r.finish_rc != ref->finish_rc || r.out.len != ref->out.len ||
            (r.out.len > 0 && memcmp(r.out.data, ref->out.data, r.out.len) != 0) || !usage_eq(&r.u, &ref->u) ||
            strcmp(r.model, ref->model) != 0) {
            diag("%s: split at %zu differs (feed %d finish %d out %zu/%zu)", what, i, r.feed_rc, r.finish_rc,
                 r.out.len, ref->out.len);
            bad = 1;
        }
        result_free(&r);
    }
    if (len <= 700) {
        for (size_t i = 0; i <= len && !bad; i += 3)
            for (size_t j = i; j <= len && !bad; j += 5) {
                size_t c[2] = {i, j};
                run_cuts(o, in, len, c, 2, &r);
                if (r.finish_rc != ref->finish_rc || r.out.len != ref->out.len ||
                    (r.out.len > 0 && memcmp(r.out.data, ref->out.data, r.out.len) != 0) || !usage_eq(&r.u, &ref->u)) {
                    diag("%s: splits at %zu,%zu differ", what, i, j);
                    bad = 1;
                }
                result_free(&r);
            }
    }
    {
        size_t *cuts = malloc(len * sizeof(size_t) + 1);
        for (size_t i = 0; i < len; i++)
            cuts[i] = i + 1;
        run_cuts(o, in, len, cuts, len, &r);
        free(cuts);
        if (r.finish_rc != ref->finish_rc || r.out.len != ref->out.len ||
            (r.out.len > 0 && memcmp(r.out.data, ref->out.data, r.out.len) != 0) || !usage_eq(&r.u, &ref->u)) {
            diag("%s: byte-by-byte feeding differs", what);
            bad = 1;
        }
        result_free(&r);
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
    o.max_line_bytes = 4096;
    o.max_json_bytes = 1 << 20;
    o.model = "req-model";
    o.request_id = "rid1";
    o.created = 1700000000;
    return o;
}

/* ---- fixtures (the shapes of bench/mock/mock_render.c) ---- */

#define OA_HEAD "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-2024\","
static const char OA_STREAM_BODY[] =
    OA_HEAD "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}],"
            "\"usage\":null}\n\n" OA_HEAD
            "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"finish_reason\":null}],\"usage\":null}\n\n" OA_HEAD
            "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
static const char OA_USAGE_CHUNK[] =
    OA_HEAD "\"choices\":[],\"usage\":{\"prompt_tokens\":15,\"completion_tokens\":2,\"total_tokens\":17,"
            "\"prompt_tokens_details\":{\"cached_tokens\":3,\"audio_tokens\":0}}}\n\n";
static const char OA_DONE[] = "data: [DONE]\n\n";

static const char AN_STREAM[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,"
    "\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":5,\"cache_read_input_tokens\":7,"
    "\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
    "\"text_delta\",\"text\":\"Hello\"}}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":"
    "{\"output_tokens\":3}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
    "\"text_delta\",\"text\":\" world\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n";
static const char AN_STOP[] = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static const char GG_SSE1[] = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}],\"role\":\"model\"},"
                              "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":10},"
                              "\"modelVersion\":\"gemini-2.0-flash\",\"responseId\":\"r1\"}\r\n\r\n";
static const char GG_SSE2[] =
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" world\"}],\"role\":\"model\"},"
    "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":15,\"candidatesTokenCount\":5,"
    "\"totalTokenCount\":26,\"cachedContentTokenCount\":3,\"thoughtsTokenCount\":6},"
    "\"modelVersion\":\"gemini-2.0-flash\",\"responseId\":\"r1\"}\r\n\r\n";

static const char GG_ARR[] =
    "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a [b] {c} \\\"d\\\" \\\\\"}],\"role\":\"model\"},"
    "\"index\":0}],\"modelVersion\":\"gemini-pro\"},\r\n"
    "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"e\"}],\"role\":\"model\"},\"finishReason\":\"STOP\","
    "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":6,\"candidatesTokenCount\":5,\"totalTokenCount\":11,"
    "\"cachedContentTokenCount\":0},\"modelVersion\":\"gemini-pro\"}]";

static const char OL_STREAM[] =
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"Hello\"},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\" world\"},\"done\":false}\n";
static const char OL_DONE[] =
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"\"},\"done_reason\":\"stop\",\"done\": true,\"total_duration\":12000000,\"load_duration\":1000000,"
    "\"prompt_eval_count\":8,\"prompt_eval_duration\":900000,\"eval_count\":5,\"eval_duration\":5000000}\n";

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static void check_usage(const gw_usage *u, int64_t p, int64_t r, int64_t cw, int64_t cr, const char *what)
{
    if (!tap_ok(u->seen && u->prompt_tokens == p && u->response_tokens == r && u->cache_write_tokens == cw &&
                    u->cache_read_tokens == cr,
                __FILE__, __LINE__, "%s: usage exactly %lld/%lld/%lld/%lld", what, (long long)p, (long long)r,
                (long long)cw, (long long)cr))
        diag("got seen=%d %lld/%lld/%lld/%lld", u->seen, (long long)u->prompt_tokens, (long long)u->response_tokens,
             (long long)u->cache_write_tokens, (long long)u->cache_read_tokens);
}

int main(void)
{
    result r;
    gw_proc_opts o;
    char *in;

    /* ================= OpenAI SSE ================= */
    in = cat3(OA_STREAM_BODY, OA_USAGE_CHUNK, OA_DONE);
    o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 1);
    run_whole(&o, in, &r);
    ok(r.feed_rc == 0 && r.finish_rc == 0, "openai: clean stream (%s)", r.err);
    {
        char *want = cat3(OA_STREAM_BODY, OA_DONE, "");
        ok(r.out.len == strlen(want) && memcmp(r.out.data, want, r.out.len) == 0,
           "openai: injected usage chunk dropped, everything else relayed byte for byte");
        free(want);
    }
    check_usage(&r.u, 15, 2, 0, 3, "openai stream");
    is_str(r.model, "gpt-4o-2024", "openai: upstream model");
    ok(split_invariant(&o, in, &r, "openai strip"), "openai strip: identical at every split and byte by byte");
    result_free(&r);
    o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 0);
    run_whole(&o, in, &r);
    ok(r.out.len == strlen(in) && memcmp(r.out.data, in, r.out.len) == 0, "openai: client asked for usage: chunk relayed");
    check_usage(&r.u, 15, 2, 0, 3, "openai relayed usage");
    ok(split_invariant(&o, in, &r, "openai"), "openai: identical at every split");
    result_free(&r);
    free(in);

    /* A stream cut before its usage (client gone / upstream reset): the
     * answer frames relayed are counted, one token each, marked estimated;
     * a stream that ends normally is never estimated. */
    o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 1);
    run_whole(&o, OA_STREAM_BODY, &r);
    ok(r.u.estimated == 1 && r.u.response_tokens == 2 && r.u.prompt_tokens == 0 && r.u.seen == 0,
       "openai cut before usage: 2 answer frames -> 2 estimated response tokens (got %lld, estimated %d)",
       (long long)r.u.response_tokens, r.u.estimated);
    result_free(&r);
    in = cat3(OA_STREAM_BODY, OA_DONE, "");
    run_whole(&o, in, &r);
    ok(r.u.estimated == 0 && r.u.response_tokens == 0, "openai ended with [DONE] but no usage: nothing estimated");
    result_free(&r);
    free(in);

    /* TGI: usage on the last chunk with finish_reason, then [DONE] */
    in = cat3("data: {\"object\":\"chat.completion.chunk\",\"model\":\"tgi\",\"choices\":[{\"index\":0,\"delta\":"
              "{\"role\":\"assistant\",\"content\":\"x\"},\"finish_reason\":null}],\"usage\":null}\n\n",
              "data: {\"object\":\"chat.completion.chunk\",\"model\":\"tgi\",\"choices\":[{\"index\":0,\"delta\":"
              "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":4,"
              "\"completion_tokens\":11,\"total_tokens\":15}}\n\n",
              "data: [DONE]\n\n");
    o = opts(GW_VENDOR_HUGGINGFACE, GW_PROC_SSE, 1);
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(in), "tgi: usage on a chunk with choices is relayed (not stripped)");
    check_usage(&r.u, 4, 11, 0, 0, "tgi");
    result_free(&r);
    free(in);

    /* CRLF framing and multi-line data */
    in = cat3("data: {\"model\":\"m\",\r\ndata: \"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\r\n\r\n",
              ": keep-alive comment\r\n\r\n", "data: [DONE]\r\n\r\n");
    o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 0);
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(in), "CRLF events, comments: relayed as is, clean");
    check_usage(&r.u, 1, 2, 0, 0, "multi-line data joined with \\n");
    ok(split_invariant(&o, in, &r, "crlf"), "CRLF: identical at every split (also between \\r and \\n)");
    result_free(&r);
    free(in);

    /* end marker missing */
    o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 1);
    run_whole(&o, OA_STREAM_BODY, &r);
    ok(r.feed_rc == 0 && r.finish_rc == -1 && strstr(r.err, "end marker"), "openai: no [DONE] → finish -1 (%s)", r.err);
    ok(r.out.len == strlen(OA_STREAM_BODY), "openai: what came was relayed");
    ok(split_invariant(&o, OA_STREAM_BODY, &r, "openai cut"), "openai cut: same at every split");
    result_free(&r);
    in = cat3(OA_STREAM_BODY, "data: {\"model\":\"x\",\"choi", "");
    run_whole(&o, in, &r);
    ok(r.finish_rc == -1 && r.out.len == strlen(OA_STREAM_BODY), "openai: a cut partial event is not relayed");
    result_free(&r);
    free(in);
    /* error inside the stream */
    in = cat3(OA_STREAM_BODY, "data: {\"error\":{\"message\":\"overloaded now\",\"type\":\"server_error\"}}\n\n", OA_DONE);
    run_whole(&o, in, &r);
    ok(r.finish_rc == -1 && strstr(r.err, "overloaded now") && r.out.len == strlen(in),
       "openai: an error chunk is relayed and the stream is not clean (%s)", r.err);
    result_free(&r);
    free(in);

    /* emitted as soon as complete */
    {
        gw_stream_proc *p;
        sink s = {{0}, 0, -1};
        int gone;
        char err[GW_ERR_LEN];
        const char *first_end = strstr(OA_STREAM_BODY, "\n\n") + 2;
        size_t n1 = (size_t)(first_end - OA_STREAM_BODY);
        gw_buf_init(&s.out, 0);
        o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 1);
        gw_stream_proc_create(&o, sink_emit, &s, &p, err);
        gw_stream_proc_feed(p, OA_STREAM_BODY, n1 - 1, &gone, err);
        ok(s.out.len == 0, "an event is held until its blank line");
        gw_stream_proc_feed(p, OA_STREAM_BODY + n1 - 1, 1, &gone, err);
        ok(s.out.len == n1 && memcmp(s.out.data, OA_STREAM_BODY, n1) == 0,
           "the event is emitted the moment its last byte arrives");
        gw_stream_proc_feed(p, first_end, 10, &gone, err);
        ok(s.out.len == n1, "a partial next event is not emitted");
        gw_stream_proc_destroy(p);
        gw_buf_free(&s.out);
    }

    /* client gone */
    {
        gw_stream_proc *p;
        sink s = {{0}, 0, 1};
        int gone = 0, rc1, rc2;
        char err[GW_ERR_LEN];
        gw_buf_init(&s.out, 0);
        in = cat3(OA_STREAM_BODY, OA_USAGE_CHUNK, OA_DONE);
        o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 1);
        gw_stream_proc_create(&o, sink_emit, &s, &p, err);
        rc1 = gw_stream_proc_feed(p, in, 40, &gone, err);
        rc2 = gw_stream_proc_feed(p, in + 40, strlen(in) - 40, &gone, err);
        ok(rc1 == 0 && rc2 == -1 && gone == 1, "emit failing → feed -1 with client_gone");
        gone = 0;
        ok(gw_stream_proc_feed(p, "data: x\n\n", 9, &gone, err) == -1 && gone == 1, "…and every later feed too");
        gone = 0;
        ok(gw_stream_proc_finish(p, &gone, err) == -1 && gone == 1, "…and finish");
        {
            gw_usage u;
            gw_stream_proc_usage(p, &u);
            ok(u.seen == 0, "usage seen so far is kept (none before the gone client here)");
        }
        gw_stream_proc_destroy(p);
        gw_buf_free(&s.out);
        free(in);
    }
    /* client gone after usage (Anthropic): partial usage kept */
    {
        gw_stream_proc *p;
        sink s = {{0}, 0, 1};
        int gone = 0;
        char err[GW_ERR_LEN];
        gw_usage u;
        gw_buf_init(&s.out, 0);
        o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_SSE, 0);
        gw_stream_proc_create(&o, sink_emit, &s, &p, err);
        ok(gw_stream_proc_feed(p, AN_STREAM, strlen(AN_STREAM), &gone, err) == -1 && gone, "anthropic: client gone");
        gw_stream_proc_usage(p, &u);
        ok(u.seen && u.prompt_tokens == 12 && u.cache_read_tokens == 7,
           "usage of the events read before the client left is kept");
        gw_stream_proc_destroy(p);
        gw_buf_free(&s.out);
    }

    /* line limit */
    {
        gw_buf big;
        gw_buf_init(&big, 0);
        gw_buf_puts(&big, "data: {\"x\":\"");
        for (int i = 0; i < 5000; i++)
            gw_buf_puts(&big, "a");
        gw_buf_puts(&big, "\"}\n\n");
        o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 0);
        run_whole(&o, big.data, &r);
        ok(r.feed_rc == -1 && r.gone == 0 && strstr(r.err, "longer than 4096"), "line over max_line_bytes → -1 (%s)",
           r.err);
        result_free(&r);
        {
            size_t cuts[] = {100, 4000, 4200};
            run_cuts(&o, big.data, 4300, cuts, 3, &r);
            ok(r.feed_rc == -1, "…also when the long line arrives in pieces without a newline");
            result_free(&r);
        }
        o = opts(GW_VENDOR_OLLAMA, GW_PROC_NDJSON, 0);
        run_whole(&o, big.data + 6, &r);
        ok(r.feed_rc == -1, "NDJSON line limit");
        result_free(&r);
        o = opts(GW_VENDOR_OPENAI, GW_PROC_SSE, 0);
        o.max_line_bytes = 8000;
        run_whole(&o, big.data, &r);
        ok(r.feed_rc == 0 && r.finish_rc == -1, "a line within the limit passes (no end marker here)");
        result_free(&r);
        o = opts(GW_VENDOR_OPENAI, GW_PROC_JSON, 0);
        o.max_json_bytes = 1000;
        run_whole(&o, big.data, &r);
        ok(r.feed_rc == -1 && strstr(r.err, "larger than 1000"), "JSON body over max_json_bytes → -1");
        ok(r.out.len == 0, "…nothing emitted");
        result_free(&r);
        gw_buf_free(&big);
    }

    /* ================= Anthropic SSE ================= */
    in = cat3(AN_STREAM, AN_STOP, "");
    o = opts(GW_VENDOR_ANTHROPIC, GW_PROC_SSE, 0);
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(in) && memcmp(r.out.data, in, r.out.len) == 0,
       "anthropic: relayed byte for byte, clean (%s)", r.err);
    check_usage(&r.u, 12, 9, 5, 7, "anthropic stream (output cumulative: last value 9, not 1+3+9)");
    is_str(r.model, "claude-sonnet-4-20250514", "anthropic: model from message_start");
    ok(split_invariant(&o, in, &r, "anthropic"), "anthropic: identical at every split and byte by byte");
    result_free(&r);
    free(in);
    run_whole(&o, AN_STREAM, &r);
    ok(r.finish_rc == -1, "anthropic: no message_stop → finish -1");
    check_usage(&r.u, 12, 9, 5, 7, "anthropic cut: usage so far");
    result_free(&r);
    in = cat3(AN_STREAM, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                         "\"Overloaded\"}}\n\n", "");
    run_whole(&o, in, &r);
    ok(r.finish_rc == -1 && strstr(r.err, "Overloaded") && r.out.len == strlen(in),
       "anthropic: event: error relayed, not clean (%s)", r.err);
    result_free(&r);
    free(in);
    /* events without "event:" lines (type in the data) */
    in = cat3("data: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":2,"
              "\"output_tokens\":1}}}\n\n",
              "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":4}}\n\n",
              "data: {\"type\":\"message_stop\"}\n\n");
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0, "anthropic: types read from the data when there is no event line");
    check_usage(&r.u, 2, 4, 0, 0, "anthropic typed data");
    result_free(&r);
    free(in);

    /* ================= Google SSE / JSON array ================= */
    in = cat3(GG_SSE1, GG_SSE2, "");
    o = opts(GW_VENDOR_GOOGLE_AI, GW_PROC_SSE, 0);
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(in), "google SSE: clean after a finishReason (%s)", r.err);
    check_usage(&r.u, 15, 11, 0, 3, "google SSE (last usageMetadata; candidates + thoughts)");
    is_str(r.model, "gemini-2.0-flash", "google: modelVersion");
    ok(split_invariant(&o, in, &r, "google sse"), "google SSE: identical at every split");
    result_free(&r);
    free(in);
    run_whole(&o, GG_SSE1, &r);
    ok(r.finish_rc == -1, "google SSE: EOF without a finishReason → finish -1");
    check_usage(&r.u, 10, 0, 0, 0, "google cut: last usage seen");
    result_free(&r);
    run_whole(&o, "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":4}}\r\n\r\n", &r);
    ok(r.finish_rc == 0, "google SSE: a blocked prompt (promptFeedback.blockReason) ends the stream cleanly");
    check_usage(&r.u, 4, 0, 0, 0, "google blocked prompt");
    result_free(&r);
    o = opts(GW_VENDOR_VERTEX, GW_PROC_JSON_ARRAY, 0);
    run_whole(&o, GG_ARR, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(GG_ARR) && memcmp(r.out.data, GG_ARR, r.out.len) == 0,
       "google JSON array: relayed byte for byte, clean at ']' (%s)", r.err);
    check_usage(&r.u, 6, 5, 0, 0, "google array");
    is_str(r.model, "gemini-pro", "google array: model");
    ok(split_invariant(&o, GG_ARR, &r, "google array"), "google array (brackets and quotes in strings): every split");
    result_free(&r);
    {
        size_t n = (size_t)(strstr(GG_ARR, ",\r\n") - GG_ARR) + 3 + 20;
        char *cut = strndup(GG_ARR, n);
        run_whole(&o, cut, &r);
        ok(r.finish_rc == -1 && r.out.len == (size_t)(strstr(GG_ARR, ",\r\n") - GG_ARR),
           "google array cut: finish -1, only whole elements relayed");
        result_free(&r);
        free(cut);
    }
    {
        /* elements are relayed as soon as complete */
        gw_stream_proc *p;
        sink s = {{0}, 0, -1};
        int gone;
        char err[GW_ERR_LEN];
        size_t n = (size_t)(strstr(GG_ARR, ",\r\n") - GG_ARR);
        gw_buf_init(&s.out, 0);
        gw_stream_proc_create(&o, sink_emit, &s, &p, err);
        gw_stream_proc_feed(p, GG_ARR, n, &gone, err);
        ok(s.out.len == n, "google array: the first element is relayed when its '}' arrives");
        gw_stream_proc_destroy(p);
        gw_buf_free(&s.out);
    }
    /* wrong types where arrays are expected (found by fuzzing: once a hang) */
    in = cat3("[{\"candidates\":{\"content\":{\"parts\":{\"text\":\"a\"}},\"x\":1},\"usageMetadata\":[1,2]},",
              "{\"candidates\":[{\"content\":{\"parts\":\"str\"},\"finishReason\":7}]}", "]");
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(in), "google array: objects where arrays belong are read safely");
    result_free(&r);
    free(in);
    in = cat3("[{\"candidates\":[]},\n", "{\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}", "]");
    run_whole(&o, in, &r);
    ok(r.finish_rc == -1 && strstr(r.err, "boom"), "google array: an error element makes the stream not clean");
    result_free(&r);
    free(in);

    /* ================= Ollama NDJSON ================= */
    in = cat3(OL_STREAM, OL_DONE, "");
    o = opts(GW_VENDOR_OLLAMA, GW_PROC_NDJSON, 0);
    run_whole(&o, in, &r);
    ok(r.finish_rc == 0 && r.out.len == strlen(in) && memcmp(r.out.data, in, r.out.len) == 0,
       "ollama: relayed line by line, clean at done:true");
    check_usage(&r.u, 8, 5, 0, 0, "ollama stream");
    is_str(r.model, "llama3.2", "ollama: model");
    ok(split_invariant(&o, in, &r, "ollama"), "ollama: identical at every split");
    result_free(&r);
    free(in);
    run_whole(&o, OL_STREAM, &r);
    ok(r.finish_rc == -1, "ollama: no done:true → finish -1");
    result_free(&r);
    in = cat3(OL_STREAM, "{\"error\":\"model runner crashed\"}\n", "");
    run_whole(&o, in, &r);
    ok(r.finish_rc == -1 && strstr(r.err, "runner crashed") && r.out.len == strlen(in), "ollama: error line relayed, not clean");
    result_free(&r);
    free(in);

    /* ================= JSON bodies ================= */
    {
        const char *oa = "{\"id\":\"x\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":"
                         "{\"prompt_tokens\":20,\"completion_tokens\":8,\"total_tokens\":28,\"prompt_tokens_details\":"
                         "{\"cached_tokens\":4}}}\n";
        const char *an = "{\"id\":\"m\",\"type\":\"message\",\"model\":\"claude\",\"content\":[],\"usage\":{\"input_tokens\":"
                         "11,\"cache_creation_input_tokens\":2,\"cache_read_input_tokens\":null,\"output_tokens\":8}}";
        const char *gg = "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":8,"
                         "\"cachedContentTokenCount\":3},\"modelVersion\":\"gemini\"}";
        const char *ol = "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"done\":true,"
                         "\"prompt_eval_count\":8,\"eval_count\":8}";
        const char *rs = "{\"id\":\"resp_1\",\"object\":\"response\",\"model\":\"gpt-4.1\",\"usage\":{\"input_tokens\":9,"
                         "\"input_tokens_details\":{\"cached_tokens\":2},\"output_tokens\":4}}";
        struct {
            gw_vendor_id v;
            const char *body;
            int64_t p, rr, cw, cr;
            const char *name;
        } cases[] = {{GW_VENDOR_OPENAI, oa, 20, 8, 0, 4, "openai JSON"},
                     {GW_VENDOR_ANTHROPIC, an, 11, 8, 2, 0, "anthropic JSON"},
                     {GW_VENDOR_GOOGLE_AI, gg, 12, 8, 0, 3, "google JSON"},
                     {GW_VENDOR_OLLAMA, ol, 8, 8, 0, 0, "ollama JSON"},
                     {GW_VENDOR_OPENAI, rs, 9, 4, 0, 2, "openai responses JSON"}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            o = opts(cases[i].v, GW_PROC_JSON, 0);
            run_whole(&o, cases[i].body, &r);
            ok(r.finish_rc == 0 && r.out.len == strlen(cases[i].body) &&
                   memcmp(r.out.data, cases[i].body, r.out.len) == 0,
               "%s: relayed as is at finish", cases[i].name);
            check_usage(&r.u, cases[i].p, cases[i].rr, cases[i].cw, cases[i].cr, cases[i].name);
            ok(split_invariant(&o, cases[i].body, &r, cases[i].name), "%s: every split", cases[i].name);
            result_free(&r);
        }
        {
            gw_stream_proc *p;
            sink s = {{0}, 0, -1};
            int gone;
            char err[GW_ERR_LEN];
            gw_buf_init(&s.out, 0);
            o = opts(GW_VENDOR_OPENAI, GW_PROC_JSON, 0);
            gw_stream_proc_create(&o, sink_emit, &s, &p, err);
            gw_stream_proc_feed(p, oa, strlen(oa), &gone, err);
            ok(s.out.len == 0, "JSON mode: nothing emitted before finish");
            gw_stream_proc_destroy(p);
            gw_buf_free(&s.out);
        }
        o = opts(GW_VENDOR_OPENAI, GW_PROC_JSON, 0);
        run_whole(&o, "<html>bad gateway</html>", &r);
        ok(r.finish_rc == 0 && r.out.len == 24 && !r.u.seen, "JSON mode: a non-JSON body is relayed, no usage");
        result_free(&r);
    }

    /* ================= error events and content types ================= */
    {
        struct {
            gw_vendor_id v;
            gw_proc_mode m;
            const char *prefix, *suffix, *has;
        } cases[] = {
            {GW_VENDOR_OPENAI, GW_PROC_SSE, "data: ", "\n\n", "\"upstream_error\""},
            {GW_VENDOR_ANTHROPIC, GW_PROC_SSE, "event: error\ndata: ", "\n\n", "\"api_error\""},
            {GW_VENDOR_GOOGLE_AI, GW_PROC_SSE, "data: ", "\n\n", "\"UNAVAILABLE\""},
            {GW_VENDOR_VERTEX, GW_PROC_JSON_ARRAY, ",\r\n", "]", "\"code\":502"},
            {GW_VENDOR_OLLAMA, GW_PROC_NDJSON, "", "\n", "{\"error\":\"cut \\\"here\\\"\"}"},
            {GW_VENDOR_ANTHROPIC, GW_PROC_AI_SSE, "data: ", "\n\n", "\"upstream_error\""},
            {GW_VENDOR_OLLAMA, GW_PROC_AI_JSON, "", "", "\"upstream_error\""},
            {GW_VENDOR_ANTHROPIC, GW_PROC_JSON, "", "", "\"type\":\"error\""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            gw_buf b;
            char err[GW_ERR_LEN];
            size_t pl = strlen(cases[i].prefix), sl = strlen(cases[i].suffix);
            gw_buf_init(&b, 0);
            int rc = gw_vendor_stream_error(cases[i].v, cases[i].m, "cut \"here\"", &b);
            ok(rc == 0 && b.len > pl + sl && memcmp(b.data, cases[i].prefix, pl) == 0 &&
                   memcmp(b.data + b.len - sl, cases[i].suffix, sl) == 0 &&
                   gw_json_validate(b.data + pl, b.len - pl - sl, 8, err) == 0 && strstr(b.data, cases[i].has) &&
                   strstr(b.data, "cut \\\"here\\\""),
               "error event %s/%d: framing and valid JSON", gw_vendor_name(cases[i].v), (int)cases[i].m);
            gw_buf_free(&b);
        }
    }
    is_str(gw_proc_content_type(GW_PROC_SSE), "text/event-stream", "content type SSE");
    is_str(gw_proc_content_type(GW_PROC_AI_SSE), "text/event-stream", "content type AI SSE");
    is_str(gw_proc_content_type(GW_PROC_NDJSON), "application/x-ndjson", "content type NDJSON");
    is_str(gw_proc_content_type(GW_PROC_JSON), "application/json", "content type JSON");
    is_str(gw_proc_content_type(GW_PROC_JSON_ARRAY), "application/json", "content type JSON array");
    is_str(gw_proc_content_type(GW_PROC_AI_JSON), "application/json", "content type AI JSON");

    return tap_done();
}
