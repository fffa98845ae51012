/*
 * src/base/codec.h: the byte ↔ text codings of gatewayd, one of each:
 * hexadecimal digits (the one digit decoder and the digit tables every
 * escape writer uses: JSON \u00XX, log \xNN, percent-encoding %XX, ids)
 * and base64url without padding (RFC 4648 §5: JWTs, PKCE). Percent-encoding
 * itself is url.h's. Pure functions, unit-tested in regress/unit/test_codec.c.
 */
#ifndef GW_BASE_CODEC_H
#define GW_BASE_CODEC_H

#include <stddef.h>

extern const char gw_hex_lower[16]; /* "0123456789abcdef" */
extern const char gw_hex_upper[16]; /* "0123456789ABCDEF" */

/* The value of a hex digit (either case), or -1. */
int gw_hex_val(int c);
/* in[0..n) as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void gw_hex_encode(const unsigned char *in, size_t n, char *out);
/* 2n hex digits into n bytes; -1 at the first character that is not a hex
 * digit (*bad = its index, when bad is not NULL). */
int gw_hex_decode(const char *in, size_t n, unsigned char *out, size_t *bad);

/* Encodes in[0..n) (no padding) and a NUL into out; the length written, or
 * -1 when cap is too small ((4n + 2) / 3 + 1 bytes are needed). */
int gw_b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap);
/* Decodes in[0..n) into out (at most cap bytes); -1 on a character outside
 * the alphabet, a length that cannot be base64url, non-zero leftover bits
 * (a non-canonical encoding) or too small a buffer. */
int gw_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len);

#endif
