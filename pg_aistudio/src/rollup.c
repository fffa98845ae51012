/*-------------------------------------------------------------------------
 * src/rollup.c
 *		Rollups of the analytics events, month-to-date spend, budget
 *		periods and budget notifications.
 *
 * Ingestion appends per-batch aggregates of the rows it actually inserted
 * to the insert-only tables aistudio.rollup_pending (per hour and
 * dimensions) and aistudio.spend_pending (per day, app and LLM).
 * rollup_now() (run by the background worker every
 * pg_aistudio.rollup_interval seconds) deletes the pending rows it can see
 * and adds them to aistudio.usage_hourly, aistudio.usage_daily and
 * aistudio.spend_daily in the same statement, so a pending row is folded
 * exactly once and raw events are never rescanned.
 * Then it records the budget thresholds (50, 80, 90, 100 percent) that
 * apps and LLMs have newly crossed in the current budget period, once per
 * period, grouped per subject into one alert (what gatewayd delivers to
 * the alert targets: one delivery row per target), and announces each
 * threshold with NOTIFY aistudio_budget.
 *
 * All buckets and budget periods are UTC: the SQL functions of this module
 * pin timezone = 'UTC'.
 *
 * Locking protocol: rollup_now() and rollup_rebuild() serialise on the
 * transaction-level advisory lock (AISTUDIO_LOCK_CLASS,
 * AISTUDIO_LOCK_ROLLUP).  rollup_now() only tries it and returns 0 when a
 * rollup is already running; rollup_rebuild() waits for it.  Ingestion
 * takes no lock: it only inserts pending rows, and the DELETE of a rollup
 * sees exactly the committed ones.  Upserts are sorted by key.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/rangetypes.h"
#include "utils/typcache.h"

#include "aistudio.h"
#include "ingest.h"
#include "rollup.h"

PG_FUNCTION_INFO_V1(aistudio_budget_period);
PG_FUNCTION_INFO_V1(aistudio_rollup_now);

const int	RollupThresholds[ROLLUP_NUM_THRESHOLDS] = {50, 80, 90, 100};

/*
 * Add the pending rows of CTE p, grouped by `bucket` (an expression over
 * p.hour), to the rollup table `table`: one text for both rollups.
 */
#define ROLLUP_UPSERT(table, bucket) \
"  INSERT INTO aistudio." table " AS u (bucket, app_id, user_id, llm_id, vendor, model_name," \
"      interaction_type, currency, requests, errors, prompt_tokens, response_tokens," \
"      cache_write_tokens, cache_read_tokens, total_tokens, cost, latency_ms_sum)" \
"  SELECT " bucket ", p.app_id, p.user_id, p.llm_id, p.vendor, p.model_name, p.interaction_type," \
"         p.currency, sum(p.requests), sum(p.errors), sum(p.prompt_tokens), sum(p.response_tokens)," \
"         sum(p.cache_write_tokens), sum(p.cache_read_tokens), sum(p.total_tokens), sum(p.cost)," \
"         sum(p.latency_ms_sum)" \
"    FROM p GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8" \
"  ON CONFLICT (bucket, app_id, user_id, llm_id, vendor, model_name, interaction_type, currency)" \
"  DO UPDATE SET requests = u.requests + excluded.requests, errors = u.errors + excluded.errors," \
"      prompt_tokens = u.prompt_tokens + excluded.prompt_tokens," \
"      response_tokens = u.response_tokens + excluded.response_tokens," \
"      cache_write_tokens = u.cache_write_tokens + excluded.cache_write_tokens," \
"      cache_read_tokens = u.cache_read_tokens + excluded.cache_read_tokens," \
"      total_tokens = u.total_tokens + excluded.total_tokens, cost = u.cost + excluded.cost," \
"      latency_ms_sum = u.latency_ms_sum + excluded.latency_ms_sum"

/*
 * Fold every visible pending row; the CTEs' DELETEs and the three upserts
 * share one snapshot.  Errors count status_code >= 400 or 0 (no response).
 */
