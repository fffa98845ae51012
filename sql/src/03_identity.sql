-------------------------------------------------------------------------------
-- SECTION identity: users, groups, passwords (src/password.c)
-------------------------------------------------------------------------------
-- Users are managed by admins and above under the escalation rules of
-- aistudio.check_role_assignment; groups, memberships and LLM grants by
-- admins and above.  Passwords are scrypt hashes (src/password.c).

-- Internal: scrypt hash of a password (at least 12 characters).
CREATE FUNCTION aistudio.hash_password(password text) RETURNS text
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_hash_password';

-- The id of the active user with this email and password, else NULL.
CREATE FUNCTION aistudio.verify_password(email text, password text) RETURNS bigint
	LANGUAGE C STRICT VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_verify_password';

-- Internal: raise 22023 unless email and name are acceptable (NULL = not given).
CREATE FUNCTION aistudio.check_user_fields(email text, name text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
	IF email IS NOT NULL AND (email !~ '^[^@[:space:]]+@[^@[:space:]]+$' OR length(email) > 254) THEN
		RAISE EXCEPTION 'invalid email address "%"', left(email, 254)
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An email address has the form name@domain, without spaces, and at most 254 characters.';
	END IF;
	IF name IS NOT NULL AND (btrim(name) = '' OR length(name) > 200) THEN
		RAISE EXCEPTION 'invalid user name'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A user name is not empty and has at most 200 characters.';
	END IF;
END
$fn$;

-- Internal: raise 22023 unless name is an acceptable group name.
CREATE FUNCTION aistudio.check_group_name(name text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'group name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF btrim(name) = '' OR length(name) > 128 THEN
		RAISE EXCEPTION 'invalid group name'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A group name is not empty and has at most 128 characters.';
	END IF;
END
$fn$;

CREATE FUNCTION aistudio.create_user(email text, name text, password text DEFAULT NULL,
									 role text DEFAULT 'chat_user') RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	new_id bigint;
BEGIN
	IF create_user.role IS NULL THEN
		RAISE EXCEPTION 'role must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM aistudio.check_role_assignment(NULL, create_user.role);
	IF create_user.email IS NULL OR create_user.name IS NULL THEN
		RAISE EXCEPTION 'email and name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM aistudio.check_user_fields(create_user.email, create_user.name);
	IF EXISTS (SELECT 1 FROM aistudio.users u WHERE lower(u.email) = lower(create_user.email)) THEN
		RAISE EXCEPTION 'user with email "%" already exists', create_user.email
			USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO aistudio.users (email, name, password_hash, role)
	VALUES (create_user.email, create_user.name,
			CASE WHEN create_user.password IS NOT NULL THEN aistudio.hash_password(create_user.password) END,
			create_user.role)
	RETURNING id INTO new_id;
	RETURN new_id;
END
$fn$;
COMMENT ON FUNCTION aistudio.create_user(text, text, text, text) IS 'Create an application user; returns its id';

CREATE FUNCTION aistudio.update_user(user_id bigint, email text DEFAULT NULL, name text DEFAULT NULL,
									 role text DEFAULT NULL, active boolean DEFAULT NULL) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	current_role_name text;
BEGIN
	PERFORM aistudio.require_role('admin', 'manage users');
	SELECT u.role INTO current_role_name FROM aistudio.users u WHERE u.id = update_user.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user % does not exist', update_user.user_id USING ERRCODE = 'no_data_found';
	END IF;
	-- an admin may edit their own email and name; everything else follows
	-- the escalation rules (which also refuse changing one's own role)
	IF aistudio.acting_user_id() IS DISTINCT FROM update_user.user_id
	   OR update_user.role IS DISTINCT FROM current_role_name AND update_user.role IS NOT NULL THEN
		PERFORM aistudio.check_role_assignment(update_user.user_id, coalesce(update_user.role, current_role_name));
	END IF;
	IF update_user.active IS FALSE AND aistudio.acting_user_id() = update_user.user_id THEN
		RAISE EXCEPTION 'permission denied to deactivate one''s own account'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM aistudio.check_user_fields(update_user.email, update_user.name);
	IF update_user.email IS NOT NULL AND EXISTS (
			SELECT 1 FROM aistudio.users u
			 WHERE lower(u.email) = lower(update_user.email) AND u.id <> update_user.user_id) THEN
		RAISE EXCEPTION 'user with email "%" already exists', update_user.email
			USING ERRCODE = 'unique_violation';
	END IF;
	UPDATE aistudio.users u
	   SET email = coalesce(update_user.email, u.email),
		   name = coalesce(update_user.name, u.name),
		   role = coalesce(update_user.role, u.role),
		   active = coalesce(update_user.active, u.active),
		   updated_at = now()
	 WHERE u.id = update_user.user_id;
END
$fn$;

CREATE FUNCTION aistudio.set_password(user_id bigint, password text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	actor bigint;
	target_role text;
BEGIN
	actor := aistudio.acting_user_id();		-- NULL for a DBA
	IF actor IS DISTINCT FROM set_password.user_id THEN
		PERFORM aistudio.require_role('admin', 'set the password of another user');
	END IF;
	SELECT u.role INTO target_role FROM aistudio.users u WHERE u.id = set_password.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user % does not exist', set_password.user_id USING ERRCODE = 'no_data_found';
	END IF;
	IF actor IS DISTINCT FROM set_password.user_id THEN
		PERFORM aistudio.check_role_assignment(set_password.user_id, target_role);
	END IF;
	IF set_password.password IS NULL THEN
		RAISE EXCEPTION 'password must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	UPDATE aistudio.users u
	   SET password_hash = aistudio.hash_password(set_password.password), updated_at = now()
	 WHERE u.id = set_password.user_id;
END
$fn$;
COMMENT ON FUNCTION aistudio.set_password(bigint, text) IS 'Set a user''s password (their own, or as an admin another''s)';

CREATE FUNCTION aistudio.delete_user(user_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	target_role text;
	owned text;
BEGIN
	PERFORM aistudio.require_role('admin', 'manage users');
	SELECT u.role INTO target_role FROM aistudio.users u WHERE u.id = delete_user.user_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user % does not exist', delete_user.user_id USING ERRCODE = 'no_data_found';
	END IF;
	IF aistudio.acting_user_id() = delete_user.user_id THEN
		RAISE EXCEPTION 'permission denied to delete one''s own account'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM aistudio.check_role_assignment(delete_user.user_id, target_role);
	SELECT string_agg(format('"%s"', a.name), ', ' ORDER BY a.name) INTO owned
	  FROM aistudio.apps a WHERE a.owner_id = delete_user.user_id;
	IF owned IS NOT NULL THEN
		RAISE EXCEPTION 'user % still owns apps', delete_user.user_id
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = format('The user owns the apps %s.', owned),
				  HINT = 'Delete these apps or give them another owner first.';
	END IF;
	DELETE FROM aistudio.users u WHERE u.id = delete_user.user_id;
END
$fn$;

CREATE FUNCTION aistudio.create_group(name text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
DECLARE
	new_id bigint;
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	PERFORM aistudio.check_group_name(create_group.name);
	IF EXISTS (SELECT 1 FROM aistudio.groups g WHERE g.name = create_group.name) THEN
		RAISE EXCEPTION 'group "%" already exists', create_group.name USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO aistudio.groups (name) VALUES (create_group.name) RETURNING id INTO new_id;
	RETURN new_id;
END
$fn$;

CREATE FUNCTION aistudio.rename_group(group_id bigint, name text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	PERFORM aistudio.check_group_name(rename_group.name);
	PERFORM 1 FROM aistudio.groups g WHERE g.id = rename_group.group_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'group % does not exist', rename_group.group_id USING ERRCODE = 'no_data_found';
	END IF;
	IF EXISTS (SELECT 1 FROM aistudio.groups g
				WHERE g.name = rename_group.name AND g.id <> rename_group.group_id) THEN
		RAISE EXCEPTION 'group "%" already exists', rename_group.name USING ERRCODE = 'unique_violation';
	END IF;
	UPDATE aistudio.groups g SET name = rename_group.name WHERE g.id = rename_group.group_id;
END
$fn$;

CREATE FUNCTION aistudio.delete_group(group_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	DELETE FROM aistudio.groups g WHERE g.id = delete_group.group_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'group % does not exist', delete_group.group_id USING ERRCODE = 'no_data_found';
	END IF;
END
$fn$;

-- Internal: raise P0002 unless the user (when given), group and LLM (when given) exist.
CREATE FUNCTION aistudio.check_group_refs(group_id bigint, user_id bigint, llm_id bigint) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	IF NOT EXISTS (SELECT 1 FROM aistudio.groups g WHERE g.id = check_group_refs.group_id) THEN
		RAISE EXCEPTION 'group % does not exist', check_group_refs.group_id USING ERRCODE = 'no_data_found';
	END IF;
	IF check_group_refs.user_id IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM aistudio.users u WHERE u.id = check_group_refs.user_id) THEN
		RAISE EXCEPTION 'user % does not exist', check_group_refs.user_id USING ERRCODE = 'no_data_found';
	END IF;
	IF check_group_refs.llm_id IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM aistudio.llms l WHERE l.id = check_group_refs.llm_id) THEN
		RAISE EXCEPTION 'LLM % does not exist', check_group_refs.llm_id USING ERRCODE = 'no_data_found';
	END IF;
END
$fn$;

CREATE FUNCTION aistudio.add_user_to_group(user_id bigint, group_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	PERFORM aistudio.check_group_refs(add_user_to_group.group_id, add_user_to_group.user_id, NULL);
	INSERT INTO aistudio.group_members (group_id, user_id)
	VALUES (add_user_to_group.group_id, add_user_to_group.user_id)
	ON CONFLICT DO NOTHING;
END
$fn$;

CREATE FUNCTION aistudio.remove_user_from_group(user_id bigint, group_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	PERFORM aistudio.check_group_refs(remove_user_from_group.group_id, remove_user_from_group.user_id, NULL);
	DELETE FROM aistudio.group_members m
	 WHERE m.group_id = remove_user_from_group.group_id AND m.user_id = remove_user_from_group.user_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'user % is not a member of group %',
			remove_user_from_group.user_id, remove_user_from_group.group_id
			USING ERRCODE = 'no_data_found';
	END IF;
END
$fn$;

CREATE FUNCTION aistudio.grant_llm_to_group(group_id bigint, llm_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	PERFORM aistudio.check_group_refs(grant_llm_to_group.group_id, NULL, grant_llm_to_group.llm_id);
	INSERT INTO aistudio.group_llms (group_id, llm_id)
	VALUES (grant_llm_to_group.group_id, grant_llm_to_group.llm_id)
	ON CONFLICT DO NOTHING;
END
$fn$;

CREATE FUNCTION aistudio.revoke_llm_from_group(group_id bigint, llm_id bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
#variable_conflict use_column
BEGIN
	PERFORM aistudio.require_role('admin', 'manage groups');
	PERFORM aistudio.check_group_refs(revoke_llm_from_group.group_id, NULL, revoke_llm_from_group.llm_id);
	DELETE FROM aistudio.group_llms g
	 WHERE g.group_id = revoke_llm_from_group.group_id AND g.llm_id = revoke_llm_from_group.llm_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'LLM % is not granted to group %',
			revoke_llm_from_group.llm_id, revoke_llm_from_group.group_id
			USING ERRCODE = 'no_data_found';
	END IF;
END
$fn$;

GRANT EXECUTE ON FUNCTION
	aistudio.verify_password(text, text),
	aistudio.create_user(text, text, text, text), aistudio.update_user(bigint, text, text, text, boolean),
	aistudio.set_password(bigint, text), aistudio.delete_user(bigint),
	aistudio.create_group(text), aistudio.rename_group(bigint, text), aistudio.delete_group(bigint),
	aistudio.add_user_to_group(bigint, bigint), aistudio.remove_user_from_group(bigint, bigint),
	aistudio.grant_llm_to_group(bigint, bigint), aistudio.revoke_llm_from_group(bigint, bigint)
	TO aistudio_gateway;

