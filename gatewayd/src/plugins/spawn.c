/*
 * src/plugins/spawn.c: starting and stopping an isolated plugin process
 * (the steps and the sandbox are described in spawn.h).
 *
 * Between _Fork and execve the child calls only async-signal-safe functions
 * and raw system calls (setgroups/setresgid/setresuid through syscall(2):
 * glibc's wrappers would try to signal the parent's other threads, which
 * the child does not have). Every descriptor the parent makes is
 * close-on-exec and numbered from GW_SPAWN_FD_MIN up, so the child's dup2
 * onto 0..3 never overwrites one it still needs.
 */
#include "plugins/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugins/handshake.h"

#define GW_SPAWN_FD_MIN 10
#define GW_SPAWN_STATUS_FD 3 /* the exec-status pipe in the child */

/* ---- the plan: argv and environment ---- */

static int gw_plan_env(gw_spawn_plan *p, size_t *used, const char *fmt, const char *a, const char *b)
{
    size_t room = sizeof(p->env_store) - *used;
    int n = snprintf(p->env_store + *used, room, fmt, a, b);
    if (n < 0 || (size_t)n >= room || p->envc >= GW_SPAWN_MAX_ENV)
        return -1;
    p->envp[p->envc++] = p->env_store + *used;
    *used += (size_t)n + 1;
    return 0;
}

static int gw_plan_arg(gw_spawn_plan *p, const char *a)
{
    if (p->argc >= GW_SPAWN_MAX_ARGV)
        return -1;
    p->argv[p->argc++] = a;
    return 0;
}

static int gw_plan_args3(gw_spawn_plan *p, const char *a, const char *b, const char *c)
{
    return gw_plan_arg(p, a) | gw_plan_arg(p, b) | (c != NULL ? gw_plan_arg(p, c) : 0);
}

