/*
 * src/base/config.c: the settings table and its parser. Each row gives a
 * setting's name, kind, default, range and help text; gw_config_load walks
 * the table, then checks the rules that involve several settings (edge mode
 * needs CONTROL_ENDPOINT, EDGE_ID and a token; TLS files come in pairs and
 * must be readable; no two servers on one port, one master key source). Messages start with the setting's name and never echo a
 * secret.
 */
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum gw_setting_kind {
    GW_SET_PORT,     /* int, 1..65535 */
    GW_SET_INT,      /* int within [min, max] */
    GW_SET_BYTES,    /* int64 within [min, max], suffixes K/M/G (binary) */
    GW_SET_STR,      /* char *, any text without control characters */
    GW_SET_SECRET,   /* char *, never printed */
    GW_SET_MODE,     /* gw_mode */
    GW_SET_LEVEL,    /* gw_log_level */
    GW_SET_HOST,     /* char *, host name or IP address */
    GW_SET_CONNINFO, /* char *, libpq connection string (may hold a password) */
    GW_SET_KEY,      /* master key as 64 hex digits (handled after the table) */
    GW_SET_KEYFILE   /* file holding the master key (handled after the table) */
} gw_setting_kind;

typedef struct gw_setting {
    const char *name;
    gw_setting_kind kind;
    const char *def;
    int64_t min, max;
    size_t off;
    const char *help;
} gw_setting;

#define OFF(field) offsetof(gw_config, field)
#define NOFF ((size_t)-1)

