/*
 * regress/unit/test_static.c: the web UI's static file handler (src/http/
 * static.c). Without sockets: the request-path allow-list (gw_static_map:
 * traversal, dot segments, dotfiles, empty segments, odd characters, unknown
 * extensions and top-level files), Content-Types, Cache-Control, the
 * realpath containment against a scratch www tree with symlinks pointing
 * outside (also to a sibling directory sharing the prefix), the www
 * directory lookup (gw_static_init, and gw_static_find_dir as any site uses
 * it), ETag and conditional requests. Then through a real
 * civetweb listener on 127.0.0.1 (libcurl as the client): status codes,
 * headers (CSP, nosniff, X-Frame-Options, caching), 304, 405, HEAD, and
 * that paths outside the allow-list fall through to the JSON 404.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/connguard.c"
#include "http/server.c"
#include "http/static.c"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "loopback.h"
#include "tap.h"

static char scratch[PATH_MAX];  /* holds www/ and outside/ */
static char root[PATH_MAX + 8]; /* scratch/www */

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
    if (gw_static_map(uri, rel) != 0)
        return 0;
    return want == NULL || strcmp(rel, want) == 0;
}

static void test_map(void)
{
    static const char *const refused[] = {
        "index.html",
        "",
        "/..",
        "/.",
        "/app/../index.html",
        "/app/./main.js",
        "/app/..",
        "/vendor/../app.css",
        "/vendor/x/../../index.html",
        "/app//main.js",
        "//index.html",
        "/app/",
        "/app",
        "/vendor/",
        "/vendor",
        "/.env",
        "/.git/config",
        "/app/.hidden.js",
        "/vendor/.stamp",
        "/app/.js",
        "/Makefile",
        "/package.json",
        "/package-lock.json",
        "/README.md",
        "/app/main.ts",
        "/app/main.JS",
        "/app/main.js/",
        "/app\\main.js",
        "/app/ma%2fin.js",
        "/app/main js",
        "/app/main.js\n",
        "/app/main.js;x",
        "/node_modules/preact/x.js",
        "/www/index.html",
        "/other.css",
        "/app.css/x",
        "/index.htm",
        "/vendor/x.txt",
        "/vendor/a/LICENSE.txt",
        "/app/a/b/c/d/e/f/g.js",
        "/app/\xc3\xa9.js",
    };
    char rel[GW_STATIC_REL_MAX];
    char longp[400];

    ok(maps("/", "index.html"), "/ is index.html");
    ok(maps("/index.html", "index.html"), "/index.html");
    ok(maps("/app.css", "app.css"), "/app.css");
    ok(maps("/favicon.svg", "favicon.svg"), "/favicon.svg");
    ok(maps("/favicon.ico", "favicon.ico"), "/favicon.ico");
    ok(maps("/app/main.js", "app/main.js"), "/app/main.js");
    ok(maps("/app/sub/page.js", "app/sub/page.js"), "a sub-directory of app/");
    ok(maps("/vendor/preact@11.2.0/preact.js", "vendor/preact@11.2.0/preact.js"), "a vendored library");
    ok(maps("/vendor/preact@11.2.0/preact.js.map", NULL), "a source map");
    ok(maps("/vendor/inter@5.3.0/inter-latin-wght-normal.woff2", NULL), "a font");
    ok(maps("/vendor/uplot@1.6.32/uPlot.min.css", NULL), "a vendored stylesheet");
    ok(maps("/app/logo.png", NULL), "a png");
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char shown[64];
        size_t j = 0;
        for (const char *c = refused[i]; *c != '\0' && j < sizeof(shown) - 4; c++)
            j += (unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f
                     ? (size_t)snprintf(shown + j, 5, "\\x%02x", (unsigned char)*c)
                     : (size_t)snprintf(shown + j, 2, "%c", *c);
        shown[j] = '\0';
        ok(gw_static_map(refused[i], rel) == -1, "refused: '%s'", shown);
    }
    ok(gw_static_map(NULL, rel) == -1, "refused: NULL");
    memset(longp, 'a', sizeof(longp));
    memcpy(longp, "/app/", 5);
    memcpy(longp + sizeof(longp) - 4, ".js", 4);
    ok(gw_static_map(longp, rel) == -1, "refused: a path of %zu bytes", strlen(longp));
}

