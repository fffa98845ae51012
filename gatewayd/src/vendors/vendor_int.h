/*
 * src/vendors/vendor_int.h (private to src/vendors/): what the wire files
 * (openai.c, anthropic.c, google.c, ollama.c), the neutral helpers (prep.c,
 * proc.c, tr.c, aiout.c) and the dispatchers (vendor.c, translate.c,
 * stream.c) share: the stream processor's state, a pass-through request
 * being prepared, an /ai request being translated, and the helpers, each
 * section naming the file that implements it. The wire rows themselves are
 * in registry.h.
 *
 * Layout of the layer: wire files call only the neutral helpers; the
 * dispatchers reach a wire only through its row in the registry; nothing
 * calls a dispatcher but the gateway (regress/unit/check_layers.sh checks
 * that no two files call each other in a circle).
 *
 * Framing (stream.c) cuts the upstream bytes into units and hands each unit
 * to the reader of the vendor's wire row: an SSE event (sse), an NDJSON line
 * (line), an element of a streamed JSON array (elem), or the whole JSON body
 * at the end (json). A reader relays the unit (pass-through modes) or writes
 * its translation (AI modes), and extracts usage, model, end marker and
 * upstream errors into the processor. Readers return 0, or -1 when the
 * client is gone (p->gone) or the upstream broke the format (p->failed with
 * p->fail_err).
 */
#ifndef GW_VENDOR_INT_H
#define GW_VENDOR_INT_H

#include "base/json.h"
#include "vendors/vendor.h"
#include "base/vjson.h"

#define GW_PROC_DEFAULT_LINE (1u << 20)  /* max_line_bytes 0 → 1 MiB */
#define GW_PROC_DEFAULT_JSON (64u << 20) /* max_json_bytes 0 → 64 MiB */
#define GW_UPSTREAM_MSG_MAX 160
#define GW_AI_DEFAULT_MAX_TOKENS 4096 /* Anthropic requires max_tokens */

/* One SSE event as received (raw includes its terminating blank line). */
typedef struct gw_sse_event {
    const char *raw;
    size_t raw_len;
    const char *name; /* value of the "event:" field, NULL when absent */
    size_t name_len;
    const char *data; /* the data lines joined with \n; NULL when none */
    size_t data_len;
} gw_sse_event;

struct gw_wire_ops;

struct gw_stream_proc {
    gw_proc_opts o;
    const struct gw_wire_ops *wire; /* the vendor's wire row (registry.h) */
    int prompt_excludes_cache;      /* of that row: for the OpenAI usage of /ai answers */
    char opt_model[GW_MODEL_MAX];
    char request_id[96];
    gw_emit_fn emit;
    void *emit_ctx;

    /* framing */
    gw_buf pend;       /* bytes of the unit being received */
    size_t scanned;    /* bytes of pend already scanned */
    size_t line_start; /* start of the current line in pend */
    size_t max_line;
    gw_buf data;  /* joined data of a multi-line SSE event */
    gw_buf body;  /* JSON modes: the whole body */
    gw_buf out;   /* scratch for translated output */
    int ja_depth; /* JSON array framing: nesting, string state */
    int ja_in_str;
    int ja_esc;
    int ja_open;   /* the '[' was seen */
    int ja_closed; /* the closing ']' was seen */

    /* what the upstream said */
    gw_usage usage;
    char model[GW_MODEL_MAX];
    int ended;          /* the vendor's end marker was seen */
    int upstream_error; /* an error object/event came in the stream */
    char upstream_msg[GW_UPSTREAM_MSG_MAX];
    int nunits;            /* units processed so far */
    int64_t content_units; /* frames that carried answer text (estimate when usage never came) */

    /* state of this processor */
    int gone;   /* emit reported the client gone */
    int failed; /* the upstream broke a limit or the format */
    char fail_err[GW_ERR_LEN];
    int finished;

    /* AI translation */
    int ai_started; /* the role chunk was sent */
    int ai_done;    /* the final chunk and [DONE] were sent */
    char ai_finish[24];
    int ai_tools;      /* tool calls started so far */
    int ai_block;      /* Anthropic: index of the current content block */
    int ai_block_tool; /* …and its tool call index, -1 when not a tool_use */
    int ai_text;       /* content was emitted */
};

/* ---- the processor's helpers (proc.c) ---- */

/* Sends bytes to the client; -1 (and p->gone) when it went away. */
int gw_proc_emit(gw_stream_proc *p, const char *data, size_t len);
/* Marks a format/limit failure (returns -1). */
int gw_proc_fail(gw_stream_proc *p, const char *fmt, ...) GW_PRINTF(2, 3);
/* Records an upstream error message (first one wins). */
void gw_proc_upstream_error(gw_stream_proc *p, const gw_json_value *msg);
/* Stores the upstream's model when not known yet. */
void gw_proc_set_model(gw_stream_proc *p, const gw_json_value *model);
/* Usage from an OpenAI-shaped usage object (OpenAI, Hugging Face, the
 * Responses API's input/output_tokens). */
