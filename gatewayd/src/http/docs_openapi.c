/*
 * src/http/docs_openapi.c: docs/openapi.json as an HTML reference (see
 * docs_openapi.h). The text is validated by gw_json_validate (depth-limited)
 * and then read into a small tree kept in one arena; rendering walks the
 * tree with an explicit depth budget.
 */
#include "http/docs_openapi.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "http/docs_render.h"

#define GW_OA_SCHEMA_DEPTH 6 /* nested schema levels shown */
#define GW_OA_REF_HOPS 8     /* $ref -> $ref chains followed */
#define GW_OA_ID_MAX 200

/* ---- a JSON tree in an arena ---- */

typedef struct gw_jn {
    gw_json_type type;
    const char *key; /* member name inside an object, else NULL */
    const char *str; /* decoded string, or the text of a number */
    struct gw_jn *first, *next;
} gw_jn;

typedef struct gw_arena_chunk {
    struct gw_arena_chunk *prev;
    size_t used, cap;
    char data[];
} gw_arena_chunk;

typedef struct gw_oa {
    gw_arena_chunk *chunks;
    const char *text;
    size_t len, pos;
    const gw_jn *root;
    gw_buf *out;
} gw_oa;

static void *gw_oa_alloc(gw_oa *oa, size_t n)
{
    gw_arena_chunk *c = oa->chunks;
    n = (n + 15) & ~(size_t)15;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        gw_arena_chunk *nc = malloc(sizeof(*nc) + cap);
        if (nc == NULL)
            return NULL;
        nc->prev = c;
        nc->used = 0;
        nc->cap = cap;
        oa->chunks = c = nc;
    }
    c->used += n;
    return c->data + c->used - n;
}

static void gw_oa_free(gw_oa *oa)
{
    while (oa->chunks != NULL) {
        gw_arena_chunk *p = oa->chunks->prev;
        free(oa->chunks);
        oa->chunks = p;
    }
}

static void gw_oa_ws(gw_oa *oa)
{
    while (oa->pos < oa->len && (oa->text[oa->pos] == ' ' || oa->text[oa->pos] == '\t' || oa->text[oa->pos] == '\n' ||
                                 oa->text[oa->pos] == '\r'))
        oa->pos++;
}

/* A string token at pos (already validated): decoded into the arena. */
static const char *gw_oa_string(gw_oa *oa)
{
    size_t start = oa->pos, i = oa->pos + 1;
    gw_json_value v;
    char *s;

    while (i < oa->len && oa->text[i] != '"')
        i += oa->text[i] == '\\' ? 2 : 1;
    oa->pos = i + 1;
    v = (gw_json_value){GW_JSON_STRING, oa->text + start, oa->pos - start};
    if ((s = gw_oa_alloc(oa, v.len)) == NULL)
        return NULL;
    if (gw_json_get_string(&v, s, v.len, NULL) != 0)
        s[0] = '\0'; /* "\u0000" inside: shown as empty */
    return s;
}

/* Reads one value at pos; the text passed gw_json_validate, so the grammar
 * holds and the depth is bounded. */
