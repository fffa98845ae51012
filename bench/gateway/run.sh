#!/usr/bin/env bash
# bench/gateway/run.sh: the side-by-side gateway benchmark of DESIGN §7.
# One run, one machine: the same loads against
#   direct    the mock upstream itself (the limit)
#   nginx     a plain reverse proxy (keep-alive upstream pool, no buffering)
#   civetweb-floor, civetweb-curl-floor
#             the least a civetweb (+ libcurl) proxy can do: bench/gateway/civetfloor.c
#   civetweb-curl-floor-plugin  (only when named in TARGETS) the same with one
#             plugin hook per request through gatewayd's plugin host (civetfloor
#             --hook): the plugin and configuration of gatewayd-plugin
#   gatewayd  standalone, analytics ON (a real PostgreSQL with pg_aistudio),
#             and again with analytics off when gatewayd has a setting for it
#   gatewayd-plugin  the same with one plugin hook (post_auth, the example
#             prompt firewall of plugins/examples over gRPC) on the LLM
#   portkey   npm @portkey-ai/gateway 1.15.2 (x-portkey-custom-host → mock)
#   gatewayd-regex  (only when named in TARGETS) what one regex content
#             filter adds: a 2 KB prompt at c=1, to an LLM with the filter
#             and to one without, in alternating rounds (REPEAT, at least 3)
# Loads per target:
#   c=1       2,000 sequential keep-alive requests (exact p50/p99, loadgen seq)
#   c=64      wrk, 10 s  (req/s)        c=256   wrk, 10 s (req/s)
#             for gatewayd also "c=64 with its analytics stored": the c=64
#             requests over the load's seconds plus the wait right after it
#             until their events were stored (PostgreSQL shares the proxy's
#             CPU, and may store a load's events after it rather than during)
#   streams   1,000 SSE streams of 2 s each, opened evenly over 1 s so all
#             1,000 are held at once (loadgen streams -r): TTFT p99
#   RSS       of the proxy after the loads (VmRSS; VmHWM = peak)
# then prints a markdown table (overhead = proxied − direct, per percentile)
# and, for gatewayd with analytics on, the database parity check: events
# stored = requests the gateway served, none dropped.
#
#   bash bench/gateway/run.sh            (bench/run.sh all calls it)
# Environment: N_SEQ (2000), DURATION (10 s), STREAMS (1000), REPEAT (1: each
# load once; 3 = the median of three runs, with the spread), TARGETS
# ("direct nginx civetweb-floor civetweb-curl-floor gatewayd gatewayd-noanalytics
# portkey"), PIN (1: proxy on
# CPU 1, mock + load generators on CPU 0, when there are ≥ 2 CPUs), PG_CPU
# (proxy: PostgreSQL shares gatewayd's CPU; load: the load side's; any).
# Nothing here fails on a slow number; it fails only when a target cannot
# be run at all. Every wait is bounded. gatewayd runs with its default
# settings (WORKER_THREADS sized from the open-file limit) unless
# GW_WORKER_THREADS is given; GW_MAX_PER_ADDRESS sets MAX_CONNECTIONS_PER_ADDRESS
# (the load comes from one address: with more streams than half the
# workers, the default per-address limit refuses the rest).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/gateway"
N_SEQ=${N_SEQ:-2000}
DURATION=${DURATION:-10}
STREAMS=${STREAMS:-1000}
REPEAT=${REPEAT:-1}
TARGETS=${TARGETS:-direct nginx civetweb-floor civetweb-curl-floor gatewayd gatewayd-noanalytics portkey}
VKEY=sk-mock
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/aistudio-gwbench.XXXXXX)
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

. "$HERE/common.sh"

# ---- dependencies and builds ------------------------------------------------
if ! command -v nginx > /dev/null && [ ! -x /usr/sbin/nginx ] || ! command -v wrk > /dev/null; then
	bash "$ROOT/docker/install-deps.sh" bench
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"
make -s -C "$ROOT/bench/mock" > /dev/null
make -s -C "$HERE" > /dev/null
GATEWAYD=${GATEWAYD_BIN:-$ROOT/gatewayd/gatewayd}
if [ -z "${GATEWAYD_BIN:-}" ] && ! flock /tmp/aistudio-gw.lock make -s -C "$ROOT/gatewayd" > "$WORK/build.log" 2>&1; then
	if [ -x "$GATEWAYD" ]; then
		log "WARNING: gatewayd does not build now; benchmarking the existing binary ($(date -r "$GATEWAYD" -u +%FT%TZ))"
		tail -5 "$WORK/build.log" >&2
	else
		cat "$WORK/build.log" >&2
		exit 1
	fi
fi
LOADGEN="$HERE/loadgen"





