/*
 * src/db/pgpool.c: the libpq connection pool (see pgpool.h).
 *
 * Locking protocol: one mutex guards the slot states, the backoff clock and
 * the up flag; a condition variable (CLOCK_MONOTONIC) wakes waiters when a
 * slot is released. Connecting and running statements happen outside the
 * mutex, on a slot marked BUSY, so a slow server never blocks other
 * threads' acquire/release.
 */
#include "db/pgpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "db/sql.h"

#define GW_PG_BACKOFF_MIN_MS 100
#define GW_PG_BACKOFF_MAX_MS 5000

typedef enum { GW_SLOT_EMPTY = 0, GW_SLOT_IDLE, GW_SLOT_BUSY } gw_slot_state;

struct gw_pgconn {
    PGconn *conn;
    gw_slot_state state;
    int index;
};

struct gw_pgpool {
    char *conninfo;
    char *appname;
    int statement_timeout_ms;
    int acquire_timeout_ms;
    int size;
    gw_pgconn *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t next_connect_at; /* backoff: no connect attempt before */
    int backoff_ms;
    atomic_int up;
};

void gw_pg_sqlstate(const PGresult *res, char out[GW_SQLSTATE_LEN])
{
    const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(out, GW_SQLSTATE_LEN, "%s", s != NULL && strlen(s) == 5 ? s : "08006");
}

static void gw_pg_oneline(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (char *c = s; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
}

void gw_pg_errmsg(const PGresult *res, const PGconn *conn, char err[GW_ERR_LEN])
{
    const char *m = NULL;
    if (res != NULL)
        m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if ((m == NULL || m[0] == '\0') && conn != NULL)
        m = PQerrorMessage(conn);
    snprintf(err, GW_ERR_LEN, "%s", m != NULL && m[0] != '\0' ? m : "database error");
    gw_pg_oneline(err);
}

/* Server notices and libpq warnings go through the logger (one line), not
 * straight to stderr. */
static void gw_pg_notice(void *arg, const char *message)
{
    char line[GW_ERR_LEN];
    (void)arg;
    snprintf(line, sizeof(line), "%s", message);
    gw_pg_oneline(line);
    gw_log_debug("postgres: %s", line);
}

PGconn *gw_pg_connect(const char *conninfo, const char *application_name, int statement_timeout_ms,
                      int connect_timeout_s, char err[GW_ERR_LEN])
{
    char timeout[32], options[64];
    const char *keys[8], *vals[8];
    int n = 0;
    PGconn *conn;

    snprintf(timeout, sizeof(timeout), "%d", connect_timeout_s < 2 ? 2 : connect_timeout_s);
    /* Defaults first: the keywords expanded from conninfo (dbname) later in
     * the list override them. */
    keys[n] = "application_name", vals[n++] = application_name != NULL ? application_name : "gatewayd";
    keys[n] = "connect_timeout", vals[n++] = timeout;
    keys[n] = "keepalives", vals[n++] = "1";
    keys[n] = "keepalives_idle", vals[n++] = "30";
    if (statement_timeout_ms > 0) {
        snprintf(options, sizeof(options), "-c statement_timeout=%d", statement_timeout_ms);
        keys[n] = "options", vals[n++] = options;
    }
    keys[n] = "dbname", vals[n++] = conninfo != NULL ? conninfo : "";
    keys[n] = NULL, vals[n] = NULL;

    conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        gw_pg_errmsg(NULL, conn, err);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, gw_pg_notice, NULL);
    return conn;
}

int gw_pgpool_create(const gw_pgpool_opts *opts, gw_pgpool **out, char err[GW_ERR_LEN])
{
    gw_pgpool *p;
    pthread_condattr_t ca;

    *out = NULL;
    if (opts->size < 1)
        return gw_errf(err, "pool size must be at least 1");
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return gw_errf(err, "out of memory");
    p->conninfo = strdup(opts->conninfo != NULL ? opts->conninfo : "");
    p->appname = strdup(opts->application_name != NULL ? opts->application_name : "gatewayd");
    p->slots = calloc((size_t)opts->size, sizeof(gw_pgconn));
    if (p->conninfo == NULL || p->appname == NULL || p->slots == NULL) {
        free(p->conninfo);
        free(p->appname);
        free(p->slots);
        free(p);
        return gw_errf(err, "out of memory");
    }
    p->size = opts->size;
    p->statement_timeout_ms = opts->statement_timeout_ms;
    p->acquire_timeout_ms = opts->acquire_timeout_ms > 0 ? opts->acquire_timeout_ms : 5000;
    for (int i = 0; i < p->size; i++)
        p->slots[i].index = i;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&p->up, 0);
    *out = p;
    return 0;
}

void gw_pgpool_destroy(gw_pgpool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].conn != NULL)
            PQfinish(p->slots[i].conn);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    /* the conninfo may hold a password */
    explicit_bzero(p->conninfo, strlen(p->conninfo));
    free(p->conninfo);
    free(p->appname);
    free(p->slots);
    free(p);
}

int gw_pgpool_is_up(gw_pgpool *p)
{
    return atomic_load(&p->up);
}

