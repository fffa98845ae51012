/*
 * src/base/vjson.h: navigation over JSON text
 * that was already validated by gw_json_validate / gw_json_scan_object
 * (base/json.h): object member and array element iteration, dotted-path
 * lookup ("message.usage.input_tokens"), typed getters, and copying members
 * raw into a rewritten object. Values are spans of the original text; no
 * tree is built. These functions assume valid input: never call them on
 * text that has not been validated.
 */
#ifndef GW_VJSON_H
#define GW_VJSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"

/* Validates text as one JSON value and returns it as *root. */
int gw_vj_parse(const char *text, size_t len, gw_json_value *root, char err[GW_ERR_LEN]);

typedef struct gw_vj_iter {
    const char *p;
    const char *end;
    int array; /* iterating an array (else an object) */
} gw_vj_iter;

/* Iterates the members of an object / the elements of an array. Any other
 * pairing (elements of an object, members of an array, a scalar) iterates
 * nothing. */
void gw_vj_iter_init(gw_vj_iter *it, const gw_json_value *container);
int gw_vj_next_member(gw_vj_iter *it, gw_json_value *key, gw_json_value *val); /* 1 = got one, 0 = end */
int gw_vj_next_elem(gw_vj_iter *it, gw_json_value *val);

/* 1 when the key span (a JSON string) equals name (escapes decoded). */
int gw_vj_key_is(const gw_json_value *key, const char *name);
/* The member `key` of an object (the last one if repeated): 1 found, 0 not. */
int gw_vj_get(const gw_json_value *obj, const char *key, gw_json_value *out);
/* Dotted path of object members, e.g. "usage.prompt_tokens_details.cached_tokens". */
int gw_vj_path(const gw_json_value *root, const char *path, gw_json_value *out);
/* Integer at a path (0 found, -1 absent or not an integer). */
int gw_vj_int(const gw_json_value *root, const char *path, int64_t *out);
/* 1 when v is a string equal to s. */
int gw_vj_str_is(const gw_json_value *v, const char *s);
/* Copies a string value (decoded, NUL-terminated, truncated to cap-1) into
 * out; "" for a non-string. Returns the decoded length or -1. */
int gw_vj_str_copy(const gw_json_value *v, char *out, size_t cap);
/* Appends the decoded text of a string value to b (no quotes). */
int gw_vj_str_append(const gw_json_value *v, gw_buf *b);
/* 1 for an array with no elements. */
int gw_vj_array_empty(const gw_json_value *v);

/* Appends `"key":value` pairs of obj to b (comma separated, each preceded
 * by a comma when *count > 0), except those whose key is in skip[];
 * *count is incremented per pair written. */
void gw_vj_copy_members(const gw_json_value *obj, const char *const *skip, size_t nskip, gw_buf *b, int *count);

/* Finds needle in hay (memmem without relying on _GNU_SOURCE callers). */
const char *gw_vj_find(const char *hay, size_t hlen, const char *needle);

#endif
