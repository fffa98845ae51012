/*-------------------------------------------------------------------------
 * src/include/aistudio.h
 *		Declarations shared by the modules of the pg_aistudio extension:
 *		GUC variables, the acting-user/RBAC API and small helpers.
 *
 * Module map (one .c + one .h each):
 *	pg_aistudio.c	module magic, _PG_init: GUCs and the background worker
 *	rbac.c			acting user, roles, permission checks, can_use_llm
 *	sealbox.c		the sealed-value format and the edge key (pure C, shared
 *					with gatewayd)
 *	secrets.c		the master key; sealing of secrets and literal API keys
 *	hosts.c			the hosts a secret may be sent to (allowed_hosts)
 *	password.c		scrypt password hashing for users
 *	credentials.c	app credential issue/resolve/revoke/rotate
 *	pricing.c		model prices and per-vendor cost computation
 *	snapshot.c		protobuf snapshot of a namespace and its checksum
 *	ingest.c		analytics ingestion (cost computed in the database)
 *	rollup.c		rollups, month-to-date spend, budgets, notifications
 *	rollup_worker.c	the background worker that runs the rollups
 *	sync.c			hub and edge: edge tokens and keys, the edge-side
 *					snapshot store, the sync statement trigger
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_H
#define AISTUDIO_H

#include "postgres.h"

/* ---- GUC variables (defined in pg_aistudio.c) ---- */
extern char *aistudio_acting_user;		/* pg_aistudio.acting_user */
extern char *aistudio_secret_key_file;	/* pg_aistudio.secret_key_file */
extern char *aistudio_previous_secret_key_file;	/* pg_aistudio.previous_secret_key_file */
extern int	aistudio_rollup_interval;	/* pg_aistudio.rollup_interval, seconds */
extern char *aistudio_worker_database;	/* pg_aistudio.worker_database */
extern bool aistudio_edge_shared_token;	/* pg_aistudio.edge_shared_token */
extern int	aistudio_edge_stale_after;	/* pg_aistudio.edge_stale_after, seconds */
extern bool aistudio_edge_outbox;		/* pg_aistudio.edge_outbox */
extern int	aistudio_alert_retry_delay;	/* pg_aistudio.alert_retry_delay, ms */
extern int	aistudio_alert_max_attempts;	/* pg_aistudio.alert_max_attempts */
extern int	aistudio_body_retention_days;	/* pg_aistudio.body_retention_days */

/* ---- Roles, ordered by power; DBA = database superuser with no acting user ---- */
typedef enum AistudioRole
{
	AISTUDIO_ROLE_NONE = 0,
	AISTUDIO_ROLE_CHAT_USER,
	AISTUDIO_ROLE_DEVELOPER,
	AISTUDIO_ROLE_ADMIN,
	AISTUDIO_ROLE_SUPER_ADMIN,
	AISTUDIO_ROLE_DBA
} AistudioRole;

typedef struct AistudioActor
{
	bool		is_dba;			/* superuser acting without an acting user */
	int64		user_id;		/* 0 when is_dba */
	AistudioRole role;
} AistudioActor;

/* rbac.c */
extern AistudioRole RbacParseRole(const char *name);	/* NONE if unknown */
extern const char *RbacRoleName(AistudioRole role);
extern bool RbacActingUserIsSet(void);
extern bool RbacMayActForUsers(void);
extern bool RbacActingUserId(int64 *user_id, bool strict);
extern void RbacGetActor(AistudioActor *actor);
extern void RbacRequireRole(AistudioRole min_role, const char *action);
extern bool RbacUserCanUseLlm(int64 user_id, int64 llm_id);

#endif							/* AISTUDIO_H */
