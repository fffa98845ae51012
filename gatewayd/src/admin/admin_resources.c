/*
 * src/admin/admin_resources.c: the table of the REST API's resources — which
 * aistudio.* function each method and path calls, with which arguments
 * (see admin_int.h for the table format and parameter numbering, and
 * docs/rest-api.md / docs/openapi.json for the API itself).
 *
 * Lists call the list_* functions with limit/offset from page/page_size and
 * return {"data": […], "page", "page_size", "total"}; one object is a get_*
 * function; creates and updates return the object as the database has it
 * afterwards; deletes answer 204. Arrays and objects in bodies reach SQL as
 * JSON text and are turned into arrays/jsonb there.
 */
#include <stddef.h>

#include "base/json.h"
#include "admin/admin_filters.h"
#include "admin/admin_int.h"

/* a paged list_* function: (json array without total_count, total) */
#define LIST(call)                                                                                                     \
    "SELECT coalesce(json_agg(to_jsonb(t) - 'total_count' - 'ordinality' ORDER BY t.ordinality), '[]'::json),"         \
    " max(t.total_count) FROM ROWS FROM (" call ") WITH ORDINALITY t"
/* a function returning every row: paged here */
#define LIST_ALL(call)                                                                                                 \
    "SELECT coalesce(json_agg(to_jsonb(t) - 'total_count' - '_row' ORDER BY t._row), '[]'::json), max(t.total_count)"  \
    " FROM (SELECT f.*, count(*) OVER () AS total_count, row_number() OVER () AS _row FROM " call " f"                 \
    " LIMIT $3::int OFFSET $4::int) t"
#define GET(call) "SELECT to_json(t) FROM " call " t"
#define TEXTS(p) "(CASE WHEN " p " IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(" p "::jsonb)) END)"
#define IDS(p)                                                                                                         \
    "(CASE WHEN " p " IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(" p "::jsonb)::bigint) END)"

#define REQ GW_AF_REQUIRED
#define F(name, type, param, flags, max)                                                                               \
    {                                                                                                                  \
        name, type, param, flags, 0, max                                                                               \
    }
#define FN(name, type, param, null_param)                                                                              \
    {                                                                                                                  \
        name, type, param, 0, null_param, 0                                                                            \
    }
#define END                                                                                                            \
    {                                                                                                                  \
        NULL, 0, 0, 0, 0, 0                                                                                            \
    }

/* GET info (public): what the UI must know about this deployment before
 * anyone logs in: where the gateway, the docs (and whether they are
 * served) and (on a hub) the gRPC server are reached, and the mode. No
 * database. */
static int gw_admin_info(gw_admin_req *r)
{
    const gw_config *cfg = &r->adm->srv->cfg;
    char mem[2048];
    gw_buf b;
    gw_jw w;

    gw_buf_init_fixed(&b, mem, sizeof(mem));
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "public_url");
    gw_jw_string(&w, cfg->public_url);
    gw_jw_key(&w, "gateway_url");
    if (cfg->gateway_public_url != NULL && cfg->gateway_public_url[0] != '\0')
        gw_jw_string(&w, cfg->gateway_public_url);
    else
        gw_jw_null(&w);
    gw_jw_key(&w, "proxy_port");
    gw_jw_int(&w, cfg->proxy_port);
    gw_jw_key(&w, "docs_port");
    gw_jw_int(&w, cfg->docs_port);
    gw_jw_key(&w, "docs_enabled");
    gw_jw_bool(&w, r->adm->srv->docs_enabled);
    gw_jw_key(&w, "grpc_port");
    gw_jw_int(&w, cfg->grpc_port);
    gw_jw_key(&w, "mode");
    gw_jw_string(&w, gw_config_mode_name(cfg->mode));
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0 || b.failed)
        return gw_admin_send_error(r, 500, "the answer did not fit", NULL);
    return gw_admin_send_json(r, 200, b.data, b.len);
}

/* ---- auth and me ---- */

static const gw_admin_field login_body[] = {F("email", GW_AT_STRING, 5, REQ, 254),
                                            F("password", GW_AT_STRING, 6, REQ, 1024), END};
static const gw_admin_field token_body[] = {F("name", GW_AT_STRING, 5, REQ, 100),
                                            F("expires_at", GW_AT_STRING, 6, 0, 64), END};
/* rotating a key or token: how long the old one stays valid, the new one's expiry */
static const gw_admin_field rotate_body[] = {F("overlap_minutes", GW_AT_NUMBER, 5, 0, 0),
                                             F("expires_at", GW_AT_STRING, 6, 0, 64), END};

/* ---- LLMs ---- */

static const gw_admin_field llm_query[] = {F("namespace", GW_AT_STRING, 5, 0, 0), F("vendor", GW_AT_STRING, 6, 0, 0),
                                           F("usable", GW_AT_BOOL, 7, 0, 0), END};
static const gw_admin_field llm_create[] = {F("name", GW_AT_STRING, 5, REQ, 255),
                                            F("vendor", GW_AT_STRING, 6, REQ, 32),
                                            F("api_endpoint", GW_AT_STRING, 7, REQ, 2048),
                                            F("api_key", GW_AT_STRING, 8, 0, 8192),
                                            F("default_model", GW_AT_STRING, 9, 0, 255),
                                            F("allowed_models", GW_AT_STRINGS, 10, 0, 0),
                                            F("namespace", GW_AT_STRING, 11, 0, 63),
                                            F("active", GW_AT_BOOL, 12, 0, 0),
                                            F("monthly_budget", GW_AT_NUMBER, 13, 0, 0),
                                            F("budget_start_date", GW_AT_STRING, 14, 0, 32),
                                            F("rate_limit_rpm", GW_AT_INT, 16, 0, 0),
                                            F("rate_limit_tpm", GW_AT_INT, 17, 0, 0),
                                            F("capture_bodies", GW_AT_BOOL, 20, 0, 0),
                                            F("capture_max_bytes", GW_AT_INT, 21, 0, 0),
                                            END};
