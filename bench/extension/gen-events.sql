-- bench/extension/gen-events.sql: set-up for the rollup and budget benchmarks
-- (not itself measured).  Writes :events events spread over the last 30 days
-- directly into aistudio.llm_interactions as a superuser: 500 users in 50
-- apps, 2 LLMs, 4 models, chat and proxy, 2% errors (429, error code
-- rate_limited); time-ordered request
-- ids like gatewayd's UUIDv7.  Then VACUUM ANALYZE.
--   psql -v events=10000000 -f bench/extension/gen-events.sql
\set ON_ERROR_STOP 1
INSERT INTO aistudio.users (email, name, role) VALUES ('bench@example.com', 'bench', 'developer')
ON CONFLICT DO NOTHING;
INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint) VALUES
  ('bench-openai', 'bench-openai', 'openai', 'http://127.0.0.1:1/v1'),
  ('bench-anthropic', 'bench-anthropic', 'anthropic', 'http://127.0.0.1:1/v1')
ON CONFLICT DO NOTHING;
INSERT INTO aistudio.model_prices (vendor, model_name, input_per_mtok, output_per_mtok, cache_read_per_mtok) VALUES
  ('openai', 'gpt-4o', 2.5, 10, 1.25), ('openai', 'gpt-4o-mini', 0.15, 0.6, NULL),
  ('anthropic', 'claude-3-5-sonnet', 3, 15, 0.3)
ON CONFLICT DO NOTHING;
-- every app has a budget; half of them start mid-month
INSERT INTO aistudio.apps (name, owner_id, monthly_budget, budget_start_date)
SELECT 'bench-app-' || g, (SELECT id FROM aistudio.users WHERE lower(email) = 'bench@example.com'),
       1000 + g * 100, CASE WHEN g % 2 = 0 THEN date '2025-01-01' + (g % 28) END
  FROM generate_series(1, 50) g
ON CONFLICT DO NOTHING;
UPDATE aistudio.llms SET monthly_budget = 100000 WHERE name LIKE 'bench-%';

SELECT min(id) AS app_min FROM aistudio.apps WHERE name LIKE 'bench-app-%' \gset
SELECT id AS llm_openai FROM aistudio.llms WHERE name = 'bench-openai' \gset
SELECT id AS llm_anthropic FROM aistudio.llms WHERE name = 'bench-anthropic' \gset
SELECT aistudio.ensure_interaction_partitions(ARRAY[now() - interval '30 days', now(), now() + interval '1 month'])
\g /dev/null

INSERT INTO aistudio.llm_interactions ("timestamp", request_id, user_id, app_id, llm_id, vendor, model_name,
       prompt_tokens, response_tokens, total_tokens, cache_write_tokens, cache_read_tokens, cost, currency,
       priced, latency_ms, interaction_type, status_code, error)
SELECT ts,
       (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' ||
        lpad(to_hex(g % 4096), 3, '0') || '8' || lpad(to_hex(g), 15, '0'))::uuid,
       1000 + g % 500, :app_min + (g % 500) % 50,
       CASE WHEN g % 4 = 0 THEN :llm_anthropic ELSE :llm_openai END,
       CASE WHEN g % 4 = 0 THEN 'anthropic' ELSE 'openai' END,
       CASE g % 4 WHEN 0 THEN 'claude-3-5-sonnet-20241022' WHEN 1 THEN 'gpt-4o-mini'
                  WHEN 2 THEN 'gpt-4o-2024-08-06' ELSE 'gpt-4o' END,
       p, r, p + r, 0, 0, (p * 2.5 + r * 10) / 1000000.0, 'USD', true,
       80 + g % 900, CASE WHEN g % 5 = 0 THEN 'chat' ELSE 'proxy' END,
       CASE WHEN g % 50 = 0 THEN 429 ELSE 200 END,
       CASE WHEN g % 50 = 0 THEN 'rate_limited: upstream answered 429' END
  FROM (SELECT g, 200 + g % 3000 AS p, 50 + g % 800 AS r,
               now() - interval '30 days' + g * (interval '30 days' / :events) AS ts
          FROM generate_series(1, :events) g) s;
VACUUM ANALYZE aistudio.llm_interactions;
