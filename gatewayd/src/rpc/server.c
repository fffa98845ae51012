/*
 * src/rpc/server.c: the gRPC server (rpc.h tells the contract).
 *
 * Threads. The queue thread (server_main) is the only caller of
 * grpc_completion_queue_next on the server's queue: it admits arriving
 * calls (method known, max_streams, max_queue), starts their
 * RECV_CLOSE_ON_SERVER, and moves completed batches along; it never runs
 * user code. User callbacks run on the pool through each call's strand:
 * c->jobs holds the pending jobs (OPEN: auth then the unary handler or the
 * stream's open; MSG: one received message; CLOSE: the close callback),
 * run one at a time in that order; c->scheduled says the call sits in the
 * pool (holding one internal reference). The next RECV_MESSAGE is started
 * when the MSG job is done, so one stream never has two messages in
 * flight. CLOSE is scheduled once the call is closed, was opened, and no
 * receive is outstanding or being handled.
 *
 * Requests. Each method keeps GW_RPC_REQ_PER_METHOD requested calls
 * outstanding (plus one for unknown methods); a slot is requested again as
 * soon as its call has arrived, until stop. Slots live in srv->reqs and are
 * freed after the queue is drained.
 *
 * Locking. srv->mu guards the counters (live calls, live streams), the
 * stopping and shutdown flags; srv->cv signals the end of calls and of
 * grpc's shutdown to gw_rpc_server_stop. Order: srv->mu before c->mu.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

#define GW_RPC_REQ_PER_METHOD 8
#define GW_RPC_MAX_METHODS 64
/* Clients' keepalive pings are accepted down to this interval. */
#define GW_RPC_SERVER_MIN_PING_MS (GW_RPC_MIN_KEEPALIVE_MS / 2)

typedef struct gw_rpc_req {
    gw_rpc_tag tag;
    struct gw_rpc_server *srv;
    gw_rpc_srv_method *method; /* NULL: the slot for unknown methods */
    grpc_call *gc;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details;
} gw_rpc_req;

struct gw_rpc_server {
    gw_rpc_server_opts opts;
    char *listen, *cert_file, *key_file;
    gw_rpc_srv_method methods[GW_RPC_MAX_METHODS];
    int n_methods;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n_calls, n_streams;
    int started, shutdown_done, stopped;
    atomic_int stopping;
    int port;

    grpc_server *server;
    grpc_completion_queue *cq;
    gw_rpc_pool *pool;
    pthread_t thread;
    int thread_started;
    gw_rpc_req *reqs;
    int n_reqs;
    gw_rpc_tag shutdown_tag;
};

static void request_again(gw_rpc_req *r);

/* ---- strand ---- */

static void strand_run(gw_rpc_task *t);

static void strand_add_locked(gw_rpc_call *c, unsigned job)
{
    c->jobs |= job;
    if (!c->scheduled) {
        c->scheduled = 1;
        c->internal++;
        gw_rpc_pool_push(c->srv->pool, &c->task);
    }
}

static void maybe_close_locked(gw_rpc_call *c)
{
    if (c->streaming && c->opened && c->closed && !c->recv_busy && !c->close_queued) {
        c->close_queued = 1;
        strand_add_locked(c, GW_JOB_CLOSE);
    }
}

static void srv_recv_locked(gw_rpc_call *c)
{
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv_bb;
    c->recv_busy = gw_rpc_call_batch_locked(c, GW_TAG_RECV, &op, 1) == GRPC_CALL_OK;
    if (!c->recv_busy && c->gc != NULL)
        grpc_call_cancel(c->gc, NULL);
}

/* Ends a call that never opened a stream: initial metadata, the reply of a
 * unary call when bb is set, the status (c->mu held). */
static void final_locked(gw_rpc_call *c, gw_rpc_status status, const char *msg, grpc_byte_buffer *bb)
{
    grpc_op ops[3];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (bb != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = bb;
        c->send_bb = bb; /* destroyed with the call */
    }
    c->finish_code = status;
    grpc_slice_unref(c->finish_details);
    c->finish_details = grpc_slice_from_copied_string(msg != NULL ? msg : "");
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)status;
    ops[n++].data.send_status_from_server.status_details = &c->finish_details;
    c->finish_state = 2;
    if (gw_rpc_call_batch_locked(c, GW_TAG_FINAL, ops, n) != GRPC_CALL_OK && c->gc != NULL)
        grpc_call_cancel(c->gc, NULL);
}