static const gw_setting gw_settings[] = {
    {"SERVER_PORT", GW_SET_PORT, "8080", 1, 65535, OFF(server_port), "REST API and admin UI port"},
    {"PROXY_PORT", GW_SET_PORT, "9090", 1, 65535, OFF(proxy_port), "embedded LLM gateway port (standalone and edge)"},
    {"GRPC_PORT", GW_SET_PORT, "50051", 1, 65535, OFF(grpc_port), "gRPC control server port (control mode)"},
    {"DOCS_PORT", GW_SET_PORT, "8989", 1, 65535, OFF(docs_port), "documentation server port"},
    {"DOCS_DIR", GW_SET_STR, "", 0, 0, OFF(docs_dir),
     "the documentation site rendered by `make docs`, served on DOCS_PORT (empty: <gatewayd's directory>/"
     "../build/docs, else /usr/share/pg_aistudio/docs)"},
    {"WWW_DIR", GW_SET_STR, "", 0, 0, OFF(www_dir),
     "directory of the web UI served on SERVER_PORT (empty: <gatewayd's directory>/../www, else "
     "/usr/share/pg_aistudio/www)"},
    {"SESSION_COOKIE_SECURE", GW_SET_INT, "0", 0, 1, OFF(session_cookie_secure),
     "1: the admin session cookie carries Secure (set it behind HTTPS)"},
    {"PUBLIC_URL", GW_SET_STR, "", 0, 0, OFF(public_url),
     "external base URL of the admin UI, http(s)://host[:port] (empty: http://127.0.0.1:<SERVER_PORT>); "
     "single sign-on redirect URIs are formed from it"},
    {"GATEWAY_PUBLIC_URL", GW_SET_STR, "", 0, 0, OFF(gateway_public_url),
     "external base URL of the gateway (PROXY_PORT) as apps reach it, http(s)://host[:port] (empty: the "
     "admin UI's host on PROXY_PORT); the UI shows SDK base URLs with it"},
    {"GATEWAY_MODE", GW_SET_MODE, "standalone", 0, 0, OFF(mode), "standalone | control (hub) | edge"},
    {"LISTEN_HOST", GW_SET_HOST, "127.0.0.1", 0, 0, OFF(listen_host), "address every server binds to"},
    {"DATABASE_URL", GW_SET_CONNINFO, "", 0, 0, OFF(database_url),
     "libpq connection string or URI (empty: libpq defaults, PGHOST etc.)"},
    {"AISTUDIO_SECRET_KEY", GW_SET_KEY, "", 0, 0, NOFF, "master key, 64 hex digits (or use the _FILE form)"},
    {"AISTUDIO_SECRET_KEY_FILE", GW_SET_KEYFILE, "", 0, 0, NOFF, "file holding the master key as 64 hex digits"},
    {"GRPC_AUTH_TOKEN", GW_SET_SECRET, "", 0, 0, OFF(grpc_auth_token),
     "shared token between hub and edges (a hub accepts it from any edge unless pg_aistudio.edge_shared_token = "
     "off; an edge without EDGE_TOKEN presents it)"},
    {"GRPC_TLS_CERT_FILE", GW_SET_STR, "", 0, 0, OFF(grpc_tls_cert_file),
     "hub: PEM certificate chain of the gRPC server (with GRPC_TLS_KEY_FILE; empty: plaintext)"},
    {"GRPC_TLS_KEY_FILE", GW_SET_STR, "", 0, 0, OFF(grpc_tls_key_file), "hub: PEM private key of GRPC_TLS_CERT_FILE"},
    {"GRPC_TLS_CA_FILE", GW_SET_STR, "", 0, 0, OFF(grpc_tls_ca_file),
     "edge: PEM CA bundle the hub's certificate is verified against (set: TLS to the hub; empty: plaintext)"},
    {"CONTROL_ENDPOINT", GW_SET_STR, "", 0, 0, OFF(control_endpoint), "hub address host:port (required for edge)"},
    {"EDGE_ID", GW_SET_STR, "", 0, 0, OFF(edge_id), "this edge's unique id (required for edge)"},
    {"EDGE_NAMESPACE", GW_SET_STR, "", 0, 0, OFF(edge_namespace), "namespace whose configuration is served"},
    {"EDGE_TOKEN", GW_SET_SECRET, "", 0, 0, OFF(edge_token),
     "edge: the token aistudio.enroll_edge() returned for EDGE_ID (empty: GRPC_AUTH_TOKEN)"},
    {"EDGE_HEARTBEAT_INTERVAL", GW_SET_INT, "30", 1, 3600, OFF(edge_heartbeat_s),
     "edge: seconds between heartbeats (the hub ends a stream silent for three)"},
    {"EDGE_TOKEN_CACHE_TTL", GW_SET_INT, "300", 1, 86400, OFF(edge_token_cache_ttl_s),
     "edge: seconds the hub's answer about an API key is cached (in memory and in the edge's database)"},
    {"MAX_BODY_BYTES", GW_SET_BYTES, "10485760", 1024, 1073741824, OFF(max_body_bytes),
     "largest request body accepted (413 above); K/M/G suffixes allowed"},
    {"MAX_HEADER_BYTES", GW_SET_BYTES, "32768", 4096, 1048576, OFF(max_header_bytes),
     "largest request head (request line + headers)"},
    {"STREAM_STALL_MS", GW_SET_INT, "120000", 100, 3600000, OFF(stream_stall_ms),
     "a stream whose upstream sends nothing for this long (after its first byte) is cut with an error event"},
    {"UPSTREAM_TIMEOUT_MS", GW_SET_INT, "600000", 100, 86400000, OFF(upstream_timeout_ms),
     "longest non-streaming upstream call; for a stream, the longest wait for its first byte"},
    {"UPSTREAM_CONNECT_TIMEOUT_MS", GW_SET_INT, "10000", 100, 600000, OFF(upstream_connect_timeout_ms),
     "upstream connect timeout"},
    {"MAX_STREAMS_PER_APP", GW_SET_INT, "128", 0, 1000000, OFF(max_streams_per_app),
     "concurrent streams per app (429 above); 0 = unlimited"},
    {"WORKER_THREADS", GW_SET_INT, "0", 0, 16384, OFF(worker_threads),
     "worker threads of the gateway (PROXY_PORT); every open connection holds one, idle keep-alive ones too; "
     "0 = sized from the open-file limit and the memory (see docs/operations.md)"},
    {"MAX_CONNECTIONS_PER_ADDRESS", GW_SET_INT, "0", 0, 1000000, OFF(max_connections_per_address),
     "open connections one client address may hold on each server (429 above); 0 = half of that server's "
     "worker threads, at least 8; behind a load balancer or proxy that connects from one address, raise it"},
    {"REQUEST_HEAD_TIMEOUT_MS", GW_SET_INT, "5000", 100, 3600000, OFF(request_head_timeout_ms),
     "a new connection's first request head must be complete this long after it was accepted (408, or a "
     "silent close when nothing arrived)"},
    {"REQUEST_TIMEOUT_MS", GW_SET_INT, "30000", 100, 3600000, OFF(request_timeout_ms),
     "client socket read/write timeout"},
    {"KEEP_ALIVE_TIMEOUT_MS", GW_SET_INT, "5000", 0, 600000, OFF(keep_alive_timeout_ms),
     "idle time before a keep-alive client connection is closed (sooner when every worker is held)"},
    {"ANALYTICS_QUEUE_SIZE", GW_SET_INT, "65536", 16, 16777216, OFF(analytics_queue_size),
     "analytics events held in memory before spooling"},
    {"ANALYTICS_BATCH_SIZE", GW_SET_INT, "2000", 1, 100000, OFF(analytics_batch_size),
     "analytics events sent to PostgreSQL in one COPY"},
    {"ANALYTICS_FLUSH_MS", GW_SET_INT, "200", 1, 60000, OFF(analytics_flush_ms),
     "longest wait before a partial analytics batch is sent"},
    {"SPOOL_DIR", GW_SET_STR, "/var/lib/aistudio/spool", 0, 0, OFF(spool_dir),
     "directory for analytics events while PostgreSQL is unreachable"},
    {"SPOOL_MAX_BYTES", GW_SET_BYTES, "1073741824", 65536, 1099511627776LL, OFF(spool_max_bytes),
     "largest analytics spool file; beyond it events are counted as dropped"},
    {"JOURNAL_SLOTS", GW_SET_INT, "0", 0, 4194304, OFF(journal_slots),
     "slots of the crash journal (SPOOL_DIR/journal.map, 1344 bytes each): requests in flight plus events not "
     "yet stored; 0 = WORKER_THREADS + ANALYTICS_QUEUE_SIZE + ANALYTICS_BATCH_SIZE + 64"},
    {"BUDGET_REFRESH_S", GW_SET_INT, "30", 1, 86400, OFF(budget_refresh_s),
     "how often budget spend is re-read from PostgreSQL"},
    {"BUDGET_DEFAULT_MAX_TOKENS", GW_SET_INT, "4096", 1, 10000000, OFF(budget_default_max_tokens),
     "output tokens assumed for the worst-case cost of a request that sets no max tokens"},
    {"MAX_SSE_LINE_BYTES", GW_SET_BYTES, "1048576", 1024, 268435456, OFF(max_sse_line_bytes),
     "longest SSE / NDJSON line accepted from an upstream (the stream is cut above)"},
    {"MAX_RESPONSE_BYTES", GW_SET_BYTES, "67108864", 65536, 1073741824, OFF(max_response_bytes),
     "largest non-streaming upstream response the gateway buffers to read its usage (502 above)"},
    {"CREDENTIAL_CACHE_TTL_S", GW_SET_INT, "60", 1, 86400, OFF(credential_cache_ttl_s),
     "how long a resolved credential is cached"},
    {"CREDENTIAL_NEGATIVE_TTL_S", GW_SET_INT, "5", 0, 3600, OFF(credential_negative_ttl_s),
     "how long an unknown credential is remembered as unknown"},
    {"DB_POOL_SIZE", GW_SET_INT, "8", 1, 512, OFF(db_pool_size), "PostgreSQL connections in the pool"},
    {"DB_TIMEOUT_MS", GW_SET_INT, "10000", 100, 600000, OFF(db_timeout_ms),
     "wait for a pool connection and statement timeout of gateway queries"},
    {"SNAPSHOT_REFRESH_S", GW_SET_INT, "60", 1, 86400, OFF(snapshot_refresh_s),
     "safety-net check of the snapshot checksum besides NOTIFY"},
    {"SHUTDOWN_GRACE_MS", GW_SET_INT, "10000", 0, 600000, OFF(shutdown_grace_ms),
     "on SIGTERM, how long in-flight requests may finish"},
    {"ALERT_DELIVERY", GW_SET_INT, "1", 0, 1, OFF(alert_delivery),
     "1: deliver budget alerts to their webhooks and e-mail targets (standalone and control; an edge never "
     "does); several gatewayd on one database share the work, each delivery sent once"},
    {"ALERT_POLL_MS", GW_SET_INT, "5000", 100, 600000, OFF(alert_poll_ms),
     "how often due alert deliveries are looked for"},
    {"ALERT_TIMEOUT_MS", GW_SET_INT, "10000", 1000, 120000, OFF(alert_timeout_ms),
     "longest attempt to deliver one alert (webhook request or SMTP transaction)"},
    {"LOG_LEVEL", GW_SET_LEVEL, "info", 0, 0, OFF(log_level), "error | warn | info | debug"},
    {"PLUGIN_SANDBOX", GW_SET_STR, "auto", 0, 0, OFF(plugin_sandbox),
     "auto | bwrap | none: run plugins in a bubblewrap sandbox (auto: when bwrap is installed)"},
    {"PLUGIN_SOCKET_DIR", GW_SET_STR, "/tmp", 0, 0, OFF(plugin_socket_dir),
     "directory where gatewayd makes the private directory of the plugins' sockets"},
    {"PLUGIN_USER", GW_SET_STR, "nobody", 0, 0, OFF(plugin_user),
     "the unprivileged user plugins run as when gatewayd runs as root"},
    {"PLUGIN_MAX_MEMORY", GW_SET_BYTES, "1073741824", 0, 1099511627776LL, OFF(plugin_max_memory),
     "memory a plugin process may use (RLIMIT_DATA: heap and private writable mappings); 0 = no limit"},
    {"PLUGIN_MAX_CPU_S", GW_SET_INT, "0", 0, 31536000, OFF(plugin_max_cpu_s),
     "CPU seconds a plugin process may use in its life (RLIMIT_CPU; it is restarted past it); 0 = no limit"},
    {"PLUGIN_MAX_FILES", GW_SET_INT, "1024", 16, 1048576, OFF(plugin_max_files),
     "open files of a plugin process (RLIMIT_NOFILE)"},
    {"PLUGIN_START_TIMEOUT_MS", GW_SET_INT, "5000", 100, 600000, OFF(plugin_start_timeout_ms),
     "how long a plugin may take to print its handshake and answer its manifest, configuration and health"},
    {"PLUGIN_HEALTH_INTERVAL_MS", GW_SET_INT, "5000", 100, 3600000, OFF(plugin_health_interval_ms),
     "how often each plugin's health is checked (two failures in a row restart it)"},
    {"PLUGIN_RESTART_MAX_MS", GW_SET_INT, "30000", 100, 3600000, OFF(plugin_restart_max_ms),
     "longest wait before a failed plugin is started again (the wait doubles from 100 ms)"},
};

