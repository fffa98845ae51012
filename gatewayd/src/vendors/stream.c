/*
 * src/vendors/stream.c: the vendor-independent half of the stream
 * processor of vendor.h: framing of the upstream bytes (SSE events ending
 * with a blank line, NDJSON lines, the elements of a streamed JSON array, a
 * whole JSON body) with the line limit, the client-gone and failure
 * plumbing, the end-marker check of finish(), the error event a client of
 * each vendor understands, and the content types. Each unit goes to the
 * reader of the vendor's wire row (registry.h: sse, line, elem, json; a
 * reader the row lacks is its compat wire's, and a unit no row reads is
 * relayed as it came).
 *
 * Line endings: "\n" and "\r\n" (a bare "\r" is not a line end). Lines are
 * limited to max_line_bytes (without the line end), an SSE event to twice
 * that plus 4 KiB, a streamed JSON array element to max_line_bytes. Complete
 * units are handed on as soon as their last byte arrives; when a feed holds
 * whole units they are processed in place, without copying.
 */
#include <stdlib.h>
#include <string.h>

#include "base/errmap.h"
#include "vendors/registry.h"

int gw_stream_proc_create(const gw_proc_opts *opts, gw_emit_fn emit, void *emit_ctx, gw_stream_proc **out,
                          char err[GW_ERR_LEN])
{
    gw_stream_proc *p;

    *out = NULL;
    if (opts == NULL || emit == NULL)
        return gw_errf(err, "stream processor: missing options or emit callback");
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return gw_errf(err, "out of memory");
    p->o = *opts;
    if (p->o.max_line_bytes == 0)
        p->o.max_line_bytes = GW_PROC_DEFAULT_LINE;
    if (p->o.max_json_bytes == 0)
        p->o.max_json_bytes = GW_PROC_DEFAULT_JSON;
    snprintf(p->opt_model, sizeof(p->opt_model), "%s", opts->model != NULL ? opts->model : "");
    snprintf(p->request_id, sizeof(p->request_id), "%s", opts->request_id != NULL ? opts->request_id : "");
    p->o.model = p->opt_model;
    p->o.request_id = p->request_id;
    p->emit = emit;
    p->emit_ctx = emit_ctx;
    p->wire = gw_wire_of(p->o.vendor);
    if (p->wire == NULL)
        p->wire = gw_wire_get(GW_WIRE_OPENAI);
    /* the extension's token semantics (aistudio.vendors) */
    p->prompt_excludes_cache = p->o.vendor != NULL && !p->o.vendor->prompt_includes_cache_reads;
    p->max_line = p->o.max_line_bytes;
    gw_buf_init(&p->pend, 0);
    gw_buf_init(&p->data, 0);
    gw_buf_init(&p->body, p->o.max_json_bytes);
    gw_buf_init(&p->out, 0);
    p->ai_block = -1;
    p->ai_block_tool = -1;
    *out = p;
    return 0;
}

void gw_stream_proc_destroy(gw_stream_proc *p)
{
    if (p == NULL)
        return;
    gw_buf_free(&p->pend);
    gw_buf_free(&p->data);
    gw_buf_free(&p->body);
    gw_buf_free(&p->out);
    free(p);
}

void gw_stream_proc_usage(const gw_stream_proc *p, gw_usage *out)
{
    *out = p->usage;
    /* A stream that ended before its usage (client gone, upstream cut):
     * count the answer frames relayed, one token each, and say so. */
    if (!p->ended && out->response_tokens == 0 && p->content_units > 0) {
        out->response_tokens = p->content_units;
        out->estimated = 1;
    }
}

const char *gw_stream_proc_model(const gw_stream_proc *p)
{
    return p->model;
}

/* 1 when lines are NDJSON (Ollama), 0 for SSE. */
static int gw_proc_ndjson(const gw_stream_proc *p)
{
    return p->o.mode == GW_PROC_NDJSON || (p->o.mode == GW_PROC_AI_SSE && p->wire->ai_stream_ndjson);
}

/* The wire row whose readers serve p: its own, else its compat wire's. */
static const gw_wire_ops *gw_proc_reader(const gw_stream_proc *p, int has_own)
{
    return has_own ? p->wire : gw_wire_get(p->wire->compat);
}

