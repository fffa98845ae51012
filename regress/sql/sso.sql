-- sso: single sign-on providers (CRUD by super admins, validation), pending
-- logins (sso_begin / sso_finish: once, 10 minutes), and sso_login (linked
-- identity, link by verified email, provisioning, refusals), whose sessions
-- are the same as a password login's.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

SELECT aistudio.create_user('root@example.com', 'Root', 'root password 0123', 'super_admin') AS root \gset
SELECT aistudio.create_user('ada@example.com', 'Ada', 'admin password 0123', 'admin') AS ada \gset
SELECT aistudio.create_user('dev@example.com', 'Dev', 'dev password 01234', 'developer') AS dev \gset
SELECT aistudio.create_user('chat@Example.com', 'Chat', NULL, 'chat_user') AS chat \gset
SELECT aistudio.create_group('engineering') AS eng \gset
SELECT aistudio.create_group('everyone') AS everyone \gset
SELECT aistudio.set_secret('OKTA_CLIENT_SECRET', 'okta-client-secret-0001') AS okta_secret \gset

--
-- CRUD (super admins only)
--
SET pg_aistudio.acting_user = :'root';
SELECT aistudio.create_sso_provider('okta', 'Okta', 'https://example.okta.com/', 'client-okta',
       client_secret_ref => '$SECRET/OKTA_CLIENT_SECRET', allowed_domains => '{Example.com, example.com , corp.example.org}',
       auto_provision => true, default_role => 'developer', default_group_ids => ARRAY[:everyone, :eng, :eng]::bigint[]) AS okta \gset
SELECT aistudio.create_sso_provider('keycloak', 'Keycloak', 'http://127.0.0.1:8081/realms/main', 'studio') AS kc \gset
SELECT id = :okta AS is_okta, slug, display_name, issuer, client_id, client_secret_ref, scopes, allowed_domains,
       auto_provision, default_role, default_group_ids = ARRAY[:eng, :everyone]::bigint[] AS groups_sorted,
       enabled, linked_users
  FROM aistudio.get_sso_provider(:okta);
SELECT slug, issuer, client_secret_ref, scopes, allowed_domains, auto_provision, default_role, default_group_ids,
       enabled, total_count
  FROM aistudio.list_sso_providers() ORDER BY id;
SELECT slug, total_count FROM aistudio.list_sso_providers(limit_rows => 1, offset_rows => 1);
-- update: NULL = unchanged, '' clears the client secret
SELECT aistudio.update_sso_provider(:kc, display_name => 'Company Keycloak', scopes => 'openid email',
       client_secret_ref => '$SECRET/OKTA_CLIENT_SECRET', enabled => false);
SELECT display_name, scopes, client_secret_ref, enabled, updated_at >= created_at AS touched
  FROM aistudio.get_sso_provider(:kc);
SELECT aistudio.update_sso_provider(:kc, client_secret_ref => '');
SELECT display_name, scopes, client_secret_ref, enabled FROM aistudio.get_sso_provider(:kc);
RESET pg_aistudio.acting_user;

