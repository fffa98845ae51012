/*
 * src/model/reload.h: loading the snapshot of the configured namespace
 * through the pool and swapping it in (the holder's readers keep the one
 * they hold until they release it). Called by the configuration listener
 * (db/listen.h) from its thread, and on an edge by the sync client after a
 * pull (gw_reload_build, gw_reload_swap); the holder's mutex makes the swaps atomic.
 *
 * The source: standalone and hub, the database's own configuration
 * (aistudio.snapshot(ns)); an edge (stored = 1), the last snapshot its hub
 * sent, kept in its own database (aistudio.edge_stored_snapshot), so it
 * serves before the hub answers, also after a restart with the hub down.
 * Vendor keys are opened with key: the master key, or an edge's key.
 */
#ifndef GW_MODEL_RELOAD_H
#define GW_MODEL_RELOAD_H

#include <stdatomic.h>

#include "base/common.h"
#include "base/secretbox.h"
#include "db/pgpool.h"
#include "model/snapshot.h"

typedef struct gw_snapshot_loader {
    gw_pgpool *pool;
    gw_snapshot_holder *holder;
    const char *ns;                              /* the namespace served */
    const gw_secret_key *key;                    /* the master key, NULL when there is none */
    atomic_llong *loads;                         /* counts the swaps (metrics); may be NULL */
    int stored;                                  /* an edge: the stored snapshot from the hub */
    int none_logged;                             /* "nothing stored yet" said once */
    char last_mismatch[GW_CHECKSUM_HEX_LEN + 1]; /* checksum mismatch logged once */
} gw_snapshot_loader;

/*
 * Loads the snapshot and swaps it in. Without force, the checksum is fetched
 * first and nothing is loaded when it matches the current snapshot. *changed
 * is set to 1 on a swap. -1 with err (naming a missing extension or
 * privilege) when the database cannot give it.
 */
int gw_reload_snapshot(gw_snapshot_loader *ld, int force, int *changed, char err[GW_ERR_LEN]);

/*
 * Builds the snapshot bytes[0..len) with checksum, its vendor keys opened
 * with ld->key (nothing is swapped yet). -1 with err when the bytes are
 * not a snapshot gatewayd can serve.
 */
int gw_reload_build(gw_snapshot_loader *ld, const uint8_t *bytes, size_t len, const char *checksum, gw_snapshot **out,
                    char err[GW_ERR_LEN]);
/* Swaps a built snapshot in (taking the caller's reference). */
void gw_reload_swap(gw_snapshot_loader *ld, gw_snapshot *s);

/* gw_listen_reload_fn over gw_reload_snapshot (ctx: a gw_snapshot_loader). */
int gw_reload_listen_cb(void *ctx, int force, char err[GW_ERR_LEN]);
/* 1 when a snapshot is loaded (gw_listen_opts.loaded). */
int gw_reload_loaded(void *ctx);

#endif
