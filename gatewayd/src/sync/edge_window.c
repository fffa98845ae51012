/*
 * src/sync/edge_window.c: an edge's heartbeat metrics (see edge_window.h).
 */
#include "sync/edge_window.h"

#include <string.h>

/* Upper bounds of the latency buckets in ms; the last one takes the rest. */
static const int64_t GW_WINDOW_BOUNDS_MS[GW_WINDOW_BUCKETS] = {
    1,    2,    3,    5,     7,     10,    15,    20,    30,     50,     70,     100,    150,    200,    300,   500,
    700,  1000, 1500, 2000,  3000,  5000,  7000,  10000, 15000,  20000,  30000,  60000,  120000, 300000, 600000, INT64_MAX};

void gw_edge_window_init(gw_edge_window *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    w->since_ms = gw_now_ms();
}

void gw_edge_window_destroy(gw_edge_window *w)
{
    pthread_mutex_destroy(&w->mu);
}

void gw_edge_window_add(gw_edge_window *w, int status, int64_t latency_ms, int64_t prompt_tokens,
                        int64_t response_tokens)
{
    int b = 0;
    if (latency_ms < 0)
        latency_ms = 0;
    while (b < GW_WINDOW_BUCKETS - 1 && latency_ms > GW_WINDOW_BOUNDS_MS[b])
        b++;
    pthread_mutex_lock(&w->mu);
    w->requests++;
    if (status >= 400)
        w->errors++;
    if (prompt_tokens > 0)
        w->prompt_tokens += (uint64_t)prompt_tokens;
    if (response_tokens > 0)
        w->response_tokens += (uint64_t)response_tokens;
    w->buckets[b]++;
    pthread_mutex_unlock(&w->mu);
}

void gw_edge_window_record(void *ctx, const gw_event *ev)
{
    gw_edge_window_add(ctx, ev->status_code, ev->latency_ms, ev->prompt_tokens, ev->response_tokens);
}

/* The bound of the bucket holding the q-th fraction of n (n > 0). */
static double gw_window_pct(const uint64_t *buckets, uint64_t n, double q)
{
    uint64_t rank = (uint64_t)(q * (double)n + 0.999999), seen = 0;
    if (rank == 0)
        rank = 1;
    for (int b = 0; b < GW_WINDOW_BUCKETS; b++) {
        seen += buckets[b];
        if (seen >= rank)
            return b == GW_WINDOW_BUCKETS - 1 ? (double)GW_WINDOW_BOUNDS_MS[b - 1] : (double)GW_WINDOW_BOUNDS_MS[b];
    }
    return (double)GW_WINDOW_BOUNDS_MS[GW_WINDOW_BUCKETS - 2];
}

void gw_edge_window_take(gw_edge_window *w, Aistudio__V1__EdgeMetrics *out)
{
    int64_t now = gw_now_ms();
    aistudio__v1__edge_metrics__init(out);
    pthread_mutex_lock(&w->mu);
    out->requests = w->requests;
    out->errors = w->errors;
    out->prompt_tokens = w->prompt_tokens;
    out->response_tokens = w->response_tokens;
    out->since_ms = now > w->since_ms ? (uint64_t)(now - w->since_ms) : 0;
    if (w->requests > 0) {
        out->p50_ms = gw_window_pct(w->buckets, w->requests, 0.50);
        out->p99_ms = gw_window_pct(w->buckets, w->requests, 0.99);
    }
    w->requests = w->errors = w->prompt_tokens = w->response_tokens = 0;
    memset(w->buckets, 0, sizeof(w->buckets));
    w->since_ms = now;
    pthread_mutex_unlock(&w->mu);
}
