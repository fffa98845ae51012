/*
 * mock_render.c: the bytes on the wire for each vendor (see mock_vendor.h):
 * response heads, error bodies in each vendor's own shape, complete JSON
 * answers, and the frames of OpenAI/TGI SSE, Anthropic SSE, Gemini SSE (or
 * streamed JSON array) and Ollama NDJSON streams.
 */
#include "mock_vendor.h"

#include <string.h>

static const char *const WORDS[] = {
	"Hello", "from", "the", "mock", "upstream", "model", "stream", "word"
};

#define BIG_WORD "abcdefg"	/* 7 bytes + a space: 8 bytes per word */

void
mock_render_head(mock_buf *out, int status, const char *ctype,
		 long long content_length, int keep_alive, const char *extra)
{
	mock_buf_puts(out, "HTTP/1.1 ");
	mock_buf_int(out, status);
	mock_buf_putc(out, ' ');
	mock_buf_puts(out, mock_http_reason(status));
	mock_buf_puts(out, "\r\nServer: mock_upstream\r\nContent-Type: ");
	mock_buf_puts(out, ctype);
	if (content_length >= 0) {
		mock_buf_puts(out, "\r\nContent-Length: ");
		mock_buf_int(out, content_length);
	}
	mock_buf_puts(out, "\r\n");
	if (!keep_alive)
		mock_buf_puts(out, "Connection: close\r\n");
	if (extra)
		mock_buf_puts(out, extra);
	mock_buf_puts(out, "\r\n");
}

/* echo-headers: the head line that hands the credentials back */
static void
echo_header(const mock_resp *r, mock_buf *h)
{
	if (r->echo[0] == '\0')
		return;
	mock_buf_puts(h, "x-ratelimit-echo: ");
	mock_buf_puts(h, r->echo);
	mock_buf_puts(h, "\r\n");
}

static void
finish(mock_resp *r, mock_buf *out, mock_buf *body, const char *ctype,
       const char *extra)
{
	mock_buf h = {0};

	if (extra)
		mock_buf_puts(&h, extra);
	echo_header(r, &h);
	mock_buf_putc(&h, '\0');
	mock_render_head(out, r->status, ctype, (long long) body->len, r->keep_alive, h.data);
	mock_buf_put(out, body->data, body->len);
	mock_buf_free(&h);
}

/* s as the inside of a JSON string (no quotes) */
static void
put_escaped(mock_buf *b, const char *s)
{
	mock_buf t = {0};

	mock_buf_jstr(&t, s);
	if (t.len >= 2)
		mock_buf_put(b, t.data + 1, t.len - 2);
	mock_buf_free(&t);
}

/* pieces [from, to) of an x-mock-answer text (cut at '|'), JSON-safe */
static void
put_pieces(const mock_resp *r, mock_buf *b, long from, long to)
{
	mock_buf t = {0};
	const char *s = r->answer;
	long k = 0;

	while (*s != '\0' || k == 0) {
		const char *bar = strchr(s, '|');
		size_t n = bar != NULL ? (size_t) (bar - s) : strlen(s);

		if (k >= from && k < to)
			mock_buf_put(&t, s, n);
		k++;
		if (bar == NULL)
			break;
		s = bar + 1;
	}
	mock_buf_putc(&t, '\0');
	put_escaped(b, t.data);
	mock_buf_free(&t);
}

/* words [from, to) of the completion text, JSON-safe, no quotes */
static void
put_words(const mock_resp *r, mock_buf *b, long from, long to)
{
	if (r->has_answer) {
		put_pieces(r, b, from, to);
		return;
	}
	if (r->echo[0] != '\0') {
		put_escaped(b, r->echo);
		mock_buf_putc(b, ' ');
	}
	for (long k = from; k < to; k++) {
		if (k > 0)
			mock_buf_putc(b, ' ');
		if (r->big_bytes)
			mock_buf_put(b, BIG_WORD, sizeof(BIG_WORD) - 1);
		else
			mock_buf_puts(b, WORDS[k % 8]);
	}
}

