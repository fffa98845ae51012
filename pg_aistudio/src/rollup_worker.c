/*-------------------------------------------------------------------------
 * src/rollup_worker.c
 *		The background worker that periodically runs aistudio.rollup_now()
 *		in pg_aistudio.worker_database, every pg_aistudio.rollup_interval
 *		seconds (0 = never; the worker then only waits for a reload), and
 *		after it aistudio.purge_request_bodies() (captured bodies older than
 *		pg_aistudio.body_retention_days), one transaction per batch.
 *
 * The worker is registered from _PG_init when the library is preloaded.
 * A database without the extension is not an error: the worker waits and
 * looks again on its next turn.  An error inside a run (a lock timeout, a
 * bad row, an extension being upgraded) is logged in one line with its
 * message only, the transaction is aborted and the worker tries again
 * after a pause that doubles with each failure in a row; a FATAL error
 * ends the process and the postmaster restarts it after bgw_restart_time.
 * The rollup handles no secrets, so its errors carry none.
 *
 * The worker stays connected to its database, so DROP DATABASE of it needs
 * WITH (FORCE); the worker is then restarted after bgw_restart_time.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "aistudio.h"
#include "rollup_worker.h"

void
RollupWorkerRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_aistudio");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "aistudio_rollup_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_aistudio rollup worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_aistudio rollup worker");
	RegisterBackgroundWorker(&worker);
}

/*
 * One turn: if the extension is installed, run aistudio.rollup_now() in its
 * own transaction.
 */
static void
RollupWorkerTurn(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_aistudio rollup");

	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_aistudio'",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		if (SPI_execute("SELECT aistudio.rollup_now()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run aistudio.rollup_now()");
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* captured bodies deleted per transaction, and at most this many batches a turn */
#define PURGE_BATCH_ROWS 10000
#define PURGE_MAX_BATCHES 100

/*
 * After the rollup: captured bodies past their retention, one batch per
 * transaction (short locks, bounded WAL per commit), until a batch comes
 * back short or PURGE_MAX_BATCHES ran (the next turn goes on).
 */
static void
RollupWorkerPurgeBodies(void)
{
	for (int i = 0; i < PURGE_MAX_BATCHES; i++)
	{
		int64		n = 0;
		bool		isnull = true;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "pg_aistudio purge of request bodies");
		if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_aistudio'",
						true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			if (SPI_execute("SELECT aistudio.purge_request_bodies(" CppAsString2(PURGE_BATCH_ROWS) ")",
							false, 0) != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "could not run aistudio.purge_request_bodies()");
			n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		if (isnull || n < PURGE_BATCH_ROWS)
			break;
	}
}

/* consecutive failed turns; the wait between turns doubles with each */
static int	failed_turns = 0;

/*
 * One turn that survives an ERROR: the transaction is aborted, the error
 * state cleared and one line (the error message, no query text) logged, so
 * the worker lives on and retries after a growing pause.  Runs in the
 * worker's top-level memory context.
 */
static void
RollupWorkerTryTurn(void)
{
	MemoryContext ctx = CurrentMemoryContext;

	PG_TRY();
	{
		RollupWorkerTurn();
		RollupWorkerPurgeBodies();
		failed_turns = 0;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(ctx);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		MemoryContextSwitchTo(ctx);
		failed_turns++;
		ereport(LOG,
				(errcode(edata->sqlerrcode),
				 errmsg("pg_aistudio rollup failed: %s", edata->message),
				 errdetail("Failed %d time(s) in a row; the worker retries later.", failed_turns)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * Milliseconds until the next turn: the interval, doubled after each failed
 * turn up to 32 times the interval or 10 minutes, whichever is larger; an
 * hour (only a reload wakes us) when periodic runs are off.
 */
static long
RollupWorkerTimeout(void)
{
	long		ms;

	if (aistudio_rollup_interval <= 0)
		return 3600 * 1000L;
	ms = aistudio_rollup_interval * 1000L;
	if (failed_turns > 0)
		ms = Min(ms << Min(failed_turns, 5), Max(ms, 600 * 1000L));
	return ms;
}

void
aistudio_rollup_worker_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(aistudio_worker_database, NULL, 0);
	elog(LOG, "pg_aistudio rollup worker started in database \"%s\"", aistudio_worker_database);

	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RollupWorkerTimeout(), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			continue;
		}
		if (aistudio_rollup_interval > 0)
			RollupWorkerTryTurn();
	}
}
