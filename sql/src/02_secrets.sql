-------------------------------------------------------------------------------
-- SECTION secrets (src/secrets.c)
-------------------------------------------------------------------------------
-- Values are sealed with AES-256-GCM under the master key; the associated
-- data binds each value to its owner ('secret:' || name, 'llm:' || llm id).
-- Plaintext leaves the database only through secret_value/llm_api_key and
-- claim_alert_deliveries (aistudio_gateway only) and never appears in an
-- error message.
--
-- Who can read a secret: whoever can make the gateway send it somewhere.
-- A secret therefore carries the hosts it may be sent to (allowed_hosts,
-- src/hosts.c).  An LLM may reference $SECRET/Name only when its
-- api_endpoint's host (and port, when the entry has one) is listed; a
-- secret without hosts is bound to the endpoint of the first LLM that
-- references it, which only the user who set its value, a super admin or a
-- DBA may do (aistudio.bind_secret).  Only super admins change a list
-- (set_secret_hosts, or set_secret with other hosts).  The snapshot carries
-- the lists and the gateway checks the request URL again before it sends a
-- secret.

-- Internal: seal value under the current master key, bound to aad.
CREATE FUNCTION aistudio.seal_value(aad text, value text,
	OUT key_id text, OUT nonce bytea, OUT ciphertext bytea)
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_seal_value';

-- Internal: open a sealed value (current key, or previous key during a rotation).
CREATE FUNCTION aistudio.open_value(aad text, key_id text, nonce bytea, ciphertext bytea) RETURNS text
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_open_value';

-- Internal: open with whichever loaded key sealed it and seal again under the current key.
CREATE FUNCTION aistudio.reseal_value(aad text, old_key_id text, old_nonce bytea, old_ciphertext bytea,
	OUT key_id text, OUT nonce bytea, OUT ciphertext bytea)
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_reseal_value';

-- Internal: id of the current master key (first 16 hex digits of its SHA-256).
CREATE FUNCTION aistudio.secret_key_id() RETURNS text
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_secret_key_id';

-- Internal: does a secret of this name exist?
CREATE FUNCTION aistudio.secret_exists(name text) RETURNS boolean
	LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $fn$ SELECT EXISTS (SELECT 1 FROM aistudio.secrets s WHERE s.name = $1) $fn$;

-- Internal: the hosts of a secret validated and normalised (src/hosts.c).
CREATE FUNCTION aistudio.normalize_hosts(hosts text[]) RETURNS text[]
	LANGUAGE C IMMUTABLE AS 'MODULE_PATHNAME', 'aistudio_normalize_hosts';
COMMENT ON FUNCTION aistudio.normalize_hosts(text[]) IS 'Validates and normalises a secret''s allowed hosts (22023 on a bad entry); NULL stays NULL';

-- Internal: the normalised host:port an api_endpoint sends to.
CREATE FUNCTION aistudio.endpoint_host(url text) RETURNS text
	LANGUAGE C IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'aistudio_endpoint_host';
COMMENT ON FUNCTION aistudio.endpoint_host(text) IS 'The normalised host:port an api_endpoint URL sends to (22023 for an invalid URL)';

-- Internal: may a secret with these hosts be sent to url?
CREATE FUNCTION aistudio.hosts_allow(hosts text[], url text) RETURNS boolean
	LANGUAGE C IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'aistudio_hosts_allow';
COMMENT ON FUNCTION aistudio.hosts_allow(text[], text) IS 'Whether a secret with these normalised hosts may be sent to the api_endpoint url';

-- Internal: the LLMs that reference a secret whose endpoints these hosts do
-- not allow (NULL hosts: every LLM that references it), as '"name" (host:port)'.
CREATE FUNCTION aistudio.secret_host_conflicts(name text, hosts text[]) RETURNS text
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $fn$
	SELECT string_agg(format('"%s" (%s)', l.name, aistudio.endpoint_host(l.api_endpoint)), ', ' ORDER BY l.name)
	  FROM aistudio.llms l
	 WHERE l.api_key_ref = '$SECRET/' || $1
	   AND ($2 IS NULL OR NOT aistudio.hosts_allow($2, l.api_endpoint))
	$fn$;

