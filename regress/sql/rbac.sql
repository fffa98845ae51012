-- rbac: what each role may do with users, groups and secrets; escalation
-- attempts; callers without (or with an unusable) acting user; LLM access
-- through groups.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;

-- the cast (a DBA sets it up)
SELECT aistudio.create_user('root@example.com', 'Root', 'root password 1', 'super_admin') AS root \gset
SELECT aistudio.create_user('root2@example.com', 'Root Two', role => 'super_admin') AS root2 \gset
SELECT aistudio.create_user('admin@example.com', 'Admin', 'admin password 1', 'admin') AS admin \gset
SELECT aistudio.create_user('admin2@example.com', 'Admin Two', role => 'admin') AS admin2 \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', 'dev password 12', 'developer') AS dev \gset
SELECT aistudio.create_user('chat@example.com', 'Chat', 'chat password 1') AS chat \gset
SELECT aistudio.create_user('chat2@example.com', 'Chat Two') AS chat2 \gset
SELECT aistudio.create_group('Everyone') AS everyone \gset
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com') AS gpt \gset
SELECT aistudio.set_secret('SHARED', 'shared-value-0001') IS NOT NULL AS secret_set;

---------------------------------------------------------------------------
-- chat_user: may set their own password, nothing else
---------------------------------------------------------------------------
SET pg_aistudio.acting_user = :'chat';
SELECT aistudio.acting_role();
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :chat, 'my new chat password'));
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :chat2, 'not my password!'));
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', 'X')$$);
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, name => %L)', :chat, 'Me'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :chat, 'admin'));
SELECT pg_temp.err(format('SELECT aistudio.delete_user(%s)', :chat2));
SELECT pg_temp.err($$SELECT aistudio.create_group('Mine')$$);
SELECT pg_temp.err(format('SELECT aistudio.add_user_to_group(%s, %s)', :chat, :everyone));
SELECT pg_temp.err(format('SELECT aistudio.grant_llm_to_group(%s, %s)', :everyone, :gpt));
SELECT pg_temp.err($$SELECT aistudio.set_secret('X', 'y')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.list_secrets()$$);

---------------------------------------------------------------------------
-- developer: the same, and may not make themselves admin
---------------------------------------------------------------------------
SET pg_aistudio.acting_user = :'dev';
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :dev, 'my new dev password'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :dev, 'admin'));
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :chat, 'not my password!'));
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', 'X')$$);
SELECT pg_temp.err(format('SELECT aistudio.rename_group(%s, %L)', :everyone, 'Devs'));
SELECT pg_temp.err(format('SELECT aistudio.delete_group(%s)', :everyone));
SELECT pg_temp.err(format('SELECT aistudio.revoke_llm_from_group(%s, %s)', :everyone, :gpt));
SELECT pg_temp.err($$SELECT aistudio.delete_secret('SHARED')$$);

