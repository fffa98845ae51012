/*-------------------------------------------------------------------------
 * src/include/pricing.h
 *		Model prices and the per-vendor cost of one LLM call (src/pricing.c).
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_PRICING_H
#define AISTUDIO_PRICING_H

#include "postgres.h"

#include "lib/stringinfo.h"
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

/*
 * Make an upstream's counts consistent with the vendor's token semantics
 * (ingestion never loses a request over them): negative counts become 0,
 * and for vendors whose prompt includes cached reads, cache_read_tokens is
 * at most prompt_tokens.  Each change is appended to note ("usage clamped:
 * cache_read_tokens 900 > prompt_tokens 500; ..."), which stays empty when
 * the counts were consistent.  vendor may be NULL or unknown (then only the
 * non-negative rule applies).
 */
extern void PricingClampUsage(const char *vendor, PricingUsage *usage, StringInfo note);

#endif							/* AISTUDIO_PRICING_H */
