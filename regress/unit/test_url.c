/*
 * regress/unit/test_url.c: percent-decoding and the raw path check
 * (src/base/url.c): escapes of every case, '+' only in query mode, %00
 * refused unless allowed, broken and cut escapes, output that does not
 * fit, decoding in place; control characters raw and encoded, %7F, a bad
 * escape at the very end.
 */
#include "base/codec.c"
#include "base/url.c"

#include "tap.h"

static int dec(const char *in, unsigned flags, char *out, size_t cap, size_t *n)
{
    return gw_url_decode(in, strlen(in), flags, out, cap, n);
}

int main(void)
{
    char out[64];
    size_t n = 99;

    is_int(gw_hex_val('0'), 0, "hex 0");
    is_int(gw_hex_val('9'), 9, "hex 9");
    is_int(gw_hex_val('a'), 10, "hex a");
    is_int(gw_hex_val('F'), 15, "hex F");
    is_int(gw_hex_val('g'), -1, "hex g is not a digit");
    is_int(gw_hex_val(0), -1, "NUL is not a digit");
    is_int(gw_hex_val(0xc3), -1, "a UTF-8 byte is not a digit");

    {
        char enc[3 * 16];
        size_t m = gw_url_encode("aZ09-._~ /%\xc3\xa9", 13, enc);
        ok(m == 23 && memcmp(enc, "aZ09-._~%20%2F%25%C3%A9", 23) == 0, "encode: unreserved kept, the rest %XX");
        ok(gw_url_decode(enc, m, 0, out, sizeof(out), &n) == 0 && n == 13 && memcmp(out, "aZ09-._~ /%\xc3\xa9", 13) == 0,
           "encode then decode gives the input back");
        ok(gw_url_encode("", 0, enc) == 0, "encode: nothing in, nothing out");
    }
    ok(dec("abc", 0, out, sizeof(out), &n) == 0 && strcmp(out, "abc") == 0 && n == 3, "plain text");
    ok(dec("%41%62%2F%2f", 0, out, sizeof(out), &n) == 0 && strcmp(out, "Ab//") == 0 && n == 4,
       "escapes of both cases");
    ok(dec("a+b", 0, out, sizeof(out), &n) == 0 && strcmp(out, "a+b") == 0, "'+' kept in a path");
    ok(dec("a+b", GW_URL_PLUS_SPACE, out, sizeof(out), &n) == 0 && strcmp(out, "a b") == 0,
       "'+' is a space in a query");
    ok(dec("%2B", GW_URL_PLUS_SPACE, out, sizeof(out), &n) == 0 && strcmp(out, "+") == 0, "%%2B is a '+'");
    ok(dec("a%00b", 0, out, sizeof(out), &n) == -1, "%%00 refused (it would cut the string)");
    ok(gw_url_decode("a%00b", 5, GW_URL_ALLOW_NUL, out, sizeof(out), &n) == 0 && n == 3 && out[1] == '\0' &&
           out[2] == 'b',
       "%%00 kept when allowed, with the true length");
    ok(dec("%0a%7f", 0, out, sizeof(out), &n) == 0 && n == 2 && out[0] == '\n' && out[1] == 0x7f,
       "other control characters decode (the caller decides)");
    ok(dec("%", 0, out, sizeof(out), &n) == -1, "lone '%%'");
    ok(dec("%4", 0, out, sizeof(out), &n) == -1, "cut escape");
    ok(dec("ab%4", 0, out, sizeof(out), &n) == -1, "cut escape at the end");
    ok(dec("%zz", 0, out, sizeof(out), &n) == -1, "non-hex escape");
    ok(dec("%4g", 0, out, sizeof(out), &n) == -1, "half-hex escape");
    ok(gw_url_decode("%41", 2, 0, out, sizeof(out), &n) == -1, "the length bounds the escape, not the NUL");
    ok(dec("abcd", 0, out, 4, &n) == -1, "does not fit: refused, not cut");
    ok(dec("abc", 0, out, 4, &n) == 0 && strcmp(out, "abc") == 0, "exactly fits");
    ok(dec("%41%42%43", 0, out, 4, &n) == 0 && strcmp(out, "ABC") == 0, "escapes fit by their decoded size");
    ok(dec("", 0, out, 1, &n) == 0 && out[0] == '\0' && n == 0, "empty");
    ok(dec("x", 0, out, 0, &n) == -1, "no room at all");
    {
        char buf[] = "%2e%2E/a+%20b";
        ok(gw_url_decode(buf, strlen(buf), 0, buf, sizeof(buf), &n) == 0 && strcmp(buf, "../a+ b") == 0,
           "decodes in place");
    }
    ok(gw_url_decode("abc", 3, 0, out, sizeof(out), NULL) == 0, "out_len may be NULL");

    is_int(gw_url_path_check("/llm/rest/x/v1/chat/completions", 31), GW_URL_PATH_OK, "ordinary path");
    is_int(gw_url_path_check("/a%20b/%2e%2E/%2F%41", 20), GW_URL_PATH_OK,
           "escapes of printable characters pass (dot segments are the routes' business)");
    is_int(gw_url_path_check("/caf\xc3\xa9", 6), GW_URL_PATH_OK, "raw UTF-8 passes");
    for (int c = 0; c < 0x20; c++) {
        char p[16];
        snprintf(p, sizeof(p), "/a%%%02Xb", c);
        if (gw_url_path_check(p, strlen(p)) != GW_URL_PATH_CONTROL) {
            ok(0, "%%%02X is a control character", c);
            break;
        }
        snprintf(p, sizeof(p), "/a%%%02xb", c);
        if (gw_url_path_check(p, strlen(p)) != GW_URL_PATH_CONTROL) {
            ok(0, "%%%02x is a control character", c);
            break;
        }
        if (c == 0x1f)
            ok(1, "%%00-%%1F (either case) are control characters");
    }
    is_int(gw_url_path_check("/a%7fb", 6), GW_URL_PATH_CONTROL, "%%7f");
    is_int(gw_url_path_check("/a%7Fb", 6), GW_URL_PATH_CONTROL, "%%7F");
    is_int(gw_url_path_check("/a\x01" "b", 4), GW_URL_PATH_CONTROL, "a raw control character");
    is_int(gw_url_path_check("/a\x7f" "b", 4), GW_URL_PATH_CONTROL, "a raw DEL");
    is_int(gw_url_path_check("/a\0b", 4), GW_URL_PATH_CONTROL, "a raw NUL within the length");
    is_int(gw_url_path_check("/a%00", 3), GW_URL_PATH_BAD_ESCAPE, "an escape cut by the length");
    is_int(gw_url_path_check("/a%", 3), GW_URL_PATH_BAD_ESCAPE, "a '%%' at the end");
    is_int(gw_url_path_check("/a%zz", 5), GW_URL_PATH_BAD_ESCAPE, "a non-hex escape");
    is_int(gw_url_path_check("/a%%00", 6), GW_URL_PATH_BAD_ESCAPE, "'%%%%' is not an escape of '%%'");
    is_int(gw_url_path_check("/a%2500", 7), GW_URL_PATH_OK, "%%25 00 is the text '%%00', not a NUL");
    is_int(gw_url_path_check("", 0), GW_URL_PATH_OK, "empty");
    has_str(gw_url_path_message(GW_URL_PATH_CONTROL), "control character", "the message of a control character");
    has_str(gw_url_path_message(GW_URL_PATH_BAD_ESCAPE), "hex digits", "the message of a bad escape");

    printf("1..%d\n", tap_count);
    return tap_failures != 0;
}
