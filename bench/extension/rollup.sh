#!/usr/bin/env bash
# bench/extension/rollup.sh: rollup cost.  Stores EVENTS (default 10 million)
# events over the last 30 days directly in aistudio.llm_interactions (set-up,
# not measured), then measures aistudio.rollup_rebuild() over all of them
# (the repair path, which recomputes the hourly/daily/spend rollups from raw
# events), and aistudio.rollup_now() folding the pending aggregates of
# 100,000 freshly ingested events (the worker's periodic job).
#
# Needs PGHOST/PGPORT/PGDATABASE (+PGUSER, a superuser) naming a database
# with the extension.
set -euo pipefail
EVENTS=${EVENTS:-10000000}
HERE=$(cd "$(dirname "$0")" && pwd)
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }

stored=$("${PSQL[@]}" -At -c "SELECT count(*) FROM aistudio.llm_interactions")
if [ "$stored" -lt "$EVENTS" ]; then
	t0=$(now)
	"${PSQL[@]}" -v events="$((EVENTS - stored))" -f "$HERE/gen-events.sql"
	echo "set-up: $((EVENTS - stored)) events generated in $(elapsed "$t0" "$(now)") s (not measured)"
fi

"${PSQL[@]}" -c "CHECKPOINT"
t0=$(now)
counted=$("${PSQL[@]}" -At -c "SELECT aistudio.rollup_rebuild(now() - interval '31 days', now() + interval '1 day')")
t1=$(now)
read -r hourly daily spend < <("${PSQL[@]}" -At -F ' ' -c "SELECT (SELECT count(*) FROM aistudio.usage_hourly),
	(SELECT count(*) FROM aistudio.usage_daily), (SELECT count(*) FROM aistudio.spend_daily)")
echo "rollup_rebuild: $counted events in $(elapsed "$t0" "$t1") s" \
	"($hourly hourly, $daily daily, $spend spend rows)"

# rollup_now after 100,000 ingested events (1,000 events/s for 100 s)
"${PSQL[@]}" <<'SQL'
INSERT INTO aistudio.interaction_staging ("timestamp", request_id, user_id, app_id, llm_id, vendor,
       model_name, prompt_tokens, response_tokens, latency_ms, interaction_type, status_code)
SELECT now() - interval '100 seconds' + g * interval '1 millisecond', gen_random_uuid(), 1000 + g % 500,
       (SELECT min(id) FROM aistudio.apps WHERE name LIKE 'bench-app-%') + (g % 500) % 50,
       (SELECT id FROM aistudio.llms WHERE name = 'bench-openai'), 'openai', 'gpt-4o',
       200 + g % 3000, 50 + g % 800, 100, 'proxy', 200
  FROM generate_series(1, 100000) g;
SELECT * FROM aistudio.ingest_staged() \g /dev/null
SQL
pending=$("${PSQL[@]}" -At -c "SELECT count(*) FROM aistudio.rollup_pending")
t0=$(now)
folded=$("${PSQL[@]}" -At -c "SELECT aistudio.rollup_now()")
t1=$(now)
echo "rollup_now: $folded pending rows (of $pending, from 100000 events) folded in $(elapsed "$t0" "$t1") s"