CREATE FUNCTION aistudio.set_secret(name text, value text, allowed_hosts text[] DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	sealed record;
	secret_id bigint;
	v_hosts text[];
	v_old text[];
	v_exists boolean;
	v_conflicts text;
BEGIN
	PERFORM aistudio.require_role('admin', 'manage secrets');
	-- never echo the name: a caller who swapped the arguments would see the value
	IF set_secret.name IS NULL OR set_secret.value IS NULL THEN
		RAISE EXCEPTION 'secret name and value must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF set_secret.name !~ '^[A-Za-z0-9_.-]{1,128}$' THEN
		RAISE EXCEPTION 'invalid secret name'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A secret name has 1 to 128 characters, each a letter, a digit, "_", "." or "-".';
	END IF;
	IF set_secret.value = '' THEN
		RAISE EXCEPTION 'secret value must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF octet_length(set_secret.value) > 65536 THEN
		RAISE EXCEPTION 'secret value is too long'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A secret value has at most 65536 bytes.';
	END IF;
	v_hosts := aistudio.normalize_hosts(set_secret.allowed_hosts);
	SELECT s.allowed_hosts, true INTO v_old, v_exists
	  FROM aistudio.secrets s WHERE s.name = set_secret.name FOR UPDATE;
	-- a new value keeps the hosts; other hosts for an existing secret are a
	-- super admin's decision (they decide where its value may go)
	IF v_exists AND v_hosts IS NOT NULL AND v_hosts IS DISTINCT FROM v_old THEN
		PERFORM aistudio.require_role('super_admin', 'change the hosts of a secret');
		v_conflicts := aistudio.secret_host_conflicts(set_secret.name, v_hosts);
		IF v_conflicts IS NOT NULL THEN
			RAISE EXCEPTION 'the new hosts of secret "%" leave out LLMs that use it', set_secret.name
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('These LLMs send it to hosts the list does not name: %s.', v_conflicts),
					  HINT = 'Include their hosts, or point them at an allowed host first.';
		END IF;
	END IF;
	SELECT * INTO sealed FROM aistudio.seal_value('secret:' || set_secret.name, set_secret.value);
	INSERT INTO aistudio.secrets AS s (name, key_id, nonce, ciphertext, allowed_hosts, value_set_by)
	VALUES (set_secret.name, sealed.key_id, sealed.nonce, sealed.ciphertext, v_hosts, aistudio.acting_user_id())
	ON CONFLICT ON CONSTRAINT secrets_name_key DO UPDATE
		SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,
			allowed_hosts = coalesce(EXCLUDED.allowed_hosts, s.allowed_hosts),
			value_set_by = EXCLUDED.value_set_by,
			version = s.version + 1, updated_at = now()
	RETURNING s.id INTO secret_id;
	RETURN secret_id;
END
$fn$;
COMMENT ON FUNCTION aistudio.set_secret(text, text, text[]) IS 'Create or replace a secret (stored encrypted, never shown again), optionally with the hosts it may be sent to; returns its id';

-- aistudio.set_secret_hosts: the hosts a secret may be sent to (NULL:
-- unbound again); super admins only.  Every LLM that uses the secret must
-- keep an allowed endpoint.  Returns the stored (normalised) list.
CREATE FUNCTION aistudio.set_secret_hosts(name text, allowed_hosts text[]) RETURNS text[]
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	v_hosts text[];
	v_conflicts text;
BEGIN
	PERFORM aistudio.require_role('super_admin', 'change the hosts of a secret');
	v_hosts := aistudio.normalize_hosts(set_secret_hosts.allowed_hosts);
	PERFORM 1 FROM aistudio.secrets s WHERE s.name = set_secret_hosts.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'secret "%" does not exist', coalesce(set_secret_hosts.name, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	v_conflicts := aistudio.secret_host_conflicts(set_secret_hosts.name, v_hosts);
	IF v_conflicts IS NOT NULL THEN
		RAISE EXCEPTION '%', format(CASE WHEN v_hosts IS NULL THEN 'secret "%s" cannot be unbound while LLMs use it'
										 ELSE 'the new hosts of secret "%s" leave out LLMs that use it' END,
									set_secret_hosts.name)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format(CASE WHEN v_hosts IS NULL THEN 'These LLMs use it: %s.'
										   ELSE 'These LLMs send it to hosts the list does not name: %s.' END, v_conflicts),
				  HINT = 'Include their hosts, or point them at an allowed host first.';
	END IF;
	UPDATE aistudio.secrets s SET allowed_hosts = v_hosts, updated_at = now()
	 WHERE s.name = set_secret_hosts.name AND s.allowed_hosts IS DISTINCT FROM v_hosts;
	RETURN v_hosts;
END
$fn$;
COMMENT ON FUNCTION aistudio.set_secret_hosts(text, text[]) IS 'Set the hosts a secret may be sent to (NULL: unbound); super admins only';

-- Internal (create_llm, update_llm): may an LLM with api_endpoint use the
-- secret of the reference ref ($SECRET/Name; anything else passes)?  A
-- secret with hosts must list the endpoint's host (42501 otherwise); an
-- unbound one is bound now to the endpoint's host:port, when the acting user
-- set its value or is a super admin or DBA (42501 otherwise).
CREATE FUNCTION aistudio.bind_secret(ref text, api_endpoint text) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
	v_name text;
	s record;
	v_role text;
	v_who text;
BEGIN
	IF ref IS NULL OR NOT starts_with(ref, '$SECRET/') THEN
		RETURN;
	END IF;
	v_name := substr(ref, 9);
	SELECT x.id, x.allowed_hosts, x.value_set_by INTO s
	  FROM aistudio.secrets x WHERE x.name = v_name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown secret reference "$SECRET/%"', v_name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Create the secret first with aistudio.set_secret().';
	END IF;
	IF s.allowed_hosts IS NOT NULL THEN
		IF NOT aistudio.hosts_allow(s.allowed_hosts, api_endpoint) THEN
			RAISE EXCEPTION 'secret "%" may only be sent to host(s) %', v_name, array_to_string(s.allowed_hosts, ', ')
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = format('The api_endpoint sends to %s.', aistudio.endpoint_host(api_endpoint)),
					  HINT = 'Point the LLM at an allowed host, or ask a super admin to change the secret''s hosts with aistudio.set_secret_hosts().';
		END IF;
		RETURN;
	END IF;
	v_role := aistudio.acting_role();
	IF v_role NOT IN ('super_admin', 'dba') AND aistudio.acting_user_id() IS DISTINCT FROM s.value_set_by THEN
		SELECT format('%s (user %s)', u.email, u.id) INTO v_who FROM aistudio.users u WHERE u.id = s.value_set_by;
		RAISE EXCEPTION 'permission denied to bind secret "%" to a host', v_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The secret has no allowed hosts yet, and the first LLM that uses it binds it to its endpoint''s host. Only %s may do that.',
								  CASE WHEN v_who IS NULL THEN 'a super admin'
									   ELSE format('the user who set its value, %s, or a super admin', v_who) END),
				  HINT = 'Ask a super admin to set its hosts with aistudio.set_secret_hosts().';
	END IF;
	UPDATE aistudio.secrets x SET allowed_hosts = ARRAY[aistudio.endpoint_host(api_endpoint)], updated_at = now()
	 WHERE x.id = s.id;
END
$fn$;
COMMENT ON FUNCTION aistudio.bind_secret(text, text) IS 'Checks (and on first use binds) the host a $SECRET/ reference is sent to';

CREATE FUNCTION aistudio.delete_secret(name text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	users_of text;
BEGIN
	PERFORM aistudio.require_role('admin', 'manage secrets');
	PERFORM 1 FROM aistudio.secrets s WHERE s.name = delete_secret.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'secret "%" does not exist', delete_secret.name USING ERRCODE = 'no_data_found';
	END IF;
	SELECT string_agg(format('"%s"', l.name), ', ' ORDER BY l.name) INTO users_of
	  FROM aistudio.llms l WHERE l.api_key_ref = '$SECRET/' || delete_secret.name;
	IF users_of IS NOT NULL THEN
		RAISE EXCEPTION 'secret "%" is still used by LLM %', delete_secret.name, users_of
			USING ERRCODE = 'foreign_key_violation',
				  HINT = 'Give these LLMs another API key first.';
	END IF;
	DELETE FROM aistudio.secrets s WHERE s.name = delete_secret.name;
END
$fn$;

CREATE FUNCTION aistudio.list_secrets()
	RETURNS TABLE (id bigint, name text, version bigint, created_at timestamptz, updated_at timestamptz,
				   allowed_hosts text[], value_set_by bigint)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
	PERFORM aistudio.require_role('admin', 'list secrets');
	RETURN QUERY
		SELECT s.id, s.name, s.version, s.created_at, s.updated_at, s.allowed_hosts, s.value_set_by
		  FROM aistudio.secrets s ORDER BY s.name;
END
$fn$;
COMMENT ON FUNCTION aistudio.list_secrets() IS 'Names, versions and allowed hosts of the secrets (never their values)';

-- Decrypt a secret; EXECUTE only for aistudio_gateway.
CREATE FUNCTION aistudio.secret_value(name text) RETURNS text
	LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	s record;
BEGIN
	SELECT x.name, x.key_id, x.nonce, x.ciphertext INTO s
	  FROM aistudio.secrets x WHERE x.name = secret_value.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'secret "%" does not exist', secret_value.name USING ERRCODE = 'no_data_found';
	END IF;
	RETURN aistudio.open_value('secret:' || s.name, s.key_id, s.nonce, s.ciphertext);
END
$fn$;

-- Decrypt the API key of an LLM ($SECRET/Name reference or sealed literal);
-- NULL when it has none.  EXECUTE only for aistudio_gateway.
CREATE FUNCTION aistudio.llm_api_key(llm_id bigint) RETURNS text
	LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	l record;
	ref_name text;
BEGIN
	SELECT x.id, x.api_key_ref, x.api_key_key_id, x.api_key_nonce, x.api_key_cipher INTO l
	  FROM aistudio.llms x WHERE x.id = llm_api_key.llm_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % does not exist', llm_api_key.llm_id USING ERRCODE = 'no_data_found';
	END IF;
	IF l.api_key_ref IS NOT NULL THEN
		IF left(l.api_key_ref, 8) <> '$SECRET/' THEN
			RAISE EXCEPTION 'LLM % has a malformed API key reference', l.id
				USING ERRCODE = 'data_corrupted',
					  DETAIL = 'A reference has the form $SECRET/Name.';
		END IF;
		ref_name := substr(l.api_key_ref, 9);
		IF NOT aistudio.secret_exists(ref_name) THEN
			RAISE EXCEPTION 'secret "%" used by LLM % does not exist', ref_name, l.id
				USING ERRCODE = 'no_data_found';
		END IF;
		RETURN aistudio.secret_value(ref_name);
	END IF;
	IF l.api_key_cipher IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN aistudio.open_value('llm:' || l.id, l.api_key_key_id, l.api_key_nonce, l.api_key_cipher);
END
$fn$;

-- Re-encrypt every value sealed under another key than the current one
-- (opened with pg_aistudio.previous_secret_key_file); all or nothing.
CREATE FUNCTION aistudio.rotate_secret_key() RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
	current_key text;
	n_secrets bigint;
	n_llms bigint;
	n_targets bigint;
BEGIN
	PERFORM aistudio.require_role('super_admin', 'rotate the master key');
	current_key := aistudio.secret_key_id();
	UPDATE aistudio.secrets s
	   SET (key_id, nonce, ciphertext) =
		   (SELECT r.key_id, r.nonce, r.ciphertext
			  FROM aistudio.reseal_value('secret:' || s.name, s.key_id, s.nonce, s.ciphertext) r),
		   version = s.version + 1	-- changes the snapshot checksum: edges re-pull the re-sealed value
	 WHERE s.key_id <> current_key;
	GET DIAGNOSTICS n_secrets = ROW_COUNT;
	UPDATE aistudio.llms l
	   SET (api_key_key_id, api_key_nonce, api_key_cipher) =
		   (SELECT r.key_id, r.nonce, r.ciphertext
			  FROM aistudio.reseal_value('llm:' || l.id, l.api_key_key_id, l.api_key_nonce, l.api_key_cipher) r),
		   api_key_version = l.api_key_version + 1
	 WHERE l.api_key_cipher IS NOT NULL AND l.api_key_key_id <> current_key;
	GET DIAGNOSTICS n_llms = ROW_COUNT;
	UPDATE aistudio.alert_targets t
	   SET (secret_key_id, secret_nonce, secret_cipher) =
		   (SELECT r.key_id, r.nonce, r.ciphertext
			  FROM aistudio.reseal_value('alert_target:' || t.id, t.secret_key_id, t.secret_nonce, t.secret_cipher) r)
	 WHERE t.secret_cipher IS NOT NULL AND t.secret_key_id <> current_key;
	GET DIAGNOSTICS n_targets = ROW_COUNT;
	RETURN n_secrets + n_llms + n_targets;
END
$fn$;
COMMENT ON FUNCTION aistudio.rotate_secret_key() IS 'Re-encrypt every secret, literal LLM key and alert target secret under the current master key; returns how many';

GRANT EXECUTE ON FUNCTION
	aistudio.set_secret(text, text, text[]), aistudio.set_secret_hosts(text, text[]),
	aistudio.delete_secret(text), aistudio.list_secrets(),
	aistudio.secret_value(text), aistudio.llm_api_key(bigint), aistudio.rotate_secret_key()
	TO aistudio_gateway;

