/*
 * src/model/credresolve.c: aistudio.resolve_credential through the pool,
 * and the parsing of its row (see credresolve.h). The presented key is sent
 * as a bind parameter only; it is never logged or put in an error.
 */
#include "model/credresolve.h"
#include "base/money.h"
#include "db/sql.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int gw_parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;
    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

int gw_parse_int64_array(const char *text, int64_t **out, size_t *n, char err[GW_ERR_LEN])
{
    size_t len, cap = 1, count = 0;
    const char *p;
    int64_t *arr;

    *out = NULL;
    *n = 0;
    if (text == NULL)
        return 0; /* SQL NULL: no LLMs */
    len = strlen(text);
    if (len < 2 || text[0] != '{' || text[len - 1] != '}')
        return gw_errf(err, "llm_ids is not an array literal");
    for (p = text; *p != '\0'; p++)
        if (*p == ',')
            cap++;
    arr = malloc(cap * sizeof(int64_t));
    if (arr == NULL)
        return gw_errf(err, "out of memory");
    p = text + 1;
    if (*p != '}') {
        for (;;) {
            char *end;
            long long v;
            errno = 0;
            v = strtoll(p, &end, 10);
            if (errno != 0 || end == p || (*end != ',' && *end != '}') || count >= cap) {
                free(arr);
                return gw_errf(err, "llm_ids contains a value that is not a bigint");
            }
            arr[count++] = (int64_t)v;
            if (*end == '}')
                break;
            p = end + 1;
        }
    }
    *out = arr;
    *n = count;
    return 0;
}

static int gw_parse_bool(const char *s)
{
    return s != NULL && (strcmp(s, "t") == 0 || strcmp(s, "true") == 0);
}

void gw_credresolve_set_budget(gw_credential *out, const char *decimal)
{
    snprintf(out->monthly_budget, sizeof(out->monthly_budget), "%s", decimal != NULL ? decimal : "");
    /* at most 9 decimals (the extension's rule): exact; beyond, rounded up */
    out->monthly_budget_nanos = out->monthly_budget[0] != '\0' ? gw_money_nanos_ceil(gw_money_parse(decimal)) : 0;
}

gw_cred_result gw_credresolve_parse_row(const char *const vals[GW_CREDRESOLVE_NCOLS], gw_credential *out,
                                        char err[GW_ERR_LEN])
{
    memset(out, 0, sizeof(*out));
    if (vals[1] == NULL)
        return GW_CRED_NOT_FOUND;
    if (gw_parse_i64(vals[1], &out->app_id) != 0) {
        gw_errf(err, "resolve_credential: app_id is not a bigint");
        return GW_CRED_ERROR;
    }
    if (vals[0] != NULL && gw_parse_i64(vals[0], &out->credential_id) != 0) {
        gw_errf(err, "resolve_credential: credential_id is not a bigint");
        return GW_CRED_ERROR;
    }
    if (vals[3] != NULL && gw_parse_i64(vals[3], &out->owner_id) != 0) {
        gw_errf(err, "resolve_credential: owner_id is not a bigint");
        return GW_CRED_ERROR;
    }
    snprintf(out->app_name, sizeof(out->app_name), "%s", vals[2] != NULL ? vals[2] : "");
    out->app_active = gw_parse_bool(vals[4]);
    out->owner_active = gw_parse_bool(vals[5]);
    snprintf(out->namespace_, sizeof(out->namespace_), "%s", vals[6] != NULL ? vals[6] : "");
    gw_credresolve_set_budget(out, vals[8]);
    snprintf(out->budget_start_date, sizeof(out->budget_start_date), "%s", vals[9] != NULL ? vals[9] : "");
    if (vals[10] != NULL && (gw_parse_i64(vals[10], &out->key_expires_ms) != 0 || out->key_expires_ms <= 0)) {
        memset(out, 0, sizeof(*out));
        gw_errf(err, "resolve_credential: expires_at is not a time in ms since the epoch");
        return GW_CRED_ERROR;
    }
    if (gw_parse_int64_array(vals[7], &out->llm_ids, &out->n_llm_ids, err) != 0) {
        memset(out, 0, sizeof(*out));
        return GW_CRED_ERROR;
    }
    return GW_CRED_FOUND;
}

gw_cred_result gw_credresolve_db(void *ctx, const char *key, size_t key_len, gw_credential *out, char err[GW_ERR_LEN])
{
    gw_pgpool *pool = ctx;
    const char *params[1] = {key};
    int lengths[1] = {(int)key_len};
    int formats[1] = {0};
    const char *vals[GW_CREDRESOLVE_NCOLS];
    char sqlstate[GW_SQLSTATE_LEN];
    PGresult *res;
    gw_cred_result r;

    memset(out, 0, sizeof(*out));
    if (memchr(key, '\0', key_len) != NULL)
        return GW_CRED_NOT_FOUND; /* cannot be a text parameter, cannot be a key */
    if (gw_pgpool_exec(pool, GW_SQL_RESOLVE_CREDENTIAL, 1, params, lengths, formats, 0, GW_PG_IDEMPOTENT, &res, sqlstate, err) !=
        0) {
        if (strcmp(sqlstate, "P0002") == 0 || strncmp(sqlstate, "28", 2) == 0)
            return GW_CRED_NOT_FOUND;
        return GW_CRED_ERROR;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return GW_CRED_NOT_FOUND;
    }
    if (PQnfields(res) != GW_CREDRESOLVE_NCOLS) {
        int nf = PQnfields(res);
        PQclear(res);
        gw_errf(err, "resolve_credential returned %d columns, expected %d", nf, GW_CREDRESOLVE_NCOLS);
        return GW_CRED_ERROR;
    }
    for (int i = 0; i < GW_CREDRESOLVE_NCOLS; i++)
        vals[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
    r = gw_credresolve_parse_row(vals, out, err);
    PQclear(res);
    return r;
}
