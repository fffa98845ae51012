/*-------------------------------------------------------------------------
 * src/pricing.c
 *		The cost of one LLM call: price lookup (exact model name, else the
 *		longest configured prefix) and each vendor's token semantics.
 *
 * Analytics ingestion prices every event in the database (tens of
 * thousands per second), so each backend keeps aistudio.model_prices in a
 * hash table keyed by (vendor, model_name).  Prices are stored per token
 * (the per-million price times 10^-6, an exact NUMERIC product) with null
 * cache prices already replaced by the input price.  A longest-prefix
 * lookup probes, longest first, only the model-name lengths configured for
 * that vendor; the last answer is memoised because ingestion batches
 * repeat the same few models.
 *
 * Invalidation protocol: a statement-level trigger on model_prices calls
 * model_prices_changed(), which queues a relcache invalidation of the
 * table.  It is applied locally at the next command and sent to every
 * other backend at commit; our relcache callback then marks the cache
 * stale.  The cache is loaded with the latest snapshot, so a change
 * committed before the load is in it and one committed later sends an
 * invalidation we have not consumed yet.  An invalidation that arrives
 * during the load (the table lock accepts pending messages) leaves the
 * cache marked stale.  In parallel mode no new snapshot may be taken; a
 * cache loaded there with the query's snapshot is trusted only until the
 * end of the transaction.
 *
 * Token semantics are applied here and only here, from the table
 * aistudio.vendors (prompt_includes_cache_reads), which the cache loads with
 * the prices (its trigger invalidates the cache like a price change does).  aistudio.cost() refuses
 * counts that break them (22023); analytics ingestion must never lose a
 * request, so it first makes an upstream's counts consistent with
 * aistudio.clamp_usage() (negative counts become 0; cached reads inside
 * the prompt are at most the prompt) and records what it changed.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "aistudio.h"
#include "pricing.h"

PG_FUNCTION_INFO_V1(aistudio_cost);
PG_FUNCTION_INFO_V1(aistudio_price_event);
PG_FUNCTION_INFO_V1(aistudio_clamp_usage);
PG_FUNCTION_INFO_V1(aistudio_model_prices_changed);

/*
 * A vendor as aistudio.vendors defines it (the one list of vendors): its
 * name and whether its prompt token count includes cached reads.  Loaded
 * with the prices, into the same cache.
 */
typedef struct PricingVendor
{
	char	   *name;
	bool		prompt_includes_cache_reads;
} PricingVendor;

/* Hash key: the model name is not copied by dynahash, only this struct. */
typedef struct PriceKey
{
	int			vendor;
	int			len;
	const char *model;
} PriceKey;

/* One configured price, per token. */
typedef struct PriceEntry
{
	PriceKey	key;			/* model points into PriceCacheContext */
	Numeric		input;
	Numeric		output;
	Numeric		cache_write;
	Numeric		cache_read;
	char		currency[PRICING_CURRENCY_LEN];
} PriceEntry;

/* Distinct model-name lengths of one vendor, longest first. */
typedef struct VendorLengths
{
	int		   *lengths;
	int			count;
	int			capacity;
} VendorLengths;

#define MEMO_MAX_MODEL 256

static MemoryContext PriceCacheContext = NULL;
static HTAB *PriceHash = NULL;
static VendorLengths *PriceLengths;	/* one per vendor */
static PricingVendor *vendors;	/* aistudio.vendors, in the cache context */
static int	num_vendors;
static bool price_cache_valid = false;
static bool price_cache_transient = false;
static LocalTransactionId price_cache_lxid = InvalidLocalTransactionId;
static Oid	price_relid = InvalidOid;
static Oid	vendors_relid = InvalidOid;
static uint64 price_inval_count = 0;
static uint64 price_generation = 0;
static bool price_callback_registered = false;

/* memo of the last lookup */
static uint64 memo_generation = 0;
static int	memo_vendor = -1;
static int	memo_len = -1;
static char memo_model[MEMO_MAX_MODEL];
static PriceEntry *memo_entry = NULL;

/* The four token counts of a PricingUsage, in argument order, by name. */
#define USAGE_COUNTS 4
static const char *const usage_count_names[USAGE_COUNTS] = {
	"prompt_tokens", "response_tokens", "cache_write_tokens", "cache_read_tokens"
};

static void
UsageCounts(PricingUsage *usage, int64 *counts[USAGE_COUNTS])
{
	counts[0] = &usage->prompt_tokens;
	counts[1] = &usage->response_tokens;
	counts[2] = &usage->cache_write_tokens;
	counts[3] = &usage->cache_read_tokens;
}

