/*
 * src/base/json.c: the escaping JSON writer and the validating
 * top-level field scanner (see json.h). The scanner is recursive with an
 * explicit depth limit (capped at GW_JSON_HARD_MAX_DEPTH whatever the caller
 * asks), so a hostile body cannot exhaust the stack.
 */
#include "base/json.h"
#include "base/codec.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define GW_JSON_HARD_MAX_DEPTH 512

/* ================= UTF-8 ================= */

size_t gw_utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        if (avail >= 2 && (s[1] & 0xc0) == 0x80)
            return 2;
        return 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (avail < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0) /* overlong */
            return 0;
        if (c == 0xed && s[1] >= 0xa0) /* UTF-16 surrogate */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (avail < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90) /* overlong */
            return 0;
        if (c == 0xf4 && s[1] >= 0x90) /* above U+10FFFF */
            return 0;
        return 4;
    }
    return 0;
}

/* ================= writer ================= */

int gw_json_escape(gw_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;

    if (gw_buf_append(b, "\"", 1) != 0)
        return -1;
    while (i < n) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char u[7];
        size_t sl;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        if (c >= 0x80) {
            sl = gw_utf8_seq_len(p + i, n - i);
            if (sl > 0) {
                i += sl;
                run += sl;
                continue;
            }
        }
        /* flush the plain run before the byte that needs escaping */
        gw_buf_append(b, p + i - run, run);
        run = 0;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            if (c < 0x20) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = gw_hex_lower[c >> 4];
                u[5] = gw_hex_lower[c & 0xf];
                u[6] = '\0';
                esc = u;
            } else {
                esc = "\\ufffd"; /* invalid UTF-8 byte */
            }
        }
        gw_buf_puts(b, esc);
        i++;
    }
    gw_buf_append(b, p + i - run, run);
    return gw_buf_append(b, "\"", 1);
}

void gw_jw_init(gw_jw *w, gw_buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

/* Writes the separator a new value needs at the current position. */
static void gw_jw_sep(gw_jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0 && w->has_item[0])
        w->misuse = 1; /* a second top-level value */
    if (w->has_item[w->depth])
        gw_buf_append(w->b, ",", 1);
    w->has_item[w->depth] = 1;
}

static void gw_jw_open(gw_jw *w, char c)
{
    gw_jw_sep(w);
    if (w->depth >= GW_JW_MAX_DEPTH) {
        w->misuse = 1;
        return;
    }
    gw_buf_append(w->b, &c, 1);
    w->depth++;
    w->has_item[w->depth] = 0;
}

static void gw_jw_close(gw_jw *w, char c)
{
    if (w->depth == 0 || w->after_key) {
        w->misuse = 1;
        return;
    }
    gw_buf_append(w->b, &c, 1);
    w->depth--;
}

void gw_jw_object_begin(gw_jw *w)
{
    gw_jw_open(w, '{');
}

void gw_jw_object_end(gw_jw *w)
{
    gw_jw_close(w, '}');
}

void gw_jw_array_begin(gw_jw *w)
{
    gw_jw_open(w, '[');
}

void gw_jw_array_end(gw_jw *w)
{
    gw_jw_close(w, ']');
}

void gw_jw_key(gw_jw *w, const char *key)
{
    if (w->depth == 0 || w->after_key) {
        w->misuse = 1;
        return;
    }
    if (w->has_item[w->depth])
        gw_buf_append(w->b, ",", 1);
    w->has_item[w->depth] = 1;
    gw_json_escape(w->b, key, strlen(key));
    gw_buf_append(w->b, ":", 1);
    w->after_key = 1;
}

void gw_jw_string_n(gw_jw *w, const char *s, size_t n)
{
    gw_jw_sep(w);
    gw_json_escape(w->b, s, n);
}

void gw_jw_string(gw_jw *w, const char *s)
{
    if (s == NULL) {
        gw_jw_null(w);
        return;
    }
    gw_jw_string_n(w, s, strlen(s));
}

void gw_jw_int(gw_jw *w, int64_t v)
{
    gw_jw_sep(w);
    gw_buf_printf(w->b, "%" PRId64, v);
}

void gw_jw_bool(gw_jw *w, int v)
{
    gw_jw_sep(w);
    gw_buf_puts(w->b, v ? "true" : "false");
}

void gw_jw_null(gw_jw *w)
{
    gw_jw_sep(w);
    gw_buf_puts(w->b, "null");
}

void gw_jw_raw(gw_jw *w, const char *json, size_t n)
{
    gw_jw_sep(w);
    gw_buf_append(w->b, json, n);
}

int gw_jw_finish(gw_jw *w)
{
    if (w->misuse || w->depth != 0 || w->after_key || w->b->failed)
        return -1;
    return gw_buf_cstr(w->b) != NULL ? 0 : -1;
}

/* ================= reader ================= */

typedef struct gw_jparser {
    const char *start;
    const char *p;
    const char *end;
    int depth;
    int max_depth;
    char *err;
} gw_jparser;

