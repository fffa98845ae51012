/*
 * bench/sync/syncsim.c: N simulated edges speaking the real Sync protocol
 * (proto/aistudio/v1/sync.proto) against one hub, for bench/sync/run.sh.
 * A benchmark tool, never a test: it prints figures, it fails only when the
 * hub cannot be reached at all.
 *
 * It is linked with gatewayd's own objects (src/rpc for gRPC, src/sync/wire
 * for packing, src/model/snapshot for decoding, the generated protobuf-c
 * code): no second copy of the protocol. Each simulated edge does what
 * src/sync/edge.c does: RegisterEdge, the Connect stream, a heartbeat at
 * once and then every interval with the checksum it serves, and on a
 * Reload: PushProgress PULLING, PullSnapshot, the snapshot decoded and its
 * vendor keys opened with the edge's own key (HKDF of its token, as an
 * edge does), PushProgress APPLIED with the new checksum, a heartbeat at
 * once. An edge that serves nothing pulls right after connecting. What it
 * does not do: store the snapshot in a local database (an edge's
 * edge_store_snapshot) — so a figure here leaves out that local write.
 *
 *   syncsim run  --target H:P --edges FILE [--conns K] [--workers W]
 *                [--interval S] [--db CONNINFO] [--id-prefix P] [--push-sql SQL]
 *                [--hold S --hub-pid PID --pg-pid PID]
 *   syncsim pull --target H:P --edges FILE [--pulls N]
 *
 * FILE: one edge a line, "edge_id<TAB>namespace<TAB>token" (psql -At -F
 * '\t' of aistudio.enroll_edge). run: all edges connect (K gRPC
 * connections, edge i on connection i mod K; default one per edge up to
 * 200), wait until every edge has pulled and had a heartbeat answered;
 * then with --push-sql: the SQL (a change and aistudio.push_config(); its
 * last result's first column is the push id) is run through libpq and the
 * time from just before it until each edge has applied the push is
 * measured, then until the hub's view (aistudio.list_edges) says in_sync
 * for all; with --hold: the edges heartbeat for S seconds while the CPU of
 * the hub process and of PostgreSQL's processes is read from /proc.
 * pull: the first edge of FILE pulls its snapshot N times (have_checksum
 * empty), timed as its client sees it.
 * Output: "key=value" lines (run.sh reads them), prefixed by the phase.
 *
 * Threads: K client event threads (rpc.h: stream callbacks, kept short:
 * they queue work), W workers (unary calls: register, pulls), one ticker
 * (heartbeats, reconnects), main. Each edge's mutable state is under its
 * own mutex; counters are atomics.
 */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/secretbox.h"
#include "model/snapshot.h"
#include "rpc/rpc.h"
#include "sync/wire.h"

#define SIM_MAX_CONNS_DEFAULT 200
#define SIM_CONNECT_TIMEOUT_MS 5000
#define SIM_PULL_TIMEOUT_MS 30000
#define SIM_RECONNECT_MS 1000

typedef struct sim_edge {
    int idx;
    char id[GW_SYNC_ID_MAX + 1];
    char ns[GW_SYNC_NS_MAX];
    char *bearer;
    gw_rpc_md md[3];
    gw_secret_key key; /* the edge key: HKDF of its token */
    gw_rpc_client *cli;

    pthread_mutex_t mu;
    gw_rpc_call *stream; /* under mu */
    uint64_t stream_no;  /* under mu */
    char loaded[GW_SYNC_SHA_HEX]; /* under mu */
    int64_t next_hb_ms;  /* under mu */
    int64_t reconnect_ms; /* under mu: 0 = none due */
    int busy;            /* under mu: a connect queued or running */
    int64_t push_id;     /* under mu: the last push applied */
    int64_t t_reload_us, t_applied_us; /* under mu: wall clock */
    atomic_ullong seq;
    atomic_int acked; /* a HeartbeatAck on the current stream */
} sim_edge;

typedef struct sim_sctx {
    sim_edge *e;
    uint64_t no;
} sim_sctx;

enum { T_CONNECT, T_RELOAD };

typedef struct sim_task {
    int kind;
    sim_edge *e;
    int64_t push_id;
    struct sim_task *next;
} sim_task;