static gw_jn *gw_oa_value(gw_oa *oa)
{
    gw_jn *n = gw_oa_alloc(oa, sizeof(*n)), **tail;
    char c;

    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof(*n));
    gw_oa_ws(oa);
    c = oa->pos < oa->len ? oa->text[oa->pos] : '\0';
    if (c == '{' || c == '[') {
        n->type = c == '{' ? GW_JSON_OBJECT : GW_JSON_ARRAY;
        tail = &n->first;
        oa->pos++;
        for (;;) {
            const char *key = NULL;
            gw_jn *child;
            gw_oa_ws(oa);
            if (oa->text[oa->pos] == (c == '{' ? '}' : ']')) {
                oa->pos++;
                return n;
            }
            if (c == '{') {
                if ((key = gw_oa_string(oa)) == NULL)
                    return NULL;
                gw_oa_ws(oa);
                oa->pos++; /* ':' */
            }
            if ((child = gw_oa_value(oa)) == NULL)
                return NULL;
            child->key = key;
            *tail = child;
            tail = &child->next;
            gw_oa_ws(oa);
            if (oa->text[oa->pos] == ',')
                oa->pos++;
        }
    }
    if (c == '"') {
        n->type = GW_JSON_STRING;
        return (n->str = gw_oa_string(oa)) != NULL ? n : NULL;
    }
    if (c == 't' || c == 'f' || c == 'n') {
        n->type = c == 't' ? GW_JSON_TRUE : c == 'f' ? GW_JSON_FALSE : GW_JSON_NULL;
        n->str = c == 't' ? "true" : c == 'f' ? "false" : "null";
        oa->pos += c == 'f' ? 5 : 4;
        return n;
    }
    {
        size_t start = oa->pos;
        char *s;
        while (oa->pos < oa->len && strchr("+-0123456789.eE", oa->text[oa->pos]) != NULL)
            oa->pos++;
        if ((s = gw_oa_alloc(oa, oa->pos - start + 1)) == NULL)
            return NULL;
        memcpy(s, oa->text + start, oa->pos - start);
        s[oa->pos - start] = '\0';
        n->type = GW_JSON_NUMBER;
        n->str = s;
    }
    return n;
}

static const gw_jn *gw_jn_get(const gw_jn *obj, const char *key)
{
    if (obj == NULL || obj->type != GW_JSON_OBJECT)
        return NULL;
    for (const gw_jn *c = obj->first; c != NULL; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

static const char *gw_jn_str(const gw_jn *obj, const char *key)
{
    const gw_jn *v = gw_jn_get(obj, key);
    return v != NULL && v->type == GW_JSON_STRING ? v->str : NULL;
}

static const gw_jn *gw_jn_obj(const gw_jn *obj, const char *key)
{
    const gw_jn *v = gw_jn_get(obj, key);
    return v != NULL && v->type == GW_JSON_OBJECT ? v : NULL;
}

/* Follows a local JSON pointer ("#/components/schemas/App"). */
static const gw_jn *gw_oa_pointer(const gw_oa *oa, const char *ref)
{
    const gw_jn *cur = oa->root;
    char seg[256];

    if (ref == NULL || strncmp(ref, "#/", 2) != 0)
        return NULL;
    for (const char *p = ref + 2; cur != NULL;) {
        size_t n = 0;
        while (*p != '\0' && *p != '/' && n + 1 < sizeof(seg)) {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                seg[n++] = p[1] == '0' ? '~' : '/';
                p += 2;
            } else {
                seg[n++] = *p++;
            }
        }
        seg[n] = '\0';
        if (cur->type == GW_JSON_ARRAY) {
            char *end;
            long idx = strtol(seg, &end, 10);
            const gw_jn *c = cur->first;
            if (*end != '\0' || idx < 0)
                return NULL;
            while (c != NULL && idx-- > 0)
                c = c->next;
            cur = c;
        } else {
            cur = gw_jn_get(cur, seg);
        }
        if (*p == '\0')
            return cur;
        if (*p++ != '/')
            return NULL;
    }
    return NULL;
}

/* An object with a local $ref is replaced by its target (a few hops). */
static const gw_jn *gw_oa_deref(const gw_oa *oa, const gw_jn *n)
{
    for (int hops = 0; n != NULL && hops < GW_OA_REF_HOPS; hops++) {
        const char *ref = gw_jn_str(n, "$ref");
        if (ref == NULL)
            return n;
        n = gw_oa_pointer(oa, ref);
    }
    return n != NULL && gw_jn_str(n, "$ref") == NULL ? n : NULL;
}

/* ---- HTML helpers ---- */

static void gw_oa_esc(gw_oa *oa, const char *s)
{
    gw_docs_html_escape_str(oa->out, s);
}

static void gw_oa_put(gw_oa *oa, const char *s)
{
    gw_buf_puts(oa->out, s);
}

/* A Markdown description, rendered safely (links relative to docs/). */
static void gw_oa_md(gw_oa *oa, const char *md, int inline_)
{
    if (md == NULL || md[0] == '\0')
        return;
    if (gw_docs_render_snippet("openapi.json", md, strlen(md), inline_, oa->out) != 0)
        oa->out->failed = 1;
}

/* An id: prefix + the text with every run of other characters than
 * [A-Za-z0-9_] turned into '-'. */
static void gw_oa_id(char *out, size_t cap, const char *prefix, const char *a, const char *b)
{
    size_t n = (size_t)snprintf(out, cap, "%s", prefix);
    const char *parts[2] = {a, b};
    int dash = 0;
    if (n >= cap)
        return;
    for (int k = 0; k < 2; k++) {
        for (const char *p = parts[k]; p != NULL && *p != '\0' && n + 2 < cap; p++) {
            char c = *p;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
                if (dash && out[n - 1] != '-')
                    out[n++] = '-';
                out[n++] = c;
                dash = 0;
            } else {
                dash = 1;
            }
        }
        dash = 1;
    }
    out[n] = '\0';
}

