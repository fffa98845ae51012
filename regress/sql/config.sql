-- config: LLMs, model prices, namespaces, filters, plugins, attachments,
-- edges, change notification triggers, RBAC of every mutation.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql
SET regress.err_detail = on;	-- pg_temp.err() shows the detail too

---------------------------------------------------------------- namespaces
SELECT aistudio.create_namespace('eu', 'Europe');
SELECT aistudio.create_namespace('us');
SELECT aistudio.create_namespace('scratch');
SELECT pg_temp.err($$SELECT aistudio.create_namespace('eu')$$);
SELECT pg_temp.err($$SELECT aistudio.create_namespace('EU')$$);
SELECT pg_temp.err($$SELECT aistudio.create_namespace('')$$);
SELECT pg_temp.err($$SELECT aistudio.create_namespace('-x')$$);
SELECT pg_temp.err($$SELECT aistudio.create_namespace(NULL)$$);
SELECT name, description FROM aistudio.namespaces ORDER BY name;

---------------------------------------------------------------- LLMs
-- (the LLMs below send it to three hosts: see secrets.sql for the host rules)
SELECT aistudio.set_secret('OpenAIKey', 'sk-secret-value',
						   allowed_hosts => '{api.anthropic.com, eu.anthropic.example, api.openai.com}') > 0 AS secret_set;

SELECT aistudio.create_llm('My GPT-4o (EU)', 'openai', 'https://api.openai.com/v1', 'sk-literal-key',
						   'gpt-4o', '{"^gpt-4o", "^gpt-4o-mini$"}') AS llm1;
SELECT aistudio.create_llm(name => 'Claude', vendor => 'anthropic', api_endpoint => 'https://api.anthropic.com',
						   api_key => '$SECRET/OpenAIKey', namespace => 'eu') AS llm2;
SELECT aistudio.create_llm('  Local  Llama!! ', 'ollama', 'http://localhost:11434', active => false) AS llm3;
SELECT aistudio.create_llm('v6', 'vertex', 'https://[::1]:8443/v1') AS llm4;
SELECT aistudio.create_llm('g', 'google_ai', 'HTTPS://generativelanguage.googleapis.com/v1beta?x=1#f') AS llm5;
SELECT aistudio.create_llm('hf', 'huggingface', 'https://api-inference.huggingface.co/models/') AS llm6;

SELECT id, name, slug, vendor, api_endpoint, api_key_ref, api_key_cipher IS NOT NULL AS sealed,
	   api_key_version, default_model, allowed_models, namespace, active
  FROM aistudio.llms ORDER BY id;

-- the literal key is stored sealed (aad 'llm:<id>') and opens again
SELECT position(convert_to('sk-literal-key', 'UTF8') IN api_key_cipher) AS plain_in_cipher,
	   aistudio.open_value('llm:' || id, api_key_key_id, api_key_nonce, api_key_cipher) AS opened,
	   length(api_key_nonce) AS nonce_len
  FROM aistudio.llms WHERE id = 1;

-- bad input
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openaii', 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', NULL, 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'ftp://files.example.com/')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'api.openai.com/v1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https:///v1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://:8080/v1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://api.openai.com/v1 x')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', ' https://api.openai.com')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', E'https://api.openai.com/\n')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://user:pass@api.openai.com/v1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://token@api.openai.com/v1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://api.openai.com:0/')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://api.openai.com:65536/')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://api.openai.com:/')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://[::1/')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://exa%mple.com/')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a.com/' || repeat('p', 2040))$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', '')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', allowed_models => '{"ok", "gpt-(4"}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', allowed_models => '{"*"}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', allowed_models => '{"a", NULL}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', api_key => '$SECRET/Nope')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', api_key => '$SECRET/bad name')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', api_key => E'sk-line\nbreak')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', namespace => 'mars')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('x', 'openai', 'https://a', namespace => NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('', 'openai', 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('   ', 'openai', 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm(repeat('n', 256), 'openai', 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('Claude', 'openai', 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('my gpt 4o eu ', 'openai', 'https://a')$$);
-- messages carry a detail and a hint, and never the URL (it may hold credentials)
SELECT aistudio.create_llm('x', 'openai', 'https://user:secret-pw@api.openai.com/v1');
SELECT aistudio.create_llm('x', 'mistral', 'https://a');
SELECT aistudio.create_llm('my gpt 4o eu ', 'openai', 'https://a');
-- nothing was written by the failed calls
SELECT count(*) AS llms FROM aistudio.llms;

