/*
 * src/gateway/proxy_relay.c: the upstream stage of a proxied request (see
 * proxy_relay.h): the stream processor fed from the curl callbacks, frames
 * relayed to the client as they come (a JSON body whole, with its length),
 * the client watched while the upstream is quiet, the shutdown deadline,
 * upstream errors relayed (in the OpenAI shape on /ai/… for other vendors),
 * and a stream cut with the vendor's error event when it cannot end
 * cleanly. Before the call: a $SECRET key only goes to its secret's hosts
 * (keyhosts.h), and everything the upstream answers passes through the
 * redaction of the vendor key (redact.h, applied in upstream.c), so an
 * upstream echoing the key reaches neither the client nor the event.
 * An LLM that captures bodies gets the request as sent upstream and the
 * bytes the client received (gw_relay_flush, after the on_response steps;
 * an upstream error relayed as it is) in r->bodies, each up to its cap.
 */
#include "gateway/proxy_relay.h"

#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "gateway/request.h"
#include "model/keyhosts.h"

/* The pending output goes to the client now: the capture gets exactly those
 * bytes, so bytes dropped before they went out (a cut, a refused answer)
 * are never captured. Out of memory: the capture keeps what it had, flagged. */
static int gw_relay_flush(gw_preq *r, int final)
{
    char timing[96];
    size_t n = gw_outbuf_pending(&r->tls->out);
    if (r->bodies != NULL && n > 0 && !r->resp.failed)
        gw_event_bodies_add_response(r->bodies, r->tls->out.data + GW_OUT_GAP, n);
    return gw_resp_flush(&r->resp, &r->tls->out, final, gw_preq_timing(r, timing, sizeof(timing)));
}

/* A stream already under way is cut: the vendor's error event, then the end. */
static void gw_relay_cut(gw_preq *r, int status, const char *code, const char *msg)
{
    char mem[1024];
    gw_buf eb;

    r->status = status;
    gw_preq_set_error(r, code, msg);
    if (r->resp.failed)
        return;
    gw_buf_init_fixed(&eb, mem, sizeof(mem));
    r->tls->out.len = GW_OUT_GAP; /* drop half-relayed bytes (never a partial frame: frames are whole) */
    r->tls->out.overflow = 0;
    if (gw_vendor_stream_error(r->vendor, r->ureq.proc_mode, msg, &eb) == 0 && !eb.failed)
        gw_outbuf_append(&r->tls->out, eb.data, eb.len);
    gw_relay_flush(r, 1);
}

/* ---- upstream callbacks ---- */

/* What the client gets: into the outgoing buffer. */
static int gw_relay_out(void *ctx, const char *data, size_t len)
{
    gw_preq *r = ctx;
    if (gw_outbuf_append(&r->tls->out, data, len) != 0) {
        r->out_overflow = 1;
        return -1;
    }
    return 0;
}

static int gw_relay_emit(void *ctx, const char *data, size_t len)
{
    gw_preq *r = ctx;
    if (r->resp.failed)
        return -1;
    /* the on_response stage: each piece of the answer as the client gets it */
    if (gw_pipeline_has_response_steps(r->pipe)) {
        if (gw_pipeline_on_response(r->pipe, r, data, len, gw_relay_out, r) != 0) {
            if (!r->out_overflow)
                r->response_stopped = 1;
            return -1;
        }
        return 0;
    }
    return gw_relay_out(r, data, len);
}

static void gw_relay_head_fields(gw_preq *r)
{
    gw_proc_mode m = r->ureq.proc_mode;
    r->resp.status = (int)r->up_status;
    if (m == GW_PROC_AI_JSON || m == GW_PROC_AI_SSE || r->call.content_type[0] == '\0')
        r->resp.content_type = gw_proc_content_type(m);
    else
        r->resp.content_type = r->call.content_type;
    r->resp.extra_headers = r->call.relay_headers_len > 0 ? r->call.relay_headers : NULL;
    r->resp.stream = r->streaming_out;
}

