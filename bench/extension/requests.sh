#!/usr/bin/env bash
# bench/extension/requests.sh: latency of one page (50 rows) of the request
# log, aistudio.list_requests, with EVENTS (default 10 million) events over
# 30 days (bench/extension/gen-events.sql: 50 apps, 500 users, 4 models, 2%
# status 429 with error code rate_limited), filtered by app, status, model,
# error code, a one-hour range, all combined, and continued after a random
# point (a deep keyset page); as a DBA (sees everything) and as the
# developer who owns the 50 apps (the requests of their apps, any of them,
# planned with the list of apps).  One pgbench client per case, random values; prints p50/p95/p99
# in ms from pgbench's per-transaction log (round trip over the Unix socket
# included).
#
# Needs PGHOST/PGPORT/PGDATABASE (+PGUSER, a superuser) naming a database
# with the extension.  DURATION (default 10) seconds per case.
set -euo pipefail
EVENTS=${EVENTS:-10000000}
DURATION=${DURATION:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
TMP=$(mktemp -d /tmp/aistudio-requests.XXXXXX)
chmod 777 "$TMP"
trap 'rm -rf "$TMP"' EXIT

stored=$("${PSQL[@]}" -At -c "SELECT count(*) FROM aistudio.llm_interactions")
if [ "$stored" -lt "$EVENTS" ]; then
	start=$(date +%s)
	"${PSQL[@]}" -v events="$((EVENTS - stored))" -f "$HERE/gen-events.sql"
	echo "set-up: $((EVENTS - stored)) events generated in $(($(date +%s) - start)) s (not measured)"
fi

read -r app_min app_max dev < <("${PSQL[@]}" -At -F ' ' -c \
	"SELECT min(id), max(id), min(owner_id) FROM aistudio.apps WHERE name LIKE 'bench-app-%'")
read -r events t0 t1 < <("${PSQL[@]}" -At -F ' ' -c \
	"SELECT count(*), extract(epoch FROM min(\"timestamp\"))::bigint, extract(epoch FROM max(\"timestamp\"))::bigint
	   FROM aistudio.llm_interactions")
echo "list_requests: $events events stored, pages of 50 rows, 1 client, ${DURATION}s per case"

measure() {
	local name=$1 sql=$2 options=${3:-}
	{
		printf '\\set app random(%s, %s)\n' "$app_min" "$app_max"
		printf '\\set t random(%s, %s)\n' "$((t0 + 3600))" "$t1"
		printf '\\set m random(0, 3)\n'
		printf '%s\n' "$sql"
	} > "$TMP/$name.pgbench"
	rm -f "$TMP/$name"_log*
	PGOPTIONS="$options" pgbench -n -c 1 -T "$DURATION" -f "$TMP/$name.pgbench" -l --log-prefix="$TMP/${name}_log" \
		> "$TMP/$name.out" 2>&1 || { cat "$TMP/$name.out"; exit 1; }
	cat "$TMP/${name}_log"* | awk '{ print $3 }' | sort -n | awk -v name="$name" '
		{ v[NR] = $1 }
		END { printf "  %-22s %6d pages, p50 %7.3f ms, p95 %7.3f ms, p99 %7.3f ms\n", name, NR,
			v[int(NR * 0.50)] / 1000, v[int(NR * 0.95)] / 1000, v[int(NR * 0.99)] / 1000 }'
}
MODEL="(ARRAY['claude-3-5-sonnet-20241022','gpt-4o-mini','gpt-4o-2024-08-06','gpt-4o'])[:m + 1]"
AT="to_timestamp(:t)"
# every case counts its rows, so that the whole page is produced
P="SELECT count(*) FROM aistudio.list_requests"
measure newest "$P(limit_rows => 50);"
measure by_app "$P(by_app => :app, limit_rows => 50);"
measure by_status "$P(by_status => 429, limit_rows => 50);"
measure by_model "$P(by_model => $MODEL, limit_rows => 50);"
measure by_error_code "$P(by_error_code => 'rate_limited', limit_rows => 50);"
measure time_range "$P(since => $AT - interval '1 hour', until => $AT, limit_rows => 50);"
measure combined "$P(by_app => :app, by_status => 429, by_model => $MODEL, since => $AT - interval '7 days', until => $AT, limit_rows => 50);"
measure deep_page "$P(after_timestamp => $AT, after_request_id => 'ffffffff-ffff-ffff-ffff-ffffffffffff', limit_rows => 50);"
measure app_deep_page "$P(by_app => :app, after_timestamp => $AT, after_request_id => 'ffffffff-ffff-ffff-ffff-ffffffffffff', limit_rows => 50);"
measure developer "$P(limit_rows => 50);" "-c pg_aistudio.acting_user=$dev"
measure developer_status "$P(by_status => 429, limit_rows => 50);" "-c pg_aistudio.acting_user=$dev"
