-- sessions: logins (throttling, rotation), sessions (expiry, logout),
-- personal API tokens, the get_* functions of the REST API, its helpers and
-- the dashboard analytics.  Only hashes of tokens are stored.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql
SET timezone = 'UTC';	-- the analytics buckets are UTC days

SELECT aistudio.create_user('root@example.com', 'Root', 'root password 0123', 'super_admin') AS root \gset
SELECT aistudio.create_user('ada@example.com', 'Ada', 'admin password 0123', 'admin') AS ada \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', 'dev password 01234', 'developer') AS dev \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', 'dev2 password 0123', 'developer') AS dev2 \gset
SELECT aistudio.create_user('chat@example.com', 'Chat', 'chat password 0123', 'chat_user') AS chat \gset

--
-- Login
--
CREATE TEMP TABLE s1 AS SELECT * FROM aistudio.login('Dev@Example.com', 'dev password 01234', '10.0.0.1');
SELECT user_id = :dev AS is_dev, role, session_token ~ '^aiss_[0-9a-f]{64}$' AS session_format,
       csrf_token ~ '^[0-9a-f]{64}$' AS csrf_format,
       expires_at BETWEEN now() + interval '7 days' - interval '1 minute' AND now() + interval '7 days' AS seven_days
  FROM s1;
-- only hashes are stored: no column of any row holds a token
SELECT count(*) AS sessions,
       bool_and(s.token_hash = sha256(convert_to(s1.session_token, 'UTF8'))) AS token_hashed,
       bool_and(s.csrf_hash = sha256(convert_to(s1.csrf_token, 'UTF8'))) AS csrf_hashed,
       bool_and(strpos(row_to_json(s)::text, s1.session_token) = 0
                AND strpos(row_to_json(s)::text, s1.csrf_token) = 0) AS no_plaintext,
       bool_and(s.ip = '10.0.0.1') AS ip_recorded
  FROM aistudio.sessions s, s1;

-- a wrong password, an unknown email, a user without a password: no row,
-- and each failure is recorded
SELECT count(*) AS rows FROM aistudio.login('dev@example.com', 'wrong password 000', '10.0.0.1');
SELECT count(*) AS rows FROM aistudio.login('nobody@example.com', 'whatever password', '10.0.0.1');
SELECT aistudio.create_user('nopw@example.com', 'No Password', NULL, 'developer') AS nopw \gset
SELECT count(*) AS rows FROM aistudio.login('nopw@example.com', '', '10.0.0.1');
SELECT email, ip FROM aistudio.login_attempts ORDER BY id;
-- a successful login clears the email's failures
SELECT count(*) AS rows FROM aistudio.login('dev@example.com', 'dev password 01234', '10.0.0.1');
SELECT email FROM aistudio.login_attempts ORDER BY id;
-- an inactive user cannot log in
SELECT aistudio.update_user(:dev2, active => false);
SELECT count(*) AS rows FROM aistudio.login('dev2@example.com', 'dev2 password 0123');
SELECT aistudio.update_user(:dev2, active => true);

-- bad input
SELECT pg_temp.try('', $$SELECT aistudio.login(NULL, 'x')$$) AS null_email;
SELECT pg_temp.try('', $$SELECT aistudio.login(repeat('e', 300), 'x')$$) AS long_email;
SELECT pg_temp.try('', $$SELECT aistudio.login('a@b.c', repeat('p', 1025))$$) AS long_password;
SELECT pg_temp.try('', $$SELECT aistudio.login('a@b.c', 'p', 'not an address')$$) AS bad_ip;

--
-- Throttling: 5 failures for one email within 15 minutes refuse the next
-- login (even with the right password) with 55P03 until the oldest is 15
-- minutes old; other emails from other addresses are not affected.
--
TRUNCATE aistudio.login_attempts;
SELECT i, (SELECT count(*) FROM aistudio.login('chat@example.com', 'wrong password ' || i, '10.0.0.2')) AS rows
  FROM generate_series(1, 5) i;