static int gw_relay_on_head(void *ctx, long status, const char *content_type)
{
    gw_preq *r = ctx;
    (void)content_type;
    r->up_status = status;
    r->up_head = 1;
    r->up_2xx = status >= 200 && status < 300;
    if (!r->up_2xx)
        gw_buf_reset(&r->tls->aux);
    return 0;
}

static int gw_relay_on_body(void *ctx, const char *data, size_t len)
{
    gw_preq *r = ctx;
    int gone = 0;

    if (!r->up_2xx) {
        size_t room = GW_ERRBODY_MAX - r->tls->aux.len;
        gw_buf_append(&r->tls->aux, data, len < room ? len : room);
        return 0;
    }
    if (gw_stream_proc_feed(r->proc, data, len, &gone, r->perr) != 0) {
        if (r->out_overflow) {
            r->proc_failed = 1;
            snprintf(r->perr, sizeof(r->perr), "the upstream response is larger than MAX_RESPONSE_BYTES");
        } else if (gone || r->resp.failed) {
            r->client_gone = 1;
        } else {
            r->proc_failed = 1;
        }
        return -1;
    }
    gw_preq_journal_progress(r); /* the usage so far survives a crash */
    if (gw_outbuf_pending(&r->tls->out) > 0 &&
        (r->streaming_out || gw_outbuf_pending(&r->tls->out) > GW_JSON_FLUSH_BYTES)) {
        if (!r->resp.head_sent)
            gw_relay_head_fields(r);
        if (gw_relay_flush(r, 0) != 0) {
            r->client_gone = 1;
            return -1;
        }
        r->last_write_ms = gw_now_ms();
    }
    return 0;
}

static int gw_relay_on_tick(void *ctx, int64_t now_ms, int64_t last_byte_ms)
{
    gw_preq *r = ctx;
    long long deadline = atomic_load_explicit(&r->srv->stop_deadline_ms, memory_order_relaxed);
    int64_t last = last_byte_ms > r->last_write_ms ? last_byte_ms : r->last_write_ms;

    if (deadline > 0 && now_ms >= deadline) {
        r->cut_shutdown = 1;
        return 1;
    }
    /* a quiet upstream: is the client still there? (a busy one is noticed by the next write) */
    if (now_ms - last >= GW_CLIENT_IDLE_CHECK_MS && now_ms - r->last_client_check_ms >= GW_CLIENT_CHECK_EVERY_MS) {
        r->last_client_check_ms = now_ms;
        if (gw_client_gone(r->ri, &r->client_fd)) {
            r->client_gone = 1;
            return 1;
        }
    }
    return 0;
}

/* The message of a vendor error body ({"error":"…"} or {"error":{"message":"…"}} or {"message":"…"}). */
static void gw_upstream_error_message(const char *body, size_t len, char *out, size_t cap)
{
    gw_json_field f[2] = {{"error", {0}}, {"message", {0}}};
    char err[GW_ERR_LEN];
    size_t n;

    out[0] = '\0';
    if (len == 0 || gw_json_scan_object(body, len, GW_JSON_DEFAULT_MAX_DEPTH, f, 2, err) != 0)
        return;
    if (f[0].value.type == GW_JSON_STRING && gw_json_get_string(&f[0].value, out, cap, &n) == 0)
        return;
    if (f[0].value.type == GW_JSON_OBJECT) {
        gw_json_field g[1] = {{"message", {0}}};
        if (gw_json_scan_object(f[0].value.ptr, f[0].value.len, GW_JSON_DEFAULT_MAX_DEPTH, g, 1, err) == 0 &&
            gw_json_get_string(&g[0].value, out, cap, &n) == 0)
            return;
    }
    if (f[1].value.type == GW_JSON_STRING && gw_json_get_string(&f[1].value, out, cap, &n) == 0)
        return;
    out[0] = '\0';
}

