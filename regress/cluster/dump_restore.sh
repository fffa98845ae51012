#!/usr/bin/env bash
# regress/cluster/dump_restore.sh: a database with configuration and
# ingested analytics (events in several monthly partitions and in the
# default partition, rejects, rollups, pending aggregates, budget
# notifications, the audit log, an edge's sync state) survives pg_dump -Fc
# + pg_restore and a plain pg_dump + psql with zero errors: every row comes back identical,
# the partitions come back with their keys and indexes, the snapshot
# checksum is unchanged, and afterwards a replay of the same events inserts
# nothing while new events are ingested and rolled up.
#
# Run through: bash regress/run-tests.sh cluster
source "$(dirname "$0")/lib.sh"

W=$AISTUDIO_TEST_WORK
SRC=aistudio_src

# state DB: every table of the schema (row count and md5 of the rows in
# text form, sorted), the identity sequences, and the partitions of
# llm_interactions with their bounds and indexes.  The global namespace ''
# is made by CREATE EXTENSION (its created_at is the restore's), not dumped.
state() {
	psql_q "$1" <<'SQL'
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %s t %s',
              c.relname, E'\n', '', c.oid::regclass,
              CASE c.relname WHEN 'namespaces' THEN $$WHERE t.name <> ''$$ ELSE '' END)
  FROM pg_class c
 WHERE c.relnamespace = 'aistudio'::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY c.relname
\gexec
SELECT s.sequencename, s.last_value FROM pg_sequences s WHERE s.schemaname = 'aistudio' ORDER BY 1;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid),
       (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY pg_get_indexdef(i.indexrelid))
          FROM pg_index i WHERE i.indrelid = c.oid)
  FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
 WHERE h.inhparent = 'aistudio.llm_interactions'::regclass
 ORDER BY 1;
SQL
}

cluster_init || { echo "not ok 1 - cluster starts"; echo "1..1"; exit 1; }
psql_q postgres -c "CREATE DATABASE $SRC" && psql_q "$SRC" -c "CREATE EXTENSION pg_aistudio"
ok $? "database with the extension"

# ---- configuration (audited) --------------------------------------------------
psql_q "$SRC" > /dev/null <<'SQL'
SELECT aistudio.create_namespace('eu', 'Europe');
SELECT aistudio.set_secret('DumpKey', 'sk-dump-secret-value');
SELECT aistudio.create_user('admin@example.com', 'Admin', 'correct horse battery', 'super_admin');
SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer');
SELECT aistudio.create_group('everyone');
SELECT aistudio.add_user_to_group(2, 1);
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1', 'sk-literal-key', 'gpt-4o');
SELECT aistudio.create_llm('Claude', 'anthropic', 'https://api.anthropic.com', '$SECRET/DumpKey',
                           namespace => 'eu');
SELECT aistudio.grant_llm_to_group(1, 1);
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00, cache_read_per_mtok => 1.25);
SELECT aistudio.set_model_price('anthropic', 'claude-sonnet-4', 3, 15, 3.75, 0.30);
SELECT aistudio.create_filter('short', 'max_prompt', '{"max_chars": 1000}');
SELECT aistudio.attach_filter(1, 1, 1);
SELECT aistudio.create_plugin('audit', 'on_response', '/usr/local/bin/audit-plugin');
SELECT aistudio.attach_plugin(1, 1, 1);
SELECT aistudio.create_app('app-a', 2, ARRAY[1, 2]::bigint[], monthly_budget => 5);
SELECT aistudio.create_app('app-b', 2, ARRAY[2]::bigint[], namespace => 'eu');
SELECT aistudio.issue_credential(1);
SELECT aistudio.register_edge('edge-1', 'eu', '1.0.0');
UPDATE aistudio.llms SET monthly_budget = 1000 WHERE name = 'GPT';
SQL
ok $? "configuration created"

