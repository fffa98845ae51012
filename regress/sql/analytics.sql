-- analytics: ingestion (ingest_events / the staging table + ingest_staged),
-- cost computed in the database, idempotent replays, rejects with reasons,
-- monthly partitions, rollups (incremental, twice, rebuild), analyst views
-- and privileges.  Event times are relative to now(); only stable values
-- are printed.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('owner@example.com', 'Owner', role => 'developer') AS owner \gset
SELECT aistudio.create_user('chat@example.com', 'Chat', role => 'chat_user') AS chat \gset
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1') AS gpt \gset
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com') AS claude \gset
SELECT aistudio.create_app('app-a', :owner, ARRAY[:gpt, :claude]::bigint[]) AS app_a \gset
SELECT aistudio.create_app('app-b', :owner, ARRAY[:gpt]::bigint[]) AS app_b \gset
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00, cache_read_per_mtok => 1.25) IS NOT NULL AS priced;
SELECT aistudio.set_model_price('anthropic', 'claude-sonnet-4', 3, 15, 3.75, 0.30) IS NOT NULL AS priced;

-- One batch, built once so that a replay carries identical events.  Every
-- event has its own dimensions, so each is one rollup_pending row.
CREATE TEMP TABLE batch1 AS
SELECT jsonb_agg(e ORDER BY e->>'request_id') AS events FROM (VALUES
  (jsonb_build_object('timestamp', now() - interval '1 hour', 'request_id', '00000000-0000-0000-0000-000000000001',
     'app_id', :app_a, 'user_id', :owner, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', 1000, 'response_tokens', 500, 'cache_read_tokens', 200, 'latency_ms', 120,
     'status_code', 200, 'interaction_type', 'proxy')),
  -- a dated model name priced by the longest configured prefix
  (jsonb_build_object('timestamp', now() - interval '2 hours', 'request_id', '00000000-0000-0000-0000-000000000002',
     'app_id', :app_a, 'user_id', :owner, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o-2024-08-06',
     'prompt_tokens', 2000, 'response_tokens', 100, 'latency_ms', 300, 'status_code', 200)),
  (jsonb_build_object('timestamp', now() - interval '3 hours', 'request_id', '00000000-0000-0000-0000-000000000003',
     'app_id', :app_a, 'user_id', :owner, 'llm_id', :claude, 'vendor', 'anthropic',
     'model_name', 'claude-sonnet-4-20250514', 'prompt_tokens', 100, 'response_tokens', 200,
     'cache_write_tokens', 1000, 'cache_read_tokens', 2000, 'latency_ms', 900, 'status_code', 200,
     'interaction_type', 'chat')),
  -- no price for this model: stored with cost 0 and priced = false
  (jsonb_build_object('timestamp', now() - interval '1 hour', 'request_id', '00000000-0000-0000-0000-000000000004',
     'app_id', :app_b, 'user_id', :owner, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'o9-preview',
     'prompt_tokens', 10, 'response_tokens', 5, 'latency_ms', 50, 'status_code', 200)),
  -- an upstream error and a client disconnect (status 0) count as errors
  (jsonb_build_object('timestamp', now() - interval '1 hour', 'request_id', '00000000-0000-0000-0000-000000000005',
     'app_id', :app_b, 'user_id', :chat, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', 10, 'response_tokens', 0, 'latency_ms', 40, 'status_code', 500, 'error', 'upstream 500')),
  (jsonb_build_object('timestamp', now() - interval '1 hour', 'request_id', '00000000-0000-0000-0000-000000000006',
     'vendor', 'openai', 'model_name', 'gpt-4o', 'status_code', 0)),
  -- 300 days old: still valid, in an older month's partition
  (jsonb_build_object('timestamp', now() - interval '300 days', 'request_id', '00000000-0000-0000-0000-000000000007',
     'app_id', :app_b, 'user_id', :owner, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', 1000000, 'response_tokens', 0, 'status_code', 200))
) v(e);

SELECT * FROM aistudio.ingest_events((SELECT events FROM batch1));

-- cost = per-million prices, exact; gpt-4o's prompt includes its cached reads,
-- Anthropic's does not
SELECT request_id, vendor, model_name, prompt_tokens, response_tokens, total_tokens,
       cost, currency, priced, interaction_type, status_code, namespace, edge_id
  FROM aistudio.llm_interactions ORDER BY request_id;

-- a replay of the same batch changes nothing
SELECT * FROM aistudio.ingest_events((SELECT events FROM batch1));
SELECT count(*) AS stored FROM aistudio.llm_interactions;

-- rejects: nothing is lost, each bad event is kept with its reason
-- (inconsistent token counts are not a reason: see the end of this file)
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-0000000000a2',
     'vendor', 'acme'),
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-0000000000a3',
     'vendor', 'openai', 'interaction_type', 'batch'),
  jsonb_build_object('timestamp', now() - interval '401 days', 'request_id', '00000000-0000-0000-0000-0000000000a4',
     'vendor', 'openai'),
  jsonb_build_object('timestamp', now() + interval '2 days', 'request_id', '00000000-0000-0000-0000-0000000000a5',
     'vendor', 'openai'),
  jsonb_build_object('timestamp', now(), 'vendor', 'openai'),
  jsonb_build_object('request_id', '00000000-0000-0000-0000-0000000000a7', 'vendor', 'openai'),
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-0000000000a9',
     'vendor', 'openai', 'latency_ms', -5),
  -- Anthropic reports cached reads outside the prompt: valid
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-0000000000aa',
     'vendor', 'anthropic', 'model_name', 'claude-sonnet-4', 'prompt_tokens', 10, 'cache_read_tokens', 20)
));
SELECT request_id, vendor, reason FROM aistudio.ingest_rejects ORDER BY id;
SELECT count(*) AS left_in_staging FROM aistudio.interaction_staging;