/* a null rate limit ($18 / $19 = true) removes it */
static const gw_admin_field llm_update[] = {F("name", GW_AT_STRING, 5, 0, 255),
                                            F("vendor", GW_AT_STRING, 6, 0, 32),
                                            F("api_endpoint", GW_AT_STRING, 7, 0, 2048),
                                            F("api_key", GW_AT_STRING, 8, 0, 8192),
                                            F("default_model", GW_AT_STRING, 9, 0, 255),
                                            F("allowed_models", GW_AT_STRINGS, 10, 0, 0),
                                            F("namespace", GW_AT_STRING, 11, 0, 63),
                                            F("active", GW_AT_BOOL, 12, 0, 0),
                                            FN("monthly_budget", GW_AT_NUMBER, 13, 15),
                                            F("budget_start_date", GW_AT_STRING, 14, 0, 32),
                                            FN("rate_limit_rpm", GW_AT_INT, 16, 18),
                                            FN("rate_limit_tpm", GW_AT_INT, 17, 19),
                                            F("capture_bodies", GW_AT_BOOL, 20, 0, 0),
                                            F("capture_max_bytes", GW_AT_INT, 21, 0, 0),
                                            END};
static const gw_admin_field attach_filter_body[] = {F("filter_id", GW_AT_INT, 5, REQ, 0),
                                                    F("position", GW_AT_INT, 6, 0, 0), END};
static const gw_admin_field attach_plugin_body[] = {F("plugin_id", GW_AT_INT, 5, REQ, 0),
                                                    F("position", GW_AT_INT, 6, 0, 0),
                                                    F("fail_open", GW_AT_BOOL, 7, 0, 0), END};

/* ---- model prices ---- */

static const gw_admin_field price_query[] = {F("vendor", GW_AT_STRING, 5, 0, 0), F("llm_id", GW_AT_INT, 6, 0, 0), END};
static const gw_admin_field price_create[] = {F("vendor", GW_AT_STRING, 5, REQ, 32),
                                              F("model_name", GW_AT_STRING, 6, REQ, 255),
                                              F("input_per_mtok", GW_AT_NUMBER, 7, REQ, 0),
                                              F("output_per_mtok", GW_AT_NUMBER, 8, REQ, 0),
                                              F("cache_write_per_mtok", GW_AT_NUMBER, 9, 0, 0),
                                              F("cache_read_per_mtok", GW_AT_NUMBER, 10, 0, 0),
                                              F("currency", GW_AT_STRING, 11, 0, 3),
                                              END};
static const gw_admin_field price_update[] = {
    F("input_per_mtok", GW_AT_NUMBER, 7, 0, 0),      F("output_per_mtok", GW_AT_NUMBER, 8, 0, 0),
    FN("cache_write_per_mtok", GW_AT_NUMBER, 9, 12), FN("cache_read_per_mtok", GW_AT_NUMBER, 10, 13),
    F("currency", GW_AT_STRING, 11, 0, 3),           END};

/* ---- apps and credentials ---- */

static const gw_admin_field app_query[] = {F("owner_id", GW_AT_INT, 5, 0, 0), F("namespace", GW_AT_STRING, 6, 0, 0),
                                           F("search", GW_AT_STRING, 7, 0, 0), F("sort", GW_AT_STRING, 8, 0, 64), END};
static const gw_admin_field app_create[] = {F("name", GW_AT_STRING, 5, REQ, 200),
                                            F("owner_id", GW_AT_INT, 6, 0, 0),
                                            F("llm_ids", GW_AT_INTS, 7, 0, 0),
                                            F("monthly_budget", GW_AT_NUMBER, 8, 0, 0),
                                            F("namespace", GW_AT_STRING, 9, 0, 63),
                                            F("description", GW_AT_STRING, 10, 0, 10000),
                                            F("budget_start_date", GW_AT_STRING, 11, 0, 32),
                                            F("active", GW_AT_BOOL, 12, 0, 0),
                                            F("rate_limit_rpm", GW_AT_INT, 14, 0, 0),
                                            F("rate_limit_tpm", GW_AT_INT, 15, 0, 0),
                                            END};
/* a null monthly_budget ($13), rate_limit_rpm ($16) or rate_limit_tpm ($17) removes it */
static const gw_admin_field app_update[] = {F("name", GW_AT_STRING, 5, 0, 200),
                                            F("description", GW_AT_STRING, 6, 0, 10000),
                                            F("llm_ids", GW_AT_INTS, 7, 0, 0),
                                            FN("monthly_budget", GW_AT_NUMBER, 8, 13),
                                            F("budget_start_date", GW_AT_STRING, 9, 0, 32),
                                            F("namespace", GW_AT_STRING, 10, 0, 63),
                                            F("active", GW_AT_BOOL, 11, 0, 0),
                                            F("owner_id", GW_AT_INT, 12, 0, 0),
                                            FN("rate_limit_rpm", GW_AT_INT, 14, 16),
                                            FN("rate_limit_tpm", GW_AT_INT, 15, 17),
                                            END};