#define GW_NSETTINGS (sizeof(gw_settings) / sizeof(gw_settings[0]))

const char *gw_config_mode_name(gw_mode mode)
{
    switch (mode) {
    case GW_MODE_STANDALONE:
        return "standalone";
    case GW_MODE_CONTROL:
        return "control";
    case GW_MODE_EDGE:
        return "edge";
    }
    return "?";
}

const char *gw_config_edge_token(const gw_config *cfg)
{
    return cfg->edge_token != NULL && cfg->edge_token[0] != '\0' ? cfg->edge_token
                                                                  : (cfg->grpc_auth_token != NULL ? cfg->grpc_auth_token : "");
}

static const char *gw_env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* Parses a decimal integer, with binary suffixes when allow_suffix. */
static int gw_parse_int64(const char *s, int allow_suffix, int64_t *out)
{
    char *end;
    long long v;
    int64_t mult = 1;

    if (*s == '\0' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    if (*end != '\0') {
        if (!allow_suffix)
            return -1;
        if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 || strcasecmp(end, "kib") == 0)
            mult = 1024;
        else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 || strcasecmp(end, "mib") == 0)
            mult = 1024 * 1024;
        else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0 || strcasecmp(end, "gib") == 0)
            mult = 1024 * 1024 * 1024;
        else
            return -1;
        if (v > INT64_MAX / mult || v < INT64_MIN / mult)
            return -1;
    }
    *out = (int64_t)v * mult;
    return 0;
}

