/*
 * regress/unit/test_http_guard.c: the check every request passes before its
 * handler (gw_http_check_request, src/http/server.c): Content-Length
 * repeated with the same / different values and malformed, Transfer-Encoding
 * (only "chunked", once, without Content-Length, not in HTTP/1.0), the
 * header count civetweb keeps, and the raw path; which answers close the
 * connection. The e2e test gateway-protocol.test.mjs drives the same rules
 * through real sockets.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "http/connguard.c"
#include "http/server.c"

#include "tap.h"

static struct mg_request_info ri;

static void req(const char *version, const char *uri)
{
    memset(&ri, 0, sizeof(ri));
    ri.request_method = "POST";
    ri.http_version = version;
    ri.request_uri = uri;
    ri.local_uri_raw = uri;
    ri.local_uri = uri;
    ri.http_headers[ri.num_headers].name = "Host";
    ri.http_headers[ri.num_headers++].value = "x";
}

static void hdr(const char *name, const char *value)
{
    ri.http_headers[ri.num_headers].name = name;
    ri.http_headers[ri.num_headers++].value = value;
}

static void expect(int status, int close, const char *code, const char *what)
{
    gw_http_verdict v;
    int rc = gw_http_check_request(&ri, &v);
    ok(rc == (status == 0 ? 0 : -1) && v.status == status && v.close == close &&
           (code == NULL ? v.code == NULL : v.code != NULL && strcmp(v.code, code) == 0),
       "%s -> %d%s %s", what, status, close ? " close" : "", code != NULL ? code : "");
    if (v.status != status || v.close != close)
        diag("got %d close %d code %s: %s", v.status, v.close, v.code != NULL ? v.code : "(null)", v.message);
}

int main(void)
{
    gw_http_verdict v;

    req("1.1", "/llm/rest/x/v1/chat/completions");
    expect(0, 0, NULL, "a plain request");
    hdr("Content-Length", "5");
    expect(0, 0, NULL, "one Content-Length");
    hdr("content-length", "5");
    expect(0, 0, NULL, "the same Content-Length twice (RFC 9110 8.6)");
    hdr("Content-Length", "05");
    expect(0, 0, NULL, "the same number written with a leading zero");
    hdr("Content-Length", "6");
    expect(400, 1, "invalid_request", "Content-Length 5 then 6");
    gw_http_check_request(&ri, &v);
    has_str(v.message, "different values", "the message says why");

    const char *bad_cl[] = {"5abc", "+5", "-1", "5, 5", "0x5", "", " ", "5 6", "1234567890123456789", "5\t,"};
    for (size_t i = 0; i < sizeof(bad_cl) / sizeof(bad_cl[0]); i++) {
        char what[64];
        req("1.1", "/");
        hdr("Content-Length", bad_cl[i]);
        snprintf(what, sizeof(what), "Content-Length \"%s\"", bad_cl[i]);
        expect(400, 1, "invalid_request", what);
    }
    req("1.1", "/");
    hdr("Content-Length", "123456789012345678");
    expect(0, 0, NULL, "an 18-digit Content-Length (the body limit answers it later)");
    req("1.1", "/");
    hdr("Content-Length", "7 \t");
    expect(0, 0, NULL, "trailing whitespace after the digits");

    req("1.1", "/");
    hdr("Transfer-Encoding", "chunked");
    expect(0, 0, NULL, "Transfer-Encoding: chunked");
    req("1.1", "/");
    hdr("Transfer-Encoding", "Chunked");
    expect(0, 0, NULL, "the coding name in any case");
    const char *bad_te[] = {"identity", "chunked, identity", "gzip, chunked", "xchunked", "chunkedx", "chunked ",
                            "chunked,", ""};
    for (size_t i = 0; i < sizeof(bad_te) / sizeof(bad_te[0]); i++) {
        char what[64];
        req("1.1", "/");
        hdr("Transfer-Encoding", bad_te[i]);
        snprintf(what, sizeof(what), "Transfer-Encoding \"%s\"", bad_te[i]);
        expect(400, 1, "invalid_request", what);
    }
    req("1.1", "/");
    hdr("Transfer-Encoding", "chunked");
    hdr("Transfer-Encoding", "chunked");
    expect(400, 1, "invalid_request", "two Transfer-Encoding headers");
    req("1.1", "/");
    hdr("Content-Length", "5");
    hdr("Transfer-Encoding", "chunked");
    expect(400, 1, "invalid_request", "Content-Length then Transfer-Encoding");
    req("1.1", "/");
    hdr("Transfer-Encoding", "chunked");
    hdr("Content-Length", "0");
    expect(400, 1, "invalid_request", "Transfer-Encoding then Content-Length");
    gw_http_check_request(&ri, &v);
    has_str(v.message, "both Content-Length and Transfer-Encoding", "the message says why");
    req("1.0", "/");
    hdr("Transfer-Encoding", "chunked");
    expect(400, 1, "invalid_request", "Transfer-Encoding in HTTP/1.0");
    req("1.0", "/");
    hdr("Content-Length", "2");
    expect(0, 0, NULL, "Content-Length in HTTP/1.0");

    req("1.1", "/");
    while (ri.num_headers < MG_MAX_HEADERS - 1)
        hdr("X-Filler", "1");
    expect(0, 0, NULL, "MG_MAX_HEADERS - 1 fields");
    hdr("X-Filler", "1");
    expect(431, 1, "request_header_fields_too_large", "MG_MAX_HEADERS fields (more may have been dropped)");

    req("1.1", "/api/v1/apps/1%00");
    expect(400, 0, "invalid_path", "%00 in the path (the connection may go on)");
    req("1.1", "/app/main.js%00.css");
    expect(400, 0, "invalid_path", "%00 inside a file name");
    req("1.1", "/x%0D%0AInjected:%201");
    expect(400, 0, "invalid_path", "an encoded CR LF");
    req("1.1", "/x%7f");
    expect(400, 0, "invalid_path", "%7f");
    req("1.1", "/x%zz");
    expect(400, 0, "invalid_path", "a broken escape");
    req("1.1", "/x%2F%2e%2e%20y");
    expect(0, 0, NULL, "printable escapes pass (the routes judge them)");
    req("1.1", "/x");
    ri.request_uri = NULL;
    expect(0, 0, NULL, "no request URI (civetweb answers it)");
    req("1.1", "/x%00");
    hdr("Content-Length", "1");
    hdr("Content-Length", "2");
    expect(400, 1, "invalid_request", "framing is judged before the path");

    printf("1..%d\n", tap_count);
    return tap_failures != 0;
}