SELECT aistudio.login_retry_after('chat@example.com', '10.0.0.2') BETWEEN 899 AND 900 AS retry_after_900;
SELECT pg_temp.try('', $$SELECT aistudio.login('CHAT@example.com', 'chat password 0123', '10.0.0.9')$$) AS throttled;
SELECT count(*) AS attempts FROM aistudio.login_attempts;	-- the refused login is not recorded
SELECT count(*) AS other_user_ok FROM aistudio.login('ada@example.com', 'admin password 0123', '10.0.0.3');
-- the oldest failure ages: 60 seconds left
UPDATE aistudio.login_attempts SET at = now() - interval '14 minutes'
 WHERE id = (SELECT min(id) FROM aistudio.login_attempts);
SELECT aistudio.login_retry_after('chat@example.com') AS retry_after;
UPDATE aistudio.login_attempts SET at = now() - interval '16 minutes'
 WHERE id = (SELECT min(id) FROM aistudio.login_attempts);
SELECT aistudio.login_retry_after('chat@example.com') AS retry_after;
SELECT count(*) AS rows FROM aistudio.login('chat@example.com', 'chat password 0123', '10.0.0.2');
-- 25 failures from one address (any emails) throttle that address
TRUNCATE aistudio.login_attempts;
INSERT INTO aistudio.login_attempts (email, ip)
SELECT 'user' || i || '@example.com', '10.0.0.4' FROM generate_series(1, 25) i;
SELECT pg_temp.try('', $$SELECT aistudio.login('ada@example.com', 'admin password 0123', '10.0.0.4')$$) AS ip_throttled;
SELECT count(*) AS other_address_ok FROM aistudio.login('ada@example.com', 'admin password 0123', '10.0.0.5');
-- failures older than a day are pruned at the next login
UPDATE aistudio.login_attempts SET at = now() - interval '2 days';
SELECT count(*) AS rows FROM aistudio.login('nobody@example.com', 'x', '10.0.0.6');
SELECT count(*) AS attempts_left FROM aistudio.login_attempts;

--
-- Sessions: resolve, touch, expiry, rotation, logout
--
SELECT r.user_id = :dev AS is_dev, r.role, r.csrf_hash = encode(sha256(convert_to(s1.csrf_token, 'UTF8')), 'hex') AS csrf_matches,
       r.idle_expires_at <= r.expires_at AS idle_first
  FROM s1, aistudio.resolve_session(s1.session_token) r;
-- malformed and unknown tokens: no row
SELECT count(*) AS rows FROM aistudio.resolve_session('');
SELECT count(*) AS rows FROM aistudio.resolve_session('aiss_' || repeat('0', 64));
SELECT count(*) AS rows FROM aistudio.resolve_session(upper((SELECT session_token FROM s1)));
SELECT count(*) AS rows FROM aistudio.resolve_session(repeat('x', 100000));
-- last_seen_at is recorded at most once a minute
UPDATE aistudio.sessions SET last_seen_at = now() - interval '30 seconds';
SELECT count(*) AS rows FROM s1, aistudio.resolve_session(s1.session_token);
SELECT last_seen_at < now() - interval '20 seconds' AS not_touched FROM aistudio.sessions s, s1
 WHERE s.token_hash = sha256(convert_to(s1.session_token, 'UTF8'));
UPDATE aistudio.sessions SET last_seen_at = now() - interval '5 minutes';
SELECT count(*) AS rows FROM s1, aistudio.resolve_session(s1.session_token);
SELECT last_seen_at > now() - interval '1 minute' AS touched FROM aistudio.sessions s, s1
 WHERE s.token_hash = sha256(convert_to(s1.session_token, 'UTF8'));
-- idle for 12 hours: dead
UPDATE aistudio.sessions s SET last_seen_at = now() - interval '12 hours 1 second' FROM s1
 WHERE s.token_hash = sha256(convert_to(s1.session_token, 'UTF8'));
SELECT count(*) AS idle_rows FROM s1, aistudio.resolve_session(s1.session_token);
-- past its absolute end: dead
UPDATE aistudio.sessions s SET last_seen_at = now(), expires_at = now() - interval '1 second' FROM s1
 WHERE s.token_hash = sha256(convert_to(s1.session_token, 'UTF8'));
