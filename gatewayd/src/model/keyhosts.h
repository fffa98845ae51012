/*
 * src/model/keyhosts.h: may the vendor key of an LLM be sent to this URL?
 * The second check of the rule the extension owns (sql/pg_aistudio.sql,
 * aistudio.bind_secret, and pg_aistudio/src/hosts.c): a $SECRET/Name key
 * goes only to the hosts the secret lists (gw_llm.key_hosts, "host" = any
 * port, "host:port"); a literal key goes anywhere. The extension refuses
 * LLMs that break the rule; this check catches what it cannot see (rows
 * edited directly, a snapshot from elsewhere) just before a request is
 * sent, on the URL libcurl will connect to.
 *
 * The URL is read with libcurl's URL API (curl_url), the parser of the
 * transfer itself, so user information, IPv6 literals, numeric IPv4 forms
 * (127.1) and percent-encoding cannot make the check and the connection
 * disagree. The host is compared lower-cased and without a trailing dot;
 * the port is the URL's or the scheme's (443/80). A URL with an IPv6 zone
 * id, or one libcurl cannot parse, is refused.
 */
#ifndef GW_HTTP_KEYHOSTS_H
#define GW_HTTP_KEYHOSTS_H

#include <stddef.h>

#include "base/common.h"
#include "model/snapshot.h"

#define GW_HOSTPORT_MAX 300

/*
 * Fills hostport ("host:port", GW_HOSTPORT_MAX bytes) for url. 0, or -1 with
 * err when libcurl cannot parse it or it is not http(s).
 */
int gw_keyhosts_hostport(const char *url, char hostport[GW_HOSTPORT_MAX], char err[GW_ERR_LEN]);

/* 1 when one of the n entries allows hostport, else 0. */
int gw_keyhosts_allows(const char *const *hosts, size_t n, const char *hostport);

/*
 * 0 when llm's vendor key may be sent to url (no key, a literal key, or a
 * secret listing the URL's host); -1 with err naming the host:port
 * otherwise (no secret value in it).
 */
int gw_keyhosts_check(const gw_llm *llm, const char *url, char err[GW_ERR_LEN]);

#endif
