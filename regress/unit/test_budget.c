/*
 * regress/unit/test_budget.c: budget admission without a database (the
 * spend reader is replaced by a table in the test). Worst-case and actual
 * cost with each vendor's token semantics; budget periods computed like
 * aistudio.budget_period (start day clamped to the month); reserve /
 * settle / on_commit accounting (committed costs stay counted: the
 * arithmetic across commit, refresh and reload, with a moved start date
 * re-reading the spend); app and LLM reserved both or neither;
 * GW_BUDGET_UNAVAILABLE when the spend was never read; one database read
 * for many concurrent first requests; a new period's spend read afresh; a
 * commit racing a refresh never lowering the spend; and 50 threads
 * reserving against a nearly spent budget never exceeding it.
 */
#include "base/codec.c"
#include "model/budget.c"
#include "base/log.c"
#include "db/pgpool.c"

#include <math.h>
#include <unistd.h>

#include "tap.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

typedef struct fake_db {
    pthread_mutex_t mu;
    double spent[2][16];      /* [kind][id] */
    int fail;                 /* reads fail */
    int missing;              /* reads say "does not exist" */
    int reads;                /* reads done */
    int sleep_us;             /* each read takes this long */
    gw_budget *commit_during; /* a batch commits while the read runs */
    char period[16];
} fake_db;

static int fake_read(void *ctx, int kind, int64_t id, char period[16], double *spent, char err[GW_ERR_LEN])
{
    fake_db *db = ctx;
    int fail, missing;
    pthread_mutex_lock(&db->mu);
    db->reads++;
    fail = db->fail;
    missing = db->missing;
    *spent = db->spent[kind][id];
    snprintf(period, 16, "%s", db->period);
    pthread_mutex_unlock(&db->mu);
    if (db->sleep_us > 0)
        usleep((useconds_t)db->sleep_us);
    if (db->commit_during != NULL) {
        gw_event ev = {0};
        ev.app_id = id;
        ev.est_cost = 0.5;
        gw_budget_on_commit(db->commit_during, &ev, 1);
    }
    if (fail)
        return gw_errf(err, "database down");
    return missing ? 1 : 0;
}

static int64_t fake_today_val;
static int64_t fake_today(void)
{
    return fake_today_val;
}

static int64_t day(const char *ymd)
{
    return gw_bg_parse_date(ymd, NULL);
}

static gw_budget *new_budget(fake_db *db)
{
    gw_budget *b;
    char err[GW_ERR_LEN];
    if (gw_budget_create(NULL, 0, &b, err) != 0)
        abort();
    b->read = fake_read;
    b->read_ctx = db;
    b->today = fake_today;
    return b;
}

static gw_bsubj *subject(gw_budget *b, int kind, int64_t id)
{
    return gw_bg_find(b, kind, id, 0);
}

