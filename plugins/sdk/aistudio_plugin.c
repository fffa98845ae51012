/*
 * plugins/sdk/aistudio_plugin.c: the C plugin SDK (aistudio_plugin.h): the
 * handlers a plugin registers, served as the PluginService of
 * proto/aistudio/v1/plugin.proto over gatewayd's own rpc/ code (one gRPC
 * implementation: libaistudio_plugin.a holds gatewayd/src/rpc, the base
 * modules it needs and the handshake format of gatewayd/src/plugins).
 *
 * Threads: the rpc server's workers run the handlers (calls of one stream
 * in order, one at a time); the main thread waits for SIGTERM/SIGINT (a
 * signalfd) or the end of stdin. The registration functions are called
 * before aistudio_plugin_serve and only read afterwards; the hook from
 * Configure is an atomic.
 */
#include "aistudio_plugin.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aistudio/v1/plugin.pb-c.h"
#include "base/json.h"
#include "base/log.h"
#include "base/vjson.h"
#include "plugins/handshake.h"
#include "rpc/rpc.h"

#define AP_SVC "/aistudio.v1.PluginService/"
#define AP_WORKERS 8
#define AP_MAX_MESSAGE (16u << 20)

static struct {
    const char *id, *name, *version, *description;
    aistudio_configure_fn configure;
    void *configure_user;
    unsigned request_hooks;
    aistudio_request_fn request;
    void *request_user;
    aistudio_response_fn response;
    void *response_user;
    aistudio_stream_open_fn sopen;
    aistudio_stream_chunk_fn schunk;
    aistudio_stream_close_fn sclose;
    void *stream_user;
    int needs_network;
    atomic_int hook;
} ap = {.id = "plugin", .name = "plugin", .version = "0.0.0", .description = ""};

void aistudio_plugin_info(const char *id, const char *name, const char *version, const char *description)
{
    ap.id = id != NULL ? id : "";
    ap.name = name != NULL ? name : "";
    ap.version = version != NULL ? version : "";
    ap.description = description != NULL ? description : "";
}

void aistudio_plugin_on_configure(aistudio_configure_fn fn, void *user)
{
    ap.configure = fn;
    ap.configure_user = user;
}

void aistudio_plugin_on_request(unsigned hooks, aistudio_request_fn fn, void *user)
{
    ap.request_hooks = hooks & (AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_PRE_AUTH) | AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_AUTH) |
                                AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_POST_AUTH));
    ap.request = fn;
    ap.request_user = user;
}

void aistudio_plugin_on_response(aistudio_response_fn fn, void *user)
{
    ap.response = fn;
    ap.response_user = user;
}

void aistudio_plugin_on_stream(aistudio_stream_open_fn open, aistudio_stream_chunk_fn chunk,
                               aistudio_stream_close_fn close, void *user)
{
    ap.sopen = open;
    ap.schunk = chunk;
    ap.sclose = close;
    ap.stream_user = user;
}

void aistudio_plugin_needs_network(int yes)
{
    ap.needs_network = yes != 0;
}

const char *aistudio_hook_name(aistudio_hook hook)
{
    switch (hook) {
    case AISTUDIO_HOOK_PRE_AUTH:
        return "pre_auth";
    case AISTUDIO_HOOK_AUTH:
        return "auth";
    case AISTUDIO_HOOK_POST_AUTH:
        return "post_auth";
    case AISTUDIO_HOOK_ON_RESPONSE:
        return "on_response";
    }
    return "unspecified";
}

void aistudio_plugin_log(const char *fmt, ...)
{
    char line[2048];
    va_list va;
    va_start(va, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, va);
    va_end(va);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(2, line, (size_t)n) < 0) {
        /* nowhere to report it */
    }
}

/* ---- the result builder ---- */

enum { AP_REQUEST, AP_RESPONSE, AP_CHUNK };

typedef struct ap_strs {
    char **v;
    size_t n, cap;
} ap_strs;

