/*
 * src/plugins/host.c: the plugin host: the instance table, configuration
 * changes, and each instance's supervisor thread (start, serve, restart).
 * The life of an instance and the locking protocol are in host.h.
 *
 * Replacing a plugin (its command, hook or configuration changed): the new
 * instance starts while the old one keeps serving (acquire falls back to
 * inst->prev); the new supervisor stops the old one once it serves itself,
 * or after PLUGIN_START_TIMEOUT_MS when it cannot start, so requests see no
 * gap on a change that works and the old configuration does not linger on
 * one that does not.
 */
#include "plugins/host.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/vjson.h"
#include "plugins/handshake.h"
#include "rpc/rpc.h"

#define GW_LINE_MAX 1024         /* a longer line of plugin output is logged in pieces */
#define GW_LOG_BURST 50          /* lines a plugin may log at once ... */
#define GW_LOG_PER_S 10          /* ... and per second after that */
#define GW_STOP_GRACE_MS 1000    /* SIGTERM, then SIGKILL */
#define GW_SERVED_RESET_MS 10000 /* served this long: the restart backoff starts over */
#define GW_HEALTH_MIN_GAP_MS 1000
#define GW_HEALTH_FAILS 2 /* in a row: restart */
#define GW_RESTART_MIN_MS 100

typedef enum gw_inst_state { GW_INST_STARTING = 0, GW_INST_SERVING, GW_INST_DOWN } gw_inst_state;

typedef struct gw_linebuf {
    char buf[GW_LINE_MAX];
    size_t len;
} gw_linebuf;

typedef struct gw_plugin_inst {
    gw_plugin_host *host;
    int64_t id;
    char *name, *hook, *command, *config;
    Aistudio__V1__Hook hook_id;
    pthread_t th;
    int stop_fd; /* eventfd: stop now */
    int poke_fd; /* eventfd: a hook call failed */
    int64_t created_ms;
    /* under host->mu */
    gw_inst_state state;
    gw_plugin_conn *conn; /* while serving: the supervisor's reference */
    struct gw_plugin_inst *prev; /* the instance it replaces, until this one serves */
    char last_err[GW_ERR_LEN];
    /* the supervisor's own */
    gw_linebuf out, err;
    int tokens;
    int64_t tokens_ms;
    long dropped;
    int net; /* the sandbox keeps the network (the manifest asked) */
    atomic_uint gen; /* processes started */
    atomic_int pid; /* of the running process, 0 when none */
} gw_plugin_inst;

struct gw_plugin_host {
    gw_plugin_host_opts o;
    char *socket_parent, *bwrap, *mode;
    char **hidden;
    size_t nhidden;
    char run_dir[GW_PLUGIN_SOCKET_PATH_MAX + 1];
    int set_user;
    uid_t uid;
    gid_t gid;
    pthread_mutex_t mu;
    gw_plugin_inst **inst; /* sorted by id */
    size_t n;
    pthread_mutex_t sync_mu; /* one gw_plugin_host_sync at a time (an edge's link and its listener both swap) */
};

static void gw_inst_stop_join(gw_plugin_inst *in);

/* ---- the host's settings in a plugin's configuration ---- */

int gw_plugin_settings_parse(const char *config_json, gw_plugin_settings *s, char err[GW_ERR_LEN])
{
    gw_json_value root, v, e;
    gw_vj_iter it;
    int64_t t;

    memset(s, 0, sizeof(*s));
    s->timeout_ms = GW_PLUGIN_DEFAULT_TIMEOUT_MS;
    if (config_json == NULL || config_json[0] == '\0')
        return 0;
    if (gw_vj_parse(config_json, strlen(config_json), &root, err) != 0)
        return -1;
    if (root.type != GW_JSON_OBJECT)
        return gw_errf(err, "the configuration is not a JSON object");
    if (gw_vj_get(&root, "timeout_ms", &v)) {
        if (gw_json_get_int64(&v, &t) != 0 || t < 1 || t > GW_PLUGIN_MAX_TIMEOUT_MS)
            return gw_errf(err, "timeout_ms must be an integer from 1 to %d", GW_PLUGIN_MAX_TIMEOUT_MS);
        s->timeout_ms = (int)t;
    }
    if (gw_vj_get(&root, "writable_paths", &v)) {
        if (v.type != GW_JSON_ARRAY)
            return gw_errf(err, "writable_paths must be an array of absolute paths");
        gw_vj_iter_init(&it, &v);
        while (gw_vj_next_elem(&it, &e)) {
            char path[PATH_MAX];
            if (s->nwritable >= GW_SPAWN_MAX_PATHS) {
                gw_plugin_settings_free(s);
                return gw_errf(err, "writable_paths has more than %d paths", GW_SPAWN_MAX_PATHS);
            }
            if (gw_json_get_string(&e, path, sizeof(path), NULL) != 0 || path[0] != '/' ||
                strstr(path, "/../") != NULL || (s->writable[s->nwritable] = strdup(path)) == NULL) {
                gw_plugin_settings_free(s);
                return gw_errf(err, "writable_paths must be an array of absolute paths");
            }
            s->nwritable++;
        }
    }
    return 0;
}

