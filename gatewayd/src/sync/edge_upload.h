/*
 * src/sync/edge_upload.h: an edge's analytics upload. The edge records its
 * requests in its own database like a standalone gateway (ingest/), and
 * its writer's session queues what it stores in the outbox
 * (pg_aistudio.edge_outbox). This thread takes the oldest events
 * (aistudio.edge_outbox_take), sends them to the hub in one
 * UploadAnalytics call, and removes them from the outbox only once the
 * hub has acknowledged them (aistudio.edge_outbox_ack): an event sent and
 * not acknowledged is sent again, and the hub stores it once (idempotent
 * by request_id). Nothing is lost or counted twice across restarts of
 * either side; while the hub is down the backlog waits in the database
 * and drains when it returns.
 *
 * A batch the hub refuses as invalid is split in halves down to single
 * events; a single event it refuses is dropped from the outbox with an
 * error log (counted in refused), so one bad event never blocks the rest.
 *
 * Thread: one, ours; gw_edge_upload_poke wakes it (the hub is back).
 */
#ifndef GW_SYNC_EDGE_UPLOAD_H
#define GW_SYNC_EDGE_UPLOAD_H

#include <pthread.h>
#include <stdatomic.h>

#include "db/pgpool.h"
#include "sync/edge_rpc.h"

#define GW_EDGE_UPLOAD_BATCH 500
#define GW_EDGE_UPLOAD_IDLE_MS 500
#define GW_EDGE_UPLOAD_TIMEOUT_MS 15000

typedef struct gw_edge_upload {
    gw_edge_rpc *rpc;
    gw_pgpool *pool;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, poked, running;
    pthread_t thread;
    uint64_t batch_seq;
    atomic_llong uploaded, duplicates, rejected, refused, failures;
} gw_edge_upload;

int gw_edge_upload_start(gw_edge_upload *u, gw_edge_rpc *rpc, gw_pgpool *pool, char err[GW_ERR_LEN]);
void gw_edge_upload_poke(gw_edge_upload *u);
void gw_edge_upload_stop(gw_edge_upload *u);

#endif
