/*
 * src/admin/admin_auth.c: who is calling the REST API, and login/logout.
 *
 * A request authenticates with the session cookie aistudio_session
 * (HttpOnly, SameSite=Strict, Path=/, Secure when configured) or with
 * "Authorization: Bearer aisu_…", a personal API token; the database
 * resolves either (aistudio.resolve_session / resolve_api_token) inside the
 * request's transaction and the same statement sets
 * pg_aistudio.acting_user. Cookie-authenticated writes (POST, PUT, PATCH,
 * DELETE) must carry the session's CSRF token in X-CSRF-Token: its SHA-256
 * is compared in constant time with the hash the session stores. API tokens
 * need no CSRF token (a browser never sends them by itself).
 *
 * Login (POST /api/v1/auth/login) rotates the session: the one the client
 * presented ends, a new token and CSRF token are set as cookies (the CSRF
 * cookie aistudio_csrf is readable by the page's script, so the UI finds
 * the token again after a reload) and the CSRF token is also returned in
 * the body. Failed logins are throttled in the database (55P03 → 429 with
 * Retry-After).
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/codec.h"
#include "base/log.h"
#include "admin/admin_bind.h"
#include "admin/admin_int.h"
#include "db/sql.h"

/* 1 when s is prefix + 64 lower-case hex digits. */
static int gw_admin_token_format(const char *s, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (s == NULL || strncmp(s, prefix, pl) != 0 || strlen(s) != pl + 64)
        return 0;
    for (const char *p = s + pl; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

void gw_admin_read_session_cookie(gw_admin_req *r)
{
    const char *cookies = mg_get_header(r->conn, "Cookie");
    char buf[GW_ADMIN_TOKEN_LEN + 8];

    r->session_token[0] = '\0';
    if (cookies == NULL || mg_get_cookie(cookies, GW_ADMIN_SESSION_COOKIE, buf, sizeof(buf)) <= 0)
        return;
    if (gw_admin_token_format(buf, "aiss_"))
        memcpy(r->session_token, buf, GW_ADMIN_TOKEN_LEN + 1); /* the format fixes the length */
}

static int gw_admin_is_write(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0 ||
           strcmp(method, "DELETE") == 0;
}

/* The session's CSRF token: X-CSRF-Token hashed and compared in constant time. */
static int gw_admin_csrf_ok(gw_admin_req *r)
{
    const char *h = mg_get_header(r->conn, GW_ADMIN_CSRF_HEADER);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];

    if (h == NULL || strlen(h) != 64 || strlen(r->csrf_hash) != 64)
        return 0;
    SHA256((const unsigned char *)h, 64, digest);
    gw_hex_encode(digest, SHA256_DIGEST_LENGTH, hex);
    return CRYPTO_memcmp(hex, r->csrf_hash, 64) == 0;
}

/* The session and CSRF cookies with these values and lifetime (0: they end). */
static void gw_admin_session_cookies(gw_admin_req *r, const char *session_token, const char *csrf_token, int max_age)
{
    const char *secure = r->adm->cookie_secure ? "; Secure" : "";

    r->set_cookie[0] =
        gw_admin_printf(r, GW_ADMIN_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                        session_token, max_age, secure);
    r->set_cookie[1] = gw_admin_printf(r, GW_ADMIN_CSRF_COOKIE "=%s; Path=/; SameSite=Strict; Max-Age=%d%s", csrf_token,
                                       max_age, secure);
}

void gw_admin_set_session_cookies(gw_admin_req *r, const char *session_token, const char *csrf_token)
{
    gw_admin_session_cookies(r, session_token, csrf_token, GW_ADMIN_SESSION_MAX_AGE);
}

/* Cookies that end the session in the browser. */
static void gw_admin_clear_cookies(gw_admin_req *r)
{
    gw_admin_session_cookies(r, "", "", 0);
}

/* Sends a 401/403 and returns -1. */
static int gw_admin_refuse(gw_admin_req *r, int status, const char *message, const char *code)
{
    gw_admin_send_error(r, status, message, code);
    return -1;
}

int gw_admin_authenticate(gw_admin_req *r)
{
    const char *authz = mg_get_header(r->conn, "Authorization");
    const char *token;
    const char *sql;
    PGresult *res;

    if (authz != NULL) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return gw_admin_refuse(r, 401, "unsupported Authorization scheme: use \"Bearer\" with a personal API token",
                                   "unauthenticated");
        token = authz + 7;
        while (*token == ' ')
            token++;
        if (!gw_admin_token_format(token, "aisu_"))
            return gw_admin_refuse(r, 401, "invalid API token", "invalid_token");
        sql = GW_SQL_RESOLVE_API_TOKEN;
        r->auth = GW_AUTH_TOKEN;
    } else {
        gw_admin_read_session_cookie(r);
        if (r->session_token[0] == '\0')
            return gw_admin_refuse(r, 401, "authentication required: log in or send a personal API token",
                                   "unauthenticated");
        token = r->session_token;
        sql = GW_SQL_RESOLVE_SESSION;
        r->auth = GW_AUTH_SESSION;
    }
    if (gw_admin_tx_exec_params(r, sql, 1, &token, &res) != 0) {
        gw_admin_send_dberr(r);
        return -1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        if (r->auth == GW_AUTH_TOKEN)
            return gw_admin_refuse(r, 401, "invalid or revoked API token", "invalid_token");
        gw_admin_clear_cookies(r);
        return gw_admin_refuse(r, 401, "session expired or invalid: log in again", "session_expired");
    }
    if (strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
        PQclear(res);
        return gw_admin_refuse(r, 401, "this API token has expired: create or rotate a token", "token_expired");
    }
    r->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(r->role, sizeof(r->role), "%s", PQgetvalue(res, 0, 1));
    snprintf(r->csrf_hash, sizeof(r->csrf_hash), "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (r->auth == GW_AUTH_SESSION && gw_admin_is_write(r->ri->request_method) && !gw_admin_csrf_ok(r))
        return gw_admin_refuse(r, 403, "missing or invalid CSRF token: send the session's token in X-CSRF-Token",
                               "csrf_failed");
    return 0;
}

/* 429: the login was throttled; Retry-After from the database. */
static void gw_admin_login_throttled(gw_admin_req *r, const char *email)
{
    gw_admin_dberr saved = r->dberr;
    const char *params[2] = {email, r->ri->remote_addr};
    PGresult *res;

    gw_admin_tx_end(r); /* the failed transaction */
    if (gw_admin_tx_begin(r) != 0)
        return;
    if (gw_admin_tx_exec_params(r, GW_SQL_LOGIN_RETRY_AFTER, 2, params, &res) == 0) {
        if (PQntuples(res) == 1)
            r->retry_after = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    if (r->retry_after <= 0)
        r->retry_after = 1;
    r->dberr = saved;
    gw_admin_send_dberr(r);
}

/* 200: the user, the CSRF token and both cookies, once the transaction
 * (which also ended the presented session) committed. */
static void gw_admin_login_ok(gw_admin_req *r, PGresult *login)
{
    const char *uid = PQgetvalue(login, 0, 2);
    PGresult *act = NULL, *me = NULL;
    gw_buf b;
    gw_jw w;

    r->user_id = strtoll(uid, NULL, 10);
    if (gw_admin_tx_exec_params(r, GW_SQL_SET_ACTING_USER, 1, &uid, &act) != 0 ||
        gw_admin_tx_exec_params(r, GW_SQL_GET_ME, 0, NULL, &me) != 0) {
        PQclear(act);
        gw_admin_send_dberr(r);
        return;
    }
    PQclear(act);
    gw_buf_init(&b, 1 << 20);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "user");
    if (PQntuples(me) == 1)
        gw_jw_raw(&w, PQgetvalue(me, 0, 0), (size_t)PQgetlength(me, 0, 0));
    else
        gw_jw_null(&w);
    gw_jw_key(&w, "csrf_token");
    gw_jw_string(&w, PQgetvalue(login, 0, 1));
    gw_jw_key(&w, "expires_at");
    gw_jw_raw(&w, PQgetvalue(login, 0, 3), (size_t)PQgetlength(login, 0, 3));
    gw_jw_object_end(&w);
    PQclear(me);
    if (gw_jw_finish(&w) != 0) {
        gw_admin_send_error(r, 500, "response too large", NULL);
    } else if (gw_admin_tx_commit(r) != 0) {
        gw_admin_send_dberr(r);
    } else {
        gw_admin_set_session_cookies(r, PQgetvalue(login, 0, 0), PQgetvalue(login, 0, 1));
        gw_admin_send_json(r, 200, b.data, b.len);
    }
    gw_buf_free(&b);
}

int gw_admin_login(gw_admin_req *r)
{
    const char *params[4];
    PGresult *res;

    /* the op binds {"email" → $5, "password" → $6}, both required strings */
    if (gw_admin_read_body(r) != 0 || gw_admin_bind(r) != 0)
        goto out;
    gw_admin_read_session_cookie(r);
    if (gw_admin_tx_begin(r) != 0)
        goto out;
    params[0] = r->params[5];
    params[1] = r->params[6];
    params[2] = r->ri->remote_addr;
    params[3] = r->session_token[0] != '\0' ? r->session_token : NULL;
    if (gw_admin_tx_exec_params(r, GW_SQL_LOGIN, 4, params, &res) != 0) {
        if (strcmp(r->dberr.sqlstate, "55P03") == 0)
            gw_admin_login_throttled(r, params[0]);
        else
            gw_admin_send_dberr(r);
    } else if (PQntuples(res) != 1) {
        PQclear(res);
        /* commit: the failure is recorded for the throttle */
        if (gw_admin_tx_commit(r) != 0)
            gw_admin_send_dberr(r);
        else
            gw_admin_send_error(r, 401, "invalid email or password", "invalid_credentials");
    } else {
        gw_admin_login_ok(r, res);
        PQclear(res);
    }
out:
    /* the password is in request memory: wipe it */
    if (r->params[6] != NULL)
        explicit_bzero((char *)r->params[6], strlen(r->params[6]));
    if (r->body != NULL)
        explicit_bzero(r->body, r->body_len);
    return r->status;
}

int gw_admin_logout(gw_admin_req *r)
{
    PGresult *res;
    const char *token;

    if (gw_admin_read_body(r) != 0)
        return r->status;
    if (mg_get_header(r->conn, "Authorization") != NULL)
        return gw_admin_send_error(
            r, 400, "logout ends a browser session; revoke API tokens with DELETE /api/v1/me/tokens/{id}",
            "not_a_session");
    gw_admin_read_session_cookie(r);
    if (r->session_token[0] != '\0') {
        if (gw_admin_tx_begin(r) != 0)
            return r->status;
        token = r->session_token;
        if (gw_admin_tx_exec_params(r, GW_SQL_RESOLVE_SESSION, 1, &token, &res) != 0)
            return gw_admin_send_dberr(r);
        if (PQntuples(res) == 1) {
            /* a live session: the write needs its CSRF token */
            snprintf(r->csrf_hash, sizeof(r->csrf_hash), "%s", PQgetvalue(res, 0, 2));
            PQclear(res);
            if (!gw_admin_csrf_ok(r))
                return gw_admin_send_error(
                    r, 403, "missing or invalid CSRF token: send the session's token in X-CSRF-Token", "csrf_failed");
            if (gw_admin_tx_exec_params(r, GW_SQL_LOGOUT, 1, &token, &res) != 0)
                return gw_admin_send_dberr(r);
        }
        PQclear(res);
        if (gw_admin_tx_commit(r) != 0)
            return gw_admin_send_dberr(r);
    }
    gw_admin_clear_cookies(r);
    return gw_admin_send_no_content(r);
}
