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
 *
 *   civetfloor PORT UPSTREAM_PORT UPSTREAM_PATH UPSTREAM_KEY [THREADS]
 *
 * Only 127.0.0.1. Not part of the product.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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
    n = up_exchange(upstream_auth, body, blen, resp, IO_CAP);
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
    const char *opts[] = {"listening_ports", ports, "num_threads", argc > 5 ? argv[5] : "256",
                          "enable_keep_alive", "yes", "tcp_nodelay", "1", "connection_queue", "4096",
                          "listen_backlog", "1024", NULL};
    struct mg_context *ctx;
    struct mg_init_data init;
    struct mg_error_data edata;
    char etext[256] = "";
    sigset_t set;
    int sig;

    if (argc < 5) {
        fprintf(stderr, "usage: civetfloor PORT UPSTREAM_PORT UPSTREAM_PATH UPSTREAM_KEY [THREADS]\n");
        return 2;
    }
    snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
    upstream_port = atoi(argv[2]);
    upstream_path = argv[3];
    snprintf(upstream_auth, sizeof(upstream_auth), "Bearer %s", argv[4]);
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
