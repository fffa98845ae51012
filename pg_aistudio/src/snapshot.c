/*-------------------------------------------------------------------------
 * src/snapshot.c
 *		The configuration snapshot of a namespace, as the protobuf message
 *		aistudio.v1.Snapshot (proto/aistudio/v1/snapshot.proto), and its
 *		checksum.  Gateways load the snapshot; edges report the checksum of
 *		the snapshot they run, and the hub compares it with its own.
 *
 * A namespace's snapshot holds its objects plus the global ones (namespace
 * ''): LLMs, all model prices (prices are global), apps, filters, plugins
 * and the secrets the LLMs reference.  Sealed values (secret values, literal
 * LLM keys) are shipped encrypted exactly as stored.
 *
 * Determinism: every repeated field is sorted by id (filter and plugin ids
 * of an LLM by position, then id; an app's LLM ids by id), numerics and
 * dates are rendered as their exact ISO text, jsonb as its canonical text,
 * and protobuf-c writes fields in field-number order, so the same rows
 * always give the same bytes.
 *
 * The checksum is the lowercase hex SHA-256 of the snapshot serialized with
 * apps emptied and every SealedValue removed (secrets are represented by id,
 * name, version and allowed hosts; literal LLM keys by api_key_version).
 * App edits and the random nonces of re-sealing therefore never change it;
 * a secret's hosts are configuration and do.  SnapshotDigest is the only
 * code of the product that applies this rule: to a namespace's snapshot
 * built here (snapshot_checksum) and to snapshot bytes received by a
 * gateway or an edge (snapshot_checksum_of), which is how they verify what
 * they load.
 *
 * One query per table, with plans kept for the life of the backend; the
 * link tables (llm_filters, llm_plugins, app_llms) are read sorted by owner
 * and merged in C, which is much cheaper than an array per owner in SQL.
 * Every row is deformed once; the message is built in the caller's
 * (per-call) memory context.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "aistudio/v1/snapshot.pb-c.h"
#include "aistudio.h"
#include "snapshot.h"

PG_FUNCTION_INFO_V1(aistudio_snapshot);
PG_FUNCTION_INFO_V1(aistudio_snapshot_checksum);
PG_FUNCTION_INFO_V1(aistudio_snapshot_checksum_of);

/* The queries, in the order they run: link tables before their owners. */
typedef enum SnapshotQuery
{
	SQ_NAMESPACE,
	SQ_LLM_FILTERS,
	SQ_LLM_PLUGINS,
	SQ_LLMS,
	SQ_PRICES,
	SQ_APP_LLMS,
	SQ_APPS,
	SQ_FILTERS,
	SQ_PLUGINS,
	SQ_SECRETS,
	SQ_VENDORS,
	SQ_COUNT
} SnapshotQuery;

#define SNAPSHOT_MAX_COLUMNS 24

