/*
 * src/gateway/upstream.c: the libcurl side of a proxied request (see
 * upstream.h).
 *
 * The handles: a pool of slots, each a curl multi handle with one easy
 * handle, its header nodes and line buffer. A call borrows a slot for its
 * duration and gives it back; free slots are kept per upstream host
 * (scheme://host:port), most recently used first, so a call finds a slot
 * whose cached connection goes where it goes (CURLMOPT_MAXCONNECTS 1 per
 * slot). Slots are made on demand up to the cap set at start
 * (gw_upstream_pool_start: the descriptors each slot needs are counted in
 * the thread-pool sizing, http/server.h); a call that finds none gets
 * GW_UP_BUSY at once. Idle worker threads (connections waiting for a head
 * or idle between keep-alive requests) hold no curl state.
 *
 * Locking: one mutex protects the pool's lists and counters; it is held
 * only to take or return a slot (never during a transfer, never while a
 * slot is made). A slot is used by one thread at a time.
 */
#include "gateway/upstream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GW_UP_LINE_MAX (GW_UPSTREAM_RELAY_HEADERS_MAX + 256)
#define GW_UP_HOST_MAX 256
#define GW_UP_HOSTS 32 /* hosts with their own free list; the others share one */

typedef struct gw_up_slot {
    CURLM *multi;
    CURL *easy;
    struct gw_up_slot *next;
    int host; /* index of its host's free list (GW_UP_HOSTS: none yet, or the shared one) */
    struct curl_slist nodes[GW_UPSTREAM_MAX_HEADERS + 4];
    char line[GW_UP_LINE_MAX]; /* a redacted response header line */
} gw_up_slot;

/* Per-call state the curl callbacks see. */
typedef struct gw_up_state {
    gw_upstream_call *c;
    const gw_upstream_cb *cb;
    CURL *easy;
    int64_t last_byte_ms;
    int head_done;
    int aborted;   /* a callback returned -1 */
    int retryable; /* the connection was refused / the host unknown: nothing was sent */
    char *line;    /* the slot's buffer for a redacted header line */
} gw_up_state;

static struct {
    pthread_mutex_t mu;
    char hosts[GW_UP_HOSTS][GW_UP_HOST_MAX];
    gw_up_slot *free[GW_UP_HOSTS + 1]; /* [GW_UP_HOSTS]: never used, or a host without a list */
    int nhosts;
    int max, made, in_use;
    unsigned long long busy;
} gw_up_pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void gw_up_slot_free(gw_up_slot *t)
{
    if (t == NULL)
        return;
    if (t->easy != NULL)
        curl_easy_cleanup(t->easy);
    if (t->multi != NULL)
        curl_multi_cleanup(t->multi);
    free(t);
}

static gw_up_slot *gw_up_slot_new(void)
{
    gw_up_slot *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->multi = curl_multi_init();
    t->easy = curl_easy_init();
    if (t->multi == NULL || t->easy == NULL) {
        gw_up_slot_free(t);
        return NULL;
    }
    /* calls of one host take its slots: one cached connection each */
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, 1L);
    t->host = GW_UP_HOSTS;
    return t;
}

/* The length of "scheme://host:port" at the start of url. */
static size_t gw_up_host_len(const char *url)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? p + 3 : url;
    while (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
        p++;
    return (size_t)(p - url);
}

/* The free list of url's host; GW_UP_HOSTS when it has none (under mu). */
static int gw_up_host_index(const char *url, int add)
{
    size_t n = gw_up_host_len(url);
    if (n >= GW_UP_HOST_MAX)
        return GW_UP_HOSTS;
    for (int i = 0; i < gw_up_pool.nhosts; i++)
        if (strncmp(gw_up_pool.hosts[i], url, n) == 0 && gw_up_pool.hosts[i][n] == '\0')
            return i;
    if (!add || gw_up_pool.nhosts == GW_UP_HOSTS)
        return GW_UP_HOSTS;
    memcpy(gw_up_pool.hosts[gw_up_pool.nhosts], url, n);
    gw_up_pool.hosts[gw_up_pool.nhosts][n] = '\0';
    return gw_up_pool.nhosts++;
}

static gw_up_slot *gw_up_pop(int list)
{
    gw_up_slot *t = gw_up_pool.free[list];
    if (t != NULL)
        gw_up_pool.free[list] = t->next;
    return t;
}

