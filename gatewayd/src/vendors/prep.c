/*
 * src/vendors/prep.c: the vendor-neutral pieces of an upstream request,
 * shared by the dispatchers (vendor.c, translate.c) and the wire files: the
 * URL (endpoint + validated path + the client's query without its ?key=; an
 * endpoint ending with a version segment such as ".../v1" is not given a
 * second one, and for a wire with project_paths (Vertex) a full client path
 * "/v1/projects/…" goes on the endpoint's origin), the header allow-list
 * with the vendor key in its vendor's header, the body rewrites, and the
 * model name rules. Calls no wire file and no dispatcher.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/url.h"
#include "vendors/registry.h"

/* The name of a query parameter, percent-decoded ('+' a space), equals want
 * (a short name: one that does not decode into 64 bytes is another one). */
static int gw_query_name_is(const char *p, size_t n, const char *want)
{
    char name[64];
    size_t len;

    return gw_url_decode(p, n, GW_URL_PLUS_SPACE, name, sizeof(name), &len) == 0 && len == strlen(want) &&
           memcmp(name, want, len) == 0;
}

int gw_prep_query_has(const char *query, const char *name, const char *value)
{
    const char *p = query;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t nl = eq != NULL ? (size_t)(eq - p) : n;
        if (gw_query_name_is(p, nl, name)) {
            if (value == NULL)
                return 1;
            if (eq != NULL && n - nl - 1 == strlen(value) && memcmp(eq + 1, value, n - nl - 1) == 0)
                return 1;
        }
        p = p[n] == '&' ? p + n + 1 : NULL;
    }
    return 0;
}

