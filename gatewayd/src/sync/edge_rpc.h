/*
 * src/sync/edge_rpc.h: an edge's line to its hub: one gRPC client
 * (rpc/rpc.h: it reconnects by itself, fails fast while the hub is down)
 * and the metadata every call carries (authorization: Bearer <token>,
 * x-aistudio-edge-id, x-aistudio-namespace). The link (edge.c), the
 * credential resolver (edge_creds.c), the uploader (edge_upload.c) and the
 * lease manager (edge_lease.c) share it; calls are thread safe.
 * hub_up says whether the last call reached the hub.
 *
 * Refusals: the hub audits and rate-limits refused calls per edge and per
 * address (10 a minute), so an edge whose token is refused must not keep
 * trying from every thread: after UNAUTHENTICATED no call leaves for
 * GW_EDGE_REFUSED_HOLD_MS (RESOURCE_EXHAUSTED: GW_EDGE_BUSY_HOLD_MS); calls
 * meanwhile fail at once with the same status.
 */
#ifndef GW_SYNC_EDGE_RPC_H
#define GW_SYNC_EDGE_RPC_H

#include <stdatomic.h>

#include "base/common.h"
#include "rpc/rpc.h"
#include "sync/wire.h"

#define GW_EDGE_REFUSED_HOLD_MS 30000
#define GW_EDGE_BUSY_HOLD_MS 5000

typedef struct gw_edge_rpc_opts {
    const char *endpoint;    /* CONTROL_ENDPOINT, host:port */
    const char *edge_id;     /* EDGE_ID */
    const char *ns;          /* EDGE_NAMESPACE */
    const char *token;       /* EDGE_TOKEN or GRPC_AUTH_TOKEN */
    const char *tls_ca_file; /* GRPC_TLS_CA_FILE: TLS verified against it; NULL or "": plaintext */
} gw_edge_rpc_opts;

typedef struct gw_edge_rpc {
    gw_rpc_client *cli;
    char edge_id[GW_SYNC_ID_MAX + 1];
    char ns[GW_SYNC_NS_MAX];
    char *bearer; /* "Bearer <token>", wiped on destroy */
    gw_rpc_md md[3];
    atomic_int hub_up;
    atomic_llong hold_until_ms; /* no call before (a refusal) */
    atomic_int hold_status;
} gw_edge_rpc;

int gw_edge_rpc_create(const gw_edge_rpc_opts *o, gw_edge_rpc **out, char err[GW_ERR_LEN]);
void gw_edge_rpc_destroy(gw_edge_rpc *r);

/* A unary call with req packed: 0 and the answer's bytes in reply (the
 * caller unpacks and clears it), or -1 with reply->status and message. */
int gw_edge_rpc_call(gw_edge_rpc *r, const char *method, const ProtobufCMessage *req, int timeout_ms,
                     gw_rpc_reply *reply);
/* Opens the Connect stream (no deadline). NULL with err. */
gw_rpc_call *gw_edge_rpc_stream(gw_edge_rpc *r, const char *method, const gw_rpc_stream_cbs *cbs,
                                char err[GW_ERR_LEN]);
/* 1 when status says the hub was not reached (down, unreachable, deadline). */
int gw_edge_rpc_unreachable(gw_rpc_status status);

#endif
