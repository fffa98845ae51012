/*
 * src/admin/oidc.c: discovery, JWK sets, the token request and ID token
 * verification of single sign-on (see oidc.h).
 *
 * Singleton: gw_oidc_cache, the per-issuer cache of discovery documents and
 * JWK sets, guarded by its mutex. Network requests run without the lock;
 * a fetched document or key set replaces the cached one under it, and a
 * token is verified under it (the keys live there; a check takes well
 * under a millisecond). Admin threads are the only users.
 */
#include "admin/oidc.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/vjson.h"
#include "base/url.h"

typedef struct gw_oidc_entry {
    char issuer[GW_OIDC_URL_MAX];
    gw_oidc_meta meta;
    int64_t meta_at; /* monotonic ms of the fetch; 0 = none */
    gw_jwks jwks;
    int64_t jwks_at; /* 0 = none */
} gw_oidc_entry;

static struct {
    pthread_mutex_t mu;
    gw_oidc_entry *e[GW_OIDC_MAX_ISSUERS];
    size_t n;
} gw_oidc_cache = {PTHREAD_MUTEX_INITIALIZER, {NULL}, 0};

/* ---- URLs and forms ---- */

/* Appends s percent-encoded (all but the unreserved characters of RFC 3986). */
static void gw_oidc_pct(gw_buf *b, const char *s)
{
    char enc[3 * 256];

    for (size_t n = strlen(s), i = 0; i < n; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        gw_buf_append(b, enc, gw_url_encode(s + i, k, enc));
    }
    explicit_bzero(enc, sizeof(enc)); /* a client secret passes here */
}

int gw_oidc_append_param(gw_buf *b, const char *key, const char *value)
{
    char last = b->len > 0 ? b->data[b->len - 1] : '?';

    if (last != '?' && last != '&')
        gw_buf_append(b, "&", 1);
    gw_buf_puts(b, key);
    gw_buf_append(b, "=", 1);
    gw_oidc_pct(b, value);
    return b->failed ? -1 : 0;
}

/* 1 when url is an http(s) URL without spaces or control characters, and
 * https when the issuer is. */
