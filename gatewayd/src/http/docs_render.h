/*
 * src/http/docs_render.h: the pure part of the documentation server: docs/
 * Markdown to HTML with libcmark, and the page around it. No I/O here, so
 * everything is unit-tested (regress/unit/test_docs.c).
 *
 *  - Markdown is rendered by libcmark in its safe mode (raw HTML is replaced
 *    by a comment, javascript:/vbscript:/file:/data: URLs are dropped), plus
 *    what plain CommonMark lacks and the docs use: GitHub-style pipe tables
 *    (top-level ones, outside code blocks), heading ids (GitHub's slugs, so
 *    "README.md#conventions" keeps working), and links between .md files
 *    rewritten to the URLs the server answers (foo.md -> /foo,
 *    sql-api/x.md -> /sql-api/x, sql-api/README.md -> /sql-api, anchors
 *    kept). Links to other schemes than http, https and mailto, and relative
 *    links that climb out of docs/, lose their URL (the text stays).
 * The page around the HTML is docs_layout.c.
 */
#ifndef GW_HTTP_DOCS_RENDER_H
#define GW_HTTP_DOCS_RENDER_H

#include <stddef.h>

#include "common/buf.h"
#include "common/common.h"

#define GW_DOCS_URL_MAX 512
#define GW_DOCS_TITLE_MAX 160

/* What gw_docs_rewrite_link decided. */
typedef enum gw_docs_link {
    GW_DOCS_LINK_KEEP = 0,      /* the URL is used as written */
    GW_DOCS_LINK_REWRITTEN = 1, /* out holds the served URL */
    GW_DOCS_LINK_DROP = -1      /* unsafe or outside docs/: no link */
} gw_docs_link;

/*
 * The served URL of a document, from its path relative to docs/ ("foo.md" ->
 * "/foo", "sql-api/x.md" -> "/sql-api/x", "sql-api/README.md" -> "/sql-api",
 * a top-level "README.md" -> "/README"). -1 when rel does not end in ".md"
 * or does not fit.
 */
int gw_docs_url_for(const char *rel, char *out, size_t cap);

/*
 * Rewrites the URL of a link found in the document cur_rel (a path relative
 * to docs/): relative .md links become served URLs (fragment and query
 * kept), other relative links become absolute ("../openapi.json" from
 * sql-api/x.md -> "/openapi.json"); "#anchor", "/absolute", http(s):,
 * mailto: and "//host" links are kept; anything else, or a relative link
 * leaving docs/, is dropped.
 */
gw_docs_link gw_docs_rewrite_link(const char *cur_rel, const char *url, char *out, size_t cap);

/* GitHub's heading slug, except that only ASCII is lower-cased: letters,
 * digits, '-', '_' and non-ASCII kept, spaces to '-', the rest dropped.
 * Always NUL-terminates and never cuts a UTF-8 sequence. */
void gw_docs_slugify(const char *text, char *out, size_t cap);

/* Appends text HTML-escaped (&, <, >, ", '). */
void gw_docs_html_escape(gw_buf *b, const char *s, size_t n);
void gw_docs_html_escape_str(gw_buf *b, const char *s);

/*
 * Renders Markdown (the document cur_rel, used to resolve relative links) to
 * an HTML fragment appended to out. *title (may be NULL) receives the text
 * of the first level-1 heading, malloc'ed, or NULL when there is none.
 * -1 with err when libcmark fails or out overflows its limit.
 */
int gw_docs_render_markdown(const char *cur_rel, const char *md, size_t len, gw_buf *out, char **title,
                            char err[GW_ERR_LEN]);

/* Renders a short Markdown text (an OpenAPI description, a table cell) the
 * same way, without tables and heading ids; a single paragraph loses its
 * <p> wrapper when inline is set. */
int gw_docs_render_snippet(const char *cur_rel, const char *md, size_t len, int inline_, gw_buf *out);

#endif
