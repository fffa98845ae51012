#!/usr/bin/env bash
# bench/gateway/capacity.sh: the capacity rows of the gateway benchmark
# (docs/BENCHMARKS.md "Capacity"). For each target, HOLD connections of each
# KIND are held open (bench/gateway/connhold: idle = connect and send
# nothing; slowhead = a head that never ends, one header line a second;
# keepalive = one health-check GET answered, then idle: an SDK's pool) from
# SOURCES client addresses,
# while a probe from 127.0.0.1 opens a new connection 20 times a second and
# sends one chat completion (POST, JSON answer). Reported: how many of the
# held connections were still open at the end, the probes answered 2xx, the
# probes' other statuses and timeouts, the probe latency p50/p99, and the
# proxy's RSS and open descriptors while the connections are held.
# Targets:
#   nginx             a plain reverse proxy (bench/peers/nginx.sh, 1 worker)
#   civetweb-floor    a do-nothing civetweb proxy with 512 workers
#                     (bench/gateway/civetfloor.c): civetweb's own limit
#   gatewayd          this tree's gatewayd (WORKER_THREADS from the limits),
#                     with a real PostgreSQL and analytics on
#   gatewayd-before   GATEWAYD_BEFORE (a binary without the connection guard,
#                     e.g. main's) with its default settings, when given
#
#   bash bench/gateway/capacity.sh
# KINDS may include "none" (no held connections: the probe's own baseline).
# Environment: HOLD (2000), SOURCES (1: one client address, as in the issue), SECONDS_HELD (10), KINDS ("idle
# slowhead keepalive"), TARGETS ("nginx civetweb-floor gatewayd
# gatewayd-before"), GATEWAYD_BIN, GATEWAYD_BEFORE, PIN (1: proxy on CPU 1,
# mock, PostgreSQL and load on CPU 0).
# Nothing here fails on a slow number; every wait is bounded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/gateway"
HOLD=${HOLD:-2000}
SOURCES=${SOURCES:-1}
SECONDS_HELD=${SECONDS_HELD:-10}
KINDS=${KINDS:-idle slowhead keepalive}
TARGETS=${TARGETS:-nginx civetweb-floor gatewayd gatewayd-before}
VKEY=sk-mock
WORK=$(mktemp -d /tmp/aistudio-capbench.XXXXXX)
PIDS=()

cleanup() {
	set +e
	for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null; done
	sleep 0.3
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2> /dev/null; done
	bash "$ROOT/bench/peers/nginx.sh" stop "$WORK/nginx" > /dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"
make -s -C "$ROOT/bench/mock" > /dev/null
make -s -C "$HERE" > /dev/null
GATEWAYD=${GATEWAYD_BIN:-$ROOT/gatewayd/gatewayd}
[ -x "$GATEWAYD" ] || make -s -C "$ROOT/gatewayd" > /dev/null
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
. "$HERE/common.sh"

us() { awk -v v="$1" 'BEGIN { if (v == "") print "—"; else if (v < 10000) printf "%d µs", v; else printf "%.1f ms", v / 1000 }'; }

echo "## gateway capacity benchmark"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), open-file limit $(ulimit -n)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); gatewayd $(cd "$ROOT" && git rev-parse --short HEAD 2> /dev/null || echo '?')"
echo "held: $HOLD connections per kind from $SOURCES addresses for ${SECONDS_HELD} s; probe: 20 new connections/s from 127.0.0.1, one POST each"
echo

MOCK_OUT="$WORK/mock.out"
"${PIN_LOAD[@]}" "$ROOT/bench/mock/mock_upstream" --port 0 --threads 1 --expect-key "$VKEY" > "$MOCK_OUT" 2> "$WORK/mock.err" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening on' "$MOCK_OUT" 2> /dev/null && break; sleep 0.05; done
MOCK_PORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\)$/\1/p' "$MOCK_OUT")
printf '%s' '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Write one short sentence about the sea."}]}' > "$WORK/body.json"

