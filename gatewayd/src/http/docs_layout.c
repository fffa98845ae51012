/*
 * src/http/docs_layout.c: the navigation model, the page shell and its
 * stylesheet, and the error page of the documentation server (see
 * docs_layout.h). Everything written here from outside text is escaped.
 */
#include "http/docs_layout.h"

#include <stdlib.h>
#include <string.h>

void gw_docs_nav_init(gw_docs_nav *nav)
{
    memset(nav, 0, sizeof(*nav));
}

void gw_docs_nav_free(gw_docs_nav *nav)
{
    free(nav->items);
    memset(nav, 0, sizeof(*nav));
}

int gw_docs_nav_begin(gw_docs_nav *nav, const char *title)
{
    if (nav->nsections == GW_DOCS_NAV_SECTIONS)
        return -1;
    nav->sections[nav->nsections++] = (gw_docs_nav_section){title, nav->nitems, 0};
    return 0;
}

int gw_docs_nav_add(gw_docs_nav *nav, const char *url, const char *title)
{
    gw_docs_nav_item *it;
    if (nav->nsections == 0)
        return -1;
    if (nav->nitems == nav->cap) {
        size_t nc = nav->cap ? nav->cap * 2 : 32;
        gw_docs_nav_item *nv = realloc(nav->items, nc * sizeof(*nv));
        if (nv == NULL)
            return -1;
        nav->items = nv;
        nav->cap = nc;
    }
    it = &nav->items[nav->nitems++];
    snprintf(it->url, sizeof(it->url), "%s", url);
    snprintf(it->title, sizeof(it->title), "%s", title);
    nav->sections[nav->nsections - 1].count++;
    return 0;
}

void gw_docs_nav_end_section(gw_docs_nav *nav)
{
    if (nav->nsections > 0 && nav->sections[nav->nsections - 1].count == 0)
        nav->nsections--;
}

static const char gw_docs_css[] =
    ":root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--side:#f6f8fa;--border:#d1d9e0;--accent:#0b62d6;"
    "--accent-bg:rgba(11,98,214,.10);--code-bg:rgba(175,184,193,.22);--pre-bg:#0f172a;--pre-fg:#e2e8f0}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--side:#010409;"
    "--border:#30363d;--accent:#4493f8;--accent-bg:rgba(68,147,248,.14);--code-bg:rgba(101,108,118,.28);"
    "--pre-bg:#161b22;--pre-fg:#e6edf3}}"
    "*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}"
    "body{margin:0;font:16px/1.65 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}"
    ".skip{position:absolute;left:-999px}"
    ".skip:focus{left:1rem;top:.75rem;z-index:3;background:var(--bg);padding:.25rem .5rem}"
    ".top{position:sticky;top:0;z-index:2;display:flex;align-items:center;height:56px;padding:0 1.5rem;"
    "border-bottom:1px solid var(--border);background:var(--bg)}"
    ".brand{font-weight:650;font-size:1.05rem;color:var(--fg)}"
    ".brand span{color:var(--muted);font-weight:400;margin-left:.4rem}"
    ".brand:hover{text-decoration:none}"
    ".layout{display:grid;grid-template-columns:272px minmax(0,1fr);min-height:calc(100vh - 56px)}"
    "nav.side{position:sticky;top:56px;align-self:start;max-height:calc(100vh - 56px);overflow-y:auto;"
    "padding:1rem .9rem 2rem;background:var(--side);border-right:1px solid var(--border);font-size:.92rem}"
    "nav.side h2{margin:1.1rem .6rem .3rem;font-size:.72rem;font-weight:650;letter-spacing:.07em;"
    "text-transform:uppercase;color:var(--muted);border:0;padding:0}"
    "nav.side ul{list-style:none;margin:0;padding:0}"
    "nav.side a{display:block;padding:.26rem .6rem;border-radius:6px;color:var(--fg);line-height:1.4}"
    "nav.side a:hover{background:var(--accent-bg);text-decoration:none}"
    "nav.side a.active{background:var(--accent-bg);color:var(--accent);font-weight:600}"
    "main{padding:2.25rem 3rem 4rem;min-width:0}article{max-width:880px}"
    "h1,h2,h3,h4,h5,h6{line-height:1.25;margin:2.2rem 0 .8rem;font-weight:650}"
    "h1{font-size:2rem;margin-top:0;letter-spacing:-.01em}"
    "h2{font-size:1.45rem;padding-bottom:.35rem;border-bottom:1px solid var(--border)}h3{font-size:1.18rem}"
    ".anchor{margin-left:.45rem;color:var(--muted);font-weight:400;opacity:0}"
    "h1:hover .anchor,h2:hover .anchor,h3:hover .anchor,h4:hover .anchor,.anchor:focus{opacity:1}"
    "p,ul,ol{margin:.8rem 0}li+li{margin-top:.2rem}"
    "code{font:.86em/1.5 ui-monospace,SFMono-Regular,\"SF Mono\",Menlo,Consolas,monospace;"
    "background:var(--code-bg);padding:.12em .36em;border-radius:5px}"
    "pre{background:var(--pre-bg);color:var(--pre-fg);padding:1rem 1.15rem;border-radius:8px;overflow-x:auto;"
    "line-height:1.55}pre code{background:none;padding:0;color:inherit;font-size:.85rem}"
    ".table-wrap{overflow-x:auto;margin:1.1rem 0}"
    "table{border-collapse:collapse;width:100%;font-size:.92rem}"
    "th,td{border:1px solid var(--border);padding:.45rem .7rem;text-align:left;vertical-align:top}"
    "th{background:var(--side);font-weight:600}tbody tr:nth-child(even) td{background:rgba(127,127,127,.05)}"
    ".al-center{text-align:center}.al-right{text-align:right}"
    "blockquote{margin:1rem 0;padding:.2rem 1rem;border-left:4px solid var(--border);color:var(--muted)}"
    "hr{border:0;border-top:1px solid var(--border);margin:2rem 0}img{max-width:100%}"
    "footer.src{margin-top:3.5rem;padding-top:1rem;border-top:1px solid var(--border);"
    "color:var(--muted);font-size:.85rem}"
    ".note{padding:.8rem 1rem;border:1px solid var(--border);border-left:4px solid #d4a72c;"
    "border-radius:6px;background:var(--side)}"
    ".op{border:1px solid var(--border);border-radius:10px;padding:.2rem 1.25rem 1rem;margin:1.5rem 0}"
    ".op>h2{border:0;font-size:1.15rem;margin:1rem 0 .4rem;display:flex;align-items:center;gap:.6rem;flex-wrap:wrap}"
    ".op h3{font-size:.95rem;margin:1.2rem 0 .4rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}"
    ".method{display:inline-block;min-width:4.3em;text-align:center;"
    "font:700 .72rem/1.6 ui-monospace,Menlo,Consolas,monospace;"
    "padding:.15rem .45rem;border-radius:5px;color:#fff;background:#6e7781;text-transform:uppercase}"
    ".method.get{background:#1a7f37}.method.post{background:#0969da}.method.put{background:#9a6700}"
    ".method.patch{background:#8250df}.method.delete{background:#cf222e}"
    ".schema{list-style:none;padding-left:1.1rem;border-left:2px solid var(--border);margin:.4rem 0}"
    ".type{color:var(--muted);font:.85em ui-monospace,Menlo,Consolas,monospace}"
    ".req{color:#cf222e;font-size:.78em;font-weight:600;margin-left:.3rem}"
    ".deprecated{color:#9a6700;font-size:.8em;font-weight:600}"
    "dl.responses dt{margin-top:.7rem}dl.responses dd{margin:.2rem 0 .2rem 1.2rem}"
    "ul.toc{columns:2;column-gap:2rem;padding-left:1rem}ul.toc li{break-inside:avoid}"
    "@media (max-width:900px){.layout{grid-template-columns:1fr}nav.side{position:static;max-height:none;"
    "border-right:0;border-bottom:1px solid var(--border)}main{padding:1.5rem 1.25rem 3rem}ul.toc{columns:1}}";

