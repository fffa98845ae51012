/*
 * src/reload.c: the snapshot reload thread (see reload.h).
 *
 * Threading: one thread owns the LISTEN connection; it is the only writer of
 * srv->db_ok and the only caller of gw_snapshot_swap besides shutdown. The
 * snapshot itself is fetched through the pool, so a reload never blocks the
 * LISTEN socket for long. The wake pipe (non-blocking) interrupts poll()
 * for stop and SIGHUP.
 */
#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "gateway/chat.h"

#define GW_RELOAD_DEBOUNCE_MS 100
#define GW_RELOAD_RETRY_MIN_MS 1000
#define GW_RELOAD_RETRY_MAX_MS 30000
#define GW_LISTEN_BACKOFF_MIN_MS 100
#define GW_LISTEN_BACKOFF_MAX_MS 5000

/* The snapshot, its checksum, and the checksum of the bytes by the
 * extension's one implementation of the rule (the way an edge verifies). */
static const char *const gw_sql_snapshot =
    "SELECT x.s, x.c, aistudio.snapshot_checksum_of(x.s) FROM "
    "(SELECT aistudio.snapshot($1::text) AS s, aistudio.snapshot_checksum($1::text) AS c) x";
static const char *const gw_sql_checksum = "SELECT aistudio.snapshot_checksum($1::text)";

/* Logs a load error once until it changes (no log flood every second). */
static void gw_reload_log_error(gw_server *srv, const char *msg)
{
    if (strcmp(srv->reloader.last_error, msg) != 0) {
        gw_log_error("snapshot: %s", msg);
        snprintf(srv->reloader.last_error, sizeof(srv->reloader.last_error), "%s", msg);
    }
}

static int gw_reload_query_error(gw_server *srv, const char *sqlstate, const char *msg, char *err)
{
    if (strcmp(sqlstate, "42883") == 0 || strcmp(sqlstate, "3F000") == 0)
        gw_errf(err, "aistudio.snapshot() is missing (is the pg_aistudio extension installed?): %s", msg);
    else if (strcmp(sqlstate, "42501") == 0)
        gw_errf(err, "the gateway's database role may not call aistudio.snapshot() (grant aistudio_gateway): %s", msg);
    else
        gw_errf(err, "cannot fetch the snapshot (SQLSTATE %s): %s", sqlstate, msg);
    (void)srv;
    return -1;
}

int gw_reload_snapshot(gw_server *srv, int force, int *changed, char err[GW_ERR_LEN])
{
    const char *params[1] = {srv->cfg.edge_namespace};
    char sqlstate[GW_SQLSTATE_LEN], qerr[GW_ERR_LEN];
    PGresult *res;
    gw_snapshot *cur, *next;
    const uint8_t *bytes;
    const char *checksum, *verified;
    size_t len;
    int key_errors = 0;

    *changed = 0;
    cur = gw_snapshot_current(&srv->snapshots);
    if (!force && cur != NULL) {
        int same = 0;
        if (gw_pgpool_exec(srv->pool, gw_sql_checksum, 1, params, NULL, NULL, 0, GW_PG_IDEMPOTENT, &res, sqlstate,
                           qerr) != 0) {
            gw_snapshot_release(cur);
            return gw_reload_query_error(srv, sqlstate, qerr, err);
        }
        same = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
               strcmp(PQgetvalue(res, 0, 0), gw_snapshot_checksum(cur)) == 0;
        PQclear(res);
        if (same) {
            gw_snapshot_release(cur);
            return 0;
        }
    }
    gw_snapshot_release(cur);

    if (gw_pgpool_exec(srv->pool, gw_sql_snapshot, 1, params, NULL, NULL, 1, GW_PG_IDEMPOTENT, &res, sqlstate, qerr) !=
        0)
        return gw_reload_query_error(srv, sqlstate, qerr, err);
    if (PQntuples(res) != 1 || PQnfields(res) != 3 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return gw_errf(err, "aistudio.snapshot() returned no snapshot");
    }
    bytes = (const uint8_t *)PQgetvalue(res, 0, 0);
    len = (size_t)PQgetlength(res, 0, 0);
    checksum = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1);
    verified = PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2);

    if (gw_snapshot_build(bytes, len, checksum, srv->cfg.have_secret_key ? &srv->cfg.secret_key : NULL,
                          srv->cfg.have_secret_key ? 1 : 0, &next, &key_errors, err) != 0) {
        PQclear(res);
        return -1;
    }
    /* A mismatch is reported, not fatal (snapshot and checksum come from
     * the same database in one statement). */
    if (strcmp(verified, checksum) != 0 && strcmp(srv->reloader.last_mismatch, checksum) != 0) {
        gw_log_warn("snapshot: checksum (%.16s…) differs from the checksum of the snapshot's bytes (%.16s…)",
                    checksum, verified);
        snprintf(srv->reloader.last_mismatch, sizeof(srv->reloader.last_mismatch), "%s", checksum);
    }
    PQclear(res);

    for (size_t i = 0; i < gw_snapshot_llm_count(next); i++) {
        const gw_llm *l = gw_snapshot_llm_at(next, i);
        if (l->key_state == GW_KEY_UNAVAILABLE)
            gw_log_warn("snapshot: llm '%s': vendor key unavailable: %s", l->slug, l->key_error);
    }
    gw_log_info("snapshot loaded: namespace '%s', checksum %.16s, %zu llms, %zu apps%s", srv->cfg.edge_namespace,
                gw_snapshot_checksum(next), gw_snapshot_llm_count(next), gw_snapshot_app_count(next),
                key_errors > 0 ? " (some vendor keys unavailable)" : "");
    gw_snapshot_swap(&srv->snapshots, next);
    atomic_fetch_add(&srv->snapshot_loads, 1);
    srv->reloader.last_error[0] = '\0';
    *changed = 1;
    return 0;
}

