/*
 * regress/unit/test_snapshot.c: building the in-memory snapshot from a
 * protobuf message constructed here — lookups by slug and id, vendor keys
 * (literal and $SECRET/Name, and the failure cases), allowed-model regexes,
 * longest-prefix prices, apps, and the reference-counted
 * swap (also under concurrent readers).
 */
#include "base/codec.c"
#include "base/log.c"
#include "base/secretbox.c"
#include "model/snapshot.c"

#include <unistd.h>

#include "seal.h"
#include "tap.h"

#define KEY_HEX "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define OTHER_HEX "0000000000000000000000000000000000000000000000000000000000000001"

static gw_secret_key key, other_key;

/* A SealedValue for value under k; its buffers live in a static pool. */
typedef struct sealed_buf {
    Aistudio__V1__SealedValue sv;
    unsigned char nonce[12];
    unsigned char ct[256];
    char key_id[17];
    char aad[64];
} sealed_buf;

static sealed_buf sealed_pool[16];
static int sealed_used;

static Aistudio__V1__SealedValue *seal_value(const gw_secret_key *k, const char *aad, const char *value)
{
    sealed_buf *b = &sealed_pool[sealed_used++];
    size_t len = strlen(value);
    aistudio__v1__sealed_value__init(&b->sv);
    for (int i = 0; i < 12; i++)
        b->nonce[i] = (unsigned char)(sealed_used * 16 + i);
    test_seal(k->key, b->nonce, aad, (const unsigned char *)value, len, b->ct);
    snprintf(b->key_id, sizeof(b->key_id), "%s", k->key_id);
    snprintf(b->aad, sizeof(b->aad), "%s", aad);
    b->sv.key_id = b->key_id;
    b->sv.nonce.data = b->nonce;
    b->sv.nonce.len = 12;
    b->sv.ciphertext.data = b->ct;
    b->sv.ciphertext.len = len + 16;
    b->sv.aad = b->aad;
    return &b->sv;
}

typedef struct fixture {
    Aistudio__V1__Snapshot snap;
    Aistudio__V1__Llm llm[9];
    Aistudio__V1__Llm *llmp[9];
    Aistudio__V1__ModelPrice price[5];
    Aistudio__V1__ModelPrice *pricep[5];
    Aistudio__V1__App app[2];
    Aistudio__V1__App *appp[2];
    Aistudio__V1__Secret secret[1];
    Aistudio__V1__Secret *secretp[1];
    char *secret_hosts[2];
    char *openai_allowed[3];
    char *bad_allowed[1];
    int64_t app_llms[3];
} fixture;

static void llm_init(Aistudio__V1__Llm *l, int64_t id, const char *name, const char *slug, const char *vendor)
{
    aistudio__v1__llm__init(l);
    l->id = id;
    l->name = (char *)name;
    l->slug = (char *)slug;
    l->vendor = (char *)vendor;
    l->api_endpoint = (char *)"https://api.example.test";
    l->active = 1;
}

