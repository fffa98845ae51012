/*-------------------------------------------------------------------------
 * src/include/ingest.h
 *		Analytics ingestion support (src/ingest.c): the monthly partitions
 *		of aistudio.llm_interactions and the advisory-lock keys shared with
 *		the rollups.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_INGEST_H
#define AISTUDIO_INGEST_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * Transaction-level advisory locks of the analytics module, two int4 keys:
 * the class 'AIST' and one object per purpose.  SQL code in
 * sql/src/08_analytics.sql uses the same numbers.
 */
#define AISTUDIO_LOCK_CLASS			1095324500	/* 'AIST' */
#define AISTUDIO_LOCK_ROLLUP		1	/* rollup_now / rollup_rebuild */
#define AISTUDIO_LOCK_PARTITIONS	2	/* creating monthly partitions */

/*
 * Make sure the monthly partition (UTC month) of llm_interactions exists for
 * each of the n timestamps; returns how many partitions were created.  Rows
 * of a new month that sit in the default partition move to the new one.
 */
extern int	IngestEnsurePartitions(const TimestampTz *at, int n);

/* The same for the current and the next month (at transaction start). */
extern void IngestEnsureCurrentPartitions(void);

#endif							/* AISTUDIO_INGEST_H */
