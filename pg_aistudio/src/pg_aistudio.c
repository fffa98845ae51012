/*-------------------------------------------------------------------------
 * src/pg_aistudio.c
 *		Module entry point: PG_MODULE_MAGIC, the GUCs of pg_aistudio (the
 *		hub-and-edge ones are read by SECTION sync, the alert ones by
 *		SECTION alerts with current_setting, the body retention by SECTION
 *		analytics) and
 *		the registration of the rollup background worker (which needs
 *		shared_preload_libraries = 'pg_aistudio').
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "aistudio.h"
#include "rollup_worker.h"

PG_MODULE_MAGIC;

char	   *aistudio_acting_user = NULL;
char	   *aistudio_secret_key_file = NULL;
char	   *aistudio_previous_secret_key_file = NULL;
int			aistudio_rollup_interval = 60;
char	   *aistudio_worker_database = NULL;
bool		aistudio_edge_shared_token = true;
int			aistudio_edge_stale_after = 900;
bool		aistudio_edge_outbox = false;
int			aistudio_alert_retry_delay = 30000;
int			aistudio_alert_max_attempts = 8;
int			aistudio_body_retention_days = 7;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("pg_aistudio.acting_user",
							   "Id of the application user on whose behalf the current transaction acts.",
							   "Set per transaction (SET LOCAL) by gatewayd's admin API; empty means the caller acts as itself.",
							   &aistudio_acting_user, "",
							   PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("pg_aistudio.secret_key_file",
							   "File holding the master key that encrypts secrets (64 hex digits).",
							   "When empty, the server environment variable AISTUDIO_SECRET_KEY is used.",
							   &aistudio_secret_key_file, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);

	DefineCustomStringVariable("pg_aistudio.previous_secret_key_file",
							   "File holding the previous master key, read only to re-encrypt secrets during key rotation.",
							   NULL,
							   &aistudio_previous_secret_key_file, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);

	DefineCustomIntVariable("pg_aistudio.rollup_interval",
							"Seconds between two runs of the analytics rollup worker; 0 disables periodic runs.",
							NULL,
							&aistudio_rollup_interval, 60, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomStringVariable("pg_aistudio.worker_database",
							   "Database in which the rollup worker runs.",
							   NULL,
							   &aistudio_worker_database, "aistudio",
							   PGC_POSTMASTER, 0, NULL, NULL, NULL);

	/* hub and edge (SECTION sync; the SQL reads them with current_setting) */
	DefineCustomBoolVariable("pg_aistudio.edge_shared_token",
							 "Whether edges may authenticate with the hub's shared token (GRPC_AUTH_TOKEN) instead of their own.",
							 "Off: only tokens from aistudio.enroll_edge() are accepted.",
							 &aistudio_edge_shared_token, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("pg_aistudio.edge_stale_after",
							"How long an edge may stay pending (running another checksum than its namespace's) before its status is stale.",
							NULL,
							&aistudio_edge_stale_after, 900, 1, INT_MAX / 1000,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_aistudio.edge_outbox",
							 "Whether analytics ingested by this session are queued for upload to the hub (an edge's analytics connection sets it).",
							 NULL,
							 &aistudio_edge_outbox, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	/* alert deliveries (SECTION alerts reads them with current_setting) */
	DefineCustomIntVariable("pg_aistudio.alert_retry_delay",
							"Wait before the first retry of a failed alert delivery; it doubles after every further failure, up to an hour.",
							NULL,
							&aistudio_alert_retry_delay, 30000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("pg_aistudio.alert_max_attempts",
							"Attempts of an alert delivery before it is marked failed.",
							NULL,
							&aistudio_alert_max_attempts, 8, 1, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	/* captured request bodies (SECTION analytics, purge_request_bodies) */
	DefineCustomIntVariable("pg_aistudio.body_retention_days",
							"Days captured request and response bodies are kept; 0 keeps none (the next purge deletes them all).",
							"The rollup worker deletes older bodies after each rollup.",
							&aistudio_body_retention_days, 7, 0, 3650,
							PGC_SUSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("pg_aistudio");

	if (process_shared_preload_libraries_in_progress)
		RollupWorkerRegister();
}
