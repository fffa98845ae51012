-- requests: the request log (list_requests, get_request): filters, keyset
-- paging with equal timestamps, who sees what, bad input, the indexes.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('admin@example.com', 'Admin', NULL, 'admin') AS admin_id \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', NULL, 'developer') AS dev_id \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', NULL, 'developer') AS dev2_id \gset
SELECT aistudio.create_user('chat@example.com', 'Chat', NULL, 'chat_user') AS chat_id \gset
SELECT aistudio.create_llm('OpenAI', 'openai', 'https://api.openai.com', 'k') AS l1 \gset
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com', 'k') AS l2 \gset
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10);
SELECT aistudio.create_app('bot-a', :dev_id, ARRAY[:l1]::bigint[]) AS a1 \gset
SELECT aistudio.create_app('bot-a2', :dev_id, ARRAY[:l1]::bigint[]) AS a3 \gset
SELECT aistudio.create_app('bot-b', :dev2_id, ARRAY[:l2]::bigint[]) AS a2 \gset

-- 60 events over three instants (20 share each timestamp), across three
-- apps, plus chat rows of two users and errors
SELECT sum(inserted) FROM aistudio.ingest_events((
	SELECT jsonb_agg(jsonb_build_object(
		'timestamp', (date_trunc('hour', now()) - interval '1 hour' - (g % 3) * interval '1 minute'),
		'request_id', md5('req' || g)::uuid,
		'app_id', CASE g % 3 WHEN 0 THEN :a1 WHEN 1 THEN :a2 ELSE :a3 END,
		'user_id', :dev_id,
		'llm_id', CASE g % 3 WHEN 1 THEN :l2 ELSE :l1 END,
		'vendor', CASE g % 3 WHEN 1 THEN 'anthropic' ELSE 'openai' END,
		'model_name', CASE g % 3 WHEN 1 THEN 'claude-3-5-sonnet' ELSE 'gpt-4o' END,
		'prompt_tokens', 1000, 'response_tokens', 100, 'latency_ms', 100 + g,
		'status_code', CASE WHEN g % 10 = 0 THEN 502 WHEN g % 10 = 5 THEN 429 ELSE 200 END,
		'error', CASE WHEN g % 10 = 0 THEN 'upstream_error: bad gateway ' || g
		              WHEN g % 10 = 5 THEN 'budget_exceeded: over' END,
		'edge_id', CASE WHEN g = 7 THEN 'edge-1' ELSE '' END,
		'namespace', CASE WHEN g = 7 THEN 'eu' ELSE '' END))
	  FROM generate_series(1, 60) g));
SELECT sum(inserted) FROM aistudio.ingest_events(jsonb_build_array(
	jsonb_build_object('timestamp', now() - interval '10 minutes', 'request_id', md5('chat-dev')::uuid,
		'user_id', :dev_id, 'llm_id', :l1, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'interaction_type', 'chat', 'status_code', 200),
	jsonb_build_object('timestamp', now() - interval '9 minutes', 'request_id', md5('chat-user')::uuid,
		'user_id', :chat_id, 'llm_id', :l1, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'interaction_type', 'chat', 'status_code', 200),
	jsonb_build_object('timestamp', now() - interval '8 minutes', 'request_id', md5('chat-dev2')::uuid,
		'user_id', :dev2_id, 'llm_id', :l2, 'vendor', 'anthropic', 'model_name', 'claude-3-5-sonnet',
		'interaction_type', 'chat', 'status_code', 200)));

-- the newest first; names joined; the error code is the part before ':'
SELECT request_id = md5('chat-dev2')::uuid AS newest, interaction_type, app_name, user_email, llm_name
  FROM aistudio.list_requests(limit_rows => 1);
SELECT count(*), count(DISTINCT request_id) FROM aistudio.list_requests(limit_rows => 1000);
SELECT error_code, status_code, count(*) FROM aistudio.list_requests(limit_rows => 1000)
 GROUP BY 1, 2 ORDER BY 1, 2;

