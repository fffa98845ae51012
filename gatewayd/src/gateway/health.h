/*
 * src/gateway/health.h: liveness and readiness endpoints, mounted on every
 * listener. /healthz answers 200 "ok" while the process serves HTTP.
 * /readyz answers 200 only when a snapshot is loaded, the database is
 * reachable and no shutdown is in progress; otherwise 503 with a JSON body
 * saying which condition failed.
 */
#ifndef GW_HTTP_HEALTH_H
#define GW_HTTP_HEALTH_H

#include "http/server.h"
#include "gatewayd.h"

#define GW_HEALTH_NROUTES 2

/* Fills routes[0..GW_HEALTH_NROUTES) with srv as cbdata. */
void gw_health_routes(gw_server *srv, gw_http_route routes[GW_HEALTH_NROUTES]);

#endif
