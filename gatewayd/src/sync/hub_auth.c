/*
 * src/sync/hub_auth.c: the hub's authentication of edges (see hub_auth.h).
 */
#include "sync/hub_auth.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "db/sql.h"
#include "sealbox.h" /* the extension's sealed-value module (pg_aistudio/src): constant-time equality */

#define GW_HUB_AUTH_SLOTS 4096
#define GW_HUB_AUTH_MD_MAX 256 /* longer metadata is refused here, not sent to the database */

typedef struct gw_hub_auth_slot {
    int used;
    int64_t expires_ms;
    char sha[GW_SYNC_SHA_HEX];
    gw_hub_ident id;
} gw_hub_auth_slot;

struct gw_hub_auth {
    gw_pgpool *pool;
    char *shared;                        /* NULL: no shared token */
    unsigned char shared_sha[SHA256_DIGEST_LENGTH];
    pthread_mutex_t mu;
    gw_hub_auth_slot slots[GW_HUB_AUTH_SLOTS];
};

int gw_hub_auth_create(gw_pgpool *pool, const char *shared_token, gw_hub_auth **out, char err[GW_ERR_LEN])
{
    gw_hub_auth *a = calloc(1, sizeof(*a));
    *out = NULL;
    if (a == NULL)
        return gw_errf(err, "out of memory");
    a->pool = pool;
    if (shared_token != NULL && shared_token[0] != '\0') {
        a->shared = strdup(shared_token);
        if (a->shared == NULL) {
            free(a);
            return gw_errf(err, "out of memory");
        }
        SHA256((const unsigned char *)shared_token, strlen(shared_token), a->shared_sha);
    }
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return 0;
}

void gw_hub_auth_destroy(gw_hub_auth *a)
{
    if (a == NULL)
        return;
    if (a->shared != NULL) {
        gw_secretbox_wipe(a->shared, strlen(a->shared));
        free(a->shared);
    }
    gw_secretbox_wipe(a->shared_sha, sizeof(a->shared_sha));
    pthread_mutex_destroy(&a->mu);
    free(a);
}

void gw_hub_peer_host(const char *peer, char *out, size_t cap)
{
    const char *p = peer != NULL ? peer : "";
    const char *end;
    size_t n;

    if (cap == 0)
        return;
    if (strncmp(p, "ipv4:", 5) == 0) {
        p += 5;
        end = strrchr(p, ':');
    } else if (strncmp(p, "ipv6:", 5) == 0) {
        p += 5;
        if (*p == '[') {
            p++;
            end = strchr(p, ']');
        } else {
            end = strrchr(p, ':');
        }
    } else {
        end = strchr(p, ':'); /* "unix:/path" → "unix" */
    }
    n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static uint64_t gw_hub_auth_hash(const char *edge_id, const char *ns, const char *sha, int shared)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)shared;
    const char *parts[3] = {edge_id, ns, sha};
    for (int i = 0; i < 3; i++) {
        for (const char *c = parts[i]; *c != '\0'; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

/* 1 and *id filled when a fresh positive answer is cached. */
static int gw_hub_auth_cached(gw_hub_auth *a, const char *edge_id, const char *ns, const char *sha, int shared,
                              gw_hub_ident *id)
{
    gw_hub_auth_slot *s = &a->slots[gw_hub_auth_hash(edge_id, ns, sha, shared) % GW_HUB_AUTH_SLOTS];
    int hit = 0;
    pthread_mutex_lock(&a->mu);
    if (s->used && s->expires_ms > gw_now_ms() && s->id.shared == shared && strcmp(s->id.edge_id, edge_id) == 0 &&
        strcmp(s->id.ns, ns) == 0 && aistudio_seal_equal(s->sha, sha, GW_SYNC_SHA_HEX)) {
        *id = s->id;
        hit = 1;
    }
    pthread_mutex_unlock(&a->mu);
    return hit;
}

static void gw_hub_auth_remember(gw_hub_auth *a, const char *sha, const gw_hub_ident *id)
{
    gw_hub_auth_slot *s = &a->slots[gw_hub_auth_hash(id->edge_id, id->ns, sha, id->shared) % GW_HUB_AUTH_SLOTS];
    pthread_mutex_lock(&a->mu);
    s->used = 1;
    s->expires_ms = gw_now_ms() + GW_HUB_AUTH_TTL_MS;
    memcpy(s->sha, sha, GW_SYNC_SHA_HEX);
    s->id = *id;
    pthread_mutex_unlock(&a->mu);
}

void gw_hub_auth_forget(gw_hub_auth *a, const char *edge_id)
{
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < GW_HUB_AUTH_SLOTS; i++)
        if (a->slots[i].used && strcmp(a->slots[i].id.edge_id, edge_id) == 0)
            a->slots[i].used = 0;
    pthread_mutex_unlock(&a->mu);
}

/* Constant time whatever the lengths: the digests are compared. */
static int gw_hub_auth_is_shared(const gw_hub_auth *a, const char *token)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    int eq;
    if (a->shared == NULL)
        return 0;
    SHA256((const unsigned char *)token, strlen(token), d);
    eq = aistudio_seal_equal(d, a->shared_sha, sizeof(d));
    gw_secretbox_wipe(d, sizeof(d));
    return eq;
}