static int gw_proc_sse_event(gw_stream_proc *p, const char *ev, size_t n)
{
    gw_sse_event e = {ev, n, NULL, 0, NULL, 0};
    const char *s = ev, *end = ev + n;
    int ndata = 0;

    gw_buf_reset(&p->data);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl != NULL ? nl : end;
        const char *next = nl != NULL ? nl + 1 : end;
        if (le > s && le[-1] == '\r')
            le--;
        if (le > s && *s != ':') {
            const char *colon = memchr(s, ':', (size_t)(le - s));
            const char *v = colon != NULL ? colon + 1 : le;
            size_t fl = colon != NULL ? (size_t)(colon - s) : (size_t)(le - s);
            if (v < le && *v == ' ')
                v++;
            if (fl == 5 && memcmp(s, "event", 5) == 0) {
                e.name = v;
                e.name_len = (size_t)(le - v);
            } else if (fl == 4 && memcmp(s, "data", 4) == 0) {
                if (ndata == 1) {
                    gw_buf_append(&p->data, e.data, e.data_len);
                    gw_buf_append(&p->data, "\n", 1);
                }
                if (ndata >= 1)
                    gw_buf_append(&p->data, v, (size_t)(le - v));
                else {
                    e.data = v;
                    e.data_len = (size_t)(le - v);
                }
                ndata++;
            }
        }
        s = next;
    }
    if (ndata > 1) {
        if (p->data.failed)
            return gw_proc_fail(p, "out of memory joining SSE data lines");
        e.data = p->data.data;
        e.data_len = p->data.len;
    }
    p->nunits++;
    return gw_proc_reader(p, p->wire->sse != NULL)->sse(p, &e);
}

static int gw_proc_unit(gw_stream_proc *p, const char *u, size_t n)
{
    const gw_wire_ops *w;

    if (!gw_proc_ndjson(p))
        return gw_proc_sse_event(p, u, n);
    p->nunits++;
    w = gw_proc_reader(p, p->wire->line != NULL);
    return w->line != NULL ? w->line(p, u, n) : gw_proc_emit(p, u, n);
}

/* SSE (units end at a blank line) and NDJSON (units are lines). Complete
 * units are handed on at once; the incomplete rest is kept in p->pend. */
static int gw_proc_lines(gw_stream_proc *p, const char *data, size_t len)
{
    int direct = p->pend.len == 0, nd = gw_proc_ndjson(p);
    const char *buf;
    size_t blen, pos, line_start, unit = 0, tail;
    size_t max_unit = nd ? p->max_line + 2 : p->max_line * 2 + 4096;

    if (direct) {
        buf = data;
        blen = len;
        pos = line_start = 0;
    } else {
        if (gw_buf_append(&p->pend, data, len) != 0)
            return gw_proc_fail(p, "out of memory buffering the stream");
        buf = p->pend.data;
        blen = p->pend.len;
        pos = p->scanned;
        line_start = p->line_start;
    }
    while (pos < blen) {
        const char *nl = memchr(buf + pos, '\n', blen - pos);
        size_t nlpos, ll;
        if (nl == NULL)
            break;
        nlpos = (size_t)(nl - buf);
        ll = nlpos - line_start;
        if (ll > 0 && buf[nlpos - 1] == '\r')
            ll--;
        if (ll > p->max_line)
            return gw_proc_fail(p, "upstream stream line longer than %zu bytes", p->max_line);
        if (nd || ll == 0) {
            if (gw_proc_unit(p, buf + unit, nlpos + 1 - unit) != 0)
                return -1;
            unit = nlpos + 1;
        }
        line_start = pos = nlpos + 1;
    }
    tail = blen - line_start;
    if (tail > 0 && buf[blen - 1] == '\r')
        tail--;
    if (tail > p->max_line)
        return gw_proc_fail(p, "upstream stream line longer than %zu bytes", p->max_line);
    if (blen - unit > max_unit)
        return gw_proc_fail(p, "upstream stream event larger than %zu bytes", max_unit);
    if (direct) {
        gw_buf_reset(&p->pend);
        if (gw_buf_append(&p->pend, buf + unit, blen - unit) != 0)
            return gw_proc_fail(p, "out of memory buffering the stream");
    } else if (unit > 0) {
        memmove(p->pend.data, p->pend.data + unit, blen - unit);
        p->pend.len = blen - unit;
    }
    p->scanned = p->pend.len;
    p->line_start = line_start - unit;
    return 0;
}