-- bad arguments
SELECT pg_temp.err($$SELECT aistudio.ingest_events('{}')$$);
SELECT pg_temp.err($$SELECT aistudio.ingest_events('[1, 2]')$$);
SELECT pg_temp.err($$SELECT aistudio.ingest_events('[{"timestamp": "yesterday-ish"}]')$$);
SELECT count(*) AS left_in_staging FROM aistudio.interaction_staging;

-- monthly partitions (UTC) exist for the current and next month and for the
-- months of the ingested events
SELECT count(*) FILTER (WHERE c.oid IS NULL) AS missing_partitions
  FROM (SELECT DISTINCT to_char(m AT TIME ZONE 'UTC', '"llm_interactions_"YYYYMM') AS relname
          FROM (SELECT "timestamp" AS m FROM aistudio.llm_interactions
                UNION ALL SELECT now() UNION ALL
                SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month' + interval '1 day') x) p
  LEFT JOIN pg_class c ON c.relname = p.relname AND c.relnamespace = 'aistudio'::regnamespace
   AND c.relispartition;
SELECT count(*) AS rows_in_default FROM aistudio.llm_interactions_default;

-- rollups: pending aggregates are folded exactly once
SELECT count(*) AS pending_rows, sum(requests) AS pending_events, sum(cost) AS pending_cost
  FROM aistudio.rollup_pending;
SELECT subject, sum(cost) AS pending_spend FROM aistudio.spend_pending GROUP BY 1 ORDER BY 1;
SELECT aistudio.rollup_now() AS folded;
SELECT aistudio.rollup_now() AS folded_again;
SELECT (SELECT count(*) FROM aistudio.rollup_pending) AS pending_rows,
       (SELECT count(*) FROM aistudio.spend_pending) AS pending_spend_rows;

CREATE TEMP VIEW raw_totals AS
SELECT count(*) AS requests, count(*) FILTER (WHERE status_code >= 400 OR status_code = 0) AS errors,
       sum(prompt_tokens) AS prompt, sum(response_tokens) AS response,
       sum(cache_write_tokens) AS cache_write, sum(cache_read_tokens) AS cache_read,
       sum(total_tokens) AS total, sum(cost) AS cost, sum(latency_ms) AS latency
  FROM aistudio.llm_interactions;
CREATE TEMP VIEW rollup_totals AS
SELECT 'hourly' AS rollup, sum(requests) AS requests, sum(errors) AS errors, sum(prompt_tokens) AS prompt,
       sum(response_tokens) AS response, sum(cache_write_tokens) AS cache_write,
       sum(cache_read_tokens) AS cache_read, sum(total_tokens) AS total, sum(cost) AS cost,
       sum(latency_ms_sum) AS latency
  FROM aistudio.usage_hourly
UNION ALL
SELECT 'daily', sum(requests), sum(errors), sum(prompt_tokens), sum(response_tokens),
       sum(cache_write_tokens), sum(cache_read_tokens), sum(total_tokens), sum(cost), sum(latency_ms_sum)
  FROM aistudio.usage_daily;
SELECT * FROM raw_totals;
SELECT * FROM rollup_totals;
-- spend per app and per LLM equals the raw cost
SELECT s.subject, coalesce(a.name, l.name) AS name, sum(s.cost) AS cost
  FROM aistudio.spend_daily s
  LEFT JOIN aistudio.apps a ON s.subject = 'app' AND a.id = s.subject_id
  LEFT JOIN aistudio.llms l ON s.subject = 'llm' AND l.id = s.subject_id
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT 'app' AS subject, app_id, sum(cost) FROM aistudio.llm_interactions WHERE app_id IS NOT NULL
 GROUP BY app_id
EXCEPT
SELECT subject, subject_id, sum(cost) FROM aistudio.spend_daily WHERE subject = 'app' GROUP BY 1, 2;

-- more events, ingested through the gateway's path (the gateway role may
-- write the staging table and run ingest_staged, not read the events)
SET ROLE aistudio_gateway;
INSERT INTO aistudio.interaction_staging ("timestamp", request_id, app_id, user_id, llm_id, vendor,
       model_name, prompt_tokens, response_tokens, latency_ms, status_code)
SELECT now() - interval '30 minutes', ('00000000-0000-0000-0000-0000000001' || lpad(g::text, 2, '0'))::uuid,
       :app_a, :owner, :gpt, 'openai', 'gpt-4o', 100 * g, 10 * g, g, 200
  FROM generate_series(1, 20) g;
COPY aistudio.interaction_staging ("timestamp", request_id, vendor, model_name) FROM STDIN WITH (FORMAT csv);
2001-01-01 00:00:00+00,00000000-0000-0000-0000-0000000002ff,openai,gpt-4o
\.
SELECT * FROM aistudio.ingest_staged();
SELECT pg_temp.err('SELECT count(*) FROM aistudio.llm_interactions');
SELECT pg_temp.err('SELECT count(*) FROM aistudio.interaction_staging');
RESET ROLE;
-- ingest_staged() runs with JIT and nested loops off whatever the session's
-- settings: its estimates follow the staging table's bloat, not the batch;
-- compiling cost seconds a batch, and a nested loop planned for one row
-- rescans the batch once per row (docs/BENCHMARKS.md, ingestion)
SELECT 'jit=off' = ANY (p.proconfig) AS jit_off, 'enable_nestloop=off' = ANY (p.proconfig) AS no_nestloop
  FROM pg_proc p WHERE p.oid = 'aistudio.ingest_staged()'::regprocedure;

-- rebuild from raw events equals the incremental rollup (pending rows of the
-- range are dropped: the rebuild counted their events)
SELECT aistudio.rollup_now() > 0 AS folded;
CREATE TEMP TABLE inc_hourly AS SELECT * FROM aistudio.usage_hourly;
CREATE TEMP TABLE inc_daily AS SELECT * FROM aistudio.usage_daily;
CREATE TEMP TABLE inc_spend AS SELECT * FROM aistudio.spend_daily;
SELECT aistudio.rollup_rebuild(now() - interval '400 days', now() + interval '1 day') AS rebuilt_events;
SELECT (SELECT count(*) FROM (SELECT * FROM inc_hourly EXCEPT SELECT * FROM aistudio.usage_hourly) a) +
       (SELECT count(*) FROM (SELECT * FROM aistudio.usage_hourly EXCEPT SELECT * FROM inc_hourly) b) AS hourly_diff,
       (SELECT count(*) FROM (SELECT * FROM inc_daily EXCEPT SELECT * FROM aistudio.usage_daily) a) +
       (SELECT count(*) FROM (SELECT * FROM aistudio.usage_daily EXCEPT SELECT * FROM inc_daily) b) AS daily_diff,
       (SELECT count(*) FROM (SELECT * FROM inc_spend EXCEPT SELECT * FROM aistudio.spend_daily) a) +
       (SELECT count(*) FROM (SELECT * FROM aistudio.spend_daily EXCEPT SELECT * FROM inc_spend) b) AS spend_diff;

-- a rebuild with events still pending: they are counted once, not again by
-- the next rollup_now
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
  jsonb_build_object('timestamp', now() - interval '10 minutes', 'request_id', '00000000-0000-0000-0000-000000000301',
     'app_id', :app_b, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', 4000, 'response_tokens', 400, 'status_code', 200)));
SELECT aistudio.rollup_rebuild(now() - interval '400 days', now() + interval '1 day') AS rebuilt_events;
SELECT aistudio.rollup_now() AS folded_after_rebuild;
SELECT (SELECT requests FROM raw_totals) AS raw_requests, (SELECT cost FROM raw_totals) AS raw_cost;
SELECT * FROM rollup_totals;

SELECT pg_temp.err($$SELECT aistudio.rollup_rebuild(now(), now() - interval '1 day')$$);
SELECT pg_temp.err($$SELECT aistudio.rollup_rebuild(NULL, now())$$);
SET pg_aistudio.acting_user = :'chat';
SELECT pg_temp.err($$SELECT aistudio.rollup_rebuild(now() - interval '1 day', now())$$);
RESET pg_aistudio.acting_user;

-- rows inserted directly for a month without a partition wait in the
-- default partition and move when the month's partition is created
INSERT INTO aistudio.llm_interactions ("timestamp", request_id, vendor, model_name)
VALUES (now() - interval '200 days', '00000000-0000-0000-0000-000000000401', 'openai', 'direct');
SELECT count(*) AS rows_in_default FROM aistudio.llm_interactions_default;
SELECT aistudio.ensure_interaction_partitions(ARRAY[now() - interval '200 days']) AS created;
SELECT aistudio.ensure_interaction_partitions(ARRAY[now() - interval '200 days']) AS created_again;
SELECT count(*) AS rows_in_default FROM aistudio.llm_interactions_default;
SELECT tableoid::regclass = to_char((now() - interval '200 days') AT TIME ZONE 'UTC',
       '"aistudio.llm_interactions_"YYYYMM')::regclass AS in_its_month
  FROM aistudio.llm_interactions WHERE request_id = '00000000-0000-0000-0000-000000000401';

-- analysts read the events, the rollups and the views, and write nothing
SET ROLE aistudio_analyst;
SELECT count(*) AS events FROM aistudio.llm_interactions;
SELECT app_name, user_email, llm_name, vendor, model_name, interaction_type,
       sum(requests) AS requests, sum(errors) AS errors, sum(cost) AS cost
  FROM aistudio.v_usage_daily GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6;
SELECT vendor, model_name, currency, sum(requests) AS requests, sum(total_tokens) AS tokens, sum(cost) AS cost
  FROM aistudio.v_cost_by_model_month GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT subject, name, monthly_budget, spent > 0 AS has_spend FROM aistudio.v_budget_usage ORDER BY 1, 2;
SELECT count(*) >= 0 AS readable FROM aistudio.usage_hourly, aistudio.spend_daily, aistudio.budget_notifications;
SELECT pg_temp.err('DELETE FROM aistudio.usage_daily');
SELECT pg_temp.err('UPDATE aistudio.llm_interactions SET cost = 0');
SELECT pg_temp.err($$INSERT INTO aistudio.interaction_staging (vendor) VALUES ('openai')$$);
SELECT pg_temp.err('SELECT aistudio.ingest_staged()');
SELECT pg_temp.err('SELECT aistudio.rollup_now()');
RESET ROLE;

-- a request that never reached a vendor (e.g. an unknown slug) is stored as
-- vendor 'unknown' with cost 0; a rejected event replayed is counted as
-- rejected again but stored once
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000501',
	                   'vendor', 'unknown', 'model_name', '', 'status_code', 404)));