-- keyset paging: every row exactly once, in the order of one big page,
-- although 20 rows share each timestamp
CREATE FUNCTION pg_temp.page_through(size int)
	RETURNS TABLE (rows bigint, distinct_rows bigint, pages int, out_of_order bigint)
	LANGUAGE plpgsql AS $$
DECLARE
	last_ts timestamptz;
	last_rid uuid;
	p int := 0;
	n int;
BEGIN
	CREATE TEMP TABLE pages (page int, pos int, ts timestamptz, rid uuid);
	LOOP
		p := p + 1;
		INSERT INTO pages
			SELECT p, row_number() OVER (), r."timestamp", r.request_id
			  FROM aistudio.list_requests(after_timestamp => last_ts, after_request_id => last_rid,
										  limit_rows => size) r;
		GET DIAGNOSTICS n = ROW_COUNT;
		EXIT WHEN n < size;
		SELECT ts, rid INTO last_ts, last_rid FROM pages WHERE page = p ORDER BY pos DESC LIMIT 1;
	END LOOP;
	RETURN QUERY
		SELECT count(*), count(DISTINCT g.rid), max(g.page),
			   (SELECT count(*)
				  FROM (SELECT g2.rid, row_number() OVER (ORDER BY g2.page, g2.pos) AS paged FROM pages g2) q
				  JOIN (SELECT r.request_id, row_number() OVER () AS whole
						  FROM aistudio.list_requests(limit_rows => 1000) r) w ON w.request_id = q.rid
				 WHERE q.paged <> w.whole)
		  FROM pages g;
	DROP TABLE pages;
END $$;
SELECT * FROM pg_temp.page_through(7);
SELECT * FROM pg_temp.page_through(1);

