/*
 * src/main.c: gatewayd's entry point. Parses the command line and the
 * configuration (a bad value exits 2 naming the setting), starts the
 * database pool (never fatal: PostgreSQL may come up later), the credential
 * cache, the proxy's parts (metrics, budgets, the request journal, the
 * analytics writer; the events an earlier run left in the journal are
 * queued before any listener starts), the control plane of the mode
 * (sync/: a hub's gRPC server, or an edge's link to its hub), the
 * configuration listener (db/listen.h, which drives the snapshot loader
 * model/reload.h and the cache invalidations, and hands a hub the control
 * plane's notifications), the budget alert delivery (notify/alerts.h;
 * not on an edge), then the HTTP listeners, and waits for signals:
 * SIGHUP reloads the snapshot.
 *
 * The modes differ in their wiring only. standalone: the snapshot and the
 * credentials come from the database. control (hub): the same, plus the
 * gRPC server (its proxy serves the hub's own LLMs). edge: the snapshot is
 * the one the hub sent, stored in the edge's own database; credentials are
 * resolved by the edge's link (its database's cache, then the hub); budget
 * admission runs against the hub's leases; the analytics writer queues
 * what it stores for upload and feeds the heartbeat metrics.
 *
 * SIGTERM/SIGINT: readiness turns false and new proxy requests get 503;
 * requests in flight may finish for SHUTDOWN_GRACE_MS, after which streams
 * still running are cut with an error event (the proxy checks the deadline
 * while it waits on the upstream); then the listener stops (civetweb's
 * writes fail once it stops, so it is stopped only after the drain), the
 * analytics writer flushes its queue to PostgreSQL or the spool
 * (GW_ANALYTICS_DRAIN_MS), which frees every journal slot, and the process
 * exits 0. A second signal skips the wait for in-flight requests (the
 * analytics queue is still flushed; what is left in the journal is
 * recovered at the next start).
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * starts) and taken synchronously here with sigtimedwait, so no handler
 * runs in async-signal context.
 */
#include <civetweb.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/config.h"
#include "base/futexhash.h"
#include "model/credresolve.h"
#include "sync/edge.h"
#include "sync/hub.h"
#include "sync/wire.h"
#include "model/reload.h"
#include "pipeline/filter_hook.h"
#include "pipeline/hooks.h"
#include "plugins/hook.h"
#include "plugins/host.h"
#include "base/log.h"
#include "admin/admin.h"
#include "gateway/chat.h"
#include "gateway/llmcheck.h"
#include "http/docs.h"
#include "gateway/health.h"
#include "gateway/metrics.h"
#include "gateway/proxy.h"
#include "gateway/upstream.h"
#include "http/server.h"
#include "http/static.h"
#include "gatewayd.h"

#define GW_EXIT_CONFIG 2
#define GW_EXIT_STARTUP 1
#define GW_ANALYTICS_DRAIN_MS 10000 /* flush of the analytics queue at shutdown */
#define GW_CUT_MARGIN_MS 2000       /* after the grace deadline: time for cut streams to end */
#define GW_STOP_WAIT_MS 5000        /* for civetweb to close idle connections and join its threads */
#define GW_JOURNAL_EXTRA_SLOTS 64   /* JOURNAL_SLOTS=0: the chat's requests (GW_CHAT_MAX_INFLIGHT) and headroom */
#define GW_UPSTREAM_PREWARM 512     /* upstream slots made at start: a burst of new streams finds them ready */

static gw_server gw_srv;

static void gw_print_usage(FILE *out)
{
    gw_config_print_help(out);
}

/* Stops the listener on a thread of its own while the main thread waits
 * for it with a deadline. Shared by the two (refs): when the main thread
 * gives up waiting it detaches the thread and drops its reference, and the
 * stopper, still running, must not write to anything the main thread
 * freed or left. The last one out frees it. */
typedef struct gw_stopper {
    struct mg_context *ctx;
    atomic_int done;
    atomic_int refs;
} gw_stopper;

static void gw_stopper_release(gw_stopper *st)
{
    if (atomic_fetch_sub(&st->refs, 1) == 1)
        free(st);
}

static void *gw_stopper_main(void *arg)
{
    gw_stopper *st = arg;
    gw_http_stop(st->ctx);
    atomic_store(&st->done, 1);
    gw_stopper_release(st);
    return NULL;
}

