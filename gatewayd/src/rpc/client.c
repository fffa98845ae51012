/*
 * src/rpc/client.c: the gRPC client (rpc.h tells the contract): one grpc
 * channel per client (its own subchannel pool, so two clients never share a
 * connection), blocking unary calls, and streams.
 *
 * Threads. Every call shares the client's completion queue, polled by the
 * client's event thread (client_main): the event thread is grpc's only
 * poller, so a unary caller just sleeps on its own condition variable
 * until the event thread hands it the completion (one wake-up per call;
 * a queue per call made each caller a poller, and grpc's hand-offs between
 * pollers cost tens of wake-ups per call under concurrency). A unary call
 * made on the event thread itself (from a stream callback) cannot wait for
 * that thread: it polls a completion queue of its own instead. The event
 * thread runs the streams' message and close callbacks. A stream keeps one
 * RECV_MESSAGE outstanding: the next is started when the message callback
 * has returned. The close callback runs once the status has arrived and no
 * receive is outstanding, so it is always last.
 *
 * Locking. cli->mu guards the list of live streams and the closing flag;
 * cli->cv tells gw_rpc_client_destroy that the last stream has ended.
 * Order: cli->mu before c->mu.
 */
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

#define GW_RPC_MAX_MD 64

struct gw_rpc_client {
    char *target;
    size_t max_message;
    int timeout_ms;
    int max_send_queue;
    grpc_channel *channel;
    grpc_completion_queue *cq;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_rpc_call *live; /* streams not yet ended */
    int n_live;
    int closing;
};

/* ---- streams: the event thread ---- */

static int close_due_locked(gw_rpc_call *c)
{
    if (c->closed && !c->recv_busy && !c->close_queued) {
        c->close_queued = 1;
        return 1;
    }
    return 0;
}

static void deliver_close(gw_rpc_call *c)
{
    if (c->cbs.close != NULL)
        c->cbs.close(c, c->status, c->status_msg != NULL ? c->status_msg : "", c->cbs.arg);
}

static void cli_recv_locked(gw_rpc_call *c)
{
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv_bb;
    c->recv_busy = gw_rpc_call_batch_locked(c, GW_TAG_RECV, &op, 1) == GRPC_CALL_OK;
    if (!c->recv_busy && c->gc != NULL)
        grpc_call_cancel(c->gc, NULL);
}

static void stream_event(gw_rpc_call *c, gw_rpc_tag_kind kind, int ok)
{
    int close_now = 0;
    pthread_mutex_lock(&c->mu);
    switch (kind) {
    case GW_TAG_CLOSE:
        free(c->status_msg);
        c->status_msg = gw_rpc_slice_strdup(c->recv_details);
        gw_rpc_call_mark_closed_locked(c, gw_rpc_status_from_grpc(c->recv_status));
        close_now = close_due_locked(c);
        break;
    case GW_TAG_RECV: {
        grpc_byte_buffer *bb = c->recv_bb;
        c->recv_bb = NULL;
        if (!ok && bb != NULL) {
            grpc_byte_buffer_destroy(bb);
            bb = NULL;
        }
        if (bb == NULL) { /* the server has finished sending, or the call ended */
            c->recv_busy = 0;
            close_now = close_due_locked(c);
            break;
        }
        pthread_mutex_unlock(&c->mu);
        grpc_slice s;
        if (gw_rpc_bb_read(bb, &s) != 0) {
            gw_rpc_call_cancel(c);
        } else {
            if (c->cbs.message != NULL)
                c->cbs.message(c, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), c->cbs.arg);
            grpc_slice_unref(s);
        }
        grpc_byte_buffer_destroy(bb);
        pthread_mutex_lock(&c->mu);
        if (!c->closed && c->gc != NULL) {
            cli_recv_locked(c);
        } else {
            c->recv_busy = 0;
        }
        close_now = close_due_locked(c);
        break;
    }
    case GW_TAG_START:
        /* the metadata we sent is no longer needed */
        for (size_t i = 0; i < c->n_send_md; i++) {
            grpc_slice_unref(c->send_md[i].key);
            grpc_slice_unref(c->send_md[i].value);
        }
        c->n_send_md = 0;
        break;
    case GW_TAG_SEND:
    case GW_TAG_FINAL:
        gw_rpc_call_send_done_locked(c, kind, ok);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&c->mu);
    if (close_now)
        deliver_close(c);
    gw_rpc_call_drop(c);
}

