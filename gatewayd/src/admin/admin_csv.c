/*
 * src/admin/admin_csv.c: a REST list as CSV (GET …?format=csv), streamed.
 *
 * An operation with a `csv` statement (admin_int.h) answers ?format=csv
 * with that statement's rows as text/csv: a header line of the column
 * names, then one line per row (base/csv.c quotes), CRLF line ends. The
 * statement runs as a cursor inside the request's transaction (after the
 * caller was authenticated and the acting user set, so the database
 * decides what they see, as for JSON) and is fetched GW_CSV_BATCH rows at a
 * time, each batch written as one HTTP chunk: memory stays bounded however
 * many rows there are. How many rows at most is the statement's own limit
 * (e.g. 100,000 for the request log). An error before the first row is an
 * ordinary JSON error with its status; an error after the head was sent
 * can only end the connection without the last chunk, which every HTTP
 * client reports as an incomplete body (it is logged).
 */
#include <stdio.h>
#include <string.h>

#include "base/csv.h"
#include "base/log.h"
#include "http/server.h"
#include "admin/admin_int.h"

#define GW_CSV_BATCH 1000
#define GW_CSV_CHUNK_MAX (16u << 20) /* one batch's text */

/* Writes data as one chunk (or as it is without chunking). */
static int gw_csv_write(gw_admin_req *r, int chunked, const char *data, size_t len)
{
    char line[24];
    int n;

    if (len == 0)
        return 0;
    if (!chunked)
        return gw_http_write_all(r->conn, data, len);
    n = snprintf(line, sizeof(line), "%zx\r\n", len);
    if (gw_http_write_all(r->conn, line, (size_t)n) != 0 || gw_http_write_all(r->conn, data, len) != 0 ||
        gw_http_write_all(r->conn, "\r\n", 2) != 0)
        return -1;
    return 0;
}

/* The header line (first batch) and the rows of res into b. */
static void gw_csv_rows(gw_buf *b, PGresult *res, int header)
{
    int nf = PQnfields(res);

    if (header) {
        for (int f = 0; f < nf; f++) {
            const char *name = PQfname(res, f);
            if (f > 0)
                gw_buf_append(b, ",", 1);
            gw_csv_field(b, name, strlen(name));
        }
        gw_buf_append(b, "\r\n", 2);
    }
    for (int t = 0; t < PQntuples(res); t++) {
        for (int f = 0; f < nf; f++) {
            if (f > 0)
                gw_buf_append(b, ",", 1);
            if (!PQgetisnull(res, t, f))
                gw_csv_field(b, PQgetvalue(res, t, f), (size_t)PQgetlength(res, t, f));
        }
        gw_buf_append(b, "\r\n", 2);
    }
}

int gw_admin_csv_send(gw_admin_req *r)
{
    const gw_admin_op *op = r->op;
    const char *declare = gw_admin_printf(r, "DECLARE gw_csv NO SCROLL CURSOR FOR %s", op->csv);
    char disposition[160];
    gw_http_reply h;
    PGresult *res = NULL;
    gw_buf b;
    int chunked = r->ri->http_version != NULL && strcmp(r->ri->http_version, "1.0") != 0;
    int sent_head = 0, failed = 0;
    long long rows = 0;

    if (declare == NULL)
        return gw_admin_send_error(r, 500, "out of memory", NULL);
    if (gw_admin_tx_exec(r, declare, &res) != 0)
        return gw_admin_send_dberr(r);
    PQclear(res);

    gw_buf_init(&b, GW_CSV_CHUNK_MAX);
    for (;;) {
        if (gw_admin_tx_exec(r, "FETCH FORWARD 1000 FROM gw_csv", &res) != 0) {
            if (!sent_head) {
                gw_buf_free(&b);
                return gw_admin_send_dberr(r);
            }
            gw_log_warn("csv export %s: %s (after %lld rows; the response is cut)", op->path, r->dberr.message,
                        rows);
            failed = 1;
            break;
        }
        gw_buf_reset(&b);
        gw_csv_rows(&b, res, !sent_head);
        rows += PQntuples(res);
        if (!sent_head) {
            r->status = 200;
            gw_http_reply_start(&h, r->conn, 200);
            gw_http_reply_header(&h, "Content-Type", "text/csv; charset=utf-8");
            snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s.csv\"",
                     op->csv_name != NULL ? op->csv_name : "export");
            gw_http_reply_header(&h, "Content-Disposition", disposition);
            gw_http_reply_header(&h, "Cache-Control", "no-store");
            if (chunked)
                gw_http_reply_header(&h, "Transfer-Encoding", "chunked");
            else {
                /* HTTP/1.0: the end of the body is the end of the connection */
                gw_http_reply_close(&h);
                mg_disable_connection_keep_alive(r->conn);
            }
            if (gw_http_reply_send_head(&h, -1) != 0)
                failed = 1;
            sent_head = 1;
        }
        if (!failed && b.failed) {
            gw_log_warn("csv export %s: a batch did not fit in %u bytes (after %lld rows; the response is cut)",
                        op->path, GW_CSV_CHUNK_MAX, rows);
            failed = 1;
        }
        if (!failed && gw_csv_write(r, chunked, b.data, b.len) != 0)
            failed = 1; /* the client is gone */
        if (failed || PQntuples(res) < GW_CSV_BATCH) {
            PQclear(res);
            break;
        }
        PQclear(res);
    }
    gw_buf_free(&b);
    if (!failed && gw_admin_tx_commit(r) != 0) {
        gw_log_warn("csv export %s: commit failed: %s (the response is cut)", op->path, r->dberr.message);
        failed = 1;
    }
    if (!failed && chunked && gw_http_write_all(r->conn, "0\r\n\r\n", 5) != 0)
        failed = 1;
    if (failed)
        mg_disable_connection_keep_alive(r->conn); /* without the last chunk: cut */
    return 200;
}
