/*
 * regress/unit/test_http_options.c: the civetweb option list every listener
 * starts with (reliability-plan §3): no document_root, no directory
 * listing, no CGI/SSI, CORS closed, keep-alive and TCP_NODELAY on, thread
 * pool, timeouts and head size from the configuration, IPv6 bracketing;
 * the accept queue the connection guard needs; the thread pools sized from
 * the open-file limit and the memory, and the default per-address limit.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/connguard.c"
#include "http/server.c"

#include "tap.h"

static const char *opt(const gw_http_optbuf *b, const char *name)
{
    for (int i = 0; b->list[i] != NULL; i += 2)
        if (strcmp(b->list[i], name) == 0)
            return b->list[i + 1];
    return NULL;
}

int main(void)
{
    gw_http_opts o = {"proxy", "127.0.0.1", 9090, 256, 30000, 5000, 32768, NULL, 5000, 0};
    gw_http_optbuf b;
    char err[GW_ERR_LEN];
    const struct mg_option *valid = mg_get_valid_options();
    int all_known = 1;

    ok(gw_http_build_options(&o, &b, err) == 0, "options built");
    is_str(opt(&b, "listening_ports"), "127.0.0.1:9090", "listens on LISTEN_HOST:PORT only");
    ok(opt(&b, "document_root") == NULL, "no document_root (no built-in file serving: CVE-2025-55763)");
    is_str(opt(&b, "enable_directory_listing"), "no", "directory listing off");
    is_str(opt(&b, "cgi_pattern"), "", "CGI pattern empty");
    is_str(opt(&b, "ssi_pattern"), "", "SSI pattern empty (CVE-2018-12684)");
    is_str(opt(&b, "decode_url"), "no", "paths reach the handlers as sent (a decoded %%00 would cut them)");
    is_str(opt(&b, "access_control_allow_origin"), "", "CORS: no Allow-Origin");
    is_str(opt(&b, "access_control_allow_methods"), "", "CORS: no Allow-Methods");
    is_str(opt(&b, "access_control_allow_headers"), "", "CORS: no Allow-Headers");
    is_str(opt(&b, "num_threads"), "256", "num_threads from WORKER_THREADS");
    is_str(opt(&b, "request_timeout_ms"), "30000", "request_timeout_ms from REQUEST_TIMEOUT_MS");
    is_str(opt(&b, "keep_alive_timeout_ms"), "5000", "keep_alive_timeout_ms from KEEP_ALIVE_TIMEOUT_MS");
    is_str(opt(&b, "enable_keep_alive"), "yes", "keep-alive on");
    is_str(opt(&b, "tcp_nodelay"), "1", "TCP_NODELAY on (no Nagle delay between head, body and SSE chunks)");
    is_str(opt(&b, "max_request_size"), "32768", "max_request_size from MAX_HEADER_BYTES");
    /* the connection guard admits at most 2 x threads + 16: the master
     * never blocks on a full queue, so refusals stay immediate */
    ok(atoi(opt(&b, "connection_queue")) >= 2 * 256 + 16, "accept queue holds all the guard admits");
    ok(atoi(opt(&b, "listen_backlog")) >= 1024, "a listen backlog for bursts of new connections");

    /* every option we pass is one civetweb knows (else mg_start fails) */
    for (int i = 0; b.list[i] != NULL; i += 2) {
        int found = 0;
        for (const struct mg_option *v = valid; v->name != NULL; v++)
            if (strcmp(v->name, b.list[i]) == 0)
                found = 1;
        if (!found) {
            all_known = 0;
            diag("unknown civetweb option %s", b.list[i]);
        }
    }
    ok(all_known, "every option is known to this civetweb");

    o.host = "::1";
    ok(gw_http_build_options(&o, &b, err) == 0, "IPv6 host");
    is_str(opt(&b, "listening_ports"), "[::1]:9090", "IPv6 address bracketed");
    o.host = "";
    ok(gw_http_build_options(&o, &b, err) != 0, "empty host refused");

    /* thread pools sized from the limits (WORKER_THREADS=0) */
    {
        gw_http_sizing z;
        long long gib = 1024LL * 1024 * 1024;
        gw_http_size(20000, 24 * gib, 0, 48, &z);
        ok(z.from_limits, "WORKER_THREADS=0: sized from the limits");
        is_int(z.workers, (20000 - GW_HTTP_FD_RESERVE - 48 * 4) / 4, "20,000 descriptors: a quarter of what is left");
        ok(z.workers + 3LL * z.upstream_calls <= 20000 - GW_HTTP_FD_RESERVE - 48 * 4,
           "workers and upstream calls together stay within the descriptors");
        is_int(z.upstream_calls, z.workers, "every worker may wait on the upstream");
        gw_http_size(1000000, 1 * gib, 0, 48, &z);
        is_int(z.workers, gib / 4 / GW_HTTP_WORKER_BYTES, "1 GiB of memory bounds the pool");
        gw_http_size(100000000, 1024 * gib, 0, 48, &z);
        is_int(z.workers, GW_HTTP_MAX_WORKERS, "at most GW_HTTP_MAX_WORKERS");
        gw_http_size(1024, 24 * gib, 0, 48, &z);
        is_int(z.workers, (1024 - GW_HTTP_FD_RESERVE - 48 * 4) / 4, "1,024 descriptors: a small pool");
        gw_http_size(256, 24 * gib, 0, 48, &z);
        is_int(z.workers, GW_HTTP_MIN_WORKERS, "never fewer than GW_HTTP_MIN_WORKERS");
        gw_http_size(20000, 24 * gib, 16384, 48, &z);
        ok(!z.from_limits && z.workers == 16384, "WORKER_THREADS as given");
        is_int(z.upstream_calls, (20000 - GW_HTTP_FD_RESERVE - 48 * 4 - 16384) / 3,
               "upstream calls capped by the descriptors the workers leave");
        gw_http_size(4096, 24 * gib, 16384, 48, &z);
        is_int(z.upstream_calls, GW_HTTP_MIN_WORKERS, "never fewer than GW_HTTP_MIN_WORKERS upstream calls");
    }
    is_int(gw_http_auto_per_address(4824), 2412, "per address: half a large pool");
    is_int(gw_http_auto_per_address(32), 16, "per address: half the admin pool");
    is_int(gw_http_auto_per_address(16), GW_HTTP_MIN_PER_ADDRESS, "per address: at least a browser's connections");
    is_int(gw_http_auto_per_address(2), GW_HTTP_MIN_PER_ADDRESS, "per address: a small pool has no limit of its own");
    return tap_done();
}
