/*
 * src/base/config.h: every setting of gatewayd (DESIGN §1 plus the gateway
 * limits), read from the environment into one gw_config. A bad value makes
 * gw_config_load return -1 with a message that starts with the setting's
 * name; main prints it and exits 2. The settings table in config.c is the
 * single source for parsing, defaults, `gatewayd --help` and
 * `gatewayd --check-config`.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "base/common.h"
#include "base/log.h"
#include "base/secretbox.h"

typedef enum gw_mode { GW_MODE_STANDALONE = 0, GW_MODE_CONTROL = 1, GW_MODE_EDGE = 2 } gw_mode;

typedef struct gw_config {
    /* servers (DESIGN §1) */
    int server_port;          /* SERVER_PORT: REST API + admin UI */
    int proxy_port;           /* PROXY_PORT: embedded gateway */
    int grpc_port;            /* GRPC_PORT: control server (control mode) */
    int docs_port;            /* DOCS_PORT: documentation server */
    char *docs_dir;            /* DOCS_DIR: the rendered docs site served on DOCS_PORT, "" = default */
    char *www_dir;             /* WWW_DIR: the web UI served on SERVER_PORT, "" = default */
    int session_cookie_secure; /* SESSION_COOKIE_SECURE: admin cookie carries Secure */
    char *public_url;          /* PUBLIC_URL: external base URL of the admin UI, no trailing '/' */
    char *gateway_public_url;  /* GATEWAY_PUBLIC_URL ("" = the UI's host on PROXY_PORT) */
    gw_mode mode;             /* GATEWAY_MODE */
    char *listen_host;        /* LISTEN_HOST */
    char *database_url;       /* DATABASE_URL: libpq conninfo, "" = libpq defaults */
    int have_secret_key;      /* a master key was given */
    gw_secret_key secret_key; /* AISTUDIO_SECRET_KEY or _FILE (never logged) */
    char *grpc_auth_token;    /* GRPC_AUTH_TOKEN (never logged) */
    char *control_endpoint;   /* CONTROL_ENDPOINT (edge mode) */
    char *edge_id;            /* EDGE_ID (edge mode) */
    char *edge_namespace;     /* EDGE_NAMESPACE: the namespace served, "" = global */
    char *edge_token;         /* EDGE_TOKEN (never logged); "" = GRPC_AUTH_TOKEN */
    int edge_heartbeat_s;     /* EDGE_HEARTBEAT_INTERVAL */
    int edge_token_cache_ttl_s; /* EDGE_TOKEN_CACHE_TTL */
    char *grpc_tls_cert_file; /* GRPC_TLS_CERT_FILE (hub) */
    char *grpc_tls_key_file;  /* GRPC_TLS_KEY_FILE (hub) */
    char *grpc_tls_ca_file;   /* GRPC_TLS_CA_FILE (edge) */

    /* gateway limits */
    int64_t max_body_bytes;          /* MAX_BODY_BYTES */
    int64_t max_header_bytes;        /* MAX_HEADER_BYTES */
    int stream_stall_ms;             /* STREAM_STALL_MS */
    int upstream_timeout_ms;         /* UPSTREAM_TIMEOUT_MS */
    int upstream_connect_timeout_ms; /* UPSTREAM_CONNECT_TIMEOUT_MS */
    int max_streams_per_app;         /* MAX_STREAMS_PER_APP, 0 = unlimited */
    int worker_threads;              /* WORKER_THREADS (0 = from the limits, resolved at start) */
    int max_connections_per_address; /* MAX_CONNECTIONS_PER_ADDRESS, 0 = half of each server's workers */
    int request_head_timeout_ms;     /* REQUEST_HEAD_TIMEOUT_MS */
    int request_timeout_ms;          /* REQUEST_TIMEOUT_MS: client read/write */
    int keep_alive_timeout_ms;       /* KEEP_ALIVE_TIMEOUT_MS */
    int analytics_queue_size;        /* ANALYTICS_QUEUE_SIZE */
    int analytics_batch_size;        /* ANALYTICS_BATCH_SIZE */
    int analytics_flush_ms;          /* ANALYTICS_FLUSH_MS */
    char *spool_dir;                 /* SPOOL_DIR */
    int64_t spool_max_bytes;         /* SPOOL_MAX_BYTES */
    int journal_slots;               /* JOURNAL_SLOTS, 0 = sized from the settings above */
    int budget_refresh_s;            /* BUDGET_REFRESH_S */
    int budget_default_max_tokens;   /* BUDGET_DEFAULT_MAX_TOKENS */
    int64_t max_sse_line_bytes;      /* MAX_SSE_LINE_BYTES */
    int64_t max_response_bytes;      /* MAX_RESPONSE_BYTES */
    int credential_cache_ttl_s;      /* CREDENTIAL_CACHE_TTL_S */
    int credential_negative_ttl_s;   /* CREDENTIAL_NEGATIVE_TTL_S */
    int db_pool_size;                /* DB_POOL_SIZE */
    int db_timeout_ms;               /* DB_TIMEOUT_MS */
    int snapshot_refresh_s;          /* SNAPSHOT_REFRESH_S */
    int shutdown_grace_ms;           /* SHUTDOWN_GRACE_MS */

    /* plugins (docs/plugins.md) */
    char *plugin_sandbox;            /* PLUGIN_SANDBOX: auto | bwrap | none */
    char *plugin_socket_dir;         /* PLUGIN_SOCKET_DIR: where the private run directory is made */
    char *plugin_user;               /* PLUGIN_USER: who plugins run as when gatewayd is root */
    int64_t plugin_max_memory;       /* PLUGIN_MAX_MEMORY: RLIMIT_DATA, 0 = none */
    int plugin_max_cpu_s;            /* PLUGIN_MAX_CPU_S: RLIMIT_CPU, 0 = none */
    int plugin_max_files;            /* PLUGIN_MAX_FILES: RLIMIT_NOFILE */
    int plugin_start_timeout_ms;     /* PLUGIN_START_TIMEOUT_MS */
    int plugin_health_interval_ms;   /* PLUGIN_HEALTH_INTERVAL_MS */
    int plugin_restart_max_ms;       /* PLUGIN_RESTART_MAX_MS */
    char *secret_key_file;           /* AISTUDIO_SECRET_KEY_FILE as given ("" = none): hidden from plugins */
    int alert_delivery;              /* ALERT_DELIVERY: send budget alerts (not on an edge) */
    int alert_poll_ms;               /* ALERT_POLL_MS */
    int alert_timeout_ms;            /* ALERT_TIMEOUT_MS */
    gw_log_level log_level;          /* LOG_LEVEL */
} gw_config;

/* Returns the value of a setting, or NULL when unset. */
typedef const char *(*gw_config_lookup_fn)(const char *name, void *ctx);

/* Loads from the process environment. On -1, cfg holds nothing to free. */
int gw_config_load(gw_config *cfg, char err[GW_ERR_LEN]);
/* Same, with a custom lookup (tests). An empty value counts as unset. */
int gw_config_load_with(gw_config *cfg, gw_config_lookup_fn lookup, void *ctx, char err[GW_ERR_LEN]);
/* Frees the strings and wipes the secrets. */
void gw_config_free(gw_config *cfg);

const char *gw_config_mode_name(gw_mode mode);
/* The token an edge authenticates with: EDGE_TOKEN, else GRPC_AUTH_TOKEN. */
const char *gw_config_edge_token(const gw_config *cfg);
/* `gatewayd --help`: every setting with its default and meaning. */
void gw_config_print_help(FILE *out);
/* `gatewayd --check-config`: the effective values, secrets redacted. */
void gw_config_print(const gw_config *cfg, FILE *out);

#endif
