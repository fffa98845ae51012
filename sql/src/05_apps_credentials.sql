-------------------------------------------------------------------------------
-- SECTION apps and credentials (src/credentials.c)
-------------------------------------------------------------------------------
-- Apps belong to an owner (aistudio.check_app_access) and may use a set of
-- LLMs (app_llms); developers attach only LLMs their groups grant them
-- (aistudio.check_llm_grants).  A chat user learns nothing about apps:
-- every function first requires the developer role.  Credentials are
-- issued and resolved in C (src/credentials.c); only SHA-256 hashes of the
-- keys are stored.

-- Internal, shared by create_app, update_app, clear_app_budget, delete_app,
-- list_credentials and get_app: require the developer role for action, find
-- the app (row locked when for_update), check the actor may manage it
-- (aistudio.check_app_access); returns the owner's id.
CREATE FUNCTION aistudio.lock_app(app_id bigint, action text, for_update boolean) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner bigint;
BEGIN
	PERFORM aistudio.require_role('developer', action);
	IF for_update THEN
		SELECT a.owner_id INTO v_owner FROM aistudio.apps a WHERE a.id = lock_app.app_id FOR UPDATE;
	ELSE
		SELECT a.owner_id INTO v_owner FROM aistudio.apps a WHERE a.id = lock_app.app_id;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'app % does not exist', coalesce(lock_app.app_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	PERFORM aistudio.check_app_access(v_owner);
	RETURN v_owner;
END
$$;

-- Internal: the attribute checks of create_app and update_app; a NULL
-- argument is not checked (create_app passes '' for a missing name).
CREATE FUNCTION aistudio.check_app_fields(name text, description text, monthly_budget numeric,
										  namespace text, budget_hint text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF btrim(name) = '' THEN
		RAISE EXCEPTION 'app name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF length(name) > 200 THEN
		RAISE EXCEPTION 'app name is too long'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The name has %s characters; the limit is 200.', length(name));
	END IF;
	IF length(description) > 10000 THEN
		RAISE EXCEPTION 'app description is too long'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The limit is 10000 characters.';
	END IF;
	IF monthly_budget < 0 OR monthly_budget IN ('NaN', 'Infinity') THEN
		RAISE EXCEPTION 'monthly_budget must be a finite amount of at least 0'
			USING ERRCODE = 'invalid_parameter_value', HINT = budget_hint;
	END IF;
	PERFORM aistudio.check_amount_units(monthly_budget, 'monthly_budget');
	IF namespace IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM aistudio.namespaces n WHERE n.name = check_app_fields.namespace) THEN
		RAISE EXCEPTION 'namespace "%" does not exist', namespace USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

-- Internal: raise unless user owner_id exists (P0002) and is active (22023,
-- with detail as the error's detail).
CREATE FUNCTION aistudio.check_app_owner(owner_id bigint, detail text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_active boolean;
BEGIN
	SELECT u.active INTO v_active FROM aistudio.users u WHERE u.id = check_app_owner.owner_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user % does not exist', owner_id USING ERRCODE = 'no_data_found';
	END IF;
	IF NOT v_active THEN
		RAISE EXCEPTION 'user % is inactive', owner_id
			USING ERRCODE = 'invalid_parameter_value', DETAIL = detail;
	END IF;
END
$$;

-- Internal: raise P0002 for the first id of llm_ids that is no LLM.
CREATE FUNCTION aistudio.check_llms_exist(llm_ids bigint[]) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_missing bigint;
BEGIN
	SELECT t.x INTO v_missing FROM unnest(llm_ids) WITH ORDINALITY AS t(x, i)
	 WHERE NOT EXISTS (SELECT 1 FROM aistudio.llms l WHERE l.id = t.x)
	 ORDER BY t.i LIMIT 1;
	IF v_missing IS NOT NULL THEN
		RAISE EXCEPTION 'LLM % does not exist', v_missing USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- aistudio.create_app: a new app of owner_id using llm_ids; returns its id.
CREATE FUNCTION aistudio.create_app(name text, owner_id bigint, llm_ids bigint[],
									monthly_budget numeric DEFAULT NULL, namespace text DEFAULT '',
									rate_limit_rpm bigint DEFAULT NULL, rate_limit_tpm bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id           bigint;
	v_namespace    text := coalesce(create_app.namespace, '');
BEGIN
	IF create_app.owner_id IS NULL THEN
		RAISE EXCEPTION 'owner_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM aistudio.check_app_access(create_app.owner_id);
	IF create_app.llm_ids IS NULL OR array_position(create_app.llm_ids, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'llm_ids must be an array of LLM ids without nulls'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass an empty array for an app that uses no LLM yet.';
	END IF;
	PERFORM aistudio.check_llm_grants(create_app.llm_ids);

	PERFORM aistudio.check_app_fields(coalesce(create_app.name, ''), NULL, create_app.monthly_budget,
									  v_namespace, 'Pass NULL for an app without a budget.');
	PERFORM aistudio.check_rate_limit(create_app.rate_limit_rpm, 'rate_limit_rpm');
	PERFORM aistudio.check_rate_limit(create_app.rate_limit_tpm, 'rate_limit_tpm');
	PERFORM aistudio.check_app_owner(create_app.owner_id, 'Apps can only be created for active users.');
	PERFORM aistudio.check_llms_exist(create_app.llm_ids);
	IF EXISTS (SELECT 1 FROM aistudio.apps a WHERE a.name = create_app.name) THEN
		RAISE EXCEPTION 'app "%" already exists', create_app.name USING ERRCODE = 'unique_violation';
	END IF;

	INSERT INTO aistudio.apps (name, owner_id, monthly_budget, namespace, rate_limit_rpm, rate_limit_tpm)
	VALUES (create_app.name, create_app.owner_id, create_app.monthly_budget, v_namespace,
			create_app.rate_limit_rpm, create_app.rate_limit_tpm)
	RETURNING id INTO v_id;
	INSERT INTO aistudio.app_llms (app_id, llm_id)
	SELECT DISTINCT v_id, x FROM unnest(create_app.llm_ids) AS x;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION aistudio.create_app(text, bigint, bigint[], numeric, text, bigint, bigint) IS 'Creates an app of owner_id that may use llm_ids; returns its id';

-- aistudio.update_app: changes the given attributes (NULL = unchanged);
-- llm_ids replaces the whole set; only an admin changes the owner.
CREATE FUNCTION aistudio.update_app(app_id bigint, name text DEFAULT NULL, description text DEFAULT NULL,
									llm_ids bigint[] DEFAULT NULL, monthly_budget numeric DEFAULT NULL,
									budget_start_date date DEFAULT NULL, namespace text DEFAULT NULL,
									active boolean DEFAULT NULL, owner_id bigint DEFAULT NULL,
									rate_limit_rpm bigint DEFAULT NULL, rate_limit_tpm bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner        bigint;
	v_added        bigint[];
BEGIN
	v_owner := aistudio.lock_app(update_app.app_id, 'manage apps', true);

	IF update_app.owner_id IS NOT NULL AND update_app.owner_id <> v_owner THEN
		PERFORM aistudio.require_role('admin', 'change the owner of an app');
		PERFORM aistudio.check_app_owner(update_app.owner_id, 'Apps can only be owned by active users.');
	END IF;
	IF update_app.llm_ids IS NOT NULL THEN
		IF array_position(update_app.llm_ids, NULL) IS NOT NULL THEN
			RAISE EXCEPTION 'llm_ids must not contain nulls' USING ERRCODE = 'invalid_parameter_value';
		END IF;
		-- only newly attached LLMs need a grant: an admin may have attached others
		v_added := ARRAY(SELECT t.x FROM unnest(update_app.llm_ids) WITH ORDINALITY AS t(x, i)
						  WHERE NOT EXISTS (SELECT 1 FROM aistudio.app_llms al
											 WHERE al.app_id = update_app.app_id AND al.llm_id = t.x)
						  GROUP BY t.x ORDER BY min(t.i));
		PERFORM aistudio.check_llm_grants(v_added);
		PERFORM aistudio.check_llms_exist(v_added);
	END IF;
	PERFORM aistudio.check_app_fields(update_app.name, update_app.description, update_app.monthly_budget,
									  update_app.namespace,
									  'Use aistudio.clear_app_budget(app_id) to remove the budget.');
	PERFORM aistudio.check_rate_limit(update_app.rate_limit_rpm, 'rate_limit_rpm');
	PERFORM aistudio.check_rate_limit(update_app.rate_limit_tpm, 'rate_limit_tpm');
	IF EXISTS (SELECT 1 FROM aistudio.apps a
				WHERE a.name = update_app.name AND a.id <> update_app.app_id) THEN
		RAISE EXCEPTION 'app "%" already exists', update_app.name USING ERRCODE = 'unique_violation';
	END IF;

	UPDATE aistudio.apps a
	   SET name = coalesce(update_app.name, a.name),
		   description = coalesce(update_app.description, a.description),
		   monthly_budget = coalesce(update_app.monthly_budget, a.monthly_budget),
		   budget_start_date = coalesce(update_app.budget_start_date, a.budget_start_date),
		   namespace = coalesce(update_app.namespace, a.namespace),
		   active = coalesce(update_app.active, a.active),
		   owner_id = coalesce(update_app.owner_id, a.owner_id),
		   rate_limit_rpm = coalesce(update_app.rate_limit_rpm, a.rate_limit_rpm),
		   rate_limit_tpm = coalesce(update_app.rate_limit_tpm, a.rate_limit_tpm),
		   updated_at = now()
	 WHERE a.id = update_app.app_id;
	IF update_app.llm_ids IS NOT NULL THEN
		DELETE FROM aistudio.app_llms al
		 WHERE al.app_id = update_app.app_id AND al.llm_id <> ALL (update_app.llm_ids);
		INSERT INTO aistudio.app_llms (app_id, llm_id)
		SELECT update_app.app_id, x FROM unnest(v_added) AS x;
	END IF;
END
$$;
COMMENT ON FUNCTION aistudio.update_app(bigint, text, text, bigint[], numeric, date, text, boolean, bigint, bigint, bigint) IS 'Changes the given attributes of an app (NULL = unchanged)';

-- aistudio.clear_app_budget: the app no longer has a monthly budget.
CREATE FUNCTION aistudio.clear_app_budget(app_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.lock_app(clear_app_budget.app_id, 'manage apps', true);
	UPDATE aistudio.apps a
	   SET monthly_budget = NULL, budget_start_date = NULL, updated_at = now()
	 WHERE a.id = clear_app_budget.app_id;
END
$$;
COMMENT ON FUNCTION aistudio.clear_app_budget(bigint) IS 'Removes the monthly budget (and its start date) of an app';

-- aistudio.clear_app_rate_limits: removes the app's requests-per-minute
-- limit (rpm) and/or tokens-per-minute limit (tpm).
CREATE FUNCTION aistudio.clear_app_rate_limits(app_id bigint, rpm boolean DEFAULT true, tpm boolean DEFAULT true)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.lock_app(clear_app_rate_limits.app_id, 'manage apps', true);
	UPDATE aistudio.apps a
	   SET rate_limit_rpm = CASE WHEN coalesce(clear_app_rate_limits.rpm, false) THEN NULL ELSE a.rate_limit_rpm END,
		   rate_limit_tpm = CASE WHEN coalesce(clear_app_rate_limits.tpm, false) THEN NULL ELSE a.rate_limit_tpm END,
		   updated_at = now()
	 WHERE a.id = clear_app_rate_limits.app_id;
END
$$;
COMMENT ON FUNCTION aistudio.clear_app_rate_limits(bigint, boolean, boolean) IS 'Removes the requests-per-minute (rpm) and/or tokens-per-minute (tpm) limit of an app';

-- aistudio.delete_app: deletes the app, its LLM links and its credentials.
CREATE FUNCTION aistudio.delete_app(app_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.lock_app(delete_app.app_id, 'manage apps', true);
	DELETE FROM aistudio.apps a WHERE a.id = delete_app.app_id;
END
$$;
COMMENT ON FUNCTION aistudio.delete_app(bigint) IS 'Deletes an app; its credentials go with it';

-- Internal, shared by app credentials and personal API tokens: a key's name
-- (at most 100 characters, no control characters; '' allowed) and expiry
-- (NULL for never, else a finite time in the future).
CREATE FUNCTION aistudio.check_key_lifecycle(name text, expires_at timestamptz) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF $1 IS NOT NULL AND (length($1) > 100 OR $1 ~ '[[:cntrl:]]') THEN
		RAISE EXCEPTION 'invalid key name'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A key name has at most 100 characters and no control characters.';
	END IF;
	IF $2 IS NOT NULL AND (NOT isfinite($2) OR $2 <= now()) THEN
		RAISE EXCEPTION 'expires_at must be a time in the future'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('expires_at is %s; the time now is %s.', $2, now());
	END IF;
END
$$;

-- aistudio.issue_credential: a new key for the app, shown once.
CREATE FUNCTION aistudio.issue_credential(app_id bigint, name text DEFAULT '', expires_at timestamptz DEFAULT NULL)
	RETURNS text
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_issue_credential';
COMMENT ON FUNCTION aistudio.issue_credential(bigint, text, timestamptz) IS 'Issues a new API key for an app (optionally named and expiring); the key is returned once and only its SHA-256 is stored';

-- aistudio.resolve_credential: the gateway's lookup of a presented key.
CREATE FUNCTION aistudio.resolve_credential(key text)
	RETURNS TABLE (credential_id bigint, app_id bigint, app_name text, owner_id bigint,
				   app_active boolean, owner_active boolean, namespace text,
				   llm_ids bigint[], monthly_budget numeric, budget_start_date date,
				   expires_at timestamptz)
	LANGUAGE C STRICT STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1
	AS 'MODULE_PATHNAME', 'aistudio_resolve_credential';
COMMENT ON FUNCTION aistudio.resolve_credential(text) IS 'The app of an active API key (the one source of what the key may use: its app''s LLMs, state, budget and the key''s expiry); no row for a malformed, unknown or revoked key';

-- Internal, shared by revoke_credential and rotate_credential: the
-- credential's app and state, row locked, after the access check.
CREATE FUNCTION aistudio.lock_credential(credential_id bigint, OUT app_id bigint, OUT active boolean,
										 OUT name text, OUT expires_at timestamptz)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner bigint;
BEGIN
	PERFORM aistudio.require_role('developer', 'manage apps');
	SELECT c.app_id, c.active, c.name, c.expires_at, a.owner_id
	  INTO lock_credential.app_id, lock_credential.active, lock_credential.name, lock_credential.expires_at, v_owner
	  FROM aistudio.credentials c JOIN aistudio.apps a ON a.id = c.app_id
	 WHERE c.id = lock_credential.credential_id
	   FOR UPDATE OF c;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'credential % does not exist', coalesce(lock_credential.credential_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	PERFORM aistudio.check_app_access(v_owner);
END
$$;

-- aistudio.revoke_credential: the key stops working (idempotent).
CREATE FUNCTION aistudio.revoke_credential(credential_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cred record;
BEGIN
	SELECT * INTO v_cred FROM aistudio.lock_credential(revoke_credential.credential_id);
	IF v_cred.active THEN
		UPDATE aistudio.credentials c SET active = false, revoked_at = now()
		 WHERE c.id = revoke_credential.credential_id;
	END IF;
END
$$;
COMMENT ON FUNCTION aistudio.revoke_credential(bigint) IS 'Revokes an API key';

-- Internal, shared by rotate_credential and rotate_api_token: checks an
-- overlap (0 to 10080 minutes, fractions allowed) and returns it as an
-- interval.
CREATE FUNCTION aistudio.rotation_overlap(overlap_minutes numeric) RETURNS interval
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF $1 IS NULL OR $1 = 'NaN'::numeric OR $1 < 0 OR $1 > 10080 THEN
		RAISE EXCEPTION 'invalid overlap_minutes: %', coalesce($1::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The old key stays valid for 0 to 10080 minutes (a week) after a rotation; 0 revokes it at once.';
	END IF;
	RETURN $1 * interval '1 minute';
END
$$;

-- aistudio.rotate_credential: a new key of the same app (same name; expiring
-- at new_expires_at, NULL for never) and the old one ends: revoked at once
-- (overlap_minutes 0), or still valid for overlap_minutes and then refused as
-- expired (never later than its own expiry).  One transaction.
CREATE FUNCTION aistudio.rotate_credential(credential_id bigint, overlap_minutes numeric DEFAULT 0,
										   new_expires_at timestamptz DEFAULT NULL) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cred record;
	v_overlap interval := aistudio.rotation_overlap(rotate_credential.overlap_minutes);
BEGIN
	SELECT * INTO v_cred FROM aistudio.lock_credential(rotate_credential.credential_id);
	IF NOT v_cred.active THEN
		RAISE EXCEPTION 'credential % is revoked', rotate_credential.credential_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Issue a new key with aistudio.issue_credential(app_id).';
	END IF;
	IF v_cred.expires_at <= now() THEN
		RAISE EXCEPTION 'credential % has expired', rotate_credential.credential_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Issue a new key with aistudio.issue_credential(app_id).';
	END IF;
	IF v_overlap = interval '0' THEN
		UPDATE aistudio.credentials c SET active = false, revoked_at = now()
		 WHERE c.id = rotate_credential.credential_id;
	ELSE
		UPDATE aistudio.credentials c
		   SET expires_at = least(c.expires_at, now() + v_overlap)
		 WHERE c.id = rotate_credential.credential_id;
	END IF;
	RETURN aistudio.issue_credential(v_cred.app_id, v_cred.name, rotate_credential.new_expires_at);
END
$$;
COMMENT ON FUNCTION aistudio.rotate_credential(bigint, numeric, timestamptz) IS 'Issues a new API key for the app of a key and ends the old one, at once or after an overlap';

-- aistudio.update_credential: renames a key or changes its expiry (NULL =
-- unchanged; clear_expiry removes it).
CREATE FUNCTION aistudio.update_credential(credential_id bigint, name text DEFAULT NULL,
										   expires_at timestamptz DEFAULT NULL,
										   clear_expiry boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cred record;
BEGIN
	SELECT * INTO v_cred FROM aistudio.lock_credential(update_credential.credential_id);
	PERFORM aistudio.check_key_lifecycle(update_credential.name, update_credential.expires_at);
	IF NOT v_cred.active THEN
		RAISE EXCEPTION 'credential % is revoked', update_credential.credential_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE aistudio.credentials c
	   SET name = coalesce(update_credential.name, c.name),
		   expires_at = CASE WHEN coalesce(update_credential.clear_expiry, false) THEN NULL
							 ELSE coalesce(update_credential.expires_at, c.expires_at) END
	 WHERE c.id = update_credential.credential_id;
END
$$;
COMMENT ON FUNCTION aistudio.update_credential(bigint, text, timestamptz, boolean) IS 'Renames an API key or changes its expiry';

-- aistudio.list_credentials: the app's keys, by prefix only.
CREATE FUNCTION aistudio.list_credentials(app_id bigint)
	RETURNS TABLE (id bigint, key_prefix text, active boolean, created_at timestamptz,
				   revoked_at timestamptz, last_used_at timestamptz, name text,
				   expires_at timestamptz, expired boolean)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.lock_app(list_credentials.app_id, 'manage apps', false);
	RETURN QUERY
		SELECT c.id, c.key_prefix, c.active, c.created_at, c.revoked_at, c.last_used_at,
			   c.name, c.expires_at, coalesce(c.expires_at <= now(), false)
		  FROM aistudio.credentials c
		 WHERE c.app_id = list_credentials.app_id
		 ORDER BY c.id;
END
$$;
COMMENT ON FUNCTION aistudio.list_credentials(bigint) IS 'The API keys of an app (prefix, name, state and expiry only)';

-- gatewayd's admin API calls these with pg_aistudio.acting_user set; its
-- proxy resolves keys.
GRANT EXECUTE ON FUNCTION
	aistudio.create_app(text, bigint, bigint[], numeric, text, bigint, bigint),
	aistudio.update_app(bigint, text, text, bigint[], numeric, date, text, boolean, bigint, bigint, bigint),
	aistudio.clear_app_budget(bigint),
	aistudio.clear_app_rate_limits(bigint, boolean, boolean),
	aistudio.delete_app(bigint),
	aistudio.issue_credential(bigint, text, timestamptz),
	aistudio.resolve_credential(text),
	aistudio.revoke_credential(bigint),
	aistudio.rotate_credential(bigint, numeric, timestamptz),
	aistudio.update_credential(bigint, text, timestamptz, boolean),
	aistudio.list_credentials(bigint)
	TO aistudio_gateway;

