/*
 * src/plugins/host.h: the plugin host. It runs one isolated process per
 * active plugin of the configuration (plugins/spawn.h), learns its socket
 * from the handshake (plugins/handshake.h), talks gRPC to it over rpc/
 * (proto/aistudio/v1/plugin.proto), keeps it healthy, and lets request
 * threads call its hooks with a deadline (docs/plugins.md).
 *
 * An instance's life, on a supervisor thread of its own:
 *   start    a private 0700 directory, the process, the handshake line
 *            (PLUGIN_START_TIMEOUT_MS), then GetManifest (protocol version;
 *            the configured hook must be one of its hooks; a sandboxed
 *            plugin whose manifest asks for the network is started again
 *            with it), Configure (its JSON), Health;
 *   serving  requests call it; its stderr (and stdout after the
 *            handshake) goes to gatewayd's log as "plugin NAME: line",
 *            rate-limited; Health every PLUGIN_HEALTH_INTERVAL_MS, and at
 *            once (at most once a second) when a request's call failed;
 *   down     the process exited, failed two health checks in a row, or a
 *            start step failed: the process group is killed, the error
 *            logged (the same error again only at debug level), and the
 *            instance starts again after an exponential backoff (100 ms
 *            doubling up to PLUGIN_RESTART_MAX_MS, reset once it served
 *            for 10 s).
 * Requests find no connection while an instance is not serving: the
 * caller answers 503 plugin_unavailable, or goes on when the attachment
 * says fail_open. gw_plugin_host_sync applies a new configuration: an
 * instance whose command, hook or configuration changed is replaced, one no
 * longer there (or inactive) is stopped, a new one started; the others keep
 * running untouched.
 *
 * LOCKING. host->mu guards the instance table (sorted by plugin id) and each
 * instance's conn pointer; a request thread takes it only to find the
 * instance and take a reference to its conn. A conn (the rpc client of one
 * process) is reference counted: the supervisor holds one while the
 * instance serves, each call in progress another; the last release
 * destroys the client (never from an rpc callback: callbacks only copy and
 * signal). An instance's supervisor is the only writer of its state; sync
 * runs one call at a time (host->sync_mu: an edge applies snapshots from
 * its link and from its listener), destroy after every caller of sync has
 * stopped; both stop instances by signalling their eventfd and joining.
 */
#ifndef GW_PLUGINS_HOST_H
#define GW_PLUGINS_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "plugins/conn.h"
#include "plugins/spawn.h"

/* One plugin as the configuration gives it (strings are copied by sync). */
typedef struct gw_plugin_spec {
    int64_t id;
    const char *name;
    const char *hook; /* "pre_auth", "auth", "post_auth", "on_response" */
    const char *command;
    const char *config_json;
} gw_plugin_spec;

typedef struct gw_plugin_host_opts {
    const char *socket_parent; /* directory that receives the host's private run directory */
    gw_sandbox sandbox;
    const char *bwrap; /* GW_SANDBOX_BWRAP */
    const char *const *hidden; /* masked in the sandbox */
    size_t nhidden;
    int64_t mem_bytes, cpu_s, nofile;
    int start_timeout_ms;
    int health_interval_ms;
    int restart_max_ms;
    const char *gateway_mode; /* told to plugins in Configure */
    const char *user;         /* who plugins run as when gatewayd is root (default nobody) */
} gw_plugin_host_opts;

typedef struct gw_plugin_host gw_plugin_host;

/* Makes the private run directory (and finds the user to run plugins as
 * when gatewayd is root). */
gw_plugin_host *gw_plugin_host_create(const gw_plugin_host_opts *o, char err[GW_ERR_LEN]);
/* Applies the configuration's plugins (see above); returns at once (the
 * instances start on their own threads). */
void gw_plugin_host_sync(gw_plugin_host *h, const gw_plugin_spec *specs, size_t n);
/* Stops every instance (SIGTERM, then SIGKILL) and removes the run directory. */
void gw_plugin_host_destroy(gw_plugin_host *h);

/* Instances serving / known, for /metrics and tests. */
void gw_plugin_host_counts(gw_plugin_host *h, int *serving, int *known);

/* What the host knows of one plugin (for status and tests). */
typedef struct gw_plugin_info {
    int serving;
    int pid;      /* of its process (0: none) */
    int starts;   /* processes started so far */
    char last_error[GW_ERR_LEN]; /* "" while serving */
} gw_plugin_info;
/* 0, or -1 when no plugin id is configured. */
int gw_plugin_host_info(gw_plugin_host *h, int64_t id, gw_plugin_info *out);
/* The host's private run directory. */
const char *gw_plugin_host_dir(const gw_plugin_host *h);

/*
 * The connection of plugin id when it serves: a counted reference (release
 * it with gw_plugin_conn_release), or NULL with why ("plugin NAME is
 * starting", "plugin NAME is not running: <last error>", "plugin N is not
 * running (inactive, or not in this gateway's configuration)").
 */
gw_plugin_conn *gw_plugin_host_acquire(gw_plugin_host *h, int64_t id, char why[GW_ERR_LEN]);
/*
 * The settings the host reads from a plugin's configuration (the rest is
 * the plugin's): "timeout_ms" (1..60000, default 100) and
 * "writable_paths" (absolute paths bound read-write into the sandbox).
 * -1 with err for a bad value.
 */
typedef struct gw_plugin_settings {
    int timeout_ms;
    char *writable[GW_SPAWN_MAX_PATHS]; /* malloc'd */
    size_t nwritable;
} gw_plugin_settings;
int gw_plugin_settings_parse(const char *config_json, gw_plugin_settings *s, char err[GW_ERR_LEN]);
void gw_plugin_settings_free(gw_plugin_settings *s);

#endif
