/*
 * src/reload.h: keeping the snapshot current. A thread holds a dedicated
 * connection that LISTENs on aistudio_config; a notification (debounced by
 * 100 ms) reloads the snapshot and invalidates the credential cache. Every
 * SNAPSHOT_REFRESH_S the checksum is compared as a safety net, and after a
 * (re)connection the snapshot is reloaded in case notifications were
 * missed. The database being down is never fatal: the thread reconnects
 * with backoff and readiness reports it.
 */
#ifndef GW_RELOAD_H
#define GW_RELOAD_H

#include "gatewayd.h"

int gw_reload_start(gw_server *srv, char err[GW_ERR_LEN]);
/* Asks the thread to reload now (SIGHUP). Async-signal-safe. */
void gw_reload_poke(gw_server *srv);
void gw_reload_stop(gw_server *srv);

/*
 * Loads the snapshot of the configured namespace through the pool and swaps
 * it in. Without force, the checksum is fetched first and nothing is loaded
 * when it matches the current snapshot. *changed is set to 1 on a swap.
 */
int gw_reload_snapshot(gw_server *srv, int force, int *changed, char err[GW_ERR_LEN]);

#endif