void gw_proc_openai_usage(gw_stream_proc *p, const gw_json_value *usage);
/* An OpenAI-shaped JSON answer: model and usage; in /ai the body as is. */
int gw_proc_openai_json(gw_stream_proc *p, const gw_json_value *root);
/* 1 in the translating modes. */
static inline int gw_proc_ai(const gw_stream_proc *p)
{
    return p->o.mode == GW_PROC_AI_JSON || p->o.mode == GW_PROC_AI_SSE;
}

/* ---- pass-through preparation (vendor.c calls the wire row's prepare) ---- */

typedef struct gw_prep {
    const gw_llm *llm;
    const gw_vendor *vendor;
    gw_route_kind kind;
    const char *method;
    const char *path;  /* validated, starts with '/' */
    const char *query; /* raw, may be NULL */
    const char *body;
    size_t body_len;
    int json;        /* the body is to be read as JSON */
    gw_buf new_path; /* a hook may rewrite the path here (google) */
    int add_alt_sse; /* append alt=sse to the query (google) */
    gw_upstream_req *out;
} gw_prep;

/* ---- request helpers (prep.c) ---- */

int gw_prep_path_ends(const char *path, const char *suffix);
/* "query has name=value" (value NULL: any value) */
int gw_prep_query_has(const char *query, const char *name, const char *value);
/* Rewrites the JSON body: its members except skip[], then `extra` (members
 * text without braces, may be ""). */
int gw_prep_rewrite(gw_upstream_req *out, const char *body, size_t len, const char *const *skip, size_t nskip,
                    const char *extra);
/* out->model from the body's "model" (gw_vendor_model_from_json); -1 with
 * *status 400 and err when it is not a valid model name. */
int gw_prep_model(gw_upstream_req *out, const gw_json_value *model, int *status, char err[GW_ERR_LEN]);
/* The answer is a stream (mode) when the body asks for one (stream) or
 * the route does (/llm/stream/: the body is rewritten with "stream": true). */
int gw_prep_stream(const gw_prep *pp, int stream, gw_proc_mode mode, int *status, char err[GW_ERR_LEN]);
/* Scans the client's JSON body for the fields f[0..nf) (400 for a body
 * that is not valid JSON); with stream, f[0] is "model" (gw_prep_model) and
 * f[1] "stream", a boolean into *stream when present (400 otherwise). */
int gw_prep_scan(const gw_prep *pp, gw_json_field *f, size_t nf, int *stream, int *status, char err[GW_ERR_LEN]);
/* Rewrites the client's body with "stream": true (the /llm/stream/ route
 * forces a stream). 0, or -1 with *status 500 and err. */
int gw_prep_force_stream(const gw_prep *pp, gw_upstream_req *out, int *status, char err[GW_ERR_LEN]);

/* ---- OpenAI output of the /ai translation (aiout.c) ---- */

/* A chat.completion.chunk with this delta object (raw JSON); sends the
 * role chunk first when it was not sent yet. */
int gw_ai_delta(gw_stream_proc *p, const char *delta, size_t len);
/* delta {"content": <str>} for a JSON string value (skips ""). */
int gw_ai_text(gw_stream_proc *p, const gw_json_value *str);
/* delta with tool_calls[{index, id?, type, function{name?, arguments}}];
 * id / name may be NULL (continuation), args is a JSON string value or NULL. */
int gw_ai_tool(gw_stream_proc *p, int index, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
               const gw_json_value *args_str, const gw_json_value *args_obj);
/* The final chunk (finish_reason), the usage chunk unless strip_usage_chunk,
 * and data: [DONE]. Once. */
int gw_ai_end(gw_stream_proc *p);
/* data: {"error":{…}} */
int gw_ai_error(gw_stream_proc *p, const char *msg);
/* Maps a vendor stop reason to OpenAI's finish_reason and stores it. */
void gw_ai_set_finish(gw_stream_proc *p, const gw_json_value *reason);
/* The usage object in OpenAI semantics for the vendor's gw_usage. */
void gw_ai_write_usage(gw_jw *w, const gw_stream_proc *p);
/* Emits a chat.completion: content_inner is escaped string text (no
 * quotes) or NULL for null; tool_calls a raw JSON array or NULL. */
int gw_ai_completion(gw_stream_proc *p, const char *content_inner, size_t clen, const char *tool_calls, size_t tlen);
/* A chat.completion's message being gathered from a vendor's JSON answer:
 * text parts (escaped, concatenated) and tool calls; _send emits it (content
 * null when there are tool calls and no text) and frees it. */
