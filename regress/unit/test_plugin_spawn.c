/*
 * regress/unit/test_plugin_spawn.c: the isolation of a plugin process
 * (gatewayd/src/plugins/spawn.c), seen from inside by plugin_probe: a clean
 * environment (none of gatewayd's secrets), no inherited descriptor but
 * the three pipes, its own session and process group, the rlimits, no new
 * privileges, no blocked or ignored signal, its directory as cwd, the
 * unprivileged user when run as root; in the bubblewrap sandbox (when bwrap
 * is installed): no network unless asked, hidden files unreadable, a
 * private /tmp. Also: exec failures reported by spawn itself, stop killing
 * a plugin that ignores SIGTERM and what it left in its group, the bwrap
 * command line.
 */
#include "base/log.c"
#include "base/codec.c"
#include "plugins/handshake.c"
#include "plugins/spawn.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>

#include "tap.h"

#ifndef GW_PROBE
#error GW_PROBE, the path of the probe, must be defined
#endif
#ifndef GW_PROBE_DIR
#error GW_PROBE_DIR must be defined
#endif

static char out[16384];

/* Reads the child's stdout until EOF (or n bytes, or 10 s). */
static size_t read_all(gw_child *c, const char *until)
{
    size_t n = 0;
    int64_t deadline = gw_now_ms() + 10000;
    out[0] = '\0';
    while (gw_now_ms() < deadline && n + 1 < sizeof(out)) {
        struct pollfd p = {c->out_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(c->out_fd, out + n, sizeof(out) - 1 - n);
        if (r == 0)
            break;
        if (r > 0) {
            n += (size_t)r;
            out[n] = '\0';
            if (until != NULL && strstr(out, until) != NULL && strchr(strstr(out, until), '\n') != NULL)
                break;
        }
    }
    return n;
}

/* The value of "key=" in out (copied), "" when absent. */
static const char *val(const char *key)
{
    static char v[512];
    char pat[64];
    snprintf(pat, sizeof(pat), "\n%s=", key);
    const char *p = strstr(out, pat);
    if (p == NULL && strncmp(out, pat + 1, strlen(pat) - 1) == 0)
        p = out - 1;
    v[0] = '\0';
    if (p != NULL) {
        p += strlen(pat);
        size_t l = strcspn(p, "\n");
        snprintf(v, sizeof(v), "%.*s", (int)l, p);
    }
    return v;
}

static int count_lines(const char *prefix)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, prefix)) != NULL; p++)
        if (p == out || p[-1] == '\n')
            n++;
    return n;
}

static void wait_exit(gw_child *c)
{
    int st;
    int64_t until = gw_now_ms() + 10000;
    while (!gw_spawn_reap(c, &st) && gw_now_ms() < until)
        usleep(10000);
    gw_spawn_close(c);
}

