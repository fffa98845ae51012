/*
 * src/gateway/proxy.c: the gateway's entry point on PROXY_PORT (see
 * proxy.h): /llm/… and /ai/… through the app-key pipeline, every other
 * path answered (404) and recorded, and /metrics.
 *
 * The pipeline (pipeline/pipeline.h) is built once at start-up by
 * gw_proxy_routes, before the listener starts: the app-key steps and the
 * shared ones (steps.h), then the relay as the upstream stage
 * (proxy_relay.h); no on_response step yet. A request: gw_preq_begin, the
 * walk of every stage (a step that stops the request has answered), then
 * gw_preq_end, which settles, records the one event and releases
 * (request.h).
 */
#include "gateway/proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "gateway/metrics.h"
#include "gateway/proxy_relay.h"
#include "gateway/request.h"
#include "gateway/steps.h"
#include "gateway/upstream.h"

static gw_pipeline gw_proxy_pipeline;

void gw_proxy_warm_thread(void)
{
    gw_preq_tls_warm();
}

void gw_proxy_close_analytics(gw_server *srv, int wait_ms)
{
    int64_t deadline = gw_now_ms() + wait_ms;
    struct timespec ts = {0, 1000000L};
    atomic_store(&srv->analytics_closed, 1);
    while (atomic_load(&srv->analytics_users) > 0 && gw_now_ms() < deadline)
        nanosleep(&ts, NULL);
}

int gw_proxy_pipeline_build(gw_pipeline *p, char err[GW_ERR_LEN])
{
    gw_pipeline_init(p, "proxy");
    if (gw_steps_add_app_key(p, err) != 0 || gw_steps_add_shared(p, err) != 0 ||
        gw_pipeline_add(p, GW_STAGE_UPSTREAM, "relay", gw_relay_step, NULL, err) != 0)
        return -1;
    return 0;
}

static int gw_proxy_handle(struct mg_connection *conn, void *cbdata)
{
    gw_preq r;

    memset(&r, 0, sizeof(r));
    if (gw_preq_begin(&r, cbdata, &gw_proxy_pipeline, conn) == 0)
        gw_pipeline_run(&gw_proxy_pipeline, GW_STAGE_PRE_AUTH, GW_STAGE_UPSTREAM, &r);
    return gw_preq_end(&r);
}

/* ---- /metrics ---- */

static int gw_proxy_metrics(struct mg_connection *conn, void *cbdata)
{
    gw_server *srv = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    gw_metrics_ext x;
    gw_snapshot *snap;
    gw_buf b;
    int rc;

    if (strcmp(ri->local_uri, "/metrics") != 0) {
        gw_http_send_error(conn, 404, "no such route", "not_found");
        return 404;
    }
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        gw_http_send_error(conn, 405, "only GET and HEAD are allowed here", "method_not_allowed");
        return 405;
    }
    memset(&x, 0, sizeof(x));
    if (srv->analytics != NULL) {
        gw_analytics_stats_get(srv->analytics, &x.analytics);
        x.have_analytics = 1;
    }
    if (srv->journal != NULL) {
        gw_journal_stats_get(srv->journal, &x.journal);
        x.have_journal = 1;
    }
    if (srv->creds != NULL) {
        gw_credcache_stats_get(srv->creds, &x.credcache);
        x.have_credcache = 1;
    }
    x.snapshot_loads = atomic_load(&srv->snapshot_loads);
    snap = gw_snapshot_current(&srv->snapshots);
    x.snapshot_loaded = snap != NULL;
    gw_snapshot_release(snap);
    x.ready = x.snapshot_loaded && atomic_load(&srv->db_ok) && !atomic_load(&srv->stopping);
    x.requests_in_flight = atomic_load(&srv->proxy_inflight);
    {
        struct mg_context *lis[3] = {srv->http, srv->admin_http, srv->docs_http};
        for (int i = 0; i < 3; i++)
            if (gw_http_stats(lis[i], &x.servers[x.nservers]) == 0)
                x.nservers++;
    }
    gw_upstream_pool_stats_get(&x.upstream);
    x.have_upstream = 1;
    gw_buf_init(&b, 16u << 20);
    rc = gw_metrics_render(srv->metrics, &x, &b);
    if (rc != 0) {
        gw_buf_free(&b);
        gw_http_send_error(conn, 500, "metrics too large", NULL);
        return 500;
    }
    gw_http_send(conn, 200, GW_METRICS_CONTENT_TYPE, b.data, b.len);
    gw_buf_free(&b);
    return 200;
}

int gw_proxy_routes(gw_server *srv, gw_http_route routes[GW_PROXY_NROUTES], char err[GW_ERR_LEN])
{
    if (gw_proxy_pipeline_build(&gw_proxy_pipeline, err) != 0)
        return -1;
    routes[0] = (gw_http_route){"/llm", gw_proxy_handle, srv};
    routes[1] = (gw_http_route){"/ai", gw_proxy_handle, srv};
    routes[2] = (gw_http_route){"/metrics", gw_proxy_metrics, srv};
    /* every other path is answered (404) and recorded by the proxy too */
    routes[3] = (gw_http_route){"/**", gw_proxy_handle, srv}; /* before server.c's "**" */
    return 0;
}
