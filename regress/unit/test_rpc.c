/*
 * regress/unit/test_rpc.c: src/rpc against itself and against an
 * independent client. An echo service (/test.Echo/Say unary, /Chat bidi,
 * /Watch server-streaming) over TCP and over a unix socket: unary calls;
 * handler statuses; unknown methods; the auth callback denying bad tokens
 * (the handler never runs); deadlines (the client gets DEADLINE_EXCEEDED
 * while the handler still runs, the handler sees the cancellation, the
 * server goes on); oversized messages (RESOURCE_EXHAUSTED both ways);
 * a bidi stream with unsolicited pushes from another thread; the
 * max_streams admission; 200 concurrent unary calls from 8 threads; a
 * unary call from a stream callback (on the client's event thread); stop
 * with calls and streams in flight; a client stream reopened across a
 * server restart; TLS with a certificate made by the openssl CLI; bad
 * input; and rpc_interop.py (Debian's python3-grpcio) as the client.
 * Everything is destroyed at the end, so LeakSanitizer checks for leaks.
 */
#include "base/codec.c"
#include "base/log.c"
#include "rpc/call.c"
#include "rpc/client.c"
#include "rpc/core.c"
#include "rpc/pool.c"
#include "rpc/server.c"

#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define TOKEN "s3cret-edge-token"
/* Generous functional bounds: nothing here should take a tenth of it. */
#define WAIT_MS 15000

/* ---- the echo service ---- */

static atomic_int handler_calls, opens, closes, auth_made, auth_released, saw_cancel;
static atomic_int last_close_status;
static atomic_int flood_sent = -1;
static atomic_int release_sleepers; /* ends the "sleep" handlers */
static char flood_err[GW_ERR_LEN];
static pthread_mutex_t push_mu = PTHREAD_MUTEX_INITIALIZER;
static gw_rpc_call *push_target; /* the latest Chat stream (a reference) */

static gw_rpc_status echo_auth(gw_rpc_call *call, const gw_rpc_md *md, size_t n, void **ctx, char msg[GW_ERR_LEN],
                               void *arg)
{
    (void)call;
    (void)arg;
    const char *tok = gw_rpc_md_bearer(md, n);
    if (tok == NULL || strcmp(tok, TOKEN) != 0) {
        snprintf(msg, GW_ERR_LEN, "bad or missing token");
        return GW_RPC_UNAUTHENTICATED;
    }
    *ctx = strdup("edge-7");
    atomic_fetch_add(&auth_made, 1);
    return GW_RPC_OK;
}

static void echo_auth_release(void *ctx)
{
    atomic_fetch_add(&auth_released, 1);
    free(ctx);
}

static void say(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    (void)arg;
    atomic_fetch_add(&handler_calls, 1);
    if (len == 5 && memcmp(req, "sleep", 5) == 0) {
        /* a slow handler (a stuck database): waits for its call to end */
        int64_t until = gw_now_ms() + WAIT_MS;
        while (!gw_rpc_call_done(call) && !atomic_load(&release_sleepers) && gw_now_ms() < until)
            usleep(5000);
        if (gw_rpc_call_done(call))
            atomic_fetch_add(&saw_cancel, 1);
        gw_rpc_reply_set(reply, "late", 4);
    } else if (len == 4 && memcmp(req, "fail", 4) == 0) {
        gw_rpc_reply_fail(reply, GW_RPC_NOT_FOUND, "no such thing");
    } else if (len == 6 && memcmp(req, "whoami", 6) == 0) {
        char out[128];
        snprintf(out, sizeof(out), "%s deadline=%s", (char *)gw_rpc_call_auth(call),
                 gw_rpc_call_deadline_ms(call) > 0 ? "yes" : "no");
        gw_rpc_reply_set(reply, out, strlen(out));
    } else if (len > 4 && memcmp(req, "big:", 4) == 0) {
        size_t n = (size_t)atol((const char *)req + 4);
        unsigned char *p = gw_rpc_reply_alloc(reply, n);
        if (p != NULL)
            memset(p, 'b', n);
    } else {
        gw_rpc_reply_set(reply, req, len);
    }
}

static void chat_open(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg)
{
    (void)req;
    (void)len;
    (void)arg;
    atomic_fetch_add(&opens, 1);
    gw_rpc_call_set_user(call, "chat-user");
    gw_rpc_call_ref(call);
    pthread_mutex_lock(&push_mu);
    if (push_target != NULL)
        gw_rpc_call_unref(push_target);
    push_target = call;
    pthread_mutex_unlock(&push_mu);
}

static void chat_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    (void)arg;
    char err[GW_ERR_LEN];
    if (data == NULL) { /* the client is done: finish after our queue */
        gw_rpc_call_finish(call, GW_RPC_OK, "bye", err);
        return;
    }
    if (len == 6 && memcmp(data, "cancel", 6) == 0) {
        gw_rpc_call_cancel(call);
        return;
    }
    if (len == 5 && memcmp(data, "flood", 5) == 0) { /* 2000 x 4 KiB at a client that does not read */
        static char chunk[4096];
        int sent = 0;
        while (sent < 2000 && gw_rpc_call_send(call, chunk, sizeof(chunk), err) == 0)
            sent++;
        atomic_store(&flood_sent, sent);
        snprintf(flood_err, sizeof(flood_err), "%s", err);
        return;
    }
    if (gw_rpc_call_send(call, data, len, err) != 0)
        diag("chat echo failed: %s", err);
}

static void chat_close(gw_rpc_call *call, gw_rpc_status status, void *arg)
{
    (void)arg;
    if (strcmp((const char *)gw_rpc_call_user(call), "chat-user") == 0)
        atomic_fetch_add(&closes, 1);
    atomic_store(&last_close_status, (int)status);
}

static void watch_open(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg)
{
    (void)arg;
    char err[GW_ERR_LEN], buf[32];
    int n = len > 0 && len < 4 ? atoi(memcpy(memset(buf, 0, sizeof(buf)), req, len)) : 0;
    for (int i = 0; i < n; i++) {
        int bl = snprintf(buf, sizeof(buf), "watch-%d", i);
        gw_rpc_call_send(call, buf, (size_t)bl, err);
    }
    gw_rpc_call_finish(call, GW_RPC_OK, NULL, err);
}

