/*
 * src/vendors/tr.c: reading an OpenAI chat-completions request for the
 * wire files that translate it (/ai, see translate.c): roles, the text of
 * content values, image parts, tool arguments and names, stop, the output
 * cap, and writing JSON pieces of it into the vendor's request. Calls no
 * wire file and no dispatcher.
 */
#include <stdio.h>
#include <string.h>

#include "vendors/vendor_int.h"

int gw_tr_role(const gw_json_value *msg, char *role, size_t cap)
{
    gw_json_value r;

    if (!gw_vj_get(msg, "role", &r) || gw_vj_str_copy(&r, role, cap) <= 0)
        return -1;
    if (strcmp(role, "developer") == 0)
        snprintf(role, cap, "system");
    if (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
        strcmp(role, "tool") != 0 && strcmp(role, "function") != 0)
        return -1;
    return 0;
}

/* The text of a content value as escaped JSON string text (no quotes):
 * a string, or the "text" of the parts of an array joined by sep. */
int gw_tr_text(const gw_json_value *content, gw_buf *b, const char *sep)
{
    gw_vj_iter it;
    gw_json_value part, v;
    int n = 0;

    if (content->type == GW_JSON_STRING) {
        gw_buf_append(b, content->ptr + 1, content->len - 2);
        return 1;
    }
    gw_vj_iter_init(&it, content);
    while (gw_vj_next_elem(&it, &part)) {
        if (part.type == GW_JSON_STRING)
            v = part;
        else if (!gw_vj_get(&part, "text", &v) || v.type != GW_JSON_STRING)
            continue;
        if (n++ > 0)
            gw_buf_puts(b, sep);
        gw_buf_append(b, v.ptr + 1, v.len - 2);
    }
    return n;
}

/* Writes escaped string text (no quotes) as one JSON string value. */
void gw_tr_inner(gw_jw *w, const char *inner, size_t n)
{
    gw_jw_raw(w, "\"", 1);
    gw_buf_append(w->b, inner, n);
    gw_buf_append(w->b, "\"", 1);
}

/* Writes the text of a content value as one JSON string. */
void gw_tr_text_value(gw_jw *w, const gw_json_value *content, gw_buf *tmp)
{
    gw_buf_reset(tmp);
    gw_buf_puts(tmp, "\"");
    if (content != NULL && content->type != GW_JSON_ABSENT)
        gw_tr_text(content, tmp, "\\n");
    gw_buf_puts(tmp, "\"");
    gw_jw_raw(w, tmp->data, tmp->len);
}

/* An image_url part: decoded URL in tmp; for a data: URL, the media type
 * and the base64 payload (pointers into tmp). 0, or -1 when not an image. */
int gw_tr_image(const gw_json_value *part, gw_buf *tmp, const char **mime, size_t *mlen, const char **data)
{
    gw_json_value t, u;

    if (!gw_vj_get(part, "type", &t) || !gw_vj_str_is(&t, "image_url") || !gw_vj_get(part, "image_url", &u))
        return -1;
    if (u.type == GW_JSON_OBJECT && !gw_vj_get(&u, "url", &u))
        return -1;
    gw_buf_reset(tmp);
    if (gw_vj_str_append(&u, tmp) != 0 || gw_buf_cstr(tmp) == NULL)
        return -1;
    *mime = NULL;
    *data = NULL;
    *mlen = 0;
    if (strncmp(tmp->data, "data:", 5) == 0) {
        const char *b64 = strstr(tmp->data, ";base64,");
        if (b64 == NULL)
            return -1;
        *mime = tmp->data + 5;
        *mlen = (size_t)(b64 - tmp->data - 5);
        *data = b64 + 8;
    }
    return 0;
}

/* The object an OpenAI "arguments" string holds ({} when it is not one). */
void gw_tr_args(gw_jw *w, const gw_json_value *args, gw_buf *tmp)
{
    if (args != NULL && args->type == GW_JSON_OBJECT) {
        gw_jw_raw(w, args->ptr, args->len);
        return;
    }
    gw_buf_reset(tmp);
    if (args != NULL && args->type == GW_JSON_STRING && gw_vj_str_append(args, tmp) == 0 && tmp->len > 0 &&
        gw_json_validate(tmp->data, tmp->len, GW_JSON_DEFAULT_MAX_DEPTH, NULL) == 0) {
        gw_json_value v;
        gw_vj_parse(tmp->data, tmp->len, &v, NULL);
        if (v.type == GW_JSON_OBJECT) {
            gw_jw_raw(w, v.ptr, v.len);
            return;
        }
    }
    gw_jw_raw(w, "{}", 2);
}