static void job_open(gw_rpc_call *c)
{
    gw_rpc_server *srv = c->srv;
    const gw_rpc_method *m = &c->method->m;
    pthread_mutex_lock(&c->mu);
    int skip = c->closed || c->gc == NULL;
    grpc_byte_buffer *payload = c->payload;
    c->payload = NULL;
    char *peer = skip ? NULL : grpc_call_get_peer(c->gc);
    pthread_mutex_unlock(&c->mu);
    if (skip) { /* cancelled or past its deadline while it waited */
        if (payload != NULL)
            grpc_byte_buffer_destroy(payload);
        return;
    }
    c->peer = peer != NULL ? strdup(peer) : NULL;
    gpr_free(peer);

    gw_rpc_status st = GW_RPC_OK;
    char msg[GW_ERR_LEN] = "";
    if (srv->opts.auth != NULL) {
        gw_rpc_md *md = NULL;
        size_t nmd = 0;
        void *ctx = NULL;
        if (gw_rpc_md_from_grpc(&c->req_md, &md, &nmd) != 0) {
            st = GW_RPC_RESOURCE_EXHAUSTED;
            snprintf(msg, sizeof(msg), "out of memory");
        } else {
            st = srv->opts.auth(c, md, nmd, &ctx, msg, srv->opts.auth_arg);
            free(md);
        }
        c->auth_ctx = ctx;
        c->auth_release = srv->opts.auth_release;
        if (st != GW_RPC_OK && msg[0] == '\0')
            snprintf(msg, sizeof(msg), "%s", st == GW_RPC_UNAUTHENTICATED ? "invalid credentials" : "denied");
    }
    grpc_slice req = grpc_empty_slice();
    if (st == GW_RPC_OK && m->kind != GW_RPC_BIDI) {
        if (payload == NULL) {
            st = GW_RPC_INVALID_ARGUMENT;
            snprintf(msg, sizeof(msg), "the request message is missing");
        } else if (gw_rpc_bb_read(payload, &req) != 0) {
            st = GW_RPC_INTERNAL;
            snprintf(msg, sizeof(msg), "the request message cannot be decoded");
        }
    }
    if (payload != NULL)
        grpc_byte_buffer_destroy(payload);
    if (st != GW_RPC_OK) {
        pthread_mutex_lock(&c->mu);
        final_locked(c, st, msg, NULL);
        pthread_mutex_unlock(&c->mu);
        grpc_slice_unref(req);
        return;
    }

    if (m->kind == GW_RPC_UNARY) {
        gw_rpc_reply reply;
        memset(&reply, 0, sizeof(reply));
        m->unary(c, GRPC_SLICE_START_PTR(req), GRPC_SLICE_LENGTH(req), &reply, m->arg);
        grpc_slice_unref(req);
        grpc_byte_buffer *bb = NULL;
        if (reply.status == GW_RPC_OK && reply.len > c->max_message)
            gw_rpc_reply_fail(&reply, GW_RPC_RESOURCE_EXHAUSTED, "reply of %zu bytes exceeds the limit of %zu bytes",
                              reply.len, c->max_message);
        if (reply.status == GW_RPC_OK && (bb = gw_rpc_bb_new(reply.data, reply.len)) == NULL)
            gw_rpc_reply_fail(&reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        pthread_mutex_lock(&c->mu);
        final_locked(c, reply.status, reply.status == GW_RPC_OK ? "" : reply.message, bb);
        pthread_mutex_unlock(&c->mu);
        gw_rpc_reply_clear(&reply);
        return;
    }

    /* a stream: initial metadata now (the client learns it is accepted) */
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_SEND_INITIAL_METADATA;
    pthread_mutex_lock(&c->mu);
    if (gw_rpc_call_batch_locked(c, GW_TAG_START, &op, 1) != GRPC_CALL_OK && c->gc != NULL)
        grpc_call_cancel(c->gc, NULL);
    if (m->kind == GW_RPC_BIDI && !c->closed && c->gc != NULL)
        srv_recv_locked(c);
    c->opened = 1;
    c->users++; /* the server's reference, until close has run */
    pthread_mutex_unlock(&c->mu);
    if (m->open != NULL)
        m->open(c, m->kind == GW_RPC_BIDI ? NULL : GRPC_SLICE_START_PTR(req),
                m->kind == GW_RPC_BIDI ? 0 : GRPC_SLICE_LENGTH(req), m->arg);
    grpc_slice_unref(req);
    pthread_mutex_lock(&c->mu);
    maybe_close_locked(c);
    pthread_mutex_unlock(&c->mu);
}

static void job_msg(gw_rpc_call *c)
{
    const gw_rpc_method *m = &c->method->m;
    pthread_mutex_lock(&c->mu);
    grpc_byte_buffer *bb = c->recv_bb;
    c->recv_bb = NULL;
    pthread_mutex_unlock(&c->mu);
    if (bb != NULL) {
        grpc_slice s;
        if (gw_rpc_bb_read(bb, &s) != 0) {
            gw_rpc_call_cancel(c);
        } else {
            if (m->message != NULL)
                m->message(c, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), m->arg);
            grpc_slice_unref(s);
        }
        grpc_byte_buffer_destroy(bb);
    } else if (m->message != NULL) {
        m->message(c, NULL, 0, m->arg); /* the client half-closed */
    }
    pthread_mutex_lock(&c->mu);
    c->recv_busy = 0;
    if (bb != NULL && !c->closed && c->gc != NULL)
        srv_recv_locked(c);
    maybe_close_locked(c);
    pthread_mutex_unlock(&c->mu);
}

