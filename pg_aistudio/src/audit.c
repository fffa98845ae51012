/*-------------------------------------------------------------------------
 * src/audit.c
 *		The audit log: who changed which configuration row, and how.
 *
 * aistudio.audit_trigger() is a row-level AFTER INSERT OR UPDATE OR DELETE
 * trigger attached to every configuration table (see
 * sql/src/09_audit.sql).  Each fired row writes one aistudio.audit_log row:
 *
 *	actor_id	the acting user (GUC pg_aistudio.acting_user), NULL when a DBA
 *				or a role without an acting user made the change, or a
 *				role for which rbac.c does not honour the GUC (neither a
 *				superuser nor a member of aistudio_gateway)
 *	actor_role	the database role of the session (session_user)
 *	object_type	the table name
 *	object_id	the primary key: its value, or "col=val,col=val" when the key
 *				has several columns (link tables)
 *	changes		insert: the new row; delete: the old row; update: only the
 *				changed columns as {"col": {"old": ..., "new": ...}}
 *
 * Redaction: sealed secrets, sealed API keys, password hashes and credential
 * hashes are never written; a redacted column appears as "[redacted]" (and
 * as "[redacted]" instead of {"old", "new"} when an update changed it).
 * Bookkeeping columns (updated_at, last_used_at, last_heartbeat) are left
 * out, and so are an edge's connection and sync bookkeeping (hub_id,
 * connected_at, disconnected_at, heartbeat_interval_s, last_metrics,
 * metrics_seq, pending_since, stale_event_for, last_push_at: the sync
 * trail, aistudio.edge_events, records those); an update that changed
 * nothing else writes no row at all, so edge heartbeats and credential use
 * do not flood the log.  Edge token hashes and sealed edge keys are
 * redacted.
 *
 * Not logged: the rows an extension script (ALTER EXTENSION ... UPDATE)
 * migrates, and the rows a restore loads.  A restore is a superuser session
 * without an acting user and with check_function_bodies off, which every
 * pg_dump script and pg_restore sets; the dump carries the audit log itself,
 * and logging the reloaded rows again would collide with its ids.
 *
 * The trigger never refuses a change: permission checks happen earlier, in
 * the SQL API.  It runs as SECURITY DEFINER so that any role whose change
 * reaches a configuration table can be logged without write access to
 * aistudio.audit_log, which is append-only (audit_log_append_only()).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"


#include "access/htup_details.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "aistudio.h"
#include "audit.h"

PG_FUNCTION_INFO_V1(aistudio_audit_trigger);
PG_FUNCTION_INFO_V1(aistudio_audit_log_append_only);

/* Columns whose values are secret, per table (bytea columns always are). */
static const struct
{
	const char *table;
	const char *column;
}			redacted_columns[] =
{
	{"secrets", "key_id"},
	{"secrets", "nonce"},
	{"secrets", "ciphertext"},
	{"llms", "api_key_key_id"},
	{"llms", "api_key_nonce"},
	{"llms", "api_key_cipher"},
	{"users", "password_hash"},
	{"credentials", "key_hash"},
	{"edges", "token_sha256"},
	{"edges", "edge_key_id"},
	{"alert_targets", "secret_key_id"},
};

/*
 * Bookkeeping columns: never logged, and changing only them logs nothing
 * (an edge's connection and sync bookkeeping changes with its heartbeats).
 */
static const char *const ignored_columns[] = {
	"updated_at", "last_used_at", "last_heartbeat",
	"hub_id", "connected_at", "disconnected_at", "heartbeat_interval_s", "last_metrics", "metrics_seq",
	"pending_since", "stale_event_for", "last_push_at",
};

/* The INSERT into aistudio.audit_log, prepared once per backend. */
static SPIPlanPtr audit_insert_plan = NULL;

bool
AuditColumnIsRedacted(const char *table, const char *column, Oid typid)
{
	if (getBaseType(typid) == BYTEAOID || strstr(column, "password") != NULL)
		return true;
	for (int i = 0; i < lengthof(redacted_columns); i++)
		if (strcmp(redacted_columns[i].table, table) == 0 &&
			strcmp(redacted_columns[i].column, column) == 0)
			return true;
	return false;
}

static bool
AuditColumnIsIgnored(const char *column)
{
	for (int i = 0; i < lengthof(ignored_columns); i++)
		if (strcmp(ignored_columns[i], column) == 0)
			return true;
	return false;
}

/*
 * Is this an extension script or a restore (see the top of this file)?
 * Their rows are not logged.
 */