gw_rpc_status gw_hub_auth_check(gw_rpc_call *call, const gw_rpc_md *md, size_t n, void **ctx, char msg[GW_ERR_LEN],
                                void *arg)
{
    gw_hub_auth *a = arg;
    const char *edge_id = gw_rpc_md_get(md, n, GW_SYNC_MD_EDGE_ID);
    const char *ns = gw_rpc_md_get(md, n, GW_SYNC_MD_NAMESPACE);
    const char *token = gw_rpc_md_bearer(md, n);
    char sha[GW_SYNC_SHA_HEX], peer[96], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[5];
    gw_hub_ident id, *out;
    PGresult *res;
    int shared;

    if (ns == NULL)
        ns = "";
    if (edge_id == NULL || edge_id[0] == '\0') {
        snprintf(msg, GW_ERR_LEN, "missing %s metadata", GW_SYNC_MD_EDGE_ID);
        return GW_RPC_UNAUTHENTICATED;
    }
    if (token == NULL || token[0] == '\0') {
        snprintf(msg, GW_ERR_LEN, "missing authorization: Bearer <token> metadata");
        return GW_RPC_UNAUTHENTICATED;
    }
    if (strlen(edge_id) > GW_HUB_AUTH_MD_MAX || strlen(ns) > GW_HUB_AUTH_MD_MAX || strlen(token) > 4096) {
        snprintf(msg, GW_ERR_LEN, "invalid_edge_id: metadata too long");
        return GW_RPC_UNAUTHENTICATED;
    }
    gw_sync_sha256_hex(token, strlen(token), sha);
    shared = gw_hub_auth_is_shared(a, token);

    memset(&id, 0, sizeof(id));
    if (gw_hub_auth_cached(a, edge_id, ns, sha, shared, &id))
        goto ok;

    gw_hub_peer_host(gw_rpc_call_peer(call), peer, sizeof(peer));
    params[0] = edge_id;
    params[1] = ns;
    params[2] = sha;
    params[3] = shared ? "true" : "false";
    params[4] = peer;
    if (gw_pgpool_exec(a->pool, GW_SQL_EDGE_AUTHENTICATE, 5, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        gw_rpc_status st = gw_sync_status_of(sqlstate);
        if (st == GW_RPC_UNAVAILABLE || st == GW_RPC_INTERNAL || st == GW_RPC_DEADLINE_EXCEEDED) {
            gw_log_warn("sync: cannot authenticate edge '%.128s': %s", edge_id, err);
            snprintf(msg, GW_ERR_LEN, "the hub cannot check credentials now (its database is unavailable)");
            return GW_RPC_UNAVAILABLE;
        }
        snprintf(msg, GW_ERR_LEN, "%s", err);
        return st == GW_RPC_INVALID_ARGUMENT ? GW_RPC_UNAUTHENTICATED : st;
    }
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        snprintf(msg, GW_ERR_LEN, "edge_authenticate gave no answer");
        return GW_RPC_UNAVAILABLE;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        const char *reason = PQgetisnull(res, 0, 1) ? "refused" : PQgetvalue(res, 0, 1);
        int retry = PQgetisnull(res, 0, 2) ? 0 : atoi(PQgetvalue(res, 0, 2));
        gw_rpc_status st = retry > 0 ? GW_RPC_RESOURCE_EXHAUSTED : GW_RPC_UNAUTHENTICATED;
        if (retry > 0)
            snprintf(msg, GW_ERR_LEN, "%s: retry after %d s", reason, retry);
        else
            snprintf(msg, GW_ERR_LEN, "%s", reason);
        gw_log_info("sync: edge '%.128s' (namespace '%.64s', from %s) refused: %s", edge_id, ns, peer, msg);
        PQclear(res);
        return st;
    }
    PQclear(res);
    snprintf(id.edge_id, sizeof(id.edge_id), "%s", edge_id);
    snprintf(id.ns, sizeof(id.ns), "%s", ns);
    id.shared = shared;
    gw_hub_auth_remember(a, sha, &id);
ok:
    out = malloc(sizeof(*out));
    if (out == NULL) {
        snprintf(msg, GW_ERR_LEN, "out of memory");
        return GW_RPC_RESOURCE_EXHAUSTED;
    }
    *out = id;
    *ctx = out;
    return GW_RPC_OK;
}

void gw_hub_auth_release(void *ctx)
{
    free(ctx);
}

int gw_hub_auth_shared_key(gw_hub_auth *a, const char *edge_id, gw_secret_key *out, char err[GW_ERR_LEN])
{
    if (a->shared == NULL)
        return gw_errf(err, "the hub has no shared token (GRPC_AUTH_TOKEN)");
    return gw_sync_edge_key(a->shared, edge_id, out, err);
}
