/*
 * src/db/listen.h: the configuration listener. A thread holds a dedicated
 * connection that LISTENs on aistudio_config and drives the reloads of
 * what depends on the configuration, through callbacks (the database layer
 * knows nothing of snapshots or caches):
 *   on_change   right when notifications arrive, and after a reconnection
 *               (changes may have been missed): drop what must not outlive
 *               a change (cached credentials, access answers);
 *   reload      100 ms after the last notification of a burst (debounced),
 *               after a (re)connection, on gw_listen_poke (SIGHUP), and every
 *               refresh_s as a safety net (force = 0: the callback may skip
 *               the load when nothing changed); a failure is retried soon,
 *               then less often (1 s doubling up to 30 s) and logged once
 *               until its message changes.
 * The database being down is never fatal: the thread reconnects with
 * backoff (100 ms doubling up to 5 s) and *db_ok says whether it is up.
 *
 * A hub also listens, on the same connection, on the control plane's
 * channels (sync_channels: aistudio_push, aistudio_edge,
 * aistudio_invalidate; docs/sql-api/sync.md#notifications): each of their
 * notifications goes to notify(channel, payload) at once, from this
 * thread (keep it short: queue the work), and triggers no reload; after a
 * reconnection notify(NULL, NULL) says some may have been missed.
 */
#ifndef GW_DB_LISTEN_H
#define GW_DB_LISTEN_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/common.h"

/* Reloads: 0, or -1 with err. force = 0 allows skipping an unchanged load. */
typedef int (*gw_listen_reload_fn)(void *ctx, int force, char err[GW_ERR_LEN]);
typedef void (*gw_listen_change_fn)(void *ctx);
/* A control-plane notification; channel NULL: some may have been missed. */
typedef void (*gw_listen_notify_fn)(void *ctx, const char *channel, const char *payload);

typedef struct gw_listen_opts {
    const char *conninfo;
    int refresh_s;                 /* the periodic reload(force = 0) */
    gw_listen_reload_fn reload;    /* required */
    void *ctx;                     /* passed to reload and loaded */
    gw_listen_change_fn on_change; /* may be NULL */
    void *change_ctx;              /* passed to on_change */
    atomic_int *db_ok;             /* set while the LISTEN connection is up */
    /* 1 when something is loaded already: reload(force = 0) makes sense
     * (else every reload is forced). May be NULL (always force). */
    int (*loaded)(void *ctx);
    int sync_channels;          /* also LISTEN on the control plane's channels */
    gw_listen_notify_fn notify; /* their notifications (required with sync_channels) */
    void *notify_ctx;
} gw_listen_opts;

typedef struct gw_listener {
    gw_listen_opts o;
    pthread_t thread;
    int running;
    int wake_pipe[2]; /* written to stop the thread or force a reload */
    atomic_int stop;
    atomic_int force;            /* reload on the next turn (SIGHUP) */
    char last_error[GW_ERR_LEN]; /* last logged reload error (to log changes only) */
} gw_listener;

/* Starts the thread (l is owned by the caller and must outlive gw_listen_stop). */
int gw_listen_start(gw_listener *l, const gw_listen_opts *opts, char err[GW_ERR_LEN]);
/* Asks the thread to reload now (SIGHUP). Async-signal-safe. */
void gw_listen_poke(gw_listener *l);
/* Stops and joins the thread; closes its connection. */
void gw_listen_stop(gw_listener *l);

#endif
