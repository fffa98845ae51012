-- request_bodies: the LLM's capture settings, bodies ingested with their
-- event (idempotent), who sees them (get_request only, never list_requests),
-- bad input, and the retention purge.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('admin@example.com', 'Admin', NULL, 'admin') AS admin_id \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', NULL, 'developer') AS dev_id \gset
SELECT aistudio.create_user('dev2@example.com', 'Dev Two', NULL, 'developer') AS dev2_id \gset
SELECT aistudio.create_user('chat@example.com', 'Chat', NULL, 'chat_user') AS chat_id \gset

-- capture settings: off by default, the cap NULL (16384), set and checked
SELECT aistudio.create_llm('OpenAI', 'openai', 'https://api.openai.com', 'k') AS l1 \gset
SELECT aistudio.create_llm('Capturing', 'openai', 'https://api.openai.com', 'k',
                           capture_bodies => true, capture_max_bytes => 512) AS l2 \gset
SELECT name, capture_bodies, capture_max_bytes FROM aistudio.get_llm(:l1);
SELECT name, capture_bodies, capture_max_bytes FROM aistudio.list_llms() ORDER BY id;
SELECT aistudio.update_llm(:l1, capture_bodies => true);
SELECT aistudio.update_llm(:l1, capture_max_bytes => 1048576);
SELECT capture_bodies, capture_max_bytes FROM aistudio.get_llm(:l1);
SELECT aistudio.update_llm(:l1, capture_bodies => false);   -- the cap stays
SELECT capture_bodies, capture_max_bytes FROM aistudio.get_llm(:l1);
SELECT aistudio.update_llm(:l1, capture_max_bytes => 255);
SELECT aistudio.update_llm(:l1, capture_max_bytes => 1048577);
SELECT aistudio.create_llm('Bad', 'openai', 'https://api.openai.com', 'k', capture_max_bytes => 0);
-- the snapshot carries them (decoded by the gateway; here: the row is read)
SELECT l.capture_bodies, coalesce(l.capture_max_bytes, 16384) FROM aistudio.llms l ORDER BY l.id;

SELECT aistudio.create_app('bot-a', :dev_id, ARRAY[:l2]::bigint[]) AS a1 \gset
SELECT aistudio.create_app('bot-b', :dev2_id, ARRAY[:l2]::bigint[]) AS a2 \gset

-- events with bodies (one with none), then the same batch again (replay)
CREATE TEMP TABLE batch AS SELECT jsonb_build_array(
	jsonb_build_object('timestamp', now() - interval '1 minute', 'request_id', md5('b1')::uuid,
		'app_id', :a1, 'user_id', :dev_id, 'llm_id', :l2, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'status_code', 200, 'request_body', '{"messages":[{"role":"user","content":"[EMAIL]"}]}',
		'response_body', '{"choices":[]}', 'request_truncated', false, 'response_truncated', true),
	jsonb_build_object('timestamp', now() - interval '1 minute', 'request_id', md5('b2')::uuid,
		'app_id', :a2, 'user_id', :dev2_id, 'llm_id', :l2, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'status_code', 200, 'request_body', 'b2 request', 'response_body', NULL),
	jsonb_build_object('timestamp', now() - interval '1 minute', 'request_id', md5('b3')::uuid,
		'user_id', :chat_id, 'llm_id', :l2, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'interaction_type', 'chat', 'status_code', 200, 'request_body', 'chat request',
		'response_body', 'chat answer'),
	jsonb_build_object('timestamp', now() - interval '1 minute', 'request_id', md5('b4')::uuid,
		'app_id', :a1, 'user_id', :dev_id, 'llm_id', :l1, 'vendor', 'openai', 'model_name', 'gpt-4o',
		'status_code', 200)) AS events;
SELECT * FROM aistudio.ingest_events((SELECT events FROM batch));
SELECT * FROM aistudio.ingest_events((SELECT events FROM batch));
SELECT request_id = md5('b1')::uuid AS b1, request_body, response_body, request_truncated, response_truncated
  FROM aistudio.request_bodies ORDER BY request_body;
-- a rejected event stores no body
SELECT rejected FROM aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
	'timestamp', now(), 'request_id', md5('b5')::uuid, 'vendor', 'nosuch', 'request_body', 'x')));
SELECT count(*) FROM aistudio.request_bodies WHERE request_id = md5('b5')::uuid;

-- who sees the bodies: the admin every one; the app's owner theirs; the
-- chat user their chat; list_requests has no bodies
SET pg_aistudio.acting_user = :'admin_id';
SELECT request_id = md5('b1')::uuid AS b1, request_body IS NOT NULL AS req, response_body IS NOT NULL AS resp,
       response_truncated
  FROM aistudio.get_request(md5('b1')::uuid);
SELECT request_body FROM aistudio.get_request(md5('b4')::uuid);
SELECT count(*) FILTER (WHERE attname LIKE '%body%') AS body_columns
  FROM pg_attribute WHERE attrelid = 'aistudio.request_row'::regclass AND attnum > 0;
-- get_request's detail is request_row's columns, same names and types in
-- the same order, then the four body columns
SELECT (SELECT array_agg(attname || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum)
		  FROM pg_attribute WHERE attrelid = 'aistudio.request_row'::regclass AND attnum > 0)
	   || ARRAY['request_body text', 'response_body text', 'request_truncated boolean',
				'response_truncated boolean']
	   = (SELECT array_agg(attname || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum)
			FROM pg_attribute WHERE attrelid = 'aistudio.request_detail'::regclass AND attnum > 0)
	   AS detail_is_row_and_bodies;
SET pg_aistudio.acting_user = :'dev_id';
SELECT request_body FROM aistudio.get_request(md5('b1')::uuid);
SELECT request_body FROM aistudio.get_request(md5('b2')::uuid);   -- not theirs: not found
SET pg_aistudio.acting_user = :'dev2_id';
SELECT request_body FROM aistudio.get_request(md5('b2')::uuid);
SET pg_aistudio.acting_user = :'chat_id';
SELECT request_body, response_body FROM aistudio.get_request(md5('b3')::uuid);
RESET pg_aistudio.acting_user;
-- a DBA (the superuser acting as itself) sees the row, not the bodies
SELECT aistudio.acting_role() AS role, request_body IS NULL AS hidden FROM aistudio.get_request(md5('b3')::uuid);

-- retention: nothing is old enough at 7 days; an aged row goes; 0 keeps none;
-- batches; bad input
SELECT aistudio.purge_request_bodies();
UPDATE aistudio.request_bodies SET "timestamp" = now() - interval '8 days' WHERE request_id = md5('b1')::uuid;
SELECT aistudio.purge_request_bodies();
SELECT count(*) FROM aistudio.request_bodies WHERE request_id = md5('b1')::uuid;
SET pg_aistudio.body_retention_days = 0;
SELECT aistudio.purge_request_bodies(1);
SELECT aistudio.purge_request_bodies(10);
SELECT count(*) FROM aistudio.request_bodies;
RESET pg_aistudio.body_retention_days;
SELECT aistudio.purge_request_bodies(0);
SET pg_aistudio.body_retention_days = -1;
-- the gateway may not purge nor read the table
SELECT has_function_privilege('aistudio_gateway', 'aistudio.purge_request_bodies(integer)', 'EXECUTE') AS gw_purge,
       has_table_privilege('aistudio_gateway', 'aistudio.request_bodies', 'SELECT') AS gw_select,
       has_function_privilege('public', 'aistudio.purge_request_bodies(integer)', 'EXECUTE') AS public_purge;