-- admins, developers and chat users may not see or change SSO settings
SELECT pg_temp.try(:'ada', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x')$$) AS admin_create;
SELECT pg_temp.try(:'ada', format('SELECT aistudio.update_sso_provider(%s, enabled => false)', :okta)) AS admin_update;
SELECT pg_temp.try(:'ada', format('SELECT aistudio.delete_sso_provider(%s)', :okta)) AS admin_delete;
SELECT pg_temp.try(:'ada', format('SELECT aistudio.get_sso_provider(%s)', :okta)) AS admin_get;
SELECT pg_temp.try(:'ada', 'SELECT aistudio.list_sso_providers()') AS admin_list;
SELECT pg_temp.try(:'dev', 'SELECT aistudio.list_sso_providers()') AS dev_list;
SELECT pg_temp.try(:'chat', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x')$$) AS chat_create;

--
-- Validation (nothing is written on error)
--
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('Okta!', 'X', 'https://x.example.com', 'x')$$) AS bad_slug;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('-x', 'X', 'https://x.example.com', 'x')$$) AS bad_slug_dash;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider(repeat('a', 64), 'X', 'https://x.example.com', 'x')$$) AS long_slug;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('okta', 'Okta 2', 'https://x.example.com', 'x')$$) AS dup_slug;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider(NULL, 'X', 'https://x.example.com', 'x')$$) AS null_slug;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', ' ', 'https://x.example.com', 'x')$$) AS blank_name;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', repeat('n', 101), 'https://x.example.com', 'x')$$) AS long_name;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'ftp://x.example.com', 'x')$$) AS bad_issuer;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'x.example.com', 'x')$$) AS no_scheme;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'http://idp.example.com', 'x')$$) AS http_remote;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'http://localhost.example.com', 'x')$$) AS http_lookalike;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com/?a=b', 'x')$$) AS issuer_query;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com/#f', 'x')$$) AS issuer_fragment;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://user@x.example.com', 'x')$$) AS issuer_userinfo;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', '')$$) AS empty_client_id;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'a b')$$) AS blank_in_client_id;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', scopes => 'email profile')$$) AS no_openid;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', scopes => 'openid  email')$$) AS double_space;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', scopes => 'openid email"')$$) AS bad_scope_char;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', default_role => 'admin')$$) AS admin_role;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', default_role => 'super_admin')$$) AS super_role;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', client_secret_ref => '$SECRET/NOPE')$$) AS unknown_secret;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', client_secret_ref => 'literal-client-secret-0001')$$) AS literal_secret;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', client_secret_ref => '$SECRET/bad name')$$) AS bad_secret_name;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', default_group_ids => '{999}')$$) AS unknown_group;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', default_group_ids => '{NULL}')$$) AS null_group;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', allowed_domains => '{"@example.com"}')$$) AS bad_domain;
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('x', 'X', 'https://x.example.com', 'x', allowed_domains => '{"a..b"}')$$) AS bad_domain_dots;
SELECT pg_temp.try(:'root', format('SELECT aistudio.update_sso_provider(%s, slug => %L)', :kc, 'okta')) AS update_dup_slug;
SELECT pg_temp.try(:'root', format('SELECT aistudio.update_sso_provider(%s, issuer => %L)', :kc, 'http://10.0.0.1')) AS update_bad_issuer;
SELECT pg_temp.try(:'root', 'SELECT aistudio.update_sso_provider(999, enabled => true)') AS update_unknown;
SELECT pg_temp.try(:'root', 'SELECT aistudio.get_sso_provider(999)') AS get_unknown;
SELECT pg_temp.try(:'root', 'SELECT aistudio.delete_sso_provider(999)') AS delete_unknown;
SELECT pg_temp.try(:'root', 'SELECT aistudio.list_sso_providers(0)') AS bad_page;
-- loopback issuers over http are fine (tests, development)
SELECT pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('lo1', 'L', 'http://localhost:9000', 'x')$$) AS localhost,
       pg_temp.try(:'root', $$SELECT aistudio.create_sso_provider('lo2', 'L', 'http://[::1]/idp/', 'x')$$) AS ipv6_loopback;
SELECT slug, issuer FROM aistudio.sso_providers ORDER BY id;
DELETE FROM aistudio.sso_providers WHERE slug IN ('lo1', 'lo2');

-- a secret in use by a provider cannot be deleted; a deleted group leaves
-- the default groups
SELECT pg_temp.try(:'ada', $$SELECT aistudio.delete_secret('OKTA_CLIENT_SECRET')$$) AS delete_used_secret;
SELECT aistudio.create_group('temporary') AS tmp \gset
SELECT aistudio.update_sso_provider(:kc, default_group_ids => ARRAY[:tmp]::bigint[]);
SELECT aistudio.delete_group(:tmp);
SELECT default_group_ids FROM aistudio.get_sso_provider(:kc);

--
-- Login page options: enabled providers only, by display name
--
SELECT * FROM aistudio.sso_login_options();
SELECT aistudio.update_sso_provider(:kc, enabled => true);
SELECT * FROM aistudio.sso_login_options();

