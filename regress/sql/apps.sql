-- apps: create_app / update_app / clear_app_budget / delete_app — input
-- checks, RBAC (developers over their own apps and granted LLMs only,
-- admins over all, chat users over none) and no half-written changes.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- the apps and their LLMs, for comparing before and after
CREATE FUNCTION pg_temp.apps() RETURNS TABLE (id bigint, name text, description text, owner_id bigint,
		monthly_budget numeric, budget_start_date date, namespace text, active boolean, llm_ids bigint[])
	LANGUAGE sql AS $$
	SELECT a.id, a.name, a.description, a.owner_id, a.monthly_budget, a.budget_start_date, a.namespace, a.active,
		   ARRAY(SELECT l.llm_id FROM aistudio.app_llms l WHERE l.app_id = a.id ORDER BY 1)
	  FROM aistudio.apps a ORDER BY a.id
$$;

-- users, LLMs, groups (as a DBA)
SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin') AS admin \gset
SELECT aistudio.create_user('dev1@example.com', 'Dev One', role => 'developer') AS dev1 \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', role => 'developer') AS dev2 \gset
SELECT aistudio.create_user('chat@example.com', 'Chatter') AS chat \gset
SELECT aistudio.create_user('gone@example.com', 'Gone', role => 'developer') AS gone \gset
SELECT aistudio.update_user(:gone, active => false);
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com') AS gpt \gset
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com') AS claude \gset
SELECT aistudio.create_llm('Gemini', 'google_ai', 'https://generativelanguage.googleapis.com') AS gemini \gset
SELECT aistudio.create_group('gpt users') AS g1 \gset
SELECT aistudio.create_group('claude users') AS g2 \gset
SELECT aistudio.add_user_to_group(:dev1, :g1);
SELECT aistudio.grant_llm_to_group(:g1, :gpt);
SELECT aistudio.add_user_to_group(:dev2, :g2);
SELECT aistudio.grant_llm_to_group(:g2, :claude);
INSERT INTO aistudio.namespaces (name) VALUES ('eu');

-- a DBA creates an app for anyone, with any LLM; duplicates are ignored
SELECT aistudio.create_app('alpha', :dev1, ARRAY[:gpt, :claude, :gpt]::bigint[], 100) AS alpha \gset
SELECT aistudio.create_app(name => 'no-llms', owner_id => :dev2, llm_ids => '{}', namespace => 'eu') AS nollms \gset
SELECT * FROM pg_temp.apps();

-- a developer creates apps for themselves over LLMs their groups grant
SET pg_aistudio.acting_user = :'dev1';
SELECT aistudio.create_app('beta', :dev1, ARRAY[:gpt]::bigint[], 25.50) AS beta \gset
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, ARRAY[%s]::bigint[])', 'gamma', :dev1, :claude));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, ARRAY[%s, %s]::bigint[])', 'gamma', :dev1, :gpt, :gemini));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, ARRAY[%s]::bigint[])', 'gamma', :dev2, :gpt));
-- a developer cannot probe for LLM ids: an unknown LLM is simply not granted
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, ARRAY[999]::bigint[])', 'gamma', :dev1));
-- and updates their own apps
SELECT aistudio.update_app(:beta, description => 'the beta app', monthly_budget => 20,
						   budget_start_date => '2025-01-15', namespace => 'eu', active => false);
SELECT * FROM pg_temp.apps() WHERE id = :beta;
SELECT aistudio.update_app(:beta, active => true, name => 'beta2');
-- but may not give an app away, nor attach an LLM not granted to them
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, owner_id => %s)', :beta, :dev2));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, llm_ids => ARRAY[%s, %s]::bigint[])', :beta, :gpt, :claude));
-- setting the owner to oneself is no change
SELECT aistudio.update_app(:beta, owner_id => :dev1);
-- an LLM an admin attached may stay when a developer edits the set
SELECT aistudio.update_app(:alpha, llm_ids => ARRAY[:claude, :gpt]::bigint[]);
-- once removed, it cannot be attached again by the developer
SELECT aistudio.update_app(:alpha, llm_ids => ARRAY[:gpt]::bigint[]);
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, llm_ids => ARRAY[%s, %s]::bigint[])', :alpha, :gpt, :claude));
SELECT * FROM pg_temp.apps() WHERE id IN (:alpha, :beta);
-- nothing of another developer's app
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, name => %L)', :nollms, 'mine'));
SELECT pg_temp.err(format('SELECT aistudio.clear_app_budget(%s)', :nollms));
SELECT pg_temp.err(format('SELECT aistudio.delete_app(%s)', :nollms));
RESET pg_aistudio.acting_user;

