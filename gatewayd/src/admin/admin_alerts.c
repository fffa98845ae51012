/*
 * src/admin/admin_alerts.c: the REST API's budget alerts, their targets and
 * deliveries, a table like admin_resources.c's (see admin_int.h for the
 * format; docs/rest-api.md and docs/openapi.json for the API):
 *
 *   GET  budget-alerts?open=             the alerts, grouped (one per subject and rollup)
 *   POST budget-alerts/acknowledge       every open alert acknowledged ({"acknowledged": n})
 *   POST budget-alerts/{id}/acknowledge  one alert acknowledged
 *   GET|POST alert-targets, GET|PATCH|DELETE alert-targets/{id}
 *                                        webhooks and e-mail targets (admins)
 *   GET  alert-deliveries?target_id=&alert_id=
 *                                        how each delivery went (admins)
 *
 * Who may do what is decided by the aistudio.* functions; a target's
 * secret is write-only (has_secret tells whether it has one).
 * "budget-alerts/acknowledge" comes before "budget-alerts/{id}/…" (the
 * first matching row wins).
 */
#include <stddef.h>

#include "admin/admin_int.h"

#define REQ GW_AF_REQUIRED
#define F(name, type, param, flags, max)                                                                               \
    {                                                                                                                  \
        name, type, param, flags, 0, max                                                                               \
    }
#define FN(name, type, param, null_param, max)                                                                         \
    {                                                                                                                  \
        name, type, param, 0, null_param, max                                                                          \
    }
#define END                                                                                                            \
    {                                                                                                                  \
        NULL, 0, 0, 0, 0, 0                                                                                            \
    }

/* a paged list_* function: (json array without total_count, total) */
#define LIST(call)                                                                                                     \
    "SELECT coalesce(json_agg(to_jsonb(t) - 'total_count' - 'ordinality' ORDER BY t.ordinality), '[]'::json),"         \
    " max(t.total_count) FROM ROWS FROM (" call ") WITH ORDINALITY t"
/* mail_to ($10) as text[] */
#define MAIL_TO "(CASE WHEN $10 IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($10::jsonb)) END)"
#define GET_TARGET "SELECT to_json(t) FROM aistudio.get_alert_target($1::bigint) t"

static const gw_admin_field alert_query[] = {F("open", GW_AT_BOOL, 5, 0, 0), END};
static const gw_admin_field delivery_query[] = {F("target_id", GW_AT_INT, 5, 0, 0), F("alert_id", GW_AT_INT, 6, 0, 0),
                                                END};
static const gw_admin_field target_create[] = {F("name", GW_AT_STRING, 5, REQ, 100),
                                               F("kind", GW_AT_STRING, 6, REQ, 16),
                                               F("url", GW_AT_STRING, 7, REQ, 2048),
                                               F("secret", GW_AT_STRING, 8, 0, 1024),
                                               F("mail_from", GW_AT_STRING, 9, 0, 254),
                                               F("mail_to", GW_AT_STRINGS, 10, 0, 0),
                                               F("smtp_username", GW_AT_STRING, 11, 0, 255),
                                               F("smtp_tls", GW_AT_STRING, 12, 0, 16),
                                               F("min_threshold", GW_AT_INT, 13, 0, 0),
                                               F("active", GW_AT_BOOL, 14, 0, 0),
                                               END};
/* "secret": null removes an e-mail target's password ($15), "smtp_username": null its user name ($16) */
static const gw_admin_field target_update[] = {F("name", GW_AT_STRING, 5, 0, 100),
                                               F("url", GW_AT_STRING, 7, 0, 2048),
                                               FN("secret", GW_AT_STRING, 8, 15, 1024),
                                               F("mail_from", GW_AT_STRING, 9, 0, 254),
                                               F("mail_to", GW_AT_STRINGS, 10, 0, 0),
                                               FN("smtp_username", GW_AT_STRING, 11, 16, 255),
                                               F("smtp_tls", GW_AT_STRING, 12, 0, 16),
                                               F("min_threshold", GW_AT_INT, 13, 0, 0),
                                               F("active", GW_AT_BOOL, 14, 0, 0),
                                               END};

const gw_admin_op gw_admin_alerts_ops[] = {
    /* budget alerts */
    {.method = "GET",
     .path = "budget-alerts",
     .result = GW_AR_LIST,
     .query = alert_query,
     .flags = GW_AO_PAGED,
     .stmts = {{LIST("aistudio.list_budget_alerts(only_open => coalesce($5::boolean, false), limit_rows => $3::int,"
                     " offset_rows => $4::int)")}}},
    {.method = "POST",
     .path = "budget-alerts/acknowledge",
     .result = GW_AR_OBJECT,
     .stmts = {{"SELECT json_build_object('acknowledged', aistudio.acknowledge_budget_alerts())"}}},
    {.method = "POST",
     .path = "budget-alerts/{id}/acknowledge",
     .result = GW_AR_NONE,
     .stmts = {{"SELECT aistudio.acknowledge_budget_alert($1::bigint)"}}},

    /* alert targets */
    {.method = "GET",
     .path = "alert-targets",
     .result = GW_AR_LIST,
     .flags = GW_AO_PAGED,
     .stmts = {{LIST("aistudio.list_alert_targets(limit_rows => $3::int, offset_rows => $4::int)")}}},
    {.method = "POST",
     .path = "alert-targets",
     .result = GW_AR_CREATED,
     .body = target_create,
     .stmts = {{"SELECT aistudio.create_alert_target(name => $5, kind => $6, url => $7, secret => $8,"
                " mail_from => $9, mail_to => " MAIL_TO ", smtp_username => $11, smtp_tls => coalesce($12, 'try'),"
                " min_threshold => coalesce($13::int, 50), active => coalesce($14::boolean, true))",
                .flags = GW_AS_SETS_ID}},
     .fetch = GET_TARGET},
    {.method = "GET", .path = "alert-targets/{id}", .result = GW_AR_OBJECT, .fetch = GET_TARGET},
    {.method = "PATCH",
     .path = "alert-targets/{id}",
     .result = GW_AR_OBJECT,
     .body = target_update,
     .stmts = {{"SELECT aistudio.update_alert_target($1::bigint, name => $5, url => $7, secret => $8,"
                " mail_from => $9, mail_to => " MAIL_TO ","
                " smtp_username => CASE WHEN $16 IS NOT NULL THEN '' ELSE $11 END, smtp_tls => $12,"
                " min_threshold => $13::int, active => $14::boolean, clear_secret => $15 IS NOT NULL)"}},
     .fetch = GET_TARGET},
    {.method = "DELETE",
     .path = "alert-targets/{id}",
     .result = GW_AR_NONE,
     .stmts = {{"SELECT aistudio.delete_alert_target($1::bigint)"}}},

    /* deliveries */
    {.method = "GET",
     .path = "alert-deliveries",
     .result = GW_AR_LIST,
     .query = delivery_query,
     .flags = GW_AO_PAGED,
     .stmts = {{LIST("aistudio.list_alert_deliveries(by_target => $5::bigint, by_alert => $6::bigint,"
                     " limit_rows => $3::int, offset_rows => $4::int)")}}},
};

const size_t gw_admin_alerts_nops = sizeof(gw_admin_alerts_ops) / sizeof(gw_admin_alerts_ops[0]);
