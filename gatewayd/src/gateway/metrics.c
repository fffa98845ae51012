/*
 * src/gateway/metrics.c: counters, histograms and the Prometheus text
 * rendering (see metrics.h).
 *
 * Concurrency: every value is an atomic updated with relaxed ordering
 * (a scrape may see a request counted in one series and not yet in a
 * histogram; Prometheus tolerates that). A series slot goes EMPTY → CLAIMED
 * (one writer fills the label) → READY (published with release ordering);
 * readers skip slots that are not READY, writers racing for the same label
 * wait for the claimer to publish (a few instructions).
 */
#include "gateway/metrics.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define GW_SLOT_EMPTY 0
#define GW_SLOT_CLAIMED 1
#define GW_SLOT_READY 2

typedef struct gw_series {
    atomic_int state;
    int status;
    uint64_t hash;
    char llm[GW_METRICS_LABEL_MAX];
    atomic_ullong count;
} gw_series;

/* Upper bounds in microseconds. */
static const int64_t gw_overhead_bounds_us[] = {10,   25,    50,    100,   250,    500,    1000,   2500,
                                                5000, 10000, 25000, 50000, 100000, 250000, 1000000};
static const int64_t gw_upstream_bounds_us[] = {1000,     2500,     5000,     10000,     25000,    50000,
                                                100000,   250000,   500000,   1000000,   2500000,  5000000,
                                                10000000, 30000000, 60000000, 120000000, 300000000};

#define GW_OVERHEAD_NB (sizeof(gw_overhead_bounds_us) / sizeof(gw_overhead_bounds_us[0]))
#define GW_UPSTREAM_NB (sizeof(gw_upstream_bounds_us) / sizeof(gw_upstream_bounds_us[0]))

typedef struct gw_histo {
    const int64_t *bounds;
    size_t nb;
    atomic_ullong buckets[32]; /* non-cumulative; [nb] = +Inf */
    atomic_ullong count;
    atomic_ullong sum_us;
} gw_histo;

struct gw_metrics {
    gw_series series[GW_METRICS_MAX_SERIES];
    gw_series other; /* overflow series, label "other", status 0 = any */
    gw_histo overhead;
    gw_histo upstream;
    atomic_llong streams;
    atomic_ullong total;
};

int gw_metrics_create(gw_metrics **out, char err[GW_ERR_LEN])
{
    gw_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return gw_errf(err, "metrics: out of memory");
    m->overhead.bounds = gw_overhead_bounds_us;
    m->overhead.nb = GW_OVERHEAD_NB;
    m->upstream.bounds = gw_upstream_bounds_us;
    m->upstream.nb = GW_UPSTREAM_NB;
    snprintf(m->other.llm, sizeof(m->other.llm), "other");
    *out = m;
    return 0;
}

void gw_metrics_destroy(gw_metrics *m)
{
    free(m);
}

static uint64_t gw_series_hash(const char *llm, int status)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)llm; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= (uint64_t)(unsigned)status;
    h *= 1099511628211ULL;
    return h;
}

static gw_series *gw_series_get(gw_metrics *m, const char *llm, int status)
{
    uint64_t h = gw_series_hash(llm, status);
    size_t mask = GW_METRICS_MAX_SERIES - 1;

    for (size_t i = 0, idx = (size_t)h & mask; i < GW_METRICS_MAX_SERIES; i++, idx = (idx + 1) & mask) {
        gw_series *s = &m->series[idx];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == GW_SLOT_EMPTY) {
            int expect = GW_SLOT_EMPTY;
            if (atomic_compare_exchange_strong(&s->state, &expect, GW_SLOT_CLAIMED)) {
                s->hash = h;
                s->status = status;
                snprintf(s->llm, sizeof(s->llm), "%s", llm);
                atomic_store_explicit(&s->state, GW_SLOT_READY, memory_order_release);
                return s;
            }
            st = expect;
        }
        while (st == GW_SLOT_CLAIMED) {
            sched_yield();
            st = atomic_load_explicit(&s->state, memory_order_acquire);
        }
        if (s->hash == h && s->status == status && strncmp(s->llm, llm, sizeof(s->llm) - 1) == 0)
            return s;
    }
    return &m->other;
}

static void gw_histo_observe(gw_histo *hg, int64_t us)
{
    size_t b = 0;
    if (us < 0)
        us = 0;
    while (b < hg->nb && us > hg->bounds[b])
        b++;
    atomic_fetch_add_explicit(&hg->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hg->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hg->sum_us, (unsigned long long)us, memory_order_relaxed);
}

