/*
 * src/gatewayd.h: gw_server, the one struct holding all mutable state of a
 * running gatewayd (configuration, database pool, current snapshot,
 * credential cache, HTTP listeners, the reload thread and the readiness
 * flags). Handlers receive it as their cbdata.
 */
#ifndef GW_GATEWAYD_H
#define GW_GATEWAYD_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/config.h"
#include "common/credcache.h"
#include "common/pgpool.h"
#include "common/snapshot.h"

struct mg_context;

typedef struct gw_reloader {
    pthread_t thread;
    int running;
    int wake_pipe[2]; /* written to stop the thread or force a reload */
    atomic_int stop;
    atomic_int force;            /* reload on the next turn (SIGHUP) */
    char last_error[GW_ERR_LEN]; /* last logged load error (to log changes only) */
    char last_mismatch[GW_CHECKSUM_HEX_LEN + 1];
} gw_reloader;

typedef struct gw_server {
    gw_config cfg;
    gw_pgpool *pool;
    gw_snapshot_holder snapshots;
    gw_credcache *creds;
    struct mg_context *http; /* the listener of this mode */
    gw_reloader reloader;
    atomic_int db_ok;    /* the LISTEN connection is up */
    atomic_int stopping; /* SIGTERM received: not ready, draining */
    atomic_llong snapshot_loads;
} gw_server;

#endif
