/*
 * src/sync/hub_edges.c: the edges connected to this hub (see hub_edges.h).
 */
#include "sync/hub_edges.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/sql.h"

#define GW_HUB_BUCKETS 1024
#define GW_HUB_CHECKSUM_MAX 128  /* longer is nothing valid (a checksum has 64 digits) */
#define GW_HUB_VERSION_MAX 1024  /* the extension refuses over 128 */
#define GW_HUB_MAX_QUEUED 100000 /* notifications waiting: past it, Invalidate{all} stands for them */
#define GW_HUB_MAX_INVALIDATE 1000 /* keys and apps in one Invalidate; more: all */

typedef struct gw_hub_conn {
    char edge_id[GW_SYNC_ID_MAX + 1];
    char ns[GW_SYNC_NS_MAX];
    gw_rpc_call *call; /* a reference */
    int64_t last_ms;   /* attach or last message */
    int interval_s;    /* from its heartbeats; 0 before the first */
    uint64_t last_seq;
    int ending; /* finished by us; its close is on its way */
    struct gw_hub_conn *next;
} gw_hub_conn;

typedef struct gw_hub_hb {
    char edge_id[GW_SYNC_ID_MAX + 1];
    char *checksum, *version, *metrics;
} gw_hub_hb;

enum { GW_HN_PUSH, GW_HN_ENROLLED, GW_HN_REVOKED, GW_HN_DELETED, GW_HN_CRED, GW_HN_APP, GW_HN_MISSED };

typedef struct gw_hub_note {
    int kind;
    int64_t n;
    char text[GW_SYNC_ID_MAX + 1];
    struct gw_hub_note *next;
} gw_hub_note;

struct gw_hub_edges {
    gw_pgpool *pool;
    const char *hub_id;
    gw_hub_auth *auth;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_hub_conn *buckets[GW_HUB_BUCKETS];
    int count;
    gw_hub_hb *hb;
    size_t nhb, caphb;
    int64_t first_hb_ms;
    gw_hub_note *notes, *notes_tail;
    size_t nnotes;
    int overflow; /* notifications were dropped: Invalidate{all} */
    int stop;
    pthread_t thread;
    int64_t last_sweep_ms;
    char last_error[GW_ERR_LEN];
};

static size_t gw_he_bucket(const char *edge_id)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = edge_id; *c != '\0'; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return (size_t)(h % GW_HUB_BUCKETS);
}

static gw_hub_conn *gw_he_find(gw_hub_edges *e, const char *edge_id)
{
    for (gw_hub_conn *c = e->buckets[gw_he_bucket(edge_id)]; c != NULL; c = c->next)
        if (strcmp(c->edge_id, edge_id) == 0)
            return c;
    return NULL;
}

/* The current stream of an edge, with a reference (NULL: not here). */
static gw_rpc_call *gw_he_call_ref(gw_hub_edges *e, const char *edge_id, uint64_t *seq)
{
    gw_rpc_call *call = NULL;
    gw_hub_conn *c;
    pthread_mutex_lock(&e->mu);
    c = gw_he_find(e, edge_id);
    if (c != NULL && !c->ending) {
        call = c->call;
        gw_rpc_call_ref(call);
        if (seq != NULL)
            *seq = c->last_seq;
    }
    pthread_mutex_unlock(&e->mu);
    return call;
}

/* Ends an edge's stream here (if it has one; only that stream when only
 * is not NULL). */
static void gw_he_end_call(gw_hub_edges *e, const char *edge_id, const gw_rpc_call *only, gw_rpc_status st,
                           const char *why)
{
    gw_rpc_call *call = NULL;
    gw_hub_conn *c;
    char err[GW_ERR_LEN];
    pthread_mutex_lock(&e->mu);
    c = gw_he_find(e, edge_id);
    if (c != NULL && !c->ending && (only == NULL || c->call == only)) {
        c->ending = 1;
        call = c->call;
        gw_rpc_call_ref(call);
    }
    pthread_mutex_unlock(&e->mu);
    if (call == NULL)
        return;
    gw_log_info("sync: ending the stream of edge '%s': %s", edge_id, why);
    if (gw_rpc_call_finish(call, st, why, err) != 0)
        gw_rpc_call_cancel(call);
    gw_rpc_call_unref(call);
}

static void gw_he_end(gw_hub_edges *e, const char *edge_id, gw_rpc_status st, const char *why)
{
    gw_he_end_call(e, edge_id, NULL, st, why);
}

