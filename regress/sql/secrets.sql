-- secrets: AES-256-GCM sealing under the master key, the secrets API, the
-- API keys of LLMs, master key errors and key rotation.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- users for the permission checks
SELECT aistudio.create_user('root@example.com', 'Root', role => 'super_admin') AS super_id \gset
SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin') AS admin_id \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer') AS dev_id \gset
SELECT aistudio.create_user('chat@example.com', 'Chat') AS chat_id \gset

-- round trip
SELECT aistudio.set_secret('OPENAI_KEY', 'sk-test-plaintext-0001') AS openai_id \gset
SELECT aistudio.secret_value('OPENAI_KEY');
SELECT aistudio.secret_exists('OPENAI_KEY'), aistudio.secret_exists('NOPE');
SELECT name, version, created_at = updated_at AS unchanged FROM aistudio.list_secrets();

-- update: same id, version bumped, new value
SELECT aistudio.set_secret('OPENAI_KEY', 'sk-test-plaintext-0002') = :openai_id AS same_id;
SELECT aistudio.secret_value('OPENAI_KEY');
SELECT name, version FROM aistudio.list_secrets();

-- the same value sealed twice: fresh nonces, different ciphertexts
SELECT aistudio.set_secret('TWIN_A', 'same-value-0001') IS NOT NULL AS a,
       aistudio.set_secret('TWIN_B', 'same-value-0001') IS NOT NULL AS b;
SELECT a.nonce <> b.nonce AS nonces_differ, a.ciphertext <> b.ciphertext AS ciphertexts_differ
  FROM aistudio.secrets a, aistudio.secrets b WHERE a.name = 'TWIN_A' AND b.name = 'TWIN_B';
SELECT aistudio.secret_value('TWIN_A') = aistudio.secret_value('TWIN_B') AS same_plaintext;

-- the layout: key id of the current key, 12-byte nonce, ciphertext + 16-byte tag
SELECT name, key_id = aistudio.secret_key_id() AS current_key, key_id ~ '^[0-9a-f]{16}$' AS key_id_hex,
       length(nonce) AS nonce_len, length(ciphertext) - 16 AS plain_len
  FROM aistudio.secrets ORDER BY name;

-- the raw table holds no plaintext (bytes, hex or base64)
SELECT count(*) AS rows_with_plaintext
  FROM aistudio.secrets s
 WHERE position('sk-test-plaintext' IN s::text) > 0
    OR position('same-value' IN s::text) > 0
    OR position(convert_to('sk-test', 'UTF8') IN s.ciphertext) > 0
    OR position(encode(convert_to('sk-test-plaintext', 'UTF8'), 'hex') IN s::text) > 0
    OR position(left(encode(convert_to('sk-test-plaintext-0002', 'UTF8'), 'base64'), 12) IN s::text) > 0;

-- errors
SELECT pg_temp.err($$SELECT aistudio.set_secret('bad name', 'x')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('', 'x')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret(repeat('a', 129), 'x')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret(NULL, 'x')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('EMPTY', '')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('EMPTY', NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('HUGE', repeat('x', 65537))$$);
SELECT pg_temp.err($$SELECT aistudio.secret_value('NOPE')$$);
SELECT pg_temp.err($$SELECT aistudio.delete_secret('NOPE')$$);
SELECT aistudio.secret_value(NULL) IS NULL AS null_in_null_out;

-- tampering: swap ciphertexts between two secrets (the AAD binds each to its name)
UPDATE aistudio.secrets s SET nonce = o.nonce, ciphertext = o.ciphertext
  FROM aistudio.secrets o WHERE s.name = 'TWIN_A' AND o.name = 'TWIN_B';
SELECT pg_temp.err($$SELECT aistudio.secret_value('TWIN_A')$$);
-- a flipped bit in the ciphertext
UPDATE aistudio.secrets SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1)
 WHERE name = 'TWIN_B';
SELECT pg_temp.err($$SELECT aistudio.secret_value('TWIN_B')$$);
-- a truncated value
UPDATE aistudio.secrets SET nonce = '\x00' WHERE name = 'TWIN_B';
SELECT pg_temp.err($$SELECT aistudio.secret_value('TWIN_B')$$);
-- a renamed row no longer opens either
SELECT aistudio.set_secret('MOVED', 'moved-value-0001') IS NOT NULL AS moved;
UPDATE aistudio.secrets SET name = 'MOVED2' WHERE name = 'MOVED';
SELECT pg_temp.err($$SELECT aistudio.secret_value('MOVED2')$$);
SELECT aistudio.delete_secret('MOVED2');
-- setting a broken secret again repairs it
SELECT aistudio.set_secret('TWIN_A', 'same-value-0001') IS NOT NULL AS a,
       aistudio.set_secret('TWIN_B', 'same-value-0001') IS NOT NULL AS b;
