/*
 * src/sync/edge_creds.c: an edge's credential resolver (see edge_creds.h).
 */
#include "sync/edge_creds.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/log.h"
#include "db/sql.h"

void gw_edge_creds_init(gw_edge_creds *c, gw_edge_rpc *rpc, gw_pgpool *pool, int ttl_s, int negative_ttl_s)
{
    memset(c, 0, sizeof(*c));
    c->rpc = rpc;
    c->pool = pool;
    c->ttl_s = ttl_s;
    c->negative_ttl_s = negative_ttl_s;
    pthread_rwlock_init(&c->lock, NULL);
    atomic_init(&c->generation, 1);
    atomic_init(&c->forget_pending, 0);
}

void gw_edge_creds_destroy(gw_edge_creds *c)
{
    pthread_rwlock_destroy(&c->lock);
}

void gw_edge_creds_set_cache(gw_edge_creds *c, gw_credcache *mem)
{
    c->mem = mem;
}

/* The edge's database: 1 found, 0 known unknown, -1 no answer there. */
static int gw_edge_creds_local(gw_edge_creds *c, const char *sha, gw_credential *out)
{
    const char *params[1] = {sha};
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    PGresult *res;
    int rc = -1;

    if (gw_pgpool_exec(c->pool, GW_SQL_EDGE_CACHED_CREDENTIAL, 1, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res,
                       sqlstate, err) != 0) {
        gw_log_debug("sync: local credential cache: %s", err);
        return -1;
    }
    if (PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
            rc = 0;
        } else if (!PQgetisnull(res, 0, 1) &&
                   gw_sync_cred_from_json(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), out, err) == 0) {
            rc = 1;
        } else {
            gw_log_warn("sync: local credential cache holds an unreadable answer: %s", err);
        }
    }
    PQclear(res);
    return rc;
}

/* Keeps the hub's answer in the edge's database (unless an invalidation
 * came since gen). */
