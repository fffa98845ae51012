/*
 * src/sync/edge_upload.c: an edge's analytics upload (see edge_upload.h).
 */
#include "sync/edge_upload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/sql.h"
#include "sync/wire.h"

#define GW_EDGE_UPLOAD_BACKOFF_MIN_MS 500
#define GW_EDGE_UPLOAD_BACKOFF_MAX_MS 5000

enum { GW_UP_OK = 0, GW_UP_LATER = -1, GW_UP_INVALID = -2 };

/* Removes acknowledged events from the outbox. */
static int gw_up_ack(gw_edge_upload *u, gw_sync_event *ev, size_t n)
{
    const char **ids = malloc(n * sizeof(*ids));
    const char *params[1];
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    gw_buf b;
    PGresult *res;
    int rc = 0;

    if (ids == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        ids[i] = ev[i].request_id;
    gw_buf_init(&b, 0);
    gw_sync_pg_array(&b, ids, n);
    free(ids);
    params[0] = gw_buf_cstr(&b);
    if (params[0] == NULL || gw_pgpool_exec(u->pool, GW_SQL_EDGE_OUTBOX_ACK, 1, params, NULL, NULL, 0,
                                            GW_PG_IDEMPOTENT, &res, sqlstate, err) != 0) {
        gw_log_warn("sync: %zu uploaded event(s) stay in the outbox (sent again later, stored once): %s", n,
                    params[0] == NULL ? "out of memory" : err);
        rc = -1;
    } else {
        PQclear(res);
    }
    gw_buf_free(&b);
    return rc;
}

/* Sends ev[0..n) and acknowledges them; halves a batch the hub refuses. */
static int gw_up_send(gw_edge_upload *u, gw_sync_event *ev, size_t n)
{
    Aistudio__V1__AnalyticsBatch batch = AISTUDIO__V1__ANALYTICS_BATCH__INIT;
    Aistudio__V1__AnalyticsEvent **list;
    Aistudio__V1__AnalyticsAck *ack;
    gw_rpc_reply reply;
    int rc;

    list = malloc(n * sizeof(*list));
    if (list == NULL)
        return GW_UP_LATER;
    for (size_t i = 0; i < n; i++)
        list[i] = &ev[i].pb;
    batch.events = list;
    batch.n_events = n;
    batch.batch_seq = ++u->batch_seq;
    rc = gw_edge_rpc_call(u->rpc, GW_SYNC_M_UPLOAD, &batch.base, GW_EDGE_UPLOAD_TIMEOUT_MS, &reply);
    free(list);
    if (rc != 0) {
        gw_rpc_status st = reply.status;
        char msg[GW_ERR_LEN];
        snprintf(msg, sizeof(msg), "%s", reply.message);
        gw_rpc_reply_clear(&reply);
        if (st != GW_RPC_INVALID_ARGUMENT) {
            atomic_fetch_add(&u->failures, 1);
            gw_log_debug("sync: upload of %zu event(s) failed (%s %s): they wait in the outbox", n,
                         gw_rpc_status_name(st), msg);
            return GW_UP_LATER;
        }
        if (n == 1) {
            gw_log_error("sync: the hub refuses event %s (%s): dropped from the outbox", ev[0].request_id, msg);
            atomic_fetch_add(&u->refused, 1);
            return gw_up_ack(u, ev, 1) == 0 ? GW_UP_OK : GW_UP_LATER;
        }
        rc = gw_up_send(u, ev, n / 2);
        if (rc != GW_UP_OK)
            return rc;
        return gw_up_send(u, ev + n / 2, n - n / 2);
    }
    ack = aistudio__v1__analytics_ack__unpack(NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (ack == NULL) {
        atomic_fetch_add(&u->failures, 1);
        gw_log_warn("sync: the hub answered an upload with a malformed AnalyticsAck: sent again later");
        return GW_UP_LATER;
    }
    /* the hub stored the whole batch (new, duplicates and rejects alike) */
    atomic_fetch_add(&u->uploaded, ack->inserted);
    atomic_fetch_add(&u->duplicates, ack->duplicates);
    atomic_fetch_add(&u->rejected, ack->rejected);
    if (ack->n_acked_request_ids != n)
        gw_log_warn("sync: the hub acknowledged %zu of %zu events: all are taken as stored (the call succeeded)",
                    ack->n_acked_request_ids, n);
    aistudio__v1__analytics_ack__free_unpacked(ack, NULL);
    return gw_up_ack(u, ev, n) == 0 ? GW_UP_OK : GW_UP_LATER;
}

/* One round: takes a batch from the outbox and uploads it. >0 events
 * sent, 0 nothing to send, -1 try later. */
static int gw_up_round(gw_edge_upload *u, gw_sync_event *ev)
{
    char limit[16], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[1] = {limit};
    PGresult *res;
    size_t n = 0;
    int rc;

    snprintf(limit, sizeof(limit), "%d", GW_EDGE_UPLOAD_BATCH);
    if (gw_pgpool_exec(u->pool, GW_SQL_EDGE_OUTBOX_TAKE, 1, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        gw_log_debug("sync: cannot read the outbox: %s", err);
        return -1;
    }
    for (int i = 0; i < PQntuples(res) && n < GW_EDGE_UPLOAD_BATCH; i++) {
        if (gw_sync_event_from_json(PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0), &ev[n], err) != 0) {
            gw_log_error("sync: an outbox event cannot be read (%s): left in the outbox", err);
            continue;
        }
        n++;
    }
    PQclear(res);
    if (n == 0)
        return 0;
    rc = gw_up_send(u, ev, n);
    return rc == GW_UP_OK ? (int)n : -1;
}

static void *gw_up_main(void *arg)
{
    gw_edge_upload *u = arg;
    gw_sync_event *ev = calloc(GW_EDGE_UPLOAD_BATCH, sizeof(*ev));
    int backoff = 0;

    pthread_mutex_lock(&u->mu);
    while (!u->stop && ev != NULL) {
        int wait_ms = 0, sent;
        pthread_mutex_unlock(&u->mu);
        sent = gw_up_round(u, ev);
        pthread_mutex_lock(&u->mu);
        if (sent > 0) {
            backoff = 0;
            continue; /* a backlog: at once */
        }
        if (sent == 0) {
            backoff = 0;
            wait_ms = GW_EDGE_UPLOAD_IDLE_MS;
        } else {
            backoff = backoff == 0 ? GW_EDGE_UPLOAD_BACKOFF_MIN_MS : backoff * 2;
            if (backoff > GW_EDGE_UPLOAD_BACKOFF_MAX_MS)
                backoff = GW_EDGE_UPLOAD_BACKOFF_MAX_MS;
            wait_ms = backoff;
        }
        if (!u->stop && !u->poked) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&u->cv, &u->mu, &ts);
        }
        if (u->poked)
            backoff = 0;
        u->poked = 0;
    }
    pthread_mutex_unlock(&u->mu);
    free(ev);
    return NULL;
}

int gw_edge_upload_start(gw_edge_upload *u, gw_edge_rpc *rpc, gw_pgpool *pool, char err[GW_ERR_LEN])
{
    pthread_condattr_t ca;
    memset(u, 0, sizeof(*u));
    u->rpc = rpc;
    u->pool = pool;
    pthread_mutex_init(&u->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&u->thread, NULL, gw_up_main, u) != 0)
        return gw_errf(err, "cannot start the analytics upload thread");
    u->running = 1;
    return 0;
}

void gw_edge_upload_poke(gw_edge_upload *u)
{
    pthread_mutex_lock(&u->mu);
    u->poked = 1;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

void gw_edge_upload_stop(gw_edge_upload *u)
{
    if (!u->running)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = 1;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->thread, NULL);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    u->running = 0;
}