void
mock_render_error(mock_resp *r, mock_buf *out, int status, const char *message)
{
	mock_buf body = {0};
	const char *extra = status == 429 ? "Retry-After: 1\r\n" : NULL;
	const char *t;

	mock_buf said = {0};

	if (r->echo[0] != '\0') {
		mock_buf_printf(&said, "%s (%s)", message, r->echo);
		mock_buf_putc(&said, '\0');
		message = said.data;
	}
	r->status = status;
	r->stream = 0;
	r->kind = MK_STATIC;
	switch (r->vendor) {
	case MV_ANTHROPIC:
		t = status == 401 ? "authentication_error" :
			status == 404 ? "not_found_error" :
			status == 413 ? "request_too_large" :
			status == 429 ? "rate_limit_error" :
			status >= 500 ? "api_error" : "invalid_request_error";
		mock_buf_puts(&body, "{\"type\":\"error\",\"error\":{\"type\":");
		mock_buf_jstr(&body, t);
		mock_buf_puts(&body, ",\"message\":");
		mock_buf_jstr(&body, message);
		mock_buf_puts(&body, "},\"request_id\":");
		mock_buf_jstr(&body, r->id);
		mock_buf_puts(&body, "}");
		break;
	case MV_GOOGLE:
	case MV_VERTEX:
		t = status == 401 ? "UNAUTHENTICATED" :
			status == 403 ? "PERMISSION_DENIED" :
			status == 404 ? "NOT_FOUND" :
			status == 429 ? "RESOURCE_EXHAUSTED" :
			status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
		mock_buf_puts(&body, "{\"error\":{\"code\":");
		mock_buf_int(&body, status);
		mock_buf_puts(&body, ",\"message\":");
		mock_buf_jstr(&body, message);
		mock_buf_puts(&body, ",\"status\":");
		mock_buf_jstr(&body, t);
		mock_buf_puts(&body, "}}");
		break;
	case MV_OLLAMA:
		mock_buf_puts(&body, "{\"error\":");
		mock_buf_jstr(&body, message);
		mock_buf_puts(&body, "}");
		break;
	default:		/* OpenAI / TGI shape, also for control and unknown */
		t = status == 429 ? "requests" :
			status >= 500 ? "server_error" : "invalid_request_error";
		mock_buf_puts(&body, "{\"error\":{\"message\":");
		mock_buf_jstr(&body, message);
		mock_buf_puts(&body, ",\"type\":");
		mock_buf_jstr(&body, t);
		mock_buf_puts(&body, ",\"param\":null,\"code\":");
		mock_buf_jstr(&body, status == 401 ? "invalid_api_key" :
			      status == 429 ? "rate_limit_exceeded" : NULL);
		mock_buf_puts(&body, "}}");
		break;
	}
	mock_buf_putc(&body, '\n');
	finish(r, out, &body, "application/json", extra);
	mock_buf_free(&body);
	mock_buf_free(&said);
}

static void
openai_usage(const mock_resp *r, mock_buf *b)
{
	long p = r->prompt_tokens + r->cache_read;

	mock_buf_puts(b, "{\"prompt_tokens\":");
	mock_buf_int(b, p);
	mock_buf_puts(b, ",\"completion_tokens\":");
	mock_buf_int(b, r->words);
	mock_buf_puts(b, ",\"total_tokens\":");
	mock_buf_int(b, p + r->words);
	mock_buf_puts(b, ",\"prompt_tokens_details\":{\"cached_tokens\":");
	mock_buf_int(b, r->cache_read);
	mock_buf_puts(b, ",\"audio_tokens\":0},\"completion_tokens_details\":"
		      "{\"reasoning_tokens\":0,\"audio_tokens\":0,"
		      "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}");
}

static void
anthropic_usage(const mock_resp *r, mock_buf *b, long output)
{
	mock_buf_puts(b, "{\"input_tokens\":");
	mock_buf_int(b, r->prompt_tokens);
	mock_buf_puts(b, ",\"cache_creation_input_tokens\":");
	mock_buf_int(b, r->cache_write);
	mock_buf_puts(b, ",\"cache_read_input_tokens\":");
	mock_buf_int(b, r->cache_read);
	mock_buf_puts(b, ",\"output_tokens\":");
	mock_buf_int(b, output);
	mock_buf_puts(b, ",\"service_tier\":\"standard\"}");
}

static void
google_usage(const mock_resp *r, mock_buf *b)
{
	long p = r->prompt_tokens + r->cache_read;

	mock_buf_puts(b, "\"usageMetadata\":{\"promptTokenCount\":");
	mock_buf_int(b, p);
	mock_buf_puts(b, ",\"candidatesTokenCount\":");
	mock_buf_int(b, r->words);
	mock_buf_puts(b, ",\"totalTokenCount\":");
	mock_buf_int(b, p + r->words);
	mock_buf_puts(b, ",\"cachedContentTokenCount\":");
	mock_buf_int(b, r->cache_read);
	mock_buf_puts(b, "}");
}

static void
ollama_tail(const mock_resp *r, mock_buf *b)
{
	mock_buf_puts(b, "\"done_reason\":\"stop\",\"done\":true,\"total_duration\":");
	mock_buf_int(b, 1000000LL * (r->words + 10));
	mock_buf_puts(b, ",\"load_duration\":1000000,\"prompt_eval_count\":");
	mock_buf_int(b, r->prompt_tokens);
	mock_buf_puts(b, ",\"prompt_eval_duration\":");
	mock_buf_int(b, 100000LL * (r->prompt_tokens + 1));
	mock_buf_puts(b, ",\"eval_count\":");
	mock_buf_int(b, r->words);
	mock_buf_puts(b, ",\"eval_duration\":");
	mock_buf_int(b, 1000000LL * r->words);
	mock_buf_puts(b, "}");
}