--
-- Pending logins: begin / finish, as the gateway role without acting user
--
SET ROLE aistudio_gateway;
CREATE TEMP TABLE b1 AS SELECT * FROM aistudio.sso_begin('okta', '/#/llms');
SELECT state ~ '^aiso_[0-9a-f]{64}$' AS state_format, nonce ~ '^[0-9a-f]{64}$' AS nonce_format,
       code_verifier ~ '^[0-9a-f]{64}$' AS verifier_format, issuer, client_id, scopes
  FROM b1;
RESET ROLE;
-- only the state's hash is stored
SELECT count(*) AS states, bool_and(s.state_hash = sha256(convert_to(b1.state, 'UTF8'))) AS hashed,
       bool_and(strpos(row_to_json(s)::text, b1.state) = 0) AS no_plaintext_state
  FROM aistudio.sso_states s, b1;
SET ROLE aistudio_gateway;
SELECT f.provider_id = :okta AS is_okta, f.slug, f.issuer, f.client_id, f.client_secret,
       f.nonce = b1.nonce AS same_nonce, f.code_verifier = b1.code_verifier AS same_verifier, f.return_to
  FROM b1, aistudio.sso_finish(b1.state) f;
-- used once
SELECT pg_temp.try('', format('SELECT aistudio.sso_finish(%L)', (SELECT state FROM b1))) AS finish_twice;
SELECT pg_temp.try('', format('SELECT aistudio.sso_finish(%L)', 'aiso_' || repeat('0', 64))) AS finish_unknown;
SELECT pg_temp.try('', $$SELECT aistudio.sso_finish('garbage')$$) AS finish_garbage;
SELECT pg_temp.try('', 'SELECT aistudio.sso_finish(NULL)') AS finish_null;
-- a public client has no secret
SELECT f.slug, f.client_secret IS NULL AS no_secret, f.return_to
  FROM aistudio.sso_begin('keycloak') b, aistudio.sso_finish(b.state) f;
-- return_to must be a local path
SELECT replace(left(r.return_to, 30), chr(10), '\n') AS given, f.return_to AS kept
  FROM unnest(ARRAY['/', '/#/apps/3?x=1', '//evil.example.com', '/\evil.example.com', 'https://evil.example.com',
                    'relative', '/a' || chr(10) || 'b', '/' || repeat('a', 512), NULL]) WITH ORDINALITY AS r(return_to, n),
       LATERAL aistudio.sso_begin('okta', r.return_to) b, LATERAL aistudio.sso_finish(b.state) f
 ORDER BY r.n;
-- unknown or disabled providers
SELECT pg_temp.try('', $$SELECT aistudio.sso_begin('nope')$$) AS begin_unknown;
RESET ROLE;
SELECT aistudio.update_sso_provider(:kc, enabled => false);
SET ROLE aistudio_gateway;
SELECT pg_temp.try('', $$SELECT aistudio.sso_begin('keycloak')$$) AS begin_disabled;
RESET ROLE;
SELECT aistudio.update_sso_provider(:kc, enabled => true);
-- a state expires after 10 minutes; expired states are purged by the next begin
CREATE TEMP TABLE b2 AS SELECT * FROM aistudio.sso_begin('okta');
UPDATE aistudio.sso_states SET created_at = now() - interval '11 minutes';
SELECT pg_temp.try('', format('SELECT aistudio.sso_finish(%L)', (SELECT state FROM b2))) AS finish_expired;
SELECT count(*) AS purged_before FROM aistudio.sso_states;
SELECT count(*) AS rows FROM aistudio.sso_begin('okta');
SELECT count(*) AS purged_after FROM aistudio.sso_states;
DELETE FROM aistudio.sso_states;
-- at most 10000 logins are pending
INSERT INTO aistudio.sso_states (state_hash, provider_id, nonce, code_verifier, return_to)
SELECT sha256(convert_to(i::text, 'UTF8')), :okta, 'n', 'v', '/' FROM generate_series(1, 10000) i;
SELECT pg_temp.try('', $$SELECT aistudio.sso_begin('okta')$$) AS too_many_pending;
DELETE FROM aistudio.sso_states;
-- a deleted provider takes its pending logins with it
CREATE TEMP TABLE b3 AS SELECT * FROM aistudio.sso_begin('keycloak');

