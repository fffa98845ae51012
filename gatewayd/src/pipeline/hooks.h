/*
 * src/pipeline/hooks.h: the hooks of an LLM — the content filters and the
 * plugins attached to it — as an ordered list per stage, built from the
 * snapshot, and how a request runs them. This header is the interface
 * between the built-in filters (pipeline/filter.h) and the plugin host:
 * each is a hook KIND (gw_hook_ops) registered once at start-up
 * (gw_hooks_register, from main.c); the pipeline knows neither.
 *
 * Which hooks an LLM has (per snapshot, built once and kept with it,
 * model/snapshot.h GW_SNAP_EXT_HOOKS): its Llm.filter_ids and plugin_ids
 * (global ones and its namespace's; the extension refuses others), active
 * ones only, each at the stage its definition names (a filter's stage, a
 * plugin's hook), merged by the position they were attached at (ties:
 * filters before plugins, then the snapshot's order). An object attached to
 * several LLMs is opened once per snapshot and shared (instances are
 * immutable or do their own locking: they run on many workers at once).
 * A hook whose kind is not registered or whose open failed stays in the
 * list and answers every request with a block, 503 <kind>_unavailable
 * (fail closed: a filter that cannot run never lets a request through).
 *
 * A stage's run (gw_hooks_run): the hooks of that stage in order; each
 * sees the body as the previous one left it (a MODIFY body replaces it for
 * the next one and for the request), and the prompt's text read from it
 * once (gw_hook_req_text); the first BLOCK ends the run. The entry point
 * turns the result into the answer (gateway/hooks glue): a block is the
 * client's error (the OpenAI shape {"error":{message,type,code}}, the
 * vendor's own on pass-through routes), recorded as ONE event whose error
 * names the hook, with no upstream call and no cost.
 *
 * on_response (gw_hooks_response_*): each unit of the answer the client
 * would get (the whole JSON body, or one SSE event / NDJSON line / JSON
 * array element) passes the stage's hooks in order; a hook emits zero or
 * more units for each one it gets (it may hold text back, e.g. the start
 * of what could be a card number split over two frames, and emit it later)
 * and, at the end, what it still holds. Each hook has per-request state
 * (ops->response_state bytes, zeroed). A BLOCK stops the answer (the relay
 * ends it with the error, or the vendor's error event in a stream).
 *
 * Thread safety: a hook list is immutable once built; the per-request
 * structures (gw_hook_req, gw_hook_stream) belong to one worker.
 */
#ifndef GW_PIPELINE_HOOKS_H
#define GW_PIPELINE_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "model/snapshot.h"
#include "pipeline/pipeline.h"
#include "pipeline/text.h"
#include "vendors/vendor.h"

#define GW_HOOK_CODE_MAX 64
#define GW_HOOK_MSG_MAX 512
#define GW_HOOK_URL_MAX 512

typedef enum gw_hook_kind { GW_HOOK_FILTER = 0, GW_HOOK_PLUGIN, GW_HOOK_KIND_COUNT } gw_hook_kind;

typedef enum gw_hook_action {
    GW_HOOK_CONTINUE = 0, /* nothing to say */
    GW_HOOK_MODIFY,       /* changed the body (or headers) */
    GW_HOOK_BLOCK         /* stop the request: status, code, message */
} gw_hook_action;

/* One attached filter or plugin, as the snapshot defines it. */
typedef struct gw_hook_def {
    gw_hook_kind kind;
    int64_t id;
    const char *name;        /* filters.name / plugins.name (snapshot memory) */
    const char *type;        /* filter_type / plugin_type */
    gw_stage stage;          /* a filter's stage, a plugin's hook */
    const char *config_json; /* its config, a JSON object */
    const char *command;     /* plugins: what to run; filters: NULL */
    int32_t position;        /* the position it was attached at */
    int fail_open;           /* plugins: the attachment lets requests go on when the plugin cannot answer */
    const gw_filter_def *filter; /* the snapshot's definition (one of the two) */
    const gw_plugin_def *plugin;
} gw_hook_def;

