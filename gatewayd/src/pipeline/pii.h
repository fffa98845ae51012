/*
 * src/pipeline/pii.h: personal data in text — e-mail addresses, phone
 * numbers, payment card numbers and IBANs — found by hand-written scanners
 * (no regular expression: each kind has a checksum or a shape rule that a
 * pattern cannot say) and replaced with placeholders, also in a text that
 * arrives in pieces (a streamed answer) where a number may be split over
 * two frames.
 *
 * What counts (each bounded by characters that are not letters or digits):
 *   email  local@domain: local part of [A-Za-z0-9._%+-] (at most 64, not
 *          starting with '.'), domain labels of [A-Za-z0-9-] with a dot and
 *          a final label of two letters or more;
 *   card   13 to 19 digits, alone or in groups separated by single spaces
 *          or hyphens, whose Luhn checksum holds;
 *   iban   two capital letters, two digits, then capitals and digits
 *          (single spaces between groups allowed): 15 to 34 characters in
 *          all whose ISO 13616 mod-97 check gives 1;
 *   phone  '+' and 8 to 15 digits, or 10 or 11 digits written with
 *          separators (space, '-', parentheses; dots only as 3.3.4), the
 *          digits and separators forming one run. Card numbers and IBANs
 *          win over phone numbers where they overlap.
 *
 * Streaming (gw_pii_stream): text is held back only from where a match
 * could still grow — the last run of characters an e-mail, a number or an
 * IBAN may contain (at most GW_PII_HOLD_MAX bytes) — and released, redacted,
 * as soon as a character that ends it arrives; gw_pii_stream_feed with
 * final set releases everything. So a card number split over two frames is
 * replaced whole, and ordinary words are delayed by at most one frame.
 *
 * Pure code; a gw_pii_stream belongs to one request.
 */
#ifndef GW_PIPELINE_PII_H
#define GW_PIPELINE_PII_H

#include <stddef.h>

#include "base/buf.h"

enum {
    GW_PII_EMAIL = 1,
    GW_PII_PHONE = 2,
    GW_PII_CARD = 4,
    GW_PII_IBAN = 8,
    GW_PII_ALL = 15
};
#define GW_PII_KINDS 4
#define GW_PII_HOLD_MAX 256 /* the longest text a stream holds back for one open match */

typedef struct gw_pii_match {
    size_t at, len;
    int kind; /* GW_PII_* */
} gw_pii_match;

/* The kind's name ("email", "phone", "card", "iban") and its bit (0: unknown name). */
const char *gw_pii_kind_name(int kind);
int gw_pii_kind_parse(const char *name, size_t len);

/* The matches of the enabled kinds in text, in order, not overlapping: the
 * count found (at most max are stored in out). */
size_t gw_pii_scan(const char *text, size_t len, int kinds, gw_pii_match *out, size_t max);

/* Where text must be held back from, in a stream (len when nothing can
 * still grow into a match). */
size_t gw_pii_hold(const char *text, size_t len, int kinds);

/* The placeholders per kind (index: bit position; NULL → "[EMAIL]" …). */
typedef struct gw_pii_opts {
    int kinds;
    const char *placeholder[GW_PII_KINDS];
} gw_pii_opts;

/* Appends text with every match replaced to out; *count (may be NULL) gets
 * the number of matches, and matches (may be NULL) each one's kind and
 * position in the input, at most max. -1 when out failed. */
int gw_pii_redact(const gw_pii_opts *o, const char *text, size_t len, gw_buf *out, size_t *count,
                  gw_pii_match *matches, size_t max);

typedef struct gw_pii_stream {
    gw_buf pending; /* held back, not redacted yet */
} gw_pii_stream;

void gw_pii_stream_init(gw_pii_stream *s);
void gw_pii_stream_free(gw_pii_stream *s);
/* Takes the next piece of the text; appends to out what can be released
 * now (redacted), everything when final. *count += matches released. */
int gw_pii_stream_feed(gw_pii_stream *s, const gw_pii_opts *o, const char *text, size_t len, int final, gw_buf *out,
                       size_t *count);
static inline size_t gw_pii_stream_held(const gw_pii_stream *s)
{
    return s->pending.len;
}

#endif
