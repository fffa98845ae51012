-- sync: hub and edge (SECTION sync).  Enrolment and edge keys, the
-- authentication of edges (tokens, the shared token, revocation, the rate
-- limit, the audit), connections and heartbeats, status (unknown, in_sync,
-- pending, stale; connected), pushes and their progress, credentials for
-- edges, analytics from edges, budget leases (and the invariant: what edges
-- hold never exceeds what remains, under many random operations), the
-- edge-side store (snapshot, credential cache, outbox, leases), RBAC.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('root@example.com', 'Root', NULL, 'super_admin');   -- 1
SELECT aistudio.create_user('ada@example.com', 'Ada', NULL, 'admin');           -- 2
SELECT aistudio.create_user('dev@example.com', 'Dev', NULL, 'developer');       -- 3
SELECT aistudio.create_user('chat@example.com', 'Chat', NULL, 'chat_user');     -- 4
SELECT aistudio.create_namespace('eu', 'Europe');
SELECT aistudio.create_namespace('us', 'America');
-- cost of gpt-4o: one millionth per prompt token (10^3 nanos)
SELECT aistudio.set_model_price('openai', 'gpt-4o', 1, 0);
SELECT aistudio.create_llm('Global GPT', 'openai', 'https://api.openai.com/v1', api_key => 'sk-global-literal'); -- 1
SELECT aistudio.create_llm('EU GPT', 'openai', 'https://api.openai.com/v1', namespace => 'eu');                -- 2
SELECT aistudio.create_llm('US GPT', 'openai', 'https://api.openai.com/v1', namespace => 'us');                -- 3
SELECT aistudio.create_app('global-app', 3, ARRAY[1]::bigint[], monthly_budget => 1);                  -- 1
SELECT aistudio.create_app('eu-app', 3, ARRAY[1, 2, 3]::bigint[], monthly_budget => 2, namespace => 'eu'); -- 2
SELECT aistudio.create_app('us-app', 3, ARRAY[3]::bigint[], namespace => 'us');                       -- 3
SELECT aistudio.issue_credential(1) AS key_global \gset
SELECT aistudio.issue_credential(2) AS key_eu \gset
SELECT aistudio.issue_credential(3) AS key_us \gset
CREATE FUNCTION pg_temp.h(t text) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT encode(sha256(convert_to(t, 'UTF8')), 'hex') $$;
-- one timestamp for the events of the script, so that a replay is one
SELECT set_config('regress.t0', now()::text, false) IS NOT NULL AS t0;

--
-- Enrolment: a token shown once ('aie_' + 43 base64url characters), its
-- SHA-256 stored, the edge key HKDF(token, edge id) sealed under the master
-- key for 'edge:<id>'.
--
SELECT aistudio.enroll_edge('edge-eu-1', 'eu') AS tok_eu1 \gset
SELECT aistudio.enroll_edge('edge-eu-2', 'eu') AS tok_eu2 \gset
SELECT aistudio.enroll_edge('edge-us-1', 'us') AS tok_us1 \gset
SELECT :'tok_eu1' ~ '^aie_[A-Za-z0-9_-]{43}$' AS token_format, :'tok_eu1' <> :'tok_eu2' AS distinct_tokens;
SELECT edge_id, namespace, token_sha256 = pg_temp.h(:'tok_eu1') AS hash_stored, enrolled_at IS NOT NULL AS enrolled,
       aistudio.open_bytes('edge:' || edge_id, edge_key_id, edge_key_nonce, edge_key_cipher)
         = aistudio.derive_edge_key(:'tok_eu1', 'edge-eu-1') AS key_is_hkdf_of_token
  FROM aistudio.edges WHERE edge_id = 'edge-eu-1';
-- the key is bound to its edge: it does not open as another edge's
SELECT pg_temp.err($$SELECT aistudio.open_bytes('edge:edge-eu-2', edge_key_id, edge_key_nonce, edge_key_cipher)
                      FROM aistudio.edges WHERE edge_id = 'edge-eu-1'$$);
-- the derivation, checked against HKDF-SHA256 computed with python3's hmac
SELECT encode(aistudio.derive_edge_key('aie_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG', 'edge-eu-1'), 'hex') AS hkdf;
-- neither the token nor its hash reaches the audit log or the sync trail
SELECT count(*) AS leaks FROM aistudio.audit_log
 WHERE strpos(changes::text, :'tok_eu1') > 0 OR strpos(changes::text, pg_temp.h(:'tok_eu1')) > 0;
SELECT count(*) AS leaks FROM aistudio.edge_events
 WHERE strpos(detail::text, :'tok_eu1') > 0 OR strpos(detail::text, pg_temp.h(:'tok_eu1')) > 0;
SELECT changes ->> 'token_sha256' AS token_sha256, changes ->> 'edge_key_cipher' AS edge_key
  FROM aistudio.audit_log WHERE object_type = 'edges' AND object_id = '1' AND action = 'insert';
-- bad input
SELECT pg_temp.err($$SELECT aistudio.enroll_edge('edge one', 'eu')$$);
SELECT pg_temp.err($$SELECT aistudio.enroll_edge('edge-mars', 'mars')$$);
SELECT pg_temp.err($$SELECT aistudio.enroll_edge(NULL)$$);
SELECT count(*) AS edges FROM aistudio.edges;

