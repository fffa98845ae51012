/*
 * src/model/credcache.c: the sharded credential cache (see credcache.h).
 *
 * Bounds: each shard holds at most max_entries / 64 entries. When full, expired
 * entries are swept; a positive answer may then evict a negative one, a
 * negative answer is simply not cached.
 *
 * Locking protocol: 64 shards, chosen by the first byte of the key hash,
 * each with its own mutex guarding its bucket chains and count. No lock is
 * held while the resolver runs. Entries are reference counted (atomic): the
 * table holds one reference, every caller of a hit holds one, so an entry
 * unlinked by expiry or invalidation stays valid for whoever still uses it.
 *
 * Invalidation race: each shard has a generation counter. A lookup records
 * its shard's generation before calling the resolver and inserts its answer
 * only if the generation is unchanged; entries from an older generation
 * count as misses. So a NOTIFY arriving while the database is being asked
 * can never leave a pre-NOTIFY answer in the cache. invalidate_all bumps
 * every shard; invalidating one key (an edge's Invalidate) bumps its shard.
 */
#include "model/credcache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GW_CRED_SHARDS 64
#define GW_CRED_DEFAULT_MAX 100000

struct gw_cred_entry {
    atomic_int refs;
    int negative;
    unsigned char hash[GW_CRED_HASH_LEN];
    int64_t expires_at;
    uint64_t generation;
    gw_credential cred;
    gw_cred_entry *next; /* bucket chain, under the shard lock */
};

typedef struct gw_cred_shard {
    pthread_mutex_t mu;
    atomic_uint_fast64_t generation;
    gw_cred_entry **buckets;
    size_t mask;
    size_t count;
} gw_cred_shard;

struct gw_credcache {
    gw_credcache_opts opts;
    size_t max_per_shard;
    gw_cred_shard shards[GW_CRED_SHARDS];
    atomic_uint_fast64_t hits, negative_hits, misses, resolver_errors, evictions;
};

/* SHA-256 fetched once: OpenSSL 3's SHA256() looks the algorithm up in
 * its provider store (a lock, a name and a property query) on every call,
 * i.e. on every proxied request. Never freed: it lives as long as the
 * process. */
static EVP_MD *gw_cc_sha256;
static pthread_once_t gw_cc_sha256_once = PTHREAD_ONCE_INIT;

