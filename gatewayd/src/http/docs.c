/*
 * src/http/docs.c: the documentation server: routing and the allow-list,
 * file loading with the render cache, the navigation, and the civetweb
 * handler (see docs.h).
 *
 * Locking protocol: gw_docs.mu guards the cache array (entries, their
 * strings and the LRU clock). It is never held while reading a file or
 * rendering: a miss renders outside the lock and then inserts (two threads
 * may render the same file at once; the later insert replaces the earlier).
 * Callers get copies, so no pointer into the cache escapes the lock.
 * gw_docs_registry_mu guards the registry list only.
 */
#include "http/docs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "http/docs_layout.h"
#include "http/docs_openapi.h"
#include "http/docs_render.h"
#include "http/server.h"

#define GW_DOCS_REL_MAX 512
#define GW_DOCS_SCAN_MAX 1000 /* documents listed in the navigation */
#define GW_DOCS_SCAN_DEPTH 3  /* docs/a/b/c.md at most */
#define GW_DOCS_OPENAPI_REL "openapi.json"

typedef struct gw_docs_entry {
    char rel[GW_DOCS_REL_MAX];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char *title; /* may be NULL */
    char *html;
    size_t html_len;
    uint64_t used;
} gw_docs_entry;

struct gw_docs {
    char root[PATH_MAX];
    size_t root_len;
    pthread_mutex_t mu;
    gw_docs_entry cache[GW_DOCS_CACHE_MAX];
    size_t ncache;
    uint64_t clock;
};

/* ---- routing and the allow-list ---- */

static int gw_docs_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > GW_DOCS_SEGMENT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* "a/b/c": 1..GW_DOCS_SEGMENTS_MAX allowed names. */
static int gw_docs_stem_ok(const char *s, size_t n)
{
    size_t start = 0, segs = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        if (!gw_docs_name_ok(s + start, i - start) || ++segs > GW_DOCS_SEGMENTS_MAX)
            return 0;
        start = i + 1;
    }
    return 1;
}

gw_docs_route_kind gw_docs_route(const char *path, char *stem, size_t cap)
{
    size_t n;

    if (cap > 0)
        stem[0] = '\0';
    if (path == NULL || path[0] != '/')
        return GW_DOCS_ROUTE_NOT_FOUND;
    n = strnlen(path, GW_DOCS_PATH_MAX + 1);
    if (n > GW_DOCS_PATH_MAX)
        return GW_DOCS_ROUTE_NOT_FOUND;
    if (n == 1)
        return GW_DOCS_ROUTE_INDEX;
    if (strcmp(path, "/openapi.json") == 0)
        return GW_DOCS_ROUTE_OPENAPI_JSON;
    path++;
    n--;
    if (path[n - 1] == '/') /* "/sql-api/" is "/sql-api"; "//" stays invalid */
        n--;
    if (n == 0 || n >= cap || !gw_docs_stem_ok(path, n))
        return GW_DOCS_ROUTE_NOT_FOUND;
    if (n == 7 && memcmp(path, "openapi", 7) == 0)
        return GW_DOCS_ROUTE_OPENAPI_HTML;
    memcpy(stem, path, n);
    stem[n] = '\0';
    return GW_DOCS_ROUTE_PAGE;
}

/* rel (relative to root) is "<allowed stem>.md". */
static int gw_docs_rel_ok(const char *rel)
{
    size_t n = strlen(rel);
    return n > 3 && memcmp(rel + n - 3, ".md", 3) == 0 && gw_docs_stem_ok(rel, n - 3);
}

/* The real path of root/sub if it is a regular file inside root with an
 * allowed name; rel gets the part after root. */
static int gw_docs_check(const char *root, const char *sub, char *rel, size_t cap)
{
    char cand[PATH_MAX], real[PATH_MAX];
    size_t rl = strlen(root);
    struct stat st;
    int w = snprintf(cand, sizeof(cand), "%s/%s", root, sub);

    if (w < 0 || (size_t)w >= sizeof(cand) || realpath(cand, real) == NULL)
        return -1;
    if (strncmp(real, root, rl) != 0 || real[rl] != '/' || !gw_docs_rel_ok(real + rl + 1))
        return -1;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    if (strlen(real + rl + 1) >= cap)
        return -1;
    memcpy(rel, real + rl + 1, strlen(real + rl + 1) + 1);
    return 0;
}