int gw_spawn_plan_build(const gw_spawn_opts *o, gw_spawn_plan *p, char err[GW_ERR_LEN])
{
    size_t used = 0;
    int bad = 0;

    memset(p, 0, sizeof(*p));
    if (o->path == NULL || o->path[0] != '/')
        return gw_errf(err, "the plugin command must be an absolute path");
    if (o->dir == NULL || o->dir[0] != '/')
        return gw_errf(err, "the plugin directory must be an absolute path");
    if (o->nargs > GW_SPAWN_MAX_ARGS)
        return gw_errf(err, "more than %d arguments", GW_SPAWN_MAX_ARGS);
    if (o->nhidden > GW_SPAWN_MAX_PATHS || o->nwritable > GW_SPAWN_MAX_PATHS)
        return gw_errf(err, "more than %d hidden or writable paths", GW_SPAWN_MAX_PATHS);

    /* an allow-list, never the parent's environment */
    bad |= gw_plan_env(p, &used, "PATH=%s%s", "/usr/local/bin:/usr/bin:/bin", "");
    bad |= gw_plan_env(p, &used, "HOME=%s%s", o->dir, "");
    bad |= gw_plan_env(p, &used, "TMPDIR=%s%s", o->dir, "");
    bad |= gw_plan_env(p, &used, "LANG=%s%s", "C.UTF-8", "");
    bad |= gw_plan_env(p, &used, "%s=%s", GW_PLUGIN_DIR_ENV, o->dir);
    bad |= gw_plan_env(p, &used, "%s=%s", GW_PLUGIN_NAME_ENV, o->name != NULL ? o->name : "");
    if (bad)
        return gw_errf(err, "the plugin's environment is too large");
    p->envp[p->envc] = NULL;

    if (o->sandbox == GW_SANDBOX_BWRAP) {
        if (o->bwrap == NULL || o->bwrap[0] != '/')
            return gw_errf(err, "no bwrap executable for the sandbox");
        bad |= gw_plan_arg(p, o->bwrap);
        bad |= gw_plan_arg(p, "--die-with-parent");
        bad |= gw_plan_arg(p, "--unshare-all");
        if (o->network)
            bad |= gw_plan_arg(p, "--share-net");
        bad |= gw_plan_args3(p, "--cap-drop", "ALL", NULL);
        bad |= gw_plan_args3(p, "--ro-bind", "/", "/");
        bad |= gw_plan_args3(p, "--dev", "/dev", NULL);
        bad |= gw_plan_args3(p, "--proc", "/proc", NULL);
        bad |= gw_plan_args3(p, "--tmpfs", "/tmp", NULL);
        /* a plugin installed under /tmp stays visible, read-only, as it
         * would be anywhere else on the read-only root: the top directory
         * under /tmp that holds it (a script loads files next to it and
         * above it, e.g. a .proto), or only the file when it sits in /tmp
         * itself. The hidden paths below are masked after this. */
        if (strncmp(o->path, "/tmp/", 5) == 0) {
            const char *end = strchr(o->path + 5, '/');
            size_t n = end != NULL ? (size_t)(end - o->path) : strlen(o->path);
            if (n >= sizeof(p->exe_dir))
                return gw_errf(err, "the plugin command's path is too long");
            memcpy(p->exe_dir, o->path, n);
            p->exe_dir[n] = '\0';
            bad |= gw_plan_args3(p, "--ro-bind", p->exe_dir, p->exe_dir);
        }
        for (size_t i = 0; i < o->nhidden; i++) {
            struct stat st;
            const char *h = o->hidden[i];
            if (h == NULL || h[0] != '/' || stat(h, &st) != 0)
                continue; /* nothing to hide */
            if (S_ISDIR(st.st_mode))
                bad |= gw_plan_args3(p, "--tmpfs", h, NULL);
            else
                bad |= gw_plan_args3(p, "--ro-bind", "/dev/null", h);
        }
        for (size_t i = 0; i < o->nwritable; i++) {
            const char *w = o->writable[i];
            if (w == NULL || w[0] != '/')
                return gw_errf(err, "writable path \"%s\" is not absolute", w != NULL ? w : "");
            bad |= gw_plan_args3(p, "--bind", w, w);
        }
        bad |= gw_plan_args3(p, "--bind", o->dir, o->dir);
        bad |= gw_plan_args3(p, "--chdir", o->dir, NULL);
        bad |= gw_plan_arg(p, "--");
    }
    bad |= gw_plan_arg(p, o->path);
    for (size_t i = 0; i < o->nargs; i++)
        bad |= gw_plan_arg(p, o->args[i]);
    if (bad)
        return gw_errf(err, "too many sandbox arguments");
    p->argv[p->argc] = NULL;
    return 0;
}

/* ---- the child ---- */

static void gw_child_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = {soft, hard};
    (void)setrlimit(resource, &rl);
}

