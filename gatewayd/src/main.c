/*
 * src/main.c: gatewayd's entry point. Parses the command line and the
 * configuration (a bad value exits 2 naming the setting), starts the
 * database pool (never fatal: PostgreSQL may come up later), the credential
 * cache, the snapshot reload thread and the HTTP listener of the mode, then
 * waits for signals: SIGHUP reloads the snapshot; SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish for SHUTDOWN_GRACE_MS and exit 0
 * (a second signal exits at once).
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * starts) and taken synchronously here with sigtimedwait, so no handler
 * runs in async-signal context.
 */
#include <civetweb.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/credresolve.h"
#include "common/log.h"
#include "http/health.h"
#include "http/server.h"
#include "reload.h"
#include "gatewayd.h"

#define GW_EXIT_CONFIG 2
#define GW_EXIT_STARTUP 1

static gw_server gw_srv;

static void gw_usage(FILE *out)
{
    gw_config_print_help(out);
}

typedef struct gw_stopper {
    struct mg_context *ctx;
    atomic_int done;
} gw_stopper;

static void *gw_stopper_main(void *arg)
{
    gw_stopper *st = arg;
    gw_http_stop(st->ctx);
    atomic_store(&st->done, 1);
    return NULL;
}

static int gw_start_http(gw_server *srv, char *err)
{
    gw_http_route routes[GW_HEALTH_NROUTES];
    gw_http_opts o;
    const char *port_name;

    memset(&o, 0, sizeof(o));
    o.host = srv->cfg.listen_host;
    o.threads = srv->cfg.worker_threads;
    o.request_timeout_ms = srv->cfg.request_timeout_ms;
    o.keep_alive_timeout_ms = srv->cfg.keep_alive_timeout_ms;
    o.max_header_bytes = srv->cfg.max_header_bytes;
    if (srv->cfg.mode == GW_MODE_CONTROL) {
        /* The hub serves no proxy; until the REST API lands, its health
         * endpoints live on SERVER_PORT. */
        o.name = "control";
        o.port = srv->cfg.server_port;
        port_name = "SERVER_PORT";
    } else {
        o.name = "proxy";
        o.port = srv->cfg.proxy_port;
        port_name = "PROXY_PORT";
    }
    gw_health_routes(srv, routes);
    if (gw_http_start(&o, routes, GW_HEALTH_NROUTES, &srv->http, err) != 0) {
        char tmp[GW_ERR_LEN];
        snprintf(tmp, sizeof(tmp), "%s", err);
        gw_errf(err, "%s: %s", port_name, tmp);
        return -1;
    }
    gw_log_info("%s server listening on %s:%d (%d worker threads)", o.name, o.host, o.port, o.threads);
    return 0;
}

/* Stops the listener within the grace period; 1 when it finished cleanly. */
static int gw_drain(gw_server *srv, const sigset_t *sigs)
{
    gw_stopper st;
    pthread_t th;
    int64_t deadline = gw_now_ms() + srv->cfg.shutdown_grace_ms;
    struct timespec tick = {0, 50 * 1000000L};

    if (srv->http == NULL)
        return 1;
    st.ctx = srv->http;
    atomic_init(&st.done, 0);
    if (pthread_create(&th, NULL, gw_stopper_main, &st) != 0) {
        gw_http_stop(srv->http);
        srv->http = NULL;
        return 1;
    }
    while (!atomic_load(&st.done)) {
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            gw_log_warn("second signal: exiting without waiting for in-flight requests");
            return 0;
        }
        if (gw_now_ms() >= deadline) {
            gw_log_warn("shutdown grace period (%d ms) over: cutting in-flight requests", srv->cfg.shutdown_grace_ms);
            return 0;
        }
    }
    pthread_join(th, NULL);
    srv->http = NULL;
    return 1;
}

int main(int argc, char **argv)
{
    gw_server *srv = &gw_srv;
    char err[GW_ERR_LEN];
    sigset_t sigs;
    gw_pgpool_opts po;
    gw_credcache_opts co;
    int check_only = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            gw_usage(stdout);
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
    if (check_only) {
        gw_config_print(&srv->cfg, stdout);
        printf("configuration ok\n");
        gw_config_free(&srv->cfg);
        return 0;
    }
    gw_log_set_level(srv->cfg.log_level);

    /* Block the signals we take synchronously, in every thread to come. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    gw_log_info("gatewayd starting: mode %s, namespace '%s'", gw_config_mode_name(srv->cfg.mode),
                srv->cfg.edge_namespace);
    if (!srv->cfg.have_secret_key)
        gw_log_warn("no master key (AISTUDIO_SECRET_KEY / AISTUDIO_SECRET_KEY_FILE): sealed vendor keys cannot be "
                    "opened");
    if (srv->cfg.mode != GW_MODE_STANDALONE && srv->cfg.grpc_auth_token[0] == '\0')
        gw_log_warn("GRPC_AUTH_TOKEN is empty: hub and edges cannot authenticate each other");

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        gw_log_error("libcurl initialisation failed");
        gw_config_free(&srv->cfg);
        return GW_EXIT_STARTUP;
    }
    mg_init_library(0);
    gw_snapshot_holder_init(&srv->snapshots);
    atomic_init(&srv->db_ok, 0);
    atomic_init(&srv->stopping, 0);

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
    memset(&co, 0, sizeof(co));
    co.ttl_ms = srv->cfg.credential_cache_ttl_s * 1000;
    co.negative_ttl_ms = srv->cfg.credential_negative_ttl_s * 1000;
    co.resolver = gw_credresolve_db;
    co.resolver_ctx = srv->pool;
    if (gw_credcache_create(&co, &srv->creds, err) != 0) {
        gw_log_error("credential cache: %s", err);
        return GW_EXIT_STARTUP;
    }
    if (gw_reload_start(srv, err) != 0) {
        gw_log_error("reload thread: %s", err);
        return GW_EXIT_STARTUP;
    }
    if (gw_start_http(srv, err) != 0) {
        gw_log_error("%s", err);
        gw_reload_stop(srv);
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
            gw_reload_poke(srv);
            continue;
        }
        gw_log_info("%s: shutting down (grace %d ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                    srv->cfg.shutdown_grace_ms);
        break;
    }

    atomic_store(&srv->stopping, 1);
    if (!gw_drain(srv, &sigs)) {
        /* Workers are still busy: do not free what they use. */
        gw_log_info("gatewayd stopped");
        _exit(0);
    }
    gw_log_debug("listener stopped");
    gw_reload_stop(srv);
    gw_log_debug("reload thread stopped");
    gw_credcache_destroy(srv->creds);
    gw_pgpool_destroy(srv->pool);
    gw_snapshot_holder_destroy(&srv->snapshots);
    gw_config_free(&srv->cfg);
    mg_exit_library();
    curl_global_cleanup();
    gw_log_info("gatewayd stopped");
    return 0;
}
