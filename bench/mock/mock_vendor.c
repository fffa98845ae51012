/*
 * mock_vendor.c: routing, auth check, faults, token counting and the control
 * endpoints of the mock upstream (see mock_vendor.h for the rules).
 */
#define _GNU_SOURCE
#include "mock_vendor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock_ledger.h"

const char *
mock_vendor_name(int vendor)
{
	switch (vendor) {
	case MV_OPENAI: return "openai";
	case MV_ANTHROPIC: return "anthropic";
	case MV_GOOGLE: return "google_ai";
	case MV_VERTEX: return "vertex";
	case MV_OLLAMA: return "ollama";
	case MV_CONTROL: return "control";
	default: return "unknown";
	}
}

void
mock_vendor_usage(const mock_resp *r, long *prompt, long *completion, long *total)
{
	long p = r->prompt_tokens, c = r->words;

	switch (r->vendor) {
	case MV_OPENAI:
	case MV_GOOGLE:
	case MV_VERTEX:
		p += r->cache_read;
		*total = p + c;
		break;
	case MV_ANTHROPIC:
		*total = p + c + r->cache_read + r->cache_write;
		break;
	default:
		*total = p + c;
	}
	if (r->kind == MK_STATIC && r->status != 200)
		p = c = *total = 0;
	*prompt = p;
	*completion = c;
}

static int
path_is(const mock_req *q, const char *s)
{
	return strlen(s) == q->path_len && memcmp(q->target, s, q->path_len) == 0;
}

static int
path_ends(const mock_req *q, const char *s)
{
	size_t n = strlen(s);

	return q->path_len >= n && memcmp(q->target + q->path_len - n, s, n) == 0;
}

/* ":method" of a Gemini path (…/models/{model}:method), model copied out */
static const char *
google_method(const mock_req *q, char *model, size_t msz)
{
	const char *colon = NULL, *m = NULL;
	size_t n;

	for (size_t i = q->path_len; i-- > 0;)
		if (q->target[i] == ':') {
			colon = q->target + i;
			break;
		}
	if (colon == NULL)
		return NULL;
	for (const char *s = q->target; s + 8 <= colon; s++)
		if (memcmp(s, "/models/", 8) == 0)
			m = s + 8;
	if (m == NULL)
		return NULL;
	n = (size_t) (colon - m);
	if (n >= msz)
		n = msz - 1;
	memcpy(model, m, n);
	model[n] = '\0';
	return colon + 1;
}

static int
method_is(const mock_req *q, const char *gm, const char *want)
{
	size_t n = q->path_len - (size_t) (gm - q->target);

	return strlen(want) == n && memcmp(gm, want, n) == 0;
}

static long
num_after(const char *model, const char *tag)
{
	const char *s = strstr(model, tag);

	if (s == NULL)
		return -1;
	return strtol(s + strlen(tag), NULL, 10);
}

static void
pick_faults(const mock_config *cfg, mock_resp *r)
{
	long d, kb;

	r->fault = MF_NONE;
	if (strstr(r->model, "fault-500")) r->fault = MF_500;
	else if (strstr(r->model, "fault-429")) r->fault = MF_429;
	else if (strstr(r->model, "fault-reset")) r->fault = MF_RESET;
	else if (strstr(r->model, "fault-stall")) r->fault = MF_STALL;
	if (r->fault != MF_NONE) {
		const char *f = strstr(r->model, "fault-");
		size_t n = strcspn(f, ":/ ");

		snprintf(r->fault_name, sizeof(r->fault_name), "%.*s", (int) n, f);
	}
	d = num_after(r->model, "delay-");
	if (d < 0) d = 0;
	if (d > 600000) d = 600000;
	r->delay_ms = cfg->latency_ms + (int) d;
	kb = num_after(r->model, "big-");
	if (kb > 16384) kb = 16384;
	if (kb > 0)
		r->big_bytes = kb * 1024;
}