/* Upstream non-2xx: its status and body go to the client (as an OpenAI error on /ai/… for other vendors). */
static void gw_relay_upstream_error(gw_preq *r)
{
    char timing[96], msg[512];
    gw_buf *aux = &r->tls->aux;
    int status = (int)r->up_status;

    if (status < 200 || status > 599)
        status = 502;
    r->status = status;
    snprintf(r->error, sizeof(r->error), "upstream status %d", status);
    gw_upstream_error_message(aux->data, aux->len, msg, sizeof(msg));
    if (msg[0] != '\0') {
        size_t l = strlen(r->error);
        snprintf(r->error + l, sizeof(r->error) - l, ": %s", msg);
    }
    if (r->route.kind == GW_ROUTE_AI && !gw_vendor_openai_errors(r->vendor)) {
        char code[16];
        snprintf(code, sizeof(code), "upstream_%d", status);
        r->resp.extra_headers = r->call.relay_headers_len > 0 ? r->call.relay_headers : NULL;
        if (msg[0] == '\0')
            snprintf(msg, sizeof(msg), "the upstream answered %d", status);
        gw_resp_send_error(&r->resp, status, msg, code, gw_preq_timing(r, timing, sizeof(timing)));
    } else {
        r->resp.extra_headers = r->call.relay_headers_len > 0 ? r->call.relay_headers : NULL;
        if (r->bodies != NULL && aux->data != NULL)
            gw_event_bodies_add_response(r->bodies, aux->data, aux->len);
        gw_resp_send(&r->resp, status, r->call.content_type[0] != '\0' ? r->call.content_type : "application/json",
                     aux->data != NULL ? aux->data : "", aux->len, gw_preq_timing(r, timing, sizeof(timing)));
    }
    if (r->resp.failed)
        r->status = 499;
}

/*
 * A failure after the upstream's answer began: a client waiting for a
 * stream whose upstream head was 2xx and sent bytes gets the stream (head
 * included, if not sent yet) ended by the vendor's error event, so an SDK
 * sees an error of the stream rather than a status it would retry; any
 * other client gets a JSON error with the status.
 */
static void gw_relay_fail(gw_preq *r, int status, const char *code, const char *msg)
{
    if (r->resp.head_sent || (r->streaming_out && r->up_2xx && r->call.bytes_in > 0)) {
        if (!r->resp.head_sent)
            gw_relay_head_fields(r);
        gw_relay_cut(r, status, code, msg);
    } else {
        gw_preq_fail(r, status, code, "%s", msg);
    }
}

/* An on_response step refused the answer: a filter's or plugin's block
 * (its status, code and message; the vendor's error event in a stream
 * under way), or another step's reason in r->error (502 response_refused). */
static void gw_relay_refused(gw_preq *r)
{
    char msg[GW_EVENT_ERROR_MAX];

    if (r->stop_code[0] == '\0') {
        gw_copy(msg, sizeof(msg), r->error[0] != '\0' ? r->error : "the answer was stopped by the gateway");
        gw_relay_fail(r, 502, "response_refused", msg);
        return;
    }
    if (r->resp.head_sent || (r->streaming_out && r->up_2xx && r->call.bytes_in > 0)) {
        if (!r->resp.head_sent)
            gw_relay_head_fields(r);
        gw_relay_cut(r, r->stop_status, r->stop_code, r->stop_msg);
        gw_preq_block_error(r, r->stop_code, r->stop_msg, r->stop_by);
    } else {
        r->tls->out.len = GW_OUT_GAP; /* nothing of the answer goes out */
        gw_preq_block(r, r->stop_status, r->stop_code, r->stop_msg, r->stop_by);
    }
}

static void gw_relay_client_gone(gw_preq *r)
{
    r->status = 499;
    snprintf(r->error, sizeof(r->error), "client_disconnected");
}

