/*
 * bench/rpc/rpc_bench.c: the cost of src/rpc (numbers for docs/BENCHMARKS.md,
 * never a test). An echo server and its clients over 127.0.0.1:
 *
 *   rpc_bench unary [SECONDS]    unary round trips per second: one caller on
 *                                one connection, then 64 callers sharing one
 *                                connection, then 64 callers on 8 connections
 *   rpc_bench pingpong [SECONDS] the same 64 callers, each with a bidi stream
 *                                of its own instead of unary calls: send one
 *                                message, sleep until the echo arrives (the
 *                                cost of a message round trip on a stream)
 *   rpc_bench streams [N]        memory per idle bidi stream: a child process
 *                                opens N clients (N connections, like N edges)
 *                                with one stream each; the server's RSS growth
 *                                divided by N (and the clients' likewise)
 *
 * Server and clients share the machine's cores, so the unary figures are a
 * floor for one side.
 */
#include "base/codec.c"
#include "base/log.c"
#include "rpc/call.c"
#include "rpc/client.c"
#include "rpc/core.c"
#include "rpc/pool.c"
#include "rpc/server.c"

#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

static void echo(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    (void)call;
    (void)arg;
    gw_rpc_reply_set(reply, req, len);
}

static void chat_open(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg)
{
    (void)call;
    (void)req;
    (void)len;
    (void)arg;
}

static void chat_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    (void)arg;
    char err[GW_ERR_LEN];
    if (data != NULL)
        gw_rpc_call_send(call, data, len, err);
    else
        gw_rpc_call_finish(call, GW_RPC_OK, NULL, err);
}

static void chat_close(gw_rpc_call *call, gw_rpc_status status, void *arg)
{
    (void)call;
    (void)status;
    (void)arg;
}

static gw_rpc_server *start_server(int workers)
{
    char err[GW_ERR_LEN];
    gw_rpc_server_opts o = {0};
    o.listen = "127.0.0.1:0";
    o.workers = workers;
    o.max_streams = 100000;
    gw_rpc_server *srv = gw_rpc_server_create(&o, err);
    gw_rpc_method m1 = {.name = "/bench.Echo/Say", .kind = GW_RPC_UNARY, .unary = echo};
    gw_rpc_method m2 = {.name = "/bench.Echo/Chat",
                        .kind = GW_RPC_BIDI,
                        .open = chat_open,
                        .message = chat_message,
                        .close = chat_close};
    if (srv == NULL || gw_rpc_server_add_method(srv, &m1, err) != 0 || gw_rpc_server_add_method(srv, &m2, err) != 0 ||
        gw_rpc_server_start(srv, err) != 0) {
        fprintf(stderr, "server: %s\n", err);
        exit(1);
    }
    return srv;
}

static gw_rpc_client *connect_to(int port)
{
    char target[64], err[GW_ERR_LEN];
    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    gw_rpc_client_opts o = {0};
    o.target = target;
    o.timeout_ms = 5000;
    gw_rpc_client *c = gw_rpc_client_create(&o, err);
    if (c == NULL) {
        fprintf(stderr, "client: %s\n", err);
        exit(1);
    }
    return c;
}

typedef struct caller {
    gw_rpc_client *cli;
    int64_t until;
    long calls, errors;
} caller;

static void *call_loop(void *arg)
{
    caller *c = arg;
    const char msg[64] = "a 64-byte request, about the size of a credential check message";
    while (gw_now_ms() < c->until) {
        gw_rpc_reply r;
        if (gw_rpc_client_unary(c->cli, "/bench.Echo/Say", NULL, 0, msg, sizeof(msg), 0, &r) == 0)
            c->calls++;
        else
            c->errors++;
        gw_rpc_reply_clear(&r);
    }
    return NULL;
}

