/*
 * mock_buf.h: growable byte buffer used by every module of the mock upstream
 * (request bodies, responses, frames, ledger dumps) plus the JSON text
 * helpers that write into it (escaped strings, integers).
 *
 * A buffer never shrinks while in use; mock_buf_reset() keeps the memory
 * for the next request.  Allocation failure aborts the process: the mock is
 * a test tool and an out-of-memory mock must fail loudly, not half-answer.
 */
#ifndef MOCK_BUF_H
#define MOCK_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct mock_buf {
	char *data;
	size_t len;
	size_t cap;
} mock_buf;

void mock_buf_free(mock_buf *b);
void mock_buf_reserve(mock_buf *b, size_t extra);
void mock_buf_put(mock_buf *b, const void *p, size_t n);
void mock_buf_puts(mock_buf *b, const char *s);
void mock_buf_putc(mock_buf *b, char c);
void mock_buf_printf(mock_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mock_buf_int(mock_buf *b, long long v);
/* JSON string literal (with the quotes); NULL writes null */
void mock_buf_jstr(mock_buf *b, const char *s);
void mock_buf_jstrn(mock_buf *b, const char *s, size_t n);
/* drop the first n bytes */
void mock_buf_consume(mock_buf *b, size_t n);

static inline void mock_buf_reset(mock_buf *b) { b->len = 0; }

#endif
