/*
 * src/base/json.h: the small JSON toolkit of gatewayd: ONE reader (the
 * validator below; vjson.h only navigates text it validated) and one writer.
 *  - gw_jw: a streaming writer with proper string escaping (control
 *    characters, quotes, backslash; invalid UTF-8 becomes U+FFFD), so any
 *    text we echo (upstream messages, names) yields valid JSON.
 *  - gw_json_scan_object: a validating tokenizer for request bodies that
 *    returns the raw spans of chosen top-level fields ("model", "stream",
 *    "max_tokens", "stream_options", …) without building a tree. It enforces
 *    a depth limit, strict grammar and UTF-8, decodes escaped keys (so
 *    "mod\u0065l" is "model") and rejects a duplicate of a chosen field, so
 *    the gateway and the upstream never disagree about a field's value.
 *
 * Why the hot path keeps its own one-pass field scan instead of
 * validate-then-navigate (vjson.h): reading model, stream and max_tokens
 * from a 2,028-byte chat-completions body (bench/gateway/json_bench, three
 * runs on the 2-core development machine, median of 7 each): scan_object
 * 1,965 / 2,198 / 2,703 ns, gw_vj_parse + 3 x gw_vj_get 5,981 / 7,350 /
 * 7,656 ns, about 3x slower (every gw_vj_get walks the object again). Both
 * share the one grammar: gw_vj_parse is gw_json_validate, and both go
 * through the same tokenizer (json.c).
 */
#ifndef GW_JSON_H
#define GW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"

/* ---- writer ---- */

#define GW_JW_MAX_DEPTH 32

typedef struct gw_jw {
    gw_buf *b;
    int depth;
    int after_key;
    unsigned char has_item[GW_JW_MAX_DEPTH + 1];
    int misuse; /* unbalanced or too deep */
} gw_jw;

void gw_jw_init(gw_jw *w, gw_buf *b);
void gw_jw_object_begin(gw_jw *w);
void gw_jw_object_end(gw_jw *w);
void gw_jw_array_begin(gw_jw *w);
void gw_jw_array_end(gw_jw *w);
void gw_jw_key(gw_jw *w, const char *key);
void gw_jw_string(gw_jw *w, const char *s); /* NULL writes null */
void gw_jw_string_n(gw_jw *w, const char *s, size_t n);
void gw_jw_int(gw_jw *w, int64_t v);
void gw_jw_bool(gw_jw *w, int v);
void gw_jw_null(gw_jw *w);
/* Inserts already valid JSON text as one value. */
void gw_jw_raw(gw_jw *w, const char *json, size_t n);
/* 0 when the document is complete and fitted in the buffer. */
int gw_jw_finish(gw_jw *w);

/* Appends s (n bytes) as a quoted, escaped JSON string. */
int gw_json_escape(gw_buf *b, const char *s, size_t n);

/* ---- reader ---- */

#define GW_JSON_DEFAULT_MAX_DEPTH 64

typedef enum gw_json_type {
    GW_JSON_ABSENT = 0,
    GW_JSON_OBJECT,
    GW_JSON_ARRAY,
    GW_JSON_STRING,
    GW_JSON_NUMBER,
    GW_JSON_TRUE,
    GW_JSON_FALSE,
    GW_JSON_NULL
} gw_json_type;

/* A value as a span of the input text (for strings, including quotes). */
typedef struct gw_json_value {
    gw_json_type type;
    const char *ptr;
    size_t len;
} gw_json_value;

typedef struct gw_json_field {
    const char *name;    /* set by the caller */
    gw_json_value value; /* type GW_JSON_ABSENT when not present */
} gw_json_field;

/*
 * Validates that text[0..len) is exactly one JSON object (whitespace around
 * it allowed), nested at most max_depth deep (the object itself is depth 1),
 * and fills the values of fields[0..nfields) found at its top level. Returns
 * -1 with a message (naming the byte offset) on malformed input, excessive
 * depth, a non-object top level or a repeated chosen field.
 */
int gw_json_scan_object(const char *text, size_t len, int max_depth, gw_json_field *fields, size_t nfields,
                        char err[GW_ERR_LEN]);

/* Validates any JSON value (the same rules). */
int gw_json_validate(const char *text, size_t len, int max_depth, char err[GW_ERR_LEN]);

/* Decodes a string value into out (NUL-terminated). 0, or: -1 when v is
 * not a string, GW_JSON_STR_NUL when it contains \u0000 (the text would be
 * cut at it), GW_JSON_STR_TOO_LONG when it does not fit in cap - 1 bytes
 * (whichever is met first). */
#define GW_JSON_STR_NUL (-2)
#define GW_JSON_STR_TOO_LONG (-3)
int gw_json_get_string(const gw_json_value *v, char *out, size_t cap, size_t *out_len);
/* -1 when v is not true/false. */
int gw_json_get_bool(const gw_json_value *v, int *out);
/* -1 when v is not an integer number within int64 (no fraction/exponent). */
int gw_json_get_int64(const gw_json_value *v, int64_t *out);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
size_t gw_utf8_seq_len(const unsigned char *s, size_t avail);

#endif