static int gw_has_control_chars(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

static int gw_check_host(const char *name, const char *v, char *err)
{
    if (strlen(v) > 253)
        return gw_errf(err, "%s: host name is too long", name);
    for (const char *c = v; *c != '\0'; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':' && *c != '_')
            return gw_errf(err, "%s: '%.64s' is not a host name or IP address", name, v);
    return 0;
}

static int gw_set_string(gw_config *cfg, const gw_setting *s, const char *v, char *err)
{
    char *copy = strdup(v);
    if (copy == NULL)
        return gw_errf(err, "%s: out of memory", s->name);
    *(char **)((char *)cfg + s->off) = copy;
    return 0;
}

static int gw_apply_setting(gw_config *cfg, const gw_setting *s, const char *v, char *err)
{
    int64_t n;
    char *base = (char *)cfg;

    switch (s->kind) {
    case GW_SET_PORT:
    case GW_SET_INT:
    case GW_SET_BYTES:
        if (gw_parse_int64(v, s->kind == GW_SET_BYTES, &n) != 0)
            return gw_errf(err, "%s: '%.64s' is not a%s number", s->name, v,
                           s->kind == GW_SET_BYTES ? " byte count (digits, optional K/M/G suffix)" : "n integer");
        if (n < s->min || n > s->max)
            return gw_errf(err, "%s: %lld is out of range (%lld..%lld)", s->name, (long long)n, (long long)s->min,
                           (long long)s->max);
        if (s->kind == GW_SET_BYTES)
            *(int64_t *)(base + s->off) = n;
        else
            *(int *)(base + s->off) = (int)n;
        return 0;
    case GW_SET_MODE:
        if (strcmp(v, "standalone") == 0)
            *(gw_mode *)(base + s->off) = GW_MODE_STANDALONE;
        else if (strcmp(v, "control") == 0)
            *(gw_mode *)(base + s->off) = GW_MODE_CONTROL;
        else if (strcmp(v, "edge") == 0)
            *(gw_mode *)(base + s->off) = GW_MODE_EDGE;
        else
            return gw_errf(err, "%s: unknown mode '%.32s' (standalone, control or edge)", s->name, v);
        return 0;
    case GW_SET_LEVEL: {
        gw_log_level lvl;
        if (gw_log_parse_level(v, &lvl) != 0)
            return gw_errf(err, "%s: unknown level '%.32s' (error, warn, info or debug)", s->name, v);
        *(gw_log_level *)(base + s->off) = lvl;
        return 0;
    }
    case GW_SET_HOST:
        if (v[0] == '\0')
            return gw_errf(err, "%s: must not be empty", s->name);
        if (gw_check_host(s->name, v, err) != 0)
            return -1;
        return gw_set_string(cfg, s, v, err);
    case GW_SET_STR:
        if (gw_has_control_chars(v))
            return gw_errf(err, "%s: contains control characters", s->name);
        return gw_set_string(cfg, s, v, err);
    case GW_SET_SECRET:
        if (gw_has_control_chars(v))
            return gw_errf(err, "%s: contains control characters", s->name);
        return gw_set_string(cfg, s, v, err);
    case GW_SET_CONNINFO:
        if (v[0] != '\0') {
            /* libpq's message may quote part of the string (a password), so
             * it is not repeated here. */
            char *perr = NULL;
            PQconninfoOption *opts = PQconninfoParse(v, &perr);
            if (opts == NULL) {
                PQfreemem(perr);
                return gw_errf(err, "%s: not a valid libpq connection string or URI", s->name);
            }
            PQconninfoFree(opts);
        }
        return gw_set_string(cfg, s, v, err);
    case GW_SET_KEY:
    case GW_SET_KEYFILE:
        return 0;
    }
    return 0;
}

/* Reads the master key file: 64 hex digits, surrounding whitespace ignored. */
static int gw_read_key_file(gw_config *cfg, const char *path, char *err)
{
    char buf[4096];
    char kerr[GW_ERR_LEN];
    size_t len = 0;
    ssize_t r;
    int fd;
    char *start;
    size_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gw_errf(err, "AISTUDIO_SECRET_KEY_FILE: cannot read '%.128s': %s", path, strerror(errno));
    while (len < sizeof(buf) && (r = read(fd, buf + len, sizeof(buf) - len)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            gw_secretbox_wipe(buf, sizeof(buf));
            return gw_errf(err, "AISTUDIO_SECRET_KEY_FILE: cannot read '%.128s': %s", path, strerror(e));
        }
        len += (size_t)r;
    }
    close(fd);
    if (len == sizeof(buf)) {
        gw_secretbox_wipe(buf, sizeof(buf));
        return gw_errf(err, "AISTUDIO_SECRET_KEY_FILE: '%.128s' is too large to hold a key", path);
    }
    start = buf;
    n = len;
    while (n > 0 && isspace((unsigned char)*start)) {
        start++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)start[n - 1]))
        n--;
    if (gw_secretbox_key_from_hex(&cfg->secret_key, start, n, kerr) != 0) {
        gw_secretbox_wipe(buf, sizeof(buf));
        return gw_errf(err, "AISTUDIO_SECRET_KEY_FILE: the key in '%.128s' %s", path, kerr);
    }
    gw_secretbox_wipe(buf, sizeof(buf));
    cfg->have_secret_key = 1;
    return 0;
}

