/*
 * regress/unit/test_pii.c: the personal-data scanners (src/pipeline/pii.c):
 * e-mail addresses, phone numbers, card numbers (Luhn) and IBANs (mod 97)
 * found with their boundaries and not found in look-alikes (dates, order
 * numbers, a card with one digit wrong, an IBAN with a wrong check),
 * redaction with default and custom placeholders and chosen kinds; the
 * stream redactor gives the same text as a one-shot redaction whatever
 * the split (every split point of a sentence with each kind, and byte by
 * byte), holds back at most what could still become a match, and
 * releases ordinary words at once.
 */
#include "base/buf.c"
#include "pipeline/pii.c"

#include "tap.h"

static gw_pii_opts all = {GW_PII_ALL, {NULL, NULL, NULL, NULL}};

static const char *redact(const gw_pii_opts *o, const char *s)
{
    static gw_buf b;
    gw_buf_free(&b);
    gw_buf_init(&b, 0);
    gw_pii_redact(o, s, strlen(s), &b, NULL, NULL, 0);
    return gw_buf_cstr(&b);
}

/* The text streamed in pieces cut at the given points. */
static const char *streamed(const gw_pii_opts *o, const char *s, const size_t *cuts, size_t ncuts, size_t *max_held)
{
    static gw_buf b;
    gw_pii_stream st;
    size_t from = 0, count = 0, len = strlen(s);
    gw_buf_free(&b);
    gw_buf_init(&b, 0);
    gw_pii_stream_init(&st);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        gw_pii_stream_feed(&st, o, s + from, to - from, i == ncuts, &b, &count);
        if (max_held != NULL && gw_pii_stream_held(&st) > *max_held)
            *max_held = gw_pii_stream_held(&st);
        from = to;
    }
    gw_pii_stream_free(&st);
    return gw_buf_cstr(&b);
}