-- a chat user manages no app, and learns nothing about which exist
SET pg_aistudio.acting_user = :'chat';
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', 'chatapp', :chat, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, name => %L)', :alpha, 'x'));
SELECT pg_temp.err('SELECT aistudio.update_app(999, name => ''x'')');
SELECT pg_temp.err('SELECT aistudio.delete_app(999)');
SELECT pg_temp.err(format('SELECT aistudio.clear_app_budget(%s)', :alpha));
RESET pg_aistudio.acting_user;

-- an admin manages every app, with any LLM, and changes owners
SET pg_aistudio.acting_user = :'admin';
SELECT aistudio.create_app('delta', :dev2, ARRAY[:gpt, :claude, :gemini]::bigint[]) AS delta \gset
SELECT aistudio.update_app(:beta, owner_id => :dev2, llm_ids => ARRAY[:gemini]::bigint[]);
SELECT aistudio.update_app(:nollms, namespace => '', description => '');
SELECT * FROM pg_temp.apps();
RESET pg_aistudio.acting_user;
-- the previous owner lost access to beta
SET pg_aistudio.acting_user = :'dev1';
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, description => %L)', :beta, 'mine again'));
RESET pg_aistudio.acting_user;

-- clear_app_budget removes the budget and its start date
SELECT aistudio.update_app(:alpha, monthly_budget => 10, budget_start_date => '2025-03-05');
SELECT aistudio.clear_app_budget(:alpha);
SELECT monthly_budget, budget_start_date FROM aistudio.apps WHERE id = :alpha;

-- bad input; nothing is written by a failed call
CREATE TEMP TABLE apps_before AS SELECT * FROM pg_temp.apps();
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', '', :dev1, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', '   ', :dev1, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(NULL, %s, %L)', :dev1, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', repeat('n', 201), :dev1, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, NULL, %L)', 'e', '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, 999, %L)', 'e', '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', 'e', :gone, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, NULL)', 'e', :dev1));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, ARRAY[%s, NULL]::bigint[])', 'e', :dev1, :gpt));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, ARRAY[%s, 999, 998]::bigint[])', 'e', :dev1, :gpt));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, -1)', 'e', :dev1, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, %L)', 'e', :dev1, '{}', 'NaN'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, %L)', 'e', :dev1, '{}', 'Infinity'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, namespace => %L)', 'e', :dev1, '{}', 'nope'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', 'alpha', :dev2, '{}'));
SELECT pg_temp.err('SELECT aistudio.update_app(999, name => ''x'')');
SELECT pg_temp.err('SELECT aistudio.update_app(NULL, name => ''x'')');
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, name => %L)', :alpha, 'delta'));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, name => %L)', :alpha, ' '));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, description => %L)', :alpha, repeat('d', 10001)));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, monthly_budget => -0.01)', :alpha));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, namespace => %L)', :alpha, 'nope'));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, owner_id => 999)', :alpha));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, owner_id => %s)', :alpha, :gone));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, name => %L, llm_ids => ARRAY[%s, 999]::bigint[])', :alpha, 'renamed', :gpt));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, llm_ids => ARRAY[NULL]::bigint[])', :alpha));
SELECT pg_temp.err('SELECT aistudio.clear_app_budget(999)');
SELECT pg_temp.err('SELECT aistudio.delete_app(999)');
(SELECT * FROM pg_temp.apps() EXCEPT SELECT * FROM apps_before)
UNION ALL
(SELECT * FROM apps_before EXCEPT SELECT * FROM pg_temp.apps());
SELECT count(*) AS apps FROM aistudio.apps;

-- renaming to its own name is fine; unchanged arguments stay
SELECT aistudio.update_app(:alpha, name => 'alpha');
SELECT * FROM pg_temp.apps() WHERE id = :alpha;

-- delete_app removes the app, its LLM links and its credentials
SELECT aistudio.issue_credential(:delta) IS NOT NULL AS issued;
SET pg_aistudio.acting_user = :'dev2';
SELECT aistudio.delete_app(:delta);
RESET pg_aistudio.acting_user;
SELECT count(*) AS apps, (SELECT count(*) FROM aistudio.app_llms WHERE app_id = :delta) AS links,
	   (SELECT count(*) FROM aistudio.credentials WHERE app_id = :delta) AS credentials
  FROM aistudio.apps WHERE id = :delta;
SELECT pg_temp.err(format('SELECT aistudio.delete_app(%s)', :delta));

-- without an acting user only a superuser may call these
SET ROLE aistudio_gateway;
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L)', 'e', :dev1, '{}'));
RESET ROLE;
SELECT p.proname, has_function_privilege('aistudio_gateway', p.oid, 'EXECUTE') AS gateway,
	   has_function_privilege('aistudio_analyst', p.oid, 'EXECUTE') AS analyst
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace
   AND p.proname IN ('create_app', 'update_app', 'clear_app_budget', 'delete_app')
 ORDER BY 1;
