#!/usr/bin/env bash
# bench/gateway/soak.sh: the gateway soak of issue 12 (a benchmark, not a CI
# test). One gatewayd with analytics on (a real PostgreSQL with pg_aistudio,
# bench/gateway/cluster.mjs), the mock upstream (bench/mock), and a steady,
# modest mix for SOAK_S seconds:
#   short    non-streaming chat completions, SHORT_RPS a second, each on its
#            own connection (the answer comes at once)
#   streams  SSE chat completions, STREAM_RPS a second, each on its own
#            connection, 40 frames 50 ms apart (~2 s each, so about
#            2 × STREAM_RPS are open at any time)
# Both are paced evenly by `loadgen streams -r` (bench/gateway/loadgen.c),
# one pair of loadgen runs per sample period. Every SAMPLE_S seconds it
# reads gatewayd's VmRSS (/proc/PID/status), its open descriptors
# (/proc/PID/fd), the requests gatewayd counted (/metrics) and the client
# errors so far, and prints one table row. At the end (loads finished, the
# analytics writer drained) it checks:
#   - zero client errors (transport errors and non-200 answers);
#   - every request sent is one row of aistudio.llm_interactions (count of
#     rows = requests sent = gatewayd_requests_total; no duplicate request
#     ids; gatewayd_analytics_dropped_total 0);
#   - RSS and descriptors flat: growth between the sample at REF_S (300 s,
#     or half of SOAK_S when shorter) and the last sample under load within
#     RSS_GROWTH_KB (16384) and FD_GROWTH (8), for descriptors other than
#     the clients' connections and the upstream connections open at the
#     moment (ss; each curl handle that made a call keeps its upstream
#     connection for the next one) and the two each curl handle holds (its
#     multi handle's wake-up socket pair; handles are made on demand up to
#     a cap); the same between before the load and after it.
# It prints PASS or FAIL per check and exits 1 when one fails (a check that
# is about correctness, not speed: no timing is judged).
#
#   flock /tmp/bench.lock bash bench/gateway/soak.sh            (30 min)
#   SOAK_S=120 flock /tmp/bench.lock bash bench/gateway/soak.sh (quick run)
# Environment: SOAK_S (1800), SAMPLE_S (30), SHORT_RPS (30), STREAM_RPS
# (20), REF_S, RSS_GROWTH_KB, FD_GROWTH, PIN (1: gatewayd and PostgreSQL on
# CPU 1, the mock and the load on CPU 0), GATEWAYD_BIN, GW_WORKER_THREADS
# (gatewayd's WORKER_THREADS; 0, the default: sized from the limits).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/gateway"
SOAK_S=${SOAK_S:-1800}
SAMPLE_S=${SAMPLE_S:-30}
SHORT_RPS=${SHORT_RPS:-30}
STREAM_RPS=${STREAM_RPS:-20}
REF_S=${REF_S:-300}
[ "$REF_S" -le $((SOAK_S / 2)) ] || REF_S=$((SOAK_S / 2))
# a time that has a sample: a whole number of sample periods, at least one
REF_S=$((REF_S / SAMPLE_S * SAMPLE_S))
[ "$REF_S" -ge "$SAMPLE_S" ] || REF_S=$SAMPLE_S
RSS_GROWTH_KB=${RSS_GROWTH_KB:-16384}
FD_GROWTH=${FD_GROWTH:-8}
VKEY=sk-mock
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/aistudio-soak.XXXXXX)
PIDS=()

