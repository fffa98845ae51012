-- key_lifecycle: names, prefixes, expiry and rotation with overlap of app
-- credentials and personal API tokens.  Keys are random: they are kept in
-- psql variables and never printed; times are compared, never printed.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin') AS admin \gset
SELECT aistudio.create_user('dev1@example.com', 'Dev One', role => 'developer') AS dev1 \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', role => 'developer') AS dev2 \gset
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com') AS gpt \gset
SELECT aistudio.create_app('alpha', :dev1, ARRAY[:gpt]::bigint[]) AS alpha \gset

--
-- App credentials
--
SET pg_aistudio.acting_user = :'dev1';
-- issue with a name and an expiry; without them (the old signature) still works
SELECT aistudio.issue_credential(:alpha, 'ci runner', now() + interval '1 day') AS k_named \gset
SELECT aistudio.issue_credential(:alpha) AS k_plain \gset
SELECT id, name, key_prefix ~ '^ais_[0-9a-f]{8}$' AS prefix_format,
	   expires_at IS NOT NULL AS has_expiry, expired, active
  FROM aistudio.list_credentials(:alpha) ORDER BY id;
SELECT key_prefix = left(:'k_named', 12) AS prefix_is_start_of_key
  FROM aistudio.list_credentials(:alpha) WHERE id = 1;
-- bad names and expiries: 22023, nothing stored
SELECT what, pg_temp.err(sql) AS result FROM (VALUES
	(1, 'expiry in the past', format('SELECT aistudio.issue_credential(%s, %L, now() - interval %L)', :alpha, 'x', '1 minute')),
	(2, 'expiry now', format('SELECT aistudio.issue_credential(%s, %L, now())', :alpha, 'x')),
	(3, 'expiry infinity', format('SELECT aistudio.issue_credential(%s, %L, %L)', :alpha, 'x', 'infinity')),
	(4, 'name too long', format('SELECT aistudio.issue_credential(%s, %L)', :alpha, repeat('n', 101))),
	(5, 'name with a newline', format('SELECT aistudio.issue_credential(%s, %L)', :alpha, E'a\nb')),
	(6, 'negative overlap', 'SELECT aistudio.rotate_credential(1, -1)'),
	(7, 'overlap over a week', 'SELECT aistudio.rotate_credential(1, 10081)'),
	(8, 'NaN overlap', $$SELECT aistudio.rotate_credential(1, 'NaN')$$),
	(9, 'null overlap', 'SELECT aistudio.rotate_credential(1, NULL)'),
	(10, 'update: expiry in the past', 'SELECT aistudio.update_credential(1, expires_at => now() - interval ''1 s'')'),
	(11, 'another developer''s key', 'SELECT aistudio.update_credential(1, name => ''x'')')
) AS t(n, what, sql) WHERE n <> 11 ORDER BY n;
SELECT count(*) AS keys_stored FROM aistudio.list_credentials(:alpha);
SELECT pg_temp.try(:'dev2', 'SELECT aistudio.update_credential(1, name => ''x'')') AS other_developer;
SELECT pg_temp.try(:'dev2', 'SELECT aistudio.rotate_credential(1, 5)') AS other_developer_rotates;
SET pg_aistudio.acting_user = :'dev1';

-- resolve_credential carries the key's expiry (its last column)
RESET pg_aistudio.acting_user;
SELECT credential_id, app_name, expires_at > now() AS in_future FROM aistudio.resolve_credential(:'k_named');
SELECT credential_id, expires_at IS NULL AS never FROM aistudio.resolve_credential(:'k_plain');

-- rename, set and clear an expiry
SET pg_aistudio.acting_user = :'dev1';
SELECT aistudio.update_credential(2, name => 'batch', expires_at => now() + interval '2 hours');
SELECT name, expires_at > now() + interval '1 hour' AS set FROM aistudio.list_credentials(:alpha) WHERE id = 2;
SELECT aistudio.update_credential(2, clear_expiry => true);
SELECT name, expires_at IS NULL AS cleared FROM aistudio.list_credentials(:alpha) WHERE id = 2;

-- rotate with overlap: both keys resolve; the old one now expires within the overlap
SELECT aistudio.rotate_credential(1, 30) AS k_new \gset
RESET pg_aistudio.acting_user;
SELECT c.credential_id, c.expires_at BETWEEN now() + interval '29 minutes' AND now() + interval '30 minutes' AS overlap_end
  FROM aistudio.resolve_credential(:'k_named') c;
SELECT c.credential_id, c.expires_at IS NULL AS never, c.app_id = :alpha AS same_app
  FROM aistudio.resolve_credential(:'k_new') c;
