-- bad_input: every SQL API entry point fed bad input answers with a clear
-- SQLSTATE (22xxx bad input, 23xxx duplicate or in use, P0002 unknown id,
-- 42501 permission) and writes nothing: the row counts of every table, the
-- audit log included, are the same before and after (pg_temp.changed()
-- lists the tables whose count changed since the last pg_temp.snapshot()).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- counts(): the row count of every table of the extension; changed(): the
-- tables whose count differs from the last snapshot() (none = nothing written).
CREATE FUNCTION pg_temp.counts() RETURNS TABLE (relname name, n bigint) LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT c.relname FROM pg_class c
			  WHERE c.relnamespace = 'aistudio'::regnamespace AND c.relkind IN ('r', 'p')
			  ORDER BY c.relname LOOP
		relname := t.relname;
		EXECUTE format('SELECT count(*) FROM aistudio.%I', t.relname) INTO n;
		RETURN NEXT;
	END LOOP;
END
$$;
CREATE TEMP TABLE snapshot_counts (relname name, n bigint);
CREATE FUNCTION pg_temp.snapshot() RETURNS void LANGUAGE sql AS $$
	DELETE FROM snapshot_counts;
	INSERT INTO snapshot_counts SELECT * FROM pg_temp.counts();
$$;
CREATE FUNCTION pg_temp.changed() RETURNS TABLE (relname name, before bigint, after bigint) LANGUAGE sql AS $$
	SELECT a.relname, b.n, a.n FROM pg_temp.counts() a JOIN snapshot_counts b USING (relname)
	 WHERE a.n <> b.n ORDER BY 1;
$$;

--
-- Fixtures, made by a DBA through the SQL API.
--
SELECT aistudio.create_user('root@example.com', 'Root', 'root password 0123', 'super_admin');  -- 1
SELECT aistudio.create_user('ada@example.com', 'Ada', 'admin password 0123', 'admin');         -- 2
SELECT aistudio.create_user('dev@example.com', 'Dev', 'dev password 01234', 'developer');      -- 3
SELECT aistudio.create_user('chat@example.com', 'Chat', NULL, 'chat_user');                    -- 4
SELECT aistudio.create_user('gone@example.com', 'Gone', NULL, 'admin');                        -- 5
SELECT aistudio.update_user(5, active => false);
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', NULL, 'developer');                 -- 6
SELECT aistudio.set_secret('OPENAI_KEY', 'sk-test-0123456789');
SELECT aistudio.create_namespace('eu', 'EU edges');
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1', api_key => '$SECRET/OPENAI_KEY',
                           allowed_models => ARRAY['^gpt-4o']);                              -- 1
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com',
                           api_key => 'sk-ant-literal-0123', namespace => 'eu');             -- 2
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00);                             -- 1
SELECT aistudio.create_filter('no-ssn', 'regex', '{"patterns": ["\\d{3}-\\d{2}-\\d{4}"]}'); -- 1
SELECT aistudio.create_filter('eu-only', 'max_prompt', '{"max_chars": 1000}', namespace => 'eu'); -- 2
SELECT aistudio.create_plugin('tagger', 'post_auth', 'grpc://127.0.0.1:7000');                -- 1
SELECT aistudio.attach_filter(1, 1);
SELECT aistudio.register_edge('edge-eu-1', 'eu', '0.1.0');                                    -- 1
SELECT aistudio.create_group('engineering');                                                  -- 1
SELECT aistudio.create_group('support');                                                      -- 2
SELECT aistudio.add_user_to_group(3, 1);
SELECT aistudio.grant_llm_to_group(1, 1);
SELECT aistudio.create_app('bot', 3, ARRAY[1]::bigint[], monthly_budget => 10);               -- 1
SELECT aistudio.create_app('other-bot', 6, '{}');                                             -- 2
SELECT length(aistudio.issue_credential(1)) > 20 AS issued;                                   -- 1

SELECT pg_temp.snapshot();

--
-- The acting user: not an id, or no such active user.
--
SELECT actor, pg_temp.try(actor, $$SELECT aistudio.list_audit_log(limit_rows => 1)$$) AS result
  FROM (VALUES ('abc'), ('-1'), ('0'), ('1.5'), (' 1'), ('99999999999999999999'),
               ('999999'), ('5')) AS t(actor);