int gw_docs_resolve(const char *root, const char *stem, char *rel, size_t cap)
{
    char sub[GW_DOCS_REL_MAX];
    size_t n = strlen(stem);

    if (!gw_docs_stem_ok(stem, n))
        return -1;
    snprintf(sub, sizeof(sub), "%s.md", stem);
    if (gw_docs_check(root, sub, rel, cap) == 0)
        return 0;
    snprintf(sub, sizeof(sub), "%s/README.md", stem);
    return gw_docs_check(root, sub, rel, cap);
}

int gw_docs_find_dir(const char *configured, char out[PATH_MAX], char err[GW_ERR_LEN])
{
    char exe[PATH_MAX], cand[PATH_MAX + 16];
    struct stat st;
    ssize_t n;

    if (configured != NULL && configured[0] != '\0') {
        if (realpath(configured, out) == NULL || stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
            return gw_errf(err, "DOCS_DIR: '%.128s' is not a directory", configured);
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(cand, sizeof(cand), "%s/../docs", dirname(exe));
        if (realpath(cand, out) != NULL && stat(out, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    }
    if (realpath(GW_DOCS_SYSTEM_DIR, out) != NULL && stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return gw_errf(err, "DOCS_DIR: not set, and neither <gatewayd's directory>/../docs nor %s exists",
                   GW_DOCS_SYSTEM_DIR);
}

/* ---- state and cache ---- */

int gw_docs_create(const char *root, gw_docs **out, char err[GW_ERR_LEN])
{
    gw_docs *d;
    struct stat st;
    char real[PATH_MAX];

    *out = NULL;
    if (realpath(root, real) == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return gw_errf(err, "DOCS_DIR: '%.128s' is not a directory", root);
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return gw_errf(err, "docs server: out of memory");
    snprintf(d->root, sizeof(d->root), "%s", real);
    d->root_len = strlen(d->root);
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return 0;
}

void gw_docs_destroy(gw_docs *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->ncache; i++) {
        free(d->cache[i].title);
        free(d->cache[i].html);
    }
    pthread_mutex_destroy(&d->mu);
    free(d);
}

typedef enum gw_docs_kind { GW_DOCS_MARKDOWN, GW_DOCS_OPENAPI } gw_docs_kind;

/* A loaded, rendered file (copies owned by the caller). */
typedef struct gw_docs_doc {
    char *title;
    char *html;
    size_t html_len;
} gw_docs_doc;

static void gw_docs_doc_free(gw_docs_doc *doc)
{
    free(doc->title);
    free(doc->html);
    memset(doc, 0, sizeof(*doc));
}

static int gw_docs_same(const gw_docs_entry *e, const char *rel, const struct stat *st)
{
    return strcmp(e->rel, rel) == 0 && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int gw_docs_copy_out(const gw_docs_entry *e, gw_docs_doc *doc)
{
    doc->title = e->title != NULL ? strdup(e->title) : NULL;
    doc->html = malloc(e->html_len + 1);
    if ((e->title != NULL && doc->title == NULL) || doc->html == NULL) {
        gw_docs_doc_free(doc);
        return -1;
    }
    memcpy(doc->html, e->html, e->html_len + 1);
    doc->html_len = e->html_len;
    return 0;
}

/* 1 on a hit (doc filled). */
static int gw_docs_cache_get(gw_docs *d, const char *rel, const struct stat *st, gw_docs_doc *doc)
{
    int hit = 0;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->ncache; i++)
        if (gw_docs_same(&d->cache[i], rel, st)) {
            d->cache[i].used = ++d->clock;
            hit = gw_docs_copy_out(&d->cache[i], doc) == 0;
            break;
        }
    pthread_mutex_unlock(&d->mu);
    return hit;
}

static void gw_docs_cache_put(gw_docs *d, const char *rel, const struct stat *st, const gw_docs_doc *doc)
{
    gw_docs_entry *e = NULL;
    gw_docs_doc copy = {0};
    gw_docs_entry tmp = {.title = doc->title, .html = doc->html, .html_len = doc->html_len};

    if (gw_docs_copy_out(&tmp, &copy) != 0)
        return;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->ncache && e == NULL; i++)
        if (strcmp(d->cache[i].rel, rel) == 0)
            e = &d->cache[i];
    if (e == NULL && d->ncache < GW_DOCS_CACHE_MAX)
        e = &d->cache[d->ncache++];
    if (e == NULL) { /* evict the least recently used */
        e = &d->cache[0];
        for (size_t i = 1; i < d->ncache; i++)
            if (d->cache[i].used < e->used)
                e = &d->cache[i];
    }
    free(e->title);
    free(e->html);
    snprintf(e->rel, sizeof(e->rel), "%s", rel);
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->title = copy.title;
    e->html = copy.html;
    e->html_len = copy.html_len;
    e->used = ++d->clock;
    pthread_mutex_unlock(&d->mu);
}

/* Opens root/rel (no symlink as the last component: rel is a real path)
 * and reads it whole. -1 with errno ENOENT when absent. */
static int gw_docs_read(gw_docs *d, const char *rel, size_t max, struct stat *st, char **data, size_t *len,
                        char err[GW_ERR_LEN])
{
    char path[PATH_MAX + GW_DOCS_REL_MAX];
    size_t got = 0;
    char *buf;
    int fd;

    *data = NULL;
    snprintf(path, sizeof(path), "%s/%s", d->root, rel);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        int e = errno;
        gw_errf(err, "%s: %s", rel, strerror(e));
        errno = e;
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        errno = ENOENT;
        return gw_errf(err, "%s: not a regular file", rel);
    }
    if ((size_t)st->st_size > max) {
        close(fd);
        errno = EFBIG;
        return gw_errf(err, "%s: larger than %zu bytes", rel, max);
    }
    if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
        close(fd);
        errno = ENOMEM;
        return gw_errf(err, "%s: out of memory", rel);
    }
    while (got < (size_t)st->st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st->st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

/* Loads and renders rel through the cache. -1 with errno ENOENT when the
 * file is absent, other errno (and err) on failure. */
static int gw_docs_load(gw_docs *d, const char *rel, gw_docs_kind kind, gw_docs_doc *doc, char err[GW_ERR_LEN])
{
    struct stat st;
    char *text;
    size_t len;
    gw_buf html;
    int rc;

    memset(doc, 0, sizeof(*doc));
    if (gw_docs_read(d, rel, kind == GW_DOCS_MARKDOWN ? GW_DOCS_MAX_MD_BYTES : GW_DOCS_MAX_JSON_BYTES, &st, &text, &len,
                     err) != 0)
        return -1;
    if (gw_docs_cache_get(d, rel, &st, doc)) {
        free(text);
        return 0;
    }
    gw_buf_init(&html, GW_DOCS_MAX_PAGE_BYTES);
    if (kind == GW_DOCS_MARKDOWN)
        rc = gw_docs_render_markdown(rel, text, len, &html, &doc->title, err);
    else
        rc = gw_docs_openapi_render(text, len, &html, &doc->title, err);
    free(text);
    if (rc != 0 || gw_buf_cstr(&html) == NULL) {
        gw_buf_free(&html);
        gw_docs_doc_free(doc);
        errno = EINVAL;
        if (rc == 0)
            gw_errf(err, "%s: the rendered page is too large", rel);
        return -1;
    }
    doc->html = html.data; /* ownership moves to doc */
    doc->html_len = html.len;
    gw_docs_cache_put(d, rel, &st, doc);
    return 0;
}

/* ---- navigation ---- */

typedef struct gw_docs_list {
    char **v;
    size_t n, cap;
} gw_docs_list;

static void gw_docs_list_free(gw_docs_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static void gw_docs_list_add(gw_docs_list *l, const char *s)
{
    char *copy;
    if (l->n >= GW_DOCS_SCAN_MAX)
        return;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, nc * sizeof(*nv));
        if (nv == NULL)
            return;
        l->v = nv;
        l->cap = nc;
    }
    if ((copy = strdup(s)) != NULL)
        l->v[l->n++] = copy;
}

/* For file systems that do not fill d_type: a real directory, not a symlink. */
static int gw_docs_is_dir(const char *dir, const char *name)
{
    char p[PATH_MAX + GW_DOCS_REL_MAX + 260];
    struct stat st;
    int w = snprintf(p, sizeof(p), "%s/%s", dir, name);
    return w > 0 && (size_t)w < sizeof(p) && lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Collects the servable documents under root/sub (sorted later). */
static void gw_docs_scan(gw_docs *d, const char *sub, int depth, gw_docs_list *out)
{
    char path[PATH_MAX + GW_DOCS_REL_MAX], rel[GW_DOCS_REL_MAX], got[GW_DOCS_REL_MAX];
    DIR *dir;
    struct dirent *de;

    snprintf(path, sizeof(path), "%s%s%s", d->root, sub[0] ? "/" : "", sub);
    if ((dir = opendir(path)) == NULL)
        return;
    while ((de = readdir(dir)) != NULL) {
        size_t n = strlen(de->d_name);
        int w = snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] ? "/" : "", de->d_name);
        if (de->d_name[0] == '.' || w < 0 || (size_t)w >= sizeof(rel))
            continue;
        if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && gw_docs_is_dir(path, de->d_name))) {
            /* never follows directory symlinks (DT_LNK) */
            if (depth < GW_DOCS_SCAN_DEPTH && gw_docs_name_ok(de->d_name, n))
                gw_docs_scan(d, rel, depth + 1, out);
            continue;
        }
        /* a document is listed under the name that resolves to itself */
        if (n > 3 && strcmp(de->d_name + n - 3, ".md") == 0 && gw_docs_name_ok(de->d_name, n - 3) &&
            gw_docs_check(d->root, rel, got, sizeof(got)) == 0 && strcmp(got, rel) == 0)
            gw_docs_list_add(out, rel);
    }
    closedir(dir);
}

