/*
 * src/model/budget.h: monthly budgets enforced without overspending. Before
 * an upstream call the proxy reserves the request's worst-case cost (from
 * its max tokens, prompt size and the model's price) against the app's and
 * the LLM's remaining budget, atomically in memory; when the call ends the
 * reservation is settled with the real cost. Spend is seeded from the
 * database (aistudio.budget_status / llm_budget_status) on first use and
 * refreshed periodically; costs settled locally but not yet ingested count
 * as spent until the analytics writer confirms them (gw_budget_on_commit).
 * Costs are doubles in the budget's currency: admission is an estimate, the
 * exact cost is computed by the database.
 */
#ifndef GW_BUDGET_H
#define GW_BUDGET_H

#include <stdint.h>

#include "ingest/analytics.h"
#include "base/common.h"
#include "db/pgpool.h"
#include "model/snapshot.h"

typedef struct gw_budget gw_budget;

typedef enum gw_budget_result {
    GW_BUDGET_OK = 0,
    GW_BUDGET_APP_EXCEEDED,
    GW_BUDGET_LLM_EXCEEDED,
    GW_BUDGET_UNAVAILABLE /* the spend could not be read (database down and never seeded) */
} gw_budget_result;

typedef struct gw_budget_ticket {
    int64_t app_id;  /* 0 when the app has no budget */
    int64_t llm_id;  /* 0 when the LLM has no budget */
    double reserved;
} gw_budget_ticket;

int gw_budget_create(gw_pgpool *pool, int refresh_s, gw_budget **out, char err[GW_ERR_LEN]);
void gw_budget_destroy(gw_budget *b);

/* The most tokens a prompt of this many bytes can be (the estimate of the
 * budget's reservation and of the max_prompt filter's max_tokens): a token
 * covers at least one byte of the prompt's text or JSON (which also pays
 * for the per-message overhead), plus 16. */
static inline int64_t gw_budget_prompt_tokens_max(size_t prompt_bytes)
{
    return (int64_t)prompt_bytes + 16;
}

/* Worst-case cost of a request: prompt_tokens_max at the input price (or
 * the cache-write / cache-read price when dearer: any prompt token may be
 * one) plus max_tokens (or default_max_tokens when -1) at the output price.
 * 0 when unpriced. The proxy passes the settled cost as gw_event.est_cost. */
double gw_budget_worst_cost(const gw_price *price, int64_t prompt_tokens_max, int64_t max_tokens,
                            int64_t default_max_tokens);
/* Cost of reported usage with the vendor's token semantics (mirrors aistudio.cost). */
double gw_budget_cost(const gw_price *price, const char *vendor, int64_t prompt, int64_t response, int64_t cache_write,
                      int64_t cache_read);

/*
 * Reserves worst_cost against the app budget (app_budget: exact decimal
 * string, "" = none; app_start: YYYY-MM-DD or "") and the LLM's budget.
 * Both or neither are reserved. On GW_BUDGET_OK the ticket must be settled.
 */
gw_budget_result gw_budget_reserve(gw_budget *b, int64_t app_id, const char *app_budget, const char *app_start,
                                   const gw_llm *llm, double worst_cost, gw_budget_ticket *t);
/* Replaces the reservation with the actual cost (0 for a failed call). */
void gw_budget_settle(gw_budget *b, gw_budget_ticket *t, double actual_cost);
/* gw_analytics_commit_fn: the events' costs are now in the database's spend. */
void gw_budget_on_commit(void *ctx, const gw_event *events, int n);

#endif
