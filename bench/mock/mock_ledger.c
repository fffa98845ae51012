/*
 * mock_ledger.c: bounded, mutex-protected ring of request records (see
 * mock_ledger.h).  Each entry is one malloc'd block (struct + its strings),
 * built outside the lock; the lock only covers the slot swap, so recording
 * costs a few hundred nanoseconds next to the request's socket I/O.
 */
#include "mock_ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
static mock_ledger_entry **ring;
static unsigned long long next_index;	/* idx of the next record */
static unsigned long long first_index;	/* oldest idx still in the ring */

void
mock_ledger_init(void)
{
	ring = calloc(MOCK_LEDGER_CAP, sizeof(*ring));
	if (ring == NULL) {
		fprintf(stderr, "mock_upstream: out of memory\n");
		exit(1);
	}
}

static size_t
slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *
scopy(char **at, const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	d = *at;
	memcpy(d, s, n);
	*at += n;
	return d;
}

void
mock_ledger_record(const mock_ledger_entry *e)
{
	size_t sz = sizeof(*e) + slen(e->request_id) + slen(e->vendor) +
		slen(e->method) + slen(e->path) + slen(e->model) +
		slen(e->outcome) + slen(e->fault) + slen(e->authorization) +
		slen(e->x_api_key) + slen(e->goog_api_key) + slen(e->query_key) +
		slen(e->anthropic_version) + slen(e->body);
	mock_ledger_entry *n = malloc(sz);
	mock_ledger_entry *old;
	char *at;

	if (n == NULL)
		return;			/* a lost record beats a dead mock */
	*n = *e;
	at = (char *) (n + 1);
	n->request_id = scopy(&at, e->request_id);
	n->vendor = scopy(&at, e->vendor);
	n->method = scopy(&at, e->method);
	n->path = scopy(&at, e->path);
	n->model = scopy(&at, e->model);
	n->outcome = scopy(&at, e->outcome);
	n->fault = scopy(&at, e->fault);
	n->authorization = scopy(&at, e->authorization);
	n->x_api_key = scopy(&at, e->x_api_key);
	n->goog_api_key = scopy(&at, e->goog_api_key);
	n->query_key = scopy(&at, e->query_key);
	n->anthropic_version = scopy(&at, e->anthropic_version);
	n->body = scopy(&at, e->body);

	pthread_mutex_lock(&ledger_lock);
	n->idx = next_index++;
	old = ring[n->idx % MOCK_LEDGER_CAP];
	ring[n->idx % MOCK_LEDGER_CAP] = n;
	if (next_index - first_index > MOCK_LEDGER_CAP)
		first_index = next_index - MOCK_LEDGER_CAP;
	pthread_mutex_unlock(&ledger_lock);
	free(old);
}

static void
dump_one(mock_buf *o, const mock_ledger_entry *e)
{
	mock_buf_puts(o, "{\"idx\":");
	mock_buf_int(o, (long long) e->idx);
	mock_buf_puts(o, ",\"ts_ms\":");
	mock_buf_int(o, e->ts_ms);
	mock_buf_puts(o, ",\"duration_ms\":");
	mock_buf_int(o, e->duration_ms);
	mock_buf_puts(o, ",\"request_id\":");
	mock_buf_jstr(o, e->request_id);
	mock_buf_puts(o, ",\"vendor\":");
	mock_buf_jstr(o, e->vendor);
	mock_buf_puts(o, ",\"method\":");
	mock_buf_jstr(o, e->method);
	mock_buf_puts(o, ",\"path\":");
	mock_buf_jstr(o, e->path);
	mock_buf_puts(o, ",\"model\":");
	mock_buf_jstr(o, e->model);
	mock_buf_puts(o, e->stream ? ",\"stream\":true" : ",\"stream\":false");
	mock_buf_puts(o, ",\"status\":");
	mock_buf_int(o, e->status);
	mock_buf_puts(o, ",\"outcome\":");
	mock_buf_jstr(o, e->outcome);
	mock_buf_puts(o, ",\"fault\":");
	mock_buf_jstr(o, e->fault);
	mock_buf_puts(o, ",\"frames_sent\":");
	mock_buf_int(o, e->frames_sent);
	mock_buf_puts(o, e->usage_sent ? ",\"usage_sent\":true" : ",\"usage_sent\":false");
	mock_buf_puts(o, ",\"prompt_tokens\":");
	mock_buf_int(o, e->prompt_tokens);
	mock_buf_puts(o, ",\"completion_tokens\":");
	mock_buf_int(o, e->completion_tokens);
	mock_buf_puts(o, ",\"total_tokens\":");
	mock_buf_int(o, e->total_tokens);
	mock_buf_puts(o, ",\"cache_read_tokens\":");
	mock_buf_int(o, e->cache_read_tokens);
	mock_buf_puts(o, ",\"cache_write_tokens\":");
	mock_buf_int(o, e->cache_write_tokens);
	mock_buf_puts(o, ",\"auth\":{\"authorization\":");
	mock_buf_jstr(o, e->authorization);
	mock_buf_puts(o, ",\"x-api-key\":");
	mock_buf_jstr(o, e->x_api_key);
	mock_buf_puts(o, ",\"x-goog-api-key\":");
	mock_buf_jstr(o, e->goog_api_key);
	mock_buf_puts(o, ",\"query_key\":");
	mock_buf_jstr(o, e->query_key);
	mock_buf_puts(o, ",\"anthropic-version\":");
	mock_buf_jstr(o, e->anthropic_version);
	mock_buf_puts(o, "},\"body\":");
	mock_buf_jstr(o, e->body);
	mock_buf_puts(o, "}");
}

void
mock_ledger_dump(mock_buf *out, unsigned long long since, size_t limit,
		 unsigned long long *next_idx)
{
	unsigned long long i;
	size_t n = 0;

	mock_buf_putc(out, '[');
	pthread_mutex_lock(&ledger_lock);
	i = since > first_index ? since : first_index;
	for (; i < next_index && n < limit; i++, n++) {
		if (n > 0)
			mock_buf_puts(out, ",\n");
		dump_one(out, ring[i % MOCK_LEDGER_CAP]);
	}
	*next_idx = i;
	pthread_mutex_unlock(&ledger_lock);
	mock_buf_puts(out, "]\n");
}

void
mock_ledger_reset(void)
{
	pthread_mutex_lock(&ledger_lock);
	for (size_t i = 0; i < MOCK_LEDGER_CAP; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
	next_index = first_index = 0;
	pthread_mutex_unlock(&ledger_lock);
}