static void unary_run(int port, int threads, int conns, int seconds)
{
    gw_rpc_client *cli[64];
    for (int i = 0; i < conns; i++)
        cli[i] = connect_to(port);
    caller *cs = calloc((size_t)threads, sizeof(caller));
    pthread_t *th = calloc((size_t)threads, sizeof(pthread_t));
    int64_t t0 = gw_now_ms();
    for (int i = 0; i < threads; i++) {
        cs[i].cli = cli[i % conns];
        cs[i].until = t0 + seconds * 1000;
        pthread_create(&th[i], NULL, call_loop, &cs[i]);
    }
    long calls = 0, errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        calls += cs[i].calls;
        errors += cs[i].errors;
    }
    double secs = (double)(gw_now_ms() - t0) / 1000.0;
    printf("unary: %2d caller(s) on %d connection(s): %8.0f calls/s  (%ld calls, %ld errors, %.1f s)\n", threads,
           conns, (double)calls / secs, calls, errors, secs);
    for (int i = 0; i < conns; i++)
        gw_rpc_client_destroy(cli[i]);
    free(cs);
    free(th);
}

/* A caller with a stream of its own: the message callback wakes it. */
typedef struct ponger {
    caller base;
    gw_rpc_call *stream;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int answered;
} ponger;

static void pong_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    (void)call;
    (void)data;
    (void)len;
    ponger *p = arg;
    pthread_mutex_lock(&p->mu);
    p->answered = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void pong_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    (void)call;
    (void)status;
    (void)message;
    ponger *p = arg;
    pthread_mutex_lock(&p->mu);
    p->answered = -1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *ping_loop(void *arg)
{
    ponger *p = arg;
    const char msg[64] = "a 64-byte request, about the size of a credential check message";
    char err[GW_ERR_LEN];
    while (gw_now_ms() < p->base.until) {
        pthread_mutex_lock(&p->mu);
        p->answered = 0;
        pthread_mutex_unlock(&p->mu);
        if (gw_rpc_call_send(p->stream, msg, sizeof(msg), err) != 0) {
            p->base.errors++;
            break;
        }
        pthread_mutex_lock(&p->mu);
        while (p->answered == 0)
            pthread_cond_wait(&p->cv, &p->mu);
        int ok = p->answered > 0;
        pthread_mutex_unlock(&p->mu);
        if (!ok) {
            p->base.errors++;
            break;
        }
        p->base.calls++;
    }
    return NULL;
}

static void pingpong_run(int port, int threads, int conns, int seconds)
{
    gw_rpc_client *cli[64];
    char err[GW_ERR_LEN];
    for (int i = 0; i < conns; i++)
        cli[i] = connect_to(port);
    ponger *ps = calloc((size_t)threads, sizeof(ponger));
    pthread_t *th = calloc((size_t)threads, sizeof(pthread_t));
    for (int i = 0; i < threads; i++) {
        pthread_mutex_init(&ps[i].mu, NULL);
        pthread_cond_init(&ps[i].cv, NULL);
        gw_rpc_stream_cbs cbs = {pong_message, pong_close, &ps[i]};
        ps[i].stream = gw_rpc_client_stream(cli[i % conns], "/bench.Echo/Chat", NULL, 0, 0, &cbs, err);
        if (ps[i].stream == NULL) {
            fprintf(stderr, "stream: %s\n", err);
            exit(1);
        }
    }
    int64_t t0 = gw_now_ms();
    for (int i = 0; i < threads; i++) {
        ps[i].base.until = t0 + seconds * 1000;
        pthread_create(&th[i], NULL, ping_loop, &ps[i]);
    }
    long calls = 0, errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        calls += ps[i].base.calls;
        errors += ps[i].base.errors;
    }
    double secs = (double)(gw_now_ms() - t0) / 1000.0;
    printf("pingpong: %2d stream(s) on %d connection(s): %8.0f round trips/s  (%ld, %ld errors, %.1f s)\n", threads,
           conns, (double)calls / secs, calls, errors, secs);
    for (int i = 0; i < threads; i++) {
        gw_rpc_call_close_send(ps[i].stream, err);
    }
    for (int i = 0; i < conns; i++)
        gw_rpc_client_destroy(cli[i]);
    free(ps);
    free(th);
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb;
}

