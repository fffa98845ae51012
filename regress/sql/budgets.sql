-- budgets: budget periods (start day, end-of-month clamping), budget_status
-- and llm_budget_status (exact right after ingestion), threshold
-- notifications (50/80/90/100, once per period), acknowledgement, views.
-- Budget events are stamped now(), so they fall in the current UTC period.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- budget_period(start, at): [first day, first day of the next period)
SELECT s AS start, a AS at, aistudio.budget_period(s, a) AS period
  FROM (VALUES
    (NULL::date, '2025-03-15'::date),          -- no start date: the calendar month
    (NULL, '2025-03-01'), (NULL, '2025-02-28'),
    ('2025-01-15', '2025-03-10'),              -- before the start day: last month's period
    ('2025-01-15', '2025-03-15'),              -- on the start day: a new period
    ('2025-01-15', '2025-03-20'),
    ('2025-01-31', '2025-02-10'),              -- day 31: clamped to the month's last day
    ('2025-01-31', '2025-02-28'),
    ('2025-01-31', '2025-03-30'),
    ('2025-01-31', '2025-03-31'),
    ('2025-01-31', '2025-04-29'),
    ('2025-01-31', '2025-04-30'),
    ('2023-08-31', '2024-02-29'),              -- leap year
    ('2023-08-31', '2024-02-28'),
    ('2025-01-30', '2025-03-01'),
    ('2025-01-29', '2025-02-28'),
    ('2025-01-20', '2025-01-05'),              -- across the turn of the year
    ('2024-06-20', '2025-12-25'),              -- only the start's day of month matters
    ('2030-06-10', '2025-06-09')
  ) v(s, a);
SELECT aistudio.budget_period(NULL, NULL) AS period;
SELECT aistudio.budget_period(NULL) @> current_date AS contains_today;
SELECT pg_temp.err($$SELECT aistudio.budget_period('infinity', '2025-01-01')$$);
SELECT pg_temp.err($$SELECT aistudio.budget_period(NULL, 'infinity')$$);

-- setup: a price of 0.001 per prompt token makes costs easy to read
SELECT aistudio.create_user('owner@example.com', 'Owner', role => 'developer') AS owner \gset
SELECT aistudio.create_user('chat@example.com', 'Chat') AS chat \gset
SELECT aistudio.create_llm('Budget GPT', 'openai', 'https://api.openai.com/v1') AS gpt \gset
SELECT aistudio.create_llm('Other GPT', 'openai', 'https://api.openai.com/v1') AS other \gset
SELECT aistudio.set_model_price('openai', 'budget-model', 1000, 0) IS NOT NULL AS priced;
SELECT aistudio.create_app('budgeted', :owner, ARRAY[:gpt]::bigint[], monthly_budget => 1.00) AS app \gset
SELECT aistudio.create_app('unbudgeted', :owner, ARRAY[:other]::bigint[]) AS free_app \gset

-- spend(app, llm, prompt tokens, n): ingest one event now, return its cost
CREATE FUNCTION pg_temp.spend(app bigint, llm bigint, tokens int) RETURNS text LANGUAGE sql AS $$
	SELECT format('inserted %s', inserted) FROM aistudio.ingest_events(jsonb_build_array(jsonb_build_object(
		'timestamp', now(), 'request_id', gen_random_uuid(), 'app_id', app, 'llm_id', llm,
		'vendor', 'openai', 'model_name', 'budget-model', 'prompt_tokens', tokens, 'status_code', 200)))
