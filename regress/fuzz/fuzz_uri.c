/*
 * regress/fuzz/fuzz_uri.c: the checks every request passes before its
 * handler: the raw path check and the percent-decoder (src/base/url.c),
 * and gw_http_check_request (src/http/server.c) on a request built from
 * the input: the first field is the HTTP version, the second the request
 * target, the rest "Name: value" header lines. Invariants: an accepted path
 * decodes without a control character; an accepted request has at most one
 * Content-Length value and no Transfer-Encoding next to it; every refusal
 * carries a 4xx status and a code.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/connguard.c"
#include "http/server.c"

#include "fuzz.h"

#define GW_FUZZ_FIELDS (2 + MG_MAX_HEADERS + 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[GW_FUZZ_FIELDS], *owned, *dec;
    struct mg_request_info ri;
    gw_http_verdict v;
    size_t n, tl;
    int nf;

    nf = gw_fuzz_fields(data, size, f, GW_FUZZ_FIELDS, &owned);
    if (nf < 0)
        return 0;
    tl = strlen(f[1]);
    dec = malloc(tl + 1);
    if (dec == NULL) {
        free(owned);
        return 0;
    }
    if (gw_url_path_check(f[1], tl) == GW_URL_PATH_OK) {
        if (gw_url_decode(f[1], tl, 0, dec, tl + 1, &n) != 0)
            abort(); /* a checked path always decodes */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)dec[i] < 0x20 || dec[i] == 0x7f)
                abort();
    }
    (void)gw_url_decode(f[1], tl, GW_URL_PLUS_SPACE | GW_URL_ALLOW_NUL, dec, tl + 1, &n);
    (void)gw_url_decode(f[1], tl, 0, dec, tl / 2 + 1, &n);

    memset(&ri, 0, sizeof(ri));
    ri.request_method = "POST";
    ri.http_version = f[0];
    ri.request_uri = ri.local_uri = ri.local_uri_raw = f[1];
    for (int i = 2; i < nf && ri.num_headers < MG_MAX_HEADERS; i++) {
        char *colon = strchr(f[i], ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        ri.http_headers[ri.num_headers].name = f[i];
        ri.http_headers[ri.num_headers].value = colon + 1 + strspn(colon + 1, " ");
        ri.num_headers++;
    }
    if (gw_http_check_request(&ri, &v) == 0) {
        int cl = 0, te = 0;
        const char *first = NULL;
        for (int i = 0; i < ri.num_headers; i++) {
            if (strcasecmp(ri.http_headers[i].name, "Content-Length") == 0) {
                if (first != NULL && strtoll(first, NULL, 10) != strtoll(ri.http_headers[i].value, NULL, 10))
                    abort();
                first = ri.http_headers[i].value;
                cl++;
            }
            te += strcasecmp(ri.http_headers[i].name, "Transfer-Encoding") == 0;
        }
        if (te > 1 || (te == 1 && cl > 0))
            abort();
    } else if (v.status < 400 || v.status > 499 || v.code == NULL || v.message[0] == '\0') {
        abort();
    }
    free(dec);
    free(owned);
    return 0;
}
