/*
 * src/sync/edge_lease.c: an edge's budget leases (see edge_lease.h).
 */
#include "sync/edge_lease.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/sql.h"

static void gw_lease_today_utc(char out[GW_BUDGET_DATE_LEN])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, GW_BUDGET_DATE_LEN, "%Y-%m-%d", &tm);
}

static const char *gw_lease_subject(int kind)
{
    return kind == GW_BUDGET_APP ? "app" : "llm";
}

/* The headroom asked for: a part of the budget (at least 1 nano). */
static int64_t gw_lease_want(gw_money configured)
{
    int64_t n = gw_money_nanos_ceil(configured) / GW_LEASE_WANT_DIV;
    return n > 0 ? n : 1;
}

static int64_t gw_lease_nanos(gw_money m)
{
    return gw_money_nanos_ceil(m < 0 ? 0 : m);
}

void gw_edge_leases_init(gw_edge_leases *l, gw_edge_rpc *rpc, gw_pgpool *pool)
{
    pthread_condattr_t ca;
    memset(l, 0, sizeof(*l));
    l->rpc = rpc;
    l->pool = pool;
    l->today = gw_lease_today_utc;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
}

void gw_edge_leases_destroy(gw_edge_leases *l)
{
    free(l->items);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

/* The current lease of a subject (lock held), or NULL. */
static gw_edge_lease *gw_lease_find(gw_edge_leases *l, int kind, int64_t id, const char *today)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].kind == kind && l->items[i].id == id && strcmp(l->items[i].period_end, today) >= 0)
            return &l->items[i];
    return NULL;
}

/* Adds or replaces a subject's lease (lock held). */
static void gw_lease_put(gw_edge_leases *l, const gw_edge_lease *x)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].kind == x->kind && l->items[i].id == x->id) {
            l->items[i] = *x;
            return;
        }
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap == 0 ? 16 : l->cap * 2;
        gw_edge_lease *p = realloc(l->items, ncap * sizeof(*p));
        if (p == NULL)
            return; /* not kept: asked for again */
        l->items = p;
        l->cap = ncap;
    }
    l->items[l->n++] = *x;
}

/* Keeps a grant in the edge's database (it survives a restart). */
static int gw_lease_store(gw_edge_leases *l, const gw_edge_lease *x)
{
    char id[24], granted[24], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[5] = {gw_lease_subject(x->kind), id, x->period_start, x->period_end, granted};
    PGresult *res;
    if (!x->has_budget)
        return 0;
    snprintf(id, sizeof(id), "%" PRId64, x->id);
    snprintf(granted, sizeof(granted), "%" PRId64, x->granted);
    if (gw_pgpool_exec(l->pool, GW_SQL_EDGE_STORE_LEASE, 5, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate,
                       err) != 0) {
        gw_log_warn("sync: cannot keep the lease of %s %" PRId64 " in the edge's database: %s",
                    gw_lease_subject(x->kind), x->id, err);
        return -1;
    }
    PQclear(res);
    return 0;
}

/* The leases kept in the edge's database (once). */
static void gw_lease_load_stored(gw_edge_leases *l)
{
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    PGresult *res;
    if (gw_pgpool_exec(l->pool, GW_SQL_EDGE_STORED_LEASES, 0, NULL, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate,
                       err) != 0) {
        gw_log_debug("sync: cannot read the stored leases: %s", err);
        return;
    }
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < PQntuples(res); i++) {
        gw_edge_lease x;
        memset(&x, 0, sizeof(x));
        x.kind = strcmp(PQgetvalue(res, i, 0), "app") == 0 ? GW_BUDGET_APP : GW_BUDGET_LLM;
        x.id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        snprintf(x.period_start, sizeof(x.period_start), "%s", PQgetvalue(res, i, 2));
        snprintf(x.period_end, sizeof(x.period_end), "%s", PQgetvalue(res, i, 3));
        x.granted = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        x.headroom_at_grant = x.granted - strtoll(PQgetvalue(res, i, 5), NULL, 10);
        x.has_budget = 1;
        gw_lease_put(l, &x);
    }
    l->stored_loaded = 1;
    pthread_mutex_unlock(&l->mu);
    if (PQntuples(res) > 0)
        gw_log_info("sync: %d budget lease(s) read from the edge's database", PQntuples(res));
    PQclear(res);
}