---------------------------------------------------------------------------
-- admin: manages developers and chat users, groups and secrets; not admins
---------------------------------------------------------------------------
SET pg_aistudio.acting_user = :'admin';
SELECT aistudio.create_user('new.dev@example.com', 'New Dev', role => 'developer') AS new_dev \gset
SELECT aistudio.update_user(:new_dev, role => 'chat_user', name => 'New Chat');
SELECT aistudio.update_user(:new_dev, role => 'developer', active => false);
SELECT aistudio.set_password(:new_dev, 'set by an admin 1');
SELECT aistudio.delete_user(:new_dev);
SELECT aistudio.set_password(:admin, 'my own admin pass');
SELECT aistudio.update_user(:admin, name => 'Admin (renamed by self)');
-- escalation attempts
SELECT pg_temp.err($$SELECT aistudio.create_user('evil@example.com', 'Evil', role => 'admin')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('evil@example.com', 'Evil', role => 'super_admin')$$);
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :dev, 'admin'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :admin, 'super_admin'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :admin, 'developer'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, name => %L)', :admin2, 'Renamed'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, active => false)', :admin2));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :root, 'chat_user'));
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :admin2, 'taking over admin2'));
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :root, 'taking over root!'));
SELECT pg_temp.err(format('SELECT aistudio.delete_user(%s)', :admin2));
SELECT pg_temp.err(format('SELECT aistudio.delete_user(%s)', :root));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, active => false)', :admin));
SELECT pg_temp.err(format('SELECT aistudio.delete_user(%s)', :admin));
-- groups and grants
SELECT aistudio.create_group('Admins Made This') AS made \gset
SELECT aistudio.rename_group(:made, 'Renamed Group');
SELECT aistudio.add_user_to_group(:chat, :made);
SELECT aistudio.add_user_to_group(:admin2, :made);
SELECT aistudio.grant_llm_to_group(:made, :gpt);
SELECT aistudio.can_use_llm(:chat, :gpt) AS chat_may_use_gpt;
SELECT aistudio.remove_user_from_group(:chat, :made);
SELECT aistudio.revoke_llm_from_group(:made, :gpt);
SELECT aistudio.delete_group(:made);
-- secrets
SELECT aistudio.set_secret('ADMIN_MADE', 'admin-made-0001') IS NOT NULL AS admin_set;
SELECT name FROM aistudio.list_secrets();
SELECT aistudio.delete_secret('ADMIN_MADE');
SELECT pg_temp.err($$SELECT aistudio.rotate_secret_key()$$);

---------------------------------------------------------------------------
-- super_admin: manages admins too, but not their own role
---------------------------------------------------------------------------
SET pg_aistudio.acting_user = :'root';
SELECT aistudio.create_user('admin3@example.com', 'Admin Three', role => 'admin') AS admin3 \gset
SELECT aistudio.update_user(:dev, role => 'admin');
SELECT aistudio.update_user(:dev, role => 'developer');
SELECT aistudio.update_user(:admin2, name => 'Admin Two (renamed)');
SELECT aistudio.set_password(:admin2, 'reset by the root');
SELECT aistudio.update_user(:root2, role => 'admin');
SELECT aistudio.delete_user(:admin3);
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :root, 'admin'));
SELECT aistudio.update_user(:root, name => 'Root (renamed by self)');
SELECT aistudio.rotate_secret_key() AS rotated;

---------------------------------------------------------------------------
-- acting users that cannot act
---------------------------------------------------------------------------
-- an inactive acting user
RESET pg_aistudio.acting_user;
SELECT aistudio.update_user(:admin2, active => false);
SET pg_aistudio.acting_user = :'admin2';
SELECT pg_temp.err($$SELECT aistudio.create_group('Ghost')$$);
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :admin2, 'inactive but trying'));
-- an unknown or malformed acting user
SET pg_aistudio.acting_user = '999999';
SELECT pg_temp.err($$SELECT aistudio.create_group('Ghost')$$);
SET pg_aistudio.acting_user = 'alice';
SELECT pg_temp.err($$SELECT aistudio.create_group('Ghost')$$);
RESET pg_aistudio.acting_user;
SELECT aistudio.update_user(:admin2, active => true);

