-- credentials: issue / resolve / revoke / rotate / list — key format, only
-- a hash stored, resolution for the gateway, RBAC.  Keys are random: they
-- are kept in psql variables and never printed.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin') AS admin \gset
SELECT aistudio.create_user('dev1@example.com', 'Dev One', role => 'developer') AS dev1 \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', role => 'developer') AS dev2 \gset
SELECT aistudio.create_user('chat@example.com', 'Chatter') AS chat \gset
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com') AS gpt \gset
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com') AS claude \gset
SELECT aistudio.create_app('alpha', :dev1, ARRAY[:claude, :gpt]::bigint[], 100) AS alpha \gset
SELECT aistudio.create_app('empty', :dev2, '{}') AS empty \gset

-- issue: ais_ + 64 lower-case hex digits, a new key each time
SELECT aistudio.issue_credential(:alpha) AS key1 \gset
SELECT aistudio.issue_credential(:alpha) AS key2 \gset
SELECT :'key1' ~ '^ais_[0-9a-f]{64}$' AS well_formed, :'key1' <> :'key2' AS distinct_keys;

-- only the SHA-256 and the 12-character prefix are stored; the rest of the
-- key appears nowhere, not in the audit log either
SELECT id, app_id, key_prefix = left(:'key1', 12) AS prefix_of_key1, length(key_prefix) AS prefix_len,
	   key_hash = sha256(convert_to(:'key1', 'UTF8')) AS hash_of_key1, active, revoked_at IS NULL AS not_revoked
  FROM aistudio.credentials ORDER BY id;
SELECT count(*) AS rows_with_key_text
  FROM aistudio.credentials c
 WHERE position(substr(:'key1', 13) IN c::text) > 0
	OR position(substr(:'key2', 13) IN c::text) > 0;
SELECT count(*) AS audit_rows_with_key_text
  FROM aistudio.audit_log a
 WHERE position(substr(:'key1', 13) IN a::text) > 0 OR position(substr(:'key2', 13) IN a::text) > 0;

-- resolve: the app, its owner and LLMs (sorted), as the gateway sees them
SELECT * FROM aistudio.resolve_credential(:'key1');
SELECT credential_id, app_name FROM aistudio.resolve_credential(:'key2');
SELECT aistudio.issue_credential(:empty) AS empty_key \gset
SELECT credential_id, app_name, llm_ids, monthly_budget FROM aistudio.resolve_credential(:'empty_key');
-- wrong or malformed keys give no row, never an error
SELECT count(*) AS no_rows FROM (
	SELECT * FROM aistudio.resolve_credential('ais_' || repeat('0', 64))
	UNION ALL SELECT * FROM aistudio.resolve_credential(upper(:'key1'))
	UNION ALL SELECT * FROM aistudio.resolve_credential(:'key1' || ' ')
	UNION ALL SELECT * FROM aistudio.resolve_credential(left(:'key1', 67))
	UNION ALL SELECT * FROM aistudio.resolve_credential(substr(:'key1', 5))
	UNION ALL SELECT * FROM aistudio.resolve_credential('sk-' || substr(:'key1', 4))
	UNION ALL SELECT * FROM aistudio.resolve_credential('')
	UNION ALL SELECT * FROM aistudio.resolve_credential(NULL)
	UNION ALL SELECT * FROM aistudio.resolve_credential(repeat('ais_', 100000))
	UNION ALL SELECT * FROM aistudio.resolve_credential(E'ais_\u00e9')
) AS t;

-- list: prefixes and state only
SELECT id, key_prefix = left(:'key1', 12) AS is_key1, active, created_at IS NOT NULL AS has_created_at,
	   revoked_at, last_used_at
  FROM aistudio.list_credentials(:alpha);

-- revoke: the key stops resolving, the app's other key keeps working;
-- revoking twice changes nothing
SELECT aistudio.revoke_credential(1);
SELECT count(*) AS key1_rows FROM aistudio.resolve_credential(:'key1');
SELECT count(*) AS key2_rows FROM aistudio.resolve_credential(:'key2');
SELECT revoked_at AS first_revoked_at FROM aistudio.credentials WHERE id = 1 \gset
SELECT aistudio.revoke_credential(1);
SELECT active, revoked_at = :'first_revoked_at' AS unchanged FROM aistudio.credentials WHERE id = 1;

-- rotate: the old key stops, the new one works for the same app
SELECT aistudio.rotate_credential(2) AS key3 \gset
SELECT :'key3' ~ '^ais_[0-9a-f]{64}$' AS well_formed, :'key3' <> :'key2' AS new_key;
SELECT count(*) AS key2_rows FROM aistudio.resolve_credential(:'key2');
SELECT credential_id, app_id, app_name FROM aistudio.resolve_credential(:'key3');
SELECT id, app_id, active, revoked_at IS NOT NULL AS revoked FROM aistudio.credentials ORDER BY id;
SELECT pg_temp.err('SELECT aistudio.rotate_credential(1)');