SELECT count(*) AS expired_rows FROM s1, aistudio.resolve_session(s1.session_token);
-- deactivating a user ends their sessions
CREATE TEMP TABLE s2 AS SELECT * FROM aistudio.login('dev2@example.com', 'dev2 password 0123');
SELECT count(*) AS rows FROM s2, aistudio.resolve_session(s2.session_token);
SELECT aistudio.update_user(:dev2, active => false);
SELECT count(*) AS inactive_rows FROM s2, aistudio.resolve_session(s2.session_token);
SELECT count(*) AS sessions_left FROM aistudio.sessions WHERE user_id = :dev2;	-- deactivation ends them
SELECT aistudio.update_user(:dev2, active => true);
SELECT count(*) AS active_again_rows FROM s2, aistudio.resolve_session(s2.session_token);
CREATE TEMP TABLE s2b AS SELECT * FROM aistudio.login('dev2@example.com', 'dev2 password 0123');

-- rotation: a login that presents a session token ends that session; each
-- login yields a new token
CREATE TEMP TABLE s3 AS SELECT * FROM aistudio.login('dev2@example.com', 'dev2 password 0123', NULL,
                                                     (SELECT session_token FROM s2b));
SELECT s3.session_token <> s2b.session_token AS new_token, s3.csrf_token <> s2b.csrf_token AS new_csrf
  FROM s2b, s3;
SELECT count(*) AS old_rows FROM s2b, aistudio.resolve_session(s2b.session_token);
SELECT count(*) AS new_rows FROM s3, aistudio.resolve_session(s3.session_token);
-- a failed login does not end the presented session
SELECT count(*) AS rows FROM aistudio.login('dev2@example.com', 'wrong password', NULL, (SELECT session_token FROM s3));
SELECT count(*) AS still_rows FROM s3, aistudio.resolve_session(s3.session_token);
-- expired sessions are pruned at the next login
SELECT count(*) AS expired_kept FROM aistudio.sessions WHERE expires_at <= now();
SELECT count(*) AS rows FROM aistudio.login('root@example.com', 'root password 0123');
SELECT count(*) AS expired_kept FROM aistudio.sessions WHERE expires_at <= now();
-- at most 20 sessions per user
SELECT sum((SELECT count(*) FROM aistudio.login('root@example.com', 'root password 0123' || left(i::text, 0))))
  FROM generate_series(1, 22) i;
SELECT count(*) AS root_sessions FROM aistudio.sessions WHERE user_id = :root;

-- logout
SELECT aistudio.logout(session_token) AS logged_out FROM s3;
SELECT aistudio.logout(session_token) AS again FROM s3;
SELECT count(*) AS rows FROM s3, aistudio.resolve_session(s3.session_token);
SELECT aistudio.logout('garbage') AS garbage;

-- deleting a user deletes their sessions
SELECT count(*) AS rows FROM aistudio.login('dev2@example.com', 'dev2 password 0123');
SELECT count(*) > 0 AS has_sessions FROM aistudio.sessions WHERE user_id = :dev2;
SELECT aistudio.delete_user(:dev2);
SELECT count(*) AS sessions_left FROM aistudio.sessions WHERE user_id = :dev2;
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', 'dev2 password 0123', 'developer') AS dev2 \gset

--
-- Personal API tokens
--
SET pg_aistudio.acting_user = :'dev';
CREATE TEMP TABLE t1 AS SELECT * FROM aistudio.create_api_token('ci');
RESET pg_aistudio.acting_user;
SELECT token ~ '^aisu_[0-9a-f]{64}$' AS token_format, token_prefix = left(token, 12) AS prefix_ok FROM t1;
SELECT t.user_id = :dev AS owner, t.name, t.token_hash = sha256(convert_to(t1.token, 'UTF8')) AS hashed,
       strpos(row_to_json(t)::text, t1.token) = 0 AS no_plaintext
  FROM aistudio.api_tokens t, t1;
