#!/usr/bin/env bash
# regress/cluster/local_run.sh: `make run`'s script (docker/local-run.sh)
# with the settings of docs/hub-and-edge.md: a hub (GATEWAY_MODE=control)
# and, on the same machine, an edge with its own cluster (a relative
# AISTUDIO_DATA_DIR, its own PGPORT and ports) enrolled on the hub. Checks
# what each prints, that the hub gets a first admin and the edge none (and
# no master key), that both serve, that Ctrl-C (SIGTERM) stops gatewayd and
# the cluster, and that a missing or bad setting stops the script before it
# creates anything, naming the setting.
#
# Run through: bash regress/run-tests.sh cluster (needs gatewayd built)
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="$ROOT/docker/local-run.sh"
W=$AISTUDIO_TEST_WORK
PIDS=()

# the ports every server of both instances uses: each free, none shared,
# and below the kernel's ephemeral range (32768 up), so that no outgoing
# connection (the edge's to its hub) takes one before its server binds it
ports() {
	local p
	for _ in "$@"; do
		while :; do
			p=$((20000 + RANDOM % 12000))
			[[ " ${TAKEN:-} " == *" $p "* ]] && continue
			(exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null && continue
			[ -e "$W/.s.PGSQL.$p" ] && continue
			break
		done
		TAKEN="${TAKEN:-} $p"
		echo "$p"
	done
}
read -r HUB_PG HUB_SRV HUB_PROXY HUB_DOCS HUB_GRPC EDGE_PG EDGE_SRV EDGE_PROXY EDGE_DOCS <<< "$(ports 1 2 3 4 5 6 7 8 9 | tr '\n' ' ')"

# wait_for FILE TEXT: until FILE holds TEXT (60 s)
wait_for() {
	for _ in $(seq 600); do
		grep -qF -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
	done
	return 1
}

# http_ok URL: until it answers (any status; 60 s), prints the status
http_status() {
	local s
	for _ in $(seq 600); do
		s=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2> /dev/null) && [ "$s" != 000 ] && { echo "$s"; return 0; }
		sleep 0.1
	done
	echo 000
	return 1
}

stop_run() { # PID: SIGTERM the script and wait for it; its exit status in STOP_RC
	kill -TERM "$1" 2> /dev/null
	STOP_RC=0
	wait "$1" || STOP_RC=$?
}

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null && wait "$p" 2> /dev/null; done
	for d in "$W/hub/pg" "$W/.data-edge-eu-1/pg"; do
		[ -f "$d/postmaster.pid" ] && "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop > /dev/null 2>&1
	done
	true
}
trap cleanup EXIT

[ -x "$ROOT/gatewayd/gatewayd" ] || { echo "not ok 1 - gatewayd is built (make -C gatewayd)"; echo "1..1"; exit 1; }

# ---- a setting missing or wrong: nothing is created ----
rc=0
out=$(cd "$W" && env -u CONTROL_ENDPOINT GATEWAY_MODE=edge EDGE_ID=edge-x EDGE_TOKEN=t AISTUDIO_DATA_DIR=bad-1 PGPORT="$EDGE_PG" timeout -k 5 60 bash "$RUN" 2>&1) || rc=$?
ok $((rc == 0)) "edge without CONTROL_ENDPOINT: the script fails"
is "$(echo "$out" | grep -c '^local-run: CONTROL_ENDPOINT: required')" 1 "the message names CONTROL_ENDPOINT"
rc=0
out=$(cd "$W" && env -u EDGE_TOKEN -u GRPC_AUTH_TOKEN GATEWAY_MODE=edge CONTROL_ENDPOINT=127.0.0.1:1 EDGE_ID=edge-x AISTUDIO_DATA_DIR=bad-2 PGPORT="$EDGE_PG" timeout -k 5 60 bash "$RUN" 2>&1) || rc=$?
ok $((rc == 0)) "edge without a token: the script fails"
is "$(echo "$out" | grep -c '^local-run: EDGE_TOKEN: required')" 1 "the message names EDGE_TOKEN"
rc=0
out=$(cd "$W" && GATEWAY_MODE=hub AISTUDIO_DATA_DIR=bad-3 PGPORT="$EDGE_PG" timeout -k 5 60 bash "$RUN" 2>&1) || rc=$?
ok $((rc == 0)) "GATEWAY_MODE=hub: the script fails"
is "$(echo "$out" | grep -c "GATEWAY_MODE must be standalone, control or edge, got 'hub'")" 1 "the message names GATEWAY_MODE"
is "$(ls -d "$W"/bad-* 2> /dev/null | wc -l)" 0 "no data directory was created"

# ---- the hub ----
(cd "$W" && exec env GATEWAY_MODE=control AISTUDIO_DATA_DIR="$W/hub" PGPORT="$HUB_PG" SERVER_PORT="$HUB_SRV" PROXY_PORT="$HUB_PROXY" \
	DOCS_PORT="$HUB_DOCS" GRPC_PORT="$HUB_GRPC" bash "$RUN" > "$W/hub.out" 2>&1) &
