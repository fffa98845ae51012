/*
 * src/db/pgpool.h: a small fixed-size libpq connection pool. Slots
 * connect lazily; a failed connect puts the whole pool into exponential
 * backoff (100 ms doubling to 5 s) during which acquires fail fast with
 * SQLSTATE 08001 instead of piling onto a dead server, so the daemon runs
 * (and reports not-ready) while PostgreSQL is down. Broken connections are
 * dropped on release and re-opened on demand. Queries are parameterized
 * only (PQexecParams); errors carry the SQLSTATE, never parsed message text.
 */
#ifndef GW_PGPOOL_H
#define GW_PGPOOL_H

#include <libpq-fe.h>

#include "base/common.h"

#define GW_SQLSTATE_LEN 6 /* 5 characters + NUL */

/* exec flags */
#define GW_PG_IDEMPOTENT 1 /* safe to retry once on a fresh connection */

typedef struct gw_pgpool_opts {
    const char *conninfo;     /* DATABASE_URL ("" = libpq defaults) */
    int size;                 /* connections, >= 1 */
    int acquire_timeout_ms;   /* wait for a free connection */
    int statement_timeout_ms; /* sent as options=-c statement_timeout (0 = none) */
    const char *application_name;
} gw_pgpool_opts;

typedef struct gw_pgpool gw_pgpool;
typedef struct gw_pgconn gw_pgconn;

/* Creates the pool without connecting (never fails because the database
 * is down). */
int gw_pgpool_create(const gw_pgpool_opts *opts, gw_pgpool **out, char err[GW_ERR_LEN]);
void gw_pgpool_destroy(gw_pgpool *p);

/* Borrows a connected connection. -1 with sqlstate 08001 when the database
 * is unreachable (or in backoff), 53300 when every connection stayed busy
 * for acquire_timeout_ms. */
int gw_pgpool_acquire(gw_pgpool *p, gw_pgconn **out, char sqlstate[GW_SQLSTATE_LEN], char err[GW_ERR_LEN]);
/* Returns a connection; one that is broken or inside a transaction is
 * closed so the next acquire gets a clean one. */
void gw_pgpool_release(gw_pgpool *p, gw_pgconn *c);
PGconn *gw_pgconn_raw(gw_pgconn *c);

/*
 * Runs one parameterized statement on a pooled connection. On 0, *res holds
 * a PGRES_TUPLES_OK or PGRES_COMMAND_OK result the caller PQclear()s. On -1,
 * sqlstate and err say why (08006 when the connection failed mid-way).
 * With GW_PG_IDEMPOTENT a statement that failed because the connection was
 * broken (a restarted server) is retried once on a new connection.
 */
int gw_pgpool_exec(gw_pgpool *p, const char *sql, int nparams, const char *const *values, const int *lengths,
                   const int *formats, int result_format, int flags, PGresult **res, char sqlstate[GW_SQLSTATE_LEN],
                   char err[GW_ERR_LEN]);

/* SELECT 1 through the pool; updates the up/down state. */
int gw_pgpool_ping(gw_pgpool *p, char err[GW_ERR_LEN]);
/* 1 when the last connect or statement reached the database. */
int gw_pgpool_is_up(gw_pgpool *p);

/*
 * Opens one connection with the daemon's defaults (application_name,
 * connect_timeout, TCP keepalives, statement_timeout); settings in conninfo
 * win. Used by the pool and by the LISTEN thread. NULL + err on failure.
 */
PGconn *gw_pg_connect(const char *conninfo, const char *application_name, int statement_timeout_ms,
                      int connect_timeout_s, char err[GW_ERR_LEN]);

/* SQLSTATE of a failed result ("08006" when there is none). */
void gw_pg_sqlstate(const PGresult *res, char out[GW_SQLSTATE_LEN]);
/* One-line error message of a failed result or connection (trailing
 * newlines removed). */
void gw_pg_errmsg(const PGresult *res, const PGconn *conn, char err[GW_ERR_LEN]);

#endif
