/*
 * src/admin/admin_int.h: what the files of the REST API share (admin.c,
 * admin_auth.c, admin_exec.c, admin_resources.c, admin_analytics.c,
 * admin_sso.c): the operation table format, the per-request state and the
 * helpers for responses and for the one transaction every request runs in.
 *
 * An operation is one row of a table: a method, a path pattern under
 * /api/v1/ ("apps/{id}/credentials"), the body fields and query parameters
 * it accepts (each bound to a positional parameter $n of its statements),
 * up to three statements run in order, and how the result becomes JSON.
 * Parameters: $1 = the first path parameter (or, after a statement flagged
 * GW_AS_SETS_ID, the id it returned), $2 = the second path parameter,
 * $3/$4 = limit/offset of paged lists, $5.. = body fields and query
 * parameters, $24 = the acting user's id. Every parameter is sent as text and cast in SQL; the SQL text
 * is constant: values never become SQL.
 */
#ifndef GW_HTTP_ADMIN_INT_H
#define GW_HTTP_ADMIN_INT_H

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

typedef enum gw_admin_type {
    GW_AT_STRING = 1,
    GW_AT_INT,    /* integer, int64 */
    GW_AT_NUMBER, /* any JSON number, passed as its text (numeric in SQL) */
    GW_AT_BOOL,
    GW_AT_STRINGS, /* array of strings, passed as JSON text */
    GW_AT_INTS,    /* array of integers, passed as JSON text */
    GW_AT_OBJECT   /* object, passed as JSON text */
} gw_admin_type;

/* field flags */
#define GW_AF_REQUIRED 1

typedef struct gw_admin_field {
    const char *name;
    gw_admin_type type;
    int param;      /* $n that receives the value */
    int flags;      /* GW_AF_* */
    int null_param; /* $n set to 'true' when the value is JSON null (0: null = not given) */
    int max_len;    /* strings: longest value in bytes (0 = GW_ADMIN_STR_MAX) */
} gw_admin_field;

typedef enum gw_admin_result {
    GW_AR_LIST = 1, /* (json array, total) → {"data","page","page_size","total"} */
    GW_AR_DATA,     /* json array → {"data": …} */
    GW_AR_OBJECT,   /* one json object, 200; no row = 404 */
    GW_AR_CREATED,  /* one json object, 201 */
    GW_AR_NONE      /* 204 */
} gw_admin_result;

/* statement flags */
#define GW_AS_SETS_ID 1 /* the first column of its first row becomes $1 */

typedef struct gw_admin_stmt {
    const char *sql;
    int when[4]; /* run only when one of these $n is given (all 0: always) */
    int flags;
} gw_admin_stmt;

/* operation flags */
#define GW_AO_PAGED 1  /* accepts page/page_size (→ $3/$4) */
#define GW_AO_PUBLIC 2 /* no authentication (login) */

struct gw_admin_req;
typedef int (*gw_admin_handler)(struct gw_admin_req *r);

typedef struct gw_admin_op {
    const char *method;
    const char *path; /* segments under /api/v1/; "{id}" = positive integer, "{name}" = text */
    gw_admin_result result;
    const gw_admin_field *body;  /* NULL-name terminated; NULL = no fields */
    const gw_admin_field *query; /* NULL-name terminated; NULL = none */
    gw_admin_stmt stmts[3];
    const char *fetch;        /* the result object; $1 = the id. NULL: the last statement's */
    int flags;                /* GW_AO_* */
    int id_param;             /* creates that return no id: $n copied to $1 */
    gw_admin_handler handler; /* custom endpoint instead of the statements */
    const char *summary;      /* for logs and the route listing */
} gw_admin_op;

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
    const gw_admin_op *op;
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

/* ---- admin.c: memory, responses, the transaction ---- */

/* Request-lifetime memory (freed after the response). NULL when out of memory. */
void *gw_admin_alloc(gw_admin_req *r, size_t n);
char *gw_admin_strndup(gw_admin_req *r, const char *s, size_t n);
char *gw_admin_printf(gw_admin_req *r, const char *fmt, ...) GW_PRINTF(2, 3);

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

/* Reads and checks the request body against the op's fields (called by
 * admin_exec.c). -1: response sent. */
int gw_admin_read_body(gw_admin_req *r);

/* ---- admin_auth.c ---- */

/* Resolves the session cookie or Authorization: Bearer token inside the
 * open transaction, sets the acting user, and checks the CSRF token of
 * cookie-authenticated writes. -1: response sent. */
int gw_admin_authenticate(gw_admin_req *r);
/* Reads the aistudio_session cookie into r->session_token (when well-formed). */
void gw_admin_read_session_cookie(gw_admin_req *r);
int gw_admin_login(gw_admin_req *r);
int gw_admin_logout(gw_admin_req *r);
/* The cookies of a new session (aistudio_session, aistudio_csrf) into
 * r->set_cookie[0..1]: a password login and a single sign-on both call it. */
void gw_admin_set_session_cookies(gw_admin_req *r, const char *session_token, const char *csrf_token);

/* GET info (admin.c): base URLs and ports for the UI (public, no database) */
int gw_admin_info(gw_admin_req *r);

/* ---- admin_sso.c: single sign-on (OpenID Connect) ---- */

int gw_admin_sso_options(gw_admin_req *r);  /* GET auth/sso */
int gw_admin_sso_begin(gw_admin_req *r);    /* GET auth/sso/{slug}/login */
int gw_admin_sso_callback(gw_admin_req *r); /* GET auth/sso/{slug}/callback */

/* ---- admin_exec.c: the generic operation ---- */

/* Parses the body fields and query parameters into r->params. -1: response sent. */
int gw_admin_bind(gw_admin_req *r);
/* Runs an operation from the table (auth, statements, response). */
int gw_admin_exec(gw_admin_req *r);

/* ---- the tables ---- */
extern const gw_admin_op gw_admin_resource_ops[];
extern const size_t gw_admin_resource_nops;
extern const gw_admin_op gw_admin_analytics_ops[];
extern const size_t gw_admin_analytics_nops;

#endif
