-- audit: every INSERT/UPDATE/DELETE on a configuration table writes one
-- aistudio.audit_log row with the acting user, the primary key and the
-- changes; secrets and hashes are redacted; bookkeeping-only updates are not
-- logged; the log is append-only; list_audit_log is for super admins.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- The log without timestamps (the session user's name depends on who runs
-- the tests, so only whether it is the session user is shown).
CREATE TEMP VIEW audit AS
SELECT id, actor_id, actor_role = session_user AS by_me, action, object_type, object_id,
       changes - 'created_at' - 'added_at' - 'registered_at' AS changes
  FROM aistudio.audit_log;

-- the trigger is on every configuration table, and only there
SELECT c.relname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgfoid = 'aistudio.audit_trigger()'::regprocedure
 ORDER BY 1;

-- creating the extension logged nothing (the built-in '' namespace)
SELECT count(*) FROM aistudio.audit_log;

--
-- Inserts by a DBA: the whole new row, actor_id NULL, secrets redacted.
--
INSERT INTO aistudio.users (email, name, role, password_hash)
VALUES ('root@example.com', 'Root', 'super_admin', 'scrypt$N=16384$c2FsdA$aGFzaA'),
       ('ada@example.com', 'Ada', 'admin', NULL),
       ('dev@example.com', 'Dev', 'developer', NULL);
INSERT INTO aistudio.groups (name) VALUES ('engineering');
INSERT INTO aistudio.group_members (group_id, user_id) VALUES (1, 3);
INSERT INTO aistudio.namespaces (name, description) VALUES ('eu', 'EU edges');
INSERT INTO aistudio.secrets (name, key_id, nonce, ciphertext)
VALUES ('OPENAI_KEY', 'feedfacefeedface', '\x000102030405060708090a0b', '\xdeadbeefdeadbeef');
INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint, api_key_ref, default_model, allowed_models)
VALUES ('GPT 4o', 'gpt-4o', 'openai', 'https://api.openai.com/v1', '$SECRET/OPENAI_KEY', 'gpt-4o', '{gpt-4o,"gpt-4o-mini"}');
INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint, api_key_key_id, api_key_nonce, api_key_cipher, namespace, monthly_budget)
VALUES ('Claude', 'claude', 'anthropic', 'https://api.anthropic.com', 'feedfacefeedface', '\x0b0a09', '\xcafebabe', 'eu', 250.00);
INSERT INTO aistudio.group_llms (group_id, llm_id) VALUES (1, 1);
INSERT INTO aistudio.model_prices (vendor, model_name, input_per_mtok, output_per_mtok)
VALUES ('openai', 'gpt-4o', 2.50, 10.00);
INSERT INTO aistudio.filters (name, filter_type, config) VALUES ('no-ssn', 'regex', '{"pattern": "\\d{3}-\\d{2}-\\d{4}"}');
INSERT INTO aistudio.plugins (name, hook, command) VALUES ('tagger', 'post_auth', '/usr/local/bin/tagger');
INSERT INTO aistudio.llm_filters (llm_id, filter_id) VALUES (1, 1);
INSERT INTO aistudio.llm_plugins (llm_id, plugin_id, position) VALUES (1, 1, 2);
INSERT INTO aistudio.apps (name, owner_id, monthly_budget) VALUES ('chatbot', 3, 100);
INSERT INTO aistudio.app_llms (app_id, llm_id) VALUES (1, 1);
INSERT INTO aistudio.credentials (app_id, key_hash, key_prefix) VALUES (1, sha256('sk-ais-secret'), 'sk-ais-');
INSERT INTO aistudio.edges (edge_id, namespace, version) VALUES ('edge-eu-1', 'eu', '0.1.0');
SELECT * FROM audit ORDER BY id;

