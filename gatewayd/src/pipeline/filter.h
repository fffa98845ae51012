/*
 * src/pipeline/filter.h: the built-in content filters, compiled from a
 * filter's type and config (the extension checked both when the filter
 * was stored: sql/src/04_config.sql check_filter_fields) and run on text:
 *
 *   regex       {patterns: [...], action: "block" | "allow", message?}
 *               block when a pattern is found in a text part (allow: when
 *               none is found in any); the patterns are the product's one
 *               pattern language (pattern.h: PCRE2, searched like `~`, with
 *               its match limits). A pattern that hits a limit blocks (fail
 *               closed).
 *   keywords    {keywords: [...], whole_word?: bool, message?}
 *               block when a keyword appears, case-insensitively (ASCII,
 *               Latin-1, Latin Extended-A, Greek and Cyrillic letters fold
 *               to lower case); whole_word: not inside a longer word.
 *   pii         {kinds?: ["email","phone","card","iban"], placeholders?:
 *               {email: "[EMAIL]", ...}, action?: "redact" | "block", message?}
 *               replace personal data with placeholders (pii.h), or block.
 *   max_prompt  {max_chars?: N, max_tokens?: N} (one at least)
 *               block a prompt longer than N characters, or than N tokens
 *               as the budget estimates them (model/budget.h
 *               gw_budget_prompt_tokens_max of its bytes): 413
 *               prompt_too_large.
 *
 * gw_filter_check runs one filter on the text parts of a prompt or a whole
 * answer (a part it changes is replaced in t, see text.h); the streaming
 * side is filter_hook.c's. The same code serves requests and the REST
 * API's test endpoint (POST /api/v1/filters/{id}/test).
 *
 * A compiled filter is immutable: run it from any number of threads.
 */
#ifndef GW_PIPELINE_FILTER_H
#define GW_PIPELINE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "pipeline/hooks.h"
#include "pipeline/pii.h"
#include "pipeline/text.h"

typedef enum gw_filter_type {
    GW_FILTER_REGEX = 0,
    GW_FILTER_KEYWORDS,
    GW_FILTER_PII,
    GW_FILTER_MAX_PROMPT
} gw_filter_type;

typedef struct gw_filter gw_filter;

/* Compiles a filter; -1 with err naming the problem ("config.patterns[2]:
 * missing ) at offset 4", "unknown filter type \"script\""). */
int gw_filter_compile(const char *type, const char *config_json, gw_filter **out, char err[GW_ERR_LEN]);
void gw_filter_free(gw_filter *f);
gw_filter_type gw_filter_type_of(const gw_filter *f);
/* The custom block message of the config ("" when none). */
const char *gw_filter_message(const gw_filter *f);
const gw_pii_opts *gw_filter_pii(const gw_filter *f);
int gw_filter_pii_blocks(const gw_filter *f); /* pii with action "block" */

/* What a filter decided about some text. */
typedef struct gw_filter_outcome {
    gw_hook_action action;          /* CONTINUE (pass), MODIFY (parts replaced in t), BLOCK */
    int status;                     /* BLOCK: 400, or 413 for max_prompt */
    char code[GW_HOOK_CODE_MAX];    /* BLOCK: blocked_by_filter, prompt_too_large */
    char message[GW_HOOK_MSG_MAX];  /* BLOCK: why ("" : the runner's default) */
    gw_buf matches;                 /* a JSON array of what was found: {"pattern":i} / {"keyword":"…"} /
                                       {"kind":"card","part":i,"at":n,"length":n} / {"chars":n,"tokens":n} */
    int nmatches;
} gw_filter_outcome;

void gw_filter_outcome_init(gw_filter_outcome *o);
void gw_filter_outcome_free(gw_filter_outcome *o);

/* Runs f on the parts of t (a prompt, or a whole answer when answer is set:
 * max_prompt does not apply to answers). -1 when out of memory. */
int gw_filter_check(const gw_filter *f, gw_text *t, int answer, gw_filter_outcome *o);

/* 1 when f blocks on text alone (regex in block mode, keywords): the
 * stream side searches each new piece with the window before it. */
int gw_filter_find(const gw_filter *f, const char *text, size_t len, gw_filter_outcome *o);

#endif
