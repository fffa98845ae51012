/*
 * src/base/log.h: the one logger of gatewayd. Levels error < warn < info <
 * debug, chosen by LOG_LEVEL; every message is one line on stderr with a UTC
 * timestamp, written with a single write(2) under a mutex, so lines from
 * concurrent threads never interleave. Secrets never go through it in plain
 * text: header values and URLs pass through the gw_log_redact_* helpers.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stddef.h>

#include "base/common.h"

typedef enum gw_log_level { GW_LOG_ERROR = 0, GW_LOG_WARN = 1, GW_LOG_INFO = 2, GW_LOG_DEBUG = 3 } gw_log_level;

/* Longest line written (longer messages are truncated, marked with "..."). */
#define GW_LOG_LINE_MAX 4096

void gw_log_set_level(gw_log_level level);
gw_log_level gw_log_get_level(void);
/* Parses "error", "warn" (or "warning"), "info", "debug"; -1 when unknown. */
int gw_log_parse_level(const char *name, gw_log_level *level);
const char *gw_log_level_name(gw_log_level level);
/* Redirects output to fd (default 2, stderr); tests use a pipe. */
void gw_log_set_fd(int fd);

static inline int gw_log_enabled(gw_log_level level)
{
    return level <= gw_log_get_level();
}

void gw_log(gw_log_level level, const char *fmt, ...) GW_PRINTF(2, 3);

#define gw_log_error(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_log_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_log_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...)                                                                                              \
    do {                                                                                                               \
        if (gw_log_enabled(GW_LOG_DEBUG))                                                                              \
            gw_log(GW_LOG_DEBUG, __VA_ARGS__);                                                                         \
    } while (0)

/* For broken invariants only: logs file:line and aborts. */
#define gw_fatal(...) gw_log_fatal_at(__FILE__, __LINE__, __VA_ARGS__)
void gw_log_fatal_at(const char *file, int line, const char *fmt, ...) GW_PRINTF(3, 4) __attribute__((noreturn));

/* 1 when a header carries a credential (Authorization, x-api-key, Cookie…). */
int gw_log_header_is_secret(const char *name);

/*
 * Writes a loggable form of a header value into out: the value itself for
 * ordinary headers; for credential headers only the scheme (e.g. "Bearer")
 * and the length, "[redacted len=51]". Always NUL-terminates; returns out.
 */
const char *gw_log_redact_header(const char *name, const char *value, char *out, size_t outlen);

/* A loggable form of a secret value: "[redacted len=N]". */
const char *gw_log_redact(const char *value, char *out, size_t outlen);

/*
 * Copies a URL or query string, replacing the values of query parameters
 * that carry credentials (key, api_key, api-key, token, access_token,
 * x-api-key, sig, password) with "REDACTED".
 */
const char *gw_log_redact_url(const char *url, char *out, size_t outlen);

#endif
