/*-------------------------------------------------------------------------
 * src/rbac.c
 *		Who is acting, and may they?  Resolves the acting user of the current
 *		transaction and decides every permission question of the SQL API.
 *
 * The acting user is the application user named by the GUC
 * pg_aistudio.acting_user (gatewayd's admin API sets it per transaction with
 * SET LOCAL).  When it is empty, a database superuser acts as a DBA and may
 * do anything; any other database role without an acting user is refused.
 * Roles are ranked chat_user < developer < admin < super_admin < DBA.
 *
 * Who may act as whom.  The GUC is PGC_USERSET: any session can set it to
 * any id, so the value alone proves nothing.  It is honoured only for a
 * database superuser or a role with the privileges of aistudio_gateway (the
 * role gatewayd logs in as; gatewayd authenticates the application user
 * before naming it).  For any other role a non-empty value is refused with
 * 42501 by every check here, and the audit log records no actor for it
 * (RbacActingUserId).  The role tested is the session's role outside
 * SECURITY DEFINER functions (GetOuterUserId: SET ROLE and SET SESSION
 * AUTHORIZATION count, the owner of the function being run does not).
 * What the other roles reach anyway: EXECUTE on every function is revoked
 * from PUBLIC, and aistudio_analyst executes only functions that consult no
 * acting user (cost, pattern_matches, model_allowed, budget_status,
 * llm_budget_status, budget_period); the check is what stops a role a DBA
 * granted more (EXECUTE on an API function, DML on a configuration table)
 * from borrowing an application user's rights or name.
 *
 * Every function here raises SQLSTATE 42501 (insufficient_privilege) when
 * the answer is no; callers need not check return values.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "aistudio.h"

PG_FUNCTION_INFO_V1(aistudio_acting_user_id);
PG_FUNCTION_INFO_V1(aistudio_acting_role);
PG_FUNCTION_INFO_V1(aistudio_require_role);
PG_FUNCTION_INFO_V1(aistudio_check_role_assignment);
PG_FUNCTION_INFO_V1(aistudio_check_app_access);
PG_FUNCTION_INFO_V1(aistudio_check_llm_grants);
PG_FUNCTION_INFO_V1(aistudio_can_use_llm);

static const char *const role_names[] = {
	[AISTUDIO_ROLE_NONE] = "none",
	[AISTUDIO_ROLE_CHAT_USER] = "chat_user",
	[AISTUDIO_ROLE_DEVELOPER] = "developer",
	[AISTUDIO_ROLE_ADMIN] = "admin",
	[AISTUDIO_ROLE_SUPER_ADMIN] = "super_admin",
	[AISTUDIO_ROLE_DBA] = "dba",
};

AistudioRole
RbacParseRole(const char *name)
{
	for (int r = AISTUDIO_ROLE_CHAT_USER; r <= AISTUDIO_ROLE_SUPER_ADMIN; r++)
		if (strcmp(name, role_names[r]) == 0)
			return (AistudioRole) r;
	return AISTUDIO_ROLE_NONE;
}

const char *
RbacRoleName(AistudioRole role)
{
	return role_names[role];
}

/* Is pg_aistudio.acting_user set (to anything)? */
bool
RbacActingUserIsSet(void)
{
	return aistudio_acting_user != NULL && aistudio_acting_user[0] != '\0';
}

/*
 * May the session's role act on behalf of application users: is it a
 * superuser or does it have the privileges of aistudio_gateway?
 */
bool
RbacMayActForUsers(void)
{
	Oid			outer = GetOuterUserId();
	Oid			gateway = get_role_oid("aistudio_gateway", true);

	if (superuser_arg(outer))
		return true;
	return OidIsValid(gateway) && has_privs_of_role(outer, gateway);
}

/*
 * The application user id pg_aistudio.acting_user names, if it is honoured
 * (see "Who may act as whom" above): false when the GUC is empty, true with
 * *user_id when it holds a positive integer in digits and the role may act
 * for users.  Otherwise false, or when strict an error: 42501 for a role
 * that may not act for users, 22023 for a malformed value.
 */
