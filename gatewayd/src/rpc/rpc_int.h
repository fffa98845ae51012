/*
 * src/rpc/rpc_int.h: what the modules of src/rpc share and nobody else sees:
 * the call object (struct gw_rpc_call), the batch tags, and the helpers of
 * core.c and call.c.
 *
 * Batch tags. Every grpc batch of a call carries a pointer to one of the
 * call's gw_rpc_tag slots, one per kind of batch; at most one batch of each
 * kind is outstanding, so the slot identifies the batch. The thread polling
 * the call's completion queue (server queue thread, client event thread)
 * hands the tag to the owner's dispatch.
 *
 * Call locking. c->mu guards the call's state and every
 * grpc_call_start_batch on it (grpc requires batches of one call to be
 * serialized). Callbacks are never run with c->mu held. Lock order: an
 * owner's mutex (server, client) before c->mu.
 *
 * References. `internal` counts outstanding batches and the scheduled
 * strand (server); `users` counts the user's references. grpc's call is
 * released as soon as the call has ended (closed) and internal is 0,
 * whatever users remain; the object itself is freed when internal and users
 * are 0 and the owner has unlinked it. Both transitions happen once.
 */
#ifndef GW_RPC_INT_H
#define GW_RPC_INT_H

#include <pthread.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>

#include "rpc/pool.h"
#include "rpc/rpc.h"

typedef enum gw_rpc_tag_kind {
    GW_TAG_CLOSE = 0, /* server: RECV_CLOSE_ON_SERVER; client: RECV_STATUS_ON_CLIENT */
    GW_TAG_START,     /* server: SEND_INITIAL_METADATA of a stream; client: initial metadata both ways */
    GW_TAG_RECV,      /* RECV_MESSAGE */
    GW_TAG_SEND,      /* SEND_MESSAGE */
    GW_TAG_FINAL,     /* server: status (with the reply of a unary call); client: SEND_CLOSE_FROM_CLIENT */
    GW_TAG_NKINDS,
    GW_TAG_REQUEST, /* server: a requested call arrived (not a call slot) */
    GW_TAG_SHUTDOWN, /* server: shutdown finished */
    GW_TAG_UNARY     /* client: a unary call's one batch (the owner is its waiter) */
} gw_rpc_tag_kind;

typedef struct gw_rpc_tag {
    gw_rpc_tag_kind kind;
    void *owner; /* the call (or the request / server for the last two kinds) */
} gw_rpc_tag;

typedef enum gw_rpc_side { GW_RPC_SIDE_SERVER = 0, GW_RPC_SIDE_CLIENT = 1 } gw_rpc_side;

typedef struct gw_rpc_qmsg {
    struct gw_rpc_qmsg *next;
    grpc_byte_buffer *bb;
} gw_rpc_qmsg;

/* What the server keeps about a registered method. */
typedef struct gw_rpc_srv_method {
    gw_rpc_method m;
    char *name;
    void *handle; /* grpc_server_register_method's */
} gw_rpc_srv_method;

/* The owner's hook when a call has ended and grpc's call is about to be
 * released (server: admission counters; client: unlink). */
typedef void (*gw_rpc_call_ended_fn)(gw_rpc_call *c);

struct gw_rpc_call {
    pthread_mutex_t mu;
    grpc_call *gc; /* NULL once released */
    gw_rpc_side side;
    int streaming;
    int internal;
    int users;
    int linked;           /* the owner still lists / counts it */
    int closed;           /* the CLOSE batch completed */
    int ended_cb;         /* ended hook ran */
    gw_rpc_status status; /* final status, valid once closed */
    char *status_msg;     /* client: the server's message; may be NULL */
    gw_rpc_tag tags[GW_TAG_NKINDS];

    /* send side: queued messages, one SEND outstanding, then the final op */
    gw_rpc_qmsg *q_head, *q_tail;
    int q_len, q_max;
    size_t max_message;
    int sending;
    grpc_byte_buffer *send_bb;
    int finish_state; /* 0 none, 1 requested, 2 started */
    gw_rpc_status finish_code;
    grpc_slice finish_details;

