/*
 * src/gateway/metrics.h: the gateway's Prometheus metrics (text exposition
 * format 0.0.4), served on the proxy port at /metrics.
 *
 * Owned here: the request counter by LLM and status, the gateway-overhead
 * and upstream-latency histograms and the active-stream gauge. They are
 * updated from the request path without locks (atomic counters; the
 * {llm,status} series live in a fixed open-addressing table whose slots
 * are claimed once with a compare-and-swap). Series whose LLM is not known
 * (unknown slug, no route) are counted under llm="-", so a client cannot
 * create series at will; past GW_METRICS_MAX_SERIES distinct series the
 * rest is counted under llm="other".
 *
 * Rendering also prints values owned elsewhere (analytics, the request
 * journal, credential cache, snapshot, the listeners' connections and the
 * upstream calls at once), passed in by the caller as a gw_metrics_ext.
 */
#ifndef GW_HTTP_METRICS_H
#define GW_HTTP_METRICS_H

#include <stdint.h>

#include "ingest/analytics.h"
#include "base/buf.h"
#include "base/common.h"
#include "model/credcache.h"
#include "ingest/journal.h"
#include "gateway/upstream.h"
#include "http/connguard.h"

#define GW_METRICS_MAX_SERIES 1024
#define GW_METRICS_LABEL_MAX 64

typedef struct gw_metrics gw_metrics;

int gw_metrics_create(gw_metrics **out, char err[GW_ERR_LEN]);
void gw_metrics_destroy(gw_metrics *m);

/*
 * One finished request: llm is the LLM's slug (NULL or "" for none),
 * status the status the client got (499 = went away). overhead_us is the
 * time spent in the gateway itself; upstream_us the time waiting for the
 * upstream (-1 when no upstream call was made).
 */
void gw_metrics_request(gw_metrics *m, const char *llm, int status, int64_t overhead_us, int64_t upstream_us);
/* Streams being relayed now (+1 when one starts, -1 when it ends). */
void gw_metrics_streams_add(gw_metrics *m, int delta);
int64_t gw_metrics_streams_active(gw_metrics *m);
/* Total of the request counter (tests). */
uint64_t gw_metrics_requests_total(gw_metrics *m);

/* Values owned by other modules, sampled at scrape time. */
typedef struct gw_metrics_ext {
    int have_analytics;
    gw_analytics_stats analytics;
    int have_journal;
    gw_journal_stats journal;
    int have_credcache;
    gw_credcache_stats credcache;
    int64_t snapshot_loads;
    int snapshot_loaded;
    int ready;
    int64_t requests_in_flight;
    int nservers; /* the listeners (proxy, admin, docs): connections and workers */
    gw_connguard_stats servers[4];
    int have_upstream;
    gw_upstream_pool_stats upstream;
} gw_metrics_ext;

/* Appends the whole exposition to out; -1 when out overflowed. */
int gw_metrics_render(gw_metrics *m, const gw_metrics_ext *ext, gw_buf *out);

/* The Content-Type of the exposition. */
#define GW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