static int gw_start_http(gw_server *srv, char *err)
{
    gw_http_route routes[GW_HEALTH_NROUTES + GW_PROXY_NROUTES];
    size_t nroutes = GW_HEALTH_NROUTES;
    gw_http_opts o;
    const char *port_name;

    memset(&o, 0, sizeof(o));
    o.host = srv->cfg.listen_host;
    o.threads = srv->cfg.worker_threads;
    o.request_timeout_ms = srv->cfg.request_timeout_ms;
    o.keep_alive_timeout_ms = srv->cfg.keep_alive_timeout_ms;
    o.head_timeout_ms = srv->cfg.request_head_timeout_ms;
    o.max_per_address = srv->cfg.max_connections_per_address;
    o.max_header_bytes = srv->cfg.max_header_bytes;
    o.name = "proxy";
    o.port = srv->cfg.proxy_port;
    o.warm_thread = gw_proxy_warm_thread; /* a burst of new streams finds its threads ready */
    port_name = "PROXY_PORT";
    if (gw_proxy_routes(srv, routes + GW_HEALTH_NROUTES, err) != 0)
        return -1;
    nroutes += GW_PROXY_NROUTES;
    gw_health_routes(srv, routes);
    if (gw_http_start(&o, routes, nroutes, &srv->http, err) != 0) {
        char tmp[GW_ERR_LEN];
        snprintf(tmp, sizeof(tmp), "%s", err);
        gw_errf(err, "%s: %s", port_name, tmp);
        return -1;
    }
    gw_log_info("%s server listening on %s:%d (%d worker threads)", o.name, o.host, o.port, o.threads);
    return 0;
}

/* The REST API + web UI (SERVER_PORT; not on an edge: its configuration
 * is its hub's, admins use the hub) and the documentation server
 * (DOCS_PORT; off with a warning when no docs directory is found). */
static int gw_start_side_servers(gw_server *srv, char *err)
{
    char dir[PATH_MAX];
    char tmp[GW_ERR_LEN];
    gw_http_route extra[GW_HEALTH_NROUTES + GW_CHAT_NROUTES + GW_STATIC_NROUTES];
    size_t nextra = 0;

    /* whether the docs are served is known before the REST API answers
     * GET /api/v1/info (docs_enabled) */
    if (gw_docs_find_dir(srv->cfg.docs_dir, dir, tmp) != 0)
        gw_log_warn("%s: the documentation server is off", tmp);
    else
        srv->docs_enabled = 1;
    if (srv->cfg.mode == GW_MODE_EDGE) {
        gw_log_info("edge mode: no REST API or web UI on SERVER_PORT (the hub's serve this edge's configuration); "
                    "health and metrics are on PROXY_PORT");
        goto docs;
    }

    gw_admin_set_cookie_secure(srv->cfg.session_cookie_secure);
    /* /healthz and /readyz (every mode) */
    gw_health_routes(srv, extra + nextra);
    nextra += GW_HEALTH_NROUTES;
    /* POST /api/v1/chat/completions (it answers 503 in control mode);
     * before the web UI's catch-all */
    if (gw_chat_routes(srv, extra + nextra, tmp) != 0)
        return gw_errf(err, "chat: %s", tmp);
    nextra += GW_CHAT_NROUTES;
    /* POST /api/v1/llms/{id}/test, GET /api/v1/llms/{id}/models: operations of the REST API */
    gw_llmcheck_register(srv);
    /* the web UI: off with a warning when no www directory is found, a
     * start-up error when WWW_DIR names a bad one */
    if (gw_static_init(srv->cfg.www_dir, tmp) != 0) {
        if (srv->cfg.www_dir[0] != '\0')
            return gw_errf(err, "WWW_DIR: %s", tmp);
        gw_log_warn("%s: the web UI is off", tmp);
    } else {
        gw_log_info("web UI served from %s", gw_static_dir());
        gw_static_routes(extra + nextra);
        nextra += GW_STATIC_NROUTES;
    }
    if (gw_admin_start_with(srv, extra, nextra, &srv->admin_http, tmp) != 0)
        return gw_errf(err, "%s", tmp);
docs:
    if (!srv->docs_enabled)
        return 0;
    if (gw_docs_start(&srv->cfg, dir, &srv->docs_http, tmp) != 0)
        return gw_errf(err, "%s", tmp);
    return 0;
}

