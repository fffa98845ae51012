/*-------------------------------------------------------------------------
 * src/ingest.c
 *		Analytics ingestion support: the monthly partitions of
 *		aistudio.llm_interactions, created on demand.
 *
 * The ingestion itself is one set-based statement (aistudio.ingest_staged()
 * in sql/src/08_analytics.sql): it moves the staged rows out of
 * aistudio.interaction_staging, rejects the bad ones, prices the rest with
 * aistudio.price_event() and inserts them idempotently.  Before it runs, the
 * partitions for the months present in the batch (and for the current and
 * the next month) must exist; that is this file's job.
 *
 * Partitions are named llm_interactions_YYYYMM and cover one UTC month.  A
 * default partition (llm_interactions_default) catches rows inserted
 * directly into the parent for a month that has no partition yet; when that
 * month's partition is created, those rows move into it.
 *
 * Keys and indexes live on the partitions, not on the parent: each has the
 * primary key (request_id, "timestamp"), which makes a replayed event a
 * duplicate (ingest_staged()'s ON CONFLICT DO NOTHING, without a conflict
 * target, checks every unique index of the partition the row is routed to;
 * the key contains the partition key, so unique per partition is unique
 * overall), and the indexes of PartitionIndexes below.  The parent belongs to the extension while the monthly
 * partitions do not, so pg_dump dumps the partitions with their indexes and
 * attaches them in the restore; were the indexes partitioned indexes of the
 * parent, that ATTACH PARTITION would create them and the dumped CREATE
 * INDEX / ADD PRIMARY KEY would then fail.  The default partition belongs
 * to the extension and gets the same in sql/src/08_analytics.sql and
 * 13_requests.sql.
 *
 * Locking protocol: the common case (the partition exists) is one syscache
 * lookup per month and takes no lock.  To create a partition we take the
 * transaction-level advisory lock (AISTUDIO_LOCK_CLASS,
 * AISTUDIO_LOCK_PARTITIONS), accept invalidation messages and look again, so
 * two sessions never race to create the same month.  The partition is built
 * as a plain table and then attached: ATTACH PARTITION takes only SHARE
 * UPDATE EXCLUSIVE on the parent, so ingestion into other months and readers
 * are not blocked (the default partition is locked exclusively).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "aistudio.h"
#include "ingest.h"

PG_FUNCTION_INFO_V1(aistudio_ensure_interaction_partitions);

#define PARTITION_PREFIX "llm_interactions_"

/*
 * The UTC month containing ts: its year and month, and the instants where
 * it starts and where the next month starts.
 */
static void
UtcMonthOf(TimestampTz ts, int *year, int *month,
		   TimestampTz *start, TimestampTz *next)
{
	struct pg_tm tm;
	fsec_t		fsec;
	Timestamp	t;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9998)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("no interaction partition can hold timestamp %s",
						timestamptz_to_str(ts)),
				 errdetail("Partitions cover the months of the years 1 to 9998.")));
	*year = tm.tm_year;
	*month = tm.tm_mon;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = *year;
	tm.tm_mon = *month;
	tm.tm_mday = 1;
	if (tm2timestamp(&tm, 0, NULL, &t) != 0)
		elog(ERROR, "timestamp out of range");
	*start = t;

	tm.tm_mon = *month == 12 ? 1 : *month + 1;
	tm.tm_year = *month == 12 ? *year + 1 : *year;
	if (tm2timestamp(&tm, 0, NULL, &t) != 0)
		elog(ERROR, "timestamp out of range");
	*next = t;
}

/*
 * The indexes of every monthly partition besides its primary key: BRIN on
 * "timestamp" (time ranges of rollup_rebuild at a fraction of a B-tree's
 * insert cost) and one B-tree per filter of the request log
 * (aistudio.list_requests, sql/src/13_requests.sql), each ending in
 * ("timestamp", request_id), the log's order, so that a filtered page is a
 * backward walk of one index.  One more serves two filters together: app
 * and status ("this app's 429s"), where a walk of either one's index would
 * read every row of the other kind to find the few of both.  The default
 * partition gets the same (SECTION analytics and SECTION requests;
 * regress/sql/requests.sql compares them).
 */
static const struct
{
	const char *suffix;
	const char *definition;
}			PartitionIndexes[] =
{
	{"ts_idx", "USING brin (\"timestamp\")"},
	{"app_ts_idx", "(app_id, \"timestamp\", request_id)"},
	{"ts_rid_idx", "(\"timestamp\", request_id)"},
	{"user_ts_idx", "(user_id, \"timestamp\", request_id)"},
	{"llm_ts_idx", "(llm_id, \"timestamp\", request_id)"},
	{"model_ts_idx", "(model_name, \"timestamp\", request_id)"},
	{"status_ts_idx", "(status_code, \"timestamp\", request_id)"},
	{"app_status_ts_idx", "(app_id, status_code, \"timestamp\", request_id)"},
	{"error_ts_idx", "(aistudio.request_error_code(error), \"timestamp\", request_id) WHERE error IS NOT NULL"},
};

