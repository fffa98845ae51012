/*
 * src/admin/admin_req.c: what every handler of the REST API uses for one
 * request (see admin_req.h): request-lifetime memory (an arena freed after
 * the response), JSON responses and errors (SQLSTATE mapped by
 * base/errmap.c), reading bodies within limits (413, 415), and the one
 * transaction every request runs in (BEGIN with the UTC time zone …
 * COMMIT, ROLLBACK on any error, the connection back to the REST API's own
 * pool). The router (admin.c), the authentication (admin_auth.c), the
 * operation tables (admin_exec.c) and the single sign-on (admin_sso.c) all
 * stand on this module; it calls none of them.
 */
#include "admin/admin_req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/errmap.h"
#include "base/json.h"
#include "db/sql.h"
#include "http/server.h"

#define GW_ADMIN_CHUNK 8192

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

void gw_admin_free_arena(gw_admin_req *r)
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

    if (r->on_error != NULL)
        return r->on_error(r, status, message != NULL ? message : gw_errmap_reason(status));
    gw_buf_init_fixed(&b, mem, sizeof(mem));
    if (gw_errmap_body_full(&b, status, message, code, detail, hint) != 0) {
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