static void gw_oa_scalar(gw_oa *oa, const gw_jn *v)
{
    gw_oa_put(oa, "<code>");
    if (v->type == GW_JSON_STRING) {
        gw_oa_put(oa, "&quot;");
        gw_oa_esc(oa, v->str);
        gw_oa_put(oa, "&quot;");
    } else if (v->type == GW_JSON_OBJECT || v->type == GW_JSON_ARRAY) {
        gw_oa_put(oa, v->type == GW_JSON_OBJECT ? "{…}" : "[…]");
    } else {
        gw_oa_esc(oa, v->str);
    }
    gw_oa_put(oa, "</code>");
}

/* ---- schemas ---- */

static void gw_oa_schema_body(gw_oa *oa, const gw_jn *s, int depth);

/* The one-line summary: type (or a link to a named schema), format, enum,
 * default, constraints. */
static void gw_oa_schema_line(gw_oa *oa, const gw_jn *s, int depth)
{
    const char *ref = gw_jn_str(s, "$ref"), *fmt;
    const gw_jn *type, *v, *items;
    static const char *const limits[] = {"minimum",  "maximum",  "minLength", "maxLength",
                                         "minItems", "maxItems", "pattern"};

    if (s == NULL || s->type != GW_JSON_OBJECT) {
        gw_oa_put(oa, "<span class=\"type\">any</span>");
        return;
    }
    if (ref != NULL) {
        const char *pfx = "#/components/schemas/";
        if (strncmp(ref, pfx, strlen(pfx)) == 0 && strchr(ref + strlen(pfx), '/') == NULL) {
            char id[GW_OA_ID_MAX];
            gw_oa_id(id, sizeof(id), "schema-", ref + strlen(pfx), NULL);
            gw_buf_printf(oa->out, "<a href=\"#%s\"><code>", id);
            gw_oa_esc(oa, ref + strlen(pfx));
            gw_oa_put(oa, "</code></a>");
        } else {
            const gw_jn *t = gw_oa_deref(oa, s);
            if (t != NULL && depth < GW_OA_SCHEMA_DEPTH) {
                gw_oa_schema_line(oa, t, depth + 1);
            } else {
                gw_oa_put(oa, "<code>");
                gw_oa_esc(oa, ref);
                gw_oa_put(oa, "</code>");
            }
        }
        return;
    }
    gw_oa_put(oa, "<span class=\"type\">");
    type = gw_jn_get(s, "type");
    items = gw_jn_obj(s, "items");
    if (type != NULL && type->type == GW_JSON_STRING) {
        gw_oa_esc(oa, type->str);
    } else if (type != NULL && type->type == GW_JSON_ARRAY) { /* 3.1: ["string", "null"] */
        for (const gw_jn *t = type->first; t != NULL; t = t->next)
            if (t->type == GW_JSON_STRING) {
                gw_oa_esc(oa, t->str);
                if (t->next != NULL)
                    gw_oa_put(oa, " | ");
            }
    } else if (gw_jn_get(s, "properties") != NULL) {
        gw_oa_put(oa, "object");
    } else if (gw_jn_get(s, "oneOf") != NULL || gw_jn_get(s, "anyOf") != NULL || gw_jn_get(s, "allOf") != NULL) {
        gw_oa_put(oa, gw_jn_get(s, "oneOf") != NULL ? "one of" : gw_jn_get(s, "anyOf") != NULL ? "any of" : "all of");
    } else {
        gw_oa_put(oa, items != NULL ? "array" : "any");
    }
    if ((fmt = gw_jn_str(s, "format")) != NULL) {
        gw_oa_put(oa, " (");
        gw_oa_esc(oa, fmt);
        gw_oa_put(oa, ")");
    }
    if ((v = gw_jn_get(s, "nullable")) != NULL && v->type == GW_JSON_TRUE)
        gw_oa_put(oa, " | null");
    gw_oa_put(oa, "</span>");
    if (items != NULL) {
        gw_oa_put(oa, " of ");
        if (depth < GW_OA_SCHEMA_DEPTH)
            gw_oa_schema_line(oa, items, depth + 1);
        else
            gw_oa_put(oa, "…");
    }
    if ((v = gw_jn_get(s, "enum")) != NULL && v->type == GW_JSON_ARRAY) {
        gw_oa_put(oa, " — one of ");
        for (const gw_jn *e = v->first; e != NULL; e = e->next) {
            gw_oa_scalar(oa, e);
            if (e->next != NULL)
                gw_oa_put(oa, ", ");
        }
    }
    if ((v = gw_jn_get(s, "default")) != NULL) {
        gw_oa_put(oa, " — default ");
        gw_oa_scalar(oa, v);
    }
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        if ((v = gw_jn_get(s, limits[i])) != NULL && v->type != GW_JSON_OBJECT && v->type != GW_JSON_ARRAY) {
            gw_buf_printf(oa->out, " <span class=\"type\">%s</span> ", limits[i]);
            gw_oa_scalar(oa, v);
        }
    if ((v = gw_jn_get(s, "readOnly")) != NULL && v->type == GW_JSON_TRUE)
        gw_oa_put(oa, " <span class=\"type\">read-only</span>");
    if ((v = gw_jn_get(s, "writeOnly")) != NULL && v->type == GW_JSON_TRUE)
        gw_oa_put(oa, " <span class=\"type\">write-only</span>");
    if ((v = gw_jn_get(s, "deprecated")) != NULL && v->type == GW_JSON_TRUE)
        gw_oa_put(oa, " <span class=\"deprecated\">deprecated</span>");
}