static struct {
    const char *target;
    const char *id_prefix;
    sim_edge *edges;
    int n;
    gw_rpc_client **cli;
    int nconns;
    int interval_s;

    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    sim_task *qhead, *qtail;
    int stop;

    atomic_long hb_sent, acks, acks_in_sync, reloads, applied, failed_pulls, closes, registers, reg_failed,
        invalidates, key_errors;
    atomic_llong pull_bytes;
    char last_error[GW_ERR_LEN];
    pthread_mutex_t err_mu;
} S;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sim_error(const char *fmt, ...) GW_PRINTF(1, 2);
static void sim_error(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&S.err_mu);
    va_start(ap, fmt);
    vsnprintf(S.last_error, sizeof(S.last_error), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&S.err_mu);
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
    pthread_mutex_lock(&S.qmu);
    if (S.qtail != NULL)
        S.qtail->next = t;
    else
        S.qhead = t;
    S.qtail = t;
    pthread_cond_signal(&S.qcv);
    pthread_mutex_unlock(&S.qmu);
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
    e->next_hb_ms = gw_now_ms() + (int64_t)S.interval_s * 1000;
    pthread_mutex_unlock(&e->mu);
    if (c == NULL)
        return;
    mt.since_ms = (uint64_t)S.interval_s * 1000;
    hb.loaded_checksum = loaded;
    hb.version = GW_VERSION;
    hb.metrics = &mt;
    hb.seq = atomic_fetch_add(&e->seq, 1) + 1;
    hb.heartbeat_interval_s = (uint32_t)S.interval_s;
    m.kind_case = AISTUDIO__V1__EDGE_MESSAGE__KIND_HEARTBEAT;
    m.heartbeat = &hb;
    if (gw_sync_send(c, &m.base, err) == 0)
        atomic_fetch_add(&S.hb_sent, 1);
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

/* PullSnapshot; 0 with *rs (unpacked), or -1 with err. */
static int sim_pull_once(sim_edge *e, const char *have, Aistudio__V1__SnapshotResponse **rs, char err[GW_ERR_LEN])
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

/* What an edge does with a snapshot before it swaps it in: decode, index,
 * open vendor keys with its key. */
static int sim_build(sim_edge *e, const Aistudio__V1__SnapshotResponse *rs, char err[GW_ERR_LEN])
{
    gw_snapshot *snap = NULL;
    int key_errors = 0;
    if (gw_snapshot_build(rs->snapshot.data, rs->snapshot.len, rs->checksum, &e->key, 1, &snap, &key_errors, err) != 0)
        return -1;
    if (key_errors > 0)
        atomic_fetch_add(&S.key_errors, key_errors);
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
        atomic_fetch_add(&S.failed_pulls, 1);
        sim_error("edge %s: %s", e->id, err);
        sim_progress(e, push_id, AISTUDIO__V1__PUSH_PROGRESS__PHASE__FAILED, NULL, err);
        if (rs != NULL)
            aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
        return;
    }
    atomic_fetch_add(&S.pull_bytes, (long long)rs->snapshot.len);
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
        e->t_applied_us = now_us();
    }
    pthread_mutex_unlock(&e->mu);
    atomic_fetch_add(&S.applied, 1);
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
        e->t_reload_us = now_us();
        pthread_mutex_unlock(&e->mu);
        atomic_fetch_add(&S.reloads, 1);
        sim_queue(T_RELOAD, e, m->reload->push_id);
        break;
    case AISTUDIO__V1__HUB_MESSAGE__KIND_HEARTBEAT_ACK:
        atomic_fetch_add(&S.acks, 1);
        if (m->heartbeat_ack->in_sync)
            atomic_fetch_add(&S.acks_in_sync, 1);
        atomic_store(&e->acked, 1);
        break;
    case AISTUDIO__V1__HUB_MESSAGE__KIND_INVALIDATE:
        atomic_fetch_add(&S.invalidates, 1);
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
        if (!S.stop)
            e->reconnect_ms = gw_now_ms() + SIM_RECONNECT_MS;
    }
    pthread_mutex_unlock(&e->mu);
    if (mine != NULL) {
        atomic_fetch_add(&S.closes, 1);
        if (!S.stop)
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
    rq.heartbeat_interval_s = (uint32_t)S.interval_s;
    if (gw_sync_pack(&rq.base, &buf, &len) != 0)
        goto retry;
    memset(&reply, 0, sizeof(reply));
    rc = gw_rpc_client_unary(e->cli, GW_SYNC_M_REGISTER, e->md, 3, buf, len, SIM_CONNECT_TIMEOUT_MS, &reply);
    free(buf);
    if (rc != 0) {
        atomic_fetch_add(&S.reg_failed, 1);
        sim_error("edge %s: RegisterEdge: %s %s", e->id, gw_rpc_status_name(reply.status), reply.message);
        gw_rpc_reply_clear(&reply);
        goto retry;
    }
    gw_rpc_reply_clear(&reply);
    atomic_fetch_add(&S.registers, 1);
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
    pthread_mutex_lock(&S.qmu);
    for (;;) {
        sim_task *t;
        while (S.qhead == NULL && !S.stop)
            pthread_cond_wait(&S.qcv, &S.qmu);
        if (S.stop)
            break;
        t = S.qhead;
        S.qhead = t->next;
        if (S.qhead == NULL)
            S.qtail = NULL;
        pthread_mutex_unlock(&S.qmu);
        if (t->kind == T_CONNECT)
            sim_connect(t->e);
        else
            sim_reload(t->e, t->push_id);
        free(t);
        pthread_mutex_lock(&S.qmu);
    }
    pthread_mutex_unlock(&S.qmu);
    return NULL;
}