SELECT vendor, cost, priced, status_code FROM aistudio.llm_interactions
 WHERE request_id = '00000000-0000-0000-0000-000000000501';
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000502',
	                   'vendor', 'nosuchvendor', 'model_name', 'x')));
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000502',
	                   'vendor', 'nosuchvendor', 'model_name', 'x')));
SELECT reason, count(*) FROM aistudio.ingest_rejects
 WHERE request_id = '00000000-0000-0000-0000-000000000502' GROUP BY 1;

-- credentials.last_used_at: ingestion moves it to the newest valid event of
-- each key, forward only and only when that is more than 60 seconds later
-- (a busy key is written at most once a minute); unknown ids are ignored;
-- no audit row and no config NOTIFY (a notification would show up below)
SELECT aistudio.issue_credential(:app_a) IS NOT NULL AS issued;
SELECT aistudio.issue_credential(:app_b) IS NOT NULL AS issued;
SELECT id AS cred_a FROM aistudio.credentials WHERE app_id = :app_a \gset
SELECT id AS cred_b FROM aistudio.credentials WHERE app_id = :app_b \gset
CREATE TEMP TABLE t0 AS SELECT now() - interval '10 minutes' AS t0;
SELECT t0 FROM t0 \gset
SELECT count(*) AS audit_rows FROM aistudio.audit_log \gset
CREATE FUNCTION pg_temp.used(n int, cred bigint, secs int, vendor text DEFAULT 'openai') RETURNS jsonb
	LANGUAGE sql AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'timestamp', (SELECT t0 FROM t0) + make_interval(secs => secs),
		'request_id', '00000000-0000-0000-0000-' || lpad((600 + n)::text, 12, '0'),
		'credential_id', cred, 'vendor', vendor, 'model_name', 'gpt-4o', 'status_code', 200))
