/*
 * src/http/docs_render.c: Markdown to HTML and the page layout of the
 * documentation server (see docs_render.h).
 *
 * How a document is rendered: (1) top-level pipe tables are cut out of the
 * source and rendered here (each cell through libcmark), leaving a
 * placeholder paragraph; (2) libcmark parses the rest; (3) the tree is
 * edited: link and image URLs rewritten or dropped, headings replaced by
 * custom blocks that carry an id, placeholders replaced by custom blocks
 * holding the table HTML; (4) libcmark renders it in safe mode. Custom
 * blocks are the only raw HTML in the output and hold only text we built and
 * escaped ourselves.
 */
#include "http/docs_render.h"

#include <cmark.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GW_DOCS_MAX_COLS 64
#define GW_DOCS_PLACEHOLDER "\x01gwdocs-table-"
#define GW_DOCS_SLUG_MAX 128
#define GW_DOCS_CMARK_OPTS (CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8)

/* ---- escaping, slugs, URLs ---- */

void gw_docs_html_escape(gw_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            break;
        }
        if (rep == NULL)
            continue;
        gw_buf_append(b, s + run, i - run);
        gw_buf_puts(b, rep);
        run = i + 1;
    }
    gw_buf_append(b, s + run, n - run);
}

void gw_docs_html_escape_str(gw_buf *b, const char *s)
{
    if (s != NULL)
        gw_docs_html_escape(b, s, strlen(s));
}

void gw_docs_slugify(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0';) {
        unsigned char c = *p;
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c < 0x80) {
            if (n + 1 >= cap)
                break;
            if (isalnum(c) || c == '-' || c == '_')
                out[n++] = (char)tolower(c);
            else if (c == ' ')
                out[n++] = '-';
            p++;
            continue;
        }
        /* non-ASCII (libcmark validated the UTF-8): whole sequences only */
        if (strnlen((const char *)p, k) < k || n + k >= cap)
            break;
        memcpy(out + n, p, k);
        n += k;
        p += k;
    }
    out[n] = '\0';
}