/* Heartbeats when due, reconnects when due. */
static void *sim_ticker(void *arg)
{
    (void)arg;
    while (!S.stop) {
        int64_t now = gw_now_ms();
        for (int i = 0; i < S.n && !S.stop; i++) {
            sim_edge *e = &S.edges[i];
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
                sim_queue(T_CONNECT, e, 0);
        }
        usleep(10000);
    }
    return NULL;
}

/* ---- set-up ---- */

static int sim_load_edges(const char *path, int limit)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int cap = 0;
    if (f == NULL) {
        fprintf(stderr, "syncsim: cannot open %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL && (limit <= 0 || S.n < limit)) {
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
        if (S.n == cap) {
            cap = cap == 0 ? 256 : cap * 2;
            S.edges = realloc(S.edges, (size_t)cap * sizeof(*S.edges));
            if (S.edges == NULL) {
                fclose(f);
                return -1;
            }
        }
        e = &S.edges[S.n];
        memset(e, 0, sizeof(*e));
        e->idx = S.n;
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
        S.n++;
    }
    fclose(f);
    /* the md point into the array: set once it no longer moves */
    for (int i = 0; i < S.n; i++) {
        sim_edge *e = &S.edges[i];
        e->md[0] = (gw_rpc_md){"authorization", e->bearer, strlen(e->bearer)};
        e->md[1] = (gw_rpc_md){GW_SYNC_MD_EDGE_ID, e->id, strlen(e->id)};
        e->md[2] = (gw_rpc_md){GW_SYNC_MD_NAMESPACE, e->ns, strlen(e->ns)};
        pthread_mutex_init(&e->mu, NULL);
    }
    return S.n > 0 ? 0 : -1;
}

static int sim_clients(int nconns)
{
    char err[GW_ERR_LEN];
    S.nconns = nconns;
    S.cli = calloc((size_t)nconns, sizeof(*S.cli));
    if (S.cli == NULL)
        return -1;
    for (int i = 0; i < nconns; i++) {
        gw_rpc_client_opts co;
        memset(&co, 0, sizeof(co));
        co.target = S.target;
        co.max_message = GW_SYNC_MAX_MESSAGE;
        co.timeout_ms = SIM_CONNECT_TIMEOUT_MS;
        co.reconnect_max_ms = 5000;
        co.keepalive_ms = 20000; /* as src/sync/edge_rpc.c */
        S.cli[i] = gw_rpc_client_create(&co, err);
        if (S.cli[i] == NULL) {
            fprintf(stderr, "syncsim: client: %s\n", err);
            return -1;
        }
    }
    for (int i = 0; i < S.n; i++)
        S.edges[i].cli = S.cli[i % nconns];
    return 0;
}

/* ---- figures ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of v[0..n), sorted here. */
static double pct(double *v, int n, double p)
{
    int k;
    if (n <= 0)
        return -1;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    k = (int)(p / 100.0 * n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* utime + stime of a process, in clock ticks (-1: gone). */
static long long proc_ticks(long pid, long *ppid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    long pp;
    FILE *f;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return -1;
    }
    fclose(f);
    p = strrchr(buf, ')');
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (p == NULL || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pp, &ut, &st) != 3)
        return -1;
    if (ppid != NULL)
        *ppid = pp;
    return (long long)(ut + st);
}

