/*
 * src/model/budget.c: in-memory budget admission (see budget.h) for apps
 * and LLMs with a monthly budget.
 *
 * Per subject (app or LLM) we keep: the limit (from the snapshot), the
 * current period (computed like aistudio.budget_period: UTC, starting on the
 * start date's day of month clamped to the month's length), spent_db (the
 * database's spend of the period, aistudio.budget_status /
 * llm_budget_status, as last read, plus the costs the analytics writer has
 * committed since), pending (costs settled here whose events the writer has
 * not committed yet) and reserved (worst cases of requests in flight). A
 * request is admitted when, for each of its subjects,
 * spent_db + pending + reserved + worst <= limit. A cost moves reserved ->
 * pending (gw_budget_settle) -> spent_db (gw_budget_on_commit) and is
 * counted at every step. When the period changes (a new month, or an edit of
 * the start date) the subject is read from the database again before the
 * next admission.
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
 * read runs may or may not be in its answer; its cost (already taken off
 * pending by gw_budget_on_commit) is added back on top of the answer, so a
 * refresh can only over-count, never under-count, until the next one.
 */
#include "model/budget.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/sql.h"

#define GW_BUDGET_BUCKETS 1024
#define GW_BUDGET_IDLE_MS (10 * 60 * 1000)
#define GW_BUDGET_TICK_MS 1000

enum { GW_BS_APP = 0, GW_BS_LLM = 1 };

typedef struct gw_bsubj {
    int kind;
    int64_t id;
    double limit;
    int start_day;  /* 1..31 */
    int64_t period; /* first day of the current period, days since 1970-01-01 */
    int seeded, seeding, refreshing;
    double spent_db, pending, reserved;
    double committed; /* running sum of costs committed (gw_budget_on_commit) */
    int64_t refreshed_ms, used_ms;
    struct gw_bsubj *next;
} gw_bsubj;

/* Reads a subject's spend: 0 (period = first day, "YYYY-MM-DD"), 1 when the
 * subject does not exist in the database, -1 on error. */
typedef int (*gw_budget_read_fn)(void *ctx, int kind, int64_t id, char period[16], double *spent, char err[GW_ERR_LEN]);

struct gw_budget {
    gw_pgpool *pool;
    int refresh_s;
    gw_budget_read_fn read;
    void *read_ctx;
    int64_t (*today)(void); /* days since 1970-01-01, UTC */

    pthread_mutex_t mu;
    pthread_cond_t cv;  /* a seed finished */
    pthread_cond_t tcv; /* wakes the refresher */
    gw_bsubj *buckets[GW_BUDGET_BUCKETS];
    int stop;
    int have_thread;
    pthread_t thread;
};

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t gw_bg_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void gw_bg_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int gw_bg_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* The first day of the budget period containing today (aistudio.budget_period). */
static int64_t gw_bg_period_start(int start_day, int64_t today)
{
    int64_t y;
    int m, d, last;
    int64_t start;
    gw_bg_civil_from_days(today, &y, &m, &d);
    last = gw_bg_days_in_month(y, m);
    start = gw_bg_days_from_civil(y, m, start_day < last ? start_day : last);
    if (today < start) {
        if (--m == 0)
            m = 12, y--;
        last = gw_bg_days_in_month(y, m);
        start = gw_bg_days_from_civil(y, m, start_day < last ? start_day : last);
    }
    return start;
}

/* "YYYY-MM-DD" -> days; -1 when malformed. */
static int64_t gw_bg_parse_date(const char *s, int *day)
{
    int y, m, d;
    char tail;
    if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
        d > gw_bg_days_in_month(y, m))
        return -1;
    if (day != NULL)
        *day = d;
    return gw_bg_days_from_civil(y, m, d);
}

static int64_t gw_bg_today_utc(void)
{
    time_t t = time(NULL);
    return (int64_t)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

/* ---- prices ---- */

static double gw_bg_num(const char *s, double dflt)
{
    char *end;
    double v;
    if (s == NULL || s[0] == '\0')
        return dflt;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v) || v < 0)
        return dflt;
    return v;
}

static double gw_bg_tokens(int64_t n)
{
    return n > 0 ? (double)n : 0.0;
}

double gw_budget_worst_cost(const gw_price *price, int64_t prompt_tokens_max, int64_t max_tokens,
                            int64_t default_max_tokens)
{
    double in, out, cw, cr, pin;
    if (price == NULL)
        return 0;
    in = gw_bg_num(price->input_per_mtok, 0);
    out = gw_bg_num(price->output_per_mtok, 0);
    cw = gw_bg_num(price->cache_write_per_mtok, in);
    cr = gw_bg_num(price->cache_read_per_mtok, in);
    /* every prompt token may turn out to be a (dearer) cache write */
    pin = in;
    if (cw > pin)
        pin = cw;
    if (cr > pin)
        pin = cr;
    if (max_tokens < 0)
        max_tokens = default_max_tokens;
    return (gw_bg_tokens(prompt_tokens_max) * pin + gw_bg_tokens(max_tokens) * out) / 1e6;
}

