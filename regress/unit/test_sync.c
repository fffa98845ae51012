/*
 * regress/unit/test_sync.c: the pure pieces of the control plane
 * (gatewayd/src/sync): PostgreSQL text[] literals, SQLSTATE → gRPC status,
 * credentials through the wire (proto) and an edge's database (JSON) and
 * back, budgets in 10^-9 units; heartbeat metrics as the JSON the hub
 * keeps (never an invalid number); outbox events to the wire and the hub's
 * JSON; re-sealing a snapshot under an edge's key (checked against an
 * independent AES-256-GCM sealer, seal.h: the output opens with the edge
 * key only, the AAD is unchanged, a value the master key cannot open is
 * sent empty, everything but sealed values is byte-identical, malformed
 * input is refused); the edge key against a vector computed with python's
 * hmac (regress/expected/sync.out); the peer address the rate limit
 * counts; the heartbeat window's counts and percentiles; an edge's client
 * that stops calling a hub which refused it (the hub rate-limits refusals
 * per address: one refused edge must not lock the others out).
 */
#include "base/buf.c"
#include "base/codec.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/money.c"
#include "base/secretbox.c"
#include "base/vjson.c"
#include "db/pgpool.c"
#include "model/credresolve.c"
#include "rpc/call.c"
#include "rpc/client.c"
#include "rpc/core.c"
#include "rpc/pool.c"
#include "rpc/server.c"
#include "sync/edge_rpc.c"
#include "sync/edge_window.c"
#include "sync/hub_auth.c"
#include "sync/wire.c"

#include <math.h>

#include "seal.h"
#include "tap.h"

static const char *const MASTER_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void test_pg_array(void)
{
    gw_buf b;
    const char *items[] = {"plain", "with \"quotes\"", "back\\slash", NULL, ""};
    gw_buf_init(&b, 0);
    ok(gw_sync_pg_array(&b, items, 5) == 0, "an array literal");
    is_str(gw_buf_cstr(&b), "{\"plain\",\"with \\\"quotes\\\"\",\"back\\\\slash\",NULL,\"\"}", "quoted, escaped, NULL");
    gw_buf_reset(&b);
    gw_sync_pg_array(&b, items, 0);
    is_str(gw_buf_cstr(&b), "{}", "empty");
    gw_buf_free(&b);
}

static void test_status(void)
{
    is_int(gw_sync_status_of("22023"), GW_RPC_INVALID_ARGUMENT, "22xxx: INVALID_ARGUMENT");
    is_int(gw_sync_status_of("42501"), GW_RPC_PERMISSION_DENIED, "42501: PERMISSION_DENIED");
    is_int(gw_sync_status_of("P0002"), GW_RPC_NOT_FOUND, "P0002: NOT_FOUND");
    is_int(gw_sync_status_of("08006"), GW_RPC_UNAVAILABLE, "08xxx: UNAVAILABLE");
    is_int(gw_sync_status_of("23505"), GW_RPC_FAILED_PRECONDITION, "23xxx: FAILED_PRECONDITION");
    is_int(gw_sync_status_of("57014"), GW_RPC_DEADLINE_EXCEEDED, "statement timeout: DEADLINE_EXCEEDED");
    is_int(gw_sync_status_of("XX000"), GW_RPC_INTERNAL, "anything else: INTERNAL");
    is_int(gw_sync_status_of(NULL), GW_RPC_INTERNAL, "none: INTERNAL");
    ok(gw_sync_token_ok("edge-eu-1", 128), "a token");
    ok(!gw_sync_token_ok("", 128) && !gw_sync_token_ok("a b", 128) && !gw_sync_token_ok("abc", 2),
       "empty, a space, too long: not");
}

