/*
 * mock_http.c: incremental HTTP/1.x request parser (see mock_http.h).
 */
#include "mock_http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CS_SIZE, CS_DATA, CS_DATA_END, CS_TRAILER };

#define MAX_CHUNK_LINE 1024

void
mock_http_next(mock_parser *p)
{
	mock_buf body = p->body;

	memset(p, 0, sizeof(*p));
	mock_buf_reset(&body);
	p->body = body;
}

void
mock_http_free(mock_parser *p)
{
	mock_buf_free(&p->body);
}

const char *
mock_http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* find the end of the head: returns its length (incl. blank line) or 0 */
static size_t
find_head_end(mock_parser *p, const char *in, size_t len)
{
	size_t i = p->scan;

	while (i < len) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t j;

		if (nl == NULL)
			break;
		j = (size_t) (nl - in) + 1;
		if (j < len && in[j] == '\n')
			return j + 1;
		if (j + 1 < len && in[j] == '\r' && in[j + 1] == '\n')
			return j + 2;
		if (j >= len || (j + 1 >= len && in[j] == '\r')) {
			/* blank line may still arrive: resume at this newline */
			p->scan = j - 1;
			return 0;
		}
		i = j;
	}
	p->scan = len;
	return 0;
}

static void
copy_val(char *dst, const char *v, size_t n)
{
	if (n > MOCK_HDR_VAL - 1)
		n = MOCK_HDR_VAL - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int
has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i + tl <= n; i++) {
		if (strncasecmp(v + i, tok, tl) != 0)
			continue;
		if ((i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t') &&
		    (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t'))
			return 1;
	}
	return 0;
}

static long
parse_count(const char *v, size_t n)
{
	long x = 0;

	for (size_t i = 0; i < n && isdigit((unsigned char) v[i]) && x < 1000000000L; i++)
		x = x * 10 + (v[i] - '0');
	return x;
}

static int
parse_head(mock_parser *p, mock_req *r, const char *in, size_t head_len, int *status)
{
	const char *line = in;
	const char *end = in + head_len;
	const char *eol, *sp1, *sp2;
	size_t tlen;
	int have_cl = 0, chunked = 0, conn_close = 0, conn_keep = 0;
	long long cl = 0;

	memset(r, 0, offsetof(mock_req, target));
	r->target[0] = '\0';
	r->has_request_id = r->has_authorization = r->has_x_api_key = 0;
	r->has_goog_api_key = r->has_anthropic_version = 0;
	r->request_id[0] = r->authorization[0] = r->x_api_key[0] = '\0';
	r->goog_api_key[0] = r->anthropic_version[0] = '\0';
	r->expect_continue = 0;
	r->cached_tokens = r->cache_write_tokens = 0;
	r->prompt_tokens = 0;
	r->has_prompt_tokens = 0;
	r->answer[0] = '\0';
	r->has_answer = r->ledger_body = 0;
	r->body = NULL;
	r->body_len = 0;

	/* request line (tolerate leading empty lines, RFC 9112 2.2) */
	while (line < end && (*line == '\r' || *line == '\n'))
		line++;
	eol = memchr(line, '\n', (size_t) (end - line));
	if (eol == NULL)
		goto bad;
	sp1 = memchr(line, ' ', (size_t) (eol - line));
	if (sp1 == NULL || sp1 - line >= (long) sizeof(r->method) || sp1 == line)
		goto bad;
	sp2 = memchr(sp1 + 1, ' ', (size_t) (eol - sp1 - 1));
	if (sp2 == NULL)
		goto bad;
	memcpy(r->method, line, (size_t) (sp1 - line));
	r->method[sp1 - line] = '\0';
	tlen = (size_t) (sp2 - sp1 - 1);
	if (tlen == 0)
		goto bad;
	if (tlen >= MOCK_MAX_TARGET) {
		*status = 414;
		return -1;
	}
	memcpy(r->target, sp1 + 1, tlen);
	r->target[tlen] = '\0';
	{
		char *q = strchr(r->target, '?');

		r->path_len = q ? (size_t) (q - r->target) : tlen;
		r->query = q ? q + 1 : r->target + tlen;
	}
	if (eol - sp2 - 1 < 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char) sp2[8]))
		goto bad;
	r->http_minor = sp2[8] - '0';
	line = eol + 1;

	/* header fields */
	while (line < end) {
		const char *colon, *v, *ve;
		size_t nlen, vlen;

		eol = memchr(line, '\n', (size_t) (end - line));
		if (eol == NULL)
			eol = end;
		ve = eol;
		if (ve > line && ve[-1] == '\r')
			ve--;
		if (ve == line)
			break;		/* blank line: end of head */
		if (*line == ' ' || *line == '\t')
			goto bad;	/* obsolete line folding */
		colon = memchr(line, ':', (size_t) (ve - line));
		if (colon == NULL || colon == line || colon[-1] == ' ' || colon[-1] == '\t')
			goto bad;
		nlen = (size_t) (colon - line);
		v = colon + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		vlen = (size_t) (ve - v);

		switch (tolower((unsigned char) line[0])) {
		case 'a':
			if (name_is(line, nlen, "authorization")) {
				copy_val(r->authorization, v, vlen);
				r->has_authorization = 1;
			} else if (name_is(line, nlen, "anthropic-version")) {
				copy_val(r->anthropic_version, v, vlen);
				r->has_anthropic_version = 1;
			}
			break;
		case 'c':
			if (name_is(line, nlen, "content-length")) {
				long long x = 0;

				if (vlen == 0 || vlen > 18)
					goto bad;
				for (size_t i = 0; i < vlen; i++) {
					if (!isdigit((unsigned char) v[i]))
						goto bad;
					x = x * 10 + (v[i] - '0');
				}
				if (have_cl && x != cl)
					goto bad;
				have_cl = 1;
				cl = x;
			} else if (name_is(line, nlen, "connection")) {
				if (has_token(v, vlen, "close"))
					conn_close = 1;
				if (has_token(v, vlen, "keep-alive"))
					conn_keep = 1;
			}
			break;
		case 'e':
			if (name_is(line, nlen, "expect") && has_token(v, vlen, "100-continue"))
				r->expect_continue = 1;
			break;
		case 't':
			if (name_is(line, nlen, "transfer-encoding")) {
				/* only a bare "chunked" coding is supported */
				if (vlen == 7 && strncasecmp(v, "chunked", 7) == 0) {
					chunked = 1;
				} else {
					*status = 501;
					return -1;
				}
			}
			break;
		case 'x':
			if (name_is(line, nlen, "x-request-id")) {
				copy_val(r->request_id, v, vlen);
				r->has_request_id = 1;
			} else if (name_is(line, nlen, "x-api-key")) {
				copy_val(r->x_api_key, v, vlen);
				r->has_x_api_key = 1;
			} else if (name_is(line, nlen, "x-goog-api-key")) {
				copy_val(r->goog_api_key, v, vlen);
				r->has_goog_api_key = 1;
			} else if (name_is(line, nlen, "x-mock-cached-tokens")) {
				r->cached_tokens = parse_count(v, vlen);
			} else if (name_is(line, nlen, "x-mock-cache-write-tokens")) {
				r->cache_write_tokens = parse_count(v, vlen);
			} else if (name_is(line, nlen, "x-mock-answer")) {
				copy_val(r->answer, v, vlen);
				r->has_answer = 1;
			} else if (name_is(line, nlen, "x-mock-ledger-body")) {
				r->ledger_body = vlen == 1 && v[0] == '1';
			} else if (name_is(line, nlen, "x-mock-prompt-tokens")) {
				int neg = vlen > 0 && v[0] == '-';

				r->prompt_tokens = parse_count(v + neg, vlen - neg) * (neg ? -1 : 1);
				r->has_prompt_tokens = 1;
			}
			break;
		default:
			break;
		}
		line = eol + 1;
	}

	if (chunked && have_cl)
		goto bad;		/* request smuggling shape: refuse */
	r->keep_alive = r->http_minor >= 1 ? !conn_close : (conn_keep && !conn_close);
	p->headers_done = 1;
	if (chunked) {
		p->state = MOCK_PARSE_BODY_CHUNKED;
		p->cstate = CS_SIZE;
		p->cpos = head_len;
		mock_buf_reset(&p->body);
	} else if (have_cl) {
		if (cl > MOCK_MAX_BODY) {
			*status = 413;
			return -1;
		}
		p->state = MOCK_PARSE_BODY_CL;
		p->content_length = (size_t) cl;
	} else {
		p->state = MOCK_PARSE_BODY_CL;
		p->content_length = 0;
	}
	return 0;
bad:
	*status = 400;
	return -1;
}

