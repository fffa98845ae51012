-------------------------------------------------------------------------------
-- SECTION edge: what an edge keeps in its own database
-------------------------------------------------------------------------------
-- An edge (gatewayd with GATEWAY_MODE=edge) runs on its own PostgreSQL
-- database with this extension.  Its configuration tables stay empty: it
-- keeps the last good snapshot from its hub and serves from it, also
-- across its own restart while the hub is down; it caches the hub's
-- answers about credentials, queues its analytics for upload until the hub
-- acknowledges them, and keeps the budget leases the hub granted it
-- (docs/sql-api/sync.md#on-an-edge).  Every function is for the edge's
-- gateway connection (aistudio_gateway, no acting user) or an admin.

-- The last good snapshot from the hub (and the one before it).
CREATE TABLE aistudio.edge_state (
	namespace          text PRIMARY KEY,
	snapshot           bytea NOT NULL,
	checksum           text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
	stored_at          timestamptz NOT NULL DEFAULT now(),
	previous_snapshot  bytea,
	previous_checksum  text,
	previous_stored_at timestamptz
);

-- The hub's answers about credentials (pull on miss), until expires_at.
CREATE TABLE aistudio.edge_credential_cache (
	key_sha256 text PRIMARY KEY CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
	found      boolean NOT NULL,
	cred       jsonb,
	app_id     bigint,
	expires_at timestamptz NOT NULL
);
CREATE INDEX edge_credential_cache_expires_idx ON aistudio.edge_credential_cache (expires_at);
CREATE INDEX edge_credential_cache_app_idx ON aistudio.edge_credential_cache (app_id);

-- The leases the hub granted this edge, so that it spends only what it
-- holds across its own restart while the hub is down.
CREATE TABLE aistudio.edge_lease_state (
	subject       text NOT NULL CHECK (subject IN ('app', 'llm')),
	subject_id    bigint NOT NULL,
	period_start  date NOT NULL,
	period_end    date NOT NULL,
	granted_nanos bigint NOT NULL CHECK (granted_nanos >= 0),
	updated_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (subject, subject_id, period_start)
);

-- aistudio.edge_store_snapshot: keeps a snapshot received from the hub, all
-- or nothing: 22023 when it is not a snapshot or its checksum is not the
-- one announced (nothing stored); else it becomes the stored snapshot (the
-- previous one is kept) and its vendors and prices become the local ones,
-- so that local ingestion prices events like the hub.
CREATE FUNCTION aistudio.edge_store_snapshot(snapshot bytea, checksum text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sum text;
	v_doc jsonb;
	v_ns text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'store edge snapshots');
	IF $1 IS NULL THEN
		RAISE EXCEPTION 'snapshot must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF $2 IS NULL OR $2 !~ '^[0-9a-f]{64}$' THEN
		RAISE EXCEPTION 'invalid checksum'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A checksum is 64 lower-case hexadecimal digits.';
	END IF;
	v_sum := aistudio.snapshot_checksum_of($1);
	IF v_sum <> $2 THEN
		RAISE EXCEPTION 'the snapshot does not match its checksum'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The checksum of the snapshot is %s; %s was announced.', v_sum, $2),
				  HINT = 'Nothing was stored; pull the snapshot again.';
	END IF;
	v_doc := aistudio.snapshot_decode($1);
	v_ns := v_doc ->> 'namespace';
	INSERT INTO aistudio.edge_state AS s (namespace, snapshot, checksum, stored_at)
	VALUES (v_ns, $1, $2, now())
	ON CONFLICT (namespace) DO UPDATE SET
		previous_snapshot = CASE WHEN s.checksum = EXCLUDED.checksum THEN s.previous_snapshot ELSE s.snapshot END,
		previous_checksum = CASE WHEN s.checksum = EXCLUDED.checksum THEN s.previous_checksum ELSE s.checksum END,
		previous_stored_at = CASE WHEN s.checksum = EXCLUDED.checksum THEN s.previous_stored_at ELSE s.stored_at END,
		snapshot = EXCLUDED.snapshot, checksum = EXCLUDED.checksum, stored_at = EXCLUDED.stored_at;

	INSERT INTO aistudio.vendors AS v (name, display_name, wire_format, auth_header, key_required, default_endpoint,
									   prompt_includes_cache_reads)
	SELECT x ->> 'name', x ->> 'name', x ->> 'wire_format', x ->> 'auth_header', (x ->> 'key_required')::boolean,
		   x ->> 'default_endpoint', (x ->> 'prompt_includes_cache_reads')::boolean
	  FROM jsonb_array_elements(v_doc -> 'vendors') x
	ON CONFLICT (name) DO UPDATE SET
		wire_format = EXCLUDED.wire_format, auth_header = EXCLUDED.auth_header, key_required = EXCLUDED.key_required,
		default_endpoint = EXCLUDED.default_endpoint, prompt_includes_cache_reads = EXCLUDED.prompt_includes_cache_reads
	WHERE (v.wire_format, v.auth_header, v.key_required, v.default_endpoint, v.prompt_includes_cache_reads)
		  IS DISTINCT FROM (EXCLUDED.wire_format, EXCLUDED.auth_header, EXCLUDED.key_required,
							EXCLUDED.default_endpoint, EXCLUDED.prompt_includes_cache_reads);

	DELETE FROM aistudio.model_prices p
	 WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_doc -> 'prices') x
						WHERE x ->> 'vendor' = p.vendor AND x ->> 'model_name' = p.model_name);
	INSERT INTO aistudio.model_prices AS p (vendor, model_name, input_per_mtok, output_per_mtok, cache_write_per_mtok,
											cache_read_per_mtok, currency)
	SELECT x ->> 'vendor', x ->> 'model_name', (x ->> 'input_per_mtok')::numeric, (x ->> 'output_per_mtok')::numeric,
		   (nullif(x ->> 'cache_write_per_mtok', ''))::numeric, (nullif(x ->> 'cache_read_per_mtok', ''))::numeric,
		   x ->> 'currency'
	  FROM jsonb_array_elements(v_doc -> 'prices') x
	ON CONFLICT (vendor, model_name) DO UPDATE SET
		input_per_mtok = EXCLUDED.input_per_mtok, output_per_mtok = EXCLUDED.output_per_mtok,
		cache_write_per_mtok = EXCLUDED.cache_write_per_mtok, cache_read_per_mtok = EXCLUDED.cache_read_per_mtok,
		currency = EXCLUDED.currency, updated_at = now()
	WHERE (p.input_per_mtok, p.output_per_mtok, p.cache_write_per_mtok, p.cache_read_per_mtok, p.currency)
		  IS DISTINCT FROM (EXCLUDED.input_per_mtok, EXCLUDED.output_per_mtok, EXCLUDED.cache_write_per_mtok,
							EXCLUDED.cache_read_per_mtok, EXCLUDED.currency);
