/*
 * src/pipeline/text.c: the text parts of requests, answers and stream units
 * per dialect, and their write-back (see text.h). The JSON is validated
 * once (gw_vj_parse) and then navigated in place (base/vjson.h); a part
 * remembers the span of its string literal, so writing back copies the
 * source and re-encodes only the replaced strings (gw_json_escape).
 */
#include "pipeline/text.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/vjson.h"

void gw_text_init(gw_text *t)
{
    memset(t, 0, sizeof(*t));
    gw_buf_init(&t->arena, 0);
    gw_buf_init(&t->repl, 0);
    gw_buf_init(&t->joined, 0);
}

void gw_text_reset(gw_text *t)
{
    t->n = 0;
    gw_buf_reset(&t->arena);
    gw_buf_reset(&t->repl);
    gw_buf_reset(&t->joined);
    t->src = t->unit = NULL;
    t->src_len = t->unit_len = t->json_at = 0;
    t->multi_data = t->end = t->done_marker = t->opens = 0;
    t->dialect = GW_DIALECT_NONE;
}

void gw_text_free(gw_text *t)
{
    free(t->parts);
    gw_buf_free(&t->arena);
    gw_buf_free(&t->repl);
    gw_buf_free(&t->joined);
    memset(t, 0, sizeof(*t));
}

/* ---- collecting parts ---- */

/* Adds the string value v (a span of t->src) as a part. */
static int gw_text_add(gw_text *t, const gw_json_value *v, const char *role, int channel, int whole)
{
    gw_text_part *p;

    if (v->type != GW_JSON_STRING)
        return 0;
    if (t->n == t->cap) {
        size_t ncap = t->cap < 8 ? 8 : t->cap * 2;
        gw_text_part *np = realloc(t->parts, ncap * sizeof(*np));
        if (np == NULL)
            return -1;
        t->parts = np;
        t->cap = ncap;
    }
    p = &t->parts[t->n];
    memset(p, 0, sizeof(*p));
    p->off = t->arena.len;
    if (gw_vj_str_append(v, &t->arena) != 0 || gw_buf_append(&t->arena, "", 1) != 0)
        return -1;
    p->len = t->arena.len - 1 - p->off;
    snprintf(p->role, sizeof(p->role), "%s", role != NULL ? role : "");
    p->channel = channel;
    p->whole = whole;
    p->at = (size_t)(v->ptr - t->src);
    p->span = v->len;
    t->n++;
    return 0;
}

static void gw_text_role(const gw_json_value *obj, char role[GW_TEXT_ROLE_MAX], const char *dflt)
{
    gw_json_value r;
    if (gw_vj_get(obj, "role", &r) && r.type == GW_JSON_STRING && gw_vj_str_copy(&r, role, GW_TEXT_ROLE_MAX) >= 0)
        return;
    snprintf(role, GW_TEXT_ROLE_MAX, "%s", dflt);
}

/* A channel: the member "index" when it is a small integer, else the ordinal. */
static int gw_text_index(const gw_json_value *obj, int ordinal)
{
    int64_t ix;
    if (gw_vj_int(obj, "index", &ix) == 0 && ix >= 0 && ix < 1000000)
        return (int)ix;
    return ordinal;
}

/* content: a string, or parts {type:text|input_text|output_text, text} (and
 * Anthropic's tool_result blocks, whose content is the same again). */
static int gw_text_content(gw_text *t, const gw_json_value *content, const char *role, int channel, int depth)
{
    gw_vj_iter it;
    gw_json_value part, ty, tx;

    if (content->type == GW_JSON_STRING)
        return gw_text_add(t, content, role, channel, 0);
    if (content->type != GW_JSON_ARRAY || depth > 1)
        return 0;
    gw_vj_iter_init(&it, content);
    while (gw_vj_next_elem(&it, &part)) {
        if (part.type != GW_JSON_OBJECT || !gw_vj_get(&part, "type", &ty))
            continue;
        if ((gw_vj_str_is(&ty, "text") || gw_vj_str_is(&ty, "input_text") || gw_vj_str_is(&ty, "output_text")) &&
            gw_vj_get(&part, "text", &tx)) {
            if (gw_text_add(t, &tx, role, channel, 0) != 0)
                return -1;
        } else if (gw_vj_str_is(&ty, "tool_result") && gw_vj_get(&part, "content", &tx)) {
            if (gw_text_content(t, &tx, "tool", channel, depth + 1) != 0)
                return -1;
        }
    }
    return 0;
}