--
-- sso_login
--
SET ROLE aistudio_gateway;
-- link by verified email (case-insensitive): the identity is linked
CREATE TEMP TABLE l1 AS
  SELECT * FROM aistudio.sso_login(:okta, 'okta|dev', 'DEV@example.com', true, 'Dev at Okta', '10.1.0.1');
SELECT user_id = :dev AS is_dev, role, session_token ~ '^aiss_[0-9a-f]{64}$' AS session_format,
       csrf_token ~ '^[0-9a-f]{64}$' AS csrf_format,
       expires_at BETWEEN now() + interval '7 days' - interval '1 minute' AND now() + interval '7 days' AS seven_days
  FROM l1;
-- the session works like a password login's
SELECT r.user_id = :dev AS is_dev, r.role,
       r.csrf_hash = encode(sha256(convert_to(l1.csrf_token, 'UTF8')), 'hex') AS csrf_matches
  FROM l1, aistudio.resolve_session(l1.session_token) r;
RESET ROLE;
SELECT i.provider_id = :okta AS okta, i.subject, i.user_id = :dev AS dev, i.email, i.last_login_at IS NOT NULL AS seen
  FROM aistudio.user_identities i;
SELECT s.ip FROM aistudio.sessions s, l1 WHERE s.token_hash = sha256(convert_to(l1.session_token, 'UTF8'));
-- the user's own name and email are not changed by the provider
SELECT email, name, role FROM aistudio.users WHERE id = :dev;

SET ROLE aistudio_gateway;
-- the linked identity logs in again (even if the email changed at the
-- provider or is not verified any more), and the old session ends
CREATE TEMP TABLE l2 AS
  SELECT * FROM aistudio.sso_login(:okta, 'okta|dev', 'dev.renamed@example.com', false, NULL, NULL,
                                   (SELECT session_token FROM l1));
SELECT user_id = :dev AS is_dev, role FROM l2;
SELECT count(*) AS old_session_rows FROM l1, aistudio.resolve_session(l1.session_token);
SELECT count(*) AS new_session_rows FROM l2, aistudio.resolve_session(l2.session_token);
RESET ROLE;
SELECT subject, email FROM aistudio.user_identities ORDER BY subject;

SET ROLE aistudio_gateway;
-- an unverified email is not linked to the existing account
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'okta|ada', 'ada@example.com', false, 'Ada')$$, :okta)) AS unverified_link;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'okta|ada', 'ada@example.com', NULL, 'Ada')$$, :okta)) AS unknown_verified;
-- a verified one links an admin too (the account exists; SSO only proves the email)
SELECT user_id = :ada AS is_ada, role FROM aistudio.sso_login(:okta, 'okta|ada', 'ada@example.com', true, 'Ada');
-- provisioning: a new user with the default role, name and groups
SELECT role, user_id > :chat AS new_user
  FROM aistudio.sso_login(:okta, 'okta|new', 'New.Person@corp.example.org', true, E'New\tPerson', '10.1.0.2');
RESET ROLE;
SELECT u.email, u.name, u.role, u.active, u.password_hash IS NULL AS no_password,
       ARRAY(SELECT g.name FROM aistudio.group_members m JOIN aistudio.groups g ON g.id = m.group_id
              WHERE m.user_id = u.id ORDER BY g.name) AS groups
  FROM aistudio.users u WHERE u.email = 'New.Person@corp.example.org';
SET ROLE aistudio_gateway;
-- the second login of a provisioned identity is the same user
SELECT count(DISTINCT user_id) AS users, count(*) AS logins
  FROM generate_series(1, 2), LATERAL aistudio.sso_login(:okta, 'okta|new', 'new.person@corp.example.org', true, 'x');
