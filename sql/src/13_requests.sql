-------------------------------------------------------------------------------
-- SECTION requests: the request log (every row of llm_interactions), searched
-- and paged by keyset, and one request in detail
--
-- Who sees what (decided here, the REST API and the UI only pass it on):
-- admins, super admins and DBAs see every request; a developer sees the
-- requests of the apps they own plus their own chat; a chat user sees their
-- own chat.  The order is the newest first, ("timestamp", request_id)
-- descending, which is unique (the primary key of each partition is
-- (request_id, "timestamp")), so a page continues strictly after the last
-- row of the previous one: no row twice, none missing, however many share
-- a timestamp, and no OFFSET (a deep page costs what the first does).
--
-- Every monthly partition has a B-tree per filter, each ending in
-- ("timestamp", request_id) (src/ingest.c, and SECTION analytics for the
-- default partition), so a filtered page is a backward walk of one index
-- per partition, newest partition first, stopped after limit_rows rows.
-- One index serves two filters at once, app and status (app_id,
-- status_code, "timestamp", request_id): a rare status of one app (its
-- 429s) would otherwise be a walk of the status index past every other
-- app's rows of that status, or of the app's index past its other statuses.
-- The statement is put together from constant fragments, one per filter
-- given, and planned for that combination (EXECUTE … USING): the values
-- are parameters, never SQL text.
-------------------------------------------------------------------------------

-- The error code of an event: the part of its error text before the first
-- ':' (the gateway writes "code: message"), NULL without an error.  The
-- expression of the partitions' error-code index (keep them identical).
-- (A SQL-standard body: its names are bound when it is created, so it needs
-- no search_path of its own and stays inlinable.)
CREATE FUNCTION aistudio.request_error_code(error text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN NULLIF(pg_catalog.btrim(pg_catalog.split_part(error, ':', 1)), '');

-- The default partition's request-log indexes (the monthly partitions get
-- the same from src/ingest.c, PartitionIndexes).
CREATE INDEX llm_interactions_default_ts_rid_idx ON aistudio.llm_interactions_default ("timestamp", request_id);
CREATE INDEX llm_interactions_default_user_ts_idx ON aistudio.llm_interactions_default
	(user_id, "timestamp", request_id);
CREATE INDEX llm_interactions_default_llm_ts_idx ON aistudio.llm_interactions_default
	(llm_id, "timestamp", request_id);
CREATE INDEX llm_interactions_default_model_ts_idx ON aistudio.llm_interactions_default
	(model_name, "timestamp", request_id);
CREATE INDEX llm_interactions_default_status_ts_idx ON aistudio.llm_interactions_default
	(status_code, "timestamp", request_id);
CREATE INDEX llm_interactions_default_app_status_ts_idx ON aistudio.llm_interactions_default
	(app_id, status_code, "timestamp", request_id);
CREATE INDEX llm_interactions_default_error_ts_idx ON aistudio.llm_interactions_default
	(aistudio.request_error_code(error), "timestamp", request_id) WHERE error IS NOT NULL;

CREATE TYPE aistudio.request_row AS (
	"timestamp"        timestamptz,
	request_id         uuid,
	interaction_type   text,
	status_code        integer,
	error_code         text,
	error              text,
	app_id             bigint,
	app_name           text,
	user_id            bigint,
	user_email         text,
	llm_id             bigint,
	llm_name           text,
	vendor             text,
	model_name         text,
	prompt_tokens      bigint,
	response_tokens    bigint,
	total_tokens       bigint,
	cache_write_tokens bigint,
	cache_read_tokens  bigint,
	cost               numeric,
	currency           text,
	priced             boolean,
	latency_ms         integer,
	namespace          text,
	edge_id            text
);

-- One request in detail (get_request): the columns of request_row followed
-- by its captured bodies (NULL when none were captured or the caller may not
-- see them).  Built from request_row's own attributes, so the two cannot
-- drift apart and the detail stays flat (one level of columns, as the REST
-- API's to_json shows it).
DO $request_detail$
BEGIN
	EXECUTE 'CREATE TYPE aistudio.request_detail AS ('
		|| (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname::text) || ' '
										 || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
			  FROM pg_catalog.pg_attribute a
			 WHERE a.attrelid = 'aistudio.request_row'::pg_catalog.regclass AND a.attnum > 0
			   AND NOT a.attisdropped)
		|| ', request_body text, response_body text, request_truncated boolean, response_truncated boolean)';
END
$request_detail$;