static void test_costs(void)
{
    gw_price openai = {1, "openai", "gpt-4o", "2.5", "10", "2.5", "1.25", "USD"};
    gw_price claude = {2, "anthropic", "claude", "3", "15", "3.75", "0.3", "USD"};
    gw_price bad = {3, "openai", "x", "abc", "", "", "", "USD"};

    ok(NEAR(gw_budget_worst_cost(&openai, 1000, 500, 4096), (1000 * 2.5 + 500 * 10) / 1e6),
       "worst case: prompt at the input price + max_tokens at the output price");
    ok(NEAR(gw_budget_worst_cost(&openai, 1000, -1, 4096), (1000 * 2.5 + 4096 * 10) / 1e6),
       "max_tokens -1: the default max tokens");
    ok(NEAR(gw_budget_worst_cost(&claude, 1000, 100, 4096), (1000 * 3.75 + 100 * 15) / 1e6),
       "a cache-write price above the input price bounds the prompt (every token may be a cache write)");
    ok(gw_budget_worst_cost(NULL, 1000, 100, 4096) == 0, "unpriced model: 0");
    ok(gw_budget_worst_cost(&bad, 1000, 100, 4096) == 0, "unparsable prices count as 0");
    ok(gw_budget_worst_cost(&openai, -5, -1, -1) == 0, "negative counts count as 0");

    /* OpenAI/Google: prompt includes cached reads, priced at the cache-read price */
    ok(NEAR(gw_budget_cost(&openai, "openai", 1000, 100, 0, 400), (600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6),
       "openai: (prompt - cache_read) * in + cache_read * cr + response * out");
    ok(NEAR(gw_budget_cost(&openai, "google_ai", 1000, 100, 50, 400),
            (600 * 2.5 + 400 * 1.25 + 50 * 2.5 + 100 * 10) / 1e6),
       "google_ai: the same, cache writes at the cache-write price");
    ok(NEAR(gw_budget_cost(&openai, "openai", 100, 0, 0, 400), 400 * 1.25 / 1e6),
       "cache reads above the prompt: the uncached part is 0, not negative");
    /* Anthropic: input excludes cache writes and reads */
    ok(NEAR(gw_budget_cost(&claude, "anthropic", 100, 50, 1000, 2000),
            (100 * 3 + 1000 * 3.75 + 2000 * 0.3 + 50 * 15) / 1e6),
       "anthropic: prompt * in + cache_write * cw + cache_read * cr + response * out");
    ok(gw_budget_cost(NULL, "openai", 100, 100, 0, 0) == 0, "unpriced: 0");
}

static void test_periods(void)
{
    struct {
        int start_day;
        const char *today, *want;
    } cases[] = {
        {1, "2025-03-15", "2025-03-01"},  {15, "2025-03-15", "2025-03-15"}, {15, "2025-03-14", "2025-02-15"},
        {31, "2025-02-15", "2025-01-31"}, {31, "2025-02-28", "2025-02-28"}, {31, "2025-03-01", "2025-02-28"},
        {31, "2025-03-31", "2025-03-31"}, {30, "2024-02-29", "2024-02-29"}, {30, "2024-02-28", "2024-01-30"},
        {5, "2025-01-04", "2024-12-05"},  {29, "2024-03-28", "2024-02-29"}, {1, "2000-01-01", "2000-01-01"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_int(gw_bg_period_start(cases[i].start_day, day(cases[i].today)), day(cases[i].want),
               "period of start day %d on %s begins %s", cases[i].start_day, cases[i].today, cases[i].want);
    is_int(day("1970-01-01"), 0, "day 0 is 1970-01-01");
    is_int(day("2025-02-29"), -1, "2025-02-29 is not a date");
    is_int(day("2025-1-1x"), -1, "trailing garbage is not a date");
}

static void test_accounting(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period = "2025-03-01"};
    gw_llm llm = {.id = 1, .monthly_budget = "100", .budget_start_date = ""};
    gw_llm nollm = {.id = 2, .monthly_budget = "", .budget_start_date = ""};
    gw_budget_ticket t1, t2, t3;
    gw_budget *b;
    gw_event ev = {0};

    fake_today_val = day("2025-03-10");
    db.spent[GW_BS_APP][3] = 9.0;
    db.spent[GW_BS_LLM][1] = 50.0;
    b = new_budget(&db);

    is_int(gw_budget_reserve(b, 5, "", "", &nollm, 1.0, &t1), GW_BUDGET_OK, "no budget anywhere: admitted");
    ok(t1.app_id == 0 && t1.llm_id == 0, "with an empty ticket");
    is_int(db.reads, 0, "and no database read");

    is_int(gw_budget_reserve(b, 3, "10", "", &llm, 0.6, &t1), GW_BUDGET_OK, "9 spent of 10, reserve 0.6: admitted");
    ok(t1.app_id == 3 && t1.llm_id == 1 && t1.reserved == 0.6, "ticket names app and LLM");
    is_int(db.reads, 2, "first use read both spends");
    ok(NEAR(subject(b, GW_BS_LLM, 1)->reserved, 0.6), "LLM reserved 0.6");
    is_int(gw_budget_reserve(b, 3, "10", "", &llm, 0.6, &t2), GW_BUDGET_APP_EXCEEDED,
           "another 0.6 would pass 10: app exceeded");
    ok(NEAR(subject(b, GW_BS_LLM, 1)->reserved, 0.6), "both or neither: the LLM was not reserved either");
    gw_budget_settle(b, &t1, 0.3);
    ok(t1.app_id == 0 && t1.reserved == 0, "settle clears the ticket");
    ok(NEAR(subject(b, GW_BS_APP, 3)->pending, 0.3) && NEAR(subject(b, GW_BS_APP, 3)->reserved, 0),
       "settle: reservation replaced by the actual cost (pending)");
    gw_budget_settle(b, &t1, 0.3);
    ok(NEAR(subject(b, GW_BS_APP, 3)->pending, 0.3), "settling twice does nothing");
    is_int(gw_budget_reserve(b, 3, "10", "", &llm, 0.7, &t2), GW_BUDGET_OK, "9 + 0.3 pending + 0.7 = 10: fits");
    is_int(gw_budget_reserve(b, 3, "10", "", &llm, 0.000001, &t3), GW_BUDGET_APP_EXCEEDED, "not a cent more");
    gw_budget_settle(b, &t2, 0);
    ev.app_id = 3;
    ev.llm_id = 1;
    ev.est_cost = 0.3;
    gw_budget_on_commit(b, &ev, 1);
    ok(NEAR(subject(b, GW_BS_APP, 3)->pending, 0) && NEAR(subject(b, GW_BS_LLM, 1)->pending, 0),
       "on_commit: the cost leaves pending");
    ok(NEAR(subject(b, GW_BS_APP, 3)->spent_db, 9.3) && NEAR(subject(b, GW_BS_LLM, 1)->spent_db, 50.3),
       "on_commit: and is counted as spent (the database's spend has it)");
    is_int(gw_budget_reserve(b, 3, "10", "", &llm, 0.71, &t3), GW_BUDGET_APP_EXCEEDED,
           "committed spend still counts: 9.3 + 0.71 > 10");
    gw_budget_on_commit(b, &ev, 1);
    ok(subject(b, GW_BS_APP, 3)->pending == 0, "pending never goes below 0");
    subject(b, GW_BS_APP, 3)->spent_db = 9.3;
    subject(b, GW_BS_LLM, 1)->spent_db = 50.3;

    is_int(gw_budget_reserve(b, 3, "1000", "", &llm, 49.8, &t1), GW_BUDGET_LLM_EXCEEDED,
           "LLM 50.3 spent of 100, 49.8 more: LLM exceeded");
    ok(subject(b, GW_BS_APP, 3)->reserved == 0, "and the app was not reserved");
    is_int(gw_budget_reserve(b, 3, "12", "", &llm, 2.5, &t1), GW_BUDGET_OK,
           "a raised limit (snapshot reload) applies at once");
    gw_budget_settle(b, &t1, 2.5);

    /* a new period: its spend is read from the database */
    fake_today_val = day("2025-04-01");
    snprintf(db.period, sizeof(db.period), "2025-04-01");
    db.spent[GW_BS_APP][3] = 0.5;
    db.spent[GW_BS_LLM][1] = 0;
    db.reads = 0;
    /* the 2.5 settled in March and not committed yet still counts (it is
     * committed after midnight): the safe side until the next refresh */
    is_int(gw_budget_reserve(b, 3, "12", "", &llm, 9.0, &t1), GW_BUDGET_OK,
           "new month: the budget less the new period's spend (0.5) and what is pending (2.5)");
    is_int(db.reads, 2, "the new period's spend was read for the app and the LLM");
    ok(NEAR(subject(b, GW_BS_APP, 3)->spent_db, 0.5), "spent is the new period's");
    gw_budget_settle(b, &t1, 0);
    gw_budget_destroy(b);
    snprintf(db.period, sizeof(db.period), "2025-03-01");
    db.spent[GW_BS_APP][3] = 9.0;
    db.spent[GW_BS_LLM][1] = 50.0;

    /* the database is down */
    db.fail = 1;
    db.reads = 0;
    b = new_budget(&db);
    is_int(gw_budget_reserve(b, 3, "10", "", NULL, 0.1, &t1), GW_BUDGET_UNAVAILABLE,
           "spend never read and the database down: unavailable");
    is_int(gw_budget_reserve(b, 3, "", "", NULL, 0.1, &t1), GW_BUDGET_OK, "no budget: no database needed");
    db.fail = 0;
    is_int(gw_budget_reserve(b, 3, "10", "", NULL, 0.1, &t1), GW_BUDGET_OK, "database back: admitted");
    gw_budget_settle(b, &t1, 0.1);
    db.fail = 1;
    is_int(gw_budget_reserve(b, 3, "10", "", NULL, 0.1, &t1), GW_BUDGET_OK,
           "database down after the first read: the known spend is used");
    gw_budget_settle(b, &t1, 0.1);
    db.fail = 0;
    db.missing = 1;
    is_int(gw_budget_reserve(b, 9, "10", "", NULL, 0.1, &t1), GW_BUDGET_OK,
           "an app the database does not know: nothing spent");
    gw_budget_settle(b, &t1, 0);
    db.missing = 0;

    /* a batch committed while the spend is read is never lost */
    snprintf(db.period, sizeof(db.period), "2025-04-01"); /* today's period */
    db.commit_during = b;
    db.spent[GW_BS_APP][4] = 1.0;
    subject(b, GW_BS_APP, 3)->refreshing = 1;
    pthread_mutex_lock(&b->mu);
    gw_bsubj *s = subject(b, GW_BS_APP, 3);
    s->pending = 0.5;
    gw_bg_load(b, s);
    s->refreshing = 0;
    ok(NEAR(s->spent_db, 9.0 + 0.5) && NEAR(s->pending, 0),
       "a commit racing a refresh: its cost is counted on top of the answer");
    pthread_mutex_unlock(&b->mu);
    db.commit_during = NULL;

    /* the database's period is not ours (around midnight): the refresh is ignored */
    pthread_mutex_lock(&b->mu);
    snprintf(db.period, sizeof(db.period), "2025-02-01");
    s->spent_db = 7;
    gw_bg_load(b, s);
    ok(s->spent_db == 7, "a refresh answering for another period is ignored");
    pthread_mutex_unlock(&b->mu);
    gw_budget_destroy(b);
}

/*
 * The admission arithmetic across the life of a cost: reserved -> pending
 * (settle) -> spent (commit) -> re-read (refresh), and across snapshot
 * reloads that keep or move the budget period. At every step a request is
 * admitted exactly when spent + pending + reserved + worst <= limit.
 */
static void test_commit_refresh_reload(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period = "2025-03-01"};
    gw_budget_ticket t1, t2;
    gw_budget *b;
    gw_bsubj *s;
    gw_event ev = {0};
    int64_t mar10 = day("2025-03-10");

    fake_today_val = mar10;
    db.spent[GW_BS_APP][6] = 1.0;
    b = new_budget(&db);

    /* 100 sequential calls of worst 0.05, actual 0.02, each committed before
     * the next: never more than the 1.0 left */
    double admitted_cost = 0;
    int admitted = 0;
    ev.app_id = 6;
    for (int i = 0; i < 100; i++) {
        if (gw_budget_reserve(b, 6, "2", "", NULL, 0.05, &t1) != GW_BUDGET_OK)
            continue;
        admitted++;
        gw_budget_settle(b, &t1, 0.02);
        ev.est_cost = 0.02;
        gw_budget_on_commit(b, &ev, 1);
        admitted_cost += 0.02;
    }
    s = subject(b, GW_BS_APP, 6);
    is_int(admitted, 48, "sequential calls with commits in between: 48 admitted (1.0 + 48 * 0.02 + 0.05 > 2)");
    ok(1.0 + admitted_cost <= 2.0 + 1e-12, "spent %.4f <= budget 2", 1.0 + admitted_cost);
    ok(NEAR(s->spent_db, 1.0 + admitted_cost) && NEAR(s->pending, 0), "all of it counted as spent, none pending");
    is_int(db.reads, 1, "without a single refresh");

    /* refresh: the database now has the committed costs: no double count */
    pthread_mutex_lock(&db.mu);
    db.spent[GW_BS_APP][6] = 1.0 + admitted_cost;
    pthread_mutex_unlock(&db.mu);
    pthread_mutex_lock(&b->mu);
    s->refreshing = 1;
    gw_bg_load(b, s);
    s->refreshing = 0;
    pthread_mutex_unlock(&b->mu);
    ok(NEAR(s->spent_db, 1.0 + admitted_cost), "refresh: spent is the database's answer, not twice the commits");

    /* refresh while a call is settled but not committed: pending stays */
    is_int(gw_budget_reserve(b, 6, "2", "", NULL, 0.01, &t1), GW_BUDGET_OK, "one more small call");
    gw_budget_settle(b, &t1, 0.01);
    pthread_mutex_lock(&b->mu);
    s->refreshing = 1;
    gw_bg_load(b, s);
    s->refreshing = 0;
    pthread_mutex_unlock(&b->mu);
    ok(NEAR(s->pending, 0.01), "a refresh keeps what is settled but not yet in the database");

    /* refresh while a call is in flight: its reservation stays */
    is_int(gw_budget_reserve(b, 6, "2", "", NULL, 0.005, &t2), GW_BUDGET_OK, "a call in flight");
    pthread_mutex_lock(&b->mu);
    s->refreshing = 1;
    gw_bg_load(b, s);
    s->refreshing = 0;
    pthread_mutex_unlock(&b->mu);
    ok(NEAR(s->reserved, 0.005), "a refresh keeps the reservations in flight");

    /* a reload with the same period: nothing re-read */
    db.reads = 0;
    is_int(gw_budget_reserve(b, 6, "2", "2025-01-01", NULL, 0, &t1), GW_BUDGET_OK, "reload, same start day");
    is_int(db.reads, 0, "same period: no database read");

    /* a reload that moves the start date: the new period overlaps the old
     * one and today's spend is in both: it is read, not assumed 0 */
    pthread_mutex_lock(&db.mu);
    snprintf(db.period, sizeof(db.period), "2025-02-15");
    db.spent[GW_BS_APP][6] = 1.9;
    pthread_mutex_unlock(&db.mu);
    is_int(gw_budget_reserve(b, 6, "2", "2025-02-15", NULL, 0.2, &t1), GW_BUDGET_APP_EXCEEDED,
           "start date moved to the 15th: 1.9 spent in that period, 0.2 more refused");
    is_int(db.reads, 1, "the new period's spend was read once");
    ok(NEAR(s->spent_db, 1.9) && NEAR(s->pending, 0.01) && NEAR(s->reserved, 0.005),
       "spent re-read; today's pending and in-flight costs kept");
    is_int(gw_budget_reserve(b, 6, "2", "2025-02-15", NULL, 0.08, &t1), GW_BUDGET_OK,
           "1.9 + 0.01 + 0.005 + 0.08 <= 2: fits");
    gw_budget_settle(b, &t1, 0.08);
    gw_budget_settle(b, &t2, 0.005);

    /* and back: read again */
    pthread_mutex_lock(&db.mu);
    snprintf(db.period, sizeof(db.period), "2025-03-01");
    db.spent[GW_BS_APP][6] = 1.85;
    pthread_mutex_unlock(&db.mu);
    is_int(gw_budget_reserve(b, 6, "2", "", NULL, 0.0, &t1), GW_BUDGET_OK, "start date back to the 1st");
    is_int(db.reads, 2, "read again");
    ok(NEAR(s->spent_db, 1.85), "the period's spend from the database");
    ok(NEAR(s->pending, 0.095), "pending kept across both moves");
    gw_budget_destroy(b);
}

/* ---- concurrency ---- */

#define THREADS 50

typedef struct racer {
    gw_budget *b;
    gw_llm *llm;
    pthread_barrier_t *go;
    double worst;
    int admitted, refused, unavailable;
} racer;

static double admitted_total;
static pthread_mutex_t admitted_mu = PTHREAD_MUTEX_INITIALIZER;

static void *race(void *arg)
{
    racer *r = arg;
    gw_budget_ticket t;
    pthread_barrier_wait(r->go);
    for (int i = 0; i < 20; i++) {
        gw_budget_result res = gw_budget_reserve(r->b, 7, "1.00", "2025-01-15", r->llm, r->worst, &t);
        if (res == GW_BUDGET_OK) {
            r->admitted++;
            pthread_mutex_lock(&admitted_mu);
            admitted_total += r->worst;
            pthread_mutex_unlock(&admitted_mu);
            usleep(100);
            gw_budget_settle(r->b, &t, r->worst); /* the call cost its worst case */
        } else if (res == GW_BUDGET_UNAVAILABLE) {
            r->unavailable++;
        } else {
            r->refused++;
        }
    }
    return NULL;
}

static void test_concurrency(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period = "2025-03-15", .sleep_us = 20000};
    gw_llm llm = {.id = 2, .monthly_budget = "1000", .budget_start_date = ""};
    pthread_barrier_t go;
    pthread_t th[THREADS];
    racer r[THREADS];
    gw_budget *b;
    int admitted = 0, unavailable = 0;
    gw_bsubj *s;

    fake_today_val = day("2025-03-20");
    db.spent[GW_BS_APP][7] = 0.99; /* 1 cent left */
    b = new_budget(&db);
    pthread_barrier_init(&go, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer){b, &llm, &go, 0.0015, 0, 0, 0};
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        admitted += r[i].admitted;
        unavailable += r[i].unavailable;
    }
    s = subject(b, GW_BS_APP, 7);
    is_int(unavailable, 0, "no request was refused for lack of data");
    is_int(db.reads, 2, "50 concurrent first requests: one read per subject");
    is_int(admitted, 6, "0.01 left, 0.0015 each: exactly 6 of 1000 attempts admitted");
    ok(admitted_total <= 0.01 + 1e-12, "admitted worst cases (%.6f) fit the 0.01 left", admitted_total);
    ok(s->spent_db + s->pending <= 1.0 + 1e-12, "spent + pending (%.6f) within the budget", s->spent_db + s->pending);
    ok(NEAR(s->reserved, 0), "no reservation left over");
    pthread_barrier_destroy(&go);
    gw_budget_destroy(b);
}