static int gw_docs_cmp(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

static const struct {
    const char *title;
    const char *files[3];
    int sql_api_pages; /* then every other sql-api/<name>.md */
    int openapi;       /* then the rendered OpenAPI reference */
} gw_docs_sections[] = {
    {"Getting started", {"getting-started.md"}, 0, 0},
    {"Configuration", {"configuration.md", "sso.md"}, 0, 0},
    {"SQL API", {"sql-api/README.md"}, 1, 0},
    {"REST API", {"rest-api.md"}, 0, 1},
    {"Gateway routes", {"gateway.md"}, 0, 0},
    {"Analytics for analysts", {"sql-api/analytics.md"}, 0, 0},
    {"Operations", {"upgrading.md", "operations.md"}, 0, 0},
    {"Benchmarks", {"BENCHMARKS.md"}, 0, 0},
};
#define GW_DOCS_NSECTIONS (sizeof(gw_docs_sections) / sizeof(gw_docs_sections[0]))

static int gw_docs_claimed(const char *rel)
{
    for (size_t s = 0; s < GW_DOCS_NSECTIONS; s++)
        for (size_t f = 0; f < 3 && gw_docs_sections[s].files[f] != NULL; f++)
            if (strcmp(gw_docs_sections[s].files[f], rel) == 0)
                return 1;
    return 0;
}

/* Adds rel with its title (its first heading, else its name); in a section
 * of several pages, a page titled like the section is its "Overview". */
static void gw_docs_nav_doc(gw_docs *d, gw_docs_nav *nav, const char *rel, const char *section, int several)
{
    char url[GW_DOCS_URL_MAX], label[GW_DOCS_TITLE_MAX], err[GW_ERR_LEN];
    gw_docs_doc doc;
    const char *base = strrchr(rel, '/');

    if (gw_docs_url_for(rel, url, sizeof(url)) != 0)
        return;
    base = base != NULL ? base + 1 : rel;
    snprintf(label, sizeof(label), "%.*s", (int)(strlen(base) - 3), base);
    for (char *c = label; *c != '\0'; c++)
        if (*c == '-' || *c == '_')
            *c = ' ';
    if (gw_docs_load(d, rel, GW_DOCS_MARKDOWN, &doc, err) == 0) {
        if (doc.title != NULL && doc.title[0] != '\0')
            snprintf(label, sizeof(label), "%s", several && strcmp(doc.title, section) == 0 ? "Overview" : doc.title);
        gw_docs_doc_free(&doc);
    }
    gw_docs_nav_add(nav, url, label);
}

static void gw_docs_build_nav(gw_docs *d, gw_docs_nav *nav)
{
    gw_docs_list all = {0};
    int *used;

    gw_docs_nav_init(nav);
    gw_docs_scan(d, "", 0, &all);
    if (all.n > 0)
        qsort(all.v, all.n, sizeof(all.v[0]), gw_docs_cmp);
    used = calloc(all.n + 1, sizeof(int));
    for (size_t s = 0; s < GW_DOCS_NSECTIONS; s++) {
        int several =
            gw_docs_sections[s].sql_api_pages || gw_docs_sections[s].openapi || gw_docs_sections[s].files[1] != NULL;
        gw_docs_nav_begin(nav, gw_docs_sections[s].title);
        for (size_t f = 0; f < 3 && gw_docs_sections[s].files[f] != NULL; f++)
            for (size_t i = 0; i < all.n; i++)
                if (strcmp(all.v[i], gw_docs_sections[s].files[f]) == 0) {
                    gw_docs_nav_doc(d, nav, all.v[i], gw_docs_sections[s].title, several);
                    if (used != NULL)
                        used[i] = 1;
                }
        for (size_t i = 0; gw_docs_sections[s].sql_api_pages && i < all.n; i++)
            if (strncmp(all.v[i], "sql-api/", 8) == 0 && strchr(all.v[i] + 8, '/') == NULL &&
                !gw_docs_claimed(all.v[i])) {
                gw_docs_nav_doc(d, nav, all.v[i], gw_docs_sections[s].title, several);
                if (used != NULL)
                    used[i] = 1;
            }
        if (gw_docs_sections[s].openapi)
            gw_docs_nav_add(nav, "/openapi", "API reference (OpenAPI)");
        gw_docs_nav_end_section(nav);
    }
    gw_docs_nav_begin(nav, "More");
    for (size_t i = 0; i < all.n; i++)
        if (used == NULL || !used[i])
            gw_docs_nav_doc(d, nav, all.v[i], "More", 1);
    gw_docs_nav_end_section(nav);
    free(used);
    gw_docs_list_free(&all);
}

/* ---- responses ---- */

static void gw_docs_error(gw_docs_response *r, int status, const char *heading, const char *message)
{
    r->status = status;
    r->content_type = "text/html; charset=utf-8";
    gw_buf_reset(&r->body);
    gw_docs_error_page(&r->body, status, heading, message);
}

static void gw_docs_page(gw_docs *d, gw_docs_response *r, const char *active, const char *title, const char *html,
                         size_t len, const char *source)
{
    gw_docs_nav nav;
    gw_docs_build_nav(d, &nav);
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    gw_docs_layout(&r->body, &nav, active, title, html, len, source);
    gw_docs_nav_free(&nav);
    if (r->body.failed)
        gw_docs_error(r, 500, "Internal Server Error", "The page is too large to send.");
}

static void gw_docs_markdown_page(gw_docs *d, gw_docs_response *r, const char *rel)
{
    gw_docs_doc doc;
    char err[GW_ERR_LEN], url[GW_DOCS_URL_MAX];

    if (gw_docs_load(d, rel, GW_DOCS_MARKDOWN, &doc, err) != 0) {
        if (errno == ENOENT) {
            gw_docs_error(r, 404, "Not Found", "There is no document at this address.");
        } else {
            gw_log_warn("docs: %s", err);
            gw_docs_error(r, 500, "Internal Server Error", "This document could not be rendered.");
        }
        return;
    }
    if (gw_docs_url_for(rel, url, sizeof(url)) != 0)
        url[0] = '\0';
    gw_docs_page(d, r, url, doc.title != NULL ? doc.title : rel, doc.html, doc.html_len, rel);
    gw_docs_doc_free(&doc);
}

static void gw_docs_openapi_page(gw_docs *d, gw_docs_response *r)
{
    gw_docs_doc doc;
    char err[GW_ERR_LEN];
    gw_buf note;

    if (gw_docs_load(d, GW_DOCS_OPENAPI_REL, GW_DOCS_OPENAPI, &doc, err) == 0) {
        gw_docs_page(d, r, "/openapi", doc.title != NULL ? doc.title : "REST API reference", doc.html, doc.html_len,
                     GW_DOCS_OPENAPI_REL);
        gw_docs_doc_free(&doc);
        return;
    }
    gw_buf_init(&note, 1 << 16);
    gw_buf_puts(&note, "<h1 id=\"top\">REST API reference</h1>\n<p class=\"note\">");
    if (errno == ENOENT) {
        gw_buf_puts(&note, "The OpenAPI document <code>docs/openapi.json</code> is not present, so there is no "
                           "reference to show yet.");
    } else {
        gw_log_warn("docs: %s", err);
        gw_buf_puts(&note, "The OpenAPI document <code>docs/openapi.json</code> could not be rendered: ");
        gw_docs_html_escape_str(&note, err);
    }
    gw_buf_puts(&note, "</p>\n");
    if (gw_buf_cstr(&note) != NULL)
        gw_docs_page(d, r, "/openapi", "REST API reference", note.data, note.len, NULL);
    else
        gw_docs_error(r, 500, "Internal Server Error", "Out of memory.");
    gw_buf_free(&note);
}

/* "/" without a getting-started, README or index document: the navigation as a list. */
static void gw_docs_generated_index(gw_docs *d, gw_docs_response *r)
{
    gw_docs_nav nav;
    gw_buf body;

    gw_docs_build_nav(d, &nav);
    gw_buf_init(&body, 1 << 20);
    gw_buf_puts(&body, "<h1 id=\"top\">pg_aistudio documentation</h1>\n");
    for (size_t s = 0; s < nav.nsections; s++) {
        gw_buf_puts(&body, "<h2>");
        gw_docs_html_escape_str(&body, nav.sections[s].title);
        gw_buf_puts(&body, "</h2>\n<ul>\n");
        for (size_t i = nav.sections[s].first; i < nav.sections[s].first + nav.sections[s].count; i++) {
            gw_buf_puts(&body, "<li><a href=\"");
            gw_docs_html_escape_str(&body, nav.items[i].url);
            gw_buf_puts(&body, "\">");
            gw_docs_html_escape_str(&body, nav.items[i].title);
            gw_buf_puts(&body, "</a></li>\n");
        }
        gw_buf_puts(&body, "</ul>\n");
    }
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    if (gw_buf_cstr(&body) != NULL)
        gw_docs_layout(&r->body, &nav, "/", "Documentation", body.data, body.len, NULL);
    if (body.failed || r->body.failed)
        gw_docs_error(r, 500, "Internal Server Error", "The page is too large to send.");
    gw_buf_free(&body);
    gw_docs_nav_free(&nav);
}

void gw_docs_respond(gw_docs *d, const char *method, const char *path, gw_docs_response *r)
{
    static const char *const index_docs[] = {"getting-started", "README", "index"};
    char stem[GW_DOCS_PATH_MAX + 1], rel[GW_DOCS_REL_MAX], err[GW_ERR_LEN];
    struct stat st;
    char *json;
    size_t len;

    gw_buf_init(&r->body, GW_DOCS_MAX_PAGE_BYTES);
    if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        gw_docs_error(r, 405, "Method Not Allowed", "The documentation server answers GET and HEAD only.");
        return;
    }
    switch (gw_docs_route(path, stem, sizeof(stem))) {
    case GW_DOCS_ROUTE_INDEX:
        for (size_t i = 0; i < sizeof(index_docs) / sizeof(index_docs[0]); i++)
            if (gw_docs_resolve(d->root, index_docs[i], rel, sizeof(rel)) == 0) {
                gw_docs_markdown_page(d, r, rel);
                return;
            }
        gw_docs_generated_index(d, r);
        return;
    case GW_DOCS_ROUTE_PAGE:
        if (gw_docs_resolve(d->root, stem, rel, sizeof(rel)) == 0)
            gw_docs_markdown_page(d, r, rel);
        else
            gw_docs_error(r, 404, "Not Found", "There is no document at this address.");
        return;
    case GW_DOCS_ROUTE_OPENAPI_HTML:
        gw_docs_openapi_page(d, r);
        return;
    case GW_DOCS_ROUTE_OPENAPI_JSON:
        if (gw_docs_read(d, GW_DOCS_OPENAPI_REL, GW_DOCS_MAX_JSON_BYTES, &st, &json, &len, err) == 0) {
            r->status = 200;
            r->content_type = "application/json";
            gw_buf_append(&r->body, json, len);
            free(json);
            if (r->body.failed)
                gw_docs_error(r, 500, "Internal Server Error", "Out of memory.");
        } else {
            if (errno != ENOENT)
                gw_log_warn("docs: %s", err);
            gw_docs_error(r, 404, "Not Found", "There is no OpenAPI document (docs/openapi.json).");
        }
        return;
    case GW_DOCS_ROUTE_NOT_FOUND:
        break;
    }
    gw_docs_error(r, 404, "Not Found", "There is no document at this address.");
}

