/*
 * src/model/snapshot.c: building, indexing, querying and swapping the
 * in-memory configuration snapshot (see snapshot.h).
 *
 * Locking protocol: a built snapshot is never modified, so readers need no
 * lock. Its refcount is atomic. The holder's mutex protects only the `cur`
 * pointer: gw_snapshot_current() takes the mutex, bumps the refcount and
 * returns; gw_snapshot_swap() exchanges the pointer under the mutex and
 * releases the old reference after unlocking. A reader can therefore never
 * see a snapshot whose count already dropped to zero.
 *
 * Strings in gw_llm/gw_app/gw_price point into the unpacked protobuf
 * message, which the snapshot owns. Indexes are open-addressing tables of
 * (index + 1), sized to a power of two at least twice the entry count.
 */
#include "model/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "aistudio/v1/snapshot.pb-c.h"
#include "base/log.h"

#define GW_SECRET_REF_PREFIX "$SECRET/"

typedef struct gw_index {
    uint32_t *slots; /* entry index + 1; 0 = empty */
    size_t mask;
} gw_index;

struct gw_snapshot {
    atomic_int refs;
    Aistudio__V1__Snapshot *msg;
    char checksum[GW_CHECKSUM_HEX_LEN + 1];
    gw_llm *llms;
    size_t n_llms;
    gw_app *apps;
    size_t n_apps;
    gw_price *prices;
    size_t n_prices;
    gw_vendor *vendors; /* sorted by name (strcmp) */
    size_t n_vendors;
    gw_filter_def *filters; /* sorted by id (the message's order) */
    size_t n_filters;
    gw_plugin_def *plugins; /* sorted by id */
    size_t n_plugins;
    _Atomic(void *) ext[GW_SNAP_EXT_COUNT];
    gw_snapshot_ext_free_fn ext_free[GW_SNAP_EXT_COUNT];
    gw_index llm_slug_idx;
    gw_index llm_id_idx;
    gw_index app_id_idx;
    gw_index price_idx;
};

/* ---- hashing ---- */

#define GW_FNV_OFFSET 1469598103934665603ULL
#define GW_FNV_PRIME 1099511628211ULL

static uint64_t gw_fnv_step(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= GW_FNV_PRIME;
    }
    return h;
}

static uint64_t gw_hash_str(const char *s)
{
    return gw_fnv_step(GW_FNV_OFFSET, s, strlen(s));
}

static uint64_t gw_hash_id(int64_t id)
{
    uint64_t x = (uint64_t)id + 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Hash of a price key: vendor, a NUL separator, then the model prefix. */
static uint64_t gw_hash_vendor(const char *vendor)
{
    return gw_fnv_step(gw_hash_str(vendor), "", 1);
}

static int gw_index_init(gw_index *ix, size_t n)
{
    size_t size = 8;
    while (size < 2 * n)
        size *= 2;
    ix->slots = calloc(size, sizeof(uint32_t));
    ix->mask = size - 1;
    return ix->slots != NULL ? 0 : -1;
}

static void gw_index_put(gw_index *ix, uint64_t h, size_t entry)
{
    size_t i = (size_t)h & ix->mask;
    while (ix->slots[i] != 0)
        i = (i + 1) & ix->mask;
    ix->slots[i] = (uint32_t)(entry + 1);
}

/* ---- build ---- */

static void gw_llm_free(gw_llm *l)
{
    if (l->api_key != NULL)
        gw_secretbox_free(l->api_key, l->api_key_len);
    l->api_key = NULL;
    for (size_t i = 0; i < l->n_allowed; i++)
        aistudio_pattern_free(l->allowed[i]);
    free(l->allowed);
    l->allowed = NULL;
}

static void gw_snapshot_free(gw_snapshot *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < GW_SNAP_EXT_COUNT; i++) {
        void *v = atomic_load(&s->ext[i]);
        if (v != NULL && s->ext_free[i] != NULL)
            s->ext_free[i](v);
    }
    for (size_t i = 0; s->llms != NULL && i < s->n_llms; i++)
        gw_llm_free(&s->llms[i]);
    for (size_t i = 0; s->apps != NULL && i < s->n_apps; i++)
        free(s->apps[i].llm_ids);
    free(s->llms);
    free(s->apps);
    free(s->vendors);
    free(s->prices);
    free(s->filters);
    free(s->plugins);
    free(s->llm_slug_idx.slots);
    free(s->llm_id_idx.slots);
    free(s->app_id_idx.slots);
    free(s->price_idx.slots);
    if (s->msg != NULL)
        aistudio__v1__snapshot__free_unpacked(s->msg, NULL);
    free(s);
}

