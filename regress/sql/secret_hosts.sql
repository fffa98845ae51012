-- secret_hosts: where a secret may be sent.  A secret carries the hosts its
-- value may go to; an LLM may reference it only with an api_endpoint on one
-- of them; an unbound secret is bound by the first LLM that references it,
-- which only the user who set its value, a super admin or a DBA may do; only
-- super admins change a list.  Without this an admin could point an LLM at
-- a server of their own with $SECRET/Name and read any secret.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('root@example.com', 'Root', role => 'super_admin') AS super_id \gset
SELECT aistudio.create_user('alice@example.com', 'Alice', role => 'admin') AS alice \gset
SELECT aistudio.create_user('mallory@example.com', 'Mallory', role => 'admin') AS mallory \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer') AS dev_id \gset
SELECT aistudio.create_user('chat@example.com', 'Chat') AS chat_id \gset

---------------------------------------------------------------- host entries
-- normalised: lower case, no trailing dot, dotted-decimal IPv4, canonical
-- IPv6, no leading zeros in ports; sorted, duplicates removed
SELECT aistudio.normalize_hosts('{API.OpenAI.com., 127.1, "[0:0:0:0:0:0:0:1]:08080", api.openai.com, 0x7f.0.0.1:9000, my_host.internal}');
SELECT aistudio.normalize_hosts(NULL) IS NULL AS null_is_unbound;
-- bad entries: 22023 naming the entry
SELECT e, pg_temp.errd(format('SELECT aistudio.normalize_hosts(%L)', e))
  FROM unnest(ARRAY['{}', '{NULL}', '{""}', '{https://api.openai.com}', '{api.openai.com/v1}',
                    '{user@api.openai.com}', '{*.openai.com}', '{::1}', '{[::1}', '{[zz::1]}',
                    '{"[fe80::1%eth0]"}', '{[::1]x}', '{host:0}', '{host:65536}', '{host:http}', '{host:}',
                    '{a..b}', '{.a}', '{"a b"}', '{ä.example}']) e;
SELECT pg_temp.err($$SELECT aistudio.normalize_hosts(array_fill('h'::text, ARRAY[65]))$$);
SELECT pg_temp.err($$SELECT aistudio.normalize_hosts('{{a},{b}}')$$);

-- the host:port an endpoint sends to (the port of the scheme unless given)
SELECT u, aistudio.endpoint_host(u)
  FROM unnest(ARRAY['https://api.openai.com/v1', 'http://LOCALHOST:11434', 'https://[::1]:8443/v1',
                    'http://127.1:8080/x', 'HTTPS://Gen.Example.com./v1?x=1#f', 'http://h:00080']) u;
SELECT pg_temp.err($$SELECT aistudio.endpoint_host('ftp://x')$$);
-- an entry without a port allows every port of its host
SELECT h, u, aistudio.hosts_allow(h::text[], u)
  FROM (VALUES ('{api.openai.com}', 'https://api.openai.com:8443/v1'),
               ('{api.openai.com:443}', 'https://api.openai.com/v1'),
               ('{api.openai.com:443}', 'http://api.openai.com/v1'),
               ('{127.0.0.1:9000}', 'http://127.0.0.1:9001/v1'),
               ('{127.0.0.1:9000}', 'http://127.1:9000/v1'),
               ('{[::1]}', 'http://[0::1]:1/'),
               ('{api.openai.com}', 'https://api.openai.com.evil.example/v1')) t(h, u);