static const gw_admin_field credential_create[] = {F("name", GW_AT_STRING, 5, 0, 100),
                                                   F("expires_at", GW_AT_STRING, 6, 0, 64), END};
/* a null expires_at ($7 = true) removes the expiry */
static const gw_admin_field credential_update[] = {F("name", GW_AT_STRING, 5, 0, 100),
                                                   FN("expires_at", GW_AT_STRING, 6, 7), END};

/* ---- users and groups ---- */

static const gw_admin_field user_query[] = {F("search", GW_AT_STRING, 5, 0, 0), F("role", GW_AT_STRING, 6, 0, 0),
                                            F("sort", GW_AT_STRING, 7, 0, 64), END};
static const gw_admin_field user_create[] = {
    F("email", GW_AT_STRING, 5, REQ, 254), F("name", GW_AT_STRING, 6, REQ, 200),
    F("password", GW_AT_STRING, 7, 0, 1024), F("role", GW_AT_STRING, 8, 0, 32), END};
static const gw_admin_field user_update[] = {
    F("email", GW_AT_STRING, 5, 0, 254), F("name", GW_AT_STRING, 6, 0, 200),      F("role", GW_AT_STRING, 7, 0, 32),
    F("active", GW_AT_BOOL, 8, 0, 0),    F("password", GW_AT_STRING, 9, 0, 1024), END};
static const gw_admin_field group_body[] = {F("name", GW_AT_STRING, 5, REQ, 128), END};
static const gw_admin_field member_body[] = {F("user_id", GW_AT_INT, 5, REQ, 0), END};
static const gw_admin_field grant_body[] = {F("llm_id", GW_AT_INT, 5, REQ, 0), END};

/* ---- secrets, filters, plugins, namespaces, edges ---- */

static const gw_admin_field secret_create[] = {F("name", GW_AT_STRING, 5, REQ, 128),
                                               F("value", GW_AT_STRING, 6, REQ, 65536),
                                               F("allowed_hosts", GW_AT_STRINGS, 7, 0, 0), END};
static const gw_admin_field secret_put[] = {F("value", GW_AT_STRING, 6, REQ, 65536),
                                            F("allowed_hosts", GW_AT_STRINGS, 7, 0, 0), END};
static const gw_admin_field secret_hosts[] = {F("allowed_hosts", GW_AT_STRINGS, 5, REQ, 0), END};
static const gw_admin_field ns_query[] = {F("namespace", GW_AT_STRING, 5, 0, 0), END};
static const gw_admin_field filter_create[] = {
    F("name", GW_AT_STRING, 5, REQ, 255),   F("filter_type", GW_AT_STRING, 6, REQ, 32),
    F("config", GW_AT_OBJECT, 7, 0, 0),     F("stage", GW_AT_STRING, 8, 0, 32),
    F("namespace", GW_AT_STRING, 9, 0, 63), F("description", GW_AT_STRING, 10, 0, 10000),
    F("active", GW_AT_BOOL, 11, 0, 0),      END};
static const gw_admin_field filter_update[] = {
    F("name", GW_AT_STRING, 5, 0, 255),     F("filter_type", GW_AT_STRING, 6, 0, 32),
    F("config", GW_AT_OBJECT, 7, 0, 0),     F("stage", GW_AT_STRING, 8, 0, 32),
    F("namespace", GW_AT_STRING, 9, 0, 63), F("description", GW_AT_STRING, 10, 0, 10000),
    F("active", GW_AT_BOOL, 11, 0, 0),      END};
static const gw_admin_field filter_test[] = {F("text", GW_AT_STRING, 5, REQ, 65536), F("stage", GW_AT_STRING, 6, 0, 32),
                                             END};
static const gw_admin_field plugin_create[] = {F("name", GW_AT_STRING, 5, REQ, 255),
                                               F("hook", GW_AT_STRING, 6, REQ, 32),
                                               F("command", GW_AT_STRING, 7, REQ, 4096),
                                               F("config", GW_AT_OBJECT, 8, 0, 0),
                                               F("namespace", GW_AT_STRING, 9, 0, 63),
                                               F("description", GW_AT_STRING, 10, 0, 10000),
                                               F("plugin_type", GW_AT_STRING, 11, 0, 32),
                                               F("active", GW_AT_BOOL, 12, 0, 0),
                                               END};
static const gw_admin_field plugin_update[] = {F("name", GW_AT_STRING, 5, 0, 255),
                                               F("hook", GW_AT_STRING, 6, 0, 32),
                                               F("command", GW_AT_STRING, 7, 0, 4096),
                                               F("config", GW_AT_OBJECT, 8, 0, 0),
                                               F("namespace", GW_AT_STRING, 9, 0, 63),
                                               F("description", GW_AT_STRING, 10, 0, 10000),
                                               F("plugin_type", GW_AT_STRING, 11, 0, 32),
                                               F("active", GW_AT_BOOL, 12, 0, 0),
                                               END};
static const gw_admin_field namespace_create[] = {F("name", GW_AT_STRING, 5, REQ, 63),
                                                  F("description", GW_AT_STRING, 6, 0, 10000), END};
static const gw_admin_field edge_query[] = {F("namespace", GW_AT_STRING, 5, 0, 0), F("status", GW_AT_STRING, 6, 0, 0),
                                            END};
static const gw_admin_field edge_enroll[] = {F("edge_id", GW_AT_STRING, 5, REQ, 128),
                                             F("namespace", GW_AT_STRING, 6, 0, 63), END};
