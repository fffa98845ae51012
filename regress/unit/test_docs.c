/*
 * regress/unit/test_docs.c: the documentation server without sockets:
 * Markdown to HTML (libcmark safe mode: no raw HTML, no javascript: links;
 * pipe tables; heading ids), link rewriting (foo.md -> /foo, anchors kept,
 * links out of docs/ dropped), the path allow-list (gw_docs_route and
 * gw_docs_resolve against a scratch docs tree with traversal attempts,
 * dotfiles and symlinks pointing outside), the OpenAPI reference, and whole
 * responses from gw_docs_respond (navigation order and links, 404/405,
 * /openapi.json, the render cache noticing an edited file).
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/docs.c"
#include "http/docs_layout.c"
#include "http/docs_openapi.c"
#include "http/docs_render.c"
#include "http/server.c"

#include <sys/stat.h>
#include <sys/time.h>

#include "tap.h"

static char scratch[PATH_MAX];

static void put(const char *rel, const char *text)
{
    char path[PATH_MAX * 2];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", scratch, rel);
    f = fopen(path, "w");
    if (f == NULL) {
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

/* Renders md as the document rel; returns a malloc'ed string (or NULL). */
static char *md(const char *rel, const char *text, char **title)
{
    gw_buf b;
    char err[GW_ERR_LEN];
    char *out = NULL;
    gw_buf_init(&b, 1 << 24);
    if (gw_docs_render_markdown(rel, text, strlen(text), &b, title, err) == 0 && gw_buf_cstr(&b) != NULL)
        out = strdup(b.data);
    else
        diag("render failed: %s", err);
    gw_buf_free(&b);
    return out;
}

static const char *link_of(const char *cur, const char *url)
{
    static char out[GW_DOCS_URL_MAX];
    gw_docs_link r = gw_docs_rewrite_link(cur, url, out, sizeof(out));
    return r == GW_DOCS_LINK_DROP ? "(dropped)" : out;
}

static void test_links(void)
{
    char out[GW_DOCS_URL_MAX];

    ok(gw_docs_url_for("configuration.md", out, sizeof(out)) == 0 && strcmp(out, "/configuration") == 0,
       "url_for: foo.md -> /foo");
    ok(gw_docs_url_for("sql-api/config.md", out, sizeof(out)) == 0 && strcmp(out, "/sql-api/config") == 0,
       "url_for: sql-api/x.md -> /sql-api/x");
    ok(gw_docs_url_for("sql-api/README.md", out, sizeof(out)) == 0 && strcmp(out, "/sql-api") == 0,
       "url_for: a directory's README.md -> /dir");
    ok(gw_docs_url_for("README.md", out, sizeof(out)) == 0 && strcmp(out, "/README") == 0,
       "url_for: top-level README.md -> /README");
    ok(gw_docs_url_for("notes.txt", out, sizeof(out)) != 0, "url_for: not a .md file");

    is_str(link_of("getting-started.md", "configuration.md"), "/configuration", "relative .md link");
    is_str(link_of("getting-started.md", "sql-api/README.md"), "/sql-api", "link to a README");
    is_str(link_of("sql-api/config.md", "README.md#conventions"), "/sql-api#conventions", "anchor kept");
    is_str(link_of("sql-api/config.md", "pricing.md"), "/sql-api/pricing", "sibling in a subdirectory");
    is_str(link_of("sql-api/audit.md", "../upgrading.md"), "/upgrading", "../ to the top level");
    is_str(link_of("sql-api/audit.md", "./apps.md?x=1#y"), "/sql-api/apps?x=1#y", "./ with query and fragment");
    is_str(link_of("sql-api/x.md", "../openapi.json"), "/openapi.json", "a non-.md relative link becomes absolute");
    is_str(link_of("a.md", "#local"), "#local", "a fragment stays");
    is_str(link_of("a.md", "https://example.com/x.md"), "https://example.com/x.md", "https kept as is");
    is_str(link_of("a.md", "mailto:ops@example.com"), "mailto:ops@example.com", "mailto kept");
    is_str(link_of("a.md", "/configuration"), "/configuration", "site-absolute kept");
    is_str(link_of("a.md", "javascript:alert(1)"), "(dropped)", "javascript: dropped");
    is_str(link_of("a.md", "JavaScript:alert(1)"), "(dropped)", "JavaScript: dropped (any case)");
    is_str(link_of("a.md", "vbscript:x"), "(dropped)", "vbscript: dropped");
    is_str(link_of("a.md", "data:text/html,<b>"), "(dropped)", "data: dropped");
    is_str(link_of("a.md", "file:///etc/passwd"), "(dropped)", "file: dropped");
    is_str(link_of("a.md", "../README.md"), "(dropped)", "a link out of docs/ is dropped");
    is_str(link_of("sql-api/a.md", "../../Makefile"), "(dropped)", "a deeper escape is dropped");
    is_str(link_of("a.md", "x\\..\\y.md"), "(dropped)", "backslashes are not guessed at");
}