/* messages[] with role and content (OpenAI chat, Anthropic, Ollama chat). */
static int gw_text_messages(gw_text *t, const gw_json_value *root)
{
    gw_json_value msgs, m, c;
    gw_vj_iter it;
    char role[GW_TEXT_ROLE_MAX];

    if (!gw_vj_get(root, "messages", &msgs))
        return 0;
    gw_vj_iter_init(&it, &msgs);
    while (gw_vj_next_elem(&it, &m)) {
        if (m.type != GW_JSON_OBJECT || !gw_vj_get(&m, "content", &c))
            continue;
        gw_text_role(&m, role, "user");
        if (gw_text_content(t, &c, role, 0, 0) != 0)
            return -1;
    }
    return 0;
}

/* Google's parts[].text of a Content object. */
static int gw_text_google_parts(gw_text *t, const gw_json_value *content, const char *role, int channel, int whole)
{
    gw_json_value parts, p, tx;
    gw_vj_iter it;

    if (content->type != GW_JSON_OBJECT || !gw_vj_get(content, "parts", &parts))
        return 0;
    gw_vj_iter_init(&it, &parts);
    while (gw_vj_next_elem(&it, &p))
        if (p.type == GW_JSON_OBJECT && gw_vj_get(&p, "text", &tx) && gw_text_add(t, &tx, role, channel, whole) != 0)
            return -1;
    return 0;
}

static int gw_text_prompt_root(gw_text *t, gw_dialect d, const gw_json_value *root)
{
    gw_json_value v, e;
    gw_vj_iter it;
    char role[GW_TEXT_ROLE_MAX];

    switch (d) {
    case GW_DIALECT_OPENAI_CHAT:
    case GW_DIALECT_OLLAMA_CHAT:
        return gw_text_messages(t, root);
    case GW_DIALECT_OPENAI_COMPLETIONS:
        if (!gw_vj_get(root, "prompt", &v))
            return 0;
        if (v.type == GW_JSON_STRING)
            return gw_text_add(t, &v, "user", 0, 0);
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e))
            if (gw_text_add(t, &e, "user", 0, 0) != 0)
                return -1;
        return 0;
    case GW_DIALECT_OPENAI_RESPONSES:
        if (gw_vj_get(root, "instructions", &v) && gw_text_add(t, &v, "system", 0, 0) != 0)
            return -1;
        if (!gw_vj_get(root, "input", &v))
            return 0;
        if (v.type == GW_JSON_STRING)
            return gw_text_add(t, &v, "user", 0, 0);
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            gw_json_value c;
            if (e.type != GW_JSON_OBJECT || !gw_vj_get(&e, "content", &c))
                continue;
            gw_text_role(&e, role, "user");
            if (gw_text_content(t, &c, role, 0, 0) != 0)
                return -1;
        }
        return 0;
    case GW_DIALECT_TGI:
        return gw_vj_get(root, "inputs", &v) ? gw_text_add(t, &v, "user", 0, 0) : 0;
    case GW_DIALECT_ANTHROPIC:
        if (gw_vj_get(root, "system", &v) && gw_text_content(t, &v, "system", 0, 0) != 0)
            return -1;
        return gw_text_messages(t, root);
    case GW_DIALECT_GOOGLE:
        if ((gw_vj_get(root, "systemInstruction", &v) || gw_vj_get(root, "system_instruction", &v)) &&
            gw_text_google_parts(t, &v, "system", 0, 0) != 0)
            return -1;
        if (!gw_vj_get(root, "contents", &v))
            return 0;
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            gw_text_role(&e, role, "user");
            if (gw_text_google_parts(t, &e, role, 0, 0) != 0)
                return -1;
        }
        return 0;
    case GW_DIALECT_OLLAMA_GENERATE:
        if (gw_vj_get(root, "system", &v) && gw_text_add(t, &v, "system", 0, 0) != 0)
            return -1;
        return gw_vj_get(root, "prompt", &v) ? gw_text_add(t, &v, "user", 0, 0) : 0;
    default:
        return 0;
    }
}

/* The text of an answer object (a whole JSON answer, or one stream chunk:
 * unit = 1 reads deltas and end markers). */