--
-- Role escalation and other permission refusals (42501).
--
SELECT what, pg_temp.try(actor, sql) AS result FROM (VALUES
	(1, 'admin creates a super admin', '2', $$SELECT aistudio.create_user('x1@example.com', 'X', NULL, 'super_admin')$$),
	(2, 'admin creates an admin', '2', $$SELECT aistudio.create_user('x2@example.com', 'X', NULL, 'admin')$$),
	(3, 'admin promotes themself', '2', $$SELECT aistudio.update_user(2, role => 'super_admin')$$),
	(4, 'admin demotes themself', '2', $$SELECT aistudio.update_user(2, role => 'developer')$$),
	(5, 'admin promotes a developer to admin', '2', $$SELECT aistudio.update_user(3, role => 'admin')$$),
	(6, 'admin deactivates the super admin', '2', $$SELECT aistudio.update_user(1, active => false)$$),
	(7, 'admin sets the super admin''s password', '2', $$SELECT aistudio.set_password(1, 'a new password 0123')$$),
	(8, 'admin deletes the super admin', '2', $$SELECT aistudio.delete_user(1)$$),
	(9, 'admin deletes themself', '2', $$SELECT aistudio.delete_user(2)$$),
	(10, 'admin rotates the master key', '2', $$SELECT aistudio.rotate_secret_key()$$),
	(11, 'admin reads the audit log', '2', $$SELECT aistudio.list_audit_log()$$),
	(12, 'developer creates a user', '3', $$SELECT aistudio.create_user('x3@example.com', 'X')$$),
	(13, 'developer promotes themself', '3', $$SELECT aistudio.update_user(3, role => 'admin')$$),
	(14, 'developer creates a group', '3', $$SELECT aistudio.create_group('devs')$$),
	(15, 'developer joins a group', '3', $$SELECT aistudio.add_user_to_group(3, 1)$$),
	(16, 'developer grants an LLM', '3', $$SELECT aistudio.grant_llm_to_group(1, 2)$$),
	(17, 'developer sets a secret', '3', $$SELECT aistudio.set_secret('MINE', 'value')$$),
	(18, 'developer lists secrets', '3', $$SELECT aistudio.list_secrets()$$),
	(19, 'developer creates an app for another user', '3', $$SELECT aistudio.create_app('x4', 6, '{}')$$),
	(20, 'developer attaches an LLM not granted', '3', $$SELECT aistudio.create_app('x5', 3, ARRAY[2]::bigint[])$$),
	(21, 'developer adds an LLM not granted', '3', $$SELECT aistudio.update_app(1, llm_ids => ARRAY[1, 2]::bigint[])$$),
	(22, 'developer edits another''s app', '3', $$SELECT aistudio.update_app(2, name => 'mine')$$),
	(23, 'developer gives their app away', '3', $$SELECT aistudio.update_app(1, owner_id => 6)$$),
	(24, 'developer deletes another''s app', '3', $$SELECT aistudio.delete_app(2)$$),
	(25, 'developer issues a key for another''s app', '3', $$SELECT aistudio.issue_credential(2)$$),
	(26, 'developer sets another''s password', '3', $$SELECT aistudio.set_password(6, 'a new password 0123')$$),
	(27, 'chat user creates an app', '4', $$SELECT aistudio.create_app('x6', 4, '{}')$$),
	(28, 'chat user lists credentials', '4', $$SELECT aistudio.list_credentials(1)$$),
	(29, 'chat user revokes a credential', '4', $$SELECT aistudio.revoke_credential(1)$$),
	(30, 'chat user deletes a secret', '4', $$SELECT aistudio.delete_secret('OPENAI_KEY')$$),
	(31, 'inactive admin creates a group', '5', $$SELECT aistudio.create_group('x7')$$),
	(32, 'unknown role', '', $$SELECT aistudio.create_user('x8@example.com', 'X', NULL, 'dba')$$),
	(33, 'unknown role in update', '', $$SELECT aistudio.update_user(3, role => 'root')$$),
	(34, 'developer creates an LLM', '3', $$SELECT aistudio.create_llm('Mine', 'openai', 'https://api.openai.com')$$),
	(35, 'developer changes an LLM''s key', '3', $$SELECT aistudio.update_llm(1, api_key => 'sk-mine')$$),
	(36, 'developer deletes an LLM', '3', $$SELECT aistudio.delete_llm(1)$$),
	(37, 'developer sets a price', '3', $$SELECT aistudio.set_model_price('openai', 'gpt-4o', 0, 0)$$),
	(38, 'developer creates a filter', '3', $$SELECT aistudio.create_filter('f', 'max_prompt', '{"max_chars": 5}')$$),
	(39, 'developer detaches a filter', '3', $$SELECT aistudio.detach_filter(1, 1)$$),
	(40, 'developer creates a plugin', '3', $$SELECT aistudio.create_plugin('p', 'auth', 'grpc://x:1')$$),
	(41, 'developer creates a namespace', '3', $$SELECT aistudio.create_namespace('mine')$$),
	(42, 'developer registers an edge', '3', $$SELECT aistudio.register_edge('rogue')$$),
	(43, 'chat user pushes to edges', '4', $$SELECT aistudio.mark_edges_pushed()$$),
	(44, 'chat user deletes an edge', '4', $$SELECT aistudio.delete_edge('edge-eu-1')$$),
	(45, 'chat user fakes a heartbeat', '4', $$SELECT aistudio.edge_heartbeat('edge-eu-1', '')$$),
	(46, 'developer rebuilds rollups', '3', $$SELECT aistudio.rollup_rebuild('2025-01-01', '2025-01-02')$$),
	(47, 'developer acknowledges a notification', '3', $$SELECT aistudio.acknowledge_budget_notification(1)$$),
	(48, 'developer clears an LLM budget', '3', $$SELECT aistudio.clear_llm_budget(1)$$),
	(49, 'chat user lists users', '4', $$SELECT aistudio.list_users()$$),
	(50, 'developer lists users', '3', $$SELECT aistudio.list_users()$$)
) AS t(n, what, actor, sql) ORDER BY n;

