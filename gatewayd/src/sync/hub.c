/*
 * src/sync/hub.c: the Sync service's handlers on the hub (see hub.h).
 * They run on the rpc server's workers (rpc.h); each reads the caller's
 * identity from the auth context (sync/hub_auth.h), unpacks its request,
 * calls one function of the extension through the hub's pool and packs
 * the answer. Nothing is decided here that the extension decides.
 */
#include "sync/hub.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "db/pgpool.h"
#include "db/sql.h"
#include "model/credresolve.h"
#include "rpc/rpc.h"
#include "sync/hub_auth.h"
#include "sync/hub_edges.h"
#include "sync/wire.h"

#define GW_HUB_WORKERS 4
#define GW_HUB_KEY_AAD_MAX (GW_SYNC_ID_MAX + 8)

struct gw_hub {
    char id[GW_SYNC_ID_MAX + 1];
    const gw_secret_key *master;
    gw_pgpool *pool;
    gw_hub_auth *auth;
    gw_hub_edges *edges;
    gw_rpc_server *server;
};

const char *gw_hub_id(const gw_hub *h)
{
    return h->id;
}

int gw_hub_port(const gw_hub *h)
{
    return gw_rpc_server_port(h->server);
}

void gw_hub_notify(void *ctx, const char *channel, const char *payload)
{
    gw_hub *h = ctx;
    gw_hub_edges_notify(h->edges, channel, payload);
}

/* Runs one statement; on failure the reply carries the extension's status
 * and message (-1). */
static int gw_hub_sql(gw_hub *h, const char *sql, int n, const char *const *vals, const int *lens, const int *fmts,
                      int result_format, PGresult **res, gw_rpc_reply *reply)
{
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    gw_rpc_status st;
    if (gw_pgpool_exec(h->pool, sql, n, vals, lens, fmts, result_format, 0, res, sqlstate, err) == 0)
        return 0;
    st = gw_sync_status_of(sqlstate);
    if (st == GW_RPC_UNAVAILABLE || st == GW_RPC_INTERNAL)
        gw_log_warn("sync: %s (SQLSTATE %s)", err, sqlstate);
    gw_rpc_reply_fail(reply, st, "%s", err);
    return -1;
}

/* ---- RegisterEdge ---- */

static void gw_hub_register(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    Aistudio__V1__RegisterRequest *rq = aistudio__v1__register_request__unpack(NULL, len, req);
    Aistudio__V1__RegisterResponse rs = AISTUDIO__V1__REGISTER_RESPONSE__INIT;
    char interval[16];
    const char *params[6];
    PGresult *res;

    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "malformed RegisterRequest");
        return;
    }
    if ((rq->edge_id[0] != '\0' && strcmp(rq->edge_id, id->edge_id) != 0) || strcmp(rq->namespace_, id->ns) != 0) {
        gw_rpc_reply_fail(reply, GW_RPC_PERMISSION_DENIED,
                          "the request names another edge or namespace than its credentials (%s, '%s')", id->edge_id,
                          id->ns);
        aistudio__v1__register_request__free_unpacked(rq, NULL);
        return;
    }
    snprintf(interval, sizeof(interval), "%u", rq->heartbeat_interval_s);
    params[0] = id->edge_id;
    params[1] = id->ns;
    params[2] = rq->version;
    params[3] = rq->loaded_checksum;
    params[4] = h->id;
    params[5] = rq->heartbeat_interval_s > 0 ? interval : NULL;
    if (gw_hub_sql(h, GW_SQL_EDGE_REGISTER, 6, params, NULL, NULL, 0, &res, reply) == 0) {
        if (PQntuples(res) == 1) {
            rs.expected_checksum = PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0);
            rs.heartbeat_interval_s = (uint32_t)atoi(PQgetvalue(res, 0, 1));
            rs.hub_id = h->id;
            gw_sync_reply(reply, &rs.base);
            gw_log_info("sync: edge '%s' (namespace '%s', version %.32s) registered", id->edge_id, id->ns, rq->version);
        } else {
            gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "edge_register gave no answer");
        }
        PQclear(res);
    }
    aistudio__v1__register_request__free_unpacked(rq, NULL);
}

/* ---- PullSnapshot ---- */

