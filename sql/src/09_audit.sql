-------------------------------------------------------------------------------
-- SECTION audit (trigger on every configuration table)
-------------------------------------------------------------------------------
-- src/audit.c: one aistudio.audit_log row per inserted, updated or deleted
-- configuration row, with the acting user; secrets and hashes redacted.

CREATE FUNCTION aistudio.audit_trigger() RETURNS trigger
	LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_audit_trigger';
COMMENT ON FUNCTION aistudio.audit_trigger() IS 'Writes the audit log row of a changed configuration row';

CREATE FUNCTION aistudio.audit_log_append_only() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'aistudio_audit_log_append_only';
COMMENT ON FUNCTION aistudio.audit_log_append_only() IS 'Refuses UPDATE and DELETE on aistudio.audit_log';

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.users
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.groups
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.group_members
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.group_llms
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.secrets
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.namespaces
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.llms
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.alert_targets
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.model_prices
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.filters
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.plugins
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.llm_filters
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.llm_plugins
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.apps
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.app_llms
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.credentials
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON aistudio.edges
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_trigger();

-- The log is append-only, for its owner too; a DBA purges it with TRUNCATE.
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON aistudio.audit_log
	FOR EACH ROW EXECUTE FUNCTION aistudio.audit_log_append_only();

-- aistudio.list_audit_log: newest first; super_admin only.
CREATE FUNCTION aistudio.list_audit_log(since timestamptz DEFAULT NULL, object_type text DEFAULT NULL,
										limit_rows int DEFAULT 100)
	RETURNS SETOF aistudio.audit_log
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('super_admin', 'read the audit log');
	IF limit_rows IS NULL OR limit_rows < 1 OR limit_rows > 10000 THEN
		RAISE EXCEPTION 'limit_rows must be between 1 and 10000'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given was %s.', coalesce(limit_rows::text, 'NULL'));
	END IF;
	IF list_audit_log.object_type IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		 WHERE c.relnamespace = 'aistudio'::regnamespace
		   AND c.relname = list_audit_log.object_type
		   AND t.tgfoid = 'aistudio.audit_trigger()'::regprocedure) THEN
		RAISE EXCEPTION 'unknown object type "%"', list_audit_log.object_type
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Object types are the names of the audited configuration tables, such as llms or apps.';
	END IF;
	RETURN QUERY
		SELECT a.* FROM aistudio.audit_log a
		 WHERE (list_audit_log.since IS NULL OR a.at >= list_audit_log.since)
		   AND (list_audit_log.object_type IS NULL OR a.object_type = list_audit_log.object_type)
		 ORDER BY a.id DESC
		 LIMIT list_audit_log.limit_rows;
END
$$;
COMMENT ON FUNCTION aistudio.list_audit_log(timestamptz, text, int) IS 'Audit log rows, newest first (super_admin only)';

-- pg_dump: the rows of the configuration tables belong to the user, not to
-- the extension script, so pg_dump must dump them (the built-in '' namespace
-- is created by the script itself).
SELECT pg_catalog.pg_extension_config_dump('aistudio.users', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.groups', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.group_members', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.group_llms', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.secrets', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.namespaces', 'WHERE name <> ''''');
SELECT pg_catalog.pg_extension_config_dump('aistudio.llms', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.model_prices', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.filters', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.plugins', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.llm_filters', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.llm_plugins', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.apps', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.app_llms', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.credentials', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edges', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.alert_targets', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.audit_log', '');
-- (the analytics tables are registered in SECTION analytics)
-- ... and their identity sequences, so that rows created after a restore
-- get fresh ids.
SELECT pg_catalog.pg_extension_config_dump('aistudio.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.groups_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.secrets_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.llms_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.model_prices_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.filters_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.plugins_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.apps_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.credentials_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edges_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.alert_targets_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.audit_log_id_seq', '');

-- Nobody but a superuser changes or removes audit rows.
REVOKE UPDATE, DELETE, TRUNCATE ON aistudio.audit_log FROM PUBLIC, aistudio_gateway, aistudio_analyst;
GRANT EXECUTE ON FUNCTION aistudio.list_audit_log(timestamptz, text, int) TO aistudio_gateway;