--
-- Unknown ids and names (P0002).
--
SELECT what, pg_temp.try('', sql) AS result FROM (VALUES
	(1, 'update_user', $$SELECT aistudio.update_user(999, name => 'X')$$),
	(2, 'set_password', $$SELECT aistudio.set_password(999, 'a new password 0123')$$),
	(3, 'delete_user', $$SELECT aistudio.delete_user(999)$$),
	(4, 'rename_group', $$SELECT aistudio.rename_group(999, 'x')$$),
	(5, 'delete_group', $$SELECT aistudio.delete_group(999)$$),
	(6, 'add_user_to_group: group', $$SELECT aistudio.add_user_to_group(3, 999)$$),
	(7, 'add_user_to_group: user', $$SELECT aistudio.add_user_to_group(999, 1)$$),
	(8, 'remove_user_from_group: not a member', $$SELECT aistudio.remove_user_from_group(4, 1)$$),
	(9, 'grant_llm_to_group: LLM', $$SELECT aistudio.grant_llm_to_group(1, 999)$$),
	(10, 'revoke_llm_from_group: not granted', $$SELECT aistudio.revoke_llm_from_group(1, 2)$$),
	(11, 'delete_secret', $$SELECT aistudio.delete_secret('NOPE')$$),
	(12, 'secret_value', $$SELECT aistudio.secret_value('NOPE')$$),
	(13, 'llm_api_key', $$SELECT aistudio.llm_api_key(999)$$),
	(14, 'create_app: owner', $$SELECT aistudio.create_app('x9', 999, '{}')$$),
	(15, 'create_app: LLM', $$SELECT aistudio.create_app('x10', 3, ARRAY[999]::bigint[])$$),
	(16, 'update_app', $$SELECT aistudio.update_app(999, name => 'x')$$),
	(17, 'update_app: owner', $$SELECT aistudio.update_app(1, owner_id => 999)$$),
	(18, 'update_app: LLM', $$SELECT aistudio.update_app(1, llm_ids => ARRAY[999]::bigint[])$$),
	(19, 'clear_app_budget', $$SELECT aistudio.clear_app_budget(999)$$),
	(20, 'delete_app', $$SELECT aistudio.delete_app(999)$$),
	(21, 'issue_credential', $$SELECT aistudio.issue_credential(999)$$),
	(22, 'revoke_credential', $$SELECT aistudio.revoke_credential(999)$$),
	(23, 'rotate_credential', $$SELECT aistudio.rotate_credential(999)$$),
	(24, 'list_credentials', $$SELECT aistudio.list_credentials(999)$$),
	(25, 'update_llm', $$SELECT aistudio.update_llm(999, name => 'x')$$),
	(26, 'delete_llm', $$SELECT aistudio.delete_llm(999)$$),
	(27, 'delete_model_price', $$SELECT aistudio.delete_model_price('openai', 'gpt-9')$$),
	(28, 'delete_namespace', $$SELECT aistudio.delete_namespace('nope')$$),
	(29, 'update_filter', $$SELECT aistudio.update_filter(999, name => 'x')$$),
	(30, 'delete_filter', $$SELECT aistudio.delete_filter(999)$$),
	(31, 'update_plugin', $$SELECT aistudio.update_plugin(999, name => 'x')$$),
	(32, 'delete_plugin', $$SELECT aistudio.delete_plugin(999)$$),
	(33, 'attach_filter: LLM', $$SELECT aistudio.attach_filter(999, 1)$$),
	(34, 'attach_filter: filter', $$SELECT aistudio.attach_filter(1, 999)$$),
	(35, 'detach_filter: not attached', $$SELECT aistudio.detach_filter(2, 1)$$),
	(36, 'attach_plugin: plugin', $$SELECT aistudio.attach_plugin(1, 999)$$),
	(37, 'detach_plugin: not attached', $$SELECT aistudio.detach_plugin(1, 1)$$),
	(38, 'edge_heartbeat', $$SELECT aistudio.edge_heartbeat('edge-nope', '')$$),
	(39, 'delete_edge', $$SELECT aistudio.delete_edge('edge-nope')$$),
	(40, 'grant_llm_to_group: group', $$SELECT aistudio.grant_llm_to_group(999, 1)$$),
	(41, 'clear_llm_budget', $$SELECT aistudio.clear_llm_budget(999)$$),
	(42, 'budget_status', $$SELECT aistudio.budget_status(999)$$),
	(43, 'llm_budget_status', $$SELECT aistudio.llm_budget_status(999)$$),
	(44, 'acknowledge_budget_notification', $$SELECT aistudio.acknowledge_budget_notification(999)$$)
) AS t(n, what, sql) ORDER BY n;

