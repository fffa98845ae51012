/*
 * bench/gateway/civetfloor.c: the floor of any proxy built on civetweb's
 * thread-per-connection model, for the gateway benchmark (run.sh, row
 * "civetweb floor"). It is the least a civetweb proxy can do per request:
 * read the body, forward it on the worker thread's own keep-alive socket
 * to the upstream with one blocking write, read the answer (Content-Length
 * framing only), and send it back with one write. No auth, no JSON, no
 * analytics, no libcurl. gatewayd cannot be faster than this on the same
 * core; the gap between this row and nginx is the cost of the model (a
 * thread per connection: every request sleeps twice and is woken twice).
 * With --curl the upstream call is made with libcurl instead (one easy
 * handle per worker thread, keep-alive, curl_easy_perform): the floor of
 * civetweb + libcurl, the stack gatewayd is built on.
 * With --hook PLUGIN_BINARY CONFIG_JSON each request first makes one
 * request hook call (post_auth) to that plugin through gatewayd's own
 * plugin host (gatewayd/src/plugins: host, conn, spawn, handshake, over
 * src/rpc; linked, not copied): the floor of one gRPC plugin hook on this
 * stack (row "civetweb-curl-floor-plugin"). The call carries the least the
 * plugin needs: the hook in its context, method, path and one text (the
 * request body); gatewayd also sends the headers, the body and the texts
 * it parsed from it. A failed call answers 503, a BLOCK 403. The plugin runs
 * without a sandbox (gatewayd uses bubblewrap when installed; it costs a
 * hook call nothing once started), with gatewayd's default limits, and
 * inherits this process's CPU pinning, as gatewayd's plugins do. Like
 * gatewayd, civetfloor sizes its private futex hash for its threads
 * (gatewayd/src/base/futexhash.c), in every mode.
 *
 *   civetfloor [--curl] [--hook PLUGIN_BINARY CONFIG_JSON] PORT UPSTREAM_PORT UPSTREAM_PATH UPSTREAM_KEY [THREADS]
 *
 * Only 127.0.0.1. Not part of the product.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <civetweb.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/futexhash.h"
#include "base/log.h"
#include "plugins/conn.h"
#include "plugins/host.h"

static int use_curl;
static char upstream_url[256];
static int upstream_port;
static const char *upstream_path;
static char upstream_auth[256];
static __thread int up_fd = -1;

/* per-thread buffers on the heap: civetweb's worker stacks are small, and
 * large static TLS would not fit them either */
#define REQ_CAP 70000
#define IO_CAP 65536
static __thread char *thread_bufs;

static char *bufs(void)
{
    if (thread_bufs == NULL && (thread_bufs = malloc(REQ_CAP + 2 * IO_CAP)) == NULL) {
        fprintf(stderr, "civetfloor: out of memory\n");
        exit(1);
    }
    return thread_bufs;
}

static int up_connect(void)
{
    struct sockaddr_in sa;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)upstream_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* One exchange on the thread's upstream socket: the response (head + body)
 * in out; its length, or -1. */
static int up_exchange(const char *auth, const char *body, int blen, char *out, int cap)
{
    char *req = bufs();
    int n = req == NULL ? -1 : snprintf(req, REQ_CAP,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                     upstream_path, auth, blen);
    int got = 0, want = -1;

    if (req == NULL || n < 0 || n + blen > REQ_CAP)
        return -1;
    memcpy(req + n, body, (size_t)blen);
    if (up_fd < 0 && (up_fd = up_connect()) < 0)
        return -1;
    if (send(up_fd, req, (size_t)(n + blen), MSG_NOSIGNAL) != n + blen)
        goto fail;
    while (want < 0 || got < want) {
        ssize_t r = recv(up_fd, out + got, (size_t)(cap - got), 0);
        if (r <= 0)
            goto fail;
        got += (int)r;
        if (want < 0) {
            char *end = memmem(out, (size_t)got, "\r\n\r\n", 4);
            char *cl;
            if (end == NULL)
                continue;
            *end = '\0';
            cl = strcasestr(out, "\r\nContent-Length:");
            *end = '\r';
            if (cl == NULL)
                goto fail;
            want = (int)(end + 4 - out) + atoi(cl + 17);
            if (want > cap)
                goto fail;
        }
    }
    return got;
fail:
    close(up_fd);
    up_fd = -1;
    return -1;
}

/* ---- --curl: the same exchange through libcurl ---- */

typedef struct sink {
    char *p;
    int len, cap;
} sink;