--
-- Authentication: the hub passes the token's SHA-256, never the token.
--
SELECT * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.1');
SELECT 'wrong token' AS "case", * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', pg_temp.h(:'tok_eu2'), false, '10.0.0.1')
UNION ALL SELECT 'another edge''s token', * FROM aistudio.edge_authenticate('edge-eu-2', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.1')
UNION ALL SELECT 'wrong namespace', * FROM aistudio.edge_authenticate('edge-eu-1', 'us', pg_temp.h(:'tok_eu1'), false, '10.0.0.1')
UNION ALL SELECT 'unknown edge', * FROM aistudio.edge_authenticate('edge-xx-1', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.2')
UNION ALL SELECT 'malformed hash', * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', 'ABC', false, '10.0.0.2')
UNION ALL SELECT 'the token itself', * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', :'tok_eu1', false, '10.0.0.2')
UNION ALL SELECT 'invalid edge id', * FROM aistudio.edge_authenticate(E'edge\n1', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.3');
SELECT pg_temp.err($$SELECT aistudio.edge_authenticate('edge-eu-1', NULL, 'x', false)$$);
-- every refusal is audited (edge id, peer, reason; never a token) and in the trail
SELECT action, object_type, object_id, changes FROM aistudio.audit_log WHERE action = 'edge_auth_failed' ORDER BY id;
SELECT edge_id, namespace, event, detail ->> 'reason' AS reason FROM aistudio.edge_events
 WHERE event = 'auth_failed' ORDER BY id;
SELECT count(*) AS leaks FROM aistudio.audit_log WHERE strpos(changes::text, :'tok_eu1') > 0;
-- the shared token: a new edge id is registered in its namespace; a known
-- one must be in that namespace
SELECT * FROM aistudio.edge_authenticate('edge-shared-1', 'eu', NULL, true, '10.0.0.4');
SELECT edge_id, namespace, token_sha256 IS NULL AS no_token FROM aistudio.edges WHERE edge_id = 'edge-shared-1';
SELECT * FROM aistudio.edge_authenticate('edge-shared-1', 'eu', NULL, true, '10.0.0.4');
SELECT * FROM aistudio.edge_authenticate('edge-shared-1', 'us', NULL, true, '10.0.0.4');
SELECT * FROM aistudio.edge_authenticate('edge-shared-2', 'mars', NULL, true, '10.0.0.4');
SELECT * FROM aistudio.edge_authenticate('edge-us-1', 'us', NULL, true, '10.0.0.4');  -- enrolled edges may use it too
-- an edge registered without a token cannot use one
SELECT * FROM aistudio.edge_authenticate('edge-shared-1', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.4');
-- pg_aistudio.edge_shared_token = off: only enrolled tokens
SET pg_aistudio.edge_shared_token = off;
SELECT * FROM aistudio.edge_authenticate('edge-shared-1', 'eu', NULL, true, '10.0.0.4');
SELECT * FROM aistudio.edge_authenticate('edge-shared-3', 'eu', NULL, true, '10.0.0.4');
SELECT * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.4');
RESET pg_aistudio.edge_shared_token;
SELECT count(*) AS shared_3 FROM aistudio.edges WHERE edge_id = 'edge-shared-3';

-- the edge key: enrolled edges only
SELECT e.edge_id, k.key_id = e.edge_key_id AS sealed_key
  FROM aistudio.edges e CROSS JOIN LATERAL aistudio.edge_key(e.edge_id) k ORDER BY 1;
SELECT count(*) AS rows FROM aistudio.edge_key('edge-shared-1');
SELECT count(*) AS rows FROM aistudio.edge_key('edge-nope');

-- re-enrolling replaces the token: the old one is refused, the new one works
SELECT aistudio.enroll_edge('edge-eu-2', 'eu') AS tok_eu2_new \gset
SELECT (SELECT ok FROM aistudio.edge_authenticate('edge-eu-2', 'eu', pg_temp.h(:'tok_eu2'), false, '10.0.0.5')) AS old_token,
       (SELECT ok FROM aistudio.edge_authenticate('edge-eu-2', 'eu', pg_temp.h(:'tok_eu2_new'), false, '10.0.0.5')) AS new_token;

-- revocation: every token is refused, the shared one too; the key is gone
SELECT aistudio.enroll_edge('edge-doomed', 'us') AS tok_doomed \gset
SELECT aistudio.revoke_edge('edge-doomed');
SELECT aistudio.revoke_edge('edge-doomed');  -- idempotent
SELECT * FROM aistudio.edge_authenticate('edge-doomed', 'us', pg_temp.h(:'tok_doomed'), false, '10.0.0.6');
SELECT * FROM aistudio.edge_authenticate('edge-doomed', 'us', NULL, true, '10.0.0.6');
SELECT count(*) AS key_rows FROM aistudio.edge_key('edge-doomed');
SELECT pg_temp.err($$SELECT aistudio.revoke_edge('edge-nope')$$);
SELECT event FROM aistudio.edge_events WHERE edge_id = 'edge-doomed' ORDER BY id;

-- the rate limit: after 10 refusals of an edge id within a minute its
-- calls are refused unchecked (the right token too), with a retry-after
SELECT count(*) FILTER (WHERE NOT ok) AS refused
  FROM generate_series(1, 10) g,
       LATERAL aistudio.edge_authenticate('edge-us-1', 'us', repeat('0', 64), false, 'peer-' || g) a;
SELECT ok, reason, retry_after_s BETWEEN 1 AND 60 AS retry_after
  FROM aistudio.edge_authenticate('edge-us-1', 'us', pg_temp.h(:'tok_us1'), false, '10.0.0.9');
-- and after 10 refusals from one peer, whatever edge id it tries
SELECT count(*) FILTER (WHERE NOT ok) AS refused
  FROM generate_series(1, 10) g,
       LATERAL aistudio.edge_authenticate('probe-' || g, '', repeat('0', 64), false, '192.0.2.66') a;
SELECT ok, reason, retry_after_s > 0 AS retry_after
  FROM aistudio.edge_authenticate('edge-eu-1', 'eu', pg_temp.h(:'tok_eu1'), false, '192.0.2.66');
SELECT ok FROM aistudio.edge_authenticate('edge-eu-1', 'eu', pg_temp.h(:'tok_eu1'), false, '10.0.0.10');
-- (rate-limited calls are not counted again)
SELECT count(*) AS failures_of_peer FROM aistudio.edge_auth_failures WHERE peer = '192.0.2.66';
-- a minute later the edge id is checked again
UPDATE aistudio.edge_auth_failures SET at = at - interval '61 seconds' WHERE edge_id = 'edge-us-1';
SELECT ok FROM aistudio.edge_authenticate('edge-us-1', 'us', pg_temp.h(:'tok_us1'), false, '10.0.0.9');

--
-- Connections: register, heartbeats, status.
--
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-nope', 'eu', '1.0', '', 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-doomed', 'us', '1.0', '', 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-eu-1', 'us', '1.0', '', 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-eu-1', 'eu', '1.0', 'xyz', 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-eu-1', 'eu', '1.0', '', '')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-eu-1', 'eu', '1.0', '', 'hub-a', 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_register('edge-eu-1', 'eu', repeat('v', 129), '', 'hub-a')$$);
-- unknown until an edge reports a checksum
SELECT edge_id, status, connected FROM aistudio.list_edges(by_namespace => 'eu');
SELECT expected_checksum = aistudio.snapshot_checksum('eu') AS expected, heartbeat_interval_s
  FROM aistudio.edge_register('edge-eu-1', 'eu', '1.0.0', '', 'hub-a');
SELECT expected_checksum = aistudio.snapshot_checksum('eu') AS expected, heartbeat_interval_s
  FROM aistudio.edge_register('edge-eu-2', 'eu', '1.0.0', repeat('a', 64), 'hub-b');
SELECT heartbeat_interval_s FROM aistudio.edge_register('edge-us-1', 'us', '1.0.0', '', 'hub-a', 3600);
SELECT edge_id, status, connected, hub_id, pending_since IS NOT NULL AS pending_since, token_enrolled, revoked
  FROM aistudio.list_edges() ORDER BY edge_id;
-- heartbeats, one call for many edges: one row per distinct edge id
-- (the last element counts); NULL expected = unknown or revoked
SELECT edge_id, expected_checksum IS NOT NULL AS known, in_sync
  FROM aistudio.edge_heartbeats(
         ARRAY['edge-eu-1', 'edge-us-1', 'edge-nope', 'edge-doomed', 'edge-eu-1'],
         ARRAY[repeat('b', 64), aistudio.snapshot_checksum('us'), '', '', aistudio.snapshot_checksum('eu')],
         ARRAY['1.0.1', '1.0.1', '', '', '1.0.2'],
         ARRAY['"not an object"'::jsonb,
               '{"requests": 10, "errors": 1, "p50_ms": 12.5, "p99_ms": 80, "prompt_tokens": 500,
                 "response_tokens": 70, "since_ms": 2000, "secret": "x", "huge": 1e300}'::jsonb,
               NULL, NULL, '{"requests": 11, "errors": -1, "p50_ms": "fast"}'::jsonb],
         'hub-a');
SELECT edge_id, version, status, connected, hub_id, last_metrics FROM aistudio.list_edges() ORDER BY edge_id;
SELECT requests, errors, p50_ms FROM aistudio.edge_metrics('edge-eu-1');
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY['ABC'], ARRAY[''], ARRAY[NULL::jsonb], 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY[''], ARRAY[E'1\n2'], ARRAY[NULL::jsonb], 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY['', ''], ARRAY[''], ARRAY[NULL::jsonb], 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_heartbeats(NULL, NULL, NULL, NULL, 'hub-a')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY[''], ARRAY[''], ARRAY[NULL::jsonb], NULL)$$);
SELECT pg_temp.err(format($$SELECT * FROM aistudio.edge_heartbeats(%L, %L, %L, %L, 'hub-a')$$,
                          array_fill('e'::text, ARRAY[10001]), array_fill(''::text, ARRAY[10001]),
                          array_fill(''::text, ARRAY[10001]), array_fill(NULL::jsonb, ARRAY[10001])));
