/*
 * src/admin/admin_int.h: what the files of the REST API share (admin.c,
 * admin_auth.c, admin_exec.c, admin_resources.c, admin_analytics.c,
 * admin_alerts.c, admin_sso.c): the operation table format, the per-request state and the
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

#include <stddef.h>
#include <stdint.h>

#include "admin/admin_req.h"

/* Parameter positions. */
#define GW_AP_ID 1
#define GW_AP_SUB 2
#define GW_AP_LIMIT 3
#define GW_AP_OFFSET 4
#define GW_AP_ME 24 /* the acting user's id */
#define GW_AP_FORMAT 23 /* ?format=json|csv of operations with a csv statement */

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
    /* ?format=csv (a query field bound to GW_AP_FORMAT): this statement's
     * rows, streamed as CSV (admin_csv.c) instead of the statements; its
     * file is csv_name.csv */
    const char *csv;
    const char *csv_name;
    const char *summary;      /* for logs and the route listing */
} gw_admin_op;

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

/* ---- admin_sso.c: single sign-on (OpenID Connect) ---- */

int gw_admin_sso_options(gw_admin_req *r);  /* GET auth/sso */
int gw_admin_sso_begin(gw_admin_req *r);    /* GET auth/sso/{slug}/login */
int gw_admin_sso_callback(gw_admin_req *r); /* GET auth/sso/{slug}/callback */

/* ---- admin_exec.c: the generic operation ---- */

/* Runs an operation from the table (auth, statements, response). */
int gw_admin_exec(gw_admin_req *r);

/* ---- admin_csv.c: ?format=csv ---- */

/* Runs op->csv as a cursor in the open transaction and streams its rows as
 * CSV; commits. Returns the status (an error before the first row is a
 * JSON error). */
int gw_admin_csv_send(gw_admin_req *r);

/* ---- the tables ---- */
extern const gw_admin_op gw_admin_resource_ops[];
extern const size_t gw_admin_resource_nops;
extern const gw_admin_op gw_admin_analytics_ops[];
extern const size_t gw_admin_analytics_nops;
extern const gw_admin_op gw_admin_alerts_ops[];
extern const size_t gw_admin_alerts_nops;

#endif