#define SIM_MAX_PG 512
typedef struct pg_sample {
    int n;
    long pid[SIM_MAX_PG];
    long long ticks[SIM_MAX_PG];
} pg_sample;

/* The postmaster and its children. */
static void pg_sample_take(long postmaster, pg_sample *s)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    s->n = 0;
    if (d == NULL || postmaster <= 0) {
        if (d != NULL)
            closedir(d);
        return;
    }
    while ((de = readdir(d)) != NULL && s->n < SIM_MAX_PG) {
        long pid = strtol(de->d_name, NULL, 10), pp = 0;
        long long t;
        if (pid <= 0)
            continue;
        t = proc_ticks(pid, &pp);
        if (t >= 0 && (pid == postmaster || pp == postmaster)) {
            s->pid[s->n] = pid;
            s->ticks[s->n++] = t;
        }
    }
    closedir(d);
}

/* CPU ticks the PostgreSQL processes used between a and b (a process
 * started meanwhile counts whole). */
static long long pg_sample_delta(const pg_sample *a, const pg_sample *b)
{
    long long sum = 0;
    for (int i = 0; i < b->n; i++) {
        long long before = 0;
        for (int j = 0; j < a->n; j++)
            if (a->pid[j] == b->pid[i])
                before = a->ticks[j];
        sum += b->ticks[i] - before;
    }
    return sum;
}

static long long self_ticks(void)
{
    return proc_ticks((long)getpid(), NULL);
}

static int all_ready(int *ready)
{
    int r = 0;
    for (int i = 0; i < S.n; i++) {
        sim_edge *e = &S.edges[i];
        pthread_mutex_lock(&e->mu);
        if (e->stream != NULL && e->loaded[0] != '\0' && atomic_load(&e->acked))
            r++;
        pthread_mutex_unlock(&e->mu);
    }
    *ready = r;
    return r == S.n;
}

/* Runs sql; the first column of the last result, or NULL (printed). */
static char *sim_sql(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    char *out = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
        fprintf(stderr, "syncsim: SQL failed: %s", PQerrorMessage(db));
    else if (PQntuples(res) > 0 && PQnfields(res) > 0)
        out = strdup(PQgetvalue(res, 0, 0));
    else
        out = strdup("");
    PQclear(res);
    return out;
}

/* The hub's view of our edges (aistudio.list_edges, as an admin sees it;
 * the ids starting with --id-prefix): how many are in_sync and connected. */
static void hub_view(PGconn *db, int *in_sync, int *connected, int *total)
{
    const char *params[1] = {S.id_prefix};
    PGresult *res = PQexecParams(db,
                                 "SELECT count(*) FILTER (WHERE status = 'in_sync'), count(*) FILTER (WHERE connected), "
                                 "count(*) FROM aistudio.list_edges(NULL, NULL, 10000, 0) WHERE starts_with(edge_id, $1)",
                                 1, NULL, params, NULL, NULL, 0);
    *in_sync = *connected = *total = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        *in_sync = atoi(PQgetvalue(res, 0, 0));
        *connected = atoi(PQgetvalue(res, 0, 1));
        *total = atoi(PQgetvalue(res, 0, 2));
    } else {
        fprintf(stderr, "syncsim: list_edges: %s", PQerrorMessage(db));
    }
    PQclear(res);
}

static void print_counters(const char *phase)
{
    printf("%s hb_sent=%ld acks=%ld acks_in_sync=%ld reloads=%ld applied=%ld failed_pulls=%ld stream_ends=%ld "
           "registers=%ld register_failures=%ld invalidates=%ld key_errors=%ld\n",
           phase, atomic_load(&S.hb_sent), atomic_load(&S.acks), atomic_load(&S.acks_in_sync), atomic_load(&S.reloads),
           atomic_load(&S.applied), atomic_load(&S.failed_pulls), atomic_load(&S.closes), atomic_load(&S.registers),
           atomic_load(&S.reg_failed), atomic_load(&S.invalidates), atomic_load(&S.key_errors));
    if (S.last_error[0] != '\0')
        printf("%s last_error=\"%s\"\n", phase, S.last_error);
    fflush(stdout);
}