static void strand_run(gw_rpc_task *t)
{
    gw_rpc_call *c = (gw_rpc_call *)((char *)t - offsetof(gw_rpc_call, task));
    pthread_mutex_lock(&c->mu);
    unsigned job = (c->jobs & GW_JOB_OPEN) ? GW_JOB_OPEN : (c->jobs & GW_JOB_MSG) ? GW_JOB_MSG : c->jobs;
    c->jobs &= ~job;
    gw_rpc_status status = c->status;
    pthread_mutex_unlock(&c->mu);

    if (job == GW_JOB_OPEN) {
        job_open(c);
    } else if (job == GW_JOB_MSG) {
        job_msg(c);
    } else if (job == GW_JOB_CLOSE) {
        if (c->method->m.close != NULL)
            c->method->m.close(c, status, c->method->m.arg);
        gw_rpc_call_unref(c); /* the server's reference */
    }

    pthread_mutex_lock(&c->mu);
    int again = c->jobs != 0;
    if (!again)
        c->scheduled = 0;
    else /* to the back of the queue: other calls get their turn */
        gw_rpc_pool_push(c->srv->pool, &c->task);
    pthread_mutex_unlock(&c->mu);
    if (!again)
        gw_rpc_call_drop(c);
}

/* ---- the queue thread ---- */

