#!/usr/bin/env bash
# docker/pg-entrypoint.sh: the PostgreSQL container of docker/compose.yml
# (docker/Dockerfile.pg), one per site (the hub, each edge). On the first
# start: a cluster with pg_aistudio preloaded that accepts password logins
# from the network. On every start (idempotent): the `aistudio` database
# with the extension (updated to the installed version) and gatewayd's
# login role `aistudio_gatewayd` (a member of aistudio_gateway) with
# GATEWAY_DB_PASSWORD; with AISTUDIO_ADMIN_EMAIL and AISTUDIO_ADMIN_PASSWORD
# (the hub), the first super admin when there is none. Then PostgreSQL
# runs in the foreground.
#
# Environment:
#   POSTGRES_PASSWORD        the postgres superuser's password (first start)
#   GATEWAY_DB_PASSWORD      the password of aistudio_gatewayd
#   AISTUDIO_SECRET_KEY      the hub's master key (64 hex digits); the
#                            extension reads it from the server's
#                            environment. Not on an edge.
#   AISTUDIO_ADMIN_EMAIL, AISTUDIO_ADMIN_PASSWORD   the hub's first admin
set -euo pipefail
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD: required (the postgres superuser's password)}"
: "${GATEWAY_DB_PASSWORD:?GATEWAY_DB_PASSWORD: required (the password of gatewayd's login role aistudio_gatewayd)}"
PGDATA=${PGDATA:-/var/lib/postgresql/data}
SOCK=/tmp
DB=aistudio

if [ ! -f "$PGDATA/PG_VERSION" ]; then
	initdb -D "$PGDATA" -U postgres -A scram-sha-256 -E UTF8 --locale=C.UTF-8 \
		--pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
	cat >> "$PGDATA/postgresql.conf" <<CONF

# ---- pg_aistudio (written by docker/pg-entrypoint.sh) ----
listen_addresses = '*'
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'pg_aistudio'
pg_aistudio.worker_database = '$DB'
CONF
	echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
fi

# local connections only while the database is prepared
pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -t 60 start
dba() { PGPASSWORD=$POSTGRES_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -U postgres "$@"; }
if [ -z "$(dba -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
	dba -d postgres -c "CREATE DATABASE $DB"
fi
dba -d "$DB" -v pw="$GATEWAY_DB_PASSWORD" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_aistudio;
ALTER EXTENSION pg_aistudio UPDATE;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aistudio_gatewayd') THEN
		CREATE ROLE aistudio_gatewayd LOGIN IN ROLE aistudio_gateway;
	END IF;
END $$;
ALTER ROLE aistudio_gatewayd PASSWORD :'pw';
SQL
if [ -n "${AISTUDIO_ADMIN_EMAIL:-}" ] && [ -n "${AISTUDIO_ADMIN_PASSWORD:-}" ] &&
	[ -z "$(dba -d "$DB" -Atc "SELECT 1 FROM aistudio.users WHERE role = 'super_admin' LIMIT 1")" ]; then
	dba -d "$DB" -v email="$AISTUDIO_ADMIN_EMAIL" -v pw="$AISTUDIO_ADMIN_PASSWORD" > /dev/null <<'SQL'
SELECT aistudio.create_user(:'email', 'Administrator', :'pw', 'super_admin');
SQL
	echo "first super admin created: $AISTUDIO_ADMIN_EMAIL"
fi
pg_ctl -D "$PGDATA" -m fast -w stop
exec postgres -D "$PGDATA"
