/*
 * src/admin/jwt.h: JSON Web Tokens as OpenID Connect ID tokens use them —
 * JWS compact serialization signed RS256/RS384/RS512 or ES256, keys from a
 * JWK set (RFC 7515/7517/7518, OpenID Connect Core §3.1.3.7) — and
 * base64url.
 *
 * Verification is three steps, so a caller that caches the JWK set can
 * refetch it when a token names a key it does not know: gw_jwt_parse (form,
 * header, algorithm), gw_jwks_find + gw_jwt_verify_signature (OpenSSL 3),
 * gw_jwt_check_claims (iss, aud/azp, exp/iat/nbf with a leeway, nonce in
 * constant time, sub). gw_jwt_verify does all of them. Refused: alg "none"
 * and HS* (and any other), a "crit" header, unknown key ids, bad
 * signatures, malformed base64url or JSON, tokens over GW_JWT_MAX_LEN.
 * Error messages never contain the token.
 */
#ifndef GW_JWT_H
#define GW_JWT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_JWT_MAX_LEN 16384 /* longest compact token accepted, bytes */
#define GW_JWT_LEEWAY_S 60   /* clock skew allowed on exp, iat and nbf */
#define GW_JWKS_MAX_KEYS 32  /* usable keys kept from one JWK set */
#define GW_JWT_KID_MAX 128
#define GW_JWT_NAME_CHARS 200 /* the name claim is cut to this many characters */

typedef enum gw_jwt_alg { GW_JWT_NONE = 0, GW_JWT_RS256, GW_JWT_RS384, GW_JWT_RS512, GW_JWT_ES256 } gw_jwt_alg;

/* A public key of a JWK set. */
typedef struct gw_jwk {
    char kid[GW_JWT_KID_MAX]; /* "" when the key has none */
    int ec;                   /* 1: EC P-256 (ES256), 0: RSA (RS*) */
    gw_jwt_alg alg;           /* the key's "alg", GW_JWT_NONE when absent */
    EVP_PKEY *pkey;
} gw_jwk;

typedef struct gw_jwks {
    gw_jwk keys[GW_JWKS_MAX_KEYS];
    size_t n;
} gw_jwks;

/* A parsed token (decoded header and payload, raw signature). */
typedef struct gw_jwt {
    gw_jwt_alg alg;
    char kid[GW_JWT_KID_MAX]; /* "" when absent */
    char *header;             /* decoded JSON, NUL-terminated (malloc) */
    char *payload;            /* decoded JSON, NUL-terminated (malloc) */
    size_t payload_len;
    unsigned char *sig; /* malloc */
    size_t sig_len;
    char *signing_input; /* "<header>.<payload>" as in the token (malloc) */
    size_t signing_len;
} gw_jwt;

/* What the claims must say. */
typedef struct gw_jwt_expect {
    const char *issuer;    /* iss, exactly */
    const char *client_id; /* in aud; azp when present (required when aud has several) */
    const char *nonce;     /* nonce, compared in constant time */
    int64_t now;           /* seconds since the epoch; 0 = the current time */
} gw_jwt_expect;

/* The claims a login needs. */
typedef struct gw_jwt_claims {
    char sub[256];
    char email[256];                      /* "" when absent */
    int email_verified;                   /* email_verified (else Entra ID's xms_edov) is true */
    char name[GW_JWT_NAME_CHARS * 4 + 1]; /* "" when absent */
    int64_t exp, iat;
} gw_jwt_claims;

/* Parses a JWK set ({"keys": [...]}) and keeps its usable signing keys
 * (RSA of at least 2048 bits, EC P-256; "use" absent or "sig"; others are
 * skipped). -1 on malformed JSON or no "keys" array. */
int gw_jwks_parse(const char *json, size_t len, gw_jwks *out, char err[GW_ERR_LEN]);
void gw_jwks_free(gw_jwks *set);

/* Splits and decodes a compact token; checks its form and algorithm. */
int gw_jwt_parse(const char *token, size_t len, gw_jwt *out, char err[GW_ERR_LEN]);
void gw_jwt_free(gw_jwt *jwt);
/* The key for the token: its kid (or, without one, the only key of its
 * type) with a type and alg that fit. NULL when there is none. */
const gw_jwk *gw_jwks_find(const gw_jwks *set, const gw_jwt *jwt);
int gw_jwt_verify_signature(const gw_jwt *jwt, const gw_jwk *key, char err[GW_ERR_LEN]);
int gw_jwt_check_claims(const gw_jwt *jwt, const gw_jwt_expect *want, gw_jwt_claims *out, char err[GW_ERR_LEN]);
/* All of the above. */
int gw_jwt_verify(const char *token, size_t len, const gw_jwks *keys, const gw_jwt_expect *want, gw_jwt_claims *out,
                  char err[GW_ERR_LEN]);

#endif
