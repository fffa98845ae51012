#!/usr/bin/env bash
# bench/sync/run.sh: the control plane's benchmark (issue 10): simulated
# edges (bench/sync/syncsim, the real Sync protocol through gatewayd's own
# rpc and protobuf code) against one real hub (gatewayd GATEWAY_MODE=control)
# on a scratch PostgreSQL cluster. A benchmark, not a test: nothing here
# fails on a slow number; it fails only when something cannot run at all.
#
#   bash bench/sync/run.sh            (bash bench/run.sh sync calls it)
#   SCENARIOS="push heartbeat pull" PUSH_EDGES=100 HB_EDGES=1000 HB_SECONDS=60 \
#   HB_CONNS=200 APPS=10000 PULLS=20 bash bench/sync/run.sh
#
# Scenarios (targets of issue 10 on a 2-core machine):
#   push       PUSH_EDGES edges (two namespaces) connected and in sync; a
#              config change (a global model price) + aistudio.push_config()
#              → time until every edge has applied the push and reported the
#              new checksum (p50, p100; target p100 <= 2 s), and until
#              aistudio.list_edges says in_sync for all of them
#   heartbeat  HB_EDGES edges heartbeating every second for HB_SECONDS: the
#              hub process's CPU (utime+stime from /proc) (target < 1 core)
#              and PostgreSQL's (the postmaster and its children)
#   pull       a namespace of APPS apps: PULLS snapshot pulls by one edge,
#              the RPC's latency as its client sees it (target <= 200 ms)
# Edges are enrolled with aistudio.enroll_edge (one token each). The hub
# logs at info (its default) into the work directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/sync"
SCENARIOS=${SCENARIOS:-push heartbeat pull}
PUSH_EDGES=${PUSH_EDGES:-100}
HB_EDGES=${HB_EDGES:-1000}
HB_SECONDS=${HB_SECONDS:-60}
HB_CONNS=${HB_CONNS:-}
APPS=${APPS:-10000}
PULLS=${PULLS:-20}
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/aistudio-bench-sync.XXXXXX)
RUNAS=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$WORK"; RUNAS=(runuser -u postgres --); fi
as_owner() { "${RUNAS[@]}" "$@"; }

PORT=$((20000 + RANDOM % 30000))
HUBPID=
cleanup() {
	set +e
	if [ -n "$HUBPID" ]; then kill "$HUBPID" 2> /dev/null; wait "$HUBPID" 2> /dev/null; fi
	as_owner "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop > /dev/null 2>&1
	if [ -n "${KEEP_WORK:-}" ]; then echo "# work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
log() { echo "# $*" >&2; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2> /dev/null ||
		node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_http() {
	local url=$1 secs=${2:-30} i
	for ((i = 0; i < secs * 20; i++)); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2> /dev/null)" = 200 ]; then return 0; fi
		sleep 0.05
	done
	echo "not answering: $url" >&2
	return 1
}
kv() { # kv KEY FILE: the value of the last key=value in FILE
	sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2" | tail -1
}

# ---- builds --------------------------------------------------------------------
if ! flock /tmp/aistudio-gw.lock make -s -C "$ROOT/gatewayd" > "$WORK/build.log" 2>&1; then
	cat "$WORK/build.log" >&2
	exit 1
fi
make -s -C "$HERE" > "$WORK/build-sim.log" 2>&1 || { cat "$WORK/build-sim.log" >&2; exit 1; }
GATEWAYD=$ROOT/gatewayd/gatewayd
SIM=$HERE/syncsim
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"

echo "## control plane benchmark (bench/sync)"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
echo "cpu: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), gatewayd $(cd "$ROOT" && git rev-parse --short HEAD 2> /dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- the cluster -----------------------------------------------------------------
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
shared_buffers = 256MB
max_wal_size = 4GB
synchronous_commit = off
CONF
as_owner "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/server.log" -w start > /dev/null
PGPID=$(head -1 "$WORK/pg/postmaster.pid")
export PGHOST="$WORK" PGPORT="$PORT" PGUSER=postgres PGDATABASE=bench
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"
"${PSQL[@]}" -c "CREATE EXTENSION pg_aistudio" -c "CREATE ROLE gw LOGIN IN ROLE aistudio_gateway"

# ---- data (set-up, not measured) ------------------------------------------------
# two namespaces for the pushed edges; 'big' holds APPS apps for the pull
"${PSQL[@]}" -v apps="$APPS" <<'SQL'
SET client_min_messages = warning;
SELECT aistudio.create_namespace('eu', 'Europe'), aistudio.create_namespace('us', 'America'),
       aistudio.create_namespace('big', 'Many apps') \g /dev/null
SELECT aistudio.create_user('dev@bench.invalid', 'Bench Dev', role => 'developer') AS dev \gset
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.5, 10) \g /dev/null
-- a few LLMs per namespace, literal keys (sealed under the master key, re-sealed per edge)
SELECT aistudio.create_llm(ns || ' GPT ' || g, 'openai', 'http://127.0.0.1:1/v1', api_key => 'sk-bench-' || ns || g,
                           default_model => 'gpt-4o', namespace => ns)
  FROM unnest(ARRAY['', 'eu', 'us', 'big']) ns, generate_series(1, 3) g \g /dev/null