SELECT aistudio.secret_value('TWIN_A'), aistudio.secret_value('TWIN_B');

-- LLM API keys: a $SECRET reference, a sealed literal, none
SELECT aistudio.create_llm('Ref LLM', 'openai', 'https://api.openai.com', '$SECRET/OPENAI_KEY') AS ref_llm \gset
SELECT aistudio.create_llm('Literal LLM', 'anthropic', 'https://api.anthropic.com', 'sk-ant-literal-0001') AS lit_llm \gset
SELECT aistudio.create_llm('Keyless LLM', 'ollama', 'http://localhost:11434') AS none_llm \gset
SELECT name, api_key_ref, api_key_key_id = aistudio.secret_key_id() AS sealed,
       position('sk-ant' IN l::text) = 0 AS no_plaintext
  FROM aistudio.llms l ORDER BY id;
SELECT aistudio.llm_api_key(:ref_llm) AS ref_key, aistudio.llm_api_key(:lit_llm) AS literal_key,
       aistudio.llm_api_key(:none_llm) IS NULL AS no_key;
SELECT pg_temp.err($$SELECT aistudio.llm_api_key(999999)$$);
-- the literal is bound to its LLM: copied to another LLM it does not open
UPDATE aistudio.llms d SET (api_key_key_id, api_key_nonce, api_key_cipher) =
	(SELECT s.api_key_key_id, s.api_key_nonce, s.api_key_cipher FROM aistudio.llms s WHERE s.id = :lit_llm)
 WHERE d.id = :none_llm;
SELECT pg_temp.err(format('SELECT aistudio.llm_api_key(%s)', :none_llm));
UPDATE aistudio.llms SET api_key_key_id = NULL, api_key_nonce = NULL, api_key_cipher = NULL WHERE id = :none_llm;
-- a secret still in use cannot be deleted
SELECT pg_temp.err($$SELECT aistudio.delete_secret('OPENAI_KEY')$$);
-- a reference to a missing secret
UPDATE aistudio.llms SET api_key_ref = '$SECRET/GONE' WHERE id = :ref_llm;
SELECT pg_temp.err(format('SELECT aistudio.llm_api_key(%s)', :ref_llm));
UPDATE aistudio.llms SET api_key_ref = '$SECRET/OPENAI_KEY' WHERE id = :ref_llm;

-- permissions: admin and above manage secrets; nobody else
SET pg_aistudio.acting_user = :'chat_id';
SELECT pg_temp.err($$SELECT aistudio.set_secret('X', 'y')$$);
SELECT pg_temp.err($$SELECT * FROM aistudio.list_secrets()$$);
SET pg_aistudio.acting_user = :'dev_id';
SELECT pg_temp.err($$SELECT aistudio.set_secret('X', 'y')$$);
SELECT pg_temp.err($$SELECT aistudio.delete_secret('TWIN_A')$$);
SELECT pg_temp.err($$SELECT aistudio.rotate_secret_key()$$);
SET pg_aistudio.acting_user = :'admin_id';
SELECT aistudio.set_secret('ADMIN_SECRET', 'admin-value-0001') IS NOT NULL AS admin_may_set;
SELECT count(*) AS admin_may_list FROM aistudio.list_secrets();
SELECT aistudio.delete_secret('ADMIN_SECRET');
SELECT pg_temp.err($$SELECT aistudio.rotate_secret_key()$$);
SET pg_aistudio.acting_user = :'super_id';
SELECT aistudio.rotate_secret_key() AS nothing_to_rotate;
RESET pg_aistudio.acting_user;

-- who may execute what
SELECT p.proname,
       has_function_privilege('aistudio_gateway', p.oid, 'EXECUTE') AS gateway,
       has_function_privilege('aistudio_analyst', p.oid, 'EXECUTE') AS analyst
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace
   AND p.proname IN ('set_secret', 'delete_secret', 'list_secrets', 'secret_exists', 'seal_value',
                     'open_value', 'reseal_value', 'secret_key_id', 'secret_value', 'llm_api_key',
                     'rotate_secret_key')
 ORDER BY 1;

-- master key errors (files are written into the data directory; the GUC
-- takes a path relative to it)
SELECT current_setting('pg_aistudio.secret_key_file') AS orig_key_file \gset
DO $$
BEGIN
	EXECUTE format('COPY (SELECT %L) TO %L', 'not a key',
				   current_setting('data_directory') || '/aistudio_bad.key');
	EXECUTE format('COPY (SELECT %L) TO %L', repeat('ab', 31) || 'zz',
				   current_setting('data_directory') || '/aistudio_badhex.key');
	EXECUTE format('COPY (SELECT %L) TO %L', '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
				   current_setting('data_directory') || '/aistudio_k2.key');
	EXECUTE format('COPY (SELECT %L) TO %L', '  F0E1D2C3B4A5968778695A4B3C2D1E0FF0E1D2C3B4A5968778695A4B3C2D1E0F  ',
				   current_setting('data_directory') || '/aistudio_k3.key');
