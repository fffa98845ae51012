/*
 * src/rpc/call.c: the call object both sides share: its references and end
 * (rpc_int.h tells the rules), the per-call send queue with its single
 * outstanding SEND_MESSAGE and the final op (server status / client
 * half-close) sent once the queue is empty, cancellation, and the public
 * gw_rpc_call_* accessors.
 *
 * Threads: send, finish, close_send, cancel, ref and unref come from any
 * thread; batch completions come from the owner's queue thread. All of them
 * take c->mu; no callback runs under it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

gw_rpc_call *gw_rpc_call_new(gw_rpc_side side, grpc_call *gc, int q_max, size_t max_message)
{
    gw_rpc_call *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->gc = gc;
    c->side = side;
    c->q_max = q_max;
    c->max_message = max_message;
    c->status = GW_RPC_UNKNOWN;
    for (int k = 0; k < GW_TAG_NKINDS; k++) {
        c->tags[k].kind = (gw_rpc_tag_kind)k;
        c->tags[k].owner = c;
    }
    c->finish_details = grpc_empty_slice();
    c->recv_details = grpc_empty_slice();
    grpc_metadata_array_init(&c->req_md);
    grpc_metadata_array_init(&c->recv_init_md);
    grpc_metadata_array_init(&c->trailing_md);
    return c;
}

grpc_call_error gw_rpc_call_batch_locked(gw_rpc_call *c, gw_rpc_tag_kind kind, const grpc_op *ops, size_t n)
{
    if (c->gc == NULL)
        return GRPC_CALL_ERROR_ALREADY_FINISHED;
    grpc_call_error e = grpc_call_start_batch(c->gc, ops, n, &c->tags[kind], NULL);
    if (e == GRPC_CALL_OK)
        c->internal++;
    else if (e == GRPC_CALL_ERROR_ALREADY_FINISHED) /* it ended meanwhile: the close follows */
        gw_log_debug("rpc: %s has ended, batch not started", c->method_name ? c->method_name : "a call");
    else
        gw_log_warn("rpc: cannot start a batch on %s: %s", c->method_name ? c->method_name : "a call",
                    grpc_call_error_to_string(e));
    return e;
}

static void queue_drop_locked(gw_rpc_call *c)
{
    while (c->q_head != NULL) {
        gw_rpc_qmsg *m = c->q_head;
        c->q_head = m->next;
        grpc_byte_buffer_destroy(m->bb);
        free(m);
    }
    c->q_tail = NULL;
    c->q_len = 0;
}

void gw_rpc_call_pump_locked(gw_rpc_call *c)
{
    if (c->gc == NULL || c->closed || c->sending || c->finish_state == 2)
        return;
    grpc_op op;
    memset(&op, 0, sizeof(op));
    if (c->q_head != NULL) {
        gw_rpc_qmsg *m = c->q_head;
        c->q_head = m->next;
        if (c->q_head == NULL)
            c->q_tail = NULL;
        c->q_len--;
        c->send_bb = m->bb;
        free(m);
        op.op = GRPC_OP_SEND_MESSAGE;
        op.data.send_message.send_message = c->send_bb;
        if (gw_rpc_call_batch_locked(c, GW_TAG_SEND, &op, 1) == GRPC_CALL_OK) {
            c->sending = 1;
            return;
        }
        grpc_byte_buffer_destroy(c->send_bb);
        c->send_bb = NULL;
        queue_drop_locked(c);
        grpc_call_cancel(c->gc, NULL);
        return;
    }
    if (c->finish_state != 1)
        return;
    if (c->side == GW_RPC_SIDE_SERVER) {
        op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        op.data.send_status_from_server.status = (grpc_status_code)c->finish_code;
        op.data.send_status_from_server.status_details = &c->finish_details;
    } else {
        op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    }
    c->finish_state = 2;
    if (gw_rpc_call_batch_locked(c, GW_TAG_FINAL, &op, 1) != GRPC_CALL_OK)
        grpc_call_cancel(c->gc, NULL);
}

