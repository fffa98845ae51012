-- vendors: the one list of LLM vendors (aistudio.vendors) and what depends
-- on it — LLM and price validation (foreign keys, the hint listing them),
-- list_vendors() for the UI and the REST API, the token semantics pricing
-- reads from it (the price cache invalidated by a change of the table),
-- the vendors in every snapshot, and money in exact 10^-9 units (at most 9
-- decimal places for prices and budgets).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT name, display_name, wire_format, auth_header, key_required, prompt_includes_cache_reads
  FROM aistudio.list_vendors();
SELECT count(*) AS described FROM aistudio.list_vendors() WHERE default_endpoint <> '' AND description <> '';

-- an unknown vendor is refused with the list in the hint
SELECT pg_temp.errd($$SELECT aistudio.create_llm('x', 'mistral', 'https://api.mistral.ai/v1')$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('mistral', 'm', 1, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.cost('mistral', 'm', 1, 1)$$);
SELECT pg_temp.err($$INSERT INTO aistudio.llms (name, slug, vendor, api_endpoint) VALUES ('y', 'y', 'mistral', 'https://x')$$);

-- a DBA adds a vendor that speaks an existing wire format: it is usable at once
INSERT INTO aistudio.vendors (name, display_name, wire_format, auth_header, key_required, default_endpoint,
							  prompt_includes_cache_reads)
VALUES ('mistral', 'Mistral', 'openai', 'authorization', true, 'https://api.mistral.ai/v1', true);
SELECT aistudio.create_llm('Mistral Large', 'mistral', 'https://api.mistral.ai/v1') > 0 AS created;
SELECT aistudio.set_model_price('mistral', 'mistral-large', 2, 6) > 0 AS priced;
SELECT aistudio.cost('mistral', 'mistral-large', 1000000, 0, 0, 200000) AS cached_reads_inside_prompt;
SELECT position(convert_to('mistral', 'UTF8') IN aistudio.snapshot()) > 0 AS in_snapshot;
SELECT aistudio.snapshot_checksum() AS sum_before \gset
-- token semantics come from the table; the price cache notices the change
UPDATE aistudio.vendors SET prompt_includes_cache_reads = false WHERE name = 'mistral';
SELECT aistudio.cost('mistral', 'mistral-large', 1000000, 0, 0, 200000) AS cached_reads_apart;
SELECT aistudio.snapshot_checksum() <> :'sum_before' AS checksum_changed;
SELECT * FROM aistudio.clamp_usage('mistral', 100, 0, 0, 500);
-- a wire format gatewayd does not speak is refused
SELECT pg_temp.err($$INSERT INTO aistudio.vendors (name, display_name, wire_format, auth_header, key_required,
							  default_endpoint, prompt_includes_cache_reads)
					  VALUES ('bedrock', 'Bedrock', 'bedrock', 'authorization', true, 'https://x', true)$$);
-- a vendor in use cannot go
SELECT pg_temp.err($$DELETE FROM aistudio.vendors WHERE name = 'mistral'$$);

-- money: at most 9 decimal places, at most 9223372036.854775807
SELECT pg_temp.errd($$SELECT aistudio.set_model_price('openai', 'p1', 0.0000000001, 1)$$);
SELECT pg_temp.err($$SELECT aistudio.set_model_price('openai', 'p2', 0.000000001, 1.123456789)$$);
SELECT pg_temp.errd($$SELECT aistudio.set_model_price('openai', 'p3', 1, 1, cache_read_per_mtok => 9223372037)$$);
SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer') AS dev_id \gset
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, monthly_budget => 0.0000000005)', 'a1', :dev_id, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, monthly_budget => 10000000000)', 'a2', :dev_id, '{}'));
SELECT pg_temp.err(format('SELECT aistudio.create_app(%L, %s, %L, monthly_budget => 0.000000001)', 'a3', :dev_id, '{}'));
SELECT pg_temp.err($$SELECT aistudio.update_llm((SELECT min(id) FROM aistudio.llms), monthly_budget => 1.0000000001)$$);
SELECT pg_temp.err($$SELECT aistudio.update_llm((SELECT min(id) FROM aistudio.llms), monthly_budget => 123.456789012)$$);

-- who may list vendors: everyone signed in, the gateway, analysts
SELECT r, has_function_privilege(r, 'aistudio.list_vendors()', 'EXECUTE') AS can_list
  FROM unnest(ARRAY['aistudio_gateway', 'aistudio_analyst', 'public']) r;
SELECT aistudio.create_user('chat@example.com', 'Chat') AS chat_id \gset
SELECT pg_temp.try(:'chat_id', 'SELECT count(*) FROM aistudio.list_vendors()') AS chat_user_lists;
