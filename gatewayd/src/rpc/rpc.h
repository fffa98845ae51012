/*
 * src/rpc/rpc.h: gRPC for gatewayd, over the grpc C core (Debian's
 * libgrpc-dev). The control plane (hub server, edge clients) and the plugins
 * (gatewayd a client of plugin processes; the C plugin SDK a server) share it.
 * This folder is the only code that includes grpc headers: messages cross
 * this API as byte strings, which the callers pack and unpack with
 * protobuf-c. Functions return 0 or -1 and fill char err[GW_ERR_LEN].
 *
 * Modules: core.c (library refcount, grpc's log into ours, status names,
 * metadata, bytes and deadline helpers, replies, backoff), pool.c (the
 * handler worker pool), call.c (the call object of both sides: references,
 * per-call send queue, cancellation), server.c, client.c.
 *
 * The library. grpc_init/grpc_shutdown are counted: every server and client
 * holds one reference, gw_rpc_init/gw_rpc_shutdown another (the daemon holds
 * one for its whole life so reloads do not restart grpc). The last release
 * runs grpc_shutdown_blocking, so a process that destroyed everything exits
 * with no grpc thread left. grpc's own log lines go to base/log.h (grpc
 * errors as warnings, the rest as debug).
 *
 * SERVER THREADS. One completion-queue thread per server polls grpc: it
 * accepts calls, starts batches and moves finished receives along, and never
 * runs user code. Every user callback (auth, unary handler, stream
 * open/message/close) runs on the server's worker pool (opts.workers
 * threads), so a handler that waits for PostgreSQL never stalls other calls.
 * The callbacks of one call are serialized in order (open, then each
 * message, then close): a call is a strand, never on two workers at once.
 * The next message of a stream is read only when its message callback has
 * returned (flow control reaches the peer). Handlers of different calls run
 * in parallel.
 *
 * Admission (on the queue thread, before any user code): a streaming call
 * over opts.max_streams live streams, or a unary call while opts.max_queue
 * calls already wait for a worker, ends with RESOURCE_EXHAUSTED. A request
 * larger than opts.max_message ends with RESOURCE_EXHAUSTED (grpc enforces
 * it); a reply or stream message larger is refused by us the same way. An
 * unknown method ends with UNIMPLEMENTED.
 *
 * Auth. opts.auth (optional) runs on a worker before the handler with the
 * call's metadata. It returns GW_RPC_OK and may set a context pointer for
 * the handlers (gw_rpc_call_auth; released by opts.auth_release when the
 * call object is freed), or a status (UNAUTHENTICATED, PERMISSION_DENIED,
 * UNAVAILABLE when the database is down, ...) that ends the call without
 * the handler ever running.
 *
 * Deadlines. A client's deadline reaches the server: gw_rpc_call_deadline_ms
 * tells the remaining time, and when it passes the call is cancelled
 * (gw_rpc_call_done turns 1, the stream's close callback gets
 * DEADLINE_EXCEEDED); the client sees DEADLINE_EXCEEDED at its deadline
 * whatever the handler is doing.
 *
 * Stop. gw_rpc_server_stop(grace_ms): no new call is admitted; in-flight
 * calls may finish until the grace deadline, then every remaining call is
 * cancelled (clients see CANCELLED or UNAVAILABLE, stream close callbacks
 * run); stop then waits for handlers still running to return (they are
 * bounded by their own timeouts), joins every thread and frees grpc's
 * objects. Never call stop or destroy from a callback of the same server.
 *
 * CLIENT THREADS. A client is one grpc channel (it reconnects by itself,
 * with backoff capped at opts.reconnect_max_ms). gw_rpc_client_unary blocks
 * the calling thread until the reply, the status or the deadline
 * (opts.timeout_ms unless given; calls fail fast with UNAVAILABLE while the
 * target is down); the client's event thread hands it the completion.
 * Streams of a client share that event thread: their message and close
 * callbacks run there, one at a time,
 * so keep them short (hand long work to another thread; a unary call from
 * a callback is allowed, it only delays the other streams' events).
 *
 * Streams (both sides). gw_rpc_call_send may be called from any thread at
 * any time: messages wait in a per-call queue (grpc allows one outstanding
 * send per call) of at most max_send_queue messages; a full queue or an
 * ended call makes send return -1, nothing blocks. The close callback runs
 * exactly once per opened stream, after every message callback, with the
 * final status: OK when the server finished with OK, the server's status,
 * CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE (peer gone) ...
 *
 * Lifetimes. A gw_rpc_call is reference counted. Server side: the server
 * owns a reference from the open callback until the close callback has
 * returned; keep the pointer past that (a hub's table of edge streams) with
 * gw_rpc_call_ref/gw_rpc_call_unref. Unary handlers borrow the call for the
 * handler's duration. Client side: gw_rpc_client_stream returns one
 * reference owned by the caller, dropped with gw_rpc_call_unref (which
 * cancels the stream if it is still open); the callbacks' arg must stay
 * valid until the close callback has run, which happens even after unref.
 * A call object outlives its server or client safely (send returns -1).
 * Everything grpc owns is released when the call ends, whoever still holds
 * our object.
 *
 * Not supported (grpc's limits, documented so nobody tries): fork() after
 * grpc has started in the process (fork first, or exec); destroying a
 * client while another thread still makes calls on it.
 *
 * Reconnecting streams (an edge's link to its hub): a stream reports its
 * end through the close callback; the caller opens a new one after
 * gw_rpc_backoff_next() milliseconds and resets the backoff once the new
 * stream has delivered a message.
 */
