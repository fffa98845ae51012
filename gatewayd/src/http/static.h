/*
 * src/http/static.h: serving a directory of static files through an
 * allow-list, by our own handler — never civetweb's document_root. Two sites
 * use it: the web UI (www/, on SERVER_PORT, below) and the documentation
 * site rendered at build time (build/docs, on DOCS_PORT, http/docs.h).
 *
 * A site (gw_static_site) is a root directory and its rules: the allow-list
 * that maps a request path to a file name before the file system is
 * touched, Content-Types, Cache-Control, the Content-Security-Policy and
 * Referrer-Policy, and whether errors are small HTML pages or the JSON error
 * shape. For every site: the mapped file must resolve (symlinks followed)
 * to a regular file inside the root, else 404; no directory is ever listed;
 * GET and HEAD only (405 with Allow otherwise); responses carry ETag and
 * Last-Modified (conditional GETs answer 304), the site's Cache-Control,
 * X-Content-Type-Options, X-Frame-Options DENY and
 * Cross-Origin-Opener-Policy.
 *
 * The web UI: "/" (index.html), "/index.html", "/app.css", "/favicon.svg",
 * "/favicon.ico", and files under "/app/" and "/vendor/", each with one of
 * the extensions .html .js .css .svg .png .ico .woff2 .map and its
 * Content-Type. Refused with 404: dotfiles and dot segments ("..", "."),
 * empty segments, characters outside [A-Za-z0-9._@-], directories, anything
 * whose real path leaves the www directory. Cache-Control is "no-cache" for
 * our own files so a new release shows at once, a year (immutable) for
 * vendor/ whose directories are named <package>@<version>. Errors are JSON.
 *
 * A site is written before its listener starts and read-only afterwards;
 * the web UI's is a process-wide singleton set by gw_static_init.
 */
#ifndef GW_HTTP_STATIC_H
#define GW_HTTP_STATIC_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "base/common.h"
#include "http/server.h"

#define GW_STATIC_SYSTEM_DIR "/usr/share/pg_aistudio/www"
#define GW_STATIC_REL_MAX 256          /* longest relative path served */
#define GW_STATIC_MAX_FILE (32L << 20) /* larger files are not served */

typedef struct gw_static_site {
    const char *name;    /* in errors: "web UI", "documentation" */
    const char *setting; /* the setting naming its directory: "WWW_DIR" */
    char root[PATH_MAX]; /* real path, no trailing '/'; "" = not installed (404) */
    /* the allow-list: a decoded request path (no query) to a path relative
     * to root; 0 and rel filled, or -1 (404) */
    int (*map)(const char *uri, char rel[GW_STATIC_REL_MAX]);
    const char *(*content_type)(const char *rel); /* of a mapped rel */
    const char *(*cache_control)(const char *rel);
    const char *csp;
    const char *referrer_policy;
    int html_errors; /* 404/405 as small HTML pages, else the JSON error shape */
} gw_static_site;

/* The civetweb handler of a site: cbdata is the gw_static_site. */
int gw_static_handler(struct mg_connection *conn, void *cbdata);

/*
 * Finds a site's directory, as a real path: configured (the setting, named
 * in errors) when not NULL or "", else <gatewayd's directory>/<beside>,
 * else system_dir. It must be a directory holding index.html. -1 with err
 * naming the setting when none qualifies.
 */
int gw_static_find_dir(const char *setting, const char *configured, const char *beside, const char *system_dir,
                       char out[PATH_MAX], char err[GW_ERR_LEN]);

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
