#!/usr/bin/env bash
# regress/cluster/rollup_worker.sh: the background worker rolls up on its
# own.  With pg_aistudio.worker_database naming the test database and
# pg_aistudio.rollup_interval = 1 (ALTER SYSTEM + reload), ingested events
# reach usage_hourly/usage_daily exactly and nothing stays pending, the
# worker shows in pg_stat_activity, a budget crossed by the events gets its
# notifications, and a worker killed with pg_terminate_backend is restarted
# by the postmaster (bgw_restart_time) and keeps working.
#
# Run through: bash regress/run-tests.sh cluster
source "$(dirname "$0")/lib.sh"

W=$AISTUDIO_TEST_WORK
DB=regression			# pg_aistudio.worker_database of the test clusters
WORKER="backend_type = 'pg_aistudio rollup worker'"

# wait_for SECONDS SQL: poll until SQL returns t
wait_for() {
	local deadline=$((SECONDS + $1))
	while [ $SECONDS -lt "$deadline" ]; do
		[ "$(psql_q "$DB" -c "$2" 2>/dev/null)" = t ] && return 0
		sleep 0.2
	done
	return 1
}

worker_pid() {
	psql_q postgres -c "SELECT pid FROM pg_stat_activity WHERE $WORKER AND datname = '$DB'"
}

# rows of the raw events aggregated like the rollups, that a rollup lacks
# (or has in excess); 0 when the rollups match the raw events exactly
MISMATCH_SQL=$(cat <<'SQL'
WITH raw AS (
	SELECT date_trunc('hour', i."timestamp", 'UTC') AS bucket, i.app_id, i.user_id, i.llm_id, i.vendor,
	       i.model_name, i.interaction_type, i.currency, count(*) AS requests,
	       count(*) FILTER (WHERE i.status_code >= 400 OR i.status_code = 0) AS errors,
	       sum(i.prompt_tokens) AS prompt_tokens, sum(i.response_tokens) AS response_tokens,
	       sum(i.cache_write_tokens) AS cache_write_tokens, sum(i.cache_read_tokens) AS cache_read_tokens,
	       sum(i.total_tokens) AS total_tokens, sum(i.cost) AS cost, sum(i.latency_ms) AS latency_ms_sum
	  FROM aistudio.llm_interactions i GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), raw_daily AS (
	SELECT (r.bucket AT TIME ZONE 'UTC')::date AS bucket, r.app_id, r.user_id, r.llm_id, r.vendor,
	       r.model_name, r.interaction_type, r.currency, sum(r.requests) AS requests,
	       sum(r.errors) AS errors, sum(r.prompt_tokens) AS prompt_tokens,
	       sum(r.response_tokens) AS response_tokens, sum(r.cache_write_tokens) AS cache_write_tokens,
	       sum(r.cache_read_tokens) AS cache_read_tokens, sum(r.total_tokens) AS total_tokens,
	       sum(r.cost) AS cost, sum(r.latency_ms_sum) AS latency_ms_sum
	  FROM raw r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), h AS (
	SELECT bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency, requests,
	       errors, prompt_tokens, response_tokens, cache_write_tokens, cache_read_tokens, total_tokens,
	       cost, latency_ms_sum FROM aistudio.usage_hourly
), d AS (
	SELECT bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency, requests,
	       errors, prompt_tokens, response_tokens, cache_write_tokens, cache_read_tokens, total_tokens,
	       cost, latency_ms_sum FROM aistudio.usage_daily
)
SELECT (SELECT count(*) FROM (SELECT * FROM raw EXCEPT ALL SELECT * FROM h) x)
     + (SELECT count(*) FROM (SELECT * FROM h EXCEPT ALL SELECT * FROM raw) x)
     + (SELECT count(*) FROM (SELECT * FROM raw_daily EXCEPT ALL SELECT * FROM d) x)
     + (SELECT count(*) FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM raw_daily) x)
SQL
)
ROLLED_UP_SQL="SELECT NOT EXISTS (SELECT 1 FROM aistudio.rollup_pending)
	AND NOT EXISTS (SELECT 1 FROM aistudio.spend_pending) AND ($MISMATCH_SQL) = 0"

# ingest FIRST LAST MONTHS_AGO: events FIRST..LAST of app 1 (this month, or
# MONTHS_AGO months back), each gpt-4o call costing about 0.26 USD; an
# event's time depends only on its number, so a replay is identical
ingest() {
	psql_q "$DB" -c "SELECT inserted FROM aistudio.ingest_events((
	  SELECT jsonb_agg(jsonb_build_object(
	           'timestamp', CASE WHEN $3 = 0
	                        THEN greatest('$BASE'::timestamptz - g * interval '1 second',
	                                      date_trunc('month', '$BASE'::timestamptz, 'UTC'))
	                        ELSE '$BASE'::timestamptz - $3 * interval '1 month' - g * interval '1 minute' END,
	           'request_id', format('00000000-0000-4000-8000-%s', lpad(g::text, 12, '0')),
	           'app_id', 1, 'user_id', 1 + g % 2, 'llm_id', 1, 'vendor', 'openai',
	           'model_name', CASE WHEN g % 3 = 0 THEN 'gpt-4o-mini' ELSE 'gpt-4o' END,
	           'prompt_tokens', 100000 + g, 'response_tokens', 1000 + g, 'cache_read_tokens', g,
	           'latency_ms', 100 + g, 'status_code', CASE WHEN g % 10 = 0 THEN 500 ELSE 200 END,
	           'interaction_type', CASE WHEN g % 4 = 0 THEN 'chat' ELSE 'proxy' END))
	    FROM generate_series($1, $2) g))"
}

