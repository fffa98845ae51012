/*
 * src/http/connguard.c: the connection guard (see connguard.h).
 *
 * Where it hooks in. civetweb (Debian's shared libcivetweb 1.15) offers no
 * callback between accepting a connection and handing it to a worker
 * (init_connection already runs on the worker), and no way to close a
 * connection from a callback. Its master thread accepts with accept(2)
 * through the PLT; the accept() defined here, in the executable, takes its
 * place (ELF symbol interposition: the executable comes first in a shared
 * library's lookup scope, and ld exports the symbol because libcivetweb
 * refers to it). It accepts with accept4(2), then asks the guard of the
 * listener's port; a listener no guard knows passes through unchanged
 * (grpc accepts with accept4 and never comes here). A refused connection is
 * answered, shut for writing and handed to the watchdog, which reads and
 * discards what the client still sends for up to GW_CONNGUARD_LINGER_MS
 * before closing it, so the client reads the answer rather than a reset.
 * When the process is out of descriptors (EMFILE), the accept is retried
 * after a short sleep instead of civetweb's master spinning on poll().
 *
 * Records. Each admitted connection gets a record, found again on the
 * worker (init_connection: civetweb gives the peer's address and port, not
 * the socket) through a hash of (address, port), and carried as civetweb's
 * per-connection user data from then on. Records and per-address counters
 * live in arrays sized at creation (2 x workers + 16: at most one pending
 * reclaim per admitted connection), so nothing is allocated per connection.
 * Records waiting for a head are on a FIFO list (their deadlines are in
 * order), records idle between keep-alive requests on another (oldest first:
 * the first closed to make room).
 *
 * Cutting a connection is shutdown(fd, SHUT_RD): the worker blocked in
 * civetweb's read wakes up with end-of-file (bytes already received are
 * still read first, so a request that arrived is still served) and civetweb
 * closes the connection itself.
 *
 * Locking. One mutex per guard protects its records, address counters,
 * lists and counters. The registry of guards (and the listener cache) has
 * its own mutex, taken before a guard's, never after; the lingering sockets
 * have a third, taken alone. A record is removed in civetweb's
 * connection_close callback, which runs before civetweb closes the socket:
 * while a record exists under the guard's mutex its fd is open and is that
 * connection, so the watchdog and the master thread may shut it down without
 * racing a close and a reuse of the number. The watchdog thread runs while
 * at least one guard exists.
 */
#include "http/connguard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/errmap.h"
#include "base/log.h"

#define GW_CG_NIL UINT32_MAX
#define GW_CG_MAX_GUARDS 8
#define GW_CG_TICK_MS 100
#define GW_CG_LINGER_MAX 4096
#define GW_CG_WARN_EVERY_MS 10000
#define GW_CG_EMFILE_PAUSE_MS 10

enum { GW_CG_HEAD, GW_CG_ACTIVE, GW_CG_KEEPALIVE, GW_CG_NSTATES };
enum { GW_CG_ON_NONE, GW_CG_ON_HEADS, GW_CG_ON_IDLES };

typedef struct gw_cg_rec {
    int fd;
    uint16_t port;    /* the peer's */
    uint8_t used;     /* allocated */
    uint8_t state;    /* GW_CG_HEAD … */
    uint8_t on;       /* which list it is on */
    uint8_t cut;      /* its head was cut: the deadline passed, or to make room */
    uint8_t reclaimed; /* shut down to make room (still counted open until closed) */
    uint32_t addr;    /* its address counter */
    uint32_t hnext;   /* hash chain, or the free list */
    uint32_t prev, next;
    int64_t t_ms;     /* HEAD: when it was accepted; KEEPALIVE: since when idle */
} gw_cg_rec;

typedef struct gw_cg_addr {
    uint8_t ip[16]; /* IPv6, IPv4 as ::ffff:a.b.c.d */
    uint32_t open;
    uint32_t hnext; /* hash chain, or the free list */
} gw_cg_addr;

typedef struct gw_cg_list {
    uint32_t first, last;
} gw_cg_list;

