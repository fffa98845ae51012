/*
 * src/sync/wire.c: the shared pieces of the Sync service (see wire.h).
 */
#include "sync/wire.h"

#include <math.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/errmap.h"
#include "base/json.h"
#include "base/vjson.h"
#include "model/credresolve.h"
#include "sealbox.h" /* the extension's sealed-value module (pg_aistudio/src) */

/* ---- bytes ---- */

int gw_sync_pack(const ProtobufCMessage *m, unsigned char **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    unsigned char *buf = malloc(n > 0 ? n : 1);
    *out = NULL;
    *len = 0;
    if (buf == NULL)
        return -1;
    *len = protobuf_c_message_pack(m, buf);
    *out = buf;
    return 0;
}

void gw_sync_reply(gw_rpc_reply *reply, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    unsigned char *p;
    if (n > GW_SYNC_MAX_MESSAGE) {
        gw_rpc_reply_fail(reply, GW_RPC_RESOURCE_EXHAUSTED, "the answer has %zu bytes, more than %u", n,
                          GW_SYNC_MAX_MESSAGE);
        return;
    }
    p = gw_rpc_reply_alloc(reply, n);
    if (p == NULL && n > 0)
        return; /* RESOURCE_EXHAUSTED set by the allocation */
    if (n > 0)
        protobuf_c_message_pack(m, p);
}

int gw_sync_send(gw_rpc_call *call, const ProtobufCMessage *m, char err[GW_ERR_LEN])
{
    unsigned char *buf;
    size_t len;
    int rc;
    if (gw_sync_pack(m, &buf, &len) != 0)
        return gw_errf(err, "out of memory");
    rc = gw_rpc_call_send(call, buf, len, err);
    free(buf);
    return rc;
}

/* ---- small helpers ---- */

void gw_sync_sha256_hex(const void *data, size_t len, char out[GW_SYNC_SHA_HEX])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    gw_hex_encode(d, sizeof(d), out);
}

int gw_sync_token_ok(const char *s, size_t max)
{
    size_t n = 0;
    if (s == NULL)
        return 0;
    for (; s[n] != '\0'; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= max)
            return 0;
    return n > 0;
}

gw_rpc_status gw_sync_status_of(const char *sqlstate)
{
    switch (gw_errmap_status(sqlstate)) {
    case 400:
        return GW_RPC_INVALID_ARGUMENT;
    case 401:
        return GW_RPC_UNAUTHENTICATED;
    case 403:
        return GW_RPC_PERMISSION_DENIED;
    case 404:
        return GW_RPC_NOT_FOUND;
    case 409:
        return GW_RPC_FAILED_PRECONDITION;
    case 429:
        return GW_RPC_RESOURCE_EXHAUSTED;
    case 503:
        return GW_RPC_UNAVAILABLE;
    case 504:
        return GW_RPC_DEADLINE_EXCEEDED;
    default:
        return GW_RPC_INTERNAL;
    }
}

