/*
 * src/model/ratelimit.h: the rate limits of apps and LLMs (their
 * rate_limit_rpm / rate_limit_tpm in the snapshot) as token buckets kept
 * in this process: each gatewayd (and each edge) enforces its own, nothing
 * is shared between processes.
 *
 * A bucket holds up to `limit` units (requests, or prompt + completion
 * tokens) and refills continuously at limit/60 per second. Levels are
 * integers in 1/60000 of a unit, so that one millisecond refills exactly
 * `limit` of them: no floating point anywhere.
 *
 * Admission (gw_ratelimit_admit) takes one request from each applicable
 * requests bucket (the app's and the LLM's); a tokens bucket admits while
 * its level is above 0. Either all applicable buckets admit and the
 * requests buckets are charged, or nothing is taken from any of them.
 * When the answer's usage is known, gw_ratelimit_charge takes the
 * request's tokens from its tokens buckets, which may go negative: later
 * requests wait until they refill above 0.
 *
 * Limits come with each admission (the caller reads them from its current
 * snapshot): a bucket whose limit changed is resized — its level kept,
 * capped at the new size — never refilled to full; a new bucket starts
 * full. Buckets are keyed by (app or LLM, requests or tokens, id) and are
 * never removed (there are as many as configured limits).
 *
 * Locking: the buckets are spread over GW_RL_SHARDS shards, each with its
 * own mutex over its hash chains. An admission locks the shards of its
 * buckets in ascending shard order (each once), so concurrent admissions
 * never deadlock and see all their buckets at one instant.
 */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_RL_LIMIT_MAX 1000000000LL /* the extension's bound (aistudio.check_rate_limit) */
#define GW_RL_SHARDS 16

typedef struct gw_ratelimits gw_ratelimits;

/* The limits that apply to one request (0 = none; ids 0 = no such subject). */
typedef struct gw_rl_limits {
    int64_t app_id, app_rpm, app_tpm;
    int64_t llm_id, llm_rpm, llm_tpm;
} gw_rl_limits;

typedef enum gw_rl_result {
    GW_RL_OK = 0,
    GW_RL_APP_REQUESTS, /* the app's requests per minute are used up */
    GW_RL_LLM_REQUESTS, /* the LLM's */
    GW_RL_APP_TOKENS,   /* the app's tokens per minute are used up */
    GW_RL_LLM_TOKENS,   /* the LLM's */
    GW_RL_ERROR         /* out of memory for a new bucket */
} gw_rl_result;

/* What the x-ratelimit-*-requests or -tokens headers say: the tighter of the
 * app's and the LLM's bucket (fewer whole units remaining; then the lower
 * limit). */
typedef struct gw_rl_view {
    int set;           /* 0: no such limit applies */
    int64_t limit;     /* units per minute */
    int64_t remaining; /* whole units left now (never below 0) */
    int64_t reset_ms;  /* until the bucket is full again */
} gw_rl_view;

typedef struct gw_rl_ticket {
    gw_rl_view requests, tokens;
    int64_t retry_after_s; /* a refusal: whole seconds until it would admit (ceil, >= 1) */
    int64_t limit;         /* a refusal: the refusing bucket's limit */
    /* the tokens buckets to charge when the usage is known (0 = none) */
    int64_t app_tok_id, llm_tok_id;
} gw_rl_ticket;

int gw_ratelimit_create(gw_ratelimits **out, char err[GW_ERR_LEN]);
void gw_ratelimit_destroy(gw_ratelimits *rl);

/* 1 when any limit of lim applies. */
int gw_ratelimit_applies(const gw_rl_limits *lim);
/* Admits a request at now_ms (a monotonic clock) against the limits of lim
 * (see above); fills *t (the headers' views, the refusal's retry time). */
gw_rl_result gw_ratelimit_admit(gw_ratelimits *rl, const gw_rl_limits *lim, int64_t now_ms, gw_rl_ticket *t);
/* Takes tokens (prompt + completion; <= 0: nothing) from the tokens buckets
 * the admission of t applied. */
void gw_ratelimit_charge(gw_ratelimits *rl, const gw_rl_ticket *t, int64_t tokens, int64_t now_ms);

/* The level of a bucket in whole units (rounded down, may be negative), for
 * tests; 0 when it does not exist. tokens: the tokens bucket. */
int64_t gw_ratelimit_level(gw_ratelimits *rl, int is_llm, int tokens, int64_t id, int64_t now_ms);

/* A duration in OpenAI's form for the reset headers: "0s", "250ms", "1s",
 * "12.5s", "1m0s", "6m30.25s". */
const char *gw_ratelimit_duration(int64_t ms, char *out, size_t cap);

#endif