cluster_init || { echo "not ok 1 - cluster starts"; echo "1..1"; exit 1; }
BASE=$(psql_q postgres -c "SELECT now()")
is "$(psql_q postgres -c "SHOW pg_aistudio.worker_database")" "$DB" "the worker database is $DB"
psql_q postgres -c "CREATE DATABASE $DB" && psql_q "$DB" > /dev/null <<'SQL'
CREATE EXTENSION pg_aistudio;
SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer');
SELECT aistudio.create_user('other@example.com', 'Other', role => 'developer');
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com/v1');
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00, cache_read_per_mtok => 1.25);
SELECT aistudio.set_model_price('openai', 'gpt-4o-mini', 0.15, 0.60);
SELECT aistudio.create_app('app-a', 1, ARRAY[1]::bigint[], monthly_budget => 10);
SQL
ok $? "database $DB with the extension, an LLM, prices and an app with a budget of 10"

# The worker started before the database existed (and failed); after a
# restart it connects, and waits: periodic rollups are off (interval 0).
LOG_MARK=$(wc -l < "$W/server.log")
cluster_restart
ok $? "server restarted"
wait_for 20 "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $WORKER AND datname = '$DB')"
ok $? "pg_stat_activity shows the worker (backend_type 'pg_aistudio rollup worker') in $DB"
PID1=$(worker_pid)

is "$(ingest 1 100 0)" "100" "100 events of this month ingested"
sleep 2
is "$(psql_q "$DB" -c "SELECT count(*) > 0 FROM aistudio.rollup_pending")" "t" \
	"with rollup_interval = 0 the worker leaves them pending"

psql_q "$DB" -c "ALTER SYSTEM SET pg_aistudio.rollup_interval = 1" -c "SELECT pg_reload_conf()" > /dev/null
ok $? "ALTER SYSTEM SET pg_aistudio.rollup_interval = 1 and reload"
wait_for 20 "$ROLLED_UP_SQL"
ok $? "within 20 s nothing is pending and usage_hourly/usage_daily match the raw events exactly"
is "$(psql_q "$DB" -c "SELECT sum(requests) FROM aistudio.usage_daily")" "100" "usage_daily counts the 100 events"
is "$(worker_pid)" "$PID1" "the same worker process did it (the reload did not restart it)"

# app-a's budget of 10: 100 events (2/3 of them about 0.26 USD) cross every threshold
is "$(psql_q "$DB" -c "SELECT (SELECT spent FROM aistudio.budget_status(1)) > 10")" "t" "the events exceed app-a's budget"
wait_for 10 "SELECT count(*) = 4 FROM aistudio.budget_notifications WHERE subject = 'app' AND subject_id = 1"
ok $? "the worker recorded app-a's budget notifications"
is "$(psql_q "$DB" -c "SELECT string_agg(threshold::text, ',' ORDER BY threshold) FROM aistudio.budget_notifications WHERE subject = 'app' AND subject_id = 1")" \
	"50,80,90,100" "thresholds 50, 80, 90 and 100"

# events of an older month, and replays: still exact
is "$(ingest 1001 1050 1)" "50" "50 events of last month ingested"
is "$(ingest 1 150 0 | tail -1)" "50" "a batch with 100 replays and 50 new events inserts 50"
wait_for 20 "$ROLLED_UP_SQL"
ok $? "the worker rolls those up too, exactly"

# the worker is killed: the postmaster starts a new one after
# bgw_restart_time (10 s), which keeps rolling up
psql_q postgres -c "SELECT pg_terminate_backend($PID1)" > /dev/null
ok $? "pg_terminate_backend(worker)"
T0=$SECONDS
wait_for 30 "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $WORKER AND datname = '$DB' AND pid <> $PID1)"
ok $? "a new worker process is running within 30 s (after $((SECONDS - T0)) s)"
PID2=$(worker_pid)
[ -n "$PID2" ] && [ "$PID2" != "$PID1" ]
ok $? "its pid is a new one ($PID1 -> $PID2)"
is "$(ingest 201 260 0)" "60" "60 more events ingested"
wait_for 20 "$ROLLED_UP_SQL"
ok $? "the new worker rolls them up exactly"
is "$(psql_q "$DB" -c "SELECT sum(requests) FROM aistudio.usage_daily")" "260" "usage_daily counts all 260 events"
is "$(tail -n +$((LOG_MARK + 1)) "$W/server.log" | grep -c 'pg_aistudio rollup worker started in database "regression"')" "2" \
	"since the restart the server log shows two worker starts in $DB"
is "$(grep -c 'pg_aistudio rollup failed' "$W/server.log")" "0" "no failed rollup turn"

done_testing