static void gw_stop_side_servers(gw_server *srv)
{
    if (srv->docs_http != NULL) {
        gw_docs_stop(srv->docs_http);
        srv->docs_http = NULL;
    }
    if (srv->admin_http != NULL) {
        gw_admin_stop(srv->admin_http);
        srv->admin_http = NULL;
    }
}

/* Each open stream holds a client socket, an upstream socket and a curl
 * handle's wake-up pair: lift the soft descriptor limit to the hard one,
 * then size the proxy's workers (WORKER_THREADS=0) and the upstream calls
 * at once from it (http/server.h). */
static void gw_size_pools(gw_config *cfg, gw_http_sizing *sz)
{
    struct rlimit rl;
    long long nofile = 1024;
    rlim_t want;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
                gw_log_warn("cannot raise the open-file limit: %s", strerror(errno));
                getrlimit(RLIMIT_NOFILE, &rl);
            }
        }
        nofile = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 30) ? (1 << 30) : (long long)rl.rlim_cur;
    }
    gw_http_size(nofile, 0, cfg->worker_threads, GW_ADMIN_THREADS + GW_DOCS_THREADS, sz);
    gw_http_size_threads(sz, gw_http_threads_free());
    if (!sz->from_limits && sz->threads_free >= 0 && sz->workers + sz->side > sz->threads_free)
        gw_log_warn("WORKER_THREADS=%d: the system lets this process start only about %lld more threads", sz->workers,
                    sz->threads_free);
    want = (rlim_t)sz->workers * GW_HTTP_FDS_PER_STREAM + GW_HTTP_FD_RESERVE;
    if (!sz->from_limits && (rlim_t)nofile < want)
        gw_log_warn("open-file limit %lld is low for WORKER_THREADS=%d: at most %d upstream calls at once (want a "
                    "limit of %llu)",
                    nofile, sz->workers, sz->upstream_calls, (unsigned long long)want);
    cfg->worker_threads = sz->workers;
}

/* Waits until no proxy request is in flight or the deadline passes; 0 on a second signal. */
static int gw_wait_idle(gw_server *srv, const sigset_t *sigs, int64_t until_ms)
{
    struct timespec tick = {0, 20 * 1000000L};
    while (atomic_load(&srv->proxy_inflight) > 0 && gw_now_ms() < until_ms) {
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            gw_log_warn("second signal: exiting without waiting for in-flight requests");
            return 0;
        }
    }
    return 1;
}

/* Stops the listener (after the drain); 1 when it finished in time. */
static int gw_stop_listener(gw_server *srv, const sigset_t *sigs)
{
    gw_stopper *st;
    pthread_t th;
    int64_t deadline = gw_now_ms() + GW_STOP_WAIT_MS;
    struct timespec tick = {0, 20 * 1000000L};
    int stopped = 1;

    if (srv->http == NULL)
        return 1;
    st = malloc(sizeof(*st));
    if (st != NULL) {
        st->ctx = srv->http;
        atomic_init(&st->done, 0);
        atomic_init(&st->refs, 2);
    }
    if (st == NULL || pthread_create(&th, NULL, gw_stopper_main, st) != 0) {
        free(st);
        gw_http_stop(srv->http);
        srv->http = NULL;
        return 1;
    }
    while (stopped && !atomic_load(&st->done)) {
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            gw_log_warn("second signal: exiting without waiting for in-flight requests");
            stopped = 0;
        } else if (gw_now_ms() >= deadline) {
            gw_log_warn("the listener did not stop within %d ms", GW_STOP_WAIT_MS);
            stopped = 0;
        }
    }
    if (stopped) {
        pthread_join(th, NULL);
        srv->http = NULL;
    } else {
        pthread_detach(th); /* it may still be stopping when the process exits */
    }
    gw_stopper_release(st);
    return stopped;
}

/* SIGTERM: drain, cut what is left at the deadline, stop; 1 when everything ended cleanly. */
static int gw_drain(gw_server *srv, const sigset_t *sigs)
{
    int64_t deadline = gw_now_ms() + srv->cfg.shutdown_grace_ms;

    atomic_store(&srv->stopping, 1);
    atomic_store(&srv->stop_deadline_ms, deadline > 0 ? deadline : 1);
    if (!gw_wait_idle(srv, sigs, deadline))
        return 0;
    if (atomic_load(&srv->proxy_inflight) > 0) {
        gw_log_warn("shutdown grace period (%d ms) over: cutting %lld in-flight requests", srv->cfg.shutdown_grace_ms,
                    (long long)atomic_load(&srv->proxy_inflight));
        if (!gw_wait_idle(srv, sigs, gw_now_ms() + GW_CUT_MARGIN_MS))
            return 0;
    }
    return gw_stop_listener(srv, sigs);
}

