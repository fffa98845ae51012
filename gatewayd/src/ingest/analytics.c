/*
 * src/ingest/analytics.c: the analytics queue and its writer thread (see
 * analytics.h): a bounded ring of gw_event filled by request threads, one
 * writer thread that sends batches to PostgreSQL on its own connection
 * (BEGIN; COPY aistudio.interaction_staging FROM STDIN; SELECT ... FROM
 * aistudio.ingest_staged(); COMMIT), spools a batch it cannot deliver, and
 * replays the spool whenever the database is reachable.
 *
 * Locking protocol: a->mu guards the ring (head, count), stopping and
 * closed; request threads hold it only to copy one event in. The writer
 * takes events out under it and does all I/O without it. Once the writer
 * has emptied the ring for the last time it sets closed, after which
 * gw_analytics_record goes straight to the spool. Counters are atomics.
 * The spool has its own lock (spool.h).
 *
 * Failures: a batch that fails for a data reason (SQLSTATE class 22/23:
 * should not happen, values are sanitized) is split in halves down to
 * single events, and an event the database still refuses is dropped with
 * an error log, so one bad event never blocks the rest. Any other failure
 * (connection lost, server shutting down, missing privilege) is transient:
 * the batch goes to the spool (or, without a usable spool, is retried in
 * memory while new events pile up in the queue) and the writer reconnects
 * with exponential backoff (100 ms to 2 s). A COMMIT whose answer was lost
 * leaves the batch spooled and re-sent: the database counts it as duplicates.
 *
 * Journal slots (journal.h): an event that holds one gives it back (with
 * gw_journal_release) only once it is durable: after the COMMIT of its
 * batch, after its spool write, or when it is counted dropped; never
 * earlier, so a crash in between finds it in the journal.
 */
#include "ingest/analytics.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "ingest/journal.h"
#include "base/log.h"
#include "db/pgpool.h"
#include "ingest/spool.h"
#include "db/sql.h"

#define GW_AN_BACKOFF_MIN_MS 100
#define GW_AN_BACKOFF_MAX_MS 2000
#define GW_AN_COPY_CHUNK (64 * 1024)
#define GW_AN_STATEMENT_TIMEOUT_MS 60000
#define GW_AN_DROP_WARN_MS 10000

enum { GW_AN_OK = 0, GW_AN_TRANSIENT = 1, GW_AN_DATA = 2 };

struct gw_analytics {
    char *database_url;
    int cap, batch_size, flush_ms;
    gw_analytics_commit_fn on_commit;
    void *ctx;
    gw_journal *journal; /* NULL: no journal */
    int edge_outbox;
    void (*on_record)(void *ctx, const gw_event *ev);
    void *record_ctx;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_event *ring;
    int head, count;
    int stopping, closed;
    int64_t deadline_ms; /* stop: give up on the database after this */
    pthread_t thread;

    gw_spool *spool; /* NULL: no spool */

    /* writer thread only */
    PGconn *conn;
    int64_t retry_at_ms;
    int backoff_ms;
    int db_down;
    gw_event *batch, *rbatch;
    unsigned char *before;
    int64_t *ends;
    gw_buf copy;

    atomic_llong recorded, written, duplicates, rejected, spooled, replayed, dropped, batches, db_errors;
    atomic_llong spool_found;
    atomic_llong drop_warn_at, drops_unwarned;
};


/* ---- COPY text encoding ---- */

/* Length of the valid UTF-8 sequence at s (0 when invalid). */
static size_t gw_an_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)) /* overlong, surrogate */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

/* A COPY text field: backslash escapes for \ and control characters,
 * invalid UTF-8 bytes replaced by '?' (the batch must never fail on them). */