static int
parse_chunked(mock_parser *p, const char *in, size_t len, size_t *used, int *status)
{
	while (p->cpos < len) {
		const char *nl;
		size_t n;

		switch (p->cstate) {
		case CS_SIZE: {
			size_t size = 0;
			const char *s;
			int digits = 0;

			nl = memchr(in + p->cpos, '\n', len - p->cpos);
			if (nl == NULL) {
				if (len - p->cpos > MAX_CHUNK_LINE)
					goto bad;
				return 0;
			}
			for (s = in + p->cpos; s < nl; s++) {
				int h;

				if (*s >= '0' && *s <= '9') h = *s - '0';
				else if (*s >= 'a' && *s <= 'f') h = *s - 'a' + 10;
				else if (*s >= 'A' && *s <= 'F') h = *s - 'A' + 10;
				else break;
				if (++digits > 8)
					goto too_big;
				size = size * 16 + (size_t) h;
			}
			if (digits == 0 || (s < nl && *s != ';' && *s != '\r' &&
					    *s != ' ' && *s != '\t'))
				goto bad;
			p->cpos = (size_t) (nl - in) + 1;
			if (size == 0) {
				p->cstate = CS_TRAILER;
				break;
			}
			if (p->body.len + size > MOCK_MAX_BODY)
				goto too_big;
			p->chunk_left = size;
			p->cstate = CS_DATA;
			break;
		}
		case CS_DATA:
			n = len - p->cpos;
			if (n > p->chunk_left)
				n = p->chunk_left;
			mock_buf_put(&p->body, in + p->cpos, n);
			p->cpos += n;
			p->chunk_left -= n;
			if (p->chunk_left == 0)
				p->cstate = CS_DATA_END;
			break;
		case CS_DATA_END:
			if (in[p->cpos] == '\n') {
				p->cpos++;
				p->cstate = CS_SIZE;
			} else if (in[p->cpos] == '\r') {
				if (p->cpos + 1 >= len)
					return 0;
				if (in[p->cpos + 1] != '\n')
					goto bad;
				p->cpos += 2;
				p->cstate = CS_SIZE;
			} else {
				goto bad;
			}
			break;
		case CS_TRAILER:
			nl = memchr(in + p->cpos, '\n', len - p->cpos);
			if (nl == NULL) {
				if (len - p->cpos > MOCK_MAX_HEAD)
					goto bad;
				return 0;
			}
			n = (size_t) (nl - (in + p->cpos));
			p->cpos = (size_t) (nl - in) + 1;
			if (n == 0 || (n == 1 && nl[-1] == '\r')) {
				*used = p->cpos;
				return 1;
			}
			break;
		}
	}
	return 0;
too_big:
	*status = 413;
	return -1;
bad:
	*status = 400;
	return -1;
}

