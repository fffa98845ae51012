/*
 * src/sync/edge_window.h: what an edge served since its previous
 * heartbeat: requests, errors (a status of 400 or more), prompt and
 * response tokens, and the latency distribution (p50, p99) in a fixed
 * histogram. It is fed with every analytics event as it is recorded (the
 * analytics writer's on_record tap: exactly one event per request, with
 * its status, latency and tokens) and emptied by each heartbeat.
 *
 * Locking: one mutex; record is a handful of additions under it.
 * Percentiles are the upper bound of the histogram bucket that holds them
 * (GW_WINDOW_BOUNDS_MS, 1 ms to 10 min), exact for equal latencies.
 */
#ifndef GW_SYNC_EDGE_WINDOW_H
#define GW_SYNC_EDGE_WINDOW_H

#include <pthread.h>
#include <stdint.h>

#include "ingest/analytics.h"
#include "sync/wire.h"

#define GW_WINDOW_BUCKETS 32

typedef struct gw_edge_window {
    pthread_mutex_t mu;
    int64_t since_ms;
    uint64_t requests, errors, prompt_tokens, response_tokens;
    uint64_t buckets[GW_WINDOW_BUCKETS];
} gw_edge_window;

void gw_edge_window_init(gw_edge_window *w);
void gw_edge_window_destroy(gw_edge_window *w);
/* One finished request. */
void gw_edge_window_add(gw_edge_window *w, int status, int64_t latency_ms, int64_t prompt_tokens,
                        int64_t response_tokens);
/* The analytics writer's on_record tap (ctx: the window). */
void gw_edge_window_record(void *ctx, const gw_event *ev);
/* The figures since the last take (or init) into out, then starts anew. */
void gw_edge_window_take(gw_edge_window *w, Aistudio__V1__EdgeMetrics *out);

#endif
