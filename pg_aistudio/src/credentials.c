/*-------------------------------------------------------------------------
 * src/credentials.c
 *		App credentials: issuing a key (shown once, stored only as its
 *		SHA-256) and resolving a presented key to its app for the gateway.
 *
 * Revoking, rotating and listing credentials are plain SQL over the
 * credentials table (sql/src/05_apps_credentials.sql);
 * rotation calls issue_credential.
 *
 * The plain key exists only in this backend's memory between its
 * generation and the return of issue_credential; it is never passed to a
 * query, logged or put in an error message.  resolve_credential rejects a
 * malformed key without looking it up and never raises an error that could
 * echo it: an unknown key simply yields no row.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "aistudio.h"
#include "credentials.h"

PG_FUNCTION_INFO_V1(aistudio_issue_credential);
PG_FUNCTION_INFO_V1(aistudio_resolve_credential);

#define RESOLVE_COLUMNS 11

/* kept across calls: resolve_credential is on the gateway's miss path */
static SPIPlanPtr resolve_plan = NULL;

bool
CredentialKeyIsWellFormed(const char *key, size_t len)
{
	if (len != CREDENTIAL_KEY_LEN ||
		memcmp(key, CREDENTIAL_KEY_TAG, CREDENTIAL_TAG_LEN) != 0)
		return false;
	for (size_t i = CREDENTIAL_TAG_LEN; i < len; i++)
	{
		char		c = key[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

void
CredentialHashKey(const char *key, size_t len, uint8 *hash)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) key, len) < 0 ||
		pg_cryptohash_final(ctx, hash, CREDENTIAL_HASH_LEN) < 0)
	{
		const char *reason = ctx ? pg_cryptohash_error(ctx) : "out of memory";

		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 hash: %s", reason)));
	}
	pg_cryptohash_free(ctx);
}

static bytea *
HashToBytea(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + CREDENTIAL_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + CREDENTIAL_HASH_LEN);
	memcpy(VARDATA(b), hash, CREDENTIAL_HASH_LEN);
	return b;
}

/*
 * aistudio.issue_credential(app_id bigint, name text DEFAULT '',
 *		expires_at timestamptz DEFAULT NULL) -> text
 *
 * A new active key for the app, returned once.  The acting user must be
 * allowed to manage the app (aistudio.check_app_access of its owner); the
 * name and expiry are checked by aistudio.check_key_lifecycle.
 */
Datum
aistudio_issue_credential(PG_FUNCTION_ARGS)
{
	int64		app_id;
	Oid			types[5] = {INT8OID, BYTEAOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	text	   *name;
	Datum		owner;
	bool		isnull;
	uint8		raw[CREDENTIAL_RANDOM_BYTES];
	uint8		hash[CREDENTIAL_HASH_LEN];
	char		key[CREDENTIAL_KEY_LEN + 1];
	text	   *result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("app_id must not be null")));
	app_id = PG_GETARG_INT64(0);
	name = PG_ARGISNULL(1) ? cstring_to_text("") : PG_GETARG_TEXT_PP(1);

	/* a chat user learns nothing about which apps exist */
	RbacRequireRole(AISTUDIO_ROLE_DEVELOPER, "manage apps");

	SPI_connect();
	args[0] = Int64GetDatum(app_id);
	if (SPI_execute_with_args("SELECT owner_id FROM aistudio.apps WHERE id = $1 FOR KEY SHARE",
							  1, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up app %lld", (long long) app_id);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("app %lld does not exist", (long long) app_id)));
	owner = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	args[0] = owner;
	if (SPI_execute_with_args("SELECT aistudio.check_app_access($1)",
							  1, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check access to app %lld", (long long) app_id);
	args[3] = PointerGetDatum(name);
	args[4] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[4] = PG_ARGISNULL(2) ? 'n' : ' ';
	if (SPI_execute_with_args("SELECT aistudio.check_key_lifecycle($1, $2)",
							  2, types + 3, args + 3, nulls + 3, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check the name and expiry of a credential");

	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random key")));
	memcpy(key, CREDENTIAL_KEY_TAG, CREDENTIAL_TAG_LEN);
	for (int i = 0; i < CREDENTIAL_RANDOM_BYTES; i++)
	{
		static const char hex[] = "0123456789abcdef";

		key[CREDENTIAL_TAG_LEN + 2 * i] = hex[raw[i] >> 4];
		key[CREDENTIAL_TAG_LEN + 2 * i + 1] = hex[raw[i] & 0x0f];
	}
	key[CREDENTIAL_KEY_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
	CredentialHashKey(key, CREDENTIAL_KEY_LEN, hash);

	args[0] = Int64GetDatum(app_id);
	args[1] = PointerGetDatum(HashToBytea(hash));
	args[2] = PointerGetDatum(cstring_to_text_with_len(key, CREDENTIAL_PREFIX_LEN));
	if (SPI_execute_with_args("INSERT INTO aistudio.credentials"
							  " (app_id, key_hash, key_prefix, name, expires_at)"
							  " VALUES ($1, $2, $3, $4, $5)",
							  5, types, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the credential of app %lld", (long long) app_id);
	SPI_finish();

	result = cstring_to_text_with_len(key, CREDENTIAL_KEY_LEN);
	explicit_bzero(key, sizeof(key));
	PG_RETURN_TEXT_P(result);
}

/*
 * aistudio.resolve_credential(key text) -> TABLE(credential_id, app_id,
 *		app_name, owner_id, app_active, owner_active, namespace, llm_ids,
 *		monthly_budget, budget_start_date, expires_at)
 *
 * The gateway's pull on a cache miss: one row for an active credential,
 * none for a malformed, unknown or revoked key.  One index lookup by hash.
 * An expired key still has its row (with its expires_at in the past), so
 * the gateway can say "expired" rather than "invalid": only whoever holds
 * the key learns it, nothing about any other key.
 */
Datum
aistudio_resolve_credential(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *key = PG_GETARG_TEXT_PP(0);
	uint8		hash[CREDENTIAL_HASH_LEN];
	Datum		args[1];

	InitMaterializedSRF(fcinfo, 0);
	if (!CredentialKeyIsWellFormed(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)))
		PG_RETURN_NULL();
	CredentialHashKey(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), hash);

	SPI_connect();
	if (resolve_plan == NULL)
	{
		Oid			types[1] = {BYTEAOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT c.id, a.id, a.name, a.owner_id, a.active, u.active,"
						   "       a.namespace,"
						   "       coalesce((SELECT array_agg(l.llm_id ORDER BY l.llm_id)"
						   "                   FROM aistudio.app_llms l WHERE l.app_id = a.id),"
						   "                '{}'::bigint[]),"
						   "       a.monthly_budget, a.budget_start_date, c.expires_at"
						   "  FROM aistudio.credentials c"
						   "  JOIN aistudio.apps a ON a.id = c.app_id"
						   "  JOIN aistudio.users u ON u.id = a.owner_id"
						   " WHERE c.key_hash = $1 AND c.active",
						   1, types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the credential lookup: %s",
				 SPI_result_code_string(SPI_result));
		resolve_plan = plan;
	}
	args[0] = PointerGetDatum(HashToBytea(hash));
	if (SPI_execute_plan(resolve_plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a credential");
	if (SPI_processed == 1)
	{
		Datum		values[RESOLVE_COLUMNS];
		bool		nulls[RESOLVE_COLUMNS];

		for (int i = 0; i < RESOLVE_COLUMNS; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  i + 1, &nulls[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	PG_RETURN_NULL();
}