static void watch_close(gw_rpc_call *call, gw_rpc_status status, void *arg)
{
    (void)call;
    (void)status;
    (void)arg;
}

static gw_rpc_server_opts tweak;

static gw_rpc_server *echo_server(const char *listen, size_t max_message, int max_streams, const char *cert,
                                  const char *key, char err[GW_ERR_LEN])
{
    gw_rpc_server_opts o = tweak; /* workers, max_queue, max_send_queue of a test */
    o.listen = listen;
    o.max_message = max_message;
    o.max_streams = max_streams;
    if (o.workers == 0)
        o.workers = 4;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    o.auth = echo_auth;
    o.auth_release = echo_auth_release;
    gw_rpc_server *srv = gw_rpc_server_create(&o, err);
    if (srv == NULL)
        return NULL;
    gw_rpc_method m1 = {.name = "/test.Echo/Say", .kind = GW_RPC_UNARY, .unary = say};
    gw_rpc_method m2 = {.name = "/test.Echo/Chat",
                        .kind = GW_RPC_BIDI,
                        .open = chat_open,
                        .message = chat_message,
                        .close = chat_close};
    gw_rpc_method m3 = {
        .name = "/test.Echo/Watch", .kind = GW_RPC_SERVER_STREAM, .open = watch_open, .close = watch_close};
    if (gw_rpc_server_add_method(srv, &m1, err) != 0 || gw_rpc_server_add_method(srv, &m2, err) != 0 ||
        gw_rpc_server_add_method(srv, &m3, err) != 0 || gw_rpc_server_start(srv, err) != 0) {
        gw_rpc_server_destroy(srv);
        return NULL;
    }
    return srv;
}

static void push_target_drop(void)
{
    pthread_mutex_lock(&push_mu);
    if (push_target != NULL)
        gw_rpc_call_unref(push_target);
    push_target = NULL;
    pthread_mutex_unlock(&push_mu);
}

/* ---- client helpers ---- */

static const gw_rpc_md good_md[] = {{"authorization", "Bearer " TOKEN, 0}};
static const gw_rpc_md bad_md[] = {{"authorization", "Bearer nope", 0}};

static gw_rpc_client *client_for(const char *target, size_t max_message, int tls, const char *ca)
{
    gw_rpc_client_opts o = {0};
    o.target = target;
    o.max_message = max_message;
    o.timeout_ms = 5000;
    o.reconnect_max_ms = 200;
    o.tls = tls;
    o.tls_ca_file = ca;
    char err[GW_ERR_LEN];
    gw_rpc_client *c = gw_rpc_client_create(&o, err);
    if (c == NULL)
        diag("client_create: %s", err);
    return c;
}

/* What a client stream received. */
typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char msgs[256][64];
    int n, pushes, echoes;
    int closed;
    int block; /* the message callback waits while set (a slow reader) */
    gw_rpc_status status;
    char message[GW_ERR_LEN];
} collector;

static void coll_init(collector *k)
{
    memset(k, 0, sizeof(*k));
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
}

static void coll_destroy(collector *k)
{
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
}

static void coll_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    (void)call;
    collector *k = arg;
    pthread_mutex_lock(&k->mu);
    while (k->block)
        pthread_cond_wait(&k->cv, &k->mu);
    if (k->n < 256) {
        size_t l = len < 63 ? len : 63;
        memcpy(k->msgs[k->n], data, l);
        k->msgs[k->n][l] = '\0';
        if (strncmp(k->msgs[k->n], "push-", 5) == 0)
            k->pushes++;
        else
            k->echoes++;
        k->n++;
    }
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static void coll_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    (void)call;
    collector *k = arg;
    pthread_mutex_lock(&k->mu);
    k->closed++;
    k->status = status;
    snprintf(k->message, sizeof(k->message), "%s", message);
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

/* Waits until the collector has n messages (or is closed when n < 0). */
static int coll_wait(collector *k, int n)
{
    int64_t until = gw_now_ms() + WAIT_MS;
    pthread_mutex_lock(&k->mu);
    while ((n < 0 ? !k->closed : k->n < n) && gw_now_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    }
    int done = n < 0 ? k->closed : k->n >= n;
    pthread_mutex_unlock(&k->mu);
    return done;
}

static gw_rpc_call *open_chat(gw_rpc_client *cli, collector *k, const gw_rpc_md *md)
{
    gw_rpc_stream_cbs cbs = {coll_message, coll_close, k};
    char err[GW_ERR_LEN];
    gw_rpc_call *s = gw_rpc_client_stream(cli, "/test.Echo/Chat", md, 1, 0, &cbs, err);
    if (s == NULL)
        diag("open chat: %s", err);
    return s;
}

static int unary_is(gw_rpc_client *cli, const char *req, gw_rpc_status want, const char *want_body)
{
    gw_rpc_reply r;
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, req, strlen(req), 0, &r);
    int okk = r.status == want &&
              (want_body == NULL || (r.len == strlen(want_body) && memcmp(r.data, want_body, r.len) == 0));
    if (!okk)
        diag("unary '%s': %s %s", req, gw_rpc_status_name(r.status), r.status ? r.message : "");
    gw_rpc_reply_clear(&r);
    return okk;
}

static int wait_until(atomic_int *v, int want)
{
    int64_t until = gw_now_ms() + WAIT_MS;
    while (atomic_load(v) < want && gw_now_ms() < until)
        usleep(2000);
    return atomic_load(v) >= want;
}

/* ---- tests ---- */

