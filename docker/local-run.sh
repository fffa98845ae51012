#!/usr/bin/env bash
# docker/local-run.sh: the embedded default deployment behind `make run` and
# `make psql`. Creates (first time) a PostgreSQL 15 cluster under
# $AISTUDIO_DATA_DIR (default ./.data), the `aistudio` database with the
# extension, a master key, the gateway's login role and — except on an edge
# — the first super admin; then runs gatewayd in the foreground (when
# built). Ctrl-C / SIGTERM stops gatewayd and the cluster. Running it again
# reuses everything.
#
#   bash docker/local-run.sh        start (what `make run` does after building)
#   bash docker/local-run.sh psql   psql on the running cluster as the DBA
#
# GATEWAY_MODE chooses what runs (docs/hub-and-edge.md):
#   standalone (default)  the gateway with its own configuration
#   control               a hub: the same, plus the gRPC server its edges
#                         connect to (GRPC_PORT, default 50051)
#   edge                  an edge of a hub: needs CONTROL_ENDPOINT, EDGE_ID and
#                         EDGE_TOKEN (or GRPC_AUTH_TOKEN); its cluster keeps
#                         only what the hub sends, so no admin is created and
#                         gatewayd gets no master key (it derives its edge key
#                         from the token). Give a second instance on one
#                         machine its own AISTUDIO_DATA_DIR, PGPORT, PROXY_PORT,
#                         SERVER_PORT and DOCS_PORT.
# Every other setting in the environment reaches gatewayd as it is
# (docs/configuration.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${AISTUDIO_DATA_DIR:-$ROOT/.data}
# a relative directory is taken from where `make run` runs (the socket
# directory in postgresql.conf and DATABASE_URL must be absolute)
case "$DATA" in /*) ;; *) DATA="$PWD/$DATA" ;; esac
MODE=${GATEWAY_MODE:-standalone}
PORT=${PGPORT:-5499}
DB=aistudio
PGBIN=$(pg_config --bindir)
PGDATA="$DATA/pg"
ADMIN_EMAIL=${AISTUDIO_ADMIN_EMAIL:-admin@localhost}

die() { echo "local-run: $*" >&2; exit 1; }

# PostgreSQL refuses to run as root: the cluster then belongs to `postgres`.
RUNAS=()
OWNER=$(id -un)
if [ "$(id -u)" = 0 ]; then
	RUNAS=(runuser -u postgres --)
	OWNER=postgres
fi
as_owner() { "${RUNAS[@]}" "$@"; }

psql_dba() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DATA" -p "$PORT" -U postgres "$@"
}

if [ "${1:-}" = psql ]; then
	[ -S "$DATA/.s.PGSQL.$PORT" ] || die "no cluster is running on $DATA (port $PORT); start it with 'make run'"
	exec "$PGBIN/psql" -X -h "$DATA" -p "$PORT" -U postgres "$DB"
fi

case "$PORT" in '' | *[!0-9]*) die "PGPORT must be a port number, got '$PORT'" ;; esac
case "$MODE" in
	standalone | control) ;;
	edge)
		# gatewayd checks these too; here they stop us before a cluster is made
		[ -n "${CONTROL_ENDPOINT:-}" ] || die "CONTROL_ENDPOINT: required when GATEWAY_MODE=edge (the hub's host:port, e.g. 127.0.0.1:50051)"
		[ -n "${EDGE_ID:-}" ] || die "EDGE_ID: required when GATEWAY_MODE=edge (the id the edge was enrolled with)"
		[ -n "${EDGE_TOKEN:-}${GRPC_AUTH_TOKEN:-}" ] ||
			die "EDGE_TOKEN: required when GATEWAY_MODE=edge (the token its enrolment showed once, or the hub's GRPC_AUTH_TOKEN)"
		;;
	*) die "GATEWAY_MODE must be standalone, control or edge, got '$MODE'" ;;
esac

mkdir -p "$DATA"
[ "$(id -u)" = 0 ] && chown postgres: "$DATA"
chmod 700 "$DATA"
as_owner test -w "$DATA" || die "user $OWNER cannot write $DATA; set AISTUDIO_DATA_DIR to a directory it can reach"

# ---- cluster (first time) ----
if [ ! -f "$PGDATA/PG_VERSION" ]; then
	echo "creating a PostgreSQL cluster in $PGDATA"
	as_owner "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > "$DATA/initdb.log" 2>&1 ||
		{ cat "$DATA/initdb.log"; die "initdb failed"; }
	as_owner bash -c "umask 077; openssl rand -hex 32 > '$DATA/secret.key'"
	as_owner bash -c "cat >> '$PGDATA/postgresql.conf'" <<EOF

# ---- pg_aistudio (written by docker/local-run.sh) ----
listen_addresses = ''
unix_socket_directories = '$DATA'
unix_socket_permissions = 0700
shared_preload_libraries = 'pg_aistudio'
pg_aistudio.worker_database = '$DB'
pg_aistudio.secret_key_file = '$DATA/secret.key'
EOF
fi
# the port may change between runs (PGPORT)
as_owner bash -c "grep -q '^port = ' '$PGDATA/postgresql.auto.conf' 2>/dev/null && sed -i 's/^port = .*/port = $PORT/' '$PGDATA/postgresql.auto.conf' || echo 'port = $PORT' >> '$PGDATA/postgresql.auto.conf'"

