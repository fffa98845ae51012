/*
 * src/gateway/proxy_route.c: route and credential parsing (see proxy_route.h).
 */
#include "gateway/proxy_route.h"

#include <string.h>
#include <strings.h>

#include "base/url.h"
#include "base/codec.h"

const char *gw_route_kind_name(gw_route_kind kind)
{
    switch (kind) {
    case GW_ROUTE_REST:
        return "rest";
    case GW_ROUTE_STREAM:
        return "stream";
    case GW_ROUTE_CALL:
        return "call";
    case GW_ROUTE_AI:
        return "ai";
    }
    return "?";
}

/* Copies the segment at *p (up to '/' or the end) as a slug; advances *p. */
static int gw_route_take_slug(const char **p, char out[GW_SLUG_MAX + 1])
{
    const char *s = *p, *e = s;
    while (*e != '\0' && *e != '/')
        e++;
    if (e == s || (size_t)(e - s) > GW_SLUG_MAX)
        return -1;
    for (const char *c = s; c < e; c++) {
        unsigned char ch = (unsigned char)*c;
        /* slugs are [a-z0-9-]; anything else cannot name an LLM, but an
         * unknown slug is answered by the caller (404 llm_not_found), so only
         * bytes that could never be echoed safely are refused here */
        if (ch <= 0x20 || ch == 0x7f || ch == '%' || ch == '\\')
            return -1;
    }
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    *p = e;
    return 0;
}

/*
 * A vendor path is forwarded as is, so it must not be able to climb out of
 * the LLM's endpoint: no "." or ".." segment (also as %2e), no encoded
 * slash or backslash, no control characters, spaces or '#'.
 */
static int gw_route_path_ok(const char *path)
{
    const char *seg = path;
    for (;;) {
        const char *end;
        size_t dots = 0, other = 0;
        if (*seg == '/')
            seg++;
        end = seg;
        while (*end != '\0' && *end != '/') {
            unsigned char c = (unsigned char)*end;
            if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#' || c == '?')
                return 0;
            if (c == '%') {
                int hi = gw_hex_val((unsigned char)end[1]), lo = hi < 0 ? -1 : gw_hex_val((unsigned char)end[2]);
                int v;
                if (hi < 0 || lo < 0)
                    return 0;
                v = hi * 16 + lo;
                if (v == '/' || v == '\\' || v < 0x20 || v == 0x7f)
                    return 0;
                if (v == '.')
                    dots++;
                else
                    other++;
                end += 3;
                continue;
            }
            if (c == '.')
                dots++;
            else
                other++;
            end++;
        }
        if (other == 0 && (dots == 1 || dots == 2))
            return 0;
        if (*end == '\0')
            return 1;
        seg = end;
    }
}

gw_route_status gw_route_parse(const char *uri, gw_route *out)
{
    const char *p;

    memset(out, 0, sizeof(*out));
    if (uri == NULL)
        return GW_ROUTE_NOT_FOUND;
    if (strncmp(uri, "/llm/", 5) == 0) {
        p = uri + 5;
        if (strncmp(p, "rest/", 5) == 0) {
            out->kind = GW_ROUTE_REST;
            p += 5;
        } else if (strncmp(p, "stream/", 7) == 0) {
            out->kind = GW_ROUTE_STREAM;
            p += 7;
        } else if (strncmp(p, "call/", 5) == 0) {
            out->kind = GW_ROUTE_CALL;
            p += 5;
        } else {
            return GW_ROUTE_NOT_FOUND;
        }
        if (gw_route_take_slug(&p, out->slug) != 0)
            return GW_ROUTE_NOT_FOUND;
        if (*p == '\0' || strcmp(p, "/") == 0) {
            out->path = "/";
            return GW_ROUTE_OK;
        }
        if (!gw_route_path_ok(p))
            return GW_ROUTE_BAD_PATH;
        out->path = p;
        return GW_ROUTE_OK;
    }
    if (strncmp(uri, "/ai/", 4) == 0) {
        p = uri + 4;
        out->kind = GW_ROUTE_AI;
        if (gw_route_take_slug(&p, out->slug) != 0)
            return GW_ROUTE_NOT_FOUND;
        if (strcmp(p, "/v1/chat/completions") != 0 && strcmp(p, "/v1/chat/completions/") != 0)
            return GW_ROUTE_NOT_FOUND;
        out->path = "/v1/chat/completions";
        return GW_ROUTE_OK;
    }
    return GW_ROUTE_NOT_FOUND;
}

/* Copies value (trimmed of spaces/tabs at both ends); -1 when empty or too long. */
static int gw_route_copy_key(const char *v, size_t n, char *out, size_t cap, size_t *out_len)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || n + 1 > cap)
        return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    *out_len = n;
    return 0;
}

static const char *gw_route_header(const gw_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name != NULL && h[i].value != NULL && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

gw_cred_source gw_route_credential(const gw_header *headers, size_t nheaders, const char *query, char *out, size_t cap,
                                   size_t *out_len)
{
    const char *v;

    *out_len = 0;
    if (cap > 0)
        out[0] = '\0';
    v = gw_route_header(headers, nheaders, "Authorization");
    if (v != NULL) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "Bearer", 6) == 0 && (v[6] == ' ' || v[6] == '\t')) {
            v += 7;
            if (gw_route_copy_key(v, strlen(v), out, cap, out_len) == 0)
                return GW_CRED_SRC_BEARER;
        }
    }
    v = gw_route_header(headers, nheaders, "x-api-key");
    if (v != NULL && gw_route_copy_key(v, strlen(v), out, cap, out_len) == 0)
        return GW_CRED_SRC_X_API_KEY;
    v = gw_route_header(headers, nheaders, "x-goog-api-key");
    if (v != NULL && gw_route_copy_key(v, strlen(v), out, cap, out_len) == 0)
        return GW_CRED_SRC_GOOG_API_KEY;
    if (query != NULL) {
        const char *p = query;
        while (*p != '\0') {
            const char *amp = strchr(p, '&');
            size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
            if (n > 4 && memcmp(p, "key=", 4) == 0) {
                size_t len;
                if (gw_url_decode(p + 4, n - 4, GW_URL_PLUS_SPACE, out, cap, &len) == 0 && len > 0) {
                    *out_len = len;
                    return GW_CRED_SRC_QUERY_KEY;
                }
                out[0] = '\0';
                return GW_CRED_SRC_NONE;
            }
            if (amp == NULL)
                break;
            p = amp + 1;
        }
    }
    if (cap > 0)
        out[0] = '\0';
    return GW_CRED_SRC_NONE;
}
