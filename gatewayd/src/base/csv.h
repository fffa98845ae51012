/*
 * src/base/csv.h: one CSV field (RFC 4180), the only CSV writer of gatewayd
 * (the REST API's ?format=csv exports, admin/admin_csv.c). Pure functions,
 * unit-tested in regress/unit/test_csv.c.
 *
 * A field is written as it is unless it holds a comma, a double quote, CR
 * or LF, or starts or ends with a space: then it is quoted and its quotes
 * doubled. A text that a spreadsheet would run as a formula (it starts with
 * '=', '+', '-', '@', a tab or CR and is not a number) gets a leading
 * apostrophe, so that a model name or error text sent by a client cannot
 * become a formula in whoever opens the export (OWASP "CSV injection");
 * numbers such as -1.5 stay as they are. SQL NULL is the empty field.
 */
#ifndef GW_BASE_CSV_H
#define GW_BASE_CSV_H

#include <stddef.h>

#include "base/buf.h"

/* Appends field v[0..n) (v NULL: an empty field) to b; 0, or -1 when b is
 * full. The caller writes the separators (',' and "\r\n"). */
int gw_csv_field(gw_buf *b, const char *v, size_t n);

#endif
