/*
 * src/vendors/vendor.c: pass-through requests (gw_vendor_prepare): the
 * checks every vendor shares (vendor known, endpoint set, method, a path
 * after the slug without "." / ".." segments), whether the body is read as
 * JSON, then the vendor's wire row (registry.h) says what the request asks
 * for, and prep.c builds the URL and headers; gw_upstream_req's life cycle.
 */
#include "vendors/vendor.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/vjson.h"
#include "vendors/registry.h"

void gw_upstream_req_init(gw_upstream_req *r)
{
    memset(r, 0, sizeof(*r));
    gw_buf_init(&r->url, 0);
    gw_buf_init(&r->headers, 0);
    gw_buf_init(&r->body, 0);
    r->max_tokens = -1;
    r->proc_mode = GW_PROC_JSON;
}

void gw_upstream_req_free(gw_upstream_req *r)
{
    gw_buf_free(&r->url);
    gw_buf_free(&r->headers);
    gw_buf_free(&r->body);
}

/* A path we append to the endpoint: starts with '/', no "." / ".." segment
 * (also percent-encoded), no backslash, control character, space or '#'. */
static int gw_vendor_path_ok(const char *path, char err[GW_ERR_LEN])
{
    const char *seg;

    if (path[0] != '/')
        return gw_errf(err, "the upstream path must start with '/'");
    for (const char *s = path; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f || c == '\\' || c == '#' || c == '?')
            return gw_errf(err, "the upstream path contains a character that is not allowed");
    }
    seg = path;
    while (seg != NULL) {
        const char *next = strchr(seg + 1, '/');
        size_t n = next != NULL ? (size_t)(next - seg - 1) : strlen(seg + 1);
        size_t dots = 0, i = 0;
        const char *s = seg + 1;
        while (i < n) {
            if (s[i] == '.') {
                dots++;
                i++;
            } else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E')) {
                dots++;
                i += 3;
            } else {
                dots = 0;
                break;
            }
        }
        if (n > 0 && dots > 0 && i == n && dots <= 2)
            return gw_errf(err, "the upstream path must not contain '.' or '..' segments");
        seg = next;
    }
    return 0;
}

static const gw_header *gw_hdr_find(const gw_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name != NULL && h[i].value != NULL && strcasecmp(h[i].name, name) == 0)
            return &h[i];
    return NULL;
}

/* The wire row that reads requests to path (a compat prefix, e.g.
 * Ollama's OpenAI-compatible /v1 routes, is the compat wire's). */
static const gw_wire_ops *gw_vendor_path_wire(const gw_vendor *v, const char *path)
{
    const gw_wire_ops *wire = gw_wire_of(v);
    if (wire->compat_prefix != NULL && strncmp(path, wire->compat_prefix, strlen(wire->compat_prefix)) == 0)
        wire = gw_wire_get(wire->compat);
    return wire;
}

gw_dialect gw_vendor_dialect(const gw_vendor *v, gw_route_kind kind, const char *path)
{
    if (kind == GW_ROUTE_AI)
        return GW_DIALECT_OPENAI_CHAT;
    if (gw_wire_of(v) == NULL || path == NULL)
        return GW_DIALECT_NONE;
    return gw_vendor_path_wire(v, path)->dialect(path);
}

const char *gw_dialect_name(gw_dialect d)
{
    static const char *const names[GW_DIALECT_COUNT] = {
        "none",      "openai_chat", "openai_completions", "openai_responses", "tgi",
        "anthropic", "google",      "ollama_chat",        "ollama_generate"};
    return d >= 0 && d < GW_DIALECT_COUNT ? names[d] : "?";
}