static void counters_reset(void)
{
    atomic_store(&S.hb_sent, 0);
    atomic_store(&S.acks, 0);
    atomic_store(&S.acks_in_sync, 0);
    atomic_store(&S.reloads, 0);
    atomic_store(&S.applied, 0);
}

/* The push: SQL at t0, until every edge applied it, then the hub's view. */
static void phase_push(PGconn *db, const char *sql)
{
    double *reload = malloc((size_t)S.n * sizeof(double)), *applied = malloc((size_t)S.n * sizeof(double));
    int64_t t0, t_sql, deadline, push_id;
    int nr = 0, na = 0, in_sync = 0, connected = 0, total = 0;
    char *ret;
    double hub_ms = -1;

    counters_reset();
    t0 = now_us();
    ret = sim_sql(db, sql);
    t_sql = now_us();
    if (ret == NULL)
        return;
    push_id = strtoll(ret, NULL, 10);
    free(ret);
    deadline = gw_now_ms() + 30000;
    for (;;) {
        int done = 0;
        for (int i = 0; i < S.n; i++) {
            pthread_mutex_lock(&S.edges[i].mu);
            done += S.edges[i].push_id == push_id;
            pthread_mutex_unlock(&S.edges[i].mu);
        }
        if (done == S.n || gw_now_ms() > deadline)
            break;
        usleep(2000);
    }
    for (int i = 0; i < S.n; i++) {
        sim_edge *e = &S.edges[i];
        pthread_mutex_lock(&e->mu);
        if (e->t_reload_us >= t0)
            reload[nr++] = (double)(e->t_reload_us - t0) / 1000.0;
        if (e->push_id == push_id)
            applied[na++] = (double)(e->t_applied_us - t0) / 1000.0;
        pthread_mutex_unlock(&e->mu);
    }
    /* the hub's view: until aistudio.list_edges says in_sync for all */
    deadline = gw_now_ms() + 30000;
    for (;;) {
        hub_view(db, &in_sync, &connected, &total);
        if (in_sync == S.n) {
            hub_ms = (double)(now_us() - t0) / 1000.0;
            break;
        }
        if (gw_now_ms() > deadline)
            break;
        usleep(20000);
    }
    printf("push push_id=%" PRId64 " edges=%d sql_ms=%.1f signalled=%d applied=%d\n", push_id, S.n,
           (double)(t_sql - t0) / 1000.0, nr, na);
    printf("push reload_p50_ms=%.1f reload_p100_ms=%.1f\n", pct(reload, nr, 50), pct(reload, nr, 100));
    printf("push applied_p50_ms=%.1f applied_p90_ms=%.1f applied_p100_ms=%.1f\n", pct(applied, na, 50),
           pct(applied, na, 90), pct(applied, na, 100));
    printf("push hub_view_all_in_sync_ms=%.1f list_edges_in_sync=%d list_edges_connected=%d list_edges_total=%d\n",
           hub_ms, in_sync, connected, total);
    {
        char q[256];
        char *r;
        snprintf(q, sizeof(q),
                 "SELECT count(*) FILTER (WHERE phase = 'applied') || ' ' || "
                 "coalesce(round(extract(epoch FROM max(updated_at) - (SELECT pushed_at FROM aistudio.pushes WHERE id = %" PRId64
                 ")) * 1000)::text, '-') FROM aistudio.get_push(%" PRId64 ")",
                 push_id, push_id);
        r = sim_sql(db, q);
        if (r != NULL) {
            char *sp = strchr(r, ' ');
            if (sp != NULL) {
                *sp = '\0';
                printf("push get_push_applied=%s get_push_last_applied_ms=%s\n", r, sp + 1);
            }
            free(r);
        }
    }
    print_counters("push");
    free(reload);
    free(applied);
}

