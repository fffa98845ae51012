-------------------------------------------------------------------------------
-- SECTION lists: paged listings for every entity (admin UI, REST API)
--
-- Each takes optional filters plus limit_rows/offset_rows and returns
-- total_count (the number of rows matching the filters) on every row.
-- Who sees what: admins and above see everything; developers see their own
-- apps and the LLMs their groups grant; chat users see the LLMs their groups
-- grant. Secret values, key hashes and password hashes are never listed.
-------------------------------------------------------------------------------
CREATE FUNCTION aistudio.check_page(limit_rows int, offset_rows int) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF limit_rows IS NULL OR limit_rows < 1 OR limit_rows > 10000 THEN
		RAISE EXCEPTION 'invalid limit_rows: %', limit_rows
			USING ERRCODE = '22023', HINT = 'Use a page size between 1 and 10000.';
	END IF;
	IF offset_rows IS NULL OR offset_rows < 0 THEN
		RAISE EXCEPTION 'invalid offset_rows: %', offset_rows USING ERRCODE = '22023';
	END IF;
END $$;

-- The order a list may be asked for (sort): a column of its allow-list,
-- ascending, or descending with a leading '-' ("-created_at"); ties (and
-- NULL: the list's default order) by id.  Users and apps take it: the lists
-- that grow (10,000 apps page by offset in a few ms).
CREATE FUNCTION aistudio.check_sort(sort text, allowed text[]) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF sort IS NOT NULL AND NOT (ltrim(sort, '-') = ANY (allowed) AND sort !~ '^--') THEN
		RAISE EXCEPTION 'cannot sort by "%"', sort
			USING ERRCODE = '22023',
				  HINT = format('Sort by one of %s, with a leading - for descending.', array_to_string(allowed, ', '));
	END IF;
END $$;

CREATE FUNCTION aistudio.list_users(search text DEFAULT NULL, by_role text DEFAULT NULL,
		limit_rows int DEFAULT 100, offset_rows int DEFAULT 0, sort text DEFAULT NULL)
	RETURNS TABLE(id bigint, email text, name text, role text, active boolean, group_ids bigint[],
				  created_at timestamptz, updated_at timestamptz, total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'list users');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	PERFORM aistudio.check_sort(sort, '{email,name,role,active,created_at}');
	RETURN QUERY
		SELECT u.id, u.email, u.name, u.role, u.active,
			   ARRAY(SELECT m.group_id FROM aistudio.group_members m WHERE m.user_id = u.id ORDER BY 1),
			   u.created_at, u.updated_at, count(*) OVER ()
		  FROM aistudio.users u
		 WHERE (search IS NULL OR strpos(lower(u.email), lower(search)) > 0 OR strpos(lower(u.name), lower(search)) > 0)
		   AND (by_role IS NULL OR u.role = by_role)
		 ORDER BY CASE sort WHEN 'email' THEN lower(u.email) WHEN 'name' THEN lower(u.name) WHEN 'role' THEN u.role END,
				  CASE sort WHEN '-email' THEN lower(u.email) WHEN '-name' THEN lower(u.name) WHEN '-role' THEN u.role END DESC,
				  CASE sort WHEN 'active' THEN u.active END, CASE sort WHEN '-active' THEN u.active END DESC,
				  CASE sort WHEN 'created_at' THEN u.created_at END, CASE sort WHEN '-created_at' THEN u.created_at END DESC,
				  u.id LIMIT limit_rows OFFSET offset_rows;
END $$;

CREATE FUNCTION aistudio.list_groups(limit_rows int DEFAULT 100, offset_rows int DEFAULT 0)
	RETURNS TABLE(id bigint, name text, member_ids bigint[], llm_ids bigint[],
				  created_at timestamptz, total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'list groups');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	RETURN QUERY
		SELECT g.id, g.name,
			   ARRAY(SELECT m.user_id FROM aistudio.group_members m WHERE m.group_id = g.id ORDER BY 1),
			   ARRAY(SELECT l.llm_id FROM aistudio.group_llms l WHERE l.group_id = g.id ORDER BY 1),
			   g.created_at, count(*) OVER ()
		  FROM aistudio.groups g
		 ORDER BY g.id LIMIT limit_rows OFFSET offset_rows;
END $$;

-- usable => true: only the active LLMs the acting user's groups grant, the
-- ones the chat may use (admins too: group grants apply to every role).
CREATE FUNCTION aistudio.list_llms(by_namespace text DEFAULT NULL, by_vendor text DEFAULT NULL,
		limit_rows int DEFAULT 100, offset_rows int DEFAULT 0, usable boolean DEFAULT false)
	RETURNS TABLE(id bigint, name text, slug text, vendor text, api_endpoint text,
				  api_key_ref text, has_api_key boolean, default_model text, allowed_models text[],
				  namespace text, active boolean, monthly_budget numeric, budget_start_date date,
				  created_at timestamptz, updated_at timestamptz, rate_limit_rpm integer, rate_limit_tpm integer,
				  capture_bodies boolean, capture_max_bytes integer,
				  total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	actor bigint := aistudio.acting_user_id();
	see_all boolean := aistudio.acting_role() IN ('admin', 'super_admin', 'dba');
BEGIN
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	RETURN QUERY
		SELECT l.id, l.name, l.slug, l.vendor, l.api_endpoint,
			   CASE WHEN see_all THEN l.api_key_ref END,
			   (l.api_key_ref IS NOT NULL OR l.api_key_cipher IS NOT NULL),
			   l.default_model, l.allowed_models, l.namespace, l.active,
			   l.monthly_budget, l.budget_start_date, l.created_at, l.updated_at,
			   l.rate_limit_rpm, l.rate_limit_tpm, l.capture_bodies, l.capture_max_bytes, count(*) OVER ()
		  FROM aistudio.llms l
		 WHERE (by_namespace IS NULL OR l.namespace = by_namespace)
		   AND (by_vendor IS NULL OR l.vendor = by_vendor)
		   AND (see_all OR aistudio.can_use_llm(actor, l.id))
		   AND (NOT coalesce(usable, false) OR (l.active AND coalesce(aistudio.can_use_llm(actor, l.id), false)))
		 ORDER BY l.id LIMIT limit_rows OFFSET offset_rows;
END $$;

-- by_llm: the prices of the models requests to that LLM may name (its
-- vendor's, allowed by its allowed_models: aistudio.model_allowed, the
-- gateway's pattern rule); the LLM must be one the caller may see.
CREATE FUNCTION aistudio.list_model_prices(by_vendor text DEFAULT NULL,
		limit_rows int DEFAULT 100, offset_rows int DEFAULT 0, by_llm bigint DEFAULT NULL)
	RETURNS TABLE(id bigint, vendor text, model_name text, input_per_mtok numeric,
				  output_per_mtok numeric, cache_write_per_mtok numeric, cache_read_per_mtok numeric,
				  currency text, updated_at timestamptz, total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_llm_vendor text;
BEGIN
	PERFORM aistudio.require_role('developer', 'list model prices');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	IF by_llm IS NOT NULL THEN
		SELECT l.vendor INTO v_llm_vendor FROM aistudio.llms l WHERE l.id = by_llm
		   AND (aistudio.acting_role() IN ('admin', 'super_admin', 'dba')
				OR coalesce(aistudio.can_use_llm(aistudio.acting_user_id(), l.id), false));
		IF NOT FOUND THEN
			RAISE EXCEPTION 'LLM % does not exist', by_llm USING ERRCODE = 'no_data_found';
		END IF;
	END IF;
	RETURN QUERY
		SELECT p.id, p.vendor, p.model_name, p.input_per_mtok, p.output_per_mtok,
			   p.cache_write_per_mtok, p.cache_read_per_mtok, p.currency, p.updated_at, count(*) OVER ()
		  FROM aistudio.model_prices p
		 WHERE (by_vendor IS NULL OR p.vendor = by_vendor)
		   AND (by_llm IS NULL OR (p.vendor = v_llm_vendor AND aistudio.model_allowed(by_llm, p.model_name)))
		 ORDER BY p.vendor, p.model_name LIMIT limit_rows OFFSET offset_rows;
END $$;

CREATE FUNCTION aistudio.list_apps(by_owner bigint DEFAULT NULL, by_namespace text DEFAULT NULL,
		search text DEFAULT NULL, limit_rows int DEFAULT 100, offset_rows int DEFAULT 0, sort text DEFAULT NULL)
	RETURNS TABLE(id bigint, name text, description text, owner_id bigint, llm_ids bigint[],
				  monthly_budget numeric, budget_start_date date, namespace text, active boolean,
				  created_at timestamptz, updated_at timestamptz, rate_limit_rpm integer, rate_limit_tpm integer,
				  total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	actor bigint := aistudio.acting_user_id();
	see_all boolean := aistudio.acting_role() IN ('admin', 'super_admin', 'dba');
BEGIN
	PERFORM aistudio.require_role('developer', 'list apps');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	PERFORM aistudio.check_sort(sort, '{name,monthly_budget,namespace,active,created_at}');
	RETURN QUERY
		SELECT a.id, a.name, a.description, a.owner_id,
			   ARRAY(SELECT al.llm_id FROM aistudio.app_llms al WHERE al.app_id = a.id ORDER BY 1),
			   a.monthly_budget, a.budget_start_date, a.namespace, a.active,
			   a.created_at, a.updated_at, a.rate_limit_rpm, a.rate_limit_tpm, count(*) OVER ()
		  FROM aistudio.apps a
		 WHERE (see_all OR a.owner_id = actor)
		   AND (by_owner IS NULL OR a.owner_id = by_owner)
		   AND (by_namespace IS NULL OR a.namespace = by_namespace)
		   AND (search IS NULL OR strpos(lower(a.name), lower(search)) > 0)
		 ORDER BY CASE sort WHEN 'name' THEN lower(a.name) WHEN 'namespace' THEN a.namespace END,
				  CASE sort WHEN '-name' THEN lower(a.name) WHEN '-namespace' THEN a.namespace END DESC,
				  CASE sort WHEN 'monthly_budget' THEN a.monthly_budget END NULLS LAST,
				  CASE sort WHEN '-monthly_budget' THEN a.monthly_budget END DESC NULLS LAST,
				  CASE sort WHEN 'active' THEN a.active END, CASE sort WHEN '-active' THEN a.active END DESC,
				  CASE sort WHEN 'created_at' THEN a.created_at END, CASE sort WHEN '-created_at' THEN a.created_at END DESC,
				  a.id LIMIT limit_rows OFFSET offset_rows;
END $$;

CREATE FUNCTION aistudio.list_filters(by_namespace text DEFAULT NULL,
		limit_rows int DEFAULT 100, offset_rows int DEFAULT 0)
	RETURNS TABLE(id bigint, name text, description text, filter_type text, stage text, config jsonb,
				  namespace text, active boolean, llm_ids bigint[], updated_at timestamptz, total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'list filters');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	RETURN QUERY
		SELECT f.id, f.name, f.description, f.filter_type, f.stage, f.config, f.namespace, f.active,
			   ARRAY(SELECT lf.llm_id FROM aistudio.llm_filters lf WHERE lf.filter_id = f.id ORDER BY 1),
			   f.updated_at, count(*) OVER ()
		  FROM aistudio.filters f
		 WHERE by_namespace IS NULL OR f.namespace = by_namespace
		 ORDER BY f.id LIMIT limit_rows OFFSET offset_rows;
END $$;

CREATE FUNCTION aistudio.list_plugins(by_namespace text DEFAULT NULL,
		limit_rows int DEFAULT 100, offset_rows int DEFAULT 0)
	RETURNS TABLE(id bigint, name text, description text, plugin_type text, hook text, command text,
				  config jsonb, namespace text, active boolean, llm_ids bigint[], updated_at timestamptz,
				  total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'list plugins');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	RETURN QUERY
		SELECT p.id, p.name, p.description, p.plugin_type, p.hook, p.command, p.config, p.namespace,
			   p.active,
			   ARRAY(SELECT lp.llm_id FROM aistudio.llm_plugins lp WHERE lp.plugin_id = p.id ORDER BY 1),
			   p.updated_at, count(*) OVER ()
		  FROM aistudio.plugins p
		 WHERE by_namespace IS NULL OR p.namespace = by_namespace
		 ORDER BY p.id LIMIT limit_rows OFFSET offset_rows;
END $$;

CREATE FUNCTION aistudio.list_namespaces()
	RETURNS TABLE(name text, description text, llms bigint, apps bigint, edges bigint, created_at timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'list namespaces');
	RETURN QUERY
		SELECT n.name, n.description,
			   (SELECT count(*) FROM aistudio.llms l WHERE l.namespace = n.name),
			   (SELECT count(*) FROM aistudio.apps a WHERE a.namespace = n.name),
			   (SELECT count(*) FROM aistudio.edges e WHERE e.namespace = n.name),
			   n.created_at
		  FROM aistudio.namespaces n
		 ORDER BY n.name;
END $$;

-- aistudio.ui_lookups(): the value lists a client offers in its pickers and
-- shows as labels, read from where the extension defines the values, so that
-- no client keeps a copy of them (the web UI loads it once per session):
--   roles          the CHECK of aistudio.users.role, which names the roles
--                  from the highest rank down, the order src/rbac.c ranks
--                  them in (regress/sql/lists.sql checks that the two agree);
--                  rank 1 is the lowest
--   sso_roles      the roles a single sign-on provider may give new accounts
--                  (the CHECK of aistudio.sso_providers.default_role)
--   filter_stages  the CHECK of aistudio.filters.stage, in pipeline order
--   filter_types   the CHECK of aistudio.filters.filter_type
--   plugin_hooks   the CHECK of aistudio.plugins.hook
-- Each item is {name, label} (roles also rank and description). The labels
-- and the role descriptions are written here, once; a value without a label
-- is labelled with its name. The vendors have their own listing,
-- aistudio.list_vendors(). Any signed-in role (GET /api/v1/lookups).
CREATE FUNCTION aistudio.ui_lookups() RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('chat_user', 'read the lookup lists');
	RETURN (
		WITH lists(list, tbl, col, kind) AS (VALUES
			('roles', 'aistudio.users'::regclass, 'role', 'role'),
			('sso_roles', 'aistudio.sso_providers'::regclass, 'default_role', 'role'),
			('filter_stages', 'aistudio.filters'::regclass, 'stage', 'stage'),
			('filter_types', 'aistudio.filters'::regclass, 'filter_type', 'filter_type'),
			('plugin_hooks', 'aistudio.plugins'::regclass, 'hook', 'stage')
		), allowed AS (
			-- the literals of the column's CHECK (col IN (…)), in their order
			SELECT l.list, l.kind, v.m[1] AS name, v.pos
			  FROM lists l
			  JOIN pg_catalog.pg_attribute a ON a.attrelid = l.tbl AND a.attname = l.col
			  JOIN pg_catalog.pg_constraint c
				ON c.conrelid = l.tbl AND c.contype = 'c' AND c.conkey = ARRAY[a.attnum]
			 CROSS JOIN LATERAL pg_catalog.regexp_matches(pg_catalog.pg_get_constraintdef(c.oid),
														  '''([^'']*)''::text', 'g') WITH ORDINALITY v(m, pos)
		), ranks AS (
			SELECT a.name, pg_catalog.count(*) OVER () - a.pos + 1 AS rank
			  FROM allowed a WHERE a.list = 'roles'
		), labels(kind, name, label, description) AS (VALUES
			('role', 'super_admin', 'Super admin', 'Everything, including other admins and the audit log.'),
			('role', 'admin', 'Admin', 'Runs the gateway: LLMs, prices, secrets, users and groups, edges.'),
			('role', 'developer', 'Developer', 'Builds apps on the LLMs their groups grant, with their own keys and usage.'),
			('role', 'chat_user', 'Chat user', 'Chats with the LLMs their groups grant. Nothing else.'),
			('stage', 'pre_auth', 'Before authentication', NULL),
			('stage', 'auth', 'Authentication', NULL),
			('stage', 'post_auth', 'After authentication', NULL),
			('stage', 'upstream', 'Before the upstream call', NULL),
			('stage', 'on_response', 'On the response', NULL),
			('filter_type', 'regex', 'Patterns (block or allow)', NULL),
			('filter_type', 'keywords', 'Keywords', NULL),
			('filter_type', 'pii', 'Personal data (redact or block)', NULL),
			('filter_type', 'max_prompt', 'Prompt size limit', NULL)
		), items AS (
			SELECT a.list, a.pos, r.rank,
				   pg_catalog.jsonb_build_object('name', a.name, 'label', coalesce(lb.label, a.name))
				   || CASE WHEN a.kind = 'role'
						   THEN pg_catalog.jsonb_build_object('rank', r.rank, 'description', coalesce(lb.description, ''))
						   ELSE '{}'::jsonb END AS item
			  FROM allowed a
			  LEFT JOIN labels lb ON lb.kind = a.kind AND lb.name = a.name
			  LEFT JOIN ranks r ON a.kind = 'role' AND r.name = a.name
		)
		SELECT pg_catalog.jsonb_object_agg(l.list, coalesce(
				   (SELECT pg_catalog.jsonb_agg(i.item ORDER BY i.rank DESC, i.pos) FROM items i WHERE i.list = l.list),
				   '[]'::jsonb))
		  FROM lists l
	);
END $$;
COMMENT ON FUNCTION aistudio.ui_lookups() IS 'The roles (with ranks), single sign-on roles, filter stages and types and plugin hooks, with labels, from the CHECK constraints that define them';

-- aistudio.clear_llm_budget: the LLM no longer has a monthly budget
-- (update_llm treats NULL as "unchanged", so clearing needs its own call).
CREATE FUNCTION aistudio.clear_llm_budget(llm_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'manage LLMs');
	UPDATE aistudio.llms l
	   SET monthly_budget = NULL, budget_start_date = NULL, updated_at = now()
	 WHERE l.id = clear_llm_budget.llm_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % does not exist', coalesce(clear_llm_budget.llm_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
END $$;
GRANT EXECUTE ON FUNCTION aistudio.clear_llm_budget(bigint) TO aistudio_gateway;

GRANT EXECUTE ON FUNCTION aistudio.list_users(text, text, int, int, text), aistudio.list_groups(int, int),
	aistudio.list_llms(text, text, int, int, boolean), aistudio.list_model_prices(text, int, int, bigint),
	aistudio.list_apps(bigint, text, text, int, int, text), aistudio.list_filters(text, int, int),
	aistudio.list_plugins(text, int, int), aistudio.list_namespaces(), aistudio.ui_lookups()
	TO aistudio_gateway;

