#!/usr/bin/env bash
# bench/sync/run.sh: the control plane's benchmark (issue 10): simulated
# edges (bench/sync/syncsim, the real Sync protocol through gatewayd's own
# rpc and protobuf code) against one real hub (gatewayd GATEWAY_MODE=control)
# on a scratch PostgreSQL cluster. A benchmark, not a test: nothing here
# fails on a slow number; it fails only when something cannot run at all.
#
#   bash bench/sync/run.sh            (bash bench/run.sh sync calls it)
#   SCENARIOS="push pull heartbeat lease" PUSH_EDGES=100 HB_EDGES=1000 HB_SECONDS=60 \
#   HB_CONNS=200 APPS=10000 PULLS=20 LEASE_N=20000 LEASE_ROUNDS=4 bash bench/sync/run.sh
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
#              the RPC's latency as its client sees it (target <= 200 ms);
#              it runs before heartbeat: right after 1,000 edges disconnect
#              at once the hub and PostgreSQL are busy for a few seconds
#   lease      a real edge (gatewayd GATEWAY_MODE=edge, its own database in
#              the same cluster) in front of the mock upstream (bench/mock),
#              a second hub started at LOG_LEVEL=debug to count the lease
#              calls; LEASE_N sequential keep-alive requests (bench/gateway
#              loadgen seq) for an app without a budget and for one with a
#              budget small enough that the edge renews its lease several
#              times during the run, alternately, LEASE_ROUNDS times: proxied
#              p50/p99 of both (target: no difference: renewal ahead of need)
# Edges are enrolled with aistudio.enroll_edge (one token each). The hub
# logs at info (its default) into the work directory. GATEWAYD_BIN: another
# gatewayd binary for the hub and the edge (a before/after comparison).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/sync"
SCENARIOS=${SCENARIOS:-push pull heartbeat lease}
PUSH_EDGES=${PUSH_EDGES:-100}
HB_EDGES=${HB_EDGES:-1000}
HB_SECONDS=${HB_SECONDS:-60}
HB_CONNS=${HB_CONNS:-}
APPS=${APPS:-10000}
PULLS=${PULLS:-20}
LEASE_N=${LEASE_N:-20000}
LEASE_ROUNDS=${LEASE_ROUNDS:-4}
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/aistudio-bench-sync.XXXXXX)
RUNAS=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$WORK"; RUNAS=(runuser -u postgres --); fi
as_owner() { "${RUNAS[@]}" "$@"; }

