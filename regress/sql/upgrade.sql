-- upgrade: the versions on offer and their update paths, ALTER EXTENSION
-- UPDATE, the tables pg_dump dumps (extension configuration tables), and a
-- clean DROP EXTENSION ... CASCADE / CREATE EXTENSION cycle.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql
-- but this test creates the extension itself
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_aistudio CASCADE;
RESET client_min_messages;

-- the versions installed on this server
SELECT version, installed, superuser, trusted, relocatable, schema, requires
  FROM pg_available_extension_versions WHERE name = 'pg_aistudio' ORDER BY version;
SELECT default_version FROM pg_available_extensions WHERE name = 'pg_aistudio';
-- every older version has an update path to the default version
SELECT p.source
  FROM pg_extension_update_paths('pg_aistudio') p, pg_available_extensions e
 WHERE e.name = 'pg_aistudio' AND p.target = e.default_version AND p.path IS NULL;
SELECT source, target, path FROM pg_extension_update_paths('pg_aistudio') ORDER BY 1, 2;

CREATE EXTENSION pg_aistudio VERSION '0.1.0';
SELECT extname, extversion FROM pg_extension WHERE extname = 'pg_aistudio';

-- some configuration that must survive an update
INSERT INTO aistudio.users (email, name, role) VALUES ('root@example.com', 'Root', 'super_admin');
INSERT INTO aistudio.groups (name) VALUES ('everyone');
INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint) VALUES ('GPT', 'gpt', 'openai', 'https://api.openai.com/v1');

-- updating to the installed version is a no-op
ALTER EXTENSION pg_aistudio UPDATE;
ALTER EXTENSION pg_aistudio UPDATE TO '0.1.0';
-- there is no path to an unknown version
ALTER EXTENSION pg_aistudio UPDATE TO '99.0.0';
SELECT extversion FROM pg_extension WHERE extname = 'pg_aistudio';
SELECT (SELECT count(*) FROM aistudio.users) AS users, (SELECT count(*) FROM aistudio.groups) AS groups,
       (SELECT count(*) FROM aistudio.llms) AS llms;

-- pg_dump dumps the rows of these tables (and the values of their id
-- sequences); the built-in '' namespace comes from the script itself
SELECT c.relname, c.relkind, x.condition
  FROM pg_extension e,
       unnest(e.extconfig, e.extcondition) AS x(reloid, condition)
       JOIN pg_class c ON c.oid = x.reloid
 WHERE e.extname = 'pg_aistudio'
 ORDER BY c.relkind, c.relname;
-- tables of the extension that pg_dump does not dump (with the reason in
-- docs/upgrading.md)
SELECT c.relname, c.relkind
  FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_aistudio'
 WHERE c.relkind IN ('r', 'p', 'S')
   AND c.oid <> ALL (e.extconfig)
 ORDER BY 1;

-- DROP EXTENSION ... CASCADE removes every object of the extension ...
SET client_min_messages = warning;
DROP EXTENSION pg_aistudio CASCADE;
RESET client_min_messages;
WITH nsp AS (SELECT oid FROM pg_namespace WHERE nspname = 'aistudio')
SELECT 'relations' AS what, count(*) FROM pg_class WHERE relnamespace IN (SELECT oid FROM nsp)
UNION ALL
SELECT 'functions', count(*) FROM pg_proc WHERE pronamespace IN (SELECT oid FROM nsp)
UNION ALL
SELECT 'types', count(*) FROM pg_type WHERE typnamespace IN (SELECT oid FROM nsp)
UNION ALL
SELECT 'operators', count(*) FROM pg_operator WHERE oprnamespace IN (SELECT oid FROM nsp)
UNION ALL
SELECT 'event triggers', count(*) FROM pg_event_trigger WHERE evtname LIKE 'aistudio%';
-- the schema itself is not a member: CREATE EXTENSION created it because
-- pg_aistudio.control names it, and DROP EXTENSION leaves it, empty
SELECT nspname FROM pg_namespace WHERE nspname = 'aistudio';
-- ... but the cluster-wide roles, which other databases may still use
SELECT rolname FROM pg_roles WHERE rolname LIKE 'aistudio\_%' ORDER BY 1;

-- and it installs again from scratch, with empty tables
CREATE EXTENSION pg_aistudio;
SELECT extversion FROM pg_extension WHERE extname = 'pg_aistudio';
SELECT (SELECT count(*) FROM aistudio.users) AS users, (SELECT count(*) FROM aistudio.llms) AS llms,
       (SELECT count(*) FROM aistudio.audit_log) AS audit_rows,
       (SELECT string_agg(quote_literal(name), ',') FROM aistudio.namespaces) AS namespaces;
INSERT INTO aistudio.users (email, name) VALUES ('again@example.com', 'Again') RETURNING id;
