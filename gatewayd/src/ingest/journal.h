/*
 * src/ingest/journal.h: the in-flight request journal, so that a crash of
 * gatewayd (kill -9, OOM kill, segfault) loses no analytics event.
 *
 * The analytics queue lives in process memory: an event still queued, in
 * the writer's batch, or a request still being served (a stream cut by the
 * crash, which the upstream served and billed) vanished with the process.
 * The journal keeps one slot per request in a memory-mapped file,
 * <SPOOL_DIR>/journal.map (MAP_SHARED, 0600, flock'ed): the page cache
 * outlives the process, so whatever a thread stored before the kill is in
 * the file when gatewayd starts again.
 *
 * Life of a slot (file format and torn-write rules in journal.c):
 *   gw_journal_claim     the request starts: request id, start time, caller
 *                        (STARTED);
 *   gw_journal_note      the request becomes an LLM call: ids, vendor,
 *                        model, namespace;
 *   gw_journal_progress  usage seen so far while the answer is relayed
 *                        (plain stores, no lock, no syscall);
 *   gw_journal_finish    the final event (FINISHED); the event now carries
 *                        the slot (gw_event.journal_slot / journal_gen);
 *   gw_journal_release   the analytics writer made the event durable
 *                        (committed to PostgreSQL, written to the spool) or
 *                        counted it dropped: the slot is free again.
 * A slot is never reused before its event is durable.
 *
 * At start (before any listener accepts), gw_journal_open reads what an
 * earlier run left: a FINISHED slot gives its final event as it was; a
 * STARTED one (cut mid-request) an "interrupted" event with what was known
 * (ids, model, vendor, the usage seen so far; response tokens estimated from
 * the relayed answer frames when the vendor had not reported them), status
 * 502 and the error "gateway_interrupted: …". Those events move into a new
 * journal file (FINISHED slots, so a second crash before they are durable
 * loses nothing either) that replaces the old one with rename(2);
 * gw_journal_replay then hands them to the analytics queue. Ingestion is
 * idempotent by request_id: an event whose first copy reached the database
 * is counted as a duplicate, never stored twice.
 *
 * No free slot (more requests in flight and events queued than
 * JOURNAL_SLOTS): the request runs all the same, unjournaled, and is counted
 * in not_journaled. The journal protects against a crash of the process,
 * not of the machine (the page cache is not flushed per request).
 *
 * Locking protocol: j->mu guards only the stack of free slot indices (a
 * claim pops, a release pushes: a few instructions under the lock). A
 * claimed slot is written by its request's thread alone until
 * gw_journal_finish; the analytics writer receives the event through the
 * queue's mutex and releases the slot (a release store of the state, then
 * the push under j->mu), which orders it before the next claim. Counters
 * are atomics.
 */
#ifndef GW_JOURNAL_H
#define GW_JOURNAL_H

#include <stdint.h>

#include "ingest/analytics.h"
#include "base/common.h"

#define GW_JOURNAL_FILE "journal.map"
#define GW_JOURNAL_MAX_SLOTS (1u << 22) /* 4,194,304 slots, about 5.6 GB */
#define GW_JOURNAL_INTERRUPTED_STATUS 502
#define GW_JOURNAL_INTERRUPTED_ERROR "gateway_interrupted: gatewayd stopped before the request finished; usage so far"

typedef struct gw_journal gw_journal;

/* A request's slot: slot = 1 + its index, 0 = not journaled; gen = which claim of the slot. */
typedef struct gw_jref {
    uint32_t slot;
    uint32_t gen;
} gw_jref;

/* What the stream processor knows while the answer is being relayed. */
typedef struct gw_journal_usage {
    int64_t prompt_tokens;
    int64_t response_tokens;
    int64_t cache_write_tokens;
    int64_t cache_read_tokens;
    int estimated;      /* response_tokens counted from relayed answer frames */
    int64_t elapsed_ms; /* since the request started */
} gw_journal_usage;

typedef struct gw_journal_stats {
    int64_t slots;                 /* capacity */
    int64_t in_use;                /* claimed and not yet released */
    int64_t claimed;               /* claims since start */
    int64_t not_journaled;         /* requests that found no free slot */
    int64_t recovered_finished;    /* events of an earlier run found complete at start */
    int64_t recovered_interrupted; /* requests of an earlier run found cut */
    int64_t recovered_invalid;     /* slots found unreadable at start (skipped) */
} gw_journal_stats;

/*
 * Opens <dir>/journal.map with nslots slots (1 … GW_JOURNAL_MAX_SLOTS; more
 * when an earlier run left more events than that), recovering what an
 * earlier run left (see above) into the new file. A file that is not a
 * valid journal (magic, version, geometry, CRC) is replaced with a warning:
 * nothing to recover. dir NULL or "": no journal (*out = NULL, returns 0).
 * -1 + err (naming SPOOL_DIR) when the directory or the file cannot be used
 * or another process holds the journal.
 */
int gw_journal_open(const char *dir, uint32_t nslots, gw_journal **out, char err[GW_ERR_LEN]);
/*
 * Hands each recovered event (its slot set) to record, once, then logs
 * "journal: recovered N finished, M interrupted events". Call it after the
 * analytics writer has started and before the listeners accept.
 */
void gw_journal_replay(gw_journal *j, void (*record)(void *ctx, const gw_event *ev), void *ctx);
/* Unmaps and unlocks (a slot still in use stays in the file for the next start). NULL-safe. */
void gw_journal_close(gw_journal *j);

/* ---- the request path (j may be NULL: then they do nothing) ---- */

/* A slot for the request whose identity (request_id, ts_us, caller) ident
 * holds; out->slot = 0 when none is free. */
void gw_journal_claim(gw_journal *j, const gw_event *ident, gw_jref *out);
/* The request's identity again, now with its ids, vendor, model and namespace. */
void gw_journal_note(gw_journal *j, gw_jref ref, const gw_event *ident);
/* The usage seen so far: plain stores into the slot. */
void gw_journal_progress(gw_journal *j, gw_jref ref, const gw_journal_usage *u);
/* The final event: stored in the slot (FINISHED); sets ev->journal_slot / journal_gen. */
void gw_journal_finish(gw_journal *j, gw_jref ref, gw_event *ev);
/* The events are durable (or dropped): frees their slots (events without a slot are skipped). */
void gw_journal_release(gw_journal *j, const gw_event *ev, int n);

void gw_journal_stats_get(gw_journal *j, gw_journal_stats *out);

#endif