struct aistudio_result {
    int kind;
    int blocked, modified, oom;
    int status;
    char *code, *message;
    int replace_body;
    unsigned char *body;
    size_t body_len;
    size_t ntexts;
    const char *const *orig;
    char **texts; /* NULL: unchanged; else ntexts entries, NULL = the original */
    ap_strs set_names, set_values;
    char *upstream;
    int64_t app_id, user_id;
};

static int ap_push(ap_strs *s, const char *v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        char **nv = realloc(s->v, cap * sizeof(char *));
        if (nv == NULL)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    if ((s->v[s->n] = strdup(v)) == NULL)
        return -1;
    s->n++;
    return 0;
}

static void ap_strs_free(ap_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static void ap_result_init(aistudio_result *r, int kind, const char *const *orig, size_t ntexts)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->orig = orig;
    r->ntexts = ntexts;
}

static void ap_result_free(aistudio_result *r)
{
    free(r->code);
    free(r->message);
    free(r->body);
    if (r->texts != NULL)
        for (size_t i = 0; i < r->ntexts; i++)
            free(r->texts[i]);
    free(r->texts);
    ap_strs_free(&r->set_names);
    ap_strs_free(&r->set_values);
    free(r->upstream);
}

static int ap_token(const char *s, size_t max)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (s == NULL || s[0] == '\0' || strlen(s) > max)
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr(extra, *s) != NULL))
            return 0;
    return 1;
}

void aistudio_result_block(aistudio_result *res, int status, const char *code, const char *fmt, ...)
{
    char msg[1024] = "";
    if (fmt != NULL) {
        va_list va;
        va_start(va, fmt);
        vsnprintf(msg, sizeof(msg), fmt, va);
        va_end(va);
    }
    res->blocked = 1;
    res->status = status >= 400 && status <= 599 ? status : 403;
    free(res->code);
    free(res->message);
    res->code = strdup(ap_token(code, 64) ? code : "blocked_by_plugin");
    res->message = strdup(msg[0] != '\0' ? msg : "blocked by a plugin");
    if (res->code == NULL || res->message == NULL)
        res->oom = 1;
}

int aistudio_result_set_text(aistudio_result *res, size_t i, const char *text)
{
    if (text == NULL || i >= res->ntexts)
        return -1;
    if (res->texts == NULL && (res->texts = calloc(res->ntexts, sizeof(char *))) == NULL)
        return res->oom = 1, -1;
    char *copy = strdup(text);
    if (copy == NULL)
        return res->oom = 1, -1;
    free(res->texts[i]);
    res->texts[i] = copy;
    res->modified = 1;
    return 0;
}

int aistudio_result_set_body(aistudio_result *res, const void *body, size_t len)
{
    unsigned char *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return res->oom = 1, -1;
    if (len > 0)
        memcpy(copy, body, len);
    free(res->body);
    res->body = copy;
    res->body_len = len;
    res->replace_body = 1;
    res->modified = 1;
    return 0;
}