static int gw_oa_is_required(const gw_jn *s, const char *name)
{
    const gw_jn *req = gw_jn_get(s, "required");
    if (req == NULL || req->type != GW_JSON_ARRAY)
        return 0;
    for (const gw_jn *r = req->first; r != NULL; r = r->next)
        if (r->type == GW_JSON_STRING && strcmp(r->str, name) == 0)
            return 1;
    return 0;
}

/* One list entry: [name] line [required] — description, then the body. */
static void gw_oa_schema_item(gw_oa *oa, const char *name, int required, const gw_jn *s, int depth)
{
    const char *desc = gw_jn_str(s, "description");
    gw_oa_put(oa, "<li>");
    if (name != NULL) {
        gw_oa_put(oa, "<code>");
        gw_oa_esc(oa, name);
        gw_oa_put(oa, "</code> ");
    }
    gw_oa_schema_line(oa, s, depth);
    if (required)
        gw_oa_put(oa, "<span class=\"req\">required</span>");
    if (desc != NULL) {
        gw_oa_put(oa, " — ");
        gw_oa_md(oa, desc, 1);
    }
    gw_oa_schema_body(oa, s, depth);
    gw_oa_put(oa, "</li>\n");
}

/* Nested detail: properties, composite members, items' properties,
 * additionalProperties. Named $refs are links, not expanded. */