bool
AuditIsBulkLoad(void)
{
	if (creating_extension)
		return true;
	return !check_function_bodies && !RbacActingUserIsSet() &&
		superuser_arg(GetSessionUserId());
}

/* Is the numeric output `s` also a JSON number (not NaN or Infinity)? */
static bool
AuditIsJsonNumber(const char *s)
{
	if (*s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

/*
 * Append `value` of type `typid` to buf as a JSON value, the way to_jsonb()
 * would: numbers and booleans bare, arrays as JSON arrays, json(b) as is,
 * dates and timestamps in ISO 8601, everything else as a string.
 */
static void
AuditAppendValue(StringInfo buf, Datum value, bool isnull, Oid typid)
{
	Oid			basetype;
	Oid			outfunc;
	bool		isvarlena;
	char	   *out;

	if (isnull)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	basetype = getBaseType(typid);
	switch (basetype)
	{
		case BOOLOID:
			appendStringInfoString(buf, DatumGetBool(value) ? "true" : "false");
			return;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			{
				char		dt[MAXDATELEN + 1];

				appendStringInfo(buf, "\"%s\"", JsonEncodeDateTime(dt, value, basetype, NULL));
				return;
			}
		default:
			break;
	}
	if (type_is_array(basetype))
	{
		text	   *json = DatumGetTextPP(DirectFunctionCall1(array_to_json, value));

		appendBinaryStringInfo(buf, VARDATA_ANY(json), VARSIZE_ANY_EXHDR(json));
		return;
	}
	getTypeOutputInfo(typid, &outfunc, &isvarlena);
	out = OidOutputFunctionCall(outfunc, value);
	switch (basetype)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case JSONOID:
		case JSONBOID:
			appendStringInfoString(buf, out);
			break;
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			if (AuditIsJsonNumber(out))
				appendStringInfoString(buf, out);
			else
				escape_json(buf, out);
			break;
		default:
			escape_json(buf, out);
			break;
	}
	pfree(out);
}

/* Append column `attnum`'s value (or "[redacted]" when it is not null). */
static void
AuditAppendColumn(StringInfo buf, HeapTuple tuple, TupleDesc desc, int attnum,
				  bool redacted)
{
	Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
	bool		isnull;
	Datum		value = heap_getattr(tuple, attnum, desc, &isnull);

	if (redacted && !isnull)
		escape_json(buf, AUDIT_REDACTED);
	else
		AuditAppendValue(buf, value, isnull, att->atttypid);
}

/*
 * The row's primary key as text: the value of a one-column key, or
 * "col=val,col=val" in key order; NULL when the table has no primary key.
 */
static char *
AuditObjectId(Relation rel, HeapTuple tuple)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			pkoid = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	idxtup;
	Form_pg_index idx;
	StringInfoData buf;

	if (!OidIsValid(pkoid))
		return NULL;
	idxtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
	if (!HeapTupleIsValid(idxtup))
		elog(ERROR, "cache lookup failed for index %u", pkoid);
	idx = (Form_pg_index) GETSTRUCT(idxtup);
	initStringInfo(&buf);
	for (int i = 0; i < idx->indnkeyatts; i++)
	{
		AttrNumber	attnum = idx->indkey.values[i];
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
		bool		isnull;
		Datum		value = heap_getattr(tuple, attnum, desc, &isnull);
		Oid			outfunc;
		bool		isvarlena;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (idx->indnkeyatts > 1)
			appendStringInfo(&buf, "%s=", NameStr(att->attname));
		if (isnull)
			continue;
		getTypeOutputInfo(att->atttypid, &outfunc, &isvarlena);
		appendStringInfoString(&buf, OidOutputFunctionCall(outfunc, value));
	}
	ReleaseSysCache(idxtup);
	return buf.data;
}

/*
 * The "changes" document of an insert or delete: every logged column of
 * the row.
 */
static void
AuditRowChanges(StringInfo buf, const char *table, HeapTuple tuple, TupleDesc desc)
{
	bool		first = true;

	appendStringInfoChar(buf, '{');
	for (int i = 1; i <= desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i - 1);
		const char *name = NameStr(att->attname);

		if (att->attisdropped || AuditColumnIsIgnored(name))
			continue;
		if (!first)
			appendStringInfoString(buf, ", ");
		first = false;
		escape_json(buf, name);
		appendStringInfoString(buf, ": ");
		AuditAppendColumn(buf, tuple, desc, i,
						  AuditColumnIsRedacted(table, name, att->atttypid));
	}
	appendStringInfoChar(buf, '}');
}

