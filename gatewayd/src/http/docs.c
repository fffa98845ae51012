/*
 * src/http/docs.c: the documentation server: its allow-list and the
 * listener serving the rendered site through static.c (see docs.h).
 */
#include "http/docs.h"

#include <string.h>

#include "base/log.h"
#include "http/server.h"

#define GW_DOCS_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"

static const char *gw_docs_cache_control(const char *rel)
{
    (void)rel;
    return "no-cache"; /* always revalidated (cheap with the ETag): a new build shows at once */
}

/* The singleton (see docs.h): root is filled by gw_docs_start. */
static gw_static_site gw_docs_site = {
    .name = "documentation",
    .setting = "DOCS_DIR",
    .map = gw_docs_map,
    .content_type = gw_docs_content_type,
    .cache_control = gw_docs_cache_control,
    .csp = GW_DOCS_CSP,
    .referrer_policy = "no-referrer",
    .html_errors = 1,
};
static struct mg_context *gw_docs_ctx; /* the running listener, or NULL */

static int gw_docs_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int gw_docs_map(const char *uri, char rel[GW_STATIC_REL_MAX])
{
    size_t n, seg = 0, segs = 1;

    if (uri == NULL || uri[0] != '/')
        return -1;
    if (strcmp(uri, "/") == 0) {
        memcpy(rel, "index.html", sizeof("index.html"));
        return 0;
    }
    if (strcmp(uri, "/openapi.json") == 0) {
        memcpy(rel, "openapi.json", sizeof("openapi.json"));
        return 0;
    }
    uri++;
    n = strnlen(uri, GW_STATIC_REL_MAX);
    if (n > 1 && uri[n - 1] == '/') /* "/sql-api/" is "/sql-api"; "//" stays refused */
        n--;
    if (n == 0 || n + sizeof(".html") > GW_STATIC_REL_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (uri[i] == '/') {
            if (seg == 0 || ++segs > GW_DOCS_SEGMENTS_MAX)
                return -1;
            seg = 0;
        } else if (!gw_docs_name_char(uri[i]) || ++seg > GW_DOCS_SEGMENT_MAX) {
            return -1;
        }
    }
    if (seg == 0)
        return -1;
    memcpy(rel, uri, n);
    memcpy(rel + n, ".html", sizeof(".html"));
    return 0;
}

const char *gw_docs_content_type(const char *rel)
{
    size_t n = strlen(rel);
    if (n > 5 && strcmp(rel + n - 5, ".html") == 0)
        return "text/html; charset=utf-8";
    if (n > 5 && strcmp(rel + n - 5, ".json") == 0)
        return "application/json";
    return NULL;
}

int gw_docs_find_dir(const char *configured, char out[PATH_MAX], char err[GW_ERR_LEN])
{
    char tmp[GW_ERR_LEN];

    if (gw_static_find_dir("DOCS_DIR", configured, GW_DOCS_BESIDE, GW_DOCS_SYSTEM_DIR, out, tmp) == 0)
        return 0;
    return gw_errf(err, "%s (the documentation site is rendered at build time: `make docs` writes it to build/docs)",
                   tmp);
}

int gw_docs_start(const gw_config *cfg, const char *docs_dir, struct mg_context **out, char err[GW_ERR_LEN])
{
    char tmp[GW_ERR_LEN];
    gw_http_opts o;
    gw_http_route route;

    *out = NULL;
    if (gw_docs_ctx != NULL)
        return gw_errf(err, "DOCS_PORT: the documentation server is already running");
    if (gw_docs_find_dir(docs_dir, gw_docs_site.root, err) != 0) {
        gw_docs_site.root[0] = '\0';
        return -1;
    }
    memset(&o, 0, sizeof(o));
    o.name = "docs";
    o.host = cfg->listen_host;
    o.port = cfg->docs_port;
    o.threads = cfg->worker_threads < GW_DOCS_THREADS ? cfg->worker_threads : GW_DOCS_THREADS;
    o.request_timeout_ms = cfg->request_timeout_ms;
    o.keep_alive_timeout_ms = cfg->keep_alive_timeout_ms;
    o.head_timeout_ms = cfg->request_head_timeout_ms;
    o.max_per_address = cfg->max_connections_per_address;
    o.max_header_bytes = cfg->max_header_bytes;
    /* pattern "/" + "**", not "**" alone: gw_http_start registers its JSON catch-all as "**",
     * and civetweb replaces a handler registered twice under one pattern */
    route = (gw_http_route){"/**", gw_static_handler, &gw_docs_site};
    if (gw_http_start(&o, &route, 1, out, tmp) != 0) {
        gw_docs_site.root[0] = '\0';
        return gw_errf(err, "DOCS_PORT: %s", tmp);
    }
    gw_docs_ctx = *out;
    gw_log_info("docs server listening on %s:%d (the site in %s)", o.host, o.port, gw_docs_site.root);
    return 0;
}

void gw_docs_stop(struct mg_context *ctx)
{
    if (ctx == NULL)
        return;
    gw_http_stop(ctx);
    if (ctx == gw_docs_ctx) {
        gw_docs_ctx = NULL;
        gw_docs_site.root[0] = '\0';
    }
}
