/*-------------------------------------------------------------------------
 * src/sync.c
 *		The C parts of hub and edge (SECTIONS sync and edge of the install
 *		script, sql/src/14_sync.sql and 15_edge.sql): edge tokens and edge
 *		keys, the constant-time comparison of token hashes, what an edge
 *		materialises from a snapshot, and the statement trigger that notes
 *		the namespaces' expected checksums after a configuration change.
 *		Everything else (status, pushes, leases, ingestion) is SQL.
 *
 * Edge tokens.  enroll_edge gets from edge_credentials_new a token 'aie_' +
 * 43 base64url characters of 32 random bytes, its SHA-256 in hex (what is
 * stored) and the edge key, HKDF-SHA256(ikm = the token, salt = the edge
 * id, info = "aistudio edge key v1") (src/sealbox.c, the one definition,
 * which gatewayd compiles too), sealed under the master key with AAD
 * 'edge:' || edge_id.  The token lives only in this backend's memory and
 * in the function's result: it is never passed to a query, logged or put
 * in an error; buffers that held it or the key are wiped.
 *
 * The trigger.  sync_config_changed runs after every statement on a table
 * the snapshot checksum covers and calls aistudio.sync_refresh_checksums()
 * (which returns at once when there are no edges, as on a standalone
 * gateway).  Like the audit trigger, it does nothing in an extension script
 * or a restore (AuditIsBulkLoad): the restored sync state comes from the
 * dump.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "aistudio/v1/snapshot.pb-c.h"
#include "aistudio.h"
#include "audit.h"
#include "sealbox.h"
#include "secrets.h"
#include "sync.h"

PG_FUNCTION_INFO_V1(aistudio_edge_credentials_new);
PG_FUNCTION_INFO_V1(aistudio_edge_token_matches);
PG_FUNCTION_INFO_V1(aistudio_derive_edge_key);
PG_FUNCTION_INFO_V1(aistudio_open_bytes);
PG_FUNCTION_INFO_V1(aistudio_snapshot_decode);
PG_FUNCTION_INFO_V1(aistudio_sync_config_changed);

/* kept for the life of the backend: the trigger runs after every config statement */
static SPIPlanPtr refresh_plan = NULL;