rss_kb() { # rss_kb FIELD PID...: sum of VmRSS/VmHWM over the pids (kB)
	local field=$1 total=0 pid v
	shift
	for pid in "$@"; do
		v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$pid/status" 2> /dev/null || echo 0)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

echo "## gateway benchmark"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
echo "cpu: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "pinning: ${PIN_PROXY[*]:-none} for the proxy, ${PIN_LOAD[*]:-none} for the mock and load generators; PostgreSQL (gatewayd's analytics) with the ${PG_CPU:-proxy}"
echo "versions: $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | awk '{print $1" "$2}'), node $(node -v), gatewayd $(cd "$ROOT" && git rev-parse --short HEAD 2> /dev/null || echo '?')"
echo

# ---- the mock upstream ------------------------------------------------------
# JSON answers at once; streams: 40 frames, 50 ms apart (~2 s per stream)
MOCK_OUT="$WORK/mock.out"
"${PIN_LOAD[@]}" "$ROOT/bench/mock/mock_upstream" --port 0 --threads 1 --frames 40 --frame-interval-ms 50 \
	--expect-key "$VKEY" > "$MOCK_OUT" 2> "$WORK/mock.err" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening on' "$MOCK_OUT" 2> /dev/null && break; sleep 0.05; done
MOCK_PORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\)$/\1/p' "$MOCK_OUT")
[ -n "$MOCK_PORT" ] || { echo "mock did not start" >&2; cat "$WORK/mock.err" >&2; exit 1; }

BODY='{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about the sea."}]}'
SBODY='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about the sea."}]}'
printf '%s' "$BODY" > "$WORK/body.json"
printf '%s' "$SBODY" > "$WORK/sbody.json"

# ---- one target ---------------------------------------------------------------
declare -A R
SERVED=0

# wrk_run URL CONNS HEADERS…: prints "reqs_per_s requests non2xx errors"
wrk_run() {
	local url=$1 conns=$2 out
	shift 2
	local hdr=()
	for h in "$@"; do hdr+=(-H "$h"); done
	out=$(BODY_FILE="$WORK/body.json" timeout $((DURATION + 30)) "${PIN_LOAD[@]}" wrk -t2 -c"$conns" -d"${DURATION}s" \
		--timeout 10s -s "$HERE/chat.lua" "${hdr[@]}" "$url" 2>&1) || true
	echo "$out" >> "$WORK/wrk.log"
	local rps reqs non2xx errs
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
	reqs=$(awk '/requests in/ {print $1}' <<< "$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<< "$out")
	errs=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1+\2+\3+\4/p' <<< "$out")
	echo "${rps:-0} ${reqs:-0} ${non2xx:-0} $((${errs:-0}))"
}

# median of the arguments (numbers); "" when none
median() { printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
# "min–max" of the arguments when there are several
spread() { [ $# -gt 1 ] && printf '%s\n' "$@" | sort -g | awk 'NR == 1 {a = $1} {b = $1} END {printf "%s–%s", a, b}'; }

# settle NAME: before each load, wait (bounded) until the target has stored
# the analytics of the previous load: gatewayd's queue and spool are empty
# and PostgreSQL has no active query left (rollup worker, autovacuum).
# Without it a load would be measured while PostgreSQL, on the proxy's CPU,
# still ingests hundreds of thousands of events of the load before (a
# different load). The waits are reported (drain times). A no-op for
# targets without METRICS_URL.
METRICS_URL=
SETTLE_PG=
settle() {
	[ -n "$METRICS_URL" ] || return 0
	local t0 m depth spool i
	t0=$(date +%s.%N)
	for ((i = 0; i < 3000; i++)); do
		m=$(curl -s --max-time 2 "$METRICS_URL" || true)
		depth=$(awk '$1 == "gatewayd_analytics_queue_depth" {print $2}' <<< "$m")
		spool=$(awk '$1 == "gatewayd_analytics_spool_bytes" {print $2}' <<< "$m")
		[ "${depth:-x}" = 0 ] && [ "${spool:-x}" = 0 ] && break
		sleep 0.1
	done
	# and for the database's own follow-up work on them (the rollup worker,
	# autovacuum), which runs on the same CPU
	if [ -n "$SETTLE_PG" ]; then
		for ((i = 0; i < 3000; i++)); do
			[ "$("$PGBIN/psql" -X -At $SETTLE_PG -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()" 2> /dev/null)" = 0 ] && break
			sleep 0.1
		done
	fi
	DRAINS+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')")
}

# bench_target NAME URL STREAM_URL PIDS_FOR_RSS HEADERS…
# Runs every load REPEAT times; the table shows medians. STREAM_URL "-":
# no streams load (the civetweb floor relays no streams).
bench_target() {
	local name=$1 url=$2 surl=$3 rsspids=$4
	shift 4
	local hdr=()
	for h in "$@"; do hdr+=(-H "$h"); done
	local p50s=() p99s=() r64s=() r64st=() r256s=() t99s=() t50s=() serr=0 e64=0 e256=0 sok=() speak=()
	local rep seq st rps reqs non2xx errs nd
	DRAINS=()
	[ "$surl" = - ] && R[$name.s_ok]="" && R[$name.s_peak]=""
	for ((rep = 1; rep <= REPEAT; rep++)); do
		# warm-up: connections, caches and (gatewayd) the first analytics
		# batches of a fresh writer connection, then wait for them to be stored
		timeout 300 "${PIN_LOAD[@]}" "$LOADGEN" seq -u "$url" -n 2000 -w 0 -t 10 -f "$WORK/body.json" "${hdr[@]}" \
			> /dev/null || true
		SERVED=$((SERVED + 2000))
		sleep 0.5
		settle
		log "$name ($rep/$REPEAT): c=1 x $N_SEQ"
		seq=$(timeout 300 "${PIN_LOAD[@]}" "$LOADGEN" seq -u "$url" -n "$N_SEQ" -w 200 -t 10 -f "$WORK/body.json" "${hdr[@]}")
		echo "$name seq: $seq" >> "$WORK/raw.log"
		p50s+=("$(kv p50_us "$seq")")
		p99s+=("$(kv p99_us "$seq")")
		serr=$((serr + $(kv err "$seq")))
		SERVED=$((SERVED + N_SEQ + 200))

		settle
		log "$name ($rep/$REPEAT): warm-up, then c=64 and c=256 for ${DURATION}s each"
		read -r rps reqs non2xx errs < <(wrk_run "$url" 64 "$@")
		SERVED=$((SERVED + reqs))
		settle
		read -r rps reqs non2xx errs < <(wrk_run "$url" 64 "$@")
		SERVED=$((SERVED + reqs))
		r64s+=("$rps")
		e64=$((e64 + non2xx + errs))
		# c=64 with its analytics stored: the requests over the load's
		# seconds plus the wait, right after it, until its events were
		# stored (the same as the c=64 figure for targets that store none)
		nd=${#DRAINS[@]}
		settle
		if [ "${#DRAINS[@]}" -gt "$nd" ]; then
			r64st+=("$(awk -v n="$reqs" -v d="$DURATION" -v w="${DRAINS[-1]}" 'BEGIN {printf "%.2f", n / (d + w)}')")
		else
			r64st+=("$rps")
		fi
		read -r rps reqs non2xx errs < <(wrk_run "$url" 256 "$@")
		SERVED=$((SERVED + reqs))
		r256s+=("$rps")
		e256=$((e256 + non2xx + errs))

		[ "$surl" = - ] && continue
		settle
		log "$name ($rep/$REPEAT): $STREAMS concurrent streams"
		st=$(timeout 120 "${PIN_LOAD[@]}" "$LOADGEN" streams -u "$surl" -c "$STREAMS" -r 1000 -t 60 -f "$WORK/sbody.json" "${hdr[@]}")
		echo "$name streams: $st" >> "$WORK/raw.log"
		sok+=("$(kv ok "$st")")
		speak+=("$(kv peak "$st")")
		SERVED=$((SERVED + $(kv ok "$st")))
		t50s+=("$(kv ttft_p50_us "$st")")
		t99s+=("$(kv ttft_p99_us "$st")")
	done
	R[$name.p50]=$(median "${p50s[@]}")
	R[$name.p99]=$(median "${p99s[@]}")
	R[$name.p99_spread]=$(spread "${p99s[@]}" || true)
	R[$name.seq_err]=$serr
	R[$name.rps64]=$(median "${r64s[@]}")
	R[$name.rps64_spread]=$(spread "${r64s[@]}" || true)
	R[$name.err64]=$e64
	R[$name.rps64_stored]=$(median "${r64st[@]}")
	R[$name.rps256]=$(median "${r256s[@]}")
	R[$name.err256]=$e256
	R[$name.s_ok]=$(median "${sok[@]}")
	R[$name.s_peak]=$(median "${speak[@]}")
	R[$name.ttft50]=$(median "${t50s[@]}")
	R[$name.ttft99]=$(median "${t99s[@]}")
	R[$name.ttft99_spread]=$(spread "${t99s[@]}" || true)
	R[$name.drains]="${DRAINS[*]}"
	# shellcheck disable=SC2086
	R[$name.rss]=$(rss_kb VmRSS $rsspids)
	# shellcheck disable=SC2086
	R[$name.hwm]=$(rss_kb VmHWM $rsspids)
}

# ---- targets -------------------------------------------------------------------
ran=()
for target in $TARGETS; do
	case "$target" in
	direct)
		bench_target direct "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" \
			"http://127.0.0.1:$MOCK_PORT/v1/chat/completions" "${PIDS[0]}" "Authorization: Bearer $VKEY"
		ran+=(direct)
		;;
	nginx)
		NPORT=$(free_port)
		bash "$ROOT/bench/peers/nginx.sh" conf "$WORK/nginx" "$NPORT" "$MOCK_PORT" 1 > /dev/null
		"${PIN_PROXY[@]}" bash "$ROOT/bench/peers/nginx.sh" start "$WORK/nginx"
		wait_http "http://127.0.0.1:$NPORT/__health"
		npids="$(cat "$WORK/nginx/nginx.pid") $(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | tr '\n' ' ')"
		bench_target nginx "http://127.0.0.1:$NPORT/v1/chat/completions" \
			"http://127.0.0.1:$NPORT/v1/chat/completions" "$npids" "Authorization: Bearer $VKEY"
		bash "$ROOT/bench/peers/nginx.sh" stop "$WORK/nginx"
		ran+=(nginx)
		;;
	civetweb-floor | civetweb-curl-floor | civetweb-curl-floor-plugin)
		# the least a civetweb proxy can do (bench/gateway/civetfloor.c), with
		# its own socket to the upstream or with libcurl (gatewayd's stack);
		# -plugin: and one hook call per request to the plugin of
		# gatewayd-plugin, through gatewayd's plugin host (its process
		# inherits the proxy's pinning, as gatewayd's plugins do)
		FPORT=$(free_port)
		FOPT=()
		[ "$target" != civetweb-floor ] && FOPT=(--curl)
		if [ "$target" = civetweb-curl-floor-plugin ]; then
			make -s -C "$ROOT/plugins/examples" > "$WORK/plugins-build.log" 2>&1 || { cat "$WORK/plugins-build.log" >&2; exit 1; }
			FOPT+=(--hook "$ROOT/plugins/examples/build/firewall" '{"phrases": ["ignore previous instructions"], "timeout_ms": 1000}')
		fi
		"${PIN_PROXY[@]}" "$HERE/civetfloor" "${FOPT[@]}" "$FPORT" "$MOCK_PORT" /v1/chat/completions "$VKEY" 512 \
			> "$WORK/civetfloor.out" 2>&1 &
		FPID=$!
		PIDS+=("$FPID")
		for _ in $(seq 1 400); do grep -q '^listening on' "$WORK/civetfloor.out" 2> /dev/null && break; sleep 0.05; done
		grep -q '^listening on' "$WORK/civetfloor.out" || { echo "$target did not start" >&2; cat "$WORK/civetfloor.out" >&2; exit 1; }
		bench_target "$target" "http://127.0.0.1:$FPORT/v1/chat/completions" - "$FPID"
		kill "$FPID" 2> /dev/null || true
		# (with a plugin it takes ~2 s to stop it): gone before the next target
		for _ in $(seq 1 100); do kill -0 "$FPID" 2> /dev/null || break; sleep 0.1; done
		ran+=("$target")
		;;
	gatewayd | gatewayd-noanalytics | gatewayd-plugin)
		PLUGIN_ENV=()
		if [ "$target" = gatewayd-plugin ]; then
			make -s -C "$ROOT/plugins/examples" > "$WORK/plugins-build.log" 2>&1 || { cat "$WORK/plugins-build.log" >&2; exit 1; }
			PLUGIN_ENV=(BENCH_PLUGIN="$ROOT/plugins/examples/build/firewall"
				BENCH_PLUGIN_CONFIG='{"phrases": ["ignore previous instructions"], "timeout_ms": 1000}')
		fi
		if [ "$target" = gatewayd-noanalytics ]; then
			# a setting that turns analytics off, if gatewayd has one
			OFF_ENV=${GATEWAYD_ANALYTICS_OFF:-}
			if [ -z "$OFF_ENV" ]; then
				if "$GATEWAYD" --help 2>&1 | grep -qE '^\s*ANALYTICS_ENABLED\b'; then OFF_ENV=ANALYTICS_ENABLED=false
				elif "$GATEWAYD" --help 2>&1 | grep -qE '^\s*ANALYTICS\b'; then OFF_ENV=ANALYTICS=off
				fi
			fi
			if [ -z "$OFF_ENV" ]; then
				log "gatewayd has no setting to turn analytics off: skipping gatewayd-noanalytics"
				continue
			fi
		fi
		# PostgreSQL runs on the proxy's CPU by default (PG_CPU=proxy): the
		# analytics cost counts against gatewayd; PG_CPU=load puts it with the
		# mock and load generators, PG_CPU=any leaves it unpinned
		PIN_PG=("${PIN_PROXY[@]}")
		case "${PG_CPU:-proxy}" in load) PIN_PG=("${PIN_LOAD[@]}") ;; any) PIN_PG=() ;; esac
		# its stdin: a FIFO this script holds open (CLIN), not a `sleep`, which
		# would outlive the script holding the bench lock that flock(1) passed down
		rm -f "$WORK/cluster.in" && mkfifo "$WORK/cluster.in"
		env "${PLUGIN_ENV[@]}" "${PIN_PG[@]}" node "$HERE/cluster.mjs" "$MOCK_PORT" "$VKEY" > "$WORK/cluster.json" \
			2> "$WORK/cluster.err" < "$WORK/cluster.in" &
		CLPID=$!
		PIDS+=("$CLPID")
		exec {CLIN}> "$WORK/cluster.in"
		for _ in $(seq 1 600); do [ -s "$WORK/cluster.json" ] && break; sleep 0.1; done
		[ -s "$WORK/cluster.json" ] || { echo "cluster did not start" >&2; cat "$WORK/cluster.err" >&2; exit 1; }
		J=$(cat "$WORK/cluster.json")
		jget() { node -e "process.stdout.write(String(JSON.parse(process.argv[1])['$1']))" "$J"; }
		GPORT=$(free_port)
		mkdir -p "$WORK/spool"
		env -i PATH="$PATH" DATABASE_URL="$(jget database_url)" AISTUDIO_SECRET_KEY_FILE="$(jget key_file)" \
			PROXY_PORT="$GPORT" SERVER_PORT="$(free_port)" DOCS_PORT="$(free_port)" GRPC_PORT="$(free_port)" \
			LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool" LOG_LEVEL=warn WORKER_THREADS=${GW_WORKER_THREADS:-0} MAX_CONNECTIONS_PER_ADDRESS=${GW_MAX_PER_ADDRESS:-0} \
			MAX_STREAMS_PER_APP=0 ${OFF_ENV:-} \
			"${PIN_PROXY[@]}" "$GATEWAYD" > "$WORK/gatewayd.log" 2>&1 &
		GWPID=$!
		PIDS+=("$GWPID")
		wait_http "http://127.0.0.1:$GPORT/readyz" 30 || { tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
		SLUG=$(jget slug)
		GKEY=$(jget key)
		if [ "$target" = gatewayd-plugin ]; then
			# the plugin's process starts after the snapshot: until then its LLM answers 503
			for _ in $(seq 1 300); do
				c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Authorization: Bearer $GKEY" \
					-H 'content-type: application/json' --data-binary @"$WORK/body.json" \
					"http://127.0.0.1:$GPORT/llm/rest/$SLUG/v1/chat/completions" || true)
				[ "$c" = 200 ] && break
				sleep 0.1
			done
			[ "$c" = 200 ] || { echo "the plugin did not start" >&2; tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
		fi
		SERVED=0
		METRICS_URL="http://127.0.0.1:$GPORT/metrics"
		SETTLE_PG="-h $(jget host) -p $(jget port) -U postgres -d aistudio"
		bench_target "$target" "http://127.0.0.1:$GPORT/llm/rest/$SLUG/v1/chat/completions" \
			"http://127.0.0.1:$GPORT/llm/rest/$SLUG/v1/chat/completions" "$GWPID" "Authorization: Bearer $GKEY"
		METRICS_URL=
		SETTLE_PG=
		curl -s --max-time 5 "http://127.0.0.1:$GPORT/metrics" > "$WORK/$target.metrics" || true
		if [ "$target" = gatewayd ]; then
			# parity: every request the gateway served is one row (wait for the writer, bounded)
			psqlq() { "$PGBIN/psql" -X -At -h "$(jget host)" -p "$(jget port)" -U postgres -d aistudio -c "$1"; }
			prev=-1
			rows=0
			for _ in $(seq 1 120); do
				rows=$(psqlq "SELECT count(*) FROM aistudio.llm_interactions")
				[ "$rows" = "$prev" ] && break
				prev=$rows
				sleep 1
			done
			curl -s --max-time 5 "http://127.0.0.1:$GPORT/metrics" > "$WORK/$target.metrics" || true
			gw_reqs=$(awk '!/^#/ && $1 ~ /^gatewayd_requests_total/ {s += $NF} END {print s+0}' "$WORK/$target.metrics")
			recorded=$(awk '!/^#/ && $1 == "gatewayd_analytics_recorded_total" {print $NF}' "$WORK/$target.metrics")
			dropped=$(awk '!/^#/ && $1 ~ /^gatewayd_analytics_dropped_total/ {s += $NF} END {print s+0}' "$WORK/$target.metrics")
			dups=$(psqlq "SELECT count(*) - count(DISTINCT request_id) FROM aistudio.llm_interactions")
			ok200=$(psqlq "SELECT count(*) FROM aistudio.llm_interactions WHERE status_code = 200")
			R[parity]="events stored: $rows (status 200: $ok200); requests counted by gatewayd: $gw_reqs; events recorded: ${recorded:-?}; dropped: $dropped; duplicate request ids: $dups; client-side completed ≥ $SERVED"
			if [ "$gw_reqs" -gt 0 ] && [ "$rows" = "$gw_reqs" ] && [ "$rows" = "${recorded:-x}" ] && [ "$dups" = 0 ] && [ "$dropped" = 0 ]; then
				R[parity]="PASS — ${R[parity]}"
			else
				R[parity]="CHECK — ${R[parity]}"
			fi
		fi
		kill "$GWPID"
		for _ in $(seq 1 300); do kill -0 "$GWPID" 2> /dev/null || break; sleep 0.1; done
		kill -9 "$GWPID" 2> /dev/null || true
		kill "$CLPID" 2> /dev/null || true
		exec {CLIN}>&-
		for _ in $(seq 1 300); do kill -0 "$CLPID" 2> /dev/null || break; sleep 0.1; done
		ran+=("$target")
		;;
	gatewayd-regex)
		# one regex filter (post_auth) on a 2 KB prompt, against the same
		# gateway and prompt without it: c=1 only, rounds alternating
		# its stdin: a FIFO this script holds open (CLIN), not a `sleep`, which
		# would outlive the script holding the bench lock that flock(1) passed down
		rm -f "$WORK/cluster.in" && mkfifo "$WORK/cluster.in"
		"${PIN_PROXY[@]}" env BENCH_FILTER=1 node "$HERE/cluster.mjs" "$MOCK_PORT" "$VKEY" > "$WORK/cluster.json" \
			2> "$WORK/cluster.err" < "$WORK/cluster.in" &
		CLPID=$!
		PIDS+=("$CLPID")
		exec {CLIN}> "$WORK/cluster.in"
		for _ in $(seq 1 600); do [ -s "$WORK/cluster.json" ] && break; sleep 0.1; done
		[ -s "$WORK/cluster.json" ] || { echo "cluster did not start" >&2; cat "$WORK/cluster.err" >&2; exit 1; }
		J=$(cat "$WORK/cluster.json")
		jget() { node -e "process.stdout.write(String(JSON.parse(process.argv[1])['$1']))" "$J"; }
		GPORT=$(free_port)
		mkdir -p "$WORK/spool"
		env -i PATH="$PATH" DATABASE_URL="$(jget database_url)" AISTUDIO_SECRET_KEY_FILE="$(jget key_file)" \
			PROXY_PORT="$GPORT" SERVER_PORT="$(free_port)" DOCS_PORT="$(free_port)" GRPC_PORT="$(free_port)" \
			LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool" LOG_LEVEL=warn \
			"${PIN_PROXY[@]}" "$GATEWAYD" > "$WORK/gatewayd.log" 2>&1 &
		GWPID=$!
		PIDS+=("$GWPID")
		wait_http "http://127.0.0.1:$GPORT/readyz" 30 || { tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
		# a 2,048-byte chat body: a system prompt and a user message of plain prose
		node -e 'const w="The quick brown fox jumps over the lazy dog near the river bank at dawn. ";
			let u=""; while (JSON.stringify({model:"gpt-4o-mini",messages:[{role:"system",content:"You are a helpful assistant."},{role:"user",content:u+w}]}).length<=2048) u+=w;
			let b=JSON.stringify({model:"gpt-4o-mini",messages:[{role:"system",content:"You are a helpful assistant."},{role:"user",content:u}]});
			b=b.replace(/"}]}$/, " ".repeat(2048-b.length)+"\"}]}"); process.stdout.write(b)' > "$WORK/body2k.json"
		GKEY=$(jget key)
		# the filter runs: a prompt it blocks gets 400 from the filtered LLM only
		for which in slug slug_filter; do
			code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GKEY" -H 'Content-Type: application/json' \
				-d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"my password: hunter2"}]}' \
				"http://127.0.0.1:$GPORT/llm/rest/$(jget $which)/v1/chat/completions")
			want=200
			[ "$which" = slug_filter ] && want=400
			[ "$code" = "$want" ] || { echo "gatewayd-regex: $which answered $code, not $want" >&2; exit 1; }
		done
		p50f=() p50p=() p99f=() p99p=()
		rounds=$((REPEAT < 3 ? 3 : REPEAT))
		for ((rep = 1; rep <= rounds; rep++)); do
			for which in plain filter; do
				slug=$(jget slug)
				[ "$which" = filter ] && slug=$(jget slug_filter)
				log "gatewayd-regex ($rep/$rounds): $which, 2 KB prompt, c=1 x $N_SEQ"
				seq=$(timeout 300 "${PIN_LOAD[@]}" "$LOADGEN" seq -u "http://127.0.0.1:$GPORT/llm/rest/$slug/v1/chat/completions" \
					-n "$N_SEQ" -w 500 -t 10 -f "$WORK/body2k.json" -H "Authorization: Bearer $GKEY")
				echo "gatewayd-regex $which seq: $seq" >> "$WORK/raw.log"
				if [ "$which" = filter ]; then p50f+=("$(kv p50_us "$seq")"); p99f+=("$(kv p99_us "$seq")")
				else p50p+=("$(kv p50_us "$seq")"); p99p+=("$(kv p99_us "$seq")"); fi
			done
		done
		R[regex]="2 KB prompt, c=1, $rounds alternating rounds of $N_SEQ: without the filter p50 $(median "${p50p[@]}") µs (runs ${p50p[*]}), p99 $(median "${p99p[@]}") µs; with one regex filter p50 $(median "${p50f[@]}") µs (runs ${p50f[*]}), p99 $(median "${p99f[@]}") µs; added p50 $(awk -v a="$(median "${p50f[@]}")" -v b="$(median "${p50p[@]}")" 'BEGIN {printf "%+d", a - b}') µs"
		kill "$GWPID"
		for _ in $(seq 1 300); do kill -0 "$GWPID" 2> /dev/null || break; sleep 0.1; done
		kill -9 "$GWPID" 2> /dev/null || true
		kill "$CLPID" 2> /dev/null || true
		exec {CLIN}>&-
		for _ in $(seq 1 300); do kill -0 "$CLPID" 2> /dev/null || break; sleep 0.1; done
		;;
	portkey)
		if ! bash "$ROOT/bench/peers/portkey.sh" install; then
			log "portkey could not be installed: skipping"
			continue
		fi
		PPORT=$(free_port)
		"${PIN_PROXY[@]}" bash "$ROOT/bench/peers/portkey.sh" run "$PPORT" > "$WORK/portkey.log" 2>&1 &
		PKPID=$!
		PIDS+=("$PKPID")
		# the /v1/models route needs no provider; any HTTP answer means it is up
		for _ in $(seq 1 300); do
			c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PPORT/" 2> /dev/null || true)
			[ -n "$c" ] && [ "$c" != 000 ] && break
			sleep 0.1
		done
		PH=("x-portkey-provider: openai" "x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/v1" "Authorization: Bearer $VKEY")
		bench_target portkey "http://127.0.0.1:$PPORT/v1/chat/completions" \
			"http://127.0.0.1:$PPORT/v1/chat/completions" "$PKPID" "${PH[@]}"
		kill "$PKPID" 2> /dev/null || true
		ran+=(portkey)
		;;
	*) echo "unknown target $target" >&2; exit 2 ;;
	esac