static size_t sink_write(char *data, size_t size, size_t n, void *ud)
{
    sink *k = ud;
    size_t len = size * n;
    if ((size_t)(k->cap - k->len) < len)
        return 0; /* too big: curl fails the transfer */
    memcpy(k->p + k->len, data, len);
    k->len += (int)len;
    return len;
}

static __thread CURL *easy;
static __thread struct curl_slist *easy_headers;

/* The upstream's body into out (after room for our head); its length, or -1. */
static int curl_exchange(const char *body, int blen, char *out, int cap)
{
    sink k = {out, 0, cap};
    long status = 0;

    if (easy == NULL) {
        char auth[300];
        if ((easy = curl_easy_init()) == NULL)
            return -1;
        snprintf(auth, sizeof(auth), "Authorization: %s", upstream_auth);
        easy_headers = curl_slist_append(easy_headers, auth);
        easy_headers = curl_slist_append(easy_headers, "Content-Type: application/json");
        easy_headers = curl_slist_append(easy_headers, "Expect:");
        curl_easy_setopt(easy, CURLOPT_URL, upstream_url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, easy_headers);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sink_write);
    }
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)blen);
    if (curl_easy_perform(easy) != CURLE_OK)
        return -1;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return status == 200 ? k.len : -1;
}

/* ---- --hook: one plugin hook call per request (gatewayd's plugin host) ---- */

#define HOOK_PLUGIN_ID 1
#define HOOK_START_MS 15000 /* the plugin must serve within this */

static gw_plugin_host *hook_host;

/* One post_auth call with text as the prompt: 0 (go on), 403 (the plugin
 * blocked it) or 503 (no plugin, or the call failed). */
static int hook_call(char *text)
{
    Aistudio__V1__RequestHookCall rq = AISTUDIO__V1__REQUEST_HOOK_CALL__INIT;
    Aistudio__V1__RequestContext ctx = AISTUDIO__V1__REQUEST_CONTEXT__INIT;
    Aistudio__V1__TextPart tp = AISTUDIO__V1__TEXT_PART__INIT, *tpp = &tp;
    Aistudio__V1__HookResult *res = NULL;
    char err[GW_ERR_LEN];
    gw_plugin_conn *c = gw_plugin_host_acquire(hook_host, HOOK_PLUGIN_ID, err);
    int status = 503;

    if (c == NULL)
        return status;
    ctx.hook = AISTUDIO__V1__HOOK__HOOK_POST_AUTH;
    rq.context = &ctx;
    rq.method = "POST";
    rq.path = (char *)upstream_path;
    tp.role = "user";
    tp.text = text;
    rq.texts = &tpp;
    rq.n_texts = 1;
    if (gw_plugin_call_request(c, &rq, &res, err) == 0) {
        status = res->action == AISTUDIO__V1__ACTION__ACTION_BLOCK ? 403 : 0;
        aistudio__v1__hook_result__free_unpacked(res, NULL);
    }
    gw_plugin_conn_release(c);
    return status;
}

/* The host with the one plugin, once it serves; NULL with a message. */
static gw_plugin_host *hook_start(const char *binary, const char *config_json)
{
    gw_plugin_host_opts o;
    gw_plugin_spec spec = {HOOK_PLUGIN_ID, "hook", "post_auth", binary, config_json};
    gw_plugin_conn *c = NULL;
    gw_plugin_host *h;
    char err[GW_ERR_LEN];
    int64_t until = gw_now_ms() + HOOK_START_MS;

    /* gatewayd's defaults (src/base/config.c, PLUGIN_*), no sandbox */
    memset(&o, 0, sizeof(o));
    o.socket_parent = "/tmp";
    o.sandbox = GW_SANDBOX_NONE;
    o.mem_bytes = 1LL << 30;
    o.nofile = 1024;
    o.start_timeout_ms = 5000;
    o.health_interval_ms = 5000;
    o.restart_max_ms = 30000;
    o.gateway_mode = "standalone";
    if ((h = gw_plugin_host_create(&o, err)) == NULL) {
        fprintf(stderr, "civetfloor: plugin host: %s\n", err);
        return NULL;
    }
    gw_plugin_host_sync(h, &spec, 1);
    while ((c = gw_plugin_host_acquire(h, HOOK_PLUGIN_ID, err)) == NULL && gw_now_ms() < until)
        usleep(20000);
    if (c == NULL) {
        fprintf(stderr, "civetfloor: the plugin does not serve: %s\n", err);
        gw_plugin_host_destroy(h);
        return NULL;
    }
    gw_plugin_conn_release(c);
    return h;
}

