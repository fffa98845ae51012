/*
 * src/plugins/conn.c: the gRPC connection to one plugin and the calls of
 * the Plugin service (see conn.h for the contract and the locking).
 */
#include "plugins/conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "rpc/rpc.h"

#define GW_PLUGIN_SVC "/aistudio.v1.PluginService/"

struct gw_plugin_conn {
    atomic_int refs;
    gw_rpc_client *cli;
    char name[128];
    int timeout_ms;
    int streams;
    int request_stream; /* the manifest offers HandleRequests */
    atomic_llong failures;
    pthread_mutex_t mu; /* watch_fn / watch_arg */
    void (*watch_fn)(void *arg);
    void *watch_arg;
    pthread_mutex_t pool_mu; /* idle, n_idle, n_pooled */
    gw_plugin_stream *idle[GW_PLUGIN_POOL_STREAMS];
    int n_idle;
    int n_pooled; /* HandleRequests streams open: idle or in use */
    int draining; /* the process is being stopped: no stream is pooled any more */
};

static void gw_pool_close_idle(gw_plugin_conn *c);

gw_plugin_conn *gw_plugin_conn_create(const char *target, const char *name, char err[GW_ERR_LEN])
{
    gw_rpc_client_opts o;
    gw_plugin_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    memset(&o, 0, sizeof(o));
    o.target = target;
    o.max_message = GW_PLUGIN_MAX_MESSAGE;
    o.timeout_ms = GW_PLUGIN_DEFAULT_TIMEOUT_MS;
    o.reconnect_max_ms = 1000;
    c->cli = gw_rpc_client_create(&o, err);
    if (c->cli == NULL) {
        free(c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    atomic_init(&c->failures, 0);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->pool_mu, NULL);
    snprintf(c->name, sizeof(c->name), "%s", name != NULL ? name : "?");
    c->timeout_ms = GW_PLUGIN_DEFAULT_TIMEOUT_MS;
    return c;
}

void gw_plugin_conn_ref(gw_plugin_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void gw_plugin_conn_release(gw_plugin_conn *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    gw_pool_close_idle(c); /* nobody holds c: every pooled stream is idle */
    gw_rpc_client_destroy(c->cli);
    pthread_mutex_destroy(&c->pool_mu);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void gw_plugin_conn_setup(gw_plugin_conn *c, int timeout_ms, int streams, int request_stream)
{
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : GW_PLUGIN_DEFAULT_TIMEOUT_MS;
    c->streams = streams;
    c->request_stream = request_stream;
}

void gw_plugin_conn_watch(gw_plugin_conn *c, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&c->mu);
    c->watch_fn = fn;
    c->watch_arg = arg;
    pthread_mutex_unlock(&c->mu);
}

void gw_plugin_conn_unwatch(gw_plugin_conn *c)
{
    gw_plugin_conn_watch(c, NULL, NULL);
}

const char *gw_plugin_conn_name(const gw_plugin_conn *c)
{
    return c->name;
}

int gw_plugin_conn_timeout_ms(const gw_plugin_conn *c)
{
    return c->timeout_ms;
}

int gw_plugin_conn_streams(const gw_plugin_conn *c)
{
    return c->streams;
}

int64_t gw_plugin_conn_failures(const gw_plugin_conn *c)
{
    return atomic_load(&((gw_plugin_conn *)c)->failures);
}

static void gw_conn_failed(gw_plugin_conn *c)
{
    atomic_fetch_add(&c->failures, 1);
    pthread_mutex_lock(&c->mu);
    if (c->watch_fn != NULL)
        c->watch_fn(c->watch_arg);
    pthread_mutex_unlock(&c->mu);
}

/* Says why a call failed, in the words the log and the event use. */
static void gw_conn_call_error(const gw_rpc_reply *reply, int timeout_ms, char err[GW_ERR_LEN])
{
    switch (reply->status) {
    case GW_RPC_DEADLINE_EXCEEDED:
        gw_errf(err, "no answer within %d ms", timeout_ms);
        break;
    case GW_RPC_UNAVAILABLE:
        gw_errf(err, "unreachable (%s)", reply->message[0] != '\0' ? reply->message : "connection failed");
        break;
    default:
        gw_errf(err, "answered %s%s%s", gw_rpc_status_name(reply->status), reply->message[0] != '\0' ? ": " : "",
                reply->message);
        break;
    }
}

/* Packs req, calls method, unpacks the answer with desc. */
static void *gw_conn_unary(gw_plugin_conn *c, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *desc, int timeout_ms, char err[GW_ERR_LEN])
{
    gw_rpc_reply reply;
    size_t len = protobuf_c_message_get_packed_size(req);
    unsigned char *buf;
    void *msg;

    if (len > GW_PLUGIN_MAX_MESSAGE) {
        gw_errf(err, "a call of %zu bytes is over the limit of %u bytes", len, GW_PLUGIN_MAX_MESSAGE);
        return NULL;
    }
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    protobuf_c_message_pack(req, buf);
    int rc = gw_rpc_client_unary(c->cli, method, NULL, 0, buf, len, timeout_ms, &reply);
    free(buf);
    if (rc != 0) {
        gw_conn_call_error(&reply, timeout_ms, err);
        gw_rpc_reply_clear(&reply);
        return NULL;
    }
    msg = protobuf_c_message_unpack(desc, NULL, reply.len, reply.data);
    gw_rpc_reply_clear(&reply);
    if (msg == NULL)
        gw_errf(err, "answered a message that does not decode");
    return msg;
}

int gw_plugin_conn_manifest(gw_plugin_conn *c, int timeout_ms, Aistudio__V1__Manifest **out, char err[GW_ERR_LEN])
{
    Aistudio__V1__ManifestRequest req = AISTUDIO__V1__MANIFEST_REQUEST__INIT;
    req.protocol_version = 1;
    *out = gw_conn_unary(c, GW_PLUGIN_SVC "GetManifest", &req.base, &aistudio__v1__manifest__descriptor, timeout_ms,
                         err);
    return *out != NULL ? 0 : -1;
}

int gw_plugin_conn_configure(gw_plugin_conn *c, const Aistudio__V1__ConfigureRequest *req, int timeout_ms,
                             char err[GW_ERR_LEN])
{
    Aistudio__V1__ConfigureResponse *r = gw_conn_unary(c, GW_PLUGIN_SVC "Configure", &req->base,
                                                       &aistudio__v1__configure_response__descriptor, timeout_ms, err);
    if (r == NULL)
        return -1;
    aistudio__v1__configure_response__free_unpacked(r, NULL);
    return 0;
}

int gw_plugin_conn_health(gw_plugin_conn *c, int timeout_ms, char err[GW_ERR_LEN])
{
    Aistudio__V1__HealthRequest req = AISTUDIO__V1__HEALTH_REQUEST__INIT;
    Aistudio__V1__HealthResponse *r =
        gw_conn_unary(c, GW_PLUGIN_SVC "Health", &req.base, &aistudio__v1__health_response__descriptor, timeout_ms, err);
    int rc = 0;
    if (r == NULL)
        return -1;
    if (!r->serving)
        rc = gw_errf(err, "not serving%s%s", r->message[0] != '\0' ? ": " : "", r->message);
    aistudio__v1__health_response__free_unpacked(r, NULL);
    return rc;
}

/* ---- checking what a hook answered ---- */

int gw_plugin_header_name_ok(const char *name)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    if (name == NULL || name[0] == '\0' || strlen(name) > 256)
        return 0;
    for (const char *p = name; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr(tchar, ch) != NULL))
            return 0;
    }
    return 1;
}

