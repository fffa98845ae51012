/*
 * regress/unit/test_connguard.c: the connection guard (src/http/connguard.c)
 * of real civetweb listeners started with gw_http_start, driven with raw
 * sockets from several loopback addresses (127.0.0.x):
 *   - every connection passes the guard (the accept() of connguard.c takes
 *     civetweb's: the counters see them);
 *   - per-address limit: the connection over it gets 429
 *     too_many_connections with Retry-After, read in full before the
 *     close; another address is still served;
 *   - head deadline: an idle connection is closed, a partial head gets 408
 *     request_timeout; a complete request is served;
 *   - every worker held by idle keep-alive connections: a new connection is
 *     served, one idle one is closed; held by slow heads (older than
 *     GW_CONNGUARD_EVICT_MS): the oldest is closed with a 408;
 *   - every worker in a request: a new connection gets 503 overloaded with
 *     Retry-After at once, and is served once a worker is free;
 *   - the counters (gw_http_stats) agree with all of it.
 * Bounds are generous (seconds): nothing here measures speed.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/connguard.c"
#include "http/server.c"

#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include "loopback.h"
#include "tap.h"

#define THREADS 4

static pthread_mutex_t wait_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cv = PTHREAD_COND_INITIALIZER;
static int released;

static int h_ok(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    gw_http_send(conn, 200, "text/plain", "ok", 2);
    return 200;
}

/* Holds its worker until released (at most 10 s). */
static int h_wait(struct mg_connection *conn, void *cbdata)
{
    struct timespec until;
    (void)cbdata;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&wait_mu);
    while (!released && pthread_cond_timedwait(&wait_cv, &wait_mu, &until) == 0)
        ;
    pthread_mutex_unlock(&wait_mu);
    gw_http_send(conn, 200, "text/plain", "ok", 2);
    return 200;
}

static struct mg_context *start(int port, int head_timeout_ms, int per_address)
{
    static const gw_http_route routes[] = {{"/ok", h_ok, NULL}, {"/wait", h_wait, NULL}};
    gw_http_opts o;
    struct mg_context *ctx = NULL;
    char err[GW_ERR_LEN];

    memset(&o, 0, sizeof(o));
    o.name = "guard-test";
    o.host = "127.0.0.1";
    o.port = port;
    o.threads = THREADS;
    o.request_timeout_ms = 10000;
    o.keep_alive_timeout_ms = 30000;
    o.max_header_bytes = 16384;
    o.head_timeout_ms = head_timeout_ms;
    o.max_per_address = per_address;
    if (gw_http_start(&o, routes, 2, &ctx, err) != 0)
        diag("%s", err);
    return ctx;
}

/* A blocking connection from 127.0.0.<host> (reads time out after 10 s). */
static int conn_from(int host, int port)
{
    struct sockaddr_in src, dst;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) | (uint32_t)host);
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_str(int fd, const char *s)
{
    (void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* One response into buf (head + Content-Length body, or to the end);
 * its status, 0 when none came. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    long want = -1;

    buf[0] = '\0';
    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            want = cl != NULL && cl < end ? (long)(end + 4 - buf) + atol(cl + 17) : -1;
        }
        if (want >= 0 && (long)n >= want)
            break;
    }
    return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
}