static void test_credentials(void)
{
    gw_credential c, back;
    Aistudio__V1__Credential pc;
    unsigned char *buf;
    size_t len;
    char err[GW_ERR_LEN];
    gw_buf b;
    int64_t llms[3] = {7, 3, 11};

    memset(&c, 0, sizeof(c));
    c.credential_id = 9;
    c.app_id = 42;
    c.owner_id = 5;
    c.app_active = 1;
    c.owner_active = 0;
    snprintf(c.app_name, sizeof(c.app_name), "app \"quoted\" ü");
    snprintf(c.namespace_, sizeof(c.namespace_), "eu");
    gw_credresolve_set_budget(&c, "12.000000001");
    snprintf(c.budget_start_date, sizeof(c.budget_start_date), "2026-01-15");
    c.llm_ids = llms;
    c.n_llm_ids = 3;
    c.key_expires_ms = 1767225600123LL;
    ok(c.monthly_budget_nanos == 12000000001LL, "budget in 10^-9 units, exact");

    /* the wire */
    gw_sync_cred_to_proto(&c, &pc);
    ok(gw_sync_pack(&pc.base, &buf, &len) == 0 && len > 0, "packed");
    {
        Aistudio__V1__Credential *u = aistudio__v1__credential__unpack(NULL, len, buf);
        ok(u != NULL && gw_sync_cred_from_proto(u, &back, err) == 0, "unpacked and read");
        ok(back.app_id == 42 && back.credential_id == 9 && back.owner_id == 5 && back.app_active && !back.owner_active,
           "ids and flags");
        is_str(back.app_name, c.app_name, "name");
        is_str(back.monthly_budget, "12.000000001", "budget text");
        ok(back.monthly_budget_nanos == 12000000001LL, "budget nanos computed on arrival");
        ok(back.n_llm_ids == 3 && back.llm_ids[0] == 7 && back.llm_ids[2] == 11, "llm ids");
        ok(back.key_expires_ms == 1767225600123LL, "the key's expiry crosses the wire");
        free(back.llm_ids);
        aistudio__v1__credential__free_unpacked(u, NULL);
    }
    free(buf);
    ok(gw_sync_cred_from_proto(NULL, &back, err) != 0, "no credential: refused");

    /* the edge's database */
    gw_buf_init(&b, 0);
    ok(gw_sync_cred_to_json(&c, &b) == 0, "as JSON");
    ok(gw_sync_cred_from_json(b.data, b.len, &back, err) == 0, "and back: %s", err);
    ok(back.app_id == 42 && back.n_llm_ids == 3 && back.llm_ids[1] == 3 && !back.owner_active, "same values");
    is_str(back.app_name, c.app_name, "same name (escaped and unescaped)");
    ok(back.monthly_budget_nanos == 12000000001LL, "budget nanos computed when read");
    ok(back.key_expires_ms == 1767225600123LL, "the key's expiry kept in the edge's cache");
    free(back.llm_ids);
    gw_buf_free(&b);
    {
        const char *bad[] = {"[]", "{\"app_id\": 0}", "{\"app_id\": \"x\"}", "{\"app_id\": 1, \"llm_ids\": [1, \"a\"]}",
                             "{\"app_id\": 1, \"app_active\": 1}", "{\"app_id\": 1, \"expires_at_ms\": -5}",
                             "{\"app_id\": 1, \"expires_at_ms\": \"soon\"}", "{not json"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            ok(gw_sync_cred_from_json(bad[i], strlen(bad[i]), &back, err) != 0 && back.llm_ids == NULL,
               "refused: %s", bad[i]);
    }
    ok(gw_sync_cred_from_json("{\"app_id\": 3, \"monthly_budget\": null}",
                              strlen("{\"app_id\": 3, \"monthly_budget\": null}"), &back, err) == 0 &&
           back.monthly_budget[0] == '\0' && back.monthly_budget_nanos == 0 && back.n_llm_ids == 0,
       "nulls: no budget, no LLMs");
}

static void test_metrics(void)
{
    Aistudio__V1__EdgeMetrics m = AISTUDIO__V1__EDGE_METRICS__INIT;
    gw_buf b;
    gw_buf_init(&b, 0);
    gw_sync_metrics_json(NULL, &b);
    is_str(gw_buf_cstr(&b), "{}", "no metrics: {}");
    gw_buf_reset(&b);
    m.requests = 10;
    m.errors = 2;
    m.p50_ms = 12.5;
    m.p99_ms = NAN;
    m.prompt_tokens = 300;
    m.response_tokens = 4000000000000000000ull; /* beyond what the hub keeps */
    m.since_ms = 1000;
    gw_sync_metrics_json(&m, &b);
    is_str(gw_buf_cstr(&b), "{\"requests\":10,\"errors\":2,\"p50_ms\":12.500,\"prompt_tokens\":300,\"since_ms\":1000}",
           "NaN and out-of-range numbers left out: valid JSON");
    gw_buf_reset(&b);
    m.p99_ms = -1;
    m.p50_ms = INFINITY;
    gw_sync_metrics_json(&m, &b);
    lacks_str(gw_buf_cstr(&b), "p99_ms", "a negative percentile left out");
    lacks_str(gw_buf_cstr(&b), "inf", "an infinite one too");
    gw_buf_free(&b);
}

static void test_events(void)
{
    const char *row = "{\"cost\": 0.000123456789012345, \"error\": null, \"app_id\": 3, \"llm_id\": 7, \"vendor\": "
                      "\"openai\", \"user_id\": null, \"currency\": \"USD\", \"timestamp\": "
                      "\"2026-12-07T05:00:00.123456+00:00\", \"latency_ms\": 12, \"model_name\": \"gpt-4o\", "
                      "\"request_id\": \"01a24efe-55de-7466-b3d0-03773d23a33b\", \"status_code\": 200, "
                      "\"prompt_tokens\": 5, \"response_tokens\": 8, \"interaction_type\": \"proxy\", "
                      "\"cache_read_tokens\": 1, \"cache_write_tokens\": 0}";
    gw_sync_event ev, ev2;
    Aistudio__V1__AnalyticsEvent *list[2];
    gw_json_value root, first, v;
    gw_vj_iter it;
    char err[GW_ERR_LEN];
    gw_buf b;

    ok(gw_sync_event_from_json(row, strlen(row), &ev, err) == 0, "an outbox row read: %s", err);
    is_str(ev.pb.request_id, "01a24efe-55de-7466-b3d0-03773d23a33b", "request id");
    is_str(ev.pb.timestamp, "2026-12-07T05:00:00.123456+00:00", "timestamp as PostgreSQL wrote it");
    is_str(ev.pb.cost, "0.000123456789012345", "the cost's digits kept exactly");
    ok(ev.pb.user_id == 0 && ev.pb.app_id == 3 && ev.pb.llm_id == 7 && ev.pb.status_code == 200 &&
           ev.pb.cache_read_tokens == 1 && ev.pb.latency_ms == 12,
       "numbers, null as 0");
    is_str(ev.pb.error, "", "null error: empty");
    ok(gw_sync_event_from_json("{\"timestamp\": \"t\"}", 18, &ev2, err) != 0, "no request id: refused");
    ok(gw_sync_event_from_json("{\"request_id\": 5, \"timestamp\": \"t\"}", 36, &ev2, err) != 0, "a number id: refused");
    ok(gw_sync_event_from_json("[1]", 3, &ev2, err) != 0, "not an object: refused");
    ok(gw_sync_event_from_json("{\"request_id\":\"r\",\"timestamp\":\"t\",\"status_code\":99999999999}", 62, &ev2, err) != 0,
       "a status out of range: refused");
    {
        char big[2000];
        int n = snprintf(big, sizeof(big), "{\"request_id\":\"r\",\"timestamp\":\"t\",\"error\":\"");
        memset(big + n, 'e', 1500);
        snprintf(big + n + 1500, sizeof(big) - (size_t)n - 1500, "\"}");
        ok(gw_sync_event_from_json(big, strlen(big), &ev2, err) == 0 && strlen(ev2.pb.error) == GW_SYNC_EV_TEXT - 1,
           "a long error text is cut, not refused");
    }

    /* the hub's side: JSON for ingest_edge_events, zero ids as null */
    list[0] = &ev.pb;
    list[1] = &ev.pb;
    gw_buf_init(&b, 0);
    ok(gw_sync_events_to_json(list, 2, &b) == 0 && gw_vj_parse(b.data, b.len, &root, err) == 0 &&
           root.type == GW_JSON_ARRAY,
       "a JSON array");
    gw_vj_iter_init(&it, &root);
    ok(gw_vj_next_elem(&it, &first) && first.type == GW_JSON_OBJECT, "of objects");
    ok(gw_vj_get(&first, "user_id", &v) && v.type == GW_JSON_NULL, "user_id 0: null");
    ok(gw_vj_get(&first, "error", &v) && v.type == GW_JSON_NULL, "no error: null");
    ok(gw_vj_get(&first, "app_id", &v) && v.type == GW_JSON_NUMBER, "app_id: a number");
    ok(!gw_vj_get(&first, "cost", &v), "the edge's cost is not sent (the hub prices)");
    ok(gw_vj_get(&first, "timestamp", &v) && gw_vj_str_is(&v, "2026-12-07T05:00:00.123456+00:00"), "timestamp");
    gw_buf_free(&b);
}

/* A snapshot with a literal key on an LLM and a secret, sealed under master. */
static int make_snapshot(const gw_secret_key *master, uint8_t **out, size_t *len)
{
    Aistudio__V1__Snapshot s = AISTUDIO__V1__SNAPSHOT__INIT;
    Aistudio__V1__Llm l1 = AISTUDIO__V1__LLM__INIT, l2 = AISTUDIO__V1__LLM__INIT;
    Aistudio__V1__Llm *llms[2] = {&l1, &l2};
    Aistudio__V1__SealedValue k1 = AISTUDIO__V1__SEALED_VALUE__INIT, k2 = AISTUDIO__V1__SEALED_VALUE__INIT;
    Aistudio__V1__Secret sec = AISTUDIO__V1__SECRET__INIT;
    Aistudio__V1__Secret *secs[1] = {&sec};
    static unsigned char n1[12] = {1}, n2[12] = {2}, c1[64], c2[64];
    const char *p1 = "sk-literal-key", *p2 = "sk-secret-value";

    s.format_version = 1;
    s.namespace_ = "eu";
    l1.id = 1;
    l1.name = "EU GPT";
    l1.slug = "eu-gpt";
    l1.vendor = "openai";
    k1.key_id = (char *)master->key_id;
    k1.aad = "llm:1";
    test_seal(master->key, n1, k1.aad, (const unsigned char *)p1, strlen(p1), c1);
    k1.nonce = (ProtobufCBinaryData){12, n1};
    k1.ciphertext = (ProtobufCBinaryData){strlen(p1) + 16, c1};
    l1.api_key = &k1;
    l2.id = 2;
    l2.name = "No key";
    l2.slug = "no-key";
    l2.vendor = "ollama";
    sec.id = 4;
    sec.name = "Key";
    k2.key_id = (char *)master->key_id;
    k2.aad = "secret:Key";
    test_seal(master->key, n2, k2.aad, (const unsigned char *)p2, strlen(p2), c2);
    k2.nonce = (ProtobufCBinaryData){12, n2};
    k2.ciphertext = (ProtobufCBinaryData){strlen(p2) + 16, c2};
    sec.value = &k2;
    s.llms = llms;
    s.n_llms = 2;
    s.secrets = secs;
    s.n_secrets = 1;
    return gw_sync_pack(&s.base, out, len);
}

/* The snapshot with its sealed values emptied, packed (what must not change). */
static void strip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    Aistudio__V1__Snapshot *s = aistudio__v1__snapshot__unpack(NULL, len, in);
    for (size_t i = 0; i < s->n_llms; i++)
        if (s->llms[i]->api_key != NULL) {
            aistudio__v1__sealed_value__free_unpacked(s->llms[i]->api_key, NULL);
            s->llms[i]->api_key = NULL;
        }
    for (size_t i = 0; i < s->n_secrets; i++)
        if (s->secrets[i]->value != NULL) {
            aistudio__v1__sealed_value__free_unpacked(s->secrets[i]->value, NULL);
            s->secrets[i]->value = NULL;
        }
    gw_sync_pack(&s->base, out, out_len);
    aistudio__v1__snapshot__free_unpacked(s, NULL);
}