static int gw_check_ports(const gw_config *cfg, char *err)
{
    const struct {
        const char *name;
        int port;
    } ports[] = {{"SERVER_PORT", cfg->server_port},
                 {"PROXY_PORT", cfg->proxy_port},
                 {"GRPC_PORT", cfg->grpc_port},
                 {"DOCS_PORT", cfg->docs_port}};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < i; j++)
            if (ports[i].port == ports[j].port)
                return gw_errf(err, "%s: %d is already used by %s", ports[i].name, ports[i].port, ports[j].name);
    return 0;
}

static int gw_check_namespace(const char *v, char *err)
{
    size_t n = strlen(v);
    if (n == 0)
        return 0;
    if (n > 63 || !(islower((unsigned char)v[0]) || isdigit((unsigned char)v[0])))
        return gw_errf(err, "EDGE_NAMESPACE: '%.64s' is not a namespace name ([a-z0-9][a-z0-9_-]{0,62})", v);
    for (size_t i = 1; i < n; i++)
        if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) && v[i] != '_' && v[i] != '-')
            return gw_errf(err, "EDGE_NAMESPACE: '%.64s' is not a namespace name ([a-z0-9][a-z0-9_-]{0,62})", v);
    return 0;
}

static int gw_check_edge_id(const char *v, char *err)
{
    size_t n = strlen(v);
    if (n > 128)
        return gw_errf(err, "EDGE_ID: longer than 128 characters");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.')
            return gw_errf(err, "EDGE_ID: '%.64s' may only contain letters, digits, '-', '_' and '.'", v);
    return 0;
}

