/*
 * plugins/examples/pii_redactor.c: a PII redactor (hooks post_auth and
 * on_response, streamed answers too). It replaces e-mail addresses with
 * [EMAIL], card numbers (13 to 19 digits, Luhn-checked) with [CARD] and
 * phone numbers (9 to 15 digits, possibly with spaces, dashes, dots,
 * parentheses and a leading +) with [PHONE]: in the prompt's texts (the
 * gateway writes them back in the request's own format), in a JSON answer's
 * text, and in a streamed answer chunk by chunk, holding back the end of a
 * chunk that could be the start of an address or number continued in the
 * next one (at most HOLD_MAX bytes), flushed at the end of the answer.
 *
 * Configuration: {"kinds": ["email", "card", "phone"]} (default: all three).
 * The gateway's built-in pii filter (docs/filters.md) does the same in
 * process; this example shows how a plugin does it over the protocol.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aistudio_plugin.h"

#define HOLD_MAX 64

static int want_email = 1, want_card = 1, want_phone = 1;

static int configure(const char *config_json, aistudio_hook hook, char *err, size_t errlen, void *user)
{
    aistudio_json root, v, e;
    aistudio_json_iter it;
    (void)hook, (void)user;
    if (aistudio_json_parse(config_json, &root, err, errlen) != 0)
        return -1;
    if (!aistudio_json_get(&root, "kinds", &v))
        return 0;
    want_email = want_card = want_phone = 0;
    aistudio_json_iter_init(&it, &v);
    while (aistudio_json_next(&it, &e)) {
        char k[16];
        if (aistudio_json_string(&e, k, sizeof(k)) != 0)
            k[0] = '\0';
        if (strcmp(k, "email") == 0)
            want_email = 1;
        else if (strcmp(k, "card") == 0)
            want_card = 1;
        else if (strcmp(k, "phone") == 0)
            want_phone = 1;
        else {
            snprintf(err, errlen, "kinds: \"%s\" is not one of email, card, phone", k);
            return -1;
        }
    }
    return 0;
}

static int email_local(int c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static int email_domain(int c)
{
    return isalnum(c) || c == '.' || c == '-';
}

static int number_char(int c)
{
    return isdigit(c) || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+';
}

static int luhn(const char *digits, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digits[n - 1 - i] - '0';
        if (i % 2 == 1 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

typedef struct out {
    char *s;
    size_t len, cap;
} out;

static void put(out *o, const char *p, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *ns = realloc(o->s, cap);
        if (ns == NULL)
            return;
        o->s = ns;
        o->cap = cap;
    }
    memcpy(o->s + o->len, p, n);
    o->len += n;
    o->s[o->len] = '\0';
}

/* Redacts s[0..n) into o; returns the number of replacements. */
static int redact(const char *s, size_t n, out *o)
{
    int hits = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        /* an e-mail address: local@domain.tld */
        if (want_email && email_local(c) && (i == 0 || !email_local((unsigned char)s[i - 1]))) {
            size_t j = i;
            while (j < n && email_local((unsigned char)s[j]))
                j++;
            if (j < n && s[j] == '@') {
                size_t k = j + 1, dot = 0;
                while (k < n && email_domain((unsigned char)s[k])) {
                    if (s[k] == '.' && k + 1 < n && isalnum((unsigned char)s[k + 1]))
                        dot = k;
                    k++;
                }
                while (k > j + 1 && (s[k - 1] == '.' || s[k - 1] == '-'))
                    k--;
                if (dot > j + 1 && dot < k) {
                    put(o, "[EMAIL]", 7);
                    hits++;
                    i = k;
                    continue;
                }
            }
        }
        /* a run of digits and separators: a card or a phone number */
        if ((want_card || want_phone) && (isdigit(c) || c == '+' || c == '(') &&
            (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
            char digits[32];
            size_t nd = 0, j = i, end = i;
            while (j < n && number_char((unsigned char)s[j]) && nd < sizeof(digits)) {
                if (isdigit((unsigned char)s[j])) {
                    digits[nd++] = s[j];
                    end = j + 1;
                }
                j++;
            }
            int next_alnum = end < n && isalnum((unsigned char)s[end]);
            if (!next_alnum && want_card && nd >= 13 && nd <= 19 && luhn(digits, nd)) {
                put(o, "[CARD]", 6);
                hits++;
                i = end;
                continue;
            }
            if (!next_alnum && want_phone && nd >= 9 && nd <= 15) {
                put(o, "[PHONE]", 7);
                hits++;
                i = end;
                continue;
            }
        }
        put(o, s + i, 1);
        i++;
    }
    return hits;
}

