/*
 * src/model/reload.c: the snapshot of the configured namespace, loaded
 * through the pool and swapped in (see reload.h). The checksum is compared
 * first unless forced; the snapshot and its checksum come in one statement
 * together with the checksum of its bytes by the extension's one
 * implementation of the rule (the way an edge verifies): a mismatch is
 * reported once, not fatal. Vendor keys that cannot be opened are logged
 * per LLM; the requests to such an LLM get 503 vendor_key_unavailable.
 * On an edge the source is the stored snapshot (verified when it was
 * stored, aistudio.edge_store_snapshot; its checksum is reported again).
 */
#include "model/reload.h"

#include <string.h>

#include "base/log.h"
#include "db/sql.h"

static int gw_reload_query_error(const char *sqlstate, const char *msg, char *err)
{
    if (strcmp(sqlstate, "42883") == 0 || strcmp(sqlstate, "3F000") == 0)
        return gw_errf(err, "aistudio.snapshot() is missing (is the pg_aistudio extension installed?): %s", msg);
    if (strcmp(sqlstate, "42501") == 0)
        return gw_errf(err, "the gateway's database role may not call aistudio.snapshot() (grant aistudio_gateway): %s",
                       msg);
    return gw_errf(err, "cannot fetch the snapshot (SQLSTATE %s): %s", sqlstate, msg);
}

int gw_reload_build(gw_snapshot_loader *ld, const uint8_t *bytes, size_t len, const char *checksum, gw_snapshot **out,
                    char err[GW_ERR_LEN])
{
    gw_snapshot *next;
    int key_errors = 0;

    *out = NULL;
    if (gw_snapshot_build(bytes, len, checksum, ld->key, ld->key != NULL ? 1 : 0, &next, &key_errors, err) != 0)
        return -1;
    for (size_t i = 0; i < gw_snapshot_llm_count(next); i++) {
        const gw_llm *l = gw_snapshot_llm_at(next, i);
        if (l->key_state == GW_KEY_UNAVAILABLE)
            gw_log_warn("snapshot: llm '%s': vendor key unavailable: %s", l->slug, l->key_error);
    }
    gw_log_info("snapshot loaded%s: namespace '%s', checksum %.16s, %zu llms, %zu apps%s",
                ld->stored ? " (from the hub)" : "", gw_snapshot_namespace(next), gw_snapshot_checksum(next),
                gw_snapshot_llm_count(next), gw_snapshot_app_count(next),
                key_errors > 0 ? " (some vendor keys unavailable)" : "");
    *out = next;
    return 0;
}

void gw_reload_swap(gw_snapshot_loader *ld, gw_snapshot *s)
{
    gw_snapshot_swap(ld->holder, s);
    if (ld->loads != NULL)
        atomic_fetch_add(ld->loads, 1);
}

int gw_reload_snapshot(gw_snapshot_loader *ld, int force, int *changed, char err[GW_ERR_LEN])
{
    const char *params[1] = {ld->ns};
    int nparams = ld->stored ? 0 : 1;
    char sqlstate[GW_SQLSTATE_LEN], qerr[GW_ERR_LEN];
    PGresult *res;
    gw_snapshot *cur, *next;
    const uint8_t *bytes;
    const char *checksum, *verified;
    size_t len;

    *changed = 0;
    cur = gw_snapshot_current(ld->holder);
    /* an edge's stored snapshot is what its link swapped in already when
     * the checksums match (its own store notifies this reload) */
    if ((!force || ld->stored) && cur != NULL) {
        int same = 0;
        if (gw_pgpool_exec(ld->pool, ld->stored ? GW_SQL_EDGE_STORED_CHECKSUM : GW_SQL_SNAPSHOT_CHECKSUM, nparams,
                           params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate, qerr) != 0) {
            gw_snapshot_release(cur);
            return gw_reload_query_error(sqlstate, qerr, err);
        }
        /* an edge with nothing stored keeps what it serves */
        same = (PQntuples(res) == 0 && ld->stored) ||
               (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
                strcmp(PQgetvalue(res, 0, 0), gw_snapshot_checksum(cur)) == 0);
        PQclear(res);
        if (same) {
            gw_snapshot_release(cur);
            return 0;
        }
    }
    gw_snapshot_release(cur);

    if (gw_pgpool_exec(ld->pool, ld->stored ? GW_SQL_EDGE_STORED_SNAPSHOT : GW_SQL_SNAPSHOT, nparams, params, NULL,
                       NULL, 1, GW_PG_IDEMPOTENT, &res, sqlstate, qerr) != 0)
        return gw_reload_query_error(sqlstate, qerr, err);
    if (ld->stored && PQntuples(res) == 0) {
        /* an edge that never heard from its hub: nothing to serve yet */
        PQclear(res);
        if (!ld->none_logged)
            gw_log_info("snapshot: no snapshot from the hub stored yet");
        ld->none_logged = 1;
        return 0;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 3 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return gw_errf(err, "aistudio.snapshot() returned no snapshot");
    }
    bytes = (const uint8_t *)PQgetvalue(res, 0, 0);
    len = (size_t)PQgetlength(res, 0, 0);
    checksum = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1);
    verified = PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2);

    /* A mismatch is reported, not fatal (snapshot and checksum come from
     * the same database in one statement). */
    if (strcmp(verified, checksum) != 0 && strcmp(ld->last_mismatch, checksum) != 0) {
        gw_log_warn("snapshot: checksum (%.16s…) differs from the checksum of the snapshot's bytes (%.16s…)", checksum,
                    verified);
        snprintf(ld->last_mismatch, sizeof(ld->last_mismatch), "%s", checksum);
    }
    if (gw_reload_build(ld, bytes, len, checksum, &next, err) != 0) {
        PQclear(res);
        return -1;
    }
    PQclear(res);
    gw_reload_swap(ld, next);
    *changed = 1;
    return 0;
}

int gw_reload_listen_cb(void *ctx, int force, char err[GW_ERR_LEN])
{
    int changed = 0;
    return gw_reload_snapshot(ctx, force, &changed, err);
}

int gw_reload_loaded(void *ctx)
{
    gw_snapshot_loader *ld = ctx;
    gw_snapshot *cur = gw_snapshot_current(ld->holder);
    gw_snapshot_release(cur);
    return cur != NULL;
}
