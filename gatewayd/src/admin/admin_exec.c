/*
 * src/admin/admin_exec.c: one row of the operation tables, executed
 * (gw_admin_exec, admin_int.h): its parameters bound (admin_bind.c); BEGIN;
 * resolve the caller and set the acting user (admin_auth.c); the
 * statements; the result object; COMMIT. Any error rolls everything back,
 * so a refused request changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "admin/admin_bind.h"
#include "admin/admin_int.h"

/* ---- execution ---- */

static int gw_stmt_runs(const gw_admin_req *r, const gw_admin_stmt *s)
{
    if (s->when[0] == 0 && s->when[1] == 0 && s->when[2] == 0 && s->when[3] == 0)
        return 1;
    for (int i = 0; i < 4; i++)
        if (s->when[i] > 0 && r->params[s->when[i]] != NULL)
            return 1;
    return 0;
}

/* {"data": <array>, "page", "page_size", "total"} from a (json, total) row. */
static int gw_send_list(gw_admin_req *r, PGresult *res, const char *total)
{
    gw_buf b;
    gw_jw w;
    int rc;

    gw_buf_init(&b, GW_ADMIN_RESPONSE_MAX);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "data");
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        gw_jw_raw(&w, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    else
        gw_jw_raw(&w, "[]", 2);
    if (r->op->result == GW_AR_LIST) {
        gw_jw_key(&w, "page");
        gw_jw_int(&w, r->page);
        gw_jw_key(&w, "page_size");
        gw_jw_int(&w, r->page_size);
        gw_jw_key(&w, "total");
        gw_jw_int(&w, total != NULL ? strtoll(total, NULL, 10) : 0);
    }
    gw_jw_object_end(&w);
    if (gw_jw_finish(&w) != 0)
        rc = gw_admin_send_error(r, 500, "response too large", NULL);
    else
        rc = gw_admin_send_json(r, 200, b.data, b.len);
    gw_buf_free(&b);
    return rc;
}

/* The total of a list whose page is past the end: the same statement, first page. */
static char *gw_list_total(gw_admin_req *r, const char *sql)
{
    const char *saved[2] = {r->params[GW_AP_LIMIT], r->params[GW_AP_OFFSET]};
    PGresult *res;
    char *total = NULL;

    r->params[GW_AP_LIMIT] = "1";
    r->params[GW_AP_OFFSET] = "0";
    if (gw_admin_tx_exec(r, sql, &res) == 0) {
        if (PQntuples(res) == 1 && PQnfields(res) > 1 && !PQgetisnull(res, 0, 1))
            total = gw_admin_strndup(r, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
        PQclear(res);
    }
    r->params[GW_AP_LIMIT] = saved[0];
    r->params[GW_AP_OFFSET] = saved[1];
    return total;
}

int gw_admin_exec(gw_admin_req *r)
{
    const gw_admin_op *op = r->op;
    const char *last_sql = NULL;
    PGresult *res = NULL;
    char *total = NULL;
    int status;

    if (gw_admin_read_body(r) != 0 || gw_admin_tx_begin(r) != 0)
        return r->status;
    if (!(op->flags & GW_AO_PUBLIC) && gw_admin_authenticate(r) != 0)
        return r->status;
    if (gw_admin_bind(r) != 0)
        return r->status;
    if (r->auth != GW_AUTH_NONE)
        r->params[GW_AP_ME] = gw_admin_printf(r, "%lld", (long long)r->user_id);
    if (op->id_param > 0)
        r->params[GW_AP_ID] = r->params[op->id_param];
    if (op->csv != NULL && r->params[GW_AP_FORMAT] != NULL) {
        if (strcmp(r->params[GW_AP_FORMAT], "csv") == 0)
            return gw_admin_csv_send(r);
        if (strcmp(r->params[GW_AP_FORMAT], "json") != 0)
            return gw_admin_send_error(r, 400, "format must be json or csv", "invalid_parameter");
    }

    for (int i = 0; i < 3 && op->stmts[i].sql != NULL; i++) {
        const gw_admin_stmt *s = &op->stmts[i];
        if (!gw_stmt_runs(r, s))
            continue;
        PQclear(res);
        if (gw_admin_tx_exec(r, s->sql, &res) != 0)
            return gw_admin_send_dberr(r);
        last_sql = s->sql;
        if ((s->flags & GW_AS_SETS_ID) && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
            r->params[GW_AP_ID] = gw_admin_strndup(r, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    }
    if (op->fetch != NULL) {
        PQclear(res);
        if (gw_admin_tx_exec(r, op->fetch, &res) != 0)
            return gw_admin_send_dberr(r);
        last_sql = op->fetch;
    }
    if (op->result == GW_AR_LIST && res != NULL && PQntuples(res) == 1 && PQnfields(res) > 1) {
        if (!PQgetisnull(res, 0, 1))
            total = gw_admin_strndup(r, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
        else if (r->page > 1 && last_sql != NULL)
            total = gw_list_total(r, last_sql);
    }
    if (gw_admin_tx_commit(r) != 0) {
        PQclear(res);
        return gw_admin_send_dberr(r);
    }

    switch (op->result) {
    case GW_AR_LIST:
    case GW_AR_DATA:
        status = gw_send_list(r, res, total);
        break;
    case GW_AR_OBJECT:
    case GW_AR_CREATED:
        if (res == NULL || PQntuples(res) < 1 || PQnfields(res) < 1 || PQgetisnull(res, 0, 0))
            status = gw_admin_send_error(r, 404, "not found", "not_found");
        else
            status = gw_admin_send_json(r, op->result == GW_AR_CREATED ? 201 : 200, PQgetvalue(res, 0, 0),
                                        (size_t)PQgetlength(res, 0, 0));
        break;
    default:
        status = gw_admin_send_no_content(r);
    }
    PQclear(res);
    return status;
}
