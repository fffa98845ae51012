/*
 * bench/sync/simedge.c: what one simulated edge does (simedge.h), the same
 * as src/sync/edge.c: RegisterEdge; the Connect stream; a heartbeat at once
 * and every interval with the checksum it serves; on a Reload: PushProgress
 * PULLING, PullSnapshot, the snapshot built as an edge builds it (decoded,
 * vendor keys opened with the edge's key: HKDF of its token), PushProgress
 * APPLIED with the new checksum, a heartbeat at once. An edge serving
 * nothing pulls right after connecting; a stream that ends is reopened
 * after SIM_RECONNECT_Msim. Not done: storing the snapshot in a local
 * database (an edge's edge_store_snapshot).
 */
#include "simedge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/snapshot.h"

typedef struct sim_sctx {
    sim_edge *e;
    uint64_t no;
} sim_sctx;

sim_state sim;

static pthread_t *workers, ticker;
static int nworkers;

int64_t sim_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sim_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sim_error(const char *fmt, ...) GW_PRINTF(1, 2);
static void sim_error(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&sim.err_mu);
    va_start(ap, fmt);
    vsnprintf(sim.last_error, sizeof(sim.last_error), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&sim.err_mu);
}

/* ---- the work queue ---- */

static void sim_queue(int kind, sim_edge *e, int64_t push_id)
{
    sim_task *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return;
    t->kind = kind;
    t->e = e;
    t->push_id = push_id;
    pthread_mutex_lock(&sim.qmu);
    if (sim.qtail != NULL)
        sim.qtail->next = t;
    else
        sim.qhead = t;
    sim.qtail = t;
    pthread_cond_signal(&sim.qcv);
    pthread_mutex_unlock(&sim.qmu);
}

/* ---- sending on the stream ---- */

/* The edge's stream with a reference, or NULL. */
static gw_rpc_call *sim_stream_ref(sim_edge *e)
{
    gw_rpc_call *c;
    pthread_mutex_lock(&e->mu);
    c = e->stream;
    if (c != NULL)
        gw_rpc_call_ref(c);
    pthread_mutex_unlock(&e->mu);
    return c;
}

static void sim_heartbeat(sim_edge *e)
{
    Aistudio__V1__EdgeMessage m = AISTUDIO__V1__EDGE_MESSAGE__INIT;
    Aistudio__V1__Heartbeat hb = AISTUDIO__V1__HEARTBEAT__INIT;
    Aistudio__V1__EdgeMetrics mt = AISTUDIO__V1__EDGE_METRICS__INIT;
    char loaded[GW_SYNC_SHA_HEX], err[GW_ERR_LEN];
    gw_rpc_call *c;

    pthread_mutex_lock(&e->mu);
    c = e->stream;
    if (c != NULL)
        gw_rpc_call_ref(c);
    memcpy(loaded, e->loaded, sizeof(loaded));
    e->next_hb_ms = gw_now_ms() + (int64_t)sim.interval_s * 1000;
    pthread_mutex_unlock(&e->mu);
    if (c == NULL)
        return;
    mt.since_ms = (uint64_t)sim.interval_s * 1000;
    hb.loaded_checksum = loaded;
    hb.version = GW_VERSION;
    hb.metrics = &mt;
    hb.seq = atomic_fetch_add(&e->seq, 1) + 1;
    hb.heartbeat_interval_s = (uint32_t)sim.interval_s;
    m.kind_case = AISTUDIO__V1__EDGE_MESSAGE__KIND_HEARTBEAT;
    m.heartbeat = &hb;
    if (gw_sync_send(c, &m.base, err) == 0)
        atomic_fetch_add(&sim.hb_sent, 1);
    gw_rpc_call_unref(c);
}

static void sim_progress(sim_edge *e, int64_t push_id, Aistudio__V1__PushProgress__Phase phase, const char *checksum,
                         const char *reason)
{
    Aistudio__V1__EdgeMessage m = AISTUDIO__V1__EDGE_MESSAGE__INIT;
    Aistudio__V1__PushProgress p = AISTUDIO__V1__PUSH_PROGRESS__INIT;
    char err[GW_ERR_LEN];
    gw_rpc_call *c;
    if (push_id <= 0 || (c = sim_stream_ref(e)) == NULL)
        return;
    p.push_id = push_id;
    p.phase = phase;
    p.checksum = (char *)(checksum != NULL ? checksum : "");
    p.reason = (char *)(reason != NULL ? reason : "");
    m.kind_case = AISTUDIO__V1__EDGE_MESSAGE__KIND_PROGRESS;
    m.progress = &p;
    gw_sync_send(c, &m.base, err);
    gw_rpc_call_unref(c);
}