static int gw_text_answer_root(gw_text *t, gw_dialect d, const gw_json_value *root, int unit)
{
    gw_json_value v, e, x, ty;
    gw_vj_iter it;
    int ord = 0;

    if (root->type != GW_JSON_OBJECT) {
        /* TGI answers [{"generated_text": …}] */
        if (d == GW_DIALECT_TGI && root->type == GW_JSON_ARRAY) {
            gw_vj_iter_init(&it, root);
            while (gw_vj_next_elem(&it, &e))
                if (e.type == GW_JSON_OBJECT && gw_vj_get(&e, "generated_text", &x) &&
                    gw_text_add(t, &x, "assistant", ord++, 0) != 0)
                    return -1;
        }
        return 0;
    }
    switch (d) {
    case GW_DIALECT_OPENAI_CHAT:
    case GW_DIALECT_OPENAI_COMPLETIONS:
        if (!gw_vj_get(root, "choices", &v))
            return 0;
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            int ch = gw_text_index(&e, ord++);
            gw_json_value m;
            if (e.type != GW_JSON_OBJECT)
                continue;
            if (gw_vj_get(&e, unit ? "delta" : "message", &m) && m.type == GW_JSON_OBJECT) {
                if ((gw_vj_get(&m, "content", &x) && gw_text_content(t, &x, "assistant", ch, 0) != 0) ||
                    (gw_vj_get(&m, "refusal", &x) && gw_text_add(t, &x, "assistant", ch, 0) != 0))
                    return -1;
            }
            if (gw_vj_get(&e, "text", &x) && gw_text_add(t, &x, "assistant", ch, 0) != 0)
                return -1;
            if (unit && gw_vj_get(&e, "finish_reason", &x) && x.type == GW_JSON_STRING)
                t->end = 1;
        }
        return 0;
    case GW_DIALECT_OPENAI_RESPONSES:
        if (unit && gw_vj_get(root, "type", &ty)) {
            int64_t oi = 0, ci = 0;
            gw_vj_int(root, "output_index", &oi);
            gw_vj_int(root, "content_index", &ci);
            if (gw_vj_str_is(&ty, "response.output_text.delta"))
                return gw_vj_get(root, "delta", &x) ? gw_text_add(t, &x, "assistant", (int)(oi * 64 + ci), 0) : 0;
            if (gw_vj_str_is(&ty, "response.output_text.done")) {
                t->end = 1;
                return gw_vj_get(root, "text", &x) ? gw_text_add(t, &x, "assistant", (int)(oi * 64 + ci), 1) : 0;
            }
            if (gw_vj_str_is(&ty, "response.completed") || gw_vj_str_is(&ty, "response.incomplete")) {
                t->end = 1;
                if (!gw_vj_get(root, "response", &x))
                    return 0;
                root = &x;
            } else {
                return 0;
            }
        }
        if (!gw_vj_get(root, "output", &v))
            return 0;
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            gw_json_value c;
            if (e.type == GW_JSON_OBJECT && gw_vj_get(&e, "content", &c) &&
                gw_text_content(t, &c, "assistant", ord++, unit) != 0)
                return -1;
        }
        return 0;
    case GW_DIALECT_TGI:
        if (unit && gw_vj_get(root, "token", &v) && v.type == GW_JSON_OBJECT && gw_vj_get(&v, "text", &x) &&
            gw_text_add(t, &x, "assistant", 0, 0) != 0)
            return -1;
        if (gw_vj_get(root, "generated_text", &x) && x.type == GW_JSON_STRING) {
            if (unit)
                t->end = 1;
            return gw_text_add(t, &x, "assistant", unit ? 1000000 : 0, unit);
        }
        return 0;
    case GW_DIALECT_ANTHROPIC:
        if (unit) {
            int ch;
            if (!gw_vj_get(root, "type", &ty))
                return 0;
            ch = gw_text_index(root, 0);
            if (gw_vj_str_is(&ty, "content_block_delta"))
                return gw_vj_get(root, "delta", &v) && gw_vj_get(&v, "type", &x) && gw_vj_str_is(&x, "text_delta") &&
                               gw_vj_get(&v, "text", &x)
                           ? gw_text_add(t, &x, "assistant", ch, 0)
                           : 0;
            if (gw_vj_str_is(&ty, "content_block_start") && (t->opens = 1))
                return gw_vj_get(root, "content_block", &v) && gw_vj_get(&v, "type", &x) &&
                               gw_vj_str_is(&x, "text") && gw_vj_get(&v, "text", &x)
                           ? gw_text_add(t, &x, "assistant", ch, 0)
                           : 0;
            if (gw_vj_str_is(&ty, "content_block_stop") || gw_vj_str_is(&ty, "message_delta") ||
                gw_vj_str_is(&ty, "message_stop"))
                t->end = 1;
            return 0;
        }
        if (!gw_vj_get(root, "content", &v))
            return 0;
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            int ch = ord++;
            if (e.type == GW_JSON_OBJECT && gw_vj_get(&e, "type", &ty) && gw_vj_str_is(&ty, "text") &&
                gw_vj_get(&e, "text", &x) && gw_text_add(t, &x, "assistant", ch, 0) != 0)
                return -1;
        }
        return 0;
    case GW_DIALECT_GOOGLE:
        if (!gw_vj_get(root, "candidates", &v))
            return 0;
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            int ch = gw_text_index(&e, ord++);
            if (e.type != GW_JSON_OBJECT)
                continue;
            if (gw_vj_get(&e, "content", &x) && gw_text_google_parts(t, &x, "assistant", ch, 0) != 0)
                return -1;
            if (unit && gw_vj_get(&e, "finishReason", &x) && x.type == GW_JSON_STRING)
                t->end = 1;
        }
        return 0;
    case GW_DIALECT_OLLAMA_CHAT:
    case GW_DIALECT_OLLAMA_GENERATE:
        if (d == GW_DIALECT_OLLAMA_CHAT ? gw_vj_get(root, "message", &v) && gw_vj_get(&v, "content", &x)
                                        : gw_vj_get(root, "response", &x)) {
            if (gw_text_add(t, &x, "assistant", 0, 0) != 0)
                return -1;
        }
        if (unit && gw_vj_get(root, "done", &x) && x.type == GW_JSON_TRUE)
            t->end = 1;
        return 0;
    default:
        return 0;
    }
}