static const gw_admin_field edge_events_query[] = {F("edge", GW_AT_STRING, 5, 0, 128), END};
static const gw_admin_field edge_metrics_query[] = {F("limit", GW_AT_INT, 5, 0, 0), END};
static const gw_admin_field push_body[] = {F("namespace", GW_AT_STRING, 5, 0, 63), END};
static const gw_admin_field audit_query[] = {F("since", GW_AT_STRING, 5, 0, 0),       F("until", GW_AT_STRING, 6, 0, 0),
                                             F("object_type", GW_AT_STRING, 7, 0, 0), F("actor_id", GW_AT_INT, 8, 0, 0),
                                             F("action", GW_AT_STRING, 9, 0, 0),      END};
static const gw_admin_field notification_query[] = {F("open", GW_AT_BOOL, 5, 0, 0), END};

/* ---- single sign-on providers (super admin) ---- */

/* The fields of a provider: create requires the first four (req = REQ),
 * update none (req = 0); a null client_secret_ref ($16) removes the secret. */
#define SSO_FIELDS(req)                                                                                                \
    F("slug", GW_AT_STRING, 5, req, 63), F("display_name", GW_AT_STRING, 6, req, 100),                                 \
        F("issuer", GW_AT_STRING, 7, req, 2048), F("client_id", GW_AT_STRING, 8, req, 255),                            \
        {"client_secret_ref", GW_AT_STRING, 9, 0, 16, 200}, F("scopes", GW_AT_STRING, 10, 0, 1000),                    \
        F("allowed_domains", GW_AT_STRINGS, 11, 0, 0), F("auto_provision", GW_AT_BOOL, 12, 0, 0),                      \
        F("default_role", GW_AT_STRING, 13, 0, 32), F("default_group_ids", GW_AT_INTS, 14, 0, 0),                      \
        F("enabled", GW_AT_BOOL, 15, 0, 0)
static const gw_admin_field sso_create[] = {SSO_FIELDS(REQ), END};
static const gw_admin_field sso_update[] = {SSO_FIELDS(0), END};

#define GET_LLM GET("aistudio.get_llm($1::bigint)")
#define GET_PRICE GET("aistudio.get_model_price($1::bigint)")
#define GET_APP GET("aistudio.get_app($1::bigint)")
#define GET_USER GET("aistudio.get_user($1::bigint)")
#define GET_GROUP GET("aistudio.get_group($1::bigint)")
#define GET_SECRET "SELECT to_json(t) FROM aistudio.list_secrets() t WHERE t.id = $1::bigint"
#define GET_FILTER GET("aistudio.get_filter($1::bigint)")
#define GET_PLUGIN GET("aistudio.get_plugin($1::bigint)")
#define GET_NAMESPACE "SELECT to_json(t) FROM aistudio.list_namespaces() t WHERE t.name = $1"
#define GET_EDGE GET("aistudio.get_edge($1)")
#define GET_SSO GET("aistudio.get_sso_provider($1::bigint)")
/* the new key (shown once) with its row (not yet expired) */
#define NEW_KEY(call) "SELECT to_jsonb(t) || jsonb_build_object('expired', false) FROM " call " t"

/* The common shapes of a row: a paged list (query: its query parameters or
 * NULL), one object, a create answered with the created object (its
 * statement returns the new id), a change answered with the object, a
 * delete (204). */
#define OP_LIST(path_, query_, sql)                                                                                    \
    {                                                                                                                  \
        .method = "GET", .path = path_, .result = GW_AR_LIST, .query = query_, .flags = GW_AO_PAGED, .stmts = {        \
            {sql}                                                                                                      \
        }                                                                                                              \
    }
#define OP_GET(path_, fetch_)                                                                                          \
    {                                                                                                                  \
        .method = "GET", .path = path_, .result = GW_AR_OBJECT, .fetch = fetch_                                        \
    }
#define OP_CREATE(path_, body_, sql, fetch_)                                                                           \
    {                                                                                                                  \
        .method = "POST", .path = path_, .result = GW_AR_CREATED, .body = body_,                                       \
        .stmts = {{sql, .flags = GW_AS_SETS_ID}}, .fetch = fetch_                                                      \
    }
#define OP_CHANGE(method_, path_, body_, sql, fetch_)                                                                  \
    {                                                                                                                  \
        .method = method_, .path = path_, .result = GW_AR_OBJECT, .body = body_, .stmts = {{sql}}, .fetch = fetch_     \
    }
#define OP_DELETE(path_, sql)                                                                                          \
    {                                                                                                                  \
        .method = "DELETE", .path = path_, .result = GW_AR_NONE, .stmts = { {sql} }                                    \
    }

