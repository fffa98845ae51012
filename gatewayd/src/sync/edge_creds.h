/*
 * src/sync/edge_creds.h: an edge's credential resolver, behind the
 * credential cache of the hot path (model/credcache.h): a key the memory
 * cache misses is looked up by its SHA-256 (the key itself never leaves
 * the process) in the edge's database (aistudio.edge_cached_credential),
 * then asked of the hub (ValidateCredential, which answers only for apps
 * global or of the edge's namespace); the hub's answer is kept in the
 * database for the TTL (EDGE_TOKEN_CACHE_TTL; a "no such key" for the
 * negative TTL) so it survives a restart while the hub is down. The hub
 * unreachable and the key unknown here: GW_CRED_UNREACHABLE (the proxy
 * answers 503 control_plane_unavailable).
 *
 * Invalidate (from the hub's stream) drops the answers about those keys
 * and apps, or all, from memory and from the database at once; so does a
 * (re)connection to the hub (invalidations may have been missed).
 *
 * Races: an answer the hub gave before an invalidation must not be stored
 * after it, and an answer the database still holds must not be read while
 * an invalidation is forgetting it. The database is read, and the hub's
 * answers stored, under the read side of a rwlock; an invalidation bumps a
 * generation counter and forgets under the write side; a hub's answer is
 * stored only if the generation is the one read before asking. (The memory
 * cache guards itself the same way: model/credcache.h.) When the
 * database cannot be reached to forget, its answers are not used (the hub
 * is asked) until everything there has been forgotten.
 */
#ifndef GW_SYNC_EDGE_CREDS_H
#define GW_SYNC_EDGE_CREDS_H

#include <pthread.h>
#include <stdatomic.h>

#include "db/pgpool.h"
#include "model/credcache.h"
#include "sync/edge_rpc.h"
#include "sync/wire.h"

#define GW_EDGE_VALIDATE_TIMEOUT_MS 3000

typedef struct gw_edge_creds {
    gw_edge_rpc *rpc;
    gw_pgpool *pool; /* the edge's database */
    gw_credcache *mem;
    int ttl_s, negative_ttl_s;
    pthread_rwlock_t lock;
    atomic_uint_fast64_t generation;
    atomic_int forget_pending; /* an invalidation could not reach the database: it is not trusted until done */
    atomic_llong hub_asks, hub_unreachable, db_hits;
} gw_edge_creds;

void gw_edge_creds_init(gw_edge_creds *c, gw_edge_rpc *rpc, gw_pgpool *pool, int ttl_s, int negative_ttl_s);
void gw_edge_creds_destroy(gw_edge_creds *c);
/* The memory cache to invalidate too (set before serving). */
void gw_edge_creds_set_cache(gw_edge_creds *c, gw_credcache *mem);

/* A gw_cred_resolver (ctx: the gw_edge_creds). */
gw_cred_result gw_edge_creds_resolve(void *ctx, const char *key, size_t key_len, gw_credential *out,
                                     char err[GW_ERR_LEN]);
/* The hub's Invalidate. */
void gw_edge_creds_invalidate(gw_edge_creds *c, const Aistudio__V1__Invalidate *inv);

#endif
