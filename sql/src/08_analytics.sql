-------------------------------------------------------------------------------
-- SECTION analytics: ingestion, rollups, budgets, notifications
-------------------------------------------------------------------------------
-- Events arrive through the gateway's batch path: COPY into the unlogged
-- staging table, then aistudio.ingest_staged() in the same transaction
-- (src/ingest.c creates the monthly partitions).  Ingestion also appends
-- per-batch aggregates to rollup_pending; rollup_now() (src/rollup.c, run
-- by the background worker) folds them into the hourly/daily/spend tables
-- and records budget notifications.  Buckets and budget periods are UTC.
-- Events an edge uploads are ingested the same way (aistudio.ingest_edge_events,
-- SECTION sync): ingestion also adds their spend to edge_spend, and on an
-- edge it queues what it inserts in edge_outbox for the upload.

-- Rows inserted directly into llm_interactions for a month without a
-- partition land here; creating the month's partition moves them out.
CREATE TABLE aistudio.llm_interactions_default
	PARTITION OF aistudio.llm_interactions DEFAULT;

-- Every partition has the same key and indexes, its own (not inherited from
-- the parent, see the parent's DDL): the primary key (request_id,
-- "timestamp") that makes replays duplicates (ON CONFLICT DO NOTHING checks
-- the unique indexes of the partition a row goes to; the key holds the
-- partition key, so unique per partition is unique overall), a BRIN index on
-- "timestamp" (rows arrive roughly in time order: it serves time ranges at a
-- fraction of a B-tree's insert cost) and a B-tree on (app_id, "timestamp",
-- request_id); SECTION requests adds the other indexes of the request log.
-- src/ingest.c creates the same on each monthly partition (PartitionIndexes).
ALTER TABLE aistudio.llm_interactions_default
	ADD CONSTRAINT llm_interactions_default_pkey PRIMARY KEY (request_id, "timestamp");
CREATE INDEX llm_interactions_default_ts_idx ON aistudio.llm_interactions_default
	USING brin ("timestamp");
CREATE INDEX llm_interactions_default_app_ts_idx ON aistudio.llm_interactions_default
	(app_id, "timestamp", request_id);

-- The gateway COPYs events here; no constraints, so a batch never fails on
-- a value that parses.  ingest_staged() validates.  credential_id (the app
-- key the request authenticated with) only moves credentials.last_used_at;
-- llm_interactions does not keep it.
CREATE UNLOGGED TABLE aistudio.interaction_staging (
	"timestamp"        timestamptz,
	request_id         uuid,
	user_id            bigint,
	app_id             bigint,
	credential_id      bigint,
	llm_id             bigint,
	vendor             text,
	model_name         text,
	prompt_tokens      bigint,
	response_tokens    bigint,
	cache_write_tokens bigint,
	cache_read_tokens  bigint,
	latency_ms         integer,
	interaction_type   text,
	status_code        integer,
	namespace          text,
	edge_id            text,
	error              text,
	-- captured bodies (LLMs with capture_bodies): stored in request_bodies
	request_body       text,
	response_body      text,
	request_truncated  boolean,
	response_truncated boolean
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000);