static const char *const fold_sql =
"WITH p AS ("
"  DELETE FROM aistudio.rollup_pending RETURNING *"
"), sp AS ("
"  DELETE FROM aistudio.spend_pending RETURNING *"
"), h AS ("
ROLLUP_UPSERT("usage_hourly", "p.hour")
"), d AS ("
ROLLUP_UPSERT("usage_daily", "p.hour::date")
"), s AS ("
"  INSERT INTO aistudio.spend_daily AS sd (subject, subject_id, day, cost)"
"  SELECT sp.subject, sp.subject_id, sp.day, sum(sp.cost) FROM sp"
"   GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
"  ON CONFLICT (subject, subject_id, day) DO UPDATE SET cost = sd.cost + excluded.cost"
")"
"SELECT count(*) FROM p";

/*
 * Record the thresholds ($1) crossed by the spend of the current budget
 * period of every app and LLM with a budget, once per period, and NOTIFY
 * each new one.  A threshold t is crossed when spent > 0 and
 * spent >= budget * t / 100 (so a zero budget is crossed by any spend).
 * The thresholds one subject crossed in this run are one alert
 * (aistudio.budget_alerts, its highest threshold): crossing 50, 80, 90 and
 * 100 % at once is one alert with four notifications, and one delivery to
 * each active alert target whose min_threshold it reaches
 * (aistudio.alert_deliveries, sent by gatewayd).  Rollups are serialised
 * (the advisory lock), so the NOT EXISTS below sees every earlier row; the
 * ON CONFLICT is a safety net only.
 */
static const char *const budget_sql =
"WITH subjects AS ("
"  SELECT 'app'::text AS subject, a.id AS subject_id, a.monthly_budget AS budget,"
"         aistudio.budget_period(a.budget_start_date, current_date) AS period"
"    FROM aistudio.apps a WHERE a.monthly_budget IS NOT NULL"
"  UNION ALL"
"  SELECT 'llm'::text, l.id, l.monthly_budget, aistudio.budget_period(l.budget_start_date, current_date)"
"    FROM aistudio.llms l WHERE l.monthly_budget IS NOT NULL"
"), spent AS ("
"  SELECT s.subject, s.subject_id, s.budget, lower(s.period) AS period_start,"
"         (SELECT coalesce(sum(d.cost), 0) FROM aistudio.spend_daily d"
"           WHERE d.subject = s.subject AND d.subject_id = s.subject_id"
"             AND d.day >= lower(s.period) AND d.day < upper(s.period)) AS spent"
"    FROM subjects s"
"), crossed AS ("
"  SELECT sp.subject, sp.subject_id, sp.period_start, t.threshold, sp.spent, sp.budget"
"    FROM spent sp CROSS JOIN unnest($1::integer[]) AS t(threshold)"
"   WHERE sp.spent > 0 AND sp.spent * 100 >= sp.budget * t.threshold"
"     AND NOT EXISTS (SELECT 1 FROM aistudio.budget_notifications n"
"                      WHERE n.subject = sp.subject AND n.subject_id = sp.subject_id"
"                        AND n.period_start = sp.period_start AND n.threshold = t.threshold)"
"), alerts AS ("
"  INSERT INTO aistudio.budget_alerts (subject, subject_id, period_start, threshold, spent, budget)"
"  SELECT c.subject, c.subject_id, c.period_start, max(c.threshold), min(c.spent), min(c.budget)"
"    FROM crossed c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
"  RETURNING id, subject, subject_id, period_start, threshold"
"), added AS ("
"  INSERT INTO aistudio.budget_notifications (subject, subject_id, period_start, threshold, spent, budget, alert_id)"
"  SELECT c.subject, c.subject_id, c.period_start, c.threshold, c.spent, c.budget, a.id"
"    FROM crossed c JOIN alerts a ON a.subject = c.subject AND a.subject_id = c.subject_id"
"     AND a.period_start = c.period_start"
"   ORDER BY 1, 2, 3, 4"
"  ON CONFLICT (subject, subject_id, period_start, threshold) DO NOTHING"
"  RETURNING id, subject, subject_id, period_start, threshold, spent, budget, alert_id"
"), deliveries AS ("
"  INSERT INTO aistudio.alert_deliveries (alert_id, target_id)"
"  SELECT a.id, t.id FROM alerts a JOIN aistudio.alert_targets t"
"      ON t.active AND a.threshold >= t.min_threshold"
"   ORDER BY 1, 2"
"  RETURNING alert_id"
")"
"SELECT pg_notify('aistudio_budget', json_build_object('id', id, 'subject', subject,"
"       'subject_id', subject_id, 'period_start', period_start, 'threshold', threshold,"
"       'spent', spent, 'budget', budget, 'alert_id', alert_id)::text)"
"  FROM added";