/* Heartbeats for hold_s seconds; CPU of the hub and of PostgreSQL. */
static void phase_hold(PGconn *db, int hold_s, long hub_pid, long pg_pid)
{
    pg_sample *pa = calloc(1, sizeof(*pa)), *pb = calloc(1, sizeof(*pb));
    long long h0, h1, s0, s1, pgd;
    int64_t t0, t1;
    double secs, tck = (double)sysconf(_SC_CLK_TCK);
    int in_sync = -1, connected = -1, total = -1;

    counters_reset();
    pg_sample_take(pg_pid, pa);
    h0 = proc_ticks(hub_pid, NULL);
    s0 = self_ticks();
    t0 = mono_us();
    sleep((unsigned)hold_s);
    h1 = proc_ticks(hub_pid, NULL);
    s1 = self_ticks();
    pg_sample_take(pg_pid, pb);
    t1 = mono_us();
    secs = (double)(t1 - t0) / 1e6;
    pgd = pg_sample_delta(pa, pb);
    if (db != NULL)
        hub_view(db, &in_sync, &connected, &total);
    printf("hold edges=%d interval_s=%d seconds=%.1f hb_per_s=%.0f acks_per_s=%.0f\n", S.n, S.interval_s, secs,
           (double)atomic_load(&S.hb_sent) / secs, (double)atomic_load(&S.acks) / secs);
    printf("hold hub_cpu_cores=%.3f pg_cpu_cores=%.3f sim_cpu_cores=%.3f\n",
           h0 >= 0 && h1 >= 0 ? (double)(h1 - h0) / tck / secs : -1.0, (double)pgd / tck / secs,
           (double)(s1 - s0) / tck / secs);
    printf("hold list_edges_in_sync=%d list_edges_connected=%d list_edges_total=%d\n", in_sync, connected, total);
    print_counters("hold");
    free(pa);
    free(pb);
}

static int cmd_run(const char *db_conninfo, const char *push_sql, int hold_s, long hub_pid, long pg_pid, int nworkers)
{
    pthread_t *workers, ticker;
    PGconn *db = NULL;
    int64_t t0 = mono_us(), deadline = gw_now_ms() + 180000;
    int ready = 0;

    if (db_conninfo != NULL) {
        db = PQconnectdb(db_conninfo);
        if (PQstatus(db) != CONNECTION_OK) {
            fprintf(stderr, "syncsim: database: %s", PQerrorMessage(db));
            return 1;
        }
    }
    workers = calloc((size_t)nworkers, sizeof(*workers));
    for (int i = 0; i < nworkers; i++)
        pthread_create(&workers[i], NULL, sim_worker, NULL);
    for (int i = 0; i < S.n; i++) {
        S.edges[i].busy = 1;
        sim_queue(T_CONNECT, &S.edges[i], 0);
    }
    pthread_create(&ticker, NULL, sim_ticker, NULL);
    while (!all_ready(&ready) && gw_now_ms() < deadline)
        usleep(20000);
    printf("connect edges=%d conns=%d ready=%d seconds=%.1f\n", S.n, S.nconns, ready, (double)(mono_us() - t0) / 1e6);
    print_counters("connect");
    if (ready == S.n) {
        sleep(2); /* every edge heartbeats with what it loaded, and is answered */
        if (push_sql != NULL && db != NULL)
            phase_push(db, push_sql);
        if (hold_s > 0)
            phase_hold(db, hold_s, hub_pid, pg_pid);
    }

    pthread_mutex_lock(&S.qmu);
    S.stop = 1;
    pthread_cond_broadcast(&S.qcv);
    pthread_mutex_unlock(&S.qmu);
    pthread_join(ticker, NULL);
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    for (int i = 0; i < S.n; i++) {
        gw_rpc_call *c;
        char err[GW_ERR_LEN];
        pthread_mutex_lock(&S.edges[i].mu);
        c = S.edges[i].stream;
        S.edges[i].stream = NULL;
        pthread_mutex_unlock(&S.edges[i].mu);
        if (c != NULL) {
            gw_rpc_call_close_send(c, err);
            gw_rpc_call_unref(c);
        }
    }
    for (int i = 0; i < S.nconns; i++)
        gw_rpc_client_destroy(S.cli[i]);
    free(workers);
    if (db != NULL)
        PQfinish(db);
    return ready == S.n ? 0 : 1;
}

