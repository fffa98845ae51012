-- ratelimits: rate_limit_rpm / rate_limit_tpm of apps and LLMs — set by
-- create_/update_, checked (1..1000000000, 22023), cleared by
-- clear_app_rate_limits / clear_llm_rate_limits, returned by get_/list_,
-- carried by the snapshot (and, for LLMs, its checksum).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- has(ns, hex): does the snapshot of ns contain these bytes?
CREATE FUNCTION pg_temp.has(ns text, hex text) RETURNS boolean LANGUAGE sql
	AS $$ SELECT position(decode(hex, 'hex') IN aistudio.snapshot(ns)) > 0 $$;

SELECT aistudio.create_user('admin@example.com', 'Admin', role => 'admin') AS admin \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', role => 'developer') AS dev \gset
SELECT aistudio.create_group('devs') AS g \gset
SELECT aistudio.add_user_to_group(:dev, :g);

-- create: limits given, or none (NULL)
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com', rate_limit_rpm => 5000,
						   rate_limit_tpm => 777777) AS gpt \gset
SELECT aistudio.create_llm('Plain', 'openai', 'https://api.openai.com') AS plain \gset
SELECT aistudio.grant_llm_to_group(:g, :gpt);
SELECT aistudio.create_app('limited', :dev, ARRAY[:gpt]::bigint[], rate_limit_rpm => 123456,
						   rate_limit_tpm => 654321) AS app \gset
SELECT aistudio.create_app('free', :dev, ARRAY[:gpt]::bigint[]) AS free \gset
SELECT name, rate_limit_rpm, rate_limit_tpm FROM aistudio.llms ORDER BY id;
SELECT name, rate_limit_rpm, rate_limit_tpm FROM aistudio.apps ORDER BY id;

-- bad values: 22023 with the field named, nothing written
SET regress.err_detail = on;
SELECT pg_temp.err($$SELECT aistudio.create_llm('Bad', 'openai', 'https://x.example', rate_limit_rpm => 0)$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('Bad', 'openai', 'https://x.example', rate_limit_tpm => -1)$$);
SELECT pg_temp.err($$SELECT aistudio.create_app('bad', $$ || :dev || $$, '{}', rate_limit_rpm => 1000000001)$$);
SELECT pg_temp.err($$SELECT aistudio.create_app('bad', $$ || :dev || $$, '{}', rate_limit_tpm => 0)$$);
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, rate_limit_rpm => 0)', :app));
SELECT pg_temp.err(format('SELECT aistudio.update_app(%s, rate_limit_tpm => 10000000000)', :app));
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, rate_limit_rpm => -5)', :gpt));
SELECT pg_temp.err(format('SELECT aistudio.update_llm(%s, rate_limit_tpm => 1000000001)', :gpt));
RESET regress.err_detail;
SELECT count(*) AS llms, (SELECT count(*) FROM aistudio.apps) AS apps FROM aistudio.llms;
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.apps WHERE id = :app;

-- the bounds themselves are accepted
SELECT aistudio.update_llm(:plain, rate_limit_rpm => 1, rate_limit_tpm => 1000000000);
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.llms WHERE id = :plain;

-- update: NULL leaves a limit as it is, a value replaces it
SELECT aistudio.update_app(:app, description => 'x');
SELECT aistudio.update_app(:app, rate_limit_rpm => 60);
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.apps WHERE id = :app;
SELECT aistudio.update_llm(:gpt, rate_limit_tpm => 100);
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.llms WHERE id = :gpt;

-- get_ and list_ return them
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.get_app(:app);
SELECT name, rate_limit_rpm, rate_limit_tpm FROM aistudio.list_apps() ORDER BY id;
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.get_llm(:gpt);
SELECT name, rate_limit_rpm, rate_limit_tpm FROM aistudio.list_llms() ORDER BY id;

-- the snapshot carries them (protobuf: Llm fields 21/22, App fields 10/11,
-- as tag + varint); a changed LLM limit changes the checksum (apps are
-- not in the checksum input)
SELECT aistudio.update_llm(:gpt, rate_limit_rpm => 5000, rate_limit_tpm => 777777);
SELECT aistudio.update_app(:app, rate_limit_rpm => 123456);
SELECT pg_temp.has('', 'a8018827') AS llm_rpm, pg_temp.has('', 'b001b1bc2f') AS llm_tpm,
	   pg_temp.has('', '50c0c407') AS app_rpm, pg_temp.has('', '58f1f727') AS app_tpm;
SELECT aistudio.snapshot_checksum() AS sum_before \gset
SELECT aistudio.update_llm(:gpt, rate_limit_rpm => 5001);
SELECT aistudio.snapshot_checksum() <> :'sum_before' AS llm_limit_in_checksum, pg_temp.has('', 'a8018827') AS old_rpm_gone;

-- clear: one limit or both; a developer clears their own app's
SELECT aistudio.clear_llm_rate_limits(:gpt, tpm => false);
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.llms WHERE id = :gpt;
SELECT aistudio.clear_llm_rate_limits(:gpt);
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.llms WHERE id = :gpt;
SELECT pg_temp.try(:'dev', format('SELECT aistudio.clear_app_rate_limits(%s, rpm => false)', :app));
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.apps WHERE id = :app;
SELECT pg_temp.try(:'dev', format('SELECT aistudio.clear_app_rate_limits(%s)', :app));
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.apps WHERE id = :app;
SELECT pg_temp.has('', '50c0c407') AS app_rpm_gone;

-- who may: developers set their own app's limits, not an LLM's
SELECT pg_temp.try(:'dev', format('SELECT aistudio.update_app(%s, rate_limit_rpm => 10)', :app));
SELECT pg_temp.try(:'dev', format('SELECT aistudio.update_llm(%s, rate_limit_rpm => 10)', :gpt));
SELECT pg_temp.try(:'dev', format('SELECT aistudio.clear_llm_rate_limits(%s)', :plain));
SELECT pg_temp.err('SELECT aistudio.clear_llm_rate_limits(999999)');
SELECT pg_temp.err('SELECT aistudio.clear_app_rate_limits(999999)');
SELECT rate_limit_rpm FROM aistudio.apps WHERE id = :app;
SELECT rate_limit_rpm, rate_limit_tpm FROM aistudio.llms WHERE id = :plain;
