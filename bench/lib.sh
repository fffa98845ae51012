# bench/lib.sh: the helpers every benchmark script shares; sourced after
# the script has set ROOT.
#   free_port                a free TCP port on 127.0.0.1
#   wait_http URL [SECONDS]  until the URL answers 200 (a message and 1 after)

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