/* CONTROL_ENDPOINT: host:port (a name, an IPv4 address or [IPv6]) with a
 * port of 1..65535. */
static int gw_check_endpoint(const char *v, char *err)
{
    const char *colon = strrchr(v, ':');
    char *end;
    long port;
    if (colon == NULL || colon == v || colon[1] == '\0')
        return gw_errf(err, "CONTROL_ENDPOINT: '%.64s' is not host:port", v);
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
        return gw_errf(err, "CONTROL_ENDPOINT: '%.64s' has no port of 1..65535", v);
    for (const char *c = v; c < colon; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_' && *c != '[' && *c != ']' && *c != ':')
            return gw_errf(err, "CONTROL_ENDPOINT: '%.64s' is not host:port", v);
    return 0;
}

/* A file setting that must be readable when set. */
static int gw_check_readable(const char *name, const char *path, char *err)
{
    if (path[0] == '\0')
        return 0;
    if (access(path, R_OK) != 0)
        return gw_errf(err, "%s: cannot read '%.128s': %s", name, path, strerror(errno));
    return 0;
}

/* A base URL setting: http(s)://host[:port] with an empty or "/" path, no
 * user, query or fragment; stored without the trailing '/'. Empty stays
 * empty (the caller decides the default). */
static int gw_check_base_url(const char *name, char *v, char *err)
{
    const char *host;
    size_t n = strlen(v);

    if (n == 0)
        return 0;
    if (strncmp(v, "https://", 8) == 0)
        host = v + 8;
    else if (strncmp(v, "http://", 7) == 0)
        host = v + 7;
    else
        return gw_errf(err, "%s: '%.64s' is not an http:// or https:// URL", name, v);
    if (n > 512)
        return gw_errf(err, "%s: longer than 512 characters", name);
    if (v[n - 1] == '/')
        v[--n] = '\0';
    if (*host == '\0')
        return gw_errf(err, "%s: '%.64s' has no host", name, v);
    for (const char *c = host; *c != '\0'; c++) {
        if (*c == '/')
            return gw_errf(err, "%s: '%.64s' has a path: give the base URL only (scheme, host, port)", name, v);
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':' && *c != '[' && *c != ']' && *c != '_')
            return gw_errf(err,
                           "%s: '%.64s' may hold only a scheme, a host and a port (no user, query or "
                           "fragment)",
                           name, v);
    }
    return 0;
}

/* PUBLIC_URL (empty: the loopback URL of SERVER_PORT) and
 * GATEWAY_PUBLIC_URL (empty: the UI's host on PROXY_PORT). */
static int gw_check_public_url(gw_config *cfg, char *err)
{
    if (gw_check_base_url("GATEWAY_PUBLIC_URL", cfg->gateway_public_url, err) != 0 ||
        gw_check_base_url("PUBLIC_URL", cfg->public_url, err) != 0)
        return -1;
    if (cfg->public_url[0] == '\0') {
        char def[64];
        free(cfg->public_url);
        snprintf(def, sizeof(def), "http://127.0.0.1:%d", cfg->server_port);
        cfg->public_url = strdup(def);
        return cfg->public_url != NULL ? 0 : gw_errf(err, "PUBLIC_URL: out of memory");
    }
    return 0;
}