bool
RbacActingUserId(int64 *user_id, bool strict)
{
	const char *s = aistudio_acting_user;
	char	   *end;
	long long	v;

	if (!RbacActingUserIsSet())
		return false;
	if (!RbacMayActForUsers())
	{
		if (!strict)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as an application user"),
				 errdetail("Role \"%s\" is neither a superuser nor a member of aistudio_gateway, so pg_aistudio.acting_user is not honoured for it.",
						   GetUserNameFromId(GetOuterUserId(), false)),
				 errhint("Reset pg_aistudio.acting_user.")));
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	/* digits only: strtoll would also accept leading blanks and signs */
	if (errno != 0 || *end != '\0' || v <= 0 || s[0] < '1' || s[0] > '9')
	{
		if (!strict)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for pg_aistudio.acting_user: \"%s\"", s),
				 errdetail("The acting user must be the id of an application user.")));
	}
	*user_id = (int64) v;
	return true;
}

/*
 * Look up an active user's role with SPI; AISTUDIO_ROLE_NONE if the user
 * does not exist or is inactive.
 */
static AistudioRole
LookupUserRole(int64 user_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(user_id)};
	AistudioRole role = AISTUDIO_ROLE_NONE;

	SPI_connect();
	if (SPI_execute_with_args("SELECT role FROM aistudio.users WHERE id = $1 AND active",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the acting user");
	if (SPI_processed == 1)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		role = RbacParseRole(name);
	}
	SPI_finish();
	return role;
}

void
RbacGetActor(AistudioActor *actor)
{
	int64		user_id;

	memset(actor, 0, sizeof(*actor));
	if (RbacActingUserId(&user_id, true))
	{
		actor->user_id = user_id;
		actor->role = LookupUserRole(user_id);
		if (actor->role == AISTUDIO_ROLE_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("acting user %lld does not exist or is inactive", (long long) user_id)));
		return;
	}
	/* Outside SECURITY DEFINER functions this is the caller's own role. */
	if (superuser_arg(GetOuterUserId()))
	{
		actor->is_dba = true;
		actor->role = AISTUDIO_ROLE_DBA;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("no acting user is set"),
			 errdetail("Only a database superuser may manage pg_aistudio without an acting user."),
			 errhint("Set pg_aistudio.acting_user to the id of an application user for this transaction.")));
}

/* 42501 unless the actor has at least min_role */
static void
RequireActorRole(const AistudioActor *actor, AistudioRole min_role, const char *action)
{
	if (actor->role < min_role)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("The acting user %lld has role %s; role %s or higher is required.",
						   (long long) actor->user_id, RbacRoleName(actor->role),
						   RbacRoleName(min_role))));
}

void
RbacRequireRole(AistudioRole min_role, const char *action)
{
	AistudioActor actor;

	RbacGetActor(&actor);
	RequireActorRole(&actor, min_role, action);
}

bool
RbacUserCanUseLlm(int64 user_id, int64 llm_id)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(user_id), Int64GetDatum(llm_id)};
	bool		ok;

	SPI_connect();
	if (SPI_execute_with_args("SELECT 1 FROM aistudio.users u"
							  " JOIN aistudio.group_members m ON m.user_id = u.id"
							  " JOIN aistudio.group_llms g ON g.group_id = m.group_id"
							  " WHERE u.id = $1 AND u.active AND g.llm_id = $2 LIMIT 1",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check LLM access");
	ok = SPI_processed > 0;
	SPI_finish();
	return ok;
}

static AistudioRole
RoleArg(text *t)
{
	char	   *name = text_to_cstring(t);
	AistudioRole role = RbacParseRole(name);

	if (role == AISTUDIO_ROLE_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown role \"%s\"", name),
				 errhint("Roles are super_admin, admin, developer and chat_user.")));
	return role;
}

/* aistudio.acting_user_id() -> bigint, NULL when a DBA acts */
Datum
aistudio_acting_user_id(PG_FUNCTION_ARGS)
{
	AistudioActor actor;

	RbacGetActor(&actor);
	if (actor.is_dba)
		PG_RETURN_NULL();
	PG_RETURN_INT64(actor.user_id);
}

