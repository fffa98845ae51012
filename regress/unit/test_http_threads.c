/*
 * regress/unit/test_http_threads.c: threads are a resource of the whole
 * machine (src/http/server.c):
 *   - a pool sized from the limits takes at most a quarter of the threads
 *     still free (gw_http_size_threads), a configured one is left alone;
 *   - gw_http_threads_free reads this machine's limits;
 *   - a listener that gw_http_start reports as started answers requests,
 *     also when the system refuses it some of its threads: a child process
 *     (as nobody when run as root) under a small RLIMIT_NPROC asks for more
 *     workers than it may start. civetweb alone then carried on without
 *     its accepting thread, listening on a port where nobody accepts.
 */
/* a refused start is seen sooner here than gatewayd waits for it */
#define GW_HTTP_THREAD_START_MS 2000
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/connguard.c"
#include "http/server.c"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "loopback.h"
#include "tap.h"

static int h_ok(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    return 200;
}

/* 1 when GET /ok on the port is answered 200 within 5 s. */
static int answered(int port)
{
    struct sockaddr_in dst;
    struct timeval tv = {5, 0};
    char buf[256];
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok200 = 0;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0) {
        const char *rq = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n";
        if (send(fd, rq, strlen(rq), MSG_NOSIGNAL) == (ssize_t)strlen(rq) && (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
            buf[n] = '\0';
            ok200 = strncmp(buf, "HTTP/1.1 200", 12) == 0;
        }
    }
    close(fd);
    return ok200;
}

/* The threads of every process of this real uid (RLIMIT_NPROC counts them). */
static int threads_of_uid(uid_t uid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int total = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], line[256];
        unsigned ruid = 0;
        int threads = 0, mine = 0;
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        while (fgets(line, sizeof(line), f) != NULL) {
            if (sscanf(line, "Uid: %u", &ruid) == 1)
                mine = ruid == uid;
            sscanf(line, "Threads: %d", &threads);
        }
        fclose(f);
        if (mine)
            total += threads;
    }
    closedir(d);
    return total;
}

/* The child: a listener asking for `threads` workers when only `room`
 * more threads than its connection watchdog may start (RLIMIT_NPROC over
 * what its uid runs now). Exit 0: started and answers; 2: refused to start
 * with a message about its threads; 1: anything else (started but deaf). */
static int child(int threads, int room)
{
    static const gw_http_route routes[] = {{"/ok", h_ok, NULL}};
    struct rlimit rl;
    struct mg_context *ctx = NULL;
    char err[GW_ERR_LEN];
    gw_http_opts o;
    int port = free_port(), running;

    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 3;
    if ((running = threads_of_uid(getuid())) < 1)
        return 3;
    rl.rlim_cur = rl.rlim_max = (rlim_t)(running + 1 + room);
    if (setrlimit(RLIMIT_NPROC, &rl) != 0)
        return 3;
    memset(&o, 0, sizeof(o));
    o.name = "threads-test";
    o.host = "127.0.0.1";
    o.port = port;
    o.threads = threads;
    o.request_timeout_ms = 5000;
    o.keep_alive_timeout_ms = 5000;
    o.max_header_bytes = 16384;
    mg_init_library(0);
    if (gw_http_start(&o, routes, 1, &ctx, err) != 0) {
        fprintf(stderr, "# child: %s\n", err);
        return strstr(err, "thread") != NULL ? 2 : 1;
    }
    return answered(port) ? 0 : 1;
}

static int run_child(int threads, int room)
{
    int st = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(child(threads, room));
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

int main(void)
{
    gw_http_sizing z;
    long long gib = 1024LL * 1024 * 1024, fr;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    gw_log_set_level(GW_LOG_ERROR);

    gw_http_size(20000, 24 * gib, 0, 48, &z);
    is_int(z.workers, (20000 - GW_HTTP_FD_RESERVE - 48 * 4) / 4, "20,000 descriptors: 4,824 workers");
    gw_http_size_threads(&z, 100000);
    is_int(z.workers, (20000 - GW_HTTP_FD_RESERVE - 48 * 4) / 4, "plenty of threads free: unchanged");
    gw_http_size_threads(&z, 8000);
    is_int(z.workers, 2000, "8,000 threads free: a quarter of them");
    ok(z.upstream_calls <= z.workers + 48, "upstream calls follow the smaller pool");
    is_int((int)z.threads_free, 8000, "the free threads are kept for the log");
    gw_http_size_threads(&z, 10);
    is_int(z.workers, GW_HTTP_MIN_WORKERS, "never fewer than GW_HTTP_MIN_WORKERS");
    gw_http_size(20000, 24 * gib, 0, 48, &z);
    gw_http_size_threads(&z, -1);
    is_int(z.workers, (20000 - GW_HTTP_FD_RESERVE - 48 * 4) / 4, "unknown limits: unchanged");
    gw_http_size(20000, 24 * gib, 6000, 48, &z);
    gw_http_size_threads(&z, 8000);
    is_int(z.workers, 6000, "WORKER_THREADS as given, whatever is free");

    fr = gw_http_threads_free();
    ok(fr > 0, "this machine's free threads are read (%lld)", fr);

    /* a listener that says it started answers: enough threads */
    is_int(run_child(8, 4096), 0, "8 workers with room to spare: started and answering");
    /* fewer threads than asked: started with fewer workers and answering,
     * or refused with a reason; never started and deaf */
    for (int room = 0; room <= 4; room += 2) {
        rc = run_child(64, room);
        ok(rc == 0 || rc == 2, "64 workers, room for %d more threads: answering, or refused for its threads (got %d)",
           room, rc);
    }
    return tap_done();
}
