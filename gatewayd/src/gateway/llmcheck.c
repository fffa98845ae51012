/*
 * src/gateway/llmcheck.c: "Test connection" and "fetch models" of an LLM
 * (see llmcheck.h). Each request: the REST API's authentication and
 * aistudio.check_llm_test in its transaction, which is committed before
 * the upstream call (no database connection is held while the upstream
 * answers); then one call through gw_upstream_perform on this worker
 * thread, the answer read (at most GW_LLMCHECK_MAX_BODY bytes, the vendor
 * key already removed from it) and summarised. No state of its own.
 */
#include "gateway/llmcheck.h"

#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "base/json.h"
#include "base/vjson.h"
#include "db/sql.h"
#include "gateway/upstream.h"
#include "model/keyhosts.h"
#include "vendors/vendor.h"

/* What one check did. */
typedef struct gw_llmcheck_call {
    gw_buf body;   /* the answer (redacted), at most GW_LLMCHECK_MAX_BODY */
    int truncated; /* more than that arrived */
    gw_upstream_call call;
    gw_upstream_result res;
    char method[8];
    char path[256]; /* what was called on the endpoint (no query, no key) */
} gw_llmcheck_call;

static int gw_llmcheck_on_head(void *ctx, long status, const char *content_type)
{
    (void)ctx;
    (void)status;
    (void)content_type;
    return 0;
}

static int gw_llmcheck_on_body(void *ctx, const char *data, size_t len)
{
    gw_llmcheck_call *c = ctx;
    size_t room = GW_LLMCHECK_MAX_BODY - c->body.len;
    if (len > room) {
        c->truncated = 1;
        len = room;
    }
    if (len > 0)
        gw_buf_append(&c->body, data, len);
    return 0;
}

