/*
 * src/base/common.h: definitions every gatewayd module shares: the error
 * buffer convention (functions return 0 or -1 and fill char err[GW_ERR_LEN],
 * the redis anet pattern), a formatter for it, and the monotonic clock.
 */
#ifndef GW_COMMON_H
#define GW_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define GW_ERR_LEN 256

/* The longest model name in bytes, one limit everywhere: a request naming a
 * longer one is refused (400), so lookups, prices and analytics events
 * never see a cut name. Buffers hold GW_MODEL_LEN_MAX + 1. */
#define GW_MODEL_LEN_MAX 255

#if defined(__GNUC__)
#define GW_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define GW_PRINTF(fmt, args)
#endif

/* Writes a message into a caller-supplied error buffer (may be NULL) and
 * returns -1, so validators can say `return gw_errf(err, "...")`. */
static inline int gw_errf(char *err, const char *fmt, ...) GW_PRINTF(2, 3);
static inline int gw_errf(char *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, GW_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Milliseconds on the monotonic clock (for timeouts and cache expiry). */
static inline int64_t gw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