-- The cursor of a page: the ("timestamp", request_id) of its last row as
-- text ("2025-03-01T12:00:00.123456Z~0195…"), what the REST API hands out
-- as "next" and takes back as "after".
CREATE FUNCTION aistudio.request_cursor(ts timestamptz, request_id uuid) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
	RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '~' || request_id::text;

-- aistudio.list_requests: one page of the request log, newest first.
-- since/until: [since, until); after_timestamp + after_request_id: the last
-- row of the previous page (both or neither); the other arguments filter
-- (NULL: no filter).  limit_rows 1..100000 (the REST API pages by at most
-- 1000 and exports at most 100000).
CREATE FUNCTION aistudio.list_requests(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
		by_app bigint DEFAULT NULL, by_user bigint DEFAULT NULL, by_llm bigint DEFAULT NULL,
		by_model text DEFAULT NULL, by_status integer DEFAULT NULL, only_errors boolean DEFAULT false,
		by_error_code text DEFAULT NULL, by_request_id uuid DEFAULT NULL,
		by_interaction_type text DEFAULT NULL,
		after_timestamp timestamptz DEFAULT NULL, after_request_id uuid DEFAULT NULL,
		limit_rows integer DEFAULT 50)
	RETURNS SETOF aistudio.request_row
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
	actor bigint := aistudio.acting_user_id();
	see_all boolean := aistudio.acting_role() IN ('admin', 'super_admin', 'dba');
	own_apps bigint[];
	cond text := '';
	inner_sql text;
	cols constant text := 'i."timestamp", i.request_id, i.interaction_type, i.status_code, i.error, i.app_id,'
		' i.user_id, i.llm_id, i.vendor, i.model_name, i.prompt_tokens, i.response_tokens, i.total_tokens,'
		' i.cache_write_tokens, i.cache_read_tokens, i.cost, i.currency, i.priced, i.latency_ms,'
		' i.namespace, i.edge_id';
	ord constant text := ' ORDER BY i."timestamp" DESC, i.request_id DESC LIMIT $14';
BEGIN
	PERFORM aistudio.require_role('chat_user', 'read the request log');
	IF limit_rows IS NULL OR limit_rows < 1 OR limit_rows > 100000 THEN
		RAISE EXCEPTION 'invalid limit_rows: %', limit_rows
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a page size between 1 and 100000.';
	END IF;
	IF (after_timestamp IS NULL) <> (after_request_id IS NULL) THEN
		RAISE EXCEPTION 'after_timestamp and after_request_id go together'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A page continues after the ("timestamp", request_id) of the previous page''s last row.';
	END IF;
	IF since IS NOT NULL AND until IS NOT NULL AND since >= until THEN
		RAISE EXCEPTION 'since must be earlier than until' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF by_interaction_type IS NOT NULL AND by_interaction_type NOT IN ('chat', 'proxy') THEN
		RAISE EXCEPTION 'unknown interaction type "%"', by_interaction_type
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Interaction types are chat and proxy.';
	END IF;

	-- constant fragments, one per filter given; $n are the USING values below
	IF since IS NOT NULL THEN cond := cond || ' AND i."timestamp" >= $1'; END IF;
	IF until IS NOT NULL THEN cond := cond || ' AND i."timestamp" < $2'; END IF;
	IF by_app IS NOT NULL THEN cond := cond || ' AND i.app_id = $3'; END IF;
	IF by_user IS NOT NULL THEN cond := cond || ' AND i.user_id = $4'; END IF;
	IF by_llm IS NOT NULL THEN cond := cond || ' AND i.llm_id = $5'; END IF;
	IF by_model IS NOT NULL THEN cond := cond || ' AND i.model_name = $6'; END IF;
	IF by_status IS NOT NULL THEN cond := cond || ' AND i.status_code = $7'; END IF;
	IF only_errors THEN cond := cond || ' AND (i.status_code >= 400 OR i.status_code = 0)'; END IF;
	IF by_error_code IS NOT NULL THEN
		cond := cond || ' AND aistudio.request_error_code(i.error) = $8 AND i.error IS NOT NULL';
	END IF;
	IF by_request_id IS NOT NULL THEN cond := cond || ' AND i.request_id = $9'; END IF;
	IF by_interaction_type IS NOT NULL THEN cond := cond || ' AND i.interaction_type = $10'; END IF;
	IF after_timestamp IS NOT NULL THEN
		cond := cond || ' AND (i."timestamp", i.request_id) < ($11, $12)';
	END IF;

	IF see_all THEN
		inner_sql := 'SELECT ' || cols || ' FROM aistudio.llm_interactions i WHERE true' || cond || ord;
	ELSE
		-- the requests of the apps this developer owns (none for a chat user)
		-- and their own chat, each branch newest first and limited, merged;
		-- the apps' branch is planned with the list of apps at hand, so the
		-- planner weighs walking the time index (the apps are much of the
		-- traffic) against the apps' own index (a few quiet apps)
		IF aistudio.acting_role() = 'developer' THEN
			SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}') INTO own_apps
			  FROM aistudio.apps a WHERE a.owner_id = actor;
		ELSE
			own_apps := '{}';
		END IF;
		inner_sql := '(SELECT ' || cols || ' FROM aistudio.llm_interactions i'
			' WHERE i.user_id = $15 AND i.interaction_type = ''chat'''
			' AND (i.app_id IS NULL OR i.app_id <> ALL ($13))' || cond || ord || ')';
		IF cardinality(own_apps) > 0 THEN
			inner_sql := '(SELECT ' || cols || ' FROM aistudio.llm_interactions i WHERE i.app_id = ANY ($13)'
				|| cond || ord || ') UNION ALL ' || inner_sql;
		END IF;
		inner_sql := 'SELECT * FROM (' || inner_sql || ') i' || ord;
	END IF;

	RETURN QUERY EXECUTE
		'SELECT i."timestamp", i.request_id, i.interaction_type, i.status_code,'
		' aistudio.request_error_code(i.error), i.error, i.app_id, a.name, i.user_id, u.email, i.llm_id, l.name,'
		' i.vendor, i.model_name, i.prompt_tokens, i.response_tokens, i.total_tokens, i.cache_write_tokens,'
		' i.cache_read_tokens, i.cost, i.currency, i.priced, i.latency_ms, i.namespace, i.edge_id'
		' FROM (' || inner_sql || ') i'
		' LEFT JOIN aistudio.apps a ON a.id = i.app_id'
		' LEFT JOIN aistudio.users u ON u.id = i.user_id'
		' LEFT JOIN aistudio.llms l ON l.id = i.llm_id'
		' ORDER BY i."timestamp" DESC, i.request_id DESC'
		USING since, until, by_app, by_user, by_llm, by_model, by_status, by_error_code, by_request_id,
			  by_interaction_type, after_timestamp, after_request_id, own_apps, limit_rows, actor;
