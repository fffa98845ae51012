/*
 * src/gateway/request.h: one proxied request (gw_preq) and what every part
 * of the gateway does with it: the entry points (proxy.c: /llm and /ai on
 * PROXY_PORT; chat.c: POST /api/v1/chat/completions on SERVER_PORT), the
 * built-in steps of their pipelines (steps.c, chat.c), the upstream call
 * and relay (proxy_relay.c). Not a public interface: only gateway/
 * includes it.
 *
 * An entry point owns a gw_preq on its stack:
 *   gw_preq_begin → gw_pipeline_run over its pipeline's stages (pre_auth,
 *   auth: an app key on /llm and /ai, a signed-in user for the chat;
 *   post_auth: the snapshot checks, the body, the vendor request, model,
 *   stream limit, budget; upstream: the call and the relay, whose answer
 *   passes the on_response steps) → gw_preq_end (settle, the one event,
 *   release), whatever the exit.
 * The request holds a journal slot (ingest/journal.h) from gw_preq_begin
 * on: its identity when it becomes an LLM call (gw_preq_journal_note), the
 * usage seen while the answer is relayed (gw_preq_journal_progress), its
 * final event at the end, so a crash of the daemon loses none of them.
 */
#ifndef GW_GATEWAY_REQUEST_H
#define GW_GATEWAY_REQUEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "model/credcache.h"
#include "ingest/journal.h"
#include "base/redact.h"
#include "gateway/proxy.h"
#include "gateway/proxy_io.h"
#include "pipeline/hooks.h"
#include "pipeline/pipeline.h"
#include "gateway/proxy_route.h"
#include "gateway/upstream.h"
#include "vendors/vendor.h"

#define GW_JSON_FLUSH_BYTES (1u << 20) /* a buffered JSON body larger than this is sent chunked */
#define GW_ERRBODY_MAX (1u << 20)      /* upstream error bodies relayed up to this size */
#define GW_TLS_KEEP_BYTES (256u << 10) /* per-thread buffers above this are freed after the request */
#define GW_CLIENT_IDLE_CHECK_MS 300    /* check the client socket after this long without traffic */
#define GW_CLIENT_CHECK_EVERY_MS 200
#define GW_APP_SLOTS 4096
#define GW_DISCARD_MAX 65536 /* unread bodies up to this size are drained to keep the connection */
#define GW_CRED_MAX GW_CRED_KEY_MAX

/* Buffers of one worker thread, reused by its requests. */
typedef struct gw_proxy_tls {
    char *body;
    size_t body_cap;
    gw_outbuf out;
    gw_buf aux; /* upstream error body */
} gw_proxy_tls;

/* One app's count of open streams (the streams step, steps.c). */
typedef struct gw_app_streams {
    atomic_llong app_id; /* 0 = free slot */
    atomic_int n;
} gw_app_streams;

/* Everything about one request, on the handler's stack. */
typedef struct gw_preq {
    gw_server *srv;
    const gw_pipeline *pipe; /* the entry point's stages and steps */
    gw_proxy_tls *tls;
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    int64_t t0_us;
    int64_t wall_us;
    char rid[37];
    gw_jref jref; /* the request's journal slot (slot 0: not journaled) */
    gw_resp resp;
    gw_route route;
    int route_ok;

    gw_snapshot *snap;
    const gw_llm *llm;
    const gw_vendor *vendor; /* the LLM's vendor (a snapshot row); NULL: unknown */
    gw_cred_entry *cred_entry;
    const gw_credential *cred; /* the app key (NULL for the chat) */
    const gw_app *app;

    void *caller; /* the entry point's own state (the chat: the LLM its body names) */

    /* the caller, as the event records it */
    int64_t user_id;                 /* the app's owner, or the chat's signed-in user */
    int64_t app_id;                  /* 0 = none (the chat) */
    gw_interaction_type interaction; /* GW_INTERACTION_PROXY or GW_INTERACTION_CHAT */

    /* the request as the vendor steps read it */
    gw_header hdrs[MG_MAX_HEADERS];
    size_t nh;
    const char *body; /* the body read (the thread buffer), "" when none */
    size_t body_len;

    gw_upstream_req ureq;
    int ureq_init;
    char model[GW_MODEL_MAX];
    const gw_price *price;
    gw_budget_ticket ticket;
    int reserved;
    gw_rl_ticket rl;       /* the rate-limit admission (steps.c) */
    int rl_admitted;       /* its tokens buckets are charged at the end */
    char rl_headers[512];  /* x-ratelimit-* (and Retry-After) lines: r->resp.own_headers */
    gw_app_streams *stream_slot;
    int stream_counted;
    int inflight_counted;
    int body_read;

    gw_stream_proc *proc;
    int streaming_out; /* relay frames as they come (not a buffered JSON body) */
    gw_redact redact;  /* the vendor key, removed from everything the upstream sends */
    gw_upstream_call call;
    int upstream_called;
    long up_status;
    int up_head;
    int up_2xx;
    int client_gone;
    int proc_failed;
    int out_overflow;
    int cut_shutdown;
    int response_stopped; /* an on_response step stopped the answer */
    int stop_status;      /* …with this status, code, message and hook (0, "": 502 response_refused) */
    char stop_code[GW_HOOK_CODE_MAX];
    char stop_msg[GW_HOOK_MSG_MAX];
    const gw_hook_def *stop_by;

    /* the LLM's filters and plugins (llm_hooks.h) */
    const gw_hook_list *hooks; /* of r->llm in r->snap, looked up once */
    gw_hook_req hreq;          /* the request as the on_response hooks see it */
    int hreq_init;
    gw_hook_stream *hstream; /* the on_response hooks' state */
    gw_buf hook_body;        /* a pre_auth hook's new body (r->body points at it) */
    int plugin_auth;         /* an auth plugin authenticated the request as r->app (no API key) */
    int hook_body_init;
    int client_fd;
    int64_t last_write_ms;
    int64_t last_client_check_ms;

    gw_event_bodies *bodies; /* the LLM captures bodies: what was sent and relayed (proxy_relay.c); NULL = not */

    int status; /* what the client got (499: went away) */
    char error[GW_EVENT_ERROR_MAX];
    char perr[GW_ERR_LEN];
} gw_preq;