#ifndef GW_RPC_H
#define GW_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* Status codes: the values are gRPC's wire codes. */
typedef enum gw_rpc_status {
    GW_RPC_OK = 0,
    GW_RPC_CANCELLED = 1,
    GW_RPC_UNKNOWN = 2,
    GW_RPC_INVALID_ARGUMENT = 3,
    GW_RPC_DEADLINE_EXCEEDED = 4,
    GW_RPC_NOT_FOUND = 5,
    GW_RPC_ALREADY_EXISTS = 6,
    GW_RPC_PERMISSION_DENIED = 7,
    GW_RPC_RESOURCE_EXHAUSTED = 8,
    GW_RPC_FAILED_PRECONDITION = 9,
    GW_RPC_ABORTED = 10,
    GW_RPC_OUT_OF_RANGE = 11,
    GW_RPC_UNIMPLEMENTED = 12,
    GW_RPC_INTERNAL = 13,
    GW_RPC_UNAVAILABLE = 14,
    GW_RPC_DATA_LOSS = 15,
    GW_RPC_UNAUTHENTICATED = 16
} gw_rpc_status;

/* "OK", "CANCELLED", ... ("UNKNOWN" for a value outside the enum). */
const char *gw_rpc_status_name(gw_rpc_status status);

/* Keeps grpc initialized until the matching gw_rpc_shutdown (optional:
 * servers and clients hold their own reference). */
void gw_rpc_init(void);
void gw_rpc_shutdown(void);

/* Defaults of the options below (a 0 in an option means the default). */
#define GW_RPC_DEFAULT_MAX_MESSAGE (4u * 1024 * 1024)
#define GW_RPC_DEFAULT_WORKERS 4
#define GW_RPC_DEFAULT_MAX_STREAMS 4096
#define GW_RPC_DEFAULT_MAX_QUEUE 1024
#define GW_RPC_DEFAULT_SEND_QUEUE 256
#define GW_RPC_DEFAULT_TIMEOUT_MS 100
#define GW_RPC_DEFAULT_RECONNECT_MAX_MS 5000
/* A client keepalive below this is raised to it (the server refuses more
 * frequent pings). */
#define GW_RPC_MIN_KEEPALIVE_MS 10000

/* One metadata entry. Keys are lower-case ASCII; values given to a client
 * call are NUL-terminated; values shown to the server's auth callback are
 * NUL-terminated copies (binary "-bin" values may contain NULs: use len). */
typedef struct gw_rpc_md {
    const char *key;
    const char *value;
    size_t len;
} gw_rpc_md;

/* The value of key (case-insensitive), or NULL. */
const char *gw_rpc_md_get(const gw_rpc_md *md, size_t n, const char *key);
/* The token of "authorization: Bearer <token>" (scheme case-insensitive),
 * or NULL when absent or of another scheme. */
const char *gw_rpc_md_bearer(const gw_rpc_md *md, size_t n);

/*
 * A unary answer: a server handler fills it, a client call receives it.
 * data is malloc'd and owned by the reply (gw_rpc_reply_clear frees it).
 * status GW_RPC_OK carries data (possibly empty); any other status carries
 * message and no data.
 */
typedef struct gw_rpc_reply {
    gw_rpc_status status;
    char message[GW_ERR_LEN];
    unsigned char *data;
    size_t len;
} gw_rpc_reply;