-- The bodies of requests to LLMs that capture them (docs/gateway.md "Body
-- capture"), one row per request, written by ingest_staged() in the
-- transaction that inserts the event; a table of its own so the analytics
-- rows stay narrow.  *_truncated: the body was longer than the LLM's
-- capture_max_bytes and is cut there.  Deleted after
-- pg_aistudio.body_retention_days by purge_request_bodies() (the rollup
-- worker).  Read through get_request() only.
CREATE TABLE aistudio.request_bodies (
	request_id         uuid PRIMARY KEY,
	"timestamp"        timestamptz NOT NULL,
	request_body       text,
	response_body      text,
	request_truncated  boolean,
	response_truncated boolean
);
CREATE INDEX request_bodies_ts_idx ON aistudio.request_bodies ("timestamp");

-- Staged events that failed validation, with the reason; nothing is lost.
CREATE TABLE aistudio.ingest_rejects (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rejected_at        timestamptz NOT NULL DEFAULT now(),
	reason             text NOT NULL,
	"timestamp"        timestamptz,
	request_id         uuid,
	user_id            bigint,
	app_id             bigint,
	llm_id             bigint,
	vendor             text,
	model_name         text,
	prompt_tokens      bigint,
	response_tokens    bigint,
	cache_write_tokens bigint,
	cache_read_tokens  bigint,
	latency_ms         integer,
	interaction_type   text,
	status_code        integer,
	namespace          text,
	edge_id            text,
	error              text
);
CREATE INDEX ingest_rejects_at_idx ON aistudio.ingest_rejects (rejected_at);
-- replays of the same rejected event are stored once
CREATE UNIQUE INDEX ingest_rejects_request_key ON aistudio.ingest_rejects (request_id, reason)
	WHERE request_id IS NOT NULL;

-- Insert-only: one row per (hour, app, user, llm, vendor, model, type,
-- currency) of each ingested batch, for the rows actually inserted.
CREATE TABLE aistudio.rollup_pending (
	hour               timestamptz NOT NULL,
	app_id             bigint,
	user_id            bigint,
	llm_id             bigint,
	vendor             text NOT NULL,
	model_name         text NOT NULL,
	interaction_type   text NOT NULL,
	currency           text NOT NULL,
	requests           bigint NOT NULL,
	errors             bigint NOT NULL,
	prompt_tokens      bigint NOT NULL,
	response_tokens    bigint NOT NULL,
	cache_write_tokens bigint NOT NULL,
	cache_read_tokens  bigint NOT NULL,
	total_tokens       bigint NOT NULL,
	cost               numeric NOT NULL,
	latency_ms_sum     bigint NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);

-- Insert-only, written with rollup_pending: the cost of each batch per app
-- and per LLM and UTC day.  budget_status() adds these not-yet-folded rows
-- (a few per batch) to spend_daily.
CREATE TABLE aistudio.spend_pending (
	day        date NOT NULL,
	subject    text NOT NULL,
	subject_id bigint NOT NULL,
	cost       numeric NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);
CREATE INDEX spend_pending_subject_idx ON aistudio.spend_pending (subject, subject_id, day);

-- Rollups.  Missing ids (NULL) are a dimension value of their own.
CREATE TABLE aistudio.usage_hourly (
	bucket             timestamptz NOT NULL,
	app_id             bigint,
	user_id            bigint,
	llm_id             bigint,
	vendor             text NOT NULL,
	model_name         text NOT NULL,
	interaction_type   text NOT NULL,
	currency           text NOT NULL,
	requests           bigint NOT NULL DEFAULT 0,
	errors             bigint NOT NULL DEFAULT 0,
	prompt_tokens      bigint NOT NULL DEFAULT 0,
	response_tokens    bigint NOT NULL DEFAULT 0,
	cache_write_tokens bigint NOT NULL DEFAULT 0,
	cache_read_tokens  bigint NOT NULL DEFAULT 0,
	total_tokens       bigint NOT NULL DEFAULT 0,
	cost               numeric NOT NULL DEFAULT 0,
	latency_ms_sum     bigint NOT NULL DEFAULT 0,
	CONSTRAINT usage_hourly_key UNIQUE NULLS NOT DISTINCT
		(bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency)
);
CREATE INDEX usage_hourly_app_idx ON aistudio.usage_hourly (app_id, bucket);

CREATE TABLE aistudio.usage_daily (
	bucket             date NOT NULL,
	app_id             bigint,
	user_id            bigint,
	llm_id             bigint,
	vendor             text NOT NULL,
	model_name         text NOT NULL,
	interaction_type   text NOT NULL,
	currency           text NOT NULL,
	requests           bigint NOT NULL DEFAULT 0,
	errors             bigint NOT NULL DEFAULT 0,
	prompt_tokens      bigint NOT NULL DEFAULT 0,
	response_tokens    bigint NOT NULL DEFAULT 0,
	cache_write_tokens bigint NOT NULL DEFAULT 0,
	cache_read_tokens  bigint NOT NULL DEFAULT 0,
	total_tokens       bigint NOT NULL DEFAULT 0,
	cost               numeric NOT NULL DEFAULT 0,
	latency_ms_sum     bigint NOT NULL DEFAULT 0,
	CONSTRAINT usage_daily_key UNIQUE NULLS NOT DISTINCT
		(bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency)
);
CREATE INDEX usage_daily_app_idx ON aistudio.usage_daily (app_id, bucket);
CREATE INDEX usage_daily_llm_idx ON aistudio.usage_daily (llm_id, bucket);

-- Daily spend per app and per LLM, what budgets read.
CREATE TABLE aistudio.spend_daily (
	day        date NOT NULL,
	subject    text NOT NULL CHECK (subject IN ('app', 'llm')),
	subject_id bigint NOT NULL,
	cost       numeric NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, subject_id, day)
);

