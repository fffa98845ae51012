/*
 * bench/gateway/connhold.c: holds many connections open against a server
 * while a probe measures how a new client is served (the capacity rows of
 * the gateway benchmark, run.sh and capacity.sh).
 *
 *   connhold -u URL -n N -k KIND [-s SOURCES] [-d SECONDS] [-e RAMP_MS] [-R]
 *            [-i INTERVAL_MS] [-f BODY_FILE] [-H 'Name: value']...
 *            [-p PROBE_URL] [-r PROBES_PER_S] [-F PROBE_BODY_FILE]
 *            [-t PROBE_TIMEOUT_S] [-v]
 *
 * KIND of the N held connections:
 *   idle       connect and send nothing;
 *   slowhead   a request line and a header line, then one more header line
 *              every INTERVAL_MS (default 1000), never the end of the head
 *              (slowloris);
 *   keepalive  one complete request (Connection: keep-alive), its answer
 *              read, then nothing (an SDK's idle connection pool);
 *   request    one complete request (BODY_FILE; Connection: close) whose
 *              answer is read to its end (streams, overload): statuses and
 *              the time to the answer's head are counted.
 * The held connections come from 127.0.0.2 … 127.0.0.(1+SOURCES) in turn
 * (SOURCES defaults to 1: one client address), opened evenly over RAMP_MS
 * (default 1000), and held for SECONDS (default 10) after the ramp. With
 * -R a held connection the server closed is opened again (the pressure
 * stays).
 *
 * The probe (with -p): from 127.0.0.1, a new connection every
 * 1/PROBES_PER_S s (default 20) with one request (GET, or POST of
 * PROBE_BODY_FILE; Connection: close), from the end of the ramp to the end;
 * latency from the connect to the end of the answer; a probe without an
 * answer after PROBE_TIMEOUT_S (default 10) counts as a timeout.
 *
 * Output: one line of key=value pairs: held (N), peak (held open at once),
 * open_end (still open at the end), closed (closed by the server),
 * reopened, connect_err, the statuses the held connections got
 * (held_status_CODE=count), for KIND request the time to the answer's head
 * of the 200s and of the others (ok_head_*, refused_head_*), and the probe's
 * probes, probe_ok (2xx), probe_status_CODE, probe_timeout, probe_err and
 * latency percentiles of the 2xx probes (probe_p50_us …). With -v one line
 * per second on stderr. Only http://127.0.0.1:PORT/… URLs. Not part of the
 * product.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http1.h"

#define MAX_HEADERS 32
#define MAX_PROBES 4096
#define NSTATUS 600

enum { K_IDLE, K_SLOWHEAD, K_KEEPALIVE, K_REQUEST };
enum { S_FREE, S_CONNECTING, S_SENDING, S_READING, S_HELD, S_CLOSED };

typedef struct target {
    struct sockaddr_in addr;
    char host[64];
    char path[2048];
} target;

typedef struct conn {
    int fd;
    int state;
    int probe; /* 1: a probe connection */
    const char *req;
    size_t req_len, sent;
    int64_t t0, next_slow_us;
    int slow_n;
    parser p;
} conn;

static void die(const char *msg)
{
    fprintf(stderr, "connhold: %s\n", msg);
    exit(2);
}

static void parse_url(const char *url, target *t)
{
    char hostport[64];
    const char *p, *slash;
    char *colon;

    if (strncmp(url, "http://", 7) != 0)
        die("only http:// URLs");
    p = url + 7;
    slash = strchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) >= sizeof(hostport))
        die("bad URL");
    memcpy(hostport, p, (size_t)(slash - p));
    hostport[slash - p] = '\0';
    snprintf(t->host, sizeof(t->host), "%s", hostport);
    snprintf(t->path, sizeof(t->path), "%s", slash);
    colon = strchr(hostport, ':');
    if (colon == NULL)
        die("URL needs a port");
    *colon = '\0';
    memset(&t->addr, 0, sizeof(t->addr));
    t->addr.sin_family = AF_INET;
    t->addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, hostport, &t->addr.sin_addr) != 1)
        die("URL host must be an IPv4 literal");
}

static char *headers[MAX_HEADERS];
static int nheaders;

/* A request to t; body NULL = GET. head_only: the request line and one
 * header line (slowhead). */
