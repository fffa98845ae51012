-- identity: users, passwords (scrypt), groups, memberships and LLM grants,
-- managed by a DBA (superuser without acting user).  Permissions per role
-- are in rbac.sql.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/fixtures/setup.sql

-- users
SELECT aistudio.create_user('Alice@Example.com', 'Alice', 'correct horse battery', 'admin') AS alice \gset
SELECT aistudio.create_user('bob@example.com', 'Bob') AS bob \gset
SELECT aistudio.create_user(email => 'carol@example.com', name => 'Carol', password => 'carol-password-1', role => 'developer') AS carol \gset
SELECT email, name, role, active, password_hash IS NOT NULL AS has_password
  FROM aistudio.users ORDER BY id;

-- the stored form of a password
SELECT password_hash ~ '^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$' AS scrypt_format,
       position('horse' IN password_hash) = 0 AS no_plaintext
  FROM aistudio.users WHERE id = :alice;
-- a fresh salt every time
SELECT aistudio.hash_password('same password 1') <> aistudio.hash_password('same password 1') AS salted;

-- verify_password: the user id or NULL
SELECT aistudio.verify_password('Alice@Example.com', 'correct horse battery') = :alice AS right_password;
SELECT aistudio.verify_password('alice@EXAMPLE.com', 'correct horse battery') = :alice AS email_case_insensitive;
SELECT aistudio.verify_password('Alice@Example.com', 'correct horse batterY') IS NULL AS wrong_password;
SELECT aistudio.verify_password('Alice@Example.com', '') IS NULL AS empty_password;
SELECT aistudio.verify_password('nobody@example.com', 'correct horse battery') IS NULL AS unknown_email;
SELECT aistudio.verify_password('bob@example.com', 'anything at all') IS NULL AS no_password_set;
SELECT aistudio.verify_password(NULL, 'correct horse battery') IS NULL AS null_email;
-- a corrupt stored hash never matches
UPDATE aistudio.users SET password_hash = '$scrypt$ln=14,r=8,p=1$bad' WHERE id = :carol;
SELECT aistudio.verify_password('carol@example.com', 'carol-password-1') IS NULL AS corrupt_hash;

-- password rules
SELECT pg_temp.err($$SELECT aistudio.create_user('dave@example.com', 'Dave', 'short-pw-11')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('dave@example.com', 'Dave', '')$$);
SELECT pg_temp.err(format('SELECT aistudio.create_user(%L, %L, %L)', 'dave@example.com', 'Dave', repeat('p', 1025)));
SELECT aistudio.create_user('dave@example.com', 'Dave', 'exactly-12ch') IS NOT NULL AS twelve_is_enough;
SELECT aistudio.verify_password('dave@example.com', 'exactly-12ch') IS NOT NULL AS dave_verified;

-- user errors
SELECT pg_temp.err($$SELECT aistudio.create_user('ALICE@example.COM', 'Alice again')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('not-an-email', 'X')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('two@@example.com', 'X')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('sp ace@example.com', 'X')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', '  ')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.create_user(NULL, 'X')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', 'X', role => 'root')$$);
SELECT pg_temp.err($$SELECT aistudio.create_user('x@example.com', 'X', role => NULL)$$);
SELECT count(*) AS users FROM aistudio.users;

-- update_user: NULL leaves a field unchanged
SELECT aistudio.update_user(:bob, name => 'Robert');
SELECT aistudio.update_user(:bob, email => 'Robert@Example.com', role => 'developer');
SELECT email, name, role, active FROM aistudio.users WHERE id = :bob;
SELECT aistudio.update_user(:bob, active => false);
SELECT active, updated_at >= created_at AS touched FROM aistudio.users WHERE id = :bob;
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, email => %L)', :bob, 'alice@example.com'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, email => %L)', :bob, 'nope'));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, name => %L)', :bob, ''));
SELECT pg_temp.err(format('SELECT aistudio.update_user(%s, role => %L)', :bob, 'boss'));
SELECT pg_temp.err($$SELECT aistudio.update_user(999999, name => 'X')$$);
-- the own email again (other case) is fine
SELECT aistudio.update_user(:bob, email => 'robert@example.com');

-- set_password
SELECT aistudio.set_password(:bob, 'a new password for bob');
SELECT aistudio.verify_password('robert@example.com', 'a new password for bob') IS NULL AS inactive_cannot_log_in;
SELECT aistudio.update_user(:bob, active => true);
SELECT aistudio.verify_password('robert@example.com', 'a new password for bob') = :bob AS active_can_log_in;
SELECT aistudio.set_password(:alice, 'another horse battery');
SELECT aistudio.verify_password('alice@example.com', 'correct horse battery') IS NULL AS old_password_fails,
       aistudio.verify_password('alice@example.com', 'another horse battery') = :alice AS new_password_works;
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, %L)', :bob, 'too short'));
SELECT pg_temp.err(format('SELECT aistudio.set_password(%s, NULL)', :bob));
SELECT pg_temp.err($$SELECT aistudio.set_password(999999, 'long enough password')$$);

