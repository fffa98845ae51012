/*
 * src/sync/hub.h: the hub's gRPC server (GATEWAY_MODE=control): the Sync
 * service of proto/aistudio/v1/sync.proto on GRPC_PORT, optionally over
 * TLS. Each handler translates bytes into a call of the extension and its
 * answer back (docs/sql-api/sync.md): registration (edge_register),
 * snapshots (snapshot, vendor keys re-sealed under the edge's key:
 * sync/wire.h), credentials (edge_resolve_credential), analytics
 * (ingest_edge_events), leases (edge_lease), push progress
 * (push_progress). Who calls is sync/hub_auth.h; the open streams, the
 * heartbeat batches and the notifications are sync/hub_edges.h.
 *
 * The hub has its own small database pool (the edges' load never takes
 * the proxy's or the REST API's connections) and a hub id,
 * "<host>:<pid>": several hub processes may serve one database.
 *
 * Status codes: malformed messages INVALID_ARGUMENT; an edge asking for
 * another edge's or namespace's data PERMISSION_DENIED; the extension's
 * refusals by SQLSTATE (sync/wire.h gw_sync_status_of); the database down
 * UNAVAILABLE. Every message is bounded (GW_SYNC_MAX_MESSAGE, rpc.h).
 */
#ifndef GW_SYNC_HUB_H
#define GW_SYNC_HUB_H

#include "base/common.h"
#include "base/secretbox.h"

typedef struct gw_hub_opts {
    const char *listen_host; /* LISTEN_HOST */
    int port;                /* GRPC_PORT */
    const char *tls_cert_file; /* GRPC_TLS_CERT_FILE, with tls_key_file, or neither */
    const char *tls_key_file;
    const char *database_url;
    int db_timeout_ms;
    const gw_secret_key *master_key; /* NULL: vendor keys reach edges empty */
    const char *shared_token;        /* GRPC_AUTH_TOKEN, "" = none */
    int workers;                     /* handler threads (0: default) */
} gw_hub_opts;

typedef struct gw_hub gw_hub;

/* Binds and serves. -1 with err (naming GRPC_PORT or the TLS files). */
int gw_hub_start(const gw_hub_opts *opts, gw_hub **out, char err[GW_ERR_LEN]);
/* Ends the streams (grace_ms for calls in flight), joins every thread. */
void gw_hub_stop(gw_hub *h, int grace_ms);

const char *gw_hub_id(const gw_hub *h);
int gw_hub_port(const gw_hub *h);
/* gw_listen_notify_fn (ctx: the hub): the control plane's notifications. */
void gw_hub_notify(void *ctx, const char *channel, const char *payload);

#endif