/*
 * A UTC timestamp literal for a partition bound (our own text, no input).
 */
static char *
BoundLiteral(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	return quote_literal_cstr(psprintf("%04d-%02d-%02d 00:00:00+00",
									   tm.tm_year, tm.tm_mon, tm.tm_mday));
}

/*
 * Create one month's partition; the caller holds the partition lock and
 * has checked that no relation of that name exists.  Runs inside SPI.
 */
static void
CreateMonthPartition(Oid nsp, const char *relname,
					 TimestampTz start, TimestampTz next)
{
	const char *qname = quote_qualified_identifier("aistudio", relname);
	Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[2] = {TimestampTzGetDatum(start), TimestampTzGetDatum(next)};

	if (SPI_execute(psprintf("CREATE TABLE %s (LIKE aistudio.llm_interactions"
							 " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)", qname),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create partition %s", qname);

	/* rows inserted directly into the parent before the month existed */
	if (OidIsValid(get_relname_relid("llm_interactions_default", nsp)) &&
		SPI_execute_with_args(psprintf("WITH moved AS (DELETE FROM aistudio.llm_interactions_default"
									   " WHERE \"timestamp\" >= $1 AND \"timestamp\" < $2 RETURNING *)"
									   " INSERT INTO %s SELECT * FROM moved", qname),
							  2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not move rows into partition %s", qname);

	/*
	 * The partition's own key and indexes (the parent has none, see the file
	 * header), built after the move and before the attach.
	 */
	if (SPI_execute(psprintf("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY (request_id, \"timestamp\")",
							 qname, quote_identifier(psprintf("%s_pkey", relname))),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not index partition %s", qname);
	for (int i = 0; i < lengthof(PartitionIndexes); i++)
		if (SPI_execute(psprintf("CREATE INDEX %s ON %s %s",
								 quote_identifier(psprintf("%s_%s", relname, PartitionIndexes[i].suffix)),
								 qname, PartitionIndexes[i].definition),
						false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not index partition %s", qname);

	if (SPI_execute(psprintf("ALTER TABLE aistudio.llm_interactions ATTACH PARTITION %s"
							 " FOR VALUES FROM (%s) TO (%s)",
							 qname, BoundLiteral(start), BoundLiteral(next)),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not attach partition %s", qname);
}

int
IngestEnsurePartitions(const TimestampTz *at, int n)
{
	Oid			nsp = get_namespace_oid("aistudio", false);
	bool		locked = false;
	bool		connected = false;
	int			created = 0;

	for (int i = 0; i < n; i++)
	{
		int			year,
					month;
		TimestampTz start,
					next;
		char		relname[NAMEDATALEN];

		UtcMonthOf(at[i], &year, &month, &start, &next);
		snprintf(relname, sizeof(relname), PARTITION_PREFIX "%04d%02d", year, month);
		if (OidIsValid(get_relname_relid(relname, nsp)))
			continue;

		if (!locked)
		{
			DirectFunctionCall2(pg_advisory_xact_lock_int4,
								Int32GetDatum(AISTUDIO_LOCK_CLASS),
								Int32GetDatum(AISTUDIO_LOCK_PARTITIONS));
			AcceptInvalidationMessages();
			locked = true;
			if (OidIsValid(get_relname_relid(relname, nsp)))
				continue;		/* another session made it meanwhile */
		}
		if (!connected)
		{
			SPI_connect();
			connected = true;
		}
		CreateMonthPartition(nsp, relname, start, next);
		created++;
	}
	if (connected)
		SPI_finish();
	return created;
}

void
IngestEnsureCurrentPartitions(void)
{
	TimestampTz at[2];
	TimestampTz next;
	int			year,
				month;

	UtcMonthOf(GetCurrentTransactionStartTimestamp(), &year, &month, &at[0], &next);
	at[1] = next;
	(void) IngestEnsurePartitions(at, 2);
}

/*
 * aistudio.ensure_interaction_partitions(months timestamptz[]) -> integer
 *
 * Creates the missing monthly partitions for the given timestamps (any
 * instant of the month will do; NULL elements are ignored) and returns how
 * many it created.  Called by ingest_staged() and rollup_now(); a DBA may
 * call it to pre-create months.
 */
Datum
aistudio_ensure_interaction_partitions(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				m = 0;
	TimestampTz *at;

	deconstruct_array(arr, TIMESTAMPTZOID, sizeof(TimestampTz), true, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	at = palloc(sizeof(TimestampTz) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			at[m++] = DatumGetTimestampTz(elems[i]);
	PG_RETURN_INT32(IngestEnsurePartitions(at, m));
}
