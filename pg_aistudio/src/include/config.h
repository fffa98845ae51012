/*-------------------------------------------------------------------------
 * src/include/config.h
 *		Validation helpers of the configuration SQL API (LLMs, prices,
 *		filters, plugins, edges); see src/config.c.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_CONFIG_H
#define AISTUDIO_CONFIG_H

#include "postgres.h"

#define CONFIG_MAX_ENDPOINT_LEN 2048

/*
 * Check an LLM's api_endpoint; returns NULL when it is acceptable, otherwise
 * a sentence saying why not (never quoting the URL, which may hold secrets).
 */
extern const char *ConfigEndpointProblem(const char *url, size_t len);

/*
 * Raise 22023 (invalid_parameter_value) unless pattern compiles as a stored
 * pattern (PCRE2, src/pattern.c); "what" names the element in the message
 * (e.g. "allowed_models[2]").
 */
extern void ConfigCheckRegex(const char *pattern, const char *what);

#endif							/* AISTUDIO_CONFIG_H */