static int gw_docs_ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int gw_docs_url_for(const char *rel, char *out, size_t cap)
{
    size_t n = strlen(rel), stem;
    const char *slash;
    int w;

    if (n <= 3 || !gw_docs_ends_with(rel, n, ".md") || rel[0] == '/')
        return -1;
    stem = n - 3;
    slash = memrchr(rel, '/', stem);
    if (slash != NULL && (size_t)(rel + stem - slash - 1) == 6 && memcmp(slash + 1, "README", 6) == 0)
        stem = (size_t)(slash - rel); /* sql-api/README.md -> /sql-api */
    w = snprintf(out, cap, "/%.*s", (int)stem, rel);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

/* Joins dir and path, resolving "." and ".."; -1 when it climbs out. */
static int gw_docs_join(const char *dir, size_t dirlen, const char *path, size_t pathlen, char *out, size_t cap)
{
    char tmp[1024];
    size_t stack[128], depth = 0, len = 0;
    int w;
    char *seg, *save = NULL;

    if (dirlen > 0)
        w = snprintf(tmp, sizeof(tmp), "%.*s/%.*s", (int)dirlen, dir, (int)pathlen, path);
    else
        w = snprintf(tmp, sizeof(tmp), "%.*s", (int)pathlen, path);
    if (w < 0 || (size_t)w >= sizeof(tmp) || cap == 0)
        return -1;
    out[0] = '\0';
    for (seg = strtok_r(tmp, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
        size_t sl = strlen(seg);
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            if (depth == 0)
                return -1;
            len = stack[--depth];
            out[len] = '\0';
            continue;
        }
        if (depth == sizeof(stack) / sizeof(stack[0]) || len + sl + 2 > cap)
            return -1;
        stack[depth++] = len;
        if (len > 0)
            out[len++] = '/';
        memcpy(out + len, seg, sl);
        len += sl;
        out[len] = '\0';
    }
    return 0;
}

gw_docs_link gw_docs_rewrite_link(const char *cur_rel, const char *url, char *out, size_t cap)
{
    const char *p, *slash;
    size_t pathlen, dirlen;
    char rel[GW_DOCS_URL_MAX];
    int w;

    if (cap == 0)
        return GW_DOCS_LINK_DROP;
    if (url == NULL || url[0] == '\0' || url[0] == '#' || url[0] == '/') {
        snprintf(out, cap, "%s", url != NULL ? url : "");
        return GW_DOCS_LINK_KEEP;
    }
    /* a scheme: letters, digits, + . - before the first ':' (and before any / ? #) */
    if (isalpha((unsigned char)url[0])) {
        for (p = url + 1; isalnum((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-'; p++)
            ;
        if (*p == ':') {
            size_t sl = (size_t)(p - url);
            if ((sl == 4 && strncasecmp(url, "http", 4) == 0) || (sl == 5 && strncasecmp(url, "https", 5) == 0) ||
                (sl == 6 && strncasecmp(url, "mailto", 6) == 0)) {
                snprintf(out, cap, "%s", url);
                return GW_DOCS_LINK_KEEP;
            }
            return GW_DOCS_LINK_DROP;
        }
    }
    for (const char *c = url; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == '\\' || *c == ':')
            return GW_DOCS_LINK_DROP; /* "a\..\b", "x:y" after a slash: not ours to guess */
    pathlen = strcspn(url, "?#");
    if (pathlen == 0) {
        snprintf(out, cap, "%s", url);
        return GW_DOCS_LINK_KEEP;
    }
    slash = strrchr(cur_rel != NULL ? cur_rel : "", '/');
    dirlen = slash != NULL ? (size_t)(slash - cur_rel) : 0;
    if (gw_docs_join(cur_rel, dirlen, url, pathlen, rel, sizeof(rel)) != 0)
        return GW_DOCS_LINK_DROP;
    if (gw_docs_ends_with(rel, strlen(rel), ".md")) {
        if (gw_docs_url_for(rel, out, cap) != 0)
            return GW_DOCS_LINK_DROP;
        w = (int)strlen(out);
        w = snprintf(out + w, cap - (size_t)w, "%s", url + pathlen) + w;
    } else {
        w = snprintf(out, cap, "/%s%s", rel, url + pathlen);
    }
    return w < 0 || (size_t)w >= cap ? GW_DOCS_LINK_DROP : GW_DOCS_LINK_REWRITTEN;
}

/* ---- the cmark tree ---- */

typedef struct gw_docs_nodes {
    cmark_node **v;
    size_t n, cap;
} gw_docs_nodes;

static int gw_docs_nodes_push(gw_docs_nodes *a, cmark_node *node)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        cmark_node **nv = realloc(a->v, nc * sizeof(*nv));
        if (nv == NULL)
            return -1;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = node;
    return 0;
}

/* The plain text of a node's inlines (for slugs and titles). */
static void gw_docs_node_text(cmark_node *node, gw_buf *b)
{
    cmark_iter *it = cmark_iter_new(node);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *cur = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        switch (cmark_node_get_type(cur)) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE:
            gw_buf_puts(b, cmark_node_get_literal(cur));
            break;
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
            gw_buf_puts(b, " ");
            break;
        default:
            break;
        }
    }
    cmark_iter_free(it);
}

/* Moves the children of node before it, then frees node. */
static void gw_docs_unwrap(cmark_node *node)
{
    cmark_node *c;
    while ((c = cmark_node_first_child(node)) != NULL)
        cmark_node_insert_before(node, c);
    cmark_node_free(node);
}

static void gw_docs_fix_url(const char *cur_rel, cmark_node *node)
{
    char out[GW_DOCS_URL_MAX];
    const char *url = cmark_node_get_url(node);
    gw_docs_link r = gw_docs_rewrite_link(cur_rel, url, out, sizeof(out));
    if (r == GW_DOCS_LINK_DROP)
        gw_docs_unwrap(node);
    else if (r == GW_DOCS_LINK_REWRITTEN)
        cmark_node_set_url(node, out);
}

/* A heading becomes <hN id="slug"> … <a class="anchor">#</a></hN>. */
static int gw_docs_fix_heading(cmark_node *h, gw_buf *used, char **title)
{
    gw_buf text;
    char slug[GW_DOCS_SLUG_MAX], uniq[GW_DOCS_SLUG_MAX + 16], enter[GW_DOCS_SLUG_MAX + 48],
        leave[GW_DOCS_SLUG_MAX + 128];
    int level = cmark_node_get_heading_level(h);
    cmark_node *cb, *c;

    gw_buf_init(&text, 4096);
    gw_docs_node_text(h, &text);
    if (level == 1 && title != NULL && *title == NULL && gw_buf_cstr(&text) != NULL)
        *title = strdup(text.data);
    gw_docs_slugify(text.len > 0 && gw_buf_cstr(&text) != NULL ? text.data : "section", slug, sizeof(slug));
    gw_buf_free(&text);
    if (slug[0] == '\0')
        snprintf(slug, sizeof(slug), "section");
    /* used holds "\n"-framed slugs already given out */
    snprintf(uniq, sizeof(uniq), "%s", slug);
    for (int k = 1; k < 1000; k++) {
        char key[GW_DOCS_SLUG_MAX + 20];
        snprintf(key, sizeof(key), "\n%s\n", uniq);
        if (used->len == 0 || gw_buf_cstr(used) == NULL || strstr(used->data, key) == NULL)
            break;
        snprintf(uniq, sizeof(uniq), "%s-%d", slug, k);
    }
    gw_buf_printf(used, "%s\n", uniq);

    snprintf(enter, sizeof(enter), "<h%d id=\"%s\">", level, uniq);
    snprintf(leave, sizeof(leave), "<a class=\"anchor\" href=\"#%s\" aria-label=\"Link to this section\">#</a></h%d>",
             uniq, level);
    cb = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
    if (cb == NULL)
        return -1;
    cmark_node_set_on_enter(cb, enter);
    cmark_node_set_on_exit(cb, leave);
    while ((c = cmark_node_first_child(h)) != NULL)
        cmark_node_append_child(cb, c);
    cmark_node_replace(h, cb);
    cmark_node_free(h);
    return 0;
}

/* The index of a table placeholder paragraph, or -1. */
static long gw_docs_placeholder(cmark_node *para)
{
    cmark_node *t = cmark_node_first_child(para);
    const char *lit;
    char *end;
    long idx;
    size_t pl = strlen(GW_DOCS_PLACEHOLDER);

    if (t == NULL || cmark_node_next(t) != NULL || cmark_node_get_type(t) != CMARK_NODE_TEXT)
        return -1;
    lit = cmark_node_get_literal(t);
    if (lit == NULL || strncmp(lit, GW_DOCS_PLACEHOLDER, pl) != 0 || !isdigit((unsigned char)lit[pl]))
        return -1;
    idx = strtol(lit + pl, &end, 10);
    return strcmp(end, "\x01") == 0 ? idx : -1;
}

typedef struct gw_docs_tables {
    gw_buf *v;
    size_t n, cap;
} gw_docs_tables;

static void gw_docs_tables_free(gw_docs_tables *t)
{
    for (size_t i = 0; i < t->n; i++)
        gw_buf_free(&t->v[i]);
    free(t->v);
}

/* Edits the tree; tables may be NULL (snippets). */
static int gw_docs_edit_tree(const char *cur_rel, cmark_node *root, const gw_docs_tables *tables, char **title)
{
    gw_docs_nodes links = {0}, heads = {0}, paras = {0};
    cmark_iter *it = cmark_iter_new(root);
    cmark_event_type ev;
    gw_buf used;
    int rc = 0;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *cur = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER)
            continue;
        switch (cmark_node_get_type(cur)) {
        case CMARK_NODE_LINK:
        case CMARK_NODE_IMAGE:
            rc |= gw_docs_nodes_push(&links, cur);
            break;
        case CMARK_NODE_HEADING:
            if (tables != NULL)
                rc |= gw_docs_nodes_push(&heads, cur);
            break;
        case CMARK_NODE_PARAGRAPH:
            if (tables != NULL)
                rc |= gw_docs_nodes_push(&paras, cur);
            break;
        default:
            break;
        }
    }
    cmark_iter_free(it);
    /* links first: a dropped link inside a heading is unwrapped before the
     * heading's children move */
    for (size_t i = 0; rc == 0 && i < links.n; i++)
        gw_docs_fix_url(cur_rel, links.v[i]);
    gw_buf_init(&used, 1 << 20);
    gw_buf_puts(&used, "\n");
    for (size_t i = 0; rc == 0 && i < heads.n; i++)
        rc = gw_docs_fix_heading(heads.v[i], &used, title);
    gw_buf_free(&used);
    for (size_t i = 0; rc == 0 && i < paras.n; i++) {
        long idx = gw_docs_placeholder(paras.v[i]);
        cmark_node *cb;
        if (idx < 0 || (size_t)idx >= tables->n || gw_buf_cstr(&tables->v[idx]) == NULL)
            continue;
        if ((cb = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK)) == NULL) {
            rc = -1;
            break;
        }
        cmark_node_set_on_enter(cb, tables->v[idx].data);
        cmark_node_replace(paras.v[i], cb);
        cmark_node_free(paras.v[i]);
    }
    free(links.v);
    free(heads.v);
    free(paras.v);
    return rc == 0 ? 0 : -1;
}

