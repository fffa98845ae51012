/*
 * src/model/budget.h: monthly budgets enforced without overspending. Before
 * an upstream call the proxy reserves the request's worst-case cost (from
 * its max tokens, prompt size and the model's price) against the app's and
 * the LLM's remaining budget, atomically in memory; when the call ends the
 * reservation is settled with the real cost. Spend is seeded from the
 * database (aistudio.budget_status / llm_budget_status) on first use,
 * refreshed periodically, and read again when the budget period changes;
 * costs settled here count as spent while the analytics writer stores them
 * (gw_budget_on_commit) and after.
 *
 * Money is exact integer arithmetic (gw_money, base/money.h): the
 * snapshot gives prices per million tokens and budgets in 10^-9 units
 * (aistudio.vendors / model_prices / budgets, at most 9 decimal places), so
 * tokens × price is exact here, as it is in the database. The rules are the
 * extension's: the vendor's token semantics (gw_vendor, from
 * aistudio.vendors) and the period bounds (budget_status's period_end; no
 * calendar here).
 *
 * On an edge the same admission runs against a lease (sync/edge_lease.h):
 * a source set with gw_budget_set_source gives each subject's spend (the
 * edge's own, from its database) and its limit (the grant of the hub),
 * and gw_budget_set_limit moves the limit when a renewal lands; the edge
 * renews in the background from what gw_budget_usage_get reports.
 */
#ifndef GW_BUDGET_H
#define GW_BUDGET_H

#include <stdint.h>

#include "base/common.h"
#include "base/money.h"
#include "db/pgpool.h"
#include "ingest/analytics.h"
#include "model/snapshot.h"


typedef struct gw_budget gw_budget;

/* Subjects. */
#define GW_BUDGET_APP 0
#define GW_BUDGET_LLM 1
#define GW_BUDGET_DATE_LEN 11 /* "YYYY-MM-DD" + NUL */
#define GW_BUDGET_NO_LIMIT (-1) /* a source's *limit: keep the configured one */

typedef enum gw_budget_result {
    GW_BUDGET_OK = 0,
    GW_BUDGET_APP_EXCEEDED,     /* nothing is left of the app's budget */
    GW_BUDGET_LLM_EXCEEDED,     /* nothing is left of the LLM's budget */
    GW_BUDGET_APP_INSUFFICIENT, /* something is left, less than this request's worst case */
    GW_BUDGET_LLM_INSUFFICIENT,
    GW_BUDGET_UNAVAILABLE /* the spend could not be read (database down and never seeded) */
} gw_budget_result;

typedef struct gw_budget_ticket {
    int64_t app_id; /* 0 when the app has no budget */
    int64_t llm_id; /* 0 when the LLM has no budget */
    gw_money reserved;
    /* on a refusal: what remains of the refusing budget (limit − spent −
     * settled − reserved by requests in flight) and the budget itself */
    gw_money remaining, limit;
} gw_budget_ticket;

/* An app's budget as the credential resolver answered it. */
typedef struct gw_app_budget {
    int set;                /* 0: no budget */
    int64_t nanos;          /* the monthly budget in 10^-9 units */
    const char *start_date; /* YYYY-MM-DD, "" = the 1st */
} gw_app_budget;

int gw_budget_create(gw_pgpool *pool, int refresh_s, gw_budget **out, char err[GW_ERR_LEN]);
void gw_budget_destroy(gw_budget *b);

/* Worst-case cost of a request: prompt_tokens_max at the input price (or
 * the cache-write / cache-read price when dearer: any prompt token may be
 * one) plus max_tokens (or default_max_tokens when -1) at the output price.
 * 0 when unpriced. */
gw_money gw_budget_worst_cost(const gw_price *price, int64_t prompt_tokens_max, int64_t max_tokens,
                              int64_t default_max_tokens);
/* Cost of reported usage with the vendor's token semantics (aistudio.cost's
 * rule: cached reads inside the prompt when vendor->prompt_includes_cache_reads). */
gw_money gw_budget_cost(const gw_price *price, const gw_vendor *vendor, int64_t prompt, int64_t response,
                        int64_t cache_write, int64_t cache_read);

/*
 * Reserves worst_cost against the app budget and the LLM's (llm->monthly_budget
 * / monthly_budget_nanos / budget_start_date). Both or neither are reserved.
 * On GW_BUDGET_OK the ticket must be settled.
 */
gw_budget_result gw_budget_reserve(gw_budget *b, int64_t app_id, const gw_app_budget *app, const gw_llm *llm,
                                   gw_money worst_cost, gw_budget_ticket *t);
/* Replaces the reservation with the actual cost (0 for a failed call). */
void gw_budget_settle(gw_budget *b, gw_budget_ticket *t, gw_money actual_cost);
/* gw_analytics_commit_fn: the events' costs are now in the database's spend. */
void gw_budget_on_commit(void *ctx, const gw_event *events, int n);

/*
 * Where a subject's figures come from (read on first use, when its period
 * may have changed, and every refresh_s). configured: the limit from the
 * snapshot or the credential. Fills period_end (the period's last day,
 * YYYY-MM-DD) and *spent; *limit GW_BUDGET_NO_LIMIT keeps the configured
 * limit, a value >= 0 replaces it (an edge's grant). Returns 0, 1 when the
 * subject does not exist (nothing spent), -1 with err when it cannot say.
 * The default source is the database (budget_status / llm_budget_status).
 */
typedef int (*gw_budget_source_fn)(void *ctx, int kind, int64_t id, gw_money configured,
                                   char period_end[GW_BUDGET_DATE_LEN], gw_money *spent, gw_money *limit,
                                   char err[GW_ERR_LEN]);
/* Before any reservation. */
void gw_budget_set_source(gw_budget *b, gw_budget_source_fn fn, void *ctx);
/* Replaces a known subject's limit at once (an edge's renewed lease). */
void gw_budget_set_limit(gw_budget *b, int kind, int64_t id, gw_money limit);

typedef struct gw_budget_usage {
    gw_money configured; /* the budget (snapshot / credential) */
    gw_money limit;      /* what admission holds it to (the grant on an edge) */
    gw_money spent;      /* spent, settled or stored */
    gw_money reserved;   /* requests in flight, at their worst case */
    int64_t refused;     /* admissions refused since the last call */
    char period_end[GW_BUDGET_DATE_LEN];
} gw_budget_usage;
/* A subject's figures now (and resets its refused count); -1 when the
 * subject was never seen or never read. */
int gw_budget_usage_get(gw_budget *b, int kind, int64_t id, gw_budget_usage *u);

#endif