static void gw_oa_schema_body(gw_oa *oa, const gw_jn *s, int depth)
{
    static const char *const comps[] = {"allOf", "oneOf", "anyOf"};
    const gw_jn *props, *items, *addl;

    if (s == NULL || s->type != GW_JSON_OBJECT || gw_jn_get(s, "$ref") != NULL)
        return;
    if (depth >= GW_OA_SCHEMA_DEPTH) {
        if (gw_jn_get(s, "properties") != NULL)
            gw_oa_put(oa, " …");
        return;
    }
    if ((props = gw_jn_obj(s, "properties")) != NULL && props->first != NULL) {
        gw_oa_put(oa, "<ul class=\"schema\">\n");
        for (const gw_jn *p = props->first; p != NULL; p = p->next)
            gw_oa_schema_item(oa, p->key, gw_oa_is_required(s, p->key), p, depth + 1);
        gw_oa_put(oa, "</ul>\n");
    }
    for (size_t k = 0; k < 3; k++) {
        const gw_jn *arr = gw_jn_get(s, comps[k]);
        if (arr == NULL || arr->type != GW_JSON_ARRAY || arr->first == NULL)
            continue;
        if (gw_jn_get(s, "type") != NULL || props != NULL)
            gw_buf_printf(oa->out, "<div class=\"type\">%s</div>", k == 0 ? "all of" : k == 1 ? "one of" : "any of");
        gw_oa_put(oa, "<ul class=\"schema\">\n");
        for (const gw_jn *m = arr->first; m != NULL; m = m->next)
            gw_oa_schema_item(oa, NULL, 0, m, depth + 1);
        gw_oa_put(oa, "</ul>\n");
    }
    if ((items = gw_jn_obj(s, "items")) != NULL)
        gw_oa_schema_body(oa, items, depth + 1);
    if ((addl = gw_jn_obj(s, "additionalProperties")) != NULL) {
        gw_oa_put(oa, "<ul class=\"schema\">\n");
        gw_oa_schema_item(oa, "*", 0, addl, depth + 1);
        gw_oa_put(oa, "</ul>\n");
    }
}

/* A content map (requestBody.content, response.content). */
static void gw_oa_content(gw_oa *oa, const gw_jn *content)
{
    if (content == NULL || content->type != GW_JSON_OBJECT)
        return;
    for (const gw_jn *mt = content->first; mt != NULL; mt = mt->next) {
        const gw_jn *schema = gw_jn_obj(mt, "schema");
        gw_oa_put(oa, "<div class=\"content\"><code>");
        gw_oa_esc(oa, mt->key);
        gw_oa_put(oa, "</code>");
        if (schema != NULL) {
            gw_oa_put(oa, " ");
            gw_oa_schema_line(oa, schema, 0);
            if (gw_jn_str(schema, "description") != NULL) {
                gw_oa_put(oa, " — ");
                gw_oa_md(oa, gw_jn_str(schema, "description"), 1);
            }
            gw_oa_schema_body(oa, schema, 0);
        }
        gw_oa_put(oa, "</div>\n");
    }
}

/* ---- operations ---- */

static const char *const gw_oa_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

static int gw_oa_is_method(const char *k)
{
    for (size_t i = 0; i < sizeof(gw_oa_methods) / sizeof(gw_oa_methods[0]); i++)
        if (strcmp(k, gw_oa_methods[i]) == 0)
            return 1;
    return 0;
}

static void gw_oa_param_row(gw_oa *oa, const gw_jn *p)
{
    const gw_jn *req = gw_jn_get(p, "required"), *schema = gw_jn_obj(p, "schema");
    gw_oa_put(oa, "<tr><td><code>");
    gw_oa_esc(oa, gw_jn_str(p, "name") != NULL ? gw_jn_str(p, "name") : "?");
    gw_oa_put(oa, "</code></td><td>");
    gw_oa_esc(oa, gw_jn_str(p, "in"));
    gw_oa_put(oa, "</td><td>");
    if (schema != NULL)
        gw_oa_schema_line(oa, schema, GW_OA_SCHEMA_DEPTH - 2);
    gw_oa_put(oa, "</td><td>");
    gw_oa_put(oa, req != NULL && req->type == GW_JSON_TRUE ? "yes" : "no");
    gw_oa_put(oa, "</td><td>");
    gw_oa_md(oa, gw_jn_str(p, "description"), 1);
    gw_oa_put(oa, "</td></tr>\n");
}