/* Where the part of s that could still grow into an address or number
 * begins (s's length when none could). */
static size_t hold_from(const char *s, size_t n)
{
    size_t a = n, b = n;
    while (a > 0 && (email_local((unsigned char)s[a - 1]) || s[a - 1] == '@'))
        a--; /* an e-mail address or its start */
    while (b > 0 && number_char((unsigned char)s[b - 1]))
        b--;
    if (b < n) { /* only a run with a digit (or its very start) could be a number */
        int digit = 0;
        for (size_t k = b; k < n; k++)
            digit |= isdigit((unsigned char)s[k]) || s[k] == '+' || s[k] == '(';
        if (!digit)
            b = n;
    }
    size_t from = a < b ? a : b;
    if (n - from > HOLD_MAX)
        from = n - HOLD_MAX;
    return from;
}

static void on_request(const aistudio_request *req, aistudio_result *res, void *user)
{
    (void)user;
    for (size_t i = 0; i < req->ntexts; i++) {
        out o = {0};
        if (redact(req->texts[i].text, strlen(req->texts[i].text), &o) > 0 && o.s != NULL)
            aistudio_result_set_text(res, i, o.s);
        free(o.s);
    }
}

static void on_response(const aistudio_response *resp, aistudio_result *res, void *user)
{
    (void)user;
    for (size_t i = 0; i < resp->ntexts; i++) {
        out o = {0};
        if (redact(resp->texts[i].text, strlen(resp->texts[i].text), &o) > 0 && o.s != NULL)
            aistudio_result_set_text(res, i, o.s);
        free(o.s);
    }
}

/* A streamed answer: what is held back between chunks. */
typedef struct held {
    out text;
} held;

static void *stream_open(const aistudio_context *ctx, void *user)
{
    (void)ctx, (void)user;
    return calloc(1, sizeof(held));
}

static void stream_chunk(void *state, const aistudio_chunk *chunk, aistudio_result *res, void *user)
{
    held *h = state;
    out buf = {0}, o = {0};
    size_t cut;
    (void)user;
    if (h == NULL)
        return;
    if (h->text.len == 0 && chunk->text[0] == '\0' && !chunk->end)
        return; /* nothing held, nothing new: the frame goes as it is */
    put(&buf, "", 0);
    if (h->text.len > 0)
        put(&buf, h->text.s, h->text.len);
    put(&buf, chunk->text, strlen(chunk->text));
    cut = chunk->end ? buf.len : hold_from(buf.s, buf.len);
    redact(buf.s, cut, &o);
    put(&o, "", 0);
    h->text.len = 0;
    if (cut < buf.len)
        put(&h->text, buf.s + cut, buf.len - cut);
    if (o.s != NULL && (o.len != strlen(chunk->text) || memcmp(o.s, chunk->text, o.len) != 0))
        aistudio_result_set_text(res, 0, o.s);
    free(buf.s);
    free(o.s);
}

static void stream_close(void *state, void *user)
{
    held *h = state;
    (void)user;
    if (h != NULL)
        free(h->text.s);
    free(h);
}

int main(int argc, char **argv)
{
    aistudio_plugin_info("com.pg-aistudio.examples.pii", "PII redactor", "1.0.0",
                         "replaces e-mail addresses, card and phone numbers in prompts and answers");
    aistudio_plugin_on_configure(configure, NULL);
    aistudio_plugin_on_request(AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_POST_AUTH), on_request, NULL);
    aistudio_plugin_on_response(on_response, NULL);
    aistudio_plugin_on_stream(stream_open, stream_chunk, stream_close, NULL);
    return aistudio_plugin_serve(argc, argv);
}