int gw_vendor_prepare(const gw_llm *llm, gw_route_kind kind, const char *method, const char *path, const char *query,
                      const gw_header *headers, size_t nheaders, const char *body, size_t body_len,
                      gw_upstream_req *out, int *status, char err[GW_ERR_LEN])
{
    gw_prep pp;
    const gw_header *ct = gw_hdr_find(headers, nheaders, "content-type");
    const gw_wire_ops *wire;
    int rc, project_paths;
    size_t ml = method != NULL ? strlen(method) : 0;

    *status = 400;
    memset(&pp, 0, sizeof(pp));
    out->vendor = llm->vendor_def;
    if (gw_wire_of(out->vendor) == NULL) {
        *status = 502;
        return gw_errf(err, "the LLM has an unknown vendor");
    }
    if (llm->api_endpoint == NULL || llm->api_endpoint[0] == '\0') {
        *status = 502;
        return gw_errf(err, "the LLM has no api_endpoint");
    }
    if (ml == 0 || ml >= sizeof(out->method))
        return gw_errf(err, "unsupported method");
    for (size_t i = 0; i < ml; i++)
        if (!isupper((unsigned char)method[i]))
            return gw_errf(err, "unsupported method");
    memcpy(out->method, method, ml + 1);
    if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0) {
        *status = 404;
        return gw_errf(err, "no vendor path after the LLM slug");
    }
    if (gw_vendor_path_ok(path, err) != 0)
        return -1;
    pp.llm = llm;
    pp.vendor = out->vendor;
    pp.kind = kind;
    pp.method = out->method;
    pp.path = path;
    pp.query = query;
    pp.body = body;
    pp.body_len = body != NULL ? body_len : 0;
    /* Read the body as JSON when it says so, when nothing says otherwise,
     * or when it looks like JSON whatever its content-type claims (so a
     * form content-type cannot hide "model" or "stream" from the checks).
     * Other bodies (multipart uploads …) are passed through unread. */
    if (pp.body_len > 0) {
        size_t i = 0;
        while (i < pp.body_len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
            i++;
        pp.json = ct == NULL || strcasestr(ct->value, "json") != NULL ||
                  (i < pp.body_len && (body[i] == '{' || body[i] == '['));
    }
    pp.out = out;
    gw_buf_init(&pp.new_path, 0);
    out->prompt_bytes = pp.body_len;
    project_paths = gw_wire_of(out->vendor)->project_paths;
    wire = gw_vendor_path_wire(out->vendor, path);
    out->dialect = wire->dialect(path);
    rc = wire->prepare(&pp, status, err);
    if (rc == 0 && gw_vendor_build_url(out, llm->api_endpoint, pp.new_path.len > 0 ? pp.new_path.data : path, query,
                                       pp.add_alt_sse, project_paths) != 0)
        rc = gw_errf(err, "out of memory building the upstream URL");
    gw_buf_free(&pp.new_path);
    if (rc == 0 && gw_vendor_build_headers(out, llm, wire, headers, nheaders, 0, pp.body_len > 0, err) != 0) {
        *status = 502;
        rc = -1;
    }
    if (rc == 0 && out->body.failed)
        rc = gw_errf(err, "out of memory rewriting the body");
    if (rc != 0 && *status == 0)
        *status = 400;
    return rc;
}

/* ---- the model list ---- */

int gw_vendor_has_models(const gw_vendor *v)
{
    const gw_wire_ops *w = gw_wire_of(v);
    return w != NULL && w->models_path != NULL;
}

int gw_vendor_models_request(const gw_llm *llm, gw_upstream_req *out, int *status, char err[GW_ERR_LEN])
{
    const gw_wire_ops *w = gw_wire_of(llm->vendor_def);
    if (w == NULL || w->models_path == NULL) {
        *status = 501;
        return gw_errf(err, "the vendor %s has no model list", llm->vendor != NULL ? llm->vendor : "?");
    }
    return gw_vendor_prepare(llm, GW_ROUTE_REST, "GET", w->models_path, NULL, NULL, 0, NULL, 0, out, status, err);
}

int gw_vendor_models_parse(const gw_vendor *v, const char *body, size_t len, gw_jw *w, size_t max, size_t *count,
                           char err[GW_ERR_LEN])
{
    const gw_wire_ops *wire = gw_wire_of(v);
    gw_json_value root, list, el, name;
    gw_vj_iter it;
    size_t plen;

    *count = 0;
    if (wire == NULL || wire->models_path == NULL)
        return gw_errf(err, "the vendor has no model list");
    if (gw_vj_parse(body, len, &root, err) != 0)
        return gw_errf(err, "the model list is not JSON");
    if (root.type != GW_JSON_OBJECT || !gw_vj_get(&root, wire->models_array, &list) || list.type != GW_JSON_ARRAY)
        return gw_errf(err, "the answer has no \"%s\" list", wire->models_array);
    plen = wire->models_prefix != NULL ? strlen(wire->models_prefix) : 0;
    gw_jw_array_begin(w);
    gw_vj_iter_init(&it, &list);
    while (*count < max && gw_vj_next_elem(&it, &el)) {
        char model[GW_MODEL_MAX];
        size_t n;
        const char *m = model;
        if (el.type != GW_JSON_OBJECT || !gw_vj_get(&el, wire->models_field, &name) ||
            gw_json_get_string(&name, model, sizeof(model), &n) != 0 || gw_vendor_model_check(model, n, err) != 0)
            continue; /* not a model we could name: skipped */
        if (plen > 0 && n > plen && strncmp(model, wire->models_prefix, plen) == 0)
            m += plen;
        gw_jw_string(w, m);
        (*count)++;
    }
    gw_jw_array_end(w);
    return 0;
}
