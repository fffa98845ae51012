/*-------------------------------------------------------------------------
 * src/hosts.c
 *		Where a secret may be sent: the host list of aistudio.secrets
 *		(allowed_hosts), the host:port an LLM's api_endpoint sends to, and
 *		the rule that matches them.  The secrets API
 *		(sql/src/02_secrets.sql) decides who may set a list and when a
 *		reference is allowed; this file only parses and compares.
 *
 * Entries are stored normalised, so that comparing is comparing strings:
 * DNS names lower-cased and without a trailing dot, IPv4 literals as dotted
 * decimal (127.1 and 0x7f.0.0.1 are 127.0.0.1, as libcurl reads them),
 * IPv6 literals in brackets in their canonical text ([0:0::1] is [::1]),
 * ports without leading zeros.  An entry without a port allows every port
 * of its host; an endpoint's host:port always names its port (443 for
 * https, 80 for http).  The gateway checks again before it sends a secret
 * (gatewayd/src/http/keyhosts.c): it reads the request URL with libcurl's
 * URL API, which yields the same normal forms.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "aistudio.h"
#include "config.h"
#include "hosts.h"

PG_FUNCTION_INFO_V1(aistudio_normalize_hosts);
PG_FUNCTION_INFO_V1(aistudio_endpoint_host);
PG_FUNCTION_INFO_V1(aistudio_hosts_allow);

#define ENTRY_HINT "An entry is a host name or an IP address literal with an optional :port, " \
	"such as api.openai.com, 10.0.0.5:8443 or [::1]:8080."

static bool
IsNameChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* A port 1-65535 as decimal text without leading zeros, or NULL. */
static char *
NormalizePort(const char *p, size_t n, const char **problem)
{
	long		port = 0;

	if (n == 0 || n > 5)
	{
		*problem = "The port must be a number from 1 to 65535.";
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
	{
		if (p[i] < '0' || p[i] > '9')
		{
			*problem = "The port must be a number from 1 to 65535.";
			return NULL;
		}
		port = port * 10 + (p[i] - '0');
	}
	if (port < 1 || port > 65535)
	{
		*problem = "The port must be a number from 1 to 65535.";
		return NULL;
	}
	return psprintf("%ld", port);
}

/* A host name or IPv4 literal (no brackets, no port), normalised, or NULL. */
static char *
NormalizeName(const char *h, size_t n, const char **problem)
{
	char	   *out;
	size_t		label = 0;
	bool		numeric = true;
	struct in_addr v4;

	if (n > 0 && h[n - 1] == '.')
		n--;					/* the root label */
	if (n == 0)
	{
		*problem = "The host is empty.";
		return NULL;
	}
	if (n > HOSTS_MAX_NAME)
	{
		*problem = "The host is longer than 253 characters.";
		return NULL;
	}
	out = palloc(n + 1);
	for (size_t i = 0; i < n; i++)
	{
		char		c = h[i];

		if (!IsNameChar(c))
		{
			*problem = "The host may contain only letters, digits, '-', '_' and '.' "
				"(use punycode for international names).";
			return NULL;
		}
		if (c == '.')
		{
			if (label == 0)
			{
				*problem = "The host has an empty label (\"..\" or a leading \".\").";
				return NULL;
			}
			label = 0;
		}
		else if (++label > 63)
		{
			*problem = "A label of the host is longer than 63 characters.";
			return NULL;
		}
		if (!((c >= '0' && c <= '9') || c == '.' || c == 'x' || c == 'X' ||
			  (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			numeric = false;
		out[i] = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
	}
	out[n] = '\0';
	/* numbers-and-dots: an IPv4 address in any form inet_aton (and libcurl) reads */
	if (numeric && inet_aton(out, &v4) != 0)
	{
		char		buf[INET_ADDRSTRLEN];

		if (inet_ntop(AF_INET, &v4, buf, sizeof(buf)) != NULL)
			return pstrdup(buf);
	}
	return out;
}

/* A bracketed IPv6 literal "[...]" (brackets included), normalised, or NULL. */
static char *
NormalizeIpv6(const char *h, size_t n, const char **problem)
{
	char		in[INET6_ADDRSTRLEN + 1];
	char		buf[INET6_ADDRSTRLEN];
	struct in6_addr v6;

	if (n < 3 || h[0] != '[' || h[n - 1] != ']' || n - 2 > INET6_ADDRSTRLEN)
	{
		*problem = "The host is not a valid IPv6 address literal.";
		return NULL;
	}
	memcpy(in, h + 1, n - 2);
	in[n - 2] = '\0';
	if (strchr(in, '%') != NULL)
	{
		*problem = "IPv6 zone ids (\"%\") are not supported.";
		return NULL;
	}
	if (inet_pton(AF_INET6, in, &v6) != 1 || inet_ntop(AF_INET6, &v6, buf, sizeof(buf)) == NULL)
	{
		*problem = "The host is not a valid IPv6 address literal.";
		return NULL;
	}
	return psprintf("[%s]", buf);
}

/* Split "host[:port]"; the host keeps IPv6 brackets.  false + problem when malformed. */
static bool
SplitHostPort(const char *s, size_t n, const char **host, size_t *hlen,
			  const char **port, size_t *plen, const char **problem)
{
	const char *colon;

	*port = NULL;
	*plen = 0;
	if (n > 0 && s[0] == '[')
	{
		const char *close = memchr(s, ']', n);

		if (close == NULL)
		{
			*problem = "The host is not a valid IPv6 address literal.";
			return false;
		}
		*host = s;
		*hlen = close - s + 1;
		if (*hlen < n)
		{
			if (s[*hlen] != ':')
			{
				*problem = "Only \":port\" may follow an IPv6 address literal.";
				return false;
			}
			*port = s + *hlen + 1;
			*plen = n - *hlen - 1;
		}
		return true;
	}
	colon = memchr(s, ':', n);
	if (colon != NULL && memchr(colon + 1, ':', n - (colon + 1 - s)) != NULL)
	{
		*problem = "An IPv6 address must be written in brackets, such as [::1] or [::1]:8080.";
		return false;
	}
	*host = s;
	*hlen = colon != NULL ? (size_t) (colon - s) : n;
	if (colon != NULL)
	{
		*port = colon + 1;
		*plen = n - *hlen - 1;
	}
	return true;
}

static char *
NormalizeHost(const char *h, size_t n, const char **problem)
{
	if (n > 0 && h[0] == '[')
		return NormalizeIpv6(h, n, problem);
	return NormalizeName(h, n, problem);
}

char *
HostsNormalizeEntry(const char *entry, size_t len, const char **problem)
{
	const char *host,
			   *port;
	size_t		hlen,
				plen;
	char	   *nh,
			   *np = NULL;

	if (len == 0)
	{
		*problem = "The entry is empty.";
		return NULL;
	}
	if (len > HOSTS_MAX_ENTRY + 64)
	{
		*problem = "The entry is too long.";
		return NULL;
	}
	if (memchr(entry, '/', len) != NULL)
	{
		*problem = "An entry is a host, not a URL: leave out the scheme and the path.";
		return NULL;
	}
	if (memchr(entry, '@', len) != NULL)
	{
		*problem = "An entry must not contain user information (\"@\").";
		return NULL;
	}
	if (memchr(entry, '*', len) != NULL)
	{
		*problem = "Wildcards are not supported: list each host.";
		return NULL;
	}
	if (!SplitHostPort(entry, len, &host, &hlen, &port, &plen, problem))
		return NULL;
	if ((nh = NormalizeHost(host, hlen, problem)) == NULL)
		return NULL;
	if (port != NULL && (np = NormalizePort(port, plen, problem)) == NULL)
		return NULL;
	return np != NULL ? psprintf("%s:%s", nh, np) : nh;
}

char *
HostsEndpointHostPort(const char *url, size_t len)
{
	const char *problem = ConfigEndpointProblem(url, len);
	const char *auth,
			   *end = url + len,
			   *auth_end,
			   *host,
			   *port;
	size_t		hlen,
				plen;
	bool		https;
	char	   *nh,
			   *np = NULL;

	if (problem == NULL)
	{
		https = pg_strncasecmp(url, "https://", 8) == 0;
		auth = url + (https ? 8 : 7);
		for (auth_end = auth; auth_end < end; auth_end++)
			if (*auth_end == '/' || *auth_end == '?' || *auth_end == '#')
				break;
		if (SplitHostPort(auth, auth_end - auth, &host, &hlen, &port, &plen, &problem) &&
			(nh = NormalizeHost(host, hlen, &problem)) != NULL &&
			(port == NULL || (np = NormalizePort(port, plen, &problem)) != NULL))
			return psprintf("%s:%s", nh, np != NULL ? np : (https ? "443" : "80"));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid api_endpoint"),
			 errdetail_internal("%s", problem),
			 errhint("Use an absolute URL such as https://api.openai.com/v1.")));
	return NULL;				/* keep compiler quiet */
}

/* The host part of a normalised entry or host:port (brackets kept). */
static size_t
HostPartLen(const char *s)
{
	const char *p;

	if (s[0] == '[')
	{
		p = strchr(s, ']');
		return p != NULL ? (size_t) (p - s + 1) : strlen(s);
	}
	p = strchr(s, ':');
	return p != NULL ? (size_t) (p - s) : strlen(s);
}

bool
HostsEntryAllows(const char *entry, const char *hostport)
{
	size_t		eh = HostPartLen(entry);
	size_t		hh = HostPartLen(hostport);

	if (eh != hh || memcmp(entry, hostport, eh) != 0)
		return false;
	if (entry[eh] == '\0')
		return true;			/* every port */
	return strcmp(entry + eh, hostport + hh) == 0;
}

static int
CompareCStrings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * aistudio.normalize_hosts(hosts text[]) -> text[]
 *
 * The list validated and normalised, sorted, without duplicates; NULL stays
 * NULL (an unbound secret).  22023 for an empty list, a NULL element or a
 * malformed entry (the message quotes the entry: host lists are not secret).
 */
Datum
aistudio_normalize_hosts(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				m = 0;
	char	  **norm;
	Datum	   *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("allowed_hosts must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("allowed_hosts must name at least one host"),
				 errhint("Pass NULL to leave the secret unbound: the first LLM that uses it binds it to its endpoint's host.")));
	if (n > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("allowed_hosts has more than 64 entries")));
	norm = palloc(n * sizeof(char *));
	for (int i = 0; i < n; i++)
	{
		text	   *t;
		const char *problem = NULL;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("allowed_hosts[%d] is null", i + 1),
					 errhint(ENTRY_HINT)));
		t = DatumGetTextPP(elems[i]);
		norm[i] = HostsNormalizeEntry(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &problem);
		if (norm[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid allowed_hosts entry \"%s\"",
							pnstrdup(VARDATA_ANY(t), Min(VARSIZE_ANY_EXHDR(t), 300))),
					 errdetail_internal("%s", problem),
					 errhint(ENTRY_HINT)));
	}
	qsort(norm, n, sizeof(char *), CompareCStrings);
	out = palloc(n * sizeof(Datum));
	for (int i = 0; i < n; i++)
		if (m == 0 || strcmp(norm[i], norm[i - 1]) != 0)
			out[m++] = CStringGetTextDatum(norm[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, m, TEXTOID, -1, false, TYPALIGN_INT));
}

/* aistudio.endpoint_host(url text) -> text: the normalised host:port */
Datum
aistudio_endpoint_host(PG_FUNCTION_ARGS)
{
	text	   *url = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(HostsEndpointHostPort(VARDATA_ANY(url), VARSIZE_ANY_EXHDR(url))));
}

/*
 * aistudio.hosts_allow(hosts text[], url text) -> boolean: may a secret
 * with these (normalised) hosts be sent to url?  Raises 22023 for an
 * invalid url.
 */
Datum
aistudio_hosts_allow(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	text	   *url = PG_GETARG_TEXT_PP(1);
	char	   *hostport = HostsEndpointHostPort(VARDATA_ANY(url), VARSIZE_ANY_EXHDR(url));
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i] && HostsEntryAllows(TextDatumGetCString(elems[i]), hostport))
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}