static atomic_int echoed;

static void got_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    (void)call;
    (void)data;
    (void)len;
    (void)arg;
    atomic_fetch_add(&echoed, 1);
}

static void got_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    (void)call;
    (void)status;
    (void)message;
    (void)arg;
}

/* The child: n clients, one stream each, one echo each, then idle. */
static void stream_clients(int port, int n, int ready_fd)
{
    gw_rpc_client **cli = calloc((size_t)n, sizeof(*cli));
    gw_rpc_call **s = calloc((size_t)n, sizeof(*s));
    gw_rpc_stream_cbs cbs = {got_message, got_close, NULL};
    char err[GW_ERR_LEN];
    long base = rss_kb(getpid());
    for (int i = 0; i < n; i++) {
        cli[i] = connect_to(port);
        s[i] = gw_rpc_client_stream(cli[i], "/bench.Echo/Chat", NULL, 0, 0, &cbs, err);
        gw_rpc_call_send(s[i], "hello", 5, err);
    }
    int64_t until = gw_now_ms() + 60000;
    while (atomic_load(&echoed) < n && gw_now_ms() < until)
        usleep(10000);
    long after = rss_kb(getpid());
    printf("streams: clients' side: %d connections with one stream each: %ld kB, %.1f kB per stream (%d echoed)\n", n,
           after - base, (double)(after - base) / n, atomic_load(&echoed));
    fflush(stdout);
    if (write(ready_fd, "r", 1) != 1)
        exit(1);
    pause(); /* until the parent kills us */
}

/* grpc does not survive fork(): the child is forked before grpc starts and
 * learns the port through a pipe. */
static void streams_run(int n)
{
    int to_child[2], to_parent[2];
    if (pipe(to_child) != 0 || pipe(to_parent) != 0)
        exit(1);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        int port = 0;
        if (read(to_child[0], &port, sizeof(port)) != (ssize_t)sizeof(port))
            _exit(1);
        stream_clients(port, n, to_parent[1]);
        _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    gw_rpc_server *srv = start_server(4);
    int port = gw_rpc_server_port(srv);
    usleep(200000);
    long base = rss_kb(getpid());
    if (write(to_child[1], &port, sizeof(port)) != (ssize_t)sizeof(port))
        exit(1);
    char c;
    if (read(to_parent[0], &c, 1) != 1)
        fprintf(stderr, "the client process failed\n");
    usleep(500000);
    long after = rss_kb(getpid());
    printf("streams: server's side: %d live streams (%d counted): %ld kB, %.1f kB per stream\n", n,
           gw_rpc_server_streams(srv), after - base, (double)(after - base) / n);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    gw_rpc_server_destroy(srv);
}

int main(int argc, char **argv)
{
    gw_log_set_level(GW_LOG_ERROR);
    const char *mode = argc > 1 ? argv[1] : "unary";
    if (strcmp(mode, "unary") == 0 || strcmp(mode, "pingpong") == 0) {
        void (*run)(int, int, int, int) = strcmp(mode, "unary") == 0 ? unary_run : pingpong_run;
        int seconds = argc > 2 ? atoi(argv[2]) : 5;
        gw_rpc_server *srv = start_server(4);
        int port = gw_rpc_server_port(srv);
        run(port, 1, 1, seconds);
        run(port, 64, 1, seconds);
        run(port, 64, 8, seconds);
        gw_rpc_server_destroy(srv);
    } else if (strcmp(mode, "streams") == 0) {
        streams_run(argc > 2 ? atoi(argv[2]) : 1000);
    } else {
        fprintf(stderr, "usage: rpc_bench unary [SECONDS] | pingpong [SECONDS] | streams [N]\n");
        return 2;
    }
    return 0;
}