-- update_llm
SELECT aistudio.update_llm(1, name => 'GPT 4o', default_model => '', allowed_models => '{}');
SELECT aistudio.update_llm(3, active => true, monthly_budget => 100.50, budget_start_date => '2026-01-15');
SELECT aistudio.update_llm(2, api_endpoint => 'https://eu.anthropic.example/v1', namespace => 'us');
SELECT id, name, slug, api_endpoint, default_model, allowed_models, namespace, active,
	   monthly_budget, budget_start_date
  FROM aistudio.llms WHERE id IN (1, 2, 3) ORDER BY id;
-- api_key: a new literal, then a reference, then '' (none); each bumps the version
SELECT aistudio.update_llm(1, api_key => 'sk-new-key');
SELECT api_key_version, aistudio.open_value('llm:1', api_key_key_id, api_key_nonce, api_key_cipher) AS opened
  FROM aistudio.llms WHERE id = 1;
SELECT aistudio.update_llm(1, api_key => '$SECRET/OpenAIKey');
SELECT api_key_ref, api_key_cipher IS NULL AS no_cipher, api_key_version FROM aistudio.llms WHERE id = 1;
SELECT aistudio.update_llm(1, api_key => '');
SELECT api_key_ref, api_key_cipher IS NULL AS no_cipher, api_key_version FROM aistudio.llms WHERE id = 1;
-- bad updates change nothing
SELECT pg_temp.err($$SELECT aistudio.update_llm(999, name => 'x')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, vendor => 'acme')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, api_endpoint => 'http://a b')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, name => 'Claude')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, name => 'CLAUDE')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, allowed_models => '{"[z-a]"}')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, namespace => 'mars')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, monthly_budget => -1)$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, monthly_budget => 'NaN')$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm(1, name => 'renamed', api_key => '$SECRET/Missing')$$);
SELECT id, name, slug, vendor, api_key_version FROM aistudio.llms WHERE id = 1;
-- renaming to the same name, or a name with the same slug as itself, is fine
SELECT aistudio.update_llm(1, name => 'GPT 4o');
SELECT aistudio.update_llm(1, name => 'gpt-4o');
SELECT name, slug FROM aistudio.llms WHERE id = 1;

-- delete_llm
SELECT aistudio.delete_llm(6);
SELECT pg_temp.err($$SELECT aistudio.delete_llm(6)$$);
SELECT count(*) AS llms FROM aistudio.llms;

