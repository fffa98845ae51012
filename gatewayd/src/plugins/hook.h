/*
 * src/plugins/hook.h: plugins as a kind of hook of the request pipeline
 * (pipeline/hooks.h): each plugin attached to an LLM runs at the stage of
 * its hook through the plugin host (plugins/host.h).
 *
 *   pre_auth, auth, post_auth  one HandleRequest call: the request's
 *       context, method, path, headers (credentials removed: never the
 *       vendor key, which is added only to the upstream request, nor the
 *       client's key headers; an auth plugin gets the Authorization
 *       header), body and prompt texts. CONTINUE, MODIFY (a new body, or
 *       new texts written back into the body in its own format; headers to
 *       set upstream), BLOCK; any action but BLOCK may carry the caller
 *       (auth only) and an upstream override.
 *   on_response  a JSON answer: one HandleResponse call (the body and its
 *       texts); a streamed answer, when the plugin's manifest asks for
 *       streams: one StreamResponse call, a chunk per unit with text, an
 *       end chunk at the unit that ends the answer (its text result, if
 *       any, goes out as a copy of the last text unit before that unit);
 *       units without text pass as they are. Without streaming_response a
 *       streamed answer passes untouched.
 * A plugin that is not running, misses its deadline or answers garbage
 * fails the request (503 plugin_unavailable, or the answer ends with that
 * error), unless the attachment says fail_open: then the request (or the
 * answer) goes on without it, and a warning is logged at most every 10 s
 * per plugin.
 */
#ifndef GW_PLUGINS_HOOK_H
#define GW_PLUGINS_HOOK_H

#include "base/common.h"
#include "pipeline/hooks.h"
#include "plugins/host.h"

/* Registers the plugin kind with the pipeline, calling host (at start-up,
 * before any listener). */
int gw_plugin_hooks_register(gw_plugin_host *host, char err[GW_ERR_LEN]);

/* Applies the active plugins of snapshot s to the host (the loader's
 * swapped callback: ctx is the host). */
void gw_plugin_host_apply(void *host, gw_snapshot *s);

#endif