static void test_types(void)
{
    is_str(gw_static_content_type("index.html"), "text/html; charset=utf-8", "html");
    is_str(gw_static_content_type("app/main.js"), "text/javascript; charset=utf-8", "js");
    is_str(gw_static_content_type("app.css"), "text/css; charset=utf-8", "css");
    is_str(gw_static_content_type("favicon.svg"), "image/svg+xml", "svg");
    is_str(gw_static_content_type("a/b.png"), "image/png", "png");
    is_str(gw_static_content_type("favicon.ico"), "image/x-icon", "ico");
    is_str(gw_static_content_type("vendor/f@1/f.woff2"), "font/woff2", "woff2");
    is_str(gw_static_content_type("vendor/p@1/p.js.map"), "application/json; charset=utf-8", "map");
    ok(gw_static_content_type("app/x.mjs") == NULL, "no .mjs");
    ok(gw_static_content_type("app/x.json") == NULL, "no .json");
    ok(gw_static_content_type("app/x.txt") == NULL, "no .txt");
    ok(gw_static_content_type("Makefile") == NULL, "no extension");
    ok(gw_static_content_type("app/.js") == NULL, "a dotfile is not an extension");
    ok(gw_static_content_type("app.d/x") == NULL, "a dot in a directory is not an extension");
    is_str(gw_static_cache_control("vendor/preact@11.2.0/preact.js"), "public, max-age=31536000, immutable",
           "vendor/ is cached");
    is_str(gw_static_cache_control("app/main.js"), "no-cache", "app/ is revalidated");
    is_str(gw_static_cache_control("index.html"), "no-cache", "index.html is revalidated");
}

static void test_resolve(void)
{
    char real[PATH_MAX], want[PATH_MAX * 2];
    struct stat st;
    char big[64];

    ok(gw_static_resolve(root, "index.html", real, &st) == 0, "index.html resolves");
    snprintf(want, sizeof(want), "%s/index.html", root);
    is_str(real, want, "to its real path");
    ok(gw_static_resolve(root, "app/main.js", real, &st) == 0 && st.st_size == 9,
       "app/main.js resolves, with its size");
    ok(gw_static_resolve(root, "vendor/lib@1.0.0/lib.js", real, &st) == 0, "a vendored file resolves");
    ok(gw_static_resolve(root, "app/inside.js", real, &st) == 0, "a symlink to a file inside www resolves");
    ok(gw_static_resolve(root, "app/outside.js", real, &st) == -1, "a symlink to a file outside www is refused");
    ok(gw_static_resolve(root, "app/passwd.js", real, &st) == -1, "a symlink to /etc/passwd is refused");
    ok(gw_static_resolve(root, "app/sibling.js", real, &st) == -1, "a symlink into www2/ (same prefix) is refused");
    ok(gw_static_resolve(root, "vendor/linked@1/x.js", real, &st) == -1,
       "a symlinked directory leading out is refused");
    ok(gw_static_resolve(root, "app/dir.js", real, &st) == -1, "a directory is refused");
    ok(gw_static_resolve(root, "app/missing.js", real, &st) == -1, "a missing file is refused");
    ok(gw_static_resolve(root, "../outside/secret.js", real, &st) == -1, "'..' leading out is refused");
    ok(gw_static_resolve("", "index.html", real, &st) == -1, "no root, nothing resolves");
    snprintf(big, sizeof(big), "%s", "app/main.js");
    ok(gw_static_resolve(root, big, real, &st) == 0, "resolve does not change rel");
}

static void test_init(void)
{
    char err[GW_ERR_LEN], empty[PATH_MAX * 2], file[PATH_MAX * 2];
    struct stat st;

    err[0] = '\0';
    ok(gw_static_init(root, err) == 0, "init with a www directory");
    is_str(gw_static_dir(), root, "the directory is remembered");
    snprintf(empty, sizeof(empty), "%s/outside", scratch);
    ok(gw_static_init(empty, err) == -1, "a directory without index.html is refused");
    has_str(err, "WWW_DIR", "the error names WWW_DIR");
    is_str(gw_static_dir(), "", "and nothing is served");
    snprintf(file, sizeof(file), "%s/index.html", root);
    ok(gw_static_init(file, err) == -1, "a file is refused");
    ok(gw_static_init("/nonexistent/www", err) == -1, "a missing directory is refused");
    has_str(err, "/nonexistent/www", "the error names it");
    if (stat(GW_STATIC_SYSTEM_DIR, &st) != 0) {
        ok(gw_static_init(NULL, err) == -1, "no setting and no default directory: refused");
        has_str(err, "WWW_DIR: not set", "the error says so");
    } else {
        ok(1, "# skip %s exists", GW_STATIC_SYSTEM_DIR);
        ok(1, "# skip");
    }
    ok(gw_static_init(root, err) == 0, "init again");
}

