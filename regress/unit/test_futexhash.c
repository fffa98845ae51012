/*
 * regress/unit/test_futexhash.c: gw_futex_hash_slots (four slots per
 * thread, a power of two, clamped) and gw_futex_hash_size: in a process
 * that already runs threads (the kernel then sized its private
 * futex hash from the CPUs, 16 slots on a 2-CPU machine), the hash grows to
 * the slots asked for and keeps them when more threads start. Skipped on
 * kernels without a private futex hash (before Linux 6.16).
 */
#include "base/futexhash.c"

#include <pthread.h>
#include <stdlib.h>

#include "tap.h"

#define N_THREADS 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *idle_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!go)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int start_threads(pthread_t *t, int n)
{
    pthread_attr_t a;
    int started = 0;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &a, idle_thread, NULL) == 0)
            started++;
        else
            break;
    pthread_attr_destroy(&a);
    return started;
}

int main(void)
{
    static pthread_t t1[N_THREADS], t2[N_THREADS];
    char err[GW_ERR_LEN] = "";
    int slots = -1, n1, n2, rc, before, after;

    is_int(gw_futex_hash_slots(0), GW_FUTEX_HASH_MIN, "no threads: the minimum");
    is_int(gw_futex_hash_slots(3), GW_FUTEX_HASH_MIN, "3 threads: 12 slots rounded up to the minimum");
    is_int(gw_futex_hash_slots(5), 32, "5 threads: 20 slots rounded up to a power of two");
    is_int(gw_futex_hash_slots(4840), 32768, "4,840 threads: 19,360 slots rounded up to 32,768");
    is_int(gw_futex_hash_slots(1LL << 40), GW_FUTEX_HASH_MAX, "very many threads: the maximum");
    is_int(gw_futex_hash_slots(-7), GW_FUTEX_HASH_MIN, "a negative count: the minimum");

    n1 = start_threads(t1, N_THREADS);
    ok(n1 >= 1, "%d idle threads started (of %d)", n1, N_THREADS);
    before = prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
    rc = gw_futex_hash_size(n1, &slots, err);
    if (rc == 1) {
        printf("# this kernel has no private futex hash: nothing to size\n");
        is_int(slots, 0, "no private hash: 0 slots reported");
        ok(1, "# SKIP sizing checks (kernel before 6.16)");
    } else {
        printf("# the kernel's own size with %d threads: %d slots\n", n1, before);
        is_int(rc, 0, "sized (%s)", err);
        ok(slots >= gw_futex_hash_slots(n1), "%d slots reported, want at least %d", slots, gw_futex_hash_slots(n1));
        after = prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
        ok(after >= gw_futex_hash_slots(n1), "the process's futex hash has %d slots, want at least %d", after,
           gw_futex_hash_slots(n1));
        n2 = start_threads(t2, N_THREADS);
        after = prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
        ok(after >= gw_futex_hash_slots(n1), "after %d more threads it still has %d slots", n2, after);
        is_int(gw_futex_hash_size(n1, &slots, err), 0, "sizing again for as many threads: nothing to do");
        ok(slots == after, "and the size stays %d", slots);
        pthread_mutex_lock(&mu);
        go = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        for (int i = 0; i < n2; i++)
            pthread_join(t2[i], NULL);
    }
    pthread_mutex_lock(&mu);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n1; i++)
        pthread_join(t1[i], NULL);
    return tap_done();
}
