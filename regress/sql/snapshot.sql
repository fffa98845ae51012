-- snapshot: aistudio.snapshot() and aistudio.snapshot_checksum(): contents by
-- namespace, determinism, what changes the checksum and what does not, no
-- plaintext keys, permissions.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- has(ns, s): does the snapshot of ns contain the UTF-8 bytes of s?
CREATE FUNCTION pg_temp.has(ns text, s text) RETURNS boolean LANGUAGE sql AS $$
	SELECT position(convert_to(s, 'UTF8') IN aistudio.snapshot(ns)) > 0
$$;
-- sums: the checksums of the three namespaces
CREATE FUNCTION pg_temp.sums(OUT g text, OUT eu text, OUT us text) LANGUAGE sql AS $$
	SELECT aistudio.snapshot_checksum(''), aistudio.snapshot_checksum('eu'), aistudio.snapshot_checksum('us')
$$;

-- a global namespace without configuration: format_version 1 and the
-- vendors (aistudio.vendors, sorted by name); nothing is sealed and there are
-- no apps, so the checksum is the SHA-256 of the bytes themselves
SELECT substr(encode(aistudio.snapshot(), 'hex'), 1, 4) AS format_version_1,
       (SELECT count(*) FROM aistudio.vendors) AS vendors,
       position(convert_to('anthropic', 'UTF8') IN aistudio.snapshot()) < position(convert_to('vertex', 'UTF8') IN aistudio.snapshot()) AS sorted_by_name;
SELECT aistudio.snapshot_checksum() = encode(sha256(aistudio.snapshot()), 'hex') AS empty_checksum;

SELECT aistudio.create_namespace('eu'), aistudio.create_namespace('us');
SELECT aistudio.set_secret('EuKey', 'sk-eu-secret-value') > 0 AS secret_set;
SELECT aistudio.create_llm('Global GPT', 'openai', 'https://api.openai.com/v1', 'plain-key',
						   'gpt-4o', '{"^gpt-4o"}') AS g_llm;
SELECT aistudio.create_llm('EU Claude', 'anthropic', 'https://api.anthropic.com', '$SECRET/EuKey',
						   namespace => 'eu') AS eu_llm;
SELECT aistudio.create_llm('US Llama', 'ollama', 'http://10.0.0.5:11434', namespace => 'us') AS us_llm;
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00) AS price1;
SELECT aistudio.set_model_price('anthropic', 'claude-sonnet-4', 3, 15, 3.75, 0.30) AS price2;
SELECT aistudio.create_filter('block-cards', 'regex', '{"patterns": ["\\d{16}"]}') AS f1;
SELECT aistudio.create_filter('eu-limit', 'max_prompt', '{"max_chars": 1000}', namespace => 'eu') AS f2;
SELECT aistudio.create_plugin('pii-guard', 'post_auth', 'grpc://127.0.0.1:7001') AS p1;
SELECT aistudio.attach_filter(2, 1, 2), aistudio.attach_filter(2, 2, 1), aistudio.attach_plugin(1, 1);
INSERT INTO aistudio.users (id, email, name, role) VALUES (1, 'dev@example.com', 'Dev', 'developer');
INSERT INTO aistudio.apps (id, name, owner_id, namespace) VALUES (1, 'global-app', 1, ''), (2, 'eu-app', 1, 'eu');
INSERT INTO aistudio.app_llms VALUES (1, 1), (2, 2), (2, 1);

-- format_version 1 first, then the namespace name
SELECT substring(aistudio.snapshot() FROM 1 FOR 2) AS head_global,
	   substring(aistudio.snapshot('eu') FROM 1 FOR 6) AS head_eu;

-- a namespace sees its own objects and the global ones, never another namespace's
SELECT ns, pg_temp.has(ns, 'Global GPT') AS global_llm, pg_temp.has(ns, 'EU Claude') AS eu_llm,
	   pg_temp.has(ns, 'US Llama') AS us_llm, pg_temp.has(ns, 'claude-sonnet-4') AS price,
	   pg_temp.has(ns, 'eu-limit') AS eu_filter, pg_temp.has(ns, 'pii-guard') AS plugin,
	   pg_temp.has(ns, 'global-app') AS global_app, pg_temp.has(ns, 'eu-app') AS eu_app,
	   pg_temp.has(ns, 'secret:EuKey') AS eu_secret, pg_temp.has(ns, 'llm:1') AS sealed_llm_key
  FROM unnest(ARRAY['', 'eu', 'us']) AS ns;