void gw_metrics_request(gw_metrics *m, const char *llm, int status, int64_t overhead_us, int64_t upstream_us)
{
    gw_series *s;
    if (m == NULL)
        return;
    if (llm == NULL || llm[0] == '\0')
        llm = "-";
    s = gw_series_get(m, llm, status);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->total, 1, memory_order_relaxed);
    if (overhead_us >= 0)
        gw_histo_observe(&m->overhead, overhead_us);
    if (upstream_us >= 0)
        gw_histo_observe(&m->upstream, upstream_us);
}

void gw_metrics_streams_add(gw_metrics *m, int delta)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->streams, delta, memory_order_relaxed);
}

int64_t gw_metrics_streams_active(gw_metrics *m)
{
    return m != NULL ? atomic_load(&m->streams) : 0;
}

uint64_t gw_metrics_requests_total(gw_metrics *m)
{
    return m != NULL ? atomic_load(&m->total) : 0;
}

/* A label value with \, " and newline escaped. */
static void gw_metrics_label(gw_buf *out, const char *v)
{
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '\\')
            gw_buf_puts(out, "\\\\");
        else if (*p == '"')
            gw_buf_puts(out, "\\\"");
        else if (*p == '\n')
            gw_buf_puts(out, "\\n");
        else
            gw_buf_append(out, p, 1);
    }
}

/* Seconds from microseconds, exactly (no floating point rounding noise). */
static void gw_metrics_seconds(gw_buf *out, int64_t us)
{
    gw_buf_printf(out, "%lld.%06lld", (long long)(us / 1000000), (long long)(us % 1000000));
}

static void gw_metrics_histo(gw_buf *out, const char *name, const char *help, gw_histo *hg)
{
    unsigned long long cum = 0;
    gw_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t b = 0; b <= hg->nb; b++) {
        cum += atomic_load_explicit(&hg->buckets[b], memory_order_relaxed);
        gw_buf_printf(out, "%s_bucket{le=\"", name);
        if (b < hg->nb)
            gw_metrics_seconds(out, hg->bounds[b]);
        else
            gw_buf_puts(out, "+Inf");
        gw_buf_printf(out, "\"} %llu\n", cum);
    }
    gw_buf_printf(out, "%s_sum ", name);
    gw_metrics_seconds(out, (int64_t)atomic_load_explicit(&hg->sum_us, memory_order_relaxed));
    /* the count is the +Inf bucket, so the two always agree */
    gw_buf_printf(out, "\n%s_count %llu\n", name, cum);
}

static void gw_metrics_one(gw_buf *out, const char *name, const char *type, const char *help, long long v)
{
    gw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name, type, name, v);
}

/* One family over the listeners: a line per server (and per label value). */
typedef long long (*gw_metrics_srv_fn)(const gw_connguard_stats *s, int which);

static void gw_metrics_servers(gw_buf *out, const gw_metrics_ext *x, const char *name, const char *type,
                               const char *help, const char *label, const char *const *values, int nvalues,
                               gw_metrics_srv_fn fn)
{
    gw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (int i = 0; i < x->nservers; i++)
        for (int v = 0; v < (nvalues > 0 ? nvalues : 1); v++) {
            gw_buf_printf(out, "%s{server=\"%s\"", name, x->servers[i].name);
            if (nvalues > 0)
                gw_buf_printf(out, ",%s=\"%s\"", label, values[v]);
            gw_buf_printf(out, "} %lld\n", fn(&x->servers[i], v));
        }
}

static long long gw_ms_workers(const gw_connguard_stats *s, int w)
{
    (void)w;
    return s->workers;
}

static long long gw_ms_busy(const gw_connguard_stats *s, int w)
{
    (void)w;
    return s->open < s->workers ? s->open : s->workers;
}

static long long gw_ms_idle(const gw_connguard_stats *s, int w)
{
    (void)w;
    return s->workers - gw_ms_busy(s, 0);
}

static long long gw_ms_conns(const gw_connguard_stats *s, int w)
{
    return w == 0 ? s->queued : w == 1 ? s->head : w == 2 ? s->active : s->keepalive;
}

static long long gw_ms_accepted(const gw_connguard_stats *s, int w)
{
    (void)w;
    return (long long)s->accepted;
}

static long long gw_ms_refused(const gw_connguard_stats *s, int w)
{
    return (long long)(w == 0 ? s->refused_per_address : s->refused_overload);
}

static long long gw_ms_head_timeouts(const gw_connguard_stats *s, int w)
{
    (void)w;
    return (long long)s->head_timeouts;
}

static long long gw_ms_reclaimed(const gw_connguard_stats *s, int w)
{
    return (long long)(w == 0 ? s->reclaimed_keepalive : s->reclaimed_head);
}

