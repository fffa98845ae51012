/*-------------------------------------------------------------------------
 * src/config.c
 *		Validation helpers of the configuration SQL API: the api_endpoint
 *		URL check, pattern checks for allowed_models and filter patterns
 *		(PCRE2 through src/pattern.c, the one definition gatewayd matches
 *		with too), aistudio.pattern_matches / model_allowed, and the
 *		"gateway or admin" permission check used by the edge functions.
 *
 * The configuration functions themselves (create_llm, set_model_price,
 * create_filter, register_edge, ...) are plpgsql in
 * sql/src/04_config.sql; they call the SQL-callable helpers below, which are not
 * executable by PUBLIC.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "aistudio.h"
#include "config.h"
#include "pattern.h"

PG_FUNCTION_INFO_V1(aistudio_check_api_endpoint);
PG_FUNCTION_INFO_V1(aistudio_check_regexes);
PG_FUNCTION_INFO_V1(aistudio_pattern_matches);
PG_FUNCTION_INFO_V1(aistudio_model_allowed);
PG_FUNCTION_INFO_V1(aistudio_require_gateway_or_role);

static bool
IsHostChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static bool
IsIpv6Char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		(c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/*
 * ConfigEndpointProblem: an absolute http(s) URL with a host, an optional
 * port 1-65535, no user information, no whitespace or control characters,
 * at most CONFIG_MAX_ENDPOINT_LEN bytes.
 */
const char *
ConfigEndpointProblem(const char *url, size_t len)
{
	const char *p;
	const char *end = url + len;
	const char *auth;
	const char *auth_end;
	const char *host_end;

	if (len == 0)
		return "The URL is empty.";
	if (len > CONFIG_MAX_ENDPOINT_LEN)
		return "The URL is longer than 2048 characters.";
	for (p = url; p < end; p++)
		if ((unsigned char) *p <= 0x20 || *p == 0x7f)
			return "The URL must not contain whitespace or control characters.";

	if (len >= 7 && pg_strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (len >= 8 && pg_strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else
		return "The URL must be absolute and start with http:// or https://.";

	for (auth_end = auth; auth_end < end; auth_end++)
		if (*auth_end == '/' || *auth_end == '?' || *auth_end == '#')
			break;
	for (p = auth; p < auth_end; p++)
		if (*p == '@')
			return "The URL must not contain credentials (user:password@); put the key in api_key instead.";
	if (auth == auth_end)
		return "The URL must name a host.";

	if (*auth == '[')
	{
		/* IPv6 literal: [hex:...] */
		for (host_end = auth + 1; host_end < auth_end && *host_end != ']'; host_end++)
			if (!IsIpv6Char(*host_end))
				return "The host of the URL is not a valid IPv6 address literal.";
		if (host_end == auth_end || host_end == auth + 1)
			return "The host of the URL is not a valid IPv6 address literal.";
		host_end++;				/* past ']' */
	}
	else
	{
		for (host_end = auth; host_end < auth_end && *host_end != ':'; host_end++)
			if (!IsHostChar(*host_end))
				return "The host of the URL may contain only letters, digits, '-', '_' and '.' (use punycode for international names).";
		if (host_end == auth)
			return "The URL must name a host.";
	}

	if (host_end < auth_end)
	{
		long		port = 0;
		int			digits = 0;

		if (*host_end != ':')
			return "The host of the URL is not valid.";
		for (p = host_end + 1; p < auth_end; p++)
		{
			if (*p < '0' || *p > '9' || ++digits > 5)
				return "The port of the URL must be a number from 1 to 65535.";
			port = port * 10 + (*p - '0');
		}
		if (digits == 0 || port < 1 || port > 65535)
			return "The port of the URL must be a number from 1 to 65535.";
	}
	return NULL;
}

/*
 * ConfigCompilePattern: compile a stored pattern (src/pattern.c) or raise
 * 22023 naming the element ("allowed_models[2]").  The caller frees the
 * result with aistudio_pattern_free.
 */
static aistudio_pattern *
ConfigCompilePattern(const char *pattern, size_t len, const char *what)
{
	aistudio_pattern *p;
	char		err[AISTUDIO_PATTERN_ERR_LEN];

	if (aistudio_pattern_compile(pattern, len, &p, err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid regular expression in %s: %s", what, err),
				 errdetail("The pattern is \"%.*s\".", (int) Min(len, 200), pattern),
				 errhint("Patterns are Perl-compatible regular expressions (PCRE2), searched like the ~ operator; anchor them with ^ and $ to match a whole name.")));
	return p;
}

void
ConfigCheckRegex(const char *pattern, const char *what)
{
	aistudio_pattern_free(ConfigCompilePattern(pattern, strlen(pattern), what));
}

/* Match, with a warning when a limit made it "no match". */
static bool
ConfigPatternMatch(const aistudio_pattern *p, const char *pattern, const char *subject, size_t len)
{
	aistudio_match m = aistudio_pattern_match(p, subject, len);

	if (m == AISTUDIO_MATCH_LIMIT)
		ereport(WARNING,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("regular expression \"%s\" hit its match limit: counted as no match", pattern)));
	return m == AISTUDIO_MATCH_YES;
}

/*
 * aistudio.pattern_matches(pattern text, subject text): does the stored
 * pattern language find pattern in subject?  22023 for a bad pattern.
 */
Datum
aistudio_pattern_matches(PG_FUNCTION_ARGS)
{
	char	   *pattern = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *subject = PG_GETARG_TEXT_PP(1);
	aistudio_pattern *p = ConfigCompilePattern(pattern, strlen(pattern), "pattern");
	bool		found;

	found = ConfigPatternMatch(p, pattern, VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject));
	aistudio_pattern_free(p);
	PG_RETURN_BOOL(found);
}

