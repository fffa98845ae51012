/*
 * src/model/budget.c: in-memory budget admission (see budget.h) for apps
 * and LLMs with a monthly budget.
 *
 * Per subject (app or LLM) we keep: the limit (from the snapshot, or the
 * credential's answer for an app), the start date the spend was read for,
 * the period's last day (aistudio.budget_status's period_end: the
 * extension's calendar, never one of ours), spent_db (the database's spend
 * of the period, budget_status / llm_budget_status, with what edges hold in
 * budget leases, as last read, plus the costs the analytics writer has
 * committed since), pending (costs settled
 * here whose events the writer has not committed yet) and reserved (worst
 * cases of requests in flight). A request is admitted when, for each of its
 * subjects, spent_db + pending + reserved + worst <= limit. A cost moves
 * reserved -> pending (gw_budget_settle) -> spent_db (gw_budget_on_commit)
 * and is counted at every step. When the period may have changed — today
 * is past the period's last day, or the start date changed (an edit) — the
 * subject is read from the database again before the next admission.
 *
 * Locking protocol: one mutex (b->mu) guards every subject and the hash
 * table; reserve checks and reserves the app and the LLM under it, so
 * "both or neither" is atomic and concurrent requests can never together
 * overspend. Subjects are never freed before gw_budget_destroy, so a
 * pointer to one stays valid while the mutex is dropped. No database call
 * runs under the mutex: a subject being read from the database is marked
 * (seeding / refreshing) and the mutex released meanwhile; other requests
 * for a subject that was never read wait on b->cv for that one read.
 *
 * Spend refresh: a background thread re-reads, every refresh_s, the
 * subjects used in the last GW_BUDGET_IDLE_MS. A batch committed while the
 * read runs may or may not be in its answer; its cost (already moved into
 * spent_db by gw_budget_on_commit) is added back on top of the answer, so a
 * refresh can only over-count, never under-count, until the next one.
 */
#include "model/budget.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/sql.h"

#define GW_BUDGET_BUCKETS 1024
#define GW_BUDGET_IDLE_MS (10 * 60 * 1000)
#define GW_BUDGET_TICK_MS 1000
#define GW_BUDGET_RECHECK_MS 1000 /* the database still answers for a past period (clocks apart) */
#define GW_DATE_LEN GW_BUDGET_DATE_LEN

enum { GW_BS_APP = GW_BUDGET_APP, GW_BS_LLM = GW_BUDGET_LLM };

typedef struct gw_bsubj {
    int kind;
    int64_t id;
    gw_money limit;      /* configured */
    gw_money lease;      /* the source's limit, GW_BUDGET_NO_LIMIT: the configured one */
    int64_t refused;     /* admissions refused (gw_budget_usage_get resets it) */
    char start_date[GW_DATE_LEN]; /* what the spend was read for ("" = the 1st) */
    char period_end[GW_DATE_LEN]; /* the period's last day; "" = not known */
    int seeded, seeding, refreshing;
    uint64_t gen; /* bumped when the start date changes */
    gw_money spent_db, pending, reserved;
    gw_money committed; /* running sum of costs committed (gw_budget_on_commit) */
    int64_t refreshed_ms, used_ms, recheck_ms;
    struct gw_bsubj *next;
} gw_bsubj;

struct gw_budget {
    gw_pgpool *pool;
    int refresh_s;
    gw_budget_source_fn read; /* gw_bg_read_pg, or an edge's leases */
    void *read_ctx;
    void (*today)(char out[GW_DATE_LEN]); /* UTC */

    pthread_mutex_t mu;
    pthread_cond_t cv;  /* a seed finished */
    pthread_cond_t tcv; /* wakes the refresher */
    gw_bsubj *buckets[GW_BUDGET_BUCKETS];
    int stop;
    int have_thread;
    pthread_t thread;
};

static void gw_bg_today_utc(char out[GW_DATE_LEN])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, GW_DATE_LEN, "%Y-%m-%d", &tm);
}

/* ---- money ---- */

static gw_money gw_bg_tokens(int64_t n)
{
    return n > 0 ? (gw_money)n : 0;
}

static gw_money gw_bg_nanos(int64_t n)
{
    return n > 0 ? (gw_money)n : 0;
}