static void test_reseal(void)
{
    gw_secret_key master, edge, other;
    gw_sync_reseal_stats st;
    uint8_t *in, *out, *a, *b;
    size_t in_len, out_len, a_len, b_len;
    char err[GW_ERR_LEN];

    gw_secretbox_key_from_hex(&master, MASTER_HEX, 64, err);
    ok(gw_sync_edge_key("aie_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", "edge-eu-1", &edge, err) == 0, "edge key");
    {
        char hex[65];
        gw_hex_encode(edge.key, 32, hex);
        is_str(hex, "c43ff12647c5372ec800c926a3e7da0038e7944d246c92cf4880f4831b148a95",
               "HKDF-SHA256(token, edge id): the vector computed with python's hmac");
    }
    ok(gw_sync_edge_key("", "edge-eu-1", &other, err) != 0, "an empty token: refused");
    ok(make_snapshot(&master, &in, &in_len) == 0, "a snapshot sealed under the master key");

    ok(gw_sync_reseal(in, in_len, &master, &edge, &out, &out_len, &st, err) == 0, "re-sealed: %s", err);
    ok(st.resealed == 2 && st.dropped == 0, "two values re-sealed");
    {
        Aistudio__V1__Snapshot *s = aistudio__v1__snapshot__unpack(NULL, out_len, out);
        Aistudio__V1__SealedValue *k1 = s->llms[0]->api_key, *k2 = s->secrets[0]->value;
        char *plain;
        size_t plen;
        ok(s->llms[1]->api_key == NULL, "an LLM without a key stays without");
        is_str(k1->key_id, edge.key_id, "the literal key names the edge key");
        is_str(k2->key_id, edge.key_id, "the secret too");
        is_str(k1->aad, "llm:1", "AAD unchanged");
        ok(k1->nonce.len == 12 && memcmp(k1->nonce.data, (unsigned char[12]){1}, 12) != 0, "a fresh nonce");
        ok(gw_secretbox_open_alloc(&edge, 1, k1->key_id, k1->nonce.data, k1->nonce.len, k1->ciphertext.data,
                                   k1->ciphertext.len, k1->aad, &plain, &plen, err) == 0 &&
               strcmp(plain, "sk-literal-key") == 0,
           "opens with the edge key");
        gw_secretbox_free(plain, plen);
        ok(gw_secretbox_open_alloc(&edge, 1, k2->key_id, k2->nonce.data, k2->nonce.len, k2->ciphertext.data,
                                   k2->ciphertext.len, "secret:Other", &plain, &plen, err) != 0,
           "bound to its AAD");
        ok(gw_secretbox_open_alloc(&master, 1, master.key_id, k2->nonce.data, k2->nonce.len, k2->ciphertext.data,
                                   k2->ciphertext.len, k2->aad, &plain, &plen, err) != 0,
           "the master key no longer opens it");
        ok(memmem(out, out_len, "sk-", 3) == NULL, "no plaintext in the bytes");
        aistudio__v1__snapshot__free_unpacked(s, NULL);
    }
    strip(in, in_len, &a, &a_len);
    strip(out, out_len, &b, &b_len);
    ok(a_len == b_len && memcmp(a, b, a_len) == 0, "everything but the sealed values is byte-identical");
    free(a);
    free(b);
    free(out);

    /* a master key that does not open them: sent empty, never as they are */
    gw_secretbox_key_from_hex(&other, "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, err);
    ok(gw_sync_reseal(in, in_len, &other, &edge, &out, &out_len, &st, err) == 0 && st.dropped == 2 && st.resealed == 0,
       "the wrong master key: both dropped");
    {
        Aistudio__V1__Snapshot *s = aistudio__v1__snapshot__unpack(NULL, out_len, out);
        ok(s->llms[0]->api_key->ciphertext.len == 0 && s->secrets[0]->value->ciphertext.len == 0 &&
               s->llms[0]->api_key->key_id[0] == '\0',
           "sent empty");
        aistudio__v1__snapshot__free_unpacked(s, NULL);
    }
    free(out);
    ok(gw_sync_reseal(in, in_len, NULL, &edge, &out, &out_len, &st, err) == 0 && st.dropped == 2,
       "no master key at all: dropped");
    free(out);
    ok(gw_sync_reseal((const uint8_t *)"\xff\xff\xff\xff\x0f", 5, &master, &edge, &out, &out_len, &st, err) != 0 &&
           out == NULL,
       "not a snapshot: refused");
    has_str(err, "not an aistudio.v1.Snapshot", "and says so");
    free(in);
}

static void test_peer(void)
{
    char h[64];
    gw_hub_peer_host("ipv4:127.0.0.1:5555", h, sizeof(h));
    is_str(h, "127.0.0.1", "IPv4: without the port");
    gw_hub_peer_host("ipv6:[::1]:443", h, sizeof(h));
    is_str(h, "::1", "IPv6: without brackets and port");
    gw_hub_peer_host("unix:/tmp/s", h, sizeof(h));
    is_str(h, "unix", "unix socket");
    gw_hub_peer_host(NULL, h, sizeof(h));
    is_str(h, "", "none");
    gw_hub_peer_host("ipv4:255.255.255.255:1", h, 8);
    is_str(h, "255.255", "cut to the buffer");
}

static void test_window(void)
{
    gw_edge_window w;
    Aistudio__V1__EdgeMetrics m;
    gw_event ev;

    gw_edge_window_init(&w);
    gw_edge_window_take(&w, &m);
    ok(m.requests == 0 && m.p50_ms == 0 && m.p99_ms == 0, "empty: zeros");
    for (int i = 0; i < 98; i++)
        gw_edge_window_add(&w, 200, 10, 5, 7);
    gw_edge_window_add(&w, 500, 2000, 0, 0);
    memset(&ev, 0, sizeof(ev));
    ev.status_code = 429;
    ev.latency_ms = 9000;
    ev.prompt_tokens = 3;
    gw_edge_window_record(&w, &ev);
    gw_edge_window_take(&w, &m);
    ok(m.requests == 100 && m.errors == 2, "100 requests, 2 errors");
    ok(m.prompt_tokens == 98 * 5 + 3 && m.response_tokens == 98 * 7, "tokens summed");
    ok(m.p50_ms == 10, "p50: the bucket of 10 ms (%.1f)", m.p50_ms);
    ok(m.p99_ms == 2000, "p99: the 99th of 100 is the 2 s one (%.1f)", m.p99_ms);
    gw_edge_window_take(&w, &m);
    ok(m.requests == 0 && m.errors == 0 && m.prompt_tokens == 0, "taken: started anew");
    gw_edge_window_add(&w, 200, 7200000, 0, 0); /* two hours */
    gw_edge_window_add(&w, 200, -5, 0, 0);      /* a clock step */
    gw_edge_window_take(&w, &m);
    ok(m.p99_ms == 600000 && m.p50_ms == 1, "beyond the last bound: reported at it; negative: the first (%.0f, %.0f)",
       m.p99_ms, m.p50_ms);
    gw_edge_window_destroy(&w);
}

static atomic_int refusals;

static gw_rpc_status refuse_all(gw_rpc_call *call, const gw_rpc_md *md, size_t n, void **ctx, char msg[GW_ERR_LEN],
                                void *arg)
{
    (void)call;
    (void)ctx;
    (void)arg;
    atomic_fetch_add(&refusals, 1);
    ok(gw_rpc_md_get(md, n, GW_SYNC_MD_EDGE_ID) != NULL && strcmp(gw_rpc_md_get(md, n, GW_SYNC_MD_EDGE_ID), "e-1") == 0 &&
           strcmp(gw_rpc_md_get(md, n, GW_SYNC_MD_NAMESPACE), "eu") == 0 &&
           strcmp(gw_rpc_md_bearer(md, n), "aie_tok") == 0,
       "the edge's metadata: id, namespace, bearer token");
    snprintf(msg, GW_ERR_LEN, "bad_token");
    return GW_RPC_UNAUTHENTICATED;
}

static void never(gw_rpc_call *call, const unsigned char *req, size_t len, gw_rpc_reply *reply, void *arg)
{
    (void)call;
    (void)req;
    (void)len;
    (void)arg;
    gw_rpc_reply_set(reply, "", 0);
}

static void test_refusal_hold(void)
{
    gw_rpc_server_opts so = {0};
    gw_rpc_method m = {GW_SYNC_M_REGISTER, GW_RPC_UNARY, never, NULL, NULL, NULL, NULL};
    gw_rpc_server *srv;
    gw_edge_rpc_opts eo = {0};
    gw_edge_rpc *r;
    gw_rpc_reply reply;
    Aistudio__V1__RegisterRequest rq = AISTUDIO__V1__REGISTER_REQUEST__INIT;
    char err[GW_ERR_LEN], target[64];

    so.listen = "127.0.0.1:0";
    so.auth = refuse_all;
    srv = gw_rpc_server_create(&so, err);
    ok(srv != NULL && gw_rpc_server_add_method(srv, &m, err) == 0 && gw_rpc_server_start(srv, err) == 0,
       "a hub that refuses everyone: %s", err);
    snprintf(target, sizeof(target), "127.0.0.1:%d", gw_rpc_server_port(srv));
    eo.endpoint = target;
    eo.edge_id = "e-1";
    eo.ns = "eu";
    eo.token = "aie_tok";
    ok(gw_edge_rpc_create(&eo, &r, err) == 0, "an edge's client");
    ok(gw_edge_rpc_call(r, GW_SYNC_M_REGISTER, &rq.base, 5000, &reply) != 0 && reply.status == GW_RPC_UNAUTHENTICATED,
       "refused: UNAUTHENTICATED");
    gw_rpc_reply_clear(&reply);
    for (int i = 0; i < 5; i++) {
        ok(gw_edge_rpc_call(r, GW_SYNC_M_REGISTER, &rq.base, 5000, &reply) != 0 && reply.status == GW_RPC_UNAUTHENTICATED,
           "asked again at once: refused without a call");
        gw_rpc_reply_clear(&reply);
    }
    is_int(atomic_load(&refusals), 1, "the hub saw one call, not six");
    atomic_store(&r->hold_until_ms, 0); /* the hold is over */
    ok(gw_edge_rpc_call(r, GW_SYNC_M_REGISTER, &rq.base, 5000, &reply) != 0, "after the hold: asked again");
    gw_rpc_reply_clear(&reply);
    is_int(atomic_load(&refusals), 2, "and the hub saw it");
    gw_edge_rpc_destroy(r);
    gw_rpc_server_destroy(srv);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    test_refusal_hold();
    test_pg_array();
    test_status();
    test_credentials();
    test_metrics();
    test_events();
    test_reseal();
    test_peer();
    test_window();
    return tap_done();
}