static void test_helpers(void)
{
    gw_rpc_md md[] = {{"x-a", "1", 0}, {"authorization", "bearer  tok123", 0}};
    is_str(gw_rpc_md_get(md, 2, "X-A"), "1", "md_get is case-insensitive");
    is_str(gw_rpc_md_bearer(md, 2), "tok123", "md_bearer takes the token after the scheme");
    gw_rpc_md basic[] = {{"authorization", "Basic dXNlcg==", 0}};
    ok(gw_rpc_md_bearer(basic, 1) == NULL, "md_bearer ignores other schemes");
    is_str(gw_rpc_status_name(GW_RPC_UNAUTHENTICATED), "UNAUTHENTICATED", "status names");
    is_str(gw_rpc_status_name((gw_rpc_status)99), "UNKNOWN", "an unknown status is UNKNOWN");
    is_int(gw_rpc_status_from_grpc(GRPC_STATUS_DEADLINE_EXCEEDED), GW_RPC_DEADLINE_EXCEEDED, "grpc status mapping");
    gw_rpc_backoff b;
    gw_rpc_backoff_init(&b, 100, 1000);
    int w1 = gw_rpc_backoff_next(&b), w2 = gw_rpc_backoff_next(&b);
    for (int i = 0; i < 10; i++)
        gw_rpc_backoff_next(&b);
    int wn = gw_rpc_backoff_next(&b);
    ok(w1 >= 50 && w1 <= 100 && w2 >= 100 && w2 <= 200 && wn >= 500 && wn <= 1000,
       "backoff doubles with jitter up to its cap (%d, %d, ..., %d)", w1, w2, wn);
    gw_rpc_backoff_reset(&b);
    ok(gw_rpc_backoff_next(&b) <= 100, "backoff reset starts over");
}

static void test_bad_input(void)
{
    char err[GW_ERR_LEN];
    int rc;
    gw_rpc_server_opts o = {0};
    gw_rpc_server *none = gw_rpc_server_create(&o, err);
    ok(none == NULL, "a server without a listen address is refused (%s)", err);
    o.listen = "127.0.0.1:0";
    o.tls_cert_file = "/nonexistent.pem";
    none = gw_rpc_server_create(&o, err);
    ok(none == NULL, "a certificate without a key is refused (%s)", err);
    o.tls_key_file = "/nonexistent.key";
    gw_rpc_server *srv = gw_rpc_server_create(&o, err);
    rc = srv != NULL ? gw_rpc_server_start(srv, err) : 0;
    ok(rc != 0 && strstr(err, "/nonexistent.pem") != NULL,
       "start with a missing certificate file fails and names it (%s)", err);
    gw_rpc_server_destroy(srv);

    o.tls_cert_file = o.tls_key_file = NULL;
    srv = gw_rpc_server_create(&o, err);
    gw_rpc_method bad = {.name = "NoSlash", .kind = GW_RPC_UNARY, .unary = say};
    rc = gw_rpc_server_add_method(srv, &bad, err);
    ok(rc != 0, "a method name without slashes is refused (%s)", err);
    gw_rpc_method nohandler = {.name = "/a.B/C", .kind = GW_RPC_BIDI, .open = chat_open};
    ok(gw_rpc_server_add_method(srv, &nohandler, err) != 0, "a bidi method without a message callback is refused");
    gw_rpc_method m = {.name = "/a.B/C", .kind = GW_RPC_UNARY, .unary = say};
    rc = gw_rpc_server_add_method(srv, &m, err) == 0 && gw_rpc_server_add_method(srv, &m, err) != 0;
    ok(rc, "a method registered twice is refused (%s)", err);
    ok(gw_rpc_server_start(srv, err) == 0, "a server with a valid method starts");
    int port = gw_rpc_server_port(srv);
    ok(port > 0, "port 0 picks a free port (%d)", port);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    gw_rpc_server_opts o2 = {0};
    o2.listen = addr;
    gw_rpc_server *srv2 = gw_rpc_server_create(&o2, err);
    gw_rpc_server_add_method(srv2, &m, err);
    rc = gw_rpc_server_start(srv2, err);
    ok(rc != 0, "a port in use is an error (%s)", err);
    gw_rpc_server_destroy(srv2);
    gw_rpc_server_destroy(srv);

    gw_rpc_client_opts co = {0};
    gw_rpc_client *nocli = gw_rpc_client_create(&co, err);
    ok(nocli == NULL, "a client without a target is refused (%s)", err);
    co.target = "127.0.0.1:1";
    co.tls_ca_file = "/x.pem";
    nocli = gw_rpc_client_create(&co, err);
    ok(nocli == NULL, "a CA file without TLS is refused (%s)", err);
    co.tls = 1;
    nocli = gw_rpc_client_create(&co, err);
    ok(nocli == NULL && strstr(err, "/x.pem") != NULL, "a missing CA file is named (%s)", err);
    co.tls = 0;
    co.tls_ca_file = NULL;
    gw_rpc_client *cli = gw_rpc_client_create(&co, err);
    gw_rpc_reply r;
    rc = gw_rpc_client_unary(cli, "nope", NULL, 0, "", 0, 0, &r);
    ok(rc != 0 && r.status == GW_RPC_INVALID_ARGUMENT, "a method without slashes is INVALID_ARGUMENT (%s)", r.message);
    gw_rpc_reply_clear(&r);
    gw_rpc_md upper[] = {{"Bad Key", "v", 0}};
    rc = gw_rpc_client_unary(cli, "/a.B/C", upper, 1, "", 0, 0, &r);
    ok(rc != 0 && r.status == GW_RPC_INVALID_ARGUMENT, "an illegal metadata key is INVALID_ARGUMENT (%s)", r.message);
    gw_rpc_reply_clear(&r);
    gw_rpc_md nl[] = {{"x-v", "a\nb", 0}};
    ok(gw_rpc_client_unary(cli, "/a.B/C", nl, 1, "", 0, 0, &r) != 0 && r.status == GW_RPC_INVALID_ARGUMENT,
       "a metadata value with a newline is INVALID_ARGUMENT");
    gw_rpc_reply_clear(&r);
    int64_t t0 = gw_now_ms();
    rc = gw_rpc_client_unary(cli, "/a.B/C", NULL, 0, "x", 1, 2000, &r);
    ok(rc != 0 && r.status == GW_RPC_UNAVAILABLE, "a call to a closed port fails fast with UNAVAILABLE (%s)",
       gw_rpc_status_name(r.status));
    ok(gw_now_ms() - t0 < 2000, "... before its deadline");
    gw_rpc_reply_clear(&r);
    gw_rpc_stream_cbs nocl = {coll_message, NULL, NULL};
    ok(gw_rpc_client_stream(cli, "/a.B/C", NULL, 0, 0, &nocl, err) == NULL, "a stream without a close callback is "
                                                                            "refused");
    gw_rpc_client_destroy(cli);
}