--
-- Duplicates (23505); set_secret replaces, it does not duplicate.
--
SELECT what, pg_temp.try('', sql) AS result FROM (VALUES
	(1, 'user email, other case', $$SELECT aistudio.create_user('ROOT@Example.COM', 'Root again')$$),
	(2, 'user email on update', $$SELECT aistudio.update_user(3, email => 'Ada@example.com')$$),
	(3, 'group name', $$SELECT aistudio.create_group('engineering')$$),
	(4, 'group rename', $$SELECT aistudio.rename_group(2, 'engineering')$$),
	(5, 'app name', $$SELECT aistudio.create_app('bot', 3, '{}')$$),
	(6, 'app rename', $$SELECT aistudio.update_app(2, name => 'bot')$$),
	(7, 'LLM name', $$SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com')$$),
	(8, 'LLM slug', $$SELECT aistudio.create_llm('Gpt', 'openai', 'https://api.openai.com')$$),
	(9, 'LLM rename', $$SELECT aistudio.update_llm(2, name => 'GPT')$$),
	(10, 'filter name', $$SELECT aistudio.create_filter('no-ssn', 'max_prompt', '{"max_chars": 5}')$$),
	(11, 'filter rename', $$SELECT aistudio.update_filter(2, name => 'no-ssn')$$),
	(12, 'plugin name', $$SELECT aistudio.create_plugin('tagger', 'auth', 'grpc://x:1')$$),
	(13, 'namespace', $$SELECT aistudio.create_namespace('eu')$$)
) AS t(n, what, sql) ORDER BY n;

SELECT * FROM pg_temp.changed();

-- set_secret and set_model_price replace: same id, no new row (only the
-- audit row of the re-sealed secret; the unchanged price logs nothing)
SELECT aistudio.set_secret('OPENAI_KEY', 'sk-test-0123456789') AS same_secret_id,
       aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00) AS same_price_id;
SELECT action, object_type, object_id, changes FROM aistudio.audit_log
 WHERE id > (SELECT max(id) - 1 FROM aistudio.audit_log);
SELECT pg_temp.snapshot();