int gw_sync_pg_array(gw_buf *b, const char *const *items, size_t n)
{
    gw_buf_append(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            gw_buf_append(b, ",", 1);
        if (items[i] == NULL) {
            gw_buf_append(b, "NULL", 4);
            continue;
        }
        gw_buf_append(b, "\"", 1);
        for (const char *c = items[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                gw_buf_append(b, "\\", 1);
            gw_buf_append(b, c, 1);
        }
        gw_buf_append(b, "\"", 1);
    }
    gw_buf_append(b, "}", 1);
    return b->failed ? -1 : 0;
}

/* ---- credentials ---- */

int gw_sync_cred_from_proto(const Aistudio__V1__Credential *c, gw_credential *out, char err[GW_ERR_LEN])
{
    memset(out, 0, sizeof(*out));
    if (c == NULL || c->app_id <= 0)
        return gw_errf(err, "the credential has no app");
    out->credential_id = c->credential_id;
    out->app_id = c->app_id;
    out->owner_id = c->owner_id;
    out->app_active = c->app_active;
    out->owner_active = c->owner_active;
    snprintf(out->app_name, sizeof(out->app_name), "%s", c->app_name);
    snprintf(out->namespace_, sizeof(out->namespace_), "%s", c->namespace_);
    gw_credresolve_set_budget(out, c->monthly_budget);
    snprintf(out->budget_start_date, sizeof(out->budget_start_date), "%s", c->budget_start_date);
    if (c->expires_at_ms < 0)
        return gw_errf(err, "the credential's expiry is negative");
    out->key_expires_ms = c->expires_at_ms;
    if (c->n_llm_ids > 100000)
        return gw_errf(err, "the credential lists %zu LLMs", c->n_llm_ids);
    if (c->n_llm_ids > 0) {
        out->llm_ids = malloc(c->n_llm_ids * sizeof(int64_t));
        if (out->llm_ids == NULL)
            return gw_errf(err, "out of memory");
        memcpy(out->llm_ids, c->llm_ids, c->n_llm_ids * sizeof(int64_t));
        out->n_llm_ids = c->n_llm_ids;
    }
    return 0;
}

void gw_sync_cred_to_proto(const gw_credential *cred, Aistudio__V1__Credential *out)
{
    aistudio__v1__credential__init(out);
    out->credential_id = cred->credential_id;
    out->app_id = cred->app_id;
    out->app_name = (char *)cred->app_name;
    out->owner_id = cred->owner_id;
    out->app_active = cred->app_active != 0;
    out->owner_active = cred->owner_active != 0;
    out->namespace_ = (char *)cred->namespace_;
    out->n_llm_ids = cred->n_llm_ids;
    out->llm_ids = cred->llm_ids;
    out->monthly_budget = (char *)cred->monthly_budget;
    out->budget_start_date = (char *)cred->budget_start_date;
    out->expires_at_ms = cred->key_expires_ms;
}

int gw_sync_cred_to_json(const gw_credential *cred, gw_buf *b)
{
    gw_jw w;
    gw_jw_init(&w, b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "credential_id");
    gw_jw_int(&w, cred->credential_id);
    gw_jw_key(&w, "app_id");
    gw_jw_int(&w, cred->app_id);
    gw_jw_key(&w, "app_name");
    gw_jw_string(&w, cred->app_name);
    gw_jw_key(&w, "owner_id");
    gw_jw_int(&w, cred->owner_id);
    gw_jw_key(&w, "app_active");
    gw_jw_bool(&w, cred->app_active);
    gw_jw_key(&w, "owner_active");
    gw_jw_bool(&w, cred->owner_active);
    gw_jw_key(&w, "namespace");
    gw_jw_string(&w, cred->namespace_);
    gw_jw_key(&w, "llm_ids");
    gw_jw_array_begin(&w);
    for (size_t i = 0; i < cred->n_llm_ids; i++)
        gw_jw_int(&w, cred->llm_ids[i]);
    gw_jw_array_end(&w);
    gw_jw_key(&w, "monthly_budget");
    gw_jw_string(&w, cred->monthly_budget);
    gw_jw_key(&w, "budget_start_date");
    gw_jw_string(&w, cred->budget_start_date);
    gw_jw_key(&w, "expires_at_ms");
    gw_jw_int(&w, cred->key_expires_ms);
    gw_jw_object_end(&w);
    return gw_jw_finish(&w);
}

static int gw_sync_json_int(const gw_json_value *obj, const char *key, int64_t *out)
{
    gw_json_value v;
    *out = 0;
    if (!gw_vj_get(obj, key, &v) || v.type == GW_JSON_NULL)
        return 0;
    return gw_json_get_int64(&v, out);
}

static int gw_sync_json_bool(const gw_json_value *obj, const char *key, int *out)
{
    gw_json_value v;
    *out = 0;
    if (!gw_vj_get(obj, key, &v) || v.type == GW_JSON_NULL)
        return 0;
    return gw_json_get_bool(&v, out);
}

/* A string member into out ("" when absent or null); -1 when it is not a
 * string or does not fit. */
static int gw_sync_json_str(const gw_json_value *obj, const char *key, char *out, size_t cap)
{
    gw_json_value v;
    size_t n;
    out[0] = '\0';
    if (!gw_vj_get(obj, key, &v) || v.type == GW_JSON_NULL)
        return 0;
    return gw_json_get_string(&v, out, cap, &n) == 0 ? 0 : -1;
}

int gw_sync_cred_from_json(const char *json, size_t len, gw_credential *out, char err[GW_ERR_LEN])
{
    gw_json_value root, ids, el;
    gw_vj_iter it;
    size_t cap = 0;
    char budget[sizeof(out->monthly_budget)];

    memset(out, 0, sizeof(*out));
    if (gw_vj_parse(json, len, &root, err) != 0)
        return -1;
    if (root.type != GW_JSON_OBJECT)
        return gw_errf(err, "a cached credential is a JSON object");
    if (gw_sync_json_int(&root, "credential_id", &out->credential_id) != 0 ||
        gw_sync_json_int(&root, "app_id", &out->app_id) != 0 ||
        gw_sync_json_int(&root, "owner_id", &out->owner_id) != 0 ||
        gw_sync_json_bool(&root, "app_active", &out->app_active) != 0 ||
        gw_sync_json_bool(&root, "owner_active", &out->owner_active) != 0 ||
        gw_sync_json_str(&root, "app_name", out->app_name, sizeof(out->app_name)) != 0 ||
        gw_sync_json_str(&root, "namespace", out->namespace_, sizeof(out->namespace_)) != 0 ||
        gw_sync_json_str(&root, "monthly_budget", budget, sizeof(budget)) != 0 ||
        gw_sync_json_str(&root, "budget_start_date", out->budget_start_date, sizeof(out->budget_start_date)) != 0 ||
        gw_sync_json_int(&root, "expires_at_ms", &out->key_expires_ms) != 0 || out->key_expires_ms < 0)
        return gw_errf(err, "a cached credential has a member of the wrong type");
    if (out->app_id <= 0)
        return gw_errf(err, "a cached credential has no app_id");
    gw_credresolve_set_budget(out, budget);
    if (gw_vj_get(&root, "llm_ids", &ids) && ids.type == GW_JSON_ARRAY) {
        gw_vj_iter_init(&it, &ids);
        while (gw_vj_next_elem(&it, &el)) {
            int64_t v;
            if (gw_json_get_int64(&el, &v) != 0) {
                free(out->llm_ids);
                memset(out, 0, sizeof(*out));
                return gw_errf(err, "a cached credential's llm_ids holds a value that is not an integer");
            }
            if (out->n_llm_ids == cap) {
                size_t ncap = cap == 0 ? 8 : cap * 2;
                int64_t *p = realloc(out->llm_ids, ncap * sizeof(int64_t));
                if (p == NULL) {
                    free(out->llm_ids);
                    memset(out, 0, sizeof(*out));
                    return gw_errf(err, "out of memory");
                }
                out->llm_ids = p;
                cap = ncap;
            }
            out->llm_ids[out->n_llm_ids++] = v;
        }
    }
    return 0;
}

/* ---- heartbeat metrics ---- */

static void gw_sync_metric_u(gw_jw *w, const char *key, uint64_t v)
{
    if (v > 1000000000000000ull)
        return;
    gw_jw_key(w, key);
    gw_jw_int(w, (int64_t)v);
}

static void gw_sync_metric_d(gw_jw *w, const char *key, double v)
{
    char num[48];
    int n;
    if (!isfinite(v) || v < 0 || v > 1e15)
        return;
    n = snprintf(num, sizeof(num), "%.3f", v);
    gw_jw_key(w, key);
    gw_jw_raw(w, num, (size_t)n);
}

int gw_sync_metrics_json(const Aistudio__V1__EdgeMetrics *m, gw_buf *b)
{
    gw_jw w;
    gw_jw_init(&w, b);
    gw_jw_object_begin(&w);
    if (m != NULL) {
        gw_sync_metric_u(&w, "requests", m->requests);
        gw_sync_metric_u(&w, "errors", m->errors);
        gw_sync_metric_d(&w, "p50_ms", m->p50_ms);
        gw_sync_metric_d(&w, "p99_ms", m->p99_ms);
        gw_sync_metric_u(&w, "prompt_tokens", m->prompt_tokens);
        gw_sync_metric_u(&w, "response_tokens", m->response_tokens);
        gw_sync_metric_u(&w, "since_ms", m->since_ms);
    }
    gw_jw_object_end(&w);
    return gw_jw_finish(&w);
}

/* ---- analytics events ---- */

/* A number member's text (exact, as written) into out; "" when absent or null. */
static int gw_sync_json_numtext(const gw_json_value *obj, const char *key, char *out, size_t cap)
{
    gw_json_value v;
    out[0] = '\0';
    if (!gw_vj_get(obj, key, &v) || v.type == GW_JSON_NULL)
        return 0;
    if (v.type == GW_JSON_STRING)
        return gw_sync_json_str(obj, key, out, cap);
    if (v.type != GW_JSON_NUMBER || v.len >= cap)
        return -1;
    memcpy(out, v.ptr, v.len);
    out[v.len] = '\0';
    return 0;
}

int gw_sync_event_from_json(const char *json, size_t len, gw_sync_event *ev, char err[GW_ERR_LEN])
{
    gw_json_value root;
    int64_t status = 0;
    gw_json_value v;

    memset(ev, 0, sizeof(*ev));
    aistudio__v1__analytics_event__init(&ev->pb);
    if (gw_vj_parse(json, len, &root, err) != 0)
        return -1;
    if (root.type != GW_JSON_OBJECT)
        return gw_errf(err, "an outbox event is a JSON object");
    if (gw_sync_json_str(&root, "timestamp", ev->timestamp, sizeof(ev->timestamp)) != 0 ||
        gw_sync_json_str(&root, "request_id", ev->request_id, sizeof(ev->request_id)) != 0 ||
        gw_sync_json_str(&root, "vendor", ev->vendor, sizeof(ev->vendor)) != 0 ||
        gw_sync_json_str(&root, "model_name", ev->model_name, sizeof(ev->model_name)) != 0 ||
        gw_sync_json_str(&root, "interaction_type", ev->interaction_type, sizeof(ev->interaction_type)) != 0 ||
        gw_sync_json_str(&root, "currency", ev->currency, sizeof(ev->currency)) != 0 ||
        gw_sync_json_numtext(&root, "cost", ev->cost, sizeof(ev->cost)) != 0)
        return gw_errf(err, "an outbox event has a text member of the wrong type or length");
    /* an error text longer than the wire's field is cut, not refused */
    if (gw_vj_get(&root, "error", &v) && v.type == GW_JSON_STRING)
        gw_vj_str_copy(&v, ev->error, sizeof(ev->error));
    if (gw_sync_json_int(&root, "user_id", &ev->pb.user_id) != 0 || gw_sync_json_int(&root, "app_id", &ev->pb.app_id) != 0 ||
        gw_sync_json_int(&root, "llm_id", &ev->pb.llm_id) != 0 ||
        gw_sync_json_int(&root, "prompt_tokens", &ev->pb.prompt_tokens) != 0 ||
        gw_sync_json_int(&root, "response_tokens", &ev->pb.response_tokens) != 0 ||
        gw_sync_json_int(&root, "cache_write_tokens", &ev->pb.cache_write_tokens) != 0 ||
        gw_sync_json_int(&root, "cache_read_tokens", &ev->pb.cache_read_tokens) != 0 ||
        gw_sync_json_int(&root, "latency_ms", &ev->pb.latency_ms) != 0 ||
        gw_sync_json_int(&root, "status_code", &status) != 0)
        return gw_errf(err, "an outbox event has a number member that is not an integer");
    if (ev->request_id[0] == '\0' || ev->timestamp[0] == '\0')
        return gw_errf(err, "an outbox event has no request_id or timestamp");
    if (status < INT32_MIN || status > INT32_MAX)
        return gw_errf(err, "an outbox event has a status code out of range");
    ev->pb.status_code = (int32_t)status;
    ev->pb.timestamp = ev->timestamp;
    ev->pb.request_id = ev->request_id;
    ev->pb.vendor = ev->vendor;
    ev->pb.model_name = ev->model_name;
    ev->pb.interaction_type = ev->interaction_type;
    ev->pb.error = ev->error;
    ev->pb.cost = ev->cost;
    ev->pb.currency = ev->currency;
    return 0;
}

static void gw_sync_id_or_null(gw_jw *w, const char *key, int64_t id)
{
    gw_jw_key(w, key);
    if (id == 0)
        gw_jw_null(w);
    else
        gw_jw_int(w, id);
}

static void gw_sync_str_or_null(gw_jw *w, const char *key, const char *s)
{
    gw_jw_key(w, key);
    gw_jw_string(w, s != NULL && s[0] != '\0' ? s : NULL);
}

int gw_sync_events_to_json(Aistudio__V1__AnalyticsEvent *const *ev, size_t n, gw_buf *b)
{
    gw_jw w;
    gw_jw_init(&w, b);
    gw_jw_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const Aistudio__V1__AnalyticsEvent *e = ev[i];
        gw_jw_object_begin(&w);
        gw_sync_str_or_null(&w, "timestamp", e->timestamp);
        gw_sync_str_or_null(&w, "request_id", e->request_id);
        gw_sync_id_or_null(&w, "user_id", e->user_id);
        gw_sync_id_or_null(&w, "app_id", e->app_id);
        gw_sync_id_or_null(&w, "llm_id", e->llm_id);
        gw_sync_str_or_null(&w, "vendor", e->vendor);
        gw_sync_str_or_null(&w, "model_name", e->model_name);
        gw_jw_key(&w, "prompt_tokens");
        gw_jw_int(&w, e->prompt_tokens);
        gw_jw_key(&w, "response_tokens");
        gw_jw_int(&w, e->response_tokens);
        gw_jw_key(&w, "cache_write_tokens");
        gw_jw_int(&w, e->cache_write_tokens);
        gw_jw_key(&w, "cache_read_tokens");
        gw_jw_int(&w, e->cache_read_tokens);
        gw_jw_key(&w, "latency_ms");
        gw_jw_int(&w, e->latency_ms);
        gw_sync_str_or_null(&w, "interaction_type", e->interaction_type);
        gw_jw_key(&w, "status_code");
        gw_jw_int(&w, e->status_code);
        gw_sync_str_or_null(&w, "error", e->error);
        gw_jw_object_end(&w);
    }
    gw_jw_array_end(&w);
    return gw_jw_finish(&w);
}