void gw_rpc_call_send_done_locked(gw_rpc_call *c, gw_rpc_tag_kind kind, int ok)
{
    if (kind != GW_TAG_SEND)
        return;
    grpc_byte_buffer_destroy(c->send_bb);
    c->send_bb = NULL;
    c->sending = 0;
    if (!ok)
        queue_drop_locked(c); /* the call is broken; its close follows */
    else
        gw_rpc_call_pump_locked(c);
}

void gw_rpc_call_mark_closed_locked(gw_rpc_call *c, gw_rpc_status status)
{
    c->closed = 1;
    c->status = status;
    queue_drop_locked(c);
}

void gw_rpc_call_hold(gw_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->internal++;
    pthread_mutex_unlock(&c->mu);
}

/* Frees plain memory only: grpc's objects went at the end (end_release). */
static void call_free(gw_rpc_call *c)
{
    if (c->auth_ctx != NULL && c->auth_release != NULL)
        c->auth_release(c->auth_ctx);
    free(c->method_name);
    free(c->peer);
    free(c->status_msg);
    free(c->send_md);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Everything grpc-owned the call still holds (while grpc is surely
 * initialized: the owner exists until its calls have ended). */
static void end_release(gw_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    queue_drop_locked(c);
    if (c->send_bb != NULL)
        grpc_byte_buffer_destroy(c->send_bb);
    if (c->recv_bb != NULL)
        grpc_byte_buffer_destroy(c->recv_bb);
    if (c->payload != NULL)
        grpc_byte_buffer_destroy(c->payload);
    c->send_bb = c->recv_bb = c->payload = NULL;
    grpc_slice_unref(c->finish_details);
    grpc_slice_unref(c->recv_details);
    c->finish_details = c->recv_details = grpc_empty_slice();
    for (size_t i = 0; i < c->n_send_md; i++) {
        grpc_slice_unref(c->send_md[i].key);
        grpc_slice_unref(c->send_md[i].value);
    }
    c->n_send_md = 0;
    grpc_metadata_array_destroy(&c->req_md);
    grpc_metadata_array_destroy(&c->recv_init_md);
    grpc_metadata_array_destroy(&c->trailing_md);
    grpc_metadata_array_init(&c->req_md);
    grpc_metadata_array_init(&c->recv_init_md);
    grpc_metadata_array_init(&c->trailing_md);
    pthread_mutex_unlock(&c->mu);
}

void gw_rpc_call_drop(gw_rpc_call *c)
{
    grpc_call *gc = NULL;
    int dead = 0;
    pthread_mutex_lock(&c->mu);
    if (c->internal == 1 && c->closed && c->gc != NULL) {
        /* the end: keep our reference while the owner is told */
        gc = c->gc;
        c->gc = NULL;
    } else {
        c->internal--;
        dead = c->internal == 0 && c->users == 0 && c->gc == NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (gc != NULL) {
        end_release(c);
        if (c->ended != NULL)
            c->ended(c);
        grpc_call_unref(gc);
        pthread_mutex_lock(&c->mu);
        c->internal--;
        dead = c->internal == 0 && c->users == 0;
        pthread_mutex_unlock(&c->mu);
    }
    if (dead)
        call_free(c);
}

/* ---- public ---- */

int gw_rpc_call_send(gw_rpc_call *c, const void *data, size_t len, char err[GW_ERR_LEN])
{
    if (len > c->max_message)
        return gw_errf(err, "message of %zu bytes exceeds the limit of %zu bytes", len, c->max_message);
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    if (!c->streaming)
        rc = gw_errf(err, "not a stream");
    else if (c->closed || c->gc == NULL || c->finish_state != 0)
        rc = gw_errf(err, "the call has ended");
    else if (c->q_len >= c->q_max)
        rc = gw_errf(err, "send queue full (%d messages)", c->q_len);
    if (rc == 0) {
        gw_rpc_qmsg *m = malloc(sizeof(*m));
        if (m == NULL || (m->bb = gw_rpc_bb_new(data, len)) == NULL) {
            free(m);
            rc = gw_errf(err, "out of memory");
        } else {
            m->next = NULL;
            if (c->q_tail != NULL)
                c->q_tail->next = m;
            else
                c->q_head = m;
            c->q_tail = m;
            c->q_len++;
            gw_rpc_call_pump_locked(c);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int finish_common(gw_rpc_call *c, gw_rpc_side side, gw_rpc_status status, const char *message,
                         char err[GW_ERR_LEN])
{
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    if (c->side != side || !c->streaming)
        rc = gw_errf(err, side == GW_RPC_SIDE_SERVER ? "not a server stream" : "not a client stream");
    else if (c->closed || c->gc == NULL || c->finish_state != 0)
        rc = gw_errf(err, "the call has ended");
    if (rc == 0) {
        c->finish_state = 1;
        c->finish_code = status;
        grpc_slice_unref(c->finish_details);
        c->finish_details = grpc_slice_from_copied_string(message != NULL ? message : "");
        gw_rpc_call_pump_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int gw_rpc_call_finish(gw_rpc_call *c, gw_rpc_status status, const char *message, char err[GW_ERR_LEN])
{
    if ((int)status < 0 || status > GW_RPC_UNAUTHENTICATED)
        return gw_errf(err, "status %d is not a gRPC status", (int)status);
    return finish_common(c, GW_RPC_SIDE_SERVER, status, message, err);
}

int gw_rpc_call_close_send(gw_rpc_call *c, char err[GW_ERR_LEN])
{
    return finish_common(c, GW_RPC_SIDE_CLIENT, GW_RPC_OK, NULL, err);
}

void gw_rpc_call_cancel(gw_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->gc != NULL && !c->closed)
        grpc_call_cancel(c->gc, NULL);
    pthread_mutex_unlock(&c->mu);
}

int gw_rpc_call_done(gw_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    int done = c->closed || c->gc == NULL;
    pthread_mutex_unlock(&c->mu);
    return done;
}

void gw_rpc_call_ref(gw_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->users++;
    pthread_mutex_unlock(&c->mu);
}

void gw_rpc_call_unref(gw_rpc_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->users--;
    /* a client stream nobody holds any more is not wanted */
    if (c->users == 0 && c->side == GW_RPC_SIDE_CLIENT && c->gc != NULL && !c->closed)
        grpc_call_cancel(c->gc, NULL);
    int dead = c->users == 0 && c->internal == 0 && c->gc == NULL;
    pthread_mutex_unlock(&c->mu);
    if (dead)
        call_free(c);
}

const char *gw_rpc_call_method(const gw_rpc_call *c)
{
    return c->method_name != NULL ? c->method_name : "";
}

void *gw_rpc_call_auth(const gw_rpc_call *c)
{
    return c->auth_ctx;
}

const char *gw_rpc_call_peer(const gw_rpc_call *c)
{
    return c->peer != NULL ? c->peer : "";
}

int64_t gw_rpc_call_deadline_ms(const gw_rpc_call *c)
{
    if (c->side != GW_RPC_SIDE_SERVER || gpr_time_cmp(c->deadline, gpr_inf_future(c->deadline.clock_type)) == 0)
        return -1;
    gpr_timespec left = gpr_time_sub(c->deadline, gpr_now(c->deadline.clock_type));
    int64_t ms = gpr_time_to_millis(left);
    return ms > 0 ? ms : 0;
}

void gw_rpc_call_set_user(gw_rpc_call *c, void *user)
{
    pthread_mutex_lock(&c->mu);
    c->user = user;
    pthread_mutex_unlock(&c->mu);
}

void *gw_rpc_call_user(const gw_rpc_call *c)
{
    gw_rpc_call *m = (gw_rpc_call *)c;
    pthread_mutex_lock(&m->mu);
    void *u = m->user;
    pthread_mutex_unlock(&m->mu);
    return u;
}