static int gw_value_ok(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return 0;
    return 1;
}

/* A hook result that is not valid is the plugin's fault: a failure. */
static int gw_check_result(const Aistudio__V1__HookResult *r, Aistudio__V1__Hook hook, size_t ntexts, int response,
                           char err[GW_ERR_LEN])
{
    if (r->action != AISTUDIO__V1__ACTION__ACTION_CONTINUE && r->action != AISTUDIO__V1__ACTION__ACTION_MODIFY &&
        r->action != AISTUDIO__V1__ACTION__ACTION_BLOCK)
        return gw_errf(err, "answered an unknown action %d", (int)r->action);
    if (r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK && r->status != 0 && (r->status < 400 || r->status > 599))
        return gw_errf(err, "blocked with status %d (a block's status is 400..599)", (int)r->status);
    if ((r->app_id != 0 || r->user_id != 0) && hook != AISTUDIO__V1__HOOK__HOOK_AUTH)
        return gw_errf(err, "set the caller (app or user id) from the %s hook (only auth may)", gw_plugin_hook_name(hook));
    if (r->app_id < 0 || r->user_id < 0)
        return gw_errf(err, "set a negative app or user id");
    if (r->replace_texts && r->n_texts != ntexts)
        return gw_errf(err, "replaced %zu texts, was sent %zu", r->n_texts, ntexts);
    if (response && r->n_set_headers > 0)
        return gw_errf(err, "set request headers from the on_response hook");
    for (size_t i = 0; i < r->n_set_headers; i++) {
        const Aistudio__V1__Header *h = r->set_headers[i];
        if (!gw_plugin_header_name_ok(h->name) || !gw_value_ok(h->value))
            return gw_errf(err, "set an invalid header");
    }
    if (r->error_code[0] != '\0' && (strlen(r->error_code) > 64 || !gw_plugin_header_name_ok(r->error_code)))
        return gw_errf(err, "answered an error code that is not a short token");
    if (r->context_updates != NULL) {
        const char *up = r->context_updates->upstream_override;
        if (up[0] != '\0' && (response || strlen(up) >= 512 || !gw_value_ok(up) ||
                               (strncmp(up, "http://", 7) != 0 && strncmp(up, "https://", 8) != 0)))
            return gw_errf(err, "answered an upstream override that is not an http(s) URL of a request hook");
    }
    return 0;
}