static int gw_config_validate(gw_config *cfg, const char *key_hex, const char *key_file, char *err)
{
    if (gw_check_ports(cfg, err) != 0 || gw_check_public_url(cfg, err) != 0)
        return -1;
    if (gw_check_namespace(cfg->edge_namespace, err) != 0 || gw_check_edge_id(cfg->edge_id, err) != 0)
        return -1;
    for (const char *c = cfg->control_endpoint; *c != '\0'; c++)
        if (isspace((unsigned char)*c))
            return gw_errf(err, "CONTROL_ENDPOINT: must not contain spaces");
    if (cfg->control_endpoint[0] != '\0' && gw_check_endpoint(cfg->control_endpoint, err) != 0)
        return -1;
    if (cfg->mode == GW_MODE_EDGE) {
        if (cfg->control_endpoint[0] == '\0')
            return gw_errf(err, "CONTROL_ENDPOINT: required when GATEWAY_MODE=edge (the hub's host:port)");
        if (cfg->edge_id[0] == '\0')
            return gw_errf(err, "EDGE_ID: required when GATEWAY_MODE=edge");
        if (gw_config_edge_token(cfg)[0] == '\0')
            return gw_errf(err, "EDGE_TOKEN: required when GATEWAY_MODE=edge (the token of aistudio.enroll_edge(), "
                                "or set GRPC_AUTH_TOKEN)");
        if (gw_check_readable("GRPC_TLS_CA_FILE", cfg->grpc_tls_ca_file, err) != 0)
            return -1;
    }
    if ((cfg->grpc_tls_cert_file[0] == '\0') != (cfg->grpc_tls_key_file[0] == '\0'))
        return gw_errf(err, "%s: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE together",
                       cfg->grpc_tls_cert_file[0] == '\0' ? "GRPC_TLS_CERT_FILE" : "GRPC_TLS_KEY_FILE");
    if (cfg->mode == GW_MODE_CONTROL && (gw_check_readable("GRPC_TLS_CERT_FILE", cfg->grpc_tls_cert_file, err) != 0 ||
                                         gw_check_readable("GRPC_TLS_KEY_FILE", cfg->grpc_tls_key_file, err) != 0))
        return -1;
    if (cfg->spool_dir[0] == '\0')
        return gw_errf(err, "SPOOL_DIR: must not be empty");
    if (strcmp(cfg->plugin_sandbox, "auto") != 0 && strcmp(cfg->plugin_sandbox, "bwrap") != 0 &&
        strcmp(cfg->plugin_sandbox, "none") != 0)
        return gw_errf(err, "PLUGIN_SANDBOX: must be auto, bwrap or none");
    if (cfg->plugin_socket_dir[0] != '/' || strlen(cfg->plugin_socket_dir) > 40)
        return gw_errf(err, "PLUGIN_SOCKET_DIR: must be an absolute path of at most 40 bytes (unix socket paths are "
                            "short)");
    if (cfg->plugin_user[0] == '\0')
        return gw_errf(err, "PLUGIN_USER: must not be empty");
    if ((cfg->secret_key_file = strdup(key_file != NULL ? key_file : "")) == NULL)
        return gw_errf(err, "AISTUDIO_SECRET_KEY_FILE: out of memory");
    if (cfg->worker_threads == 1)
        return gw_errf(err, "WORKER_THREADS: must be 0 (sized from the limits) or at least 2");

    if (key_hex != NULL && key_file != NULL)
        return gw_errf(err,
                       "AISTUDIO_SECRET_KEY: set either AISTUDIO_SECRET_KEY or AISTUDIO_SECRET_KEY_FILE, not both");
    if (key_hex != NULL) {
        char kerr[GW_ERR_LEN];
        if (gw_secretbox_key_from_hex(&cfg->secret_key, key_hex, strlen(key_hex), kerr) != 0)
            return gw_errf(err, "AISTUDIO_SECRET_KEY: %s", kerr);
        cfg->have_secret_key = 1;
    } else if (key_file != NULL) {
        if (gw_read_key_file(cfg, key_file, err) != 0)
            return -1;
    }
    return 0;
}

int gw_config_load_with(gw_config *cfg, gw_config_lookup_fn lookup, void *ctx, char err[GW_ERR_LEN])
{
    const char *key_hex = NULL, *key_file = NULL;

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < GW_NSETTINGS; i++) {
        const gw_setting *s = &gw_settings[i];
        const char *v = lookup(s->name, ctx);
        if (v != NULL && v[0] == '\0')
            v = NULL;
        if (s->kind == GW_SET_KEY) {
            key_hex = v;
            continue;
        }
        if (s->kind == GW_SET_KEYFILE) {
            key_file = v;
            continue;
        }
        if (gw_apply_setting(cfg, s, v != NULL ? v : s->def, err) != 0) {
            gw_config_free(cfg);
            return -1;
        }
    }
    if (gw_config_validate(cfg, key_hex, key_file, err) != 0) {
        gw_config_free(cfg);
        return -1;
    }
    return 0;
}

