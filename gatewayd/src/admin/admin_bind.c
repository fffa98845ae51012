/*
 * src/admin/admin_bind.c: a request turned into the statement parameters
 * of its operation (see admin_bind.h).
 *
 * Path parameters ("{id}": a positive integer, "{name}": text
 * without control characters) go to $1/$2; query parameters and body fields
 * to the $n their table row names, checked for type here so a wrong type is
 * a 400 naming the field (values themselves are checked by the database);
 * an unknown field or query parameter is a 400 too, so a typo never passes
 * silently. Bodies are parsed with the validating reader of base/json.c
 * (depth limit, strict grammar and UTF-8, no duplicate fields).
 */
#include "admin/admin_bind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/url.h"

#define GW_ADMIN_MAX_FIELDS 24
#define GW_ADMIN_MAX_ARRAY 10000

static int gw_bad(gw_admin_req *r, const char *code, const char *fmt, const char *name)
{
    char msg[GW_ERR_LEN];
    snprintf(msg, sizeof(msg), fmt, name);
    gw_admin_send_error(r, 400, msg, code);
    return -1;
}

/* ---- skipping through JSON that gw_json_scan_object already validated ---- */

static const char *gw_skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *gw_skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return e;
}

static const char *gw_skip_value(const char *p, const char *e)
{
    int depth = 0;

    if (p < e && *p == '"')
        return gw_skip_string(p, e);
    if (p < e && (*p == '{' || *p == '[')) {
        while (p < e) {
            if (*p == '"') {
                p = gw_skip_string(p, e);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return e;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* The first top-level key of a valid object that no field names, decoded
 * into key; 0 when there is none. */
static int gw_first_unknown_key(const char *text, size_t len, const gw_admin_field *fields, char *key, size_t cap)
{
    const char *p = text, *e = text + len;

    p = gw_skip_ws(p, e);
    if (p >= e || *p != '{')
        return 0;
    p = gw_skip_ws(p + 1, e);
    while (p < e && *p == '"') {
        gw_json_value kv = {GW_JSON_STRING, p, 0};
        const char *end = gw_skip_string(p, e);
        int known = 0;

        kv.len = (size_t)(end - p);
        if (gw_json_get_string(&kv, key, cap, NULL) != 0) {
            /* too long (or \u0000) to be one of ours: show its beginning */
            snprintf(key, cap, "%.*s…", (int)(kv.len > 42 ? 40 : kv.len - 2), p + 1);
        } else {
            for (const gw_admin_field *f = fields; f != NULL && f->name != NULL; f++)
                if (strcmp(f->name, key) == 0)
                    known = 1;
        }
        if (!known)
            return 1;
        p = gw_skip_ws(end, e);
        if (p < e && *p == ':')
            p = gw_skip_ws(p + 1, e);
        p = gw_skip_ws(gw_skip_value(p, e), e);
        if (p < e && *p == ',')
            p = gw_skip_ws(p + 1, e);
        else
            break;
    }
    return 0;
}

/* 0 when every element of the array value v has the type; counts them. */
static int gw_check_array(const gw_json_value *v, gw_admin_type elem, size_t *count)
{
    const char *p = v->ptr, *e = v->ptr + v->len;

    *count = 0;
    p = gw_skip_ws(p + 1, e);
    if (p < e && *p == ']')
        return 0;
    while (p < e) {
        const char *end = gw_skip_value(p, e);
        if (elem == GW_AT_STRING && *p != '"')
            return -1;
        if (elem == GW_AT_INT) {
            gw_json_value n = {GW_JSON_NUMBER, p, (size_t)(end - p)};
            int64_t x;
            if (gw_json_get_int64(&n, &x) != 0)
                return -1;
        }
        if (++*count > GW_ADMIN_MAX_ARRAY)
            return -1;
        p = gw_skip_ws(end, e);
        if (p < e && *p == ',')
            p = gw_skip_ws(p + 1, e);
        else
            break;
    }
    return 0;
}

/* ---- binding ---- */

static const char *gw_type_name(gw_admin_type t)
{
    switch (t) {
    case GW_AT_STRING:
        return "a string";
    case GW_AT_INT:
        return "an integer";
    case GW_AT_NUMBER:
        return "a number";
    case GW_AT_BOOL:
        return "true or false";
    case GW_AT_STRINGS:
        return "an array of strings";
    case GW_AT_INTS:
        return "an array of integers";
    case GW_AT_OBJECT:
        return "an object";
    }
    return "a value";
}

/* A body value of field f into its parameter. */
static int gw_bind_value(gw_admin_req *r, const gw_admin_field *f, const gw_json_value *v)
{
    char msg[GW_ERR_LEN];
    int64_t i;
    int b;
    size_t n;
    const char *val = NULL;

    switch (f->type) {
    case GW_AT_STRING: {
        size_t max = f->max_len > 0 ? (size_t)f->max_len : GW_ADMIN_STR_MAX;
        char *s;
        if (v->type != GW_JSON_STRING)
            break;
        s = gw_admin_alloc(r, v->len + 1);
        if (s == NULL || gw_json_get_string(v, s, v->len + 1, &n) != 0)
            return gw_bad(r, "invalid_value", "field \"%s\" must not contain NUL characters", f->name);
        if (n > max) {
            snprintf(msg, sizeof(msg), "field \"%s\" is too long (at most %zu bytes)", f->name, max);
            gw_admin_send_error(r, 400, msg, "too_long");
            return -1;
        }
        val = s;
        break;
    }
    case GW_AT_INT:
        if (gw_json_get_int64(v, &i) == 0)
            val = gw_admin_printf(r, "%lld", (long long)i);
        break;
    case GW_AT_NUMBER:
        if (v->type == GW_JSON_NUMBER && v->len <= 64)
            val = gw_admin_strndup(r, v->ptr, v->len);
        break;
    case GW_AT_BOOL:
        if (gw_json_get_bool(v, &b) == 0)
            val = b ? "true" : "false";
        break;
    case GW_AT_STRINGS:
    case GW_AT_INTS:
        if (v->type == GW_JSON_ARRAY && gw_check_array(v, f->type == GW_AT_STRINGS ? GW_AT_STRING : GW_AT_INT, &n) == 0)
            val = gw_admin_strndup(r, v->ptr, v->len);
        break;
    case GW_AT_OBJECT:
        if (v->type == GW_JSON_OBJECT)
            val = gw_admin_strndup(r, v->ptr, v->len);
        break;
    }
    if (val == NULL) {
        snprintf(msg, sizeof(msg), "field \"%s\" must be %s", f->name, gw_type_name(f->type));
        gw_admin_send_error(r, 400, msg, "invalid_type");
        return -1;
    }
    r->params[f->param] = val;
    return 0;
}

static int gw_bind_body(gw_admin_req *r)
{
    const gw_admin_field *fields = r->op->body;
    gw_json_field jf[GW_ADMIN_MAX_FIELDS];
    char err[GW_ERR_LEN], key[128];
    size_t nf = 0;

    if (fields != NULL)
        for (; fields[nf].name != NULL && nf < GW_ADMIN_MAX_FIELDS; nf++)
            jf[nf].name = fields[nf].name;
    if (r->body == NULL) {
        for (size_t i = 0; i < nf; i++)
            if (fields[i].flags & GW_AF_REQUIRED)
                return gw_bad(r, "missing_field", "missing field \"%s\" (the body is a JSON object)", fields[i].name);
        return 0;
    }
    if (gw_json_scan_object(r->body, r->body_len, GW_ADMIN_JSON_DEPTH, jf, nf, err) != 0) {
        gw_admin_send_error(r, 400, err, "invalid_json");
        return -1;
    }
    if (gw_first_unknown_key(r->body, r->body_len, fields, key, sizeof(key)))
        return gw_bad(r, "unknown_field", "unknown field \"%s\"", key);
    for (size_t i = 0; i < nf; i++) {
        const gw_admin_field *f = &fields[i];
        const gw_json_value *v = &jf[i].value;
        if (v->type == GW_JSON_ABSENT) {
            if (f->flags & GW_AF_REQUIRED)
                return gw_bad(r, "missing_field", "missing field \"%s\"", f->name);
            continue;
        }
        if (v->type == GW_JSON_NULL) {
            if (f->flags & GW_AF_REQUIRED)
                return gw_bad(r, "invalid_type", "field \"%s\" must not be null", f->name);
            if (f->null_param > 0)
                r->params[f->null_param] = "true";
            continue;
        }
        if (gw_bind_value(r, f, v) != 0)
            return -1;
    }
    return 0;
}

/* A positive int64 in decimal, nothing else. */
static int gw_parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (s[0] < '1' || s[0] > '9' || strlen(s) > 19)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int gw_bind_path(gw_admin_req *r)
{
    const char *p = r->op->path;
    int seg = 0, np = 0;

    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 2 && p[0] == '{') {
            const char *v = r->segs[seg];
            int64_t id;
            if (strncmp(p, "{id}", 4) == 0 && gw_parse_id(v, &id) != 0) {
                char msg[GW_ERR_LEN];
                snprintf(msg, sizeof(msg), "invalid id \"%.40s\" in the path: ids are positive integers", v);
                gw_admin_send_error(r, 400, msg, "invalid_id");
                return -1;
            }
            for (const char *c = v; *c != '\0'; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    return gw_bad(r, "invalid_id", "%s", "control characters in the path");
            if (strlen(v) > 256)
                return gw_bad(r, "invalid_id", "%s", "path segment too long");
            r->params[++np] = v;
        }
        seg++;
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* A query value of field f into its parameter. */
static int gw_bind_query_value(gw_admin_req *r, const gw_admin_field *f, const char *v)
{
    int64_t i;
    char *end;

    switch (f->type) {
    case GW_AT_INT:
        errno = 0;
        i = strtoll(v, &end, 10);
        if (v[0] == '\0' || *end != '\0' || errno != 0)
            return gw_bad(r, "invalid_type", "query parameter \"%s\" must be an integer", f->name);
        r->params[f->param] = gw_admin_printf(r, "%lld", (long long)i);
        return 0;
    case GW_AT_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            r->params[f->param] = "true";
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            r->params[f->param] = "false";
        else
            return gw_bad(r, "invalid_type", "query parameter \"%s\" must be true or false", f->name);
        return 0;
    default:
        if (strlen(v) > GW_ADMIN_QUERY_MAX)
            return gw_bad(r, "too_long", "query parameter \"%s\" is too long", f->name);
        r->params[f->param] = v;
        return 0;
    }
}

static int gw_bind_page(gw_admin_req *r, const char *k, const char *v)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (strcmp(k, "page") == 0) {
        if (v[0] == '\0' || *end != '\0' || errno != 0 || n < 1 || n > 1000000)
            return gw_bad(r, "invalid_parameter", "%s", "page must be an integer from 1 to 1000000");
        r->page = (int)n;
    } else {
        if (v[0] == '\0' || *end != '\0' || errno != 0 || n < 1 || n > GW_ADMIN_PAGE_SIZE_MAX)
            return gw_bad(r, "invalid_parameter", "%s", "page_size must be an integer from 1 to 1000");
        r->page_size = (int)n;
    }
    return 0;
}

static int gw_bind_query(gw_admin_req *r)
{
    const char *qs = r->ri->query_string;
    int paged = (r->op->flags & GW_AO_PAGED) != 0;
    unsigned seen = 0; /* bit i: query field i given; bits 30/31: page/page_size */
    char *copy, *save = NULL, *piece;

    r->page = 1;
    r->page_size = GW_ADMIN_PAGE_SIZE;
    if (qs != NULL && qs[0] != '\0') {
        copy = gw_admin_strndup(r, qs, strlen(qs));
        if (copy == NULL)
            return gw_admin_send_error(r, 500, "out of memory", NULL), -1;
        for (piece = strtok_r(copy, "&", &save); piece != NULL; piece = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(piece, '=');
            size_t klen = eq != NULL ? (size_t)(eq - piece) : strlen(piece);
            const char *rawv = eq != NULL ? eq + 1 : "";
            char *k = gw_admin_alloc(r, klen + 1), *v = gw_admin_alloc(r, strlen(rawv) + 1);
            int found = 0;

            if (k == NULL || v == NULL)
                return gw_admin_send_error(r, 500, "out of memory", NULL), -1;
            if (gw_url_decode(piece, klen, GW_URL_PLUS_SPACE, k, klen + 1, NULL) != 0 ||
                gw_url_decode(rawv, strlen(rawv), GW_URL_PLUS_SPACE, v, strlen(rawv) + 1, NULL) != 0)
                return gw_bad(r, "invalid_parameter", "%s", "malformed query string");
            if (paged && (strcmp(k, "page") == 0 || strcmp(k, "page_size") == 0)) {
                unsigned bit = strcmp(k, "page") == 0 ? 1u << 30 : 1u << 31;
                if (seen & bit)
                    return gw_bad(r, "invalid_parameter", "query parameter \"%s\" given twice", k);
                seen |= bit;
                if (gw_bind_page(r, k, v) != 0)
                    return -1;
                continue;
            }
            for (int i = 0; r->op->query != NULL && r->op->query[i].name != NULL && i < 30; i++) {
                if (strcmp(r->op->query[i].name, k) != 0)
                    continue;
                if (seen & (1u << i))
                    return gw_bad(r, "invalid_parameter", "query parameter \"%s\" given twice", k);
                seen |= 1u << i;
                if (gw_bind_query_value(r, &r->op->query[i], v) != 0)
                    return -1;
                found = 1;
            }
            if (!found) {
                char shown[48];
                snprintf(shown, sizeof(shown), "%.40s", k);
                return gw_bad(r, "unknown_parameter", "unknown query parameter \"%s\"", shown);
            }
        }
    }
    if (paged) {
        r->params[GW_AP_LIMIT] = gw_admin_printf(r, "%d", r->page_size);
        r->params[GW_AP_OFFSET] = gw_admin_printf(r, "%lld", (long long)(r->page - 1) * r->page_size);
    }
    return 0;
}

int gw_admin_bind(gw_admin_req *r)
{
    if (gw_bind_path(r) != 0 || gw_bind_query(r) != 0 || gw_bind_body(r) != 0)
        return -1;
    return 0;
}