static int get_ok(int fd)
{
    char buf[2048];
    send_str(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    return read_response(fd, buf, sizeof(buf));
}

/* 1 when the server closes fd (end of file) within ms. */
static int closed_within(int fd, int ms)
{
    char c;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return 0;
    return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* How many of fds the server closed, once one was (waiting up to ms). */
static int any_closed(const int *fds, int n, int ms)
{
    struct pollfd p[THREADS];
    int closed = 0;
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){fds[i], POLLIN, 0};
    if (poll(p, (nfds_t)n, ms) <= 0)
        return 0;
    usleep(100000);
    for (int i = 0; i < n; i++)
        closed += closed_within(fds[i], 0);
    return closed;
}

static gw_connguard_stats stats(struct mg_context *ctx)
{
    gw_connguard_stats s;
    memset(&s, 0, sizeof(s));
    gw_http_stats(ctx, &s);
    return s;
}

/* Waits (up to 5 s) until the counters satisfy cond. */
#define WAIT_STATS(ctx, s, cond)                                                                                       \
    do {                                                                                                               \
        for (int w_ = 0; w_ < 500; w_++) {                                                                             \
            s = stats(ctx);                                                                                            \
            if (cond)                                                                                                  \
                break;                                                                                                 \
            usleep(10000);                                                                                             \
        }                                                                                                              \
    } while (0)

static void test_per_address(struct mg_context *ctx, int port)
{
    int fds[3], over, other;
    char buf[2048];
    gw_connguard_stats s;

    for (int i = 0; i < 3; i++)
        fds[i] = conn_from(2, port);
    WAIT_STATS(ctx, s, s.open == 3);
    is_int(s.open, 3, "three idle connections from 127.0.0.2 are open");
    over = conn_from(2, port);
    is_int(read_response(over, buf, sizeof(buf)), 429, "the fourth from 127.0.0.2 gets 429");
    has_str(buf, "Retry-After: 1\r\n", "with Retry-After");
    has_str(buf, "\"code\":\"too_many_connections\"", "as the JSON error too_many_connections");
    has_str(buf, "at most 3", "saying the limit");
    ok(closed_within(over, 5000), "and the connection is closed after the answer");
    close(over);
    other = conn_from(3, port);
    is_int(get_ok(other), 200, "127.0.0.3 is still served");
    close(other);
    s = stats(ctx);
    is_int(s.refused_per_address, 1, "counted: refused per address");
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    WAIT_STATS(ctx, s, s.open == 0);
    is_int(s.open, 0, "closed connections leave the counters");
}

static void test_head_deadline(struct mg_context *ctx, int port)
{
    int idle = conn_from(4, port), partial = conn_from(4, port), prompt = conn_from(4, port);
    char buf[2048];
    gw_connguard_stats s;

    is_int(get_ok(prompt), 200, "a complete head in time is served");
    send_str(partial, "GET /ok HTTP/1.1\r\nHost: x\r\n");
    is_int(read_response(partial, buf, sizeof(buf)), 408, "a head still incomplete at the deadline gets 408");
    has_str(buf, "\"code\":\"request_timeout\"", "as the JSON error request_timeout");
    has_str(buf, "did not arrive within 300 ms", "saying the deadline");
    ok(closed_within(idle, 5000), "a connection that sends nothing is closed");
    WAIT_STATS(ctx, s, s.head_timeouts >= 2);
    ok(s.head_timeouts >= 2, "counted: head timeouts");
    ok(get_ok(prompt) == 200, "a kept-alive connection between requests is not cut by the head deadline");
    close(idle);
    close(partial);
    close(prompt);
}

static void test_capacity(struct mg_context *ctx, int port)
{
    int ka[THREADS], fresh, slow[THREADS], busy[THREADS], late, all_ok = 1;
    char buf[2048];
    gw_connguard_stats s;
    struct timespec t0, t1;

    /* every worker idle between keep-alive requests */
    for (int i = 0; i < THREADS; i++) {
        ka[i] = conn_from(10 + i, port);
        if (get_ok(ka[i]) != 200)
            all_ok = 0;
    }
    WAIT_STATS(ctx, s, s.keepalive == THREADS);
    ok(all_ok && s.keepalive == THREADS, "every worker holds an idle keep-alive connection");
    fresh = conn_from(20, port);
    is_int(get_ok(fresh), 200, "a new connection is still served");
    ok(any_closed(ka, THREADS, 5000) == 1, "one idle connection was closed to make room");
    s = stats(ctx);
    ok(s.reclaimed_keepalive >= 1, "counted: reclaimed keep-alive");
    close(fresh);
    for (int i = 0; i < THREADS; i++)
        close(ka[i]);
    WAIT_STATS(ctx, s, s.open == 0);

    /* every worker waiting for a slow head */
    for (int i = 0; i < THREADS; i++) {
        slow[i] = conn_from(30 + i, port);
        send_str(slow[i], "GET /ok HTTP/1.1\r\n");
    }
    WAIT_STATS(ctx, s, s.head == THREADS);
    usleep((GW_CONNGUARD_EVICT_MS + 200) * 1000);
    fresh = conn_from(40, port);
    is_int(get_ok(fresh), 200, "with slow heads older than GW_CONNGUARD_EVICT_MS, a new connection is served");
    is_int(read_response(slow[0], buf, sizeof(buf)), 408, "the oldest slow head got 408");
    s = stats(ctx);
    ok(s.reclaimed_head >= 1, "counted: reclaimed head");
    close(fresh);
    for (int i = 0; i < THREADS; i++)
        close(slow[i]);
    WAIT_STATS(ctx, s, s.open == 0);

    /* every worker in a request */
    for (int i = 0; i < THREADS; i++) {
        busy[i] = conn_from(50 + i, port);
        send_str(busy[i], "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    WAIT_STATS(ctx, s, s.active == THREADS);
    is_int(s.active, THREADS, "every worker is in a request");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    late = conn_from(60, port);
    is_int(read_response(late, buf, sizeof(buf)), 503, "a new connection gets 503");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ok(t1.tv_sec - t0.tv_sec < 5, "at once, not after the requests in progress");
    has_str(buf, "Retry-After: 1\r\n", "with Retry-After");
    has_str(buf, "\"code\":\"overloaded\"", "as the JSON error overloaded");
    close(late);
    s = stats(ctx);
    ok(s.refused_overload >= 1, "counted: refused at capacity");
    pthread_mutex_lock(&wait_mu);
    released = 1;
    pthread_cond_broadcast(&wait_cv);
    pthread_mutex_unlock(&wait_mu);
    all_ok = 1;
    for (int i = 0; i < THREADS; i++) {
        if (read_response(busy[i], buf, sizeof(buf)) != 200)
            all_ok = 0;
        close(busy[i]);
    }
    ok(all_ok, "the requests in progress finish normally");
    late = conn_from(60, port);
    is_int(get_ok(late), 200, "once a worker is free, a new connection is served");
    close(late);
}

int main(void)
{
    int port_a = free_port(), port_b = free_port();
    struct mg_context *a, *b;
    gw_connguard_stats s;

    mg_init_library(0);
    signal(SIGPIPE, SIG_IGN);
    a = start(port_a, 300, 3);
    b = start(port_b, 10000, 3);
    if (!ok(a != NULL && b != NULL, "two listeners with their guards")) {
        gw_http_stop(a);
        gw_http_stop(b);
        return tap_done();
    }
    {
        int fd = conn_from(1, port_b);
        is_int(get_ok(fd), 200, "a request is served");
        close(fd);
        WAIT_STATS(b, s, s.open == 0);
        ok(s.accepted == 1 && s.workers == THREADS, "the guard of the listener admitted it");
    }
    test_per_address(b, port_b);
    test_head_deadline(a, port_a);
    test_capacity(b, port_b);
    s = stats(a);
    is_int(s.refused_per_address + s.refused_overload, 0, "the other listener's guard refused nothing");
    gw_http_stop(a);
    gw_http_stop(b);
    mg_exit_library();
    return tap_done();
}