---------------------------------------------------------------- a secret with hosts
SET pg_aistudio.acting_user = :'alice';
SELECT aistudio.set_secret('BOUND', 'bound-value-0001', allowed_hosts => '{API.OpenAI.com, 127.0.0.1:9000}') AS bound_id \gset
SELECT name, version, allowed_hosts, value_set_by = :alice AS set_by_alice FROM aistudio.list_secrets();
-- LLMs on its hosts may use it
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1', '$SECRET/BOUND') AS gpt \gset
SELECT aistudio.create_llm('Loop', 'openai', 'http://127.0.0.1:9000/v1', '$SECRET/BOUND') AS loop \gset
-- any other host, or another port of a host:port entry, is refused (42501)
-- for everybody, super admins too
SET pg_aistudio.acting_user = :'mallory';
SELECT pg_temp.errd($$SELECT aistudio.create_llm('Evil', 'openai', 'https://evil.example/v1', '$SECRET/BOUND')$$);
SELECT pg_temp.errd($$SELECT aistudio.create_llm('Evil', 'openai', 'http://127.0.0.1:9001/v1', '$SECRET/BOUND')$$);
SET pg_aistudio.acting_user = :'super_id';
SELECT pg_temp.err($$SELECT aistudio.create_llm('Evil', 'openai', 'http://127.0.0.1:9001/v1', '$SECRET/BOUND')$$);
-- update_llm: moving the endpoint of an LLM that uses it, or giving an LLM
-- elsewhere the reference
SET pg_aistudio.acting_user = :'mallory';
SELECT pg_temp.errd(format($$SELECT aistudio.update_llm(%s, api_endpoint => 'http://127.0.0.1:9001/v1')$$, :loop));
SELECT aistudio.create_llm('Keyless', 'openai', 'https://evil.example/v1') AS keyless \gset
SELECT pg_temp.err(format($$SELECT aistudio.update_llm(%s, api_key => '$SECRET/BOUND')$$, :keyless));
SELECT pg_temp.err(format($$SELECT aistudio.update_llm(%s, name => 'Keyless 2', api_key => '$SECRET/BOUND')$$, :keyless));
-- ... while another path on an allowed host, or other fields, are fine
SELECT aistudio.update_llm(:gpt, api_endpoint => 'https://api.openai.com/v2');
SELECT aistudio.update_llm(:loop, name => 'Loopback', active => false);
SELECT aistudio.update_llm(:keyless, api_endpoint => 'https://api.openai.com/v1', api_key => '$SECRET/BOUND');
SELECT id, name, api_endpoint, api_key_ref FROM aistudio.llms ORDER BY id;
-- a literal key needs no host list: whoever typed it knows it
SELECT aistudio.create_llm('Literal', 'openai', 'https://evil.example/v1', 'sk-literal-0001') IS NOT NULL AS literal_ok;

---------------------------------------------------------------- unbound secrets
-- created without hosts: the first LLM that uses it binds it to its
-- endpoint's host:port, if that LLM is created or updated by the user who
-- set the value, a super admin or a DBA
SET pg_aistudio.acting_user = :'alice';
SELECT aistudio.set_secret('ALICE_KEY', 'alice-value-0001') IS NOT NULL AS created;
RESET pg_aistudio.acting_user;
SELECT aistudio.set_secret('DBA_KEY', 'dba-value-0001') IS NOT NULL AS created;
SELECT name, allowed_hosts, value_set_by FROM aistudio.secrets WHERE name IN ('ALICE_KEY', 'DBA_KEY') ORDER BY name;
-- another admin may not bind them (the detail says who may)
SET pg_aistudio.acting_user = :'mallory';
SELECT pg_temp.errd($$SELECT aistudio.create_llm('Steal', 'anthropic', 'http://127.0.0.1:9001', '$SECRET/ALICE_KEY')$$);
SELECT pg_temp.errd($$SELECT aistudio.create_llm('Steal', 'anthropic', 'http://127.0.0.1:9001', '$SECRET/DBA_KEY')$$);
SELECT pg_temp.err(format($$SELECT aistudio.update_llm(%s, api_key => '$SECRET/ALICE_KEY')$$, :keyless));
-- a refused binding binds nothing
SELECT name, allowed_hosts FROM aistudio.secrets WHERE name IN ('ALICE_KEY', 'DBA_KEY') ORDER BY name;
-- the user who set the value binds it by using it
SET pg_aistudio.acting_user = :'alice';
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com', '$SECRET/ALICE_KEY') AS claude \gset
SELECT pg_temp.err($$SELECT aistudio.create_llm('Dba', 'anthropic', 'https://api.anthropic.com', '$SECRET/DBA_KEY')$$);
-- once bound, other admins may use it on that host:port only
SET pg_aistudio.acting_user = :'mallory';
SELECT aistudio.create_llm('Claude 2', 'anthropic', 'https://api.anthropic.com/v1', '$SECRET/ALICE_KEY') IS NOT NULL AS same_host_ok;
SELECT pg_temp.err($$SELECT aistudio.create_llm('Claude 3', 'anthropic', 'http://api.anthropic.com', '$SECRET/ALICE_KEY')$$);
-- a super admin binds any unbound secret
SET pg_aistudio.acting_user = :'super_id';
SELECT aistudio.create_llm('Dba', 'ollama', 'http://127.0.0.1:11434', '$SECRET/DBA_KEY') IS NOT NULL AS super_binds;
SELECT name, allowed_hosts FROM aistudio.list_secrets() ORDER BY name;
-- a DBA too
RESET pg_aistudio.acting_user;
SELECT aistudio.set_secret('DBA_KEY2', 'dba-value-0002') IS NOT NULL AS created;
SELECT aistudio.create_llm('Dba 2', 'openai', 'https://[::1]:8443/v1', '$SECRET/DBA_KEY2') IS NOT NULL AS dba_binds;
SELECT allowed_hosts FROM aistudio.secrets WHERE name = 'DBA_KEY2';