/* Copies src into dst (cap bytes), truncating; always NUL-terminates. */
static inline void gw_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strnlen(src, cap - 1) : 0;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The thread's buffers, made ahead (gw_proxy_warm_thread). */
void gw_preq_tls_warm(void);
/* The wall clock in µs (the event's timestamp). */
int64_t gw_wall_us(void);
/*
 * Sets r up for a request on conn through pipeline pipe: clock (t0_us /
 * wall_us unless already set), request id, journal slot, response writer,
 * the thread's buffers. -1 after answering 503 (then still call
 * gw_preq_end).
 */
int gw_preq_begin(gw_preq *r, gw_server *srv, const gw_pipeline *pipe, struct mg_connection *conn);
/* Counts the request in flight (shutdown drains such requests); -1 after
 * answering 503 when the gateway is shutting down. */
int gw_preq_enter(gw_preq *r);
/* The request's headers into r->hdrs / r->nh (at most MG_MAX_HEADERS). */
void gw_preq_headers(gw_preq *r);
/* Reads the body into the thread buffer (r->tls->body, NUL-terminated),
 * MAX_BODY_BYTES at most, and points r->body / r->body_len at it ("" and 0
 * for none); -1 after answering (413, 400). */
int gw_preq_read_body(gw_preq *r);
/* Settles the budget, records the one analytics event, updates the
 * metrics and releases everything; returns the status the client got. */
int gw_preq_end(gw_preq *r);

/* Time waiting for the upstream so far (µs). */
int64_t gw_preq_upstream_us(const gw_preq *r, int64_t now_us);
/* The journal slot gets the request's identity as the event will record it
 * (ids, vendor, model, namespace), now that it becomes an LLM call. */
void gw_preq_journal_note(gw_preq *r);
/* The journal slot gets the usage the stream processor has seen so far. */
void gw_preq_journal_progress(gw_preq *r);
/* The Server-Timing value ("gw;dur=…[, upstream;dur=…]"). */
const char *gw_preq_timing(const gw_preq *r, char *out, size_t cap);
/* Remembers "code: msg" as the event's error. */
void gw_preq_set_error(gw_preq *r, const char *code, const char *msg);
/* Answers with an OpenAI-shaped error (when nothing was sent yet) and remembers it. */
void gw_preq_fail(gw_preq *r, int status, const char *code, const char *fmt, ...) GW_PRINTF(4, 5);
/* A filter's or plugin's block: the OpenAI-shaped error on /ai and the
 * chat, the vendor's own shape on pass-through routes
 * (gw_vendor_error_body); the event's error is "code: kind 'name': message". */
void gw_preq_block(gw_preq *r, int status, const char *code, const char *message, const gw_hook_def *by);
/* A gateway refusal in the shape the client's SDK reads (a rate limit):
 * the vendor's error body on pass-through routes (gw_vendor_error_body),
 * OpenAI's on /ai and the chat; the event's error is "code: message". */
void gw_preq_fail_vendor(gw_preq *r, int status, const char *code, const char *fmt, ...) GW_PRINTF(4, 5);
/* Only the event's error of a block (the answer was cut otherwise). */
void gw_preq_block_error(gw_preq *r, const char *code, const char *message, const gw_hook_def *by);

/* Records an event unless analytics is closing (see gw_proxy_close_analytics). */
void gw_preq_record(gw_server *srv, const gw_event *ev); /* takes ev->bodies */

#endif
