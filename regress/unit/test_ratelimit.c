/*
 * regress/unit/test_ratelimit.c: the rate-limit buckets (model/ratelimit.c)
 * on a clock the test moves: a full bucket admits exactly its limit, then
 * refills at limit/60 per second (one request per second at 60 rpm, none
 * a millisecond early); a refusal takes nothing from the other buckets;
 * tokens buckets admit while above 0, go negative when charged and admit
 * again exactly when refilled above 0 (Retry-After from the deficit);
 * resize on a changed limit keeps the level (capped), never refills; the
 * headers' view is the tighter bucket; threads racing for one bucket get
 * exactly its limit; the reset durations in OpenAI's form; the largest
 * limits and charges without overflow.
 */
#include "model/ratelimit.c"

#include <pthread.h>

#include "tap.h"

static gw_rl_limits app_limits(int64_t app, int64_t rpm, int64_t tpm)
{
    gw_rl_limits l = {app, rpm, tpm, 0, 0, 0};
    return l;
}

static void test_refill(void)
{
    gw_ratelimits *rl;
    char err[GW_ERR_LEN];
    gw_rl_ticket t;
    gw_rl_limits l = app_limits(1, 60, 0);
    int admitted = 0;

    ok(gw_ratelimit_create(&rl, err) == 0, "create");
    for (int i = 0; i < 100; i++)
        admitted += gw_ratelimit_admit(rl, &l, 1000, &t) == GW_RL_OK;
    is_int(admitted, 60, "rpm 60, full: exactly 60 of 100 admitted at one instant");
    is_int(gw_ratelimit_admit(rl, &l, 1000, &t), GW_RL_APP_REQUESTS, "the 61st: the app's requests");
    is_int(t.retry_after_s, 1, "Retry-After 1 s (one request refills in 1000 ms)");
    is_int(t.limit, 60, "the refusal names the limit");
    ok(t.requests.set && t.requests.remaining == 0 && t.requests.limit == 60, "refusal view: 0 of 60 left");
    is_int(t.requests.reset_ms, 60000, "empty: full again in 60 s");
    is_int(gw_ratelimit_admit(rl, &l, 1999, &t), GW_RL_APP_REQUESTS, "999 ms later: still refused");
    is_int(gw_ratelimit_admit(rl, &l, 2000, &t), GW_RL_OK, "1000 ms later: one admitted");
    is_int(gw_ratelimit_admit(rl, &l, 2000, &t), GW_RL_APP_REQUESTS, "and only one");
    is_int(gw_ratelimit_level(rl, 0, 0, 1, 32000), 30, "30 s later: 30 requests");
    is_int(gw_ratelimit_level(rl, 0, 0, 1, 500000), 60, "never above the limit");
    is_int(gw_ratelimit_admit(rl, &l, 500000, &t), GW_RL_OK, "admitted");
    ok(t.requests.limit == 60 && t.requests.remaining == 59 && t.requests.reset_ms == 1000,
       "view after one: 59 left, full in 1000 ms");
    ok(!t.tokens.set, "no tokens view without a TPM limit");

    /* an odd limit: 7 per minute refills one in 8571.43 ms */
    l = app_limits(2, 7, 0);
    for (int i = 0; i < 7; i++)
        gw_ratelimit_admit(rl, &l, 0, &t);
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_APP_REQUESTS, "rpm 7: the 8th refused");
    is_int(t.retry_after_s, 9, "Retry-After ceil(8.572 s) = 9");
    is_int(gw_ratelimit_admit(rl, &l, 8571, &t), GW_RL_APP_REQUESTS, "8571 ms: not yet");
    is_int(gw_ratelimit_admit(rl, &l, 8572, &t), GW_RL_OK, "8572 ms: one");
    ok(gw_ratelimit_applies(&l) && !gw_ratelimit_applies(&(gw_rl_limits){1, 0, 0, 2, 0, 0}),
       "applies only with a limit");
    gw_ratelimit_destroy(rl);
}

static void test_refusal_takes_nothing(void)
{
    gw_ratelimits *rl;
    char err[GW_ERR_LEN];
    gw_rl_ticket t;
    gw_rl_limits l = {1, 1, 0, 9, 10, 0};

    gw_ratelimit_create(&rl, err);
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "app rpm 1, LLM rpm 10: first admitted");
    ok(t.requests.limit == 1 && t.requests.remaining == 0, "view: the tighter bucket (the app's, 0 left)");
    for (int i = 0; i < 5; i++)
        is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_APP_REQUESTS, "refused by the app (%d)", i);
    is_int(gw_ratelimit_level(rl, 1, 0, 9, 0), 9, "the LLM's bucket lost only the admitted request");

    /* the LLM refuses: the app's bucket keeps its level */
    l = (gw_rl_limits){2, 10, 0, 8, 1, 0};
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "LLM rpm 1: first admitted");
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_LLM_REQUESTS, "second refused by the LLM");
    is_int(gw_ratelimit_level(rl, 0, 0, 2, 0), 9, "the app's bucket lost only the admitted request");

    /* a tokens refusal takes no request either */
    l = (gw_rl_limits){3, 10, 5, 0, 0, 0};
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "rpm 10, tpm 5: admitted");
    gw_ratelimit_charge(rl, &t, 5, 0);
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_APP_TOKENS, "tokens used up: refused");
    is_int(gw_ratelimit_level(rl, 0, 0, 3, 0), 9, "no request taken by the tokens refusal");
    gw_ratelimit_destroy(rl);
}

