/*
 * src/http/static.c: serving a site's files through its allow-list (see
 * static.h), and the web UI's site. The request path is checked before the
 * file system is touched (the site's map), then resolved with realpath and
 * required to stay inside the site's directory as a regular file
 * (gw_static_resolve), so neither "..", nor a symlink, nor an encoded slash
 * reaches another file.
 */
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define GW_STATIC_CSP                                                                                                  \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "                  \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define GW_STATIC_MAX_DEPTH 6 /* path segments */

/* The web UI's site, a singleton: its root is set by gw_static_init before
 * the listener starts, read-only afterwards. */
static gw_static_site gw_static_www = {
    .name = "web UI",
    .setting = "WWW_DIR",
    .map = gw_static_map,
    .content_type = gw_static_content_type,
    .cache_control = gw_static_cache_control,
    .csp = GW_STATIC_CSP,
    .referrer_policy = "same-origin",
    .html_errors = 0,
};

typedef struct gw_static_type {
    const char *ext;
    const char *type;
} gw_static_type;

static const gw_static_type gw_static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".map", "application/json; charset=utf-8"},
};

/* Files at the top of www/ that are served; everything else lives under
 * app/ or vendor/. */
static const char *const gw_static_top[] = {"index.html", "app.css", "favicon.svg", "favicon.ico"};

static int gw_static_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '@';
}

int gw_static_map(const char *uri, char rel[GW_STATIC_REL_MAX])
{
    const char *p;
    size_t n;
    int segs = 0;

    if (uri == NULL || uri[0] != '/')
        return -1;
    if (strcmp(uri, "/") == 0)
        uri = "/index.html";
    p = uri + 1;
    n = strlen(p);
    if (n == 0 || n >= GW_STATIC_REL_MAX)
        return -1;
    /* every segment: non-empty, not starting with '.', only safe characters */
    for (const char *s = p; *s != '\0';) {
        const char *e = strchr(s, '/');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        if (len == 0 || s[0] == '.' || ++segs > GW_STATIC_MAX_DEPTH)
            return -1;
        for (size_t i = 0; i < len; i++)
            if (!gw_static_name_char(s[i]))
                return -1;
        if (e == NULL)
            break;
        s = e + 1;
        if (*s == '\0') /* a trailing '/' names a directory */
            return -1;
    }
    if (gw_static_content_type(p) == NULL)
        return -1;
    if (segs == 1) {
        int ok = 0;
        for (size_t i = 0; i < sizeof(gw_static_top) / sizeof(gw_static_top[0]); i++)
            ok |= strcmp(p, gw_static_top[i]) == 0;
        if (!ok)
            return -1;
    } else if (strncmp(p, "app/", 4) != 0 && strncmp(p, "vendor/", 7) != 0) {
        return -1;
    }
    memcpy(rel, p, n + 1);
    return 0;
}

const char *gw_static_content_type(const char *rel)
{
    const char *base = strrchr(rel, '/');
    const char *dot;
    base = base != NULL ? base + 1 : rel;
    dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        return NULL;
    for (size_t i = 0; i < sizeof(gw_static_types) / sizeof(gw_static_types[0]); i++)
        if (strcmp(dot, gw_static_types[i].ext) == 0)
            return gw_static_types[i].type;
    return NULL;
}

const char *gw_static_cache_control(const char *rel)
{
    /* vendor/<package>@<version>/…: a new version is a new path */
    if (strncmp(rel, "vendor/", 7) == 0)
        return "public, max-age=31536000, immutable";
    /* our own files: always revalidate (cheap with the ETag) */
    return "no-cache";
}

