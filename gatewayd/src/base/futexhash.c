/*
 * src/base/futexhash.c: the process's private futex hash, sized for the
 * threads gatewayd runs (see futexhash.h).
 *
 * Why. Since Linux 6.16 the futexes of a threaded process hash into a
 * table of its own, which the kernel sizes from the number of CPUs (four
 * slots per online CPU, at least 16), not from the number of threads. A
 * waiter sits in its slot's list, and every wake-up walks the whole list of
 * its slot to find its waiters. gatewayd runs thousands of proxy workers
 * (WORKER_THREADS sized from the open-file limit) that wait, idle, on one
 * condition variable of the HTTP server: on a 2-CPU machine they all sit in
 * one of 16 slots, and each wake-up of any other futex that hashes there (a
 * mutex or condition variable of libcurl, grpc, the analytics queue) walks
 * thousands of entries. With a slot count sized from the threads such
 * collisions become rare. The profile of a gRPC plugin hook (which wakes
 * threads many times per request) showed most of its ~260 µs of CPU per
 * request in the kernel's futex_wake; sizing the hash moved the plugin's
 * throughput by no more than the rounds' spread (docs/BENCHMARKS.md), so the
 * hash is one cost among the wake-ups, not the whole of it.
 *
 * No threads, no lock: called once at start-up.
 */
#include "base/futexhash.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#define PR_FUTEX_HASH_SET_SLOTS 1
#define PR_FUTEX_HASH_GET_SLOTS 2
#endif

int gw_futex_hash_slots(long long threads)
{
    long long want = threads > 0 ? threads * 4 : 0;
    int slots = GW_FUTEX_HASH_MIN;

    while (slots < GW_FUTEX_HASH_MAX && slots < want)
        slots <<= 1;
    return slots;
}

int gw_futex_hash_size(long long threads, int *slots, char err[GW_ERR_LEN])
{
    int want = gw_futex_hash_slots(threads);
    int now = prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);

    *slots = 0;
    if (now < 0)
        return errno == EINVAL ? 1 : gw_errf(err, "cannot read the futex hash size: %s", strerror(errno));
    if (now >= want) {
        *slots = now;
        return 0;
    }
    if (prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, want, 0, 0) != 0)
        return gw_errf(err, "cannot size the futex hash to %d slots: %s", want, strerror(errno));
    now = prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
    *slots = now > 0 ? now : want;
    return 0;
}