static int gw_sealed_present(const Aistudio__V1__SealedValue *v)
{
    return v != NULL && v->ciphertext.len > 0;
}

/* Opens the LLM's vendor key; failures are recorded on the LLM. */
static void gw_llm_open_key(gw_llm *l, const Aistudio__V1__Llm *m, const Aistudio__V1__Snapshot *msg,
                            const gw_secret_key *keys, int nkeys)
{
    const Aistudio__V1__SealedValue *sealed = NULL;
    char oerr[GW_ERR_LEN];
    char aad[160];
    const char *what = "literal key";

    if (m->api_key_ref != NULL && m->api_key_ref[0] != '\0') {
        const char *name;
        if (strncmp(m->api_key_ref, GW_SECRET_REF_PREFIX, strlen(GW_SECRET_REF_PREFIX)) != 0) {
            l->key_state = GW_KEY_UNAVAILABLE;
            snprintf(l->key_error, sizeof(l->key_error), "api key reference is not of the form $SECRET/Name");
            return;
        }
        name = m->api_key_ref + strlen(GW_SECRET_REF_PREFIX);
        for (size_t i = 0; i < msg->n_secrets; i++) {
            if (msg->secrets[i]->name != NULL && strcmp(msg->secrets[i]->name, name) == 0) {
                sealed = msg->secrets[i]->value;
                /* where its value may go (checked before each upstream call) */
                l->key_secret = msg->secrets[i]->name;
                l->key_hosts = (const char *const *)msg->secrets[i]->allowed_hosts;
                l->n_key_hosts = msg->secrets[i]->n_allowed_hosts;
                break;
            }
        }
        if (!gw_sealed_present(sealed)) {
            l->key_state = GW_KEY_UNAVAILABLE;
            snprintf(l->key_error, sizeof(l->key_error), "secret '%.128s' is not in the snapshot", name);
            return;
        }
        what = "secret";
        snprintf(aad, sizeof(aad), "secret:%s", name);
    } else if (gw_sealed_present(m->api_key)) {
        sealed = m->api_key;
        snprintf(aad, sizeof(aad), "llm:%lld", (long long)m->id);
    } else {
        l->key_state = GW_KEY_NONE;
        return;
    }

    /* The AAD binds a value to its object. It is computed here, not taken
     * from the message, so a sealed value moved to another LLM or secret
     * never opens; a message claiming another AAD is refused outright. */
    if (sealed->aad != NULL && sealed->aad[0] != '\0' && strcmp(sealed->aad, aad) != 0) {
        l->key_state = GW_KEY_UNAVAILABLE;
        snprintf(l->key_error, sizeof(l->key_error), "the %s is sealed for another object", what);
        return;
    }
    if (gw_secretbox_open_alloc(keys, nkeys, sealed->key_id, sealed->nonce.data, sealed->nonce.len,
                                sealed->ciphertext.data, sealed->ciphertext.len, aad, &l->api_key, &l->api_key_len,
                                oerr) != 0) {
        l->key_state = GW_KEY_UNAVAILABLE;
        snprintf(l->key_error, sizeof(l->key_error), "cannot open the %s: %.200s", what, oerr);
        return;
    }
    l->key_state = GW_KEY_OK;
}

/* Compiles the allowed-model patterns with the extension's pattern module
 * (the same code that validated them when they were stored). */