/* ---- the civetweb side ---- */

static int gw_docs_handler(struct mg_connection *conn, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    gw_docs_response r;
    gw_http_reply h;

    /* local_uri_raw: decoded but not cleaned, so "/a/../b" is seen as sent;
     * NULL when the request addresses another host */
    gw_docs_respond(cbdata, ri != NULL ? ri->request_method : NULL,
                    ri != NULL && ri->local_uri_raw != NULL ? ri->local_uri_raw : "", &r);
    gw_http_reply_start(&h, conn, r.status);
    gw_http_reply_header(&h, "Content-Type", r.content_type);
    gw_http_reply_header(&h, "Cache-Control", "no-cache");
    gw_http_reply_header(&h, "Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:");
    gw_http_reply_header(&h, "Referrer-Policy", "no-referrer");
    gw_http_reply_header(&h, "X-Frame-Options", "DENY");
    if (r.status == 405)
        gw_http_reply_header(&h, "Allow", "GET, HEAD");
    gw_http_reply_send(&h, r.body.data, r.body.len);
    gw_buf_free(&r.body);
    return r.status;
}

typedef struct gw_docs_reg {
    struct mg_context *ctx;
    gw_docs *docs;
    struct gw_docs_reg *next;
} gw_docs_reg;

/* The registry singleton: started servers, to free their state at stop. */
static pthread_mutex_t gw_docs_registry_mu = PTHREAD_MUTEX_INITIALIZER;
static gw_docs_reg *gw_docs_registry;