static void gw_metrics_listeners(gw_buf *out, const gw_metrics_ext *x)
{
    static const char *const states[] = {"queued", "head", "active", "keepalive"};
    static const char *const reasons[] = {"per_address", "overload"};
    static const char *const reclaimed[] = {"keepalive", "head"};

    if (x->nservers > 0) {
        gw_metrics_servers(out, x, "gatewayd_http_workers", "gauge", "Worker threads of the listener.", NULL, NULL,
                           0, gw_ms_workers);
        gw_metrics_servers(out, x, "gatewayd_http_workers_busy", "gauge",
                           "Workers held by a connection (reading a head, in a request, or idle between keep-alive "
                           "requests).",
                           NULL, NULL, 0, gw_ms_busy);
        gw_metrics_servers(out, x, "gatewayd_http_workers_idle", "gauge", "Workers free for a new connection.", NULL,
                           NULL, 0, gw_ms_idle);
        gw_metrics_servers(out, x, "gatewayd_http_connections", "gauge",
                           "Open connections by state: waiting for a worker (queued), reading the first request "
                           "head (head), in a request (active), idle between keep-alive requests (keepalive).",
                           "state", states, 4, gw_ms_conns);
        gw_metrics_servers(out, x, "gatewayd_http_connections_accepted_total", "counter", "Connections admitted.",
                           NULL, NULL, 0, gw_ms_accepted);
        gw_metrics_servers(out, x, "gatewayd_http_connections_refused_total", "counter",
                           "Connections refused when accepted: over MAX_CONNECTIONS_PER_ADDRESS (429) or with every "
                           "worker held (503).",
                           "reason", reasons, 2, gw_ms_refused);
        gw_metrics_servers(out, x, "gatewayd_http_head_timeouts_total", "counter",
                           "Connections cut because their first request head was not complete within "
                           "REQUEST_HEAD_TIMEOUT_MS.",
                           NULL, NULL, 0, gw_ms_head_timeouts);
        gw_metrics_servers(out, x, "gatewayd_http_connections_reclaimed_total", "counter",
                           "Connections closed to make room for a new one while every worker was held: idle "
                           "keep-alive ones, then slow heads.",
                           "state", reclaimed, 2, gw_ms_reclaimed);
    }
    if (x->have_upstream) {
        gw_metrics_one(out, "gatewayd_upstream_calls", "gauge", "Upstream calls in progress.",
                       (long long)x->upstream.in_use);
        gw_metrics_one(out, "gatewayd_upstream_calls_max", "gauge",
                       "Upstream calls allowed at once (sized from the open-file limit).", (long long)x->upstream.max);
        gw_metrics_one(out, "gatewayd_upstream_handles", "gauge", "curl handles made for upstream calls.",
                       (long long)x->upstream.made);
        gw_metrics_one(out, "gatewayd_upstream_busy_total", "counter",
                       "Requests refused (503 overloaded) because the cap of upstream calls at once was reached.",
                       (long long)x->upstream.busy);
    }
}