int main(void)
{
    /* ---- what is found ---- */
    is_str(redact(&all, "mail jane.doe+x@mail.example.co.uk, please."), "mail [EMAIL], please.", "an e-mail address");
    is_str(redact(&all, "a@b.c a@b x@@y.com @example.com user@-bad.com"), "a@b.c a@b x@@y.com @example.com user@-bad.com",
           "not e-mail addresses");
    is_str(redact(&all, "Write to <ops@example.org>."), "Write to <[EMAIL]>.", "in brackets, before a period");
    is_str(redact(&all, "card 4111 1111 1111 1111 ok"), "card [CARD] ok", "a card in groups");
    is_str(redact(&all, "card 4111-1111-1111-1111."), "card [CARD].", "a card with hyphens");
    is_str(redact(&all, "5555555555554444"), "[CARD]", "a card alone");
    is_str(redact(&all, "card 4111 1111 1111 1112 ok"), "card 4111 1111 1111 1112 ok", "a Luhn failure is no card");
    is_str(redact(&all, "ref 12 4111 1111 1111 1111 2024"), "ref 12 [CARD] 2024", "the card within a longer run of groups");
    is_str(redact(&all, "id4111111111111111"), "id4111111111111111", "digits glued to a word are no card");
    is_str(redact(&all, "IBAN DE89 3704 0044 0532 0130 00 THEN"), "IBAN [IBAN] THEN", "an IBAN in groups");
    is_str(redact(&all, "GB82WEST12345698765432"), "[IBAN]", "an IBAN without spaces");
    is_str(redact(&all, "GB82WEST12345698765433"), "GB82WEST12345698765433", "a wrong check digit is no IBAN");
    is_str(redact(&all, "call +1 (555) 123-4567 now"), "call [PHONE] now", "an international phone number");
    is_str(redact(&all, "call (555) 123-4567 now"), "call [PHONE] now", "a national one");
    is_str(redact(&all, "call 555.123.4567"), "call [PHONE]", "dots as 3.3.4");
    is_str(redact(&all, "+44 20 7946 0958"), "[PHONE]", "a UK number");
    is_str(redact(&all, "on 2024-01-15 at 10.30, order 1234567, v1.2.3.4"), "on 2024-01-15 at 10.30, order 1234567, v1.2.3.4",
           "dates, times, order numbers and versions are left alone");
    is_str(redact(&all, "on 2024-01-15 555-123-4567"), "on 2024-01-15 [PHONE]", "a phone after a date");
    is_str(redact(&all, "ip 192.168.100.200"), "ip 192.168.100.200", "an IPv4 address is no phone");
    is_str(redact(&all, "x@y.io 4111111111111111 +33 1 23 45 67 89 FR1420041010050500013M02606"),
           "[EMAIL] [CARD] [PHONE] [IBAN]", "all four kinds");
    {
        gw_pii_opts o = {GW_PII_CARD | GW_PII_IBAN, {"<mail>", NULL, "<card>", "#"}};
        is_str(redact(&o, "x@y.io 4111111111111111 GB82WEST12345698765432"), "x@y.io <card> #",
               "chosen kinds and placeholders");
    }
    {
        gw_pii_match m[4];
        size_t n = gw_pii_scan("mail a@bc.de!", 13, GW_PII_ALL, m, 4);
        is_int(n, 1, "scan: one match");
        ok(m[0].at == 5 && m[0].len == 7 && m[0].kind == GW_PII_EMAIL, "scan: where and what");
        is_int(gw_pii_kind_parse("iban", 4), GW_PII_IBAN, "kind names");
        is_str(gw_pii_kind_name(GW_PII_PHONE), "phone", "kind names back");
        is_int(gw_pii_kind_parse("ssn", 3), 0, "an unknown kind");
    }

    /* ---- hold-back ---- */
    is_int(gw_pii_hold("Hello there, ", 13, GW_PII_ALL), 13, "nothing held after a space");
    is_int(gw_pii_hold("my card is 4111 11", 18, GW_PII_ALL), 11, "the start of a number is held");
    is_int(gw_pii_hold("write to jane", 13, GW_PII_ALL), 9, "a word that may become an e-mail address is held");
    is_int(gw_pii_hold("write to jane", 13, GW_PII_CARD), 13, "…unless e-mail is not redacted");
    is_int(gw_pii_hold("IBAN DE8", 8, GW_PII_IBAN), 5, "the start of an IBAN is held");
    is_int(gw_pii_hold("IBAN Dx", 7, GW_PII_IBAN), 7, "what cannot start an IBAN is not");

    /* ---- streams: the same result whatever the split ---- */
    {
        const char *texts[] = {
            "Your card 4111 1111 1111 1111 expires; mail jane@example.com or call +1 555 123 4567.",
            "IBAN: DE89 3704 0044 0532 0130 00, thanks",
            "plain words only, nothing to hide here",
            "ends with a number 4111111111111111",
        };
        for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
            const char *s = texts[k];
            char want[256];
            size_t len = strlen(s), max_held = 0;
            int same = 1;
            snprintf(want, sizeof(want), "%s", redact(&all, s));
            for (size_t a = 1; a < len; a++) { /* every split into two */
                size_t cuts[1] = {a};
                if (strcmp(streamed(&all, s, cuts, 1, &max_held), want) != 0) {
                    same = 0;
                    diag("split at %zu: %s", a, streamed(&all, s, cuts, 1, NULL));
                    break;
                }
            }
            ok(same, "text %zu: every split into two pieces redacts like the whole", k + 1);
            {
                size_t cuts[256];
                for (size_t i = 0; i + 1 < len && i < 256; i++)
                    cuts[i] = i + 1;
                is_str(streamed(&all, s, cuts, len - 1, &max_held), want, "text %zu: byte by byte too", k + 1);
            }
            ok(max_held <= GW_PII_HOLD_MAX, "text %zu: at most %zu bytes held (%zu)", k + 1, (size_t)GW_PII_HOLD_MAX,
               max_held);
        }
    }
    {
        /* ordinary words go out at once; the card split over two pieces is replaced whole */
        gw_pii_stream st;
        gw_buf b;
        size_t count = 0;
        gw_pii_stream_init(&st);
        gw_buf_init(&b, 0);
        gw_pii_stream_feed(&st, &all, "Hello world, ", 13, 0, &b, &count);
        is_str(gw_buf_cstr(&b), "Hello world, ", "words before a space are released at once");
        gw_pii_stream_feed(&st, &all, "card 4111 11", 12, 0, &b, &count);
        is_str(gw_buf_cstr(&b), "Hello world, card ", "the start of the card is held");
        gw_pii_stream_feed(&st, &all, "11 1111 1111 thanks", 19, 0, &b, &count);
        is_str(gw_buf_cstr(&b), "Hello world, card [CARD] ", "the card, completed, goes out redacted");
        gw_pii_stream_feed(&st, &all, "", 0, 1, &b, &count);
        is_str(gw_buf_cstr(&b), "Hello world, card [CARD] thanks", "the end releases the rest");
        is_int(count, 1, "one match counted");
        is_int(gw_pii_stream_held(&st), 0, "nothing held after the end");
        gw_buf_free(&b);
        gw_pii_stream_free(&st);
    }
    {
        /* a long run without a break: held back at most GW_PII_HOLD_MAX */
        char big[4096];
        size_t max_held = 0, cuts[64];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        for (int i = 0; i < 64; i++)
            cuts[i] = (size_t)(i + 1) * 60;
        ok(strcmp(streamed(&all, big, cuts, 64, &max_held), big) == 0, "a long word passes unchanged");
        ok(max_held <= GW_PII_HOLD_MAX + 60, "and is held back only a bounded amount (%zu)", max_held);
    }
    return tap_done();
}
