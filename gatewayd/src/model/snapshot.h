/*
 * src/model/snapshot.h: the immutable in-memory configuration the hot path
 * reads. A gw_snapshot is built once from the protobuf bytes of
 * aistudio.snapshot(namespace) (proto/aistudio/v1/snapshot.proto): LLMs
 * indexed by slug, their vendor keys opened with the master key (a literal
 * sealed on the Llm or a $SECRET/Name reference into the snapshot's
 * secrets), allowed-model patterns compiled (the extension's pattern.c), prices indexed by (vendor,
 * model) with longest-prefix lookup, apps indexed by id.
 *
 * Vendor keys are opened with the AAD the extension seals them with,
 * computed here: "llm:<id>" for a literal key, "secret:<name>" for a
 * $SECRET/<name> reference. A secret's allowed hosts come with it
 * (gw_llm.key_hosts), for the check before each upstream call
 * (model/keyhosts.h).
 *
 * Lifetime: reference counted. gw_snapshot_holder keeps "the current one";
 * gw_snapshot_current() hands out a counted reference that stays valid after
 * a gw_snapshot_swap() installs a newer snapshot, so in-flight requests
 * finish on the configuration they started with. Every pointer obtained
 * from a snapshot (gw_llm, gw_app, gw_price, their strings) lives exactly
 * as long as the reference the caller holds.
 */
#ifndef GW_SNAPSHOT_H
#define GW_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "base/secretbox.h"
#include "pattern.h" /* the extension's pattern module (pg_aistudio/src) */

#define GW_SNAPSHOT_FORMAT_MAX 1           /* highest format_version understood */
#define GW_SNAPSHOT_MAX_BYTES (64u << 20)  /* refuse larger snapshots */
#define GW_MODEL_NAME_MAX GW_MODEL_LEN_MAX /* longer model names never match (requests cannot name one) */
#define GW_CHECKSUM_HEX_LEN 64
/* captured bodies: the extension checks capture_max_bytes and sends the
 * default (16384) when the LLM sets none; the bound only guards memory */
#define GW_CAPTURE_MAX_BYTES (1 << 20)

typedef enum gw_key_state {
    GW_KEY_NONE = 0,   /* the LLM has no vendor key (e.g. ollama) */
    GW_KEY_OK,         /* api_key holds the opened key */
    GW_KEY_UNAVAILABLE /* a key is configured but could not be opened */
} gw_key_state;

/* How a vendor key is sent upstream (aistudio.vendors.auth_header). */
typedef enum gw_key_header {
    GW_KEY_HEADER_BEARER = 0, /* Authorization: Bearer <key> */
    GW_KEY_HEADER_X_API_KEY,  /* x-api-key: <key> */
    GW_KEY_HEADER_GOOG_API_KEY /* x-goog-api-key: <key> */
} gw_key_header;

/* A vendor: a row of aistudio.vendors, carried in the snapshot — the one
 * list of vendors and the facts rules depend on. */
typedef struct gw_vendor {
    const char *name;
    const char *wire_format; /* the API dialect; vendors/registry.h maps it to its operations */
    gw_key_header key_header;
    int key_required;
    int prompt_includes_cache_reads; /* token semantics of its usage reports */
} gw_vendor;

