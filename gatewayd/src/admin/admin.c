/*
 * src/admin/admin.c: the REST API's listener, router and plumbing (see
 * admin.h): the one process-wide gw_admin (its own database pool, so the
 * admin API never starves the proxy's credential lookups), matching a
 * request to a row of the operation tables (405 with Allow when only the
 * method is wrong), request-lifetime memory, reading bodies within limits
 * (413, 415), JSON responses and errors, and the transaction every request
 * runs in (BEGIN with the UTC time zone … COMMIT, ROLLBACK on any error).
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
#include "gateway/health.h"
#include "admin/oidc.h"
#include "db/sql.h"

#define GW_ADMIN_PREFIX "/api/v1"
#define GW_ADMIN_CHUNK 8192

static gw_admin gw_admin_state;
static int gw_admin_ready;

struct gw_admin_chunk {
    gw_admin_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

/* ---- request-lifetime memory ---- */

void *gw_admin_alloc(gw_admin_req *r, size_t n)
{
    gw_admin_chunk *c = r->arena;
    size_t need = (n + 15) & ~(size_t)15;

    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > GW_ADMIN_CHUNK ? need : GW_ADMIN_CHUNK;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = r->arena;
        r->arena = c;
    }
    c->used += need;
    return c->data + c->used - need;
}

char *gw_admin_strndup(gw_admin_req *r, const char *s, size_t n)
{
    char *d = gw_admin_alloc(r, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *gw_admin_printf(gw_admin_req *r, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof(tmp))
        return gw_admin_strndup(r, tmp, (size_t)n);
    {
        char *d = gw_admin_alloc(r, (size_t)n + 1);
        if (d == NULL)
            return NULL;
        va_start(ap, fmt);
        vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return d;
    }
}

static void gw_admin_free_arena(gw_admin_req *r)
{
    while (r->arena != NULL) {
        gw_admin_chunk *next = r->arena->next;
        free(r->arena);
        r->arena = next;
    }
}

/* ---- responses ---- */

int gw_admin_send_json(gw_admin_req *r, int status, const char *json, size_t len)
{
    gw_http_reply h;
    char retry[16];

    r->status = status;
    gw_http_reply_start(&h, r->conn, status);
    if (status != 204 && len > 0)
        gw_http_reply_header(&h, "Content-Type", "application/json; charset=utf-8");
    gw_http_reply_header(&h, "Cache-Control", "no-store");
    if (r->location != NULL)
        gw_http_reply_header(&h, "Location", r->location);
    for (int i = 0; i < 3; i++)
        if (r->set_cookie[i] != NULL)
            gw_http_reply_header(&h, "Set-Cookie", r->set_cookie[i]);
    if (r->retry_after > 0) {
        snprintf(retry, sizeof(retry), "%d", r->retry_after);
        gw_http_reply_header(&h, "Retry-After", retry);
    }
    if (status == 405 && r->allow[0] != '\0')
        gw_http_reply_header(&h, "Allow", r->allow);
    if (status == 401)
        gw_http_reply_header(&h, "WWW-Authenticate", "Bearer realm=\"aistudio\"");
    if (status == 413)
        gw_http_reply_close(&h);
    gw_http_reply_send(&h, json, status == 204 ? 0 : len);
    return status;
}

int gw_admin_send_no_content(gw_admin_req *r)
{
    return gw_admin_send_json(r, 204, "", 0);
}

/* GET info (public): what the UI must know about this deployment before
 * anyone logs in: where the gateway and the docs are reached. No database. */
int gw_admin_info(gw_admin_req *r)
{
    const gw_config *cfg = &r->adm->srv->cfg;
    char mem[2048];
    gw_buf b;
    gw_jw w;

    gw_buf_init_fixed(&b, mem, sizeof(mem));
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "public_url");
    gw_jw_string(&w, cfg->public_url);
    gw_jw_key(&w, "gateway_url");
    if (cfg->gateway_public_url != NULL && cfg->gateway_public_url[0] != '\0')
        gw_jw_string(&w, cfg->gateway_public_url);
    else
        gw_jw_null(&w);
    gw_jw_key(&w, "proxy_port");
    gw_jw_int(&w, cfg->proxy_port);
    gw_jw_key(&w, "docs_port");
    gw_jw_int(&w, cfg->docs_port);
    gw_jw_key(&w, "mode");
    gw_jw_string(&w, gw_config_mode_name(cfg->mode));
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0 || b.failed)
        return gw_admin_send_error(r, 500, "the answer did not fit", NULL);
    return gw_admin_send_json(r, 200, b.data, b.len);
}

