-- pricing: aistudio.cost / aistudio.price_event — price lookup (exact, then
-- longest configured prefix), each vendor's token semantics, exactness,
-- the per-backend price cache and its invalidation, bad input, privileges.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

DO $$
BEGIN
	PERFORM aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00, cache_read_per_mtok => 1.25);
	PERFORM aistudio.set_model_price('openai', 'gpt-4o-mini', 0.15, 0.60, cache_read_per_mtok => 0.075);
	PERFORM aistudio.set_model_price('openai', 'gpt-4', 30, 60);
	PERFORM aistudio.set_model_price('openai', 'gpt-eur', 1, 2, currency => 'EUR');
	PERFORM aistudio.set_model_price('anthropic', 'claude-sonnet-4', 3, 15, 3.75, 0.30);
	PERFORM aistudio.set_model_price('anthropic', 'claude-3-haiku', 0.25, 1.25);
	PERFORM aistudio.set_model_price('google_ai', 'gemini-1.5-pro', 1.25, 5.00, NULL, 0.3125);
	PERFORM aistudio.set_model_price('vertex', 'gemini-1.5-pro', 1.25, 5.00, NULL, 0.3125);
	PERFORM aistudio.set_model_price('huggingface', 'meta-llama/Llama-3-8b', 0.20, 0.20, 0.25, 0.05);
	PERFORM aistudio.set_model_price('ollama', 'llama3', 0, 0);
	PERFORM aistudio.set_model_price('openai', 'nano', 0.000000001, 0);
END
$$;
SELECT vendor, model_name, input_per_mtok, output_per_mtok, cache_write_per_mtok, cache_read_per_mtok, currency
  FROM aistudio.model_prices ORDER BY vendor, model_name;

-- exact match, then the longest configured prefix of the same vendor; model
-- names are case-sensitive; no match is unpriced (cost 0)
SELECT model, aistudio.cost('openai', model, 1000000, 1000000) AS cost
  FROM (VALUES ('gpt-4o'), ('gpt-4o-2024-08-06'), ('gpt-4o-mini'), ('gpt-4o-mini-2024-07-18'),
			   ('gpt-4-turbo'), ('gpt-4'), ('gpt-3.5-turbo'), ('gpt'), ('GPT-4o'), ('')) AS v(model);
-- prices are per vendor
SELECT aistudio.cost('anthropic', 'gpt-4o', 1000000, 1000000) AS other_vendor;
SELECT * FROM aistudio.price_event('openai', 'gpt-4o-2024-08-06', 1000, 500, 0, 0);
SELECT * FROM aistudio.price_event('openai', 'o9-preview', 1000, 500, 0, 0);
SELECT * FROM aistudio.price_event('openai', 'gpt-eur-2025', 1000000, 1000000, 0, 0);
SELECT * FROM aistudio.price_event('ollama', 'llama3:8b', 1000, 500, 0, 0);

-- vendor semantics with cache tokens: 1000 prompt, 500 response, 200 cache
-- writes, 300 cache reads.  anthropic: prompt excludes cache tokens,
-- 1000*3 + 200*3.75 + 300*0.30 + 500*15 = 11340 per 10^6
SELECT aistudio.cost('anthropic', 'claude-sonnet-4-20250514', 1000, 500, 200, 300) AS anthropic;
-- openai: prompt includes the 300 cached reads, (700*2.5 + 300*1.25 + 500*10) / 10^6
SELECT aistudio.cost('openai', 'gpt-4o', 1000, 500, 0, 300) AS openai;
-- openai cache writes at the input price (no cache-write price set)
SELECT aistudio.cost('openai', 'gpt-4o', 1000, 500, 200, 300) AS openai_cache_write;
-- google_ai and vertex: (700*1.25 + 300*0.3125 + 500*5) / 10^6
SELECT aistudio.cost('google_ai', 'gemini-1.5-pro-002', 1000, 500, 0, 300) AS google_ai,
	   aistudio.cost('vertex', 'gemini-1.5-pro-002', 1000, 500, 0, 300) AS vertex;
-- huggingface: (700*0.2 + 300*0.05 + 200*0.25 + 500*0.2) / 10^6
SELECT aistudio.cost('huggingface', 'meta-llama/Llama-3-8b-Instruct', 1000, 500, 200, 300) AS huggingface;
-- null cache prices fall back to the input price:
-- anthropic (1000 + 200 + 300) * 0.25 + 500 * 1.25; openai as if nothing were cached
SELECT aistudio.cost('anthropic', 'claude-3-haiku', 1000, 500, 200, 300) AS haiku,
	   aistudio.cost('openai', 'gpt-4', 1000, 500, 0, 300) AS gpt4_cached,
	   aistudio.cost('openai', 'gpt-4', 1000, 500) AS gpt4_uncached;
-- anthropic may report more cache reads than prompt tokens
SELECT aistudio.cost('anthropic', 'claude-sonnet-4', 10, 0, 0, 100000) AS anthropic_cache_heavy;
-- defaults and zero usage
SELECT aistudio.cost('openai', 'gpt-4o', 0, 0) AS zero,
	   aistudio.cost(vendor => 'openai', model_name => 'gpt-4o', prompt_tokens => 4, response_tokens => 2) AS named;

