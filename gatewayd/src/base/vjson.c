/*
 * src/base/vjson.c: navigation over already validated JSON text (see
 * vjson.h). The skipper relies on the text being valid (strings closed,
 * brackets balanced), which gw_vj_parse / gw_json_scan_object guaranteed;
 * it still never reads past the end of its span.
 */
#include "base/vjson.h"

#include <stdlib.h>
#include <string.h>

int gw_vj_parse(const char *text, size_t len, gw_json_value *root, char err[GW_ERR_LEN])
{
    const char *p = text, *end = text + len;

    if (gw_json_validate(text, len, GW_JSON_DEFAULT_MAX_DEPTH, err) != 0)
        return -1;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    root->ptr = p;
    root->len = (size_t)(end - p);
    switch (*p) {
    case '{':
        root->type = GW_JSON_OBJECT;
        break;
    case '[':
        root->type = GW_JSON_ARRAY;
        break;
    case '"':
        root->type = GW_JSON_STRING;
        break;
    case 't':
        root->type = GW_JSON_TRUE;
        break;
    case 'f':
        root->type = GW_JSON_FALSE;
        break;
    case 'n':
        root->type = GW_JSON_NULL;
        break;
    default:
        root->type = GW_JSON_NUMBER;
    }
    return 0;
}

static const char *gw_vj_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Past the closing quote of a string whose text starts at p (just after
 * its opening quote); end when it is not closed. The quotes are found with
 * memchr: a long prompt or answer is skipped at memory speed. */
static const char *gw_vj_skip_str(const char *p, const char *end)
{
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p)), *b;
        if (q == NULL)
            return end;
        for (b = q; b > p && b[-1] == '\\'; b--)
            ;
        if (((q - b) & 1) == 0) /* not escaped: an even run of backslashes before it */
            return q + 1;
        p = q + 1;
    }
    return end;
}

/* Reads the value at p (after whitespace) into *v; returns the end. */
static const char *gw_vj_value(const char *p, const char *end, gw_json_value *v)
{
    const char *s;
    int depth = 0;

    p = gw_vj_ws(p, end);
    s = p;
    v->ptr = p;
    v->type = GW_JSON_ABSENT;
    if (p >= end) {
        v->len = 0;
        return p;
    }
    switch (*p) {
    case '{':
    case '[':
        v->type = *p == '{' ? GW_JSON_OBJECT : GW_JSON_ARRAY;
        for (; p < end; p++) {
            char c = *p;
            if (c == '"') {
                p = gw_vj_skip_str(p + 1, end) - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    p++;
                    break;
                }
            }
        }
        break;
    case '"':
        v->type = GW_JSON_STRING;
        p = gw_vj_skip_str(p + 1, end);
        break;
    default:
        v->type = *p == 't' ? GW_JSON_TRUE : *p == 'f' ? GW_JSON_FALSE : *p == 'n' ? GW_JSON_NULL : GW_JSON_NUMBER;
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
    }
    if (p > end)
        p = end;
    v->len = (size_t)(p - s);
    return p;
}

void gw_vj_iter_init(gw_vj_iter *it, const gw_json_value *c)
{
    if (c == NULL || (c->type != GW_JSON_OBJECT && c->type != GW_JSON_ARRAY) || c->len < 2) {
        it->p = it->end = NULL;
        return;
    }
    it->p = c->ptr + 1;
    it->end = c->ptr + c->len - 1; /* the closing bracket */
    it->array = c->type == GW_JSON_ARRAY;
}

int gw_vj_next_member(gw_vj_iter *it, gw_json_value *key, gw_json_value *val)
{
    const char *p;

    if (it->p == NULL || it->array)
        return 0;
    p = gw_vj_ws(it->p, it->end);
    if (p < it->end && *p == ',')
        p = gw_vj_ws(p + 1, it->end);
    if (p >= it->end || *p != '"') {
        it->p = NULL;
        return 0;
    }
    p = gw_vj_value(p, it->end, key);
    p = gw_vj_ws(p, it->end);
    if (p >= it->end || *p != ':') {
        it->p = NULL;
        return 0;
    }
    it->p = gw_vj_value(p + 1, it->end, val);
    if (val->len == 0) { /* never loop on text that is not valid */
        it->p = NULL;
        return 0;
    }
    return 1;
}

int gw_vj_next_elem(gw_vj_iter *it, gw_json_value *val)
{
    const char *p;

    if (it->p == NULL || !it->array)
        return 0;
    p = gw_vj_ws(it->p, it->end);
    if (p < it->end && *p == ',')
        p = gw_vj_ws(p + 1, it->end);
    if (p >= it->end) {
        it->p = NULL;
        return 0;
    }
    it->p = gw_vj_value(p, it->end, val);
    if (val->type == GW_JSON_ABSENT || val->len == 0) { /* never loop on text that is not valid */
        it->p = NULL;
        return 0;
    }
    return 1;
}