/* A version-like path segment: v1, v1beta, v1beta1, v2alpha … */
static int gw_version_seg(const char *s, size_t n)
{
    if (n < 2 || s[0] != 'v' || !isdigit((unsigned char)s[1]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

int gw_vendor_endpoint_versioned(const char *endpoint)
{
    size_t elen = strlen(endpoint);
    const char *last;

    while (elen > 0 && endpoint[elen - 1] == '/')
        elen--;
    last = endpoint + elen;
    while (last > endpoint && last[-1] != '/')
        last--;
    return last > endpoint && gw_version_seg(last, (size_t)(endpoint + elen - last));
}

int gw_vendor_build_url(gw_upstream_req *out, const char *endpoint, const char *path, const char *query,
                        int add_alt_sse, int project_paths)
{
    size_t elen = strlen(endpoint);
    int nq = 0;

    while (elen > 0 && endpoint[elen - 1] == '/')
        elen--;
    if (project_paths && strstr(path, "/projects/") != NULL && gw_vj_find(endpoint, elen, "/projects/") != NULL) {
        /* the client sent a full Vertex path: only the endpoint's origin */
        const char *scheme = gw_vj_find(endpoint, elen, "://");
        const char *slash = scheme != NULL ? memchr(scheme + 3, '/', elen - (size_t)(scheme + 3 - endpoint)) : NULL;
        if (slash != NULL)
            elen = (size_t)(slash - endpoint);
    } else {
        /* endpoint ".../v1" + path "/v1/..." → one "/v1" */
        const char *last = endpoint + elen;
        while (last > endpoint && last[-1] != '/')
            last--;
        size_t ln = (size_t)(endpoint + elen - last), pn = strcspn(path + 1, "/");
        if (gw_version_seg(last, ln) && ln == pn && memcmp(last, path + 1, ln) == 0 && last > endpoint)
            elen = (size_t)(last - endpoint - 1);
    }
    gw_buf_reset(&out->url);
    gw_buf_append(&out->url, endpoint, elen);
    gw_buf_puts(&out->url, path);
    for (const char *p = query; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t nl = eq != NULL ? (size_t)(eq - p) : n;
        if (n > 0 && !gw_query_name_is(p, nl, "key")) {
            gw_buf_append(&out->url, nq++ == 0 ? "?" : "&", 1);
            gw_buf_append(&out->url, p, n);
        }
        p = p[n] == '&' ? p + n + 1 : NULL;
    }
    if (add_alt_sse && !gw_prep_query_has(query, "alt", "sse"))
        gw_buf_puts(&out->url, nq++ == 0 ? "?alt=sse" : "&alt=sse");
    return gw_buf_cstr(&out->url) != NULL ? 0 : -1;
}

/* ================= headers ================= */

/* Client headers forwarded upstream (case-insensitive). Everything else is
 * dropped: auth (authorization, x-api-key, x-goog-api-key, api-key),
 * cookies, host, content-length, transfer-encoding, hop-by-hop headers,
 * accept-encoding (we ask for identity to read usage), forwarding headers
 * and x-request-id (the proxy sends its own). */
static const char *const gw_hdr_allow[] = {"content-type",      "accept",         "user-agent",
                                           "anthropic-version", "anthropic-beta", "openai-beta"};
/* Prefixes: the SDKs' telemetry, and the mock upstream's test controls
 * (x-mock-cached-tokens …, bench/mock) which carry no client data. */
static const char *const gw_hdr_allow_prefix[] = {"x-stainless-", "x-mock-"};

static int gw_hdr_allowed(const char *name, int translated)
{
    size_t n = strlen(name);

    if (translated && (strcasecmp(name, "content-type") == 0 || strcasecmp(name, "accept") == 0 ||
                       strncasecmp(name, "anthropic-", 10) == 0 || strcasecmp(name, "openai-beta") == 0))
        return 0;
    for (size_t i = 0; i < sizeof(gw_hdr_allow) / sizeof(gw_hdr_allow[0]); i++)
        if (strcasecmp(name, gw_hdr_allow[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(gw_hdr_allow_prefix) / sizeof(gw_hdr_allow_prefix[0]); i++) {
        size_t pl = strlen(gw_hdr_allow_prefix[i]);
        if (n > pl && strncasecmp(name, gw_hdr_allow_prefix[i], pl) == 0)
            return 1;
    }
    return 0;
}

static int gw_hdr_clean(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 0;
    return 1;
}

static void gw_hdr_add(gw_buf *h, const char *name, const char *value, size_t vlen)
{
    gw_buf_puts(h, name);
    gw_buf_append(h, ": ", 2);
    gw_buf_append(h, value, vlen);
    gw_buf_append(h, "", 1); /* the NUL separating the lines */
}

int gw_vendor_build_headers(gw_upstream_req *out, const gw_llm *llm, const gw_wire_ops *wire,
                            const gw_header *headers, size_t nheaders, int translated, int has_body,
                            char err[GW_ERR_LEN])
{
    gw_buf *h = &out->headers;
    gw_key_header auth = llm->vendor_def != NULL ? llm->vendor_def->key_header : GW_KEY_HEADER_BEARER;
    int have_ctype = 0, have_version = 0;

    gw_buf_reset(h);
    if (llm->key_state == GW_KEY_OK && llm->api_key != NULL && llm->api_key_len > 0) {
        const char *k = llm->api_key;
        size_t kl = llm->api_key_len;
        if (!gw_hdr_clean(k, kl))
            return gw_errf(err, "the vendor key of LLM %s contains characters not allowed in a header",
                           llm->name != NULL ? llm->name : "?");
        switch (auth) {
        case GW_KEY_HEADER_X_API_KEY:
            gw_hdr_add(h, "x-api-key", k, kl);
            break;
        case GW_KEY_HEADER_GOOG_API_KEY:
            gw_hdr_add(h, "x-goog-api-key", k, kl);
            break;
        default: /* a bearer token (Vertex: an OAuth token) */
            gw_buf_puts(h, "Authorization: Bearer ");
            gw_buf_append(h, k, kl);
            gw_buf_append(h, "", 1);
        }
    }
    for (size_t i = 0; i < nheaders; i++) {
        const char *n = headers[i].name, *v = headers[i].value;
        if (n == NULL || v == NULL || !gw_hdr_allowed(n, translated))
            continue;
        if (!gw_hdr_clean(n, strlen(n)) || !gw_hdr_clean(v, strlen(v)) || strchr(n, ':') != NULL)
            continue;
        if (strcasecmp(n, "content-type") == 0) {
            if (out->body_rewritten || have_ctype)
                continue;
            have_ctype = 1;
        }
        if (strcasecmp(n, "anthropic-version") == 0) {
            if (wire->version_header == NULL || strcasecmp(n, wire->version_header) != 0)
                continue;
            have_version = 1;
        }
        gw_hdr_add(h, n, v, strlen(v));
    }
    if (has_body && !have_ctype)
        gw_hdr_add(h, "Content-Type", "application/json", 16);
    if (wire->version_header != NULL && !have_version)
        gw_hdr_add(h, wire->version_header, wire->version_default, strlen(wire->version_default));
    gw_hdr_add(h, "Accept-Encoding", "identity", 8);
    if (h->failed)
        return gw_errf(err, "out of memory building the upstream headers");
    return 0;
}

/* ================= pass-through preparation ================= */

int gw_prep_path_ends(const char *path, const char *suffix)
{
    size_t pl = strlen(path), sl = strlen(suffix);
    return pl >= sl && memcmp(path + pl - sl, suffix, sl) == 0;
}

int gw_prep_force_stream(const gw_prep *pp, gw_upstream_req *out, int *status, char err[GW_ERR_LEN])
{
    static const char *const skip[] = {"stream"};
    if (gw_prep_rewrite(out, pp->body, pp->body_len, skip, 1, "\"stream\":true") != 0) {
        *status = 500;
        return gw_errf(err, "out of memory rewriting the body");
    }
    return 0;
}

int gw_prep_stream(const gw_prep *pp, int stream, gw_proc_mode mode, int *status, char err[GW_ERR_LEN])
{
    if (!stream && pp->kind == GW_ROUTE_STREAM) {
        if (gw_prep_force_stream(pp, pp->out, status, err) != 0)
            return -1;
        stream = 1;
    }
    if (stream) {
        pp->out->stream = 1;
        pp->out->proc_mode = mode;
    }
    return 0;
}

int gw_prep_rewrite(gw_upstream_req *out, const char *body, size_t len, const char *const *skip, size_t nskip,
                    const char *extra)
{
    gw_json_value root;
    int count = 0;

    if (gw_vj_parse(body, len, &root, NULL) != 0 || root.type != GW_JSON_OBJECT)
        return -1;
    gw_buf_reset(&out->body);
    gw_buf_append(&out->body, "{", 1);
    gw_vj_copy_members(&root, skip, nskip, &out->body, &count);
    if (extra != NULL && *extra != '\0') {
        if (count > 0)
            gw_buf_append(&out->body, ",", 1);
        gw_buf_puts(&out->body, extra);
    }
    gw_buf_append(&out->body, "}", 1);
    out->body_rewritten = 1;
    return out->body.failed ? -1 : 0;
}

/* ================= the model name ================= */

int gw_vendor_model_check(const char *model, size_t len, char err[GW_ERR_LEN])
{
    if (len > GW_MODEL_LEN_MAX)
        return gw_errf(err, "the model name is longer than %d bytes", GW_MODEL_LEN_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)model[i];
        if (c < 0x20 || c == 0x7f)
            return gw_errf(err, "the model name contains control characters");
    }
    return 0;
}

int gw_vendor_model_from_json(const gw_json_value *v, char out[GW_MODEL_MAX], char err[GW_ERR_LEN])
{
    size_t n = 0;

    out[0] = '\0';
    if (v == NULL || v->type == GW_JSON_ABSENT)
        return 0;
    if (v->type != GW_JSON_STRING)
        return gw_errf(err, "\"model\" must be a string");
    switch (gw_json_get_string(v, out, GW_MODEL_MAX, &n)) {
    case 0:
        break;
    case GW_JSON_STR_NUL:
        out[0] = '\0';
        return gw_errf(err, "the model name contains control characters");
    case GW_JSON_STR_TOO_LONG:
        out[0] = '\0';
        return gw_errf(err, "the model name is longer than %d bytes", GW_MODEL_LEN_MAX);
    default:
        out[0] = '\0';
        return gw_errf(err, "\"model\" is not a valid string");
    }
    if (gw_vendor_model_check(out, n, err) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int gw_prep_scan(const gw_prep *pp, gw_json_field *f, size_t nf, int *stream, int *status, char err[GW_ERR_LEN])
{
    char perr[GW_ERR_LEN];

    if (gw_json_scan_object(pp->body, pp->body_len, GW_JSON_DEFAULT_MAX_DEPTH, f, nf, perr) != 0) {
        *status = 400;
        return gw_errf(err, "the request body is not valid JSON: %s", perr);
    }
    if (stream == NULL)
        return 0;
    if (gw_prep_model(pp->out, &f[0].value, status, err) != 0)
        return -1;
    if (f[1].value.type != GW_JSON_ABSENT && gw_json_get_bool(&f[1].value, stream) != 0) {
        *status = 400;
        return gw_errf(err, "\"stream\" must be a boolean");
    }
    return 0;
}

int gw_prep_model(gw_upstream_req *out, const gw_json_value *model, int *status, char err[GW_ERR_LEN])
{
    if (gw_vendor_model_from_json(model, out->model, err) != 0) {
        *status = 400;
        return -1;
    }
    return 0;
}