/* ---- streams ---- */

int gw_hub_edges_attach(gw_hub_edges *e, const char *edge_id, const char *ns, gw_rpc_call *call)
{
    gw_hub_conn *c, *old_next = NULL;
    gw_rpc_call *old = NULL;
    char err[GW_ERR_LEN];
    size_t b = gw_he_bucket(edge_id);

    pthread_mutex_lock(&e->mu);
    c = gw_he_find(e, edge_id);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            pthread_mutex_unlock(&e->mu);
            return -1;
        }
        snprintf(c->edge_id, sizeof(c->edge_id), "%s", edge_id);
        c->next = e->buckets[b];
        e->buckets[b] = c;
        e->count++;
    } else {
        old = c->call; /* its reference moves to us */
        old_next = c->next;
        memset(c, 0, sizeof(*c));
        snprintf(c->edge_id, sizeof(c->edge_id), "%s", edge_id);
        c->next = old_next;
    }
    snprintf(c->ns, sizeof(c->ns), "%s", ns);
    gw_rpc_call_ref(call);
    c->call = call;
    c->last_ms = gw_now_ms();
    pthread_mutex_unlock(&e->mu);
    if (old != NULL) {
        gw_log_info("sync: edge '%s' opened a new stream: the previous one ends", edge_id);
        if (gw_rpc_call_finish(old, GW_RPC_ABORTED, "replaced by a newer stream of the same edge", err) != 0)
            gw_rpc_call_cancel(old);
        gw_rpc_call_unref(old);
    }
    return 0;
}