--
-- Updates: only the changed columns; redacted columns show "[redacted]".
--
UPDATE aistudio.users SET name = 'Ada Lovelace', updated_at = now() WHERE id = 2;
UPDATE aistudio.users SET password_hash = 'scrypt$N=16384$bmV3$bmV3' WHERE id = 1;
UPDATE aistudio.llms SET active = false, allowed_models = '{gpt-4o}' WHERE id = 1;
UPDATE aistudio.llms SET api_key_nonce = '\x0c0d0e', api_key_cipher = '\x01020304', api_key_version = 2 WHERE id = 2;
UPDATE aistudio.llms SET api_key_ref = '$SECRET/OPENAI_KEY', api_key_key_id = NULL,
       api_key_nonce = NULL, api_key_cipher = NULL WHERE id = 2;
UPDATE aistudio.secrets SET nonce = '\x0b0b0b', ciphertext = '\x0c0c0c', version = version + 1;
UPDATE aistudio.model_prices SET output_per_mtok = 12.5, cache_read_per_mtok = 1.25;
UPDATE aistudio.filters SET config = '{"pattern": "secret"}', stage = 'pre_auth';
UPDATE aistudio.credentials SET active = false, revoked_at = '2025-01-02 03:04:05+00';
UPDATE aistudio.edges SET loaded_checksum = repeat('a', 64);
SELECT * FROM audit WHERE action = 'update' ORDER BY id;

-- bookkeeping-only updates and no-op updates write nothing: edge
-- heartbeats, credential use, touching updated_at, setting a value to itself
SELECT max(id) AS last_id FROM aistudio.audit_log \gset
UPDATE aistudio.edges SET last_heartbeat = now(), loaded_checksum = loaded_checksum;
UPDATE aistudio.credentials SET last_used_at = now();
UPDATE aistudio.apps SET updated_at = now() + interval '1 hour';
UPDATE aistudio.users SET name = name, role = role;
UPDATE aistudio.llm_plugins SET position = 2;
SELECT count(*) AS new_rows FROM aistudio.audit_log WHERE id > :last_id;

--
-- Deletes: the old row, redacted; cascades are logged row by row.
--
DELETE FROM aistudio.credentials WHERE id = 1;
DELETE FROM aistudio.llms WHERE id = 1;
SELECT * FROM audit WHERE action = 'delete' ORDER BY id;

--
-- The acting user is recorded.
--
SET pg_aistudio.acting_user = '2';
UPDATE aistudio.apps SET description = 'support bot' WHERE id = 1;
RESET pg_aistudio.acting_user;
-- a value the SQL API would refuse does not stop a DBA's direct change
SET pg_aistudio.acting_user = 'abc';
UPDATE aistudio.apps SET description = 'help desk bot' WHERE id = 1;
RESET pg_aistudio.acting_user;
SELECT * FROM audit WHERE object_type = 'apps' AND action = 'update' ORDER BY id;

--
-- A role that is neither superuser nor acting user: logged with its name,
-- actor_id NULL; it can neither write nor change the log itself.
--
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_audit_writer;
RESET client_min_messages;
CREATE ROLE regress_audit_writer;
GRANT USAGE ON SCHEMA aistudio TO regress_audit_writer;
GRANT SELECT, INSERT, UPDATE ON aistudio.groups TO regress_audit_writer;
GRANT SELECT ON aistudio.audit_log TO regress_audit_writer;
SET SESSION AUTHORIZATION regress_audit_writer;
INSERT INTO aistudio.groups (name) VALUES ('support');
-- check_function_bodies off does not hide a non-superuser's change
SET check_function_bodies = off;
UPDATE aistudio.groups SET name = 'customer-support' WHERE name = 'support';
RESET check_function_bodies;
SELECT pg_temp.try($$INSERT INTO aistudio.audit_log (actor_role, action, object_type) VALUES ('x', 'insert', 'users')$$);
SELECT pg_temp.try($$UPDATE aistudio.audit_log SET actor_id = 1$$);
SELECT pg_temp.try($$DELETE FROM aistudio.audit_log$$);
SELECT pg_temp.try($$TRUNCATE aistudio.audit_log$$);
RESET SESSION AUTHORIZATION;
SELECT id, actor_id, CASE WHEN actor_role = session_user THEN '(me)' ELSE actor_role END AS actor_role,
       action, object_type, object_id, changes - 'created_at' AS changes
  FROM aistudio.audit_log WHERE object_type = 'groups' ORDER BY id;
