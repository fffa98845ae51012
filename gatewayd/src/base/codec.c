/*
 * src/base/codec.c: hexadecimal and base64url (see codec.h).
 */
#include "base/codec.h"

#include <stdint.h>

const char gw_hex_lower[16] = "0123456789abcdef";
const char gw_hex_upper[16] = "0123456789ABCDEF";

int gw_hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void gw_hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = gw_hex_lower[in[i] >> 4];
        out[2 * i + 1] = gw_hex_lower[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int gw_hex_decode(const char *in, size_t n, unsigned char *out, size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        int hi = gw_hex_val((unsigned char)in[2 * i]);
        int lo = gw_hex_val((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            if (bad != NULL)
                *bad = hi < 0 ? 2 * i : 2 * i + 1;
            return -1;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static const char gw_b64url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int gw_b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    if (cap < (n * 4 + 2) / 3 + 1)
        return -1;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = gw_b64url_chars[(v >> 18) & 63];
        out[o++] = gw_b64url_chars[(v >> 12) & 63];
        if (left > 1)
            out[o++] = gw_b64url_chars[(v >> 6) & 63];
        if (left > 2)
            out[o++] = gw_b64url_chars[v & 63];
    }
    out[o] = '\0';
    return (int)o;
}

static int gw_b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int gw_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (n % 4 == 1 || (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = gw_b64url_val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: leftover bits must be zero */
        return -1;
    *out_len = o;
    return 0;
}