$$;
CREATE TEMP VIEW status AS
SELECT monthly_budget, period_start = date_trunc('month', now() AT TIME ZONE 'UTC')::date AS period_start_ok,
       period_end = (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month' - interval '1 day')::date
         AS period_end_ok,
       spent, remaining, percent_used
  FROM aistudio.budget_status(:app);
CREATE TEMP VIEW notes AS
SELECT subject, subject_id = CASE subject WHEN 'app' THEN :app ELSE :gpt END AS ours, threshold,
       spent, budget, period_start = lower(aistudio.budget_period(NULL, (now() AT TIME ZONE 'UTC')::date))
         AS this_period, acknowledged_at IS NOT NULL AS acknowledged
  FROM aistudio.budget_notifications ORDER BY subject, threshold;

-- nothing spent yet
SELECT * FROM status;

-- 40%: spent is exact right after ingestion (pending, not yet folded)
SELECT pg_temp.spend(:app, :gpt, 400);
SELECT * FROM status;
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM status;
SELECT * FROM notes;

-- 50%
SELECT pg_temp.spend(:app, :gpt, 100);
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM notes;

-- 85%: the 80% threshold; rolling up again adds nothing
SELECT pg_temp.spend(:app, :gpt, 350);
SELECT aistudio.rollup_now() AS folded;
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM notes;

-- 105%: 90% and 100% at once
SELECT pg_temp.spend(:app, :gpt, 200);
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM status;
SELECT * FROM notes;

-- more spend and more rollups: each threshold stays notified once
SELECT pg_temp.spend(:app, :gpt, 10);
SELECT pg_temp.spend(:app, :gpt, 10);
SELECT aistudio.rollup_now() AS folded;
SELECT aistudio.rollup_rebuild(now() - interval '2 days', now() + interval '1 day') AS rebuilt;
SELECT aistudio.rollup_now() AS folded;
SELECT count(*) AS notifications FROM aistudio.budget_notifications;
SELECT * FROM status;

-- LLM budgets work the same; the app without a budget has no limit
SELECT aistudio.update_llm(:gpt, monthly_budget => 2);
SELECT monthly_budget, spent, remaining, percent_used FROM aistudio.llm_budget_status(:gpt);
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM notes;
SELECT pg_temp.spend(:free_app, :gpt, 700);
SELECT monthly_budget, spent, remaining, percent_used FROM aistudio.llm_budget_status(:gpt);
SELECT monthly_budget, spent, remaining, percent_used FROM aistudio.budget_status(:free_app);
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM notes;
SELECT pg_temp.spend(:free_app, :gpt, 300);
SELECT aistudio.rollup_now() AS folded;
SELECT * FROM notes;
SELECT monthly_budget, spent, remaining, percent_used FROM aistudio.llm_budget_status(:other);

-- a zero budget is exceeded by any spend
SELECT aistudio.create_app('zero', :owner, ARRAY[:gpt]::bigint[], monthly_budget => 0) AS zero \gset
SELECT pg_temp.spend(:zero, NULL, 1);
SELECT aistudio.rollup_now() AS folded;
SELECT monthly_budget, spent, remaining, percent_used FROM aistudio.budget_status(:zero);
SELECT threshold FROM aistudio.budget_notifications WHERE subject = 'app' AND subject_id = :zero ORDER BY 1;

-- unknown ids
SELECT pg_temp.err('SELECT * FROM aistudio.budget_status(999999)');
SELECT pg_temp.err('SELECT * FROM aistudio.llm_budget_status(999999)');
SELECT count(*) AS rows FROM aistudio.budget_status(NULL);

-- acknowledging a notification (admins and DBAs)
SELECT min(id) AS note FROM aistudio.budget_notifications \gset
SET pg_aistudio.acting_user = :'chat';
SELECT pg_temp.err(format('SELECT aistudio.acknowledge_budget_notification(%s)', :note));
RESET pg_aistudio.acting_user;
SELECT aistudio.acknowledge_budget_notification(:note);
SELECT count(*) FILTER (WHERE acknowledged_at IS NOT NULL) AS acknowledged FROM aistudio.budget_notifications;
SELECT pg_temp.err('SELECT aistudio.acknowledge_budget_notification(999999)');

-- analysts and the gateway read budgets
SET ROLE aistudio_analyst;
SELECT subject, name, monthly_budget, spent, remaining, percent_used
  FROM aistudio.v_budget_usage ORDER BY subject, name;
SELECT monthly_budget, spent FROM aistudio.budget_status(:app);
SELECT pg_temp.err('UPDATE aistudio.budget_notifications SET acknowledged_at = now()');
RESET ROLE;
SET ROLE aistudio_gateway;
SELECT monthly_budget, spent FROM aistudio.llm_budget_status(:gpt);
SELECT count(*) AS notifications FROM aistudio.budget_notifications;
RESET ROLE;

-- a start date: the period starts on its day of month (today, here; last,
-- since a new period's thresholds are notified afresh by the next rollup)
SELECT aistudio.update_app(:app, budget_start_date => (now() AT TIME ZONE 'UTC')::date);
SELECT period_start = (now() AT TIME ZONE 'UTC')::date AS starts_today,
       period_end = upper(aistudio.budget_period((now() AT TIME ZONE 'UTC')::date,
                                                 (now() AT TIME ZONE 'UTC')::date)) - 1 AS ends_ok,
       spent
  FROM aistudio.budget_status(:app);