int gw_admin_send_redirect(gw_admin_req *r, const char *location)
{
    r->location = location;
    return gw_admin_send_json(r, 302, "", 0);
}

static int gw_admin_send_error_full(gw_admin_req *r, int status, const char *message, const char *code,
                                    const char *detail, const char *hint)
{
    char mem[2048];
    gw_buf b;
    gw_jw w;

    if (r->on_error != NULL)
        return r->on_error(r, status, message != NULL ? message : gw_errmap_reason(status));
    gw_buf_init_fixed(&b, mem, sizeof(mem));
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "error");
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "message");
    gw_jw_string(&w, message != NULL ? message : gw_errmap_reason(status));
    gw_jw_key(&w, "type");
    gw_jw_string(&w, gw_errmap_type(status));
    gw_jw_key(&w, "code");
    gw_jw_string(&w, code);
    if (detail != NULL && detail[0] != '\0') {
        gw_jw_key(&w, "detail");
        gw_jw_string(&w, detail);
    }
    if (hint != NULL && hint[0] != '\0') {
        gw_jw_key(&w, "hint");
        gw_jw_string(&w, hint);
    }
    gw_jw_object_end(&w);
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0) {
        int n = gw_errmap_body_fixed(mem, sizeof(mem), status, gw_errmap_reason(status), code);
        return gw_admin_send_json(r, status, mem, n > 0 ? (size_t)n : 0);
    }
    return gw_admin_send_json(r, status, b.data, b.len);
}

int gw_admin_send_error(gw_admin_req *r, int status, const char *message, const char *code)
{
    return gw_admin_send_error_full(r, status, message, code, NULL, NULL);
}

int gw_admin_send_dberr(gw_admin_req *r)
{
    const gw_admin_dberr *e = &r->dberr;
    int status = gw_errmap_status(e->sqlstate);

    if (status >= 500) {
        gw_log_warn("admin: %s %s: database error %s: %s", r->ri->request_method, r->ri->local_uri, e->sqlstate,
                    e->message);
        if (status == 500)
            return gw_admin_send_error(r, 500, "internal error", e->sqlstate);
        if (strncmp(e->sqlstate, "08", 2) == 0 || strcmp(e->sqlstate, "53300") == 0)
            return gw_admin_send_error(r, status, "database unavailable", e->sqlstate);
    }
    return gw_admin_send_error_full(r, status, e->message, e->sqlstate, e->detail, e->hint);
}

/* ---- the transaction ---- */

static void gw_admin_fill_dberr(gw_admin_req *r, const PGresult *res)
{
    const char *d = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *h = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    PGconn *pg = gw_pgconn_raw(r->db);

    gw_pg_sqlstate(res, r->dberr.sqlstate);
    gw_pg_errmsg(res, pg, r->dberr.message);
    snprintf(r->dberr.detail, sizeof(r->dberr.detail), "%s", d != NULL ? d : "");
    snprintf(r->dberr.hint, sizeof(r->dberr.hint), "%s", h != NULL ? h : "");
    if (PQstatus(pg) != CONNECTION_OK)
        snprintf(r->dberr.sqlstate, sizeof(r->dberr.sqlstate), "08006");
}

int gw_admin_tx_begin(gw_admin_req *r)
{
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    PGresult *res;

    if (gw_pgpool_acquire(r->adm->pool, &r->db, sqlstate, err) != 0) {
        r->db = NULL;
        gw_log_warn("admin: no database connection: %s", err);
        gw_admin_send_error(r, 503, "database unavailable", sqlstate);
        return -1;
    }
    res = PQexec(gw_pgconn_raw(r->db), GW_SQL_ADMIN_BEGIN);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        gw_admin_fill_dberr(r, res);
        PQclear(res);
        gw_admin_send_dberr(r);
        return -1;
    }
    PQclear(res);
    return 0;
}

int gw_admin_tx_exec_params(gw_admin_req *r, const char *sql, int n, const char *const *values, PGresult **out)
{
    static const Oid text_types[GW_ADMIN_MAX_PARAMS] = {25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25,
                                                        25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25};
    PGresult *res;
    ExecStatusType st;

    *out = NULL;
    if (n > GW_ADMIN_MAX_PARAMS)
        n = GW_ADMIN_MAX_PARAMS;
    res = PQexecParams(gw_pgconn_raw(r->db), sql, n, text_types, values, NULL, NULL, 0);
    st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *out = res;
        return 0;
    }
    gw_admin_fill_dberr(r, res);
    PQclear(res);
    return -1;
}

