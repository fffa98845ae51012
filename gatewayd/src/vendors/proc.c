/*
 * src/vendors/proc.c: the vendor-neutral helpers of the stream processor
 * that the wire files call while they read an answer (see vendor_int.h):
 * relaying bytes to the client, failing on a broken format, recording the
 * upstream's error message and model, and the OpenAI usage and body shapes
 * that several wire formats share (OpenAI, Hugging Face, Ollama's /v1
 * routes). Calls no wire file and no dispatcher.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vendors/vendor_int.h"

int gw_proc_emit(gw_stream_proc *p, const char *data, size_t len)
{
    if (p->gone)
        return -1;
    if (len == 0)
        return 0;
    if (p->emit(p->emit_ctx, data, len) != 0) {
        p->gone = 1;
        return -1;
    }
    return 0;
}

int gw_proc_fail(gw_stream_proc *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->failed) {
        va_start(ap, fmt);
        vsnprintf(p->fail_err, sizeof(p->fail_err), fmt, ap);
        va_end(ap);
    }
    p->failed = 1;
    return -1;
}

void gw_proc_upstream_error(gw_stream_proc *p, const gw_json_value *msg)
{
    if (p->upstream_error)
        return;
    p->upstream_error = 1;
    if (msg == NULL || gw_vj_str_copy(msg, p->upstream_msg, sizeof(p->upstream_msg)) <= 0)
        snprintf(p->upstream_msg, sizeof(p->upstream_msg), "the upstream reported an error");
}

void gw_proc_set_model(gw_stream_proc *p, const gw_json_value *model)
{
    /* an unusable name (too long, control characters) is not recorded at
     * all rather than cut */
    if (p->model[0] == '\0' && model != NULL && model->type == GW_JSON_STRING)
        (void)gw_vendor_model_from_json(model, p->model, NULL);
}

void gw_proc_openai_usage(gw_stream_proc *p, const gw_json_value *u)
{
    int64_t v;

    if (u == NULL || u->type != GW_JSON_OBJECT)
        return;
    p->usage.seen = 1;
    p->usage.prompt_tokens = gw_vj_int(u, "prompt_tokens", &v) == 0 || gw_vj_int(u, "input_tokens", &v) == 0 ? v : 0;
    p->usage.response_tokens =
        gw_vj_int(u, "completion_tokens", &v) == 0 || gw_vj_int(u, "output_tokens", &v) == 0 ? v : 0;
    p->usage.cache_read_tokens = gw_vj_int(u, "prompt_tokens_details.cached_tokens", &v) == 0 ||
                                         gw_vj_int(u, "input_tokens_details.cached_tokens", &v) == 0
                                     ? v
                                     : 0;
    p->usage.cache_write_tokens = 0;
}

int gw_proc_openai_json(gw_stream_proc *p, const gw_json_value *root)
{
    gw_json_value v;

    if (root->type == GW_JSON_OBJECT) {
        if (gw_vj_get(root, "model", &v))
            gw_proc_set_model(p, &v);
        if (gw_vj_get(root, "usage", &v))
            gw_proc_openai_usage(p, &v);
    }
    /* /ai on an OpenAI-compatible vendor: the body already is the answer */
    if (gw_proc_ai(p))
        return gw_proc_emit(p, p->body.data, p->body.len);
    return 0;
}
