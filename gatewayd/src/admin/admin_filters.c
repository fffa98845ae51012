/*
 * src/admin/admin_filters.c: POST /api/v1/filters/{id}/test (admins): runs
 * a stored filter on sample text with gatewayd's own filter code
 * (pipeline/filter.h), the only runtime filters have, so the answer is
 * what a request would get. The filter is read from the database through
 * aistudio.get_filter (its RBAC: admin; any namespace, active or not), not
 * from the snapshot: a filter can be tried before it is attached or
 * activated.
 *
 * Body: {"text": "…" (at most 64 KiB), "stage"?: pre_auth | post_auth |
 * on_response (default: the filter's)}. The text is one user message of a
 * prompt (or the whole answer for on_response), read and written back as
 * such. Answer: {"action": "pass" | "modify" | "block", "output": the text
 * after the filter (null when blocked), "matches": […], "message", "status",
 * "code" (block), "filter", "stage"}.
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin_bind.h"
#include "admin/admin_filters.h"
#include "admin/admin_int.h"
#include "base/json.h"
#include "pipeline/filter.h"
#include "pipeline/text.h"

#define GW_FILTER_TEST_SQL                                                                                             \
    "SELECT f.name, f.filter_type, f.config::text, f.stage FROM aistudio.get_filter($1::bigint) f"

static const char *gw_filter_action_name(gw_hook_action a)
{
    return a == GW_HOOK_BLOCK ? "block" : a == GW_HOOK_MODIFY ? "modify" : "pass";
}

/* The filter's verdict on text as one user message (or answer) into w. */
static int gw_filter_test_run(gw_admin_req *r, const gw_filter *f, const char *text, const char *stage, gw_jw *w)
{
    int answer = strcmp(stage, "on_response") == 0;
    gw_buf body;
    gw_jw bw;
    gw_text t;
    gw_filter_outcome o;
    char err[GW_ERR_LEN];
    int rc = 0;

    (void)r;
    /* the text as a prompt: the same reader, writer and checks as a request */
    gw_buf_init(&body, 0);
    gw_jw_init(&bw, &body);
    gw_jw_object_begin(&bw);
    gw_jw_key(&bw, answer ? "choices" : "messages");
    gw_jw_array_begin(&bw);
    gw_jw_object_begin(&bw);
    if (answer) {
        gw_jw_key(&bw, "message");
        gw_jw_object_begin(&bw);
    }
    gw_jw_key(&bw, "role");
    gw_jw_string(&bw, answer ? "assistant" : "user");
    gw_jw_key(&bw, "content");
    gw_jw_string(&bw, text);
    if (answer)
        gw_jw_object_end(&bw);
    gw_jw_object_end(&bw);
    gw_jw_array_end(&bw);
    gw_jw_object_end(&bw);
    gw_text_init(&t);
    gw_filter_outcome_init(&o);
    if (gw_jw_finish(&bw) != 0 ||
        (answer ? gw_text_answer(&t, GW_DIALECT_OPENAI_CHAT, body.data, body.len, err)
                : gw_text_prompt(&t, GW_DIALECT_OPENAI_CHAT, body.data, body.len, err)) != 0 ||
        t.n != 1 || gw_filter_check(f, &t, answer, &o) != 0) {
        rc = -1;
        goto done;
    }
    gw_jw_key(w, "action");
    gw_jw_string(w, gw_filter_action_name(o.action));
    gw_jw_key(w, "output");
    if (o.action == GW_HOOK_BLOCK)
        gw_jw_null(w);
    else if (t.parts[0].replaced)
        gw_jw_string_n(w, t.repl.data + t.parts[0].repl_off, t.parts[0].repl_len);
    else
        gw_jw_string_n(w, gw_text_str(&t, &t.parts[0]), t.parts[0].len);
    gw_jw_key(w, "matches");
    gw_buf_puts(&o.matches, "]");
    gw_jw_raw(w, o.matches.data, o.matches.len);
    gw_jw_key(w, "message");
    if (o.action == GW_HOOK_BLOCK)
        gw_jw_string(w, o.message[0] != '\0' ? o.message : "blocked by this filter");
    else
        gw_jw_null(w);
    gw_jw_key(w, "status");
    if (o.action == GW_HOOK_BLOCK)
        gw_jw_int(w, answer ? 502 : o.status);
    else
        gw_jw_null(w);
    gw_jw_key(w, "code");
    if (o.action == GW_HOOK_BLOCK)
        gw_jw_string(w, o.code);
    else
        gw_jw_null(w);
done:
    gw_filter_outcome_free(&o);
    gw_text_free(&t);
    gw_buf_free(&body);
    return rc;
}

int gw_admin_filter_test(gw_admin_req *r)
{
    PGresult *res;
    gw_filter *f = NULL;
    char err[GW_ERR_LEN], name[256], type[32], stage[32];
    const char *config, *want;
    gw_buf b;
    gw_jw w;
    int status;

    if (gw_admin_read_body(r) != 0 || gw_admin_tx_begin(r) != 0 || gw_admin_authenticate(r) != 0 ||
        gw_admin_bind(r) != 0)
        return r->status;
    if (r->params[5] == NULL)
        return gw_admin_send_error(r, 400, "\"text\" is required", "missing_field");
    if (gw_admin_tx_exec(r, GW_FILTER_TEST_SQL, &res) != 0)
        return gw_admin_send_dberr(r);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return gw_admin_send_error(r, 404, "not found", "not_found");
    }
    snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 0));
    snprintf(type, sizeof(type), "%s", PQgetvalue(res, 0, 1));
    config = gw_admin_strndup(r, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
    snprintf(stage, sizeof(stage), "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    if (config == NULL || gw_admin_tx_commit(r) != 0)
        return config == NULL ? gw_admin_send_error(r, 500, "out of memory", NULL) : gw_admin_send_dberr(r);
    want = r->params[6] != NULL ? r->params[6] : stage;
    if (strcmp(want, "pre_auth") != 0 && strcmp(want, "post_auth") != 0 && strcmp(want, "on_response") != 0)
        return gw_admin_send_error(r, 400, "\"stage\" must be pre_auth, post_auth or on_response", "invalid_value");
    if (gw_filter_compile(type, config, &f, err) != 0) {
        char msg[GW_ERR_LEN + 64];
        snprintf(msg, sizeof(msg), "filter '%.64s' cannot run: %.180s", name, err);
        return gw_admin_send_error(r, 422, msg, "filter_unavailable");
    }
    gw_buf_init(&b, GW_ADMIN_RESPONSE_MAX);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "filter");
    gw_jw_string(&w, name);
    gw_jw_key(&w, "stage");
    gw_jw_string(&w, want);
    if (gw_filter_test_run(r, f, r->params[5], want, &w) != 0) {
        status = gw_admin_send_error(r, 500, "the filter could not run on this text", NULL);
    } else {
        gw_jw_object_end(&w);
        status = gw_jw_finish(&w) != 0 ? gw_admin_send_error(r, 500, "response too large", NULL)
                                       : gw_admin_send_json(r, 200, b.data, b.len);
    }
    gw_buf_free(&b);
    gw_filter_free(f);
    return status;
}