int gw_docs_render_snippet(const char *cur_rel, const char *md, size_t len, int inline_, gw_buf *out)
{
    cmark_node *doc = cmark_parse_document(md, len, GW_DOCS_CMARK_OPTS);
    char *html;
    size_t n;
    int rc = -1;

    if (doc == NULL)
        return -1;
    if (gw_docs_edit_tree(cur_rel, doc, NULL, NULL) == 0 && (html = cmark_render_html(doc, GW_DOCS_CMARK_OPTS))) {
        n = strlen(html);
        while (n > 0 && html[n - 1] == '\n')
            n--;
        /* one paragraph and nothing else: drop the <p> wrapper */
        if (inline_ && n >= 7 && memcmp(html, "<p>", 3) == 0 && memcmp(html + n - 4, "</p>", 4) == 0 &&
            memmem(html + 3, n - 7, "<p>", 3) == NULL)
            gw_buf_append(out, html + 3, n - 7);
        else
            gw_buf_append(out, html, n);
        free(html);
        rc = out->failed ? -1 : 0;
    }
    cmark_node_free(doc);
    return rc;
}

/* ---- pipe tables ---- */

typedef struct gw_docs_span {
    const char *p;
    size_t n;
} gw_docs_span;

static gw_docs_span gw_docs_trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return (gw_docs_span){p, n};
}