/* The key vendor keys are sealed under for this edge. */
static int gw_hub_edge_key(gw_hub *h, const gw_hub_ident *id, gw_secret_key *out, gw_rpc_reply *reply)
{
    const char *params[1] = {id->edge_id};
    char aad[GW_HUB_KEY_AAD_MAX], err[GW_ERR_LEN];
    unsigned char raw[GW_SECRET_KEY_LEN + 1];
    size_t raw_len = 0;
    PGresult *res;
    int rc;

    if (id->shared) {
        if (gw_hub_auth_shared_key(h->auth, id->edge_id, out, err) != 0) {
            gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "%s", err);
            return -1;
        }
        return 0;
    }
    if (gw_hub_sql(h, GW_SQL_EDGE_KEY, 1, params, NULL, NULL, 1, &res, reply) != 0)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        gw_rpc_reply_fail(reply, GW_RPC_FAILED_PRECONDITION, "edge '%s' has no key of its own (revoked?)", id->edge_id);
        return -1;
    }
    snprintf(aad, sizeof(aad), "edge:%s", id->edge_id);
    rc = gw_secretbox_open(h->master, 1, PQgetvalue(res, 0, 0), (const unsigned char *)PQgetvalue(res, 0, 1),
                           (size_t)PQgetlength(res, 0, 1), (const unsigned char *)PQgetvalue(res, 0, 2),
                           (size_t)PQgetlength(res, 0, 2), aad, raw, sizeof(raw), &raw_len, err);
    PQclear(res);
    if (rc != 0 || raw_len != GW_SECRET_KEY_LEN) {
        gw_secretbox_wipe(raw, sizeof(raw));
        gw_log_warn("sync: the key of edge '%s' cannot be opened with the master key: %s", id->edge_id,
                    rc != 0 ? err : "wrong length");
        gw_rpc_reply_fail(reply, GW_RPC_FAILED_PRECONDITION, "the edge's key cannot be opened with the hub's master key");
        return -1;
    }
    memcpy(out->key, raw, GW_SECRET_KEY_LEN);
    gw_secretbox_wipe(raw, sizeof(raw));
    gw_secretbox_key_id(out->key, out->key_id);
    return 0;
}

static void gw_hub_pull(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    Aistudio__V1__SnapshotRequest *rq = aistudio__v1__snapshot_request__unpack(NULL, len, req);
    Aistudio__V1__SnapshotResponse rs = AISTUDIO__V1__SNAPSHOT_RESPONSE__INIT;
    const char *params[1];
    gw_secret_key ek;
    gw_sync_reseal_stats st;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    char err[GW_ERR_LEN];
    PGresult *res;
    const char *checksum;

    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "malformed SnapshotRequest");
        return;
    }
    if (strcmp(rq->namespace_, id->ns) != 0) {
        gw_rpc_reply_fail(reply, GW_RPC_PERMISSION_DENIED, "an edge of namespace '%s' may pull only its own snapshot",
                          id->ns);
        aistudio__v1__snapshot_request__free_unpacked(rq, NULL);
        return;
    }
    params[0] = id->ns;
    if (gw_hub_sql(h, GW_SQL_SNAPSHOT, 1, params, NULL, NULL, 1, &res, reply) != 0) {
        aistudio__v1__snapshot_request__free_unpacked(rq, NULL);
        return;
    }
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1)) {
        gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "aistudio.snapshot() gave no snapshot");
        goto done;
    }
    checksum = PQgetvalue(res, 0, 1);
    rs.checksum = (char *)checksum;
    if (rq->have_checksum[0] != '\0' && strcmp(rq->have_checksum, checksum) == 0) {
        rs.unchanged = 1;
        gw_sync_reply(reply, &rs.base);
        goto done;
    }
    memset(&ek, 0, sizeof(ek));
    if (h->master != NULL && gw_hub_edge_key(h, id, &ek, reply) != 0)
        goto done;
    if (gw_sync_reseal((const uint8_t *)PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), h->master, &ek,
                       &sealed, &sealed_len, &st, err) != 0) {
        gw_secretbox_wipe(&ek, sizeof(ek));
        gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "%s", err);
        goto done;
    }
    gw_secretbox_wipe(&ek, sizeof(ek));
    if (st.dropped > 0)
        gw_log_warn("sync: snapshot for edge '%s': %d sealed value(s) the master key cannot open sent empty",
                    id->edge_id, st.dropped);
    rs.snapshot.data = sealed;
    rs.snapshot.len = sealed_len;
    gw_sync_reply(reply, &rs.base);
    gw_log_info("sync: edge '%s' pulled the snapshot of namespace '%s' (%.16s, %zu bytes, %d key(s) re-sealed)",
                id->edge_id, id->ns, checksum, sealed_len, st.resealed);
    free(sealed);