static int gw_hook_done(gw_plugin_conn *c, Aistudio__V1__HookResult *r, Aistudio__V1__Hook hook, size_t ntexts,
                        int response, Aistudio__V1__HookResult **out, char err[GW_ERR_LEN])
{
    if (r == NULL) {
        gw_conn_failed(c);
        return -1;
    }
    if (gw_check_result(r, hook, ntexts, response, err) != 0) {
        aistudio__v1__hook_result__free_unpacked(r, NULL);
        gw_conn_failed(c);
        return -1;
    }
    *out = r;
    return 0;
}

int gw_plugin_call_response(gw_plugin_conn *c, const Aistudio__V1__ResponseHookCall *req,
                            Aistudio__V1__HookResult **out, char err[GW_ERR_LEN])
{
    Aistudio__V1__HookResult *r = gw_conn_unary(c, GW_PLUGIN_SVC "HandleResponse", &req->base,
                                                &aistudio__v1__hook_result__descriptor, c->timeout_ms, err);
    *out = NULL;
    return gw_hook_done(c, r, AISTUDIO__V1__HOOK__HOOK_ON_RESPONSE, req->n_texts, 1, out, err);
}

/* ---- streams ---- */

struct gw_plugin_stream {
    gw_plugin_conn *conn;
    int owns_conn; /* holds a reference on conn (not a pooled stream: the conn holds those) */
    gw_rpc_call *call;
    atomic_int refs; /* the caller's and the callbacks' (until close) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *msg; /* the answer waited for (one at a time) */
    size_t msg_len;
    int have_msg;
    int extra;  /* an answer nobody asked for arrived */
    int closed; /* the close callback ran */
    gw_rpc_status status;
    char status_msg[GW_ERR_LEN];
    int broken;
};

