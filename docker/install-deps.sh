#!/usr/bin/env bash
# docker/install-deps.sh: installs what pg_aistudio needs to build, run and
# test, only when missing (idempotent). Debian bookworm; runs as root (or via
# sudo when available). Also used by the Dockerfiles in this folder.
#   bash docker/install-deps.sh          build + run + test dependencies
#   bash docker/install-deps.sh bench    also the benchmark peers' packages
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(
	make gcc pkg-config openssl ca-certificates
	postgresql-15 postgresql-client-15 postgresql-server-dev-15 libpq-dev
	libcurl4-openssl-dev libcivetweb-dev libprotobuf-c-dev protobuf-c-compiler
	protobuf-compiler libgrpc-dev libssl-dev libpcre2-dev
	python3-grpcio cmark-gfm bubblewrap
	nodejs npm
	chromium
)
if [ "${1:-}" = bench ]; then
	PACKAGES+=(nginx-light wrk)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		# node may come from elsewhere on the machine; that is fine
		if [ "$p" = nodejs ] && command -v node > /dev/null; then continue; fi
		if [ "$p" = npm ] && command -v npm > /dev/null; then continue; fi
		missing+=("$p")
	fi
done

SUDO=()
if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# JavaScript dependencies (official vendor SDKs and the browser driver of the
# tests; @grpc/grpc-js of the Node example plugin), pinned by package-lock.json.
for dir in "$ROOT/regress/e2e" "$ROOT/regress/browser" "$ROOT"/plugins/examples/node-*; do
	if [ -f "$dir/package-lock.json" ]; then
		if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
			(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
		fi
	fi
done