int gw_metrics_render(gw_metrics *m, const gw_metrics_ext *x, gw_buf *out)
{
    gw_buf_puts(out, "# HELP gatewayd_requests_total Proxied requests by LLM slug and the status the client got "
                     "(499: the client went away).\n# TYPE gatewayd_requests_total counter\n");
    for (size_t i = 0; i < GW_METRICS_MAX_SERIES; i++) {
        gw_series *s = &m->series[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != GW_SLOT_READY)
            continue;
        gw_buf_puts(out, "gatewayd_requests_total{llm=\"");
        gw_metrics_label(out, s->llm);
        gw_buf_printf(out, "\",status=\"%d\"} %llu\n", s->status,
                      (unsigned long long)atomic_load_explicit(&s->count, memory_order_relaxed));
    }
    if (atomic_load(&m->other.count) > 0)
        gw_buf_printf(out, "gatewayd_requests_total{llm=\"other\",status=\"other\"} %llu\n",
                      (unsigned long long)atomic_load(&m->other.count));

    gw_metrics_histo(out, "gatewayd_overhead_seconds",
                     "Time spent in the gateway itself per request (total minus the wait for the upstream).",
                     &m->overhead);
    gw_metrics_histo(out, "gatewayd_upstream_latency_seconds",
                     "Time from sending the upstream request to its last byte (or the abort).", &m->upstream);
    gw_metrics_one(out, "gatewayd_active_streams", "gauge", "Streaming responses being relayed now.",
                   (long long)atomic_load(&m->streams));
    if (x != NULL) {
        gw_metrics_one(out, "gatewayd_requests_in_flight", "gauge", "Proxy requests being handled now.",
                       (long long)x->requests_in_flight);
        if (x->have_analytics) {
            const gw_analytics_stats *a = &x->analytics;
            gw_metrics_one(out, "gatewayd_analytics_queue_depth", "gauge", "Analytics events waiting in memory.",
                           (long long)a->queue_depth);
            gw_metrics_one(out, "gatewayd_analytics_spool_bytes", "gauge", "Size of the analytics spool file.",
                           (long long)a->spool_bytes);
            gw_metrics_one(out, "gatewayd_analytics_recorded_total", "counter", "Analytics events recorded.",
                           (long long)a->recorded);
            gw_metrics_one(out, "gatewayd_analytics_written_total", "counter",
                           "Analytics events inserted by the database.", (long long)a->written);
            gw_metrics_one(out, "gatewayd_analytics_duplicates_total", "counter",
                           "Analytics events the database already had (replays).", (long long)a->duplicates);
            gw_metrics_one(out, "gatewayd_analytics_rejected_total", "counter",
                           "Analytics events the database refused (kept in aistudio.ingest_rejects).",
                           (long long)a->rejected);
            gw_metrics_one(out, "gatewayd_analytics_spooled_total", "counter", "Analytics events written to the spool.",
                           (long long)a->spooled);
            gw_metrics_one(out, "gatewayd_analytics_replayed_total", "counter",
                           "Analytics events replayed from the spool.", (long long)a->replayed);
            gw_metrics_one(out, "gatewayd_analytics_dropped_total", "counter",
                           "Analytics events lost (queue and spool full).", (long long)a->dropped);
            gw_metrics_one(out, "gatewayd_analytics_batches_total", "counter", "Committed analytics batches.",
                           (long long)a->batches);
            gw_metrics_one(out, "gatewayd_analytics_db_errors_total", "counter", "Failed analytics batch attempts.",
                           (long long)a->db_errors);
        }
        if (x->have_journal) {
            const gw_journal_stats *j = &x->journal;
            gw_metrics_one(out, "gatewayd_journal_slots", "gauge", "Slots of the crash journal (JOURNAL_SLOTS).",
                           (long long)j->slots);
            gw_metrics_one(out, "gatewayd_journal_slots_in_use", "gauge",
                           "Journal slots held by requests in flight and events not yet stored.", (long long)j->in_use);
            gw_metrics_one(out, "gatewayd_journal_not_journaled_total", "counter",
                           "Requests served without a journal slot (all slots were in use).",
                           (long long)j->not_journaled);
            gw_metrics_one(out, "gatewayd_journal_recovered_finished_total", "counter",
                           "Complete events an earlier run left in the journal, recorded at start.",
                           (long long)j->recovered_finished);
            gw_metrics_one(out, "gatewayd_journal_recovered_interrupted_total", "counter",
                           "Requests an earlier run was serving when it stopped, recorded at start as interrupted.",
                           (long long)j->recovered_interrupted);
            gw_metrics_one(out, "gatewayd_journal_recovered_invalid_total", "counter",
                           "Unreadable journal slots skipped at start.", (long long)j->recovered_invalid);
        }
        if (x->have_credcache) {
            const gw_credcache_stats *c = &x->credcache;
            gw_metrics_one(out, "gatewayd_credential_cache_hits_total", "counter", "Credential cache hits.",
                           (long long)c->hits);
            gw_metrics_one(out, "gatewayd_credential_cache_negative_hits_total", "counter",
                           "Lookups answered by a cached unknown key.", (long long)c->negative_hits);
            gw_metrics_one(out, "gatewayd_credential_cache_misses_total", "counter",
                           "Credential cache misses (asked the database).", (long long)c->misses);
            gw_metrics_one(out, "gatewayd_credential_cache_resolver_errors_total", "counter",
                           "Credential lookups that failed (database unreachable).", (long long)c->resolver_errors);
            gw_metrics_one(out, "gatewayd_credential_cache_evictions_total", "counter", "Credential cache evictions.",
                           (long long)c->evictions);
            gw_metrics_one(out, "gatewayd_credential_cache_entries", "gauge", "Credentials cached now.",
                           (long long)c->entries);
        }
        gw_metrics_one(out, "gatewayd_snapshot_loads_total", "counter", "Configuration snapshots loaded.",
                       (long long)x->snapshot_loads);
        gw_metrics_one(out, "gatewayd_snapshot_loaded", "gauge", "1 when a configuration snapshot is loaded.",
                       (long long)x->snapshot_loaded);
        gw_metrics_one(out, "gatewayd_ready", "gauge", "1 when /readyz answers 200.", (long long)x->ready);
        gw_metrics_listeners(out, x);
    }
    return out->failed ? -1 : 0;
}
