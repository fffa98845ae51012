/*
 * src/pipeline/filter_hook.h: the built-in filters as a hook kind
 * (pipeline/hooks.h), registered by main.c as GW_HOOK_FILTER:
 *
 *   pre_auth, post_auth  the prompt's text parts (text.h) through the
 *       filter (filter.h): a block is the request's answer; a change is
 *       written back into the body in the same format. A request with no
 *       prompt (dialect none: model lists, embeddings, token counts)
 *       passes untouched; a prompt body that is not JSON is refused (400).
 *   on_response  the answer: a whole JSON answer is checked and redacted
 *       like a prompt; a stream is taken unit by unit — regex and keywords
 *       search each new piece of each channel's text together with the
 *       GW_FILTER_WINDOW bytes before it and stop the answer on a match;
 *       pii redacts through a per-channel hold-back (pii.h) so that a
 *       number split over frames is replaced whole: held text goes out in
 *       the channel's next unit, or, when the channel or the answer ends
 *       in a unit without its text, in a unit made from the channel's last
 *       text unit (the same frame with only the text changed) sent just
 *       before it, and at the very end.
 */
#ifndef GW_PIPELINE_FILTER_HOOK_H
#define GW_PIPELINE_FILTER_HOOK_H

#include "pipeline/hooks.h"

#define GW_FILTER_WINDOW 256 /* bytes of earlier answer text searched with each new piece */
#define GW_FILTER_CHANNELS 8 /* channels (choices, candidates, blocks) of one answer followed at once */

extern const gw_hook_ops gw_filter_hook_ops;

#endif