SELECT user_id = :dev AS is_dev, role, token_id = t1.id AS same_id FROM t1, aistudio.resolve_api_token(t1.token);
SELECT last_used_at IS NOT NULL AS used FROM aistudio.api_tokens;
SELECT count(*) AS rows FROM aistudio.resolve_api_token('aisu_' || repeat('0', 64));
SELECT count(*) AS rows FROM aistudio.resolve_api_token('nope');
SELECT what, pg_temp.try(actor, sql) AS result FROM (VALUES
	(1, 'duplicate name', :'dev', $$SELECT aistudio.create_api_token('ci')$$),
	(2, 'empty name', :'dev', $$SELECT aistudio.create_api_token(' ')$$),
	(3, 'name with a newline', :'dev', $$SELECT aistudio.create_api_token(E'a\nb')$$),
	(4, 'a DBA has no tokens', '', $$SELECT aistudio.create_api_token('dba')$$),
	(5, 'chat user creates one', :'chat', $$SELECT aistudio.create_api_token('chat script')$$),
	(6, 'developer lists their own', :'dev', $$SELECT aistudio.list_api_tokens()$$),
	(7, 'developer lists another''s', :'dev', $$SELECT aistudio.list_api_tokens(1)$$),
	(8, 'admin lists another''s', :'ada', $$SELECT aistudio.list_api_tokens(3)$$),
	(9, 'developer revokes another''s', :'dev2', $$SELECT aistudio.revoke_api_token(1)$$),
	(10, 'unknown token', :'dev', $$SELECT aistudio.revoke_api_token(999)$$)
) AS t(n, what, actor, sql) ORDER BY n;
SET pg_aistudio.acting_user = :'dev';
SELECT name, token_prefix = (SELECT token_prefix FROM t1) AS prefix, active, revoked_at IS NULL AS not_revoked
  FROM aistudio.list_api_tokens();
SELECT aistudio.revoke_api_token(id) FROM t1;
SELECT aistudio.revoke_api_token(id) AS idempotent FROM t1;
SELECT name, active FROM aistudio.list_api_tokens();
RESET pg_aistudio.acting_user;
SELECT count(*) AS revoked_rows FROM t1, aistudio.resolve_api_token(t1.token);
-- the name is free again once revoked
SET pg_aistudio.acting_user = :'dev';
SELECT token_prefix <> (SELECT token_prefix FROM t1) AS new_token FROM aistudio.create_api_token('ci');
RESET pg_aistudio.acting_user;

--
-- Objects of the REST API: get_* and the helpers
--
SELECT aistudio.set_secret('OPENAI_KEY', 'sk-sessions-test');
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1', '$SECRET/OPENAI_KEY') AS gpt \gset
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com') AS claude \gset
SELECT aistudio.create_group('eng') AS eng \gset
SELECT aistudio.add_user_to_group(:dev, :eng);
SELECT aistudio.grant_llm_to_group(:eng, :gpt);
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10) AS price \gset
SELECT aistudio.create_app('bot', :dev, ARRAY[:gpt]::bigint[], monthly_budget => 10) AS bot \gset
SELECT aistudio.create_app('other', :dev2, '{}') AS other \gset
SELECT aistudio.create_filter('no-ssn', 'regex', '{"patterns": ["\\d{3}-\\d{2}-\\d{4}"]}') AS filter \gset
SELECT aistudio.create_plugin('tagger', 'post_auth', 'grpc://127.0.0.1:7000') AS plugin \gset
SELECT aistudio.register_edge('edge-1');