static void price_init(Aistudio__V1__ModelPrice *p, int64_t id, const char *vendor, const char *model,
                       const char *in, const char *out)
{
    aistudio__v1__model_price__init(p);
    p->id = id;
    p->vendor = (char *)vendor;
    p->model_name = (char *)model;
    p->input_per_mtok = (char *)in;
    p->output_per_mtok = (char *)out;
    p->currency = (char *)"USD";
}

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof(*f));
    aistudio__v1__snapshot__init(&f->snap);
    f->snap.format_version = 1;
    f->snap.namespace_ = (char *)"";

    llm_init(&f->llm[0], 1, "OpenAI Main", "openai-main", "openai");
    f->llm[0].api_key = seal_value(&key, "llm:1", "sk-openai-literal");
    f->llm[0].api_key_version = 1;
    f->openai_allowed[0] = (char *)"^gpt-4o";
    f->openai_allowed[1] = (char *)"^o1$";
    f->openai_allowed[2] = (char *)"turbo-instruct"; /* unanchored: matches anywhere */
    f->llm[0].allowed_models = f->openai_allowed;
    f->llm[0].n_allowed_models = 3;
    f->llm[0].default_model = (char *)"gpt-4o";

    llm_init(&f->llm[1], 2, "Anthropic", "anthropic", "anthropic");
    f->llm[1].api_key_ref = (char *)"$SECRET/ANTHROPIC_KEY";

    llm_init(&f->llm[2], 3, "Local Ollama", "local-ollama", "ollama");
    f->llm[2].active = 0;

    llm_init(&f->llm[3], 4, "Broken Ref", "broken-ref", "openai");
    f->llm[3].api_key_ref = (char *)"$SECRET/MISSING";

    llm_init(&f->llm[4], 5, "Bad Regex", "bad-regex", "openai");
    f->bad_allowed[0] = (char *)"(unclosed";
    f->llm[4].allowed_models = f->bad_allowed;
    f->llm[4].n_allowed_models = 1;

    llm_init(&f->llm[5], 6, "Wrong Key", "wrong-key", "openai");
    f->llm[5].api_key = seal_value(&other_key, "llm:6", "sk-under-another-master-key");

    llm_init(&f->llm[6], 7, "Env Ref", "env-ref", "openai");
    f->llm[6].api_key_ref = (char *)"$ENV/OPENAI_KEY";

    /* LLM 1's sealed key copied onto LLM 8 (aad says llm:1) */
    llm_init(&f->llm[7], 8, "Moved Key", "moved-key", "openai");
    f->llm[7].api_key = seal_value(&key, "llm:1", "sk-moved");
    /* sealed for llm:1, the message claims llm:9 */
    llm_init(&f->llm[8], 9, "Forged AAD", "forged-aad", "openai");
    f->llm[8].api_key = seal_value(&key, "llm:1", "sk-forged");
    snprintf(sealed_pool[sealed_used - 1].aad, sizeof(sealed_pool[0].aad), "llm:9");

    for (int i = 0; i < 9; i++)
        f->llmp[i] = &f->llm[i];
    f->snap.llms = f->llmp;
    f->snap.n_llms = 9;

    aistudio__v1__secret__init(&f->secret[0]);
    f->secret[0].id = 1;
    f->secret[0].name = (char *)"ANTHROPIC_KEY";
    f->secret[0].value = seal_value(&key, "secret:ANTHROPIC_KEY", "sk-ant-from-secret");
    f->secret[0].version = 3;
    f->secret[0].allowed_hosts = f->secret_hosts;
    f->secret[0].n_allowed_hosts = 2;
    f->secret_hosts[0] = (char *)"api.anthropic.com:443";
    f->secret_hosts[1] = (char *)"[::1]";
    f->secretp[0] = &f->secret[0];
    f->snap.secrets = f->secretp;
    f->snap.n_secrets = 1;

    price_init(&f->price[0], 1, "openai", "gpt-4o", "2.5", "10");
    price_init(&f->price[1], 2, "openai", "gpt-4o-mini", "0.15", "0.6");
    price_init(&f->price[2], 3, "openai", "gpt-4", "30", "60");
    price_init(&f->price[3], 4, "anthropic", "claude-3-5-sonnet", "3", "15");
    f->price[3].cache_write_per_mtok = (char *)"3.75";
    f->price[3].cache_read_per_mtok = (char *)"0.3";
    price_init(&f->price[4], 5, "anthropic", "gpt-4o", "99", "99");
    for (int i = 0; i < 5; i++)
        f->pricep[i] = &f->price[i];
    f->snap.prices = f->pricep;
    f->snap.n_prices = 5;

    aistudio__v1__app__init(&f->app[0]);
    f->app[0].id = 10;
    f->app[0].name = (char *)"chatbot";
    f->app[0].owner_id = 100;
    f->app_llms[0] = 3;
    f->app_llms[1] = 1;
    f->app[0].llm_ids = f->app_llms;
    f->app[0].n_llm_ids = 2;
    f->app[0].active = 1;
    aistudio__v1__app__init(&f->app[1]);
    f->app[1].id = 11;
    f->app[1].name = (char *)"disabled";
    f->app[1].active = 0;
    f->appp[0] = &f->app[0];
    f->appp[1] = &f->app[1];
    f->snap.apps = f->appp;
    f->snap.n_apps = 2;
}

static uint8_t *pack(const Aistudio__V1__Snapshot *s, size_t *len)
{
    uint8_t *buf;
    *len = aistudio__v1__snapshot__get_packed_size(s);
    buf = malloc(*len + 1);
    aistudio__v1__snapshot__pack(s, buf);
    return buf;
}

