#!/usr/bin/env bash
# regress/cluster/secrets_dump.sh: secrets never leave the database in plain
# text (pg_dump, snapshots, the server log), a dump restores into working
# secrets, and the master key can be rotated with ALTER SYSTEM + reload.
#
# Run through: bash regress/run-tests.sh cluster
source "$(dirname "$0")/lib.sh"

# The master key comes from pg_aistudio.secret_key_file (set by the runner);
# the environment fallback is tested explicitly further down.
unset AISTUDIO_SECRET_KEY
W=$AISTUDIO_TEST_WORK
DB=aistudio

# contains_plain FILE TEXT: 0 if FILE holds TEXT as bytes, hex or base64
contains_plain() {
	python3 - "$1" "$2" <<'PY'
import base64, binascii, sys
data = open(sys.argv[1], 'rb').read()
plain = sys.argv[2].encode()
lower = data.lower()
needles = [plain, binascii.hexlify(plain)]
# base64 of the plaintext at each of the three alignments, whole groups only
for k in range(3):
    part = plain[k:]
    part = part[:len(part) - len(part) % 3]
    needles.append(base64.b64encode(part))
    needles.append(base64.urlsafe_b64encode(part))
found = any(n in data for n in needles) or binascii.hexlify(plain) in lower
sys.exit(0 if found else 1)
PY
}

# wait_setting NAME VALUE: poll until new sessions see the reloaded value
wait_setting() {
	for _ in $(seq 1 50); do
		[ "$(psql_q "$DB" -c "SHOW $1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

cluster_init || { echo "not ok 1 - cluster starts"; echo "1..1"; exit 1; }
psql_q postgres -c "CREATE DATABASE $DB" && psql_q "$DB" -c "CREATE EXTENSION pg_aistudio"
ok $? "database with the extension"

SECRET_PLAIN="sk-secret-$(openssl rand -hex 16)"
LLM_PLAIN="sk-llm-$(openssl rand -hex 16)"
OLD_KEY_FILE=$(psql_q "$DB" -c "SHOW pg_aistudio.secret_key_file")
OLD_KEY_ID=$(psql_q "$DB" -c "SELECT aistudio.secret_key_id()")

# values travel as psql variables, never as literals in this script's SQL
psql_q "$DB" -v v="$SECRET_PLAIN" <<'SQL' > /dev/null
SELECT aistudio.set_secret('DUMP_SECRET', :'v');
SQL
ok $? "set_secret"

LIT_LLM=$(psql_q "$DB" -v k="$LLM_PLAIN" <<'SQL'
SELECT aistudio.create_llm('Dump LLM', 'openai', 'https://api.openai.com/v1', :'k');
SQL
)
ok $? "create_llm with a literal API key"
REF_LLM=$(psql_q "$DB" <<'SQL'
SELECT aistudio.create_llm('Ref LLM', 'anthropic', 'https://api.anthropic.com', '$SECRET/DUMP_SECRET');
SQL
)
ok $? "create_llm with a \$SECRET reference"

is "$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')")" "$SECRET_PLAIN" "secret_value opens the secret"
is "$(psql_q "$DB" -c "SELECT aistudio.llm_api_key($LIT_LLM)")" "$LLM_PLAIN" "llm_api_key opens the literal key"
is "$(psql_q "$DB" -c "SELECT aistudio.llm_api_key($REF_LLM)")" "$SECRET_PLAIN" "llm_api_key resolves the \$SECRET reference"

# ---- pg_dump ---------------------------------------------------------------
"$PGBIN/pg_dump" -h "$W" -p "$CLUSTER_PORT" -U postgres "$DB" > "$W/dump.sql" 2> "$W/dump.err"
ok $? "pg_dump runs"
grep -q 'DUMP_SECRET' "$W/dump.sql"
ok $? "the dump holds the secrets table (its names)"
contains_plain "$W/dump.sql" "$SECRET_PLAIN"
ok $(( $? == 0 )) "the dump holds no secret plaintext (bytes, hex, base64)"
contains_plain "$W/dump.sql" "$LLM_PLAIN"
ok $(( $? == 0 )) "the dump holds no literal LLM key plaintext (bytes, hex, base64)"
"$PGBIN/pg_dump" -Fc -h "$W" -p "$CLUSTER_PORT" -U postgres "$DB" > "$W/dump.custom" 2>> "$W/dump.err"
contains_plain "$W/dump.custom" "$SECRET_PLAIN" || contains_plain "$W/dump.custom" "$LLM_PLAIN"
ok $(( $? == 0 )) "the custom-format dump holds neither plaintext"

# the dump restores into working secrets (same master key)
psql_q postgres -c "CREATE DATABASE restored" &&
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W" -p "$CLUSTER_PORT" -U postgres -d restored \
		-f "$W/dump.sql" > "$W/restore.log" 2>&1
rc=$?
ok $rc "the dump restores"
[ $rc = 0 ] || sed 's/^/#   /' "$W/restore.log" | tail -5
is "$(psql_q restored -c "SELECT aistudio.secret_value('DUMP_SECRET')" 2>&1)" "$SECRET_PLAIN" "a restored secret opens"
is "$(psql_q restored -c "SELECT aistudio.llm_api_key($LIT_LLM)" 2>&1)" "$LLM_PLAIN" "a restored literal LLM key opens"

# ---- snapshot --------------------------------------------------------------
psql_q "$DB" -c "SELECT encode(aistudio.snapshot(''), 'hex')" |
	python3 -c 'import binascii, sys; sys.stdout.buffer.write(binascii.unhexlify(sys.stdin.read().strip()))' > "$W/snapshot.bin"
[ -s "$W/snapshot.bin" ]
ok $? "snapshot('') returns bytes"
contains_plain "$W/snapshot.bin" "$SECRET_PLAIN" || contains_plain "$W/snapshot.bin" "$LLM_PLAIN"
ok $(( $? == 0 )) "the snapshot holds neither plaintext"

# ---- key rotation with ALTER SYSTEM + reload ---------------------------------
(umask 077; openssl rand -hex 32 > "$W/new.key")
NEW_KEY_HEX=$(tr -d '[:space:]' < "$W/new.key")
OLD_KEY_HEX=$(tr -d '[:space:]' < "$OLD_KEY_FILE")
psql_q "$DB" <<SQL
ALTER SYSTEM SET pg_aistudio.previous_secret_key_file = '$OLD_KEY_FILE';
ALTER SYSTEM SET pg_aistudio.secret_key_file = '$W/new.key';
SELECT pg_reload_conf() \g /dev/null
SQL
wait_setting pg_aistudio.secret_key_file "$W/new.key"
ok $? "the new key file is configured"
NEW_KEY_ID=$(psql_q "$DB" -c "SELECT aistudio.secret_key_id()")
[ -n "$NEW_KEY_ID" ] && [ "$NEW_KEY_ID" != "$OLD_KEY_ID" ]
ok $? "the key id changed ($OLD_KEY_ID -> $NEW_KEY_ID)"
is "$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')")" "$SECRET_PLAIN" "before the rotation the previous key still opens"
is "$(psql_q "$DB" -c "SELECT aistudio.rotate_secret_key()")" "2" "rotate_secret_key re-encrypts the secret and the literal key"
is "$(psql_q "$DB" -c "SELECT count(*) FROM aistudio.secrets WHERE key_id <> '$NEW_KEY_ID'")" "0" "every secret is under the new key"
is "$(psql_q "$DB" -c "SELECT count(*) FROM aistudio.llms WHERE api_key_cipher IS NOT NULL AND api_key_key_id <> '$NEW_KEY_ID'")" "0" "every literal LLM key is under the new key"
is "$(psql_q "$DB" -c "SELECT aistudio.rotate_secret_key()")" "0" "a second rotation has nothing to do"