typedef struct gw_ai_answer {
    gw_buf text;
    gw_buf tools;
    int ntext;
    int ntools;
} gw_ai_answer;
void gw_ai_answer_init(gw_ai_answer *a);
void gw_ai_answer_text(gw_ai_answer *a, const gw_json_value *str);
void gw_ai_answer_tool(gw_ai_answer *a, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                       const gw_json_value *args_str, const gw_json_value *args_obj);
int gw_ai_answer_send(gw_stream_proc *p, gw_ai_answer *a);
/* The OpenAI error body for an upstream error object. */
int gw_ai_error_body(gw_stream_proc *p, const char *msg);
/* Appends one tool call object {id, type, function{name, arguments}} to b
 * (arguments: a JSON string value, or an object serialized as a string). */
void gw_ai_tool_call_json(gw_buf *b, const gw_json_value *id, const char *gen_id, const gw_json_value *name,
                          const gw_json_value *args_str, const gw_json_value *args_obj);

/* ---- URL and headers (prep.c) ---- */

/* project_paths: the wire's project_paths (registry.h: Vertex) */
int gw_vendor_build_url(gw_upstream_req *out, const char *endpoint, const char *path, const char *query,
                        int add_alt_sse, int project_paths);
/* 1 when the endpoint's last path segment is a version (".../v1"). */
int gw_vendor_endpoint_versioned(const char *endpoint);
/* The vendor key in the header the LLM's vendor says (gw_vendor.key_header), the client's allowed
 * headers, the version header of the wire row. */
int gw_vendor_build_headers(gw_upstream_req *out, const gw_llm *llm,
                            const struct gw_wire_ops *wire, const gw_header *headers, size_t nheaders, int translated,
                            int has_body, char err[GW_ERR_LEN]);

/* ---- /ai request translation (translate.c reads, the wire rows write) ---- */

enum {
    TR_MODEL,
    TR_MESSAGES,
    TR_STREAM,
    TR_STREAM_OPTIONS,
    TR_TEMPERATURE,
    TR_TOP_P,
    TR_MAX_TOKENS,
    TR_MAX_COMPLETION_TOKENS,
    TR_STOP,
    TR_TOOLS,
    TR_TOOL_CHOICE,
    TR_RESPONSE_FORMAT,
    TR_SEED,
    TR_PRESENCE,
    TR_FREQUENCY,
    TR_N,
    TR_PARALLEL,
    TR_USER,
    TR_NFIELDS
};

/* An OpenAI chat-completions request being translated (translate.c reads
 * and validates it; the vendor files write their request body from it). */
typedef struct gw_tr {
    const gw_llm *llm;
    const gw_vendor *vendor;
    const char *body;
    size_t body_len;
    gw_json_field f[TR_NFIELDS];
    gw_upstream_req *out;
    int stream;
    int include_usage;
} gw_tr;

#define TRV(t, i) (&(t)->f[(i)].value)
#define TR_HAS(t, i) ((t)->f[(i)].value.type != GW_JSON_ABSENT && (t)->f[(i)].value.type != GW_JSON_NULL)

/* ---- reading the OpenAI request (tr.c) ---- */

int gw_tr_role(const gw_json_value *msg, char *role, size_t cap);
/* The text of a content value (string, or text parts joined by sep) as
 * escaped JSON string text without quotes, appended to b. */
int gw_tr_text(const gw_json_value *content, gw_buf *b, const char *sep);
void gw_tr_inner(gw_jw *w, const char *inner, size_t n);
void gw_tr_text_value(gw_jw *w, const gw_json_value *content, gw_buf *tmp);
int gw_tr_image(const gw_json_value *part, gw_buf *tmp, const char **mime, size_t *mlen, const char **data);
void gw_tr_args(gw_jw *w, const gw_json_value *args, gw_buf *tmp);
void gw_tr_raw(gw_jw *w, const char *key, const gw_json_value *v);
void gw_tr_stop(gw_jw *w, const char *key, const gw_json_value *stop);
int64_t gw_tr_max_tokens(gw_tr *t);
int gw_tr_json_obj(const gw_json_value *str, gw_buf *tmp, gw_json_value *out);
int gw_tr_tool_name(const gw_json_value *messages, const gw_json_value *id, gw_json_value *name);
/* The names a vendor gives OpenAI's sampling fields (NULL: it has none). */
typedef struct gw_tr_keys {
    const char *temperature, *top_p, *max_tokens, *stop, *seed, *presence, *frequency, *n;
} gw_tr_keys;
/* Writes the sampling fields the request has, under the vendor's names, in
 * that order (max_tokens: the output cap, also into t->out->max_tokens). */
void gw_tr_sampling(gw_tr *t, gw_jw *w, const gw_tr_keys *k);

#endif
