#!/usr/bin/env bash
# bench/run.sh: runs the benchmarks against a scratch cluster and prints
# their results (they are copied into docs/BENCHMARKS.md by hand, with the
# date and the machine). Benchmarks are never tests: nothing here fails on
# a slow number.
#
#   bash bench/run.sh                 every benchmark
#   bash bench/run.sh extension NAME  one of bench/extension/NAME.sh
#   bash bench/run.sh sync            the control plane (bench/sync/run.sh:
#                                     its own cluster, hub and simulated edges)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = sync ]; then exec bash "$ROOT/bench/sync/run.sh"; fi
PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/aistudio-bench.XXXXXX)
RUNAS=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$WORK"; RUNAS=(runuser -u postgres --); fi
as_owner() { "${RUNAS[@]}" "$@"; }

PORT=$((20000 + RANDOM % 30000))
cleanup() {
	as_owner "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop > /dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
echo "cpu: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"

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

run_one() {
	local script=$1
	echo
	echo "== $(basename "$script" .sh)"
	"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
	"$PGBIN/psql" -X -q -c "CREATE EXTENSION pg_aistudio"
	bash "$script"
}

what=${1:-all}
case "$what" in
	extension)
		if [ -n "${2:-}" ]; then run_one "$ROOT/bench/extension/$2.sh"; else
			for s in "$ROOT"/bench/extension/*.sh; do run_one "$s"; done
		fi ;;
	all)
		for s in "$ROOT"/bench/extension/*.sh; do run_one "$s"; done
		if [ -f "$ROOT/bench/gateway/run.sh" ]; then bash "$ROOT/bench/gateway/run.sh"; fi
		if [ -f "$ROOT/bench/admin/run.sh" ]; then bash "$ROOT/bench/admin/run.sh"; fi
		bash "$ROOT/bench/sync/run.sh" ;;
	*) echo "usage: bench/run.sh [all | extension [NAME] | sync]" >&2; exit 2 ;;
esac