/* The path (without query) of an absolute URL, for the answer. */
static void gw_llmcheck_path_of(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    const char *q;
    size_t n;
    p = p != NULL ? strchr(p + 3, '/') : NULL;
    if (p == NULL)
        p = "/";
    q = strchr(p, '?');
    n = q != NULL ? (size_t)(q - p) : strlen(p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Runs the prepared request (its URL checked against the key's hosts). */
static int gw_llmcheck_run(gw_server *srv, const gw_llm *llm, gw_upstream_req *ureq, gw_llmcheck_call *c,
                           char err[GW_ERR_LEN])
{
    gw_redact redact;
    gw_upstream_cb cb = {c, gw_llmcheck_on_head, gw_llmcheck_on_body, NULL};
    int deadline = srv->cfg.upstream_timeout_ms;

    if (gw_keyhosts_check(llm, gw_buf_cstr(&ureq->url), err) != 0)
        return -1;
    if (deadline <= 0 || deadline > GW_LLMCHECK_DEADLINE_MS)
        deadline = GW_LLMCHECK_DEADLINE_MS;
    gw_redact_init(&redact);
    if (llm->key_state == GW_KEY_OK && gw_redact_add(&redact, llm->api_key, llm->api_key_len) != 0) {
        gw_redact_free(&redact);
        return gw_errf(err, "out of memory");
    }
    snprintf(c->method, sizeof(c->method), "%s", ureq->method);
    gw_llmcheck_path_of(gw_buf_cstr(&ureq->url), c->path, sizeof(c->path));
    c->call.method = ureq->method;
    c->call.url = gw_buf_cstr(&ureq->url);
    c->call.headers = ureq->headers.data;
    c->call.headers_len = ureq->headers.len;
    if (ureq->body_rewritten) {
        c->call.body = ureq->body.data;
        c->call.body_len = ureq->body.len;
    }
    c->call.connect_timeout_ms = srv->cfg.upstream_connect_timeout_ms;
    c->call.total_timeout_ms = deadline;
    c->call.redact = &redact;
    c->res = gw_upstream_perform(&c->call, &cb);
    c->call.redact = NULL;
    gw_redact_free(&redact);
    return 0;
}

/* A short, printable error text from an upstream's error body: its
 * error.message, error (a string) or message, else its first bytes. */
static void gw_llmcheck_error_text(const gw_buf *body, char *out, size_t cap)
{
    gw_json_value root, e, m;
    char err[GW_ERR_LEN];
    size_t n = 0, i;

    out[0] = '\0';
    if (body->len > 0 && gw_vj_parse(body->data, body->len, &root, err) == 0 && root.type == GW_JSON_OBJECT) {
        if (gw_vj_get(&root, "error", &e)) {
            if (e.type == GW_JSON_STRING && gw_json_get_string(&e, out, cap, &n) == 0)
                goto clean;
            if (e.type == GW_JSON_OBJECT && gw_vj_get(&e, "message", &m) && gw_json_get_string(&m, out, cap, &n) == 0)
                goto clean;
        }
        if (gw_vj_get(&root, "message", &m) && gw_json_get_string(&m, out, cap, &n) == 0)
            goto clean;
    }
    n = body->len < 200 ? body->len : 200;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(out, body->data, n);
    out[n] = '\0';
clean:
    for (i = 0; out[i] != '\0'; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = ' ';
}

/* The code and message of a call that got no usable answer. */
static const char *gw_llmcheck_failure(const gw_llmcheck_call *c, char *msg, size_t cap)
{
    switch (c->res) {
    case GW_UP_OK:
        gw_llmcheck_error_text(&c->body, msg, cap);
        if (msg[0] == '\0')
            snprintf(msg, cap, "HTTP %ld", c->call.status);
        return c->call.status == 401 || c->call.status == 403 ? "upstream_unauthorized" : "upstream_error";
    case GW_UP_CONNECT_FAILED:
        snprintf(msg, cap, "could not connect to the LLM's endpoint: %s", c->call.err);
        return "upstream_unreachable";
    case GW_UP_TIMEOUT:
    case GW_UP_STALL:
        snprintf(msg, cap, "the LLM's endpoint did not answer within the deadline");
        return "upstream_timeout";
    default:
        snprintf(msg, cap, "the call failed (%s): %s", gw_upstream_result_name(c->res), c->call.err);
        return "upstream_error";
    }
}

/* Authentication, the permission check and the LLM from the snapshot. 0 and
 * *snap held (release it); -1 when the response was sent. */
static int gw_llmcheck_begin(gw_admin_req *r, gw_snapshot **snap, const gw_llm **llm)
{
    gw_server *srv = r->adm->srv;
    const char *id = r->nsegs > 1 ? r->segs[1] : "";
    PGresult *res;
    char *end;
    long long v;

    *snap = NULL;
    v = strtoll(id, &end, 10);
    if (*id == '\0' || *end != '\0' || v <= 0)
        return gw_admin_send_error(r, 400, "the LLM id must be a positive integer", "invalid_request"), -1;
    if (gw_admin_tx_begin(r) != 0 || gw_admin_authenticate(r) != 0)
        return -1;
    if (gw_admin_tx_exec_params(r, GW_SQL_CHECK_LLM_TEST, 1, &id, &res) != 0)
        return gw_admin_send_dberr(r), -1;
    PQclear(res);
    if (gw_admin_tx_commit(r) != 0)
        return gw_admin_send_dberr(r), -1;
    gw_admin_tx_end(r); /* no database connection held during the upstream call */
    *snap = gw_snapshot_current(&srv->snapshots);
    *llm = *snap != NULL ? gw_snapshot_llm_by_id(*snap, (int64_t)v) : NULL;
    if (*snap == NULL)
        return gw_admin_send_error(r, 503, "the gateway has not loaded its configuration yet", "config_not_loaded"), -1;
    if (*llm == NULL) {
        gw_snapshot_release(*snap);
        *snap = NULL;
        return gw_admin_send_error(r, 409, "this gateway does not serve the LLM (it is in another namespace, or the "
                                           "configuration is still loading): test it on a gateway that serves it",
                                   "llm_not_served"),
               -1;
    }
    if ((*llm)->key_state == GW_KEY_UNAVAILABLE) {
        char msg[GW_ERR_LEN + 64];
        snprintf(msg, sizeof(msg), "the LLM's vendor key cannot be opened: %s", (*llm)->key_error);
        gw_snapshot_release(*snap);
        *snap = NULL;
        return gw_admin_send_error(r, 503, msg, "vendor_key_unavailable"), -1;
    }
    return 0;
}

/* The test request: the model list, else a chat of one output token. */
static int gw_llmcheck_prepare_test(const gw_llm *llm, gw_upstream_req *ureq, int *status, char err[GW_ERR_LEN])
{
    static const char ping[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}],\"max_tokens\":1}";
    if (gw_vendor_has_models(llm->vendor_def))
        return gw_vendor_models_request(llm, ureq, status, err);
    if (llm->default_model == NULL || llm->default_model[0] == '\0') {
        *status = 409;
        return gw_errf(err, "the vendor has no model list: give the LLM a default model to test it with");
    }
    return gw_vendor_translate_request(llm, NULL, 0, ping, sizeof(ping) - 1, ureq, status, err);
}

static int gw_llmcheck_test(gw_admin_req *r)
{
    gw_snapshot *snap;
    const gw_llm *llm;
    gw_upstream_req ureq;
    gw_llmcheck_call c;
    char err[GW_ERR_LEN], msg[512], mem[2048];
    const char *code = NULL;
    int status = 0, ok;
    size_t nmodels = 0;
    int have_models = 0;
    gw_buf out;
    gw_jw w;

    if (gw_llmcheck_begin(r, &snap, &llm) != 0)
        return r->status;
    gw_upstream_req_init(&ureq);
    memset(&c, 0, sizeof(c));
    gw_buf_init(&c.body, 0);
    if (gw_llmcheck_prepare_test(llm, &ureq, &status, err) != 0) {
        gw_upstream_req_free(&ureq);
        gw_buf_free(&c.body);
        gw_snapshot_release(snap);
        return gw_admin_send_error(r, status >= 500 && status != 501 ? 502 : status == 501 ? 409 : status, err,
                                   "llm_not_testable");
    }
    if (gw_llmcheck_run(r->adm->srv, llm, &ureq, &c, err) != 0) {
        gw_upstream_req_free(&ureq);
        gw_buf_free(&c.body);
        gw_snapshot_release(snap);
        return gw_admin_send_error(r, 502, err, "secret_host_not_allowed");
    }
    ok = c.res == GW_UP_OK && c.call.status >= 200 && c.call.status < 300;
    if (!ok)
        code = gw_llmcheck_failure(&c, msg, sizeof(msg));
    else if (gw_vendor_has_models(llm->vendor_def) && !c.truncated) {
        gw_buf names;
        gw_jw nw;
        gw_buf_init(&names, 0);
        gw_jw_init(&nw, &names);
        have_models = gw_vendor_models_parse(llm->vendor_def, c.body.data, c.body.len, &nw, GW_LLMCHECK_MAX_MODELS,
                                             &nmodels, err) == 0;
        gw_buf_free(&names);
    }
    gw_buf_init_fixed(&out, mem, sizeof(mem));
    gw_jw_init(&w, &out);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "ok");
    gw_jw_bool(&w, ok);
    gw_jw_key(&w, "status");
    if (c.call.status > 0)
        gw_jw_int(&w, c.call.status);
    else
        gw_jw_null(&w);
    gw_jw_key(&w, "latency_ms");
    gw_jw_int(&w, (c.call.ended_us - c.call.started_us) / 1000);
    gw_jw_key(&w, "error");
    if (ok)
        gw_jw_null(&w);
    else
        gw_jw_string(&w, msg);
    gw_jw_key(&w, "code");
    if (code != NULL)
        gw_jw_string(&w, code);
    else
        gw_jw_null(&w);
    gw_jw_key(&w, "method");
    gw_jw_string(&w, c.method);
    gw_jw_key(&w, "path");
    gw_jw_string(&w, c.path);
    gw_jw_key(&w, "models");
    if (have_models)
        gw_jw_int(&w, (int64_t)nmodels);
    else
        gw_jw_null(&w);
    gw_jw_object_end(&w);
    gw_upstream_req_free(&ureq);
    gw_buf_free(&c.body);
    gw_snapshot_release(snap);
    if (gw_jw_finish(&w) != 0 || out.failed)
        return gw_admin_send_error(r, 500, "the answer did not fit", NULL);
    return gw_admin_send_json(r, 200, out.data, out.len);
}

static int gw_llmcheck_models(gw_admin_req *r)
{
    gw_snapshot *snap;
    const gw_llm *llm;
    gw_upstream_req ureq;
    gw_llmcheck_call c;
    char err[GW_ERR_LEN], msg[512];
    int status = 0, rc;
    size_t n = 0;
    gw_buf out;
    gw_jw w;

    if (gw_llmcheck_begin(r, &snap, &llm) != 0)
        return r->status;
    gw_upstream_req_init(&ureq);
    memset(&c, 0, sizeof(c));
    gw_buf_init(&c.body, 0);
    gw_buf_init(&out, 0);
    if (gw_vendor_models_request(llm, &ureq, &status, err) != 0) {
        rc = gw_admin_send_error(r, status == 501 ? 501 : 502, err, status == 501 ? "no_model_list" : "llm_not_testable");
    } else if (gw_llmcheck_run(r->adm->srv, llm, &ureq, &c, err) != 0) {
        rc = gw_admin_send_error(r, 502, err, "secret_host_not_allowed");
    } else if (c.res != GW_UP_OK || c.call.status < 200 || c.call.status >= 300) {
        char full[700];
        const char *code = gw_llmcheck_failure(&c, msg, sizeof(msg));
        if (c.call.status > 0)
            snprintf(full, sizeof(full), "the vendor answered HTTP %ld: %s", c.call.status, msg);
        else
            snprintf(full, sizeof(full), "%s", msg);
        rc = gw_admin_send_error(r, 502, full, code);
    } else {
        gw_buf_append(&out, "{\"data\":", 8);
        gw_jw_init(&w, &out);
        if (c.truncated ||
            gw_vendor_models_parse(llm->vendor_def, c.body.data, c.body.len, &w, GW_LLMCHECK_MAX_MODELS, &n, err) != 0 ||
            gw_jw_finish(&w) != 0 || gw_buf_append(&out, "}", 1) != 0 || out.failed)
            rc = gw_admin_send_error(r, 502, c.truncated ? "the model list is too large" : err, "upstream_invalid_response");
        else
            rc = gw_admin_send_json(r, 200, out.data, out.len);
    }
    gw_buf_free(&out);
    gw_upstream_req_free(&ureq);
    gw_buf_free(&c.body);
    gw_snapshot_release(snap);
    return rc;
}

static const gw_admin_op gw_llmcheck_ops[] = {
    {.method = "POST", .path = "llms/{id}/test", .handler = gw_llmcheck_test, .summary = "test an LLM's connection"},
    {.method = "GET", .path = "llms/{id}/models", .handler = gw_llmcheck_models, .summary = "the vendor's models"},
};

void gw_llmcheck_register(gw_server *srv)
{
    (void)srv; /* the handlers reach it through the REST API's state */
    gw_admin_add_ops(gw_llmcheck_ops, sizeof(gw_llmcheck_ops) / sizeof(gw_llmcheck_ops[0]));
}