static void test_unary(const char *target, const char *label)
{
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    ok(unary_is(cli, "hello", GW_RPC_OK, "hello"), "%s: unary echo", label);
    ok(unary_is(cli, "", GW_RPC_OK, ""), "%s: an empty message round-trips", label);
    ok(unary_is(cli, "whoami", GW_RPC_OK, "edge-7 deadline=yes"),
       "%s: the handler sees the auth context and the "
       "deadline",
       label);
    gw_rpc_reply r;
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "fail", 4, 0, &r);
    ok(r.status == GW_RPC_NOT_FOUND && strcmp(r.message, "no such thing") == 0,
       "%s: a handler's status and message reach the client", label);
    gw_rpc_reply_clear(&r);
    gw_rpc_client_unary(cli, "/test.Echo/Nope", good_md, 1, "x", 1, 0, &r);
    ok(r.status == GW_RPC_UNIMPLEMENTED, "%s: an unknown method is UNIMPLEMENTED (%s)", label, r.message);
    gw_rpc_reply_clear(&r);

    int before = atomic_load(&handler_calls);
    gw_rpc_client_unary(cli, "/test.Echo/Say", bad_md, 1, "x", 1, 0, &r);
    ok(r.status == GW_RPC_UNAUTHENTICATED, "%s: a bad token is UNAUTHENTICATED (%s)", label, r.message);
    gw_rpc_reply_clear(&r);
    gw_rpc_client_unary(cli, "/test.Echo/Say", NULL, 0, "x", 1, 0, &r);
    ok(r.status == GW_RPC_UNAUTHENTICATED, "%s: no token is UNAUTHENTICATED", label);
    gw_rpc_reply_clear(&r);
    is_int(atomic_load(&handler_calls), before, "%s: the handler never ran for denied calls", label);
    gw_rpc_client_destroy(cli);
}

static void test_deadline(const char *target)
{
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    int before = atomic_load(&saw_cancel);
    gw_rpc_reply r;
    int64_t t0 = gw_now_ms();
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "sleep", 5, 200, &r);
    int64_t took = gw_now_ms() - t0;
    ok(r.status == GW_RPC_DEADLINE_EXCEEDED, "a slow handler: the client gets DEADLINE_EXCEEDED (%s)",
       gw_rpc_status_name(r.status));
    ok(took < WAIT_MS / 3, "... at its deadline, not when the handler returns (%lld ms)", (long long)took);
    gw_rpc_reply_clear(&r);
    ok(wait_until(&saw_cancel, before + 1), "the handler sees its call ended (gw_rpc_call_done)");
    ok(unary_is(cli, "after", GW_RPC_OK, "after"), "the server answers the next call");
    gw_rpc_client_destroy(cli);
}

static void test_oversized(const char *target)
{
    /* the server's limit is 64 KiB; this client's is 1 MiB */
    gw_rpc_client *cli = client_for(target, 1024 * 1024, 0, NULL);
    size_t n = 100 * 1024;
    char *big = malloc(n);
    memset(big, 'x', n);
    gw_rpc_reply r;
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, big, n, 0, &r);
    ok(r.status == GW_RPC_RESOURCE_EXHAUSTED, "a request over the server's limit is RESOURCE_EXHAUSTED (%s)",
       r.message);
    gw_rpc_reply_clear(&r);
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "big:80000", 9, 0, &r);
    ok(r.status == GW_RPC_RESOURCE_EXHAUSTED && strstr(r.message, "reply of 80000 bytes exceeds") != NULL,
       "a reply over the server's limit is RESOURCE_EXHAUSTED, said plainly (%s)", r.message);
    gw_rpc_reply_clear(&r);
    ok(unary_is(cli, "big:60000", GW_RPC_OK, NULL), "a reply under the limit passes");
    gw_rpc_client_destroy(cli);

    cli = client_for(target, 1024, 0, NULL);
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, big, 2048, 0, &r);
    ok(r.status == GW_RPC_RESOURCE_EXHAUSTED, "a request over the client's own limit is refused before sending");
    gw_rpc_reply_clear(&r);
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "big:4000", 8, 0, &r);
    ok(r.status == GW_RPC_RESOURCE_EXHAUSTED, "a reply over the client's limit is RESOURCE_EXHAUSTED (%s)", r.message);
    gw_rpc_reply_clear(&r);
    collector k;
    coll_init(&k);
    gw_rpc_call *s = open_chat(cli, &k, good_md);
    char err[GW_ERR_LEN] = "";
    int rc;
    rc = gw_rpc_call_send(s, big, 2048, err);
    ok(rc != 0 && strstr(err, "exceeds") != NULL, "a stream message over the limit is refused (%s)", err);
    gw_rpc_call_close_send(s, err);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_OK, "the stream goes on after the refused message");
    gw_rpc_call_unref(s);
    coll_destroy(&k);
    gw_rpc_client_destroy(cli);
    free(big);
}

typedef struct pusher_arg {
    int n;
    int sent;
} pusher_arg;

static void *pusher(void *arg)
{
    pusher_arg *p = arg;
    char err[GW_ERR_LEN], buf[32];
    for (int i = 0; i < p->n; i++) {
        pthread_mutex_lock(&push_mu);
        gw_rpc_call *c = push_target;
        if (c != NULL)
            gw_rpc_call_ref(c);
        pthread_mutex_unlock(&push_mu);
        if (c == NULL)
            break;
        int bl = snprintf(buf, sizeof(buf), "push-%d", i);
        if (gw_rpc_call_send(c, buf, (size_t)bl, err) == 0)
            p->sent++;
        gw_rpc_call_unref(c);
        usleep(1000);
    }
    return NULL;
}

