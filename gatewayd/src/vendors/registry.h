/*
 * src/vendors/registry.h: the registry of wire formats. Everything that
 * differs between LLM APIs is a row of operations (gw_wire_ops), one per
 * wire format (openai.c, anthropic.c, google.c, ollama.c each define one);
 * the dispatchers (vendor.c: pass-through requests, translate.c: /ai
 * requests, stream.c: the answers) reach a vendor's code only through its
 * row, and no wire file names another one.
 *
 * Which vendors exist, which wire format each speaks and how its key is sent
 * is not written here: it is the extension's table aistudio.vendors,
 * carried in the snapshot (gw_vendor, model/snapshot.h). A row names its
 * wire format; gw_wire_of finds that format's operations here.
 */
#ifndef GW_VENDORS_REGISTRY_H
#define GW_VENDORS_REGISTRY_H

#include "vendors/vendor_int.h"

typedef enum gw_wire {
    GW_WIRE_OPENAI = 0, /* OpenAI chat/completions, responses; Hugging Face TGI (also /generate_stream) */
    GW_WIRE_ANTHROPIC,  /* Anthropic Messages */
    GW_WIRE_GOOGLE,     /* Gemini API generateContent */
    GW_WIRE_VERTEX,     /* Gemini on Vertex AI: Google's wire with project-scoped paths */
    GW_WIRE_OLLAMA,     /* Ollama's native API (its /v1 routes are OpenAI's) */
    GW_WIRE_COUNT
} gw_wire;

/* How a vendor's stream cut is told to its client (gw_vendor_stream_error). */
typedef enum gw_error_style {
    GW_ERRSTYLE_OPENAI = 0, /* data: {"error":{"message","type","code"}} */
    GW_ERRSTYLE_ANTHROPIC,  /* event: error, {"type":"error","error":{"type","message"}} */
    GW_ERRSTYLE_GOOGLE,     /* {"error":{"code","message","status"}} */
    GW_ERRSTYLE_OLLAMA      /* {"error":"…"} */
} gw_error_style;

typedef struct gw_wire_ops {
    const char *name;

    /* ---- pass-through requests (gw_vendor_prepare) ---- */
    /* model, stream, output cap, prompt size, body rewrites of the client's request */
    int (*prepare)(gw_prep *pp, int *status, char err[GW_ERR_LEN]);
    /* paths under compat_prefix are the compat wire's (NULL: none); the
     * answer readers this row lacks (NULL below) are the compat wire's too */
    const char *compat_prefix;
    gw_wire compat;
    /* where the text of a request to path is (and of its answer); the /ai
     * request body this row writes reads as ai_dialect */
    gw_dialect (*dialect)(const char *path);
    gw_dialect ai_dialect;
    /* a header the client may choose and its default (Anthropic's version) */
    const char *version_header;
    const char *version_default;

    /* ---- /ai requests (gw_vendor_translate_request) ---- */
    /* the model name as this API wants it in place (NULL: any checked name) */
    int (*ai_model)(char model[GW_MODEL_MAX], char err[GW_ERR_LEN]);
    /* the request body from the OpenAI one (into w, or a rewrite of out->body) */
    int (*ai_request)(gw_tr *t, gw_jw *w, gw_buf *tmp, char err[GW_ERR_LEN]);
    /* the path (and query) of the chat call on the endpoint */
    int (*ai_path)(const gw_tr *t, gw_buf *path, const char **query);

    /* ---- the answer (gw_stream_proc) ---- */
    int (*sse)(gw_stream_proc *p, const gw_sse_event *ev);        /* one SSE event */
    int (*line)(gw_stream_proc *p, const char *line, size_t len); /* one NDJSON line */
    int (*elem)(gw_stream_proc *p, const char *text, size_t len); /* one element of a streamed JSON array */
    int (*json)(gw_stream_proc *p, const gw_json_value *root);    /* the whole JSON body */
    int ai_stream_ndjson;                                         /* its /ai streams are NDJSON lines, not SSE */
    int openai_errors;                                            /* it answers errors in the OpenAI shape already */
    int project_paths; /* a client path "/v1/projects/…" goes on the endpoint's origin (Vertex) */
    /* ---- the model list (gw_vendor_models_request / _parse; NULL path: none) ---- */
    const char *models_path;   /* GET on the endpoint, e.g. "/v1/models" */
    const char *models_array;  /* the answer's member holding the list ("data", "models") */
    const char *models_field;  /* each element's member naming the model ("id", "name") */
    const char *models_prefix; /* stripped from the names when present ("models/"), or NULL */
    gw_error_style error_style;                                   /* its error event */
} gw_wire_ops;

/* The rows (each defined in its wire's file; only registry.c names them). */
extern const gw_wire_ops gw_wire_openai;
extern const gw_wire_ops gw_wire_anthropic;
extern const gw_wire_ops gw_wire_google;
extern const gw_wire_ops gw_wire_vertex;
extern const gw_wire_ops gw_wire_ollama;

/* The operations of a vendor's wire format (gw_vendor.wire_format); NULL
 * for a vendor without one or a format this gateway does not speak. */
const gw_wire_ops *gw_wire_of(const gw_vendor *v);
/* The row of a wire format. */
const gw_wire_ops *gw_wire_get(gw_wire w);

#endif