static void gw_stream_unref(gw_plugin_stream *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    free(s->msg);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static void gw_stream_on_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    gw_plugin_stream *s = arg;
    (void)call;
    pthread_mutex_lock(&s->mu);
    if (s->have_msg) {
        s->extra = 1;
    } else {
        s->msg = malloc(len > 0 ? len : 1);
        if (s->msg != NULL) {
            memcpy(s->msg, data, len);
            s->msg_len = len;
        } else
            s->extra = 1;
        s->have_msg = 1;
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void gw_stream_on_close(gw_rpc_call *call, gw_rpc_status status, const char *message, void *arg)
{
    gw_plugin_stream *s = arg;
    (void)call;
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    s->status = status;
    snprintf(s->status_msg, sizeof(s->status_msg), "%s", message != NULL ? message : "");
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    gw_stream_unref(s);
}

/* Opens a stream of method on c; owns_conn: it holds a reference on c. */
static gw_plugin_stream *gw_stream_open(gw_plugin_conn *c, const char *method, int owns_conn, char err[GW_ERR_LEN])
{
    gw_rpc_stream_cbs cbs;
    pthread_condattr_t ca;
    gw_plugin_stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        gw_errf(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&s->refs, 2);
    s->conn = c;
    s->owns_conn = owns_conn;
    memset(&cbs, 0, sizeof(cbs));
    cbs.message = gw_stream_on_message;
    cbs.close = gw_stream_on_close;
    cbs.arg = s;
    s->call = gw_rpc_client_stream(c->cli, method, NULL, 0, 0, &cbs, err);
    if (s->call == NULL) {
        atomic_store(&s->refs, 1);
        gw_stream_unref(s);
        gw_conn_failed(c);
        return NULL;
    }
    if (owns_conn)
        gw_plugin_conn_ref(c);
    return s;
}

gw_plugin_stream *gw_plugin_stream_open(gw_plugin_conn *c, char err[GW_ERR_LEN])
{
    return gw_stream_open(c, GW_PLUGIN_SVC "StreamResponse", 1, err);
}

static int gw_stream_fail(gw_plugin_stream *s, char err[GW_ERR_LEN])
{
    if (!s->broken) {
        s->broken = 1;
        gw_conn_failed(s->conn);
    }
    (void)err;
    return -1;
}

/* Ends s: half-closes it (cancels a broken one) and drops the caller's
 * reference (and its reference on the conn). */
static void gw_stream_end(gw_plugin_stream *s)
{
    char err[GW_ERR_LEN];
    gw_plugin_conn *c = s->owns_conn ? s->conn : NULL;
    if (s->broken)
        gw_rpc_call_cancel(s->call);
    else
        (void)gw_rpc_call_close_send(s->call, err);
    gw_rpc_call_unref(s->call);
    gw_stream_unref(s);
    gw_plugin_conn_release(c);
}

/*
 * Sends msg on s and waits for the one answer (the plugin's deadline):
 * 0 with the answer's bytes in *out (malloc'd); -1 with err, s broken.
 * what names the message in errors ("" for a request, " to a chunk").
 */
static int gw_stream_roundtrip(gw_plugin_stream *s, const ProtobufCMessage *msg_in, const char *what,
                               unsigned char **out, size_t *out_len, char err[GW_ERR_LEN])
{
    size_t len = protobuf_c_message_get_packed_size(msg_in);
    unsigned char *buf, *msg = NULL;
    size_t msg_len = 0;
    struct timespec until;
    int timeout_ms = s->conn->timeout_ms, timed_out = 0, extra;

    *out = NULL;
    if (s->broken)
        return gw_errf(err, "the stream broke earlier");
    if (len > GW_PLUGIN_MAX_MESSAGE) {
        gw_errf(err, "a message of %zu bytes is over the limit of %u bytes", len, GW_PLUGIN_MAX_MESSAGE);
        return gw_stream_fail(s, err);
    }
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        gw_errf(err, "out of memory");
        return gw_stream_fail(s, err);
    }
    protobuf_c_message_pack(msg_in, buf);
    int rc = gw_rpc_call_send(s->call, buf, len, err);
    free(buf);
    if (rc != 0)
        return gw_stream_fail(s, err);

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->have_msg && !s->closed && !timed_out)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
            timed_out = 1;
    extra = s->extra;
    if (s->have_msg) {
        msg = s->msg;
        msg_len = s->msg_len;
        s->msg = NULL;
        s->have_msg = 0;
    }
    if (msg == NULL && s->closed)
        gw_errf(err, "the stream ended: %s%s%s", gw_rpc_status_name(s->status), s->status_msg[0] != '\0' ? ": " : "",
                s->status_msg);
    pthread_mutex_unlock(&s->mu);

    if (msg == NULL) {
        if (timed_out)
            gw_errf(err, "no answer%s within %d ms", what, timeout_ms);
        return gw_stream_fail(s, err);
    }
    if (extra) {
        free(msg);
        gw_errf(err, "answered more than once%s", what);
        return gw_stream_fail(s, err);
    }
    *out = msg;
    *out_len = msg_len;
    return 0;
}