struct gw_connguard {
    char name[16];
    int port, workers, max_per_address, head_timeout_ms;
    pthread_mutex_t mu;
    uint32_t cap, mask;
    gw_cg_rec *recs;
    uint32_t *rbuckets, rfree;
    gw_cg_addr *addrs;
    uint32_t *abuckets, afree;
    gw_cg_list heads, idles;
    long long open, reclaiming, n_state[GW_CG_NSTATES];
    unsigned long long accepted, refused_addr, refused_full, head_timeouts, reclaimed_idle, reclaimed_head;
    unsigned long long warned_addr, warned_full; /* refusals already in a log line */
    int64_t warn_at_ms;
    char resp429[640], resp503[640];
    size_t len429, len503;
    char head_msg[96]; /* the 408's message */
};

/* ---- the registry, the listener cache and the watchdog ---- */

static pthread_mutex_t gw_cg_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static gw_connguard *gw_cg_reg[GW_CG_MAX_GUARDS];
static int gw_cg_nreg;
static struct {
    int fd;
    gw_connguard *g; /* NULL: a listener of no guard */
} gw_cg_lfd[2 * GW_CG_MAX_GUARDS];
static int gw_cg_nlfd;

static pthread_mutex_t gw_cg_ling_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int fd;
    int64_t deadline_ms;
} gw_cg_ling[GW_CG_LINGER_MAX];
static uint32_t gw_cg_ling_head, gw_cg_ling_n;
static int gw_cg_ep = -1;
static pthread_t gw_cg_thread;
static int gw_cg_running;
static atomic_int gw_cg_stop;

/* ---- addresses ---- */

