/*
 * mock_buf.c: growable byte buffer and JSON text helpers (see mock_buf.h).
 */
#include "mock_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
mock_buf_free(mock_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
mock_buf_reserve(mock_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;	/* room for a terminating NUL */
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = realloc(b->data, cap);
	if (b->data == NULL) {
		fprintf(stderr, "mock_upstream: out of memory\n");
		abort();
	}
	b->cap = cap;
}

void
mock_buf_put(mock_buf *b, const void *p, size_t n)
{
	mock_buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
mock_buf_puts(mock_buf *b, const char *s)
{
	mock_buf_put(b, s, strlen(s));
}

void
mock_buf_putc(mock_buf *b, char c)
{
	mock_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
mock_buf_printf(mock_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	mock_buf_reserve(b, 128);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= b->cap - b->len) {
		mock_buf_reserve(b, (size_t) n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
}

void
mock_buf_int(mock_buf *b, long long v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;

	do {
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	mock_buf_put(b, p, (size_t) (tmp + sizeof(tmp) - p));
}

void
mock_buf_jstrn(mock_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;

	mock_buf_reserve(b, n + 2);
	mock_buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mock_buf_put(b, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			elen = 6;
		}
		mock_buf_put(b, esc, elen);
	}
	mock_buf_put(b, s + start, n - start);
	mock_buf_putc(b, '"');
}

void
mock_buf_jstr(mock_buf *b, const char *s)
{
	if (s == NULL)
		mock_buf_puts(b, "null");
	else
		mock_buf_jstrn(b, s, strlen(s));
}

void
mock_buf_consume(mock_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}