/* A configuration change (or a reconnection of the listener): cached
 * credentials and the chat's access answers must not outlive it. */
static void gw_on_config_change(void *ctx)
{
    gw_server *srv = ctx;
    gw_credcache_invalidate_all(srv->creds);
    gw_chat_invalidate();
}

/* An edge: its credentials come from the hub, which invalidates them; a
 * change in its own database (the snapshot it stored) does not touch them. */
static void gw_on_config_change_edge(void *ctx)
{
    (void)ctx;
    gw_chat_invalidate();
}

/* The snapshot loader: the database's own snapshot, or on an edge the one
 * its hub sent (opened with the edge's key). */
static void gw_init_loader(gw_server *srv)
{
    srv->loader.pool = srv->pool;
    srv->loader.holder = &srv->snapshots;
    srv->loader.ns = srv->cfg.edge_namespace;
    srv->loader.loads = &srv->snapshot_loads;
    srv->loader.prepare = gw_hooks_prepare; /* the LLMs' filters and plugins, before the swap */
    if (srv->cfg.mode == GW_MODE_EDGE) {
        srv->loader.stored = 1;
        srv->loader.key = &srv->edge_key;
    } else {
        srv->loader.key = srv->cfg.have_secret_key ? &srv->cfg.secret_key : NULL;
    }
}

static int gw_start_listener(gw_server *srv, char *err)
{
    gw_listen_opts lo;

    memset(&lo, 0, sizeof(lo));
    lo.conninfo = srv->cfg.database_url;
    lo.refresh_s = srv->cfg.snapshot_refresh_s;
    lo.reload = gw_reload_listen_cb;
    lo.loaded = gw_reload_loaded;
    lo.ctx = &srv->loader;
    lo.on_change = srv->cfg.mode == GW_MODE_EDGE ? gw_on_config_change_edge : gw_on_config_change;
    lo.change_ctx = srv;
    lo.db_ok = &srv->db_ok;
    if (srv->hub != NULL) {
        lo.sync_channels = 1;
        lo.notify = gw_hub_notify;
        lo.notify_ctx = srv->hub;
    }
    if (gw_listen_start(&srv->listener, &lo, err) != 0)
        return -1;
    return 0;
}

/* The plugin host (every mode: a hub serves its own LLMs too): PLUGIN_SANDBOX decided, the
 * master key file and the spool hidden from sandboxed plugins, the plugin
 * kind of hooks registered. A bad setting exits 2 like any other. */
static int gw_start_plugins(gw_server *srv, char *err, int *config_error)
{
    gw_plugin_host_opts o;
    char bwrap[256] = "", tmp[GW_ERR_LEN];
    const char *hidden[2];
    size_t nh = 0;

    *config_error = 0;
    memset(&o, 0, sizeof(o));
    if (strcmp(srv->cfg.plugin_sandbox, "none") != 0) {
        if (gw_spawn_find_bwrap(bwrap, sizeof(bwrap)) == 0) {
            o.sandbox = GW_SANDBOX_BWRAP;
            o.bwrap = bwrap;
        } else if (strcmp(srv->cfg.plugin_sandbox, "bwrap") == 0) {
            *config_error = 1;
            return gw_errf(err, "PLUGIN_SANDBOX: bwrap is not installed (Debian package bubblewrap) or not on PATH");
        } else {
            gw_log_warn("plugins run without a sandbox: bwrap is not installed (Debian package bubblewrap)");
        }
    }
    if (srv->cfg.secret_key_file[0] != '\0')
        hidden[nh++] = srv->cfg.secret_key_file;
    hidden[nh++] = srv->cfg.spool_dir;
    o.hidden = hidden;
    o.nhidden = nh;
    o.socket_parent = srv->cfg.plugin_socket_dir;
    o.user = srv->cfg.plugin_user;
    o.mem_bytes = srv->cfg.plugin_max_memory;
    o.cpu_s = srv->cfg.plugin_max_cpu_s;
    o.nofile = srv->cfg.plugin_max_files;
    o.start_timeout_ms = srv->cfg.plugin_start_timeout_ms;
    o.health_interval_ms = srv->cfg.plugin_health_interval_ms;
    o.restart_max_ms = srv->cfg.plugin_restart_max_ms;
    o.gateway_mode = gw_config_mode_name(srv->cfg.mode);
    srv->plugins = gw_plugin_host_create(&o, tmp);
    if (srv->plugins == NULL) {
        *config_error = strncmp(tmp, "PLUGIN_", 7) == 0;
        return gw_errf(err, "plugins: %s", tmp);
    }
    if (gw_plugin_hooks_register(srv->plugins, tmp) != 0)
        return gw_errf(err, "plugins: %s", tmp);
    return 0;
}

