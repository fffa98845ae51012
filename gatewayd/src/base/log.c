/*
 * src/base/log.c: the leveled, thread-safe, one-line-per-message logger and
 * the redaction helpers that keep credentials out of the logs.
 *
 * Line format: 2025-01-31T12:00:00.123Z info message
 * Control characters in a message (newlines from upstream error bodies, for
 * instance) are escaped so that a message is always exactly one line.
 */
#include "base/log.h"
#include "base/codec.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int gw_log_level_cur = GW_LOG_INFO;
static atomic_int gw_log_fd = 2;
static pthread_mutex_t gw_log_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const gw_log_names[] = {"error", "warn", "info", "debug"};

void gw_log_set_level(gw_log_level level)
{
    atomic_store(&gw_log_level_cur, (int)level);
}

gw_log_level gw_log_get_level(void)
{
    return (gw_log_level)atomic_load_explicit(&gw_log_level_cur, memory_order_relaxed);
}

void gw_log_set_fd(int fd)
{
    atomic_store(&gw_log_fd, fd);
}

const char *gw_log_level_name(gw_log_level level)
{
    if ((int)level < 0 || (int)level > GW_LOG_DEBUG)
        return "?";
    return gw_log_names[level];
}

int gw_log_parse_level(const char *name, gw_log_level *level)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i <= GW_LOG_DEBUG; i++) {
        if (strcasecmp(name, gw_log_names[i]) == 0) {
            *level = (gw_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *level = GW_LOG_WARN;
        return 0;
    }
    return -1;
}

/* Appends src to dst[*pos..cap-1], escaping control characters. */
static void gw_log_append_escaped(char *dst, size_t *pos, size_t cap, const char *src)
{
    size_t p = *pos;
    for (const unsigned char *s = (const unsigned char *)src; *s != '\0'; s++) {
        if (*s >= 0x20 && *s != 0x7f) {
            if (p + 1 >= cap)
                break;
            dst[p++] = (char)*s;
        } else {
            if (p + 4 >= cap)
                break;
            dst[p++] = '\\';
            if (*s == '\n') {
                dst[p++] = 'n';
            } else if (*s == '\r') {
                dst[p++] = 'r';
            } else if (*s == '\t') {
                dst[p++] = 't';
            } else {
                dst[p++] = 'x';
                dst[p++] = gw_hex_lower[*s >> 4];
                dst[p++] = gw_hex_lower[*s & 0xf];
            }
        }
    }
    *pos = p;
}

static void gw_log_write(gw_log_level level, const char *prefix, const char *fmt, va_list ap)
{
    char msg[GW_LOG_LINE_MAX];
    char line[GW_LOG_LINE_MAX + 96];
    struct timespec ts;
    struct tm tm;
    size_t pos;
    int n;
    int saved_errno = errno;

    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n >= (int)sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, gw_log_level_name(level));
    pos = (n > 0 && (size_t)n < sizeof(line)) ? (size_t)n : 0;
    if (prefix != NULL)
        gw_log_append_escaped(line, &pos, sizeof(line) - 1, prefix);
    gw_log_append_escaped(line, &pos, sizeof(line) - 1, msg);
    line[pos++] = '\n';

    pthread_mutex_lock(&gw_log_mu);
    {
        int fd = atomic_load(&gw_log_fd);
        size_t off = 0;
        while (off < pos) {
            ssize_t w = write(fd, line + off, pos - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    pthread_mutex_unlock(&gw_log_mu);
    errno = saved_errno;
}

void gw_log(gw_log_level level, const char *fmt, ...)
{
    va_list ap;
    if (!gw_log_enabled(level))
        return;
    va_start(ap, fmt);
    gw_log_write(level, NULL, fmt, ap);
    va_end(ap);
}

void gw_log_fatal_at(const char *file, int line, const char *fmt, ...)
{
    char prefix[256];
    va_list ap;
    snprintf(prefix, sizeof(prefix), "FATAL %s:%d: ", file, line);
    va_start(ap, fmt);
    gw_log_write(GW_LOG_ERROR, prefix, fmt, ap);
    va_end(ap);
    abort();
}

/* ---- redaction ---- */

static const char *const gw_secret_headers[] = {
    "authorization", "proxy-authorization", "x-api-key",    "x-goog-api-key",       "api-key",
    "cookie",        "set-cookie",          "x-auth-token", "x-amz-security-token", NULL};

int gw_log_header_is_secret(const char *name)
{
    if (name == NULL)
        return 0;
    for (int i = 0; gw_secret_headers[i] != NULL; i++)
        if (strcasecmp(name, gw_secret_headers[i]) == 0)
            return 1;
    return 0;
}

const char *gw_log_redact(const char *value, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    snprintf(out, outlen, "[redacted len=%zu]", value != NULL ? strlen(value) : (size_t)0);
    return out;
}

const char *gw_log_redact_header(const char *name, const char *value, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    if (value == NULL)
        value = "";
    if (!gw_log_header_is_secret(name)) {
        snprintf(out, outlen, "%s", value);
        return out;
    }
    /* Keep an auth scheme such as "Bearer" or "Basic": it is not secret and
     * helps debugging; the credential after it is never shown. */
    const char *sp = strchr(value, ' ');
    if (sp != NULL && sp - value <= 16) {
        int scheme_ok = 1;
        for (const char *c = value; c < sp; c++)
            if (!isalpha((unsigned char)*c))
                scheme_ok = 0;
        if (scheme_ok) {
            snprintf(out, outlen, "%.*s [redacted len=%zu]", (int)(sp - value), value, strlen(sp + 1));
            return out;
        }
    }
    return gw_log_redact(value, out, outlen);
}

static const char *const gw_secret_params[] = {"key",       "api_key",      "api-key",   "apikey",
                                               "token",     "access_token", "x-api-key", "sig",
                                               "signature", "password",     "secret",    NULL};

static int gw_log_param_is_secret(const char *name, size_t len)
{
    for (int i = 0; gw_secret_params[i] != NULL; i++)
        if (strlen(gw_secret_params[i]) == len && strncasecmp(name, gw_secret_params[i], len) == 0)
            return 1;
    return 0;
}

const char *gw_log_redact_url(const char *url, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p;
    int in_query;

    if (outlen == 0)
        return out;
    if (url == NULL)
        url = "";
    /* A bare query string ("a=1&key=x") is treated as the query part. */
    in_query = strchr(url, '?') == NULL && strchr(url, '=') != NULL;
    p = url;
    while (*p != '\0' && o + 1 < outlen) {
        if (!in_query) {
            out[o++] = *p;
            if (*p == '?')
                in_query = 1;
            p++;
            continue;
        }
        /* one name=value pair */
        const char *amp = strchr(p, '&');
        const char *end = amp != NULL ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        size_t copy_len;
        if (eq != NULL && gw_log_param_is_secret(p, (size_t)(eq - p))) {
            size_t nlen = (size_t)(eq - p) + 1;
            for (size_t i = 0; i < nlen && o + 1 < outlen; i++)
                out[o++] = p[i];
            for (const char *r = "REDACTED"; *r != '\0' && o + 1 < outlen; r++)
                out[o++] = *r;
        } else {
            copy_len = (size_t)(end - p);
            for (size_t i = 0; i < copy_len && o + 1 < outlen; i++)
                out[o++] = p[i];
        }
        p = end;
        if (*p == '&' && o + 1 < outlen) {
            out[o++] = '&';
            p++;
        }
    }
    out[o] = '\0';
    return out;
}
