/*
 * src/gateway/llm_hooks.h: the steps that run an LLM's filters and plugins
 * (pipeline/hooks.h) in the gateway's pipelines, one per stage:
 *
 *   gw_step_hooks_pre_auth   the LLM's pre_auth hooks on the client's body
 *       (read here, before the credential is checked, when there are such
 *       hooks); /llm, /ai: right after the LLM is looked up; the chat: as
 *       soon as the body names the LLM (its session is checked before)
 *   gw_step_hooks_auth       the auth hooks (before the API key)
 *   gw_step_hooks_post_auth  after the access and budget checks, on the
 *       upstream request's body (after the /ai translation), just before
 *       the upstream call; also readies the on_response hooks (a hook that
 *       cannot run refuses the request here, before any upstream call)
 *   gw_step_hooks_response   on_response: each unit of the answer, and
 *       the end (what a hook held back)
 *
 * A block answers the client (gw_preq_block: the vendor's error shape on
 * pass-through routes) and the request's one event records it with the
 * hook's name, no upstream call, no cost: gw_preq_end settles the budget
 * reservation with 0. A changed body replaces the client's (pre_auth) or
 * the upstream request's (post_auth); headers a hook sets go on the
 * upstream request (post_auth).
 */
#ifndef GW_GATEWAY_LLM_HOOKS_H
#define GW_GATEWAY_LLM_HOOKS_H

#include "pipeline/pipeline.h"

struct gw_preq;

int gw_step_hooks_pre_auth(struct gw_preq *r, void *arg);
int gw_step_hooks_auth(struct gw_preq *r, void *arg);
int gw_step_hooks_post_auth(struct gw_preq *r, void *arg);
int gw_step_hooks_response(struct gw_preq *r, void *arg, const char *data, size_t len, gw_piece_fn next,
                           void *next_ctx);

#endif
