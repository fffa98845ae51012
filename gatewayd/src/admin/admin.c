/*
 * src/admin/admin.c: the REST API's listener and router (see admin.h): the
 * one process-wide gw_admin (its own database pool, so the admin API never
 * starves the proxy's credential lookups), matching a request to a row of
 * the operation tables (405 with Allow when only the method is wrong) and
 * handing it to the row's handler or gw_admin_exec, and gw_admin_whoami for
 * the other handlers of SERVER_PORT. What a request uses on the way
 * (memory, responses, the transaction) is admin_req.c.
 *
 * Singleton: gw_admin_state is set up once by gw_admin_init before the
 * listener starts and only read by handler threads; gw_admin_stop frees it
 * after the listener stopped.
 */
#include "admin/admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/errmap.h"
#include "base/json.h"
#include "base/log.h"
#include "base/url.h"
#include "admin/admin_int.h"
#include "admin/oidc.h"
#include "db/sql.h"

#define GW_ADMIN_PREFIX "/api/v1"

static gw_admin gw_admin_state;
static int gw_admin_ready;

/* ---- routing ---- */

/* Splits the path after /api/v1/ (as sent: civetweb does not decode it)
 * into r->segs, each percent-decoded (a name may hold a '/' as %2F); -1
 * when it is not under it or has empty or too many segments. */
static int gw_admin_split(gw_admin_req *r, const char *uri)
{
    size_t plen = strlen(GW_ADMIN_PREFIX), n;
    char *p;

    if (uri == NULL || strncmp(uri, GW_ADMIN_PREFIX, plen) != 0)
        return -1;
    uri += plen;
    if (*uri == '\0' || strcmp(uri, "/") == 0) {
        r->nsegs = 0;
        return 0;
    }
    if (*uri != '/')
        return -1;
    uri++;
    n = strlen(uri);
    if (n >= sizeof(r->pathbuf))
        return -1;
    memcpy(r->pathbuf, uri, n + 1);
    if (n > 0 && r->pathbuf[n - 1] == '/')
        r->pathbuf[n - 1] = '\0'; /* one trailing slash is fine */
    r->nsegs = 0;
    for (p = r->pathbuf;;) {
        char *slash = strchr(p, '/');
        if (r->nsegs == (int)(sizeof(r->segs) / sizeof(r->segs[0])))
            return -1;
        if (slash != NULL)
            *slash = '\0';
        if (*p == '\0' || gw_url_decode(p, strlen(p), 0, p, strlen(p) + 1, NULL) != 0)
            return -1;
        r->segs[r->nsegs++] = p;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return 0;
}

/* 1 when the op's path pattern matches r->segs. */
static int gw_admin_path_matches(const gw_admin_req *r, const char *pattern)
{
    int i = 0;
    const char *p = pattern;

    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (i >= r->nsegs)
            return 0;
        if (!(len > 2 && p[0] == '{') && (strlen(r->segs[i]) != len || strncmp(r->segs[i], p, len) != 0))
            return 0;
        i++;
        p += len;
        if (*p == '/')
            p++;
    }
    return i == r->nsegs;
}

static void gw_admin_allow_add(gw_admin_req *r, const char *method)
{
    size_t n = strlen(r->allow);
    if (strstr(r->allow, method) != NULL)
        return;
    snprintf(r->allow + n, sizeof(r->allow) - n, "%s%s", n > 0 ? ", " : "", method);
}

static const gw_admin_op *gw_admin_route_in(gw_admin_req *r, const gw_admin_op *ops, size_t nops)
{
    for (size_t i = 0; i < nops; i++) {
        if (!gw_admin_path_matches(r, ops[i].path))
            continue;
        if (strcmp(ops[i].method, r->ri->request_method) == 0)
            return &ops[i];
        gw_admin_allow_add(r, ops[i].method);
    }
    return NULL;
}

/* gw_admin_add_ops: set once at start-up, before any request */
static const gw_admin_op *gw_admin_more_ops;
static size_t gw_admin_more_nops;

void gw_admin_add_ops(const gw_admin_op *ops, size_t n)
{
    gw_admin_more_ops = ops;
    gw_admin_more_nops = n;
}

static const gw_admin_op *gw_admin_route(gw_admin_req *r)
{
    const gw_admin_op *op = gw_admin_route_in(r, gw_admin_resource_ops, gw_admin_resource_nops);
    if (op == NULL)
        op = gw_admin_route_in(r, gw_admin_analytics_ops, gw_admin_analytics_nops);
    if (op == NULL)
        op = gw_admin_route_in(r, gw_admin_alerts_ops, gw_admin_alerts_nops);
    if (op == NULL && gw_admin_more_ops != NULL)
        op = gw_admin_route_in(r, gw_admin_more_ops, gw_admin_more_nops);
    return op;
}

