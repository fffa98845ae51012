/*
 * regress/unit/test_budget.c: budget admission without a database (the
 * spend reader is replaced by a table in the test). Exact money (parsing,
 * rounding up past 10^-15, saturation); worst-case and actual cost with each
 * vendor's token semantics as the snapshot's vendor rows say; the budget
 * period as the database bounds it (period_end: a new period is read
 * afresh, a database still on the other side of midnight asked again a
 * moment later); reserve / settle / on_commit accounting (committed costs
 * stay counted: the arithmetic across commit, refresh and reload, with a
 * moved start date re-reading the spend); app and LLM reserved both or
 * neither; GW_BUDGET_UNAVAILABLE when the spend was never read; one
 * database read for many concurrent first requests; a commit racing a
 * refresh never lowering the spend; and 50 threads reserving against a
 * nearly spent budget never exceeding it.
 */
#include "base/codec.c"
#include "base/money.c"
#include "model/budget.c"
#include "base/log.c"
#include "db/pgpool.c"

#include <unistd.h>

#include "tap.h"
#include "vendor_rows.h"

/* Money from exact decimal text. */
#define USD(s) gw_money_parse(s)
#define NANOS(s) ((int64_t)(gw_money_parse(s) / GW_MONEY_PER_NANO))

typedef struct fake_db {
    pthread_mutex_t mu;
    gw_money spent[2][16];  /* [kind][id] */
    int fail;               /* reads fail */
    int missing;            /* reads say "does not exist" */
    int reads;              /* reads done */
    int sleep_us;           /* each read takes this long */
    gw_budget *commit_during; /* a batch commits while the read runs */
    char period_end[GW_DATE_LEN];
    int use_lease;         /* the source gives limits (an edge's grants): */
    gw_money lease[2][16]; /* [kind][id] */
} fake_db;

static int fake_read(void *ctx, int kind, int64_t id, gw_money configured, char period_end[GW_DATE_LEN],
                     gw_money *spent, gw_money *limit, char err[GW_ERR_LEN])
{
    fake_db *db = ctx;
    int fail, missing;
    (void)configured;
    *limit = db->use_lease ? db->lease[kind][id] : GW_BUDGET_NO_LIMIT;
    pthread_mutex_lock(&db->mu);
    db->reads++;
    fail = db->fail;
    missing = db->missing;
    *spent = db->spent[kind][id];
    snprintf(period_end, GW_DATE_LEN, "%s", db->period_end);
    pthread_mutex_unlock(&db->mu);
    if (db->sleep_us > 0)
        usleep((useconds_t)db->sleep_us);
    if (db->commit_during != NULL) {
        gw_event ev = {0};
        ev.app_id = id;
        ev.est_cost = gw_money_i64(USD("0.5"));
        gw_budget_on_commit(db->commit_during, &ev, 1);
    }
    if (fail)
        return gw_errf(err, "database down");
    return missing ? 1 : 0;
}