static void gw_an_copy_text(gw_buf *b, const char *str, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strnlen(str, max);
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len;
        if (c == '\\') {
            gw_buf_append(b, "\\\\", 2);
            i++;
        } else if (c == '\n') {
            gw_buf_append(b, "\\n", 2);
            i++;
        } else if (c == '\r') {
            gw_buf_append(b, "\\r", 2);
            i++;
        } else if (c == '\t') {
            gw_buf_append(b, "\\t", 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            gw_buf_printf(b, "\\x%02x", c);
            i++;
        } else if ((len = gw_an_utf8_len(s + i)) == 0 || i + len > n) {
            gw_buf_append(b, "?", 1);
            i++;
        } else {
            gw_buf_append(b, s + i, len);
            i += len;
        }
    }
}

/* 1 when s is a UUID in canonical text form. */
static int gw_an_uuid_ok(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}

static void gw_an_copy_id(gw_buf *b, int64_t id)
{
    if (id == 0)
        gw_buf_append(b, "\\N\t", 3);
    else
        gw_buf_printf(b, "%" PRId64 "\t", id);
}

/* One row of the COPY (columns as in GW_SQL_COPY_EVENTS), newline-terminated. */
static void gw_an_copy_row(gw_buf *b, const gw_event *ev)
{
    struct tm tm;
    time_t secs = (time_t)(ev->ts_us / 1000000);
    int64_t us = ev->ts_us % 1000000;
    if (us < 0)
        us += 1000000, secs--;
    if (gmtime_r(&secs, &tm) != NULL && tm.tm_year + 1900 >= 1 && tm.tm_year + 1900 <= 9999)
        gw_buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00\t", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec, (int)us);
    else
        gw_buf_append(b, "\\N\t", 3); /* stored in ingest_rejects as "missing timestamp" */
    if (gw_an_uuid_ok(ev->request_id))
        gw_buf_printf(b, "%s\t", ev->request_id);
    else
        gw_buf_append(b, "\\N\t", 3); /* stored in ingest_rejects as "missing request_id" */
    gw_an_copy_id(b, ev->user_id);
    gw_an_copy_id(b, ev->app_id);
    gw_an_copy_id(b, ev->credential_id); /* the database moves the key's last_used_at */
    gw_an_copy_id(b, ev->llm_id);
    /* The extension accepts only its six vendors: an event without one
     * (refused before routing) is kept in ingest_rejects. */
    gw_an_copy_text(b, ev->vendor[0] != '\0' ? ev->vendor : "unknown", sizeof(ev->vendor));
    gw_buf_append(b, "\t", 1);
    gw_an_copy_text(b, ev->model, sizeof(ev->model));
    gw_buf_printf(b, "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%d\t%s\t%d\t", ev->prompt_tokens,
                  ev->response_tokens, ev->cache_write_tokens, ev->cache_read_tokens, (int)ev->latency_ms,
                  ev->interaction_type == GW_INTERACTION_CHAT ? "chat" : "proxy", (int)ev->status_code);
    gw_an_copy_text(b, ev->namespace_, sizeof(ev->namespace_));
    gw_buf_append(b, "\t\\N\t", 4); /* edge_id */
    if (ev->error[0] == '\0')
        gw_buf_append(b, "\\N", 2);
    else
        gw_an_copy_text(b, ev->error, sizeof(ev->error));
    /* the captured bodies (request_bodies), \N when none */
    if (ev->bodies == NULL) {
        gw_buf_append(b, "\t\\N\t\\N\t\\N\t\\N\n", 13);
        return;
    }
    gw_buf_append(b, "\t", 1);
    if (ev->bodies->request != NULL)
        gw_an_copy_text(b, ev->bodies->request, ev->bodies->request_len);
    else
        gw_buf_append(b, "\\N", 2);
    gw_buf_append(b, "\t", 1);
    if (ev->bodies->response != NULL)
        gw_an_copy_text(b, ev->bodies->response, ev->bodies->response_len);
    else
        gw_buf_append(b, "\\N", 2);
    gw_buf_printf(b, "\t%s\t%s\n", ev->bodies->request_truncated ? "t" : "f",
                  ev->bodies->response_truncated ? "t" : "f");
}

