/*
 * pattern.h: the one definition of the product's stored patterns (an LLM's
 * allowed_models; content filters next): how a pattern is compiled and how
 * it is matched. Both the extension (validation when a pattern is stored,
 * aistudio.pattern_matches) and gatewayd (matching on the request path)
 * compile this same file, so a pattern means the same thing everywhere.
 *
 * The language is PCRE2 (Perl-compatible: \d, (?i), look-arounds, …) in
 * UTF-8 mode, matched as a search like PostgreSQL's `~` (anchor with ^ and
 * $ for a whole-name match). A subject that is not valid UTF-8 is matched
 * as far as it is valid (PCRE2_MATCH_INVALID_UTF). Limits: a pattern has at
 * most AISTUDIO_PATTERN_MAX_LEN bytes; a match may take at most
 * AISTUDIO_PATTERN_MATCH_LIMIT backtracking steps and
 * AISTUDIO_PATTERN_DEPTH_LIMIT nested backtracking frames (a pattern may
 * lower them with (*LIMIT_MATCH=…) but never raise them). A match that hits
 * a limit counts as "no match" (fail closed) everywhere, and says so.
 *
 * Pure C (libc, pthreads, libpcre2-8): no PostgreSQL or gatewayd headers.
 * Thread safety: a compiled pattern is immutable and may be matched from
 * many threads at once; each thread keeps its own match data and match
 * context (a pthread key, freed when the thread exits).
 */
#ifndef AISTUDIO_PATTERN_H
#define AISTUDIO_PATTERN_H

#include <stddef.h>

#define AISTUDIO_PATTERN_MAX_LEN 1024
#define AISTUDIO_PATTERN_MATCH_LIMIT 100000
#define AISTUDIO_PATTERN_DEPTH_LIMIT 1000
#define AISTUDIO_PATTERN_ERR_LEN 256

typedef struct aistudio_pattern aistudio_pattern;

typedef enum aistudio_match
{
	AISTUDIO_MATCH_NO = 0,
	AISTUDIO_MATCH_YES = 1,
	AISTUDIO_MATCH_LIMIT = 2	/* a limit was hit: treat as no match */
} aistudio_match;

/*
 * Compiles pattern (len bytes; NUL bytes are refused). 0 and *out on
 * success; -1 with a one-line reason in err ("missing closing parenthesis
 * at offset 3", "longer than 1024 bytes") otherwise. Free with
 * aistudio_pattern_free.
 */
int			aistudio_pattern_compile(const char *pattern, size_t len, aistudio_pattern **out,
									 char err[AISTUDIO_PATTERN_ERR_LEN]);
void		aistudio_pattern_free(aistudio_pattern *p);

/* Searches subject (len bytes) for the pattern. */
aistudio_match aistudio_pattern_match(const aistudio_pattern *p, const char *subject, size_t len);

#endif
