#!/usr/bin/env bash
# bench/extension/ingest.sh: analytics ingestion throughput, the gateway's
# batch path: per transaction, COPY one batch into aistudio.interaction_staging
# and call aistudio.ingest_staged() (validation, cost computed in the
# database from model prices, idempotent insert, rollup_pending aggregates).
#
# Needs PGHOST/PGPORT/PGDATABASE (+PGUSER, a superuser) naming a database
# with the extension.  Knobs (environment):
#   EVENTS=500000  events per run          BATCH=10000  events per COPY batch
#   CLIENTS="1 2"  concurrent writers      UUIDS=v7     v7 (time-ordered, what
#                                                       gatewayd mints) or v4
# Prints one line per client count: events, seconds, events/s.
set -euo pipefail
EVENTS=${EVENTS:-500000}
BATCH=${BATCH:-10000}
CLIENTS=${CLIENTS:-"1 2"}
UUIDS=${UUIDS:-v7}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
TMP=$(mktemp -d /tmp/aistudio-ingest.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT

# Setup (not measured): LLMs, prices, an owner and apps.
"${PSQL[@]}" <<'SQL'
INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint) VALUES
  ('bench-openai', 'bench-openai', 'openai', 'http://127.0.0.1:1/v1'),
  ('bench-anthropic', 'bench-anthropic', 'anthropic', 'http://127.0.0.1:1/v1')
ON CONFLICT DO NOTHING;
INSERT INTO aistudio.model_prices (vendor, model_name, input_per_mtok, output_per_mtok, cache_read_per_mtok) VALUES
  ('openai', 'gpt-4o', 2.5, 10, 1.25), ('openai', 'gpt-4o-mini', 0.15, 0.6, NULL),
  ('anthropic', 'claude-3-5-sonnet', 3, 15, 0.3)
ON CONFLICT DO NOTHING;
INSERT INTO aistudio.users (email, name, role) VALUES ('bench@example.com', 'bench', 'developer')
ON CONFLICT DO NOTHING;
INSERT INTO aistudio.apps (name, owner_id)
SELECT 'bench-app-' || g, (SELECT id FROM aistudio.users WHERE lower(email) = 'bench@example.com')
  FROM generate_series(1, 50) g
ON CONFLICT DO NOTHING;
SQL

# Generate the batches as CSV files (not measured): realistic events of the
# last hour, 2% replays are not included (each event is new).
nbatches=$(( (EVENTS + BATCH - 1) / BATCH ))
llm_openai=$("${PSQL[@]}" -At -c "SELECT id FROM aistudio.llms WHERE name = 'bench-openai'")
llm_anthropic=$("${PSQL[@]}" -At -c "SELECT id FROM aistudio.llms WHERE name = 'bench-anthropic'")
app_min=$("${PSQL[@]}" -At -c "SELECT min(id) FROM aistudio.apps WHERE name LIKE 'bench-app-%'")
if [ "$UUIDS" = v7 ]; then
	uuid_expr="(lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid"
else
	uuid_expr="gen_random_uuid()"
fi
for ((b = 0; b < nbatches; b++)); do
	"${PSQL[@]}" -c "COPY (
	  SELECT ts, $uuid_expr, 1 + (g % 500), $app_min + (g % 50),
	         CASE WHEN g % 4 = 0 THEN $llm_anthropic ELSE $llm_openai END,
	         CASE WHEN g % 4 = 0 THEN 'anthropic' ELSE 'openai' END,
	         CASE WHEN g % 4 = 0 THEN 'claude-3-5-sonnet-20241022' WHEN g % 4 = 1 THEN 'gpt-4o-mini'
	              WHEN g % 4 = 2 THEN 'gpt-4o-2024-08-06' ELSE 'gpt-4o' END,
	         200 + g % 3000, 50 + g % 800, CASE WHEN g % 4 = 0 THEN g % 100 ELSE 0 END, g % 150,
	         80 + g % 900, CASE WHEN g % 5 = 0 THEN 'chat' ELSE 'proxy' END,
	         CASE WHEN g % 50 = 0 THEN 429 ELSE 200 END, '', '', NULL
	    FROM (SELECT g, now() - interval '1 hour' + (($b * $BATCH + g) * interval '3600 second') / $EVENTS AS ts
	            FROM generate_series(1, $BATCH) g) s
	) TO STDOUT WITH (FORMAT csv)" > "$TMP/batch_$b.csv"
done

# The columns of the batches (interaction_staging has more: credential_id,
# the captured bodies).
COLS='("timestamp", request_id, user_id, app_id, llm_id, vendor, model_name, prompt_tokens, response_tokens,'
COLS+=' cache_write_tokens, cache_read_tokens, latency_ms, interaction_type, status_code, namespace, edge_id, error)'

# One writer: BEGIN; COPY; ingest_staged(); COMMIT per batch, as the gateway role.
writer() {
	local first=$1 step=$2 script="$TMP/writer_$1.sql"
	echo "SET ROLE aistudio_gateway;" > "$script"
	for ((b = first; b < nbatches; b += step)); do
		printf 'BEGIN;\n\\copy aistudio.interaction_staging %s FROM %s WITH (FORMAT csv)\nSELECT * FROM aistudio.ingest_staged() \\g /dev/null\nCOMMIT;\n' \
			"$COLS" "$TMP/batch_$b.csv" >> "$script"
	done
	"${PSQL[@]}" -f "$script"
}

echo "ingest: $EVENTS events in batches of $BATCH, uuid $UUIDS"
for c in $CLIENTS; do
	"${PSQL[@]}" -c "TRUNCATE aistudio.llm_interactions, aistudio.rollup_pending, aistudio.ingest_rejects" \
		-c "CHECKPOINT"
	start=$(date +%s.%N)
	pids=()
	for ((w = 0; w < c; w++)); do writer "$w" "$c" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p"; done
	end=$(date +%s.%N)
	stored=$("${PSQL[@]}" -At -c "SELECT count(*) FROM aistudio.llm_interactions")
	priced=$("${PSQL[@]}" -At -c "SELECT count(*) FILTER (WHERE priced) FROM aistudio.llm_interactions")
	awk -v c="$c" -v n="$stored" -v p="$priced" -v s="$start" -v e="$end" 'BEGIN {
		printf "  %d writer(s): %d events stored (%d priced) in %.2f s = %.0f events/s\n", c, n, p, e - s, n / (e - s) }'
	# a replay of the first batch changes nothing
	if [ "$c" = "$(echo "$CLIENTS" | awk '{print $NF}')" ]; then
		"${PSQL[@]}" -At -c "BEGIN" -c "\\copy aistudio.interaction_staging $COLS FROM $TMP/batch_0.csv WITH (FORMAT csv)" \
			-c "SELECT format('  replay of one batch: inserted %s, duplicates %s, rejected %s', inserted, duplicates, rejected) FROM aistudio.ingest_staged()" \
			-c "COMMIT"
	fi
done