-- groups
SELECT aistudio.create_group('Engineering') AS eng \gset
SELECT aistudio.create_group('Sales') AS sales \gset
SELECT pg_temp.err($$SELECT aistudio.create_group('Engineering')$$);
SELECT pg_temp.err($$SELECT aistudio.create_group('')$$);
SELECT pg_temp.err($$SELECT aistudio.create_group(NULL)$$);
SELECT pg_temp.err($$SELECT aistudio.create_group(repeat('g', 129))$$);
SELECT aistudio.rename_group(:sales, 'Sales & Marketing');
SELECT aistudio.rename_group(:sales, 'Sales & Marketing');
SELECT pg_temp.err(format('SELECT aistudio.rename_group(%s, %L)', :sales, 'Engineering'));
SELECT pg_temp.err($$SELECT aistudio.rename_group(999999, 'X')$$);
SELECT pg_temp.err($$SELECT aistudio.delete_group(999999)$$);
SELECT name FROM aistudio.groups ORDER BY name;

-- memberships
SELECT aistudio.add_user_to_group(:alice, :eng);
SELECT aistudio.add_user_to_group(:bob, :eng);
SELECT aistudio.add_user_to_group(:bob, :eng);	-- already a member: no-op
SELECT aistudio.add_user_to_group(:bob, :sales);
SELECT pg_temp.err(format('SELECT aistudio.add_user_to_group(999999, %s)', :eng));
SELECT pg_temp.err(format('SELECT aistudio.add_user_to_group(%s, 999999)', :bob));
SELECT g.name, u.name AS member FROM aistudio.group_members m
  JOIN aistudio.groups g ON g.id = m.group_id JOIN aistudio.users u ON u.id = m.user_id
 ORDER BY 1, 2;
SELECT aistudio.remove_user_from_group(:bob, :sales);
SELECT pg_temp.err(format('SELECT aistudio.remove_user_from_group(%s, %s)', :bob, :sales));
SELECT pg_temp.err(format('SELECT aistudio.remove_user_from_group(999999, %s)', :sales));

-- LLM grants
SELECT aistudio.create_llm('GPT', 'openai', 'https://api.openai.com') AS gpt \gset
SELECT aistudio.grant_llm_to_group(:eng, :gpt);
SELECT aistudio.grant_llm_to_group(:eng, :gpt);	-- already granted: no-op
SELECT pg_temp.err(format('SELECT aistudio.grant_llm_to_group(%s, 999999)', :eng));
SELECT pg_temp.err(format('SELECT aistudio.grant_llm_to_group(999999, %s)', :gpt));
SELECT aistudio.can_use_llm(:bob, :gpt) AS bob_may, aistudio.can_use_llm(:carol, :gpt) AS carol_may;
SELECT aistudio.revoke_llm_from_group(:eng, :gpt);
SELECT pg_temp.err(format('SELECT aistudio.revoke_llm_from_group(%s, %s)', :eng, :gpt));
SELECT aistudio.can_use_llm(:bob, :gpt) AS bob_may_after_revoke;

-- deleting a group removes its memberships and grants
SELECT aistudio.grant_llm_to_group(:eng, :gpt);
SELECT aistudio.delete_group(:eng);
SELECT count(*) AS memberships FROM aistudio.group_members;
SELECT count(*) AS grants FROM aistudio.group_llms;

-- deleting users
INSERT INTO aistudio.apps (name, owner_id) VALUES ('Carol App', :carol), ('Carol Bot', :carol);
SELECT pg_temp.err(format('SELECT aistudio.delete_user(%s)', :carol));
DELETE FROM aistudio.apps WHERE owner_id = :carol;
SELECT aistudio.add_user_to_group(:carol, :sales);
SELECT aistudio.delete_user(:carol);
SELECT count(*) AS carol_rows FROM aistudio.users WHERE id = :carol;
SELECT count(*) AS memberships FROM aistudio.group_members;
SELECT pg_temp.err(format('SELECT aistudio.delete_user(%s)', :carol));

-- who may execute what
SELECT p.proname,
       has_function_privilege('aistudio_gateway', p.oid, 'EXECUTE') AS gateway,
       has_function_privilege('aistudio_analyst', p.oid, 'EXECUTE') AS analyst
  FROM pg_proc p
 WHERE p.pronamespace = 'aistudio'::regnamespace
   AND p.proname IN ('hash_password', 'verify_password', 'check_user_fields', 'check_group_name',
                     'check_group_refs', 'create_user', 'update_user', 'set_password', 'delete_user',
                     'create_group', 'rename_group', 'delete_group', 'add_user_to_group',
                     'remove_user_from_group', 'grant_llm_to_group', 'revoke_llm_from_group')
 ORDER BY 1;