static void gw_record_recovered(void *ctx, const gw_event *ev)
{
    gw_analytics_record(ctx, ev);
}

/* JOURNAL_SLOTS, or what the settings can hold at once: a request per
 * worker thread, a full queue and a batch in flight. */
static uint32_t gw_journal_slots(const gw_config *cfg)
{
    int64_t n = cfg->journal_slots;
    if (n <= 0)
        n = (int64_t)cfg->worker_threads + cfg->analytics_queue_size + cfg->analytics_batch_size +
            GW_JOURNAL_EXTRA_SLOTS;
    return n > GW_JOURNAL_MAX_SLOTS ? GW_JOURNAL_MAX_SLOTS : (uint32_t)n;
}

/* Budgets, the journal, the analytics writer and the metrics of the proxy. */
static int gw_start_proxy_parts(gw_server *srv, char *err)
{
    gw_analytics_opts ao;
    char tmp[GW_ERR_LEN];

    if (gw_metrics_create(&srv->metrics, err) != 0)
        return -1;
    if (gw_budget_create(srv->pool, srv->cfg.budget_refresh_s, &srv->budget, tmp) != 0)
        return gw_errf(err, "budgets: %s", tmp);
    if (gw_ratelimit_create(&srv->ratelimits, tmp) != 0)
        return gw_errf(err, "rate limits: %s", tmp);
    if (gw_journal_open(srv->cfg.spool_dir, gw_journal_slots(&srv->cfg), &srv->journal, tmp) != 0)
        return gw_errf(err, "journal: %s", tmp);
    memset(&ao, 0, sizeof(ao));
    ao.database_url = srv->cfg.database_url;
    ao.queue_size = srv->cfg.analytics_queue_size;
    ao.batch_size = srv->cfg.analytics_batch_size;
    ao.flush_interval_ms = srv->cfg.analytics_flush_ms;
    ao.spool_dir = srv->cfg.spool_dir;
    ao.spool_max_bytes = srv->cfg.spool_max_bytes;
    ao.journal = srv->journal;
    if (srv->edge != NULL) {
        /* an edge: queue what is stored for the hub, count it for the heartbeats,
         * admit against the hub's leases */
        ao.edge_outbox = 1;
        ao.on_record = gw_edge_record;
        ao.record_ctx = srv->edge;
        gw_budget_set_source(srv->budget, gw_edge_budget_source, srv->edge);
    }
    if (gw_analytics_start(&ao, gw_budget_on_commit, srv->budget, &srv->analytics, tmp) != 0)
        return gw_errf(err, "analytics: %s", tmp);
    /* what an earlier run left: queued before any request is accepted */
    gw_journal_replay(srv->journal, gw_record_recovered, srv->analytics);
    return 0;
}

/* After a clean drain: no handler runs any more. */
static void gw_stop_proxy_parts(gw_server *srv)
{
    if (srv->analytics != NULL) {
        gw_proxy_close_analytics(srv, 1000);
        gw_analytics_stop(srv->analytics, GW_ANALYTICS_DRAIN_MS);
        srv->analytics = NULL;
    }
    gw_journal_close(srv->journal); /* after the writer released what it stored */
    srv->journal = NULL;
    if (srv->budget != NULL) {
        gw_budget_destroy(srv->budget);
        srv->budget = NULL;
    }
    gw_ratelimit_destroy(srv->ratelimits);
    srv->ratelimits = NULL;
    if (srv->metrics != NULL) {
        gw_metrics_destroy(srv->metrics);
        srv->metrics = NULL;
    }
}