int aistudio_result_set_header(aistudio_result *res, const char *name, const char *value)
{
    if (res->kind != AP_REQUEST || !ap_token(name, 256) || value == NULL)
        return -1;
    for (const char *p = value; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return -1;
    if (ap_push(&res->set_names, name) != 0 || ap_push(&res->set_values, value) != 0)
        return res->oom = 1, -1;
    res->modified = 1;
    return 0;
}

int aistudio_result_set_upstream(aistudio_result *res, const char *base_url)
{
    if (res->kind != AP_REQUEST || base_url == NULL ||
        (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0))
        return -1;
    free(res->upstream);
    if ((res->upstream = strdup(base_url)) == NULL)
        return res->oom = 1, -1;
    return 0;
}

void aistudio_result_set_caller(aistudio_result *res, int64_t app_id, int64_t user_id)
{
    res->app_id = app_id > 0 ? app_id : 0;
    res->user_id = user_id > 0 ? user_id : 0;
}

/* ---- messages in, messages out ---- */

/* The context as the handlers see it. */
static int ap_context(const Aistudio__V1__RequestContext *c, aistudio_context *out)
{
    static const Aistudio__V1__RequestContext empty = AISTUDIO__V1__REQUEST_CONTEXT__INIT;
    if (c == NULL)
        c = &empty;
    memset(out, 0, sizeof(*out));
    out->request_id = c->request_id;
    out->hook = (aistudio_hook)c->hook;
    out->route = c->route;
    out->llm_id = c->llm_id;
    out->llm_slug = c->llm_slug;
    out->vendor = c->vendor;
    out->dialect = c->dialect;
    out->model = c->model;
    out->app_id = c->app_id;
    out->user_id = c->user_id;
    out->namespace_ = c->namespace_;
    out->streaming = c->streaming;
    return 0;
}

const char *aistudio_request_header(const aistudio_request *req, const char *name)
{
    for (size_t i = 0; req != NULL && name != NULL && i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* Packs a HookResult from r into reply. */
static void ap_reply_hook_result(aistudio_result *r, gw_rpc_reply *reply)
{
    Aistudio__V1__HookResult hr = AISTUDIO__V1__HOOK_RESULT__INIT;
    Aistudio__V1__ContextUpdates cu = AISTUDIO__V1__CONTEXT_UPDATES__INIT;
    Aistudio__V1__Header *hdrs = NULL, **hp = NULL;
    char **texts = NULL;

    if (r->oom) {
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (r->blocked) {
        hr.action = AISTUDIO__V1__ACTION__ACTION_BLOCK;
        hr.status = r->status;
        hr.error_code = r->code;
        hr.error_message = r->message;
    } else if (r->modified) {
        hr.action = AISTUDIO__V1__ACTION__ACTION_MODIFY;
        if (r->replace_body) {
            hr.replace_body = 1;
            hr.body.data = r->body;
            hr.body.len = r->body_len;
        }
        if (r->texts != NULL) {
            texts = calloc(r->ntexts, sizeof(char *));
            if (texts == NULL)
                goto oom;
            for (size_t i = 0; i < r->ntexts; i++)
                texts[i] = r->texts[i] != NULL ? r->texts[i] : (char *)r->orig[i];
            hr.replace_texts = 1;
            hr.texts = texts;
            hr.n_texts = r->ntexts;
        }
        if (r->set_names.n > 0) {
            hdrs = calloc(r->set_names.n, sizeof(*hdrs));
            hp = calloc(r->set_names.n, sizeof(*hp));
            if (hdrs == NULL || hp == NULL)
                goto oom;
            for (size_t i = 0; i < r->set_names.n; i++) {
                aistudio__v1__header__init(&hdrs[i]);
                hdrs[i].name = r->set_names.v[i];
                hdrs[i].value = r->set_values.v[i];
                hp[i] = &hdrs[i];
            }
            hr.set_headers = hp;
            hr.n_set_headers = r->set_names.n;
        }
    }
    if (r->upstream != NULL && !r->blocked) {
        cu.upstream_override = r->upstream;
        hr.context_updates = &cu;
    }
    if (!r->blocked) {
        hr.app_id = r->app_id;
        hr.user_id = r->user_id;
    }
    {
        size_t len = aistudio__v1__hook_result__get_packed_size(&hr);
        unsigned char *buf = gw_rpc_reply_alloc(reply, len);
        if (buf != NULL)
            aistudio__v1__hook_result__pack(&hr, buf);
    }
    free(texts), free(hdrs), free(hp);
    return;
oom:
    free(texts), free(hdrs), free(hp);
    gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
}

/* ---- the service's methods ---- */

static void ap_get_manifest(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    Aistudio__V1__Manifest m = AISTUDIO__V1__MANIFEST__INIT;
    Aistudio__V1__Capabilities caps = AISTUDIO__V1__CAPABILITIES__INIT;
    Aistudio__V1__Hook hooks[4];
    size_t nh = 0;
    (void)call, (void)req, (void)len, (void)arg;
    for (int h = AISTUDIO_HOOK_PRE_AUTH; h <= AISTUDIO_HOOK_POST_AUTH; h++)
        if (ap.request != NULL && (ap.request_hooks & AISTUDIO_HOOK_BIT(h)))
            hooks[nh++] = (Aistudio__V1__Hook)h;
    if (ap.response != NULL || ap.schunk != NULL)
        hooks[nh++] = AISTUDIO__V1__HOOK__HOOK_ON_RESPONSE;
    m.id = (char *)ap.id;
    m.name = (char *)ap.name;
    m.version = (char *)ap.version;
    m.description = (char *)ap.description;
    m.hooks = hooks;
    m.n_hooks = nh;
    caps.needs_network = ap.needs_network;
    caps.streaming_response = ap.schunk != NULL;
    caps.request_stream = 1; /* HandleRequests below */
    m.capabilities = &caps;
    m.protocol_version = GW_PLUGIN_PROTOCOL;
    size_t n = aistudio__v1__manifest__get_packed_size(&m);
    unsigned char *buf = gw_rpc_reply_alloc(reply, n);
    if (buf != NULL)
        aistudio__v1__manifest__pack(&m, buf);
}

static void ap_configure(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    Aistudio__V1__ConfigureResponse out = AISTUDIO__V1__CONFIGURE_RESPONSE__INIT;
    Aistudio__V1__ConfigureRequest *cr = aistudio__v1__configure_request__unpack(NULL, len, req);
    char err[512] = "";
    (void)call, (void)arg;
    if (cr == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "the ConfigureRequest does not decode");
        return;
    }
    if (ap.configure != NULL &&
        ap.configure(cr->config_json, (aistudio_hook)cr->hook, err, sizeof(err), ap.configure_user) != 0) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "%s", err[0] != '\0' ? err : "configuration refused");
    } else {
        atomic_store(&ap.hook, (int)cr->hook);
        size_t n = aistudio__v1__configure_response__get_packed_size(&out);
        unsigned char *buf = gw_rpc_reply_alloc(reply, n > 0 ? n : 0);
        if (buf != NULL && n > 0)
            aistudio__v1__configure_response__pack(&out, buf);
    }
    aistudio__v1__configure_request__free_unpacked(cr, NULL);
}

static void ap_handle_request(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    Aistudio__V1__RequestHookCall *rq = aistudio__v1__request_hook_call__unpack(NULL, len, req);
    aistudio_context ctx = {0};
    aistudio_request r;
    aistudio_result res;
    aistudio_header *hdrs = NULL;
    aistudio_text *texts = NULL;
    const char **orig = NULL;
    (void)call, (void)arg;
    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "the RequestHookCall does not decode");
        return;
    }
    memset(&r, 0, sizeof(r));
    if (ap_context(rq->context, &ctx) != 0 || (rq->n_headers > 0 && !(hdrs = calloc(rq->n_headers, sizeof(*hdrs)))) ||
        (rq->n_texts > 0 && (!(texts = calloc(rq->n_texts, sizeof(*texts))) || !(orig = calloc(rq->n_texts, sizeof(*orig)))))) {
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rq->n_headers; i++) {
        hdrs[i].name = rq->headers[i]->name;
        hdrs[i].value = rq->headers[i]->value;
    }
    for (size_t i = 0; i < rq->n_texts; i++) {
        texts[i].role = rq->texts[i]->role;
        texts[i].text = rq->texts[i]->text;
        orig[i] = rq->texts[i]->text;
    }
    r.ctx = &ctx;
    r.method = rq->method;
    r.path = rq->path;
    r.headers = hdrs;
    r.nheaders = rq->n_headers;
    r.body = rq->body.data;
    r.body_len = rq->body.len;
    r.texts = texts;
    r.ntexts = rq->n_texts;
    ap_result_init(&res, AP_REQUEST, orig, rq->n_texts);
    if (ap.request != NULL && (ap.request_hooks & AISTUDIO_HOOK_BIT(ctx.hook)))
        ap.request(&r, &res, ap.request_user);
    ap_reply_hook_result(&res, reply);
    ap_result_free(&res);
