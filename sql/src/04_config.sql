-------------------------------------------------------------------------------
-- SECTION config: llms, prices, filters, plugins, namespaces
-------------------------------------------------------------------------------
-- src/config.c holds the C validators (api_endpoint URLs, regular
-- expressions, the gateway-or-admin check); the API itself is plpgsql.
-- Every mutation checks the acting user's role first; nothing is written
-- before every argument has been validated.

CREATE FUNCTION aistudio.check_api_endpoint(url text) RETURNS void
	LANGUAGE C AS 'MODULE_PATHNAME', 'aistudio_check_api_endpoint';
COMMENT ON FUNCTION aistudio.check_api_endpoint(text) IS 'Raises 22023 unless url is an absolute http(s) URL with a host and no credentials';

CREATE FUNCTION aistudio.check_regexes(patterns text[], what text) RETURNS void
	LANGUAGE C AS 'MODULE_PATHNAME', 'aistudio_check_regexes';
COMMENT ON FUNCTION aistudio.check_regexes(text[], text) IS 'Raises 22023 naming the first element that is not a valid pattern (PCRE2)';

-- The stored pattern language (PCRE2, searched like ~), the same code
-- gatewayd matches with (src/pattern.c).
CREATE FUNCTION aistudio.pattern_matches(pattern text, subject text) RETURNS boolean
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aistudio_pattern_matches';
COMMENT ON FUNCTION aistudio.pattern_matches(text, text) IS 'Whether a stored pattern (PCRE2, searched like ~) is found in subject; false when the match limit is hit; 22023 for a bad pattern';

CREATE FUNCTION aistudio.model_allowed(llm_id bigint, model text) RETURNS boolean
	LANGUAGE C STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_model_allowed';
COMMENT ON FUNCTION aistudio.model_allowed(bigint, text) IS 'Whether requests to the LLM may name this model: no allowed_models, or one of them found in it (the gateway''s rule)';

CREATE FUNCTION aistudio.require_gateway_or_role(min_role text, action text) RETURNS void
	LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'aistudio_require_gateway_or_role';
COMMENT ON FUNCTION aistudio.require_gateway_or_role(text, text) IS 'Passes for aistudio_gateway members without an acting user, else requires min_role';