# ---- analytics ------------------------------------------------------------------
# Events of this month (app-a, enough to cross its budget of 5 USD) and of 40
# days ago (app-b), ids and times fixed once so that a replay is identical;
# two events with an unknown vendor are rejected.
psql_q "$SRC" > "$W/events.json" <<'SQL'
SELECT jsonb_agg(e ORDER BY e->>'request_id') FROM (
  SELECT jsonb_build_object(
           'timestamp', greatest(now() - g * interval '1 second', date_trunc('month', now(), 'UTC')),
           'request_id', format('00000000-0000-4000-8000-%s', lpad(g::text, 12, '0')),
           'app_id', 1, 'user_id', 2, 'llm_id', 1, 'vendor', 'openai', 'model_name', 'gpt-4o',
           'prompt_tokens', 100000 + g, 'response_tokens', 1000, 'cache_read_tokens', g,
           'latency_ms', 100 + g, 'status_code', CASE WHEN g % 10 = 0 THEN 500 ELSE 200 END,
           'interaction_type', CASE WHEN g % 3 = 0 THEN 'chat' ELSE 'proxy' END) AS e
    FROM generate_series(1, 30) g
  UNION ALL
  SELECT jsonb_build_object(
           'timestamp', now() - interval '40 days' - g * interval '1 minute',
           'request_id', format('00000000-0000-4000-8000-%s', lpad(g::text, 12, '0')),
           'app_id', 2, 'user_id', 2, 'llm_id', 2, 'vendor', 'anthropic',
           'model_name', 'claude-sonnet-4-20250514', 'prompt_tokens', 500 + g, 'response_tokens', 200,
           'cache_write_tokens', 100, 'cache_read_tokens', 1000, 'latency_ms', 900,
           'status_code', 200, 'namespace', 'eu', 'edge_id', 'edge-1')
    FROM generate_series(31, 50) g
  UNION ALL
  SELECT jsonb_build_object('timestamp', now(), 'request_id',
           format('00000000-0000-4000-8000-%s', lpad(g::text, 12, '0')), 'vendor', 'acme')
    FROM generate_series(51, 52) g) x;
SQL
ingest() {
	echo "SELECT inserted || ' ' || duplicates || ' ' || rejected FROM aistudio.ingest_events(:'ev'::jsonb)" |
		psql_q "$1" -v ev="$(cat "$2")"
}
is "$(ingest "$SRC" "$W/events.json")" "50 0 2" "50 events ingested, 2 rejected"
PENDING=$(psql_q "$SRC" -c "SELECT count(*) FROM aistudio.rollup_pending")
is "$(psql_q "$SRC" -c "SELECT aistudio.rollup_now()")" "$PENDING" "rollup_now folds the pending rows"
is "$(psql_q "$SRC" -c "SELECT string_agg(threshold::text, ',' ORDER BY threshold) FROM aistudio.budget_notifications WHERE subject = 'app' AND subject_id = 1")" \
	"50,80,90,100" "app-a's budget thresholds are recorded"
psql_q "$SRC" -c "SELECT aistudio.acknowledge_budget_notification(min(id)) FROM aistudio.budget_notifications" > /dev/null
ok $? "one notification acknowledged"

# a second batch left pending (not rolled up), and a row inserted directly
# into the parent for a month without a partition (the default partition)
psql_q "$SRC" > "$W/events2.json" <<'SQL'
SELECT jsonb_agg(jsonb_build_object('timestamp', now(), 'request_id',
         format('00000000-0000-4000-8000-%s', lpad(g::text, 12, '0')), 'app_id', 1, 'llm_id', 1,
         'vendor', 'openai', 'model_name', 'gpt-4o', 'prompt_tokens', 10, 'response_tokens', 5,
         'status_code', 200))
  FROM generate_series(101, 105) g;
SQL
is "$(ingest "$SRC" "$W/events2.json")" "5 0 0" "a second batch is ingested and left pending"
psql_q "$SRC" -c "INSERT INTO aistudio.llm_interactions (\"timestamp\", request_id, vendor, model_name)
	VALUES (now() - interval '200 days', '00000000-0000-4000-8000-000000000201', 'openai', 'direct')"
ok $? "a row inserted directly for a month without a partition"

is "$(psql_q "$SRC" -c "SELECT (SELECT count(*) > 0 FROM aistudio.rollup_pending) AND (SELECT count(*) > 0 FROM aistudio.spend_pending)
	AND (SELECT count(*) = 1 FROM aistudio.llm_interactions_default) AND (SELECT count(*) = 2 FROM aistudio.ingest_rejects)
	AND (SELECT count(*) > 0 FROM aistudio.usage_hourly) AND (SELECT count(*) > 0 FROM aistudio.spend_daily)
	AND (SELECT count(*) > 0 FROM aistudio.audit_log) AND (SELECT count(*) > 0 FROM aistudio.edge_spend)
	AND (SELECT count(*) > 0 FROM aistudio.namespace_checksums) AND (SELECT count(*) > 0 FROM aistudio.edge_events)")" "t" \
	"every analytics table, the audit log and the sync state have rows"
is "$(psql_q "$SRC" -c "SELECT count(*) >= 3 FROM pg_inherits WHERE inhparent = 'aistudio.llm_interactions'::regclass AND inhrelid::regclass::text ~ '_[0-9]{6}\$'")" \
	"t" "events in at least two monthly partitions (plus the next month)"

STATE_SRC=$(state "$SRC")
SUM_SRC=$(psql_q "$SRC" -c "SELECT aistudio.snapshot_checksum('') || ' ' || aistudio.snapshot_checksum('eu')")
SECRET_SRC=$(psql_q "$SRC" -c "SELECT aistudio.secret_value('DumpKey') || ' ' || aistudio.llm_api_key(1) || ' ' || aistudio.llm_api_key(2)")
EVENTS_SRC=$(psql_q "$SRC" -c "SELECT count(*) FROM aistudio.llm_interactions")