int main(void)
{
    char err[GW_ERR_LEN], dir[] = "/tmp/gw-spawn-test.XXXXXX", secret[512], tmpmark[] = "/tmp/gw-spawn-mark.XXXXXX";
    char port_s[16], bwrap[256], pid_s[16];
    const char *args[3];
    gw_spawn_opts o;
    gw_child c;
    struct passwd *nobody = getpwnam("nobody");
    int root = geteuid() == 0 && nobody != NULL;

    /* what gatewayd has and a plugin must not get */
    setenv("DATABASE_URL", "postgres://gw:hunter2@db/aistudio", 1);
    setenv("AISTUDIO_SECRET_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int leaked = open("/dev/null", O_RDONLY); /* not close-on-exec */

    if (mkdtemp(dir) == NULL || (root && chown(dir, nobody->pw_uid, nobody->pw_gid) != 0))
        return 1;
    int mark = mkstemp(tmpmark);
    close(mark);
    snprintf(secret, sizeof(secret), "%s/secret.txt", GW_PROBE_DIR);
    FILE *f = fopen(secret, "w");
    fputs("top-secret\n", f);
    fclose(f);
    chmod(secret, 0644);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    bind(ls, (struct sockaddr *)&a, sizeof(a));
    listen(ls, 16);
    getsockname(ls, (struct sockaddr *)&a, &al);
    snprintf(port_s, sizeof(port_s), "%d", ntohs(a.sin_port));
    args[0] = port_s;
    args[1] = secret;
    args[2] = tmpmark;

    memset(&o, 0, sizeof(o));
    o.path = GW_PROBE;
    o.args = args;
    o.nargs = 3;
    o.name = "probe";
    o.dir = dir;
    o.mem_bytes = 256 << 20;
    o.cpu_s = 60;
    o.nofile = 64;
    if (root) {
        o.set_user = 1;
        o.uid = nobody->pw_uid;
        o.gid = nobody->pw_gid;
    }

    /* ---- no sandbox ---- */
    is_int(gw_spawn_start(&o, &c, err), 0, "the probe starts (%s)", err);
    ok(c.pid > 0 && c.out_fd >= 0 && c.err_fd >= 0 && c.in_fd >= 0, "a pid and its pipes");
    read_all(&c, NULL);
    wait_exit(&c);
    snprintf(pid_s, sizeof(pid_s), "%s", val("pid"));
    is_str(val("sid"), pid_s, "its own session");
    is_str(val("pgid"), pid_s, "its own process group");
    is_int(count_lines("env="), 6, "six environment variables");
    has_str(out, "env=PATH=/usr/local/bin:/usr/bin:/bin\n", "PATH");
    ok(strstr(out, "env=HOME=") != NULL && strstr(out, "env=TMPDIR=") != NULL && strstr(out, "env=LANG=C.UTF-8") != NULL,
       "HOME, TMPDIR, LANG");
    has_str(out, "env=AISTUDIO_PLUGIN_NAME=probe\n", "its name");
    has_str(out, "env=AISTUDIO_PLUGIN_DIR=/tmp/gw-spawn-test.", "its directory");
    lacks_str(out, "hunter2", "not DATABASE_URL");
    lacks_str(out, "AISTUDIO_SECRET_KEY", "not the master key");
    is_int(count_lines("fd="), 3, "three descriptors");
    ok(strstr(out, "\nfd=0\n") && strstr(out, "\nfd=1\n") && strstr(out, "\nfd=2\n"), "stdin, stdout, stderr only");
    is_str(val("rlimit_data"), "268435456", "RLIMIT_DATA");
    is_str(val("rlimit_cpu"), "60", "RLIMIT_CPU");
    is_str(val("rlimit_nofile"), "64", "RLIMIT_NOFILE");
    is_str(val("rlimit_core"), "0", "no core dumps");
    is_str(val("nnp"), "1", "no new privileges");
    is_str(val("sigblk"), "0000000000000000", "no blocked signal");
    is_str(val("sigign"), "0000000000000000", "no ignored signal");
    is_str(val("cwd"), dir, "its directory is its cwd");
    if (root)
        is_int(atoi(val("uid")), nobody->pw_uid, "runs as nobody when gatewayd is root");
    else
        ok(1, "# SKIP not root");
    is_str(val("net"), "ok", "without a sandbox, the network is there");
    is_str(val("secret"), "top-secret", "and files are readable as usual");
    is_str(val("tmpfile"), "present", "and /tmp is the host's");

    /* ---- the bubblewrap sandbox ---- */
    if (gw_spawn_find_bwrap(bwrap, sizeof(bwrap)) != 0) {
        for (int i = 0; i < 11; i++)
            ok(1, "# SKIP bwrap is not installed");
    } else {
        const char *hidden[] = {secret};
        o.sandbox = GW_SANDBOX_BWRAP;
        o.bwrap = bwrap;
        o.hidden = hidden;
        o.nhidden = 1;
        is_int(gw_spawn_start(&o, &c, err), 0, "the probe starts in the sandbox (%s)", err);
        read_all(&c, NULL);
        wait_exit(&c);
        has_str(val("net"), "error", "no network in the sandbox");
        lacks_str(val("secret"), "top-secret", "a hidden file cannot be read (%s)", val("secret"));
        is_str(val("tmpfile"), "absent", "a private /tmp");
        is_str(val("nnp"), "1", "no new privileges in the sandbox");
        o.network = 1;
        is_int(gw_spawn_start(&o, &c, err), 0, "the probe starts in the sandbox with the network (%s)", err);
        read_all(&c, NULL);
        wait_exit(&c);
        is_str(val("net"), "ok", "the network when the manifest asks for it");
        o.network = 0;
        /* a plugin installed under /tmp: its top directory there survives the private /tmp */
        char exe_dir[] = "/tmp/gw-spawn-exe.XXXXXX", exe[64], cp[256];
        const char *orig_path = o.path;
        ok(mkdtemp(exe_dir) != NULL, "a plugin directory under /tmp");
        snprintf(exe, sizeof(exe), "%s/probe", exe_dir);
        snprintf(cp, sizeof(cp), "cp '%s' '%s' && chmod 755 '%s'", orig_path, exe, exe_dir);
        o.path = exe;
        is_int(system(cp) == 0 && gw_spawn_start(&o, &c, err) == 0 ? 0 : -1, 0,
               "a probe under /tmp starts in the sandbox (%s)", err);
        read_all(&c, NULL);
        wait_exit(&c);
        is_str(val("nnp"), "1", "and runs");
        is_str(val("tmpfile"), "absent", "with /tmp still private");
        o.path = orig_path;
        unlink(exe);
        rmdir(exe_dir);
        o.sandbox = GW_SANDBOX_NONE;
        o.network = 0;
        o.nhidden = 0;
    }

    /* ---- exec failures are spawn's errors ---- */
    o.path = "/nonexistent/plugin";
    is_int(gw_spawn_start(&o, &c, err), -1, "a missing executable is refused");
    has_str(err, "cannot execute /nonexistent/plugin: No such file or directory", "... with the reason");
    o.path = secret;
    is_int(gw_spawn_start(&o, &c, err), -1, "a file that is not executable is refused");
    has_str(err, "Permission denied", "... with the reason");
    o.path = "relative/plugin";
    is_int(gw_spawn_start(&o, &c, err), -1, "a relative path is refused");
    has_str(err, "absolute path", "... and said so");

    /* ---- stop: SIGTERM ignored, a child left in the group ---- */
    const char *hang_args[] = {port_s, secret, tmpmark, "hang"};
    o.path = GW_PROBE;
    o.args = hang_args;
    o.nargs = 4;
    is_int(gw_spawn_start(&o, &c, err), 0, "a probe that ignores SIGTERM starts");
    read_all(&c, "child=");
    int child = atoi(val("child")), pid = c.pid;
    ok(child > 0 && kill(child, 0) == 0, "it left a child in its group");
    int64_t t0 = gw_now_ms();
    gw_spawn_stop(&c, 300);
    ok(gw_now_ms() - t0 < 5000, "stop returns after its grace period");
    ok(kill(pid, 0) != 0, "the plugin is gone");
    usleep(100000);
    ok(kill(child, 0) != 0 || errno != 0, "its child is gone too");
    is_int(c.pid, 0, "the child is reaped");
    is_int(c.out_fd, -1, "its pipes are closed");

    /* ---- the sandbox's command line ---- */
    gw_spawn_plan plan;
    const char *w[] = {"/var/log/aistudio"};
    memset(&o, 0, sizeof(o));
    o.path = "/opt/p/plugin";
    o.dir = "/tmp/x/1-1";
    o.sandbox = GW_SANDBOX_BWRAP;
    o.bwrap = "/usr/bin/bwrap";
    o.writable = w;
    o.nwritable = 1;
    is_int(gw_spawn_plan_build(&o, &plan, err), 0, "a bwrap plan");
    char cmd[2048] = "";
    for (size_t i = 0; i < plan.argc; i++)
        snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", plan.argv[i]);
    has_str(cmd, "/usr/bin/bwrap --die-with-parent --unshare-all --cap-drop ALL --ro-bind / / --dev /dev --proc /proc "
                 "--tmpfs /tmp",
            "every namespace unshared, a read-only root, fresh /dev, /proc, /tmp");
    lacks_str(cmd, "--share-net", "no network by default");
    has_str(cmd, "--bind /var/log/aistudio /var/log/aistudio --bind /tmp/x/1-1 /tmp/x/1-1 --chdir /tmp/x/1-1 -- "
                 "/opt/p/plugin",
            "the writable paths and its directory bound, then the plugin");
    o.nwritable = GW_SPAWN_MAX_PATHS + 1;
    is_int(gw_spawn_plan_build(&o, &plan, err), -1, "too many paths are refused");

    close(leaked);
    close(ls);
    unlink(secret);
    unlink(tmpmark);
    rmdir(dir);
    return tap_done();
}