/* $1 = namespace (text), $2 = full snapshot with sealed values (bool) */
static const char *const query_text[SQ_COUNT] = {
	[SQ_NAMESPACE] =
	"SELECT 1 FROM aistudio.namespaces WHERE name = $1",

	[SQ_LLM_FILTERS] =
	"SELECT x.llm_id, x.filter_id, x.position FROM aistudio.llm_filters x"
	" JOIN aistudio.llms l ON l.id = x.llm_id WHERE l.namespace IN ('', $1)"
	" ORDER BY x.llm_id, x.position, x.filter_id",

	[SQ_LLM_PLUGINS] =
	"SELECT x.llm_id, x.plugin_id, x.position, x.fail_open FROM aistudio.llm_plugins x"
	" JOIN aistudio.llms l ON l.id = x.llm_id WHERE l.namespace IN ('', $1)"
	" ORDER BY x.llm_id, x.position, x.plugin_id",

	[SQ_LLMS] =
	"SELECT l.id, l.name, l.slug, l.vendor, l.api_endpoint, l.api_key_ref,"
	" CASE WHEN $2 THEN l.api_key_key_id END,"
	" CASE WHEN $2 THEN l.api_key_nonce END,"
	" CASE WHEN $2 THEN l.api_key_cipher END,"
	" l.api_key_version, l.default_model, l.allowed_models, l.namespace, l.active,"
	" l.monthly_budget::text, to_char(l.budget_start_date, 'YYYY-MM-DD'),"
	" coalesce((l.monthly_budget * 1000000000)::bigint, 0),"
	" coalesce(l.rate_limit_rpm, 0)::bigint, coalesce(l.rate_limit_tpm, 0)::bigint,"
	" l.capture_bodies, coalesce(l.capture_max_bytes, 16384)::bigint"
	" FROM aistudio.llms l WHERE l.namespace IN ('', $1) ORDER BY l.id",

	[SQ_PRICES] =
	"SELECT id, vendor, model_name, input_per_mtok::text, output_per_mtok::text,"
	" cache_write_per_mtok::text, cache_read_per_mtok::text, currency,"
	" (input_per_mtok * 1000000000)::bigint, (output_per_mtok * 1000000000)::bigint,"
	" (coalesce(cache_write_per_mtok, input_per_mtok) * 1000000000)::bigint,"
	" (coalesce(cache_read_per_mtok, input_per_mtok) * 1000000000)::bigint"
	" FROM aistudio.model_prices ORDER BY id",

	[SQ_APP_LLMS] =
	"SELECT x.app_id, x.llm_id FROM aistudio.app_llms x"
	" JOIN aistudio.apps a ON a.id = x.app_id WHERE a.namespace IN ('', $1)"
	" ORDER BY x.app_id, x.llm_id",

	[SQ_APPS] =
	"SELECT a.id, a.name, a.owner_id, a.monthly_budget::text,"
	" to_char(a.budget_start_date, 'YYYY-MM-DD'), a.namespace, a.active,"
	" coalesce((a.monthly_budget * 1000000000)::bigint, 0),"
	" coalesce(a.rate_limit_rpm, 0)::bigint, coalesce(a.rate_limit_tpm, 0)::bigint"
	" FROM aistudio.apps a WHERE a.namespace IN ('', $1) ORDER BY a.id",

	[SQ_FILTERS] =
	"SELECT id, name, filter_type, stage, config::text, namespace, active"
	" FROM aistudio.filters WHERE namespace IN ('', $1) ORDER BY id",

	[SQ_PLUGINS] =
	"SELECT id, name, plugin_type, hook, command, config::text, namespace, active"
	" FROM aistudio.plugins WHERE namespace IN ('', $1) ORDER BY id",

	[SQ_SECRETS] =
	"SELECT s.id, s.name, s.version,"
	" CASE WHEN $2 THEN s.key_id END,"
	" CASE WHEN $2 THEN s.nonce END,"
	" CASE WHEN $2 THEN s.ciphertext END, s.allowed_hosts"
	" FROM aistudio.secrets s WHERE s.name IN"
	" (SELECT substr(l.api_key_ref, 9) FROM aistudio.llms l"
	"  WHERE l.namespace IN ('', $1) AND l.api_key_ref LIKE '$SECRET/%')"
	" ORDER BY s.id",

	[SQ_VENDORS] =
	"SELECT name, wire_format, auth_header, key_required, default_endpoint,"
	" prompt_includes_cache_reads FROM aistudio.vendors ORDER BY name COLLATE \"C\"",
};

/* Plans are prepared once per backend and kept (the plan cache revalidates them). */
static SPIPlanPtr plans[SQ_COUNT];

/* One deformed row of a query result. */
typedef struct Row
{
	Datum		v[SNAPSHOT_MAX_COLUMNS];
	bool		null[SNAPSHOT_MAX_COLUMNS];
} Row;

/*
 * The rows of a link table (llm_filters, llm_plugins, app_llms) as
 * parallel arrays sorted by owner id, consumed in owner order; a third
 * column, when the query has one, is the link's position (llm_filters,
 * llm_plugins), a fourth its flag (llm_plugins.fail_open).
 */
typedef struct Links
{
	uint64		n;
	uint64		pos;
	int64_t    *owner;
	int64_t    *target;
	int32_t    *position;		/* NULL without a position column */
	protobuf_c_boolean *flag;	/* NULL without a flag column */
} Links;

