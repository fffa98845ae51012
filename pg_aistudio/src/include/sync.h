/*-------------------------------------------------------------------------
 * src/include/sync.h
 *		Hub and edge: edge tokens and keys, the edge-side snapshot decoding
 *		and the sync statement trigger (src/sync.c; the SQL API is in
 *		sql/src/14_sync.sql and 15_edge.sql).
 *
 * An edge token is SYNC_TOKEN_TAG followed by the base64url encoding
 * (no padding) of SYNC_TOKEN_RANDOM_BYTES random bytes; only its SHA-256
 * (SYNC_TOKEN_HASH_HEX_LEN lowercase hex digits) is stored.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_SYNC_H
#define AISTUDIO_SYNC_H

#include "postgres.h"

#define SYNC_TOKEN_TAG "aie_"
#define SYNC_TOKEN_TAG_LEN 4
#define SYNC_TOKEN_RANDOM_BYTES 32
#define SYNC_TOKEN_LEN (SYNC_TOKEN_TAG_LEN + 43)
#define SYNC_TOKEN_HASH_HEX_LEN 64

#endif							/* AISTUDIO_SYNC_H */