/* A buffer of len bytes owned by reply, to pack into; NULL when out of
 * memory (reply then says RESOURCE_EXHAUSTED). */
unsigned char *gw_rpc_reply_alloc(gw_rpc_reply *reply, size_t len);
/* Copies data into reply; 0 or -1 (out of memory, as above). */
int gw_rpc_reply_set(gw_rpc_reply *reply, const void *data, size_t len);
/* Sets an error status and message, dropping any data. */
void gw_rpc_reply_fail(gw_rpc_reply *reply, gw_rpc_status status, const char *fmt, ...) GW_PRINTF(3, 4);
void gw_rpc_reply_clear(gw_rpc_reply *reply);

/* A call: server side (unary or stream) or client stream. */
typedef struct gw_rpc_call gw_rpc_call;

/*
 * Queues one message on a stream (either side, any thread). -1 when the
 * call has ended or is finishing, is unary, the message is over the
 * maximum size, or the send queue is full.
 */
int gw_rpc_call_send(gw_rpc_call *call, const void *data, size_t len, char err[GW_ERR_LEN]);
/* Server stream: ends the call with status (and message, may be NULL) once
 * the queued messages are sent. -1 when already finished or ended. */
int gw_rpc_call_finish(gw_rpc_call *call, gw_rpc_status status, const char *message, char err[GW_ERR_LEN]);
/* Client stream: half-closes (no more messages from us) once the queued
 * messages are sent; the server may go on sending. */
int gw_rpc_call_close_send(gw_rpc_call *call, char err[GW_ERR_LEN]);
/* Cancels the call (either side, any thread, idempotent): the peer sees
 * CANCELLED. */
void gw_rpc_call_cancel(gw_rpc_call *call);
/* 1 once the call has ended (finished, cancelled, deadline passed, peer
 * gone); a long handler may poll it. */
int gw_rpc_call_done(gw_rpc_call *call);
void gw_rpc_call_ref(gw_rpc_call *call);
void gw_rpc_call_unref(gw_rpc_call *call);

/* Server side: the full method name, the auth context, the peer
 * ("ipv4:127.0.0.1:5555", "unix:..."), the time left before the client's
 * deadline in ms (-1: none), a pointer of the handler's own. */
const char *gw_rpc_call_method(const gw_rpc_call *call);
void *gw_rpc_call_auth(const gw_rpc_call *call);
const char *gw_rpc_call_peer(const gw_rpc_call *call);
int64_t gw_rpc_call_deadline_ms(const gw_rpc_call *call);
void gw_rpc_call_set_user(gw_rpc_call *call, void *user);
void *gw_rpc_call_user(const gw_rpc_call *call);

/* ---- server ---- */

typedef struct gw_rpc_server gw_rpc_server;

typedef enum gw_rpc_kind {
    GW_RPC_UNARY = 0,         /* one request, one reply */
    GW_RPC_SERVER_STREAM = 1, /* one request, a stream of replies */
    GW_RPC_BIDI = 2           /* streams both ways (client streaming too) */
} gw_rpc_kind;

/*
 * A method. All callbacks run on the server's workers and get arg.
 *   unary:   fills reply (status OK by default, data empty).
 *   open:    a stream was accepted; req is the request of a server stream
 *            (NULL, 0 for bidi). Send with gw_rpc_call_send, end with
 *            gw_rpc_call_finish, now or later from any thread.
 *   message: bidi only: one client message; data NULL when the client has
 *            half-closed (no more messages come; the call goes on until
 *            finished).
 *   close:   the stream ended (exactly once after open), with the final
 *            status; the server's reference is dropped when it returns.
 */
typedef struct gw_rpc_method {
    const char *name; /* "/aistudio.v1.Sync/Register" */
    gw_rpc_kind kind;
    void (*unary)(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg);
    void (*open)(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg);
    void (*message)(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg);
    void (*close)(gw_rpc_call *call, gw_rpc_status status, void *arg);
    void *arg;
} gw_rpc_method;

/* The auth callback: GW_RPC_OK lets the call through (*ctx is kept for the
 * handlers); any other status denies it with msg. */
typedef gw_rpc_status (*gw_rpc_auth_fn)(gw_rpc_call *call, const gw_rpc_md *md, size_t n, void **ctx,
                                        char msg[GW_ERR_LEN], void *arg);

