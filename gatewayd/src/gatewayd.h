/*
 * src/gatewayd.h: gw_server, the one struct holding all mutable state of a
 * running gatewayd (configuration, database pool, current snapshot,
 * credential cache, analytics writer, request journal, budgets, proxy metrics, HTTP
 * listeners, the configuration listener and the snapshot loader it drives,
 * the budget alert delivery, the hub's gRPC server or the edge's link,
 * the readiness flags and the shutdown deadline). Handlers receive it as
 * their cbdata. It sits above the layers whose parts it holds and below
 * the handlers (admin/, gateway/) that use it (docs/architecture.md).
 */
#ifndef GW_GATEWAYD_H
#define GW_GATEWAYD_H

#include <pthread.h>
#include <stdatomic.h>

#include "ingest/analytics.h"
#include "db/listen.h"
#include "model/budget.h"
#include "model/ratelimit.h"
#include "base/config.h"
#include "model/credcache.h"
#include "ingest/journal.h"
#include "db/pgpool.h"
#include "model/reload.h"
#include "model/snapshot.h"
#include "notify/alerts.h"

struct mg_context;
struct gw_metrics;
struct gw_hub;
struct gw_edge;
struct gw_plugin_host;

typedef struct gw_server {
    gw_config cfg;
    gw_pgpool *pool;
    gw_snapshot_holder snapshots;
    gw_credcache *creds;
    struct mg_context *http;       /* the proxy listener (PROXY_PORT) */
    struct mg_context *admin_http; /* REST API + web UI + health (SERVER_PORT) */
    struct mg_context *docs_http;  /* the documentation server (DOCS_PORT); NULL when off */
    int docs_enabled;              /* the docs are served (set before the REST API starts) */
    gw_listener listener;      /* LISTEN aistudio_config: drives the loader and the invalidations */
    gw_snapshot_loader loader; /* snapshot load and swap */
    atomic_int db_ok;    /* the LISTEN connection is up */
    atomic_int stopping; /* SIGTERM received: not ready, draining */
    atomic_llong snapshot_loads;
    gw_alerts *alerts; /* budget alert delivery (NULL on an edge or with ALERT_DELIVERY=0) */

    /* the control plane (sync/): the hub's gRPC server (control mode) or
     * the edge's link to its hub (edge mode); NULL otherwise */
    struct gw_hub *hub;
    struct gw_edge *edge;
    gw_secret_key edge_key; /* edge mode: opens the vendor keys the hub sealed for this edge */

    /* the proxy (every mode: a hub serves its own LLMs too) */
    gw_analytics *analytics;   /* lossless event delivery */
    gw_journal *journal;       /* in-flight requests and undelivered events, kept across a crash */
    gw_budget *budget;         /* monthly budget reservations */
    gw_ratelimits *ratelimits; /* this process's rate-limit buckets (model/ratelimit.h) */
    struct gw_metrics *metrics; /* /metrics counters and histograms */
    struct gw_plugin_host *plugins; /* the plugin processes (plugins/host.h) */
    atomic_llong stop_deadline_ms; /* monotonic ms when in-flight streams are cut; 0 = not stopping */
    atomic_llong proxy_inflight;   /* proxy requests being handled */
    atomic_int analytics_closed;   /* set before gw_analytics_stop: record nothing more */
    atomic_int analytics_users;    /* handlers inside gw_analytics_record now */
} gw_server;

#endif
