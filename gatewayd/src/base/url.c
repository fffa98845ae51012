/*
 * src/base/url.c: percent-decoding and -encoding and the raw path check
 * (see url.h).
 */
#include "base/url.h"

#include "base/codec.h"

/* The byte of the escape at s (n bytes left, s[0] == '%'), or -1. */
static int gw_url_escape(const char *s, size_t n)
{
    int hi, lo;

    if (n < 3)
        return -1;
    hi = gw_hex_val((unsigned char)s[1]);
    lo = hi < 0 ? -1 : gw_hex_val((unsigned char)s[2]);
    return lo < 0 ? -1 : hi * 16 + lo;
}

int gw_url_decode(const char *in, size_t in_len, unsigned flags, char *out, size_t cap, size_t *out_len)
{
    size_t o = 0;

    if (cap == 0)
        return -1;
    for (size_t i = 0; i < in_len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            c = gw_url_escape(in + i, in_len - i);
            if (c < 0 || (c == 0 && !(flags & GW_URL_ALLOW_NUL)))
                return -1;
            i += 2;
        } else if (c == '+' && (flags & GW_URL_PLUS_SPACE)) {
            c = ' ';
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return 0;
}

static int gw_url_is_control(int c)
{
    return c < 0x20 || c == 0x7f;
}

gw_url_path_status gw_url_path_check(const char *path, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)path[i];
        if (c == '%') {
            c = gw_url_escape(path + i, len - i);
            if (c < 0)
                return GW_URL_PATH_BAD_ESCAPE;
            i += 2;
        }
        if (gw_url_is_control(c))
            return GW_URL_PATH_CONTROL;
    }
    return GW_URL_PATH_OK;
}

const char *gw_url_path_message(gw_url_path_status st)
{
    switch (st) {
    case GW_URL_PATH_CONTROL:
        return "the path contains a control character (also percent-encoded: %00-%1F, %7F)";
    case GW_URL_PATH_BAD_ESCAPE:
        return "the path contains a '%' that is not followed by two hex digits";
    case GW_URL_PATH_OK:
        break;
    }
    return "the path is valid";
}

size_t gw_url_encode(const char *in, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = gw_hex_upper[c >> 4];
            out[o++] = gw_hex_upper[c & 15];
        }
    }
    return o;
}
