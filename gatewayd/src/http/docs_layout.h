/*
 * src/http/docs_layout.h: the page layout of the documentation server: one
 * HTML5 document with inline CSS (no external assets; the server's
 * Content-Security-Policy forbids them), a title, a navigation sidebar
 * (gw_docs_nav: sections of items), the article and its source path; and
 * the small error page. Pure: no I/O.
 */
#ifndef GW_HTTP_DOCS_LAYOUT_H
#define GW_HTTP_DOCS_LAYOUT_H

#include <stddef.h>

#include "common/buf.h"
#include "http/docs_render.h"

typedef struct gw_docs_nav_item {
    char url[GW_DOCS_URL_MAX];
    char title[GW_DOCS_TITLE_MAX];
} gw_docs_nav_item;

typedef struct gw_docs_nav_section {
    const char *title; /* static text */
    size_t first;      /* index of its first item */
    size_t count;
} gw_docs_nav_section;

#define GW_DOCS_NAV_SECTIONS 12

typedef struct gw_docs_nav {
    gw_docs_nav_item *items;
    size_t nitems, cap;
    gw_docs_nav_section sections[GW_DOCS_NAV_SECTIONS];
    size_t nsections;
} gw_docs_nav;

void gw_docs_nav_init(gw_docs_nav *nav);
void gw_docs_nav_free(gw_docs_nav *nav);
/* Starts a section (static title); items added next belong to it. */
int gw_docs_nav_begin(gw_docs_nav *nav, const char *title);
int gw_docs_nav_add(gw_docs_nav *nav, const char *url, const char *title);
/* Drops the last section when it got no item. */
void gw_docs_nav_end_section(gw_docs_nav *nav);

/*
 * Appends a complete HTML page: title (plain text), the navigation with the
 * item whose URL equals active_url marked, body_html (already safe HTML) and,
 * when source is not NULL, a footer naming the source file.
 */
void gw_docs_layout(gw_buf *b, const gw_docs_nav *nav, const char *active_url, const char *title, const char *body_html,
                    size_t body_len, const char *source);

/* A small standalone HTML page for errors (404, 405, 500). */
void gw_docs_error_page(gw_buf *b, int status, const char *heading, const char *message);

#endif