SET pg_aistudio.acting_user = :'dev1';
SELECT id, name, active, expired FROM aistudio.list_credentials(:alpha) ORDER BY id;
-- an overlap never extends a key's own earlier expiry
SELECT aistudio.update_credential(3, expires_at => now() + interval '10 minutes');
SELECT aistudio.rotate_credential(3, 60, new_expires_at => now() + interval '90 days') AS k_newer \gset
SELECT id, expires_at < now() + interval '11 minutes' AS kept_earlier FROM aistudio.list_credentials(:alpha) WHERE id = 3;
SELECT id, name, expires_at > now() + interval '89 days' AS new_expiry FROM aistudio.list_credentials(:alpha) WHERE id = 4;
-- once the overlap is over (fractional minutes: 0.01 = 0.6 s) the old key is expired
SELECT aistudio.rotate_credential(2, 0.01) AS k_batch2 \gset
SELECT pg_sleep(1);
SELECT id, name, active, expired FROM aistudio.list_credentials(:alpha) WHERE id IN (2, 5) ORDER BY id;
RESET pg_aistudio.acting_user;
-- the gateway gets the row of the expired key (to answer "expired", not "invalid")
SELECT credential_id, expires_at <= now() AS past FROM aistudio.resolve_credential(:'k_plain');
SET pg_aistudio.acting_user = :'dev1';
-- an expired key cannot be rotated or changed; a revoked one neither
SELECT pg_temp.err('SELECT aistudio.rotate_credential(2, 5)') AS rotate_expired;
SELECT aistudio.revoke_credential(5);
SELECT pg_temp.err('SELECT aistudio.update_credential(5, name => ''y'')') AS update_revoked;
-- overlap 0 revokes at once, as before
SELECT aistudio.rotate_credential(4) IS NOT NULL AS rotated;
SELECT id, active, revoked_at IS NOT NULL AS revoked FROM aistudio.list_credentials(:alpha) WHERE id = 4;
RESET pg_aistudio.acting_user;
SELECT count(*) AS revoked_rows FROM aistudio.resolve_credential(:'k_newer');

-- the REST wrappers: issue with name and expiry, rotate with overlap, update
SET pg_aistudio.acting_user = :'dev1';
SELECT key ~ '^ais_' AS key, key_prefix = left(key, 12) AS prefix, name, expires_at > now() AS future
  FROM aistudio.issue_app_credential(:alpha, 'web', now() + interval '7 days');
SELECT name, expires_at > now() AS future FROM aistudio.list_credentials(:alpha) ORDER BY id DESC LIMIT 1;
SELECT id AS web_id FROM aistudio.list_credentials(:alpha) ORDER BY id DESC LIMIT 1 \gset
SELECT key_prefix = left(key, 12) AS prefix, name, expires_at IS NULL AS never
  FROM aistudio.rotate_app_credential(:alpha, :web_id, 15);
SELECT aistudio.update_app_credential(:alpha, :web_id, name => 'web (old)');
SELECT name, active, expired FROM aistudio.list_credentials(:alpha) WHERE id = :web_id;
SELECT pg_temp.err(format('SELECT aistudio.update_app_credential(%s, 999, name => %L)', :alpha, 'x')) AS unknown_key;
RESET pg_aistudio.acting_user;

-- an expiry change notifies gateways and edges (their caches drop the key)
SELECT tgname FROM pg_trigger
 WHERE tgrelid = 'aistudio.credentials'::regclass AND pg_get_triggerdef(oid) LIKE '%expires_at%'
 ORDER BY 1;

--
-- Personal API tokens
--
SET pg_aistudio.acting_user = :'dev1';
CREATE TEMP TABLE tok AS SELECT * FROM aistudio.create_api_token('deploy', now() + interval '30 days');
SELECT token_prefix = left(token, 12) AS prefix FROM tok;
SELECT name, expires_at > now() AS future, expired, active FROM aistudio.list_api_tokens();
SELECT pg_temp.err($$SELECT aistudio.create_api_token('late', now() - interval '1 minute')$$) AS past_expiry;
RESET pg_aistudio.acting_user;
SELECT user_id = :dev1 AS dev1, expired FROM tok, aistudio.resolve_api_token(tok.token);
-- rotate with a short overlap: both work, then the old one is expired
SET pg_aistudio.acting_user = :'dev1';
CREATE TEMP TABLE tok2 AS SELECT r.* FROM tok, aistudio.rotate_api_token(tok.id, 0.01) r;
SELECT name, expires_at IS NULL AS never, token_prefix = left(token, 12) AS prefix FROM tok2;
SELECT name, active, expired FROM aistudio.list_api_tokens() ORDER BY id;
RESET pg_aistudio.acting_user;
SELECT expired FROM tok2, aistudio.resolve_api_token(tok2.token);
SELECT pg_sleep(1);
SELECT expired FROM tok, aistudio.resolve_api_token(tok.token);
SELECT expired FROM tok2, aistudio.resolve_api_token(tok2.token);
-- an expired token does not count against the name: 'deploy' is taken by the new one only
SET pg_aistudio.acting_user = :'dev1';
SELECT pg_temp.err($$SELECT aistudio.create_api_token('deploy')$$) AS name_taken;
SELECT pg_temp.err('SELECT aistudio.rotate_api_token(' || (SELECT id FROM tok) || ', 5)') AS rotate_expired;
SELECT pg_temp.err('SELECT aistudio.rotate_api_token(999)') AS unknown;
RESET pg_aistudio.acting_user;
SELECT pg_temp.try(:'dev2', 'SELECT aistudio.rotate_api_token(' || (SELECT id FROM tok2) || ')') AS other_user;
SELECT pg_temp.try(:'admin', 'SELECT aistudio.rotate_api_token(' || (SELECT id FROM tok2) || ') IS NOT NULL') AS admin_rotates;
SELECT count(*) AS revoked_rows FROM tok2, aistudio.resolve_api_token(tok2.token);