static uint32
PriceKeyHash(const void *key, Size keysize)
{
	const PriceKey *k = (const PriceKey *) key;

	return hash_bytes((const unsigned char *) k->model, k->len) ^
		((uint32) k->vendor * 0x9e3779b9U);
}

static int
PriceKeyMatch(const void *key1, const void *key2, Size keysize)
{
	const PriceKey *a = (const PriceKey *) key1;
	const PriceKey *b = (const PriceKey *) key2;

	if (a->vendor != b->vendor || a->len != b->len)
		return 1;
	return memcmp(a->model, b->model, a->len);
}

/*
 * Relcache callback: any invalidation of model_prices (or a full reset)
 * makes the cache stale.  Only flags change here; the memory is reset by
 * the next load, never while a lookup may be using it.
 */
static void
PriceCacheInvalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == price_relid || relid == vendors_relid)
	{
		price_cache_valid = false;
		price_relid = InvalidOid;
		vendors_relid = InvalidOid;
		price_inval_count++;
	}
}

static void PriceCacheLoad(void);

/* Loads the cache when it is stale. */
static void
PriceCacheEnsure(void)
{
	if (!price_cache_valid ||
		(price_cache_transient && price_cache_lxid != MyProc->lxid))
		PriceCacheLoad();
}

/* Index of a vendor name in the list as loaded, or -1. */
static int
VendorFind(const char *name)
{
	for (int i = 0; i < num_vendors; i++)
		if (strcmp(name, vendors[i].name) == 0)
			return i;
	return -1;
}

/* Index of a vendor name (the cache loaded first), or -1. */
static int
VendorIndex(const char *name)
{
	PriceCacheEnsure();
	return VendorFind(name);
}

static int
AttnumByName(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	elog(ERROR, "column \"%s\" not found in an aistudio table", name);
	return -1;					/* keep compiler quiet */
}

static Oid
AistudioRelid(const char *name)
{
	Oid			nsp = get_namespace_oid("aistudio", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table aistudio.%s does not exist", name),
				 errhint("Install the extension with CREATE EXTENSION pg_aistudio.")));
	return relid;
}

/* The vendor list from aistudio.vendors, into the cache context. */
static void
VendorsLoad(Snapshot snapshot)
{
	Relation	rel = table_open(vendors_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			a_name = AttnumByName(desc, "name");
	int			a_cache = AttnumByName(desc, "prompt_includes_cache_reads");
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	int			cap = 8;

	num_vendors = 0;
	vendors = MemoryContextAlloc(PriceCacheContext, cap * sizeof(PricingVendor));
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		slot_getallattrs(slot);
		if (slot->tts_isnull[a_name])
			continue;
		if (num_vendors == cap)
		{
			cap *= 2;
			vendors = repalloc(vendors, cap * sizeof(PricingVendor));
		}
		vendors[num_vendors].name = MemoryContextStrdup(PriceCacheContext,
														TextDatumGetCString(slot->tts_values[a_name]));
		vendors[num_vendors].prompt_includes_cache_reads =
			!slot->tts_isnull[a_cache] && DatumGetBool(slot->tts_values[a_cache]);
		num_vendors++;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, AccessShareLock);
	PriceLengths = MemoryContextAllocZero(PriceCacheContext, Max(num_vendors, 1) * sizeof(VendorLengths));
}

/* The hint listing the vendors (an unknown vendor's error). */
static char *
VendorHint(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "Vendors are");
	for (int i = 0; i < num_vendors; i++)
		appendStringInfo(&buf, "%s %s", i == 0 ? "" : (i == num_vendors - 1 ? " and" : ","), vendors[i].name);
	appendStringInfoString(&buf, " (aistudio.vendors).");
	return buf.data;
}

static void
RememberLength(int vendor, int len)
{
	VendorLengths *vl = &PriceLengths[vendor];

	for (int i = 0; i < vl->count; i++)
		if (vl->lengths[i] == len)
			return;
	if (vl->count == vl->capacity)
	{
		vl->capacity = vl->capacity == 0 ? 16 : vl->capacity * 2;
		vl->lengths = vl->lengths == NULL
			? MemoryContextAlloc(PriceCacheContext, vl->capacity * sizeof(int))
			: repalloc(vl->lengths, vl->capacity * sizeof(int));
	}
	vl->lengths[vl->count++] = len;
}

static int
CompareLengthDesc(const void *a, const void *b)
{
	return *(const int *) b - *(const int *) a;
}

