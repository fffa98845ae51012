/*
 * src/sync/edge.h: an edge (GATEWAY_MODE=edge) and its hub. The edge
 * serves the proxy from the last snapshot its hub sent, kept in its own
 * database (model/reload.h, stored = 1): at start, before the hub answers,
 * and across its own restarts while the hub is down. This module is its
 * link to the hub:
 *
 *  - RegisterEdge, then the Connect stream; a lost stream is opened again
 *    after a backoff (GW_EDGE_BACKOFF_MIN_MS doubling to
 *    GW_EDGE_BACKOFF_MAX_MS, reset once the hub answers on the new one);
 *    after a refusal (a wrong or revoked token) GW_EDGE_REFUSED_RETRY_MS.
 *  - A heartbeat every EDGE_HEARTBEAT_INTERVAL seconds with the checksum
 *    it serves, its version and what it served since the previous one
 *    (sync/edge_window.h).
 *  - Reload (a push): PULLING; PullSnapshot; the bytes decoded and their
 *    vendor keys opened with the edge's key (nothing swapped yet);
 *    aistudio.edge_store_snapshot verifies the checksum the hub announced
 *    and stores it in one transaction (nothing applied half-way); then the
 *    swap in memory; APPLIED with the new checksum and a heartbeat at once,
 *    or FAILED with the reason. An edge that serves nothing pulls when it
 *    registers; otherwise configuration changes wait for an admin's push.
 *  - Invalidate: cached credentials (sync/edge_creds.h) and app leases
 *    (sync/edge_lease.h). A (re)connection forgets every cached
 *    credential (invalidations may have been missed) and renews leases.
 *  - Analytics upload (sync/edge_upload.h), woken when the hub returns.
 *
 * Threads: the link thread (ours) does the calls and the database work;
 * the stream's callbacks (the rpc client's event thread) only unpack and
 * queue (e->mu); the uploader and the lease manager have their own.
 */
#ifndef GW_SYNC_EDGE_H
#define GW_SYNC_EDGE_H

#include "base/common.h"
#include "db/pgpool.h"
#include "ingest/analytics.h"
#include "model/budget.h"
#include "model/credcache.h"
#include "model/reload.h"

#define GW_EDGE_BACKOFF_MIN_MS 250
#define GW_EDGE_BACKOFF_MAX_MS 5000
#define GW_EDGE_REFUSED_RETRY_MS 30000 /* after UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED */
#define GW_EDGE_REGISTER_TIMEOUT_MS 5000
#define GW_EDGE_PULL_TIMEOUT_MS 30000

typedef struct gw_edge_opts {
    const char *endpoint;    /* CONTROL_ENDPOINT */
    const char *edge_id;     /* EDGE_ID */
    const char *ns;          /* EDGE_NAMESPACE */
    const char *token;       /* EDGE_TOKEN or GRPC_AUTH_TOKEN */
    const char *tls_ca_file; /* GRPC_TLS_CA_FILE ("" : plaintext) */
    int heartbeat_s;         /* EDGE_HEARTBEAT_INTERVAL */
    int cred_ttl_s;          /* EDGE_TOKEN_CACHE_TTL */
    int cred_negative_ttl_s; /* CREDENTIAL_NEGATIVE_TTL_S */
    gw_pgpool *pool;             /* the edge's own database */
    gw_snapshot_loader *loader;  /* stored = 1, key = the edge key */
} gw_edge_opts;

typedef struct gw_edge gw_edge;

/* Creates the client and the parts (no thread yet); the strings of opts
 * must outlive the edge. */
int gw_edge_create(const gw_edge_opts *opts, gw_edge **out, char err[GW_ERR_LEN]);
/* The credential cache's resolver (ctx: the edge). */
gw_cred_result gw_edge_resolve_credential(void *ctx, const char *key, size_t key_len, gw_credential *out,
                                          char err[GW_ERR_LEN]);
/* The analytics writer's on_record tap (ctx: the edge). */
void gw_edge_record(void *ctx, const gw_event *ev);
/* The budget's source (ctx: the edge): leases. */
int gw_edge_budget_source(void *ctx, int kind, int64_t id, gw_money configured, char period_end[GW_BUDGET_DATE_LEN],
                          gw_money *spent, gw_money *limit, char err[GW_ERR_LEN]);
/* Starts the link, the uploader and the lease manager. */
int gw_edge_start(gw_edge *e, gw_credcache *creds, gw_budget *budget, char err[GW_ERR_LEN]);
/* Stops the threads (leases given back when the hub answers), closes the
 * stream; then frees everything. */
void gw_edge_destroy(gw_edge *e);

#endif
