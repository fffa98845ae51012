/*
 * src/admin/admin_analytics.c: the dashboard's analytics endpoints, served
 * from the rollups (usage_daily / usage_hourly) through
 * aistudio.analytics_usage and aistudio.list_budget_usage, which decide in
 * the database what the caller may see (admins: every app; developers:
 * their own apps; chat users: nothing).
 *
 *   GET /api/v1/analytics/usage?from=&to=&group_by=&interaction_type=&app_id=&llm_id=&limit=
 *   GET /api/v1/analytics/top-models|top-apps|top-users?from=&to=&interaction_type=&limit=
 *   GET /api/v1/analytics/budgets?subject=app|llm&all=&page=&page_size=
 *
 * from/to are ISO 8601 instants (default: the last 30 days); the range is
 * [from, to). group_by is day (default), hour, app, user, llm, vendor or
 * model.
 */
#include <stddef.h>

#include "admin/admin_int.h"

#define F(name, type, param)                                                                                           \
    {                                                                                                                  \
        name, type, param, 0, 0, 0                                                                                     \
    }
#define END                                                                                                            \
    {                                                                                                                  \
        NULL, 0, 0, 0, 0, 0                                                                                            \
    }

/* rows of a function, in its order, as a JSON array */
#define ROWS(call)                                                                                                     \
    "SELECT coalesce(json_agg(to_jsonb(t) - 'ordinality' ORDER BY t.ordinality), '[]'::json)"                          \
    " FROM ROWS FROM (" call ") WITH ORDINALITY t"

static const gw_admin_field usage_query[] = {F("from", GW_AT_STRING, 5),     F("to", GW_AT_STRING, 6),
                                             F("group_by", GW_AT_STRING, 7), F("interaction_type", GW_AT_STRING, 8),
                                             F("app_id", GW_AT_INT, 9),      F("llm_id", GW_AT_INT, 10),
                                             F("limit", GW_AT_INT, 11),      END};
static const gw_admin_field top_query[] = {F("from", GW_AT_STRING, 5), F("to", GW_AT_STRING, 6),
                                           F("interaction_type", GW_AT_STRING, 8), F("limit", GW_AT_INT, 11), END};
static const gw_admin_field budget_query[] = {F("subject", GW_AT_STRING, 5), F("all", GW_AT_BOOL, 6), END};

#define TOP(dim)                                                                                                       \
    ROWS("aistudio.analytics_usage($5::timestamptz, $6::timestamptz, '" dim "', $8, NULL, NULL,"                       \
         " coalesce($11::int, 10))")

const gw_admin_op gw_admin_analytics_ops[] = {
    {.method = "GET",
     .path = "analytics/usage",
     .result = GW_AR_DATA,
     .query = usage_query,
     .stmts = {{ROWS("aistudio.analytics_usage($5::timestamptz, $6::timestamptz, coalesce($7, 'day'), $8,"
                     " $9::bigint, $10::bigint, coalesce($11::int, 1000))")}}},
    {.method = "GET",
     .path = "analytics/top-models",
     .result = GW_AR_DATA,
     .query = top_query,
     .stmts = {{TOP("model")}}},
    {.method = "GET", .path = "analytics/top-apps", .result = GW_AR_DATA, .query = top_query, .stmts = {{TOP("app")}}},
    {.method = "GET",
     .path = "analytics/top-users",
     .result = GW_AR_DATA,
     .query = top_query,
     .stmts = {{TOP("user")}}},
    {.method = "GET",
     .path = "analytics/budgets",
     .result = GW_AR_LIST,
     .query = budget_query,
     .flags = GW_AO_PAGED,
     .stmts = {{"SELECT coalesce(json_agg(to_jsonb(t) - 'total_count' - 'ordinality' ORDER BY t.ordinality),"
                " '[]'::json), max(t.total_count) FROM ROWS FROM (aistudio.list_budget_usage(by_subject => $5,"
                " only_with_budget => NOT coalesce($6::boolean, false), limit_rows => $3::int,"
                " offset_rows => $4::int)) WITH ORDINALITY t"}}},
};

const size_t gw_admin_analytics_nops = sizeof(gw_admin_analytics_ops) / sizeof(gw_admin_analytics_ops[0]);