-- the metrics of the last 60 heartbeats are kept, oldest first
SELECT count(*) AS beats
  FROM generate_series(1, 65) g,
       LATERAL aistudio.edge_heartbeats(ARRAY['edge-us-1'], ARRAY[aistudio.snapshot_checksum('us')], ARRAY['1.0.1'],
                                        ARRAY[jsonb_build_object('requests', g)], 'hub-a');
SELECT count(*) AS kept, min(requests) AS oldest, max(requests) AS newest FROM aistudio.edge_metrics('edge-us-1');
SELECT count(*) AS slots FROM aistudio.edge_metrics WHERE edge_id = 'edge-us-1';
SELECT requests FROM aistudio.edge_metrics('edge-us-1', 3);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_metrics('edge-us-1', 61)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_metrics('edge-nope')$$);

-- a configuration change the checksum covers turns the edges that ran the
-- previous snapshot pending (and is in the trail); one it does not cover
-- (an app) changes nothing
SELECT aistudio.update_app(2, description => 'apps are not in the checksum');
SELECT edge_id, status FROM aistudio.list_edges(by_namespace => 'eu');
SELECT aistudio.update_llm(2, default_model => 'gpt-4o');
SELECT edge_id, status, pending_since IS NOT NULL AS pending_since FROM aistudio.list_edges(by_namespace => 'eu');
SELECT event, edge_id, namespace FROM aistudio.edge_events WHERE event IN ('config_changed', 'out_of_sync')
 ORDER BY id DESC LIMIT 3;
-- a global change reaches every namespace's edges
SELECT aistudio.set_model_price('openai', 'gpt-4o-mini', 0.15, 0.6) > 0 AS price;
SELECT edge_id, status FROM aistudio.list_edges() ORDER BY edge_id;
SELECT namespace, count(*) AS changes FROM aistudio.edge_events WHERE event = 'config_changed' GROUP BY 1 ORDER BY 1;
-- stale: pending for longer than pg_aistudio.edge_stale_after; the sweep
-- records it once, at the moment the edge became stale
SET pg_aistudio.edge_stale_after = '10min';
UPDATE aistudio.edges SET pending_since = now() - interval '11 minutes' WHERE edge_id = 'edge-eu-1';
SELECT edge_id, status FROM aistudio.list_edges(by_namespace => 'eu');
SELECT count(*) AS stale FROM aistudio.list_edges(by_status => 'stale');
SELECT aistudio.edge_sweep() AS recorded;
SELECT aistudio.edge_sweep() AS recorded_again;
SELECT edge_id, at = (detail ->> 'pending_since')::timestamptz + interval '10 minutes' AS at_the_moment
  FROM aistudio.edge_events WHERE event = 'stale';
RESET pg_aistudio.edge_stale_after;
SELECT edge_id, status FROM aistudio.list_edges(by_namespace => 'eu');
-- an edge that reports the expected checksum is in sync again
SELECT in_sync FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY[aistudio.snapshot_checksum('eu')],
                                             ARRAY['1.0.2'], ARRAY[NULL::jsonb], 'hub-a');
SELECT edge_id, status, pending_since FROM aistudio.get_edge('edge-eu-1');

-- connection: three missed heartbeats end it (the sweep records when);
-- a stream end counts only from the hub that holds the edge
UPDATE aistudio.edges SET last_heartbeat = now() - interval '91 seconds', connected_at = now() - interval '1 hour'
 WHERE edge_id = 'edge-eu-1';