/* A slot for a call to url: one of its host's, else a new one, else any
 * free one; NULL when the cap is reached (or out of memory). */
static gw_up_slot *gw_up_slot_take(const char *url)
{
    gw_up_slot *t;
    int make = 0;

    pthread_mutex_lock(&gw_up_pool.mu);
    t = gw_up_pop(gw_up_host_index(url, 1));
    if (t == NULL && gw_up_pool.made < gw_up_pool.max) {
        gw_up_pool.made++;
        make = 1;
    }
    for (int i = 0; t == NULL && !make && i <= GW_UP_HOSTS; i++)
        t = gw_up_pop(i);
    if (t != NULL || make)
        gw_up_pool.in_use++;
    else
        gw_up_pool.busy++;
    pthread_mutex_unlock(&gw_up_pool.mu);
    if (make && (t = gw_up_slot_new()) == NULL) {
        pthread_mutex_lock(&gw_up_pool.mu);
        gw_up_pool.made--;
        gw_up_pool.in_use--;
        pthread_mutex_unlock(&gw_up_pool.mu);
    }
    return t;
}

static void gw_up_slot_give(gw_up_slot *t, const char *url)
{
    pthread_mutex_lock(&gw_up_pool.mu);
    t->host = gw_up_host_index(url, 1);
    t->next = gw_up_pool.free[t->host];
    gw_up_pool.free[t->host] = t;
    gw_up_pool.in_use--;
    pthread_mutex_unlock(&gw_up_pool.mu);
}

int gw_upstream_pool_start(int max_calls, int prewarm, char err[GW_ERR_LEN])
{
    if (max_calls < 1)
        return gw_errf(err, "upstream: at least one call at once is needed");
    pthread_mutex_lock(&gw_up_pool.mu);
    gw_up_pool.max = max_calls;
    pthread_mutex_unlock(&gw_up_pool.mu);
    /* made ahead, so a burst of new streams does not make them one by one */
    for (int i = 0; i < prewarm && i < max_calls; i++) {
        gw_up_slot *t = gw_up_slot_new();
        if (t == NULL)
            return gw_errf(err, "upstream: cannot initialise libcurl");
        pthread_mutex_lock(&gw_up_pool.mu);
        gw_up_pool.made++;
        t->next = gw_up_pool.free[GW_UP_HOSTS];
        gw_up_pool.free[GW_UP_HOSTS] = t;
        pthread_mutex_unlock(&gw_up_pool.mu);
    }
    return 0;
}

void gw_upstream_pool_stop(void)
{
    pthread_mutex_lock(&gw_up_pool.mu);
    for (int i = 0; i <= GW_UP_HOSTS; i++) {
        gw_up_slot *t;
        while ((t = gw_up_pop(i)) != NULL) {
            gw_up_slot_free(t);
            gw_up_pool.made--;
        }
    }
    gw_up_pool.nhosts = 0;
    pthread_mutex_unlock(&gw_up_pool.mu);
}

void gw_upstream_pool_stats_get(gw_upstream_pool_stats *out)
{
    pthread_mutex_lock(&gw_up_pool.mu);
    out->max = gw_up_pool.max;
    out->made = gw_up_pool.made;
    out->in_use = gw_up_pool.in_use;
    out->busy = gw_up_pool.busy;
    pthread_mutex_unlock(&gw_up_pool.mu);
}

int64_t gw_upstream_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *gw_upstream_result_name(gw_upstream_result r)
{
    switch (r) {
    case GW_UP_OK:
        return "ok";
    case GW_UP_CONNECT_FAILED:
        return "connect_failed";
    case GW_UP_TIMEOUT:
        return "timeout";
    case GW_UP_STALL:
        return "stall";
    case GW_UP_RESET:
        return "reset";
    case GW_UP_ABORTED:
        return "aborted";
    case GW_UP_ERROR:
        return "error";
    case GW_UP_BUSY:
        return "busy";
    }
    return "?";
}