/* Splits a table row on unescaped pipes; returns the cell count (capped at
 * max: extra cells are ignored) or 0 when the line has no pipe. */
static size_t gw_docs_split_row(const char *line, size_t len, gw_docs_span *cells, size_t max)
{
    gw_docs_span s = gw_docs_trim(line, len);
    size_t ncells = 0, start, pipes = 0;

    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == '|' && (i == 0 || s.p[i - 1] != '\\'))
            pipes++;
    if (pipes == 0)
        return 0;
    if (s.n > 0 && s.p[0] == '|') {
        s.p++;
        s.n--;
    }
    if (s.n > 0 && s.p[s.n - 1] == '|' && (s.n < 2 || s.p[s.n - 2] != '\\'))
        s.n--;
    start = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i < s.n && !(s.p[i] == '|' && (i == 0 || s.p[i - 1] != '\\')))
            continue;
        if (ncells < max)
            cells[ncells++] = gw_docs_trim(s.p + start, i - start);
        start = i + 1;
    }
    return ncells;
}

/* 'l', 'c', 'r' or 0 (none) per column; -1 when not a delimiter row. */
static int gw_docs_delims(const char *line, size_t len, char *align, size_t ncols)
{
    gw_docs_span cells[GW_DOCS_MAX_COLS];
    size_t n = gw_docs_split_row(line, len, cells, GW_DOCS_MAX_COLS);

    if (n != ncols)
        return -1;
    for (size_t i = 0; i < n; i++) {
        gw_docs_span c = cells[i];
        int left = c.n > 0 && c.p[0] == ':', right = c.n > 0 && c.p[c.n - 1] == ':';
        size_t dashes = 0;
        for (size_t k = (size_t)left; k < c.n - (size_t)right; k++) {
            if (c.p[k] != '-')
                return -1;
            dashes++;
        }
        if (dashes == 0)
            return -1;
        align[i] = left && right ? 'c' : right ? 'r' : left ? 'l' : 0;
    }
    return 0;
}