/* ---- re-sealing ---- */

int gw_sync_edge_key(const char *token, const char *edge_id, gw_secret_key *out, char err[GW_ERR_LEN])
{
    char serr[AISTUDIO_SEAL_ERR_LEN];
    memset(out, 0, sizeof(*out));
    if (aistudio_seal_edge_key(token, strlen(token), edge_id, strlen(edge_id), out->key, serr) != 0)
        return gw_errf(err, "edge key: %s", serr);
    gw_secretbox_key_id(out->key, out->key_id);
    if (out->key_id[0] == '\0') {
        gw_secretbox_wipe(out, sizeof(*out));
        return gw_errf(err, "edge key: cannot compute its key id");
    }
    return 0;
}

/* A sealed value being replaced: the unpacked message's own fields are put
 * back before it is freed. */
typedef struct gw_sync_swap {
    Aistudio__V1__SealedValue *sv;
    char *key_id;
    ProtobufCBinaryData nonce, ciphertext;
    unsigned char *new_nonce, *new_ct;
} gw_sync_swap;

/* Re-seals one value (or empties it); 0, or -1 when memory runs out. */
static int gw_sync_reseal_one(Aistudio__V1__SealedValue *sv, const gw_secret_key *master,
                              const gw_secret_key *edge_key, gw_sync_swap *sw, gw_sync_reseal_stats *st)
{
    char *plain = NULL;
    size_t plen = 0;
    char err[GW_ERR_LEN], serr[AISTUDIO_SEAL_ERR_LEN];
    aistudio_seal_key ek;

    memset(sw, 0, sizeof(*sw));
    if (sv == NULL || sv->ciphertext.len == 0)
        return 0;
    sw->sv = sv;
    sw->key_id = sv->key_id;
    sw->nonce = sv->nonce;
    sw->ciphertext = sv->ciphertext;
    if (master == NULL || gw_secretbox_open_alloc(master, 1, sv->key_id, sv->nonce.data, sv->nonce.len,
                                                  sv->ciphertext.data, sv->ciphertext.len, sv->aad, &plain, &plen,
                                                  err) != 0) {
        /* never ship what the master key sealed: the edge gets nothing */
        sv->key_id = (char *)protobuf_c_empty_string;
        sv->nonce.len = 0;
        sv->nonce.data = NULL;
        sv->ciphertext.len = 0;
        sv->ciphertext.data = NULL;
        st->dropped++;
        return 0;
    }
    sw->new_nonce = malloc(AISTUDIO_SEAL_NONCE_LEN);
    sw->new_ct = malloc(plen + AISTUDIO_SEAL_TAG_LEN);
    memcpy(ek.key, edge_key->key, sizeof(ek.key));
    memcpy(ek.key_id, edge_key->key_id, sizeof(ek.key_id));
    if (sw->new_nonce == NULL || sw->new_ct == NULL ||
        aistudio_seal(&ek, sv->aad, plain, plen, sw->new_nonce, sw->new_ct, serr) != 0) {
        aistudio_seal_wipe(&ek, sizeof(ek));
        gw_secretbox_free(plain, plen);
        return -1;
    }
    aistudio_seal_wipe(&ek, sizeof(ek));
    gw_secretbox_free(plain, plen);
    sv->key_id = (char *)edge_key->key_id;
    sv->nonce.data = sw->new_nonce;
    sv->nonce.len = AISTUDIO_SEAL_NONCE_LEN;
    sv->ciphertext.data = sw->new_ct;
    sv->ciphertext.len = plen + AISTUDIO_SEAL_TAG_LEN;
    st->resealed++;
    return 0;
}