/* aistudio.acting_role() -> text ('dba' for a superuser without acting user) */
Datum
aistudio_acting_role(PG_FUNCTION_ARGS)
{
	AistudioActor actor;

	RbacGetActor(&actor);
	PG_RETURN_TEXT_P(cstring_to_text(RbacRoleName(actor.role)));
}

/* aistudio.require_role(min_role text, action text) */
Datum
aistudio_require_role(PG_FUNCTION_ARGS)
{
	AistudioRole min_role = RoleArg(PG_GETARG_TEXT_PP(0));
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(1));

	RbacRequireRole(min_role, action);
	PG_RETURN_VOID();
}

/*
 * aistudio.check_role_assignment(target_user_id bigint, new_role text)
 *
 * May the actor give target_user_id (NULL for a user being created) the role
 * new_role?  Admins manage developers and chat users; only a super admin (or
 * a DBA) grants or edits admin and super_admin accounts; nobody but a DBA
 * changes their own role.
 */
Datum
aistudio_check_role_assignment(PG_FUNCTION_ARGS)
{
	AistudioActor actor;
	AistudioRole new_role = RoleArg(PG_GETARG_TEXT_PP(1));

	RbacGetActor(&actor);
	if (actor.is_dba)
		PG_RETURN_VOID();
	RequireActorRole(&actor, AISTUDIO_ROLE_ADMIN, "manage users");
	if (!PG_ARGISNULL(0))
	{
		int64		target = PG_GETARG_INT64(0);
		AistudioRole current = LookupUserRole(target);

		if (target == actor.user_id && new_role != actor.role)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to change one's own role"),
					 errdetail("User %lld tried to change their own role to %s.",
							   (long long) target, RbacRoleName(new_role))));
		if (current >= AISTUDIO_ROLE_ADMIN && actor.role < AISTUDIO_ROLE_SUPER_ADMIN &&
			target != actor.user_id)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to modify a user with role %s", RbacRoleName(current)),
					 errdetail("Only a super admin may modify admin and super admin accounts.")));
	}
	if (new_role >= AISTUDIO_ROLE_ADMIN && actor.role < AISTUDIO_ROLE_SUPER_ADMIN)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to grant role %s", RbacRoleName(new_role)),
				 errdetail("Only a super admin may grant the admin and super_admin roles.")));
	PG_RETURN_VOID();
}

/*
 * aistudio.check_app_access(owner_id bigint)
 *
 * Apps belong to their owner: a developer manages only apps they own; admins
 * and above manage every app; chat users manage none.
 */
Datum
aistudio_check_app_access(PG_FUNCTION_ARGS)
{
	AistudioActor actor;
	int64		owner_id = PG_GETARG_INT64(0);

	RbacGetActor(&actor);
	if (actor.role >= AISTUDIO_ROLE_ADMIN)
		PG_RETURN_VOID();
	RequireActorRole(&actor, AISTUDIO_ROLE_DEVELOPER, "manage apps");
	if (owner_id != actor.user_id)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to manage an app owned by another user"),
				 errdetail("Developers may only manage their own apps.")));
	PG_RETURN_VOID();
}

/*
 * aistudio.check_llm_grants(llm_ids bigint[])
 *
 * A developer may only attach LLMs that one of their groups grants them;
 * admins and above attach any LLM.
 */
Datum
aistudio_check_llm_grants(PG_FUNCTION_ARGS)
{
	AistudioActor actor;
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	RbacGetActor(&actor);
	if (actor.role >= AISTUDIO_ROLE_ADMIN)
		PG_RETURN_VOID();
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		int64		llm_id;

		if (nulls[i])
			continue;
		llm_id = DatumGetInt64(elems[i]);
		if (!RbacUserCanUseLlm(actor.user_id, llm_id))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to use LLM %lld", (long long) llm_id),
					 errdetail("None of the groups of user %lld grants this LLM.",
							   (long long) actor.user_id)));
	}
	PG_RETURN_VOID();
}

/* aistudio.can_use_llm(user_id bigint, llm_id bigint) -> bool */
Datum
aistudio_can_use_llm(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RbacUserCanUseLlm(PG_GETARG_INT64(0), PG_GETARG_INT64(1)));
}