int gw_hub_edges_detach(gw_hub_edges *e, const char *edge_id, gw_rpc_call *call)
{
    gw_hub_conn **pp, *c;
    int current = 0;
    pthread_mutex_lock(&e->mu);
    for (pp = &e->buckets[gw_he_bucket(edge_id)]; (c = *pp) != NULL; pp = &c->next) {
        if (strcmp(c->edge_id, edge_id) == 0) {
            if (c->call == call) {
                *pp = c->next;
                e->count--;
                current = 1;
            }
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    if (current) {
        gw_rpc_call_unref(c->call);
        free(c);
    }
    return current;
}

int gw_hub_edges_heartbeat(gw_hub_edges *e, const char *edge_id, gw_rpc_call *call,
                           const Aistudio__V1__Heartbeat *hb, char err[GW_ERR_LEN])
{
    gw_hub_conn *c;
    gw_hub_hb h;
    gw_buf mb;

    if (strlen(hb->loaded_checksum) > GW_HUB_CHECKSUM_MAX)
        return gw_errf(err, "the heartbeat's loaded_checksum is not a checksum");
    if (strlen(hb->version) > GW_HUB_VERSION_MAX)
        return gw_errf(err, "the heartbeat's version is longer than %d bytes", GW_HUB_VERSION_MAX);
    memset(&h, 0, sizeof(h));
    snprintf(h.edge_id, sizeof(h.edge_id), "%s", edge_id);
    gw_buf_init(&mb, 4096);
    if (gw_sync_metrics_json(hb->metrics, &mb) != 0 || gw_buf_cstr(&mb) == NULL) {
        gw_buf_free(&mb);
        return gw_errf(err, "out of memory");
    }
    h.metrics = strdup(mb.data);
    gw_buf_free(&mb);
    h.checksum = strdup(hb->loaded_checksum);
    h.version = strdup(hb->version);

    pthread_mutex_lock(&e->mu);
    c = gw_he_find(e, edge_id);
    if (c != NULL && c->call == call) {
        uint32_t iv = hb->heartbeat_interval_s;
        c->last_ms = gw_now_ms();
        c->last_seq = hb->seq;
        c->interval_s = iv == 0 ? GW_SYNC_DEFAULT_INTERVAL_S : (iv > GW_SYNC_MAX_INTERVAL_S ? GW_SYNC_MAX_INTERVAL_S : (int)iv);
    }
    if (h.metrics != NULL && h.checksum != NULL && h.version != NULL && e->nhb == e->caphb) {
        size_t ncap = e->caphb == 0 ? 64 : e->caphb * 2;
        gw_hub_hb *p = realloc(e->hb, ncap * sizeof(*p));
        if (p != NULL) {
            e->hb = p;
            e->caphb = ncap;
        }
    }
    if (h.metrics == NULL || h.checksum == NULL || h.version == NULL || e->nhb == e->caphb) {
        pthread_mutex_unlock(&e->mu);
        free(h.metrics);
        free(h.checksum);
        free(h.version);
        return gw_errf(err, "out of memory");
    }
    if (e->nhb == 0)
        e->first_hb_ms = gw_now_ms();
    e->hb[e->nhb++] = h;
    if (e->nhb >= GW_HUB_MAX_BATCH)
        pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

int gw_hub_edges_count(gw_hub_edges *e)
{
    int n;
    pthread_mutex_lock(&e->mu);
    n = e->count;
    pthread_mutex_unlock(&e->mu);
    return n;
}

/* ---- notifications ---- */

static void gw_he_queue(gw_hub_edges *e, int kind, int64_t n, const char *text)
{
    gw_hub_note *note;
    pthread_mutex_lock(&e->mu);
    if (e->nnotes >= GW_HUB_MAX_QUEUED || (note = calloc(1, sizeof(*note))) == NULL) {
        e->overflow = 1;
    } else {
        note->kind = kind;
        note->n = n;
        snprintf(note->text, sizeof(note->text), "%s", text != NULL ? text : "");
        if (e->notes_tail != NULL)
            e->notes_tail->next = note;
        else
            e->notes = note;
        e->notes_tail = note;
        e->nnotes++;
    }
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static int gw_he_parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v;
    if (*s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

void gw_hub_edges_notify(void *ctx, const char *channel, const char *payload)
{
    gw_hub_edges *e = ctx;
    int64_t id;

    if (channel == NULL) {
        gw_he_queue(e, GW_HN_MISSED, 0, NULL);
        return;
    }
    if (strcmp(channel, "aistudio_push") == 0 && gw_he_parse_id(payload, &id) == 0) {
        gw_he_queue(e, GW_HN_PUSH, id, NULL);
    } else if (strcmp(channel, "aistudio_edge") == 0 && strncmp(payload, "enrolled:", 9) == 0) {
        gw_he_queue(e, GW_HN_ENROLLED, 0, payload + 9);
    } else if (strcmp(channel, "aistudio_edge") == 0 && strncmp(payload, "revoked:", 8) == 0) {
        gw_he_queue(e, GW_HN_REVOKED, 0, payload + 8);
    } else if (strcmp(channel, "aistudio_edge") == 0 && strncmp(payload, "deleted:", 8) == 0) {
        gw_he_queue(e, GW_HN_DELETED, 0, payload + 8);
    } else if (strcmp(channel, "aistudio_invalidate") == 0 && strncmp(payload, "cred:", 5) == 0 &&
               strlen(payload + 5) == 64) {
        gw_he_queue(e, GW_HN_CRED, 0, payload + 5);
    } else if (strcmp(channel, "aistudio_invalidate") == 0 && strncmp(payload, "app:", 4) == 0 &&
               gw_he_parse_id(payload + 4, &id) == 0) {
        gw_he_queue(e, GW_HN_APP, id, NULL);
    } else {
        gw_log_debug("sync: notification on %s ignored: '%.64s'", channel, payload);
    }
}

/* Sends one HubMessage to every stream here. */
static void gw_he_broadcast(gw_hub_edges *e, const ProtobufCMessage *m)
{
    gw_rpc_call **calls;
    size_t n = 0;
    unsigned char *buf;
    size_t len;
    char err[GW_ERR_LEN];

    if (gw_sync_pack(m, &buf, &len) != 0)
        return;
    pthread_mutex_lock(&e->mu);
    calls = malloc(((size_t)e->count + 1) * sizeof(*calls));
    if (calls != NULL)
        for (int b = 0; b < GW_HUB_BUCKETS; b++)
            for (gw_hub_conn *c = e->buckets[b]; c != NULL; c = c->next)
                if (!c->ending) {
                    gw_rpc_call_ref(c->call);
                    calls[n++] = c->call;
                }
    pthread_mutex_unlock(&e->mu);
    for (size_t i = 0; i < n; i++) {
        if (gw_rpc_call_send(calls[i], buf, len, err) != 0)
            gw_log_debug("sync: cannot send an invalidation: %s", err);
        gw_rpc_call_unref(calls[i]);
    }
    free(calls);
    free(buf);
}

/* The push's targets held here get a Reload. */
static void gw_he_push(gw_hub_edges *e, int64_t push_id)
{
    char idbuf[24], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[2] = {idbuf, e->hub_id};
    PGresult *res;
    int sent = 0;

    snprintf(idbuf, sizeof(idbuf), "%" PRId64, push_id);
    if (gw_pgpool_exec(e->pool, GW_SQL_PUSH_TARGETS, 2, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate, err) !=
        0) {
        gw_log_warn("sync: push %" PRId64 ": cannot read its targets: %s", push_id, err);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        Aistudio__V1__HubMessage m = AISTUDIO__V1__HUB_MESSAGE__INIT;
        Aistudio__V1__Reload r = AISTUDIO__V1__RELOAD__INIT;
        gw_rpc_call *call = gw_he_call_ref(e, PQgetvalue(res, i, 0), NULL);
        if (call == NULL)
            continue;
        r.push_id = push_id;
        r.namespace_ = PQgetvalue(res, i, 1);
        r.expected_checksum = PQgetisnull(res, i, 2) ? "" : PQgetvalue(res, i, 2);
        m.kind_case = AISTUDIO__V1__HUB_MESSAGE__KIND_RELOAD;
        m.reload = &r;
        if (gw_sync_send(call, &m.base, err) != 0)
            gw_log_warn("sync: push %" PRId64 ": cannot signal edge '%s': %s", push_id, PQgetvalue(res, i, 0), err);
        else
            sent++;
        gw_rpc_call_unref(call);
    }
    gw_log_info("sync: push %" PRId64 ": %d edge(s) of this hub signalled", push_id, sent);
    PQclear(res);
}

/* Acts on the notifications taken from the queue. */
static void gw_he_process(gw_hub_edges *e, gw_hub_note *notes, int overflow)
{
    char **hashes = NULL;
    int64_t *apps = NULL;
    size_t nh = 0, na = 0;
    int all = overflow;

    for (gw_hub_note *n = notes; n != NULL; n = n->next) {
        switch (n->kind) {
        case GW_HN_PUSH:
            gw_he_push(e, n->n);
            break;
        case GW_HN_ENROLLED:
        case GW_HN_REVOKED:
        case GW_HN_DELETED:
            gw_hub_auth_forget(e->auth, n->text);
            gw_he_end(e, n->text, GW_RPC_UNAUTHENTICATED,
                      n->kind == GW_HN_REVOKED   ? "the edge was revoked"
                      : n->kind == GW_HN_DELETED ? "the edge was deleted"
                                                 : "the edge was enrolled again: its token changed");
            break;
        case GW_HN_CRED:
            if (nh < GW_HUB_MAX_INVALIDATE && (hashes != NULL || (hashes = calloc(GW_HUB_MAX_INVALIDATE, sizeof(char *))) != NULL))
                hashes[nh++] = n->text;
            else
                all = 1;
            break;
        case GW_HN_APP:
            if (na < GW_HUB_MAX_INVALIDATE && (apps != NULL || (apps = calloc(GW_HUB_MAX_INVALIDATE, sizeof(int64_t))) != NULL))
                apps[na++] = n->n;
            else
                all = 1;
            break;
        case GW_HN_MISSED:
            all = 1;
            break;
        }
    }
    if (all || nh > 0 || na > 0) {
        Aistudio__V1__HubMessage m = AISTUDIO__V1__HUB_MESSAGE__INIT;
        Aistudio__V1__Invalidate inv = AISTUDIO__V1__INVALIDATE__INIT;
        inv.all = all != 0;
        if (!all) {
            inv.credential_hashes = hashes;
            inv.n_credential_hashes = nh;
            inv.app_ids = apps;
            inv.n_app_ids = na;
        }
        m.kind_case = AISTUDIO__V1__HUB_MESSAGE__KIND_INVALIDATE;
        m.invalidate = &inv;
        gw_he_broadcast(e, &m.base);
        gw_log_debug("sync: invalidation sent (%zu keys, %zu apps%s)", nh, na, all ? ", all" : "");
    }
    free(hashes);
    free(apps);
}

/* ---- heartbeats ---- */

static void gw_he_hb_free(gw_hub_hb *hb, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(hb[i].checksum);
        free(hb[i].version);
        free(hb[i].metrics);
    }
}

/* Writes hb[0..n) in one statement; answers the edges. 0, or -1 with the
 * SQLSTATE and message. */
static int gw_he_write(gw_hub_edges *e, gw_hub_hb *hb, size_t n, char sqlstate[GW_SQLSTATE_LEN], char err[GW_ERR_LEN])
{
    gw_buf arr[4];
    const char **items;
    const char *params[5];
    PGresult *res;
    int rc = 0;

    items = malloc(n * sizeof(*items));
    if (items == NULL) {
        snprintf(sqlstate, GW_SQLSTATE_LEN, "53200");
        return gw_errf(err, "out of memory");
    }
    for (int k = 0; k < 4; k++) {
        gw_buf_init(&arr[k], 0);
        for (size_t i = 0; i < n; i++)
            items[i] = k == 0 ? hb[i].edge_id : k == 1 ? hb[i].checksum : k == 2 ? hb[i].version : hb[i].metrics;
        gw_sync_pg_array(&arr[k], items, n);
        params[k] = gw_buf_cstr(&arr[k]);
        if (params[k] == NULL)
            rc = -1;
    }
    free(items);
    params[4] = e->hub_id;
    if (rc != 0) {
        snprintf(sqlstate, GW_SQLSTATE_LEN, "53200");
        gw_errf(err, "out of memory");
    } else if (gw_pgpool_exec(e->pool, GW_SQL_EDGE_HEARTBEATS, 5, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        rc = -1;
    }
    for (int k = 0; k < 4; k++)
        gw_buf_free(&arr[k]);
    if (rc != 0)
        return -1;

    for (int i = 0; i < PQntuples(res); i++) {
        const char *edge_id = PQgetvalue(res, i, 0);
        if (PQgetisnull(res, i, 1)) {
            gw_he_end(e, edge_id, GW_RPC_UNAUTHENTICATED, "the edge is unknown or revoked");
        } else {
            Aistudio__V1__HubMessage m = AISTUDIO__V1__HUB_MESSAGE__INIT;
            Aistudio__V1__HeartbeatAck ack = AISTUDIO__V1__HEARTBEAT_ACK__INIT;
            uint64_t seq = 0;
            gw_rpc_call *call = gw_he_call_ref(e, edge_id, &seq);
            char serr[GW_ERR_LEN];
            if (call == NULL)
                continue;
            ack.seq = seq;
            ack.expected_checksum = PQgetvalue(res, i, 1);
            ack.in_sync = strcmp(PQgetvalue(res, i, 2), "t") == 0;
            m.kind_case = AISTUDIO__V1__HUB_MESSAGE__KIND_HEARTBEAT_ACK;
            m.heartbeat_ack = &ack;
            if (gw_sync_send(call, &m.base, serr) != 0)
                gw_log_debug("sync: cannot answer the heartbeat of '%s': %s", edge_id, serr);
            gw_rpc_call_unref(call);
        }
    }
    PQclear(res);
    return 0;
}

static void gw_he_flush(gw_hub_edges *e, gw_hub_hb *hb, size_t n)
{
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];

    for (size_t off = 0; off < n; off += GW_HUB_MAX_BATCH) {
        size_t m = n - off < GW_HUB_MAX_BATCH ? n - off : GW_HUB_MAX_BATCH;
        if (gw_he_write(e, hb + off, m, sqlstate, err) == 0) {
            e->last_error[0] = '\0';
            continue;
        }
        if (strncmp(sqlstate, "22", 2) != 0) {
            /* the database is down or busy: these heartbeats are lost,
             * the next ones come (a connection is not ended for it) */
            if (strcmp(e->last_error, err) != 0)
                gw_log_warn("sync: cannot write %zu heartbeat(s): %s", m, err);
            snprintf(e->last_error, sizeof(e->last_error), "%s", err);
            continue;
        }
        /* one edge's values were refused: write them one by one, end the
         * streams of those refused */
        for (size_t i = off; i < off + m; i++)
            if (gw_he_write(e, hb + i, 1, sqlstate, err) != 0 && strncmp(sqlstate, "22", 2) == 0)
                gw_he_end(e, hb[i].edge_id, GW_RPC_INVALID_ARGUMENT, err);
    }
    e->last_sweep_ms = gw_now_ms(); /* edge_heartbeats sweeps */
}

static void gw_he_sweep(gw_hub_edges *e)
{
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    PGresult *res;
    e->last_sweep_ms = gw_now_ms();
    if (gw_pgpool_exec(e->pool, GW_SQL_EDGE_SWEEP, 0, NULL, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        gw_log_debug("sync: edge_sweep: %s", err);
        return;
    }
    PQclear(res);
}

/* ---- the loop ---- */

typedef struct gw_he_expired {
    char edge_id[GW_SYNC_ID_MAX + 1];
    const gw_rpc_call *call; /* compared only: the stream that went silent */
    char why[96];
} gw_he_expired;

static void *gw_he_main(void *arg)
{
    gw_hub_edges *e = arg;
    int64_t last_watch = 0;

    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        struct timespec ts;
        gw_hub_note *notes;
        gw_hub_hb *hb = NULL;
        size_t nhb = 0, nexp = 0;
        gw_he_expired *exp = NULL;
        int overflow;
        int64_t now;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += GW_HUB_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (e->notes == NULL && !e->overflow && e->nhb < GW_HUB_MAX_BATCH)
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        if (e->stop)
            break;
        now = gw_now_ms();
        notes = e->notes;
        overflow = e->overflow;
        e->notes = e->notes_tail = NULL;
        e->nnotes = 0;
        e->overflow = 0;
        if (e->nhb > 0 && (now - e->first_hb_ms >= GW_HUB_FLUSH_MS || e->nhb >= GW_HUB_MAX_BATCH)) {
            hb = e->hb;
            nhb = e->nhb;
            e->hb = NULL;
            e->nhb = e->caphb = 0;
        }
        if (now - last_watch >= 250) {
            last_watch = now;
            exp = malloc(((size_t)e->count + 1) * sizeof(*exp));
            for (int b = 0; exp != NULL && b < GW_HUB_BUCKETS; b++) {
                for (gw_hub_conn *c = e->buckets[b]; c != NULL; c = c->next) {
                    int64_t limit = c->interval_s == 0 ? GW_HUB_FIRST_MSG_MS : (int64_t)c->interval_s * 3000 + 1000;
                    if (c->ending || now - c->last_ms <= limit)
                        continue;
                    snprintf(exp[nexp].edge_id, sizeof(exp[nexp].edge_id), "%s", c->edge_id);
                    exp[nexp].call = c->call;
                    if (c->interval_s == 0)
                        snprintf(exp[nexp].why, sizeof(exp[nexp].why), "no heartbeat within %d ms of the stream's start",
                                 GW_HUB_FIRST_MSG_MS);
                    else
                        snprintf(exp[nexp].why, sizeof(exp[nexp].why), "no heartbeat for three intervals (%d s)",
                                 3 * c->interval_s);
                    nexp++;
                }
            }
        }
        pthread_mutex_unlock(&e->mu);

        if (notes != NULL || overflow)
            gw_he_process(e, notes, overflow);
        while (notes != NULL) {
            gw_hub_note *next = notes->next;
            free(notes);
            notes = next;
        }
        if (nhb > 0) {
            gw_he_flush(e, hb, nhb);
            gw_he_hb_free(hb, nhb);
        }
        free(hb);
        for (size_t i = 0; i < nexp; i++)
            gw_he_end_call(e, exp[i].edge_id, exp[i].call, GW_RPC_DEADLINE_EXCEEDED, exp[i].why);
        free(exp);
        if (gw_now_ms() - e->last_sweep_ms >= GW_HUB_SWEEP_MS)
            gw_he_sweep(e);

        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

int gw_hub_edges_create(gw_pgpool *pool, const char *hub_id, gw_hub_auth *auth, gw_hub_edges **out,
                        char err[GW_ERR_LEN])
{
    gw_hub_edges *e = calloc(1, sizeof(*e));
    pthread_condattr_t ca;

    *out = NULL;
    if (e == NULL)
        return gw_errf(err, "out of memory");
    e->pool = pool;
    e->hub_id = hub_id;
    e->auth = auth;
    e->last_sweep_ms = gw_now_ms();
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&e->thread, NULL, gw_he_main, e) != 0) {
        pthread_cond_destroy(&e->cv);
        pthread_mutex_destroy(&e->mu);
        free(e);
        return gw_errf(err, "cannot start the hub's edge thread");
    }
    *out = e;
    return 0;
}

void gw_hub_edges_destroy(gw_hub_edges *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    /* heartbeats not written yet are written now (a clean stop) */
    if (e->nhb > 0)
        gw_he_flush(e, e->hb, e->nhb);
    gw_he_hb_free(e->hb, e->nhb);
    free(e->hb);
    while (e->notes != NULL) {
        gw_hub_note *next = e->notes->next;
        free(e->notes);
        e->notes = next;
    }
    for (int b = 0; b < GW_HUB_BUCKETS; b++) {
        gw_hub_conn *c = e->buckets[b];
        while (c != NULL) {
            gw_hub_conn *next = c->next;
            gw_rpc_call_unref(c->call);
            free(c);
            c = next;
        }
    }
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}
