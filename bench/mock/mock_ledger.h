/*
 * mock_ledger.h: the in-memory record of every vendor request the mock
 * answered or lost (bounded ring of MOCK_LEDGER_CAP entries, oldest dropped
 * first), shared by all worker threads behind one mutex.  Tests read it with
 * GET /__ledger[?since=N][&limit=M] and clear it with POST /__ledger/reset.
 *
 * Entry fields (JSON names): idx, ts_ms, duration_ms, request_id, vendor,
 * method, path, model, stream, status (0 when no response head was sent),
 * outcome ("completed", "client_gone",
 * "reset"), fault, frames_sent, usage_sent, prompt_tokens (as the vendor's
 * usage reports it: OpenAI prompt_tokens, Anthropic input_tokens, Gemini
 * promptTokenCount, Ollama prompt_eval_count), completion_tokens,
 * total_tokens, cache_read_tokens, cache_write_tokens, and auth: the raw
 * values of authorization, x-api-key, x-goog-api-key, the ?key= query
 * parameter and anthropic-version (null when absent); body, the request
 * body when it carried x-mock-ledger-body: 1 (else null).
 */
#ifndef MOCK_LEDGER_H
#define MOCK_LEDGER_H

#include "mock_buf.h"

#define MOCK_LEDGER_CAP 100000

typedef struct mock_ledger_entry {
	unsigned long long idx;		/* set by mock_ledger_record */
	long long ts_ms;		/* wall clock, ms since epoch */
	long duration_ms;
	const char *request_id;
	const char *vendor;
	const char *method;
	const char *path;
	const char *model;
	const char *outcome;
	const char *fault;
	const char *authorization;	/* NULL when absent */
	const char *x_api_key;
	const char *goog_api_key;
	const char *query_key;
	const char *anthropic_version;
	const char *body;		/* the request body (x-mock-ledger-body: 1), else NULL */
	int stream;
	int status;
	int frames_sent;
	int usage_sent;
	long prompt_tokens;
	long completion_tokens;
	long total_tokens;
	long cache_read_tokens;
	long cache_write_tokens;
} mock_ledger_entry;

void mock_ledger_init(void);
/* copies every string of e */
void mock_ledger_record(const mock_ledger_entry *e);
/* JSON array of the entries with idx >= since, at most limit of them */
void mock_ledger_dump(mock_buf *out, unsigned long long since, size_t limit,
		      unsigned long long *next_idx);
void mock_ledger_reset(void);

#endif
