/*
 * src/admin/admin.h: the REST API of gatewayd (JSON under /api/v1, served on
 * SERVER_PORT). It is thin over the extension: every request is one
 * transaction on a pooled connection of its own pool that resolves the
 * session cookie or personal API token, sets pg_aistudio.acting_user and
 * calls aistudio.* functions, so RBAC is decided in the database. See
 * docs/rest-api.md and docs/openapi.json.
 *
 * gw_admin_start_with starts the listener on SERVER_PORT with /api/v1
 * (GW_ADMIN_THREADS worker threads) and the routes of the other handlers
 * main puts on that port (health, chat, web UI). Other handlers
 * authenticate their callers with gw_admin_whoami.
 */
#ifndef GW_HTTP_ADMIN_H
#define GW_HTTP_ADMIN_H

#include <stdint.h>

#include "base/common.h"
#include "http/server.h"
#include "gatewayd.h"

#define GW_ADMIN_THREADS 32
#define GW_ADMIN_NROUTES 1

/* Creates the REST API's state (its database pool). Idempotent. */
int gw_admin_init(gw_server *srv, char err[GW_ERR_LEN]);
/* Fills routes[0..GW_ADMIN_NROUTES): "/api/v1" and everything under it. */
void gw_admin_routes(gw_server *srv, gw_http_route routes[GW_ADMIN_NROUTES]);
/* Init + a listener on SERVER_PORT with the API and more routes (health,
 * the web UI's static files, "/api/v1/chat/completions"): civetweb prefers an exact URI over the
 * "/api/v1" prefix, so they may live under /api/v1 too. */
int gw_admin_start_with(gw_server *srv, const gw_http_route *extra, size_t nextra, struct mg_context **out,
                        char err[GW_ERR_LEN]);
/* Stops the listener (waiting for requests in flight) and frees the state. */
void gw_admin_stop(struct mg_context *ctx);

/* More operations of the REST API (struct gw_admin_op rows, admin_int.h),
 * from a higher layer: gateway/llmcheck.c, whose handlers call upstreams.
 * Called once before gw_admin_start_with; the rows must outlive the server. */
struct gw_admin_op;
void gw_admin_add_ops(const struct gw_admin_op *ops, size_t n);

/* Session cookies carry "Secure" (for a deployment behind HTTPS). */
void gw_admin_set_cookie_secure(int on);

/*
 * For other handlers on the same server (chat): who is calling, by session
 * cookie or API token, with the CSRF check for cookie-authenticated writes.
 * 0 and *user_id/role filled; -1 when the response (401/403/503) was sent.
 */
int gw_admin_whoami(struct mg_connection *conn, int64_t *user_id, char role[16]);

#endif