$$;
-- seconds after t0, per key (NULL = never used)
CREATE TEMP VIEW last_used AS
SELECT CASE c.app_id WHEN :app_a THEN 'a' ELSE 'b' END AS key,
       extract(epoch FROM c.last_used_at - :'t0'::timestamptz) AS secs
  FROM aistudio.credentials c ORDER BY c.id;
LISTEN aistudio_config;
SELECT * FROM last_used;
-- one batch: the newest event per key counts; an unknown key and an event
-- without a key change nothing
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
	pg_temp.used(1, :cred_a, 0), pg_temp.used(2, :cred_a, -300), pg_temp.used(3, :cred_b, -120),
	pg_temp.used(4, 999999, 0), pg_temp.used(5, NULL, 60)));
SELECT * FROM last_used;
-- an older event does not move it back
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.used(6, :cred_a, -3600)));
-- a newer one within 60 seconds (30 s, exactly 60 s) is not written
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.used(7, :cred_a, 30)));
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.used(8, :cred_a, 60)));
SELECT * FROM last_used;
-- more than 60 seconds later: written
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.used(9, :cred_a, 90)));
SELECT * FROM last_used;
-- a rejected event does not count
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.used(10, :cred_a, 300, 'acme')));
SELECT * FROM last_used;
-- the gateway's path: staging rows with credential_id, then ingest_staged()
SET ROLE aistudio_gateway;
INSERT INTO aistudio.interaction_staging ("timestamp", request_id, credential_id, vendor, model_name)
VALUES (:'t0'::timestamptz + interval '1 minute', '00000000-0000-0000-0000-000000000611', :cred_b, 'openai', 'gpt-4o'),
       (:'t0'::timestamptz + interval '3 minutes', '00000000-0000-0000-0000-000000000612', :cred_b, 'openai', 'gpt-4o'),
       (:'t0'::timestamptz + interval '2 minutes', '00000000-0000-0000-0000-000000000613', 999999, 'openai', 'gpt-4o');
