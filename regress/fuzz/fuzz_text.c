/*
 * regress/fuzz/fuzz_text.c: the content filters' text handling on arbitrary
 * input (src/pipeline/text.c and pii.c). Input: one selector byte, then the
 * body. The selector picks the dialect (low nibble) and what is run (high
 * nibble):
 *   0-4  a request body / a whole answer / an SSE event / an NDJSON line /
 *        a JSON array element of that dialect, read; every part replaced
 *        with a text made from the input (quotes, backslashes, control and
 *        invalid UTF-8 bytes included) and written back. Invariants: with
 *        nothing replaced the bytes are the same; after replacing, a body
 *        is valid JSON and reads back to the same number of parts, each
 *        with exactly its replacement text.
 *   5-15 the PII stream redactor: the body fed in pieces (cut where the
 *        input says) never holds back more than GW_PII_HELD_MAX bytes plus
 *        one piece, releases everything at the end, and gives exactly the
 *        one-shot redaction whenever no run of the characters a match may
 *        hold (an address, a number, an IBAN) is longer than 40 bytes (the
 *        streams' guarantee, pii.h; longer runs are released in part).
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"
#include "base/vjson.c"
#include "pipeline/pii.c"
#include "pipeline/text.c"

#include "fuzz.h"

static const gw_proc_mode gw_fuzz_modes[] = {GW_PROC_JSON, GW_PROC_JSON, GW_PROC_SSE, GW_PROC_NDJSON,
                                             GW_PROC_JSON_ARRAY};

static void gw_fuzz_text(gw_dialect d, int what, const char *body, size_t len)
{
    char err[GW_ERR_LEN];
    gw_text t, back;
    gw_buf out, again;
    const char *repl = "r\"\\\x01\xff\xc3\xa9 x";
    size_t rlen = strlen(repl);
    int rc, unit = what >= 2;

    gw_text_init(&t);
    gw_text_init(&back);
    gw_buf_init(&out, 0);
    gw_buf_init(&again, 0);
    if (what == 0)
        rc = gw_text_prompt(&t, d, body, len, err);
    else if (what == 1)
        rc = gw_text_answer(&t, d, body, len, err);
    else
        rc = gw_text_unit(&t, d, gw_fuzz_modes[what], body, len, err);
    if (rc != 0)
        goto done;
    /* nothing replaced: the same bytes (an SSE event with several data
     * lines is written as one line, so only single-line ones compare) */
    if (gw_text_write(&t, &out) != 0)
        abort();
    if (!t.multi_data && (out.len != len || (len > 0 && memcmp(out.data, body, len) != 0)))
        abort();
    gw_buf_reset(&out);
    for (size_t i = 0; i < t.n; i++)
        if (gw_text_replace(&t, i, repl, rlen) != 0)
            abort();
    if (gw_text_write(&t, &out) != 0)
        abort();
    if (t.n == 0 || unit)
        goto done;
    if (gw_json_validate(out.data, out.len, 128, err) != 0)
        abort();
    rc =
        what == 0 ? gw_text_prompt(&back, d, out.data, out.len, err) : gw_text_answer(&back, d, out.data, out.len, err);
    if (rc != 0 || back.n != t.n)
        abort();
    for (size_t i = 0; i < back.n; i++) {
        /* the invalid byte came back as U+FFFD */
        static const char want[] = "r\"\\\x01\xef\xbf\xbd\xc3\xa9 x";
        if (back.parts[i].len != sizeof(want) - 1 ||
            memcmp(gw_text_str(&back, &back.parts[i]), want, sizeof(want) - 1) != 0)
            abort();
    }
done:
    gw_text_free(&t);
    gw_text_free(&back);
    gw_buf_free(&out);
    gw_buf_free(&again);
}

/* The longest run of bytes of one of the classes the hold-back follows. */
static size_t gw_fuzz_longest_run(const char *t, size_t len)
{
    int (*cls[])(unsigned char) = {gw_email_char, gw_number_char, gw_iban_char};
    size_t best = 0;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0, run = 0; i < len; i++) {
            run = cls[c]((unsigned char)t[i]) ? run + 1 : 0;
            if (run > best)
                best = run;
        }
    return best;
}

static void gw_fuzz_pii(const uint8_t *cuts, const char *text, size_t len)
{
    gw_pii_opts o = {GW_PII_ALL, {NULL, NULL, NULL, NULL}};
    gw_pii_stream s;
    gw_buf whole, streamed;
    size_t from = 0, count = 0, piece = 1 + (cuts[0] % 17);

    gw_buf_init(&whole, 0);
    gw_buf_init(&streamed, 0);
    gw_pii_stream_init(&s);
    if (gw_pii_redact(&o, text, len, &whole, NULL, NULL, 0) != 0)
        abort();
    while (from < len) {
        size_t n = len - from < piece ? len - from : piece;
        if (gw_pii_stream_feed(&s, &o, text + from, n, 0, &streamed, &count) != 0)
            abort();
        if (gw_pii_stream_held(&s) > GW_PII_HELD_MAX + piece)
            abort();
        from += n;
        piece = 1 + ((piece * 7 + (size_t)text[from - 1]) % 23);
    }
    if (gw_pii_stream_feed(&s, &o, NULL, 0, 1, &streamed, &count) != 0 || gw_pii_stream_held(&s) != 0)
        abort();
    if (gw_fuzz_longest_run(text, len) <= 40 &&
        (whole.len != streamed.len || (whole.len > 0 && memcmp(whole.data, streamed.data, whole.len) != 0)))
        abort();
    gw_pii_stream_free(&s);
    gw_buf_free(&whole);
    gw_buf_free(&streamed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int what;
    gw_dialect d;

    if (size < 1)
        return 0;
    d = (gw_dialect)((data[0] & 0x0f) % GW_DIALECT_COUNT);
    what = (data[0] >> 4) & 0x0f;
    if (what <= 4)
        gw_fuzz_text(d, what, (const char *)data + 1, size - 1);
    else
        gw_fuzz_pii(data, (const char *)data + 1, size - 1);
    return 0;
}