static void gw_relay_after(gw_preq *r, gw_upstream_result res)
{
    char timing[96];
    int gone = 0;

    if (r->response_stopped && !r->resp.failed) {
        gw_relay_refused(r);
        return;
    }
    if (r->client_gone || r->resp.failed) {
        gw_relay_client_gone(r);
        return;
    }
    switch (res) {
    case GW_UP_OK:
        if (!r->up_head) {
            gw_preq_fail(r, 502, "upstream_error", "the upstream sent no response");
            return;
        }
        if (!r->up_2xx) {
            gw_relay_upstream_error(r);
            return;
        }
        if (gw_stream_proc_finish(r->proc, &gone, r->perr) != 0) {
            if (r->response_stopped && !r->resp.failed)
                gw_relay_refused(r); /* an on_response step refused the (JSON) answer */
            else if (gone || r->resp.failed)
                gw_relay_client_gone(r);
            else if (r->out_overflow)
                gw_relay_fail(r, 502, "upstream_invalid_response",
                              "the upstream response is larger than MAX_RESPONSE_BYTES");
            else
                gw_relay_fail(r, 502, "upstream_incomplete",
                              r->perr[0] != '\0' ? r->perr : "the upstream stream ended early");
            return;
        }
        /* the on_response steps pass on what they held back */
        if (!r->out_overflow && gw_pipeline_has_response_steps(r->pipe) &&
            gw_pipeline_on_response_end(r->pipe, r, gw_relay_out, r) != 0 && !r->out_overflow) {
            r->response_stopped = 1;
            gw_relay_refused(r);
            return;
        }
        if (r->out_overflow) {
            gw_relay_fail(r, 502, "upstream_invalid_response",
                          "the upstream response is larger than MAX_RESPONSE_BYTES");
            return;
        }
        if (!r->resp.head_sent)
            gw_relay_head_fields(r);
        if (gw_relay_flush(r, 1) != 0) {
            gw_relay_client_gone(r);
            return;
        }
        r->status = (int)r->up_status;
        return;
    case GW_UP_ABORTED:
        if (r->cut_shutdown)
            gw_relay_fail(r, 503, "shutting_down", "the gateway is shutting down");
        else if (r->proc_failed)
            gw_relay_fail(r, 502, "upstream_invalid_stream", r->perr);
        else
            gw_relay_fail(r, 502, "upstream_error", r->call.err);
        return;
    case GW_UP_STALL:
        gw_relay_fail(r, 504, "upstream_stalled", r->call.err);
        return;
    case GW_UP_TIMEOUT:
        gw_relay_fail(r, 504, "upstream_timeout", r->call.err);
        return;
    case GW_UP_CONNECT_FAILED:
        gw_preq_fail(r, 502, "upstream_unreachable", "cannot connect to the endpoint of LLM '%s'", r->llm->slug);
        return;
    case GW_UP_RESET:
        gw_relay_fail(r, 502, "upstream_reset", "the upstream connection broke before the response was complete");
        return;
    case GW_UP_ERROR:
        gw_relay_fail(r, 502, "upstream_error", r->call.err);
        return;
    case GW_UP_BUSY:
        /* nothing was sent upstream: refused at once, with a hint to retry */
        r->status = 503;
        gw_preq_set_error(r, "overloaded", r->call.err);
        if (!r->resp.head_sent && !r->resp.failed) {
            r->resp.extra_headers = "Retry-After: 1\r\n";
            if (gw_resp_send_error(&r->resp, 503, "the gateway has too many upstream calls in progress: try again shortly",
                                   "overloaded", gw_preq_timing(r, timing, sizeof(timing))) != 0 &&
                r->resp.failed)
                r->status = 499;
        }
        return;
    }
}

