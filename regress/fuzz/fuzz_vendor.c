/*
 * regress/fuzz/fuzz_vendor.c: the vendor layer's request side on arbitrary
 * input: gw_vendor_prepare (pass-through: URL, headers, model / stream /
 * max-tokens detection, body rewrites) for every vendor and route kind, and
 * gw_vendor_translate_request (/ai) for every vendor. Input: one selector
 * byte, then NUL-separated fields path, query, body. Invariants checked on
 * success: the model is a valid name (gw_vendor_model_check: never cut,
 * never with a control character), a rewritten body is JSON, every header
 * line is clean.
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

#include "fuzz.h"

static const char *const gw_fuzz_vendors[][2] = {
    {"openai", "http://127.0.0.1:1/v1"},
    {"anthropic", "http://127.0.0.1:1"},
    {"google_ai", "http://127.0.0.1:1"},
    {"vertex", "http://127.0.0.1:1/v1/projects/p/locations/l/publishers/google"},
    {"huggingface", "http://127.0.0.1:1"},
    {"ollama", "http://127.0.0.1:1/api"},
};

static void gw_fuzz_check(const gw_upstream_req *r)
{
    char err[GW_ERR_LEN];

    if (gw_vendor_model_check(r->model, strlen(r->model), err) != 0)
        abort();
    if (r->body_rewritten && !r->body.failed && gw_json_validate(r->body.data, r->body.len, 128, err) != 0)
        abort();
    for (size_t off = 0; off < r->headers.len;) {
        const char *line = r->headers.data + off;
        if (strchr(line, '\r') != NULL || strchr(line, '\n') != NULL)
            abort();
        off += strlen(line) + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gw_header headers[] = {{"Authorization", "Bearer client"}, {"Content-Type", "application/json"},
                                        {"anthropic-version", "2023-06-01"}, {"x-mock-cached-tokens", "1"}};
    static const char *const methods[] = {"POST", "GET", "PUT", "DELETE"};
    char *f[3], *owned;
    char err[GW_ERR_LEN];
    gw_upstream_req r;
    gw_llm llm;
    int status = 0;
    unsigned sel;
    const char *query;

    if (size < 1)
        return 0;
    sel = data[0];
    if (gw_fuzz_fields(data + 1, size - 1, f, 3, &owned) < 0)
        return 0;
    memset(&llm, 0, sizeof(llm));
    llm.name = llm.slug = "fuzz";
    llm.vendor = gw_fuzz_vendors[sel % 6][0];
    llm.api_endpoint = gw_fuzz_vendors[sel % 6][1];
    llm.default_model = (sel & 0x80) ? "default-model" : "";
    llm.key_state = GW_KEY_OK;
    llm.api_key = "sk-fuzz";
    llm.api_key_len = 7;
    query = (sel & 0x40) ? f[1] : NULL;

    gw_upstream_req_init(&r);
    if (gw_vendor_prepare(&llm, (gw_route_kind)((sel / 6) % 3), methods[(sel >> 4) % 4], f[0], query, headers, 4, f[2],
                          strlen(f[2]), &r, &status, err) == 0)
        gw_fuzz_check(&r);
    else if (status < 400 || status > 599)
        abort(); /* a refusal always carries an error status */
    gw_upstream_req_free(&r);

    gw_upstream_req_init(&r);
    status = 0;
    if (gw_vendor_translate_request(&llm, headers, 4, f[2], strlen(f[2]), &r, &status, err) == 0)
        gw_fuzz_check(&r);
    else if (status < 400 || status > 599)
        abort();
    gw_upstream_req_free(&r);
    free(owned);
    return 0;
}
