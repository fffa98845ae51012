/*
 * mock_json.h: a small JSON reader for request bodies.  It builds a tree in
 * a per-worker arena (reset between requests), enforces a nesting depth and
 * a node-count limit, and offers the lookups the vendor handlers need plus
 * the deterministic word counter behind the mock's token numbers.
 *
 * Strings without escapes point into the parsed text (which must outlive the
 * tree); strings with escapes are decoded into the arena.  String values are
 * not NUL-terminated: always use (str, len).
 */
#ifndef MOCK_JSON_H
#define MOCK_JSON_H

#include <stddef.h>

#define MOCK_JSON_MAX_DEPTH 64
#define MOCK_JSON_MAX_NODES 1000000

typedef enum mock_jtype {
	MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ
} mock_jtype;

typedef struct mock_jval {
	mock_jtype type;
	int boolean;
	double num;
	const char *str;		/* MJ_STR value */
	size_t len;
	const char *key;		/* member name when inside an object */
	size_t keylen;
	struct mock_jval *child;	/* first element / member */
	struct mock_jval *next;		/* next sibling */
} mock_jval;

typedef struct mock_jblock mock_jblock;

typedef struct mock_jarena {
	mock_jblock *head;
	size_t nodes;
} mock_jarena;

void mock_json_arena_reset(mock_jarena *a);
void mock_json_arena_free(mock_jarena *a);

/* Parse text; NULL on error with *err set to a static message. */
mock_jval *mock_json_parse(mock_jarena *a, const char *text, size_t len,
			   const char **err);

/* Member lookup (NULL if v is not an object or has no such key). */
const mock_jval *mock_json_get(const mock_jval *v, const char *key);
/* Typed helpers: missing or wrong type gives the default / NULL. */
int mock_json_bool(const mock_jval *v, const char *key, int dflt);
long mock_json_long(const mock_jval *v, const char *key, long dflt);

/* Number of whitespace-separated words in a string. */
long mock_json_words(const char *s, size_t len);
/*
 * Words of a "content"-like value: a string, or an array of parts whose
 * "text" members are strings (OpenAI content parts, Anthropic blocks,
 * Gemini parts).
 */
long mock_json_content_words(const mock_jval *v);

#endif