static void gw_edge_creds_store(gw_edge_creds *c, uint64_t gen, const char *sha, const gw_credential *cred)
{
    char ttl[16], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[4];
    gw_buf b;
    PGresult *res;
    int t = cred != NULL ? c->ttl_s : c->negative_ttl_s;

    if (t <= 0)
        return;
    gw_buf_init(&b, 0);
    if (cred != NULL && (gw_sync_cred_to_json(cred, &b) != 0 || gw_buf_cstr(&b) == NULL)) {
        gw_buf_free(&b);
        return;
    }
    snprintf(ttl, sizeof(ttl), "%d", t);
    params[0] = sha;
    params[1] = cred != NULL ? "true" : "false";
    params[2] = cred != NULL ? b.data : NULL;
    params[3] = ttl;
    pthread_rwlock_rdlock(&c->lock);
    if (atomic_load(&c->generation) == gen) {
        if (gw_pgpool_exec(c->pool, GW_SQL_EDGE_CACHE_CREDENTIAL, 4, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0)
            gw_log_debug("sync: cannot keep the hub's answer about a key: %s", err);
        else
            PQclear(res);
    }
    pthread_rwlock_unlock(&c->lock);
    gw_buf_free(&b);
}

gw_cred_result gw_edge_creds_resolve(void *ctx, const char *key, size_t key_len, gw_credential *out,
                                     char err[GW_ERR_LEN])
{
    gw_edge_creds *c = ctx;
    char sha[GW_SYNC_SHA_HEX];
    Aistudio__V1__CredentialRequest rq = AISTUDIO__V1__CREDENTIAL_REQUEST__INIT;
    Aistudio__V1__CredentialResponse *rs;
    gw_rpc_reply reply;
    gw_cred_result r;
    uint64_t gen;
    int local;

    memset(out, 0, sizeof(*out));
    gw_sync_sha256_hex(key, key_len, sha);
    if (atomic_load(&c->forget_pending)) {
        Aistudio__V1__Invalidate all = AISTUDIO__V1__INVALIDATE__INIT;
        all.all = 1;
        gw_edge_creds_invalidate(c, &all);
    }
    /* under the read side: an invalidation forgetting in the database
     * (write side) is never read around */
    pthread_rwlock_rdlock(&c->lock);
    local = atomic_load(&c->forget_pending) ? -1 : gw_edge_creds_local(c, sha, out);
    pthread_rwlock_unlock(&c->lock);
    if (local >= 0) {
        atomic_fetch_add(&c->db_hits, 1);
        return local == 1 ? GW_CRED_FOUND : GW_CRED_NOT_FOUND;
    }
    gen = atomic_load(&c->generation);
    rq.key_sha256 = sha;
    atomic_fetch_add(&c->hub_asks, 1);
    if (gw_edge_rpc_call(c->rpc, GW_SYNC_M_VALIDATE, &rq.base, GW_EDGE_VALIDATE_TIMEOUT_MS, &reply) != 0) {
        atomic_fetch_add(&c->hub_unreachable, 1);
        gw_errf(err, "the hub cannot be asked about the key: %s %s", gw_rpc_status_name(reply.status), reply.message);
        gw_rpc_reply_clear(&reply);
        return GW_CRED_UNREACHABLE;
    }
    rs = aistudio__v1__credential_response__unpack(NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (rs == NULL) {
        gw_errf(err, "the hub answered with a malformed CredentialResponse");
        return GW_CRED_ERROR;
    }
    if (rs->found && gw_sync_cred_from_proto(rs->credential, out, err) == 0) {
        gw_edge_creds_store(c, gen, sha, out);
        r = GW_CRED_FOUND;
    } else if (rs->found) {
        r = GW_CRED_ERROR;
    } else {
        gw_edge_creds_store(c, gen, sha, NULL);
        r = GW_CRED_NOT_FOUND;
    }
    aistudio__v1__credential_response__free_unpacked(rs, NULL);
    return r;
}

void gw_edge_creds_invalidate(gw_edge_creds *c, const Aistudio__V1__Invalidate *inv)
{
    gw_buf hashes, apps;
    const char *params[3];
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    PGresult *res;
    int all = inv->all;

    gw_buf_init(&hashes, 0);
    gw_buf_init(&apps, 0);
    for (size_t i = 0; i < inv->n_credential_hashes && !all; i++)
        if (strlen(inv->credential_hashes[i]) != 64)
            all = 1; /* not a hash: be safe */
    gw_sync_pg_array(&hashes, (const char *const *)inv->credential_hashes, all ? 0 : inv->n_credential_hashes);
    gw_buf_append(&apps, "{", 1);
    for (size_t i = 0; i < inv->n_app_ids && !all; i++)
        gw_buf_printf(&apps, "%s%" PRId64, i > 0 ? "," : "", inv->app_ids[i]);
    gw_buf_append(&apps, "}", 1);
    params[0] = gw_buf_cstr(&hashes);
    params[1] = gw_buf_cstr(&apps);
    if (params[0] == NULL || params[1] == NULL)
        all = 1, params[0] = "{}", params[1] = "{}";
    params[2] = all ? "true" : "false";

    pthread_rwlock_wrlock(&c->lock);
    atomic_fetch_add(&c->generation, 1);
    if (c->mem != NULL) {
        if (all || inv->n_app_ids > 0) {
            /* an app's keys are not indexed in memory: start afresh (the
             * database keeps the answers of the other apps) */
            gw_credcache_invalidate_all(c->mem);
        } else {
            for (size_t i = 0; i < inv->n_credential_hashes; i++) {
                unsigned char h[GW_CRED_HASH_LEN];
                size_t bad;
                if (gw_hex_decode(inv->credential_hashes[i], GW_CRED_HASH_LEN, h, &bad) == 0)
                    gw_credcache_invalidate_hash(c->mem, h);
            }
        }
    }
    if (gw_pgpool_exec(c->pool, GW_SQL_EDGE_FORGET_CREDENTIALS, 3, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res,
                       sqlstate, err) != 0) {
        if (!atomic_exchange(&c->forget_pending, 1))
            gw_log_warn("sync: cannot drop cached credentials from the edge's database (its answers are not used "
                        "until it can): %s",
                        err);
    } else {
        PQclear(res);
        if (all)
            atomic_store(&c->forget_pending, 0);
    }
    pthread_rwlock_unlock(&c->lock);
    gw_log_info("sync: credentials invalidated (%s%zu key(s), %zu app(s))", all ? "all; " : "",
                all ? 0 : inv->n_credential_hashes, all ? 0 : inv->n_app_ids);
    gw_buf_free(&hashes);
    gw_buf_free(&apps);
}