static void test_bidi(const char *target, gw_rpc_server *srv)
{
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    collector k;
    coll_init(&k);
    int opens0 = atomic_load(&opens), closes0 = atomic_load(&closes);
    gw_rpc_call *s = open_chat(cli, &k, good_md);
    ok(s != NULL && wait_until(&opens, opens0 + 1), "bidi: the stream is opened on the server");
    is_int(gw_rpc_server_streams(srv), 1, "bidi: the server counts one live stream");
    pthread_t th;
    pusher_arg pa = {20, 0};
    pthread_create(&th, NULL, pusher, &pa);
    char err[GW_ERR_LEN], buf[32];
    int sent = 0;
    for (int i = 0; i < 50; i++) {
        int bl = snprintf(buf, sizeof(buf), "m-%d", i);
        sent += gw_rpc_call_send(s, buf, (size_t)bl, err) == 0;
    }
    pthread_join(th, NULL);
    is_int(sent, 50, "bidi: the client queued 50 messages");
    is_int(pa.sent, 20, "bidi: another server thread queued 20 unsolicited messages");
    ok(coll_wait(&k, 70), "bidi: the client received 70 messages");
    pthread_mutex_lock(&k.mu);
    int in_order = k.echoes == 50 && k.pushes == 20;
    for (int i = 0, e = 0, p = 0; i < k.n && in_order; i++) {
        char want[32];
        if (strncmp(k.msgs[i], "push-", 5) == 0)
            snprintf(want, sizeof(want), "push-%d", p++);
        else
            snprintf(want, sizeof(want), "m-%d", e++);
        in_order = strcmp(k.msgs[i], want) == 0;
    }
    pthread_mutex_unlock(&k.mu);
    ok(in_order, "bidi: echoes and pushes each arrive in order (%d echoes, %d pushes)", k.echoes, k.pushes);
    ok(gw_rpc_call_close_send(s, err) == 0, "bidi: the client half-closes");
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_OK && strcmp(k.message, "bye") == 0,
       "bidi: the server finishes with OK \"bye\" (%s %s)", gw_rpc_status_name(k.status), k.message);
    ok(wait_until(&closes, closes0 + 1) && atomic_load(&last_close_status) == GW_RPC_OK,
       "bidi: the server's close callback ran with OK");
    int rc = gw_rpc_call_send(s, "x", 1, err);
    ok(rc != 0, "bidi: sending on an ended stream fails (%s)", err);
    pthread_mutex_lock(&push_mu);
    gw_rpc_call *pt = push_target;
    pthread_mutex_unlock(&push_mu);
    ok(pt != NULL && gw_rpc_call_send(pt, "x", 1, err) != 0, "bidi: a reference kept past close still works and "
                                                             "refuses sends");
    push_target_drop();
    is_int(k.closed, 1, "bidi: the close callback ran once");
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    /* server-streaming */
    coll_init(&k);
    gw_rpc_stream_cbs cbs = {coll_message, coll_close, &k};
    s = gw_rpc_client_stream(cli, "/test.Echo/Watch", good_md, 1, 5000, &cbs, err);
    gw_rpc_call_send(s, "4", 1, err);
    gw_rpc_call_close_send(s, err);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_OK && k.n == 4 && strcmp(k.msgs[3], "watch-3") == 0,
       "server-streaming: 4 messages then OK");
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    /* a stream with a bad token never opens */
    coll_init(&k);
    opens0 = atomic_load(&opens);
    s = open_chat(cli, &k, bad_md);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_UNAUTHENTICATED, "a stream with a bad token ends UNAUTHENTICATED");
    is_int(atomic_load(&opens), opens0, "... and its open callback never ran");
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    /* the client drops its stream: the server learns CANCELLED */
    coll_init(&k);
    closes0 = atomic_load(&closes);
    s = open_chat(cli, &k, good_md);
    gw_rpc_call_send(s, "one", 3, err);
    coll_wait(&k, 1);
    gw_rpc_call_cancel(s);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_CANCELLED, "a cancelled client stream ends CANCELLED");
    ok(wait_until(&closes, closes0 + 1) && atomic_load(&last_close_status) == GW_RPC_CANCELLED,
       "the server's close callback sees CANCELLED");
    push_target_drop();
    gw_rpc_call_unref(s);
    coll_destroy(&k);
    gw_rpc_client_destroy(cli);
}

static void test_max_streams(void)
{
    char err[GW_ERR_LEN];
    gw_rpc_server *srv = echo_server("127.0.0.1:0", 0, 2, NULL, NULL, err);
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", gw_rpc_server_port(srv));
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    collector k[3];
    gw_rpc_call *s[3];
    for (int i = 0; i < 3; i++) {
        coll_init(&k[i]);
        s[i] = open_chat(cli, &k[i], good_md);
        gw_rpc_call_send(s[i], "hi", 2, err);
        if (i < 2)
            coll_wait(&k[i], 1);
    }
    coll_wait(&k[2], -1);
    ok(k[2].closed == 1 && k[2].status == GW_RPC_RESOURCE_EXHAUSTED,
       "max_streams 2: a third stream is RESOURCE_EXHAUSTED (%s)", k[2].message);
    ok(k[0].n == 1 && k[1].n == 1 && !k[0].closed && !k[1].closed, "... the first two stream on");
    gw_rpc_client_destroy(cli); /* cancels the open ones */
    ok(k[0].closed == 1 && k[1].closed == 1 && k[0].status == GW_RPC_CANCELLED,
       "client destroy ends its open streams (CANCELLED) and runs their close callbacks");
    for (int i = 0; i < 3; i++) {
        gw_rpc_call_unref(s[i]);
        coll_destroy(&k[i]);
    }
    push_target_drop();
    gw_rpc_server_destroy(srv);
}

typedef struct conc_arg {
    gw_rpc_client *cli;
    int id, good;
} conc_arg;

static void *conc_worker(void *arg)
{
    conc_arg *a = arg;
    for (int i = 0; i < 25; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "thread-%d-call-%d", a->id, i);
        a->good += unary_is(a->cli, buf, GW_RPC_OK, buf);
    }
    return NULL;
}

static void test_concurrent(const char *target)
{
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    pthread_t th[8];
    conc_arg a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (conc_arg){cli, i, 0};
        pthread_create(&th[i], NULL, conc_worker, &a[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += a[i].good;
    }
    is_int(total, 200, "200 concurrent unary calls from 8 threads on one client all echo");
    gw_rpc_client_destroy(cli);
}

/* A unary call made from a stream's message callback, on the client's own
 * event thread (which hands every other unary call its completion): it
 * must not wait for itself. */
typedef struct nested {
    gw_rpc_client *cli;
    atomic_int done, good;
} nested;

static void nested_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    nested *n = arg;
    (void)call, (void)data, (void)len;
    if (atomic_load(&n->done) == 0) {
        atomic_store(&n->good, unary_is(n->cli, "from a callback", GW_RPC_OK, "from a callback"));
        atomic_store(&n->done, 1);
    }
}