/* gw_static_find_dir as any site uses it: the setting, else beside gatewayd, else the system directory. */
static void test_find_dir(void)
{
    char out[PATH_MAX], err[GW_ERR_LEN], exe[PATH_MAX], beside[PATH_MAX * 2], other[PATH_MAX * 2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    size_t k = 0;

    ok(gw_static_find_dir("SITE_DIR", root, "nowhere", "/nonexistent", out, err) == 0 && strcmp(out, root) == 0,
       "find_dir: the setting");
    snprintf(other, sizeof(other), "%s/outside", scratch);
    ok(gw_static_find_dir("SITE_DIR", other, "nowhere", "/nonexistent", out, err) == -1,
       "find_dir: a setting naming a directory without index.html is refused");
    has_str(err, "SITE_DIR: '", "the error names the setting");
    ok(gw_static_find_dir("SITE_DIR", "", "nowhere", root, out, err) == 0 && strcmp(out, root) == 0,
       "find_dir: not set, nothing beside gatewayd: the system directory");
    ok(gw_static_find_dir("SITE_DIR", NULL, "nowhere", "/nonexistent", out, err) == -1, "find_dir: none at all");
    has_str(err, "SITE_DIR: not set, and neither <gatewayd's directory>/nowhere nor /nonexistent",
            "says where it looked");
    /* beside: relative to the directory of the running binary */
    exe[n > 0 ? n : 0] = '\0';
    for (const char *c = exe; *c != '\0'; c++)
        if (*c == '/')
            k += (size_t)snprintf(beside + k, sizeof(beside) - k, "../");
    snprintf(beside + k, sizeof(beside) - k, "%s", root + 1);
    ok(gw_static_find_dir("SITE_DIR", NULL, beside, "/nonexistent", out, err) == 0 && strcmp(out, root) == 0,
       "find_dir: not set: the directory beside gatewayd");
}

static void test_validators(void)
{
    struct stat a, b;
    char ea[64], eb[64];
    memset(&a, 0, sizeof(a));
    a.st_size = 755;
    a.st_mtim.tv_sec = 1700000000;
    a.st_mtim.tv_nsec = 5;
    b = a;
    gw_static_etag(&a, ea);
    is_str(ea, "\"2f3-17979cfe362a0005\"", "etag: size and mtime in ns, hex, quoted");
    b.st_mtim.tv_nsec = 6;
    gw_static_etag(&b, eb);
    ok(strcmp(ea, eb) != 0, "etag changes with the mtime");
    b = a;
    b.st_size = 756;
    gw_static_etag(&b, eb);
    ok(strcmp(ea, eb) != 0, "etag changes with the size");

    ok(gw_static_not_modified(ea, NULL, ea, 0), "If-None-Match: the same etag");
    ok(gw_static_not_modified("\"x\", \"2f3-17979cfe362a0005\"", NULL, ea, 0), "If-None-Match: in a list");
    ok(gw_static_not_modified("W/\"2f3-17979cfe362a0005\"", NULL, ea, 0), "If-None-Match: weak compare");
    ok(gw_static_not_modified("*", NULL, ea, 0), "If-None-Match: *");
    ok(!gw_static_not_modified("\"2f3-17979cfe362a0006\"", NULL, ea, 0), "If-None-Match: another etag");
    ok(!gw_static_not_modified("", NULL, ea, 0), "If-None-Match: empty");
    ok(!gw_static_not_modified("\"other\"", "Tue, 14 Nov 2023 22:13:20 GMT", ea, 1700000000),
       "If-None-Match wins over If-Modified-Since");
    ok(gw_static_not_modified(NULL, "Tue, 14 Nov 2023 22:13:20 GMT", ea, 1700000000), "If-Modified-Since: the mtime");
    ok(gw_static_not_modified(NULL, "Wed, 15 Nov 2023 00:00:00 GMT", ea, 1700000000), "If-Modified-Since: later");
    ok(!gw_static_not_modified(NULL, "Tue, 14 Nov 2023 22:13:19 GMT", ea, 1700000000), "If-Modified-Since: earlier");
    ok(!gw_static_not_modified(NULL, "yesterday", ea, 1700000000), "If-Modified-Since: garbage");
    ok(!gw_static_not_modified(NULL, NULL, ea, 1700000000), "no validators");
}

/* ---- through civetweb ---- */

typedef struct resp {
    long status;
    char headers[4096];
    size_t hlen;
    char body[4096];
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
    char url[512];
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
    gw_http_route routes[GW_STATIC_NROUTES];
    gw_http_opts o;
    struct mg_context *ctx = NULL;
    char err[GW_ERR_LEN], etag[128], cond[160];
    const char *p;
    resp r;
    int port = free_port();
    static const char *const not_found[] = {
        "/app/../index.html",
        "/app/%2e%2e/index.html",
        "/app/..%2fapp.css",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/.gitignore",
        "/vendor/",
        "/app/",
        "/app//main.js",
        "/app/outside.js",
        "/app/passwd.js",
        "/app/dir.js",
        "/Makefile",
        "/vendor/lib@1.0.0/LICENSE.txt",
        "/nothing",
        "/app.css.bak",
        "/favicon.ico",
    };

    memset(&o, 0, sizeof(o));
    o.name = "static-test";
    o.host = "127.0.0.1";
    o.port = port;
    o.threads = 2;
    o.request_timeout_ms = 5000;
    o.keep_alive_timeout_ms = 1000;
    o.max_header_bytes = 16384;
    gw_static_routes(routes);
    if (!ok(gw_http_start(&o, routes, GW_STATIC_NROUTES, &ctx, err) == 0, "a listener with the static routes")) {
        diag("%s", err);
        return;
    }
    fetch(port, "GET", "/", NULL, &r);
    is_int(r.status, 200, "GET / is 200");
    is_str(r.body, "<!doctype html><title>t</title>\n", "with index.html");
    has_str(r.headers, "Content-Type: text/html; charset=utf-8", "as html");
    has_str(r.headers, "Cache-Control: no-cache", "revalidated");
    has_str(r.headers,
            "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
            "CSP");
    has_str(r.headers, "X-Content-Type-Options: nosniff", "nosniff");
    has_str(r.headers, "X-Frame-Options: DENY", "no framing");
    has_str(r.headers, "Referrer-Policy: ", "a referrer policy");
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
    fetch(port, "GET", "/", "If-None-Match: \"stale\"", &r);
    is_int(r.status, 200, "another ETag: 200");

    fetch(port, "GET", "/app/main.js", NULL, &r);
    is_int(r.status, 200, "GET /app/main.js");
    has_str(r.headers, "Content-Type: text/javascript; charset=utf-8", "as javascript");
    is_str(r.body, "main();\n\n", "its bytes");
    fetch(port, "GET", "/app/main.js?v=2", NULL, &r);
    is_int(r.status, 200, "a query string is ignored");
    fetch(port, "GET", "/vendor/lib@1.0.0/lib.js", NULL, &r);
    is_int(r.status, 200, "a vendored file");
    has_str(r.headers, "Cache-Control: public, max-age=31536000, immutable", "cached for a year");
    fetch(port, "GET", "/app/inside.js", NULL, &r);
    is_int(r.status, 200, "a symlink inside www");
    fetch(port, "HEAD", "/app.css", NULL, &r);
    is_int(r.status, 200, "HEAD /app.css");
    has_str(r.headers, "Content-Length: 14", "with the length");
    is_int(r.blen, 0, "and no body");
    fetch(port, "POST", "/app/main.js", NULL, &r);
    is_int(r.status, 405, "POST is 405");
    has_str(r.headers, "Allow: GET, HEAD", "with Allow");
    has_str(r.body, "\"method_not_allowed\"", "as a JSON error");
    for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
        fetch(port, "GET", not_found[i], NULL, &r);
        is_int(r.status, 404, "GET %s is 404", not_found[i]);
        lacks_str(r.body, "root:", "without another file's bytes (%s)", not_found[i]);
    }
    gw_http_stop(ctx);
}