static void gw_cc_sha256_fetch(void)
{
    gw_cc_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

void gw_credcache_hash_key(const char *key, size_t key_len, unsigned char out[GW_CRED_HASH_LEN])
{
    pthread_once(&gw_cc_sha256_once, gw_cc_sha256_fetch);
    if (gw_cc_sha256 == NULL || EVP_Digest(key, key_len, out, NULL, gw_cc_sha256, NULL) != 1)
        SHA256((const unsigned char *)key, key_len, out);
}

static int64_t gw_cc_now(const gw_credcache *c)
{
    return c->opts.clock != NULL ? c->opts.clock() : gw_now_ms();
}

static size_t gw_cc_bucket(const gw_cred_shard *sh, const unsigned char *hash)
{
    uint64_t v;
    memcpy(&v, hash + 8, sizeof(v));
    return (size_t)v & sh->mask;
}

static void gw_cc_entry_free(gw_cred_entry *e)
{
    free(e->cred.llm_ids);
    free(e);
}

void gw_credcache_entry_release(gw_cred_entry *e)
{
    if (e != NULL && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        gw_cc_entry_free(e);
}

const gw_credential *gw_cred_entry_get(const gw_cred_entry *e)
{
    return &e->cred;
}

static int gw_cc_cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int gw_credential_allows_llm(const gw_credential *cred, int64_t llm_id)
{
    return cred != NULL && bsearch(&llm_id, cred->llm_ids, cred->n_llm_ids, sizeof(int64_t), gw_cc_cmp_int64) != NULL;
}

int64_t gw_credential_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gw_credential_expired(const gw_credential *cred, int64_t wall_ms)
{
    return cred->key_expires_ms > 0 && wall_ms >= cred->key_expires_ms;
}

int gw_credcache_create(const gw_credcache_opts *opts, gw_credcache **out, char err[GW_ERR_LEN])
{
    gw_credcache *c;
    size_t buckets = 16;

    *out = NULL;
    if (opts->resolver == NULL)
        return gw_errf(err, "credential cache needs a resolver");
    if (opts->ttl_ms <= 0 || opts->negative_ttl_ms < 0)
        return gw_errf(err, "credential cache TTLs must be positive");
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return gw_errf(err, "out of memory");
    c->opts = *opts;
    if (c->opts.max_entries == 0)
        c->opts.max_entries = GW_CRED_DEFAULT_MAX;
    c->max_per_shard = (c->opts.max_entries + GW_CRED_SHARDS - 1) / GW_CRED_SHARDS;
    while (buckets < c->max_per_shard)
        buckets *= 2;
    for (int i = 0; i < GW_CRED_SHARDS; i++) {
        gw_cred_shard *sh = &c->shards[i];
        atomic_init(&sh->generation, 1);
        pthread_mutex_init(&sh->mu, NULL);
        sh->buckets = calloc(buckets, sizeof(gw_cred_entry *));
        sh->mask = buckets - 1;
        if (sh->buckets == NULL) {
            gw_credcache_destroy(c);
            return gw_errf(err, "out of memory");
        }
    }
    *out = c;
    return 0;
}

/* Unlinks every entry of a shard (caller holds the shard lock). */
static void gw_cc_shard_clear(gw_cred_shard *sh)
{
    if (sh->buckets == NULL)
        return;
    for (size_t b = 0; b <= sh->mask; b++) {
        gw_cred_entry *e = sh->buckets[b];
        while (e != NULL) {
            gw_cred_entry *next = e->next;
            gw_credcache_entry_release(e);
            e = next;
        }
        sh->buckets[b] = NULL;
    }
    sh->count = 0;
}

void gw_credcache_destroy(gw_credcache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < GW_CRED_SHARDS; i++) {
        gw_cred_shard *sh = &c->shards[i];
        gw_cc_shard_clear(sh);
        free(sh->buckets);
        pthread_mutex_destroy(&sh->mu);
    }
    free(c);
}

void gw_credcache_invalidate_all(gw_credcache *c)
{
    for (int i = 0; i < GW_CRED_SHARDS; i++) {
        gw_cred_shard *sh = &c->shards[i];
        atomic_fetch_add(&sh->generation, 1);
        pthread_mutex_lock(&sh->mu);
        gw_cc_shard_clear(sh);
        pthread_mutex_unlock(&sh->mu);
    }
}

/* Drops expired or old-generation entries of a shard (lock held). */
static void gw_cc_shard_sweep(gw_credcache *c, gw_cred_shard *sh, int64_t now, uint64_t gen)
{
    for (size_t b = 0; b <= sh->mask; b++) {
        gw_cred_entry **pp = &sh->buckets[b];
        while (*pp != NULL) {
            gw_cred_entry *e = *pp;
            if (e->expires_at <= now || e->generation != gen) {
                *pp = e->next;
                sh->count--;
                atomic_fetch_add(&c->evictions, 1);
                gw_credcache_entry_release(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

/* Evicts one negative entry (lock held); 0 when there was none. A flood
 * of bad keys must not crowd real credentials out of the cache. */
static int gw_cc_evict_negative(gw_credcache *c, gw_cred_shard *sh)
{
    for (size_t b = 0; b <= sh->mask; b++) {
        for (gw_cred_entry **pp = &sh->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
            gw_cred_entry *e = *pp;
            if (e->negative) {
                *pp = e->next;
                sh->count--;
                atomic_fetch_add(&c->evictions, 1);
                gw_credcache_entry_release(e);
                return 1;
            }
        }
    }
    return 0;
}

/* Finds the entry for hash; unlinks it when stale (lock held). */
static gw_cred_entry *gw_cc_find(gw_credcache *c, gw_cred_shard *sh, const unsigned char *hash, int64_t now,
                                 uint64_t gen)
{
    gw_cred_entry **pp = &sh->buckets[gw_cc_bucket(sh, hash)];
    while (*pp != NULL) {
        gw_cred_entry *e = *pp;
        if (CRYPTO_memcmp(e->hash, hash, GW_CRED_HASH_LEN) == 0) {
            if (e->expires_at > now && e->generation == gen)
                return e;
            *pp = e->next;
            sh->count--;
            atomic_fetch_add(&c->evictions, 1);
            gw_credcache_entry_release(e);
            return NULL;
        }
        pp = &e->next;
    }
    return NULL;
}

/* Unlinks the entry for hash, if any (lock held). */
static void gw_cc_unlink(gw_credcache *c, gw_cred_shard *sh, const unsigned char *hash)
{
    gw_cred_entry **pp = &sh->buckets[gw_cc_bucket(sh, hash)];
    while (*pp != NULL) {
        gw_cred_entry *e = *pp;
        if (CRYPTO_memcmp(e->hash, hash, GW_CRED_HASH_LEN) == 0) {
            *pp = e->next;
            sh->count--;
            atomic_fetch_add(&c->evictions, 1);
            gw_credcache_entry_release(e);
            return;
        }
        pp = &e->next;
    }
}

void gw_credcache_invalidate_hash(gw_credcache *c, const unsigned char hash[GW_CRED_HASH_LEN])
{
    gw_cred_shard *sh = &c->shards[hash[0] % GW_CRED_SHARDS];
    atomic_fetch_add(&sh->generation, 1);
    pthread_mutex_lock(&sh->mu);
    gw_cc_unlink(c, sh, hash);
    pthread_mutex_unlock(&sh->mu);
}

gw_cred_result gw_credcache_lookup(gw_credcache *c, const char *key, size_t key_len, gw_cred_entry **entry,
                                   char err[GW_ERR_LEN])
{
    unsigned char hash[GW_CRED_HASH_LEN];
    gw_cred_shard *sh;
    gw_cred_entry *e, *fresh;
    gw_credential cred;
    gw_cred_result r;
    uint64_t gen;
    int64_t now;
    int linked = 0;

    *entry = NULL;
    if (key == NULL || key_len == 0 || key_len > GW_CRED_KEY_MAX)
        return GW_CRED_NOT_FOUND;
    gw_credcache_hash_key(key, key_len, hash);
    sh = &c->shards[hash[0] % GW_CRED_SHARDS];

    now = gw_cc_now(c);
    gen = atomic_load(&sh->generation);
    pthread_mutex_lock(&sh->mu);
    e = gw_cc_find(c, sh, hash, now, gen);
    if (e != NULL) {
        if (e->negative) {
            pthread_mutex_unlock(&sh->mu);
            atomic_fetch_add(&c->negative_hits, 1);
            return GW_CRED_NOT_FOUND;
        }
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        pthread_mutex_unlock(&sh->mu);
        atomic_fetch_add(&c->hits, 1);
        *entry = e;
        return GW_CRED_FOUND;
    }
    pthread_mutex_unlock(&sh->mu);

    /* Miss: ask the source of truth without holding a lock. */
    atomic_fetch_add(&c->misses, 1);
    memset(&cred, 0, sizeof(cred));
    r = c->opts.resolver(c->opts.resolver_ctx, key, key_len, &cred, err);
    if (r == GW_CRED_ERROR || r == GW_CRED_UNREACHABLE) {
        free(cred.llm_ids);
        atomic_fetch_add(&c->resolver_errors, 1);
        return r;
    }
    if (r != GW_CRED_FOUND) {
        free(cred.llm_ids);
        memset(&cred, 0, sizeof(cred));
        if (c->opts.negative_ttl_ms == 0)
            return GW_CRED_NOT_FOUND;
    }

    fresh = calloc(1, sizeof(*fresh));
    if (fresh == NULL) {
        free(cred.llm_ids);
        gw_errf(err, "out of memory");
        return GW_CRED_ERROR;
    }
    fresh->cred = cred;
    if (fresh->cred.n_llm_ids > 1)
        qsort(fresh->cred.llm_ids, fresh->cred.n_llm_ids, sizeof(int64_t), gw_cc_cmp_int64);
    fresh->negative = r != GW_CRED_FOUND;
    memcpy(fresh->hash, hash, GW_CRED_HASH_LEN);
    fresh->generation = gen;
    now = gw_cc_now(c);
    fresh->expires_at = now + (fresh->negative ? c->opts.negative_ttl_ms : c->opts.ttl_ms);
    atomic_init(&fresh->refs, fresh->negative ? 1 : 2); /* the table's + the caller's */

    pthread_mutex_lock(&sh->mu);
    if (atomic_load(&sh->generation) == gen) {
        /* Replace a concurrent insert for the same key, keep the shard
         * bounded, then link. */
        gw_cc_unlink(c, sh, hash);
        if (sh->count >= c->max_per_shard)
            gw_cc_shard_sweep(c, sh, now, gen);
        if (sh->count >= c->max_per_shard && !fresh->negative)
            gw_cc_evict_negative(c, sh);
        if (sh->count < c->max_per_shard) {
            size_t b = gw_cc_bucket(sh, hash);
            fresh->next = sh->buckets[b];
            sh->buckets[b] = fresh;
            sh->count++;
            linked = 1;
        }
    }
    pthread_mutex_unlock(&sh->mu);

    if (r == GW_CRED_FOUND) {
        if (!linked) /* only the caller's reference */
            atomic_store(&fresh->refs, 1);
        *entry = fresh;
    } else if (!linked) {
        gw_cc_entry_free(fresh);
    }
    return r;
}

void gw_credcache_stats_get(gw_credcache *c, gw_credcache_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->hits = atomic_load(&c->hits);
    st->negative_hits = atomic_load(&c->negative_hits);
    st->misses = atomic_load(&c->misses);
    st->resolver_errors = atomic_load(&c->resolver_errors);
    st->evictions = atomic_load(&c->evictions);
    for (int i = 0; i < GW_CRED_SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].mu);
        st->entries += c->shards[i].count;
        pthread_mutex_unlock(&c->shards[i].mu);
    }
}
