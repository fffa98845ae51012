/*
 * src/base/url.h: percent-encoding (RFC 3986 §2.1): the one decoder and
 * the one encoder of gatewayd, and the check of a raw request target's path.
 *
 * civetweb runs with decode_url=no, so handlers see the path as the client
 * sent it: the HTTP layer checks it once for every server
 * (gw_url_path_check, http/server.c), the gateway forwards it as sent, and
 * a handler that wants a decoded piece (an admin API segment, a query
 * parameter, Google's model name in the path) decodes just that piece with
 * gw_url_decode. Pure functions (no I/O), unit-tested in
 * regress/unit/test_url.c and fuzzed in regress/fuzz.
 */
#ifndef GW_COMMON_URL_H
#define GW_COMMON_URL_H

#include <stddef.h>

/* Decoding options. */
#define GW_URL_PLUS_SPACE 0x1 /* '+' is a space (query strings, forms) */
#define GW_URL_ALLOW_NUL 0x2  /* accept %00 (else it is an error: it would cut a C string) */

/*
 * Decodes in[0..in_len) into out (NUL-terminated, at most cap - 1 bytes;
 * out may be in itself: the output is never longer than the input).
 * Returns 0 with *out_len, or -1 on a '%' not followed by two hex digits,
 * on %00 (unless GW_URL_ALLOW_NUL), or when the result does not fit.
 */
int gw_url_decode(const char *in, size_t in_len, unsigned flags, char *out, size_t cap, size_t *out_len);

typedef enum gw_url_path_status {
    GW_URL_PATH_OK = 0,
    GW_URL_PATH_CONTROL = -1,   /* a control character (0x00-0x1F, 0x7F), raw or percent-encoded */
    GW_URL_PATH_BAD_ESCAPE = -2 /* a '%' not followed by two hex digits */
} gw_url_path_status;

/* Checks the path of a raw request target (len bytes, the query string not
 * included). */
gw_url_path_status gw_url_path_check(const char *path, size_t len);

/* Percent-encodes in[0..n) into out (at most 3n bytes, no NUL): every byte
 * but the unreserved characters of RFC 3986 (A-Z a-z 0-9 - . _ ~) as %XX
 * (upper-case digits). Returns the length written. */
size_t gw_url_encode(const char *in, size_t n, char *out);

/* The message of a refused path, for the 400 invalid_path answer. */
const char *gw_url_path_message(gw_url_path_status st);

#endif