/* price per million tokens -> price per token, in the cache context */
static Numeric
PerToken(Datum per_mtok, Numeric one_millionth)
{
	Numeric		n = numeric_mul_opt_error(DatumGetNumeric(per_mtok), one_millionth, NULL);
	Numeric		copy = MemoryContextAlloc(PriceCacheContext, VARSIZE(n));

	memcpy(copy, n, VARSIZE(n));
	return copy;
}

/*
 * (Re)load every configured price into a fresh hash table.
 */
static void
PriceCacheLoad(void)
{
	uint64		inval_at_start;
	Oid			relid;
	Relation	rel;
	TupleDesc	desc;
	Snapshot	snapshot;
	bool		transient;
	TableScanDesc scan;
	TupleTableSlot *slot;
	HASHCTL		ctl;
	Numeric		one_millionth;
	int			a_vendor,
				a_model,
				a_input,
				a_output,
				a_cw,
				a_cr,
				a_currency;

	if (!price_callback_registered)
	{
		CacheRegisterRelcacheCallback(PriceCacheInvalidate, (Datum) 0);
		price_callback_registered = true;
	}
	price_cache_valid = false;
	PriceHash = NULL;
	memo_entry = NULL;
	memo_vendor = -1;
	price_generation++;
	if (PriceCacheContext == NULL)
		PriceCacheContext = AllocSetContextCreate(CacheMemoryContext,
												  "pg_aistudio price cache",
												  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(PriceCacheContext);
	PriceLengths = NULL;
	vendors = NULL;
	num_vendors = 0;

	inval_at_start = price_inval_count;
	relid = AistudioRelid("model_prices");
	vendors_relid = AistudioRelid("vendors");
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	a_vendor = AttnumByName(desc, "vendor");
	a_model = AttnumByName(desc, "model_name");
	a_input = AttnumByName(desc, "input_per_mtok");
	a_output = AttnumByName(desc, "output_per_mtok");
	a_cw = AttnumByName(desc, "cache_write_per_mtok");
	a_cr = AttnumByName(desc, "cache_read_per_mtok");
	a_currency = AttnumByName(desc, "currency");

	transient = IsInParallelMode();
	if (!transient)
		snapshot = GetLatestSnapshot();
	else if (ActiveSnapshotSet())
		snapshot = GetActiveSnapshot();
	else
		snapshot = GetTransactionSnapshot();
	snapshot = RegisterSnapshot(snapshot);
	VendorsLoad(snapshot);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(PriceKey);
	ctl.entrysize = sizeof(PriceEntry);
	ctl.hash = PriceKeyHash;
	ctl.match = PriceKeyMatch;
	ctl.hcxt = PriceCacheContext;
	PriceHash = hash_create("pg_aistudio model prices", 64, &ctl,
							HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);

	one_millionth = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														CStringGetDatum("0.000001"),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		char	   *vendor_name;
		char	   *model;
		char	   *currency;
		int			vendor;
		PriceKey	key;
		PriceEntry *entry;
		bool		found;

		slot_getallattrs(slot);
		if (slot->tts_isnull[a_vendor] || slot->tts_isnull[a_model] ||
			slot->tts_isnull[a_input] || slot->tts_isnull[a_output])
			continue;
		vendor_name = TextDatumGetCString(slot->tts_values[a_vendor]);
		vendor = VendorFind(vendor_name);
		if (vendor < 0)
			continue;
		model = MemoryContextStrdup(PriceCacheContext,
									TextDatumGetCString(slot->tts_values[a_model]));
		key.vendor = vendor;
		key.len = strlen(model);
		key.model = model;
		entry = hash_search(PriceHash, &key, HASH_ENTER, &found);
		entry->key = key;
		entry->input = PerToken(slot->tts_values[a_input], one_millionth);
		entry->output = PerToken(slot->tts_values[a_output], one_millionth);
		entry->cache_write = slot->tts_isnull[a_cw] ? entry->input
			: PerToken(slot->tts_values[a_cw], one_millionth);
		entry->cache_read = slot->tts_isnull[a_cr] ? entry->input
			: PerToken(slot->tts_values[a_cr], one_millionth);
		currency = slot->tts_isnull[a_currency] ? "USD"
			: TextDatumGetCString(slot->tts_values[a_currency]);
		strlcpy(entry->currency, currency, sizeof(entry->currency));
		RememberLength(vendor, key.len);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	for (int v = 0; v < num_vendors; v++)
		if (PriceLengths[v].count > 1)
			qsort(PriceLengths[v].lengths, PriceLengths[v].count, sizeof(int),
				  CompareLengthDesc);

	price_relid = relid;
	price_cache_transient = transient;
	price_cache_lxid = MyProc->lxid;
	/* an invalidation consumed while loading means the data may be stale */
	price_cache_valid = (price_inval_count == inval_at_start);
}

/*
 * The price of (vendor, model): exact name, else the longest configured
 * name that is a prefix of model; NULL when none applies.
 */
static PriceEntry *
PriceLookup(int vendor, const char *model)
{
	int			len = strlen(model);
	VendorLengths *vl;
	PriceEntry *found = NULL;

	PriceCacheEnsure();

	if (memo_generation == price_generation && memo_vendor == vendor &&
		memo_len == len && memcmp(memo_model, model, len) == 0)
		return memo_entry;

	vl = &PriceLengths[vendor];
	for (int i = 0; i < vl->count; i++)
	{
		PriceKey	key;

		if (vl->lengths[i] > len)
			continue;
		key.vendor = vendor;
		key.len = vl->lengths[i];
		key.model = model;
		found = hash_search(PriceHash, &key, HASH_FIND, NULL);
		if (found != NULL)
			break;
	}

	if (len < MEMO_MAX_MODEL)
	{
		memcpy(memo_model, model, len);
		memo_len = len;
		memo_vendor = vendor;
		memo_entry = found;
		memo_generation = price_generation;
	}
	return found;
}

static void
CheckTokens(const char *what, int64 tokens)
{
	if (tokens < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what)));
}

