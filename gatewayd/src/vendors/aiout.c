/*
 * src/vendors/aiout.c: the OpenAI side of the /ai translation: the wire
 * files write the vendor's answer as OpenAI chat.completion /
 * chat.completion.chunk frames with these (id "chatcmpl-<request_id>", the
 * role chunk first, tool calls with their index, the finish chunk, the usage
 * chunk when the client asked for it, then data: [DONE]); usage is reported
 * in OpenAI semantics (a wire whose prompt count leaves out the cache,
 * Anthropic's: prompt = input + cache write + cache read). Calls no wire
 * file and no dispatcher.
 */
#include <stdio.h>
#include <string.h>

#include "vendors/vendor_int.h"

static const char *gw_ai_model(const gw_stream_proc *p)
{
    return p->model[0] != '\0' ? p->model : p->opt_model;
}

static void gw_ai_head(gw_stream_proc *p, gw_jw *w, const char *object)
{
    char id[128];

    snprintf(id, sizeof(id), "chatcmpl-%s", p->request_id);
    gw_jw_object_begin(w);
    gw_jw_key(w, "id");
    gw_jw_string(w, id);
    gw_jw_key(w, "object");
    gw_jw_string(w, object);
    gw_jw_key(w, "created");
    gw_jw_int(w, p->o.created);
    gw_jw_key(w, "model");
    gw_jw_string(w, gw_ai_model(p));
}

/* Emits p->out as "data: …\n\n" once the document w is complete. */
static int gw_ai_send_frame(gw_stream_proc *p, gw_jw *w)
{
    if (gw_jw_finish(w) != 0)
        return gw_proc_fail(p, "out of memory writing a translated chunk");
    gw_buf_puts(&p->out, "\n\n");
    if (p->out.failed)
        return gw_proc_fail(p, "out of memory writing a translated chunk");
    return gw_proc_emit(p, p->out.data, p->out.len);
}

/* One chunk with a delta (raw JSON) and a finish_reason (NULL: null). */
static int gw_ai_chunk(gw_stream_proc *p, const char *delta, size_t dlen, const char *finish)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_buf_puts(&p->out, "data: ");
    gw_jw_init(&w, &p->out);
    gw_ai_head(p, &w, "chat.completion.chunk");
    gw_jw_key(&w, "choices");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "index");
    gw_jw_int(&w, 0);
    gw_jw_key(&w, "delta");
    gw_jw_raw(&w, delta, dlen);
    gw_jw_key(&w, "logprobs");
    gw_jw_null(&w);
    gw_jw_key(&w, "finish_reason");
    gw_jw_string(&w, finish);
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_object_end(&w);
    return gw_ai_send_frame(p, &w);
}

int gw_ai_delta(gw_stream_proc *p, const char *delta, size_t len)
{
    static const char role[] = "{\"role\":\"assistant\",\"content\":\"\"}";

    if (!p->ai_started) {
        p->ai_started = 1;
        if (gw_ai_chunk(p, role, sizeof(role) - 1, NULL) != 0)
            return -1;
    }
    if (delta == NULL)
        return 0;
    return gw_ai_chunk(p, delta, len, NULL);
}

int gw_ai_text(gw_stream_proc *p, const gw_json_value *str)
{
    gw_buf d;
    int rc;

    if (str == NULL || str->type != GW_JSON_STRING || str->len <= 2)
        return gw_ai_delta(p, NULL, 0);
    gw_buf_init(&d, 0);
    gw_buf_puts(&d, "{\"content\":");
    gw_buf_append(&d, str->ptr, str->len);
    gw_buf_puts(&d, "}");
    p->ai_text = 1;
    p->content_units++;
    rc = d.failed ? gw_proc_fail(p, "out of memory") : gw_ai_delta(p, d.data, d.len);
    gw_buf_free(&d);
    return rc;
}

/* "arguments": a JSON string value as is, an object serialized as a string. */
static void gw_ai_args(gw_jw *w, const gw_json_value *args_str, const gw_json_value *args_obj)
{
    gw_jw_key(w, "arguments");
    if (args_str != NULL && args_str->type == GW_JSON_STRING)
        gw_jw_raw(w, args_str->ptr, args_str->len);
    else if (args_obj != NULL && args_obj->type != GW_JSON_ABSENT && args_obj->type != GW_JSON_NULL)
        gw_jw_string_n(w, args_obj->ptr, args_obj->len);
    else
        gw_jw_string(w, args_obj != NULL ? "{}" : "");
}