---------------------------------------------------------------- changing a value or the hosts
-- an admin may replace the value of any secret: the hosts stay
SET pg_aistudio.acting_user = :'mallory';
SELECT aistudio.set_secret('BOUND', 'bound-value-0002') = :bound_id AS same_id;
SELECT version, allowed_hosts, value_set_by = :mallory AS set_by_mallory FROM aistudio.secrets WHERE name = 'BOUND';
-- the same hosts (in any spelling) are no change; other hosts are a super
-- admin's decision
SELECT aistudio.set_secret('BOUND', 'bound-value-0003', allowed_hosts => '{127.0.0.1:9000, api.openai.com.}') = :bound_id AS same_hosts_ok;
SELECT pg_temp.err($$SELECT aistudio.set_secret('BOUND', 'bound-value-0004', allowed_hosts => '{evil.example}')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('NEW_ONE', 'v-0001', allowed_hosts => '{bad host}')$$);
SELECT version, allowed_hosts FROM aistudio.secrets WHERE name = 'BOUND';
-- set_secret_hosts: super admins only
SELECT pg_temp.err($$SELECT aistudio.set_secret_hosts('BOUND', '{evil.example}')$$);
SET pg_aistudio.acting_user = :'dev_id';
SELECT pg_temp.err($$SELECT aistudio.set_secret_hosts('BOUND', '{evil.example}')$$);
SET pg_aistudio.acting_user = :'chat_id';
SELECT pg_temp.err($$SELECT aistudio.set_secret_hosts('BOUND', '{evil.example}')$$);
SET pg_aistudio.acting_user = :'super_id';
-- a list that leaves out a host an LLM sends the secret to is refused
SELECT pg_temp.errd($$SELECT aistudio.set_secret_hosts('BOUND', '{api.openai.com}')$$);
SELECT pg_temp.errd($$SELECT aistudio.set_secret_hosts('BOUND', NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret_hosts('NOPE', '{x.example}')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret_hosts('BOUND', '{x.example/}')$$);
SELECT aistudio.set_secret_hosts('BOUND', '{127.0.0.1:9000, API.openai.com, evil.example}');
SELECT aistudio.set_secret_hosts('BOUND', '{127.0.0.1:9000, API.openai.com, evil.example}') AS unchanged;
-- now the new host may be used
SET pg_aistudio.acting_user = :'mallory';
SELECT aistudio.create_llm('Evil', 'openai', 'https://evil.example/v1', '$SECRET/BOUND') IS NOT NULL AS now_allowed;
-- a super admin may give other hosts with set_secret too, and unbind an unused secret
SET pg_aistudio.acting_user = :'super_id';
SELECT aistudio.set_secret('SPARE', 'spare-value-0001', allowed_hosts => '{a.example}') IS NOT NULL AS created;
SELECT aistudio.set_secret('SPARE', 'spare-value-0002', allowed_hosts => '{b.example}') IS NOT NULL AS rehosted;
SELECT aistudio.set_secret_hosts('SPARE', NULL) IS NULL AS unbound;
SELECT name, version, allowed_hosts FROM aistudio.secrets WHERE name = 'SPARE';
RESET pg_aistudio.acting_user;

-- every change of a list is in the audit log, with who made it
SELECT a.actor_id = :super_id AS by_super, a.actor_id = :alice AS by_alice, a.actor_id IS NULL AS by_dba,
       a.action, a.object_id, s.name, a.changes->'allowed_hosts' AS hosts
  FROM aistudio.audit_log a LEFT JOIN aistudio.secrets s ON s.id::text = a.object_id
 WHERE a.object_type = 'secrets' AND a.changes ? 'allowed_hosts'
   AND (a.action <> 'insert' OR a.changes->'allowed_hosts' <> 'null')
 ORDER BY a.id;

---------------------------------------------------------------- the snapshot
-- the snapshot carries each secret's hosts, and they are part of the checksum
SELECT position(convert_to('127.0.0.1:9000', 'UTF8') IN aistudio.snapshot()) > 0 AS hosts_in_snapshot;
SELECT aistudio.snapshot_checksum() AS before \gset
SET pg_aistudio.acting_user = :'super_id';
SELECT aistudio.set_secret_hosts('BOUND', '{127.0.0.1:9000, api.openai.com, evil.example, more.example}') IS NOT NULL AS changed;
RESET pg_aistudio.acting_user;
SELECT aistudio.snapshot_checksum() <> :'before' AS checksum_changed;

---------------------------------------------------------------- literal keys
-- a literal key is known to whoever typed it; it never follows its LLM to
-- another host moved there by someone else (who must enter the key again)
SET pg_aistudio.acting_user = :'alice';
SELECT aistudio.create_llm('alice literal', 'openai', 'https://api.openai.com/v1', api_key => 'sk-alice-typed-this') AS lit \gset
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, api_endpoint => %L)', :lit, 'https://api.openai.com/v2')) AS same_host_other_path;
SET pg_aistudio.acting_user = :'mallory';
SELECT pg_temp.errd(format('SELECT aistudio.update_llm(%s, api_endpoint => %L)', :lit, 'http://127.0.0.1:9001/v1')) AS mallory_moves_it;
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, api_endpoint => %L)', :lit, 'https://API.openai.com:443/v1')) AS mallory_same_host;
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, default_model => %L)', :lit, 'gpt-4o')) AS mallory_other_field;
-- with a key of her own she may move it (and the key is hers from then on)
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, api_endpoint => %L, api_key => %L)', :lit,
                          'http://127.0.0.1:9001/v1', 'sk-mallory-own-key')) AS mallory_with_own_key;
SELECT api_key_set_by = :mallory AS now_mallorys FROM aistudio.llms WHERE id = :lit;
SET pg_aistudio.acting_user = :'alice';
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, api_endpoint => %L)', :lit, 'https://api.openai.com/v1')) AS alice_moves_mallorys;
SET pg_aistudio.acting_user = :'super_id';
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, api_endpoint => %L)', :lit, 'https://api.openai.com/v1')) AS super_admin_moves;
RESET pg_aistudio.acting_user;
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, api_endpoint => %L)', :lit, 'http://127.0.0.1:9002/v1')) AS dba_moves;

-- who may execute what
SELECT p.proname,
       has_function_privilege('aistudio_gateway', p.oid, 'EXECUTE') AS gateway,
       has_function_privilege('aistudio_analyst', p.oid, 'EXECUTE') AS analyst,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace
   AND p.proname IN ('set_secret', 'set_secret_hosts', 'normalize_hosts', 'endpoint_host', 'hosts_allow',
                     'bind_secret', 'secret_host_conflicts')
 ORDER BY 1;