-- an inactive app or owner still resolves, flagged for the gateway
SELECT aistudio.update_app(:alpha, active => false);
SELECT app_active, owner_active FROM aistudio.resolve_credential(:'key3');
SELECT aistudio.update_user(:dev1, active => false);
SELECT app_active, owner_active FROM aistudio.resolve_credential(:'key3');
SELECT aistudio.update_user(:dev1, active => true);
SELECT aistudio.update_app(:alpha, active => true, llm_ids => ARRAY[:gpt]::bigint[], namespace => '');
SELECT app_active, owner_active, llm_ids FROM aistudio.resolve_credential(:'key3');

-- RBAC: the owner manages the app's keys
SET pg_aistudio.acting_user = :'dev1';
SELECT aistudio.issue_credential(:alpha) ~ '^ais_[0-9a-f]{64}$' AS owner_issues;
SELECT count(*) AS owner_lists FROM aistudio.list_credentials(:alpha);
SELECT aistudio.rotate_credential(5) ~ '^ais_[0-9a-f]{64}$' AS owner_rotates;
SELECT pg_temp.err(format('SELECT aistudio.issue_credential(%s)', :empty));
SELECT pg_temp.err(format('SELECT * FROM aistudio.list_credentials(%s)', :empty));
RESET pg_aistudio.acting_user;
-- another developer does not
SET pg_aistudio.acting_user = :'dev2';
SELECT pg_temp.err(format('SELECT aistudio.issue_credential(%s)', :alpha));
SELECT pg_temp.err(format('SELECT * FROM aistudio.list_credentials(%s)', :alpha));
SELECT pg_temp.err('SELECT aistudio.revoke_credential(4)');
SELECT pg_temp.err('SELECT aistudio.rotate_credential(4)');
RESET pg_aistudio.acting_user;
-- nor does a chat user, who learns nothing about which ids exist
SET pg_aistudio.acting_user = :'chat';
SELECT pg_temp.err(format('SELECT aistudio.issue_credential(%s)', :alpha));
SELECT pg_temp.err('SELECT aistudio.issue_credential(999)');
SELECT pg_temp.err('SELECT aistudio.revoke_credential(999)');
SELECT pg_temp.err('SELECT * FROM aistudio.list_credentials(999)');
RESET pg_aistudio.acting_user;
-- an admin manages every app's keys
SET pg_aistudio.acting_user = :'admin';
SELECT aistudio.issue_credential(:empty) ~ '^ais_[0-9a-f]{64}$' AS admin_issues;
SELECT aistudio.revoke_credential(3);
RESET pg_aistudio.acting_user;
SELECT id, app_id, active FROM aistudio.credentials ORDER BY id;

-- unknown ids and bad input
SELECT pg_temp.err('SELECT aistudio.issue_credential(999)');
SELECT pg_temp.err('SELECT aistudio.issue_credential(NULL)');
SELECT pg_temp.err('SELECT aistudio.revoke_credential(999)');
SELECT pg_temp.err('SELECT aistudio.rotate_credential(999)');
SELECT pg_temp.err('SELECT * FROM aistudio.list_credentials(999)');

-- the gateway resolves keys but cannot manage them without an acting user
SELECT r AS role,
	   has_function_privilege(r, 'aistudio.resolve_credential(text)', 'EXECUTE') AS resolve,
	   has_function_privilege(r, 'aistudio.issue_credential(bigint,text,timestamptz)', 'EXECUTE') AS issue
  FROM unnest(ARRAY['aistudio_gateway', 'aistudio_analyst', 'public']) AS r;
SET ROLE aistudio_gateway;
SELECT app_name, llm_ids FROM aistudio.resolve_credential(:'key3');
SELECT pg_temp.err(format('SELECT aistudio.issue_credential(%s)', :alpha));
SELECT pg_temp.err('SELECT * FROM aistudio.credentials');
RESET ROLE;
SET ROLE aistudio_analyst;
SELECT pg_temp.err(format('SELECT * FROM aistudio.resolve_credential(%L)', 'ais_x'));
RESET ROLE;

-- deleting the app revokes its keys
SELECT aistudio.delete_app(:alpha);
SELECT count(*) AS key3_rows FROM aistudio.resolve_credential(:'key3');
SELECT count(*) AS credentials_left FROM aistudio.credentials WHERE app_id = :alpha;