static void gw_docs_table_cell(const char *cur_rel, gw_buf *b, const char *tag, char align, gw_docs_span c)
{
    char *text = malloc(c.n + 1);
    size_t n = 0;

    if (align == 'c')
        gw_buf_printf(b, "<%s class=\"al-center\">", tag);
    else if (align == 'r')
        gw_buf_printf(b, "<%s class=\"al-right\">", tag);
    else
        gw_buf_printf(b, "<%s>", tag);
    if (text == NULL) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < c.n; i++) {
        if (c.p[i] == '\\' && i + 1 < c.n && c.p[i + 1] == '|')
            continue; /* "\|" is a literal pipe, in code spans too (GFM) */
        text[n++] = c.p[i];
    }
    if (n > 0 && gw_docs_render_snippet(cur_rel, text, n, 1, b) != 0)
        b->failed = 1;
    free(text);
    gw_buf_printf(b, "</%s>", tag);
}

static void gw_docs_table_row(const char *cur_rel, gw_buf *b, const char *tag, const char *line, size_t len,
                              const char *align, size_t ncols)
{
    gw_docs_span cells[GW_DOCS_MAX_COLS];
    size_t n = gw_docs_split_row(line, len, cells, ncols);

    gw_buf_puts(b, "<tr>");
    for (size_t i = 0; i < ncols; i++)
        gw_docs_table_cell(cur_rel, b, tag, align[i], i < n ? cells[i] : (gw_docs_span){"", 0});
    gw_buf_puts(b, "</tr>\n");
}

typedef struct gw_docs_line {
    const char *p;
    size_t n; /* without the newline */
    size_t next;
} gw_docs_line;

static int gw_docs_get_line(const char *md, size_t len, size_t at, gw_docs_line *l)
{
    const char *nl;
    if (at >= len)
        return 0;
    nl = memchr(md + at, '\n', len - at);
    l->p = md + at;
    l->n = nl != NULL ? (size_t)(nl - (md + at)) : len - at;
    l->next = nl != NULL ? (size_t)(nl - md) + 1 : len;
    return 1;
}

/* A fence opener/closer: up to 3 spaces, then 3+ ` or ~. Returns its length. */
static size_t gw_docs_fence(const gw_docs_line *l, char *ch)
{
    size_t i = 0, k;
    while (i < l->n && i < 3 && l->p[i] == ' ')
        i++;
    if (i >= l->n || (l->p[i] != '`' && l->p[i] != '~'))
        return 0;
    for (k = i; k < l->n && l->p[k] == l->p[i]; k++)
        ;
    if (k - i < 3)
        return 0;
    *ch = l->p[i];
    return k - i;
}

/* Copies md into src with every top-level pipe table replaced by a
 * placeholder paragraph, rendering the tables into t. */
