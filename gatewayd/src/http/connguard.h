/*
 * src/http/connguard.h: the connection guard of a civetweb listener (every
 * server of gatewayd has one; gw_http_start creates it, server.c calls it
 * from civetweb's callbacks).
 *
 * civetweb gives each connection a worker thread for the connection's whole
 * life: while it waits for a request head, during the request, and while it
 * sits idle between keep-alive requests. Without a guard, a few hundred
 * idle or slow-header connections take every worker and everyone else
 * waits in civetweb's queue. The guard decides, for every connection, at
 * the moment civetweb accepts it and before any worker is used:
 *
 *   - per-address limit: a client address with max_per_address connections
 *     open already gets "429 too_many_connections" (Retry-After: 1);
 *   - capacity: when every worker is held, the oldest connection idle
 *     between keep-alive requests is closed to make room (the client's pool
 *     simply reconnects), else the oldest connection still waiting for its
 *     request head after GW_CONNGUARD_EVICT_MS; when there is neither, the
 *     new connection gets "503 overloaded" (Retry-After: 1) at once instead
 *     of waiting in a queue;
 *   - head deadline: a connection whose first request head is not complete
 *     head_timeout_ms after it was accepted is cut (408 when part of a head
 *     had arrived, a silent close when nothing had). Connections do not wait
 *     for a worker (at most one per worker is admitted), so the time counts
 *     the client's.
 * Refusals are written at once on the new socket and the socket is closed
 * after a short lingering read (so the client reads the answer rather than
 * a reset).
 *
 * It counts, for /metrics: connections open, waiting for a worker, reading
 * a head, in a request, idle between requests; refusals by reason; head
 * timeouts; connections closed to make room.
 */
#ifndef GW_HTTP_CONNGUARD_H
#define GW_HTTP_CONNGUARD_H

#include <civetweb.h>
#include <stdint.h>

#include "base/common.h"

#define GW_CONNGUARD_EVICT_MS 1000 /* a head-waiting connection may be closed to make room after this long */
#define GW_CONNGUARD_LINGER_MS 2000 /* a refused connection is read and closed within this */

typedef struct gw_connguard gw_connguard;

typedef struct gw_connguard_opts {
    const char *name;    /* "proxy", "admin", "docs" (logs and metrics) */
    int port;            /* the listener's port: what it accepts is this guard's */
    int workers;         /* the listener's worker threads */
    int max_per_address; /* open connections from one client address; 0 = no limit */
    int head_timeout_ms; /* deadline of a connection's first request head */
} gw_connguard_opts;

typedef struct gw_connguard_stats {
    const char *name;
    int workers;
    long long open;      /* accepted and not closed */
    long long queued;    /* waiting for a worker (open beyond the workers) */
    long long head;      /* the first request head is not complete yet (waiting for a worker or reading) */
    long long active;    /* in a request */
    long long keepalive; /* a worker waits for the next request on a kept-alive connection */
    unsigned long long accepted;
    unsigned long long refused_per_address;
    unsigned long long refused_overload;
    unsigned long long head_timeouts;
    unsigned long long reclaimed_keepalive; /* idle connections closed to make room */
    unsigned long long reclaimed_head;      /* slow heads closed to make room */
} gw_connguard_stats;

/* Registers the guard of a port; from now on every connection civetweb
 * accepts on that port passes it. Before mg_start. */
int gw_connguard_create(const gw_connguard_opts *opts, gw_connguard **out, char err[GW_ERR_LEN]);
/* Unregisters and frees; after mg_stop. */
void gw_connguard_destroy(gw_connguard *g);

/* civetweb's callbacks: a request head is complete (begin_request), a
 * request ended (end_request), the connection is closing
 * (connection_close, before civetweb closes the socket). g NULL, or a
 * connection the guard did not admit: nothing happens. */
void gw_connguard_request_begin(gw_connguard *g, const struct mg_connection *conn);
void gw_connguard_request_end(gw_connguard *g, const struct mg_connection *conn);
void gw_connguard_conn_close(gw_connguard *g, const struct mg_connection *conn);
/* For civetweb's error answer on a connection: 1 when the guard cut its
 * head (the answer becomes a 408 with *message). */
int gw_connguard_cut_head(gw_connguard *g, const struct mg_connection *conn, const char **message);

void gw_connguard_stats_get(gw_connguard *g, gw_connguard_stats *out);

/* Runs the deadline check once, as the watchdog thread does every
 * GW_CONNGUARD_TICK_MS (tests). */
void gw_connguard_tick(gw_connguard *g, int64_t now_ms);

#endif