static char *build_request(const target *t, const char *body, size_t body_len, int keep_alive, int head_only,
                           size_t *len)
{
    size_t cap = 8192 + body_len, n;
    char *r = malloc(cap);
    if (r == NULL)
        die("out of memory");
    n = (size_t)snprintf(r, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", body != NULL ? "POST" : "GET", t->path, t->host);
    if (!head_only) {
        for (int i = 0; i < nheaders; i++)
            n += (size_t)snprintf(r + n, cap - n, "%s\r\n", headers[i]);
        if (body != NULL)
            n += (size_t)snprintf(r + n, cap - n, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                                  body_len);
        n += (size_t)snprintf(r + n, cap - n, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
        if (body != NULL) {
            memcpy(r + n, body, body_len);
            n += body_len;
        }
    }
    *len = n;
    return r;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *d;
    long n;
    if (f == NULL)
        die("cannot open a body file");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    d = malloc((size_t)n + 1);
    if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n)
        die("cannot read a body file");
    fclose(f);
    d[n] = '\0';
    *len = (size_t)n;
    return d;
}

static int ep;

/* Non-blocking connect from src (0 = any) to t, registered under idx. */
static int open_conn(conn *c, const target *t, uint32_t src, uint32_t idx)
{
    int one = 1;
    struct epoll_event ev;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src != 0) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(src);
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(c->fd);
            return -1;
        }
    }
    if (connect(c->fd, (const struct sockaddr *)&t->addr, sizeof(t->addr)) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->state = S_CONNECTING;
    c->sent = 0;
    c->slow_n = 0;
    c->t0 = now_us();
    parser_reset(&c->p);
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = idx;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void set_events(conn *c, uint32_t idx, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = idx};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void close_conn(conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = S_CLOSED;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void print_pcts(const char *prefix, int64_t *s, size_t n)
{
    qsort(s, n, sizeof(*s), cmp64);
#define PCT(q) (n == 0 ? 0LL : (long long)s[(size_t)((q) * (double)n) < n ? (size_t)((q) * (double)n) : n - 1])
    printf(" %sn=%zu %sp50_us=%lld %sp90_us=%lld %sp99_us=%lld %smax_us=%lld", prefix, n, prefix, PCT(0.50), prefix,
           PCT(0.90), prefix, PCT(0.99), prefix, n ? (long long)s[n - 1] : 0LL);
#undef PCT
}

int main(int argc, char **argv)
{
    const char *url = NULL, *probe_url = NULL, *kind_s = "idle", *body_file = NULL, *probe_body_file = NULL;
    int n = 100, sources = 1, hold_s = 10, ramp_ms = 1000, reopen = 0, interval_ms = 1000, verbose = 0;
    double probe_rate = 20;
    int probe_timeout_s = 10, kind;
    target ht, pt;
    char *body = NULL, *probe_body = NULL, *req_full, *req_slow, *req_probe = NULL;
    size_t body_len = 0, probe_body_len = 0, full_len, slow_len, probe_len = 0;
    conn *held, *probes;
    struct rlimit rl;
    static int held_status[NSTATUS], probe_status[NSTATUS];
    int64_t *ok_head, *refused_head, *probe_lat;
    size_t n_ok_head = 0, n_refused_head = 0, n_probe_lat = 0, probe_cap, head_cap;
    long long open_now = 0, peak = 0, closed = 0, reopened = 0, connect_err = 0, started = 0;
    long long nprobes = 0, probe_ok = 0, probe_timeout = 0, probe_err = 0;
    int64_t t_start, t_ramp_end, t_end, next_probe, next_report;
    static char buf[65536];
    struct epoll_event evs[512];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-R") == 0) {
            reopen = 1;
            continue;
        }
        if (strcmp(a, "-v") == 0) {
            verbose = 1;
            continue;
        }
        if (v == NULL)
            die("option without a value (see the header of connhold.c)");
        i++;
        if (strcmp(a, "-u") == 0)
            url = v;
        else if (strcmp(a, "-n") == 0)
            n = atoi(v);
        else if (strcmp(a, "-k") == 0)
            kind_s = v;
        else if (strcmp(a, "-s") == 0)
            sources = atoi(v);
        else if (strcmp(a, "-d") == 0)
            hold_s = atoi(v);
        else if (strcmp(a, "-e") == 0)
            ramp_ms = atoi(v);
        else if (strcmp(a, "-i") == 0)
            interval_ms = atoi(v);
        else if (strcmp(a, "-f") == 0)
            body_file = v;
        else if (strcmp(a, "-p") == 0)
            probe_url = v;
        else if (strcmp(a, "-r") == 0)
            probe_rate = atof(v);
        else if (strcmp(a, "-F") == 0)
            probe_body_file = v;
        else if (strcmp(a, "-t") == 0)
            probe_timeout_s = atoi(v);
        else if (strcmp(a, "-H") == 0) {
            if (nheaders == MAX_HEADERS)
                die("too many headers");
            headers[nheaders++] = (char *)v;
        } else
            die("unknown option (see the header of connhold.c)");
    }
    if (url == NULL || n < 0 || sources < 1 || sources > 250 || hold_s < 0 || ramp_ms < 0 || interval_ms < 1 ||
        probe_rate <= 0 || probe_timeout_s < 1)
        die("-u URL required; counts and times must be positive; at most 250 sources");
    if (strcmp(kind_s, "idle") == 0)
        kind = K_IDLE;
    else if (strcmp(kind_s, "slowhead") == 0)
        kind = K_SLOWHEAD;
    else if (strcmp(kind_s, "keepalive") == 0)
        kind = K_KEEPALIVE;
    else if (strcmp(kind_s, "request") == 0)
        kind = K_REQUEST;
    else
        die("-k must be idle, slowhead, keepalive or request");
    parse_url(url, &ht);
    if (body_file != NULL)
        body = read_file(body_file, &body_len);
    req_full = build_request(&ht, body, body_len, kind == K_KEEPALIVE, 0, &full_len);
    req_slow = build_request(&ht, NULL, 0, 1, 1, &slow_len);
    if (probe_url != NULL) {
        parse_url(probe_url, &pt);
        if (probe_body_file != NULL)
            probe_body = read_file(probe_body_file, &probe_body_len);
        req_probe = build_request(&pt, probe_body, probe_body_len, 0, 0, &probe_len);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    held = calloc((size_t)n + 1, sizeof(conn));
    probes = calloc(MAX_PROBES, sizeof(conn));
    probe_cap = (size_t)(probe_rate * (hold_s + 1)) + 16;
    probe_lat = calloc(probe_cap, sizeof(int64_t));
    head_cap = (size_t)n * (reopen ? 8 : 1) + 1;
    ok_head = calloc(head_cap, sizeof(int64_t));
    refused_head = calloc(head_cap, sizeof(int64_t));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (held == NULL || probes == NULL || probe_lat == NULL || ok_head == NULL || refused_head == NULL || ep < 0)
        die("out of memory");
    for (int i = 0; i < MAX_PROBES; i++)
        probes[i].probe = 1;

    t_start = now_us();
    t_ramp_end = t_start + (int64_t)ramp_ms * 1000;
    t_end = t_ramp_end + (int64_t)hold_s * 1000000;
    next_probe = t_ramp_end;
    next_report = t_start + 1000000;
    for (;;) {
        int64_t now = now_us();
        int k;
        if (now >= t_end)
            break;
        /* held connections whose time has come, and reopened ones */
        while (started < n && (ramp_ms == 0 || now >= t_start + (int64_t)ramp_ms * 1000 * started / n)) {
            conn *c = &held[started];
            uint32_t src = (127u << 24) | (uint32_t)(2 + started % sources);
            if (open_conn(c, &ht, src, (uint32_t)started) != 0) {
                connect_err++;
                c->state = S_CLOSED;
            } else if (++open_now > peak)
                peak = open_now;
            started++;
        }
        for (int i = 0; i < started && (kind == K_SLOWHEAD || reopen); i++) {
            conn *c = &held[i];
            if (reopen && c->state == S_CLOSED) {
                if (open_conn(c, &ht, (127u << 24) | (uint32_t)(2 + i % sources), (uint32_t)i) == 0) {
                    reopened++;
                    if (++open_now > peak)
                        peak = open_now;
                }
            } else if (kind == K_SLOWHEAD && c->state == S_HELD && now >= c->next_slow_us) {
                char line[48];
                int l = snprintf(line, sizeof(line), "X-Slow-%d: 1\r\n", c->slow_n++);
                if (send(c->fd, line, (size_t)l, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
                    close_conn(c);
                    open_now--;
                    closed++;
                }
                c->next_slow_us = now + (int64_t)interval_ms * 1000;
            }
        }
        /* probes: start on schedule, time out */
        while (req_probe != NULL && now >= next_probe && (size_t)nprobes < probe_cap) {
            int slot = -1;
            for (int i = 0; i < MAX_PROBES; i++)
                if (probes[i].state == S_FREE || probes[i].state == S_CLOSED) {
                    slot = i;
                    break;
                }
            next_probe += (int64_t)(1e6 / probe_rate);
            nprobes++;
            if (slot < 0 || open_conn(&probes[slot], &pt, 0, (uint32_t)(n + 1 + slot)) != 0) {
                probe_err++;
                continue;
            }
            probes[slot].req = req_probe;
            probes[slot].req_len = probe_len;
        }
        for (int i = 0; i < MAX_PROBES; i++) {
            conn *c = &probes[i];
            if (c->state != S_FREE && c->state != S_CLOSED && now - c->t0 > (int64_t)probe_timeout_s * 1000000) {
                close_conn(c);
                probe_timeout++;
            }
        }
        if (verbose && now >= next_report) {
            fprintf(stderr, "t=%.0f open=%lld closed=%lld probes=%lld ok=%lld timeout=%lld err=%lld\n",
                    (double)(now - t_start) / 1e6, open_now, closed, nprobes, probe_ok, probe_timeout, probe_err);
            next_report += 1000000;
        }
        k = epoll_wait(ep, evs, 512, 10);
        for (int e = 0; e < k; e++) {
            uint32_t idx = evs[e].data.u32;
            int is_probe = idx > (uint32_t)n;
            conn *c = is_probe ? &probes[idx - (uint32_t)n - 1] : &held[idx];
            uint32_t ev = evs[e].events;
            int done = 0, fail = 0;

            if (c->state == S_CONNECTING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr != 0) {
                    fail = 1;
                } else if (!is_probe && kind == K_IDLE) {
                    c->state = S_HELD;
                    set_events(c, idx, EPOLLIN | EPOLLRDHUP);
                    continue;
                } else {
                    if (!is_probe) {
                        c->req = kind == K_SLOWHEAD ? req_slow : req_full;
                        c->req_len = kind == K_SLOWHEAD ? slow_len : full_len;
                    }
                    c->state = S_SENDING;
                }
            }
            if (!fail && c->state == S_SENDING) {
                ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN)
                    fail = 1;
                else if (w > 0 && (c->sent += (size_t)w) == c->req_len) {
                    if (!is_probe && kind == K_SLOWHEAD) {
                        c->state = S_HELD;
                        c->next_slow_us = now_us() + (int64_t)interval_ms * 1000;
                    } else {
                        c->state = S_READING;
                    }
                    set_events(c, idx, EPOLLIN | EPOLLRDHUP);
                }
                if (!fail)
                    continue;
            }
            if (!fail && (c->state == S_READING || c->state == S_HELD) && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
                for (;;) {
                    ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
                    size_t used;
                    int rc;
                    if (r < 0 && errno == EAGAIN)
                        break;
                    if (r <= 0) {
                        if (r == 0 && c->p.state == P_EOF)
                            done = 1;
                        else
                            fail = 1;
                        break;
                    }
                    rc = parser_feed(&c->p, buf, (size_t)r, &used);
                    if (rc < 0) {
                        fail = 1;
                        break;
                    }
                    if (rc == 1) {
                        done = 1;
                        break;
                    }
                }
            }
            if (!done && !fail)
                continue;
            /* an answer, or the connection ended */
            if (is_probe) {
                if (done && c->p.status > 0 && c->p.status < NSTATUS)
                    probe_status[c->p.status]++;
                if (done && c->p.status >= 200 && c->p.status < 300) {
                    probe_ok++;
                    if (n_probe_lat < probe_cap)
                        probe_lat[n_probe_lat++] = now_us() - c->t0;
                } else if (!done) {
                    probe_err++;
                }
                close_conn(c);
                continue;
            }
            if (c->p.status > 0 && c->p.status < NSTATUS) {
                held_status[c->p.status]++;
                if (kind == K_REQUEST && c->p.head_us > 0 && n_ok_head < head_cap && n_refused_head < head_cap) {
                    if (c->p.status == 200)
                        ok_head[n_ok_head++] = c->p.head_us - c->t0;
                    else
                        refused_head[n_refused_head++] = c->p.head_us - c->t0;
                }
            }
            if (done && kind == K_KEEPALIVE && c->state == S_READING && c->p.status == 200 && !c->p.close_after) {
                c->state = S_HELD; /* idle in the pool from now on */
                parser_reset(&c->p);
                continue;
            }
            if (done && kind == K_REQUEST && c->state == S_READING) {
                close_conn(c); /* finished: not a server close */
                open_now--;
                continue;
            }
            close_conn(c);
            open_now--;
            closed++;
        }
    }
    {
        long long open_end = 0;
        for (int i = 0; i < started; i++)
            if (held[i].state != S_CLOSED && held[i].state != S_FREE)
                open_end++;
        printf("held=%d kind=%s sources=%d peak=%lld open_end=%lld closed=%lld reopened=%lld connect_err=%lld", n,
               kind_s, sources, peak, open_end, closed, reopened, connect_err);
    }
    for (int s = 0; s < NSTATUS; s++)
        if (held_status[s] > 0)
            printf(" held_status_%d=%d", s, held_status[s]);
    if (kind == K_REQUEST) {
        print_pcts("ok_head_", ok_head, n_ok_head);
        print_pcts("refused_head_", refused_head, n_refused_head);
    }
    if (req_probe != NULL) {
        printf(" probes=%lld probe_ok=%lld probe_timeout=%lld probe_err=%lld", nprobes, probe_ok, probe_timeout,
               probe_err);
        for (int s = 0; s < NSTATUS; s++)
            if (probe_status[s] > 0)
                printf(" probe_status_%d=%d", s, probe_status[s]);
        print_pcts("probe_", probe_lat, n_probe_lat);
    }
    printf("\n");
    return 0;
}
