/*
 * regress/unit/test_daemon.c: runs the real gatewayd binary (the ASan build
 * by default) against no database on free ports of 127.0.0.1, h2o-style:
 * spawn, poll until ready, always kill. Checks the command line (--help,
 * --check-config, exit 2 naming a bad setting), /healthz 200, /readyz 503
 * without a database, JSON 404s, the civetweb CVE inputs (thousands of
 * slashes; a NUL byte in a form post), an oversized request head, a taken
 * port, and SIGTERM → exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"
#include "tap.h"

#ifndef GW_TEST_DAEMON
#error "build with -DGW_TEST_DAEMON=path"
#endif

static pid_t running_pid = -1;

/* This run's scratch folder (logs, the spool): never shared with another
 * run of the tests on the same machine. */
static char scratch[64] = "/tmp/gw-test-daemon.XXXXXX";
static char run_log[96], daemon_log[96], spool_dir[128];

static void cleanup(void)
{
    if (running_pid > 0) {
        kill(running_pid, SIGKILL);
        waitpid(running_pid, NULL, 0);
        running_pid = -1;
    }
    if (scratch[strlen(scratch) - 1] != 'X') {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
        if (system(cmd) != 0)
            fprintf(stderr, "# could not remove %s\n", scratch);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Environment for a child: sanitizer options and PATH from ours, plus vars. */
static char **make_env(const char *const *vars)
{
    static const char *keep[] = {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL};
    char **envp = calloc(64, sizeof(char *));
    int n = 0;
    for (int i = 0; keep[i] != NULL; i++) {
        const char *v = getenv(keep[i]);
        if (v != NULL) {
            envp[n] = malloc(strlen(keep[i]) + strlen(v) + 2);
            sprintf(envp[n++], "%s=%s", keep[i], v);
        }
    }
    for (int i = 0; vars != NULL && vars[i] != NULL && n < 62; i++)
        envp[n++] = strdup(vars[i]);
    envp[n] = NULL;
    return envp;
}

static void free_env(char **envp)
{
    for (int i = 0; envp[i] != NULL; i++)
        free(envp[i]);
    free(envp);
}

/* Starts the daemon with args and env; stdout+stderr go to logpath. */
static pid_t spawn(const char *const *vars, const char *arg, const char *logpath)
{
    char **envp = make_env(vars);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char *argv[3] = {(char *)GW_TEST_DAEMON, (char *)arg, NULL};
        dup2(fd, 1);
        dup2(fd, 2);
        execve(GW_TEST_DAEMON, argv, envp);
        _exit(127);
    }
    free_env(envp);
    return pid;
}

/* Waits up to timeout_ms; the exit status, or -1 (then the child is killed). */
static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return -1;
        }
        usleep(20000);
    }
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = 0;
    buf[0] = '\0';
    if (f != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* Runs the daemon to completion; returns its exit status, output in *out. */
static int run(const char *const *vars, const char *arg, char **out)
{
    const char *log = run_log;
    pid_t pid = spawn(vars, arg, log);
    int rc = wait_exit(pid, 20000);
    *out = slurp(log);
    unlink(log);
    return rc;
}

/* Sends a raw request; returns the status code (or -1), body into buf. */
static int http_raw(int port, const char *req, size_t req_len, char *buf, size_t cap)
{
    struct sockaddr_in a;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
    size_t n = 0, off = 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    buf[0] = '\0';
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    while (off < req_len) {
        ssize_t w = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may answer and close before reading it all */
        off += (size_t)w;
    }
    for (;;) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n + 1 >= cap)
            break;
    }
    buf[n] = '\0';
    close(fd);
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

static int http_get(int port, const char *method, const char *path, char *buf, size_t cap)
{
    char req[16384];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", method, path);
    return http_raw(port, req, (size_t)n, buf, cap);
}

