#!/usr/bin/env bash
# bench/extension/snapshot.sh: how long aistudio.snapshot() and
# aistudio.snapshot_checksum() take on a large configuration.
#
#   PGHOST=… PGPORT=… PGDATABASE=… [PGUSER=…] bash bench/extension/snapshot.sh [RUNS]
#
# The database must have the extension and the user must be a superuser (the
# data set is bulk-inserted).  It (re)creates 1,000 LLMs (literal keys sealed
# when a master key is configured), 2,000 model prices and 10,000 apps with
# two LLMs each, all named bench-*, in the global namespace; rows of earlier
# runs are removed first, nothing else is touched.  Then it times RUNS
# (default 50) calls of each function inside the server (clock_timestamp(),
# no client transfer) after 3 warm-up calls, and prints median and p95 in ms.
# Not a test: numbers go to docs/BENCHMARKS.md.
set -euo pipefail
RUNS=${1:-50}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -At)

"${PSQL[@]}" -c "SELECT 1 FROM pg_extension WHERE extname = 'pg_aistudio'" | grep -q 1 || {
	echo "snapshot.sh: the database ${PGDATABASE:-?} has no pg_aistudio extension" >&2; exit 1; }

echo "== data set: 1000 LLMs, 2000 prices, 10000 apps (bench-*)"
"${PSQL[@]}" <<'SQL'
SET client_min_messages = warning;
BEGIN;
DELETE FROM aistudio.apps WHERE name LIKE 'bench-%';
DELETE FROM aistudio.llms WHERE name LIKE 'bench-%';
DELETE FROM aistudio.model_prices WHERE model_name LIKE 'bench-%';
DELETE FROM aistudio.users WHERE email = 'bench-owner@bench.invalid';
INSERT INTO aistudio.users (email, name, role) VALUES ('bench-owner@bench.invalid', 'bench owner', 'developer');
INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint, default_model, allowed_models, monthly_budget)
SELECT 'bench-llm-' || i, 'bench-llm-' || i,
	   (ARRAY['openai', 'anthropic', 'vertex', 'google_ai', 'huggingface', 'ollama'])[1 + i % 6],
	   'https://api-' || i || '.example.com/v1', 'model-' || i, ARRAY['^model-' || i, '^gpt-4o'],
	   CASE WHEN i % 3 = 0 THEN 100 + i END
  FROM generate_series(1, 1000) i;
INSERT INTO aistudio.model_prices (vendor, model_name, input_per_mtok, output_per_mtok, cache_read_per_mtok)
SELECT (ARRAY['openai', 'anthropic', 'vertex', 'google_ai', 'huggingface', 'ollama'])[1 + i % 6],
	   'bench-model-' || i, 0.15 + i / 1000.0, 0.60 + i / 500.0, CASE WHEN i % 2 = 0 THEN 0.075 END
  FROM generate_series(1, 2000) i;
INSERT INTO aistudio.apps (name, owner_id, monthly_budget)
SELECT 'bench-app-' || i, (SELECT id FROM aistudio.users WHERE email = 'bench-owner@bench.invalid'),
	   CASE WHEN i % 2 = 0 THEN 50 END
  FROM generate_series(1, 10000) i;
INSERT INTO aistudio.app_llms (app_id, llm_id)
SELECT a.id, l.id
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM aistudio.apps WHERE name LIKE 'bench-%') a
  JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM aistudio.llms WHERE name LIKE 'bench-%') l
	ON l.n IN (1 + a.n % 1000, 1 + (a.n * 7) % 1000)
ON CONFLICT DO NOTHING;
COMMIT;
-- literal keys, sealed, when a master key is configured
DO $$
BEGIN
	UPDATE aistudio.llms l SET api_key_key_id = s.key_id, api_key_nonce = s.nonce,
		   api_key_cipher = s.ciphertext, api_key_version = 1
	  FROM aistudio.llms x CROSS JOIN LATERAL aistudio.seal_value('llm:' || x.id, 'sk-bench-' || x.id) s
	 WHERE l.id = x.id AND x.name LIKE 'bench-%';
EXCEPTION WHEN object_not_in_prerequisite_state THEN
	RAISE WARNING 'no master key: LLM keys left empty';
END
$$;
ANALYZE aistudio.llms, aistudio.model_prices, aistudio.apps, aistudio.app_llms;
SQL

"${PSQL[@]}" -c "SELECT format('   in the global snapshot: %s LLMs, %s prices, %s apps, %s app-LLM links; %s bytes',
	(SELECT count(*) FROM aistudio.llms WHERE namespace = ''),
	(SELECT count(*) FROM aistudio.model_prices),
	(SELECT count(*) FROM aistudio.apps WHERE namespace = ''),
	(SELECT count(*) FROM aistudio.app_llms x JOIN aistudio.apps a ON a.id = x.app_id WHERE a.namespace = ''),
	length(aistudio.snapshot('')))"

echo "== timing: $RUNS runs each (after 3 warm-up calls), server-side"
"${PSQL[@]}" -F ' ' <<SQL
CREATE TEMP TABLE bench_t (what text, ms float8);
DO \$\$
DECLARE
	t0 timestamptz;
	b bytea;
	c text;
BEGIN
	FOR i IN 1..3 LOOP
		b := aistudio.snapshot('');
		c := aistudio.snapshot_checksum('');
	END LOOP;
	FOR i IN 1..$RUNS LOOP
		t0 := clock_timestamp();
		b := aistudio.snapshot('');
		INSERT INTO bench_t VALUES ('snapshot', extract(epoch FROM clock_timestamp() - t0) * 1000);
		t0 := clock_timestamp();
		c := aistudio.snapshot_checksum('');
		INSERT INTO bench_t VALUES ('checksum', extract(epoch FROM clock_timestamp() - t0) * 1000);
		t0 := clock_timestamp();
		b := aistudio.snapshot('');
		c := aistudio.snapshot_checksum('');
		INSERT INTO bench_t VALUES ('snapshot+checksum', extract(epoch FROM clock_timestamp() - t0) * 1000);
	END LOOP;
END
\$\$;
SELECT format('%s median %s ms   p95 %s ms   (n=%s)', rpad(what, 18),
			  to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 'FM9990.00'),
			  to_char(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms), 'FM9990.00'), count(*))
  FROM bench_t GROUP BY what ORDER BY min(ms);
SQL
echo "   target: snapshot+checksum p95 <= 50 ms"