static int cmd_pull(int pulls)
{
    sim_edge *e = &S.edges[0];
    double *lat = malloc((size_t)pulls * sizeof(double)), *build = malloc((size_t)pulls * sizeof(double));
    size_t size = 0;
    char err[GW_ERR_LEN];

    for (int i = -2; i < pulls; i++) { /* two warm-up pulls */
        Aistudio__V1__SnapshotResponse *rs;
        int64_t a = mono_us(), b, c;
        if (sim_pull_once(e, "", &rs, err) != 0) {
            fprintf(stderr, "syncsim: %s\n", err);
            return 1;
        }
        b = mono_us();
        if (sim_build(e, rs, err) != 0) {
            fprintf(stderr, "syncsim: the snapshot does not build: %s\n", err);
            aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
            return 1;
        }
        c = mono_us();
        size = rs->snapshot.len;
        aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
        if (i >= 0) {
            lat[i] = (double)(b - a) / 1000.0;
            build[i] = (double)(c - b) / 1000.0;
        }
    }
    printf("pull edge=%s namespace=%s pulls=%d bytes=%zu key_errors=%ld\n", e->id, e->ns, pulls, size,
           atomic_load(&S.key_errors));
    printf("pull rpc_p50_ms=%.1f rpc_p99_ms=%.1f rpc_max_ms=%.1f\n", pct(lat, pulls, 50), pct(lat, pulls, 99),
           pct(lat, pulls, 100));
    printf("pull build_p50_ms=%.1f build_p99_ms=%.1f\n", pct(build, pulls, 50), pct(build, pulls, 99));
    free(lat);
    free(build);
    for (int i = 0; i < S.nconns; i++)
        gw_rpc_client_destroy(S.cli[i]);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: syncsim run  --target H:P --edges FILE [--conns K] [--workers W] [--interval S]\n"
                    "                    [--db CONNINFO] [--id-prefix P] [--push-sql SQL] [--hold S --hub-pid PID --pg-pid PID]\n"
                    "       syncsim pull --target H:P --edges FILE [--pulls N]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'}, {"edges", required_argument, NULL, 'e'},
        {"conns", required_argument, NULL, 'c'},  {"workers", required_argument, NULL, 'w'},
        {"interval", required_argument, NULL, 'i'}, {"db", required_argument, NULL, 'd'},
        {"push-sql", required_argument, NULL, 'p'}, {"hold", required_argument, NULL, 'h'},
        {"hub-pid", required_argument, NULL, 'H'}, {"pg-pid", required_argument, NULL, 'P'},
        {"pulls", required_argument, NULL, 'n'},  {"id-prefix", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0}};
    const char *cmd, *edges = NULL, *db = NULL, *push_sql = NULL;
    int conns = 0, nworkers = 8, hold = 0, pulls = 20, o, rc;
    long hub_pid = 0, pg_pid = 0;

    if (argc < 2) {
        usage();
        return 2;
    }
    cmd = argv[1];
    S.interval_s = 1;
    S.id_prefix = "";
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': S.target = optarg; break;
        case 'e': edges = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'w': nworkers = atoi(optarg); break;
        case 'i': S.interval_s = atoi(optarg); break;
        case 'd': db = optarg; break;
        case 'p': push_sql = optarg; break;
        case 'h': hold = atoi(optarg); break;
        case 'H': hub_pid = atol(optarg); break;
        case 'P': pg_pid = atol(optarg); break;
        case 'n': pulls = atoi(optarg); break;
        case 'x': S.id_prefix = optarg; break;
        default: usage(); return 2;
        }
    }
    if (S.target == NULL || edges == NULL || S.interval_s < 1 || nworkers < 1 || pulls < 1 ||
        (strcmp(cmd, "run") != 0 && strcmp(cmd, "pull") != 0)) {
        usage();
        return 2;
    }
    gw_log_set_level(GW_LOG_ERROR);
    pthread_mutex_init(&S.qmu, NULL);
    pthread_cond_init(&S.qcv, NULL);
    pthread_mutex_init(&S.err_mu, NULL);
    if (sim_load_edges(edges, strcmp(cmd, "pull") == 0 ? 1 : 0) != 0)
        return 1;
    if (conns <= 0)
        conns = S.n < SIM_MAX_CONNS_DEFAULT ? S.n : SIM_MAX_CONNS_DEFAULT;
    if (conns > S.n)
        conns = S.n;
    gw_rpc_init();
    if (sim_clients(strcmp(cmd, "pull") == 0 ? 1 : conns) != 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = strcmp(cmd, "pull") == 0 ? cmd_pull(pulls) : cmd_run(db, push_sql, hold, hub_pid, pg_pid, nworkers);
    gw_rpc_shutdown();
    return rc;
}