done:
    PQclear(res);
    aistudio__v1__snapshot_request__free_unpacked(rq, NULL);
}

/* ---- ValidateCredential ---- */

static void gw_hub_validate(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    Aistudio__V1__CredentialRequest *rq = aistudio__v1__credential_request__unpack(NULL, len, req);
    Aistudio__V1__CredentialResponse rs = AISTUDIO__V1__CREDENTIAL_RESPONSE__INIT;
    Aistudio__V1__Credential pc;
    const char *params[2];
    const char *vals[GW_CREDRESOLVE_NCOLS];
    gw_credential cred;
    char err[GW_ERR_LEN];
    PGresult *res;

    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "malformed CredentialRequest");
        return;
    }
    if (strlen(rq->key_sha256) != 64) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "key_sha256 is the SHA-256 of the key in 64 hex digits");
        aistudio__v1__credential_request__free_unpacked(rq, NULL);
        return;
    }
    params[0] = id->edge_id;
    params[1] = rq->key_sha256;
    if (gw_hub_sql(h, GW_SQL_EDGE_RESOLVE_CREDENTIAL, 2, params, NULL, NULL, 0, &res, reply) != 0) {
        aistudio__v1__credential_request__free_unpacked(rq, NULL);
        return;
    }
    if (PQntuples(res) == 1 && PQnfields(res) == GW_CREDRESOLVE_NCOLS) {
        for (int i = 0; i < GW_CREDRESOLVE_NCOLS; i++)
            vals[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
        if (gw_credresolve_parse_row(vals, &cred, err) == GW_CRED_FOUND) {
            gw_sync_cred_to_proto(&cred, &pc);
            rs.found = 1;
            rs.credential = &pc;
            gw_sync_reply(reply, &rs.base);
            free(cred.llm_ids);
        } else {
            gw_sync_reply(reply, &rs.base);
        }
    } else {
        gw_sync_reply(reply, &rs.base); /* found = false */
    }
    PQclear(res);
    aistudio__v1__credential_request__free_unpacked(rq, NULL);
}

/* ---- UploadAnalytics ---- */

static void gw_hub_upload(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    Aistudio__V1__AnalyticsBatch *rq = aistudio__v1__analytics_batch__unpack(NULL, len, req);
    Aistudio__V1__AnalyticsAck rs = AISTUDIO__V1__ANALYTICS_ACK__INIT;
    const char *params[2];
    char **ids = NULL;
    gw_buf b;
    PGresult *res;

    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "malformed AnalyticsBatch");
        return;
    }
    if (rq->n_events > GW_SYNC_MAX_EVENTS) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "a batch holds at most %d events, not %zu", GW_SYNC_MAX_EVENTS,
                          rq->n_events);
        aistudio__v1__analytics_batch__free_unpacked(rq, NULL);
        return;
    }
    rs.batch_seq = rq->batch_seq;
    if (rq->n_events == 0) {
        gw_sync_reply(reply, &rs.base);
        aistudio__v1__analytics_batch__free_unpacked(rq, NULL);
        return;
    }
    gw_buf_init(&b, 0);
    if (gw_sync_events_to_json(rq->events, rq->n_events, &b) != 0 || gw_buf_cstr(&b) == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    params[0] = id->edge_id;
    params[1] = b.data;
    if (gw_hub_sql(h, GW_SQL_INGEST_EDGE_EVENTS, 2, params, NULL, NULL, 0, &res, reply) != 0)
        goto done;
    if (PQntuples(res) == 1) {
        rs.inserted = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        rs.duplicates = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        rs.rejected = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    }
    PQclear(res);
    ids = malloc(rq->n_events * sizeof(char *));
    if (ids == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < rq->n_events; i++)
        ids[i] = rq->events[i]->request_id;
    rs.acked_request_ids = ids;
    rs.n_acked_request_ids = rq->n_events;
    gw_sync_reply(reply, &rs.base);
    gw_log_debug("sync: edge '%s' uploaded %zu event(s): %" PRId64 " new, %" PRId64 " duplicate(s), %" PRId64
                 " rejected",
                 id->edge_id, rq->n_events, rs.inserted, rs.duplicates, rs.rejected);
done:
    free(ids);
    gw_buf_free(&b);
    aistudio__v1__analytics_batch__free_unpacked(rq, NULL);
}