PORT=$((20000 + RANDOM % 30000))
HUBPID=
PIDS=()
cleanup() {
	set +e
	for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; done
	if [ -n "$HUBPID" ]; then kill "$HUBPID" 2> /dev/null; wait "$HUBPID" 2> /dev/null; fi
	as_owner "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop > /dev/null 2>&1
	if [ -n "${KEEP_WORK:-}" ]; then echo "# work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
log() { echo "# $*" >&2; }

. "$ROOT/bench/lib.sh" # free_port, wait_http
kv() { # kv KEY FILE: the value of the last key=value in FILE
	sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2" | tail -1
}

# ---- builds --------------------------------------------------------------------
if ! flock /tmp/aistudio-gw.lock make -s -C "$ROOT/gatewayd" > "$WORK/build.log" 2>&1; then
	cat "$WORK/build.log" >&2
	exit 1
fi
make -s -C "$HERE" > "$WORK/build-sim.log" 2>&1 || { cat "$WORK/build-sim.log" >&2; exit 1; }
GATEWAYD=${GATEWAYD_BIN:-$ROOT/gatewayd/gatewayd}
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
# start_hub LOG_LEVEL: a hub (GATEWAY_MODE=control) on the bench database;
# sets HUBPID, GRPC
start_hub() {
	GRPC=$(free_port)
	local sport
	sport=$(free_port)
	mkdir -p "$WORK/spool-$1"
	[ -z "${RUNAS[*]}" ] || chown postgres: "$WORK/spool-$1"
	env -i PATH="$PATH" GATEWAY_MODE=control DATABASE_URL="host=$WORK port=$PORT dbname=bench user=gw" \
		AISTUDIO_SECRET_KEY_FILE="$WORK/secret.key" PROXY_PORT="$(free_port)" SERVER_PORT="$sport" \
		DOCS_PORT="$(free_port)" GRPC_PORT="$GRPC" LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool-$1" LOG_LEVEL="$1" \
		"$GATEWAYD" > "$WORK/hub-$1.log" 2>&1 &
	HUBPID=$!
	wait_http "http://127.0.0.1:$sport/readyz" 30 || { tail -50 "$WORK/hub-$1.log" >&2; exit 1; }
}
stop_hub() {
	kill "$HUBPID" 2> /dev/null || true
	wait "$HUBPID" 2> /dev/null || true
	HUBPID=
}
start_hub info
DB="host=$WORK port=$PORT dbname=bench user=postgres"
echo "hub: gatewayd pid $HUBPID, gRPC 127.0.0.1:$GRPC; PostgreSQL 15 postmaster pid $PGPID; the simulator on the same 2 cores"
echo

# ---- lease: a real edge, requests with and without a budget ---------------------
lease_scenario() {
	local vkey=sk-mock-lease mport eproxy slug kfree kbudget bid tok out r
	make -s -C "$ROOT/bench/mock" > /dev/null
	make -s -C "$ROOT/bench/gateway" loadgen > /dev/null
	"$ROOT/bench/mock/mock_upstream" --port 0 --threads 1 --expect-key "$vkey" > "$WORK/mock.out" 2> "$WORK/mock.err" &
	PIDS+=($!)
	for _ in $(seq 1 100); do grep -q '^listening on' "$WORK/mock.out" 2> /dev/null && break; sleep 0.05; done
	mport=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\)$/\1/p' "$WORK/mock.out")
	[ -n "$mport" ] || { log "lease: the mock did not start"; return; }
	# 1000 USD per million tokens: a request costs 1.8 cents (18 tokens); the
	# budget: LEASE_N * LEASE_ROUNDS requests spend 60 % of it. The edge asks
	# for a quarter of the budget and renews when half of that is used: about
	# five renewals, one every second or less at the 10,000-20,000 requests/s a sequential
	# client reaches against the mock (an edge spending half its lease faster
	# than its renewal tick, 250 ms, gets refusals: see docs/BENCHMARKS.md)
	read -r slug kfree kbudget bid tok < <("${PSQL[@]}" -At -F ' ' -v mport="$mport" -v vkey="$vkey" \
		-v budget="$((LEASE_N * LEASE_ROUNDS * 3 / 100))" <<'SQL'
SET client_min_messages = warning;
SELECT aistudio.create_namespace('lease', 'Leases') \g /dev/null
SELECT aistudio.set_model_price('openai', 'gpt-lease', 1000, 1000) \g /dev/null
SELECT aistudio.create_llm('Lease GPT', 'openai', 'http://127.0.0.1:' || :'mport' || '/v1', api_key => :'vkey',
                           default_model => 'gpt-lease', namespace => 'lease') AS llm \gset
SELECT id AS dev FROM aistudio.users WHERE email = 'dev@bench.invalid' \gset
SELECT aistudio.create_app('lease free', :dev, ARRAY[:llm]::bigint[], namespace => 'lease') AS free \gset
SELECT aistudio.create_app('lease budget', :dev, ARRAY[:llm]::bigint[], monthly_budget => :budget,
                           namespace => 'lease') AS budget \gset
SELECT (SELECT slug FROM aistudio.llms WHERE id = :llm), aistudio.issue_credential(:free),
       aistudio.issue_credential(:budget), :budget, aistudio.enroll_edge('lease-1', 'lease');
SQL
	)
	"${PSQL[@]}" -d postgres -c "CREATE DATABASE edge1"
	"${PSQL[@]}" -d edge1 -c "CREATE EXTENSION pg_aistudio"
	start_hub debug
	eproxy=$(free_port)
	mkdir -p "$WORK/spool-edge"
	[ -z "${RUNAS[*]}" ] || chown postgres: "$WORK/spool-edge"
	env -i PATH="$PATH" GATEWAY_MODE=edge DATABASE_URL="host=$WORK port=$PORT dbname=edge1 user=gw" \
		CONTROL_ENDPOINT="127.0.0.1:$GRPC" EDGE_ID=lease-1 EDGE_NAMESPACE=lease EDGE_TOKEN="$tok" \
		EDGE_HEARTBEAT_INTERVAL=5 PROXY_PORT="$eproxy" SERVER_PORT="$(free_port)" DOCS_PORT="$(free_port)" \
		LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool-edge" LOG_LEVEL=info \
		"$GATEWAYD" > "$WORK/edge.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$eproxy/readyz" 30 || { log "lease: the edge is not ready"; tail -20 "$WORK/edge.log" >&2; return; }
	printf '%s' '{"model":"gpt-lease","messages":[{"role":"user","content":"Write one short sentence about the sea."}]}' > "$WORK/lease-body.json"
	: > "$WORK/lease.out"
	for ((r = 1; r <= LEASE_ROUNDS; r++)); do
		for app in free budget; do
			local key=$kfree
			[ "$app" = free ] || key=$kbudget
			out=$(nice -n 0 "$ROOT/bench/gateway/loadgen" seq -u "http://127.0.0.1:$eproxy/llm/rest/$slug/chat/completions" \
				-n "$LEASE_N" -w 50 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -f "$WORK/lease-body.json")
			echo "$app round=$r $out" >> "$WORK/lease.out"
		done
	done
	cat "$WORK/lease.out" >&2
	"${PSQL[@]}" -At -F ' ' -c "SELECT 'lease granted=' || granted || ' edge_spent=' || edge_spent FROM aistudio.edge_leases
		WHERE edge_id = 'lease-1' AND subject = 'app'" >&2
	local f b renewals times near
	renewals=$(grep -c "renew lease of app $bid:" "$WORK/hub-debug.log" || true)
	# the budgeted app's requests (the edge's own records, latency in whole
	# ms) within 250 ms of a renewal (the hub's log time) against the others
	times=$(grep "renew lease of app $bid:" "$WORK/hub-debug.log" | awk '{printf "%s(%s::timestamptz)", sep, "'"'"'" $1 "'"'"'"; sep = ","}')
	if [ -n "$times" ]; then
		near=$("${PSQL[@]}" -d edge1 -At -F ' ' -c "WITH r(t) AS (VALUES $times),
			x AS (SELECT i.latency_ms, EXISTS (SELECT 1 FROM r WHERE i.timestamp BETWEEN r.t - interval '250 ms'
			                                                             AND r.t + interval '250 ms') AS near
			        FROM aistudio.llm_interactions i WHERE i.app_id = $bid)
			SELECT count(*) FILTER (WHERE near), count(*) FILTER (WHERE near AND latency_ms >= 2),
			       count(*) FILTER (WHERE NOT near), count(*) FILTER (WHERE NOT near AND latency_ms >= 2) FROM x")
		read -r n1 s1 n0 s0 <<< "$near"
		near=$(awk -v n1="$n1" -v s1="$s1" -v n0="$n0" -v s0="$s0" 'BEGIN {printf "; requests ≥ 2 ms: %.2f %% of the %d within 250 ms of a renewal, %.2f %% of the %d others", n1 ? 100 * s1 / n1 : 0, n1, n0 ? 100 * s0 / n0 : 0, n0}')
		echo "lease near-renewal $near" >&2
	fi
	f=$(awk '$1 == "free" {for (i = 2; i <= NF; i++) {split($i, kv, "="); if (kv[1] == "p50_us") p50 = p50 " " kv[2]/1000; if (kv[1] == "p99_us") p99 = p99 " " kv[2]/1000}} END {printf "p50%s ms, p99%s ms", p50, p99}' "$WORK/lease.out")
	b=$(awk '$1 == "budget" {for (i = 2; i <= NF; i++) {split($i, kv, "="); if (kv[1] == "p50_us") p50 = p50 " " kv[2]/1000; if (kv[1] == "p99_us") p99 = p99 " " kv[2]/1000; if (kv[1] == "err") e += kv[2]}} END {printf "p50%s ms, p99%s ms; %d refused", p50, p99, e}' "$WORK/lease.out")$near
	R[lease]=$(printf '| a real edge, %s sequential requests × %s rounds each: app without a budget vs app with a budget (its lease renewed %s times, ahead of need) | no added latency | no budget: %s; budget: %s |' \
		"$LEASE_N" "$LEASE_ROUNDS" "$renewals" "$f" "$b")
}

declare -A R
if [[ " $SCENARIOS " == *" push "* ]]; then
	log "push: $PUSH_EDGES edges"
	"$SIM" run --target "127.0.0.1:$GRPC" --edges "$WORK/push.tsv" --db "$DB" --id-prefix push- \
		--push-sql "SELECT aistudio.set_model_price('openai', 'gpt-4o', round((2.5 + random())::numeric, 6), 10); SELECT aistudio.push_config()" \
		> "$WORK/push.out" 2> "$WORK/push.err" || log "push: the simulator failed (see below)"
	cat "$WORK/push.out" >&2
	R[push]=$(printf '| %s edges connected, config change + push to all → every edge applied and reported the new checksum | p100 ≤ 2,000 ms | p50 %s ms, p100 %s ms (Reload received: p100 %s ms); list_edges all in_sync after %s ms (%s/%s in_sync) |' \
		"$PUSH_EDGES" "$(kv applied_p50_ms "$WORK/push.out")" "$(kv applied_p100_ms "$WORK/push.out")" \
		"$(kv reload_p100_ms "$WORK/push.out")" "$(kv hub_view_all_in_sync_ms "$WORK/push.out")" \
		"$(kv list_edges_in_sync "$WORK/push.out")" "$PUSH_EDGES")
fi
if [[ " $SCENARIOS " == *" pull "* ]]; then
	log "pull: $PULLS pulls of a namespace of $napps apps"
	"$SIM" pull --target "127.0.0.1:$GRPC" --edges "$WORK/big.tsv" --pulls "$PULLS" \
		> "$WORK/pull.out" 2> "$WORK/pull.err" || log "pull: the simulator failed (see below)"
	cat "$WORK/pull.out" >&2
	R[pull]=$(printf '| PullSnapshot of a namespace of %s apps (%s bytes), %s pulls by one edge | ≤ 200 ms | p50 %s ms, p99 %s ms (decoding + opening keys on the edge: p50 %s ms) |' \
		"$napps" "$(kv bytes "$WORK/pull.out")" "$PULLS" "$(kv rpc_p50_ms "$WORK/pull.out")" \
		"$(kv rpc_p99_ms "$WORK/pull.out")" "$(kv build_p50_ms "$WORK/pull.out")")
fi
if [[ " $SCENARIOS " == *" heartbeat "* ]]; then
	log "heartbeat: $HB_EDGES edges for $HB_SECONDS s"
	conns=()
	[ -z "$HB_CONNS" ] || conns=(--conns "$HB_CONNS")
	"$SIM" run --target "127.0.0.1:$GRPC" --edges "$WORK/hb.tsv" --db "$DB" --id-prefix hb- "${conns[@]}" \
		--interval 1 --hold "$HB_SECONDS" --hub-pid "$HUBPID" --pg-pid "$PGPID" \
		> "$WORK/hb.out" 2> "$WORK/hb.err" || log "heartbeat: the simulator failed (see below)"
	cat "$WORK/hb.out" >&2
	R[heartbeat]=$(printf '| %s edges (%s gRPC connections) heartbeating every 1 s for %s s (%s heartbeats/s answered) | hub < 1 core | hub %s cores; PostgreSQL %s cores; simulator %s cores |' \
		"$HB_EDGES" "$(kv conns "$WORK/hb.out")" "$HB_SECONDS" "$(kv acks_per_s "$WORK/hb.out")" \
		"$(kv hub_cpu_cores "$WORK/hb.out")" "$(kv pg_cpu_cores "$WORK/hb.out")" "$(kv sim_cpu_cores "$WORK/hb.out")")
fi
if [[ " $SCENARIOS " == *" lease "* ]]; then
	stop_hub
	lease_scenario
fi
for f in push hb pull; do
	if [ -s "$WORK/$f.err" ]; then log "$f: simulator stderr:"; tail -5 "$WORK/$f.err" >&2; fi
done
if grep -q 'WARN\|ERROR' "$WORK/hub-info.log"; then
	log "hub warnings/errors (first 5):"
	grep 'WARN\|ERROR' "$WORK/hub-info.log" | head -5 >&2
fi

echo "| scenario | target | measured |"
echo "|---|---|---|"
for s in push pull heartbeat lease; do [ -z "${R[$s]:-}" ] || echo "${R[$s]}"; done