int gw_plugin_stream_chunk(gw_plugin_stream *s, const Aistudio__V1__ResponseChunk *chunk,
                           Aistudio__V1__ChunkResult **out, char err[GW_ERR_LEN])
{
    unsigned char *msg;
    size_t msg_len;

    *out = NULL;
    if (gw_stream_roundtrip(s, &chunk->base, " to a chunk", &msg, &msg_len, err) != 0)
        return -1;
    *out = aistudio__v1__chunk_result__unpack(NULL, msg_len, msg);
    free(msg);
    if (*out == NULL) {
        gw_errf(err, "answered a chunk result that does not decode");
        return gw_stream_fail(s, err);
    }
    Aistudio__V1__Action a = (*out)->action;
    if (a != AISTUDIO__V1__ACTION__ACTION_CONTINUE && a != AISTUDIO__V1__ACTION__ACTION_MODIFY &&
        a != AISTUDIO__V1__ACTION__ACTION_BLOCK) {
        aistudio__v1__chunk_result__free_unpacked(*out, NULL);
        *out = NULL;
        gw_errf(err, "answered an unknown action %d", (int)a);
        return gw_stream_fail(s, err);
    }
    return 0;
}

void gw_plugin_stream_close(gw_plugin_stream *s)
{
    if (s != NULL)
        gw_stream_end(s);
}

/* ---- request hooks: unary, or over a pool of HandleRequests streams ---- */

/*
 * A plugin whose manifest sets capabilities.request_stream gets its request
 * hooks on long-lived HandleRequests streams, one request at a time on
 * each: a message on an open stream costs about half a unary call (no call
 * set up and torn down per request; bench/rpc/rpc_bench pingpong vs unary).
 * The conn keeps up to GW_PLUGIN_POOL_STREAMS of them; a request takes an
 * idle one or opens one, and gives it back when its answer came. A request
 * that finds the pool full (more requests at once than streams) makes a
 * unary call. A stream that failed (deadline, the plugin gone, garbage) is
 * cancelled, never given back.
 */
/* 1 with *out: a stream to use; 0: the pool is in use up to its size;
 * -1 with err: a stream could not be opened (a failure, counted). */
static int gw_pool_take(gw_plugin_conn *c, gw_plugin_stream **out, char err[GW_ERR_LEN])
{
    gw_plugin_stream *s = NULL;
    pthread_mutex_lock(&c->pool_mu);
    while (s == NULL && c->n_idle > 0) {
        s = c->idle[--c->n_idle];
        pthread_mutex_lock(&s->mu);
        int closed = s->closed;
        pthread_mutex_unlock(&s->mu);
        if (closed) { /* ended while idle (the plugin went away) */
            c->n_pooled--;
            s->broken = 1;
            pthread_mutex_unlock(&c->pool_mu);
            gw_stream_end(s);
            pthread_mutex_lock(&c->pool_mu);
            s = NULL;
        }
    }
    int open_one = s == NULL && !c->draining && c->n_pooled < GW_PLUGIN_POOL_STREAMS;
    if (open_one)
        c->n_pooled++;
    pthread_mutex_unlock(&c->pool_mu);
    if (open_one && (s = gw_stream_open(c, GW_PLUGIN_SVC "HandleRequests", 0, err)) == NULL) {
        pthread_mutex_lock(&c->pool_mu);
        c->n_pooled--;
        pthread_mutex_unlock(&c->pool_mu);
        return -1;
    }
    *out = s;
    return s != NULL;
}