/* ---- Lease ---- */

static void gw_hub_lease(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    Aistudio__V1__LeaseRequest *rq = aistudio__v1__lease_request__unpack(NULL, len, req);
    Aistudio__V1__LeaseResponse rs = AISTUDIO__V1__LEASE_RESPONSE__INIT;
    char sid[24], want[24], spent[24];
    const char *params[6];
    PGresult *res;

    if (rq == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "malformed LeaseRequest");
        return;
    }
    params[0] = id->edge_id;
    params[1] = rq->op == AISTUDIO__V1__LEASE_REQUEST__OP__ACQUIRE ? "acquire"
                : rq->op == AISTUDIO__V1__LEASE_REQUEST__OP__RENEW ? "renew"
                : rq->op == AISTUDIO__V1__LEASE_REQUEST__OP__RETURN ? "return"
                                                                    : NULL;
    params[2] = rq->subject == AISTUDIO__V1__LEASE_REQUEST__SUBJECT__APP   ? "app"
                : rq->subject == AISTUDIO__V1__LEASE_REQUEST__SUBJECT__LLM ? "llm"
                                                                           : NULL;
    if (params[1] == NULL || params[2] == NULL) {
        gw_rpc_reply_fail(reply, GW_RPC_INVALID_ARGUMENT, "a lease needs an op (ACQUIRE, RENEW, RETURN) and a subject "
                                                          "(APP, LLM)");
        aistudio__v1__lease_request__free_unpacked(rq, NULL);
        return;
    }
    snprintf(sid, sizeof(sid), "%" PRId64, rq->subject_id);
    snprintf(want, sizeof(want), "%" PRId64, rq->want_nanos);
    snprintf(spent, sizeof(spent), "%" PRId64, rq->spent_nanos);
    params[3] = sid;
    params[4] = want;
    params[5] = spent;
    if (gw_hub_sql(h, GW_SQL_EDGE_LEASE, 6, params, NULL, NULL, 0, &res, reply) == 0) {
        if (PQntuples(res) == 1) {
            rs.has_budget = !PQgetisnull(res, 0, 0);
            rs.granted_nanos = rs.has_budget ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
            rs.period_start = PQgetvalue(res, 0, 1);
            rs.period_end = PQgetvalue(res, 0, 2);
            gw_sync_reply(reply, &rs.base);
            gw_log_debug("sync: edge '%s' %s lease of %s %s: %" PRId64 " nanos", id->edge_id, params[1], params[2],
                         sid, rs.granted_nanos);
        } else {
            gw_rpc_reply_fail(reply, GW_RPC_INTERNAL, "edge_lease gave no answer");
        }
        PQclear(res);
    }
    aistudio__v1__lease_request__free_unpacked(rq, NULL);
}

/* ---- Connect ---- */

static void gw_hub_stream_end(gw_rpc_call *call, gw_rpc_status st, const char *why)
{
    char err[GW_ERR_LEN];
    if (gw_rpc_call_finish(call, st, why, err) != 0)
        gw_rpc_call_cancel(call);
}

