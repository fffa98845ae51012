/*
 * regress/unit/test_config.c: settings parsing — defaults, good values, and
 * every kind of bad value, whose error must name the setting (and never
 * echo a secret).
 */
#include "base/codec.c"
#include "base/config.c"
#include "base/log.c"
#include "base/secretbox.c"

#include <openssl/sha.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* A tiny environment: NAME=VALUE pairs. */
typedef struct env {
    const char *kv[32][2];
    int n;
} env;

static const char *env_lookup(const char *name, void *ctx)
{
    env *e = ctx;
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->kv[i][0], name) == 0)
            return e->kv[i][1];
    return NULL;
}

/* Loads with the given pairs (NULL-terminated list of name, value). */
static int load(gw_config *cfg, char *err, ...)
{
    env e = {.n = 0};
    va_list ap;
    const char *k;
    va_start(ap, err);
    while ((k = va_arg(ap, const char *)) != NULL) {
        e.kv[e.n][0] = k;
        e.kv[e.n][1] = va_arg(ap, const char *);
        e.n++;
    }
    va_end(ap);
    err[0] = '\0';
    return gw_config_load_with(cfg, env_lookup, &e, err);
}

/* Expects failure whose message starts with the setting's name. */
static void bad(const char *what, const char *setting, const char *name, const char *value)
{
    gw_config cfg;
    char err[GW_ERR_LEN];
    int rc = load(&cfg, err, name, value, (const char *)NULL);
    ok(rc == -1 && strncmp(err, setting, strlen(setting)) == 0, "%s -> error naming %s", what, setting);
    if (rc == 0)
        gw_config_free(&cfg);
    else if (strncmp(err, setting, strlen(setting)) != 0)
        diag("error was: %s", err);
}

static char *capture(void (*fn)(const gw_config *, FILE *), const gw_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(cfg, f);
    fclose(f);
    return buf;
}

static void print_help_adapter(const gw_config *cfg, FILE *f)
{
    (void)cfg;
    gw_config_print_help(f);
}