static void nested_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    (void)call, (void)status, (void)message, (void)arg;
}

static void test_unary_from_callback(const char *target)
{
    nested n;
    char err[GW_ERR_LEN];
    memset(&n, 0, sizeof(n));
    n.cli = client_for(target, 0, 0, NULL);
    gw_rpc_stream_cbs cbs = {nested_message, nested_close, &n};
    gw_rpc_call *s = gw_rpc_client_stream(n.cli, "/test.Echo/Chat", good_md, 1, 0, &cbs, err);
    ok(s != NULL && gw_rpc_call_send(s, "hi", 2, err) == 0, "a stream and a message");
    ok(wait_until(&n.done, 1) && atomic_load(&n.good), "a unary call from its message callback is answered");
    ok(unary_is(n.cli, "after", GW_RPC_OK, "after"), "and a unary call from another thread after it");
    if (s != NULL) {
        gw_rpc_call_close_send(s, err);
        gw_rpc_call_unref(s);
    }
    gw_rpc_client_destroy(n.cli);
}

/* A call with no request message (a client stream closed at once) to a
 * unary method, and to a server-streaming one. */
static void test_missing_request(const char *target)
{
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    const char *methods[] = {"/test.Echo/Say", "/test.Echo/Watch"};
    for (int i = 0; i < 2; i++) {
        collector k;
        coll_init(&k);
        gw_rpc_stream_cbs cbs = {coll_message, coll_close, &k};
        char err[GW_ERR_LEN];
        gw_rpc_call *s = gw_rpc_client_stream(cli, methods[i], good_md, 1, 5000, &cbs, err);
        gw_rpc_call_close_send(s, err);
        coll_wait(&k, -1);
        ok(k.closed == 1 && k.status == GW_RPC_INVALID_ARGUMENT, "%s without a request is INVALID_ARGUMENT (%s)",
           methods[i], k.message);
        gw_rpc_call_unref(s);
        coll_destroy(&k);
    }
    gw_rpc_client_destroy(cli);
}

typedef struct slow_arg {
    gw_rpc_client *cli;
    int timeout_ms;
    gw_rpc_status status;
} slow_arg;

static void *slow_call(void *arg)
{
    slow_arg *a = arg;
    gw_rpc_reply r;
    gw_rpc_client_unary(a->cli, "/test.Echo/Say", good_md, 1, "sleep", 5, a->timeout_ms, &r);
    a->status = r.status;
    gw_rpc_reply_clear(&r);
    return NULL;
}

/* A slow handler (a stuck database) holds one worker: other calls go on. */
static void test_slow_handler(const char *target)
{
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    int calls0 = atomic_load(&handler_calls);
    slow_arg a = {cli, WAIT_MS, GW_RPC_UNKNOWN};
    pthread_t th;
    atomic_store(&release_sleepers, 0);
    pthread_create(&th, NULL, slow_call, &a);
    wait_until(&handler_calls, calls0 + 1);
    int fast = 0;
    for (int i = 0; i < 20; i++)
        fast += unary_is(cli, "fast", GW_RPC_OK, "fast");
    ok(fast == 20 && a.status == GW_RPC_UNKNOWN, "20 calls are answered while a slow handler still runs");
    atomic_store(&release_sleepers, 1);
    pthread_join(th, NULL);
    ok(a.status == GW_RPC_OK, "... and the slow call gets its answer when its handler returns");
    atomic_store(&release_sleepers, 0);
    gw_rpc_client_destroy(cli);
}

/* One worker, max_queue 1: a call on the worker, one waiting, the next is
 * refused at once. */
static void test_max_queue(void)
{
    char err[GW_ERR_LEN];
    memset(&tweak, 0, sizeof(tweak));
    tweak.workers = 1;
    tweak.max_queue = 1;
    gw_rpc_server *srv = echo_server("127.0.0.1:0", 0, 0, NULL, NULL, err);
    memset(&tweak, 0, sizeof(tweak));
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", gw_rpc_server_port(srv));
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    int calls0 = atomic_load(&handler_calls);
    slow_arg a1 = {cli, 1500, GW_RPC_OK}, a2 = {cli, 1500, GW_RPC_OK};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, slow_call, &a1);
    wait_until(&handler_calls, calls0 + 1);
    pthread_create(&t2, NULL, slow_call, &a2);
    int64_t until = gw_now_ms() + WAIT_MS;
    while (gw_rpc_pool_queued(srv->pool) < 1 && gw_now_ms() < until)
        usleep(1000);
    gw_rpc_reply r;
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "x", 1, 5000, &r);
    ok(r.status == GW_RPC_RESOURCE_EXHAUSTED,
       "max_queue 1: a call while one waits for the busy worker is "
       "RESOURCE_EXHAUSTED (%s)",
       r.message);
    gw_rpc_reply_clear(&r);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ok(a1.status == GW_RPC_DEADLINE_EXCEEDED && a2.status == GW_RPC_DEADLINE_EXCEEDED,
       "... the busy and the waiting call end at their deadlines");
    /* the server learns of those deadlines a moment after the clients */
    until = gw_now_ms() + WAIT_MS;
    int busy = 1;
    while (busy && gw_now_ms() < until) {
        pthread_mutex_lock(&srv->mu);
        busy = srv->n_calls > 0;
        pthread_mutex_unlock(&srv->mu);
        usleep(1000);
    }
    ok(unary_is(cli, "later", GW_RPC_OK, "later"), "... then the server takes calls again");
    gw_rpc_client_destroy(cli);
    gw_rpc_server_destroy(srv);
}

/* Stream ends the server decides: deadline, server-side cancel, and a
 * full send queue while the client does not read. */
