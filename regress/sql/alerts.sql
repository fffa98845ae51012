-- alerts: budget alerts (the thresholds one rollup crossed, grouped), alert
-- targets (webhooks and e-mail: checks, sealed secrets, RBAC, audit), their
-- deliveries (one per alert and active target, claimed with a lease,
-- retried with backoff, failed after the last attempt), acknowledgement.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin') AS admin \gset
SELECT aistudio.create_user('owner@example.com', 'Owner', role => 'developer') AS owner \gset
SELECT aistudio.create_user('other@example.com', 'Other', role => 'developer') AS other \gset
SELECT aistudio.create_llm('Alert GPT', 'openai', 'https://api.openai.com/v1') AS gpt \gset
SELECT aistudio.set_model_price('openai', 'alert-model', 1000, 0) IS NOT NULL AS priced;
SELECT aistudio.create_app('budgeted', :owner, ARRAY[:gpt]::bigint[], monthly_budget => 1.00) AS app \gset
SELECT aistudio.create_app('others', :other, ARRAY[:gpt]::bigint[], monthly_budget => 1.00) AS other_app \gset
CREATE FUNCTION pg_temp.spend(app bigint, tokens int) RETURNS bigint LANGUAGE sql AS $$
	SELECT inserted FROM aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
		'timestamp', now(), 'request_id', gen_random_uuid(), 'app_id', app, 'llm_id', 1,
		'vendor', 'openai', 'model_name', 'alert-model', 'prompt_tokens', tokens, 'status_code', 200)))
$$;

--
-- Targets
--
SET pg_aistudio.acting_user = :'admin';
SELECT aistudio.create_alert_target('ops hook', 'webhook', 'https://hooks.example.com/aistudio',
	secret => 'whsec-0123456789abcdef') AS hook \gset
SELECT aistudio.create_alert_target('on-call mail', 'email', 'smtp://mail.example.com:2525',
	mail_from => 'aistudio@example.com', mail_to => ARRAY['oncall@example.com', 'boss@example.com'],
	smtp_username => 'aistudio', secret => 'smtp password 1', min_threshold => 100) AS mail \gset
SELECT aistudio.create_alert_target('off hook', 'webhook', 'http://127.0.0.1:9/x', secret => 'whsec-fedcba9876543210',
	active => false) AS off_hook \gset
SELECT name, kind, url, min_threshold, active, mail_from, mail_to, smtp_username, smtp_tls, has_secret,
	   delivered, pending, failed, total_count
  FROM aistudio.list_alert_targets();
SELECT name, has_secret FROM aistudio.get_alert_target(:mail);
-- secrets are stored sealed, never in clear, and never in the audit log
SELECT count(*) AS sealed FROM aistudio.alert_targets
 WHERE secret_cipher IS NOT NULL AND position('whsec' IN encode(secret_cipher, 'escape')) = 0;
SELECT object_type, action, changes->>'secret_cipher' AS cipher, changes->>'secret_key_id' AS key_id,
	   changes->>'url' AS url
  FROM aistudio.audit_log WHERE object_type = 'alert_targets' ORDER BY id LIMIT 1;