int gw_admin_tx_exec(gw_admin_req *r, const char *sql, PGresult **out)
{
    return gw_admin_tx_exec_params(r, sql, GW_ADMIN_MAX_PARAMS, r->params + 1, out);
}

int gw_admin_tx_commit(gw_admin_req *r)
{
    PGresult *res = PQexec(gw_pgconn_raw(r->db), GW_SQL_COMMIT);
    int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        gw_admin_fill_dberr(r, res);
    PQclear(res);
    return ok ? 0 : -1;
}

void gw_admin_tx_end(gw_admin_req *r)
{
    if (r->db == NULL)
        return;
    {
        PGconn *pg = gw_pgconn_raw(r->db);
        if (PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
            PQclear(PQexec(pg, GW_SQL_ROLLBACK));
    }
    gw_pgpool_release(r->adm->pool, r->db);
    r->db = NULL;
}

/* ---- request bodies ---- */

/* 1 when the Content-Type is application/json (parameters allowed). */
static int gw_admin_is_json(const char *ct)
{
    size_t n = strlen("application/json");
    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

int gw_admin_read_body(gw_admin_req *r)
{
    long long cl = r->ri->content_length;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    size_t cap, len = 0;
    char *buf;

    r->body = NULL;
    r->body_len = 0;
    if (cl > GW_ADMIN_MAX_BODY) {
        gw_admin_send_error(r, 413, "request body too large (at most 1 MiB)", "payload_too_large");
        return -1;
    }
    if (cl == 0 || (cl < 0 && te == NULL))
        return 0;
    cap = cl > 0 ? (size_t)cl : (size_t)GW_ADMIN_MAX_BODY + 1;
    buf = gw_admin_alloc(r, cap + 1);
    if (buf == NULL) {
        gw_admin_send_error(r, 500, "out of memory", NULL);
        return -1;
    }
    for (;;) {
        int n = mg_read(r->conn, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap)
            break;
    }
    if (len > GW_ADMIN_MAX_BODY) {
        gw_admin_send_error(r, 413, "request body too large (at most 1 MiB)", "payload_too_large");
        return -1;
    }
    if (cl > 0 && len < (size_t)cl) {
        gw_admin_send_error(r, 400, "request body shorter than its Content-Length", "incomplete_body");
        return -1;
    }
    buf[len] = '\0';
    /* an all-blank body counts as none */
    {
        size_t i = 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
            i++;
        if (i == len)
            return 0;
    }
    if (!gw_admin_is_json(mg_get_header(r->conn, "Content-Type"))) {
        gw_admin_send_error(r, 415, "request bodies must be JSON (Content-Type: application/json)",
                            "unsupported_media_type");
        return -1;
    }
    r->body = buf;
    r->body_len = len;
    return 0;
}

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

static const gw_admin_op *gw_admin_route(gw_admin_req *r)
{
    const gw_admin_op *op = gw_admin_route_in(r, gw_admin_resource_ops, gw_admin_resource_nops);
    if (op == NULL)
        op = gw_admin_route_in(r, gw_admin_analytics_ops, gw_admin_analytics_nops);
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
    size_t n = GW_HEALTH_NROUTES + GW_ADMIN_NROUTES;
    gw_http_opts o;
    char tmp[GW_ERR_LEN];
    int rc;

    *out = NULL;
    if (gw_admin_init(srv, err) != 0)
        return -1;
    routes = calloc(n + nextra, sizeof(*routes));
    if (routes == NULL)
        return gw_errf(err, "SERVER_PORT: out of memory");
    gw_health_routes(srv, routes);
    gw_admin_routes(srv, routes + GW_HEALTH_NROUTES);
    for (size_t i = 0; i < nextra; i++)
        routes[n + i] = extra[i];
    memset(&o, 0, sizeof(o));
    o.name = "admin";
    o.host = srv->cfg.listen_host;
    o.port = srv->cfg.server_port;
    o.threads = GW_ADMIN_THREADS;
    o.request_timeout_ms = srv->cfg.request_timeout_ms;
    o.keep_alive_timeout_ms = srv->cfg.keep_alive_timeout_ms;
    o.max_header_bytes = srv->cfg.max_header_bytes;
    rc = gw_http_start(&o, routes, n + nextra, out, tmp);
    free(routes);
    if (rc != 0)
        return gw_errf(err, "SERVER_PORT: %s", tmp);
    gw_log_info("admin server listening on %s:%d (%d worker threads)", o.host, o.port, o.threads);
    return 0;
}

int gw_admin_start(gw_server *srv, struct mg_context **out, char err[GW_ERR_LEN])
{
    return gw_admin_start_with(srv, NULL, 0, out, err);
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