void gw_tr_raw(gw_jw *w, const char *key, const gw_json_value *v)
{
    gw_jw_key(w, key);
    gw_jw_raw(w, v->ptr, v->len);
}

/* stop as an array of strings */
void gw_tr_stop(gw_jw *w, const char *key, const gw_json_value *stop)
{
    gw_jw_key(w, key);
    if (stop->type == GW_JSON_STRING) {
        gw_jw_array_begin(w);
        gw_jw_raw(w, stop->ptr, stop->len);
        gw_jw_array_end(w);
    } else {
        gw_jw_raw(w, stop->ptr, stop->len);
    }
}

int64_t gw_tr_max_tokens(gw_tr *t)
{
    int64_t n;

    if (gw_json_get_int64(TRV(t, TR_MAX_COMPLETION_TOKENS), &n) == 0)
        return n;
    if (gw_json_get_int64(TRV(t, TR_MAX_TOKENS), &n) == 0)
        return n;
    return -1;
}

/* The JSON object a string holds, parsed out of tmp (1), else 0. */
int gw_tr_json_obj(const gw_json_value *str, gw_buf *tmp, gw_json_value *out)
{
    gw_buf_reset(tmp);
    if (str->type != GW_JSON_STRING || gw_vj_str_append(str, tmp) != 0 || tmp->len == 0 ||
        gw_vj_parse(tmp->data, tmp->len, out, NULL) != 0)
        return 0;
    return out->type == GW_JSON_OBJECT;
}

/* The function name of the assistant tool call with this id. */
int gw_tr_tool_name(const gw_json_value *messages, const gw_json_value *id, gw_json_value *name)
{
    gw_vj_iter it, ct;
    gw_json_value m, calls, call, cid;

    gw_vj_iter_init(&it, messages);
    while (gw_vj_next_elem(&it, &m)) {
        if (!gw_vj_get(&m, "tool_calls", &calls))
            continue;
        gw_vj_iter_init(&ct, &calls);
        while (gw_vj_next_elem(&ct, &call))
            if (gw_vj_get(&call, "id", &cid) && cid.len == id->len && memcmp(cid.ptr, id->ptr, id->len) == 0 &&
                gw_vj_path(&call, "function.name", name) && name->type == GW_JSON_STRING)
                return 1;
    }
    return 0;
}

void gw_tr_sampling(gw_tr *t, gw_jw *w, const gw_tr_keys *k)
{
    int64_t mt = gw_tr_max_tokens(t);

    if (k->temperature != NULL && TR_HAS(t, TR_TEMPERATURE))
        gw_tr_raw(w, k->temperature, TRV(t, TR_TEMPERATURE));
    if (k->top_p != NULL && TR_HAS(t, TR_TOP_P))
        gw_tr_raw(w, k->top_p, TRV(t, TR_TOP_P));
    if (k->max_tokens != NULL && mt > 0) {
        gw_jw_key(w, k->max_tokens);
        gw_jw_int(w, mt);
        t->out->max_tokens = mt;
    }
    if (k->stop != NULL && TR_HAS(t, TR_STOP))
        gw_tr_stop(w, k->stop, TRV(t, TR_STOP));
    if (k->seed != NULL && TR_HAS(t, TR_SEED))
        gw_tr_raw(w, k->seed, TRV(t, TR_SEED));
    if (k->presence != NULL && TR_HAS(t, TR_PRESENCE))
        gw_tr_raw(w, k->presence, TRV(t, TR_PRESENCE));
    if (k->frequency != NULL && TR_HAS(t, TR_FREQUENCY))
        gw_tr_raw(w, k->frequency, TRV(t, TR_FREQUENCY));
    if (k->n != NULL && TR_HAS(t, TR_N))
        gw_tr_raw(w, k->n, TRV(t, TR_N));
}
