/*
 * regress/unit/tap.h: a minimal TAP producer for the C unit tests
 * ("ok N - description" / "not ok N - description", then "1..N").
 * regress/run-tests.sh counts these lines. Tests may #include the .c file
 * under test to reach its static functions.
 */
#ifndef GW_TAP_H
#define GW_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failures;

static void tap_vok(int pass, const char *file, int line, const char *fmt, va_list ap)
{
    printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
    vprintf(fmt, ap);
    printf("\n");
    if (!pass) {
        printf("#   failed at %s:%d\n", file, line);
        tap_failures++;
    }
    fflush(stdout);
}

static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vok(pass, file, line, fmt, ap);
    va_end(ap);
    return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                                                         \
    do {                                                                                                               \
        long long g_ = (long long)(got), w_ = (long long)(want);                                                       \
        if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))                                                        \
            printf("#   got %lld, want %lld\n", g_, w_);                                                               \
    } while (0)

#define is_str(got, want, ...)                                                                                         \
    do {                                                                                                               \
        const char *g_ = (got), *w_ = (want);                                                                          \
        int p_ = g_ != NULL && w_ != NULL ? strcmp(g_, w_) == 0 : g_ == w_;                                            \
        if (!tap_ok(p_, __FILE__, __LINE__, __VA_ARGS__))                                                              \
            printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");                               \
    } while (0)

#define has_str(hay, needle, ...)                                                                                      \
    do {                                                                                                               \
        const char *h_ = (hay), *n_ = (needle);                                                                        \
        if (!tap_ok(h_ != NULL && strstr(h_, n_) != NULL, __FILE__, __LINE__, __VA_ARGS__))                            \
            printf("#   '%s' does not contain '%s'\n", h_ ? h_ : "(null)", n_);                                        \
    } while (0)

#define lacks_str(hay, needle, ...)                                                                                    \
    do {                                                                                                               \
        const char *h_ = (hay), *n_ = (needle);                                                                        \
        if (!tap_ok(h_ != NULL && strstr(h_, n_) == NULL, __FILE__, __LINE__, __VA_ARGS__))                            \
            printf("#   '%s' contains '%s'\n", h_ ? h_ : "(null)", n_);                                                \
    } while (0)

#define diag(...)                                                                                                      \
    do {                                                                                                               \
        printf("# ");                                                                                                  \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
    } while (0)

/* Prints the plan; the exit status is non-zero when a test failed. */
static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failures > 0 ? 1 : 0;
}

#endif
