-- patterns: the stored-pattern language (PCRE2, searched like ~; one C
-- module shared with gatewayd): the table of regress/fixtures/patterns.tsv
-- through aistudio.pattern_matches and aistudio.model_allowed (the e2e test
-- gateway-patterns checks the same table through the gateway), validation
-- of allowed_models and regex filter patterns (22023, the reason named),
-- and the match limit (counted as no match, with a warning).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql
SET regress.err_detail = on;	-- pg_temp.err() shows the detail too

-- the shared table (one line a row; CSV with impossible delimiter and
-- quote characters keeps backslashes as they are)
\set fixture :abs_srcdir '/fixtures/patterns.tsv'
CREATE TEMP TABLE lines (n serial, line text);
COPY lines (line) FROM :'fixture' WITH (FORMAT csv, DELIMITER E'\x02', QUOTE E'\x01');
CREATE TEMP TABLE cases AS
SELECT n, split_part(line, E'\t', 1) AS pattern, split_part(line, E'\t', 2) AS model,
       split_part(line, E'\t', 3) = '1' AS allowed
  FROM lines WHERE line !~ '^#' AND line <> '';

SELECT count(*) >= 20 AS enough_rows FROM cases;

-- one LLM per pattern
SET client_min_messages = error;	-- the catastrophic rows warn (below)
CREATE TEMP TABLE llm_of AS
SELECT p.pattern, aistudio.create_llm('pat ' || row_number() OVER (ORDER BY p.pattern), 'openai',
                                      'https://api.example.com/v1', allowed_models => ARRAY[p.pattern]) AS llm_id
  FROM (SELECT DISTINCT pattern FROM cases) p;

-- every row: pattern_matches and model_allowed agree with the table
SELECT c.pattern, c.model, c.allowed,
       aistudio.pattern_matches(c.pattern, c.model) AS pattern_matches,
       aistudio.model_allowed(l.llm_id, c.model) AS model_allowed
  FROM cases c JOIN llm_of l USING (pattern)
 WHERE aistudio.pattern_matches(c.pattern, c.model) IS DISTINCT FROM c.allowed
    OR aistudio.model_allowed(l.llm_id, c.model) IS DISTINCT FROM c.allowed;
SELECT count(*) AS rows_checked FROM cases;
RESET client_min_messages;

-- a few rows in full, for the reader
SELECT pattern, model, aistudio.pattern_matches(pattern, model) AS matches
  FROM (VALUES ('(?i)^GPT-4O$', 'gpt-4o'), ('^gpt-4o\d?$', 'gpt-4o1'), ('^gpt-4o\d?$', 'gpt-4od'),
               ('^gpt-(?!4o-mini)', 'gpt-4o-mini'), ('gpt-4o', 'my-gpt-4o-mini')) v(pattern, model);

-- the match limit: counted as no match, with a warning
SELECT aistudio.pattern_matches('^(a|aa)+$', repeat('a', 60) || 'b') AS catastrophic;

-- no allowed_models: any model
SELECT aistudio.create_llm('any model', 'openai', 'https://api.example.com/v1') AS any_llm \gset
SELECT aistudio.model_allowed(:any_llm, 'whatever');
SELECT pg_temp.err($$SELECT aistudio.model_allowed(999999, 'gpt-4o')$$);

-- validation: 22023, the element and PCRE2's reason named
SELECT pg_temp.err($$SELECT aistudio.create_llm('bad 1', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY['gpt-4o', 'gpt-(4'])$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('bad 2', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY['*'])$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('bad 3', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY['[z-a]'])$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('bad 4', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY['(?<!a+)b'])$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('bad 5', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY[repeat('a', 1025)])$$) LIKE '22023: invalid regular expression in allowed_models[1]: the pattern is longer than 1024 bytes%' AS too_long;
SELECT pg_temp.err($$SELECT aistudio.update_llm((SELECT min(llm_id) FROM llm_of), allowed_models => ARRAY['ok', '\C'])$$);
SELECT pg_temp.err($$SELECT aistudio.pattern_matches('(', 'x')$$);
-- a pattern PostgreSQL's ~ rejects but PCRE2 accepts, and the reverse
SELECT pg_temp.err($$SELECT aistudio.create_llm('lookbehind', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY['(?<=gpt-)4o'])$$);
SELECT pg_temp.err($$SELECT aistudio.create_llm('pg word start', 'openai', 'https://api.example.com/v1', allowed_models => ARRAY['\mgpt'])$$);
-- regex filters use the same language
SELECT pg_temp.err($$SELECT aistudio.create_filter('f1', 'regex', config => '{"patterns": ["(?i)secret\\d+", "a{2,1}"]}')$$);
SELECT pg_temp.err($$SELECT aistudio.create_filter('f2', 'regex', config => '{"patterns": ["(?i)secret\\d+"]}')$$);