SELECT edge_id, connected FROM aistudio.get_edge('edge-eu-1');
SELECT aistudio.edge_sweep() AS recorded;
SELECT v.event, v.detail, v.at = e.last_heartbeat + interval '90 seconds' AS at_the_moment
  FROM aistudio.edge_events v JOIN aistudio.edges e USING (edge_id)
 WHERE v.edge_id = 'edge-eu-1' ORDER BY v.id DESC LIMIT 1;
SELECT aistudio.edge_disconnected('edge-eu-2', 'hub-a');  -- hub-b holds it
SELECT edge_id, connected, hub_id FROM aistudio.get_edge('edge-eu-2');
SELECT aistudio.edge_disconnected('edge-eu-2', 'hub-b');
SELECT edge_id, connected, hub_id FROM aistudio.get_edge('edge-eu-2');
-- a heartbeat reconnects
SELECT in_sync FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY[aistudio.snapshot_checksum('eu')],
                                             ARRAY['1.0.2'], ARRAY[NULL::jsonb], 'hub-a');
SELECT edge_id, connected FROM aistudio.get_edge('edge-eu-1');
SELECT event, detail ->> 'reason' AS reason FROM aistudio.edge_events WHERE edge_id = 'edge-eu-1' ORDER BY id DESC LIMIT 1;

-- every edge of a namespace reports the same checksum: sealed values (each
-- edge gets them sealed under its own key) are not part of it.  Re-sealing
-- the literal key changes the snapshot's bytes, not its checksum.
SELECT aistudio.snapshot('') AS snap_before \gset
UPDATE aistudio.llms l SET (api_key_key_id, api_key_nonce, api_key_cipher) =
       (SELECT r.key_id, r.nonce, r.ciphertext
          FROM aistudio.reseal_value('llm:' || l.id, l.api_key_key_id, l.api_key_nonce, l.api_key_cipher) r)
 WHERE l.id = 1;
SELECT aistudio.snapshot('') <> :'snap_before'::bytea AS bytes_differ,
       aistudio.snapshot_checksum_of(aistudio.snapshot('')) = aistudio.snapshot_checksum_of(:'snap_before'::bytea)
         AS same_checksum;

--
-- Pushes: to the connected edges of a namespace (NULL: all); each hub
-- signals its own; phases only move forward.
--
SELECT aistudio.push_config('eu') AS push_eu \gset
SELECT push_id, namespace, targets, signalled FROM aistudio.list_pushes();
SELECT edge_id, namespace, phase FROM aistudio.get_push(:push_eu);
SELECT edge_id, expected_checksum = aistudio.snapshot_checksum(namespace) AS expected
  FROM aistudio.push_targets(:push_eu, 'hub-a');
SELECT count(*) AS for_hub_b FROM aistudio.push_targets(:push_eu, 'hub-b');
SELECT aistudio.push_config() AS push_all \gset
SELECT edge_id, phase FROM aistudio.get_push(:push_all);
-- the edge pulls, then reports what it applied
UPDATE aistudio.edges SET loaded_checksum = repeat('c', 64), pending_since = now() WHERE edge_id = 'edge-us-1';
SELECT edge_id, status FROM aistudio.get_edge('edge-us-1');
SELECT aistudio.push_progress(:push_all, 'edge-us-1', 'pulling', NULL, NULL);
SELECT aistudio.push_progress(:push_all, 'edge-us-1', 'applied', aistudio.snapshot_checksum('us'), NULL);
SELECT edge_id, status FROM aistudio.get_edge('edge-us-1');
SELECT aistudio.push_progress(:push_all, 'edge-us-1', 'pulling', NULL, NULL);  -- late: ignored
SELECT aistudio.push_progress(:push_all, 'edge-eu-1', 'failed', NULL, repeat('x', 1500));
SELECT aistudio.push_progress(:push_all, 'edge-eu-1', 'applied', aistudio.snapshot_checksum('eu'), NULL);  -- final already
SELECT edge_id, phase, checksum IS NOT NULL AS checksum, length(reason) AS reason FROM aistudio.get_push(:push_all);
SELECT push_id, targets, signalled, pulling, applied, failed FROM aistudio.list_pushes() ORDER BY push_id;
SELECT event, detail ->> 'push_id' = :'push_all' AS this_push FROM aistudio.edge_events
 WHERE edge_id = 'edge-us-1' AND event IN ('push', 'ack') ORDER BY id;
SELECT pg_temp.err(format($$SELECT aistudio.push_progress(%s, 'edge-us-1', 'done', NULL, NULL)$$, :push_all));
SELECT pg_temp.err(format($$SELECT aistudio.push_progress(%s, 'edge-eu-2', 'applied', NULL, NULL)$$, :push_all));
SELECT pg_temp.err(format($$SELECT aistudio.push_progress(%s, 'edge-eu-2', 'applied', 'nope', NULL)$$, :push_all));
SELECT pg_temp.err(format($$SELECT aistudio.push_progress(%s, 'edge-eu-2', 'pulling', NULL, NULL)$$, :push_all));
SELECT pg_temp.err($$SELECT aistudio.push_progress(999, 'edge-us-1', 'pulling', NULL, NULL)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.get_push(999)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.push_targets(999, 'hub-a')$$);
SELECT pg_temp.err($$SELECT aistudio.push_config('mars')$$);
-- the deprecated mark_edges_pushed pushes and counts every edge of the namespace
SELECT aistudio.mark_edges_pushed('eu') AS marked;
SELECT targets FROM aistudio.list_pushes(limit_rows => 1);

--
-- Credentials for edges: by the key's SHA-256, only apps that are global
-- or of the edge's namespace; the LLM ids limited likewise.
--
SELECT 'eu edge, global app' AS "case", app_name, namespace, llm_ids, monthly_budget
  FROM aistudio.edge_resolve_credential('edge-eu-1', pg_temp.h(:'key_global'))
UNION ALL SELECT 'eu edge, eu app', app_name, namespace, llm_ids, monthly_budget
  FROM aistudio.edge_resolve_credential('edge-eu-1', pg_temp.h(:'key_eu'))
UNION ALL SELECT 'us edge, us app', app_name, namespace, llm_ids, monthly_budget
  FROM aistudio.edge_resolve_credential('edge-us-1', pg_temp.h(:'key_us'));
