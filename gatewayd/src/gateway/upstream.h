/*
 * src/gateway/upstream.h: one upstream HTTP call through libcurl, relayed as
 * it arrives.
 *
 * A call borrows a curl multi handle with one easy handle (a slot) from a
 * pool for its duration: free slots are kept per upstream host, so the
 * connection a slot keeps alive goes where the next call of that host goes,
 * and nothing is set up per request but the options. The pool makes slots
 * up to the cap given to gw_upstream_pool_start (upstream calls at once,
 * sized from the open-file limit: each slot holds two wake-up descriptors
 * and a connection); a call that finds the cap reached fails at once with
 * GW_UP_BUSY. Worker threads hold no curl state of their own.
 * The transfer is driven with curl_multi_poll in ticks of at most
 * GW_UPSTREAM_TICK_MS so the caller can cut it at any time (client gone,
 * shutdown) and a stall is detected without relying on curl's own
 * timers. No signals (CURLOPT_NOSIGNAL), TCP_NODELAY on, no verbose
 * output, no compression asked by curl (CURLOPT_ACCEPT_ENCODING unset: the
 * bytes are parsed for usage; the vendor module sends "Accept-Encoding:
 * identity"), no "Expect: 100-continue" round trip, no redirects followed,
 * HTTP/1.1 only.
 *
 * The request headers are the "Name: value\0" lines of gw_upstream_req;
 * the curl_slist nodes pointing at them live in the slot (no allocation
 * per header).
 *
 * Redaction: with gw_upstream_call.redact set, every byte of the response
 * is passed through it before anyone sees it: each header line before it
 * is read (content type, relayed headers) and the body before on_body (a
 * held tail is passed on when the transfer completes). Whatever the
 * upstream echoes of the vendor key therefore never reaches the client,
 * the error text of the analytics event or a log.
 */
#ifndef GW_HTTP_UPSTREAM_H
#define GW_HTTP_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "base/redact.h"

#define GW_UPSTREAM_TICK_MS 100
#define GW_UPSTREAM_MAX_HEADERS 128
#define GW_UPSTREAM_RELAY_HEADERS_MAX 1024

typedef enum gw_upstream_result {
    GW_UP_OK = 0,         /* the response arrived completely (any HTTP status) */
    GW_UP_CONNECT_FAILED, /* could not resolve / connect (also connect timeout): 502 */
    GW_UP_TIMEOUT,        /* UPSTREAM_TIMEOUT_MS passed: 504 */
    GW_UP_STALL,          /* no byte for stall_ms after the first one: 504 */
    GW_UP_RESET,          /* the connection broke before the response was complete: 502 */
    GW_UP_ABORTED,        /* a callback asked to stop (client gone, bad upstream data, shutdown) */
    GW_UP_ERROR,          /* anything else (TLS, protocol, out of memory): 502 */
    GW_UP_BUSY            /* no slot: the cap of upstream calls at once is reached; nothing sent: 503 */
} gw_upstream_result;

const char *gw_upstream_result_name(gw_upstream_result r);

typedef struct gw_upstream_cb {
    void *ctx;
    /* The final response head is complete (1xx heads are skipped). Return
     * -1 to abort. content_type is "" when the upstream sent none. */
    int (*on_head)(void *ctx, long status, const char *content_type);
    /* Body bytes as they arrive (any split). Return -1 to abort. */
    int (*on_body)(void *ctx, const char *data, size_t len);
    /* Called at least every GW_UPSTREAM_TICK_MS while waiting; non-zero aborts. */
    int (*on_tick)(void *ctx, int64_t now_ms, int64_t last_byte_ms);
} gw_upstream_cb;

typedef struct gw_upstream_call {
    /* in */
    const char *method; /* "GET", "POST", … */
    const char *url;
    const char *headers; /* "Name: value\0" lines */
    size_t headers_len;
    const char *body; /* NULL or body_len bytes */
    size_t body_len;
    int connect_timeout_ms;
    int total_timeout_ms;      /* 0 = none: the whole call */
    int first_byte_timeout_ms; /* 0 = none: until the first response byte (GW_UP_TIMEOUT) */
    int stall_ms;              /* 0 = none: max time without a byte once the first arrived */
    int retry_connect;         /* retry once when the connection could not be made */
    gw_redact *redact;         /* NULL, or what to remove from the response (headers and body) */

    /* out */
    long status;                                       /* HTTP status of the final response (0 = none) */
    char content_type[128];                            /* of the final response */
    char relay_headers[GW_UPSTREAM_RELAY_HEADERS_MAX]; /* "Name: value\r\n" lines worth relaying to the client */
    size_t relay_headers_len;
    int64_t started_us;    /* monotonic µs when the call began */
    int64_t first_byte_us; /* first response byte (0 = none) */
    int64_t ended_us;
    int64_t callback_us; /* time spent inside on_head / on_body */
    size_t bytes_in;     /* body bytes received */
    int retried;
    char err[GW_ERR_LEN]; /* what went wrong, no secrets (no URL, no headers) */
} gw_upstream_call;

/* Monotonic microseconds. */
int64_t gw_upstream_now_us(void);

/* Runs the call on a slot of the pool. */
gw_upstream_result gw_upstream_perform(gw_upstream_call *c, const gw_upstream_cb *cb);

/* Sets the cap of upstream calls at once and makes prewarm slots ahead
 * (before the listeners start). -1 with err. */
int gw_upstream_pool_start(int max_calls, int prewarm, char err[GW_ERR_LEN]);
/* Frees the free slots (at exit, after the listeners stopped). */
void gw_upstream_pool_stop(void);

typedef struct gw_upstream_pool_stats {
    int max;                 /* upstream calls at once allowed */
    int made;                /* slots made */
    int in_use;              /* upstream calls now */
    unsigned long long busy; /* calls refused: no slot */
} gw_upstream_pool_stats;
void gw_upstream_pool_stats_get(gw_upstream_pool_stats *out);

#endif