-- no plaintext key anywhere
SELECT ns, pg_temp.has(ns, 'plain-key') AS literal_key, pg_temp.has(ns, 'sk-eu-secret-value') AS secret_value
  FROM unnest(ARRAY['', 'eu', 'us']) AS ns;

-- deterministic: same bytes, same checksum, 64 lower-case hex digits
SELECT aistudio.snapshot() = aistudio.snapshot() AS same_bytes,
	   aistudio.snapshot('eu') = aistudio.snapshot('eu') AS same_bytes_eu,
	   aistudio.snapshot_checksum('eu') = aistudio.snapshot_checksum('eu') AS same_sum,
	   length(aistudio.snapshot_checksum()) AS len,
	   aistudio.snapshot_checksum('us') ~ '^[0-9a-f]{64}$' AS hex,
	   length(aistudio.snapshot()) > 0 AS non_empty;
SELECT count(DISTINCT s) AS distinct_sums FROM unnest(ARRAY[(pg_temp.sums()).g, (pg_temp.sums()).eu, (pg_temp.sums()).us]) s;

-- the checksum does not depend on the session's DateStyle (dates are ISO)
SELECT aistudio.update_llm(1, monthly_budget => 250.00, budget_start_date => '2026-03-05');
SELECT * FROM pg_temp.sums() \gset s0_
SET DateStyle = 'SQL, DMY';
SELECT aistudio.snapshot_checksum() = :'s0_g' AS datestyle_independent,
	   pg_temp.has('', '2026-03-05') AS iso_date, pg_temp.has('', '250.00') AS exact_budget;
RESET DateStyle;

-- changed(): which checksums differ from the ones saved last time; saves the new ones
CREATE TABLE pg_temp.saved AS SELECT * FROM pg_temp.sums();
CREATE FUNCTION pg_temp.changed(OUT g boolean, OUT eu boolean, OUT us boolean) LANGUAGE plpgsql AS $$
DECLARE
	new_g text;
	new_eu text;
	new_us text;
BEGIN
	SELECT * INTO new_g, new_eu, new_us FROM pg_temp.sums();
	SELECT s.g <> new_g, s.eu <> new_eu, s.us <> new_us INTO g, eu, us FROM pg_temp.saved s;
	UPDATE pg_temp.saved SET g = new_g, eu = new_eu, us = new_us;
END
$$;

-- apps are in the snapshot but not in the checksum
SELECT aistudio.snapshot('eu') AS before_app \gset
INSERT INTO aistudio.apps (id, name, owner_id, namespace) VALUES (3, 'eu-app-2', 1, 'eu');
INSERT INTO aistudio.app_llms VALUES (3, 2);
UPDATE aistudio.apps SET name = 'eu-app-renamed', monthly_budget = 10, active = false WHERE id = 2;
DELETE FROM aistudio.app_llms WHERE app_id = 2 AND llm_id = 1;
SELECT aistudio.snapshot('eu') <> :'before_app'::bytea AS snapshot_changed, pg_temp.has('eu', 'eu-app-renamed') AS renamed;
SELECT 'app edits' AS edit, * FROM pg_temp.changed();

