#!/usr/bin/env bash
# bench/peers/portkey.sh: the Portkey AI gateway (npm @portkey-ai/gateway
# 1.15.2, with @hono/node-server pinned to 1.14.1 by
# bench/peers/portkey/package.json) as a benchmark peer.
#
#   bash bench/peers/portkey.sh install     npm install into bench/peers/portkey (once)
#   bash bench/peers/portkey.sh run PORT    exec the server (headless) on PORT
#
# Point a request at the mock with the headers
#   x-portkey-provider: openai
#   x-portkey-custom-host: http://127.0.0.1:MOCK_PORT/v1
# Note: Portkey binds all interfaces (it has no host option); run it only on
# a machine where that is acceptable. node_modules and package-lock.json are
# not committed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR="$HERE/portkey"
ENTRY="$DIR/node_modules/@portkey-ai/gateway/build/start-server.js"

case "${1:-}" in
install)
	if [ -f "$ENTRY" ] && [ "$(node -p "require('$DIR/node_modules/@hono/node-server/package.json').version" 2>/dev/null)" = 1.14.1 ]; then
		exit 0
	fi
	(cd "$DIR" && npm install --no-audit --no-fund --loglevel=error > /dev/null)
	[ -f "$ENTRY" ] || { echo "portkey: install failed" >&2; exit 1; }
	;;
run)
	port=${2:?PORT}
	[ -f "$ENTRY" ] || { echo "portkey: not installed (bash bench/peers/portkey.sh install)" >&2; exit 1; }
	NODE_ENV=production exec node "$ENTRY" --port="$port" --headless
	;;
*) echo "usage: portkey.sh install | run PORT" >&2; exit 2 ;;
esac