static int gw_jp_fail(gw_jparser *ps, const char *what)
{
    return gw_errf(ps->err, "invalid JSON at byte %zu: %s", (size_t)(ps->p - ps->start), what);
}

static void gw_jp_ws(gw_jparser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int gw_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = gw_hex_val((unsigned char)p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Validates a string starting at the opening quote; leaves p after it. */
static int gw_jp_string(gw_jparser *ps)
{
    ps->p++; /* opening quote */
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c < 0x20)
            return gw_jp_fail(ps, "control character in string");
        if (c == '\\') {
            if (ps->p + 1 >= ps->end)
                break;
            char e = ps->p[1];
            if (e == 'u') {
                unsigned cp;
                if (ps->end - ps->p < 6 || gw_hex4(ps->p + 2, &cp) != 0)
                    return gw_jp_fail(ps, "bad \\u escape");
                ps->p += 6;
            } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                ps->p += 2;
            } else {
                return gw_jp_fail(ps, "bad escape");
            }
            continue;
        }
        if (c >= 0x80) {
            size_t sl = gw_utf8_seq_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
            if (sl == 0)
                return gw_jp_fail(ps, "invalid UTF-8");
            ps->p += sl;
            continue;
        }
        ps->p++;
    }
    return gw_jp_fail(ps, "unterminated string");
}