END
$$;
COMMENT ON FUNCTION aistudio.edge_store_snapshot(bytea, text) IS 'On an edge: stores a verified snapshot from the hub and makes its vendors and prices the local ones (all or nothing)';

-- aistudio.edge_stored_snapshot: the snapshot stored last (no row: none yet).
CREATE FUNCTION aistudio.edge_stored_snapshot()
	RETURNS TABLE (snapshot bytea, checksum text, stored_at timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'read edge snapshots');
	RETURN QUERY SELECT s.snapshot, s.checksum, s.stored_at FROM aistudio.edge_state s
				  ORDER BY s.stored_at DESC LIMIT 1;
END
$$;

-- aistudio.edge_cache_credential: remembers the hub's answer about a key
-- hash (found, with the resolved credential as JSON; or not found) for
-- ttl_s seconds (1 to 86400).  Expired answers are dropped.
CREATE FUNCTION aistudio.edge_cache_credential(key_sha256 text, found boolean, cred jsonb, ttl_s integer)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'cache credentials on an edge');
	IF $1 IS NULL OR $1 !~ '^[0-9a-f]{64}$' THEN
		RAISE EXCEPTION 'invalid key_sha256'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A key hash is the SHA-256 of the key in 64 lower-case hexadecimal digits.';
	END IF;
	IF $2 IS NULL THEN
		RAISE EXCEPTION 'found must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF $2 AND jsonb_typeof($3) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'a found credential needs cred, a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF $4 IS NULL OR $4 NOT BETWEEN 1 AND 86400 THEN
		RAISE EXCEPTION 'invalid ttl_s: %', coalesce($4::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A time to live is 1 to 86400 seconds.';
	END IF;
	INSERT INTO aistudio.edge_credential_cache AS c (key_sha256, found, cred, app_id, expires_at)
	VALUES ($1, $2, CASE WHEN $2 THEN $3 END,
			CASE WHEN $2 AND $3 ->> 'app_id' ~ '^[0-9]{1,18}$' THEN ($3 ->> 'app_id')::bigint END,
			now() + $4 * interval '1 second')
	ON CONFLICT (key_sha256) DO UPDATE SET
		found = EXCLUDED.found, cred = EXCLUDED.cred, app_id = EXCLUDED.app_id, expires_at = EXCLUDED.expires_at;
	DELETE FROM aistudio.edge_credential_cache c WHERE c.expires_at < now();
END
$$;

-- aistudio.edge_cached_credential: the unexpired answer about a key hash
-- (no row: ask the hub).
CREATE FUNCTION aistudio.edge_cached_credential(key_sha256 text)
	RETURNS TABLE (found boolean, cred jsonb)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'read cached credentials on an edge');
	RETURN QUERY SELECT c.found, c.cred FROM aistudio.edge_credential_cache c
				  WHERE c.key_sha256 = $1 AND c.expires_at > now();