HUB=$!
PIDS+=("$HUB")
wait_for "$W/hub.out" "Admin UI + API:"
ok $? "the hub starts: $(tail -3 "$W/hub.out" | tr '\n' ' ')"
is "$(grep -c "^Hub (gRPC):       127.0.0.1:$HUB_GRPC " "$W/hub.out")" 1 "it prints where edges connect"
is "$(grep -c "^Admin UI + API:   http://127.0.0.1:$HUB_SRV/" "$W/hub.out")" 1 "it prints the admin UI"
is "$(grep -c '^First super admin created:' "$W/hub.out")" 1 "it creates the first admin"
is "$(stat -c %a "$W/hub/initial-admin.txt" 2> /dev/null)" 600 "its password is kept in a 0600 file"
info=$(http_status "http://127.0.0.1:$HUB_SRV/api/v1/info" > /dev/null && curl -s "http://127.0.0.1:$HUB_SRV/api/v1/info")
is "$(echo "$info" | grep -o '"mode":"[a-z]*"')" '"mode":"control"' "gatewayd runs as a hub"
is "$(echo "$info" | grep -o '"grpc_port":[0-9]*')" "\"grpc_port\":$HUB_GRPC" "with GRPC_PORT"
hubsql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$W/hub" -p "$HUB_PG" -U postgres -d aistudio -c "$1"; }
TOKEN=$(hubsql "SELECT aistudio.create_namespace('eu'); SELECT aistudio.enroll_edge('edge-eu-1', 'eu')" | tail -1)
is "$(echo "$TOKEN" | grep -cE '^aie_[A-Za-z0-9_-]{43}$')" 1 "an edge is enrolled on the hub"

# ---- an edge on the same machine: the command of docs/hub-and-edge.md ----
(cd "$W" && exec env GATEWAY_MODE=edge CONTROL_ENDPOINT="127.0.0.1:$HUB_GRPC" EDGE_ID=edge-eu-1 EDGE_NAMESPACE=eu EDGE_TOKEN="$TOKEN" \
	AISTUDIO_DATA_DIR=.data-edge-eu-1 PGPORT="$EDGE_PG" PROXY_PORT="$EDGE_PROXY" SERVER_PORT="$EDGE_SRV" DOCS_PORT="$EDGE_DOCS" \
	bash "$RUN" > "$W/edge.out" 2>&1) &
EDGE=$!
PIDS+=("$EDGE")
wait_for "$W/edge.out" "LLM gateway:"
ok $? "the edge starts: $(tail -3 "$W/edge.out" | tr '\n' ' ')"
ok "$([ -f "$W/.data-edge-eu-1/pg/PG_VERSION" ] && echo 0 || echo 1)" "its cluster is under the relative AISTUDIO_DATA_DIR"
is "$(grep -c "^Edge:             edge-eu-1 of namespace 'eu'.*hub 127.0.0.1:$HUB_GRPC" "$W/edge.out")" 1 "it prints which edge it is and its hub"
is "$(grep -c "^LLM gateway:      http://127.0.0.1:$EDGE_PROXY/" "$W/edge.out")" 1 "it prints its gateway"
is "$(grep -c "^DBA shell:        AISTUDIO_DATA_DIR=.data-edge-eu-1 PGPORT=$EDGE_PG make psql" "$W/edge.out")" 1 "and how to reach its database"
is "$(grep -c 'First super admin created' "$W/edge.out")" 0 "no first admin on an edge"
is "$(ls "$W/.data-edge-eu-1/initial-admin.txt" 2> /dev/null | wc -l)" 0 "no admin file"
is "$("$PGBIN/psql" -X -At -h "$W/.data-edge-eu-1" -p "$EDGE_PG" -U postgres -d aistudio -c 'SELECT count(*) FROM aistudio.users')" 0 \
	"its database has no users"
is "$("$PGBIN/psql" -X -At -h "$W/.data-edge-eu-1" -p "$EDGE_PG" -U postgres -d aistudio -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_aistudio'")" 1 \
	"its database has the extension"
code=$(http_status "http://127.0.0.1:$EDGE_PROXY/healthz")
is "$code" 200 "the edge's gateway answers on PROXY_PORT"
GW=$(ps -o pid= --ppid "$EDGE" 2> /dev/null | head -1 | tr -d ' ')
ENV=$(tr '\0' '\n' < "/proc/$GW/environ" 2> /dev/null)
is "$(echo "$ENV" | grep -c '^GATEWAY_MODE=edge$')" 1 "gatewayd runs in edge mode"
is "$(echo "$ENV" | grep -c '^AISTUDIO_SECRET_KEY')" 0 "gatewayd gets no master key on an edge"
is "$(echo "$ENV" | grep -c "^EDGE_TOKEN=$TOKEN\$")" 1 "and the edge's token"

# ---- Ctrl-C ----
stop_run "$EDGE"
is "$STOP_RC" 0 "the edge stops on SIGTERM (exit 0)"
ok "$([ -f "$W/.data-edge-eu-1/pg/postmaster.pid" ] && echo 1 || echo 0)" "its cluster is stopped"
stop_run "$HUB"
is "$STOP_RC" 0 "the hub stops on SIGTERM (exit 0)"
ok "$([ -f "$W/hub/pg/postmaster.pid" ] && echo 1 || echo 0)" "its cluster is stopped"
PIDS=()

echo "1..$TAP_N"
[ "$TAP_FAILED" = 0 ]
