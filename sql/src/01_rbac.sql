-------------------------------------------------------------------------------
-- SECTION rbac (src/rbac.c)
-------------------------------------------------------------------------------

CREATE FUNCTION aistudio.acting_user_id() RETURNS bigint
	LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'aistudio_acting_user_id';
COMMENT ON FUNCTION aistudio.acting_user_id() IS 'Id of the acting application user; NULL when a DBA acts';

CREATE FUNCTION aistudio.acting_role() RETURNS text
	LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'aistudio_acting_role';

CREATE FUNCTION aistudio.require_role(min_role text, action text) RETURNS void
	LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'aistudio_require_role';

CREATE FUNCTION aistudio.check_role_assignment(target_user_id bigint, new_role text) RETURNS void
	LANGUAGE C AS 'MODULE_PATHNAME', 'aistudio_check_role_assignment';

CREATE FUNCTION aistudio.check_app_access(owner_id bigint) RETURNS void
	LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'aistudio_check_app_access';

CREATE FUNCTION aistudio.check_llm_grants(llm_ids bigint[]) RETURNS void
	LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'aistudio_check_llm_grants';

CREATE FUNCTION aistudio.can_use_llm(user_id bigint, llm_id bigint) RETURNS boolean
	LANGUAGE C STRICT STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_can_use_llm';
-- the chat endpoint (gatewayd's REST API) asks it for the signed-in user
GRANT EXECUTE ON FUNCTION aistudio.can_use_llm(bigint, bigint) TO aistudio_gateway;

