/*
 * src/model/credcache.h: the credential cache of the hot path. A presented
 * API key is hashed with SHA-256 at once; only the hash is used as the
 * lookup key and stored, never the key itself. Entries carry what
 * aistudio.resolve_credential returns (app, owner, active flags, namespace,
 * llm ids, budget, the key's own expiry) and expire after a TTL; unknown keys are remembered
 * briefly (negative caching) so a client hammering with a bad key does not
 * reach the database each time. invalidate_all (on NOTIFY aistudio_config)
 * drops everything, including lookups racing with it.
 *
 * A miss calls the resolver callback (the proxy's calls
 * aistudio.resolve_credential($1) through the pool; an edge asks its local
 * cache, then its hub: sync/edge_creds.h). Resolver errors (database down,
 * hub unreachable) are not cached.
 */
#ifndef GW_CREDCACHE_H
#define GW_CREDCACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_CRED_HASH_LEN 32
#define GW_CRED_NAME_MAX 128
#define GW_CRED_KEY_MAX 1024 /* longer presented keys are rejected unhashed */

/* What a credential resolves to. Immutable once cached. */
typedef struct gw_credential {
    int64_t credential_id;
    int64_t app_id;
    int64_t owner_id;
    int app_active;
    int owner_active;
    char app_name[GW_CRED_NAME_MAX];
    char namespace_[64];
    char monthly_budget[48]; /* exact decimal, "" = none */
    int64_t monthly_budget_nanos;  /* the same in 10^-9 units (at most 9 decimals: the extension's rule) */
    char budget_start_date[11];    /* YYYY-MM-DD, "" = the 1st */
    int64_t key_expires_ms;        /* the key's expires_at in ms since the epoch, 0 = never: from then on the
                                      gateway refuses it (401 api_key_expired), cached or not */
    int64_t *llm_ids;        /* sorted ascending; owned by the entry */
    size_t n_llm_ids;
} gw_credential;

/* A cached entry handed to a caller; hold it while using cred, then
 * gw_credcache_entry_release(). */
typedef struct gw_cred_entry gw_cred_entry;

typedef enum gw_cred_result {
    GW_CRED_FOUND = 0,     /* *entry is set */
    GW_CRED_NOT_FOUND = 1, /* no such credential (maybe cached negative) */
    GW_CRED_ERROR = -1,    /* resolver failed; err says why */
    GW_CRED_UNREACHABLE = -2 /* the source of truth cannot be reached (an edge whose hub is down) */
} gw_cred_result;

/*
 * Resolver: looks the raw key up at the source of truth. Returns
 * GW_CRED_FOUND and fills *out (llm_ids malloc'd, the cache takes them over),
 * GW_CRED_NOT_FOUND, or GW_CRED_ERROR / GW_CRED_UNREACHABLE with err. Called without any cache
 * lock held; may block.
 */
typedef gw_cred_result (*gw_cred_resolver)(void *ctx, const char *key, size_t key_len, gw_credential *out,
                                           char err[GW_ERR_LEN]);

typedef int64_t (*gw_clock_fn)(void);

typedef struct gw_credcache_opts {
    int ttl_ms;          /* positive entries */
    int negative_ttl_ms; /* unknown keys; 0 disables negative caching */
    size_t max_entries;  /* across all shards; 0 = 100000 */
    gw_cred_resolver resolver;
    void *resolver_ctx;
    gw_clock_fn clock; /* NULL = gw_now_ms; tests inject a fake clock */
} gw_credcache_opts;

typedef struct gw_credcache gw_credcache;

int gw_credcache_create(const gw_credcache_opts *opts, gw_credcache **out, char err[GW_ERR_LEN]);
void gw_credcache_destroy(gw_credcache *c);

/*
 * Looks up a presented key: a hit returns the cached entry; a miss (or an
 * expired entry) calls the resolver and caches its answer.
 */
gw_cred_result gw_credcache_lookup(gw_credcache *c, const char *key, size_t key_len, gw_cred_entry **entry,
                                   char err[GW_ERR_LEN]);

const gw_credential *gw_cred_entry_get(const gw_cred_entry *e);
void gw_credcache_entry_release(gw_cred_entry *e);

/* 1 when cred lists llm_id. */
int gw_credential_allows_llm(const gw_credential *cred, int64_t llm_id);

/* Milliseconds since the epoch (the wall clock that key expiries are in). */
int64_t gw_credential_wall_ms(void);
/* 1 when the key has an expiry and wall_ms (ms since the epoch) is at or
 * after it: a cached entry is refused from that moment, whatever its TTL. */
int gw_credential_expired(const gw_credential *cred, int64_t wall_ms);

/* Drops every entry; lookups in flight will not cache stale answers. */
void gw_credcache_invalidate_all(gw_credcache *c);
/* Drops the entry of one key hash (SHA-256 of the key), with the same
 * guarantee for lookups of keys of its shard. */
void gw_credcache_invalidate_hash(gw_credcache *c, const unsigned char hash[GW_CRED_HASH_LEN]);

/* Counters for /metrics and tests. */
typedef struct gw_credcache_stats {
    uint64_t hits, negative_hits, misses, resolver_errors, evictions;
    size_t entries;
} gw_credcache_stats;
void gw_credcache_stats_get(gw_credcache *c, gw_credcache_stats *st);

/* SHA-256 of a presented key (the cache key; also usable for logging a
 * key fingerprint: never log the key itself). */
void gw_credcache_hash_key(const char *key, size_t key_len, unsigned char out[GW_CRED_HASH_LEN]);

#endif