/* sum + tokens * per_token (exact) */
static Numeric
AddTerm(Numeric sum, int64 tokens, Numeric per_token)
{
	if (tokens == 0)
		return sum;
	return numeric_add_opt_error(sum,
								 numeric_mul_opt_error(int64_to_numeric(tokens),
													   per_token, NULL),
								 NULL);
}

bool
PricingPriceEvent(const char *vendor_name, const char *model_name,
				  const PricingUsage *usage, Numeric *cost, char *currency)
{
	int			vendor = VendorIndex(vendor_name);
	PriceEntry *price;
	Numeric		sum;
	int64		uncached_prompt;

	if (vendor < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown vendor \"%s\"", vendor_name),
				 errhint("%s", VendorHint())));
	CheckTokens("prompt_tokens", usage->prompt_tokens);
	CheckTokens("response_tokens", usage->response_tokens);
	CheckTokens("cache_write_tokens", usage->cache_write_tokens);
	CheckTokens("cache_read_tokens", usage->cache_read_tokens);

	uncached_prompt = usage->prompt_tokens;
	if (vendors[vendor].prompt_includes_cache_reads)
	{
		if (usage->cache_read_tokens > usage->prompt_tokens)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cache_read_tokens (%lld) exceed prompt_tokens (%lld)",
							(long long) usage->cache_read_tokens,
							(long long) usage->prompt_tokens),
					 errdetail("For vendor %s the prompt token count includes cached reads.",
							   vendors[vendor].name)));
		uncached_prompt -= usage->cache_read_tokens;
	}

	price = PriceLookup(vendor, model_name);
	if (price == NULL)
	{
		*cost = int64_to_numeric(0);
		strlcpy(currency, "USD", PRICING_CURRENCY_LEN);
		return false;
	}

	sum = int64_to_numeric(0);
	sum = AddTerm(sum, uncached_prompt, price->input);
	sum = AddTerm(sum, usage->cache_write_tokens, price->cache_write);
	sum = AddTerm(sum, usage->cache_read_tokens, price->cache_read);
	sum = AddTerm(sum, usage->response_tokens, price->output);
	*cost = DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale,
												NumericGetDatum(sum)));
	strlcpy(currency, price->currency, PRICING_CURRENCY_LEN);
	return true;
}

/*
 * The token counts of a call from its arguments first .. first + 3
 * (prompt, response, cache write, cache read); a null count is 0.
 */
static void
UsageFromArgs(FunctionCallInfo fcinfo, int first, PricingUsage *usage)
{
	int64	   *counts[USAGE_COUNTS];

	UsageCounts(usage, counts);
	for (int i = 0; i < USAGE_COUNTS; i++)
		*counts[i] = PG_ARGISNULL(first + i) ? 0 : PG_GETARG_INT64(first + i);
}

/* The blessed row type a function returns, made once per call site (fn_extra). */
static TupleDesc
ResultRowType(FunctionCallInfo fcinfo)
{
	TupleDesc	desc = (TupleDesc) fcinfo->flinfo->fn_extra;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = desc;
	}
	return desc;
}

