/*
 * src/vendors/vendor.h: everything that differs between LLM vendors, behind
 * one interface the proxy calls without knowing the vendor:
 *   - preparing the upstream request of a pass-through route (URL, the
 *     vendor's auth header with the vendor key, the client's safe headers,
 *     model / stream / max-tokens detection, include_usage injection);
 *   - translating an OpenAI chat-completions request for /ai/{slug}/v1/…;
 *   - a stream processor fed with upstream bytes that relays (or translates)
 *     them to the client frame by frame while extracting usage;
 *   - the vendor's error event for a stream cut upstream.
 * Pure code: no sockets, no libcurl, no civetweb; unit-tested in
 * regress/unit/test_vendor_*.c. Behind this interface: a registry of wire
 * formats (registry.h: one row of operations per API, one table mapping
 * the product's vendor names to them), the dispatchers that walk it
 * (vendor.c: requests, translate.c: /ai requests, stream.c: answers), the
 * wire files (openai.c, anthropic.c, google.c, ollama.c) and the neutral
 * helpers they share (prep.c, proc.c, tr.c, aiout.c; see vendor_int.h).
 */
#ifndef GW_VENDOR_H
#define GW_VENDOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "base/json.h"
#include "model/snapshot.h"

/* Vendors are rows of aistudio.vendors carried in the snapshot (gw_vendor,
 * model/snapshot.h: name, wire format, how the key is sent, token
 * semantics); this layer knows wire formats only (registry.h). */

/* 1 when the vendor's wire format speaks it (a request can be served). */
int gw_vendor_supported(const gw_vendor *v);
/* 1 when the vendor answers errors in the OpenAI shape already (its wire is OpenAI's). */
int gw_vendor_openai_errors(const gw_vendor *v);

/* Tokens as the upstream reported them (DESIGN: recorded exactly). */
typedef struct gw_usage {
    int64_t prompt_tokens; /* as the vendor reports them (OpenAI/Google: incl. cached) */
    int64_t response_tokens;
    int64_t cache_write_tokens; /* Anthropic cache_creation_input_tokens */
    int64_t
        cache_read_tokens; /* OpenAI cached_tokens, Anthropic cache_read_input_tokens, Google cachedContentTokenCount */
    int seen;              /* the upstream reported usage at least once */
    int estimated;         /* response_tokens counted from relayed answer frames: the stream
                              ended before the vendor reported usage */
} gw_usage;

/* One inbound header (pointers into the request; not owned). */
typedef struct gw_header {
    const char *name;
    const char *value;
} gw_header;

/* How the proxy route asked for the response. */
typedef enum gw_route_kind {
    GW_ROUTE_REST,   /* /llm/rest/…: as the body says (stream only if it asks) */
    GW_ROUTE_STREAM, /* /llm/stream/…: the client wants a stream */
    GW_ROUTE_CALL,   /* /llm/call/…: auto-detect from body and path */
    GW_ROUTE_AI      /* /ai/{slug}/v1/chat/completions: OpenAI shape, translated */
} gw_route_kind;

/* What the response stream looks like, and what the processor does with it. */
typedef enum gw_proc_mode {
    GW_PROC_JSON,       /* one JSON body: relay as is, extract usage at the end */
    GW_PROC_SSE,        /* text/event-stream: relay event by event */
    GW_PROC_NDJSON,     /* Ollama: one JSON object per line */
    GW_PROC_JSON_ARRAY, /* Google streamGenerateContent without alt=sse: a JSON array of responses */
    GW_PROC_AI_JSON,    /* translate the vendor's JSON body to an OpenAI chat.completion */
    GW_PROC_AI_SSE      /* translate the vendor's stream to OpenAI chat.completion.chunk SSE + [DONE] */
} gw_proc_mode;

#define GW_MODEL_MAX (GW_MODEL_LEN_MAX + 1) /* a model name and its NUL */

/*
 * Where the text is in a request body and in its answer (the prompt a
 * content filter reads, the answer it redacts): one dialect per API shape,
 * decided by the wire format and the path (gw_vendor_dialect). Read and
 * written back by pipeline/text.h. Answers mirror requests: a chat request
 * gets a chat answer (or chunks); /ai answers are always OpenAI chat.
 */
