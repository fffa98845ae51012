/*
 * regress/unit/test_redact.c: removing a vendor key from upstream bytes
 * (base/redact.c): a key at the start, at the end, repeated, adjacent,
 * split across two chunks at every position, fed a byte at a time, keys
 * with a self-overlapping prefix, tails that look like a key's beginning
 * but are not, the JSON and percent-encoded forms, short and empty keys,
 * whole strings with truncation, restart, a failing sink, and a random
 * comparison against a naive reference under random chunking.
 */
#include "base/codec.c"
#include "base/redact.c"
#include "base/url.c"

#include <stdlib.h>

#include "tap.h"

#define KEY "sk-CANARY-7f3a9c2e11"

typedef struct sinkbuf {
    char data[1 << 16];
    size_t len;
    int calls;
    int fail_after; /* -1 = never */
} sinkbuf;

static int sb_sink(void *ctx, const char *d, size_t n)
{
    sinkbuf *s = ctx;
    if (s->fail_after >= 0 && s->calls >= s->fail_after)
        return -1;
    s->calls++;
    if (s->len + n > sizeof(s->data) - 1)
        n = sizeof(s->data) - 1 - s->len;
    memcpy(s->data + s->len, d, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

static void sb_init(sinkbuf *s)
{
    s->len = 0;
    s->calls = 0;
    s->fail_after = -1;
    s->data[0] = '\0';
}

/* Feeds text in chunks of the given sizes (cycled), then flushes. */
static const char *run_chunks(gw_redact *r, sinkbuf *s, const char *text, const size_t *sizes, size_t nsizes)
{
    size_t len = strlen(text), pos = 0, k = 0;
    sb_init(s);
    gw_redact_restart(r);
    while (pos < len) {
        size_t c = sizes[k++ % nsizes];
        if (c > len - pos)
            c = len - pos;
        if (gw_redact_feed(r, text + pos, c, sb_sink, s) != 0)
            return NULL;
        pos += c;
    }
    if (gw_redact_flush(r, sb_sink, s) != 0)
        return NULL;
    return s->data;
}

static const char *run_split(gw_redact *r, sinkbuf *s, const char *text, size_t at)
{
    size_t len = strlen(text);
    sb_init(s);
    gw_redact_restart(r);
    if (gw_redact_feed(r, text, at, sb_sink, s) != 0 || gw_redact_feed(r, text + at, len - at, sb_sink, s) != 0 ||
        gw_redact_flush(r, sb_sink, s) != 0)
        return NULL;
    return s->data;
}

/* Reference: leftmost occurrence of any needle (longest on a tie), replaced, repeat. */
static void naive(const char *const *keys, size_t nk, const char *text, char *out)
{
    size_t o = 0, len = strlen(text), pos = 0;
    while (pos < len) {
        const char *best = NULL;
        size_t bl = 0;
        for (size_t i = 0; i < nk; i++) {
            const char *f = strstr(text + pos, keys[i]);
            if (f != NULL && (best == NULL || f < best || (f == best && strlen(keys[i]) > bl))) {
                best = f;
                bl = strlen(keys[i]);
            }
        }
        if (best == NULL)
            break;
        memcpy(out + o, text + pos, (size_t)(best - text) - pos);
        o += (size_t)(best - text) - pos;
        memcpy(out + o, GW_REDACT_MARK, strlen(GW_REDACT_MARK));
        o += strlen(GW_REDACT_MARK);
        pos = (size_t)(best - text) + bl;
    }
    memcpy(out + o, text + pos, len - pos);
    out[o + len - pos] = '\0';
}

int main(void)
{
    gw_redact r;
    sinkbuf s;
    char out[4096], want[4096];
    const size_t one[] = {1};

    /* ---- nothing to redact ---- */
    gw_redact_init(&r);
    ok(!gw_redact_active(&r), "no key: inactive");
    is_str(run_chunks(&r, &s, "plain text", one, 1), "plain text", "no key: bytes pass unchanged");
    ok(gw_redact_add(&r, "", 0) == 0 && !gw_redact_active(&r), "empty key ignored");
    ok(gw_redact_add(&r, "x", 1) == 0 && !gw_redact_active(&r), "key of length 1 ignored");
    ok(gw_redact_add(&r, "1234567", 7) == 0 && !gw_redact_active(&r), "key shorter than GW_REDACT_MIN_LEN ignored");
    is_str(run_chunks(&r, &s, "x 1234567 x", one, 1), "x 1234567 x", "short keys: text unchanged");
    ok(gw_redact_add(&r, "12345678", 8) == 0 && gw_redact_active(&r), "key of GW_REDACT_MIN_LEN bytes is redacted");
    gw_redact_free(&r);

    /* ---- one chunk ---- */
    gw_redact_init(&r);
    ok(gw_redact_add(&r, KEY, strlen(KEY)) == 0, "key added");
    ok(gw_redact_add(&r, KEY, strlen(KEY)) == 0 && r.n == 1, "adding it again changes nothing");
    {
        const size_t all[] = {100000};
        is_str(run_chunks(&r, &s, KEY " at the start", all, 1), "[REDACTED] at the start", "key at the start");
        is_str(run_chunks(&r, &s, "at the end " KEY, all, 1), "at the end [REDACTED]", "key at the end");
        is_str(run_chunks(&r, &s, KEY, all, 1), "[REDACTED]", "key alone");
        is_str(run_chunks(&r, &s, "a " KEY " b " KEY " c", all, 1), "a [REDACTED] b [REDACTED] c", "key repeated");
        is_str(run_chunks(&r, &s, KEY KEY, all, 1), "[REDACTED][REDACTED]", "key twice, adjacent");
        is_str(run_chunks(&r, &s, "Authorization: Bearer " KEY "\r\n", all, 1), "Authorization: Bearer [REDACTED]\r\n",
               "an echoed header");
        is_str(run_chunks(&r, &s, "sk-CANARY-7f3a9c2e1 (one byte short)", all, 1),
               "sk-CANARY-7f3a9c2e1 (one byte short)", "a key one byte short is not a key");
    }

    /* ---- split across two chunks, at every position ---- */
    {
        const char *text = "{\"error\":{\"message\":\"Bearer " KEY " is invalid\"}}";
        const char *exp = "{\"error\":{\"message\":\"Bearer [REDACTED] is invalid\"}}";
        int all_ok = 1;
        for (size_t at = 0; at <= strlen(text); at++) {
            const char *got = run_split(&r, &s, text, at);
            if (got == NULL || strcmp(got, exp) != 0) {
                all_ok = 0;
                diag("split at %zu: %s", at, got ? got : "(null)");
            }
        }
        ok(all_ok, "an occurrence split across two chunks is redacted at every split point");
        is_str(run_chunks(&r, &s, text, one, 1), exp, "fed one byte at a time");
        ok(strstr(s.data, KEY) == NULL, "no copy of the key");
    }
    /* key at the very end, split inside it: held until the end of the stream */
    {
        const char *text = "tail " KEY;
        sb_init(&s);
        gw_redact_restart(&r);
        ok(gw_redact_feed(&r, text, strlen(text) - 3, sb_sink, &s) == 0, "fed all but 3 bytes");
        is_str(s.data, "tail ", "the key's beginning is held, the rest passed on");
        ok(gw_redact_feed(&r, text + strlen(text) - 3, 3, sb_sink, &s) == 0 && gw_redact_flush(&r, sb_sink, &s) == 0,
           "fed the rest");
        is_str(s.data, "tail [REDACTED]", "key at the end of a stream, split");
    }
    /* a tail that begins like the key but is not it: passed on in order, nothing lost */
    {
        sb_init(&s);
        gw_redact_restart(&r);
        gw_redact_feed(&r, "data: sk-CAN", 12, sb_sink, &s);
        is_str(s.data, "data: ", "a possible beginning of the key is held");
        gw_redact_feed(&r, "DY is sweet\n\n", 13, sb_sink, &s);
        is_str(s.data, "data: sk-CANDY is sweet\n\n", "... and passed on when the next chunk shows it is not the key");
        gw_redact_feed(&r, "sk-CAN", 6, sb_sink, &s);
        gw_redact_flush(&r, sb_sink, &s);
        is_str(s.data, "data: sk-CANDY is sweet\n\nsk-CAN", "a held beginning is passed on at the end");
    }
    /* a frame ending in "\n\n" is passed on at once (no latency on streams) */
    {
        sb_init(&s);
        gw_redact_restart(&r);
        gw_redact_feed(&r, "data: {\"x\":1}\n\n", 15, sb_sink, &s);
        is_int(s.len, 15, "a complete SSE frame is not held back");
        is_int(r.carry_len, 0, "nothing held");
    }
    /* the key longer than the chunks: the held tail spans several chunks */
    {
        const size_t three[] = {3};
        is_str(run_chunks(&r, &s, "xx" KEY "yy" KEY, three, 1), "xx[REDACTED]yy[REDACTED]",
               "chunks of 3 bytes, key of 20");
    }
    /* restart forgets a held tail */
    {
        sb_init(&s);
        gw_redact_feed(&r, "abc sk-CANARY", 13, sb_sink, &s);
        ok(r.carry_len > 0, "a tail is held");
        gw_redact_restart(&r);
        gw_redact_feed(&r, "-7f3a9c2e11", 11, sb_sink, &s);
        gw_redact_flush(&r, sb_sink, &s);
        is_str(s.data, "abc -7f3a9c2e11", "after restart the held tail is gone (a retried transfer starts afresh)");
    }
    /* a failing sink stops the scan */
    {
        sb_init(&s);
        s.fail_after = 1;
        gw_redact_restart(&r);
        ok(gw_redact_feed(&r, "a " KEY " b", strlen("a " KEY " b"), sb_sink, &s) == -1, "sink failure is returned");
    }
    /* whole strings */
    {
        size_t n = gw_redact_copy(&r, "x-ratelimit-echo: Bearer " KEY, strlen("x-ratelimit-echo: Bearer " KEY), out,
                                  sizeof(out));
        is_str(out, "x-ratelimit-echo: Bearer [REDACTED]", "a header value");
        is_int(n, strlen(out), "returns the length");
        n = gw_redact_copy(&r, KEY "0123456789", strlen(KEY) + 10, out, 8);
        is_str(out, "[REDACT", "truncated to the buffer, NUL-terminated");
        n = gw_redact_copy(&r, "sk-CANARY-7f3", 13, out, sizeof(out));
        is_str(out, "sk-CANARY-7f3", "a whole string holds nothing back");
        n = gw_redact_copy(NULL, "abc", 3, out, sizeof(out));
        is_str(out, "abc", "NULL redactor copies");
    }
    gw_redact_free(&r);

    /* ---- self-overlapping keys (the KMP tail) ---- */
    gw_redact_init(&r);
    gw_redact_add(&r, "abababac", 8);
    {
        const char *text = "abababababac abababac ababab";
        naive((const char *[]){"abababac"}, 1, text, want);
        int all_ok = 1;
        for (size_t at = 0; at <= strlen(text); at++) {
            const char *got = run_split(&r, &s, text, at);
            if (got == NULL || strcmp(got, want) != 0) {
                all_ok = 0;
                diag("split at %zu: %s", at, got ? got : "(null)");
            }
        }
        is_str(want, "abab[REDACTED] [REDACTED] ababab", "reference result");
        ok(all_ok, "overlapping prefixes: same result at every split point");
        is_str(run_chunks(&r, &s, text, one, 1), want, "overlapping prefixes: a byte at a time");
    }
    gw_redact_free(&r);
    gw_redact_init(&r);
    gw_redact_add(&r, "aaaaaaaa", 8);
    is_str(run_chunks(&r, &s, "aaaaaaaaaaaaaaaaaaa", one, 1), "[REDACTED][REDACTED]aaa", "a key of one repeated byte");
    gw_redact_free(&r);

    /* ---- encoded forms ---- */
    gw_redact_init(&r);
    {
        const char *k = "tok/en\"with+chars=1";
        ok(gw_redact_add(&r, k, strlen(k)) == 0 && r.n == 3, "raw, JSON and percent forms");
        const size_t all[] = {100000};
        is_str(run_chunks(&r, &s, "raw tok/en\"with+chars=1 .", all, 1), "raw [REDACTED] .", "raw form");
        is_str(run_chunks(&r, &s, "{\"m\":\"tok\\/en\\\"with+chars=1\"}", all, 1), "{\"m\":\"[REDACTED]\"}",
               "JSON-escaped form");
        is_str(run_chunks(&r, &s, "?key=tok%2Fen%22with%2Bchars%3D1&x", all, 1), "?key=[REDACTED]&x",
               "percent-encoded form");
    }
    gw_redact_free(&r);

    /* ---- random texts, random chunking, against the reference ---- */
    {
        const char *keys[] = {"sk-Zq9-Zq9-Zq9x"};
        int all_ok = 1, leaks = 0;
        srand(12345);
        gw_redact_init(&r);
        gw_redact_add(&r, keys[0], strlen(keys[0]));
        for (int iter = 0; iter < 3000 && all_ok; iter++) {
            char text[600];
            size_t len = 0, target = 50 + (size_t)(rand() % 500);
            static const char alpha[] = "sk-Zq9x \n";
            while (len < target) {
                if (rand() % 12 == 0 && len + 15 < target) {
                    memcpy(text + len, keys[0], 15);
                    len += 15;
                } else if (rand() % 5 == 0 && len + 8 < target) {
                    size_t cut = 1 + (size_t)(rand() % 14);
                    memcpy(text + len, keys[0], cut); /* a beginning of the key only */
                    len += cut;
                } else {
                    text[len++] = alpha[rand() % (int)(sizeof(alpha) - 1)];
                }
            }
            text[len] = '\0';
            naive(keys, 1, text, want);
            size_t sizes[4];
            for (int i = 0; i < 4; i++)
                sizes[i] = 1 + (size_t)(rand() % 40);
            const char *got = run_chunks(&r, &s, text, sizes, 4);
            if (got == NULL || strcmp(got, want) != 0) {
                all_ok = 0;
                diag("text: %s\n# got:  %s\n# want: %s", text, got ? got : "(null)", want);
            }
            if (got != NULL && strstr(got, keys[0]) != NULL)
                leaks++;
        }
        ok(all_ok, "3000 random texts with random chunking match the reference");
        is_int(leaks, 0, "and never contain the key");
        gw_redact_free(&r);
    }
    return tap_done();
}