out:
    free(hdrs);
    free(texts);
    free(orig);
    aistudio__v1__request_hook_call__free_unpacked(rq, NULL);
}

/* HandleRequests: each message is one request hook, answered on the
 * stream by what HandleRequest would reply; a failure ends the stream with
 * its status. The rpc server runs a stream's messages one at a time. */
static void ap_requests_open(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg)
{
    (void)call, (void)req, (void)len, (void)arg; /* nothing to set up: each message stands alone */
}

static void ap_requests_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    gw_rpc_reply reply;
    char err[GW_ERR_LEN];
    (void)arg;
    if (data == NULL) { /* the gateway closed its side */
        gw_rpc_call_finish(call, GW_RPC_OK, NULL, err);
        return;
    }
    memset(&reply, 0, sizeof(reply));
    ap_handle_request(call, data, len, &reply, NULL);
    if (reply.status != GW_RPC_OK)
        gw_rpc_call_finish(call, reply.status, reply.message, err);
    else if (gw_rpc_call_send(call, reply.data, reply.len, err) != 0)
        gw_rpc_call_cancel(call);
    gw_rpc_reply_clear(&reply);
}

static void ap_handle_response(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    Aistudio__V1__ResponseHookCall *rq = aistudio__v1__response_hook_call__unpack(NULL, len, req);
    aistudio_context ctx;
    aistudio_response r;
    aistudio_result res;
    aistudio_text *texts = NULL;
    const char **orig = NULL;
    (void)call, (void)arg;
    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "the ResponseHookCall does not decode");
        return;
    }
    memset(&ctx, 0, sizeof(ctx));
    if (ap_context(rq->context, &ctx) != 0 ||
        (rq->n_texts > 0 && (!(texts = calloc(rq->n_texts, sizeof(*texts))) || !(orig = calloc(rq->n_texts, sizeof(*orig)))))) {
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rq->n_texts; i++) {
        texts[i].role = rq->texts[i]->role;
        texts[i].text = rq->texts[i]->text;
        orig[i] = rq->texts[i]->text;
    }
    r.ctx = &ctx;
    r.body = rq->body.data;
    r.body_len = rq->body.len;
    r.texts = texts;
    r.ntexts = rq->n_texts;
    ap_result_init(&res, AP_RESPONSE, orig, rq->n_texts);
    if (ap.response != NULL)
        ap.response(&r, &res, ap.response_user);
    ap_reply_hook_result(&res, reply);
    ap_result_free(&res);