/* ---- the edge's calls (workers) ---- */

int sim_pull_once(sim_edge *e, const char *have, Aistudio__V1__SnapshotResponse **rs, char err[GW_ERR_LEN])
{
    Aistudio__V1__SnapshotRequest rq = AISTUDIO__V1__SNAPSHOT_REQUEST__INIT;
    gw_rpc_reply reply;
    unsigned char *buf;
    size_t len;
    int rc;

    *rs = NULL;
    rq.namespace_ = e->ns;
    rq.have_checksum = (char *)have;
    if (gw_sync_pack(&rq.base, &buf, &len) != 0)
        return gw_errf(err, "out of memory");
    memset(&reply, 0, sizeof(reply));
    rc = gw_rpc_client_unary(e->cli, GW_SYNC_M_PULL, e->md, 3, buf, len, SIM_PULL_TIMEOUT_MS, &reply);
    free(buf);
    if (rc != 0) {
        gw_errf(err, "PullSnapshot: %s %s", gw_rpc_status_name(reply.status), reply.message);
        gw_rpc_reply_clear(&reply);
        return -1;
    }
    *rs = aistudio__v1__snapshot_response__unpack(NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (*rs == NULL)
        return gw_errf(err, "PullSnapshot: a malformed SnapshotResponse");
    return 0;
}

int sim_build(sim_edge *e, const Aistudio__V1__SnapshotResponse *rs, char err[GW_ERR_LEN])
{
    gw_snapshot *snap = NULL;
    int key_errors = 0;
    if (gw_snapshot_build(rs->snapshot.data, rs->snapshot.len, rs->checksum, &e->key, 1, &snap, &key_errors, err) != 0)
        return -1;
    if (key_errors > 0)
        atomic_fetch_add(&sim.key_errors, key_errors);
    gw_snapshot_release(snap);
    return 0;
}

static void sim_reload(sim_edge *e, int64_t push_id)
{
    Aistudio__V1__SnapshotResponse *rs = NULL;
    char have[GW_SYNC_SHA_HEX], err[GW_ERR_LEN], sum[GW_SYNC_SHA_HEX];

    sim_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__PULLING, NULL, NULL);
    pthread_mutex_lock(&e->mu);
    memcpy(have, e->loaded, sizeof(have));
    pthread_mutex_unlock(&e->mu);
    if (sim_pull_once(e, have, &rs, err) != 0 || (!rs->unchanged && sim_build(e, rs, err) != 0)) {
        atomic_fetch_add(&sim.failed_pulls, 1);
        sim_error("edge %s: %s", e->id, err);
        sim_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__FAILED, NULL, err);
        if (rs != NULL)
            aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
        return;
    }
    atomic_fetch_add(&sim.pull_bytes, (long long)rs->snapshot.len);
    snprintf(sum, sizeof(sum), "%s", rs->unchanged ? have : rs->checksum);
    aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
    pthread_mutex_lock(&e->mu);
    memcpy(e->loaded, sum, sizeof(sum));
    pthread_mutex_unlock(&e->mu);
    sim_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__APPLIED, sum, NULL);
    sim_heartbeat(e); /* the hub learns the new checksum at once */
    pthread_mutex_lock(&e->mu);
    if (push_id > 0) {
        e->push_id = push_id;
        e->t_applied_us = sim_now_us();
    }
    pthread_mutex_unlock(&e->mu);
    atomic_fetch_add(&sim.applied, 1);
}

