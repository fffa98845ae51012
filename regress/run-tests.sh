#!/usr/bin/env bash
# regress/run-tests.sh: runs every test suite of the project against
# temporary clusters and prints one closing line "N passed, N failed".
#
#   bash regress/run-tests.sh                 all suites
#   bash regress/run-tests.sh regress [NAME…] pg_regress only (optionally some files)
#   bash regress/run-tests.sh cluster         the cluster-level tests (restart, pg_dump)
#   bash regress/run-tests.sh unit            C unit tests
#   bash regress/run-tests.sh fuzz            the fuzz targets' deterministic drivers (ASan/UBSan)
#   bash regress/run-tests.sh e2e             end-to-end tests (node --test)
#   bash regress/run-tests.sh e2e-asan        the gateway's e2e tests against gatewayd-asan
#   bash regress/run-tests.sh browser         the web UI in headless chromium (playwright-core)
#
# Suites: pg_regress (regress/sql, regress/expected; run by
# `make -C pg_aistudio installcheck`, names passed as REGRESS=…), cluster tests
# (regress/cluster/*.sh: each starts its own cluster), C unit tests
# (regress/unit, built by `make -C regress/unit`, and the layer check of
# gatewayd, regress/unit/check_layers.sh), fuzz targets of the
# parsers run by their gcc drivers on fixed inputs (regress/fuzz; libFuzzer
# builds too when clang is there), end-to-end tests
# (regress/e2e, node --test). PostgreSQL refuses to run as root, so when run
# as root the servers run as the `postgres` system user in a scratch
# directory it owns.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=$(command -v pg_config)
PGBIN=$("$PG_CONFIG" --bindir)

WORK=$(mktemp -d /tmp/aistudio-test.XXXXXX)
RUNAS=()
if [ "$(id -u)" = 0 ]; then
	chown postgres: "$WORK"
	RUNAS=(runuser -u postgres --)
fi
trap 'rm -rf "$WORK"' EXIT

PASSED=0
FAILED=0
SKIPPED=0

# A master key for the test clusters (generated per run, never committed).
"${RUNAS[@]}" bash -c "umask 077; openssl rand -hex 32 > '$WORK/secret.key'"
"${RUNAS[@]}" bash -c "cat '$ROOT/regress/pg_aistudio.conf' > '$WORK/test.conf'; echo \"pg_aistudio.secret_key_file = '$WORK/secret.key'\" >> '$WORK/test.conf'"