/* echo-headers: the credentials of the request, as the answer will show them */
static void
build_echo(const mock_req *q, mock_resp *r)
{
	size_t n = 0, cap = sizeof(r->echo);
	const char *names[4] = {"authorization", "x-api-key", "x-goog-api-key", "key"};
	const char *vals[4] = {q->has_authorization ? q->authorization : NULL,
			       q->has_x_api_key ? q->x_api_key : NULL,
			       q->has_goog_api_key ? q->goog_api_key : NULL,
			       r->has_query_key ? r->query_key : NULL};

	r->echo[0] = '\0';
	for (int i = 0; i < 4; i++) {
		int w;

		if (vals[i] == NULL)
			continue;
		w = snprintf(r->echo + n, cap - n, "%s%s=%s", n > 0 ? "; " : "", names[i], vals[i]);
		if (w < 0 || (size_t) w >= cap - n)
			break;
		n += (size_t) w;
	}
	if (n == 0)
		snprintf(r->echo, cap, "no credentials");
}

static void
copy_model(mock_resp *r, const mock_jval *m, const char *dflt)
{
	if (m != NULL && m->type == MJ_STR && m->len > 0) {
		size_t n = m->len < sizeof(r->model) - 1 ? m->len : sizeof(r->model) - 1;

		memcpy(r->model, m->str, n);
		r->model[n] = '\0';
	} else {
		snprintf(r->model, sizeof(r->model), "%s", dflt);
	}
}

/* 3 per entry + words of each entry's content (key "content" or "parts") */
static long
count_entries(const mock_jval *arr, const char *key)
{
	long t = 0;

	if (arr == NULL || arr->type != MJ_ARR)
		return 0;
	for (const mock_jval *e = arr->child; e != NULL; e = e->next)
		t += 3 + mock_json_content_words(mock_json_get(e, key));
	return t;
}

static long
embed_words(const mock_jval *in, int *n_inputs)
{
	long t = 0;

	*n_inputs = 1;
	if (in == NULL)
		return 0;
	if (in->type == MJ_STR)
		return mock_json_words(in->str, in->len);
	if (in->type != MJ_ARR)
		return 0;
	if (in->child != NULL && in->child->type == MJ_NUM) {
		for (const mock_jval *e = in->child; e != NULL; e = e->next)
			t++;		/* token ids */
		return t;
	}
	*n_inputs = 0;
	for (const mock_jval *e = in->child; e != NULL; e = e->next) {
		(*n_inputs)++;
		if (e->type == MJ_STR)
			t += mock_json_words(e->str, e->len);
		else if (e->type == MJ_ARR)
			for (const mock_jval *x = e->child; x != NULL; x = x->next)
				t++;
	}
	return t;
}

static void
put_b64_floats(mock_buf *b, const float *v, int n)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *) v;
	size_t len = (size_t) n * 4, i;

	mock_buf_putc(b, '"');
	for (i = 0; i + 2 < len; i += 3) {
		unsigned x = (unsigned) p[i] << 16 | (unsigned) p[i + 1] << 8 | p[i + 2];
		char o[4] = { tbl[x >> 18], tbl[(x >> 12) & 63], tbl[(x >> 6) & 63], tbl[x & 63] };

		mock_buf_put(b, o, 4);
	}
	if (i < len) {
		unsigned x = (unsigned) p[i] << 16 | (i + 1 < len ? (unsigned) p[i + 1] << 8 : 0);
		char o[4] = { tbl[x >> 18], tbl[(x >> 12) & 63],
			      i + 1 < len ? tbl[(x >> 6) & 63] : '=', '=' };

		mock_buf_put(b, o, 4);
	}
	mock_buf_putc(b, '"');
}