/* A unary caller waiting for the event thread (on the caller's stack). */
typedef struct unary_wait {
    gw_rpc_tag tag; /* GW_TAG_UNARY, owner = this */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} unary_wait;

static void unary_done(unary_wait *w)
{
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void *client_main(void *arg)
{
    gw_rpc_client *cli = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cli->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        gw_rpc_tag *t = ev.tag;
        if (t->kind == GW_TAG_UNARY)
            unary_done(t->owner);
        else
            stream_event(t->owner, t->kind, ev.success);
    }
    return NULL;
}

static void stream_ended(gw_rpc_call *c)
{
    gw_rpc_client *cli = c->cli;
    pthread_mutex_lock(&cli->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cli->live = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    cli->n_live--;
    pthread_cond_broadcast(&cli->cv);
    pthread_mutex_unlock(&cli->mu);
}

/* ---- metadata ---- */

/* Validates md and copies it into grpc metadata (slices to unref). */
static int md_to_grpc(const gw_rpc_md *md, size_t n, grpc_metadata *out, char err[GW_ERR_LEN])
{
    if (n > GW_RPC_MAX_MD)
        return gw_errf(err, "more than %d metadata entries", GW_RPC_MAX_MD);
    for (size_t i = 0; i < n; i++) {
        if (md[i].key == NULL || md[i].value == NULL)
            return gw_errf(err, "metadata entry %zu lacks a key or a value", i);
        size_t vl = md[i].len > 0 ? md[i].len : strlen(md[i].value);
        grpc_slice k = grpc_slice_from_static_string(md[i].key);
        grpc_slice v = grpc_slice_from_static_buffer(md[i].value, vl);
        size_t kl = strlen(md[i].key);
        int binary = kl > 4 && strcmp(md[i].key + kl - 4, "-bin") == 0;
        if (!grpc_header_key_is_legal(k) || strncmp(md[i].key, "grpc-", 5) == 0 || md[i].key[0] == ':')
            return gw_errf(err, "metadata key '%s' is not allowed (lower-case letters, digits, '-', '_', '.')",
                           md[i].key);
        if (!binary && !grpc_header_nonbin_value_is_legal(v))
            return gw_errf(err, "the value of metadata key '%s' has characters not allowed in a header", md[i].key);
    }
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].key = grpc_slice_from_copied_string(md[i].key);
        out[i].value = grpc_slice_from_copied_buffer(md[i].value, md[i].len > 0 ? md[i].len : strlen(md[i].value));
    }
    return 0;
}

static void md_free(grpc_metadata *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        grpc_slice_unref(m[i].key);
        grpc_slice_unref(m[i].value);
    }
}

static int method_ok(const char *method, char err[GW_ERR_LEN])
{
    if (method == NULL || method[0] != '/' || strchr(method + 1, '/') == NULL)
        return gw_errf(err, "a method name looks like /package.Service/Method");
    return 0;
}

/* ---- public ---- */