done

# ---- report ---------------------------------------------------------------------
us() { awk -v v="$1" 'BEGIN { if (v == "") print "—"; else if (v < 10000) printf "%d µs", v; else printf "%.1f ms", v / 1000 }'; }
diffus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "—"; else { d = a - b; if (d < 10000 && d > -10000) printf "%+d µs", d; else printf "%+.1f ms", d / 1000 } }'; }
mb() { awk -v v="$1" 'BEGIN { if (v == "" || v == 0) print "—"; else printf "%.0f MB", v / 1024 }'; }

echo
echo "| target | c=1 p50 | c=1 p99 | added p50 | added p99 | req/s c=64 | req/s c=256 | streams ok (peak open) | TTFT p99 | added TTFT p99 | RSS (peak) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for t in "${ran[@]}"; do
	errs=""
	[ "${R[$t.seq_err]:-0}" != 0 ] && errs="$errs seq errors ${R[$t.seq_err]};"
	[ "${R[$t.err64]:-0}" != 0 ] && errs="$errs c64 non-2xx/errors ${R[$t.err64]};"
	[ "${R[$t.err256]:-0}" != 0 ] && errs="$errs c256 non-2xx/errors ${R[$t.err256]};"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s/%s (%s) | %s | %s | %s (%s) |\n' "$t${errs:+ (⚠$errs)}" \
		"$(us "${R[$t.p50]}")" "$(us "${R[$t.p99]}")" \
		"$( [ "$t" = direct ] && echo — || diffus "${R[$t.p50]}" "${R[direct.p50]:-}")" \
		"$( [ "$t" = direct ] && echo — || diffus "${R[$t.p99]}" "${R[direct.p99]:-}")" \
		"${R[$t.rps64]}" "${R[$t.rps256]}" "${R[$t.s_ok]:-—}" "$STREAMS" "${R[$t.s_peak]:-—}" "$(us "${R[$t.ttft99]}")" \
		"$( [ "$t" = direct ] && echo — || diffus "${R[$t.ttft99]}" "${R[direct.ttft99]:-}")" \
		"$(mb "${R[$t.rss]}")" "$(mb "${R[$t.hwm]}")"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "—"; else printf "%.2f×", a / b }'; }