static void test_refresher(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period = "2025-03-01"};
    gw_budget *b;
    gw_budget_ticket t;
    char err[GW_ERR_LEN];
    int reads;

    fake_today_val = day("2025-03-20");
    ok(gw_budget_create(NULL, 1, &b, err) == 0, "create with a 1 s refresh");
    pthread_mutex_lock(&b->mu);
    b->read = fake_read;
    b->read_ctx = &db;
    b->today = fake_today;
    pthread_mutex_unlock(&b->mu);
    db.spent[GW_BS_APP][5] = 1.0;
    is_int(gw_budget_reserve(b, 5, "10", "", NULL, 0, &t), GW_BUDGET_OK, "seeded");
    pthread_mutex_lock(&db.mu);
    db.spent[GW_BS_APP][5] = 9.5; /* another gateway spent */
    pthread_mutex_unlock(&db.mu);
    for (int i = 0; i < 50; i++) {
        pthread_mutex_lock(&db.mu);
        reads = db.reads;
        pthread_mutex_unlock(&db.mu);
        if (reads >= 2)
            break;
        usleep(100000);
    }
    usleep(20000);
    is_int(gw_budget_reserve(b, 5, "10", "", NULL, 0.6, &t), GW_BUDGET_APP_EXCEEDED,
           "the background refresh picked up spend from elsewhere");
    gw_budget_destroy(b);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    test_costs();
    test_periods();
    test_accounting();
    test_commit_refresh_reload();
    test_concurrency();
    test_refresher();
    return tap_done();
}