static void call_ended(gw_rpc_call *c)
{
    gw_rpc_server *srv = c->srv;
    pthread_mutex_lock(&srv->mu);
    srv->n_calls--;
    if (c->counted_stream)
        srv->n_streams--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

static void call_arrived(gw_rpc_req *r)
{
    gw_rpc_server *srv = r->srv;
    gw_rpc_srv_method *sm = r->method;
    int streaming = sm != NULL && sm->m.kind != GW_RPC_UNARY;
    gw_rpc_call *c = gw_rpc_call_new(GW_RPC_SIDE_SERVER, r->gc, srv->opts.max_send_queue, srv->opts.max_message);
    if (c == NULL) {
        grpc_call_cancel_with_status(r->gc, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        grpc_call_unref(r->gc);
        r->gc = NULL;
        return;
    }
    r->gc = NULL;
    c->srv = srv;
    c->method = sm;
    c->streaming = streaming;
    c->deadline = sm != NULL ? r->deadline : r->details.deadline;
    c->method_name = sm != NULL ? strdup(sm->name) : gw_rpc_slice_strdup(r->details.method);
    c->req_md = r->md; /* moved */
    grpc_metadata_array_init(&r->md);
    c->payload = r->payload;
    r->payload = NULL;
    c->ended = call_ended;
    c->task.run = strand_run;
    if (sm == NULL) {
        grpc_call_details_destroy(&r->details);
        grpc_call_details_init(&r->details);
    }

    /* admission */
    gw_rpc_status refuse = GW_RPC_OK;
    const char *why = NULL;
    pthread_mutex_lock(&srv->mu);
    srv->n_calls++;
    if (sm == NULL) {
        refuse = GW_RPC_UNIMPLEMENTED;
        why = "unknown method";
    } else if (streaming && srv->n_streams >= srv->opts.max_streams) {
        refuse = GW_RPC_RESOURCE_EXHAUSTED;
        why = "too many streams";
    } else if (!streaming && gw_rpc_pool_queued(srv->pool) >= (size_t)srv->opts.max_queue) {
        refuse = GW_RPC_RESOURCE_EXHAUSTED;
        why = "too many calls waiting";
    } else if (streaming) {
        srv->n_streams++;
        c->counted_stream = 1;
    }
    pthread_mutex_unlock(&srv->mu);

    gw_rpc_call_hold(c); /* while we set it up */
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->recv_cancelled;
    pthread_mutex_lock(&c->mu);
    if (gw_rpc_call_batch_locked(c, GW_TAG_CLOSE, &op, 1) != GRPC_CALL_OK) {
        grpc_call_cancel(c->gc, NULL);
        gw_rpc_call_mark_closed_locked(c, GW_RPC_INTERNAL);
    } else if (refuse != GW_RPC_OK) {
        if (refuse != GW_RPC_UNIMPLEMENTED)
            gw_log_warn("rpc: %s refused: %s", c->method_name ? c->method_name : "?", why);
        char msg[GW_ERR_LEN];
        snprintf(msg, sizeof(msg), "%s %s", why, c->method_name ? c->method_name : "");
        final_locked(c, refuse, msg, NULL);
    } else {
        strand_add_locked(c, GW_JOB_OPEN);
    }
    pthread_mutex_unlock(&c->mu);
    gw_rpc_call_drop(c);
}

static void call_event(gw_rpc_call *c, gw_rpc_tag_kind kind, int ok)
{
    pthread_mutex_lock(&c->mu);
    switch (kind) {
    case GW_TAG_CLOSE: {
        gw_rpc_status st;
        if (!c->recv_cancelled)
            st = c->finish_state == 2 ? c->finish_code : GW_RPC_OK;
        else if (gw_rpc_call_deadline_ms(c) == 0)
            st = GW_RPC_DEADLINE_EXCEEDED;
        else
            st = atomic_load(&c->srv->stopping) ? GW_RPC_UNAVAILABLE : GW_RPC_CANCELLED;
        gw_rpc_call_mark_closed_locked(c, st);
        maybe_close_locked(c);
        break;
    }
    case GW_TAG_RECV:
        if (ok && c->recv_bb != NULL) {
            strand_add_locked(c, GW_JOB_MSG);
        } else if (ok && !c->closed && !c->recv_eof) {
            c->recv_eof = 1; /* half-close: tell the handler */
            strand_add_locked(c, GW_JOB_MSG);
        } else {
            c->recv_busy = 0;
            maybe_close_locked(c);
        }
        break;
    case GW_TAG_SEND:
    case GW_TAG_FINAL:
        gw_rpc_call_send_done_locked(c, kind, ok);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&c->mu);
    gw_rpc_call_drop(c);
}

static void *server_main(void *arg)
{
    gw_rpc_server *srv = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        gw_rpc_tag *t = ev.tag;
        if (t->kind == GW_TAG_REQUEST) {
            gw_rpc_req *r = t->owner;
            if (ev.success && r->gc != NULL)
                call_arrived(r);
            if (ev.success && !atomic_load(&srv->stopping))
                request_again(r);
        } else if (t->kind == GW_TAG_SHUTDOWN) {
            pthread_mutex_lock(&srv->mu);
            srv->shutdown_done = 1;
            pthread_cond_broadcast(&srv->cv);
            pthread_mutex_unlock(&srv->mu);
        } else {
            call_event(t->owner, t->kind, ev.success);
        }
    }
    return NULL;
}

static void request_again(gw_rpc_req *r)
{
    gw_rpc_server *srv = r->srv;
    grpc_call_error e;
    r->gc = NULL;
    if (r->method != NULL)
        e = grpc_server_request_registered_call(srv->server, r->method->handle, &r->gc, &r->deadline, &r->md,
                                                r->method->m.kind == GW_RPC_BIDI ? NULL : &r->payload, srv->cq, srv->cq,
                                                &r->tag);
    else
        e = grpc_server_request_call(srv->server, &r->gc, &r->details, &r->md, srv->cq, srv->cq, &r->tag);
    if (e != GRPC_CALL_OK && !atomic_load(&srv->stopping))
        gw_log_error("rpc: cannot request calls: %s", grpc_call_error_to_string(e));
}

/* ---- public ---- */

gw_rpc_server *gw_rpc_server_create(const gw_rpc_server_opts *opts, char err[GW_ERR_LEN])
{
    if (opts == NULL || opts->listen == NULL || opts->listen[0] == '\0') {
        gw_errf(err, "a listen address is required");
        return NULL;
    }
    if ((opts->tls_cert_file == NULL) != (opts->tls_key_file == NULL)) {
        gw_errf(err, "TLS needs both a certificate file and a key file");
        return NULL;
    }
    if (opts->workers < 0 || opts->workers > 1024 || opts->max_streams < 0 || opts->max_queue < 0 ||
        opts->max_send_queue < 0 || opts->max_message > (size_t)INT32_MAX) {
        gw_errf(err, "server options out of range");
        return NULL;
    }
    gw_rpc_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    srv->opts = *opts;
    srv->listen = strdup(opts->listen);
    srv->cert_file = opts->tls_cert_file ? strdup(opts->tls_cert_file) : NULL;
    srv->key_file = opts->tls_key_file ? strdup(opts->tls_key_file) : NULL;
    srv->opts.listen = srv->listen;
    srv->opts.tls_cert_file = srv->cert_file;
    srv->opts.tls_key_file = srv->key_file;
    if (srv->opts.max_message == 0)
        srv->opts.max_message = GW_RPC_DEFAULT_MAX_MESSAGE;
    if (srv->opts.workers == 0)
        srv->opts.workers = GW_RPC_DEFAULT_WORKERS;
    if (srv->opts.max_streams == 0)
        srv->opts.max_streams = GW_RPC_DEFAULT_MAX_STREAMS;
    if (srv->opts.max_queue == 0)
        srv->opts.max_queue = GW_RPC_DEFAULT_MAX_QUEUE;
    if (srv->opts.max_send_queue == 0)
        srv->opts.max_send_queue = GW_RPC_DEFAULT_SEND_QUEUE;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cv, &ca);
    pthread_condattr_destroy(&ca);
    srv->shutdown_tag.kind = GW_TAG_SHUTDOWN;
    srv->shutdown_tag.owner = srv;
    gw_rpc_lib_acquire();
    return srv;
}

