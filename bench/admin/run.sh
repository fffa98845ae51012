#!/usr/bin/env bash
# bench/admin/run.sh: latency of the admin REST API (gatewayd SERVER_PORT)
# against the issue's targets: list endpoints p95 <= 20 ms with 10,000 apps,
# dashboard analytics p95 <= 50 ms with 10 million events stored. A
# benchmark, not a test: nothing here fails on a slow number.
#
#   bash bench/admin/run.sh        (EVENTS=10000000 APPS=10000 N=200 WARMUP=20)
#
# Scratch cluster like bench/run.sh; data: a super admin, APPS apps (bulk
# INSERT … SELECT generate_series), EVENTS events (bench/extension/gen-events.sql)
# and their rollups (aistudio.rollup_rebuild); then gatewayd, a cookie login,
# and N sequential GETs per endpoint after WARMUP, timed by curl (time_total).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EVENTS=${EVENTS:-10000000}
APPS=${APPS:-10000}
N=${N:-200}
WARMUP=${WARMUP:-20}
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/aistudio-bench-admin.XXXXXX)
RUNAS=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$WORK"; RUNAS=(runuser -u postgres --); fi
as_owner() { "${RUNAS[@]}" "$@"; }

PORT=$((20000 + RANDOM % 30000))
GWPID=
cleanup() {
	if [ -n "$GWPID" ]; then kill "$GWPID" 2> /dev/null || true; wait "$GWPID" 2> /dev/null || true; fi
	as_owner "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop > /dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

. "$ROOT/bench/lib.sh" # free_port, wait_http
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", e - s }'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
echo "cpu: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"

GATEWAYD=$ROOT/gatewayd/gatewayd
if [ ! -x "$GATEWAYD" ]; then make -s -C "$ROOT/gatewayd" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }; fi

as_owner "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust > "$WORK/initdb.log" 2>&1
as_owner bash -c "umask 077; openssl rand -hex 32 > '$WORK/secret.key'"
as_owner bash -c "cat >> '$WORK/pg/postgresql.conf'" <<CONF
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PORT
shared_preload_libraries = 'pg_aistudio'
pg_aistudio.worker_database = 'bench'
pg_aistudio.rollup_interval = 0
pg_aistudio.secret_key_file = '$WORK/secret.key'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
synchronous_commit = off
CONF
as_owner "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/server.log" -w start > /dev/null
export PGHOST="$WORK" PGPORT="$PORT" PGUSER=postgres PGDATABASE=bench
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
"${PSQL[@]}" -c "CREATE EXTENSION pg_aistudio" -c "CREATE ROLE gw LOGIN IN ROLE aistudio_gateway"

# --- data (set-up, not measured)
t0=$(now)
"${PSQL[@]}" -v events="$EVENTS" -f "$ROOT/bench/extension/gen-events.sql"   # + 50 bench-app-N apps, 2 LLMs
t1=$(now)
counted=$("${PSQL[@]}" -At -c "SELECT aistudio.rollup_rebuild(now() - interval '31 days', now() + interval '1 day')")
t2=$(now)
ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD='admin bench password 0123'
"${PSQL[@]}" -v apps="$APPS" -v pw="$ADMIN_PASSWORD" <<'SQL'
SELECT aistudio.create_user('admin@example.com', 'Bench Admin', :'pw', 'super_admin') \g /dev/null
SELECT aistudio.create_user('dev@example.com', 'Bench Dev', 'developer password 0123', 'developer') AS dev \gset
SELECT aistudio.create_llm('LLM ' || g, CASE WHEN g % 2 = 0 THEN 'anthropic' ELSE 'openai' END,
                           'http://127.0.0.1:1/v1', 'sk-bench-' || g) FROM generate_series(1, 3) g \g /dev/null
SELECT count(*) AS have FROM aistudio.apps \gset
INSERT INTO aistudio.apps (name, description, owner_id, monthly_budget, budget_start_date)
SELECT 'app-' || lpad(g::text, 5, '0'), 'bench app ' || g, :dev,
       CASE WHEN g % 3 = 0 THEN 100 + g END, CASE WHEN g % 6 = 0 THEN date '2025-01-01' + (g % 28) END
  FROM generate_series(1, :apps - :have) g;
INSERT INTO aistudio.app_llms (app_id, llm_id)
SELECT a.id, l.id FROM aistudio.apps a JOIN aistudio.llms l ON l.name LIKE 'LLM %'
 WHERE a.name LIKE 'app-%' AND (a.id + l.id) % 2 = 0