static int gw_docs_cut_tables(const char *cur_rel, const char *md, size_t len, gw_buf *src, gw_docs_tables *t)
{
    gw_docs_line l, d;
    size_t at = 0, fence_len = 0;
    char fence_ch = 0;

    while (gw_docs_get_line(md, len, at, &l)) {
        char ch;
        size_t fl = gw_docs_fence(&l, &ch);
        char align[GW_DOCS_MAX_COLS];
        gw_docs_span hdr[GW_DOCS_MAX_COLS];
        size_t ncols;

        if (fence_len > 0) { /* inside a fenced code block */
            if (fl >= fence_len && ch == fence_ch && gw_docs_trim(l.p, l.n).n == fl)
                fence_len = 0;
        } else if (fl > 0) {
            fence_len = fl;
            fence_ch = ch;
        } else if (l.n > 0 && l.p[0] != ' ' && l.p[0] != '\t' && l.p[0] != '>' &&
                   (ncols = gw_docs_split_row(l.p, l.n, hdr, GW_DOCS_MAX_COLS)) > 0 &&
                   gw_docs_get_line(md, len, l.next, &d) && gw_docs_delims(d.p, d.n, align, ncols) == 0) {
            gw_buf *tb;
            if (t->n == t->cap) {
                size_t nc = t->cap ? t->cap * 2 : 8;
                gw_buf *nv = realloc(t->v, nc * sizeof(*nv));
                if (nv == NULL)
                    return -1;
                t->v = nv;
                t->cap = nc;
            }
            tb = &t->v[t->n];
            gw_buf_init(tb, 16u << 20);
            gw_buf_puts(tb, "<div class=\"table-wrap\"><table>\n<thead>\n");
            gw_docs_table_row(cur_rel, tb, "th", l.p, l.n, align, ncols);
            gw_buf_puts(tb, "</thead>\n");
            at = d.next;
            if (gw_docs_get_line(md, len, at, &l) && gw_docs_trim(l.p, l.n).n > 0 && memchr(l.p, '|', l.n)) {
                gw_buf_puts(tb, "<tbody>\n");
                while (gw_docs_get_line(md, len, at, &l) && gw_docs_trim(l.p, l.n).n > 0 && memchr(l.p, '|', l.n)) {
                    gw_docs_table_row(cur_rel, tb, "td", l.p, l.n, align, ncols);
                    at = l.next;
                }
                gw_buf_puts(tb, "</tbody>\n");
            }
            gw_buf_puts(tb, "</table></div>");
            if (gw_buf_cstr(tb) == NULL) {
                gw_buf_free(tb);
                return -1;
            }
            gw_buf_printf(src, "\n%s%zu\x01\n\n", GW_DOCS_PLACEHOLDER, t->n);
            t->n++;
            continue;
        }
        gw_buf_append(src, l.p, l.n);
        gw_buf_puts(src, "\n");
        at = l.next;
    }
    return src->failed ? -1 : 0;
}

int gw_docs_render_markdown(const char *cur_rel, const char *md, size_t len, gw_buf *out, char **title,
                            char err[GW_ERR_LEN])
{
    gw_docs_tables tables = {0};
    gw_buf src;
    cmark_node *doc = NULL;
    char *html = NULL;
    int rc = -1;

    if (title != NULL)
        *title = NULL;
    gw_buf_init(&src, 64u << 20);
    if (gw_docs_cut_tables(cur_rel, md, len, &src, &tables) != 0 || gw_buf_cstr(&src) == NULL) {
        gw_errf(err, "%s: out of memory while reading its tables", cur_rel);
        goto done;
    }
    if ((doc = cmark_parse_document(src.data, src.len, GW_DOCS_CMARK_OPTS)) == NULL) {
        gw_errf(err, "%s: libcmark could not parse it", cur_rel);
        goto done;
    }
    if (gw_docs_edit_tree(cur_rel, doc, &tables, title) != 0) {
        gw_errf(err, "%s: out of memory while rendering", cur_rel);
        goto done;
    }
    if ((html = cmark_render_html(doc, GW_DOCS_CMARK_OPTS)) == NULL) {
        gw_errf(err, "%s: libcmark could not render it", cur_rel);
        goto done;
    }
    gw_buf_puts(out, html);
    if (out->failed) {
        gw_errf(err, "%s: the rendered page is too large", cur_rel);
        goto done;
    }
    rc = 0;
done:
    if (rc != 0 && title != NULL) {
        free(*title);
        *title = NULL;
    }
    free(html);
    if (doc != NULL)
        cmark_node_free(doc);
    gw_docs_tables_free(&tables);
    gw_buf_free(&src);
    return rc;
}