int main(void)
{
    char *out, buf[65536];
    int port = free_port(), dead_port = free_port(), rc;
    char proxy_port[32], dburl[160], side_ports[2][2][32];
    const char *log = daemon_log;
    pid_t pid;
    int64_t t0;

    if (mkdtemp(scratch) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(run_log, sizeof(run_log), "%s/run.log", scratch);
    snprintf(daemon_log, sizeof(daemon_log), "%s/daemon.log", scratch);
    snprintf(spool_dir, sizeof(spool_dir), "SPOOL_DIR=%s/spool", scratch);
    atexit(cleanup);
    signal(SIGPIPE, SIG_IGN);
    ok(access(GW_TEST_DAEMON, X_OK) == 0, "daemon binary exists: %s", GW_TEST_DAEMON);
    ok(port > 0 && dead_port > 0 && port != dead_port, "free ports %d (proxy) and %d (no database)", port, dead_port);
    snprintf(proxy_port, sizeof(proxy_port), "PROXY_PORT=%d", port);
    /* SERVER_PORT and DOCS_PORT of each of the two daemons: free ports, not
     * the defaults (8080, 8989), which may be in use on the machine */
    for (int d = 0; d < 2; d++) {
        snprintf(side_ports[d][0], sizeof(side_ports[d][0]), "SERVER_PORT=%d", free_port());
        snprintf(side_ports[d][1], sizeof(side_ports[d][1]), "DOCS_PORT=%d", free_port());
    }
    snprintf(dburl, sizeof(dburl),
             "DATABASE_URL=host=127.0.0.1 port=%d dbname=none user=gw password=pw-never-logged connect_timeout=2",
             dead_port);

    /* ---- command line and configuration errors ---- */
    rc = run(NULL, "--help", &out);
    ok(rc == 0 && strstr(out, "PROXY_PORT") && strstr(out, "SHUTDOWN_GRACE_MS") && strstr(out, "LISTEN_HOST"),
       "--help exits 0 and lists the settings");
    {
        const char *vars[] = {proxy_port, dburl, "AISTUDIO_SECRET_KEY="
                                                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                              NULL};
        rc = run(vars, "--check-config", &out);
        ok(rc == 0 && strstr(out, "configuration ok") != NULL, "--check-config exits 0 on a good configuration");
        ok(strstr(out, "pw-never-logged") == NULL && strstr(out, "8899aabbcc") == NULL,
           "--check-config hides the password and the key");
    }
    {
        static const struct {
            const char *var, *setting, *what;
        } bad[] = {
            {"PROXY_PORT=abc", "PROXY_PORT", "non-numeric port"},
            {"PROXY_PORT=70000", "PROXY_PORT", "port out of range"},
            {"GATEWAY_MODE=hub", "GATEWAY_MODE", "unknown mode"},
            {"GATEWAY_MODE=edge", "CONTROL_ENDPOINT", "edge mode without CONTROL_ENDPOINT"},
            {"AISTUDIO_SECRET_KEY=deadbeef", "AISTUDIO_SECRET_KEY", "short master key"},
            {"AISTUDIO_SECRET_KEY_FILE=/nonexistent/key", "AISTUDIO_SECRET_KEY_FILE", "unreadable key file"},
            {"LOG_LEVEL=loud", "LOG_LEVEL", "unknown log level"},
            {"MAX_BODY_BYTES=lots", "MAX_BODY_BYTES", "bad byte count"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            const char *vars[] = {bad[i].var, NULL};
            rc = run(vars, NULL, &out);
            ok(rc == 2 && strstr(out, bad[i].setting) != NULL, "%s: exit 2 naming %s", bad[i].what, bad[i].setting);
            if (rc != 2 || strstr(out, bad[i].setting) == NULL)
                diag("exit %d, output: %s", rc, out);
        }
        {
            const char *vars[] = {"AISTUDIO_SECRET_KEY=deadbeef", NULL};
            run(vars, NULL, &out);
            ok(strstr(out, "deadbeef") == NULL, "a bad key is not echoed");
        }
        rc = run(NULL, "--bogus", &out);
        ok(rc == 2, "unknown argument: exit 2");
    }

    /* ---- a running daemon without a database ---- */
    {
        const char *vars[] = {proxy_port,     dburl, "WORKER_THREADS=8", "SHUTDOWN_GRACE_MS=5000", "LOG_LEVEL=info",
                              spool_dir, side_ports[0][0], side_ports[0][1], NULL};
        pid = spawn(vars, NULL, log);
        running_pid = pid;
    }
    t0 = now_ms();
    rc = -1;
    while (now_ms() - t0 < 15000) {
        rc = http_get(port, "GET", "/healthz", buf, sizeof(buf));
        if (rc == 200)
            break;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            running_pid = -1;
            break;
        }
        usleep(50000);
    }
    ok(rc == 200 && strstr(buf, "\r\n\r\nok") != NULL, "/healthz 200 \"ok\" (database down)");
    if (rc != 200) {
        diag("daemon log: %s", slurp(log));
        cleanup();
        return tap_done();
    }
    rc = http_get(port, "GET", "/readyz", buf, sizeof(buf));
    ok(rc == 503, "/readyz 503 without a database");
    ok(strstr(buf, "\"not_ready\"") && strstr(buf, "\"unreachable\"") && strstr(buf, "application/json"),
       "/readyz says why, as JSON");
    rc = http_get(port, "HEAD", "/healthz", buf, sizeof(buf));
    ok(rc == 200 && strstr(buf, "\r\n\r\n") != NULL && strstr(buf, "\r\n\r\n")[4] == '\0', "HEAD /healthz: no body");
    rc = http_get(port, "POST", "/healthz", buf, sizeof(buf));
    ok(rc == 405, "POST /healthz -> 405");
    rc = http_get(port, "GET", "/no/such/route", buf, sizeof(buf));
    ok(rc == 404 && strstr(buf, "{\"error\":{\"message\":") != NULL, "unknown route -> JSON 404 in OpenAI shape");
    rc = http_get(port, "GET", "/healthz/extra", buf, sizeof(buf));
    ok(rc == 404, "/healthz/extra -> 404 (exact paths only)");
    rc = http_get(port, "GET", "/../../etc/passwd", buf, sizeof(buf));
    ok(rc == 404 && strstr(buf, "root:") == NULL, "path traversal -> 404, no file served");
    {
        const char *req = "OPTIONS /healthz HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.test\r\n"
                          "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n";
        rc = http_raw(port, req, strlen(req), buf, sizeof(buf));
        ok(rc != 200 && rc != 204 && strstr(buf, "Access-Control-Allow-Origin") == NULL,
           "CORS closed: no preflight approval, no Allow-Origin header");
    }

    /* CVE-2025-55763: a GET with thousands of '/' (heap overflow in the
     * directory redirect of civetweb's file serving, which we never reach) */
    {
        static char path[6000];
        memset(path, '/', sizeof(path) - 1);
        path[sizeof(path) - 1] = '\0';
        rc = http_get(port, "GET", path, buf, sizeof(buf));
        ok(rc == 404, "GET with 5999 slashes -> 404");
        ok(http_get(port, "GET", "/healthz", buf, sizeof(buf)) == 200, "daemon alive after the slash flood");
    }
    /* CVE-2025-9648: a NUL byte in a form POST looped forever in
     * mg_handle_form_request, which we never call */
    {
        const char req[] = "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                           "Content-Length: 7\r\nConnection: close\r\n\r\na=\0b&c=d";
        t0 = now_ms();
        rc = http_raw(port, req, sizeof(req) - 1, buf, sizeof(buf));
        ok(rc == 404 && now_ms() - t0 < 5000, "form POST with a NUL byte -> 404 promptly");
        ok(http_get(port, "GET", "/healthz", buf, sizeof(buf)) == 200, "daemon alive after the NUL form post");
    }
    /* a request head above MAX_HEADER_BYTES (32 KiB by default) */
    {
        static char req[48 * 1024];
        int n = snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
        memset(req + n, 'a', 40000);
        n += 40000;
        n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\nConnection: close\r\n\r\n");
        rc = http_raw(port, req, (size_t)n, buf, sizeof(buf));
        ok(rc == -1 || (rc >= 400 && rc < 500), "40 KB header refused (status %d)", rc);
        ok(http_get(port, "GET", "/healthz", buf, sizeof(buf)) == 200, "daemon alive after the oversized head");
    }

    /* the port is taken: a second daemon fails, naming the setting */
    {
        /* (its own free SERVER_PORT and DOCS_PORT: only PROXY_PORT is taken) */
        const char *vars[] = {proxy_port, dburl, "WORKER_THREADS=4", side_ports[1][0], side_ports[1][1], NULL};
        rc = run(vars, NULL, &out);
        ok(rc == 1 && strstr(out, "PROXY_PORT") != NULL, "second daemon on a taken port exits 1 naming PROXY_PORT");
    }

    /* SIGTERM: stop accepting, drain, exit 0 */
    ok(kill(pid, SIGTERM) == 0, "SIGTERM sent");
    rc = wait_exit(pid, 15000);
    running_pid = -1;
    is_int(rc, 0, "exit status 0 after SIGTERM (and no sanitizer report)");
    out = slurp(log);
    ok(strstr(out, "shutting down") != NULL && strstr(out, "gatewayd stopped") != NULL, "shutdown logged");
    ok(strstr(out, "database unreachable") != NULL, "the missing database is logged");
    ok(strstr(out, "pw-never-logged") == NULL, "the database password never reaches the log");
    ok(strstr(out, "ERROR: AddressSanitizer") == NULL && strstr(out, "runtime error") == NULL,
       "no sanitizer findings in the daemon log");
    if (rc != 0)
        diag("daemon log: %s", out);
    unlink(log);
    return tap_done();
}
