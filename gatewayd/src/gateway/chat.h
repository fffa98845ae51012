/*
 * src/gateway/chat.h: the chat endpoint of the REST API, POST
 * /api/v1/chat/completions on SERVER_PORT (docs/rest-api.md, "Chat").
 *
 * An OpenAI chat-completions request (messages, temperature, max_tokens,
 * stop, tools, stream + stream_options, …) plus "llm" (the LLM's slug; or
 * "llm_id"), from a signed-in user: the session cookie (with X-CSRF-Token)
 * or a personal API token, resolved by gw_admin_whoami. The user's groups
 * must grant the LLM (aistudio.can_use_llm, cached per (user, LLM) for
 * GW_CHAT_ACCESS_TTL_MS and dropped on every configuration change); then
 * the request runs the gateway's /ai flow (request.h, steps.h: translation to the
 * LLM's vendor, streaming relay with usage, the LLM's budget, timeouts,
 * stalls, client disconnects) and is recorded as one analytics event with
 * interaction_type 'chat', the user's id and no app.
 */
#ifndef GW_HTTP_CHAT_H
#define GW_HTTP_CHAT_H

#include "gatewayd.h"
#include "admin/admin.h"
#include "http/server.h"

#define GW_CHAT_NROUTES 1
#define GW_CHAT_ACCESS_TTL_MS 30000 /* how long a (user, LLM) access answer is reused */
/* Chat requests in progress at once: each holds one of the GW_ADMIN_THREADS
 * workers of SERVER_PORT for as long as its upstream answers, so some are
 * always left to the REST API and the web UI (503 chat_busy beyond). */
#define GW_CHAT_MAX_INFLIGHT (GW_ADMIN_THREADS - 8)

/* Builds the chat's pipeline and fills routes with
 * "/api/v1/chat/completions" (srv as cbdata), for gw_admin_start_with. -1
 * with err when a step cannot be registered. */
int gw_chat_routes(gw_server *srv, gw_http_route routes[GW_CHAT_NROUTES], char err[GW_ERR_LEN]);

/* Forgets every cached access answer; answers being fetched now are not
 * cached. Called by the reload thread on NOTIFY aistudio_config and after
 * it reconnected. Thread-safe. */
void gw_chat_invalidate(void);

#endif
