/*
 * src/base/errmap.h: the ONE table that maps a PostgreSQL SQLSTATE to an
 * HTTP status (42501→403, 22xxx→400, 23xxx→409, P0002→404, 55000/57P01→503,
 * 55P03→429, anything else 500), and the JSON error body every server of gatewayd
 * returns, in the OpenAI shape {"error":{"message","type","code"}}.
 * Callers never parse the text of an error message to decide a status.
 */
#ifndef GW_ERRMAP_H
#define GW_ERRMAP_H

#include <stddef.h>

#include "base/json.h"

/* HTTP status for a SQLSTATE (5 characters; NULL or malformed → 500). */
int gw_errmap_status(const char *sqlstate);

/* The OpenAI-style error "type" for an HTTP status. */
const char *gw_errmap_type(int status);

/* The reason phrase for an HTTP status ("Not Found"). */
const char *gw_errmap_reason(int status);

/*
 * Appends {"error":{"message":…,"type":…,"code":…}} to b. code may be NULL
 * (written as null). The message is JSON-escaped; it must not carry secrets.
 * Returns 0, or -1 when b overflowed.
 */
int gw_errmap_body(gw_buf *b, int status, const char *message, const char *code);
/* The same with "detail" and "hint" members (each left out when NULL or ""),
 * as the REST API relays them from the database. */
int gw_errmap_body_full(gw_buf *b, int status, const char *message, const char *code, const char *detail,
                        const char *hint);

/* Same, into a fixed buffer; returns the length or -1 (buffer too small). */
int gw_errmap_body_fixed(char *out, size_t cap, int status, const char *message, const char *code);

#endif