SELECT count(*) AS eu_app_on_us_edge FROM aistudio.edge_resolve_credential('edge-us-1', pg_temp.h(:'key_eu'));
SELECT count(*) AS us_app_on_eu_edge FROM aistudio.edge_resolve_credential('edge-eu-1', pg_temp.h(:'key_us'));
SELECT count(*) AS the_key_itself FROM aistudio.edge_resolve_credential('edge-eu-1', :'key_eu');
SELECT count(*) AS malformed FROM aistudio.edge_resolve_credential('edge-eu-1', 'xyz');
SELECT count(*) AS unknown FROM aistudio.edge_resolve_credential('edge-eu-1', repeat('0', 64));
-- the same rules as resolve_credential: an inactive app still resolves
-- (with its flag), a revoked key does not
SELECT aistudio.update_app(2, active => false);
SELECT app_active, owner_active FROM aistudio.edge_resolve_credential('edge-eu-1', pg_temp.h(:'key_eu'));
SELECT aistudio.update_app(2, active => true);
SELECT aistudio.revoke_credential(3);
SELECT count(*) AS revoked_key FROM aistudio.edge_resolve_credential('edge-us-1', pg_temp.h(:'key_us'));
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_resolve_credential('edge-nope', repeat('0', 64))$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_resolve_credential('edge-doomed', repeat('0', 64))$$);

--
-- Analytics from edges: idempotent by request_id, priced on the hub,
-- edge_id and namespace from the edge's row (never from the payload).
--
CREATE FUNCTION pg_temp.event(id int, app bigint, llm bigint, tokens bigint) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('timestamp', current_setting('regress.t0')::timestamptz,
	                          'request_id', format('00000000-0000-4000-8000-%s', lpad(id::text, 12, '0')),
	                          'app_id', app, 'llm_id', llm, 'vendor', 'openai', 'model_name', 'gpt-4o',
	                          'prompt_tokens', tokens, 'response_tokens', 0, 'status_code', 200,
	                          'edge_id', 'forged', 'namespace', 'us', 'cost', 99, 'currency', 'EUR')
$$;
SELECT * FROM aistudio.ingest_edge_events('edge-eu-1',
         jsonb_build_array(pg_temp.event(1, 2, 2, 100000), pg_temp.event(2, 1, 1, 50000)));
SELECT * FROM aistudio.ingest_edge_events('edge-eu-1',
         jsonb_build_array(pg_temp.event(1, 2, 2, 100000), pg_temp.event(2, 1, 1, 50000), pg_temp.event(3, 2, 2, 1)));
SELECT request_id, edge_id, namespace, cost, currency FROM aistudio.llm_interactions ORDER BY request_id;
SELECT subject, subject_id, edge_id, cost FROM aistudio.edge_spend ORDER BY 1, 2, 3;
SELECT spent FROM aistudio.budget_status(2);
SELECT pg_temp.err($$SELECT * FROM aistudio.ingest_edge_events('edge-nope', '[]')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.ingest_edge_events('edge-eu-1', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.ingest_edge_events('edge-eu-1', '[1]')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.ingest_edge_events('edge-eu-1', '[{"request_id": "not a uuid"}]')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.ingest_edge_events('edge-eu-1',
                      (SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 50001)))$$);
-- a revoked edge's backlog still counts
SELECT inserted FROM aistudio.ingest_edge_events('edge-doomed', jsonb_build_array(pg_temp.event(4, 3, 3, 10)));

--
-- Budget leases.
--
-- app 1 (global, budget 1, 0.05 spent by edge-eu-1 before any lease):
-- edge-eu-1 asks for 0.6 of headroom and gets a grant of 0.65 (its
-- allowance for the period includes what it spent); edge-us-1 asks for 1
-- and gets half of what nobody holds (it shares with one other holder);
-- what edges hold is "leased", remaining = budget - spent - leased
SELECT spent, leased, remaining FROM aistudio.budget_status(1);
SELECT granted_nanos, period_start = date_trunc('month', now() AT TIME ZONE 'UTC')::date AS this_period
  FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', 1, 600000000, 0);
SELECT granted_nanos FROM aistudio.edge_lease('edge-us-1', 'acquire', 'app', 1, 1000000000, 0);
SELECT spent, leased, remaining FROM aistudio.budget_status(1);
-- the edge spends within its lease; once ingested, its spend is no longer "held"
SELECT inserted FROM aistudio.ingest_edge_events('edge-eu-1', jsonb_build_array(pg_temp.event(10, 1, 1, 300000)));
SELECT spent, leased, remaining FROM aistudio.budget_status(1);
-- a renewal reports the edge's own spend (0.35: 0.3 left of its 0.65) and
-- asks for 0.5 of headroom: of the missing 0.2 it gets at most half of
-- what nobody holds (0.175 / 2)
SELECT granted_nanos FROM aistudio.edge_lease('edge-eu-1', 'renew', 'app', 1, 500000000, 350000000);
-- with enough headroom, a renewal changes nothing
SELECT granted_nanos FROM aistudio.edge_lease('edge-eu-1', 'renew', 'app', 1, 100000000, 350000000);
-- return: the lease shrinks to what the edge says it spent (0.4, of which
-- the hub has seen 0.35: 0.05 stays held until its events arrive)
SELECT granted_nanos FROM aistudio.edge_lease('edge-eu-1', 'return', 'app', 1, 0, 400000000);
SELECT spent, leased, remaining FROM aistudio.budget_status(1);
-- never below what the hub has seen
SELECT granted_nanos FROM aistudio.edge_lease('edge-eu-1', 'return', 'app', 1, 0, 0);
-- now edge-us-1 can have more
SELECT granted_nanos FROM aistudio.edge_lease('edge-us-1', 'renew', 'app', 1, 1000000000, 0);
SELECT spent, leased, remaining FROM aistudio.budget_status(1);
SELECT subject, subject_id, edge_id, granted FROM aistudio.edge_leases ORDER BY 1, 2, 3;
-- LLM budgets; no budget: nothing to lease (NULL)
SELECT aistudio.update_llm(2, monthly_budget => 0.5);
SELECT granted_nanos FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'llm', 2, 200000000, 0);
SELECT spent, leased FROM aistudio.llm_budget_status(2);
SELECT granted_nanos IS NULL AS no_budget, period_end IS NOT NULL AS period FROM aistudio.edge_lease('edge-us-1', 'acquire', 'app', 3, 1, 0);
-- bad input
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'steal', 'app', 1, 1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'user', 1, 1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', NULL, 1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', 1, -1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', 3, 1, 0)$$);  -- us app
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', 999, 1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-nope', 'acquire', 'app', 1, 1, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-doomed', 'acquire', 'app', 1, 1, 0)$$);
SELECT granted_nanos FROM aistudio.edge_lease('edge-doomed', 'return', 'app', 1, 0, 0);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', 1, 1, 0)$$);
ROLLBACK;

