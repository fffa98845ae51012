/*
 * src/sync/edge_rpc.c: an edge's gRPC client and metadata (see edge_rpc.h).
 */
#include "sync/edge_rpc.h"

#include <stdlib.h>
#include <string.h>

#define GW_EDGE_RECONNECT_MAX_MS 5000
#define GW_EDGE_KEEPALIVE_MS 20000

int gw_edge_rpc_create(const gw_edge_rpc_opts *o, gw_edge_rpc **out, char err[GW_ERR_LEN])
{
    gw_edge_rpc *r;
    gw_rpc_client_opts co;
    size_t n;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return gw_errf(err, "out of memory");
    snprintf(r->edge_id, sizeof(r->edge_id), "%s", o->edge_id);
    snprintf(r->ns, sizeof(r->ns), "%s", o->ns != NULL ? o->ns : "");
    n = strlen(o->token) + 8;
    r->bearer = malloc(n);
    if (r->bearer == NULL) {
        free(r);
        return gw_errf(err, "out of memory");
    }
    snprintf(r->bearer, n, "Bearer %s", o->token);
    r->md[0] = (gw_rpc_md){"authorization", r->bearer, strlen(r->bearer)};
    r->md[1] = (gw_rpc_md){GW_SYNC_MD_EDGE_ID, r->edge_id, strlen(r->edge_id)};
    r->md[2] = (gw_rpc_md){GW_SYNC_MD_NAMESPACE, r->ns, strlen(r->ns)};

    memset(&co, 0, sizeof(co));
    co.target = o->endpoint;
    co.tls = o->tls_ca_file != NULL && o->tls_ca_file[0] != '\0';
    co.tls_ca_file = co.tls ? o->tls_ca_file : NULL;
    co.max_message = GW_SYNC_MAX_MESSAGE;
    co.timeout_ms = 5000;
    co.reconnect_max_ms = GW_EDGE_RECONNECT_MAX_MS;
    co.keepalive_ms = GW_EDGE_KEEPALIVE_MS;
    r->cli = gw_rpc_client_create(&co, err);
    if (r->cli == NULL) {
        gw_edge_rpc_destroy(r);
        return -1;
    }
    atomic_init(&r->hub_up, 0);
    atomic_init(&r->hold_until_ms, 0);
    atomic_init(&r->hold_status, 0);
    *out = r;
    return 0;
}

void gw_edge_rpc_destroy(gw_edge_rpc *r)
{
    if (r == NULL)
        return;
    if (r->cli != NULL)
        gw_rpc_client_destroy(r->cli);
    if (r->bearer != NULL) {
        gw_secretbox_wipe(r->bearer, strlen(r->bearer));
        free(r->bearer);
    }
    free(r);
}

int gw_edge_rpc_unreachable(gw_rpc_status status)
{
    return status == GW_RPC_UNAVAILABLE || status == GW_RPC_DEADLINE_EXCEEDED || status == GW_RPC_CANCELLED ||
           status == GW_RPC_UNKNOWN;
}

int gw_edge_rpc_call(gw_edge_rpc *r, const char *method, const ProtobufCMessage *req, int timeout_ms,
                     gw_rpc_reply *reply)
{
    unsigned char *buf;
    size_t len;
    int rc;

    memset(reply, 0, sizeof(*reply));
    if (gw_now_ms() < atomic_load(&r->hold_until_ms)) {
        reply->status = (gw_rpc_status)atomic_load(&r->hold_status);
        snprintf(reply->message, sizeof(reply->message), "the hub refused this edge a moment ago: not asked again yet");
        return -1;
    }
    if (gw_sync_pack(req, &buf, &len) != 0) {
        reply->status = GW_RPC_RESOURCE_EXHAUSTED;
        snprintf(reply->message, sizeof(reply->message), "out of memory");
        return -1;
    }
    rc = gw_rpc_client_unary(r->cli, method, r->md, 3, buf, len, timeout_ms, reply);
    free(buf);
    atomic_store(&r->hub_up, rc == 0 || !gw_edge_rpc_unreachable(reply->status));
    if (rc != 0 && (reply->status == GW_RPC_UNAUTHENTICATED || reply->status == GW_RPC_RESOURCE_EXHAUSTED)) {
        atomic_store(&r->hold_status, (int)reply->status);
        atomic_store(&r->hold_until_ms, gw_now_ms() + (reply->status == GW_RPC_UNAUTHENTICATED ? GW_EDGE_REFUSED_HOLD_MS
                                                                                               : GW_EDGE_BUSY_HOLD_MS));
    }
    return rc;
}

gw_rpc_call *gw_edge_rpc_stream(gw_edge_rpc *r, const char *method, const gw_rpc_stream_cbs *cbs,
                                char err[GW_ERR_LEN])
{
    return gw_rpc_client_stream(r->cli, method, r->md, 3, 0, cbs, err);
}