    /* receive side */
    int recv_busy; /* a RECV outstanding or its message being handled */
    int recv_eof;  /* the peer half-closed */
    grpc_byte_buffer *recv_bb;
    int close_queued; /* the close callback is scheduled or done */

    void *user;
    gw_rpc_call_ended_fn ended;
    gw_rpc_call *prev, *next; /* owner's list */

    /* server side */
    struct gw_rpc_server *srv;
    const gw_rpc_srv_method *method; /* NULL: unregistered (UNIMPLEMENTED) */
    char *method_name;
    char *peer;
    gpr_timespec deadline;
    grpc_metadata_array req_md;
    grpc_byte_buffer *payload;
    void *auth_ctx;
    void (*auth_release)(void *ctx);
    int recv_cancelled; /* RECV_CLOSE_ON_SERVER's output */
    int opened;         /* the open callback was called */
    int counted_stream; /* holds a max_streams slot */
    unsigned jobs;      /* GW_JOB_* waiting on the strand */
    int scheduled;      /* the strand is in the pool's queue or running */
    gw_rpc_task task;

    /* client side */
    struct gw_rpc_client *cli;
    gw_rpc_stream_cbs cbs;
    grpc_metadata *send_md;
    size_t n_send_md;
    grpc_metadata_array recv_init_md;
    grpc_metadata_array trailing_md;
    grpc_status_code recv_status;
    grpc_slice recv_details;
};

enum { GW_JOB_OPEN = 1u, GW_JOB_MSG = 2u, GW_JOB_CLOSE = 4u };

/* ---- core.c ---- */
void gw_rpc_lib_acquire(void);
void gw_rpc_lib_release(void);
gw_rpc_status gw_rpc_status_from_grpc(grpc_status_code code);
/* A byte buffer holding a copy of data (NULL when out of memory). */
grpc_byte_buffer *gw_rpc_bb_new(const void *data, size_t len);
/* The contents of bb in one slice (grpc_slice_unref it); 0 or -1. */
int gw_rpc_bb_read(grpc_byte_buffer *bb, grpc_slice *out);
/* An absolute deadline timeout_ms from now; <= 0: none. */
gpr_timespec gw_rpc_deadline(int timeout_ms);
/* A file's contents, NUL-terminated, malloc'd; NULL with err. */
char *gw_rpc_read_file(const char *what, const char *path, char err[GW_ERR_LEN]);
/* Copies a slice into a NUL-terminated malloc'd string. */
char *gw_rpc_slice_strdup(grpc_slice s);
/* Converts grpc metadata into gw_rpc_md entries with NUL-terminated copies:
 * one malloc'd block (*md points into it; free(*md)). */
int gw_rpc_md_from_grpc(const grpc_metadata_array *arr, gw_rpc_md **md, size_t *n);

/* ---- call.c ---- */
gw_rpc_call *gw_rpc_call_new(gw_rpc_side side, grpc_call *gc, int q_max, size_t max_message);
/* Starts a batch of the tag's kind (c->mu held); takes an internal
 * reference on success. */
grpc_call_error gw_rpc_call_batch_locked(gw_rpc_call *c, gw_rpc_tag_kind kind, const grpc_op *ops, size_t n);
/* Starts what the send queue calls for next (c->mu held). */
void gw_rpc_call_pump_locked(gw_rpc_call *c);
/* The SEND or FINAL batch completed (c->mu held). */
void gw_rpc_call_send_done_locked(gw_rpc_call *c, gw_rpc_tag_kind kind, int ok);
/* Marks the call closed with status and drops what waits to be sent
 * (c->mu held). */
void gw_rpc_call_mark_closed_locked(gw_rpc_call *c, gw_rpc_status status);
/* Takes / drops an internal reference; the drop releases grpc's call and
 * frees the object when their time has come (call without c->mu). */
void gw_rpc_call_hold(gw_rpc_call *c);
void gw_rpc_call_drop(gw_rpc_call *c);
/* The owner no longer lists the call (without c->mu). */
void gw_rpc_call_unlink(gw_rpc_call *c);

#endif