/* Runs in the child between _Fork and execve: async-signal-safe calls only. */
static void __attribute__((noreturn))
gw_spawn_child(const gw_spawn_opts *o, const gw_spawn_plan *p, const int fds[4], pid_t parent)
{
    int st = fds[3];
    int e;
    struct sigaction sa;
    sigset_t none;

    if (setsid() < 0)
        goto fail;
    if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        goto fail;
    if (dup3(st, GW_SPAWN_STATUS_FD, O_CLOEXEC) < 0)
        goto fail;
    st = GW_SPAWN_STATUS_FD;
    if (close_range(GW_SPAWN_STATUS_FD + 1, ~0U, 0) != 0) {
        struct rlimit rl;
        rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 65536;
        for (rlim_t fd = GW_SPAWN_STATUS_FD + 1; fd < max; fd++)
            (void)close((int)fd);
    }
    /* gatewayd blocks its shutdown signals and ignores SIGPIPE: both would
     * survive execve */
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        (void)sigaction(s, &sa, NULL);
    /* the C library's own signals (32 .. SIGRTMIN-1) refuse sigaction(); a
     * parent that ignores them (a CI runner did) would pass that on through
     * execve. All-zero is SIG_DFL, no flags, an empty mask on every ABI. */
    for (int s = 32; s < SIGRTMIN; s++) {
        unsigned long kernel_sa[8] = {0};
        (void)syscall(SYS_rt_sigaction, s, kernel_sa, NULL, (size_t)8);
    }

    gw_child_limit(RLIMIT_CORE, 0, 0);
    if (o->mem_bytes > 0)
        gw_child_limit(RLIMIT_DATA, (rlim_t)o->mem_bytes, (rlim_t)o->mem_bytes);
    if (o->cpu_s > 0) /* SIGXCPU at the limit, SIGKILL a little later */
        gw_child_limit(RLIMIT_CPU, (rlim_t)o->cpu_s, (rlim_t)o->cpu_s + 5);
    if (o->nofile > 0)
        gw_child_limit(RLIMIT_NOFILE, (rlim_t)o->nofile, (rlim_t)o->nofile);
    if (chdir(o->dir) != 0)
        goto fail;
    if (o->set_user) {
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, o->gid, o->gid, o->gid) != 0 ||
            syscall(SYS_setresuid, o->uid, o->uid, o->uid) != 0)
            goto fail;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        goto fail;
    /* after the user change, which clears it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        goto fail;
    if (getppid() != parent)
        _exit(127); /* the parent died before the death signal was armed */
    execve(p->argv[0], (char *const *)p->argv, p->envp);
fail:
    e = errno;
    if (write(st, &e, sizeof(e)) < 0) {
        /* nothing more to do */
    }
    _exit(127);
}

/* ---- the parent ---- */

static int gw_fd_high(int fd)
{
    if (fd < 0 || fd >= GW_SPAWN_FD_MIN)
        return fd;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, GW_SPAWN_FD_MIN);
    close(fd);
    return hi;
}

static int gw_pipe_high(int p[2])
{
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    p[0] = gw_fd_high(p[0]);
    p[1] = gw_fd_high(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        if (p[0] >= 0)
            close(p[0]);
        if (p[1] >= 0)
            close(p[1]);
        return -1;
    }
    return 0;
}

static void gw_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void gw_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int gw_spawn_start(const gw_spawn_opts *o, gw_child *c, char err[GW_ERR_LEN])
{
    gw_spawn_plan *plan;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, stp[2] = {-1, -1};
    pid_t parent = getpid(), pid;
    int child_errno = 0;
    ssize_t n;

    memset(c, 0, sizeof(*c));
    c->pidfd = c->out_fd = c->err_fd = c->in_fd = -1;
    plan = malloc(sizeof(*plan));
    if (plan == NULL)
        return gw_errf(err, "out of memory");
    if (gw_spawn_plan_build(o, plan, err) != 0) {
        free(plan);
        return -1;
    }
    if (access(o->path, X_OK) != 0) {
        int e = errno;
        free(plan);
        return gw_errf(err, "cannot execute %s: %s", o->path, strerror(e));
    }
    if (gw_pipe_high(in) != 0 || gw_pipe_high(out) != 0 || gw_pipe_high(er) != 0 || gw_pipe_high(stp) != 0) {
        int e = errno;
        gw_close_fd(&in[0]), gw_close_fd(&in[1]), gw_close_fd(&out[0]), gw_close_fd(&out[1]);
        gw_close_fd(&er[0]), gw_close_fd(&er[1]), gw_close_fd(&stp[0]), gw_close_fd(&stp[1]);
        free(plan);
        return gw_errf(err, "cannot make the plugin's pipes: %s", strerror(e));
    }
    pid = _Fork();
    if (pid == 0) {
        int fds[4] = {in[0], out[1], er[1], stp[1]};
        gw_spawn_child(o, plan, fds, parent);
    }
    int fork_errno = errno;
    free(plan);
    gw_close_fd(&in[0]);
    gw_close_fd(&out[1]);
    gw_close_fd(&er[1]);
    gw_close_fd(&stp[1]);
    if (pid < 0) {
        gw_close_fd(&in[1]), gw_close_fd(&out[0]), gw_close_fd(&er[0]), gw_close_fd(&stp[0]);
        return gw_errf(err, "cannot start a process: %s", strerror(fork_errno));
    }
    /* EOF: execve succeeded (the pipe closed on exec); an int: it failed */
    do
        n = read(stp[0], &child_errno, sizeof(child_errno));
    while (n < 0 && errno == EINTR);
    gw_close_fd(&stp[0]);
    c->pid = pid;
    c->in_fd = in[1];
    c->out_fd = out[0];
    c->err_fd = er[0];
    if (n == (ssize_t)sizeof(child_errno)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        c->pid = 0;
        gw_spawn_close(c);
        return gw_errf(err, "cannot execute %s: %s", o->sandbox == GW_SANDBOX_BWRAP ? o->bwrap : o->path,
                       strerror(child_errno));
    }
    gw_nonblock(c->out_fd);
    gw_nonblock(c->err_fd);
    gw_nonblock(c->in_fd);
    c->pidfd = gw_fd_high(pidfd_open(pid, 0));
    if (c->pidfd >= 0)
        (void)fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
    return 0;
}

