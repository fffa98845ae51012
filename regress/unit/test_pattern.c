/*
 * regress/unit/test_pattern.c: the stored-pattern module the extension and
 * gatewayd share (pg_aistudio/src/pattern.c): every row of
 * regress/fixtures/patterns.tsv (the table the pg_regress and e2e tests
 * check through SQL and through the gateway), compile errors with their
 * reason, the length and NUL limits, a catastrophic pattern stopped by the
 * match limit (and a pattern unable to raise it), invalid UTF-8 subjects,
 * and matching from many threads at once.
 */
#include <pthread.h>
#include <stdlib.h>

#include "pattern.h"
#include "tap.h"

#ifndef GW_FIXTURES
#error "GW_FIXTURES (the regress/fixtures folder) must be defined"
#endif

static void test_table(void)
{
    char line[1024];
    int rows = 0;
    FILE *f = fopen(GW_FIXTURES "/patterns.tsv", "r");
    if (!ok(f != NULL, "patterns.tsv opens"))
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *pat = line, *model, *want, *nl;
        aistudio_pattern *p;
        char err[AISTUDIO_PATTERN_ERR_LEN];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = '\0';
        model = strchr(pat, '\t');
        want = model != NULL ? strchr(model + 1, '\t') : NULL;
        if (!ok(want != NULL, "row %d has three columns", rows + 1))
            continue;
        *model++ = '\0';
        *want++ = '\0';
        rows++;
        if (!ok(aistudio_pattern_compile(pat, strlen(pat), &p, err) == 0, "/%s/ compiles (%s)", pat, err))
            continue;
        is_int(aistudio_pattern_match(p, model, strlen(model)) == AISTUDIO_MATCH_YES, atoi(want), "/%s/ on '%s' -> %s",
               pat, model, want);
        aistudio_pattern_free(p);
    }
    fclose(f);
    ok(rows >= 20, "the table has %d rows", rows);
}

static void test_errors(void)
{
    aistudio_pattern *p = (aistudio_pattern *)1;
    char err[AISTUDIO_PATTERN_ERR_LEN];
    char big[AISTUDIO_PATTERN_MAX_LEN + 2];

    is_int(aistudio_pattern_compile("gpt-(4o", 7, &p, err), -1, "an unclosed group does not compile");
    ok(p == NULL, "and gives no pattern");
    ok(strstr(err, "missing closing parenthesis") != NULL && strstr(err, "offset 7") != NULL, "reason: %s", err);
    is_int(aistudio_pattern_compile("[a-", 3, &p, err), -1, "an unclosed class does not compile: %s", err);
    is_int(aistudio_pattern_compile("a{2,1}", 6, &p, err), -1, "a bad quantifier does not compile: %s", err);
    is_int(aistudio_pattern_compile("\\C", 2, &p, err), -1, "\\C (one byte of a UTF-8 character) is refused: %s", err);
    is_int(aistudio_pattern_compile("a\0b", 3, &p, err), -1, "a NUL byte is refused");
    ok(strstr(err, "NUL") != NULL, "reason: %s", err);
    memset(big, 'a', sizeof(big));
    is_int(aistudio_pattern_compile(big, AISTUDIO_PATTERN_MAX_LEN + 1, &p, err), -1, "a pattern over the limit");
    ok(strstr(err, "longer than") != NULL, "reason: %s", err);
    is_int(aistudio_pattern_compile(big, AISTUDIO_PATTERN_MAX_LEN, &p, err), 0, "a pattern of exactly the limit");
    aistudio_pattern_free(p);
    is_int(aistudio_pattern_compile("\xff(", 2, &p, err), -1, "a pattern that is not UTF-8 is refused: %s", err);
}

static void test_limits(void)
{
    aistudio_pattern *p;
    char err[AISTUDIO_PATTERN_ERR_LEN];
    char subject[64];
    const char *evil = "^(a|aa)+$";

    memset(subject, 'a', sizeof(subject) - 2);
    subject[sizeof(subject) - 2] = 'b';
    subject[sizeof(subject) - 1] = '\0';
    is_int(aistudio_pattern_compile(evil, strlen(evil), &p, err), 0, "a catastrophic pattern compiles");
    is_int(aistudio_pattern_match(p, subject, strlen(subject)), AISTUDIO_MATCH_LIMIT,
           "and is stopped by the match limit (counted as no match)");
    aistudio_pattern_free(p);
    evil = "(*LIMIT_MATCH=100000000)^(a|aa)+$";
    is_int(aistudio_pattern_compile(evil, strlen(evil), &p, err), 0, "a pattern asking for a higher limit compiles");
    is_int(aistudio_pattern_match(p, subject, strlen(subject)), AISTUDIO_MATCH_LIMIT, "but cannot raise the limit");
    aistudio_pattern_free(p);

    is_int(aistudio_pattern_compile("^gpt", 4, &p, err), 0, "^gpt");
    is_int(aistudio_pattern_match(p, "gpt\xff\xfe", 5), AISTUDIO_MATCH_YES, "invalid UTF-8 after the match: found");
    is_int(aistudio_pattern_match(p, "\xffgpt", 4), AISTUDIO_MATCH_NO, "invalid UTF-8 before: not at the start");
    is_int(aistudio_pattern_match(p, "gp", 2), AISTUDIO_MATCH_NO, "a shorter subject");
    aistudio_pattern_free(p);
    is_int(aistudio_pattern_compile("^a$", 3, &p, err), 0, "^a$");
    is_int(aistudio_pattern_match(p, "a\n", 2), AISTUDIO_MATCH_NO, "$ is the end of the subject only (like ~)");
    aistudio_pattern_free(p);
}

typedef struct worker {
    aistudio_pattern *p;
    int yes;
} worker;

static void *match_many(void *arg)
{
    worker *w = arg;
    char m[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(m, sizeof(m), "gpt-4o%d", i % 20);
        w->yes += aistudio_pattern_match(w->p, m, strlen(m)) == AISTUDIO_MATCH_YES;
    }
    return NULL;
}

static void test_threads(void)
{
    aistudio_pattern *p;
    char err[AISTUDIO_PATTERN_ERR_LEN];
    pthread_t th[8];
    worker w[8];
    int yes = 0;

    is_int(aistudio_pattern_compile("^gpt-4o\\d$", 10, &p, err), 0, "^gpt-4o\\d$");
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){p, 0};
        pthread_create(&th[i], NULL, match_many, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        yes += w[i].yes;
    }
    is_int(yes, 8 * 10000, "8 threads matching one pattern: every answer right");
    aistudio_pattern_free(p);
}

int main(void)
{
    test_table();
    test_errors();
    test_limits();
    test_threads();
    return tap_done();
}
