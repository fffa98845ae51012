/*
 * plugins/sdk/aistudio_plugin.h: the C SDK for pg_aistudio plugins
 * (docs/plugins.md is the guide). A plugin is a program that registers
 * handlers for the hooks it implements and calls aistudio_plugin_serve():
 *
 *     static void firewall(const aistudio_request *req, aistudio_result *res, void *user)
 *     {
 *         for (size_t i = 0; i < req->ntexts; i++)
 *             if (strstr(req->texts[i].text, "ignore previous instructions") != NULL)
 *                 aistudio_result_block(res, 403, "blocked_by_filter", "the prompt was refused");
 *     }
 *
 *     int main(int argc, char **argv)
 *     {
 *         aistudio_plugin_info("com.example.firewall", "Firewall", "1.0.0", "blocks phrases");
 *         aistudio_plugin_on_request(AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_POST_AUTH), firewall, NULL);
 *         return aistudio_plugin_serve(argc, argv);
 *     }
 *
 * Build: link libaistudio_plugin.a (`make plugins`) with
 * `pkg-config --libs grpc libprotobuf-c` and -pthread.
 *
 * The same binary works under a standalone gateway, a hub and an edge:
 * it only sees hook calls (proto/aistudio/v1/plugin.proto). Started by
 * gatewayd it finds its private directory in $AISTUDIO_PLUGIN_DIR, makes
 * its socket there, prints the handshake line on stdout and serves until
 * SIGTERM or until its stdin closes (gatewayd is gone). Started by hand it
 * makes a private directory under /tmp (or uses --socket PATH) and prints
 * the same line, so a test client can talk to it.
 *
 * Threads. Handlers run on the SDK's worker threads (several at once, for
 * different requests): keep shared state read-only after configure, or
 * lock it. The calls of one streamed answer (open, each chunk, close) run
 * one at a time, in order. A handler must answer within the deadline the
 * gateway gives (timeout_ms in the plugin's configuration, 100 ms by
 * default); a late answer fails the request (503 plugin_unavailable, or
 * the request goes on without the plugin when its attachment is
 * fail_open).
 *
 * Memory. Everything a handler receives lives until it returns; what it
 * gives the result is copied.
 */
#ifndef AISTUDIO_PLUGIN_H
#define AISTUDIO_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aistudio_hook {
    AISTUDIO_HOOK_PRE_AUTH = 1,   /* before the caller's credential is checked */
    AISTUDIO_HOOK_AUTH = 2,       /* authenticates the request (may set the app) */
    AISTUDIO_HOOK_POST_AUTH = 3,  /* after access and budget checks, before the upstream call */
    AISTUDIO_HOOK_ON_RESPONSE = 4 /* the answer on its way to the client */
} aistudio_hook;

#define AISTUDIO_HOOK_BIT(h) (1u << (h))

/* "pre_auth", "auth", "post_auth", "on_response". */
const char *aistudio_hook_name(aistudio_hook hook);

typedef struct aistudio_header {
    const char *name; /* lower-case */
    const char *value;
} aistudio_header;

typedef struct aistudio_text {
    const char *role; /* "system", "user", "assistant", ... or "" */
    const char *text;
} aistudio_text;

/* What the gateway knows about the request (RequestContext). */
typedef struct aistudio_context {
    const char *request_id;
    aistudio_hook hook;
    const char *route; /* "rest", "stream", "call" (pass-through), "ai" or "chat" */
    int64_t llm_id;
    const char *llm_slug;
    const char *vendor;
    const char *dialect; /* how the body's text reads: "openai_chat", "anthropic", "google", ... */
    const char *model;       /* "" before post_auth */
    int64_t app_id;          /* 0 while unknown */
    int64_t user_id;
    const char *namespace_;
    int streaming; /* on_response: the answer is streamed */
} aistudio_context;

/* A request hook's input (pre_auth, auth, post_auth). */
typedef struct aistudio_request {
    const aistudio_context *ctx;
    const char *method;
    const char *path;
    const aistudio_header *headers; /* the client's, credentials removed (docs/plugins.md) */
    size_t nheaders;
    const unsigned char *body;
    size_t body_len;
    const aistudio_text *texts; /* the prompt, as the gateway reads it in any wire format */
    size_t ntexts;
} aistudio_request;

/* on_response for an answer that is one JSON body. */
typedef struct aistudio_response {
    const aistudio_context *ctx;
    const unsigned char *body;
    size_t body_len;
    const aistudio_text *texts; /* the answer's texts (one per choice, candidate or block) */
    size_t ntexts;
} aistudio_response;

/* on_response for a streamed answer: one chunk (a frame) at a time. */
typedef struct aistudio_chunk {
    const aistudio_context *ctx;
    unsigned index;
    const unsigned char *data; /* the frame as the client would get it */
    size_t len;
    const char *text; /* the text it carries ("" when none) */
    int end;          /* the answer ends with this chunk (data may be empty): return what was held back
                         with set_text */
} aistudio_chunk;

/* The value of header name (case-insensitive) or NULL. */
const char *aistudio_request_header(const aistudio_request *req, const char *name);

/*
 * The answer a handler builds. Untouched, it says CONTINUE. Any change
 * makes it MODIFY; aistudio_result_block makes it BLOCK (the changes are
 * then ignored). Functions return 0, or -1 when out of memory or given a
 * bad argument (an index out of range, a header name that is not a token).
 */