-- filters, alone and combined
SELECT count(*) FROM aistudio.list_requests(by_app => :a1, limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_llm => :l2, limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_user => :chat_id, limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_model => 'claude-3-5-sonnet', limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_status => 429, limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(only_errors => true, limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_error_code => 'upstream_error', limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_interaction_type => 'chat', limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(since => now() - interval '30 minutes', limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(until => now() - interval '30 minutes', limit_rows => 1000);
SELECT count(*) FROM aistudio.list_requests(by_app => :a1, by_status => 502, by_model => 'gpt-4o',
	since => now() - interval '1 day', until => now(), limit_rows => 1000);
SELECT request_id = md5('req7')::uuid AS found, edge_id, namespace, latency_ms, cost, priced
  FROM aistudio.list_requests(by_request_id => md5('req7')::uuid);

-- get_request: the detail of one request
SELECT request_id = md5('req10')::uuid AS found, status_code, error_code, error, app_name, llm_name, model_name,
	   prompt_tokens, response_tokens, total_tokens, cost, currency
  FROM aistudio.get_request(md5('req10')::uuid);
SELECT * FROM aistudio.get_request(md5('nope')::uuid);
SELECT * FROM aistudio.get_request(NULL);

-- who sees what: a developer sees their two apps and their own chat
SET pg_aistudio.acting_user = :'dev_id';
SELECT coalesce(app_name, 'chat of ' || user_email) AS what, count(*)
  FROM aistudio.list_requests(limit_rows => 1000) GROUP BY 1 ORDER BY 1;
-- and pages through them by keyset too
SELECT * FROM pg_temp.page_through(6);
-- another developer's app: filtered away, not an error; their request: not found
SELECT count(*) FROM aistudio.list_requests(by_app => :a2, limit_rows => 1000);
SELECT * FROM aistudio.get_request(md5('req1')::uuid);
SELECT status_code FROM aistudio.get_request(md5('req3')::uuid);
-- a chat user sees only their own chat
SET pg_aistudio.acting_user = :'chat_id';
SELECT request_id = md5('chat-user')::uuid AS own, interaction_type FROM aistudio.list_requests();
SELECT * FROM aistudio.get_request(md5('chat-dev')::uuid);
-- admins see all
SET pg_aistudio.acting_user = :'admin_id';
SELECT count(*) FROM aistudio.list_requests(limit_rows => 1000);
RESET pg_aistudio.acting_user;

-- bad input
SELECT * FROM aistudio.list_requests(limit_rows => 0);
SELECT * FROM aistudio.list_requests(limit_rows => 100001);
SELECT * FROM aistudio.list_requests(after_timestamp => now());
SELECT * FROM aistudio.list_requests(since => now(), until => now() - interval '1 day');
SELECT * FROM aistudio.list_requests(by_interaction_type => 'batch');
-- filters are values, never SQL
SELECT count(*) FROM aistudio.list_requests(by_model => $$x' OR true --$$);

-- the cursor text is exact to the microsecond and in UTC whatever the session's zone
SET TimeZone = 'America/New_York';
SELECT aistudio.request_cursor('2025-03-01 12:00:00.000001+00', '01950000-0000-7000-8000-000000000001');
RESET TimeZone;

-- a filtered page walks an index per partition (no sort of the matching rows)
CREATE FUNCTION pg_temp.plan_shape(q text) RETURNS TABLE (node text, index_name text)
	LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || q INTO plan;
	RETURN QUERY
		WITH RECURSIVE n(x) AS (SELECT plan -> 0 -> 'Plan'
								UNION ALL SELECT c FROM n, json_array_elements(n.x -> 'Plans') c)
		SELECT DISTINCT x ->> 'Node Type', regexp_replace(x ->> 'Index Name', '_\d{6}_', '_YYYYMM_')
		  FROM n WHERE x ->> 'Index Name' IS NULL OR x ->> 'Index Name' NOT LIKE '%default%'
		 ORDER BY 1, 2;
END $$;
SET enable_seqscan = off;
SELECT * FROM pg_temp.plan_shape('SELECT * FROM aistudio.llm_interactions i WHERE i.app_id = 1'
	' ORDER BY i."timestamp" DESC, i.request_id DESC LIMIT 50');
SELECT * FROM pg_temp.plan_shape('SELECT * FROM aistudio.llm_interactions i WHERE i.status_code = 429'
	' AND (i."timestamp", i.request_id) < (now(), ''01950000-0000-7000-8000-000000000001'')'
	' ORDER BY i."timestamp" DESC, i.request_id DESC LIMIT 50');
-- app and status together: the index on both, not a walk of either one's
SELECT * FROM pg_temp.plan_shape('SELECT * FROM aistudio.llm_interactions i WHERE i.app_id = 1'
	' AND i.status_code = 429 AND i.model_name = ''gpt-4o'''
	' ORDER BY i."timestamp" DESC, i.request_id DESC LIMIT 50');
RESET enable_seqscan;

-- every monthly partition has the indexes of the default partition
SELECT count(*) AS partitions_with_other_indexes
  FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
 WHERE h.inhparent = 'aistudio.llm_interactions'::regclass
   AND ARRAY(SELECT regexp_replace(pg_get_indexdef(x.indexrelid), c.relname, 'P', 'g')
			   FROM pg_index x WHERE x.indrelid = c.oid ORDER BY 1)
	   <> ARRAY(SELECT regexp_replace(pg_get_indexdef(x.indexrelid), 'llm_interactions_default', 'P', 'g')
				  FROM pg_index x WHERE x.indrelid = 'aistudio.llm_interactions_default'::regclass ORDER BY 1);
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'aistudio.llm_interactions_default'::regclass;

-- a month's partition created now gets the app + status index too
SELECT aistudio.ensure_interaction_partitions(ARRAY['2031-05-15 12:00:00+00'::timestamptz]) AS created;
SELECT regexp_replace(pg_get_indexdef(x.indexrelid), '.* USING ', '') AS app_status_index
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
 WHERE x.indrelid = 'aistudio.llm_interactions_203105'::regclass
   AND i.relname = 'llm_interactions_203105_app_status_ts_idx';
DROP TABLE aistudio.llm_interactions_203105;