ON CONFLICT DO NOTHING;
VACUUM ANALYZE aistudio.apps;
VACUUM ANALYZE aistudio.app_llms;
VACUUM ANALYZE aistudio.users;
VACUUM ANALYZE aistudio.llms;
SQL
t3=$(now)
read -r napps nlinks nevents ndaily nhourly < <("${PSQL[@]}" -At -F ' ' -c "SELECT (SELECT count(*) FROM aistudio.apps),
	(SELECT count(*) FROM aistudio.app_llms), (SELECT count(*) FROM aistudio.llm_interactions),
	(SELECT count(*) FROM aistudio.usage_daily), (SELECT count(*) FROM aistudio.usage_hourly)")
echo "set-up (not measured): $nevents events in $(elapsed "$t0" "$t1") s, rollup_rebuild ($counted) in $(elapsed "$t1" "$t2") s," \
	"$napps apps / $nlinks app_llms in $(elapsed "$t2" "$t3") s; rollups: $ndaily daily, $nhourly hourly rows"
"${PSQL[@]}" -c "CHECKPOINT"

# --- gatewayd
SPORT=$(free_port)
mkdir -p "$WORK/spool"
[ -z "${RUNAS[*]}" ] || chown postgres: "$WORK/spool"
env -i PATH="$PATH" DATABASE_URL="host=$WORK port=$PORT dbname=bench user=gw" \
	AISTUDIO_SECRET_KEY_FILE="$WORK/secret.key" PROXY_PORT="$(free_port)" SERVER_PORT="$SPORT" \
	DOCS_PORT="$(free_port)" GRPC_PORT="$(free_port)" LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool" LOG_LEVEL=warn \
	"$GATEWAYD" > "$WORK/gatewayd.log" 2>&1 &
GWPID=$!
wait_http "http://127.0.0.1:$SPORT/readyz" 30 || { tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
API=http://127.0.0.1:$SPORT/api/v1

code=$(curl -s -o "$WORK/login.json" -w '%{http_code}' -c "$WORK/jar" -H 'Content-Type: application/json' \
	-d "{\"email\": \"$ADMIN_EMAIL\", \"password\": \"$ADMIN_PASSWORD\"}" "$API/auth/login")
[ "$code" = 200 ] || { echo "login failed: $code $(cat "$WORK/login.json")" >&2; exit 1; }
echo "gatewayd $(cd "$ROOT" && git rev-parse --short HEAD 2> /dev/null || echo '?'), $N sequential requests per endpoint after $WARMUP warm-up, curl time_total (a new connection per request)"

# the dashboard's ranges (www/app/dashboard.js): 30 days by day, 24 hours by hour
read -r D_FROM D_TO H_FROM H_TO < <(python3 - <<'PY' 2>/dev/null || node -e '
const n=new Date(),e=Date.UTC(n.getUTCFullYear(),n.getUTCMonth(),n.getUTCDate()+1),h=Date.UTC(n.getUTCFullYear(),n.getUTCMonth(),n.getUTCDate(),n.getUTCHours()+1);
console.log(new Date(e-30*86400e3).toISOString(),new Date(e).toISOString(),new Date(h-24*3600e3).toISOString(),new Date(h).toISOString())'
import datetime as d
n = d.datetime.now(d.timezone.utc)
e = d.datetime(n.year, n.month, n.day, tzinfo=d.timezone.utc) + d.timedelta(days=1)
h = d.datetime(n.year, n.month, n.day, n.hour, tzinfo=d.timezone.utc) + d.timedelta(hours=1)
f = lambda t: t.strftime('%Y-%m-%dT%H:%M:%S.000Z')
print(f(e - d.timedelta(days=30)), f(e), f(h - d.timedelta(hours=24)), f(h))
PY
)
D="from=$D_FROM&to=$D_TO"
H="from=$H_FROM&to=$H_TO"

bench() {
	local label=$1 path=$2 target=$3 i code
	code=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/jar" "$API$path")
	if [ "$code" != 200 ]; then printf '%-58s HTTP %s: %s\n' "$label" "$code" "$(head -c 200 "$WORK/body")"; return; fi
	local bytes; bytes=$(wc -c < "$WORK/body")
	for ((i = 0; i < WARMUP; i++)); do curl -s -o /dev/null -b "$WORK/jar" "$API$path"; done
	for ((i = 0; i < N; i++)); do curl -s -o /dev/null -w '%{time_total}\n' -b "$WORK/jar" "$API$path"; done |
		sort -g | awk -v label="$label" -v target="$target" -v bytes="$bytes" '
			{ v[NR] = $1 * 1000 }
			END { p50 = v[int((NR - 1) * 0.50) + 1]; p95 = v[int((NR - 1) * 0.95) + 1]
			      printf "%-58s p50 %6.2f  p95 %6.2f  max %7.2f ms  (%s B; target p95 <= %s ms: %s)\n",
			             label, p50, p95, v[NR], bytes, target, (p95 <= target ? "met" : "MISSED") }'
}

echo
echo "== lists ($napps apps)"
bench "GET /apps?page=1&page_size=100" "/apps?page=1&page_size=100" 20
bench "GET /apps?page=50&page_size=100" "/apps?page=50&page_size=100" 20
bench "GET /apps (default page)" "/apps" 20
bench "GET /apps?search=app-0999" "/apps?search=app-0999" 20
bench "GET /llms" "/llms" 20
bench "GET /users" "/users" 20
echo
echo "== dashboard analytics ($nevents events; 30-day range by day, as the UI's default)"
bench "GET /analytics/usage group_by=day (30 d)" "/analytics/usage?$D&group_by=day" 50
bench "GET /analytics/usage group_by=vendor (30 d)" "/analytics/usage?$D&group_by=vendor" 50
bench "GET /analytics/usage group_by=model (30 d)" "/analytics/usage?$D&group_by=model" 50
bench "GET /analytics/usage group_by=app (30 d)" "/analytics/usage?$D&group_by=app" 50
bench "GET /analytics/top-models limit=8 (30 d)" "/analytics/top-models?$D&limit=8" 50
bench "GET /analytics/top-apps limit=8 (30 d)" "/analytics/top-apps?$D&limit=8" 50
bench "GET /analytics/top-users limit=8 (30 d)" "/analytics/top-users?$D&limit=8" 50
bench "GET /analytics/budgets subject=app page_size=8" "/analytics/budgets?subject=app&page_size=8" 50
bench "GET /analytics/budgets subject=llm page_size=8" "/analytics/budgets?subject=llm&page_size=8" 50
echo
echo "== dashboard analytics, 24-hour range by hour"
bench "GET /analytics/usage group_by=hour (24 h)" "/analytics/usage?$H&group_by=hour" 50
bench "GET /analytics/usage group_by=vendor (24 h)" "/analytics/usage?$H&group_by=vendor" 50
bench "GET /analytics/top-models limit=8 (24 h)" "/analytics/top-models?$H&limit=8" 50