/* Request headers the gateway sets itself (or must not forward). */
static int gw_up_header_dropped(const char *line, size_t name_len)
{
    static const char *const names[] = {"host",       "content-length", "transfer-encoding",
                                        "connection", "expect",         "keep-alive",
                                        "te",         "upgrade",        "proxy-connection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == name_len && strncasecmp(line, names[i], name_len) == 0)
            return 1;
    return 0;
}

/* Response headers worth passing on to the client (rate limits, retry hints). */
static int gw_up_header_relayed(const char *name, size_t n)
{
    return (n == 11 && strncasecmp(name, "retry-after", 11) == 0) ||
           (n == 14 && strncasecmp(name, "retry-after-ms", 14) == 0) ||
           (n > 12 && strncasecmp(name, "x-ratelimit-", 12) == 0) ||
           (n > 20 && strncasecmp(name, "anthropic-ratelimit-", 20) == 0);
}

static size_t gw_up_header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    gw_up_state *st = ud;
    gw_upstream_call *c = st->c;
    size_t len = size * nitems, n = len;
    const char *colon;

    st->last_byte_ms = gw_now_ms();
    if (c->first_byte_us == 0)
        c->first_byte_us = gw_upstream_now_us();
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* a new head (after a 1xx one, start over) */
        c->content_type[0] = '\0';
        c->relay_headers_len = 0;
        c->relay_headers[0] = '\0';
        st->head_done = 0;
        return len;
    }
    if (n == 0) {
        long status = 0;
        curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && !st->head_done) {
            int64_t t0 = gw_upstream_now_us();
            int rc;
            c->status = status;
            st->head_done = 1;
            rc = st->cb->on_head != NULL ? st->cb->on_head(st->cb->ctx, status, c->content_type) : 0;
            c->callback_us += gw_upstream_now_us() - t0;
            if (rc != 0) {
                st->aborted = 1;
                return 0;
            }
        }
        return len;
    }
    if (c->redact != NULL && gw_redact_active(c->redact)) {
        /* the whole line, name included, before anything is read from it;
         * longer lines are cut after the replacement, never inside a key */
        n = gw_redact_copy(c->redact, buf, n, st->line, GW_UP_LINE_MAX);
        buf = st->line;
    }
    colon = memchr(buf, ':', n);
    if (colon != NULL) {
        size_t nlen = (size_t)(colon - buf);
        const char *v = colon + 1;
        size_t vlen;
        while (v < buf + n && (*v == ' ' || *v == '\t'))
            v++;
        vlen = (size_t)(buf + n - v);
        if (nlen == 12 && strncasecmp(buf, "content-type", 12) == 0) {
            if (vlen >= sizeof(c->content_type))
                vlen = sizeof(c->content_type) - 1;
            memcpy(c->content_type, v, vlen);
            c->content_type[vlen] = '\0';
        } else if (gw_up_header_relayed(buf, nlen) &&
                   c->relay_headers_len + nlen + vlen + 5 < sizeof(c->relay_headers)) {
            int ok = 1;
            for (size_t i = 0; i < vlen; i++)
                if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
                    ok = 0;
            if (ok) {
                char *o = c->relay_headers + c->relay_headers_len;
                memcpy(o, buf, nlen);
                o += nlen;
                *o++ = ':';
                *o++ = ' ';
                memcpy(o, v, vlen);
                o += vlen;
                *o++ = '\r';
                *o++ = '\n';
                *o = '\0';
                c->relay_headers_len = (size_t)(o - c->relay_headers);
            }
        }
    }
    return len;
}

/* Body bytes to the caller (after redaction when it is on). */
static int gw_up_body(void *ud, const char *data, size_t len)
{
    gw_up_state *st = ud;
    return st->cb->on_body != NULL ? st->cb->on_body(st->cb->ctx, data, len) : 0;
}

static size_t gw_up_write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    gw_up_state *st = ud;
    gw_upstream_call *c = st->c;
    size_t len = size * nmemb;
    int64_t t0;
    int rc;

    st->last_byte_ms = gw_now_ms();
    if (c->first_byte_us == 0)
        c->first_byte_us = gw_upstream_now_us();
    if (!st->head_done) {
        /* HTTP/0.9-like or a head we did not see end: report it now */
        long status = 0;
        curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
        c->status = status;
        st->head_done = 1;
        if (st->cb->on_head != NULL && st->cb->on_head(st->cb->ctx, status, c->content_type) != 0) {
            st->aborted = 1;
            return 0;
        }
    }
    c->bytes_in += len;
    t0 = gw_upstream_now_us();
    if (c->redact != NULL && gw_redact_active(c->redact))
        rc = gw_redact_feed(c->redact, data, len, gw_up_body, st);
    else
        rc = gw_up_body(st, data, len);
    c->callback_us += gw_upstream_now_us() - t0;
    if (rc != 0) {
        st->aborted = 1;
        return 0;
    }
    return len;
}