/* base64url without padding of len bytes into out (4 * ceil(len / 3) + 1 bytes) */
static size_t
Base64Url(const uint8 *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t		o = 0;
	size_t		i = 0;

	for (; i + 2 < len; i += 3)
	{
		uint32		v = ((uint32) in[i] << 16) | ((uint32) in[i + 1] << 8) | in[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1)
	{
		uint32		v = (uint32) in[i] << 16;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
	}
	else if (len - i == 2)
	{
		uint32		v = ((uint32) in[i] << 16) | ((uint32) in[i + 1] << 8);

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

/* SHA-256 of data as 64 lowercase hex digits and a NUL into out */
static void
Sha256Hex(const char *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		const char *reason = ctx ? pg_cryptohash_error(ctx) : "out of memory";

		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 hash: %s", reason)));
	}
	pg_cryptohash_free(ctx);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	out[2 * PG_SHA256_DIGEST_LENGTH] = '\0';
}

/* The edge key of token for edge_id into key (32 bytes); raises on failure. */
static void
DeriveEdgeKey(const char *token, size_t token_len, const char *edge_id, size_t edge_id_len, uint8 *key)
{
	char		err[AISTUDIO_SEAL_ERR_LEN];

	if (aistudio_seal_edge_key(token, token_len, edge_id, edge_id_len, key, err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not derive the edge key: %s", err)));
}

/*
 * aistudio.edge_credentials_new(edge_id text, OUT token text, OUT
 *		token_sha256 text, OUT key_id text, OUT nonce bytea, OUT ciphertext
 *		bytea)
 */
Datum
aistudio_edge_credentials_new(PG_FUNCTION_ARGS)
{
	char	   *edge_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	uint8		raw[SYNC_TOKEN_RANDOM_BYTES];
	char		token[SYNC_TOKEN_LEN + 1];
	char		token_hash[2 * PG_SHA256_DIGEST_LENGTH + 1];
	uint8		key[AISTUDIO_SEAL_KEY_LEN];
	char	   *aad = psprintf("edge:%s", edge_id);
	char		key_id[SECRETS_KEY_ID_SIZE];
	bytea	   *nonce;
	bytea	   *ciphertext;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token")));
	memcpy(token, SYNC_TOKEN_TAG, SYNC_TOKEN_TAG_LEN);
	Base64Url(raw, sizeof(raw), token + SYNC_TOKEN_TAG_LEN);
	explicit_bzero(raw, sizeof(raw));
	Assert(strlen(token) == SYNC_TOKEN_LEN);

	Sha256Hex(token, SYNC_TOKEN_LEN, token_hash);
	DeriveEdgeKey(token, SYNC_TOKEN_LEN, edge_id, strlen(edge_id), key);
	SecretsSeal(aad, (const char *) key, sizeof(key), key_id, &nonce, &ciphertext);
	explicit_bzero(key, sizeof(key));

	values[0] = PointerGetDatum(cstring_to_text_with_len(token, SYNC_TOKEN_LEN));
	explicit_bzero(token, sizeof(token));
	values[1] = CStringGetTextDatum(token_hash);
	values[2] = CStringGetTextDatum(key_id);
	values[3] = PointerGetDatum(nonce);
	values[4] = PointerGetDatum(ciphertext);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * aistudio.edge_token_matches(stored text, presented text) -> boolean:
 * two token hashes of 64 hex digits compared in constant time (false for
 * any other length).
 */
Datum
aistudio_edge_token_matches(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	if (VARSIZE_ANY_EXHDR(a) != SYNC_TOKEN_HASH_HEX_LEN || VARSIZE_ANY_EXHDR(b) != SYNC_TOKEN_HASH_HEX_LEN)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(aistudio_seal_equal(VARDATA_ANY(a), VARDATA_ANY(b), SYNC_TOKEN_HASH_HEX_LEN));
}

/* aistudio.derive_edge_key(token text, edge_id text) -> bytea (32 bytes) */
Datum
aistudio_derive_edge_key(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	text	   *edge_id = PG_GETARG_TEXT_PP(1);
	bytea	   *out = palloc(VARHDRSZ + AISTUDIO_SEAL_KEY_LEN);

	SET_VARSIZE(out, VARHDRSZ + AISTUDIO_SEAL_KEY_LEN);
	DeriveEdgeKey(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), VARDATA_ANY(edge_id),
				  VARSIZE_ANY_EXHDR(edge_id), (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

/* aistudio.open_bytes(aad text, key_id text, nonce bytea, ciphertext bytea) -> bytea */
Datum
aistudio_open_bytes(PG_FUNCTION_ARGS)
{
	char	   *aad = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *key_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Size		len;
	char	   *plain;
	bytea	   *out;

	plain = SecretsOpen(aad, key_id, PG_GETARG_BYTEA_PP(2), PG_GETARG_BYTEA_PP(3), &len);
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), plain, len);
	explicit_bzero(plain, len);
	pfree(plain);
	PG_RETURN_BYTEA_P(out);
}

/* protobuf-c allocations in the current memory context */
static void *
SyncAlloc(void *data, size_t size)
{
	return palloc(size);
}

static void
SyncFree(void *data, void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

static void
AppendKey(StringInfo buf, const char *key, const char *value)
{
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
	escape_json(buf, value != NULL ? value : "");
}

/*
 * aistudio.snapshot_decode(snapshot bytea) -> jsonb: {"format_version",
 * "namespace", "vendors": [{name, wire_format, auth_header, key_required,
 * default_endpoint, prompt_includes_cache_reads}], "prices": [{vendor,
 * model_name, input_per_mtok, output_per_mtok, cache_write_per_mtok,
 * cache_read_per_mtok, currency}]} (prices as their exact decimal text, ""
 * for an unset cache price), and the number of LLMs, apps, filters,
 * plugins and secrets.  22023 for bytes that are not a snapshot.
 */
Datum
aistudio_snapshot_decode(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	ProtobufCAllocator alloc = {SyncAlloc, SyncFree, NULL};
	Aistudio__V1__Snapshot *snap;
	StringInfoData buf;

	snap = aistudio__v1__snapshot__unpack(&alloc, VARSIZE_ANY_EXHDR(b), (const uint8_t *) VARDATA_ANY(b));
	if (snap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the snapshot is not a valid aistudio.v1.Snapshot message"),
				 errdetail("%zu bytes could not be decoded.", (size_t) VARSIZE_ANY_EXHDR(b))));

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"format_version\":%u,", snap->format_version);
	AppendKey(&buf, "namespace", snap->namespace_);
	appendStringInfo(&buf, ",\"counts\":{\"llms\":%zu,\"prices\":%zu,\"apps\":%zu,\"filters\":%zu,"
					 "\"plugins\":%zu,\"secrets\":%zu,\"vendors\":%zu}",
					 snap->n_llms, snap->n_prices, snap->n_apps, snap->n_filters, snap->n_plugins,
					 snap->n_secrets, snap->n_vendors);
	appendStringInfoString(&buf, ",\"vendors\":[");
	for (size_t i = 0; i < snap->n_vendors; i++)
	{
		const Aistudio__V1__Vendor *v = snap->vendors[i];

		appendStringInfoString(&buf, i > 0 ? ",{" : "{");
		AppendKey(&buf, "name", v->name);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "wire_format", v->wire_format);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "auth_header", v->auth_header);
		appendStringInfo(&buf, ",\"key_required\":%s,", v->key_required ? "true" : "false");
		AppendKey(&buf, "default_endpoint", v->default_endpoint);
		appendStringInfo(&buf, ",\"prompt_includes_cache_reads\":%s}",
						 v->prompt_includes_cache_reads ? "true" : "false");
	}
	appendStringInfoString(&buf, "],\"prices\":[");
	for (size_t i = 0; i < snap->n_prices; i++)
	{
		const Aistudio__V1__ModelPrice *p = snap->prices[i];

		appendStringInfoString(&buf, i > 0 ? ",{" : "{");
		AppendKey(&buf, "vendor", p->vendor);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "model_name", p->model_name);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "input_per_mtok", p->input_per_mtok);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "output_per_mtok", p->output_per_mtok);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "cache_write_per_mtok", p->cache_write_per_mtok);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "cache_read_per_mtok", p->cache_read_per_mtok);
		appendStringInfoChar(&buf, ',');
		AppendKey(&buf, "currency", p->currency);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* aistudio.sync_config_changed(): AFTER ... FOR EACH STATEMENT trigger */
Datum
aistudio_sync_config_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("aistudio.sync_config_changed() must be called as a trigger")));
	if (AuditIsBulkLoad())
		return PointerGetDatum(NULL);

	SPI_connect();
	if (refresh_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT aistudio.sync_refresh_checksums()", 0, NULL);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the sync refresh: %s", SPI_result_code_string(SPI_result));
		refresh_plan = plan;
	}
	if (SPI_execute_plan(refresh_plan, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "the sync refresh failed");
	SPI_finish();
	return PointerGetDatum(NULL);
}