--
-- Bad values (22xxx): formats, lengths, ranges.
--
SELECT what, pg_temp.try('', sql) AS result FROM (VALUES
	(1, 'email without @', $$SELECT aistudio.create_user('nobody', 'X')$$),
	(2, 'email too long', $$SELECT aistudio.create_user(repeat('e', 250) || '@x.io', 'X')$$),
	(3, 'user name empty', $$SELECT aistudio.create_user('x11@example.com', '  ')$$),
	(4, 'user name too long', $$SELECT aistudio.create_user('x12@example.com', repeat('n', 201))$$),
	(5, 'password too short', $$SELECT aistudio.create_user('x13@example.com', 'X', 'short')$$),
	(6, 'password too short on set', $$SELECT aistudio.set_password(3, 'short')$$),
	(7, 'group name empty', $$SELECT aistudio.create_group('')$$),
	(8, 'group name too long', $$SELECT aistudio.create_group(repeat('g', 129))$$),
	(9, 'secret name with a space', $$SELECT aistudio.set_secret('MY KEY', 'v')$$),
	(10, 'secret name too long', $$SELECT aistudio.set_secret(repeat('S', 129), 'v')$$),
	(11, 'secret value empty', $$SELECT aistudio.set_secret('EMPTY', '')$$),
	(12, 'secret value too long', $$SELECT aistudio.set_secret('BIG', repeat('v', 65537))$$),
	(13, 'app name empty', $$SELECT aistudio.create_app('', 3, '{}')$$),
	(14, 'app name too long', $$SELECT aistudio.create_app(repeat('a', 300), 3, '{}')$$),
	(15, 'app budget negative', $$SELECT aistudio.create_app('x14', 3, '{}', monthly_budget => -1)$$),
	(16, 'app budget NaN', $$SELECT aistudio.create_app('x15', 3, '{}', monthly_budget => 'NaN')$$),
	(17, 'app in unknown namespace', $$SELECT aistudio.create_app('x16', 3, '{}', namespace => 'nope')$$),
	(18, 'app LLM list with a NULL', $$SELECT aistudio.create_app('x17', 3, ARRAY[1, NULL]::bigint[])$$),
	(19, 'app owner inactive', $$SELECT aistudio.create_app('x18', 5, '{}')$$),
	(20, 'app description too long', $$SELECT aistudio.update_app(1, description => repeat('d', 100000))$$),
	(21, 'cost: unknown vendor', $$SELECT aistudio.cost('openaii', 'gpt-4o', 1, 1)$$),
	(22, 'cost: negative prompt tokens', $$SELECT aistudio.cost('openai', 'gpt-4o', -1, 1)$$),
	(23, 'cost: negative response tokens', $$SELECT aistudio.cost('openai', 'gpt-4o', 1, -1)$$),
	(24, 'cost: negative cache tokens', $$SELECT aistudio.cost('openai', 'gpt-4o', 1, 1, -5, 0)$$),
	(25, 'cost: cache reads above prompt', $$SELECT aistudio.cost('openai', 'gpt-4o', 1, 1, 0, 5)$$),
	(26, 'rotate a revoked credential', $$SELECT aistudio.revoke_credential(1), aistudio.rotate_credential(1)$$),
	(27, 'list_audit_log: limit 0', $$SELECT aistudio.list_audit_log(limit_rows => 0)$$),
	(28, 'list_audit_log: unknown type', $$SELECT aistudio.list_audit_log(object_type => 'x')$$),
	(29, 'LLM: unknown vendor', $$SELECT aistudio.create_llm('x', 'openaii', 'https://api.openai.com')$$),
	(30, 'LLM: vendor in capitals', $$SELECT aistudio.create_llm('x', 'OpenAI', 'https://api.openai.com')$$),
	(31, 'LLM: endpoint not a URL', $$SELECT aistudio.create_llm('x', 'openai', 'api.openai.com')$$),
	(32, 'LLM: endpoint not http(s)', $$SELECT aistudio.create_llm('x', 'openai', 'ftp://api.openai.com')$$),
	(33, 'LLM: endpoint without host', $$SELECT aistudio.create_llm('x', 'openai', 'https://')$$),
	(34, 'LLM: endpoint with credentials', $$SELECT aistudio.create_llm('x', 'openai', 'https://u:p@api.openai.com')$$),
	(35, 'LLM: endpoint with a space', $$SELECT aistudio.create_llm('x', 'openai', 'https://api.open ai.com')$$),
	(36, 'LLM: endpoint empty', $$SELECT aistudio.create_llm('x', 'openai', '')$$),
	(37, 'LLM: endpoint on update', $$SELECT aistudio.update_llm(1, api_endpoint => 'nope')$$),
	(38, 'LLM: invalid regex', $$SELECT aistudio.create_llm('x', 'openai', 'https://a.io', allowed_models => ARRAY['gpt-(4'])$$),
	(39, 'LLM: invalid regex on update', $$SELECT aistudio.update_llm(1, allowed_models => ARRAY['ok', '[z-a]'])$$),
	(40, 'LLM: unknown secret', $$SELECT aistudio.create_llm('x', 'openai', 'https://a.io', api_key => '$SECRET/NOPE')$$),
	(41, 'LLM: malformed secret reference', $$SELECT aistudio.create_llm('x', 'openai', 'https://a.io', api_key => '$SECRET/a b')$$),
	(42, 'LLM: unknown secret on update', $$SELECT aistudio.update_llm(1, api_key => '$SECRET/NOPE')$$),
	(43, 'LLM: name too long', $$SELECT aistudio.create_llm(repeat('l', 256), 'openai', 'https://a.io')$$),
	(44, 'LLM: name with a newline', $$SELECT aistudio.create_llm(E'a\nb', 'openai', 'https://a.io')$$),
	(45, 'LLM: unknown namespace', $$SELECT aistudio.create_llm('x', 'openai', 'https://a.io', namespace => 'nope')$$),
	(46, 'LLM: negative budget', $$SELECT aistudio.update_llm(1, monthly_budget => -5)$$),
	(47, 'LLM: key too long', $$SELECT aistudio.create_llm('x', 'openai', 'https://a.io', api_key => repeat('k', 9000))$$),
	(48, 'price: negative input', $$SELECT aistudio.set_model_price('openai', 'gpt-4o', -1, 10)$$),
	(49, 'price: negative cache read', $$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 10, cache_read_per_mtok => -0.5)$$),
	(50, 'price: NaN', $$SELECT aistudio.set_model_price('openai', 'gpt-4o', 'NaN', 10)$$),
	(51, 'price: unknown vendor', $$SELECT aistudio.set_model_price('acme', 'm', 1, 1)$$),
	(52, 'price: empty model', $$SELECT aistudio.set_model_price('openai', '', 1, 1)$$),
	(53, 'price: bad currency', $$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 1, currency => 'usd')$$),
	(54, 'namespace: bad name', $$SELECT aistudio.create_namespace('EU West')$$),
	(55, 'namespace: too long', $$SELECT aistudio.create_namespace(repeat('n', 64))$$),
	(56, 'namespace: delete the global one', $$SELECT aistudio.delete_namespace('')$$),
	(57, 'namespace: delete one in use', $$SELECT aistudio.delete_namespace('eu')$$),
	(58, 'filter: unknown type', $$SELECT aistudio.create_filter('x', 'regex_block', '{}')$$),
	(59, 'filter: invalid regex', $$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["(unclosed"]}')$$),
	(60, 'filter: patterns missing', $$SELECT aistudio.create_filter('x', 'regex', '{}')$$),
	(61, 'filter: config not an object', $$SELECT aistudio.create_filter('x', 'regex', '[1]')$$),
	(62, 'filter: max_chars zero', $$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": 0}')$$),
	(63, 'filter: max_chars a string', $$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": "9"}')$$),
	(64, 'filter: unknown stage', $$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": 9}', stage => 'later')$$),
	(65, 'filter: other namespace', $$SELECT aistudio.attach_filter(1, 2)$$),
	(66, 'plugin: unknown hook', $$SELECT aistudio.create_plugin('x', 'before', 'grpc://x:1')$$),
	(67, 'plugin: empty command', $$SELECT aistudio.create_plugin('x', 'auth', ' ')$$),
	(68, 'plugin: unknown type', $$SELECT aistudio.create_plugin('x', 'auth', 'grpc://x:1', plugin_type => 'http')$$),
	(69, 'edge: bad id', $$SELECT aistudio.register_edge('edge one')$$),
	(70, 'edge: unknown namespace', $$SELECT aistudio.register_edge('edge-2', 'nope')$$),
	(71, 'edge: bad checksum', $$SELECT aistudio.edge_heartbeat('edge-eu-1', 'xyz')$$),
	(72, 'secret: delete one in use', $$SELECT aistudio.delete_secret('OPENAI_KEY')$$),
	(73, 'ingest: not an array', $$SELECT aistudio.ingest_events('{"vendor": "openai"}')$$),
	(74, 'ingest: not objects', $$SELECT aistudio.ingest_events('[1, 2]')$$),
	(75, 'ingest: unknown column type', $$SELECT aistudio.ingest_events('[{"prompt_tokens": "many"}]')$$),
	(76, 'rollup_rebuild: empty range', $$SELECT aistudio.rollup_rebuild('2025-01-02', '2025-01-01')$$),
	(77, 'rollup_rebuild: infinite range', $$SELECT aistudio.rollup_rebuild('-infinity', 'infinity')$$),
	(78, 'list_users: limit 0', $$SELECT aistudio.list_users(limit_rows => 0)$$),
	(79, 'list_llms: negative offset', $$SELECT aistudio.list_llms(offset_rows => -1)$$),
	(80, 'list_apps: limit too large', $$SELECT aistudio.list_apps(limit_rows => 1000000)$$)
) AS t(n, what, sql) ORDER BY n;

-- a malformed analytics event is not an error: it is kept in ingest_rejects
-- with the reason (nothing is lost), and nothing else is written
SELECT * FROM aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
	'timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000001', 'vendor', 'openai',
	'model_name', 'gpt-4o', 'prompt_tokens', 5, 'response_tokens', 1, 'interaction_type', 'batch')));