-- edits in one namespace change its checksum only; global edits change all
SELECT aistudio.update_llm(2, default_model => 'claude-sonnet-4');
SELECT 'eu LLM' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_llm(3, active => false);
SELECT 'us LLM' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_llm(1, allowed_models => '{"^gpt-4o", "^o3"}');
SELECT 'global LLM' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_llm(1, api_key => 'another-plain-key');
SELECT 'global LLM key' AS edit, * FROM pg_temp.changed();
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00) > 0 AS same_price;
SELECT 'same price again' AS edit, * FROM pg_temp.changed();
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 12.00) > 0 AS new_price;
SELECT 'price' AS edit, * FROM pg_temp.changed();
SELECT aistudio.set_model_price('openai', 'gpt-4.1', 2, 8) > 0 AS added_price;
SELECT 'new price' AS edit, * FROM pg_temp.changed();
SELECT aistudio.delete_model_price('openai', 'gpt-4.1');
SELECT 'deleted price' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_filter(2, config => '{"max_chars": 2000}');
SELECT 'eu filter' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_filter(1, stage => 'pre_auth');
SELECT 'global filter' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_filter(1, description => 'not shipped');
SELECT 'filter description' AS edit, * FROM pg_temp.changed();
SELECT aistudio.attach_filter(2, 1, 0);
SELECT 'filter order on eu LLM' AS edit, * FROM pg_temp.changed();
SELECT aistudio.update_plugin(1, config => '{"mode": "mask"}');
SELECT 'plugin' AS edit, * FROM pg_temp.changed();
SELECT aistudio.attach_plugin(1, 1, fail_open => true);
SELECT 'plugin attachment fail_open' AS edit, * FROM pg_temp.changed();
SELECT aistudio.detach_plugin(1, 1);
SELECT 'detach plugin' AS edit, * FROM pg_temp.changed();
SELECT aistudio.set_secret('EuKey', 'sk-eu-secret-rotated') > 0 AS secret_changed;
SELECT 'referenced secret' AS edit, * FROM pg_temp.changed();
SELECT aistudio.set_secret('Unreferenced', 'x') > 0 AS other_secret;
SELECT 'unreferenced secret' AS edit, * FROM pg_temp.changed();
SELECT aistudio.create_llm('EU Second', 'openai', 'https://a', namespace => 'eu') > 0 AS created;
SELECT 'new eu LLM' AS edit, * FROM pg_temp.changed();
SELECT aistudio.create_namespace('asia');
SELECT 'new namespace' AS edit, * FROM pg_temp.changed();
SELECT aistudio.register_edge('edge-1', 'eu') > 0 AS edge;
SELECT length(aistudio.edge_heartbeat('edge-1', '')) AS heartbeat;
SELECT 'edge heartbeat' AS edit, * FROM pg_temp.changed();
SELECT pg_temp.has('eu', 'sk-eu-secret-rotated') AS rotated_plain, pg_temp.has('', 'another-plain-key') AS new_plain;

-- bad input
SELECT pg_temp.err($$SELECT aistudio.snapshot('mars')$$);
SELECT pg_temp.err($$SELECT aistudio.snapshot_checksum('mars')$$);
SELECT pg_temp.err($$SELECT aistudio.snapshot(NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.snapshot_checksum(NULL)$$);
SELECT aistudio.snapshot_checksum('mars');

-- the gateway role may read snapshots without an acting user; analysts may not
CREATE ROLE aistudio_test_snap_gw LOGIN IN ROLE aistudio_gateway;
CREATE ROLE aistudio_test_snap_an LOGIN IN ROLE aistudio_analyst;
SET ROLE aistudio_test_snap_gw;
SELECT length(aistudio.snapshot('eu')) > 0 AS gw_snapshot, aistudio.snapshot_checksum('eu') = (pg_temp.sums()).eu AS gw_sum;
RESET ROLE;
SET ROLE aistudio_test_snap_an;
SELECT pg_temp.err($$SELECT aistudio.snapshot()$$);
SELECT pg_temp.err($$SELECT aistudio.snapshot_checksum()$$);
RESET ROLE;
DROP ROLE aistudio_test_snap_gw;
DROP ROLE aistudio_test_snap_an;

-- snapshot_checksum_of: the checksum of snapshot bytes by the same rule
-- (how a gateway or an edge verifies what it received)
SELECT aistudio.snapshot_checksum_of(aistudio.snapshot(ns)) = aistudio.snapshot_checksum(ns) AS same, ns
  FROM unnest(ARRAY['', 'eu', 'us']) ns ORDER BY ns;
SELECT aistudio.snapshot('eu') AS eu_before \gset
SELECT aistudio.update_app((SELECT min(id) FROM aistudio.apps WHERE namespace = 'eu'), description => 'apps are not in the checksum');
SELECT aistudio.snapshot_checksum_of(:'eu_before') = aistudio.snapshot_checksum('eu') AS app_edit_same;
SELECT aistudio.update_llm((SELECT min(id) FROM aistudio.llms WHERE namespace = 'eu'), default_model => 'changed-model');
SELECT aistudio.snapshot_checksum_of(:'eu_before') = aistudio.snapshot_checksum('eu') AS llm_edit_same;
SELECT pg_temp.err($$SELECT aistudio.snapshot_checksum_of('\xffffff'::bytea)$$);
SELECT aistudio.snapshot_checksum_of(''::bytea) = encode(sha256(''::bytea), 'hex') AS empty_is_empty_snapshot;

-- a new session (a new backend, plans prepared afresh) computes the same checksums
SELECT * FROM pg_temp.sums() \gset s1_
\c
SELECT aistudio.snapshot_checksum('') = :'s1_g' AS g, aistudio.snapshot_checksum('eu') = :'s1_eu' AS eu,
	   aistudio.snapshot_checksum('us') = :'s1_us' AS us;

