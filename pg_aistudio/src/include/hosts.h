/*-------------------------------------------------------------------------
 * src/include/hosts.h
 *		The hosts a secret may be sent to (see src/hosts.c): host entries,
 *		the host:port of an LLM's api_endpoint, and the matching rule.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_HOSTS_H
#define AISTUDIO_HOSTS_H

#include "postgres.h"

/* Longest host name (RFC 1035) and the longest entry "[v6]:65535". */
#define HOSTS_MAX_NAME 253
#define HOSTS_MAX_ENTRY (HOSTS_MAX_NAME + 8)

/*
 * Normalise one allowed-host entry, "host" or "host:port": a DNS name
 * (lower-cased, without a trailing dot), an IPv4 literal (written as
 * dotted decimal, whatever form it was given in) or a bracketed IPv6
 * literal (canonical text), and a port 1-65535 without leading zeros.
 * Returns the palloc'd entry, or NULL with *problem set to a sentence
 * saying what is wrong.
 */
extern char *HostsNormalizeEntry(const char *entry, size_t len, const char **problem);

/*
 * The normalised "host:port" an api_endpoint URL sends to (port 443 for
 * https and 80 for http unless the URL names one).  Raises 22023 for a URL
 * check_api_endpoint() would refuse.
 */
extern char *HostsEndpointHostPort(const char *url, size_t len);

/*
 * Does the normalised entry allow the normalised host:port?  An entry
 * without a port allows every port of its host.
 */
extern bool HostsEntryAllows(const char *entry, const char *hostport);

#endif							/* AISTUDIO_HOSTS_H */