SELECT reason FROM aistudio.ingest_rejects;
SELECT * FROM pg_temp.changed();
SELECT pg_temp.snapshot();

-- resolve_credential answers "no such key" (no row) to anything malformed
SELECT count(*) AS rows FROM aistudio.resolve_credential('');
SELECT count(*) AS rows FROM aistudio.resolve_credential('not-a-key');
SELECT count(*) AS rows FROM aistudio.resolve_credential(repeat('k', 100000));
SELECT count(*) AS rows FROM aistudio.resolve_credential(NULL);

--
-- NULL in every argument of every API entry point (the functions the
-- gateway or analysts may call), as a DBA and as a chat user: an error
-- with a SQLSTATE or a NULL/empty answer, never a crash.  (Where NULL means
-- "all", a call may succeed: mark_edges_pushed(NULL) pushes every edge.)
--
SELECT p.oid::regprocedure AS function,
       pg_temp.try('', format('SELECT aistudio.%I(%s)', p.proname,
               (SELECT string_agg('NULL::' || format_type(t, NULL), ', ' ORDER BY i)
                  FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)))) AS as_dba,
       pg_temp.try('4', format('SELECT aistudio.%I(%s)', p.proname,
               (SELECT string_agg('NULL::' || format_type(t, NULL), ', ' ORDER BY i)
                  FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)))) AS as_chat_user
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace AND p.pronargs > 0 AND p.prokind = 'f'
   AND (has_function_privilege('aistudio_gateway', p.oid, 'EXECUTE')
        OR has_function_privilege('aistudio_analyst', p.oid, 'EXECUTE'))
 ORDER BY p.proname, 1::text;