/* Run query q (SPI connected); rows land in SPI_tuptable. */
static void
RunQuery(SnapshotQuery q, const char *ns, bool full)
{
	Datum		args[2];
	int			rc;

	if (plans[q] == NULL)
	{
		Oid			argtypes[2] = {TEXTOID, BOOLOID};
		SPIPlanPtr	plan = SPI_prepare(query_text[q], 2, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare snapshot query %d: %s", (int) q,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep snapshot query %d", (int) q);
		plans[q] = plan;
	}
	args[0] = CStringGetTextDatum(ns);
	args[1] = BoolGetDatum(full);
	rc = SPI_execute_plan(plans[q], args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "snapshot query %d failed: %s", (int) q, SPI_result_code_string(rc));
	Assert(SPI_tuptable->tupdesc->natts <= SNAPSHOT_MAX_COLUMNS);
}

/* Deform row i of tt once (SPI_getbinval would walk the tuple per column). */
static inline void
GetRow(SPITupleTable *tt, uint64 i, Row *row)
{
	heap_deform_tuple(tt->vals[i], tt->tupdesc, row->v, row->null);
}

/* ---- column readers (0-based); results are palloc'd in the current context ---- */

static inline char *
ColText(const Row *row, int col)
{
	return row->null[col] ? "" : TextDatumGetCString(row->v[col]);
}

static inline int64
ColInt64(const Row *row, int col)
{
	return row->null[col] ? 0 : DatumGetInt64(row->v[col]);
}

static inline bool
ColBool(const Row *row, int col)
{
	return row->null[col] ? false : DatumGetBool(row->v[col]);
}

/* A bytea column, copied out of the tuple; false when null */
static bool
ColBytes(const Row *row, int col, ProtobufCBinaryData *out)
{
	bytea	   *b;

	if (row->null[col])
		return false;
	b = DatumGetByteaPP(row->v[col]);
	out->len = VARSIZE_ANY_EXHDR(b);
	out->data = palloc(out->len + 1);
	memcpy(out->data, VARDATA_ANY(b), out->len);
	return true;
}