SELECT * FROM aistudio.ingest_staged();
RESET ROLE;
SELECT * FROM last_used;
-- an event stamped in the future (clock skew) stops at now()
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.used(14, :cred_b, 4200)));
SELECT extract(epoch FROM last_used_at - :'t0'::timestamptz) > 590 AS moved, last_used_at <= now() AS not_in_future
  FROM aistudio.credentials WHERE id = :cred_b;
UNLISTEN aistudio_config;
SELECT count(*) - :audit_rows AS new_audit_rows FROM aistudio.audit_log;

-- Inconsistent usage from an upstream never loses the request: the event is
-- stored with its counts clamped to the vendor's token semantics (negative
-- -> 0; OpenAI counts cached reads inside the prompt, so they are at most
-- the prompt; Anthropic reports them apart), priced from the clamped counts,
-- flagged in error (appended to the gateway's own text), and counted in the
-- rollups and in the spend that budgets read.
SELECT aistudio.create_app('app-c', :owner, ARRAY[:gpt, :claude]::bigint[], monthly_budget => 100) AS app_c \gset
SELECT spent AS spent_before FROM aistudio.budget_status(:app_c) \gset
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000701',
     'app_id', :app_c, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', 500, 'response_tokens', 100, 'cache_read_tokens', 900, 'status_code', 200),
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000702',
     'app_id', :app_c, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', -7, 'response_tokens', 1000000, 'cache_write_tokens', -1, 'cache_read_tokens', -2,
     'status_code', 502, 'error', 'upstream_incomplete: the upstream stream ended early'),
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000703',
     'app_id', :app_c, 'llm_id', :claude, 'vendor', 'anthropic', 'model_name', 'claude-sonnet-4',
     'prompt_tokens', 10, 'response_tokens', -4, 'cache_read_tokens', 20, 'status_code', 200),
  jsonb_build_object('timestamp', now(), 'request_id', '00000000-0000-0000-0000-000000000704',
     'vendor', 'unknown', 'prompt_tokens', -1, 'status_code', 404, 'error', '')
));
SELECT request_id, prompt_tokens, response_tokens, total_tokens, cache_write_tokens, cache_read_tokens,
       cost, priced, error
  FROM aistudio.llm_interactions WHERE request_id::text LIKE '%00070_' ORDER BY request_id;
