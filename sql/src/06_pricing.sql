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
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'aistudio_clamp_usage';
COMMENT ON FUNCTION aistudio.clamp_usage(text, bigint, bigint, bigint, bigint) IS 'Token counts made consistent with the vendor''s semantics, and what was clamped (for analytics ingestion)';

CREATE FUNCTION aistudio.model_prices_changed() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'aistudio_model_prices_changed';
COMMENT ON FUNCTION aistudio.model_prices_changed() IS 'Invalidates every backend''s price cache after a change of aistudio.model_prices';

CREATE TRIGGER model_prices_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.model_prices
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.model_prices_changed();

GRANT EXECUTE ON FUNCTION aistudio.cost(text, text, bigint, bigint, bigint, bigint),
	aistudio.pattern_matches(text, text), aistudio.model_allowed(bigint, text)
	TO aistudio_gateway, aistudio_analyst;