---------------------------------------------------------------- model prices
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00) AS price1;
SELECT aistudio.set_model_price('anthropic', 'claude-sonnet-4', 3, 15, 3.75, 0.30) AS price2;
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10, cache_read_per_mtok => 1.25, currency => 'EUR') AS price1_again;
SELECT id, vendor, model_name, input_per_mtok, output_per_mtok, cache_write_per_mtok, cache_read_per_mtok, currency
  FROM aistudio.model_prices ORDER BY id;
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', -0.01, 10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, -10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 10, -1)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 10, NULL, -1)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 'NaN', 10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 'Infinity', 10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', NULL, 10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('acme', 'gpt-4o', 1, 10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', '', 1, 10)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 10, currency => 'usd')$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 10, currency => 'US')$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 10, currency => NULL)$$);
SELECT input_per_mtok, currency FROM aistudio.model_prices WHERE model_name = 'gpt-4o';
SELECT aistudio.delete_model_price('anthropic', 'claude-sonnet-4');
SELECT pg_temp.err($$SELECT aistudio.delete_model_price('anthropic', 'claude-sonnet-4')$$);
SELECT count(*) AS prices FROM aistudio.model_prices;

---------------------------------------------------------------- filters
SELECT aistudio.create_filter('no-cards', 'regex', '{"patterns": ["\\d{4}-\\d{4}-\\d{4}-\\d{4}"]}') AS f1;
SELECT aistudio.create_filter('redact-mail', 'pii', '{"kinds": ["email"], "placeholders": {"email": "[email]"}}',
							  stage => 'on_response', description => 'hide addresses') AS f2;
SELECT aistudio.create_filter('short', 'max_prompt', '{"max_chars": 20000}', namespace => 'eu') AS f3;
SELECT aistudio.create_filter('custom', 'keywords', '{"keywords": ["Secret", "naïve"], "whole_word": true}',
							  active => false) AS f4;
SELECT id, name, filter_type, stage, config, namespace, description, active FROM aistudio.filters ORDER BY id;
-- the old types are gone: a script that never runs is not offered
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'script', '{}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex_block', '{"patterns": ["a"]}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"]}', stage => 'later')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"]}', stage => 'auth')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"]}', stage => 'upstream')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '[]')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', NULL)$$);
-- regex
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": "abc"}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": []}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a", 1]}')$$);
SELECT pg_temp.err(format($$SELECT aistudio.create_filter('x', 'regex', %L)$$,
						  jsonb_build_object('patterns', (SELECT jsonb_agg('p' || i) FROM generate_series(1, 101) i))));
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["ok", "(unclosed"]}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"], "replacement": "b"}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"], "action": "redact"}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"], "action": "allow"}', stage => 'on_response')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["a"], "message": 5}')$$);
SELECT pg_temp.err(format($$SELECT aistudio.create_filter('x', 'regex', %L)$$,
						  jsonb_build_object('patterns', jsonb_build_array('a'), 'message', repeat('é', 251))));
-- keywords
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'keywords', '{"keywords": []}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'keywords', '{"keywords": ["ok", ""]}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'keywords', '{"keywords": [["nested"]]}')$$);
SELECT pg_temp.err(format($$SELECT aistudio.create_filter('x', 'keywords', %L)$$,
						  jsonb_build_object('keywords', jsonb_build_array(repeat('k', 257)))));
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'keywords', '{"keywords": ["a"], "whole_word": "yes"}')$$);
-- pii
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'pii', '{"kinds": []}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'pii', '{"kinds": ["email", "ssn"]}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'pii', '{"placeholders": {"ssn": "x"}}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'pii', '{"placeholders": {"card": 1}}')$$);
SELECT pg_temp.err(format($$SELECT aistudio.create_filter('x', 'pii', %L)$$,
						  jsonb_build_object('placeholders', jsonb_build_object('card', repeat('x', 65)))));
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'pii', '{"action": "mask"}')$$);
-- max_prompt
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": 0}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": 1.5}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_tokens": "100"}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": 10, "max_tokens": 1e12}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_chars": 10}', stage => 'on_response')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'max_prompt', '{"max_char": 10}')$$);
-- names and namespaces
SELECT pg_temp.err($$SELECT aistudio.create_filter('no-cards', 'pii')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('x', 'pii', namespace => 'mars')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('', 'pii')$$);
SELECT aistudio.create_filter('x', 'regex', '{"patterns": ["ok", "a{2,1}"]}');
SELECT count(*) AS filters FROM aistudio.filters;
-- update_filter re-checks the combination of type, config and stage
SELECT aistudio.update_filter(4, filter_type => 'max_prompt', config => '{"max_chars": 5, "max_tokens": 9}',
							  active => true);
SELECT pg_temp.err($$SELECT aistudio.update_filter(4, filter_type => 'regex')$$);
SELECT pg_temp.err($$SELECT aistudio.update_filter(4, stage => 'on_response')$$);
SELECT pg_temp.err($$SELECT aistudio.update_filter(4, name => 'no-cards')$$);
SELECT pg_temp.err($$SELECT aistudio.update_filter(99, name => 'x')$$);
SELECT aistudio.update_filter(2, name => 'redact-email', description => '');
SELECT id, name, filter_type, config, description, active FROM aistudio.filters WHERE id IN (2, 4) ORDER BY id;