SELECT what, pg_temp.try(actor, sql) AS result FROM (VALUES
	(1, 'dev sees self', :'dev', format('SELECT aistudio.get_user(%s)', :dev)),
	(2, 'dev sees another user', :'dev', format('SELECT aistudio.get_user(%s)', :root)),
	(3, 'admin sees a user', :'ada', format('SELECT aistudio.get_user(%s)', :root)),
	(4, 'unknown user', :'ada', 'SELECT aistudio.get_user(999)'),
	(5, 'dev sees a granted LLM', :'dev', format('SELECT aistudio.get_llm(%s)', :gpt)),
	(6, 'dev sees an LLM not granted', :'dev', format('SELECT aistudio.get_llm(%s)', :claude)),
	(7, 'chat user sees an LLM not granted', :'chat', format('SELECT aistudio.get_llm(%s)', :gpt)),
	(8, 'unknown LLM', :'ada', 'SELECT aistudio.get_llm(999)'),
	(9, 'dev sees their app', :'dev', format('SELECT aistudio.get_app(%s)', :bot)),
	(10, 'dev sees another''s app', :'dev', format('SELECT aistudio.get_app(%s)', :other)),
	(11, 'chat user sees an app', :'chat', format('SELECT aistudio.get_app(%s)', :bot)),
	(12, 'admin sees any app', :'ada', format('SELECT aistudio.get_app(%s)', :other)),
	(13, 'dev sees a group', :'dev', format('SELECT aistudio.get_group(%s)', :eng)),
	(14, 'dev sees a price', :'dev', format('SELECT aistudio.get_model_price(%s)', :price)),
	(15, 'chat user sees a price', :'chat', format('SELECT aistudio.get_model_price(%s)', :price)),
	(16, 'dev sees a filter', :'dev', format('SELECT aistudio.get_filter(%s)', :filter)),
	(17, 'dev sees a plugin', :'dev', format('SELECT aistudio.get_plugin(%s)', :plugin)),
	(18, 'dev sees an edge', :'dev', $$SELECT aistudio.get_edge('edge-1')$$),
	(19, 'dev lists edges', :'dev', 'SELECT aistudio.list_edges()'),
	(20, 'admin reads the audit log', :'ada', 'SELECT aistudio.list_audit_entries()'),
	(21, 'chat user lists notifications', :'chat', 'SELECT aistudio.list_budget_notifications()'),
	(22, 'dev creates a secret', :'dev', $$SELECT aistudio.create_secret('MINE', 'v')$$),
	(23, 'duplicate secret', :'ada', $$SELECT aistudio.create_secret('OPENAI_KEY', 'v')$$),
	(24, 'dev updates a price', :'dev', format('SELECT aistudio.update_model_price(%s, 1)', :price)),
	(25, 'unknown price', :'ada', 'SELECT aistudio.update_model_price(999, 1)'),
	(26, 'dev deletes a price', :'dev', format('SELECT aistudio.delete_model_price_by_id(%s)', :price)),
	(27, 'dev issues a key for another''s app', :'dev', format('SELECT aistudio.issue_app_credential(%s)', :other)),
	(28, 'unknown edge', :'ada', $$SELECT aistudio.get_edge('nope')$$),
	(29, 'bad edge status', :'ada', $$SELECT aistudio.list_edges(by_status => 'green')$$),
	(30, 'bad audit action', :'root', $$SELECT aistudio.list_audit_entries(by_action => 'drop')$$),
	(31, 'a DBA has no "me"', '', 'SELECT aistudio.get_me()')
) AS t(n, what, actor, sql) ORDER BY n;

SET pg_aistudio.acting_user = :'dev';
SELECT email, role, group_ids = ARRAY[:eng]::bigint[] AS groups FROM aistudio.get_me();
SELECT name, api_key_ref, has_api_key FROM aistudio.get_llm(:gpt);
SELECT name, owner_id = :dev AS mine, llm_ids = ARRAY[:gpt]::bigint[] AS llms, monthly_budget FROM aistudio.get_app(:bot);
RESET pg_aistudio.acting_user;
SET pg_aistudio.acting_user = :'ada';
SELECT name, api_key_ref, has_api_key FROM aistudio.get_llm(:gpt);
SELECT name, member_ids = ARRAY[:dev]::bigint[] AS members, llm_ids = ARRAY[:gpt]::bigint[] AS llms FROM aistudio.get_group(:eng);
SELECT name, filter_type, llm_ids FROM aistudio.get_filter(:filter);
SELECT name, hook, command FROM aistudio.get_plugin(:plugin);
SELECT edge_id, namespace, status FROM aistudio.get_edge('edge-1');
SELECT edge_id, status, total_count FROM aistudio.list_edges(by_status => 'unknown');

-- secrets: create_secret refuses an existing name; the value is sealed
SELECT aistudio.create_secret('ANTHROPIC_KEY', 'sk-ant-sessions') > 0 AS created;
SELECT name, version FROM aistudio.list_secrets() ORDER BY name;

-- prices: update by id, reset a cache price to the input price, delete by id
SELECT aistudio.update_model_price(:price, output_per_mtok => 12, cache_read_per_mtok => 1.25) = :price AS same_id;
SELECT input_per_mtok, output_per_mtok, cache_write_per_mtok, cache_read_per_mtok, currency FROM aistudio.get_model_price(:price);
SELECT aistudio.update_model_price(:price, reset_cache_read => true, currency => 'EUR');
SELECT input_per_mtok, output_per_mtok, cache_read_per_mtok, currency FROM aistudio.get_model_price(:price);
SELECT aistudio.delete_model_price_by_id(:price);
SELECT pg_temp.try(:'ada', format('SELECT aistudio.get_model_price(%s)', :price)) AS deleted;
RESET pg_aistudio.acting_user;