/* An edge: its key (vendor keys are sealed under it by the hub) and its
 * link, before the credential cache that resolves through it. */
static int gw_create_edge(gw_server *srv, char *err)
{
    gw_edge_opts eo;
    char tmp[GW_ERR_LEN];

    if (gw_sync_edge_key(gw_config_edge_token(&srv->cfg), srv->cfg.edge_id, &srv->edge_key, tmp) != 0)
        return gw_errf(err, "EDGE_TOKEN: %s", tmp);
    memset(&eo, 0, sizeof(eo));
    eo.endpoint = srv->cfg.control_endpoint;
    eo.edge_id = srv->cfg.edge_id;
    eo.ns = srv->cfg.edge_namespace;
    eo.token = gw_config_edge_token(&srv->cfg);
    eo.tls_ca_file = srv->cfg.grpc_tls_ca_file;
    eo.heartbeat_s = srv->cfg.edge_heartbeat_s;
    eo.cred_ttl_s = srv->cfg.edge_token_cache_ttl_s;
    eo.cred_negative_ttl_s = srv->cfg.credential_negative_ttl_s;
    eo.pool = srv->pool;
    eo.loader = &srv->loader;
    if (gw_edge_create(&eo, &srv->edge, tmp) != 0)
        return gw_errf(err, "edge: %s", tmp);
    return 0;
}

/* A hub: the gRPC server (before the listener, which feeds it). */
static int gw_start_hub(gw_server *srv, char *err)
{
    gw_hub_opts ho;
    memset(&ho, 0, sizeof(ho));
    ho.listen_host = srv->cfg.listen_host;
    ho.port = srv->cfg.grpc_port;
    ho.tls_cert_file = srv->cfg.grpc_tls_cert_file;
    ho.tls_key_file = srv->cfg.grpc_tls_key_file;
    ho.database_url = srv->cfg.database_url;
    ho.db_timeout_ms = srv->cfg.db_timeout_ms;
    ho.master_key = srv->cfg.have_secret_key ? &srv->cfg.secret_key : NULL;
    ho.shared_token = srv->cfg.grpc_auth_token;
    return gw_hub_start(&ho, &srv->hub, err);
}

/* The control plane first (it may still hold calls into the parts below). */
static void gw_stop_sync(gw_server *srv)
{
    if (srv->hub != NULL) {
        gw_hub_stop(srv->hub, 1000);
        srv->hub = NULL;
    }
    if (srv->edge != NULL) {
        gw_edge_destroy(srv->edge);
        srv->edge = NULL;
    }
}

