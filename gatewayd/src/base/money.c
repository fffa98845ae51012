/*
 * src/base/money.c: exact money (see money.h).
 */
#include "base/money.h"

#include <stddef.h>

gw_money gw_money_sat(gw_money m)
{
    return m < 0 ? 0 : m > GW_MONEY_MAX ? GW_MONEY_MAX : m;
}

int64_t gw_money_i64(gw_money m)
{
    return m <= 0 ? 0 : m > INT64_MAX ? INT64_MAX : (int64_t)m;
}

int64_t gw_money_nanos_ceil(gw_money m)
{
    return gw_money_i64((gw_money_sat(m) + GW_MONEY_PER_NANO - 1) / GW_MONEY_PER_NANO);
}

const char *gw_money_format(gw_money m, char out[64])
{
    char digits[48];
    int n = 0, neg = m < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(m + 1)) + 1 : (unsigned __int128)m;
    unsigned __int128 whole = u / (unsigned __int128)GW_MONEY_PER_UNIT;
    unsigned long long frac = (unsigned long long)(u % (unsigned __int128)GW_MONEY_PER_UNIT);
    char *p = out;

    do {
        digits[n++] = (char)('0' + (int)(whole % 10));
        whole /= 10;
    } while (whole > 0 && n < (int)sizeof(digits));
    if (neg)
        *p++ = '-';
    while (n > 0)
        *p++ = digits[--n];
    if (frac > 0) {
        char f[16];
        int len = 15;
        for (int i = 14; i >= 0; i--, frac /= 10)
            f[i] = (char)('0' + (int)(frac % 10));
        while (len > 0 && f[len - 1] == '0')
            len--;
        *p++ = '.';
        for (int i = 0; i < len; i++)
            *p++ = f[i];
    }
    *p = '\0';
    return out;
}

gw_money gw_money_parse(const char *s)
{
    gw_money v = 0, unit = GW_MONEY_PER_UNIT;
    int frac = 0, round_up = 0;
    const char *p = s;
    if (s == NULL || *p == '\0' || *p == '-')
        return 0;
    if (*p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > GW_MONEY_MAX / 10 / GW_MONEY_PER_UNIT)
            return GW_MONEY_MAX;
        v = v * 10 + (*p - '0');
    }
    v *= GW_MONEY_PER_UNIT;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, frac++) {
            if (frac < 15) {
                unit /= 10;
                v += unit * (*p - '0');
            } else if (*p != '0') {
                round_up = 1; /* past 10^-15: never under-count */
            }
        }
    }
    if (*p != '\0')
        return 0;
    return v + round_up;
}