-- The slug of an LLM name: lower-cased, every run of characters other than
-- a-z0-9 turned into '-' (no trimming: 'My GPT (EU)' -> 'my-gpt-eu-').
CREATE FUNCTION aistudio.llm_slug(name text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
	AS $$ SELECT regexp_replace(lower($1), '[^a-z0-9]+', '-', 'g') $$;

CREATE FUNCTION aistudio.check_vendor(vendor text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF vendor IS NULL OR NOT EXISTS (SELECT 1 FROM aistudio.vendors v WHERE v.name = check_vendor.vendor) THEN
		RAISE EXCEPTION 'unknown vendor "%"', coalesce(vendor, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Vendors are ' || (SELECT string_agg(v.name, ', ' ORDER BY v.sort_order, v.name)
											  FROM aistudio.vendors v) || ' (aistudio.vendors).';
	END IF;
END
$$;

CREATE FUNCTION aistudio.check_namespace_exists(namespace text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF namespace IS NULL OR NOT EXISTS (SELECT 1 FROM aistudio.namespaces n WHERE n.name = check_namespace_exists.namespace) THEN
		RAISE EXCEPTION 'unknown namespace "%"', coalesce(namespace, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Create it first with aistudio.create_namespace(); '''' is the global namespace.';
	END IF;
END
$$;

-- A display name: non-empty, at most 255 characters, no control characters.
CREATE FUNCTION aistudio.check_object_name(name text, what text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF name IS NULL OR btrim(name) = '' THEN
		RAISE EXCEPTION '% name must not be empty', what USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF length(name) > 255 OR name ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid % name', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A name has at most 255 characters and no control characters.';
	END IF;
END
$$;

-- A JSON configuration object of a filter or plugin.
CREATE FUNCTION aistudio.check_config_object(config jsonb, what text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF config IS NULL OR jsonb_typeof(config) <> 'object' THEN
		RAISE EXCEPTION '% config must be a JSON object', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s.', coalesce(jsonb_typeof(config), 'NULL'));
	END IF;
END
$$;

-- An api_key argument: NULL or '' (none), '$SECRET/Name' (the secret must
-- exist) or a literal key.  The key is never echoed.
CREATE FUNCTION aistudio.check_api_key(api_key text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_name text;
BEGIN
	IF api_key IS NULL OR api_key = '' THEN
		RETURN;
	END IF;
	IF starts_with(api_key, '$SECRET/') THEN
		v_name := substr(api_key, 9);
		IF v_name !~ '^[A-Za-z0-9_.-]{1,128}$' THEN
			RAISE EXCEPTION 'invalid secret reference'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A reference is $SECRET/ followed by a secret name of 1 to 128 letters, digits, ''_'', ''.'' or ''-''.';
		END IF;
		IF NOT aistudio.secret_exists(v_name) THEN
			RAISE EXCEPTION 'unknown secret reference "$SECRET/%"', v_name
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Create the secret first with aistudio.set_secret().';
		END IF;
		RETURN;
	END IF;
	IF length(api_key) > 8192 OR api_key ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid api_key'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An API key has at most 8192 characters and no control characters.';
	END IF;
END
$$;

-- The api_key columns of an LLM for the api_key argument: a literal is
-- sealed with aad 'llm:<id>'; '$SECRET/Name' is stored as a reference;
-- '' (or NULL) means no key.
CREATE FUNCTION aistudio.llm_key_columns(llm_id bigint, api_key text,
										 OUT api_key_ref text, OUT api_key_key_id text,
										 OUT api_key_nonce bytea, OUT api_key_cipher bytea)
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
BEGIN
	PERFORM aistudio.check_api_key(api_key);
	IF api_key IS NULL OR api_key = '' THEN
		RETURN;
	END IF;
	IF starts_with(api_key, '$SECRET/') THEN
		api_key_ref := api_key;
		RETURN;
	END IF;
	SELECT * INTO s FROM aistudio.seal_value('llm:' || llm_id, api_key);
	api_key_key_id := s.key_id;
	api_key_nonce := s.nonce;
	api_key_cipher := s.ciphertext;
END
$$;

-- The checks every LLM row passes (create and update).
CREATE FUNCTION aistudio.check_llm_fields(name text, vendor text, api_endpoint text,
										  allowed_models text[], namespace text)
	RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.check_object_name(name, 'LLM');
	PERFORM aistudio.check_vendor(vendor);
	PERFORM aistudio.check_api_endpoint(api_endpoint);
	PERFORM aistudio.check_regexes(allowed_models, 'allowed_models');
	PERFORM aistudio.check_namespace_exists(namespace);
END
$$;

-- Name and slug must be free (other than the LLM itself).
CREATE FUNCTION aistudio.check_llm_unique(llm_id bigint, name text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_other text;
BEGIN
	IF EXISTS (SELECT 1 FROM aistudio.llms l
				WHERE l.name = check_llm_unique.name AND l.id IS DISTINCT FROM check_llm_unique.llm_id) THEN
		RAISE EXCEPTION 'LLM named "%" already exists', name USING ERRCODE = 'unique_violation';
	END IF;
	SELECT l.name INTO v_other FROM aistudio.llms l
	 WHERE l.slug = aistudio.llm_slug(check_llm_unique.name)
	   AND l.id IS DISTINCT FROM check_llm_unique.llm_id;
	IF FOUND THEN
		RAISE EXCEPTION 'LLM slug "%" already exists', aistudio.llm_slug(name)
			USING ERRCODE = 'unique_violation',
				  DETAIL = format('The LLM "%s" has the same slug.', v_other),
				  HINT = 'Slugs are the lower-cased name with every run of characters other than a-z and 0-9 turned into "-"; choose a more distinct name.';
	END IF;
END
$$;

-- Rate limits of apps and LLMs (rate_limit_rpm: requests per minute,
-- rate_limit_tpm: prompt + completion tokens per minute): NULL = no limit,
-- else 1..1000000000. Each gateway enforces them with its own buckets
-- (docs/gateway.md "Rate limits").
CREATE FUNCTION aistudio.check_rate_limit(rate_limit bigint, what text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF rate_limit IS NOT NULL AND (rate_limit < 1 OR rate_limit > 1000000000) THEN
		RAISE EXCEPTION '% must be between 1 and 1000000000', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s.', rate_limit),
				  HINT = 'Pass NULL to leave the limit as it is; clear_app_rate_limits and clear_llm_rate_limits remove limits.';
	END IF;
END
$$;

-- The cap of an LLM's captured bodies (capture_max_bytes): NULL = the
-- default (16384 bytes), else 256..1048576.
CREATE FUNCTION aistudio.check_capture_max_bytes(max_bytes bigint) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF max_bytes IS NOT NULL AND (max_bytes < 256 OR max_bytes > 1048576) THEN
		RAISE EXCEPTION 'capture_max_bytes must be between 256 and 1048576'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s.', max_bytes),
				  HINT = 'Pass NULL for the default of 16384 bytes.';
	END IF;
END
$$;

-- aistudio.create_llm: see docs/sql-api/config.md.
CREATE FUNCTION aistudio.create_llm(name text, vendor text, api_endpoint text, api_key text DEFAULT NULL,
									default_model text DEFAULT NULL, allowed_models text[] DEFAULT '{}',
									namespace text DEFAULT '', active boolean DEFAULT true,
									rate_limit_rpm bigint DEFAULT NULL, rate_limit_tpm bigint DEFAULT NULL,
									capture_bodies boolean DEFAULT false, capture_max_bytes bigint DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
	k record;
BEGIN
	PERFORM aistudio.require_role('admin', 'create LLMs');
	PERFORM aistudio.check_llm_fields(name, vendor, api_endpoint, coalesce(allowed_models, '{}'), namespace);
	PERFORM aistudio.check_llm_unique(NULL, name);
	PERFORM aistudio.check_rate_limit(create_llm.rate_limit_rpm, 'rate_limit_rpm');
	PERFORM aistudio.check_rate_limit(create_llm.rate_limit_tpm, 'rate_limit_tpm');
	PERFORM aistudio.check_capture_max_bytes(create_llm.capture_max_bytes);
	PERFORM aistudio.check_api_key(api_key);
	PERFORM aistudio.bind_secret(api_key, api_endpoint);
	v_id := nextval(pg_get_serial_sequence('aistudio.llms', 'id'));
	SELECT * INTO k FROM aistudio.llm_key_columns(v_id, api_key);
	INSERT INTO aistudio.llms (id, name, slug, vendor, api_endpoint, api_key_ref, api_key_key_id,
							   api_key_nonce, api_key_cipher, api_key_version, api_key_set_by, default_model,
							   allowed_models, namespace, active, rate_limit_rpm, rate_limit_tpm,
							   capture_bodies, capture_max_bytes)
	VALUES (v_id, create_llm.name, aistudio.llm_slug(create_llm.name), create_llm.vendor,
			create_llm.api_endpoint, k.api_key_ref, k.api_key_key_id, k.api_key_nonce, k.api_key_cipher,
			CASE WHEN coalesce(create_llm.api_key, '') = '' THEN 0 ELSE 1 END,
			CASE WHEN k.api_key_cipher IS NOT NULL THEN aistudio.acting_user_id() END,
			nullif(create_llm.default_model, ''), coalesce(create_llm.allowed_models, '{}'),
			create_llm.namespace, coalesce(create_llm.active, true),
			create_llm.rate_limit_rpm, create_llm.rate_limit_tpm,
			coalesce(create_llm.capture_bodies, false), create_llm.capture_max_bytes);
	RETURN v_id;
END
$$;

-- aistudio.update_llm: NULL arguments leave a field unchanged; api_key ''
-- removes the key, default_model '' removes the default model.
CREATE FUNCTION aistudio.update_llm(llm_id bigint, name text DEFAULT NULL, vendor text DEFAULT NULL,
									api_endpoint text DEFAULT NULL, api_key text DEFAULT NULL,
									default_model text DEFAULT NULL, allowed_models text[] DEFAULT NULL,
									namespace text DEFAULT NULL, active boolean DEFAULT NULL,
									monthly_budget numeric DEFAULT NULL, budget_start_date date DEFAULT NULL,
									rate_limit_rpm bigint DEFAULT NULL, rate_limit_tpm bigint DEFAULT NULL,
									capture_bodies boolean DEFAULT NULL, capture_max_bytes bigint DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cur aistudio.llms;
	v_ns text;
	v_ref text;
	v_key_id text;
	v_nonce bytea;
	v_cipher bytea;
BEGIN
	PERFORM aistudio.require_role('admin', 'update LLMs');
	SELECT * INTO cur FROM aistudio.llms l WHERE l.id = update_llm.llm_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % does not exist', coalesce(llm_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	v_ns := coalesce(update_llm.namespace, cur.namespace);
	PERFORM aistudio.check_llm_fields(coalesce(update_llm.name, cur.name), coalesce(update_llm.vendor, cur.vendor),
									  coalesce(update_llm.api_endpoint, cur.api_endpoint),
									  coalesce(update_llm.allowed_models, cur.allowed_models), v_ns);
	IF update_llm.name IS NOT NULL THEN
		PERFORM aistudio.check_llm_unique(cur.id, update_llm.name);
	END IF;
	IF monthly_budget IS NOT NULL AND (monthly_budget < 0 OR monthly_budget IN ('NaN', 'Infinity')) THEN
		RAISE EXCEPTION 'monthly_budget must be a non-negative amount'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM aistudio.check_amount_units(monthly_budget, 'monthly_budget');
	PERFORM aistudio.check_rate_limit(update_llm.rate_limit_rpm, 'rate_limit_rpm');
	PERFORM aistudio.check_rate_limit(update_llm.rate_limit_tpm, 'rate_limit_tpm');
	PERFORM aistudio.check_capture_max_bytes(update_llm.capture_max_bytes);
	IF v_ns <> cur.namespace AND (
		EXISTS (SELECT 1 FROM aistudio.llm_filters lf JOIN aistudio.filters f ON f.id = lf.filter_id
				 WHERE lf.llm_id = cur.id AND f.namespace NOT IN ('', v_ns)) OR
		EXISTS (SELECT 1 FROM aistudio.llm_plugins lp JOIN aistudio.plugins p ON p.id = lp.plugin_id
				 WHERE lp.llm_id = cur.id AND p.namespace NOT IN ('', v_ns))) THEN
		RAISE EXCEPTION 'cannot move LLM % to namespace "%"', cur.id, v_ns
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Filters or plugins of another namespace are attached to it.',
				  HINT = 'Detach them first.';
	END IF;
	IF update_llm.api_key IS NOT NULL THEN
		SELECT * INTO v_ref, v_key_id, v_nonce, v_cipher
		  FROM aistudio.llm_key_columns(cur.id, update_llm.api_key);
	END IF;
	-- a literal key someone else entered never follows the LLM to another
	-- host: whoever moves it enters the key again (or is a super admin)
	IF update_llm.api_key IS NULL AND update_llm.api_endpoint IS NOT NULL AND cur.api_key_cipher IS NOT NULL
	   AND aistudio.endpoint_host(update_llm.api_endpoint) <> aistudio.endpoint_host(cur.api_endpoint)
	   AND aistudio.acting_role() NOT IN ('super_admin', 'dba')
	   AND aistudio.acting_user_id() IS DISTINCT FROM cur.api_key_set_by THEN
		RAISE EXCEPTION 'permission denied to send the API key of LLM % to another host', cur.id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Its literal key was entered by another user and is only sent to %s.',
								  aistudio.endpoint_host(cur.api_endpoint)),
				  HINT = 'Enter the key again (api_key) together with the new api_endpoint, or ask a super admin.';
	END IF;
	-- a secret it references (a new one, or the one it keeps when the
	-- endpoint moves) must be allowed to go to the endpoint
	IF update_llm.api_key IS NOT NULL OR update_llm.api_endpoint IS NOT NULL THEN
		PERFORM aistudio.bind_secret(CASE WHEN update_llm.api_key IS NULL THEN cur.api_key_ref ELSE v_ref END,
									 coalesce(update_llm.api_endpoint, cur.api_endpoint));
	END IF;
	UPDATE aistudio.llms l SET
		name = coalesce(update_llm.name, l.name),
		slug = aistudio.llm_slug(coalesce(update_llm.name, l.name)),
		vendor = coalesce(update_llm.vendor, l.vendor),
		api_endpoint = coalesce(update_llm.api_endpoint, l.api_endpoint),
		api_key_ref = CASE WHEN update_llm.api_key IS NULL THEN l.api_key_ref ELSE v_ref END,
		api_key_key_id = CASE WHEN update_llm.api_key IS NULL THEN l.api_key_key_id ELSE v_key_id END,
		api_key_nonce = CASE WHEN update_llm.api_key IS NULL THEN l.api_key_nonce ELSE v_nonce END,
		api_key_cipher = CASE WHEN update_llm.api_key IS NULL THEN l.api_key_cipher ELSE v_cipher END,
		api_key_version = l.api_key_version + CASE WHEN update_llm.api_key IS NULL THEN 0 ELSE 1 END,
		api_key_set_by = CASE WHEN update_llm.api_key IS NULL THEN l.api_key_set_by
							  WHEN v_cipher IS NOT NULL THEN aistudio.acting_user_id() END,
		default_model = CASE WHEN update_llm.default_model IS NULL THEN l.default_model
							 ELSE nullif(update_llm.default_model, '') END,
		allowed_models = coalesce(update_llm.allowed_models, l.allowed_models),
		namespace = v_ns,
		active = coalesce(update_llm.active, l.active),
		monthly_budget = coalesce(update_llm.monthly_budget, l.monthly_budget),
		budget_start_date = coalesce(update_llm.budget_start_date, l.budget_start_date),
		rate_limit_rpm = coalesce(update_llm.rate_limit_rpm, l.rate_limit_rpm),
		rate_limit_tpm = coalesce(update_llm.rate_limit_tpm, l.rate_limit_tpm),
		capture_bodies = coalesce(update_llm.capture_bodies, l.capture_bodies),
		capture_max_bytes = coalesce(update_llm.capture_max_bytes, l.capture_max_bytes),
		updated_at = now()
	 WHERE l.id = cur.id;
END
$$;

-- aistudio.clear_llm_rate_limits: removes the LLM's requests-per-minute
-- limit (rpm) and/or tokens-per-minute limit (tpm) (update_llm treats NULL
-- as "unchanged", so clearing needs its own call).
CREATE FUNCTION aistudio.clear_llm_rate_limits(llm_id bigint, rpm boolean DEFAULT true, tpm boolean DEFAULT true)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'update LLMs');
	UPDATE aistudio.llms l
	   SET rate_limit_rpm = CASE WHEN coalesce(clear_llm_rate_limits.rpm, false) THEN NULL ELSE l.rate_limit_rpm END,
		   rate_limit_tpm = CASE WHEN coalesce(clear_llm_rate_limits.tpm, false) THEN NULL ELSE l.rate_limit_tpm END,
		   updated_at = now()
	 WHERE l.id = clear_llm_rate_limits.llm_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % does not exist', coalesce(clear_llm_rate_limits.llm_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
END
$$;
COMMENT ON FUNCTION aistudio.clear_llm_rate_limits(bigint, boolean, boolean) IS 'Removes the requests-per-minute (rpm) and/or tokens-per-minute (tpm) limit of an LLM';

CREATE FUNCTION aistudio.delete_llm(llm_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'delete LLMs');
	DELETE FROM aistudio.llms l WHERE l.id = delete_llm.llm_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % does not exist', coalesce(llm_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- Money (prices per million tokens, budgets) travels to gateways in exact
-- integer units of 10^-9 of the currency (int64, the snapshot's *_nanos
-- fields): an amount has at most 9 decimal places and fits int64 nanos.
CREATE FUNCTION aistudio.check_amount_units(amount numeric, what text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF amount IS NULL THEN
		RETURN;
	END IF;
	IF amount <> round(amount, 9) THEN
		RAISE EXCEPTION '% has more than 9 decimal places', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s.', amount),
				  HINT = 'Amounts are exact to 0.000000001 of the currency.';
	END IF;
	IF amount > 9223372036.854775807 THEN
		RAISE EXCEPTION '% is too large', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s; the limit is 9223372036.854775807.', amount);
	END IF;
END
$$;

-- A price per million tokens: not null (unless optional), >= 0, finite.
CREATE FUNCTION aistudio.check_price(price numeric, what text, optional boolean) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF price IS NULL THEN
		IF NOT optional THEN
			RAISE EXCEPTION '% must not be null', what USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RETURN;
	END IF;
	IF price < 0 OR price IN ('NaN', 'Infinity') THEN
		RAISE EXCEPTION '% must be a non-negative amount', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The value given is %s.', price);
	END IF;
	PERFORM aistudio.check_amount_units(price, what);
END
$$;

-- aistudio.set_model_price: insert or replace the price of (vendor, model).
CREATE FUNCTION aistudio.set_model_price(vendor text, model_name text, input_per_mtok numeric,
										 output_per_mtok numeric, cache_write_per_mtok numeric DEFAULT NULL,
										 cache_read_per_mtok numeric DEFAULT NULL, currency text DEFAULT 'USD')
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	PERFORM aistudio.require_role('admin', 'set model prices');
	PERFORM aistudio.check_vendor(vendor);
	IF model_name IS NULL OR model_name = '' OR length(model_name) > 255 OR model_name ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid model_name'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A model name is 1 to 255 characters without control characters.';
	END IF;
	PERFORM aistudio.check_price(input_per_mtok, 'input_per_mtok', false);
	PERFORM aistudio.check_price(output_per_mtok, 'output_per_mtok', false);
	PERFORM aistudio.check_price(cache_write_per_mtok, 'cache_write_per_mtok', true);
	PERFORM aistudio.check_price(cache_read_per_mtok, 'cache_read_per_mtok', true);
	IF currency IS NULL OR currency !~ '^[A-Z]{3}$' THEN
		RAISE EXCEPTION 'invalid currency "%"', coalesce(currency, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use a three-letter ISO 4217 code in capitals, such as USD or EUR.';
	END IF;
	INSERT INTO aistudio.model_prices AS p (vendor, model_name, input_per_mtok, output_per_mtok,
										   cache_write_per_mtok, cache_read_per_mtok, currency)
	VALUES (set_model_price.vendor, set_model_price.model_name, set_model_price.input_per_mtok,
			set_model_price.output_per_mtok, set_model_price.cache_write_per_mtok,
			set_model_price.cache_read_per_mtok, set_model_price.currency)
	ON CONFLICT ON CONSTRAINT model_prices_vendor_model_name_key DO UPDATE SET
		input_per_mtok = EXCLUDED.input_per_mtok,
		output_per_mtok = EXCLUDED.output_per_mtok,
		cache_write_per_mtok = EXCLUDED.cache_write_per_mtok,
		cache_read_per_mtok = EXCLUDED.cache_read_per_mtok,
		currency = EXCLUDED.currency,
		updated_at = now()
	RETURNING p.id INTO v_id;
	RETURN v_id;
END
$$;

CREATE FUNCTION aistudio.delete_model_price(vendor text, model_name text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'delete model prices');
	DELETE FROM aistudio.model_prices p
	 WHERE p.vendor = delete_model_price.vendor AND p.model_name = delete_model_price.model_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no price for model "%" of vendor "%"', coalesce(model_name, 'NULL'), coalesce(vendor, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- Namespaces ('' is the built-in global namespace).
CREATE FUNCTION aistudio.create_namespace(name text, description text DEFAULT '') RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'create namespaces');
	IF name IS NULL OR name !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
		RAISE EXCEPTION 'invalid namespace name "%"', coalesce(name, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A namespace name is 1 to 63 lower-case letters, digits, ''_'' or ''-'', starting with a letter or digit.';
	END IF;
	IF EXISTS (SELECT 1 FROM aistudio.namespaces n WHERE n.name = create_namespace.name) THEN
		RAISE EXCEPTION 'namespace "%" already exists', name USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO aistudio.namespaces (name, description)
	VALUES (create_namespace.name, coalesce(create_namespace.description, ''));
END
$$;

CREATE FUNCTION aistudio.delete_namespace(name text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_users text;
BEGIN
	PERFORM aistudio.require_role('admin', 'delete namespaces');
	IF name = '' THEN
		RAISE EXCEPTION 'the global namespace cannot be deleted' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM 1 FROM aistudio.namespaces n WHERE n.name = delete_namespace.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'namespace "%" does not exist', coalesce(name, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	SELECT string_agg(format('%s (%s)', c.what, c.n), ', ') INTO v_users
	  FROM (SELECT count(*) AS n, 'LLMs' AS what FROM aistudio.llms x WHERE x.namespace = delete_namespace.name
			UNION ALL SELECT count(*), 'apps' FROM aistudio.apps x WHERE x.namespace = delete_namespace.name
			UNION ALL SELECT count(*), 'filters' FROM aistudio.filters x WHERE x.namespace = delete_namespace.name
			UNION ALL SELECT count(*), 'plugins' FROM aistudio.plugins x WHERE x.namespace = delete_namespace.name
			UNION ALL SELECT count(*), 'edges' FROM aistudio.edges x WHERE x.namespace = delete_namespace.name) c
	 WHERE c.n > 0;
	IF v_users IS NOT NULL THEN
		RAISE EXCEPTION 'namespace "%" is in use', name
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = format('It still holds %s.', v_users),
				  HINT = 'Move or delete those objects first.';
	END IF;
	DELETE FROM aistudio.namespaces n WHERE n.name = delete_namespace.name;
END
$$;

-- Internal, shared by update_filter and update_plugin (kind 'filter' or
-- 'plugin'): a filter or plugin attached to LLMs of another namespace
-- cannot move to namespace ns (every namespace may use global ones, '').
CREATE FUNCTION aistudio.check_attached_within(kind text, object_id bigint, ns text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF ns <> '' AND EXISTS (
			SELECT 1 FROM aistudio.llm_filters lf JOIN aistudio.llms l ON l.id = lf.llm_id
			 WHERE kind = 'filter' AND lf.filter_id = object_id AND l.namespace <> ns
			UNION ALL
			SELECT 1 FROM aistudio.llm_plugins lp JOIN aistudio.llms l ON l.id = lp.llm_id
			 WHERE kind = 'plugin' AND lp.plugin_id = object_id AND l.namespace <> ns) THEN
		RAISE EXCEPTION 'cannot move % % to namespace "%"', kind, object_id, ns
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'It is attached to LLMs of another namespace.',
				  HINT = 'Detach it from those LLMs first.';
	END IF;
END
$$;

-- Filters: the built-in types gatewayd runs (gatewayd/src/pipeline/filter.h),
-- each config checked here, once, when it is stored (docs/filters.md):
--   regex       {patterns: [1..100 PCRE2 patterns], action?: block|allow, message?}
--   keywords    {keywords: [1..1000 texts of 1..256 bytes], whole_word?: bool, message?}
--   pii         {kinds?: [email|phone|card|iban], placeholders?: {kind: text of
--               at most 64 bytes}, action?: redact|block, message?}
--   max_prompt  {max_chars?: N, max_tokens?: N} (one at least; 1..2147483647)
-- message: what a blocked client reads, at most 500 bytes. Filters run at
-- pre_auth, post_auth or on_response; an allow-list regex and max_prompt
-- check prompts only.
CREATE FUNCTION aistudio.check_filter_fields(filter_type text, config jsonb, stage text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_keys text[];
	v_extra text;
	v jsonb;
	v_ok boolean;
BEGIN
	IF filter_type IS NULL OR filter_type NOT IN ('regex', 'keywords', 'pii', 'max_prompt') THEN
		RAISE EXCEPTION 'unknown filter type "%"', coalesce(filter_type, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Filter types are regex, keywords, pii and max_prompt.';
	END IF;
	IF stage IS NULL OR stage NOT IN ('pre_auth', 'post_auth', 'on_response') THEN
		RAISE EXCEPTION 'unknown stage "%" for a filter', coalesce(stage, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Filters run at pre_auth, post_auth or on_response (auth belongs to plugins).';
	END IF;
	PERFORM aistudio.check_config_object(config, 'filter');
	v_keys := CASE filter_type
				  WHEN 'regex' THEN ARRAY['patterns', 'action', 'message']
				  WHEN 'keywords' THEN ARRAY['keywords', 'whole_word', 'message']
				  WHEN 'pii' THEN ARRAY['kinds', 'placeholders', 'action', 'message']
				  ELSE ARRAY['max_chars', 'max_tokens', 'message'] END;
	SELECT string_agg(k, ', ' ORDER BY k) INTO v_extra
	  FROM jsonb_object_keys(config) k WHERE k <> ALL (v_keys);
	IF v_extra IS NOT NULL THEN
		RAISE EXCEPTION 'unknown config of a % filter: %', filter_type, v_extra
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('A %s filter takes %s.', filter_type, array_to_string(v_keys, ', '));
	END IF;
	v := config -> 'message';
	IF v IS NOT NULL AND (jsonb_typeof(v) <> 'string' OR octet_length(v #>> '{}') > 500) THEN
		RAISE EXCEPTION 'config.message must be a text of at most 500 bytes'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- (nested IFs: OR does not promise to skip the casts of a wrong type)
	IF filter_type = 'regex' THEN
		v := config -> 'patterns';
		v_ok := jsonb_typeof(v) IS NOT DISTINCT FROM 'array';
		IF v_ok THEN
			v_ok := jsonb_array_length(v) BETWEEN 1 AND 100
				AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) <> 'string');
		END IF;
		IF NOT v_ok THEN
			RAISE EXCEPTION 'a regex filter needs config.patterns, an array of 1 to 100 regular expressions'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		PERFORM aistudio.check_regexes(ARRAY(SELECT jsonb_array_elements_text(v)), 'config.patterns');
		v := config -> 'action';
		IF v IS NOT NULL AND v NOT IN ('"block"', '"allow"') THEN
			RAISE EXCEPTION 'config.action of a regex filter must be "block" or "allow"'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF v = '"allow"' AND stage = 'on_response' THEN
			RAISE EXCEPTION 'an allow-list regex filter cannot run on_response'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'On answers a regex filter blocks what it finds.',
					  HINT = 'Use action "block", or run the allow-list at pre_auth or post_auth.';
		END IF;
	ELSIF filter_type = 'keywords' THEN
		v := config -> 'keywords';
		v_ok := jsonb_typeof(v) IS NOT DISTINCT FROM 'array';
		IF v_ok THEN
			v_ok := jsonb_array_length(v) BETWEEN 1 AND 1000
				AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) <> 'string');
		END IF;
		IF v_ok THEN
			v_ok := NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(v) e
								 WHERE octet_length(e) NOT BETWEEN 1 AND 256);
		END IF;
		IF NOT v_ok THEN
			RAISE EXCEPTION 'a keywords filter needs config.keywords, an array of 1 to 1000 keywords'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A keyword is a text of 1 to 256 bytes.';
		END IF;
		v := config -> 'whole_word';
		IF v IS NOT NULL AND jsonb_typeof(v) <> 'boolean' THEN
			RAISE EXCEPTION 'config.whole_word must be true or false' USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSIF filter_type = 'pii' THEN
		v := config -> 'kinds';
		IF v IS NOT NULL THEN
			v_ok := jsonb_typeof(v) = 'array';
			IF v_ok THEN
				v_ok := jsonb_array_length(v) >= 1
					AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v) e
									 WHERE e NOT IN ('"email"', '"phone"', '"card"', '"iban"'));
			END IF;
			IF NOT v_ok THEN
				RAISE EXCEPTION 'config.kinds must be a non-empty array of email, phone, card and iban'
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
		END IF;
		v := config -> 'placeholders';
		IF v IS NOT NULL THEN
			v_ok := jsonb_typeof(v) = 'object';
			IF v_ok THEN
				v_ok := NOT EXISTS (SELECT 1 FROM jsonb_each(v) e
									 WHERE e.key NOT IN ('email', 'phone', 'card', 'iban')
									    OR jsonb_typeof(e.value) <> 'string');
			END IF;
			IF v_ok THEN
				v_ok := NOT EXISTS (SELECT 1 FROM jsonb_each_text(v) e WHERE octet_length(e.value) > 64);
			END IF;
			IF NOT v_ok THEN
				RAISE EXCEPTION 'config.placeholders must map email, phone, card or iban to a text of at most 64 bytes'
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
		END IF;
		v := config -> 'action';
		IF v IS NOT NULL AND v NOT IN ('"redact"', '"block"') THEN
			RAISE EXCEPTION 'config.action of a pii filter must be "redact" or "block"'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSE
		IF stage = 'on_response' THEN
			RAISE EXCEPTION 'a max_prompt filter cannot run on_response'
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'It limits prompts: run it at pre_auth or post_auth.';
		END IF;
		IF NOT (config ? 'max_chars' OR config ? 'max_tokens') THEN
			RAISE EXCEPTION 'a max_prompt filter needs config.max_chars or config.max_tokens'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		FOR v IN SELECT config -> k FROM unnest(ARRAY['max_chars', 'max_tokens']) k WHERE config ? k LOOP
			v_ok := jsonb_typeof(v) = 'number';
			IF v_ok THEN
				v_ok := v::text::numeric = trunc(v::text::numeric) AND v::text::numeric BETWEEN 1 AND 2147483647;
			END IF;
			IF NOT v_ok THEN
				RAISE EXCEPTION 'config.max_chars and config.max_tokens must be integers from 1 to 2147483647'
					USING ERRCODE = 'invalid_parameter_value',
						  DETAIL = format('The value given is %s.', v::text);
			END IF;
		END LOOP;
	END IF;
END
$$;

CREATE FUNCTION aistudio.create_filter(name text, filter_type text, config jsonb DEFAULT '{}',
									   stage text DEFAULT 'post_auth', namespace text DEFAULT '',
									   description text DEFAULT '', active boolean DEFAULT true)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	PERFORM aistudio.require_role('admin', 'create filters');
	PERFORM aistudio.check_object_name(name, 'filter');
	PERFORM aistudio.check_filter_fields(filter_type, config, stage);
	PERFORM aistudio.check_namespace_exists(namespace);
	IF EXISTS (SELECT 1 FROM aistudio.filters f WHERE f.name = create_filter.name) THEN
		RAISE EXCEPTION 'filter named "%" already exists', name USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO aistudio.filters AS f (name, description, filter_type, stage, config, namespace, active)
	VALUES (create_filter.name, coalesce(create_filter.description, ''), create_filter.filter_type,
			create_filter.stage, create_filter.config, create_filter.namespace,
			coalesce(create_filter.active, true))
	RETURNING f.id INTO v_id;
	RETURN v_id;
END
$$;

CREATE FUNCTION aistudio.update_filter(filter_id bigint, name text DEFAULT NULL, filter_type text DEFAULT NULL,
									   config jsonb DEFAULT NULL, stage text DEFAULT NULL,
									   namespace text DEFAULT NULL, description text DEFAULT NULL,
									   active boolean DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cur aistudio.filters;
	v_ns text;
BEGIN
	PERFORM aistudio.require_role('admin', 'update filters');
	SELECT * INTO cur FROM aistudio.filters f WHERE f.id = update_filter.filter_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'filter % does not exist', coalesce(filter_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	v_ns := coalesce(update_filter.namespace, cur.namespace);
	PERFORM aistudio.check_object_name(coalesce(update_filter.name, cur.name), 'filter');
	PERFORM aistudio.check_filter_fields(coalesce(update_filter.filter_type, cur.filter_type),
										 coalesce(update_filter.config, cur.config),
										 coalesce(update_filter.stage, cur.stage));
	PERFORM aistudio.check_namespace_exists(v_ns);
	IF EXISTS (SELECT 1 FROM aistudio.filters f WHERE f.name = update_filter.name AND f.id <> cur.id) THEN
		RAISE EXCEPTION 'filter named "%" already exists', name USING ERRCODE = 'unique_violation';
	END IF;
	PERFORM aistudio.check_attached_within('filter', cur.id, v_ns);
	UPDATE aistudio.filters f SET
		name = coalesce(update_filter.name, f.name),
		filter_type = coalesce(update_filter.filter_type, f.filter_type),
		config = coalesce(update_filter.config, f.config),
		stage = coalesce(update_filter.stage, f.stage),
		namespace = v_ns,
		description = coalesce(update_filter.description, f.description),
		active = coalesce(update_filter.active, f.active),
		updated_at = now()
	 WHERE f.id = cur.id;
END
$$;

CREATE FUNCTION aistudio.delete_filter(filter_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'delete filters');
	DELETE FROM aistudio.filters f WHERE f.id = delete_filter.filter_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'filter % does not exist', coalesce(filter_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- Plugins: out-of-process hooks (plugin_type grpc); command names the
-- executable or endpoint, e.g. file:///opt/plugins/pii or grpc://host:port.
CREATE FUNCTION aistudio.check_plugin_fields(hook text, command text, config jsonb, plugin_type text)
	RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF hook IS NULL OR hook NOT IN ('pre_auth', 'auth', 'post_auth', 'upstream', 'on_response') THEN
		RAISE EXCEPTION 'unknown hook "%"', coalesce(hook, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Hooks are pre_auth, auth, post_auth, upstream and on_response.';
	END IF;
	IF plugin_type IS NULL OR plugin_type <> 'grpc' THEN
		RAISE EXCEPTION 'unknown plugin type "%"', coalesce(plugin_type, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The only plugin type is grpc.';
	END IF;
	IF command IS NULL OR btrim(command) = '' OR length(command) > 4096 OR command ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid plugin command'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A command is 1 to 4096 characters without control characters.';
	END IF;
	PERFORM aistudio.check_config_object(config, 'plugin');
END
$$;

CREATE FUNCTION aistudio.create_plugin(name text, hook text, command text, config jsonb DEFAULT '{}',
									   namespace text DEFAULT '', description text DEFAULT '',
									   plugin_type text DEFAULT 'grpc', active boolean DEFAULT true)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	PERFORM aistudio.require_role('admin', 'create plugins');
	PERFORM aistudio.check_object_name(name, 'plugin');
	PERFORM aistudio.check_plugin_fields(hook, command, config, plugin_type);
	PERFORM aistudio.check_namespace_exists(namespace);
	IF EXISTS (SELECT 1 FROM aistudio.plugins p WHERE p.name = create_plugin.name) THEN
		RAISE EXCEPTION 'plugin named "%" already exists', name USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO aistudio.plugins AS p (name, description, plugin_type, hook, command, config, namespace, active)
	VALUES (create_plugin.name, coalesce(create_plugin.description, ''), create_plugin.plugin_type,
			create_plugin.hook, create_plugin.command, create_plugin.config, create_plugin.namespace,
			coalesce(create_plugin.active, true))
	RETURNING p.id INTO v_id;
	RETURN v_id;
END
$$;

CREATE FUNCTION aistudio.update_plugin(plugin_id bigint, name text DEFAULT NULL, hook text DEFAULT NULL,
									   command text DEFAULT NULL, config jsonb DEFAULT NULL,
									   namespace text DEFAULT NULL, description text DEFAULT NULL,
									   plugin_type text DEFAULT NULL, active boolean DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cur aistudio.plugins;
	v_ns text;
BEGIN
	PERFORM aistudio.require_role('admin', 'update plugins');
	SELECT * INTO cur FROM aistudio.plugins p WHERE p.id = update_plugin.plugin_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'plugin % does not exist', coalesce(plugin_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	v_ns := coalesce(update_plugin.namespace, cur.namespace);
	PERFORM aistudio.check_object_name(coalesce(update_plugin.name, cur.name), 'plugin');
	PERFORM aistudio.check_plugin_fields(coalesce(update_plugin.hook, cur.hook),
										 coalesce(update_plugin.command, cur.command),
										 coalesce(update_plugin.config, cur.config),
										 coalesce(update_plugin.plugin_type, cur.plugin_type));
	PERFORM aistudio.check_namespace_exists(v_ns);
	IF EXISTS (SELECT 1 FROM aistudio.plugins p WHERE p.name = update_plugin.name AND p.id <> cur.id) THEN
		RAISE EXCEPTION 'plugin named "%" already exists', name USING ERRCODE = 'unique_violation';
	END IF;
	PERFORM aistudio.check_attached_within('plugin', cur.id, v_ns);
	UPDATE aistudio.plugins p SET
		name = coalesce(update_plugin.name, p.name),
		hook = coalesce(update_plugin.hook, p.hook),
		command = coalesce(update_plugin.command, p.command),
		config = coalesce(update_plugin.config, p.config),
		namespace = v_ns,
		description = coalesce(update_plugin.description, p.description),
		plugin_type = coalesce(update_plugin.plugin_type, p.plugin_type),
		active = coalesce(update_plugin.active, p.active),
		updated_at = now()
	 WHERE p.id = cur.id;
END
$$;

CREATE FUNCTION aistudio.delete_plugin(plugin_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'delete plugins');
	DELETE FROM aistudio.plugins p WHERE p.id = delete_plugin.plugin_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'plugin % does not exist', coalesce(plugin_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- Attachments: an LLM runs its filters and plugins by position, then id.
-- A filter or plugin must be global or in the LLM's namespace.  ("position"
-- is quoted: it is a keyword; $3 reads it in the body.)

-- Internal, shared by attach_filter and attach_plugin (kind 'filter' or
-- 'plugin'): both exist (and stay, FOR KEY SHARE) and the object is global
-- or of the LLM's namespace.
CREATE FUNCTION aistudio.check_attachable(kind text, llm_id bigint, object_id bigint) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_llm_ns text;
	v_ns text;
BEGIN
	SELECT l.namespace INTO v_llm_ns FROM aistudio.llms l WHERE l.id = check_attachable.llm_id FOR KEY SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % does not exist', coalesce(llm_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	IF kind = 'filter' THEN
		SELECT f.namespace INTO v_ns FROM aistudio.filters f WHERE f.id = object_id FOR KEY SHARE;
	ELSE
		SELECT p.namespace INTO v_ns FROM aistudio.plugins p WHERE p.id = object_id FOR KEY SHARE;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION '% % does not exist', kind, coalesce(object_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	IF v_ns NOT IN ('', v_llm_ns) THEN
		RAISE EXCEPTION '% % of namespace "%" cannot be attached to LLM % of namespace "%"',
			kind, object_id, v_ns, llm_id, v_llm_ns
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('Attach global %ss or %ss of the LLM''s own namespace.', kind, kind);
	END IF;
END
$$;
CREATE FUNCTION aistudio.attach_filter(llm_id bigint, filter_id bigint, "position" int DEFAULT 0) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'attach filters');
	PERFORM aistudio.check_attachable('filter', attach_filter.llm_id, attach_filter.filter_id);
	INSERT INTO aistudio.llm_filters AS x (llm_id, filter_id, position)
	VALUES (attach_filter.llm_id, attach_filter.filter_id, coalesce($3, 0))
	ON CONFLICT ON CONSTRAINT llm_filters_pkey DO UPDATE SET position = EXCLUDED.position
	 WHERE x.position IS DISTINCT FROM EXCLUDED.position;
END
$$;

CREATE FUNCTION aistudio.detach_filter(llm_id bigint, filter_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'detach filters');
	DELETE FROM aistudio.llm_filters x
	 WHERE x.llm_id = detach_filter.llm_id AND x.filter_id = detach_filter.filter_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'filter % is not attached to LLM %', coalesce(filter_id::text, 'NULL'),
			coalesce(llm_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- fail_open: the LLM's requests go on without the plugin when it cannot
-- answer (default: they get 503 plugin_unavailable).
CREATE FUNCTION aistudio.attach_plugin(llm_id bigint, plugin_id bigint, "position" int DEFAULT 0,
									   fail_open boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'attach plugins');
	PERFORM aistudio.check_attachable('plugin', attach_plugin.llm_id, attach_plugin.plugin_id);
	INSERT INTO aistudio.llm_plugins AS x (llm_id, plugin_id, position, fail_open)
	VALUES (attach_plugin.llm_id, attach_plugin.plugin_id, coalesce($3, 0), coalesce($4, false))
	ON CONFLICT ON CONSTRAINT llm_plugins_pkey DO UPDATE
	   SET position = EXCLUDED.position, fail_open = EXCLUDED.fail_open
	 WHERE (x.position, x.fail_open) IS DISTINCT FROM (EXCLUDED.position, EXCLUDED.fail_open);
END
$$;

CREATE FUNCTION aistudio.detach_plugin(llm_id bigint, plugin_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'detach plugins');
	DELETE FROM aistudio.llm_plugins x
	 WHERE x.llm_id = detach_plugin.llm_id AND x.plugin_id = detach_plugin.plugin_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'plugin % is not attached to LLM %', coalesce(plugin_id::text, 'NULL'),
			coalesce(llm_id::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
END
$$;

-- Edges (hub and spoke): their functions are in SECTION sync
-- (sql/src/14_sync.sql), which uses this check.
CREATE FUNCTION aistudio.check_edge_id(edge_id text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF edge_id IS NULL OR edge_id !~ '^[A-Za-z0-9_.-]{1,128}$' THEN
		RAISE EXCEPTION 'invalid edge_id'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An edge id is 1 to 128 letters, digits, ''_'', ''.'' or ''-''.';
	END IF;
END
$$;

-- Change notification: any statement changing what a gateway serves sends
-- NOTIFY aistudio_config, '<table name>' (once per table per transaction).
CREATE FUNCTION aistudio.notify_config_change() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_notify('aistudio_config', TG_TABLE_NAME);
	RETURN NULL;
END
$$;

CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.llms
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.vendors
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.model_prices
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.filters
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.plugins
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.llm_filters
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.llm_plugins
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.apps
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.app_llms
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
-- credentials: only revocations, expiry changes and deletions (not issuing,
-- not last_used_at)
CREATE TRIGGER config_notify AFTER UPDATE OF active, revoked_at, expires_at OR DELETE OR TRUNCATE ON aistudio.credentials
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.secrets
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.group_llms
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.namespaces
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
-- who may use what: group memberships (chat access) and users' active flag
-- and role (a deactivated owner's keys stop working at once, not at the
-- end of the gateways' credential cache TTL)
CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.group_members
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();
CREATE TRIGGER config_notify AFTER UPDATE OF active, role OR DELETE OR TRUNCATE ON aistudio.users
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.notify_config_change();

-- The admin API (gatewayd) connects as a member of aistudio_gateway and sets
-- pg_aistudio.acting_user; every function checks the acting user's role.
GRANT EXECUTE ON FUNCTION
	aistudio.create_llm(text, text, text, text, text, text[], text, boolean, bigint, bigint, boolean, bigint),
	aistudio.update_llm(bigint, text, text, text, text, text, text[], text, boolean, numeric, date, bigint, bigint,
						boolean, bigint),
	aistudio.clear_llm_rate_limits(bigint, boolean, boolean),
	aistudio.delete_llm(bigint),
	aistudio.set_model_price(text, text, numeric, numeric, numeric, numeric, text),
	aistudio.delete_model_price(text, text),
	aistudio.create_namespace(text, text),
	aistudio.delete_namespace(text),
	aistudio.create_filter(text, text, jsonb, text, text, text, boolean),
	aistudio.update_filter(bigint, text, text, jsonb, text, text, text, boolean),
	aistudio.delete_filter(bigint),
	aistudio.create_plugin(text, text, text, jsonb, text, text, text, boolean),
	aistudio.update_plugin(bigint, text, text, text, jsonb, text, text, text, boolean),
	aistudio.delete_plugin(bigint),
	aistudio.attach_filter(bigint, bigint, int),
	aistudio.detach_filter(bigint, bigint),
	aistudio.attach_plugin(bigint, bigint, int, boolean),
	aistudio.detach_plugin(bigint, bigint)
	TO aistudio_gateway;

