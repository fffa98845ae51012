/*
 * bench/sync/simedge.h: the simulated edges of syncsim (see syncsim.c for
 * the tool, simedge.c for what one edge does). One global state, sim, shared
 * by the two files: the edges, the gRPC clients, the work queue, counters.
 *
 * Threads and locking: K client event threads run the stream callbacks
 * (short: they queue work), W workers the unary calls (register, pulls),
 * one ticker the heartbeats and reconnects. Each edge's mutable fields are
 * under its mutex (marked), the queue under sim.qmu, counters are atomics.
 */
#ifndef SIM_EDGE_H
#define SIM_EDGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/secretbox.h"
#include "rpc/rpc.h"
#include "sync/wire.h"

#define SIM_MAX_CONNS_DEFAULT 2000 /* one connection per edge, up to this */
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

enum { SIM_T_CONNECT, SIM_T_RELOAD };

typedef struct sim_task {
    int kind;
    sim_edge *e;
    int64_t push_id;
    struct sim_task *next;
} sim_task;

typedef struct sim_state {
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
    atomic_int stop; /* set under qmu, read anywhere */

    atomic_long hb_sent, acks, acks_in_sync, reloads, applied, failed_pulls, closes, registers, reg_failed,
        invalidates, key_errors;
    atomic_llong pull_bytes;
    char last_error[GW_ERR_LEN];
    pthread_mutex_t err_mu;
} sim_state;

extern sim_state sim;

/* Wall clock and monotonic microseconds. */
int64_t sim_now_us(void);
int64_t sim_mono_us(void);

/* Loads FILE ("edge_id<TAB>namespace<TAB>token" a line; limit > 0: the
 * first limit edges); 0 or -1 (said on stderr). */
int sim_load_edges(const char *path, int limit);
/* nconns gRPC clients, edge i on client i mod nconns. */
int sim_clients(int nconns);
/* Starts nworkers workers and the ticker, and connects every edge. */
void sim_start(int nworkers);
/* 1 when every edge has its stream, a snapshot and an answered heartbeat;
 * *ready: how many have. */
int sim_all_ready(int *ready);
/* Stops the threads, half-closes the streams, destroys the clients. */
void sim_stop(void);

/* One PullSnapshot by e (have: its checksum, "" for the whole snapshot):
 * 0 with *rs, or -1 with err. */
int sim_pull_once(sim_edge *e, const char *have, Aistudio__V1__SnapshotResponse **rs, char err[GW_ERR_LEN]);
/* What an edge does with a snapshot before it swaps it in: decoded,
 * indexed, vendor keys opened with its key (model/snapshot.h). */
int sim_build(sim_edge *e, const Aistudio__V1__SnapshotResponse *rs, char err[GW_ERR_LEN]);

void sim_counters_reset(void);
void sim_print_counters(const char *phase);

#endif
