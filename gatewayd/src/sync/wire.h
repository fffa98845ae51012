/*
 * src/sync/wire.h: what the hub (hub.c) and the edge (edge*.c) share about
 * the Sync service (proto/aistudio/v1/sync.proto) besides the transport
 * (rpc/rpc.h): method names, metadata keys and limits; packing and
 * unpacking protobuf-c messages to and from byte strings; the translations
 * between the wire, PostgreSQL and the daemon's own structs (credentials,
 * analytics events, heartbeat metrics, text[] literals); SQLSTATE → gRPC
 * status (through base/errmap's one table); and the re-sealing of a
 * snapshot's vendor keys under an edge's key. Pure functions: no I/O, no
 * threads, no logging, so the unit tests cover them whole.
 */
#ifndef GW_SYNC_WIRE_H
#define GW_SYNC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "aistudio/v1/snapshot.pb-c.h"
#include "aistudio/v1/sync.pb-c.h"
#include "base/buf.h"
#include "base/common.h"
#include "base/secretbox.h"
#include "model/credcache.h"
#include "rpc/rpc.h"

/* gatewayd's version, reported in registrations and heartbeats (the
 * Makefile passes the extension's default_version). */
#ifndef GW_VERSION
#define GW_VERSION "dev"
#endif

#define GW_SYNC_M_REGISTER "/aistudio.v1.Sync/RegisterEdge"
#define GW_SYNC_M_CONNECT "/aistudio.v1.Sync/Connect"
#define GW_SYNC_M_PULL "/aistudio.v1.Sync/PullSnapshot"
#define GW_SYNC_M_VALIDATE "/aistudio.v1.Sync/ValidateCredential"
#define GW_SYNC_M_UPLOAD "/aistudio.v1.Sync/UploadAnalytics"
#define GW_SYNC_M_LEASE "/aistudio.v1.Sync/Lease"

#define GW_SYNC_MD_EDGE_ID "x-aistudio-edge-id"
#define GW_SYNC_MD_NAMESPACE "x-aistudio-namespace"

#define GW_SYNC_MAX_MESSAGE (16u << 20) /* either way; a 10,000-app snapshot is under 1 MiB */
#define GW_SYNC_MAX_EVENTS 10000        /* per AnalyticsBatch (edge_outbox_take's limit) */
#define GW_SYNC_ID_MAX 128              /* edge ids and hub ids */
#define GW_SYNC_NS_MAX 64
#define GW_SYNC_SHA_HEX 65 /* 64 hex digits + NUL */
#define GW_SYNC_DEFAULT_INTERVAL_S 30
#define GW_SYNC_MAX_INTERVAL_S 3600

/* ---- bytes ---- */

/* Packs a protobuf-c message into a malloc'd buffer (*out, *len; an empty
 * message gives a 1-byte buffer of length 0). 0, or -1 (out of memory). */
int gw_sync_pack(const ProtobufCMessage *m, unsigned char **out, size_t *len);
/* Packs into an rpc reply (RESOURCE_EXHAUSTED on failure). */
void gw_sync_reply(gw_rpc_reply *reply, const ProtobufCMessage *m);
/* Packs and queues on a stream; 0 or -1 with err. */
int gw_sync_send(gw_rpc_call *call, const ProtobufCMessage *m, char err[GW_ERR_LEN]);

/* ---- small helpers ---- */

/* SHA-256 of data as 64 lower-case hex digits. */
void gw_sync_sha256_hex(const void *data, size_t len, char out[GW_SYNC_SHA_HEX]);
/* 1 when s is printable ASCII of 1..max bytes (metadata worth sending to
 * the database; the extension says whether it is a valid edge id). */
int gw_sync_token_ok(const char *s, size_t max);
/* The gRPC status for a SQLSTATE (the HTTP status of base/errmap.h,
 * translated: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403
 * PERMISSION_DENIED, 404 NOT_FOUND, 409 FAILED_PRECONDITION, 429
 * RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, else INTERNAL). */
gw_rpc_status gw_sync_status_of(const char *sqlstate);
/* Appends a PostgreSQL array literal of text items ({"a","b"}; NULL items
 * as NULL). -1 when b overflowed. */
int gw_sync_pg_array(gw_buf *b, const char *const *items, size_t n);

/* ---- credentials ---- */

/* proto → the cache's struct (llm_ids malloc'd, sorted by the cache). */
int gw_sync_cred_from_proto(const Aistudio__V1__Credential *c, gw_credential *out, char err[GW_ERR_LEN]);
/* the struct → proto; the proto points into cred (valid while cred is). */
void gw_sync_cred_to_proto(const gw_credential *cred, Aistudio__V1__Credential *out);
/* The struct as the JSON object an edge keeps in its database
 * (aistudio.edge_cache_credential), and back. */
int gw_sync_cred_to_json(const gw_credential *cred, gw_buf *b);
int gw_sync_cred_from_json(const char *json, size_t len, gw_credential *out, char err[GW_ERR_LEN]);

/* ---- heartbeat metrics ---- */

/* The metrics as the JSON object aistudio.edge_heartbeats keeps ("{}" when
 * m is NULL; numbers that are not finite or negative are left out). */
int gw_sync_metrics_json(const Aistudio__V1__EdgeMetrics *m, gw_buf *b);

/* ---- analytics events ---- */

#define GW_SYNC_EV_TEXT 512

/* One event with the storage of its strings. */
typedef struct gw_sync_event {
    Aistudio__V1__AnalyticsEvent pb;
    char timestamp[48];
    char request_id[40];
    char vendor[64];
    char model_name[GW_MODEL_LEN_MAX + 1];
    char interaction_type[16];
    char error[GW_SYNC_EV_TEXT];
    char cost[64];
    char currency[16];
} gw_sync_event;

/* One object of aistudio.edge_outbox_take → an event. -1 when it is not an
 * object with a request_id and a timestamp. */
int gw_sync_event_from_json(const char *json, size_t len, gw_sync_event *ev, char err[GW_ERR_LEN]);
/* Events → the JSON array aistudio.ingest_edge_events takes (0 ids as
 * null, "" error as null; the edge's cost is left out: the hub prices). */
int gw_sync_events_to_json(Aistudio__V1__AnalyticsEvent *const *ev, size_t n, gw_buf *b);

/* ---- re-sealing ---- */

typedef struct gw_sync_reseal_stats {
    int resealed; /* values now sealed under the edge key */
    int dropped;  /* values the master key could not open: sent empty */
} gw_sync_reseal_stats;

/*
 * The snapshot in[0..len) with every sealed value (a literal LLM key, a
 * secret's value) opened with master and sealed again under edge_key, with
 * the same AAD: an edge never sees a value the master key opens. A value
 * the master key cannot open is sent empty (the edge answers
 * vendor_key_unavailable for it); the checksum does not cover sealed
 * values, so it is unchanged. *out is malloc'd. -1 with err when the bytes
 * are not a snapshot or memory runs out.
 */
int gw_sync_reseal(const uint8_t *in, size_t len, const gw_secret_key *master, const gw_secret_key *edge_key,
                   uint8_t **out, size_t *out_len, gw_sync_reseal_stats *st, char err[GW_ERR_LEN]);

/* The edge key (HKDF of the token, pg_aistudio/src/sealbox.c) as a
 * gw_secret_key with its key id. 0 or -1. */
int gw_sync_edge_key(const char *token, const char *edge_id, gw_secret_key *out, char err[GW_ERR_LEN]);

#endif