static void sim_on_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    sim_sctx *sc = arg;
    sim_edge *e = sc->e;
    Aistudio__V1__HubMessage *m = aistudio__v1__hub_message__unpack(NULL, len, data);
    if (m == NULL) {
        sim_error("edge %s: a malformed HubMessage", e->id);
        gw_rpc_call_cancel(call);
        return;
    }
    switch (m->kind_case) {
    case AISTUDIO__V1__HUB_MESSAGE__KIND_RELOAD:
        pthread_mutex_lock(&e->mu);
        e->t_reload_us = sim_now_us();
        pthread_mutex_unlock(&e->mu);
        atomic_fetch_add(&sim.reloads, 1);
        sim_queue(SIM_T_RELOAD, e, m->reload->push_id);
        break;
    case AISTUDIO__V1__HUB_MESSAGE__KIND_HEARTBEAT_ACK:
        atomic_fetch_add(&sim.acks, 1);
        if (m->heartbeat_ack->in_sync)
            atomic_fetch_add(&sim.acks_in_sync, 1);
        atomic_store(&e->acked, 1);
        break;
    case AISTUDIO__V1__HUB_MESSAGE__KIND_INVALIDATE:
        atomic_fetch_add(&sim.invalidates, 1);
        break;
    default:
        break;
    }
    aistudio__v1__hub_message__free_unpacked(m, NULL);
}

static void sim_on_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    sim_sctx *sc = arg;
    sim_edge *e = sc->e;
    gw_rpc_call *mine = NULL;
    (void)call;
    pthread_mutex_lock(&e->mu);
    if (e->stream != NULL && e->stream_no == sc->no) {
        mine = e->stream;
        e->stream = NULL;
        atomic_store(&e->acked, 0);
        if (!sim.stop)
            e->reconnect_ms = gw_now_ms() + SIM_RECONNECT_MS;
    }
    pthread_mutex_unlock(&e->mu);
    if (mine != NULL) {
        atomic_fetch_add(&sim.closes, 1);
        if (!sim.stop)
            sim_error("edge %s: stream ended: %s %s", e->id, gw_rpc_status_name(status), message);
        gw_rpc_call_unref(mine);
    }
    free(sc);
}

static void sim_connect(sim_edge *e)
{
    Aistudio__V1__RegisterRequest rq = AISTUDIO__V1__REGISTER_REQUEST__INIT;
    gw_rpc_stream_cbs cbs = {sim_on_message, sim_on_close, NULL};
    gw_rpc_reply reply;
    unsigned char *buf;
    size_t len;
    char loaded[GW_SYNC_SHA_HEX], err[GW_ERR_LEN];
    sim_sctx *sc;
    gw_rpc_call *c;
    int rc;

    pthread_mutex_lock(&e->mu);
    memcpy(loaded, e->loaded, sizeof(loaded));
    pthread_mutex_unlock(&e->mu);
    rq.edge_id = e->id;
    rq.namespace_ = e->ns;
    rq.version = GW_VERSION;
    rq.loaded_checksum = loaded;
    rq.heartbeat_interval_s = (uint32_t)sim.interval_s;
    if (gw_sync_pack(&rq.base, &buf, &len) != 0)
        goto retry;
    memset(&reply, 0, sizeof(reply));
    rc = gw_rpc_client_unary(e->cli, GW_SYNC_M_REGISTER, e->md, 3, buf, len, SIM_CONNECT_TIMEOUT_MS, &reply);
    free(buf);
    if (rc != 0) {
        atomic_fetch_add(&sim.reg_failed, 1);
        sim_error("edge %s: RegisterEdge: %s %s", e->id, gw_rpc_status_name(reply.status), reply.message);
        gw_rpc_reply_clear(&reply);
        goto retry;
    }
    gw_rpc_reply_clear(&reply);
    atomic_fetch_add(&sim.registers, 1);
    sc = malloc(sizeof(*sc));
    if (sc == NULL)
        goto retry;
    sc->e = e;
    pthread_mutex_lock(&e->mu);
    sc->no = ++e->stream_no;
    pthread_mutex_unlock(&e->mu);
    cbs.arg = sc;
    c = gw_rpc_client_stream(e->cli, GW_SYNC_M_CONNECT, e->md, 3, 0, &cbs, err);
    if (c == NULL) {
        free(sc);
        sim_error("edge %s: Connect: %s", e->id, err);
        goto retry;
    }
    pthread_mutex_lock(&e->mu);
    e->stream = c; /* the caller's reference */
    e->busy = 0;
    pthread_mutex_unlock(&e->mu);
    sim_heartbeat(e); /* the first message, at once */
    if (loaded[0] == '\0')
        sim_reload(e, 0);
    return;
retry:
    pthread_mutex_lock(&e->mu);
    e->busy = 0;
    e->reconnect_ms = gw_now_ms() + SIM_RECONNECT_MS;
    pthread_mutex_unlock(&e->mu);
}