static size_t
ColTextArray(const Row *row, int col, char ***out)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	*out = NULL;
	if (row->null[col])
		return 0;
	deconstruct_array(DatumGetArrayTypeP(row->v[col]), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	if (n == 0)
		return 0;
	*out = palloc(n * sizeof(char *));
	for (int i = 0; i < n; i++)
		(*out)[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	return n;
}

/* A SealedValue from three columns (key_id, nonce, ciphertext); NULL if absent */
static Aistudio__V1__SealedValue *
ColSealed(const Row *row, int col, char *aad)
{
	Aistudio__V1__SealedValue *sv = palloc(sizeof(*sv));

	aistudio__v1__sealed_value__init(sv);
	if (!ColBytes(row, col + 2, &sv->ciphertext))
		return NULL;
	sv->key_id = ColText(row, col);
	ColBytes(row, col + 1, &sv->nonce);
	sv->aad = aad;
	return sv;
}

/* ---- link tables ---- */

static void
LoadLinks(Links *links, SPITupleTable *tt, uint64 n)
{
	Row			row;

	links->n = n;
	links->pos = 0;
	links->owner = palloc((n + 1) * sizeof(int64_t));
	links->target = palloc((n + 1) * sizeof(int64_t));
	links->position = tt->tupdesc->natts >= 3 ? palloc((n + 1) * sizeof(int32_t)) : NULL;
	links->flag = tt->tupdesc->natts >= 4 ? palloc((n + 1) * sizeof(protobuf_c_boolean)) : NULL;
	for (uint64 i = 0; i < n; i++)
	{
		GetRow(tt, i, &row);
		links->owner[i] = ColInt64(&row, 0);
		links->target[i] = ColInt64(&row, 1);
		if (links->position != NULL)
			links->position[i] = DatumGetInt32(row.v[2]);
		if (links->flag != NULL)
			links->flag[i] = ColBool(&row, 3);
	}
}

/*
 * The targets of owner (owners are visited in ascending id order, like the
 * link rows); *out (and *pos_out, the positions, when not NULL) point into
 * the links' arrays, which outlive the message.
 */
static size_t
TakeLinks(Links *links, int64_t owner, int64_t **out, int32_t **pos_out)
{
	uint64		start;

	while (links->pos < links->n && links->owner[links->pos] < owner)
		links->pos++;
	start = links->pos;
	while (links->pos < links->n && links->owner[links->pos] == owner)
		links->pos++;
	*out = links->pos > start ? &links->target[start] : NULL;
	if (pos_out != NULL)
		*pos_out = links->pos > start && links->position != NULL ? &links->position[start] : NULL;
	return links->pos - start;
}

/* ---- one loader per table; each runs in the caller's context ---- */

static void
LoadLlms(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n, bool full,
		 Links *filters, Links *plugins)
{
	Row			row;

	snap->n_llms = n;
	snap->llms = palloc(n * sizeof(Aistudio__V1__Llm *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__Llm *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__llm__init(m);
		m->id = ColInt64(&row, 0);
		m->name = ColText(&row, 1);
		m->slug = ColText(&row, 2);
		m->vendor = ColText(&row, 3);
		m->api_endpoint = ColText(&row, 4);
		m->api_key_ref = ColText(&row, 5);
		if (full)
			m->api_key = ColSealed(&row, 6, psprintf("llm:" INT64_FORMAT, (int64) m->id));
		m->api_key_version = ColInt64(&row, 9);
		m->default_model = ColText(&row, 10);
		m->n_allowed_models = ColTextArray(&row, 11, &m->allowed_models);
		m->namespace_ = ColText(&row, 12);
		m->active = ColBool(&row, 13);
		m->monthly_budget = ColText(&row, 14);
		m->budget_start_date = ColText(&row, 15);
		m->monthly_budget_nanos = ColInt64(&row, 16);
		m->rate_limit_rpm = ColInt64(&row, 17);
		m->rate_limit_tpm = ColInt64(&row, 18);
		m->capture_bodies = ColBool(&row, 19);
		m->capture_max_bytes = (int32) ColInt64(&row, 20);
		m->n_filter_ids = TakeLinks(filters, m->id, &m->filter_ids, &m->filter_positions);
		m->n_filter_positions = m->filter_positions != NULL ? m->n_filter_ids : 0;
		m->n_plugin_ids = TakeLinks(plugins, m->id, &m->plugin_ids, &m->plugin_positions);
		m->n_plugin_positions = m->plugin_positions != NULL ? m->n_plugin_ids : 0;
		if (m->n_plugin_ids > 0 && plugins->flag != NULL)
		{
			m->plugin_fail_open = &plugins->flag[m->plugin_ids - plugins->target];
			m->n_plugin_fail_open = m->n_plugin_ids;
		}
		snap->llms[i] = m;
	}
}

static void
LoadPrices(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n)
{
	Row			row;

	snap->n_prices = n;
	snap->prices = palloc(n * sizeof(Aistudio__V1__ModelPrice *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__ModelPrice *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__model_price__init(m);
		m->id = ColInt64(&row, 0);
		m->vendor = ColText(&row, 1);
		m->model_name = ColText(&row, 2);
		m->input_per_mtok = ColText(&row, 3);
		m->output_per_mtok = ColText(&row, 4);
		m->cache_write_per_mtok = ColText(&row, 5);
		m->cache_read_per_mtok = ColText(&row, 6);
		m->currency = ColText(&row, 7);
		m->input_nanos_per_mtok = ColInt64(&row, 8);
		m->output_nanos_per_mtok = ColInt64(&row, 9);
		m->cache_write_nanos_per_mtok = ColInt64(&row, 10);
		m->cache_read_nanos_per_mtok = ColInt64(&row, 11);
		snap->prices[i] = m;
	}
}

static void
LoadApps(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n, Links *llms)
{
	Row			row;

	snap->n_apps = n;
	snap->apps = palloc(n * sizeof(Aistudio__V1__App *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__App *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__app__init(m);
		m->id = ColInt64(&row, 0);
		m->name = ColText(&row, 1);
		m->owner_id = ColInt64(&row, 2);
		m->monthly_budget = ColText(&row, 3);
		m->budget_start_date = ColText(&row, 4);
		m->namespace_ = ColText(&row, 5);
		m->active = ColBool(&row, 6);
		m->monthly_budget_nanos = ColInt64(&row, 7);
		m->rate_limit_rpm = ColInt64(&row, 8);
		m->rate_limit_tpm = ColInt64(&row, 9);
		m->n_llm_ids = TakeLinks(llms, m->id, &m->llm_ids, NULL);
		snap->apps[i] = m;
	}
}

static void
LoadFilters(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n)
{
	Row			row;

	snap->n_filters = n;
	snap->filters = palloc(n * sizeof(Aistudio__V1__Filter *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__Filter *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__filter__init(m);
		m->id = ColInt64(&row, 0);
		m->name = ColText(&row, 1);
		m->filter_type = ColText(&row, 2);
		m->stage = ColText(&row, 3);
		m->config_json = ColText(&row, 4);
		m->namespace_ = ColText(&row, 5);
		m->active = ColBool(&row, 6);
		snap->filters[i] = m;
	}
}

static void
LoadPlugins(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n)
{
	Row			row;

	snap->n_plugins = n;
	snap->plugins = palloc(n * sizeof(Aistudio__V1__Plugin *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__Plugin *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__plugin__init(m);
		m->id = ColInt64(&row, 0);
		m->name = ColText(&row, 1);
		m->plugin_type = ColText(&row, 2);
		m->hook = ColText(&row, 3);
		m->command = ColText(&row, 4);
		m->config_json = ColText(&row, 5);
		m->namespace_ = ColText(&row, 6);
		m->active = ColBool(&row, 7);
		snap->plugins[i] = m;
	}
}

static void
LoadSecrets(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n, bool full)
{
	Row			row;

	snap->n_secrets = n;
	snap->secrets = palloc(n * sizeof(Aistudio__V1__Secret *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__Secret *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__secret__init(m);
		m->id = ColInt64(&row, 0);
		m->name = ColText(&row, 1);
		m->version = ColInt64(&row, 2);
		if (full)
			m->value = ColSealed(&row, 3, psprintf("secret:%s", m->name));
		m->n_allowed_hosts = ColTextArray(&row, 6, &m->allowed_hosts);
		snap->secrets[i] = m;
	}
}

static void
LoadVendors(Aistudio__V1__Snapshot *snap, SPITupleTable *tt, uint64 n)
{
	Row			row;

	snap->n_vendors = n;
	snap->vendors = palloc(n * sizeof(Aistudio__V1__Vendor *));
	for (uint64 i = 0; i < n; i++)
	{
		Aistudio__V1__Vendor *m = palloc(sizeof(*m));

		GetRow(tt, i, &row);
		aistudio__v1__vendor__init(m);
		m->name = ColText(&row, 0);
		m->wire_format = ColText(&row, 1);
		m->auth_header = ColText(&row, 2);
		m->key_required = ColBool(&row, 3);
		m->default_endpoint = ColText(&row, 4);
		m->prompt_includes_cache_reads = ColBool(&row, 5);
		snap->vendors[i] = m;
	}
}

/*
 * Fill snap with namespace ns.  full = false builds the checksum input: no
 * apps, no sealed values.  Everything is allocated in the caller's context;
 * the read-only queries share one MVCC snapshot, so the message is
 * consistent.
 */
static void
SnapshotBuild(Aistudio__V1__Snapshot *snap, const char *ns, bool full)
{
	MemoryContext callctx = CurrentMemoryContext;
	MemoryContext spictx;
	Links		llm_filters = {0};
	Links		llm_plugins = {0};
	Links		app_llms = {0};

	aistudio__v1__snapshot__init(snap);
	snap->format_version = SNAPSHOT_FORMAT_VERSION;
	snap->namespace_ = pstrdup(ns);

	SPI_connect();
	spictx = CurrentMemoryContext;

	RunQuery(SQ_NAMESPACE, ns, full);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown namespace \"%s\"", ns),
				 errhint("Create it with aistudio.create_namespace().")));

	for (int q = SQ_LLM_FILTERS; q < SQ_COUNT; q++)
	{
		SPITupleTable *tt;
		uint64		n;

		if (!full && (q == SQ_APPS || q == SQ_APP_LLMS))
			continue;
		RunQuery((SnapshotQuery) q, ns, full);
		tt = SPI_tuptable;
		n = SPI_processed;

		MemoryContextSwitchTo(callctx);
		switch ((SnapshotQuery) q)
		{
			case SQ_LLM_FILTERS:
				LoadLinks(&llm_filters, tt, n);
				break;
			case SQ_LLM_PLUGINS:
				LoadLinks(&llm_plugins, tt, n);
				break;
			case SQ_LLMS:
				LoadLlms(snap, tt, n, full, &llm_filters, &llm_plugins);
				break;
			case SQ_PRICES:
				LoadPrices(snap, tt, n);
				break;
			case SQ_APP_LLMS:
				LoadLinks(&app_llms, tt, n);
				break;
			case SQ_APPS:
				LoadApps(snap, tt, n, &app_llms);
				break;
			case SQ_FILTERS:
				LoadFilters(snap, tt, n);
				break;
			case SQ_PLUGINS:
				LoadPlugins(snap, tt, n);
				break;
			case SQ_SECRETS:
				LoadSecrets(snap, tt, n, full);
				break;
			case SQ_VENDORS:
				LoadVendors(snap, tt, n);
				break;
			default:
				break;
		}
		MemoryContextSwitchTo(spictx);
		SPI_freetuptable(tt);
	}
	SPI_finish();
}

/* Serialize into a palloc'd bytea */
static bytea *
SnapshotPack(const Aistudio__V1__Snapshot *snap)
{
	size_t		len = aistudio__v1__snapshot__get_packed_size(snap);
	bytea	   *out;

	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("snapshot is too large (%zu bytes)", len)));
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	aistudio__v1__snapshot__pack(snap, (uint8_t *) VARDATA(out));
	return out;
}

bytea *
SnapshotSerialize(const char *ns)
{
	Aistudio__V1__Snapshot snap;

	SnapshotBuild(&snap, ns, true);
	return SnapshotPack(&snap);
}

/*
 * The checksum rule: drop what the checksum excludes from snap (apps, every
 * SealedValue), serialize, SHA-256, lowercase hex into out
 * (SNAPSHOT_CHECKSUM_HEX_LEN + 1 bytes).  Modifies snap.
 */
static void
SnapshotDigest(Aistudio__V1__Snapshot *snap, char *out)
{
	static const char hex[] = "0123456789abcdef";
	bytea	   *packed;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx;

	snap->n_apps = 0;
	snap->apps = NULL;
	for (size_t i = 0; i < snap->n_llms; i++)
		snap->llms[i]->api_key = NULL;
	for (size_t i = 0; i < snap->n_secrets; i++)
		snap->secrets[i]->value = NULL;
	packed = SnapshotPack(snap);

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) VARDATA(packed), VARSIZE(packed) - VARHDRSZ) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the snapshot checksum: %s",
						ctx ? pg_cryptohash_error(ctx) : "out of memory")));
	pg_cryptohash_free(ctx);

	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[SNAPSHOT_CHECKSUM_HEX_LEN] = '\0';
	pfree(packed);
}

