/*
 * src/admin/oidc.h: the OpenID Connect relying party of the admin server —
 * the network half of single sign-on (admin_sso.c is the HTTP half, the
 * extension keeps providers, pending logins and users).
 *
 *  - discovery: <issuer>/.well-known/openid-configuration, whose "issuer"
 *    must equal the configured one, cached per issuer for an hour;
 *  - the provider's JWK set (jwks_uri), cached for an hour and fetched
 *    again once when an ID token names a key id it does not hold (key
 *    rotation);
 *  - the token request of the authorization-code flow with PKCE (client
 *    secret, when the provider has one, by HTTP Basic);
 *  - ID token verification (admin/jwt.h).
 *
 * All requests: libcurl, http(s) only (https only when the issuer is
 * https), no redirects followed, 10 s timeouts, responses capped at 1 MiB.
 * Codes, tokens and secrets never reach a log line or an error message.
 */
#ifndef GW_HTTP_OIDC_H
#define GW_HTTP_OIDC_H

#include "base/buf.h"
#include "base/common.h"
#include "admin/jwt.h"

#define GW_OIDC_URL_MAX 2048
#define GW_OIDC_TIMEOUT_MS 10000
#define GW_OIDC_RESPONSE_MAX (1024 * 1024)
#define GW_OIDC_CACHE_MS (3600 * 1000) /* discovery documents and JWK sets */
#define GW_OIDC_MAX_ISSUERS 64         /* cached issuers; the oldest goes */

/* What the flow needs from a discovery document. */
typedef struct gw_oidc_meta {
    char authorization_endpoint[GW_OIDC_URL_MAX];
    char token_endpoint[GW_OIDC_URL_MAX];
    char jwks_uri[GW_OIDC_URL_MAX];
} gw_oidc_meta;

/* The provider as configured (from aistudio.sso_finish). */
typedef struct gw_oidc_client {
    const char *issuer;
    const char *client_id;
    const char *client_secret; /* NULL: a public client (PKCE only) */
} gw_oidc_client;

/* The endpoints of an issuer (cached). */
int gw_oidc_discover(const char *issuer, gw_oidc_meta *out, char err[GW_ERR_LEN]);

/* Redeems an authorization code at the token endpoint; *id_token is the
 * ID token of the answer (malloc, the caller frees). */
int gw_oidc_exchange_code(const gw_oidc_client *client, const char *code, const char *redirect_uri,
                          const char *code_verifier, char **id_token, char err[GW_ERR_LEN]);

/* Verifies an ID token with the issuer's keys: signature, iss, aud/azp,
 * times, nonce. */
int gw_oidc_verify_id_token(const gw_oidc_client *client, const char *nonce, const char *id_token, gw_jwt_claims *out,
                            char err[GW_ERR_LEN]);

/* Appends key=value (percent-encoded, every byte but A-Z a-z 0-9 - . _ ~)
 * to a query string or form body, with '&' unless b is empty or ends with
 * '?' or '&'. */
int gw_oidc_append_param(gw_buf *b, const char *key, const char *value);

/* Forgets every cached document and key (shutdown, tests). */
void gw_oidc_cache_clear(void);

#endif
