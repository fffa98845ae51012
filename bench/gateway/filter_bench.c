/*
 * bench/gateway/filter_bench.c: what a content filter costs a request, on
 * the CPU, without the network: a 2,048-byte chat-completions body through
 * one post_auth regex filter exactly as the gateway runs it (the hook
 * run: the prompt's text read from the body, the pattern searched in each
 * part; gatewayd/src/pipeline/hooks.c, filter.c), and the same body
 * through pii redaction and through keywords, for comparison. Prints the
 * median time per request of 7 runs of 20,000. Not part of the product;
 * the numbers go in docs/BENCHMARKS.md next to run.sh's gatewayd-regex row
 * (the same filter end to end).
 *
 *   make -C bench/gateway filter_bench && bench/gateway/filter_bench
 */
#include "../../gatewayd/src/base/codec.c"
#include "../../gatewayd/src/base/buf.c"
#include "../../gatewayd/src/base/json.c"
#include "../../gatewayd/src/base/vjson.c"
#include "../../gatewayd/src/pipeline/text.c"
#include "../../gatewayd/src/pipeline/pii.c"
#include "../../gatewayd/src/pipeline/filter.c"

#include <stdio.h>
#include <time.h>

#define RUNS 7
#define N 20000

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns per request (median of RUNS) of reading body and running f on it. */
static double measure(const gw_filter *f, const char *body, size_t len, const char **action)
{
    double t[RUNS];
    gw_text txt;
    char err[GW_ERR_LEN];

    gw_text_init(&txt);
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        for (int i = 0; i < N; i++) {
            gw_filter_outcome o;
            gw_filter_outcome_init(&o);
            if (gw_text_prompt(&txt, GW_DIALECT_OPENAI_CHAT, body, len, err) != 0 ||
                gw_filter_check(f, &txt, 0, &o) != 0)
                exit(1);
            *action = o.action == GW_HOOK_BLOCK ? "block" : o.action == GW_HOOK_MODIFY ? "modify" : "pass";
            gw_filter_outcome_free(&o);
        }
        t[r] = (now_ns() - t0) / N;
    }
    gw_text_free(&txt);
    qsort(t, RUNS, sizeof(t[0]), cmp_d);
    return t[RUNS / 2];
}

int main(void)
{
    static const char w[] = "The quick brown fox jumps over the lazy dog near the river bank at dawn. ";
    char body[4096], err[GW_ERR_LEN];
    size_t len;
    int n;
    struct {
        const char *what, *type, *cfg;
    } cases[] = {
        {"regex (one pattern)", "regex", "{\"patterns\":[\"(?i)\\\\b(password|secret|api[_-]?key)\\\\s*[:=]\"]}"},
        {"keywords (10 words)", "keywords",
         "{\"keywords\":[\"password\",\"secret\",\"apikey\",\"token\",\"credential\",\"ssn\",\"passport\",\"iban\","
         "\"private key\",\"confidential\"]}"},
        {"pii (all kinds)", "pii", "{}"},
        {"max_prompt (the read)", "max_prompt", "{\"max_chars\":100000}"},
    };

    n = snprintf(body, sizeof(body),
                 "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a "
                 "helpful assistant.\"},{\"role\":\"user\",\"content\":\"");
    while (n + (int)sizeof(w) + 8 < 2048)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s", w);
    while (n < 2048 - 4)
        body[n++] = ' ';
    n += snprintf(body + n, sizeof(body) - (size_t)n, "\"}]}");
    len = (size_t)n;
    printf("filter cost on a %zu-byte chat body (read the prompt + run the filter), median of %d x %d:\n", len, RUNS,
           N);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_filter *f;
        const char *action = "";
        if (gw_filter_compile(cases[i].type, cases[i].cfg, &f, err) != 0) {
            fprintf(stderr, "%s: %s\n", cases[i].what, err);
            return 1;
        }
        double ns = measure(f, body, len, &action);
        printf("  %-22s %7.2f µs per request (%s)\n", cases[i].what, ns / 1000.0, action);
        gw_filter_free(f);
    }
    return 0;
}