static int gw_text_parse(gw_text *t, gw_dialect d, const char *json, size_t len, gw_json_value *root,
                         char err[GW_ERR_LEN])
{
    t->dialect = d;
    t->src = json;
    t->src_len = len;
    if (d == GW_DIALECT_NONE || len == 0)
        return 1;
    return gw_vj_parse(json, len, root, err) != 0 ? -1 : 0;
}

int gw_text_prompt(gw_text *t, gw_dialect d, const char *body, size_t len, char err[GW_ERR_LEN])
{
    gw_json_value root;
    int rc;

    gw_text_reset(t);
    rc = gw_text_parse(t, d, body, len, &root, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (root.type != GW_JSON_OBJECT)
        return 0;
    return gw_text_prompt_root(t, d, &root) != 0 ? gw_errf(err, "out of memory reading the prompt") : 0;
}

int gw_text_answer(gw_text *t, gw_dialect d, const char *body, size_t len, char err[GW_ERR_LEN])
{
    gw_json_value root;
    int rc;

    gw_text_reset(t);
    rc = gw_text_parse(t, d, body, len, &root, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    return gw_text_answer_root(t, d, &root, 0) != 0 ? gw_errf(err, "out of memory reading the answer") : 0;
}

/* ---- stream units ---- */

static const char *gw_text_trim(const char *p, const char *end, const char **out_end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    *out_end = end;
    return p;
}

/* The JSON of an SSE event: its data lines (one in place, several joined
 * into t->joined). *json NULL when the event has no data. */
static int gw_text_sse_data(gw_text *t, const char *ev, size_t n, const char **json, size_t *jlen)
{
    const char *s = ev, *end = ev + n;
    int ndata = 0;

    *json = NULL;
    *jlen = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl != NULL ? nl : end, *next = nl != NULL ? nl + 1 : end;
        if (le > s && le[-1] == '\r')
            le--;
        if ((size_t)(le - s) >= 5 && memcmp(s, "data:", 5) == 0) {
            const char *v = s + 5;
            if (v < le && *v == ' ')
                v++;
            if (ndata == 0) {
                *json = v;
                *jlen = (size_t)(le - v);
                t->json_at = (size_t)(v - ev);
            } else {
                if (ndata == 1) {
                    gw_buf_reset(&t->joined);
                    gw_buf_append(&t->joined, *json, *jlen);
                }
                gw_buf_append(&t->joined, "\n", 1);
                gw_buf_append(&t->joined, v, (size_t)(le - v));
            }
            ndata++;
        }
        s = next;
    }
    if (ndata > 1) {
        if (t->joined.failed)
            return -1;
        t->multi_data = 1;
        *json = t->joined.data;
        *jlen = t->joined.len;
    }
    return 0;
}

int gw_text_unit(gw_text *t, gw_dialect d, gw_proc_mode mode, const char *unit, size_t len, char err[GW_ERR_LEN])
{
    const char *json = NULL, *jend;
    size_t jlen = 0;
    gw_json_value root;

    if (mode == GW_PROC_JSON || mode == GW_PROC_AI_JSON)
        return gw_text_answer(t, d, unit, len, err);
    gw_text_reset(t);
    t->dialect = d;
    t->unit = unit;
    t->unit_len = len;
    if (d == GW_DIALECT_NONE)
        return 0;
    if (mode == GW_PROC_SSE || mode == GW_PROC_AI_SSE) {
        if (gw_text_sse_data(t, unit, len, &json, &jlen) != 0)
            return gw_errf(err, "out of memory reading a stream event");
        if (json == NULL)
            return 0;
        {
            const char *e2, *j2 = gw_text_trim(json, json + jlen, &e2);
            if (e2 - j2 == 6 && memcmp(j2, "[DONE]", 6) == 0) {
                t->done_marker = t->end = 1;
                return 0;
            }
        }
    } else {
        /* an NDJSON line, or a JSON array element after its separator */
        const char *p = unit, *end = unit + len;
        while (p < end && *p != '{' && *p != '[' && *p != '"')
            p++;
        if (mode == GW_PROC_JSON_ARRAY && p < end && *p == '[') /* the array's own bracket */
            for (p++; p < end && *p != '{'; p++)
                ;
        if (p >= end)
            return 0;
        json = gw_text_trim(p, end, &jend);
        jlen = (size_t)(jend - json);
        t->json_at = (size_t)(json - unit);
    }
    t->src = json;
    t->src_len = jlen;
    if (jlen == 0)
        return 0;
    if (gw_vj_parse(json, jlen, &root, err) != 0)
        return -1;
    return gw_text_answer_root(t, d, &root, 1) != 0 ? gw_errf(err, "out of memory reading a stream unit") : 0;
}

/* ---- write-back ---- */

int gw_text_replace(gw_text *t, size_t i, const char *text, size_t len)
{
    gw_text_part *p;
    if (i >= t->n)
        return -1;
    p = &t->parts[i];
    p->repl_off = t->repl.len;
    if (gw_buf_append(&t->repl, text, len) != 0)
        return -1;
    p->repl_len = len;
    p->replaced = 1;
    return 0;
}

int gw_text_changed(const gw_text *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->parts[i].replaced)
            return 1;
    return 0;
}