typedef enum gw_dialect {
    GW_DIALECT_NONE = 0,           /* no text this gateway reads (embeddings, model lists, token counts, …) */
    GW_DIALECT_OPENAI_CHAT,        /* messages[].content (string or [{type:text,text}]); choices[].message.content,
                                      chunks: choices[].delta.content (OpenAI, TGI's /v1, Ollama's /v1) */
    GW_DIALECT_OPENAI_COMPLETIONS, /* prompt (string or strings); choices[].text */
    GW_DIALECT_OPENAI_RESPONSES,   /* instructions + input (string or items); output[].content[].text, stream
                                      events response.output_text.delta / .done */
    GW_DIALECT_TGI,                /* TGI native /generate(_stream): inputs; generated_text, token.text */
    GW_DIALECT_ANTHROPIC,          /* system + messages[].content (string or blocks); content[].text,
                                      content_block_delta text_delta */
    GW_DIALECT_GOOGLE,             /* systemInstruction + contents[].parts[].text; candidates[].content.parts[].text */
    GW_DIALECT_OLLAMA_CHAT,        /* messages[].content; message.content */
    GW_DIALECT_OLLAMA_GENERATE,    /* system + prompt; response */
    GW_DIALECT_COUNT
} gw_dialect;

/* The dialect of a pass-through request to vendor v at path (after
 * /llm/{kind}/{slug}), or of an /ai request (kind GW_ROUTE_AI: OpenAI chat,
 * whatever the vendor). */
gw_dialect gw_vendor_dialect(const gw_vendor *v, gw_route_kind kind, const char *path);
const char *gw_dialect_name(gw_dialect d);

/* A model name: at most GW_MODEL_LEN_MAX bytes, no control character
 * (U+0000-U+001F, U+007F). 0, or -1 with err ("the model name contains
 * control characters" / "… is longer than 255 bytes"). */
int gw_vendor_model_check(const char *model, size_t len, char err[GW_ERR_LEN]);
/* The "model" member of a request body into out, decoded and checked as
 * above: "" when absent; -1 with err when it is not a string or breaks a
 * rule (out is then ""). Never a truncated name: a client could otherwise
 * pass "gpt-4o\u0000-mini" as "gpt-4o" through allowed_models. */
int gw_vendor_model_from_json(const gw_json_value *v, char out[GW_MODEL_MAX], char err[GW_ERR_LEN]);

/* The upstream request, built by gw_vendor_prepare / gw_vendor_translate_request. */
typedef struct gw_upstream_req {
    const gw_vendor *vendor; /* the LLM's vendor (a snapshot row) */
    gw_buf url;     /* absolute URL (endpoint + path + query; client's ?key= removed) */
    gw_buf headers; /* "Name: value" lines, each NUL-terminated, ready for curl_slist_append */
    gw_buf body;    /* the body to send when body_rewritten, else send the client's body */
    int body_rewritten;
    char method[8];           /* "POST", "GET", … */
    char model[GW_MODEL_MAX]; /* "" when the request names none (then the LLM's default applies) */
    int stream;               /* the upstream response will be a stream */
    gw_proc_mode proc_mode;   /* how to process the upstream response */
    int strip_usage_chunk;    /* we injected stream_options.include_usage: do not relay the usage-only chunk;
                                 /ai streams: the client did not ask for include_usage, so the translated
                                 stream carries no usage chunk (usage is still read and recorded) */
    int64_t max_tokens;       /* the request's output cap, -1 when absent */
    size_t prompt_bytes;      /* bytes of prompt text (for the worst-case budget estimate) */
    gw_dialect dialect;       /* how the text of the upstream body and of its answer reads */
} gw_upstream_req;

void gw_upstream_req_init(gw_upstream_req *r);
void gw_upstream_req_free(gw_upstream_req *r);

/*
 * Pass-through: method and path after /llm/{kind}/{slug} (e.g.
 * "/v1/chat/completions"), the raw query string (may be NULL), the inbound
 * headers, and the body. Uses llm->api_endpoint and llm->api_key (the
 * caller checked key_state). Client auth headers (Authorization, x-api-key,
 * x-goog-api-key, api-key) and the ?key= parameter are never forwarded;
 * hop-by-hop headers neither: only an allow-list goes upstream
 * (content-type, accept, user-agent, anthropic-version, anthropic-beta,
 * openai-beta, x-stainless-*, x-mock-*); the proxy adds x-request-id itself.
 * URL = api_endpoint (no trailing slash; a trailing version segment such as
 * "/v1" is not repeated by the path) + path + query. Vertex: api_endpoint is
 * "https://REGION-aiplatform.googleapis.com/v1/projects/P/locations/L/publishers/google";
 * a short client path ("/models/m:generateContent") is appended to it, a
 * full one ("/v1/projects/…") goes on its origin. Returns 0, or -1 with
 * *status (400 for a body that is not valid JSON or a path with ".."
 * segments, 404 for an empty path, 502 for an unusable LLM configuration)
 * and err.
 */
int gw_vendor_prepare(const gw_llm *llm, gw_route_kind kind, const char *method, const char *path, const char *query,
                      const gw_header *headers, size_t nheaders, const char *body, size_t body_len,
                      gw_upstream_req *out, int *status, char err[GW_ERR_LEN]);