REVOKE ALL ON aistudio.groups, aistudio.audit_log FROM regress_audit_writer;
REVOKE ALL ON SCHEMA aistudio FROM regress_audit_writer;
DROP ROLE regress_audit_writer;

--
-- Append-only, for the owner too.
--
SELECT pg_temp.try($$UPDATE aistudio.audit_log SET changes = '{}' WHERE id = 1$$);
SELECT pg_temp.try($$DELETE FROM aistudio.audit_log WHERE id = 1$$);
\set VERBOSITY default
UPDATE aistudio.audit_log SET actor_id = 1 WHERE id = 1;

--
-- A restore (superuser, no acting user, check_function_bodies off, as every
-- pg_dump script sets) and extension scripts are not logged again.
--
SELECT max(id) AS last_id FROM aistudio.audit_log \gset
SET check_function_bodies = off;
INSERT INTO aistudio.groups (name) VALUES ('restored');
RESET check_function_bodies;
SELECT count(*) AS new_rows FROM aistudio.audit_log WHERE id > :last_id;
-- ... but with an acting user it is an ordinary change
SET check_function_bodies = off;
SET pg_aistudio.acting_user = '1';
DELETE FROM aistudio.groups WHERE name = 'restored';
RESET pg_aistudio.acting_user;
RESET check_function_bodies;
SELECT actor_id, action, object_type, changes->'name' AS name FROM aistudio.audit_log WHERE id > :last_id;

--
-- Secrets through the SQL API: the plaintext never reaches the log.
--
SELECT aistudio.set_secret('ANTHROPIC_KEY', 'sk-ant-plaintext-0123456789') AS secret_id \gset
SELECT aistudio.set_secret('ANTHROPIC_KEY', 'sk-ant-plaintext-rotated-9876');
SELECT aistudio.delete_secret('ANTHROPIC_KEY');
SELECT action, changes - 'created_at' AS changes
  FROM aistudio.audit_log WHERE object_type = 'secrets' AND object_id = :'secret_id'
 ORDER BY id;
SELECT count(*) AS leaks FROM aistudio.audit_log
 WHERE changes::text LIKE '%plaintext%' OR changes::text LIKE '%\\x%';

--
-- Users, groups, apps and credentials through the SQL API: the acting user
-- is recorded; no password and no credential key reaches the log.
--
SELECT max(id) AS last_id FROM aistudio.audit_log \gset
SET pg_aistudio.acting_user = '1';  -- super_admin
SELECT aistudio.create_user('api-user@example.com', 'Api User', 'correct horse battery staple', 'developer') AS api_user \gset
SELECT aistudio.set_password(:api_user, 'tr0ub4dor&3-and-more');
SELECT aistudio.update_user(:api_user, name => 'API User');
SELECT aistudio.update_user(:api_user, name => 'API User');  -- no change, no row
SELECT aistudio.create_group('api-group') AS api_group \gset
SELECT aistudio.add_user_to_group(:api_user, :api_group);
SELECT aistudio.create_app('api-app', :api_user, '{}') AS api_app \gset
SELECT aistudio.issue_credential(:api_app) AS api_key \gset
SELECT aistudio.delete_app(:api_app);
RESET pg_aistudio.acting_user;
SELECT actor_id, action, object_type, object_id,
       changes - 'created_at' - 'added_at' - 'key_prefix' AS changes
  FROM aistudio.audit_log
 WHERE id > :last_id ORDER BY id;
