/*
 * src/gateway/health.c: /healthz and /readyz (see health.h).
 */
#include "gateway/health.h"

#include <string.h>

#include "base/json.h"

/* Exact path and GET/HEAD only; answers the request otherwise. Returns the
 * status sent, or 0 when the handler should go on. */
static int gw_health_check_request(struct mg_connection *conn, const char *path)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri == NULL || ri->local_uri == NULL || strcmp(ri->local_uri, path) != 0) {
        gw_http_send_error(conn, 404, "no such route", "not_found");
        return 404;
    }
    if (strcmp(ri->request_method, "GET") == 0 || strcmp(ri->request_method, "HEAD") == 0)
        return 0;
    gw_http_send_error(conn, 405, "only GET and HEAD are allowed here", "method_not_allowed");
    return 405;
}

static int gw_health_healthz(struct mg_connection *conn, void *cbdata)
{
    int rc;
    (void)cbdata;
    if ((rc = gw_health_check_request(conn, "/healthz")) != 0)
        return rc;
    gw_http_send(conn, 200, "text/plain; charset=utf-8", "ok", 2);
    return 200;
}

static int gw_health_readyz(struct mg_connection *conn, void *cbdata)
{
    gw_server *srv = cbdata;
    gw_snapshot *snap;
    char mem[512];
    gw_buf b;
    gw_jw w;
    int db_ok, stopping, ready, status;

    if ((status = gw_health_check_request(conn, "/readyz")) != 0)
        return status;
    snap = gw_snapshot_current(&srv->snapshots);
    db_ok = atomic_load(&srv->db_ok);
    stopping = atomic_load(&srv->stopping);
    ready = snap != NULL && db_ok && !stopping;
    status = ready ? 200 : 503;

    gw_buf_init_fixed(&b, mem, sizeof(mem));
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "status");
    gw_jw_string(&w, ready ? "ready" : "not_ready");
    gw_jw_key(&w, "snapshot_loaded");
    gw_jw_bool(&w, snap != NULL);
    gw_jw_key(&w, "snapshot_checksum");
    gw_jw_string(&w, snap != NULL ? gw_snapshot_checksum(snap) : NULL);
    gw_jw_key(&w, "database");
    gw_jw_string(&w, db_ok ? "up" : "unreachable");
    gw_jw_key(&w, "shutting_down");
    gw_jw_bool(&w, stopping);
    gw_jw_key(&w, "mode");
    gw_jw_string(&w, gw_config_mode_name(srv->cfg.mode));
    gw_jw_object_end(&w);
    gw_snapshot_release(snap);
    if (gw_jw_finish(&w) != 0) {
        gw_http_send_error(conn, 500, "readiness report too large", NULL);
        return 500;
    }
    gw_http_send_json(conn, status, b.data, b.len);
    return status;
}

void gw_health_routes(gw_server *srv, gw_http_route routes[GW_HEALTH_NROUTES])
{
    routes[0] = (gw_http_route){"/healthz", gw_health_healthz, srv};
    routes[1] = (gw_http_route){"/readyz", gw_health_readyz, srv};
}