/* One Lease call; 0 and *x updated, -1 with err. */
static int gw_lease_call(gw_edge_leases *l, int op, gw_edge_lease *x, int64_t want, int64_t spent, char err[GW_ERR_LEN])
{
    Aistudio__V1__LeaseRequest rq = AISTUDIO__V1__LEASE_REQUEST__INIT;
    Aistudio__V1__LeaseResponse *rs;
    gw_rpc_reply reply;

    rq.op = op;
    rq.subject = x->kind == GW_BUDGET_APP ? AISTUDIO__V1__LEASE_REQUEST__SUBJECT__APP
                                          : AISTUDIO__V1__LEASE_REQUEST__SUBJECT__LLM;
    rq.subject_id = x->id;
    rq.want_nanos = want;
    rq.spent_nanos = spent;
    if (gw_edge_rpc_call(l->rpc, GW_SYNC_M_LEASE, &rq.base, GW_LEASE_TIMEOUT_MS, &reply) != 0) {
        gw_errf(err, "%s %s", gw_rpc_status_name(reply.status), reply.message);
        gw_rpc_reply_clear(&reply);
        atomic_fetch_add(&l->failures, 1);
        return -1;
    }
    rs = aistudio__v1__lease_response__unpack(NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (rs == NULL || strlen(rs->period_start) != 10 || strlen(rs->period_end) != 10 || rs->granted_nanos < 0) {
        if (rs != NULL)
            aistudio__v1__lease_response__free_unpacked(rs, NULL);
        atomic_fetch_add(&l->failures, 1);
        return gw_errf(err, "the hub answered with a malformed LeaseResponse");
    }
    x->has_budget = rs->has_budget;
    x->granted = rs->has_budget ? rs->granted_nanos : 0;
    snprintf(x->period_start, sizeof(x->period_start), "%s", rs->period_start);
    snprintf(x->period_end, sizeof(x->period_end), "%s", rs->period_end);
    aistudio__v1__lease_response__free_unpacked(rs, NULL);
    return 0;
}

/* The edge's own spend of the lease's period. */
static int gw_lease_local_spend(gw_edge_leases *l, const gw_edge_lease *x, gw_money *spent, char err[GW_ERR_LEN])
{
    char id[24], sqlstate[GW_SQLSTATE_LEN];
    const char *params[4] = {gw_lease_subject(x->kind), id, x->period_start, x->period_end};
    PGresult *res;
    snprintf(id, sizeof(id), "%" PRId64, x->id);
    if (gw_pgpool_exec(l->pool, GW_SQL_EDGE_LOCAL_SPEND, 4, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate,
                       err) != 0)
        return -1;
    *spent = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? gw_money_parse(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return 0;
}

static gw_money gw_lease_limit(const gw_edge_lease *x)
{
    return x->has_budget ? (gw_money)x->granted * GW_MONEY_PER_NANO : GW_MONEY_MAX;
}

int gw_edge_leases_source(void *ctx, int kind, int64_t id, gw_money configured, char period_end[GW_BUDGET_DATE_LEN],
                          gw_money *spent, gw_money *limit, char err[GW_ERR_LEN])
{
    gw_edge_leases *l = ctx;
    char today[GW_BUDGET_DATE_LEN], cerr[GW_ERR_LEN];
    gw_edge_lease x, *cur;
    int found = 0;

    l->today(today);
    if (!l->stored_loaded)
        gw_lease_load_stored(l);
    pthread_mutex_lock(&l->mu);
    cur = gw_lease_find(l, kind, id, today);
    if (cur != NULL) {
        x = *cur;
        found = 1;
    }
    pthread_mutex_unlock(&l->mu);
    if (!found) {
        /* the first use of this subject in this period: a lease now */
        memset(&x, 0, sizeof(x));
        x.kind = kind;
        x.id = id;
        if (gw_lease_call(l, AISTUDIO__V1__LEASE_REQUEST__OP__ACQUIRE, &x, gw_lease_want(configured), 0, cerr) != 0)
            return gw_errf(err, "no budget lease for %s %" PRId64 " and the hub cannot grant one: %s",
                           gw_lease_subject(kind), id, cerr);
        atomic_fetch_add(&l->acquires, 1);
        if (gw_lease_store(l, &x) != 0)
            return gw_errf(err, "the lease of %s %" PRId64 " cannot be kept in the edge's database",
                           gw_lease_subject(kind), id);
        x.headroom_at_grant = x.granted; /* corrected by the first renewal check */
        pthread_mutex_lock(&l->mu);
        gw_lease_put(l, &x);
        pthread_mutex_unlock(&l->mu);
        gw_log_info("sync: lease of %s %" PRId64 " acquired: %" PRId64 " nanos until %s%s", gw_lease_subject(kind), id,
                    x.granted, x.period_end, x.has_budget ? "" : " (no budget on the hub)");
    }
    if (gw_lease_local_spend(l, &x, spent, err) != 0)
        return -1;
    snprintf(period_end, GW_BUDGET_DATE_LEN, "%s", x.period_end);
    *limit = gw_lease_limit(&x);
    return 0;
}

void gw_edge_leases_renew_apps(gw_edge_leases *l, const int64_t *ids, size_t n, int all)
{
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].kind != GW_BUDGET_APP && !all)
            continue;
        for (size_t k = 0; k < n && !all && !l->items[i].renew; k++)
            if (l->items[i].id == ids[k])
                l->items[i].renew = 1;
        if (all)
            l->items[i].renew = 1;
        l->items[i].next_try_ms = 0;
    }
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* One pass over the leases: renews those running low. */
static void gw_lease_check(gw_edge_leases *l)
{
    char today[GW_BUDGET_DATE_LEN], err[GW_ERR_LEN];
    gw_edge_lease *copy;
    size_t n;
    int64_t now = gw_now_ms();

    l->today(today);
    pthread_mutex_lock(&l->mu);
    /* leases of past periods are done */
    for (size_t i = 0; i < l->n;) {
        if (strcmp(l->items[i].period_end, today) < 0)
            l->items[i] = l->items[--l->n];
        else
            i++;
    }
    n = l->n;
    copy = n > 0 ? malloc(n * sizeof(*copy)) : NULL;
    if (copy != NULL)
        memcpy(copy, l->items, n * sizeof(*copy));
    pthread_mutex_unlock(&l->mu);
    if (copy == NULL)
        return;

    for (size_t i = 0; i < n; i++) {
        gw_edge_lease x = copy[i];
        gw_budget_usage u;
        int64_t used, headroom, before;
        if (now < x.next_try_ms || gw_budget_usage_get(l->budget, x.kind, x.id, &u) != 0)
            continue;
        used = gw_lease_nanos(u.spent + u.reserved);
        headroom = x.granted - used;
        if (!x.renew && u.refused == 0 && (!x.has_budget || headroom * 2 >= x.headroom_at_grant))
            continue;
        before = x.granted;
        x.renew = 0;
        if (gw_lease_call(l, AISTUDIO__V1__LEASE_REQUEST__OP__RENEW, &x, gw_lease_want(u.configured),
                          gw_lease_nanos(u.spent), err) != 0) {
            gw_log_debug("sync: lease of %s %" PRId64 " not renewed: %s", gw_lease_subject(x.kind), x.id, err);
            x = copy[i];
            x.next_try_ms = now + GW_LEASE_RETRY_MS;
        } else {
            atomic_fetch_add(&l->renewals, 1);
            if (gw_lease_store(l, &x) != 0) {
                x = copy[i]; /* not kept: not used */
                x.next_try_ms = now + GW_LEASE_RETRY_MS;
            } else {
                x.headroom_at_grant = x.granted - used > 0 ? x.granted - used : 0;
                /* the hub had nothing more: do not ask again at once */
                x.next_try_ms = x.granted > before ? 0 : now + GW_LEASE_RETRY_MS;
                gw_budget_set_limit(l->budget, x.kind, x.id, gw_lease_limit(&x));
                if (x.granted != before)
                    gw_log_debug("sync: lease of %s %" PRId64 " renewed: %" PRId64 " nanos (was %" PRId64 ")",
                                 gw_lease_subject(x.kind), x.id, x.granted, before);
            }
        }
        pthread_mutex_lock(&l->mu);
        for (size_t k = 0; k < l->n; k++)
            if (l->items[k].kind == x.kind && l->items[k].id == x.id) {
                x.renew = x.renew || l->items[k].renew != copy[i].renew; /* asked again meanwhile */
                l->items[k] = x;
            }
        pthread_mutex_unlock(&l->mu);
    }
    free(copy);
}