SELECT count(*) AS leaks FROM aistudio.audit_log WHERE changes::text LIKE '%whsec-0123%' OR changes::text LIKE '%smtp password%';
-- bad input
SELECT what, pg_temp.err(sql) AS result FROM (VALUES
	(1, 'unknown kind', $$SELECT aistudio.create_alert_target('x', 'pager', 'https://x.example.com', 'whsec-0123456789abcdef')$$),
	(2, 'webhook without secret', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://x.example.com')$$),
	(3, 'short secret', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://x.example.com', 'short')$$),
	(4, 'webhook not http', $$SELECT aistudio.create_alert_target('x', 'webhook', 'ftp://x.example.com', 'whsec-0123456789abcdef')$$),
	(5, 'webhook bad URL', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://', 'whsec-0123456789abcdef')$$),
	(6, 'webhook with mail_to', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://x.example.com', 'whsec-0123456789abcdef', mail_to => ARRAY['a@b.c'])$$),
	(7, 'mail URL with a user', $$SELECT aistudio.create_alert_target('x', 'email', 'smtp://me:pw@mail.example.com', mail_from => 'a@b.c', mail_to => ARRAY['d@e.f'])$$),
	(8, 'mail URL http', $$SELECT aistudio.create_alert_target('x', 'email', 'https://mail.example.com', mail_from => 'a@b.c', mail_to => ARRAY['d@e.f'])$$),
	(9, 'no sender', $$SELECT aistudio.create_alert_target('x', 'email', 'smtp://mail.example.com', mail_to => ARRAY['d@e.f'])$$),
	(10, 'no recipient', $$SELECT aistudio.create_alert_target('x', 'email', 'smtp://mail.example.com', mail_from => 'a@b.c', mail_to => '{}')$$),
	(11, 'bad recipient', $$SELECT aistudio.create_alert_target('x', 'email', 'smtp://mail.example.com', mail_from => 'a@b.c', mail_to => ARRAY['Boss <boss@x.com>'])$$),
	(12, 'bad tls', $$SELECT aistudio.create_alert_target('x', 'email', 'smtp://mail.example.com', mail_from => 'a@b.c', mail_to => ARRAY['d@e.f'], smtp_tls => 'always')$$),
	(13, 'bad threshold', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://x.example.com', 'whsec-0123456789abcdef', min_threshold => 75)$$),
	(14, 'duplicate name', $$SELECT aistudio.create_alert_target('ops hook', 'webhook', 'https://x.example.com', 'whsec-0123456789abcdef')$$),
	(15, 'empty name', $$SELECT aistudio.create_alert_target(' ', 'webhook', 'https://x.example.com', 'whsec-0123456789abcdef')$$),
	(16, 'URL with a space', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://x.example.com/a b', 'whsec-0123456789abcdef')$$),
	(17, 'clear a webhook secret', format('SELECT aistudio.update_alert_target(%s, clear_secret => true)', :hook)),
	(18, 'rename to a taken name', format($$SELECT aistudio.update_alert_target(%s, name => 'on-call mail')$$, :hook)),
	(19, 'update a missing target', 'SELECT aistudio.update_alert_target(999999, active => false)'),
	(20, 'delete a missing target', 'SELECT aistudio.delete_alert_target(999999)')
) t(n, what, sql) ORDER BY n;
-- updates: NULL keeps a field; a new secret is sealed again; '' removes the user name
SELECT aistudio.update_alert_target(:mail, smtp_username => '', clear_secret => true, mail_to => ARRAY['oncall@example.com']);
SELECT name, mail_to, smtp_username, has_secret FROM aistudio.get_alert_target(:mail);
SELECT aistudio.update_alert_target(:mail, secret => 'smtp password 2', smtp_username => 'aistudio');
SELECT smtp_username, has_secret FROM aistudio.get_alert_target(:mail);
RESET pg_aistudio.acting_user;
-- who manages targets: admins; developers neither list nor change them
SELECT pg_temp.try(:'owner', 'SELECT aistudio.list_alert_targets()') AS developer_lists,
	   pg_temp.try(:'owner', $$SELECT aistudio.create_alert_target('x', 'webhook', 'https://x.example.com', 'whsec-0123456789abcdef')$$) AS developer_creates,
	   pg_temp.try(:'owner', format('SELECT aistudio.delete_alert_target(%s)', :hook)) AS developer_deletes,
	   pg_temp.try(:'owner', $$SELECT aistudio.claim_alert_deliveries('me')$$) AS developer_claims;

--
-- Alerts: one per subject and rollup, however many thresholds it crossed
--
SELECT pg_temp.spend(:app, 600);		-- 0.60 of 1.00: 50 %
SELECT aistudio.rollup_now() > 0 AS rolled;
SELECT subject, subject_id = :app AS ours, threshold, spent, budget FROM aistudio.budget_alerts ORDER BY id;
SELECT pg_temp.spend(:app, 500);		-- 1.10: 80, 90 and 100 % at once, one alert
SELECT pg_temp.spend(:other_app, 950);	-- 0.95: 50, 80 and 90 % at once
SELECT aistudio.rollup_now() > 0 AS rolled;
SELECT a.id - (SELECT min(id) FROM aistudio.budget_alerts) AS alert, a.subject_id = :app AS ours, a.threshold,
	   a.spent, array_agg(n.threshold ORDER BY n.threshold) AS thresholds
  FROM aistudio.budget_alerts a JOIN aistudio.budget_notifications n ON n.alert_id = a.id
 GROUP BY a.id ORDER BY a.id;
-- nothing new crossed: no alert
SELECT pg_temp.spend(:app, 10);
SELECT aistudio.rollup_now() > 0 AS rolled;
SELECT count(*) AS alerts FROM aistudio.budget_alerts;
-- one delivery per alert and active target whose min_threshold it reaches
-- (the e-mail target only gets the 100 % alert; the inactive hook nothing)
SELECT a.threshold, t.name, d.status, d.attempts
  FROM aistudio.alert_deliveries d JOIN aistudio.alert_targets t ON t.id = d.target_id
  JOIN aistudio.budget_alerts a ON a.id = d.alert_id
 ORDER BY a.id, t.name;

--
-- Deliveries
--
-- a claim: the target with its secret opened, and the message
SELECT delivery_id IS NOT NULL AS claimed, attempt, kind, url, secret, mail_from, mail_to, smtp_username, smtp_tls, subject
  FROM aistudio.claim_alert_deliveries('gw-a', 10, 60) ORDER BY delivery_id;
SELECT status, claimed_by, attempts, claimed_until > now() + interval '50 seconds' AS leased FROM aistudio.alert_deliveries ORDER BY id;
-- claimed deliveries are not handed out again while their lease runs
SELECT count(*) AS again FROM aistudio.claim_alert_deliveries('gw-b');
-- the webhook's body (JSON) and the e-mail's text of the 100 % alert
SELECT m.subject, regexp_replace(m.body_text, '\d{4}-\d\d-\d\d( \d\d:\d\d)?|Alert \d+', '<x>', 'g') AS body_text,
	   regexp_replace((m.body_json::jsonb - 'created_at' - 'delivery_id' - 'alert_id' - 'subject_id' - 'period_start')::text,
					  '\d{4}-\d\d-\d\d', '<date>', 'g') AS body
  FROM aistudio.alert_deliveries d JOIN aistudio.budget_alerts a ON a.id = d.alert_id AND a.threshold = 100
 CROSS JOIN LATERAL aistudio.budget_alert_message(d.alert_id, d.id) m
 WHERE d.target_id = :mail;
SELECT (m.body_json::jsonb ? 'created_at') AND (m.body_json::jsonb->>'delivery_id')::bigint = d.id AS ids_and_time
  FROM aistudio.alert_deliveries d CROSS JOIN LATERAL aistudio.budget_alert_message(d.alert_id, d.id) m
 ORDER BY d.id LIMIT 1;

-- outcomes: delivered; failed (retried after the delay); another worker's
-- finish is stale; a missing delivery is an error
SELECT min(id) AS d1, min(id) + 1 AS d2, min(id) + 2 AS d3, min(id) + 3 AS d4 FROM aistudio.alert_deliveries \gset
SELECT aistudio.finish_alert_delivery(:d1, 'gw-a', true, 204) AS first;
SELECT aistudio.finish_alert_delivery(:d2, 'gw-b', true, 204) AS not_its_claim;
SELECT aistudio.finish_alert_delivery(:d2, 'gw-a', false, 500, 'HTTP 500 from the receiver') AS second;
SELECT aistudio.finish_alert_delivery(:d1, 'gw-a', true, 204) AS again;
SELECT pg_temp.err('SELECT aistudio.finish_alert_delivery(999999, ''gw-a'', true)') AS missing;
SELECT id - :d1 AS d, status, attempts, last_status, last_error, delivered_at IS NOT NULL AS delivered,
	   CASE WHEN status = 'pending' THEN next_attempt_at BETWEEN now() + interval '29 seconds' AND now() + interval '31 seconds' END AS retry_in_30s
  FROM aistudio.alert_deliveries ORDER BY id;
-- not due yet: nothing to claim; once due, claimed again (attempt 2), and
-- after pg_aistudio.alert_max_attempts (8) failures it has failed
SELECT count(*) AS not_due FROM aistudio.claim_alert_deliveries('gw-b') WHERE delivery_id = :d2;
UPDATE aistudio.alert_deliveries SET next_attempt_at = now() WHERE id = :d2;
SELECT attempt FROM aistudio.claim_alert_deliveries('gw-b') WHERE delivery_id = :d2;
SELECT aistudio.finish_alert_delivery(:d2, 'gw-b', false, 500, 'again') AS second;
SELECT next_attempt_at - now() BETWEEN interval '59 seconds' AND interval '61 seconds' AS doubled FROM aistudio.alert_deliveries WHERE id = :d2;
UPDATE aistudio.alert_deliveries SET attempts = 7, next_attempt_at = now() WHERE id = :d2;
SELECT attempt FROM aistudio.claim_alert_deliveries('gw-b') WHERE delivery_id = :d2;
SELECT aistudio.finish_alert_delivery(:d2, 'gw-b', false, NULL, 'connection refused') AS eighth;
-- a claim whose lease ran out (its gatewayd died) is due again for another worker
UPDATE aistudio.alert_deliveries SET claimed_until = now() - interval '1 second' WHERE id = :d3;
SELECT delivery_id = :d3 AS taken_over, attempt FROM aistudio.claim_alert_deliveries('gw-b') WHERE delivery_id = :d3;
SELECT aistudio.finish_alert_delivery(:d3, 'gw-a', true) AS late_first_worker,
	   aistudio.finish_alert_delivery(:d3, 'gw-b', true) AS second_worker;
-- an inactive target's deliveries wait
SET pg_aistudio.acting_user = :'admin';
SELECT aistudio.update_alert_target(:hook, active => false);
RESET pg_aistudio.acting_user;
SELECT pg_temp.spend(:app, 1);
UPDATE aistudio.alert_deliveries SET status = 'pending', next_attempt_at = now(), claimed_by = NULL WHERE id = :d4;
SELECT count(*) AS to_inactive FROM aistudio.claim_alert_deliveries('gw-a') c
  JOIN aistudio.alert_deliveries d ON d.id = c.delivery_id WHERE d.target_id = :hook;
SELECT pg_temp.err($$SELECT aistudio.claim_alert_deliveries('', 10)$$) AS no_worker,
	   pg_temp.err($$SELECT aistudio.claim_alert_deliveries('w', 0)$$) AS no_rows,
	   pg_temp.err($$SELECT aistudio.claim_alert_deliveries('w', 10, 0)$$) AS no_lease;
SET pg_aistudio.acting_user = :'admin';
SELECT target_name, kind, status, attempts, last_error, subject, subject_name, threshold, total_count
  FROM aistudio.list_alert_deliveries() ORDER BY id;
SELECT count(*) AS of_mail FROM aistudio.list_alert_deliveries(by_target => :mail);
SELECT name, delivered, pending, failed, last_delivery_at IS NOT NULL AS delivered_once, last_error
  FROM aistudio.list_alert_targets() ORDER BY id;

--
-- The alerts as the UI shows them; acknowledgement
--
SELECT subject_name, threshold, thresholds, spent, acknowledged_at IS NOT NULL AS acked,
	   jsonb_array_length(deliveries) AS deliveries, total_count
  FROM aistudio.list_budget_alerts() ORDER BY id;
RESET pg_aistudio.acting_user;
-- a developer sees their own apps' alerts, without the deliveries
SET pg_aistudio.acting_user = :'owner';
SELECT subject_name, threshold, deliveries IS NULL AS no_deliveries, total_count FROM aistudio.list_budget_alerts() ORDER BY id;
RESET pg_aistudio.acting_user;
SELECT pg_temp.try(:'owner', format('SELECT aistudio.acknowledge_budget_alert(%s)', (SELECT min(id) FROM aistudio.budget_alerts))) AS developer_acks;
SET pg_aistudio.acting_user = :'admin';
SELECT aistudio.acknowledge_budget_alert(min(id)) FROM aistudio.budget_alerts;
SELECT count(*) AS open FROM aistudio.list_budget_alerts(only_open => true);
SELECT count(*) FILTER (WHERE acknowledged_at IS NOT NULL) AS acked_notifications FROM aistudio.budget_notifications;
SELECT aistudio.acknowledge_budget_alerts() AS acknowledged_now;
SELECT aistudio.acknowledge_budget_alerts() AS acknowledged_again;
SELECT count(*) AS open FROM aistudio.list_budget_alerts(only_open => true);
SELECT pg_temp.err('SELECT aistudio.acknowledge_budget_alert(999999)') AS missing;
-- the old per-threshold list agrees
SELECT count(*) AS open_notifications FROM aistudio.list_budget_notifications(only_open => true);
-- deleting a target removes its deliveries
SELECT aistudio.delete_alert_target(:mail);
SELECT count(*) AS deliveries_left FROM aistudio.alert_deliveries WHERE target_id = :mail;
RESET pg_aistudio.acting_user;
-- what the gateway role may run
SELECT p AS function, has_function_privilege('aistudio_gateway', p, 'EXECUTE') AS gateway,
	   has_function_privilege('public', p, 'EXECUTE') AS public
  FROM unnest(ARRAY['aistudio.claim_alert_deliveries(text,int,int)', 'aistudio.finish_alert_delivery(bigint,text,boolean,int,text)',
					'aistudio.budget_alert_message(bigint,bigint)', 'aistudio.check_alert_target(text,text,text,text,text,text[],text,text,int)']) p;
