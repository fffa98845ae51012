/*
 * regress/unit/test_codec.c: the one hex and the one base64url of gatewayd
 * (src/base/codec.c): digit values of both cases and of non-digits, encoding
 * and decoding round trips, the index of a bad digit, base64url of every
 * length, its alphabet, non-canonical leftovers, too small buffers.
 */
#include "base/codec.c"

#include <string.h>

#include "tap.h"

int main(void)
{
    unsigned char bytes[8], all[256];
    char text[600];
    size_t n = 0, bad = 99;

    is_int(gw_hex_val('0'), 0, "hex 0");
    is_int(gw_hex_val('a'), 10, "hex a");
    is_int(gw_hex_val('F'), 15, "hex F");
    is_int(gw_hex_val('g'), -1, "g is not a hex digit");
    is_int(gw_hex_val(0), -1, "NUL is not a hex digit");
    is_int(gw_hex_val(0xc3), -1, "a UTF-8 byte is not a hex digit");

    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    gw_hex_encode(all, 256, text);
    ok(strlen(text) == 512 && strncmp(text, "000102", 6) == 0 && strcmp(text + 506, "fdfeff") == 0,
       "hex encode: lower case, two digits a byte, NUL-terminated");
    {
        unsigned char back[256];
        ok(gw_hex_decode(text, 256, back, NULL) == 0 && memcmp(back, all, 256) == 0, "hex decode gives it back");
    }
    ok(gw_hex_decode("0aFf", 2, bytes, NULL) == 0 && bytes[0] == 0x0a && bytes[1] == 0xff, "hex decode: either case");
    ok(gw_hex_decode("0a7z", 2, bytes, &bad) == -1 && bad == 3, "hex decode: the index of the bad digit (%zu)", bad);
    ok(gw_hex_decode("x0", 1, bytes, &bad) == -1 && bad == 0, "hex decode: a bad first digit");
    ok(gw_hex_decode("", 0, bytes, NULL) == 0, "hex decode: nothing");

    /* base64url: every length 0..7 round-trips, no padding */
    for (size_t len = 0; len <= 7; len++) {
        char enc[16];
        unsigned char dec[8];
        size_t dn = 99;
        int m = gw_b64url_encode(all + 250 - len, len, enc, sizeof(enc));
        ok(m == (int)((len * 4 + 2) / 3) && strchr(enc, '=') == NULL &&
               gw_b64url_decode(enc, (size_t)m, dec, sizeof(dec), &dn) == 0 && dn == len &&
               memcmp(dec, all + 250 - len, len) == 0,
           "base64url round trip of %zu bytes (%s)", len, enc);
    }
    ok(gw_b64url_encode((const unsigned char *)"\xfb\xff", 2, text, sizeof(text)) == 3 && strcmp(text, "-_8") == 0,
       "the url-safe alphabet");
    ok(gw_b64url_decode("+/8", 3, bytes, sizeof(bytes), &n) == -1, "standard base64 characters refused");
    ok(gw_b64url_decode("-_9", 3, bytes, sizeof(bytes), &n) == -1, "non-canonical trailing bits refused");
    ok(gw_b64url_decode("abcde", 5, bytes, sizeof(bytes), &n) == -1, "a length of 4k+1 refused");
    ok(gw_b64url_decode("AAAAAAAAAAAA", 12, bytes, sizeof(bytes), &n) == -1, "too small an output refused");
    ok(gw_b64url_encode(all, 6, text, 8) == -1, "too small an encoding buffer refused");
    ok(gw_b64url_encode(all, 6, text, 9) == 8, "the exact encoding size fits");
    return tap_done();
}