/* First day of the period in month (year, month): start_day, clamped. */
static DateADT
PeriodStartIn(int year, int month, int start_day)
{
	int			last = day_tab[isleap(year) ? 1 : 0][month - 1];

	return date2j(year, month, Min(start_day, last)) - POSTGRES_EPOCH_JDATE;
}

void
RollupBudgetPeriod(int start_day, DateADT at, DateADT *lo, DateADT *hi)
{
	int			year,
				month,
				day;
	DateADT		start;

	Assert(start_day >= 1 && start_day <= 31);
	j2date(at + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	start = PeriodStartIn(year, month, start_day);
	if (at < start)
	{
		/* before this month's start day: the period began last month */
		if (--month == 0)
		{
			month = 12;
			year--;
		}
		start = PeriodStartIn(year, month, start_day);
	}
	*lo = start;
	if (++month == 13)
	{
		month = 1;
		year++;
	}
	*hi = PeriodStartIn(year, month, start_day);
}

/*
 * aistudio.budget_period(start date, at date DEFAULT current_date) -> daterange
 *
 * The monthly budget period containing at, for a budget that starts on
 * start's day of the month (NULL start: the 1st).  On a day that a month
 * lacks (29-31) the period starts on that month's last day.  The range is
 * [first day, first day of the next period).  NULL at gives NULL.
 */
Datum
aistudio_budget_period(PG_FUNCTION_ARGS)
{
	DateADT		at;
	DateADT		lo,
				hi;
	int			start_day = 1;
	TypeCacheEntry *typcache;
	RangeBound	lower,
				upper;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	at = PG_GETARG_DATEADT(1);
	if (!PG_ARGISNULL(0))
	{
		DateADT		start = PG_GETARG_DATEADT(0);
		int			y,
					m;

		if (DATE_NOT_FINITE(start))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("budget start date must be finite")));
		j2date(start + POSTGRES_EPOCH_JDATE, &y, &m, &start_day);
	}
	/* keep a month of margin inside the date type's range */
	if (DATE_NOT_FINITE(at) ||
		at < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE + 62 ||
		at >= DATE_END_JULIAN - POSTGRES_EPOCH_JDATE - 62)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("no budget period contains date %s",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(at))))));

	RollupBudgetPeriod(start_day, at, &lo, &hi);

	typcache = lookup_type_cache(DATERANGEOID, TYPECACHE_RANGE_INFO);
	lower.val = DateADTGetDatum(lo);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = DateADTGetDatum(hi);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(make_range(typcache, &lower, &upper, false));
}

int64
RollupRun(void)
{
	int64		folded = 0;
	Datum		thresholds[ROLLUP_NUM_THRESHOLDS];
	Oid			argtypes[1] = {INT4ARRAYOID};
	Datum		args[1];
	bool		isnull;

	if (!DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
										  Int32GetDatum(AISTUDIO_LOCK_CLASS),
										  Int32GetDatum(AISTUDIO_LOCK_ROLLUP))))
		return 0;				/* another session is rolling up right now */

	/* keep the current and next month's partitions ready for ingestion */
	IngestEnsureCurrentPartitions();

	SPI_connect();
	if (SPI_execute(fold_sql, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not fold the pending analytics rows");
	folded = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	for (int i = 0; i < ROLLUP_NUM_THRESHOLDS; i++)
		thresholds[i] = Int32GetDatum(RollupThresholds[i]);
	args[0] = PointerGetDatum(construct_array(thresholds, ROLLUP_NUM_THRESHOLDS, INT4OID,
											  sizeof(int32), true, TYPALIGN_INT));
	if (SPI_execute_with_args(budget_sql, 1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not check the budgets");
	SPI_finish();
	return folded;
}

/*
 * aistudio.rollup_now() -> bigint: fold the pending analytics rows and
 * check budgets (see RollupRun).  SECURITY DEFINER, timezone UTC.
 */
Datum
aistudio_rollup_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(RollupRun());
}
