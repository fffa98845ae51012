/*
 * src/admin/jwt.c: ID token verification (see jwt.h): base64url, JWK →
 * EVP_PKEY with OpenSSL 3 (OSSL_PARAM_BLD + EVP_PKEY_fromdata), JWS
 * signature checks (RSASSA-PKCS1-v1_5 with SHA-256/384/512, ECDSA P-256
 * whose raw R||S signature becomes DER for OpenSSL) and the claim checks of
 * OpenID Connect Core §3.1.3.7. JSON is validated by base/json.c and
 * navigated with base/vjson.h (object members, array elements).
 */
#include "admin/jwt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "base/vjson.h"
#include "base/codec.h"

/* Decodes a base64url span into a new NUL-terminated buffer. */
static unsigned char *gw_b64url_decode_dup(const char *in, size_t n, size_t *out_len)
{
    unsigned char *buf = malloc(n * 3 / 4 + 2);

    if (buf == NULL)
        return NULL;
    if (gw_b64url_decode(in, n, buf, n * 3 / 4 + 1, out_len) != 0) {
        free(buf);
        return NULL;
    }
    buf[*out_len] = '\0';
    return buf;
}

/* A string member of obj decoded with base64url into out (exactly want
 * bytes unless want is 0; at most cap). -1 when absent or malformed. */
static int gw_jwk_bytes(const gw_json_value *obj, const char *name, unsigned char *out, size_t cap, size_t want,
                        size_t *n)
{
    gw_json_value v;
    char tmp[1400];
    int len;

    if (!gw_vj_get(obj, name, &v) || v.type != GW_JSON_STRING || v.len > sizeof(tmp))
        return -1;
    len = gw_vj_str_copy(&v, tmp, sizeof(tmp));
    if (len <= 0 || gw_b64url_decode(tmp, (size_t)len, out, cap, n) != 0)
        return -1;
    return want == 0 || *n == want ? 0 : -1;
}

/* ---- algorithms and keys ---- */

static gw_jwt_alg gw_jwt_alg_from(const char *s)
{
    if (strcmp(s, "RS256") == 0)
        return GW_JWT_RS256;
    if (strcmp(s, "RS384") == 0)
        return GW_JWT_RS384;
    if (strcmp(s, "RS512") == 0)
        return GW_JWT_RS512;
    if (strcmp(s, "ES256") == 0)
        return GW_JWT_ES256;
    return GW_JWT_NONE;
}

static const EVP_MD *gw_jwt_md(gw_jwt_alg alg)
{
    switch (alg) {
    case GW_JWT_RS384:
        return EVP_sha384();
    case GW_JWT_RS512:
        return EVP_sha512();
    default:
        return EVP_sha256();
    }
}