static void gw_ai_tool_fields(gw_jw *w, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                              const gw_json_value *args_str, const gw_json_value *args_obj)
{
    int has_id = (id != NULL && id->type == GW_JSON_STRING) || gen_id != NULL;

    if (has_id) {
        gw_jw_key(w, "id");
        if (id != NULL && id->type == GW_JSON_STRING)
            gw_jw_raw(w, id->ptr, id->len);
        else
            gw_jw_string(w, gen_id);
        gw_jw_key(w, "type");
        gw_jw_string(w, "function");
    }
    gw_jw_key(w, "function");
    gw_jw_object_begin(w);
    if (name != NULL && name->type == GW_JSON_STRING) {
        gw_jw_key(w, "name");
        gw_jw_raw(w, name->ptr, name->len);
    }
    gw_ai_args(w, args_str, args_obj);
    gw_jw_object_end(w);
}

int gw_ai_tool(gw_stream_proc *p, int index, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
               const gw_json_value *args_str, const gw_json_value *args_obj)
{
    gw_buf d;
    gw_jw w;
    int rc;

    gw_buf_init(&d, 0);
    gw_jw_init(&w, &d);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "tool_calls");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "index");
    gw_jw_int(&w, index);
    gw_ai_tool_fields(&w, id, gen_id, name, args_str, args_obj);
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_object_end(&w);
    rc = gw_jw_finish(&w) != 0 ? gw_proc_fail(p, "out of memory") : gw_ai_delta(p, d.data, d.len);
    gw_buf_free(&d);
    return rc;
}

void gw_ai_tool_call_json(gw_buf *b, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                          const gw_json_value *args_str, const gw_json_value *args_obj)
{
    gw_jw w;
    static const gw_json_value empty_obj = {GW_JSON_OBJECT, "{}", 2};

    gw_jw_init(&w, b);
    gw_jw_object_begin(&w);
    if ((id == NULL || id->type != GW_JSON_STRING) && gen_id == NULL)
        gen_id = "call_0";
    gw_ai_tool_fields(&w, id, gen_id, name, args_str,
                      args_obj != NULL && args_obj->type != GW_JSON_ABSENT ? args_obj : &empty_obj);
    gw_jw_object_end(&w);
}

void gw_ai_set_finish(gw_stream_proc *p, const gw_json_value *r)
{
    static const char *const length[] = {"max_tokens", "MAX_TOKENS", "length", "model_context_window_exceeded"};
    static const char *const tools[] = {"tool_use", "tool_calls", "function_call"};
    static const char *const filter[] = {"SAFETY",  "RECITATION",   "BLOCKLIST", "PROHIBITED_CONTENT",
                                         "SPII",    "IMAGE_SAFETY", "refusal",   "content_filter",
                                         "LANGUAGE"};
    const char *f = "stop"; /* end_turn, stop_sequence, stop, STOP, pause_turn and anything unknown */

    for (size_t i = 0; i < sizeof(length) / sizeof(length[0]); i++)
        if (gw_vj_str_is(r, length[i]))
            f = "length";
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
        if (gw_vj_str_is(r, tools[i]))
            f = "tool_calls";
    for (size_t i = 0; i < sizeof(filter) / sizeof(filter[0]); i++)
        if (gw_vj_str_is(r, filter[i]))
            f = "content_filter";
    snprintf(p->ai_finish, sizeof(p->ai_finish), "%s", f);
}

static const char *gw_ai_finish_reason(const gw_stream_proc *p)
{
    const char *f = p->ai_finish[0] != '\0' ? p->ai_finish : "stop";
    return p->ai_tools > 0 && strcmp(f, "stop") == 0 ? "tool_calls" : f;
}

void gw_ai_write_usage(gw_jw *w, const gw_stream_proc *p)
{
    const gw_usage *u = &p->usage;
    int64_t prompt = u->prompt_tokens;

    if (p->prompt_excludes_cache) /* OpenAI counts cached input in the prompt */
        prompt += u->cache_write_tokens + u->cache_read_tokens;
    gw_jw_object_begin(w);
    gw_jw_key(w, "prompt_tokens");
    gw_jw_int(w, prompt);
    gw_jw_key(w, "completion_tokens");
    gw_jw_int(w, u->response_tokens);
    gw_jw_key(w, "total_tokens");
    gw_jw_int(w, prompt + u->response_tokens);
    gw_jw_key(w, "prompt_tokens_details");
    gw_jw_object_begin(w);
    gw_jw_key(w, "cached_tokens");
    gw_jw_int(w, u->cache_read_tokens);
    gw_jw_object_end(w);
    gw_jw_object_end(w);
}

