/*-------------------------------------------------------------------------
 * src/include/rollup.h
 *		Rollups, month-to-date spend, budget periods and budget
 *		notifications (src/rollup.c).
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_ROLLUP_H
#define AISTUDIO_ROLLUP_H

#include "postgres.h"

#include "utils/date.h"

/* Budget notification thresholds, percent of the monthly budget. */
#define ROLLUP_NUM_THRESHOLDS 4
extern const int RollupThresholds[ROLLUP_NUM_THRESHOLDS];

/*
 * The budget period containing the day at: it starts on start_day (1..31)
 * of a month, clamped to the month's last day.  *lo is the first day,
 * *hi the first day of the next period (exclusive).
 */
extern void RollupBudgetPeriod(int start_day, DateADT at, DateADT *lo, DateADT *hi);

/*
 * Fold aistudio.rollup_pending into the hourly/daily/spend tables and
 * record newly crossed budget thresholds.  Returns the number of pending
 * rows folded, or 0 when another session is rolling up.  Must run inside a
 * transaction, with the session time zone set to UTC.
 */
extern int64 RollupRun(void);

#endif							/* AISTUDIO_ROLLUP_H */