-- credentials of an app: issue, rotate and revoke through the app's id
SET pg_aistudio.acting_user = :'dev';
CREATE TEMP TABLE k1 AS SELECT * FROM aistudio.issue_app_credential(:bot);
SELECT key ~ '^ais_' AS key_format, starts_with(key, key_prefix) AS prefix_ok FROM k1;
CREATE TEMP TABLE k2 AS SELECT * FROM aistudio.rotate_app_credential(:bot, (SELECT id FROM k1));
SELECT k2.id > k1.id AS new_id, k2.key <> k1.key AS new_key FROM k1, k2;
SELECT id = (SELECT id FROM k1) AS first, active FROM aistudio.list_credentials(:bot) ORDER BY id;
SELECT aistudio.revoke_app_credential(:bot, id) FROM k2;
SELECT count(*) FILTER (WHERE active) AS active FROM aistudio.list_credentials(:bot);
SELECT pg_temp.try(:'dev', format('SELECT aistudio.revoke_app_credential(%s, %s)', :other, (SELECT id FROM k2))) AS another_app;
SELECT pg_temp.try(:'dev', format('SELECT aistudio.rotate_app_credential(%s, 999)', :bot)) AS unknown_credential;
SELECT pg_temp.try(:'dev', format('SELECT aistudio.rotate_app_credential(%s, %s)', :bot, (SELECT id FROM k2))) AS revoked;
RESET pg_aistudio.acting_user;
SELECT count(*) AS rows FROM k1, aistudio.resolve_credential(k1.key);

--
-- Analytics for the dashboard
--
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10);
SELECT aistudio.set_model_price('anthropic', 'claude-3-5-sonnet', 3, 15);
SELECT aistudio.create_app('other-bot', :dev2, '{}', monthly_budget => 1) AS other_bot \gset
SELECT aistudio.update_app(:bot, monthly_budget => 0.01);
-- three events today (UTC), one chat event yesterday (no app: no budget
-- depends on the date)
SELECT inserted FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', date_trunc('day', now()) + interval '1 hour', 'request_id', '00000000-0000-7000-8000-000000000001',
		'app_id', :bot, 'user_id', :dev, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'prompt_tokens', 1000, 'response_tokens', 500, 'latency_ms', 100, 'status_code', 200),
	jsonb_build_object('timestamp', date_trunc('day', now()) + interval '1 hour 30 minutes', 'request_id', '00000000-0000-7000-8000-000000000002',
		'app_id', :bot, 'user_id', :dev, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'prompt_tokens', 2000, 'response_tokens', 1000, 'latency_ms', 300, 'status_code', 500),
	jsonb_build_object('timestamp', date_trunc('day', now()) + interval '30 minutes', 'request_id', '00000000-0000-7000-8000-000000000003',
		'app_id', :other_bot, 'user_id', :dev2, 'llm_id', :claude, 'vendor', 'anthropic', 'model_name', 'claude-3-5-sonnet',
		'prompt_tokens', 1000000, 'response_tokens', 0, 'latency_ms', 50, 'status_code', 200),
	jsonb_build_object('timestamp', date_trunc('day', now()) - interval '22 hours', 'request_id', '00000000-0000-7000-8000-000000000004',
		'user_id', :chat, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o', 'interaction_type', 'chat',
		'prompt_tokens', 100, 'response_tokens', 100, 'latency_ms', 10, 'status_code', 200)));
SELECT aistudio.rollup_now() > 0 AS rolled_up;

-- an admin sees everything; whole days read the daily rollup
SET pg_aistudio.acting_user = :'ada';
SELECT key = to_char(now(), 'YYYY-MM-DD') AS today, requests, errors, total_tokens, cost, avg_latency_ms
  FROM aistudio.analytics_usage(date_trunc('day', now()) - interval '2 days', date_trunc('day', now()) + interval '1 day');
SELECT label, vendor, requests, cost FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'model');
SELECT label, requests, cost FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'app');
SELECT label, requests, cost FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'user');
SELECT label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'llm');
SELECT key, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'vendor');
SELECT right(key, 10) AS hour, requests, prompt_tokens FROM aistudio.analytics_usage(date_trunc('day', now()), date_trunc('day', now()) + interval '1 day', 'hour');
SELECT key, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'vendor', interaction_type => 'chat');
SELECT label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'model', limit_rows => 1);
-- traffic without an app, user, LLM or model is labelled, not NULL: chat
-- (no app), a gateway request refused before its app was known, a deleted app
RESET pg_aistudio.acting_user;
SELECT inserted FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', date_trunc('day', now()) + interval '2 hours', 'request_id', '00000000-0000-7000-8000-000000000005',
		'vendor', 'unknown', 'latency_ms', 1, 'status_code', 401)));