gw_money gw_budget_worst_cost(const gw_price *price, int64_t prompt_tokens_max, int64_t max_tokens,
                              int64_t default_max_tokens)
{
    gw_money pin;
    if (price == NULL)
        return 0;
    /* every prompt token may turn out to be a (dearer) cache write or read */
    pin = gw_bg_nanos(price->input_nanos);
    if (gw_bg_nanos(price->cache_write_nanos) > pin)
        pin = gw_bg_nanos(price->cache_write_nanos);
    if (gw_bg_nanos(price->cache_read_nanos) > pin)
        pin = gw_bg_nanos(price->cache_read_nanos);
    if (max_tokens < 0)
        max_tokens = default_max_tokens;
    /* tokens × (price per million tokens in 10^-9) = cost in 10^-15 */
    return gw_money_sat(gw_bg_tokens(prompt_tokens_max) * pin +
                     gw_bg_tokens(max_tokens) * gw_bg_nanos(price->output_nanos));
}

gw_money gw_budget_cost(const gw_price *price, const gw_vendor *vendor, int64_t prompt, int64_t response,
                        int64_t cache_write, int64_t cache_read)
{
    gw_money p = gw_bg_tokens(prompt), c = gw_bg_tokens(cache_read);
    if (price == NULL)
        return 0;
    /* the vendor's token semantics (aistudio.vendors): its prompt count
     * includes the cached reads, priced at the cache-read price */
    if (vendor == NULL || vendor->prompt_includes_cache_reads)
        p = p > c ? p - c : 0;
    return gw_money_sat(p * gw_bg_nanos(price->input_nanos) + gw_bg_tokens(cache_write) * gw_bg_nanos(price->cache_write_nanos) +
                     c * gw_bg_nanos(price->cache_read_nanos) + gw_bg_tokens(response) * gw_bg_nanos(price->output_nanos));
}

/* ---- subjects ---- */