static void gw_cv_deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int gw_pgpool_acquire(gw_pgpool *p, gw_pgconn **out, char sqlstate[GW_SQLSTATE_LEN], char err[GW_ERR_LEN])
{
    struct timespec deadline;
    gw_pgconn *slot = NULL;
    char cerr[GW_ERR_LEN];
    PGconn *conn;

    *out = NULL;
    gw_cv_deadline(&deadline, p->acquire_timeout_ms);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        gw_pgconn *empty = NULL;
        for (int i = 0; i < p->size; i++) {
            if (p->slots[i].state == GW_SLOT_IDLE) {
                slot = &p->slots[i];
                break;
            }
            if (p->slots[i].state == GW_SLOT_EMPTY && empty == NULL)
                empty = &p->slots[i];
        }
        if (slot != NULL) {
            slot->state = GW_SLOT_BUSY;
            pthread_mutex_unlock(&p->mu);
            *out = slot;
            return 0;
        }
        if (empty != NULL) {
            if (gw_now_ms() < p->next_connect_at) {
                pthread_mutex_unlock(&p->mu);
                snprintf(sqlstate, GW_SQLSTATE_LEN, "08001");
                return gw_errf(err, "database unreachable (reconnecting)");
            }
            slot = empty;
            slot->state = GW_SLOT_BUSY;
            break;
        }
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            snprintf(sqlstate, GW_SQLSTATE_LEN, "53300");
            return gw_errf(err, "no database connection free within %d ms", p->acquire_timeout_ms);
        }
    }
    pthread_mutex_unlock(&p->mu);

    /* connect outside the lock */
    conn = gw_pg_connect(p->conninfo, p->appname, p->statement_timeout_ms, p->acquire_timeout_ms / 1000, cerr);
    pthread_mutex_lock(&p->mu);
    if (conn == NULL) {
        int was_up = atomic_exchange(&p->up, 0);
        p->backoff_ms = p->backoff_ms == 0 ? GW_PG_BACKOFF_MIN_MS : p->backoff_ms * 2;
        if (p->backoff_ms > GW_PG_BACKOFF_MAX_MS)
            p->backoff_ms = GW_PG_BACKOFF_MAX_MS;
        p->next_connect_at = gw_now_ms() + p->backoff_ms;
        slot->state = GW_SLOT_EMPTY;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (was_up)
            gw_log_warn("database connection lost: %s", cerr);
        else
            gw_log_debug("database connect failed: %s", cerr);
        snprintf(sqlstate, GW_SQLSTATE_LEN, "08001");
        return gw_errf(err, "database unreachable: %s", cerr);
    }
    p->backoff_ms = 0;
    p->next_connect_at = 0;
    slot->conn = conn;
    pthread_mutex_unlock(&p->mu);
    if (!atomic_exchange(&p->up, 1))
        gw_log_info("database connection established");
    *out = slot;
    return 0;
}

PGconn *gw_pgconn_raw(gw_pgconn *c)
{
    return c->conn;
}

void gw_pgpool_release(gw_pgpool *p, gw_pgconn *c)
{
    PGconn *drop = NULL;
    if (c == NULL)
        return;
    if (c->conn != NULL && (PQstatus(c->conn) != CONNECTION_OK || PQtransactionStatus(c->conn) != PQTRANS_IDLE)) {
        drop = c->conn;
        c->conn = NULL;
    }
    pthread_mutex_lock(&p->mu);
    c->state = c->conn != NULL ? GW_SLOT_IDLE : GW_SLOT_EMPTY;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (drop != NULL)
        PQfinish(drop);
}

/* The server went away: the idle connections were opened to the same
 * server and are dead too, so they are closed (a retry then connects
 * afresh instead of meeting the next dead one). */
static void gw_pgpool_drop_idle(gw_pgpool *p)
{
    PGconn *drop[p->size > 0 ? p->size : 1];
    int n = 0;

    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].state == GW_SLOT_IDLE) {
            drop[n++] = p->slots[i].conn;
            p->slots[i].conn = NULL;
            p->slots[i].state = GW_SLOT_EMPTY;
        }
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < n; i++)
        PQfinish(drop[i]);
}

int gw_pgpool_exec(gw_pgpool *p, const char *sql, int nparams, const char *const *values, const int *lengths,
                   const int *formats, int result_format, int flags, PGresult **res, char sqlstate[GW_SQLSTATE_LEN],
                   char err[GW_ERR_LEN])
{
    *res = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        gw_pgconn *c;
        PGresult *r;
        ExecStatusType st;

        if (gw_pgpool_acquire(p, &c, sqlstate, err) != 0)
            return -1;
        r = PQexecParams(c->conn, sql, nparams, NULL, values, lengths, formats, result_format);
        st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            gw_pgpool_release(p, c);
            atomic_store(&p->up, 1);
            *res = r;
            return 0;
        }
        gw_pg_sqlstate(r, sqlstate);
        gw_pg_errmsg(r, c->conn, err);
        if (PQstatus(c->conn) != CONNECTION_OK) {
            /* The server went away (restart, network): drop it and, for an
             * idempotent statement, try once more on a new connection. */
            PQclear(r);
            gw_pgpool_release(p, c);
            gw_pgpool_drop_idle(p);
            snprintf(sqlstate, GW_SQLSTATE_LEN, "08006");
            if ((flags & GW_PG_IDEMPOTENT) && attempt == 0)
                continue;
            atomic_store(&p->up, 0);
            return -1;
        }
        PQclear(r);
        gw_pgpool_release(p, c);
        return -1;
    }
    return -1;
}

int gw_pgpool_ping(gw_pgpool *p, char err[GW_ERR_LEN])
{
    PGresult *r;
    char sqlstate[GW_SQLSTATE_LEN];
    if (gw_pgpool_exec(p, GW_SQL_PING, 0, NULL, NULL, NULL, 0, GW_PG_IDEMPOTENT, &r, sqlstate, err) != 0)
        return -1;
    PQclear(r);
    return 0;
}
