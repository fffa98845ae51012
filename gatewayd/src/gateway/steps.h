/*
 * src/gateway/steps.h: the built-in steps of the gateway's pipelines
 * (pipeline/pipeline.h), registered when the gateway starts:
 *   gw_steps_add_app_key   /llm and /ai on PROXY_PORT:
 *       pre_auth   route (404, 400 invalid_path), method (405), in flight
 *                  (503 shutting_down), the LLM looked up (so that every
 *                  event names it, even a 401's), the LLM's pre_auth
 *                  filters and plugins (llm_hooks.h)
 *       auth       the LLM's auth plugins, the API key (401
 *                  invalid_api_key / api_key_expired,
 *                  503 auth_unavailable)
 *       post_auth  configuration loaded (503), LLM found (404), active
 *                  (403), app active, owner active, the app may use the
 *                  LLM (403), the body (413, 400)
 *   gw_steps_add_shared    every entry point, after its own post_auth steps:
 *       post_auth  the vendor key (503), a supported vendor (502), the
 *                  vendor request or /ai translation (4xx), the model
 *                  allowed (403), the concurrent streams per app (per user
 *                  without an app; 429), the budget reservation (429, 503)
 *                  and the journal note of the LLM call, the app's and
 *                  the LLM's rate limits (429 rate_limited,
 *                  model/ratelimit.h), the LLM's post_auth filters and
 *                  plugins (llm_hooks.h)
 *       on_response the LLM's on_response filters and plugins
 * The chat (chat.c) registers its own pre_auth/auth/post_auth steps (a
 * session instead of an API key) and then the shared ones; the upstream
 * stage is the relay's (proxy_relay.h). Each step answers the client when it
 * stops the request (gw_preq_fail). Statuses, codes, order: as before the
 * pipeline (docs/architecture.md).
 */
#ifndef GW_GATEWAY_STEPS_H
#define GW_GATEWAY_STEPS_H

#include "pipeline/pipeline.h"

int gw_steps_add_app_key(gw_pipeline *p, char err[GW_ERR_LEN]);
int gw_steps_add_shared(gw_pipeline *p, char err[GW_ERR_LEN]);

/* Steps the chat shares with the app-key pipeline (post_auth). */
int gw_step_config_loaded(struct gw_preq *r, void *arg);
int gw_step_llm_active(struct gw_preq *r, void *arg);
int gw_step_enter(struct gw_preq *r, void *arg);

#endif
