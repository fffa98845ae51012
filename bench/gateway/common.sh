# bench/gateway/common.sh: what the gateway benchmarks (run.sh, capacity.sh,
# soak.sh) share; sourced, after they set ROOT and HERE.
#   log MSG                  a note on stderr
#   PIN_PROXY, PIN_LOAD      taskset prefixes: CPU 1 for the proxy (and its
#                            database), CPU 0 for the load (PIN=0: none)
#   free_port                a free TCP port on 127.0.0.1
#   wait_http URL [SECONDS]  until the URL answers 200
#   kv KEY LINE              the value of key=value in a loadgen line

log() { echo "# $*" >&2; }

PIN_PROXY=()
PIN_LOAD=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
	PIN_PROXY=(taskset -c 1)
	PIN_LOAD=(taskset -c 0)
fi

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

kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$2"; }