static void test_stream_ends(void)
{
    char err[GW_ERR_LEN];
    memset(&tweak, 0, sizeof(tweak));
    tweak.max_send_queue = 16;
    gw_rpc_server *srv = echo_server("127.0.0.1:0", 0, 0, NULL, NULL, err);
    memset(&tweak, 0, sizeof(tweak));
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", gw_rpc_server_port(srv));
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);

    collector k;
    coll_init(&k);
    int closes0 = atomic_load(&closes);
    gw_rpc_stream_cbs cbs = {coll_message, coll_close, &k};
    gw_rpc_call *s = gw_rpc_client_stream(cli, "/test.Echo/Chat", good_md, 1, 300, &cbs, err);
    gw_rpc_call_send(s, "hi", 2, err);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_DEADLINE_EXCEEDED, "a stream past its deadline ends DEADLINE_EXCEEDED");
    ok(wait_until(&closes, closes0 + 1) && atomic_load(&last_close_status) == GW_RPC_DEADLINE_EXCEEDED,
       "... and the server's close callback says DEADLINE_EXCEEDED");
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    coll_init(&k);
    closes0 = atomic_load(&closes);
    s = open_chat(cli, &k, good_md);
    gw_rpc_call_send(s, "cancel", 6, err);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_CANCELLED, "a stream the server cancels ends CANCELLED");
    ok(wait_until(&closes, closes0 + 1) && atomic_load(&last_close_status) == GW_RPC_CANCELLED,
       "... and the server's close callback says CANCELLED");
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    coll_init(&k);
    k.block = 1;
    atomic_store(&flood_sent, -1);
    s = open_chat(cli, &k, good_md);
    gw_rpc_call_send(s, "flood", 5, err);
    int64_t until = gw_now_ms() + WAIT_MS;
    while (atomic_load(&flood_sent) < 0 && gw_now_ms() < until)
        usleep(2000);
    int sent = atomic_load(&flood_sent);
    ok(sent > 0 && sent < 2000 && strstr(flood_err, "send queue full") != NULL,
       "a client that does not read: the server's sends stop at a full queue, never block (%d sent: %s)", sent,
       flood_err);
    pthread_mutex_lock(&k.mu);
    k.block = 0;
    pthread_cond_broadcast(&k.cv);
    pthread_mutex_unlock(&k.mu);
    gw_rpc_call_close_send(s, err);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_OK && k.n == (sent < 256 ? sent : 256),
       "... the queued messages are delivered once it reads, then OK (%d received)", k.n);
    gw_rpc_call_unref(s);
    coll_destroy(&k);
    push_target_drop();
    gw_rpc_client_destroy(cli);
    gw_rpc_server_destroy(srv);
}

static void test_stop_in_flight(void)
{
    char err[GW_ERR_LEN];
    gw_rpc_server *srv = echo_server("127.0.0.1:0", 0, 0, NULL, NULL, err);
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", gw_rpc_server_port(srv));
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    collector k;
    coll_init(&k);
    int closes0 = atomic_load(&closes), calls0 = atomic_load(&handler_calls);
    gw_rpc_call *s = open_chat(cli, &k, good_md);
    gw_rpc_call_send(s, "hi", 2, err);
    coll_wait(&k, 1);
    slow_arg sa = {cli, WAIT_MS, GW_RPC_OK};
    pthread_t th;
    pthread_create(&th, NULL, slow_call, &sa);
    wait_until(&handler_calls, calls0 + 1);
    int64_t t0 = gw_now_ms();
    gw_rpc_server_stop(srv, 200);
    int64_t took = gw_now_ms() - t0;
    ok(took < WAIT_MS / 3, "stop with a slow call and a stream in flight returns (%lld ms)", (long long)took);
    pthread_join(th, NULL);
    ok(sa.status == GW_RPC_UNAVAILABLE || sa.status == GW_RPC_CANCELLED,
       "the in-flight unary call ends UNAVAILABLE or CANCELLED (%s)", gw_rpc_status_name(sa.status));
    coll_wait(&k, -1);
    ok(k.closed == 1 && (k.status == GW_RPC_UNAVAILABLE || k.status == GW_RPC_CANCELLED),
       "the open stream ends UNAVAILABLE or CANCELLED (%s)", gw_rpc_status_name(k.status));
    ok(atomic_load(&closes) == closes0 + 1 && atomic_load(&last_close_status) == GW_RPC_UNAVAILABLE,
       "the server's close callback ran with UNAVAILABLE before stop returned");
    push_target_drop();
    gw_rpc_call_unref(s);
    coll_destroy(&k);
    gw_rpc_client_destroy(cli);
    gw_rpc_server_destroy(srv);
}