int main(void)
{
    char tmpl[] = "/tmp/test_static.XXXXXX";

    if (mkdtemp(tmpl) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    if (realpath(tmpl, scratch) == NULL)
        return 1;
    snprintf(root, sizeof(root), "%s/www", scratch);
    mkd("www");
    mkd("www/app");
    mkd("www/app/dir.js");
    mkd("www/vendor");
    mkd("www/vendor/lib@1.0.0");
    mkd("www2");
    mkd("outside");
    put("www/index.html", "<!doctype html><title>t</title>\n");
    put("www/app.css", "body{margin:0}");
    put("www/app/main.js", "main();\n\n");
    put("www/vendor/lib@1.0.0/lib.js", "export default 1;\n");
    put("www/vendor/lib@1.0.0/LICENSE.txt", "MIT\n");
    put("www/.gitignore", "x\n");
    put("www/Makefile", "all:\n");
    put("outside/secret.js", "root:x:0:0\n");
    put("www2/a.js", "root:sibling\n");
    lnk("../index.html", "www/app/inside.js");
    lnk("../../outside/secret.js", "www/app/outside.js");
    lnk("/etc/passwd", "www/app/passwd.js");
    lnk("../../www2/a.js", "www/app/sibling.js");
    lnk("../../outside", "www/vendor/linked@1");
    put("outside/x.js", "root:dir\n");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    mg_init_library(0);
    test_map();
    test_types();
    test_resolve();
    test_init();
    test_find_dir();
    test_validators();
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
