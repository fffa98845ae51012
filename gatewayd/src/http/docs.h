/*
 * src/http/docs.h: the documentation server (DOCS_PORT, default 8989). It
 * serves the project's docs/ directory rendered to HTML: every docs/NAME.md and
 * docs/DIR/NAME.md at the URL of its name without ".md" (/configuration,
 * /sql-api/config; a directory's README.md at /<dir>), "/" as the getting
 * started page (else README.md, index.md, or a generated index), the OpenAPI
 * reference rendered at /openapi and docs/openapi.json raw at /openapi.json.
 * Rendering is in docs_render.c and docs_openapi.c.
 *
 * Allow-list: a request path is served only when it is made of segments of
 * [A-Za-z0-9_-] (no dots, so no "..", dotfiles or extensions; civetweb has
 * already decoded %xx, so %2e%2e arrives as ".." and is refused, %2f as a
 * '/' that must still form allowed segments, %25 as a refused '%') and maps
 * to a regular .md file whose real path (symlinks resolved) lies inside the
 * real docs directory. Everything else is a small HTML 404. GET and HEAD
 * only (405 otherwise). Every response carries X-Content-Type-Options,
 * Content-Security-Policy (default-src 'none'; style-src 'unsafe-inline';
 * img-src 'self' data:), Referrer-Policy: no-referrer and
 * X-Frame-Options: DENY.
 *
 * Cache: rendered pages are kept per file, keyed by device, inode, size and
 * mtime (so an edited file is re-rendered on the next request), at most
 * GW_DOCS_CACHE_MAX of them, under one mutex per server. The navigation is
 * rebuilt on every request from a directory scan (a handful of stat calls).
 *
 * Singleton: gw_docs_start keeps each started server's state in a small
 * mutex-protected registry keyed by its civetweb context, so gw_docs_stop
 * can free it; nothing else is global.
 */
#ifndef GW_HTTP_DOCS_H
#define GW_HTTP_DOCS_H

#include <civetweb.h>
#include <limits.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/common.h"
#include "common/config.h"

#define GW_DOCS_THREADS 8                  /* worker threads of the docs listener (at most WORKER_THREADS) */
#define GW_DOCS_CACHE_MAX 256              /* rendered files kept */
#define GW_DOCS_MAX_MD_BYTES (4u << 20)    /* larger .md files are not rendered (500) */
#define GW_DOCS_MAX_JSON_BYTES (16u << 20) /* larger openapi.json is not served */
#define GW_DOCS_MAX_PAGE_BYTES (64u << 20)
#define GW_DOCS_PATH_MAX 256 /* longest request path considered */
#define GW_DOCS_SEGMENTS_MAX 8
#define GW_DOCS_SEGMENT_MAX 64
#define GW_DOCS_SYSTEM_DIR "/usr/share/pg_aistudio/docs"

/*
 * Starts the documentation server on cfg->listen_host:cfg->docs_port.
 * docs_dir: DOCS_DIR; NULL or "" = the default (gw_docs_find_dir). -1 with
 * err (naming DOCS_DIR or DOCS_PORT) when the directory is missing or the
 * port cannot be bound.
 */
int gw_docs_start(const gw_config *cfg, const char *docs_dir, struct mg_context **out, char err[GW_ERR_LEN]);
/* Stops the listener (in-flight requests finish) and frees its state. NULL is a no-op. */
void gw_docs_stop(struct mg_context *ctx);

/*
 * The documentation directory, as a real path: configured when not empty
 * (it must be a directory), else <directory of /proc/self/exe>/../docs,
 * else GW_DOCS_SYSTEM_DIR. -1 with err naming DOCS_DIR when none exists.
 */
int gw_docs_find_dir(const char *configured, char out[PATH_MAX], char err[GW_ERR_LEN]);

/* ---- the parts below are exposed for the unit tests ---- */

typedef enum gw_docs_route_kind {
    GW_DOCS_ROUTE_NOT_FOUND = 0,
    GW_DOCS_ROUTE_INDEX,        /* "/" */
    GW_DOCS_ROUTE_PAGE,         /* a document: stem filled ("sql-api/config") */
    GW_DOCS_ROUTE_OPENAPI_JSON, /* "/openapi.json" */
    GW_DOCS_ROUTE_OPENAPI_HTML  /* "/openapi" */
} gw_docs_route_kind;

/*
 * Pure syntax check of a decoded request path (no query string): which
 * route it is, and for a page its stem (the path without the leading '/'
 * and one optional trailing '/'). Anything outside the allow-list above is
 * GW_DOCS_ROUTE_NOT_FOUND.
 */
gw_docs_route_kind gw_docs_route(const char *path, char *stem, size_t cap);

/*
 * Maps a stem to an existing document under root (a real path): <stem>.md,
 * else <stem>/README.md. The candidate's real path must lie inside root,
 * be a regular file, end in ".md" and consist of allowed names; rel gets it
 * relative to root. -1 when nothing qualifies.
 */
int gw_docs_resolve(const char *root, const char *stem, char *rel, size_t cap);

typedef struct gw_docs gw_docs;

/* The state of one server: root is made a real path; -1 with err when it is not a directory. */
int gw_docs_create(const char *root, gw_docs **out, char err[GW_ERR_LEN]);
void gw_docs_destroy(gw_docs *d);

typedef struct gw_docs_response {
    int status;
    const char *content_type;
    gw_buf body; /* free with gw_buf_free */
} gw_docs_response;

/* Answers one request (what the HTTP handler sends, minus the transport). */
void gw_docs_respond(gw_docs *d, const char *method, const char *path, gw_docs_response *r);

#endif