static void test_restart(void)
{
    char err[GW_ERR_LEN];
    gw_rpc_server *srv = echo_server("127.0.0.1:0", 0, 0, NULL, NULL, err);
    int port = gw_rpc_server_port(srv);
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    gw_rpc_client *cli = client_for(target, 0, 0, NULL);
    collector k;
    coll_init(&k);
    gw_rpc_call *s = open_chat(cli, &k, good_md);
    gw_rpc_call_send(s, "before", 6, err);
    ok(coll_wait(&k, 1), "restart: the stream works before");
    gw_rpc_server_destroy(srv);
    push_target_drop();
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status != GW_RPC_OK, "restart: the stream reports its end when the server goes (%s)",
       gw_rpc_status_name(k.status));
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    /* while the server is down, a reopened stream ends UNAVAILABLE */
    coll_init(&k);
    s = open_chat(cli, &k, good_md);
    coll_wait(&k, -1);
    ok(k.closed == 1 && k.status == GW_RPC_UNAVAILABLE, "restart: a stream opened while it is down ends "
                                                        "UNAVAILABLE");
    gw_rpc_call_unref(s);
    coll_destroy(&k);

    /* the server comes back on the same port while the caller retries */
    srv = echo_server(target, 0, 0, NULL, NULL, err);
    ok(srv != NULL, "restart: a new server binds the same port");
    gw_rpc_backoff b;
    gw_rpc_backoff_init(&b, 20, 200);
    int attempts = 0, worked = 0;
    int64_t until = gw_now_ms() + WAIT_MS;
    while (!worked && gw_now_ms() < until) {
        attempts++;
        coll_init(&k);
        s = open_chat(cli, &k, good_md);
        gw_rpc_call_send(s, "after", 5, err);
        collector *kk = &k;
        int64_t u2 = gw_now_ms() + 2000;
        while (gw_now_ms() < u2) {
            pthread_mutex_lock(&kk->mu);
            int n = kk->n, cl = kk->closed;
            pthread_mutex_unlock(&kk->mu);
            if (n > 0 || cl)
                break;
            usleep(2000);
        }
        worked = k.n > 0 && strcmp(k.msgs[0], "after") == 0;
        if (worked) {
            gw_rpc_call_close_send(s, err);
            coll_wait(&k, -1);
        } else {
            gw_rpc_call_cancel(s);
            coll_wait(&k, -1);
        }
        gw_rpc_call_unref(s);
        coll_destroy(&k);
        if (!worked)
            usleep((useconds_t)gw_rpc_backoff_next(&b) * 1000);
    }
    ok(worked, "restart: a reopened stream works against the new server (%d attempt(s))", attempts);
    push_target_drop();
    gw_rpc_client_destroy(cli);
    gw_rpc_server_destroy(srv);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_tls(const char *dir)
{
    char cmd[1024], cert[256], key[256];
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    if (run(cmd) != 0) {
        ok(0, "openssl made a self-signed certificate");
        return;
    }
    char err[GW_ERR_LEN];
    gw_rpc_server *srv = echo_server("127.0.0.1:0", 0, 0, cert, key, err);
    ok(srv != NULL, "TLS: the server starts with the certificate%s%s", srv ? "" : ": ", srv ? "" : err);
    if (srv == NULL)
        return;
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", gw_rpc_server_port(srv));
    gw_rpc_client *cli = client_for(target, 0, 1, cert);
    ok(unary_is(cli, "over tls", GW_RPC_OK, "over tls"), "TLS: a client trusting the CA gets its echo");
    collector k;
    coll_init(&k);
    gw_rpc_call *s = open_chat(cli, &k, good_md);
    gw_rpc_call_send(s, "tls-stream", 10, err);
    ok(coll_wait(&k, 1), "TLS: a stream works");
    gw_rpc_call_close_send(s, err);
    coll_wait(&k, -1);
    gw_rpc_call_unref(s);
    coll_destroy(&k);
    push_target_drop();
    gw_rpc_client_destroy(cli);

    gw_rpc_reply r;
    cli = client_for(target, 0, 1, NULL); /* the system's roots only */
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "x", 1, 3000, &r);
    ok(r.status == GW_RPC_UNAVAILABLE, "TLS: a client without the CA is refused (%s)", gw_rpc_status_name(r.status));
    gw_rpc_reply_clear(&r);
    gw_rpc_client_destroy(cli);
    cli = client_for(target, 0, 0, NULL);
    gw_rpc_client_unary(cli, "/test.Echo/Say", good_md, 1, "x", 1, 3000, &r);
    ok(r.status == GW_RPC_UNAVAILABLE, "TLS: a plaintext client is refused (%s)", gw_rpc_status_name(r.status));
    gw_rpc_reply_clear(&r);
    gw_rpc_client_destroy(cli);
    gw_rpc_server_destroy(srv);
}

static void test_interop(const char *target)
{
    const char *cands[] = {getenv("GW_PYTHON"), "python3", "/usr/bin/python3"};
    const char *py = NULL;
    char cmd[1024];
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]) && py == NULL; i++) {
        if (cands[i] == NULL)
            continue;
        snprintf(cmd, sizeof(cmd), "%s -c 'import grpc' >/dev/null 2>&1", cands[i]);
        if (run(cmd) == 0)
            py = cands[i];
    }
    if (py == NULL) {
        printf("ok %d - # SKIP python3-grpcio is not installed (apt-get install python3-grpcio)\n", ++tap_count);
        return;
    }
    snprintf(cmd, sizeof(cmd), "%s %s %s %s 2>&1", py, GW_RPC_INTEROP, target, TOKEN);
    FILE *p = popen(cmd, "r");
    char line[1024];
    int lines = 0;
    while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "ok - ", 5) == 0) {
            ok(1, "interop: %s", line + 5);
            lines++;
        } else if (strncmp(line, "not ok - ", 9) == 0) {
            ok(0, "interop: %s", line + 9);
            lines++;
        } else {
            diag("interop: %s", line);
        }
    }
    int rc = p != NULL ? pclose(p) : -1;
    ok(rc == 0 && lines == 7, "interop: the python client ran all 7 checks (exit %d)", rc);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    char dir[] = "/tmp/gw-rpc-test.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    gw_rpc_init();
    test_helpers();
    test_bad_input();

    char err[GW_ERR_LEN], sock[128], unix_target[160], tcp_target[64];
    gw_rpc_server *tcp = echo_server("127.0.0.1:0", 64 * 1024, 0, NULL, NULL, err);
    ok(tcp != NULL, "the echo server starts on TCP%s%s", tcp ? "" : ": ", tcp ? "" : err);
    snprintf(sock, sizeof(sock), "%s/echo.sock", dir);
    snprintf(unix_target, sizeof(unix_target), "unix:%s", sock);
    gw_rpc_server *ux = echo_server(unix_target, 64 * 1024, 0, NULL, NULL, err);
    ok(ux != NULL, "the echo server starts on a unix socket%s%s", ux ? "" : ": ", ux ? "" : err);
    if (tcp == NULL || ux == NULL)
        return tap_done();
    snprintf(tcp_target, sizeof(tcp_target), "127.0.0.1:%d", gw_rpc_server_port(tcp));

    test_unary(tcp_target, "tcp");
    test_unary(unix_target, "unix");
    test_deadline(unix_target);
    test_oversized(tcp_target);
    test_bidi(tcp_target, tcp);
    test_bidi(unix_target, ux);
    test_concurrent(tcp_target);
    test_unary_from_callback(unix_target);
    test_missing_request(tcp_target);
    test_slow_handler(tcp_target);
    test_interop(tcp_target);
    is_int(gw_rpc_server_streams(tcp), 0, "no stream is left counted on the server");
    gw_rpc_server_destroy(ux);
    gw_rpc_server_destroy(tcp);

    test_max_streams();
    test_max_queue();
    test_stream_ends();
    test_stop_in_flight();
    test_restart();
    test_tls(dir);
    ok(atomic_load(&auth_made) > 0 && atomic_load(&auth_released) == atomic_load(&auth_made),
       "every auth context was released with its call (%d)", atomic_load(&auth_made));
    gw_rpc_shutdown();

    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    run(cmd);
    return tap_done();
}