/* The request as the hooks of one stage see it (the entry point fills it). */
typedef struct gw_hook_req {
    gw_stage stage;
    const char *request_id;
    const char *method;
    const char *path; /* the vendor path after /llm/{kind}/{slug}; "/v1/chat/completions" on /ai and the chat */
    gw_route_kind route;
    int chat; /* the chat of the web UI */
    const gw_llm *llm;
    const gw_vendor *vendor;
    const char *model; /* "" until post_auth */
    int64_t app_id;    /* 0 when not known (before auth, the chat) */
    int64_t user_id;
    const gw_header *headers; /* the client's headers (credentials included: a hook must not pass them on) */
    size_t nheaders;
    /* the body this stage sees: the client's before post_auth, the
     * upstream request's (after the /ai translation) at post_auth */
    const char *body;
    size_t body_len;
    gw_dialect dialect; /* how its text reads */
    /* on_response: how the client's answer is framed and reads */
    gw_proc_mode answer_mode;
    gw_dialect answer_dialect;
    /* the prompt's text, read on first use (gw_hook_req_text) */
    gw_text text;
    int text_state; /* 0 not read, 1 read, -1 unreadable */
} gw_hook_req;

/* What one hook answers (the runner hands each hook a clean one). */
typedef struct gw_hook_verdict {
    gw_hook_action action;
    int status;                    /* BLOCK: HTTP status (0: 400 on requests, 502 on answers) */
    char code[GW_HOOK_CODE_MAX];   /* BLOCK: the error code ("" : blocked_by_filter / blocked_by_plugin) */
    char message[GW_HOOK_MSG_MAX]; /* BLOCK: what the client reads */
    gw_buf body;                   /* MODIFY: the new body (same dialect), when body_set */
    int body_set;
    gw_buf headers;               /* MODIFY: headers for the upstream request, "Name: value" each NUL-terminated */
    /* plugins (any action but BLOCK): the caller an auth hook authenticated
     * (0: not set), and an upstream override, for the entry point to apply */
    int64_t app_id, user_id;
    char upstream[GW_HOOK_URL_MAX]; /* send the upstream request to this base URL ("": the LLM's endpoint) */
} gw_hook_verdict;

/* A stage's outcome. */
typedef struct gw_hook_result {
    gw_hook_action action;
    const gw_hook_def *by; /* the hook that blocked (BLOCK) */
    gw_hook_verdict v;     /* BLOCK: its status, code, message; MODIFY: the final body (v.body_set) and headers */
} gw_hook_result;

/* Receives the units a hook (or the stage) lets through; -1 when the client is gone. */
typedef int (*gw_hook_emit_fn)(void *ctx, const char *data, size_t len);

/* A kind of hook: the built-in filters, the plugins. */
typedef struct gw_hook_ops {
    const char *name; /* "filter", "plugin": the error codes say <name>_unavailable, blocked_by_<name> */
    /*
     * Prepares one attached object for the hooks of a snapshot (once per
     * snapshot and object): *inst on success; -1 with err when it cannot
     * run (the hook then blocks every request, 503).
     */
    int (*open)(const gw_hook_def *def, void **inst, char err[GW_ERR_LEN]);
    void (*close)(void *inst);
    /* pre_auth, auth, post_auth: fills v (v->action CONTINUE when it has nothing to say); 0, or -1 with
     * v's message when it failed (a block, 503 <kind>_unavailable) */
    int (*request)(void *inst, const gw_hook_def *def, gw_hook_req *rq, gw_hook_verdict *v);
    /* on_response: per-request state of state_size bytes (zeroed before
     * the first unit); one call per unit (data, len) and one at the end
     * (data NULL); emit what goes on (the unit itself, a changed one, none,
     * several); v->action BLOCK to stop the answer. 0, or -1 when emit
     * failed (client gone) or the hook failed (v says why). */
    size_t response_state;
    int (*response)(void *inst, const gw_hook_def *def, void *state, const gw_hook_req *rq, const char *data,
                    size_t len, gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v);
    void (*response_free)(void *inst, void *state); /* may be NULL */
} gw_hook_ops;