/* like gatewayd: no .htpasswd lookups */
static int authorised(struct mg_connection *conn, void *cbdata)
{
    (void)conn;
    (void)cbdata;
    return 1;
}

static int handle(struct mg_connection *conn, void *cbdata)
{
    char *body = bufs() + REQ_CAP, *resp = body + IO_CAP;
    int blen = 0, r, n;
    (void)cbdata;

    while (blen < IO_CAP - 1 && (r = mg_read(conn, body + blen, (size_t)(IO_CAP - 1 - blen))) > 0)
        blen += r;
    body[blen] = '\0';
    if (hook_host != NULL && (n = hook_call(body)) != 0) {
        if (n == 403)
            mg_write(conn, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 45);
        else
            mg_write(conn, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", 55);
        return n;
    }
    if (use_curl) {
        /* the body after a head of at most 128 bytes, written once */
        char head[128];
        int h;
        n = curl_exchange(body, blen, resp + 128, IO_CAP - 128);
        if (n >= 0) {
            h = snprintf(head, sizeof(head),
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", n);
            memcpy(resp + 128 - h, head, (size_t)h);
            mg_write(conn, resp + 128 - h, (size_t)(h + n));
            return 200;
        }
    } else {
        n = up_exchange(upstream_auth, body, blen, resp, IO_CAP);
    }
    if (n < 0) {
        mg_write(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", 47);
        return 502;
    }
    mg_write(conn, resp, (size_t)n);
    return 200;
}

int main(int argc, char **argv)
{
    char ports[32], err[GW_ERR_LEN];
    const char *hook_binary = NULL, *hook_config = NULL;
    const char *opts[] = {"listening_ports", ports, "num_threads", "256",
                          "enable_keep_alive", "yes", "tcp_nodelay", "1", "connection_queue", "4096",
                          "listen_backlog", "1024", NULL};
    struct mg_context *ctx;
    struct mg_init_data init;
    struct mg_error_data edata;
    char etext[256] = "";
    sigset_t set;
    int sig, slots;

    for (;;) {
        if (argc > 1 && strcmp(argv[1], "--curl") == 0) {
            use_curl = 1;
            argv++;
            argc--;
        } else if (argc > 3 && strcmp(argv[1], "--hook") == 0) {
            hook_binary = argv[2];
            hook_config = argv[3];
            argv += 3;
            argc -= 3;
        } else {
            break;
        }
    }
    if (argc < 5) {
        fprintf(stderr, "usage: civetfloor [--curl] [--hook PLUGIN_BINARY CONFIG_JSON] PORT UPSTREAM_PORT "
                        "UPSTREAM_PATH UPSTREAM_KEY [THREADS]\n");
        return 2;
    }
    if (argc > 5)
        opts[3] = argv[5];
    snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
    upstream_port = atoi(argv[2]);
    upstream_path = argv[3];
    snprintf(upstream_auth, sizeof(upstream_auth), "Bearer %s", argv[4]);
    snprintf(upstream_url, sizeof(upstream_url), "http://127.0.0.1:%d%s", upstream_port, upstream_path);
    /* before any thread, as gatewayd does: the workers, civetweb's own, the plugin host's and grpc's */
    if (gw_futex_hash_size(atoll(opts[3]) + 64, &slots, err) < 0)
        fprintf(stderr, "civetfloor: %s\n", err);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (hook_binary != NULL) {
        gw_log_set_level(GW_LOG_WARN);
        if ((hook_host = hook_start(hook_binary, hook_config)) == NULL)
            return 1;
    }
    mg_init_library(0);
    memset(&init, 0, sizeof(init));
    init.configuration_options = opts;
    memset(&edata, 0, sizeof(edata));
    edata.text = etext;
    edata.text_buffer_size = sizeof(etext);
    if ((ctx = mg_start2(&init, &edata)) == NULL) {
        fprintf(stderr, "civetfloor: cannot listen on %s: %s\n", ports, etext);
        if (hook_host != NULL)
            gw_plugin_host_destroy(hook_host);
        return 1;
    }
    mg_set_request_handler(ctx, "/", handle, NULL);
    mg_set_auth_handler(ctx, "/", authorised, NULL);
    printf("listening on %s\n", ports);
    fflush(stdout);
    sigwait(&set, &sig);
    mg_stop(ctx);
    if (hook_host != NULL)
        gw_plugin_host_destroy(hook_host);
    return 0;
}
