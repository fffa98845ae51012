/*
 * regress/unit/test_chat_body.c: which LLM a chat request names
 * (src/gateway/chat_body.c): "llm" and "llm_id" read and blanked out of the
 * body in every position (first, middle, last, only, both, escaped keys,
 * with blanks around), the rest of the body byte for byte unchanged and
 * still one valid JSON object without them; the refusals (not JSON, not an
 * object, wrong types, empty, repeated, missing); and the slug of a name
 * as aistudio.llm_slug computes it.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"
#include "gateway/chat_body.c"

#include "tap.h"

/* The body after taking the target, blanks squeezed out of the result
 * outside strings (for comparing with the expected remainder). */
static void squeeze(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    int in_str = 0, esc = 0;
    for (const char *p = in; *p != '\0' && o + 1 < cap; p++) {
        if (in_str) {
            out[o++] = *p;
            if (esc)
                esc = 0;
            else if (*p == '\\')
                esc = 1;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
            out[o++] = *p;
        } else if (!gw_cb_space(*p)) {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* A one-line label for TAP (line breaks shown as \n). */
static const char *label(const char *body)
{
    static char out[1024];
    size_t o = 0;
    for (const char *p = body; *p != '\0' && o + 3 < sizeof(out); p++) {
        if (*p == '\n' || *p == '\r') {
            out[o++] = '\\';
            out[o++] = *p == '\n' ? 'n' : 'r';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

/* Takes the target from body; checks llm / llm_id and the remainder. */
static void take_ok(const char *in, const char *llm, long long llm_id, const char *rest)
{
    char buf[1024], sq[1024], err[GW_ERR_LEN], body[1024];
    size_t len = strlen(in);
    gw_chat_target t;
    const char *code = "unset";
    int rc;

    snprintf(body, sizeof(body), "%s", label(in));
    memcpy(buf, in, len + 1);
    rc = gw_chat_take_target(buf, len, &t, &code, err);
    if (!ok(rc == 0, "%s: accepted", body)) {
        diag("%s: %s", code ? code : "-", err);
        return;
    }
    is_str(t.llm, llm, "%s: llm", body);
    is_int(t.llm_id, llm_id, "%s: llm_id", body);
    ok(strlen(buf) == len, "%s: same length", body);
    ok(gw_json_validate(buf, len, 64, err) == 0, "%s: still valid JSON", body);
    squeeze(buf, sq, sizeof(sq));
    is_str(sq, rest, "%s: the rest unchanged", body);
}

static void take_fails(const char *body, const char *want_code, const char *msg_part)
{
    char buf[1024], err[GW_ERR_LEN];
    size_t len = body != NULL ? strlen(body) : 0;
    gw_chat_target t;
    const char *code = NULL;
    int rc;

    if (body != NULL)
        memcpy(buf, body, len + 1);
    err[0] = '\0';
    rc = gw_chat_take_target(body != NULL ? buf : NULL, len, &t, &code, err);
    is_int(rc, -1, "%s: refused", body ? body : "(no body)");
    is_str(code, want_code, "%s: code", body ? body : "(no body)");
    has_str(err, msg_part, "%s: message", body ? body : "(no body)");
    if (body != NULL)
        ok(memcmp(buf, body, len) == 0, "%s: body untouched", body);
}

static void slug_is(const char *name, const char *want)
{
    char out[64];
    gw_chat_slugify(name, out, sizeof(out));
    is_str(out, want, "slug of '%s'", name);
}

int main(void)
{
    const char *msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi, \\\"llm\\\": x\"}]";
    char body[512], rest[512];

    /* positions */
    snprintf(body, sizeof(body), "{\"llm\":\"gpt-mock\",%s}", msgs);
    snprintf(rest, sizeof(rest), "{%s}", msgs);
    take_ok(body, "gpt-mock", 0, rest);
    snprintf(body, sizeof(body), "{%s,\"llm\":\"gpt-mock\"}", msgs);
    take_ok(body, "gpt-mock", 0, rest);
    snprintf(body, sizeof(body), "{\"model\":\"m\",\"llm\":\"gpt-mock\",%s}", msgs);
    snprintf(rest, sizeof(rest), "{\"model\":\"m\",%s}", msgs);
    take_ok(body, "gpt-mock", 0, rest);
    take_ok("{\"llm\":\"a\"}", "a", 0, "{}");
    take_ok("  { \"llm\" : \"a\" }  ", "a", 0, "{}");
    take_ok("{\n  \"stream\": true,\n  \"llm\" :\t\"a\" ,\n  \"n\": 1\n}", "a", 0, "{\"stream\":true,\"n\":1}");

    /* llm_id: integer or digits */
    snprintf(body, sizeof(body), "{\"llm_id\":42,%s}", msgs);
    snprintf(rest, sizeof(rest), "{%s}", msgs);
    take_ok(body, "", 42, rest);
    snprintf(body, sizeof(body), "{%s,\"llm_id\":\"7\"}", msgs);
    take_ok(body, "", 7, rest);

    /* both, in every order and position */
    take_ok("{\"llm\":\"a\",\"llm_id\":3}", "a", 3, "{}");
    take_ok("{\"llm_id\":3,\"llm\":\"a\"}", "a", 3, "{}");
    take_ok("{\"x\":1,\"llm\":\"a\",\"llm_id\":3}", "a", 3, "{\"x\":1}");
    take_ok("{\"x\":1,\"llm_id\":3,\"llm\":\"a\"}", "a", 3, "{\"x\":1}");
    take_ok("{\"llm\":\"a\",\"x\":1,\"llm_id\":3}", "a", 3, "{\"x\":1}");
    take_ok("{\"llm_id\":3,\"x\":[1,{\"llm\":2}],\"llm\":\"a\",\"y\":null}", "a", 3,
            "{\"x\":[1,{\"llm\":2}],\"y\":null}");

    /* escaped keys and values */
    take_ok("{\"ll\\u006d\":\"a\\u0062\",\"k\\\"\":1}", "ab", 0, "{\"k\\\"\":1}");
    take_ok("{\"a\\\\\":1,\"llm\":\"x\"}", "x", 0, "{\"a\\\\\":1}");
    take_ok("{\"llm\":\"My GPT (EU)\"}", "My GPT (EU)", 0, "{}");

    /* refusals */
    take_fails(NULL, "invalid_request", "empty");
    take_fails("", "invalid_request", "empty");
    take_fails("{\"llm\":\"a\"", "invalid_request", "not a valid JSON object");
    take_fails("[{\"llm\":\"a\"}]", "invalid_request", "not a valid JSON object");
    take_fails("{\"llm\":\"a\",\"llm\":\"b\"}", "invalid_request", "not a valid JSON object");
    take_fails("{\"llm\":1}", "invalid_request", "\"llm\" must be a string");
    take_fails("{\"llm\":null}", "invalid_request", "\"llm\" must be a string");
    take_fails("{\"llm\":\"\"}", "invalid_request", "must not be empty");
    take_fails("{\"llm_id\":0}", "invalid_request", "positive integer");
    take_fails("{\"llm_id\":-4}", "invalid_request", "positive integer");
    take_fails("{\"llm_id\":1.5}", "invalid_request", "positive integer");
    take_fails("{\"llm_id\":\"12a\"}", "invalid_request", "positive integer");
    take_fails("{\"llm_id\":true}", "invalid_request", "positive integer");
    take_fails("{\"messages\":[]}", "llm_required", "names no LLM");
    take_fails("{\"model\":\"llm\",\"x\":{\"llm\":\"a\"}}", "llm_required", "names no LLM");
    {
        char big[600];
        memcpy(big, "{\"llm\":\"", 8);
        memset(big + 8, 'a', 300);
        memcpy(big + 308, "\"}", 3);
        take_fails(big, "invalid_request", "at most 255 bytes");
    }

    /* slugs */
    slug_is("GPT Mock", "gpt-mock");
    slug_is("My GPT (EU)", "my-gpt-eu-");
    slug_is("  a__b--C9", "-a-b-c9");
    slug_is("Caf\xc3\xa9 Bot", "caf-bot");
    slug_is("already-a-slug", "already-a-slug");
    {
        char out[4];
        gw_chat_slugify("ABCDEFG", out, sizeof(out));
        is_str(out, "abc", "slug truncated to the buffer");
    }
    return tap_done();
}