static void test_markdown(void)
{
    char *title = NULL, *h;

    h = md("getting-started.md",
           "# Getting started\n\nSee [config](configuration.md) and [conv](sql-api/README.md#conventions).\n\n"
           "## Run it\n\n## Run it\n\n## `aistudio.create_llm(...)` and *more*\n",
           &title);
    is_str(title, "Getting started", "title = first level-1 heading");
    has_str(h, "<h1 id=\"getting-started\">", "h1 has a slug id");
    has_str(h, "href=\"/configuration\"", "relative .md link rewritten");
    has_str(h, "href=\"/sql-api#conventions\"", "README link with anchor rewritten");
    has_str(h, "<h2 id=\"run-it\">", "h2 id");
    has_str(h, "<h2 id=\"run-it-1\">", "a repeated heading gets a suffix");
    has_str(h, "<h2 id=\"aistudiocreate_llm-and-more\">", "GitHub-style slug of code and emphasis");
    has_str(h, "<code>aistudio.create_llm(...)</code>", "heading keeps its inline markup");
    has_str(h, "href=\"#run-it\"", "heading self-link");
    free(h);
    free(title);

    title = NULL;
    h = md("x.md",
           "<script>alert(1)</script>\n\nHello <b onclick=\"x()\">bold</b> "
           "[bad](javascript:alert(1)) [ok](https://example.com) ![img](javascript:alert(2))\n\n"
           "<img src=x onerror=alert(3)>\n",
           &title);
    ok(title == NULL, "no h1: no title");
    lacks_str(h, "<script", "raw <script> is not passed through");
    lacks_str(h, "onclick", "inline raw HTML is not passed through");
    lacks_str(h, "onerror", "raw <img> is not passed through");
    lacks_str(h, "javascript:", "no javascript: URL survives");
    has_str(h, "raw HTML omitted", "libcmark safe mode marks what it dropped");
    has_str(h, " bad <a", "a dropped link keeps its text");
    has_str(h, "href=\"https://example.com\"", "https link kept");
    free(h);

    h = md("configuration.md",
           "Intro line\n"
           "| variable | default | meaning |\n"
           "|:---|:---:|---:|\n"
           "| `A_B` | `1` | see [upgrading](upgrading.md) |\n"
           "| pipe \\| inside | `x\\|y` |\n"
           "\n"
           "```\n| not | a table |\n|---|---|\n```\n"
           "\n"
           "- a list\n\n| one |\n|-----|\n| <b>x</b> |\n",
           NULL);
    has_str(h, "<p>Intro line</p>", "the paragraph before a table stays a paragraph");
    has_str(h, "<table>", "pipe table rendered");
    has_str(h, "<th>variable</th><th class=\"al-center\">default</th><th class=\"al-right\">meaning</th>",
            "header row with alignments");
    has_str(h, "<td><code>A_B</code></td>", "inline code in a cell");
    has_str(h, "<a href=\"/upgrading\">upgrading</a>", "links in cells are rewritten too");
    has_str(h, "<td>pipe | inside</td>", "escaped pipe is a literal pipe");
    has_str(h, "<code>x|y</code>", "escaped pipe inside a code span");
    has_str(h, "<td class=\"al-right\"></td>", "a short row is padded");
    has_str(h, "<pre><code>| not | a table |\n|---|---|\n</code></pre>", "no table inside a fenced code block");
    has_str(h, "<th>one</th>", "single-column table");
    lacks_str(h, "<b>x</b>", "raw HTML in a cell is not passed through");
    lacks_str(h, "gwdocs-table", "no placeholder left");
    free(h);

    h = md("a.md", "\x01gwdocs-table-7\x01\n", NULL);
    lacks_str(h, "<table", "a fake placeholder inserts nothing");
    free(h);

    /* invalid UTF-8 and NUL do not break anything */
    {
        gw_buf b;
        char err[GW_ERR_LEN];
        const char bad[] = "# T\xff\xfe\n\nnul\0byte | x |\n|-|-|\n";
        gw_buf_init(&b, 1 << 20);
        ok(gw_docs_render_markdown("a.md", bad, sizeof(bad) - 1, &b, NULL, err) == 0 && !b.failed,
           "invalid UTF-8 and NUL bytes render");
        gw_buf_free(&b);
    }

    {
        char slug[64];
        gw_docs_slugify("Rotating the master key", slug, sizeof(slug));
        is_str(slug, "rotating-the-master-key", "slug: spaces to dashes");
        gw_docs_slugify("Über café: 1.5 (beta)", slug, sizeof(slug));
        is_str(slug, "Über-café-15-beta", "slug: non-ASCII kept as is, punctuation dropped");
        gw_docs_slugify("ééééé", slug, 6);
        is_str(slug, "éé", "slug: never cuts a UTF-8 sequence");
    }
}

