/*
 * bench/gateway/loadgen.c: the small HTTP/1.1 load tool of the gateway
 * benchmark, for the two measurements wrk cannot make precisely:
 *
 *   loadgen seq     -u URL -n N [-w WARMUP] [-H 'Name: value']... [-d BODY | -f FILE]
 *       N requests one after the other on one keep-alive connection; exact
 *       latency percentiles in microseconds (every sample kept and sorted).
 *   loadgen streams -u URL -c CONNS [-r RAMP_MS] [-t SECONDS] [-H ...] [-d BODY | -f FILE]
 *       CONNS requests, each on its own connection (Connection: close),
 *       started evenly over RAMP_MS (0 = all at once), all driven by one
 *       epoll loop; time to first body byte (TTFT, from the connect), total
 *       time per stream, and the peak number of streams open at once.
 *
 * Output: one line of key=value pairs (n, ok, err, p50_us, p90_us, p99_us,
 * p999_us, max_us, mean_us; streams add ttft_* and total_*), parsed by
 * run.sh. Only http://127.0.0.1:PORT/… (IPv4 literals) URLs. Responses are
 * parsed properly (Content-Length, chunked, or read to EOF), so a proxy that
 * keeps the connection open is handled. Every wait is bounded (-t, default
 * 60 s): a request that does not finish in time counts as an error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http1.h"

#define MAX_HEADERS 32

static void die(const char *msg)
{
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

/* ---- request ------------------------------------------------------------ */

static struct sockaddr_in target;
static char host_hdr[64];
static char path_buf[4096];
static char *headers[MAX_HEADERS];
static int nheaders;
static char *body;
static size_t body_len;

static void parse_url(const char *url)
{
    char hostport[64];
    const char *p;
    const char *slash;
    char *colon;
    if (strncmp(url, "http://", 7) != 0)
        die("only http:// URLs");
    p = url + 7;
    slash = strchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) >= sizeof(hostport))
        die("bad URL");
    memcpy(hostport, p, (size_t)(slash - p));
    hostport[slash - p] = '\0';
    snprintf(host_hdr, sizeof(host_hdr), "%s", hostport);
    snprintf(path_buf, sizeof(path_buf), "%s", slash);
    colon = strchr(hostport, ':');
    if (colon == NULL)
        die("URL needs a port");
    *colon = '\0';
    memset(&target, 0, sizeof(target));
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, hostport, &target.sin_addr) != 1)
        die("URL host must be an IPv4 literal");
}

