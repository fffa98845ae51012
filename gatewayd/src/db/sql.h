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
 * verifies), in one statement. OFFSET 0 keeps the subquery whole: pulled
 * up, it would build the snapshot twice (once more for snapshot_checksum_of;
 * regress/e2e/sql-statements.test.mjs). */
#define GW_SQL_SNAPSHOT                                                                                                \
    "SELECT x.s, x.c, aistudio.snapshot_checksum_of(x.s) FROM "                                                        \
    "(SELECT aistudio.snapshot($1::text) AS s, aistudio.snapshot_checksum($1::text) AS c OFFSET 0) x"
/* $1 namespace → the checksum of the current snapshot. */
#define GW_SQL_SNAPSHOT_CHECKSUM "SELECT aistudio.snapshot_checksum($1::text)"

/* ---- db/listen.c: configuration changes (a fixed statement, no parameter) ---- */

#define GW_SQL_LISTEN_CONFIG "LISTEN aistudio_config"

/* ---- db/pgpool.c: the health probe of a pooled connection ---- */

#define GW_SQL_PING "SELECT 1"

/* ---- model/credresolve.c: $1 the presented key → its app and owner ---- */

#define GW_SQL_RESOLVE_CREDENTIAL                                                                                      \
    "SELECT credential_id, app_id, app_name, owner_id, app_active, owner_active, namespace, llm_ids, "                 \
    "monthly_budget, budget_start_date, (extract(epoch FROM expires_at) * 1000)::bigint "                            \
    "FROM aistudio.resolve_credential($1)"

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
    "interaction_type, status_code, namespace, edge_id, error, request_body, response_body, request_truncated, "      \
    "response_truncated) FROM STDIN"
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
    "SELECT s.user_id, s.role, s.csrf_hash, set_config('pg_aistudio.acting_user', s.user_id::text, true), false"       \
    " FROM aistudio.resolve_session($1) s"
/* an expired token (5th column true) sets no acting user */
#define GW_SQL_RESOLVE_API_TOKEN                                                                                       \
    "SELECT t.user_id, t.role, NULL,"                                                                                  \
    " CASE WHEN NOT t.expired THEN set_config('pg_aistudio.acting_user', t.user_id::text, true) END, t.expired"       \
    " FROM aistudio.resolve_api_token($1) t"
/* gateway/llmcheck.c: $1 the LLM id → its name, when the acting user may test it */
#define GW_SQL_CHECK_LLM_TEST "SELECT aistudio.check_llm_test($1::bigint)"
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

/* ---- sync/hub*.c: the hub (docs/sql-api/sync.md) ---- */

#define GW_SQL_LISTEN_SYNC "LISTEN aistudio_push; LISTEN aistudio_edge; LISTEN aistudio_invalidate"
/* $1 edge id, $2 namespace, $3 SHA-256 hex of the token, $4 shared token?, $5 peer */
#define GW_SQL_EDGE_AUTHENTICATE                                                                                       \
    "SELECT ok, reason, retry_after_s FROM aistudio.edge_authenticate($1, $2, $3, $4::boolean, $5)"
/* $1 edge id → its sealed edge key (no row: a shared-token edge) */
#define GW_SQL_EDGE_KEY "SELECT key_id, nonce, ciphertext FROM aistudio.edge_key($1)"
/* $1 edge id, $2 namespace, $3 version, $4 loaded checksum, $5 hub id, $6 interval */
#define GW_SQL_EDGE_REGISTER                                                                                           \
    "SELECT expected_checksum, heartbeat_interval_s FROM aistudio.edge_register($1, $2, $3, $4, $5, $6::integer)"
/* $1 edge ids, $2 loaded checksums, $3 versions (text[]), $4 metrics (jsonb[]), $5 hub id */
#define GW_SQL_EDGE_HEARTBEATS                                                                                         \
    "SELECT edge_id, expected_checksum, in_sync FROM aistudio.edge_heartbeats($1::text[], $2::text[], $3::text[], "     \
    "$4::jsonb[], $5)"
