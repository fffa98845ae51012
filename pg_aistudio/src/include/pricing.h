/*-------------------------------------------------------------------------
 * src/include/pricing.h
 *		Model prices and the per-vendor cost of one LLM call (src/pricing.c).
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_PRICING_H
#define AISTUDIO_PRICING_H

#include "postgres.h"

#include "utils/numeric.h"

/* Token counts of one call, as the vendor reported them. */
typedef struct PricingUsage
{
	int64		prompt_tokens;
	int64		response_tokens;
	int64		cache_write_tokens;
	int64		cache_read_tokens;
} PricingUsage;

/*
 * Price one call.  Raises 22023 for an unknown vendor, negative token counts
 * or (for vendors whose prompt count includes cached reads) more cached reads
 * than prompt tokens.  Returns true when a price applied; otherwise *cost is
 * 0 and currency "USD".  *cost is palloc'd in the current memory context;
 * the ISO 4217 code is copied into currency (PRICING_CURRENCY_LEN bytes).
 */
#define PRICING_CURRENCY_LEN 4

extern bool PricingPriceEvent(const char *vendor, const char *model_name,
							  const PricingUsage *usage,
							  Numeric *cost, char *currency);

#endif							/* AISTUDIO_PRICING_H */