out:
    free(texts);
    free(orig);
    aistudio__v1__response_hook_call__free_unpacked(rq, NULL);
}

/* One streamed answer: its first chunk (the context) and the plugin's state. */
typedef struct ap_stream {
    Aistudio__V1__ResponseChunk *first;
    aistudio_context ctx;
    void *state;
    int opened, closed;
} ap_stream;

static void ap_stream_end(ap_stream *st)
{
    if (st->opened && !st->closed && ap.sclose != NULL)
        ap.sclose(st->state, ap.stream_user);
    st->closed = 1;
}

static void ap_stream_open(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg)
{
    (void)req, (void)len, (void)arg;
    gw_rpc_call_set_user(call, calloc(1, sizeof(ap_stream)));
}

static void ap_send_chunk_result(gw_rpc_call *call, aistudio_result *res)
{
    Aistudio__V1__ChunkResult cr = AISTUDIO__V1__CHUNK_RESULT__INIT;
    char err[GW_ERR_LEN];
    if (res->oom) {
        gw_rpc_call_finish(call, GW_RPC_RESOURCE_EXHAUSTED, "out of memory", err);
        return;
    }
    if (res->blocked) {
        cr.action = AISTUDIO__V1__ACTION__ACTION_BLOCK;
        cr.error_code = res->code;
        cr.error_message = res->message;
    } else if (res->modified) {
        cr.action = AISTUDIO__V1__ACTION__ACTION_MODIFY;
        if (res->texts != NULL && res->texts[0] != NULL) {
            cr.replace_text = 1;
            cr.text = res->texts[0];
        }
        if (res->replace_body) {
            cr.replace_data = 1;
            cr.data.data = res->body;
            cr.data.len = res->body_len;
        }
    }
    size_t n = aistudio__v1__chunk_result__get_packed_size(&cr);
    unsigned char *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL) {
        gw_rpc_call_finish(call, GW_RPC_RESOURCE_EXHAUSTED, "out of memory", err);
        return;
    }
    aistudio__v1__chunk_result__pack(&cr, buf);
    if (gw_rpc_call_send(call, buf, n, err) != 0)
        gw_rpc_call_cancel(call);
    free(buf);
}