int gw_vj_key_is(const gw_json_value *key, const char *name)
{
    size_t n = strlen(name);
    char tmp[128];
    size_t tl;

    if (key->type != GW_JSON_STRING || key->len < 2)
        return 0;
    if (memchr(key->ptr, '\\', key->len) == NULL)
        return key->len - 2 == n && memcmp(key->ptr + 1, name, n) == 0;
    if (gw_json_get_string(key, tmp, sizeof(tmp), &tl) != 0)
        return 0;
    return tl == n && memcmp(tmp, name, n) == 0;
}

int gw_vj_get(const gw_json_value *obj, const char *key, gw_json_value *out)
{
    gw_vj_iter it;
    gw_json_value k, v;
    int found = 0;

    if (obj == NULL || obj->type != GW_JSON_OBJECT)
        return 0;
    gw_vj_iter_init(&it, obj);
    while (gw_vj_next_member(&it, &k, &v)) {
        if (gw_vj_key_is(&k, key)) {
            *out = v;
            found = 1;
        }
    }
    return found;
}

int gw_vj_path(const gw_json_value *root, const char *path, gw_json_value *out)
{
    gw_json_value cur = *root;
    char part[64];

    while (*path != '\0') {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(part))
            return 0;
        memcpy(part, path, n);
        part[n] = '\0';
        if (!gw_vj_get(&cur, part, &cur))
            return 0;
        path += n;
        if (*path == '.')
            path++;
    }
    *out = cur;
    return 1;
}

int gw_vj_int(const gw_json_value *root, const char *path, int64_t *out)
{
    gw_json_value v;

    if (!gw_vj_path(root, path, &v))
        return -1;
    if (gw_json_get_int64(&v, out) == 0)
        return 0;
    /* tolerate an integral number written as 12.0 */
    if (v.type == GW_JSON_NUMBER && v.len < 32) {
        char tmp[32];
        memcpy(tmp, v.ptr, v.len);
        tmp[v.len] = '\0';
        char *dot = strchr(tmp, '.');
        if (dot != NULL && strspn(dot + 1, "0") == strlen(dot + 1)) {
            gw_json_value t = v;
            t.len = (size_t)(dot - tmp);
            return gw_json_get_int64(&t, out);
        }
    }
    return -1;
}

int gw_vj_str_is(const gw_json_value *v, const char *s)
{
    return v != NULL && gw_vj_key_is(v, s);
}

int gw_vj_str_copy(const gw_json_value *v, char *out, size_t cap)
{
    size_t n = 0;

    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (v == NULL || v->type != GW_JSON_STRING)
        return -1;
    if (gw_json_get_string(v, out, cap, &n) == 0)
        return (int)n;
    /* too long (or \u0000): copy the raw prefix without escapes */
    n = 0;
    for (size_t i = 1; i + 1 < v->len && n + 1 < cap; i++) {
        if (v->ptr[i] == '\\')
            break;
        out[n++] = v->ptr[i];
    }
    /* do not cut a UTF-8 sequence */
    while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
        n--;
    if (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
        n--;
    out[n] = '\0';
    return (int)n;
}

int gw_vj_str_append(const gw_json_value *v, gw_buf *b)
{
    char *tmp;
    size_t n = 0;
    int rc;

    if (v == NULL || v->type != GW_JSON_STRING || v->len < 2)
        return -1;
    if (memchr(v->ptr, '\\', v->len) == NULL)
        return gw_buf_append(b, v->ptr + 1, v->len - 2);
    tmp = malloc(v->len);
    if (tmp == NULL)
        return -1;
    rc = gw_json_get_string(v, tmp, v->len, &n);
    if (rc == 0)
        rc = gw_buf_append(b, tmp, n);
    free(tmp);
    return rc;
}

int gw_vj_array_empty(const gw_json_value *v)
{
    gw_vj_iter it;
    gw_json_value e;

    if (v == NULL || v->type != GW_JSON_ARRAY)
        return 0;
    gw_vj_iter_init(&it, v);
    return !gw_vj_next_elem(&it, &e);
}

void gw_vj_copy_members(const gw_json_value *obj, const char *const *skip, size_t nskip, gw_buf *b, int *count)
{
    gw_vj_iter it;
    gw_json_value k, v;

    gw_vj_iter_init(&it, obj);
    while (gw_vj_next_member(&it, &k, &v)) {
        int drop = 0;
        for (size_t i = 0; i < nskip && !drop; i++)
            drop = gw_vj_key_is(&k, skip[i]);
        if (drop)
            continue;
        if (*count > 0)
            gw_buf_append(b, ",", 1);
        gw_buf_append(b, k.ptr, k.len);
        gw_buf_append(b, ":", 1);
        gw_buf_append(b, v.ptr, v.len);
        (*count)++;
    }
}

const char *gw_vj_find(const char *hay, size_t hlen, const char *needle)
{
    size_t n = strlen(needle);

    if (n == 0)
        return hay;
    if (hlen < n)
        return NULL;
    for (const char *p = hay, *last = hay + hlen - n; p <= last;) {
        const char *q = memchr(p, needle[0], (size_t)(last - p) + 1);
        if (q == NULL)
            return NULL;
        if (memcmp(q, needle, n) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}
