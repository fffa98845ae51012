/*
 * src/sync/hub_auth.h: who is calling the hub. The rpc server's auth
 * callback (rpc.h) reads an edge's metadata (authorization: Bearer
 * <token>, x-aistudio-edge-id, x-aistudio-namespace), hashes the token
 * (SHA-256: the token never reaches the database, a log or an error),
 * compares it with the shared GRPC_AUTH_TOKEN in constant time, and asks
 * the extension (aistudio.edge_authenticate): every decision — enrolled
 * token, revocation, namespace, the shared token's GUC, the audit and the
 * rate limit of failures — is the extension's. A refusal is
 * UNAUTHENTICATED with the extension's reason, RESOURCE_EXHAUSTED when
 * rate-limited, UNAVAILABLE when the database cannot answer.
 *
 * A positive answer is cached for GW_HUB_AUTH_TTL_MS per (edge id,
 * namespace, token hash, shared) and dropped at once by gw_hub_auth_forget
 * (the aistudio_edge notifications: enrolled, revoked, deleted).
 *
 * Locking: one mutex guards the cache (a fixed table, a colliding entry is
 * replaced); the database is asked without it.
 */
#ifndef GW_SYNC_HUB_AUTH_H
#define GW_SYNC_HUB_AUTH_H

#include "base/common.h"
#include "base/secretbox.h"
#include "db/pgpool.h"
#include "rpc/rpc.h"
#include "sync/wire.h"

#define GW_HUB_AUTH_TTL_MS 5000

/* The authenticated caller: the context of every handler. */
typedef struct gw_hub_ident {
    char edge_id[GW_SYNC_ID_MAX + 1];
    char ns[GW_SYNC_NS_MAX];
    int shared; /* authenticated with the shared token: its key is HKDF(GRPC_AUTH_TOKEN, edge id) */
} gw_hub_ident;

typedef struct gw_hub_auth gw_hub_auth;

/* shared_token: GRPC_AUTH_TOKEN ("" or NULL: none is accepted). */
int gw_hub_auth_create(gw_pgpool *pool, const char *shared_token, gw_hub_auth **out, char err[GW_ERR_LEN]);
void gw_hub_auth_destroy(gw_hub_auth *a);

/* The rpc server's auth callback (arg: the gw_hub_auth); *ctx is a
 * malloc'd gw_hub_ident released by gw_hub_auth_release. */
gw_rpc_status gw_hub_auth_check(gw_rpc_call *call, const gw_rpc_md *md, size_t n, void **ctx, char msg[GW_ERR_LEN],
                                void *arg);
void gw_hub_auth_release(void *ctx);

/* Drops the cached answers of an edge. */
void gw_hub_auth_forget(gw_hub_auth *a, const char *edge_id);

/* The key of an edge that authenticates with the shared token. */
int gw_hub_auth_shared_key(gw_hub_auth *a, const char *edge_id, gw_secret_key *out, char err[GW_ERR_LEN]);

/* "ipv4:1.2.3.4:5678" → "1.2.3.4", "ipv6:[::1]:5678" → "::1", "unix:/p" →
 * "unix": the address the extension's rate limit counts (the port changes
 * with every connection). */
void gw_hub_peer_host(const char *peer, char *out, size_t cap);

#endif