-- One row per budget alert: the thresholds one app or LLM crossed in one
-- rollup, grouped (crossing 50, 80, 90 and 100 % at once is one alert; its
-- threshold is the highest).  What alert targets receive (SECTION alerts).
CREATE TABLE aistudio.budget_alerts (
	id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	subject      text NOT NULL CHECK (subject IN ('app', 'llm')),
	subject_id   bigint NOT NULL,
	period_start date NOT NULL,
	threshold    integer NOT NULL CHECK (threshold IN (50, 80, 90, 100)),
	spent        numeric NOT NULL,
	budget       numeric NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budget_alerts_subject_idx ON aistudio.budget_alerts (subject, subject_id);

-- One row per crossed threshold, app or LLM, and budget period, with the
-- alert it belongs to.  An alert is open while one of its rows is not
-- acknowledged.
CREATE TABLE aistudio.budget_notifications (
	id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	subject         text NOT NULL CHECK (subject IN ('app', 'llm')),
	subject_id      bigint NOT NULL,
	period_start    date NOT NULL,
	threshold       integer NOT NULL CHECK (threshold IN (50, 80, 90, 100)),
	spent           numeric NOT NULL,
	budget          numeric NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	acknowledged_at timestamptz,
	alert_id        bigint NOT NULL REFERENCES aistudio.budget_alerts (id) ON DELETE CASCADE,
	UNIQUE (subject, subject_id, period_start, threshold)
);
CREATE INDEX budget_notifications_alert_idx ON aistudio.budget_notifications (alert_id);
CREATE INDEX budget_notifications_open_idx ON aistudio.budget_notifications (created_at)
	WHERE acknowledged_at IS NULL;

-- aistudio.ensure_interaction_partitions(months timestamptz[]) -> integer
CREATE FUNCTION aistudio.ensure_interaction_partitions(months timestamptz[]) RETURNS integer
	LANGUAGE C STRICT VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_ensure_interaction_partitions';
COMMENT ON FUNCTION aistudio.ensure_interaction_partitions(timestamptz[]) IS
	'Create the missing monthly (UTC) partitions of llm_interactions for these instants; returns how many were created';

-- aistudio.ingest_staged(): validate, price and insert every staged row this
-- transaction can see.  One statement moves the rows out of staging, so a
-- failure leaves them all staged; replays (same request_id and timestamp)
-- are counted as duplicates and change nothing.  The same statement moves
-- the last_used_at of the batch's credentials (at most once a minute a key).
--
-- The planner cannot know the batch: it sizes the staging table by its
-- pages times the rows per page of the last vacuum, and the pages of rows
-- earlier batches deleted stay until a vacuum makes them reusable
-- (concurrent writers keep one another's dead rows longer).  So its
-- estimate swings from the table's bloat (70,000 rows for 10,000) to a
-- single row (a vacuum that found the table empty but could not truncate
-- it), and the filters on computed columns below shrink it further
-- (docs/BENCHMARKS.md, ingestion).  Hence:
--   jit = off: past jit_inline_above_cost / jit_optimize_above_cost the
--     statement spent about 2 s a batch compiling for a 0.3 s execution;
--     a batch is at most tens of thousands of rows, never worth it.
--   enable_nestloop = off: every join here is between two CTE results of
--     the batch's size (the inserted events and the staged ones); a nested
--     loop planned for one row rescans the inner result once per outer row,
--     24 s for a batch of 10,000.  Hash and merge joins are linear whatever
--     the estimate.
CREATE FUNCTION aistudio.ingest_staged()
	RETURNS TABLE (inserted bigint, duplicates bigint, rejected bigint)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
	SET jit = off SET enable_nestloop = off
AS $$
DECLARE
	v_oldest constant timestamptz := now() - interval '400 days';
	v_newest constant timestamptz := now() + interval '1 day';
	v_months timestamptz[];
	-- on an edge, its analytics connection queues what it inserts for upload
	v_outbox constant boolean := coalesce(nullif(current_setting('pg_aistudio.edge_outbox', true), ''), 'off')::boolean;
BEGIN
	-- the months this call will insert into, and the current and next month
	SELECT array_agg(DISTINCT x.m) INTO v_months
	  FROM (SELECT date_trunc('month', s."timestamp") AS m
	          FROM aistudio.interaction_staging s
	         WHERE s."timestamp" >= v_oldest AND s."timestamp" <= v_newest
	        UNION ALL SELECT date_trunc('month', now())
	        UNION ALL SELECT date_trunc('month', now()) + interval '1 month') x;
	PERFORM aistudio.ensure_interaction_partitions(v_months);

	-- Rows committed meanwhile for a month without a partition stay staged
	-- for the next call.
	RETURN QUERY
	WITH staged AS (
		DELETE FROM aistudio.interaction_staging s
		 WHERE s."timestamp" IS NULL OR s."timestamp" < v_oldest OR s."timestamp" > v_newest
		    OR date_trunc('month', s."timestamp") = ANY (v_months)
		RETURNING s.*
	), checked AS (
		SELECT s.*,
		       CASE
		         WHEN s.request_id IS NULL THEN 'missing request_id'
		         WHEN s."timestamp" IS NULL THEN 'missing timestamp'
		         WHEN s."timestamp" < v_oldest THEN 'timestamp more than 400 days old'
		         WHEN s."timestamp" > v_newest THEN 'timestamp more than 1 day in the future'
		         -- 'unknown': the request never reached a vendor (e.g. an unknown slug)
		         WHEN s.vendor IS NULL
		           OR (s.vendor <> 'unknown' AND NOT EXISTS (SELECT 1 FROM aistudio.vendors v WHERE v.name = s.vendor))
		           THEN 'unknown vendor'
		         WHEN s.interaction_type NOT IN ('chat', 'proxy') THEN 'invalid interaction_type'
		         WHEN s.latency_ms < 0 THEN 'negative latency_ms'
		       END AS reason
		  FROM staged s
	), clamped AS (
		-- token counts an upstream got wrong never cost the request: they are
		-- clamped to the vendor's semantics (src/pricing.c) and flagged in error
		SELECT c.*, aistudio.clamp_usage(c.vendor, c.prompt_tokens, c.response_tokens,
		                                 c.cache_write_tokens, c.cache_read_tokens) AS u
		  FROM checked c
		 WHERE c.reason IS NULL
	), priced AS (
		-- price only events of a real vendor (CASE never calls it otherwise)
		SELECT c.*,
		       CASE WHEN c.vendor <> 'unknown'
		            THEN aistudio.price_event(c.vendor, c.model_name, (c.u).prompt_tokens, (c.u).response_tokens,
		                                      (c.u).cache_write_tokens, (c.u).cache_read_tokens)
		       END AS pe
		  FROM clamped c
	), ins AS (
		INSERT INTO aistudio.llm_interactions AS i
		       ("timestamp", request_id, user_id, app_id, llm_id, vendor, model_name,
		        prompt_tokens, response_tokens, total_tokens, cache_write_tokens, cache_read_tokens,
		        cost, currency, priced, latency_ms, interaction_type, status_code, namespace,
		        edge_id, error)
		SELECT c."timestamp", c.request_id, c.user_id, c.app_id, c.llm_id, c.vendor,
		       coalesce(c.model_name, ''),
		       (c.u).prompt_tokens, (c.u).response_tokens,
		       (c.u).prompt_tokens + (c.u).response_tokens,
		       (c.u).cache_write_tokens, (c.u).cache_read_tokens,
		       coalesce((c.pe).cost, 0), coalesce((c.pe).currency, 'USD'), coalesce((c.pe).priced, false),
		       coalesce(c.latency_ms, 0),
		       coalesce(c.interaction_type, 'proxy'), coalesce(c.status_code, 0),
		       coalesce(c.namespace, ''), coalesce(c.edge_id, ''),
		       CASE WHEN (c.u).note IS NULL THEN c.error
		            ELSE coalesce(nullif(c.error, '') || '; ', '') || (c.u).note END
		  FROM priced c
		ON CONFLICT DO NOTHING
		RETURNING i."timestamp", i.app_id, i.user_id, i.llm_id, i.vendor, i.model_name,
		          i.interaction_type, i.currency, i.status_code, i.prompt_tokens, i.response_tokens,
		          i.cache_write_tokens, i.cache_read_tokens, i.total_tokens, i.cost, i.latency_ms,
		          i.request_id, i.edge_id
	), bodies AS (
		-- the captured bodies of the events inserted now (a replay inserts
		-- no event, so writes no body twice)
		INSERT INTO aistudio.request_bodies AS b
		       (request_id, "timestamp", request_body, response_body, request_truncated, response_truncated)
		SELECT DISTINCT ON (n.request_id) n.request_id, n."timestamp", c.request_body, c.response_body,
		       coalesce(c.request_truncated, false), coalesce(c.response_truncated, false)
		  FROM ins n
		  JOIN priced c ON c.request_id = n.request_id AND c."timestamp" = n."timestamp"
		 WHERE c.request_body IS NOT NULL OR c.response_body IS NOT NULL
		 ORDER BY n.request_id
		ON CONFLICT DO NOTHING
	), edge_spent AS (
		-- what the hub has seen of each edge's spend (budget leases); one
		-- row per edge, subject and day, which only that edge's batches touch
		INSERT INTO aistudio.edge_spend AS es (subject, subject_id, day, edge_id, cost)
		SELECT x.subject, x.subject_id, x.day, x.edge_id, sum(x.cost)
		  FROM (SELECT 'app'::text AS subject, n.app_id AS subject_id, n."timestamp"::date AS day, n.edge_id, n.cost
		          FROM ins n WHERE n.edge_id <> '' AND n.app_id IS NOT NULL
		        UNION ALL
		        SELECT 'llm'::text, n.llm_id, n."timestamp"::date, n.edge_id, n.cost
		          FROM ins n WHERE n.edge_id <> '' AND n.llm_id IS NOT NULL) x
		 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (subject, subject_id, day, edge_id) DO UPDATE SET cost = es.cost + excluded.cost
	), outbox AS (
		INSERT INTO aistudio.edge_outbox (request_id, "timestamp")
		SELECT n.request_id, n."timestamp" FROM ins n WHERE v_outbox
		ON CONFLICT DO NOTHING
	), pend AS (
		INSERT INTO aistudio.rollup_pending
		       (hour, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency,
		        requests, errors, prompt_tokens, response_tokens, cache_write_tokens,
		        cache_read_tokens, total_tokens, cost, latency_ms_sum)
		SELECT date_trunc('hour', n."timestamp"), n.app_id, n.user_id, n.llm_id, n.vendor,
		       n.model_name, n.interaction_type, n.currency,
		       count(*), count(*) FILTER (WHERE n.status_code >= 400 OR n.status_code = 0),
		       sum(n.prompt_tokens), sum(n.response_tokens), sum(n.cache_write_tokens),
		       sum(n.cache_read_tokens), sum(n.total_tokens), sum(n.cost), sum(n.latency_ms)
		  FROM ins n
		 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
		RETURNING hour, app_id, llm_id, requests, cost
	), spend AS (
		INSERT INTO aistudio.spend_pending (day, subject, subject_id, cost)
		SELECT x.day, x.subject, x.subject_id, sum(x.cost)
		  FROM (SELECT pd.hour::date AS day, 'app'::text AS subject, pd.app_id AS subject_id, pd.cost
		          FROM pend pd WHERE pd.app_id IS NOT NULL
		        UNION ALL
		        SELECT pd.hour::date, 'llm'::text, pd.llm_id, pd.cost FROM pend pd WHERE pd.llm_id IS NOT NULL) x
		 GROUP BY 1, 2, 3
	), rej AS (
		INSERT INTO aistudio.ingest_rejects
		       (reason, "timestamp", request_id, user_id, app_id, llm_id, vendor, model_name,
		        prompt_tokens, response_tokens, cache_write_tokens, cache_read_tokens, latency_ms,
		        interaction_type, status_code, namespace, edge_id, error)
		SELECT c.reason, c."timestamp", c.request_id, c.user_id, c.app_id, c.llm_id, c.vendor,
		       c.model_name, c.prompt_tokens, c.response_tokens, c.cache_write_tokens,
		       c.cache_read_tokens, c.latency_ms, c.interaction_type, c.status_code, c.namespace,
		       c.edge_id, c.error
		  FROM checked c
		 WHERE c.reason IS NOT NULL
		ON CONFLICT DO NOTHING	-- a replayed reject is stored once
		RETURNING 1
	), used AS (
		-- credentials.last_used_at: the newest valid event per key (at most
		-- now()), written only when that is more than a minute later, so a
		-- busy key costs one row update a minute rather than one a batch.
		-- Unknown or deleted ids match nothing; a key another transaction
		-- holds locked (another batch writing about the same time, a
		-- revocation) is skipped, never waited for.  The audit trigger
		-- writes nothing for it (last_used_at is bookkeeping) and
		-- config_notify (UPDATE OF active, revoked_at) does not fire.
		UPDATE aistudio.credentials cr
		   SET last_used_at = u.at
		  FROM (SELECT x.id, k.at
		          FROM (SELECT c.credential_id, least(max(c."timestamp"), now()) AS at
		                  FROM checked c
		                 WHERE c.reason IS NULL AND c.credential_id IS NOT NULL
		                 GROUP BY 1) k
		          JOIN aistudio.credentials x ON x.id = k.credential_id
		         WHERE x.last_used_at IS NULL OR x.last_used_at < k.at - interval '60 seconds'
		           FOR NO KEY UPDATE OF x SKIP LOCKED) u
		 WHERE cr.id = u.id
	), counts AS (
		SELECT coalesce((SELECT sum(pd.requests) FROM pend pd), 0)::bigint AS n_inserted,
		       (SELECT count(*) FROM checked c WHERE c.reason IS NULL) AS n_valid,
		       -- replays of rejects count as rejected again (stored once)
		       (SELECT count(*) FROM checked c WHERE c.reason IS NOT NULL) AS n_rejected
	)
	SELECT k.n_inserted, k.n_valid - k.n_inserted, k.n_rejected FROM counts k;
END
$$;
COMMENT ON FUNCTION aistudio.ingest_staged() IS
	'Validate, price and insert the staged analytics events; returns inserted, duplicate and rejected counts';

-- Internal: raise 22023 unless events is a JSON array of objects of at
-- most 50000 events (ingest_events, ingest_edge_events).
CREATE FUNCTION aistudio.check_event_array(events jsonb) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF events IS NULL OR jsonb_typeof(events) <> 'array' THEN
		RAISE EXCEPTION 'events must be a JSON array of event objects'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF jsonb_array_length(events) > 50000 THEN
		RAISE EXCEPTION 'too many events in one batch'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('The batch has %s events; the limit is 50000.', jsonb_array_length(events));
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE jsonb_typeof(e) <> 'object') THEN
		RAISE EXCEPTION 'events must be a JSON array of event objects'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'Every element of the array must be an object whose keys are columns of aistudio.interaction_staging.';
	END IF;
END
$$;

-- aistudio.ingest_events(events jsonb): the same path for a JSON array of
-- event objects (keys = the staging columns).
CREATE FUNCTION aistudio.ingest_events(events jsonb)
	RETURNS TABLE (inserted bigint, duplicates bigint, rejected bigint)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
AS $$
BEGIN
	PERFORM aistudio.check_event_array(events);
	INSERT INTO aistudio.interaction_staging
	SELECT * FROM jsonb_populate_recordset(NULL::aistudio.interaction_staging, events);
	RETURN QUERY SELECT * FROM aistudio.ingest_staged();
END
$$;
COMMENT ON FUNCTION aistudio.ingest_events(jsonb) IS
	'Ingest a JSON array of analytics events through ingest_staged()';

-- aistudio.purge_request_bodies(batch_rows): deletes at most batch_rows
-- captured bodies older than pg_aistudio.body_retention_days days (0: all
-- of them, whatever their age), oldest first; returns how many.  The rollup
-- worker calls it after each rollup, one transaction per batch, until a
-- batch comes back short.
CREATE FUNCTION aistudio.purge_request_bodies(batch_rows integer DEFAULT 10000) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_days integer := coalesce(nullif(current_setting('pg_aistudio.body_retention_days', true), '')::integer, 7);
	v_n bigint;
BEGIN
	IF batch_rows IS NULL OR batch_rows < 1 OR batch_rows > 1000000 THEN
		RAISE EXCEPTION 'batch_rows must be between 1 and 1000000'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s.', coalesce(batch_rows::text, 'NULL'));
	END IF;
	WITH old AS (
		SELECT b.request_id FROM aistudio.request_bodies b
		 WHERE v_days = 0 OR b."timestamp" < now() - make_interval(days => v_days)
		 ORDER BY b."timestamp"
		 LIMIT batch_rows
		   FOR UPDATE SKIP LOCKED
	)
	DELETE FROM aistudio.request_bodies b USING old WHERE b.request_id = old.request_id;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION aistudio.purge_request_bodies(integer) IS
	'Delete at most batch_rows captured request bodies older than pg_aistudio.body_retention_days; returns how many';

-- aistudio.budget_period(start, at): the monthly period containing at
CREATE FUNCTION aistudio.budget_period(start date, at date DEFAULT current_date) RETURNS daterange
	LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aistudio_budget_period';
COMMENT ON FUNCTION aistudio.budget_period(date, date) IS
	'Budget period containing at: [first day, first day of the next period), starting on start''s day of month (clamped), the 1st when start is NULL';

-- aistudio.rollup_now(): fold rollup_pending, check budget thresholds
CREATE FUNCTION aistudio.rollup_now() RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
	AS 'MODULE_PATHNAME', 'aistudio_rollup_now';
COMMENT ON FUNCTION aistudio.rollup_now() IS
	'Fold the pending analytics aggregates into the rollups and record crossed budget thresholds; returns the pending rows folded (0 when a rollup is already running)';

-- aistudio.rollup_rebuild(from, to): recompute the rollups of whole UTC days
-- from the raw events (repair path).  Waits for a running rollup_now().
CREATE FUNCTION aistudio.rollup_rebuild("from" timestamptz, "to" timestamptz) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
AS $$
DECLARE
	v_lo timestamptz;
	v_hi timestamptz;
	v_events bigint;
BEGIN
	PERFORM aistudio.require_role('admin', 'rebuild analytics rollups');
	IF $1 IS NULL OR $2 IS NULL OR $1 >= $2 OR NOT isfinite($1) OR NOT isfinite($2) THEN
		RAISE EXCEPTION 'invalid rollup range'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'The range must be finite and "from" must be earlier than "to".';
	END IF;
	v_lo := date_trunc('day', $1);
	v_hi := date_trunc('day', $2);
	IF v_hi < $2 THEN
		v_hi := v_hi + interval '1 day';
	END IF;

	PERFORM pg_advisory_xact_lock(1095324500, 1);	-- AISTUDIO_LOCK_ROLLUP
	DELETE FROM aistudio.usage_hourly u WHERE u.bucket >= v_lo AND u.bucket < v_hi;
	DELETE FROM aistudio.usage_daily u WHERE u.bucket >= v_lo::date AND u.bucket < v_hi::date;
	DELETE FROM aistudio.spend_daily d WHERE d.day >= v_lo::date AND d.day < v_hi::date;

	-- One snapshot for the raw events and the pending rows of the same range:
	-- pending rows committed later belong to events this scan cannot see.
	WITH dropped AS (
		DELETE FROM aistudio.rollup_pending p WHERE p.hour >= v_lo AND p.hour < v_hi
	), dropped_spend AS (
		DELETE FROM aistudio.spend_pending p WHERE p.day >= v_lo::date AND p.day < v_hi::date
	), raw AS (
		SELECT date_trunc('hour', i."timestamp") AS bucket, i.app_id, i.user_id, i.llm_id,
		       i.vendor, i.model_name, i.interaction_type, i.currency,
		       count(*) AS requests,
		       count(*) FILTER (WHERE i.status_code >= 400 OR i.status_code = 0) AS errors,
		       sum(i.prompt_tokens) AS prompt_tokens, sum(i.response_tokens) AS response_tokens,
		       sum(i.cache_write_tokens) AS cache_write_tokens,
		       sum(i.cache_read_tokens) AS cache_read_tokens, sum(i.total_tokens) AS total_tokens,
		       sum(i.cost) AS cost, sum(i.latency_ms) AS latency_ms_sum
		  FROM aistudio.llm_interactions i
		 WHERE i."timestamp" >= v_lo AND i."timestamp" < v_hi
		 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
	), h AS (
		INSERT INTO aistudio.usage_hourly
		       (bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency,
		        requests, errors, prompt_tokens, response_tokens, cache_write_tokens,
		        cache_read_tokens, total_tokens, cost, latency_ms_sum)
		SELECT * FROM raw r ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
	), d AS (
		INSERT INTO aistudio.usage_daily
		       (bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency,
		        requests, errors, prompt_tokens, response_tokens, cache_write_tokens,
		        cache_read_tokens, total_tokens, cost, latency_ms_sum)
		SELECT r.bucket::date, r.app_id, r.user_id, r.llm_id, r.vendor, r.model_name,
		       r.interaction_type, r.currency, sum(r.requests), sum(r.errors),
		       sum(r.prompt_tokens), sum(r.response_tokens), sum(r.cache_write_tokens),
		       sum(r.cache_read_tokens), sum(r.total_tokens), sum(r.cost), sum(r.latency_ms_sum)
		  FROM raw r
		 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
	), s AS (
		INSERT INTO aistudio.spend_daily (subject, subject_id, day, cost)
		SELECT x.subject, x.subject_id, x.day, sum(x.cost)
		  FROM (SELECT 'app'::text AS subject, r.app_id AS subject_id, r.bucket::date AS day, r.cost
		          FROM raw r WHERE r.app_id IS NOT NULL
		        UNION ALL
		        SELECT 'llm'::text, r.llm_id, r.bucket::date, r.cost FROM raw r WHERE r.llm_id IS NOT NULL) x
		 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
	)
	SELECT coalesce(sum(r.requests), 0)::bigint INTO v_events FROM raw r;
	RETURN v_events;
END
$$;
COMMENT ON FUNCTION aistudio.rollup_rebuild(timestamptz, timestamptz) IS
	'Recompute the rollups and spend of the whole UTC days covering [from, to) from the raw events; returns the events counted (admin or DBA)';

-- Internal: the spend of one app or LLM in a budget period: spend_daily
-- plus the not-yet-folded pending spend (edge events the hub ingested
-- included).
CREATE FUNCTION aistudio.subject_spend(subject text, subject_id bigint, period daterange) RETURNS numeric
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT (SELECT coalesce(sum(d.cost), 0) FROM aistudio.spend_daily d
			 WHERE d.subject = $1 AND d.subject_id = $2 AND d.day >= lower($3) AND d.day < upper($3))
		 + (SELECT coalesce(sum(p.cost), 0) FROM aistudio.spend_pending p
			 WHERE p.subject = $1 AND p.subject_id = $2 AND p.day >= lower($3) AND p.day < upper($3))
$$;

-- Internal: what edges still hold of one app's or LLM's budget in a period
-- (aistudio.edge_lease): per lease, what was granted minus the spend of
-- that edge's events the hub has ingested, never below 0.  Computed from
-- ingested events, never from what an edge says.
CREATE FUNCTION aistudio.subject_leased(subject text, subject_id bigint, period daterange) RETURNS numeric
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(sum(greatest(l.granted - coalesce(
				(SELECT sum(s.cost) FROM aistudio.edge_spend s
				  WHERE s.subject = l.subject AND s.subject_id = l.subject_id AND s.edge_id = l.edge_id
				    AND s.day >= lower($3) AND s.day < upper($3)), 0), 0)), 0)
	  FROM aistudio.edge_leases l
	 WHERE l.subject = $1 AND l.subject_id = $2 AND l.period_start = lower($3)
$$;

-- Budget status of one app or LLM: spend of the current (UTC) period from
-- spend_daily plus the not-yet-folded pending spend; leased = what edges
-- hold of it (a gateway's admission counts it as spent), remaining =
-- budget - spent - leased.
CREATE FUNCTION aistudio.subject_budget_status(subject text, subject_id bigint)
	RETURNS TABLE (monthly_budget numeric, period_start date, period_end date,
	               spent numeric, remaining numeric, percent_used numeric, leased numeric)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
AS $$
DECLARE
	v_budget numeric;
	v_start date;
	v_found boolean;
	v_period daterange;
	v_spent numeric;
	v_leased numeric;
BEGIN
	IF $1 = 'app' THEN
		SELECT a.monthly_budget, a.budget_start_date, true INTO v_budget, v_start, v_found
		  FROM aistudio.apps a WHERE a.id = $2;
	ELSE
		SELECT l.monthly_budget, l.budget_start_date, true INTO v_budget, v_start, v_found
		  FROM aistudio.llms l WHERE l.id = $2;
	END IF;
	IF v_found IS NULL THEN
		RAISE EXCEPTION '% % does not exist', CASE WHEN $1 = 'app' THEN 'app' ELSE 'LLM' END, $2
			USING ERRCODE = 'no_data_found';
	END IF;
	v_period := aistudio.budget_period(v_start, current_date);
	v_spent := aistudio.subject_spend($1, $2, v_period);
	v_leased := aistudio.subject_leased($1, $2, v_period);

	monthly_budget := v_budget;
	period_start := lower(v_period);
	period_end := upper(v_period) - 1;
	spent := v_spent;
	leased := v_leased;
	remaining := v_budget - v_spent - v_leased;
	percent_used := CASE WHEN v_budget > 0 THEN round(v_spent * 100 / v_budget, 2) END;
	RETURN NEXT;
END
$$;

CREATE FUNCTION aistudio.budget_status(app_id bigint)
	RETURNS TABLE (monthly_budget numeric, period_start date, period_end date,
	               spent numeric, remaining numeric, percent_used numeric, leased numeric)
	LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT * FROM aistudio.subject_budget_status('app', $1) $$;
COMMENT ON FUNCTION aistudio.budget_status(bigint) IS
	'Monthly budget, current period (period_end inclusive), spend, remaining, percent used and what edges hold (leased) of an app';

CREATE FUNCTION aistudio.llm_budget_status(llm_id bigint)
	RETURNS TABLE (monthly_budget numeric, period_start date, period_end date,
	               spent numeric, remaining numeric, percent_used numeric, leased numeric)
	LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT * FROM aistudio.subject_budget_status('llm', $1) $$;
COMMENT ON FUNCTION aistudio.llm_budget_status(bigint) IS
	'Monthly budget, current period (period_end inclusive), spend, remaining, percent used and what edges hold (leased) of an LLM';

-- aistudio.acknowledge_budget_notification(id): mark a notification seen
CREATE FUNCTION aistudio.acknowledge_budget_notification(id bigint) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'acknowledge budget notifications');
	UPDATE aistudio.budget_notifications n SET acknowledged_at = coalesce(n.acknowledged_at, now())
	 WHERE n.id = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'budget notification % does not exist', $1 USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- Views for analysts (rollups lag ingestion by at most one rollup interval).
CREATE VIEW aistudio.v_usage_daily AS
SELECT d.bucket AS day, d.app_id, a.name AS app_name, d.user_id, u.email AS user_email,
       u.name AS user_name, d.llm_id, l.name AS llm_name, d.vendor, d.model_name,
       d.interaction_type, d.currency, d.requests, d.errors, d.prompt_tokens, d.response_tokens,
       d.cache_write_tokens, d.cache_read_tokens, d.total_tokens, d.cost, d.latency_ms_sum,
       CASE WHEN d.requests > 0 THEN round(d.latency_ms_sum::numeric / d.requests, 1) END
         AS avg_latency_ms
  FROM aistudio.usage_daily d
  LEFT JOIN aistudio.apps a ON a.id = d.app_id
  LEFT JOIN aistudio.users u ON u.id = d.user_id
  LEFT JOIN aistudio.llms l ON l.id = d.llm_id;

CREATE VIEW aistudio.v_cost_by_model_month AS
SELECT date_trunc('month', d.bucket::timestamp)::date AS month, d.vendor, d.model_name, d.currency,
       sum(d.requests) AS requests, sum(d.errors) AS errors,
       sum(d.prompt_tokens) AS prompt_tokens, sum(d.response_tokens) AS response_tokens,
       sum(d.cache_write_tokens) AS cache_write_tokens, sum(d.cache_read_tokens) AS cache_read_tokens,
       sum(d.total_tokens) AS total_tokens, sum(d.cost) AS cost
  FROM aistudio.usage_daily d
 GROUP BY 1, 2, 3, 4;

CREATE VIEW aistudio.v_budget_usage AS
SELECT 'app'::text AS subject, a.id AS subject_id, a.name, b.monthly_budget, b.period_start,
       b.period_end, b.spent, b.remaining, b.percent_used, b.leased
  FROM aistudio.apps a CROSS JOIN LATERAL aistudio.budget_status(a.id) b
UNION ALL
SELECT 'llm'::text, l.id, l.name, b.monthly_budget, b.period_start, b.period_end, b.spent,
       b.remaining, b.percent_used, b.leased
  FROM aistudio.llms l CROSS JOIN LATERAL aistudio.llm_budget_status(l.id) b;

-- pg_dump: analytics rows belong to the user.  This is the one list of the
-- analytics tables (and their identity sequences) that pg_dump dumps: raw
-- events of the default partition (the monthly partitions are created at run
-- time, outside the extension, and dump like any table, with their keys and
-- indexes), rejects, not-yet-folded aggregates and spend, rollups, spend and
-- notifications.  interaction_staging is empty outside an ingesting
-- transaction.
SELECT pg_catalog.pg_extension_config_dump('aistudio.llm_interactions_default', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.ingest_rejects', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.ingest_rejects_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.rollup_pending', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.request_bodies', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.spend_pending', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.usage_hourly', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.usage_daily', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.spend_daily', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.budget_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.budget_alerts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.budget_notifications', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.budget_notifications_id_seq', '');
-- edge spend and leases (budgets across edges) and, on an edge, the events
-- not yet uploaded to its hub
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_spend', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_leases', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_outbox', '');

-- Grants (analytics)
GRANT INSERT ON aistudio.interaction_staging TO aistudio_gateway;
GRANT SELECT ON aistudio.budget_notifications, aistudio.budget_alerts TO aistudio_gateway;
GRANT EXECUTE ON FUNCTION
	aistudio.ingest_staged(),
	aistudio.ingest_events(jsonb),
	aistudio.rollup_now(),
	aistudio.rollup_rebuild(timestamptz, timestamptz),
	aistudio.acknowledge_budget_notification(bigint),
	aistudio.budget_status(bigint),
	aistudio.llm_budget_status(bigint),
	aistudio.budget_period(date, date)
	TO aistudio_gateway;
GRANT SELECT ON
	aistudio.llm_interactions, aistudio.usage_hourly, aistudio.usage_daily, aistudio.spend_daily,
	aistudio.budget_notifications, aistudio.budget_alerts, aistudio.ingest_rejects, aistudio.vendors,
	aistudio.v_usage_daily, aistudio.v_cost_by_model_month, aistudio.v_budget_usage
	TO aistudio_analyst;
GRANT EXECUTE ON FUNCTION
	aistudio.budget_status(bigint),
	aistudio.llm_budget_status(bigint),
	aistudio.budget_period(date, date)
	TO aistudio_analyst;