END
$$;
SET pg_aistudio.secret_key_file = 'aistudio_missing.key';
SELECT pg_temp.err($$SELECT aistudio.secret_value('OPENAI_KEY')$$);
SELECT pg_temp.err($$SELECT aistudio.set_secret('X', 'y')$$);
SET pg_aistudio.secret_key_file = 'aistudio_bad.key';
SELECT pg_temp.err($$SELECT aistudio.secret_value('OPENAI_KEY')$$);
SET pg_aistudio.secret_key_file = 'aistudio_badhex.key';
SELECT pg_temp.err($$SELECT aistudio.secret_value('OPENAI_KEY')$$);
-- a key that did not seal the value
SET pg_aistudio.secret_key_file = 'aistudio_k2.key';
SELECT aistudio.secret_key_id() = left(encode(sha256(decode('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')), 'hex'), 16) AS key_id_is_sha256_prefix;
SELECT pg_temp.err($$SELECT aistudio.secret_value('OPENAI_KEY')$$) LIKE '55000: the value was sealed with master key %, which is not loaded' AS not_loaded;
-- a secret sealed under k2 does not open under k3 (whitespace and upper case are fine)
SELECT aistudio.set_secret('UNDER_K2', 'k2-value-0001') IS NOT NULL AS sealed_k2;
SET pg_aistudio.secret_key_file = 'aistudio_k3.key';
SELECT pg_temp.err($$SELECT aistudio.secret_value('UNDER_K2')$$);
SELECT aistudio.delete_secret('UNDER_K2');

-- rotation: current key k2, previous key the original one
SELECT set_config('pg_aistudio.previous_secret_key_file', :'orig_key_file', false) IS NOT NULL AS previous_set;
SET pg_aistudio.secret_key_file = 'aistudio_k2.key';
-- during the rotation the previous key still opens old values
SELECT aistudio.secret_value('OPENAI_KEY');
-- all or nothing: a tampered value stops the whole rotation
UPDATE aistudio.secrets SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1)
 WHERE name = 'TWIN_B';
SELECT pg_temp.err($$SELECT aistudio.rotate_secret_key()$$);
SELECT count(*) AS still_under_k2 FROM aistudio.secrets WHERE key_id = aistudio.secret_key_id();
SET pg_aistudio.secret_key_file TO :'orig_key_file';
SELECT aistudio.set_secret('TWIN_B', 'same-value-0001') IS NOT NULL AS repaired;
SET pg_aistudio.secret_key_file = 'aistudio_k2.key';
SELECT aistudio.rotate_secret_key() AS rotated;
SELECT aistudio.rotate_secret_key() AS rotated_again;
SELECT count(*) FILTER (WHERE key_id = aistudio.secret_key_id()) AS under_k2, count(*) AS total FROM aistudio.secrets;
SELECT api_key_key_id = aistudio.secret_key_id() AS literal_under_k2 FROM aistudio.llms WHERE id = :lit_llm;
SELECT name, version FROM aistudio.list_secrets();
-- the old key is no longer needed
RESET pg_aistudio.previous_secret_key_file;
SELECT aistudio.secret_value('OPENAI_KEY'), aistudio.secret_value('TWIN_A'),
       aistudio.llm_api_key(:ref_llm) AS ref_key, aistudio.llm_api_key(:lit_llm) AS literal_key;
-- rotate on to k3, then back to the original key
SET pg_aistudio.previous_secret_key_file = 'aistudio_k2.key';
SET pg_aistudio.secret_key_file = 'aistudio_k3.key';
SELECT aistudio.rotate_secret_key() AS rotated_to_k3;
SELECT set_config('pg_aistudio.previous_secret_key_file', 'aistudio_k3.key', false) IS NOT NULL AS previous_set;
SET pg_aistudio.secret_key_file TO :'orig_key_file';
SELECT aistudio.rotate_secret_key() AS rotated_back;
RESET pg_aistudio.previous_secret_key_file;
RESET pg_aistudio.secret_key_file;
SELECT aistudio.secret_value('TWIN_B'), aistudio.llm_api_key(:lit_llm) AS literal_key;

-- deleting
SELECT aistudio.update_llm(:ref_llm, api_key => '');
SELECT aistudio.delete_secret('OPENAI_KEY');
SELECT name FROM aistudio.list_secrets();
