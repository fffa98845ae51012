/*
 * src/gateway/llmcheck.h: the LLM checks of the REST API (docs/rest-api.md,
 * "LLM checks"), admins only:
 *
 *   POST /api/v1/llms/{id}/test    one small call to the LLM's upstream
 *                                  through the gateway's own upstream path
 *                                  (upstream.h): the vendor's model list
 *                                  where it has one, else a chat request
 *                                  with max_tokens 1 for the default model.
 *                                  200 {"ok", "status", "latency_ms",
 *                                  "error", "code", "method", "path",
 *                                  "models"} whatever the upstream answered.
 *   GET  /api/v1/llms/{id}/models  the vendor's model list: 200 {"data":
 *                                  [names]}, 502 when the upstream fails,
 *                                  501 for a vendor without one.
 *
 * Who may: aistudio.check_llm_test (the acting user an admin; the LLM
 * exists), in the request's transaction, which ends before the upstream
 * call. The LLM (endpoint, opened vendor key) is this gateway's snapshot's:
 * an LLM it does not serve (another namespace) is 409. The vendor key is
 * sent only where a $SECRET key's hosts allow (keyhosts.h) and is removed
 * from everything the upstream answers (redact.h) before it is read; the
 * call is bounded by UPSTREAM_CONNECT_TIMEOUT_MS and min(UPSTREAM_TIMEOUT_MS,
 * GW_LLMCHECK_DEADLINE_MS).
 */
#ifndef GW_GATEWAY_LLMCHECK_H
#define GW_GATEWAY_LLMCHECK_H

#include "gatewayd.h"

#define GW_LLMCHECK_DEADLINE_MS 15000
#define GW_LLMCHECK_MAX_BODY (1u << 20) /* more of an answer is not read */
#define GW_LLMCHECK_MAX_MODELS 2000

/* Adds the two operations to the REST API (gw_admin_add_ops); srv is the
 * running server (its snapshot and settings). Before gw_admin_start_with. */
void gw_llmcheck_register(gw_server *srv);

#endif
