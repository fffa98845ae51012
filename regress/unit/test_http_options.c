/*
 * regress/unit/test_http_options.c: the civetweb option list every listener
 * starts with (reliability-plan §3): no document_root, no directory
 * listing, no CGI/SSI, CORS closed, keep-alive and TCP_NODELAY on, thread
 * pool, timeouts and head size from the configuration, IPv6 bracketing.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
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
    gw_http_opts o = {"proxy", "127.0.0.1", 9090, 256, 30000, 5000, 32768, NULL};
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
    ok(atoi(opt(&b, "connection_queue")) >= 256, "accept queue sized for bursts");

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
    return tap_done();
}
