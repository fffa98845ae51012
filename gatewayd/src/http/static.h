/*
 * src/http/static.h: the web UI's static files (www/), served on SERVER_PORT
 * next to the REST API by our own handler — never civetweb's document_root.
 *
 * Only an allow-list is served: "/" (index.html), "/index.html", "/app.css",
 * "/favicon.svg", "/favicon.ico", and files under "/app/" and "/vendor/",
 * each with one of the extensions .html .js .css .svg .png .ico .woff2 .map
 * and its Content-Type. Refused with 404: dotfiles and dot segments ("..",
 * "."), empty segments, characters outside [A-Za-z0-9._@-], directories,
 * anything whose real path (symlinks resolved) leaves the www directory.
 * Responses carry ETag and Last-Modified (conditional GETs answer 304),
 * Cache-Control ("no-cache" for our own files so a new release shows at
 * once; a year, immutable, for vendor/ whose directories are named
 * <package>@<version>), and the security headers (CSP, nosniff,
 * Referrer-Policy, X-Frame-Options DENY).
 *
 * The www directory is a process-wide singleton set once at start-up by
 * gw_static_init (before the listener starts; read-only afterwards).
 */
#ifndef GW_HTTP_STATIC_H
#define GW_HTTP_STATIC_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common/common.h"
#include "http/server.h"

#define GW_STATIC_SYSTEM_DIR "/usr/share/pg_aistudio/www"
#define GW_STATIC_REL_MAX 256          /* longest relative path served */
#define GW_STATIC_MAX_FILE (32L << 20) /* larger files are not served */

/*
 * Finds and remembers the www directory: www_dir (the WWW_DIR setting) when
 * not NULL or "", else <gatewayd's directory>/../www, else
 * GW_STATIC_SYSTEM_DIR. -1 with err naming WWW_DIR when none is a directory
 * holding index.html; the handler then answers 404 "web UI not installed".
 */
int gw_static_init(const char *www_dir, char err[GW_ERR_LEN]);
/* The directory in use ("" before a successful gw_static_init). */
const char *gw_static_dir(void);

#define GW_STATIC_NROUTES 7
/* Fills routes with the web UI's paths ("/", "/index.html", "/app.css",
 * "/favicon.svg", "/favicon.ico", and every path under "/app/" and
 * "/vendor/"), for gw_admin_start_with. They answer 404 until
 * gw_static_init succeeded. */
void gw_static_routes(gw_http_route routes[GW_STATIC_NROUTES]);

/* ---- the pieces, exposed for the unit test ---- */

/* Maps a request path (decoded, not cleaned) to a path relative to the www
 * directory via the allow-list; 0 and rel filled, or -1 (404). */
int gw_static_map(const char *uri, char rel[GW_STATIC_REL_MAX]);
/* The Content-Type of an allowed extension, else NULL. */
const char *gw_static_content_type(const char *rel);
/* The Cache-Control header for rel. */
const char *gw_static_cache_control(const char *rel);
/* Resolves root/rel with realpath: 0 when it is a regular file inside root
 * (root itself a real path without a trailing '/'), real and st filled. */
int gw_static_resolve(const char *root, const char *rel, char real[PATH_MAX], struct stat *st);
/* The strong validator of a file: "\"<size>-<mtime ns>\"" in hex. */
void gw_static_etag(const struct stat *st, char out[64]);
/* 1 when the request's validators (If-None-Match, else If-Modified-Since)
 * say the client's copy is current. */
int gw_static_not_modified(const char *if_none_match, const char *if_modified_since, const char *etag, time_t mtime);

#endif