static void
ollama_prefix(const mock_resp *r, mock_buf *b)
{
	mock_buf_puts(b, "{\"model\":");
	mock_buf_jstr(b, r->model);
	mock_buf_puts(b, ",\"created_at\":");
	mock_buf_jstr(b, r->created_at);
	mock_buf_putc(b, ',');
}

/* complete non-streamed 200 answer of a generation endpoint */
void
mock_render_json(mock_resp *r, mock_buf *out, mock_buf *b)
{
	r->status = 200;
	r->usage_sent = 1;
	switch (r->kind) {
	case MK_OPENAI_CHAT:
		mock_buf_puts(b, "{\"id\":");
		mock_buf_jstr(b, r->id);
		mock_buf_puts(b, ",\"object\":\"chat.completion\",\"created\":");
		mock_buf_int(b, r->created);
		mock_buf_puts(b, ",\"model\":");
		mock_buf_jstr(b, r->model);
		mock_buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"");
		put_words(r, b, 0, r->words);
		mock_buf_puts(b, "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":");
		openai_usage(r, b);
		mock_buf_puts(b, ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"}\n");
		break;
	case MK_ANTHROPIC_MSG:
		mock_buf_puts(b, "{\"id\":");
		mock_buf_jstr(b, r->id);
		mock_buf_puts(b, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
		mock_buf_jstr(b, r->model);
		mock_buf_puts(b, ",\"content\":[{\"type\":\"text\",\"text\":\"");
		put_words(r, b, 0, r->words);
		mock_buf_puts(b, "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":");
		anthropic_usage(r, b, r->words);
		mock_buf_puts(b, "}\n");
		break;
	case MK_GOOGLE_GEN:
		mock_buf_puts(b, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"");
		put_words(r, b, 0, r->words);
		mock_buf_puts(b, "\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],");
		google_usage(r, b);
		mock_buf_puts(b, ",\"modelVersion\":");
		mock_buf_jstr(b, r->model);
		mock_buf_puts(b, ",\"responseId\":");
		mock_buf_jstr(b, r->id);
		mock_buf_puts(b, "}\n");
		break;
	case MK_OLLAMA_CHAT:
	case MK_OLLAMA_GEN:
		ollama_prefix(r, b);
		if (r->kind == MK_OLLAMA_CHAT)
			mock_buf_puts(b, "\"message\":{\"role\":\"assistant\",\"content\":\"");
		else
			mock_buf_puts(b, "\"response\":\"");
		put_words(r, b, 0, r->words);
		mock_buf_puts(b, r->kind == MK_OLLAMA_CHAT ? "\"}," : "\",\"context\":[1,2,3],");
		ollama_tail(r, b);
		mock_buf_putc(b, '\n');
		break;
	default:
		break;
	}
	finish(r, out, b, "application/json", NULL);
	r->kind = MK_STATIC;
}

void
mock_vendor_stream_head(const mock_resp *r, mock_buf *out)
{
	const char *ctype = "text/event-stream";

	if (r->kind == MK_OLLAMA_CHAT || r->kind == MK_OLLAMA_GEN)
		ctype = "application/x-ndjson";
	else if (r->kind == MK_GOOGLE_GEN && !r->sse)
		ctype = "application/json; charset=UTF-8";
	mock_buf_puts(out, "HTTP/1.1 200 OK\r\nServer: mock_upstream\r\nContent-Type: ");
	mock_buf_puts(out, ctype);
	mock_buf_puts(out, "\r\nCache-Control: no-cache\r\n");
	if (r->chunked)
		mock_buf_puts(out, "Transfer-Encoding: chunked\r\n");
	if (!r->keep_alive)
		mock_buf_puts(out, "Connection: close\r\n");
	echo_header(r, out);
	mock_buf_puts(out, "\r\n");
}

static void
openai_chunk_start(const mock_resp *r, mock_buf *f)
{
	mock_buf_puts(f, "data: {\"id\":");
	mock_buf_jstr(f, r->id);
	mock_buf_puts(f, ",\"object\":\"chat.completion.chunk\",\"created\":");
	mock_buf_int(f, r->created);
	mock_buf_puts(f, ",\"model\":");
	mock_buf_jstr(f, r->model);
	mock_buf_puts(f, ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\",\"choices\":");
}

static void
openai_frame(mock_resp *r, mock_buf *f, long from, long to, int last)
{
	const char *usage_null = r->include_usage ? ",\"usage\":null}\n\n" : "}\n\n";

	openai_chunk_start(r, f);
	mock_buf_puts(f, r->frame_idx == 0 ?
		      "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"" :
		      "[{\"index\":0,\"delta\":{\"content\":\"");
	put_words(r, f, from, to);
	mock_buf_puts(f, "\"},\"logprobs\":null,\"finish_reason\":null}]");
	mock_buf_puts(f, usage_null);
	if (!last)
		return;
	openai_chunk_start(r, f);
	mock_buf_puts(f, "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]");
	mock_buf_puts(f, usage_null);
	if (r->include_usage) {
		openai_chunk_start(r, f);
		mock_buf_puts(f, "[],\"usage\":");
		openai_usage(r, f);
		mock_buf_puts(f, "}\n\n");
		r->usage_sent = 1;
	}
	mock_buf_puts(f, "data: [DONE]\n\n");
}

static void
anthropic_frame(mock_resp *r, mock_buf *f, long from, long to, int last)
{
	if (r->frame_idx == 0) {
		mock_buf_puts(f, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":");
		mock_buf_jstr(f, r->id);
		mock_buf_puts(f, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
		mock_buf_jstr(f, r->model);
		mock_buf_puts(f, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
		anthropic_usage(r, f, 1);
		mock_buf_puts(f, "}}\n\n"
			      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
			      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
			      "event: ping\ndata: {\"type\": \"ping\"}\n\n");
	}
	mock_buf_puts(f, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
		      "\"delta\":{\"type\":\"text_delta\",\"text\":\"");
	put_words(r, f, from, to);
	mock_buf_puts(f, "\"}}\n\n");
	if (!last)
		return;
	mock_buf_puts(f, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
		      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		      "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":");
	mock_buf_int(f, r->words);
	mock_buf_puts(f, "}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
	r->usage_sent = 1;
}

static void
google_frame(mock_resp *r, mock_buf *f, long from, long to, int last)
{
	if (r->sse)
		mock_buf_puts(f, "data: ");
	else
		mock_buf_puts(f, r->frame_idx == 0 ? "[" : ",\r\n");
	mock_buf_puts(f, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"");
	put_words(r, f, from, to);
	mock_buf_puts(f, "\"}],\"role\":\"model\"}");
	if (last)
		mock_buf_puts(f, ",\"finishReason\":\"STOP\"");
	mock_buf_puts(f, ",\"index\":0}],");
	if (last) {
		google_usage(r, f);
		mock_buf_putc(f, ',');
		r->usage_sent = 1;
	}
	mock_buf_puts(f, "\"modelVersion\":");
	mock_buf_jstr(f, r->model);
	mock_buf_puts(f, ",\"responseId\":");
	mock_buf_jstr(f, r->id);
	mock_buf_puts(f, "}");
	if (r->sse)
		mock_buf_puts(f, "\r\n\r\n");
	else if (last)
		mock_buf_puts(f, "]");
}

static void
ollama_frame(mock_resp *r, mock_buf *f, long from, long to, int last)
{
	int chat = r->kind == MK_OLLAMA_CHAT;

	ollama_prefix(r, f);
	mock_buf_puts(f, chat ? "\"message\":{\"role\":\"assistant\",\"content\":\"" : "\"response\":\"");
	put_words(r, f, from, to);
	mock_buf_puts(f, chat ? "\"},\"done\":false}\n" : "\",\"done\":false}\n");
	if (!last)
		return;
	ollama_prefix(r, f);
	mock_buf_puts(f, chat ? "\"message\":{\"role\":\"assistant\",\"content\":\"\"}," :
		      "\"response\":\"\",\"context\":[1,2,3],");
	ollama_tail(r, f);
	mock_buf_putc(f, '\n');
	r->usage_sent = 1;
}

int
mock_vendor_stream_step(mock_resp *r, mock_buf *f)
{
	int i = r->frame_idx;
	long from, to;
	int last;

	if (r->fault == MF_RESET && (i >= 2 || i >= r->frames))
		return MOCK_STEP_RESET;
	if (r->fault == MF_STALL && (i >= 1 || i >= r->frames))
		return MOCK_STEP_STALL;
	if (i >= r->frames)
		return MOCK_STEP_DONE;
	from = (long) ((long long) r->words * i / r->frames);
	to = (long) ((long long) r->words * (i + 1) / r->frames);
	/* a faulty stream never gets its terminating frames */
	last = i == r->frames - 1 && r->fault == MF_NONE;
	switch (r->kind) {
	case MK_OPENAI_CHAT: openai_frame(r, f, from, to, last); break;
	case MK_ANTHROPIC_MSG: anthropic_frame(r, f, from, to, last); break;
	case MK_GOOGLE_GEN: google_frame(r, f, from, to, last); break;
	default: ollama_frame(r, f, from, to, last); break;
	}
	r->frame_idx++;
	return last ? MOCK_STEP_DONE : MOCK_STEP_MORE;
}