static char *build_request(int close_conn, size_t *len)
{
    size_t cap = 8192 + body_len;
    char *r = malloc(cap);
    size_t n;
    if (r == NULL)
        die("out of memory");
    n = (size_t)snprintf(r, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", body ? "POST" : "GET", path_buf, host_hdr);
    for (int i = 0; i < nheaders; i++)
        n += (size_t)snprintf(r + n, cap - n, "%s\r\n", headers[i]);
    if (body)
        n += (size_t)snprintf(r + n, cap - n, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    n += (size_t)snprintf(r + n, cap - n, "Connection: %s\r\n\r\n", close_conn ? "close" : "keep-alive");
    if (body) {
        memcpy(r + n, body, body_len);
        n += body_len;
    }
    *len = n;
    return r;
}

static int connect_blocking(void)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *s, size_t n, double q)
{
    size_t i;
    if (n == 0)
        return 0;
    i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return s[i];
}

static void print_stats(const char *prefix, int64_t *s, size_t n)
{
    double sum = 0;
    qsort(s, n, sizeof(*s), cmp64);
    for (size_t i = 0; i < n; i++)
        sum += (double)s[i];
    printf(" %sp50_us=%lld %sp90_us=%lld %sp99_us=%lld %sp999_us=%lld %smax_us=%lld %smean_us=%.0f", prefix,
           (long long)pct(s, n, 0.50), prefix, (long long)pct(s, n, 0.90), prefix, (long long)pct(s, n, 0.99), prefix,
           (long long)pct(s, n, 0.999), prefix, n ? (long long)s[n - 1] : 0LL, prefix, n ? sum / (double)n : 0.0);
}

/* ---- seq ---------------------------------------------------------------- */

static int wait_fd(int fd, short ev, int64_t deadline_us)
{
    struct pollfd p = {fd, ev, 0};
    int64_t left = deadline_us - now_us();
    if (left <= 0)
        return -1;
    return poll(&p, 1, (int)(left / 1000) + 1) == 1 ? 0 : -1;
}

/* One request on *fd (reconnecting when needed). Returns the status or -1. */
static int one_request(int *fd, const char *req, size_t req_len, int64_t timeout_us)
{
    static char buf[65536];
    parser p;
    size_t off = 0;
    int64_t deadline = now_us() + timeout_us;
    int attempts = 0;

again:
    if (*fd < 0 && (*fd = connect_blocking()) < 0)
        return -1;
    off = 0;
    while (off < req_len) {
        ssize_t w = send(*fd, req + off, req_len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            close(*fd);
            *fd = -1;
            if (attempts++ == 0 && off == 0)
                goto again; /* a keep-alive connection the server had closed */
            return -1;
        }
        off += (size_t)w;
    }
    parser_reset(&p);
    for (;;) {
        ssize_t r;
        size_t used;
        int rc;
        if (wait_fd(*fd, POLLIN, deadline) != 0) {
            close(*fd);
            *fd = -1;
            return -1;
        }
        r = recv(*fd, buf, sizeof(buf), 0);
        if (r <= 0) {
            int was_eof = r == 0 && p.state == P_EOF;
            close(*fd);
            *fd = -1;
            if (was_eof)
                return p.status;
            if (p.state == P_HEAD && p.head_len == 0 && attempts++ == 0)
                goto again;
            return -1;
        }
        rc = parser_feed(&p, buf, (size_t)r, &used);
        if (rc < 0) {
            close(*fd);
            *fd = -1;
            return -1;
        }
        if (rc == 1) {
            if (p.close_after) {
                close(*fd);
                *fd = -1;
            }
            return p.status;
        }
    }
}

static int run_seq(int n, int warm, int timeout_s)
{
    size_t req_len;
    char *req = build_request(0, &req_len);
    int64_t *lat = calloc((size_t)n, sizeof(int64_t));
    int fd = -1, ok = 0, err = 0;
    size_t got = 0;
    int64_t t_start;
    if (lat == NULL)
        die("out of memory");
    for (int i = 0; i < warm; i++)
        (void)one_request(&fd, req, req_len, (int64_t)timeout_s * 1000000);
    t_start = now_us();
    for (int i = 0; i < n; i++) {
        int64_t t0 = now_us();
        int st = one_request(&fd, req, req_len, (int64_t)timeout_s * 1000000);
        int64_t dt = now_us() - t0;
        if (st == 200) {
            ok++;
            lat[got++] = dt;
        } else
            err++;
    }
    printf("mode=seq n=%d ok=%d err=%d secs=%.3f", n, ok, err, (double)(now_us() - t_start) / 1e6);
    print_stats("", lat, got);
    printf("\n");
    if (fd >= 0)
        close(fd);
    free(lat);
    free(req);
    return 0;
}

/* ---- streams ------------------------------------------------------------ */

typedef struct sconn {
    int fd;
    int state; /* 0 connecting/sending, 1 reading, 2 done, 3 not started */
    size_t sent;
    int64_t t0;
    parser p;
} sconn;

static int start_conn(sconn *s, int ep, uint32_t idx)
{
    int one = 1;
    struct epoll_event ev;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->t0 = now_us();
    parser_reset(&s->p);
    if (connect(s->fd, (struct sockaddr *)&target, sizeof(target)) != 0 && errno != EINPROGRESS) {
        close(s->fd);
        return -1;
    }
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u32 = idx;
    epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
    return 0;
}

static int run_streams(int conns, int ramp_ms, int timeout_s)
{
    size_t req_len;
    char *req = build_request(1, &req_len);
    sconn *c = calloc((size_t)conns, sizeof(sconn));
    int64_t *ttft = calloc((size_t)conns, sizeof(int64_t));
    int64_t *total = calloc((size_t)conns, sizeof(int64_t));
    size_t nt = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int active = 0, ok = 0, err = 0, non200 = 0, started = 0, peak = 0;
    int64_t t_start = now_us(), deadline = t_start + (int64_t)timeout_s * 1000000;
    static char buf[65536];
    struct epoll_event evs[256];

    if (c == NULL || ttft == NULL || total == NULL || ep < 0)
        die("out of memory");
    for (int i = 0; i < conns; i++)
        c[i].state = 3; /* not started */
    while ((active > 0 || started < conns) && now_us() < deadline) {
        int k, wait_ms = 100;
        /* start the connections whose time has come */
        while (started < conns &&
               (ramp_ms == 0 || now_us() >= t_start + (int64_t)ramp_ms * 1000 * started / conns)) {
            sconn *s = &c[started];
            s->state = 0;
            if (start_conn(s, ep, (uint32_t)started) != 0) {
                s->state = 2;
                err++;
            } else if (++active > peak)
                peak = active;
            started++;
        }
        if (started < conns) {
            int64_t next = t_start + (int64_t)ramp_ms * 1000 * started / conns - now_us();
            wait_ms = next <= 0 ? 0 : (int)(next / 1000) + 1 < 100 ? (int)(next / 1000) + 1 : 100;
        }
        k = epoll_wait(ep, evs, 256, wait_ms);
        for (int e = 0; e < k; e++) {
            sconn *s = &c[evs[e].data.u32];
            int fail = 0, finished = 0;
            if (s->state == 2)
                continue;
            if (s->state == 0 && (evs[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                ssize_t w = send(s->fd, req + s->sent, req_len - s->sent, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN)
                    fail = 1;
                else if (w > 0 && (s->sent += (size_t)w) == req_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[e].data.u32};
                    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                    s->state = 1;
                }
            } else if (s->state == 1 && (evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                for (;;) {
                    ssize_t r = recv(s->fd, buf, sizeof(buf), 0);
                    size_t used;
                    int rc;
                    if (r < 0 && errno == EAGAIN)
                        break;
                    if (r <= 0) {
                        if (r == 0 && s->p.state == P_EOF)
                            finished = 1;
                        else
                            fail = 1;
                        break;
                    }
                    rc = parser_feed(&s->p, buf, (size_t)r, &used);
                    if (rc < 0) {
                        fail = 1;
                        break;
                    }
                    if (rc == 1) {
                        finished = 1;
                        break;
                    }
                }
            }
            if (fail || finished) {
                int64_t t = now_us();
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                close(s->fd);
                s->state = 2;
                active--;
                if (finished && s->p.status == 200 && s->p.first_body_us) {
                    ok++;
                    ttft[nt] = s->p.first_body_us - s->t0;
                    total[nt] = t - s->t0;
                    nt++;
                } else {
                    err++;
                    if (finished)
                        non200++;
                }
            }
        }
    }
    for (int i = 0; i < conns; i++)
        if (c[i].state != 2) {
            if (c[i].state != 3)
                close(c[i].fd);
            err++;
        }
    printf("mode=streams n=%d ok=%d err=%d non200=%d peak=%d secs=%.3f", conns, ok, err, non200, peak,
           (double)(now_us() - t_start) / 1e6);
    {
        int64_t *copy = malloc(nt * sizeof(int64_t) + 1);
        memcpy(copy, total, nt * sizeof(int64_t));
        print_stats("ttft_", ttft, nt);
        print_stats("total_", copy, nt);
        free(copy);
    }
    printf("\n");
    free(c);
    free(ttft);
    free(total);
    free(req);
    close(ep);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *d;
    long n;
    if (f == NULL)
        die("cannot open body file");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    d = malloc((size_t)n + 1);
    if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n)
        die("cannot read body file");
    fclose(f);
    d[n] = '\0';
    *len = (size_t)n;
    return d;
}

int main(int argc, char **argv)
{
    const char *mode;
    const char *url = NULL;
    int n = 1000, warm = 100, conns = 100, timeout_s = 60, ramp_ms = 0;
    struct rlimit rl;

    if (argc < 2)
        die("usage: loadgen seq|streams -u URL [-n N] [-w WARM] [-c CONNS] [-r RAMP_MS] [-t SECS] [-H hdr]... "
            "[-d body | -f file]");
    mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            die("option without a value");
        if (strcmp(a, "-u") == 0)
            url = v;
        else if (strcmp(a, "-n") == 0)
            n = atoi(v);
        else if (strcmp(a, "-w") == 0)
            warm = atoi(v);
        else if (strcmp(a, "-c") == 0)
            conns = atoi(v);
        else if (strcmp(a, "-r") == 0)
            ramp_ms = atoi(v);
        else if (strcmp(a, "-t") == 0)
            timeout_s = atoi(v);
        else if (strcmp(a, "-H") == 0) {
            if (nheaders == MAX_HEADERS)
                die("too many headers");
            headers[nheaders++] = (char *)v;
        } else if (strcmp(a, "-d") == 0) {
            body = (char *)v;
            body_len = strlen(v);
        } else if (strcmp(a, "-f") == 0)
            body = read_file(v, &body_len);
        else
            die("unknown option");
        i++;
    }
    if (url == NULL || n <= 0 || conns <= 0 || timeout_s <= 0)
        die("-u URL required; counts must be positive");
    parse_url(url);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (strcmp(mode, "seq") == 0)
        return run_seq(n, warm, timeout_s);
    if (strcmp(mode, "streams") == 0)
        return run_streams(conns, ramp_ms, timeout_s);
    die("mode must be seq or streams");
    return 2;
}
