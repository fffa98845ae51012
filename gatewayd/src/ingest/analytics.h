/*
 * src/ingest/analytics.h: lossless analytics delivery. The request path
 * records exactly one event per request into a bounded in-memory queue
 * (never waiting on PostgreSQL); a writer thread sends batches with COPY into
 * aistudio.interaction_staging followed by aistudio.ingest_staged() in one
 * transaction (the database prices the events and ignores request ids it
 * already has). When PostgreSQL is unreachable, batches go to a spool file
 * (length-prefixed records with a CRC32C each, see spool.h) and are replayed
 * when it returns; the spool is truncated only after the commit. When both
 * the queue and the spool are full the event is counted as dropped, so
 * stored + dropped always equals recorded. An event that holds a journal
 * slot (journal.h) gives it back once it is durable: after the COMMIT of
 * its batch, after its spool write, or when it is counted dropped.
 */
#ifndef GW_ANALYTICS_H
#define GW_ANALYTICS_H

#include <stdint.h>

#include "base/common.h"
#include "ingest/bodies.h"

#define GW_EVENT_MODEL_MAX (GW_MODEL_LEN_MAX + 1) /* the whole model name: never cut */
#define GW_EVENT_ERROR_MAX 160

typedef enum gw_interaction_type { GW_INTERACTION_PROXY = 0, GW_INTERACTION_CHAT = 1 } gw_interaction_type;

typedef struct gw_event {
    int64_t ts_us;           /* wall clock, microseconds since the epoch */
    char request_id[37];     /* UUIDv7, lowercase canonical form */
    int64_t user_id;         /* 0 = none */
    int64_t app_id;          /* 0 = none (e.g. a 401) */
    int64_t credential_id;   /* the app key that authenticated the request; 0 = none (401, the chat) */
    int64_t llm_id;          /* 0 = none (e.g. unknown slug) */
    char vendor[16];         /* "openai" … ; "" = unknown (stored as 'unknown') */
    char model[GW_EVENT_MODEL_MAX];
    int64_t prompt_tokens;
    int64_t response_tokens;
    int64_t cache_write_tokens;
    int64_t cache_read_tokens;
    int32_t latency_ms;
    int32_t status_code;     /* the status the client got; 499 = client went away */
    gw_interaction_type interaction_type;
    char namespace_[64];
    char error[GW_EVENT_ERROR_MAX]; /* "" = none; never contains keys */
    int64_t est_cost;        /* the gateway's cost in 10^-15 units (model/budget.h gw_money, saturated): budgets only, not stored */
    uint32_t journal_slot;   /* 1 + the journal slot that holds the event until it is durable; 0 = none */
    uint32_t journal_gen;    /* the claim of that slot (journal.h); neither is stored nor spooled */
    gw_event_bodies *bodies; /* NULL = none; owned (gw_analytics_record takes it), never spooled nor journaled */
} gw_event;

struct gw_journal;

typedef struct gw_analytics_opts {
    const char *database_url;   /* the writer's own connection (COPY needs one) */
    int queue_size;             /* ANALYTICS_QUEUE_SIZE events */
    int batch_size;             /* events per COPY (default 2000) */
    int flush_interval_ms;      /* max wait before a partial batch is sent (default 200) */
    const char *spool_dir;      /* SPOOL_DIR; "" = no spool (events dropped when the DB is down) */
    int64_t spool_max_bytes;    /* SPOOL_MAX_BYTES (default 1 GiB) */
    struct gw_journal *journal; /* slots released once their events are durable (journal.h); may be NULL */
    /* an edge: its writer's session sets pg_aistudio.edge_outbox, so what
     * it stores is also queued for upload to the hub (sync/edge_upload.h) */
    int edge_outbox;
    /* called with every recorded event, on the recording thread, before it
     * is queued (an edge's heartbeat metrics); keep it short. May be NULL. */
    void (*on_record)(void *ctx, const gw_event *ev);
    void *record_ctx;
} gw_analytics_opts;

typedef struct gw_analytics_stats {
    int64_t recorded;      /* events handed to gw_analytics_record */
    int64_t written;       /* inserted by the database (new request ids) */
    int64_t duplicates;    /* the database already had them (replays) */
    int64_t rejected;      /* the database refused them (kept in aistudio.ingest_rejects) */
    int64_t spooled;       /* written to the spool */
    int64_t replayed;      /* read back from the spool and committed */
    int64_t dropped;       /* lost: queue and spool full, or spool unusable */
    int64_t queue_depth;   /* events waiting in memory now */
    int64_t spool_bytes;   /* size of the spool now */
    int64_t batches;       /* committed batches */
    int64_t db_errors;     /* failed batch attempts */
    int64_t spool_records; /* events waiting in the spool now */
    int64_t spool_found;   /* events found in the spool at start (an earlier run's) */
} gw_analytics_stats;
/* Accounting: every event is stored (written + duplicates + rejected), waits
 * in the spool or was dropped, so once gw_analytics_stop has returned
 * recorded + spool_found == written + duplicates + rejected + spool_records
 * + dropped (while running, queue_depth and the batch in flight hold the
 * rest); gw_analytics_stop logs these counters as its last word. */

/* Called (from the writer thread) after each committed batch, with the
 * events of the batch; used by the budget module to move costs from
 * "pending" to "in the database". May be NULL. */
typedef void (*gw_analytics_commit_fn)(void *ctx, const gw_event *events, int n);

typedef struct gw_analytics gw_analytics;

int gw_analytics_start(const gw_analytics_opts *opts, gw_analytics_commit_fn on_commit, void *ctx,
                       gw_analytics **out, char err[GW_ERR_LEN]);
/* Copies ev into the queue (no I/O, a short mutex); only when the queue is
 * full does it append to the spool itself, else counts the event dropped.
 * Thread-safe. ev->request_id must be set (gw_uuid7). Takes ev->bodies
 * (freed once the event is delivered, spooled without them, or dropped). */
void gw_analytics_record(gw_analytics *a, const gw_event *ev);
/* Flushes what is queued (to the database, else the spool) within drain_ms,
 * then stops the writer, logs the final counters and frees a. No
 * gw_analytics_record may run after it returns. */
void gw_analytics_stop(gw_analytics *a, int drain_ms);
void gw_analytics_stats_get(gw_analytics *a, gw_analytics_stats *out);


#endif