int gw_spawn_reap(gw_child *c, int *status)
{
    siginfo_t si;
    int st = 0;
    if (c->pid <= 0)
        return 1;
    memset(&si, 0, sizeof(si));
    /* WNOWAIT first: the leader stays a zombie, so its group id cannot be
     * reused before what the plugin started in its group is killed */
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != c->pid)
        return 0;
    (void)kill(-c->pid, SIGKILL);
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status != NULL)
        *status = st;
    c->pid = 0;
    return 1;
}

void gw_spawn_stop(gw_child *c, int grace_ms)
{
    if (c->pid > 0) {
        siginfo_t si;
        int64_t until = gw_now_ms() + (grace_ms > 0 ? grace_ms : 0);
        int exited = 0;
        (void)kill(-c->pid, SIGTERM);
        while (!exited) {
            memset(&si, 0, sizeof(si));
            /* WNOWAIT: the leader stays a zombie, so its group id cannot be reused before the SIGKILL */
            if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == c->pid)
                exited = 1;
            else if (gw_now_ms() >= until)
                break;
            else
                usleep(5000);
        }
        (void)kill(-c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        c->pid = 0;
    }
    gw_spawn_close(c);
}

void gw_spawn_close(gw_child *c)
{
    gw_close_fd(&c->pidfd);
    gw_close_fd(&c->out_fd);
    gw_close_fd(&c->err_fd);
    gw_close_fd(&c->in_fd);
}

const char *gw_spawn_describe(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        snprintf(buf, cap, "was killed by signal %d (SIG%s)", WTERMSIG(status), abbrev != NULL ? abbrev : "?");
    } else
        snprintf(buf, cap, "ended (status %d)", status);
    return buf;
}

int gw_spawn_find_bwrap(char *out, size_t cap)
{
    const char *path = getenv("PATH");
    char cand[PATH_MAX];
    if (path == NULL || path[0] == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        if (n > 0 && path[0] == '/' && n + sizeof("/bwrap") < sizeof(cand)) {
            memcpy(cand, path, n);
            memcpy(cand + n, "/bwrap", sizeof("/bwrap"));
            if (access(cand, X_OK) == 0 && strlen(cand) < cap) {
                memcpy(out, cand, strlen(cand) + 1);
                return 0;
            }
        }
        path += n;
        if (*path == ':')
            path++;
    }
    if (access("/usr/bin/bwrap", X_OK) == 0 && cap > sizeof("/usr/bin/bwrap")) {
        memcpy(out, "/usr/bin/bwrap", sizeof("/usr/bin/bwrap"));
        return 0;
    }
    return -1;
}