/* EVP_PKEY of type name ("RSA", "EC") from OSSL parameters. */
static EVP_PKEY *gw_pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    EVP_PKEY *pkey = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *gw_jwk_rsa(const gw_json_value *obj)
{
    unsigned char n[1024], e[8];
    size_t nl, el;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;

    if (gw_jwk_bytes(obj, "n", n, sizeof(n), 0, &nl) != 0 || gw_jwk_bytes(obj, "e", e, sizeof(e), 0, &el) != 0)
        return NULL;
    bld = OSSL_PARAM_BLD_new();
    bn_n = BN_bin2bn(n, (int)nl, NULL);
    bn_e = BN_bin2bn(e, (int)el, NULL);
    if (bld != NULL && bn_n != NULL && bn_e != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        pkey = gw_pkey_fromdata("RSA", bld);
    BN_free(bn_n);
    BN_free(bn_e);
    OSSL_PARAM_BLD_free(bld);
    if (pkey != NULL && EVP_PKEY_get_bits(pkey) < 2048) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static EVP_PKEY *gw_jwk_ec(const gw_json_value *obj)
{
    unsigned char pub[65];
    size_t xl, yl;
    gw_json_value crv;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;

    if (!gw_vj_get(obj, "crv", &crv) || !gw_vj_str_is(&crv, "P-256"))
        return NULL;
    pub[0] = 0x04; /* uncompressed point */
    if (gw_jwk_bytes(obj, "x", pub + 1, 32, 32, &xl) != 0 || gw_jwk_bytes(obj, "y", pub + 33, 32, 32, &yl) != 0)
        return NULL;
    bld = OSSL_PARAM_BLD_new();
    if (bld != NULL && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
        pkey = gw_pkey_fromdata("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (pkey != NULL) { /* the point must be on the curve */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (ctx == NULL || EVP_PKEY_public_check(ctx) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        EVP_PKEY_CTX_free(ctx);
    }
    return pkey;
}

/* One member of "keys" into out; -1 when it is not a usable signing key. */
static int gw_jwk_parse(const gw_json_value *obj, gw_jwk *out)
{
    gw_json_value v;
    char s[GW_JWT_KID_MAX];

    memset(out, 0, sizeof(*out));
    if (obj->type != GW_JSON_OBJECT)
        return -1;
    if (gw_vj_get(obj, "use", &v) && !gw_vj_str_is(&v, "sig"))
        return -1;
    if (gw_vj_get(obj, "kid", &v)) {
        if (v.type != GW_JSON_STRING || v.len >= sizeof(out->kid) || gw_vj_str_copy(&v, out->kid, sizeof(out->kid)) < 0)
            return -1;
    }
    if (gw_vj_get(obj, "alg", &v)) {
        if (gw_vj_str_copy(&v, s, sizeof(s)) < 0 || (out->alg = gw_jwt_alg_from(s)) == GW_JWT_NONE)
            return -1;
    }
    if (!gw_vj_get(obj, "kty", &v))
        return -1;
    if (gw_vj_str_is(&v, "RSA") && out->alg != GW_JWT_ES256) {
        out->pkey = gw_jwk_rsa(obj);
    } else if (gw_vj_str_is(&v, "EC") && (out->alg == GW_JWT_NONE || out->alg == GW_JWT_ES256)) {
        out->ec = 1;
        out->pkey = gw_jwk_ec(obj);
    }
    return out->pkey != NULL ? 0 : -1;
}

int gw_jwks_parse(const char *json, size_t len, gw_jwks *out, char err[GW_ERR_LEN])
{
    gw_json_value root, keys, k;
    gw_vj_iter it;
    char jerr[GW_ERR_LEN];

    memset(out, 0, sizeof(*out));
    if (gw_vj_parse(json, len, &root, jerr) != 0 || root.type != GW_JSON_OBJECT)
        return gw_errf(err, "the JWK set is not a JSON object");
    if (!gw_vj_get(&root, "keys", &keys) || keys.type != GW_JSON_ARRAY)
        return gw_errf(err, "the JWK set has no \"keys\" array");
    gw_vj_iter_init(&it, &keys);
    while (out->n < GW_JWKS_MAX_KEYS && gw_vj_next_elem(&it, &k))
        if (gw_jwk_parse(&k, &out->keys[out->n]) == 0)
            out->n++;
    return 0;
}

void gw_jwks_free(gw_jwks *set)
{
    for (size_t i = 0; i < set->n; i++)
        EVP_PKEY_free(set->keys[i].pkey);
    memset(set, 0, sizeof(*set));
}

const gw_jwk *gw_jwks_find(const gw_jwks *set, const gw_jwt *jwt)
{
    const gw_jwk *found = NULL;
    int ec = jwt->alg == GW_JWT_ES256;

    for (size_t i = 0; i < set->n; i++) {
        const gw_jwk *k = &set->keys[i];
        if (k->ec != ec || (k->alg != GW_JWT_NONE && k->alg != jwt->alg))
            continue;
        if (jwt->kid[0] != '\0') {
            if (strcmp(k->kid, jwt->kid) == 0)
                return k;
            continue;
        }
        if (found != NULL) /* no kid and several candidates: ambiguous */
            return NULL;
        found = k;
    }
    return found;
}

/* ---- tokens ---- */

void gw_jwt_free(gw_jwt *jwt)
{
    free(jwt->header);
    free(jwt->payload);
    free(jwt->sig);
    free(jwt->signing_input);
    memset(jwt, 0, sizeof(*jwt));
}

/* The header's alg, kid and crit. */
static int gw_jwt_header(gw_jwt *jwt, size_t len, char *err)
{
    gw_json_value root, v;
    char alg[32], jerr[GW_ERR_LEN];

    if (gw_vj_parse(jwt->header, len, &root, jerr) != 0 || root.type != GW_JSON_OBJECT)
        return gw_errf(err, "malformed token: the header is not a JSON object");
    if (!gw_vj_get(&root, "alg", &v) || v.type != GW_JSON_STRING || gw_vj_str_copy(&v, alg, sizeof(alg)) < 0)
        return gw_errf(err, "malformed token: the header has no \"alg\"");
    if (strcmp(alg, "none") == 0)
        return gw_errf(err, "unsigned tokens (alg \"none\") are refused");
    if (strncmp(alg, "HS", 2) == 0)
        return gw_errf(err, "symmetric signatures (alg \"%.8s\") are refused", alg);
    if ((jwt->alg = gw_jwt_alg_from(alg)) == GW_JWT_NONE)
        return gw_errf(err, "unsupported signature algorithm \"%.16s\"", alg);
    if (gw_vj_get(&root, "crit", &v))
        return gw_errf(err, "tokens with critical header extensions are refused");
    if (gw_vj_get(&root, "kid", &v) &&
        (v.type != GW_JSON_STRING || v.len >= sizeof(jwt->kid) || gw_vj_str_copy(&v, jwt->kid, sizeof(jwt->kid)) < 0))
        return gw_errf(err, "malformed token: bad \"kid\"");
    return 0;
}

int gw_jwt_parse(const char *token, size_t len, gw_jwt *out, char err[GW_ERR_LEN])
{
    const char *d1, *d2, *end = token + len;
    size_t hl;

    memset(out, 0, sizeof(*out));
    if (len > GW_JWT_MAX_LEN)
        return gw_errf(err, "token too large (%zu bytes, at most %d)", len, GW_JWT_MAX_LEN);
    d1 = memchr(token, '.', len);
    d2 = d1 != NULL ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL || d1 == token ||
        d2 == d1 + 1 || d2 + 1 == end)
        return gw_errf(err, "malformed token: not three non-empty parts");
    out->header = (char *)gw_b64url_decode_dup(token, (size_t)(d1 - token), &hl);
    out->payload = (char *)gw_b64url_decode_dup(d1 + 1, (size_t)(d2 - d1 - 1), &out->payload_len);
    out->sig = gw_b64url_decode_dup(d2 + 1, (size_t)(end - d2 - 1), &out->sig_len);
    if (out->header == NULL || out->payload == NULL || out->sig == NULL) {
        gw_jwt_free(out);
        return gw_errf(err, "malformed token: bad base64url");
    }
    if (gw_jwt_header(out, hl, err) != 0) {
        gw_jwt_free(out);
        return -1;
    }
    out->signing_len = (size_t)(d2 - token);
    out->signing_input = malloc(out->signing_len + 1);
    if (out->signing_input == NULL) {
        gw_jwt_free(out);
        return gw_errf(err, "out of memory");
    }
    memcpy(out->signing_input, token, out->signing_len);
    out->signing_input[out->signing_len] = '\0';
    return 0;
}

/* ES256: raw R||S (64 bytes) → DER; returns its length, 0 on failure. */
static size_t gw_es256_der(const unsigned char *raw, size_t n, unsigned char *der, size_t cap)
{
    ECDSA_SIG *sig;
    BIGNUM *r, *s;
    int len = 0;
    unsigned char *p = der;

    if (n != 64 || (sig = ECDSA_SIG_new()) == NULL)
        return 0;
    r = BN_bin2bn(raw, 32, NULL);
    s = BN_bin2bn(raw + 32, 32, NULL);
    if (r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
    } else if ((len = i2d_ECDSA_SIG(sig, NULL)) > 0 && (size_t)len <= cap) {
        len = i2d_ECDSA_SIG(sig, &p);
    } else {
        len = 0;
    }
    ECDSA_SIG_free(sig);
    return len > 0 ? (size_t)len : 0;
}

int gw_jwt_verify_signature(const gw_jwt *jwt, const gw_jwk *key, char err[GW_ERR_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    const unsigned char *sig = jwt->sig;
    size_t sig_len = jwt->sig_len;
    int ok = 0;

    if (md == NULL)
        return gw_errf(err, "out of memory");
    if (jwt->alg == GW_JWT_ES256) {
        sig_len = gw_es256_der(jwt->sig, jwt->sig_len, der, sizeof(der));
        sig = der;
    }
    if (sig_len > 0 && EVP_DigestVerifyInit(md, NULL, gw_jwt_md(jwt->alg), NULL, key->pkey) == 1)
        ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)jwt->signing_input, jwt->signing_len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : gw_errf(err, "bad token signature");
}

/* A NumericDate claim (integer, or a number with a fraction). */
static int gw_jwt_date(const gw_json_value *root, const char *name, int64_t *out)
{
    gw_json_value v;
    char tmp[32], *end;
    double d;

    if (!gw_vj_get(root, name, &v) || v.type != GW_JSON_NUMBER)
        return -1;
    if (gw_json_get_int64(&v, out) == 0)
        return 0;
    if (v.len >= sizeof(tmp))
        return -1;
    memcpy(tmp, v.ptr, v.len);
    tmp[v.len] = '\0';
    d = strtod(tmp, &end);
    if (*end != '\0' || d < 0 || d > 1e15)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* A string claim into out; 0 absent, 1 copied, -1 not a string or too long. */
static int gw_jwt_string(const gw_json_value *root, const char *name, char *out, size_t cap)
{
    gw_json_value v;
    size_t n;

    out[0] = '\0';
    if (!gw_vj_get(root, name, &v) || v.type == GW_JSON_NULL)
        return 0;
    if (v.type != GW_JSON_STRING || gw_json_get_string(&v, out, cap, &n) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 1;
}

/* aud holds client_id; azp equals it when present, and must be when aud has several. */
static int gw_jwt_audience(const gw_json_value *root, const char *client_id, char *err)
{
    gw_json_value aud, e;
    gw_vj_iter it;
    char s[512], azp[512];
    int n = 0, found = 0, has_azp;

    if (!gw_vj_get(root, "aud", &aud))
        return gw_errf(err, "the token has no audience (aud)");
    if (aud.type == GW_JSON_STRING) {
        n = 1;
        found = gw_jwt_string(root, "aud", s, sizeof(s)) == 1 && strcmp(s, client_id) == 0;
    } else if (aud.type == GW_JSON_ARRAY) {
        gw_vj_iter_init(&it, &aud);
        while (gw_vj_next_elem(&it, &e)) {
            size_t l;
            n++;
            if (e.type == GW_JSON_STRING && gw_json_get_string(&e, s, sizeof(s), &l) == 0 && strcmp(s, client_id) == 0)
                found = 1;
        }
    }
    if (!found)
        return gw_errf(err, "the token is not meant for this client (aud)");
    has_azp = gw_jwt_string(root, "azp", azp, sizeof(azp));
    if (has_azp < 0 || (has_azp == 1 && strcmp(azp, client_id) != 0))
        return gw_errf(err, "the token was issued to another client (azp)");
    if (n > 1 && has_azp != 1)
        return gw_errf(err, "the token has several audiences and no azp");
    return 0;
}

/* Cuts s to at most max characters at a UTF-8 boundary. */
static void gw_utf8_cut(char *s, size_t max)
{
    size_t chars = 0;
    for (char *p = s; *p != '\0'; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && ++chars > max) {
            *p = '\0';
            return;
        }
    }
}

int gw_jwt_check_claims(const gw_jwt *jwt, const gw_jwt_expect *want, gw_jwt_claims *out, char err[GW_ERR_LEN])
{
    gw_json_value root, v;
    char tmp[512], jerr[GW_ERR_LEN];
    int64_t now = want->now != 0 ? want->now : (int64_t)time(NULL), nbf;
    size_t nl;

    memset(out, 0, sizeof(*out));
    if (gw_vj_parse(jwt->payload, jwt->payload_len, &root, jerr) != 0 || root.type != GW_JSON_OBJECT)
        return gw_errf(err, "malformed token: the payload is not a JSON object");
    if (gw_jwt_string(&root, "iss", tmp, sizeof(tmp)) != 1 || strcmp(tmp, want->issuer) != 0)
        return gw_errf(err, "the token comes from another issuer (iss)");
    if (gw_jwt_audience(&root, want->client_id, err) != 0)
        return -1;
    if (gw_jwt_date(&root, "exp", &out->exp) != 0)
        return gw_errf(err, "the token has no valid expiry (exp)");
    if (out->exp <= now - GW_JWT_LEEWAY_S)
        return gw_errf(err, "the token has expired");
    if (gw_jwt_date(&root, "iat", &out->iat) != 0)
        return gw_errf(err, "the token has no valid issue time (iat)");
    if (out->iat > now + GW_JWT_LEEWAY_S)
        return gw_errf(err, "the token was issued in the future (iat)");
    if (gw_vj_get(&root, "nbf", &v) && (gw_jwt_date(&root, "nbf", &nbf) != 0 || nbf > now + GW_JWT_LEEWAY_S))
        return gw_errf(err, "the token is not valid yet (nbf)");
    nl = strlen(want->nonce);
    if (gw_jwt_string(&root, "nonce", tmp, sizeof(tmp)) != 1 || strlen(tmp) != nl ||
        CRYPTO_memcmp(tmp, want->nonce, nl) != 0)
        return gw_errf(err, "the token's nonce does not match the login");
    if (gw_jwt_string(&root, "sub", out->sub, sizeof(out->sub)) != 1 || out->sub[0] == '\0')
        return gw_errf(err, "the token has no subject (sub, at most 255 bytes)");
    if (gw_jwt_string(&root, "email", out->email, sizeof(out->email)) < 0)
        return gw_errf(err, "the token's email claim is not a string of at most 255 bytes");
    /* a boolean, some providers send "true"; Entra ID sends none but, as an
     * optional claim, xms_edov: the owner of the email's domain is verified */
    if (gw_vj_get(&root, "email_verified", &v) || gw_vj_get(&root, "xms_edov", &v))
        out->email_verified = v.type == GW_JSON_TRUE || gw_vj_str_is(&v, "true");
    if (gw_jwt_string(&root, "name", out->name, sizeof(out->name)) < 0)
        out->name[0] = '\0'; /* an over-long name is dropped, the email's local part serves */
    gw_utf8_cut(out->name, GW_JWT_NAME_CHARS);
    return 0;
}

int gw_jwt_verify(const char *token, size_t len, const gw_jwks *keys, const gw_jwt_expect *want, gw_jwt_claims *out,
                  char err[GW_ERR_LEN])
{
    gw_jwt jwt;
    const gw_jwk *key;
    int rc = -1;

    if (gw_jwt_parse(token, len, &jwt, err) != 0)
        return -1;
    if ((key = gw_jwks_find(keys, &jwt)) == NULL)
        gw_errf(err, "no key of the provider fits the token (kid \"%.64s\")", jwt.kid);
    else if (gw_jwt_verify_signature(&jwt, key, err) == 0)
        rc = gw_jwt_check_claims(&jwt, want, out, err);
    gw_jwt_free(&jwt);
    return rc;
}
