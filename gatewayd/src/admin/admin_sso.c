/*
 * src/admin/admin_sso.c: single sign-on with OpenID Connect on the admin
 * server — the authorization-code flow with PKCE (S256).
 *
 *   GET /api/v1/auth/sso                    the enabled providers (public)
 *   GET /api/v1/auth/sso/{slug}/login       aistudio.sso_begin, then 302 to
 *       the provider's authorization endpoint; the state token also goes
 *       into the cookie aistudio_sso_state (HttpOnly, SameSite=Lax, 10 min,
 *       Path=/api/v1/auth/sso), which binds the login to this browser
 *   GET /api/v1/auth/sso/{slug}/callback    the provider sends the browser
 *       back: state = cookie (constant time) → aistudio.sso_finish (the
 *       state is used up) → the token request → the ID token verified →
 *       aistudio.sso_login → the session cookies of a password login →
 *       302 to return_to. Any failure: 302 to /#/login?sso_error=<message>,
 *       with the reason logged (never a code, token or secret).
 *
 * The redirect URI is always PUBLIC_URL + /api/v1/auth/sso/<slug>/callback,
 * never derived from the request. The network calls run outside any
 * transaction, so a slow provider holds no database connection.
 */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/jwt.h"
#include "base/log.h"
#include "admin/admin_int.h"
#include "admin/oidc.h"
#include "db/sql.h"
#include "base/codec.h"

#define GW_SSO_STATE_COOKIE "aistudio_sso_state"
#define GW_SSO_PATH "/api/v1/auth/sso"
#define GW_SSO_STATE_MAX 128  /* 'aiso_' + 64 hex digits, with room to spare */
#define GW_SSO_CODE_MAX 4096  /* longest authorization code accepted */
#define GW_SSO_RETURN_MAX 512 /* longest return_to */
#define GW_SSO_LOGIN_PAGE "/#/login"


/* A login in progress, as aistudio.sso_finish returned it. */
typedef struct gw_sso_pending {
    const char *provider_id, *slug, *issuer, *client_id, *nonce, *code_verifier, *return_to;
    char *client_secret; /* NULL for a public client; wiped after use */
} gw_sso_pending;

/* 1 when s is a provider slug: [a-z0-9][a-z0-9-]{0,62}. */
static int gw_sso_slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-')
        return 0;
    for (const char *c = s; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return 0;
    return 1;
}