[ -n "${R[civetweb-floor.rps64]:-}" ] &&
	echo "- civetweb floor at c=64 (no auth, no JSON, no analytics, no libcurl; bench/gateway/civetfloor.c): $(ratio "${R[civetweb-floor.rps64]}" "${R[nginx.rps64]:-}") nginx"
[ -n "${R[civetweb-curl-floor.rps64]:-}" ] &&
	echo "- civetweb + libcurl floor at c=64 (the same, the upstream call made with curl_easy_perform): $(ratio "${R[civetweb-curl-floor.rps64]}" "${R[nginx.rps64]:-}") nginx"
if [ -n "${R[gatewayd-plugin.rps64]:-}" ] && [ -n "${R[gatewayd.rps64]:-}" ]; then
	echo "- one gRPC plugin hook (gatewayd-plugin − gatewayd): c=1 p50 $(diffus "${R[gatewayd-plugin.p50]}" "${R[gatewayd.p50]}"), p99 $(diffus "${R[gatewayd-plugin.p99]}" "${R[gatewayd.p99]}"); c=64 throughput $(ratio "${R[gatewayd-plugin.rps64]}" "${R[gatewayd.rps64]}") of gatewayd's; with the analytics stored $(ratio "${R[gatewayd-plugin.rps64_stored]}" "${R[gatewayd.rps64_stored]}")"