static void gw_cg_ip_from_sockaddr(const struct sockaddr *sa, uint8_t ip[16])
{
    memset(ip, 0, 16);
    if (sa->sa_family == AF_INET) {
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

/* civetweb's text form of the peer address (inet_ntop, maybe in brackets). */
static int gw_cg_ip_from_text(const char *s, uint8_t ip[16])
{
    char buf[64];
    size_t n = strlen(s);
    struct in_addr a4;

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(buf)) {
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
        s = buf;
    }
    memset(ip, 0, 16);
    if (inet_pton(AF_INET, s, &a4) == 1) {
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &a4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, s, ip) == 1 ? 0 : -1;
}

static uint32_t gw_cg_ip_hash(const uint8_t ip[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ ip[i]) * 16777619u;
    return h;
}

static uint32_t gw_cg_addr_find(gw_connguard *g, const uint8_t ip[16])
{
    for (uint32_t i = g->abuckets[gw_cg_ip_hash(ip) & g->mask]; i != GW_CG_NIL; i = g->addrs[i].hnext)
        if (memcmp(g->addrs[i].ip, ip, 16) == 0)
            return i;
    return GW_CG_NIL;
}

static uint32_t gw_cg_addr_add(gw_connguard *g, const uint8_t ip[16])
{
    uint32_t i = g->afree, b = gw_cg_ip_hash(ip) & g->mask;
    if (i == GW_CG_NIL)
        return GW_CG_NIL;
    g->afree = g->addrs[i].hnext;
    memcpy(g->addrs[i].ip, ip, 16);
    g->addrs[i].open = 0;
    g->addrs[i].hnext = g->abuckets[b];
    g->abuckets[b] = i;
    return i;
}

/* One connection of the address closed: the counter goes when it is 0. */
static void gw_cg_addr_release(gw_connguard *g, uint32_t i)
{
    uint32_t *p;
    if (--g->addrs[i].open > 0)
        return;
    for (p = &g->abuckets[gw_cg_ip_hash(g->addrs[i].ip) & g->mask]; *p != GW_CG_NIL; p = &g->addrs[*p].hnext)
        if (*p == i) {
            *p = g->addrs[i].hnext;
            break;
        }
    g->addrs[i].hnext = g->afree;
    g->afree = i;
}

/* ---- records ---- */

static uint32_t gw_cg_rec_bucket(const gw_connguard *g, uint32_t addr, uint16_t port)
{
    return ((addr * 2654435761u) ^ ((uint32_t)port * 40503u)) & g->mask;
}

static uint32_t gw_cg_rec_find(gw_connguard *g, uint32_t addr, uint16_t port)
{
    for (uint32_t i = g->rbuckets[gw_cg_rec_bucket(g, addr, port)]; i != GW_CG_NIL; i = g->recs[i].hnext)
        if (g->recs[i].addr == addr && g->recs[i].port == port)
            return i;
    return GW_CG_NIL;
}

static void gw_cg_list_push(gw_connguard *g, gw_cg_list *l, uint32_t i, int on)
{
    gw_cg_rec *r = &g->recs[i];
    r->on = (uint8_t)on;
    r->next = GW_CG_NIL;
    r->prev = l->last;
    if (l->last != GW_CG_NIL)
        g->recs[l->last].next = i;
    else
        l->first = i;
    l->last = i;
}

static void gw_cg_list_remove(gw_connguard *g, uint32_t i)
{
    gw_cg_rec *r = &g->recs[i];
    gw_cg_list *l = r->on == GW_CG_ON_HEADS ? &g->heads : r->on == GW_CG_ON_IDLES ? &g->idles : NULL;
    if (l == NULL)
        return;
    if (r->prev != GW_CG_NIL)
        g->recs[r->prev].next = r->next;
    else
        l->first = r->next;
    if (r->next != GW_CG_NIL)
        g->recs[r->next].prev = r->prev;
    else
        l->last = r->prev;
    r->on = GW_CG_ON_NONE;
}

static void gw_cg_set_state(gw_connguard *g, gw_cg_rec *r, int state)
{
    g->n_state[r->state]--;
    r->state = (uint8_t)state;
    g->n_state[state]++;
}

static void gw_cg_rec_drop(gw_connguard *g, uint32_t i);

/* Closes the reading side of a connection's socket, after checking that
 * the descriptor is still that connection (a record whose close was missed
 * is dropped instead: never shut down someone else's socket). 0 when shut
 * (under g->mu). */
static int gw_cg_shut(gw_connguard *g, uint32_t i)
{
    gw_cg_rec *r = &g->recs[i];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    uint8_t ip[16];
    int port = -1;

    if (getpeername(r->fd, (struct sockaddr *)&ss, &sl) == 0) {
        gw_cg_ip_from_sockaddr((struct sockaddr *)&ss, ip);
        port = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
               : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                          : -1;
    }
    if (port != r->port || memcmp(ip, g->addrs[r->addr].ip, 16) != 0) {
        gw_log_warn("%s server: connection record of descriptor %d was stale: dropped", g->name, r->fd);
        gw_cg_rec_drop(g, i);
        return -1;
    }
    shutdown(r->fd, SHUT_RD);
    return 0;
}

/* Closes a connection's reading side to free its worker (under g->mu). */
static void gw_cg_reclaim(gw_connguard *g, uint32_t i, int head)
{
    gw_cg_rec *r = &g->recs[i];
    gw_cg_list_remove(g, i);
    if (gw_cg_shut(g, i) != 0)
        return;
    r->reclaimed = 1;
    r->cut = (uint8_t)head;
    g->reclaiming++;
    if (head)
        g->reclaimed_head++;
    else
        g->reclaimed_idle++;
}

/* Every worker is held: close the oldest idle keep-alive connection, else
 * the oldest head still incomplete after GW_CONNGUARD_EVICT_MS. 0 when
 * there was none (under g->mu). */
static int gw_cg_make_room(gw_connguard *g, int64_t now_ms)
{
    if (g->idles.first != GW_CG_NIL) {
        gw_cg_reclaim(g, g->idles.first, 0);
        return 1;
    }
    if (g->heads.first != GW_CG_NIL && now_ms - g->recs[g->heads.first].t_ms >= GW_CONNGUARD_EVICT_MS) {
        gw_cg_reclaim(g, g->heads.first, 1);
        return 1;
    }
    return 0;
}

/* ---- admission (civetweb's master thread, inside accept) ---- */

typedef enum { GW_CG_ADMIT, GW_CG_REFUSE_ADDR, GW_CG_REFUSE_FULL } gw_cg_verdict;

static gw_cg_verdict gw_cg_admit(gw_connguard *g, int fd, const struct sockaddr *sa)
{
    uint8_t ip[16];
    uint32_t a, i;
    gw_cg_rec *r;
    int64_t now = gw_now_ms();
    gw_cg_verdict v = GW_CG_ADMIT;

    gw_cg_ip_from_sockaddr(sa, ip);
    pthread_mutex_lock(&g->mu);
    a = gw_cg_addr_find(g, ip);
    if (g->max_per_address > 0 && a != GW_CG_NIL && g->addrs[a].open >= (uint32_t)g->max_per_address) {
        g->refused_addr++;
        v = GW_CG_REFUSE_ADDR;
    } else if ((g->open - g->reclaiming >= g->workers && !gw_cg_make_room(g, now)) || g->rfree == GW_CG_NIL ||
               (a == GW_CG_NIL && (a = gw_cg_addr_add(g, ip)) == GW_CG_NIL)) {
        g->refused_full++;
        v = GW_CG_REFUSE_FULL;
    } else {
        i = g->rfree;
        r = &g->recs[i];
        g->rfree = r->hnext;
        memset(r, 0, sizeof(*r));
        r->used = 1;
        r->fd = fd;
        r->port = sa->sa_family == AF_INET    ? ntohs(((const struct sockaddr_in *)sa)->sin_port)
                  : sa->sa_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
                                              : 0;
        r->addr = a;
        r->state = GW_CG_HEAD;
        r->t_ms = now;
        r->hnext = g->rbuckets[gw_cg_rec_bucket(g, a, r->port)];
        g->rbuckets[gw_cg_rec_bucket(g, a, r->port)] = i;
        gw_cg_list_push(g, &g->heads, i, GW_CG_ON_HEADS);
        g->addrs[a].open++;
        g->n_state[GW_CG_HEAD]++;
        g->open++;
        g->accepted++;
    }
    if (v != GW_CG_ADMIT && now - g->warn_at_ms >= GW_CG_WARN_EVERY_MS) {
        gw_log_warn("%s server: refused %llu connections at capacity (%d workers, %lld connections open) and %llu "
                    "over the limit of %d per address since the last report",
                    g->name, g->refused_full - g->warned_full, g->workers, g->open, g->refused_addr - g->warned_addr,
                    g->max_per_address);
        g->warned_full = g->refused_full;
        g->warned_addr = g->refused_addr;
        g->warn_at_ms = now;
    }
    pthread_mutex_unlock(&g->mu);
    return v;
}

/* A refused connection: the answer, then a lingering close by the watchdog. */
static void gw_cg_linger(int fd);

static void gw_cg_refuse(gw_connguard *g, int fd, gw_cg_verdict v)
{
    const char *resp = v == GW_CG_REFUSE_ADDR ? g->resp429 : g->resp503;
    size_t len = v == GW_CG_REFUSE_ADDR ? g->len429 : g->len503;
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    /* a fresh socket's send buffer holds the whole answer */
    (void)send(fd, resp, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    gw_cg_linger(fd);
}

static gw_connguard *gw_cg_lookup(int listener)
{
    gw_connguard *g = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int port = -1, i;

    pthread_mutex_lock(&gw_cg_reg_mu);
    for (i = 0; i < gw_cg_nlfd; i++)
        if (gw_cg_lfd[i].fd == listener) {
            g = gw_cg_lfd[i].g;
            goto out;
        }
    if (getsockname(listener, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    for (i = 0; i < gw_cg_nreg; i++)
        if (gw_cg_reg[i]->port == port)
            g = gw_cg_reg[i];
    if (gw_cg_nlfd < (int)(sizeof(gw_cg_lfd) / sizeof(gw_cg_lfd[0]))) {
        gw_cg_lfd[gw_cg_nlfd].fd = listener;
        gw_cg_lfd[gw_cg_nlfd++].g = g;
    }
out:
    pthread_mutex_unlock(&gw_cg_reg_mu);
    return g;
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct sockaddr *sa = addr.__sockaddr__;
    gw_connguard *g;
    gw_cg_verdict v;
    int c = accept4(fd, (struct sockaddr *)&ss, &sl, 0);

    if (c < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            /* the connection stays in the backlog and poll() says so at
             * once: pause rather than spin */
            struct timespec ts = {0, GW_CG_EMFILE_PAUSE_MS * 1000000L};
            int e = errno;
            nanosleep(&ts, NULL);
            errno = e;
        }
        return -1;
    }
    if (sa != NULL && len != NULL) {
        memcpy(sa, &ss, *len < sl ? *len : sl);
        *len = sl;
    }
    g = gw_cg_lookup(fd);
    if (g == NULL || (v = gw_cg_admit(g, c, (struct sockaddr *)&ss)) == GW_CG_ADMIT)
        return c;
    gw_cg_refuse(g, c, v);
    errno = EAGAIN; /* civetweb goes back to poll() */
    return -1;
}

/* ---- lingering closes and the watchdog ---- */

static void gw_cg_linger(int fd)
{
    struct epoll_event ev;
    uint32_t idx;

    pthread_mutex_lock(&gw_cg_ling_mu);
    if (gw_cg_ep < 0 || gw_cg_ling_n == GW_CG_LINGER_MAX) {
        pthread_mutex_unlock(&gw_cg_ling_mu);
        close(fd);
        return;
    }
    idx = (gw_cg_ling_head + gw_cg_ling_n) % GW_CG_LINGER_MAX;
    gw_cg_ling[idx].fd = fd;
    gw_cg_ling[idx].deadline_ms = gw_now_ms() + GW_CONNGUARD_LINGER_MS;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = idx;
    if (epoll_ctl(gw_cg_ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        pthread_mutex_unlock(&gw_cg_ling_mu);
        close(fd);
        return;
    }
    gw_cg_ling_n++;
    pthread_mutex_unlock(&gw_cg_ling_mu);
}

/* Reads what a refused client still sends; closes at its end (under the lingering mutex). */
static void gw_cg_ling_drain(uint32_t idx)
{
    char scratch[4096];
    int fd = gw_cg_ling[idx].fd;
    ssize_t n;

    if (fd < 0)
        return;
    while ((n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT)) > 0)
        ;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        epoll_ctl(gw_cg_ep, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        gw_cg_ling[idx].fd = -1;
    }
}

static void gw_cg_ling_expire(int64_t now_ms, int all)
{
    while (gw_cg_ling_n > 0) {
        uint32_t h = gw_cg_ling_head;
        if (gw_cg_ling[h].fd >= 0) {
            if (!all && gw_cg_ling[h].deadline_ms > now_ms)
                break;
            epoll_ctl(gw_cg_ep, EPOLL_CTL_DEL, gw_cg_ling[h].fd, NULL);
            close(gw_cg_ling[h].fd);
            gw_cg_ling[h].fd = -1;
        }
        gw_cg_ling_head = (h + 1) % GW_CG_LINGER_MAX;
        gw_cg_ling_n--;
    }
}

void gw_connguard_tick(gw_connguard *g, int64_t now_ms)
{
    pthread_mutex_lock(&g->mu);
    while (g->heads.first != GW_CG_NIL && now_ms - g->recs[g->heads.first].t_ms >= g->head_timeout_ms) {
        uint32_t i = g->heads.first;
        gw_cg_list_remove(g, i);
        if (gw_cg_shut(g, i) == 0) {
            g->recs[i].cut = 1;
            g->head_timeouts++;
        }
    }
    pthread_mutex_unlock(&g->mu);
}

static void *gw_cg_watchdog(void *arg)
{
    struct epoll_event evs[64];
    (void)arg;

    while (!atomic_load(&gw_cg_stop)) {
        int n = epoll_wait(gw_cg_ep, evs, 64, GW_CG_TICK_MS);
        int64_t now = gw_now_ms();
        pthread_mutex_lock(&gw_cg_ling_mu);
        for (int i = 0; i < n; i++)
            gw_cg_ling_drain(evs[i].data.u32);
        gw_cg_ling_expire(now, 0);
        pthread_mutex_unlock(&gw_cg_ling_mu);
        pthread_mutex_lock(&gw_cg_reg_mu);
        for (int i = 0; i < gw_cg_nreg; i++)
            gw_connguard_tick(gw_cg_reg[i], now);
        pthread_mutex_unlock(&gw_cg_reg_mu);
    }
    return NULL;
}

/* ---- create / destroy ---- */

static size_t gw_cg_answer(char *out, size_t cap, int status, const char *reason, const char *message,
                           const char *code)
{
    char body[512];
    int bl = gw_errmap_body_fixed(body, sizeof(body), status, message, code);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nRetry-After: 1\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s",
                     status, reason, bl > 0 ? bl : 0, bl > 0 ? body : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int gw_connguard_create(const gw_connguard_opts *o, gw_connguard **out, char err[GW_ERR_LEN])
{
    gw_connguard *g;
    uint32_t nb = 16;
    char msg[160];

    *out = NULL;
    if (o->workers < 1 || o->port < 1 || o->head_timeout_ms < 1)
        return gw_errf(err, "%s server: bad connection guard settings", o->name);
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return gw_errf(err, "%s server: out of memory", o->name);
    pthread_mutex_init(&g->mu, NULL);
    snprintf(g->name, sizeof(g->name), "%s", o->name);
    g->port = o->port;
    g->workers = o->workers;
    g->max_per_address = o->max_per_address;
    g->head_timeout_ms = o->head_timeout_ms;
    g->cap = (uint32_t)o->workers * 2 + 16;
    while (nb < g->cap)
        nb <<= 1;
    g->mask = nb - 1;
    g->recs = calloc(g->cap, sizeof(*g->recs));
    g->addrs = calloc(g->cap, sizeof(*g->addrs));
    g->rbuckets = malloc(nb * sizeof(uint32_t));
    g->abuckets = malloc(nb * sizeof(uint32_t));
    if (g->recs == NULL || g->addrs == NULL || g->rbuckets == NULL || g->abuckets == NULL) {
        gw_connguard_destroy(g);
        return gw_errf(err, "%s server: out of memory", o->name);
    }
    for (uint32_t i = 0; i < nb; i++)
        g->rbuckets[i] = g->abuckets[i] = GW_CG_NIL;
    for (uint32_t i = 0; i < g->cap; i++) {
        g->recs[i].hnext = i + 1 < g->cap ? i + 1 : GW_CG_NIL;
        g->addrs[i].hnext = i + 1 < g->cap ? i + 1 : GW_CG_NIL;
    }
    g->rfree = g->afree = 0;
    g->heads.first = g->heads.last = g->idles.first = g->idles.last = GW_CG_NIL;
    snprintf(g->head_msg, sizeof(g->head_msg), "the request head did not arrive within %d ms", g->head_timeout_ms);
    snprintf(msg, sizeof(msg), "too many connections from this address (at most %d at once)", g->max_per_address);
    g->len429 = gw_cg_answer(g->resp429, sizeof(g->resp429), 429, "Too Many Requests", msg, "too_many_connections");
    g->len503 = gw_cg_answer(g->resp503, sizeof(g->resp503), 503, "Service Unavailable",
                             "the server is at capacity: try again shortly", "overloaded");

    pthread_mutex_lock(&gw_cg_reg_mu);
    for (int i = 0; i < gw_cg_nreg; i++)
        if (gw_cg_reg[i]->port == o->port) {
            pthread_mutex_unlock(&gw_cg_reg_mu);
            gw_connguard_destroy(g);
            return gw_errf(err, "%s server: port %d already has a connection guard", o->name, o->port);
        }
    if (gw_cg_nreg == GW_CG_MAX_GUARDS) {
        pthread_mutex_unlock(&gw_cg_reg_mu);
        gw_connguard_destroy(g);
        return gw_errf(err, "%s server: too many listeners", o->name);
    }
    if (!gw_cg_running) {
        pthread_mutex_lock(&gw_cg_ling_mu);
        gw_cg_ep = epoll_create1(EPOLL_CLOEXEC);
        pthread_mutex_unlock(&gw_cg_ling_mu);
        atomic_store(&gw_cg_stop, 0);
        if (gw_cg_ep < 0 || pthread_create(&gw_cg_thread, NULL, gw_cg_watchdog, NULL) != 0) {
            if (gw_cg_ep >= 0)
                close(gw_cg_ep);
            gw_cg_ep = -1;
            pthread_mutex_unlock(&gw_cg_reg_mu);
            gw_connguard_destroy(g);
            return gw_errf(err, "%s server: cannot start the connection watchdog", o->name);
        }
        gw_cg_running = 1;
    }
    gw_cg_reg[gw_cg_nreg++] = g;
    gw_cg_nlfd = 0; /* listener numbers may have been reused */
    pthread_mutex_unlock(&gw_cg_reg_mu);
    *out = g;
    return 0;
}

void gw_connguard_destroy(gw_connguard *g)
{
    int last = 0, found = 0;

    if (g == NULL)
        return;
    pthread_mutex_lock(&gw_cg_reg_mu);
    for (int i = 0; i < gw_cg_nreg; i++)
        if (gw_cg_reg[i] == g) {
            gw_cg_reg[i] = gw_cg_reg[--gw_cg_nreg];
            found = 1;
            break;
        }
    gw_cg_nlfd = 0;
    last = found && gw_cg_nreg == 0 && gw_cg_running;
    if (last) {
        atomic_store(&gw_cg_stop, 1);
        gw_cg_running = 0;
    }
    pthread_mutex_unlock(&gw_cg_reg_mu);
    if (last) {
        pthread_join(gw_cg_thread, NULL);
        pthread_mutex_lock(&gw_cg_ling_mu);
        gw_cg_ling_expire(0, 1);
        close(gw_cg_ep);
        gw_cg_ep = -1;
        pthread_mutex_unlock(&gw_cg_ling_mu);
    }
    pthread_mutex_destroy(&g->mu);
    free(g->recs);
    free(g->addrs);
    free(g->rbuckets);
    free(g->abuckets);
    free(g);
}

/* ---- civetweb's callbacks (worker threads) ---- */

/* Removes a record: its connection is closing (under g->mu). */
static void gw_cg_rec_drop(gw_connguard *g, uint32_t i)
{
    gw_cg_rec *r = &g->recs[i];
    uint32_t *p;

    if (!r->used)
        return;
    gw_cg_list_remove(g, i);
    g->n_state[r->state]--;
    if (r->reclaimed)
        g->reclaiming--;
    for (p = &g->rbuckets[gw_cg_rec_bucket(g, r->addr, r->port)]; *p != GW_CG_NIL; p = &g->recs[*p].hnext)
        if (*p == i) {
            *p = r->hnext;
            break;
        }
    gw_cg_addr_release(g, r->addr);
    r->used = 0;
    r->fd = -1;
    r->hnext = g->rfree;
    g->rfree = i;
    g->open--;
}

/* The record of a civetweb connection: its user data once a request was
 * seen, else found by the peer's address and port (civetweb gives those
 * once it has read from the connection; not yet in init_connection).
 * GW_CG_NIL when the guard did not admit it (under g->mu; ip parsed by the
 * caller, have_ip 0 when it could not be). */
static uint32_t gw_cg_conn_index(gw_connguard *g, const struct mg_connection *conn, const uint8_t ip[16],
                                 int have_ip, int port)
{
    gw_cg_rec *r = mg_get_user_connection_data(conn);
    uint32_t a, i;

    if (r != NULL && r >= g->recs && r < g->recs + g->cap && r->used)
        return (uint32_t)(r - g->recs);
    if (!have_ip || (a = gw_cg_addr_find(g, ip)) == GW_CG_NIL)
        return GW_CG_NIL;
    i = gw_cg_rec_find(g, a, (uint16_t)port);
    if (i != GW_CG_NIL)
        mg_set_user_connection_data(conn, &g->recs[i]);
    return i;
}

/* Locks g and finds conn's record (GW_CG_NIL: unlocked, nothing to do). */
static uint32_t gw_cg_lock_conn(gw_connguard *g, const struct mg_connection *conn)
{
    const struct mg_request_info *ri;
    uint8_t ip[16];
    int have_ip = 0, port = 0;
    uint32_t i;

    if (g == NULL || conn == NULL)
        return GW_CG_NIL;
    if (mg_get_user_connection_data(conn) == NULL && (ri = mg_get_request_info(conn)) != NULL) {
        have_ip = gw_cg_ip_from_text(ri->remote_addr, ip) == 0;
        port = ri->remote_port;
    }
    pthread_mutex_lock(&g->mu);
    i = gw_cg_conn_index(g, conn, ip, have_ip, port);
    if (i == GW_CG_NIL)
        pthread_mutex_unlock(&g->mu);
    return i;
}

void gw_connguard_request_begin(gw_connguard *g, const struct mg_connection *conn)
{
    uint32_t i = gw_cg_lock_conn(g, conn);
    if (i == GW_CG_NIL)
        return;
    gw_cg_list_remove(g, i);
    gw_cg_set_state(g, &g->recs[i], GW_CG_ACTIVE);
    pthread_mutex_unlock(&g->mu);
}

void gw_connguard_request_end(gw_connguard *g, const struct mg_connection *conn)
{
    uint32_t i = gw_cg_lock_conn(g, conn);
    if (i == GW_CG_NIL)
        return;
    gw_cg_list_remove(g, i);
    gw_cg_set_state(g, &g->recs[i], GW_CG_KEEPALIVE);
    g->recs[i].t_ms = gw_now_ms();
    if (!g->recs[i].reclaimed)
        gw_cg_list_push(g, &g->idles, i, GW_CG_ON_IDLES);
    pthread_mutex_unlock(&g->mu);
}

void gw_connguard_conn_close(gw_connguard *g, const struct mg_connection *conn)
{
    uint32_t i = gw_cg_lock_conn(g, conn);
    if (i == GW_CG_NIL)
        return;
    gw_cg_rec_drop(g, i);
    pthread_mutex_unlock(&g->mu);
    mg_set_user_connection_data(conn, NULL);
}

int gw_connguard_cut_head(gw_connguard *g, const struct mg_connection *conn, const char **message)
{
    uint32_t i = gw_cg_lock_conn(g, conn);
    int cut = 0;

    if (i == GW_CG_NIL)
        return 0;
    if (g->recs[i].cut) {
        cut = 1;
        *message = g->recs[i].reclaimed ? "the request head was too slow to arrive while the server was at capacity"
                                        : g->head_msg;
    }
    pthread_mutex_unlock(&g->mu);
    return cut;
}

void gw_connguard_stats_get(gw_connguard *g, gw_connguard_stats *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&g->mu);
    s->name = g->name;
    s->workers = g->workers;
    s->open = g->open;
    s->queued = g->open > g->workers ? g->open - g->workers : 0;
    s->head = g->n_state[GW_CG_HEAD];
    s->active = g->n_state[GW_CG_ACTIVE];
    s->keepalive = g->n_state[GW_CG_KEEPALIVE];
    s->accepted = g->accepted;
    s->refused_per_address = g->refused_addr;
    s->refused_overload = g->refused_full;
    s->head_timeouts = g->head_timeouts;
    s->reclaimed_keepalive = g->reclaimed_idle;
    s->reclaimed_head = g->reclaimed_head;
    pthread_mutex_unlock(&g->mu);
}