-- exact, unrounded numeric
SELECT aistudio.cost('openai', 'nano', 1, 0) AS one_femto_dollar;
SELECT aistudio.cost('openai', 'gpt-4o', 9223372036854775807, 9223372036854775807) AS huge;
SELECT sum(aistudio.cost('openai', 'gpt-4o-mini', 1, 1)) = 0.00000075 * 1000 AS sums_exactly
  FROM generate_series(1, 1000);

-- a price change is visible at once in this session (also inside the
-- changing transaction, and undone by its rollback)
SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0) AS before;
DO $$ BEGIN PERFORM aistudio.set_model_price('openai', 'gpt-4o', 5, 10, cache_read_per_mtok => 1.25); END $$;
SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0) AS after_set;
BEGIN;
DO $$ BEGIN PERFORM aistudio.set_model_price('openai', 'gpt-4o', 7, 10); END $$;
SELECT aistudio.cost('openai', 'gpt-4o-2024-08-06', 1000000, 0) AS in_transaction;
ROLLBACK;
SELECT aistudio.cost('openai', 'gpt-4o-2024-08-06', 1000000, 0) AS after_rollback;
-- direct changes by a DBA invalidate the cache too
UPDATE aistudio.model_prices SET input_per_mtok = 6 WHERE vendor = 'openai' AND model_name = 'gpt-4o';
SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0) AS after_update;
INSERT INTO aistudio.model_prices (vendor, model_name, input_per_mtok, output_per_mtok)
VALUES ('openai', 'gpt-4o-2024-08-06', 4, 8);
SELECT aistudio.cost('openai', 'gpt-4o-2024-08-06', 1000000, 0) AS new_longer_prefix;
DELETE FROM aistudio.model_prices WHERE vendor = 'openai' AND model_name = 'gpt-4o-2024-08-06';
SELECT aistudio.cost('openai', 'gpt-4o-2024-08-06', 1000000, 0) AS after_delete;

-- another session's committed change is visible in our next transaction,
-- and ours in theirs
CREATE EXTENSION dblink;
SELECT dblink_connect('other', 'dbname=' || current_database());
SELECT * FROM dblink('other', $$SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0)$$) AS t(other_before numeric);
SELECT dblink_exec('other', $$UPDATE aistudio.model_prices SET input_per_mtok = 8 WHERE model_name = 'gpt-4o'$$);
SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0) AS changed_by_other;
DO $$ BEGIN PERFORM aistudio.set_model_price('openai', 'gpt-4o', 9, 10); END $$;
SELECT * FROM dblink('other', $$SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0)$$) AS t(other_after numeric);
SELECT dblink_disconnect('other');
DROP EXTENSION dblink;

-- the cache works in parallel workers as well
CREATE TEMP TABLE usage_rows AS
SELECT g AS n, CASE g % 3 WHEN 0 THEN 'gpt-4o-mini-2024-07-18' WHEN 1 THEN 'gpt-4' ELSE 'unknown' END AS model
  FROM generate_series(1, 3000) AS g;
CREATE TABLE pricing_par AS SELECT * FROM usage_rows;
ANALYZE pricing_par;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
SELECT sum(aistudio.cost('openai', model, 1000, 1000)) AS parallel_sum,
	   count(*) FILTER (WHERE (aistudio.price_event('openai', model, 1, 1, 0, 0)).priced) AS priced
  FROM pricing_par;
RESET force_parallel_mode;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
RESET max_parallel_workers_per_gather;
SELECT sum(aistudio.cost('openai', model, 1000, 1000)) AS serial_sum FROM usage_rows;
DROP TABLE pricing_par;

-- bad input
SELECT pg_temp.err($$SELECT aistudio.cost('azure', 'gpt-4o', 1, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('OpenAI', 'gpt-4o', 1, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('openai', 'gpt-4o', -1, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('openai', 'gpt-4o', 1, -1)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('anthropic', 'claude-sonnet-4', 1, 1, -1, 0)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('anthropic', 'claude-sonnet-4', 1, 1, 0, -1)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('openai', 'gpt-4o', 100, 1, 0, 300)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('google_ai', 'gemini-1.5-pro', 100, 1, 0, 101)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.price_event('nope', 'x', 1, 1, 0, 0)$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.price_event(NULL, 'x', 1, 1, 0, 0)$$);
-- cost is strict; price_event counts missing tokens as 0 and a missing model as unpriced
SELECT aistudio.cost('openai', NULL, 1, 1) IS NULL AS strict_cost;
SELECT * FROM aistudio.price_event('openai', 'gpt-4o-mini', 1000000, NULL, NULL, NULL);
SELECT * FROM aistudio.price_event('openai', NULL, 1000000, 1, 0, 0);

-- privileges: cost for the gateway and analysts, price_event internal
SELECT r AS role,
	   has_function_privilege(r, 'aistudio.cost(text, text, bigint, bigint, bigint, bigint)', 'EXECUTE') AS cost,
	   has_function_privilege(r, 'aistudio.price_event(text, text, bigint, bigint, bigint, bigint)', 'EXECUTE') AS price_event
  FROM unnest(ARRAY['aistudio_gateway', 'aistudio_analyst', 'public']) AS r;
SET ROLE aistudio_analyst;
SELECT aistudio.cost('openai', 'gpt-4o', 1000000, 0) AS as_analyst;
SELECT pg_temp.err($$SELECT * FROM aistudio.price_event('openai', 'gpt-4o', 1, 1, 0, 0)$$);
RESET ROLE;
