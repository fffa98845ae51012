/*
 * src/model/keyhosts.c: the check that a $SECRET key goes only to its
 * secret's hosts (see keyhosts.h). Pure: libcurl's URL API only, no
 * network, no state.
 */
#include "model/keyhosts.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

/* Length of the host part of "host", "host:port", "[v6]" or "[v6]:port". */
static size_t gw_kh_host_len(const char *s)
{
    const char *p;
    if (s[0] == '[') {
        p = strchr(s, ']');
        return p != NULL ? (size_t)(p - s) + 1 : strlen(s);
    }
    p = strchr(s, ':');
    return p != NULL ? (size_t)(p - s) : strlen(s);
}

/* Host names compare case-insensitively and without a trailing dot. */
static int gw_kh_host_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > 0 && a[an - 1] == '.')
        an--;
    if (bn > 0 && b[bn - 1] == '.')
        bn--;
    return an == bn && strncasecmp(a, b, an) == 0;
}

int gw_keyhosts_allows(const char *const *hosts, size_t n, const char *hostport)
{
    size_t hh = gw_kh_host_len(hostport);

    for (size_t i = 0; i < n; i++) {
        const char *e = hosts[i];
        size_t eh;
        if (e == NULL || e[0] == '\0')
            continue;
        eh = gw_kh_host_len(e);
        if (!gw_kh_host_eq(e, eh, hostport, hh))
            continue;
        if (e[eh] == '\0')
            return 1; /* every port of the host */
        if (e[eh] == ':' && hostport[hh] == ':' && strcmp(e + eh + 1, hostport + hh + 1) == 0)
            return 1;
    }
    return 0;
}

int gw_keyhosts_hostport(const char *url, char hostport[GW_HOSTPORT_MAX], char err[GW_ERR_LEN])
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *zone = NULL;
    int rc = -1;

    hostport[0] = '\0';
    if (u == NULL)
        return gw_errf(err, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        gw_errf(err, "the upstream URL cannot be parsed");
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        gw_errf(err, "the upstream URL is not http(s)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK && zone != NULL && zone[0] != '\0') {
        gw_errf(err, "the upstream URL has an IPv6 zone id");
        goto out;
    }
    {
        char h[GW_HOSTPORT_MAX];
        size_t n = strlen(host);
        if (n > 0 && host[n - 1] == '.')
            n--;
        if (n == 0 || n >= sizeof(h) - 8) {
            gw_errf(err, "the upstream URL has no usable host");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            h[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
        h[n] = '\0';
        if (h[0] == '[') {
            /* canonical text, as the extension writes IPv6 entries */
            struct in6_addr a;
            char in[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
            if (n < 3 || n - 2 > INET6_ADDRSTRLEN || h[n - 1] != ']') {
                gw_errf(err, "the upstream URL has an invalid IPv6 host");
                goto out;
            }
            memcpy(in, h + 1, n - 2);
            in[n - 2] = '\0';
            if (inet_pton(AF_INET6, in, &a) != 1 || inet_ntop(AF_INET6, &a, canon, sizeof(canon)) == NULL) {
                gw_errf(err, "the upstream URL has an invalid IPv6 host");
                goto out;
            }
            snprintf(h, sizeof(h), "[%s]", canon);
        }
        {
            size_t hl = strlen(h), pl = strlen(port);
            if (hl + 1 + pl >= GW_HOSTPORT_MAX) {
                gw_errf(err, "the upstream URL has no usable host");
                goto out;
            }
            memcpy(hostport, h, hl);
            hostport[hl] = ':';
            memcpy(hostport + hl + 1, port, pl + 1);
        }
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}

int gw_keyhosts_check(const gw_llm *llm, const char *url, char err[GW_ERR_LEN])
{
    char hp[GW_HOSTPORT_MAX], perr[GW_ERR_LEN];

    if (llm->key_state != GW_KEY_OK || llm->key_secret == NULL)
        return 0; /* no key, or a literal one */
    if (url == NULL || gw_keyhosts_hostport(url, hp, perr) != 0)
        return gw_errf(err, "the key of LLM '%s' is a secret and %s", llm->slug != NULL ? llm->slug : "?",
                       url == NULL ? "there is no upstream URL" : perr);
    if (llm->n_key_hosts == 0)
        return gw_errf(err, "the key of LLM '%s' is a secret that is bound to no host", llm->slug);
    if (!gw_keyhosts_allows(llm->key_hosts, llm->n_key_hosts, hp))
        return gw_errf(err, "the key of LLM '%s' is a secret that may not be sent to %s", llm->slug, hp);
    return 0;
}
