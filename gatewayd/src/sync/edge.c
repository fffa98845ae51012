/*
 * src/sync/edge.c: an edge's link to its hub (see edge.h).
 */
#include "sync/edge.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/sql.h"
#include "rpc/rpc.h"
#include "sync/edge_creds.h"
#include "sync/edge_lease.h"
#include "sync/edge_rpc.h"
#include "sync/edge_upload.h"
#include "sync/edge_window.h"
#include "sync/wire.h"

/* The callbacks' argument: one per stream, freed by its close callback
 * (which runs last). */
typedef struct gw_edge_sctx {
    struct gw_edge *e;
    uint64_t no;
} gw_edge_sctx;

/* What the stream's callbacks hand to the link thread. */
typedef struct gw_edge_item {
    uint64_t stream_no; /* the stream it came from */
    Aistudio__V1__HubMessage *msg; /* NULL: the stream closed */
    gw_rpc_status status;
    char message[GW_ERR_LEN];
    struct gw_edge_item *next;
} gw_edge_item;

struct gw_edge {
    gw_edge_opts o;
    gw_edge_rpc *rpc;
    gw_edge_creds creds;
    gw_edge_upload up;
    gw_edge_leases leases;
    gw_edge_window window;
    int started;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_edge_item *head, *tail; /* under mu */
    int stop;                  /* under mu */
    pthread_t thread;

    /* the link thread's own */
    gw_rpc_call *stream;
    uint64_t stream_no;
    gw_rpc_backoff backoff;
    int64_t next_attempt_ms, next_hb_ms;
    int interval_s;
    uint64_t seq;
    char last_error[GW_ERR_LEN];
};

/* ---- the facade's callbacks ---- */

gw_cred_result gw_edge_resolve_credential(void *ctx, const char *key, size_t key_len, gw_credential *out,
                                          char err[GW_ERR_LEN])
{
    gw_edge *e = ctx;
    return gw_edge_creds_resolve(&e->creds, key, key_len, out, err);
}

void gw_edge_record(void *ctx, const gw_event *ev)
{
    gw_edge *e = ctx;
    gw_edge_window_record(&e->window, ev);
}

int gw_edge_budget_source(void *ctx, int kind, int64_t id, gw_money configured, char period_end[GW_BUDGET_DATE_LEN],
                          gw_money *spent, gw_money *limit, char err[GW_ERR_LEN])
{
    gw_edge *e = ctx;
    return gw_edge_leases_source(&e->leases, kind, id, configured, period_end, spent, limit, err);
}

/* ---- the stream's callbacks (the client's event thread) ---- */

static void gw_edge_queue(gw_edge *e, gw_edge_item *it)
{
    pthread_mutex_lock(&e->mu);
    if (e->tail != NULL)
        e->tail->next = it;
    else
        e->head = it;
    e->tail = it;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void gw_edge_on_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    gw_edge_sctx *sc = arg;
    gw_edge *e = sc->e;
    gw_edge_item *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return;
    it->stream_no = sc->no;
    it->msg = aistudio__v1__hub_message__unpack(NULL, len, data);
    if (it->msg == NULL) {
        /* the hub speaks something else: end this stream, reconnect later */
        gw_log_warn("sync: the hub sent a malformed HubMessage (%zu bytes): the stream is closed", len);
        gw_rpc_call_cancel(call);
        free(it);
        return;
    }
    gw_edge_queue(e, it);
}

static void gw_edge_on_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    gw_edge_sctx *sc = arg;
    gw_edge *e = sc->e;
    gw_edge_item *it = calloc(1, sizeof(*it));
    (void)call;
    if (it != NULL) {
        it->stream_no = sc->no;
        it->status = status;
        snprintf(it->message, sizeof(it->message), "%s", message != NULL ? message : "");
        gw_edge_queue(e, it);
    }
    free(sc);
}

/* ---- sending ---- */

static const char *gw_edge_loaded(gw_edge *e, char out[GW_SYNC_SHA_HEX])
{
    gw_snapshot *s = gw_snapshot_current(e->o.loader->holder);
    snprintf(out, GW_SYNC_SHA_HEX, "%s", s != NULL ? gw_snapshot_checksum(s) : "");
    gw_snapshot_release(s);
    return out;
}

