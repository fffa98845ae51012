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
 *
 *   civetfloor [--curl] PORT UPSTREAM_PORT UPSTREAM_PATH UPSTREAM_KEY [THREADS]
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

    while (blen < IO_CAP && (r = mg_read(conn, body + blen, (size_t)(IO_CAP - blen))) > 0)
        blen += r;
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
    char ports[32];
    int curl_mode = argc > 1 && strcmp(argv[1], "--curl") == 0;
    const char *opts[] = {"listening_ports", ports, "num_threads", argc > 5 + curl_mode ? argv[5 + curl_mode] : "256",
                          "enable_keep_alive", "yes", "tcp_nodelay", "1", "connection_queue", "4096",
                          "listen_backlog", "1024", NULL};
    struct mg_context *ctx;
    struct mg_init_data init;
    struct mg_error_data edata;
    char etext[256] = "";
    sigset_t set;
    int sig;

    if (curl_mode) {
        use_curl = 1;
        argv++;
        argc--;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: civetfloor [--curl] PORT UPSTREAM_PORT UPSTREAM_PATH UPSTREAM_KEY [THREADS]\n");
        return 2;
    }
    snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
    upstream_port = atoi(argv[2]);
    upstream_path = argv[3];
    snprintf(upstream_auth, sizeof(upstream_auth), "Bearer %s", argv[4]);
    snprintf(upstream_url, sizeof(upstream_url), "http://127.0.0.1:%d%s", upstream_port, upstream_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    mg_init_library(0);
    memset(&init, 0, sizeof(init));
    init.configuration_options = opts;
    memset(&edata, 0, sizeof(edata));
    edata.text = etext;
    edata.text_buffer_size = sizeof(etext);
    if ((ctx = mg_start2(&init, &edata)) == NULL) {
        fprintf(stderr, "civetfloor: cannot listen on %s: %s\n", ports, etext);
        return 1;
    }
    mg_set_request_handler(ctx, "/", handle, NULL);
    mg_set_auth_handler(ctx, "/", authorised, NULL);
    printf("listening on %s\n", ports);
    fflush(stdout);
    sigwait(&set, &sig);
    mg_stop(ctx);
    return 0;
}