/* Google streamGenerateContent without alt=sse: "[{…},\r\n{…}]". Each
 * element is handed on (with the separators before it) once complete. */
static int gw_proc_json_array(gw_stream_proc *p, const char *data, size_t len)
{
    size_t i, from = 0, elem = 0;
    char *b;

    if (gw_buf_append(&p->pend, data, len) != 0)
        return gw_proc_fail(p, "out of memory buffering the stream");
    b = p->pend.data;
    elem = p->line_start;
    for (i = p->scanned; i < p->pend.len; i++) {
        char c = b[i];
        int level = p->ja_open ? 1 : 0;
        if (p->ja_closed)
            continue;
        if (p->ja_in_str) {
            if (p->ja_esc)
                p->ja_esc = 0;
            else if (c == '\\')
                p->ja_esc = 1;
            else if (c == '"')
                p->ja_in_str = 0;
            continue;
        }
        if (c == '"') {
            p->ja_in_str = 1;
        } else if (c == '[' && !p->ja_open && p->ja_depth == 0) {
            p->ja_open = 1;
            p->ja_depth = 1;
        } else if (c == '{' || c == '[') {
            if (p->ja_depth == level)
                elem = i;
            p->ja_depth++;
        } else if (c == '}' || c == ']') {
            if (p->ja_depth == 0)
                return gw_proc_fail(p, "upstream sent a malformed JSON array");
            p->ja_depth--;
            if (p->ja_open && p->ja_depth == 0) {
                p->ja_closed = 1;
                p->ended = 1;
            } else if (p->ja_depth == level) {
                p->nunits++;
                if ((p->wire->elem != NULL && p->wire->elem(p, b + elem, i + 1 - elem) != 0) ||
                    gw_proc_emit(p, b + from, i + 1 - from) != 0)
                    return -1;
                from = i + 1;
            }
        }
    }
    if (p->ja_closed) {
        if (gw_proc_emit(p, b + from, p->pend.len - from) != 0)
            return -1;
        from = p->pend.len;
    }
    if (p->pend.len - from > p->max_line)
        return gw_proc_fail(p, "upstream JSON array element larger than %zu bytes", p->max_line);
    memmove(b, b + from, p->pend.len - from);
    p->pend.len -= from;
    p->scanned = p->pend.len;
    p->line_start = elem >= from ? elem - from : 0;
    return 0;
}

static int gw_proc_result(gw_stream_proc *p, int *client_gone, char err[GW_ERR_LEN])
{
    if (p->gone) {
        *client_gone = 1;
        return gw_errf(err, "the client went away");
    }
    if (p->failed)
        return gw_errf(err, "%s", p->fail_err);
    return 0;
}

int gw_stream_proc_feed(gw_stream_proc *p, const char *data, size_t len, int *client_gone, char err[GW_ERR_LEN])
{
    *client_gone = 0;
    if (p->gone || p->failed)
        return gw_proc_result(p, client_gone, err);
    if (p->finished)
        return gw_errf(err, "stream processor: feed after finish");
    if (len == 0)
        return 0;
    switch (p->o.mode) {
    case GW_PROC_JSON:
    case GW_PROC_AI_JSON:
        if (gw_buf_append(&p->body, data, len) != 0)
            gw_proc_fail(p, "upstream JSON body larger than %zu bytes", p->o.max_json_bytes);
        break;
    case GW_PROC_JSON_ARRAY:
        gw_proc_json_array(p, data, len);
        break;
    default:
        gw_proc_lines(p, data, len);
    }
    return gw_proc_result(p, client_gone, err);
}

static int gw_proc_finish_json(gw_stream_proc *p)
{
    gw_json_value root;
    char perr[GW_ERR_LEN];
    int ai = p->o.mode == GW_PROC_AI_JSON;

    if (gw_vj_parse(p->body.data, p->body.len, &root, perr) != 0) {
        if (ai)
            return gw_proc_fail(p, "upstream returned a body that is not JSON (%s)", perr);
        return gw_proc_emit(p, p->body.data, p->body.len); /* relay as is, no usage */
    }
    if (ai && !p->wire->openai_errors && root.type == GW_JSON_OBJECT) {
        gw_json_value e, m;
        if (gw_vj_get(&root, "error", &e) && e.type != GW_JSON_NULL) { /* the vendor's error shape → OpenAI's */
            gw_proc_upstream_error(p, gw_vj_get(&e, "message", &m) ? &m : e.type == GW_JSON_STRING ? &e : NULL);
            return gw_ai_error_body(p, p->upstream_msg);
        }
    }
    if (gw_proc_reader(p, p->wire->json != NULL)->json(p, &root) != 0)
        return -1;
    return ai ? 0 : gw_proc_emit(p, p->body.data, p->body.len);
}