static void ap_stream_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    ap_stream *st = gw_rpc_call_user(call);
    char err[GW_ERR_LEN];
    (void)arg;
    if (st == NULL) {
        gw_rpc_call_finish(call, GW_RPC_RESOURCE_EXHAUSTED, "out of memory", err);
        return;
    }
    if (data == NULL) { /* the gateway is done with this answer */
        ap_stream_end(st);
        gw_rpc_call_finish(call, GW_RPC_OK, NULL, err);
        return;
    }
    Aistudio__V1__ResponseChunk *ch = aistudio__v1__response_chunk__unpack(NULL, len, data);
    if (ch == NULL) {
        gw_rpc_call_finish(call, GW_RPC_INVALID_ARGUMENT, "a ResponseChunk does not decode", err);
        return;
    }
    if (!st->opened) {
        st->first = ch;
        if (ap_context(ch->context, &st->ctx) != 0) {
            gw_rpc_call_finish(call, GW_RPC_RESOURCE_EXHAUSTED, "out of memory", err);
            return;
        }
        st->opened = 1;
        st->state = ap.sopen != NULL ? ap.sopen(&st->ctx, ap.stream_user) : NULL;
    }
    aistudio_chunk c;
    aistudio_result res;
    const char *orig[1] = {ch->text};
    memset(&c, 0, sizeof(c));
    c.ctx = &st->ctx;
    c.index = ch->index;
    c.data = ch->data.data;
    c.len = ch->data.len;
    c.text = ch->text;
    c.end = ch->end;
    ap_result_init(&res, AP_CHUNK, orig, 1);
    if (ap.schunk != NULL)
        ap.schunk(st->state, &c, &res, ap.stream_user);
    ap_send_chunk_result(call, &res);
    ap_result_free(&res);
    if (ch != st->first)
        aistudio__v1__response_chunk__free_unpacked(ch, NULL);
}

static void ap_stream_close(gw_rpc_call *call, gw_rpc_status status, void *arg)
{
    ap_stream *st = gw_rpc_call_user(call);
    (void)status, (void)arg;
    if (st == NULL)
        return;
    ap_stream_end(st);
    if (st->first != NULL)
        aistudio__v1__response_chunk__free_unpacked(st->first, NULL);
    free(st);
    gw_rpc_call_set_user(call, NULL);
}

static void ap_health(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    Aistudio__V1__HealthResponse h = AISTUDIO__V1__HEALTH_RESPONSE__INIT;
    (void)call, (void)req, (void)len, (void)arg;
    h.serving = 1;
    size_t n = aistudio__v1__health_response__get_packed_size(&h);
    unsigned char *buf = gw_rpc_reply_alloc(reply, n);
    if (buf != NULL)
        aistudio__v1__health_response__pack(&h, buf);
}

/* ---- serving ---- */

static void ap_print_manifest(void)
{
    gw_buf b;
    gw_jw w;
    gw_buf_init(&b, 0);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "id"), gw_jw_string(&w, ap.id);
    gw_jw_key(&w, "name"), gw_jw_string(&w, ap.name);
    gw_jw_key(&w, "version"), gw_jw_string(&w, ap.version);
    gw_jw_key(&w, "description"), gw_jw_string(&w, ap.description);
    gw_jw_key(&w, "hooks");
    gw_jw_array_begin(&w);
    for (int h = AISTUDIO_HOOK_PRE_AUTH; h <= AISTUDIO_HOOK_POST_AUTH; h++)
        if (ap.request != NULL && (ap.request_hooks & AISTUDIO_HOOK_BIT(h)))
            gw_jw_string(&w, aistudio_hook_name((aistudio_hook)h));
    if (ap.response != NULL || ap.schunk != NULL)
        gw_jw_string(&w, "on_response");
    gw_jw_array_end(&w);
    gw_jw_key(&w, "capabilities");
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "needs_network"), gw_jw_bool(&w, ap.needs_network);
    gw_jw_key(&w, "streaming_response"), gw_jw_bool(&w, ap.schunk != NULL);
    gw_jw_object_end(&w);
    gw_jw_key(&w, "protocol_version"), gw_jw_int(&w, GW_PLUGIN_PROTOCOL);
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) == 0)
        printf("%.*s\n", (int)b.len, b.data);
    gw_buf_free(&b);
}

