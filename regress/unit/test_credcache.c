/*
 * regress/unit/test_credcache.c: the credential cache — hits and misses,
 * TTL expiry, negative caching, resolver errors not cached, invalidate-all
 * (also racing a resolver call), bounded size, the raw key never stored,
 * entries outliving invalidation, concurrent lookups; and the parsing of
 * aistudio.resolve_credential rows.
 */
#include "base/codec.c"
#include "model/credcache.c"
#include "base/money.c"
#include "model/credresolve.c"
#include "base/log.c"
#include "db/pgpool.c"

#include "tap.h"

static int64_t fake_now = 1000000;
static int64_t fake_clock(void)
{
    return fake_now;
}

typedef struct resolver_state {
    atomic_int calls;
    int fail;                   /* return GW_CRED_ERROR */
    int unreachable;            /* return GW_CRED_UNREACHABLE */
    gw_credcache *invalidate_during; /* call invalidate_all inside the resolver */
} resolver_state;

/* Knows two keys: "key-alpha" (app 1) and "key-beta" (app 2). */
static gw_cred_result fake_resolver(void *ctx, const char *key, size_t key_len, gw_credential *out, char *err)
{
    resolver_state *st = ctx;
    atomic_fetch_add(&st->calls, 1);
    if (st->invalidate_during != NULL)
        gw_credcache_invalidate_all(st->invalidate_during);
    if (st->fail) {
        gw_errf(err, "database unreachable");
        return GW_CRED_ERROR;
    }
    if (st->unreachable) {
        gw_errf(err, "hub unreachable");
        return GW_CRED_UNREACHABLE;
    }
    if (key_len == 9 && memcmp(key, "key-alpha", 9) == 0) {
        out->app_id = 1;
        out->owner_id = 10;
        out->app_active = 1;
        out->owner_active = 1;
        snprintf(out->app_name, sizeof(out->app_name), "alpha");
        out->llm_ids = malloc(3 * sizeof(int64_t));
        out->llm_ids[0] = 30;
        out->llm_ids[1] = 10;
        out->llm_ids[2] = 20;
        out->n_llm_ids = 3;
        return GW_CRED_FOUND;
    }
    if (key_len == 8 && memcmp(key, "key-beta", 8) == 0) {
        out->app_id = 2;
        return GW_CRED_FOUND;
    }
    return GW_CRED_NOT_FOUND;
}

static gw_credcache *make_cache(resolver_state *st, int ttl, int neg, size_t max)
{
    gw_credcache_opts o = {0};
    gw_credcache *c;
    char err[GW_ERR_LEN];
    o.ttl_ms = ttl;
    o.negative_ttl_ms = neg;
    o.max_entries = max;
    o.resolver = fake_resolver;
    o.resolver_ctx = st;
    o.clock = fake_clock;
    if (gw_credcache_create(&o, &c, err) != 0)
        return NULL;
    return c;
}

static gw_cred_result lookup(gw_credcache *c, const char *key, gw_cred_entry **e)
{
    char err[GW_ERR_LEN];
    return gw_credcache_lookup(c, key, strlen(key), e, err);
}

static gw_credcache *shared;
static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        gw_cred_entry *e;
        gw_cred_result r = lookup(shared, (i & 1) ? "key-alpha" : "key-nope", &e);
        if (r == GW_CRED_FOUND) {
            if (gw_cred_entry_get(e)->app_id != 1)
                abort();
            gw_credcache_entry_release(e);
        }
        if (i % 97 == 0)
            gw_credcache_invalidate_all(shared);
    }
    return NULL;
}