/* The source with the replaced strings re-encoded, in source order. */
static int gw_text_write_json(const gw_text *t, gw_buf *out)
{
    size_t pos = 0;

    for (;;) {
        const gw_text_part *next = NULL;
        for (size_t i = 0; i < t->n; i++) {
            const gw_text_part *p = &t->parts[i];
            if (p->replaced && p->at >= pos && (next == NULL || p->at < next->at))
                next = p;
        }
        if (next == NULL)
            break;
        gw_buf_append(out, t->src + pos, next->at - pos);
        gw_json_escape(out, t->repl.data + next->repl_off, next->repl_len);
        pos = next->at + next->span;
    }
    gw_buf_append(out, t->src + pos, t->src_len - pos);
    return out->failed ? -1 : 0;
}

int gw_text_write(const gw_text *t, gw_buf *out)
{
    if (t->unit == NULL) /* a body or a whole answer */
        return gw_text_write_json(t, out);
    if (t->src == NULL || t->src_len == 0) {
        gw_buf_append(out, t->unit, t->unit_len);
        return out->failed ? -1 : 0;
    }
    if (!t->multi_data) {
        size_t after = t->json_at + t->src_len;
        gw_buf_append(out, t->unit, t->json_at);
        gw_text_write_json(t, out);
        gw_buf_append(out, t->unit + after, t->unit_len - after);
        return out->failed ? -1 : 0;
    }
    /* several data lines: the other fields as they were, one data line */
    {
        const char *s = t->unit, *end = t->unit + t->unit_len;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            const char *next = nl != NULL ? nl + 1 : end;
            if (!((size_t)(next - s) >= 5 && memcmp(s, "data:", 5) == 0) && next - s > 1 &&
                !(next - s == 2 && s[0] == '\r'))
                gw_buf_append(out, s, (size_t)(next - s));
            s = next;
        }
        gw_buf_puts(out, "data: ");
        gw_text_write_json(t, out);
        gw_buf_puts(out, "\n\n");
    }
    return out->failed ? -1 : 0;
}

/* ---- sizes ---- */

size_t gw_text_bytes(const gw_text *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->parts[i].len;
    return n;
}

size_t gw_text_chars(const gw_text *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const unsigned char *s = (const unsigned char *)gw_text_str(t, &t->parts[i]);
        size_t len = t->parts[i].len, k = 0;
        while (k < len) {
            size_t sl = gw_utf8_seq_len(s + k, len - k);
            k += sl > 0 ? sl : 1;
            n++;
        }
    }
    return n;
}