double gw_budget_cost(const gw_price *price, const char *vendor, int64_t prompt, int64_t response, int64_t cache_write,
                      int64_t cache_read)
{
    double in, out, cw, cr, p = gw_bg_tokens(prompt), r = gw_bg_tokens(response);
    double w = gw_bg_tokens(cache_write), c = gw_bg_tokens(cache_read);
    if (price == NULL)
        return 0;
    in = gw_bg_num(price->input_per_mtok, 0);
    out = gw_bg_num(price->output_per_mtok, 0);
    cw = gw_bg_num(price->cache_write_per_mtok, in);
    cr = gw_bg_num(price->cache_read_per_mtok, in);
    /* Anthropic's input count excludes cache tokens; everyone else's
     * includes the cached reads (priced at the cache-read price). */
    if (vendor == NULL || strcmp(vendor, "anthropic") != 0)
        p = p > c ? p - c : 0;
    return (p * in + w * cw + c * cr + r * out) / 1e6;
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
    s->period = -1;
    s->next = b->buckets[h];
    b->buckets[h] = s;
    return s;
}

/* Applies the snapshot's limit and start date; a new period resets the spend. */
static void gw_bg_configure(gw_bsubj *s, const char *limit, const char *start, int64_t today)
{
    int day = 1;
    int64_t period;
    s->limit = gw_bg_num(limit, 0);
    if (start != NULL && start[0] != '\0' && gw_bg_parse_date(start, &day) < 0)
        day = 1;
    s->start_day = day;
    period = gw_bg_period_start(day, today);
    if (period != s->period) {
        if (s->period >= 0)
            gw_log_info("budget: %s %" PRId64 " enters a new period", s->kind == GW_BS_APP ? "app" : "LLM", s->id);
        /* The spend of the new period is read from the database before the
         * next admission (it is not "nothing": a period moved by an edit of
         * the start date overlaps the old one, and today's spend is in
         * both). pending and reserved stay: they are costs of today, and
         * today is in every period that is current. */
        s->seeded = 0;
        s->period = period;
    }
}

/*
 * Reads the subject's spend from the database. Called with b->mu held and
 * s->seeding or s->refreshing set; drops the mutex during the read.
 */
static int gw_bg_load(gw_budget *b, gw_bsubj *s)
{
    char period_txt[16] = "", err[GW_ERR_LEN] = "";
    double spent = 0, acc0 = s->committed;
    int64_t period = s->period, db_period;
    int kind = s->kind, rc;

    pthread_mutex_unlock(&b->mu);
    rc = b->read(b->read_ctx, kind, s->id, period_txt, &spent, err);
    pthread_mutex_lock(&b->mu);
    if (rc < 0) {
        gw_log_debug("budget: cannot read the spend of %s %" PRId64 ": %s", kind == GW_BS_APP ? "app" : "LLM", s->id,
                     err);
        return -1;
    }
    if (rc == 1)
        spent = 0; /* not in the database (a stale snapshot): nothing spent */
    db_period = rc == 0 ? gw_bg_parse_date(period_txt, NULL) : period;
    if (s->period != period || (s->seeded && db_period != s->period)) {
        /* our period changed meanwhile, or the database sits on the other
         * side of midnight: keep what we have, retry at the next tick */
        return 0;
    }
    if (!isfinite(spent) || spent < 0)
        spent = 0;
    s->spent_db = spent + (s->committed - acc0);
    s->seeded = 1;
    s->refreshed_ms = gw_now_ms();
    return 0;
}

static int gw_bg_read_pg(void *ctx, int kind, int64_t id, char period[16], double *spent, char err[GW_ERR_LEN])
{
    gw_budget *b = ctx;
    char idbuf[24], state[GW_SQLSTATE_LEN];
    const char *params[1] = {idbuf};
    PGresult *res;
    const char *sql = kind == GW_BS_APP ? GW_SQL_APP_BUDGET_STATUS
                                        : GW_SQL_LLM_BUDGET_STATUS;
    if (b->pool == NULL)
        return gw_errf(err, "no database");
    snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
    if (gw_pgpool_exec(b->pool, sql, 1, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, state, err) != 0)
        return strcmp(state, "P0002") == 0 ? 1 : -1;
    if (PQntuples(res) != 1 || PQnfields(res) != 2) {
        PQclear(res);
        return gw_errf(err, "unexpected budget_status result");
    }
    snprintf(period, 16, "%s", PQgetvalue(res, 0, 0));
    *spent = gw_bg_num(PQgetvalue(res, 0, 1), 0);
    PQclear(res);
    return 0;
}