void gw_plugin_settings_free(gw_plugin_settings *s)
{
    for (size_t i = 0; i < s->nwritable; i++)
        free(s->writable[i]);
    s->nwritable = 0;
}

/* ---- plugin output into the log ---- */

static void gw_inst_log_line(gw_plugin_inst *in, const char *what, const char *line, size_t len)
{
    int64_t now = gw_now_ms();
    int64_t gained = (now - in->tokens_ms) * GW_LOG_PER_S / 1000;
    if (gained > 0) {
        in->tokens = (int)(in->tokens + gained > GW_LOG_BURST ? GW_LOG_BURST : in->tokens + gained);
        in->tokens_ms = now;
    }
    if (in->tokens <= 0) {
        in->dropped++;
        return;
    }
    in->tokens--;
    if (in->dropped > 0) {
        gw_log_warn("plugin %s: %ld lines of its output were not logged (more than %d a second)", in->name,
                    in->dropped, GW_LOG_PER_S);
        in->dropped = 0;
    }
    gw_log_info("plugin %s%s: %.*s", in->name, what, (int)len, line);
}

/* Appends data to a line buffer, logging each complete line. */
static void gw_inst_feed(gw_plugin_inst *in, gw_linebuf *lb, const char *what, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n' || lb->len == sizeof(lb->buf)) {
            size_t len = lb->len;
            if (len > 0 && lb->buf[len - 1] == '\r')
                len--;
            gw_inst_log_line(in, what, lb->buf, len);
            lb->len = 0;
            if (c == '\n')
                continue;
        }
        lb->buf[lb->len++] = (c == '\0' || c == '\r') ? ' ' : c;
    }
}

static void gw_inst_flush(gw_plugin_inst *in, gw_linebuf *lb, const char *what)
{
    if (lb->len > 0)
        gw_inst_log_line(in, what, lb->buf, lb->len);
    lb->len = 0;
}

/* Reads what is there on fd into lb; -1 (and closes *fd) at EOF. */
static int gw_inst_drain(gw_plugin_inst *in, int *fd, gw_linebuf *lb, const char *what)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n > 0) {
            gw_inst_feed(in, lb, what, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        gw_inst_flush(in, lb, what);
        close(*fd);
        *fd = -1;
        return -1;
    }
}

/* ---- the instance's state, seen by request threads ---- */

static void gw_inst_set(gw_plugin_inst *in, gw_inst_state st, gw_plugin_conn *conn, const char *err)
{
    gw_plugin_host *h = in->host;
    gw_plugin_conn *old;
    pthread_mutex_lock(&h->mu);
    old = in->conn;
    in->conn = conn;
    in->state = st;
    if (err != NULL)
        snprintf(in->last_err, sizeof(in->last_err), "%s", err);
    pthread_mutex_unlock(&h->mu);
    if (old != NULL && old != conn) {
        gw_plugin_conn_unwatch(old);
        gw_plugin_conn_release(old);
    }
}

static void gw_inst_poke(void *arg)
{
    gw_plugin_inst *in = arg;
    uint64_t one = 1;
    if (write(in->poke_fd, &one, sizeof(one)) < 0) {
        /* the counter is saturated: a check is pending anyway */
    }
}

/* Logs a start or run failure: at error level unless it is the same as the last one. */
static void gw_inst_report(gw_plugin_inst *in, const char *err, int delay_ms)
{
    int same;
    pthread_mutex_lock(&in->host->mu);
    same = strcmp(in->last_err, err) == 0;
    pthread_mutex_unlock(&in->host->mu);
    if (same)
        gw_log_debug("plugin %s (id %lld): %s; starting again in %d ms", in->name, (long long)in->id, err, delay_ms);
    else
        gw_log_error("plugin %s (id %lld) is unavailable: %s; starting again in %d ms", in->name, (long long)in->id,
                     err, delay_ms);
}

/* Stops the instance this one replaced (once this one serves, or its start took too long). */
static void gw_inst_retire_prev(gw_plugin_inst *in)
{
    gw_plugin_inst *prev;
    pthread_mutex_lock(&in->host->mu);
    prev = in->prev;
    in->prev = NULL;
    pthread_mutex_unlock(&in->host->mu);
    if (prev != NULL)
        gw_inst_stop_join(prev);
}

/* ---- one run of the process ---- */