int gw_rpc_server_add_method(gw_rpc_server *srv, const gw_rpc_method *m, char err[GW_ERR_LEN])
{
    if (srv->started)
        return gw_errf(err, "methods are added before the server starts");
    if (m == NULL || m->name == NULL || m->name[0] != '/' || strchr(m->name + 1, '/') == NULL)
        return gw_errf(err, "a method name looks like /package.Service/Method");
    if (m->kind == GW_RPC_UNARY ? m->unary == NULL : m->open == NULL)
        return gw_errf(err, "method %s lacks its handler", m->name);
    if (m->kind == GW_RPC_BIDI && m->message == NULL)
        return gw_errf(err, "bidi method %s lacks its message callback", m->name);
    if (m->kind != GW_RPC_UNARY && m->kind != GW_RPC_SERVER_STREAM && m->kind != GW_RPC_BIDI)
        return gw_errf(err, "method %s has an unknown kind", m->name);
    for (int i = 0; i < srv->n_methods; i++)
        if (strcmp(srv->methods[i].name, m->name) == 0)
            return gw_errf(err, "method %s is registered twice", m->name);
    if (srv->n_methods == GW_RPC_MAX_METHODS)
        return gw_errf(err, "more than %d methods", GW_RPC_MAX_METHODS);
    gw_rpc_srv_method *sm = &srv->methods[srv->n_methods];
    if ((sm->name = strdup(m->name)) == NULL)
        return gw_errf(err, "out of memory");
    sm->m = *m;
    sm->m.name = sm->name;
    srv->n_methods++;
    return 0;
}

