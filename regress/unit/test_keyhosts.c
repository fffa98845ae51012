/*
 * regress/unit/test_keyhosts.c: the gateway's check that a $SECRET key
 * goes only to its secret's hosts (model/keyhosts.c): host:port as libcurl
 * reads the URL (user information, IPv6 literals, upper case, trailing
 * dots, numeric IPv4 forms, default ports, zone ids, other schemes), the
 * entry rule (a host alone allows every port), and the whole check on an
 * LLM (literal keys and keyless LLMs pass, an unbound secret goes nowhere).
 */
#include "model/keyhosts.c"

#include "tap.h"

static const char *hp(const char *url)
{
    static char out[GW_HOSTPORT_MAX];
    char err[GW_ERR_LEN];
    if (gw_keyhosts_hostport(url, out, err) != 0)
        snprintf(out, sizeof(out), "ERR %s", err);
    return out;
}

int main(void)
{
    char err[GW_ERR_LEN];

    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* ---- host:port of a URL ---- */
    is_str(hp("https://api.openai.com/v1/chat/completions"), "api.openai.com:443", "https: default port 443");
    is_str(hp("http://127.0.0.1:9000/v1"), "127.0.0.1:9000", "explicit port");
    is_str(hp("http://localhost/x"), "localhost:80", "http: default port 80");
    is_str(hp("HTTPS://API.OpenAI.COM./v1"), "api.openai.com:443", "upper case and a trailing dot");
    is_str(hp("http://[::1]:8080/v1"), "[::1]:8080", "IPv6 literal");
    is_str(hp("http://[0:0:0:0:0:0:0:1]/"), "[::1]:80", "IPv6 literal in canonical form");
    is_str(hp("http://127.1:9000/"), "127.0.0.1:9000", "numeric IPv4 shorthand as libcurl connects to it");
    is_str(hp("http://0x7f.0.0.1:9000/"), "127.0.0.1:9000", "hexadecimal IPv4");
    is_str(hp("http://user:pw@evil.example:9001/"), "evil.example:9001", "user information is not the host");
    is_str(hp("http://good.example@evil.example/"), "evil.example:80", "the host after '@' is the one connected to");
    is_str(hp("https://api.openai.com:0443/"), "api.openai.com:443", "leading zeros in the port");
    has_str(hp("http://[fe80::1%25eth0]:80/"), "ERR", "an IPv6 zone id is refused");
    has_str(hp("ftp://api.openai.com/"), "ERR", "not http(s)");
    has_str(hp("not a url"), "ERR", "garbage");
    has_str(hp(""), "ERR", "empty");

    /* ---- entries ---- */
    {
        const char *hosts[] = {"api.openai.com", "127.0.0.1:9000", "[::1]:8080"};
        ok(gw_keyhosts_allows(hosts, 3, "api.openai.com:443"), "a host alone allows its default port");
        ok(gw_keyhosts_allows(hosts, 3, "api.openai.com:8443"), "... and any other port");
        ok(gw_keyhosts_allows(hosts, 3, "127.0.0.1:9000"), "host:port allows that port");
        ok(!gw_keyhosts_allows(hosts, 3, "127.0.0.1:9001"), "... and no other");
        ok(gw_keyhosts_allows(hosts, 3, "[::1]:8080"), "IPv6 host:port");
        ok(!gw_keyhosts_allows(hosts, 3, "[::1]:80"), "IPv6 other port");
        ok(!gw_keyhosts_allows(hosts, 3, "api.openai.com.evil.example:443"), "a longer name is another host");
        ok(!gw_keyhosts_allows(hosts, 3, "evil.example:443"), "an unlisted host");
        ok(!gw_keyhosts_allows(hosts, 0, "api.openai.com:443"), "no entries allow nothing");
        const char *upper[] = {"API.OpenAI.com."};
        ok(gw_keyhosts_allows(upper, 1, "api.openai.com:443"), "entries compare case-insensitively, trailing dot");
    }

    /* ---- the check on an LLM ---- */
    {
        const char *hosts[] = {"127.0.0.1:9000"};
        gw_llm l;
        memset(&l, 0, sizeof(l));
        l.slug = "gpt";
        l.key_state = GW_KEY_NONE;
        ok(gw_keyhosts_check(&l, "http://evil.example/", err) == 0, "no key: anywhere");
        l.key_state = GW_KEY_OK;
        l.api_key = (char *)"sk-literal-key-000";
        ok(gw_keyhosts_check(&l, "http://evil.example/", err) == 0, "a literal key: anywhere");
        l.key_secret = "MockVendorKey";
        l.key_hosts = hosts;
        l.n_key_hosts = 1;
        ok(gw_keyhosts_check(&l, "http://127.0.0.1:9000/v1/chat/completions", err) == 0, "a secret to its host:port");
        ok(gw_keyhosts_check(&l, "http://127.0.0.1:9001/v1/chat/completions", err) != 0, "a secret to another port");
        has_str(err, "127.0.0.1:9001", "the error names the host:port");
        lacks_str(err, "sk-literal", "the error holds no key");
        ok(gw_keyhosts_check(&l, "http://x@127.0.0.1:9001/v1", err) != 0, "user information does not help");
        ok(gw_keyhosts_check(&l, "http://127.0.0.1:9000@evil.example/v1", err) != 0,
           "a listed host as user information does not help");
        ok(gw_keyhosts_check(&l, "http://127.1:9000/v1", err) == 0, "127.1 is 127.0.0.1");
        ok(gw_keyhosts_check(&l, NULL, err) != 0, "no URL");
        l.n_key_hosts = 0;
        ok(gw_keyhosts_check(&l, "http://127.0.0.1:9000/v1", err) != 0, "an unbound secret goes nowhere");
        has_str(err, "bound to no host", "the error says so");
    }
    curl_global_cleanup();
    return tap_done();
}