static char fake_today_val[GW_DATE_LEN] = "2025-03-10";
static void fake_today(char out[GW_DATE_LEN])
{
    snprintf(out, GW_DATE_LEN, "%s", fake_today_val);
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

/* An LLM with a budget (exact decimal text, "" = none). */
static gw_llm llm_with(int64_t id, const char *budget, const char *start)
{
    gw_llm l;
    memset(&l, 0, sizeof(l));
    l.id = id;
    l.monthly_budget = budget;
    l.monthly_budget_nanos = budget[0] != '\0' ? NANOS(budget) : 0;
    l.budget_start_date = start;
    return l;
}

static gw_app_budget app_with(const char *budget, const char *start)
{
    gw_app_budget a = {budget[0] != '\0', budget[0] != '\0' ? NANOS(budget) : 0, start};
    return a;
}

static void test_money(void)
{
    ok(USD("1") == GW_MONEY_PER_UNIT && USD("0.000000000000001") == 1, "units and 10^-15");
    ok(USD("2.5") == 2500 * (gw_money)1000000000000LL, "2.5");
    ok(USD("0.0000000000000001") == 1 && USD("1.0000000000000000001") == GW_MONEY_PER_UNIT + 1,
       "past 10^-15: rounded up, never down");
    ok(USD("1.0000000000000000000") == GW_MONEY_PER_UNIT, "trailing zeros change nothing");
    ok(USD("") == 0 && USD("-1") == 0 && USD("abc") == 0 && USD("1.2x") == 0 && USD(".5") == 0 && USD(NULL) == 0,
       "empty, negative and malformed text are 0");
    ok(USD("99999999999999999999999999999999999") == GW_MONEY_MAX, "too large saturates");
    ok(gw_money_i64(USD("1")) == 1000000000000000LL && gw_money_i64(-5) == 0 && gw_money_i64(GW_MONEY_MAX) == INT64_MAX,
       "as int64, saturating");
    ok(gw_money_nanos_ceil(USD("0.000000001")) == 1 && gw_money_nanos_ceil(USD("0.0000000010000001")) == 2,
       "to 10^-9 units, rounded up");
    {
        char b[64];
        is_str(gw_money_format(USD("0.0098"), b), "0.0098", "formatted exactly, trailing zeros trimmed");
        is_str(gw_money_format(USD("12"), b), "12", "a whole amount has no point");
        is_str(gw_money_format(1, b), "0.000000000000001", "10^-15");
        is_str(gw_money_format(-USD("0.5"), b), "-0.5", "negative");
        is_str(gw_money_format(USD("123456789.123456789"), b), "123456789.123456789", "round trip");
    }
}

static void test_costs(void)
{
    gw_price gpt = {0};
    gw_price claude = {0};
    const gw_vendor *openai = test_vendor("openai"), *anthropic = test_vendor("anthropic");

    gpt.input_nanos = NANOS("2.5");
    gpt.output_nanos = NANOS("10");
    gpt.cache_write_nanos = NANOS("2.5");
    gpt.cache_read_nanos = NANOS("1.25");
    claude.input_nanos = NANOS("3");
    claude.output_nanos = NANOS("15");
    claude.cache_write_nanos = NANOS("3.75");
    claude.cache_read_nanos = NANOS("0.3");

    ok(gw_budget_worst_cost(&gpt, 1000, 500, 4096) == USD("0.0075"),
       "worst case: prompt at the input price + max_tokens at the output price, exact");
    ok(gw_budget_worst_cost(&gpt, 1000, -1, 4096) == USD("0.04346"), "max_tokens -1: the default max tokens");
    ok(gw_budget_worst_cost(&claude, 1000, 100, 4096) == USD("0.00525"),
       "a cache-write price above the input price bounds the prompt (every token may be a cache write)");
    ok(gw_budget_worst_cost(NULL, 1000, 100, 4096) == 0, "unpriced model: 0");
    ok(gw_budget_worst_cost(&gpt, -5, -1, -1) == 0, "negative counts count as 0");

    /* vendors whose prompt includes cached reads (the snapshot's row says) */
    ok(gw_budget_cost(&gpt, openai, 1000, 100, 0, 400) == USD("0.003"),
       "openai: (prompt - cache_read) * in + cache_read * cr + response * out, exact");
    ok(gw_budget_cost(&gpt, test_vendor("google_ai"), 1000, 100, 50, 400) == USD("0.003125"),
       "google_ai: the same, cache writes at the cache-write price");
    ok(gw_budget_cost(&gpt, openai, 100, 0, 0, 400) == USD("0.0005"),
       "cache reads above the prompt: the uncached part is 0, not negative");
    /* a vendor whose prompt leaves the cache out */
    ok(gw_budget_cost(&claude, anthropic, 100, 50, 1000, 2000) == USD("0.0054"),
       "anthropic: prompt * in + cache_write * cw + cache_read * cr + response * out");
    {
        gw_vendor custom = {"mistral", "openai", GW_KEY_HEADER_BEARER, 1, 0};
        ok(gw_budget_cost(&gpt, &custom, 1000, 0, 0, 400) == USD("0.003"),
           "the semantics are the row's, not the vendor's name: a row without cached reads in the prompt");
    }
    ok(gw_budget_cost(NULL, openai, 100, 100, 0, 0) == 0, "unpriced: 0");
    ok(gw_budget_cost(&gpt, openai, 3, 7, 0, 0) == USD("0.0000775"), "tiny calls are exact, not rounded");
}

static void test_accounting(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period_end = "2025-03-31"};
    gw_llm llm = llm_with(1, "100", "");
    gw_llm nollm = llm_with(2, "", "");
    gw_app_budget app10 = app_with("10", ""), nobudget = app_with("", "");
    gw_budget_ticket t1, t2, t3;
    gw_budget *b;
    gw_event ev = {0};

    snprintf(fake_today_val, sizeof(fake_today_val), "2025-03-10");
    db.spent[GW_BS_APP][3] = USD("9");
    db.spent[GW_BS_LLM][1] = USD("50");
    b = new_budget(&db);

    is_int(gw_budget_reserve(b, 5, &nobudget, &nollm, USD("1"), &t1), GW_BUDGET_OK, "no budget anywhere: admitted");
    ok(t1.app_id == 0 && t1.llm_id == 0, "with an empty ticket");
    is_int(db.reads, 0, "and no database read");

    is_int(gw_budget_reserve(b, 3, &app10, &llm, USD("0.6"), &t1), GW_BUDGET_OK, "9 spent of 10, reserve 0.6: admitted");
    ok(t1.app_id == 3 && t1.llm_id == 1 && t1.reserved == USD("0.6"), "ticket names app and LLM");
    is_int(db.reads, 2, "first use read both spends");
    ok(subject(b, GW_BS_LLM, 1)->reserved == USD("0.6"), "LLM reserved 0.6");
    is_str(subject(b, GW_BS_APP, 3)->period_end, "2025-03-31", "the period's last day is the database's");
    is_int(gw_budget_reserve(b, 3, &app10, &llm, USD("0.6"), &t2), GW_BUDGET_APP_INSUFFICIENT,
           "another 0.6 would pass 10 (0.4 left): the request exceeds what remains");
    ok(t2.remaining == USD("0.4") && t2.limit == USD("10"), "the refusal says what is left (in flight counted) and the budget");
    ok(subject(b, GW_BS_LLM, 1)->reserved == USD("0.6"), "both or neither: the LLM was not reserved either");
    gw_budget_settle(b, &t1, USD("0.3"));
    ok(t1.app_id == 0 && t1.reserved == 0, "settle clears the ticket");
    ok(subject(b, GW_BS_APP, 3)->pending == USD("0.3") && subject(b, GW_BS_APP, 3)->reserved == 0,
       "settle: reservation replaced by the actual cost (pending)");
    gw_budget_settle(b, &t1, USD("0.3"));
    ok(subject(b, GW_BS_APP, 3)->pending == USD("0.3"), "settling twice does nothing");
    is_int(gw_budget_reserve(b, 3, &app10, &llm, USD("0.7"), &t2), GW_BUDGET_OK, "9 + 0.3 pending + 0.7 = 10: fits exactly");
    is_int(gw_budget_reserve(b, 3, &app10, &llm, 1, &t3), GW_BUDGET_APP_EXCEEDED, "not 10^-15 more: nothing is left");
    ok(t3.remaining == 0, "and it says so");
    gw_budget_settle(b, &t2, 0);
    ev.app_id = 3;
    ev.llm_id = 1;
    ev.est_cost = gw_money_i64(USD("0.3"));
    gw_budget_on_commit(b, &ev, 1);
    ok(subject(b, GW_BS_APP, 3)->pending == 0 && subject(b, GW_BS_LLM, 1)->pending == 0,
       "on_commit: the cost leaves pending");
    ok(subject(b, GW_BS_APP, 3)->spent_db == USD("9.3") && subject(b, GW_BS_LLM, 1)->spent_db == USD("50.3"),
       "on_commit: and is counted as spent (the database's spend has it)");
    is_int(gw_budget_reserve(b, 3, &app10, &llm, USD("0.71"), &t3), GW_BUDGET_APP_INSUFFICIENT,
           "committed spend still counts: 9.3 + 0.71 > 10");
    gw_budget_on_commit(b, &ev, 1);
    ok(subject(b, GW_BS_APP, 3)->pending == 0, "pending never goes below 0");
    subject(b, GW_BS_APP, 3)->spent_db = USD("9.3");
    subject(b, GW_BS_LLM, 1)->spent_db = USD("50.3");

    {
        gw_app_budget big = app_with("1000", "");
        is_int(gw_budget_reserve(b, 3, &big, &llm, USD("49.8"), &t1), GW_BUDGET_LLM_INSUFFICIENT,
               "LLM 50.3 spent of 100, 49.8 more: more than the LLM's 49.7 left");
        ok(t1.remaining == USD("49.7"), "49.7 left");
    }
    ok(subject(b, GW_BS_APP, 3)->reserved == 0, "and the app was not reserved");
    {
        gw_app_budget raised = app_with("12", "");
        is_int(gw_budget_reserve(b, 3, &raised, &llm, USD("2.5"), &t1), GW_BUDGET_OK,
               "a raised limit (snapshot reload) applies at once");
        gw_budget_settle(b, &t1, USD("2.5"));

        /* past the period's last day: the new period's spend is read */
        snprintf(fake_today_val, sizeof(fake_today_val), "2025-04-01");
        snprintf(db.period_end, sizeof(db.period_end), "2025-04-30");
        db.spent[GW_BS_APP][3] = USD("0.5");
        db.spent[GW_BS_LLM][1] = 0;
        db.reads = 0;
        /* the 2.5 settled in March and not committed yet still counts (it is
         * committed after midnight): the safe side until the next refresh */
        is_int(gw_budget_reserve(b, 3, &raised, &llm, USD("9"), &t1), GW_BUDGET_OK,
               "new month: the budget less the new period's spend (0.5) and what is pending (2.5)");
        is_int(db.reads, 2, "the new period's spend was read for the app and the LLM");
        ok(subject(b, GW_BS_APP, 3)->spent_db == USD("0.5"), "spent is the new period's");
        is_str(subject(b, GW_BS_APP, 3)->period_end, "2025-04-30", "and its last day");
        gw_budget_settle(b, &t1, 0);
    }
    gw_budget_destroy(b);

    /* the database still answers for the last period (its clock behind ours) */
    snprintf(fake_today_val, sizeof(fake_today_val), "2025-05-01");
    snprintf(db.period_end, sizeof(db.period_end), "2025-04-30");
    db.reads = 0;
    b = new_budget(&db);
    is_int(gw_budget_reserve(b, 3, &app10, NULL, 0, &t1), GW_BUDGET_OK, "an answer for a past period is taken");
    is_int(gw_budget_reserve(b, 3, &app10, NULL, 0, &t1), GW_BUDGET_OK, "and used");
    is_int(db.reads, 1, "without asking again at once (no read per request)");
    subject(b, GW_BS_APP, 3)->recheck_ms = 0;
    snprintf(db.period_end, sizeof(db.period_end), "2025-05-31");
    is_int(gw_budget_reserve(b, 3, &app10, NULL, 0, &t1), GW_BUDGET_OK, "a moment later");
    is_int(db.reads, 2, "it is asked again");
    is_str(subject(b, GW_BS_APP, 3)->period_end, "2025-05-31", "and the new period's answer kept");
    gw_budget_destroy(b);
    snprintf(fake_today_val, sizeof(fake_today_val), "2025-03-10");
    snprintf(db.period_end, sizeof(db.period_end), "2025-03-31");
    db.spent[GW_BS_APP][3] = USD("9");
    db.spent[GW_BS_LLM][1] = USD("50");

    /* the database is down */
    db.fail = 1;
    db.reads = 0;
    b = new_budget(&db);
    is_int(gw_budget_reserve(b, 3, &app10, NULL, USD("0.1"), &t1), GW_BUDGET_UNAVAILABLE,
           "spend never read and the database down: unavailable");
    is_int(gw_budget_reserve(b, 3, &nobudget, NULL, USD("0.1"), &t1), GW_BUDGET_OK, "no budget: no database needed");
    db.fail = 0;
    is_int(gw_budget_reserve(b, 3, &app10, NULL, USD("0.1"), &t1), GW_BUDGET_OK, "database back: admitted");
    gw_budget_settle(b, &t1, USD("0.1"));
    db.fail = 1;
    is_int(gw_budget_reserve(b, 3, &app10, NULL, USD("0.1"), &t1), GW_BUDGET_OK,
           "database down after the first read: the known spend is used");
    gw_budget_settle(b, &t1, USD("0.1"));
    db.fail = 0;
    db.missing = 1;
    is_int(gw_budget_reserve(b, 9, &app10, NULL, USD("0.1"), &t1), GW_BUDGET_OK,
           "an app the database does not know: nothing spent");
    gw_budget_settle(b, &t1, 0);
    db.missing = 0;

    /* a batch committed while the spend is read is never lost */
    db.commit_during = b;
    pthread_mutex_lock(&b->mu);
    gw_bsubj *s = subject(b, GW_BS_APP, 3);
    s->refreshing = 1;
    s->pending = USD("0.5");
    gw_bg_load(b, s, "2025-03-10");
    s->refreshing = 0;
    ok(s->spent_db == USD("9.5") && s->pending == 0,
       "a commit racing a refresh: its cost is counted on top of the answer");
    pthread_mutex_unlock(&b->mu);
    db.commit_during = NULL;
    gw_budget_destroy(b);
}

