/*
 * src/gateway/proxy.h: the gateway's request handler (DESIGN §3, the hot
 * path) and /metrics, mounted on the proxy port.
 *
 * One request walks the stages of the proxy's pipeline (steps.h): route
 * → request id → credential (in-memory cache) → snapshot checks (LLM, app,
 * owner, access) → body (bounded) → vendor key → vendor preparation or /ai
 * translation → model → per-app stream limit → budget reservation →
 * upstream call relayed frame by frame while usage is extracted (the
 * on_response steps see each frame) → budget settlement → exactly one
 * analytics event, whatever the exit path. No database round trip once the caches are warm, no lock
 * held across I/O, logs at debug level only.
 *
 * Errors are JSON in the OpenAI shape {"error":{message,type,code}}; every
 * response carries x-request-id (minted here; a client-supplied one is
 * ignored, so analytics ids stay unique) and Server-Timing (gw;dur= the
 * gateway's own time in ms).
 */
#ifndef GW_HTTP_PROXY_H
#define GW_HTTP_PROXY_H

#include "http/server.h"
#include "gatewayd.h"

#define GW_PROXY_NROUTES 4

/* Builds the proxy's pipeline and fills routes with /llm, /ai, /metrics
 * and a catch-all pattern (every other path gets a recorded 404), srv as
 * cbdata. -1 with err when a step cannot be registered. */
int gw_proxy_routes(gw_server *srv, gw_http_route routes[GW_PROXY_NROUTES], char err[GW_ERR_LEN]);
/* The app-key pipeline of /llm and /ai (steps.h, then the relay). */
struct gw_pipeline;
int gw_proxy_pipeline_build(struct gw_pipeline *p, char err[GW_ERR_LEN]);
/* The proxy's per-thread state (buffers, curl handles), made when a worker
 * thread starts (gw_http_opts.warm_thread) rather than on its first request. */
void gw_proxy_warm_thread(void);

/* Stops new recording and waits (up to wait_ms) for recorders in progress. */
void gw_proxy_close_analytics(gw_server *srv, int wait_ms);

#endif