typedef struct gw_llm {
    int64_t id;
    const char *name;
    const char *slug;
    const char *vendor;
    const gw_vendor *vendor_def; /* the snapshot's row of vendor; NULL: not a known vendor */
    const char *api_endpoint;
    const char *default_model;
    const char *namespace_;
    const char *monthly_budget;    /* exact decimal, "" = none */
    int64_t monthly_budget_nanos;  /* the same in 10^-9 units (when monthly_budget is set) */
    const char *budget_start_date; /* YYYY-MM-DD, "" = first of the month */
    int64_t rate_limit_rpm;        /* requests per minute, 0 = no limit (model/ratelimit.h) */
    int64_t rate_limit_tpm;        /* tokens per minute, 0 = no limit */
    int capture_bodies;            /* keep the request and response bodies (docs/gateway.md "Body capture") */
    int32_t capture_max_bytes;     /* the cap of each captured body; 0 = capture nothing */
    int active;
    gw_key_state key_state;
    char *api_key; /* opened vendor key (GW_KEY_OK), wiped on free */
    size_t api_key_len;
    char key_error[GW_ERR_LEN]; /* why the key is unavailable (no secrets) */
    /* a $SECRET/Name key: the secret's name and the hosts its value may be
     * sent to ("host" or "host:port", normalised by the extension; none =
     * nowhere); key_secret is NULL for a literal key, which goes anywhere */
    const char *key_secret;
    const char *const *key_hosts;
    size_t n_key_hosts;
    aistudio_pattern **allowed; /* compiled allowed_models (pattern.h: PCRE2, searched like `~`) */
    size_t n_allowed;           /* 0 = any model allowed */
    int allowed_invalid;        /* a pattern did not compile: no model allowed */
    /* the filters and plugins attached (global ones and the LLM's
     * namespace's), each list in execution order, with the position each
     * was attached at (NULL: an older snapshot without positions, then the
     * order alone counts) */
    const int64_t *filter_ids;
    const int32_t *filter_positions;
    size_t n_filter_ids;
    const int64_t *plugin_ids;
    const int32_t *plugin_positions;
    const int *plugin_fail_open; /* per plugin_ids entry: the attachment's fail_open (NULL: all false) */
    size_t n_plugin_ids;
    size_t idx; /* its index in the snapshot (gw_snapshot_llm_at) */
} gw_llm;

/* A content filter as the snapshot has it (aistudio.filters). */
typedef struct gw_filter_def {
    int64_t id;
    const char *name;
    const char *filter_type; /* regex | keywords | pii | max_prompt */
    const char *stage;       /* pre_auth | post_auth | on_response */
    const char *config_json; /* a JSON object, checked by the extension */
    const char *namespace_;
    int active;
} gw_filter_def;

/* A plugin as the snapshot has it (aistudio.plugins). */
typedef struct gw_plugin_def {
    int64_t id;
    const char *name;
    const char *plugin_type;
    const char *hook; /* the stage it runs at */
    const char *command;
    const char *config_json;
    const char *namespace_;
    int active;
} gw_plugin_def;

typedef struct gw_price {
    int64_t id;
    const char *vendor;
    const char *model_name;
    const char *input_per_mtok; /* exact decimals per million tokens */
    const char *output_per_mtok;
    const char *cache_write_per_mtok; /* the input price when the field was "" */
    const char *cache_read_per_mtok;  /* the input price when the field was "" */
    const char *currency;
    /* the same prices, exact, in 10^-9 units of the currency per million
     * tokens (cache prices resolved): what the gateway computes with */
    int64_t input_nanos;
    int64_t output_nanos;
    int64_t cache_write_nanos;
    int64_t cache_read_nanos;
} gw_price;

typedef struct gw_app {
    int64_t id;
    const char *name;
    int64_t owner_id;
    int64_t *llm_ids; /* sorted ascending */
    size_t n_llm_ids;
    const char *monthly_budget;
    int64_t monthly_budget_nanos;
    const char *budget_start_date;
    const char *namespace_;
    int active;
    int64_t rate_limit_rpm; /* requests per minute, 0 = no limit (model/ratelimit.h) */
    int64_t rate_limit_tpm; /* tokens per minute, 0 = no limit */
} gw_app;

typedef struct gw_snapshot gw_snapshot;

/*
 * Builds a snapshot from serialized bytes. checksum is the value of
 * aistudio.snapshot_checksum (stored as given; may be NULL). keys are the
 * master keys for opening vendor keys (nkeys may be 0). A vendor key that
 * cannot be opened does not fail the build: that LLM gets
 * GW_KEY_UNAVAILABLE and *key_errors counts it. Malformed bytes, an
 * unsupported format_version or a duplicate slug fail with -1.
 */