/*
 * The vendor's model list (OpenAI and Anthropic GET /v1/models, Google
 * GET /v1beta/models, Ollama GET /api/tags): the upstream request, with
 * the vendor key as for any call. -1 with *status 501 and err when the
 * LLM's wire format has no model list (Vertex), else as gw_vendor_prepare.
 */
int gw_vendor_models_request(const gw_llm *llm, gw_upstream_req *out, int *status, char err[GW_ERR_LEN]);
/* 1 when the LLM's wire format has a model list. */
int gw_vendor_has_models(const gw_vendor *v);
/* The model names of the list's answer (a JSON body), in its order, as a
 * JSON array of strings written to w (at most max names; *count = how many).
 * -1 with err when the body is not such a list. */
int gw_vendor_models_parse(const gw_vendor *v, const char *body, size_t len, gw_jw *w, size_t max, size_t *count,
                           char err[GW_ERR_LEN]);

/*
 * /ai/{slug}/v1/chat/completions: translates an OpenAI chat-completions body
 * (messages incl. system, temperature, top_p, max_tokens /
 * max_completion_tokens, stop, stream, tools / tool_choice where the vendor
 * has them) into the LLM's vendor request. An OpenAI-compatible vendor
 * (openai, huggingface) gets the body nearly unchanged. The model defaults
 * to llm->default_model. -1 with *status 400 and err for a body that is not
 * a valid chat-completions request.
 */
int gw_vendor_translate_request(const gw_llm *llm, const gw_header *headers, size_t nheaders, const char *body,
                                size_t body_len, gw_upstream_req *out, int *status, char err[GW_ERR_LEN]);

/* Receives relayed bytes; returns -1 when the client is gone. */
typedef int (*gw_emit_fn)(void *ctx, const char *data, size_t len);

typedef struct gw_proc_opts {
    const gw_vendor *vendor;
    gw_proc_mode mode;
    int strip_usage_chunk;
    size_t max_line_bytes;  /* SSE / NDJSON line limit; longer → error */
    size_t max_json_bytes;  /* JSON body limit for usage extraction / translation */
    const char *model;      /* for translated responses */
    const char *request_id; /* the id of translated responses ("chatcmpl-<request_id>") */
    int64_t created;        /* unix seconds for translated responses */
} gw_proc_opts;

typedef struct gw_stream_proc gw_stream_proc;

int gw_stream_proc_create(const gw_proc_opts *opts, gw_emit_fn emit, void *emit_ctx, gw_stream_proc **out,
                          char err[GW_ERR_LEN]);
/*
 * Feeds upstream bytes (any split). Complete frames are emitted as they
 * arrive (never buffered until the end, except JSON modes which must see the
 * whole body). Returns 0; -1 when emit reported the client gone
 * (*client_gone = 1) or the upstream broke a limit/format (err).
 */
int gw_stream_proc_feed(gw_stream_proc *p, const char *data, size_t len, int *client_gone, char err[GW_ERR_LEN]);
/*
 * The upstream finished (cleanly or not). JSON modes now emit the (possibly
 * translated) body; AI_SSE emits the final chunk (with usage when the
 * client asked for include_usage) and "data: [DONE]". Returns -1 with err
 * when the stream ended without the vendor's end marker (then the proxy
 * sends gw_vendor_stream_error instead of a clean end).
 */
int gw_stream_proc_finish(gw_stream_proc *p, int *client_gone, char err[GW_ERR_LEN]);
void gw_stream_proc_usage(const gw_stream_proc *p, gw_usage *out);
/* The upstream's reported model, if any ("" otherwise). */
const char *gw_stream_proc_model(const gw_stream_proc *p);
void gw_stream_proc_destroy(gw_stream_proc *p);

/*
 * The error event a client of this vendor/mode understands, for a stream cut
 * after its first byte (OpenAI/AI: `data: {"error":…}`; Anthropic:
 * `event: error`; Google: `data: {"error":…}`; Ollama: `{"error":"…"}\n`).
 */
int gw_vendor_stream_error(const gw_vendor *v, gw_proc_mode mode, const char *message, gw_buf *out);

/*
 * A whole error answer in the vendor's own shape, for a request the gateway
 * refuses on a pass-through route (a content filter's block): Anthropic
 * {"type":"error","error":{"type","message","code"}}, Google
 * {"error":{"code","message","status","details":[{reason: code}]}}, Ollama
 * {"error":"code: message"}; the OpenAI shape {"error":{message,type,code}}
 * for OpenAI-compatible vendors (and unknown ones).
 */
int gw_vendor_error_body(const gw_vendor *v, int status, const char *code, const char *message, gw_buf *out);

/* Content-Type of the response the client gets for a mode. */
const char *gw_proc_content_type(gw_proc_mode mode);

#endif