if ! as_owner "$PGBIN/pg_ctl" -D "$PGDATA" status > /dev/null 2>&1; then
	as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -l "$DATA/postgresql.log" -w -t 60 start > /dev/null ||
		{ tail -20 "$DATA/postgresql.log"; die "PostgreSQL did not start (log: $DATA/postgresql.log)"; }
fi

stop_cluster() {
	as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop > /dev/null 2>&1 || true
}

# ---- database, extension, roles ----
if [ -z "$(psql_dba -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
	psql_dba -d postgres -c "CREATE DATABASE $DB"
fi
psql_dba -d "$DB" <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_aistudio;
ALTER EXTENSION pg_aistudio UPDATE;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aistudio_gatewayd') THEN
		CREATE ROLE aistudio_gatewayd LOGIN IN ROLE aistudio_gateway;
	END IF;
END $$;
EOF

# ---- first super admin (password printed once, kept in a 0600 file) ----
# Not on an edge: admins sign in on the hub; an edge's database holds no users.
ADMIN_FILE="$DATA/initial-admin.txt"
if [ "$MODE" != edge ] &&
	[ -z "$(psql_dba -d "$DB" -Atc "SELECT 1 FROM aistudio.users WHERE role = 'super_admin' LIMIT 1")" ]; then
	PASSWORD=$(openssl rand -base64 24 | tr -d '/+=' | cut -c1-20)
	psql_dba -d "$DB" -v email="$ADMIN_EMAIL" -v pw="$PASSWORD" > /dev/null <<'EOF'
SELECT aistudio.create_user(:'email', 'Administrator', :'pw', 'super_admin');
EOF
	(umask 077; printf 'email: %s\npassword: %s\n' "$ADMIN_EMAIL" "$PASSWORD" > "$ADMIN_FILE")
	chmod 600 "$ADMIN_FILE"
	echo
	echo "First super admin created:"
	echo "  email:    $ADMIN_EMAIL"
	echo "  password: $PASSWORD   (shown once; also in $ADMIN_FILE, mode 0600)"
fi

export GATEWAY_MODE=$MODE
export DATABASE_URL="host=$DATA port=$PORT dbname=$DB user=aistudio_gatewayd"
if [ "$MODE" = edge ]; then
	# an edge never holds a master key: vendor keys reach it sealed under
	# the key it derives from its token
	unset AISTUDIO_SECRET_KEY AISTUDIO_SECRET_KEY_FILE
else
	export AISTUDIO_SECRET_KEY_FILE="$DATA/secret.key"
fi
export SPOOL_DIR=${SPOOL_DIR:-$DATA/spool}
mkdir -p "$SPOOL_DIR"

HOST=${LISTEN_HOST:-127.0.0.1}
echo
echo "DATABASE_URL=$DATABASE_URL"
if [ -n "${AISTUDIO_DATA_DIR:-}${PGPORT:-}" ]; then
	echo "DBA shell:        AISTUDIO_DATA_DIR=${AISTUDIO_DATA_DIR:-.data} PGPORT=$PORT make psql"
else
	echo "DBA shell:        make psql"
fi
case "$MODE" in
	edge)
		echo "Edge:             $EDGE_ID of namespace '${EDGE_NAMESPACE:-}' (global when empty), hub $CONTROL_ENDPOINT"
		echo "LLM gateway:      http://$HOST:${PROXY_PORT:-9090}/   (readiness: /readyz)"
		echo "Documentation:    http://$HOST:${DOCS_PORT:-8989}/"
		echo "Admin UI:         none here (this database has no users): manage the edge on its hub"
		;;
	*)
		[ "$MODE" = control ] &&
			echo "Hub (gRPC):       $HOST:${GRPC_PORT:-50051}   edges connect here (CONTROL_ENDPOINT); enrol them on the Edges page"
		echo "Admin UI + API:   http://$HOST:${SERVER_PORT:-8080}/"
		echo "LLM gateway:      http://$HOST:${PROXY_PORT:-9090}/"
		echo "Documentation:    http://$HOST:${DOCS_PORT:-8989}/"
		echo "First admin:      $ADMIN_EMAIL (password in $ADMIN_FILE)"
		;;
esac
echo

GATEWAYD="$ROOT/gatewayd/gatewayd"
child=
on_signal() {
	trap - INT TERM
	echo
	echo "stopping…"
	if [ -n "$child" ]; then
		kill -TERM "$child" 2> /dev/null || true
		wait "$child" 2> /dev/null || true
	fi
	stop_cluster
	exit 0
}
trap on_signal INT TERM

if [ -x "$GATEWAYD" ]; then
	# its own session: a terminal's Ctrl-C reaches only this script, which
	# then asks gatewayd once (SIGTERM) to drain and stop
	setsid "$GATEWAYD" &
	child=$!
	set +e
	wait "$child"
	rc=$?
	set -e
	child=
	stop_cluster
	exit "$rc"
else
	echo "gatewayd is not built yet; the cluster runs until Ctrl-C."
	sleep infinity &
	child=$!
	wait "$child" || true
	stop_cluster
fi