#define GW_SQL_EDGE_DISCONNECTED "SELECT aistudio.edge_disconnected($1, $2)"
#define GW_SQL_EDGE_SWEEP "SELECT aistudio.edge_sweep()"
/* $1 push id, $2 hub id → the targets this hub holds */
#define GW_SQL_PUSH_TARGETS "SELECT edge_id, namespace, expected_checksum FROM aistudio.push_targets($1::bigint, $2)"
/* $1 push id, $2 edge id, $3 phase, $4 checksum, $5 reason */
#define GW_SQL_PUSH_PROGRESS "SELECT aistudio.push_progress($1::bigint, $2, $3, $4, $5)"
/* $1 edge id, $2 key SHA-256 hex → the columns of GW_SQL_RESOLVE_CREDENTIAL */
#define GW_SQL_EDGE_RESOLVE_CREDENTIAL                                                                                 \
    "SELECT credential_id, app_id, app_name, owner_id, app_active, owner_active, namespace, llm_ids, "                 \
    "monthly_budget, budget_start_date, (extract(epoch FROM expires_at) * 1000)::bigint "                            \
    "FROM aistudio.edge_resolve_credential($1, $2)"
/* $1 edge id, $2 the events (a JSON array) */
#define GW_SQL_INGEST_EDGE_EVENTS "SELECT inserted, duplicates, rejected FROM aistudio.ingest_edge_events($1, $2::jsonb)"
/* $1 edge id, $2 op, $3 subject, $4 subject id, $5 want, $6 spent */
#define GW_SQL_EDGE_LEASE                                                                                              \
    "SELECT granted_nanos, period_start, period_end FROM aistudio.edge_lease($1, $2, $3, $4::bigint, $5::bigint, "     \
    "$6::bigint)"

/* ---- sync/edge*.c and model/reload.c on an edge: its own database ---- */

/* the stored snapshot, its checksum, and the checksum of its bytes */
#define GW_SQL_EDGE_STORED_SNAPSHOT                                                                                    \
    "SELECT s.snapshot, s.checksum, aistudio.snapshot_checksum_of(s.snapshot) FROM aistudio.edge_stored_snapshot() s"
#define GW_SQL_EDGE_STORED_CHECKSUM "SELECT checksum FROM aistudio.edge_stored_snapshot()"
/* $1 snapshot (binary), $2 checksum */
#define GW_SQL_EDGE_STORE_SNAPSHOT "SELECT aistudio.edge_store_snapshot($1::bytea, $2)"
/* $1 key hash, $2 found, $3 the credential (JSON), $4 TTL in s */
#define GW_SQL_EDGE_CACHE_CREDENTIAL "SELECT aistudio.edge_cache_credential($1, $2::boolean, $3::jsonb, $4::integer)"
#define GW_SQL_EDGE_CACHED_CREDENTIAL "SELECT found, cred FROM aistudio.edge_cached_credential($1)"
/* $1 key hashes (text[]), $2 app ids (bigint[]), $3 all */
#define GW_SQL_EDGE_FORGET_CREDENTIALS                                                                                 \
    "SELECT aistudio.edge_forget_credentials($1::text[], $2::bigint[], $3::boolean)"
#define GW_SQL_EDGE_OUTBOX_TAKE "SELECT e FROM aistudio.edge_outbox_take($1::integer) e"
#define GW_SQL_EDGE_OUTBOX_ACK "SELECT aistudio.edge_outbox_ack($1::uuid[])"
/* $1 subject, $2 id, $3 period start, $4 period end → the edge's spend (exact decimal) */
#define GW_SQL_EDGE_LOCAL_SPEND "SELECT aistudio.edge_local_spend($1, $2::bigint, $3::date, $4::date)"
#define GW_SQL_EDGE_STORE_LEASE "SELECT aistudio.edge_store_lease($1, $2::bigint, $3::date, $4::date, $5::bigint)"
#define GW_SQL_EDGE_STORED_LEASES                                                                                      \
    "SELECT subject, subject_id, period_start, period_end, granted_nanos, spent_nanos FROM aistudio.edge_stored_leases()"
/* the analytics writer's session on an edge queues what it ingests for upload */
#define GW_SQL_EDGE_OUTBOX_ON "SELECT set_config('pg_aistudio.edge_outbox', 'on', false)"

#endif
