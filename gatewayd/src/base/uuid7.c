/*
 * src/base/uuid7.c: gw_uuid7 (see uuid7.h), RFC 9562 UUIDv7
 * request ids: 48-bit Unix milliseconds, version 7, a 12-bit counter in
 * rand_a (method 1 of RFC 9562 §6.2: re-seeded randomly below 2048 each new
 * millisecond, incremented within one, its overflow carrying into the
 * timestamp), the variant, and 62 random bits.
 *
 * Ids are strictly increasing within the process: the (milliseconds,
 * counter) pair lives in one atomic word (gw_uuid7_last, a process-wide
 * singleton) advanced by compare-and-swap, so concurrent threads never get
 * the same pair nor go backwards even if the wall clock does. Random bytes
 * come from getrandom(2) through a per-thread buffer (refilled 256 bytes at
 * a time), so minting an id normally makes no system call besides the
 * clock.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/uuid7.h"
#include "base/log.h"
#include "base/codec.h"

#define GW_UUID7_POOL 256

static _Atomic uint64_t gw_uuid7_last; /* ms << 12 | counter */
static _Thread_local unsigned char gw_uuid7_pool[GW_UUID7_POOL];
static _Thread_local size_t gw_uuid7_pool_pos = GW_UUID7_POOL;

static void gw_uuid7_random(unsigned char *out, size_t n)
{
    while (n > 0) {
        size_t take;
        if (gw_uuid7_pool_pos == GW_UUID7_POOL) {
            size_t got = 0;
            while (got < GW_UUID7_POOL) {
                ssize_t r = getrandom(gw_uuid7_pool + got, GW_UUID7_POOL - got, 0);
                if (r < 0)
                    gw_fatal("getrandom failed");
                got += (size_t)r;
            }
            gw_uuid7_pool_pos = 0;
        }
        take = GW_UUID7_POOL - gw_uuid7_pool_pos;
        if (take > n)
            take = n;
        memcpy(out, gw_uuid7_pool + gw_uuid7_pool_pos, take);
        gw_uuid7_pool_pos += take;
        out += take, n -= take;
    }
}

/* The next (ms << 12 | counter), strictly above every earlier one. */
static uint64_t gw_uuid7_next(uint64_t now_ms)
{
    uint64_t cur = atomic_load_explicit(&gw_uuid7_last, memory_order_relaxed), next;
    unsigned char seed[2];
    gw_uuid7_random(seed, sizeof(seed));
    do {
        if ((now_ms & 0xFFFFFFFFFFFFull) << 12 > cur)
            next = (now_ms & 0xFFFFFFFFFFFFull) << 12 | (((uint64_t)seed[0] << 8 | seed[1]) & 0x7FF);
        else
            next = cur + 1; /* same (or an earlier) millisecond: count on */
    } while (
        !atomic_compare_exchange_weak_explicit(&gw_uuid7_last, &cur, next, memory_order_relaxed, memory_order_relaxed));
    return next;
}

static void gw_uuid7_format(const unsigned char b[16], char out[37])
{
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = gw_hex_lower[b[i] >> 4];
        *p++ = gw_hex_lower[b[i] & 15];
    }
    *p = '\0';
}

void gw_uuid7(char out[37])
{
    struct timespec ts;
    unsigned char b[16];
    uint64_t v, ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    v = gw_uuid7_next((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
    ms = v >> 12;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | ((v >> 8) & 0x0F)); /* version 7, counter high bits */
    b[7] = (unsigned char)(v & 0xFF);
    gw_uuid7_random(b + 8, 8);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3F)); /* variant 10 */
    gw_uuid7_format(b, out);
}
