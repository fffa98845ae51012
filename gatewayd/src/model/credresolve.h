/*
 * src/model/credresolve.h: the credential cache's resolver for standalone
 * (and edge-local) mode: asks PostgreSQL through the pool with
 * aistudio.resolve_credential($1) and turns its row (credential_id, app_id,
 * app_name, owner_id, app_active, owner_active, namespace, llm_ids bigint[],
 * monthly_budget, budget_start_date, the key's expires_at in ms since the
 * epoch or NULL) into a gw_credential: the one source of
 * what a key may use (its app's LLMs, state and budget). No row, a NULL app_id, or SQLSTATE
 * P0002/28xxx mean "no such credential"; anything else is an error that is
 * not cached.
 */
#ifndef GW_CREDRESOLVE_H
#define GW_CREDRESOLVE_H

#include "model/credcache.h"
#include "db/pgpool.h"

#define GW_CREDRESOLVE_NCOLS 11

/* A gw_cred_resolver; ctx is a gw_pgpool *. */
gw_cred_result gw_credresolve_db(void *ctx, const char *key, size_t key_len, gw_credential *out, char err[GW_ERR_LEN]);

/* Parses one row in text format (the columns in the order above; NULL
 * entries for SQL NULL). Exposed for unit tests. */
gw_cred_result gw_credresolve_parse_row(const char *const vals[GW_CREDRESOLVE_NCOLS], gw_credential *out,
                                        char err[GW_ERR_LEN]);

/* Sets a credential's budget from its exact decimal text (NULL or "": none):
 * the text and the same in 10^-9 units (at most 9 decimals: the extension's
 * rule; beyond, rounded up). Also for an edge's answers from its hub. */
void gw_credresolve_set_budget(gw_credential *out, const char *decimal);

/* Parses a bigint[] in text form ("{1,2,3}") into a malloc'd array. */
int gw_parse_int64_array(const char *text, int64_t **out, size_t *n, char err[GW_ERR_LEN]);

#endif