gw_rpc_client *gw_rpc_client_create(const gw_rpc_client_opts *opts, char err[GW_ERR_LEN])
{
    if (opts == NULL || opts->target == NULL || opts->target[0] == '\0' || strpbrk(opts->target, " \t\r\n")) {
        gw_errf(err, "a target (host:port or unix:/path) is required");
        return NULL;
    }
    if (opts->max_message > (size_t)INT32_MAX || opts->timeout_ms < 0 || opts->reconnect_max_ms < 0 ||
        opts->keepalive_ms < 0 || opts->max_send_queue < 0) {
        gw_errf(err, "client options out of range");
        return NULL;
    }
    if (!opts->tls && (opts->tls_ca_file != NULL || opts->tls_server_name != NULL)) {
        gw_errf(err, "a TLS CA file or server name is given but TLS is off");
        return NULL;
    }
    char *ca = NULL;
    if (opts->tls && opts->tls_ca_file != NULL &&
        (ca = gw_rpc_read_file("TLS CA file", opts->tls_ca_file, err)) == NULL)
        return NULL;
    gw_rpc_client *cli = calloc(1, sizeof(*cli));
    if (cli == NULL || (cli->target = strdup(opts->target)) == NULL) {
        free(cli);
        free(ca);
        gw_errf(err, "out of memory");
        return NULL;
    }
    cli->max_message = opts->max_message > 0 ? opts->max_message : GW_RPC_DEFAULT_MAX_MESSAGE;
    cli->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : GW_RPC_DEFAULT_TIMEOUT_MS;
    cli->max_send_queue = opts->max_send_queue > 0 ? opts->max_send_queue : GW_RPC_DEFAULT_SEND_QUEUE;
    int reconnect_max = opts->reconnect_max_ms > 0 ? opts->reconnect_max_ms : GW_RPC_DEFAULT_RECONNECT_MAX_MS;
    pthread_mutex_init(&cli->mu, NULL);
    pthread_cond_init(&cli->cv, NULL);
    gw_rpc_lib_acquire();

    grpc_arg args[10];
    memset(args, 0, sizeof(args));
    size_t n = 0;
#define INT_ARG(k, v)                                                                                                  \
    do {                                                                                                               \
        args[n].type = GRPC_ARG_INTEGER;                                                                               \
        args[n].key = (char *)(k);                                                                                     \
        args[n++].value.integer = (v);                                                                                 \
    } while (0)
    INT_ARG(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)cli->max_message);
    INT_ARG(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, (int)cli->max_message);
    INT_ARG(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_max);
    INT_ARG(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, reconnect_max < 1000 ? reconnect_max : 1000);
    INT_ARG(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    if (opts->keepalive_ms > 0) {
        INT_ARG(GRPC_ARG_KEEPALIVE_TIME_MS,
                opts->keepalive_ms > GW_RPC_MIN_KEEPALIVE_MS ? opts->keepalive_ms : GW_RPC_MIN_KEEPALIVE_MS);
        INT_ARG(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, GW_RPC_MIN_KEEPALIVE_MS);
        INT_ARG(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
        INT_ARG(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    }
#undef INT_ARG
    if (opts->tls && opts->tls_server_name != NULL) {
        args[n].type = GRPC_ARG_STRING;
        args[n].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
        args[n++].value.string = (char *)opts->tls_server_name;
    }
    grpc_channel_args cargs = {n, args};
    grpc_channel_credentials *creds =
        opts->tls ? grpc_ssl_credentials_create(ca, NULL, NULL, NULL) : grpc_insecure_credentials_create();
    free(ca);
    cli->channel = grpc_channel_create(cli->target, creds, &cargs);
    grpc_channel_credentials_release(creds);
    cli->cq = grpc_completion_queue_create_for_next(NULL);
    int rc = pthread_create(&cli->thread, NULL, client_main, cli);
    if (rc != 0) {
        gw_errf(err, "cannot start the client thread: %s", strerror(rc));
        grpc_channel_destroy(cli->channel);
        grpc_completion_queue_shutdown(cli->cq);
        grpc_completion_queue_destroy(cli->cq);
        pthread_cond_destroy(&cli->cv);
        pthread_mutex_destroy(&cli->mu);
        free(cli->target);
        free(cli);
        gw_rpc_lib_release();
        return NULL;
    }
    return cli;
}

void gw_rpc_client_destroy(gw_rpc_client *cli)
{
    if (cli == NULL)
        return;
    pthread_mutex_lock(&cli->mu);
    cli->closing = 1;
    for (gw_rpc_call *c = cli->live; c != NULL; c = c->next)
        gw_rpc_call_cancel(c);
    while (cli->n_live > 0)
        pthread_cond_wait(&cli->cv, &cli->mu);
    pthread_mutex_unlock(&cli->mu);
    grpc_channel_destroy(cli->channel);
    grpc_completion_queue_shutdown(cli->cq);
    pthread_join(cli->thread, NULL);
    grpc_completion_queue_destroy(cli->cq);
    pthread_cond_destroy(&cli->cv);
    pthread_mutex_destroy(&cli->mu);
    free(cli->target);
    free(cli);
    gw_rpc_lib_release();
}

int gw_rpc_client_unary(gw_rpc_client *cli, const char *method, const gw_rpc_md *md, size_t nmd, const void *req,
                        size_t len, int timeout_ms, gw_rpc_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    grpc_metadata gmd[GW_RPC_MAX_MD];
    if (method_ok(method, reply->message) != 0 || md_to_grpc(md, nmd, gmd, reply->message) != 0) {
        reply->status = GW_RPC_INVALID_ARGUMENT;
        return -1;
    }
    if (len > cli->max_message) {
        md_free(gmd, nmd);
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "request of %zu bytes exceeds the limit of %zu bytes", len,
                          cli->max_message);
        return -1;
    }
    grpc_byte_buffer *send_bb = gw_rpc_bb_new(req, len);
    /* on the event thread: a queue of its own (see the header) */
    int own_cq = pthread_equal(pthread_self(), cli->thread);
    grpc_completion_queue *cq = own_cq ? grpc_completion_queue_create_for_next(NULL) : cli->cq;
    unary_wait w;
    w.tag.kind = GW_TAG_UNARY;
    w.tag.owner = &w;
    w.done = 0;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    grpc_call *gc =
        grpc_channel_create_call(cli->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, grpc_slice_from_static_string(method),
                                 NULL, gw_rpc_deadline(timeout_ms > 0 ? timeout_ms : cli->timeout_ms), NULL);
    grpc_metadata_array init_md, trailing_md;
    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_byte_buffer *recv_bb = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = nmd > 0 ? gmd : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    grpc_call_error e = send_bb != NULL ? grpc_call_start_batch(gc, ops, 6, &w.tag, NULL) : GRPC_CALL_ERROR;
    if (e == GRPC_CALL_OK) {
        /* the call's deadline bounds the wait */
        if (own_cq) {
            grpc_event ev;
            do
                ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
            while (ev.type != GRPC_OP_COMPLETE);
        } else {
            pthread_mutex_lock(&w.mu);
            while (!w.done)
                pthread_cond_wait(&w.cv, &w.mu);
            pthread_mutex_unlock(&w.mu);
        }
        reply->status = gw_rpc_status_from_grpc(status);
        if (reply->status != GW_RPC_OK) {
            size_t dl = GRPC_SLICE_LENGTH(details);
            if (dl >= sizeof(reply->message))
                dl = sizeof(reply->message) - 1;
            memcpy(reply->message, GRPC_SLICE_START_PTR(details), dl);
            reply->message[dl] = '\0';
        } else if (recv_bb == NULL) {
            gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "the server answered OK without a reply message");
        } else {
            grpc_slice s;
            if (gw_rpc_bb_read(recv_bb, &s) != 0)
                gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "the reply cannot be decoded");
            else {
                gw_rpc_reply_set(reply, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
                grpc_slice_unref(s);
            }
        }
    } else {
        gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "cannot start the call: %s",
                          send_bb != NULL ? grpc_call_error_to_string(e) : "out of memory");
    }
    if (recv_bb != NULL)
        grpc_byte_buffer_destroy(recv_bb);
    if (send_bb != NULL)
        grpc_byte_buffer_destroy(send_bb);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trailing_md);
    md_free(gmd, nmd);
    grpc_call_unref(gc);
    if (own_cq) {
        grpc_completion_queue_shutdown(cq);
        while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(cq);
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    if (reply->status == GW_RPC_OK)
        return 0;
    if (reply->message[0] == '\0')
        snprintf(reply->message, sizeof(reply->message), "%s", gw_rpc_status_name(reply->status));
    return -1;
}