/*
 * The admission arithmetic across the life of a cost: reserved -> pending
 * (settle) -> spent (commit) -> re-read (refresh), and across snapshot
 * reloads that keep or move the budget's start date. At every step a request
 * is admitted exactly when spent + pending + reserved + worst <= limit.
 */
static void test_commit_refresh_reload(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period_end = "2025-03-31"};
    gw_app_budget a2 = app_with("2", ""), a2_15 = app_with("2", "2025-02-15");
    gw_budget_ticket t1, t2;
    gw_budget *b;
    gw_bsubj *s;
    gw_event ev = {0};
    gw_money admitted_cost = 0;
    int admitted = 0;

    snprintf(fake_today_val, sizeof(fake_today_val), "2025-03-10");
    db.spent[GW_BS_APP][6] = USD("1");
    b = new_budget(&db);

    /* 100 sequential calls of worst 0.05, actual 0.02, each committed before
     * the next: never more than the 1.0 left */
    ev.app_id = 6;
    for (int i = 0; i < 100; i++) {
        if (gw_budget_reserve(b, 6, &a2, NULL, USD("0.05"), &t1) != GW_BUDGET_OK)
            continue;
        admitted++;
        gw_budget_settle(b, &t1, USD("0.02"));
        ev.est_cost = gw_money_i64(USD("0.02"));
        gw_budget_on_commit(b, &ev, 1);
        admitted_cost += USD("0.02");
    }
    s = subject(b, GW_BS_APP, 6);
    is_int(admitted, 48, "sequential calls with commits in between: 48 admitted (1.0 + 48 * 0.02 + 0.05 > 2)");
    ok(USD("1") + admitted_cost <= USD("2"), "spent within the budget of 2");
    ok(s->spent_db == USD("1") + admitted_cost && s->pending == 0, "all of it counted as spent, none pending");
    is_int(db.reads, 1, "without a single refresh");

    /* refresh: the database now has the committed costs: no double count */
    pthread_mutex_lock(&db.mu);
    db.spent[GW_BS_APP][6] = USD("1") + admitted_cost;
    pthread_mutex_unlock(&db.mu);
    pthread_mutex_lock(&b->mu);
    s->refreshing = 1;
    gw_bg_load(b, s, "2025-03-10");
    s->refreshing = 0;
    pthread_mutex_unlock(&b->mu);
    ok(s->spent_db == USD("1") + admitted_cost, "refresh: spent is the database's answer, not twice the commits");

    /* refresh while a call is settled but not committed: pending stays */
    is_int(gw_budget_reserve(b, 6, &a2, NULL, USD("0.01"), &t1), GW_BUDGET_OK, "one more small call");
    gw_budget_settle(b, &t1, USD("0.01"));
    pthread_mutex_lock(&b->mu);
    s->refreshing = 1;
    gw_bg_load(b, s, "2025-03-10");
    s->refreshing = 0;
    pthread_mutex_unlock(&b->mu);
    ok(s->pending == USD("0.01"), "a refresh keeps what is settled but not yet in the database");

    /* refresh while a call is in flight: its reservation stays */
    is_int(gw_budget_reserve(b, 6, &a2, NULL, USD("0.005"), &t2), GW_BUDGET_OK, "a call in flight");
    pthread_mutex_lock(&b->mu);
    s->refreshing = 1;
    gw_bg_load(b, s, "2025-03-10");
    s->refreshing = 0;
    pthread_mutex_unlock(&b->mu);
    ok(s->reserved == USD("0.005"), "a refresh keeps the reservations in flight");

    /* a reload with the same start date: nothing re-read */
    db.reads = 0;
    is_int(gw_budget_reserve(b, 6, &a2, NULL, 0, &t1), GW_BUDGET_OK, "reload, same start date");
    is_int(db.reads, 0, "same start date: no database read");

    /* a reload that moves the start date: the new period overlaps the old
     * one and today's spend is in both: it is read, not assumed 0 */
    pthread_mutex_lock(&db.mu);
    snprintf(db.period_end, sizeof(db.period_end), "2025-03-14");
    db.spent[GW_BS_APP][6] = USD("1.9");
    pthread_mutex_unlock(&db.mu);
    is_int(gw_budget_reserve(b, 6, &a2_15, NULL, USD("0.2"), &t1), GW_BUDGET_APP_INSUFFICIENT,
           "start date moved to the 15th: 1.9 spent in that period, 0.2 more refused");
    is_int(db.reads, 1, "the new period's spend was read once");
    ok(s->spent_db == USD("1.9") && s->pending == USD("0.01") && s->reserved == USD("0.005"),
       "spent re-read; today's pending and in-flight costs kept");
    is_int(gw_budget_reserve(b, 6, &a2_15, NULL, USD("0.085"), &t1), GW_BUDGET_OK,
           "1.9 + 0.01 + 0.005 + 0.085 = 2: fits exactly");
    gw_budget_settle(b, &t1, USD("0.08"));
    gw_budget_settle(b, &t2, USD("0.005"));

    /* and back: read again */
    pthread_mutex_lock(&db.mu);
    snprintf(db.period_end, sizeof(db.period_end), "2025-03-31");
    db.spent[GW_BS_APP][6] = USD("1.85");
    pthread_mutex_unlock(&db.mu);
    is_int(gw_budget_reserve(b, 6, &a2, NULL, 0, &t1), GW_BUDGET_OK, "start date back to the 1st");
    is_int(db.reads, 2, "read again");
    ok(s->spent_db == USD("1.85"), "the period's spend from the database");
    ok(s->pending == USD("0.095"), "pending kept across both moves");
    gw_budget_destroy(b);
}

