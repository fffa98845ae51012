#!/usr/bin/env bash
# bench/gateway/floorcpu.sh: the CPU time per request of the civetweb +
# libcurl floor with and without one plugin hook (civetfloor --curl, and
# --hook with the firewall and configuration of run.sh's gatewayd-plugin),
# at 64 connections, read from /proc/PID/stat of civetfloor and of the
# plugin process over one wrk load, with the busy share of the proxy's CPU
# (docs/BENCHMARKS.md, "The floor of a plugin hook at 64 connections").
# Rounds alternate floor and hook; each: wrk -c64 for 5 s (warm-up), then
# 10 s measured. Pinning as run.sh: proxy (and plugin) on CPU 1, mock and
# wrk on CPU 0. Run it under the bench lock:
#   flock /tmp/bench.lock bash bench/gateway/floorcpu.sh     (ROUNDS="1 2 3")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/gateway"
WORK=$(mktemp -d /tmp/aistudio-floorcpu.XXXXXX)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
. "$HERE/common.sh"

make -s -C "$ROOT/bench/mock" > /dev/null
make -s -C "$HERE" > /dev/null
make -s -C "$ROOT/plugins/examples" > /dev/null
printf '%s' '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about the sea."}]}' \
	> "$WORK/body.json"
"${PIN_LOAD[@]}" "$ROOT/bench/mock/mock_upstream" --port 0 --threads 1 --expect-key sk-mock > "$WORK/mock.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "^listening on" "$WORK/mock.out" 2> /dev/null && break; sleep 0.05; done
MOCK_PORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\)$/\1/p' "$WORK/mock.out")
TCK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of one process
cpu1() { awk '$1 == "cpu1" {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; } # busy idle
wrk64() { BODY_FILE="$WORK/body.json" "${PIN_LOAD[@]}" wrk -t2 -c64 -d"$1" -s "$HERE/chat.lua" "$2"; }

echo "| round | mode | req/s c=64 | civetfloor µs/request | plugin µs/request | total µs/request | CPU 1 busy |"
echo "|---|---|---|---|---|---|---|"
for round in ${ROUNDS:-1 2 3}; do
	for mode in floor hook; do
		port=$(free_port)
		opt=(--curl)
		[ "$mode" = hook ] && opt+=(--hook "$ROOT/plugins/examples/build/firewall"
			'{"phrases": ["ignore previous instructions"], "timeout_ms": 1000}')
		"${PIN_PROXY[@]}" "$HERE/civetfloor" "${opt[@]}" "$port" "$MOCK_PORT" /v1/chat/completions sk-mock 512 \
			> "$WORK/f.out" 2>&1 &
		fp=$!
		for _ in $(seq 1 300); do grep -q "^listening on" "$WORK/f.out" 2> /dev/null && break; sleep 0.05; done
		pp=$(pgrep -P "$fp" | head -1 || true) # the plugin process (hook only)
		url="http://127.0.0.1:$port/v1/chat/completions"
		wrk64 5s "$url" > /dev/null
		f0=$(ticks "$fp") p0=$([ -n "$pp" ] && ticks "$pp" || echo 0)
		read -r b0 i0 < <(cpu1)
		out=$(wrk64 10s "$url")
		f1=$(ticks "$fp") p1=$([ -n "$pp" ] && ticks "$pp" || echo 0)
		read -r b1 i1 < <(cpu1)
		n=$(awk '/requests in/ {print $1}' <<< "$out")
		rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
		awk -v rd="$round" -v m="$mode" -v r="$rps" -v n="$n" -v k="$TCK" -v f=$((f1 - f0)) -v p=$((p1 - p0)) \
			-v b=$((b1 - b0)) -v i=$((i1 - i0)) 'BEGIN {
				printf "| %s | %s | %.0f | %.1f | %.1f | %.1f | %.0f %% |\n", rd, m, r, f / k / n * 1e6, p / k / n * 1e6,
					(f + p) / k / n * 1e6, 100 * b / (b + i) }'
		kill "$fp"
		for _ in $(seq 1 100); do kill -0 "$fp" 2> /dev/null || break; sleep 0.1; done
	done
done