static void *sim_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&sim.qmu);
    for (;;) {
        sim_task *t;
        while (sim.qhead == NULL && !sim.stop)
            pthread_cond_wait(&sim.qcv, &sim.qmu);
        if (sim.stop)
            break;
        t = sim.qhead;
        sim.qhead = t->next;
        if (sim.qhead == NULL)
            sim.qtail = NULL;
        pthread_mutex_unlock(&sim.qmu);
        if (t->kind == SIM_T_CONNECT)
            sim_connect(t->e);
        else
            sim_reload(t->e, t->push_id);
        free(t);
        pthread_mutex_lock(&sim.qmu);
    }
    pthread_mutex_unlock(&sim.qmu);
    return NULL;
}

/* Heartbeats when due, reconnects when due. */
static void *sim_ticker(void *arg)
{
    (void)arg;
    while (!sim.stop) {
        int64_t now = gw_now_ms();
        for (int i = 0; i < sim.n && !sim.stop; i++) {
            sim_edge *e = &sim.edges[i];
            int hb = 0, reconnect = 0;
            pthread_mutex_lock(&e->mu);
            if (e->stream != NULL && now >= e->next_hb_ms)
                hb = 1;
            else if (e->stream == NULL && !e->busy && e->reconnect_ms > 0 && now >= e->reconnect_ms) {
                e->busy = 1;
                e->reconnect_ms = 0;
                reconnect = 1;
            }
            pthread_mutex_unlock(&e->mu);
            if (hb)
                sim_heartbeat(e);
            if (reconnect)
                sim_queue(SIM_T_CONNECT, e, 0);
        }
        usleep(10000);
    }
    return NULL;
}

/* ---- set-up ---- */

int sim_load_edges(const char *path, int limit)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int cap = 0;
    if (f == NULL) {
        fprintf(stderr, "syncsim: cannot open %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL && (limit <= 0 || sim.n < limit)) {
        char *id = strtok(line, "\t\n"), *ns, *tok;
        sim_edge *e;
        char err[GW_ERR_LEN];
        size_t bl;
        if (id == NULL)
            continue;
        ns = strtok(NULL, "\t\n");
        tok = strtok(NULL, "\t\n");
        if (ns != NULL && tok == NULL) { /* the global namespace: "id<TAB><TAB>token" */
            tok = ns;
            ns = "";
        }
        if (tok == NULL) {
            fprintf(stderr, "syncsim: %s: a line is not \"edge_id<TAB>namespace<TAB>token\"\n", path);
            fclose(f);
            return -1;
        }
        if (sim.n == cap) {
            cap = cap == 0 ? 256 : cap * 2;
            sim.edges = realloc(sim.edges, (size_t)cap * sizeof(*sim.edges));
            if (sim.edges == NULL) {
                fclose(f);
                return -1;
            }
        }
        e = &sim.edges[sim.n];
        memset(e, 0, sizeof(*e));
        e->idx = sim.n;
        snprintf(e->id, sizeof(e->id), "%s", id);
        snprintf(e->ns, sizeof(e->ns), "%s", ns);
        bl = strlen(tok) + 8;
        e->bearer = malloc(bl);
        if (e->bearer == NULL) {
            fclose(f);
            return -1;
        }
        snprintf(e->bearer, bl, "Bearer %s", tok);
        if (gw_sync_edge_key(tok, e->id, &e->key, err) != 0) {
            fprintf(stderr, "syncsim: %s\n", err);
            fclose(f);
            return -1;
        }
        sim.n++;
    }
    fclose(f);
    /* the md point into the array: set once it no longer moves */
    for (int i = 0; i < sim.n; i++) {
        sim_edge *e = &sim.edges[i];
        e->md[0] = (gw_rpc_md){"authorization", e->bearer, strlen(e->bearer)};
        e->md[1] = (gw_rpc_md){GW_SYNC_MD_EDGE_ID, e->id, strlen(e->id)};
        e->md[2] = (gw_rpc_md){GW_SYNC_MD_NAMESPACE, e->ns, strlen(e->ns)};
        pthread_mutex_init(&e->mu, NULL);
    }
    return sim.n > 0 ? 0 : -1;
}