ROWS=()
# hold TARGET HELD_URL PROBE_URL PROXY_PIDS [HEADER]: one row per kind (the
# keep-alive connections' one request is a GET of HELD_URL, a health check:
# an idle SDK pool, not a burst of real work)
hold() {
	local name=$1 url=$2 purl=$3 pids=$4 kind out fds rss hdr=()
	[ $# -ge 5 ] && hdr=(-H "$5")
	for kind in $KINDS; do
		local n=$HOLD k=$kind
		[ "$kind" = none ] && n=0 && k=idle
		"${PIN_LOAD[@]}" "$HERE/connhold" ${VERBOSE:+-v} -u "$url" -n "$n" -k "$k" -s "$SOURCES" -d "$SECONDS_HELD" -e 1000 \
			"${hdr[@]}" -p "$purl" -r 20 -F "$WORK/body.json" -t 10 > "$WORK/hold.out" 2> "$WORK/hold.err" &
		local hp=$!
		sleep $((SECONDS_HELD / 2 + 1))
		fds=0
		rss=0
		for p in $pids; do
			fds=$((fds + $(ls "/proc/$p/fd" 2> /dev/null | wc -l)))
			rss=$((rss + $(awk '$1 == "VmRSS:" {print $2}' "/proc/$p/status" 2> /dev/null || echo 0)))
		done
		wait "$hp" || true
		out=$(cat "$WORK/hold.out")
		if [ -n "${VERBOSE:-}" ]; then cat "$WORK/hold.err" >&2; fi
		local others unanswered
		others=$(grep -o 'probe_status_[013-9][0-9]*=[0-9]*' <<< "$out" | sed 's/probe_status_//' | tr '\n' ' ' || true)
		unanswered=$(tr ' ' '\n' <<< "$out" | awk -F= '$1 == "probes" {p = $2} $1 ~ /^probe_status_/ {a += $2} END {print p - a}')
		ROWS+=("| $name | $kind | $(kv open_end "$out")/$n | $(kv probe_ok "$out")/$(kv probes "$out") | ${others:-—} | $unanswered | $(us "$(kv probe_p50_us "$out")") | $(us "$(kv probe_p99_us "$out")") | $((rss / 1024)) MB | $fds |")
		echo "# $name $kind: $out" >&2
		sleep 2
	done
}

for target in $TARGETS; do
	case "$target" in
	nginx)
		NPORT=$(free_port)
		bash "$ROOT/bench/peers/nginx.sh" conf "$WORK/nginx" "$NPORT" "$MOCK_PORT" 1 > /dev/null
		"${PIN_PROXY[@]}" bash "$ROOT/bench/peers/nginx.sh" start "$WORK/nginx"
		wait_http "http://127.0.0.1:$NPORT/__health"
		npids="$(cat "$WORK/nginx/nginx.pid") $(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | tr '\n' ' ')"
		hold nginx "http://127.0.0.1:$NPORT/__health" "http://127.0.0.1:$NPORT/v1/chat/completions" "$npids" \
			"Authorization: Bearer $VKEY"
		bash "$ROOT/bench/peers/nginx.sh" stop "$WORK/nginx"
		;;
	civetweb-floor)
		FPORT=$(free_port)
		"${PIN_PROXY[@]}" "$HERE/civetfloor" "$FPORT" "$MOCK_PORT" /v1/chat/completions "$VKEY" 512 > "$WORK/civetfloor.out" 2>&1 &
		FPID=$!
		PIDS+=("$FPID")
		for _ in $(seq 1 100); do grep -q '^listening on' "$WORK/civetfloor.out" 2> /dev/null && break; sleep 0.05; done
		hold "civetweb-floor (512 workers)" "http://127.0.0.1:$FPORT/v1/chat/completions" \
			"http://127.0.0.1:$FPORT/v1/chat/completions" "$FPID"
		kill "$FPID" 2> /dev/null || true
		;;
	gatewayd | gatewayd-before)
		BIN=$GATEWAYD
		if [ "$target" = gatewayd-before ]; then
			[ -n "${GATEWAYD_BEFORE:-}" ] || { echo "# GATEWAYD_BEFORE not set: skipping gatewayd-before" >&2; continue; }
			BIN=$GATEWAYD_BEFORE
		fi
		# its stdin: a FIFO this script holds open (CLIN), not a `sleep`, which
		# would outlive the script holding the bench lock that flock(1) passed down
		rm -f "$WORK/cluster.in" && mkfifo "$WORK/cluster.in"
		"${PIN_LOAD[@]}" node "$HERE/cluster.mjs" "$MOCK_PORT" "$VKEY" > "$WORK/cluster.json" 2> "$WORK/cluster.err" < "$WORK/cluster.in" &
		CLPID=$!
		PIDS+=("$CLPID")
		exec {CLIN}> "$WORK/cluster.in"
		for _ in $(seq 1 600); do [ -s "$WORK/cluster.json" ] && break; sleep 0.1; done
		J=$(cat "$WORK/cluster.json")
		jget() { node -e "process.stdout.write(String(JSON.parse(process.argv[1])['$1']))" "$J"; }
		GPORT=$(free_port)
		rm -rf "$WORK/spool" && mkdir -p "$WORK/spool"
		env -i PATH="$PATH" DATABASE_URL="$(jget database_url)" AISTUDIO_SECRET_KEY_FILE="$(jget key_file)" \
			PROXY_PORT="$GPORT" SERVER_PORT="$(free_port)" DOCS_PORT="$(free_port)" GRPC_PORT="$(free_port)" \
			LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool" LOG_LEVEL=warn MAX_STREAMS_PER_APP=0 \
			"${PIN_PROXY[@]}" "$BIN" > "$WORK/gatewayd.log" 2>&1 &
		GWPID=$!
		PIDS+=("$GWPID")
		wait_http "http://127.0.0.1:$GPORT/readyz" 60 || { tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
		workers=$(curl -s "http://127.0.0.1:$GPORT/metrics" | awk '$1 == "gatewayd_http_workers{server=\"proxy\"}" {print $2}')
		hold "$target (${workers:-256} workers)" "http://127.0.0.1:$GPORT/healthz" \
			"http://127.0.0.1:$GPORT/llm/rest/$(jget slug)/v1/chat/completions" "$GWPID" "Authorization: Bearer $(jget key)"
		curl -s --max-time 5 "http://127.0.0.1:$GPORT/metrics" | grep -E '^gatewayd_http_(connections_refused|head_timeouts|connections_reclaimed)' >&2 || true
		kill "$GWPID"
		for _ in $(seq 1 300); do kill -0 "$GWPID" 2> /dev/null || break; sleep 0.1; done
		kill -9 "$GWPID" 2> /dev/null || true
		kill "$CLPID" 2> /dev/null || true
		exec {CLIN}>&-
		for _ in $(seq 1 300); do kill -0 "$CLPID" 2> /dev/null || break; sleep 0.1; done
		;;
	*) echo "unknown target $target" >&2; exit 2 ;;
	esac
done

echo "| target | held kind | held still open at the end | probes 2xx | probes' other statuses | probes unanswered | probe p50 | probe p99 | proxy RSS | proxy fds |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