-- no name: the email's local part
SELECT role FROM aistudio.sso_login(:okta, 'okta|anon', 'anon@example.com', true, '  ');
RESET ROLE;
SELECT name FROM aistudio.users WHERE email = 'anon@example.com';
SET ROLE aistudio_gateway;
-- provisioning needs a verified email too
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'okta|x', 'unverified@example.com', false, 'X')$$, :okta)) AS unverified_provision;
-- a domain not allowed (the allowed ones are checked for linked identities too)
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'okta|evil', 'evil@evil.example', true, 'Evil')$$, :okta)) AS domain_refused;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'okta|dev', 'dev@example.net', true, 'Dev')$$, :okta)) AS linked_domain_refused;
-- without provisioning, an unknown email has no account
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|stranger', 'stranger@example.com', true, 'S')$$, :kc)) AS no_account;
-- a provider without allowed domains accepts any domain
SELECT user_id = :chat AS is_chat FROM aistudio.sso_login(:kc, 'kc|chat', 'chat@example.COM', true, 'Chat');
-- bad input
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|x', NULL, true, 'X')$$, :kc)) AS null_email;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|x', '', true, 'X')$$, :kc)) AS empty_email;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|x', 'not an email', true, 'X')$$, :kc)) AS bad_email;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, NULL, 'x@example.com', true, 'X')$$, :kc)) AS null_subject;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, repeat('s', 256), 'x@example.com', true, 'X')$$, :kc)) AS long_subject;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|chat', 'chat@example.com', true, 'X', 'not an address')$$, :kc)) AS bad_ip;
SELECT pg_temp.try('', $$SELECT aistudio.sso_login(999, 'kc|chat', 'chat@example.com', true, 'X')$$) AS unknown_provider;
RESET ROLE;
-- a deactivated user is refused, whether linked or matched by email
SELECT aistudio.update_user(:chat, active => false);
SET ROLE aistudio_gateway;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|chat', 'chat@example.com', true, 'Chat')$$, :kc)) AS deactivated_linked;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'okta|chat', 'chat@example.com', true, 'Chat')$$, :okta)) AS deactivated_by_email;
RESET ROLE;
SELECT aistudio.update_user(:chat, active => true);
-- a disabled provider logs nobody in
SELECT aistudio.update_sso_provider(:kc, enabled => false);
SET ROLE aistudio_gateway;
SELECT pg_temp.try('', format($$SELECT aistudio.sso_login(%s, 'kc|chat', 'chat@example.com', true, 'Chat')$$, :kc)) AS disabled_provider;
RESET ROLE;
SELECT aistudio.update_sso_provider(:kc, enabled => true);

-- refused logins changed nothing; the identities and their users
SELECT p.slug, i.subject, u.email, i.email AS identity_email
  FROM aistudio.user_identities i JOIN aistudio.sso_providers p ON p.id = i.provider_id
  JOIN aistudio.users u ON u.id = i.user_id
 ORDER BY p.slug, i.subject;
SELECT slug, linked_users FROM aistudio.list_sso_providers() ORDER BY id;

-- the gateway role may not manage providers directly (no acting user)
SET ROLE aistudio_gateway;
SELECT pg_temp.try('', 'SELECT aistudio.list_sso_providers()') AS gateway_list;
SELECT pg_temp.try('', 'SELECT count(*) FROM aistudio.sso_providers') AS gateway_table;
RESET ROLE;

-- the audit log: provider changes and identity links, never the secret
SELECT action, object_type, count(*)
  FROM aistudio.audit_log WHERE object_type IN ('sso_providers', 'user_identities')
 GROUP BY 1, 2 ORDER BY 2, 1;
SELECT count(*) AS secret_in_audit FROM aistudio.audit_log WHERE changes::text LIKE '%okta-client-secret%';

-- a new issuer unlinks the provider's identities (subjects are per issuer)
SELECT aistudio.update_sso_provider(:kc, issuer => 'https://sso.example.com/realms/main');
SELECT count(*) AS kc_identities FROM aistudio.user_identities WHERE provider_id = :kc;

-- deleting a provider removes its identities and pending logins, not users
SELECT count(*) AS users_before FROM aistudio.users;
SELECT aistudio.delete_sso_provider(:okta);
SELECT (SELECT count(*) FROM aistudio.users) AS users_after,
       (SELECT count(*) FROM aistudio.user_identities WHERE provider_id = :okta) AS okta_identities;
SELECT aistudio.delete_sso_provider(:kc);
SELECT count(*) AS states_left FROM aistudio.sso_states;
-- and the secret is free again
SELECT aistudio.delete_secret('OKTA_CLIENT_SECRET');