int main(void)
{
    gw_config cfg;
    char err[GW_ERR_LEN];
    char path[] = "/tmp/gw-test-key-XXXXXX";
    int fd;

    /* defaults */
    ok(load(&cfg, err, (const char *)NULL) == 0, "no settings: defaults load");
    is_int(cfg.server_port, 8080, "SERVER_PORT default 8080");
    is_int(cfg.proxy_port, 9090, "PROXY_PORT default 9090");
    is_int(cfg.grpc_port, 50051, "GRPC_PORT default 50051");
    is_int(cfg.docs_port, 8989, "DOCS_PORT default 8989");
    is_int(cfg.mode, GW_MODE_STANDALONE, "GATEWAY_MODE default standalone");
    is_str(cfg.listen_host, "127.0.0.1", "LISTEN_HOST default 127.0.0.1");
    is_str(cfg.database_url, "", "DATABASE_URL default empty (libpq defaults)");
    is_int(cfg.max_body_bytes, 10 * 1024 * 1024, "MAX_BODY_BYTES default 10 MiB");
    is_int(cfg.worker_threads, 256, "WORKER_THREADS default 256");
    is_int(cfg.log_level, GW_LOG_INFO, "LOG_LEVEL default info");
    is_int(cfg.have_secret_key, 0, "no master key by default");
    is_str(cfg.edge_namespace, "", "EDGE_NAMESPACE default '' (global)");
    is_str(cfg.public_url, "http://127.0.0.1:8080", "PUBLIC_URL default http://127.0.0.1:<SERVER_PORT>");
    ok(cfg.credential_cache_ttl_s > 0 && cfg.shutdown_grace_ms > 0 && cfg.stream_stall_ms > 0 &&
           cfg.upstream_timeout_ms > 0 && cfg.analytics_queue_size > 0 && cfg.spool_dir[0] != '\0',
       "every limit has a sane default");
    gw_config_free(&cfg);

    /* good values */
    ok(load(&cfg, err, "PROXY_PORT", "19090", "GATEWAY_MODE", "control", "LOG_LEVEL", "DEBUG", "MAX_BODY_BYTES",
            "2M", "MAX_HEADER_BYTES", "64KiB", "LISTEN_HOST", "0.0.0.0", "DATABASE_URL",
            "postgresql://gw:pw@127.0.0.1:5432/studio", "EDGE_NAMESPACE", "team-a", "WORKER_THREADS", "1024",
            (const char *)NULL) == 0,
       "good values load");
    is_int(cfg.proxy_port, 19090, "PROXY_PORT parsed");
    is_int(cfg.mode, GW_MODE_CONTROL, "control mode");
    is_int(cfg.log_level, GW_LOG_DEBUG, "LOG_LEVEL=DEBUG");
    is_int(cfg.max_body_bytes, 2 * 1024 * 1024, "MAX_BODY_BYTES=2M is binary megabytes");
    is_int(cfg.max_header_bytes, 65536, "MAX_HEADER_BYTES=64KiB");
    is_str(cfg.listen_host, "0.0.0.0", "LISTEN_HOST=0.0.0.0");
    is_str(cfg.edge_namespace, "team-a", "EDGE_NAMESPACE parsed");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "PROXY_PORT", "", (const char *)NULL) == 0 && cfg.proxy_port == 9090,
       "empty value means the default");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "GATEWAY_MODE", "edge", "CONTROL_ENDPOINT", "hub.internal:50051", "EDGE_ID", "edge-1",
            "EDGE_TOKEN", "aie_tok", (const char *)NULL) == 0 &&
           cfg.mode == GW_MODE_EDGE && strcmp(gw_config_edge_token(&cfg), "aie_tok") == 0,
       "edge mode with CONTROL_ENDPOINT, EDGE_ID and EDGE_TOKEN");
    ok(cfg.edge_heartbeat_s == 30 && cfg.edge_token_cache_ttl_s == 300, "EDGE_HEARTBEAT_INTERVAL 30, EDGE_TOKEN_CACHE_TTL 300");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "GATEWAY_MODE", "edge", "CONTROL_ENDPOINT", "[::1]:50051", "EDGE_ID", "edge-1", "GRPC_AUTH_TOKEN",
            "shared", "EDGE_HEARTBEAT_INTERVAL", "5", "EDGE_TOKEN_CACHE_TTL", "60", (const char *)NULL) == 0 &&
           strcmp(gw_config_edge_token(&cfg), "shared") == 0 && cfg.edge_heartbeat_s == 5 &&
           cfg.edge_token_cache_ttl_s == 60,
       "an edge with the shared token (no EDGE_TOKEN), an IPv6 hub, its intervals");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "GATEWAY_MODE", "edge", "CONTROL_ENDPOINT", "hub:50051", "EDGE_ID", "e", (const char *)NULL) == -1 &&
           strncmp(err, "EDGE_TOKEN", 10) == 0,
       "an edge without any token -> error naming EDGE_TOKEN");
    ok(load(&cfg, err, "GATEWAY_MODE", "edge", "CONTROL_ENDPOINT", "hub:50051", "EDGE_ID", "e", "EDGE_TOKEN", "t",
            "GRPC_TLS_CA_FILE", "/nonexistent/ca.pem", (const char *)NULL) == -1 &&
           strncmp(err, "GRPC_TLS_CA_FILE", 16) == 0,
       "an unreadable CA file -> error naming GRPC_TLS_CA_FILE");
    ok(load(&cfg, err, "GATEWAY_MODE", "control", "GRPC_TLS_CERT_FILE", "/nonexistent/c.pem", "GRPC_TLS_KEY_FILE",
            "/nonexistent/k.pem", (const char *)NULL) == -1 &&
           strncmp(err, "GRPC_TLS_CERT_FILE", 18) == 0,
       "a hub with an unreadable certificate -> error naming GRPC_TLS_CERT_FILE");
    ok(load(&cfg, err, "GATEWAY_MODE", "edge", "CONTROL_ENDPOINT", "hub:50051", "EDGE_ID", "e", "EDGE_TOKEN",
            "aie_secret-token", (const char *)NULL) == 0,
       "an edge config to print");
    {
        char *printed = capture(gw_config_print, &cfg);
        lacks_str(printed, "aie_secret-token", "--check-config hides EDGE_TOKEN");
        has_str(printed, "EDGE_TOKEN=(set, hidden)", "and says it is set");
        free(printed);
    }
    gw_config_free(&cfg);
    ok(load(&cfg, err, "LISTEN_HOST", "::1", (const char *)NULL) == 0, "IPv6 LISTEN_HOST accepted");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "SERVER_PORT", "18080", (const char *)NULL) == 0 &&
           strcmp(cfg.public_url, "http://127.0.0.1:18080") == 0,
       "PUBLIC_URL default follows SERVER_PORT");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "PUBLIC_URL", "https://studio.example.com/", (const char *)NULL) == 0 &&
           strcmp(cfg.public_url, "https://studio.example.com") == 0,
       "PUBLIC_URL with a trailing '/' is stored without it");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "PUBLIC_URL", "http://[::1]:8443", (const char *)NULL) == 0 &&
           strcmp(cfg.public_url, "http://[::1]:8443") == 0,
       "PUBLIC_URL with an IPv6 host and a port");
    gw_config_free(&cfg);
    ok(load(&cfg, err, (const char *)NULL) == 0 && strcmp(cfg.gateway_public_url, "") == 0,
       "GATEWAY_PUBLIC_URL default empty (the UI's host on PROXY_PORT)");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "GATEWAY_PUBLIC_URL", "https://llm.example.com:8443/", (const char *)NULL) == 0 &&
           strcmp(cfg.gateway_public_url, "https://llm.example.com:8443") == 0,
       "GATEWAY_PUBLIC_URL stored without its trailing '/'");
    gw_config_free(&cfg);

    /* bad values, each naming its setting */
    bad("non-numeric port", "PROXY_PORT", "PROXY_PORT", "abc");
    bad("port with trailing junk", "PROXY_PORT", "PROXY_PORT", "9090x");
    bad("port 0", "SERVER_PORT", "SERVER_PORT", "0");
    bad("port 70000", "GRPC_PORT", "GRPC_PORT", "70000");
    bad("negative port", "DOCS_PORT", "DOCS_PORT", "-1");
    bad("port with leading space", "PROXY_PORT", "PROXY_PORT", " 9090");
    bad("huge number", "PROXY_PORT", "PROXY_PORT", "99999999999999999999999");
    bad("port clash", "PROXY_PORT", "SERVER_PORT", "9090");
    bad("GATEWAY_PUBLIC_URL with a path", "GATEWAY_PUBLIC_URL", "GATEWAY_PUBLIC_URL", "https://llm.example.com/v1");
    bad("GATEWAY_PUBLIC_URL not http(s)", "GATEWAY_PUBLIC_URL", "GATEWAY_PUBLIC_URL", "ftp://llm.example.com");
    bad("unknown mode", "GATEWAY_MODE", "GATEWAY_MODE", "hub");
    bad("edge without CONTROL_ENDPOINT", "CONTROL_ENDPOINT", "GATEWAY_MODE", "edge");
    bad("CONTROL_ENDPOINT without a port", "CONTROL_ENDPOINT", "CONTROL_ENDPOINT", "hub.internal");
    bad("CONTROL_ENDPOINT with port 0", "CONTROL_ENDPOINT", "CONTROL_ENDPOINT", "hub:0");
    bad("CONTROL_ENDPOINT with a URL", "CONTROL_ENDPOINT", "CONTROL_ENDPOINT", "http://hub/x:50051");
    bad("heartbeat of 0 s", "EDGE_HEARTBEAT_INTERVAL", "EDGE_HEARTBEAT_INTERVAL", "0");
    bad("heartbeat of two hours", "EDGE_HEARTBEAT_INTERVAL", "EDGE_HEARTBEAT_INTERVAL", "7200");
    bad("token cache TTL not a number", "EDGE_TOKEN_CACHE_TTL", "EDGE_TOKEN_CACHE_TTL", "5m");
    bad("a certificate without its key", "GRPC_TLS_KEY_FILE", "GRPC_TLS_CERT_FILE", "/etc/hostname");
    bad("a key without its certificate", "GRPC_TLS_CERT_FILE", "GRPC_TLS_KEY_FILE", "/etc/hostname");
    bad("unknown log level", "LOG_LEVEL", "LOG_LEVEL", "verbose");
    bad("body size with bad suffix", "MAX_BODY_BYTES", "MAX_BODY_BYTES", "10X");
    bad("body size below minimum", "MAX_BODY_BYTES", "MAX_BODY_BYTES", "512");
    bad("header size above maximum", "MAX_HEADER_BYTES", "MAX_HEADER_BYTES", "2G");
    bad("one worker thread", "WORKER_THREADS", "WORKER_THREADS", "1");
    bad("stall of 5 ms", "STREAM_STALL_MS", "STREAM_STALL_MS", "5");
    bad("negative queue", "ANALYTICS_QUEUE_SIZE", "ANALYTICS_QUEUE_SIZE", "-5");
    bad("float TTL", "CREDENTIAL_CACHE_TTL_S", "CREDENTIAL_CACHE_TTL_S", "1.5");
    bad("host with a space", "LISTEN_HOST", "LISTEN_HOST", "bad host");
    bad("namespace with capitals", "EDGE_NAMESPACE", "EDGE_NAMESPACE", "Team A");
    bad("EDGE_ID with a slash", "EDGE_ID", "EDGE_ID", "a/b");
    bad("control characters", "SPOOL_DIR", "SPOOL_DIR", "/tmp/a\nb");
    bad("invalid conninfo", "DATABASE_URL", "DATABASE_URL", "host=x port");
    bad("PUBLIC_URL without a scheme", "PUBLIC_URL", "PUBLIC_URL", "studio.example.com");
    bad("PUBLIC_URL ftp", "PUBLIC_URL", "PUBLIC_URL", "ftp://studio.example.com");
    bad("PUBLIC_URL with a path", "PUBLIC_URL", "PUBLIC_URL", "https://example.com/studio");
    bad("PUBLIC_URL with a query", "PUBLIC_URL", "PUBLIC_URL", "https://example.com?x=1");
    bad("PUBLIC_URL with a user", "PUBLIC_URL", "PUBLIC_URL", "https://me@example.com");
    bad("PUBLIC_URL without a host", "PUBLIC_URL", "PUBLIC_URL", "https://");
    bad("key of 63 hex digits", "AISTUDIO_SECRET_KEY", "AISTUDIO_SECRET_KEY", KEY_HEX + 1);
    bad("key file that does not exist", "AISTUDIO_SECRET_KEY_FILE", "AISTUDIO_SECRET_KEY_FILE",
        "/nonexistent/dir/key");

    ok(load(&cfg, err, "GATEWAY_MODE", "edge", "CONTROL_ENDPOINT", "hub:50051", "EDGE_TOKEN", "t", (const char *)NULL) ==
               -1 &&
           strncmp(err, "EDGE_ID", 7) == 0,
       "edge without EDGE_ID -> error naming EDGE_ID");
    ok(load(&cfg, err, "DATABASE_URL", "postgresql://u:hunter2secret@h/db?bogus_option=1", (const char *)NULL) ==
           -1,
       "conninfo with an unknown option rejected");
    lacks_str(err, "hunter2", "DATABASE_URL error does not echo the password");
    ok(load(&cfg, err, "AISTUDIO_SECRET_KEY", "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            (const char *)NULL) == -1,
       "non-hex key rejected");
    lacks_str(err, "zz1122", "key error does not echo the key");
    has_str(err, "64 hex digits", "key error says what is expected");

    /* master key from the environment */
    ok(load(&cfg, err, "AISTUDIO_SECRET_KEY", KEY_HEX, (const char *)NULL) == 0 && cfg.have_secret_key,
       "64-hex key accepted");
    {
        unsigned char raw[32], d[32];
        char want[17];
        for (int i = 0; i < 32; i++)
            raw[i] = (unsigned char)((i % 16) * 0x11);
        SHA256(raw, 32, d);
        for (int i = 0; i < 8; i++)
            sprintf(want + 2 * i, "%02x", d[i]);
        ok(memcmp(cfg.secret_key.key, raw, 32) == 0, "key bytes decoded");
        is_str(cfg.secret_key.key_id, want, "key_id = first 16 hex of SHA-256(key bytes)");
    }
    {
        char *printed = capture(gw_config_print, &cfg);
        lacks_str(printed, "8899aabb", "--check-config output hides the key");
        has_str(printed, cfg.secret_key.key_id, "--check-config shows the key id");
        free(printed);
    }
    gw_config_free(&cfg);

    /* master key from a file (with a trailing newline, as `openssl rand -hex 32` writes) */
    fd = mkstemp(path);
    ok(fd >= 0 && write(fd, KEY_HEX "\n", 65) == 65, "key file written");
    close(fd);
    ok(load(&cfg, err, "AISTUDIO_SECRET_KEY_FILE", path, (const char *)NULL) == 0 && cfg.have_secret_key,
       "key file accepted, whitespace trimmed");
    gw_config_free(&cfg);
    ok(load(&cfg, err, "AISTUDIO_SECRET_KEY_FILE", path, "AISTUDIO_SECRET_KEY", KEY_HEX, (const char *)NULL) == -1 &&
           strncmp(err, "AISTUDIO_SECRET_KEY", 19) == 0,
       "both key settings -> error");
    fd = open(path, O_WRONLY | O_TRUNC);
    ok(fd >= 0 && write(fd, "not a key\n", 10) == 10, "key file overwritten with garbage");
    close(fd);
    ok(load(&cfg, err, "AISTUDIO_SECRET_KEY_FILE", path, (const char *)NULL) == -1 &&
           strncmp(err, "AISTUDIO_SECRET_KEY_FILE", 24) == 0,
       "key file with garbage -> error naming AISTUDIO_SECRET_KEY_FILE");
    lacks_str(err, "not a key", "key file error does not echo its content");
    unlink(path);

    /* secrets never printed */
    ok(load(&cfg, err, "GRPC_AUTH_TOKEN", "tok-very-secret", "DATABASE_URL", "host=db user=gw password=pw-secret",
            (const char *)NULL) == 0,
       "token and password load");
    {
        char *printed = capture(gw_config_print, &cfg);
        lacks_str(printed, "tok-very-secret", "--check-config hides GRPC_AUTH_TOKEN");
        lacks_str(printed, "pw-secret", "--check-config hides the database password");
        has_str(printed, "host=db", "--check-config shows the database host");
        free(printed);
    }
    gw_config_free(&cfg);

    /* --help lists every setting */
    {
        static const char *names[] = {"SERVER_PORT", "PROXY_PORT", "GRPC_PORT", "DOCS_PORT", "GATEWAY_MODE",
                                      "DATABASE_URL", "AISTUDIO_SECRET_KEY", "AISTUDIO_SECRET_KEY_FILE",
                                      "GRPC_AUTH_TOKEN", "CONTROL_ENDPOINT", "EDGE_ID", "EDGE_NAMESPACE",
                                      "MAX_BODY_BYTES", "MAX_HEADER_BYTES", "STREAM_STALL_MS",
                                      "UPSTREAM_TIMEOUT_MS", "MAX_STREAMS_PER_APP", "WORKER_THREADS",
                                      "ANALYTICS_QUEUE_SIZE", "SPOOL_DIR", "LISTEN_HOST", "CREDENTIAL_CACHE_TTL_S",
                                      "SHUTDOWN_GRACE_MS", "LOG_LEVEL", "PUBLIC_URL", "EDGE_TOKEN",
                                      "EDGE_HEARTBEAT_INTERVAL", "EDGE_TOKEN_CACHE_TTL", "GRPC_TLS_CERT_FILE",
                                      "GRPC_TLS_KEY_FILE", "GRPC_TLS_CA_FILE", NULL};
        char *help = capture(print_help_adapter, NULL);
        int all = 1;
        for (int i = 0; names[i] != NULL; i++)
            if (strstr(help, names[i]) == NULL) {
                all = 0;
                diag("--help misses %s", names[i]);
            }
        ok(all, "--help lists every setting of the brief");
        free(help);
    }
    return tap_done();
}
