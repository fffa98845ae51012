/*
 * mock_http.h: incremental HTTP/1.x request parser for the mock upstream.
 * It owns the request line, the headers the mock cares about, the
 * keep-alive decision and the body framing (Content-Length or chunked
 * transfer coding), with the limits: head <= 64 KiB (431), body <= 16 MiB
 * (413), request-target <= 8 KiB (414).  Safe for pipelining: it reports how
 * many input bytes one request used, the rest belongs to the next request.
 */
#ifndef MOCK_HTTP_H
#define MOCK_HTTP_H

#include <stddef.h>

#include "mock_buf.h"

#define MOCK_MAX_HEAD (64 * 1024)
#define MOCK_MAX_BODY (16 * 1024 * 1024)
#define MOCK_MAX_TARGET 8192
#define MOCK_HDR_VAL 512

typedef struct mock_req {
	char method[16];
	char target[MOCK_MAX_TARGET];	/* raw request-target, NUL-terminated */
	size_t path_len;		/* bytes of target before '?' */
	const char *query;		/* after '?', or "" */
	int http_minor;			/* HTTP/1.x */
	int keep_alive;
	int expect_continue;
	/* headers of interest, truncated to MOCK_HDR_VAL-1; has_* if present */
	char request_id[MOCK_HDR_VAL];
	char authorization[MOCK_HDR_VAL];
	char x_api_key[MOCK_HDR_VAL];
	char goog_api_key[MOCK_HDR_VAL];
	char anthropic_version[MOCK_HDR_VAL];
	int has_request_id, has_authorization, has_x_api_key, has_goog_api_key,
		has_anthropic_version;
	long cached_tokens;		/* x-mock-cached-tokens, 0 if absent */
	long cache_write_tokens;	/* x-mock-cache-write-tokens */
	long prompt_tokens;		/* x-mock-prompt-tokens (may be negative) */
	int has_prompt_tokens;
	char answer[MOCK_HDR_VAL];	/* x-mock-answer: the completion's text, '|' between frames */
	int has_answer;
	int ledger_body;		/* x-mock-ledger-body: 1: the ledger keeps the request body */
	const char *body;		/* valid until the request is consumed */
	size_t body_len;
} mock_req;

enum {
	MOCK_PARSE_HEAD = 0,
	MOCK_PARSE_BODY_CL,
	MOCK_PARSE_BODY_CHUNKED,
};

typedef struct mock_parser {
	int state;
	size_t scan;		/* where the search for the end of head resumes */
	size_t head_len;
	size_t content_length;
	int headers_done;	/* head parsed (for 100-continue) */
	/* chunked decoding */
	int cstate;
	size_t cpos;		/* input offset of the next unparsed byte */
	size_t chunk_left;
	mock_buf body;		/* decoded chunked body */
} mock_parser;

/*
 * Feed the whole pending input (in[0..len)).  Returns 1 when a request is
 * complete (*used = its bytes), 0 when more input is needed, -1 on a bad
 * request (*status = 400/413/414/431/501; the connection must be closed
 * after the error response).
 */
int mock_http_parse(mock_parser *p, mock_req *r, const char *in, size_t len,
		    size_t *used, int *status);
/* Ready the parser for the next request on the connection. */
void mock_http_next(mock_parser *p);
void mock_http_free(mock_parser *p);

/* Value of a query parameter (undecoded, truncated); 1 if found. */
int mock_http_query(const char *query, const char *name, char *out, size_t outsz);

const char *mock_http_reason(int status);

#endif