static void
render_embeddings(mock_resp *r, const mock_jval *root, mock_buf *out, mock_buf *b,
		  int ollama)
{
	int n_inputs, dims = (int) mock_json_long(root, "dimensions", 8);
	const mock_jval *fmt = mock_json_get(root, "encoding_format");
	int b64 = fmt && fmt->type == MJ_STR && fmt->len == 6 && memcmp(fmt->str, "base64", 6) == 0;
	float v[4096];

	r->prompt_tokens = embed_words(mock_json_get(root, "input"), &n_inputs);
	r->words = 0;
	if (dims < 1) dims = 1;
	if (dims > 4096) dims = 4096;
	for (int i = 0; i < dims; i++)
		v[i] = (float) (i + 1) / (float) (dims * 10);
	if (ollama) {
		mock_buf_puts(b, "{\"model\":");
		mock_buf_jstr(b, r->model);
		mock_buf_puts(b, ",\"embeddings\":[");
	} else {
		mock_buf_puts(b, "{\"object\":\"list\",\"data\":[");
	}
	for (int k = 0; k < n_inputs; k++) {
		if (k) mock_buf_putc(b, ',');
		if (!ollama) {
			mock_buf_puts(b, "{\"object\":\"embedding\",\"index\":");
			mock_buf_int(b, k);
			mock_buf_puts(b, ",\"embedding\":");
		}
		if (b64 && !ollama) {
			put_b64_floats(b, v, dims);
		} else {
			mock_buf_putc(b, '[');
			for (int i = 0; i < dims; i++)
				mock_buf_printf(b, i ? ",%.6g" : "%.6g", (double) v[i]);
			mock_buf_putc(b, ']');
		}
		if (!ollama)
			mock_buf_putc(b, '}');
	}
	if (ollama) {
		mock_buf_puts(b, "],\"total_duration\":1000000,\"load_duration\":100000,\"prompt_eval_count\":");
		mock_buf_int(b, r->prompt_tokens);
		mock_buf_puts(b, "}\n");
	} else {
		mock_buf_puts(b, "],\"model\":");
		mock_buf_jstr(b, r->model);
		mock_buf_puts(b, ",\"usage\":{\"prompt_tokens\":");
		mock_buf_int(b, r->prompt_tokens);
		mock_buf_puts(b, ",\"total_tokens\":");
		mock_buf_int(b, r->prompt_tokens);
		mock_buf_puts(b, "}}\n");
	}
	r->status = 200;
	r->usage_sent = 1;
	mock_render_head(out, 200, "application/json", (long long) b->len, r->keep_alive, NULL);
	mock_buf_put(out, b->data, b->len);
}

static void
render_static(mock_resp *r, mock_buf *out, const char *body)
{
	r->status = 200;
	mock_render_head(out, 200, "application/json", (long long) strlen(body), r->keep_alive, NULL);
	mock_buf_puts(out, body);
}

static void
handle_control(const mock_req *q, mock_resp *r, mock_buf *out, mock_buf *b)
{
	if (path_is(q, "/__health")) {
		render_static(r, out, "{\"status\":\"ok\"}\n");
	} else if (path_is(q, "/__ledger/reset")) {
		if (strcmp(q->method, "POST") != 0) {
			mock_render_error(r, out, 405, "use POST");
			return;
		}
		mock_ledger_reset();
		render_static(r, out, "{\"ok\":true}\n");
	} else if (strcmp(q->method, "GET") != 0) {
		mock_render_error(r, out, 405, "use GET");
	} else {
		char v[32], extra[64];
		unsigned long long since = 0, next;
		size_t limit = MOCK_LEDGER_CAP;

		if (mock_http_query(q->query, "since", v, sizeof(v)))
			since = strtoull(v, NULL, 10);
		if (mock_http_query(q->query, "limit", v, sizeof(v)))
			limit = strtoul(v, NULL, 10);
		mock_ledger_dump(b, since, limit, &next);
		snprintf(extra, sizeof(extra), "X-Ledger-Next: %llu\r\n", next);
		r->status = 200;
		mock_render_head(out, 200, "application/json", (long long) b->len, r->keep_alive, extra);
		mock_buf_put(out, b->data, b->len);
	}
}

static int
auth_ok(const mock_config *cfg, const mock_req *q, const mock_resp *r)
{
	const char *k = cfg->expect_key;

	if (k == NULL)
		return 1;
	switch (r->vendor) {
	case MV_OPENAI:
		return strncmp(q->authorization, "Bearer ", 7) == 0 &&
			strcmp(q->authorization + 7, k) == 0;
	case MV_ANTHROPIC:
		/* x-api-key; the current SDKs send Authorization: Bearer too */
		return (q->has_x_api_key && strcmp(q->x_api_key, k) == 0) ||
			(strncmp(q->authorization, "Bearer ", 7) == 0 &&
			 strcmp(q->authorization + 7, k) == 0);
	case MV_GOOGLE:
	case MV_VERTEX:
		return (q->has_goog_api_key && strcmp(q->goog_api_key, k) == 0) ||
			(r->has_query_key && strcmp(r->query_key, k) == 0) ||
			(r->vendor == MV_VERTEX && strncmp(q->authorization, "Bearer ", 7) == 0 &&
			 strcmp(q->authorization + 7, k) == 0);
	default:
		return 1;
	}
}