int gw_stream_proc_finish(gw_stream_proc *p, int *client_gone, char err[GW_ERR_LEN])
{
    *client_gone = 0;
    if (p->gone || p->failed)
        return gw_proc_result(p, client_gone, err);
    if (p->finished)
        return gw_errf(err, "stream processor: finished twice");
    p->finished = 1;
    switch (p->o.mode) {
    case GW_PROC_JSON:
    case GW_PROC_AI_JSON:
        if (p->body.len == 0) {
            if (p->o.mode == GW_PROC_AI_JSON)
                gw_proc_fail(p, "upstream returned an empty body");
            break;
        }
        gw_proc_finish_json(p);
        return gw_proc_result(p, client_gone, err);
    case GW_PROC_JSON_ARRAY:
        break;
    default:
        /* a last unit without its terminator, when it ends with a complete
         * line (a cut line is dropped: the error event follows) */
        if (p->pend.len > 0 && p->pend.data[p->pend.len - 1] == '\n') {
            size_t n = p->pend.len;
            p->pend.len = 0;
            gw_proc_unit(p, p->pend.data, n);
        }
    }
    if (p->gone || p->failed)
        return gw_proc_result(p, client_gone, err);
    if (p->upstream_error)
        return gw_errf(err, "upstream error in the stream: %s", p->upstream_msg);
    if (!p->ended)
        return gw_errf(err, "upstream stream ended without its end marker");
    if (p->o.mode == GW_PROC_AI_SSE && !p->ai_done && gw_ai_end(p) != 0)
        return gw_proc_result(p, client_gone, err);
    return 0;
}

/* ================= errors and content types ================= */

int gw_vendor_stream_error(const gw_vendor *v, gw_proc_mode mode, const char *message, gw_buf *out)
{
    gw_jw w;
    const gw_wire_ops *wire = gw_wire_of(v);
    /* /ai clients get OpenAI's shape whatever the vendor */
    gw_error_style style = mode == GW_PROC_AI_SSE || mode == GW_PROC_AI_JSON || wire == NULL ? GW_ERRSTYLE_OPENAI
                                                                                              : wire->error_style;
    int anthropic = style == GW_ERRSTYLE_ANTHROPIC;
    int google = style == GW_ERRSTYLE_GOOGLE;
    int ollama = style == GW_ERRSTYLE_OLLAMA;

    if (message == NULL)
        message = "upstream error";
    if (mode == GW_PROC_SSE || mode == GW_PROC_AI_SSE)
        gw_buf_puts(out, anthropic ? "event: error\ndata: " : "data: ");
    else if (mode == GW_PROC_JSON_ARRAY)
        gw_buf_puts(out, ",\r\n");
    gw_jw_init(&w, out);
    gw_jw_object_begin(&w);
    if (anthropic) {
        gw_jw_key(&w, "type");
        gw_jw_string(&w, "error");
    }
    gw_jw_key(&w, "error");
    if (ollama) {
        gw_jw_string(&w, message);
    } else {
        gw_jw_object_begin(&w);
        if (google) {
            gw_jw_key(&w, "code");
            gw_jw_int(&w, 502);
            gw_jw_key(&w, "message");
            gw_jw_string(&w, message);
            gw_jw_key(&w, "status");
            gw_jw_string(&w, "UNAVAILABLE");
        } else if (anthropic) {
            gw_jw_key(&w, "type");
            gw_jw_string(&w, "api_error");
            gw_jw_key(&w, "message");
            gw_jw_string(&w, message);
        } else {
            gw_jw_key(&w, "message");
            gw_jw_string(&w, message);
            gw_jw_key(&w, "type");
            gw_jw_string(&w, "upstream_error");
            gw_jw_key(&w, "code");
            gw_jw_string(&w, "upstream_stream_error");
        }
        gw_jw_object_end(&w);
    }
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0)
        return -1;
    if (mode == GW_PROC_SSE || mode == GW_PROC_AI_SSE)
        gw_buf_puts(out, "\n\n");
    else if (mode == GW_PROC_NDJSON)
        gw_buf_puts(out, "\n");
    else if (mode == GW_PROC_JSON_ARRAY)
        gw_buf_puts(out, "]");
    return out->failed ? -1 : 0;
}