static int gw_oidc_url_ok(const char *url, const char *issuer)
{
    int https = strncmp(url, "https://", 8) == 0;

    if (!https && (strncmp(url, "http://", 7) != 0 || strncmp(issuer, "https://", 8) == 0))
        return 0;
    if (strlen(url) >= GW_OIDC_URL_MAX || url[https ? 8 : 7] == '\0')
        return 0;
    for (const char *c = url; *c != '\0'; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

/* ---- HTTP ---- */

static size_t gw_oidc_write_cb(char *p, size_t size, size_t n, void *ud)
{
    gw_buf *b = ud;
    return gw_buf_append(b, p, size * n) == 0 ? size * n : 0; /* 0 aborts: over the cap */
}

/*
 * GET url, or POST form (application/x-www-form-urlencoded) with an
 * optional Authorization header value. body receives the response (at most
 * GW_OIDC_RESPONSE_MAX); *status its HTTP status.
 */
static int gw_oidc_http(const char *url, const char *form, const char *authorization, gw_buf *body, long *status,
                        char *err)
{
    CURL *e = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char auth[1024];
    CURLcode rc;

    *status = 0;
    if (e == NULL)
        return gw_errf(err, "out of memory");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (authorization != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: %s", authorization);
        hdrs = curl_slist_append(hdrs, auth);
        explicit_bzero(auth, sizeof(auth));
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)GW_OIDC_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)GW_OIDC_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "pg_aistudio-gatewayd");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, gw_oidc_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
    if (form != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(e);
    for (struct curl_slist *h = hdrs; h != NULL; h = h->next) /* the Basic credentials */
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(hdrs);
    if (rc == CURLE_WRITE_ERROR && body->failed)
        return gw_errf(err, "the response is larger than %d bytes", GW_OIDC_RESPONSE_MAX);
    if (rc != CURLE_OK)
        return gw_errf(err, "%s", curl_easy_strerror(rc));
    gw_buf_cstr(body);
    return body->failed ? gw_errf(err, "out of memory") : 0;
}

/* GET url as a JSON object into body/root. */
static int gw_oidc_get_json(const char *url, const char *what, gw_buf *body, gw_json_value *root, char *err)
{
    char tmp[GW_ERR_LEN];
    long status;

    if (gw_oidc_http(url, NULL, NULL, body, &status, tmp) != 0)
        return gw_errf(err, "cannot fetch the %s from %.200s: %s", what, url, tmp);
    if (status != 200)
        return gw_errf(err, "the %s at %.200s answered HTTP %ld", what, url, status);
    if (gw_vj_parse(body->data, body->len, root, tmp) != 0 || root->type != GW_JSON_OBJECT)
        return gw_errf(err, "the %s at %.200s is not a JSON object", what, url);
    return 0;
}

/* ---- the cache (callers hold gw_oidc_cache.mu) ---- */

static gw_oidc_entry *gw_oidc_find(const char *issuer)
{
    for (size_t i = 0; i < gw_oidc_cache.n; i++)
        if (strcmp(gw_oidc_cache.e[i]->issuer, issuer) == 0)
            return gw_oidc_cache.e[i];
    return NULL;
}

/* The issuer's entry, made (evicting the oldest) when missing; NULL when out of memory. */
static gw_oidc_entry *gw_oidc_entry_for(const char *issuer)
{
    gw_oidc_entry *e = gw_oidc_find(issuer);
    size_t oldest = 0;

    if (e != NULL)
        return e;
    if (gw_oidc_cache.n == GW_OIDC_MAX_ISSUERS) {
        for (size_t i = 1; i < gw_oidc_cache.n; i++)
            if (gw_oidc_cache.e[i]->meta_at < gw_oidc_cache.e[oldest]->meta_at)
                oldest = i;
        gw_jwks_free(&gw_oidc_cache.e[oldest]->jwks);
        free(gw_oidc_cache.e[oldest]);
        gw_oidc_cache.e[oldest] = gw_oidc_cache.e[--gw_oidc_cache.n];
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    snprintf(e->issuer, sizeof(e->issuer), "%s", issuer);
    gw_oidc_cache.e[gw_oidc_cache.n++] = e;
    return e;
}

static int gw_oidc_fresh(int64_t at)
{
    return at != 0 && gw_now_ms() - at < GW_OIDC_CACHE_MS;
}

void gw_oidc_cache_clear(void)
{
    pthread_mutex_lock(&gw_oidc_cache.mu);
    for (size_t i = 0; i < gw_oidc_cache.n; i++) {
        gw_jwks_free(&gw_oidc_cache.e[i]->jwks);
        free(gw_oidc_cache.e[i]);
    }
    gw_oidc_cache.n = 0;
    pthread_mutex_unlock(&gw_oidc_cache.mu);
}

/* ---- discovery ---- */

/* A URL member of the discovery document into out. */
static int gw_oidc_meta_url(const gw_json_value *root, const char *name, const char *issuer, char *out, char *err)
{
    gw_json_value v;
    size_t n;

    if (!gw_vj_get(root, name, &v) || v.type != GW_JSON_STRING ||
        gw_json_get_string(&v, out, GW_OIDC_URL_MAX, &n) != 0 || !gw_oidc_url_ok(out, issuer))
        return gw_errf(err, "the discovery document of %.200s has no usable %s", issuer, name);
    return 0;
}

int gw_oidc_discover(const char *issuer, gw_oidc_meta *out, char err[GW_ERR_LEN])
{
    gw_oidc_entry *e;
    gw_json_value root, v;
    gw_buf body;
    char url[GW_OIDC_URL_MAX + 64], got[GW_OIDC_URL_MAX];
    gw_oidc_meta meta;
    size_t n;
    int rc = -1;

    pthread_mutex_lock(&gw_oidc_cache.mu);
    e = gw_oidc_find(issuer);
    if (e != NULL && gw_oidc_fresh(e->meta_at)) {
        *out = e->meta;
        pthread_mutex_unlock(&gw_oidc_cache.mu);
        return 0;
    }
    pthread_mutex_unlock(&gw_oidc_cache.mu);

    if (!gw_oidc_url_ok(issuer, issuer))
        return gw_errf(err, "the issuer is not an http(s) URL");
    snprintf(url, sizeof(url), "%s/.well-known/openid-configuration", issuer);
    gw_buf_init(&body, GW_OIDC_RESPONSE_MAX);
    memset(&meta, 0, sizeof(meta));
    if (gw_oidc_get_json(url, "discovery document", &body, &root, err) != 0)
        goto out;
    if (!gw_vj_get(&root, "issuer", &v) || gw_json_get_string(&v, got, sizeof(got), &n) != 0 ||
        strcmp(got, issuer) != 0) {
        gw_errf(err, "the discovery document of %.200s names another issuer", issuer);
        goto out;
    }
    if (gw_oidc_meta_url(&root, "authorization_endpoint", issuer, meta.authorization_endpoint, err) != 0 ||
        gw_oidc_meta_url(&root, "token_endpoint", issuer, meta.token_endpoint, err) != 0 ||
        gw_oidc_meta_url(&root, "jwks_uri", issuer, meta.jwks_uri, err) != 0)
        goto out;
    pthread_mutex_lock(&gw_oidc_cache.mu);
    if ((e = gw_oidc_entry_for(issuer)) != NULL) {
        e->meta = meta;
        e->meta_at = gw_now_ms();
    }
    pthread_mutex_unlock(&gw_oidc_cache.mu);
    *out = meta;
    rc = 0;
out:
    gw_buf_free(&body);
    return rc;
}

/* ---- the token request ---- */

/* "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 §2.3.1) into out. */
static int gw_oidc_basic(const gw_oidc_client *c, char *out, size_t cap)
{
    gw_buf b;
    int rc = -1;

    gw_buf_init(&b, 2048);
    gw_oidc_pct(&b, c->client_id);
    gw_buf_append(&b, ":", 1);
    gw_oidc_pct(&b, c->client_secret);
    if (!b.failed && cap >= 6 + 4 * ((b.len + 2) / 3) + 1) {
        memcpy(out, "Basic ", 6);
        EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)b.data, (int)b.len);
        rc = 0;
    }
    if (b.data != NULL)
        explicit_bzero(b.data, b.cap);
    gw_buf_free(&b);
    return rc;
}