/* The bodies of ev[0..n) are done with (delivered, spooled without them, dropped). */
static void gw_an_free_bodies(gw_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        gw_event_bodies_free(ev[i].bodies);
        ev[i].bodies = NULL;
    }
}

/* ---- connection ---- */

static void gw_an_backoff(gw_analytics *a)
{
    a->backoff_ms = a->backoff_ms == 0 ? GW_AN_BACKOFF_MIN_MS : a->backoff_ms * 2;
    if (a->backoff_ms > GW_AN_BACKOFF_MAX_MS)
        a->backoff_ms = GW_AN_BACKOFF_MAX_MS;
    a->retry_at_ms = gw_now_ms() + a->backoff_ms;
}

static void gw_an_mark_down(gw_analytics *a, const char *why)
{
    if (!a->db_down)
        gw_log_warn("analytics: database unavailable, %s: %s", a->spool != NULL ? "spooling" : "holding events", why);
    a->db_down = 1;
    gw_an_backoff(a);
}

static void gw_an_disconnect(gw_analytics *a)
{
    if (a->conn != NULL) {
        PQfinish(a->conn);
        a->conn = NULL;
    }
}

/* 0 when a connection is ready; -1 during backoff or when connecting fails. */
static int gw_an_connect(gw_analytics *a)
{
    char err[GW_ERR_LEN];
    if (gw_now_ms() < a->retry_at_ms)
        return -1;
    if (a->conn != NULL && PQstatus(a->conn) == CONNECTION_OK)
        return 0;
    gw_an_disconnect(a);
    a->conn = gw_pg_connect(a->database_url, "gatewayd-analytics", GW_AN_STATEMENT_TIMEOUT_MS, 2, err);
    if (a->conn == NULL) {
        gw_an_mark_down(a, err);
        return -1;
    }
    if (PQsetClientEncoding(a->conn, "UTF8") != 0) {
        gw_pg_errmsg(NULL, a->conn, err);
        gw_an_disconnect(a);
        gw_an_mark_down(a, err);
        return -1;
    }
    if (a->edge_outbox) {
        PGresult *r = PQexec(a->conn, GW_SQL_EDGE_OUTBOX_ON); /* a fixed statement */
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            gw_pg_errmsg(r, a->conn, err);
            PQclear(r);
            gw_an_disconnect(a);
            gw_an_mark_down(a, err);
            return -1;
        }
        PQclear(r);
    }
    return 0;
}

/* Reads the remaining results of a command (ending a COPY IN left open). */
static void gw_an_drain(PGconn *conn)
{
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st == PGRES_COPY_IN && PQputCopyEnd(conn, "aborted") != 1)
            break;
        if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH || PQstatus(conn) != CONNECTION_OK)
            break;
    }
}

/* The connection broke in the middle of a batch. */
static int gw_an_broken(gw_analytics *a)
{
    char msg[GW_ERR_LEN];
    gw_pg_errmsg(NULL, a->conn, msg);
    atomic_fetch_add(&a->db_errors, 1);
    gw_an_disconnect(a);
    gw_an_mark_down(a, msg);
    return GW_AN_TRANSIENT;
}