int gw_docs_start(const gw_config *cfg, const char *docs_dir, struct mg_context **out, char err[GW_ERR_LEN])
{
    char dir[PATH_MAX], tmp[GW_ERR_LEN];
    gw_http_opts o;
    gw_http_route route;
    gw_docs *d;
    gw_docs_reg *reg;

    *out = NULL;
    if (gw_docs_find_dir(docs_dir, dir, err) != 0 || gw_docs_create(dir, &d, err) != 0)
        return -1;
    if ((reg = calloc(1, sizeof(*reg))) == NULL) {
        gw_docs_destroy(d);
        return gw_errf(err, "docs server: out of memory");
    }
    memset(&o, 0, sizeof(o));
    o.name = "docs";
    o.host = cfg->listen_host;
    o.port = cfg->docs_port;
    o.threads = cfg->worker_threads < GW_DOCS_THREADS ? cfg->worker_threads : GW_DOCS_THREADS;
    o.request_timeout_ms = cfg->request_timeout_ms;
    o.keep_alive_timeout_ms = cfg->keep_alive_timeout_ms;
    o.max_header_bytes = cfg->max_header_bytes;
    /* pattern "/" + "**", not "**" alone: gw_http_start registers its JSON catch-all as "**",
     * and civetweb replaces a handler registered twice under one pattern */
    route = (gw_http_route){"/**", gw_docs_handler, d};
    if (gw_http_start(&o, &route, 1, out, tmp) != 0) {
        free(reg);
        gw_docs_destroy(d);
        return gw_errf(err, "DOCS_PORT: %s", tmp);
    }
    reg->ctx = *out;
    reg->docs = d;
    pthread_mutex_lock(&gw_docs_registry_mu);
    reg->next = gw_docs_registry;
    gw_docs_registry = reg;
    pthread_mutex_unlock(&gw_docs_registry_mu);
    gw_log_info("docs server listening on %s:%d (documents from %s)", o.host, o.port, d->root);
    return 0;
}

void gw_docs_stop(struct mg_context *ctx)
{
    gw_docs_reg **pp, *found = NULL;

    if (ctx == NULL)
        return;
    gw_http_stop(ctx);
    pthread_mutex_lock(&gw_docs_registry_mu);
    for (pp = &gw_docs_registry; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->ctx == ctx) {
            found = *pp;
            *pp = found->next;
            break;
        }
    pthread_mutex_unlock(&gw_docs_registry_mu);
    if (found != NULL) {
        gw_docs_destroy(found->docs);
        free(found);
    }
}