/* Connects the LISTEN connection; NULL on failure (logged by the caller). */
static PGconn *gw_reload_listen_connect(gw_server *srv, char *err)
{
    PGconn *conn = gw_pg_connect(srv->cfg.database_url, "gatewayd-listen", 0, 5, err);
    PGresult *r;
    if (conn == NULL)
        return NULL;
    /* A fixed statement: LISTEN takes no parameters and nothing is built. */
    r = PQexec(conn, "LISTEN aistudio_config");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        gw_pg_errmsg(r, conn, err);
        PQclear(r);
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    return conn;
}

static void gw_reload_drain_pipe(gw_server *srv)
{
    char buf[64];
    while (read(srv->reloader.wake_pipe[0], buf, sizeof(buf)) > 0)
        ;
}

static void *gw_reload_main(void *arg)
{
    gw_server *srv = arg;
    gw_reloader *rl = &srv->reloader;
    PGconn *conn = NULL;
    int backoff = GW_LISTEN_BACKOFF_MIN_MS;
    int retry_ms = GW_RELOAD_RETRY_MIN_MS;
    int was_connected = 0;
    int64_t next_connect = 0, reload_at = 0, next_check = 0;
    char err[GW_ERR_LEN];

    while (!atomic_load(&rl->stop)) {
        int64_t now = gw_now_ms();
        int timeout = 1000;
        struct pollfd pfd[2];
        int nfds = 1;

        if (conn == NULL && now >= next_connect) {
            conn = gw_reload_listen_connect(srv, err);
            if (conn == NULL) {
                if (atomic_exchange(&srv->db_ok, 0) || !was_connected) {
                    if (was_connected)
                        gw_log_warn("database unreachable, retrying: %s", err);
                    else if (backoff == GW_LISTEN_BACKOFF_MIN_MS)
                        gw_log_warn("database unreachable at start-up, retrying in the background: %s", err);
                }
                next_connect = now + backoff;
                backoff = backoff * 2 > GW_LISTEN_BACKOFF_MAX_MS ? GW_LISTEN_BACKOFF_MAX_MS : backoff * 2;
            } else {
                gw_log_info("listening for configuration changes (aistudio_config)");
                atomic_store(&srv->db_ok, 1);
                backoff = GW_LISTEN_BACKOFF_MIN_MS;
                /* changes may have been missed while disconnected */
                if (was_connected) {
                    gw_credcache_invalidate_all(srv->creds);
                    gw_chat_invalidate();
                }
                was_connected = 1;
                reload_at = now;
            }
        }
        if (atomic_exchange(&rl->force, 0))
            reload_at = now;
        if (reload_at == 0 && now >= next_check && next_check != 0)
            reload_at = -1; /* periodic checksum check */

        if (reload_at != 0 && (reload_at < 0 || now >= reload_at)) {
            int changed = 0, force = reload_at > 0;
            gw_snapshot *cur = gw_snapshot_current(&srv->snapshots);
            if (cur == NULL)
                force = 1;
            gw_snapshot_release(cur);
            if (gw_reload_snapshot(srv, force, &changed, err) != 0) {
                if (atomic_load(&srv->db_ok))
                    gw_reload_log_error(srv, err);
                else /* the outage itself is already logged */
                    gw_log_debug("snapshot: %s", err);
                /* retry soon, then less often (a missing extension must not
                 * flood the server log) */
                reload_at = now + retry_ms;
                retry_ms = retry_ms * 2 > GW_RELOAD_RETRY_MAX_MS ? GW_RELOAD_RETRY_MAX_MS : retry_ms * 2;
            } else {
                reload_at = 0;
                retry_ms = GW_RELOAD_RETRY_MIN_MS;
            }
            next_check = now + (int64_t)srv->cfg.snapshot_refresh_s * 1000;
        }
        if (next_check == 0)
            next_check = now + (int64_t)srv->cfg.snapshot_refresh_s * 1000;

        pfd[0].fd = rl->wake_pipe[0];
        pfd[0].events = POLLIN;
        if (conn != NULL) {
            pfd[1].fd = PQsocket(conn);
            pfd[1].events = POLLIN;
            nfds = 2;
        }
        if (reload_at > 0) {
            int64_t d = reload_at - gw_now_ms();
            timeout = d < 0 ? 0 : (d < timeout ? (int)d : timeout);
        }
        if (poll(pfd, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
            gw_log_warn("reload thread: poll: %s", strerror(errno));
        if (pfd[0].revents & POLLIN)
            gw_reload_drain_pipe(srv);
        if (conn != NULL && nfds == 2 && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))) {
            PGnotify *n;
            int got = 0;
            if (PQconsumeInput(conn) == 0) {
                gw_pg_errmsg(NULL, conn, err);
                gw_log_warn("configuration listener lost its connection: %s", err);
                PQfinish(conn);
                conn = NULL;
                atomic_store(&srv->db_ok, 0);
                next_connect = gw_now_ms() + GW_LISTEN_BACKOFF_MIN_MS;
                continue;
            }
            while ((n = PQnotifies(conn)) != NULL) {
                got = 1;
                PQfreemem(n);
            }
            if (got) {
                /* Drop cached credentials now (a revoked key must stop
                 * working), reload once the burst of notifications ends. */
                gw_credcache_invalidate_all(srv->creds);
                gw_chat_invalidate(); /* and the chat's answers of who may use which LLM */
                reload_at = gw_now_ms() + GW_RELOAD_DEBOUNCE_MS;
                gw_log_debug("configuration change notified");
            }
        }
    }
    if (conn != NULL)
        PQfinish(conn);
    atomic_store(&srv->db_ok, 0);
    return NULL;
}

int gw_reload_start(gw_server *srv, char err[GW_ERR_LEN])
{
    gw_reloader *rl = &srv->reloader;
    if (pipe2(rl->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return gw_errf(err, "pipe: %s", strerror(errno));
    atomic_store(&rl->stop, 0);
    if (pthread_create(&rl->thread, NULL, gw_reload_main, srv) != 0) {
        close(rl->wake_pipe[0]);
        close(rl->wake_pipe[1]);
        return gw_errf(err, "cannot start the reload thread");
    }
    rl->running = 1;
    return 0;
}

void gw_reload_poke(gw_server *srv)
{
    ssize_t w;
    atomic_store(&srv->reloader.force, 1);
    w = write(srv->reloader.wake_pipe[1], "r", 1);
    (void)w;
}

void gw_reload_stop(gw_server *srv)
{
    gw_reloader *rl = &srv->reloader;
    ssize_t w;
    if (!rl->running)
        return;
    atomic_store(&rl->stop, 1);
    w = write(rl->wake_pipe[1], "s", 1);
    (void)w;
    pthread_join(rl->thread, NULL);
    close(rl->wake_pipe[0]);
    close(rl->wake_pipe[1]);
    rl->running = 0;
}
