/*
 * src/sync/hub_edges.h: the edges connected to THIS hub process and what
 * the hub sends them. Everything a hub knows about edges lives in the
 * database; what lives here is only the open Connect streams (edge id →
 * its current stream), the heartbeats received and not yet written, and
 * the notifications not yet acted on. Several hubs on one database each
 * hold their own edges; NOTIFY reaches them all.
 *
 *  - Heartbeats are buffered and written in one statement
 *    (aistudio.edge_heartbeats) at most GW_HUB_FLUSH_MS after they
 *    arrived; each edge gets a HeartbeatAck with the checksum it should
 *    run; an edge the extension no longer knows (revoked, deleted) loses
 *    its stream. A batch the extension refuses for one edge's bad values is
 *    written again edge by edge, and that edge's stream ends
 *    (INVALID_ARGUMENT).
 *  - A stream silent for three heartbeat intervals (GW_HUB_FIRST_MSG_MS
 *    before its first message) ends with DEADLINE_EXCEEDED.
 *  - aistudio_push <id>: Reload to the targets this hub holds
 *    (aistudio.push_targets(id, hub_id)); aistudio_edge enrolled / revoked
 *    / deleted: the cached authentication is dropped and the edge's stream
 *    ends (its token changed or died); aistudio_invalidate cred:<sha> /
 *    app:<id>: one Invalidate to every stream; a reconnected listener
 *    (notifications may be lost): Invalidate{all}. All of this within
 *    GW_HUB_TICK_MS of the notification.
 *  - aistudio.edge_sweep runs with every heartbeat batch, and every
 *    GW_HUB_SWEEP_MS without one.
 *
 * Threads and locking: stream callbacks (rpc workers) and the listener
 * thread only touch the table and the queues under e->mu and return; one
 * thread of ours (the loop) does the database work and the sends, with the
 * mutex released (it takes a reference to a stream before it lets go of
 * the mutex). Sends never block (rpc.h: a full queue fails).
 */
#ifndef GW_SYNC_HUB_EDGES_H
#define GW_SYNC_HUB_EDGES_H

#include "base/common.h"
#include "db/pgpool.h"
#include "rpc/rpc.h"
#include "sync/hub_auth.h"
#include "sync/wire.h"

#define GW_HUB_FLUSH_MS 500
#define GW_HUB_TICK_MS 100
#define GW_HUB_FIRST_MSG_MS 5000
#define GW_HUB_SWEEP_MS 5000
#define GW_HUB_MAX_BATCH 5000 /* heartbeats per statement */

typedef struct gw_hub_edges gw_hub_edges;

/* Starts the loop thread. pool, hub_id and auth outlive the registry. */
int gw_hub_edges_create(gw_pgpool *pool, const char *hub_id, gw_hub_auth *auth, gw_hub_edges **out,
                        char err[GW_ERR_LEN]);
/* Stops the loop (after the rpc server is stopped: every stream closed). */
void gw_hub_edges_destroy(gw_hub_edges *e);

/* A Connect stream opened (takes a reference to call); an older stream of
 * the same edge on this hub is ended (ABORTED). -1 when out of memory. */
int gw_hub_edges_attach(gw_hub_edges *e, const char *edge_id, const char *ns, gw_rpc_call *call);
/* The stream ended: 1 when it was the edge's current stream here (the
 * edge is now disconnected from this hub), 0 when a newer one replaced it. */
int gw_hub_edges_detach(gw_hub_edges *e, const char *edge_id, gw_rpc_call *call);
/* A heartbeat on the edge's stream: buffered for the next batch. -1 (the
 * caller ends the stream) when a field is too long to be anything valid. */
int gw_hub_edges_heartbeat(gw_hub_edges *e, const char *edge_id, gw_rpc_call *call,
                           const Aistudio__V1__Heartbeat *hb, char err[GW_ERR_LEN]);
/* gw_listen_notify_fn (ctx: the registry): queues the work. */
void gw_hub_edges_notify(void *ctx, const char *channel, const char *payload);
/* Streams held now. */
int gw_hub_edges_count(gw_hub_edges *e);

#endif