/* A clean stop: what each lease did not spend goes back to the hub. */
static void gw_lease_give_back(gw_edge_leases *l)
{
    char err[GW_ERR_LEN];
    size_t n;
    gw_edge_lease *copy;

    pthread_mutex_lock(&l->mu);
    n = l->n;
    copy = n > 0 ? malloc(n * sizeof(*copy)) : NULL;
    if (copy != NULL)
        memcpy(copy, l->items, n * sizeof(*copy));
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; copy != NULL && i < n; i++) {
        gw_edge_lease x = copy[i];
        gw_budget_usage u;
        if (!x.has_budget || gw_budget_usage_get(l->budget, x.kind, x.id, &u) != 0)
            continue;
        if (gw_lease_call(l, AISTUDIO__V1__LEASE_REQUEST__OP__RETURN, &x, 0, gw_lease_nanos(u.spent + u.reserved),
                          err) != 0) {
            gw_log_info("sync: lease of %s %" PRId64 " kept (the hub cannot take it back now): %s",
                        gw_lease_subject(x.kind), x.id, err);
            continue;
        }
        atomic_fetch_add(&l->returns, 1);
        gw_lease_store(l, &x);
    }
    free(copy);
}

static void *gw_lease_main(void *arg)
{
    gw_edge_leases *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += GW_LEASE_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->mu);
        gw_lease_check(l);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int gw_edge_leases_start(gw_edge_leases *l, gw_budget *budget, char err[GW_ERR_LEN])
{
    l->budget = budget;
    if (pthread_create(&l->thread, NULL, gw_lease_main, l) != 0)
        return gw_errf(err, "cannot start the lease thread");
    l->running = 1;
    return 0;
}

void gw_edge_leases_stop(gw_edge_leases *l, int give_back)
{
    if (!l->running)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->running = 0;
    if (give_back)
        gw_lease_give_back(l);
}
