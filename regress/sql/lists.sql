-- lists: paged listings for every entity, and who sees what.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('admin@example.com', 'Admin', NULL, 'admin') AS admin_id \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', NULL, 'developer') AS dev_id \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', NULL, 'developer') AS dev2_id \gset
SELECT aistudio.create_user('chat@example.com', 'Chat', NULL, 'chat_user') AS chat_id \gset
SELECT aistudio.set_secret('OPENAI_KEY', 'sk-list-test-plaintext');
SELECT aistudio.create_llm('OpenAI', 'openai', 'https://api.openai.com', '$SECRET/OPENAI_KEY') AS l1 \gset
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com', 'literal-key') AS l2 \gset
SELECT aistudio.create_llm('Local', 'ollama', 'http://127.0.0.1:11434') AS l3 \gset
SELECT aistudio.create_group('eng') AS g \gset
SELECT aistudio.add_user_to_group(:dev_id, :g);
SELECT aistudio.add_user_to_group(:chat_id, :g);
SELECT aistudio.grant_llm_to_group(:g, :l1);
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10);
SELECT aistudio.set_model_price('anthropic', 'claude-3-5-sonnet', 3, 15, 3.75, 0.3);
SELECT aistudio.create_app('bot-a', :dev_id, ARRAY[:l1]::bigint[]) AS a1 \gset
SELECT aistudio.create_app('bot-b', :dev2_id, ARRAY[:l2]::bigint[]) AS a2 \gset

-- a DBA sees everything; keys show only as a reference or "has a key"
SELECT id = :l1 AS first, name, slug, vendor, api_key_ref, has_api_key, total_count FROM aistudio.list_llms();
SELECT name, role, total_count FROM aistudio.list_users();
-- each user's groups (the users page counts them)
SELECT name, group_ids = ARRAY[:g]::bigint[] AS in_eng, cardinality(group_ids) AS groups FROM aistudio.list_users();
SELECT name, role, total_count FROM aistudio.list_users(search => 'DEV');
SELECT name, total_count FROM aistudio.list_users(by_role => 'chat_user');
SELECT name, cardinality(member_ids) AS members, cardinality(llm_ids) AS llms FROM aistudio.list_groups();
SELECT vendor, model_name, input_per_mtok, cache_read_per_mtok, total_count FROM aistudio.list_model_prices();
SELECT name, total_count FROM aistudio.list_apps();
SELECT name FROM aistudio.list_namespaces();

-- paging: total_count is the number of matches, not the page size
SELECT name, total_count FROM aistudio.list_users(limit_rows => 2, offset_rows => 1);

-- a developer sees the LLMs their groups grant and only their own apps;
-- secret references are not shown to them
SET pg_aistudio.acting_user = :'dev_id';
SELECT name, api_key_ref, has_api_key FROM aistudio.list_llms();
SELECT name FROM aistudio.list_apps();
SELECT count(*) FROM aistudio.list_model_prices();
DO $$ BEGIN PERFORM aistudio.list_users(); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
DO $$ BEGIN PERFORM aistudio.list_groups(); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;

-- a chat user sees granted LLMs, no apps, no prices
SET pg_aistudio.acting_user = :'chat_id';
SELECT name FROM aistudio.list_llms();
DO $$ BEGIN PERFORM aistudio.list_apps(); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
DO $$ BEGIN PERFORM aistudio.list_model_prices(); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;

-- the prices of the models an LLM may serve, by the gateway's pattern rule
-- (a case-insensitive pattern too), for whoever may see the LLM
RESET pg_aistudio.acting_user;
SELECT aistudio.set_model_price('openai', 'GPT-4O-Mini', 0.15, 0.6);
SELECT aistudio.set_model_price('openai', 'o1', 15, 60);
SELECT aistudio.update_llm(:l1, allowed_models => ARRAY['(?i)^gpt-4o']);
SET pg_aistudio.acting_user = :'dev_id';
SELECT vendor, model_name, total_count FROM aistudio.list_model_prices(by_llm => :l1);
RESET pg_aistudio.acting_user;
-- an LLM the developer's groups do not grant: as if it did not exist
SELECT pg_temp.try(:'dev_id', format('SELECT aistudio.list_model_prices(by_llm => %s)', :l2)) AS other_llm;
SELECT model_name FROM aistudio.list_model_prices(by_llm => :l2);
SELECT model_name FROM aistudio.list_model_prices(by_llm => :l3);
DO $$ BEGIN PERFORM aistudio.list_model_prices(by_llm => 999); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
SELECT aistudio.update_llm(:l1, allowed_models => '{}');
SELECT aistudio.delete_model_price('openai', 'GPT-4O-Mini');
SELECT aistudio.delete_model_price('openai', 'o1');

