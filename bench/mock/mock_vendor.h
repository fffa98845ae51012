/*
 * mock_vendor.h: what the mock answers.  mock_vendor.c owns routing, the
 * per-vendor auth check, fault selection from the model name, the
 * deterministic token counts and the control endpoints (/__health,
 * /__ledger); mock_render.c owns the bytes on the wire for each vendor
 * (JSON bodies, SSE / NDJSON frames, error shapes).
 *
 * Token rules (deterministic, documented for the tests and benchmarks):
 *   P (uncached prompt) = for every message / content entry: 3 + number of
 *     whitespace-separated words of its text (string content, or the "text"
 *     of its parts); a system prompt counts as one more entry.  Ollama
 *     /api/generate: 3 + words(prompt) (+ 3 + words(system)).  Embeddings:
 *     words of all inputs (no +3).
 *   C = x-mock-cached-tokens, Wr = x-mock-cache-write-tokens (request
 *     headers, default 0).
 *   completion = words produced: 8 for a JSON answer, --frames for a stream
 *     (one word per frame), or size/8 words for a big-<kb> model.
 *   OpenAI/TGI: prompt_tokens = P + C, cached_tokens = C.
 *   Gemini/Vertex: promptTokenCount = P + C, cachedContentTokenCount = C.
 *   Anthropic: input_tokens = P, cache_read_input_tokens = C,
 *     cache_creation_input_tokens = Wr.
 *   Ollama: prompt_eval_count = P, eval_count = completion (no cache).
 *   x-mock-prompt-tokens: N (request header, may be negative) makes the
 *     reported prompt count N whatever P and C are (prompt_tokens /
 *     promptTokenCount / input_tokens / prompt_eval_count), so a test can
 *     send usage that breaks the vendor's own rules (N < C, N < 0).
 *
 * Answer (request header x-mock-answer: TEXT): the completion's text is
 * exactly TEXT (JSON-escaped); a stream sends one frame per piece of TEXT
 * cut at '|' (the '|' themselves are not sent), so a test can split a word
 * or a number over two frames; completion tokens = the number of pieces.
 * Request header x-mock-ledger-body: 1 keeps the first MOCK_LEDGER_BODY
 * bytes of the request body in its ledger entry ("body").
 *
 * Echo (a model name containing "echo-headers"): the answer's text (the
 * JSON content, every stream frame, and the message of an error chosen by
 * a fault-* in the same model name) starts with the credentials the mock
 * received ("authorization=…; x-api-key=…; x-goog-api-key=…; key=…", the
 * ones present), and every response head carries them in
 * "x-ratelimit-echo:" — an upstream that leaks the vendor key back, for
 * the gateway's redaction tests.
 */
#ifndef MOCK_VENDOR_H
#define MOCK_VENDOR_H

#include "mock_buf.h"
#include "mock_http.h"
#include "mock_json.h"

#define MOCK_LEDGER_BODY 4096

typedef struct mock_config {
	const char *host;
	int port;
	int threads;
	int latency_ms;
	int frames;
	int frame_interval_ms;
	const char *expect_key;
} mock_config;

enum mock_vendor_id {
	MV_CONTROL = 0, MV_UNKNOWN, MV_OPENAI, MV_ANTHROPIC, MV_GOOGLE, MV_VERTEX, MV_OLLAMA
};

enum mock_kind {
	MK_STATIC = 0,		/* complete response already rendered */
	MK_OPENAI_CHAT,
	MK_ANTHROPIC_MSG,
	MK_GOOGLE_GEN,
	MK_OLLAMA_CHAT,
	MK_OLLAMA_GEN,
};

enum mock_fault { MF_NONE = 0, MF_500, MF_429, MF_RESET, MF_STALL };

enum mock_step { MOCK_STEP_MORE, MOCK_STEP_DONE, MOCK_STEP_RESET, MOCK_STEP_STALL };

typedef struct mock_resp {
	int record;		/* goes into the ledger */
	int vendor;		/* enum mock_vendor_id */
	int kind;		/* enum mock_kind */
	int status;
	int stream;		/* framed response, produced step by step */
	int chunked;		/* Transfer-Encoding: chunked (else close-delimited) */
	int keep_alive;
	int fault;		/* enum mock_fault */
	int delay_ms;		/* before the first byte */
	int include_usage;	/* OpenAI stream_options.include_usage */
	int sse;		/* Google: alt=sse (else a streamed JSON array) */
	int usage_sent;
	int frames;		/* frames of a stream */
	int frame_idx;		/* next frame to produce */
	long words;		/* completion words */
	long big_bytes;		/* big-<kb>: content size, 0 = normal words */
	long prompt_tokens;	/* P: uncached prompt */
	long cache_read;	/* C */
	long cache_write;	/* Wr */
	long long created;	/* unix seconds */
	char created_at[64];	/* RFC 3339 for Ollama */
	char id[64];
	char model[256];
	char fault_name[32];
	char query_key[MOCK_HDR_VAL];
	int has_query_key;
	char echo[4 * MOCK_HDR_VAL + 64];	/* echo-headers: the credentials seen; "" = off */
	char answer[MOCK_HDR_VAL];	/* x-mock-answer ("" = the usual words) */
	int has_answer;
	char body[MOCK_LEDGER_BODY];	/* x-mock-ledger-body: the request body, cut */
	int has_body;
} mock_resp;

/*
 * Decide the answer to a parsed request.  Non-streamed answers (including
 * all errors) are rendered completely into out (status line to body); for a
 * stream out receives nothing and the caller uses mock_vendor_stream_head()
 * and mock_vendor_stream_step().  seq is unique per request in the process.
 */
void mock_vendor_handle(const mock_config *cfg, const mock_req *req,
			mock_jarena *ja, unsigned long long seq,
			mock_resp *resp, mock_buf *out, mock_buf *scratch);

/* status line and headers of a stream (raw bytes, not chunk-framed) */
void mock_vendor_stream_head(const mock_resp *r, mock_buf *out);
/* the payload of the next frame into f (the caller frames it as a chunk) */
int mock_vendor_stream_step(mock_resp *r, mock_buf *f);

/* token numbers as reported by the vendor (for the ledger) */
void mock_vendor_usage(const mock_resp *r, long *prompt, long *completion,
		       long *total);
const char *mock_vendor_name(int vendor);

/* mock_render.c */
void mock_render_head(mock_buf *out, int status, const char *ctype,
		      long long content_length, int keep_alive, const char *extra);
void mock_render_error(mock_resp *r, mock_buf *out, int status,
		       const char *message);
void mock_render_json(mock_resp *r, mock_buf *out, mock_buf *body);

#endif