fi
if [ -n "${R[civetweb-curl-floor-plugin.rps64]:-}" ] && [ -n "${R[civetweb-curl-floor.rps64]:-}" ]; then
	X=$(awk -v a="${R[civetweb-curl-floor-plugin.rps64]}" -v b="${R[civetweb-curl-floor.rps64]}" 'BEGIN { if (a > 0 && b > 0) print 1 / a - 1 / b }')
	echo "- one gRPC plugin hook at the floor (civetweb-curl-floor-plugin − civetweb-curl-floor): c=1 p50 $(diffus "${R[civetweb-curl-floor-plugin.p50]}" "${R[civetweb-curl-floor.p50]}"), p99 $(diffus "${R[civetweb-curl-floor-plugin.p99]}" "${R[civetweb-curl-floor.p99]}"); c=64 throughput $(ratio "${R[civetweb-curl-floor-plugin.rps64]}" "${R[civetweb-curl-floor.rps64]}") of the floor's; the hook's added time per request at c=64 (1/floor-plugin − 1/floor): $(awk -v x="$X" 'BEGIN { if (x != "") printf "%.0f µs", 1e6 * x; else print "—" }')"
	# gatewayd's best with one hook if it added no more than that: T/(T+X), T = 1/RPS
	best() { awk -v g="$1" -v x="$X" 'BEGIN { if (g > 0) { t = 1 / g; printf "%.2f×", t / (t + x) } else print "—" }'; }
	[ -n "${R[gatewayd.rps64]:-}" ] && [ -n "$X" ] &&
		echo "- gatewayd with one hook that cost it no more than at the floor could keep at most $(best "${R[gatewayd.rps64]}") of its c=64 throughput, $(best "${R[gatewayd.rps64_stored]:-}") with the analytics stored"