void gw_docs_layout(gw_buf *b, const gw_docs_nav *nav, const char *active_url, const char *title, const char *body_html,
                    size_t body_len, const char *source)
{
    gw_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
    gw_docs_html_escape_str(b, title);
    gw_buf_puts(b, " · pg_aistudio documentation</title>\n<style>");
    gw_buf_puts(b, gw_docs_css);
    gw_buf_puts(b, "</style>\n</head>\n<body>\n<a class=\"skip\" href=\"#content\">Skip to content</a>\n"
                   "<header class=\"top\"><a class=\"brand\" href=\"/\">pg_aistudio<span>documentation</span></a>"
                   "</header>\n<div class=\"layout\">\n<nav class=\"side\" aria-label=\"Documentation\">\n");
    for (size_t s = 0; s < nav->nsections; s++) {
        const gw_docs_nav_section *sec = &nav->sections[s];
        gw_buf_puts(b, "<h2>");
        gw_docs_html_escape_str(b, sec->title);
        gw_buf_puts(b, "</h2>\n<ul>\n");
        for (size_t i = sec->first; i < sec->first + sec->count && i < nav->nitems; i++) {
            const gw_docs_nav_item *it = &nav->items[i];
            int active = active_url != NULL && strcmp(it->url, active_url) == 0;
            gw_buf_puts(b, "<li><a href=\"");
            gw_docs_html_escape_str(b, it->url);
            gw_buf_puts(b, active ? "\" class=\"active\" aria-current=\"page\">" : "\">");
            gw_docs_html_escape_str(b, it->title);
            gw_buf_puts(b, "</a></li>\n");
        }
        gw_buf_puts(b, "</ul>\n");
    }
    gw_buf_puts(b, "</nav>\n<main id=\"content\">\n<article>\n");
    gw_buf_append(b, body_html, body_len);
    gw_buf_puts(b, "</article>\n");
    if (source != NULL) {
        gw_buf_puts(b, "<footer class=\"src\">Source: <code>docs/");
        gw_docs_html_escape_str(b, source);
        gw_buf_puts(b, "</code></footer>\n");
    }
    gw_buf_puts(b, "</main>\n</div>\n</body>\n</html>\n");
}

void gw_docs_error_page(gw_buf *b, int status, const char *heading, const char *message)
{
    gw_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%d ", status);
    gw_docs_html_escape_str(b, heading);
    gw_buf_puts(b, "</title>\n<style>body{font:16px/1.6 system-ui,sans-serif;max-width:40rem;margin:4rem auto;"
                   "padding:0 1.25rem;color:#1f2328}h1{font-size:1.6rem}a{color:#0b62d6}</style>\n</head>\n<body>\n");
    gw_buf_printf(b, "<h1>%d ", status);
    gw_docs_html_escape_str(b, heading);
    gw_buf_puts(b, "</h1>\n<p>");
    gw_docs_html_escape_str(b, message);
    gw_buf_puts(b, "</p>\n<p><a href=\"/\">Documentation home</a></p>\n</body>\n</html>\n");
}