static int gw_llm_compile_allowed(gw_llm *l, const Aistudio__V1__Llm *m)
{
    if (m->n_allowed_models == 0)
        return 0;
    l->allowed = calloc(m->n_allowed_models, sizeof(*l->allowed));
    if (l->allowed == NULL)
        return -1;
    for (size_t i = 0; i < m->n_allowed_models; i++) {
        const char *pat = m->allowed_models[i];
        char perr[AISTUDIO_PATTERN_ERR_LEN];
        if (aistudio_pattern_compile(pat, strlen(pat), &l->allowed[l->n_allowed], perr) != 0) {
            /* the extension refuses such a pattern: only a table edited by
             * hand gets here */
            gw_log_warn("llm '%s': allowed model pattern %zu does not compile (%s); no model is allowed", l->slug,
                        i + 1, perr);
            l->allowed_invalid = 1;
            continue;
        }
        l->n_allowed++;
    }
    return 0;
}

static int gw_cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static const char *gw_nz(const char *s)
{
    return s != NULL ? s : "";
}

static int gw_snapshot_index(gw_snapshot *s, char *err)
{
    if (gw_index_init(&s->llm_slug_idx, s->n_llms) != 0 || gw_index_init(&s->llm_id_idx, s->n_llms) != 0 ||
        gw_index_init(&s->app_id_idx, s->n_apps) != 0 || gw_index_init(&s->price_idx, s->n_prices) != 0)
        return gw_errf(err, "out of memory");
    for (size_t i = 0; i < s->n_llms; i++) {
        const gw_llm *l = &s->llms[i];
        if (l->slug[0] == '\0')
            return gw_errf(err, "snapshot: llm %lld has an empty slug", (long long)l->id);
        if (gw_snapshot_llm_by_slug(s, l->slug) != NULL)
            return gw_errf(err, "snapshot: llm slug '%.128s' appears twice", l->slug);
        gw_index_put(&s->llm_slug_idx, gw_hash_str(l->slug), i);
        if (gw_snapshot_llm_by_id(s, l->id) == NULL)
            gw_index_put(&s->llm_id_idx, gw_hash_id(l->id), i);
    }
    for (size_t i = 0; i < s->n_apps; i++)
        if (gw_snapshot_app_by_id(s, s->apps[i].id) == NULL)
            gw_index_put(&s->app_id_idx, gw_hash_id(s->apps[i].id), i);
    for (size_t i = 0; i < s->n_prices; i++) {
        const gw_price *p = &s->prices[i];
        uint64_t h = gw_fnv_step(gw_hash_vendor(p->vendor), p->model_name, strlen(p->model_name));
        gw_index_put(&s->price_idx, h, i);
    }
    return 0;
}

static int gw_cmp_vendor(const void *a, const void *b)
{
    return strcmp(((const gw_vendor *)a)->name, ((const gw_vendor *)b)->name);
}

