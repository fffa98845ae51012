# bench/gateway/common.sh: what the gateway benchmarks (run.sh, capacity.sh,
# soak.sh) share beyond bench/lib.sh (sourced here); sourced, after they
# set ROOT and HERE.
#   log MSG                  a note on stderr
#   PIN_PROXY, PIN_LOAD      taskset prefixes: CPU 1 for the proxy (and its
#                            database), CPU 0 for the load (PIN=0: none)
#   free_port, wait_http     from bench/lib.sh
#   kv KEY LINE              the value of key=value in a loadgen line

log() { echo "# $*" >&2; }

PIN_PROXY=()
PIN_LOAD=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
	PIN_PROXY=(taskset -c 1)
	PIN_LOAD=(taskset -c 0)
fi

. "$ROOT/bench/lib.sh" # free_port, wait_http

kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$2"; }
