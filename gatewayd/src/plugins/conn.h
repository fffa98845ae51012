/*
 * src/plugins/conn.h: the gRPC connection to one plugin process (a
 * gw_rpc_client over its unix socket) and the calls of the Plugin service
 * (proto/aistudio/v1/plugin.proto): the host's (GetManifest, Configure,
 * Health) and the hooks request threads make (HandleRequest, or its
 * stream HandleRequests when the plugin offers it, HandleResponse,
 * StreamResponse), each with the plugin's deadline, its answer unpacked
 * and checked. A failed hook call is counted and reported
 * to the instance's supervisor (gw_plugin_conn_watch) so that it checks the
 * plugin's health at once.
 *
 * LOCKING. A conn is reference counted (atomic); the last release destroys
 * the rpc client, which no rpc callback ever does (the stream callbacks
 * below only copy and signal). c->mu guards the failure callback, which the
 * supervisor clears (gw_plugin_conn_unwatch) before it lets the conn go, so
 * a late failure never reaches an instance that is gone. c->pool_mu guards
 * the pool of idle HandleRequests streams (conn.c tells how it works); the
 * pooled streams hold no reference on the conn, so the last release closes
 * them (they are all idle then: a request thread holds a reference while
 * it uses one). A stream's
 * s->mu/s->cv hand each answer from the client's event thread to the
 * request thread waiting for it.
 */
#ifndef GW_PLUGINS_CONN_H
#define GW_PLUGINS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "aistudio/v1/plugin.pb-c.h"
#include "base/common.h"

#define GW_PLUGIN_DEFAULT_TIMEOUT_MS 100
#define GW_PLUGIN_MAX_TIMEOUT_MS 60000
#define GW_PLUGIN_MAX_MESSAGE (16u << 20) /* largest message either way */
#define GW_PLUGIN_POOL_STREAMS 64           /* HandleRequests streams kept per plugin */

typedef struct gw_plugin_conn gw_plugin_conn;

/* A client of the socket target ("unix:/path"), one reference for the caller. */
gw_plugin_conn *gw_plugin_conn_create(const char *target, const char *name, char err[GW_ERR_LEN]);
void gw_plugin_conn_ref(gw_plugin_conn *c);
void gw_plugin_conn_release(gw_plugin_conn *c);

/* After the start steps: the hook deadline, whether its manifest asked for
 * streamed answers (streams) and offers request hooks on streams
 * (request_stream: HandleRequests). */
void gw_plugin_conn_setup(gw_plugin_conn *c, int timeout_ms, int streams, int request_stream);
/* Calls fn(arg) after each failed hook call (from the failing thread). */
void gw_plugin_conn_watch(gw_plugin_conn *c, void (*fn)(void *arg), void *arg);
void gw_plugin_conn_unwatch(gw_plugin_conn *c);

/* Before its process is stopped: ends the idle HandleRequests streams (the
 * plugin's server would wait for them) and pools no stream any more. */
void gw_plugin_conn_drain(gw_plugin_conn *c);

const char *gw_plugin_conn_name(const gw_plugin_conn *c);
int gw_plugin_conn_timeout_ms(const gw_plugin_conn *c);
int gw_plugin_conn_streams(const gw_plugin_conn *c);
/* Failed hook calls so far. */
int64_t gw_plugin_conn_failures(const gw_plugin_conn *c);

/* ---- the host's calls (timeout_ms each) ---- */

/* Free *out with aistudio__v1__manifest__free_unpacked(*out, NULL). */
int gw_plugin_conn_manifest(gw_plugin_conn *c, int timeout_ms, Aistudio__V1__Manifest **out, char err[GW_ERR_LEN]);
int gw_plugin_conn_configure(gw_plugin_conn *c, const Aistudio__V1__ConfigureRequest *req, int timeout_ms,
                             char err[GW_ERR_LEN]);
/* 0 when it answers serving. */
int gw_plugin_conn_health(gw_plugin_conn *c, int timeout_ms, char err[GW_ERR_LEN]);

/* ---- hooks ---- */

/*
 * A request hook (pre_auth, auth, post_auth; hook is req->context->hook).
 * 0 with *out (free it with aistudio__v1__hook_result__free_unpacked(*out,
 * NULL)); -1 with err when the call failed, the answer does not decode or
 * is not valid (an unknown action, a block status outside 400..599, an app
 * id from another hook than auth, replace_texts with another count of
 * texts than it was sent, a header name that is not a token...).
 */
int gw_plugin_call_request(gw_plugin_conn *c, const Aistudio__V1__RequestHookCall *req, Aistudio__V1__HookResult **out,
                           char err[GW_ERR_LEN]);
/* on_response, a JSON answer (replace_texts: one per text sent). */
int gw_plugin_call_response(gw_plugin_conn *c, const Aistudio__V1__ResponseHookCall *req,
                            Aistudio__V1__HookResult **out, char err[GW_ERR_LEN]);

typedef struct gw_plugin_stream gw_plugin_stream;
/* Opens a StreamResponse call on c (which it references until closed). */
gw_plugin_stream *gw_plugin_stream_open(gw_plugin_conn *c, char err[GW_ERR_LEN]);
/* Sends one chunk and waits for its result (the plugin's deadline); free
 * *out with aistudio__v1__chunk_result__free_unpacked. -1 with err: the
 * stream is broken and every later chunk fails too. */
int gw_plugin_stream_chunk(gw_plugin_stream *s, const Aistudio__V1__ResponseChunk *chunk,
                           Aistudio__V1__ChunkResult **out, char err[GW_ERR_LEN]);
/* Half-closes (or cancels a broken stream) and frees s. */
void gw_plugin_stream_close(gw_plugin_stream *s);

/* "pre_auth" → AISTUDIO__V1__HOOK__HOOK_PRE_AUTH ...; HOOK_UNSPECIFIED for
 * anything else (the SQL also allows "upstream", which no plugin serves). */
Aistudio__V1__Hook gw_plugin_hook_from_name(const char *name);
const char *gw_plugin_hook_name(Aistudio__V1__Hook hook);

/* 1 when name is an HTTP header name (an RFC 9110 token). */
int gw_plugin_header_name_ok(const char *name);

#endif