/* Builds the header list over the thread's nodes; NULL-safe when empty. */
static struct curl_slist *gw_up_headers(gw_up_slot *t, const gw_upstream_call *c)
{
    struct curl_slist *head = NULL, *tail = NULL;
    size_t n = 0, max = GW_UPSTREAM_MAX_HEADERS;
    int have_ct = 0;
    const char *p = c->headers, *end = c->headers != NULL ? c->headers + c->headers_len : NULL;
    static const char expect_off[] = "Expect:";
    static const char ct_json[] = "Content-Type: application/json";

#define GW_UP_PUSH(str)                                                                                                \
    do {                                                                                                               \
        struct curl_slist *node_ = &t->nodes[n++];                                                                     \
        node_->data = (char *)(str);                                                                                   \
        node_->next = NULL;                                                                                            \
        if (tail != NULL)                                                                                              \
            tail->next = node_;                                                                                        \
        else                                                                                                           \
            head = node_;                                                                                              \
        tail = node_;                                                                                                  \
    } while (0)

    while (p != NULL && p < end && n < max) {
        size_t l = strnlen(p, (size_t)(end - p));
        const char *colon = memchr(p, ':', l);
        if (l > 0 && colon != NULL) {
            size_t nlen = (size_t)(colon - p);
            if (!gw_up_header_dropped(p, nlen)) {
                if (nlen == 12 && strncasecmp(p, "content-type", 12) == 0)
                    have_ct = 1;
                GW_UP_PUSH(p);
            }
        }
        p += l + 1;
    }
    /* no 100-continue round trip for large bodies */
    GW_UP_PUSH(expect_off);
    if (c->body != NULL && c->body_len > 0 && !have_ct)
        GW_UP_PUSH(ct_json);
#undef GW_UP_PUSH
    return head;
}

static gw_upstream_result gw_up_map(CURLcode rc, gw_up_state *st, CURL *easy)
{
    gw_upstream_call *c = st->c;
    if (rc == CURLE_OK)
        return GW_UP_OK;
    if (st->aborted || rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) {
        gw_errf(c->err, "aborted by the gateway");
        return GW_UP_ABORTED;
    }
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        st->retryable = 1;
        gw_errf(c->err, "cannot connect to the upstream: %s", curl_easy_strerror(rc));
        return GW_UP_CONNECT_FAILED;
    case CURLE_OPERATION_TIMEDOUT: {
        /* no pre-transfer time: the request was never sent (still
         * connecting); a reused connection has one, a connect time of 0 */
        curl_off_t pretransfer_us = 0;
        curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
        if (pretransfer_us == 0 && c->first_byte_us == 0) {
            gw_errf(c->err, "cannot connect to the upstream: connect timeout");
            return GW_UP_CONNECT_FAILED;
        }
        gw_errf(c->err, "the upstream did not answer in time");
        return GW_UP_TIMEOUT;
    }
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
        gw_errf(c->err, "the upstream connection broke: %s", curl_easy_strerror(rc));
        return GW_UP_RESET;
    default:
        gw_errf(c->err, "upstream error: %s", curl_easy_strerror(rc));
        return GW_UP_ERROR;
    }
}