gw_rpc_call *gw_rpc_client_stream(gw_rpc_client *cli, const char *method, const gw_rpc_md *md, size_t nmd,
                                  int timeout_ms, const gw_rpc_stream_cbs *cbs, char err[GW_ERR_LEN])
{
    if (method_ok(method, err) != 0)
        return NULL;
    if (cbs == NULL || cbs->close == NULL) {
        gw_errf(err, "a stream needs a close callback");
        return NULL;
    }
    grpc_metadata *gmd = calloc(nmd > 0 ? nmd : 1, sizeof(grpc_metadata));
    if (gmd == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    if (md_to_grpc(md, nmd, gmd, err) != 0) {
        free(gmd);
        return NULL;
    }
    pthread_mutex_lock(&cli->mu);
    if (cli->closing) {
        pthread_mutex_unlock(&cli->mu);
        md_free(gmd, nmd);
        free(gmd);
        gw_errf(err, "the client is closing");
        return NULL;
    }
    grpc_call *gc =
        grpc_channel_create_call(cli->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cli->cq,
                                 grpc_slice_from_static_string(method), NULL, gw_rpc_deadline(timeout_ms), NULL);
    gw_rpc_call *c = gw_rpc_call_new(GW_RPC_SIDE_CLIENT, gc, cli->max_send_queue, cli->max_message);
    if (c == NULL || (c->method_name = strdup(method)) == NULL) {
        pthread_mutex_unlock(&cli->mu);
        if (c != NULL) { /* never started: free it by hand */
            c->gc = NULL;
            c->closed = 1;
            gw_rpc_call_hold(c);
            gw_rpc_call_drop(c);
        }
        grpc_call_unref(gc);
        md_free(gmd, nmd);
        free(gmd);
        gw_errf(err, "out of memory");
        return NULL;
    }
    c->streaming = 1;
    c->cli = cli;
    c->cbs = *cbs;
    c->users = 1;
    c->send_md = gmd;
    c->n_send_md = nmd;
    c->ended = stream_ended;
    c->next = cli->live;
    if (cli->live != NULL)
        cli->live->prev = c;
    cli->live = c;
    cli->n_live++;
    pthread_mutex_unlock(&cli->mu);

    gw_rpc_call_hold(c); /* while we set it up */
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &c->trailing_md;
    ops[0].data.recv_status_on_client.status = &c->recv_status;
    ops[0].data.recv_status_on_client.status_details = &c->recv_details;
    pthread_mutex_lock(&c->mu);
    if (gw_rpc_call_batch_locked(c, GW_TAG_CLOSE, ops, 1) != GRPC_CALL_OK) {
        grpc_call_cancel(c->gc, NULL);
        gw_rpc_call_mark_closed_locked(c, GW_RPC_INTERNAL);
        c->close_queued = 1; /* the caller learns it from err, not from close */
        pthread_mutex_unlock(&c->mu);
        gw_rpc_call_drop(c);
        gw_rpc_call_unref(c);
        gw_errf(err, "cannot start the stream");
        return NULL;
    }
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = nmd > 0 ? c->send_md : NULL;
    ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[1].data.recv_initial_metadata.recv_initial_metadata = &c->recv_init_md;
    if (gw_rpc_call_batch_locked(c, GW_TAG_START, ops, 2) != GRPC_CALL_OK)
        grpc_call_cancel(c->gc, NULL); /* the close callback reports it */
    else
        cli_recv_locked(c);
    pthread_mutex_unlock(&c->mu);
    gw_rpc_call_drop(c);
    return c;
}