/* ---- concurrency ---- */

#define THREADS 50

typedef struct racer {
    gw_budget *b;
    gw_llm *llm;
    pthread_barrier_t *go;
    gw_money worst;
    int admitted, refused, unavailable;
} racer;

static gw_money admitted_total;
static pthread_mutex_t admitted_mu = PTHREAD_MUTEX_INITIALIZER;

static void *race(void *arg)
{
    racer *r = arg;
    gw_budget_ticket t;
    gw_app_budget app = app_with("1.00", "2025-01-15");
    pthread_barrier_wait(r->go);
    for (int i = 0; i < 20; i++) {
        gw_budget_result res = gw_budget_reserve(r->b, 7, &app, r->llm, r->worst, &t);
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
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period_end = "2025-04-14", .sleep_us = 20000};
    gw_llm llm = llm_with(2, "1000", "");
    pthread_barrier_t go;
    pthread_t th[THREADS];
    racer r[THREADS];
    gw_budget *b;
    int admitted = 0, unavailable = 0;
    gw_bsubj *s;

    snprintf(fake_today_val, sizeof(fake_today_val), "2025-03-20");
    db.spent[GW_BS_APP][7] = USD("0.99"); /* 1 cent left */
    b = new_budget(&db);
    pthread_barrier_init(&go, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer){b, &llm, &go, USD("0.0015"), 0, 0, 0};
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
    ok(admitted_total <= USD("0.01"), "admitted worst cases fit the 0.01 left");
    ok(s->spent_db + s->pending <= USD("1"), "spent + pending within the budget");
    ok(s->reserved == 0, "no reservation left over");
    pthread_barrier_destroy(&go);
    gw_budget_destroy(b);
}