static void gw_relay_call(gw_preq *r, const char *body, size_t body_len)
{
    const gw_config *cfg = &r->srv->cfg;
    char err[GW_ERR_LEN];
    gw_proc_opts po;
    gw_upstream_cb cb;
    gw_upstream_result res;

    /* a secret goes only where its hosts allow (checked on the URL itself) */
    if (gw_keyhosts_check(r->llm, gw_buf_cstr(&r->ureq.url), err) != 0) {
        gw_log_warn("%s", err);
        gw_preq_fail(r, 502, "secret_host_not_allowed", "%s", err);
        return;
    }
    memset(&po, 0, sizeof(po));
    po.vendor = r->vendor;
    po.mode = r->ureq.proc_mode;
    po.strip_usage_chunk = r->ureq.strip_usage_chunk;
    po.max_line_bytes = (size_t)cfg->max_sse_line_bytes;
    po.max_json_bytes = (size_t)cfg->max_response_bytes;
    po.model = r->model;
    po.request_id = r->rid;
    po.created = r->wall_us / 1000000;
    if (gw_outbuf_start(&r->tls->out, (size_t)cfg->max_response_bytes) != 0 ||
        gw_stream_proc_create(&po, gw_relay_emit, r, &r->proc, err) != 0) {
        gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
        return;
    }
    memset(&r->call, 0, sizeof(r->call));
    gw_redact_init(&r->redact);
    if (r->llm->key_state == GW_KEY_OK && gw_redact_add(&r->redact, r->llm->api_key, r->llm->api_key_len) != 0) {
        gw_redact_free(&r->redact);
        gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
        return;
    }
    r->call.redact = &r->redact;
    r->call.method = r->ureq.method;
    r->call.url = gw_buf_cstr(&r->ureq.url);
    r->call.headers = r->ureq.headers.data;
    r->call.headers_len = r->ureq.headers.len;
    if (r->ureq.body_rewritten) {
        r->call.body = r->ureq.body.data;
        r->call.body_len = r->ureq.body.len;
    } else {
        r->call.body = body_len > 0 ? body : NULL;
        r->call.body_len = body_len;
    }
    /* body capture: the request as it goes upstream (after the filters),
     * never a header; the answer is added as the client gets it */
    if (r->llm->capture_bodies && r->llm->capture_max_bytes > 0 && r->bodies == NULL) {
        r->bodies = gw_event_bodies_new((size_t)r->llm->capture_max_bytes);
        if (r->bodies != NULL && gw_event_bodies_set_request(r->bodies, r->call.body != NULL ? r->call.body : "",
                                                             r->call.body_len) != 0) {
            gw_event_bodies_free(r->bodies);
            r->bodies = NULL;
        }
        if (r->bodies == NULL)
            gw_log_warn("%s: out of memory: the bodies of this request are not captured", r->rid);
    }
    r->call.connect_timeout_ms = cfg->upstream_connect_timeout_ms;
    /* a stream may run for long: UPSTREAM_TIMEOUT_MS bounds its first byte,
     * STREAM_STALL_MS the silences after it */
    r->call.total_timeout_ms = r->ureq.stream ? 0 : cfg->upstream_timeout_ms;
    r->call.first_byte_timeout_ms = r->ureq.stream ? cfg->upstream_timeout_ms : 0;
    r->call.stall_ms = r->ureq.stream ? cfg->stream_stall_ms : 0;
    r->call.retry_connect = 1;
    if (r->call.url == NULL) {
        gw_redact_free(&r->redact);
        gw_preq_fail(r, 503, "out_of_memory", "the gateway is out of memory");
        return;
    }
    cb.ctx = r;
    cb.on_head = gw_relay_on_head;
    cb.on_body = gw_relay_on_body;
    cb.on_tick = gw_relay_on_tick;
    r->upstream_called = 1;
    r->last_write_ms = gw_now_ms();
    res = gw_upstream_perform(&r->call, &cb);
    gw_relay_after(r, res);
    r->call.redact = NULL;
    gw_redact_free(&r->redact);
}

int gw_relay_step(gw_preq *r, void *arg)
{
    (void)arg;
    gw_relay_call(r, r->body, r->body_len);
    return 0;
}