int gw_snapshot_build(const uint8_t *bytes, size_t len, const char *checksum, const gw_secret_key *keys, int nkeys,
                      gw_snapshot **out, int *key_errors, char err[GW_ERR_LEN]);

void gw_snapshot_acquire(gw_snapshot *s);
/* Drops a reference; the last one frees the snapshot and wipes its keys. */
void gw_snapshot_release(gw_snapshot *s);

const char *gw_snapshot_checksum(const gw_snapshot *s); /* "" when unknown */
const char *gw_snapshot_namespace(const gw_snapshot *s);
size_t gw_snapshot_llm_count(const gw_snapshot *s);
const gw_llm *gw_snapshot_llm_at(const gw_snapshot *s, size_t i);
size_t gw_snapshot_app_count(const gw_snapshot *s);

const gw_llm *gw_snapshot_llm_by_slug(const gw_snapshot *s, const char *slug);
/* The vendor of that name, NULL when the snapshot has none. */
const gw_vendor *gw_snapshot_vendor(const gw_snapshot *s, const char *name);
const gw_llm *gw_snapshot_llm_by_id(const gw_snapshot *s, int64_t id);
const gw_app *gw_snapshot_app_by_id(const gw_snapshot *s, int64_t id);
/* 1 when app lists llm_id. */
int gw_app_allows_llm(const gw_app *app, int64_t llm_id);
/* 1 when model matches one of the LLM's allowed patterns (searched, like `~`; or the
 * LLM has none); 0 otherwise, also for a NULL/empty or overlong model. */
int gw_llm_model_allowed(const gw_llm *llm, const char *model);
/* The price whose model_name is the longest prefix of model for vendor
 * (an exact name is the longest prefix of itself), or NULL. */
const gw_price *gw_snapshot_price(const gw_snapshot *s, const char *vendor, const char *model);

/* The plugins of the snapshot (active or not), sorted by id. */
size_t gw_snapshot_plugin_count(const gw_snapshot *s);
const gw_plugin_def *gw_snapshot_plugin_at(const gw_snapshot *s, size_t i);
/* The filter / plugin with this id, or NULL. */
const gw_filter_def *gw_snapshot_filter_by_id(const gw_snapshot *s, int64_t id);
const gw_plugin_def *gw_snapshot_plugin_by_id(const gw_snapshot *s, int64_t id);

/*
 * Derived state a higher layer keeps with a snapshot (built from it once,
 * freed with it): the pipeline's per-LLM hooks (GW_SNAP_EXT_HOOKS). The
 * first gw_snapshot_ext_set of a slot wins (compare-and-swap): it returns
 * the value now in the slot, and frees (with free_fn) a value that lost.
 * free_fn of the winner runs when the snapshot is freed.
 */
typedef enum gw_snapshot_ext_slot { GW_SNAP_EXT_HOOKS = 0, GW_SNAP_EXT_COUNT } gw_snapshot_ext_slot;
typedef void (*gw_snapshot_ext_free_fn)(void *value);
void *gw_snapshot_ext_get(const gw_snapshot *s, gw_snapshot_ext_slot slot);
void *gw_snapshot_ext_set(gw_snapshot *s, gw_snapshot_ext_slot slot, void *value, gw_snapshot_ext_free_fn free_fn);

/* ---- the current snapshot ---- */

typedef struct gw_snapshot_holder {
    pthread_mutex_t mu;
    gw_snapshot *cur;
} gw_snapshot_holder;

void gw_snapshot_holder_init(gw_snapshot_holder *h);
/* Releases the held snapshot. */
void gw_snapshot_holder_destroy(gw_snapshot_holder *h);
/* A counted reference to the current snapshot (NULL before the first load);
 * the caller releases it with gw_snapshot_release. */
gw_snapshot *gw_snapshot_current(gw_snapshot_holder *h);
/* Installs s (taking over the caller's reference) and drops the holder's
 * reference to the previous one. */
void gw_snapshot_swap(gw_snapshot_holder *h, gw_snapshot *s);

#endif
