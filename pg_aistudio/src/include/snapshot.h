/*-------------------------------------------------------------------------
 * src/include/snapshot.h
 *		The configuration snapshot of a namespace (protobuf message
 *		aistudio.v1.Snapshot) and its SHA-256 checksum; see src/snapshot.c.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_SNAPSHOT_H
#define AISTUDIO_SNAPSHOT_H

#include "postgres.h"

#define SNAPSHOT_FORMAT_VERSION 1
#define SNAPSHOT_CHECKSUM_HEX_LEN 64

/* The serialized snapshot of namespace ns (palloc'd in the current context). */
extern bytea *SnapshotSerialize(const char *ns);

/*
 * The checksum of namespace ns: lowercase hex SHA-256 of the snapshot without
 * apps and sealed values; out must hold SNAPSHOT_CHECKSUM_HEX_LEN + 1 bytes.
 */
extern void SnapshotChecksum(const char *ns, char *out);

/*
 * The checksum of a serialized snapshot (as received by a gateway or an
 * edge), by the same rule; 22023 when the bytes are not a Snapshot.
 */
extern void SnapshotChecksumOf(const uint8 *bytes, size_t len, char *out);

#endif							/* AISTUDIO_SNAPSHOT_H */
