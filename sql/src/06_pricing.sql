-------------------------------------------------------------------------------
-- SECTION pricing (src/pricing.c)
-------------------------------------------------------------------------------
-- Cost of an LLM call from aistudio.model_prices (src/pricing.c keeps a
-- per-backend cache of the table; the statement trigger below invalidates
-- it in every backend when prices change).  Not SECURITY DEFINER: the C
-- code reads only model_prices and depends on no search_path.

-- aistudio.cost: the cost of one call (0 when no price applies).
CREATE FUNCTION aistudio.cost(vendor text, model_name text, prompt_tokens bigint, response_tokens bigint,
							  cache_write_tokens bigint DEFAULT 0, cache_read_tokens bigint DEFAULT 0)
	RETURNS numeric
	LANGUAGE C STRICT STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'aistudio_cost';
COMMENT ON FUNCTION aistudio.cost(text, text, bigint, bigint, bigint, bigint) IS 'Cost of one LLM call from the configured model prices; 0 when no price applies';

-- aistudio.price_event: cost, currency and whether a price applied; used by
-- analytics ingestion for every event.
-- (a named row type, so that ingestion can keep its result in a column)
CREATE TYPE aistudio.event_price AS (cost numeric, currency text, priced boolean);
CREATE FUNCTION aistudio.price_event(vendor text, model_name text, prompt_tokens bigint, response_tokens bigint,
									 cache_write_tokens bigint, cache_read_tokens bigint)
	RETURNS aistudio.event_price
	LANGUAGE C STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'aistudio_price_event';
COMMENT ON FUNCTION aistudio.price_event(text, text, bigint, bigint, bigint, bigint) IS 'Cost, currency and priced flag of one LLM call (for analytics ingestion)';

-- aistudio.clamp_usage: an upstream's token counts made consistent with the
-- vendor's token semantics (negative -> 0; cached reads inside the prompt at
-- most the prompt), and a note of what changed (NULL: nothing); analytics
-- ingestion stores such an event with the clamped counts instead of
-- rejecting it.
CREATE TYPE aistudio.event_usage AS (prompt_tokens bigint, response_tokens bigint, cache_write_tokens bigint,
									 cache_read_tokens bigint, note text);
CREATE FUNCTION aistudio.clamp_usage(vendor text, prompt_tokens bigint, response_tokens bigint,
									 cache_write_tokens bigint, cache_read_tokens bigint)
	RETURNS aistudio.event_usage
	LANGUAGE C STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'aistudio_clamp_usage';
COMMENT ON FUNCTION aistudio.clamp_usage(text, bigint, bigint, bigint, bigint) IS 'Token counts made consistent with the vendor''s semantics, and what was clamped (for analytics ingestion)';

CREATE FUNCTION aistudio.model_prices_changed() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'aistudio_model_prices_changed';
COMMENT ON FUNCTION aistudio.model_prices_changed() IS 'Invalidates every backend''s price cache after a change of aistudio.model_prices';

CREATE TRIGGER model_prices_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.model_prices
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.model_prices_changed();
-- the vendors' token semantics are in the same cache
CREATE TRIGGER vendors_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.vendors
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.model_prices_changed();

-- aistudio.list_vendors(): the vendors and their facts, for the UI, the
-- REST API (GET /api/v1/vendors) and scripts; any signed-in role.
CREATE FUNCTION aistudio.list_vendors()
	RETURNS TABLE (name text, display_name text, wire_format text, auth_header text, key_required boolean,
				   default_endpoint text, default_model text, prompt_includes_cache_reads boolean,
				   description text)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
	PERFORM aistudio.require_gateway_or_role('chat_user', 'list vendors');
	RETURN QUERY
		SELECT v.name, v.display_name, v.wire_format, v.auth_header, v.key_required, v.default_endpoint,
			   v.default_model, v.prompt_includes_cache_reads, v.description
		  FROM aistudio.vendors v ORDER BY v.sort_order, v.name;
END
$fn$;
COMMENT ON FUNCTION aistudio.list_vendors() IS 'The LLM vendors (aistudio.vendors): wire format, how the key is sent, defaults, token semantics';

GRANT EXECUTE ON FUNCTION aistudio.cost(text, text, bigint, bigint, bigint, bigint),
	aistudio.pattern_matches(text, text), aistudio.model_allowed(bigint, text), aistudio.list_vendors()
	TO aistudio_gateway, aistudio_analyst;

