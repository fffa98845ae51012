/*
 * src/base/redact.h: gw_redact removes known secret values (the vendor
 * key of the LLM a request uses) from bytes that came from an upstream,
 * before they reach the client, the logs or the database: each occurrence
 * becomes GW_REDACT_MARK.
 *
 * A value is searched in its raw bytes and, when they differ, in its JSON
 * string escaping (\" \\ \/ and \u00XX for control characters) and its
 * percent-encoding (RFC 3986 unreserved characters kept, %XX upper case):
 * the shapes in which an upstream echoes a header or a query parameter.
 * Other encodings (base64, …) are not searched. Values shorter than
 * GW_REDACT_MIN_LEN bytes are not redacted (they would erase ordinary text
 * and are no secret worth the name).
 *
 * Streams: gw_redact_feed() takes bytes in any split. An occurrence may
 * straddle two chunks, so the longest tail of a chunk that is a proper
 * prefix of a searched value (found with the value's KMP failure table) is
 * held back and scanned with the next chunk; only such a tail is held, so a
 * stream frame that does not end in the beginning of a key is passed on at
 * once. gw_redact_flush() passes on the held tail at the end of the stream.
 *
 * The scan is memmem() per searched value (glibc's two-way search), plus a
 * copy of a chunk only when a tail was held before it. A gw_redact belongs
 * to one request (one thread); it copies the values and wipes its copies
 * in gw_redact_free().
 */
#ifndef GW_REDACT_H
#define GW_REDACT_H

#include <stddef.h>
#include <stdint.h>

#define GW_REDACT_MARK "[REDACTED]"
#define GW_REDACT_MIN_LEN 8
#define GW_REDACT_MAX_NEEDLES 6 /* raw + JSON + percent forms of two values */

/* Receives redacted bytes; returns 0, or -1 to stop (returned to the caller). */
typedef int (*gw_redact_sink)(void *ctx, const char *data, size_t len);

typedef struct gw_redact_needle {
    char *s;
    size_t len;
    size_t *fail; /* KMP failure table: fail[i] = longest proper border of s[0..i] */
} gw_redact_needle;

typedef struct gw_redact {
    gw_redact_needle nd[GW_REDACT_MAX_NEEDLES];
    size_t n;
    size_t maxlen;
    char *carry; /* held tail, at most maxlen - 1 bytes */
    size_t carry_len;
    char *join; /* carry + chunk */
    size_t join_cap;
    uint64_t replaced; /* occurrences replaced so far */
} gw_redact;

void gw_redact_init(gw_redact *r);
/* Redacts value v (and its encoded forms). 0 (also when v is too short to
 * be redacted, or already added), -1 out of memory or out of room. */
int gw_redact_add(gw_redact *r, const char *v, size_t n);
/* 1 when there is something to redact. */
int gw_redact_active(const gw_redact *r);
/* Scans a chunk of a stream; the redacted bytes go to sink (possibly in
 * several calls, possibly none). Returns 0, or -1 when sink did or memory
 * ran out. */
int gw_redact_feed(gw_redact *r, const char *data, size_t len, gw_redact_sink sink, void *ctx);
/* The stream ended: passes on the held tail. */
int gw_redact_flush(gw_redact *r, gw_redact_sink sink, void *ctx);
/* Forgets the held tail (a new stream, e.g. a retried transfer). */
void gw_redact_restart(gw_redact *r);
/* Redacts a whole string into out (cap bytes, always NUL-terminated,
 * truncated if needed); returns the length written. in and out may not
 * overlap. */
size_t gw_redact_copy(gw_redact *r, const char *in, size_t n, char *out, size_t cap);
/* Wipes and frees the copies of the values. */
void gw_redact_free(gw_redact *r);

#endif