static int gw_admin_dispatch(struct mg_connection *conn, void *cbdata)
{
    gw_admin_req *r = calloc(1, sizeof(*r));
    int status;

    if (r == NULL) {
        gw_http_send_error(conn, 500, "out of memory", NULL);
        return 500;
    }
    r->adm = cbdata;
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    r->started_ms = gw_now_ms();
    if (gw_admin_split(r, r->ri->local_uri) != 0) {
        status = gw_admin_send_error(r, 404, "no such route", "not_found");
    } else if ((r->op = gw_admin_route(r)) == NULL) {
        if (r->allow[0] != '\0')
            status = gw_admin_send_error(r, 405, "method not allowed on this resource", "method_not_allowed");
        else
            status = gw_admin_send_error(r, 404, "no such route", "not_found");
    } else {
        status = r->op->handler != NULL ? r->op->handler(r) : gw_admin_exec(r);
    }
    gw_admin_tx_end(r);
    if (status >= 500)
        gw_log_warn("admin: %s %s -> %d (%lld ms)", r->ri->request_method, r->ri->local_uri, status,
                    (long long)(gw_now_ms() - r->started_ms));
    else
        gw_log_debug("admin: %s %s -> %d (%lld ms, user %lld)", r->ri->request_method, r->ri->local_uri, status,
                     (long long)(gw_now_ms() - r->started_ms), (long long)r->user_id);
    gw_admin_free_arena(r);
    free(r);
    return status;
}

/* ---- life cycle ---- */

int gw_admin_init(gw_server *srv, char err[GW_ERR_LEN])
{
    gw_pgpool_opts po;

    if (gw_admin_ready)
        return 0;
    memset(&po, 0, sizeof(po));
    po.conninfo = srv->cfg.database_url;
    po.size = srv->cfg.db_pool_size;
    po.acquire_timeout_ms = srv->cfg.db_timeout_ms;
    po.statement_timeout_ms = srv->cfg.db_timeout_ms;
    po.application_name = "gatewayd-admin";
    gw_admin_state.srv = srv;
    if (gw_pgpool_create(&po, &gw_admin_state.pool, err) != 0)
        return -1;
    gw_admin_ready = 1;
    return 0;
}

void gw_admin_set_cookie_secure(int on)
{
    gw_admin_state.cookie_secure = on != 0;
}

void gw_admin_routes(gw_server *srv, gw_http_route routes[GW_ADMIN_NROUTES])
{
    (void)srv;
    routes[0] = (gw_http_route){GW_ADMIN_PREFIX, gw_admin_dispatch, &gw_admin_state};
}

int gw_admin_start_with(gw_server *srv, const gw_http_route *extra, size_t nextra, struct mg_context **out,
                        char err[GW_ERR_LEN])
{
    gw_http_route *routes;
    size_t n = GW_ADMIN_NROUTES;
    gw_http_opts o;
    char tmp[GW_ERR_LEN];
    int rc;

    *out = NULL;
    if (gw_admin_init(srv, err) != 0)
        return -1;
    routes = calloc(n + nextra, sizeof(*routes));
    if (routes == NULL)
        return gw_errf(err, "SERVER_PORT: out of memory");
    gw_admin_routes(srv, routes);
    for (size_t i = 0; i < nextra; i++)
        routes[n + i] = extra[i];
    memset(&o, 0, sizeof(o));
    o.name = "admin";
    o.host = srv->cfg.listen_host;
    o.port = srv->cfg.server_port;
    o.threads = GW_ADMIN_THREADS;
    o.request_timeout_ms = srv->cfg.request_timeout_ms;
    o.keep_alive_timeout_ms = srv->cfg.keep_alive_timeout_ms;
    o.head_timeout_ms = srv->cfg.request_head_timeout_ms;
    o.max_per_address = srv->cfg.max_connections_per_address;
    o.max_header_bytes = srv->cfg.max_header_bytes;
    rc = gw_http_start(&o, routes, n + nextra, out, tmp);
    free(routes);
    if (rc != 0)
        return gw_errf(err, "SERVER_PORT: %s", tmp);
    gw_log_info("admin server listening on %s:%d (%d worker threads)", o.host, o.port, o.threads);
    return 0;
}

void gw_admin_stop(struct mg_context *ctx)
{
    gw_http_stop(ctx);
    if (gw_admin_ready) {
        gw_pgpool_destroy(gw_admin_state.pool);
        gw_admin_state.pool = NULL;
        gw_admin_ready = 0;
        gw_oidc_cache_clear();
    }
}

int gw_admin_whoami(struct mg_connection *conn, int64_t *user_id, char role[16])
{
    gw_admin_req *r;
    int rc = -1;

    if (!gw_admin_ready) {
        gw_http_send_error(conn, 503, "the REST API is not running", NULL);
        return -1;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        gw_http_send_error(conn, 500, "out of memory", NULL);
        return -1;
    }
    r->adm = &gw_admin_state;
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    if (gw_admin_tx_begin(r) == 0 && gw_admin_authenticate(r) == 0) {
        if (gw_admin_tx_commit(r) == 0) {
            *user_id = r->user_id;
            snprintf(role, 16, "%s", r->role);
            rc = 0;
        } else {
            gw_admin_send_dberr(r);
        }
    }
    gw_admin_tx_end(r);
    gw_admin_free_arena(r);
    free(r);
    return rc;
}
