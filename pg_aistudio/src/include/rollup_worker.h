/*-------------------------------------------------------------------------
 * src/include/rollup_worker.h
 *		The analytics rollup background worker.
 *-------------------------------------------------------------------------
 */
#ifndef ROLLUP_WORKER_H
#define ROLLUP_WORKER_H

extern void RollupWorkerRegister(void);
extern PGDLLEXPORT void aistudio_rollup_worker_main(Datum main_arg);

#endif							/* ROLLUP_WORKER_H */