END
$$;

-- aistudio.edge_forget_credentials: drops the cached answers of these key
-- hashes and of these apps' keys, or all of them; returns how many.
CREATE FUNCTION aistudio.edge_forget_credentials(key_sha256s text[], app_ids bigint[], forget_all boolean)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'forget cached credentials on an edge');
	IF coalesce($3, false) THEN
		DELETE FROM aistudio.edge_credential_cache c;
	ELSE
		DELETE FROM aistudio.edge_credential_cache c
		 WHERE c.key_sha256 = ANY (coalesce($1, '{}')) OR c.app_id = ANY (coalesce($2, '{}'));
	END IF;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;

-- aistudio.edge_outbox_take: the oldest events not yet acknowledged by the
-- hub (at most limit_rows, 1 to 10000), as ingest_edge_events takes them;
-- queued events whose row is gone (retention) are dropped, once queued for
-- an hour: a statement plans with the partitions committed when it is
-- planned and reads with a snapshot taken after that, so the rows of a
-- partition attached in between (the first ingest of a fresh edge, or of a
-- new month, creates it and queues its events in one transaction) are
-- invisible to it for that one statement. Such an event is only skipped
-- this round; without the hour it was taken for a retention orphan and
-- never uploaded.
CREATE FUNCTION aistudio.edge_outbox_take(limit_rows int) RETURNS SETOF jsonb
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'upload edge analytics');
	IF limit_rows IS NULL OR limit_rows NOT BETWEEN 1 AND 10000 THEN
		RAISE EXCEPTION 'invalid limit_rows: %', coalesce(limit_rows::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Take 1 to 10000 events at a time.';
	END IF;
	DELETE FROM aistudio.edge_outbox o
	 WHERE (o.request_id, o."timestamp") IN (SELECT x.request_id, x."timestamp" FROM aistudio.edge_outbox x
											  ORDER BY x.enqueued_at, x.request_id LIMIT limit_rows)
	   AND o.enqueued_at < now() - interval '1 hour'
	   AND NOT EXISTS (SELECT 1 FROM aistudio.llm_interactions i
						WHERE i.request_id = o.request_id AND i."timestamp" = o."timestamp");
	RETURN QUERY
		SELECT jsonb_build_object('timestamp', i."timestamp", 'request_id', i.request_id, 'user_id', i.user_id,
								  'app_id', i.app_id, 'llm_id', i.llm_id, 'vendor', i.vendor,
								  'model_name', i.model_name, 'prompt_tokens', i.prompt_tokens,
								  'response_tokens', i.response_tokens, 'cache_write_tokens', i.cache_write_tokens,
								  'cache_read_tokens', i.cache_read_tokens, 'latency_ms', i.latency_ms,
								  'interaction_type', i.interaction_type, 'status_code', i.status_code,
								  'error', i.error, 'cost', i.cost, 'currency', i.currency)
		  FROM (SELECT x.request_id, x."timestamp", x.enqueued_at FROM aistudio.edge_outbox x
				 ORDER BY x.enqueued_at, x.request_id LIMIT limit_rows) o
		  JOIN aistudio.llm_interactions i ON i.request_id = o.request_id AND i."timestamp" = o."timestamp"
		 ORDER BY o.enqueued_at, o.request_id;
END
$$;

-- aistudio.edge_outbox_ack: the hub stored (or already had) these events;
-- returns how many left the outbox.
CREATE FUNCTION aistudio.edge_outbox_ack(request_ids uuid[]) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'upload edge analytics');
	DELETE FROM aistudio.edge_outbox o WHERE o.request_id = ANY (coalesce($1, '{}'));
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;