static void gw_edge_heartbeat(gw_edge *e)
{
    Aistudio__V1__EdgeMessage m = AISTUDIO__V1__EDGE_MESSAGE__INIT;
    Aistudio__V1__Heartbeat hb = AISTUDIO__V1__HEARTBEAT__INIT;
    Aistudio__V1__EdgeMetrics metrics;
    char loaded[GW_SYNC_SHA_HEX], err[GW_ERR_LEN];

    if (e->stream == NULL)
        return;
    gw_edge_window_take(&e->window, &metrics);
    hb.loaded_checksum = (char *)gw_edge_loaded(e, loaded);
    hb.version = GW_VERSION;
    hb.metrics = &metrics;
    hb.seq = ++e->seq;
    hb.heartbeat_interval_s = (uint32_t)e->o.heartbeat_s;
    m.kind_case = AISTUDIO__V1__EDGE_MESSAGE__KIND_HEARTBEAT;
    m.heartbeat = &hb;
    if (gw_sync_send(e->stream, &m.base, err) != 0)
        gw_log_debug("sync: heartbeat not sent: %s", err);
    e->next_hb_ms = gw_now_ms() + (int64_t)e->interval_s * 1000;
}

static void gw_edge_progress(gw_edge *e, int64_t push_id, Aistudio__V1__PushProgress__Phase phase,
                             const char *checksum, const char *reason)
{
    Aistudio__V1__EdgeMessage m = AISTUDIO__V1__EDGE_MESSAGE__INIT;
    Aistudio__V1__PushProgress p = AISTUDIO__V1__PUSH_PROGRESS__INIT;
    char err[GW_ERR_LEN];
    if (push_id <= 0 || e->stream == NULL)
        return;
    p.push_id = push_id;
    p.phase = phase;
    p.checksum = (char *)(checksum != NULL ? checksum : "");
    p.reason = (char *)(reason != NULL ? reason : "");
    m.kind_case = AISTUDIO__V1__EDGE_MESSAGE__KIND_PROGRESS;
    m.progress = &p;
    if (gw_sync_send(e->stream, &m.base, err) != 0)
        gw_log_debug("sync: push %" PRId64 ": progress not sent: %s", push_id, err);
}

/* ---- reload ---- */

/* Verified and stored in one transaction by the extension (22023: the
 * checksum does not match, nothing stored). */
static int gw_edge_store(gw_edge *e, const uint8_t *bytes, size_t len, const char *checksum, char err[GW_ERR_LEN])
{
    const char *params[2] = {(const char *)bytes, checksum};
    int lengths[2] = {(int)len, 0};
    int formats[2] = {1, 0};
    char sqlstate[GW_SQLSTATE_LEN];
    PGresult *res;
    if (len > (size_t)INT32_MAX)
        return gw_errf(err, "the snapshot is too large");
    if (gw_pgpool_exec(e->o.pool, GW_SQL_EDGE_STORE_SNAPSHOT, 2, params, lengths, formats, 0, 0, &res, sqlstate, err) !=
        0)
        return -1;
    PQclear(res);
    return 0;
}

