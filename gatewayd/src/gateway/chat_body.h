/*
 * src/gateway/chat_body.h: the request-side grammar of POST
 * /api/v1/chat/completions that is not OpenAI's: which LLM the body names.
 * Pure functions (no civetweb, no I/O), unit-tested in
 * regress/unit/test_chat_body.c.
 *
 * The body is an OpenAI chat-completions request plus "llm" (the LLM's
 * slug, or its name) or "llm_id" (its id, an integer or a string of
 * digits). Both members are blanked out of the body in place (overwritten
 * with spaces, so the body stays valid JSON of the same length) before the
 * body is translated: an upstream never sees them (OpenAI itself refuses
 * unknown members).
 */
#ifndef GW_HTTP_CHAT_BODY_H
#define GW_HTTP_CHAT_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_CHAT_LLM_MAX 256 /* longest "llm" value, bytes */

typedef struct gw_chat_target {
    char llm[GW_CHAT_LLM_MAX]; /* "llm" as given ("" when absent) */
    int64_t llm_id;            /* "llm_id" (0 when absent) */
} gw_chat_target;

/*
 * Validates body[0..len) as one JSON object, reads "llm" and "llm_id" into
 * *out and blanks both members out of body. Returns 0, or -1 with *code
 * ("invalid_request": not a JSON object, a member of the wrong type, a
 * repeated member; "llm_required": neither member) and err.
 */
int gw_chat_take_target(char *body, size_t len, gw_chat_target *out, const char **code, char err[GW_ERR_LEN]);

/* The slug the extension gives an LLM name (aistudio.llm_slug): lower
 * case, every run of characters other than a-z and 0-9 turned into one
 * '-'. Truncated to cap - 1 bytes. */
void gw_chat_slugify(const char *name, char *out, size_t cap);

#endif