psql_q "$DB" <<SQL
ALTER SYSTEM RESET pg_aistudio.previous_secret_key_file;
SELECT pg_reload_conf() \g /dev/null
SQL
wait_setting pg_aistudio.previous_secret_key_file ""
ok $? "the previous key file is removed from the configuration"
is "$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')")" "$SECRET_PLAIN" "without the old key the secret opens"
is "$(psql_q "$DB" -c "SELECT aistudio.llm_api_key($LIT_LLM)")" "$LLM_PLAIN" "without the old key the literal key opens"
is "$(psql_q "$DB" -c "SELECT aistudio.llm_api_key($REF_LLM)")" "$SECRET_PLAIN" "without the old key the reference resolves"
# the database restored from the old dump still needs the old key
psql_q restored -c "SELECT aistudio.secret_value('DUMP_SECRET')" > "$W/restored.err" 2>&1
grep -q "which is not loaded" "$W/restored.err"
ok $? "a value sealed with a key no longer configured fails with a clear error"

cluster_restart
is "$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')")" "$SECRET_PLAIN" "after a restart the secret opens"

# ---- no key, and the environment fallback -----------------------------------
psql_q "$DB" <<SQL
ALTER SYSTEM SET pg_aistudio.secret_key_file = '';
SELECT pg_reload_conf() \g /dev/null
SQL
wait_setting pg_aistudio.secret_key_file ""
OUT=$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')" 2>&1)
case "$OUT" in *"no master key is configured"*) r=0 ;; *) r=1; echo "#   got: $OUT" ;; esac
ok $r "no key file and no AISTUDIO_SECRET_KEY: a clear error"
"$PGBIN/psql" -X -q -h "$W" -p "$CLUSTER_PORT" -U postgres -d "$DB" \
	-c "\set VERBOSITY verbose" -c "SELECT aistudio.set_secret('X', 'never-stored-0001')" 2>&1 | grep -q '55000'
ok $? "the error is SQLSTATE 55000"

cluster_stop
AISTUDIO_SECRET_KEY=$NEW_KEY_HEX cluster_start
is "$(psql_q "$DB" -c "SELECT aistudio.secret_key_id()")" "$NEW_KEY_ID" "AISTUDIO_SECRET_KEY provides the key when the GUC is empty"
is "$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')")" "$SECRET_PLAIN" "the secret opens with the key from the environment"
cluster_stop
AISTUDIO_SECRET_KEY="${NEW_KEY_HEX:0:63}" cluster_start
OUT=$(psql_q "$DB" -c "SELECT aistudio.secret_value('DUMP_SECRET')" 2>&1)
case "$OUT" in *"AISTUDIO_SECRET_KEY is malformed"*) r=0 ;; *) r=1; echo "#   got: $OUT" ;; esac
ok $r "a malformed AISTUDIO_SECRET_KEY: a clear error"
cluster_stop
cluster_start

# ---- nothing secret in the server log ---------------------------------------
LOG="$W/server.log"
for what in SECRET_PLAIN LLM_PLAIN NEW_KEY_HEX OLD_KEY_HEX; do
	val=${!what}
	if [ -n "$val" ] && grep -qiF -- "$val" "$LOG"; then r=1; else r=0; fi
	ok $r "the server log does not contain $what"
done
grep -qiF -- "${NEW_KEY_HEX:0:63}" "$LOG"
ok $(( $? == 0 )) "the server log does not contain the malformed key"

done_testing