/* Pull → build → verify and store → swap; reports the phases of push_id. */
static void gw_edge_reload(gw_edge *e, int64_t push_id, const char *why)
{
    Aistudio__V1__SnapshotRequest rq = AISTUDIO__V1__SNAPSHOT_REQUEST__INIT;
    Aistudio__V1__SnapshotResponse *rs = NULL;
    gw_rpc_reply reply;
    gw_snapshot *next = NULL;
    char loaded[GW_SYNC_SHA_HEX], err[GW_ERR_LEN], reason[GW_ERR_LEN + 64];

    gw_log_info("sync: pulling the snapshot (%s)", why);
    gw_edge_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__PULLING, NULL, NULL);
    rq.namespace_ = (char *)e->o.ns;
    rq.have_checksum = (char *)gw_edge_loaded(e, loaded);
    if (gw_edge_rpc_call(e->rpc, GW_SYNC_M_PULL, &rq.base, GW_EDGE_PULL_TIMEOUT_MS, &reply) != 0) {
        snprintf(reason, sizeof(reason), "pull failed: %s %s", gw_rpc_status_name(reply.status), reply.message);
        gw_rpc_reply_clear(&reply);
        goto failed;
    }
    rs = aistudio__v1__snapshot_response__unpack(NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (rs == NULL) {
        snprintf(reason, sizeof(reason), "the hub answered with a malformed SnapshotResponse: nothing applied");
        goto failed;
    }
    if (rs->unchanged) {
        gw_log_info("sync: the snapshot is unchanged (%.16s)", loaded);
        gw_edge_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__APPLIED, loaded, NULL);
        goto done;
    }
    if (gw_reload_build(e->o.loader, rs->snapshot.data, rs->snapshot.len, rs->checksum, &next, err) != 0) {
        snprintf(reason, sizeof(reason), "the snapshot cannot be served: %s: nothing applied", err);
        goto failed;
    }
    if (gw_edge_store(e, rs->snapshot.data, rs->snapshot.len, rs->checksum, err) != 0) {
        snprintf(reason, sizeof(reason), "the snapshot was not stored: %s: nothing applied", err);
        goto failed;
    }
    gw_reload_swap(e->o.loader, next);
    next = NULL;
    gw_log_info("sync: snapshot %.16s applied", rs->checksum);
    gw_edge_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__APPLIED, rs->checksum, NULL);
    gw_edge_heartbeat(e); /* the hub learns the new checksum at once */
    goto done;
failed:
    gw_log_warn("sync: %s", reason);
    gw_edge_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__FAILED, NULL, reason);
done:
    if (next != NULL)
        gw_snapshot_release(next);
    if (rs != NULL)
        aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
}

/* ---- the link ---- */

/* The link failed; status says why (a refusal waits longer: a token does
 * not mend itself, and the hub rate-limits refusals). */
static void gw_edge_link_error(gw_edge *e, gw_rpc_status status, const char *msg)
{
    int refused = status == GW_RPC_UNAUTHENTICATED || status == GW_RPC_PERMISSION_DENIED ||
                  status == GW_RPC_RESOURCE_EXHAUSTED;
    int wait = refused ? GW_EDGE_REFUSED_RETRY_MS : gw_rpc_backoff_next(&e->backoff);
    if (strcmp(e->last_error, msg) != 0) {
        if (refused)
            gw_log_error("sync: hub %s: %s (retrying in %d s)", e->o.endpoint, msg, wait / 1000);
        else
            gw_log_warn("sync: hub %s: %s (retrying)", e->o.endpoint, msg);
        snprintf(e->last_error, sizeof(e->last_error), "%s", msg);
    } else {
        gw_log_debug("sync: hub %s: %s", e->o.endpoint, msg);
    }
    e->next_attempt_ms = gw_now_ms() + wait;
}