/*
 * The "changes" document of an update: only the columns whose value
 * changed.  Returns false when no logged column changed.
 */
static bool
AuditUpdateChanges(StringInfo buf, const char *table, HeapTuple oldtup,
				   HeapTuple newtup, TupleDesc desc)
{
	int			nchanged = 0;

	appendStringInfoChar(buf, '{');
	for (int i = 1; i <= desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i - 1);
		const char *name = NameStr(att->attname);
		bool		oldnull;
		bool		newnull;
		Datum		oldval;
		Datum		newval;

		if (att->attisdropped || AuditColumnIsIgnored(name))
			continue;
		oldval = heap_getattr(oldtup, i, desc, &oldnull);
		newval = heap_getattr(newtup, i, desc, &newnull);
		if (oldnull && newnull)
			continue;
		if (!oldnull && !newnull &&
			datum_image_eq(oldval, newval, att->attbyval, att->attlen))
			continue;
		if (nchanged++ > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, name);
		appendStringInfoString(buf, ": ");
		if (AuditColumnIsRedacted(table, name, att->atttypid))
		{
			escape_json(buf, AUDIT_REDACTED);
			continue;
		}
		appendStringInfoString(buf, "{\"old\": ");
		AuditAppendValue(buf, oldval, oldnull, att->atttypid);
		appendStringInfoString(buf, ", \"new\": ");
		AuditAppendValue(buf, newval, newnull, att->atttypid);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, '}');
	return nchanged > 0;
}

/* Insert one row into aistudio.audit_log. */
static void
AuditWrite(const char *action, const char *object_type, const char *object_id,
		   const char *changes)
{
	Oid			argtypes[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int64		actor_id = 0;

	/* the acting user when it is honoured (rbac.c), otherwise none */
	if (RbacActingUserId(&actor_id, false))
		args[0] = Int64GetDatum(actor_id);
	else
		nulls[0] = 'n';
	args[1] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	args[2] = CStringGetTextDatum(action);
	args[3] = CStringGetTextDatum(object_type);
	if (object_id != NULL)
		args[4] = CStringGetTextDatum(object_id);
	else
		nulls[4] = 'n';
	args[5] = CStringGetTextDatum(changes);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	if (audit_insert_plan == NULL)
	{
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO aistudio.audit_log"
						   " (actor_id, actor_role, action, object_type, object_id, changes)"
						   " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
						   6, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare the audit log insert: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep the audit log insert plan");
		audit_insert_plan = plan;
	}
	if (SPI_execute_plan(audit_insert_plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the audit log");
	SPI_finish();
}

/*
 * aistudio.audit_trigger() RETURNS trigger
 *
 * Row-level AFTER INSERT OR UPDATE OR DELETE trigger of every configuration
 * table: writes the audit log row described at the top of this file.
 */
Datum
aistudio_audit_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	const char *table;
	const char *action;
	HeapTuple	keytup;
	StringInfoData changes;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aistudio.audit_trigger() must be called as a trigger")));
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aistudio.audit_trigger() must be fired AFTER ... FOR EACH ROW")));

	if (AuditIsBulkLoad())
		return PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	table = RelationGetRelationName(rel);
	initStringInfo(&changes);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		action = "insert";
		keytup = trigdata->tg_trigtuple;
		AuditRowChanges(&changes, table, keytup, desc);
	}
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		action = "delete";
		keytup = trigdata->tg_trigtuple;
		AuditRowChanges(&changes, table, keytup, desc);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		action = "update";
		keytup = trigdata->tg_newtuple;
		if (!AuditUpdateChanges(&changes, table, trigdata->tg_trigtuple,
								trigdata->tg_newtuple, desc))
			return PointerGetDatum(NULL);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aistudio.audit_trigger() must be fired by INSERT, UPDATE or DELETE")));

	AuditWrite(action, table, AuditObjectId(rel, keytup), changes.data);
	return PointerGetDatum(NULL);
}

/*
 * aistudio.audit_log_append_only() RETURNS trigger
 *
 * BEFORE UPDATE OR DELETE row trigger of aistudio.audit_log: the log is
 * append-only, for its owner too.  A database superuser purges it with
 * TRUNCATE (which row triggers do not see).
 */
Datum
aistudio_audit_log_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aistudio.audit_log_append_only() must be called as a trigger")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the audit log is append-only"),
			 errdetail("Rows of aistudio.audit_log cannot be %s.",
					   TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? "updated" : "deleted"),
			 errhint("A database superuser may purge the whole log with TRUNCATE aistudio.audit_log.")));
	PG_RETURN_NULL();
}