-- a database role that is not a superuser needs an acting user
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_aistudio_gw;
DROP ROLE IF EXISTS regress_aistudio_nobody;
RESET client_min_messages;
CREATE ROLE regress_aistudio_gw LOGIN IN ROLE aistudio_gateway;
CREATE ROLE regress_aistudio_nobody LOGIN;
GRANT USAGE ON SCHEMA aistudio TO regress_aistudio_nobody;
SET ROLE regress_aistudio_gw;
SELECT pg_temp.err($$SELECT aistudio.create_group('No Actor')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('X', 'y')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', 'X')$$);
SELECT pg_temp.err($$SELECT aistudio.rotate_secret_key()$$);
-- the gateway reads secrets and verifies passwords without an acting user
SELECT aistudio.secret_value('SHARED');
SELECT aistudio.verify_password('admin@example.com', 'my own admin pass') = :admin AS gateway_login;
-- with an acting user the gateway acts for them
SET pg_aistudio.acting_user = :'admin';
SELECT pg_temp.err($$SELECT aistudio.create_group('Via Gateway')$$);
SET pg_aistudio.acting_user = :'chat';
SELECT pg_temp.err($$SELECT aistudio.create_group('Via Gateway 2')$$);
RESET pg_aistudio.acting_user;
-- the internal helpers are not callable by the gateway
SELECT pg_temp.err($$SELECT aistudio.hash_password('a long password')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.seal_value('x', 'y')$$);
SELECT pg_temp.err($$SELECT aistudio.open_value('x', 'y', '\x00', '\x00')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.secrets$$);
RESET ROLE;
-- a role without aistudio_gateway may call nothing
SET ROLE regress_aistudio_nobody;
SET pg_aistudio.acting_user = :'root';
SELECT pg_temp.err($$SELECT aistudio.create_group('Nobody')$$);
SELECT pg_temp.err($$SELECT aistudio.secret_value('SHARED')$$);
SELECT pg_temp.err($$SELECT aistudio.verify_password('root@example.com', 'root password 1')$$);
RESET pg_aistudio.acting_user;
RESET ROLE;
REVOKE USAGE ON SCHEMA aistudio FROM regress_aistudio_nobody;
DROP ROLE regress_aistudio_gw;
DROP ROLE regress_aistudio_nobody;
SELECT name FROM aistudio.groups ORDER BY name;

---------------------------------------------------------------------------
-- LLM access through groups
---------------------------------------------------------------------------
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com') AS claude \gset
SELECT aistudio.create_group('GPT users') AS gpt_users \gset
SELECT aistudio.create_group('Claude users') AS claude_users \gset
SELECT aistudio.grant_llm_to_group(:gpt_users, :gpt);
SELECT aistudio.grant_llm_to_group(:claude_users, :claude);
SELECT aistudio.add_user_to_group(:dev, :gpt_users);
SELECT aistudio.add_user_to_group(:chat, :gpt_users);
SELECT aistudio.add_user_to_group(:chat, :claude_users);
SELECT u.name, aistudio.can_use_llm(u.id, :gpt) AS gpt, aistudio.can_use_llm(u.id, :claude) AS claude
  FROM aistudio.users u WHERE u.id IN (:dev, :chat, :chat2) ORDER BY u.id;
-- removal from a group
SELECT aistudio.remove_user_from_group(:chat, :claude_users);
SELECT aistudio.can_use_llm(:chat, :claude) AS chat_claude_after_removal;
-- two groups granting the same LLM: removing one keeps access
SELECT aistudio.grant_llm_to_group(:claude_users, :gpt);
SELECT aistudio.add_user_to_group(:dev, :claude_users);
SELECT aistudio.remove_user_from_group(:dev, :gpt_users);
SELECT aistudio.can_use_llm(:dev, :gpt) AS dev_gpt_via_other_group;
-- revoking the grant
SELECT aistudio.revoke_llm_from_group(:claude_users, :gpt);
SELECT aistudio.can_use_llm(:dev, :gpt) AS dev_gpt_after_revoke;
-- an inactive user uses nothing
SELECT aistudio.update_user(:chat, active => false);
SELECT aistudio.can_use_llm(:chat, :gpt) AS inactive_chat_gpt;
SELECT aistudio.update_user(:chat, active => true);
SELECT aistudio.can_use_llm(:chat, :gpt) AS reactivated_chat_gpt;
-- deleting the group
SELECT aistudio.delete_group(:gpt_users);
SELECT aistudio.can_use_llm(:chat, :gpt) AS chat_gpt_after_group_deleted;
-- unknown ids are simply not allowed
SELECT aistudio.can_use_llm(999999, :gpt) AS unknown_user, aistudio.can_use_llm(:chat, 999999) AS unknown_llm;

-- the gateway role may ask can_use_llm (the chat endpoint does, per user)
SELECT has_function_privilege('aistudio_gateway', 'aistudio.can_use_llm(bigint, bigint)', 'EXECUTE') AS gateway_may_ask,
       has_function_privilege('aistudio_analyst', 'aistudio.can_use_llm(bigint, bigint)', 'EXECUTE') AS analyst_may_ask;
