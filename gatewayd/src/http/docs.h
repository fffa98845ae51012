/*
 * src/http/docs.h: the documentation server (DOCS_PORT, default 8989). It
 * serves the documentation site rendered at build time (`make docs` renders
 * docs/ with tools/docsite into build/docs) through the static file handler
 * (http/static.c); gatewayd renders nothing itself.
 *
 * Allow-list (gw_docs_map): "/" is index.html, "/openapi.json" is
 * openapi.json, and any other path of 1..GW_DOCS_SEGMENTS_MAX segments of
 * [A-Za-z0-9_-] (each at most GW_DOCS_SEGMENT_MAX bytes), with one optional
 * trailing '/', is <path>.html ("/sql-api/config" -> sql-api/config.html,
 * "/sql-api" -> sql-api.html). No dots, so no "..", dotfiles or other
 * extensions; no '%', so no encoded byte gets through. Everything else, and
 * a file that is not there, is a small HTML 404; other methods than GET and
 * HEAD a 405. Headers: Content-Security-Policy "default-src 'none';
 * style-src 'unsafe-inline'; img-src 'self' data:" (the pages need no
 * script and no outside asset), Referrer-Policy no-referrer, Cache-Control
 * no-cache with ETag and Last-Modified (like the web UI's own files), and
 * what static.c sends for every site.
 *
 * Singleton: the site (its directory and rules) lives in docs.c; it is
 * written by gw_docs_start before the listener starts, read-only while it
 * runs, and released by gw_docs_stop after the listener stopped. One
 * documentation server at a time.
 */
#ifndef GW_HTTP_DOCS_H
#define GW_HTTP_DOCS_H

#include <civetweb.h>
#include <limits.h>

#include "base/common.h"
#include "base/config.h"
#include "http/static.h"

#define GW_DOCS_THREADS 16 /* worker threads of the docs listener (at most WORKER_THREADS); a browser opens ~6 */
#define GW_DOCS_SEGMENTS_MAX 8
#define GW_DOCS_SEGMENT_MAX 64
#define GW_DOCS_BESIDE "../build/docs" /* the build output, from gatewayd's directory */
#define GW_DOCS_SYSTEM_DIR "/usr/share/pg_aistudio/docs"

/*
 * Starts the documentation server on cfg->listen_host:cfg->docs_port.
 * docs_dir: DOCS_DIR; NULL or "" = the default (gw_docs_find_dir). -1 with
 * err (naming DOCS_DIR or DOCS_PORT) when there is no rendered site, the
 * port cannot be bound, or a documentation server is already running.
 */
int gw_docs_start(const gw_config *cfg, const char *docs_dir, struct mg_context **out, char err[GW_ERR_LEN]);
/* Stops the listener (in-flight requests finish). NULL is a no-op. */
void gw_docs_stop(struct mg_context *ctx);

/*
 * The rendered site's directory, as a real path: configured when not empty,
 * else <directory of /proc/self/exe>/GW_DOCS_BESIDE, else
 * GW_DOCS_SYSTEM_DIR; it must hold an index.html. -1 with err naming
 * DOCS_DIR when none qualifies.
 */
int gw_docs_find_dir(const char *configured, char out[PATH_MAX], char err[GW_ERR_LEN]);

/* ---- the allow-list, exposed for the unit test ---- */

/* A decoded request path (no query) to the file it names under the site's
 * directory: 0 and rel filled, or -1 (404). */
int gw_docs_map(const char *uri, char rel[GW_STATIC_REL_MAX]);
/* The Content-Type of a mapped file (.html or .json), else NULL. */
const char *gw_docs_content_type(const char *rel);

#endif