typedef struct aistudio_result aistudio_result;

/* Blocks: status 400..599 (0: 403), code a short token (NULL:
 * "blocked_by_plugin"), a message for the client. */
void aistudio_result_block(aistudio_result *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replaces text i of the request or the JSON answer (the gateway writes it
 * back into the body in its own format); for a chunk, i is 0 (its text). */
int aistudio_result_set_text(aistudio_result *res, size_t i, const char *text);
/* Replaces the whole body (request or JSON answer) or the chunk's bytes (empty drops the frame). */
int aistudio_result_set_body(aistudio_result *res, const void *body, size_t len);
/* Request hooks: a header to set on the upstream request. */
int aistudio_result_set_header(aistudio_result *res, const char *name, const char *value);
/* Sends the upstream request to this base URL instead of the LLM's endpoint. */
int aistudio_result_set_upstream(aistudio_result *res, const char *base_url);
/* auth hook: the request is from this app (and user, when > 0). */
void aistudio_result_set_caller(aistudio_result *res, int64_t app_id, int64_t user_id);

/* ---- handlers ---- */

/* The plugin's configuration (a JSON object) for the hook this instance
 * serves; 0 to accept, -1 after writing why into err (errlen bytes). */
typedef int (*aistudio_configure_fn)(const char *config_json, aistudio_hook hook, char *err, size_t errlen,
                                     void *user);
typedef void (*aistudio_request_fn)(const aistudio_request *req, aistudio_result *res, void *user);
typedef void (*aistudio_response_fn)(const aistudio_response *resp, aistudio_result *res, void *user);
/* A streamed answer begins; returns the state its chunks get (may be NULL). */
typedef void *(*aistudio_stream_open_fn)(const aistudio_context *ctx, void *user);
typedef void (*aistudio_stream_chunk_fn)(void *state, const aistudio_chunk *chunk, aistudio_result *res, void *user);
/* The answer ended (after its end chunk, or cut): free the state. */
typedef void (*aistudio_stream_close_fn)(void *state, void *user);

/* The manifest: an id ("com.example.firewall"), a name, a version. */
void aistudio_plugin_info(const char *id, const char *name, const char *version, const char *description);
void aistudio_plugin_on_configure(aistudio_configure_fn fn, void *user);
/* hooks: AISTUDIO_HOOK_BIT(...) of pre_auth, auth, post_auth. */
void aistudio_plugin_on_request(unsigned hooks, aistudio_request_fn fn, void *user);
/* on_response, JSON answers. */
void aistudio_plugin_on_response(aistudio_response_fn fn, void *user);
/* on_response, streamed answers (the manifest then says streaming_response). */
void aistudio_plugin_on_stream(aistudio_stream_open_fn open, aistudio_stream_chunk_fn chunk,
                               aistudio_stream_close_fn close, void *user);
/* The sandbox keeps the network for this plugin (off by default). */
void aistudio_plugin_needs_network(int yes);

/*
 * Serves until SIGTERM/SIGINT, or until stdin closes when started by a
 * gateway. Options: --socket PATH (by hand: where to listen), --manifest
 * (print the manifest as JSON and exit), --help. Returns the process exit
 * status: 0 after a clean stop, 1 when it could not serve, 2 for bad
 * arguments.
 */
int aistudio_plugin_serve(int argc, char **argv);

/* One line on stderr, which the gateway logs as "plugin NAME: ...". */
void aistudio_plugin_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- reading the configuration: JSON over spans of the text, no tree ---- */

typedef enum aistudio_json_type {
    AISTUDIO_JSON_ABSENT = 0,
    AISTUDIO_JSON_OBJECT,
    AISTUDIO_JSON_ARRAY,
    AISTUDIO_JSON_STRING,
    AISTUDIO_JSON_NUMBER,
    AISTUDIO_JSON_TRUE,
    AISTUDIO_JSON_FALSE,
    AISTUDIO_JSON_NULL
} aistudio_json_type;

typedef struct aistudio_json {
    aistudio_json_type type;
    const char *ptr;
    size_t len;
} aistudio_json;

typedef struct aistudio_json_iter {
    const char *p;
    const char *end;
    int array;
} aistudio_json_iter;

/* Validates text as one JSON value; -1 with a message in err. */
int aistudio_json_parse(const char *text, aistudio_json *root, char *err, size_t errlen);
/* Member key of an object: 1 found, 0 not. */
int aistudio_json_get(const aistudio_json *obj, const char *key, aistudio_json *out);
/* A string value decoded into out (NUL-terminated); -1 when not a string,
 * holding a NUL, or longer than cap - 1 bytes. */
int aistudio_json_string(const aistudio_json *v, char *out, size_t cap);
/* A string value as a malloc'd copy (free it), NULL when not a string. */
char *aistudio_json_strdup(const aistudio_json *v);
int aistudio_json_int(const aistudio_json *v, int64_t *out);
int aistudio_json_bool(const aistudio_json *v, int *out);
/* The elements of an array: init, then next until it returns 0. */
void aistudio_json_iter_init(aistudio_json_iter *it, const aistudio_json *array);
int aistudio_json_next(aistudio_json_iter *it, aistudio_json *elem);

#ifdef __cplusplus
}
#endif

#endif