static grpc_server_credentials *server_creds(gw_rpc_server *srv, char err[GW_ERR_LEN])
{
    if (srv->cert_file == NULL)
        return grpc_insecure_server_credentials_create();
    char *cert = gw_rpc_read_file("TLS certificate", srv->cert_file, err);
    char *key = cert != NULL ? gw_rpc_read_file("TLS key", srv->key_file, err) : NULL;
    grpc_server_credentials *creds = NULL;
    if (key != NULL) {
        grpc_ssl_pem_key_cert_pair pair = {key, cert};
        creds = grpc_ssl_server_credentials_create(NULL, &pair, 1, 0, NULL);
        if (creds == NULL)
            gw_errf(err, "grpc refused the TLS certificate or key");
    }
    if (key != NULL)
        memset(key, 0, strlen(key));
    free(key);
    free(cert);
    return creds;
}

int gw_rpc_server_start(gw_rpc_server *srv, char err[GW_ERR_LEN])
{
    if (srv->started)
        return gw_errf(err, "the server is already started");
    grpc_server_credentials *creds = server_creds(srv, err);
    if (creds == NULL)
        return -1;
    if ((srv->pool = gw_rpc_pool_create(srv->opts.workers, err)) == NULL) {
        grpc_server_credentials_release(creds);
        return -1;
    }
    srv->cq = grpc_completion_queue_create_for_next(NULL);
    int rc = pthread_create(&srv->thread, NULL, server_main, srv);
    if (rc != 0) {
        gw_errf(err, "cannot start the server thread: %s", strerror(rc));
        goto fail_cq;
    }
    srv->thread_started = 1;

    /* SO_REUSEPORT off: a second server on a port in use must fail, not
     * share the port's connections */
    const char *names[] = {GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                           GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
                           GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                           GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                           GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                           GRPC_ARG_ALLOW_REUSEPORT};
    int values[] = {(int)srv->opts.max_message, (int)srv->opts.max_message, GW_RPC_SERVER_MIN_PING_MS, 1, 5, 0};
    enum { NARGS = sizeof(values) / sizeof(values[0]) };
    grpc_arg args[NARGS];
    memset(args, 0, sizeof(args));
    for (int i = 0; i < NARGS; i++) {
        args[i].type = GRPC_ARG_INTEGER;
        args[i].key = (char *)names[i];
        args[i].value.integer = values[i];
    }
    grpc_channel_args cargs = {NARGS, args};
    srv->server = grpc_server_create(&cargs, NULL);
    grpc_server_register_completion_queue(srv->server, srv->cq, NULL);
    for (int i = 0; i < srv->n_methods; i++) {
        gw_rpc_srv_method *sm = &srv->methods[i];
        sm->handle = grpc_server_register_method(
            srv->server, sm->name, NULL,
            sm->m.kind == GW_RPC_BIDI ? GRPC_SRM_PAYLOAD_NONE : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        if (sm->handle == NULL) {
            gw_errf(err, "grpc refused method %s", sm->name);
            goto fail_server;
        }
    }
    int port = grpc_server_add_http2_port(srv->server, srv->listen, creds);
    if (port == 0) {
        gw_errf(err, "cannot listen on %s (address in use, bad address or permissions)", srv->listen);
        goto fail_server;
    }
    grpc_server_credentials_release(creds);
    creds = NULL;
    srv->port = strncmp(srv->listen, "unix:", 5) == 0 ? 0 : port;

    srv->n_reqs = srv->n_methods * GW_RPC_REQ_PER_METHOD + 1;
    srv->reqs = calloc((size_t)srv->n_reqs, sizeof(gw_rpc_req));
    if (srv->reqs == NULL) {
        gw_errf(err, "out of memory");
        goto fail_server;
    }
    grpc_server_start(srv->server);
    srv->started = 1;
    for (int i = 0; i < srv->n_reqs; i++) {
        gw_rpc_req *r = &srv->reqs[i];
        r->tag.kind = GW_TAG_REQUEST;
        r->tag.owner = r;
        r->srv = srv;
        r->method = i < srv->n_reqs - 1 ? &srv->methods[i / GW_RPC_REQ_PER_METHOD] : NULL;
        grpc_metadata_array_init(&r->md);
        grpc_call_details_init(&r->details);
        request_again(r);
    }
    return 0;

fail_server:
    /* a server that never started has no calls: destroy it directly */
    if (creds != NULL)
        grpc_server_credentials_release(creds);
    creds = NULL;
    grpc_server_destroy(srv->server);
    srv->server = NULL;
fail_cq:
    if (creds != NULL)
        grpc_server_credentials_release(creds);
    grpc_completion_queue_shutdown(srv->cq);
    if (srv->thread_started)
        pthread_join(srv->thread, NULL);
    srv->thread_started = 0;
    grpc_completion_queue_destroy(srv->cq);
    srv->cq = NULL;
    gw_rpc_pool_destroy(srv->pool);
    srv->pool = NULL;
    return -1;
}

int gw_rpc_server_port(const gw_rpc_server *srv)
{
    return srv->port;
}

int gw_rpc_server_streams(gw_rpc_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    int n = srv->n_streams;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

static int stop_done_locked(gw_rpc_server *srv)
{
    return srv->shutdown_done && srv->n_calls == 0;
}

void gw_rpc_server_stop(gw_rpc_server *srv, int grace_ms)
{
    pthread_mutex_lock(&srv->mu);
    if (!srv->started || srv->stopped) {
        pthread_mutex_unlock(&srv->mu);
        return;
    }
    if (!atomic_exchange(&srv->stopping, 1))
        grpc_server_shutdown_and_notify(srv->server, srv->cq, &srv->shutdown_tag);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = until.tv_nsec + (int64_t)(grace_ms > 0 ? grace_ms : 0) * 1000000;
    until.tv_sec += ns / 1000000000;
    until.tv_nsec = ns % 1000000000;
    while (!stop_done_locked(srv))
        if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) != 0)
            break;
    if (!stop_done_locked(srv)) {
        gw_log_info("rpc: server on %s: cancelling %d call(s) still running", srv->listen, srv->n_calls);
        grpc_server_cancel_all_calls(srv->server);
        while (!stop_done_locked(srv))
            pthread_cond_wait(&srv->cv, &srv->mu);
    }
    srv->stopped = 1;
    pthread_mutex_unlock(&srv->mu);

    /* no call left: the pool is idle, grpc's objects can go */
    gw_rpc_pool_destroy(srv->pool);
    srv->pool = NULL;
    grpc_server_destroy(srv->server);
    srv->server = NULL;
    grpc_completion_queue_shutdown(srv->cq);
    pthread_join(srv->thread, NULL);
    srv->thread_started = 0;
    grpc_completion_queue_destroy(srv->cq);
    srv->cq = NULL;
    for (int i = 0; i < srv->n_reqs; i++) {
        gw_rpc_req *r = &srv->reqs[i];
        if (r->gc != NULL) /* arrived as the queue shut down */
            grpc_call_unref(r->gc);
        if (r->payload != NULL)
            grpc_byte_buffer_destroy(r->payload);
        grpc_metadata_array_destroy(&r->md);
        grpc_call_details_destroy(&r->details);
    }
    free(srv->reqs);
    srv->reqs = NULL;
}

void gw_rpc_server_destroy(gw_rpc_server *srv)
{
    if (srv == NULL)
        return;
    gw_rpc_server_stop(srv, 0);
    for (int i = 0; i < srv->n_methods; i++)
        free(srv->methods[i].name);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv->listen);
    free(srv->cert_file);
    free(srv->key_file);
    free(srv);
    gw_rpc_lib_release();
}