cleanup() {
	local rc=$?
	set +e
	for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null; done
	sleep 0.3
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2> /dev/null; done
	if [ "$rc" != 0 ]; then
		# keep what explains a failure: each loadgen run's line and stderr, gatewayd's log
		keep=$(mktemp -d /tmp/aistudio-soak-failed.XXXXXX)
		cp "$WORK"/chunk.* "$WORK"/gatewayd.log "$keep"/ 2> /dev/null
		echo "# the loadgen outputs and gatewayd's log are in $keep" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

. "$HERE/common.sh"

ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"
make -s -C "$ROOT/bench/mock" > /dev/null
make -s -C "$HERE" loadgen > /dev/null
GATEWAYD=${GATEWAYD_BIN:-$ROOT/gatewayd/gatewayd}
if [ -z "${GATEWAYD_BIN:-}" ]; then
	flock /tmp/aistudio-gw.lock make -s -C "$ROOT/gatewayd" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
fi
LOADGEN="$HERE/loadgen"


metric_sum() { # metric_sum NAME_REGEX FILE: the sum of the samples of a metric
	awk -v re="$1" '!/^#/ && $1 ~ re {s += $NF} END {print s + 0}' "$2"
}

# ---- the mock, PostgreSQL, gatewayd --------------------------------------------
MOCK_OUT="$WORK/mock.out"
"${PIN_LOAD[@]}" "$ROOT/bench/mock/mock_upstream" --port 0 --threads 1 --frames 40 --frame-interval-ms 50 \
	--expect-key "$VKEY" > "$MOCK_OUT" 2> "$WORK/mock.err" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening on' "$MOCK_OUT" 2> /dev/null && break; sleep 0.05; done
MOCK_PORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\)$/\1/p' "$MOCK_OUT")
[ -n "$MOCK_PORT" ] || { echo "mock did not start" >&2; cat "$WORK/mock.err" >&2; exit 1; }

printf '%s' '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about the sea."}]}' > "$WORK/body.json"
printf '%s' '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about the sea."}]}' > "$WORK/sbody.json"

# cluster.mjs runs until its stdin ends: a FIFO whose writing end this
# script holds, so nothing outlives it (a `sleep` feeding stdin would, and
# with it the descriptor of the bench lock flock(1) passed down)
mkfifo "$WORK/cluster.stdin"
"${PIN_PROXY[@]}" node "$HERE/cluster.mjs" "$MOCK_PORT" "$VKEY" > "$WORK/cluster.json" 2> "$WORK/cluster.err" < "$WORK/cluster.stdin" &
PIDS+=($!)
exec 9> "$WORK/cluster.stdin"
for _ in $(seq 1 600); do [ -s "$WORK/cluster.json" ] && break; sleep 0.1; done
[ -s "$WORK/cluster.json" ] || { echo "cluster did not start" >&2; cat "$WORK/cluster.err" >&2; exit 1; }
J=$(cat "$WORK/cluster.json")
jget() { node -e "process.stdout.write(String(JSON.parse(process.argv[1])['$1']))" "$J"; }
psqlq() { "$PGBIN/psql" -X -At -h "$(jget host)" -p "$(jget port)" -U postgres -d aistudio -c "$1"; }

GPORT=$(free_port)
mkdir -p "$WORK/spool"
env -i PATH="$PATH" DATABASE_URL="$(jget database_url)" AISTUDIO_SECRET_KEY_FILE="$(jget key_file)" \
	PROXY_PORT="$GPORT" SERVER_PORT="$(free_port)" DOCS_PORT="$(free_port)" GRPC_PORT="$(free_port)" \
	LISTEN_HOST=127.0.0.1 SPOOL_DIR="$WORK/spool" LOG_LEVEL=warn WORKER_THREADS=${GW_WORKER_THREADS:-0} \
	"${PIN_PROXY[@]}" "$GATEWAYD" > "$WORK/gatewayd.log" 2>&1 &
GWPID=$!
PIDS+=("$GWPID")
for _ in $(seq 1 600); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$GPORT/readyz" 2> /dev/null)" = 200 ] && break
	sleep 0.05
done
URL="http://127.0.0.1:$GPORT/llm/rest/$(jget slug)/v1/chat/completions"
AUTH="Authorization: Bearer $(jget key)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "$AUTH" -H 'content-type: application/json' \
	--data-binary @"$WORK/body.json" "$URL" || true)
