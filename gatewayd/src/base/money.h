/*
 * src/base/money.h: exact money. gw_money counts 10^-15 of a currency in a
 * 128-bit integer, so a price per million tokens in 10^-9 units (what the
 * snapshot carries: the extension allows at most 9 decimal places) times a
 * token count is exact, as it is in the database's NUMERIC arithmetic.
 */
#ifndef GW_MONEY_H
#define GW_MONEY_H

#include <stdint.h>

typedef __int128 gw_money;                    /* 10^-15 of the currency */
#define GW_MONEY_PER_NANO 1000000             /* 10^-9 units (the snapshot's) */
#define GW_MONEY_PER_UNIT 1000000000000000LL  /* one unit of the currency */
#define GW_MONEY_MAX (((gw_money)1 << 126) - 1)

/* Exact decimal text ("12.5", "0.000000001") → money, rounded up past 15
 * decimals (never under-counts); 0 for empty, negative or malformed text,
 * GW_MONEY_MAX when too large. */
gw_money gw_money_parse(const char *s);
/* Clamped to [0, GW_MONEY_MAX]. */
gw_money gw_money_sat(gw_money m);
/* As a saturating int64 (costs carried in events). */
int64_t gw_money_i64(gw_money m);
/* Money → 10^-9 units, rounded up; saturating int64. */
int64_t gw_money_nanos_ceil(gw_money m);
/* Exact decimal text of m (at most 15 decimals, trailing zeros trimmed:
 * "0.0098", "12", "-0.5"); out must hold 64 bytes. */
const char *gw_money_format(gw_money m, char out[64]);

#endif