static void test_route(void)
{
    char stem[GW_DOCS_PATH_MAX + 1];
    char big[6000];
    static const char *const bad[] = {
        "",
        "configuration",
        "/../README",
        "/..",
        "/.",
        "/./configuration",
        "/sql-api/../../Makefile",
        "//etc/passwd",
        "/.git/config",
        "/.hidden",
        "/configuration.md",
        "/a/./b",
        "/%2e%2e/Makefile",
        "/sql-api//config",
        "//",
        "/a\\b",
        "/a b",
        "/a%2fb",
        "/a:b",
        "/~root",
        "/openapi.json/x",
        "/a/b/c/d/e/f/g/h/i",
        "/\xc3\xa9t\xc3\xa9",
    };

    is_int(gw_docs_route("/", stem, sizeof(stem)), GW_DOCS_ROUTE_INDEX, "/ is the index");
    is_int(gw_docs_route("/configuration", stem, sizeof(stem)), GW_DOCS_ROUTE_PAGE, "/configuration is a page");
    is_str(stem, "configuration", "its stem");
    is_int(gw_docs_route("/sql-api/config", stem, sizeof(stem)), GW_DOCS_ROUTE_PAGE, "/sql-api/config");
    is_str(stem, "sql-api/config", "its stem");
    is_int(gw_docs_route("/sql-api/", stem, sizeof(stem)), GW_DOCS_ROUTE_PAGE, "one trailing slash is fine");
    is_str(stem, "sql-api", "without the slash");
    is_int(gw_docs_route("/openapi.json", stem, sizeof(stem)), GW_DOCS_ROUTE_OPENAPI_JSON, "/openapi.json");
    is_int(gw_docs_route("/openapi", stem, sizeof(stem)), GW_DOCS_ROUTE_OPENAPI_HTML, "/openapi");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        is_int(gw_docs_route(bad[i], stem, sizeof(stem)), GW_DOCS_ROUTE_NOT_FOUND, "refused: '%s'", bad[i]);
    memset(big, '/', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    is_int(gw_docs_route(big, stem, sizeof(stem)), GW_DOCS_ROUTE_NOT_FOUND, "thousands of slashes refused");
    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    is_int(gw_docs_route(big, stem, sizeof(stem)), GW_DOCS_ROUTE_NOT_FOUND, "an over-long path refused");
    is_int(gw_docs_route(NULL, stem, sizeof(stem)), GW_DOCS_ROUTE_NOT_FOUND, "NULL refused");
}

static void make_tree(void)
{
    char path[PATH_MAX * 2];
    snprintf(scratch, sizeof(scratch), "/tmp/test_docs.XXXXXX");
    if (mkdtemp(scratch) == NULL) {
        diag("mkdtemp failed");
        exit(1);
    }
    mkd("docs");
    mkd("docs/sql-api");
    mkd("docs/guides");
    mkd("docs/.git");
    mkd("docs/sub.dir");
    put("secret.md", "# Outside\n\nTOP-SECRET\n");
    put("Makefile", "all:\n");
    put("docs/getting-started.md", "# Getting started\n\nRead [the configuration](configuration.md).\n");
    put("docs/configuration.md", "# Configuration reference\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
    put("docs/sql-api/README.md", "# SQL API\n\n## Conventions\n\nSee [config](config.md).\n");
    put("docs/sql-api/config.md", "# Config functions\n\nBack to [the conventions](README.md#conventions).\n");
    put("docs/sql-api/analytics.md", "# Analytics schema\n");
    put("docs/upgrading.md", "# Upgrades\n");
    put("docs/BENCHMARKS.md", "# Benchmarks\n");
    put("docs/zeta.md", "# Zeta notes\n");
    put("docs/alpha.md", "# Alpha notes\n");
    put("docs/guides/deep.md", "# A deep guide\n");
    put("docs/.hidden.md", "# Hidden\n");
    put("docs/.git/config.md", "# git\n");
    put("docs/sub.dir/x.md", "# dotted dir\n");
    put("docs/notes.txt", "not markdown\n");
    snprintf(path, sizeof(path), "%s/secret.md", scratch);
    put("docs/dummy", "");
    {
        char link[PATH_MAX * 2];
        snprintf(link, sizeof(link), "%s/docs/escape.md", scratch);
        if (symlink(path, link) != 0)
            diag("symlink failed");
        snprintf(link, sizeof(link), "%s/docs/passwd.md", scratch);
        if (symlink("/etc/passwd", link) != 0)
            diag("symlink failed");
        snprintf(link, sizeof(link), "%s/docs/alias.md", scratch);
        if (symlink("configuration.md", link) != 0)
            diag("symlink failed");
        snprintf(link, sizeof(link), "%s/docs/txt.md", scratch);
        if (symlink("notes.txt", link) != 0)
            diag("symlink failed");
        snprintf(link, sizeof(link), "%s/docs/outdir", scratch);
        if (symlink(scratch, link) != 0)
            diag("symlink failed");
    }
}

static void test_resolve(const char *root)
{
    char rel[GW_DOCS_REL_MAX];

    ok(gw_docs_resolve(root, "configuration", rel, sizeof(rel)) == 0 && strcmp(rel, "configuration.md") == 0,
       "resolve: configuration -> configuration.md");
    ok(gw_docs_resolve(root, "sql-api/config", rel, sizeof(rel)) == 0 && strcmp(rel, "sql-api/config.md") == 0,
       "resolve: sql-api/config");
    ok(gw_docs_resolve(root, "sql-api", rel, sizeof(rel)) == 0 && strcmp(rel, "sql-api/README.md") == 0,
       "resolve: a directory -> its README.md");
    ok(gw_docs_resolve(root, "alias", rel, sizeof(rel)) == 0 && strcmp(rel, "configuration.md") == 0,
       "resolve: a symlink inside docs/ is followed");
    ok(gw_docs_resolve(root, "escape", rel, sizeof(rel)) != 0, "resolve: symlink to a file outside docs/ refused");
    ok(gw_docs_resolve(root, "passwd", rel, sizeof(rel)) != 0, "resolve: symlink to /etc/passwd refused");
    ok(gw_docs_resolve(root, "txt", rel, sizeof(rel)) != 0, "resolve: symlink to a non-.md file refused");
    ok(gw_docs_resolve(root, "outdir/secret", rel, sizeof(rel)) != 0, "resolve: through a symlinked directory refused");
    ok(gw_docs_resolve(root, "outdir/docs/configuration", rel, sizeof(rel)) == 0 &&
           strcmp(rel, "configuration.md") == 0,
       "resolve: what a symlinked directory leads to counts by its real path (here back inside)");
    ok(gw_docs_resolve(root, "../secret", rel, sizeof(rel)) != 0, "resolve: ../ refused");
    ok(gw_docs_resolve(root, ".hidden", rel, sizeof(rel)) != 0, "resolve: dotfile refused");
    ok(gw_docs_resolve(root, "notes", rel, sizeof(rel)) != 0, "resolve: a .txt file is not a document");
    ok(gw_docs_resolve(root, "nope", rel, sizeof(rel)) != 0, "resolve: missing");
    ok(gw_docs_resolve(root, "", rel, sizeof(rel)) != 0, "resolve: empty stem");
}

static void get(gw_docs *d, const char *method, const char *path, gw_docs_response *r)
{
    gw_docs_respond(d, method, path, r);
    if (gw_buf_cstr(&r->body) == NULL)
        diag("body failed for %s", path);
}

/* The nav hrefs in page order, as one string "a b c". */
static void nav_hrefs(const char *html, char *out, size_t cap)
{
    const char *p = strstr(html, "<nav"), *end = strstr(html, "</nav>");
    size_t n = 0;
    out[0] = '\0';
    while (p != NULL && end != NULL && (p = strstr(p, "href=\"")) != NULL && p < end) {
        const char *q = strchr(p + 6, '"');
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%.*s", n ? " " : "", (int)(q - p - 6), p + 6);
        p = q;
    }
}

static void test_respond(const char *root)
{
    gw_docs *d;
    gw_docs_response r;
    char err[GW_ERR_LEN], hrefs[4096], path[PATH_MAX * 2];
    static const char *const refused[] = {"/../README",       "/..%2fMakefile", "/sql-api/../../Makefile",
                                          "//etc/passwd",     "/.git/config",   "/escape",
                                          "/passwd",          "/.hidden",       "/notes",
                                          "/Makefile",        "/outdir/secret", "/sub.dir/x",
                                          "/configuration.md"};

    ok(gw_docs_create(root, &d, err) == 0, "docs state created");

    get(d, "GET", "/", &r);
    is_int(r.status, 200, "GET / is 200");
    is_str(r.content_type, "text/html; charset=utf-8", "HTML content type");
    has_str(r.body.data, "<title>Getting started · pg_aistudio documentation</title>", "/ renders getting-started");
    has_str(r.body.data, "href=\"/configuration\"", "the body link is rewritten");
    nav_hrefs(r.body.data, hrefs, sizeof(hrefs));
    is_str(hrefs,
           "/getting-started /configuration /sql-api /sql-api/config /openapi /sql-api/analytics /upgrading "
           "/BENCHMARKS /alpha /guides/deep /zeta",
           "navigation: sections in order, then the other documents alphabetically; hidden, escaping and "
           "non-.md files are not listed");
    has_str(r.body.data, "<h2>SQL API</h2>", "section titles");
    has_str(r.body.data, "<h2>Analytics for analysts</h2>", "analytics section");
    has_str(r.body.data, ">Overview</a>", "the SQL API README is its overview");
    has_str(r.body.data, "href=\"/getting-started\" class=\"active\" aria-current=\"page\"", "current page marked");
    lacks_str(r.body.data, "TOP-SECRET", "nothing from outside docs/");
    lacks_str(r.body.data, "<script", "no script");
    lacks_str(r.body.data, "http://", "no external asset");
    gw_buf_free(&r.body);

    get(d, "GET", "/sql-api/config", &r);
    is_int(r.status, 200, "GET /sql-api/config");
    has_str(r.body.data, "href=\"/sql-api#conventions\"", "README.md#conventions -> /sql-api#conventions");
    has_str(r.body.data, "Source: <code>docs/sql-api/config.md</code>", "source footer");
    gw_buf_free(&r.body);

    get(d, "GET", "/sql-api", &r);
    is_int(r.status, 200, "GET /sql-api serves the README");
    has_str(r.body.data, "<h2 id=\"conventions\">", "and the anchor target exists");
    gw_buf_free(&r.body);

    get(d, "HEAD", "/configuration", &r);
    is_int(r.status, 200, "HEAD is answered like GET");
    has_str(r.body.data, "<table>", "tables render in pages");
    gw_buf_free(&r.body);

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        get(d, "GET", refused[i], &r);
        is_int(r.status, 404, "404 for %s", refused[i]);
        ok(strstr(r.body.data, "<h1>404 Not Found</h1>") != NULL && strstr(r.body.data, "TOP-SECRET") == NULL &&
               strstr(r.body.data, "root:") == NULL,
           "a small HTML 404 page for %s", refused[i]);
        gw_buf_free(&r.body);
    }

    get(d, "POST", "/configuration", &r);
    is_int(r.status, 405, "POST is 405");
    gw_buf_free(&r.body);

    get(d, "GET", "/openapi.json", &r);
    is_int(r.status, 404, "/openapi.json absent: 404");
    gw_buf_free(&r.body);
    get(d, "GET", "/openapi", &r);
    is_int(r.status, 200, "/openapi without a document is still a page");
    has_str(r.body.data, "is not present", "and says the document is absent");
    gw_buf_free(&r.body);

    put("docs/openapi.json", "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"Test API\",\"version\":\"1\"},"
                             "\"paths\":{\"/api/v1/me\":{\"get\":{\"summary\":\"Who am I\"}}}}");
    get(d, "GET", "/openapi.json", &r);
    is_int(r.status, 200, "/openapi.json served");
    is_str(r.content_type, "application/json", "as application/json");
    has_str(r.body.data, "\"Who am I\"", "raw");
    gw_buf_free(&r.body);
    get(d, "GET", "/openapi", &r);
    has_str(r.body.data, "<title>Test API · pg_aistudio documentation</title>", "/openapi rendered from it");
    has_str(r.body.data, "href=\"/openapi\" class=\"active\"", "marked in the navigation");
    gw_buf_free(&r.body);
    put("docs/openapi.json", "{\"openapi\": ");
    get(d, "GET", "/openapi", &r);
    is_int(r.status, 200, "a broken openapi.json still gives a page");
    has_str(r.body.data, "could not be rendered", "that says so");
    gw_buf_free(&r.body);

    /* the cache notices an edited file (different size and mtime) */
    get(d, "GET", "/zeta", &r);
    has_str(r.body.data, "Zeta notes", "first render");
    gw_buf_free(&r.body);
    put("docs/zeta.md", "# Zeta notes, second edition\n");
    {
        struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
        snprintf(path, sizeof(path), "%s/docs/zeta.md", scratch);
        utimes(path, tv);
    }
    get(d, "GET", "/zeta", &r);
    has_str(r.body.data, "Zeta notes, second edition", "the edited file is re-rendered");
    gw_buf_free(&r.body);

    /* no getting-started: README, else a generated index */
    snprintf(path, sizeof(path), "%s/docs/getting-started.md", scratch);
    unlink(path);
    get(d, "GET", "/", &r);
    is_int(r.status, 200, "/ without getting-started.md");
    has_str(r.body.data, "<h1 id=\"top\">pg_aistudio documentation</h1>", "a generated index");
    has_str(r.body.data, "<li><a href=\"/configuration\">Configuration reference</a></li>", "listing the documents");
    gw_buf_free(&r.body);
    get(d, "GET", "/getting-started", &r);
    is_int(r.status, 404, "a deleted document is gone");
    gw_buf_free(&r.body);

    gw_docs_destroy(d);
    ok(gw_docs_create("/nonexistent/docs", &d, err) != 0 && strstr(err, "DOCS_DIR") != NULL,
       "a missing directory is refused naming DOCS_DIR");
}

static char *oa(const char *json, char **title, char *err)
{
    gw_buf b;
    char *out = NULL;
    gw_buf_init(&b, 1 << 24);
    if (gw_docs_openapi_render(json, strlen(json), &b, title, err) == 0 && gw_buf_cstr(&b) != NULL)
        out = strdup(b.data);
    gw_buf_free(&b);
    return out;
}

static void test_openapi(void)
{
    static const char doc[] =
        "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"pg_aistudio <REST> API\",\"version\":\"1.0\","
        "\"description\":\"See [config](configuration.md). <script>x</script>\"},"
        "\"components\":{\"parameters\":{\"Id\":{\"name\":\"id\",\"in\":\"path\",\"required\":true,"
        "\"schema\":{\"type\":\"integer\",\"format\":\"int64\"}}},"
        "\"schemas\":{\"Llm\":{\"type\":\"object\",\"required\":[\"name\"],\"description\":\"An LLM.\","
        "\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":255},"
        "\"vendor\":{\"type\":\"string\",\"enum\":[\"openai\",\"anthropic\"]},"
        "\"next\":{\"$ref\":\"#/components/schemas/Llm\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}},"
        "\"Error\":{\"type\":\"object\",\"properties\":{\"error\":{\"type\":\"object\",\"properties\":"
        "{\"message\":{\"type\":\"string\"}}}}}}},"
        "\"security\":[{\"cookieAuth\":[]}],"
        "\"paths\":{\"/api/v1/llms/{id}\":{\"parameters\":[{\"$ref\":\"#/components/parameters/Id\"}],"
        "\"get\":{\"summary\":\"Read an LLM\",\"tags\":[\"llms\"],"
        "\"responses\":{\"200\":{\"description\":\"The LLM\",\"content\":{\"application/json\":"
        "{\"schema\":{\"$ref\":\"#/components/schemas/Llm\"}}}},"
        "\"404\":{\"description\":\"No such LLM\"}}},"
        "\"patch\":{\"summary\":\"Update\",\"deprecated\":true,\"security\":[],"
        "\"parameters\":[{\"name\":\"dry_run\",\"in\":\"query\",\"schema\":{\"type\":\"boolean\",\"default\":false}}],"
        "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\","
        "\"properties\":{\"active\":{\"type\":\"boolean\"}}}}}},"
        "\"responses\":{\"default\":{\"description\":\"Error\",\"content\":{\"application/json\":"
        "{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}}},"
        "\"x-extension\":{\"ignored\":true}}}}";
    char err[GW_ERR_LEN], *title = NULL, *h;
    char deep[400];

    h = oa(doc, &title, err);
    ok(h != NULL, "an OpenAPI document renders");
    is_str(title, "pg_aistudio <REST> API", "title from info.title");
    has_str(h, "pg_aistudio &lt;REST&gt; API", "title escaped in HTML");
    has_str(h, "href=\"/configuration\"", "description links rewritten");
    lacks_str(h, "<script>", "no raw HTML from descriptions");
    has_str(h, "<section class=\"op\" id=\"op-get-api-v1-llms-id\">", "one section per path+method");
    has_str(h, "<span class=\"method get\">get</span> <code>/api/v1/llms/{id}</code>", "method and path");
    has_str(h, "id=\"op-patch-api-v1-llms-id\"", "second method of the path");
    has_str(h, "href=\"#op-get-api-v1-llms-id\"", "table of contents links to it");
    has_str(h, "<strong>Read an LLM</strong>", "summary");
    has_str(h, "<td><code>id</code></td><td>path</td><td><span class=\"type\">integer (int64)</span></td><td>yes</td>",
            "path-level $ref parameter resolved");
    has_str(h, "<td><code>dry_run</code></td><td>query</td>", "operation parameter");
    has_str(h, "default <code>false</code>", "parameter default");
    has_str(h, "<h3>Request body</h3>", "request body");
    has_str(h, "<code>active</code> <span class=\"type\">boolean</span>", "request body schema properties");
    has_str(h, "<dt><code>200</code> The LLM</dt>", "responses with descriptions");
    has_str(h, "<code>application/json</code> <a href=\"#schema-Llm\"><code>Llm</code></a>",
            "a named schema $ref is a link");
    has_str(h, "<section class=\"op\" id=\"schema-Llm\">", "the schema has its entry");
    has_str(h,
            "<code>name</code> <span class=\"type\">string</span> <span class=\"type\">maxLength</span> "
            "<code>255</code><span class=\"req\">required</span>",
            "required property with a constraint");
    has_str(h, "one of <code>&quot;openai&quot;</code>, <code>&quot;anthropic&quot;</code>", "enum values");
    has_str(h, "<code>next</code> <a href=\"#schema-Llm\">", "a recursive schema is a link, not a loop");
    has_str(h, "<code>tags</code> <span class=\"type\">array</span> of <span class=\"type\">string</span>",
            "array items");
    has_str(h, "<code>message</code>", "nested object properties");
    has_str(h, "authentication:</span> <code>cookieAuth</code>", "document-level security");
    has_str(h, "authentication:</span> none", "operation-level security override");
    has_str(h, "<span class=\"deprecated\">deprecated</span>", "deprecated operation");
    lacks_str(h, "x-extension", "extensions ignored");
    free(h);
    free(title);

    title = NULL;
    h = oa("{\"info\":{},\"paths\":{}}", &title, err);
    is_str(title, "REST API reference", "default title");
    has_str(h, "describes no paths", "an empty document says so");
    free(h);
    free(title);

    h = oa("{\"paths\":{\"/x\":{\"get\":{\"parameters\":[{\"$ref\":\"#/a\"}],\"responses\":{\"200\":{\"$ref\":"
           "\"#/b\"}}}}},\"a\":{\"$ref\":\"#/a\"},\"b\":{\"$ref\":\"#/a\"}}",
           NULL, err);
    ok(h != NULL, "$ref loops do not hang");
    free(h);
    h = oa("[1,2]", NULL, err);
    ok(h == NULL && strstr(err, "not a JSON object") != NULL, "a non-object document is refused");
    h = oa("{\"openapi\": \"3.0\",", NULL, err);
    ok(h == NULL && strstr(err, "not valid JSON") != NULL, "invalid JSON is refused with a message");
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    h = oa(deep, NULL, err);
    ok(h == NULL, "deep nesting is refused");
    h = oa("{\"paths\":{\"/x\":{\"get\":{\"summary\":\"\\u00e9\\ud83d\\ude00\",\"description\":\"a\\u0000b\"}}}}", NULL,
           err);
    ok(h != NULL && strstr(h, "é😀") != NULL, "escapes decoded");
    free(h);
}

int main(void)
{
    char root[PATH_MAX * 2], err[GW_ERR_LEN], found[PATH_MAX];

    gw_log_set_level(GW_LOG_ERROR);
    test_links();
    test_markdown();
    test_route();
    make_tree();
    snprintf(root, sizeof(root), "%s/docs", scratch);
    {
        char real[PATH_MAX];
        if (realpath(root, real) != NULL)
            snprintf(root, sizeof(root), "%s", real);
    }
    test_resolve(root);
    test_respond(root);
    test_openapi();

    ok(gw_docs_find_dir(root, found, err) == 0 && strcmp(found, root) == 0, "find_dir: DOCS_DIR as given");
    ok(gw_docs_find_dir("/nonexistent", found, err) != 0 && strncmp(err, "DOCS_DIR:", 9) == 0,
       "find_dir: a bad DOCS_DIR names the setting");

    {
        char cmd[PATH_MAX * 2 + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
        if (system(cmd) != 0)
            diag("cleanup failed");
    }
    return tap_done();
}