-- the LLMs a user may chat with (usable => true): the active ones their
-- groups grant, for admins too (group grants apply to every role)
SET pg_aistudio.acting_user = :'admin_id';
SELECT name FROM aistudio.list_llms(usable => true);
RESET pg_aistudio.acting_user;
SELECT aistudio.add_user_to_group(:admin_id, :g);
SELECT aistudio.grant_llm_to_group(:g, :l3);
SELECT aistudio.update_llm(:l3, active => false);
SET pg_aistudio.acting_user = :'admin_id';
SELECT name FROM aistudio.list_llms(usable => true);
SELECT count(*) AS all_llms FROM aistudio.list_llms();
SET pg_aistudio.acting_user = :'chat_id';
SELECT name FROM aistudio.list_llms(usable => true);
RESET pg_aistudio.acting_user;
SELECT count(*) AS dba_usable FROM aistudio.list_llms(usable => true);
SELECT aistudio.update_llm(:l3, active => true);
SELECT aistudio.revoke_llm_from_group(:g, :l3);
SELECT aistudio.remove_user_from_group(:admin_id, :g);

-- an admin sees all apps
SET pg_aistudio.acting_user = :'admin_id';
SELECT name FROM aistudio.list_apps();
SELECT count(*) FROM aistudio.list_filters();
SELECT count(*) FROM aistudio.list_plugins();
RESET pg_aistudio.acting_user;

-- bad paging
DO $$ BEGIN PERFORM aistudio.list_apps(limit_rows => 0); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
DO $$ BEGIN PERFORM aistudio.list_apps(offset_rows => -1); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
DO $$ BEGIN PERFORM aistudio.list_llms(limit_rows => 100000); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;

-- clearing an LLM budget (update_llm cannot: NULL means unchanged)
SELECT aistudio.update_llm(:l1, monthly_budget => 50, budget_start_date => '2026-01-15');
SELECT monthly_budget, budget_start_date FROM aistudio.llms WHERE id = :l1;
SELECT aistudio.clear_llm_budget(:l1);
SELECT monthly_budget, budget_start_date FROM aistudio.llms WHERE id = :l1;
DO $$ BEGIN PERFORM aistudio.clear_llm_budget(999); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
SET pg_aistudio.acting_user = :'dev_id';
DO $$ BEGIN PERFORM aistudio.clear_llm_budget(1); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;
RESET pg_aistudio.acting_user;

-- ui_lookups(): the value lists of the UI, read from the CHECK constraints
SELECT jsonb_pretty(aistudio.ui_lookups());
-- any signed-in role reads them; the gateway executes it for them
SELECT pg_temp.try(:'chat_id', 'SELECT aistudio.ui_lookups()') AS chat_user_reads;
SELECT r, has_function_privilege(r, 'aistudio.ui_lookups()', 'EXECUTE') AS can_read
  FROM unnest(ARRAY['aistudio_gateway', 'aistudio_analyst', 'public']) r;
-- the ranks agree with src/rbac.c: acting as each role, require_role(min)
-- passes exactly when the role's rank is at least min's
SELECT aistudio.create_user('root@example.com', 'Root', NULL, 'super_admin') AS root_id \gset
CREATE TEMP TABLE ranks AS
	SELECT x->>'name' AS role, (x->>'rank')::int AS rank FROM jsonb_array_elements(aistudio.ui_lookups()->'roles') x;
SELECT role, string_agg(min_role, ' ' ORDER BY min_rank DESC) FILTER (WHERE passes) AS passes_require_role,
	   bool_and(passes = (rank >= min_rank)) AS agrees
  FROM (SELECT a.role, a.rank, m.role AS min_role, m.rank AS min_rank,
			   pg_temp.try(u.id::text, format('SELECT aistudio.require_role(%L, %L)', m.role, 'test')) = 'ok' AS passes
		  FROM ranks a
		  JOIN LATERAL (SELECT min(id) AS id FROM aistudio.users WHERE role = a.role) u ON true
		 CROSS JOIN ranks m) t
 GROUP BY role, rank ORDER BY rank DESC;
-- a value added to a CHECK is offered at once (labelled with its name until
-- it gets a label here)
BEGIN;
ALTER TABLE aistudio.plugins DROP CONSTRAINT plugins_hook_check;
ALTER TABLE aistudio.plugins ADD CONSTRAINT plugins_hook_check CHECK (hook IN ('pre_auth', 'on_stream'));
SELECT aistudio.ui_lookups()->'plugin_hooks' AS plugin_hooks;
ROLLBACK;

-- sorting: an allow-listed column, ascending or descending ("-"), ties by id
RESET pg_aistudio.acting_user;
SELECT email FROM aistudio.list_users(sort => 'email');
SELECT email FROM aistudio.list_users(sort => '-email');
SELECT email, role FROM aistudio.list_users(sort => 'role', limit_rows => 3);
SELECT name FROM aistudio.list_apps(sort => '-name');
SELECT name FROM aistudio.list_apps(sort => 'created_at');
-- paging keeps the sorted order
SELECT email FROM aistudio.list_users(sort => '-email', limit_rows => 2, offset_rows => 1);
-- anything else is refused, never SQL
SELECT * FROM aistudio.list_users(sort => 'password_hash');
SELECT * FROM aistudio.list_users(sort => '--email');
SELECT * FROM aistudio.list_apps(sort => 'name; DROP TABLE aistudio.apps');