-- The invariant, under 400 random operations on app 2 (budget 2) by three
-- edges and the hub itself: edges acquire, renew and return leases, spend
-- within what they hold (their events reach the hub later, in batches), the
-- hub's own gateway spends only what nobody holds.  After every operation:
-- what edges hold never exceeds budget - spent, no edge spent more than it
-- was granted, and the total spend stays within the budget.
SELECT aistudio.enroll_edge('edge-eu-3', 'eu') IS NOT NULL AS enrolled;
SELECT setseed(0.42);
DO $$
DECLARE
	edges constant text[] := ARRAY['edge-eu-1', 'edge-eu-2', 'edge-eu-3'];
	granted bigint[] := ARRAY[0, 0, 0];		-- what each edge holds (its limit), nanos
	spent bigint[] := ARRAY[0, 0, 0];		-- what each edge spent, nanos (uploaded or not)
	backlog jsonb[] := ARRAY['[]', '[]', '[]']::jsonb[];
	ops jsonb := '{}';
	n integer := 0;
	e integer;
	r float8;
	amount bigint;
	got bigint;
	st record;
	violations integer := 0;
	seq integer := 1000;
	before bigint;
BEGIN
	-- what each edge already spent this period (edge-eu-1, before any lease)
	FOR k IN 1..3 LOOP
		spent[k] := (SELECT coalesce(ceil(sum(x.cost) * 1e9), 0) FROM aistudio.edge_spend x
					  WHERE x.subject = 'app' AND x.subject_id = 2 AND x.edge_id = edges[k]);
	END LOOP;
	FOR i IN 1..400 LOOP
		e := 1 + floor(random() * 3)::integer;
		r := random();
		before := granted[e];
		IF r < 0.25 THEN
			SELECT l.granted_nanos INTO got
			  FROM aistudio.edge_lease(edges[e], CASE WHEN granted[e] = 0 THEN 'acquire' ELSE 'renew' END, 'app', 2,
									   (floor(random() * 800000) * 1000)::bigint, spent[e]) l;
			granted[e] := got;
			ops := jsonb_set(ops, '{lease}', to_jsonb(coalesce((ops ->> 'lease')::int, 0) + 1));
		ELSIF r < 0.32 THEN
			SELECT l.granted_nanos INTO got FROM aistudio.edge_lease(edges[e], 'return', 'app', 2, 0, spent[e]) l;
			granted[e] := got;
			ops := jsonb_set(ops, '{return}', to_jsonb(coalesce((ops ->> 'return')::int, 0) + 1));
		ELSIF r < 0.70 THEN
			-- the edge spends at most what it holds (1 prompt token = 1000 nanos)
			amount := floor(random() * (granted[e] - spent[e] + 1000) / 1000)::bigint;
			IF amount > 0 AND spent[e] + amount * 1000 <= granted[e] THEN
				seq := seq + 1;
				backlog[e] := backlog[e] || jsonb_build_array(jsonb_build_object(
					'timestamp', now(), 'request_id', format('00000000-0000-4000-9000-%s', lpad(seq::text, 12, '0')),
					'app_id', 2, 'llm_id', 1, 'vendor', 'openai', 'model_name', 'gpt-4o',
					'prompt_tokens', amount, 'response_tokens', 0, 'status_code', 200));
				spent[e] := spent[e] + amount * 1000;
				ops := jsonb_set(ops, '{edge_spend}', to_jsonb(coalesce((ops ->> 'edge_spend')::int, 0) + 1));
			END IF;
		ELSIF r < 0.90 THEN
			-- the edge's uploader: its backlog reaches the hub (a replay now and then)
			IF jsonb_array_length(backlog[e]) > 0 THEN
				PERFORM aistudio.ingest_edge_events(edges[e], backlog[e]);
				IF random() < 0.2 THEN
					PERFORM aistudio.ingest_edge_events(edges[e], backlog[e]);
				END IF;
				backlog[e] := '[]';
				ops := jsonb_set(ops, '{upload}', to_jsonb(coalesce((ops ->> 'upload')::int, 0) + 1));
			END IF;
		ELSE
			-- the hub's own gateway: admission counts what edges hold as spent
			SELECT * INTO st FROM aistudio.budget_status(2);
			amount := floor(random() * greatest(st.remaining, 0) * 1000000)::bigint;
			IF amount > 0 THEN
				seq := seq + 1;
				PERFORM aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
					'timestamp', now(), 'request_id', format('00000000-0000-4000-9000-%s', lpad(seq::text, 12, '0')),
					'app_id', 2, 'llm_id', 1, 'vendor', 'openai', 'model_name', 'gpt-4o',
					'prompt_tokens', amount, 'response_tokens', 0, 'status_code', 200)));
				ops := jsonb_set(ops, '{hub_spend}', to_jsonb(coalesce((ops ->> 'hub_spend')::int, 0) + 1));
			END IF;
		END IF;
		SELECT * INTO st FROM aistudio.budget_status(2);
		IF st.leased > st.monthly_budget - st.spent OR st.remaining < 0 THEN
			violations := violations + 1;
		END IF;
		-- the hub never cuts a grant under what its edge spent of it
		IF granted[e] < least(before, spent[e]) THEN
			violations := violations + 1;
		END IF;
		n := n + 1;
	END LOOP;
	FOR k IN 1..3 LOOP
		IF jsonb_array_length(backlog[k]) > 0 THEN
			PERFORM aistudio.ingest_edge_events(edges[k], backlog[k]);
		END IF;
	END LOOP;
	SELECT * INTO st FROM aistudio.budget_status(2);
	RAISE NOTICE 'operations: %, every kind: %, violations: %, spent within budget: %, leased within what remains: %',
		n, (SELECT count(*) FROM jsonb_object_keys(ops)) = 5 AND (SELECT bool_and(v::int >= 10) FROM jsonb_each_text(ops) x(k, v)),
		violations, st.spent <= st.monthly_budget, st.leased <= st.monthly_budget - st.spent;