static void test_refresher(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period_end = "2025-03-31"};
    gw_app_budget app10 = app_with("10", "");
    gw_budget *b;
    gw_budget_ticket t;
    char err[GW_ERR_LEN];
    int reads;

    snprintf(fake_today_val, sizeof(fake_today_val), "2025-03-20");
    ok(gw_budget_create(NULL, 1, &b, err) == 0, "create with a 1 s refresh");
    pthread_mutex_lock(&b->mu);
    b->read = fake_read;
    b->read_ctx = &db;
    b->today = fake_today;
    pthread_mutex_unlock(&b->mu);
    db.spent[GW_BS_APP][5] = USD("1");
    is_int(gw_budget_reserve(b, 5, &app10, NULL, 0, &t), GW_BUDGET_OK, "seeded");
    pthread_mutex_lock(&db.mu);
    db.spent[GW_BS_APP][5] = USD("9.5"); /* another gateway spent */
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
    is_int(gw_budget_reserve(b, 5, &app10, NULL, USD("0.6"), &t), GW_BUDGET_APP_INSUFFICIENT,
           "the background refresh picked up spend from elsewhere");
    gw_budget_destroy(b);
}

/* An edge: the source gives the limit (the hub's grant), set_limit moves it,
 * usage reports what the lease manager needs (and resets the refusals). */
