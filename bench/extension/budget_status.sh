#!/usr/bin/env bash
# bench/extension/budget_status.sh: latency of aistudio.budget_status(app)
# and aistudio.llm_budget_status(llm) with EVENTS (default 10 million) events
# stored and rolled up, plus 50,000 freshly ingested events still pending
# (budget_status adds their cost).  One pgbench client, random budgeted
# apps; prints p50/p95/p99 in ms from pgbench's per-transaction log (round
# trip over the Unix socket included).
#
# Needs PGHOST/PGPORT/PGDATABASE (+PGUSER, a superuser) naming a database
# with the extension.  DURATION (default 10) seconds per function.
set -euo pipefail
EVENTS=${EVENTS:-10000000}
DURATION=${DURATION:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
TMP=$(mktemp -d /tmp/aistudio-budget.XXXXXX)
chmod 777 "$TMP"
trap 'rm -rf "$TMP"' EXIT

stored=$("${PSQL[@]}" -At -c "SELECT count(*) FROM aistudio.llm_interactions")
if [ "$stored" -lt "$EVENTS" ]; then
	"${PSQL[@]}" -v events="$((EVENTS - stored))" -f "$HERE/gen-events.sql"
	"${PSQL[@]}" -c "SELECT aistudio.rollup_rebuild(now() - interval '31 days', now() + interval '1 day')" > /dev/null
	echo "set-up: $((EVENTS - stored)) events generated and rolled up (not measured)"
fi

# 50,000 events ingested since the last rollup (pending), in 50 batches of
# 1,000 like a gateway writing every 20 ms: one pending row per batch and
# (hour, app, user, llm, model, type)
for ((b = 0; b < 50; b++)); do
	"${PSQL[@]}" <<SQL
INSERT INTO aistudio.interaction_staging ("timestamp", request_id, user_id, app_id, llm_id, vendor,
       model_name, prompt_tokens, response_tokens, latency_ms, interaction_type, status_code)
SELECT now() - interval '50 seconds' + ($b * 1000 + g) * interval '1 millisecond', gen_random_uuid(),
       1000 + g % 500, (SELECT min(id) FROM aistudio.apps WHERE name LIKE 'bench-app-%') + (g % 500) % 50,
       (SELECT id FROM aistudio.llms WHERE name = 'bench-openai'), 'openai', 'gpt-4o',
       200 + g % 3000, 50 + g % 800, 100, 'proxy', 200
  FROM generate_series(1, 1000) g;
SELECT * FROM aistudio.ingest_staged() \g /dev/null
SQL
done
"${PSQL[@]}" -c "ANALYZE aistudio.rollup_pending"

read -r app_min app_max < <("${PSQL[@]}" -At -F ' ' -c \
	"SELECT min(id), max(id) FROM aistudio.apps WHERE name LIKE 'bench-app-%'")
read -r llm_min llm_max < <("${PSQL[@]}" -At -F ' ' -c \
	"SELECT min(id), max(id) FROM aistudio.llms WHERE name LIKE 'bench-%'")
read -r events pending < <("${PSQL[@]}" -At -F ' ' -c \
	"SELECT (SELECT count(*) FROM aistudio.llm_interactions), (SELECT count(*) FROM aistudio.rollup_pending)")
echo "budget_status: $events events stored, $pending pending rollup rows, 1 client, ${DURATION}s each"

measure() {
	local name=$1 sql=$2 lo=$3 hi=$4
	printf '\\set id random(%s, %s)\n%s\n' "$lo" "$hi" "$sql" > "$TMP/$name.pgbench"
	rm -f "$TMP/$name"_log*
	pgbench -n -c 1 -T "$DURATION" -f "$TMP/$name.pgbench" -l --log-prefix="$TMP/${name}_log" \
		> "$TMP/$name.out" 2>&1 || { cat "$TMP/$name.out"; exit 1; }
	cat "$TMP/${name}_log"* | awk '{ print $3 }' | sort -n | awk -v name="$name" '
		{ v[NR] = $1 }
		END { printf "  %s: %d calls, p50 %.3f ms, p95 %.3f ms, p99 %.3f ms\n", name, NR,
			v[int(NR * 0.50)] / 1000, v[int(NR * 0.95)] / 1000, v[int(NR * 0.99)] / 1000 }'
}
measure budget_status 'SELECT * FROM aistudio.budget_status(:id);' "$app_min" "$app_max"
measure llm_budget_status 'SELECT * FROM aistudio.llm_budget_status(:id);' "$llm_min" "$llm_max"
