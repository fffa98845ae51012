/*
 * src/notify/alerts.c: the alert delivery thread (see alerts.h).
 *
 * Threading: one thread does everything: it waits on a condition variable
 * (poll_ms, or until gw_alerts_stop signals it), claims up to
 * GW_ALERTS_BATCH deliveries, sends them one after the other and finishes
 * each. The claim's lease covers the whole batch (every attempt is bounded
 * by timeout_ms), so a delivery is not taken over while this thread still
 * works on it. A stop sets `stop`, which also aborts the attempt in
 * progress (send.c's progress callback); its delivery stays claimed until
 * the lease runs out and is then retried. Secrets live in the claim's
 * PGresult only and are wiped before it is freed.
 */
#include "notify/alerts.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/secretbox.h"
#include "db/sql.h"
#include "notify/send.h"

#define GW_ALERTS_BATCH 10
#define GW_ALERTS_WORKER_LEN 128

struct gw_alerts {
    gw_alerts_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    char worker[GW_ALERTS_WORKER_LEN]; /* claimed_by */
    char last_error[GW_ERR_LEN];       /* the last claim error logged (to log changes only) */
};

/* Reports one attempt; a failure to report is logged (the lease expires and
 * the delivery is tried again, at most one extra time). */
static void gw_alerts_finish(gw_alerts *a, const char *id, int ok, const gw_notify_result *r)
{
    char status[24], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[5];
    PGresult *res;

    snprintf(status, sizeof(status), "%ld", r->status);
    params[0] = id;
    params[1] = a->worker;
    params[2] = ok ? "true" : "false";
    params[3] = r->status > 0 ? status : NULL;
    params[4] = ok ? NULL : r->error;
    if (gw_pgpool_exec(a->o.pool, GW_SQL_FINISH_ALERT, 5, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        gw_log_warn("alerts: delivery %s: its outcome could not be recorded (SQLSTATE %s): %s", id, sqlstate, err);
        return;
    }
    if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "failed") == 0)
        gw_log_warn("alerts: delivery %s failed for good: %s", id, r->error);
    else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "stale") == 0)
        gw_log_warn("alerts: delivery %s was taken over by another gatewayd (its lease ran out)", id);
    PQclear(res);
}

/* The value of a column, NULL when it is SQL NULL. */
static const char *gw_alerts_col(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Claims the due deliveries and sends them; the number sent, -1 when the
 * claim failed. */
static int gw_alerts_round(gw_alerts *a)
{
    char batch[16], lease[16], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[3] = {a->worker, batch, lease};
    PGresult *res;
    int n;

    snprintf(batch, sizeof(batch), "%d", GW_ALERTS_BATCH);
    /* every attempt of the batch fits in the lease, with a margin */
    snprintf(lease, sizeof(lease), "%d", (int)((int64_t)GW_ALERTS_BATCH * a->o.timeout_ms / 1000 + 30));
    if (gw_pgpool_exec(a->o.pool, GW_SQL_CLAIM_ALERTS, 3, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        char msg[GW_ERR_LEN];
        snprintf(msg, sizeof(msg), "SQLSTATE %s: %.200s", sqlstate, err);
        if (strcmp(msg, a->last_error) != 0) {
            gw_log_warn("alerts: cannot claim deliveries (%s); retrying every %d ms", msg, a->o.poll_ms);
            snprintf(a->last_error, sizeof(a->last_error), "%s", msg);
        }
        return -1;
    }
    a->last_error[0] = '\0';
    n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        gw_notify_msg m;
        gw_notify_result r;
        const char *id = PQgetvalue(res, i, 0);
        int ok;

        memset(&m, 0, sizeof(m));
        m.delivery_id = strtoll(id, NULL, 10);
        m.kind = gw_alerts_col(res, i, 2);
        m.url = gw_alerts_col(res, i, 3);
        m.secret = gw_alerts_col(res, i, 4);
        m.mail_from = gw_alerts_col(res, i, 5);
        m.mail_to = gw_alerts_col(res, i, 6);
        m.smtp_username = gw_alerts_col(res, i, 7);
        m.smtp_tls = gw_alerts_col(res, i, 8);
        m.subject = gw_alerts_col(res, i, 9);
        m.body = gw_alerts_col(res, i, 10);
        ok = gw_notify_send(&m, a->o.timeout_ms, &a->stop, &r) == 0;
        if (ok)
            gw_log_info("alerts: delivery %s (%s, attempt %s) sent", id, m.kind, PQgetvalue(res, i, 1));
        else
            gw_log_warn("alerts: delivery %s (%s, attempt %s) failed: %s", id, m.kind ? m.kind : "?",
                        PQgetvalue(res, i, 1), r.error);
        if (atomic_load(&a->stop) && !ok)
            break; /* cut by the shutdown: left to the lease */
        gw_alerts_finish(a, id, ok, &r);
    }
    /* the secrets are in this result only */
    for (int i = 0; i < n; i++)
        if (!PQgetisnull(res, i, 4))
            gw_secretbox_wipe(PQgetvalue(res, i, 4), (size_t)PQgetlength(res, i, 4));
    PQclear(res);
    return n;
}

static void *gw_alerts_main(void *arg)
{
    gw_alerts *a = arg;

    while (!atomic_load(&a->stop)) {
        struct timespec until;
        int n = gw_alerts_round(a);

        if (n == GW_ALERTS_BATCH)
            continue; /* more may be due */
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += a->o.poll_ms / 1000;
        until.tv_nsec += (long)(a->o.poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop) && pthread_cond_timedwait(&a->cv, &a->mu, &until) == 0)
            ;
        pthread_mutex_unlock(&a->mu);
    }
    return NULL;
}

int gw_alerts_start(const gw_alerts_opts *opts, gw_alerts **out, char err[GW_ERR_LEN])
{
    gw_alerts *a;
    char host[64] = "gatewayd";

    if (opts->pool == NULL || opts->poll_ms < 1 || opts->timeout_ms < 1)
        return gw_errf(err, "alerts: bad options");
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return gw_errf(err, "alerts: out of memory");
    a->o = *opts;
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "gatewayd");
    host[sizeof(host) - 1] = '\0';
    snprintf(a->worker, sizeof(a->worker), "%s:%ld", host, (long)getpid());
    atomic_init(&a->stop, 0);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->thread, NULL, gw_alerts_main, a) != 0) {
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return gw_errf(err, "alerts: cannot start the delivery thread");
    }
    gw_log_info("alerts: delivering budget alerts as %s (every %d ms)", a->worker, a->o.poll_ms);
    *out = a;
    return 0;
}

void gw_alerts_stop(gw_alerts *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    atomic_store(&a->stop, 1);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