static const char *gw_google_status(int status)
{
    switch (status) {
    case 401:
        return "UNAUTHENTICATED";
    case 403:
        return "PERMISSION_DENIED";
    case 404:
        return "NOT_FOUND";
    case 429:
        return "RESOURCE_EXHAUSTED";
    default:
        return status >= 500 ? (status == 500 ? "INTERNAL" : "UNAVAILABLE") : "INVALID_ARGUMENT";
    }
}

int gw_vendor_error_body(const gw_vendor *v, int status, const char *code, const char *message, gw_buf *out)
{
    gw_error_style style = gw_wire_of(v) == NULL ? GW_ERRSTYLE_OPENAI : gw_wire_of(v)->error_style;
    gw_jw w;

    if (code == NULL)
        code = "";
    if (message == NULL)
        message = "";
    gw_jw_init(&w, out);
    gw_jw_object_begin(&w);
    switch (style) {
    case GW_ERRSTYLE_ANTHROPIC:
        gw_jw_key(&w, "type");
        gw_jw_string(&w, "error");
        gw_jw_key(&w, "error");
        gw_jw_object_begin(&w);
        gw_jw_key(&w, "type");
        gw_jw_string(&w, status == 413   ? "request_too_large"
                         : status >= 500 ? "api_error"
                         : status == 403 ? "permission_error"
                         : status == 429 ? "rate_limit_error"
                                         : "invalid_request_error");
        gw_jw_key(&w, "message");
        gw_jw_string(&w, message);
        gw_jw_key(&w, "code");
        gw_jw_string(&w, code);
        gw_jw_object_end(&w);
        break;
    case GW_ERRSTYLE_GOOGLE:
        gw_jw_key(&w, "error");
        gw_jw_object_begin(&w);
        gw_jw_key(&w, "code");
        gw_jw_int(&w, status);
        gw_jw_key(&w, "message");
        gw_jw_string(&w, message);
        gw_jw_key(&w, "status");
        gw_jw_string(&w, gw_google_status(status));
        gw_jw_key(&w, "details");
        gw_jw_array_begin(&w);
        gw_jw_object_begin(&w);
        gw_jw_key(&w, "@type");
        gw_jw_string(&w, "type.googleapis.com/google.rpc.ErrorInfo");
        gw_jw_key(&w, "reason");
        gw_jw_string(&w, code);
        gw_jw_key(&w, "domain");
        gw_jw_string(&w, "aistudio");
        gw_jw_object_end(&w);
        gw_jw_array_end(&w);
        gw_jw_object_end(&w);
        break;
    case GW_ERRSTYLE_OLLAMA: {
        gw_buf m;
        gw_buf_init(&m, 0);
        gw_buf_printf(&m, "%s%s%s", code, code[0] != '\0' ? ": " : "", message);
        gw_jw_key(&w, "error");
        gw_jw_string_n(&w, m.data != NULL ? m.data : "", m.len);
        gw_buf_free(&m);
        break;
    }
    default:
        gw_jw_key(&w, "error");
        gw_jw_object_begin(&w);
        gw_jw_key(&w, "message");
        gw_jw_string(&w, message);
        gw_jw_key(&w, "type");
        gw_jw_string(&w, gw_errmap_type(status));
        gw_jw_key(&w, "code");
        gw_jw_string(&w, code);
        gw_jw_object_end(&w);
    }
    gw_jw_object_end(&w);
    return gw_jw_finish(&w) != 0 || out->failed ? -1 : 0;
}

const char *gw_proc_content_type(gw_proc_mode mode)
{
    switch (mode) {
    case GW_PROC_SSE:
    case GW_PROC_AI_SSE:
        return "text/event-stream";
    case GW_PROC_NDJSON:
        return "application/x-ndjson";
    default:
        return "application/json";
    }
}
