/*
 * src/gateway/chat_body.c: which LLM a chat request names, and blanking that
 * member out of the body (see chat_body.h).
 *
 * gw_json_scan_object validates the whole body and returns the value spans
 * of "llm" and "llm_id" (escaped keys decoded, a repeated member refused);
 * the member's key is found by walking back from its value over ':' and
 * blanks to the key's closing quote, then to its opening quote (a quote
 * preceded by an even number of backslashes). The member and one comma next
 * to it become blanks, which keeps the object valid whichever position the
 * member had.
 */
#include "gateway/chat_body.h"

#include <string.h>

#include "base/json.h"

static int gw_cb_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Blanks the member whose value spans [v, v + vlen) of body. */
static void gw_cb_blank(char *body, size_t len, const char *v, size_t vlen)
{
    size_t vs = (size_t)(v - body), ve = vs + vlen, ks, i, start, end;

    /* back over blanks, ':' and blanks to the key's closing quote */
    i = vs;
    while (i > 0 && gw_cb_space(body[i - 1]))
        i--;
    if (i == 0 || body[i - 1] != ':')
        return; /* never for a validated object */
    i--;
    while (i > 0 && gw_cb_space(body[i - 1]))
        i--;
    if (i == 0 || body[i - 1] != '"')
        return;
    i--; /* body[i] is the closing quote */
    /* the opening quote: not escaped (an even number of backslashes before it) */
    for (ks = i; ks > 0;) {
        size_t bs = 0;
        ks--;
        if (body[ks] != '"')
            continue;
        while (bs < ks && body[ks - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
    }
    start = ks;
    end = ve;
    /* a comma after the member goes with it; else the one before it */
    i = ve;
    while (i < len && gw_cb_space(body[i]))
        i++;
    if (i < len && body[i] == ',') {
        end = i + 1;
    } else {
        i = start;
        while (i > 0 && gw_cb_space(body[i - 1]))
            i--;
        if (i > 0 && body[i - 1] == ',')
            start = i - 1;
    }
    memset(body + start, ' ', end - start);
}

/* A positive integer from a JSON integer or a string of digits; -1 otherwise. */
static int gw_cb_id(const gw_json_value *v, int64_t *out)
{
    char tmp[24];
    size_t n;
    int64_t id = 0;

    if (v->type == GW_JSON_NUMBER)
        return gw_json_get_int64(v, out) == 0 && *out > 0 ? 0 : -1;
    if (v->type != GW_JSON_STRING || gw_json_get_string(v, tmp, sizeof(tmp), &n) != 0 || n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (tmp[i] < '0' || tmp[i] > '9')
            return -1;
        id = id * 10 + (tmp[i] - '0');
    }
    if (id <= 0)
        return -1;
    *out = id;
    return 0;
}

int gw_chat_take_target(char *body, size_t len, gw_chat_target *out, const char **code, char err[GW_ERR_LEN])
{
    gw_json_field f[2] = {{"llm", {0}}, {"llm_id", {0}}};
    char perr[GW_ERR_LEN];
    size_t n;

    memset(out, 0, sizeof(*out));
    *code = "invalid_request";
    if (body == NULL || len == 0)
        return gw_errf(err, "the request body is empty: send an OpenAI chat-completions request with \"llm\"");
    if (gw_json_scan_object(body, len, GW_JSON_DEFAULT_MAX_DEPTH, f, 2, perr) != 0)
        return gw_errf(err, "the request body is not a valid JSON object: %s", perr);
    if (f[0].value.type != GW_JSON_ABSENT) {
        if (f[0].value.type != GW_JSON_STRING)
            return gw_errf(err, "\"llm\" must be a string (the LLM's slug or name)");
        if (gw_json_get_string(&f[0].value, out->llm, sizeof(out->llm), &n) != 0)
            return gw_errf(err, "\"llm\" must be a string of at most %d bytes", GW_CHAT_LLM_MAX - 1);
        if (n == 0)
            return gw_errf(err, "\"llm\" must not be empty");
    }
    if (f[1].value.type != GW_JSON_ABSENT && gw_cb_id(&f[1].value, &out->llm_id) != 0)
        return gw_errf(err, "\"llm_id\" must be a positive integer");
    if (out->llm[0] == '\0' && out->llm_id == 0) {
        *code = "llm_required";
        return gw_errf(err, "the request names no LLM: add \"llm\" (the LLM's slug) or \"llm_id\"");
    }
    /* blanking moves nothing and takes only its own comma, so the other
     * member's span stays valid and the object stays well-formed */
    for (int i = 0; i < 2; i++)
        if (f[i].value.type != GW_JSON_ABSENT)
            gw_cb_blank(body, len, f[i].value.ptr, f[i].value.len);
    *code = NULL;
    return 0;
}

void gw_chat_slugify(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    int in_run = 0;

    if (cap == 0)
        return;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && o + 1 < cap; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[o++] = (char)c;
            in_run = 0;
        } else if (!in_run) {
            out[o++] = '-';
            in_run = 1;
        }
    }
    out[o] = '\0';
}