SELECT aistudio.create_app('gone-bot', :dev2, '{}') AS gone_bot \gset
SELECT inserted FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', date_trunc('day', now()) + interval '3 hours', 'request_id', '00000000-0000-7000-8000-000000000006',
		'app_id', :gone_bot, 'user_id', :dev2, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o', 'latency_ms', 1, 'status_code', 200)));
SELECT aistudio.rollup_now() > 0 AS rolled_up;
SELECT aistudio.delete_app(:gone_bot);
SET pg_aistudio.acting_user = :'ada';
SELECT key IS NULL AS no_key, label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'app') ORDER BY label;
SELECT key, label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'model') ORDER BY label;
SELECT key, label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'vendor') ORDER BY label;
SELECT label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'user') ORDER BY label;
SELECT label, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'llm') ORDER BY label;
SELECT subject, name, monthly_budget, spent, percent_used, total_count FROM aistudio.list_budget_usage();
RESET pg_aistudio.acting_user;

-- a developer sees only their own apps' usage and budgets
SET pg_aistudio.acting_user = :'dev';
SELECT label, requests, cost FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'app');
SELECT key, requests FROM aistudio.analytics_usage(now() - interval '3 days', date_trunc('day', now()) + interval '1 day', 'vendor');
SELECT subject, name, spent, total_count FROM aistudio.list_budget_usage();
SELECT count(*) AS rows FROM aistudio.analytics_usage(app_id => :other_bot);
RESET pg_aistudio.acting_user;

SELECT what, pg_temp.try(actor, sql) AS result FROM (VALUES
	(1, 'chat user reads usage', :'chat', 'SELECT aistudio.analytics_usage()'),
	(2, 'unknown group_by', :'ada', $$SELECT aistudio.analytics_usage(group_by => 'week')$$),
	(3, 'empty range', :'ada', $$SELECT aistudio.analytics_usage(now(), now() - interval '1 day')$$),
	(4, 'infinite range', :'ada', $$SELECT aistudio.analytics_usage('-infinity', now())$$),
	(5, 'range too long', :'ada', $$SELECT aistudio.analytics_usage(now() - interval '900 days', now())$$),
	(6, 'unknown interaction_type', :'ada', $$SELECT aistudio.analytics_usage(interaction_type => 'batch')$$),
	(7, 'limit 0', :'ada', 'SELECT aistudio.analytics_usage(limit_rows => 0)'),
	(8, 'unknown budget subject', :'ada', $$SELECT aistudio.list_budget_usage('user')$$),
	(9, 'chat user reads budgets', :'chat', 'SELECT aistudio.list_budget_usage()')
) AS t(n, what, actor, sql) ORDER BY n;

-- budget notifications: admins see all, developers their own apps'
SET pg_aistudio.acting_user = :'ada';
SELECT subject, subject_name, threshold, total_count FROM aistudio.list_budget_notifications() ORDER BY threshold, subject_name;
SELECT aistudio.acknowledge_budget_notification(max(id)) FROM aistudio.list_budget_notifications();
SELECT count(*) AS open FROM aistudio.list_budget_notifications(only_open => true);
RESET pg_aistudio.acting_user;
SET pg_aistudio.acting_user = :'dev2';
SELECT subject_name, threshold FROM aistudio.list_budget_notifications() ORDER BY threshold, subject_name;
RESET pg_aistudio.acting_user;

-- the audit log with paging and filters (super admin)
SET pg_aistudio.acting_user = :'root';
SELECT object_type, action, total_count > 2 AS many FROM aistudio.list_audit_entries(by_object_type => 'apps', limit_rows => 2);
SELECT count(*) AS rows, min(total_count) = max(total_count) AS same_total
  FROM aistudio.list_audit_entries(by_action => 'insert', limit_rows => 3, offset_rows => 1);
SELECT count(*) AS none FROM aistudio.list_audit_entries(since => now() + interval '1 day');
RESET pg_aistudio.acting_user;