SELECT aistudio.create_app('app ' || ns || g, :dev,
                           (SELECT array_agg(id) FROM aistudio.llms WHERE namespace IN ('', ns)), namespace => ns)
  FROM unnest(ARRAY['', 'eu', 'us']) ns, generate_series(1, 5) g \g /dev/null
-- APPS apps in 'big' (bulk), each with two of its LLMs, half with a budget
INSERT INTO aistudio.apps (name, description, owner_id, monthly_budget, namespace)
SELECT 'big-app-' || lpad(g::text, 5, '0'), 'bench app ' || g, :dev, CASE WHEN g % 2 = 0 THEN 50 + g END, 'big'
  FROM generate_series(1, :apps) g;
INSERT INTO aistudio.app_llms (app_id, llm_id)
SELECT a.id, l.id FROM aistudio.apps a JOIN aistudio.llms l ON l.namespace = 'big'
 WHERE a.namespace = 'big' AND (a.id + l.id) % 3 <> 0
ON CONFLICT DO NOTHING;
ANALYZE;
SQL
enroll() { # enroll PREFIX COUNT NAMESPACES… > file: edge_id, namespace, token
	local prefix=$1 n=$2
	shift 2
	local nss
	nss=$(printf "'%s'," "$@")
	"${PSQL[@]}" -At -F $'\t' -c "SELECT id, ns, aistudio.enroll_edge(id, ns) FROM (
		SELECT '$prefix' || lpad(g::text, 4, '0') AS id, (ARRAY[${nss%,}])[1 + g % $#] AS ns
		  FROM generate_series(1, $n) g) x"
}
t0=$(date +%s.%N)
enroll push- "$PUSH_EDGES" eu us > "$WORK/push.tsv"
enroll hb- "$HB_EDGES" eu us > "$WORK/hb.tsv"
enroll big- 1 big > "$WORK/big.tsv"
read -r napps nbytes < <("${PSQL[@]}" -At -F ' ' -c "SELECT (SELECT count(*) FROM aistudio.apps WHERE namespace = 'big'),
	length(aistudio.snapshot('big'))")
echo "set-up (not measured): $((PUSH_EDGES + HB_EDGES + 1)) edges enrolled in $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s;" \
	"namespace 'big': $napps apps, snapshot $nbytes bytes"

# ---- the hub -------------------------------------------------------------------
GRPC=$(free_port)
SPORT=$(free_port)
mkdir -p "$WORK/spool"
[ -z "${RUNAS[*]}" ] || chown postgres: "$WORK/spool"
env -i PATH="$PATH" GATEWAY_MODE=control DATABASE_URL="host=$WORK port=$PORT dbname=bench user=gw" \
	AISTUDIO_SECRET_KEY_FILE="$WORK/secret.key" PROXY_PORT="$(free_port)" SERVER_PORT="$SPORT" \
	DOCS_PORT="$(free_port)" GRPC_PORT="$GRPC" LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool" LOG_LEVEL=info \
	"$GATEWAYD" > "$WORK/hub.log" 2>&1 &
HUBPID=$!
wait_http "http://127.0.0.1:$SPORT/readyz" 30 || { tail -50 "$WORK/hub.log" >&2; exit 1; }
DB="host=$WORK port=$PORT dbname=bench user=postgres"
echo "hub: gatewayd pid $HUBPID, gRPC 127.0.0.1:$GRPC; PostgreSQL 15 postmaster pid $PGPID; the simulator on the same 2 cores"
echo

declare -A R
if [[ " $SCENARIOS " == *" push "* ]]; then
	log "push: $PUSH_EDGES edges"
	"$SIM" run --target "127.0.0.1:$GRPC" --edges "$WORK/push.tsv" --db "$DB" --id-prefix push- \
		--push-sql "SELECT aistudio.set_model_price('openai', 'gpt-4o', round((2.5 + random())::numeric, 6), 10); SELECT aistudio.push_config()" \
		> "$WORK/push.out" 2> "$WORK/push.err" || log "push: the simulator failed (see below)"
	cat "$WORK/push.out" >&2
	R[push]=$(printf '| %s edges connected, config change + push to all → every edge applied and reported the new checksum | p50 %s ms, p100 %s ms (Reload received: p100 %s ms); list_edges all in_sync after %s ms (%s/%s in_sync) | p100 ≤ 2,000 ms |' \
		"$PUSH_EDGES" "$(kv applied_p50_ms "$WORK/push.out")" "$(kv applied_p100_ms "$WORK/push.out")" \
		"$(kv reload_p100_ms "$WORK/push.out")" "$(kv hub_view_all_in_sync_ms "$WORK/push.out")" \
		"$(kv list_edges_in_sync "$WORK/push.out")" "$PUSH_EDGES")
fi
if [[ " $SCENARIOS " == *" heartbeat "* ]]; then
	log "heartbeat: $HB_EDGES edges for $HB_SECONDS s"
	conns=()
	[ -z "$HB_CONNS" ] || conns=(--conns "$HB_CONNS")
	"$SIM" run --target "127.0.0.1:$GRPC" --edges "$WORK/hb.tsv" --db "$DB" --id-prefix hb- "${conns[@]}" \
		--interval 1 --hold "$HB_SECONDS" --hub-pid "$HUBPID" --pg-pid "$PGPID" \
		> "$WORK/hb.out" 2> "$WORK/hb.err" || log "heartbeat: the simulator failed (see below)"
	cat "$WORK/hb.out" >&2
	R[heartbeat]=$(printf '| %s edges (%s gRPC connections) heartbeating every 1 s for %s s (%s heartbeats/s answered) | hub %s cores; PostgreSQL %s cores; simulator %s cores | hub < 1 core |' \
		"$HB_EDGES" "$(kv conns "$WORK/hb.out")" "$HB_SECONDS" "$(kv acks_per_s "$WORK/hb.out")" \
		"$(kv hub_cpu_cores "$WORK/hb.out")" "$(kv pg_cpu_cores "$WORK/hb.out")" "$(kv sim_cpu_cores "$WORK/hb.out")")
fi
if [[ " $SCENARIOS " == *" pull "* ]]; then
	log "pull: $PULLS pulls of a namespace of $napps apps"
	"$SIM" pull --target "127.0.0.1:$GRPC" --edges "$WORK/big.tsv" --pulls "$PULLS" \
		> "$WORK/pull.out" 2> "$WORK/pull.err" || log "pull: the simulator failed (see below)"
	cat "$WORK/pull.out" >&2
	R[pull]=$(printf '| PullSnapshot of a namespace of %s apps (%s bytes), %s pulls by one edge | p50 %s ms, p99 %s ms (decoding + opening keys on the edge: p50 %s ms) | ≤ 200 ms |' \
		"$napps" "$(kv bytes "$WORK/pull.out")" "$PULLS" "$(kv rpc_p50_ms "$WORK/pull.out")" \
		"$(kv rpc_p99_ms "$WORK/pull.out")" "$(kv build_p50_ms "$WORK/pull.out")")
fi
for f in push hb pull; do
	if [ -s "$WORK/$f.err" ]; then log "$f: simulator stderr:"; tail -5 "$WORK/$f.err" >&2; fi
done
if grep -q 'WARN\|ERROR' "$WORK/hub.log"; then
	log "hub warnings/errors (first 5):"
	grep 'WARN\|ERROR' "$WORK/hub.log" | head -5 >&2
fi

echo "| scenario | measured | target |"
echo "|---|---|---|"
for s in push heartbeat pull; do [ -z "${R[$s]:-}" ] || echo "${R[$s]}"; done