-- Internal: raise 22023 unless subject is app or llm and the period is a
-- non-empty range of days.
CREATE FUNCTION aistudio.check_lease_subject(subject text, subject_id bigint, period_start date, period_end date)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF subject IS NULL OR subject NOT IN ('app', 'llm') THEN
		RAISE EXCEPTION 'unknown lease subject "%"', coalesce(subject, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Subjects are app and llm.';
	END IF;
	IF subject_id IS NULL OR period_start IS NULL OR period_end IS NULL OR period_end < period_start THEN
		RAISE EXCEPTION 'invalid lease period'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'subject_id, period_start and period_end are required, period_end (inclusive) not before period_start.';
	END IF;
END
$$;

-- aistudio.edge_local_spend: what this edge spent (its own ingested
-- events) on an app or LLM from period_start to period_end (inclusive).
CREATE FUNCTION aistudio.edge_local_spend(subject text, subject_id bigint, period_start date, period_end date)
	RETURNS numeric
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'read edge spend');
	PERFORM aistudio.check_lease_subject($1, $2, $3, $4);
	RETURN aistudio.subject_spend($1, $2, daterange($3, $4, '[]'));
END
$$;

-- aistudio.edge_store_lease: the edge keeps what the hub granted it.
CREATE FUNCTION aistudio.edge_store_lease(subject text, subject_id bigint, period_start date, period_end date,
										  granted_nanos bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'store edge leases');
	PERFORM aistudio.check_lease_subject($1, $2, $3, $4);
	IF $5 IS NULL OR $5 < 0 THEN
		RAISE EXCEPTION 'granted_nanos must be a non-negative amount' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO aistudio.edge_lease_state AS l (subject, subject_id, period_start, period_end, granted_nanos)
	VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (subject, subject_id, period_start) DO UPDATE SET
		period_end = EXCLUDED.period_end, granted_nanos = EXCLUDED.granted_nanos, updated_at = now();
	DELETE FROM aistudio.edge_lease_state l WHERE l.period_end < current_date - 1;
END
$$;

-- aistudio.edge_stored_leases: the leases this edge holds for periods not
-- over yet, with what it spent of each (10^-9 units, rounded up).
CREATE FUNCTION aistudio.edge_stored_leases()
	RETURNS TABLE (subject text, subject_id bigint, period_start date, period_end date, granted_nanos bigint,
				   spent_nanos bigint, updated_at timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'read edge leases');
	RETURN QUERY
		SELECT l.subject, l.subject_id, l.period_start, l.period_end, l.granted_nanos,
			   ceil(aistudio.subject_spend(l.subject, l.subject_id, daterange(l.period_start, l.period_end, '[]'))
					* 1e9)::bigint,
			   l.updated_at
		  FROM aistudio.edge_lease_state l
		 WHERE l.period_end >= current_date
		 ORDER BY l.subject, l.subject_id;
END
$$;

-- pg_dump: the stored snapshot, the leases and the events not yet
-- uploaded belong to the user (edge_outbox is registered in SECTION
-- analytics); cached credentials are short-lived and not dumped.
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_state', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_lease_state', '');

GRANT EXECUTE ON FUNCTION
	aistudio.edge_store_snapshot(bytea, text),
	aistudio.edge_stored_snapshot(),
	aistudio.edge_cache_credential(text, boolean, jsonb, integer),
	aistudio.edge_cached_credential(text),
	aistudio.edge_forget_credentials(text[], bigint[], boolean),
	aistudio.edge_outbox_take(int),
	aistudio.edge_outbox_ack(uuid[]),
	aistudio.edge_local_spend(text, bigint, date, date),
	aistudio.edge_store_lease(text, bigint, date, date, bigint),
	aistudio.edge_stored_leases()
	TO aistudio_gateway;

