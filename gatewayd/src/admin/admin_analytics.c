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
 * model. Each also answers ?format=csv (admin_csv.c): the same rows as a
 * CSV file (budgets: every row, up to 10,000, instead of one page).
 *
 * The request log, every analytics event, from aistudio.list_requests and
 * aistudio.get_request (who sees which request is decided there):
 *
 *   GET /api/v1/requests?from=&to=&app_id=&user_id=&llm_id=&model=&status=&errors=
 *       &error_code=&request_id=&interaction_type=&after=&limit=&format=
 *   GET /api/v1/requests/{request_id}
 *
 * A page is {"data": [...], "next": cursor or null}, newest first; the next
 * page is ?after=<cursor> with the same filters (keyset paging: no total,
 * no offset). limit: 1..10000 rows (default 50); ?format=csv streams the
 * matching rows (at most limit, default and maximum 100,000).
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

static const gw_admin_field usage_query[] = {
    F("from", GW_AT_STRING, 5),     F("to", GW_AT_STRING, 6),   F("group_by", GW_AT_STRING, 7),
    F("interaction_type", GW_AT_STRING, 8), F("app_id", GW_AT_INT, 9), F("llm_id", GW_AT_INT, 10),
    F("limit", GW_AT_INT, 11),      F("format", GW_AT_STRING, GW_AP_FORMAT), END};
static const gw_admin_field top_query[] = {F("from", GW_AT_STRING, 5),
                                           F("to", GW_AT_STRING, 6),
                                           F("interaction_type", GW_AT_STRING, 8),
                                           F("limit", GW_AT_INT, 11),
                                           F("format", GW_AT_STRING, GW_AP_FORMAT),
                                           END};
static const gw_admin_field budget_query[] = {F("subject", GW_AT_STRING, 5), F("all", GW_AT_BOOL, 6),
                                              F("format", GW_AT_STRING, GW_AP_FORMAT), END};
static const gw_admin_field requests_query[] = {
    F("from", GW_AT_STRING, 5),        F("to", GW_AT_STRING, 6),          F("app_id", GW_AT_INT, 7),
    F("user_id", GW_AT_INT, 8),        F("llm_id", GW_AT_INT, 9),         F("model", GW_AT_STRING, 10),
    F("status", GW_AT_INT, 11),        F("errors", GW_AT_BOOL, 12),       F("error_code", GW_AT_STRING, 13),
    F("request_id", GW_AT_STRING, 14), F("interaction_type", GW_AT_STRING, 15), F("after", GW_AT_STRING, 16),
    F("limit", GW_AT_INT, 17),         F("format", GW_AT_STRING, GW_AP_FORMAT), END};

/* the filters of the request log; the cursor "after" is "<timestamp>~<request_id>" */
#define REQUEST_FILTERS                                                                                                \
    "since => $5::timestamptz, until => $6::timestamptz, by_app => $7::bigint, by_user => $8::bigint,"                 \
    " by_llm => $9::bigint, by_model => $10, by_status => $11::int, only_errors => coalesce($12::boolean, false),"     \
    " by_error_code => $13, by_request_id => $14::uuid, by_interaction_type => $15,"                                   \
    " after_timestamp => split_part($16, '~', 1)::timestamptz, after_request_id => split_part($16, '~', 2)::uuid"
#define REQUEST_LIMIT "coalesce($17::int, 50)"

#define TOP_CALL(dim)                                                                                                  \
    "aistudio.analytics_usage($5::timestamptz, $6::timestamptz, '" dim "', $8, NULL, NULL, coalesce($11::int, 10))"
#define TOP(dim) ROWS(TOP_CALL(dim))
#define USAGE_CALL                                                                                                     \
    "aistudio.analytics_usage($5::timestamptz, $6::timestamptz, coalesce($7, 'day'), $8, $9::bigint, $10::bigint,"     \
    " coalesce($11::int, 1000))"
#define TOP_OP(path_, dim)                                                                                             \
    {                                                                                                                  \
        .method = "GET", .path = path_, .result = GW_AR_DATA, .query = top_query, .stmts = {{TOP(dim)}},               \
        .csv = "SELECT * FROM " TOP_CALL(dim), .csv_name = "top-" dim "s"                                              \
    }

const gw_admin_op gw_admin_analytics_ops[] = {
    {.method = "GET",
     .path = "analytics/usage",
     .result = GW_AR_DATA,
     .query = usage_query,
     .stmts = {{ROWS(USAGE_CALL)}},
     .csv = "SELECT * FROM " USAGE_CALL,
     .csv_name = "usage"},
    TOP_OP("analytics/top-models", "model"),
    TOP_OP("analytics/top-apps", "app"),
    TOP_OP("analytics/top-users", "user"),
    {.method = "GET",
     .path = "analytics/budgets",
     .result = GW_AR_LIST,
     .query = budget_query,
     .flags = GW_AO_PAGED,
     .stmts = {{"SELECT coalesce(json_agg(to_jsonb(t) - 'total_count' - 'ordinality' ORDER BY t.ordinality),"
                " '[]'::json), max(t.total_count) FROM ROWS FROM (aistudio.list_budget_usage(by_subject => $5,"
                " only_with_budget => NOT coalesce($6::boolean, false), limit_rows => $3::int,"
                " offset_rows => $4::int)) WITH ORDINALITY t"}},
     .csv = "SELECT subject, subject_id, name, monthly_budget, period_start, period_end, spent, remaining, percent_used"
            " FROM aistudio.list_budget_usage(by_subject => $5, only_with_budget => NOT coalesce($6::boolean, false),"
            " limit_rows => 10000, offset_rows => 0)",
     .csv_name = "budgets"},

    /* the request log: a page ends with the cursor of its last row when
     * there is more (one row more is read to know) */
    {.method = "GET",
     .path = "requests",
     .result = GW_AR_OBJECT,
     .query = requests_query,
     .stmts = {{"SELECT aistudio.check_page(" REQUEST_LIMIT ", 0)"}},
     .fetch = "SELECT json_build_object("
              "'data', coalesce(json_agg(to_jsonb(t) - 'ordinality' ORDER BY t.ordinality)"
              " FILTER (WHERE t.ordinality <= " REQUEST_LIMIT "), '[]'::json),"
              " 'next', CASE WHEN count(*) > " REQUEST_LIMIT " THEN (array_agg(aistudio.request_cursor(t.\"timestamp\","
              " t.request_id) ORDER BY t.ordinality))[" REQUEST_LIMIT "] END)"
              " FROM ROWS FROM (aistudio.list_requests(" REQUEST_FILTERS ", limit_rows => " REQUEST_LIMIT " + 1))"
              " WITH ORDINALITY t",
     .csv = "SELECT * FROM aistudio.list_requests(" REQUEST_FILTERS ", limit_rows => coalesce($17::int, 100000))",
     .csv_name = "requests"},
    {.method = "GET",
     .path = "requests/{name}",
     .result = GW_AR_OBJECT,
     .fetch = "SELECT to_json(t) FROM aistudio.get_request($1::uuid) t"},
};

const size_t gw_admin_analytics_nops = sizeof(gw_admin_analytics_ops) / sizeof(gw_admin_analytics_ops[0]);