SELECT count(*) AS rejected FROM aistudio.ingest_rejects WHERE request_id::text LIKE '%00070_';
-- the cost is that of the clamped counts
SELECT aistudio.cost('openai', 'gpt-4o', 500, 100, 0, 500) AS clamped_cost_701,
       aistudio.cost('openai', 'gpt-4o', 0, 1000000) AS clamped_cost_702;
-- spend seen by the budget before and after the rollup
SELECT spent - :spent_before AS new_spend FROM aistudio.budget_status(:app_c);
SELECT aistudio.rollup_now() > 0 AS folded;
SELECT spent - :spent_before AS new_spend FROM aistudio.budget_status(:app_c);
SELECT sum(requests) AS requests, sum(prompt_tokens) AS prompt, sum(cache_read_tokens) AS cache_read,
       sum(cost) AS cost
  FROM aistudio.usage_daily WHERE app_id = :app_c;
-- a replay stores nothing twice
SELECT * FROM aistudio.ingest_events(jsonb_build_array(
  jsonb_build_object('timestamp', (SELECT "timestamp" FROM aistudio.llm_interactions
                                    WHERE request_id = '00000000-0000-0000-0000-000000000701'),
     'request_id', '00000000-0000-0000-0000-000000000701',
     'app_id', :app_c, 'llm_id', :gpt, 'vendor', 'openai', 'model_name', 'gpt-4o',
     'prompt_tokens', 500, 'response_tokens', 100, 'cache_read_tokens', 900, 'status_code', 200)));
-- the rule itself, per vendor (NULL note: nothing clamped)
SELECT v, (aistudio.clamp_usage(v, 5, 1, 2, 9)).*
  FROM unnest(ARRAY['openai', 'anthropic', 'vertex', 'google_ai', 'huggingface', 'ollama', 'unknown', NULL]) v;
SELECT (aistudio.clamp_usage('openai', NULL, NULL, NULL, NULL)).*;
