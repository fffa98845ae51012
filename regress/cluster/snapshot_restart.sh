#!/usr/bin/env bash
# regress/cluster/snapshot_restart.sh: the snapshot checksum survives a
# server restart unchanged, ignores app edits, and changes on LLM and price
# edits; the snapshot itself decodes with protoc as aistudio.v1.Snapshot,
# sorted by id, with sealed keys and no plaintext.
#
# Run through: bash regress/run-tests.sh cluster
source "$(dirname "$0")/lib.sh"

DB=snapshots
PROTO_DIR=$(cd "$(dirname "$0")/../../proto" && pwd)

sums() {
	psql_q "$DB" -c "SELECT aistudio.snapshot_checksum('') || ' ' || aistudio.snapshot_checksum('eu')"
}

# decode NS: the snapshot of namespace NS as protoc text format
decode() {
	psql_q "$DB" -c "SELECT encode(aistudio.snapshot('$1'), 'hex')" | xxd -r -p |
		protoc -I"$PROTO_DIR" --decode=aistudio.v1.Snapshot aistudio/v1/snapshot.proto
}

cluster_init || { echo "not ok 1 - cluster starts"; echo "1..1"; exit 1; }
psql_q postgres -c "CREATE DATABASE $DB" && psql_q "$DB" -c "CREATE EXTENSION pg_aistudio"
ok $? "database with the extension"

psql_q "$DB" > /dev/null <<'SQL'
SELECT aistudio.create_namespace('eu');
SELECT aistudio.set_secret('EuKey', 'sk-eu-plain-secret');
SELECT aistudio.create_llm('Global GPT', 'openai', 'https://api.openai.com/v1', 'sk-plain-literal', 'gpt-4o');
SELECT aistudio.create_llm('EU Claude', 'anthropic', 'https://api.anthropic.com', '$SECRET/EuKey', namespace => 'eu');
SELECT aistudio.create_llm('Second GPT', 'openai', 'https://api.openai.com/v1');
SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 10.00);
SELECT aistudio.set_model_price('anthropic', 'claude-sonnet-4', 3, 15, 3.75, 0.30);
SELECT aistudio.create_filter('first', 'max_prompt', '{"max_chars": 100}');
SELECT aistudio.create_filter('second', 'regex', '{"patterns": ["x+"]}');
SELECT aistudio.attach_filter(1, 2, 1), aistudio.attach_filter(1, 1, 2);
INSERT INTO aistudio.users (id, email, name, role) VALUES (1, 'dev@example.com', 'Dev', 'developer');
INSERT INTO aistudio.apps (id, name, owner_id, namespace) VALUES (1, 'app-one', 1, ''), (2, 'app-eu', 1, 'eu');
INSERT INTO aistudio.app_llms VALUES (1, 3), (1, 1), (2, 2);
SQL
ok $? "LLMs, prices, filters and apps created"

BEFORE=$(sums)
SNAP_BEFORE=$(psql_q "$DB" -c "SELECT md5(aistudio.snapshot('eu'))")
is "$(echo "$BEFORE" | grep -cE '^[0-9a-f]{64} [0-9a-f]{64}$')" "1" "two 64-hex checksums"

cluster_restart
ok $? "server restarted"
is "$(sums)" "$BEFORE" "checksums unchanged across a restart"
is "$(psql_q "$DB" -c "SELECT md5(aistudio.snapshot('eu'))")" "$SNAP_BEFORE" "snapshot bytes unchanged across a restart"

# the snapshot decodes; ids ascending, filters in position order, keys sealed
EU=$(decode eu)
ok $? "snapshot decodes as aistudio.v1.Snapshot"
is "$(echo "$EU" | sed -n 1,2p | tr '\n' ' ')" 'format_version: 1 namespace: "eu" ' "format version and namespace first"
is "$(echo "$EU" | grep -E '^  id: ' | tr '\n' ' ')" \
	"  id: 1   id: 2   id: 3   id: 1   id: 2   id: 1   id: 2   id: 1   id: 2   id: 1 " \
	"llms, prices, apps, filters, secrets sorted by id"
is "$(echo "$EU" | grep -E '^  filter_ids: ' | tr '\n' ' ')" "  filter_ids: 2   filter_ids: 1 " "filter ids in position order"
is "$(echo "$EU" | grep -cE 'aad: "(llm:1|secret:EuKey)"')" "2" "literal key and referenced secret are sealed values"
is "$(echo "$EU" | grep -c 'plain')" "0" "no plaintext key in the decoded snapshot"
is "$(echo "$EU" | grep -E '^  llm_ids: ' | tr '\n' ' ')" "  llm_ids: 1   llm_ids: 3   llm_ids: 2 " "app llm ids sorted"

psql_q "$DB" -c "UPDATE aistudio.apps SET name = 'app-one-renamed', monthly_budget = 5 WHERE id = 1" &&
	psql_q "$DB" -c "DELETE FROM aistudio.app_llms WHERE app_id = 1 AND llm_id = 3"
ok $? "apps edited"
is "$(sums)" "$BEFORE" "checksums unchanged by app edits"
isnt_snapshot=$(psql_q "$DB" -c "SELECT md5(aistudio.snapshot('eu'))")
[ "$isnt_snapshot" != "$SNAP_BEFORE" ]
ok $? "the snapshot itself carries the app edits"

psql_q "$DB" -c "SELECT aistudio.update_llm(3, default_model => 'gpt-4.1')" > /dev/null
AFTER_LLM=$(sums)
[ "${AFTER_LLM% *}" != "${BEFORE% *}" ] && [ "${AFTER_LLM#* }" != "${BEFORE#* }" ]
ok $? "an LLM edit changes the checksums"

psql_q "$DB" -c "SELECT aistudio.set_model_price('openai', 'gpt-4o', 2.50, 12.00)" > /dev/null
AFTER_PRICE=$(sums)
[ "${AFTER_PRICE% *}" != "${AFTER_LLM% *}" ] && [ "${AFTER_PRICE#* }" != "${AFTER_LLM#* }" ]
ok $? "a price change changes the checksums"

cluster_restart
ok $? "server restarted again"
is "$(sums)" "$AFTER_PRICE" "the new checksums survive a restart"

done_testing