[ "$code" = 200 ] || { echo "gatewayd does not answer 200 ($code)" >&2; tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
SENT_BEFORE=1 # the probe above

rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$GWPID/status"; }
fds() { ls "/proc/$GWPID/fd" | wc -l; }
# fd_split HANDLES: gatewayd's descriptors other than client and upstream
# connections (only gatewayd connects to the mock) and the 2 of each curl
# handle: "total others clients upstream"
fd_split() {
	local n c u
	n=$(fds)
	c=$(ss -Htn "( sport = :$GPORT )" | wc -l)
	u=$(ss -Htn state established "( dport = :$MOCK_PORT )" | wc -l)
	echo "$n $((n - c - u - 2 * $1)) $c $u"
}
gw_requests() { # "requests curl_handles" from /metrics
	curl -s --max-time 5 "http://127.0.0.1:$GPORT/metrics" > "$WORK/metrics.now" || true
	echo "$(metric_sum '^gatewayd_requests_total' "$WORK/metrics.now") $(metric_sum '^gatewayd_upstream_handles$' "$WORK/metrics.now")"
}

# client totals over the finished loadgen runs: "sent errors"
client_totals() {
	local sent=0 errs=0 f line
	for f in "$WORK"/chunk.*.out; do
		[ -e "$f" ] || continue
		line=$(cat "$f")
		[ -n "$line" ] || continue
		sent=$((sent + $(kv n "$line")))
		errs=$((errs + $(kv err "$line"))) # err includes non200
	done
	echo "$sent $errs"
}

echo "## gateway soak"
echo
echo "machine: $(nproc) cores, $(uname -srm); date: $(date -u +%Y-%m-%dT%H:%MZ); gatewayd $(cd "$ROOT" && git rev-parse --short HEAD 2> /dev/null || echo '?')"
echo "load: ${SOAK_S}s; $SHORT_RPS short requests/s and $STREAM_RPS streams/s (~2 s each), each on its own connection; pinning: ${PIN_PROXY[*]:-none} for gatewayd and PostgreSQL, ${PIN_LOAD[*]:-none} for the mock and the load"
echo

read -r reqs HANDLES0 < <(gw_requests)
read -r IDLE_FDS0 OTHER0 _ UP0 < <(fd_split "$HANDLES0")
IDLE_RSS0=$(rss_kb)
echo "| time | RSS | fds | fds other than connections and curl handles | client / upstream connections | curl handles | requests (gatewayd) | client errors |"
echo "|---|---|---|---|---|---|---|---|"
printf '| 0 s (before the load) | %d MB | %d | %d | 0 / %d | %d | %d | 0 |\n' $((IDLE_RSS0 / 1024)) "$IDLE_FDS0" "$OTHER0" "$UP0" "$HANDLES0" "$reqs"

declare -A RSS_AT FDS_AT
T0=$(date +%s)
chunks=$(((SOAK_S + SAMPLE_S - 1) / SAMPLE_S))
LGPIDS=()
for ((i = 0; i < chunks; i++)); do
	"${PIN_LOAD[@]}" "$LOADGEN" streams -u "$URL" -c $((SHORT_RPS * SAMPLE_S)) -r $((SAMPLE_S * 1000)) \
		-t $((SAMPLE_S + 60)) -f "$WORK/body.json" -H "$AUTH" > "$WORK/chunk.$i.short.tmp" 2> "$WORK/chunk.$i.short.err" &&
		mv "$WORK/chunk.$i.short.tmp" "$WORK/chunk.$i.short.out" &
	LGPIDS+=($!)
	"${PIN_LOAD[@]}" "$LOADGEN" streams -u "$URL" -c $((STREAM_RPS * SAMPLE_S)) -r $((SAMPLE_S * 1000)) \
		-t $((SAMPLE_S + 60)) -f "$WORK/sbody.json" -H "$AUTH" > "$WORK/chunk.$i.stream.tmp" 2> "$WORK/chunk.$i.stream.err" &&
		mv "$WORK/chunk.$i.stream.tmp" "$WORK/chunk.$i.stream.out" &
	LGPIDS+=($!)
	# the next period starts SAMPLE_S after this one, whatever the samples cost
	while [ $(($(date +%s) - T0)) -lt $(((i + 1) * SAMPLE_S)) ]; do sleep 0.2; done
	t=$(((i + 1) * SAMPLE_S))
	kill -0 "$GWPID" 2> /dev/null || { echo "gatewayd exited" >&2; tail -50 "$WORK/gatewayd.log" >&2; exit 1; }
	RSS_AT[$t]=$(rss_kb)
	read -r reqs handles < <(gw_requests)
	read -r nfd FDS_AT[$t] ncl nup < <(fd_split "$handles")
	read -r sent errs < <(client_totals)
	printf '| %d s | %d MB | %d | %d | %d / %d | %d | %d | %d |\n' "$t" $((RSS_AT[$t] / 1024)) "$nfd" "${FDS_AT[$t]}" "$ncl" "$nup" "$handles" "$reqs" "$errs"
done
T_LAST=$((chunks * SAMPLE_S))
# a loadgen failure is a client error too. A run that succeeded left its
# chunk.N.KIND.out (moved into place only on success); one missing is a
# failed run. Not `wait PID`: bash keeps the exit status of only so many
# finished children (the samples' process substitutions count too), and
# for a loadgen run that ended long ago `wait` fails with "not a child of
# this shell" although it succeeded (the 5 and 32 "client errors" at the
# end of earlier soaks, every request answered 200).
for pid in "${LGPIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
lgfail=0
for ((i = 0; i < chunks; i++)); do
	for kind in short stream; do
		[ -s "$WORK/chunk.$i.$kind.out" ] || lgfail=$((lgfail + 1))
	done
done

# ---- drain and check --------------------------------------------------------------
for _ in $(seq 1 600); do
	curl -s --max-time 2 "http://127.0.0.1:$GPORT/metrics" > "$WORK/metrics.now" || true
	depth=$(awk '$1 == "gatewayd_analytics_queue_depth" {print $2}' "$WORK/metrics.now")
	spool=$(awk '$1 == "gatewayd_analytics_spool_bytes" {print $2}' "$WORK/metrics.now")
	[ "${depth:-x}" = 0 ] && [ "${spool:-x}" = 0 ] && break
	sleep 0.2
done
prev=-1
rows=0
for _ in $(seq 1 120); do
	rows=$(psqlq "SELECT count(*) FROM aistudio.llm_interactions")
	[ "$rows" = "$prev" ] && break
	prev=$rows
	sleep 1
done
sleep 2 # connections closing after their last answer
read -r sent errs < <(client_totals)
sent=$((sent + SENT_BEFORE))
errs=$((errs + lgfail))
curl -s --max-time 5 "http://127.0.0.1:$GPORT/metrics" > "$WORK/metrics.end"
gw_reqs=$(metric_sum '^gatewayd_requests_total' "$WORK/metrics.end")
HANDLES1=$(metric_sum '^gatewayd_upstream_handles$' "$WORK/metrics.end")
dropped=$(metric_sum '^gatewayd_analytics_dropped_total' "$WORK/metrics.end")
dups=$(psqlq "SELECT count(*) - count(DISTINCT request_id) FROM aistudio.llm_interactions")
ok200=$(psqlq "SELECT count(*) FROM aistudio.llm_interactions WHERE status_code = 200")
read -r IDLE_FDS1 OTHER1 _ UP1 < <(fd_split "$HANDLES1")
IDLE_RSS1=$(rss_kb)
printf '| after the load (drained) | %d MB | %d | %d | 0 / %d | %d | %d | %d |\n' $((IDLE_RSS1 / 1024)) "$IDLE_FDS1" "$OTHER1" "$UP1" "$HANDLES1" "$gw_reqs" "$errs"
echo

set +e
fail=0
check() { # check OK_CONDITION_RESULT TEXT
	if [ "$1" = 0 ]; then echo "- PASS $2"; else echo "- FAIL $2"; fail=1; fi
}
[ "$errs" = 0 ]
check $? "client errors: $errs (transport errors, non-200 answers and failed loadgen runs: $lgfail) of $sent requests"
[ "$rows" = "$sent" ] && [ "$gw_reqs" = "$sent" ] && [ "$dups" = 0 ] && [ "$dropped" = 0 ]
check $? "events: $rows rows in aistudio.llm_interactions ($ok200 with status 200) for $sent requests sent; gatewayd counted $gw_reqs; dropped $dropped; duplicate request ids $dups"
rss_growth=$((RSS_AT[$T_LAST] - RSS_AT[$REF_S]))
fd_growth=$((FDS_AT[$T_LAST] - FDS_AT[$REF_S]))
[ "$rss_growth" -le "$RSS_GROWTH_KB" ]
check $? "RSS from ${REF_S} s to ${T_LAST} s: $((RSS_AT[$REF_S] / 1024)) → $((RSS_AT[$T_LAST] / 1024)) MB (${rss_growth} kB; bound ${RSS_GROWTH_KB} kB)"
[ "$fd_growth" -le "$FD_GROWTH" ] && [ $((OTHER1 - OTHER0)) -le "$FD_GROWTH" ]
check $? "descriptors other than connections and curl handles from ${REF_S} s to ${T_LAST} s: ${FDS_AT[$REF_S]} → ${FDS_AT[$T_LAST]}; before → after the load: $OTHER0 → $OTHER1 (all descriptors $IDLE_FDS0 → $IDLE_FDS1, upstream connections kept open $UP0 → $UP1, curl handles $HANDLES0 → $HANDLES1); bound +$FD_GROWTH"
exit $fail
