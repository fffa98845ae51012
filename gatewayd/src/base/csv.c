/*
 * src/base/csv.c: one CSV field (see csv.h for the rules).
 */
#include <string.h>

#include "base/csv.h"

/* 1 when v[0..n) is a plain decimal number ("-1", "+2.5", "-3e-7"). */
static int gw_csv_is_number(const char *v, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && (v[i] == '-' || v[i] == '+'))
        i++;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
        digits++;
    if (i < n && v[i] == '.')
        for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return 0;
    if (i < n && (v[i] == 'e' || v[i] == 'E')) {
        size_t exp = 0;
        i++;
        if (i < n && (v[i] == '-' || v[i] == '+'))
            i++;
        for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
            exp++;
        if (exp == 0)
            return 0;
    }
    return i == n;
}

int gw_csv_field(gw_buf *b, const char *v, size_t n)
{
    int formula, quote = 0;

    if (v == NULL || n == 0)
        return 0;
    formula = (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') &&
              !gw_csv_is_number(v, n);
    if (v[0] == ' ' || v[n - 1] == ' ')
        quote = 1;
    for (size_t i = 0; i < n && !quote; i++)
        if (v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n')
            quote = 1;
    if (!quote) {
        if (formula && gw_buf_append(b, "'", 1) != 0)
            return -1;
        return gw_buf_append(b, v, n);
    }
    if (gw_buf_append(b, formula ? "\"'" : "\"", formula ? 2 : 1) != 0)
        return -1;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i == n || v[i] == '"') {
            if (gw_buf_append(b, v + start, i - start) != 0 || (i < n && gw_buf_append(b, "\"\"", 2) != 0))
                return -1;
            start = i + 1;
        }
    }
    return gw_buf_append(b, "\"", 1);
}