static void ap_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--socket PATH] [--manifest]\n"
            "A pg_aistudio plugin (%s %s). gatewayd starts it with AISTUDIO_PLUGIN_DIR set; by hand it listens on\n"
            "--socket PATH (or a private directory under /tmp) and prints \"%s %d unix:<socket>\".\n",
            prog, ap.name, ap.version, GW_PLUGIN_MAGIC, GW_PLUGIN_PROTOCOL);
}

int aistudio_plugin_serve(int argc, char **argv)
{
    const char *socket_arg = NULL, *dir = getenv(GW_PLUGIN_DIR_ENV);
    char own_dir[64] = "", sock[GW_PLUGIN_SOCKET_PATH_MAX + 1], listen[GW_PLUGIN_SOCKET_PATH_MAX + 8];
    char line[GW_PLUGIN_HANDSHAKE_MAX], err[GW_ERR_LEN];
    int hosted = dir != NULL && dir[0] != '\0', rc = 0;
    sigset_t sigs;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
            socket_arg = argv[++i];
        else if (strcmp(argv[i], "--manifest") == 0) {
            ap_print_manifest();
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ap_usage(stdout, argv[0]);
            return 0;
        } else {
            ap_usage(stderr, argv[0]);
            return 2;
        }
    }
    if (hosted)
        snprintf(sock, sizeof(sock), "%s/plugin.sock", dir);
    else if (socket_arg != NULL)
        snprintf(sock, sizeof(sock), "%s", socket_arg);
    else {
        snprintf(own_dir, sizeof(own_dir), "/tmp/aistudio-plugin.XXXXXX");
        if (mkdtemp(own_dir) == NULL) {
            aistudio_plugin_log("cannot make a private directory under /tmp: %s", strerror(errno));
            return 1;
        }
        snprintf(sock, sizeof(sock), "%s/plugin.sock", own_dir);
    }
    if (sock[0] != '/' || strlen(sock) > GW_PLUGIN_SOCKET_PATH_MAX - 1) {
        aistudio_plugin_log("the socket path must be absolute and at most %d bytes", GW_PLUGIN_SOCKET_PATH_MAX - 1);
        return 2;
    }
    unlink(sock);

    /* signals are taken by the main thread only: block them before any thread starts */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

    gw_rpc_server_opts so;
    memset(&so, 0, sizeof(so));
    snprintf(listen, sizeof(listen), "unix:%s", sock);
    so.listen = listen;
    so.workers = AP_WORKERS;
    so.max_message = AP_MAX_MESSAGE;
    gw_rpc_server *srv = gw_rpc_server_create(&so, err);
    const gw_rpc_method methods[] = {
        {AP_SVC "GetManifest", GW_RPC_UNARY, ap_get_manifest, NULL, NULL, NULL, NULL},
        {AP_SVC "Configure", GW_RPC_UNARY, ap_configure, NULL, NULL, NULL, NULL},
        {AP_SVC "HandleRequest", GW_RPC_UNARY, ap_handle_request, NULL, NULL, NULL, NULL},
        {AP_SVC "HandleRequests", GW_RPC_BIDI, NULL, ap_requests_open, ap_requests_message, NULL, NULL},
        {AP_SVC "HandleResponse", GW_RPC_UNARY, ap_handle_response, NULL, NULL, NULL, NULL},
        {AP_SVC "StreamResponse", GW_RPC_BIDI, NULL, ap_stream_open, ap_stream_message, ap_stream_close, NULL},
        {AP_SVC "Health", GW_RPC_UNARY, ap_health, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; srv != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (gw_rpc_server_add_method(srv, &methods[i], err) != 0) {
            gw_rpc_server_destroy(srv);
            srv = NULL;
        }
    if (srv == NULL || sfd < 0 || gw_rpc_server_start(srv, err) != 0) {
        aistudio_plugin_log("%s: cannot serve on %s: %s", ap.name, sock, sfd < 0 ? strerror(errno) : err);
        gw_rpc_server_destroy(srv);
        rc = 1;
        goto out;
    }
    if (gw_plugin_handshake_format(sock, line, sizeof(line)) != 0 || write(1, line, strlen(line)) < 0) {
        aistudio_plugin_log("%s: cannot print the handshake line", ap.name);
        gw_rpc_server_destroy(srv);
        rc = 1;
        goto out;
    }

    for (;;) {
        struct pollfd p[2] = {{sfd, POLLIN, 0}, {0, POLLIN, 0}};
        int n = poll(p, hosted ? 2 : 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || p[0].revents)
            break; /* SIGTERM or SIGINT */
        if (hosted && p[1].revents) {
            char b[256];
            ssize_t r = read(0, b, sizeof(b));
            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                break; /* the gateway is gone */
        }
    }
    gw_rpc_server_stop(srv, 1000);
    gw_rpc_server_destroy(srv);
out:
    unlink(sock);
    if (own_dir[0] != '\0')
        rmdir(own_dir);
    if (sfd >= 0)
        close(sfd);
    return rc;
}

/* ---- JSON ---- */

int aistudio_json_parse(const char *text, aistudio_json *root, char *err, size_t errlen)
{
    char e[GW_ERR_LEN];
    gw_json_value v;
    if (text == NULL || gw_vj_parse(text, strlen(text), &v, e) != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s", text == NULL ? "no JSON text" : e);
        return -1;
    }
    root->type = (aistudio_json_type)v.type;
    root->ptr = v.ptr;
    root->len = v.len;
    return 0;
}

static gw_json_value ap_jv(const aistudio_json *v)
{
    gw_json_value g = {(gw_json_type)v->type, v->ptr, v->len};
    return g;
}

int aistudio_json_get(const aistudio_json *obj, const char *key, aistudio_json *out)
{
    gw_json_value o = ap_jv(obj), r;
    if (obj->type != AISTUDIO_JSON_OBJECT || !gw_vj_get(&o, key, &r))
        return 0;
    out->type = (aistudio_json_type)r.type;
    out->ptr = r.ptr;
    out->len = r.len;
    return 1;
}

int aistudio_json_string(const aistudio_json *v, char *out, size_t cap)
{
    gw_json_value g = ap_jv(v);
    return gw_json_get_string(&g, out, cap, NULL) == 0 ? 0 : -1;
}

char *aistudio_json_strdup(const aistudio_json *v)
{
    char *s;
    if (v->type != AISTUDIO_JSON_STRING || (s = malloc(v->len + 1)) == NULL)
        return NULL;
    if (aistudio_json_string(v, s, v->len + 1) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

int aistudio_json_int(const aistudio_json *v, int64_t *out)
{
    gw_json_value g = ap_jv(v);
    return gw_json_get_int64(&g, out);
}

int aistudio_json_bool(const aistudio_json *v, int *out)
{
    gw_json_value g = ap_jv(v);
    return gw_json_get_bool(&g, out);
}

void aistudio_json_iter_init(aistudio_json_iter *it, const aistudio_json *array)
{
    gw_json_value g = ap_jv(array);
    gw_vj_iter i;
    gw_vj_iter_init(&i, &g);
    it->p = i.p;
    it->end = i.end;
    it->array = i.array;
}

int aistudio_json_next(aistudio_json_iter *it, aistudio_json *elem)
{
    gw_vj_iter i = {it->p, it->end, it->array};
    gw_json_value v;
    int r = gw_vj_next_elem(&i, &v);
    it->p = i.p;
    it->end = i.end;
    if (r) {
        elem->type = (aistudio_json_type)v.type;
        elem->ptr = v.ptr;
        elem->len = v.len;
    }
    return r;
}