int gw_snapshot_build(const uint8_t *bytes, size_t len, const char *checksum, const gw_secret_key *keys, int nkeys,
                      gw_snapshot **out, int *key_errors, char err[GW_ERR_LEN])
{
    gw_snapshot *s;
    Aistudio__V1__Snapshot *msg;
    int nkerr = 0;

    *out = NULL;
    if (key_errors != NULL)
        *key_errors = 0;
    if (len > GW_SNAPSHOT_MAX_BYTES)
        return gw_errf(err, "snapshot is %zu bytes, more than the %u allowed", len, GW_SNAPSHOT_MAX_BYTES);
    if (len >= (size_t)UINT32_MAX)
        return gw_errf(err, "snapshot too large");
    msg = aistudio__v1__snapshot__unpack(NULL, len, bytes);
    if (msg == NULL)
        return gw_errf(err, "snapshot bytes are not a valid aistudio.v1.Snapshot message");
    if (msg->format_version > GW_SNAPSHOT_FORMAT_MAX) {
        unsigned v = msg->format_version;
        aistudio__v1__snapshot__free_unpacked(msg, NULL);
        return gw_errf(err, "snapshot format_version %u is newer than this gateway understands (%d)", v,
                       GW_SNAPSHOT_FORMAT_MAX);
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        aistudio__v1__snapshot__free_unpacked(msg, NULL);
        return gw_errf(err, "out of memory");
    }
    atomic_init(&s->refs, 1);
    s->msg = msg;
    if (checksum != NULL)
        snprintf(s->checksum, sizeof(s->checksum), "%s", checksum);

    s->llms = calloc(msg->n_llms + 1, sizeof(gw_llm));
    s->apps = calloc(msg->n_apps + 1, sizeof(gw_app));
    s->prices = calloc(msg->n_prices + 1, sizeof(gw_price));
    s->vendors = calloc(msg->n_vendors + 1, sizeof(gw_vendor));
    s->filters = calloc(msg->n_filters + 1, sizeof(gw_filter_def));
    s->plugins = calloc(msg->n_plugins + 1, sizeof(gw_plugin_def));
    if (s->llms == NULL || s->apps == NULL || s->prices == NULL || s->vendors == NULL || s->filters == NULL ||
        s->plugins == NULL)
        goto oom;

    for (size_t i = 0; i < msg->n_vendors; i++) {
        const Aistudio__V1__Vendor *m = msg->vendors[i];
        gw_vendor *v = &s->vendors[i];
        const char *ah = gw_nz(m->auth_header);
        v->name = gw_nz(m->name);
        v->wire_format = gw_nz(m->wire_format);
        v->key_header = strcmp(ah, "x-api-key") == 0        ? GW_KEY_HEADER_X_API_KEY
                        : strcmp(ah, "x-goog-api-key") == 0 ? GW_KEY_HEADER_GOOG_API_KEY
                                                            : GW_KEY_HEADER_BEARER;
        v->key_required = m->key_required ? 1 : 0;
        v->prompt_includes_cache_reads = m->prompt_includes_cache_reads ? 1 : 0;
        s->n_vendors = i + 1;
    }
    qsort(s->vendors, s->n_vendors, sizeof(gw_vendor), gw_cmp_vendor);

    for (size_t i = 0; i < msg->n_llms; i++) {
        const Aistudio__V1__Llm *m = msg->llms[i];
        gw_llm *l = &s->llms[i];
        s->n_llms = i + 1;
        l->id = m->id;
        l->name = gw_nz(m->name);
        l->slug = gw_nz(m->slug);
        l->vendor = gw_nz(m->vendor);
        l->vendor_def = gw_snapshot_vendor(s, l->vendor);
        l->api_endpoint = gw_nz(m->api_endpoint);
        l->default_model = gw_nz(m->default_model);
        l->namespace_ = gw_nz(m->namespace_);
        l->monthly_budget = gw_nz(m->monthly_budget);
        l->monthly_budget_nanos = m->monthly_budget_nanos;
        l->rate_limit_rpm = m->rate_limit_rpm > 0 ? m->rate_limit_rpm : 0;
        l->rate_limit_tpm = m->rate_limit_tpm > 0 ? m->rate_limit_tpm : 0;
        l->capture_bodies = m->capture_bodies ? 1 : 0;
        l->capture_max_bytes = m->capture_max_bytes > 0 && m->capture_max_bytes <= GW_CAPTURE_MAX_BYTES
                                   ? m->capture_max_bytes
                                   : 0; /* 0: nothing captured (no cap came) */
        l->budget_start_date = gw_nz(m->budget_start_date);
        l->active = m->active ? 1 : 0;
        l->idx = i;
        l->filter_ids = m->filter_ids;
        l->n_filter_ids = m->n_filter_ids;
        l->filter_positions = m->n_filter_positions == m->n_filter_ids ? m->filter_positions : NULL;
        l->plugin_ids = m->plugin_ids;
        l->n_plugin_ids = m->n_plugin_ids;
        l->plugin_positions = m->n_plugin_positions == m->n_plugin_ids ? m->plugin_positions : NULL;
        l->plugin_fail_open = m->n_plugin_fail_open == m->n_plugin_ids ? m->plugin_fail_open : NULL;
        gw_llm_open_key(l, m, msg, keys, nkeys);
        if (l->key_state == GW_KEY_UNAVAILABLE)
            nkerr++;
        if (gw_llm_compile_allowed(l, m) != 0)
            goto oom;
    }
    for (size_t i = 0; i < msg->n_apps; i++) {
        const Aistudio__V1__App *m = msg->apps[i];
        gw_app *a = &s->apps[i];
        s->n_apps = i + 1;
        a->id = m->id;
        a->name = gw_nz(m->name);
        a->owner_id = m->owner_id;
        a->monthly_budget = gw_nz(m->monthly_budget);
        a->monthly_budget_nanos = m->monthly_budget_nanos;
        a->rate_limit_rpm = m->rate_limit_rpm > 0 ? m->rate_limit_rpm : 0;
        a->rate_limit_tpm = m->rate_limit_tpm > 0 ? m->rate_limit_tpm : 0;
        a->budget_start_date = gw_nz(m->budget_start_date);
        a->namespace_ = gw_nz(m->namespace_);
        a->active = m->active ? 1 : 0;
        a->llm_ids = malloc((m->n_llm_ids + 1) * sizeof(int64_t));
        if (a->llm_ids == NULL)
            goto oom;
        if (m->n_llm_ids > 0)
            memcpy(a->llm_ids, m->llm_ids, m->n_llm_ids * sizeof(int64_t));
        a->n_llm_ids = m->n_llm_ids;
        qsort(a->llm_ids, a->n_llm_ids, sizeof(int64_t), gw_cmp_int64);
    }
    for (size_t i = 0; i < msg->n_prices; i++) {
        const Aistudio__V1__ModelPrice *m = msg->prices[i];
        gw_price *p = &s->prices[i];
        s->n_prices = i + 1;
        p->id = m->id;
        p->vendor = gw_nz(m->vendor);
        p->model_name = gw_nz(m->model_name);
        p->input_per_mtok = gw_nz(m->input_per_mtok);
        p->output_per_mtok = gw_nz(m->output_per_mtok);
        p->cache_write_per_mtok = m->cache_write_per_mtok != NULL && m->cache_write_per_mtok[0] != '\0'
                                      ? m->cache_write_per_mtok
                                      : p->input_per_mtok;
        p->cache_read_per_mtok = m->cache_read_per_mtok != NULL && m->cache_read_per_mtok[0] != '\0'
                                     ? m->cache_read_per_mtok
                                     : p->input_per_mtok;
        p->currency = gw_nz(m->currency);
        p->input_nanos = m->input_nanos_per_mtok;
        p->output_nanos = m->output_nanos_per_mtok;
        p->cache_write_nanos = m->cache_write_nanos_per_mtok;
        p->cache_read_nanos = m->cache_read_nanos_per_mtok;
    }
    for (size_t i = 0; i < msg->n_filters; i++) {
        const Aistudio__V1__Filter *m = msg->filters[i];
        gw_filter_def *f = &s->filters[s->n_filters];
        if (s->n_filters > 0 && m->id <= s->filters[s->n_filters - 1].id)
            continue; /* sorted by id (snapshot.proto); a repeat is ignored */
        s->n_filters++;
        f->id = m->id;
        f->name = gw_nz(m->name);
        f->filter_type = gw_nz(m->filter_type);
        f->stage = gw_nz(m->stage);
        f->config_json = m->config_json != NULL && m->config_json[0] != '\0' ? m->config_json : "{}";
        f->namespace_ = gw_nz(m->namespace_);
        f->active = m->active ? 1 : 0;
    }
    for (size_t i = 0; i < msg->n_plugins; i++) {
        const Aistudio__V1__Plugin *m = msg->plugins[i];
        gw_plugin_def *p = &s->plugins[s->n_plugins];
        if (s->n_plugins > 0 && m->id <= s->plugins[s->n_plugins - 1].id)
            continue;
        s->n_plugins++;
        p->id = m->id;
        p->name = gw_nz(m->name);
        p->plugin_type = gw_nz(m->plugin_type);
        p->hook = gw_nz(m->hook);
        p->command = gw_nz(m->command);
        p->config_json = m->config_json != NULL && m->config_json[0] != '\0' ? m->config_json : "{}";
        p->namespace_ = gw_nz(m->namespace_);
        p->active = m->active ? 1 : 0;
    }
    if (gw_snapshot_index(s, err) != 0) {
        gw_snapshot_free(s);
        return -1;
    }
    if (key_errors != NULL)
        *key_errors = nkerr;
    *out = s;
    return 0;
oom:
    gw_snapshot_free(s);
    return gw_errf(err, "out of memory");
}