/*
 * aistudio.model_allowed(llm_id bigint, model text): may requests to this
 * LLM name this model?  True when the LLM has no allowed_models or one of
 * them is found in model (the rule gatewayd applies); P0002 for an unknown
 * LLM.
 */
Datum
aistudio_model_allowed(PG_FUNCTION_ARGS)
{
	int64		llm_id = PG_GETARG_INT64(0);
	text	   *model = PG_GETARG_TEXT_PP(1);
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(llm_id)};
	bool		isnull;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		allowed = false;

	SPI_connect();
	if (SPI_execute_with_args("SELECT allowed_models FROM aistudio.llms WHERE id = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("LLM " INT64_FORMAT " does not exist", llm_id)));
	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
					  TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		allowed = true;
	for (int i = 0; i < n && !allowed; i++)
	{
		char	   *pattern;
		aistudio_pattern *p;

		if (nulls[i])
			continue;
		pattern = TextDatumGetCString(elems[i]);
		p = ConfigCompilePattern(pattern, strlen(pattern), "allowed_models");
		allowed = ConfigPatternMatch(p, pattern, VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model));
		aistudio_pattern_free(p);
	}
	SPI_finish();
	PG_RETURN_BOOL(allowed);
}

/*
 * aistudio.check_api_endpoint(url text): raise 22023 unless url is an
 * acceptable api_endpoint.  The URL itself is never quoted in the error, as
 * it may carry credentials or a key in its query string.
 */
Datum
aistudio_check_api_endpoint(PG_FUNCTION_ARGS)
{
	text	   *url;
	const char *problem;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid api_endpoint"),
				 errdetail("The api_endpoint must not be null.")));
	url = PG_GETARG_TEXT_PP(0);
	problem = ConfigEndpointProblem(VARDATA_ANY(url), VARSIZE_ANY_EXHDR(url));
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid api_endpoint"),
				 errdetail_internal("%s", problem),
				 errhint("Use an absolute URL such as https://api.openai.com/v1.")));
	PG_RETURN_VOID();
}

/*
 * aistudio.check_regexes(patterns text[], what text): raise 22023 naming the
 * first element of patterns (what[i], 1-based) that is null or not a valid
 * pattern.
 */
Datum
aistudio_check_regexes(PG_FUNCTION_ARGS)
{
	const char *what = PG_ARGISNULL(1) ? "pattern" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char		name[NAMEDATALEN + 16];

		snprintf(name, sizeof(name), "%s[%d]", what, i + 1);
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s is null", name),
					 errdetail("Every element of %s must be a regular expression.", what)));
		ConfigCheckRegex(TextDatumGetCString(elems[i]), name);
	}
	PG_RETURN_VOID();
}

/*
 * aistudio.require_gateway_or_role(min_role text, action text)
 *
 * The edge functions are called by gatewayd's hub connection, a member of
 * aistudio_gateway acting without an application user, and by admins
 * through the admin API.  Without an acting user, membership in
 * aistudio_gateway (or superuser) suffices; otherwise the acting user needs
 * min_role.
 */
Datum
aistudio_require_gateway_or_role(PG_FUNCTION_ARGS)
{
	char	   *role_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(1));
	AistudioRole min_role = RbacParseRole(role_name);

	if (min_role == AISTUDIO_ROLE_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown role \"%s\"", role_name)));
	if (!RbacActingUserIsSet() && RbacMayActForUsers())
		PG_RETURN_VOID();
	RbacRequireRole(min_role, action);
	PG_RETURN_VOID();
}