/* Registers the operations of a kind (at start-up, before any listener). */
int gw_hooks_register(gw_hook_kind kind, const gw_hook_ops *ops, char err[GW_ERR_LEN]);

/* ---- an LLM's hooks ---- */

typedef struct gw_hook {
    gw_hook_def def;
    const gw_hook_ops *ops; /* NULL: its kind is not registered */
    void *inst;             /* NULL when open failed */
    char open_error[GW_ERR_LEN];
} gw_hook;

typedef struct gw_hook_list {
    const gw_hook *const *hooks[GW_STAGE_COUNT]; /* per stage, in execution order */
    size_t n[GW_STAGE_COUNT];
} gw_hook_list;

/*
 * The hooks of llm in snapshot s: built for the whole snapshot on first
 * use (or ahead, gw_hooks_prepare) and kept with it; NULL only when out of
 * memory (then the caller refuses the request: 503). An LLM without hooks
 * gets an empty list.
 */
const gw_hook_list *gw_hooks_of(gw_snapshot *s, const gw_llm *llm);
/* Builds the hooks of a snapshot ahead of its first request (the loader
 * calls it before swapping the snapshot in) and logs the hooks that cannot
 * run. 0, or -1 with err when out of memory. */
int gw_hooks_prepare(gw_snapshot *s, char err[GW_ERR_LEN]);
static inline size_t gw_hooks_count(const gw_hook_list *hl, gw_stage st)
{
    return hl != NULL && st >= 0 && st < GW_STAGE_COUNT ? hl->n[st] : 0;
}

/* ---- running a request stage ---- */

void gw_hook_req_init(gw_hook_req *rq);
void gw_hook_req_free(gw_hook_req *rq);
/* The prompt's text parts (read once from rq->body in rq->dialect), or NULL
 * when the body cannot be read as JSON (err says why). */
gw_text *gw_hook_req_text(gw_hook_req *rq, char err[GW_ERR_LEN]);

void gw_hook_result_init(gw_hook_result *res);
void gw_hook_result_free(gw_hook_result *res);
/*
 * Runs the hooks of stage rq->stage in order. Returns 0 when the request
 * goes on (res->action CONTINUE, or MODIFY with the final body in
 * res->v.body, which rq->body now points at), -1 when a hook blocked it
 * (res->by, res->v.status / code / message, defaults filled in).
 */
int gw_hooks_run(const gw_hook_list *hl, gw_hook_req *rq, gw_hook_result *res);

/* 0 when every hook of stage st can run; -1 (res: a block, 503
 * <kind>_unavailable) when one cannot: for on_response, checked before the
 * upstream call. */
int gw_hooks_ready(const gw_hook_list *hl, gw_stage st, gw_hook_result *res);

/* ---- on_response ---- */

typedef struct gw_hook_stream gw_hook_stream;

/* The per-request state of the on_response hooks of hl (NULL *out when
 * there are none); -1 when out of memory. rq must outlive the stream. */
int gw_hooks_response_begin(const gw_hook_list *hl, const gw_hook_req *rq, gw_hook_stream **out, char err[GW_ERR_LEN]);
/* One unit of the answer through the hooks, then to emit. 0; -1 when a hook
 * blocked (res as for gw_hooks_run) or emit failed (res->action CONTINUE). */
int gw_hooks_response_unit(gw_hook_stream *hs, const char *data, size_t len, gw_hook_emit_fn emit, void *ectx,
                           gw_hook_result *res);
/* The answer is complete: what the hooks still hold goes to emit. */
int gw_hooks_response_end(gw_hook_stream *hs, gw_hook_emit_fn emit, void *ectx, gw_hook_result *res);
void gw_hooks_response_free(gw_hook_stream *hs);

/* "blocked_by_<kind>" and "<kind>_unavailable" for a kind. */
const char *gw_hook_kind_name(gw_hook_kind kind);

#endif
