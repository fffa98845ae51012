/*
 * src/ingest/spool.h: the analytics spool, where events wait while
 * PostgreSQL is unreachable. One append-only file, <dir>/analytics.spool
 * (directory created 0700, file 0600), holding records
 *
 *     [u32 length][u32 CRC32C of the payload][payload]     (little-endian)
 *
 * whose payload is one gw_event in a versioned binary form
 * (gw_spool_encode_event): a version byte, then the fields. Version 1 ends
 * with est_cost (a double); version 2 appends credential_id; version 3 (the
 * current one) carries est_cost as exact money (int64, 10^-15 units), and
 * older records decode with est_cost 0 (an earlier run's costs were never in
 * this process's budgets). Records
 * are written in the current version and every version since
 * GW_SPOOL_RECORD_VERSION_MIN decodes (fields a version lacks are 0), so a
 * spool left by an older gatewayd replays after an upgrade. A small sidecar
 * file, <dir>/analytics.spool.offset, written atomically (temporary file,
 * fsync, rename), holds the offset up to which records are known to be
 * committed to the database, so a crash in the middle of a replay re-sends
 * records (the database ignores request ids it has) rather than losing
 * them. When every record is committed the file is truncated to zero (the
 * sidecar is reset first).
 *
 * Writes are fsync'ed in groups: gw_spool_append syncs when the last sync
 * is older than GW_SPOOL_SYNC_MS (or when asked to), otherwise marks the
 * file dirty for gw_spool_sync_due. A record that does not fit under
 * max_bytes is refused. A torn or corrupt record (short read, absurd
 * length, bad CRC) ends the readable part: it and everything after it are
 * truncated off, logged, and counted in *lost.
 *
 * Locking protocol: one mutex per spool guards the file size, the committed
 * offset and the file itself for appends, truncation and the sidecar.
 * Appends (the writer thread, and request threads when the queue is full)
 * and commits take it; gw_spool_read takes it only to learn the size and to
 * truncate corruption, and reads committed-but-unreplayed bytes with pread
 * (appends only ever extend the file, and only the reader truncates it).
 * There is one reader: the analytics writer thread.
 */
#ifndef GW_SPOOL_H
#define GW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/analytics.h"
#include "base/common.h"

#define GW_SPOOL_FILE "analytics.spool"
#define GW_SPOOL_OFFSET_FILE "analytics.spool.offset"
#define GW_SPOOL_RECORD_VERSION 3     /* what gw_spool_encode_event writes */
#define GW_SPOOL_RECORD_VERSION_MIN 1 /* the oldest version that still decodes */
#define GW_SPOOL_HEADER_LEN 8
#define GW_SPOOL_PAYLOAD_MAX 1024 /* larger lengths are corruption */
#define GW_SPOOL_SYNC_MS 100

typedef struct gw_spool gw_spool;

/*
 * Opens (creating) the spool in dir. Validates what is there from the
 * committed offset on: a torn or corrupt tail is truncated off (and
 * logged); *found (may be NULL) gets the number of records waiting.
 */
int gw_spool_open(const char *dir, int64_t max_bytes, gw_spool **out, int64_t *found, char err[GW_ERR_LEN]);
/* Syncs and closes. */
void gw_spool_close(gw_spool *s);
/* Creates dir and its parents (0700) when missing; -1 + err naming SPOOL_DIR. */
int gw_spool_mkdirs(const char *dir, char err[GW_ERR_LEN]);

/*
 * Appends n events as n records with one write. Returns how many were
 * appended: all, or 0 when they do not fit under max_bytes or the write
 * failed (then the file is cut back to where it was, err says why).
 * sync: fsync now rather than within GW_SPOOL_SYNC_MS.
 */
int gw_spool_append(gw_spool *s, const gw_event *ev, int n, int sync, char err[GW_ERR_LEN]);
/* fsyncs when the file is dirty and the last sync is GW_SPOOL_SYNC_MS old (or force). */
void gw_spool_sync_due(gw_spool *s, int force);

/*
 * Reads up to max records from the committed offset into ev; *end gets the
 * end of the last record read (pass it to gw_spool_commit once they are in
 * the database). Returns the count (0 when nothing waits). Corruption is
 * truncated off and the records lost with it are added to *lost. before
 * (may be NULL): per event, 1 when it was already in the file when the
 * spool was opened (written by an earlier run). ends (may be NULL): per
 * event, the offset after its record (to commit a prefix of the batch).
 */
int gw_spool_read(gw_spool *s, int64_t *end, gw_event *ev, int max, unsigned char *before, int64_t *ends,
                  int64_t *lost);
/*
 * The records before offset are in the database: records the sidecar,
 * and truncates the file when nothing is left. 0, or -1 + err.
 */
int gw_spool_commit(gw_spool *s, int64_t offset, char err[GW_ERR_LEN]);

int64_t gw_spool_bytes(gw_spool *s);   /* size of the file */
int64_t gw_spool_pending(gw_spool *s); /* records after the committed offset */
int64_t gw_spool_committed(gw_spool *s);

/* ---- record format (exposed for tests) ---- */

uint32_t gw_spool_crc32c(uint32_t crc, const void *data, size_t len);
/* Encodes one event as a payload; returns its length (<= GW_SPOOL_PAYLOAD_MAX). */
size_t gw_spool_encode_event(const gw_event *ev, unsigned char out[GW_SPOOL_PAYLOAD_MAX]);
/* Decodes a payload of any version from GW_SPOOL_RECORD_VERSION_MIN on
 * (credential_id 0 in a version 1 record); -1 when malformed or of an
 * unknown version. */
int gw_spool_decode_event(const unsigned char *p, size_t len, gw_event *ev);

#endif
