/*
 * src/base/futexhash.h: sizing the process's private futex hash for the
 * number of threads gatewayd runs (see futexhash.c for why it matters).
 */
#ifndef GW_BASE_FUTEXHASH_H
#define GW_BASE_FUTEXHASH_H

#include "base/common.h"

#define GW_FUTEX_HASH_MIN 16
#define GW_FUTEX_HASH_MAX 65536

/* The number of hash slots for a process of `threads` threads: four per
 * thread, a power of two, within [GW_FUTEX_HASH_MIN, GW_FUTEX_HASH_MAX]. */
int gw_futex_hash_slots(long long threads);

/* Gives the process a private futex hash of gw_futex_hash_slots(threads)
 * slots, unless it has as many already. 0 when done (*slots: the size now),
 * 1 when the kernel has no private futex hash (before Linux 6.16: futexes
 * use the kernel's global hash, nothing to size; *slots 0), -1 with err
 * when the kernel refused. Call it before the threads are started. */
int gw_futex_hash_size(long long threads, int *slots, char err[GW_ERR_LEN]);

#endif