fi
for t in gatewayd gatewayd-noanalytics gatewayd-plugin; do
	[ -n "${R[$t.rps64]:-}" ] || continue
	echo "- $t: before each load the harness waited for the analytics of the previous one to be stored (s): ${R[$t.drains]:-—}"
	echo "- $t at c=64 with its analytics stored (its requests over the ${DURATION}s of load plus the wait for their events): ${R[$t.rps64_stored]:-—} req/s, $(ratio "${R[$t.rps64_stored]:-}" "${R[civetweb-curl-floor.rps64]:-}") the civetweb + libcurl floor"
	echo "- $t at c=64: $(ratio "${R[$t.rps64]}" "${R[nginx.rps64]:-}") nginx, $(ratio "${R[$t.rps64]}" "${R[portkey.rps64]:-}") Portkey, $(ratio "${R[$t.rps64]}" "${R[direct.rps64]:-}") the mock's own ceiling"
done
if [ -n "${R[direct.rps64]:-}" ]; then
	for t in "${ran[@]}"; do
		[ "$t" = direct ] && continue
		awk -v a="${R[$t.rps64]}" -v b="${R[direct.rps64]}" -v t="$t" \
			'BEGIN { if (b > 0 && a >= 0.9 * b) printf "- note: %s at c=64 is within 10%% of the direct ceiling; its number is bounded by the mock/load generator\n", t }'
	done
fi
if [ "$REPEAT" -gt 1 ]; then
	for t in "${ran[@]}"; do
		echo "- $t spread over $REPEAT runs: c=1 p99 ${R[$t.p99_spread]} µs, c=64 ${R[$t.rps64_spread]} req/s${R[$t.ttft99_spread]:+, TTFT p99 ${R[$t.ttft99_spread]} µs}"
	done
fi
[ -n "${R[parity]:-}" ] && echo "- database parity (gatewayd, analytics on): ${R[parity]}"
[ -n "${R[regex]:-}" ] && echo "- a regex content filter (gatewayd-regex): ${R[regex]}"
echo
echo "Medians of $REPEAT run(s). Loads: c=1 = $N_SEQ sequential requests on one keep-alive connection (after 2,000 + 200 warm-up); c=64/c=256 = wrk -t2 for ${DURATION}s (after a ${DURATION}s warm-up at c=64); streams = $STREAMS SSE streams (40 frames 50 ms apart, ~2 s each) opened evenly over 1 s, TTFT from connect to the first body byte. Mock: 1 thread, 0 ms latency. RSS after the loads."
