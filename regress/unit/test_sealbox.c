/*
 * regress/unit/test_sealbox.c: the sealed-value module the extension and
 * gatewayd share (pg_aistudio/src/sealbox.c): key parsing and key ids
 * (checked against SHA-256 computed by python3's hashlib), seal/open round
 * trips, values sealed by an independent encryptor (seal.h) and opened by
 * an independent decryptor, every way opening must fail (wrong key, AAD,
 * nonce, tag, ciphertext, lengths), and the HKDF edge key against vectors
 * computed independently with python3's hmac/hashlib (whose HKDF was first
 * checked against RFC 5869 test case 1).
 */
#include <stdlib.h>

#include "seal.h"
#include "sealbox.h"
#include "tap.h"

static const char KEY_HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 0xf];
    }
    out[2 * n] = '\0';
}

/* An independent AES-256-GCM decryptor (EVP directly). 0 when it authenticates. */
static int test_open(const unsigned char key[32], const unsigned char nonce[12], const char *aad,
                     const unsigned char *ct, size_t len, unsigned char *pt)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, rc = -1;
    if (c == NULL)
        return -1;
    if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
        EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
        EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
        (len == 0 || EVP_DecryptUpdate(c, pt, &n, ct, (int)len) == 1) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + len)) == 1 &&
        EVP_DecryptFinal_ex(c, pt + n, &n) == 1)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

static void test_keys(void)
{
    aistudio_seal_key k, k2;
    char err[AISTUDIO_SEAL_ERR_LEN];
    char padded[100], upper[65];

    is_int(aistudio_seal_key_parse(KEY_HEX, strlen(KEY_HEX), &k, err), 0, "a key of 64 hex digits parses");
    ok(k.key[0] == 0x00 && k.key[31] == 0x1f, "into its 32 bytes");
    /* python3: hashlib.sha256(bytes(range(32))).hexdigest()[:16] */
    is_str(k.key_id, "630dcd2966c43366", "key_id = first 16 hex digits of SHA-256 of the key bytes");

    snprintf(padded, sizeof(padded), " \n\t%s\n", KEY_HEX);
    is_int(aistudio_seal_key_parse(padded, strlen(padded), &k2, err), 0, "surrounding whitespace is allowed");
    ok(memcmp(k.key, k2.key, 32) == 0 && strcmp(k.key_id, k2.key_id) == 0, "and gives the same key");
    for (int i = 0; i < 64; i++)
        upper[i] = (char)(KEY_HEX[i] >= 'a' ? KEY_HEX[i] - 32 : KEY_HEX[i]);
    upper[64] = '\0';
    is_int(aistudio_seal_key_parse(upper, 64, &k2, err), 0, "upper-case digits parse");
    ok(memcmp(k.key, k2.key, 32) == 0, "to the same key");

    is_int(aistudio_seal_key_parse(KEY_HEX, 63, &k2, err), -1, "63 digits are refused");
    has_str(err, "not 63 characters", "saying how many there were");
    ok(k2.key_id[0] == '\0', "and the key is wiped");
    is_int(aistudio_seal_key_parse("", 0, &k2, err), -1, "an empty key is refused");
    snprintf(padded, sizeof(padded), "%.10sZ%s", KEY_HEX, KEY_HEX + 11);
    is_int(aistudio_seal_key_parse(padded, 64, &k2, err), -1, "a non-hex digit is refused");
    has_str(err, "character 11", "naming its position");
    ok(strstr(err, KEY_HEX + 12) == NULL, "without quoting the key");
    snprintf(padded, sizeof(padded), "%.32s %.31s", KEY_HEX, KEY_HEX + 32);
    is_int(aistudio_seal_key_parse(padded, 64, &k2, err), -1, "inner whitespace is refused");

    is_int(aistudio_seal_key_set(&k2, k.key, err), 0, "a key from raw bytes");
    is_str(k2.key_id, k.key_id, "has the same key id");
}