static gw_bsubj *gw_bg_find(gw_budget *b, int kind, int64_t id, int create)
{
    size_t h = ((uint64_t)id * 0x9E3779B97F4A7C15ull >> 40 ^ (uint64_t)kind) % GW_BUDGET_BUCKETS;
    gw_bsubj *s;
    for (s = b->buckets[h]; s != NULL; s = s->next)
        if (s->kind == kind && s->id == id)
            return s;
    if (!create || (s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    s->kind = kind;
    s->id = id;
    s->lease = GW_BUDGET_NO_LIMIT;
    s->next = b->buckets[h];
    b->buckets[h] = s;
    return s;
}

/*
 * Applies the snapshot's limit and start date. The spend is read from the
 * database again before the next admission when the start date changed
 * (the period moved: a moved period overlaps the old one and today's spend
 * is in both, so it is not "nothing") or today is past the period's last
 * day. pending and reserved stay: they are costs of today, and today is in
 * every period that is current.
 */
static void gw_bg_configure(gw_bsubj *s, gw_money limit, const char *start, const char *today, int64_t now)
{
    if (start == NULL)
        start = "";
    s->limit = limit;
    if (strncmp(s->start_date, start, sizeof(s->start_date)) != 0) {
        if (s->seeded)
            gw_log_info("budget: %s %" PRId64 ": the start date changed", s->kind == GW_BS_APP ? "app" : "LLM", s->id);
        snprintf(s->start_date, sizeof(s->start_date), "%s", start);
        s->gen++;
        s->seeded = 0;
    } else if (s->seeded && s->period_end[0] != '\0' && strcmp(today, s->period_end) > 0 && now >= s->recheck_ms) {
        gw_log_info("budget: %s %" PRId64 " enters a new period", s->kind == GW_BS_APP ? "app" : "LLM", s->id);
        s->seeded = 0;
    }
}

/*
 * Reads the subject's spend from the database. Called with b->mu held and
 * s->seeding or s->refreshing set; drops the mutex during the read.
 */
static int gw_bg_load(gw_budget *b, gw_bsubj *s, const char *today)
{
    char period_end[GW_DATE_LEN] = "", err[GW_ERR_LEN] = "";
    gw_money spent = 0, acc0 = s->committed, limit = GW_BUDGET_NO_LIMIT, configured = s->limit;
    uint64_t gen = s->gen;
    int kind = s->kind, rc;

    pthread_mutex_unlock(&b->mu);
    rc = b->read(b->read_ctx, kind, s->id, configured, period_end, &spent, &limit, err);
    pthread_mutex_lock(&b->mu);
    if (rc < 0) {
        gw_log_debug("budget: cannot read the spend of %s %" PRId64 ": %s", kind == GW_BS_APP ? "app" : "LLM", s->id,
                     err);
        return -1;
    }
    if (s->gen != gen)
        return 0; /* the start date changed meanwhile: read again */
    if (rc == 1) {
        spent = 0; /* not in the database (a stale snapshot): nothing spent */
        period_end[0] = '\0';
    }
    s->spent_db = gw_money_sat(spent + (s->committed - acc0));
    s->lease = limit < 0 ? GW_BUDGET_NO_LIMIT : limit;
    snprintf(s->period_end, sizeof(s->period_end), "%s", period_end);
    /* the database's clock may still be on the other side of midnight:
     * take its answer, ask again in a moment */
    s->recheck_ms = period_end[0] != '\0' && strcmp(today, period_end) > 0 ? gw_now_ms() + GW_BUDGET_RECHECK_MS : 0;
    s->seeded = 1;
    s->refreshed_ms = gw_now_ms();
    return 0;
}

static int gw_bg_read_pg(void *ctx, int kind, int64_t id, gw_money configured, char period_end[GW_DATE_LEN],
                         gw_money *spent, gw_money *limit, char err[GW_ERR_LEN])
{
    gw_budget *b = ctx;
    (void)configured;
    *limit = GW_BUDGET_NO_LIMIT;
    char idbuf[24], state[GW_SQLSTATE_LEN];
    const char *params[1] = {idbuf};
    PGresult *res;
    const char *sql = kind == GW_BS_APP ? GW_SQL_APP_BUDGET_STATUS : GW_SQL_LLM_BUDGET_STATUS;
    if (b->pool == NULL)
        return gw_errf(err, "no database");
    snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
    if (gw_pgpool_exec(b->pool, sql, 1, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, state, err) != 0)
        return strcmp(state, "P0002") == 0 ? 1 : -1;
    if (PQntuples(res) != 1 || PQnfields(res) != 2) {
        PQclear(res);
        return gw_errf(err, "unexpected budget_status result");
    }
    snprintf(period_end, GW_DATE_LEN, "%s", PQgetvalue(res, 0, 0));
    *spent = gw_money_parse(PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static void *gw_bg_refresher(void *arg)
{
    gw_budget *b = arg;
    struct timespec ts;
    char today[GW_DATE_LEN];
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        int64_t now;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += GW_BUDGET_TICK_MS / 1000;
        pthread_cond_timedwait(&b->tcv, &b->mu, &ts);
        if (b->stop)
            break;
        b->today(today);
        /* Subjects are only ever added at a bucket's head and never freed,
         * so the chains stay walkable while gw_bg_load drops the mutex. */
        for (int i = 0; i < GW_BUDGET_BUCKETS && !b->stop; i++) {
            for (gw_bsubj *s = b->buckets[i]; s != NULL && !b->stop; s = s->next) {
                now = gw_now_ms();
                if (!s->seeded || s->seeding || s->refreshing || now - s->used_ms > GW_BUDGET_IDLE_MS ||
                    now - s->refreshed_ms < (int64_t)b->refresh_s * 1000)
                    continue;
                s->refreshing = 1;
                if (gw_bg_load(b, s, today) != 0) /* try again in a tick, not at once */
                    s->refreshed_ms = gw_now_ms() - (int64_t)b->refresh_s * 1000 + GW_BUDGET_TICK_MS;
                s->refreshing = 0;
            }
        }
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ---- public ---- */

int gw_budget_create(gw_pgpool *pool, int refresh_s, gw_budget **out, char err[GW_ERR_LEN])
{
    gw_budget *b;
    pthread_condattr_t ca;
    *out = NULL;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return gw_errf(err, "out of memory");
    b->pool = pool;
    b->refresh_s = refresh_s;
    b->read = gw_bg_read_pg;
    b->read_ctx = b;
    b->today = gw_bg_today_utc;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->tcv, &ca);
    pthread_condattr_destroy(&ca);
    if (refresh_s > 0) {
        if (pthread_create(&b->thread, NULL, gw_bg_refresher, b) != 0) {
            gw_budget_destroy(b);
            return gw_errf(err, "budget: cannot start the refresh thread");
        }
        b->have_thread = 1;
    }
    *out = b;
    return 0;
}

void gw_budget_destroy(gw_budget *b)
{
    if (b == NULL)
        return;
    if (b->have_thread) {
        pthread_mutex_lock(&b->mu);
        b->stop = 1;
        pthread_cond_broadcast(&b->tcv);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->thread, NULL);
    }
    for (int i = 0; i < GW_BUDGET_BUCKETS; i++) {
        gw_bsubj *s = b->buckets[i];
        while (s != NULL) {
            gw_bsubj *next = s->next;
            free(s);
            s = next;
        }
    }
    pthread_cond_destroy(&b->tcv);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static gw_money gw_bg_limit(const gw_bsubj *s)
{
    return s->lease >= 0 ? s->lease : s->limit;
}

/* spent + pending + reserved + worst <= limit */
static int gw_bg_fits(const gw_bsubj *s, gw_money worst)
{
    return s->spent_db + s->pending + s->reserved + worst <= gw_bg_limit(s);
}

/* What is left of a subject's budget now (never negative). */
static gw_money gw_bg_remaining(const gw_bsubj *s)
{
    gw_money left = gw_bg_limit(s) - s->spent_db - s->pending - s->reserved;
    return left > 0 ? left : 0;
}

/* The refusal of subject s: exceeded when nothing is left, insufficient
 * when something is but not the request's worst case. */
static gw_budget_result gw_bg_refuse(const gw_bsubj *s, int app, gw_budget_ticket *t)
{
    t->remaining = gw_bg_remaining(s);
    t->limit = s->limit;
    if (t->remaining > 0)
        return app ? GW_BUDGET_APP_INSUFFICIENT : GW_BUDGET_LLM_INSUFFICIENT;
    return app ? GW_BUDGET_APP_EXCEEDED : GW_BUDGET_LLM_EXCEEDED;
}

gw_budget_result gw_budget_reserve(gw_budget *b, int64_t app_id, const gw_app_budget *app, const gw_llm *llm,
                                   gw_money worst_cost, gw_budget_ticket *t)
{
    int have_app = app_id > 0 && app != NULL && app->set;
    int have_llm = llm != NULL && llm->id > 0 && llm->monthly_budget != NULL && llm->monthly_budget[0] != '\0';
    gw_bsubj *subj[2] = {NULL, NULL}; /* LLM, app */
    char today[GW_DATE_LEN];
    int64_t now;

    memset(t, 0, sizeof(*t));
    if (!have_app && !have_llm)
        return GW_BUDGET_OK;
    worst_cost = gw_money_sat(worst_cost);
    b->today(today);
    now = gw_now_ms();

    pthread_mutex_lock(&b->mu);
    for (;;) {
        gw_bsubj *unseeded = NULL;
        if (have_llm && (subj[0] = gw_bg_find(b, GW_BS_LLM, llm->id, 1)) == NULL)
            goto unavailable;
        if (have_app && (subj[1] = gw_bg_find(b, GW_BS_APP, app_id, 1)) == NULL)
            goto unavailable;
        if (subj[0] != NULL)
            gw_bg_configure(subj[0], gw_bg_nanos(llm->monthly_budget_nanos) * GW_MONEY_PER_NANO,
                            llm->budget_start_date, today, now);
        if (subj[1] != NULL)
            gw_bg_configure(subj[1], gw_bg_nanos(app->nanos) * GW_MONEY_PER_NANO, app->start_date, today, now);
        for (int i = 0; i < 2 && unseeded == NULL; i++)
            if (subj[i] != NULL && !subj[i]->seeded)
                unseeded = subj[i];
        if (unseeded == NULL)
            break;
        if (unseeded->seeding) {
            pthread_cond_wait(&b->cv, &b->mu);
            continue;
        }
        /* the first use of this subject (or of its new period): read its spend now, once */
        unseeded->seeding = 1;
        if (gw_bg_load(b, unseeded, today) != 0) {
            unseeded->seeding = 0;
            pthread_cond_broadcast(&b->cv);
            goto unavailable;
        }
        unseeded->seeding = 0;
        pthread_cond_broadcast(&b->cv);
        /* loop: seeded now (or its start date changed meanwhile: read again) */
    }

    if (subj[0] != NULL && !gw_bg_fits(subj[0], worst_cost)) {
        gw_budget_result r = gw_bg_refuse(subj[0], 0, t);
        subj[0]->refused++;
        pthread_mutex_unlock(&b->mu);
        return r;
    }
    if (subj[1] != NULL && !gw_bg_fits(subj[1], worst_cost)) {
        gw_budget_result r = gw_bg_refuse(subj[1], 1, t);
        subj[1]->refused++;
        pthread_mutex_unlock(&b->mu);
        return r;
    }
    for (int i = 0; i < 2; i++) {
        if (subj[i] == NULL)
            continue;
        subj[i]->reserved += worst_cost;
        subj[i]->used_ms = now;
        if (b->refresh_s > 0 && now - subj[i]->refreshed_ms >= (int64_t)b->refresh_s * 1000 + GW_BUDGET_TICK_MS)
            pthread_cond_signal(&b->tcv); /* overdue: wake the refresher */
    }
    pthread_mutex_unlock(&b->mu);
    t->llm_id = subj[0] != NULL ? llm->id : 0;
    t->app_id = subj[1] != NULL ? app_id : 0;
    t->reserved = worst_cost;
    return GW_BUDGET_OK;

unavailable:
    pthread_mutex_unlock(&b->mu);
    return GW_BUDGET_UNAVAILABLE;
}

void gw_budget_settle(gw_budget *b, gw_budget_ticket *t, gw_money actual_cost)
{
    int64_t ids[2] = {t->llm_id, t->app_id};
    if (t->app_id == 0 && t->llm_id == 0)
        return;
    actual_cost = gw_money_sat(actual_cost);
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < 2; i++) {
        gw_bsubj *s = ids[i] != 0 ? gw_bg_find(b, i == 0 ? GW_BS_LLM : GW_BS_APP, ids[i], 0) : NULL;
        if (s == NULL)
            continue;
        s->reserved -= t->reserved;
        if (s->reserved < 0)
            s->reserved = 0;
        s->pending += actual_cost;
    }
    pthread_mutex_unlock(&b->mu);
    memset(t, 0, sizeof(*t));
}

void gw_budget_on_commit(void *ctx, const gw_event *events, int n)
{
    gw_budget *b = ctx;
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < n; i++) {
        const gw_event *ev = &events[i];
        int64_t ids[2] = {ev->llm_id, ev->app_id};
        if (ev->est_cost <= 0)
            continue;
        for (int k = 0; k < 2; k++) {
            gw_bsubj *s = ids[k] > 0 ? gw_bg_find(b, k == 0 ? GW_BS_LLM : GW_BS_APP, ids[k], 0) : NULL;
            if (s == NULL)
                continue;
            /* from "settled here" to "in the database's spend": admission
             * keeps counting it (spent_db + pending + reserved) */
            s->pending -= ev->est_cost;
            if (s->pending < 0)
                s->pending = 0;
            s->spent_db += ev->est_cost;
            s->committed += ev->est_cost;
        }
    }
    pthread_mutex_unlock(&b->mu);
}

void gw_budget_set_source(gw_budget *b, gw_budget_source_fn fn, void *ctx)
{
    pthread_mutex_lock(&b->mu);
    b->read = fn;
    b->read_ctx = ctx;
    pthread_mutex_unlock(&b->mu);
}

void gw_budget_set_limit(gw_budget *b, int kind, int64_t id, gw_money limit)
{
    gw_bsubj *s;
    pthread_mutex_lock(&b->mu);
    s = gw_bg_find(b, kind, id, 0);
    if (s != NULL)
        s->lease = limit < 0 ? GW_BUDGET_NO_LIMIT : limit;
    pthread_mutex_unlock(&b->mu);
}

int gw_budget_usage_get(gw_budget *b, int kind, int64_t id, gw_budget_usage *u)
{
    gw_bsubj *s;
    memset(u, 0, sizeof(*u));
    pthread_mutex_lock(&b->mu);
    s = gw_bg_find(b, kind, id, 0);
    if (s == NULL || !s->seeded) {
        pthread_mutex_unlock(&b->mu);
        return -1;
    }
    u->configured = s->limit;
    u->limit = gw_bg_limit(s);
    u->spent = gw_money_sat(s->spent_db + s->pending);
    u->reserved = s->reserved;
    u->refused = s->refused;
    s->refused = 0;
    snprintf(u->period_end, sizeof(u->period_end), "%s", s->period_end);
    pthread_mutex_unlock(&b->mu);
    return 0;
}