static gw_upstream_result gw_up_once_call(gw_up_slot *t, gw_upstream_call *c, const gw_upstream_cb *cb, int *retryable)
{
    CURL *e = t->easy;
    gw_up_state st;
    struct curl_slist *hdrs;
    gw_upstream_result res = GW_UP_ERROR;
    CURLMsg *msg;
    int running = 1, msgs;
    int done = 0;
    int64_t start_ms;

    memset(&st, 0, sizeof(st));
    st.c = c;
    st.cb = cb;
    st.easy = e;
    st.line = t->line;
    st.last_byte_ms = start_ms = gw_now_ms();
    c->status = 0;
    c->content_type[0] = '\0';
    c->relay_headers[0] = '\0';
    c->relay_headers_len = 0;
    c->first_byte_us = 0;
    c->bytes_in = 0;
    c->err[0] = '\0';
    if (c->redact != NULL)
        gw_redact_restart(c->redact);

    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    if (c->total_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->total_timeout_ms);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, gw_up_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &st);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, gw_up_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &st);
    hdrs = gw_up_headers(t, c);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);

    if (strcmp(c->method, "GET") == 0 && c->body_len == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(c->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body != NULL ? c->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
        if (c->body != NULL && c->body_len > 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
        }
    }

    if (curl_multi_add_handle(t->multi, e) != CURLM_OK) {
        gw_errf(c->err, "upstream: cannot start the transfer");
        return GW_UP_ERROR;
    }
    for (;;) {
        CURLMcode mc = curl_multi_perform(t->multi, &running);
        int64_t now;
        if (mc != CURLM_OK) {
            gw_errf(c->err, "upstream: %s", curl_multi_strerror(mc));
            res = GW_UP_ERROR;
            break;
        }
        if (st.aborted) {
            gw_errf(c->err, "aborted by the gateway");
            res = GW_UP_ABORTED;
            break;
        }
        if (running == 0) {
            done = 1;
            break;
        }
        now = gw_now_ms();
        if (c->first_byte_us == 0 && c->first_byte_timeout_ms > 0 && now - start_ms >= c->first_byte_timeout_ms) {
            gw_errf(c->err, "the upstream did not answer within %d ms", c->first_byte_timeout_ms);
            res = GW_UP_TIMEOUT;
            break;
        }
        if (c->first_byte_us != 0 && c->stall_ms > 0 && now - st.last_byte_ms >= c->stall_ms) {
            gw_errf(c->err, "no data from the upstream for %d ms", c->stall_ms);
            res = GW_UP_STALL;
            break;
        }
        if (cb->on_tick != NULL && cb->on_tick(cb->ctx, now, st.last_byte_ms) != 0) {
            gw_errf(c->err, "aborted by the gateway");
            res = GW_UP_ABORTED;
            break;
        }
        mc = curl_multi_poll(t->multi, NULL, 0, GW_UPSTREAM_TICK_MS, NULL);
        if (mc != CURLM_OK) {
            gw_errf(c->err, "upstream: %s", curl_multi_strerror(mc));
            res = GW_UP_ERROR;
            break;
        }
    }
    if (done) {
        res = GW_UP_ERROR;
        gw_errf(c->err, "upstream: transfer ended without a result");
        while ((msg = curl_multi_info_read(t->multi, &msgs)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) {
                res = gw_up_map(msg->data.result, &st, e);
                if (res == GW_UP_OK)
                    c->err[0] = '\0';
            }
        }
        /* the body is complete: pass on what redaction held back */
        if (res == GW_UP_OK && c->redact != NULL && gw_redact_flush(c->redact, gw_up_body, &st) != 0) {
            gw_errf(c->err, "aborted by the gateway");
            res = GW_UP_ABORTED;
        }
    }
    /* removing an unfinished transfer closes its connection */
    curl_multi_remove_handle(t->multi, e);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    *retryable = st.retryable;
    return res;
}

gw_upstream_result gw_upstream_perform(gw_upstream_call *c, const gw_upstream_cb *cb)
{
    gw_up_slot *t = gw_up_slot_take(c->url);
    gw_upstream_result res;
    int retryable = 0;

    c->retried = 0;
    c->callback_us = 0;
    c->started_us = gw_upstream_now_us();
    if (t == NULL) {
        gw_errf(c->err, "the gateway has too many upstream calls in progress");
        c->ended_us = gw_upstream_now_us();
        return GW_UP_BUSY;
    }
    res = gw_up_once_call(t, c, cb, &retryable);
    /* once, and only when nothing reached the upstream (so nothing reached the client) */
    if (res == GW_UP_CONNECT_FAILED && retryable && c->retry_connect && c->first_byte_us == 0) {
        c->retried = 1;
        res = gw_up_once_call(t, c, cb, &retryable);
    }
    gw_up_slot_give(t, c->url);
    c->ended_us = gw_upstream_now_us();
    return res;
}