/* Removes dir and what the plugin left in it. */
static int gw_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void gw_rm_tree(const char *dir)
{
    (void)nftw(dir, gw_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

typedef struct gw_run {
    char dir[PATH_MAX];
    gw_child child;
    gw_plugin_conn *conn;
    gw_plugin_settings settings;
} gw_run;

/* poll() on the stop eventfd, the poke eventfd, the child's pipes and its
 * pidfd. Logs what arrives on stderr (and on stdout with drain_out); sets
 * *stop when asked to stop, *exited when the process may have exited (the
 * caller reaps), *poked when a hook call failed. */
static int gw_inst_wait(gw_plugin_inst *in, gw_run *r, int timeout_ms, int drain_out, int *stop, int *exited,
                        int *poked)
{
    struct pollfd p[5];
    int np = 0, out_i = -1, err_i = -1, pid_i = -1;
    p[np++] = (struct pollfd){in->stop_fd, POLLIN, 0};
    p[np++] = (struct pollfd){in->poke_fd, POLLIN, 0};
    if (r->child.out_fd >= 0 && drain_out) {
        out_i = np;
        p[np++] = (struct pollfd){r->child.out_fd, POLLIN, 0};
    }
    if (r->child.err_fd >= 0) {
        err_i = np;
        p[np++] = (struct pollfd){r->child.err_fd, POLLIN, 0};
    }
    if (r->child.pidfd >= 0) {
        pid_i = np;
        p[np++] = (struct pollfd){r->child.pidfd, POLLIN, 0};
    }
    if (r->child.pidfd < 0 && timeout_ms > 100)
        timeout_ms = 100; /* no pidfd: look for the exit now and then */
    if (!drain_out && r->child.out_fd >= 0 && timeout_ms > 20)
        timeout_ms = 20; /* the caller reads stdout itself between waits */
    int rc = poll(p, (nfds_t)np, timeout_ms < 0 ? 0 : timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    if (p[0].revents)
        *stop = 1;
    if (p[1].revents) {
        uint64_t v;
        if (read(in->poke_fd, &v, sizeof(v)) > 0 && poked != NULL)
            *poked = 1;
    }
    if (err_i >= 0 && p[err_i].revents)
        gw_inst_drain(in, &r->child.err_fd, &in->err, "");
    if (out_i >= 0 && p[out_i].revents)
        gw_inst_drain(in, &r->child.out_fd, &in->out, " (stdout)");
    if ((pid_i >= 0 && p[pid_i].revents) || (r->child.pidfd < 0 && r->child.pid > 0))
        *exited = 1;
    return 0;
}

/* The process ended before its handshake: says how. */
static int gw_inst_early_exit(gw_run *r, char err[GW_ERR_LEN])
{
    int status = 0;
    int64_t until = gw_now_ms() + 200;
    char how[96];
    while (!gw_spawn_reap(&r->child, &status) && gw_now_ms() < until)
        usleep(5000);
    if (r->child.pid != 0)
        return gw_errf(err, "it closed its stdout before its handshake");
    return gw_errf(err, "the process %s before its handshake", gw_spawn_describe(status, how, sizeof(how)));
}

/* Reads the handshake line; 1 when asked to stop, -1 with err. */
static int gw_inst_handshake(gw_plugin_inst *in, gw_run *r, int64_t deadline, gw_plugin_handshake *hs,
                             char err[GW_ERR_LEN])
{
    char line[GW_PLUGIN_HANDSHAKE_MAX];
    size_t len = 0;
    for (;;) {
        int stop = 0, exited = 0;
        int64_t left = deadline - gw_now_ms();
        if (left <= 0)
            return gw_errf(err, "no handshake line on its stdout within %d ms", in->host->o.start_timeout_ms);
        if (gw_inst_wait(in, r, (int)left, 0, &stop, &exited, NULL) != 0)
            return gw_errf(err, "poll: %s", strerror(errno));
        if (stop)
            return 1;
        for (;;) {
            ssize_t n = read(r->child.out_fd, line + len, sizeof(line) - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (n <= 0)
                return gw_inst_early_exit(r, err);
            char *nl = memchr(line + len, '\n', (size_t)n);
            len += (size_t)n;
            if (nl != NULL) {
                size_t ll = (size_t)(nl - line);
                int rc = gw_plugin_handshake_parse(line, ll, r->dir, hs, err);
                if (ll + 1 < len) /* what follows the line is ordinary output */
                    gw_inst_feed(in, &in->out, " (stdout)", nl + 1, len - ll - 1);
                return rc;
            }
            if (len == sizeof(line)) {
                char tmp[GW_ERR_LEN];
                gw_plugin_handshake_parse(line, len, r->dir, hs, tmp);
                return gw_errf(err, "no newline in the first %zu bytes of its stdout (%s)", len, tmp);
            }
        }
        if (exited && r->child.pidfd >= 0)
            return gw_inst_early_exit(r, err);
    }
}

/* Starts the process and walks the start steps; 0 serving, 1 asked to stop, -1 with err. */
static int gw_inst_start(gw_plugin_inst *in, gw_run *r, char err[GW_ERR_LEN])
{
    gw_plugin_host *h = in->host;
    gw_spawn_opts so;
    gw_plugin_handshake hs;
    Aistudio__V1__Manifest *m = NULL;
    const char *hidden[GW_SPAWN_MAX_PATHS];
    size_t nh = 0;
    int64_t deadline;
    int rc;

    const char *path = in->command;
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    if (path[0] != '/')
        return gw_errf(err, "its command \"%s\" is not a local executable (an absolute path or file:///path)",
                       in->command);
    if (gw_plugin_settings_parse(in->config, &r->settings, err) != 0) {
        char tmp[GW_ERR_LEN];
        snprintf(tmp, sizeof(tmp), "%s", err);
        return gw_errf(err, "bad configuration: %s", tmp);
    }
    snprintf(r->dir, sizeof(r->dir), "%s/%lld-%u", h->run_dir, (long long)in->id, atomic_fetch_add(&in->gen, 1) + 1);
    gw_rm_tree(r->dir);
    if (mkdir(r->dir, 0700) != 0)
        return gw_errf(err, "cannot make its directory %s: %s", r->dir, strerror(errno));
    if (h->set_user && chown(r->dir, h->uid, h->gid) != 0)
        return gw_errf(err, "cannot give its directory to uid %d: %s", (int)h->uid, strerror(errno));

    for (size_t i = 0; i < h->nhidden && nh + 1 < GW_SPAWN_MAX_PATHS; i++)
        hidden[nh++] = h->hidden[i];
    hidden[nh++] = h->run_dir; /* the other plugins' directories */
    memset(&so, 0, sizeof(so));
    so.path = path;
    so.name = in->name;
    so.dir = r->dir;
    so.sandbox = h->o.sandbox;
    so.bwrap = h->bwrap;
    so.network = in->net;
    so.hidden = hidden;
    so.nhidden = nh;
    so.writable = (const char *const *)r->settings.writable;
    so.nwritable = r->settings.nwritable;
    so.mem_bytes = h->o.mem_bytes;
    so.cpu_s = h->o.cpu_s;
    so.nofile = h->o.nofile;
    so.set_user = h->set_user;
    so.uid = h->uid;
    so.gid = h->gid;
    if (gw_spawn_start(&so, &r->child, err) != 0)
        return -1;
    atomic_store(&in->pid, (int)r->child.pid);
    gw_log_debug("plugin %s (id %lld): started pid %d%s", in->name, (long long)in->id, (int)r->child.pid,
                 h->o.sandbox == GW_SANDBOX_BWRAP ? (in->net ? " (sandbox with network)" : " (sandbox)") : "");

    deadline = gw_now_ms() + h->o.start_timeout_ms;
    rc = gw_inst_handshake(in, r, deadline, &hs, err);
    if (rc != 0)
        return rc;
    r->conn = gw_plugin_conn_create(hs.target, in->name, err);
    if (r->conn == NULL)
        return -1;
#define GW_LEFT() ((int)(deadline - gw_now_ms() > 10 ? deadline - gw_now_ms() : 10))
    if (gw_plugin_conn_manifest(r->conn, GW_LEFT(), &m, err) != 0) {
        char tmp[GW_ERR_LEN];
        snprintf(tmp, sizeof(tmp), "%s", err);
        return gw_errf(err, "GetManifest: %s", tmp);
    }
    int has_hook = 0;
    char hooks[128] = "";
    for (size_t i = 0; i < m->n_hooks; i++) {
        has_hook |= m->hooks[i] == in->hook_id;
        size_t hl = strlen(hooks);
        snprintf(hooks + hl, sizeof(hooks) - hl, "%s%s", hl > 0 ? ", " : "", gw_plugin_hook_name(m->hooks[i]));
    }
    int streams = m->capabilities != NULL && m->capabilities->streaming_response;
    int request_stream = m->capabilities != NULL && m->capabilities->request_stream;
    int wants_net = m->capabilities != NULL && m->capabilities->needs_network;
    if (m->protocol_version > GW_PLUGIN_PROTOCOL)
        rc = gw_errf(err, "its manifest speaks protocol %u (this gateway speaks %d)", m->protocol_version,
                     GW_PLUGIN_PROTOCOL);
    else if (!has_hook)
        rc = gw_errf(err, "it is configured for the %s hook, which its manifest does not list (it lists: %s)",
                     in->hook, hooks[0] != '\0' ? hooks : "none");
    if (rc == 0)
        gw_log_info("plugin %s (id %lld): %s %s, hooks %s%s", in->name, (long long)in->id,
                    m->name[0] != '\0' ? m->name : m->id, m->version, hooks, streams ? ", streams answers" : "");
    aistudio__v1__manifest__free_unpacked(m, NULL);
    if (rc != 0)
        return rc;
    if (wants_net && h->o.sandbox == GW_SANDBOX_BWRAP && !in->net) {
        in->net = 1;
        gw_log_info("plugin %s: its manifest asks for the network: starting it again with network access", in->name);
        return 2;
    }

    Aistudio__V1__ConfigureRequest cr = AISTUDIO__V1__CONFIGURE_REQUEST__INIT;
    cr.plugin_id = in->id;
    cr.plugin_name = in->name;
    cr.hook = in->hook_id;
    cr.config_json = in->config;
    cr.gateway_mode = h->mode;
    if (gw_plugin_conn_configure(r->conn, &cr, GW_LEFT(), err) != 0) {
        char tmp[GW_ERR_LEN];
        snprintf(tmp, sizeof(tmp), "%s", err);
        return gw_errf(err, "it refused its configuration (Configure %s)", tmp);
    }
    if (gw_plugin_conn_health(r->conn, GW_LEFT(), err) != 0) {
        char tmp[GW_ERR_LEN];
        snprintf(tmp, sizeof(tmp), "%s", err);
        return gw_errf(err, "Health: %s", tmp);
    }
#undef GW_LEFT
    gw_plugin_conn_setup(r->conn, r->settings.timeout_ms, streams, request_stream);
    return 0;
}

/* Serves until the process exits, fails its health checks or a stop; 1 on stop, -1 with err. */
static int gw_inst_serve(gw_plugin_inst *in, gw_run *r, char err[GW_ERR_LEN])
{
    gw_plugin_host *h = in->host;
    int64_t next_health = gw_now_ms() + h->o.health_interval_ms, last_health = 0;
    int fails = 0;
    int health_ms = r->settings.timeout_ms > 1000 ? r->settings.timeout_ms : 1000;

    for (;;) {
        int stop = 0, exited = 0, poked = 0, status = 0;
        int64_t now = gw_now_ms();
        if (gw_inst_wait(in, r, (int)(next_health - now), 1, &stop, &exited, &poked) != 0)
            return gw_errf(err, "poll: %s", strerror(errno));
        if (stop)
            return 1;
        if (exited && gw_spawn_reap(&r->child, &status)) {
            char how[96];
            if (r->child.out_fd >= 0)
                gw_inst_drain(in, &r->child.out_fd, &in->out, " (stdout)");
            if (r->child.err_fd >= 0)
                gw_inst_drain(in, &r->child.err_fd, &in->err, "");
            return gw_errf(err, "the process %s", gw_spawn_describe(status, how, sizeof(how)));
        }
        now = gw_now_ms();
        if (poked && now - last_health >= GW_HEALTH_MIN_GAP_MS)
            next_health = now; /* a hook call failed: is it still alive? */
        if (now >= next_health) {
            char herr[GW_ERR_LEN];
            last_health = now;
            next_health = now + h->o.health_interval_ms;
            if (gw_plugin_conn_health(r->conn, health_ms, herr) != 0) {
                if (++fails >= GW_HEALTH_FAILS)
                    return gw_errf(err, "it failed %d health checks in a row (last: %s)", fails, herr);
                next_health = now + GW_HEALTH_MIN_GAP_MS;
                gw_log_warn("plugin %s: health check failed: %s", in->name, herr);
            } else
                fails = 0;
        }
    }
}

static void gw_run_end(gw_plugin_inst *in, gw_run *r, int grace_ms)
{
    atomic_store(&in->pid, 0);
    if (r->conn != NULL)
        gw_plugin_conn_drain(r->conn); /* else its server waits for our idle streams */
    if (r->child.pid > 0 || r->child.out_fd >= 0 || r->child.err_fd >= 0)
        gw_spawn_stop(&r->child, grace_ms);
    gw_inst_flush(in, &in->out, " (stdout)");
    gw_inst_flush(in, &in->err, "");
    if (r->conn != NULL) {
        gw_plugin_conn_unwatch(r->conn);
        gw_plugin_conn_release(r->conn);
        r->conn = NULL;
    }
    gw_plugin_settings_free(&r->settings);
    if (r->dir[0] != '\0')
        gw_rm_tree(r->dir);
    r->dir[0] = '\0';
}

static void *gw_inst_main(void *arg)
{
    gw_plugin_inst *in = arg;
    gw_plugin_host *h = in->host;
    gw_rpc_backoff bo;
    char err[GW_ERR_LEN];
    int stopping = 0;

    gw_rpc_backoff_init(&bo, GW_RESTART_MIN_MS, h->o.restart_max_ms);
    while (!stopping) {
        gw_run r;
        int rc;
        memset(&r, 0, sizeof(r));
        r.child.pidfd = r.child.out_fd = r.child.err_fd = r.child.in_fd = -1;
        gw_inst_set(in, GW_INST_STARTING, NULL, NULL);
        err[0] = '\0';
        rc = gw_inst_start(in, &r, err);
        if (rc == 2) { /* again, with the network */
            gw_run_end(in, &r, 0);
            continue;
        }
        if (rc == 0) {
            int64_t since = gw_now_ms();
            gw_plugin_conn_ref(r.conn);
            gw_plugin_conn_watch(r.conn, gw_inst_poke, in);
            gw_inst_set(in, GW_INST_SERVING, r.conn, "");
            gw_log_info("plugin %s (id %lld) serves the %s hook (pid %d)", in->name, (long long)in->id, in->hook,
                        (int)r.child.pid);
            gw_inst_retire_prev(in);
            rc = gw_inst_serve(in, &r, err);
            if (gw_now_ms() - since >= GW_SERVED_RESET_MS)
                gw_rpc_backoff_reset(&bo);
        }
        if (rc == 1) {
            stopping = 1;
            gw_inst_set(in, GW_INST_DOWN, NULL, "stopped");
            gw_run_end(in, &r, GW_STOP_GRACE_MS);
            break;
        }
        /* failed: out of service, then again after the backoff */
        int delay = gw_rpc_backoff_next(&bo);
        gw_inst_report(in, err, delay);
        gw_inst_set(in, GW_INST_DOWN, NULL, err);
        gw_run_end(in, &r, 0);
        if (gw_now_ms() - in->created_ms >= h->o.start_timeout_ms)
            gw_inst_retire_prev(in);
        struct pollfd p = {in->stop_fd, POLLIN, 0};
        int64_t until = gw_now_ms() + delay;
        while (!stopping) {
            int64_t left = until - gw_now_ms();
            if (left <= 0)
                break;
            if (poll(&p, 1, (int)left) > 0 && p.revents)
                stopping = 1;
        }
    }
    gw_inst_retire_prev(in);
    return NULL;
}

/* ---- instances ---- */

static void gw_inst_free(gw_plugin_inst *in)
{
    if (in == NULL)
        return;
    if (in->stop_fd >= 0)
        close(in->stop_fd);
    if (in->poke_fd >= 0)
        close(in->poke_fd);
    free(in->name);
    free(in->hook);
    free(in->command);
    free(in->config);
    free(in);
}

static gw_plugin_inst *gw_inst_new(gw_plugin_host *h, const gw_plugin_spec *s)
{
    gw_plugin_inst *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->host = h;
    in->id = s->id;
    in->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    in->poke_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    in->name = strdup(s->name != NULL ? s->name : "");
    in->hook = strdup(s->hook != NULL ? s->hook : "");
    in->command = strdup(s->command != NULL ? s->command : "");
    in->config = strdup(s->config_json != NULL ? s->config_json : "{}");
    in->hook_id = gw_plugin_hook_from_name(in->hook);
    in->tokens = GW_LOG_BURST;
    in->tokens_ms = gw_now_ms();
    in->created_ms = gw_now_ms();
    atomic_init(&in->pid, 0);
    snprintf(in->last_err, sizeof(in->last_err), "starting");
    if (in->stop_fd < 0 || in->poke_fd < 0 || !in->name || !in->hook || !in->command || !in->config) {
        gw_inst_free(in);
        return NULL;
    }
    return in;
}

static int gw_inst_launch(gw_plugin_inst *in)
{
    return pthread_create(&in->th, NULL, gw_inst_main, in) == 0 ? 0 : -1;
}

static void gw_inst_signal_stop(gw_plugin_inst *in)
{
    uint64_t one = 1;
    if (write(in->stop_fd, &one, sizeof(one)) < 0) {
        /* already signalled */
    }
}

static void gw_inst_stop_join(gw_plugin_inst *in)
{
    gw_inst_signal_stop(in);
    pthread_join(in->th, NULL);
    gw_inst_set(in, GW_INST_DOWN, NULL, NULL);
    gw_inst_free(in);
}

static int gw_spec_same(const gw_plugin_inst *in, const gw_plugin_spec *s)
{
#define GW_EQ(a, b) (strcmp((a), (b) != NULL ? (b) : "") == 0)
    return GW_EQ(in->name, s->name) && GW_EQ(in->hook, s->hook) && GW_EQ(in->command, s->command) &&
           strcmp(in->config, s->config_json != NULL ? s->config_json : "{}") == 0;
#undef GW_EQ
}

static int gw_spec_cmp(const void *a, const void *b)
{
    const gw_plugin_spec *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static gw_plugin_inst *gw_find(gw_plugin_inst **v, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid]->id == id)
            return v[mid];
        if (v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void gw_plugin_host_sync(gw_plugin_host *h, const gw_plugin_spec *specs, size_t n)
{
    gw_plugin_spec *sorted = NULL;
    gw_plugin_inst **next = NULL, **old;
    size_t nnext = 0, nold;

    if (n > 0) {
        sorted = malloc(n * sizeof(*sorted));
        next = calloc(n, sizeof(*next));
        if (sorted == NULL || next == NULL) {
            gw_log_error("plugins: out of memory applying the configuration");
            free(sorted);
            free(next);
            return;
        }
        memcpy(sorted, specs, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), gw_spec_cmp);
    }
    pthread_mutex_lock(&h->sync_mu);
    pthread_mutex_lock(&h->mu);
    old = h->inst;
    nold = h->n;
    pthread_mutex_unlock(&h->mu);

    for (size_t i = 0; i < n; i++) {
        const gw_plugin_spec *s = &sorted[i];
        gw_plugin_inst *cur = gw_find(old, nold, s->id), *in;
        if (i > 0 && sorted[i - 1].id == s->id)
            continue;
        if (gw_plugin_hook_from_name(s->hook) == AISTUDIO__V1__HOOK__HOOK_UNSPECIFIED) {
            gw_log_warn("plugin %s (id %lld): hook %s is not one plugins serve (pre_auth, auth, post_auth, "
                        "on_response): not started",
                        s->name, (long long)s->id, s->hook != NULL ? s->hook : "");
            continue;
        }
        if (cur != NULL && gw_spec_same(cur, s)) {
            next[nnext++] = cur;
            continue;
        }
        in = gw_inst_new(h, s);
        if (in != NULL)
            in->prev = cur; /* serves until the new one does */
        if (in == NULL || gw_inst_launch(in) != 0) {
            gw_log_error("plugin %s (id %lld): cannot start its supervisor thread", s->name, (long long)s->id);
            gw_inst_free(in);
            continue;
        }
        if (cur != NULL)
            gw_log_info("plugin %s (id %lld): its configuration changed: starting it again", s->name,
                        (long long)s->id);
        next[nnext++] = in;
    }
    pthread_mutex_lock(&h->mu);
    h->inst = next;
    h->n = nnext;
    pthread_mutex_unlock(&h->mu);

    /* what is no longer configured stops (all signalled first, then joined) */
    for (size_t i = 0; i < nold; i++) {
        int kept = 0;
        for (size_t j = 0; j < nnext && !kept; j++)
            kept = next[j] == old[i] || next[j]->prev == old[i];
        if (!kept)
            gw_inst_signal_stop(old[i]);
    }
    for (size_t i = 0; i < nold; i++) {
        int kept = 0;
        for (size_t j = 0; j < nnext && !kept; j++)
            kept = next[j] == old[i] || next[j]->prev == old[i];
        if (!kept) {
            gw_log_info("plugin %s (id %lld): no longer configured: stopped", old[i]->name, (long long)old[i]->id);
            gw_inst_stop_join(old[i]);
        }
    }
    pthread_mutex_unlock(&h->sync_mu);
    free(old);
    free(sorted);
}

gw_plugin_conn *gw_plugin_host_acquire(gw_plugin_host *h, int64_t id, char why[GW_ERR_LEN])
{
    gw_plugin_conn *c = NULL;
    pthread_mutex_lock(&h->mu);
    gw_plugin_inst *in = gw_find(h->inst, h->n, id);
    if (in == NULL)
        gw_errf(why, "plugin %lld is not running (inactive, or not in this gateway's configuration)", (long long)id);
    else if (in->conn != NULL)
        c = in->conn;
    else if (in->prev != NULL && in->prev->conn != NULL)
        c = in->prev->conn;
    else if (in->state == GW_INST_STARTING && strcmp(in->last_err, "starting") == 0)
        gw_errf(why, "plugin %s is starting", in->name);
    else
        gw_errf(why, "plugin %s is not running: %s", in->name, in->last_err);
    if (c != NULL)
        gw_plugin_conn_ref(c);
    pthread_mutex_unlock(&h->mu);
    return c;
}

int gw_plugin_host_info(gw_plugin_host *h, int64_t id, gw_plugin_info *out)
{
    int rc = -1;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&h->mu);
    gw_plugin_inst *in = gw_find(h->inst, h->n, id);
    if (in != NULL) {
        out->serving = in->conn != NULL;
        out->pid = atomic_load(&in->pid);
        out->starts = (int)atomic_load(&in->gen);
        snprintf(out->last_error, sizeof(out->last_error), "%s", in->conn != NULL ? "" : in->last_err);
        rc = 0;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

const char *gw_plugin_host_dir(const gw_plugin_host *h)
{
    return h->run_dir;
}

void gw_plugin_host_counts(gw_plugin_host *h, int *serving, int *known)
{
    int s = 0;
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n; i++)
        s += h->inst[i]->conn != NULL;
    *known = (int)h->n;
    pthread_mutex_unlock(&h->mu);
    *serving = s;
}

/* ---- the host ---- */

gw_plugin_host *gw_plugin_host_create(const gw_plugin_host_opts *o, char err[GW_ERR_LEN])
{
    gw_plugin_host *h = calloc(1, sizeof(*h));
    const char *parent = o->socket_parent != NULL && o->socket_parent[0] != '\0' ? o->socket_parent : "/tmp";
    if (h == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    h->o = *o;
    if (h->o.start_timeout_ms <= 0)
        h->o.start_timeout_ms = 5000;
    if (h->o.health_interval_ms <= 0)
        h->o.health_interval_ms = 5000;
    if (h->o.restart_max_ms < GW_RESTART_MIN_MS)
        h->o.restart_max_ms = 30000;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->sync_mu, NULL);
    /* "<parent>/aistudio-plugins.XXXXXX/<id>-<n>/plugin.sock" must fit a unix socket path */
    if (strlen(parent) + 64 > GW_PLUGIN_SOCKET_PATH_MAX) {
        gw_errf(err, "PLUGIN_SOCKET_DIR: %s is too long for unix socket paths (at most %d bytes)", parent,
                GW_PLUGIN_SOCKET_PATH_MAX - 64);
        goto fail;
    }
    if (geteuid() == 0) {
        const char *user = o->user != NULL && o->user[0] != '\0' ? o->user : "nobody";
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
            gw_errf(err, "PLUGIN_USER: no user %s to run plugins as (gatewayd runs as root)", user);
            goto fail;
        }
        if (pw.pw_uid == 0) {
            gw_errf(err, "PLUGIN_USER: %s is root; plugins run as an unprivileged user", user);
            goto fail;
        }
        h->set_user = 1;
        h->uid = pw.pw_uid;
        h->gid = pw.pw_gid;
    }
    snprintf(h->run_dir, sizeof(h->run_dir), "%s/aistudio-plugins.XXXXXX", parent);
    if (mkdtemp(h->run_dir) == NULL) {
        gw_errf(err, "PLUGIN_SOCKET_DIR: cannot make a directory in %s: %s", parent, strerror(errno));
        h->run_dir[0] = '\0';
        goto fail;
    }
    /* the plugins' user may go through (to its own 0700 directory), not list */
    if (h->set_user && chmod(h->run_dir, 0711) != 0) {
        gw_errf(err, "cannot set the mode of %s: %s", h->run_dir, strerror(errno));
        goto fail;
    }
    h->socket_parent = strdup(parent);
    h->bwrap = strdup(o->bwrap != NULL ? o->bwrap : "");
    h->mode = strdup(o->gateway_mode != NULL ? o->gateway_mode : "standalone");
    h->hidden = calloc(o->nhidden + 1, sizeof(char *));
    if (h->socket_parent == NULL || h->bwrap == NULL || h->mode == NULL || h->hidden == NULL) {
        gw_errf(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < o->nhidden; i++)
        if (o->hidden[i] != NULL && o->hidden[i][0] == '/' && (h->hidden[h->nhidden] = strdup(o->hidden[i])) != NULL)
            h->nhidden++;
    h->o.socket_parent = h->socket_parent;
    h->o.bwrap = h->bwrap;
    h->o.gateway_mode = h->mode;
    h->o.hidden = NULL;
    h->o.user = NULL;
    gw_log_info("plugins: run directory %s, sandbox %s%s", h->run_dir,
                h->o.sandbox == GW_SANDBOX_BWRAP ? "bwrap" : "none", h->set_user ? ", as an unprivileged user" : "");
    return h;
fail:
    gw_plugin_host_destroy(h);
    return NULL;
}

void gw_plugin_host_destroy(gw_plugin_host *h)
{
    if (h == NULL)
        return;
    gw_plugin_host_sync(h, NULL, 0);
    if (h->run_dir[0] != '\0')
        gw_rm_tree(h->run_dir);
    for (size_t i = 0; i < h->nhidden; i++)
        free(h->hidden[i]);
    free(h->hidden);
    free(h->socket_parent);
    free(h->bwrap);
    free(h->mode);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->sync_mu);
    free(h);
}