int gw_ai_end(gw_stream_proc *p)
{
    gw_jw w;

    if (p->ai_done)
        return 0;
    p->ai_done = 1;
    if (gw_ai_delta(p, NULL, 0) != 0 || gw_ai_chunk(p, "{}", 2, gw_ai_finish_reason(p)) != 0)
        return -1;
    if (!p->o.strip_usage_chunk) {
        gw_buf_reset(&p->out);
        gw_buf_puts(&p->out, "data: ");
        gw_jw_init(&w, &p->out);
        gw_ai_head(p, &w, "chat.completion.chunk");
        gw_jw_key(&w, "choices");
        gw_jw_raw(&w, "[]", 2);
        gw_jw_key(&w, "usage");
        gw_ai_write_usage(&w, p);
        gw_jw_object_end(&w);
        if (gw_ai_send_frame(p, &w) != 0)
            return -1;
    }
    return gw_proc_emit(p, "data: [DONE]\n\n", 14);
}

static void gw_ai_error_object(gw_jw *w, const char *msg)
{
    gw_jw_object_begin(w);
    gw_jw_key(w, "error");
    gw_jw_object_begin(w);
    gw_jw_key(w, "message");
    gw_jw_string(w, msg);
    gw_jw_key(w, "type");
    gw_jw_string(w, "upstream_error");
    gw_jw_key(w, "code");
    gw_jw_string(w, "upstream_error");
    gw_jw_object_end(w);
    gw_jw_object_end(w);
}

int gw_ai_error(gw_stream_proc *p, const char *msg)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_buf_puts(&p->out, "data: ");
    gw_jw_init(&w, &p->out);
    gw_ai_error_object(&w, msg);
    return gw_ai_send_frame(p, &w);
}

int gw_ai_error_body(gw_stream_proc *p, const char *msg)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_jw_init(&w, &p->out);
    gw_ai_error_object(&w, msg);
    if (gw_jw_finish(&w) != 0)
        return gw_proc_fail(p, "out of memory writing the error");
    return gw_proc_emit(p, p->out.data, p->out.len);
}

int gw_ai_completion(gw_stream_proc *p, const char *content_inner, size_t clen, const char *tool_calls, size_t tlen)
{
    gw_jw w;

    gw_buf_reset(&p->out);
    gw_jw_init(&w, &p->out);
    gw_ai_head(p, &w, "chat.completion");
    gw_jw_key(&w, "choices");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "index");
    gw_jw_int(&w, 0);
    gw_jw_key(&w, "message");
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "role");
    gw_jw_string(&w, "assistant");
    gw_jw_key(&w, "content");
    if (content_inner != NULL)
        gw_tr_inner(&w, content_inner, clen);
    else
        gw_jw_null(&w);
    if (tool_calls != NULL) {
        gw_jw_key(&w, "tool_calls");
        gw_jw_raw(&w, tool_calls, tlen);
    }
    gw_jw_object_end(&w);
    gw_jw_key(&w, "logprobs");
    gw_jw_null(&w);
    gw_jw_key(&w, "finish_reason");
    gw_jw_string(&w, gw_ai_finish_reason(p));
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_key(&w, "usage");
    gw_ai_write_usage(&w, p);
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0)
        return gw_proc_fail(p, "out of memory writing the translated answer");
    return gw_proc_emit(p, p->out.data, p->out.len);
}

void gw_ai_answer_init(gw_ai_answer *a)
{
    gw_buf_init(&a->text, 0);
    gw_buf_init(&a->tools, 0);
    gw_buf_puts(&a->tools, "[");
    a->ntext = 0;
    a->ntools = 0;
}

void gw_ai_answer_text(gw_ai_answer *a, const gw_json_value *str)
{
    gw_buf_append(&a->text, str->ptr + 1, str->len - 2); /* escaped text, concatenated */
    a->ntext++;
}

void gw_ai_answer_tool(gw_ai_answer *a, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                       const gw_json_value *args_str, const gw_json_value *args_obj)
{
    if (a->ntools++ > 0)
        gw_buf_puts(&a->tools, ",");
    gw_ai_tool_call_json(&a->tools, id, gen_id, name, args_str, args_obj);
}

int gw_ai_answer_send(gw_stream_proc *p, gw_ai_answer *a)
{
    int rc;

    gw_buf_puts(&a->tools, "]");
    p->ai_tools = a->ntools;
    if (a->text.failed || a->tools.failed)
        rc = gw_proc_fail(p, "out of memory translating the answer");
    else
        rc = gw_ai_completion(p, a->ntext > 0 || a->ntools == 0 ? (a->text.data != NULL ? a->text.data : "") : NULL,
                              a->text.len, a->ntools > 0 ? a->tools.data : NULL, a->tools.len);
    gw_buf_free(&a->text);
    gw_buf_free(&a->tools);
    return rc;
}