run_regress() {
	local tests=("$@")
	if [ ${#tests[@]} -eq 0 ]; then
		for f in "$ROOT"/regress/sql/*.sql; do
			[ -e "$f" ] || continue
			tests+=("$(basename "$f" .sql)")
		done
	fi
	# a test without an expected output fails here instead of aborting pg_regress
	local runnable=()
	for t in "${tests[@]}"; do
		if [ -f "$ROOT/regress/expected/$t.out" ]; then
			runnable+=("$t")
		else
			echo "test $t: no regress/expected/$t.out ... FAILED"
			FAILED=$((FAILED + 1))
		fi
	done
	tests=("${runnable[@]}")
	[ ${#tests[@]} -gt 0 ] || return 0
	local out="$WORK/regress"
	"${RUNAS[@]}" mkdir -p "$out"
	echo "== pg_regress: ${tests[*]}"
	# PGXS installcheck: a temporary instance with regress/pg_aistudio.conf
	# and a fresh master key (pg_aistudio/Makefile), outputs under $out
	"${RUNAS[@]}" make -s -C "$ROOT/pg_aistudio" installcheck PG_CONFIG="$PG_CONFIG" \
		REGRESS_OUT="$out" REGRESS="${tests[*]}" > "$out/log.txt" 2>&1
	local rc=$?
	cat "$out/log.txt"
	local ok fail
	ok=$(grep -cE '^(ok|test) .*\.\.\. +ok|^ok [0-9]+ ' "$out/log.txt")
	fail=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+ ' "$out/log.txt")
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then fail=1; fi
	# keep the actual outputs (git-ignored) so a changed expectation can be reviewed
	if mkdir -p "$ROOT/regress/results" 2>/dev/null; then
		rm -f "$ROOT/regress/results/regression.diffs"
		cp "$out"/results/*.out "$ROOT/regress/results/" 2>/dev/null || true
		cp "$out/regression.diffs" "$ROOT/regress/results/" 2>/dev/null || true
	fi
	if [ -s "$out/regression.diffs" ]; then
		echo "---- regression.diffs ----"
		head -c 20000 "$out/regression.diffs"
	fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
}

# Each cluster test prints TAP ("ok N - …" / "not ok N - …").
run_tap() {
	local name=$1
	shift
	local log="$WORK/$name.log"
	"$@" > "$log" 2>&1
	local rc=$?
	cat "$log"
	local ok fail
	ok=$(grep -cE '^ok [0-9]+' "$log")
	fail=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then fail=1; fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
}

run_cluster() {
	for t in "$ROOT"/regress/cluster/*.sh; do
		[ -e "$t" ] || continue
		[ "$(basename "$t")" = lib.sh ] && continue
		echo "== cluster test: $(basename "$t")"
		"${RUNAS[@]}" mkdir -p "$WORK/cluster"
		run_tap "cluster-$(basename "$t" .sh)" \
			"${RUNAS[@]}" env AISTUDIO_TEST_WORK="$WORK/cluster" AISTUDIO_TEST_CONF="$WORK/test.conf" \
			PGBIN="$PGBIN" bash "$t"
		"${RUNAS[@]}" rm -rf "$WORK/cluster"
	done
}

run_unit() {
	[ -f "$ROOT/regress/unit/Makefile" ] || return 0
	echo "== C unit tests"
	if ! make -s -C "$ROOT/regress/unit" > "$WORK/unit-build.log" 2>&1; then
		cat "$WORK/unit-build.log"
		FAILED=$((FAILED + 1))
		return
	fi
	for t in "$ROOT"/regress/unit/bin/*; do
		[ -x "$t" ] || continue
		run_tap "unit-$(basename "$t")" "$t"
	done
	# gatewayd's layers: no call into a higher layer, no files in a circle
	run_tap unit-check_layers bash "$ROOT/regress/unit/check_layers.sh"
}

# Every fuzz target of regress/fuzz through its deterministic driver (the
# seed corpus, then fixed-seed mutated and random inputs) under ASan/UBSan.
run_fuzz() {
	[ -f "$ROOT/regress/fuzz/Makefile" ] || return 0
	echo "== fuzz targets (deterministic drivers)"
	if ! make -s -C "$ROOT/regress/fuzz" > "$WORK/fuzz-build.log" 2>&1; then
		cat "$WORK/fuzz-build.log"
		FAILED=$((FAILED + 1))
		return
	fi
	cat "$WORK/fuzz-build.log"
	for t in "$ROOT"/regress/fuzz/bin/drive_*; do
		[ -x "$t" ] || continue
		local name=${t##*/drive_}
		run_tap "fuzz-$name" "$t" "$ROOT/regress/fuzz/corpus/$name"
	done
}

run_e2e() {
	[ -d "$ROOT/regress/e2e" ] && ls "$ROOT"/regress/e2e/*.test.mjs > /dev/null 2>&1 || return 0
	echo "== end-to-end tests"
	local log="$WORK/e2e.log"
	(cd "$ROOT/regress/e2e" && AISTUDIO_TEST_WORK="$WORK" node --test --test-reporter=tap ./*.test.mjs) > "$log" 2>&1
	local rc=$?
	cat "$log"
	# node's closing summary counts tests (suites are not tests)
	local ok fail skip
	ok=$(awk '/^# pass / {n=$3} END {print n+0}' "$log")
	fail=$(awk '/^# fail / {n=$3} END {print n+0}' "$log")
	skip=$(awk '/^# skipped / {n=$3} END {print n+0}' "$log")
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then fail=1; fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
	SKIPPED=$((SKIPPED + skip))
}

# Browser tests of the web UI (playwright-core driving Debian's chromium),
# one file at a time.
run_browser() {
	ls "$ROOT"/regress/browser/*.test.mjs > /dev/null 2>&1 || return 0
	echo "== browser tests"
	local log="$WORK/browser.log"
	(cd "$ROOT/regress/browser" && AISTUDIO_TEST_WORK="$WORK" \
		node --test --test-concurrency=1 --test-reporter=tap ./*.test.mjs) > "$log" 2>&1
	local rc=$?
	cat "$log"
	local ok fail skip
	ok=$(awk '/^# pass / {n=$3} END {print n+0}' "$log")
	fail=$(awk '/^# fail / {n=$3} END {print n+0}' "$log")
	skip=$(awk '/^# skipped / {n=$3} END {print n+0}' "$log")
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then fail=1; fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
	SKIPPED=$((SKIPPED + skip))
}

# The gateway's end-to-end tests again, against gatewayd built with
# AddressSanitizer + UBSan (lib/gatewayd.mjs fails a test on any sanitizer
# report in the daemon's stderr).
run_e2e_asan() {
	ls "$ROOT"/regress/e2e/gateway-*.test.mjs > /dev/null 2>&1 || return 0
	echo "== end-to-end tests under AddressSanitizer/UBSan"
	if ! make -s -C "$ROOT/gatewayd" SANITIZE=1 > "$WORK/asan-build.log" 2>&1; then
		cat "$WORK/asan-build.log"
		FAILED=$((FAILED + 1))
		return
	fi
	local log="$WORK/e2e-asan.log"
	(cd "$ROOT/regress/e2e" && GATEWAYD_BIN="$ROOT/gatewayd/gatewayd-asan" AISTUDIO_TEST_WORK="$WORK" \
		node --test --test-reporter=tap ./gateway-*.test.mjs) > "$log" 2>&1
	local rc=$?
	cat "$log"
	local ok fail
	ok=$(awk '/^# pass / {n=$3} END {print n+0}' "$log")
	fail=$(awk '/^# fail / {n=$3} END {print n+0}' "$log")
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then fail=1; fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
}

suite=${1:-all}
[ $# -gt 0 ] && shift
case "$suite" in
	regress) run_regress "$@" ;;
	cluster) run_cluster ;;
	unit) run_unit ;;
	fuzz) run_fuzz ;;
	e2e) run_e2e ;;
	e2e-asan) run_e2e_asan ;;
	browser) run_browser ;;
	all) run_unit; run_fuzz; run_regress; run_cluster; run_e2e; run_e2e_asan; run_browser ;;
	*) echo "unknown suite: $suite" >&2; exit 2 ;;
esac

if [ "$SKIPPED" -gt 0 ]; then
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" = 0 ]