static void test_lease_source(void)
{
    fake_db db = {.mu = PTHREAD_MUTEX_INITIALIZER, .period_end = "2025-03-31", .use_lease = 1};
    gw_app_budget app10 = app_with("10", "");
    gw_budget *b = new_budget(&db);
    gw_budget_ticket t1, t2, t3;
    gw_budget_usage u;

    snprintf(fake_today_val, sizeof(fake_today_val), "2025-03-10");
    db.spent[GW_BS_APP][4] = USD("1");
    db.lease[GW_BS_APP][4] = USD("2");
    ok(gw_budget_usage_get(b, GW_BS_APP, 4, &u) != 0, "usage of a subject never seen: -1");
    is_int(gw_budget_reserve(b, 4, &app10, NULL, USD("0.6"), &t1), GW_BUDGET_OK, "lease 2, spent 1: 0.6 fits");
    is_int(gw_budget_reserve(b, 4, &app10, NULL, USD("0.3"), &t2), GW_BUDGET_OK, "1.9 of 2: fits");
    is_int(gw_budget_reserve(b, 4, &app10, NULL, USD("0.2"), &t3), GW_BUDGET_APP_INSUFFICIENT,
           "2.1 > the grant of 2 (the configured 10 does not count): 0.1 left");
    ok(gw_budget_usage_get(b, GW_BS_APP, 4, &u) == 0, "usage of a seeded subject");
    ok(u.configured == USD("10") && u.limit == USD("2"), "configured 10, held to the grant of 2");
    ok(u.spent == USD("1") && u.reserved == USD("0.9"), "spent 1, 0.9 reserved");
    is_int(u.refused, 1, "one refusal reported");
    ok(gw_budget_usage_get(b, GW_BS_APP, 4, &u) == 0 && u.refused == 0, "and reset by the report");
    gw_budget_set_limit(b, GW_BS_APP, 4, USD("3"));
    is_int(gw_budget_reserve(b, 4, &app10, NULL, USD("0.2"), &t3), GW_BUDGET_OK, "a renewal to 3: 2.1 fits");
    gw_budget_settle(b, &t1, USD("0.1"));
    ok(gw_budget_usage_get(b, GW_BS_APP, 4, &u) == 0 && u.spent == USD("1.1") && u.reserved == USD("0.5"),
       "settled: spent 1.1, 0.5 still reserved");
    gw_budget_set_limit(b, GW_BS_APP, 4, GW_BUDGET_NO_LIMIT);
    ok(gw_budget_usage_get(b, GW_BS_APP, 4, &u) == 0 && u.limit == USD("10"), "no lease: the configured limit");
    gw_budget_set_limit(b, GW_BS_APP, 99, USD("1")); /* never seen: nothing happens */
    ok(gw_budget_usage_get(b, GW_BS_APP, 99, &u) != 0, "set_limit does not create subjects");
    db.lease[GW_BS_APP][5] = 0;
    is_int(gw_budget_reserve(b, 5, &app10, NULL, 1, &t1), GW_BUDGET_APP_EXCEEDED, "a grant of 0: nothing fits");
    gw_budget_settle(b, &t2, 0);
    gw_budget_settle(b, &t3, 0);
    gw_budget_destroy(b);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    test_lease_source();
    test_money();
    test_costs();
    test_accounting();
    test_commit_refresh_reload();
    test_concurrency();
    test_refresher();
    return tap_done();
}