static void gw_hub_connect_open(gw_rpc_call *call, const unsigned char *req, size_t len, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    (void)req;
    (void)len;
    if (gw_hub_edges_attach(h->edges, id->edge_id, id->ns, call) != 0) {
        gw_hub_stream_end(call, GW_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    gw_log_info("sync: edge '%s' (namespace '%s') connected to hub %s", id->edge_id, id->ns, h->id);
}

static void gw_hub_progress(gw_hub *h, gw_rpc_call *call, const gw_hub_ident *id, const Aistudio__V1__PushProgress *p)
{
    char push[24], sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    const char *params[5];
    PGresult *res;

    params[2] = p->phase == AISTUDIO__V1__PUSH_PROGRESS__PHASE__PULLING   ? "pulling"
                : p->phase == AISTUDIO__V1__PUSH_PROGRESS__PHASE__APPLIED ? "applied"
                : p->phase == AISTUDIO__V1__PUSH_PROGRESS__PHASE__FAILED  ? "failed"
                                                                          : NULL;
    if (params[2] == NULL) {
        gw_hub_stream_end(call, GW_RPC_INVALID_ARGUMENT, "a push progress needs a phase (PULLING, APPLIED, FAILED)");
        return;
    }
    snprintf(push, sizeof(push), "%" PRId64, p->push_id);
    params[0] = push;
    params[1] = id->edge_id;
    params[3] = p->checksum[0] != '\0' ? p->checksum : NULL;
    params[4] = p->reason[0] != '\0' ? p->reason : NULL;
    if (gw_pgpool_exec(h->pool, GW_SQL_PUSH_PROGRESS, 5, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0) {
        if (strncmp(sqlstate, "22", 2) == 0) {
            gw_hub_stream_end(call, GW_RPC_INVALID_ARGUMENT, err);
            return;
        }
        /* not a target of that push (a reload of its own), or the
         * database is down: the edge's checksum reaches the hub with its
         * next heartbeat anyway */
        gw_log_info("sync: push %s: progress of edge '%s' not recorded: %s", push, id->edge_id, err);
        return;
    }
    PQclear(res);
    gw_log_info("sync: push %s: edge '%s' %s%s%.16s%s%s", push, id->edge_id, params[2], p->checksum[0] ? " " : "",
                p->checksum, p->reason[0] ? ": " : "", p->reason);
}

static void gw_hub_connect_message(gw_rpc_call *call, const unsigned char *data, size_t len, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    Aistudio__V1__EdgeMessage *m;
    char err[GW_ERR_LEN];

    if (data == NULL) { /* the edge closed its side: we are done too */
        gw_hub_stream_end(call, GW_RPC_OK, "bye");
        return;
    }
    m = aistudio__v1__edge_message__unpack(NULL, len, data);
    if (m == NULL) {
        gw_hub_stream_end(call, GW_RPC_INVALID_ARGUMENT, "malformed EdgeMessage");
        return;
    }
    switch (m->kind_case) {
    case AISTUDIO__V1__EDGE_MESSAGE__KIND_HEARTBEAT:
        if (gw_hub_edges_heartbeat(h->edges, id->edge_id, call, m->heartbeat, err) != 0)
            gw_hub_stream_end(call, GW_RPC_INVALID_ARGUMENT, err);
        break;
    case AISTUDIO__V1__EDGE_MESSAGE__KIND_PROGRESS:
        gw_hub_progress(h, call, id, m->progress);
        break;
    default:
        gw_hub_stream_end(call, GW_RPC_INVALID_ARGUMENT, "an EdgeMessage holds a heartbeat or a progress report");
        break;
    }
    aistudio__v1__edge_message__free_unpacked(m, NULL);
}

static void gw_hub_connect_close(gw_rpc_call *call, gw_rpc_status status, void *arg)
{
    gw_hub *h = arg;
    const gw_hub_ident *id = gw_rpc_call_auth(call);
    const char *params[2] = {id->edge_id, h->id};
    char sqlstate[GW_SQLSTATE_LEN], err[GW_ERR_LEN];
    PGresult *res;

    if (!gw_hub_edges_detach(h->edges, id->edge_id, call))
        return; /* a newer stream of the edge took over */
    gw_log_info("sync: edge '%s' disconnected from hub %s (%s)", id->edge_id, h->id, gw_rpc_status_name(status));
    if (gw_pgpool_exec(h->pool, GW_SQL_EDGE_DISCONNECTED, 2, params, NULL, NULL, 0, 0, &res, sqlstate, err) != 0)
        gw_log_warn("sync: cannot record the disconnection of edge '%s': %s", id->edge_id, err);
    else
        PQclear(res);
}

/* ---- start / stop ---- */

int gw_hub_start(const gw_hub_opts *o, gw_hub **out, char err[GW_ERR_LEN])
{
    gw_hub *h;
    gw_pgpool_opts po;
    gw_rpc_server_opts so;
    char listen[300], host[64], tmp[GW_ERR_LEN];
    int workers = o->workers > 0 ? o->workers : GW_HUB_WORKERS;
    const gw_rpc_method methods[] = {
        {GW_SYNC_M_REGISTER, GW_RPC_UNARY, gw_hub_register, NULL, NULL, NULL, NULL},
        {GW_SYNC_M_CONNECT, GW_RPC_BIDI, NULL, gw_hub_connect_open, gw_hub_connect_message, gw_hub_connect_close, NULL},
        {GW_SYNC_M_PULL, GW_RPC_UNARY, gw_hub_pull, NULL, NULL, NULL, NULL},
        {GW_SYNC_M_VALIDATE, GW_RPC_UNARY, gw_hub_validate, NULL, NULL, NULL, NULL},
        {GW_SYNC_M_UPLOAD, GW_RPC_UNARY, gw_hub_upload, NULL, NULL, NULL, NULL},
        {GW_SYNC_M_LEASE, GW_RPC_UNARY, gw_hub_lease, NULL, NULL, NULL, NULL},
    };

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return gw_errf(err, "out of memory");
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "hub");
    host[sizeof(host) - 1] = '\0';
    snprintf(h->id, sizeof(h->id), "%s:%ld", host, (long)getpid());
    h->master = o->master_key;

    memset(&po, 0, sizeof(po));
    po.conninfo = o->database_url;
    po.size = workers + 2; /* the handlers and the edge loop */
    po.acquire_timeout_ms = o->db_timeout_ms;
    po.statement_timeout_ms = o->db_timeout_ms;
    po.application_name = "gatewayd-sync";
    if (gw_pgpool_create(&po, &h->pool, tmp) != 0 || gw_hub_auth_create(h->pool, o->shared_token, &h->auth, tmp) != 0 ||
        gw_hub_edges_create(h->pool, h->id, h->auth, &h->edges, tmp) != 0) {
        gw_hub_stop(h, 0);
        return gw_errf(err, "gRPC server: %s", tmp);
    }

    memset(&so, 0, sizeof(so));
    snprintf(listen, sizeof(listen), "%s:%d", o->listen_host, o->port);
    so.listen = listen;
    so.tls_cert_file = o->tls_cert_file != NULL && o->tls_cert_file[0] != '\0' ? o->tls_cert_file : NULL;
    so.tls_key_file = o->tls_key_file != NULL && o->tls_key_file[0] != '\0' ? o->tls_key_file : NULL;
    so.max_message = GW_SYNC_MAX_MESSAGE;
    so.workers = workers;
    so.auth = gw_hub_auth_check;
    so.auth_release = gw_hub_auth_release;
    so.auth_arg = h->auth;
    h->server = gw_rpc_server_create(&so, tmp);
    if (h->server == NULL) {
        gw_hub_stop(h, 0);
        return gw_errf(err, "GRPC_PORT: %s", tmp);
    }
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        gw_rpc_method m = methods[i];
        m.arg = h;
        if (gw_rpc_server_add_method(h->server, &m, tmp) != 0) {
            gw_hub_stop(h, 0);
            return gw_errf(err, "gRPC server: %s", tmp);
        }
    }
    if (gw_rpc_server_start(h->server, tmp) != 0) {
        gw_hub_stop(h, 0);
        return gw_errf(err, "GRPC_PORT %d: %s", o->port, tmp);
    }
    gw_log_info("gRPC control server (hub %s) listening on %s%s", h->id, listen, so.tls_cert_file != NULL ? " (TLS)" : "");
    *out = h;
    return 0;
}

void gw_hub_stop(gw_hub *h, int grace_ms)
{
    if (h == NULL)
        return;
    if (h->server != NULL) {
        gw_rpc_server_stop(h->server, grace_ms); /* every stream's close has run */
        gw_rpc_server_destroy(h->server);
    }
    gw_hub_edges_destroy(h->edges);
    gw_hub_auth_destroy(h->auth);
    gw_pgpool_destroy(h->pool);
    free(h);
}
