/*
 * src/http/docs_openapi.h: the REST API reference page of the documentation
 * server, rendered from docs/openapi.json (OpenAPI 3.0/3.1). Pure: text in,
 * HTML out.
 *
 * The page lists every operation (path + method, in document order) with
 * its summary, description (Markdown, rendered safely), parameters
 * (path-level and operation-level, local $refs followed), request body
 * schema and responses, then the named schemas of components.schemas.
 * Schemas are shown as nested property lists down to a fixed depth; a $ref
 * to a named schema becomes a link to its entry instead of being expanded,
 * so recursive schemas cannot loop. Anything unexpected in the document
 * (a missing field, a wrong type) is skipped, never fatal; only text that is
 * not JSON, or nested deeper than GW_OPENAPI_MAX_DEPTH, fails.
 */
#ifndef GW_HTTP_DOCS_OPENAPI_H
#define GW_HTTP_DOCS_OPENAPI_H

#include <stddef.h>

#include "common/buf.h"
#include "common/common.h"

#define GW_OPENAPI_MAX_DEPTH 64

/*
 * Appends the reference as an HTML fragment to out; *title (may be NULL)
 * gets a malloc'ed page title ("<info.title> <info.version>" or a default).
 * -1 with err when json is not valid JSON (err names the byte offset).
 */
int gw_docs_openapi_render(const char *json, size_t len, gw_buf *out, char **title, char err[GW_ERR_LEN]);

#endif
