/*
 * pattern.c: compiling and matching the product's stored patterns with
 * PCRE2 (see include/pattern.h for the contract). Compiled into the
 * extension and into gatewayd alike: the flags and limits below are the
 * only definition of what a pattern means.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "pattern.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AISTUDIO_PATTERN_HEAP_LIMIT_KIB 4096

/* like PostgreSQL's `~`: $ is the end of the subject only */
#define AISTUDIO_PATTERN_OPTIONS \
	(PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C)

struct aistudio_pattern
{
	pcre2_code *code;
};

typedef struct aistudio_pattern_tls
{
	pcre2_match_data *md;
	pcre2_match_context *mctx;
} aistudio_pattern_tls;

static pthread_key_t aistudio_pattern_key;
static pthread_once_t aistudio_pattern_once = PTHREAD_ONCE_INIT;

static void
aistudio_pattern_tls_free(void *arg)
{
	aistudio_pattern_tls *t = arg;

	if (t == NULL)
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mctx);
	free(t);
}

static void
aistudio_pattern_key_init(void)
{
	pthread_key_create(&aistudio_pattern_key, aistudio_pattern_tls_free);
}

/* The calling thread's match data and limits; NULL when out of memory. */
static aistudio_pattern_tls *
aistudio_pattern_tls_get(void)
{
	aistudio_pattern_tls *t;

	pthread_once(&aistudio_pattern_once, aistudio_pattern_key_init);
	t = pthread_getspecific(aistudio_pattern_key);
	if (t != NULL)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->md = pcre2_match_data_create(1, NULL);
	t->mctx = pcre2_match_context_create(NULL);
	if (t->md == NULL || t->mctx == NULL || pthread_setspecific(aistudio_pattern_key, t) != 0)
	{
		aistudio_pattern_tls_free(t);
		return NULL;
	}
	pcre2_set_match_limit(t->mctx, AISTUDIO_PATTERN_MATCH_LIMIT);
	pcre2_set_depth_limit(t->mctx, AISTUDIO_PATTERN_DEPTH_LIMIT);
	pcre2_set_heap_limit(t->mctx, AISTUDIO_PATTERN_HEAP_LIMIT_KIB);
	return t;
}

int
aistudio_pattern_compile(const char *pattern, size_t len, aistudio_pattern **out,
						 char err[AISTUDIO_PATTERN_ERR_LEN])
{
	pcre2_compile_context *cctx;
	pcre2_code *code;
	int			errcode = 0;
	PCRE2_SIZE	erroff = 0;
	aistudio_pattern *p;

	*out = NULL;
	if (len > AISTUDIO_PATTERN_MAX_LEN)
	{
		snprintf(err, AISTUDIO_PATTERN_ERR_LEN, "the pattern is longer than %d bytes",
				 AISTUDIO_PATTERN_MAX_LEN);
		return -1;
	}
	if (memchr(pattern, '\0', len) != NULL)
	{
		snprintf(err, AISTUDIO_PATTERN_ERR_LEN, "the pattern contains a NUL byte");
		return -1;
	}
	cctx = pcre2_compile_context_create(NULL);
	if (cctx == NULL)
	{
		snprintf(err, AISTUDIO_PATTERN_ERR_LEN, "out of memory");
		return -1;
	}
	pcre2_set_max_pattern_length(cctx, AISTUDIO_PATTERN_MAX_LEN);
	code = pcre2_compile((PCRE2_SPTR) pattern, len, AISTUDIO_PATTERN_OPTIONS, &errcode, &erroff, cctx);
	pcre2_compile_context_free(cctx);
	if (code == NULL)
	{
		PCRE2_UCHAR msg[160];

		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			snprintf((char *) msg, sizeof(msg), "error %d", errcode);
		snprintf(err, AISTUDIO_PATTERN_ERR_LEN, "%s at offset %zu", (const char *) msg, (size_t) erroff);
		return -1;
	}
	p = malloc(sizeof(*p));
	if (p == NULL)
	{
		pcre2_code_free(code);
		snprintf(err, AISTUDIO_PATTERN_ERR_LEN, "out of memory");
		return -1;
	}
	p->code = code;
	*out = p;
	return 0;
}

void
aistudio_pattern_free(aistudio_pattern *p)
{
	if (p == NULL)
		return;
	pcre2_code_free(p->code);
	free(p);
}

aistudio_match
aistudio_pattern_match(const aistudio_pattern *p, const char *subject, size_t len)
{
	aistudio_pattern_tls *t = aistudio_pattern_tls_get();
	int			rc;

	if (t == NULL)
		return AISTUDIO_MATCH_LIMIT;	/* out of memory: fail closed */
	rc = pcre2_match(p->code, (PCRE2_SPTR) subject, len, 0, 0, t->md, t->mctx);
	if (rc >= 0)
		return AISTUDIO_MATCH_YES;
	if (rc == PCRE2_ERROR_NOMATCH)
		return AISTUDIO_MATCH_NO;
	return AISTUDIO_MATCH_LIMIT;
}