/* 1 when s is a local path: '/', not '//' or '/\', no control characters. */
static int gw_sso_local_path(const char *s)
{
    if (s == NULL || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > GW_SSO_RETURN_MAX)
        return 0;
    for (const char *c = s; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

/* A query parameter (decoded) into out; 0 absent, 1 found, -1 too long. */
static int gw_sso_query(gw_admin_req *r, const char *name, char *out, size_t cap)
{
    const char *qs = r->ri->query_string;
    int n;

    out[0] = '\0';
    if (qs == NULL)
        return 0;
    n = mg_get_var(qs, strlen(qs), name, out, cap);
    if (n == -2)
        return -1;
    return n >= 0 ? 1 : 0;
}

/* The state cookie that ends the pending login in the browser. */
static const char *gw_sso_state_cookie(gw_admin_req *r, const char *state, int max_age)
{
    return gw_admin_printf(r, GW_SSO_STATE_COOKIE "=%s; Path=" GW_SSO_PATH "; HttpOnly; SameSite=Lax; Max-Age=%d%s",
                           state, max_age, r->adm->cookie_secure ? "; Secure" : "");
}

static const char *gw_sso_redirect_uri(gw_admin_req *r, const char *slug)
{
    return gw_admin_printf(r, "%s" GW_SSO_PATH "/%s/callback", r->adm->srv->cfg.public_url, slug);
}

/*
 * One statement in a transaction of its own, committed at once, its
 * connection back in the pool (no connection is held while the provider
 * answers). The result has exactly one row; NULL when the statement failed
 * or returned no row: the error response was sent.
 */
static PGresult *gw_sso_exec(gw_admin_req *r, const char *sql, int n, const char *const *params)
{
    PGresult *res;

    if (gw_admin_tx_begin(r) != 0)
        return NULL;
    if (gw_admin_tx_exec_params(r, sql, n, params, &res) != 0) {
        gw_admin_send_dberr(r);
        return NULL;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        gw_admin_send_error(r, 500, "internal error", NULL);
        return NULL;
    }
    if (gw_admin_tx_commit(r) != 0) {
        PQclear(res);
        gw_admin_send_dberr(r);
        return NULL;
    }
    gw_admin_tx_end(r);
    return res;
}

/* ---- GET auth/sso ---- */

int gw_admin_sso_options(gw_admin_req *r)
{
    const char *public_url = r->adm->srv->cfg.public_url;
    PGresult *res;
    int status;

    if ((res = gw_sso_exec(r, GW_SQL_SSO_OPTIONS(GW_SSO_PATH), 1, &public_url)) == NULL)
        return r->status;
    status = gw_admin_send_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return status;
}

/* ---- GET auth/sso/{slug}/login ---- */

/* The provider's authorization URL for this login. */
static const char *gw_sso_authorize_url(gw_admin_req *r, const gw_oidc_meta *meta, PGresult *begin, const char *slug)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char challenge[64];
    const char *verifier = PQgetvalue(begin, 0, 2), *url = NULL;
    gw_buf b;

    SHA256((const unsigned char *)verifier, strlen(verifier), digest);
    gw_b64url_encode(digest, sizeof(digest), challenge, sizeof(challenge));
    gw_buf_init(&b, 3 * GW_OIDC_URL_MAX);
    gw_buf_puts(&b, meta->authorization_endpoint);
    if (strchr(meta->authorization_endpoint, '?') == NULL)
        gw_buf_append(&b, "?", 1);
    gw_oidc_append_param(&b, "response_type", "code");
    gw_oidc_append_param(&b, "client_id", PQgetvalue(begin, 0, 4));
    gw_oidc_append_param(&b, "redirect_uri", gw_sso_redirect_uri(r, slug));
    gw_oidc_append_param(&b, "scope", PQgetvalue(begin, 0, 5));
    gw_oidc_append_param(&b, "state", PQgetvalue(begin, 0, 0));
    gw_oidc_append_param(&b, "nonce", PQgetvalue(begin, 0, 1));
    gw_oidc_append_param(&b, "code_challenge", challenge);
    if (gw_oidc_append_param(&b, "code_challenge_method", "S256") == 0)
        url = gw_admin_strndup(r, b.data, b.len);
    gw_buf_free(&b);
    return url;
}

int gw_admin_sso_begin(gw_admin_req *r)
{
    const char *slug = r->segs[2];
    char return_to[GW_SSO_RETURN_MAX + 1], err[GW_ERR_LEN];
    const char *params[2] = {slug, NULL}, *url;
    gw_oidc_meta meta;
    PGresult *res;

    if (!gw_sso_slug_ok(slug))
        return gw_admin_send_error(r, 404, "no such single sign-on provider", "P0002");
    if (gw_sso_query(r, "return_to", return_to, sizeof(return_to)) == 1 && gw_sso_local_path(return_to))
        params[1] = return_to;
    if ((res = gw_sso_exec(r, GW_SQL_SSO_BEGIN, 2, params)) == NULL)
        return r->status;
    if (gw_oidc_discover(PQgetvalue(res, 0, 3), &meta, err) != 0) {
        gw_log_warn("sso %s: discovery failed: %s", slug, err);
        PQclear(res);
        return gw_admin_send_error(r, 502, err, "sso_provider_unavailable");
    }
    url = gw_sso_authorize_url(r, &meta, res, slug);
    r->set_cookie[2] = gw_sso_state_cookie(r, PQgetvalue(res, 0, 0), 600);
    PQclear(res);
    if (url == NULL || r->set_cookie[2] == NULL)
        return gw_admin_send_error(r, 500, "out of memory", NULL);
    return gw_admin_send_redirect(r, url);
}

/* ---- GET auth/sso/{slug}/callback ---- */

/* Every failure of the callback: the login page with the message. */
static int gw_sso_fail(gw_admin_req *r, int status, const char *message)
{
    const char *slug = r->segs[2];
    gw_buf b;
    const char *url;

    (void)status;
    if (message == NULL)
        message = "the sign-in failed";
    gw_log_warn("sso %s: sign-in failed: %s", gw_sso_slug_ok(slug) ? slug : "?", message);
    r->on_error = NULL;
    r->set_cookie[2] = gw_sso_state_cookie(r, "", 0);
    gw_buf_init(&b, 2048);
    gw_buf_puts(&b, GW_SSO_LOGIN_PAGE "?");
    gw_oidc_append_param(&b, "sso_error", message);
    url = b.failed ? GW_SSO_LOGIN_PAGE : gw_admin_strndup(r, b.data, b.len);
    gw_buf_free(&b);
    return gw_admin_send_redirect(r, url != NULL ? url : GW_SSO_LOGIN_PAGE);
}

/* Reads the state from the query and the cookie; they must be equal. */
static int gw_sso_check_state(gw_admin_req *r, char state[GW_SSO_STATE_MAX])
{
    const char *cookies = mg_get_header(r->conn, "Cookie");
    char cookie[GW_SSO_STATE_MAX];
    size_t n;

    if (gw_sso_query(r, "state", state, GW_SSO_STATE_MAX) != 1 || state[0] == '\0')
        return gw_sso_fail(r, 400, "the sign-in answer has no state: start again"), -1;
    n = strlen(state);
    if (cookies == NULL || mg_get_cookie(cookies, GW_SSO_STATE_COOKIE, cookie, sizeof(cookie)) <= 0 ||
        strlen(cookie) != n || CRYPTO_memcmp(cookie, state, n) != 0)
        return gw_sso_fail(r, 400, "the sign-in was started in another browser or has expired: start again"), -1;
    return 0;
}

/* aistudio.sso_finish: the pending login, used up (committed at once, so
 * a replayed callback finds nothing). -1: the response was sent. */
static int gw_sso_finish(gw_admin_req *r, const char *state, gw_sso_pending *p)
{
    PGresult *res;
    const char *v[8];

    if ((res = gw_sso_exec(r, GW_SQL_SSO_FINISH, 1, &state)) == NULL)
        return -1;
    for (int i = 0; i < 8; i++)
        v[i] =
            PQgetisnull(res, 0, i) ? NULL : gw_admin_strndup(r, PQgetvalue(res, 0, i), (size_t)PQgetlength(res, 0, i));
    if (!PQgetisnull(res, 0, 4)) /* the client secret: no copy left in libpq's memory */
        explicit_bzero(PQgetvalue(res, 0, 4), (size_t)PQgetlength(res, 0, 4));
    PQclear(res);
    *p = (gw_sso_pending){v[0], v[1], v[2], v[3], v[5], v[6], v[7], (char *)v[4]};
    if (p->provider_id == NULL || p->slug == NULL || p->issuer == NULL || p->client_id == NULL || p->nonce == NULL ||
        p->code_verifier == NULL)
        return gw_sso_fail(r, 500, "internal error"), -1;
    return 0;
}

/* The provider's answer: the ID token's claims (code exchanged, token verified). */
static int gw_sso_identify(gw_admin_req *r, const gw_sso_pending *p, const char *code, gw_jwt_claims *claims)
{
    gw_oidc_client client = {p->issuer, p->client_id, p->client_secret};
    char err[GW_ERR_LEN], *id_token = NULL;
    int rc;

    rc = gw_oidc_exchange_code(&client, code, gw_sso_redirect_uri(r, p->slug), p->code_verifier, &id_token, err);
    if (p->client_secret != NULL)
        explicit_bzero(p->client_secret, strlen(p->client_secret));
    if (rc != 0) {
        gw_log_warn("sso %s: %s", p->slug, err);
        return gw_sso_fail(r, 502, "the identity provider did not complete the sign-in"), -1;
    }
    rc = gw_oidc_verify_id_token(&client, p->nonce, id_token, claims, err);
    explicit_bzero(id_token, strlen(id_token));
    free(id_token);
    if (rc != 0) {
        char msg[GW_ERR_LEN + 64];
        snprintf(msg, sizeof(msg), "the identity provider's answer was refused: %s", err);
        return gw_sso_fail(r, 502, msg), -1;
    }
    return 0;
}

/* aistudio.sso_login and the session cookies; 302 to return_to. */
static int gw_sso_login(gw_admin_req *r, const gw_sso_pending *p, const gw_jwt_claims *c)
{
    const char *params[7];
    PGresult *res;

    gw_admin_read_session_cookie(r);
    params[0] = p->provider_id;
    params[1] = c->sub;
    params[2] = c->email[0] != '\0' ? c->email : NULL;
    params[3] = c->email_verified ? "true" : "false";
    params[4] = c->name[0] != '\0' ? c->name : NULL;
    params[5] = r->ri->remote_addr;
    params[6] = r->session_token[0] != '\0' ? r->session_token : NULL;
    if ((res = gw_sso_exec(r, GW_SQL_SSO_LOGIN, 7, params)) == NULL)
        return r->status;
    gw_admin_set_session_cookies(r, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    r->user_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    gw_log_info("sso %s: user %lld signed in", p->slug, (long long)r->user_id);
    r->on_error = NULL;
    r->set_cookie[2] = gw_sso_state_cookie(r, "", 0);
    return gw_admin_send_redirect(r, gw_sso_local_path(p->return_to) ? p->return_to : "/");
}

int gw_admin_sso_callback(gw_admin_req *r)
{
    const char *slug = r->segs[2];
    char state[GW_SSO_STATE_MAX], idp_error[64], *code;
    gw_sso_pending p;
    gw_jwt_claims claims;
    int has_code, has_error, rc;

    r->on_error = gw_sso_fail;
    if (!gw_sso_slug_ok(slug))
        return gw_sso_fail(r, 404, "no such single sign-on provider");
    if (gw_sso_check_state(r, state) != 0)
        return r->status;
    if ((has_error = gw_sso_query(r, "error", idp_error, sizeof(idp_error))) != 0) {
        for (char *c = idp_error; *c != '\0'; c++) /* shown and logged: printable only */
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                *c = '?';
    }
    code = gw_admin_alloc(r, GW_SSO_CODE_MAX + 1);
    if (code == NULL)
        return gw_sso_fail(r, 500, "out of memory");
    has_code = gw_sso_query(r, "code", code, GW_SSO_CODE_MAX + 1);
    /* the state is used up whatever happens next */
    if (gw_sso_finish(r, state, &p) != 0) {
        explicit_bzero(code, GW_SSO_CODE_MAX + 1);
        return r->status;
    }
    if (strcmp(p.slug, slug) != 0)
        rc = gw_sso_fail(r, 400, "the sign-in answer came back for another provider: start again");
    else if (has_error != 0)
        rc = gw_sso_fail(r, 401,
                         has_error < 0
                             ? "the identity provider refused the sign-in"
                             : gw_admin_printf(r, "the identity provider refused the sign-in (%s)", idp_error));
    else if (has_code != 1 || code[0] == '\0')
        rc = gw_sso_fail(r, 400, "the sign-in answer has no authorization code");
    else if (gw_sso_identify(r, &p, code, &claims) != 0)
        rc = r->status;
    else
        rc = gw_sso_login(r, &p, &claims);
    explicit_bzero(code, GW_SSO_CODE_MAX + 1);
    if (p.client_secret != NULL)
        explicit_bzero(p.client_secret, strlen(p.client_secret));
    return rc;
}