int gw_static_resolve(const char *root, const char *rel, char real[PATH_MAX], struct stat *st)
{
    char cand[PATH_MAX];
    size_t rl = strlen(root);
    int w = snprintf(cand, sizeof(cand), "%s/%s", root, rel);

    if (rl == 0 || w < 0 || (size_t)w >= sizeof(cand) || realpath(cand, real) == NULL)
        return -1;
    if (strncmp(real, root, rl) != 0 || real[rl] != '/')
        return -1;
    if (stat(real, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > GW_STATIC_MAX_FILE)
        return -1;
    return 0;
}

void gw_static_etag(const struct stat *st, char out[64])
{
    unsigned long long ns =
        (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st->st_mtim.tv_nsec;
    snprintf(out, 64, "\"%llx-%llx\"", (unsigned long long)st->st_size, ns);
}

/* 1 when the comma-separated If-None-Match list holds etag (or "*"); a
 * weak W/ prefix is ignored (weak comparison, RFC 9110 §13.1.2). */
static int gw_static_etag_listed(const char *list, const char *etag)
{
    size_t el = strlen(etag);
    const char *p = list;
    while (*p != '\0') {
        const char *s, *e;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        s = p;
        while (*p != '\0' && *p != ',')
            p++;
        e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e - s == 1 && *s == '*')
            return 1;
        if (e - s > 2 && strncmp(s, "W/", 2) == 0)
            s += 2;
        if ((size_t)(e - s) == el && memcmp(s, etag, el) == 0)
            return 1;
    }
    return 0;
}

int gw_static_not_modified(const char *if_none_match, const char *if_modified_since, const char *etag, time_t mtime)
{
    struct tm tm;
    const char *end;

    if (if_none_match != NULL)
        return gw_static_etag_listed(if_none_match, etag);
    if (if_modified_since == NULL)
        return 0;
    memset(&tm, 0, sizeof(tm));
    end = strptime(if_modified_since, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        return 0;
    return mtime <= timegm(&tm);
}

static int gw_static_dir_ok(const char *dir, char out[PATH_MAX])
{
    char index[PATH_MAX + 16];
    struct stat st;
    if (realpath(dir, out) == NULL || stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(index, sizeof(index), "%s/index.html", out);
    return stat(index, &st) == 0 && S_ISREG(st.st_mode);
}

int gw_static_find_dir(const char *setting, const char *configured, const char *beside, const char *system_dir,
                       char out[PATH_MAX], char err[GW_ERR_LEN])
{
    char exe[PATH_MAX], cand[PATH_MAX * 2];
    ssize_t n;

    if (configured != NULL && configured[0] != '\0') {
        if (!gw_static_dir_ok(configured, out))
            return gw_errf(err, "%s: '%.128s' is not a directory with an index.html", setting, configured);
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(cand, sizeof(cand), "%s/%s", dirname(exe), beside);
        if (gw_static_dir_ok(cand, out))
            return 0;
    }
    if (gw_static_dir_ok(system_dir, out))
        return 0;
    return gw_errf(err, "%s: not set, and neither <gatewayd's directory>/%s nor %s holds an index.html", setting,
                   beside, system_dir);
}

int gw_static_init(const char *www_dir, char err[GW_ERR_LEN])
{
    char real[PATH_MAX];

    gw_static_www.root[0] = '\0';
    if (gw_static_find_dir("WWW_DIR", www_dir, "../www", GW_STATIC_SYSTEM_DIR, real, err) != 0)
        return -1;
    snprintf(gw_static_www.root, sizeof(gw_static_www.root), "%s", real);
    return 0;
}

const char *gw_static_dir(void)
{
    return gw_static_www.root;
}

/* ---- the civetweb side ---- */

/* (X-Content-Type-Options: nosniff comes with every gw_http_reply) */
static void gw_static_security_headers(const gw_static_site *site, gw_http_reply *h)
{
    gw_http_reply_header(h, "Content-Security-Policy", site->csp);
    gw_http_reply_header(h, "Referrer-Policy", site->referrer_policy);
    gw_http_reply_header(h, "X-Frame-Options", "DENY");
    gw_http_reply_header(h, "Cross-Origin-Opener-Policy", "same-origin");
}

/* The small HTML page of a documentation error (no outside text in it). */
#define GW_STATIC_ERROR_PAGE(code, title, message)                                                                     \
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" code " " title "</title>\n"       \
    "<style>body{font:16px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1.25rem;"               \
    "color:#1f2328}h1{font-size:1.6rem}a{color:#0b62d6}</style>\n</head>\n<body>\n<h1>" code " " title                 \
    "</h1>\n<p>" message "</p>\n<p><a href=\"/\">Home</a></p>\n</body>\n</html>\n"

/* 404 (what: the JSON message) or 405, in the site's error shape. */
static int gw_static_error(const gw_static_site *site, struct mg_connection *conn, int status, const char *what)
{
    static const char page404[] = GW_STATIC_ERROR_PAGE("404", "Not Found", "There is nothing at this address.");
    static const char page405[] =
        GW_STATIC_ERROR_PAGE("405", "Method Not Allowed", "Only GET and HEAD requests are answered here.");
    static const char json405[] =
        "{\"error\":{\"message\":\"only GET and HEAD are allowed here\",\"type\":\"invalid_request_error\","
        "\"code\":\"method_not_allowed\"}}";
    gw_http_reply h;

    if (!site->html_errors && status == 404) {
        gw_http_send_error(conn, 404, what, "not_found");
        return 404;
    }
    gw_http_reply_start(&h, conn, status);
    if (status == 405)
        gw_http_reply_header(&h, "Allow", "GET, HEAD");
    if (site->html_errors) {
        gw_http_reply_header(&h, "Content-Type", "text/html; charset=utf-8");
        gw_http_reply_header(&h, "Cache-Control", "no-cache");
        gw_static_security_headers(site, &h);
        if (status == 405)
            gw_http_reply_send(&h, page405, sizeof(page405) - 1);
        else
            gw_http_reply_send(&h, page404, sizeof(page404) - 1);
    } else {
        gw_http_reply_header(&h, "Content-Type", "application/json");
        gw_http_reply_send(&h, json405, sizeof(json405) - 1);
    }
    return status;
}

static int gw_static_send_file(struct mg_connection *conn, int fd, off_t size)
{
    char buf[16384]; /* civetweb worker stacks are 100 KiB */
    off_t left = size;
    while (left > 0) {
        ssize_t r = read(fd, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1; /* the file shrank: the connection is closed short */
        if (mg_write(conn, buf, (size_t)r) != (int)r)
            return -1;
        left -= r;
    }
    return 0;
}

int gw_static_handler(struct mg_connection *conn, void *cbdata)
{
    const gw_static_site *site = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char rel[GW_STATIC_REL_MAX], real[PATH_MAX], etag[64], lm[64], what[96];
    gw_http_reply h;
    struct stat st;
    struct tm tm;
    int fd, status;

    /* local_uri_raw: as sent, not cleaned; NULL when the request addresses another host */
    if (ri == NULL || ri->local_uri_raw == NULL || site->map(ri->local_uri_raw, rel) != 0)
        return gw_static_error(site, conn, 404, "no such route");
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0)
        return gw_static_error(site, conn, 405, NULL);
    if (site->root[0] == '\0') {
        snprintf(what, sizeof(what), "the %s is not installed (see %s)", site->name, site->setting);
        return gw_static_error(site, conn, 404, what);
    }
    if (gw_static_resolve(site->root, rel, real, &st) != 0 || (fd = open(real, O_RDONLY | O_CLOEXEC)) < 0)
        return gw_static_error(site, conn, 404, "no such file");
    /* the validators describe what was opened */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gw_static_error(site, conn, 404, "no such file");
    }
    gw_static_etag(&st, etag);
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    status = gw_static_not_modified(mg_get_header(conn, "If-None-Match"), mg_get_header(conn, "If-Modified-Since"),
                                    etag, st.st_mtim.tv_sec)
                 ? 304
                 : 200;
    gw_http_reply_start(&h, conn, status);
    if (status == 200)
        gw_http_reply_header(&h, "Content-Type", site->content_type(rel));
    gw_http_reply_header(&h, "ETag", etag);
    gw_http_reply_header(&h, "Last-Modified", lm);
    gw_http_reply_header(&h, "Cache-Control", site->cache_control(rel));
    gw_static_security_headers(site, &h);
    if (gw_http_reply_send_head(&h, status == 200 ? (int64_t)st.st_size : -1) == 0 && status == 200 &&
        !gw_http_is_head(conn) && gw_static_send_file(conn, fd, st.st_size) != 0)
        gw_log_debug("static: %s: the response was cut short", rel);
    close(fd);
    return status;
}

void gw_static_routes(gw_http_route routes[GW_STATIC_NROUTES])
{
    static const char *const uris[GW_STATIC_NROUTES] = {
        "/", "/index.html", "/app.css", "/favicon.svg", "/favicon.ico", "/app/**", "/vendor/**"};
    for (size_t i = 0; i < GW_STATIC_NROUTES; i++)
        routes[i] = (gw_http_route){uris[i], gw_static_handler, &gw_static_www};
}