static void gw_oa_params(gw_oa *oa, const gw_jn *path_params, const gw_jn *op_params)
{
    const gw_jn *lists[2] = {path_params, op_params};
    int any = 0;

    for (int k = 0; k < 2; k++) {
        if (lists[k] == NULL || lists[k]->type != GW_JSON_ARRAY)
            continue;
        for (const gw_jn *p = lists[k]->first; p != NULL; p = p->next) {
            const gw_jn *d = gw_oa_deref(oa, p);
            if (d == NULL || d->type != GW_JSON_OBJECT)
                continue;
            if (!any)
                gw_oa_put(oa, "<h3>Parameters</h3>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>name</th>"
                              "<th>in</th><th>type</th><th>required</th><th>description</th></tr></thead>\n<tbody>\n");
            any = 1;
            gw_oa_param_row(oa, d);
        }
    }
    if (any)
        gw_oa_put(oa, "</tbody>\n</table></div>\n");
}

static void gw_oa_security(gw_oa *oa, const gw_jn *sec)
{
    if (sec == NULL || sec->type != GW_JSON_ARRAY)
        return;
    gw_oa_put(oa, "<p><span class=\"type\">authentication:</span> ");
    if (sec->first == NULL)
        gw_oa_put(oa, "none");
    for (const gw_jn *alt = sec->first; alt != NULL; alt = alt->next) {
        if (alt->type == GW_JSON_OBJECT && alt->first == NULL)
            gw_oa_put(oa, "none");
        for (const gw_jn *req = alt->type == GW_JSON_OBJECT ? alt->first : NULL; req != NULL; req = req->next) {
            gw_oa_put(oa, "<code>");
            gw_oa_esc(oa, req->key);
            gw_oa_put(oa, "</code>");
            if (req->next != NULL)
                gw_oa_put(oa, " + ");
        }
        if (alt->next != NULL)
            gw_oa_put(oa, " or ");
    }
    gw_oa_put(oa, "</p>\n");
}