int gw_sync_reseal(const uint8_t *in, size_t len, const gw_secret_key *master, const gw_secret_key *edge_key,
                   uint8_t **out, size_t *out_len, gw_sync_reseal_stats *st, char err[GW_ERR_LEN])
{
    Aistudio__V1__Snapshot *s;
    gw_sync_swap *sw;
    size_t nsw, k = 0;
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    memset(st, 0, sizeof(*st));
    s = aistudio__v1__snapshot__unpack(NULL, len, in);
    if (s == NULL)
        return gw_errf(err, "the snapshot's bytes are not an aistudio.v1.Snapshot");
    nsw = s->n_llms + s->n_secrets;
    sw = calloc(nsw > 0 ? nsw : 1, sizeof(*sw));
    if (sw == NULL) {
        aistudio__v1__snapshot__free_unpacked(s, NULL);
        return gw_errf(err, "out of memory");
    }
    for (size_t i = 0; i < s->n_llms && rc == 0; i++)
        rc = gw_sync_reseal_one(s->llms[i]->api_key, master, edge_key, &sw[k++], st);
    for (size_t i = 0; i < s->n_secrets && rc == 0; i++)
        rc = gw_sync_reseal_one(s->secrets[i]->value, master, edge_key, &sw[k++], st);
    if (rc == 0 && gw_sync_pack(&s->base, out, out_len) != 0)
        rc = -1;
    /* the unpacked message's fields back in place, then everything freed */
    for (size_t i = 0; i < k; i++) {
        if (sw[i].sv == NULL)
            continue;
        sw[i].sv->key_id = sw[i].key_id;
        sw[i].sv->nonce = sw[i].nonce;
        sw[i].sv->ciphertext = sw[i].ciphertext;
        free(sw[i].new_nonce);
        free(sw[i].new_ct);
    }
    free(sw);
    aistudio__v1__snapshot__free_unpacked(s, NULL);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *out_len = 0;
        return gw_errf(err, "out of memory while re-sealing the snapshot");
    }
    return 0;
}