const gw_admin_op gw_admin_resource_ops[] = {
    /* auth */
    {.method = "POST", .path = "auth/login", .body = login_body, .flags = GW_AO_PUBLIC, .handler = gw_admin_login},
    {.method = "POST", .path = "auth/logout", .flags = GW_AO_PUBLIC, .handler = gw_admin_logout},
    {.method = "GET", .path = "info", .flags = GW_AO_PUBLIC, .handler = gw_admin_info},
    /* single sign-on (admin_sso.c) */
    {.method = "GET", .path = "auth/sso", .flags = GW_AO_PUBLIC, .handler = gw_admin_sso_options},
    {.method = "GET", .path = "auth/sso/{name}/login", .flags = GW_AO_PUBLIC, .handler = gw_admin_sso_begin},
    {.method = "GET", .path = "auth/sso/{name}/callback", .flags = GW_AO_PUBLIC, .handler = gw_admin_sso_callback},
    /* me */
    OP_GET("me", GET("aistudio.get_me()")),
    OP_LIST("me/tokens", NULL, LIST_ALL("aistudio.list_api_tokens()")),
    {.method = "POST",
     .path = "me/tokens",
     .result = GW_AR_CREATED,
     .body = token_body,
     .stmts = {{"SELECT json_build_object('id', t.id, 'name', $5, 'token', t.token, 'token_prefix', t.token_prefix,"
                " 'created_at', t.created_at, 'expires_at', $6::timestamptz)"
                " FROM aistudio.create_api_token($5, $6::timestamptz) t"}}},
    OP_DELETE("me/tokens/{id}", "SELECT aistudio.revoke_api_token($1::bigint)"),
    {.method = "POST",
     .path = "me/tokens/{id}/rotate",
     .result = GW_AR_CREATED,
     .body = rotate_body,
     .stmts = {{GET("aistudio.rotate_api_token($1::bigint, coalesce($5::numeric, 0), $6::timestamptz)")}}},

    /* lookup lists for every signed-in role: the vendors (aistudio.vendors) and the
     * roles, filter stages and types and plugin hooks (aistudio.ui_lookups) */
    {.method = "GET",
     .path = "vendors",
     .result = GW_AR_DATA,
     .stmts = {{"SELECT coalesce(json_agg(to_jsonb(t) - 'ordinality' ORDER BY t.ordinality), '[]'::json)"
                " FROM ROWS FROM (aistudio.list_vendors()) WITH ORDINALITY t"}}},
    {.method = "GET", .path = "lookups", .result = GW_AR_OBJECT, .fetch = "SELECT aistudio.ui_lookups()"},

    /* LLMs */
    OP_LIST("llms", llm_query,
            LIST("aistudio.list_llms(by_namespace => $5, by_vendor => $6, limit_rows => $3::int,"
                 " offset_rows => $4::int, usable => coalesce($7::boolean, false))")),
    {.method = "POST",
     .path = "llms",
     .result = GW_AR_CREATED,
     .body = llm_create,
     .stmts = {{"SELECT aistudio.create_llm(name => $5, vendor => $6, api_endpoint => $7, api_key => $8,"
                " default_model => $9, allowed_models => coalesce(" TEXTS(
                    "$10") ", '{}'),"
                           " namespace => coalesce($11, ''), active => coalesce($12::boolean, true),"
                           " rate_limit_rpm => $16::bigint, rate_limit_tpm => $17::bigint,"
                           " capture_bodies => coalesce($20::boolean, false), capture_max_bytes => $21::bigint)",
                .flags = GW_AS_SETS_ID},
               {"SELECT aistudio.update_llm($1::bigint, monthly_budget => $13::numeric,"
                " budget_start_date => $14::date)",
                .when = {13, 14}}},
     .fetch = GET_LLM},
    OP_GET("llms/{id}", GET_LLM),
    {.method = "PATCH",
     .path = "llms/{id}",
     .result = GW_AR_OBJECT,
     .body = llm_update,
     .stmts = {{"SELECT aistudio.clear_llm_budget($1::bigint)", .when = {15}},
               {"SELECT aistudio.clear_llm_rate_limits($1::bigint, rpm => coalesce($18::boolean, false),"
                " tpm => coalesce($19::boolean, false))",
                .when = {18, 19}},
               {"SELECT aistudio.update_llm($1::bigint, name => $5, vendor => $6, api_endpoint => $7, api_key => $8,"
                " default_model => $9, allowed_models => " TEXTS(
                    "$10") ", namespace => $11,"
                           " active => $12::boolean, monthly_budget => $13::numeric, budget_start_date => $14::date,"
                           " rate_limit_rpm => $16::bigint, rate_limit_tpm => $17::bigint,"
                           " capture_bodies => $20::boolean, capture_max_bytes => $21::bigint)"}},
     .fetch = GET_LLM},
    OP_DELETE("llms/{id}", "SELECT aistudio.delete_llm($1::bigint)"),
    {.method = "POST",
     .path = "llms/{id}/filters",
     .result = GW_AR_NONE,
     .body = attach_filter_body,
     .stmts = {{"SELECT aistudio.attach_filter($1::bigint, $5::bigint, coalesce($6::int, 0))"}}},
    OP_DELETE("llms/{id}/filters/{id}", "SELECT aistudio.detach_filter($1::bigint, $2::bigint)"),
    {.method = "POST",
     .path = "llms/{id}/plugins",
     .result = GW_AR_NONE,
     .body = attach_plugin_body,
     .stmts = {{"SELECT aistudio.attach_plugin($1::bigint, $5::bigint, coalesce($6::int, 0),"
                " coalesce($7::boolean, false))"}}},
    OP_DELETE("llms/{id}/plugins/{id}", "SELECT aistudio.detach_plugin($1::bigint, $2::bigint)"),

    /* model prices */
    OP_LIST("model-prices", price_query,
            LIST("aistudio.list_model_prices(by_vendor => $5, limit_rows => $3::int, offset_rows => $4::int,"
                 " by_llm => $6::bigint)")),
    OP_CREATE("model-prices", price_create,
              "SELECT aistudio.set_model_price($5, $6, $7::numeric, $8::numeric, $9::numeric, $10::numeric,"
              " coalesce($11, 'USD'))",
              GET_PRICE),
    OP_GET("model-prices/{id}", GET_PRICE),
    OP_CHANGE("PATCH", "model-prices/{id}", price_update,
              "SELECT aistudio.update_model_price($1::bigint, $7::numeric, $8::numeric, $9::numeric, $10::numeric,"
              " $11, coalesce($12::boolean, false), coalesce($13::boolean, false))",
              GET_PRICE),
    OP_DELETE("model-prices/{id}", "SELECT aistudio.delete_model_price_by_id($1::bigint)"),

    /* apps */
    OP_LIST("apps", app_query,
            LIST("aistudio.list_apps(by_owner => $5::bigint, by_namespace => $6, search => $7,"
                 " limit_rows => $3::int, offset_rows => $4::int, sort => $8)")),
    {.method = "POST",
     .path = "apps",
     .result = GW_AR_CREATED,
     .body = app_create,
     .stmts = {{"SELECT aistudio.create_app(name => $5, owner_id => coalesce($6::bigint, $24::bigint),"
                " llm_ids => coalesce(" IDS("$7") ", '{}'), monthly_budget => $8::numeric,"
                                                  " namespace => coalesce($9, ''), rate_limit_rpm => $14::bigint,"
                                                  " rate_limit_tpm => $15::bigint)",
                .flags = GW_AS_SETS_ID},
               {"SELECT aistudio.update_app($1::bigint, description => $10, budget_start_date => $11::date,"
                " active => $12::boolean)",
                .when = {10, 11, 12}}},
     .fetch = GET_APP},
    OP_GET("apps/{id}", GET_APP),
    {.method = "PATCH",
     .path = "apps/{id}",
     .result = GW_AR_OBJECT,
     .body = app_update,
     .stmts = {{"SELECT aistudio.clear_app_budget($1::bigint)", .when = {13}},
               {"SELECT aistudio.clear_app_rate_limits($1::bigint, rpm => coalesce($16::boolean, false),"
                " tpm => coalesce($17::boolean, false))",
                .when = {16, 17}},
               {"SELECT aistudio.update_app($1::bigint, name => $5, description => $6, llm_ids => " IDS(
                   "$7") ","
                         " monthly_budget => $8::numeric, budget_start_date => $9::date, namespace => $10,"
                         " active => $11::boolean, owner_id => $12::bigint, rate_limit_rpm => $14::bigint,"
                         " rate_limit_tpm => $15::bigint)"}},
     .fetch = GET_APP},
    OP_DELETE("apps/{id}", "SELECT aistudio.delete_app($1::bigint)"),
    {.method = "GET",
     .path = "apps/{id}/budget",
     .result = GW_AR_OBJECT,
     .stmts = {{"SELECT 1 FROM aistudio.get_app($1::bigint)"}},
     .fetch = GET("aistudio.budget_status($1::bigint)")},
    OP_LIST("apps/{id}/credentials", NULL, LIST_ALL("aistudio.list_credentials($1::bigint)")),
    {.method = "POST",
     .path = "apps/{id}/credentials",
     .result = GW_AR_CREATED,
     .body = credential_create,
     .stmts = {{NEW_KEY("aistudio.issue_app_credential($1::bigint, coalesce($5, ''), $6::timestamptz)")}}},
    {.method = "PATCH",
     .path = "apps/{id}/credentials/{id}",
     .result = GW_AR_OBJECT,
     .body = credential_update,
     .stmts = {{"SELECT aistudio.update_app_credential($1::bigint, $2::bigint, $5, $6::timestamptz,"
                " coalesce($7::boolean, false))"}},
     .fetch = "SELECT to_json(t) FROM aistudio.list_credentials($1::bigint) t WHERE t.id = $2::bigint"},
    OP_DELETE("apps/{id}/credentials/{id}", "SELECT aistudio.revoke_app_credential($1::bigint, $2::bigint)"),
    {.method = "POST",
     .path = "apps/{id}/credentials/{id}/rotate",
     .result = GW_AR_CREATED,
     .body = rotate_body,
     .stmts = {{NEW_KEY("aistudio.rotate_app_credential($1::bigint, $2::bigint, coalesce($5::numeric, 0),"
                        " $6::timestamptz)")}}},

    /* users */
    OP_LIST("users", user_query,
            LIST("aistudio.list_users(search => $5, by_role => $6, limit_rows => $3::int,"
                 " offset_rows => $4::int, sort => $7)")),
    OP_CREATE("users", user_create,
              "SELECT aistudio.create_user(email => $5, name => $6, password => $7,"
              " role => coalesce($8, 'chat_user'))",
              GET_USER),
    OP_GET("users/{id}", GET_USER),
    {.method = "PATCH",
     .path = "users/{id}",
     .result = GW_AR_OBJECT,
     .body = user_update,
     .stmts = {{"SELECT aistudio.update_user($1::bigint, email => $5, name => $6, role => $7, active => $8::boolean)",
                .when = {5, 6, 7, 8}},
               {"SELECT aistudio.set_password($1::bigint, $9)", .when = {9}}},
     .fetch = GET_USER},
    OP_DELETE("users/{id}", "SELECT aistudio.delete_user($1::bigint)"),

    /* groups, members, LLM grants */
    OP_LIST("groups", NULL, LIST("aistudio.list_groups(limit_rows => $3::int, offset_rows => $4::int)")),
    OP_CREATE("groups", group_body, "SELECT aistudio.create_group($5)", GET_GROUP),
    OP_GET("groups/{id}", GET_GROUP),
    OP_CHANGE("PATCH", "groups/{id}", group_body, "SELECT aistudio.rename_group($1::bigint, $5)", GET_GROUP),
    OP_DELETE("groups/{id}", "SELECT aistudio.delete_group($1::bigint)"),
    OP_CHANGE("POST", "groups/{id}/members", member_body, "SELECT aistudio.add_user_to_group($5::bigint, $1::bigint)",
              GET_GROUP),
    OP_DELETE("groups/{id}/members/{id}", "SELECT aistudio.remove_user_from_group($2::bigint, $1::bigint)"),
    OP_CHANGE("POST", "groups/{id}/llms", grant_body, "SELECT aistudio.grant_llm_to_group($1::bigint, $5::bigint)",
              GET_GROUP),
    OP_DELETE("groups/{id}/llms/{id}", "SELECT aistudio.revoke_llm_from_group($1::bigint, $2::bigint)"),

    /* secrets: names, dates and allowed hosts only, never values */
    OP_LIST("secrets", NULL, LIST_ALL("aistudio.list_secrets()")),
    OP_CREATE("secrets", secret_create, "SELECT aistudio.create_secret($5, $6, " TEXTS("$7") ")", GET_SECRET),
    OP_GET("secrets/{name}", "SELECT to_json(t) FROM aistudio.list_secrets() t WHERE t.name = $1"),
    {.method = "PUT",
     .path = "secrets/{name}",
     .result = GW_AR_OBJECT,
     .body = secret_put,
     .stmts = {{"SELECT aistudio.set_secret($1, $6, " TEXTS("$7") ")", .flags = GW_AS_SETS_ID}},
     .fetch = GET_SECRET},
    /* where a secret may be sent (super admin) */
    OP_CHANGE("PUT", "secrets/{name}/hosts", secret_hosts, "SELECT aistudio.set_secret_hosts($1, " TEXTS("$5") ")",
              "SELECT to_json(t) FROM aistudio.list_secrets() t WHERE t.name = $1"),
    OP_DELETE("secrets/{name}", "SELECT aistudio.delete_secret($1)"),

    /* filters */
    OP_LIST("filters", ns_query,
            LIST("aistudio.list_filters(by_namespace => $5, limit_rows => $3::int, offset_rows => $4::int)")),
    {.method = "POST",
     .path = "filters",
     .result = GW_AR_CREATED,
     .body = filter_create,
     .stmts = {{"SELECT aistudio.create_filter(name => $5, filter_type => $6, config => coalesce($7::jsonb, '{}'),"
                " stage => coalesce($8, 'post_auth'), namespace => coalesce($9, ''),"
                " description => coalesce($10, ''), active => coalesce($11::boolean, true))",
                .flags = GW_AS_SETS_ID}},
     .fetch = GET_FILTER},
    OP_GET("filters/{id}", GET_FILTER),
    OP_CHANGE("PATCH", "filters/{id}", filter_update,
              "SELECT aistudio.update_filter($1::bigint, name => $5, filter_type => $6, config => $7::jsonb,"
              " stage => $8, namespace => $9, description => $10, active => $11::boolean)",
              GET_FILTER),
    OP_DELETE("filters/{id}", "SELECT aistudio.delete_filter($1::bigint)"),
    /* a filter run on sample text by the gateway's filter code (admin_filters.c) */
    {.method = "POST", .path = "filters/{id}/test", .body = filter_test, .handler = gw_admin_filter_test},

    /* plugins */
    OP_LIST("plugins", ns_query,
            LIST("aistudio.list_plugins(by_namespace => $5, limit_rows => $3::int, offset_rows => $4::int)")),
    {.method = "POST",
     .path = "plugins",
     .result = GW_AR_CREATED,
     .body = plugin_create,
     .stmts =
         {{"SELECT aistudio.create_plugin(name => $5, hook => $6, command => $7, config => coalesce($8::jsonb, '{}'),"
           " namespace => coalesce($9, ''), description => coalesce($10, ''),"
           " plugin_type => coalesce($11, 'grpc'), active => coalesce($12::boolean, true))",
           .flags = GW_AS_SETS_ID}},
     .fetch = GET_PLUGIN},
    OP_GET("plugins/{id}", GET_PLUGIN),
    OP_CHANGE("PATCH", "plugins/{id}", plugin_update,
              "SELECT aistudio.update_plugin($1::bigint, name => $5, hook => $6, command => $7, config => $8::jsonb,"
              " namespace => $9, description => $10, plugin_type => $11, active => $12::boolean)",
              GET_PLUGIN),
    OP_DELETE("plugins/{id}", "SELECT aistudio.delete_plugin($1::bigint)"),

    /* namespaces */
    OP_LIST("namespaces", NULL, LIST_ALL("aistudio.list_namespaces()")),
    {.method = "POST",
     .path = "namespaces",
     .result = GW_AR_CREATED,
     .body = namespace_create,
     .id_param = 5,
     .stmts = {{"SELECT aistudio.create_namespace($5, coalesce($6, ''))"}},
     .fetch = GET_NAMESPACE},
    OP_GET("namespaces/{name}", GET_NAMESPACE),
    OP_DELETE("namespaces/{name}", "SELECT aistudio.delete_namespace($1)"),

    /* edges (with their sync status and connection), the sync trail, pushes
     * (docs/hub-and-edge.md); "edges/events" and "edges/push" come before
     * "edges/{name}" (the first matching row wins) */
    OP_LIST("edges", edge_query,
            LIST("aistudio.list_edges(by_namespace => $5, by_status => $6, limit_rows => $3::int,"
                 " offset_rows => $4::int)")),
    OP_LIST("edges/events", edge_events_query,
            LIST("aistudio.list_edge_events(by_edge => $5, limit_rows => $3::int, offset_rows => $4::int)")),
    /* a push: every connected edge in scope is signalled (push_config); its
     * progress is GET pushes/{id} */
    {.method = "POST",
     .path = "edges/push",
     .result = GW_AR_CREATED,
     .body = push_body,
     .stmts = {{"SELECT aistudio.push_config($5)", .flags = GW_AS_SETS_ID}},
     .fetch = "SELECT json_build_object('push_id', $1::bigint, 'namespace', $5::text,"
              " 'targets', (SELECT count(*) FROM aistudio.get_push($1::bigint)))"},
    /* enrolment: the token is returned once, next to the edge (the SETS_ID
     * statement hands it to the fetch as $1; it is never stored in clear) */
    {.method = "POST",
     .path = "edges",
     .result = GW_AR_CREATED,
     .body = edge_enroll,
     .stmts = {{"SELECT aistudio.enroll_edge($5, coalesce($6, ''))", .flags = GW_AS_SETS_ID}},
     .fetch = "SELECT to_jsonb(e) || jsonb_build_object('token', $1::text) FROM aistudio.get_edge($5) e"},
    OP_GET("edges/{name}", GET_EDGE),
    {.method = "POST",
     .path = "edges/{name}/revoke",
     .result = GW_AR_OBJECT,
     .stmts = {{"SELECT aistudio.revoke_edge($1)"}},
     .fetch = GET_EDGE},
    {.method = "GET",
     .path = "edges/{name}/metrics",
     .result = GW_AR_DATA,
     .query = edge_metrics_query,
     .stmts = {{"SELECT coalesce(json_agg(to_jsonb(t) - 'ordinality' ORDER BY t.ordinality), '[]'::json)"
                " FROM ROWS FROM (aistudio.edge_metrics($1, coalesce($5::int, 60))) WITH ORDINALITY t"}}},
    OP_DELETE("edges/{name}", "SELECT aistudio.delete_edge($1)"),
    OP_LIST("pushes", NULL, LIST("aistudio.list_pushes(limit_rows => $3::int, offset_rows => $4::int)")),
    {.method = "GET",
     .path = "pushes/{id}",
     .result = GW_AR_OBJECT,
     .fetch = "SELECT json_build_object('push_id', $1::bigint, 'targets', count(*),"
              " 'signalled', count(*) FILTER (WHERE g.phase = 'signalled'),"
              " 'pulling', count(*) FILTER (WHERE g.phase = 'pulling'),"
              " 'applied', count(*) FILTER (WHERE g.phase = 'applied'),"
              " 'failed', count(*) FILTER (WHERE g.phase = 'failed'),"
              " 'edges', coalesce(json_agg(to_jsonb(g) ORDER BY g.edge_id), '[]'::json))"
              " FROM aistudio.get_push($1::bigint) g"},

    /* audit log (super admin) */
    OP_LIST("audit-log", audit_query,
            LIST("aistudio.list_audit_entries(since => $5::timestamptz, until => $6::timestamptz,"
                 " by_object_type => $7, by_actor_id => $8::bigint, by_action => $9, limit_rows => $3::int,"
                 " offset_rows => $4::int)")),

    /* single sign-on providers (super admin); client secrets only as $SECRET/ references */
    OP_LIST("sso-providers", NULL, LIST("aistudio.list_sso_providers($3::int, $4::int)")),
    {.method = "POST",
     .path = "sso-providers",
     .result = GW_AR_CREATED,
     .body = sso_create,
     .stmts = {{"SELECT aistudio.create_sso_provider(slug => $5, display_name => $6, issuer => $7, client_id => $8,"
                " client_secret_ref => $9, scopes => coalesce($10, 'openid email profile'),"
                " allowed_domains => coalesce(" TEXTS(
                    "$11") ", '{}'), auto_provision => coalesce($12::boolean, false),"
                           " default_role => coalesce($13, 'chat_user'), default_group_ids => coalesce(" IDS(
                               "$14") ", '{}'),"
                                      " enabled => coalesce($15::boolean, true))",
                .flags = GW_AS_SETS_ID}},
     .fetch = GET_SSO},
    OP_GET("sso-providers/{id}", GET_SSO),
    OP_CHANGE("PATCH", "sso-providers/{id}", sso_update,
              "SELECT aistudio.update_sso_provider($1::bigint, slug => $5, display_name => $6, issuer => $7,"
              " client_id => $8, client_secret_ref => CASE WHEN $16 IS NOT NULL THEN '' ELSE $9 END,"
              " scopes => $10, allowed_domains => " TEXTS("$11") ", auto_provision => $12::boolean,"
                                                                 " default_role => $13, default_group_ids => " IDS(
                                                                     "$14") ", enabled => $15::boolean)",
              GET_SSO),
    OP_DELETE("sso-providers/{id}", "SELECT aistudio.delete_sso_provider($1::bigint)"),

    /* budget notifications */
    OP_LIST("notifications", notification_query,
            LIST("aistudio.list_budget_notifications(only_open => coalesce($5::boolean, false),"
                 " limit_rows => $3::int, offset_rows => $4::int)")),
    {.method = "POST",
     .path = "notifications/{id}/acknowledge",
     .result = GW_AR_NONE,
     .stmts = {{"SELECT aistudio.acknowledge_budget_notification($1::bigint)"}}},
};

const size_t gw_admin_resource_nops = sizeof(gw_admin_resource_ops) / sizeof(gw_admin_resource_ops[0]);