static void *gw_bg_refresher(void *arg)
{
    gw_budget *b = arg;
    struct timespec ts;
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        int64_t now = gw_now_ms();
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += GW_BUDGET_TICK_MS / 1000;
        pthread_cond_timedwait(&b->tcv, &b->mu, &ts);
        if (b->stop)
            break;
        /* Subjects are only ever added at a bucket's head and never freed,
         * so the chains stay walkable while gw_bg_load drops the mutex. */
        for (int i = 0; i < GW_BUDGET_BUCKETS && !b->stop; i++) {
            for (gw_bsubj *s = b->buckets[i]; s != NULL && !b->stop; s = s->next) {
                now = gw_now_ms();
                if (!s->seeded || s->seeding || s->refreshing || now - s->used_ms > GW_BUDGET_IDLE_MS ||
                    now - s->refreshed_ms < (int64_t)b->refresh_s * 1000)
                    continue;
                s->refreshing = 1;
                if (gw_bg_load(b, s) != 0) /* try again in a tick, not at once */
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

/* spent + pending + reserved + worst <= limit, up to rounding noise */
static int gw_bg_fits(const gw_bsubj *s, double worst)
{
    double used = s->spent_db + s->pending + s->reserved + worst;
    return used <= s->limit + s->limit * 1e-12 + 1e-15;
}

gw_budget_result gw_budget_reserve(gw_budget *b, int64_t app_id, const char *app_budget, const char *app_start,
                                   const gw_llm *llm, double worst_cost, gw_budget_ticket *t)
{
    int have_app = app_id > 0 && app_budget != NULL && app_budget[0] != '\0';
    int have_llm = llm != NULL && llm->id > 0 && llm->monthly_budget != NULL && llm->monthly_budget[0] != '\0';
    gw_bsubj *subj[2] = {NULL, NULL}; /* LLM, app */
    int64_t today, now;

    memset(t, 0, sizeof(*t));
    if (!have_app && !have_llm)
        return GW_BUDGET_OK;
    if (!isfinite(worst_cost) || worst_cost < 0)
        worst_cost = 0;
    today = b->today();

    pthread_mutex_lock(&b->mu);
    for (;;) {
        gw_bsubj *unseeded = NULL;
        if (have_llm && (subj[0] = gw_bg_find(b, GW_BS_LLM, llm->id, 1)) == NULL)
            goto unavailable;
        if (have_app && (subj[1] = gw_bg_find(b, GW_BS_APP, app_id, 1)) == NULL)
            goto unavailable;
        if (subj[0] != NULL)
            gw_bg_configure(subj[0], llm->monthly_budget, llm->budget_start_date, today);
        if (subj[1] != NULL)
            gw_bg_configure(subj[1], app_budget, app_start, today);
        for (int i = 0; i < 2 && unseeded == NULL; i++)
            if (subj[i] != NULL && !subj[i]->seeded)
                unseeded = subj[i];
        if (unseeded == NULL)
            break;
        if (unseeded->seeding) {
            pthread_cond_wait(&b->cv, &b->mu);
            continue;
        }
        /* the first use of this subject: read its spend now, once */
        unseeded->seeding = 1;
        if (gw_bg_load(b, unseeded) != 0) {
            unseeded->seeding = 0;
            pthread_cond_broadcast(&b->cv);
            goto unavailable;
        }
        unseeded->seeding = 0;
        pthread_cond_broadcast(&b->cv);
        /* loop: seeded now (or our period changed meanwhile: read again) */
    }

    if (subj[0] != NULL && !gw_bg_fits(subj[0], worst_cost)) {
        pthread_mutex_unlock(&b->mu);
        return GW_BUDGET_LLM_EXCEEDED;
    }
    if (subj[1] != NULL && !gw_bg_fits(subj[1], worst_cost)) {
        pthread_mutex_unlock(&b->mu);
        return GW_BUDGET_APP_EXCEEDED;
    }
    now = gw_now_ms();
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

void gw_budget_settle(gw_budget *b, gw_budget_ticket *t, double actual_cost)
{
    int64_t ids[2] = {t->llm_id, t->app_id};
    if (t->app_id == 0 && t->llm_id == 0)
        return;
    if (!isfinite(actual_cost) || actual_cost < 0)
        actual_cost = 0;
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < 2; i++) {
        gw_bsubj *s = ids[i] != 0 ? gw_bg_find(b, i == 0 ? GW_BS_LLM : GW_BS_APP, ids[i], 0) : NULL;
        if (s == NULL)
            continue;
        s->reserved -= t->reserved;
        if (s->reserved < 0)
            s->reserved = 0; /* rounding noise */
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
        if (!(ev->est_cost > 0) || !isfinite(ev->est_cost))
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
