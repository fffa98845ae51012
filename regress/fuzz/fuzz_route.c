/*
 * regress/fuzz/fuzz_route.c: the gateway's URL grammar and credential
 * lookup (src/gateway/proxy_route.c) on arbitrary input: gw_route_parse on the
 * path, gw_route_credential on headers and a query string. Input fields
 * (NUL-separated): path, query, Authorization, x-api-key. Invariants: an
 * accepted vendor path starts with '/' and lies inside the input, a slug
 * fits, a found key is non-empty, NUL-free and fits its buffer.
 */
#include "base/codec.c"
#include "base/url.c"
#include "gateway/proxy_route.c"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[4], *owned;
    gw_route r;
    gw_route_status st;
    char key[64];
    size_t klen = 0;
    gw_header h[3];

    if (gw_fuzz_fields(data, size, f, 4, &owned) < 0)
        return 0;
    st = gw_route_parse(f[0], &r);
    if (st == GW_ROUTE_OK) {
        if (r.path == NULL || r.path[0] != '/' || strlen(r.slug) > GW_SLUG_MAX || r.slug[0] == '\0')
            abort();
        if (strcmp(r.path, "/") != 0 && strcmp(r.path, "/v1/chat/completions") != 0 &&
            (r.path < f[0] || r.path > f[0] + strlen(f[0])))
            abort();
    }
    (void)gw_route_kind_name(r.kind);
    h[0] = (gw_header){"Authorization", f[2]};
    h[1] = (gw_header){"x-api-key", f[3]};
    h[2] = (gw_header){"x-goog-api-key", f[1]};
    for (size_t n = 0; n <= 3; n++) {
        gw_cred_source src = gw_route_credential(h + (3 - n), n, f[1], key, sizeof(key), &klen);
        if (src != GW_CRED_SRC_NONE && (klen == 0 || klen >= sizeof(key) || strlen(key) != klen))
            abort();
        if (src == GW_CRED_SRC_NONE && key[0] != '\0')
            abort();
    }
    free(owned);
    return 0;
}
