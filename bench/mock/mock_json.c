/*
 * mock_json.c: JSON reader with arena, limits and word counting (see
 * mock_json.h).  Recursive descent; depth is bounded by MOCK_JSON_MAX_DEPTH
 * so the C stack stays small.
 */
#include "mock_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mock_jblock {
	mock_jblock *next;
	size_t used;
	size_t cap;
	char mem[];
};

#define BLOCK_SIZE (64 * 1024)

static void *
arena_alloc(mock_jarena *a, size_t n)
{
	mock_jblock *b = a->head;

	n = (n + 15) & ~(size_t) 15;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;

		b = malloc(sizeof(mock_jblock) + cap);
		if (b == NULL) {
			fprintf(stderr, "mock_upstream: out of memory\n");
			abort();
		}
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	b->used += n;
	return b->mem + b->used - n;
}

void
mock_json_arena_reset(mock_jarena *a)
{
	mock_jblock *b = a->head;

	/* keep one standard block for the next request, free the rest */
	while (b != NULL && (b->next != NULL || b->cap != BLOCK_SIZE)) {
		mock_jblock *next = b->next;

		free(b);
		b = next;
	}
	if (b != NULL)
		b->used = 0;
	a->head = b;
	a->nodes = 0;
}

void
mock_json_arena_free(mock_jarena *a)
{
	while (a->head != NULL) {
		mock_jblock *next = a->head->next;

		free(a->head);
		a->head = next;
	}
	a->nodes = 0;
}

typedef struct parser {
	mock_jarena *a;
	const char *p;
	const char *end;
	const char *err;
} parser;

static void
skip_ws(parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int
read_hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + (unsigned) h;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char) cp; return 1; }
	if (cp < 0x800) {
		o[0] = (char) (0xC0 | (cp >> 6));
		o[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char) (0xE0 | (cp >> 12));
		o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char) (0xF0 | (cp >> 18));
	o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/* at the opening quote; on success (*s, *n) hold the decoded string */
static int
parse_string(parser *ps, const char **s, size_t *n)
{
	const char *start = ++ps->p;
	const char *q = start;
	int escaped = 0;
	char *out, *o;

	while (q < ps->end && *q != '"') {
		if ((unsigned char) *q < 0x20) {
			ps->err = "control character in string";
			return -1;
		}
		if (*q == '\\') {
			escaped = 1;
			q++;
			if (q >= ps->end)
				break;
		}
		q++;
	}
	if (q >= ps->end) {
		ps->err = "unterminated string";
		return -1;
	}
	ps->p = q + 1;
	if (!escaped) {
		*s = start;
		*n = (size_t) (q - start);
		return 0;
	}
	/* decoded text is never longer than the escaped text */
	out = o = arena_alloc(ps->a, (size_t) (q - start) + 1);
	for (const char *r = start; r < q; r++) {
		unsigned cp, lo;

		if (*r != '\\') {
			*o++ = *r;
			continue;
		}
		r++;
		switch (*r) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (q - r < 5 || read_hex4(r + 1, &cp) < 0) {
				ps->err = "bad \\u escape";
				return -1;
			}
			r += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && q - r >= 7 && r[1] == '\\' &&
			    r[2] == 'u' && read_hex4(r + 3, &lo) == 0 &&
			    lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				r += 6;
			}
			/* a lone surrogate takes 3 bytes: still fits (6 escaped) */
			o += put_utf8(o, cp);
			break;
		default:
			ps->err = "bad escape in string";
			return -1;
		}
	}
	*s = out;
	*n = (size_t) (o - out);
	return 0;
}

static mock_jval *parse_value(parser *ps, int depth);

static mock_jval *
new_node(parser *ps, mock_jtype t)
{
	mock_jval *v;

	if (++ps->a->nodes > MOCK_JSON_MAX_NODES) {
		ps->err = "JSON document has too many values";
		return NULL;
	}
	v = arena_alloc(ps->a, sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->type = t;
	return v;
}

static int
match_word(parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
		return 0;
	ps->p += n;
	return 1;
}

static mock_jval *
parse_container(parser *ps, int depth, int is_obj)
{
	mock_jval *v = new_node(ps, is_obj ? MJ_OBJ : MJ_ARR);
	mock_jval **tail;
	char close = is_obj ? '}' : ']';

	if (v == NULL)
		return NULL;
	if (depth >= MOCK_JSON_MAX_DEPTH) {
		ps->err = "JSON nesting too deep";
		return NULL;
	}
	tail = &v->child;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		const char *key = NULL;
		size_t keylen = 0;
		mock_jval *item;

		skip_ws(ps);
		if (is_obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				ps->err = "expected object key";
				return NULL;
			}
			if (parse_string(ps, &key, &keylen) < 0)
				return NULL;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				ps->err = "expected ':'";
				return NULL;
			}
			ps->p++;
		}
		item = parse_value(ps, depth + 1);
		if (item == NULL)
			return NULL;
		item->key = key;
		item->keylen = keylen;
		*tail = item;
		tail = &item->next;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return v;
		}
		ps->err = is_obj ? "expected ',' or '}'" : "expected ',' or ']'";
		return NULL;
	}
}