static int gw_jp_number(gw_jparser *ps)
{
    const char *p = ps->p;
    if (p < ps->end && *p == '-')
        p++;
    if (p >= ps->end)
        return gw_jp_fail(ps, "bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return gw_jp_fail(ps, "bad number");
    }
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return gw_jp_fail(ps, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return gw_jp_fail(ps, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    ps->p = p;
    return 0;
}

static int gw_jp_literal(gw_jparser *ps, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
        return gw_jp_fail(ps, "unexpected token");
    ps->p += n;
    return 0;
}

static int gw_jp_value(gw_jparser *ps, gw_json_value *out);

/* Parses an object or array body; top-level field matching is done by
 * gw_json_scan_object itself, nested ones only validate. */
static int gw_jp_container(gw_jparser *ps, char open)
{
    char close = open == '{' ? '}' : ']';
    gw_json_value v;

    if (++ps->depth > ps->max_depth)
        return gw_errf(ps->err, "invalid JSON at byte %zu: nested deeper than %d levels", (size_t)(ps->p - ps->start),
                       ps->max_depth);
    ps->p++;
    gw_jp_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        gw_jp_ws(ps);
        if (open == '{') {
            if (ps->p >= ps->end || *ps->p != '"')
                return gw_jp_fail(ps, "expected a string key");
            if (gw_jp_string(ps) != 0)
                return -1;
            gw_jp_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return gw_jp_fail(ps, "expected ':'");
            ps->p++;
        }
        if (gw_jp_value(ps, &v) != 0)
            return -1;
        gw_jp_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return 0;
        }
        return gw_jp_fail(ps, open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int gw_jp_value(gw_jparser *ps, gw_json_value *out)
{
    const char *begin;
    int rc;

    gw_jp_ws(ps);
    if (ps->p >= ps->end)
        return gw_jp_fail(ps, "unexpected end of input");
    begin = ps->p;
    switch (*ps->p) {
    case '{':
        out->type = GW_JSON_OBJECT;
        rc = gw_jp_container(ps, '{');
        break;
    case '[':
        out->type = GW_JSON_ARRAY;
        rc = gw_jp_container(ps, '[');
        break;
    case '"':
        out->type = GW_JSON_STRING;
        rc = gw_jp_string(ps);
        break;
    case 't':
        out->type = GW_JSON_TRUE;
        rc = gw_jp_literal(ps, "true");
        break;
    case 'f':
        out->type = GW_JSON_FALSE;
        rc = gw_jp_literal(ps, "false");
        break;
    case 'n':
        out->type = GW_JSON_NULL;
        rc = gw_jp_literal(ps, "null");
        break;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
            out->type = GW_JSON_NUMBER;
            rc = gw_jp_number(ps);
        } else {
            rc = gw_jp_fail(ps, "unexpected character");
        }
    }
    out->ptr = begin;
    out->len = (size_t)(ps->p - begin);
    return rc;
}

static void gw_jp_init(gw_jparser *ps, const char *text, size_t len, int max_depth, char *err)
{
    ps->start = ps->p = text;
    ps->end = text + len;
    ps->depth = 0;
    if (max_depth <= 0)
        max_depth = GW_JSON_DEFAULT_MAX_DEPTH;
    ps->max_depth = max_depth > GW_JSON_HARD_MAX_DEPTH ? GW_JSON_HARD_MAX_DEPTH : max_depth;
    ps->err = err;
}

int gw_json_validate(const char *text, size_t len, int max_depth, char err[GW_ERR_LEN])
{
    gw_jparser ps;
    gw_json_value v;

    if (text == NULL)
        return gw_errf(err, "invalid JSON: empty input");
    gw_jp_init(&ps, text, len, max_depth, err);
    if (gw_jp_value(&ps, &v) != 0)
        return -1;
    gw_jp_ws(&ps);
    if (ps.p != ps.end)
        return gw_jp_fail(&ps, "trailing characters after the JSON value");
    return 0;
}

int gw_json_scan_object(const char *text, size_t len, int max_depth, gw_json_field *fields, size_t nfields,
                        char err[GW_ERR_LEN])
{
    gw_jparser ps;
    char key[128];

    for (size_t i = 0; i < nfields; i++)
        memset(&fields[i].value, 0, sizeof(fields[i].value));
    if (text == NULL)
        return gw_errf(err, "invalid JSON: empty input");
    gw_jp_init(&ps, text, len, max_depth, err);
    gw_jp_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        return gw_jp_fail(&ps, "the body must be a JSON object");
    ps.depth = 1;
    ps.p++;
    gw_jp_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
    } else {
        for (;;) {
            gw_json_value kv, v;
            size_t klen = 0;
            int key_ok;

            gw_jp_ws(&ps);
            if (ps.p >= ps.end || *ps.p != '"')
                return gw_jp_fail(&ps, "expected a string key");
            kv.ptr = ps.p;
            if (gw_jp_string(&ps) != 0)
                return -1;
            kv.type = GW_JSON_STRING;
            kv.len = (size_t)(ps.p - kv.ptr);
            /* Keys longer than any field name we look for cannot match. */
            key_ok = gw_json_get_string(&kv, key, sizeof(key), &klen) == 0;
            gw_jp_ws(&ps);
            if (ps.p >= ps.end || *ps.p != ':')
                return gw_jp_fail(&ps, "expected ':'");
            ps.p++;
            if (gw_jp_value(&ps, &v) != 0)
                return -1;
            if (key_ok) {
                for (size_t i = 0; i < nfields; i++) {
                    if (strlen(fields[i].name) == klen && memcmp(fields[i].name, key, klen) == 0) {
                        if (fields[i].value.type != GW_JSON_ABSENT)
                            return gw_errf(err, "invalid JSON: field \"%s\" appears more than once", fields[i].name);
                        fields[i].value = v;
                    }
                }
            }
            gw_jp_ws(&ps);
            if (ps.p < ps.end && *ps.p == ',') {
                ps.p++;
                continue;
            }
            if (ps.p < ps.end && *ps.p == '}') {
                ps.p++;
                break;
            }
            return gw_jp_fail(&ps, "expected ',' or '}'");
        }
    }
    gw_jp_ws(&ps);
    if (ps.p != ps.end)
        return gw_jp_fail(&ps, "trailing characters after the JSON object");
    return 0;
}

/* ---- value accessors ---- */

static size_t gw_utf8_put(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int gw_json_get_string(const gw_json_value *v, char *out, size_t cap, size_t *out_len)
{
    const char *p, *end;
    size_t o = 0;

    if (v == NULL || v->type != GW_JSON_STRING || v->len < 2 || cap == 0)
        return -1;
    p = v->ptr + 1;
    end = v->ptr + v->len - 1;
    while (p < end) {
        char tmp[4];
        size_t n = 1;
        if (*p != '\\') {
            tmp[0] = *p++;
        } else {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b':
                tmp[0] = '\b';
                break;
            case 'f':
                tmp[0] = '\f';
                break;
            case 'n':
                tmp[0] = '\n';
                break;
            case 'r':
                tmp[0] = '\r';
                break;
            case 't':
                tmp[0] = '\t';
                break;
            case 'u': {
                unsigned cp, lo;
                if (end - p < 4 || gw_hex4(p, &cp) != 0)
                    return -1;
                p += 4;
                if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                    gw_hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                } else if (cp >= 0xd800 && cp <= 0xdfff) {
                    cp = 0xfffd; /* lone surrogate */
                }
                if (cp == 0)
                    return GW_JSON_STR_NUL; /* would truncate a C string */
                n = gw_utf8_put(cp, tmp);
                break;
            }
            default: /* '"', '\\', '/' */
                tmp[0] = e;
            }
        }
        if (o + n >= cap)
            return GW_JSON_STR_TOO_LONG;
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return 0;
}

int gw_json_get_bool(const gw_json_value *v, int *out)
{
    if (v == NULL)
        return -1;
    if (v->type == GW_JSON_TRUE)
        *out = 1;
    else if (v->type == GW_JSON_FALSE)
        *out = 0;
    else
        return -1;
    return 0;
}

int gw_json_get_int64(const gw_json_value *v, int64_t *out)
{
    int neg = 0;
    uint64_t acc = 0;
    size_t i = 0;

    if (v == NULL || v->type != GW_JSON_NUMBER || v->len == 0)
        return -1;
    if (v->ptr[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i >= v->len)
        return -1;
    for (; i < v->len; i++) {
        char c = v->ptr[i];
        if (c < '0' || c > '9')
            return -1; /* fraction or exponent */
        if (acc > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return -1;
        acc = acc * 10 + (uint64_t)(c - '0');
    }
    if (!neg && acc > (uint64_t)INT64_MAX)
        return -1;
    if (neg && acc > (uint64_t)INT64_MAX + 1)
        return -1;
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}
