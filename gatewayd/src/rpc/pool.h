/*
 * src/rpc/pool.h: the worker pool that runs a server's user callbacks away
 * from its completion-queue thread. Tasks are intrusive (the caller embeds a
 * gw_rpc_task and owns its memory); a task runs on one worker, in push
 * order across the queue. The server builds its per-call strands on top
 * (call.c / server.c): a call is pushed at most once at a time.
 *
 * Locking: one mutex and condition variable guard the queue; tasks run
 * without it. Destroy lets queued tasks run, then joins the workers.
 */
#ifndef GW_RPC_POOL_H
#define GW_RPC_POOL_H

#include <stddef.h>

#include "base/common.h"

typedef struct gw_rpc_task {
    struct gw_rpc_task *next;
    void (*run)(struct gw_rpc_task *task);
} gw_rpc_task;

typedef struct gw_rpc_pool gw_rpc_pool;

gw_rpc_pool *gw_rpc_pool_create(int threads, char err[GW_ERR_LEN]);
void gw_rpc_pool_push(gw_rpc_pool *pool, gw_rpc_task *task);
/* Tasks waiting for a worker (not counting running ones). */
size_t gw_rpc_pool_queued(gw_rpc_pool *pool);
/* Runs what is queued, joins the workers, frees. */
void gw_rpc_pool_destroy(gw_rpc_pool *pool);

#endif
