/*
 * src/db/listen.c: the configuration listener (see listen.h).
 *
 * Threading: one thread owns the LISTEN connection; it is the only writer
 * of *db_ok and the only caller of the reload callback. The callback
 * fetches through the pool, so a reload never blocks the LISTEN socket for
 * long. The wake pipe (non-blocking) interrupts poll() for stop and SIGHUP.
 */
#include "db/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "db/pgpool.h"
#include "db/sql.h"

#define GW_LISTEN_DEBOUNCE_MS 100
#define GW_LISTEN_RETRY_MIN_MS 1000
#define GW_LISTEN_RETRY_MAX_MS 30000
#define GW_LISTEN_BACKOFF_MIN_MS 100
#define GW_LISTEN_BACKOFF_MAX_MS 5000

/* Logs a reload error once until it changes (no log flood every second). */
static void gw_listen_log_error(gw_listener *l, const char *msg)
{
    if (strcmp(l->last_error, msg) != 0) {
        gw_log_error("snapshot: %s", msg);
        snprintf(l->last_error, sizeof(l->last_error), "%s", msg);
    }
}

/* Connects the LISTEN connection; NULL on failure (logged by the caller). */
static PGconn *gw_listen_connect(gw_listener *l, char *err)
{
    PGconn *conn = gw_pg_connect(l->o.conninfo, "gatewayd-listen", 0, 5, err);
    PGresult *r;
    if (conn == NULL)
        return NULL;
    /* A fixed statement: LISTEN takes no parameters and nothing is built. */
    r = PQexec(conn, GW_SQL_LISTEN_CONFIG);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        gw_pg_errmsg(r, conn, err);
        PQclear(r);
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    if (l->o.sync_channels) {
        r = PQexec(conn, GW_SQL_LISTEN_SYNC);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            gw_pg_errmsg(r, conn, err);
            PQclear(r);
            PQfinish(conn);
            return NULL;
        }
        PQclear(r);
    }
    return conn;
}

static void gw_listen_drain_pipe(gw_listener *l)
{
    char buf[64];
    while (read(l->wake_pipe[0], buf, sizeof(buf)) > 0)
        ;
}

static void gw_listen_changed(gw_listener *l)
{
    if (l->o.on_change != NULL)
        l->o.on_change(l->o.change_ctx);
}

