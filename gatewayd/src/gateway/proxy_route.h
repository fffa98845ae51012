/*
 * src/gateway/proxy_route.h: the grammar of the gateway's URLs and of the
 * client's credential, as pure functions (no civetweb, no I/O) so they are
 * unit-tested byte by byte (regress/unit/test_proxy_route.c).
 *
 * Routes (DESIGN §4):
 *   /llm/rest/{slug}[/<vendor path>]    pass-through, stream only if the body asks
 *   /llm/stream/{slug}[/<vendor path>]  pass-through, the client wants a stream
 *   /llm/call/{slug}[/<vendor path>]    pass-through, auto-detected
 *   /ai/{slug}/v1/chat/completions      OpenAI chat completions, translated
 * The vendor path is kept as the client sent it (percent-encoding included);
 * dot segments (".", "..", also percent-encoded) and control characters are
 * refused so a client can never reach another path of the vendor's host.
 *
 * Credentials, first found wins: `Authorization: Bearer <key>` (what the
 * OpenAI SDK sends, and the Anthropic SDK with an auth token), `x-api-key`
 * (Anthropic), `x-goog-api-key` (Google), then the query parameter `?key=`
 * (Google's REST style; percent-decoded). Only the raw key is returned; the
 * caller hashes it at once and never logs it.
 */
#ifndef GW_HTTP_PROXY_ROUTE_H
#define GW_HTTP_PROXY_ROUTE_H

#include <stddef.h>

#include "base/common.h"
#include "vendors/vendor.h"

#define GW_SLUG_MAX 128

typedef struct gw_route {
    gw_route_kind kind;
    char slug[GW_SLUG_MAX + 1];
    const char *path; /* vendor path, starts with '/'; points into the URI (or a literal "/") */
} gw_route;

typedef enum gw_route_status {
    GW_ROUTE_OK = 0,
    GW_ROUTE_NOT_FOUND = -1, /* not a gateway route: 404 not_found */
    GW_ROUTE_BAD_PATH = -2   /* a gateway route with a forbidden vendor path: 400 */
} gw_route_status;

/* Parses a request path (without the query string). */
gw_route_status gw_route_parse(const char *uri, gw_route *out);

/* "rest", "stream", "call", "ai". */
const char *gw_route_kind_name(gw_route_kind kind);

typedef enum gw_cred_source {
    GW_CRED_SRC_NONE = 0,
    GW_CRED_SRC_BEARER,
    GW_CRED_SRC_X_API_KEY,
    GW_CRED_SRC_GOOG_API_KEY,
    GW_CRED_SRC_QUERY_KEY
} gw_cred_source;

/*
 * Finds the client's key in the headers and the raw query string (may be
 * NULL) and copies it into out (NUL-terminated; cap bytes). Returns the
 * source, or GW_CRED_SRC_NONE when there is no key, the key is empty, or
 * it does not fit (callers answer all of these with the same 401).
 */
gw_cred_source gw_route_credential(const gw_header *headers, size_t nheaders, const char *query, char *out, size_t cap,
                                   size_t *out_len);

#endif