void
SnapshotChecksum(const char *ns, char *out)
{
	Aistudio__V1__Snapshot snap;

	/* built without apps and sealed values: the digest drops nothing more */
	SnapshotBuild(&snap, ns, false);
	SnapshotDigest(&snap, out);
}

/* protobuf-c allocations in the current memory context */
static void *
SnapshotAlloc(void *data, size_t size)
{
	return palloc(size);
}

static void
SnapshotFree(void *data, void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

void
SnapshotChecksumOf(const uint8 *bytes, size_t len, char *out)
{
	ProtobufCAllocator alloc = {SnapshotAlloc, SnapshotFree, NULL};
	Aistudio__V1__Snapshot *snap;

	snap = aistudio__v1__snapshot__unpack(&alloc, len, bytes);
	if (snap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the snapshot is not a valid aistudio.v1.Snapshot message"),
				 errdetail("%zu bytes could not be decoded.", len)));
	SnapshotDigest(snap, out);
}

static char *
NamespaceArg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("namespace must not be null"),
				 errhint("Use '' for the global namespace.")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/* aistudio.snapshot(namespace text DEFAULT '') -> bytea */
Datum
aistudio_snapshot(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(SnapshotSerialize(NamespaceArg(fcinfo)));
}

/* aistudio.snapshot_checksum_of(snapshot bytea) -> text (64 hex) */
Datum
aistudio_snapshot_checksum_of(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	char		hexsum[SNAPSHOT_CHECKSUM_HEX_LEN + 1];

	SnapshotChecksumOf((const uint8 *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), hexsum);
	PG_RETURN_TEXT_P(cstring_to_text(hexsum));
}

/* aistudio.snapshot_checksum(namespace text DEFAULT '') -> text (64 hex) */
Datum
aistudio_snapshot_checksum(PG_FUNCTION_ARGS)
{
	char		hexsum[SNAPSHOT_CHECKSUM_HEX_LEN + 1];

	SnapshotChecksum(NamespaceArg(fcinfo), hexsum);
	PG_RETURN_TEXT_P(cstring_to_text(hexsum));
}