static void gw_oa_operation(gw_oa *oa, const char *path, const gw_jn *item, const gw_jn *op, const gw_jn *root_sec)
{
    char id[GW_OA_ID_MAX];
    const char *summary = gw_jn_str(op, "summary");
    const gw_jn *body = gw_oa_deref(oa, gw_jn_obj(op, "requestBody")), *responses = gw_jn_obj(op, "responses"),
                *dep = gw_jn_get(op, "deprecated"), *tags = gw_jn_get(op, "tags"), *sec = gw_jn_get(op, "security");

    gw_oa_id(id, sizeof(id), "op-", op->key, path);
    gw_buf_printf(oa->out, "<section class=\"op\" id=\"%s\">\n<h2><span class=\"method %s\">%s</span> <code>", id,
                  op->key, op->key);
    gw_oa_esc(oa, path);
    gw_oa_put(oa, "</code>");
    if (dep != NULL && dep->type == GW_JSON_TRUE)
        gw_oa_put(oa, " <span class=\"deprecated\">deprecated</span>");
    gw_oa_put(oa, "</h2>\n");
    if (summary != NULL) {
        gw_oa_put(oa, "<p><strong>");
        gw_oa_esc(oa, summary);
        gw_oa_put(oa, "</strong></p>\n");
    }
    gw_oa_md(oa, gw_jn_str(op, "description"), 0);
    if (tags != NULL && tags->type == GW_JSON_ARRAY && tags->first != NULL) {
        gw_oa_put(oa, "<p><span class=\"type\">tags:</span> ");
        for (const gw_jn *t = tags->first; t != NULL; t = t->next)
            if (t->type == GW_JSON_STRING) {
                gw_oa_esc(oa, t->str);
                if (t->next != NULL)
                    gw_oa_put(oa, ", ");
            }
        gw_oa_put(oa, "</p>\n");
    }
    gw_oa_security(oa, sec != NULL ? sec : root_sec);
    gw_oa_params(oa, gw_jn_get(item, "parameters"), gw_jn_get(op, "parameters"));
    if (body != NULL && body->type == GW_JSON_OBJECT) {
        const gw_jn *req = gw_jn_get(body, "required");
        gw_oa_put(oa, "<h3>Request body</h3>\n");
        if (req != NULL && req->type == GW_JSON_TRUE)
            gw_oa_put(oa, "<p><span class=\"req\">required</span></p>\n");
        gw_oa_md(oa, gw_jn_str(body, "description"), 0);
        gw_oa_content(oa, gw_jn_obj(body, "content"));
    }
    if (responses != NULL && responses->first != NULL) {
        gw_oa_put(oa, "<h3>Responses</h3>\n<dl class=\"responses\">\n");
        for (const gw_jn *r = responses->first; r != NULL; r = r->next) {
            const gw_jn *d = gw_oa_deref(oa, r);
            gw_oa_put(oa, "<dt><code>");
            gw_oa_esc(oa, r->key);
            gw_oa_put(oa, "</code> ");
            gw_oa_md(oa, gw_jn_str(d, "description"), 1);
            gw_oa_put(oa, "</dt>\n<dd>");
            gw_oa_content(oa, gw_jn_obj(d, "content"));
            gw_oa_put(oa, "</dd>\n");
        }
        gw_oa_put(oa, "</dl>\n");
    }
    gw_oa_put(oa, "</section>\n");
}

static void gw_oa_toc(gw_oa *oa, const gw_jn *paths)
{
    gw_oa_put(oa, "<h2 id=\"endpoints\">Endpoints</h2>\n<ul class=\"toc\">\n");
    for (const gw_jn *item = paths->first; item != NULL; item = item->next)
        for (const gw_jn *op = item->type == GW_JSON_OBJECT ? item->first : NULL; op != NULL; op = op->next) {
            char id[GW_OA_ID_MAX];
            const char *summary = gw_jn_str(op, "summary");
            if (!gw_oa_is_method(op->key) || op->type != GW_JSON_OBJECT)
                continue;
            gw_oa_id(id, sizeof(id), "op-", op->key, item->key);
            gw_buf_printf(oa->out, "<li><a href=\"#%s\"><span class=\"method %s\">%s</span> <code>", id, op->key,
                          op->key);
            gw_oa_esc(oa, item->key);
            gw_oa_put(oa, "</code></a>");
            if (summary != NULL) {
                gw_oa_put(oa, " ");
                gw_oa_esc(oa, summary);
            }
            gw_oa_put(oa, "</li>\n");
        }
    gw_oa_put(oa, "</ul>\n");
}

