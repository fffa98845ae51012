/*
 * src/gateway/proxy_io.c: response writing and client liveness (see
 * proxy_io.h).
 */
#include "gateway/proxy_io.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/errmap.h"
#include "http/server.h"

#define GW_HEAD_MAX 2040 /* head + chunk line must fit the gap */

int gw_outbuf_start(gw_outbuf *o, size_t limit)
{
    o->limit = limit;
    o->overflow = 0;
    if (o->cap < GW_OUT_GAP + 4096) {
        char *p = realloc(o->data, GW_OUT_GAP + 4096);
        if (p == NULL)
            return -1;
        o->data = p;
        o->cap = GW_OUT_GAP + 4096;
    }
    o->len = GW_OUT_GAP;
    return 0;
}

int gw_outbuf_append(gw_outbuf *o, const char *p, size_t n)
{
    size_t need;
    if (o->overflow)
        return -1;
    if (gw_outbuf_pending(o) + n > o->limit) {
        o->overflow = 1;
        return -1;
    }
    need = o->len + n + 8; /* room for the chunk's "\r\n" and the last chunk */
    if (need > o->cap) {
        size_t ncap = o->cap * 2;
        char *q;
        while (ncap < need)
            ncap *= 2;
        q = realloc(o->data, ncap);
        if (q == NULL) {
            o->overflow = 1;
            return -1;
        }
        o->data = q;
        o->cap = ncap;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
    return 0;
}

void gw_outbuf_trim(gw_outbuf *o, size_t keep)
{
    if (o->cap > keep) {
        free(o->data);
        o->data = NULL;
        o->cap = 0;
        o->len = 0;
    }
}

void gw_outbuf_free(gw_outbuf *o)
{
    free(o->data);
    memset(o, 0, sizeof(*o));
}

void gw_resp_init(gw_resp *rs, struct mg_connection *conn, const struct mg_request_info *ri, const char *request_id)
{
    memset(rs, 0, sizeof(*rs));
    rs->conn = conn;
    rs->request_id = request_id;
    rs->http11 = ri->http_version != NULL && strcmp(ri->http_version, "1.1") == 0;
    rs->keep_alive = gw_http_client_keep_alive(conn); /* what civetweb itself will decide */
    rs->content_type = "application/json";
}

void gw_resp_close_after(gw_resp *rs)
{
    rs->keep_alive = 0;
    mg_disable_connection_keep_alive(rs->conn);
}

/* 1 when the header lines of own have one named like line (up to its colon). */
static int gw_resp_own_has(const char *own, const char *line, size_t name_len)
{
    for (const char *p = own; p != NULL && *p != '\0';) {
        const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
        if (colon == NULL || eol == NULL)
            return 0;
        if ((size_t)(colon - p) == name_len && strncasecmp(p, line, name_len) == 0)
            return 1;
        p = eol + 2;
    }
    return 0;
}

/* extra without the lines own replaces, into dst (cap bytes; lines that do
 * not fit are left out). */
static const char *gw_resp_merge_extra(const char *extra, const char *own, char *dst, size_t cap)
{
    size_t len = 0;

    dst[0] = '\0';
    for (const char *p = extra; p != NULL && *p != '\0';) {
        const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
        size_t n;
        if (colon == NULL || eol == NULL || colon > eol)
            break;
        n = (size_t)(eol + 2 - p);
        if (!gw_resp_own_has(own, p, (size_t)(colon - p)) && len + n < cap) {
            memcpy(dst + len, p, n);
            len += n;
            dst[len] = '\0';
        }
        p = eol + 2;
    }
    return dst;
}

/* Writes the head into dst; its length, or -1 when it does not fit. */
static int gw_resp_head(gw_resp *rs, char *dst, size_t cap, int64_t content_length, const char *timing)
{
    const char *reason = mg_get_response_code_text(rs->conn, rs->status);
    const char *extra = rs->extra_headers;
    char framing[64], merged[GW_HEAD_MAX];
    int n;

    if (content_length >= 0)
        snprintf(framing, sizeof(framing), "Content-Length: %lld\r\n", (long long)content_length);
    else if (rs->chunked)
        snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
    else
        framing[0] = '\0';
    if (extra != NULL && rs->own_headers != NULL)
        extra = gw_resp_merge_extra(extra, rs->own_headers, merged, sizeof(merged));
    n = snprintf(dst, cap,
                 "HTTP/%s %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "%s"
                 "x-request-id: %s\r\n"
                 "Server-Timing: %s\r\n"
                 "Cache-Control: %s\r\n"
                 "%s"
                 "X-Content-Type-Options: nosniff\r\n"
                 "Connection: %s\r\n"
                 "%s%s"
                 "\r\n",
                 rs->http11 ? "1.1" : "1.0", rs->status, reason != NULL ? reason : "", rs->content_type, framing,
                 rs->request_id, timing != NULL ? timing : "gw;dur=0", rs->stream ? "no-cache" : "no-store",
                 rs->stream ? "X-Accel-Buffering: no\r\n" : "", rs->keep_alive ? "keep-alive" : "close",
                 rs->own_headers != NULL ? rs->own_headers : "", extra != NULL ? extra : "");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return n;
}

static int gw_resp_write(gw_resp *rs, const char *p, size_t n)
{
    if (gw_http_write_all(rs->conn, p, n) != 0) {
        rs->failed = 1;
        return -1;
    }
    return 0;
}

int gw_resp_flush(gw_resp *rs, gw_outbuf *out, int final, const char *timing)
{
    char prefix[GW_HEAD_MAX + 32];
    size_t plen = 0, pending = gw_outbuf_pending(out), start;
    int n;

    if (rs->failed)
        return -1;
    if (!rs->head_sent) {
        if (final) {
            n = gw_resp_head(rs, prefix, sizeof(prefix), (int64_t)pending, timing);
        } else {
            rs->chunked = rs->http11;
            if (!rs->http11)
                gw_resp_close_after(rs); /* the end of the body is the end of the connection */
            n = gw_resp_head(rs, prefix, sizeof(prefix), -1, timing);
        }
        if (n < 0) {
            /* an oversized head (never with our headers): drop the relayed ones */
            rs->extra_headers = NULL;
            n = gw_resp_head(rs, prefix, GW_HEAD_MAX, final ? (int64_t)pending : -1, timing);
            if (n < 0)
                return -1;
        }
        plen = (size_t)n;
        rs->head_sent = 1;
        if (final) {
            /* Content-Length framing: head and body as they are */
            memcpy(out->data + GW_OUT_GAP - plen, prefix, plen);
            start = GW_OUT_GAP - plen;
            if (gw_resp_write(rs, out->data + start, plen + pending) != 0)
                return -1;
            rs->body_bytes += (int64_t)pending;
            out->len = GW_OUT_GAP;
            return 0;
        }
    }
    if (rs->chunked) {
        if (pending > 0) {
            n = snprintf(prefix + plen, sizeof(prefix) - plen, "%zx\r\n", pending);
            plen += (size_t)n;
            /* gw_outbuf_append kept room for these */
            memcpy(out->data + out->len, "\r\n", 2);
            out->len += 2;
        }
        if (final) {
            memcpy(out->data + out->len, "0\r\n\r\n", 5);
            out->len += 5;
        }
    }
    if (out->len > out->cap) /* never: appends reserve 8 bytes */
        return -1;
    memcpy(out->data + GW_OUT_GAP - plen, prefix, plen);
    start = GW_OUT_GAP - plen;
    if (out->len - start > 0 && gw_resp_write(rs, out->data + start, out->len - start) != 0)
        return -1;
    rs->body_bytes += (int64_t)pending;
    out->len = GW_OUT_GAP;
    return 0;
}

int gw_resp_send(gw_resp *rs, int status, const char *content_type, const char *body, size_t len, const char *timing)
{
    char buf[GW_HEAD_MAX + 1024];
    int n;

    if (rs->head_sent || rs->failed)
        return -1;
    rs->status = status;
    rs->content_type = content_type;
    n = gw_resp_head(rs, buf, GW_HEAD_MAX, (int64_t)len, timing);
    if (n < 0)
        return -1;
    rs->head_sent = 1;
    if ((size_t)n + len <= sizeof(buf)) {
        memcpy(buf + n, body, len);
        if (gw_resp_write(rs, buf, (size_t)n + len) != 0)
            return -1;
    } else if (gw_resp_write(rs, buf, (size_t)n) != 0 || gw_resp_write(rs, body, len) != 0) {
        return -1;
    }
    rs->body_bytes += (int64_t)len;
    return 0;
}

int gw_resp_send_error(gw_resp *rs, int status, const char *message, const char *code, const char *timing)
{
    char body[1024];
    int n = gw_errmap_body_fixed(body, sizeof(body), status, message, code);
    if (n < 0)
        n = gw_errmap_body_fixed(body, sizeof(body), status, gw_errmap_reason(status), code);
    if (n < 0)
        n = 0;
    return gw_resp_send(rs, status, "application/json", body, (size_t)n, timing);
}

/* ---- client liveness ---- */

static int gw_sock_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return -1;
}

