/*
 * src/sync/edge_lease.h: an edge's budget leases. Edges learn about one
 * another's spend only through the hub; so that N edges never overspend an
 * app's or LLM's budget together, each holds a lease, a part of it the hub
 * grants (aistudio.edge_lease: sizing and the invariant are the
 * extension's), and the edge's budget admission (model/budget.h) reserves
 * against it exactly as a standalone gateway reserves against the budget:
 * this module is its source (gw_edge_leases_source): the limit is the
 * grant, the spend the edge's own (aistudio.edge_local_spend).
 *
 *  - First use of a subject (on the request that needs it, once, like a
 *    standalone gateway's first read of the spend): the lease stored in
 *    the edge's database (aistudio.edge_stored_leases, kept across a
 *    restart), else ACQUIRE from the hub. The hub down and no lease held:
 *    the request gets 503 budget_unavailable.
 *  - Renewal ahead of need, never on the request path: a thread checks
 *    every GW_LEASE_TICK_MS what each subject uses (gw_budget_usage_get)
 *    and asks for more headroom (RENEW, GW_LEASE_WANT_DIV of the budget)
 *    when less than half of the headroom of its last grant is left, when
 *    an admission was refused, or when the hub invalidated the app. Every
 *    grant is stored in the edge's database (edge_store_lease) before it
 *    is used.
 *  - With the hub down the edge spends only what it holds.
 *  - At a clean stop the unused part is RETURNed (the grant cut to what
 *    the edge spent), so other edges may have it.
 *
 * Locking: l->mu guards the leases; no database or hub call runs under it.
 */
#ifndef GW_SYNC_EDGE_LEASE_H
#define GW_SYNC_EDGE_LEASE_H

#include <pthread.h>
#include <stdatomic.h>

#include "db/pgpool.h"
#include "model/budget.h"
#include "sync/edge_rpc.h"

#define GW_LEASE_TICK_MS 250
#define GW_LEASE_WANT_DIV 4 /* headroom asked: a quarter of the budget */
#define GW_LEASE_TIMEOUT_MS 3000
#define GW_LEASE_RETRY_MS 1000

typedef struct gw_edge_lease {
    int kind; /* GW_BUDGET_APP or GW_BUDGET_LLM */
    int64_t id;
    char period_start[GW_BUDGET_DATE_LEN];
    char period_end[GW_BUDGET_DATE_LEN];
    int has_budget;          /* 0: the hub says there is no budget */
    int64_t granted;         /* 10^-9 units: the edge's allowance for the period */
    int64_t headroom_at_grant;
    int renew;               /* asked for (the app changed on the hub) */
    int64_t next_try_ms;
} gw_edge_lease;

typedef struct gw_edge_leases {
    gw_edge_rpc *rpc;
    gw_pgpool *pool;
    gw_budget *budget;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_edge_lease *items;
    size_t n, cap;
    int stored_loaded;
    int stop, running;
    pthread_t thread;
    void (*today)(char out[GW_BUDGET_DATE_LEN]); /* UTC */
    atomic_llong acquires, renewals, returns, failures;
} gw_edge_leases;

void gw_edge_leases_init(gw_edge_leases *l, gw_edge_rpc *rpc, gw_pgpool *pool);
/* Starts the renewal thread over budget. */
int gw_edge_leases_start(gw_edge_leases *l, gw_budget *budget, char err[GW_ERR_LEN]);
/* Stops it; give_back: RETURN what is unused first (a clean stop). */
void gw_edge_leases_stop(gw_edge_leases *l, int give_back);
void gw_edge_leases_destroy(gw_edge_leases *l);

/* gw_budget_source_fn (ctx: the gw_edge_leases). */
int gw_edge_leases_source(void *ctx, int kind, int64_t id, gw_money configured, char period_end[GW_BUDGET_DATE_LEN],
                          gw_money *spent, gw_money *limit, char err[GW_ERR_LEN]);
/* The hub changed these apps (or all): their leases are renewed soon. */
void gw_edge_leases_renew_apps(gw_edge_leases *l, const int64_t *ids, size_t n, int all);

#endif