static void test_round_trip(void)
{
    aistudio_seal_key k, other;
    char err[AISTUDIO_SEAL_ERR_LEN];
    const char *msg = "sk-live-0123456789";
    size_t len = strlen(msg);
    unsigned char nonce[12], nonce2[12], ct[64], pt[64];
    size_t got = 99;

    aistudio_seal_key_parse(KEY_HEX, 64, &k, err);
    is_int(aistudio_seal(&k, "secret:OPENAI", msg, len, nonce, ct, err), 0, "a value seals");
    ok(memcmp(ct, msg, len) != 0, "the ciphertext is not the plaintext");
    is_int(aistudio_seal_open(&k, "secret:OPENAI", nonce, 12, ct, len + 16, pt, &got, err), 0, "and opens");
    ok(got == len && memcmp(pt, msg, len) == 0, "to the same bytes");
    is_int(test_open(k.key, nonce, "secret:OPENAI", ct, len, pt), 0, "an independent decryptor opens it too");
    ok(memcmp(pt, msg, len) == 0, "with the same result");

    aistudio_seal(&k, "secret:OPENAI", msg, len, nonce2, ct + 0, err);
    ok(memcmp(nonce, nonce2, 12) != 0, "every seal draws a fresh nonce");

    /* a value sealed by the independent encryptor (the extension's format) */
    memset(nonce, 7, sizeof(nonce));
    is_int(test_seal(k.key, nonce, "llm:42", (const unsigned char *)msg, len, ct), 0, "an independent encryptor seals");
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, len + 16, pt, &got, err), 0, "sealbox opens its value");
    ok(got == len && memcmp(pt, msg, len) == 0, "to the same bytes");

    /* every way opening must fail, leaving nothing behind */
    memset(pt, 'x', sizeof(pt));
    is_int(aistudio_seal_open(&k, "llm:43", nonce, 12, ct, len + 16, pt, &got, err), -1, "another AAD fails");
    has_str(err, "does not authenticate", "as not authenticating");
    ok(got == 0 && pt[0] == 0 && pt[len - 1] == 0, "and the output is wiped");
    is_int(aistudio_seal_open(&k, NULL, nonce, 12, ct, len + 16, pt, &got, err), -1, "no AAD fails");
    memset(other.key, 0, 32);
    aistudio_seal_key_set(&other, other.key, err);
    is_int(aistudio_seal_open(&other, "llm:42", nonce, 12, ct, len + 16, pt, &got, err), -1, "another key fails");
    ct[len] ^= 1;
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, len + 16, pt, &got, err), -1, "a changed tag fails");
    ct[len] ^= 1;
    ct[0] ^= 0x80;
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, len + 16, pt, &got, err), -1, "a changed ciphertext fails");
    ct[0] ^= 0x80;
    nonce[3] ^= 1;
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, len + 16, pt, &got, err), -1, "a changed nonce fails");
    nonce[3] ^= 1;
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 11, ct, len + 16, pt, &got, err), -1, "an 11-byte nonce fails");
    has_str(err, "12-byte nonce", "naming the nonce length");
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, 15, pt, &got, err), -1, "a value shorter than a tag fails");
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, len + 15, pt, &got, err), -1, "a truncated value fails");
    is_int(aistudio_seal_open(&k, "llm:42", nonce, 12, ct, len + 16, pt, &got, err), 0, "the intact value still opens");

    /* the empty value and binary values with NUL bytes */
    is_int(aistudio_seal(&k, "edge:e1", "", 0, nonce, ct, err), 0, "the empty value seals");
    is_int(aistudio_seal_open(&k, "edge:e1", nonce, 12, ct, 16, pt, &got, err), 0, "and opens");
    is_int(got, 0, "to nothing");
    {
        unsigned char bin[32];
        for (int i = 0; i < 32; i++)
            bin[i] = (unsigned char)(i * 37);
        bin[5] = 0;
        aistudio_seal(&k, "edge:e1", bin, 32, nonce, ct, err);
        is_int(aistudio_seal_open(&k, "edge:e1", nonce, 12, ct, 48, pt, &got, err), 0, "32 binary bytes round-trip");
        ok(got == 32 && memcmp(pt, bin, 32) == 0, "NUL bytes included");
    }
    {
        size_t big = AISTUDIO_SEAL_MAX_PLAIN_LEN + 1;
        unsigned char *b = calloc(1, big + 16);
        is_int(aistudio_seal(&k, "x", b, big, nonce, b, err), -1, "more than 1 MiB does not seal");
        free(b);
    }
}

static void test_edge_key(void)
{
    unsigned char out[32];
    char hex[65], err[AISTUDIO_SEAL_ERR_LEN];
    const char *tok = "aie_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

    /* python3: HKDF-SHA256(ikm=token, salt=edge_id, info="aistudio edge key v1", L=32) */
    is_int(aistudio_seal_edge_key(tok, strlen(tok), "edge-eu-1", 9, out, err), 0, "the edge key derives");
    hex_of(out, 32, hex);
    is_str(hex, "c43ff12647c5372ec800c926a3e7da0038e7944d246c92cf4880f4831b148a95", "as HKDF-SHA256 (enrolled token)");
    is_int(aistudio_seal_edge_key("shared-grpc-token", 17, "edge-us-2", 9, out, err), 0, "from a shared token");
    hex_of(out, 32, hex);
    is_str(hex, "eb0bf15485ea33c795146286b9aa01f2538dde0506a539ea08c5d32bed31d230", "as HKDF-SHA256 (shared token)");
    is_int(aistudio_seal_edge_key("shared-grpc-token", 17, "edge-us-3", 9, out, err), 0, "another edge id");
    hex_of(out, 32, hex);
    ok(strcmp(hex, "eb0bf15485ea33c795146286b9aa01f2538dde0506a539ea08c5d32bed31d230") != 0,
       "gives another key (the edge id is the salt)");
    is_int(aistudio_seal_edge_key("", 0, "edge-us-3", 9, out, err), -1, "an empty token is refused");
    is_int(aistudio_seal_edge_key(tok, strlen(tok), "", 0, out, err), -1, "an empty edge id is refused");
    has_str(err, "edge id", "saying which");
}

static void test_equal(void)
{
    ok(aistudio_seal_equal("abcdef", "abcdef", 6), "equal bytes compare equal");
    ok(!aistudio_seal_equal("abcdef", "abcdeg", 6), "a different last byte does not");
    ok(!aistudio_seal_equal("xbcdef", "abcdef", 6), "a different first byte does not");
    ok(aistudio_seal_equal("", "", 0), "nothing equals nothing");
}

int main(void)
{
    test_keys();
    test_round_trip();
    test_edge_key();
    test_equal();
    printf("1..%d\n", tap_count);
    return tap_failures != 0;
}