SELECT count(*) AS leaks FROM aistudio.audit_log
 WHERE changes::text LIKE '%horse%' OR changes::text LIKE '%tr0ub4dor%'
    OR changes::text LIKE '%scrypt%' OR strpos(changes::text, :'api_key') > 0;

--
-- LLMs and edges through the SQL API: a literal vendor key never reaches
-- the log; an update or heartbeat that changes nothing writes nothing.
--
SELECT max(id) AS last_id FROM aistudio.audit_log \gset
SET pg_aistudio.acting_user = '1';
SELECT aistudio.create_llm('Mistral', 'openai', 'https://api.mistral.ai/v1',
                           api_key => 'sk-literal-vendor-key-42') AS llm \gset
SELECT aistudio.update_llm(:llm, api_key => 'sk-literal-vendor-key-43');
SELECT aistudio.update_llm(:llm, name => 'Mistral');  -- no change, no row
RESET pg_aistudio.acting_user;
SELECT aistudio.register_edge('edge-us-1') AS edge \gset
SELECT aistudio.edge_heartbeat('edge-us-1', repeat('b', 64)) IS NOT NULL AS beat;
SELECT aistudio.edge_heartbeat('edge-us-1', repeat('b', 64)) IS NOT NULL AS beat;  -- no row
SELECT actor_id, action, object_type, object_id, changes - 'created_at' - 'registered_at' AS changes
  FROM aistudio.audit_log WHERE id > :last_id ORDER BY id;
SELECT count(*) AS leaks FROM aistudio.audit_log WHERE changes::text LIKE '%sk-literal%';

--
-- list_audit_log: super_admin only, newest first, filters.
--
SET pg_aistudio.acting_user = '2';  -- admin
SELECT pg_temp.try($$SELECT * FROM aistudio.list_audit_log()$$);
SET pg_aistudio.acting_user = '3';  -- developer
SELECT pg_temp.try($$SELECT * FROM aistudio.list_audit_log()$$);
SET pg_aistudio.acting_user = '1';  -- super_admin
SELECT action, object_type, object_id FROM aistudio.list_audit_log(limit_rows => 3);
SELECT action, object_id, changes - 'created_at' AS changes
  FROM aistudio.list_audit_log(object_type => 'model_prices');
SELECT count(*) FROM aistudio.list_audit_log(since => now() + interval '1 day');
SELECT count(*) = (SELECT count(*) FROM aistudio.audit_log) AS all_rows
  FROM aistudio.list_audit_log(since => now() - interval '1 day', limit_rows => 10000);
SELECT pg_temp.try($$SELECT * FROM aistudio.list_audit_log(limit_rows => 0)$$);
SELECT pg_temp.try($$SELECT * FROM aistudio.list_audit_log(limit_rows => NULL)$$);
SELECT pg_temp.try($$SELECT * FROM aistudio.list_audit_log(object_type => 'audit_log')$$);
SELECT pg_temp.try($$SELECT * FROM aistudio.list_audit_log(object_type => 'nope')$$);
RESET pg_aistudio.acting_user;
-- a DBA reads it too
SELECT count(*) > 0 AS dba_reads FROM aistudio.list_audit_log();

-- the gateway role may call list_audit_log (the RBAC check decides), and
-- nobody else but a superuser
SELECT has_function_privilege('aistudio_gateway', 'aistudio.list_audit_log(timestamptz, text, int)', 'EXECUTE') AS gateway,
       has_function_privilege('aistudio_analyst', 'aistudio.list_audit_log(timestamptz, text, int)', 'EXECUTE') AS analyst,
       has_table_privilege('aistudio_gateway', 'aistudio.audit_log', 'UPDATE,DELETE,TRUNCATE') AS gateway_writes;

-- a DBA purges the log with TRUNCATE
TRUNCATE aistudio.audit_log;
SELECT count(*) FROM aistudio.audit_log;
