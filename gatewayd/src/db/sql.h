/*
 * src/db/sql.h: every SQL statement gatewayd sends, as named constants in
 * one place (the REST API's table rows excepted: see below). Each is
 * constant text sent with PQexecParams / gw_pgpool_exec, values only as
 * bind parameters ($n): nothing here is ever built from input.
 *
 * The REST API's operations (admin/admin_resources.c, admin_analytics.c)
 * keep their statements in their table rows: a row is the operation (method,
 * path, the body fields and query parameters bound to $n, the statements
 * that read those $n, the result shape), and its parameter numbers are only
 * checkable next to the SQL that uses them.
 */
#ifndef GW_DB_SQL_H
#define GW_DB_SQL_H

/* ---- model/reload.c: the snapshot ---- */

/* $1 namespace → the snapshot, its checksum, and the checksum of its bytes
 * by the extension's one implementation of the rule (the way an edge
 * verifies), in one statement. */
#define GW_SQL_SNAPSHOT                                                                                                \
    "SELECT x.s, x.c, aistudio.snapshot_checksum_of(x.s) FROM "                                                        \
    "(SELECT aistudio.snapshot($1::text) AS s, aistudio.snapshot_checksum($1::text) AS c) x"
/* $1 namespace → the checksum of the current snapshot. */
#define GW_SQL_SNAPSHOT_CHECKSUM "SELECT aistudio.snapshot_checksum($1::text)"

/* ---- db/listen.c: configuration changes (a fixed statement, no parameter) ---- */

#define GW_SQL_LISTEN_CONFIG "LISTEN aistudio_config"

/* ---- db/pgpool.c: the health probe of a pooled connection ---- */

#define GW_SQL_PING "SELECT 1"

/* ---- model/credresolve.c: $1 the presented key → its app and owner ---- */

#define GW_SQL_RESOLVE_CREDENTIAL                                                                                      \
    "SELECT credential_id, app_id, app_name, owner_id, app_active, owner_active, namespace, llm_ids, "                 \
    "monthly_budget, budget_start_date FROM aistudio.resolve_credential($1)"

/* ---- model/budget.c: $1 the app / LLM id → (period_end, spent) ----
 * What edges hold in budget leases counts as spent here: the hub's own
 * admission never hands out what an edge may still spend. */

#define GW_SQL_APP_BUDGET_STATUS "SELECT period_end, spent + leased FROM aistudio.budget_status($1)"
#define GW_SQL_LLM_BUDGET_STATUS "SELECT period_end, spent + leased FROM aistudio.llm_budget_status($1)"

/* ---- ingest/analytics.c: one batch of events, COPY then ingest ---- */

#define GW_SQL_BEGIN "BEGIN"
#define GW_SQL_COMMIT "COMMIT"
#define GW_SQL_ROLLBACK "ROLLBACK"
#define GW_SQL_COPY_EVENTS                                                                                             \
    "COPY aistudio.interaction_staging (\"timestamp\", request_id, user_id, app_id, credential_id, llm_id, vendor, "   \
    "model_name, prompt_tokens, response_tokens, cache_write_tokens, cache_read_tokens, latency_ms, "                  \
    "interaction_type, status_code, namespace, edge_id, error) FROM STDIN"
#define GW_SQL_INGEST_STAGED "SELECT inserted, duplicates, rejected FROM aistudio.ingest_staged()"

/* ---- gateway/chat.c: $1 user id, $2 LLM id → may the user use it ---- */

#define GW_SQL_CAN_USE_LLM "SELECT aistudio.can_use_llm($1::bigint, $2::bigint)"

/* ---- notify/alerts.c: budget alert deliveries ---- */

/* $1 worker, $2 how many, $3 lease seconds → the claimed deliveries:
 * id, attempt, kind, url, secret, mail_from, recipients (comma-separated:
 * the extension refuses commas in addresses), smtp_username, smtp_tls,
 * subject, body */