typedef struct gw_rpc_server_opts {
    const char *listen;        /* "host:port" (port 0: any free one) or "unix:/path" */
    const char *tls_cert_file; /* PEM certificate chain; with tls_key_file, or neither (insecure) */
    const char *tls_key_file;
    size_t max_message; /* largest message either way, bytes */
    int workers;        /* handler threads */
    int max_streams;    /* live streaming calls */
    int max_queue;      /* unary calls waiting for a worker */
    int max_send_queue; /* messages queued per stream */
    gw_rpc_auth_fn auth;
    void (*auth_release)(void *ctx);
    void *auth_arg;
} gw_rpc_server_opts;

/* Creates a server (not yet listening); copies opts. */
gw_rpc_server *gw_rpc_server_create(const gw_rpc_server_opts *opts, char err[GW_ERR_LEN]);
/* Before start; copies m (name included). */
int gw_rpc_server_add_method(gw_rpc_server *srv, const gw_rpc_method *m, char err[GW_ERR_LEN]);
/* Binds and starts serving (threads started). -1 when the address cannot be
 * bound or the TLS files cannot be read. */
int gw_rpc_server_start(gw_rpc_server *srv, char err[GW_ERR_LEN]);
/* The bound TCP port (after start; 0 for a unix socket). */
int gw_rpc_server_port(const gw_rpc_server *srv);
/* Live streams (admission counter), for metrics and tests. */
int gw_rpc_server_streams(gw_rpc_server *srv);
/* Graceful stop, see above; idempotent. */
void gw_rpc_server_stop(gw_rpc_server *srv, int grace_ms);
/* Stops (grace 0) if needed and frees. */
void gw_rpc_server_destroy(gw_rpc_server *srv);

/* ---- client ---- */

typedef struct gw_rpc_client gw_rpc_client;

typedef struct gw_rpc_client_opts {
    const char *target;          /* "host:port" or "unix:/path" */
    int tls;                     /* 1: TLS, verified against tls_ca_file (or the system's roots) */
    const char *tls_ca_file;     /* PEM CA bundle */
    const char *tls_server_name; /* name expected in the certificate, when not the target's host */
    size_t max_message;
    int timeout_ms;       /* default unary deadline */
    int reconnect_max_ms; /* cap of grpc's reconnect backoff */
    int keepalive_ms;     /* 0: off; else pings on idle connections (>= GW_RPC_MIN_KEEPALIVE_MS) */
    int max_send_queue;
} gw_rpc_client_opts;

gw_rpc_client *gw_rpc_client_create(const gw_rpc_client_opts *opts, char err[GW_ERR_LEN]);
/* Cancels the client's open streams, waits for their close callbacks, joins
 * the event thread. Not from a callback of the same client. */
void gw_rpc_client_destroy(gw_rpc_client *cli);

/*
 * A blocking unary call: timeout_ms <= 0 uses opts.timeout_ms. Returns 0
 * when the status is OK (reply->data, reply->len hold the answer), -1
 * otherwise (reply->status, reply->message say why). The caller clears
 * reply.
 */
int gw_rpc_client_unary(gw_rpc_client *cli, const char *method, const gw_rpc_md *md, size_t nmd, const void *req,
                        size_t len, int timeout_ms, gw_rpc_reply *reply);

/* Callbacks of a client stream, on the client's event thread. message gets
 * each server message; close runs once, last, with the final status. */
typedef struct gw_rpc_stream_cbs {
    void (*message)(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg);
    void (*close)(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg);
    void *arg;
} gw_rpc_stream_cbs;

/*
 * Opens a stream (bidi, or server-streaming: send one message then
 * close_send). timeout_ms 0: no deadline (a long-lived stream). Returns the
 * call (one reference for the caller) or NULL with err; a server that is
 * down is not an error here: the close callback reports UNAVAILABLE.
 */
gw_rpc_call *gw_rpc_client_stream(gw_rpc_client *cli, const char *method, const gw_rpc_md *md, size_t nmd,
                                  int timeout_ms, const gw_rpc_stream_cbs *cbs, char err[GW_ERR_LEN]);

/* ---- reconnect backoff ---- */

/* Exponential backoff with jitter, for reopening a stream. */
typedef struct gw_rpc_backoff {
    int min_ms;
    int max_ms;
    int cur_ms; /* 0 before the first wait */
    uint32_t seed;
} gw_rpc_backoff;

void gw_rpc_backoff_init(gw_rpc_backoff *b, int min_ms, int max_ms);
/* The next wait: doubles from min_ms up to max_ms, randomized to 50..100%. */
int gw_rpc_backoff_next(gw_rpc_backoff *b);
void gw_rpc_backoff_reset(gw_rpc_backoff *b);

#endif