END
$$;
-- the edges spent most of it: the leases are not timid
SELECT spent BETWEEN 1 AND 2 AS spent_most, spent <= monthly_budget AS within FROM aistudio.budget_status(2);

--
-- Edge side (an edge's own database: here the same one).
--
SELECT aistudio.snapshot('eu') AS snap_eu, aistudio.snapshot_checksum('eu') AS sum_eu \gset
SELECT (aistudio.snapshot_decode(:'snap_eu'::bytea) - 'vendors' - 'prices') AS decoded;
SELECT count(*) AS prices FROM aistudio.model_prices;
-- a snapshot that does not match its checksum, or is no snapshot: nothing stored
SELECT pg_temp.err(format($$SELECT aistudio.edge_store_snapshot(%L, %L)$$, :'snap_eu', repeat('0', 64)));
SELECT pg_temp.err(format($$SELECT aistudio.edge_store_snapshot('\x0a0b0c', %L)$$, :'sum_eu'));
SELECT pg_temp.err(format($$SELECT aistudio.edge_store_snapshot(%L, 'ABC')$$, :'snap_eu'));
SELECT pg_temp.err($$SELECT aistudio.edge_store_snapshot(NULL, NULL)$$);
SELECT count(*) AS stored FROM aistudio.edge_stored_snapshot();
-- stored: its prices become the local ones (added, changed, removed)
SELECT aistudio.delete_model_price('openai', 'gpt-4o-mini');
SELECT aistudio.set_model_price('openai', 'gpt-4o', 7, 7);
SELECT aistudio.set_model_price('anthropic', 'local-only', 1, 1);
SELECT aistudio.edge_store_snapshot(:'snap_eu'::bytea, :'sum_eu');
SELECT vendor, model_name, input_per_mtok, output_per_mtok FROM aistudio.model_prices ORDER BY 1, 2;
SELECT checksum = :'sum_eu' AS checksum, snapshot = :'snap_eu'::bytea AS bytes FROM aistudio.edge_stored_snapshot();
-- the next one keeps the previous as previous
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2, 2);
SELECT aistudio.snapshot('eu') AS snap_eu2, aistudio.snapshot_checksum('eu') AS sum_eu2 \gset
SELECT aistudio.edge_store_snapshot(:'snap_eu2'::bytea, :'sum_eu2');
SELECT namespace, checksum = :'sum_eu2' AS current, previous_checksum = :'sum_eu' AS previous FROM aistudio.edge_state;

-- the credential cache: answers until they expire
SELECT aistudio.edge_cache_credential(repeat('a', 64), true, '{"app_id": 2, "app_name": "eu-app"}', 300);
SELECT aistudio.edge_cache_credential(repeat('b', 64), false, NULL, 10);
SELECT aistudio.edge_cache_credential(repeat('c', 64), true, '{"app_id": 1}', 300);
SELECT * FROM aistudio.edge_cached_credential(repeat('a', 64));
SELECT * FROM aistudio.edge_cached_credential(repeat('b', 64));
UPDATE aistudio.edge_credential_cache SET expires_at = now() - interval '1 second' WHERE key_sha256 = repeat('b', 64);
SELECT count(*) AS expired FROM aistudio.edge_cached_credential(repeat('b', 64));
SELECT aistudio.edge_forget_credentials(NULL, ARRAY[2]::bigint[], false) AS forgot_app;
SELECT aistudio.edge_forget_credentials(ARRAY[repeat('c', 64)], NULL, false) AS forgot_key;
SELECT aistudio.edge_cache_credential(repeat('d', 64), false, NULL, 10);
SELECT aistudio.edge_forget_credentials(NULL, NULL, true) AS forgot_all;
SELECT pg_temp.err($$SELECT aistudio.edge_cache_credential('abc', true, '{}', 10)$$);
SELECT pg_temp.err($$SELECT aistudio.edge_cache_credential(repeat('a', 64), true, NULL, 10)$$);
SELECT pg_temp.err($$SELECT aistudio.edge_cache_credential(repeat('a', 64), false, NULL, 0)$$);
SELECT pg_temp.err($$SELECT aistudio.edge_cache_credential(repeat('a', 64), NULL, NULL, 10)$$);

-- the outbox: events ingested by a session with pg_aistudio.edge_outbox =
-- on wait for the hub's acknowledgement; replays are not queued twice
SELECT count(*) AS queued FROM aistudio.edge_outbox;
SET pg_aistudio.edge_outbox = on;
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.event(201, 2, 2, 1000), pg_temp.event(202, 2, 2, 2000)));
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.event(201, 2, 2, 1000), pg_temp.event(203, 2, 2, 3000)));
RESET pg_aistudio.edge_outbox;
SELECT * FROM aistudio.ingest_events(jsonb_build_array(pg_temp.event(204, 2, 2, 1000)));
SELECT e ->> 'request_id' AS request_id, e ->> 'prompt_tokens' AS tokens, e ->> 'cost' AS cost, e ? 'edge_id' AS edge_id
  FROM aistudio.edge_outbox_take(10) e;
SELECT count(*) AS first_two FROM aistudio.edge_outbox_take(2);
SELECT aistudio.edge_outbox_ack(ARRAY['00000000-0000-4000-8000-000000000201', '00000000-0000-4000-8000-000000000202']::uuid[]) AS acked;
SELECT e ->> 'request_id' AS request_id FROM aistudio.edge_outbox_take(10) e;
-- what ingest_edge_events takes on the hub
SELECT inserted, duplicates FROM aistudio.ingest_edge_events('edge-eu-2',
         (SELECT jsonb_agg(e) FROM aistudio.edge_outbox_take(10) e));
SELECT pg_temp.err($$SELECT * FROM aistudio.edge_outbox_take(0)$$);
SELECT aistudio.edge_outbox_ack(NULL) AS acked_nothing;
-- a queued event whose row is gone (retention) leaves the outbox once it
-- has been queued for an hour; a younger one may be the row of a partition
-- attached while take was planned (regress/e2e/edge-outbox.test.mjs): kept
INSERT INTO aistudio.edge_outbox (request_id, "timestamp", enqueued_at) VALUES
  ('00000000-0000-4000-8000-000000000291', now() - interval '500 days', now()),
  ('00000000-0000-4000-8000-000000000292', now() - interval '500 days', now() - interval '2 hours');