static void test_tokens(void)
{
    gw_ratelimits *rl;
    char err[GW_ERR_LEN];
    gw_rl_ticket t, t2;
    gw_rl_limits l = app_limits(1, 0, 100);

    gw_ratelimit_create(&rl, err);
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "tpm 100: admitted");
    ok(t.tokens.set && t.tokens.limit == 100 && t.tokens.remaining == 100 && !t.requests.set,
       "tokens view: 100 of 100, no requests view");
    is_int(gw_ratelimit_admit(rl, &l, 0, &t2), GW_RL_OK, "a second, concurrent, admitted too (level still > 0)");
    gw_ratelimit_charge(rl, &t, 150, 0);
    gw_ratelimit_charge(rl, &t2, 100, 0);
    is_int(gw_ratelimit_level(rl, 0, 1, 1, 0), -150, "charged 250: level -150");
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_APP_TOKENS, "refused while negative");
    /* 151 tokens to refill at 100/min: 90600 ms, plus the one 1/60000 above 0 */
    is_int(t.retry_after_s, 91, "Retry-After 91 s");
    is_int(gw_ratelimit_admit(rl, &l, 90000, &t), GW_RL_APP_TOKENS, "90 s: level 0, still refused");
    is_int(gw_ratelimit_admit(rl, &l, 90001, &t), GW_RL_OK, "90.001 s: above 0, admitted");
    ok(t.tokens.remaining == 0 && t.tokens.reset_ms == 59999, "view: 0 whole tokens, full in 59999 ms");
    gw_ratelimit_charge(rl, &t, 0, 90001);
    gw_ratelimit_charge(rl, &t, -5, 90001);
    is_int(gw_ratelimit_level(rl, 0, 1, 1, 150001), 100, "no usage charges nothing; refilled to 100");

    /* app and LLM tokens both charged */
    l = (gw_rl_limits){2, 0, 1000, 3, 0, 50};
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "app tpm 1000, LLM tpm 50");
    ok(t.tokens.limit == 50, "view: the LLM's (tighter)");
    gw_ratelimit_charge(rl, &t, 60, 0);
    ok(gw_ratelimit_level(rl, 0, 1, 2, 0) == 940 && gw_ratelimit_level(rl, 1, 1, 3, 0) == -10, "both charged 60");
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_LLM_TOKENS, "the LLM's tokens refuse");
    is_int(t.retry_after_s, 13, "Retry-After: 10 tokens + a bit at 50/min = 12.0012 s -> 13");
    gw_ratelimit_destroy(rl);
}

static void test_resize(void)
{
    gw_ratelimits *rl;
    char err[GW_ERR_LEN];
    gw_rl_ticket t;
    gw_rl_limits l = app_limits(1, 10, 0);

    gw_ratelimit_create(&rl, err);
    for (int i = 0; i < 4; i++)
        gw_ratelimit_admit(rl, &l, 0, &t);
    is_int(gw_ratelimit_level(rl, 0, 0, 1, 0), 6, "rpm 10, 4 used: 6 left");
    l.app_rpm = 100;
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "limit raised to 100 (a reload)");
    is_int(gw_ratelimit_level(rl, 0, 0, 1, 0), 5, "the level kept (6 - 1), not refilled to 100");
    ok(t.requests.limit == 100 && t.requests.remaining == 5, "the view shows the new limit");
    is_int(gw_ratelimit_level(rl, 0, 0, 1, 600), 6, "refills at the new rate: 100/min = 1 per 600 ms");
    l.app_rpm = 2;
    is_int(gw_ratelimit_admit(rl, &l, 600, &t), GW_RL_OK, "lowered to 2: capped at 2, one taken");
    is_int(gw_ratelimit_level(rl, 0, 0, 1, 600), 1, "1 left");
    is_int(gw_ratelimit_admit(rl, &l, 600, &t), GW_RL_OK, "one more");
    is_int(gw_ratelimit_admit(rl, &l, 600, &t), GW_RL_APP_REQUESTS, "then refused at the lower limit");
    is_int(t.retry_after_s, 30, "2/min: the next in 30 s");
    gw_ratelimit_destroy(rl);
}