# ---- dumps ----------------------------------------------------------------------
"$PGBIN/pg_dump" -Fc -h "$W" -p "$CLUSTER_PORT" -U postgres -d "$SRC" -f "$W/dump.custom" 2> "$W/dump.err"
ok $? "pg_dump -Fc"
"$PGBIN/pg_dump" -h "$W" -p "$CLUSTER_PORT" -U postgres -d "$SRC" -f "$W/dump.sql" 2>> "$W/dump.err"
ok $? "pg_dump (plain)"
is "$(cat "$W/dump.err")" "" "pg_dump prints nothing on stderr"

# restored DB HOW: the checks on a restored database
restored() {
	local db=$1 how=$2
	local diff
	diff=$(diff <(echo "$STATE_SRC") <(state "$db"))
	is "$diff" "" "$how: every table, sequence and partition identical"
	is "$(psql_q "$db" -c "SELECT aistudio.snapshot_checksum('') || ' ' || aistudio.snapshot_checksum('eu')")" \
		"$SUM_SRC" "$how: snapshot checksums unchanged"
	is "$(psql_q "$db" -c "SELECT aistudio.secret_value('DumpKey') || ' ' || aistudio.llm_api_key(1) || ' ' || aistudio.llm_api_key(2)" 2>&1)" \
		"$SECRET_SRC" "$how: the secret and the LLM keys open"
	# replays are duplicates; new events (this and a new month) go in
	is "$(ingest "$db" "$W/events.json")" "0 50 2" "$how: a replay of the first batch inserts nothing"
	is "$(ingest "$db" "$W/events2.json")" "0 5 0" "$how: a replay of the second batch inserts nothing"
	psql_q "$db" > "$W/events3.json" <<'SQL'
SELECT jsonb_agg(jsonb_build_object('timestamp', t, 'request_id',
         format('00000000-0000-4000-8000-%s', lpad(g::text, 12, '0')), 'app_id', 1, 'llm_id', 1,
         'vendor', 'openai', 'model_name', 'gpt-4o', 'prompt_tokens', 10, 'response_tokens', 5,
         'status_code', 200))
  FROM (SELECT g, CASE WHEN g % 2 = 0 THEN now() ELSE now() - interval '200 days' END AS t
          FROM generate_series(301, 306) g) x;
SQL
	is "$(ingest "$db" "$W/events3.json")" "6 0 0" "$how: new events are ingested"
	is "$(ingest "$db" "$W/events3.json")" "0 6 0" "$how: and their replay is a duplicate"
	is "$(psql_q "$db" -c "SELECT count(*) FROM aistudio.llm_interactions_default")" "0" \
		"$how: the month of the directly inserted row got its partition, the row moved into it"
	is "$(psql_q "$db" -c "SELECT count(*) FROM aistudio.llm_interactions")" "$((EVENTS_SRC + 6))" \
		"$how: all events stored once"
	psql_q "$db" -c "SELECT aistudio.rollup_now()" > /dev/null
	is "$(psql_q "$db" -c "SELECT (SELECT sum(requests) FROM aistudio.usage_daily) = (SELECT count(*) FROM aistudio.llm_interactions WHERE model_name <> 'direct')")" \
		"t" "$how: after rollup_now the daily rollup counts every ingested event"
	is "$(psql_q "$db" -c "SELECT count(*) FROM aistudio.rollup_pending")" "0" "$how: nothing left pending"
}

psql_q postgres -c "CREATE DATABASE restored_custom" > /dev/null
"$PGBIN/pg_restore" --exit-on-error -h "$W" -p "$CLUSTER_PORT" -U postgres -d restored_custom \
	"$W/dump.custom" > "$W/restore_custom.log" 2>&1
rc=$?
ok $rc "pg_restore --exit-on-error of the -Fc dump exits 0"
[ $rc = 0 ] || sed 's/^/#   /' "$W/restore_custom.log" | head -20
is "$(cat "$W/restore_custom.log")" "" "pg_restore prints no error or warning"
restored restored_custom "pg_restore"

psql_q postgres -c "CREATE DATABASE restored_plain" > /dev/null
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -p "$CLUSTER_PORT" -U postgres -d restored_plain \
	-f "$W/dump.sql" > "$W/restore_plain.log" 2>&1
rc=$?
ok $rc "the plain dump restores with psql -v ON_ERROR_STOP=1"
[ $rc = 0 ] || sed 's/^/#   /' "$W/restore_plain.log" | head -20
is "$(grep -cE 'ERROR|WARNING' "$W/restore_plain.log")" "0" "psql prints no error or warning"
restored restored_plain "plain dump"

# the source is untouched by all this
is "$(state "$SRC")" "$STATE_SRC" "the source database is unchanged"

done_testing