int main(void)
{
    resolver_state st = {0};
    gw_credcache *c;
    gw_cred_entry *e;
    gw_credcache_stats stats;
    char err[GW_ERR_LEN];

    c = make_cache(&st, 60000, 5000, 0);
    ok(c != NULL, "cache created");

    /* miss then hit */
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND, "first lookup finds the key");
    is_int(atomic_load(&st.calls), 1, "resolver called on the miss");
    ok(gw_cred_entry_get(e)->app_id == 1 && strcmp(gw_cred_entry_get(e)->app_name, "alpha") == 0,
       "entry carries the app");
    ok(gw_cred_entry_get(e)->llm_ids[0] == 10 && gw_cred_entry_get(e)->llm_ids[2] == 30, "llm ids sorted");
    ok(gw_credential_allows_llm(gw_cred_entry_get(e), 20) && !gw_credential_allows_llm(gw_cred_entry_get(e), 25),
       "llm membership");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND, "second lookup finds it");
    is_int(atomic_load(&st.calls), 1, "second lookup is a hit (no resolver call)");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-beta", &e) == GW_CRED_FOUND && gw_cred_entry_get(e)->app_id == 2, "another key, another app");
    gw_credcache_entry_release(e);
    is_int(atomic_load(&st.calls), 2, "one resolver call per distinct key");

    /* the raw key is never stored */
    {
        unsigned char h[32];
        gw_cred_entry *found = NULL;
        gw_credcache_hash_key("key-alpha", 9, h);
        gw_cred_shard *sh = &c->shards[h[0] % GW_CRED_SHARDS];
        for (gw_cred_entry *x = sh->buckets[gw_cc_bucket(sh, h)]; x != NULL; x = x->next)
            if (memcmp(x->hash, h, 32) == 0)
                found = x;
        ok(found != NULL, "entry indexed by SHA-256 of the key");
        ok(found != NULL && memmem(found, sizeof(*found), "key-alpha", 9) == NULL, "entry bytes hold no raw key");
    }

    /* TTL */
    fake_now += 59999;
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 2, "still cached before the TTL");
    gw_credcache_entry_release(e);
    fake_now += 2;
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 3, "expired: resolver asked again");
    gw_credcache_entry_release(e);

    /* negative caching */
    atomic_store(&st.calls, 0);
    ok(lookup(c, "key-unknown", &e) == GW_CRED_NOT_FOUND && e == NULL, "unknown key -> NOT_FOUND");
    ok(lookup(c, "key-unknown", &e) == GW_CRED_NOT_FOUND && atomic_load(&st.calls) == 1,
       "unknown key remembered (negative cache)");
    fake_now += 5001;
    ok(lookup(c, "key-unknown", &e) == GW_CRED_NOT_FOUND && atomic_load(&st.calls) == 2,
       "negative entry expires after its TTL");
    ok(lookup(c, "", &e) == GW_CRED_NOT_FOUND && atomic_load(&st.calls) == 2, "empty key: no resolver call");
    {
        char big[GW_CRED_KEY_MAX + 2];
        memset(big, 'k', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ok(lookup(c, big, &e) == GW_CRED_NOT_FOUND && atomic_load(&st.calls) == 2, "overlong key: no resolver call");
    }

    /* resolver errors are not cached */
    atomic_store(&st.calls, 0);
    st.fail = 1;
    ok(gw_credcache_lookup(c, "key-gamma", 9, &e, err) == GW_CRED_ERROR, "resolver error -> ERROR");
    has_str(err, "unreachable", "error message passed through");
    ok(gw_credcache_lookup(c, "key-gamma", 9, &e, err) == GW_CRED_ERROR && atomic_load(&st.calls) == 2,
       "error not cached: asked again");
    st.fail = 0;
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 2,
       "cached entries keep serving while the resolver fails");

    /* invalidate-all, with an entry still held */
    gw_credcache_invalidate_all(c);
    ok(gw_cred_entry_get(e)->app_id == 1, "entry held across invalidate_all stays valid");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 3, "after invalidate: resolver asked");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-unknown", &e) == GW_CRED_NOT_FOUND && atomic_load(&st.calls) == 4,
       "after invalidate: negative entries dropped too");

    /* invalidation racing the resolver: the stale answer is not cached */
    st.invalidate_during = c;
    ok(lookup(c, "key-beta", &e) == GW_CRED_FOUND, "lookup during invalidation still answers");
    gw_credcache_entry_release(e);
    st.invalidate_during = NULL;
    atomic_store(&st.calls, 0);
    ok(lookup(c, "key-beta", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 1,
       "answer fetched before an invalidation was not cached");
    gw_credcache_entry_release(e);

    /* one key invalidated (an edge's Invalidate): that key is asked again,
     * the others stay cached */
    atomic_store(&st.calls, 0);
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 1, "alpha cached again");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-beta", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 1, "beta cached");
    gw_credcache_entry_release(e);
    {
        unsigned char h[GW_CRED_HASH_LEN];
        gw_credcache_hash_key("key-alpha", 9, h);
        gw_credcache_invalidate_hash(c, h);
    }
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 2, "invalidated key: asked again");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 2, "and cached again");
    gw_credcache_entry_release(e);

    /* a source that cannot be reached (an edge whose hub is down) is not cached */
    st.unreachable = 1;
    ok(gw_credcache_lookup(c, "key-delta", 9, &e, err) == GW_CRED_UNREACHABLE, "unreachable passed through");
    ok(gw_credcache_lookup(c, "key-delta", 9, &e, err) == GW_CRED_UNREACHABLE && atomic_load(&st.calls) == 4,
       "unreachable not cached: asked again");
    st.unreachable = 0;

    gw_credcache_stats_get(c, &stats);
    ok(stats.hits > 0 && stats.misses > 0 && stats.negative_hits > 0 && stats.resolver_errors == 4, "stats counted");
    gw_credcache_destroy(c);

    /* negative caching off */
    memset(&st, 0, sizeof(st));
    c = make_cache(&st, 1000, 0, 0);
    lookup(c, "key-unknown", &e);
    lookup(c, "key-unknown", &e);
    is_int(atomic_load(&st.calls), 2, "negative TTL 0: unknown keys always asked");
    gw_credcache_destroy(c);

    /* bounded size */
    memset(&st, 0, sizeof(st));
    c = make_cache(&st, 60000, 60000, 64);
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof(k), "random-key-%d", i);
        lookup(c, k, &e);
    }
    gw_credcache_stats_get(c, &stats);
    ok(stats.entries <= 64, "5000 distinct bad keys keep the cache bounded (%zu entries)", stats.entries);
    atomic_store(&st.calls, 0);
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND, "a cache full of negatives still answers");
    gw_credcache_entry_release(e);
    ok(lookup(c, "key-alpha", &e) == GW_CRED_FOUND && atomic_load(&st.calls) == 1,
       "a real credential evicts a negative entry and stays cached");
    gw_credcache_entry_release(e);
    gw_credcache_destroy(c);

    /* concurrency */
    memset(&st, 0, sizeof(st));
    shared = make_cache(&st, 60000, 5000, 0);
    {
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, hammer, NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        ok(1, "4 threads x 2000 lookups with invalidations: no crash, no leak");
    }
    gw_credcache_destroy(shared);

    /* ---- resolve_credential rows ---- */
    {
        gw_credential cr;
        const char *row[GW_CREDRESOLVE_NCOLS] = {"5",      "7",       "my app",     "42",           "t", "f",
                                                 "team-a", "{3,1,2}", "100.50", "2026-01-15", NULL};
        int64_t *arr;
        size_t n;
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_FOUND, "row parses");
        ok(cr.credential_id == 5 && cr.app_id == 7 && cr.owner_id == 42 && cr.app_active && !cr.owner_active,
           "ids and flags");
        ok(strcmp(cr.app_name, "my app") == 0 && strcmp(cr.namespace_, "team-a") == 0 &&
               strcmp(cr.monthly_budget, "100.50") == 0,
           "names and budget");
        ok(cr.monthly_budget_nanos == 100500000000LL && strcmp(cr.budget_start_date, "2026-01-15") == 0,
           "the budget in exact 10^-9 units and its start date");
        ok(cr.n_llm_ids == 3 && cr.llm_ids[0] == 3, "llm ids array");
        free(cr.llm_ids);
        row[1] = NULL;
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_NOT_FOUND, "NULL app_id -> NOT_FOUND");
        row[1] = "x7";
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_ERROR, "bad app_id -> ERROR");
        row[1] = "7";
        row[7] = "{1,two}";
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_ERROR && cr.llm_ids == NULL, "bad array -> ERROR");
        row[7] = NULL;
        row[8] = NULL;
        row[9] = NULL;
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_FOUND && cr.n_llm_ids == 0 && cr.monthly_budget[0] == 0 &&
               cr.monthly_budget_nanos == 0 && cr.budget_start_date[0] == 0,
           "NULL llm_ids and budget -> none");
        ok(cr.key_expires_ms == 0 && !gw_credential_expired(&cr, gw_credential_wall_ms()),
           "no expires_at: the key never expires");
        row[10] = "1767225600000"; /* 2026-01-01T00:00:00Z */
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_FOUND && cr.key_expires_ms == 1767225600000LL,
           "expires_at in ms since the epoch");
        ok(!gw_credential_expired(&cr, 1767225599999LL) && gw_credential_expired(&cr, 1767225600000LL) &&
               gw_credential_expired(&cr, 1767225600001LL),
           "refused from its expiry on, not a millisecond before");
        row[10] = "soon";
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_ERROR && cr.llm_ids == NULL, "bad expires_at -> ERROR");
        row[10] = "0";
        ok(gw_credresolve_parse_row(row, &cr, err) == GW_CRED_ERROR, "expires_at 0 (the epoch) -> ERROR");
        row[10] = NULL;
        ok(gw_credential_wall_ms() > 1767225600000LL - 86400000LL * 365 * 2, "the wall clock, not the monotonic one");
        ok(gw_parse_int64_array("{}", &arr, &n, err) == 0 && n == 0, "empty array");
        free(arr);
        ok(gw_parse_int64_array("{-1,9223372036854775807}", &arr, &n, err) == 0 && n == 2 && arr[1] == INT64_MAX,
           "bigint bounds");
        free(arr);
        ok(gw_parse_int64_array("1,2", &arr, &n, err) != 0, "not an array literal");
        ok(gw_parse_int64_array("{1,}", &arr, &n, err) != 0, "trailing comma");
        ok(gw_parse_int64_array("{99999999999999999999}", &arr, &n, err) != 0, "out of range");
    }
    return tap_done();
}