SELECT * FROM pg_temp.changed();
SELECT pg_temp.snapshot();

--
-- A role of the gateway without an acting user, and a role without
-- privileges, get nowhere.
--
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_bad_gateway;
DROP ROLE IF EXISTS regress_bad_nobody;
RESET client_min_messages;
CREATE ROLE regress_bad_gateway IN ROLE aistudio_gateway;
CREATE ROLE regress_bad_nobody;
SET ROLE regress_bad_gateway;
SELECT pg_temp.try('', $$SELECT aistudio.create_group('from-gateway')$$) AS no_actor;
SELECT pg_temp.try('', $$INSERT INTO aistudio.groups (name) VALUES ('direct')$$) AS direct_insert;
SELECT pg_temp.try('', $$UPDATE aistudio.users SET role = 'super_admin'$$) AS direct_update;
SELECT pg_temp.try('', $$DELETE FROM aistudio.audit_log$$) AS delete_audit;
RESET ROLE;
SET ROLE regress_bad_nobody;
SELECT pg_temp.try('2', $$SELECT aistudio.create_group('from-nobody')$$) AS no_execute;
SELECT pg_temp.try('', $$SELECT * FROM aistudio.secrets$$) AS read_secrets;
RESET ROLE;
DROP ROLE regress_bad_gateway;
DROP ROLE regress_bad_nobody;

--
-- Nothing was half-written: every table, the audit log included, has the
-- rows it had before.
--
SELECT * FROM pg_temp.changed();