/* Classifies a failed step; rolls back when the connection still works. */
static int gw_an_fail(gw_analytics *a, PGresult *res, const char *step)
{
    char state[GW_SQLSTATE_LEN], msg[GW_ERR_LEN];
    int kind;
    gw_pg_sqlstate(res, state);
    gw_pg_errmsg(res, a->conn, msg);
    if (res != NULL)
        PQclear(res);
    atomic_fetch_add(&a->db_errors, 1);
    if (PQstatus(a->conn) != CONNECTION_OK) {
        gw_an_disconnect(a);
        gw_an_mark_down(a, msg);
        return GW_AN_TRANSIENT;
    }
    gw_an_drain(a->conn);
    res = PQexecParams(a->conn, GW_SQL_ROLLBACK, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        gw_an_disconnect(a);
    PQclear(res);
    kind = (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) ? GW_AN_DATA : GW_AN_TRANSIENT;
    if (kind == GW_AN_TRANSIENT)
        gw_an_mark_down(a, msg);
    else
        gw_log_error("analytics: %s refused a batch (SQLSTATE %s): %s", step, state, msg);
    return kind;
}

/* Sends n events in one transaction; counts[3] = inserted, duplicates, rejected. */
static int gw_an_send(gw_analytics *a, const gw_event *ev, int n, int64_t counts[3])
{
    PGresult *res;
    if (a->conn == NULL)
        return GW_AN_TRANSIENT;
    res = PQexecParams(a->conn, GW_SQL_BEGIN, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return gw_an_fail(a, res, "BEGIN");
    PQclear(res);
    res = PQexecParams(a->conn, GW_SQL_COPY_EVENTS, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return gw_an_fail(a, res, "COPY");
    PQclear(res);
    gw_buf_reset(&a->copy);
    for (int i = 0; i < n; i++) {
        gw_an_copy_row(&a->copy, &ev[i]);
        if (a->copy.failed)
            gw_fatal("analytics: out of memory encoding a batch");
        if (a->copy.len >= GW_AN_COPY_CHUNK || i == n - 1) {
            if (PQputCopyData(a->conn, a->copy.data, (int)a->copy.len) != 1)
                return gw_an_broken(a);
            gw_buf_reset(&a->copy);
        }
    }
    if (PQputCopyEnd(a->conn, NULL) != 1)
        return gw_an_broken(a);
    res = PQgetResult(a->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return gw_an_fail(a, res, "COPY");
    PQclear(res);
    gw_an_drain(a->conn);
    res = PQexecParams(a->conn, GW_SQL_INGEST_STAGED, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 3)
        return gw_an_fail(a, res, "ingest_staged");
    for (int i = 0; i < 3; i++)
        counts[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
    PQclear(res);
    res = PQexecParams(a->conn, GW_SQL_COMMIT, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0)
        return gw_an_fail(a, res, "COMMIT");
    PQclear(res);
    if (a->db_down)
        gw_log_info("analytics: database reachable again");
    a->db_down = 0;
    a->backoff_ms = 0;
    return GW_AN_OK;
}

static void gw_an_count_drop(gw_analytics *a, int64_t n)
{
    int64_t now = gw_now_ms(), last;
    atomic_fetch_add(&a->dropped, n);
    atomic_fetch_add(&a->drops_unwarned, n);
    last = atomic_load(&a->drop_warn_at);
    if (now - last >= GW_AN_DROP_WARN_MS && atomic_compare_exchange_strong(&a->drop_warn_at, &last, now))
        gw_log_warn("analytics: %lld events dropped (queue and spool full or unusable)",
                    (long long)atomic_exchange(&a->drops_unwarned, 0));
}

/*
 * Sends ev[0..n), splitting on data errors. *done = how many leading events
 * are accounted for (committed, or dropped as refused); returns -1 when the
 * rest failed transiently.
 */
static int gw_an_deliver(gw_analytics *a, gw_event *ev, int n, int replay, int *done)
{
    int64_t counts[3];
    int rc, d1, d2, h;

    *done = 0;
    rc = gw_an_send(a, ev, n, counts);
    if (rc == GW_AN_OK) {
        if (counts[0] + counts[1] + counts[2] != n)
            gw_log_debug("analytics: batch of %d counted as %" PRId64 "+%" PRId64 "+%" PRId64, n, counts[0], counts[1],
                         counts[2]);
        atomic_fetch_add(&a->written, counts[0]);
        atomic_fetch_add(&a->duplicates, counts[1]);
        atomic_fetch_add(&a->rejected, counts[2]);
        atomic_fetch_add(&a->batches, 1);
        if (replay)
            atomic_fetch_add(&a->replayed, n);
        if (a->on_commit != NULL)
            a->on_commit(a->ctx, ev, n);
        gw_journal_release(a->journal, ev, n);
        *done = n;
        return 0;
    }
    if (rc == GW_AN_TRANSIENT)
        return -1;
    if (n == 1) {
        gw_log_error("analytics: event %s dropped: the database refuses it", ev->request_id);
        gw_an_count_drop(a, 1);
        gw_journal_release(a->journal, ev, 1);
        *done = 1;
        return 0;
    }
    h = n / 2;
    if (gw_an_deliver(a, ev, h, replay, &d1) != 0) {
        *done = d1;
        return -1;
    }
    if (gw_an_deliver(a, ev + h, n - h, replay, &d2) != 0) {
        *done = h + d2;
        return -1;
    }
    *done = n;
    return 0;
}

static int gw_an_past_deadline(gw_analytics *a)
{
    int past;
    pthread_mutex_lock(&a->mu);
    past = a->stopping && gw_now_ms() >= a->deadline_ms;
    pthread_mutex_unlock(&a->mu);
    return past;
}

/* Sleeps until the retry time (or a stop request). */
static void gw_an_wait_retry(gw_analytics *a)
{
    struct timespec ts;
    int64_t wake = a->retry_at_ms;
    pthread_mutex_lock(&a->mu);
    if (a->stopping && a->deadline_ms < wake)
        wake = a->deadline_ms;
    if (!a->stopping || gw_now_ms() < wake) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ms = wake - gw_now_ms();
        if (ms < 1)
            ms = 1;
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    }
    pthread_mutex_unlock(&a->mu);
}

/* A batch from the queue: the database, else the spool, else held and
 * retried (until the stop deadline, then dropped). */
static void gw_an_flush_once(gw_analytics *a, gw_event *ev, int n)
{
    char err[GW_ERR_LEN];
    int done;
    while (n > 0) {
        done = 0;
        if (!gw_an_past_deadline(a) && gw_an_connect(a) == 0 && gw_an_deliver(a, ev, n, 0, &done) == 0)
            return;
        ev += done, n -= done;
        if (a->spool != NULL) {
            if (gw_spool_append(a->spool, ev, n, 0, err) == n) {
                atomic_fetch_add(&a->spooled, n);
                gw_journal_release(a->journal, ev, n);
                return;
            }
            gw_log_warn("analytics: %s", err);
        }
        if (gw_an_past_deadline(a)) {
            gw_an_count_drop(a, n);
            gw_journal_release(a->journal, ev, n);
            return;
        }
        gw_an_wait_retry(a);
    }
}

/* gw_an_flush_once, then the batch's captured bodies are freed (the spool
 * does not keep them). */
static void gw_an_flush(gw_analytics *a, gw_event *ev, int n)
{
    gw_an_flush_once(a, ev, n);
    gw_an_free_bodies(ev, n);
}

/* One batch from the spool when the database is reachable. */
static void gw_an_replay(gw_analytics *a)
{
    char err[GW_ERR_LEN];
    int64_t end, lost = 0;
    int k, done = 0;

    if (a->spool == NULL || gw_spool_pending(a->spool) == 0 || gw_an_connect(a) != 0)
        return;
    k = gw_spool_read(a->spool, &end, a->rbatch, a->batch_size, a->before, a->ends, &lost);
    if (lost > 0)
        gw_an_count_drop(a, lost);
    /* An earlier run's costs were never in this process's budget counts. */
    for (int i = 0; i < k; i++)
        if (a->before[i])
            a->rbatch[i].est_cost = 0;
    if (k > 0 && gw_an_deliver(a, a->rbatch, k, 1, &done) != 0) {
        if (done > 0 && gw_spool_commit(a->spool, a->ends[done - 1], err) != 0)
            gw_log_warn("analytics: %s", err);
        return;
    }
    if (gw_spool_commit(a->spool, end, err) != 0)
        gw_log_warn("analytics: %s", err);
    else if (gw_spool_pending(a->spool) == 0 && k > 0)
        gw_log_info("analytics: spool replayed");
}

/*
 * Takes up to batch_size events out of the ring: waits for a full batch or
 * the flush interval (not at all when replay work waits). When stopping
 * and the ring is empty, closes it (returns 0 then).
 */
static int gw_an_take(gw_analytics *a, int replay_waits, int *stopping, int *closed)
{
    struct timespec ts;
    int n;

    pthread_mutex_lock(&a->mu);
    if (a->count < a->batch_size && !a->stopping && !replay_waits) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += a->flush_ms / 1000;
        ts.tv_nsec += (long)(a->flush_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000)
            ts.tv_sec++, ts.tv_nsec -= 1000000000;
        while (a->count < a->batch_size && !a->stopping)
            if (pthread_cond_timedwait(&a->cv, &a->mu, &ts) == ETIMEDOUT)
                break;
    }
    n = a->count < a->batch_size ? a->count : a->batch_size;
    for (int i = 0; i < n; i++) {
        a->batch[i] = a->ring[a->head];
        a->head = (a->head + 1) % a->cap;
    }
    a->count -= n;
    /* empty: the next event goes to the first slot again, so a steady load
     * keeps using the few slots (and pages) of its largest backlog instead
     * of walking through the whole ring (ANALYTICS_QUEUE_SIZE events, 44 MB
     * with the defaults) and making all of it resident */
    if (a->count == 0)
        a->head = 0;
    if (a->stopping && n == 0)
        a->closed = 1;
    *closed = a->closed;
    *stopping = a->stopping;
    pthread_mutex_unlock(&a->mu);
    return n;
}

static void *gw_an_writer(void *arg)
{
    gw_analytics *a = arg;
    int closed = 0, stopping = 0;
    while (!closed) {
        int replay_waits = a->spool != NULL && gw_now_ms() >= a->retry_at_ms && gw_spool_pending(a->spool) > 0;
        int n = gw_an_take(a, replay_waits, &stopping, &closed);
        if (n > 0)
            gw_an_flush(a, a->batch, n);
        /* one spooled batch per live batch: neither starves the other */
        if (!stopping && (replay_waits || n == 0))
            gw_an_replay(a);
        if (a->spool != NULL)
            gw_spool_sync_due(a->spool, 0);
    }
    if (a->spool != NULL)
        gw_spool_sync_due(a->spool, 1);
    gw_an_disconnect(a);
    return NULL;
}

/* ---- public ---- */

static void gw_an_free(gw_analytics *a)
{
    if (a == NULL)
        return;
    gw_spool_close(a->spool);
    gw_an_disconnect(a);
    gw_buf_free(&a->copy);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a->ring);
    free(a->batch);
    free(a->rbatch);
    free(a->before);
    free(a->ends);
    free(a->database_url);
    free(a);
}

int gw_analytics_start(const gw_analytics_opts *opts, gw_analytics_commit_fn on_commit, void *ctx, gw_analytics **out,
                       char err[GW_ERR_LEN])
{
    gw_analytics *a;
    pthread_condattr_t ca;
    int64_t found = 0;

    *out = NULL;
    if (opts->queue_size < 1)
        return gw_errf(err, "ANALYTICS_QUEUE_SIZE: must be at least 1");
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return gw_errf(err, "out of memory");
    a->cap = opts->queue_size;
    a->batch_size = opts->batch_size > 0 ? opts->batch_size : 2000;
    a->flush_ms = opts->flush_interval_ms > 0 ? opts->flush_interval_ms : 200;
    a->on_commit = on_commit;
    a->ctx = ctx;
    a->journal = opts->journal;
    a->edge_outbox = opts->edge_outbox;
    a->on_record = opts->on_record;
    a->record_ctx = opts->record_ctx;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    gw_buf_init(&a->copy, 0);
    a->database_url = strdup(opts->database_url != NULL ? opts->database_url : "");
    a->ring = calloc((size_t)a->cap, sizeof(gw_event));
    a->batch = calloc((size_t)a->batch_size, sizeof(gw_event));
    a->rbatch = calloc((size_t)a->batch_size, sizeof(gw_event));
    a->before = calloc((size_t)a->batch_size, 1);
    a->ends = calloc((size_t)a->batch_size, sizeof(int64_t));
    if (a->database_url == NULL || a->ring == NULL || a->batch == NULL || a->rbatch == NULL || a->before == NULL ||
        a->ends == NULL) {
        gw_an_free(a);
        return gw_errf(err, "out of memory");
    }
    if (opts->spool_dir != NULL && opts->spool_dir[0] != '\0' &&
        gw_spool_open(opts->spool_dir, opts->spool_max_bytes > 0 ? opts->spool_max_bytes : ((int64_t)1 << 30),
                      &a->spool, &found, err) != 0) {
        gw_an_free(a);
        return -1;
    }
    atomic_store(&a->spool_found, found);
    atomic_store(&a->drop_warn_at, gw_now_ms() - GW_AN_DROP_WARN_MS);
    if (pthread_create(&a->thread, NULL, gw_an_writer, a) != 0) {
        gw_an_free(a);
        return gw_errf(err, "analytics: cannot start the writer thread");
    }
    *out = a;
    return 0;
}

void gw_analytics_record(gw_analytics *a, const gw_event *ev)
{
    char err[GW_ERR_LEN];
    atomic_fetch_add_explicit(&a->recorded, 1, memory_order_relaxed);
    if (a->on_record != NULL)
        a->on_record(a->record_ctx, ev);
    pthread_mutex_lock(&a->mu);
    if (!a->closed && a->count < a->cap) {
        a->ring[(a->head + a->count) % a->cap] = *ev;
        if (++a->count == a->batch_size)
            pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        return;
    }
    pthread_mutex_unlock(&a->mu);
    gw_event_bodies_free(ev->bodies); /* the spool does not keep them */
    if (a->spool != NULL && gw_spool_append(a->spool, ev, 1, 0, err) == 1) {
        atomic_fetch_add(&a->spooled, 1);
        gw_journal_release(a->journal, ev, 1);
        return;
    }
    gw_an_count_drop(a, 1);
    gw_journal_release(a->journal, ev, 1);
}

void gw_analytics_stats_get(gw_analytics *a, gw_analytics_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->recorded = atomic_load(&a->recorded);
    out->written = atomic_load(&a->written);
    out->duplicates = atomic_load(&a->duplicates);
    out->rejected = atomic_load(&a->rejected);
    out->spooled = atomic_load(&a->spooled);
    out->replayed = atomic_load(&a->replayed);
    out->dropped = atomic_load(&a->dropped);
    out->batches = atomic_load(&a->batches);
    out->db_errors = atomic_load(&a->db_errors);
    out->spool_found = atomic_load(&a->spool_found);
    pthread_mutex_lock(&a->mu);
    out->queue_depth = a->count;
    pthread_mutex_unlock(&a->mu);
    if (a->spool != NULL) {
        out->spool_bytes = gw_spool_bytes(a->spool);
        out->spool_records = gw_spool_pending(a->spool);
    }
}

/* Stops the writer after draining; a stays readable (tests read the stats). */
static void gw_an_shutdown(gw_analytics *a, int drain_ms)
{
    pthread_mutex_lock(&a->mu);
    if (a->stopping) {
        pthread_mutex_unlock(&a->mu);
        return;
    }
    a->stopping = 1;
    a->deadline_ms = gw_now_ms() + (drain_ms > 0 ? drain_ms : 0);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
}

void gw_analytics_stop(gw_analytics *a, int drain_ms)
{
    gw_analytics_stats st;
    if (a == NULL)
        return;
    gw_an_shutdown(a, drain_ms);
    gw_analytics_stats_get(a, &st);
    gw_log_info("analytics stopped: recorded=%" PRId64 " written=%" PRId64 " duplicates=%" PRId64 " rejected=%" PRId64
                " spooled=%" PRId64 " replayed=%" PRId64 " dropped=%" PRId64 " spool_records=%" PRId64
                " spool_found=%" PRId64,
                st.recorded, st.written, st.duplicates, st.rejected, st.spooled, st.replayed, st.dropped,
                st.spool_records, st.spool_found);
    gw_an_free(a);
}