int sim_clients(int nconns)
{
    char err[GW_ERR_LEN];
    sim.nconns = nconns;
    sim.cli = calloc((size_t)nconns, sizeof(*sim.cli));
    if (sim.cli == NULL)
        return -1;
    for (int i = 0; i < nconns; i++) {
        gw_rpc_client_opts co;
        memset(&co, 0, sizeof(co));
        co.target = sim.target;
        co.max_message = GW_SYNC_MAX_MESSAGE;
        co.timeout_ms = SIM_CONNECT_TIMEOUT_MS;
        co.reconnect_max_ms = 5000;
        co.keepalive_ms = 20000; /* as src/sync/edge_rpc.c */
        sim.cli[i] = gw_rpc_client_create(&co, err);
        if (sim.cli[i] == NULL) {
            fprintf(stderr, "syncsim: client: %s\n", err);
            return -1;
        }
    }
    for (int i = 0; i < sim.n; i++)
        sim.edges[i].cli = sim.cli[i % nconns];
    return 0;
}

int sim_all_ready(int *ready)
{
    int r = 0;
    for (int i = 0; i < sim.n; i++) {
        sim_edge *e = &sim.edges[i];
        pthread_mutex_lock(&e->mu);
        if (e->stream != NULL && e->loaded[0] != '\0' && atomic_load(&e->acked))
            r++;
        pthread_mutex_unlock(&e->mu);
    }
    *ready = r;
    return r == sim.n;
}

/* Runs sql; the first column of the last result, or NULL (printed). */
void sim_print_counters(const char *phase)
{
    printf("%s hb_sent=%ld acks=%ld acks_in_sync=%ld reloads=%ld applied=%ld failed_pulls=%ld stream_ends=%ld "
           "registers=%ld register_failures=%ld invalidates=%ld key_errors=%ld\n",
           phase, atomic_load(&sim.hb_sent), atomic_load(&sim.acks), atomic_load(&sim.acks_in_sync), atomic_load(&sim.reloads),
           atomic_load(&sim.applied), atomic_load(&sim.failed_pulls), atomic_load(&sim.closes), atomic_load(&sim.registers),
           atomic_load(&sim.reg_failed), atomic_load(&sim.invalidates), atomic_load(&sim.key_errors));
    if (sim.last_error[0] != '\0')
        printf("%s last_error=\"%s\"\n", phase, sim.last_error);
    fflush(stdout);
}

void sim_counters_reset(void)
{
    atomic_store(&sim.hb_sent, 0);
    atomic_store(&sim.acks, 0);
    atomic_store(&sim.acks_in_sync, 0);
    atomic_store(&sim.reloads, 0);
    atomic_store(&sim.applied, 0);
}

/* The push: SQL at t0, until every edge applied it, then the hub's view. */

void sim_start(int n)
{
    nworkers = n;
    workers = calloc((size_t)n, sizeof(*workers));
    for (int i = 0; i < n; i++)
        pthread_create(&workers[i], NULL, sim_worker, NULL);
    for (int i = 0; i < sim.n; i++) {
        sim.edges[i].busy = 1;
        sim_queue(SIM_T_CONNECT, &sim.edges[i], 0);
    }
    pthread_create(&ticker, NULL, sim_ticker, NULL);
}

void sim_stop(void)
{
    pthread_mutex_lock(&sim.qmu);
    sim.stop = 1;
    pthread_cond_broadcast(&sim.qcv);
    pthread_mutex_unlock(&sim.qmu);
    pthread_join(ticker, NULL);
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    for (int i = 0; i < sim.n; i++) {
        gw_rpc_call *c;
        char err[GW_ERR_LEN];
        pthread_mutex_lock(&sim.edges[i].mu);
        c = sim.edges[i].stream;
        sim.edges[i].stream = NULL;
        pthread_mutex_unlock(&sim.edges[i].mu);
        if (c != NULL) {
            gw_rpc_call_close_send(c, err);
            gw_rpc_call_unref(c);
        }
    }
    for (int i = 0; i < sim.nconns; i++)
        gw_rpc_client_destroy(sim.cli[i]);
    while (sim.qhead != NULL) { /* queued by a callback after the workers ended */
        sim_task *t = sim.qhead;
        sim.qhead = t->next;
        free(t);
    }
}