static mock_jval *
parse_value(parser *ps, int depth)
{
	mock_jval *v;

	skip_ws(ps);
	if (ps->p >= ps->end) {
		ps->err = "unexpected end of JSON";
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		return parse_container(ps, depth, 1);
	case '[':
		return parse_container(ps, depth, 0);
	case '"':
		if ((v = new_node(ps, MJ_STR)) == NULL)
			return NULL;
		if (parse_string(ps, &v->str, &v->len) < 0)
			return NULL;
		return v;
	case 't':
	case 'f':
	case 'n':
		if (match_word(ps, "true")) {
			if ((v = new_node(ps, MJ_BOOL)) != NULL)
				v->boolean = 1;
			return v;
		}
		if (match_word(ps, "false"))
			return new_node(ps, MJ_BOOL);
		if (match_word(ps, "null"))
			return new_node(ps, MJ_NULL);
		ps->err = "invalid literal";
		return NULL;
	default: {
		char tmp[64];
		const char *q = ps->p;
		char *endp;
		size_t n;

		while (q < ps->end && (strchr("+-.eE", *q) || (*q >= '0' && *q <= '9')))
			q++;
		n = (size_t) (q - ps->p);
		if (n == 0 || n >= sizeof(tmp)) {
			ps->err = "invalid value";
			return NULL;
		}
		memcpy(tmp, ps->p, n);
		tmp[n] = '\0';
		if ((v = new_node(ps, MJ_NUM)) == NULL)
			return NULL;
		v->num = strtod(tmp, &endp);
		if (*endp != '\0') {
			ps->err = "invalid number";
			return NULL;
		}
		ps->p = q;
		return v;
	}
	}
}

mock_jval *
mock_json_parse(mock_jarena *a, const char *text, size_t len, const char **err)
{
	parser ps = { a, text, text + len, NULL };
	mock_jval *v = parse_value(&ps, 0);

	if (v != NULL) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			ps.err = "trailing characters after JSON value";
			v = NULL;
		}
	}
	if (v == NULL && err != NULL)
		*err = ps.err ? ps.err : "invalid JSON";
	return v;
}

const mock_jval *
mock_json_get(const mock_jval *v, const char *key)
{
	size_t n;

	if (v == NULL || v->type != MJ_OBJ)
		return NULL;
	n = strlen(key);
	for (const mock_jval *c = v->child; c != NULL; c = c->next)
		if (c->keylen == n && memcmp(c->key, key, n) == 0)
			return c;
	return NULL;
}

int
mock_json_bool(const mock_jval *v, const char *key, int dflt)
{
	const mock_jval *m = mock_json_get(v, key);

	return m != NULL && m->type == MJ_BOOL ? m->boolean : dflt;
}

long
mock_json_long(const mock_jval *v, const char *key, long dflt)
{
	const mock_jval *m = mock_json_get(v, key);

	return m != NULL && m->type == MJ_NUM ? (long) m->num : dflt;
}

long
mock_json_words(const char *s, size_t len)
{
	long words = 0;
	int in_word = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ws = c == ' ' || c == '\n' || c == '\t' || c == '\r' ||
			 c == '\f' || c == '\v';

		if (!ws && !in_word)
			words++;
		in_word = !ws;
	}
	return words;
}

long
mock_json_content_words(const mock_jval *v)
{
	long words = 0;

	if (v == NULL)
		return 0;
	if (v->type == MJ_STR)
		return mock_json_words(v->str, v->len);
	if (v->type == MJ_OBJ) {
		const mock_jval *t = mock_json_get(v, "text");

		return t != NULL && t->type == MJ_STR ? mock_json_words(t->str, t->len) : 0;
	}
	if (v->type == MJ_ARR)
		for (const mock_jval *c = v->child; c != NULL; c = c->next)
			words += mock_json_content_words(c);
	return words;
}