int
mock_http_parse(mock_parser *p, mock_req *r, const char *in, size_t len,
		size_t *used, int *status)
{
	if (p->state == MOCK_PARSE_HEAD) {
		size_t h = find_head_end(p, in, len);

		if (h == 0) {
			if (len > MOCK_MAX_HEAD) {
				*status = 431;
				return -1;
			}
			return 0;
		}
		if (h > MOCK_MAX_HEAD) {
			*status = 431;
			return -1;
		}
		p->head_len = h;
		if (parse_head(p, r, in, h, status) < 0)
			return -1;
	}
	if (p->state == MOCK_PARSE_BODY_CL) {
		if (len - p->head_len < p->content_length)
			return 0;
		r->body = in + p->head_len;
		r->body_len = p->content_length;
		*used = p->head_len + p->content_length;
		return 1;
	}
	/* chunked */
	{
		int rc = parse_chunked(p, in, len, used, status);

		if (rc == 1) {
			r->body = p->body.data ? p->body.data : "";
			r->body_len = p->body.len;
		}
		return rc;
	}
}

int
mock_http_query(const char *query, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	const char *q = query;

	while (q != NULL && *q) {
		const char *amp = strchr(q, '&');
		size_t seg = amp ? (size_t) (amp - q) : strlen(q);

		if (seg > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
			size_t vl = seg - nl - 1;

			if (vl >= outsz)
				vl = outsz - 1;
			memcpy(out, q + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		if (seg == nl && strncmp(q, name, nl) == 0) {
			out[0] = '\0';
			return 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}
