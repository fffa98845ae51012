/*
 * regress/unit/test_docs.c: the documentation server (src/http/docs.c),
 * which serves the site rendered at build time through the static handler.
 * Without sockets: the request-path allow-list (gw_docs_map: pages,
 * sub-directories, one trailing slash, traversal, dot segments, dotfiles,
 * extensions, encoded bytes, length and depth limits), Content-Types, and
 * the lookup of the rendered site (DOCS_DIR must hold an index.html: the
 * Markdown sources are not a site). Then the real listener (gw_docs_start)
 * over a scratch site with symlinks pointing outside, with libcurl as the
 * client: pages, /openapi.json, the security and caching headers, 304,
 * HEAD, 405, HTML 404s for everything outside the allow-list or the site,
 * and one server at a time.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/docs.c"
#include "http/connguard.c"
#include "http/server.c"
#include "http/static.c"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "loopback.h"
#include "tap.h"

#define CSP "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"

static char scratch[PATH_MAX];  /* holds site/, md/ and outside/ */
static char site[PATH_MAX + 8]; /* scratch/site */

static void put(const char *rel, const char *text)
{
    char path[PATH_MAX * 2];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", scratch, rel);
    if ((f = fopen(path, "w")) == NULL) {
        diag("cannot write %s", path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void mkd(const char *rel)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", scratch, rel);
    mkdir(path, 0755);
}

static void lnk(const char *target, const char *rel)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", scratch, rel);
    if (symlink(target, path) != 0)
        diag("symlink %s: %s", path, strerror(errno));
}

static int maps(const char *uri, const char *want)
{
    char rel[GW_STATIC_REL_MAX];
    return gw_docs_map(uri, rel) == 0 && strcmp(rel, want) == 0;
}

static void test_map(void)
{
    static const char *const refused[] = {
        "",
        "configuration",
        "//",
        "/..",
        "/.",
        "/../README",
        "/./configuration",
        "/sql-api/../../Makefile",
        "/sql-api/./config",
        "//etc/passwd",
        "/sql-api//config",
        "/configuration//",
        "/.git/config",
        "/.hidden",
        "/configuration.md",
        "/configuration.html",
        "/index.html",
        "/sql-api/config.html",
        "/openapi.json/",
        "/openapi.json/x",
        "/openapi.html",
        "/x.json",
        "/%2e%2e/Makefile",
        "/a%2fb",
        "/%61",
        "/a\\b",
        "/a b",
        "/a:b",
        "/a;b",
        "/~root",
        "/a@b",
        "/a/b/c/d/e/f/g/h/i",
        "/\xc3\xa9t\xc3\xa9",
        "/configuration\n",
    };
    char rel[GW_STATIC_REL_MAX], big[600];

    ok(maps("/", "index.html"), "/ is index.html");
    ok(maps("/configuration", "configuration.html"), "/configuration is configuration.html");
    ok(maps("/sql-api", "sql-api.html"), "/sql-api is sql-api.html (a directory's README)");
    ok(maps("/sql-api/", "sql-api.html"), "one trailing slash is fine");
    ok(maps("/sql-api/config", "sql-api/config.html"), "/sql-api/config");
    ok(maps("/BENCHMARKS", "BENCHMARKS.html"), "capitals");
    ok(maps("/a_b-c/0", "a_b-c/0.html"), "underscores, dashes and digits");
    ok(maps("/a/b/c/d/e/f/g/h", "a/b/c/d/e/f/g/h.html"), "eight segments");
    ok(maps("/openapi", "openapi.html"), "/openapi is the rendered reference");
    ok(maps("/openapi.json", "openapi.json"), "/openapi.json is the document as is");
    ok(maps("/index", "index.html"), "/index is the home page too");
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char shown[64];
        size_t j = 0;
        for (const char *c = refused[i]; *c != '\0' && j < sizeof(shown) - 5; c++)
            j += (unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f
                     ? (size_t)snprintf(shown + j, 5, "\\x%02x", (unsigned char)*c)
                     : (size_t)snprintf(shown + j, 2, "%c", *c);
        shown[j] = '\0';
        ok(gw_docs_map(refused[i], rel) == -1, "refused: '%s'", shown);
    }
    ok(gw_docs_map(NULL, rel) == -1, "refused: NULL");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[0] = '/';
    big[65] = '/';
    ok(gw_docs_map(big, rel) == -1, "refused: a path of %zu bytes", strlen(big));
    big[65] = 'a';
    big[66] = '\0';
    ok(gw_docs_map(big, rel) == -1, "refused: a segment of 65 bytes");
    big[64] = '\0';
    ok(gw_docs_map(big, rel) == 0, "a segment of 64 bytes");
    memset(big, '/', sizeof(big) - 1);
    ok(gw_docs_map(big, rel) == -1, "refused: hundreds of slashes");
    for (size_t i = 0; i < 250; i += 2)
        memcpy(big + i, "/a", 2);
    big[250] = '\0';
    ok(gw_docs_map(big, rel) == -1, "refused: 125 segments");
    {
        /* the longest path that fits: 4 segments of 62 bytes plus ".html" */
        char p[300];
        size_t n = 0;
        for (int s = 0; s < 4; s++) {
            p[n++] = '/';
            memset(p + n, 'b', 62);
            n += 62;
        }
        p[n] = '\0';
        ok(gw_docs_map(p, rel) == -1, "refused: a rel path that would not fit in %d bytes", GW_STATIC_REL_MAX);
        p[n - 10] = '\0';
        ok(gw_docs_map(p, rel) == 0 && strlen(rel) < GW_STATIC_REL_MAX, "one that fits");
    }

    is_str(gw_docs_content_type("configuration.html"), "text/html; charset=utf-8", "pages are HTML");
    is_str(gw_docs_content_type("openapi.json"), "application/json", "openapi.json is JSON");
    ok(gw_docs_content_type("configuration.md") == NULL, "no other type");
    ok(gw_docs_content_type("html") == NULL, "no extension");
}

static void test_find_dir(void)
{
    char out[PATH_MAX], err[GW_ERR_LEN], md[PATH_MAX * 2];

    ok(gw_docs_find_dir(site, out, err) == 0, "DOCS_DIR: a rendered site");
    is_str(out, site, "as its real path");
    snprintf(md, sizeof(md), "%s/md", scratch);
    ok(gw_docs_find_dir(md, out, err) == -1, "DOCS_DIR: the Markdown sources are not a site");
    has_str(err, "DOCS_DIR: ", "the error names DOCS_DIR");
    has_str(err, "index.html", "and says what is missing");
    has_str(err, "make docs", "and how to render the site");
    ok(gw_docs_find_dir("/nonexistent/docs", out, err) == -1, "DOCS_DIR: a missing directory");
    has_str(err, "/nonexistent/docs", "is named");
    snprintf(md, sizeof(md), "%s/index.html", site);
    ok(gw_docs_find_dir(md, out, err) == -1, "DOCS_DIR: a file is not a site");
}

/* ---- through civetweb ---- */

typedef struct resp {
    long status;
    char headers[4096];
    size_t hlen;
    char body[8192];
    size_t blen;
} resp;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t len = size * n;
    if (r->hlen + len < sizeof(r->headers)) {
        memcpy(r->headers + r->hlen, p, len);
        r->hlen += len;
        r->headers[r->hlen] = '\0';
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t len = size * n;
    if (r->blen + len < sizeof(r->body)) {
        memcpy(r->body + r->blen, p, len);
        r->blen += len;
        r->body[r->blen] = '\0';
    }
    return len;
}

/* A request with the path sent as is; extra: a header line or NULL. */
static void fetch(int port, const char *method, const char *path, const char *extra, resp *r)
{
    CURL *c = curl_easy_init();
    char url[1024];
    struct curl_slist *h = NULL;
    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (extra != NULL) {
        h = curl_slist_append(h, extra);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void test_server(void)
{
    gw_config cfg;
    struct mg_context *ctx = NULL, *second = NULL;
    char err[GW_ERR_LEN], etag[128], cond[160];
    const char *p;
    resp r;
    int port = free_port();
    static const char *const not_found[] = {
        "/no-such-page",     "/escape",          "/passwd",         "/dir",
        "/outdir/secret",    "/notes",           "/.hidden",        "/configuration.html",
        "/index.html",       "/../secret",       "/%2e%2e/secret",  "/sql-api/../../secret",
        "/sql-api/%2e%2e/x", "/..%2fsecret",     "/site/index",     "//etc/passwd",
        "/configuration.md", "/sql-api//config", "/openapi.json/x", "/a/b/c/d/e/f/g/h/i",
    };

    memset(&cfg, 0, sizeof(cfg));
    cfg.listen_host = "127.0.0.1";
    cfg.docs_port = port;
    cfg.worker_threads = 4;
    cfg.request_timeout_ms = 5000;
    cfg.keep_alive_timeout_ms = 1000;
    cfg.max_header_bytes = 16384;

    ok(gw_docs_start(&cfg, "/nonexistent/docs", &ctx, err) == -1 && ctx == NULL, "no site: the server does not start");
    has_str(err, "DOCS_DIR", "naming DOCS_DIR");
    if (!ok(gw_docs_start(&cfg, site, &ctx, err) == 0, "the documentation server starts")) {
        diag("%s", err);
        return;
    }
    cfg.docs_port = free_port();
    ok(gw_docs_start(&cfg, site, &second, err) == -1 && second == NULL, "a second one at the same time is refused");
    has_str(err, "already running", "saying so");

    fetch(port, "GET", "/", NULL, &r);
    is_int(r.status, 200, "GET / is 200");
    is_str(r.body, "<!DOCTYPE html><title>home</title>\n", "the home page (index.html)");
    has_str(r.headers, "Content-Type: text/html; charset=utf-8", "as HTML");
    has_str(r.headers, CSP, "with the docs CSP (no script, no outside asset)");
    has_str(r.headers, "Referrer-Policy: no-referrer", "no referrer");
    has_str(r.headers, "X-Frame-Options: DENY", "no framing");
    has_str(r.headers, "X-Content-Type-Options: nosniff", "nosniff");
    has_str(r.headers, "Cache-Control: no-cache", "revalidated");
    has_str(r.headers, "Last-Modified: ", "Last-Modified");
    p = strstr(r.headers, "ETag: ");
    etag[0] = '\0';
    if (ok(p != NULL, "an ETag")) {
        size_t n = strcspn(p + 6, "\r\n");
        snprintf(etag, sizeof(etag), "%.*s", (int)n, p + 6);
    }
    snprintf(cond, sizeof(cond), "If-None-Match: %s", etag);
    fetch(port, "GET", "/", cond, &r);
    is_int(r.status, 304, "If-None-Match with the ETag: 304");
    is_int(r.blen, 0, "without a body");

    fetch(port, "GET", "/configuration", NULL, &r);
    is_int(r.status, 200, "GET /configuration");
    is_str(r.body, "<p>configuration</p>\n", "configuration.html");
    fetch(port, "GET", "/sql-api", NULL, &r);
    is_str(r.body, "<p>sql api</p>\n", "/sql-api is sql-api.html");
    fetch(port, "GET", "/sql-api/", NULL, &r);
    is_str(r.body, "<p>sql api</p>\n", "/sql-api/ too");
    fetch(port, "GET", "/sql-api/config?x=1", NULL, &r);
    is_str(r.body, "<p>config</p>\n", "/sql-api/config, a query string ignored");
    fetch(port, "GET", "/alias", NULL, &r);
    is_int(r.status, 200, "a symlink inside the site is followed");
    fetch(port, "GET", "/openapi.json", NULL, &r);
    is_int(r.status, 200, "GET /openapi.json");
    has_str(r.headers, "Content-Type: application/json\r\n", "as JSON");
    is_str(r.body, "{\"openapi\":\"3.0.3\"}\n", "as is");
    fetch(port, "HEAD", "/configuration", NULL, &r);
    is_int(r.status, 200, "HEAD /configuration");
    has_str(r.headers, "Content-Length: 21", "with the length of GET");
    is_int(r.blen, 0, "and no body");

    fetch(port, "POST", "/configuration", NULL, &r);
    is_int(r.status, 405, "POST is 405");
    has_str(r.headers, "Allow: GET, HEAD", "with Allow");
    has_str(r.headers, "Content-Type: text/html; charset=utf-8", "an HTML page");
    has_str(r.body, "<h1>405 Method Not Allowed</h1>", "saying so");
    fetch(port, "DELETE", "/", NULL, &r);
    is_int(r.status, 405, "DELETE / is 405");

    for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
        fetch(port, "GET", not_found[i], NULL, &r);
        is_int(r.status, 404, "GET %s is 404", not_found[i]);
        ok(strstr(r.body, "<h1>404 Not Found</h1>") != NULL && strstr(r.headers, "text/html; charset=utf-8") &&
               strstr(r.headers, CSP) != NULL,
           "a small HTML 404 with the docs headers (%s)", not_found[i]);
        ok(strstr(r.body, "TOP-SECRET") == NULL && strstr(r.body, "root:") == NULL,
           "nothing from outside the site (%s)", not_found[i]);
    }
    fetch(port, "GET", "/%zz", NULL, &r);
    is_int(r.status, 400, "a broken escape is 400");

    gw_docs_stop(ctx);
    fetch(port, "GET", "/", NULL, &r);
    ok(r.status == 0, "stopped: nothing answers");
    if (ok(gw_docs_start(&cfg, site, &ctx, err) == 0, "after a stop it starts again")) {
        fetch(cfg.docs_port, "GET", "/configuration", NULL, &r);
        is_int(r.status, 200, "and serves");
        gw_docs_stop(ctx);
    }
    gw_docs_stop(NULL);
    ok(1, "stopping NULL is a no-op");
}

int main(void)
{
    char tmpl[] = "/tmp/test_docs.XXXXXX";

    if (mkdtemp(tmpl) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    if (realpath(tmpl, scratch) == NULL)
        return 1;
    snprintf(site, sizeof(site), "%s/site", scratch);
    mkd("site");
    mkd("site/sql-api");
    mkd("site/dir.html");
    mkd("md");
    mkd("outside");
    put("site/index.html", "<!DOCTYPE html><title>home</title>\n");
    put("site/configuration.html", "<p>configuration</p>\n");
    put("site/sql-api.html", "<p>sql api</p>\n");
    put("site/sql-api/config.html", "<p>config</p>\n");
    put("site/openapi.json", "{\"openapi\":\"3.0.3\"}\n");
    put("site/notes.txt", "notes\n");
    put("site/.hidden.html", "hidden\n");
    put("secret.html", "TOP-SECRET\n");
    put("outside/secret.html", "TOP-SECRET\n");
    put("md/getting-started.md", "# Getting started\n");
    lnk("../secret.html", "site/escape.html");
    lnk("/etc/passwd", "site/passwd.html");
    lnk("configuration.html", "site/alias.html");
    lnk("../outside", "site/outdir");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    mg_init_library(0);
    gw_log_set_level(GW_LOG_ERROR);
    test_map();
    test_find_dir();
    test_server();
    mg_exit_library();
    curl_global_cleanup();
    {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
        if (system(cmd) != 0)
            diag("could not remove %s", scratch);
    }
    return tap_done();
}