END
$fn$;
COMMENT ON FUNCTION aistudio.list_requests(timestamptz, timestamptz, bigint, bigint, bigint, text, integer, boolean,
		text, uuid, text, timestamptz, uuid, integer) IS
	'One page of the request log, newest first, keyset-paged after (after_timestamp, after_request_id)';

-- aistudio.get_request: one request, if the caller may see it (the rule of
-- list_requests); P0002 when there is none or it is not theirs (no hint
-- that it exists).  Two rows may share a request_id only when a gateway
-- recorded the same id at two instants; the newest is returned.  Its
-- captured bodies (request_bodies) come with it for admins and super
-- admins, the owner of the request's app, and the user of their own chat
-- (a DBA sees the row, not the bodies); list_requests never returns them.
CREATE FUNCTION aistudio.get_request(request_id uuid)
	RETURNS SETOF aistudio.request_detail
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_variable
DECLARE
	v_id uuid := $1;
	actor bigint := aistudio.acting_user_id();
	admin boolean := aistudio.acting_role() IN ('admin', 'super_admin');
BEGIN
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'request_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN QUERY
		SELECT r.*, b.request_body, b.response_body, b.request_truncated, b.response_truncated
		  FROM aistudio.list_requests(by_request_id => v_id, limit_rows => 1) r
		  LEFT JOIN aistudio.apps a ON a.id = r.app_id
		  LEFT JOIN aistudio.request_bodies b ON b.request_id = r.request_id
		       AND (admin OR a.owner_id = actor OR (r.interaction_type = 'chat' AND r.user_id = actor));
	IF NOT FOUND THEN
		RAISE EXCEPTION 'request % not found', v_id USING ERRCODE = 'no_data_found';
	END IF;
END
$fn$;

GRANT EXECUTE ON FUNCTION aistudio.list_requests(timestamptz, timestamptz, bigint, bigint, bigint, text, integer,
		boolean, text, uuid, text, timestamptz, uuid, integer), aistudio.get_request(uuid),
	aistudio.request_cursor(timestamptz, uuid) TO aistudio_gateway;
-- the REST API validates the page size of GET /requests with the lists' rule
GRANT EXECUTE ON FUNCTION aistudio.check_page(int, int) TO aistudio_gateway;