int main(int argc, char **argv)
{
    gw_server *srv = &gw_srv;
    char err[GW_ERR_LEN];
    sigset_t sigs;
    gw_pgpool_opts po;
    gw_credcache_opts co;
    gw_http_sizing sizing;
    int fslots;
    int check_only = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            gw_print_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check_only = 1;
        } else {
            fprintf(stderr, "gatewayd: unknown argument '%s' (see --help)\n", argv[i]);
            return GW_EXIT_CONFIG;
        }
    }

    if (gw_config_load(&srv->cfg, err) != 0) {
        fprintf(stderr, "gatewayd: configuration error: %s\n", err);
        return GW_EXIT_CONFIG;
    }
    if (srv->cfg.docs_dir[0] != '\0') {
        char dir[PATH_MAX];
        if (gw_docs_find_dir(srv->cfg.docs_dir, dir, err) != 0) {
            fprintf(stderr, "gatewayd: configuration error: %s\n", err);
            gw_config_free(&srv->cfg);
            return GW_EXIT_CONFIG;
        }
    }
    if (check_only) {
        gw_config_print(&srv->cfg, stdout);
        printf("configuration ok\n");
        gw_config_free(&srv->cfg);
        return 0;
    }
    gw_log_set_level(srv->cfg.log_level);
    gw_size_pools(&srv->cfg, &sizing);

    /* Block the signals we take synchronously, in every thread to come. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    gw_log_info("gatewayd starting: mode %s, namespace '%s'", gw_config_mode_name(srv->cfg.mode),
                srv->cfg.edge_namespace);
    if (!srv->cfg.have_secret_key && srv->cfg.mode != GW_MODE_EDGE) /* an edge opens with its own key */
        gw_log_warn("no master key (AISTUDIO_SECRET_KEY / AISTUDIO_SECRET_KEY_FILE): sealed vendor keys cannot be "
                    "opened");
    if (srv->cfg.mode == GW_MODE_CONTROL && srv->cfg.grpc_auth_token[0] == '\0')
        gw_log_info("GRPC_AUTH_TOKEN is empty: only enrolled edges (aistudio.enroll_edge) can connect");
    if (srv->cfg.mode == GW_MODE_CONTROL && !srv->cfg.have_secret_key)
        gw_log_warn("no master key: the hub cannot re-seal vendor keys for its edges (they get none)");

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        gw_log_error("libcurl initialisation failed");
        gw_config_free(&srv->cfg);
        return GW_EXIT_STARTUP;
    }
    mg_init_library(0);
    /* the kinds of hooks an LLM's filters and plugins run as (pipeline/hooks.h) */
    if (gw_hooks_register(GW_HOOK_FILTER, &gw_filter_hook_ops, err) != 0) {
        gw_log_error("%s", err);
        gw_config_free(&srv->cfg);
        return GW_EXIT_STARTUP;
    }
    gw_log_info("worker threads: %d (%s), upstream calls at once: at most %d (open-file limit %lld, threads free %lld)",
                sizing.workers, sizing.from_limits ? "sized from the limits" : "WORKER_THREADS", sizing.upstream_calls,
                sizing.nofile, sizing.threads_free);
    /* before any thread: the kernel's default futex hash is sized from the CPUs (base/futexhash.h) */
    switch (gw_futex_hash_size((long long)sizing.workers + GW_ADMIN_THREADS + GW_DOCS_THREADS + 64, &fslots, err)) {
    case 0:
        gw_log_info("futex hash: %d slots", fslots);
        break;
    case -1:
        gw_log_warn("%s: thread wake-ups may be slow with many worker threads", err);
        break;
    default:
        break;
    }
    if (gw_upstream_pool_start(sizing.upstream_calls, GW_UPSTREAM_PREWARM, err) != 0) {
        gw_log_error("%s", err);
        gw_config_free(&srv->cfg);
        return GW_EXIT_STARTUP;
    }
    gw_snapshot_holder_init(&srv->snapshots);
    atomic_init(&srv->db_ok, 0);
    atomic_init(&srv->stopping, 0);
    atomic_init(&srv->stop_deadline_ms, 0);
    atomic_init(&srv->proxy_inflight, 0);
    atomic_init(&srv->analytics_closed, 0);
    atomic_init(&srv->analytics_users, 0);

    memset(&po, 0, sizeof(po));
    po.conninfo = srv->cfg.database_url;
    po.size = srv->cfg.db_pool_size;
    po.acquire_timeout_ms = srv->cfg.db_timeout_ms;
    po.statement_timeout_ms = srv->cfg.db_timeout_ms;
    po.application_name = "gatewayd";
    if (gw_pgpool_create(&po, &srv->pool, err) != 0) {
        gw_log_error("database pool: %s", err);
        return GW_EXIT_STARTUP;
    }
    gw_init_loader(srv);
    if (srv->cfg.mode == GW_MODE_EDGE && gw_create_edge(srv, err) != 0) {
        gw_log_error("%s", err);
        return GW_EXIT_STARTUP;
    }
    memset(&co, 0, sizeof(co));
    co.ttl_ms = srv->cfg.credential_cache_ttl_s * 1000;
    co.negative_ttl_ms = srv->cfg.credential_negative_ttl_s * 1000;
    co.resolver = gw_credresolve_db;
    co.resolver_ctx = srv->pool;
    if (srv->edge != NULL) {
        /* the hub's answers: its database's cache, then the hub */
        co.ttl_ms = srv->cfg.edge_token_cache_ttl_s * 1000;
        co.resolver = gw_edge_resolve_credential;
        co.resolver_ctx = srv->edge;
    }
    if (gw_credcache_create(&co, &srv->creds, err) != 0) {
        gw_log_error("credential cache: %s", err);
        return GW_EXIT_STARTUP;
    }
    if (gw_start_proxy_parts(srv, err) != 0) {
        gw_log_error("%s", err);
        return GW_EXIT_STARTUP;
    }
    {
        int config_error;
        if (gw_start_plugins(srv, err, &config_error) != 0) {
            if (config_error) {
                fprintf(stderr, "gatewayd: configuration error: %s\n", err);
                return GW_EXIT_CONFIG;
            }
            gw_log_error("%s", err);
            return GW_EXIT_STARTUP;
        }
        /* the plugins' processes follow each new snapshot */
        srv->loader.swapped = gw_plugin_host_apply;
        srv->loader.swapped_ctx = srv->plugins;
    }
    if (srv->cfg.mode == GW_MODE_CONTROL && gw_start_hub(srv, err) != 0) {
        gw_log_error("%s", err);
        gw_stop_proxy_parts(srv);
        return GW_EXIT_STARTUP;
    }
    if (gw_start_listener(srv, err) != 0) {
        gw_log_error("configuration listener: %s", err);
        return GW_EXIT_STARTUP;
    }
    if (srv->edge != NULL && gw_edge_start(srv->edge, srv->creds, srv->budget, err) != 0) {
        gw_log_error("edge: %s", err);
        return GW_EXIT_STARTUP;
    }
    /* budget alerts are made in the database a standalone gateway or a hub
     * runs on; an edge's database holds none */
    if (srv->cfg.alert_delivery && srv->cfg.mode != GW_MODE_EDGE) {
        gw_alerts_opts ao = {.pool = srv->pool, .poll_ms = srv->cfg.alert_poll_ms,
                             .timeout_ms = srv->cfg.alert_timeout_ms};
        if (gw_alerts_start(&ao, &srv->alerts, err) != 0) {
            gw_log_error("%s", err);
            return GW_EXIT_STARTUP;
        }
    }
    /* the REST API, UI and docs first: when the proxy's /readyz answers,
     * every server of this process listens */
    if (gw_start_side_servers(srv, err) != 0) {
        gw_log_error("%s", err);
        gw_alerts_stop(srv->alerts);
        gw_stop_side_servers(srv);
        gw_listen_stop(&srv->listener);
        gw_stop_sync(srv);
        gw_plugin_host_destroy(srv->plugins);
        srv->plugins = NULL;
        gw_stop_proxy_parts(srv);
        return GW_EXIT_STARTUP;
    }
    if (gw_start_http(srv, err) != 0) {
        gw_log_error("%s", err);
        gw_alerts_stop(srv->alerts);
        gw_stop_side_servers(srv);
        gw_listen_stop(&srv->listener);
        gw_stop_sync(srv);
        gw_plugin_host_destroy(srv->plugins);
        srv->plugins = NULL;
        gw_stop_proxy_parts(srv);
        return GW_EXIT_STARTUP;
    }

    for (;;) {
        int sig = sigwaitinfo(&sigs, NULL);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            gw_log_error("sigwaitinfo: %s", strerror(errno));
            break;
        }
        if (sig == SIGHUP) {
            gw_log_info("SIGHUP: reloading the snapshot");
            gw_listen_poke(&srv->listener);
            continue;
        }
        gw_log_info("%s: shutting down (grace %d ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                    srv->cfg.shutdown_grace_ms);
        break;
    }

    if (!gw_drain(srv, &sigs)) {
        /* Workers are still busy: do not free what they use, but flush
         * what was recorded (handlers recording from now on are refused). */
        if (srv->analytics != NULL) {
            gw_proxy_close_analytics(srv, 1000);
            gw_analytics_stop(srv->analytics, GW_ANALYTICS_DRAIN_MS);
        }
        gw_log_info("gatewayd stopped");
        _exit(0);
    }
    gw_log_debug("listener stopped");
    gw_alerts_stop(srv->alerts);
    srv->alerts = NULL;
    gw_stop_side_servers(srv);
    gw_listen_stop(&srv->listener);
    gw_log_debug("configuration listener stopped");
    gw_stop_sync(srv);
    gw_plugin_host_destroy(srv->plugins); /* no request and no reload any more */
    srv->plugins = NULL;
    gw_stop_proxy_parts(srv);
    gw_log_debug("analytics flushed");
    gw_credcache_destroy(srv->creds);
    gw_pgpool_destroy(srv->pool);
    gw_snapshot_holder_destroy(&srv->snapshots);
    gw_secretbox_wipe(&srv->edge_key, sizeof(srv->edge_key));
    gw_config_free(&srv->cfg);
    mg_exit_library();
    gw_upstream_pool_stop();
    curl_global_cleanup();
    gw_log_info("gatewayd stopped");
    return 0;
}