int gw_docs_openapi_render(const char *json, size_t len, gw_buf *out, char **title, char err[GW_ERR_LEN])
{
    gw_oa oa;
    char verr[GW_ERR_LEN];
    const gw_jn *info, *paths, *schemas, *servers;
    const char *t, *ver;
    gw_buf tb;

    if (title != NULL)
        *title = NULL;
    if (gw_json_validate(json, len, GW_OPENAPI_MAX_DEPTH, verr) != 0)
        return gw_errf(err, "openapi.json is not valid JSON: %s", verr);
    memset(&oa, 0, sizeof(oa));
    oa.text = json;
    oa.len = len;
    oa.out = out;
    if ((oa.root = gw_oa_value(&oa)) == NULL) {
        gw_oa_free(&oa);
        return gw_errf(err, "openapi.json: out of memory");
    }
    if (oa.root->type != GW_JSON_OBJECT) {
        gw_oa_free(&oa);
        return gw_errf(err, "openapi.json: the document is not a JSON object");
    }
    info = gw_jn_obj(oa.root, "info");
    t = gw_jn_str(info, "title");
    ver = gw_jn_str(info, "version");
    gw_buf_init(&tb, 4096);
    gw_buf_puts(&tb, t != NULL && t[0] != '\0' ? t : "REST API reference");
    if (title != NULL && gw_buf_cstr(&tb) != NULL)
        *title = strdup(tb.data);
    gw_buf_free(&tb);

    gw_oa_put(&oa, "<h1 id=\"top\">");
    gw_oa_esc(&oa, t != NULL && t[0] != '\0' ? t : "REST API reference");
    if (ver != NULL) {
        gw_oa_put(&oa, " <span class=\"type\">");
        gw_oa_esc(&oa, ver);
        gw_oa_put(&oa, "</span>");
    }
    gw_oa_put(&oa, "</h1>\n");
    gw_oa_md(&oa, gw_jn_str(info, "description"), 0);
    gw_oa_put(&oa, "<p>The machine-readable document: <a href=\"/openapi.json\"><code>openapi.json</code></a>");
    if (gw_jn_str(oa.root, "openapi") != NULL) {
        gw_oa_put(&oa, " (OpenAPI ");
        gw_oa_esc(&oa, gw_jn_str(oa.root, "openapi"));
        gw_oa_put(&oa, ")");
    }
    gw_oa_put(&oa, ".</p>\n");
    if ((servers = gw_jn_get(oa.root, "servers")) != NULL && servers->type == GW_JSON_ARRAY && servers->first) {
        gw_oa_put(&oa, "<p><span class=\"type\">servers:</span> ");
        for (const gw_jn *s = servers->first; s != NULL; s = s->next)
            if (gw_jn_str(s, "url") != NULL) {
                gw_oa_put(&oa, "<code>");
                gw_oa_esc(&oa, gw_jn_str(s, "url"));
                gw_oa_put(&oa, "</code> ");
            }
        gw_oa_put(&oa, "</p>\n");
    }
    paths = gw_jn_obj(oa.root, "paths");
    if (paths == NULL || paths->first == NULL) {
        gw_oa_put(&oa, "<p class=\"note\">The document describes no paths.</p>\n");
    } else {
        gw_oa_toc(&oa, paths);
        for (const gw_jn *item = paths->first; item != NULL; item = item->next) {
            const gw_jn *it = gw_oa_deref(&oa, item);
            for (const gw_jn *op = it != NULL && it->type == GW_JSON_OBJECT ? it->first : NULL; op != NULL;
                 op = op->next)
                if (gw_oa_is_method(op->key) && op->type == GW_JSON_OBJECT)
                    gw_oa_operation(&oa, item->key, it, op, gw_jn_get(oa.root, "security"));
        }
    }
    schemas = gw_jn_obj(gw_jn_obj(oa.root, "components"), "schemas");
    if (schemas != NULL && schemas->first != NULL) {
        gw_oa_put(&oa, "<h2 id=\"schemas\">Schemas</h2>\n");
        for (const gw_jn *s = schemas->first; s != NULL; s = s->next) {
            char id[GW_OA_ID_MAX];
            gw_oa_id(id, sizeof(id), "schema-", s->key, NULL);
            gw_buf_printf(out, "<section class=\"op\" id=\"%s\">\n<h2><code>", id);
            gw_oa_esc(&oa, s->key);
            gw_oa_put(&oa, "</code></h2>\n");
            gw_oa_md(&oa, gw_jn_str(s, "description"), 0);
            gw_oa_put(&oa, "<p>");
            gw_oa_schema_line(&oa, s, 0);
            gw_oa_put(&oa, "</p>\n");
            gw_oa_schema_body(&oa, s, 0);
            gw_oa_put(&oa, "</section>\n");
        }
    }
    gw_oa_free(&oa);
    if (out->failed) {
        if (title != NULL) {
            free(*title);
            *title = NULL;
        }
        return gw_errf(err, "openapi.json: the rendered reference is too large");
    }
    return 0;
}