---------------------------------------------------------------- plugins
SELECT aistudio.create_plugin('pii', 'post_auth', 'grpc://127.0.0.1:7001') AS p1;
SELECT aistudio.create_plugin('audit-hook', 'on_response', 'file:///opt/plugins/audit', '{"level": 2}',
							  namespace => 'eu', description => 'copies responses') AS p2;
SELECT id, name, plugin_type, hook, command, config, namespace, description, active FROM aistudio.plugins ORDER BY id;
SELECT pg_temp.err($$SELECT aistudio.create_plugin('x', 'pre_flight', 'grpc://a:1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_plugin('x', 'auth', '')$$);
SELECT pg_temp.err($$SELECT aistudio.create_plugin('x', 'auth', E'grpc://a:1\n')$$);
SELECT pg_temp.err($$SELECT aistudio.create_plugin('x', 'auth', 'grpc://a:1', plugin_type => 'wasm')$$);
SELECT pg_temp.err($$SELECT aistudio.create_plugin('x', 'auth', 'grpc://a:1', '"x"')$$);
SELECT pg_temp.err($$SELECT aistudio.create_plugin('pii', 'auth', 'grpc://a:1')$$);
SELECT pg_temp.err($$SELECT aistudio.create_plugin('x', 'auth', 'grpc://a:1', namespace => 'mars')$$);
SELECT aistudio.update_plugin(1, hook => 'upstream', config => '{"mode": "mask"}');
SELECT pg_temp.err($$SELECT aistudio.update_plugin(1, hook => 'never')$$);
SELECT pg_temp.err($$SELECT aistudio.update_plugin(1, name => 'audit-hook')$$);
SELECT pg_temp.err($$SELECT aistudio.update_plugin(42)$$);
SELECT id, name, hook, config FROM aistudio.plugins ORDER BY id;

---------------------------------------------------------------- attachments
-- LLM 3 is global; LLM 2 is in 'us'; filter 3 and plugin 2 are in 'eu'
SELECT aistudio.attach_filter(3, 1, 10), aistudio.attach_filter(3, 2), aistudio.attach_filter(llm_id => 3, filter_id => 4, "position" => 5);
SELECT aistudio.attach_filter(3, 1, 1);
SELECT aistudio.attach_plugin(3, 1);
SELECT llm_id, filter_id, position FROM aistudio.llm_filters ORDER BY llm_id, position, filter_id;
SELECT llm_id, plugin_id, position, fail_open FROM aistudio.llm_plugins ORDER BY llm_id, plugin_id;
-- fail_open is per attachment; attaching again sets it (and the position) anew
SELECT aistudio.attach_plugin(3, 1, 4, fail_open => true);
SELECT llm_id, plugin_id, position, fail_open FROM aistudio.llm_plugins ORDER BY llm_id, plugin_id;
SELECT aistudio.attach_plugin(3, 1);
SELECT llm_id, plugin_id, position, fail_open FROM aistudio.llm_plugins ORDER BY llm_id, plugin_id;
SELECT pg_temp.err($$SELECT aistudio.attach_filter(3, 3)$$);
SELECT pg_temp.err($$SELECT aistudio.attach_filter(2, 3)$$);
SELECT pg_temp.err($$SELECT aistudio.attach_plugin(3, 2)$$);
SELECT pg_temp.err($$SELECT aistudio.attach_filter(99, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.attach_filter(3, 99)$$);
SELECT pg_temp.err($$SELECT aistudio.attach_plugin(99, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.attach_plugin(3, 99)$$);
-- moving objects must keep attachments within one namespace (or global)
SELECT aistudio.create_llm('eu-llm', 'openai', 'https://a', namespace => 'eu') AS llm_eu \gset
SELECT aistudio.attach_filter(:llm_eu, 3), aistudio.attach_plugin(:llm_eu, 2);
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, namespace => %L)', :llm_eu, 'us'));
SELECT pg_temp.err($$SELECT aistudio.update_filter(1, namespace => 'us')$$);
SELECT pg_temp.err($$SELECT aistudio.update_plugin(1, namespace => 'us')$$);
SELECT aistudio.detach_filter(3, 2);
SELECT pg_temp.err($$SELECT aistudio.detach_filter(3, 2)$$);
SELECT aistudio.detach_plugin(3, 1);
SELECT pg_temp.err($$SELECT aistudio.detach_plugin(3, 1)$$);
SELECT llm_id, filter_id, position FROM aistudio.llm_filters ORDER BY llm_id, position, filter_id;
-- deleting a filter or plugin detaches it
SELECT aistudio.delete_filter(4);
SELECT pg_temp.err($$SELECT aistudio.delete_filter(4)$$);
SELECT aistudio.delete_plugin(2);
SELECT pg_temp.err($$SELECT aistudio.delete_plugin(2)$$);
SELECT (SELECT count(*) FROM aistudio.llm_filters) AS llm_filters, (SELECT count(*) FROM aistudio.llm_plugins) AS llm_plugins;

---------------------------------------------------------------- namespaces in use
SELECT pg_temp.err($$SELECT aistudio.delete_namespace('eu')$$);
SELECT aistudio.delete_namespace('eu');
SELECT pg_temp.err($$SELECT aistudio.delete_namespace('')$$);
SELECT pg_temp.err($$SELECT aistudio.delete_namespace('mars')$$);
SELECT aistudio.delete_namespace('scratch');
SELECT name FROM aistudio.namespaces ORDER BY name;

---------------------------------------------------------------- edges
SELECT aistudio.register_edge('edge-1', 'us', '1.0.0') AS e1;
SELECT aistudio.register_edge('edge-2') AS e2;
SELECT aistudio.register_edge('edge-1', 'us', '1.0.1') AS e1_again;
SELECT aistudio.register_edge('edge-3', 'eu') AS e3;
SELECT pg_temp.err($$SELECT aistudio.register_edge('bad edge')$$);
SELECT pg_temp.err($$SELECT aistudio.register_edge('')$$);
SELECT pg_temp.err($$SELECT aistudio.register_edge('edge-9', 'mars')$$);
SELECT pg_temp.err($$SELECT aistudio.register_edge('edge-9', '', E'1\n2')$$);
SELECT edge_id, namespace, version, loaded_checksum, last_heartbeat FROM aistudio.edges ORDER BY id;
-- heartbeat returns the expected checksum
SELECT aistudio.edge_heartbeat('edge-1', aistudio.snapshot_checksum('us')) = aistudio.snapshot_checksum('us') AS hb1;
SELECT aistudio.edge_heartbeat('edge-3', repeat('0', 64)) = aistudio.snapshot_checksum('eu') AS hb3;
SELECT pg_temp.err($$SELECT aistudio.edge_heartbeat('edge-404', '')$$);
SELECT pg_temp.err($$SELECT aistudio.edge_heartbeat('edge-1', 'ABC')$$);
SELECT pg_temp.err($$SELECT aistudio.edge_heartbeat('edge-1', upper(repeat('a', 64)))$$);
SELECT edge_id, namespace, loaded_checksum = expected_checksum AS same, status, version
  FROM aistudio.edge_status ORDER BY edge_id;
-- the status follows the checksums, not the age of the heartbeat: an old
-- heartbeat leaves edge-1 in sync (and no longer connected); an edge
-- pending for longer than pg_aistudio.edge_stale_after (15 min) is stale
UPDATE aistudio.edges SET last_heartbeat = now() - interval '91 seconds' WHERE edge_id = 'edge-1';
SELECT edge_id, status, connected FROM aistudio.edge_status ORDER BY edge_id;
UPDATE aistudio.edges SET pending_since = now() - interval '16 minutes' WHERE edge_id = 'edge-3';
SELECT edge_id, status FROM aistudio.edge_status ORDER BY edge_id;
-- a configuration change makes a fresh edge pending
SELECT aistudio.edge_heartbeat('edge-1', aistudio.snapshot_checksum('us')) IS NOT NULL AS hb;
SELECT aistudio.set_model_price('openai', 'gpt-4o-mini', 0.15, 0.60) > 0 AS price_set;
SELECT edge_id, status FROM aistudio.edge_status ORDER BY edge_id;
SELECT aistudio.mark_edges_pushed('us') AS pushed_us, aistudio.mark_edges_pushed() AS pushed_all;
SELECT pg_temp.err($$SELECT aistudio.mark_edges_pushed('mars')$$);
SELECT edge_id, last_push_at IS NOT NULL AS pushed FROM aistudio.edges ORDER BY id;
SELECT aistudio.delete_edge('edge-2');
SELECT pg_temp.err($$SELECT aistudio.delete_edge('edge-2')$$);
SELECT edge_id FROM aistudio.edge_status ORDER BY edge_id;

---------------------------------------------------------------- change notification
SELECT tgrelid::regclass AS notifying_table
  FROM pg_trigger WHERE tgname = 'config_notify' ORDER BY tgrelid::regclass::text;

---------------------------------------------------------------- RBAC
INSERT INTO aistudio.users (id, email, name, role) VALUES
	(101, 'dev@example.com', 'Dev', 'developer'),
	(102, 'chat@example.com', 'Chat', 'chat_user'),
	(103, 'admin@example.com', 'Admin', 'admin');
SET pg_aistudio.acting_user = '101';
SELECT pg_temp.err(s) FROM unnest(ARRAY[
	$$SELECT aistudio.create_llm('dev-llm', 'openai', 'https://a')$$,
	$$SELECT aistudio.update_llm(1, active => false)$$,
	$$SELECT aistudio.delete_llm(1)$$,
	$$SELECT aistudio.set_model_price('openai', 'x', 1, 1)$$,
	$$SELECT aistudio.delete_model_price('openai', 'gpt-4o')$$,
	$$SELECT aistudio.create_namespace('dev')$$,
	$$SELECT aistudio.delete_namespace('us')$$,
	$$SELECT aistudio.create_filter('f', 'pii')$$,
	$$SELECT aistudio.update_filter(1, active => false)$$,
	$$SELECT aistudio.delete_filter(1)$$,
	$$SELECT aistudio.create_plugin('p', 'auth', 'grpc://a:1')$$,
	$$SELECT aistudio.update_plugin(1, active => false)$$,
	$$SELECT aistudio.delete_plugin(1)$$,
	$$SELECT aistudio.attach_filter(3, 1)$$,
	$$SELECT aistudio.detach_filter(3, 1)$$,
	$$SELECT aistudio.attach_plugin(3, 1)$$,
	$$SELECT aistudio.detach_plugin(3, 1)$$,
	$$SELECT aistudio.register_edge('edge-dev')$$,
	$$SELECT aistudio.edge_heartbeat('edge-1', '')$$,
	$$SELECT aistudio.mark_edges_pushed()$$,
	$$SELECT aistudio.delete_edge('edge-1')$$]) AS s;
SET pg_aistudio.acting_user = '102';
SELECT pg_temp.err($$SELECT aistudio.create_llm('chat-llm', 'openai', 'https://a')$$);
SET pg_aistudio.acting_user = '103';
SELECT aistudio.create_llm('admin-llm', 'openai', 'https://a') > 0 AS admin_created;
SELECT aistudio.register_edge('edge-admin') > 0 AS admin_registered;
RESET pg_aistudio.acting_user;
SELECT count(*) AS llms, (SELECT count(*) FROM aistudio.edges) AS edges FROM aistudio.llms;

-- the gateway role registers edges and heartbeats without an acting user,
-- but may not manage configuration without one
CREATE ROLE aistudio_test_gw LOGIN IN ROLE aistudio_gateway;
SET ROLE aistudio_test_gw;
SELECT aistudio.register_edge('edge-gw', 'us') > 0 AS gw_registered;
SELECT length(aistudio.edge_heartbeat('edge-gw', '')) AS gw_heartbeat;
SELECT pg_temp.err($$SELECT aistudio.create_llm('gw-llm', 'openai', 'https://a')$$);
SELECT pg_temp.err($$SELECT aistudio.mark_edges_pushed()$$);
SELECT pg_temp.err($$SELECT aistudio.check_api_endpoint('https://a')$$);
SELECT edge_id, status FROM aistudio.edge_status WHERE edge_id = 'edge-gw';
RESET ROLE;
DROP ROLE aistudio_test_gw;