static void *gw_listen_main(void *arg)
{
    gw_listener *l = arg;
    PGconn *conn = NULL;
    int backoff = GW_LISTEN_BACKOFF_MIN_MS;
    int retry_ms = GW_LISTEN_RETRY_MIN_MS;
    int was_connected = 0;
    int64_t next_connect = 0, reload_at = 0, next_check = 0;
    char err[GW_ERR_LEN];

    while (!atomic_load(&l->stop)) {
        int64_t now = gw_now_ms();
        int timeout = 1000;
        struct pollfd pfd[2];
        int nfds = 1;

        if (conn == NULL && now >= next_connect) {
            conn = gw_listen_connect(l, err);
            if (conn == NULL) {
                if (atomic_exchange(l->o.db_ok, 0) || !was_connected) {
                    if (was_connected)
                        gw_log_warn("database unreachable, retrying: %s", err);
                    else if (backoff == GW_LISTEN_BACKOFF_MIN_MS)
                        gw_log_warn("database unreachable at start-up, retrying in the background: %s", err);
                }
                next_connect = now + backoff;
                backoff = backoff * 2 > GW_LISTEN_BACKOFF_MAX_MS ? GW_LISTEN_BACKOFF_MAX_MS : backoff * 2;
            } else {
                gw_log_info("listening for configuration changes (aistudio_config%s)",
                            l->o.sync_channels ? ", aistudio_push, aistudio_edge, aistudio_invalidate" : "");
                atomic_store(l->o.db_ok, 1);
                backoff = GW_LISTEN_BACKOFF_MIN_MS;
                /* changes may have been missed while disconnected */
                if (was_connected) {
                    gw_listen_changed(l);
                    if (l->o.sync_channels)
                        l->o.notify(l->o.notify_ctx, NULL, NULL);
                }
                was_connected = 1;
                reload_at = now;
            }
        }
        if (atomic_exchange(&l->force, 0))
            reload_at = now;
        if (reload_at == 0 && now >= next_check && next_check != 0)
            reload_at = -1; /* periodic checksum check */

        if (reload_at != 0 && (reload_at < 0 || now >= reload_at)) {
            int force = reload_at > 0;
            if (l->o.loaded == NULL || !l->o.loaded(l->o.ctx))
                force = 1;
            if (l->o.reload(l->o.ctx, force, err) != 0) {
                if (atomic_load(l->o.db_ok))
                    gw_listen_log_error(l, err);
                else /* the outage itself is already logged */
                    gw_log_debug("snapshot: %s", err);
                /* retry soon, then less often (a missing extension must not
                 * flood the server log) */
                reload_at = now + retry_ms;
                retry_ms = retry_ms * 2 > GW_LISTEN_RETRY_MAX_MS ? GW_LISTEN_RETRY_MAX_MS : retry_ms * 2;
            } else {
                reload_at = 0;
                retry_ms = GW_LISTEN_RETRY_MIN_MS;
                l->last_error[0] = '\0';
            }
            next_check = now + (int64_t)l->o.refresh_s * 1000;
        }
        if (next_check == 0)
            next_check = now + (int64_t)l->o.refresh_s * 1000;

        pfd[0].fd = l->wake_pipe[0];
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
            gw_log_warn("configuration listener: poll: %s", strerror(errno));
        if (pfd[0].revents & POLLIN)
            gw_listen_drain_pipe(l);
        if (conn != NULL && nfds == 2 && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))) {
            PGnotify *n;
            int got = 0;
            if (PQconsumeInput(conn) == 0) {
                gw_pg_errmsg(NULL, conn, err);
                gw_log_warn("configuration listener lost its connection: %s", err);
                PQfinish(conn);
                conn = NULL;
                atomic_store(l->o.db_ok, 0);
                next_connect = gw_now_ms() + GW_LISTEN_BACKOFF_MIN_MS;
                continue;
            }
            while ((n = PQnotifies(conn)) != NULL) {
                if (l->o.sync_channels && strcmp(n->relname, "aistudio_config") != 0)
                    l->o.notify(l->o.notify_ctx, n->relname, n->extra != NULL ? n->extra : "");
                else
                    got = 1;
                PQfreemem(n);
            }
            if (got) {
                /* Drop what must not outlive the change now (a revoked key
                 * must stop working), reload once the burst ends. */
                gw_listen_changed(l);
                reload_at = gw_now_ms() + GW_LISTEN_DEBOUNCE_MS;
                gw_log_debug("configuration change notified");
            }
        }
    }
    if (conn != NULL)
        PQfinish(conn);
    atomic_store(l->o.db_ok, 0);
    return NULL;
}

int gw_listen_start(gw_listener *l, const gw_listen_opts *opts, char err[GW_ERR_LEN])
{
    memset(l, 0, sizeof(*l));
    if (opts->reload == NULL || opts->db_ok == NULL)
        return gw_errf(err, "configuration listener: missing reload callback or db_ok");
    if (opts->sync_channels && opts->notify == NULL)
        return gw_errf(err, "configuration listener: the control plane's channels need a notify callback");
    l->o = *opts;
    if (l->o.refresh_s <= 0)
        l->o.refresh_s = 60;
    if (pipe2(l->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return gw_errf(err, "pipe: %s", strerror(errno));
    atomic_store(&l->stop, 0);
    atomic_store(&l->force, 0);
    if (pthread_create(&l->thread, NULL, gw_listen_main, l) != 0) {
        close(l->wake_pipe[0]);
        close(l->wake_pipe[1]);
        return gw_errf(err, "cannot start the configuration listener thread");
    }
    l->running = 1;
    return 0;
}

void gw_listen_poke(gw_listener *l)
{
    ssize_t w;
    atomic_store(&l->force, 1);
    w = write(l->wake_pipe[1], "r", 1);
    (void)w;
}

void gw_listen_stop(gw_listener *l)
{
    ssize_t w;
    if (!l->running)
        return;
    atomic_store(&l->stop, 1);
    w = write(l->wake_pipe[1], "s", 1);
    (void)w;
    pthread_join(l->thread, NULL);
    close(l->wake_pipe[0]);
    close(l->wake_pipe[1]);
    l->running = 0;
}
