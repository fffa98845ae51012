-- acting_user: who may act as whom.  Any session can set the GUC
-- pg_aistudio.acting_user, but only superusers and members of
-- aistudio_gateway have it honoured: another role that names a super
-- admin gets 42501 from every permission check (even with EXECUTE granted
-- on an API function), is not written into the audit log as that user,
-- and without grants can do nothing at all.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('root@example.com', 'Root', role => 'super_admin') AS root \gset
SELECT aistudio.create_user('chat@example.com', 'Chat') AS chat \gset
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1') AS gpt \gset

SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_acting_gw;
DROP ROLE IF EXISTS regress_acting_analyst;
DROP ROLE IF EXISTS regress_acting_granted;
DROP ROLE IF EXISTS regress_acting_nobody;
RESET client_min_messages;
CREATE ROLE regress_acting_gw IN ROLE aistudio_gateway;
CREATE ROLE regress_acting_analyst IN ROLE aistudio_analyst;
-- a role a DBA gave more than the two roles of the extension have
CREATE ROLE regress_acting_granted;
GRANT USAGE ON SCHEMA aistudio TO regress_acting_granted;
GRANT EXECUTE ON FUNCTION aistudio.acting_role(), aistudio.acting_user_id(),
	aistudio.create_group(text), aistudio.list_audit_log(timestamptz, text, int)
	TO regress_acting_granted;
GRANT SELECT, INSERT ON aistudio.groups TO regress_acting_granted;
CREATE ROLE regress_acting_nobody;

-- a superuser and the gateway have the acting user honoured
SET pg_aistudio.acting_user = :'root';
SELECT aistudio.acting_role() AS superuser_acting;
SET ROLE regress_acting_gw;
SELECT email, role FROM aistudio.get_me();
SELECT aistudio.create_group('by-root-via-gateway') > 0 AS gateway_root_create;
SET pg_aistudio.acting_user = :'chat';
SELECT email, role FROM aistudio.get_me();
SELECT pg_temp.err($$SELECT aistudio.create_group('by-chat-via-gateway')$$) AS gateway_chat_create;
RESET pg_aistudio.acting_user;
RESET ROLE;

-- the granted role names the super admin: refused, whatever it calls
SET ROLE regress_acting_granted;
SET pg_aistudio.acting_user = :'root';
SELECT pg_temp.err($$SELECT aistudio.acting_role()$$) AS granted_role;
SELECT pg_temp.err($$SELECT aistudio.acting_user_id()$$) AS granted_user_id;
SELECT pg_temp.err($$SELECT aistudio.create_group('by-granted')$$) AS granted_create;
SELECT pg_temp.err($$SELECT count(*) FROM aistudio.list_audit_log()$$) AS granted_audit_log;
-- any value, well-formed or not, is refused the same way
SET pg_aistudio.acting_user = 'not-a-number';
SELECT pg_temp.err($$SELECT aistudio.acting_role()$$) AS granted_garbage;
-- without an acting user it is an ordinary role: no acting user is set
RESET pg_aistudio.acting_user;
SELECT pg_temp.err($$SELECT aistudio.acting_role()$$) AS granted_no_actor;
RESET ROLE;
SELECT count(*) AS groups_by_granted FROM aistudio.groups WHERE name = 'by-granted';

-- its direct writes are logged under its own database role, never as the
-- super admin it names (the gateway's group is logged as the super admin's)
SET SESSION AUTHORIZATION regress_acting_granted;
SET pg_aistudio.acting_user = :'root';
INSERT INTO aistudio.groups (name) VALUES ('direct-by-granted');
RESET pg_aistudio.acting_user;
RESET SESSION AUTHORIZATION;
SELECT actor_id, CASE WHEN actor_role = session_user THEN '(me)' ELSE actor_role END AS actor_role,
       action, object_type, changes->>'name' AS name
  FROM aistudio.audit_log WHERE object_type = 'groups' ORDER BY id;

-- an analyst naming the super admin gains nothing: the functions it may
-- run consult no acting user, the others it may not run at all
SET ROLE regress_acting_analyst;
SET pg_aistudio.acting_user = :'root';
SELECT aistudio.cost('openai', 'gpt-4o', 1000, 1000) AS analyst_cost;
SELECT pg_temp.err($$SELECT aistudio.acting_role()$$) AS analyst_role;
SELECT pg_temp.err($$SELECT aistudio.create_user('evil@example.com', 'Evil', role => 'super_admin')$$) AS analyst_create_user;
SELECT pg_temp.err($$SELECT * FROM aistudio.users$$) AS analyst_users;
RESET pg_aistudio.acting_user;
RESET ROLE;

-- a role without grants can set the GUC and do nothing with it
SET ROLE regress_acting_nobody;
SET pg_aistudio.acting_user = :'root';
SHOW pg_aistudio.acting_user;
SELECT pg_temp.err($$SELECT aistudio.acting_role()$$) AS nobody_role;
SELECT pg_temp.err($$SELECT aistudio.create_group('by-nobody')$$) AS nobody_create;
SELECT pg_temp.err($$SELECT * FROM aistudio.groups$$) AS nobody_groups;
RESET pg_aistudio.acting_user;
RESET ROLE;

-- only the gateway's group for the super admin and the granted role's
-- direct insert exist
SELECT name FROM aistudio.groups ORDER BY name;

DROP OWNED BY regress_acting_granted;
DROP ROLE regress_acting_gw;
DROP ROLE regress_acting_analyst;
DROP ROLE regress_acting_granted;
DROP ROLE regress_acting_nobody;