SELECT count(*) AS returned FROM aistudio.edge_outbox_take(10);
SELECT request_id AS still_queued FROM aistudio.edge_outbox
 WHERE request_id IN ('00000000-0000-4000-8000-000000000291', '00000000-0000-4000-8000-000000000292');
SELECT aistudio.edge_outbox_ack(ARRAY['00000000-0000-4000-8000-000000000291']::uuid[]) AS acked_young_orphan;
-- the edge's own spend, for its leases across a restart
SELECT aistudio.edge_local_spend('app', 2, date_trunc('month', now() AT TIME ZONE 'UTC')::date,
                                 (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month - 1 day')::date)
       = (SELECT spent FROM aistudio.budget_status(2)) AS local_spend;
SELECT pg_temp.err($$SELECT aistudio.edge_local_spend('app', 2, '2026-02-01', '2026-01-01')$$);
SELECT aistudio.edge_store_lease('app', 2, date_trunc('month', now() AT TIME ZONE 'UTC')::date,
                                 (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month - 1 day')::date,
                                 2000000000);
SELECT subject, subject_id, granted_nanos,
       spent_nanos = ceil((SELECT spent FROM aistudio.budget_status(2)) * 1e9) AS spent_nanos
  FROM aistudio.edge_stored_leases();
SELECT pg_temp.err($$SELECT aistudio.edge_store_lease('app', 2, '2026-01-01', '2026-01-31', -1)$$);

--
-- RBAC: admins manage edges and read the trail; the hub's gateway
-- connection (no acting user) calls the gateway functions but not the
-- admin ones; developers, chat users and analysts get nowhere.
--
SET pg_aistudio.acting_user = '2';
SELECT aistudio.enroll_edge('edge-by-admin', 'us') IS NOT NULL AS admin_enrolls;
SELECT count(*) > 0 AS admin_reads_trail FROM aistudio.list_edge_events(by_edge => 'edge-by-admin');
SELECT aistudio.push_config('us') AS push_us \gset
SELECT pushed_by FROM aistudio.pushes WHERE id = :push_us;
RESET pg_aistudio.acting_user;
SELECT u AS actor, pg_temp.try(u, s) AS result
  FROM unnest(ARRAY['3', '4']) u,
       unnest(ARRAY[$$SELECT aistudio.enroll_edge('edge-x')$$,
                    $$SELECT aistudio.revoke_edge('edge-eu-1')$$,
                    $$SELECT aistudio.push_config()$$,
                    $$SELECT * FROM aistudio.list_edge_events()$$,
                    $$SELECT * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', NULL, true)$$,
                    $$SELECT * FROM aistudio.edge_heartbeats('{}', '{}', '{}', '{}', 'hub-a')$$,
                    $$SELECT * FROM aistudio.edge_lease('edge-eu-1', 'acquire', 'app', 1, 1, 0)$$,
                    $$SELECT * FROM aistudio.edge_store_snapshot('\x00', repeat('0', 64))$$]) s
 ORDER BY 1, s;
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_sync_gw;
DROP ROLE IF EXISTS regress_sync_analyst;
RESET client_min_messages;
CREATE ROLE regress_sync_gw IN ROLE aistudio_gateway;
CREATE ROLE regress_sync_analyst IN ROLE aistudio_analyst;
SET ROLE regress_sync_gw;
SELECT ok FROM aistudio.edge_authenticate('edge-eu-1', 'eu', pg_temp.h(:'tok_eu1'), false, 'gw');
-- a refusal as the gateway (the hub: no acting user) is answered and audited without an actor
SELECT ok, reason FROM aistudio.edge_authenticate('edge-us-1', 'us', pg_temp.h('not the token'), false, 'gw-refusal');
SELECT count(*) AS beats FROM aistudio.edge_heartbeats(ARRAY['edge-eu-1'], ARRAY[''], ARRAY['1'], ARRAY[NULL::jsonb], 'hub-gw');
SELECT count(*) AS key FROM aistudio.edge_key('edge-eu-1');
SELECT count(*) AS lease FROM aistudio.edge_lease('edge-eu-1', 'renew', 'app', 1, 0, 0);
SELECT count(*) AS resolved FROM aistudio.edge_resolve_credential('edge-eu-1', pg_temp.h(:'key_eu'));
SELECT count(*) AS statuses FROM aistudio.edge_status;
SELECT pg_temp.err(s) FROM unnest(ARRAY[
	$$SELECT aistudio.enroll_edge('edge-gw')$$,
	$$SELECT aistudio.revoke_edge('edge-eu-1')$$,
	$$SELECT aistudio.push_config()$$,
	$$SELECT * FROM aistudio.list_edge_events()$$,
	$$SELECT * FROM aistudio.get_push(1)$$,
	$$SELECT aistudio.derive_edge_key('t', 'e')$$,
	$$SELECT * FROM aistudio.edge_credentials_new('e')$$,
	$$SELECT * FROM aistudio.edges$$]) AS s;
RESET ROLE;
SELECT actor_id IS NULL AS no_actor, changes ->> 'reason' AS reason FROM aistudio.audit_log
 WHERE action = 'edge_auth_failed' AND changes ->> 'peer' = 'gw-refusal';
SET ROLE regress_sync_analyst;
SELECT pg_temp.err(s) FROM unnest(ARRAY[
	$$SELECT * FROM aistudio.edge_authenticate('edge-eu-1', 'eu', NULL, true)$$,
	$$SELECT * FROM aistudio.list_edge_events()$$,
	$$SELECT * FROM aistudio.edge_outbox_take(1)$$]) AS s;
RESET ROLE;
DROP ROLE regress_sync_gw;
DROP ROLE regress_sync_analyst;

-- deleting an edge removes its state; the trail keeps its events
SELECT count(*) > 0 AS had_leases FROM aistudio.edge_leases WHERE edge_id = 'edge-eu-3';
SELECT aistudio.delete_edge('edge-eu-3');
SELECT (SELECT count(*) FROM aistudio.edge_leases WHERE edge_id = 'edge-eu-3') AS leases,
       (SELECT count(*) FROM aistudio.edge_events WHERE edge_id = 'edge-eu-3') > 1 AS events;
SELECT pg_temp.err($$SELECT aistudio.delete_edge('edge-eu-3')$$);
