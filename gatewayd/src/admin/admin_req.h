/*
 * src/admin/admin_req.h: one request of the REST API as every handler sees
 * it (gw_admin_req: path segments, body, statement parameters, caller,
 * transaction, response extras) and the helpers they share for it:
 * request-lifetime memory, responses, the transaction, reading the body
 * (admin_req.c). The operation tables and their handlers (admin_int.h)
 * build on this.
 */
#ifndef GW_ADMIN_REQ_H
#define GW_ADMIN_REQ_H

#include <civetweb.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "db/pgpool.h"
#include "gatewayd.h"

#define GW_ADMIN_MAX_PARAMS 24
#define GW_ADMIN_MAX_BODY (1024 * 1024)   /* bytes; 413 above */
#define GW_ADMIN_JSON_DEPTH 32            /* nesting of request bodies */
#define GW_ADMIN_STR_MAX 10000            /* default longest string field, bytes */
#define GW_ADMIN_QUERY_MAX 1000           /* longest query parameter value, bytes */
#define GW_ADMIN_RESPONSE_MAX (64u << 20) /* longest JSON response */
#define GW_ADMIN_PAGE_SIZE 50             /* default page_size */
#define GW_ADMIN_PAGE_SIZE_MAX 1000
#define GW_ADMIN_SESSION_COOKIE "aistudio_session"
#define GW_ADMIN_CSRF_COOKIE "aistudio_csrf"
#define GW_ADMIN_CSRF_HEADER "X-CSRF-Token"
#define GW_ADMIN_SESSION_MAX_AGE 604800 /* seconds: the absolute session lifetime */
#define GW_ADMIN_TOKEN_LEN 69           /* "aiss_"/"aisu_" + 64 hex digits */

/* Parameter positions. */
#define GW_AP_ID 1
#define GW_AP_SUB 2
#define GW_AP_LIMIT 3
#define GW_AP_OFFSET 4
#define GW_AP_ME 24 /* the acting user's id */

struct gw_admin_op;

/* The REST API's state (one per process, see admin.c). */
typedef struct gw_admin {
    gw_server *srv;
    gw_pgpool *pool;
    int cookie_secure;
} gw_admin;

typedef struct gw_admin_chunk gw_admin_chunk;

typedef struct gw_admin_dberr {
    char sqlstate[GW_SQLSTATE_LEN];
    char message[GW_ERR_LEN];
    char detail[GW_ERR_LEN];
    char hint[GW_ERR_LEN];
} gw_admin_dberr;

typedef enum gw_admin_auth { GW_AUTH_NONE = 0, GW_AUTH_SESSION, GW_AUTH_TOKEN } gw_admin_auth;

typedef struct gw_admin_req {
    gw_admin *adm;
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const struct gw_admin_op *op;
    int64_t started_ms;

    /* path segments after /api/v1/ (into pathbuf) */
    char pathbuf[1024];
    char *segs[8];
    int nsegs;

    /* request body (NUL-terminated; NULL when empty) */
    char *body;
    size_t body_len;

    /* statement parameters, 1-based; NULL = SQL NULL */
    const char *params[GW_ADMIN_MAX_PARAMS + 1];
    int page, page_size;

    /* who is asking */
    gw_admin_auth auth;
    int64_t user_id;
    char role[16];
    char csrf_hash[65];                         /* the session's, hex */
    char session_token[GW_ADMIN_TOKEN_LEN + 1]; /* from the cookie, when well-formed */

    /* the transaction */
    gw_pgconn *db;
    gw_admin_dberr dberr;

    /* response extras */
    const char *set_cookie[3];
    const char *location; /* 302: where to */
    int retry_after;
    char allow[64]; /* 405: the methods of the path */
    int status;
    /* set: errors are answered by this instead of a JSON body (the single
     * sign-on callback redirects to the login page with the message) */
    int (*on_error)(struct gw_admin_req *r, int status, const char *message);

    gw_admin_chunk *arena;
} gw_admin_req;

/* ---- memory, responses, the transaction (admin_req.c) ---- */

/* Request-lifetime memory (freed after the response by gw_admin_free_arena).
 * NULL when out of memory. */
void *gw_admin_alloc(gw_admin_req *r, size_t n);
char *gw_admin_strndup(gw_admin_req *r, const char *s, size_t n);
char *gw_admin_printf(gw_admin_req *r, const char *fmt, ...) GW_PRINTF(2, 3);
void gw_admin_free_arena(gw_admin_req *r);

/* Sends a JSON body with the request's extra headers; returns status. */
int gw_admin_send_json(gw_admin_req *r, int status, const char *json, size_t len);
/* Sends {"error":{"message","type","code"[,"detail","hint"]}}; returns status. */
int gw_admin_send_error(gw_admin_req *r, int status, const char *message, const char *code);
/* Sends the mapped error of the last failed statement (r->dberr). */
int gw_admin_send_dberr(gw_admin_req *r);
int gw_admin_send_no_content(gw_admin_req *r);
/* 302 to location (a local path or an absolute URL), with the extra headers. */
int gw_admin_send_redirect(gw_admin_req *r, const char *location);

/* Borrows a connection and runs BEGIN (UTC time zone). -1: response sent. */
int gw_admin_tx_begin(gw_admin_req *r);
/* Runs sql with r->params (all text). 0 with *res (caller clears), or -1
 * with r->dberr filled. */
int gw_admin_tx_exec(gw_admin_req *r, const char *sql, PGresult **res);
/* Runs sql with the given text parameters instead of r->params. */
int gw_admin_tx_exec_params(gw_admin_req *r, const char *sql, int n, const char *const *values, PGresult **res);
/* COMMIT; -1 with r->dberr filled. */
int gw_admin_tx_commit(gw_admin_req *r);
/* ROLLBACK if a transaction is open; releases the connection. */
void gw_admin_tx_end(gw_admin_req *r);

/* Reads the request body (NUL-terminated, at most GW_ADMIN_MAX_BODY; a
 * non-blank body must be JSON) into r->body. -1: response sent. */
int gw_admin_read_body(gw_admin_req *r);

#endif