static int gw_sock_addr_is(const struct sockaddr_storage *ss, const char *addr)
{
    char txt[INET6_ADDRSTRLEN];
    const void *a = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                                             : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (inet_ntop(ss->ss_family, a, txt, sizeof(txt)) == NULL)
        return 0;
    /* civetweb may print IPv6 with or without brackets */
    if (addr[0] == '[') {
        size_t l = strlen(txt);
        return strncmp(addr + 1, txt, l) == 0 && addr[1 + l] == ']';
    }
    return strcmp(addr, txt) == 0;
}

static int gw_client_fd_find(const struct mg_request_info *ri)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int found = -2;

    if (d == NULL)
        return -2;
    while ((de = readdir(d)) != NULL) {
        struct sockaddr_storage local, peer;
        socklen_t ll = sizeof(local), pl = sizeof(peer);
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end != '\0' || end == de->d_name || fd < 0 || fd == dirfd(d))
            continue;
        if (getsockname((int)fd, (struct sockaddr *)&local, &ll) != 0)
            continue;
        if ((local.ss_family != AF_INET && local.ss_family != AF_INET6) || gw_sock_port(&local) != ri->server_port)
            continue;
        if (getpeername((int)fd, (struct sockaddr *)&peer, &pl) != 0)
            continue;
        if (gw_sock_port(&peer) != ri->remote_port || !gw_sock_addr_is(&peer, ri->remote_addr))
            continue;
        found = (int)fd;
        break;
    }
    closedir(d);
    return found;
}

int gw_client_gone(const struct mg_request_info *ri, int *fd_cache)
{
    struct pollfd p;
    if (*fd_cache == -1)
        *fd_cache = gw_client_fd_find(ri);
    if (*fd_cache < 0)
        return 0;
    p.fd = *fd_cache;
    p.events = POLLRDHUP;
    p.revents = 0;
    if (poll(&p, 1, 0) <= 0)
        return 0;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}
