-- install: the extension installs into schema aistudio, is not trusted, and
-- leaves no function executable by PUBLIC.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT extname, extversion, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'pg_aistudio';
SELECT trusted, superuser FROM pg_available_extension_versions
 WHERE name = 'pg_aistudio';
SELECT rolname FROM pg_roles WHERE rolname LIKE 'aistudio\_%' ORDER BY 1;

-- no function of the extension is executable by PUBLIC
SELECT p.proname
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1;

-- every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp
SELECT p.proname, p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace AND p.prosecdef
   AND (p.proconfig IS NULL OR NOT ('search_path=pg_catalog, pg_temp' = ANY (p.proconfig)))
 ORDER BY 1;

-- a DBA (superuser without acting user) acts as 'dba'
SELECT aistudio.acting_role(), aistudio.acting_user_id();

-- every C function's symbol is aistudio_<its SQL name> (none listed), and
-- there are such functions
SELECT p.proname, p.prosrc
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'aistudio'::regnamespace AND l.lanname = 'c'
   AND p.prosrc <> 'aistudio_' || p.proname
 ORDER BY 1;
SELECT count(*) AS c_functions
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'aistudio'::regnamespace AND l.lanname = 'c';