#define GW_SQL_CLAIM_ALERTS                                                                                            \
    "SELECT c.delivery_id, c.attempt, c.kind, c.url, c.secret, c.mail_from, array_to_string(c.mail_to, ','),"         \
    " c.smtp_username, c.smtp_tls, c.subject, c.body"                                                                  \
    " FROM aistudio.claim_alert_deliveries($1, $2::int, $3::int) c"
/* $1 delivery id, $2 worker, $3 ok, $4 HTTP status / SMTP code, $5 error → the delivery's status */
#define GW_SQL_FINISH_ALERT "SELECT aistudio.finish_alert_delivery($1::bigint, $2, $3::boolean, $4::int, $5)"

/* ---- admin/admin.c: the transaction of one REST request ---- */

#define GW_SQL_ADMIN_BEGIN "BEGIN; SET LOCAL TimeZone = 'UTC'"

/* ---- admin/admin_auth.c: who is calling, logins ---- */

/* $1 the session token (cookie) / the personal API token → user, role,
 * CSRF hash, and the acting user set for the transaction */
#define GW_SQL_RESOLVE_SESSION                                                                                         \
    "SELECT s.user_id, s.role, s.csrf_hash, set_config('pg_aistudio.acting_user', s.user_id::text, true)"              \
    " FROM aistudio.resolve_session($1) s"
#define GW_SQL_RESOLVE_API_TOKEN                                                                                       \
    "SELECT t.user_id, t.role, NULL, set_config('pg_aistudio.acting_user', t.user_id::text, true)"                     \
    " FROM aistudio.resolve_api_token($1) t"
/* $1 email, $2 password, $3 client address, $4 the session token it replaces (or NULL) */
#define GW_SQL_LOGIN                                                                                                   \
    "SELECT l.session_token, l.csrf_token, l.user_id, to_json(l.expires_at)"                                           \
    " FROM aistudio.login($1, $2, $3, $4) l"
/* $1 email, $2 client address → seconds to wait before the next try */
#define GW_SQL_LOGIN_RETRY_AFTER "SELECT aistudio.login_retry_after($1, $2)"
#define GW_SQL_LOGOUT "SELECT aistudio.logout($1)"
#define GW_SQL_SET_ACTING_USER "SELECT set_config('pg_aistudio.acting_user', $1, true)"
#define GW_SQL_GET_ME "SELECT to_json(t) FROM aistudio.get_me() t"

/* ---- admin/admin_sso.c: single sign-on ---- */

/* $1 the public URL; login_path (a string literal) prefixes each option's login URL */
#define GW_SQL_SSO_OPTIONS(login_path)                                                                                 \
    "SELECT json_build_object('public_url', $1::text, 'data', coalesce(json_agg(json_build_object('slug', o.slug,"     \
    " 'display_name', o.display_name, 'login_url', '" login_path "/' || o.slug || '/login') ORDER BY o.n), '[]'))"     \
    " FROM aistudio.sso_login_options() WITH ORDINALITY o(slug, display_name, n)"
/* $1 provider slug, $2 return_to */
#define GW_SQL_SSO_BEGIN                                                                                               \
    "SELECT b.state, b.nonce, b.code_verifier, b.issuer, b.client_id, b.scopes"                                        \
    " FROM aistudio.sso_begin($1, coalesce($2, '/')) b"
/* $1 state */
#define GW_SQL_SSO_FINISH                                                                                              \
    "SELECT f.provider_id, f.slug, f.issuer, f.client_id, f.client_secret, f.nonce, f.code_verifier, f.return_to"      \
    " FROM aistudio.sso_finish($1) f"
/* $1 provider id, $2 subject, $3 email, $4 email verified, $5 name, $6 client address,
 * $7 the session token it replaces (or NULL) */
#define GW_SQL_SSO_LOGIN                                                                                               \
    "SELECT l.session_token, l.csrf_token, l.user_id"                                                                  \
    " FROM aistudio.sso_login($1::bigint, $2, $3, $4::boolean, $5, $6, $7) l"

#endif