int gw_config_load(gw_config *cfg, char err[GW_ERR_LEN])
{
    return gw_config_load_with(cfg, gw_env_lookup, NULL, err);
}

void gw_config_free(gw_config *cfg)
{
    for (size_t i = 0; i < GW_NSETTINGS; i++) {
        const gw_setting *s = &gw_settings[i];
        char **field;
        if (s->off == NOFF)
            continue;
        if (s->kind != GW_SET_STR && s->kind != GW_SET_SECRET && s->kind != GW_SET_HOST && s->kind != GW_SET_CONNINFO)
            continue;
        field = (char **)((char *)cfg + s->off);
        if (*field != NULL && (s->kind == GW_SET_SECRET || s->kind == GW_SET_CONNINFO))
            gw_secretbox_wipe(*field, strlen(*field));
        free(*field);
        *field = NULL;
    }
    free(cfg->secret_key_file);
    cfg->secret_key_file = NULL;
    gw_secretbox_wipe(&cfg->secret_key, sizeof(cfg->secret_key));
    cfg->have_secret_key = 0;
}

void gw_config_print_help(FILE *out)
{
    fprintf(out, "usage: gatewayd [--help | --check-config]\n\n"
                 "  --help          this text\n"
                 "  --check-config  validate the settings, print them (secrets hidden) and exit\n\n"
                 "Settings come from the environment; an empty value means the default.\n"
                 "A bad value stops start-up with a message naming the setting (exit status 2).\n\n");
    for (size_t i = 0; i < GW_NSETTINGS; i++) {
        const gw_setting *s = &gw_settings[i];
        char def[80];
        if (s->def[0] == '\0')
            snprintf(def, sizeof(def), "(unset)");
        else
            snprintf(def, sizeof(def), "%s", s->def);
        fprintf(out, "  %-28s default %-24s %s", s->name, def, s->help);
        if (s->kind == GW_SET_INT || s->kind == GW_SET_BYTES)
            fprintf(out, " [%lld..%lld]", (long long)s->min, (long long)s->max);
        fputc('\n', out);
    }
}

/* Prints a conninfo with any password hidden. */
static void gw_print_conninfo(const char *v, FILE *out)
{
    PQconninfoOption *opts, *o;
    int first = 1;

    if (v[0] == '\0') {
        fputs("(libpq defaults)", out);
        return;
    }
    opts = PQconninfoParse(v, NULL);
    if (opts == NULL) {
        fputs("(invalid)", out);
        return;
    }
    for (o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL || o->val[0] == '\0')
            continue;
        fprintf(out, "%s%s=%s", first ? "" : " ", o->keyword,
                strcmp(o->keyword, "password") == 0 ? "********" : o->val);
        first = 0;
    }
    PQconninfoFree(opts);
}

void gw_config_print(const gw_config *cfg, FILE *out)
{
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < GW_NSETTINGS; i++) {
        const gw_setting *s = &gw_settings[i];
        fprintf(out, "%s=", s->name);
        switch (s->kind) {
        case GW_SET_PORT:
        case GW_SET_INT:
            fprintf(out, "%d", *(const int *)(base + s->off));
            break;
        case GW_SET_BYTES:
            fprintf(out, "%lld", (long long)*(const int64_t *)(base + s->off));
            break;
        case GW_SET_MODE:
            fputs(gw_config_mode_name(cfg->mode), out);
            break;
        case GW_SET_LEVEL:
            fputs(gw_log_level_name(cfg->log_level), out);
            break;
        case GW_SET_STR:
        case GW_SET_HOST:
            fputs(*(char *const *)(base + s->off), out);
            break;
        case GW_SET_SECRET:
            fputs((*(char *const *)(base + s->off))[0] != '\0' ? "(set, hidden)" : "(unset)", out);
            break;
        case GW_SET_CONNINFO:
            gw_print_conninfo(*(char *const *)(base + s->off), out);
            break;
        case GW_SET_KEY:
            if (cfg->have_secret_key)
                fprintf(out, "(set, hidden; key id %s)", cfg->secret_key.key_id);
            else
                fputs("(unset: sealed vendor keys cannot be opened)", out);
            break;
        case GW_SET_KEYFILE:
            fputs("(see AISTUDIO_SECRET_KEY)", out);
            break;
        }
        fputc('\n', out);
    }
}
