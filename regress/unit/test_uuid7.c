/*
 * regress/unit/test_uuid7.c: gw_uuid7 — the RFC 9562 layout (version 7,
 * variant 10, the 48-bit millisecond timestamp of the wall clock), ids
 * strictly increasing within the process (also many within one
 * millisecond, past the 12-bit counter), and unique and per-thread
 * increasing across concurrent threads.
 */
#include "base/codec.c"
#include "base/log.c"
#include "base/uuid7.c"

#include <pthread.h>
#include <stdlib.h>

#include "tap.h"

static int layout_ok(const char *u)
{
    if (strlen(u) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return 0;
        } else if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'))) {
            return 0;
        }
    }
    return u[14] == '7' && strchr("89ab", u[19]) != NULL;
}

static uint64_t uuid_ms(const char *u)
{
    char hex[13];
    memcpy(hex, u, 8);
    memcpy(hex + 8, u + 9, 4);
    hex[12] = '\0';
    return strtoull(hex, NULL, 16);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define PER_THREAD 20000
#define THREADS 8

typedef struct worker {
    char (*ids)[37];
    int increasing;
} worker;

static void *mint(void *arg)
{
    worker *w = arg;
    w->increasing = 1;
    for (int i = 0; i < PER_THREAD; i++) {
        gw_uuid7(w->ids[i]);
        if (i > 0 && strcmp(w->ids[i - 1], w->ids[i]) >= 0)
            w->increasing = 0;
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

int main(void)
{
    char u[37], prev[37];
    uint64_t before, after;
    int all_ok = 1, increasing = 1, n = 200000;

    before = wall_ms();
    gw_uuid7(u);
    after = wall_ms();
    ok(layout_ok(u), "canonical lowercase form, version 7, variant 10: %s", u);
    ok(uuid_ms(u) >= before && uuid_ms(u) <= after + 1, "the first 48 bits are the wall clock in milliseconds");

    /* 200k ids in a row: far more than 4096 per millisecond, so the counter
     * overflows into the timestamp and the order must still hold */
    strcpy(prev, u);
    for (int i = 0; i < n; i++) {
        gw_uuid7(u);
        if (!layout_ok(u))
            all_ok = 0;
        if (strcmp(prev, u) >= 0)
            increasing = 0;
        strcpy(prev, u);
    }
    ok(all_ok, "%d more ids all well-formed", n);
    ok(increasing, "strictly increasing, also within one millisecond");
    /* each millisecond holds at least 2048 ids before the counter carries */
    ok(uuid_ms(u) <= wall_ms() + (uint64_t)n / 2048 + 1, "the counter's carry keeps the timestamp near the clock");

    {
        worker w[THREADS];
        pthread_t th[THREADS];
        char(*all)[37] = calloc((size_t)THREADS * PER_THREAD, 37);
        int per_thread_ok = 1, dups = 0;
        for (int t = 0; t < THREADS; t++) {
            w[t].ids = all + (size_t)t * PER_THREAD;
            pthread_create(&th[t], NULL, mint, &w[t]);
        }
        for (int t = 0; t < THREADS; t++) {
            pthread_join(th[t], NULL);
            per_thread_ok &= w[t].increasing;
        }
        ok(per_thread_ok, "%d threads: each thread's ids strictly increase", THREADS);
        qsort(all, (size_t)THREADS * PER_THREAD, 37, cmp_id);
        for (size_t i = 1; i < (size_t)THREADS * PER_THREAD; i++)
            if (strcmp(all[i - 1], all[i]) == 0)
                dups++;
        is_int(dups, 0, "%d concurrent ids are all distinct", THREADS * PER_THREAD);
        free(all);
    }

    {
        /* the 62 random bits differ between ids */
        char a[37], b[37];
        gw_uuid7(a);
        gw_uuid7(b);
        ok(strcmp(a + 19, b + 19) != 0, "the random tail differs between two ids");
    }
    return tap_done();
}