typedef struct race {
    gw_ratelimits *rl;
    gw_rl_limits lim;
    int tries;
    int admitted;
} race;

static void *race_run(void *arg)
{
    race *r = arg;
    gw_rl_ticket t;
    for (int i = 0; i < r->tries; i++)
        if (gw_ratelimit_admit(r->rl, &r->lim, 5000, &t) == GW_RL_OK)
            r->admitted++;
    return NULL;
}

/* 1: racing on its own thread; 0: the system had no thread to give (a
 * crowded machine), so it ran here, at once: the count stays exact */
static int race_start(pthread_t *th, race *r)
{
    if (pthread_create(th, NULL, race_run, r) == 0)
        return 1;
    diag("no thread for a racer: it runs inline");
    race_run(r);
    return 0;
}

static void test_threads(void)
{
    gw_ratelimits *rl;
    char err[GW_ERR_LEN];
    pthread_t th[8];
    int started[8];
    race rc[8];
    int total = 0, per_app[2] = {0, 0};

    gw_ratelimit_create(&rl, err);
    for (int i = 0; i < 8; i++) {
        rc[i] = (race){rl, {1, 50, 0, 7, 1000, 0}, 200, 0};
        started[i] = race_start(&th[i], &rc[i]);
    }
    for (int i = 0; i < 8; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        total += rc[i].admitted;
    }
    is_int(total, 50, "8 threads x 200 tries at app rpm 50: exactly 50 admitted");
    is_int(gw_ratelimit_level(rl, 1, 0, 7, 5000), 950, "the LLM's bucket charged exactly 50");

    /* two apps share an LLM limit of 30 (their own limits are larger) */
    total = 0;
    for (int i = 0; i < 8; i++) {
        rc[i] = (race){rl, {10 + i % 2, 1000, 0, 8, 30, 0}, 100, 0};
        started[i] = race_start(&th[i], &rc[i]);
    }
    for (int i = 0; i < 8; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        total += rc[i].admitted;
        per_app[i % 2] += rc[i].admitted;
    }
    is_int(total, 30, "two apps against LLM rpm 30: exactly 30 admitted in all");
    is_int(gw_ratelimit_level(rl, 0, 0, 10, 5000) + gw_ratelimit_level(rl, 0, 0, 11, 5000), 2000 - 30,
           "the apps' buckets charged only for the admitted (%d + %d)", per_app[0], per_app[1]);
    gw_ratelimit_destroy(rl);
}

static void test_durations_and_bounds(void)
{
    char b[32];
    gw_ratelimits *rl;
    char err[GW_ERR_LEN];
    gw_rl_ticket t;
    gw_rl_limits l = app_limits(1, GW_RL_LIMIT_MAX, GW_RL_LIMIT_MAX);

    is_str(gw_ratelimit_duration(0, b, sizeof(b)), "0s", "0s");
    is_str(gw_ratelimit_duration(250, b, sizeof(b)), "250ms", "250ms");
    is_str(gw_ratelimit_duration(1000, b, sizeof(b)), "1s", "1s");
    is_str(gw_ratelimit_duration(12500, b, sizeof(b)), "12.5s", "12.5s");
    is_str(gw_ratelimit_duration(8572, b, sizeof(b)), "8.572s", "8.572s");
    is_str(gw_ratelimit_duration(60000, b, sizeof(b)), "1m0s", "1m0s");
    is_str(gw_ratelimit_duration(390250, b, sizeof(b)), "6m30.25s", "6m30.25s");
    is_str(gw_ratelimit_duration(3723000, b, sizeof(b)), "1h2m3s", "1h2m3s");

    gw_ratelimit_create(&rl, err);
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_OK, "the largest limits admit");
    is_int(t.requests.remaining, GW_RL_LIMIT_MAX - 1, "1e9 - 1 requests left");
    gw_ratelimit_charge(rl, &t, INT64_MAX, 0);
    ok(gw_ratelimit_level(rl, 0, 1, 1, 0) < 0, "a huge charge: negative, no overflow");
    is_int(gw_ratelimit_admit(rl, &l, 0, &t), GW_RL_APP_TOKENS, "refused");
    ok(t.retry_after_s > 0 && t.retry_after_s < 10000, "a finite Retry-After (%lld s)", (long long)t.retry_after_s);
    is_int(gw_ratelimit_level(rl, 0, 1, 1, INT64_MAX / 2), GW_RL_LIMIT_MAX, "a very long pause: full, no overflow");
    gw_ratelimit_destroy(rl);
}

int main(void)
{
    test_refill();
    test_refusal_takes_nothing();
    test_tokens();
    test_resize();
    test_threads();
    test_durations_and_bounds();
    return tap_done();
}
