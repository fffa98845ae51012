# regress/cluster/lib.sh: helpers for cluster-level tests (sourced, not run).
# A test gets AISTUDIO_TEST_WORK (a scratch dir it owns), AISTUDIO_TEST_CONF
# (the server settings of the test clusters, with a master key) and PGBIN
# from regress/run-tests.sh, and prints TAP.
set -u
: "${AISTUDIO_TEST_WORK:?run through regress/run-tests.sh cluster}"
: "${PGBIN:=$(pg_config --bindir)}"
PGDATA_DIR="$AISTUDIO_TEST_WORK/data"
TAP_N=0
TAP_FAILED=0

# A free TCP port on 127.0.0.1 (the server listens only on its socket, but
# the port number also names the socket file).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2> /dev/null && [ ! -e "$AISTUDIO_TEST_WORK/.s.PGSQL.$p" ]; then
			echo "$p"
			return
		fi
	done
}

cluster_init() {
	CLUSTER_PORT=$(free_port)
	"$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres --no-sync > "$AISTUDIO_TEST_WORK/initdb.log" 2>&1 || {
		cat "$AISTUDIO_TEST_WORK/initdb.log"; return 1; }
	{
		cat "$AISTUDIO_TEST_CONF"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$AISTUDIO_TEST_WORK'"
		echo "port = $CLUSTER_PORT"
	} >> "$PGDATA_DIR/postgresql.conf"
	cluster_start
}

cluster_start() {
	"$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$AISTUDIO_TEST_WORK/server.log" -w -t 60 start > /dev/null
}

cluster_stop() {
	"$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop > /dev/null 2>&1 || true
}

cluster_restart() {
	"$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$AISTUDIO_TEST_WORK/server.log" -m fast -w -t 60 restart > /dev/null
}

# psql_q DB SQL… : run SQL, print unaligned tuples only, stop on error
psql_q() {
	local db=$1
	shift
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$AISTUDIO_TEST_WORK" -p "$CLUSTER_PORT" -U postgres -d "$db" "$@"
}

# TAP
ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
is() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $TAP_N - $3"
	else
		echo "not ok $TAP_N - $3"
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}
done_testing() {
	cluster_stop
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}
trap cluster_stop EXIT