static void gw_pool_give_back(gw_plugin_conn *c, gw_plugin_stream *s)
{
    pthread_mutex_lock(&c->pool_mu);
    if (!s->broken && !c->draining) {
        c->idle[c->n_idle++] = s; /* n_idle < n_pooled <= the pool's size */
        s = NULL;
    } else
        c->n_pooled--;
    pthread_mutex_unlock(&c->pool_mu);
    if (s != NULL)
        gw_stream_end(s);
}

static void gw_pool_close_idle(gw_plugin_conn *c)
{
    gw_plugin_stream *idle[GW_PLUGIN_POOL_STREAMS];
    pthread_mutex_lock(&c->pool_mu);
    int n = c->n_idle;
    memcpy(idle, c->idle, (size_t)n * sizeof(idle[0]));
    c->n_pooled -= n;
    c->n_idle = 0;
    pthread_mutex_unlock(&c->pool_mu);
    for (int i = 0; i < n; i++)
        gw_stream_end(idle[i]);
}

void gw_plugin_conn_drain(gw_plugin_conn *c)
{
    pthread_mutex_lock(&c->pool_mu);
    c->draining = 1;
    pthread_mutex_unlock(&c->pool_mu);
    gw_pool_close_idle(c);
}

int gw_plugin_call_request(gw_plugin_conn *c, const Aistudio__V1__RequestHookCall *req, Aistudio__V1__HookResult **out,
                           char err[GW_ERR_LEN])
{
    Aistudio__V1__Hook hook = req->context != NULL ? req->context->hook : AISTUDIO__V1__HOOK__HOOK_UNSPECIFIED;
    Aistudio__V1__HookResult *r = NULL;
    gw_plugin_stream *s = NULL;
    int pooled = c->request_stream ? gw_pool_take(c, &s, err) : 0;
    *out = NULL;
    if (pooled < 0)
        return -1;
    if (pooled) {
        unsigned char *msg;
        size_t msg_len;
        if (gw_stream_roundtrip(s, &req->base, "", &msg, &msg_len, err) == 0) {
            r = aistudio__v1__hook_result__unpack(NULL, msg_len, msg);
            free(msg);
            if (r == NULL) {
                gw_errf(err, "answered a message that does not decode");
                gw_stream_fail(s, err);
            }
        }
        gw_pool_give_back(c, s);
        if (r == NULL) /* the failure is counted (gw_stream_fail) */
            return -1;
    } else {
        r = gw_conn_unary(c, GW_PLUGIN_SVC "HandleRequest", &req->base, &aistudio__v1__hook_result__descriptor,
                          c->timeout_ms, err);
    }
    return gw_hook_done(c, r, hook, req->n_texts, 0, out, err);
}

/* ---- hook names ---- */

static const struct {
    const char *name;
    Aistudio__V1__Hook hook;
} gw_hooks[] = {
    {"pre_auth", AISTUDIO__V1__HOOK__HOOK_PRE_AUTH},
    {"auth", AISTUDIO__V1__HOOK__HOOK_AUTH},
    {"post_auth", AISTUDIO__V1__HOOK__HOOK_POST_AUTH},
    {"on_response", AISTUDIO__V1__HOOK__HOOK_ON_RESPONSE},
};

Aistudio__V1__Hook gw_plugin_hook_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(gw_hooks) / sizeof(gw_hooks[0]); i++)
        if (strcmp(name, gw_hooks[i].name) == 0)
            return gw_hooks[i].hook;
    return AISTUDIO__V1__HOOK__HOOK_UNSPECIFIED;
}

const char *gw_plugin_hook_name(Aistudio__V1__Hook hook)
{
    for (size_t i = 0; i < sizeof(gw_hooks) / sizeof(gw_hooks[0]); i++)
        if (gw_hooks[i].hook == hook)
            return gw_hooks[i].name;
    return "unspecified";
}