/* ---- concurrent readers vs swaps ---- */
static gw_snapshot_holder holder;
static atomic_int stop_readers;
static atomic_long reads;

static void *reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_readers)) {
        gw_snapshot *s = gw_snapshot_current(&holder);
        if (s != NULL) {
            const gw_llm *l = gw_snapshot_llm_by_slug(s, "openai-main");
            if (l == NULL || strcmp(l->api_key, "sk-openai-literal") != 0)
                abort();
            gw_snapshot_release(s);
            atomic_fetch_add(&reads, 1);
        }
    }
    return NULL;
}

int main(void)
{
    fixture f;
    uint8_t *bytes, *bytes2;
    size_t len, len2;
    gw_snapshot *s, *s2, *held;
    char err[GW_ERR_LEN];
    int kerr = -1;
    const gw_llm *l;
    const gw_price *p;
    const gw_app *a;

    gw_log_set_level(GW_LOG_ERROR); /* the bad regex warns */
    gw_secretbox_key_from_hex(&key, KEY_HEX, 64, err);
    gw_secretbox_key_from_hex(&other_key, OTHER_HEX, 64, err);
    fixture_init(&f);
    bytes = pack(&f.snap, &len);

    ok(gw_snapshot_build(bytes, len, "abc123", &key, 1, &s, &kerr, err) == 0, "snapshot builds");
    is_str(gw_snapshot_checksum(s), "abc123", "checksum kept as given");
    is_int(gw_snapshot_llm_count(s), 9, "9 llms");
    is_int(kerr, 5, "5 vendor keys unavailable (missing secret, other master key, $ENV ref, moved, forged AAD)");

    /* slugs and ids */
    l = gw_snapshot_llm_by_slug(s, "openai-main");
    ok(l != NULL && l->id == 1 && strcmp(l->name, "OpenAI Main") == 0, "lookup by slug");
    ok(gw_snapshot_llm_by_slug(s, "nope") == NULL && gw_snapshot_llm_by_slug(s, "") == NULL, "unknown slug -> NULL");
    ok(gw_snapshot_llm_by_id(s, 2) == gw_snapshot_llm_by_slug(s, "anthropic"), "lookup by id");
    ok(gw_snapshot_llm_by_id(s, 999) == NULL, "unknown id -> NULL");

    /* vendor keys */
    ok(l->key_state == GW_KEY_OK && strcmp(l->api_key, "sk-openai-literal") == 0 && l->api_key_len == 17,
       "literal sealed key opened");
    l = gw_snapshot_llm_by_slug(s, "anthropic");
    ok(l->key_state == GW_KEY_OK && strcmp(l->api_key, "sk-ant-from-secret") == 0, "$SECRET/Name key opened");
    ok(l->key_secret != NULL && strcmp(l->key_secret, "ANTHROPIC_KEY") == 0, "the key is marked as a secret");
    ok(l->n_key_hosts == 2 && strcmp(l->key_hosts[0], "api.anthropic.com:443") == 0 &&
           strcmp(l->key_hosts[1], "[::1]") == 0,
       "the secret's allowed hosts come with it");
    ok(gw_snapshot_llm_by_slug(s, "openai-main")->key_secret == NULL &&
           gw_snapshot_llm_by_slug(s, "openai-main")->n_key_hosts == 0,
       "a literal key has no host list");
    l = gw_snapshot_llm_by_slug(s, "local-ollama");
    ok(l->key_state == GW_KEY_NONE && l->api_key == NULL && !l->active, "no key, inactive flag kept");
    l = gw_snapshot_llm_by_slug(s, "broken-ref");
    ok(l->key_state == GW_KEY_UNAVAILABLE, "missing secret -> key unavailable");
    has_str(l->key_error, "MISSING", "key error names the secret");
    l = gw_snapshot_llm_by_slug(s, "wrong-key");
    ok(l->key_state == GW_KEY_UNAVAILABLE && l->api_key == NULL, "other master key -> unavailable");
    has_str(l->key_error, "key id", "key error mentions the key id");
    lacks_str(l->key_error, "sk-under", "key error contains no plaintext");
    l = gw_snapshot_llm_by_slug(s, "moved-key");
    ok(l->key_state == GW_KEY_UNAVAILABLE && l->api_key == NULL, "a sealed key moved to another llm does not open");
    has_str(l->key_error, "another object", "error says it belongs to another object");
    l = gw_snapshot_llm_by_slug(s, "forged-aad");
    ok(l->key_state == GW_KEY_UNAVAILABLE && l->api_key == NULL, "a forged AAD field does not help");
    l = gw_snapshot_llm_by_slug(s, "env-ref");
    ok(l->key_state == GW_KEY_UNAVAILABLE, "unsupported reference form -> unavailable");

    /* allowed models */
    l = gw_snapshot_llm_by_slug(s, "openai-main");
    ok(gw_llm_model_allowed(l, "gpt-4o"), "gpt-4o allowed by ^gpt-4o");
    ok(gw_llm_model_allowed(l, "gpt-4o-mini-2024-07-18"), "gpt-4o-mini-2024-07-18 allowed");
    ok(gw_llm_model_allowed(l, "o1"), "o1 allowed");
    ok(!gw_llm_model_allowed(l, "o1-preview"), "o1-preview refused by ^o1$");
    ok(!gw_llm_model_allowed(l, "my-gpt-4o"), "my-gpt-4o refused by ^gpt-4o");
    ok(!gw_llm_model_allowed(l, "gpt-3.5-turbo"), "gpt-3.5-turbo refused");
    ok(gw_llm_model_allowed(l, "gpt-3.5-turbo-instruct-0914"), "unanchored pattern matches inside the name (like ~)");
    ok(!gw_llm_model_allowed(l, "o1\nextra"), "embedded newline does not sneak past $");
    ok(!gw_llm_model_allowed(l, "") && !gw_llm_model_allowed(l, NULL), "empty/NULL model refused");
    {
        char longname[GW_MODEL_NAME_MAX + 10];
        memset(longname, 'a', sizeof(longname) - 1);
        memcpy(longname, "gpt-4o", 6);
        longname[sizeof(longname) - 1] = '\0';
        ok(!gw_llm_model_allowed(l, longname), "overlong model name refused");
    }
    ok(gw_llm_model_allowed(gw_snapshot_llm_by_slug(s, "anthropic"), "anything-at-all"), "no patterns: any model");
    ok(!gw_llm_model_allowed(gw_snapshot_llm_by_slug(s, "bad-regex"), "x"), "invalid pattern: no model (fail closed)");

    /* prices: longest prefix */
    p = gw_snapshot_price(s, "openai", "gpt-4o");
    ok(p != NULL && strcmp(p->input_per_mtok, "2.5") == 0, "exact price gpt-4o");
    p = gw_snapshot_price(s, "openai", "gpt-4o-mini-2024-07-18");
    ok(p != NULL && strcmp(p->model_name, "gpt-4o-mini") == 0, "gpt-4o-mini-2024-07-18 -> gpt-4o-mini");
    p = gw_snapshot_price(s, "openai", "gpt-4o-2024-08-06");
    ok(p != NULL && strcmp(p->model_name, "gpt-4o") == 0, "gpt-4o-2024-08-06 -> gpt-4o");
    p = gw_snapshot_price(s, "openai", "gpt-4-turbo");
    ok(p != NULL && strcmp(p->model_name, "gpt-4") == 0, "gpt-4-turbo -> gpt-4");
    ok(gw_snapshot_price(s, "openai", "gpt-3.5-turbo") == NULL, "no matching prefix -> NULL");
    ok(gw_snapshot_price(s, "openai", "gpt") == NULL, "a shorter name than every price -> NULL");
    p = gw_snapshot_price(s, "anthropic", "gpt-4o");
    ok(p != NULL && strcmp(p->input_per_mtok, "99") == 0, "prices are per vendor");
    ok(gw_snapshot_price(s, "vertex", "gpt-4o") == NULL, "unknown vendor -> NULL");
    p = gw_snapshot_price(s, "anthropic", "claude-3-5-sonnet-20241022");
    ok(p != NULL && strcmp(p->cache_write_per_mtok, "3.75") == 0 && strcmp(p->cache_read_per_mtok, "0.3") == 0,
       "cache prices kept");
    p = gw_snapshot_price(s, "openai", "gpt-4o");
    ok(strcmp(p->cache_read_per_mtok, "2.5") == 0 && strcmp(p->cache_write_per_mtok, "2.5") == 0,
       "empty cache price means the input price");

    /* apps */
    a = gw_snapshot_app_by_id(s, 10);
    ok(a != NULL && strcmp(a->name, "chatbot") == 0 && a->owner_id == 100 && a->active, "app by id");
    ok(gw_app_allows_llm(a, 1) && gw_app_allows_llm(a, 3) && !gw_app_allows_llm(a, 2), "app llm membership");
    ok(gw_snapshot_app_by_id(s, 11) != NULL && !gw_snapshot_app_by_id(s, 11)->active, "inactive app kept");
    ok(gw_snapshot_app_by_id(s, 99) == NULL, "unknown app -> NULL");

    /* without a master key: keys unavailable, snapshot still builds */
    ok(gw_snapshot_build(bytes, len, NULL, NULL, 0, &s2, &kerr, err) == 0 && kerr == 7,
       "no master key: builds, every sealed key unavailable");
    has_str(gw_snapshot_llm_by_slug(s2, "openai-main")->key_error, "no master key", "error says no master key");
    gw_snapshot_release(s2);

    /* bad snapshots */
    ok(gw_snapshot_build((const uint8_t *)"\xff\xff\xff", 3, NULL, &key, 1, &s2, NULL, err) != 0,
       "garbage bytes rejected");
    has_str(err, "not a valid", "error says the bytes are invalid");
    f.snap.format_version = 99;
    bytes2 = pack(&f.snap, &len2);
    ok(gw_snapshot_build(bytes2, len2, NULL, &key, 1, &s2, NULL, err) != 0, "future format_version rejected");
    has_str(err, "format_version 99", "error names the version");
    free(bytes2);
    f.snap.format_version = 1;
    f.llm[1].slug = (char *)"openai-main";
    bytes2 = pack(&f.snap, &len2);
    ok(gw_snapshot_build(bytes2, len2, NULL, &key, 1, &s2, NULL, err) != 0, "duplicate slug rejected");
    has_str(err, "openai-main", "error names the slug");
    free(bytes2);
    f.llm[1].slug = (char *)"anthropic";
    {
        Aistudio__V1__Snapshot empty;
        aistudio__v1__snapshot__init(&empty);
        bytes2 = pack(&empty, &len2);
        ok(gw_snapshot_build(bytes2, len2, "", &key, 1, &s2, NULL, err) == 0 && gw_snapshot_llm_count(s2) == 0 &&
               gw_snapshot_llm_by_slug(s2, "x") == NULL && gw_snapshot_price(s2, "openai", "gpt-4o") == NULL &&
               gw_snapshot_app_by_id(s2, 1) == NULL,
           "empty snapshot builds and answers lookups");
        gw_snapshot_release(s2);
        free(bytes2);
    }

    /* reference-counted swap */
    gw_snapshot_holder_init(&holder);
    ok(gw_snapshot_current(&holder) == NULL, "empty holder -> NULL");
    gw_snapshot_swap(&holder, s); /* holder owns s now */
    held = gw_snapshot_current(&holder);
    ok(held == s, "current returns the installed snapshot");
    ok(gw_snapshot_build(bytes, len, "second", &key, 1, &s2, NULL, err) == 0, "second snapshot builds");
    gw_snapshot_swap(&holder, s2);
    l = gw_snapshot_llm_by_slug(held, "openai-main");
    ok(l != NULL && strcmp(l->api_key, "sk-openai-literal") == 0,
       "old snapshot still usable by its holder after the swap");
    gw_snapshot_release(held); /* frees the old one (ASan checks use-after-free) */
    held = gw_snapshot_current(&holder);
    is_str(gw_snapshot_checksum(held), "second", "current is the new snapshot");
    gw_snapshot_release(held);

    /* readers racing swaps */
    {
        pthread_t th[4];
        int swaps_ok = 1;
        atomic_store(&stop_readers, 0);
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, reader, NULL);
        for (int i = 0; i < 300; i++) {
            gw_snapshot *n;
            if (gw_snapshot_build(bytes, len, "x", &key, 1, &n, NULL, err) != 0) {
                swaps_ok = 0;
                break;
            }
            gw_snapshot_swap(&holder, n);
        }
        usleep(20000);
        atomic_store(&stop_readers, 1);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        ok(swaps_ok && atomic_load(&reads) > 0, "300 swaps under 4 concurrent readers, no use-after-free (%ld reads)",
           atomic_load(&reads));
    }
    gw_snapshot_holder_destroy(&holder);
    free(bytes);
    return tap_done();
}