/*
 * aistudio.cost(vendor, model_name, prompt_tokens, response_tokens,
 *				 cache_write_tokens DEFAULT 0, cache_read_tokens DEFAULT 0)
 *		-> numeric (strict)
 */
Datum
aistudio_cost(PG_FUNCTION_ARGS)
{
	char	   *vendor = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *model = text_to_cstring(PG_GETARG_TEXT_PP(1));
	PricingUsage usage;
	Numeric		result;
	char		currency[PRICING_CURRENCY_LEN];

	UsageFromArgs(fcinfo, 2, &usage);
	PricingPriceEvent(vendor, model, &usage, &result, currency);
	PG_RETURN_NUMERIC(result);
}

/*
 * aistudio.price_event(vendor, model_name, prompt_tokens, response_tokens,
 *						cache_write_tokens, cache_read_tokens,
 *						OUT cost numeric, OUT currency text, OUT priced boolean)
 *
 * Not strict, for ingestion: a null model name is unpriced, null token
 * counts are 0.  A null vendor is an error like an unknown one.
 */
Datum
aistudio_price_event(PG_FUNCTION_ARGS)
{
	TupleDesc	desc = ResultRowType(fcinfo);
	PricingUsage usage;
	Numeric		result;
	char		currency[PRICING_CURRENCY_LEN];
	bool		priced;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vendor must not be null")));

	UsageFromArgs(fcinfo, 2, &usage);
	priced = PricingPriceEvent(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							   PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1)),
							   &usage, &result, currency);

	values[0] = NumericGetDatum(result);
	values[1] = CStringGetTextDatum(currency);
	values[2] = BoolGetDatum(priced);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* The separator before the next part of the note of clamp_usage. */
static void
NoteNext(StringInfo note)
{
	appendStringInfoString(note, note->len == 0 ? "usage clamped: " : "; ");
}

void
PricingClampUsage(const char *vendor_name, PricingUsage *usage, StringInfo note)
{
	int			vendor = vendor_name != NULL ? VendorIndex(vendor_name) : -1;
	int64	   *counts[USAGE_COUNTS];

	UsageCounts(usage, counts);
	for (int i = 0; i < USAGE_COUNTS; i++)
		if (*counts[i] < 0)
		{
			NoteNext(note);
			appendStringInfo(note, "%s %lld < 0", usage_count_names[i], (long long) *counts[i]);
			*counts[i] = 0;
		}
	/* no vendor counts cache writes inside the prompt: they only need >= 0 */
	if (vendor >= 0 && vendors[vendor].prompt_includes_cache_reads &&
		usage->cache_read_tokens > usage->prompt_tokens)
	{
		NoteNext(note);
		appendStringInfo(note, "cache_read_tokens %lld > prompt_tokens %lld",
						 (long long) usage->cache_read_tokens, (long long) usage->prompt_tokens);
		usage->cache_read_tokens = usage->prompt_tokens;
	}
}

/*
 * aistudio.clamp_usage(vendor, prompt_tokens, response_tokens,
 *						cache_write_tokens, cache_read_tokens)
 *		-> aistudio.event_usage (prompt_tokens, response_tokens,
 *								 cache_write_tokens, cache_read_tokens, note)
 *
 * The counts made consistent with the vendor's token semantics (see the
 * file header); note says what changed, NULL when nothing did.  Not strict:
 * null counts are 0; a null, 'unknown' or unlisted vendor gets only the
 * non-negative rule.
 */
Datum
aistudio_clamp_usage(PG_FUNCTION_ARGS)
{
	TupleDesc	desc = ResultRowType(fcinfo);
	PricingUsage usage;
	StringInfoData note;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	UsageFromArgs(fcinfo, 1, &usage);
	initStringInfo(&note);
	PricingClampUsage(PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0)), &usage, &note);

	values[0] = Int64GetDatum(usage.prompt_tokens);
	values[1] = Int64GetDatum(usage.response_tokens);
	values[2] = Int64GetDatum(usage.cache_write_tokens);
	values[3] = Int64GetDatum(usage.cache_read_tokens);
	if (note.len > 0)
		values[4] = CStringGetTextDatum(note.data);
	else
		nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * aistudio.model_prices_changed() -> trigger (statement level, AFTER
 * INSERT/UPDATE/DELETE/TRUNCATE on model_prices): tell every backend's
 * price cache, this one's at the next command and the others' at commit.
 */
Datum
aistudio_model_prices_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("model_prices_changed() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	PG_RETURN_POINTER(NULL);
}