static void gw_edge_connect(gw_edge *e)
{
    Aistudio__V1__RegisterRequest rq = AISTUDIO__V1__REGISTER_REQUEST__INIT;
    Aistudio__V1__RegisterResponse *rs;
    Aistudio__V1__Invalidate all = AISTUDIO__V1__INVALIDATE__INIT;
    gw_rpc_stream_cbs cbs = {gw_edge_on_message, gw_edge_on_close, NULL};
    gw_edge_sctx *sc;
    gw_rpc_reply reply;
    char loaded[GW_SYNC_SHA_HEX], msg[GW_ERR_LEN + 32], err[GW_ERR_LEN];
    int nothing_loaded;

    rq.edge_id = (char *)e->o.edge_id;
    rq.namespace_ = (char *)e->o.ns;
    rq.version = GW_VERSION;
    rq.loaded_checksum = (char *)gw_edge_loaded(e, loaded);
    rq.heartbeat_interval_s = (uint32_t)e->o.heartbeat_s;
    nothing_loaded = loaded[0] == '\0';
    if (gw_edge_rpc_call(e->rpc, GW_SYNC_M_REGISTER, &rq.base, GW_EDGE_REGISTER_TIMEOUT_MS, &reply) != 0) {
        gw_rpc_status st = reply.status;
        snprintf(msg, sizeof(msg), "registration failed: %s %s", gw_rpc_status_name(st), reply.message);
        gw_rpc_reply_clear(&reply);
        gw_edge_link_error(e, st, msg);
        return;
    }
    rs = aistudio__v1__register_response__unpack(NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (rs == NULL) {
        gw_edge_link_error(e, GW_RPC_INTERNAL, "the hub answered with a malformed RegisterResponse");
        return;
    }
    e->interval_s = rs->heartbeat_interval_s > 0 && rs->heartbeat_interval_s <= GW_SYNC_MAX_INTERVAL_S
                        ? (int)rs->heartbeat_interval_s
                        : e->o.heartbeat_s;
    gw_log_info("sync: registered with hub %s (%s): expected checksum %.16s, serving %.16s", e->o.endpoint,
                rs->hub_id, rs->expected_checksum, nothing_loaded ? "nothing" : loaded);
    aistudio__v1__register_response__free_unpacked(rs, NULL);

    sc = malloc(sizeof(*sc));
    if (sc == NULL) {
        gw_edge_link_error(e, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    sc->e = e;
    sc->no = ++e->stream_no;
    cbs.arg = sc;
    e->stream = gw_edge_rpc_stream(e->rpc, GW_SYNC_M_CONNECT, &cbs, err);
    if (e->stream == NULL) {
        free(sc);
        snprintf(msg, sizeof(msg), "cannot open the stream: %s", err);
        gw_edge_link_error(e, GW_RPC_INTERNAL, msg);
        return;
    }
    e->seq = 0;
    e->last_error[0] = '\0';
    gw_edge_heartbeat(e); /* the first message, at once */
    /* invalidations may have been missed; budgets may have changed */
    all.all = 1;
    gw_edge_creds_invalidate(&e->creds, &all);
    gw_edge_leases_renew_apps(&e->leases, NULL, 0, 1);
    gw_edge_upload_poke(&e->up);
    if (nothing_loaded)
        gw_edge_reload(e, 0, "this edge serves nothing yet");
}

static void gw_edge_handle(gw_edge *e, gw_edge_item *it)
{
    Aistudio__V1__HubMessage *m = it->msg;
    if (e->stream == NULL || it->stream_no != e->stream_no)
        return; /* from a stream already gone */
    if (m == NULL) {
        char msg[GW_ERR_LEN + 64];
        gw_rpc_call_unref(e->stream);
        e->stream = NULL;
        snprintf(msg, sizeof(msg), "the stream ended: %s %s", gw_rpc_status_name(it->status), it->message);
        gw_edge_link_error(e, it->status, msg);
        return;
    }
    gw_rpc_backoff_reset(&e->backoff); /* the hub answers on this stream */
    switch (m->kind_case) {
    case AISTUDIO__V1__HUB_MESSAGE__KIND_RELOAD: {
        char why[64];
        snprintf(why, sizeof(why), "push %" PRId64, m->reload->push_id);
        gw_edge_reload(e, m->reload->push_id, why);
        break;
    }
    case AISTUDIO__V1__HUB_MESSAGE__KIND_INVALIDATE:
        gw_edge_creds_invalidate(&e->creds, m->invalidate);
        if (m->invalidate->all || m->invalidate->n_app_ids > 0)
            gw_edge_leases_renew_apps(&e->leases, m->invalidate->app_ids, m->invalidate->n_app_ids,
                                      m->invalidate->all);
        break;
    case AISTUDIO__V1__HUB_MESSAGE__KIND_HEARTBEAT_ACK:
        gw_log_debug("sync: heartbeat %" PRIu64 " answered: %s (expected %.16s)", m->heartbeat_ack->seq,
                     m->heartbeat_ack->in_sync ? "in sync" : "pending", m->heartbeat_ack->expected_checksum);
        break;
    default:
        gw_log_debug("sync: a HubMessage of an unknown kind ignored");
        break;
    }
}

static void gw_edge_item_free(gw_edge_item *it)
{
    if (it->msg != NULL)
        aistudio__v1__hub_message__free_unpacked(it->msg, NULL);
    free(it);
}

static void *gw_edge_main(void *arg)
{
    gw_edge *e = arg;

    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        int64_t now = gw_now_ms(), wake;
        gw_edge_item *it = e->head;
        if (it != NULL) {
            e->head = it->next;
            if (e->head == NULL)
                e->tail = NULL;
            pthread_mutex_unlock(&e->mu);
            gw_edge_handle(e, it);
            gw_edge_item_free(it);
            pthread_mutex_lock(&e->mu);
            continue;
        }
        if (e->stream == NULL && now >= e->next_attempt_ms) {
            pthread_mutex_unlock(&e->mu);
            gw_edge_connect(e);
            pthread_mutex_lock(&e->mu);
            continue;
        }
        if (e->stream != NULL && now >= e->next_hb_ms) {
            pthread_mutex_unlock(&e->mu);
            gw_edge_heartbeat(e);
            pthread_mutex_lock(&e->mu);
            continue;
        }
        wake = e->stream == NULL ? e->next_attempt_ms : e->next_hb_ms;
        if (wake - now > 1000)
            wake = now + 1000;
        {
            struct timespec ts;
            int64_t d = wake - now;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += d / 1000;
            ts.tv_nsec += (long)(d % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        }
    }
    pthread_mutex_unlock(&e->mu);
    if (e->stream != NULL) {
        char err[GW_ERR_LEN];
        gw_rpc_call_close_send(e->stream, err);
        gw_rpc_call_unref(e->stream); /* cancels it if still open */
        e->stream = NULL;
    }
    return NULL;
}

/* ---- life ---- */

int gw_edge_create(const gw_edge_opts *opts, gw_edge **out, char err[GW_ERR_LEN])
{
    gw_edge *e;
    gw_edge_rpc_opts ro;
    pthread_condattr_t ca;

    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return gw_errf(err, "out of memory");
    e->o = *opts;
    e->interval_s = opts->heartbeat_s > 0 ? opts->heartbeat_s : GW_SYNC_DEFAULT_INTERVAL_S;
    memset(&ro, 0, sizeof(ro));
    ro.endpoint = opts->endpoint;
    ro.edge_id = opts->edge_id;
    ro.ns = opts->ns;
    ro.token = opts->token;
    ro.tls_ca_file = opts->tls_ca_file;
    if (gw_edge_rpc_create(&ro, &e->rpc, err) != 0) {
        free(e);
        return -1;
    }
    gw_edge_creds_init(&e->creds, e->rpc, opts->pool, opts->cred_ttl_s, opts->cred_negative_ttl_s);
    gw_edge_leases_init(&e->leases, e->rpc, opts->pool);
    gw_edge_window_init(&e->window);
    gw_rpc_backoff_init(&e->backoff, GW_EDGE_BACKOFF_MIN_MS, GW_EDGE_BACKOFF_MAX_MS);
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = e;
    return 0;
}

int gw_edge_start(gw_edge *e, gw_credcache *creds, gw_budget *budget, char err[GW_ERR_LEN])
{
    gw_edge_creds_set_cache(&e->creds, creds);
    if (budget != NULL && gw_edge_leases_start(&e->leases, budget, err) != 0)
        return -1;
    if (gw_edge_upload_start(&e->up, e->rpc, e->o.pool, err) != 0)
        return -1;
    if (pthread_create(&e->thread, NULL, gw_edge_main, e) != 0)
        return gw_errf(err, "cannot start the edge's link thread");
    e->started = 1;
    gw_log_info("sync: edge '%s' (namespace '%s') links to hub %s%s", e->o.edge_id, e->o.ns, e->o.endpoint,
                e->o.tls_ca_file != NULL && e->o.tls_ca_file[0] != '\0' ? " over TLS" : "");
    return 0;
}

void gw_edge_destroy(gw_edge *e)
{
    if (e == NULL)
        return;
    if (e->started) {
        pthread_mutex_lock(&e->mu);
        e->stop = 1;
        pthread_cond_signal(&e->cv);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->thread, NULL);
    }
    gw_edge_upload_stop(&e->up);
    gw_edge_leases_stop(&e->leases, 1);
    gw_edge_rpc_destroy(e->rpc); /* after every stream's close callback */
    while (e->head != NULL) {
        gw_edge_item *next = e->head->next;
        gw_edge_item_free(e->head);
        e->head = next;
    }
    gw_edge_leases_destroy(&e->leases);
    gw_edge_creds_destroy(&e->creds);
    gw_edge_window_destroy(&e->window);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}