/* ---- references ---- */

void gw_snapshot_acquire(gw_snapshot *s)
{
    if (s != NULL)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void gw_snapshot_release(gw_snapshot *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        gw_snapshot_free(s);
}

/* ---- queries ---- */

const char *gw_snapshot_checksum(const gw_snapshot *s)
{
    return s->checksum;
}

const char *gw_snapshot_namespace(const gw_snapshot *s)
{
    return gw_nz(s->msg->namespace_);
}

size_t gw_snapshot_llm_count(const gw_snapshot *s)
{
    return s->n_llms;
}

const gw_llm *gw_snapshot_llm_at(const gw_snapshot *s, size_t i)
{
    return i < s->n_llms ? &s->llms[i] : NULL;
}

size_t gw_snapshot_app_count(const gw_snapshot *s)
{
    return s->n_apps;
}

const gw_vendor *gw_snapshot_vendor(const gw_snapshot *s, const char *name)
{
    size_t lo = 0, hi = s->n_vendors;
    if (name == NULL)
        return NULL;
    while (lo < hi) { /* a handful of rows, sorted by name */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->vendors[mid].name, name);
        if (c == 0)
            return &s->vendors[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const gw_llm *gw_snapshot_llm_by_slug(const gw_snapshot *s, const char *slug)
{
    if (slug == NULL || s->llm_slug_idx.slots == NULL)
        return NULL;
    for (size_t i = (size_t)gw_hash_str(slug) & s->llm_slug_idx.mask; s->llm_slug_idx.slots[i] != 0;
         i = (i + 1) & s->llm_slug_idx.mask) {
        const gw_llm *l = &s->llms[s->llm_slug_idx.slots[i] - 1];
        if (strcmp(l->slug, slug) == 0)
            return l;
    }
    return NULL;
}

const gw_llm *gw_snapshot_llm_by_id(const gw_snapshot *s, int64_t id)
{
    if (s->llm_id_idx.slots == NULL)
        return NULL;
    for (size_t i = (size_t)gw_hash_id(id) & s->llm_id_idx.mask; s->llm_id_idx.slots[i] != 0;
         i = (i + 1) & s->llm_id_idx.mask) {
        const gw_llm *l = &s->llms[s->llm_id_idx.slots[i] - 1];
        if (l->id == id)
            return l;
    }
    return NULL;
}

const gw_app *gw_snapshot_app_by_id(const gw_snapshot *s, int64_t id)
{
    if (s->app_id_idx.slots == NULL)
        return NULL;
    for (size_t i = (size_t)gw_hash_id(id) & s->app_id_idx.mask; s->app_id_idx.slots[i] != 0;
         i = (i + 1) & s->app_id_idx.mask) {
        const gw_app *a = &s->apps[s->app_id_idx.slots[i] - 1];
        if (a->id == id)
            return a;
    }
    return NULL;
}

int gw_app_allows_llm(const gw_app *app, int64_t llm_id)
{
    return app != NULL && bsearch(&llm_id, app->llm_ids, app->n_llm_ids, sizeof(int64_t), gw_cmp_int64) != NULL;
}

int gw_llm_model_allowed(const gw_llm *llm, const char *model)
{
    if (llm == NULL || model == NULL || model[0] == '\0' || strlen(model) > GW_MODEL_NAME_MAX)
        return 0;
    for (const char *c = model; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0; /* no model name has control characters */
    if (llm->allowed_invalid)
        return 0;
    if (llm->n_allowed == 0)
        return 1;
    for (size_t i = 0; i < llm->n_allowed; i++) {
        aistudio_match m = aistudio_pattern_match(llm->allowed[i], model, strlen(model));
        if (m == AISTUDIO_MATCH_YES)
            return 1;
        if (m == AISTUDIO_MATCH_LIMIT)
            gw_log_warn("llm '%s': allowed model pattern %zu hit its match limit on a model name: counted as no match",
                        llm->slug, i + 1);
    }
    return 0;
}

const gw_price *gw_snapshot_price(const gw_snapshot *s, const char *vendor, const char *model)
{
    uint64_t prefix_hash[GW_MODEL_NAME_MAX + 1];
    size_t mlen;

    if (vendor == NULL || model == NULL || s->price_idx.slots == NULL)
        return NULL;
    mlen = strlen(model);
    if (mlen == 0 || mlen > GW_MODEL_NAME_MAX)
        return NULL;
    /* FNV is sequential: one pass gives the hash of every prefix. */
    prefix_hash[0] = gw_hash_vendor(vendor);
    for (size_t i = 0; i < mlen; i++)
        prefix_hash[i + 1] = gw_fnv_step(prefix_hash[i], model + i, 1);
    for (size_t n = mlen; n >= 1; n--) {
        for (size_t i = (size_t)prefix_hash[n] & s->price_idx.mask; s->price_idx.slots[i] != 0;
             i = (i + 1) & s->price_idx.mask) {
            const gw_price *p = &s->prices[s->price_idx.slots[i] - 1];
            if (strlen(p->model_name) == n && strncmp(p->model_name, model, n) == 0 && strcmp(p->vendor, vendor) == 0)
                return p;
        }
    }
    return NULL;
}

static int gw_cmp_filter(const void *key, const void *elem)
{
    int64_t id = *(const int64_t *)key, x = ((const gw_filter_def *)elem)->id;
    return (id > x) - (id < x);
}

static int gw_cmp_plugin(const void *key, const void *elem)
{
    int64_t id = *(const int64_t *)key, x = ((const gw_plugin_def *)elem)->id;
    return (id > x) - (id < x);
}

const gw_filter_def *gw_snapshot_filter_by_id(const gw_snapshot *s, int64_t id)
{
    return bsearch(&id, s->filters, s->n_filters, sizeof(gw_filter_def), gw_cmp_filter);
}

size_t gw_snapshot_plugin_count(const gw_snapshot *s)
{
    return s->n_plugins;
}

const gw_plugin_def *gw_snapshot_plugin_at(const gw_snapshot *s, size_t i)
{
    return i < s->n_plugins ? &s->plugins[i] : NULL;
}

const gw_plugin_def *gw_snapshot_plugin_by_id(const gw_snapshot *s, int64_t id)
{
    return bsearch(&id, s->plugins, s->n_plugins, sizeof(gw_plugin_def), gw_cmp_plugin);
}

/* ---- derived state ---- */

void *gw_snapshot_ext_get(const gw_snapshot *s, gw_snapshot_ext_slot slot)
{
    if (slot < 0 || slot >= GW_SNAP_EXT_COUNT)
        return NULL;
    return atomic_load_explicit(&((gw_snapshot *)s)->ext[slot], memory_order_acquire);
}

void *gw_snapshot_ext_set(gw_snapshot *s, gw_snapshot_ext_slot slot, void *value, gw_snapshot_ext_free_fn free_fn)
{
    void *expect = NULL;
    if (slot < 0 || slot >= GW_SNAP_EXT_COUNT)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(&s->ext[slot], &expect, value, memory_order_acq_rel,
                                                memory_order_acquire)) {
        /* only the winner writes it; it is read when the last reference
         * goes (after every holder's release) */
        s->ext_free[slot] = free_fn;
        return value;
    }
    if (free_fn != NULL)
        free_fn(value);
    return expect;
}

/* ---- holder ---- */

void gw_snapshot_holder_init(gw_snapshot_holder *h)
{
    pthread_mutex_init(&h->mu, NULL);
    h->cur = NULL;
}

void gw_snapshot_holder_destroy(gw_snapshot_holder *h)
{
    gw_snapshot_swap(h, NULL);
    pthread_mutex_destroy(&h->mu);
}

gw_snapshot *gw_snapshot_current(gw_snapshot_holder *h)
{
    gw_snapshot *s;
    pthread_mutex_lock(&h->mu);
    s = h->cur;
    gw_snapshot_acquire(s);
    pthread_mutex_unlock(&h->mu);
    return s;
}

void gw_snapshot_swap(gw_snapshot_holder *h, gw_snapshot *s)
{
    gw_snapshot *old;
    pthread_mutex_lock(&h->mu);
    old = h->cur;
    h->cur = s;
    pthread_mutex_unlock(&h->mu);
    gw_snapshot_release(old);
}