/* A short printable code from a token endpoint's error answer. */
static void gw_oidc_error_code(const gw_buf *body, char *out, size_t cap)
{
    gw_json_value root, v;
    char tmp[GW_ERR_LEN];

    snprintf(out, cap, "no error code");
    if (body->len == 0 || gw_vj_parse(body->data, body->len, &root, tmp) != 0 || !gw_vj_get(&root, "error", &v) ||
        gw_vj_str_copy(&v, out, cap) <= 0)
        return;
    for (char *c = out; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-' || *c == '.'))
            *c = '?';
}

int gw_oidc_exchange_code(const gw_oidc_client *client, const char *code, const char *redirect_uri,
                          const char *code_verifier, char **id_token, char err[GW_ERR_LEN])
{
    gw_oidc_meta meta;
    gw_buf form, body;
    gw_json_value root, v;
    char auth[1024], tmp[GW_ERR_LEN];
    long status;
    int rc = -1;

    *id_token = NULL;
    if (gw_oidc_discover(client->issuer, &meta, err) != 0)
        return -1;
    gw_buf_init(&form, 64 * 1024);
    gw_buf_init(&body, GW_OIDC_RESPONSE_MAX);
    gw_oidc_append_param(&form, "grant_type", "authorization_code");
    gw_oidc_append_param(&form, "code", code);
    gw_oidc_append_param(&form, "redirect_uri", redirect_uri);
    gw_oidc_append_param(&form, "code_verifier", code_verifier);
    if (gw_oidc_append_param(&form, "client_id", client->client_id) != 0 || gw_buf_cstr(&form) == NULL) {
        gw_errf(err, "the token request is too large");
        goto out;
    }
    if (client->client_secret != NULL && gw_oidc_basic(client, auth, sizeof(auth)) != 0) {
        gw_errf(err, "the client id and secret are too long");
        goto out;
    }
    if (gw_oidc_http(meta.token_endpoint, form.data, client->client_secret != NULL ? auth : NULL, &body, &status,
                     tmp) != 0) {
        gw_errf(err, "the token request to %.200s failed: %s", meta.token_endpoint, tmp);
        goto out;
    }
    if (status != 200) {
        gw_oidc_error_code(&body, tmp, 80);
        gw_errf(err, "the token endpoint %.200s refused the code (HTTP %ld, %s)", meta.token_endpoint, status, tmp);
        goto out;
    }
    if (gw_vj_parse(body.data, body.len, &root, tmp) != 0 || root.type != GW_JSON_OBJECT ||
        !gw_vj_get(&root, "id_token", &v) || v.type != GW_JSON_STRING || v.len > GW_JWT_MAX_LEN + 2) {
        gw_errf(err, "the token endpoint's answer has no usable id_token");
        goto out;
    }
    *id_token = malloc(v.len);
    if (*id_token == NULL || gw_vj_str_copy(&v, *id_token, v.len) <= 0) {
        free(*id_token);
        *id_token = NULL;
        gw_errf(err, "the token endpoint's answer has no usable id_token");
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(auth, sizeof(auth));
    if (form.data != NULL)
        explicit_bzero(form.data, form.cap);
    if (body.data != NULL) /* it holds the tokens */
        explicit_bzero(body.data, body.cap);
    gw_buf_free(&form);
    gw_buf_free(&body);
    return rc;
}

/* ---- ID tokens ---- */

/* Verifies with the cached keys of the issuer; 1 when they hold no key for
 * the token (or are stale), so the caller fetches them. */
static int gw_oidc_verify_cached(const gw_oidc_client *c, const gw_jwt *jwt, const gw_jwt_expect *want,
                                 gw_jwt_claims *out, int any_age, char *err)
{
    gw_oidc_entry *e;
    const gw_jwk *key;
    int rc = 1;

    pthread_mutex_lock(&gw_oidc_cache.mu);
    e = gw_oidc_find(c->issuer);
    if (e != NULL && (any_age ? e->jwks_at != 0 : gw_oidc_fresh(e->jwks_at)) &&
        (key = gw_jwks_find(&e->jwks, jwt)) != NULL) {
        rc = gw_jwt_verify_signature(jwt, key, err) == 0 ? gw_jwt_check_claims(jwt, want, out, err) : -1;
    }
    pthread_mutex_unlock(&gw_oidc_cache.mu);
    return rc;
}

/* Fetches the issuer's JWK set into the cache. */
static int gw_oidc_fetch_keys(const gw_oidc_client *c, char *err)
{
    gw_oidc_meta meta;
    gw_oidc_entry *e;
    gw_json_value root;
    gw_jwks keys;
    gw_buf body;
    int rc = -1;

    if (gw_oidc_discover(c->issuer, &meta, err) != 0)
        return -1;
    gw_buf_init(&body, GW_OIDC_RESPONSE_MAX);
    if (gw_oidc_get_json(meta.jwks_uri, "JWK set", &body, &root, err) == 0 &&
        gw_jwks_parse(body.data, body.len, &keys, err) == 0) {
        pthread_mutex_lock(&gw_oidc_cache.mu);
        if ((e = gw_oidc_entry_for(c->issuer)) != NULL) {
            gw_jwks_free(&e->jwks);
            e->jwks = keys;
            e->jwks_at = gw_now_ms();
            rc = 0;
        } else {
            gw_jwks_free(&keys);
            gw_errf(err, "out of memory");
        }
        pthread_mutex_unlock(&gw_oidc_cache.mu);
    }
    gw_buf_free(&body);
    return rc;
}

int gw_oidc_verify_id_token(const gw_oidc_client *client, const char *nonce, const char *id_token, gw_jwt_claims *out,
                            char err[GW_ERR_LEN])
{
    gw_jwt_expect want = {client->issuer, client->client_id, nonce, 0};
    gw_jwt jwt;
    int rc;

    if (gw_jwt_parse(id_token, strlen(id_token), &jwt, err) != 0)
        return -1;
    rc = gw_oidc_verify_cached(client, &jwt, &want, out, 0, err);
    if (rc == 1) { /* stale keys, or an unknown kid: fetch the set once more */
        if (gw_oidc_fetch_keys(client, err) != 0)
            rc = -1;
        else if ((rc = gw_oidc_verify_cached(client, &jwt, &want, out, 1, err)) == 1)
            rc = gw_errf(err, "no key of the provider fits the token (kid \"%.64s\")", jwt.kid);
    }
    gw_jwt_free(&jwt);
    return rc;
}