static const char *
auth_message(int vendor)
{
	switch (vendor) {
	case MV_ANTHROPIC: return "invalid x-api-key";
	case MV_GOOGLE:
	case MV_VERTEX: return "API key not valid. Please pass a valid API key.";
	default: return "Incorrect API key provided (mock upstream).";
	}
}

void
mock_vendor_handle(const mock_config *cfg, const mock_req *q, mock_jarena *ja,
		   unsigned long long seq, mock_resp *r, mock_buf *out, mock_buf *b)
{
	const char *gm = NULL;
	const mock_jval *root = NULL;
	const char *err = NULL;
	int post = strcmp(q->method, "POST") == 0;
	int get = strcmp(q->method, "GET") == 0;
	int embed = 0, models = 0, tags = 0, version = 0, count_tokens = 0;

	memset(r, 0, offsetof(mock_resp, created_at));
	r->created_at[0] = r->model[0] = r->fault_name[0] = r->echo[0] = '\0';
	r->answer[0] = r->body[0] = '\0';
	r->has_answer = r->has_body = 0;
	r->keep_alive = q->keep_alive;
	r->chunked = q->http_minor >= 1;
	r->record = 1;
	r->cache_read = q->cached_tokens;
	r->cache_write = q->cache_write_tokens;
	r->created = (long long) time(NULL);
	r->has_query_key = mock_http_query(q->query, "key", r->query_key, sizeof(r->query_key));
	if (!r->has_query_key)
		r->query_key[0] = '\0';
	mock_buf_reset(b);

	snprintf(r->id, sizeof(r->id), "mock%llx", seq);

	/* route */
	if (q->path_len >= 3 && memcmp(q->target, "/__", 3) == 0) {
		r->vendor = MV_CONTROL;
		r->record = 0;
		handle_control(q, r, out, b);
		return;
	}
	if (path_ends(q, "/chat/completions")) {
		r->vendor = MV_OPENAI;
		r->kind = MK_OPENAI_CHAT;
	} else if (path_ends(q, "/embeddings")) {
		r->vendor = MV_OPENAI;
		embed = 1;
	} else if (path_ends(q, "/v1/models") || path_ends(q, "/v1/models/")) {
		/* Anthropic's list has the same path: told apart by its version header */
		r->vendor = q->has_anthropic_version ? MV_ANTHROPIC : MV_OPENAI;
		models = 1;
	} else if (path_ends(q, "/v1beta/models") || path_ends(q, "/v1beta/models/")) {
		r->vendor = MV_GOOGLE;
		models = 1;
	} else if (path_ends(q, "/messages")) {
		r->vendor = MV_ANTHROPIC;
		r->kind = MK_ANTHROPIC_MSG;
	} else if (path_ends(q, "/messages/count_tokens")) {
		r->vendor = MV_ANTHROPIC;
		count_tokens = 1;
	} else if ((gm = google_method(q, r->model, sizeof(r->model))) != NULL &&
		   (method_is(q, gm, "generateContent") || method_is(q, gm, "streamGenerateContent"))) {
		r->vendor = memmem(q->target, q->path_len, "/projects/", 10) ? MV_VERTEX : MV_GOOGLE;
		r->kind = MK_GOOGLE_GEN;
		r->stream = gm[0] == 's';
		if (r->stream) {
			char alt[16];

			r->sse = mock_http_query(q->query, "alt", alt, sizeof(alt)) &&
				strcmp(alt, "sse") == 0;
		}
	} else if (path_ends(q, "/api/chat")) {
		r->vendor = MV_OLLAMA;
		r->kind = MK_OLLAMA_CHAT;
	} else if (path_ends(q, "/api/generate")) {
		r->vendor = MV_OLLAMA;
		r->kind = MK_OLLAMA_GEN;
	} else if (path_ends(q, "/api/embed") || path_ends(q, "/api/embeddings")) {
		r->vendor = MV_OLLAMA;
		embed = 1;
	} else if (path_ends(q, "/api/tags")) {
		r->vendor = MV_OLLAMA;
		tags = 1;
	} else if (path_ends(q, "/api/version")) {
		r->vendor = MV_OLLAMA;
		version = 1;
	} else {
		r->vendor = MV_UNKNOWN;
		mock_render_error(r, out, 404, "no such endpoint on the mock upstream");
		return;
	}
	if (r->vendor == MV_OPENAI || r->vendor == MV_ANTHROPIC)
		snprintf(r->id, sizeof(r->id), "%s%llx",
			 r->vendor == MV_OPENAI ? "chatcmpl-mock" : "msg_mock", seq);

	/* auth before anything else, like the real services */
	if (!auth_ok(cfg, q, r)) {
		mock_render_error(r, out, 401, auth_message(r->vendor));
		return;
	}
	if (r->vendor == MV_ANTHROPIC && !q->has_anthropic_version) {
		mock_render_error(r, out, 400, "anthropic-version: header is required");
		return;
	}
	if (models || tags || version) {
		if (!get) {
			mock_render_error(r, out, 405, "method not allowed");
			return;
		}
		r->usage_sent = 0;
		if (models && r->vendor == MV_ANTHROPIC)
			render_static(r, out, "{\"data\":["
				      "{\"type\":\"model\",\"id\":\"claude-sonnet-4-5\",\"display_name\":\"Claude Sonnet 4.5\","
				      "\"created_at\":\"2025-09-29T00:00:00Z\"},"
				      "{\"type\":\"model\",\"id\":\"claude-haiku-4-5\",\"display_name\":\"Claude Haiku 4.5\","
				      "\"created_at\":\"2025-10-15T00:00:00Z\"}],"
				      "\"has_more\":false,\"first_id\":\"claude-sonnet-4-5\",\"last_id\":\"claude-haiku-4-5\"}\n");
		else if (models && r->vendor == MV_GOOGLE)
			render_static(r, out, "{\"models\":["
				      "{\"name\":\"models/gemini-2.0-flash\",\"displayName\":\"Gemini 2.0 Flash\","
				      "\"supportedGenerationMethods\":[\"generateContent\",\"countTokens\"]},"
				      "{\"name\":\"models/gemini-1.5-pro\",\"displayName\":\"Gemini 1.5 Pro\","
				      "\"supportedGenerationMethods\":[\"generateContent\"]}]}\n");
		else if (models)
			render_static(r, out, "{\"object\":\"list\",\"data\":["
				      "{\"id\":\"gpt-4o-mini\",\"object\":\"model\",\"created\":1721172741,\"owned_by\":\"system\"},"
				      "{\"id\":\"gpt-4o\",\"object\":\"model\",\"created\":1715367049,\"owned_by\":\"system\"},"
				      "{\"id\":\"text-embedding-3-small\",\"object\":\"model\",\"created\":1705948997,\"owned_by\":\"system\"}]}\n");
		else if (tags)
			render_static(r, out, "{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\","
				      "\"modified_at\":\"2025-01-01T00:00:00Z\",\"size\":2019393189,"
				      "\"digest\":\"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72\","
				      "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\","
				      "\"families\":[\"llama\"],\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}]}\n");
		else
			render_static(r, out, "{\"version\":\"0.6.4\"}\n");
		return;
	}
	if (!post) {
		mock_render_error(r, out, 405, "method not allowed");
		return;
	}
	root = mock_json_parse(ja, q->body ? q->body : "", q->body_len, &err);
	if (root == NULL || root->type != MJ_OBJ) {
		char msg[160];

		snprintf(msg, sizeof(msg), "invalid JSON body: %s", root ? "expected an object" : err);
		mock_render_error(r, out, 400, msg);
		return;
	}
	if (r->kind != MK_GOOGLE_GEN)
		copy_model(r, mock_json_get(root, "model"), "mock-model");
	pick_faults(cfg, r);
	if (strstr(r->model, "echo-headers"))
		build_echo(q, r);
	r->has_answer = q->has_answer;
	snprintf(r->answer, sizeof(r->answer), "%s", q->has_answer ? q->answer : "");
	r->has_body = q->ledger_body;
	if (q->ledger_body) {
		size_t n = q->body_len < sizeof(r->body) - 1 ? q->body_len : sizeof(r->body) - 1;

		memcpy(r->body, q->body != NULL ? q->body : "", n);
		r->body[n] = '\0';
	}

	if (embed) {
		render_embeddings(r, root, out, b, r->vendor == MV_OLLAMA);
		return;
	}

	/* prompt tokens */
	switch (r->kind) {
	case MK_OPENAI_CHAT:
		r->prompt_tokens = count_entries(mock_json_get(root, "messages"), "content");
		r->stream = mock_json_bool(root, "stream", 0);
		r->include_usage = mock_json_bool(mock_json_get(root, "stream_options"), "include_usage", 0);
		break;
	case MK_ANTHROPIC_MSG: {
		const mock_jval *sys = mock_json_get(root, "system");

		r->prompt_tokens = count_entries(mock_json_get(root, "messages"), "content");
		if (sys != NULL && sys->type != MJ_NULL)
			r->prompt_tokens += 3 + mock_json_content_words(sys);
		r->stream = mock_json_bool(root, "stream", 0);
		break;
	}
	case MK_GOOGLE_GEN: {
		const mock_jval *sys = mock_json_get(root, "systemInstruction");

		if (sys == NULL)
			sys = mock_json_get(root, "system_instruction");
		r->prompt_tokens = count_entries(mock_json_get(root, "contents"), "parts");
		if (sys != NULL && sys->type == MJ_OBJ)
			r->prompt_tokens += 3 + mock_json_content_words(mock_json_get(sys, "parts"));
		break;
	}
	case MK_OLLAMA_CHAT:
		r->prompt_tokens = count_entries(mock_json_get(root, "messages"), "content");
		r->stream = mock_json_bool(root, "stream", 1);
		r->cache_read = r->cache_write = 0;
		break;
	case MK_OLLAMA_GEN: {
		const mock_jval *sys = mock_json_get(root, "system");

		r->prompt_tokens = 3 + mock_json_content_words(mock_json_get(root, "prompt"));
		if (sys != NULL && sys->type == MJ_STR)
			r->prompt_tokens += 3 + mock_json_words(sys->str, sys->len);
		r->stream = mock_json_bool(root, "stream", 1);
		r->cache_read = r->cache_write = 0;
		break;
	}
	default:		/* count_tokens */
		r->prompt_tokens = count_entries(mock_json_get(root, "messages"), "content");
		break;
	}
	if (r->vendor != MV_ANTHROPIC)
		r->cache_write = 0;
	if (q->has_prompt_tokens) {
		/* the reported prompt count: OpenAI and Gemini report P + C */
		int with_cache = r->vendor == MV_OPENAI || r->vendor == MV_GOOGLE || r->vendor == MV_VERTEX;

		r->prompt_tokens = q->prompt_tokens - (with_cache ? r->cache_read : 0);
	}
	if (count_tokens) {
		r->kind = MK_STATIC;
		mock_buf_printf(b, "{\"input_tokens\":%ld}\n", r->prompt_tokens);
		r->status = 200;
		mock_render_head(out, 200, "application/json", (long long) b->len, r->keep_alive, NULL);
		mock_buf_put(out, b->data, b->len);
		return;
	}
	if (r->kind == MK_OLLAMA_CHAT || r->kind == MK_OLLAMA_GEN) {
		struct tm tm;
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(r->created_at, sizeof(r->created_at),
			 "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (long) (ts.tv_nsec / 1000) % 1000000);
	}

	if (r->fault == MF_500) {
		mock_render_error(r, out, 500, "The server had an error while processing your request (mock fault-500).");
		return;
	}
	if (r->fault == MF_429) {
		mock_render_error(r, out, 429, "Rate limit reached (mock fault-429). Please try again in 1s.");
		return;
	}
	r->frames = r->stream ? (cfg->frames > 0 ? cfg->frames : 1) : 1;
	if (r->has_answer) {
		long pieces = 1;

		for (const char *s = r->answer; *s != '\0'; s++)
			pieces += *s == '|';
		r->words = pieces;
		if (r->stream)
			r->frames = (int) pieces;
	} else if (r->big_bytes)
		r->words = r->big_bytes / 8 > 0 ? r->big_bytes / 8 : 1;
	else
		r->words = r->stream ? r->frames : 8;
	if (r->stream)
		return;		/* the caller drives the frames */
	if (r->fault == MF_RESET || r->fault == MF_STALL)
		return;		/* nothing rendered: reset / silence */
	mock_render_json(r, out, b);
}
